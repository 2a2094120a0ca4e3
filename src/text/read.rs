//! The text form to the [`ast`](crate::ast): pest's parse tree lowered node
//! by node, with the structural checks of the JSON front end made the same
//! way (where `except` may stand, how deep rules nest, which keys a mapping
//! must have), so that both front ends give the same tree and the same
//! errors.

use super::grammar::{Rule, TextParser};
use super::lines::Lines;
use super::scan::{bracket_limit, scan};
use crate::ast::{Expr, ExprKind, FieldValue, Mapping, MappingSet, RoleTemplate, Script, ValueKind};
use crate::error::{Error, ErrorKind, Errors, Location};
use crate::parse::{Parent, object_source_in, read_script, strict_json};
use crate::pattern::Pattern;
use crate::template::Format;
use crate::{Options, Validation};
use pest::Parser as _;
use pest::iterators::Pair;
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{Map, Value};

/// A line and column.
pub(crate) type Pos = (usize, usize);

/// A parsed text file: the mappings, the ones left out (with
/// [`Validation::Stored`]) and what the formatter needs beyond the tree.
#[derive(Debug)]
pub(crate) struct Document {
    pub(crate) set: MappingSet,
    pub(crate) skipped: Vec<Error>,
    pub(crate) layout: Layout,
}

/// The places of the parts of a file that the tree does not keep: keys,
/// role names, closing brackets and comments. The formatter attaches each
/// comment to the nearest of these or of the tree's nodes.
#[derive(Debug, Default)]
pub(crate) struct Layout {
    /// The keys of each mapping (by the mapping's position), with their positions.
    pub(crate) keys: FxHashMap<Pos, Vec<(Key, Pos)>>,
    /// The role names of each mapping (by the mapping's position).
    pub(crate) roles: FxHashMap<Pos, Vec<Pos>>,
    /// The closing `}` or `]` of a mapping, block, value list or bracketed
    /// `roles` / `role_templates` list, by the position of what it closes.
    pub(crate) closers: FxHashMap<Pos, Pos>,
    /// Mappings written without a name.
    pub(crate) anonymous: FxHashSet<Pos>,
    /// The members of the metadata of each mapping (by the mapping's
    /// position) with the positions of their keys, and the options of each
    /// role template (by the template's position) with the positions of
    /// their values: where [`Layout::locate`] points the errors about them.
    pub(crate) members: FxHashMap<Pos, Vec<(String, Pos)>>,
    /// The comments, in order.
    pub(crate) comments: Vec<Comment>,
}

/// A comment of the source.
#[derive(Debug)]
pub(crate) struct Comment {
    pub(crate) pos: Pos,
    /// From `#` to the end of its line, trailing whitespace left out.
    pub(crate) text: String,
    /// Whether an empty line comes right before it or right after it: the
    /// formatter keeps such a line, so that comment paragraphs stay apart.
    pub(crate) blank_before: bool,
    pub(crate) blank_after: bool,
}

/// The keys of a mapping block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Enabled,
    Roles,
    RoleTemplates,
    Metadata,
    Rules,
}

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::Enabled => "enabled",
            Key::Roles => "roles",
            Key::RoleTemplates => "role_templates",
            Key::Metadata => "metadata",
            Key::Rules => "rules",
        }
    }
}

/// Reads a text file. Errors that JSON would meet as malformed JSON (syntax,
/// string escapes, numbers, embedded JSON, repeated keys and names) reject
/// the whole file; the others are per mapping, as in [`parse_json`](crate::parse::parse_json).
pub(crate) fn read(text: &str, name: &str, options: &Options) -> Result<Document, Errors> {
    let lines = Lines::new(text);
    let limit = bracket_limit(options.max_depth);
    let comments = scan(text, &lines, limit, options.max_depth)?;
    let file = TextParser::parse(Rule::file, text).map_err(|e| syntax_error(&e, text, &lines, limit))?;
    let mappings: Vec<Pair<'_, Rule>> =
        file.flat_map(Pair::into_inner).filter(|p| p.as_rule() == Rule::mapping).collect();
    if mappings.len() > options.max_mappings {
        return Err(Error::new(ErrorKind::TooManyMappings(options.max_mappings), Location::root()).into());
    }
    let mut reader = Reader {
        lines: &lines,
        validation: options.validation,
        max_depth: options.max_depth,
        fatal: Vec::new(),
        errors: Vec::new(),
        layout: Layout::default(),
    };
    reader.layout.comments = comments
        .into_iter()
        .map(|range| {
            let pos = lines.line_column(range.start);
            let text = text[range].trim_end().to_owned();
            Comment { pos, text, blank_before: lines.is_blank(pos.0 - 1), blank_after: lines.is_blank(pos.0 + 1) }
        })
        .collect();
    let mut set = MappingSet::default();
    let mut skipped = Vec::new();
    let mut names = FxHashSet::default();
    for pair in mappings {
        let (mapping_name, location, mapping) = reader.mapping(pair, name);
        if !names.insert(mapping_name.clone()) {
            reader.fatal.push(Error::new(ErrorKind::DuplicateMapping(mapping_name.clone()), location));
        }
        let errors = std::mem::take(&mut reader.errors);
        match mapping {
            Some(mapping) if errors.is_empty() => set.mappings.push(mapping),
            _ => skipped.extend(errors.into_iter().map(|e| e.in_mapping(&mapping_name))),
        }
    }
    if let Some(fatal) = Errors::from_vec(reader.fatal) {
        return Err(fatal);
    }
    match options.validation {
        Validation::Request => match Errors::from_vec(skipped) {
            Some(errors) => Err(errors),
            None => Ok(Document { set, skipped: Vec::new(), layout: reader.layout }),
        },
        Validation::Stored => Ok(Document { set, skipped, layout: reader.layout }),
    }
}

impl Layout {
    /// `error`, found by the checks after reading (which only know where
    /// the mapping, template or value is), pointed at what it is about: a
    /// reserved metadata key at the key, an unknown `content_type` at its
    /// value, a pattern error at the character it names (without the
    /// character's offset in the string, which the column now gives).
    pub(crate) fn locate(&self, error: Error, lines: &Lines<'_>) -> Error {
        let Some(at) = error.location().line_column() else {
            return error;
        };
        let member = |key: &str| self.members.get(&at)?.iter().find(|(k, _)| k == key).map(|&(_, pos)| pos);
        let (kind, pos) = match error.kind() {
            ErrorKind::ReservedMetadataKey(key) => match member(key) {
                Some(pos) => (error.kind().clone(), pos),
                None => return error,
            },
            ErrorKind::Template(message)
                if message.starts_with("unsupported `content_type` option")
                    && let Some(pos) = member("content_type") =>
            {
                (error.kind().clone(), pos)
            }
            ErrorKind::Pattern { pattern, message } => {
                let Some((message, pos)) = pattern_place(pattern, message, at, lines) else {
                    return error;
                };
                (ErrorKind::Pattern { pattern: pattern.clone(), message }, pos)
            }
            _ => return error,
        };
        let located = Error::new(kind, Location::position(pos.0, pos.1));
        match error.mapping() {
            Some(name) => located.in_mapping(name),
            None => located,
        }
    }
}

/// Where in the literal at `at` the problem with `pattern` is, and the
/// message without the offset: `None` when the problem has no offset or
/// the literal there is not the pattern.
fn pattern_place(pattern: &str, message: &str, at: Pos, lines: &Lines<'_>) -> Option<(String, Pos)> {
    // Only for a pattern that fails, so compiled again only then.
    let offset = Pattern::parse(pattern).err()?.offset()?;
    let message = message.replacen(&format!(", at position {offset}"), "", 1);
    let start = lines.offset(at.0, at.1)?;
    let rest = &lines.text()[start..];
    let line = rest.split('\n').next().unwrap_or(rest);
    let quote = *line.as_bytes().first()?;
    let raw = &line[..super::scan::quoted_len(line.as_bytes(), quote)?];
    let raw_offset = match quote {
        b'/' if raw == pattern => offset,
        b'"' if serde_json::from_str::<String>(raw).is_ok_and(|s| s == pattern) => literal_offset(raw, offset),
        _ => return None,
    };
    Some((message, lines.line_column(start + raw_offset.min(raw.len()))))
}

struct Reader<'t> {
    lines: &'t Lines<'t>,
    validation: Validation,
    max_depth: usize,
    /// Errors that reject the whole file.
    fatal: Vec<Error>,
    /// Errors of the mapping being read.
    errors: Vec<Error>,
    layout: Layout,
}

impl<'t> Reader<'t> {
    fn pos(&self, pair: &Pair<'_, Rule>) -> Pos {
        self.lines.line_column(pair.as_span().start())
    }

    fn location(&self, pair: &Pair<'_, Rule>) -> Location {
        let (line, column) = self.pos(pair);
        Location::position(line, column)
    }

    fn mapping(&mut self, pair: Pair<'_, Rule>, default_name: &str) -> (String, Location, Option<Mapping>) {
        let location = self.location(&pair);
        let at = self.pos(&pair);
        let mut name = None;
        let mut enabled = None;
        let mut roles = None;
        let mut templates = None;
        let mut metadata = None;
        let mut metadata_keys = Vec::new();
        let mut rules = None;
        let mut keys = Vec::new();
        for item in pair.into_inner() {
            let key = match item.as_rule() {
                Rule::string => {
                    name = Some(self.string(&item));
                    continue;
                }
                Rule::close => {
                    let closer = self.pos(&item);
                    self.layout.closers.insert(at, closer);
                    continue;
                }
                Rule::enabled => Key::Enabled,
                Rule::roles => Key::Roles,
                Rule::role_templates => Key::RoleTemplates,
                Rule::metadata => Key::Metadata,
                Rule::rules => Key::Rules,
                _ => continue,
            };
            let key_at = self.pos(&item);
            if keys.iter().any(|&(k, _)| k == key) {
                let error = Error::new(ErrorKind::DuplicateKey(key.name().to_owned()), self.location(&item));
                self.fatal.push(error);
                continue;
            }
            keys.push((key, key_at));
            let mut inner = item.into_inner();
            // The key word and the colon come first.
            let _ = inner.next();
            let _ = inner.next();
            match key {
                Key::Enabled => enabled = inner.next().map(|b| b.as_str() == "true"),
                Key::Roles => {
                    let (list, positions) = self.roles(inner, key_at);
                    roles = Some(list);
                    self.layout.roles.insert(at, positions);
                }
                Key::RoleTemplates => {
                    let mut list = Vec::new();
                    for part in inner {
                        match part.as_rule() {
                            Rule::template => list.extend(self.template(part)),
                            Rule::rbracket => {
                                let closer = self.pos(&part);
                                self.layout.closers.insert(key_at, closer);
                            }
                            _ => {}
                        }
                    }
                    templates = Some(list);
                }
                Key::Metadata => {
                    if let Some(pair) = inner.next()
                        && let Some(Value::Object(object)) = self.json(&pair, "metadata")
                    {
                        let start = pair.as_span().start();
                        metadata_keys = members(pair.as_str())
                            .into_iter()
                            .map(|(k, at, _)| (k, self.lines.line_column(start + at)))
                            .collect();
                        metadata = Some(object);
                    }
                }
                Key::Rules => rules = inner.next().and_then(|rule| self.rule(rule, Parent::Top, 1)),
            }
        }
        let name = name.unwrap_or_else(|| {
            self.layout.anonymous.insert(at);
            default_name.to_owned()
        });
        let has = |key| keys.iter().any(|&(k, _)| k == key);
        if !has(Key::Rules) {
            self.errors.push(Error::new(ErrorKind::MissingKey("rules"), location.clone()));
        }
        if !has(Key::Roles) && !has(Key::RoleTemplates) {
            self.errors.push(Error::new(ErrorKind::NoRoles, location.clone()));
        }
        if !metadata_keys.is_empty() {
            self.layout.members.insert(at, metadata_keys);
        }
        self.layout.keys.insert(at, keys);
        let mapping = rules.map(|rules| Mapping {
            name: name.clone(),
            enabled: enabled.unwrap_or(true),
            roles: roles.unwrap_or_default(),
            role_templates: templates.unwrap_or_default(),
            rules,
            metadata: metadata.unwrap_or_default(),
            location: location.clone(),
        });
        (name, location, mapping)
    }

    fn roles<'i>(&mut self, parts: impl Iterator<Item = Pair<'i, Rule>>, key_at: Pos) -> (Vec<String>, Vec<Pos>) {
        let mut roles = Vec::new();
        let mut positions = Vec::new();
        for part in parts {
            match part.as_rule() {
                Rule::string => {
                    positions.push(self.pos(&part));
                    roles.push(self.string(&part));
                }
                Rule::rbracket => {
                    let closer = self.pos(&part);
                    self.layout.closers.insert(key_at, closer);
                }
                _ => {}
            }
        }
        (roles, positions)
    }

    fn template(&mut self, pair: Pair<'_, Rule>) -> Option<RoleTemplate> {
        let location = self.location(&pair);
        let template_at = self.pos(&pair);
        let mut format = Format::String;
        let mut script = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::format if part.as_str() == "json" => format = Format::Json,
                Rule::stored => {
                    let id = part.into_inner().nth(1).map(|id| self.string(&id)).unwrap_or_default();
                    script = Some(Script::Stored { id });
                }
                Rule::script => {
                    let json = part.into_inner().nth(1)?;
                    let value = self.json(&json, "script")?;
                    let source = object_source_in(json.as_str());
                    script = read_script(&value, source, &location, self.validation, &mut self.errors);
                }
                Rule::inline => {
                    // Read as the JSON object it stands for, so that options
                    // are checked as they are in JSON.
                    let mut object = Map::new();
                    // Where each option's value is.
                    let mut options = Vec::new();
                    for piece in part.into_inner() {
                        match piece.as_rule() {
                            Rule::string => {
                                object.insert("source".into(), self.string(&piece).into());
                            }
                            Rule::params | Rule::options => {
                                let key = if piece.as_rule() == Rule::params { "params" } else { "options" };
                                let json = piece.into_inner().nth(1)?;
                                let value = self.json(&json, key)?;
                                if key == "options" {
                                    let start = json.as_span().start();
                                    options = members(json.as_str())
                                        .into_iter()
                                        .map(|(k, _, at)| (k, self.lines.line_column(start + at)))
                                        .collect();
                                }
                                object.insert(key.into(), value);
                            }
                            _ => {}
                        }
                    }
                    let first = self.errors.len();
                    script = read_script(&Value::Object(object), None, &location, self.validation, &mut self.errors);
                    // An option of the wrong type: at its value.
                    for error in &mut self.errors[first..] {
                        if let ErrorKind::WrongType { what, .. } = error.kind()
                            && let Some(&(_, (line, column))) = options.iter().find(|(k, _)| k == what)
                        {
                            *error = Error::new(error.kind().clone(), Location::position(line, column));
                        }
                    }
                    if !options.is_empty() {
                        self.layout.members.insert(template_at, options);
                    }
                }
                _ => {}
            }
        }
        Some(RoleTemplate { script: script?, format, location })
    }

    /// A rule at `depth` (the top rule is at 1), checked as the JSON front
    /// end checks it: depth first, then whether an `except` may stand there.
    fn rule(&mut self, pair: Pair<'_, Rule>, parent: Parent, depth: usize) -> Option<Expr> {
        let mut parent = parent;
        let mut depth = depth;
        let mut excepts = Vec::new();
        for part in pair.into_inner() {
            let location = self.location(&part);
            if depth > self.max_depth {
                self.errors.push(Error::new(ErrorKind::TooDeep(self.max_depth), location));
                return None;
            }
            let kind = match part.as_rule() {
                Rule::except => {
                    if parent != Parent::All {
                        self.errors.push(Error::new(ErrorKind::MisplacedExcept(parent.describe()), location));
                        return None;
                    }
                    excepts.push(location);
                    parent = Parent::Except;
                    depth += 1;
                    continue;
                }
                Rule::all | Rule::any => {
                    let all = part.as_rule() == Rule::all;
                    let at = self.pos(&part);
                    let child_parent = if all { Parent::All } else { Parent::Any };
                    let mut children = Vec::new();
                    let mut ok = true;
                    for child in part.into_inner() {
                        match child.as_rule() {
                            Rule::rule => match self.rule(child, child_parent, depth + 1) {
                                Some(child) => children.push(child),
                                None => ok = false,
                            },
                            Rule::close => {
                                let closer = self.pos(&child);
                                self.layout.closers.insert(at, closer);
                            }
                            _ => {}
                        }
                    }
                    if !ok {
                        return None;
                    }
                    if all { ExprKind::All(children) } else { ExprKind::Any(children) }
                }
                Rule::field => self.field(part)?,
                _ => continue,
            };
            let mut expr = Expr { kind, location };
            while let Some(location) = excepts.pop() {
                expr = Expr { kind: ExprKind::Except(Box::new(expr)), location };
            }
            return Some(expr);
        }
        None
    }

    fn field(&mut self, pair: Pair<'_, Rule>) -> Option<ExprKind> {
        let at = self.pos(&pair);
        let mut name = None;
        let mut values = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::name => name = Some(part.as_str().to_owned()),
                Rule::string if name.is_none() => name = Some(self.string(&part)),
                Rule::list => {
                    for item in part.into_inner() {
                        if item.as_rule() == Rule::rbracket {
                            let closer = self.pos(&item);
                            self.layout.closers.insert(at, closer);
                        } else {
                            values.extend(self.value(&item));
                        }
                    }
                }
                _ => values.extend(self.value(&part)),
            }
        }
        Some(ExprKind::Field { name: name?, values })
    }

    fn value(&mut self, pair: &Pair<'_, Rule>) -> Option<FieldValue> {
        let kind = match pair.as_rule() {
            Rule::string => ValueKind::String(self.string(pair)),
            // The literal is the JSON string between its slashes, verbatim.
            Rule::regex => ValueKind::String(pair.as_str().to_owned()),
            Rule::number => match serde_json::from_str(pair.as_str()) {
                Ok(n) => ValueKind::Number(n),
                Err(e) => {
                    let message = format!("number `{}` is {}", pair.as_str(), json_message(&e).replace("number ", ""));
                    self.fatal.push(Error::new(ErrorKind::Syntax(message), self.location(pair)));
                    return None;
                }
            },
            Rule::boolean => ValueKind::Bool(pair.as_str() == "true"),
            Rule::null => ValueKind::Null,
            _ => return None,
        };
        Some(FieldValue { kind, location: self.location(pair) })
    }

    /// A string literal, decoded as JSON decodes it.
    fn string(&mut self, pair: &Pair<'_, Rule>) -> String {
        let raw = pair.as_str();
        match serde_json::from_str::<String>(raw) {
            Ok(s) => s,
            Err(e) => {
                let offset = self.lines.offset_in(pair.as_span().start(), e.line(), e.column());
                let message = format!("invalid string: {}", json_message(&e));
                self.fatal.push(Error::new(ErrorKind::Syntax(message), self.lines.location(offset)));
                String::new()
            }
        }
    }

    /// Embedded JSON (the value of `what`), read by the JSON front end's
    /// strict reader.
    fn json(&mut self, pair: &Pair<'_, Rule>, what: &str) -> Option<Value> {
        match strict_json(pair.as_str()) {
            Ok(value) => Some(value),
            Err(e) => {
                let (line, column) = e.location().line_column().unwrap_or((1, 1));
                let start = pair.as_span().start();
                let mut offset = self.lines.offset_in(start, line, column);
                let kind = match e.kind() {
                    ErrorKind::Json(message) => {
                        let message = plain_json_message(message);
                        if message.contains("`true`") {
                            // At the word that is not one: serde reports
                            // the character after it, maybe on the next line.
                            offset = word_start(self.lines.text(), start, offset);
                        }
                        ErrorKind::Syntax(format!("invalid JSON in `{what}`: {message}"))
                    }
                    other => other.clone(),
                };
                self.fatal.push(Error::new(kind, self.lines.location(offset)));
                None
            }
        }
    }
}

/// serde_json's message about JSON that does not parse, in plain words.
fn plain_json_message(message: &str) -> String {
    match message {
        "expected ident" => "expected `true`, `false` or `null`".to_owned(),
        "expected value" => "expected a value".to_owned(),
        "trailing comma" => "a comma cannot come last".to_owned(),
        "key must be a string" => "a key must be a string".to_owned(),
        other => other.to_owned(),
    }
}

/// The start of the word that ends at `offset`, or just before the
/// whitespace before it, not before `start`.
fn word_start(text: &str, start: usize, offset: usize) -> usize {
    let before = text[start..offset.min(text.len())].trim_end();
    let word = before.len() - before.trim_end_matches(|c: char| c.is_ascii_alphanumeric()).len();
    start + before.len() - word
}

/// The members of the JSON object `text` (one that parses): each key, with
/// the byte offsets of the key and of its value.
pub(crate) fn members(text: &str) -> Vec<(String, usize, usize)> {
    let bytes = text.as_bytes();
    let mut members = Vec::new();
    let mut depth = 0;
    let mut key: Option<(String, usize)> = None;
    let mut expect_key = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => {
                if depth == 1
                    && let Some((k, at)) = key.take()
                {
                    members.push((k, at, i));
                }
                depth += 1;
                expect_key = depth == 1 && bytes[i] == b'{';
            }
            b'}' | b']' => depth -= 1,
            b',' if depth == 1 => expect_key = true,
            b'"' => {
                let len = super::scan::quoted_len(&bytes[i..], b'"').unwrap_or(bytes.len() - i);
                if depth == 1 && expect_key {
                    let decoded = serde_json::from_str::<String>(&text[i..i + len]).unwrap_or_default();
                    key = Some((decoded, i));
                    expect_key = false;
                } else if depth == 1
                    && let Some((k, at)) = key.take()
                {
                    members.push((k, at, i));
                }
                i += len;
                continue;
            }
            b if depth == 1 && !b.is_ascii_whitespace() && b != b':' => {
                if let Some((k, at)) = key.take() {
                    members.push((k, at, i));
                }
            }
            _ => {}
        }
        i += 1;
    }
    members
}

/// The byte offset in the JSON string literal `raw` of the character that
/// is at byte `decoded` of the string it stands for.
fn literal_offset(raw: &str, decoded: usize) -> usize {
    let bytes = raw.as_bytes();
    let mut i = 1;
    let mut d = 0;
    while d < decoded && i < bytes.len() {
        if bytes[i] == b'\\' {
            let escape = if bytes.get(i + 1) == Some(&b'u') { 6 } else { 2 };
            let unit = raw.get(i + 2..i + escape).and_then(|hex| u32::from_str_radix(hex, 16).ok());
            let (len, width) = match unit {
                // A surrogate pair: two escapes for one character.
                Some(0xD800..=0xDBFF) => (12, 4),
                Some(u) => (6, char::from_u32(u).map_or(3, char::len_utf8)),
                None => (escape, 1),
            };
            i += len;
            d += width;
        } else {
            let c = raw[i..].chars().next().unwrap_or(' ');
            i += c.len_utf8();
            d += c.len_utf8();
        }
    }
    i.min(raw.len())
}

/// serde_json's message without its position.
fn json_message(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    message.strip_suffix(&suffix).unwrap_or(&message).to_owned()
}

/// A pest error as a message that names what was expected and what was found.
fn syntax_error(error: &pest::error::Error<Rule>, text: &str, lines: &Lines<'_>, limit: usize) -> Error {
    use pest::error::{ErrorVariant, InputLocation};
    let offset = match error.location {
        InputLocation::Pos(p) | InputLocation::Span((p, _)) => p.min(text.len()),
    };
    let location = lines.location(offset);
    let positives = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        // pest's own guards ("stack limit reached", "call limit reached"):
        // the pre-scan keeps nesting below them, but a small thread stack
        // can still meet them.
        ErrorVariant::CustomError { .. } => return Error::new(ErrorKind::NestingTooDeep(limit), location),
    };
    let rest = &text[offset..];
    if rest.trim().is_empty()
        && let Some(keyword) = super::scan::unclosed_block(text)
    {
        let message = format!("the `{} {{` is never closed", &text[keyword..keyword + 3]);
        return Error::new(ErrorKind::Syntax(message), lines.location(keyword));
    }
    let unterminated = |quote: char| {
        rest.starts_with(quote) && {
            let line = rest.split('\n').next().unwrap_or(rest);
            super::scan::quoted_len(line.as_bytes(), quote as u8).is_none()
        }
    };
    // The end of the file is only expected where a mapping may start; pest
    // leaves `mapping` out when a word that starts like it (`mappings`) is
    // read past its first letters.
    // (pest names the whole `file` when it fails at the start of it.)
    let mut positives = positives.clone();
    if let Some(end) = positives.iter_mut().find(|r| matches!(r, Rule::EOI | Rule::file)) {
        *end = Rule::EOI;
        if !positives.contains(&Rule::mapping) {
            positives.push(Rule::mapping);
        }
    }
    let json = positives.iter().any(|r| matches!(r, Rule::json_object | Rule::json_value));
    if json && let Some((at, message)) = json_failure(rest) {
        return Error::new(ErrorKind::Syntax(message), lines.location(offset + at));
    }
    let message = if positives.contains(&Rule::string) && unterminated('"') {
        format!("the string {} is not closed on its line", found(rest))
    } else if positives.contains(&Rule::regex) && unterminated('/') {
        format!("the regular expression {} is not closed on its line", found(rest))
    } else {
        format!("expected {}, found {}", expected(&positives), found(rest))
    };
    Error::new(ErrorKind::Syntax(message), location)
}

/// Why the embedded JSON that `rest` starts with does not match the
/// grammar, and where: the grammar only finds its end, so pest can only say
/// that a JSON object was expected at its first bracket.
fn json_failure(rest: &str) -> Option<(usize, String)> {
    let bytes = rest.as_bytes();
    if !matches!(bytes.first(), Some(b'{' | b'[')) {
        return None;
    }
    let mut open: Vec<(u8, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b @ (b'{' | b'[') => open.push((b, i)),
            b @ (b'}' | b']') => {
                let (opener, _) = open.pop()?;
                if (opener == b'{') != (b == b'}') {
                    return Some((i, format!("`{}` does not close the `{}` before it", b as char, opener as char)));
                }
                if open.is_empty() {
                    // The brackets match: the problem is not in the JSON.
                    return None;
                }
            }
            b'"' => {
                let line = rest[i..].split('\n').next().unwrap_or("");
                match super::scan::quoted_len(line.as_bytes(), b'"') {
                    Some(len) => {
                        i += len;
                        continue;
                    }
                    None => return Some((i, format!("the string {} is not closed on its line", found(&rest[i..])))),
                }
            }
            b'#' => return Some((i, "a `#` comment cannot go inside JSON".to_owned())),
            b'/' => return Some((i, "`/` cannot stand outside a string in JSON".to_owned())),
            _ => {}
        }
        i += 1;
    }
    let (opener, at) = open.first().copied()?;
    Some((at, format!("the `{}` is never closed", opener as char)))
}

/// "a, b or c" from the rules pest tried at the error.
fn expected(positives: &[Rule]) -> String {
    const VALUES: [Rule; 5] = [Rule::string, Rule::regex, Rule::number, Rule::boolean, Rule::null];
    let mut rules: Vec<Rule> = positives.to_vec();
    // Grammar order, with the end of the file last.
    rules.sort_unstable_by_key(|&r| (r == Rule::EOI, r));
    let value = VALUES.iter().all(|r| rules.contains(r));
    let mut names: Vec<&str> = Vec::new();
    for tried in rules {
        let name = if value && VALUES.contains(&tried) {
            "a value (a string, `/regex/`, number, `true`, `false` or `null`)"
        } else {
            describe(tried)
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    match names.split_last() {
        None => "something else".to_owned(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

fn describe(tried: Rule) -> &'static str {
    match tried {
        Rule::EOI | Rule::file => "the end of the file",
        Rule::mapping | Rule::kw_mapping => "`mapping`",
        Rule::enabled | Rule::kw_enabled => "`enabled`",
        Rule::roles | Rule::kw_roles => "`roles`",
        Rule::role_templates | Rule::kw_role_templates => "`role_templates`",
        Rule::metadata | Rule::kw_metadata => "`metadata`",
        Rule::rules | Rule::kw_rules => "`rules`",
        Rule::template => "a role template",
        Rule::format => "`string` or `json`",
        Rule::kw_string => "`string`",
        Rule::kw_json => "`json`",
        Rule::inline => "a template source string",
        Rule::params | Rule::kw_params => "`params`",
        Rule::options | Rule::kw_options => "`options`",
        Rule::stored | Rule::kw_stored => "`stored`",
        Rule::script | Rule::kw_script => "`script`",
        Rule::rule | Rule::block => "a rule",
        Rule::item => "a key",
        Rule::value => "a value",
        Rule::ident_char | Rule::keyword => "a field name",
        Rule::json_inner | Rule::json_string | Rule::json_scalar => "a JSON value",
        Rule::except | Rule::kw_except => "`except`",
        Rule::all | Rule::kw_all => "`all`",
        Rule::any | Rule::kw_any => "`any`",
        Rule::field => "a field test",
        Rule::name => "a field name",
        Rule::list | Rule::lbracket => "`[`",
        Rule::string => "a string",
        Rule::regex => "a regular expression",
        Rule::number => "a number",
        Rule::boolean => "`true` or `false`",
        Rule::null => "`null`",
        Rule::json_object => "a JSON object",
        Rule::json_array | Rule::json_value => "a JSON value",
        Rule::open => "`{`",
        Rule::close => "`}`",
        Rule::rbracket => "`]`",
        Rule::colon => "`:`",
        Rule::comma => "`,`",
        Rule::semicolon => "`;`",
        Rule::equals => "`==`",
        Rule::WHITESPACE | Rule::COMMENT => "a comment",
    }
}

/// What is at the error: the word, string, operator or character there, in
/// backticks, or the end of the file.
fn found(rest: &str) -> String {
    let Some(first) = rest.chars().next() else {
        return "the end of the file".to_owned();
    };
    let line = rest.split(['\n', '\r']).next().unwrap_or(rest);
    let token = if first.is_alphanumeric() || first == '_' {
        line.find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))).map_or(line, |end| &line[..end])
    } else if first == '"' || first == '/' {
        match super::scan::quoted_len(line.as_bytes(), first as u8) {
            Some(len) => &line[..len],
            None => line,
        }
    } else if "=!<>:~&|".contains(first) {
        line.find(|c: char| !"=!<>:~&|".contains(c)).map_or(line, |end| &line[..end])
    } else if first.is_whitespace() {
        return "the end of the line".to_owned();
    } else {
        &line[..first.len_utf8()]
    };
    let mut shown: String = token.chars().take(40).collect();
    if shown.len() < token.len() {
        shown.push('…');
    }
    format!("`{shown}`")
}
