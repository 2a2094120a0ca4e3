//! `claim_patterns.*` are Java regular expressions (`java.util.regex`),
//! applied with `Matcher.find()`. The `regex` crate reads almost the same
//! syntax with different meanings in a few places, so the pattern is
//! rewritten before it is compiled:
//!
//! - `\w`, `\d`, `\s` (and `\W`, `\D`, `\S`) are ASCII-only in Java, Unicode
//!   in `regex`: they become explicit ASCII classes;
//! - `\b` and `\B` are ASCII in Java 19 and later: `(?-u:\b)`;
//! - `.` excludes every Java line terminator (`\n`, `\r`, U+0085, U+2028,
//!   U+2029), not only `\n` (unless the `s` flag is set somewhere);
//! - `$` also matches before a final line terminator.
//!
//! What `regex` does not support (look-around, back-references, `\Z`, ...)
//! is a configuration error rather than a different match.

use regex::Regex;
use regex_syntax::ast::{self, AssertionKind, Ast, ClassPerlKind, ClassSet, ClassSetItem, parse::Parser};

/// Compiles a Java pattern with Java's meanings.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    let ast = Parser::new().parse(pattern).map_err(|e| e.kind().to_string())?;
    let dot_all = has_dot_all(&ast);
    let mut edits = Vec::new();
    rewrite(&ast, dot_all, &mut edits);
    edits.sort_by_key(|(start, _, _)| *start);
    let mut out = String::with_capacity(pattern.len() + 16 * edits.len());
    let mut at = 0;
    for (start, end, text) in edits {
        out.push_str(&pattern[at..start]);
        out.push_str(&text);
        at = end;
    }
    out.push_str(&pattern[at..]);
    Regex::new(&out).map_err(|e| e.to_string())
}

fn perl(kind: &ClassPerlKind) -> &'static str {
    match kind {
        ClassPerlKind::Digit => "0-9",
        ClassPerlKind::Space => "\\t\\n\\x0B\\x0C\\r ",
        ClassPerlKind::Word => "a-zA-Z_0-9",
    }
}

fn has_dot_all(ast: &Ast) -> bool {
    let flags_set = |items: &[ast::FlagsItem]| {
        let mut negated = false;
        items.iter().any(|item| match item.kind {
            ast::FlagsItemKind::Negation => {
                negated = true;
                false
            }
            ast::FlagsItemKind::Flag(ast::Flag::DotMatchesNewLine) => !negated,
            _ => false,
        })
    };
    match ast {
        Ast::Flags(f) => flags_set(&f.flags.items),
        Ast::Group(g) => {
            matches!(&g.kind, ast::GroupKind::NonCapturing(flags) if flags_set(&flags.items)) || has_dot_all(&g.ast)
        }
        Ast::Repetition(r) => has_dot_all(&r.ast),
        Ast::Alternation(a) => a.asts.iter().any(has_dot_all),
        Ast::Concat(c) => c.asts.iter().any(has_dot_all),
        _ => false,
    }
}

fn rewrite(ast: &Ast, dot_all: bool, edits: &mut Vec<(usize, usize, String)>) {
    let mut edit = |span: &ast::Span, text: String| edits.push((span.start.offset, span.end.offset, text));
    match ast {
        Ast::Dot(span) if !dot_all => edit(span, "[^\\n\\r\\x{85}\\x{2028}\\x{2029}]".into()),
        Ast::ClassPerl(class) => {
            let caret = if class.negated { "^" } else { "" };
            edit(&class.span, format!("[{caret}{}]", perl(&class.kind)));
        }
        Ast::Assertion(a) => match a.kind {
            AssertionKind::EndLine => edit(&a.span, "(?:\\r\\n|[\\n\\r\\x{85}\\x{2028}\\x{2029}])?\\z".into()),
            AssertionKind::WordBoundary => edit(&a.span, "(?-u:\\b)".into()),
            AssertionKind::NotWordBoundary => edit(&a.span, "(?-u:\\B)".into()),
            _ => {}
        },
        Ast::ClassBracketed(class) => rewrite_set(&class.kind, edits),
        Ast::Repetition(r) => rewrite(&r.ast, dot_all, edits),
        Ast::Group(g) => rewrite(&g.ast, dot_all, edits),
        Ast::Alternation(a) => a.asts.iter().for_each(|a| rewrite(a, dot_all, edits)),
        Ast::Concat(c) => c.asts.iter().for_each(|a| rewrite(a, dot_all, edits)),
        _ => {}
    }
}

fn rewrite_set(set: &ClassSet, edits: &mut Vec<(usize, usize, String)>) {
    match set {
        ClassSet::Item(item) => rewrite_item(item, edits),
        ClassSet::BinaryOp(op) => {
            rewrite_set(&op.lhs, edits);
            rewrite_set(&op.rhs, edits);
        }
    }
}

fn rewrite_item(item: &ClassSetItem, edits: &mut Vec<(usize, usize, String)>) {
    match item {
        ClassSetItem::Perl(class) => {
            let text = if class.negated { format!("[^{}]", perl(&class.kind)) } else { perl(&class.kind).to_owned() };
            edits.push((class.span.start.offset, class.span.end.offset, text));
        }
        ClassSetItem::Bracketed(class) => rewrite_set(&class.kind, edits),
        ClassSetItem::Union(union) => union.items.iter().for_each(|i| rewrite_item(i, edits)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group1(pattern: &str, text: &str) -> Option<String> {
        compile(pattern).unwrap().captures(text).and_then(|c| c.get(1)).map(|m| m.as_str().to_owned())
    }

    #[test]
    fn perl_classes_are_ascii() {
        assert_eq!(group1(r"^(\w+)@corp\.com$", "bob@corp.com").as_deref(), Some("bob"));
        assert_eq!(group1(r"^(\w+)@corp\.com$", "jösé@corp.com"), None);
        assert_eq!(group1(r"^(\d+)$", "١٢٣"), None);
        assert_eq!(group1(r"^([\w.-]+)@", "a.b-c@x").as_deref(), Some("a.b-c"));
        assert_eq!(group1(r"^([^\W]+)", "ab-c").as_deref(), Some("ab"));
        assert_eq!(group1(r"(\S+)\s", "é x").as_deref(), Some("é"));
    }

    #[test]
    fn dot_and_end_follow_java() {
        assert_eq!(group1(r"^grp-(.+)$", "grp-\u{2028}x"), None);
        assert_eq!(group1(r"^grp-(.+)$", "grp-admins").as_deref(), Some("admins"));
        assert_eq!(group1(r"^(.+)@corp\.com$", "bob@corp.com\n").as_deref(), Some("bob"));
        assert_eq!(group1(r"(?s)^grp-(.+)$", "grp-a\rb").as_deref(), Some("a\rb"));
    }

    #[test]
    fn unsupported_java_syntax_is_refused() {
        assert!(compile(r"^(?!svc-)(.+)$").is_err());
        assert!(compile(r"(a)\1").is_err());
        assert!(compile(r"[").is_err());
    }
}
