//! What the JWT benches share: the realm of the PyJWT-minted fixtures of
//! `tests/fixtures/jwt/` (cache off, or on, or with a client secret)
//! mapping against a 1 000-mapping program, the fixture tokens, and the two
//! baselines of a token: jsonwebtoken's decode and aws-lc-rs's bare
//! verification of its signature.

use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{DecodingKey, Validation};
use rolemap::jwt::{Realms, settings};
use rolemap::{Program, workload};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The client secret of the realm that requires one.
pub const SECRET: &str = "bench-client-shared-secret-of-some-length";

/// The algorithms benched, with the `kid` of their public key.
pub const TOKENS: [(&str, Option<&str>); 4] =
    [("HS256", None), ("RS256", Some("rsa-2048")), ("ES256", Some("ec-p256")), ("ES512", Some("ec-p521"))];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jwt")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(fixtures().join(path)).unwrap()
}

/// The fixture realm three ways, the fixture clock, and its public keys.
pub struct Setup {
    /// Cache off: every request authenticates and maps.
    pub realms: Realms,
    /// The realm's own cache settings.
    pub cached: Realms,
    /// Cache on, and client authentication by [`SECRET`].
    pub with_secret: Realms,
    pub now: SystemTime,
    pkc: JwkSet,
}

impl Setup {
    pub fn new() -> Setup {
        let manifest: Value = serde_json::from_str(&read("manifest.json")).unwrap();
        let mut flat = manifest["realm"].as_object().unwrap().clone();
        let name = flat.remove("name").unwrap();
        let name = name.as_str().unwrap();
        let hmac = flat.remove("hmac_jwkset_file").unwrap();
        flat.insert("hmac_jwkset".into(), read(hmac.as_str().unwrap()).into());
        let cached = settings::from_flat(name, &flat, &fixtures()).unwrap();
        let mut with_secret = flat.clone();
        with_secret.insert("client_authentication.type".into(), "shared_secret".into());
        with_secret.insert("client_authentication.shared_secret".into(), SECRET.into());
        let with_secret = settings::from_flat(name, &with_secret, &fixtures()).unwrap();
        flat.insert("jwt.cache.ttl".into(), "0s".into());
        let realm = settings::from_flat(name, &flat, &fixtures()).unwrap();
        // Map with a thousand-mapping program, as a service would.
        let program = Arc::new(Program::from_json(&workload::mappings(1_000)).unwrap());
        Setup {
            realms: Realms::new(&[realm], Arc::clone(&program)).unwrap(),
            cached: Realms::new(&[cached], Arc::clone(&program)).unwrap(),
            with_secret: Realms::new(&[with_secret], program).unwrap(),
            now: UNIX_EPOCH + Duration::from_secs(manifest["now"].as_u64().unwrap()),
            pkc: serde_json::from_str(&read("keys/pkc.jwkset.json")).unwrap(),
        }
    }

    /// The fixture token of `alg`.
    pub fn token(&self, alg: &str) -> String {
        read(&format!("tokens/{alg}.jwt")).trim().to_owned()
    }

    /// The floor of a public-key token: aws-lc-rs verifying its signature
    /// with the key of `kid` prepared once (`ParsedPublicKey`), nothing
    /// decoded, parsed or checked around it.
    pub fn backend(&self, alg: &str, kid: &str, token: &str) -> Floor {
        let jwk = self.pkc.find(kid).unwrap();
        let (input, signature) = token.rsplit_once('.').unwrap();
        let b64 = |v: &str| URL_SAFE_NO_PAD.decode(v).unwrap();
        let key = match &jwk.algorithm {
            AlgorithmParameters::RSA(rsa) => RsaPublicKeyComponents { n: b64(&rsa.n), e: b64(&rsa.e) }
                .to_parsed_public_key(&sig::RSA_PKCS1_2048_8192_SHA256)
                .unwrap(),
            AlgorithmParameters::EllipticCurve(ec) => {
                let point = [&[4u8][..], &b64(&ec.x), &b64(&ec.y)].concat();
                let params = if alg == "ES256" { &sig::ECDSA_P256_SHA256_FIXED } else { &sig::ECDSA_P521_SHA512_FIXED };
                ParsedPublicKey::new(params, &point).unwrap()
            }
            _ => unreachable!("the fixture's public keys are RSA and EC"),
        };
        let floor = Floor { key, input: input.to_owned(), signature: b64(signature) };
        assert!(floor.verify());
        floor
    }

    /// jsonwebtoken's key and validation for `alg` (issuer and audience
    /// checked as the realm does); `None` for ES512, which it lacks.
    pub fn jsonwebtoken(&self, alg: &str, kid: Option<&str>) -> Option<(DecodingKey, Validation)> {
        let algorithm = alg.parse::<jsonwebtoken::Algorithm>().ok()?;
        let key = match kid {
            None => DecodingKey::from_secret(read("keys/hs256.secret.txt").as_bytes()).unwrap(),
            Some(kid) => DecodingKey::from_jwk(self.pkc.find(kid).unwrap()).unwrap(),
        };
        let mut validation = Validation::new(algorithm);
        validation.set_audience(&["es02"]);
        validation.set_issuer(&["https://issuer.example.com/"]);
        Some((key, validation))
    }
}

/// A signature and the key to verify it, as the backend's fastest path takes them.
pub struct Floor {
    key: ParsedPublicKey,
    input: String,
    signature: Vec<u8>,
}

impl Floor {
    pub fn verify(&self) -> bool {
        use std::hint::black_box;
        self.key.verify_sig(black_box(self.input.as_bytes()), black_box(&self.signature)).is_ok()
    }
}
