//! A pass over the text before pest sees it: it bounds bracket nesting, so
//! that the recursive descent cannot exhaust the stack, and it finds the
//! comments, which the formatter puts back.
//!
//! It reads strings, regular expressions and comments as the grammar does
//! (each ends at its closing character or at the end of its line, and a
//! backslash escapes the next character), so it sees every bracket the
//! parser could recurse into.

use super::lines::Lines;
use crate::error::{Error, ErrorKind};
use std::ops::Range;

/// The deepest bracket nesting ever read, whatever `Options::max_depth`
/// says: pest recurses once per bracket and needs about 4 KiB of stack per
/// level in a debug build, so this stays well inside a 2 MiB thread stack.
pub(crate) const MAX_BRACKETS: usize = 256;

/// How deeply brackets may nest for a given rule depth: the mapping's brace,
/// one brace per rule level and a value list; or a JSON value as deep as the
/// JSON parser reads (128) inside the mapping.
pub(crate) fn bracket_limit(max_depth: usize) -> usize {
    max_depth.max(128).saturating_add(4).min(MAX_BRACKETS)
}

/// The comments of `text`, as byte ranges (from `#` to the end of the line),
/// or the first place where brackets nest deeper than `limit`.
///
/// Too deep with more than `max_depth` nested `all`/`any` blocks is reported
/// as rules nested too deeply, at the first block past the limit; any other
/// nesting as brackets nested too deeply.
pub(crate) fn scan(text: &str, lines: &Lines, limit: usize, max_depth: usize) -> Result<Vec<Range<usize>>, Error> {
    let mut comments = Vec::new();
    // Each open bracket: whether it opens an `all`/`any` block, and where
    // that block's keyword starts.
    let mut stack: Vec<Option<usize>> = Vec::new();
    for token in Tokens::new(text) {
        match token {
            Token::Comment(range) => comments.push(range),
            Token::Open { at, block } => {
                stack.push(block);
                if stack.len() > limit {
                    let blocks: Vec<usize> = stack.iter().flatten().copied().collect();
                    let error = match blocks.get(max_depth) {
                        Some(&keyword) => Error::new(ErrorKind::TooDeep(max_depth), lines.location(keyword)),
                        None => Error::new(ErrorKind::NestingTooDeep(limit), lines.location(at)),
                    };
                    return Err(error);
                }
            }
            Token::Close { .. } => {
                stack.pop();
            }
            Token::Newline(_) => {}
        }
    }
    Ok(comments)
}

/// The `all {` or `any {` block that a file ending too early most likely
/// leaves open: the byte offset of its keyword.
///
/// A `}` that starts its line is taken to close the innermost open bracket
/// whose line is indented as much, as an editor lays the file out, so that
/// in
///
/// ```text
/// mapping "m" {
///   rules: all { x == 1
/// }
/// ```
///
/// the last `}` closes the mapping and the `all {` is the one left open.
/// Without such a hint, the innermost bracket still open at the end is.
/// `None` when that bracket is not a block (a mapping's `{`, a `[`).
pub(crate) fn unclosed_block(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    // Each open bracket: the indentation of its line, and the keyword of
    // the block it opens, if it opens one.
    let mut stack: Vec<(usize, Option<usize>)> = Vec::new();
    let mut skipped: Option<Option<usize>> = None;
    let mut line_start = 0;
    for token in Tokens::new(text) {
        match token {
            Token::Newline(at) => line_start = at + 1,
            Token::Comment(_) => {}
            Token::Open { block, .. } => stack.push((indentation(bytes, line_start), block)),
            Token::Close { at } => {
                let first_on_line = bytes[line_start..at].iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
                let indent = indentation(bytes, line_start);
                let matching = if first_on_line { stack.iter().rposition(|&(i, _)| i == indent) } else { None };
                match matching {
                    Some(k) if k + 1 < stack.len() => {
                        // The brackets between the match and the top were left open.
                        if skipped.is_none() {
                            skipped = Some(stack[k + 1..].iter().rev().find_map(|&(_, block)| block));
                        }
                        stack.truncate(k);
                    }
                    _ => {
                        stack.pop();
                    }
                }
            }
        }
    }
    match skipped {
        Some(block) => block,
        None => stack.last().and_then(|&(_, block)| block),
    }
}

/// What both passes look at: comments, brackets (with the `all`/`any`
/// keyword a `{` opens a block of) and line ends; strings, regular
/// expressions and words are stepped over.
#[derive(Debug, PartialEq)]
enum Token {
    Comment(Range<usize>),
    Open { at: usize, block: Option<usize> },
    Close { at: usize },
    Newline(usize),
}

/// The tokens of a text, read as the grammar reads it.
struct Tokens<'a> {
    text: &'a str,
    i: usize,
    /// The word just read, if nothing but spaces followed it.
    last_word: Option<Range<usize>>,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, i: 0, last_word: None }
    }
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.i) {
            let at = self.i;
            match b {
                b'#' => {
                    self.i = line_end(bytes, at);
                    return Some(Token::Comment(at..self.i));
                }
                b'\n' => {
                    self.i += 1;
                    return Some(Token::Newline(at));
                }
                b'"' | b'/' => {
                    self.i = quoted_end(bytes, at, b);
                    self.last_word = None;
                }
                b'{' | b'[' => {
                    let block = block_keyword(self.text, self.last_word.take().as_ref(), b);
                    self.i += 1;
                    return Some(Token::Open { at, block });
                }
                b'}' | b']' => {
                    self.last_word = None;
                    self.i += 1;
                    return Some(Token::Close { at });
                }
                b if b.is_ascii_alphanumeric() || b == b'_' => {
                    self.i = word_end(bytes, at);
                    self.last_word = Some(at..self.i);
                }
                b' ' | b'\t' | b'\r' => self.i += 1,
                _ => {
                    self.last_word = None;
                    self.i += 1;
                }
            }
        }
        None
    }
}

/// How many spaces and tabs the line starting at `start` begins with.
fn indentation(bytes: &[u8], start: usize) -> usize {
    bytes[start..].iter().take_while(|&&b| b == b' ' || b == b'\t').count()
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |n| from + n)
}

/// The end of the string or regular expression opened by `quote` at
/// `start`: after its closing quote, or at the end of the line when it has
/// none (the parser then reports it).
fn quoted_end(bytes: &[u8], start: usize, quote: u8) -> usize {
    let rest = &bytes[start..];
    let line = &rest[..rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())];
    start + quoted_len(line, quote).unwrap_or(line.len())
}

/// The length of the literal that `line` starts with, up to and with its
/// closing `quote`, if it has one (a backslash escapes the byte after it).
pub(crate) fn quoted_len(line: &[u8], quote: u8) -> Option<usize> {
    let mut i = 1;
    while i < line.len() {
        match line[i] {
            b'\\' => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Where the `all` or `any` keyword that the bracket `b` opens a block of
/// starts, when `last_word` is one and `b` is `{`.
fn block_keyword(text: &str, last_word: Option<&Range<usize>>, b: u8) -> Option<usize> {
    last_word.filter(|w| b == b'{' && matches!(text.get(w.start..w.end), Some("all" | "any"))).map(|w| w.start)
}

/// The end of the word (a keyword or a dotted field name) that starts at `i`.
fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'-' | b'.')) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, limit: usize, max_depth: usize) -> Result<Vec<&str>, String> {
        let lines = Lines::new(text);
        scan(text, &lines, limit, max_depth)
            .map(|ranges| ranges.into_iter().map(|r| &text[r]).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn comments_are_found_outside_strings_and_regexes() {
        let text = "# one\nx == \"#no\" # two\ny == /#no\\/#/ #three";
        assert_eq!(run(text, 10, 10).unwrap(), ["# one", "# two", "#three"]);
    }

    #[test]
    fn brackets_in_strings_regexes_and_comments_do_not_count() {
        let text = "{ \"{{{{\" /[[[[/ # {{{{\n }";
        assert!(run(text, 1, 1).is_ok());
        assert!(run("{{}}", 1, 1).is_err());
    }

    #[test]
    fn an_unterminated_string_ends_at_the_line() {
        assert!(run("\"abc\n{{{", 2, 2).is_err());
        assert!(run("\"abc\\\n{{", 2, 2).is_ok());
    }

    #[test]
    fn the_unclosed_block_is_found_by_indentation() {
        fn at(text: &str) -> Option<&str> {
            unclosed_block(text).map(|i| &text[i..i + 3])
        }
        // The last `}` is indented as the mapping is: it closes the mapping.
        assert_eq!(at("mapping {\n  rules: all { x == 1\n}\n"), Some("all"));
        assert_eq!(at("mapping {\n  rules: all {\n    any { x == 1\n  }\n}\n"), Some("any"));
        // Still open at the end.
        assert_eq!(at("mapping {\n  rules: all {\n    x == 1\n"), Some("all"));
        // The mapping's own brace is not a block.
        assert_eq!(at("mapping {\n  rules: all {}\n"), None);
        assert_eq!(at("mapping {\n  rules: all { \"{\" # {\n  }\n"), None);
    }

    #[test]
    fn rule_blocks_past_the_depth_are_named() {
        let deep = format!("mapping {{ rules: {}", "all { ".repeat(10));
        assert_eq!(run(&deep, 5, 3).unwrap_err(), "rules are nested deeper than the limit of 3 at line 1, column 36");
        assert_eq!(
            run("[[[[[[", 5, 3).unwrap_err(),
            "brackets are nested deeper than the limit of 5 at line 1, column 6"
        );
    }
}
