//! The reference interpreter: a plain tree walk over every mapping, in the
//! way Elasticsearch evaluates them (spec §5.1). It is slow on purpose (it
//! looks at every mapping and every value) and written to be obviously right;
//! the compiled [`Program`](crate::Program) is tested against it.

use crate::matcher::{Field, Matcher};
use crate::rules::{Cond, ResolveError, RuleSet};
use crate::user::Model;
use std::collections::BTreeSet;

/// The outcome of role resolution, in a form both engines can produce and
/// compare: role names and matching mapping names, each sorted and
/// deduplicated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolution {
    /// The granted role names.
    pub roles: Vec<String>,
    /// The names of the enabled mappings whose rules matched.
    pub mappings: Vec<String>,
}

/// Walks a [`RuleSet`] mapping by mapping.
///
/// ```
/// use rolemap::{Model, Options, Reference, RuleSet, User};
///
/// let rules = RuleSet::from_json(r#"{"m": {"enabled": true, "roles": ["r"],
///     "rules": {"field": {"username": "*@example.com"}}}}"#, "m", &Options::default()).unwrap();
/// let user = User::new("ann@example.com", "jwt1");
/// let model = Model::new(&user).unwrap();
/// let resolution = Reference::new(&rules).resolve(&model).unwrap();
/// assert_eq!(resolution.roles, ["r"]);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Reference<'a> {
    rules: &'a RuleSet,
}

impl<'a> Reference<'a> {
    /// An interpreter over `rules`.
    pub fn new(rules: &'a RuleSet) -> Self {
        Self { rules }
    }

    /// The roles of a user: the union of the roles of every enabled mapping
    /// whose rule matches, templates rendered.
    pub fn resolve(&self, model: &Model) -> Result<Resolution, ResolveError> {
        self.rules.numbers.check(model)?;
        let mut roles = BTreeSet::new();
        let mut mappings = BTreeSet::new();
        let mut scope = None;
        for rule in &self.rules.rules {
            if !rule.enabled || !eval(&rule.cond, model) {
                continue;
            }
            mappings.insert(rule.name.to_string());
            roles.extend(rule.roles.iter().map(|r| r.to_string()));
            for template in &rule.templates {
                let scope = scope.get_or_insert_with(|| model.template_scope());
                let names = template
                    .roles(scope)
                    .map_err(|message| ResolveError { mapping: rule.name.to_string(), message })?;
                roles.extend(names);
            }
        }
        Ok(Resolution { roles: roles.into_iter().collect(), mappings: mappings.into_iter().collect() })
    }
}

fn eval(cond: &Cond, model: &Model) -> bool {
    match cond {
        Cond::Any(children) => children.iter().any(|c| eval(c, model)),
        Cond::All(children) => children.iter().all(|c| eval(c, model)),
        Cond::Not(child) => !eval(child, model),
        Cond::Field { field, matchers } => matchers.iter().any(|m| field_matches(field, m, model)),
    }
}

/// One rule value against one model field (spec §3.1).
fn field_matches(field: &Field, matcher: &Matcher, model: &Model) -> bool {
    match field {
        Field::Username => matcher.matches_str(model.username),
        Field::Realm => matcher.matches_str(model.realm),
        Field::Dn => match model.dn_value() {
            Some(dn) => matcher.matches_dn(&dn),
            None => matcher.matches_absent(),
        },
        // `groups` is always defined; an empty set matches nothing.
        Field::Groups => model.group_values().any(|g| matcher.matches_dn(&g)),
        Field::Metadata(key) => match model.metadata(key) {
            Some(value) => matcher.matches_meta(&value),
            None => matcher.matches_absent(),
        },
        Field::Absent(_) => matcher.matches_absent(),
    }
}
