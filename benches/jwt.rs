//! The JWT pipeline per algorithm family: authenticate and map (no cache)
//! against jsonwebtoken's own decode of the same token (signature and
//! claims checks only, no user, no roles) in the same group; a token cache
//! hit; a wrong client secret differing from the right one first or last
//! (the comparison must take the same time). Tokens and keys are the
//! PyJWT-minted fixtures of `tests/fixtures/jwt/`. `backend_verify` is the
//! floor for the public-key algorithms: aws-lc-rs verifying the signature
//! with a key prepared once (`ParsedPublicKey`), nothing decoded, parsed or
//! checked around it. (`jwt_ratio` times the pipeline and its floor
//! alternately, for their ratio.)

#![expect(clippy::unwrap_used, reason = "fixed, valid input: a failure should stop the bench at once")]

mod jwt_setup;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use jwt_setup::{SECRET, Setup, TOKENS};
use serde_json::Value;
use std::hint::black_box;

fn pipeline(c: &mut Criterion) {
    let setup = Setup::new();
    let (realms, now) = (&setup.realms, setup.now);
    let mut group = c.benchmark_group("jwt");
    for (alg, kid) in TOKENS {
        let token = setup.token(alg);
        let bearer = format!("Bearer {token}");
        assert!(realms.authenticate([("Authorization", bearer.as_str())], now).is_ok());
        group.bench_function(BenchmarkId::new("authenticate_and_map", alg), |b| {
            b.iter(|| realms.authenticate([("Authorization", black_box(bearer.as_str()))], now).unwrap().roles.len())
        });
        if alg == "HS256" {
            // A token seen before: client authentication, the digest of the
            // token and a lookup.
            let cached = &setup.cached;
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
            let with_secret = &setup.with_secret;
            let right = format!("SharedSecret {SECRET}");
            let headers = [("Authorization", bearer.as_str()), ("ES-Client-Authentication", right.as_str())];
            assert!(with_secret.authenticate(headers, now).is_ok());
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
            let floor = setup.backend(alg, kid, &token);
            group.bench_function(BenchmarkId::new("backend_verify", alg), |b| b.iter(|| floor.verify()));
        }
        // jsonwebtoken has no ES512; its bare decode is the baseline for the others.
        if let Some((key, validation)) = setup.jsonwebtoken(alg, kid) {
            jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
            group.bench_function(BenchmarkId::new("jsonwebtoken_decode", alg), |b| {
                b.iter(|| jsonwebtoken::decode::<Value>(black_box(&token), &key, &validation).unwrap().claims)
            });
        }
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
