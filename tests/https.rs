//! A realm whose public keys are fetched over HTTPS, from a loopback server.

use crate::common::https::JwksServer;
use crate::common::keys::{EcKey, jwk_set};
use crate::common::wait_until;
use rolemap::Program;
use rolemap::jwt::{Realms, settings};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jwt")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixtures' RS256 realm, its keys at `url`, trusting `cas`, with `extra` settings on top.
fn build(url: &str, cas: &[PathBuf], extra: Value) -> Result<Realms, String> {
    let mut flat: Map<String, Value> = json!({
        "order": 1,
        "allowed_issuer": "https://issuer.example.com/",
        "allowed_audiences": ["es02"],
        "allowed_signature_algorithms": ["RS256"],
        "pkc_jwkset_path": url,
        "claims.principal": "sub",
        "claims.mail": "email",
        "client_authentication.type": "none",
    })
    .as_object()
    .unwrap()
    .clone();
    if !cas.is_empty() {
        let cas: Vec<String> = cas.iter().map(|p| p.display().to_string()).collect();
        flat.insert("ssl.certificate_authorities".into(), json!(cas));
    }
    flat.extend(extra.as_object().unwrap().clone());
    let settings = settings::from_flat("remote", &flat, &fixtures()).map_err(|e| e.to_string())?;
    Realms::new(&[settings], Arc::new(Program::from_json("{}").unwrap())).map_err(|e| e.to_string())
}

fn serving_fixture_keys() -> JwksServer {
    let server = JwksServer::start();
    server.set_body(read(&fixtures().join("keys/pkc.jwkset.json")));
    server
}

/// The fixtures' RS256 token, checked by `realms` at the manifest's time.
fn authenticates(realms: &Realms) -> bool {
    let token = read(&fixtures().join("tokens/RS256.jwt"));
    let bearer = format!("Bearer {}", token.trim());
    let now = UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    match realms.authenticate([("Authorization", bearer.as_str())], now) {
        Ok(user) => {
            assert_eq!(user.principal, "jdoe");
            assert_eq!(user.email.as_deref(), Some("jdoe@example.com"));
            true
        }
        Err(_) => false,
    }
}

#[test]
fn https_keys_from_the_server_verify_tokens() {
    let server = serving_fixture_keys();
    server.set_header("Cache-Control", "max-age=600");
    let realms = build(&server.url("/jwks.json"), &[server.ca_path()], json!({})).unwrap();
    assert!(authenticates(&realms));
    assert_eq!(server.requests(), 1);

    // Other keys on the server: a realm built now no longer knows the token's key.
    server.set_body(json!({"keys": []}).to_string());
    let realms = build(&server.url("/jwks.json"), &[server.ca_path()], json!({})).unwrap();
    assert!(!authenticates(&realms));
    // Fetched when built, and once more after the signature failure.
    assert_eq!(server.requests(), 3);
}

const NOW: u64 = 1_750_000_000;

fn ec_claims(sub: &str) -> Value {
    json!({"iss": "https://issuer.example.com/", "aud": "es02", "sub": sub, "email": "x@example.com",
           "iat": NOW - 10, "exp": NOW + 600})
}

fn ec_realm(server: &JwksServer, extra: Value) -> Realms {
    let mut settings = json!({"allowed_signature_algorithms": ["ES256"], "jwt.cache.ttl": "0s"});
    settings.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    build(&server.url("/jwks.json"), &[server.ca_path()], settings).unwrap()
}

fn ok(realms: &Realms, token: &str) -> bool {
    let bearer = format!("Bearer {token}");
    realms.authenticate([("Authorization", bearer.as_str())], UNIX_EPOCH + Duration::from_secs(NOW)).is_ok()
}

#[test]
fn keys_rotated_at_the_endpoint_are_fetched_after_a_signature_failure() {
    let (a, b) = (EcKey::generate("a"), EcKey::generate("b"));
    let server = JwksServer::start();
    server.set_body(jwk_set(&[&a]));
    let realms = ec_realm(&server, json!({}));
    let realm = &realms.realms()[0];
    assert!(ok(&realms, &a.sign(&ec_claims("alice"))));
    assert_eq!(server.requests(), 1);
    // The issuer rotates: the first token of the new key fetches the set again.
    server.set_body(jwk_set(&[&b]));
    assert!(ok(&realms, &b.sign(&ec_claims("bob"))));
    assert!(!ok(&realms, &a.sign(&ec_claims("alice"))), "the old key is gone");
    assert_eq!(server.requests(), 3);
    let status = realm.jwk_set_status().unwrap();
    assert_eq!((status.reloads, status.changes, status.keys), (2, 1, 1));
    // The endpoint fails: the last good keys stay, and the status says why.
    server.set_status(503);
    assert!(!ok(&realms, &a.sign(&ec_claims("alice"))));
    assert!(ok(&realms, &b.sign(&ec_claims("bob"))));
    let error = realm.jwk_set_status().unwrap().last_error.unwrap();
    assert!(error.contains("503") && error.contains("pkc_jwkset_path"), "{error}");
}

#[test]
fn concurrent_failures_share_one_fetch() {
    let (a, b) = (EcKey::generate("a"), EcKey::generate("b"));
    let server = JwksServer::start();
    server.set_body(jwk_set(&[&a]));
    let realms = ec_realm(&server, json!({}));
    // A slow endpoint: the threads that fail meanwhile wait for the same fetch.
    server.set_delay(Duration::from_millis(1500));
    let barrier = std::sync::Barrier::new(6);
    std::thread::scope(|scope| {
        for i in 0..6 {
            let (realms, barrier, b) = (&realms, &barrier, &b);
            scope.spawn(move || {
                let token = b.sign(&ec_claims(&format!("user-{i}")));
                barrier.wait();
                assert!(!ok(realms, &token), "the key is unknown");
            });
        }
    });
    let fetches = server.requests() - 1;
    assert!((1..=2).contains(&fetches), "{fetches} fetches for six failures");
}

#[test]
fn a_trust_store_is_refused_rather_than_ignored() {
    let server = serving_fixture_keys();
    let e = build(&server.url("/jwks.json"), &[], json!({"ssl.truststore.path": "truststore.p12"})).unwrap_err();
    assert!(e.contains("ssl.truststore.path") && e.contains("ssl.certificate_authorities"), "{e}");
    assert_eq!(server.requests(), 0);
}

#[test]
fn url_sets_are_fetched_again_when_the_server_says_they_expire() {
    let (a, b) = (EcKey::generate("a"), EcKey::generate("b"));
    let server = JwksServer::start();
    server.set_body(jwk_set(&[&a]));
    server.set_header("Cache-Control", "max-age=1");
    let reload = json!({"pkc_jwkset_reload.enabled": true, "pkc_jwkset_reload.url_interval_min": "1s",
                        "pkc_jwkset_reload.url_interval_max": "2s"});
    let realms = ec_realm(&server, reload);
    server.set_body(jwk_set(&[&a, &b]));
    let realm = &realms.realms()[0];
    wait_until("the set was fetched again", || realm.jwk_set_status().unwrap().keys == 2);
    assert!(ok(&realms, &b.sign(&ec_claims("bob"))));
    // Dropping the realms stops the background fetches.
    drop(realms);
    let after = server.requests();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(server.requests() <= after + 1, "still fetching after the realms were dropped");
}

#[test]
fn https_by_ip_address_checks_the_address_in_the_certificate() {
    let server = serving_fixture_keys();
    let url = format!("https://127.0.0.1:{}/jwks.json", server.port());
    let realms = build(&url, &[server.ca_path()], json!({})).unwrap();
    assert!(authenticates(&realms));
}

#[test]
fn https_server_of_an_untrusted_ca_is_refused() {
    let server = serving_fixture_keys();
    // No CA configured: the system's trust, which does not know the test CA.
    // (A machine with no system roots at all fails earlier, building the client.)
    let e = build(&server.url("jwks.json"), &[], json!({})).unwrap_err();
    let setting = "setting `xpack.security.authc.realms.jwt.remote.pkc_jwkset_path`";
    assert!(
        e.contains(&format!("failed to fetch contents for {setting}"))
            || e.contains(&format!("cannot build the client for {setting}")),
        "{e}"
    );
    assert!(e.contains("certificate"), "{e}");
    // Another server's CA is no better.
    let other = JwksServer::start();
    let e = build(&server.url("jwks.json"), &[other.ca_path()], json!({})).unwrap_err();
    assert!(e.contains("certificate"), "{e}");
    assert_eq!(server.requests(), 0);
}

#[test]
fn https_missing_ca_file_is_a_clear_error() {
    let server = serving_fixture_keys();
    let missing = server.ca_path().with_file_name("no-such-ca.pem");
    let e = build(&server.url("jwks.json"), &[missing], json!({})).unwrap_err();
    assert!(e.contains("ssl.certificate_authorities") && e.contains("no-such-ca.pem"), "{e}");
    assert_eq!(server.requests(), 0);
}

#[test]
fn https_status_other_than_200_is_an_error() {
    let server = serving_fixture_keys();
    for (status, reason) in [(404, "not found"), (500, "internal server error")] {
        server.set_status(status);
        let e = build(&server.url("jwks.json"), &[server.ca_path()], json!({})).unwrap_err();
        assert!(e.contains(&format!("status {status}, reason {reason}")), "{e}");
        assert!(!e.contains("\"keys\""), "no body in messages: {e}");
    }
    // Redirects are not followed.
    server.set_status(302);
    server.set_header("Location", &server.url("elsewhere.json"));
    let e = build(&server.url("jwks.json"), &[server.ca_path()], json!({})).unwrap_err();
    assert!(e.contains("status 302") && e.contains("redirects are not followed"), "{e}");
    assert_eq!(server.requests(), 3);
}

#[test]
fn https_body_over_the_limit_is_an_error() {
    let server = JwksServer::start();
    let limit = rolemap::jwt::keys::MAX_JWK_SET_LEN;
    server.set_body(format!("{{\"keys\": [], \"pad\": \"{}\"}}", "a".repeat(limit)));
    let e = build(&server.url("jwks.json"), &[server.ca_path()], json!({})).unwrap_err();
    assert!(e.contains("more than the limit"), "{e}");
    // Without a length announced, the client stops reading one byte past the limit.
    server.set_content_length(false);
    let e = build(&server.url("jwks.json"), &[server.ca_path()], json!({})).unwrap_err();
    assert!(e.contains("more than the limit"), "{e}");
    // Exactly the limit is still read, and reaches the JWK set parser.
    server.set_body("x".repeat(limit));
    let e = build(&server.url("jwks.json"), &[server.ca_path()], json!({})).unwrap_err();
    assert!(e.contains("JWKSet parse failed"), "{e}");
}

#[test]
fn https_body_that_is_not_utf8_or_not_a_jwk_set_is_an_error() {
    let server = JwksServer::start();
    server.set_body_bytes(b"{\"keys\": [\xff]}".to_vec());
    let e = build(&server.url("jwks.json"), &[server.ca_path()], json!({})).unwrap_err();
    assert!(e.contains("not UTF-8"), "{e}");
    server.set_body("<html>not json</html>".to_owned());
    let e = build(&server.url("jwks.json"), &[server.ca_path()], json!({})).unwrap_err();
    assert!(e.contains("JWKSet parse failed for setting"), "{e}");
    assert!(!e.contains("<html>"), "{e}");
}

#[test]
fn https_slow_server_times_out() {
    let server = serving_fixture_keys();
    server.set_delay(Duration::from_secs(4));
    let timeouts =
        json!({"http.connect_timeout": "1s", "http.connection_read_timeout": "1s", "http.socket_timeout": "1s"});
    let started = Instant::now();
    let e = build(&server.url("jwks.json"), &[server.ca_path()], timeouts).unwrap_err();
    let took = started.elapsed();
    assert!(e.contains("timed out"), "{e}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn https_user_information_never_shows_in_messages() {
    let server = serving_fixture_keys();
    server.set_status(404);
    let url = format!("https://alice:s3cret@localhost:{}/jwks.json", server.port());
    let e = build(&url, &[server.ca_path()], json!({})).unwrap_err();
    assert!(!e.contains("s3cret") && !e.contains("alice"), "{e}");
    assert!(e.contains(&format!("`https://localhost:{}/jwks.json`", server.port())), "{e}");
    assert!(e.contains("status 404"), "{e}");
}

#[test]
fn https_plain_http_is_refused_by_the_settings() {
    let e = build("http://localhost:1/jwks.json", &[], json!({})).unwrap_err();
    assert!(e.contains("only HTTPS is supported"), "{e}");
}

#[test]
fn https_through_the_configured_proxy() {
    let server = serving_fixture_keys();
    let proxy = crate::common::https::ConnectProxy::start();
    let via_proxy = json!({"http.proxy.host": "127.0.0.1", "http.proxy.port": proxy.port()});
    let realms = build(&server.url("jwks.json"), &[server.ca_path()], via_proxy).unwrap();
    assert!(authenticates(&realms));
    assert_eq!((proxy.tunnels(), server.requests()), (1, 1));
    // The certificate is still checked end to end through the tunnel.
    let via_proxy = json!({"http.proxy.host": "127.0.0.1", "http.proxy.port": proxy.port()});
    let e = build(&server.url("jwks.json"), &[], via_proxy).unwrap_err();
    assert!(e.contains("certificate"), "{e}");
    assert_eq!(proxy.tunnels(), 2);
}
