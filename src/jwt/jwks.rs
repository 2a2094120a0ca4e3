//! A realm's public-key JWK set (`pkc_jwkset_path`) and its reloads.
//!
//! As in Elasticsearch (`JwkSetLoader`, `PkcJwtSignatureValidator`):
//! - the set is read at start, and a failure there is a configuration error;
//! - after a signature failure the set is read again, once for all the
//!   requests that fail meanwhile (they wait for the same read); if its bytes
//!   changed, the new keys replace the old, the realm's token cache is
//!   cleared and the token is verified again; if not, the first failure
//!   stands;
//! - with `pkc_jwkset_reload.enabled`, a background thread reads files every
//!   `file_interval` and URLs when the server says the set expires
//!   (`Cache-Control: max-age` or `Expires`), within `url_interval_min` and
//!   `url_interval_max`, give or take 1%.
//!
//! A read that fails or yields a set that does not parse keeps the last good
//! keys; [`JwkSetStatus`] says what happened. HMAC keys come from secure
//! settings, which Elasticsearch does not reload, and are not handled here.

use super::cache::TokenCache;
use super::keys::{self, Algorithm, Jwk, MAX_JWK_SET_LEN};
use super::settings::{JwkSetLocation, JwkSetReload};
use arc_swap::ArcSwap;
use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, SystemTime};

/// Where the set is read from.
enum Source {
    File(PathBuf),
    #[cfg(feature = "https")]
    Url {
        url: String,
        client: super::fetch::HttpsClient,
    },
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(path) => f.debug_tuple("File").field(path).finish(),
            #[cfg(feature = "https")]
            Source::Url { url, .. } => f.debug_tuple("Url").field(&super::fetch::redact_url(url)).finish(),
        }
    }
}

/// One read of the set.
struct Contents {
    text: String,
    /// How long the server said the content stays fresh (URLs only).
    expires_in: Option<Duration>,
}

impl Source {
    fn read(&self, now: SystemTime) -> Result<Contents, String> {
        #[cfg(not(feature = "https"))]
        let _ = now;
        match self {
            Source::File(path) => {
                let shown = path.display();
                let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
                // One byte past the limit tells a file that is too long.
                let mut bytes = Vec::new();
                file.take(MAX_JWK_SET_LEN as u64 + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|e| format!("cannot read `{shown}`: {e}"))?;
                if bytes.len() > MAX_JWK_SET_LEN {
                    return Err(format!("`{shown}` is longer than {MAX_JWK_SET_LEN} bytes"));
                }
                let text = String::from_utf8(bytes).map_err(|_| format!("`{shown}` is not UTF-8"))?;
                Ok(Contents { text, expires_in: None })
            }
            #[cfg(feature = "https")]
            Source::Url { url, client } => {
                let fetched = client.get(url, now)?;
                Ok(Contents { text: fetched.body, expires_in: fetched.expires_in })
            }
        }
    }

    fn is_url(&self) -> bool {
        !matches!(self, Source::File(_))
    }
}

/// The keys in force, with the digest of the bytes they came from.
#[derive(Debug)]
pub(crate) struct KeySnapshot {
    pub(crate) keys: Vec<Jwk>,
    digest: [u8; 32],
    /// Counts the changes of content since start; cache entries carry the
    /// generation their token was verified with.
    pub(crate) generation: u64,
}

/// What a realm's public-key set has been through, for operators.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwkSetStatus {
    /// Keys in force (after filtering by the realm's algorithms).
    pub keys: usize,
    /// Reads of the set since start, the first excluded.
    pub reloads: u64,
    /// Reads that found different content and replaced the keys.
    pub changes: u64,
    /// Why the latest read failed, if it did; the keys of the last good read
    /// stay in force meanwhile.
    pub last_error: Option<String>,
}

/// Whether a reload replaced the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reloaded {
    Changed,
    Unchanged,
    Failed,
}

#[derive(Default)]
struct Flight {
    running: bool,
    /// Reloads finished so far; a waiter waits for this to move.
    finished: u64,
    last: Option<Reloaded>,
    /// What the server said at the last read, for the waiters.
    expires_in: Option<Duration>,
    last_error: Option<String>,
}

/// Ends a flight when dropped.
struct Landing<'a> {
    keys: &'a PkcKeys,
    outcome: Reloaded,
    expires_in: Option<Duration>,
    error: Option<String>,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        self.keys.reloads.fetch_add(1, Ordering::Relaxed);
        let mut flight = self.keys.lock();
        flight.running = false;
        flight.finished += 1;
        flight.last = Some(self.outcome);
        flight.expires_in = self.expires_in;
        flight.last_error = self.error.take();
        drop(flight);
        self.keys.done.notify_all();
    }
}

/// A realm's public-key set, shared by the requests and the reload thread.
pub(crate) struct PkcKeys {
    /// The full `pkc_jwkset_path` key and its value, for messages.
    setting: String,
    source: Source,
    algorithms: Vec<Algorithm>,
    pub(crate) reload: JwkSetReload,
    /// What the server said at the first read (URLs), for the first
    /// background reload.
    first_expires_in: Option<Duration>,
    current: ArcSwap<KeySnapshot>,
    flight: Mutex<Flight>,
    done: Condvar,
    reloads: AtomicU64,
    changes: AtomicU64,
}

impl fmt::Debug for PkcKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PkcKeys")
            .field("source", &self.source)
            .field("keys", &self.current.load().keys.len())
            .finish_non_exhaustive()
    }
}

impl PkcKeys {
    /// Reads the set for the first time; an error is a configuration error.
    pub(crate) fn load(
        setting: String,
        location: &JwkSetLocation,
        algorithms: Vec<Algorithm>,
        reload: JwkSetReload,
        settings: &super::settings::RealmSettings,
        now: SystemTime,
    ) -> Result<PkcKeys, String> {
        let source = match location {
            JwkSetLocation::File(path) => Source::File(path.clone()),
            #[cfg(feature = "https")]
            JwkSetLocation::Url(url) => {
                let client = super::fetch::HttpsClient::new(&settings.http, &settings.ssl_certificate_authorities)
                    .map_err(|e| {
                        let shown = super::fetch::redact_url(url);
                        format!("cannot build the client for setting `{setting}` value `{shown}`: {e}")
                    })?;
                Source::Url { url: url.clone(), client }
            }
            #[cfg(not(feature = "https"))]
            JwkSetLocation::Url(url) => {
                let _ = settings;
                let _ = url;
                return Err(format!(
                    "`{setting}` is a URL, but this build has no HTTPS client (feature `https`); use a file"
                ));
            }
        };
        let shown = location_str(location);
        let verb = if source.is_url() { "fetch" } else { "read" };
        let read = source
            .read(now)
            .map_err(|e| format!("failed to {verb} contents for setting `{setting}` value `{shown}`: {e}"))?;
        let (keys, digest) = parse(&read.text, &algorithms)
            .map_err(|e| format!("JWKSet parse failed for setting `{setting}` value `{shown}`: {e}"))?;
        let snapshot = KeySnapshot { keys, digest, generation: 0 };
        let pkc = PkcKeys {
            setting,
            source,
            algorithms,
            reload,
            first_expires_in: read.expires_in,
            current: ArcSwap::from_pointee(snapshot),
            flight: Mutex::new(Flight::default()),
            done: Condvar::new(),
            reloads: AtomicU64::new(0),
            changes: AtomicU64::new(0),
        };
        Ok(pkc)
    }

    /// The keys in force now.
    pub(crate) fn snapshot(&self) -> Arc<KeySnapshot> {
        self.current.load_full()
    }

    /// The generation in force now.
    pub(crate) fn generation(&self) -> u64 {
        self.current.load().generation
    }

    pub(crate) fn status(&self) -> JwkSetStatus {
        JwkSetStatus {
            keys: self.current.load().keys.len(),
            reloads: self.reloads.load(Ordering::Relaxed),
            changes: self.changes.load(Ordering::Relaxed),
            last_error: self.lock().last_error.clone(),
        }
    }

    pub(crate) fn is_url(&self) -> bool {
        self.source.is_url()
    }

    fn lock(&self) -> MutexGuard<'_, Flight> {
        self.flight.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the set again, or waits for the read already under way and
    /// takes its outcome: concurrent failures cause one read, not many.
    /// Returns the outcome and, for URLs, how long the server says the new
    /// content stays fresh.
    pub(crate) fn reload(&self, now: SystemTime) -> (Reloaded, Option<Duration>) {
        let mut flight = self.lock();
        if flight.running {
            let ticket = flight.finished;
            while flight.finished == ticket {
                flight = self.done.wait(flight).unwrap_or_else(PoisonError::into_inner);
            }
            return (flight.last.unwrap_or(Reloaded::Failed), flight.expires_in);
        }
        flight.running = true;
        drop(flight);
        // Whatever happens in the read, even a panic, the flight ends and
        // the waiters wake: otherwise every later reload would wait forever.
        let error = Some(format!("reload of setting `{}` did not finish", self.setting));
        let mut landing = Landing { keys: self, outcome: Reloaded::Failed, expires_in: None, error };
        // The read (maybe a network round trip) happens outside the lock.
        let (outcome, expires_in, error) = self.read_again(now);
        (landing.outcome, landing.expires_in, landing.error) = (outcome, expires_in, error);
        (outcome, expires_in)
    }

    fn read_again(&self, now: SystemTime) -> (Reloaded, Option<Duration>, Option<String>) {
        let read = match self.source.read(now) {
            Ok(read) => read,
            Err(e) => {
                let message = format!("failed to reload contents for setting `{}`: {e}", self.setting);
                return (Reloaded::Failed, None, Some(message));
            }
        };
        let current = self.current.load();
        if digest(&read.text) == current.digest {
            return (Reloaded::Unchanged, read.expires_in, None);
        }
        match parse(&read.text, &self.algorithms) {
            Ok((keys, digest)) => {
                let generation = current.generation + 1;
                self.current.store(Arc::new(KeySnapshot { keys, digest, generation }));
                self.changes.fetch_add(1, Ordering::Relaxed);
                (Reloaded::Changed, read.expires_in, None)
            }
            Err(e) => {
                let message = format!("JWKSet parse failed on reload of setting `{}`: {e}", self.setting);
                (Reloaded::Failed, read.expires_in, Some(message))
            }
        }
    }

    /// When the background thread should read the set next, `expires_in`
    /// being what the server said at the last read; `jitter` in [0, 1).
    pub(crate) fn next_interval(&self, expires_in: Option<Duration>, jitter: f64) -> Duration {
        next_interval(&self.reload, self.is_url(), expires_in, jitter)
    }

    /// The interval until the first background reload.
    pub(crate) fn first_interval(&self) -> Duration {
        let jitter = unit(xorshift(jitter_seed()));
        self.next_interval(self.first_expires_in, jitter)
    }
}

/// The shortest time between two background reads of one set.
pub(crate) const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// File sets are polled every `file_interval` (at least [`MIN_INTERVAL`]); URL sets when the server
/// says they expire, clamped to `[url_interval_min, url_interval_max]`
/// (the minimum when it says nothing), then moved by up to ±1% so that
/// nodes do not all fetch at the same moment.
pub(crate) fn next_interval(reload: &JwkSetReload, url: bool, expires_in: Option<Duration>, jitter: f64) -> Duration {
    if !url {
        // A zero interval would spin on the file.
        return reload.file_interval.max(MIN_INTERVAL);
    }
    let wanted = expires_in.unwrap_or(reload.url_interval_min);
    let clamped = wanted.clamp(reload.url_interval_min, reload.url_interval_max.max(reload.url_interval_min));
    let factor = 0.99 + 0.02 * jitter.clamp(0.0, 1.0);
    clamped.mul_f64(factor).max(MIN_INTERVAL)
}

fn location_str(location: &JwkSetLocation) -> String {
    match location {
        JwkSetLocation::File(path) => path.display().to_string(),
        #[cfg(feature = "https")]
        JwkSetLocation::Url(url) => super::fetch::redact_url(url),
        #[cfg(not(feature = "https"))]
        JwkSetLocation::Url(url) => url.clone(),
    }
}

fn digest(text: &str) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Parses and filters a set by the realm's public-key algorithms.
fn parse(text: &str, algorithms: &[Algorithm]) -> Result<(Vec<Jwk>, [u8; 32]), keys::KeyError> {
    let set = keys::parse_jwk_set(text)?;
    Ok((set.filter(algorithms).into_keys(), digest(text)))
}

/// A set the background thread reads, the token cache to empty when its
/// keys change, and the time until its first read.
pub(crate) type ReloadedSet = (Weak<PkcKeys>, Option<Weak<TokenCache>>, Duration);

/// The background reloads of one realm chain: one thread for all the realms
/// with `pkc_jwkset_reload.enabled`, stopped when the chain is dropped.
pub(crate) struct Reloader {
    stop: Arc<(Mutex<bool>, Condvar)>,
}

impl fmt::Debug for Reloader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reloader")
    }
}

impl Drop for Reloader {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        // Not joined: the thread may be in the middle of a fetch; it sees the
        // flag (or that its sets are gone) as soon as it is done.
        wake.notify_all();
    }
}

impl Reloader {
    /// Starts the thread over `sets`, each with the interval until its first
    /// reload. The thread holds only weak references, so dropping the realms
    /// frees the sets even before the thread has noticed.
    pub(crate) fn start(sets: Vec<ReloadedSet>) -> Result<Reloader, String> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let flag = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("rolemap-jwkset-reload".into())
            .spawn(move || run(sets, &flag))
            .map_err(|e| format!("cannot start the JWK set reload thread: {e}"))?;
        Ok(Reloader { stop })
    }
}

fn run(sets: Vec<ReloadedSet>, stop: &(Mutex<bool>, Condvar)) {
    let start = std::time::Instant::now();
    let mut due: Vec<(Weak<PkcKeys>, Option<Weak<TokenCache>>, std::time::Instant)> =
        sets.into_iter().map(|(set, cache, interval)| (set, cache, start + interval)).collect();
    let mut seed = jitter_seed();
    let (stopped, wake) = stop;
    loop {
        let Some(next) = due.iter().map(|(_, _, at)| *at).min() else { return };
        {
            let mut flag = stopped.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if *flag {
                    return;
                }
                let now = std::time::Instant::now();
                if now >= next {
                    break;
                }
                flag = wake.wait_timeout(flag, next - now).unwrap_or_else(PoisonError::into_inner).0;
            }
        }
        let now = std::time::Instant::now();
        let mut alive = false;
        // Sets whose realms are gone are dropped, so their due times do not
        // keep the loop awake.
        due.retain(|(weak, _, _)| weak.strong_count() > 0);
        for (weak, cache, at) in &mut due {
            let Some(set) = weak.upgrade() else { continue };
            alive = true;
            if *at > now {
                continue;
            }
            let (outcome, expires_in) = set.reload(SystemTime::now());
            if outcome == Reloaded::Changed
                && let Some(cache) = cache.as_ref().and_then(std::sync::Weak::upgrade)
            {
                cache.clear();
            }
            seed = xorshift(seed);
            *at = std::time::Instant::now() + set.next_interval(expires_in, unit(seed));
        }
        if !alive {
            return;
        }
    }
}

fn jitter_seed() -> u64 {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    nanos | 1
}

/// A number in [0, 1) from the top 53 bits of `x`.
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reload() -> JwkSetReload {
        JwkSetReload {
            enabled: true,
            file_interval: Duration::from_secs(300),
            url_interval_min: Duration::from_secs(3600),
            url_interval_max: Duration::from_secs(5 * 86400),
        }
    }

    #[test]
    fn files_are_polled_at_their_interval() {
        assert_eq!(next_interval(&reload(), false, Some(Duration::from_secs(1)), 0.5), Duration::from_secs(300));
    }

    #[test]
    fn urls_follow_the_server_within_the_bounds() {
        let r = reload();
        let near = |d: Duration, want: u64| {
            let want = want as f64;
            (d.as_secs_f64() - want).abs() <= want * 0.01 + 1e-6
        };
        assert!(near(next_interval(&r, true, None, 0.3), 3600), "nothing said: the minimum");
        assert!(near(next_interval(&r, true, Some(Duration::from_secs(60)), 0.3), 3600));
        assert!(near(next_interval(&r, true, Some(Duration::from_secs(7200)), 0.3), 7200));
        assert!(near(next_interval(&r, true, Some(Duration::from_secs(10 * 86400)), 0.3), 5 * 86400));
        assert_eq!(
            next_interval(&r, true, Some(Duration::from_secs(7200)), 0.0),
            Duration::from_secs(7200).mul_f64(0.99)
        );
        assert_eq!(
            next_interval(&r, true, Some(Duration::from_secs(7200)), 1.0),
            Duration::from_secs(7200).mul_f64(1.01)
        );
    }

    #[test]
    fn xorshift_jitter_stays_in_range() {
        let mut seed = jitter_seed();
        for _ in 0..1000 {
            seed = xorshift(seed);
            assert!((0.0..1.0).contains(&unit(seed)));
        }
    }
}
