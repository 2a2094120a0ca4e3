//! The HTTPS client that fetches a `pkc_jwkset_path` given as an `https://` URL.
//!
//! Elasticsearch downloads such a JWK set with an Apache HTTP client that the realm's `http.*`
//! settings tune and whose trust is the realm's `ssl.certificate_authorities` (which replace the
//! JDK's default trust store) or else the platform's. [`HttpsClient`] is the same client here:
//! built once per realm from those settings, then asked for the set at start and at every
//! reload. It speaks TLS 1.2 and 1.3 through rustls on the aws-lc-rs provider (the one the
//! signatures already use), always verifies the certificate chain and host name, accepts only
//! `200 OK`, reads at most [`MAX_JWK_SET_LEN`] bytes, and reports how long the server said the
//! set may be cached (`Cache-Control: max-age`, `Expires`) so that reloads can be scheduled.
//!
//! Error messages are lowercase, show the URL without its user information (a
//! `https://user:password@host/` URL must not leak into logs), and never quote a response body.

use super::keys::MAX_JWK_SET_LEN;
use super::settings::HttpSettings;
use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
use ureq::{Agent, Proxy, ProxyProtocol};

/// What a GET of the JWK set URL returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fetched {
    /// The body: UTF-8, at most [`MAX_JWK_SET_LEN`] bytes.
    pub(crate) body: String,
    /// From `Cache-Control: max-age=N` (wins) or `Expires` minus `Date` (or minus `now`), None
    /// when neither / unparseable / no-cache.
    pub(crate) expires_in: Option<Duration>,
}

/// A blocking HTTPS client for one realm's JWK set URL. Cheap to share: the connection pool and
/// the TLS configuration live behind an [`Arc`] inside the agent.
pub(crate) struct HttpsClient {
    agent: Agent,
    /// For `Debug` only: the CA files (empty: the system's trust) and how many roots they gave.
    certificate_authorities: Vec<PathBuf>,
    roots: usize,
    http: HttpSettings,
}

impl fmt::Debug for HttpsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpsClient")
            .field("certificate_authorities", &self.certificate_authorities)
            .field("roots", &self.roots)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

/// The setting named in trust errors, as the user wrote it.
const CA_SETTING: &str = "ssl.certificate_authorities";

impl HttpsClient {
    /// Builds the client of a realm. Fails when a CA file cannot be read or holds no valid
    /// certificate, or when no CA is configured and the system has no trusted root at all.
    pub(crate) fn new(http: &HttpSettings, certificate_authorities: &[PathBuf]) -> Result<HttpsClient, String> {
        // Configured CAs replace the system's trust, as `ssl.certificate_authorities` replaces
        // the JDK's default trust store in Elasticsearch.
        let roots = if certificate_authorities.is_empty() {
            system_roots()?
        } else {
            let mut roots = Vec::new();
            for path in certificate_authorities {
                roots.extend(read_ca_file(path)?);
            }
            roots
        };
        let count = roots.len();
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            // Our own provider rather than ureq's `ring` default or a process-wide one that some
            // other part of the program might install.
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .root_certs(RootCerts::Specific(Arc::new(roots)))
            .build();
        // Elasticsearch uses only the `http.proxy.*` settings, never the environment: without
        // `proxy(None)` ureq would pick up `HTTPS_PROXY` and friends.
        let proxy = match &http.proxy_host {
            None => None,
            Some(host) => Some(
                Proxy::builder(ProxyProtocol::Http)
                    .host(host)
                    .port(http.proxy_port)
                    .build()
                    .map_err(|e| format!("invalid setting `http.proxy.host` value `{host}`: {e}"))?,
            ),
        };
        let config = Agent::config_builder()
            .tls_config(tls)
            .proxy(proxy)
            .https_only(true)
            // The status is judged here (only 200 is a JWK set), so every response comes back.
            .http_status_as_error(false)
            // Redirects are not followed: a 3xx is an error that names its status. The set must
            // be served at the configured URL.
            .max_redirects(0)
            // Apache's `ConnectTimeout`: establishing the TCP connection (and, in ureq, the proxy
            // CONNECT and the TLS handshake, which belong to the same phase).
            .timeout_connect(timeout(http.connect_timeout))
            // Apache's `SocketTimeout` is the longest silence on the socket: ureq's per-read
            // (and per-write) limit, restarted at each transfer.
            .timeout_per_read(timeout(http.socket_timeout))
            .timeout_per_write(timeout(http.socket_timeout))
            // Elasticsearch passes `connection_read_timeout` as Apache's `ConnectionRequestTimeout`,
            // the wait for a pooled connection; ureq never waits for one (it opens a new
            // connection instead), so the closest knob is the total wait for the response
            // headers once the request is sent.
            .timeout_recv_response(timeout(http.connection_read_timeout))
            // The per-read limit restarts with every byte, so a server that
            // trickles its answer could hold a fetch (and the requests that
            // wait for it) for ever: the whole fetch gets the sum of the
            // three, unless one of them is zero (no limit, as configured).
            .timeout_global(total_timeout(http))
            // ureq's pool only bounds idle connections; Apache's `max_connections` /
            // `max_endpoint_connections` bound all of them. A realm fetches one URL, one request
            // at a time in practice, so the idle limits are the closest equivalent.
            .max_idle_connections(usize::try_from(http.max_connections).unwrap_or(usize::MAX))
            .max_idle_connections_per_host(usize::try_from(http.max_endpoint_connections).unwrap_or(usize::MAX))
            .user_agent(concat!("rolemap/", env!("CARGO_PKG_VERSION")))
            .accept("application/json, */*")
            .build();
        Ok(HttpsClient {
            agent: config.new_agent(),
            certificate_authorities: certificate_authorities.to_vec(),
            roots: count,
            http: http.clone(),
        })
    }

    /// GETs `url` and returns its body and how long it may be cached, `now` standing for the
    /// current time when the response has no `Date`.
    pub(crate) fn get(&self, url: &str, now: SystemTime) -> Result<Fetched, String> {
        let shown = redact_url(url);
        let fail = |reason: String| format!("get `{shown}` failed: {reason}");
        if !url.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://")) {
            return Err(fail("only https urls are supported".to_owned()));
        }
        let mut response = self.agent.get(url).call().map_err(|e| fail(describe(&e, url, &shown)))?;
        let status = response.status();
        if status.as_u16() != 200 {
            let reason = status.canonical_reason().unwrap_or("unknown").to_lowercase();
            let note = if status.is_redirection() { " (redirects are not followed)" } else { "" };
            return Err(fail(format!("status {}, reason {reason}{note}", status.as_u16())));
        }
        let headers = response.headers();
        let values = |name: &str| -> Vec<String> {
            headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
        };
        let cache_control = values("cache-control");
        let expires = values("expires").into_iter().next();
        let date = values("date").into_iter().next();
        let limit = MAX_JWK_SET_LEN;
        if let Some(length) = response.body().content_length()
            && length > limit as u64
        {
            return Err(fail(format!("the body is {length} bytes, more than the limit of {limit}")));
        }
        let mut bytes = Vec::new();
        // One byte over the limit tells a too-long body from one that is exactly the limit.
        let read = response
            .body_mut()
            .with_config()
            .reader()
            .take(limit as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| fail(format!("reading the body: {}", describe(&ureq::Error::from(e), url, &shown))))?;
        if read > limit {
            return Err(fail(format!("the body is more than the limit of {limit} bytes")));
        }
        let body = String::from_utf8(bytes).map_err(|e| {
            fail(format!("the body is not UTF-8 (invalid byte at offset {})", e.utf8_error().valid_up_to()))
        })?;
        let cache_control: Vec<&str> = cache_control.iter().map(String::as_str).collect();
        let expires_in = expires_in(&cache_control, expires.as_deref(), date.as_deref(), now);
        Ok(Fetched { body, expires_in })
    }
}

/// `0` means no limit in Apache's client, as in Elasticsearch's settings.
fn timeout(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

/// The bound of a whole fetch: the three timeouts added, or none when any
/// of them is zero.
fn total_timeout(http: &HttpSettings) -> Option<Duration> {
    let parts = [http.connect_timeout, http.connection_read_timeout, http.socket_timeout];
    if parts.iter().any(Duration::is_zero) {
        return None;
    }
    Some(parts.iter().fold(Duration::ZERO, |sum, d| sum.saturating_add(*d)))
}

/// The platform's trusted roots, as rustls-native-certs finds them (on Linux: `SSL_CERT_FILE`,
/// `SSL_CERT_DIR` or the distribution's bundle).
fn system_roots() -> Result<Vec<Certificate<'static>>, String> {
    let found = rustls_native_certs::load_native_certs();
    let roots: Vec<Certificate<'static>> =
        found.certs.iter().map(|der| Certificate::from_der(der.as_ref()).to_owned()).collect();
    if roots.is_empty() {
        let why = found.errors.first().map(|e| format!(" ({e})")).unwrap_or_default();
        return Err(format!(
            "no trusted certificate authority found in the system trust store{why}; set `{CA_SETTING}`"
        ));
    }
    Ok(roots)
}

/// The CA certificates of one PEM file; every one must be a valid trust anchor.
fn read_ca_file(path: &Path) -> Result<Vec<Certificate<'static>>, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    let shown = path.display();
    let fail = |reason: String| format!("`{CA_SETTING}` file `{shown}`: {reason}");
    let pem = std::fs::read(path).map_err(|e| fail(format!("cannot be read: {e}")))?;
    let mut store = rustls::RootCertStore::empty();
    let mut roots = Vec::new();
    for (n, der) in CertificateDer::pem_slice_iter(&pem).enumerate() {
        let der = der.map_err(|e| fail(format!("invalid PEM: {e}")))?;
        // The store parses the certificate as a trust anchor: a garbled one fails here rather
        // than being skipped silently by ureq.
        store.add(der.clone()).map_err(|e| fail(format!("certificate {} is not valid: {e}", n + 1)))?;
        roots.push(Certificate::from_der(der.as_ref()).to_owned());
    }
    if roots.is_empty() {
        return Err(fail("holds no PEM certificate".to_owned()));
    }
    Ok(roots)
}

/// `url` without the user information of its authority.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{tail}"),
        None => url.to_owned(),
    }
}

/// A short, lowercase reason for a failed request, never holding the URL's user information.
fn describe(e: &ureq::Error, url: &str, shown: &str) -> String {
    use ureq::Error as E;
    let text = match e {
        E::Timeout(which) => format!("timed out ({which})"),
        E::HostNotFound => "host not found".to_owned(),
        E::ConnectionFailed => "connection failed".to_owned(),
        E::BadUri(_) | E::Http(_) => "invalid url".to_owned(),
        E::Rustls(tls) => format!("tls: {tls}"),
        E::Tls(tls) => format!("tls: {tls}"),
        E::Io(io) => match io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
            // A refused certificate surfaces as an I/O error wrapping the rustls one.
            Some(tls) => format!("tls: {tls}"),
            None => format!("i/o error: {io}"),
        },
        E::ConnectProxyFailed(why) => format!("proxy connect failed: {why}"),
        other => other.to_string(),
    };
    // The URL itself is never in these messages; should a variant ever quote it, show it
    // without the user information.
    if url == shown { text } else { text.replace(url, shown) }
}

/// How long a response may be cached: `Cache-Control: max-age` wins, then `Expires` minus
/// `Date` (or minus `now` when there is no valid `Date`). `no-cache` / `no-store` mean not at
/// all (`None`), as do missing or unparseable headers. An `Expires` in the past gives zero.
pub(crate) fn expires_in(
    cache_control: &[&str],
    expires: Option<&str>,
    date: Option<&str>,
    now: SystemTime,
) -> Option<Duration> {
    let mut max_age = None;
    for directive in cache_control.iter().flat_map(|v| v.split(',')) {
        let (name, value) = match directive.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (directive.trim(), None),
        };
        if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
            return None;
        }
        if name.eq_ignore_ascii_case("max-age")
            && max_age.is_none()
            && let Some(v) = value.filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        {
            // RFC 9111 §1.2.2: a delta-seconds too large to hold is taken as 2^31.
            max_age = Some(v.parse::<u64>().unwrap_or(1 << 31));
        }
    }
    if let Some(seconds) = max_age {
        return Some(Duration::from_secs(seconds));
    }
    let expires = httpdate::parse_http_date(expires?.trim()).ok()?;
    let base = date.and_then(|d| httpdate::parse_http_date(d.trim()).ok()).unwrap_or(now);
    Some(expires.duration_since(base).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail by panicking")]

    use super::*;
    use std::time::UNIX_EPOCH;

    const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    const AN_HOUR_LATER: &str = "Sun, 06 Nov 1994 09:49:37 GMT";

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn fetch_max_age_wins_over_expires() {
        let now = at(784_111_777);
        assert_eq!(expires_in(&["max-age=300"], Some(AN_HOUR_LATER), Some(DATE), now), Some(Duration::from_secs(300)));
        assert_eq!(expires_in(&["public, MAX-AGE=\"60\""], None, None, now), Some(Duration::from_secs(60)));
        assert_eq!(expires_in(&["public", "max-age=7"], None, None, now), Some(Duration::from_secs(7)));
        assert_eq!(
            expires_in(&["max-age=99999999999999999999999"], None, None, now),
            Some(Duration::from_secs(1 << 31))
        );
        // A max-age that does not parse falls back to Expires.
        assert_eq!(
            expires_in(&["max-age=soon"], Some(AN_HOUR_LATER), Some(DATE), now),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(expires_in(&["max-age=-1"], None, None, now), None);
    }

    #[test]
    fn fetch_no_cache_means_none() {
        let now = at(784_111_777);
        assert_eq!(expires_in(&["no-cache"], Some(AN_HOUR_LATER), Some(DATE), now), None);
        assert_eq!(expires_in(&["max-age=60, no-store"], None, None, now), None);
        assert_eq!(expires_in(&[], None, Some(DATE), now), None);
    }

    #[test]
    fn fetch_expires_minus_date_or_now() {
        // Date is 1994-11-06T08:49:37Z = 784111777.
        assert_eq!(expires_in(&[], Some(AN_HOUR_LATER), Some(DATE), at(0)), Some(Duration::from_secs(3600)));
        // No Date, or a bad one: measured from `now`.
        assert_eq!(expires_in(&[], Some(AN_HOUR_LATER), None, at(784_111_777 + 600)), Some(Duration::from_secs(3000)));
        assert_eq!(
            expires_in(&[], Some(AN_HOUR_LATER), Some("yesterday"), at(784_111_777)),
            Some(Duration::from_secs(3600))
        );
        // In the past: already stale.
        assert_eq!(expires_in(&[], Some(DATE), Some(AN_HOUR_LATER), at(0)), Some(Duration::ZERO));
        // `Expires: 0` and other junk: no expiry known.
        assert_eq!(expires_in(&[], Some("0"), Some(DATE), at(0)), None);
        // The other two date formats of RFC 9110 are accepted too.
        assert_eq!(
            expires_in(&[], Some("Sunday, 06-Nov-94 09:49:37 GMT"), Some(DATE), at(0)),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            expires_in(&[], Some("Sun Nov  6 09:49:37 1994"), Some(DATE), at(0)),
            Some(Duration::from_secs(3600))
        );
    }

    #[test]
    fn fetch_redacts_user_information() {
        assert_eq!(
            redact_url("https://user:pa%40ss@idp.example.com:8443/jwks?x=@y"),
            "https://idp.example.com:8443/jwks?x=@y"
        );
        assert_eq!(redact_url("https://idp.example.com/a@b"), "https://idp.example.com/a@b");
        assert_eq!(redact_url("https://a@b@idp.example.com"), "https://idp.example.com");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn fetch_client_is_shareable() {
        fn send_sync<T: Send + Sync + fmt::Debug>() {}
        send_sync::<HttpsClient>();
    }

    #[test]
    fn fetch_refuses_plain_http_and_bad_ca_files() {
        let dir = std::env::temp_dir().join(format!("rolemap-fetch-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let e = HttpsClient::new(&HttpSettings::default(), std::slice::from_ref(&missing)).unwrap_err();
        assert!(e.contains("ssl.certificate_authorities") && e.contains("missing.pem"), "{e}");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let e = HttpsClient::new(&HttpSettings::default(), &[empty]).unwrap_err();
        assert!(e.contains("empty.pem") && e.contains("no PEM certificate"), "{e}");
        let garbled = dir.join("garbled.pem");
        std::fs::write(&garbled, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
        let e = HttpsClient::new(&HttpSettings::default(), &[garbled]).unwrap_err();
        assert!(e.contains("garbled.pem") && e.contains("not valid"), "{e}");
        let not_pem = dir.join("not.pem");
        std::fs::write(&not_pem, "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").unwrap();
        let e = HttpsClient::new(&HttpSettings::default(), &[not_pem]).unwrap_err();
        assert!(e.contains("not.pem"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn fetch_refuses_other_schemes_without_connecting() {
        if let Ok(client) = HttpsClient::new(&HttpSettings::default(), &[]) {
            let e = client.get("http://user:secret@127.0.0.1:9/jwks", SystemTime::now()).unwrap_err();
            assert!(e.contains("only https") && !e.contains("secret"), "{e}");
            assert!(e.starts_with("get `http://127.0.0.1:9/jwks` failed"), "{e}");
        }
    }
}
