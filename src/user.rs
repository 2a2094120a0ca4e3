//! The user a role mapping is evaluated against, and its model.
//!
//! [`User`] is plain input data, built in code or read from JSON. [`Model`]
//! is Elasticsearch's `ExpressionModel` of that user (spec §3.1): the fields
//! `username`, `dn` (only when the user has one), `groups`, `realm.name` and
//! one `metadata.<key>` per top-level metadata key, with every DN-aware value
//! parsed and normalized once. Building the model is where Elasticsearch
//! fails for a nested map in metadata (§2.3, §3.6), and so does this.

use crate::dn;
use serde_json::{Map, Value};
use std::fmt;

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

/// A metadata value as the model holds it (spec §2.3).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Meta {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// An integer past the 64-bit signed range.
    Big(u64),
    Str(Box<str>),
    List(Vec<Meta>),
}

impl Meta {
    /// Whether a `null` rule value matches: the value is null, or a list
    /// that holds a null somewhere (lists are any-of, nested lists recurse).
    /// The first integer past the 64-bit range in this value, if any.
    pub(crate) fn big_number(&self) -> Option<u64> {
        match self {
            Meta::Big(n) => Some(*n),
            Meta::List(items) => items.iter().find_map(Meta::big_number),
            _ => None,
        }
    }

    pub(crate) fn matches_null(&self) -> bool {
        match self {
            Meta::Null => true,
            Meta::List(items) => items.iter().any(Meta::matches_null),
            _ => false,
        }
    }

    fn from_json(value: &Value, pointer: &str, depth: usize) -> Result<Meta, UserError> {
        Ok(match value {
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
            Value::String(s) => Meta::Str(s.as_str().into()),
            Value::Array(items) => {
                if depth >= MAX_META_DEPTH {
                    return Err(UserError::new(pointer, format!("lists nested deeper than {MAX_META_DEPTH}")));
                }
                let mut list = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    list.push(Meta::from_json(item, &format!("{pointer}/{i}"), depth + 1)?);
                }
                Meta::List(list)
            }
            Value::Object(_) => {
                // ExpressionModel refuses maps ("Unsupported value type"), which
                // fails the user's whole role resolution.
                let message =
                    "metadata values cannot be objects (Elasticsearch cannot build a role-mapping model of this user)";
                return Err(UserError::new(pointer, message));
            }
        })
    }

    pub(crate) fn to_json(&self) -> Value {
        match self {
            Meta::Null => Value::Null,
            Meta::Bool(b) => Value::Bool(*b),
            Meta::Int(i) => Value::from(*i),
            Meta::Float(f) => Value::from(*f),
            Meta::Big(n) => Value::from(*n),
            Meta::Str(s) => Value::String(s.to_string()),
            Meta::List(items) => Value::Array(items.iter().map(Meta::to_json).collect()),
        }
    }
}

/// How deep lists may nest inside a metadata value.
pub const MAX_META_DEPTH: usize = 32;

/// A string matched with the DN-aware predicate (`dn` and each group),
/// with its normalized DN computed once.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DnValue {
    pub(crate) raw: Box<str>,
    /// `None` when the string does not parse as a DN.
    pub(crate) normalized: Option<Box<str>>,
}

impl DnValue {
    pub(crate) fn new(raw: &str) -> Self {
        Self { raw: raw.into(), normalized: dn::normalize(raw).map(String::into_boxed_str) }
    }
}

/// Elasticsearch's role-mapping model of a user: what rules are matched
/// against. Build it once per user; evaluating any number of programs
/// against it is then cheap.
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
pub struct Model {
    pub(crate) username: Box<str>,
    pub(crate) realm: Box<str>,
    pub(crate) dn: Option<DnValue>,
    /// Deduplicated, in first-seen order.
    pub(crate) groups: Vec<DnValue>,
    /// Sorted by key.
    pub(crate) metadata: Vec<(Box<str>, Meta)>,
}

impl Model {
    /// Builds the model of `user`, or fails as Elasticsearch does for a user
    /// whose metadata holds an object.
    pub fn new(user: &User) -> Result<Self, UserError> {
        let mut metadata = Vec::with_capacity(user.metadata.len());
        for (key, value) in &user.metadata {
            let pointer = format!("/metadata/{}", key.replace('~', "~0").replace('/', "~1"));
            metadata.push((key.as_str().into(), Meta::from_json(value, &pointer, 0)?));
        }
        metadata.sort_by(|a: &(Box<str>, Meta), b| a.0.cmp(&b.0));
        let mut groups: Vec<DnValue> = Vec::with_capacity(user.groups.len());
        for group in &user.groups {
            if !groups.iter().any(|g| *g.raw == **group) {
                groups.push(DnValue::new(group));
            }
        }
        Ok(Self {
            username: user.username.as_str().into(),
            realm: user.realm.as_str().into(),
            dn: user.dn.as_deref().map(DnValue::new),
            groups,
            metadata,
        })
    }

    pub(crate) fn metadata(&self, key: &str) -> Option<&Meta> {
        self.metadata.binary_search_by(|(k, _)| (**k).cmp(key)).ok().map(|i| &self.metadata[i].1)
    }

    /// The model as the map role templates see (spec §3.3): `username`,
    /// `dn` (if any), `groups` (sorted), `realm.name`, `metadata.<key>`.
    pub(crate) fn template_scope(&self) -> Map<String, Value> {
        let mut scope = Map::new();
        scope.insert("username".into(), Value::String(self.username.to_string()));
        if let Some(dn) = &self.dn {
            scope.insert("dn".into(), Value::String(dn.raw.to_string()));
        }
        // Elasticsearch's group set has no defined order; sorting makes
        // `{{#join}}groups{{/join}}` deterministic.
        let mut groups: Vec<&str> = self.groups.iter().map(|g| &*g.raw).collect();
        groups.sort_unstable();
        scope.insert("groups".into(), Value::Array(groups.into_iter().map(|g| Value::String(g.into())).collect()));
        scope.insert("realm.name".into(), Value::String(self.realm.to_string()));
        for (key, value) in &self.metadata {
            scope.insert(format!("metadata.{key}"), value.to_json());
        }
        scope
    }
}
