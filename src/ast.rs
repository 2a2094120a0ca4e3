//! The abstract syntax tree of role mappings: close to what the user wrote,
//! with a location on every node.
//!
//! Equality ignores locations, so two front ends (JSON today, the text form
//! later) can be compared node for node. Semantic checks (patterns, templates,
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
    },
}

/// A rule.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What kind of rule.
    pub kind: ExprKind,
    /// Where it is.
    pub location: Location,
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
