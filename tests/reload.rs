//! Living configuration: public-key sets read again after a signature
//! failure and in the background, client secrets rotated with a grace
//! period, and an `Engine` whose mappings and realms are replaced while
//! threads authenticate.

use crate::common::keys::{EcKey, hs256, jwk_set};
use crate::common::wait_until;
use rolemap::jwt::{Realms, Stage, settings};
use rolemap::{Engine, Options, Program, Syntax};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ISSUER: &str = "https://issuer.example.com";
const AUDIENCE: &str = "rolemap-tests";
const HMAC: &str = "hmac-key-of-the-reload-tests-32-bytes-at-least";
const SECRET: &str = "client-secret-one";

/// A folder of its own under the temp dir, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("rolemap-{name}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// Writes a file in one step (a reader never sees half of it).
fn write_atomically(path: &Path, text: &str) {
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, text).unwrap();
    std::fs::rename(&temp, path).unwrap();
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

const NOW: u64 = 1_800_000_000;

fn claims(sub: &str) -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": NOW - 10, "exp": NOW + 3600, "groups": ["staff"]})
}

/// An ID-token realm with an HMAC key, an ES256 key file and a client secret.
fn realm_settings(dir: &Path, extra: &[(&str, Value)]) -> settings::RealmSettings {
    let mut flat = Map::new();
    for (key, value) in [
        ("order", json!(1)),
        ("token_type", json!("id_token")),
        ("allowed_issuer", json!(ISSUER)),
        ("allowed_audiences", json!([AUDIENCE])),
        ("allowed_signature_algorithms", json!(["ES256", "HS256"])),
        ("pkc_jwkset_path", json!("keys.json")),
        ("hmac_key", json!(HMAC)),
        ("claims.principal", json!("sub")),
        ("claims.groups", json!("groups")),
        ("client_authentication.type", json!("shared_secret")),
        ("client_authentication.shared_secret", json!(SECRET)),
    ] {
        flat.insert(key.into(), value);
    }
    for (key, value) in extra {
        flat.insert((*key).into(), value.clone());
    }
    settings::from_flat("jwt1", &flat, dir).unwrap()
}

fn program(json: &str) -> Arc<Program> {
    Arc::new(Program::from_json(json).unwrap())
}

/// Mappings that grant `role` to every user of realm `jwt1`.
fn granting(role: &str) -> Arc<Program> {
    program(&json!({"m": {"enabled": true, "roles": [role], "rules": {"field": {"realm.name": "jwt1"}}}}).to_string())
}

fn auth(realms: &Realms, token: &str, secret: &str, now: SystemTime) -> Result<Vec<String>, (Stage, String)> {
    let bearer = format!("Bearer {token}");
    let client = format!("SharedSecret {secret}");
    realms
        .authenticate([("Authorization", bearer.as_str()), ("ES-Client-Authentication", client.as_str())], now)
        .map(|user| user.roles.clone())
        .map_err(|r| (r.stage(), r.reason().to_owned()))
}

fn stage_of(result: Result<Vec<String>, (Stage, String)>) -> Stage {
    result.expect_err("the token should be rejected").0
}

#[test]
fn a_rotated_key_file_is_read_again_after_a_signature_failure() {
    let dir = Dir::new("rotate-file");
    let (a, b) = (EcKey::generate("a"), EcKey::generate("b"));
    let keys = dir.path().join("keys.json");
    write_atomically(&keys, &jwk_set(&[&a]));
    let realms = Realms::new(&[realm_settings(dir.path(), &[("jwt.cache.ttl", json!("0s"))])], granting("r")).unwrap();
    let realm = &realms.realms()[0];
    let (token_a, token_b) = (a.sign(&claims("alice")), b.sign(&claims("bob")));
    assert_eq!(auth(&realms, &token_a, SECRET, at(NOW)).unwrap(), ["r"]);
    assert_eq!(realm.jwk_set_status().unwrap().reloads, 0, "a good signature reads nothing");

    // An unknown key: the set is read again, finds nothing new, and the failure stands.
    assert_eq!(stage_of(auth(&realms, &token_b, SECRET, at(NOW))), Stage::Signature);
    let status = realm.jwk_set_status().unwrap();
    assert_eq!((status.reloads, status.changes, status.keys), (1, 0, 1));

    // The issuer rotates to `b`: the first `b` token reads the new set and passes.
    write_atomically(&keys, &jwk_set(&[&b]));
    assert_eq!(auth(&realms, &token_b, SECRET, at(NOW)).unwrap(), ["r"]);
    let status = realm.jwk_set_status().unwrap();
    assert_eq!((status.reloads, status.changes, status.keys), (2, 1, 1));
    assert_eq!(status.last_error, None);
    // `a` is gone now.
    assert_eq!(stage_of(auth(&realms, &token_a, SECRET, at(NOW))), Stage::Signature);
    // HMAC tokens never read the public-key set.
    let reloads = realm.jwk_set_status().unwrap().reloads;
    assert_eq!(
        stage_of(auth(&realms, &hs256("not-the-key-at-all-not-the-key-at-all", &claims("c")), SECRET, at(NOW))),
        Stage::Signature
    );
    assert_eq!(realm.jwk_set_status().unwrap().reloads, reloads);
}

#[test]
fn a_set_that_breaks_keeps_the_last_good_keys() {
    let dir = Dir::new("broken-file");
    let (a, b) = (EcKey::generate("a"), EcKey::generate("b"));
    let keys = dir.path().join("keys.json");
    write_atomically(&keys, &jwk_set(&[&a]));
    let realms = Realms::new(&[realm_settings(dir.path(), &[])], granting("r")).unwrap();
    let realm = &realms.realms()[0];
    // (An empty file is not broken: Elasticsearch reads it as no keys.)
    for (broken, says) in [("{\"keys\": [", "JWKSet parse failed"), ("{\"keys\": 5}", "JWKSet parse failed")] {
        write_atomically(&keys, broken);
        assert_eq!(stage_of(auth(&realms, &b.sign(&claims("bob")), SECRET, at(NOW))), Stage::Signature);
        let status = realm.jwk_set_status().unwrap();
        let error =
            status.last_error.clone().unwrap_or_else(|| panic!("the failed read is reported: {broken:?} {status:?}"));
        assert!(error.contains(says) && error.contains("pkc_jwkset_path"), "{error}");
        assert_eq!(status.keys, 1);
        assert_eq!(auth(&realms, &a.sign(&claims("alice")), SECRET, at(NOW)).unwrap(), ["r"]);
    }
    std::fs::remove_file(&keys).unwrap();
    assert!(!realms.realms()[0].reload_jwk_set(at(NOW)));
    let error = realm.jwk_set_status().unwrap().last_error.unwrap();
    assert!(error.contains("failed to reload contents"), "{error}");
    assert_eq!(auth(&realms, &a.sign(&claims("alice")), SECRET, at(NOW)).unwrap(), ["r"]);
    // A good read clears the error.
    write_atomically(&keys, &jwk_set(&[&a, &b]));
    assert!(realms.realms()[0].reload_jwk_set(at(NOW)));
    assert_eq!(realm.jwk_set_status().unwrap().last_error, None);
    assert_eq!(auth(&realms, &b.sign(&claims("bob")), SECRET, at(NOW)).unwrap(), ["r"]);
}

#[test]
fn new_keys_empty_the_token_cache() {
    let dir = Dir::new("keys-cache");
    let (a, b) = (EcKey::generate("a"), EcKey::generate("b"));
    let keys = dir.path().join("keys.json");
    write_atomically(&keys, &jwk_set(&[&a]));
    let realms = Realms::new(&[realm_settings(dir.path(), &[])], granting("r")).unwrap();
    let token_a = a.sign(&claims("alice"));
    auth(&realms, &token_a, SECRET, at(NOW)).unwrap();
    auth(&realms, &token_a, SECRET, at(NOW)).unwrap();
    let stats = realms.cache_stats()[0].1.unwrap();
    assert_eq!((stats.entries, stats.hits), (1, 1));
    // Keys rotate; a token of the new key reads them and empties the cache,
    // so the cached user of the old key is not let in any more.
    write_atomically(&keys, &jwk_set(&[&b]));
    assert_eq!(auth(&realms, &b.sign(&claims("bob")), SECRET, at(NOW)).unwrap(), ["r"]);
    assert_eq!(stage_of(auth(&realms, &token_a, SECRET, at(NOW))), Stage::Signature);
}

#[test]
fn concurrent_failures_all_see_the_new_keys() {
    let dir = Dir::new("concurrent-reload");
    let (a, b) = (EcKey::generate("a"), EcKey::generate("b"));
    let keys = dir.path().join("keys.json");
    write_atomically(&keys, &jwk_set(&[&a]));
    let realms = Realms::new(&[realm_settings(dir.path(), &[("jwt.cache.ttl", json!("0s"))])], granting("r")).unwrap();
    write_atomically(&keys, &jwk_set(&[&b]));
    let barrier = std::sync::Barrier::new(8);
    std::thread::scope(|scope| {
        for i in 0..8 {
            let (realms, barrier, b) = (&realms, &barrier, &b);
            scope.spawn(move || {
                let token = b.sign(&claims(&format!("user-{i}")));
                barrier.wait();
                assert_eq!(auth(realms, &token, SECRET, at(NOW)).unwrap(), ["r"]);
            });
        }
    });
    let status = realms.realms()[0].jwk_set_status().unwrap();
    assert_eq!(status.changes, 1, "one change, however many requests found it");
    assert!((1..=8).contains(&status.reloads), "{status:?}");
}

/// Realms whose key file is read every second when `enabled`.
fn polled_every_second(dir: &Path, enabled: bool) -> Realms {
    let reload = [("pkc_jwkset_reload.enabled", json!(enabled)), ("pkc_jwkset_reload.file_interval", json!("1s"))];
    Realms::new(&[realm_settings(dir, &reload)], granting("r")).unwrap()
}

#[test]
fn a_file_set_is_polled_when_reloading_is_enabled() {
    let dir = Dir::new("periodic-file");
    let (a, b) = (EcKey::generate("a"), EcKey::generate("b"));
    let keys = dir.path().join("keys.json");
    write_atomically(&keys, &jwk_set(&[&a]));
    let realms = polled_every_second(dir.path(), true);
    write_atomically(&keys, &jwk_set(&[&a, &b]));
    // No request fails, yet the new key arrives: the background thread read it.
    let realm = &realms.realms()[0];
    wait_until("the set was polled", || realm.jwk_set_status().unwrap().keys == 2);
    assert_eq!(realm.jwk_set_status().unwrap().changes, 1);
    // Without the setting nothing is polled, whatever the interval.
    let quiet = polled_every_second(dir.path(), false);
    write_atomically(&keys, &jwk_set(&[&b]));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(quiet.realms()[0].jwk_set_status().unwrap().reloads, 0);
}

#[test]
fn a_cached_user_of_keys_the_background_reload_removed_is_refused() {
    let dir = Dir::new("periodic-cache");
    let (a, b) = (EcKey::generate("a"), EcKey::generate("b"));
    let keys = dir.path().join("keys.json");
    write_atomically(&keys, &jwk_set(&[&a]));
    let realms = polled_every_second(dir.path(), true);
    let token = a.sign(&claims("alice"));
    auth(&realms, &token, SECRET, at(NOW)).unwrap();
    assert_eq!(realms.cache_stats()[0].1.unwrap().entries, 1);
    write_atomically(&keys, &jwk_set(&[&b]));
    let realm = &realms.realms()[0];
    wait_until("the set was polled", || realm.jwk_set_status().unwrap().changes > 0);
    // The background reload emptied the cache: the token is checked again, and fails.
    assert_eq!(stage_of(auth(&realms, &token, SECRET, at(NOW))), Stage::Signature);
}

#[test]
fn a_rotated_client_secret_keeps_the_old_one_for_the_grace_period() {
    let dir = Dir::new("secret-rotation");
    let a = EcKey::generate("a");
    write_atomically(&dir.path().join("keys.json"), &jwk_set(&[&a]));
    let grace = [("client_authentication.rotation_grace_period", json!("30s")), ("jwt.cache.ttl", json!("0s"))];
    let realms = Realms::new(&[realm_settings(dir.path(), &grace)], granting("r")).unwrap();
    let token = a.sign(&claims("alice"));
    let t0 = NOW - 5;
    assert!(auth(&realms, &token, SECRET, at(t0)).is_ok());

    let rotated = realm_settings(
        dir.path(),
        &[grace[0].clone(), grace[1].clone(), ("client_authentication.shared_secret", json!("client-secret-two"))],
    );
    realms.reload_secure_settings(std::slice::from_ref(&rotated), at(t0)).unwrap();
    assert!(auth(&realms, &token, "client-secret-two", at(t0)).is_ok());
    assert!(auth(&realms, &token, SECRET, at(t0 + 29)).is_ok(), "the old secret within the grace period");
    assert_eq!(stage_of(auth(&realms, &token, SECRET, at(t0 + 30))), Stage::ClientAuth);
    assert_eq!(stage_of(auth(&realms, &token, "client-secret-three", at(t0))), Stage::ClientAuth);
    // The same secret again is no rotation: the grace of the old one is untouched.
    realms.reload_secure_settings(std::slice::from_ref(&rotated), at(t0 + 10)).unwrap();
    assert!(auth(&realms, &token, SECRET, at(t0 + 29)).is_ok());
    // A missing secret is refused and the secrets in force stay.
    let mut missing = rotated.clone();
    missing.client_authentication.shared_secret = None;
    let error = realms.reload_secure_settings(&[missing], at(t0)).unwrap_err();
    assert!(error.to_string().contains("client_authentication.shared_secret"), "{error}");
    assert!(auth(&realms, &token, "client-secret-two", at(t0)).is_ok());
}

#[test]
fn a_zero_grace_period_ends_the_old_secret_at_once() {
    let dir = Dir::new("secret-zero-grace");
    let a = EcKey::generate("a");
    write_atomically(&dir.path().join("keys.json"), &jwk_set(&[&a]));
    let grace = ("client_authentication.rotation_grace_period", json!("0s"));
    let realms = Realms::new(&[realm_settings(dir.path(), std::slice::from_ref(&grace))], granting("r")).unwrap();
    let rotated = realm_settings(dir.path(), &[grace, ("client_authentication.shared_secret", json!("new-secret"))]);
    realms.reload_secure_settings(&[rotated], at(NOW)).unwrap();
    let token = a.sign(&claims("alice"));
    assert_eq!(stage_of(auth(&realms, &token, SECRET, at(NOW))), Stage::ClientAuth);
    assert!(auth(&realms, &token, "new-secret", at(NOW)).is_ok());
    // The secret never shows in errors or Debug output.
    assert!(!format!("{realms:?}").contains("new-secret"));
}

#[test]
fn new_mappings_empty_the_cache_and_take_effect_at_once() {
    let dir = Dir::new("engine-mappings");
    let a = EcKey::generate("a");
    write_atomically(&dir.path().join("keys.json"), &jwk_set(&[&a]));
    let engine = Engine::new(Realms::new(&[realm_settings(dir.path(), &[])], granting("one")).unwrap());
    let token = a.sign(&claims("alice"));
    let go = |engine: &Engine| auth(&engine.current(), &token, SECRET, at(NOW));
    assert_eq!(go(&engine).unwrap(), ["one"]);
    assert_eq!(go(&engine).unwrap(), ["one"], "from the cache");
    engine.replace_program(granting("two"));
    assert_eq!(engine.current().cache_stats()[0].1.unwrap().entries, 0);
    assert_eq!(go(&engine).unwrap(), ["two"]);
    let text = r#"mapping "m" { roles: "three" rules: groups == "staff" }"#;
    engine.reload_mappings(text, "m", Syntax::Text, &Options::default()).unwrap();
    assert_eq!(go(&engine).unwrap(), ["three"]);
    let errors = engine.reload_mappings(r#"{"m": {"roles": ["x"]}}"#, "m", Syntax::Json, &Options::default());
    assert!(errors.is_err());
    assert_eq!(go(&engine).unwrap(), ["three"], "a bad document changes nothing");
    // An old configuration held by a caller still answers as it did.
    let old = engine.current();
    engine.replace_program(granting("four"));
    assert_eq!(auth(&old, &token, SECRET, at(NOW)).unwrap(), ["three"]);
    assert_eq!(go(&engine).unwrap(), ["four"]);
}

#[test]
fn replacing_realms_refuses_a_bad_configuration_and_rotates_secrets() {
    let dir = Dir::new("engine-realms");
    let a = EcKey::generate("a");
    write_atomically(&dir.path().join("keys.json"), &jwk_set(&[&a]));
    let engine = Engine::new(Realms::new(&[realm_settings(dir.path(), &[])], granting("r")).unwrap());
    let token = a.sign(&claims("alice"));
    let go = |secret: &str, now: u64| {
        engine.authenticate(
            [
                ("Authorization", format!("Bearer {token}").as_str()),
                ("ES-Client-Authentication", format!("SharedSecret {secret}").as_str()),
            ],
            at(now),
        )
    };
    assert!(go(SECRET, NOW).is_ok());
    // A key file that is not there: refused, the running realms stay.
    let missing = realm_settings(dir.path(), &[("pkc_jwkset_path", json!("nowhere.json"))]);
    let error = engine.replace_realms(&[missing], at(NOW)).unwrap_err();
    assert!(error.to_string().contains("nowhere.json"), "{error}");
    assert!(go(SECRET, NOW).is_ok());
    // New realms with a new secret (default grace: 1 minute) and other claims.
    let next = realm_settings(
        dir.path(),
        &[("client_authentication.shared_secret", json!("client-secret-two")), ("claims.principal", json!("iss"))],
    );
    engine.replace_realms(&[next], at(NOW)).unwrap();
    assert_eq!(
        engine
            .authenticate(
                [
                    ("Authorization", format!("Bearer {token}").as_str()),
                    ("ES-Client-Authentication", "SharedSecret client-secret-two")
                ],
                at(NOW),
            )
            .unwrap()
            .principal,
        ISSUER
    );
    assert!(go(SECRET, NOW + 59).is_ok(), "the previous secret for the grace period");
    assert_eq!(go(SECRET, NOW + 60).unwrap_err().stage(), Stage::ClientAuth);
    // Realms replaced again with the same secret keep the grace the old one had left.
    let again = realm_settings(dir.path(), &[("client_authentication.shared_secret", json!("client-secret-two"))]);
    engine.replace_realms(&[again], at(NOW + 30)).unwrap();
    assert!(go(SECRET, NOW + 59).is_ok());
    assert_eq!(go(SECRET, NOW + 60).unwrap_err().stage(), Stage::ClientAuth);
}

/// Threads authenticate without pause while another replaces mappings,
/// keys, secrets and realms. Every answer must come from one configuration
/// that was in force while the request ran: none lost, none torn.
#[test]
fn answers_stay_whole_while_everything_is_replaced() {
    let dir = Dir::new("engine-swap");
    let a = EcKey::generate("a");
    let keys = dir.path().join("keys.json");
    write_atomically(&keys, &jwk_set(&[&a]));
    let settings = |version: u64| {
        realm_settings(
            dir.path(),
            &[
                // Secrets alternate; the grace period covers the overlap.
                ("client_authentication.shared_secret", json!(format!("secret-{}", version % 2))),
                ("client_authentication.rotation_grace_period", json!("1h")),
            ],
        )
    };
    let engine = Engine::new(Realms::new(&[settings(0)], granting("v0")).unwrap());
    // Secret 1 joins as a rotation so both are good from the start.
    engine.reload_secure_settings(&[settings(1)], at(NOW)).unwrap();
    engine.reload_secure_settings(&[settings(0)], at(NOW)).unwrap();
    let version = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let answers = AtomicUsize::new(0);
    let extra: Vec<EcKey> = (0..4).map(|i| EcKey::generate(&format!("extra-{i}"))).collect();
    std::thread::scope(|scope| {
        for t in 0..3 {
            let (engine, version, stop, answers, a) = (&engine, &version, &stop, &answers, &a);
            scope.spawn(move || {
                let tokens: Vec<String> = (0..4).map(|i| a.sign(&claims(&format!("user-{t}-{i}")))).collect();
                let hmac = hs256(HMAC, &claims(&format!("hmac-{t}")));
                let mut i = 0usize;
                while !stop.load(Ordering::Acquire) {
                    let token = if i % 5 == 4 { &hmac } else { &tokens[i % 4] };
                    let secret = format!("secret-{}", i % 2);
                    let before = version.load(Ordering::Acquire);
                    let bearer = format!("Bearer {token}");
                    let client = format!("SharedSecret {secret}");
                    let user = engine
                        .authenticate(
                            [("Authorization", bearer.as_str()), ("ES-Client-Authentication", client.as_str())],
                            at(NOW),
                        )
                        .unwrap_or_else(|r| panic!("lost at version {before}: {r}"));
                    let after = version.load(Ordering::Acquire);
                    assert_eq!(user.roles.len(), 1, "{:?}", user.roles);
                    let got: u64 = user.roles[0].strip_prefix('v').unwrap().parse().unwrap();
                    // A configuration is stored before its number is published.
                    assert!(before <= got && got <= after + 1, "version {got} outside [{before}, {}]", after + 1);
                    answers.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            });
        }
        for v in 1..=60u64 {
            match v % 4 {
                0 => engine.replace(&[settings(v)], granting(&format!("v{v}")), at(NOW)).unwrap(),
                1 => engine.replace_program(granting(&format!("v{v}"))),
                2 => {
                    // New public keys, always with `a`: the set changes, tokens stay good.
                    write_atomically(&keys, &jwk_set(&[&a, &extra[(v as usize / 4) % 4]]));
                    engine.reload_jwk_sets(at(NOW));
                    engine.replace_program(granting(&format!("v{v}")));
                }
                _ => {
                    engine.reload_secure_settings(&[settings(v)], at(NOW)).unwrap();
                    engine.replace_program(granting(&format!("v{v}")));
                }
            }
            version.store(v, Ordering::Release);
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Release);
    });
    assert!(answers.load(Ordering::Relaxed) > 60, "the threads ran: {}", answers.load(Ordering::Relaxed));
}
