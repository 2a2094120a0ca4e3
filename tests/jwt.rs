//! The JWT realm: the shared vectors, tokens minted by PyJWT, the command.

use crate::common::{shared, vectors};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm as JwtAlg, EncodingKey};
use rolemap::Program;
use rolemap::jwt::{Realms, settings};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jwt")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixture RSA key's public JWK under the kid the vectors use.
fn vector_rsa_jwkset() -> String {
    let set: Value = serde_json::from_str(&read(&fixtures().join("keys/pkc.jwkset.json"))).unwrap();
    let key = set["keys"].as_array().unwrap().iter().find(|k| k["kid"] == "rsa-2048").unwrap();
    json!({"keys": [{"kty": "RSA", "kid": "test-rsa-key", "use": "sig", "n": key["n"], "e": key["e"]}]}).to_string()
}

/// Signs `header.claims` with a key that fits the header's `alg` and the realm.
fn mint(header: &Value, claims: &Value, realm: &Map<String, Value>) -> String {
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let alg = header["alg"].as_str().unwrap_or("HS256");
    let (key, alg) = if alg.starts_with("HS") {
        let secret: Vec<u8> = if let Some(Value::String(key)) = realm.get("hmac_key") {
            key.as_bytes().to_vec()
        } else if let Some(Value::String(set)) = realm.get("hmac_jwkset") {
            let set: Value = serde_json::from_str(set).unwrap();
            let keys = set["keys"].as_array().unwrap();
            // The key the header names, or else the first one strong enough.
            let bytes = |k: &Value| URL_SAFE_NO_PAD.decode(k["k"].as_str().unwrap()).unwrap();
            let strong_enough = |k: &&Value| bytes(k).len() * 8 >= alg[2..].parse::<usize>().unwrap();
            let key = keys.iter().find(|k| k["kid"] == header["kid"]).or_else(|| keys.iter().find(strong_enough));
            bytes(key.unwrap_or(&keys[0]))
        } else {
            b"a-secret-the-realm-does-not-know-of-at-all".to_vec()
        };
        (EncodingKey::from_secret(&secret).unwrap(), alg.parse::<JwtAlg>().unwrap())
    } else {
        let pem = read(&fixtures().join("keys/rsa-2048.private.pem"));
        (EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(), alg.parse::<JwtAlg>().unwrap())
    };
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, alg).unwrap();
    format!("{input}.{signature}")
}

fn empty_program() -> Arc<Program> {
    Arc::new(Program::from_json("{}").unwrap())
}

#[test]
fn jwt_realm_vectors() {
    let dir = std::env::temp_dir().join(format!("rolemap-jwt-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rsa.jwkset"), vector_rsa_jwkset()).unwrap();
    let cases = vectors("jwt-realm.jsonl");
    assert!(cases.len() >= 50, "the vector file looks truncated");
    let mut failures = Vec::new();
    for (line, case) in cases.iter().enumerate() {
        let realm = case["realm"].as_object().unwrap();
        let name = realm["name"].as_str().unwrap();
        let mut flat = realm.clone();
        flat.remove("name");
        let expect = &case["expect"];
        let expected_stage = expect["reason"].as_str().map(|r| r.split(':').next().unwrap_or(r).to_owned());
        let built = settings::from_flat(name, &flat, &dir)
            .map_err(|e| e.to_string())
            .and_then(|s| Realms::new(&[s], empty_program()).map_err(|e| e.to_string()));
        let realms = match (built, expected_stage.as_deref()) {
            (Err(_), Some("config")) => continue,
            (Err(e), _) => {
                failures.push(format!("line {}: realm did not build: {e}", line + 1));
                continue;
            }
            (Ok(_), Some("config")) => {
                failures.push(format!("line {}: expected a configuration error: {}", line + 1, expect["reason"]));
                continue;
            }
            (Ok(realms), _) => realms,
        };
        let token = mint(&case["header"], &case["claims"], realm);
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut has_authorization = false;
        if let Some(request) = case["request"].as_object() {
            for (name, value) in request {
                let value = value.as_str().unwrap().replace("<JWT>", &token);
                has_authorization |= name.eq_ignore_ascii_case("authorization");
                headers.push((name.clone(), value));
            }
        }
        if !has_authorization {
            headers.push(("Authorization".into(), format!("Bearer {token}")));
        }
        let now = UNIX_EPOCH + Duration::from_secs(case["now"].as_u64().unwrap());
        let outcome = realms.authenticate(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())), now);
        let problem = match (outcome, &expected_stage) {
            (Ok(user), None) => {
                let mut problems = Vec::new();
                if user.principal != expect["principal"].as_str().unwrap() {
                    problems.push(format!("principal {:?}", user.principal));
                }
                let groups: BTreeSet<&str> = user.groups.iter().map(String::as_str).collect();
                let want: BTreeSet<&str> =
                    expect["groups"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
                if groups != want {
                    problems.push(format!("groups {groups:?}"));
                }
                if let Some(metadata) = expect.get("metadata")
                    && Value::Object(user.metadata.to_map()) != *metadata
                {
                    problems.push(format!("metadata {}", Value::Object(user.metadata.to_map())));
                }
                for (key, got) in [("dn", &user.dn), ("full_name", &user.full_name), ("email", &user.email)] {
                    if let Some(want) = expect.get(key)
                        && want.as_str() != got.as_deref()
                    {
                        problems.push(format!("{key} {got:?}"));
                    }
                }
                (!problems.is_empty()).then(|| problems.join(", "))
            }
            (Ok(user), Some(stage)) => Some(format!("accepted {:?}, expected stage {stage}", user.principal)),
            (Err(rejection), Some(stage)) if rejection.stage().as_str() == stage => None,
            (Err(rejection), _) => Some(format!("rejected: {rejection}")),
        };
        if let Some(problem) = problem {
            failures.push(format!("line {}: {problem}\n  expected {expect}", line + 1));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(failures.is_empty(), "{} vectors failed:\n{}", failures.len(), failures.join("\n"));
}

/// The realm the fixture manifest describes, built from its settings.
fn fixture_realms(manifest: &Value, use_hmac_key: Option<&str>) -> Realms {
    let mut flat = manifest["realm"].as_object().unwrap().clone();
    let name = flat.remove("name").unwrap();
    let hmac_file = flat.remove("hmac_jwkset_file").unwrap();
    match use_hmac_key {
        Some(key) => flat.insert("hmac_key".into(), key.into()),
        None => flat.insert("hmac_jwkset".into(), read(&fixtures().join(hmac_file.as_str().unwrap())).into()),
    };
    let settings = settings::from_flat(name.as_str().unwrap(), &flat, &fixtures()).unwrap();
    Realms::new(&[settings], empty_program()).unwrap()
}

#[test]
fn tokens_minted_by_pyjwt() {
    let manifest: Value = serde_json::from_str(&read(&fixtures().join("manifest.json"))).unwrap();
    let realms = fixture_realms(&manifest, None);
    let now = UNIX_EPOCH + Duration::from_secs(manifest["now"].as_u64().unwrap());
    let expected = &manifest["expected_user"];
    let mut failures = Vec::new();
    let mut algorithms = BTreeSet::new();
    for entry in manifest["tokens"].as_array().unwrap() {
        let token = read(&fixtures().join(entry["file"].as_str().unwrap()));
        let bearer = format!("Bearer {}", token.trim());
        let outcome = realms.authenticate([("Authorization", bearer.as_str())], now);
        let expect = entry["expect"].as_str().unwrap();
        let acceptable: Vec<&str> =
            entry["also_acceptable"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let got = match &outcome {
            Ok(user) => {
                if user.principal != expected["principal"] || user.email.as_deref() != expected["email"].as_str() {
                    failures.push(format!("{}: wrong user {user:?}", entry["file"]));
                }
                if expect == "ok" {
                    algorithms.insert(entry["alg"].as_str().unwrap().to_owned());
                }
                "ok".to_owned()
            }
            Err(rejection) => rejection.stage().as_str().to_owned(),
        };
        if got != expect && !acceptable.contains(&got.as_str()) {
            failures.push(format!("{}: expected {expect}, got {got} ({outcome:?})", entry["file"]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(algorithms.len(), 12, "every algorithm verified once: {algorithms:?}");
}

#[test]
fn hmac_key_setting_verifies_tokens_of_its_text() {
    let manifest: Value = serde_json::from_str(&read(&fixtures().join("manifest.json"))).unwrap();
    let now = UNIX_EPOCH + Duration::from_secs(manifest["now"].as_u64().unwrap());
    for alg in ["HS256", "HS384", "HS512"] {
        let secret = read(&fixtures().join(format!("keys/{}.secret.txt", alg.to_lowercase())));
        let realms = fixture_realms(&manifest, Some(&secret));
        let token = read(&fixtures().join(format!("tokens/{alg}.jwt")));
        let bearer = format!("Bearer {}", token.trim());
        let user = realms.authenticate([("Authorization", bearer.as_str())], now);
        assert!(user.is_ok(), "{alg}: {user:?}");
    }
}

#[test]
fn the_guide_example_through_the_command() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rolemap"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "auth",
            "--realms",
            "examples/jwt/realms.yml",
            "--secrets",
            "examples/jwt/secrets.yml",
            "--mappings",
            "examples/jwt/mappings.json",
            "--token-file",
            "examples/jwt/jwt1.token",
            "--client-secret",
            "client-shared-secret-string",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let user: Value = serde_json::from_str(&stdout).unwrap();
    let expected: Value =
        serde_json::from_str(&read(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/jwt/jwt1.expected.json")))
            .unwrap();
    assert_eq!(user, expected);
    assert_eq!(user["roles"], json!(["superuser"]));
    assert!(shared("conformance").exists());
}

fn auth(args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rolemap"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("auth")
        .args(["--realms", "examples/jwt/realms.yml", "--secrets", "examples/jwt/secrets.yml"])
        .args(["--mappings", "examples/jwt/mappings.json"])
        .args(args)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn the_command_reports_rejections_and_bad_configuration() {
    // A wrong client secret: rejected by both realms, the first (by order) reported.
    let (code, stdout, stderr) =
        auth(&["--token-file", "examples/jwt/jwt1.token", "--client-secret", "not-the-secret"]);
    assert_eq!(code, Some(1), "{stderr}");
    let error: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(error["error"]["realm"], "jwt1");
    assert_eq!(error["error"]["stage"], "client_auth");
    assert!(!stdout.contains("not-the-secret") && !stderr.contains("not-the-secret"));
    assert!(!stdout.contains("client-shared-secret-string") && !stderr.contains("client-shared-secret-string"));
    // Headers given with -H, the scheme of the client secret in any case.
    let token = read(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/jwt/jwt1.token"));
    let bearer = format!("Authorization: Bearer {}", token.trim());
    let (code, stdout, stderr) =
        auth(&["-H", &bearer, "-H", "es-client-authentication: sharedsecret client-shared-secret-string"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    // Before the token was issued (iat 2025 or later) it is not valid yet.
    let (code, stdout, _) =
        auth(&["--token", token.trim(), "--client-secret", "client-shared-secret-string", "--now", "1000000000"]);
    assert_eq!(code, Some(1));
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap()["error"]["stage"], "iat");
    // No bearer token at all: no realm handles the request.
    let (code, stdout, _) = auth(&["-H", "Authorization: Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="]);
    assert_eq!(code, Some(1));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap()["error"],
        json!({
            "realm": null, "stage": "not_handled", "reason": "no `Authorization: Bearer` header"
        })
    );
    // Usage and configuration errors exit 2.
    let (code, _, _) = auth(&["-H", "no colon"]);
    assert_eq!(code, Some(2));
    let (code, _, _) = auth(&[]);
    assert_eq!(code, Some(2));
    let dir = std::env::temp_dir().join(format!("rolemap-auth-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let realms = dir.join("realms.yml");
    std::fs::write(&realms, "xpack.security.authc.realms.jwt.bad:\n  order: 1\n  allowed_issuer: x\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rolemap"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "auth",
            "--realms",
            realms.to_str().unwrap(),
            "--mappings",
            "examples/jwt/mappings.json",
            "--token",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("xpack.security.authc.realms.jwt.bad.allowed_audiences"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

/// No secret, key or token signature in any error, warning or `Debug` output.
#[test]
fn nothing_secret_is_ever_formatted() {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/jwt");
    let yaml = read(&base.join("realms.yml"));
    let secrets_yaml = read(&base.join("secrets.yml"));
    let secrets: Vec<String> = secrets_yaml
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(": ").map(|(_, v)| v.trim_matches('\'').to_owned()))
        .collect();
    assert!(secrets.len() >= 4, "{secrets:?}");
    let settings = settings::parse_yaml(&yaml, Some(&secrets_yaml), &base).unwrap();
    let realms = Realms::new(&settings.realms, empty_program()).unwrap();
    let token = read(&base.join("jwt1.token"));
    let signature = token.trim().rsplit('.').next().unwrap().to_owned();
    let mut outputs = vec![format!("{settings:?}"), format!("{realms:?}")];
    // Rejections after the signature was read: a wrong secret, a bad signature.
    let tampered = format!("Bearer {}x", token.trim().trim_end_matches(|c| c != '.'));
    for (bearer, client) in [
        (format!("Bearer {}", token.trim()), "SharedSecret wrong"),
        (tampered, "SharedSecret client-shared-secret-string"),
        (format!("Bearer {}", token.trim()), "SharedSecret client-shared-secret-string"),
    ] {
        let outcome = realms.authenticate(
            [("Authorization", bearer.as_str()), ("ES-Client-Authentication", client)],
            std::time::SystemTime::now(),
        );
        outputs.push(format!("{outcome:?}"));
        if let Err(rejection) = outcome {
            outputs.push(rejection.to_string());
        }
    }
    // Yaml with a secret inline: the warning names the setting, not the value.
    let inline = format!("{yaml}\n{secrets_yaml}");
    if let Ok(s) = settings::parse_yaml(&inline, None, &base) {
        outputs.extend(s.warnings.iter().cloned());
    }
    for output in &outputs {
        for secret in &secrets {
            assert!(!output.contains(secret.as_str()), "secret in output: {output}");
        }
        assert!(!output.contains(&signature), "signature in output: {output}");
    }
}

const HS_KEY: &str = "a-test-hmac-key-that-is-long-enough-for-hs256";

/// An HS256 ID-token realm with client authentication `none` and `extra` settings.
fn hs_realm(extra: Value) -> Realms {
    let mut flat = json!({
        "allowed_issuer": "iss", "allowed_audiences": ["aud"], "allowed_signature_algorithms": ["HS256"],
        "hmac_key": HS_KEY, "claims.principal": "sub", "claims.groups": "groups", "client_authentication.type": "none"
    })
    .as_object()
    .unwrap()
    .clone();
    flat.extend(extra.as_object().unwrap().clone());
    let settings = settings::from_flat("hs", &flat, Path::new(".")).unwrap();
    Realms::new(&[settings], empty_program()).unwrap()
}

fn hs_token(header: Value, claims: Value) -> String {
    let mut body = json!({"iss": "iss", "aud": "aud", "sub": "bob", "iat": 1_700_000_000, "exp": 1_700_000_600});
    body.as_object_mut().unwrap().extend(claims.as_object().unwrap().clone());
    let mut realm = Map::new();
    realm.insert("hmac_key".into(), HS_KEY.into());
    mint(&header, &body, &realm)
}

fn stage_of(realms: &Realms, token: &str, client: Option<&str>) -> String {
    let bearer = format!("Bearer {token}");
    let mut headers = vec![("Authorization", bearer.as_str())];
    headers.extend(client.map(|c| ("ES-Client-Authentication", c)));
    match realms.authenticate(headers, UNIX_EPOCH + Duration::from_secs(1_700_000_100)) {
        Ok(user) => format!("ok {}", user.principal),
        Err(rejection) => rejection.stage().as_str().to_owned(),
    }
}

#[test]
fn claims_and_headers_are_read_as_elasticsearch_reads_them() {
    let realms = hs_realm(json!({}));
    let alg = json!({"alg": "HS256"});
    // `Strings.hasText`: a principal of whitespace is no principal.
    assert_eq!(stage_of(&realms, &hs_token(alg.clone(), json!({"sub": " \t "})), None), "principal");
    // `ClaimParser` refuses a null inside a claim array.
    assert_eq!(stage_of(&realms, &hs_token(alg.clone(), json!({"groups": ["a", null]})), None), "groups");
    assert_eq!(stage_of(&realms, &hs_token(alg.clone(), json!({"groups": ["a", "b"]})), None), "ok bob");
    // nimbus keeps nulls in `aud` and matches the other values.
    assert_eq!(stage_of(&realms, &hs_token(alg.clone(), json!({"aud": ["aud", null]})), None), "ok bob");
    // Seconds times 1000 wrap in 64 bits: an absurd `exp` lands in the past.
    assert_eq!(stage_of(&realms, &hs_token(alg.clone(), json!({"exp": 18_446_744_073_709_551_615u64})), None), "exp");
    assert_eq!(stage_of(&realms, &hs_token(alg.clone(), json!({"exp": 1e300})), None), "exp");
    // Registered header parameters of the wrong type make the token unparseable.
    assert_eq!(stage_of(&realms, &hs_token(json!({"alg": "HS256", "kid": 5}), json!({})), None), "not_handled");
    // An empty `crit` passes; a critical parameter nobody understands fails.
    assert_eq!(stage_of(&realms, &hs_token(json!({"alg": "HS256", "crit": []}), json!({})), None), "ok bob");
    assert_eq!(stage_of(&realms, &hs_token(json!({"alg": "HS256", "crit": ["exp"]}), json!({})), None), "signature");
}

#[test]
fn the_shared_secret_is_trimmed_as_java_trims() {
    let realms = hs_realm(
        json!({"client_authentication.type": "shared_secret", "client_authentication.shared_secret": "s3cret"}),
    );
    let token = hs_token(json!({"alg": "HS256"}), json!({}));
    assert_eq!(stage_of(&realms, &token, Some("SharedSecret s3cret")), "ok bob");
    assert_eq!(stage_of(&realms, &token, Some("sharedSECRET   s3cret \t")), "ok bob");
    // No-break spaces are not trimmed by Java: the secret differs.
    assert_eq!(stage_of(&realms, &token, Some("SharedSecret s3cret\u{a0}")), "client_auth");
    assert_eq!(stage_of(&realms, &token, Some("SharedSecret  ")), "request");
    // Another scheme counts as no secret.
    assert_eq!(stage_of(&realms, &token, Some("Basic s3cret")), "client_auth");
}

#[test]
fn claim_patterns_have_java_meanings() {
    let realms = hs_realm(json!({"claim_patterns.principal": "^(\\w+)@corp\\.com$"}));
    let alg = json!({"alg": "HS256"});
    assert_eq!(stage_of(&realms, &hs_token(alg.clone(), json!({"sub": "bob@corp.com"})), None), "ok bob");
    // Java's `\w` is ASCII.
    assert_eq!(stage_of(&realms, &hs_token(alg.clone(), json!({"sub": "jösé@corp.com"})), None), "principal");
    // Java's `$` also matches before a final line terminator.
    assert_eq!(stage_of(&realms, &hs_token(alg, json!({"sub": "bob@corp.com\n"})), None), "ok bob");
}

#[test]
fn tls_settings_of_real_configurations_load() {
    let yaml = "xpack.security.authc.realms.jwt.jwt9:\n  order: 9\n  allowed_issuer: iss\n  allowed_audiences: [aud]\n  \
                claims.principal: sub\n  client_authentication.type: none\n  pkc_jwkset_path: keys.json\n  \
                ssl.verification_mode: certificate\n  ssl.certificate_authorities: [ca.pem]\n";
    let settings = settings::parse_yaml(yaml, None, Path::new("/etc/elasticsearch")).unwrap();
    assert_eq!(settings.realms[0].ssl_certificate_authorities, [PathBuf::from("/etc/elasticsearch/ca.pem")]);
    assert!(
        settings.warnings.iter().any(|w| w.contains("xpack.security.authc.realms.jwt.jwt9.ssl.verification_mode")),
        "{:?}",
        settings.warnings
    );
    let typo = yaml.replace("ssl.verification_mode", "ssl.verify");
    assert!(settings::parse_yaml(&typo, None, Path::new("/etc/elasticsearch")).is_err());
}

/// The token cache (spec §5): a token seen again is answered from the cache,
/// client authentication is still checked first, an entry ends at
/// `exp + allowed_clock_skew`, and clearing empties it.
#[test]
fn the_token_cache_answers_a_token_seen_before() {
    let realms = hs_realm(json!({
        "client_authentication.type": "shared_secret",
        "client_authentication.shared_secret": "s3cret",
        "allowed_clock_skew": "10s",
    }));
    let token = hs_token(json!({"alg": "HS256"}), json!({"exp": 1_700_000_600}));
    let bearer = format!("Bearer {token}");
    let at = |secs: u64, millis: u64| UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis);
    let with = |secret: &'static str, now| {
        realms.authenticate([("Authorization", bearer.as_str()), ("ES-Client-Authentication", secret)], now)
    };
    let stats = || realms.cache_stats()[0].1.unwrap();

    let first = with("SharedSecret s3cret", at(1_700_000_100, 0)).unwrap();
    assert_eq!((stats().hits, stats().misses, stats().entries), (0, 1, 1));
    let again = with("SharedSecret s3cret", at(1_700_000_200, 0)).unwrap();
    assert_eq!(again, first);
    assert_eq!((stats().hits, stats().misses), (1, 1));

    // The secret is not part of the key: a wrong one fails before the cache.
    assert_eq!(with("SharedSecret wrong", at(1_700_000_200, 0)).unwrap_err().stage().as_str(), "client_auth");
    assert_eq!(stats().hits, 1);

    // Good until exp + skew (strictly), then the token is checked again and
    // its `exp` refuses it.
    assert!(with("SharedSecret s3cret", at(1_700_000_609, 999)).is_ok());
    assert_eq!(stats().hits, 2);
    let late = with("SharedSecret s3cret", at(1_700_000_610, 0)).unwrap_err();
    assert_eq!(late.stage().as_str(), "exp");
    assert_eq!(stats().hits, 2);

    // Cleared, the next request authenticates afresh.
    assert!(with("SharedSecret s3cret", at(1_700_000_300, 0)).is_ok());
    realms.clear_caches();
    assert_eq!(stats().entries, 0);
    let misses = stats().misses;
    assert!(with("SharedSecret s3cret", at(1_700_000_300, 0)).is_ok());
    assert_eq!(stats().misses, misses + 1);
    realms.expire_user("bob");
    assert_eq!(stats().entries, 0);
}

#[test]
fn the_token_cache_can_be_turned_off_and_never_answers_a_bad_token() {
    let off = hs_realm(json!({"jwt.cache.ttl": "0s"}));
    assert_eq!(off.cache_stats()[0].1, None);
    let on = hs_realm(json!({}));
    let good = hs_token(json!({"alg": "HS256"}), json!({}));
    assert_eq!(stage_of(&on, &good, None), "ok bob");
    // A token that differs from a cached one in its signature alone is
    // another key: it is verified, and refused.
    let mut forged = good.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'Q' } else { 'A' });
    assert_eq!(stage_of(&on, &forged, None), "signature");
    // An unreadable token is refused before any realm, as without a cache.
    assert_eq!(stage_of(&on, "not-a-jwt", None), "not_handled");
    assert_eq!(on.cache_stats()[0].1.unwrap().entries, 1);
}
