//! The text form of role mappings (`.rolemap` files): the same mappings as
//! the JSON documents, in a syntax meant to be read.
//!
//! ```text
//! # Administrators of the first JWT realm
//! mapping "jwt1_admins" {
//!   roles: "superuser", "kibana_admin"
//!   rules: all {
//!     realm.name == "jwt1"
//!     groups == ["elasticadmins", "cn=admins,*", /adm.*-\d+/]
//!     metadata.level == 3
//!     except any {
//!       username == "blocked"
//!       dn == null
//!     }
//!   }
//!   metadata: {"version": 1}
//! }
//! ```
//!
//! Every construct of a mapping document has one form here:
//!
//! | JSON | text |
//! |---|---|
//! | `"<name>": {...}` | `mapping "<name>" { ... }` (a file may hold any number) |
//! | `"enabled": false` | `enabled: false` (a mapping without it is enabled) |
//! | `"roles": ["a", "b"]` | `roles: "a", "b"` (or `["a", "b"]`; `roles: []` for none) |
//! | `"role_templates": [...]` | `role_templates: json "{{#tojson}}groups{{/tojson}}", "team_{{username}}"` |
//! | `{"template": {"source": s, "params": p, "options": o}, "format": f}` | `f "s" params {...} options {...}` (`f` is `string`, the default, or `json`) |
//! | `{"template": {"id": "x"}}` | `stored "x"` |
//! | `"metadata": {...}` | `metadata: {...}` (JSON) |
//! | `{"all": [...]}`, `{"any": [...]}` | `all { ... }`, `any { ... }`, one rule a line (or separated by `;`) |
//! | `{"except": rule}` | `except rule` |
//! | `{"field": {"groups": "x"}}` | `groups == "x"` (a name that is not dotted words is quoted: `"metadata.some key" == 1`) |
//! | `{"field": {"groups": ["x", "y"]}}` | `groups == ["x", "y"]` |
//! | `"/regex/"` | `/regex/` (or the string `"/regex/"`) |
//!
//! Strings and numbers are JSON's, and `#` starts a comment. The grammar is
//! `grammar/rolemap.pest`.
//!
//! Both forms read into the same [`MappingSet`], and every check after
//! reading is shared, so a mistake gets the same message in either form;
//! the text form reports its place as a line and column. [`print()`] writes
//! the canonical text form of any set, and [`MappingSet::to_json`] its JSON.

mod grammar;
mod lines;
mod print;
mod read;
mod scan;

use crate::Options;
use crate::ast::MappingSet;
use crate::error::{Error, Errors};

/// The file extension of the text form, without its dot.
pub const EXTENSION: &str = "rolemap";

/// Parses role mappings written in the text form. A mapping written without
/// a name (`mapping { ... }`) is named `name`.
///
/// Like [`parse_json`](crate::parse::parse_json): with
/// [`Validation::Request`](crate::Validation::Request) any error rejects the
/// whole text; with [`Validation::Stored`](crate::Validation::Stored) a
/// mapping with errors is left out and its errors are returned beside the
/// set. Text that does not parse, and errors that JSON would meet as
/// malformed JSON (a bad string escape, a repeated key or mapping name,
/// nesting past the limit of the reader), always reject the whole text.
///
/// ```
/// use rolemap::{Options, text};
///
/// let (set, _) = text::parse(r#"mapping "m" { roles: "r" rules: groups == "admins" }"#, "m", &Options::default())?;
/// assert_eq!(set.mappings[0].roles, ["r"]);
///
/// let errors = text::parse("mapping \"m\" {\n  roles = \"r\"\n}", "m", &Options::default()).unwrap_err();
/// assert_eq!(errors.first().to_string(), "expected `:`, found `=` at line 2, column 9");
/// # Ok::<(), rolemap::Errors>(())
/// ```
pub fn parse(text: &str, name: &str, options: &Options) -> Result<(MappingSet, Vec<Error>), Errors> {
    let document = read::read(text, name, options)?;
    Ok((document.set, document.skipped))
}

/// The checks after reading only know where a mapping, template or value
/// starts; this points their errors at what they are about, from what the
/// reader saw of the text.
pub(crate) struct Locator<'t> {
    layout: read::Layout,
    lines: lines::Lines<'t>,
}

impl Locator<'_> {
    /// `error` pointed at what it is about (see [`read::Layout::locate`]).
    pub(crate) fn locate(&self, error: Error) -> Error {
        self.layout.locate(error, &self.lines)
    }

    /// Every one of `errors` pointed at what it is about.
    pub(crate) fn locate_all(&self, errors: &Errors) -> Errors {
        let located: Vec<Error> = errors.iter().map(|e| self.locate(e.clone())).collect();
        Errors::from_vec(located).unwrap_or_else(|| errors.clone())
    }
}

/// [`parse`], with a [`Locator`] for the errors of the checks that follow.
pub(crate) fn parse_located<'t>(
    text: &'t str,
    name: &str,
    options: &Options,
) -> Result<(MappingSet, Vec<Error>, Locator<'t>), Errors> {
    let document = read::read(text, name, options)?;
    let locator = Locator { layout: document.layout, lines: lines::Lines::new(text) };
    Ok((document.set, document.skipped, locator))
}

/// Prints mappings in the canonical text form: keys in Elasticsearch's
/// order (`enabled` only when `false`), two-space indentation, one rule a
/// line, lists on one line when they fit in 100 columns. Parsing the result
/// gives back an equal set.
///
/// ```
/// use rolemap::{Options, parse, text};
///
/// let json = r#"{"admins": {"enabled": true, "roles": ["superuser"],
///     "rules": {"all": [{"field": {"realm.name": "jwt1"}}, {"except": {"field": {"username": "/guest-.*/"}}}]}}}"#;
/// let (set, _) = parse::parse_json(json, "mappings", &Options::default())?;
/// assert_eq!(
///     text::print(&set),
///     "mapping \"admins\" {\n  roles: \"superuser\"\n  rules: all {\n    realm.name == \"jwt1\"\n    except username == /guest-.*/\n  }\n}\n"
/// );
/// # Ok::<(), rolemap::Errors>(())
/// ```
pub fn print(set: &MappingSet) -> String {
    print::print(set, &read::Layout::default())
}

/// Reformats a text file in the canonical form of [`print()`], keeping its
/// comments: a comment after code stays at the end of that code's line, any
/// other comment stays above what followed it. Fails, rather than drop
/// anything, when the text has an error that [`parse`] reports (with either
/// validation).
///
/// ```
/// use rolemap::{Options, text};
///
/// let messy = "# admins\nmapping \"a\"{rules:all{groups==\"admins\" # LDAP group\n}roles:[\"superuser\"]}";
/// assert_eq!(
///     text::format(messy, "a", &Options::default())?,
///     "# admins\nmapping \"a\" {\n  roles: \"superuser\"\n  rules: all {\n    groups == \"admins\"  # LDAP group\n  }\n}\n"
/// );
/// # Ok::<(), rolemap::Errors>(())
/// ```
pub fn format(text: &str, name: &str, options: &Options) -> Result<String, Errors> {
    let document = read::read(text, name, options)?;
    if let Some(errors) = Errors::from_vec(document.skipped) {
        return Err(errors);
    }
    Ok(print::print(&document.set, &document.layout))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pest recurses once per bracket; the pre-scan must stop nesting well
    /// before the stack runs out, even in a debug build on a 2 MiB thread.
    #[test]
    fn the_deepest_accepted_nesting_fits_a_small_stack() {
        let depth = scan::MAX_BRACKETS - 2;
        let rules =
            format!("mapping \"m\" {{ roles: \"r\" rules: {} x == 1 {} }}", "all {".repeat(depth), "}".repeat(depth));
        let json = format!(
            "mapping \"m\" {{ roles: \"r\" rules: all {{}} metadata: {}1{} }}",
            "{\"a\":".repeat(depth),
            "}".repeat(depth)
        );
        for text in [rules, json] {
            let result = std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn(move || {
                    let options = Options { max_depth: usize::MAX, ..Options::default() };
                    parse(&text, "m", &options).map(|_| ()).map_err(|e| e.to_string())
                })
                .unwrap()
                .join()
                .unwrap();
            // Past serde_json's own limit for the JSON, accepted for the rules.
            if let Err(e) = result {
                assert!(e.starts_with("invalid JSON in `metadata`: recursion limit exceeded"), "{e}");
            }
        }
    }
}
