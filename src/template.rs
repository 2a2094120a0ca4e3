//! Role templates: the mustache subset Elasticsearch uses for `role_templates`, rendered the way ES renders it.
//!
//! A role mapping may carry mustache scripts that are rendered against the user model (spec §3.3, §4.2–4.4)
//! to produce role names. ES renders them with mustache.java plus its own `CustomMustacheFactory`. This
//! module is hand-written because the mustache crates on crates.io do not reproduce that engine: they lack
//! the `toJson`/`join`/`url` lambdas, mustache.java's literal-dotted-key lookup (ES model keys such as
//! `realm.name` and `metadata.uid` contain dots), ES's list coercion (`list.0`, `list.size`) and JSON
//! escaping of `{{x}}` by default.
//!
//! # Behaviours reproduced, with their source
//! Paths are in `elastic/elasticsearch` (`modules/lang-mustache/src/main/java/org/elasticsearch/script/mustache/`)
//! and `spullara/mustache.java` (`compiler/src/main/java/com/github/mustachejava/`).
//! - Parsing (`MustacheParser.java`): tags `{{x}}`, `{{{x}}}`, `{{&x}}`, `{{!c}}`, `{{#x}}`, `{{^x}}`,
//!   `{{/x}}`, `{{=<% %>=}}`, `{{%pragma}}` (ignored), `{{$x}}…{{/x}}` (renders its body); names are trimmed;
//!   the close tag must equal the open tag exactly; `{{}}` is "Empty mustache"; a section left open at the end
//!   is "Failed to close"; a `{{x` or `{{{x}}` cut off by the end of input is "Improperly closed variable"
//!   (but `{{&x`, `{{!x` and `{{/x` at the end are accepted, as there); partials `{{>x}}` / `{{<x}}` fail
//!   (ES has no partial loader). Whitespace: the newline right after a section tag that ends a line holding
//!   only whitespace is dropped, and so is whitespace before a section tag that stands alone on its line;
//!   a lone `\r` is dropped. Newlines inside a tag do not count as lines (as there).
//! - Lookup (`reflect/ReflectionObjectHandler.java` `find`): scopes are searched innermost first; in each
//!   scope the whole name is tried as a literal key first, then split at the dots and navigated. If the first
//!   segment is missing the next outer scope is tried; once a segment was found, a missing last segment or a
//!   null on the way ends the search with "missing". `{{.}}` is the current scope (`codes/DefaultCode.java`).
//! - Lists (`CustomReflectionObjectHandler.java`, `server/.../common/util/iterable/Iterables.java`): a list
//!   answers `size` and Java-`int` indices (`list.0`); an index that is negative or past the end is an
//!   error at render time (Iterables.get throws); a null element counts as missing. The value handed to a
//!   tag is coerced to that map view (`reflect/GuardedBinding.java` coerces the result), so `{{groups}}`
//!   prints Java's `AbstractMap.toString` form `{0=a, 1=b}`.
//! - Printing (`reflect/BaseObjectHandler.java` `stringify` = Java `toString`): strings raw, `true`, `42`,
//!   doubles as Java `Double.toString` (`1.0`, `1.0E10`, `1.0E-4`), nested lists `[a, b]`, maps `{k=v}`;
//!   null/missing prints nothing (`codes/ValueCode.java`).
//! - Sections (`reflect/BaseObjectHandler.java` `iterate`/`falsey`, `codes/IterableCode.java`): null,
//!   `false`, `""` and empty lists are falsy; everything else (also `0` and `{}`) is truthy; a list renders
//!   once per element with the element as the new top scope (a null element pushes no scope); any other
//!   truthy value renders once with itself pushed.
//! - Lambdas (`CustomMustacheFactory.java`): `{{#toJson}}x{{/toJson}}` (any case) prints lists and maps as
//!   compact JSON, other values with `toString`, null as nothing; `{{#join}}x{{/join}}` joins a list with
//!   `,`, `{{#join delimiter='d'}}x{{/join delimiter='d'}}` with `d`; a `join` of a non-list prints the body
//!   text itself; a null list element makes `join` fail; `{{#url}}…{{/url}}` URL-encodes its rendered body.
//!   The body of `toJson`/`join` must be exactly one code ("must contain one and only one identifier"), is
//!   the variable name verbatim (not trimmed), and is rendered first (errors in it propagate). Lambda output
//!   is not escaped again (`codes/IterableCode.java` `handleFunction` writes it raw).
//! - Escaping (`CustomMustacheFactory.java` encoders, `MustacheScriptEngine.java` `content_type` option):
//!   `application/json` (default, also `application/json;charset=utf-8` and `application/json; charset=UTF-8`)
//!   → Jackson `quoteAsString` (`"` `\` and U+0000–U+001F; `\b \t \n \f \r` short, others `\u00XX`);
//!   `text/plain` → none; `application/x-www-form-urlencoded` → Java `URLEncoder` (UTF-8, space as `+`).
//! - Output limit (`MustacheScriptEngine.java`, `mustache.max_output_size_bytes`, default 1mb).
//! - Role extraction (`x-pack/plugin/core/.../authc/support/mapper/TemplateRoleName.java`): format `string`
//!   gives exactly one role (even ""); `json` reads the first JSON value: a string is one role, an array gives
//!   its strings with nulls dropped, anything else is an error; text after the first value is ignored.
//!   Format names are matched case-insensitively (`Format.valueOf(text.toUpperCase(Locale.ROOT))`).
//!
//! # Known differences
//! Map iteration order follows `serde_json::Map`, not Java's `HashMap`; index names accept ASCII digits only
//! (Java `parseInt` also takes other Unicode digits); the identity text used as a lambda variable name when the
//! body is a tag is rebuilt with `{{ }}`; empty delimiters from `{{==}}` are rejected at once; the JSON role
//! parser allows no comments (ES's allows `/* */`); the output limit counts UTF-8 bytes, not UTF-16 units.
//! [`MAX_RENDER_STEPS`] and [`MAX_VALUE_DEPTH`] are extra safety limits ES does not have.

use std::fmt;

use serde_json::{Map, Value};

/// Longest accepted template source, in bytes.
pub const MAX_TEMPLATE_LEN: usize = 64 * 1024;
/// Deepest accepted nesting of sections (`#`, `^`, `$` and the lambdas).
pub const MAX_SECTION_DEPTH: usize = 64;
/// Longest rendered output, in bytes; ES's `mustache.max_output_size_bytes` defaults to 1mb.
pub const MAX_RENDERED_LEN: usize = 1024 * 1024;
/// Most render steps (tags visited plus list elements iterated) one render may take. Nested list
/// sections with empty bodies grow exponentially without producing output, so the output limit alone
/// does not bound the time.
pub const MAX_RENDER_STEPS: u64 = 1_000_000;
/// Deepest nesting of a JSON value that is printed or serialized (serde_json's own parse limit).
pub const MAX_VALUE_DEPTH: usize = 128;

/// How `{{x}}` output is escaped, chosen by the script option `content_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Escape {
    /// `application/json` (the default): JSON string escaping, as Jackson's `quoteAsString`.
    #[default]
    Json,
    /// `text/plain`: no escaping.
    None,
    /// `application/x-www-form-urlencoded`: Java `URLEncoder.encode(s, UTF_8)`.
    Url,
}

impl Escape {
    /// Maps a `content_type` script option to an escape mode; `None` for a media type ES does not know
    /// (ES then fails with "No encoder found for media type"). Matching is exact, as ES's map lookup.
    pub fn from_content_type(s: &str) -> Option<Escape> {
        match s {
            "application/json" | "application/json;charset=utf-8" | "application/json; charset=UTF-8" => {
                Some(Escape::Json)
            }
            "text/plain" => Some(Escape::None),
            "application/x-www-form-urlencoded" => Some(Escape::Url),
            _ => None,
        }
    }

    fn encode_into(self, s: &str, out: &mut String) {
        match self {
            Escape::Json => json_escape_into(s, out),
            Escape::None => out.push_str(s),
            Escape::Url => url_encode_into(s, out),
        }
    }
}

/// How rendered text becomes role names (the role template's `format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// The whole rendered text is one role name (the default).
    #[default]
    String,
    /// The rendered text is JSON: a string or an array of strings.
    Json,
}

impl Format {
    /// Parses a format name case-insensitively (`"json"`, `"JSON"`, `"String"`…), as ES's
    /// `valueOf(text.toUpperCase(Locale.ROOT))`; `None` for any other name.
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_uppercase().as_str() {
            "STRING" => Some(Format::String),
            "JSON" => Some(Format::Json),
            _ => None,
        }
    }

    /// The lowercase name ES prints (`string` / `json`).
    pub fn name(self) -> &'static str {
        match self {
            Format::String => "string",
            Format::Json => "json",
        }
    }
}

/// What went wrong while parsing or rendering a template, or reading roles from its output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateErrorKind {
    /// The source is longer than [`MAX_TEMPLATE_LEN`].
    TemplateTooLong {
        /// Source length in bytes.
        len: usize,
    },
    /// A tag with nothing between the delimiters (`{{}}`).
    EmptyTag,
    /// A tag cut off by the end of input, or a `{{{x}}` lacking its third brace.
    UnclosedTag,
    /// A section still open at the end of input.
    UnclosedSection {
        /// The section's name as written.
        name: String,
    },
    /// A close tag that does not match the innermost open section.
    MismatchedClose {
        /// The open section's name, `None` at top level.
        expected: Option<String>,
        /// The close tag's name.
        found: String,
    },
    /// A set-delimiter tag of a bad shape.
    InvalidDelimiters {
        /// The tag's text.
        spec: String,
    },
    /// A partial or template-inheritance tag (`{{>x}}`, `{{<x}}`).
    UnsupportedTag {
        /// The tag's text.
        tag: String,
    },
    /// A `toJson`/`join` body that is not exactly one identifier.
    FunctionArity {
        /// `toJson` or `join`.
        function: &'static str,
    },
    /// Sections nested deeper than [`MAX_SECTION_DEPTH`].
    SectionTooDeep,
    /// Rendered output longer than [`MAX_RENDERED_LEN`].
    RenderedTooLong,
    /// Rendering took more than [`MAX_RENDER_STEPS`] steps.
    RenderBudgetExceeded,
    /// A list index that is negative or past the end.
    IndexOutOfBounds {
        /// The name in the tag.
        name: String,
        /// The index as written.
        index: String,
        /// The list's length.
        len: usize,
    },
    /// `join` over a list holding a null.
    NullInJoin {
        /// The joined name.
        name: String,
    },
    /// A value nested deeper than [`MAX_VALUE_DEPTH`].
    ValueTooDeep,
    /// Format `json`: the rendered text is not JSON.
    InvalidJson {
        /// The JSON parser's message.
        message: String,
    },
    /// Format `json`: the first value is neither a string nor an array.
    NotStringOrArray {
        /// What was found (`number`, `object`, `boolean`, `null`, `end of input`).
        found: &'static str,
    },
    /// Format `json`: an array element that is neither a string nor null.
    NonStringRole {
        /// The element, as JSON.
        found: String,
    },
}

impl fmt::Display for TemplateErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TemplateErrorKind as K;
        match self {
            K::TemplateTooLong { len } => {
                write!(f, "template is {len} bytes long, over the limit of {MAX_TEMPLATE_LEN}")
            }
            K::EmptyTag => f.write_str("empty tag"),
            K::UnclosedTag => f.write_str("unclosed tag"),
            K::UnclosedSection { name } => write!(f, "unclosed section `{name}`"),
            K::MismatchedClose { expected: Some(open), found } => {
                write!(f, "close tag `{found}` does not match open section `{open}`")
            }
            K::MismatchedClose { expected: None, found } => {
                write!(f, "close tag `{found}` has no open section")
            }
            K::InvalidDelimiters { spec } => write!(f, "invalid delimiter tag `{spec}`"),
            K::UnsupportedTag { tag } => write!(f, "partials are not supported: `{tag}`"),
            K::FunctionArity { function } => {
                write!(f, "mustache function `{function}` must contain one and only one identifier")
            }
            K::SectionTooDeep => write!(f, "sections nested deeper than {MAX_SECTION_DEPTH}"),
            K::RenderedTooLong => write!(f, "rendered output longer than {MAX_RENDERED_LEN} bytes"),
            K::RenderBudgetExceeded => write!(f, "rendering took more than {MAX_RENDER_STEPS} steps"),
            K::IndexOutOfBounds { name, index, len } => {
                write!(f, "index `{index}` in `{name}` is out of bounds for a list of {len}")
            }
            K::NullInJoin { name } => write!(f, "cannot join `{name}`: the list holds a null"),
            K::ValueTooDeep => write!(f, "value nested deeper than {MAX_VALUE_DEPTH} levels"),
            K::InvalidJson { message } => write!(f, "rendered roles are not valid json: {message}"),
            K::NotStringOrArray { found } => {
                write!(f, "roles template must generate a string or an array of strings, but found {found}")
            }
            K::NonStringRole { found } => {
                write!(f, "roles array may only contain strings but found `{found}`")
            }
        }
    }
}

/// An error from [`Template::parse`], [`Template::render`] or [`roles_from_rendered`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    kind: TemplateErrorKind,
    offset: Option<usize>,
    /// 1-based line and column (in characters) of `offset`.
    position: Option<(usize, usize)>,
}

impl TemplateError {
    fn new(kind: TemplateErrorKind) -> Self {
        TemplateError { kind, offset: None, position: None }
    }

    fn at(kind: TemplateErrorKind, source: &str, offset: usize) -> Self {
        TemplateError { kind, offset: Some(offset), position: Some(line_column(source, offset)) }
    }

    /// What went wrong.
    pub fn kind(&self) -> &TemplateErrorKind {
        &self.kind
    }

    /// Byte offset in the template source of the tag concerned (for an unclosed section, its open tag).
    pub fn offset(&self) -> Option<usize> {
        self.offset
    }

    /// 1-based line and column (counted in characters) of [`offset`](Self::offset).
    pub fn line_column(&self) -> Option<(usize, usize)> {
        self.position
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some((line, col)) = self.position {
            let word = match self.kind {
                TemplateErrorKind::UnclosedSection { .. } => "opened at",
                _ => "at",
            };
            write!(f, " {word} {line}:{col}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TemplateError {}

fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, col)
}

// ------------------------------------------------------------------------------------------------
// Compiled form

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Var { name: String, escaped: bool, offset: usize },
    Section { name: String, body: Vec<Node>, offset: usize },
    Inverted { name: String, body: Vec<Node>, offset: usize },
    Block { name: String, body: Vec<Node> },
    ToJson { var: String, body: Vec<Node>, offset: usize },
    Join { var: String, delimiter: String, body: Vec<Node>, offset: usize },
    Url { name: String, body: Vec<Node> },
}

/// A compiled role template. Compile once with [`Template::parse`], render many times.
#[derive(Debug, Clone)]
pub struct Template {
    source: String,
    escape: Escape,
    nodes: Vec<Node>,
}

impl Template {
    /// Compiles `source`. Syntax errors carry the byte offset and line:column of the offending tag, as ES
    /// rejects them when the role mapping is stored (spec §4.3).
    pub fn parse(source: &str, escape: Escape) -> Result<Template, TemplateError> {
        if source.len() > MAX_TEMPLATE_LEN {
            return Err(TemplateError::new(TemplateErrorKind::TemplateTooLong { len: source.len() }));
        }
        let nodes = Parser::new(source).run()?;
        Ok(Template { source: source.to_owned(), escape, nodes })
    }

    /// Renders against `scope` (the ES model map: keys `"username"`, `"dn"` (if present), `"groups"`
    /// (array of strings), `"metadata.<key>"`, `"realm.name"`, plus the template's own params — the caller
    /// merges them; model keys win).
    pub fn render(&self, scope: &Map<String, Value>) -> Result<String, TemplateError> {
        let mut r = Renderer { escape: self.escape, scopes: vec![V::Root(scope)], out: String::new(), steps: 0 };
        match r.render(&self.nodes) {
            Ok(()) => Ok(r.out),
            Err((kind, Some(offset))) => Err(TemplateError::at(kind, &self.source, offset)),
            Err((kind, None)) => Err(TemplateError::new(kind)),
        }
    }

    /// The template source as given to [`parse`](Self::parse).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The escape mode given to [`parse`](Self::parse).
    pub fn escape(&self) -> Escape {
        self.escape
    }
}

/// Turns rendered text into role names per §4.4: String → exactly one role (even ""), Json → string /
/// array of strings (nulls dropped) / otherwise an error.
pub fn roles_from_rendered(rendered: String, format: Format) -> Result<Vec<String>, TemplateError> {
    use TemplateErrorKind as K;
    if format == Format::String {
        return Ok(vec![rendered]);
    }
    // ES reads the first token only; whatever follows the first value is never looked at.
    let mut values = serde_json::Deserializer::from_str(&rendered).into_iter::<Value>();
    let found = match values.next() {
        None => "end of input",
        Some(Err(e)) => return Err(TemplateError::new(K::InvalidJson { message: e.to_string() })),
        Some(Ok(Value::String(s))) => return Ok(vec![s]),
        Some(Ok(Value::Array(items))) => {
            return items
                .into_iter()
                .filter(|v| !v.is_null())
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    other => Err(TemplateError::new(K::NonStringRole { found: other.to_string() })),
                })
                .collect();
        }
        Some(Ok(Value::Number(_))) => "number",
        Some(Ok(Value::Bool(_))) => "boolean",
        Some(Ok(Value::Null)) => "null",
        Some(Ok(Value::Object(_))) => "object",
    };
    Err(TemplateError::new(K::NotStringOrArray { found }))
}

// ------------------------------------------------------------------------------------------------
// Parser: a loop-based transcription of MustacheParser.compile (which recurses once per section).

struct Open {
    sigil: char,
    name: String,
    offset: usize,
    line: usize,
}

/// The per-section state of one `MustacheParser.compile` call.
struct Frame {
    open: Option<Open>,
    nodes: Vec<Node>,
    out: String,
    only_ws: bool,
    /// mustache.java's `iterable`: drop the next newline if the line so far is whitespace only.
    iterable: bool,
    start_of_line: bool,
    saw_cr: bool,
    sm: String,
    em: String,
}

impl Frame {
    fn flush(&mut self) {
        if self.out.is_empty() {
            return;
        }
        // DefaultMustacheVisitor.write appends text to the previous code; merging keeps one Text node.
        if let Some(Node::Text(t)) = self.nodes.last_mut() {
            t.push_str(&self.out);
            self.out.clear();
        } else {
            self.nodes.push(Node::Text(std::mem::take(&mut self.out)));
        }
    }
}

struct Parser<'s> {
    src: &'s str,
    pos: usize,
    line: usize,
}

/// Java `String.trim`: strips every char up to U+0020.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

impl<'s> Parser<'s> {
    fn new(src: &'s str) -> Self {
        Parser { src, pos: 0, line: 1 }
    }

    fn err(&self, kind: TemplateErrorKind, offset: usize) -> TemplateError {
        TemplateError::at(kind, self.src, offset)
    }

    fn run(mut self) -> Result<Vec<Node>, TemplateError> {
        use TemplateErrorKind as K;
        let src = self.src;
        let mut parents: Vec<Frame> = Vec::new();
        let mut cur = Frame {
            open: None,
            nodes: Vec::new(),
            out: String::new(),
            only_ws: true,
            iterable: false,
            start_of_line: true,
            saw_cr: false,
            sm: "{{".to_owned(),
            em: "}}".to_owned(),
        };
        while let Some(c) = src.get(self.pos..).and_then(|s| s.chars().next()) {
            if c == '\r' {
                cur.saw_cr = true;
                self.pos += 1;
                continue;
            }
            if c == '\n' {
                self.pos += 1;
                self.line += 1;
                if !cur.iterable || !cur.only_ws {
                    if cur.saw_cr {
                        cur.out.push('\r');
                    }
                    cur.out.push('\n');
                }
                cur.flush();
                cur.iterable = false;
                cur.only_ws = true;
                cur.start_of_line = true;
                continue;
            }
            cur.saw_cr = false;
            let rest = &src[self.pos..];
            if cur.sm.is_empty() || !rest.starts_with(cur.sm.as_str()) {
                cur.only_ws = cur.only_ws && (c == ' ' || c == '\t');
                cur.out.push(c);
                self.pos += c.len_utf8();
                continue;
            }

            // A tag: everything up to the first end delimiter (or the end of input).
            let tag_start = self.pos;
            let content_start = self.pos + cur.sm.len();
            let content = &src[content_start..];
            let (command, at_eof) = match content.find(cur.em.as_str()) {
                Some(i) => {
                    self.pos = content_start + i + cur.em.len();
                    (&content[..i], false)
                }
                None => {
                    self.pos = src.len();
                    (content, true)
                }
            };
            let Some(ch) = command.chars().next() else {
                return Err(self.err(K::EmptyTag, tag_start));
            };
            let variable = java_trim(&command[ch.len_utf8()..]);
            match ch {
                '#' | '^' | '$' => {
                    if parents.len() >= MAX_SECTION_DEPTH {
                        return Err(self.err(K::SectionTooDeep, tag_start));
                    }
                    let start_of_line = cur.start_of_line && cur.only_ws;
                    let child = Frame {
                        open: Some(Open { sigil: ch, name: variable.to_owned(), offset: tag_start, line: self.line }),
                        nodes: Vec::new(),
                        out: String::new(),
                        only_ws: true,
                        iterable: true,
                        start_of_line,
                        saw_cr: false,
                        sm: cur.sm.clone(),
                        em: cur.em.clone(),
                    };
                    parents.push(std::mem::replace(&mut cur, child));
                    // The parent's startOfLine becomes false when this section closes.
                    continue;
                }
                '/' => {
                    // Whitespace before a close tag standing at the start of its line is dropped.
                    if !cur.start_of_line || !cur.only_ws {
                        cur.flush();
                    } else {
                        cur.out.clear();
                    }
                    let mismatch =
                        |expected: Option<String>| K::MismatchedClose { expected, found: variable.to_owned() };
                    let Some(open) = cur.open.take() else {
                        return Err(self.err(mismatch(None), tag_start));
                    };
                    if open.name != variable {
                        return Err(self.err(mismatch(Some(open.name)), tag_start));
                    }
                    let Some(parent) = parents.pop() else {
                        return Err(self.err(mismatch(None), tag_start));
                    };
                    let child = std::mem::replace(&mut cur, parent);
                    let lines = self.line - open.line;
                    let open_offset = open.offset;
                    let node = build_section(open, child.nodes).map_err(|k| self.err(k, open_offset))?;
                    // Indentation before a multi-line section's open tag is dropped.
                    if !cur.only_ws || lines == 0 {
                        cur.flush();
                    } else {
                        cur.out.clear();
                    }
                    cur.nodes.push(node);
                    cur.iterable = lines != 0;
                }
                '>' | '<' => {
                    return Err(self.err(K::UnsupportedTag { tag: command.to_owned() }, tag_start));
                }
                '{' => {
                    cur.flush();
                    let mut em = cur.em.chars();
                    let name = match (em.next(), em.next()) {
                        // With a `}` end delimiter the third brace must follow directly.
                        (_, Some('}')) if src[self.pos..].starts_with('}') => {
                            self.pos += 1;
                            variable
                        }
                        (_, Some('}')) => return Err(self.err(K::UnclosedTag, tag_start)),
                        // Custom delimiters: the closing brace sits inside the tag; ES drops the last char.
                        (_, Some(_)) => match variable.char_indices().last() {
                            Some((i, _)) => &variable[..i],
                            None => return Err(self.err(K::UnclosedTag, tag_start)),
                        },
                        // A one-char end delimiter makes mustache.java throw (charAt(1)).
                        _ => return Err(self.err(K::UnclosedTag, tag_start)),
                    };
                    cur.nodes.push(Node::Var { name: name.to_owned(), escaped: false, offset: tag_start });
                }
                '&' => {
                    cur.flush();
                    cur.nodes.push(Node::Var { name: variable.to_owned(), escaped: false, offset: tag_start });
                }
                '%' | '!' => cur.flush(),
                '=' => {
                    cur.flush();
                    // Java: command.replaceAll("\\s+", ""), then split the middle in two halves.
                    let spec: Vec<char> =
                        command.chars().filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')).collect();
                    let len = spec.len();
                    if len > 6 || !len.is_multiple_of(2) || len < 4 {
                        return Err(self.err(K::InvalidDelimiters { spec: command.to_owned() }, tag_start));
                    }
                    cur.sm = spec[1..len / 2].iter().collect();
                    cur.em = spec[len / 2..len - 1].iter().collect();
                }
                _ => {
                    if at_eof {
                        return Err(self.err(K::UnclosedTag, tag_start));
                    }
                    cur.flush();
                    cur.nodes.push(Node::Var { name: java_trim(command).to_owned(), escaped: true, offset: tag_start });
                }
            }
            cur.start_of_line = false;
        }
        cur.flush();
        if let Some(open) = cur.open {
            return Err(self.err(K::UnclosedSection { name: open.name }, open.offset));
        }
        Ok(cur.nodes)
    }
}

/// CustomMustacheVisitor.iterable: picks the lambda by the section name.
fn build_section(open: Open, body: Vec<Node>) -> Result<Node, TemplateErrorKind> {
    let Open { sigil, name, offset, .. } = open;
    Ok(match sigil {
        '^' => Node::Inverted { name, body, offset },
        '$' => Node::Block { name, body },
        _ if java_eq_ignore_case(&name, "toJson") => {
            Node::ToJson { var: lambda_variable(&body, "toJson")?, body, offset }
        }
        _ if java_eq_ignore_case(&name, "join") => {
            Node::Join { var: lambda_variable(&body, "join")?, delimiter: ",".to_owned(), body, offset }
        }
        _ => {
            if let Some(delimiter) = custom_join_delimiter(&name) {
                let delimiter = delimiter.to_owned();
                Node::Join { var: lambda_variable(&body, "join")?, delimiter, body, offset }
            } else if java_eq_ignore_case(&name, "url") {
                Node::Url { name, body }
            } else {
                Node::Section { name, body, offset }
            }
        }
    })
}

/// CustomJoinerCode's `^join delimiter='(.*)'$` (case-sensitive; `.` excludes line terminators).
fn custom_join_delimiter(name: &str) -> Option<&str> {
    let d = name.strip_prefix("join delimiter='")?.strip_suffix('\'')?;
    (!d.contains(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'])).then_some(d)
}

/// Java `String.equalsIgnoreCase`, char by char through upper and lower case.
fn java_eq_ignore_case(a: &str, b: &str) -> bool {
    fn simple(mut it: impl Iterator<Item = char>, c: char) -> char {
        match (it.next(), it.next()) {
            (Some(u), None) => u,
            _ => c,
        }
    }
    a.chars().count() == b.chars().count()
        && a.chars().zip(b.chars()).all(|(x, y)| {
            let (ux, uy) = (simple(x.to_uppercase(), x), simple(y.to_uppercase(), y));
            x == y || ux == uy || simple(ux.to_lowercase(), ux) == simple(uy.to_lowercase(), uy)
        })
}

/// CustomCode.extractVariableName: the body must be exactly one code. Leading text makes a WriteCode and
/// text after a tag is appended to that tag's code, so codes = (leading text) + (tags).
fn lambda_variable(body: &[Node], function: &'static str) -> Result<String, TemplateErrorKind> {
    let leading_text = usize::from(matches!(body.first(), Some(Node::Text(_))));
    let tags = body.iter().filter(|n| !matches!(n, Node::Text(_))).count();
    if leading_text + tags != 1 {
        return Err(TemplateErrorKind::FunctionArity { function });
    }
    if let [Node::Text(t)] = body {
        return Ok(t.clone());
    }
    let mut s = String::new();
    identity(body, &mut s);
    Ok(s)
}

/// Code.identity: the template text a code was parsed from (rebuilt with `{{ }}`).
fn identity(nodes: &[Node], out: &mut String) {
    let section = |out: &mut String, sigil: &str, name: &str, body: &[Node]| {
        out.push_str("{{");
        out.push_str(sigil);
        out.push_str(name);
        out.push_str("}}");
        identity(body, out);
        out.push_str("{{/");
        out.push_str(name);
        out.push_str("}}");
    };
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Var { name, escaped: true, .. } => {
                out.push_str("{{");
                out.push_str(name);
                out.push_str("}}");
            }
            Node::Var { name, escaped: false, .. } => {
                out.push_str("{{{");
                out.push_str(name);
                out.push_str("}}}");
            }
            Node::Section { name, body, .. } | Node::Url { name, body } => section(out, "#", name, body),
            Node::Inverted { name, body, .. } => section(out, "^", name, body),
            Node::Block { name, body } => section(out, "$", name, body),
            Node::ToJson { body, .. } => section(out, "#", "toJson", body),
            Node::Join { body, .. } => section(out, "#", "join", body),
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Renderer

/// A value as mustache.java sees it: the root params map, a JSON value, or the Integer `list.size`.
#[derive(Debug, Clone, Copy)]
enum V<'a> {
    Root(&'a Map<String, Value>),
    Json(&'a Value),
    Int(usize),
}

impl V<'_> {
    fn is_null(self) -> bool {
        matches!(self, V::Json(Value::Null))
    }
}

type RenderError = (TemplateErrorKind, Option<usize>);

struct Renderer<'a> {
    escape: Escape,
    scopes: Vec<V<'a>>,
    out: String,
    steps: u64,
}

impl<'a> Renderer<'a> {
    fn step(&mut self) -> Result<(), RenderError> {
        self.steps += 1;
        if self.steps > MAX_RENDER_STEPS {
            return Err((TemplateErrorKind::RenderBudgetExceeded, None));
        }
        Ok(())
    }

    fn write(&mut self, s: &str) -> Result<(), RenderError> {
        if self.out.len() + s.len() > MAX_RENDERED_LEN {
            return Err((TemplateErrorKind::RenderedTooLong, None));
        }
        self.out.push_str(s);
        Ok(())
    }

    /// Renders `body` into a fresh buffer (mustache.java's StringWriter captures for lambdas).
    fn capture(&mut self, body: &[Node]) -> Result<String, RenderError> {
        let saved = std::mem::take(&mut self.out);
        let result = self.render(body);
        let captured = std::mem::replace(&mut self.out, saved);
        result.map(|()| captured)
    }

    fn with_scope(&mut self, scope: V<'a>, body: &[Node]) -> Result<(), RenderError> {
        self.scopes.push(scope);
        let result = self.render(body);
        self.scopes.pop();
        result
    }

    /// DefaultCode.get; null is folded into "missing", as every caller treats them alike.
    fn get(&self, name: &str, offset: usize) -> Result<Option<V<'a>>, RenderError> {
        let found = if name == "." { Ok(self.scopes.last().copied()) } else { find(&self.scopes, name) };
        found.map(|v| v.filter(|v| !v.is_null())).map_err(|k| (k, Some(offset)))
    }

    fn render(&mut self, nodes: &[Node]) -> Result<(), RenderError> {
        for node in nodes {
            self.step()?;
            match node {
                Node::Text(t) => self.write(t)?,
                Node::Var { name, escaped, offset } => {
                    let Some(v) = self.get(name, *offset)? else { continue };
                    let s = stringify(v).map_err(|k| (k, Some(*offset)))?;
                    if *escaped {
                        if s.len() > MAX_RENDERED_LEN {
                            return Err((TemplateErrorKind::RenderedTooLong, None));
                        }
                        let mut e = String::with_capacity(s.len());
                        self.escape.encode_into(&s, &mut e);
                        self.write(&e)?;
                    } else {
                        self.write(&s)?;
                    }
                }
                Node::Section { name, body, offset } => match self.get(name, *offset)? {
                    None | Some(V::Json(Value::Bool(false))) => {}
                    Some(V::Json(Value::String(s))) if s.is_empty() => {}
                    Some(V::Json(Value::Array(items))) => {
                        for item in items {
                            self.step()?;
                            if item.is_null() {
                                // DefaultCode.addScope pushes nothing for null; the body still runs.
                                self.render(body)?;
                            } else {
                                self.with_scope(V::Json(item), body)?;
                            }
                        }
                    }
                    Some(v) => self.with_scope(v, body)?,
                },
                Node::Inverted { name, body, offset } => {
                    let falsy = match self.get(name, *offset)? {
                        None | Some(V::Json(Value::Bool(false))) => true,
                        Some(V::Json(Value::String(s))) => s.is_empty(),
                        Some(V::Json(Value::Array(items))) => items.is_empty(),
                        Some(_) => false,
                    };
                    if falsy {
                        self.render(body)?;
                    }
                }
                Node::Block { body, .. } => self.render(body)?,
                Node::ToJson { var, body, offset } => {
                    let v = self.get(var, *offset)?;
                    // handleFunction renders the body before applying the function; only errors matter.
                    self.capture(body)?;
                    let Some(v) = v else { continue };
                    let mut s = String::new();
                    match v {
                        V::Root(_) | V::Json(Value::Array(_) | Value::Object(_)) => write_json(v, &mut s, 0),
                        _ => stringify(v).map(|t| s = t),
                    }
                    .map_err(|k| (k, Some(*offset)))?;
                    self.write(&s)?;
                }
                Node::Join { var, delimiter, body, offset } => {
                    let v = self.get(var, *offset)?;
                    let text = self.capture(body)?;
                    let Some(V::Json(Value::Array(items))) = v else {
                        // JoinerCode returns the rendered body for anything that is not a list.
                        self.write(&text)?;
                        continue;
                    };
                    let mut s = String::new();
                    for (i, item) in items.iter().enumerate() {
                        if item.is_null() {
                            let kind = TemplateErrorKind::NullInJoin { name: var.clone() };
                            return Err((kind, Some(*offset)));
                        }
                        if i > 0 {
                            s.push_str(delimiter);
                        }
                        java_to_string(item, &mut s, 0).map_err(|k| (k, Some(*offset)))?;
                        if s.len() > MAX_RENDERED_LEN {
                            return Err((TemplateErrorKind::RenderedTooLong, None));
                        }
                    }
                    self.write(&s)?;
                }
                Node::Url { body, .. } => {
                    let text = self.capture(body)?;
                    let mut s = String::with_capacity(text.len());
                    url_encode_into(&text, &mut s);
                    self.write(&s)?;
                }
            }
        }
        Ok(())
    }
}

/// ReflectionObjectHandler.find over the scope stack.
fn find<'a>(scopes: &[V<'a>], name: &str) -> Result<Option<V<'a>>, TemplateErrorKind> {
    'scopes: for &scope in scopes.iter().rev() {
        // The whole name first: this is what makes `realm.name` and `metadata.uid` work.
        if let Some(v) = lookup_in(scope, name, name)? {
            return Ok(Some(v));
        }
        if !name.contains('.') {
            continue;
        }
        let mut current = scope;
        let mut rest = name;
        while let Some((head, tail)) = rest.split_once('.') {
            rest = tail;
            match lookup_in(current, head, name)? {
                None => continue 'scopes,
                Some(v) if v.is_null() => return Ok(None),
                Some(v) => current = v,
            }
        }
        // A segment was found in this scope: the outer scopes are no longer consulted.
        return lookup_in(current, rest, name);
    }
    Ok(None)
}

/// ReflectionObjectHandler.findWrapper on one (coerced) scope: maps by key, lists by `size` or index.
fn lookup_in<'a>(scope: V<'a>, key: &str, name: &str) -> Result<Option<V<'a>>, TemplateErrorKind> {
    match scope {
        V::Root(map) | V::Json(Value::Object(map)) => Ok(map.get(key).map(V::Json)),
        V::Json(Value::Array(items)) => {
            if key == "size" {
                return Ok(Some(V::Int(items.len())));
            }
            // CollectionMap.get: Integer.parseInt, else "not a key".
            let Ok(index) = key.parse::<i32>() else { return Ok(None) };
            let out_of_bounds = || TemplateErrorKind::IndexOutOfBounds {
                name: name.to_owned(),
                index: key.to_owned(),
                len: items.len(),
            };
            match usize::try_from(index).ok().and_then(|i| items.get(i)) {
                None => Err(out_of_bounds()),
                // containsKey is `get(key) != null`: a null element is not there.
                Some(Value::Null) => Ok(None),
                Some(v) => Ok(Some(V::Json(v))),
            }
        }
        _ => Ok(None),
    }
}

/// ObjectHandler.stringify of a coerced value: a list has become ES's CollectionMap, whose
/// `AbstractMap.toString` prints `{0=a, 1=b}`.
fn stringify(v: V<'_>) -> Result<String, TemplateErrorKind> {
    let mut s = String::new();
    match v {
        V::Int(n) => s.push_str(&n.to_string()),
        V::Root(map) => java_map_to_string(map, &mut s, 0)?,
        V::Json(Value::Array(items)) => {
            s.push('{');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                s.push_str(&i.to_string());
                s.push('=');
                java_to_string(item, &mut s, 1)?;
            }
            s.push('}');
        }
        V::Json(value) => java_to_string(value, &mut s, 0)?,
    }
    Ok(s)
}

fn check_depth(depth: usize, out: &str) -> Result<(), TemplateErrorKind> {
    if depth > MAX_VALUE_DEPTH {
        return Err(TemplateErrorKind::ValueTooDeep);
    }
    if out.len() > MAX_RENDERED_LEN {
        return Err(TemplateErrorKind::RenderedTooLong);
    }
    Ok(())
}

/// Java `toString` of the value ES would hold: String, Integer/Long/BigInteger, Double, Boolean,
/// ArrayList (`[a, b]`), HashMap (`{k=v}`), null.
fn java_to_string(v: &Value, out: &mut String, depth: usize) -> Result<(), TemplateErrorKind> {
    check_depth(depth, out)?;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => java_number_into(n, out),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                java_to_string(item, out, depth + 1)?;
            }
            out.push(']');
        }
        Value::Object(map) => java_map_to_string(map, out, depth)?,
    }
    Ok(())
}

fn java_map_to_string(map: &Map<String, Value>, out: &mut String, depth: usize) -> Result<(), TemplateErrorKind> {
    out.push('{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        out.push('=');
        java_to_string(v, out, depth + 1)?;
    }
    out.push('}');
    Ok(())
}

fn java_number_into(n: &serde_json::Number, out: &mut String) {
    if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(u) = n.as_u64() {
        out.push_str(&u.to_string());
    } else if let Some(f) = n.as_f64() {
        out.push_str(&java_double(f));
    } else {
        out.push_str(&n.to_string());
    }
}

/// Java `Double.toString` (JDK 19+ shortest form): plain decimal with at least one fraction digit for
/// 1e-3 <= |d| < 1e7, else computerized scientific notation `d.dddE±n`.
fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let abs = d.abs();
    // Rust's `{:e}` gives the shortest round-trip digits, as Java's algorithm does.
    let mut sci = format!("{abs:e}");
    if !sci.contains('.') {
        // Java never prints fewer than two digits: with a one-digit shortest form it picks the two-digit
        // decimal closest to the exact value (Double.MIN_VALUE is 4.9E-324, not 5.0E-324).
        sci = format!("{abs:.1e}");
    }
    let Some((mantissa, exp)) = sci.split_once('e') else { return format!("{d}") };
    let Ok(exp) = exp.parse::<i32>() else { return format!("{d}") };
    let mut digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let mut out = String::new();
    if d < 0.0 {
        out.push('-');
    }
    if (1e-3..1e7).contains(&abs) {
        if let Ok(e) = usize::try_from(exp) {
            if digits.len() > e + 1 {
                out.push_str(&digits[..=e]);
                out.push('.');
                out.push_str(&digits[e + 1..]);
            } else {
                out.push_str(&digits);
                out.push_str(&"0".repeat(e + 1 - digits.len()));
                out.push_str(".0");
            }
        } else {
            out.push_str("0.");
            out.push_str(&"0".repeat(exp.unsigned_abs() as usize - 1));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        out.push('E');
        out.push_str(&exp.to_string());
    }
    out
}

/// XContentBuilder output for `toJson`: compact JSON, Jackson string escaping, doubles as `Double.toString`.
fn write_json(v: V<'_>, out: &mut String, depth: usize) -> Result<(), TemplateErrorKind> {
    match v {
        V::Int(n) => out.push_str(&n.to_string()),
        V::Root(map) => write_json_object(map, out, depth)?,
        V::Json(value) => write_json_value(value, out, depth)?,
    }
    Ok(())
}

fn write_json_value(v: &Value, out: &mut String, depth: usize) -> Result<(), TemplateErrorKind> {
    check_depth(depth, out)?;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => java_number_into(n, out),
        Value::String(s) => {
            out.push('"');
            json_escape_into(s, out);
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_value(item, out, depth + 1)?;
            }
            out.push(']');
        }
        Value::Object(map) => write_json_object(map, out, depth)?,
    }
    Ok(())
}

fn write_json_object(map: &Map<String, Value>, out: &mut String, depth: usize) -> Result<(), TemplateErrorKind> {
    out.push('{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        json_escape_into(k, out);
        out.push_str("\":");
        write_json_value(v, out, depth + 1)?;
    }
    out.push('}');
    Ok(())
}

/// Jackson `JsonStringEncoder.quoteAsString` (CharTypes.sOutputEscapes128): `"` `\`, short escapes for
/// \b \t \n \f \r, `\u00XX` (upper-case hex) for the other controls; nothing else (not `/`, not U+007F).
fn json_escape_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let b = c as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 0xF]));
            }
            c => out.push(c),
        }
    }
}

/// Java `URLEncoder.encode(s, UTF_8)`: ASCII letters, digits and `.-*_` kept, space as `+`, every other
/// UTF-8 byte as `%XX` (upper-case hex).
fn url_encode_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xF)]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("scope must be an object"),
        }
    }

    fn render_with(src: &str, escape: Escape, params: Value) -> String {
        Template::parse(src, escape).unwrap().render(&scope(params)).unwrap()
    }

    fn render(src: &str, params: Value) -> String {
        render_with(src, Escape::Json, params)
    }

    fn render_err(src: &str, params: Value) -> TemplateError {
        Template::parse(src, Escape::Json).unwrap().render(&scope(params)).unwrap_err()
    }

    fn parse_err(src: &str) -> TemplateError {
        Template::parse(src, Escape::Json).unwrap_err()
    }

    fn hulk() -> Value {
        json!({"username": "hulk", "groups": ["avengers", "defenders", "panthenon"], "realm.name": "ldap1"})
    }

    fn roles(src: &str, format: Format, params: Value) -> Result<Vec<String>, TemplateError> {
        roles_from_rendered(render(src, params), format)
    }

    // --- TemplateRoleNameTests (§8.2) ---

    #[test]
    fn es_evaluate_roles() {
        assert_eq!(roles("heroes", Format::String, hulk()).unwrap(), ["heroes"]);
        assert_eq!(roles("_user_{{username}}", Format::String, hulk()).unwrap(), ["_user_hulk"]);
        assert_eq!(
            roles("{{#tojson}}groups{{/tojson}}", Format::Json, hulk()).unwrap(),
            ["avengers", "defenders", "panthenon"]
        );
    }

    #[test]
    fn es_validate_with_empty_context() {
        let src = "{{username}}/{{dn}}/{{realm}}/{{metadata}}{{#realm}}{{name}}/{{type}}{{/realm}}\
                   {{#toJson}}groups{{/toJson}}{{^groups}}{{.}}{{/groups}}{{#metadata}}{{#first}}\
                   <li><strong>{{name}}</strong></li>{{/first}}{{#link}}<li><a href=\\\"{{url}}\\\">{{name}}</a></li>\
                   {{/link}}{{#toJson}}subgroups{{/toJson}}{{something-else}}{{/metadata}}";
        assert_eq!(render(src, json!({})), "///{}");
    }

    #[test]
    fn es_validate_fails_for_unclosed_section() {
        let e = parse_err(" {{#not-closed}} {{other-variable}} ");
        assert_eq!(e.kind(), &TemplateErrorKind::UnclosedSection { name: "not-closed".into() });
        assert_eq!(e.offset(), Some(1));
        assert_eq!(e.to_string(), "unclosed section `not-closed` opened at 1:2");
    }

    #[test]
    fn docs_examples() {
        assert_eq!(render("_user_{{username}}", json!({"username": "nwong"})), "_user_nwong");
        assert_eq!(render("{{metadata.extra_group}}", json!({"metadata.extra_group": "flight"})), "flight");
        assert_eq!(roles("{{metadata.missing}}", Format::String, hulk()).unwrap(), [""]);
    }

    // --- escaping ---

    #[test]
    fn json_escaping_default() {
        // MustacheScriptEngineTests.testSimpleParameterReplace / MustacheTests.testEscaping
        let p = json!({"value": "a \"value\""});
        assert_eq!(render("{ \"field1\": \"{{value}}\"}", p.clone()), "{ \"field1\": \"a \\\"value\\\"\"}");
        assert_eq!(render_with("{ \"field1\": \"{{value}}\"}", Escape::None, p), "{ \"field1\": \"a \"value\"\"}");
        // MustacheScriptEngineTests.testEscapeJson with Jackson's table
        let p = json!({"v": "hello \n world\\ \u{0}\u{1}\u{8}\t\u{b}\u{c}\r\u{e}\u{1f} / \u{7f} é \u{2028}"});
        assert_eq!(
            render("{{v}}", p),
            "hello \\n world\\\\ \\u0000\\u0001\\b\\t\\u000B\\f\\r\\u000E\\u001F / \u{7f} é \u{2028}"
        );
    }

    #[test]
    fn unescaped_forms() {
        let p = json!({"v": "a\"b"});
        assert_eq!(render("{{{v}}}|{{& v}}|{{{ v }}}|{{v}}", p), "a\"b|a\"b|a\"b|a\\\"b");
    }

    #[test]
    fn url_escaping() {
        let p = json!({"v": "a b/é&*-._~"});
        assert_eq!(render_with("{{v}}", Escape::Url, p.clone()), "a+b%2F%C3%A9%26*-._%7E");
        assert_eq!(render_with("{{{v}}}", Escape::Url, p.clone()), "a b/é&*-._~");
        // the url lambda encodes its rendered body whatever the content type (after JSON escaping)
        assert_eq!(render("{{#url}}x y{{v}}{{/url}}!", p), "x+ya+b%2F%C3%A9%26*-._%7E!");
        assert_eq!(render("{{#url}}{{q}}{{/url}}", json!({"q": "\""})), "%5C%22");
    }

    #[test]
    fn content_types() {
        assert_eq!(Escape::from_content_type("application/json"), Some(Escape::Json));
        assert_eq!(Escape::from_content_type("application/json;charset=utf-8"), Some(Escape::Json));
        assert_eq!(Escape::from_content_type("application/json; charset=UTF-8"), Some(Escape::Json));
        assert_eq!(Escape::from_content_type("text/plain"), Some(Escape::None));
        assert_eq!(Escape::from_content_type("application/x-www-form-urlencoded"), Some(Escape::Url));
        assert_eq!(Escape::from_content_type("Text/Plain"), None);
        assert_eq!(Escape::from_content_type("text/html"), None);
        assert_eq!(Escape::default(), Escape::Json);
    }

    // --- values ---

    #[test]
    fn java_to_string_forms() {
        let p = json!({"i": 42, "neg": -7, "big": 18446744073709551615u64, "t": true, "f": false,
                       "d1": 1.0, "d2": 1.84, "d3": 1e10, "d4": 0.0001, "d5": 0.001, "d6": 1234567.0,
                       "d7": 12345678.0, "d8": -2.5e-7, "d9": 100.0, "n": null,
                       "m": {"a": 1, "b": [1, "x", null]}, "l": ["a", 1.5, ["b", "c"], {"k": "v"}]});
        assert_eq!(
            render("{{i}} {{neg}} {{big}} {{t}} {{f}} [{{n}}]", p.clone()),
            "42 -7 18446744073709551615 true false []"
        );
        assert_eq!(
            render("{{d1}} {{d2}} {{d3}} {{d4}} {{d5}} {{d6}} {{d7}} {{d8}} {{d9}}", p.clone()),
            "1.0 1.84 1.0E10 1.0E-4 0.001 1234567.0 1.2345678E7 -2.5E-7 100.0"
        );
        assert_eq!(render_with("{{m}}", Escape::None, p.clone()), "{a=1, b=[1, x, null]}");
        // a list handed to a tag has been coerced to ES's CollectionMap
        assert_eq!(render_with("{{l}}", Escape::None, p.clone()), "{0=a, 1=1.5, 2=[b, c], 3={k=v}}");
        assert_eq!(render("{{l.size}} {{l.0}} {{l.2.1}} {{l.3.k}} {{l.+1}}", p), "4 a c v 1.5");
        assert_eq!(render_with("{{groups}}", Escape::None, hulk()), "{0=avengers, 1=defenders, 2=panthenon}");
    }

    #[test]
    fn dot_and_root() {
        assert_eq!(render_with("{{.}}", Escape::None, json!({"a": "b"})), "{a=b}");
        assert_eq!(
            render_with("{{#l}}<{{.}}>{{/l}}", Escape::None, json!({"l": [["x", "y"], "z"]})),
            "<{0=x, 1=y}><z>"
        );
    }

    // --- lookup ---

    #[test]
    fn dotted_keys_literal_first() {
        let p = json!({"realm.name": "ldap1", "realm": {"name": "nested", "type": "ldap"}});
        assert_eq!(render("{{realm.name}} {{realm.type}}", p), "ldap1 ldap");
        // the model has no `realm` map: a section over it finds nothing (§3.3)
        assert_eq!(render("[{{#realm}}{{name}}{{/realm}}]", hulk()), "[]");
        // a dotted path is split at every dot; `metadata.a` as a literal key cannot be navigated further
        assert_eq!(render("[{{metadata.a.b}}]", json!({"metadata.a": {"b": "x"}})), "[]");
    }

    #[test]
    fn dotted_lookup_scope_precedence() {
        let p = json!({"a.b": "root", "items": [{"a": {"c": 1}}, {"x": 1}, {"a": null}]});
        // first item: `a` found, `b` missing -> stop (missing); second: `a` missing -> outer scope;
        // third: `a` is null -> stop
        assert_eq!(render("{{#items}}[{{a.b}}]{{/items}}", p), "[][root][]");
    }

    #[test]
    fn es_array_access() {
        // MustacheTests.testArrayAccess / testArrayInArrayAccess / testMapInArrayAccess / testSizeAccess
        assert_eq!(render("{{data.0}} {{data.1}}", json!({"data": ["foo", "bar"]})), "foo bar");
        assert_eq!(render("{{data.0.0}} {{data.0.1}}", json!({"data": [["foo", "bar"]]})), "foo bar");
        assert_eq!(
            render("{{data.0.key}} {{data.1.key}}", json!({"data": [{"key": "foo"}, {"key": "bar"}]})),
            "foo bar"
        );
        let p = json!({"data": {"array": ["a", "b", "c"], "list": ["x"]}});
        assert_eq!(render("{{data.array.size}} {{data.list.size}}", p), "3 1");
    }

    #[test]
    fn list_index_errors() {
        let e = render_err("x{{groups.3}}", hulk());
        assert_eq!(
            e.kind(),
            &TemplateErrorKind::IndexOutOfBounds { name: "groups.3".into(), index: "3".into(), len: 3 }
        );
        assert_eq!(e.offset(), Some(1));
        assert_eq!(e.to_string(), "index `3` in `groups.3` is out of bounds for a list of 3 at 1:2");
        assert!(matches!(render_err("{{groups.-1}}", hulk()).kind(), TemplateErrorKind::IndexOutOfBounds { .. }));
        // not an int: simply not a key
        assert_eq!(render("[{{groups.first}}][{{groups.99999999999}}]", hulk()), "[][]");
        // a null element is "not there"
        assert_eq!(render("[{{l.0}}]", json!({"l": [null]})), "[]");
    }

    // --- sections ---

    #[test]
    fn sections_over_lists() {
        assert_eq!(render("{{#groups}}{{.}},{{/groups}}", hulk()), "avengers,defenders,panthenon,");
        assert_eq!(
            render("{{#groups}}{{username}}:{{.}} {{/groups}}", hulk()),
            "hulk:avengers hulk:defenders hulk:panthenon "
        );
        let p = json!({"l": [{"n": 1}, {"n": 2}], "n": 0});
        assert_eq!(render("{{#l}}{{n}}{{/l}}", p), "12");
        // a null element runs the body with no new scope
        assert_eq!(render_with("{{#l}}<{{.}}>{{/l}}", Escape::None, json!({"l": ["a", null]})), "<a><{l=[a, null]}>");
    }

    #[test]
    fn section_truthiness() {
        let p = json!({"t": true, "f": false, "e": "", "s": "x", "z": 0, "el": [], "em": {}, "n": null,
                       "m": {"k": "v"}});
        let src = "{{#t}}t{{/t}}{{#f}}f{{/f}}{{#e}}e{{/e}}{{#s}}s{{.}}{{/s}}{{#z}}z{{.}}{{/z}}{{#el}}el{{/el}}\
                   {{#em}}em{{/em}}{{#n}}n{{/n}}{{#missing}}x{{/missing}}{{#m}}{{k}}{{/m}}";
        assert_eq!(render(src, p.clone()), "tsxz0emv");
        let inv = "{{^t}}t{{/t}}{{^f}}f{{/f}}{{^e}}e{{/e}}{{^s}}s{{/s}}{{^z}}z{{/z}}{{^el}}el{{/el}}\
                   {{^em}}em{{/em}}{{^n}}n{{/n}}{{^missing}}x{{/missing}}{{^m}}m{{/m}}";
        assert_eq!(render(inv, p), "feelnx");
        // size is an Integer: truthy even when 0
        assert_eq!(render("{{#l.size}}[{{.}}]{{/l.size}}", json!({"l": []})), "[0]");
        assert_eq!(render("{{$blk}}body{{/blk}}", json!({})), "body");
    }

    #[test]
    fn standalone_lines() {
        let p = json!({"a": true, "l": ["x", "y"]});
        assert_eq!(render("{{#a}}\nX\n{{/a}}\nY", p.clone()), "X\nY");
        assert_eq!(render("  {{#l}}\n  - {{.}}\n  {{/l}}\nend", p.clone()), "  - x\n  - y\nend");
        assert_eq!(render("a {{#a}}b{{/a}} c\n", p.clone()), "a b c\n");
        assert_eq!(render("a\r\nb\rc", p), "a\r\nbc");
    }

    #[test]
    fn comments_pragmas_and_delimiters() {
        assert_eq!(render("a{{! comment }}b{{%IMPLICIT-ITERATOR}}c", json!({})), "abc");
        // MustacheScriptEngineTests.testChangingDelimiters, shortened
        let src = "\"{{q}}\"\n  {{=<% %>=}}\n  \"{{{{\"\n  <%={{ }}=%>\n{{q}}";
        assert_eq!(render(src, json!({"q": "t"})), "\"t\"\n  \n  \"{{{{\"\n  \nt");
        assert_eq!(render("{{=| |=}}|q|{{q}}|&q|", json!({"q": "<"})), "<{{q}}<");
        assert_eq!(render("{{=<% %>=}}<%{q}%>", json!({"q": "\""})), "\"");
    }

    // --- lambdas ---

    #[test]
    fn tojson() {
        // MustacheTests.testPrimitiveToJSON / testSimpleMapToJSON / testSimpleListToJSON
        let t = "{{#toJson}}ctx{{/toJson}}";
        assert_eq!(render(t, json!({"ctx": "value"})), "value");
        assert_eq!(render(t, json!({"ctx": ""})), "");
        assert_eq!(render(t, json!({"ctx": true})), "true");
        assert_eq!(render(t, json!({"ctx": 42})), "42");
        assert_eq!(render(t, json!({"ctx": 42.5})), "42.5");
        assert_eq!(render(t, json!({"ctx": null})), "");
        assert_eq!(render("{{#toJson}}.{{/toJson}}", json!({"ctx": "value"})), "{\"ctx\":\"value\"}");
        assert_eq!(render("{{#toJson}}.{{/toJson}}", json!({"ctx": null})), "{\"ctx\":null}");
        let human = json!({"ctx": {"age": 42, "height": 1.84, "name": "John Smith"}});
        assert_eq!(render(t, human.clone()), "{\"age\":42,\"height\":1.84,\"name\":\"John Smith\"}");
        assert_eq!(render("{{#toJson}}ctx.name{{/toJson}}", human), "John Smith");
        let list = json!({"ctx": ["one", "two", "three"]});
        assert_eq!(render(t, list.clone()), "[\"one\",\"two\",\"three\"]");
        assert_eq!(render("{{#toJson}}ctx.1{{/toJson}}", list.clone()), "two");
        assert_eq!(render("{{#toJson}}ctx.size{{/toJson}}", list), "3");
        // lambda output is not escaped again; strings inside JSON get Jackson escaping
        assert_eq!(
            render("{{#tojson}}g{{/tojson}}", json!({"g": ["a\"b", "c\\d\n", 1e10]})),
            "[\"a\\\"b\",\"c\\\\d\\n\",1.0E10]"
        );
        assert_eq!(render("{{#TOJSON}}g{{/TOJSON}}", json!({"g": []})), "[]");
    }

    #[test]
    fn tojson_embedded() {
        // MustacheTests.testEmbeddedToJSON
        let p = json!({"ctx": {"bulks": [{"id": 1, "index": "index-1"}, {"id": 2, "index": "index-2"}]}});
        assert_eq!(
            render("{{#ctx.bulks}}{{#toJson}}.{{/toJson}}{{/ctx.bulks}}", p.clone()),
            "{\"id\":1,\"index\":\"index-1\"}{\"id\":2,\"index\":\"index-2\"}"
        );
        assert_eq!(render("{{#ctx.bulks}}<{{#toJson}}id{{/toJson}}>{{/ctx.bulks}}", p), "<1><2>");
    }

    #[test]
    fn join() {
        // MustacheTests.testSimpleArrayJoin / testEmbeddedArrayJoin / testJoinWithCustomDelimiter
        assert_eq!(render("{{#join}}array{{/join}}", json!({"array": ["one", "two", "three"]})), "one,two,three");
        assert_eq!(render("{{#join}}array{{/join}}", json!({"array": [1.5, 2.5, 3.5]})), "1.5,2.5,3.5");
        assert_eq!(render("{{#join}}array{{/join}}", json!({"array": [true, false]})), "true,false");
        let p = json!({"params": [1, 2, 3, 4]});
        assert_eq!(render("{{#join delimiter=''}}params{{/join delimiter=''}}", p.clone()), "1234");
        assert_eq!(render("{{#join delimiter=','}}params{{/join delimiter=','}}", p.clone()), "1,2,3,4");
        assert_eq!(render("{{#join delimiter='/'}}params{{/join delimiter='/'}}", p.clone()), "1/2/3/4");
        assert_eq!(render("{{#join delimiter=' and '}}params{{/join delimiter=' and '}}", p), "1 and 2 and 3 and 4");
        let people = json!({"ctx": {"people": [{"emails": ["a@x", "b@x"]}, {"emails": ["c@x"]}]}});
        assert_eq!(render("{{#join}}ctx.people.0.emails{{/join}}", people.clone()), "a@x,b@x");
        assert_eq!(
            render("{{#ctx.people}}to: {{#join}}emails{{/join}};{{/ctx.people}}", people),
            "to: a@x,b@x;to: c@x;"
        );
        // output not escaped; nested lists print as Java lists
        assert_eq!(render("{{#join}}g{{/join}}", json!({"g": ["a\"b", ["c", "d"]]})), "a\"b,[c, d]");
        // MustacheTests.testJoinWithToJson
        let terms = json!({"terms": [{"term": "foo"}, {"term": "bar"}]});
        assert_eq!(
            render("{{#join}}{{#toJson}}terms{{/toJson}}{{/join}}", terms),
            "[{\"term\":\"foo\"},{\"term\":\"bar\"}]"
        );
    }

    #[test]
    fn join_of_non_list_prints_body() {
        assert_eq!(render("{{#join}}username{{/join}}", hulk()), "username");
        assert_eq!(render("{{#join}}missing{{/join}}", hulk()), "missing");
        assert_eq!(render("{{#join}} groups {{/join}}", hulk()), " groups ");
        assert_eq!(render("{{#join}}{{username}}{{/join}}", hulk()), "hulk");
    }

    #[test]
    fn join_null_element_fails() {
        let e = render_err("{{#join}}l{{/join}}", json!({"l": ["a", null]}));
        assert_eq!(e.kind(), &TemplateErrorKind::NullInJoin { name: "l".into() });
    }

    // --- syntax errors ---

    #[test]
    fn syntax_errors() {
        use TemplateErrorKind as K;
        let e = parse_err("ab{{}}");
        assert_eq!((e.kind(), e.offset()), (&K::EmptyTag, Some(2)));
        assert_eq!(e.to_string(), "empty tag at 1:3");
        let e = parse_err("x\n  {{name");
        assert_eq!((e.kind(), e.offset(), e.line_column()), (&K::UnclosedTag, Some(4), Some((2, 3))));
        assert_eq!(parse_err("{{{name}}").kind(), &K::UnclosedTag);
        assert_eq!(parse_err("{{{name}}x").kind(), &K::UnclosedTag);
        let e = parse_err("{{#a}}{{#b}}{{/a}}{{/b}}");
        assert_eq!(e.kind(), &K::MismatchedClose { expected: Some("b".into()), found: "a".into() });
        assert_eq!(e.offset(), Some(12));
        assert_eq!(e.to_string(), "close tag `a` does not match open section `b` at 1:13");
        let e = parse_err("x{{/a}}");
        assert_eq!(e.kind(), &K::MismatchedClose { expected: None, found: "a".into() });
        assert_eq!(e.to_string(), "close tag `a` has no open section at 1:2");
        let e = parse_err("é{{#groups}}\n{{#x}}{{/x}}");
        assert_eq!(e.kind(), &K::UnclosedSection { name: "groups".into() });
        assert_eq!(e.to_string(), "unclosed section `groups` opened at 1:2");
        assert_eq!(parse_err("{{#a}}").kind(), &K::UnclosedSection { name: "a".into() });
        assert_eq!(parse_err("{{#a").kind(), &K::UnclosedSection { name: "a".into() });
        // MustacheTests.testsUnsupportedTagsJoin: the close tag must repeat the delimiter exactly
        assert!(matches!(
            parse_err("{{#join delimiter='a'}}{{/join delimiter='b'}}").kind(),
            K::MismatchedClose { .. }
        ));
        assert!(matches!(parse_err("{{#toJson}}x{{/tojson}}").kind(), K::MismatchedClose { .. }));
        assert_eq!(parse_err("{{=<% %>}}").kind(), &K::InvalidDelimiters { spec: "=<% %>".into() });
        assert!(matches!(parse_err("{{=<<< >>>=}}").kind(), K::InvalidDelimiters { .. }));
        assert!(matches!(parse_err("{{=| |=}}|{x}|").kind(), K::UnclosedTag));
        assert!(matches!(parse_err("{{> partial}}").kind(), K::UnsupportedTag { .. }));
        assert!(matches!(parse_err("{{<parent}}{{/parent}}").kind(), K::UnsupportedTag { .. }));
    }

    #[test]
    fn lambda_arity_errors() {
        // MustacheTests.testsUnsupportedTagsToJson / testsUnsupportedTagsJoin
        let e = parse_err("{{#toJson}}{{foo}}{{bar}}{{/toJson}}");
        assert_eq!(e.kind(), &TemplateErrorKind::FunctionArity { function: "toJson" });
        assert_eq!(e.to_string(), "mustache function `toJson` must contain one and only one identifier at 1:1");
        assert_eq!(
            parse_err("{{#toJson}}{{/toJson}}").kind(),
            &TemplateErrorKind::FunctionArity { function: "toJson" }
        );
        assert_eq!(parse_err("{{#join}}{{/join}}").kind(), &TemplateErrorKind::FunctionArity { function: "join" });
        assert_eq!(
            parse_err("{{#join}}a{{b}}{{/join}}").kind(),
            &TemplateErrorKind::FunctionArity { function: "join" }
        );
        // a tag followed by text is still one code
        assert_eq!(render("[{{#tojson}}{{x}}y{{/tojson}}]", json!({"x": 1})), "[]");
    }

    #[test]
    fn lenient_forms_es_accepts() {
        assert_eq!(render("a{{&x", json!({"x": "<"})), "a<");
        assert_eq!(render("a{{!unterminated", json!({})), "a");
        assert_eq!(render("{{#a}}b{{/a", json!({"a": true})), "b");
        assert_eq!(render("[{{ }}][{{#}}x{{/}}]", json!({})), "[][]");
    }

    // --- limits ---

    #[test]
    fn template_length_limit() {
        let ok = "a".repeat(MAX_TEMPLATE_LEN);
        assert!(Template::parse(&ok, Escape::Json).is_ok());
        let e = parse_err(&format!("{ok}a"));
        assert_eq!(e.kind(), &TemplateErrorKind::TemplateTooLong { len: MAX_TEMPLATE_LEN + 1 });
        assert_eq!(e.offset(), None);
    }

    #[test]
    fn section_depth_limit() {
        let nested = |n: usize| format!("{}x{}", "{{#a}}".repeat(n), "{{/a}}".repeat(n));
        assert_eq!(render(&nested(MAX_SECTION_DEPTH), json!({"a": true})), "x");
        let e = parse_err(&nested(MAX_SECTION_DEPTH + 1));
        assert_eq!(e.kind(), &TemplateErrorKind::SectionTooDeep);
        assert_eq!(e.offset(), Some(MAX_SECTION_DEPTH * 6));
    }

    #[test]
    fn rendered_length_limit() {
        let at = json!({"s": "x".repeat(MAX_RENDERED_LEN)});
        assert_eq!(render("{{s}}", at.clone()).len(), MAX_RENDERED_LEN);
        assert_eq!(render_err("{{s}}y", at).kind(), &TemplateErrorKind::RenderedTooLong);
        let l: Vec<u32> = (0..100).collect();
        let e = render_err("{{#l}}{{#l}}{{#l}}xxxxxxxxxx{{/l}}{{/l}}{{/l}}", json!({ "l": l }));
        assert_eq!(e.kind(), &TemplateErrorKind::RenderedTooLong);
        // escaping counts: 1 MiB of quotes escapes to 2 MiB
        let q = json!({"s": "\"".repeat(MAX_RENDERED_LEN / 2 + 1)});
        assert_eq!(render_err("{{s}}", q).kind(), &TemplateErrorKind::RenderedTooLong);
    }

    #[test]
    fn render_step_limit() {
        let l: Vec<u32> = (0..10).collect();
        let src = format!("{}{}", "{{#l}}".repeat(7), "{{/l}}".repeat(7));
        assert_eq!(render_err(&src, json!({ "l": l })).kind(), &TemplateErrorKind::RenderBudgetExceeded);
    }

    #[test]
    fn value_depth_limit() {
        let mut v = json!("x");
        for _ in 0..=MAX_VALUE_DEPTH {
            v = json!([v]);
        }
        let p = json!({ "v": v });
        assert_eq!(render_err("{{#tojson}}v{{/tojson}}", p.clone()).kind(), &TemplateErrorKind::ValueTooDeep);
        assert_eq!(render_err("{{v}}", p).kind(), &TemplateErrorKind::ValueTooDeep);
    }

    // --- roles ---

    #[test]
    fn roles_json_and_string() {
        use TemplateErrorKind as K;
        let j = |s: &str| roles_from_rendered(s.to_owned(), Format::Json);
        assert_eq!(j("\"a\"").unwrap(), ["a"]);
        assert_eq!(j(" [\"a\", null, \"b\"] ").unwrap(), ["a", "b"]);
        assert_eq!(j("[\"a\", null]").unwrap(), ["a"]);
        assert_eq!(j("[]").unwrap(), Vec::<String>::new());
        assert_eq!(j("\"a\" trailing").unwrap(), ["a"]);
        assert_eq!(j("[\"a\", 1]").unwrap_err().kind(), &K::NonStringRole { found: "1".into() });
        assert!(matches!(j("[[\"a\"]]").unwrap_err().kind(), K::NonStringRole { .. }));
        assert_eq!(j("").unwrap_err().kind(), &K::NotStringOrArray { found: "end of input" });
        assert_eq!(j("  ").unwrap_err().kind(), &K::NotStringOrArray { found: "end of input" });
        assert_eq!(j("12").unwrap_err().kind(), &K::NotStringOrArray { found: "number" });
        assert_eq!(j("{}").unwrap_err().kind(), &K::NotStringOrArray { found: "object" });
        assert_eq!(j("true").unwrap_err().kind(), &K::NotStringOrArray { found: "boolean" });
        assert_eq!(j("null").unwrap_err().kind(), &K::NotStringOrArray { found: "null" });
        assert!(matches!(j("hulk").unwrap_err().kind(), K::InvalidJson { .. }));
        assert_eq!(j("[\"a\", 1]").unwrap_err().to_string(), "roles array may only contain strings but found `1`");
        assert_eq!(roles_from_rendered(String::new(), Format::String).unwrap(), [""]);
        assert_eq!(roles_from_rendered("[\"a\"]".into(), Format::String).unwrap(), ["[\"a\"]"]);
        // toJson of a plain string is not JSON: a json-format template over it fails
        assert!(roles("{{#tojson}}username{{/tojson}}", Format::Json, hulk()).is_err());
        // JSON escaping keeps a quoted template valid JSON
        assert_eq!(roles("\"{{q}}\"", Format::Json, json!({"q": "a\"b\\"})).unwrap(), ["a\"b\\"]);
    }

    #[test]
    fn format_parse() {
        assert_eq!(Format::parse("json"), Some(Format::Json));
        assert_eq!(Format::parse("JSON"), Some(Format::Json));
        assert_eq!(Format::parse("String"), Some(Format::String));
        assert_eq!(Format::parse("strıng"), Some(Format::String)); // Java toUpperCase(ROOT) maps dotless i to I
        assert_eq!(Format::parse("yaml"), None);
        assert_eq!(Format::parse(""), None);
        assert_eq!(Format::default(), Format::String);
        assert_eq!(Format::Json.name(), "json");
    }

    #[test]
    fn template_accessors_and_traits() {
        fn assert_send_sync<T: Send + Sync + Clone + std::fmt::Debug>() {}
        assert_send_sync::<Template>();
        assert_send_sync::<TemplateError>();
        let t = Template::parse("_{{username}}", Escape::None).unwrap();
        assert_eq!(t.source(), "_{{username}}");
        assert_eq!(t.escape(), Escape::None);
        assert_eq!(t.clone().render(&scope(hulk())).unwrap(), "_hulk");
    }

    #[test]
    fn java_double_forms() {
        for (d, s) in [
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.5, "0.5"),
            (1e7, "1.0E7"),
            (9999999.0, "9999999.0"),
            (1e-3, "0.001"),
            (9.99e-4, "9.99E-4"),
            (123.456, "123.456"),
            (1e23, "1.0E23"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
            (5e-324, "4.9E-324"),
        ] {
            assert_eq!(java_double(d), s);
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn model() -> Map<String, Value> {
            scope(json!({"username": "u", "groups": ["a", "b"], "l": [[1, null], {"k": "v"}, null],
                         "realm.name": "r", "m": {"x": {"y": [true]}}, "e": "", "n": null}))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn never_panics_tag_soup(src in "[{}#^/!&=%$<>.a-z01 \n\r'|]{0,80}") {
                if let Ok(t) = Template::parse(&src, Escape::Json) {
                    let _ = t.render(&model());
                    let _ = roles_from_rendered(t.render(&model()).unwrap_or_default(), Format::Json);
                }
            }

            #[test]
            fn never_panics_structured(
                parts in proptest::collection::vec(prop_oneof![
                    Just("{{#groups}}".to_owned()), Just("{{/groups}}".to_owned()), Just("{{#l}}".to_owned()),
                    Just("{{/l}}".to_owned()), Just("{{^e}}".to_owned()), Just("{{/e}}".to_owned()),
                    Just("{{.}}".to_owned()), Just("{{l.0.1}}".to_owned()), Just("{{groups.size}}".to_owned()),
                    Just("{{#tojson}}l{{/tojson}}".to_owned()), Just("{{#join}}groups{{/join}}".to_owned()),
                    Just("{{=<% %>=}}".to_owned()), Just("<%={{ }}=%>".to_owned()), Just("{{{m}}}".to_owned()),
                    Just("{{#url}}".to_owned()), Just("{{/url}}".to_owned()), "[a-z.\n ]{0,4}",
                ], 0..24),
                escape in prop_oneof![Just(Escape::Json), Just(Escape::None), Just(Escape::Url)],
            ) {
                let src: String = parts.concat();
                if let Ok(t) = Template::parse(&src, escape) {
                    let _ = t.render(&model());
                }
            }

            #[test]
            fn never_panics_any_string(src in any::<String>()) {
                if let Ok(t) = Template::parse(&src, Escape::Url) {
                    let _ = t.render(&model());
                }
                let _ = roles_from_rendered(src, Format::Json);
            }
        }
    }
}
