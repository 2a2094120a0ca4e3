#![doc = include_str!("../README.md")]

pub mod ast;
pub mod dn;
mod engine;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod ir;
pub mod jwt;
mod matcher;
pub mod parse;
mod pattern;
mod program;
mod reference;
mod rules;
pub mod template;
pub mod text;
mod user;
pub mod workload;

pub use engine::Engine;
pub use error::{Error, ErrorKind, Errors, Location};
pub use program::{ClaimSet, Program, Roles, Scratch};
pub use reference::{Reference, Resolution};
pub use rules::{ResolveError, RuleSet};
use std::path::Path;
pub use user::{MAX_META_DEPTH, Model, User, UserError};

/// How a role-mapping document is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// JSON, as the role mapping API takes and returns it.
    Json,
    /// The [text form](text).
    Text,
}

impl Syntax {
    /// [`Syntax::Text`] for a file named `*.rolemap`, [`Syntax::Json`] for
    /// any other.
    ///
    /// ```
    /// use rolemap::Syntax;
    /// use std::path::Path;
    ///
    /// assert_eq!(Syntax::of_path(Path::new("mappings/admins.rolemap")), Syntax::Text);
    /// assert_eq!(Syntax::of_path(Path::new("mappings.json")), Syntax::Json);
    /// ```
    pub fn of_path(path: &Path) -> Syntax {
        match path.extension() {
            Some(extension) if extension == text::EXTENSION => Syntax::Text,
            _ => Syntax::Json,
        }
    }
}

/// How strictly mapping documents are checked, and what happens to a bad one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Validation {
    /// The checks of the role mapping API (`PUT _security/role_mapping`):
    /// a mapping grants roles or templates but not both, metadata keys do
    /// not start with `_`, templates compile and render. Any error rejects
    /// the whole document.
    #[default]
    Request,
    /// The checks Elasticsearch applies to mapping documents it has stored:
    /// the document parser's only. A mapping that fails them is left out and
    /// reported ([`RuleSet::skipped`]); the others still apply. A mapping with
    /// both roles and templates grants both; a template that does not compile
    /// fails the resolution of the users its mapping matches.
    Stored,
}

/// Options for loading and compiling role mappings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// How documents are checked. Defaults to [`Validation::Request`].
    pub validation: Validation,
    /// The most mappings one document or rule set may hold. Defaults to 1 000 000.
    pub max_mappings: usize,
    /// How deeply rules may nest (`all`, `any`, `except` each count one).
    /// Defaults to 50, below the JSON parser's own nesting limit of 128.
    pub max_depth: usize,
    /// The most values one `field` rule may list. Defaults to 100 000.
    pub max_values: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self { validation: Validation::Request, max_mappings: 1_000_000, max_depth: 50, max_values: 100_000 }
    }
}
