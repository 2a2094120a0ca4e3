//! The abstract syntax tree of role mappings: close to what the user wrote,
//! with a location on every node.
//!
//! Equality ignores locations, so the two front ends (JSON and the
//! [text form](crate::text)) can be compared node for node. Semantic checks (patterns, templates,
//! empty values, roles) are not made here but when the tree is lowered
//! (in `RuleSet::new`), so that every front end gets the same checks and messages.

use crate::error::Location;
use crate::template::Format;
use serde_json::{Map, Number, Value};

/// All role mappings of one document, in document order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MappingSet {
    /// The mappings.
    pub mappings: Vec<Mapping>,
}

impl MappingSet {
    /// The mappings as JSON in the shape of `GET _security/role_mapping`:
    /// `{"<name>": body, ...}`, each body's keys in Elasticsearch's order
    /// (`enabled`, `roles`, `role_templates`, `rules`, `metadata`).
    ///
    /// Reading the result with [`parse_json`](crate::parse::parse_json)
    /// gives back an equal set.
    ///
    /// ```
    /// use rolemap::{Options, text};
    ///
    /// let text = r#"mapping "admins" { roles: "superuser" rules: groups == ["admins", /adm-\d+/] }"#;
    /// let (set, _) = text::parse(text, "mappings", &Options::default()).unwrap();
    /// assert_eq!(
    ///     set.to_json().to_string(),
    ///     r#"{"admins":{"enabled":true,"roles":["superuser"],"rules":{"field":{"groups":["admins","/adm-\\d+/"]}},"metadata":{}}}"#
    /// );
    /// ```
    pub fn to_json(&self) -> Value {
        Value::Object(self.mappings.iter().map(|m| (m.name.clone(), m.to_json())).collect())
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
    /// The mapping's body as JSON, keys in Elasticsearch's order.
    ///
    /// `roles` and `role_templates` are written when they are not empty,
    /// and `roles` also when both are, as a mapping must have one of them.
    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("enabled".into(), self.enabled.into());
        if !self.roles.is_empty() || self.role_templates.is_empty() {
            body.insert("roles".into(), self.roles.clone().into());
        }
        if !self.role_templates.is_empty() {
            body.insert("role_templates".into(), self.role_templates.iter().map(RoleTemplate::to_json).collect());
        }
        body.insert("rules".into(), self.rules.to_json());
        body.insert("metadata".into(), Value::Object(self.metadata.clone()));
        Value::Object(body)
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
        let mut object = Map::new();
        object.insert("template".into(), self.script.to_json());
        object.insert("format".into(), self.format.name().into());
        Value::Object(object)
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
        match self {
            Script::Inline { source, params, options } => {
                let mut object = Map::new();
                object.insert("source".into(), source.clone().into());
                if !params.is_empty() {
                    object.insert("params".into(), Value::Object(params.clone()));
                }
                if !options.is_empty() {
                    let options = options.iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect();
                    object.insert("options".into(), Value::Object(options));
                }
                Value::Object(object)
            }
            Script::Stored { id } => {
                let mut object = Map::new();
                object.insert("id".into(), id.clone().into());
                Value::Object(object)
            }
            Script::Invalid { template, .. } => template.clone(),
        }
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
        let mut object = Map::new();
        match &self.kind {
            ExprKind::All(children) => object.insert("all".into(), children.iter().map(Expr::to_json).collect()),
            ExprKind::Any(children) => object.insert("any".into(), children.iter().map(Expr::to_json).collect()),
            ExprKind::Except(child) => object.insert("except".into(), child.to_json()),
            ExprKind::Field { name, values } => {
                let value = match values.as_slice() {
                    [one] => one.kind.to_json(),
                    values => values.iter().map(|v| v.kind.to_json()).collect(),
                };
                let mut field = Map::new();
                field.insert(name.clone(), value);
                object.insert("field".into(), Value::Object(field))
            }
        };
        Value::Object(object)
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
        match self {
            ValueKind::Null => Value::Null,
            ValueKind::Bool(b) => Value::Bool(*b),
            ValueKind::Number(n) => Value::Number(n.clone()),
            ValueKind::String(s) => Value::String(s.clone()),
        }
    }
}
