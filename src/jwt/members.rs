//! The members of a JSON object as a token's claims and a user's metadata
//! hold them: in order, searched by name, all names in one buffer.
//!
//! A token holds a few dozen claims at most and a realm reads only a
//! handful of them, so a list searched by name costs less than a hash map
//! built for every token, and one buffer for the names costs one
//! allocation where a `serde_json::Map` costs one per name plus its table.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};
use std::fmt;

/// A name's place in [`Members::names`], with its [`tag`]. Names come from
/// a token of at most 16 KiB or from the caller; a buffer past 4 GiB is
/// refused by `push`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
    tag: u64,
}

/// A name's first and last eight bytes and its length mixed into one word:
/// names with different tags differ, so a search compares whole names only
/// where the tags agree, mostly once. (The last bytes tell apart the
/// `jwt_claim_*` keys, which share their first eight.)
pub(crate) fn tag(name: &str) -> u64 {
    let word = |bytes: &[u8]| {
        let mut word = [0u8; 8];
        word[..bytes.len()].copy_from_slice(bytes);
        u64::from_le_bytes(word)
    };
    let bytes = name.as_bytes();
    let head = word(&bytes[..bytes.len().min(8)]);
    let tail = if bytes.len() > 8 { word(&bytes[bytes.len() - 8..]) } else { 0 };
    head ^ tail.rotate_left(32) ^ (bytes.len() as u64).rotate_right(8)
}

#[derive(Clone, Default)]
pub(crate) struct Members {
    names: String,
    /// Each member's name as a range of `names`, and its value.
    entries: Vec<(Span, Value)>,
}

impl Members {
    pub(crate) fn with_capacity(members: usize, name_bytes: usize) -> Members {
        Members { names: String::with_capacity(name_bytes), entries: Vec::with_capacity(members) }
    }

    fn name(&self, span: Span) -> &str {
        self.names.get(span.start as usize..span.end as usize).unwrap_or_default()
    }

    fn position(&self, name: &str) -> Option<usize> {
        let tag = tag(name);
        self.entries.iter().position(|(span, _)| span.tag == tag && self.name(*span) == name)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.position(name).map(|i| &self.entries[i].1)
    }

    pub(crate) fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> + Clone {
        self.entries.iter().map(|(span, v)| (self.name(*span), v))
    }

    /// Hands each member to `f`, the value moved out.
    pub(crate) fn for_each_owned(self, mut f: impl FnMut(&str, Value)) {
        let Members { names, entries } = self;
        for (span, value) in entries {
            f(names.get(span.start as usize..span.end as usize).unwrap_or_default(), value);
        }
    }

    /// Appends a member named `prefix` + `name`, without looking for one of
    /// that name (the caller knows there is none).
    pub(crate) fn push_prefixed(&mut self, prefix: &str, name: &str, value: Value) {
        self.append(prefix, name, value, false);
    }

    pub(crate) fn push(&mut self, name: &str, value: Value) {
        self.append("", name, value, false);
    }

    /// Appends a member named `name`, with `prefix` written before its name
    /// in the buffer, so that [`into_prefixed`](Self::into_prefixed) can
    /// later rename it `prefix` + `name` in place.
    pub(crate) fn push_after(&mut self, prefix: &str, name: &str, value: Value) {
        self.append(prefix, name, value, true);
    }

    /// [`push_after`](Self::push_after) unless a member is named `name`
    /// (then nothing is added): whether it was added. The search is
    /// linear, for the few dozen members of a token.
    pub(crate) fn push_after_new(&mut self, prefix: &str, name: &str, value: Value) -> bool {
        if self.contains_key(name) {
            return false;
        }
        self.push_after(prefix, name, value);
        true
    }

    /// The name of the member at `index` (`""` past the end).
    pub(crate) fn name_at(&self, index: usize) -> &str {
        self.entries.get(index).map_or("", |(span, _)| self.name(*span))
    }

    /// Writes `prefix` + `name` to the buffer and appends a member named
    /// either that or, `after`, only `name`.
    fn append(&mut self, prefix: &str, name: &str, value: Value, after: bool) {
        let at = self.names.len();
        self.names.reserve(prefix.len() + name.len());
        self.names.push_str(prefix);
        self.names.push_str(name);
        let start = if after { at + prefix.len() } else { at };
        match (u32::try_from(start), u32::try_from(self.names.len())) {
            (Ok(start), Ok(end)) => {
                let tag = tag(&self.names[start as usize..]);
                self.entries.push((Span { start, end, tag }, value));
            }
            // Past 4 GiB of names: not one more (no token comes near).
            _ => self.names.truncate(at),
        }
    }

    /// These members, those `keep` accepts renamed `prefix` + name, after
    /// `first`; in place (no allocation) for members added by
    /// [`push_after`](Self::push_after) with the same prefix.
    pub(crate) fn into_prefixed(
        mut self,
        prefix: &str,
        first: (&str, Value),
        mut keep: impl FnMut(&str, &Value) -> bool,
    ) -> Members {
        let Members { names, entries } = &mut self;
        let mut moved = Vec::new();
        entries.retain_mut(|(span, value)| {
            let (start, end) = (span.start as usize, span.end as usize);
            if !keep(names.get(start..end).unwrap_or_default(), value) {
                return false;
            }
            match start.checked_sub(prefix.len()) {
                Some(at) if names.get(at..start) == Some(prefix) => {
                    span.start = at as u32;
                    span.tag = tag(&names[at..end]);
                }
                // Not written after the prefix: renamed below.
                _ => moved.push(*span),
            }
            true
        });
        for span in moved {
            let name = self.name(span).to_owned();
            let start = self.names.len();
            self.names.push_str(prefix);
            self.names.push_str(&name);
            if let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(self.names.len()))
                && let Some(entry) = self.entries.iter_mut().find(|(s, _)| *s == span)
            {
                entry.0 = Span { start, end, tag: tag(&self.names[start as usize..]) };
            }
        }
        let (name, value) = first;
        self.push(name, value);
        self.entries.rotate_right(1);
        self
    }

    /// Sets the value of `name`, appending it when absent; returns the
    /// value it replaced.
    pub(crate) fn insert(&mut self, name: &str, value: Value) -> Option<Value> {
        match self.position(name) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.push(name, value);
                None
            }
        }
    }

    /// Hands each member to `f` in order, its value mutable, until `f`
    /// fails.
    pub(crate) fn try_for_each_mut<E>(
        &mut self,
        mut f: impl FnMut(&str, &mut Value) -> Result<(), E>,
    ) -> Result<(), E> {
        let Members { names, entries } = self;
        entries.iter_mut().try_for_each(|(span, value)| {
            f(names.get(span.start as usize..span.end as usize).unwrap_or_default(), value)
        })
    }

    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&Value) -> bool) {
        self.entries.retain(|(_, v)| keep(v));
    }
}

impl PartialEq for Members {
    /// The same members in the same order (the buffers may differ).
    fn eq(&self, other: &Members) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Members {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// An authenticated user's metadata (Elasticsearch's `User.metadata`):
/// `jwt_token_type`, then with `populate_user_metadata` a `jwt_claim_<name>`
/// for each claim that is a string, number, boolean or flat array of them,
/// in token order.
///
/// Read it by key or in order; [`to_map`](Self::to_map) gives a
/// `serde_json::Map`, and it serializes as a JSON object.
///
/// ```
/// use rolemap::jwt::Metadata;
/// use serde_json::json;
///
/// let metadata: Metadata =
///     [("jwt_token_type", json!("id_token")), ("jwt_claim_groups", json!(["a", "b"]))].into_iter().collect();
/// assert_eq!(metadata.get("jwt_claim_groups"), Some(&json!(["a", "b"])));
/// assert_eq!(metadata.keys().collect::<Vec<_>>(), ["jwt_token_type", "jwt_claim_groups"]);
/// assert_eq!(serde_json::to_value(&metadata).unwrap(), json!({
///     "jwt_token_type": "id_token", "jwt_claim_groups": ["a", "b"]
/// }));
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct Metadata(pub(crate) Members);

impl Metadata {
    /// No entries.
    pub fn new() -> Metadata {
        Metadata::default()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// The entries in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> + Clone {
        self.0.iter()
    }

    /// The keys in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + Clone {
        self.0.iter().map(|(k, _)| k)
    }

    /// Sets `key` (in place when present, else at the end); returns the
    /// value it replaced.
    pub fn insert(&mut self, key: &str, value: Value) -> Option<Value> {
        self.0.insert(key, value)
    }

    /// The entries as a `serde_json::Map`.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter().map(|(k, v)| (k.to_owned(), v.clone())).collect()
    }
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<K: AsRef<str>> FromIterator<(K, Value)> for Metadata {
    /// A later value of a key replaces the earlier one in its place.
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(entries: I) -> Metadata {
        let mut metadata = Metadata::new();
        for (key, value) in entries {
            metadata.insert(key.as_ref(), value);
        }
        metadata
    }
}

impl From<Metadata> for Map<String, Value> {
    fn from(metadata: Metadata) -> Map<String, Value> {
        let mut map = Map::with_capacity(metadata.len());
        metadata.0.for_each_owned(|k, v| {
            map.insert(k.to_owned(), v);
        });
        map
    }
}

impl Serialize for Metadata {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_are_found_by_name_in_order() {
        let mut m = Members::with_capacity(0, 0);
        m.push("exp", json!(1));
        m.push("iss", json!("i"));
        m.push_prefixed("jwt_claim_", "e", json!(2));
        m.push("", json!(3));
        assert_eq!(m.get("iss"), Some(&json!("i")));
        assert_eq!(m.get("jwt_claim_e"), Some(&json!(2)));
        assert_eq!(m.get(""), Some(&json!(3)));
        assert_eq!(m.get("is"), None);
        assert_eq!(m.get("isx"), None);
        assert_eq!(m.insert("exp", json!(5)), Some(json!(1)));
        assert_eq!(m.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["exp", "iss", "jwt_claim_e", ""]);
        m.retain(|v| v != &json!(5));
        assert_eq!(m.iter().next(), Some(("iss", &json!("i"))));
        let mut seen = Vec::new();
        m.for_each_owned(|k, v| seen.push((k.to_owned(), v)));
        assert_eq!(seen, [("iss".to_owned(), json!("i")), ("jwt_claim_e".into(), json!(2)), ("".into(), json!(3))]);
    }

    #[test]
    fn a_name_pushed_after_a_prefix_is_found_without_it_once() {
        let mut m = Members::with_capacity(0, 0);
        m.push("iss", json!("i"));
        assert!(m.push_after_new("jwt_claim_", "sub", json!("s")));
        assert!(!m.push_after_new("jwt_claim_", "sub", json!("t")));
        assert!(!m.push_after_new("jwt_claim_", "iss", json!("t")));
        assert!(m.push_after_new("jwt_claim_", "jwt_claim_sub", json!("u")));
        assert_eq!((m.get("sub"), m.get("jwt_claim_sub"), m.len()), (Some(&json!("s")), Some(&json!("u")), 3));
        assert_eq!((m.name_at(1), m.name_at(2), m.name_at(3)), ("sub", "jwt_claim_sub", ""));
    }

    #[test]
    fn members_are_renamed_in_place_or_copied() {
        let mut m = Members::with_capacity(0, 0);
        m.push_after("p_", "a", json!(1));
        m.push_after("p_", "drop", json!(2));
        m.push("b", json!(3)); // no prefix before it: copied
        m.push_after("p_", "c", json!(4));
        assert_eq!(m.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["a", "drop", "b", "c"]);
        assert_eq!(m.get("c"), Some(&json!(4)));
        let renamed = m.into_prefixed("p_", ("first", json!(0)), |name, _| name != "drop");
        assert_eq!(
            renamed.iter().map(|(k, v)| (k.to_owned(), v.clone())).collect::<Vec<_>>(),
            [("first".into(), json!(0)), ("p_a".into(), json!(1)), ("p_b".into(), json!(3)), ("p_c".into(), json!(4))]
        );
        assert_eq!(renamed.get("p_b"), Some(&json!(3)));
        assert_eq!(renamed.get("a"), None);
        assert_eq!(renamed.get("first"), Some(&json!(0)));
    }

    #[test]
    fn similar_names_are_told_apart() {
        let mut m = Members::with_capacity(0, 0);
        let names: Vec<String> = (0..40).map(|i| format!("jwt_claim_{i}")).chain(["a".into(), "a\0".into()]).collect();
        for (i, name) in names.iter().enumerate() {
            m.push(name, json!(i));
        }
        for (i, name) in names.iter().enumerate() {
            assert_eq!(m.get(name), Some(&json!(i)), "{name}");
        }
        assert_eq!(m.get("jwt_claim_40"), None);
        assert_eq!(m.get("jwt_claim_"), None);
        m.retain(|v| v.as_u64().is_some_and(|i| i % 2 == 1));
        assert_eq!(m.get("jwt_claim_3"), Some(&json!(3)));
        assert_eq!(m.get("jwt_claim_4"), None);
        assert_eq!(m.len(), 21);
    }

    #[test]
    fn metadata_reads_as_a_map() {
        let metadata: Metadata = [("b", json!(1)), ("a", json!(2)), ("b", json!(3))].into_iter().collect();
        assert_eq!(metadata.len(), 2);
        assert_eq!(metadata.get("b"), Some(&json!(3)));
        assert_eq!(Map::from(metadata.clone()), metadata.to_map());
        assert_eq!(Value::Object(metadata.to_map()), json!({"b": 3, "a": 2}));
        assert_eq!(format!("{metadata:?}"), r#"{"b": Number(3), "a": Number(2)}"#);
        assert!(Metadata::new().is_empty());
    }
}
