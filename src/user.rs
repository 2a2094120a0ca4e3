//! The user a role mapping is evaluated against, and its model.
//!
//! [`User`] is plain input data, built in code or read from JSON. [`Model`]
//! is Elasticsearch's `ExpressionModel` of that user (spec §3.1): the fields
//! `username`, `dn` (only when the user has one), `groups`, `realm.name` and
//! one `metadata.<key>` per top-level metadata key; a DN-aware value is
//! parsed and normalized once, when a rule first needs it. Building the model
//! is where Elasticsearch fails for a nested map in metadata (§2.3, §3.6),
//! and so does this.

use crate::dn;
use crate::jwt::members::Members;
use serde_json::{Map, Value};
use smallvec::SmallVec;
use std::fmt;
use std::sync::OnceLock;

/// A user, as a realm hands it to role mapping.
///
/// ```
/// use rolemap::User;
///
/// let mut user = User::new("jdoe", "jwt1");
/// user.groups = vec!["elasticadmins".into()];
/// user.metadata.insert("department".into(), "sales".into());
/// assert_eq!(user.realm, "jwt1");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct User {
    /// The principal: the `username` field.
    pub username: String,
    /// The distinguished name: the `dn` field, absent when `None`.
    pub dn: Option<String>,
    /// The groups: the `groups` field (a set; duplicates do not matter).
    pub groups: Vec<String>,
    /// The configured name of the realm that authenticated the user: `realm.name`.
    pub realm: String,
    /// Metadata: each top-level key `k` is the field `metadata.k`.
    pub metadata: Map<String, Value>,
}

impl User {
    /// A user with a username and a realm name, no DN, no groups and no metadata.
    pub fn new(username: impl Into<String>, realm: impl Into<String>) -> Self {
        Self { username: username.into(), realm: realm.into(), ..Self::default() }
    }

    /// Reads a user from JSON text of the shape
    /// `{"username", "dn", "groups", "realm": {"name"}, "metadata"}`
    /// (`dn` may be null or absent; `groups` and `metadata` may be absent).
    ///
    /// ```
    /// let user = rolemap::User::from_json(r#"{"username": "jdoe", "realm": {"name": "jwt1"},
    ///     "groups": ["admins"], "metadata": {"level": 3}}"#).unwrap();
    /// assert_eq!(user.groups, ["admins"]);
    /// ```
    pub fn from_json(text: &str) -> Result<Self, UserError> {
        let value = crate::parse::strict_json(text).map_err(|e| UserError::new(String::new(), e.to_string()))?;
        Self::from_value(&value)
    }

    /// Reads a user from a parsed JSON value; see [`User::from_json`].
    pub fn from_value(value: &Value) -> Result<Self, UserError> {
        let Value::Object(object) = value else {
            return Err(UserError::new("", "a user must be a JSON object"));
        };
        let mut user = User::default();
        let mut has_username = false;
        let mut has_realm = false;
        for (key, value) in object {
            match (key.as_str(), value) {
                ("username", Value::String(s)) => {
                    user.username = s.clone();
                    has_username = true;
                }
                ("dn", Value::String(s)) => user.dn = Some(s.clone()),
                ("dn", Value::Null) => user.dn = None,
                ("groups", Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        match item {
                            Value::String(s) => user.groups.push(s.clone()),
                            _ => return Err(UserError::new(format!("/groups/{i}"), "a group must be a string")),
                        }
                    }
                }
                ("realm", Value::Object(realm)) => match realm.get("name") {
                    Some(Value::String(name)) => {
                        user.realm = name.clone();
                        has_realm = true;
                    }
                    _ => return Err(UserError::new("/realm", "`realm` must be an object with a string `name`")),
                },
                ("metadata", Value::Object(m)) => user.metadata = m.clone(),
                ("username" | "dn" | "groups" | "realm" | "metadata", other) => {
                    let message = format!("`{key}` cannot be {}", crate::parse::describe(other));
                    return Err(UserError::new(format!("/{key}"), message));
                }
                (other, _) => return Err(UserError::new(format!("/{other}"), format!("unknown key `{other}`"))),
            }
        }
        if !has_username {
            return Err(UserError::new("", "missing key `username`"));
        }
        if !has_realm {
            return Err(UserError::new("", "missing key `realm`"));
        }
        Ok(user)
    }
}

/// A user document that cannot be read, or a user Elasticsearch cannot build
/// a model of (spec §3.6), e.g. a nested object in metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    pointer: String,
    message: String,
}

impl UserError {
    fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self { pointer: pointer.into(), message: message.into() }
    }

    /// The JSON pointer of the offending value in the user document.
    pub fn json_pointer(&self) -> &str {
        &self.pointer
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{} at `{}`", self.message, self.pointer)
        }
    }
}

impl std::error::Error for UserError {}

/// A metadata value as the model holds it (spec §2.3), borrowing the
/// user's strings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Meta<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// An integer past the 64-bit signed range.
    Big(u64),
    Str(&'a str),
    /// A list, any-of when matched; its items were checked when the model
    /// was built and are read with [`Meta::items`], so no list is copied.
    List(&'a [Value]),
}

/// Why a metadata value cannot be modelled: the pointer below the metadata
/// key, and the message.
type MetaError = (String, &'static str);

impl<'a> Meta<'a> {
    /// The first integer past the 64-bit range in this value, if any.
    pub(crate) fn big_number(&self) -> Option<u64> {
        match self {
            Meta::Big(n) => Some(*n),
            Meta::List(_) => self.items().find_map(|m| m.big_number()),
            _ => None,
        }
    }

    /// Whether a `null` rule value matches: the value is null, or a list
    /// that holds a null somewhere (lists are any-of, nested lists recurse).
    pub(crate) fn matches_null(&self) -> bool {
        match self {
            Meta::Null => true,
            Meta::List(_) => self.items().any(|m| m.matches_null()),
            _ => false,
        }
    }

    /// The items of a list (nothing for other values).
    pub(crate) fn items(&self) -> impl Iterator<Item = Meta<'a>> + use<'a> {
        let items: &'a [Value] = match self {
            Meta::List(items) => items,
            _ => &[],
        };
        // Objects were refused when the model was built; were one here, it
        // would be skipped: it matches no rule value, not even `null`.
        items.iter().filter_map(Meta::of)
    }

    /// The model value of an already checked JSON value.
    pub(crate) fn of(value: &'a Value) -> Option<Meta<'a>> {
        Some(match value {
            Value::Null => Meta::Null,
            Value::Bool(b) => Meta::Bool(*b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Meta::Int(i)
                } else if n.is_f64() {
                    Meta::Float(n.as_f64().unwrap_or(f64::NAN))
                } else {
                    // A u64 past i64::MAX: a BigInteger in Elasticsearch, which
                    // only an integer rule on its key refuses (see `RuleSet`).
                    Meta::Big(n.as_u64().unwrap_or(u64::MAX))
                }
            }
            Value::String(s) => Meta::Str(s),
            Value::Array(items) => Meta::List(items),
            Value::Object(_) => return None,
        })
    }

    /// Checks a metadata value as Elasticsearch's model does and returns its
    /// model value.
    fn from_json(value: &'a Value, depth: usize) -> Result<Meta<'a>, MetaError> {
        if let Value::Array(items) = value {
            if depth >= MAX_META_DEPTH {
                // The number is `MAX_META_DEPTH`.
                return Err((String::new(), "lists are nested deeper than the limit of 32"));
            }
            for (i, item) in items.iter().enumerate() {
                // The pointer is built only on the way out of an error.
                Meta::from_json(item, depth + 1).map_err(|(rest, m)| (format!("/{i}{rest}"), m))?;
            }
        }
        Meta::of(value).ok_or_else(|| {
            // ExpressionModel refuses maps ("Unsupported value type"), which
            // fails the user's whole role resolution.
            (
                String::new(),
                "metadata values cannot be objects (Elasticsearch cannot build a role-mapping model of this user)",
            )
        })
    }

    pub(crate) fn to_json(self) -> Value {
        match self {
            Meta::Null => Value::Null,
            Meta::Bool(b) => Value::Bool(b),
            Meta::Int(i) => Value::from(i),
            Meta::Float(f) => Value::from(f),
            Meta::Big(n) => Value::from(n),
            Meta::Str(s) => Value::String(s.to_owned()),
            Meta::List(items) => Value::Array(items.to_vec()),
        }
    }
}

/// How deep lists may nest inside a metadata value.
pub const MAX_META_DEPTH: usize = 32;

/// A string matched with the DN-aware predicate (`dn` and each group), with
/// its normalized DN when it parses as one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DnValue<'a> {
    pub(crate) raw: &'a str,
    pub(crate) normalized: Option<&'a str>,
}

/// The normalized DN of a `dn` or group value, or `None` when it is not a DN.
fn normalize_value(raw: &str) -> Option<Box<str>> {
    // Every attribute-value pair has an `=`: without one, only a string of
    // spaces (the empty DN) parses, so most group names are settled without
    // running the parser.
    if raw.as_bytes().contains(&b'=') || raw.bytes().all(|b| b == b' ') {
        dn::normalize(raw).map(String::into_boxed_str)
    } else {
        None
    }
}

/// A model's metadata.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "a model lives on the stack for one evaluation: boxing the entries would cost an allocation per user"
)]
pub(crate) enum Metadata<'a> {
    /// Checked and sorted by key. Inline for the few keys most users have.
    Sorted(SmallVec<[(&'a str, Meta<'a>); 16]>),
    /// A realm's metadata, distinct keys in token order, checked; each
    /// value is modelled when read ([`Meta::of`]).
    Members(&'a Members),
}

/// The model value of the metadata value of `key`, or why there is none.
fn checked<'a>(key: &str, value: &'a Value) -> Result<Meta<'a>, UserError> {
    Meta::from_json(value, 0).map_err(|(rest, message)| {
        let key = key.replace('~', "~0").replace('/', "~1");
        UserError::new(format!("/metadata/{key}{rest}"), message)
    })
}

/// Elasticsearch's role-mapping model of a user: what rules are matched
/// against. It borrows the user's strings; build it once per user, and
/// evaluating any number of programs against it is then cheap. DN values
/// are parsed and normalized on first use, and only if a rule needs them: a
/// program without DN rules never parses the user's DN or groups.
///
/// ```
/// use rolemap::{Model, User};
///
/// let user = User::from_json(r#"{"username": "u", "realm": {"name": "r"},
///     "metadata": {"bad": {"nested": "map"}}}"#).unwrap();
/// let err = Model::new(&user).unwrap_err();
/// assert_eq!(err.json_pointer(), "/metadata/bad");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Model<'a> {
    pub(crate) username: &'a str,
    pub(crate) realm: &'a str,
    pub(crate) dn: Option<&'a str>,
    /// As given, repeats included.
    pub(crate) groups: &'a [String],
    /// `Some(None)` once computed for a `dn` that does not parse as a DN.
    dn_normalized: OnceLock<Option<Box<str>>>,
    /// By group, computed for all groups at once.
    groups_normalized: OnceLock<Box<[Option<Box<str>>]>>,
    pub(crate) metadata: Metadata<'a>,
    /// Whether some metadata integer is past the 64-bit range, which an
    /// integer rule refuses (so most users skip that check).
    pub(crate) has_big_number: bool,
}

impl<'a> Model<'a> {
    /// Builds the model of `user`, or fails as Elasticsearch does for a user
    /// whose metadata holds an object.
    pub fn new(user: &'a User) -> Result<Self, UserError> {
        Self::from_parts(
            &user.username,
            &user.realm,
            user.dn.as_deref(),
            &user.groups,
            user.metadata.iter().map(|(k, v)| (k.as_str(), v)),
        )
    }

    /// The model of a user given by its parts, `metadata` with distinct keys.
    pub(crate) fn from_parts(
        username: &'a str,
        realm: &'a str,
        dn: Option<&'a str>,
        groups: &'a [String],
        metadata: impl ExactSizeIterator<Item = (&'a str, &'a Value)>,
    ) -> Result<Self, UserError> {
        let mut entries: SmallVec<[(&str, Meta); 16]> = SmallVec::with_capacity(metadata.len());
        for (key, value) in metadata {
            entries.push((key, checked(key, value)?));
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let has_big_number = entries.iter().any(|(_, m)| m.big_number().is_some());
        Ok(Self::with_metadata(username, realm, dn, groups, Metadata::Sorted(entries), has_big_number))
    }

    /// The model of a user a JWT realm authenticated: its metadata is read
    /// where it is, by key, neither copied nor sorted. Metadata a realm
    /// built holds only scalars and flat lists of them (spec §3.5), so with
    /// `trusted` it is not checked, only searched for big integers.
    pub(crate) fn from_realm(
        username: &'a str,
        realm: &'a str,
        dn: Option<&'a str>,
        groups: &'a [String],
        metadata: &'a Members,
        trusted: bool,
    ) -> Result<Self, UserError> {
        let mut has_big_number = false;
        if trusted {
            // A u64 past i64::MAX is the only integer serde_json reads that
            // is neither an i64 nor a float.
            let big = |v: &Value| matches!(v, Value::Number(n) if !n.is_i64() && !n.is_f64());
            has_big_number = metadata.iter().any(|(_, v)| match v {
                Value::Array(items) => items.iter().any(big),
                other => big(other),
            });
            debug_assert!(metadata.iter().all(|(k, v)| checked(k, v).is_ok()), "a realm's metadata is modelled as is");
        } else {
            for (key, value) in metadata.iter() {
                has_big_number |= checked(key, value)?.big_number().is_some();
            }
        }
        Ok(Self::with_metadata(username, realm, dn, groups, Metadata::Members(metadata), has_big_number))
    }

    fn with_metadata(
        username: &'a str,
        realm: &'a str,
        dn: Option<&'a str>,
        groups: &'a [String],
        metadata: Metadata<'a>,
        has_big_number: bool,
    ) -> Self {
        // Groups are a set, but a repeated group changes no match (groups
        // are any-of), so they are kept as given; templates see them
        // deduplicated.
        Self {
            username,
            realm,
            dn,
            groups,
            dn_normalized: OnceLock::new(),
            groups_normalized: OnceLock::new(),
            metadata,
            has_big_number,
        }
    }

    /// The normalized `dn`, or `None` when there is none or it is not a DN.
    pub(crate) fn dn_normalized(&self) -> Option<&str> {
        self.dn_normalized.get_or_init(|| self.dn.and_then(normalize_value)).as_deref()
    }

    /// The normalized DN of each group, in the order of `groups`.
    pub(crate) fn groups_normalized(&self) -> &[Option<Box<str>>] {
        self.groups_normalized.get_or_init(|| self.groups.iter().map(|g| normalize_value(g)).collect())
    }

    /// The `dn` with its normalized form.
    pub(crate) fn dn_value(&self) -> Option<DnValue<'_>> {
        let raw = self.dn?;
        Some(DnValue { raw, normalized: self.dn_normalized() })
    }

    /// Each group with its normalized form.
    pub(crate) fn group_values(&self) -> impl Iterator<Item = DnValue<'_>> {
        let normalized = self.groups_normalized();
        self.groups.iter().zip(normalized).map(|(raw, n)| DnValue { raw, normalized: n.as_deref() })
    }

    pub(crate) fn metadata(&self, key: &str) -> Option<Meta<'a>> {
        match &self.metadata {
            Metadata::Sorted(entries) => entries.binary_search_by(|(k, _)| (*k).cmp(key)).ok().map(|i| entries[i].1),
            Metadata::Members(members) => members.get(key).and_then(Meta::of),
        }
    }

    /// The model as the map role templates see (spec §3.3): `username`,
    /// `dn` (if any), `groups` (sorted), `realm.name`, `metadata.<key>`.
    pub(crate) fn template_scope(&self) -> Map<String, Value> {
        let mut scope = Map::new();
        scope.insert("username".into(), Value::String(self.username.to_owned()));
        if let Some(dn) = self.dn {
            scope.insert("dn".into(), Value::String(dn.to_owned()));
        }
        // Elasticsearch's group set has no defined order; sorting makes
        // `{{#join}}groups{{/join}}` deterministic.
        let mut groups: Vec<&str> = self.groups.iter().map(String::as_str).collect();
        groups.sort_unstable();
        groups.dedup();
        scope.insert("groups".into(), Value::Array(groups.into_iter().map(|g| Value::String(g.into())).collect()));
        scope.insert("realm.name".into(), Value::String(self.realm.to_owned()));
        let mut metadata: SmallVec<[(&str, Meta); 16]> = match &self.metadata {
            Metadata::Sorted(entries) => entries.clone(),
            Metadata::Members(members) => members.iter().filter_map(|(k, v)| Some((k, Meta::of(v)?))).collect(),
        };
        // In key order, whichever way the model holds them.
        metadata.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (key, value) in metadata {
            scope.insert(format!("metadata.{key}"), value.to_json());
        }
        scope
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The shortcut in `normalize_value` gives what the parser would.
        #[test]
        fn strings_without_equals_are_not_dns(s in "[^=]{0,12}") {
            prop_assert_eq!(normalize_value(&s).map(String::from), dn::normalize(&s));
        }
    }

    #[test]
    fn templates_see_each_group_once() {
        let mut user = User::new("u", "r");
        user.groups = (0..200).map(|i| format!("g{}", i % 100)).collect();
        let model = Model::new(&user).unwrap();
        assert_eq!(model.template_scope()["groups"].as_array().unwrap().len(), 100);
    }
}
