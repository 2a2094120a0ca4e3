#!/usr/bin/env python3
"""Make the JWT realm example of rolemap (examples/jwt/).

Reproduces the two realms of the Elasticsearch guide "JWT authentication"
(docs/reference/security/authentication/jwt-realm.asciidoc: jwt1 = ID tokens,
jwt2 = access tokens) with throwaway keys, and tokens valid until 2100.

    pip install pyjwt cryptography
    python3 examples/jwt/make_examples.py               # keep existing keys
    python3 examples/jwt/make_examples.py --regenerate  # new keys, secrets and tokens

realms.yml and mappings.json are hand-written; this script writes the keys,
JWK sets, secrets.yml, the tokens and the expected outputs.
"""

import argparse
import base64
import json
import secrets
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

HERE = Path(__file__).resolve().parent

ISSUER = "https://issuer.example.com/jwt/"            # both realms of the guide
JWT1_AUDIENCE = "8fb85eba-979c-496c-8ae2-a57fde3f12d0"  # jwt1 allowed_audiences
JWT2_AUDIENCE = "elasticsearch"                       # jwt2 allowed_audiences
JWT2_CLIENT = "123456-compute@admin.example.com"      # jwt2 allowed_subjects
IAT = 1735689600   # 2025-01-01T00:00:00Z
EXP = 4102444800   # 2100-01-01T00:00:00Z

# Client shared secrets: the two secrets that appear in the guide's examples.
JWT1_CLIENT_SECRET = "client-shared-secret-string"
JWT2_CLIENT_SECRET = "test-secret"

PREFIX = "xpack.security.authc.realms.jwt."


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def int_b64u(n: int, length: int | None = None) -> str:
    return b64u(n.to_bytes(length or (n.bit_length() + 7) // 8, "big"))


def write_text(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.write_text(text, encoding="utf-8")


def pem_key(name: str, make, regenerate: bool):
    path = HERE / f"{name}.private.pem"
    if path.exists() and not regenerate:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    key = make()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return key


def rsa_jwk(key, kid, alg):
    n = key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "use": "sig", "alg": alg,
            "n": int_b64u(n.n), "e": int_b64u(n.e)}


def ec_jwk(key, kid, alg):
    n = key.public_key().public_numbers()
    return {"kty": "EC", "kid": kid, "use": "sig", "alg": alg, "crv": "P-256",
            "x": int_b64u(n.x, 32), "y": int_b64u(n.y, 32)}


def load_secrets(regenerate: bool) -> dict:
    """Keep the HMAC material of an existing secrets.yml unless --regenerate."""
    path = HERE / "secrets.yml"
    found = {}
    if path.exists() and not regenerate:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith(PREFIX) and ": " in line:
                k, v = line.split(": ", 1)
                v = v.strip()
                if v[:1] in "'\"":
                    v = v[1:-1].replace("''", "'") if v[0] == "'" else json.loads(v)
                found[k] = v
    return found


def put_token(name: str, claims: dict, key, alg: str, headers: dict | None) -> str:
    path = HERE / name
    tok = jwt.encode(claims, key, algorithm=alg, headers=headers)
    if path.exists():
        old = path.read_text(encoding="ascii").strip()
        if old.rsplit(".", 1)[0] == tok.rsplit(".", 1)[0]:
            return old  # same header and claims: keep (ES256 signatures are randomised)
    path.write_text(tok + "\n", encoding="ascii")
    return tok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--regenerate", action="store_true")
    args = ap.parse_args()
    regen = args.regenerate

    # ---- keys
    jwt1_rsa = pem_key("jwt1-rs256", lambda: rsa.generate_private_key(65537, 2048), regen)
    jwt1_ec = pem_key("jwt1-es256", lambda: ec.generate_private_key(ec.SECP256R1()), regen)
    jwt2_rsa = pem_key("jwt2-rs256", lambda: rsa.generate_private_key(65537, 2048), regen)

    write_text(HERE / "jwt1.jwkset.json", json.dumps({"keys": [
        rsa_jwk(jwt1_rsa, "jwt1-rs256", "RS256"),
        ec_jwk(jwt1_ec, "jwt1-es256", "ES256"),
    ]}, indent=2) + "\n")
    write_text(HERE / "jwt2.jwkset.json", json.dumps({"keys": [
        rsa_jwk(jwt2_rsa, "jwt2-rs256", "RS256"),
    ]}, indent=2) + "\n")

    # ---- secure settings (the keystore's role)
    old = load_secrets(regen)
    k_hmac_jwkset = PREFIX + "jwt1.hmac_jwkset"
    k_hmac_key = PREFIX + "jwt2.hmac_key"
    hmac_jwkset = old.get(k_hmac_jwkset) or json.dumps({"keys": [
        {"kty": "oct", "kid": "jwt1-hs256", "use": "sig", "alg": "HS256",
         "k": b64u(secrets.token_bytes(32))}]}, separators=(",", ":"))
    hmac_key = old.get(k_hmac_key) or "jwt2-hmac-" + secrets.token_urlsafe(32)
    write_text(HERE / "jwt1.hmac.jwkset.json",
               json.dumps(json.loads(hmac_jwkset), indent=2) + "\n")
    write_text(HERE / "secrets.yml", f"""\
# Secure settings of the two example realms: what `bin/elasticsearch-keystore add`
# (and `add-file` for hmac_jwkset) would hold. Throwaway values for the example only.
# Written by make_examples.py.

# jwt1: client secret (header `ES-Client-Authentication: SharedSecret <secret>`)
{PREFIX}jwt1.client_authentication.shared_secret: {JWT1_CLIENT_SECRET}
# jwt1: HMAC keys as a JWK set (the content of jwt1.hmac.jwkset.json, one line)
{k_hmac_jwkset}: '{hmac_jwkset}'

# jwt2: client secret
{PREFIX}jwt2.client_authentication.shared_secret: {JWT2_CLIENT_SECRET}
# jwt2: one HMAC key as a UTF-8 string (key bytes = UTF-8 bytes of the string)
{k_hmac_key}: '{hmac_key}'
""")

    # ---- tokens
    jwt1_claims = {
        "iss": ISSUER,
        "aud": JWT1_AUDIENCE,
        "sub": "elastic-user",
        "iat": IAT,
        "exp": EXP,
        "groups": ["elasticadmins"],
        "email": "elastic-user@example.com",
        "name": "Elastic User",
    }
    put_token("jwt1.token", jwt1_claims, jwt1_rsa, "RS256", {"kid": "jwt1-rs256"})
    # Access token of the OAuth2 client-credentials kind: no sub, no aud; the realm
    # falls back to client_id (subject) and scope (audience).
    jwt2_claims = {
        "iss": ISSUER,
        "client_id": JWT2_CLIENT,
        "scope": JWT2_AUDIENCE,
        "token_use": "access",
        "version": "2.0",
        "iat": IAT,
        "exp": EXP,
    }
    put_token("jwt2.token", jwt2_claims, hmac_key.encode("utf-8"), "HS256", None)

    # ---- expected `rolemap auth` output for each token
    expected = {
        "jwt1.expected.json": {
            "realm": "jwt1",
            "principal": "elastic-user",
            "groups": ["elasticadmins"],
            "dn": None,
            "email": "elastic-user@example.com",
            "full_name": "Elastic User",
            "metadata": {
                "jwt_token_type": "id_token",
                "jwt_claim_iss": ISSUER,
                "jwt_claim_aud": [JWT1_AUDIENCE],
                "jwt_claim_sub": "elastic-user",
                "jwt_claim_groups": ["elasticadmins"],
                "jwt_claim_email": "elastic-user@example.com",
                "jwt_claim_name": "Elastic User",
            },
            "roles": ["superuser"],
        },
        "jwt2.expected.json": {
            "realm": "jwt2",
            "principal": JWT2_CLIENT,
            "groups": [],
            "dn": None,
            "email": None,
            "full_name": None,
            "metadata": {
                "jwt_token_type": "access_token",
                "jwt_claim_iss": ISSUER,
                "jwt_claim_client_id": JWT2_CLIENT,
                "jwt_claim_scope": JWT2_AUDIENCE,
                "jwt_claim_token_use": "access",
                "jwt_claim_version": "2.0",
            },
            "roles": ["jwt_role1"],
        },
    }
    for name, obj in expected.items():
        write_text(HERE / name, json.dumps(obj, indent=2) + "\n")

    # ---- self-check with PyJWT (independent verifier)
    jwks1 = jwt.PyJWKSet.from_dict(json.loads((HERE / "jwt1.jwkset.json").read_text()))
    jwt.decode((HERE / "jwt1.token").read_text().strip(), jwks1["jwt1-rs256"].key,
               algorithms=["RS256"], audience=JWT1_AUDIENCE, issuer=ISSUER)
    c2 = jwt.decode((HERE / "jwt2.token").read_text().strip(), hmac_key.encode("utf-8"),
                    algorithms=["HS256"], issuer=ISSUER, options={"verify_aud": False})
    assert "sub" not in c2 and "aud" not in c2 and c2["client_id"] == JWT2_CLIENT
    print("examples/jwt written and checked")


if __name__ == "__main__":
    main()
