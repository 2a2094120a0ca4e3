//! The JWT pipeline per algorithm family: authenticate and map (no cache)
//! against jsonwebtoken's own decode of the same token (signature and
//! claims checks only, no user, no roles) in the same group; a token cache
//! hit; a wrong client secret differing from the right one first or last
//! (the comparison must take the same time). Tokens and keys are the
//! PyJWT-minted fixtures of `tests/fixtures/jwt/`. `backend_verify` is the floor for the public-key
//! algorithms: aws-lc-rs verifying the signature with a key prepared once
//! (`ParsedPublicKey`), nothing decoded, parsed or checked around it.

#![expect(clippy::unwrap_used, reason = "fixed, valid input: a failure should stop the bench at once")]

use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{DecodingKey, Validation};
use rolemap::jwt::{Realms, settings};
use rolemap::{Program, workload};
use serde_json::Value;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// The client secret of the realm that requires one.
const SECRET: &str = "bench-client-shared-secret-of-some-length";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jwt")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(fixtures().join(path)).unwrap()
}

fn pipeline(c: &mut Criterion) {
    let manifest: Value = serde_json::from_str(&read("manifest.json")).unwrap();
    let mut flat = manifest["realm"].as_object().unwrap().clone();
    let name = flat.remove("name").unwrap();
    let hmac = flat.remove("hmac_jwkset_file").unwrap();
    flat.insert("hmac_jwkset".into(), read(hmac.as_str().unwrap()).into());
    let cached = settings::from_flat(name.as_str().unwrap(), &flat, &fixtures()).unwrap();
    let mut with_secret = flat.clone();
    with_secret.insert("client_authentication.type".into(), "shared_secret".into());
    with_secret.insert("client_authentication.shared_secret".into(), SECRET.into());
    let with_secret = settings::from_flat(name.as_str().unwrap(), &with_secret, &fixtures()).unwrap();
    flat.insert("jwt.cache.ttl".into(), "0s".into());
    let realm = settings::from_flat(name.as_str().unwrap(), &flat, &fixtures()).unwrap();
    // Map with a thousand-mapping program, as a service would.
    let program = Arc::new(Program::from_json(&workload::mappings(1_000)).unwrap());
    let realms = Realms::new(&[realm], Arc::clone(&program)).unwrap();
    let cached = Realms::new(&[cached], Arc::clone(&program)).unwrap();
    let with_secret = Realms::new(&[with_secret], program).unwrap();
    let now = UNIX_EPOCH + Duration::from_secs(manifest["now"].as_u64().unwrap());
    let pkc: JwkSet = serde_json::from_str(&read("keys/pkc.jwkset.json")).unwrap();

    let mut group = c.benchmark_group("jwt");
    for (alg, kid) in
        [("HS256", None), ("RS256", Some("rsa-2048")), ("ES256", Some("ec-p256")), ("ES512", Some("ec-p521"))]
    {
        let token = read(&format!("tokens/{alg}.jwt"));
        let token = token.trim().to_owned();
        let bearer = format!("Bearer {token}");
        assert!(realms.authenticate([("Authorization", bearer.as_str())], now).is_ok());
        group.bench_function(BenchmarkId::new("authenticate_and_map", alg), |b| {
            b.iter(|| realms.authenticate([("Authorization", black_box(bearer.as_str()))], now).unwrap().roles.len())
        });
        // jsonwebtoken has no ES512; its bare decode is the baseline for the others.
        if alg == "HS256" {
            // A token seen before: client authentication, the digest of the
            // token and a lookup.
            assert!(cached.authenticate([("Authorization", bearer.as_str())], now).is_ok());
            group.bench_function(BenchmarkId::new("cache_hit", alg), |b| {
                b.iter(|| {
                    cached.authenticate([("Authorization", black_box(bearer.as_str()))], now).unwrap().roles.len()
                })
            });
            // A wrong client secret, differing from the right one in its
            // first or in its last byte: the comparison (of SHA-256
            // digests, in constant time) must not tell them apart. The token
            // is cached, so nothing but the comparison differs.
            let right = format!("SharedSecret {SECRET}");
            assert!(
                with_secret
                    .authenticate(
                        [("Authorization", bearer.as_str()), ("ES-Client-Authentication", right.as_str())],
                        now
                    )
                    .is_ok()
            );
            for (which, wrong) in
                [("first", format!("X{}", &SECRET[1..])), ("last", format!("{}X", &SECRET[..SECRET.len() - 1]))]
            {
                let wrong = format!("SharedSecret {wrong}");
                group.bench_function(BenchmarkId::new("wrong_client_secret", which), |b| {
                    b.iter(|| {
                        let headers = [
                            ("Authorization", bearer.as_str()),
                            ("ES-Client-Authentication", black_box(wrong.as_str())),
                        ];
                        with_secret.authenticate(headers, now).is_err()
                    })
                });
            }
        }
        if let Some(kid) = kid {
            let jwk = pkc.find(kid).unwrap();
            let (input, signature) = token.rsplit_once('.').unwrap();
            let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
            let b64 = |v: &str| URL_SAFE_NO_PAD.decode(v).unwrap();
            let key = match &jwk.algorithm {
                AlgorithmParameters::RSA(rsa) => RsaPublicKeyComponents { n: b64(&rsa.n), e: b64(&rsa.e) }
                    .to_parsed_public_key(&sig::RSA_PKCS1_2048_8192_SHA256)
                    .unwrap(),
                AlgorithmParameters::EllipticCurve(ec) => {
                    let point = [&[4u8][..], &b64(&ec.x), &b64(&ec.y)].concat();
                    let params =
                        if alg == "ES256" { &sig::ECDSA_P256_SHA256_FIXED } else { &sig::ECDSA_P521_SHA512_FIXED };
                    ParsedPublicKey::new(params, &point).unwrap()
                }
                _ => unreachable!("the fixture's public keys are RSA and EC"),
            };
            key.verify_sig(input.as_bytes(), &signature).unwrap();
            group.bench_function(BenchmarkId::new("backend_verify", alg), |b| {
                b.iter(|| key.verify_sig(black_box(input.as_bytes()), black_box(&signature)).is_ok())
            });
        }
        let Ok(algorithm) = alg.parse::<jsonwebtoken::Algorithm>() else { continue };
        let key = match kid {
            None => DecodingKey::from_secret(read("keys/hs256.secret.txt").as_bytes()).unwrap(),
            Some(kid) => DecodingKey::from_jwk(pkc.find(kid).unwrap()).unwrap(),
        };
        let mut validation = Validation::new(algorithm);
        validation.set_audience(&["es02"]);
        validation.set_issuer(&["https://issuer.example.com/"]);
        jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
        group.bench_function(BenchmarkId::new("jsonwebtoken_decode", alg), |b| {
            b.iter(|| jsonwebtoken::decode::<Value>(black_box(&token), &key, &validation).unwrap().claims)
        });
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
