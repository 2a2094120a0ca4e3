//! An immutable table from strings to predicate lists, laid out for lookups.
//!
//! The tables of a 10 000-mapping program hold tens of thousands of keys, and
//! a user brings twenty or more values to look up, most of which are in no
//! table. A `HashMap<Box<str>, SmallVec<..>>` spends a cache line on the
//! bucket and another on each key's own allocation; here the hash table holds
//! only 16-byte entries (key and list as ranges), keys sit side by side in one
//! arena and lists in one array, so a miss touches the control bytes and
//! little else, and a hit one entry, one arena range and one list.

use crate::ir::PredId;
use hashbrown::HashTable;
use rustc_hash::{FxHashMap, FxHasher};
use smallvec::SmallVec;
use std::hash::Hasher;

/// A list of predicates as the builder keeps it.
pub(super) type PredList = SmallVec<[PredId; 1]>;

/// One key and its predicates, as ranges into the arena and the lists.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key_start: u32,
    key_len: u32,
    preds_start: u32,
    preds_len: u32,
}

/// Keys and their predicate lists, built with [`TableBuilder`].
#[derive(Debug, Default)]
pub(super) struct StrTable {
    table: HashTable<Entry>,
    arena: String,
    preds: Vec<PredId>,
}

/// Collects keys while the program is compiled; [`finish`](Self::finish)
/// lays them out.
#[derive(Debug, Default)]
pub(super) struct TableBuilder {
    map: FxHashMap<Box<str>, PredList>,
}

/// The hash of a key. FxHash is several times cheaper than SipHash on short
/// keys; the keys come from the mappings, which the administrator controls,
/// so a user's values can probe the table but not shape it.
#[inline]
pub(super) fn hash(key: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(key.as_bytes());
    h.finish()
}

impl TableBuilder {
    pub(super) fn add(&mut self, key: &str, p: PredId) {
        match self.map.get_mut(key) {
            Some(list) => list.push(p),
            None => {
                self.map.insert(key.into(), smallvec::smallvec![p]);
            }
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Lays the keys out. Fails only past 4 GiB of keys or lists.
    pub(super) fn finish(self) -> Option<StrTable> {
        let keys: Vec<(Box<str>, PredList)> = self.map.into_iter().collect();
        let mut out = StrTable {
            table: HashTable::with_capacity(keys.len()),
            arena: String::with_capacity(keys.iter().map(|(k, _)| k.len()).sum()),
            preds: Vec::with_capacity(keys.iter().map(|(_, l)| l.len()).sum()),
        };
        for (key, list) in keys {
            let entry = Entry {
                key_start: u32::try_from(out.arena.len()).ok()?,
                key_len: u32::try_from(key.len()).ok()?,
                preds_start: u32::try_from(out.preds.len()).ok()?,
                preds_len: u32::try_from(list.len()).ok()?,
            };
            out.arena.push_str(&key);
            out.preds.extend_from_slice(&list);
            let arena = &out.arena;
            out.table.insert_unique(hash(&key), entry, |e| hash(key_of(arena, e)));
        }
        Some(out)
    }
}

fn key_of<'a>(arena: &'a str, e: &Entry) -> &'a str {
    let start = e.key_start as usize;
    arena.get(start..start + e.key_len as usize).unwrap_or_default()
}

impl StrTable {
    /// The predicates of `key`; empty when it is not in the table.
    #[inline]
    pub(super) fn get(&self, key: &str) -> &[PredId] {
        self.get_hashed(key, hash(key))
    }

    /// [`get`](Self::get) with the key's [`hash`] already computed.
    #[inline]
    pub(super) fn get_hashed(&self, key: &str, hash: u64) -> &[PredId] {
        let found = self
            .table
            .find(hash, |e| e.key_len as usize == key.len() && key_of(&self.arena, e).as_bytes() == key.as_bytes());
        match found {
            Some(e) => {
                let start = e.preds_start as usize;
                self.preds.get(start..start + e.preds_len as usize).unwrap_or_default()
            }
            None => &[],
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    /// About how many bytes the table occupies.
    pub(super) fn memory_bytes(&self) -> usize {
        // A bucket is an entry and a control byte.
        self.table.capacity() * (std::mem::size_of::<Entry>() + 1)
            + self.arena.len()
            + std::mem::size_of_val(self.preds.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_added_and_nothing_else() {
        let mut b = TableBuilder::default();
        for i in 0..1000u32 {
            b.add(&format!("team-{i}"), PredId(i));
            if i % 7 == 0 {
                b.add(&format!("team-{i}"), PredId(i + 5000));
            }
        }
        b.add("", PredId(9999));
        let t = b.finish().unwrap();
        assert_eq!(t.len(), 1001);
        for i in 0..1000u32 {
            let got = t.get(&format!("team-{i}"));
            let want: Vec<PredId> = if i % 7 == 0 { vec![PredId(i), PredId(i + 5000)] } else { vec![PredId(i)] };
            assert_eq!(got, want.as_slice());
        }
        assert_eq!(t.get(""), [PredId(9999)]);
        assert!(t.get("team-1000").is_empty());
        assert!(t.get("team-1").len() == 1 && t.get("team-").is_empty());
    }
}
