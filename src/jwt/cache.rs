//! A realm's token cache (spec §5): users it authenticated, by the SHA-256 of
//! the bearer string, so that a token seen again skips parsing, every claim
//! check and the signature.
//!
//! As in Elasticsearch: an entry expires `jwt.cache.ttl` after it was written
//! and is honoured only while `now < exp + allowed_clock_skew`; past
//! `jwt.cache.size` entries the oldest goes; the client secret is not part of
//! the key, and client authentication is checked before the cache is read.
//! Time is the caller's `now`, so tests (and replays) control expiry.

use super::realm::AuthenticatedUser;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The SHA-256 of a bearer string.
pub(crate) type Key = [u8; 32];

/// The key of a bearer string.
pub(crate) fn key(bearer: &str) -> Key {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bearer.as_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(digest.as_ref());
    key
}

/// Counters of one realm's cache, as [`Realms::cache_stats`](super::Realms::cache_stats) reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Entries held now (expired ones are dropped as they are met).
    pub entries: usize,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that found nothing usable.
    pub misses: u64,
}

/// What an entry was made with: the role-mapping program and the
/// generation of the realm's public keys. An entry made with anything else
/// is a miss, so that a request that started before mappings or keys
/// changed cannot put a stale user back after the cache was cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tag {
    pub(crate) program: u64,
    pub(crate) keys: u64,
}

struct Entry {
    user: Arc<AuthenticatedUser>,
    tag: Tag,
    /// `exp + allowed_clock_skew`, in milliseconds: a hit needs `now` before it.
    valid_until_ms: i64,
    /// Write time plus the ttl.
    expires_ms: i64,
    /// Tells this write from an earlier one of the same key in `order`.
    seq: u64,
}

#[derive(Default)]
struct Inner {
    map: FxHashMap<Key, Entry>,
    /// Keys in write order, for eviction by size and by ttl (expire after
    /// write makes write order the expiry order). A key written again
    /// leaves a stale pair behind, skipped by its `seq`.
    order: VecDeque<(Key, u64)>,
    next_seq: u64,
}

/// One realm's cache. Enabled only when both the ttl and the size are
/// positive (a disabled realm has none).
pub(crate) struct TokenCache {
    ttl_ms: i64,
    size: usize,
    inner: Mutex<Inner>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl fmt::Debug for TokenCache {
    // Keys are token digests and entries users: neither belongs in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache").field("ttl_ms", &self.ttl_ms).field("size", &self.size).finish_non_exhaustive()
    }
}

impl TokenCache {
    /// `None` when the settings disable the cache.
    pub(crate) fn new(ttl: std::time::Duration, size: usize) -> Option<Self> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        (ttl_ms > 0 && size > 0).then(|| Self {
            ttl_ms,
            size,
            inner: Mutex::new(Inner::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map inconsistent
        // in a way that matters (entries are whole or absent).
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached user of `key`, if its entry is still good at `now_ms` and
    /// was made under `tag`.
    pub(crate) fn get(&self, key: &Key, now_ms: i64, tag: Tag) -> Option<Arc<AuthenticatedUser>> {
        let mut inner = self.lock();
        let found = match inner.map.get(key) {
            Some(e) if now_ms < e.valid_until_ms && now_ms < e.expires_ms && e.tag == tag => Some(Arc::clone(&e.user)),
            Some(_) => {
                inner.map.remove(key);
                None
            }
            None => None,
        };
        drop(inner);
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps `user`, valid until `valid_until_ms` (`exp + skew`).
    pub(crate) fn insert(&self, key: Key, user: Arc<AuthenticatedUser>, tag: Tag, valid_until_ms: i64, now_ms: i64) {
        let mut inner = self.lock();
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let expires_ms = now_ms.saturating_add(self.ttl_ms);
        inner.map.insert(key, Entry { user, tag, valid_until_ms, expires_ms, seq });
        inner.order.push_back((key, seq));
        // Drop what expired, then the oldest while over the size.
        while let Some(&(front, front_seq)) = inner.order.front() {
            let live = inner.map.get(&front).filter(|e| e.seq == front_seq);
            let evict = match live {
                None => true, // stale pair of a rewritten or removed key
                Some(e) => e.expires_ms <= now_ms || inner.map.len() > self.size,
            };
            if !evict {
                break;
            }
            inner.order.pop_front();
            if live_seq(&inner.map, &front) == Some(front_seq) {
                inner.map.remove(&front);
            }
        }
    }

    /// Whether `key` has an entry, good or not (no counters move).
    pub(crate) fn contains(&self, key: &Key) -> bool {
        self.lock().map.contains_key(key)
    }

    /// Removes every entry (mappings or keys changed).
    pub(crate) fn clear(&self) {
        let mut inner = self.lock();
        inner.map.clear();
        inner.order.clear();
    }

    /// Removes the entries of one principal (`expire(username)`).
    pub(crate) fn expire(&self, principal: &str) {
        self.lock().map.retain(|_, e| e.user.principal != principal);
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            entries: self.lock().map.len(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

fn live_seq(map: &FxHashMap<Key, Entry>, key: &Key) -> Option<u64> {
    map.get(key).map(|e| e.seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const T: Tag = Tag { program: 1, keys: 0 };

    fn user(name: &str) -> Arc<AuthenticatedUser> {
        Arc::new(AuthenticatedUser {
            realm: "r".into(),
            principal: name.into(),
            groups: Vec::new(),
            dn: None,
            email: None,
            full_name: None,
            metadata: Default::default(),
            roles: Vec::new(),
        })
    }

    #[test]
    fn disabled_by_a_zero_ttl_or_size() {
        assert!(TokenCache::new(Duration::ZERO, 10).is_none());
        assert!(TokenCache::new(Duration::from_secs(1), 0).is_none());
        assert!(TokenCache::new(Duration::from_millis(1), 1).is_some());
    }

    #[test]
    fn entries_end_at_exp_plus_skew_and_at_the_ttl() {
        let cache = TokenCache::new(Duration::from_secs(10), 100).unwrap();
        let (a, b) = (key("a"), key("b"));
        cache.insert(a, user("a"), T, 5_000, 0); // exp + skew at 5 s, ttl to 10 s
        cache.insert(b, user("b"), T, 50_000, 0); // ttl first
        assert!(cache.get(&a, 4_999, T).is_some());
        assert!(cache.get(&a, 5_000, T).is_none(), "strictly before exp + skew");
        assert!(cache.get(&b, 9_999, T).is_some());
        assert!(cache.get(&b, 10_000, T).is_none(), "expire after write");
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.entries), (2, 2, 0));
    }

    #[test]
    fn the_oldest_goes_past_the_size() {
        let cache = TokenCache::new(Duration::from_secs(60), 3).unwrap();
        for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
            cache.insert(key(name), user(name), T, i64::MAX, i as i64);
        }
        assert!(cache.get(&key("a"), 10, T).is_none());
        for name in ["b", "c", "d"] {
            assert!(cache.get(&key(name), 10, T).is_some(), "{name}");
        }
        // Writing a key again makes it the newest.
        cache.insert(key("b"), user("b"), T, i64::MAX, 11);
        cache.insert(key("e"), user("e"), T, i64::MAX, 12);
        assert!(cache.get(&key("c"), 13, T).is_none());
        assert!(cache.get(&key("b"), 13, T).is_some());
        assert_eq!(cache.stats().entries, 3);
        let inner = cache.lock();
        assert!(inner.order.len() <= 4, "stale pairs are dropped as they reach the front");
    }

    #[test]
    fn expire_and_clear() {
        let cache = TokenCache::new(Duration::from_secs(60), 10).unwrap();
        cache.insert(key("t1"), user("alice"), T, i64::MAX, 0);
        cache.insert(key("t2"), user("alice"), T, i64::MAX, 0);
        cache.insert(key("t3"), user("bob"), T, i64::MAX, 0);
        cache.expire("alice");
        assert_eq!(cache.stats().entries, 1);
        assert!(cache.get(&key("t3"), 1, T).is_some());
        cache.clear();
        assert_eq!(cache.stats().entries, 0);
        assert!(format!("{cache:?}").starts_with("TokenCache"));
    }

    #[test]
    fn an_entry_of_another_program_or_key_set_is_a_miss() {
        let cache = TokenCache::new(Duration::from_secs(60), 10).unwrap();
        cache.insert(key("t"), user("alice"), T, i64::MAX, 0);
        assert!(cache.get(&key("t"), 1, Tag { program: 2, keys: 0 }).is_none());
        cache.insert(key("t"), user("alice"), T, i64::MAX, 0);
        assert!(cache.get(&key("t"), 1, Tag { program: 1, keys: 1 }).is_none());
        assert_eq!(cache.stats().entries, 0, "the stale entry is dropped");
    }
}
