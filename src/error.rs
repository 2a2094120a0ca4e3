//! Errors of the load stage: every malformed mapping document, rule, value or
//! template is reported with its location.
//!
//! The shape follows the habit of regex-syntax and cedar: a small struct with
//! a private kind, the location, and the mapping it belongs to. Messages are
//! lowercase, name user input in backticks and never end with a period.

use std::fmt;

/// Where a problem is, in the input that was loaded: a JSON pointer to the
/// offending node, or a line and column for text that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Location {
    pointer: String,
    position: Option<(usize, usize)>,
}

impl Location {
    /// The root of a document (JSON pointer `""`).
    pub fn root() -> Self {
        Self::default()
    }

    /// A line and column (both from 1) in the text.
    pub fn position(line: usize, column: usize) -> Self {
        Self { pointer: String::new(), position: Some((line, column)) }
    }

    /// The location of the member `key` inside `self`. In the text form,
    /// where nodes have positions but no pointers, that is `self`.
    pub fn key(&self, key: &str) -> Self {
        if self.position.is_some() {
            return self.clone();
        }
        let mut pointer = String::with_capacity(self.pointer.len() + key.len() + 1);
        pointer.push_str(&self.pointer);
        pointer.push('/');
        // RFC 6901: `~` and `/` are escaped inside a reference token.
        for c in key.chars() {
            match c {
                '~' => pointer.push_str("~0"),
                '/' => pointer.push_str("~1"),
                c => pointer.push(c),
            }
        }
        Self { pointer, position: None }
    }

    /// The location of the array element `index` inside `self` (`self` in
    /// the text form, as for [`key`](Self::key)).
    pub fn index(&self, index: usize) -> Self {
        if self.position.is_some() {
            return self.clone();
        }
        Self { pointer: format!("{}/{index}", self.pointer), position: None }
    }

    /// The location as an RFC 6901 JSON pointer (`""` for the whole document,
    /// or when the location is a text position).
    pub fn json_pointer(&self) -> &str {
        &self.pointer
    }

    /// The line and column (both from 1, the column in characters): for a
    /// node of the text form, or for JSON that did not parse (where the
    /// column counts bytes, as the JSON parser does).
    pub fn line_column(&self) -> Option<(usize, usize)> {
        self.position
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "line {line}, column {column}"),
            None if self.pointer.is_empty() => f.write_str("the document root"),
            None => write!(f, "`{}`", self.pointer),
        }
    }
}

/// One problem found while loading role mappings.
///
/// Boxed so that `Result<_, Error>` stays one pointer wide.
#[derive(Debug, Clone, PartialEq)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq)]
struct Inner {
    kind: ErrorKind,
    location: Location,
    mapping: Option<String>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, location: Location) -> Self {
        Self(Box::new(Inner { kind, location, mapping: None }))
    }

    pub(crate) fn in_mapping(mut self, name: &str) -> Self {
        if self.0.mapping.is_none() {
            self.0.mapping = Some(name.to_owned());
        }
        self
    }

    /// What is wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// Where it is.
    pub fn location(&self) -> &Location {
        &self.0.location
    }

    /// The name of the role mapping the problem is in, when it is in one.
    pub fn mapping(&self) -> Option<&str> {
        self.0.mapping.as_deref()
    }

    /// The message, followed, when the error has a line and column, by that
    /// line of `source` and a caret under the column.
    ///
    /// ```
    /// use rolemap::{Options, RuleSet};
    ///
    /// let text = "mapping \"m\" {\n  roles: \"r\"\n  rules: any { except username == \"x\" }\n}\n";
    /// let errors = RuleSet::from_text(text, "m", &Options::default()).unwrap_err();
    /// assert_eq!(
    ///     errors.first().render(text),
    ///     "role mapping `m`: `except` is only allowed as an element of an `all` array, \
    ///      not inside `any` at line 3, column 16\n  \
    ///      3 |   rules: any { except username == \"x\" }\n    \
    ///        |                ^"
    /// );
    /// ```
    ///
    /// A line longer than 120 characters is cut to the 120 around the
    /// column, with `…` where it is cut.
    pub fn render(&self, source: &str) -> String {
        const WIDTH: usize = 120;
        let mut out = self.to_string();
        if let Some((line, column)) = self.0.location.position {
            let text = source.split('\n').nth(line.saturating_sub(1)).unwrap_or("");
            let text = text.strip_suffix('\r').unwrap_or(text);
            let number = line.to_string();
            let gutter = " ".repeat(number.len());
            let before = column.saturating_sub(1);
            let length = text.chars().count();
            // The window of characters shown: all of a short line, else the
            // 120 around the column (a third before it).
            let start = if length <= WIDTH { 0 } else { before.saturating_sub(WIDTH / 3).min(length - WIDTH) };
            let end = (start + WIDTH).min(length);
            let mut shown: String = text.chars().skip(start).take(end - start).collect();
            let mut caret = String::new();
            if start > 0 {
                shown.insert(0, '…');
                caret.push(' ');
            }
            if end < length {
                shown.push('…');
            }
            // Tabs are kept so that the caret lines up under tab-indented text.
            caret.extend(
                text.chars().skip(start).take(before.saturating_sub(start)).map(|c| if c == '\t' { '\t' } else { ' ' }),
            );
            let missing = before.saturating_sub(start.max(before.min(length)));
            caret.extend(std::iter::repeat_n(' ', missing));
            out.push_str(&format!("\n  {number} | {shown}\n  {gutter} | {caret}^"));
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.0.mapping {
            write!(f, "role mapping `{name}`: ")?;
        }
        write!(f, "{} at {}", self.0.kind, self.0.location)
    }
}

impl std::error::Error for Error {}

/// The kinds of load errors.
///
/// The Elasticsearch message each one corresponds to is given in its doc, so
/// that a user who knows one can find the other.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not JSON, e.g. `{"rules": }`.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// An object has the same key twice, e.g. `{"enabled": true, "enabled": false}`.
    /// ES: `Duplicate field`.
    #[error("duplicate key `{0}`")]
    DuplicateKey(String),
    /// The text form does not parse, e.g. `roles = "r"`: the message says
    /// what was expected and what was found.
    #[error("{0}")]
    Syntax(String),
    /// Brackets of the text form nested deeper than its reader goes, e.g.
    /// metadata nested 300 deep.
    #[error("brackets are nested deeper than the limit of {0}")]
    NestingTooDeep(usize),
    /// A value has the wrong JSON type, e.g. `"enabled": 1`.
    #[error("`{what}` must be {expected}, found {found}")]
    WrongType {
        /// The key or construct.
        what: String,
        /// What was expected, with its article (`an object`).
        expected: &'static str,
        /// What was found, with its article.
        found: &'static str,
    },
    /// A required key is missing, e.g. a mapping without `enabled`.
    /// ES: `failed to parse role-mapping [x]. missing field [enabled]`.
    #[error("missing key `{0}`")]
    MissingKey(&'static str),
    /// A key that the mapping document or template does not have, e.g. `"disabled"`.
    #[error("unknown key `{0}`")]
    UnknownKey(String),
    /// A rule object with a key other than `all`, `any`, `field`, `except`.
    /// ES: `field [foo] is not recognised in object [any]`.
    #[error("unknown rule `{0}`; a rule is one of `all`, `any`, `field`, `except`")]
    UnknownRule(String),
    /// A rule object with no key: `{}`. ES: `object [rules] does not contain any fields`.
    #[error("empty rule object; a rule is one of `all`, `any`, `field`, `except`")]
    EmptyRule,
    /// A rule object with two keys. ES: `object [rules] contains multiple fields`.
    #[error("rule object has more than one key (`{0}` and `{1}`)")]
    MultipleRuleKeys(String, String),
    /// `except` somewhere other than directly inside an `all` array.
    /// ES: `field [except] is not allowed within [any]`.
    #[error("`except` is only allowed as an element of an `all` array, not {0}")]
    MisplacedExcept(&'static str),
    /// `field: {}`. ES: `object [field] does not contain any fields`.
    #[error("`field` needs exactly one field name, found none")]
    EmptyField,
    /// `field` with two members. ES: `object [field] contains multiple fields`.
    #[error("`field` needs exactly one field name, found `{0}` and `{1}`")]
    MultipleFields(String, String),
    /// `field: {"": "x"}`. ES: `null or empty field name`.
    #[error("the field name is empty")]
    EmptyFieldName,
    /// `field: {"username": []}`. ES: `null or empty values`.
    #[error("field `{0}` has an empty list of values")]
    EmptyValues(String),
    /// A field value that is an object, or a list inside a list.
    /// ES: `expected a field value but found [START_OBJECT] instead`.
    #[error("a field value must be a string, number, boolean or null, found {0}")]
    BadFieldValue(&'static str),
    /// A number outside the signed 64-bit range. ES: Jackson's long overflow.
    #[error("number `{0}` is out of the signed 64-bit range")]
    NumberOutOfRange(String),
    /// A wildcard or regular expression that does not compile.
    #[error("invalid pattern `{pattern}`: {message}")]
    Pattern {
        /// The rule string.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// Rules nested deeper than the limit.
    #[error("rules are nested deeper than the limit of {0}")]
    TooDeep(usize),
    /// A mapping with neither `roles` nor `role_templates`.
    /// ES: `missing field [roles]` / `role-mapping roles or role-templates are missing`.
    #[error("the mapping grants nothing: `roles` and `role_templates` are both missing or empty")]
    NoRoles,
    /// A mapping with both `roles` and `role_templates`.
    /// ES: `role-mapping cannot have both roles and role-templates`.
    #[error("a mapping cannot have both `roles` and `role_templates`")]
    RolesAndTemplates,
    /// A top-level metadata key starting with `_`. ES: `metadata keys may not start with [_]`.
    #[error("metadata key `{0}` starts with `_`, which is reserved")]
    ReservedMetadataKey(String),
    /// A role template whose `format` is not `string` or `json`.
    /// ES: `Invalid format [x] expected one of [json,string]`.
    #[error("invalid template format `{0}`, expected `string` or `json`")]
    BadFormat(String),
    /// A role template that does not parse or does not render.
    #[error("invalid role template: {0}")]
    Template(String),
    /// A role template that names a stored script: there is no script store here.
    #[error(
        "role template refers to the stored script `{0}`, and stored scripts cannot be resolved outside Elasticsearch"
    )]
    StoredScript(String),
    /// The document is not a mapping body nor a map of named bodies.
    #[error("expected a role mapping (an object with `rules`) or a map of mapping names to mappings")]
    NotAMappingDocument,
    /// More mappings than the limit.
    #[error("more than {0} role mappings")]
    TooManyMappings(usize),
    /// Two mappings with the same name.
    #[error("duplicate role mapping name `{0}`")]
    DuplicateMapping(String),
    /// A field rule with more values than the limit.
    #[error("field `{0}` has more than {1} values")]
    TooManyValues(String, usize),
    /// A program limit was exceeded while compiling.
    #[error("the compiled program exceeds {0}")]
    ProgramTooLarge(&'static str),
}

/// All the problems found in one load: never empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Errors(Vec<Error>);

impl Errors {
    pub(crate) fn from_vec(errors: Vec<Error>) -> Option<Self> {
        if errors.is_empty() { None } else { Some(Self(errors)) }
    }

    /// The problems, in document order.
    pub fn iter(&self) -> std::slice::Iter<'_, Error> {
        self.0.iter()
    }

    /// How many problems were found.
    #[expect(clippy::len_without_is_empty, reason = "never empty by construction")]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The first problem.
    pub fn first(&self) -> &Error {
        // INVARIANT: `Errors` is never empty (see `from_vec`).
        &self.0[0]
    }

    /// Every problem [rendered](Error::render) with its line of `source`,
    /// one after the other.
    pub fn render(&self, source: &str) -> String {
        let rendered: Vec<String> = self.0.iter().map(|e| e.render(source)).collect();
        rendered.join("\n")
    }
}

impl From<Error> for Errors {
    fn from(error: Error) -> Self {
        Self(vec![error])
    }
}

impl<'a> IntoIterator for &'a Errors {
    type Item = &'a Error;
    type IntoIter = std::slice::Iter<'a, Error>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lines(f, &self.0)
    }
}

/// One error a line: how every collection of errors displays.
pub(crate) fn write_lines<T: fmt::Display>(f: &mut fmt::Formatter<'_>, errors: &[T]) -> fmt::Result {
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            f.write_str("\n")?;
        }
        write!(f, "{e}")?;
    }
    Ok(())
}

impl std::error::Error for Errors {}
