//! Checked role mappings: the AST after every semantic check, with rule
//! values and templates compiled. Both the reference interpreter and the
//! program compiler start from here, so both see exactly the same mappings.

use crate::ast::{self, ExprKind, MappingSet, Script};
use crate::error::{Error, ErrorKind, Errors, Location};
use crate::matcher::{Field, Matcher};
use crate::template::{Escape, Format, Template, roles_from_rendered};
use crate::user::Model;
use crate::{Options, Syntax, Validation};
use rustc_hash::FxHashSet;
use serde_json::{Map, Value};
use std::fmt;

/// The name suffix of Elasticsearch's read-only operator mappings in the
/// `GET _security/role_mapping` output; their metadata carries `_read_only`.
const OPERATOR_SUFFIX: &str = "-read-only-operator-mapping";

/// Role mappings that passed every check, ready to compile.
///
/// ```
/// use rolemap::{Options, RuleSet};
///
/// let json = r#"{"admins": {"enabled": true, "roles": ["superuser"],
///     "rules": {"field": {"groups": "elasticadmins"}}}}"#;
/// let rules = RuleSet::from_json(json, "mappings", &Options::default()).unwrap();
/// assert_eq!(rules.len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub(crate) rules: Vec<Rule>,
    skipped: Vec<Error>,
    pub(crate) numbers: NumberGuard,
}

/// Metadata keys that an enabled mapping tests against an integer, each
/// with the first such mapping.
///
/// Elasticsearch compares a metadata integer past the 64-bit range with an
/// integer rule by throwing, which fails the user's resolution; when it
/// throws depends on its evaluation order. Both engines fail closed instead:
/// the resolution fails whenever such a number sits under a key that an
/// enabled mapping tests against an integer.
#[derive(Debug, Clone, Default)]
pub(crate) struct NumberGuard(Vec<(Box<str>, Box<str>)>);

impl NumberGuard {
    fn new(rules: &[Rule]) -> Self {
        let mut guard: Vec<(Box<str>, Box<str>)> = Vec::new();
        for rule in rules.iter().filter(|r| r.enabled) {
            let mut keys = Vec::new();
            integer_tested_keys(&rule.cond, &mut keys);
            for key in keys {
                if !guard.iter().any(|(k, _)| **k == *key) {
                    guard.push((key.into(), rule.name.clone()));
                }
            }
        }
        Self(guard)
    }

    pub(crate) fn check(&self, model: &Model) -> Result<(), ResolveError> {
        for (key, mapping) in &self.0 {
            if let Some(n) = model.metadata(key).and_then(|m| m.big_number()) {
                let message = format!(
                    "metadata `{key}` holds `{n}`, which does not fit a 64-bit integer, and an integer rule tests it"
                );
                return Err(ResolveError { mapping: mapping.to_string(), message });
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) name: Box<str>,
    pub(crate) enabled: bool,
    pub(crate) roles: Vec<Box<str>>,
    pub(crate) templates: Vec<RoleTemplate>,
    pub(crate) cond: Cond,
}

/// A checked rule: `except` has become `Not`, values are compiled matchers.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    Any(Vec<Cond>),
    All(Vec<Cond>),
    Not(Box<Cond>),
    Field { field: Field, matchers: Vec<Matcher> },
}

/// A compiled role template.
#[derive(Debug, Clone)]
pub(crate) struct RoleTemplate {
    /// `Err` holds why the template cannot render; only stored-document
    /// validation keeps such a template, and, as in Elasticsearch, it fails
    /// the resolution of every user its mapping matches.
    template: Result<Template, String>,
    format: Format,
    params: Map<String, Value>,
}

impl RoleTemplate {
    /// Renders the template for a user (spec §4.4).
    pub(crate) fn roles(&self, scope: &Map<String, Value>) -> Result<Vec<String>, String> {
        let template = self.template.as_ref().map_err(Clone::clone)?;
        let rendered = if self.params.is_empty() {
            template.render(scope)
        } else {
            // Template params are merged under the model: model keys win.
            let mut merged = self.params.clone();
            merged.extend(scope.iter().map(|(k, v)| (k.clone(), v.clone())));
            template.render(&merged)
        };
        let rendered = rendered.map_err(|e| e.to_string())?;
        roles_from_rendered(rendered, self.format).map_err(|e| e.to_string())
    }

    pub(crate) fn describe(&self) -> String {
        let format = match self.format {
            Format::String => "string",
            Format::Json => "json",
        };
        match &self.template {
            Ok(t) => format!("{} ({format})", Value::String(t.source().to_owned())),
            Err(e) => format!("<invalid: {e}>"),
        }
    }
}

impl RuleSet {
    /// Parses and checks a role-mapping JSON document (one mapping body named
    /// `name`, or the `GET _security/role_mapping` response shape).
    pub fn from_json(text: &str, name: &str, options: &Options) -> Result<Self, Errors> {
        // Most documents have no errors: read them without locations first,
        // and only when something is wrong again with them, for the report.
        if let Some(set) = crate::parse::parse_json_unlocated(text, name, options)
            && let Ok(rules) = Self::new(&set, options)
            && rules.skipped.is_empty()
        {
            return Ok(rules);
        }
        let (set, skipped) = crate::parse::parse_json(text, name, options)?;
        let mut rules = Self::new(&set, options)?;
        rules.skipped.splice(0..0, skipped);
        Ok(rules)
    }

    /// Parses and checks role mappings written in the [text form](crate::text),
    /// as [`from_json`](Self::from_json) does for JSON. A mapping written
    /// without a name is named `name`.
    ///
    /// ```
    /// use rolemap::{Options, RuleSet};
    ///
    /// let text = r#"
    /// mapping "admins" {
    ///   roles: "superuser"
    ///   rules: groups == "elasticadmins"
    /// }"#;
    /// let rules = RuleSet::from_text(text, "mappings", &Options::default()).unwrap();
    /// assert_eq!(rules.names().collect::<Vec<_>>(), ["admins"]);
    /// ```
    pub fn from_text(text: &str, name: &str, options: &Options) -> Result<Self, Errors> {
        let (set, skipped, locator) = crate::text::parse_located(text, name, options)?;
        let mut rules = Self::new(&set, options).map_err(|errors| locator.locate_all(&errors))?;
        rules.skipped = rules.skipped.into_iter().map(|e| locator.locate(e)).collect();
        rules.skipped.splice(0..0, skipped);
        Ok(rules)
    }

    /// Parses and checks a document written in `syntax` (see
    /// [`Syntax::of_path`](crate::Syntax::of_path) to choose by file name).
    pub fn from_source(text: &str, name: &str, syntax: Syntax, options: &Options) -> Result<Self, Errors> {
        match syntax {
            Syntax::Json => Self::from_json(text, name, options),
            Syntax::Text => Self::from_text(text, name, options),
        }
    }

    /// Checks parsed mappings: empty field names and value lists, rule
    /// numbers, patterns, templates, roles and metadata (spec §1.2, §4).
    pub fn new(set: &MappingSet, options: &Options) -> Result<Self, Errors> {
        let mut rules = Vec::with_capacity(set.mappings.len());
        let mut errors = Vec::new();
        let mut names = FxHashSet::default();
        if set.mappings.len() > options.max_mappings {
            return Err(Error::new(ErrorKind::TooManyMappings(options.max_mappings), Location::root()).into());
        }
        for mapping in &set.mappings {
            if !names.insert(mapping.name.as_str()) {
                let kind = ErrorKind::DuplicateMapping(mapping.name.clone());
                errors.push(Error::new(kind, mapping.location.clone()).in_mapping(&mapping.name));
                continue;
            }
            let mut checker = Checker { errors: Vec::new(), options };
            let rule = checker.mapping(mapping);
            if checker.errors.is_empty() {
                rules.extend(rule);
            } else {
                errors.extend(checker.errors.into_iter().map(|e| e.in_mapping(&mapping.name)));
            }
        }
        let skipped = match (options.validation, Errors::from_vec(errors)) {
            (Validation::Request, Some(errors)) => return Err(errors),
            (Validation::Request, None) => Vec::new(),
            (Validation::Stored, errors) => errors.map_or_else(Vec::new, |e| e.iter().cloned().collect()),
        };
        let numbers = NumberGuard::new(&rules);
        Ok(Self { rules, skipped, numbers })
    }

    /// How many mappings there are, enabled or not.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no mappings.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The names of the mappings, in document order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| &*r.name)
    }

    /// With [`Validation::Stored`]: the problems of the mappings that were
    /// left out. Empty otherwise.
    pub fn skipped(&self) -> &[Error] {
        &self.skipped
    }
}

fn integer_tested_keys<'a>(cond: &'a Cond, out: &mut Vec<&'a str>) {
    match cond {
        Cond::Any(cs) | Cond::All(cs) => cs.iter().for_each(|c| integer_tested_keys(c, out)),
        Cond::Not(c) => integer_tested_keys(c, out),
        Cond::Field { field: Field::Metadata(key), matchers } => {
            if matchers.iter().any(|m| matches!(m, Matcher::Int(_))) {
                out.push(key);
            }
        }
        Cond::Field { .. } => {}
    }
}

struct Checker<'a> {
    errors: Vec<Error>,
    options: &'a Options,
}

impl Checker<'_> {
    fn mapping(&mut self, m: &ast::Mapping) -> Option<Rule> {
        let request = self.options.validation == Validation::Request;
        if request {
            if m.roles.is_empty() && m.role_templates.is_empty() {
                self.errors.push(Error::new(ErrorKind::NoRoles, m.location.clone()));
            }
            if !m.roles.is_empty() && !m.role_templates.is_empty() {
                self.errors.push(Error::new(ErrorKind::RolesAndTemplates, m.location.clone()));
            }
            for key in m.metadata.keys() {
                let operator_flag = key == "_read_only" && m.name.ends_with(OPERATOR_SUFFIX);
                if key.starts_with('_') && !operator_flag {
                    let at = m.location.key("metadata").key(key);
                    self.errors.push(Error::new(ErrorKind::ReservedMetadataKey(key.clone()), at));
                }
            }
        }
        let cond = self.cond(&m.rules);
        let templates = m.role_templates.iter().filter_map(|t| self.template(t, request)).collect();
        Some(Rule {
            name: m.name.as_str().into(),
            enabled: m.enabled,
            roles: m.roles.iter().map(|r| r.as_str().into()).collect(),
            templates,
            cond: cond?,
        })
    }

    fn cond(&mut self, expr: &ast::Expr) -> Option<Cond> {
        Some(match &expr.kind {
            ExprKind::Any(children) => Cond::Any(self.conds(children)?),
            ExprKind::All(children) => Cond::All(self.conds(children)?),
            ExprKind::Except(child) => Cond::Not(Box::new(self.cond(child)?)),
            ExprKind::Field { name, values } => {
                let at = &expr.location;
                if name.is_empty() {
                    self.errors.push(Error::new(ErrorKind::EmptyFieldName, at.key("field").key(name)));
                    return None;
                }
                if values.is_empty() {
                    self.errors.push(Error::new(ErrorKind::EmptyValues(name.clone()), at.key("field").key(name)));
                    return None;
                }
                if values.len() > self.options.max_values {
                    let kind = ErrorKind::TooManyValues(name.clone(), self.options.max_values);
                    self.errors.push(Error::new(kind, at.key("field").key(name)));
                    return None;
                }
                let field = Field::parse(name);
                let mut matchers = Vec::with_capacity(values.len());
                for value in values {
                    match Matcher::new(value, field.is_dn_aware()) {
                        Ok(m) => matchers.push(m),
                        Err(e) => self.errors.push(e),
                    }
                }
                if matchers.len() != values.len() {
                    return None;
                }
                Cond::Field { field, matchers }
            }
        })
    }

    /// Every child is checked, so that all their errors are reported.
    fn conds(&mut self, children: &[ast::Expr]) -> Option<Vec<Cond>> {
        let mut conds = Vec::with_capacity(children.len());
        let mut complete = true;
        for child in children {
            match self.cond(child) {
                Some(cond) if complete => conds.push(cond),
                Some(_) => {}
                None => complete = false,
            }
        }
        complete.then_some(conds)
    }

    fn template(&mut self, t: &ast::RoleTemplate, request: bool) -> Option<RoleTemplate> {
        let at = t.location.key("template");
        let compiled = match &t.script {
            Script::Stored { id } => Err(Error::new(ErrorKind::StoredScript(id.clone()), at)),
            Script::Invalid { reason, .. } => Err(Error::new(ErrorKind::Template(reason.clone()), at)),
            Script::Inline { source, options, .. } => {
                let mut escape = Escape::Json;
                let mut result = Ok(());
                // The mustache engine reads only `content_type`; other options are ignored.
                for (key, value) in options.iter().filter(|(key, _)| key == "content_type") {
                    match Escape::from_content_type(value) {
                        Some(e) => escape = e,
                        None => {
                            let message = format!("unsupported `content_type` option `{value}`");
                            result = Err(Error::new(ErrorKind::Template(message), at.key("options").key(key)));
                        }
                    }
                }
                result.and_then(|()| {
                    Template::parse(source, escape)
                        // Elasticsearch test-runs the template with empty parameters at PUT time.
                        .and_then(|t| t.render(&Map::new()).map(|_| t))
                        .map_err(|e| Error::new(ErrorKind::Template(e.to_string()), at.key("source")))
                })
            }
        };
        let params = match &t.script {
            Script::Inline { params, .. } => params.clone(),
            Script::Stored { .. } | Script::Invalid { .. } => Map::new(),
        };
        match compiled {
            Ok(template) => Some(RoleTemplate { template: Ok(template), format: t.format, params }),
            Err(e) if request => {
                self.errors.push(e);
                None
            }
            Err(e) => Some(RoleTemplate { template: Err(e.kind().to_string()), format: t.format, params }),
        }
    }
}

/// A role resolution that failed (spec §3.6): a role template of a matching
/// mapping did not produce role names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveError {
    pub(crate) mapping: String,
    pub(crate) message: String,
}

impl ResolveError {
    /// The mapping whose template failed.
    pub fn mapping(&self) -> &str {
        &self.mapping
    }
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "role template of mapping `{}` failed: {}", self.mapping, self.message)
    }
}

impl std::error::Error for ResolveError {}
