//! The canonical form: mappings printed with two-space indentation, one
//! rule per line, keys in Elasticsearch's order, lists and JSON on one line
//! when that fits in [`WIDTH`] columns.
//!
//! When a file is reformatted its comments come back too. Each printed line
//! records where in the source its parts came from (its anchors); a comment
//! that follows code on its source line goes back to the end of the printed
//! line holding that code, and any other comment goes above the printed line
//! holding the next part that followed it in the source.

use super::read::{Comment, Key, Layout, Pos};
use crate::ast::{Expr, ExprKind, Mapping, MappingSet, RoleTemplate, Script, ValueKind};
use crate::template::Format;
use serde_json::{Map, Value};

/// The widest line the printer puts a list or a JSON object on.
pub(crate) const WIDTH: usize = 100;

/// Prints `set` in canonical form; `layout` (empty for a tree that was not
/// read from text) brings back comments and unnamed mappings.
pub(crate) fn print(set: &MappingSet, layout: &Layout) -> String {
    let mut printer = Printer { layout, lines: Vec::new() };
    for (i, mapping) in set.mappings.iter().enumerate() {
        if i > 0 {
            printer.push(0, String::new(), Vec::new());
        }
        printer.mapping(mapping);
    }
    render(&printer.lines, &layout.comments)
}

struct Line {
    indent: usize,
    text: String,
    anchors: Vec<Pos>,
    /// A closing bracket: comments above it belong inside the block.
    closes: bool,
}

struct Printer<'a> {
    layout: &'a Layout,
    lines: Vec<Line>,
}

impl Printer<'_> {
    fn push(&mut self, indent: usize, text: String, anchors: Vec<Option<Pos>>) {
        let closes = matches!(text.as_str(), "}" | "]");
        self.lines.push(Line { indent, text, anchors: anchors.into_iter().flatten().collect(), closes });
    }

    fn fits(indent: usize, text: &str) -> bool {
        2 * indent + text.chars().count() <= WIDTH
    }

    fn closer(&self, at: Option<Pos>) -> Option<Pos> {
        at.and_then(|at| self.layout.closers.get(&at).copied())
    }

    fn mapping(&mut self, m: &Mapping) {
        let at = m.location.line_column();
        let key = |k: Key| {
            at.and_then(|at| self.layout.keys.get(&at))
                .and_then(|keys| keys.iter().find(|(kk, _)| *kk == k))
                .map(|k| k.1)
        };
        let anonymous = at.is_some_and(|at| self.layout.anonymous.contains(&at));
        let header = if anonymous { "mapping {".to_owned() } else { format!("mapping {} {{", quote(&m.name)) };
        self.push(0, header, vec![at]);
        if !m.enabled {
            self.push(1, "enabled: false".to_owned(), vec![key(Key::Enabled)]);
        }
        let roles_key = key(Key::Roles);
        if !m.roles.is_empty() || m.role_templates.is_empty() {
            let positions = at.and_then(|at| self.layout.roles.get(&at));
            let items: Vec<(String, Option<Pos>)> = m
                .roles
                .iter()
                .enumerate()
                .map(|(i, role)| (quote(role), positions.and_then(|p| p.get(i)).copied()))
                .collect();
            self.list(1, "roles:", roles_key, &items);
        }
        if !m.role_templates.is_empty() {
            let items: Vec<(String, Option<Pos>)> =
                m.role_templates.iter().map(|t| (template(t), t.location.line_column())).collect();
            self.list(1, "role_templates:", key(Key::RoleTemplates), &items);
        }
        self.rule(1, "rules: ".to_owned(), vec![key(Key::Rules)], &m.rules);
        if !m.metadata.is_empty() {
            self.json(1, "metadata: ", key(Key::Metadata), &m.metadata);
        }
        let closer = self.closer(at);
        self.push(0, "}".to_owned(), vec![closer]);
    }

    /// `roles:` or `role_templates:` with its items on the line, or one
    /// item a line below it when they do not fit; `[]` when there are none.
    fn list(&mut self, indent: usize, head: &str, key: Option<Pos>, items: &[(String, Option<Pos>)]) {
        let closer = self.closer(key);
        if items.is_empty() {
            self.push(indent, format!("{head} []"), vec![key, closer]);
            return;
        }
        let texts: Vec<&str> = items.iter().map(|(t, _)| t.as_str()).collect();
        let line = format!("{head} {}", texts.join(", "));
        if Self::fits(indent, &line) {
            let mut anchors = vec![key];
            anchors.extend(items.iter().map(|(_, p)| *p));
            anchors.push(closer);
            self.push(indent, line, anchors);
            return;
        }
        self.push(indent, head.to_owned(), vec![key]);
        for (i, (text, at)) in items.iter().enumerate() {
            let last = i + 1 == items.len();
            let text = if last { text.clone() } else { format!("{text},") };
            let anchors = if last { vec![*at, closer] } else { vec![*at] };
            self.push(indent + 1, text, anchors);
        }
    }

    fn rule(&mut self, indent: usize, prefix: String, mut anchors: Vec<Option<Pos>>, expr: &Expr) {
        let at = expr.location.line_column();
        anchors.push(at);
        match &expr.kind {
            ExprKind::Except(child) => self.rule(indent, format!("{prefix}except "), anchors, child),
            ExprKind::All(children) | ExprKind::Any(children) => {
                let word = if matches!(expr.kind, ExprKind::All(_)) { "all" } else { "any" };
                let closer = self.closer(at);
                if children.is_empty() {
                    anchors.push(closer);
                    self.push(indent, format!("{prefix}{word} {{}}"), anchors);
                    return;
                }
                self.push(indent, format!("{prefix}{word} {{"), anchors);
                for child in children {
                    self.rule(indent + 1, String::new(), Vec::new(), child);
                }
                self.push(indent, "}".to_owned(), vec![closer]);
            }
            ExprKind::Field { name, values } => {
                let head = format!("{prefix}{} == ", field_name(name));
                let closer = self.closer(at);
                let items: Vec<(String, Option<Pos>)> =
                    values.iter().map(|v| (value(&v.kind), v.location.line_column())).collect();
                if let [(one, position)] = items.as_slice() {
                    anchors.extend([*position, closer]);
                    self.push(indent, format!("{head}{one}"), anchors);
                    return;
                }
                let texts: Vec<&str> = items.iter().map(|(t, _)| t.as_str()).collect();
                let line = format!("{head}[{}]", texts.join(", "));
                if Self::fits(indent, &line) {
                    anchors.extend(items.iter().map(|(_, p)| *p));
                    anchors.push(closer);
                    self.push(indent, line, anchors);
                    return;
                }
                self.push(indent, format!("{head}["), anchors);
                for (i, (text, position)) in items.iter().enumerate() {
                    let text = if i + 1 == items.len() { text.clone() } else { format!("{text},") };
                    self.push(indent + 1, text, vec![*position]);
                }
                self.push(indent, "]".to_owned(), vec![closer]);
            }
        }
    }

    /// A JSON object after `head`: on one line when it fits, else one member
    /// a line, each member again on one line when it fits.
    fn json(&mut self, indent: usize, head: &str, key: Option<Pos>, object: &Map<String, Value>) {
        self.json_value(indent, head.to_owned(), &Value::Object(object.clone()), "", vec![key]);
    }

    fn json_value(&mut self, indent: usize, head: String, value: &Value, tail: &str, anchors: Vec<Option<Pos>>) {
        let line = format!("{head}{}{tail}", inline_json(value));
        let (open, close) = match value {
            Value::Object(object) if !object.is_empty() => ("{", "}"),
            Value::Array(items) if !items.is_empty() => ("[", "]"),
            _ => return self.push(indent, line, anchors),
        };
        if Self::fits(indent, &line) {
            return self.push(indent, line, anchors);
        }
        self.push(indent, format!("{head}{open}"), anchors);
        let members: Vec<(String, &Value)> = match value {
            Value::Object(object) => object.iter().map(|(k, v)| (format!("{}: ", quote(k)), v)).collect(),
            Value::Array(items) => items.iter().map(|v| (String::new(), v)).collect(),
            _ => Vec::new(),
        };
        let last = members.len().saturating_sub(1);
        for (i, (member_head, member)) in members.into_iter().enumerate() {
            self.json_value(indent + 1, member_head, member, if i == last { "" } else { "," }, Vec::new());
        }
        self.push(indent, format!("{close}{tail}"), Vec::new());
    }
}

/// Puts the lines together with the comments attached to them.
fn render(lines: &[Line], comments: &[Comment]) -> String {
    // Every anchor that was printed, in source order, with its line.
    let mut anchors: Vec<(Pos, usize)> =
        lines.iter().enumerate().flat_map(|(i, line)| line.anchors.iter().map(move |&a| (a, i))).collect();
    anchors.sort_unstable();
    let mut leading: Vec<Vec<&Comment>> = vec![Vec::new(); lines.len()];
    let mut trailing: Vec<Vec<&Comment>> = vec![Vec::new(); lines.len()];
    let mut at_end = Vec::new();
    for comment in comments {
        let next = anchors.partition_point(|(a, _)| *a < comment.pos);
        let before_on_line = next.checked_sub(1).map(|i| anchors[i]).filter(|((line, _), _)| *line == comment.pos.0);
        match (before_on_line, anchors.get(next)) {
            (Some((_, line)), _) => trailing[line].push(comment),
            (None, Some(&(_, line))) => leading[line].push(comment),
            (None, None) => at_end.push(comment),
        }
    }
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let indent = "  ".repeat(line.indent);
        let comment_indent = "  ".repeat(line.indent + usize::from(line.closes));
        // A second comment at the end of one line goes above it instead.
        let (first, others) = trailing[i].split_first().map_or((None, &[][..]), |(f, o)| (Some(*f), o));
        for comment in leading[i].iter().chain(others) {
            comment_line(&mut out, &comment_indent, comment);
        }
        if !line.text.is_empty() {
            out.push_str(&indent);
            out.push_str(&line.text);
        }
        if let Some(comment) = first {
            out.push_str("  ");
            out.push_str(&comment.text);
        }
        out.push('\n');
    }
    for comment in at_end {
        comment_line(&mut out, "", comment);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// A comment on its own line, with the empty lines around it that it had.
fn comment_line(out: &mut String, indent: &str, comment: &Comment) {
    if comment.blank_before && !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(indent);
    out.push_str(&comment.text);
    out.push('\n');
    if comment.blank_after {
        out.push('\n');
    }
}

/// JSON on one line, spaced as people write it: `{"a": 1, "b": [true, null]}`.
fn inline_json(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write(item, out);
                }
                out.push(']');
            }
            Value::Object(object) => {
                out.push('{');
                for (i, (key, item)) in object.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&quote(key));
                    out.push_str(": ");
                    write(item, out);
                }
                out.push('}');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// A JSON string literal.
pub(crate) fn quote(s: &str) -> String {
    Value::from(s).to_string()
}

fn template(t: &RoleTemplate) -> String {
    let format = match t.format {
        Format::Json => "json ",
        Format::String => "",
    };
    let script = match &t.script {
        Script::Inline { source, params, options } => {
            let mut text = quote(source);
            if !params.is_empty() {
                text.push_str(&format!(" params {}", inline_json(&Value::Object(params.clone()))));
            }
            if !options.is_empty() {
                let options: Map<String, Value> = options.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
                text.push_str(&format!(" options {}", inline_json(&Value::Object(options))));
            }
            text
        }
        Script::Stored { id } => format!("stored {}", quote(id)),
        Script::Invalid { template, .. } => format!("script {}", inline_json(template)),
    };
    format!("{format}{script}")
}

fn value(kind: &ValueKind) -> String {
    match kind {
        ValueKind::Null => "null".to_owned(),
        ValueKind::Bool(b) => b.to_string(),
        ValueKind::Number(n) => n.to_string(),
        ValueKind::String(s) if is_regex_literal(s) => s.clone(),
        ValueKind::String(s) => quote(s),
    }
}

/// Whether `s` reads back exactly when written between its slashes: no
/// unescaped `/` inside, no backslash escaping the closing one, and no
/// control character (those print as JSON escapes in a quoted string).
fn is_regex_literal(s: &str) -> bool {
    let Some(body) = s.strip_prefix('/').and_then(|rest| rest.strip_suffix('/')) else {
        return false;
    };
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '/' => return false,
            '\\' => match chars.next() {
                Some(next) if !next.is_control() => {}
                _ => return false,
            },
            c if c.is_control() => return false,
            _ => {}
        }
    }
    true
}

/// A field name as written: bare when the grammar reads it back as a bare
/// name, quoted otherwise.
fn field_name(name: &str) -> String {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut segments = name.split('.');
    let bare = segments.next().is_some_and(|first| {
        first.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && first.chars().all(ident)
            && !matches!(first, "all" | "any" | "except")
    }) && segments.all(|s| !s.is_empty() && s.chars().all(ident));
    if bare { name.to_owned() } else { quote(name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_literals_only_when_exact() {
        for (s, literal) in [
            ("/a.*/", true),
            ("//", true),
            ("/a\\/b/", true),
            ("/a\\\\/", true),
            ("/", false),
            ("/a/b/", false),
            ("/a\\/", false),
            ("/a\tb/", false),
            ("/a\\\nb/", false),
            ("a/", false),
        ] {
            assert_eq!(is_regex_literal(s), literal, "{s:?}");
        }
    }

    #[test]
    fn field_names_are_quoted_unless_bare() {
        for (name, printed) in [
            ("realm.name", "realm.name"),
            ("metadata.some-key_1.2", "metadata.some-key_1.2"),
            ("metadata.some key", "\"metadata.some key\""),
            ("all", "\"all\""),
            ("all.x", "\"all.x\""),
            ("allx", "allx"),
            ("1a", "\"1a\""),
            ("a..b", "\"a..b\""),
            ("a.", "\"a.\""),
            ("", "\"\""),
            ("école", "\"école\""),
        ] {
            assert_eq!(field_name(name), printed);
        }
    }
}
