//! Tokens written to get in: each is refused at the stage that should catch
//! it, and no error or `Debug` output gives away a secret, a key or a
//! signature.

use crate::common::keys::{EcKey, hs256_raw, jwk_set};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rolemap::Program;
use rolemap::jwt::{MAX_TOKEN_LEN, Realms, Stage, settings};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

const NOW: u64 = 1_800_000_000;
const HMAC: &str = "hostile-tests-hmac-key-of-more-than-32-bytes";
const CLIENT: &str = "hostile-tests-client-secret";

struct Setup {
    realms: Realms,
    key: EcKey,
    dir: PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn flat(extra: Value) -> Map<String, Value> {
    let mut flat = json!({
        "allowed_issuer": "iss", "allowed_audiences": ["aud"],
        "allowed_signature_algorithms": ["HS256", "ES256", "RS256"],
        "hmac_key": HMAC, "pkc_jwkset_path": "keys.json",
        "claims.principal": "sub",
        "client_authentication.type": "shared_secret", "client_authentication.shared_secret": CLIENT,
        "jwt.cache.ttl": "0s",
    })
    .as_object()
    .unwrap()
    .clone();
    flat.extend(extra.as_object().unwrap().clone());
    flat
}

fn setup(extra: Value) -> Setup {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rolemap-hostile-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = EcKey::generate("good");
    std::fs::write(dir.join("keys.json"), jwk_set(&[&key])).unwrap();
    let settings = settings::from_flat("jwt1", &flat(extra), &dir).unwrap();
    let realms = Realms::new(&[settings], Arc::new(Program::from_json("{}").unwrap())).unwrap();
    Setup { realms, key, dir }
}

fn payload(extra: Value) -> String {
    let mut claims = json!({"iss": "iss", "aud": "aud", "sub": "mallory", "iat": NOW - 10, "exp": NOW + 600});
    claims.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    claims.to_string()
}

/// The stage that refused `token`, or `None` when it was accepted.
fn refused_at(realms: &Realms, token: &str) -> Option<Stage> {
    let bearer = format!("Bearer {token}");
    let client = format!("SharedSecret {CLIENT}");
    let headers = [("Authorization", bearer.as_str()), ("ES-Client-Authentication", client.as_str())];
    realms.authenticate(headers, UNIX_EPOCH + Duration::from_secs(NOW)).err().map(|r| r.stage())
}

fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

#[test]
fn the_setup_accepts_honest_tokens() {
    let s = setup(json!({}));
    assert_eq!(refused_at(&s.realms, &hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &payload(json!({})))), None);
    let es = s.key.sign_raw(r#"{"alg":"ES256","kid":"good"}"#, &payload(json!({})));
    assert_eq!(refused_at(&s.realms, &es), None);
}

#[test]
fn unsecured_tokens_are_not_tokens() {
    let s = setup(json!({}));
    for alg in ["none", "None", "NONE", ""] {
        let header = format!(r#"{{"alg":"{alg}"}}"#);
        for signature in ["", "c2ln"] {
            let token = format!("{}.{}.{signature}", b64(&header), b64(&payload(json!({}))));
            let stage = refused_at(&s.realms, &token);
            assert!(matches!(stage, Some(Stage::NotHandled | Stage::Alg)), "alg `{alg}`: {stage:?}");
        }
    }
    // Two parts, or four, are no signed JWT either.
    let two = format!("{}.{}", b64(r#"{"alg":"HS256"}"#), b64(&payload(json!({}))));
    assert_eq!(refused_at(&s.realms, &two), Some(Stage::NotHandled));
    let four = format!("{}.x", hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &payload(json!({}))));
    assert_eq!(refused_at(&s.realms, &four), Some(Stage::NotHandled));
}

#[test]
fn a_public_key_used_as_an_hmac_secret_verifies_nothing() {
    let s = setup(json!({}));
    // The classic confusion: HS256 signed with the realm's public key in
    // every form an attacker could find it.
    let jwk = s.key.jwk();
    let public_forms = [
        jwk.to_string(),
        jwk_set(&[&s.key]),
        jwk["x"].as_str().unwrap().to_owned(),
        format!("{}{}", jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap()),
    ];
    for secret in &public_forms {
        let token = hs256_raw(secret.as_bytes(), r#"{"alg":"HS256","kid":"good"}"#, &payload(json!({})));
        assert_eq!(refused_at(&s.realms, &token), Some(Stage::Signature), "secret {secret}");
    }
    // A realm that allows only the public-key algorithm refuses HS256 before any key.
    let pkc_only = setup(json!({"allowed_signature_algorithms": ["ES256"]}));
    let token = hs256_raw(jwk.to_string().as_bytes(), r#"{"alg":"HS256"}"#, &payload(json!({})));
    assert_eq!(refused_at(&pkc_only.realms, &token), Some(Stage::Alg));
    // An ES256 signature presented as HS256 (and the other way round).
    let es = s.key.sign_raw(r#"{"alg":"ES256","kid":"good"}"#, &payload(json!({})));
    let (_, signature) = es.rsplit_once('.').unwrap();
    let relabelled = format!("{}.{}.{signature}", b64(r#"{"alg":"HS256","kid":"good"}"#), b64(&payload(json!({}))));
    assert_eq!(refused_at(&s.realms, &relabelled), Some(Stage::Signature));
    let hs = hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &payload(json!({})));
    let (_, tag) = hs.rsplit_once('.').unwrap();
    let relabelled = format!("{}.{}.{tag}", b64(r#"{"alg":"ES256"}"#), b64(&payload(json!({}))));
    assert_eq!(refused_at(&s.realms, &relabelled), Some(Stage::Signature));
}

#[test]
fn keys_named_or_carried_by_the_token_are_never_used() {
    let s = setup(json!({}));
    let attacker = EcKey::generate("good");
    let jwk = attacker.jwk().to_string();
    // The attacker's key, offered inline or by URL, with the realm's kid or
    // odd ones: the realm's own keys are the only ones tried.
    for header in [
        format!(r#"{{"alg":"ES256","kid":"good","jwk":{jwk}}}"#),
        r#"{"alg":"ES256","kid":"good","jku":"https://attacker.example/jwks.json"}"#.to_owned(),
        r#"{"alg":"ES256","kid":"good","x5u":"https://attacker.example/cert.pem"}"#.to_owned(),
        r#"{"alg":"ES256","kid":"../../../../dev/null"}"#.to_owned(),
        r#"{"alg":"ES256","kid":"' OR 1=1 --"}"#.to_owned(),
        r#"{"alg":"ES256"}"#.to_owned(),
    ] {
        let token = attacker.sign_raw(&header, &payload(json!({})));
        assert_eq!(refused_at(&s.realms, &token), Some(Stage::Signature), "{header}");
    }
    // A `kid` that is not a string makes the header unreadable.
    let token = attacker.sign_raw(r#"{"alg":"ES256","kid":7}"#, &payload(json!({})));
    assert_eq!(refused_at(&s.realms, &token), Some(Stage::NotHandled));
}

#[cfg(feature = "https")]
#[test]
fn a_jku_header_is_never_fetched() {
    let server = crate::common::https::JwksServer::start();
    let attacker = EcKey::generate("evil");
    server.set_body(jwk_set(&[&attacker]));
    let s = setup(json!({}));
    let header = format!(r#"{{"alg":"ES256","kid":"evil","jku":"{}"}}"#, server.url("/jwks.json"));
    let token = attacker.sign_raw(&header, &payload(json!({})));
    assert_eq!(refused_at(&s.realms, &token), Some(Stage::Signature));
    assert_eq!(server.requests(), 0);
}

#[test]
fn repeated_json_keys_make_a_token_unreadable() {
    let s = setup(json!({}));
    let sign = |header: &str, payload: &str| hs256_raw(HMAC.as_bytes(), header, payload);
    let good_payload = payload(json!({}));
    for (header, payload) in [
        (r#"{"alg":"HS256","alg":"none"}"#, good_payload.as_str()),
        (r#"{"alg":"HS256","kid":"a","kid":"b"}"#, good_payload.as_str()),
        (r#"{"alg":"HS256"}"#, r#"{"iss":"iss","aud":"aud","sub":"mallory","sub":"admin","iat":1,"exp":9999999999}"#),
        (r#"{"alg":"HS256"}"#, r#"{"iss":"iss","aud":"aud","sub":"a","iat":1,"exp":9999999999,"exp":1}"#),
        (r#"{"alg":"HS256"}"#, r#"{"iss":"iss","aud":"aud","sub":"a","iat":1,"exp":9999999999,"\u0073ub":"b"}"#),
    ] {
        assert_eq!(refused_at(&s.realms, &sign(header, payload)), Some(Stage::NotHandled), "{header} {payload}");
    }
}

#[test]
fn only_canonical_base64url_of_utf8_json_is_read() {
    let s = setup(json!({}));
    let token = hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &payload(json!({})));
    let parts: Vec<&str> = token.split('.').collect();
    let padded = |p: &str| {
        let mut p = p.to_owned();
        while !p.len().is_multiple_of(4) {
            p.push('=');
        }
        p
    };
    // Padding, the standard alphabet, whitespace, characters outside base64.
    let header_std = STANDARD.encode(r#"{"alg":"HS256"}"#);
    for bad in [
        format!("{}.{}.{}", padded(parts[0]), parts[1], parts[2]),
        format!("{}.{}.{}", parts[0], parts[1], padded(parts[2])),
        format!("{header_std}.{}.{}", parts[1], parts[2]),
        format!("{}.{}.{}", parts[0], parts[1], parts[2].replace('_', "/").replace('-', "+")),
        format!("{}.{} .{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}!", parts[0], parts[1], parts[2]),
    ] {
        if bad == token {
            continue;
        }
        assert_eq!(refused_at(&s.realms, &bad), Some(Stage::NotHandled), "{bad}");
    }
    // Bytes that are not UTF-8, JSON that is not an object.
    let raw = |header: &[u8], payload: &[u8]| {
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, HMAC.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(aws_lc_rs::hmac::sign(&key, input.as_bytes()).as_ref()))
    };
    let mut latin1 = payload(json!({"sub": "x"})).into_bytes();
    latin1.extend_from_slice(b" \xff");
    for (header, payload) in [
        (&br#"{"alg":"HS256"}"#[..], &latin1[..]),
        (&b"{\"alg\":\"HS256\xc0\"}"[..], payload(json!({})).as_bytes()),
        (&br#"["alg","HS256"]"#[..], payload(json!({})).as_bytes()),
        (&br#"{"alg":"HS256"}"#[..], &b"[1,2,3]"[..]),
        (&br#"{"alg":"HS256"}"#[..], &b"null"[..]),
        (&br#"{"alg":"HS256"}"#[..], &b""[..]),
    ] {
        assert_eq!(refused_at(&s.realms, &raw(header, payload)), Some(Stage::NotHandled));
    }
}

#[test]
fn time_claims_at_the_extremes() {
    let s = setup(json!({}));
    let sign = |claims: Value| hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &payload(claims));
    // No maximum lifetime, as in Elasticsearch: an `exp` far ahead is fine.
    assert_eq!(refused_at(&s.realms, &sign(json!({"exp": 253_402_300_799u64}))), None);
    assert_eq!(refused_at(&s.realms, &sign(json!({"exp": 1}))), Some(Stage::Exp));
    assert_eq!(refused_at(&s.realms, &sign(json!({"exp": 0}))), Some(Stage::Exp));
    assert_eq!(refused_at(&s.realms, &sign(json!({"iat": NOW + 3600}))), Some(Stage::Iat));
    // Absurd values wrap as Java's `longValue() * 1000` does in nimbus: an
    // `exp` of 2^64 - 1 or -1e300 lands in the past and is refused; an
    // `iat` of 2^64 - 1 or 1e300 lands in the past too and passes, as it
    // does in Elasticsearch.
    assert_eq!(refused_at(&s.realms, &sign(json!({"exp": u64::MAX}))), Some(Stage::Exp));
    assert_eq!(refused_at(&s.realms, &sign(json!({"exp": i64::MIN}))), Some(Stage::Exp));
    assert_eq!(refused_at(&s.realms, &sign(json!({"exp": -1e300}))), Some(Stage::Exp));
    assert_eq!(refused_at(&s.realms, &sign(json!({"iat": u64::MAX}))), None);
    assert_eq!(refused_at(&s.realms, &sign(json!({"iat": 1e300}))), None);
    // Not numbers: the claims set does not parse.
    assert_eq!(refused_at(&s.realms, &sign(json!({"exp": "9999999999"}))), Some(Stage::NotHandled));
    // A number past what a double holds is not JSON serde_json reads.
    let huge = format!(r#"{{"iss":"iss","aud":"aud","sub":"m","iat":1,"exp":1{}}}"#, "0".repeat(400));
    let token = hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &huge);
    assert!(refused_at(&s.realms, &token).is_some());
}

#[test]
fn oversized_tokens_are_not_read() {
    let s = setup(json!({}));
    let filler = "a".repeat(MAX_TOKEN_LEN);
    let big = hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &payload(json!({"filler": filler})));
    assert!(big.len() > MAX_TOKEN_LEN);
    assert_eq!(refused_at(&s.realms, &big), Some(Stage::NotHandled));
    let mib = "A".repeat(1 << 20);
    assert_eq!(refused_at(&s.realms, &mib), Some(Stage::NotHandled));
    let dots = ".".repeat(1 << 20);
    assert_eq!(refused_at(&s.realms, &dots), Some(Stage::NotHandled));
    // Deep nesting inside a token that fits.
    let deep = format!(
        r#"{{"iss":"iss","aud":"aud","sub":"m","iat":1,"exp":9999999999,"x":{}1{}}}"#,
        "[".repeat(4000),
        "]".repeat(4000)
    );
    let token = hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &deep);
    assert!(token.len() <= MAX_TOKEN_LEN);
    assert_eq!(refused_at(&s.realms, &token), Some(Stage::NotHandled));
}

/// Every secret and signature of the setup, also as they would look
/// encoded.
fn secrets_of(signatures: &[String]) -> Vec<String> {
    let mut out = vec![HMAC.to_owned(), CLIENT.to_owned(), URL_SAFE_NO_PAD.encode(HMAC)];
    out.extend(signatures.iter().cloned());
    out
}

#[test]
fn no_error_or_debug_output_shows_a_secret_or_a_signature() {
    let s = setup(json!({}));
    let mut shown: Vec<String> = vec![format!("{:?}", s.realms), format!("{:#?}", s.realms)];
    let mut signatures = Vec::new();
    let wrong_key =
        hs256_raw(b"another-key-that-is-long-enough-for-hs256!!", r#"{"alg":"HS256"}"#, &payload(json!({})));
    let honest = hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &payload(json!({})));
    let expired = hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &payload(json!({"exp": 5})));
    let es = s.key.sign_raw(r#"{"alg":"ES256","kid":"good"}"#, &payload(json!({"aud": "other"})));
    for token in [&wrong_key, &honest, &expired, &es] {
        signatures.push(token.rsplit_once('.').unwrap().1.to_owned());
        for client in [CLIENT, "wrong-client-secret", ""] {
            let bearer = format!("Bearer {token}");
            let client = format!("SharedSecret {client}");
            let headers = [("Authorization", bearer.as_str()), ("ES-Client-Authentication", client.as_str())];
            match s.realms.authenticate(headers, UNIX_EPOCH + Duration::from_secs(NOW)) {
                Ok(user) => shown.push(format!("{user:?}")),
                Err(rejection) => {
                    shown.push(rejection.to_string());
                    shown.push(format!("{rejection:?}"));
                }
            }
        }
    }
    // Settings that go wrong around secrets.
    let dir = Path::new(&s.dir);
    for extra in [
        json!({"hmac_jwkset": format!(r#"{{"keys":[{{"kty":"oct","k":"{}"}}"#, URL_SAFE_NO_PAD.encode(HMAC))}),
        json!({"hmac_jwkset": "not json at all", "hmac_key": Value::Null}),
        json!({"client_authentication.type": "none"}),
        json!({"allowed_signature_algorithms": ["HS999"]}),
    ] {
        let mut f = flat(extra);
        f.retain(|_, v| !v.is_null());
        match settings::from_flat("jwt1", &f, dir) {
            Ok(settings) => {
                shown.push(format!("{settings:?}"));
                if let Err(e) = Realms::new(&[settings], Arc::new(Program::from_json("{}").unwrap())) {
                    shown.push(e.to_string());
                    shown.push(format!("{e:?}"));
                }
            }
            Err(e) => {
                shown.push(e.to_string());
                shown.push(format!("{e:?}"));
            }
        }
    }
    // Secure settings read from YAML.
    let yaml = format!(
        "xpack.security.authc.realms.jwt.jwt1.hmac_key: {HMAC}\nxpack.security.authc.realms.jwt.jwt1.client_authentication.shared_secret: {CLIENT}\n"
    );
    let secure = settings::SecureSettings::from_yaml(&yaml).unwrap();
    shown.push(format!("{secure:?}"));
    let secrets = secrets_of(&signatures);
    let leaks: Vec<String> = shown
        .iter()
        .flat_map(|text| secrets.iter().filter(|x| text.contains(x.as_str())).map(move |x| format!("`{x}` in {text}")))
        .collect();
    assert!(leaks.is_empty(), "secrets shown:\n{}", leaks.join("\n"));
    assert!(shown.len() > 20, "the test saw what it meant to: {}", shown.len());
}

/// Integers past 64 bits reach the metadata as Elasticsearch's
/// `BigInteger`s: only an integer rule on that very claim fails the role
/// mapping, whether the number stands alone or in a list.
#[test]
fn integers_past_64_bits_fail_only_integer_rules_on_their_claim() {
    let s = setup(json!({}));
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    let rule = |key: &str| {
        let text = json!({"m": {"enabled": true, "roles": ["r"], "rules": {"field": {key: 5}}}}).to_string();
        s.realms.with_program(Arc::new(Program::from_json(&text).unwrap()))
    };
    for big in [r#"18446744073709551615"#, r#"[1, 18446744073709551615]"#] {
        let token = hs256_raw(
            HMAC.as_bytes(),
            r#"{"alg":"HS256"}"#,
            &payload(serde_json::from_str(&format!(r#"{{"big": {big}, "small": 5}}"#)).unwrap()),
        );
        let bearer = format!("Bearer {token}");
        let client = format!("SharedSecret {CLIENT}");
        let headers = [("Authorization", bearer.as_str()), ("ES-Client-Authentication", client.as_str())];
        let refused = rule("metadata.jwt_claim_big").authenticate(headers, now).unwrap_err();
        assert_eq!(refused.stage(), Stage::RoleMapping, "{big}");
        assert!(refused.to_string().contains("does not fit a 64-bit integer"), "{refused}");
        let user = rule("metadata.jwt_claim_small").authenticate(headers, now).unwrap();
        assert_eq!(user.roles, ["r"], "{big}");
        assert_eq!(user.metadata.get("jwt_claim_big"), Some(&serde_json::from_str::<Value>(big).unwrap()));
    }
}
