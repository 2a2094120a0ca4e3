//! Helpers shared by the integration tests.

#[cfg(feature = "https")]
pub mod https;

use rolemap::jwt::{AuthenticatedUser, Metadata};
use rolemap::{Model, Options, Program, Reference, Resolution, RuleSet, User};
use serde_json::Value;
use std::path::PathBuf;

pub mod keys;

/// Waits until `done` holds, for at most 30 seconds (then fails, saying
/// `what`): for what a background thread does in its own time.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The folder beside the project that holds the spec and the vectors.
pub fn shared(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared").join(path)
}

/// Reads a JSON Lines file of the shared conformance vectors.
pub fn vectors(file: &str) -> Vec<Value> {
    let path = shared(&format!("conformance/{file}"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// `user` as a realm would have authenticated it (no roles yet).
pub fn as_authenticated(user: &User) -> AuthenticatedUser {
    AuthenticatedUser {
        realm: user.realm.clone(),
        principal: user.username.clone(),
        groups: user.groups.clone(),
        dn: user.dn.clone(),
        email: None,
        full_name: None,
        metadata: user.metadata.iter().map(|(k, v)| (k, v.clone())).collect::<Metadata>(),
        roles: Vec::new(),
    }
}

/// What resolving a user gave, through either engine.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The mappings did not load.
    Invalid,
    /// The user's model could not be built, or a template failed.
    Failed,
    /// Roles and mappings.
    Resolved(Resolution),
}

/// Loads `mappings`, resolves `user` through the program and through the
/// reference interpreter, asserts that both agree, and returns the outcome.
pub fn resolve_both(mappings: &str, user: &User, options: &Options) -> Outcome {
    let Ok(rules) = RuleSet::from_json(mappings, "mapping", options) else {
        return Outcome::Invalid;
    };
    let program = Program::compile(&rules).unwrap_or_else(|e| panic!("checked mappings must compile: {e}"));
    let Ok(model) = Model::new(user) else {
        return Outcome::Failed;
    };
    let reference = Reference::new(&rules).resolve(&model);
    let compiled = program.resolve(&model);
    assert_eq!(
        compiled.as_ref().map_err(ToString::to_string),
        reference.as_ref().map_err(ToString::to_string),
        "program and reference interpreter disagree\nmappings: {mappings}\nuser: {user:?}\n{program}"
    );
    // The same user as a realm would have authenticated it: its model reads
    // the metadata where it is instead of sorting a copy; both engines must
    // give the same again.
    let authenticated = as_authenticated(user);
    let realm_model =
        authenticated.model().unwrap_or_else(|e| panic!("a user with a model has one as realms build it: {e}"));
    for (engine, outcome) in
        [("program", program.resolve(&realm_model)), ("reference", Reference::new(&rules).resolve(&realm_model))]
    {
        assert_eq!(
            outcome.as_ref().map_err(ToString::to_string),
            reference.as_ref().map_err(ToString::to_string),
            "the {engine} on a realm's model disagrees\nmappings: {mappings}\nuser: {user:?}"
        );
    }
    match compiled {
        Ok(resolution) => Outcome::Resolved(resolution),
        Err(_) => Outcome::Failed,
    }
}
