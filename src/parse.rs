//! The JSON front end: role-mapping documents to the [`ast`](crate::ast).
//!
//! The walk over the JSON is written by hand rather than derived with serde so
//! that every node keeps its JSON pointer and every error of the spec (§1.2,
//! §4.1) can name where it is. Only structure is checked here; the semantic
//! checks are made when the tree is lowered, for every front end alike.
//!
//! The walk reads a light tree of its own (`Json`: member lists, borrowed
//! strings) rather than `serde_json::Value`, whose per-object hash maps and
//! owned strings made up most of the cost of reading a large document. The
//! tree lives in a bump arena (`bumpalo`) dropped in one piece: a node per
//! `malloc` and `free` was most of what was left.

use crate::ast::{Expr, ExprKind, FieldValue, Mapping, MappingSet, RoleTemplate, Script, ValueKind};
use crate::error::{Error, ErrorKind, Errors, Location};
use crate::template::Format;
use crate::{Options, Validation};
use bumpalo::Bump;
use bumpalo::collections::Vec as BumpVec;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// The keys of a mapping body that Elasticsearch reads.
const BODY_KEYS: [&str; 7] = ["enabled", "rules", "roles", "role_templates", "metadata", "doc_type", "type"];

/// Parses a role-mapping document: either one mapping body (named `name`) or
/// the `GET _security/role_mapping` response shape `{"<name>": body, ...}`.
///
/// With [`Validation::Request`] any error rejects the whole document; with
/// [`Validation::Stored`] a mapping that does not parse is left out and its
/// errors are returned beside the set, as Elasticsearch skips a stored
/// mapping document that does not parse.
pub fn parse_json(text: &str, name: &str, options: &Options) -> Result<(MappingSet, Vec<Error>), Errors> {
    parse(text, name, options, true)
}

/// [`parse_json`] without locations (every node at the root), for a
/// document that has no errors; `None` when it has any. Building a JSON
/// pointer per node costs a fifth of parsing, and only errors need them, so
/// a caller that gets `None` parses again with [`parse_json`] to report them.
pub(crate) fn parse_json_unlocated(text: &str, name: &str, options: &Options) -> Option<MappingSet> {
    match parse(text, name, options, false) {
        Ok((set, skipped)) if skipped.is_empty() => Some(set),
        _ => None,
    }
}

fn parse(text: &str, name: &str, options: &Options, locate: bool) -> Result<(MappingSet, Vec<Error>), Errors> {
    let arena = Bump::new();
    let root = read_json(text, &arena)?;
    let Json::Object(object) = &root else {
        return Err(Error::new(ErrorKind::NotAMappingDocument, Location::root()).into());
    };
    let mut entries: Vec<(String, &Json, Location)> = Vec::new();
    if is_single_body(object) {
        entries.push((name.to_owned(), &root, Location::root()));
    } else {
        for (key, body) in object.iter() {
            let location = if locate { Location::root().key(key) } else { Location::root() };
            entries.push((key.to_string(), body, location));
        }
    }
    if entries.len() > options.max_mappings {
        return Err(Error::new(ErrorKind::TooManyMappings(options.max_mappings), Location::root()).into());
    }
    let mut set = MappingSet::default();
    let mut errors = Vec::new();
    for (name, body, location) in entries {
        let mut parser =
            Parser { errors: Vec::new(), max_depth: options.max_depth, validation: options.validation, locate };
        let mapping = parser.mapping(&name, body, location);
        let mapping_errors: Vec<Error> = parser.errors.into_iter().map(|e| e.in_mapping(&name)).collect();
        match mapping {
            Some(mapping) if mapping_errors.is_empty() => set.mappings.push(mapping),
            _ => errors.extend(mapping_errors),
        }
    }
    match options.validation {
        Validation::Request => match Errors::from_vec(errors) {
            Some(errors) => Err(errors),
            None => Ok((set, Vec::new())),
        },
        Validation::Stored => Ok((set, errors)),
    }
}

/// A document is a single body when it has `rules` whose value is not itself
/// a mapping body; otherwise it is a map of names to bodies (a mapping that
/// is literally named `rules` then still reads as the response shape).
fn is_single_body(object: &[(&str, Json)]) -> bool {
    match get(object, "rules") {
        Some(Json::Object(rules)) => !(has(rules, "rules") || has(rules, "enabled")),
        Some(_) => true,
        None => {
            object.iter().any(|(k, _)| BODY_KEYS.contains(k))
                && !object.iter().all(|(_, v)| matches!(v, Json::Object(_)))
        }
    }
}

struct Parser {
    errors: Vec<Error>,
    max_depth: usize,
    validation: Validation,
    /// Whether nodes get their JSON pointers (see [`parse_json_unlocated`]).
    locate: bool,
}

/// Where a rule sits, which decides whether `except` is allowed there.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Parent {
    Top,
    Any,
    All,
    Except,
}

impl Parent {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Parent::Top => "at the top of `rules`",
            Parent::Any => "inside `any`",
            Parent::All => "inside `all`",
            Parent::Except => "directly inside `except`",
        }
    }
}

impl Parser {
    fn key(&self, at: &Location, key: &str) -> Location {
        if self.locate { at.key(key) } else { Location::root() }
    }

    fn index(&self, at: &Location, index: usize) -> Location {
        if self.locate { at.index(index) } else { Location::root() }
    }

    fn error(&mut self, kind: ErrorKind, location: &Location) {
        self.errors.push(Error::new(kind, location.clone()));
    }

    fn wrong_type(&mut self, what: &str, expected: &'static str, found: &Json, location: &Location) {
        let kind = ErrorKind::WrongType { what: what.to_owned(), expected, found: found.describe() };
        self.error(kind, location);
    }

    fn mapping(&mut self, name: &str, body: &Json, location: Location) -> Option<Mapping> {
        let Json::Object(object) = body else {
            self.wrong_type(name, "an object (a role mapping)", body, &location);
            return None;
        };
        let mut enabled = None;
        let mut rules = None;
        let mut roles = None;
        let mut templates = None;
        let mut metadata = Map::new();
        for (key, value) in object.iter() {
            let at = self.key(&location, key);
            match *key {
                "enabled" => enabled = self.enabled(value, &at),
                "rules" => rules = self.rule(value, &at, Parent::Top, 1),
                "roles" => roles = self.roles(value, &at),
                "role_templates" => templates = self.templates(value, &at),
                "metadata" => match value {
                    Json::Object(_) => metadata = value.to_map(),
                    other => self.wrong_type("metadata", "an object", other, &at),
                },
                // Present in documents read from the security index; ignored there too.
                "doc_type" | "type" => {
                    if !matches!(value, Json::Str(_)) {
                        self.wrong_type(key, "a string", value, &at);
                    }
                }
                other => self.error(ErrorKind::UnknownKey(other.to_owned()), &at),
            }
        }
        if !has(object, "enabled") {
            self.error(ErrorKind::MissingKey("enabled"), &location);
        }
        if !has(object, "rules") {
            self.error(ErrorKind::MissingKey("rules"), &location);
        }
        if !has(object, "roles") && !has(object, "role_templates") {
            self.error(ErrorKind::NoRoles, &location);
        }
        Some(Mapping {
            name: name.to_owned(),
            enabled: enabled?,
            roles: roles.unwrap_or_default(),
            role_templates: templates.unwrap_or_default(),
            rules: rules?,
            metadata,
            location,
        })
    }

    fn enabled(&mut self, value: &Json, at: &Location) -> Option<bool> {
        match value {
            Json::Bool(b) => Some(*b),
            // Newer Elasticsearch parsers accept the strings too.
            Json::Str(s) if *s == "true" => Some(true),
            Json::Str(s) if *s == "false" => Some(false),
            other => {
                self.wrong_type("enabled", "a boolean", other, at);
                None
            }
        }
    }

    fn roles(&mut self, value: &Json, at: &Location) -> Option<Vec<String>> {
        match value {
            // A single string is accepted as a one-element list, as Elasticsearch does.
            Json::Str(s) => Some(vec![s.to_string()]),
            Json::Array(items) => {
                let mut roles = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Json::Str(s) => roles.push(s.to_string()),
                        // Elasticsearch reads each element as text, so `7` and
                        // `true` are the roles "7" and "true".
                        Json::Number(n) => roles.push(n.to_string()),
                        Json::Bool(b) => roles.push(b.to_string()),
                        other => {
                            let at = self.index(at, i);
                            self.wrong_type("roles", "an array of strings", other, &at)
                        }
                    }
                }
                Some(roles)
            }
            other => {
                self.wrong_type("roles", "an array of strings", other, at);
                None
            }
        }
    }

    fn templates(&mut self, value: &Json, at: &Location) -> Option<Vec<RoleTemplate>> {
        match value {
            // A single template object is accepted as a one-element list.
            Json::Object(_) => Some(self.template(value, at).into_iter().collect()),
            Json::Array(items) => {
                let templates =
                    items.iter().enumerate().filter_map(|(i, item)| self.template(item, &self.index(at, i))).collect();
                Some(templates)
            }
            other => {
                self.wrong_type("role_templates", "an array of template objects", other, at);
                None
            }
        }
    }

    fn template(&mut self, value: &Json, at: &Location) -> Option<RoleTemplate> {
        let Json::Object(object) = value else {
            self.wrong_type("role_templates", "an array of template objects", value, at);
            return None;
        };
        let mut script = None;
        let mut format = Some(Format::String);
        for (key, value) in object.iter() {
            let at = self.key(at, key);
            match *key {
                "template" => script = self.script(value, &at),
                "format" => {
                    format = match value {
                        Json::Str(s) => {
                            let format = Format::parse(s);
                            if format.is_none() {
                                self.error(ErrorKind::BadFormat(s.to_string()), &at);
                            }
                            format
                        }
                        other => {
                            self.wrong_type("format", "a string", other, &at);
                            None
                        }
                    }
                }
                other => self.error(ErrorKind::UnknownKey(other.to_owned()), &at),
            }
        }
        if !has(object, "template") {
            self.error(ErrorKind::MissingKey("template"), at);
        }
        Some(RoleTemplate { script: script?, format: format?, location: at.clone() })
    }

    /// A script is an object, or a string that contains one as JSON text
    /// (Elasticsearch stores templates that way).
    ///
    /// Elasticsearch keeps the script of a stored mapping as it was written
    /// and parses it only when it runs, so with stored validation a script
    /// that does not parse becomes [`Script::Invalid`] instead of an error.
    fn script(&mut self, value: &Json, at: &Location) -> Option<Script> {
        let source = object_source(value);
        read_script(&value.to_value(), source, at, self.validation, &mut self.errors)
    }

    fn rule(&mut self, value: &Json, at: &Location, parent: Parent, depth: usize) -> Option<Expr> {
        if depth > self.max_depth {
            self.error(ErrorKind::TooDeep(self.max_depth), at);
            return None;
        }
        let Json::Object(object) = value else {
            let what = match parent {
                Parent::Top => "rules",
                Parent::Any => "any",
                Parent::All => "all",
                Parent::Except => "except",
            };
            self.wrong_type(what, "a rule object", value, at);
            return None;
        };
        let mut keys = object.iter();
        let Some((key, body)) = keys.next() else {
            self.error(ErrorKind::EmptyRule, at);
            return None;
        };
        if let Some((second, _)) = keys.next() {
            self.error(ErrorKind::MultipleRuleKeys(key.to_string(), second.to_string()), at);
            return None;
        }
        let inner = self.key(at, key);
        let kind = match *key {
            "any" | "all" => {
                let Json::Array(items) = body else {
                    self.wrong_type(key, "an array of rules", body, &inner);
                    return None;
                };
                let child_parent = if *key == "any" { Parent::Any } else { Parent::All };
                let mut children = Vec::with_capacity(items.len());
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    match self.rule(item, &self.index(&inner, i), child_parent, depth + 1) {
                        Some(child) => children.push(child),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                if *key == "any" { ExprKind::Any(children) } else { ExprKind::All(children) }
            }
            "except" => {
                if parent != Parent::All {
                    self.error(ErrorKind::MisplacedExcept(parent.describe()), &inner);
                    return None;
                }
                ExprKind::Except(Box::new(self.rule(body, &inner, Parent::Except, depth + 1)?))
            }
            "field" => self.field(body, &inner)?,
            other => {
                self.error(ErrorKind::UnknownRule(other.to_owned()), &inner);
                return None;
            }
        };
        Some(Expr { kind, location: at.clone() })
    }

    fn field(&mut self, body: &Json, at: &Location) -> Option<ExprKind> {
        let Json::Object(object) = body else {
            self.wrong_type("field", "an object such as {\"username\": \"...\"}", body, at);
            return None;
        };
        let mut members = object.iter();
        let Some((name, value)) = members.next() else {
            self.error(ErrorKind::EmptyField, at);
            return None;
        };
        if let Some((second, _)) = members.next() {
            self.error(ErrorKind::MultipleFields(name.to_string(), second.to_string()), at);
            return None;
        }
        let at = self.key(at, name);
        let values = match value {
            Json::Array(items) => {
                let mut values = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    values.push(self.scalar(item, &self.index(&at, i))?);
                }
                values
            }
            other => vec![self.scalar(other, &at)?],
        };
        Some(ExprKind::Field { name: name.to_string(), values })
    }

    fn scalar(&mut self, value: &Json, at: &Location) -> Option<FieldValue> {
        let kind = match value {
            Json::Null => ValueKind::Null,
            Json::Bool(b) => ValueKind::Bool(*b),
            Json::Number(n) => ValueKind::Number(n.clone()),
            Json::Str(s) => ValueKind::String(s.to_string()),
            Json::Array(_) | Json::Object(_) => {
                self.error(ErrorKind::BadFieldValue(value.describe()), at);
                return None;
            }
        };
        Some(FieldValue { kind, location: at.clone() })
    }
}

/// Reads the `template` value of a role template, for both front ends:
/// with [`Validation::Stored`] a script that does not parse is kept as
/// [`Script::Invalid`] with the value as written; otherwise its problems go
/// to `errors`.
///
/// `object_source` is the JSON text of the script's `source` when that is
/// an object ([`object_source`]), as it was written.
pub(crate) fn read_script(
    value: &Value,
    object_source: Option<String>,
    at: &Location,
    validation: Validation,
    errors: &mut Vec<Error>,
) -> Option<Script> {
    let mut problems = Vec::new();
    let script = script(value, object_source, at, &mut problems);
    match (problems.first(), validation) {
        (None, _) => script,
        (Some(first), Validation::Stored) => {
            Some(Script::Invalid { reason: first.kind().to_string(), template: value.clone() })
        }
        (Some(_), Validation::Request) => {
            errors.extend(problems);
            None
        }
    }
}

/// The JSON text of a script's `source` (or `inline`) when that is an
/// object, members in the order they were written: Elasticsearch copies
/// the object to text as it reads it, and the text is the template, while a
/// `Value` holds members sorted. `script` is the script object, or a string
/// holding one as JSON text.
fn object_source(script: &Json) -> Option<String> {
    match script {
        Json::Object(members) => ["source", "inline"].into_iter().find_map(|key| match get(members, key) {
            Some(source @ Json::Object(_)) => serde_json::to_string(source).ok(),
            _ => None,
        }),
        Json::Str(text) => object_source_in(text),
        _ => None,
    }
}

/// [`object_source`] of the script written as JSON `text`.
pub(crate) fn object_source_in(text: &str) -> Option<String> {
    let arena = Bump::new();
    object_source(&read_json(text, &arena).ok()?)
}

fn script(value: &Value, object_source: Option<String>, at: &Location, problems: &mut Vec<Error>) -> Option<Script> {
    let wrong_type = |what: &str, expected: &'static str, found: &Value, at: &Location| {
        let kind = ErrorKind::WrongType { what: what.to_owned(), expected, found: describe(found) };
        Error::new(kind, at.clone())
    };
    let parsed;
    let object = match value {
        Value::Object(object) => object,
        Value::String(text) => match strict_json(text) {
            Ok(Value::Object(object)) => {
                parsed = object;
                &parsed
            }
            _ => {
                let message =
                    format!("the template string `{text}` is not a JSON script object such as {{\"source\": \"...\"}}");
                problems.push(Error::new(ErrorKind::Template(message), at.clone()));
                return None;
            }
        },
        other => {
            problems.push(wrong_type("template", "an object", other, at));
            return None;
        }
    };
    let mut source = None;
    let mut id = None;
    let mut params = Map::new();
    let mut options = Vec::new();
    for (key, value) in object.iter() {
        let at = at.key(key);
        match (key.as_str(), value) {
            ("source" | "inline", Value::String(s)) => source = Some(s.clone()),
            // Elasticsearch turns an object source of a mustache script into its JSON text.
            ("source" | "inline", Value::Object(_)) => {
                source = Some(object_source.clone().unwrap_or_else(|| value.to_string()));
            }
            ("id", Value::String(s)) => id = Some(s.clone()),
            // Role templates always run as mustache, whatever `lang` says.
            ("lang", Value::String(_)) => {}
            ("params", Value::Object(p)) => params = p.clone(),
            ("options", Value::Object(o)) => {
                for (k, v) in o {
                    match v {
                        Value::String(v) => options.push((k.clone(), v.clone())),
                        other => problems.push(wrong_type(k, "a string", other, &at.key(k))),
                    }
                }
            }
            ("source" | "inline" | "id" | "lang" | "params" | "options", other) => {
                let expected = if matches!(key.as_str(), "params" | "options") { "an object" } else { "a string" };
                problems.push(wrong_type(key, expected, other, &at));
            }
            (other, _) => problems.push(Error::new(ErrorKind::UnknownKey(other.to_owned()), at)),
        }
    }
    match (source, id) {
        (Some(source), None) => Some(Script::Inline { source, params, options }),
        (None, Some(id)) => Some(Script::Stored { id }),
        (Some(_), Some(_)) => {
            let message = "a script has either `source` or `id`, not both".to_owned();
            problems.push(Error::new(ErrorKind::Template(message), at.clone()));
            None
        }
        (None, None) => {
            problems.push(Error::new(ErrorKind::MissingKey("source"), at.clone()));
            None
        }
    }
}

/// "an object", "a string", ... for messages.
pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses JSON text, rejecting duplicate object keys as Elasticsearch's
/// parser does (serde_json would keep the last one silently).
///
/// Nesting is bounded by serde_json's recursion limit (128), so hostile input
/// cannot overflow the stack.
pub(crate) fn strict_json(text: &str) -> Result<Value, Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = StrictValue.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    value.map_err(json_error)
}

/// [`strict_json`] into a [`Json`] tree in `arena` that borrows the text.
fn read_json<'x>(text: &'x str, arena: &'x Bump) -> Result<Json<'x>, Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = JsonSeed(arena).deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    value.map_err(json_error)
}

fn json_error(e: serde_json::Error) -> Error {
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = e.to_string();
    let message = message.strip_suffix(&suffix).unwrap_or(&message);
    let kind = match message.strip_prefix("duplicate key `").and_then(|rest| rest.strip_suffix('`')) {
        Some(key) => ErrorKind::DuplicateKey(key.to_owned()),
        None => ErrorKind::Json(message.to_owned()),
    };
    Error::new(kind, Location::position(e.line(), e.column()))
}

/// A JSON value as the mapping walker reads it: objects as member lists
/// (most have one or two members, for which a map's hash table is pure
/// cost) and strings borrowed from the text unless they hold escapes.
/// Reading a large document this way allocates a fraction of what a
/// `serde_json::Value` does. Strings with escapes, arrays and member lists
/// are in the arena, so a tree needs no drop.
#[derive(Debug, Clone)]
enum Json<'a> {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(&'a str),
    Array(&'a [Json<'a>]),
    /// Members in document order, without repeated keys.
    Object(&'a [(&'a str, Json<'a>)]),
}

impl serde::Serialize for Json<'_> {
    /// As JSON text would write it, members in document order.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Number(n) => n.serialize(serializer),
            Json::Str(s) => serializer.serialize_str(s),
            Json::Array(items) => serializer.collect_seq(items.iter()),
            Json::Object(members) => serializer.collect_map(members.iter().map(|(k, v)| (k, v))),
        }
    }
}

fn get<'j, 'a>(members: &'j [(&'a str, Json<'a>)], key: &str) -> Option<&'j Json<'a>> {
    members.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

fn has(members: &[(&str, Json)], key: &str) -> bool {
    get(members, key).is_some()
}

impl Json<'_> {
    fn describe(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::Str(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::Str(s) => Value::String((*s).to_owned()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Object(_) => Value::Object(self.to_map()),
        }
    }

    /// The members of an object as a map (empty for other values).
    fn to_map(&self) -> Map<String, Value> {
        match self {
            Json::Object(members) => members.iter().map(|(k, v)| ((*k).to_owned(), v.to_value())).collect(),
            _ => Map::new(),
        }
    }
}

/// Objects with more members than this check for a repeated key with a
/// hash set instead of a scan.
const SCAN_MEMBERS: usize = 16;

/// Reads a value into the arena.
#[derive(Clone, Copy)]
struct JsonSeed<'x>(&'x Bump);

impl<'de: 'x, 'x> DeserializeSeed<'de> for JsonSeed<'x> {
    type Value = Json<'x>;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Json<'x>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A key, borrowed when the text has no escapes, else copied to the arena.
struct KeySeed<'x>(&'x Bump);

impl<'de: 'x, 'x> DeserializeSeed<'de> for KeySeed<'x> {
    type Value = &'x str;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<&'x str, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de: 'x, 'x> Visitor<'de> for KeySeed<'x> {
    type Value = &'x str;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(v)
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.alloc_str(v))
    }
}

impl<'de: 'x, 'x> Visitor<'de> for JsonSeed<'x> {
    type Value = Json<'x>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Json::Str(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Json::Str(self.0.alloc_str(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = BumpVec::new_in(self.0);
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Json::Array(items.into_bump_slice()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members: BumpVec<'x, (&'x str, Json<'x>)> = BumpVec::new_in(self.0);
        let mut seen: Option<rustc_hash::FxHashSet<&'x str>> = None;
        while let Some(key) = map.next_key_seed(KeySeed(self.0))? {
            let repeated = match &mut seen {
                Some(seen) => !seen.insert(key),
                None => {
                    let repeated = members.iter().any(|(k, _)| *k == key);
                    if members.len() >= SCAN_MEMBERS {
                        seen = Some(members.iter().map(|(k, _)| *k).chain([key]).collect());
                    }
                    repeated
                }
            };
            if repeated {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            let value = map.next_value_seed(self)?;
            members.push((key, value));
        }
        Ok(Json::Object(members.into_bump_slice()))
    }
}

/// The `Visitor` methods that turn JSON scalars into `Value`s, for the
/// visitors that build values (here and in the token reader).
macro_rules! visit_scalars {
    () => {
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
    };
}
pub(crate) use visit_scalars;

pub(crate) struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    visit_scalars!();
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            let value = map.next_value_seed(StrictValue)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate(text: &str) -> Option<String> {
        match read_json(text, &Bump::new()) {
            Err(e) => match e.kind() {
                ErrorKind::DuplicateKey(key) => Some(key.clone()),
                other => panic!("{other}"),
            },
            Ok(_) => None,
        }
    }

    #[test]
    fn repeated_keys_are_found_in_small_and_large_objects() {
        assert_eq!(duplicate(r#"{"a": 1, "b": 2, "a": 3}"#).as_deref(), Some("a"));
        // The same key spelt with an escape is the same key.
        assert_eq!(duplicate(r#"{"a": 1, "\u0061": 2}"#).as_deref(), Some("a"));
        for n in [SCAN_MEMBERS - 1, SCAN_MEMBERS, SCAN_MEMBERS + 1, 100] {
            let members: Vec<String> = (0..n).map(|i| format!("\"k{i}\": {i}")).collect();
            let unique = format!("{{{}}}", members.join(", "));
            assert_eq!(duplicate(&unique), None, "{n} members");
            for at in [0, n / 2, n - 1] {
                let repeated = format!("{{{}, \"k{at}\": 0}}", members.join(", "));
                assert_eq!(duplicate(&repeated), Some(format!("k{at}")), "{n} members, k{at} again");
            }
        }
    }

    #[test]
    fn reading_without_locations_gives_the_same_mappings() {
        let options = Options::default();
        let docs = [
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/mappings.json")).unwrap(),
            crate::workload::mappings(300),
            r#"{"enabled": true, "roles": ["a\"b", 7, true], "rules": {"field": {"groups": ["x\u00e9", null, 1.5]}},
               "role_templates": [{"template": {"source": "{{username}}"}, "format": "json"}],
               "metadata": {"k": [1, {"n": null}]}}"#
                .to_owned(),
        ];
        for doc in &docs {
            let (located, skipped) = parse_json(doc, "m", &options).unwrap();
            assert!(skipped.is_empty());
            let unlocated = parse_json_unlocated(doc, "m", &options).unwrap();
            assert_eq!(unlocated, located);
            assert!(unlocated.mappings.iter().all(|m| m.location == Location::root()));
        }
        // A document with a problem is left to the located reading.
        assert!(
            parse_json_unlocated(r#"{"enabled": 1, "roles": ["a"], "rules": {"all": []}}"#, "m", &options).is_none()
        );
    }
}
