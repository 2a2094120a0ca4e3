//! Load: many threads authenticate and resolve for a bounded time while the
//! configuration is replaced under them. Every answer must be right for the
//! configuration it ran on, and memory must stay bounded however many
//! distinct tokens go through the caches.

use crate::common::keys::{EcKey, hs256, jwk_set};
use rolemap::jwt::{Realms, settings};
use rolemap::{Engine, Program};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const NOW: u64 = 1_800_000_000;
const HMAC: &str = "load-test-hmac-key-that-is-long-enough-for-hs256";
const CACHE_SIZE: usize = 500;

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn settings(dir: &std::path::Path, secret: &str) -> settings::RealmSettings {
    let mut flat = Map::new();
    for (key, value) in [
        ("allowed_issuer", json!("iss")),
        ("allowed_audiences", json!(["aud"])),
        ("allowed_signature_algorithms", json!(["HS256", "ES256"])),
        ("hmac_key", json!(HMAC)),
        ("pkc_jwkset_path", json!("keys.json")),
        ("claims.principal", json!("sub")),
        ("claims.groups", json!("groups")),
        ("client_authentication.type", json!("shared_secret")),
        ("client_authentication.shared_secret", json!(secret)),
        ("client_authentication.rotation_grace_period", json!("1h")),
        ("jwt.cache.size", json!(CACHE_SIZE)),
    ] {
        flat.insert(key.into(), value);
    }
    settings::from_flat("jwt1", &flat, dir).unwrap()
}

/// Version `v` grants `v<v>` to group `g<k>` for every k, and `base` to all.
fn program(version: u64) -> Arc<Program> {
    let mut mappings = Map::new();
    for k in 0..50 {
        mappings.insert(
            format!("m{k}"),
            json!({"enabled": true, "roles": [format!("v{version}")], "rules": {"field": {"groups": format!("g{k}")}}}),
        );
    }
    mappings
        .insert("base".into(), json!({"enabled": true, "roles": ["base"], "rules": {"field": {"realm.name": "jwt1"}}}));
    Arc::new(Program::from_json(&Value::Object(mappings).to_string()).unwrap())
}

/// Resident memory in bytes, where the platform says it.
fn resident() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[test]
fn answers_stay_right_and_memory_bounded_under_load_and_reloads() {
    let dir = std::env::temp_dir().join(format!("rolemap-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = EcKey::generate("k");
    std::fs::write(dir.join("keys.json"), jwk_set(&[&key])).unwrap();
    let engine = Engine::new(Realms::new(&[settings(&dir, "s0")], program(0)).unwrap());
    engine.reload_secure_settings(&[settings(&dir, "s1")], at(NOW)).unwrap();
    let version = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let served = AtomicUsize::new(0);
    let threads = 6;
    let run_for = Duration::from_secs(3);
    let mut memory = (None, None);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (engine, version, stop, served, key) = (&engine, &version, &stop, &served, &key);
            scope.spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Acquire) {
                    // Mostly fresh tokens (the caches fill and evict), some repeated.
                    let n = if i.is_multiple_of(4) { i % 16 } else { i };
                    let claims = json!({"iss": "iss", "aud": "aud", "sub": format!("u{t}-{n}"),
                        "iat": NOW - 10, "exp": NOW + 600, "groups": [format!("g{}", n % 50), "other"]});
                    let token = if i.is_multiple_of(8) { key.sign(&claims) } else { hs256(HMAC, &claims) };
                    let bearer = format!("Bearer {token}");
                    let client = format!("SharedSecret s{}", i % 2);
                    let before = version.load(Ordering::Acquire);
                    let user = engine
                        .authenticate(
                            [("Authorization", bearer.as_str()), ("ES-Client-Authentication", client.as_str())],
                            at(NOW),
                        )
                        .unwrap_or_else(|r| panic!("refused at version {before}: {r}"));
                    let after = version.load(Ordering::Acquire);
                    assert_eq!(user.principal, format!("u{t}-{n}"));
                    let versions: Vec<u64> =
                        user.roles.iter().filter_map(|r| r.strip_prefix('v')).map(|v| v.parse().unwrap()).collect();
                    assert_eq!(user.roles.len(), 2, "{:?}", user.roles);
                    assert!(user.roles.contains(&"base".to_owned()));
                    assert!(
                        versions.len() == 1 && before <= versions[0] && versions[0] <= after + 1,
                        "{:?} outside [{before}, {}]",
                        user.roles,
                        after + 1
                    );
                    served.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            });
        }
        let start = Instant::now();
        let mut v = 0;
        while start.elapsed() < run_for {
            v += 1;
            match v % 3 {
                0 => engine.replace(&[settings(&dir, &format!("s{}", v % 2))], program(v), at(NOW)).unwrap(),
                1 => engine.replace_program(program(v)),
                _ => {
                    engine.reload_secure_settings(&[settings(&dir, &format!("s{}", v % 2))], at(NOW)).unwrap();
                    engine.reload_jwk_sets(at(NOW));
                    engine.replace_program(program(v));
                }
            }
            version.store(v, Ordering::Release);
            if memory.0.is_none() && start.elapsed() > run_for / 3 {
                memory.0 = resident();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        memory.1 = resident();
        stop.store(true, Ordering::Release);
    });
    std::fs::remove_dir_all(&dir).ok();
    let served = served.load(Ordering::Relaxed);
    assert!(served > 1000, "the threads ran: {served} answers");
    for (_, stats) in engine.current().cache_stats() {
        assert!(stats.unwrap().entries <= CACHE_SIZE);
    }
    // After warming up, tens of thousands more distinct tokens must not
    // grow memory much: caches are bounded, old configurations freed.
    if let (Some(warm), Some(end)) = memory {
        assert!(end < warm + (64 << 20), "resident memory grew from {warm} to {end} bytes over {served} answers");
    }
}
