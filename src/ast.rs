//! The abstract syntax tree of role mappings: close to what the user wrote,
//! with a location on every node.
//!
//! Equality ignores locations, so the two front ends (JSON and the
//! [text form](crate::text)) can be compared node for node. Semantic checks (patterns, templates,
//! empty values, roles) are not made here but when the tree is lowered
//! (in `RuleSet::new`), so that every front end gets the same checks and messages.

use crate::error::Location;
use crate::template::Format;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Number, Value};

/// `value` as a `serde_json::Value`. The types of this module serialize
/// only strings as keys, the one way `to_value` can fail.
fn to_value(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// All role mappings of one document, in document order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MappingSet {
    /// The mappings.
    pub mappings: Vec<Mapping>,
}

impl MappingSet {
    /// The mappings as JSON in the shape of `GET _security/role_mapping`:
    /// `{"<name>": body, ...}`.
    ///
    /// A `Value` holds an object's members sorted by key; serializing the
    /// set itself (it implements `Serialize`) writes the mappings in
    /// document order and each body's keys in Elasticsearch's order
    /// (`enabled`, `roles`, `role_templates`, `rules`, `metadata`).
    ///
    /// Reading the serialized set with
    /// [`parse_json`](crate::parse::parse_json) gives back an equal set;
    /// reading this `Value` gives the same mappings, sorted by name.
    ///
    /// ```
    /// use rolemap::{Options, text};
    ///
    /// let text = r#"mapping "admins" { roles: "superuser" rules: groups == ["admins", /adm-\d+/] }"#;
    /// let (set, _) = text::parse(text, "mappings", &Options::default()).unwrap();
    /// assert_eq!(
    ///     serde_json::to_string(&set).unwrap(),
    ///     r#"{"admins":{"enabled":true,"roles":["superuser"],"rules":{"field":{"groups":["admins","/adm-\\d+/"]}},"metadata":{}}}"#
    /// );
    /// // The same, as a `Value` holds it: members sorted.
    /// assert_eq!(set.to_json()["admins"]["roles"], serde_json::json!(["superuser"]));
    /// ```
    pub fn to_json(&self) -> Value {
        to_value(self)
    }
}

impl Serialize for MappingSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.mappings.iter().map(|m| (&m.name, m)))
    }
}

/// One role mapping: the body of `PUT _security/role_mapping/<name>`.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The mapping's name (from the URL in Elasticsearch).
    pub name: String,
    /// `enabled`: a disabled mapping is kept but never applies.
    pub enabled: bool,
    /// `roles`: role names granted as they are.
    pub roles: Vec<String>,
    /// `role_templates`: role names rendered from the user.
    pub role_templates: Vec<RoleTemplate>,
    /// `rules`.
    pub rules: Expr,
    /// `metadata`: kept, never used for matching.
    pub metadata: Map<String, Value>,
    /// Where the mapping's body is.
    pub location: Location,
}

impl Mapping {
    /// The mapping's body as a JSON `Value` (keys sorted; serializing the
    /// mapping writes them in Elasticsearch's order).
    ///
    /// `roles` and `role_templates` are written when they are not empty,
    /// and `roles` also when both are, as a mapping must have one of them.
    pub fn to_json(&self) -> Value {
        to_value(self)
    }
}

impl Serialize for Mapping {
    /// The body only: the name is its key in a [`MappingSet`].
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut body = serializer.serialize_map(None)?;
        body.serialize_entry("enabled", &self.enabled)?;
        if !self.roles.is_empty() || self.role_templates.is_empty() {
            body.serialize_entry("roles", &self.roles)?;
        }
        if !self.role_templates.is_empty() {
            body.serialize_entry("role_templates", &self.role_templates)?;
        }
        body.serialize_entry("rules", &self.rules)?;
        body.serialize_entry("metadata", &self.metadata)?;
        body.end()
    }
}

impl PartialEq for Mapping {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.enabled == other.enabled
            && self.roles == other.roles
            && self.role_templates == other.role_templates
            && self.rules == other.rules
            && self.metadata == other.metadata
    }
}

/// One element of `role_templates`.
#[derive(Debug, Clone)]
pub struct RoleTemplate {
    /// The script.
    pub script: Script,
    /// `format`: `string` (one role) or `json` (a role or an array of roles).
    pub format: Format,
    /// Where the template object is.
    pub location: Location,
}

impl RoleTemplate {
    /// `{"template": script, "format": "string" | "json"}`.
    pub fn to_json(&self) -> Value {
        to_value(self)
    }
}

impl Serialize for RoleTemplate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = serializer.serialize_map(Some(2))?;
        object.serialize_entry("template", &self.script)?;
        object.serialize_entry("format", self.format.name())?;
        object.end()
    }
}

impl PartialEq for RoleTemplate {
    fn eq(&self, other: &Self) -> bool {
        self.script == other.script && self.format == other.format
    }
}

/// The `template` of a role template: an Elasticsearch script.
#[derive(Debug, Clone, PartialEq)]
pub enum Script {
    /// `{"source": "...", "params": {...}, "options": {...}}`.
    Inline {
        /// The mustache source.
        source: String,
        /// `params`: extra template parameters; model keys win on a clash.
        params: Map<String, Value>,
        /// `options`, e.g. `content_type`.
        options: Vec<(String, String)>,
    },
    /// `{"id": "..."}`: a stored script.
    Stored {
        /// The stored script's id.
        id: String,
    },
    /// A script that does not parse, kept from a stored mapping document:
    /// Elasticsearch parses a stored template only when it runs, and then
    /// fails the resolution.
    Invalid {
        /// Why it does not parse.
        reason: String,
        /// The `template` value as it was written, so that the mapping
        /// converts back to what Elasticsearch stores.
        template: Value,
    },
}

impl Script {
    /// The script object: `{"source", "params", "options"}` (the last two
    /// when not empty), `{"id"}`, or an invalid script as it was written.
    pub fn to_json(&self) -> Value {
        to_value(self)
    }
}

impl Serialize for Script {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Script::Inline { source, params, options } => {
                let mut object = serializer.serialize_map(None)?;
                object.serialize_entry("source", source)?;
                if !params.is_empty() {
                    object.serialize_entry("params", params)?;
                }
                if !options.is_empty() {
                    let options = Entries(options.iter().map(|(k, v)| (k, v)));
                    object.serialize_entry("options", &options)?;
                }
                object.end()
            }
            Script::Stored { id } => {
                let mut object = serializer.serialize_map(Some(1))?;
                object.serialize_entry("id", id)?;
                object.end()
            }
            Script::Invalid { template, .. } => template.serialize(serializer),
        }
    }
}

/// Key–value pairs serialized as an object, in their order.
struct Entries<I>(I);

impl<K: Serialize, V: Serialize, I: Iterator<Item = (K, V)> + Clone> Serialize for Entries<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.clone())
    }
}

/// A rule.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What kind of rule.
    pub kind: ExprKind,
    /// Where it is.
    pub location: Location,
}

impl Expr {
    /// The rule as JSON: `{"all": [...]}`, `{"any": [...]}`, `{"except": rule}`
    /// or `{"field": {name: value}}`, with a list only when there is not
    /// exactly one value, as Elasticsearch writes it.
    pub fn to_json(&self) -> Value {
        to_value(self)
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = serializer.serialize_map(Some(1))?;
        match &self.kind {
            ExprKind::All(children) => object.serialize_entry("all", children)?,
            ExprKind::Any(children) => object.serialize_entry("any", children)?,
            ExprKind::Except(child) => object.serialize_entry("except", child)?,
            ExprKind::Field { name, values } => {
                let value = match values.as_slice() {
                    [one] => to_value(&one.kind),
                    values => Value::Array(values.iter().map(|v| to_value(&v.kind)).collect()),
                };
                let field = Entries(std::iter::once((name, value)));
                object.serialize_entry("field", &field)?;
            }
        }
        object.end()
    }
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

/// The four rule kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `{"any": [...]}`: true if one child is; `{"any": []}` is false.
    Any(Vec<Expr>),
    /// `{"all": [...]}`: true if every child is; `{"all": []}` is true.
    All(Vec<Expr>),
    /// `{"except": rule}`: the negation; only allowed as an element of `all`.
    Except(Box<Expr>),
    /// `{"field": {name: value | [values]}}`: true if the field matches one value.
    Field {
        /// The model field name, e.g. `groups` or `metadata.uid`.
        name: String,
        /// The values; the field matches if it matches any of them.
        values: Vec<FieldValue>,
    },
}

/// One value of a field rule.
#[derive(Debug, Clone)]
pub struct FieldValue {
    /// The value.
    pub kind: ValueKind,
    /// Where it is.
    pub location: Location,
}

impl PartialEq for FieldValue {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

/// A scalar as written in the rule.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number as written; Elasticsearch reads it as a 64-bit integer.
    Number(Number),
    /// A string: a literal, a wildcard (has `*`) or a regex (`/.../`).
    String(String),
}

impl ValueKind {
    /// The value as JSON.
    pub fn to_json(&self) -> Value {
        to_value(self)
    }
}

impl Serialize for ValueKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ValueKind::Null => serializer.serialize_unit(),
            ValueKind::Bool(b) => serializer.serialize_bool(*b),
            ValueKind::Number(n) => n.serialize(serializer),
            ValueKind::String(s) => serializer.serialize_str(s),
        }
    }
}
