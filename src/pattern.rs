//! Rule-value patterns: Elasticsearch's wildcards and Lucene regular expressions.
//!
//! A string in a role-mapping rule is matched as a pattern when Elasticsearch would build an
//! automaton for it (`FieldExpression.FieldValue`): when it contains `*`
//! (`Regex.isSimpleMatchPattern`), or when it is longer than one character and both starts and
//! ends with `/` (`Automatons.isLuceneRegex`). Anything else is a plain literal, even with `?`
//! or `\` in it. [`Pattern::parse`] makes that decision and compiles the pattern.
//!
//! The automaton is built by `Automatons.buildAutomaton`
//! (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/support/Automatons.java):
//! - `/…/`: the body is a Lucene `RegExp` with every optional operator on; see the `lucene`
//!   submodule. A value that starts with `/` but does not end with one (and holds a `*`, or it
//!   would be a literal) is an error: `/home/*`.
//! - exactly `*`: every string, the empty one included.
//! - otherwise a wildcard: `*` any sequence, `?` one code point, `\x` a literal `x`, a trailing
//!   lone `\` a literal backslash; see the `wildcard` submodule.
//!
//! Matching is always against the whole value and is case-sensitive. The automaton is run one
//! code point at a time (`CharacterRunAutomaton.run`).
//!
//! No Rust crate parses Lucene's `RegExp` dialect, whose operators differ from PCRE's in ways
//! that change results, so the `lucene` submodule is a hand-written port of Lucene's recursive
//! descent that builds a `regex_syntax` HIR directly and compiles it with `regex_automata`.
//! regex-automata has no intersection or complement, so an expression with Lucene's `&` or `~`
//! is compiled instead into a minimal DFA of our own construction (the `dfa` submodule).
//!
//! Quirks reproduced on purpose, each documented where it is implemented:
//! - wildcard literals are built per UTF-16 unit, so an astral character written in a wildcard
//!   never matches (Automatons.java, `wildcard`);
//! - `@` is any string, `#` the empty language, `<n-m>` a decimal range, `^`/`$` literals, a
//!   leading `*`/`+`/`?`/`{`/`|`/`)` a literal, `\d \s \w` ASCII only (Lucene RegExp.java);
//! - `<n-m>` has a fixed width when both bounds are written with the same number of characters,
//!   otherwise it takes any number of leading zeros (Lucene Automata.java,
//!   `makeDecimalInterval`);
//! - `{n,m}` with `n > m` matches nothing (Lucene 9 Operations.java, `repeat`);
//! - counted repetitions over Lucene's work limit are refused (RegExp.java,
//!   `toAutomatonInternal`), see [`MAX_REPEAT`];
//! - `a&b` is the intersection and `~a` the complement over all strings of code points, with
//!   Lucene 9's precedence (`~a*` is `(~a)*`); both work in the JWT realm's
//!   `allowed_subject_patterns` too, which compile through [`Pattern::automaton`].
//!
//! Every pattern is bounded: [`MAX_PATTERN_LEN`], [`MAX_NESTING`], [`MAX_REPEAT`],
//! [`MAX_NFA_SIZE`] and, with `&` or `~`, [`MAX_DFA_STATES`]. Parsing never panics and never
//! recurses without a bound.

use std::fmt;

#[path = "pattern/dfa.rs"]
mod dfa;
#[path = "pattern/lucene.rs"]
mod lucene;
#[path = "pattern/wildcard.rs"]
mod wildcard;

use lucene::LuceneRegex;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use lucene::verdicts as lucene_verdicts;
use wildcard::Wildcard;

/// The longest pattern accepted, in bytes of the rule value. Plain literals are not limited
/// here.
pub const MAX_PATTERN_LEN: usize = 4096;

/// How deeply a regular expression may nest groups `(…)`, complements `~` and postfix
/// operators on one atom (`a**?` counts 3).
pub const MAX_NESTING: usize = 64;

/// Lucene's default determinize work limit (`Operations.DEFAULT_DETERMINIZE_WORK_LIMIT`).
/// Lucene refuses a counted repetition when (states of the operand − 1) × count exceeds it, so
/// `a{10000}` is accepted and `a{10001}` is not.
pub const MAX_REPEAT: usize = 10_000;

/// The most heap, in bytes, that the compiled automaton of one regular expression may use
/// (`regex_automata`'s NFA size limit). Lucene's own bound is [`MAX_REPEAT`]; this one is
/// stricter for repeated Unicode classes (`.{0,10000}` is refused here, as a Unicode `.` takes
/// several NFA states per copy), and it also bounds nested repetitions that Lucene would
/// reject while determinizing.
pub const MAX_NFA_SIZE: usize = 8 << 20;

/// The most states (the dead state aside) that any automaton built for a regular expression
/// with `&` or `~` may have, intermediate ones included: `/~(a{9998})/` needs exactly 10 000
/// and is accepted, `/~(a{9999})/` needs 10 001 and is refused.
///
/// Why 10 000: it is Lucene's default determinize work limit
/// (`Operations.DEFAULT_DETERMINIZE_WORK_LIMIT`), which Elasticsearch uses for `/…/` rule
/// values and which Lucene 9 turns into an effort bound (10 × the limit in NFA-state visits)
/// that automata of more than a few thousand states rarely get past; it is also the count
/// limit of repetitions ([`MAX_REPEAT`]). The patterns people write with these operators (an
/// exclusion, a few alternatives) need tens of states, while an exponential one such as
/// `~(.*a.{20})` (over two million) is cut off after ten thousand, in milliseconds. At a few
/// dozen character classes the table of a full-size automaton is about a MiB.
///
/// So that a wide alphabet or many intermediate automata cannot get around it, construction
/// also stops, with the same error, when a table would hold more than 64 cells (states ×
/// character classes) per state of this budget, an NFA more than 10 states per state of it,
/// or the work spent on one pattern would exceed 1 024 units per state of it.
pub const MAX_DFA_STATES: usize = 10_000;

/// A compiled wildcard or regular-expression rule value.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: Box<str>,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// Exactly `*`.
    Any,
    Wildcard(Wildcard),
    Regex {
        regex: Box<LuceneRegex>,
        /// The regex matches every string (`/.*/`, `/@/`): skip running it.
        any: bool,
    },
}

impl Pattern {
    /// Classifies and compiles a string rule value.
    ///
    /// Returns `Ok(None)` when `s` is a plain literal (no `*`, and not `/…/` of length > 1),
    /// `Ok(Some(_))` for a wildcard or regular expression, and an error for an invalid pattern.
    pub fn parse(s: &str) -> Result<Option<Pattern>, PatternError> {
        let is_regex = s.len() > 1 && s.starts_with('/') && s.ends_with('/');
        if !is_regex && !s.contains('*') {
            return Ok(None);
        }
        Self::automaton(s).map(Some)
    }

    /// Compiles `s` as Elasticsearch's `Automatons.pattern` does, for
    /// settings whose every value is a pattern (the JWT realm's
    /// `allowed_subject_patterns`): `/…/` is a regular expression, anything
    /// else a wildcard, even without `*` (so `?` and `\` are special).
    pub fn automaton(s: &str) -> Result<Pattern, PatternError> {
        let is_regex = s.len() > 1 && s.starts_with('/') && s.ends_with('/');
        if s.len() > MAX_PATTERN_LEN {
            let kind = PatternErrorKind::TooLong { len: s.len(), max: MAX_PATTERN_LEN };
            return Err(PatternError::new(kind, None));
        }
        let matcher = if is_regex {
            let regex = LuceneRegex::new(&s[1..s.len() - 1], 1)?;
            let any = matches!(regex.shape(), Shape::Any);
            Matcher::Regex { regex: Box::new(regex), any }
        } else if s.starts_with('/') {
            return Err(PatternError::new(PatternErrorKind::UnclosedRegex, None));
        } else if s == "*" {
            Matcher::Any
        } else {
            Matcher::Wildcard(Wildcard::new(s))
        };
        Ok(Pattern { source: s.into(), matcher })
    }

    /// Whether the whole of `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        match &self.matcher {
            Matcher::Any | Matcher::Regex { any: true, .. } => true,
            Matcher::Wildcard(w) => w.is_match(s),
            Matcher::Regex { regex, .. } => regex.is_match(s),
        }
    }

    /// The rule value this pattern was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether this is a `/…/` regular expression (as opposed to a wildcard).
    pub fn is_regex(&self) -> bool {
        matches!(self.matcher, Matcher::Regex { .. })
    }

    /// What an index can use to find candidate values without running the pattern.
    pub fn shape(&self) -> Shape<'_> {
        match &self.matcher {
            Matcher::Any => Shape::Any,
            Matcher::Wildcard(w) => w.shape(),
            Matcher::Regex { regex, .. } => regex.shape(),
        }
    }
}

/// The shape of a pattern's language, for indexing. Every variant is exact or a sound
/// over-approximation: `Other { required: None }` is always correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape<'a> {
    /// Matches every string (`*`, `/.*/`, `/@/`, …).
    Any,
    /// Matches exactly the strings that start with this literal (`lit*`, `/lit.*/`).
    Prefix(&'a str),
    /// Matches exactly the strings that end with this literal (`*lit`, `/.*lit/`).
    Suffix(&'a str),
    /// Anything else.
    Other {
        /// A literal that every matching string contains, if one was found cheaply.
        required: Option<&'a str>,
    },
}

/// An invalid pattern: what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    kind: PatternErrorKind,
    offset: Option<usize>,
}

#[allow(dead_code, reason = "the accessors are API for callers that report errors structurally; some only use Display")]
impl PatternError {
    fn new(kind: PatternErrorKind, offset: Option<usize>) -> Self {
        Self { kind, offset }
    }

    /// What is wrong.
    pub fn kind(&self) -> &PatternErrorKind {
        &self.kind
    }

    /// The byte offset in the rule value (the leading `/` of a regex is offset 0) where the
    /// problem was found, or `None` when it concerns the whole value.
    pub fn offset(&self) -> Option<usize> {
        self.offset
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(offset) = self.offset {
            write!(f, ", at position {offset}")?;
        }
        if let Some(help) = self.kind.help() {
            write!(f, "; {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PatternError {}

/// The kinds of [`PatternError`]. Examples are rule values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternErrorKind {
    /// The pattern is longer than [`MAX_PATTERN_LEN`].
    #[error("the pattern is {len} bytes long, over the limit of {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// It starts with `/`, so it would be a regular expression, but does not end with `/`:
    /// `/home/*`.
    #[error("a pattern that starts with `/` is a regular expression and must also end with `/`")]
    UnclosedRegex,
    /// The regular expression stops in the middle of something: `/[a-/`, `/a|/`, `/\/`.
    #[error("the regular expression ends too early")]
    UnexpectedEnd,
    /// A closing character is missing: `/[ab/`, `/(a/`, `/"a/`, `/<1-2/`, `/a{2/`.
    #[error("expected `{expected}`{}", found_text(.found))]
    Expected {
        /// The character needed.
        expected: char,
        /// What was there instead; `None` at the end of the expression.
        found: Option<char>,
    },
    /// `{` is not followed by a number: `/a{}/`, `/a{,2}/`.
    #[error("expected a number after `{{`")]
    ExpectedInteger,
    /// Text is left after a complete expression, usually an unmatched `)`: `/a)/`.
    #[error("unexpected {}", found_text_bare(.found))]
    TrailingInput {
        /// The first character left over.
        found: Option<char>,
    },
    /// A class range ends before it starts: `/[z-a]/`, `/[a-]/` (a range up to `]`).
    #[error("invalid class range `{from}-{to}`: the start is after the end")]
    InvalidRange {
        /// The start of the range.
        from: char,
        /// The end of the range.
        to: char,
    },
    /// A backslash before a letter other than `d D s S w W`: `/\n/`, `/\b/`.
    #[error("invalid escape `\\{letter}`")]
    InvalidEscape {
        /// The letter after the backslash.
        letter: char,
    },
    /// `<…>` holds a `-` but is not `<n-m>` with two integers below 2^31: `/<a-3>/`, `/<1-2-3>/`.
    #[error("invalid numeric interval `<{text}>`")]
    InvalidInterval {
        /// The text between `<` and `>`.
        text: String,
    },
    /// A repetition count does not fit a 32-bit signed integer: `/a{9999999999}/`.
    #[error("the repetition count does not fit in a 32-bit integer")]
    NumberTooLarge,
    /// A counted repetition is over Lucene's work limit ([`MAX_REPEAT`]): `/a{10001}/`.
    #[error("the repetition `{{{count}}}` is too large for its operand (limit {max} automaton states)")]
    RepeatTooLarge {
        /// The count that was refused.
        count: u32,
        /// The limit.
        max: usize,
    },
    /// A named automaton `<name>`: Elasticsearch defines none, so it always fails: `/<name>/`.
    #[error("unknown named automaton `<{name}>`")]
    UnknownNamedAutomaton {
        /// The name between `<` and `>`.
        name: String,
    },
    /// Groups, complements or postfix operators nest deeper than [`MAX_NESTING`].
    #[error("the regular expression nests deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The compiled automaton would be larger than [`MAX_NFA_SIZE`]: `/((.{100}){100}){100}/`.
    #[error("the regular expression is too large to compile (limit {limit} bytes)")]
    TooComplex {
        /// The limit in bytes.
        limit: usize,
    },
    /// An expression with `&` or `~` needs an automaton larger than [`MAX_DFA_STATES`]:
    /// `/~(.*a.{20})/`, `/~(a{9999})/`.
    #[error("the regular expression needs an automaton of more than {max} states")]
    AutomatonTooLarge {
        /// The limit in states.
        max: usize,
    },
    /// The automaton library refused the expression for another reason (not expected).
    #[error("the regular expression could not be compiled: {message}")]
    Internal {
        /// The library's message.
        message: String,
    },
}

impl PatternErrorKind {
    /// Advice shown after the message, if any.
    fn help(&self) -> Option<String> {
        Some(match self {
            Self::UnclosedRegex => {
                "other patterns must not start with `/`; to match it literally, drop the `*`".to_owned()
            }
            Self::TrailingInput { found: Some(')') } => "escape it as `\\)` to match a literal `)`".to_owned(),
            Self::InvalidEscape { .. } => {
                "only `\\d`, `\\D`, `\\s`, `\\S`, `\\w` and `\\W` may follow a backslash as letters".to_owned()
            }
            Self::InvalidInterval { .. } => {
                "write `<n-m>` with two non-negative integers, or escape `<` as `\\<`".to_owned()
            }
            Self::UnknownNamedAutomaton { .. } => "escape it as `\\<` to match a literal `<`".to_owned(),
            _ => return None,
        })
    }
}

fn found_text(found: &Option<char>) -> String {
    match found {
        Some(c) => format!(", found `{c}`"),
        None => " before the end of the regular expression".to_owned(),
    }
}

fn found_text_bare(found: &Option<char>) -> String {
    match found {
        Some(c) => format!("`{c}` after a complete regular expression"),
        None => "end of the regular expression".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pattern(s: &str) -> Pattern {
        match Pattern::parse(s) {
            Ok(Some(p)) => p,
            Ok(None) => panic!("`{s}` should be a pattern"),
            Err(e) => panic!("`{s}` should compile: {e}"),
        }
    }

    fn error(s: &str) -> PatternError {
        match Pattern::parse(s) {
            Err(e) => e,
            Ok(_) => panic!("`{s}` should be an error"),
        }
    }

    #[test]
    fn classification() {
        for literal in ["", "/", "/abc", "abc/", "j?hn", "a\\b", "?", "\\", "@", "/a?"] {
            assert!(matches!(Pattern::parse(literal), Ok(None)), "`{literal}` is a literal");
        }
        assert!(pattern("//").is_regex());
        assert!(pattern("/abc/").is_regex());
        assert!(pattern("/*/").is_regex());
        assert!(!pattern("*").is_regex());
        assert!(!pattern("a*").is_regex());
        assert!(!pattern("a/*").is_regex());
        assert_eq!(pattern("j?hn*").source(), "j?hn*");
        for bad in ["/home/*", "/*", "/a*"] {
            let e = error(bad);
            assert_eq!(e.kind(), &PatternErrorKind::UnclosedRegex, "`{bad}`");
            assert_eq!(e.offset(), None);
        }
        let e = error("/[a-/");
        assert_eq!(e.kind(), &PatternErrorKind::UnexpectedEnd);
        assert_eq!(e.offset(), Some(4));
    }

    /// The pattern cases of conformance/role-mapping.jsonl (rule value, input, expected).
    const CONFORMANCE: &[(&str, &str, bool)] = &[
        ("*@shield.gov", "bob@shield.gov", true),
        ("*@shield.gov", "bob@example.net", false),
        ("*@shield.gov", "fury@shield.net", false),
        ("/.*\\@avengers\\.(net|org)/", "romanov@avengers.org", true),
        ("/.*\\@avengers\\.(net|org)/", "hawkeye@avengers.org", true),
        ("/.*\\@avengers\\.(net|org)/", "warmachine@avengers.net", true),
        ("abc*", "abc", true),
        ("abc*", "_abc", false),
        ("abc*", "a", false),
        ("abc*", "", false),
        ("/.*fghij.*/", "xxfghijyy", true),
        ("/.*fghij.*/", "gh", false),
        ("/CN=Bruce,OU=Hero, O=Wayne/", "CN=Bruce,OU=Hero, O=Wayne", true),
        ("abcdef*", "foo=", false),
        ("*", "", true),
        ("j?hn*", "john", true),
        ("a\\*b*", "axbc", false),
        ("/a*/", "aaa", true),
        ("//", "", true),
        ("/.*@example\\.com/", "bob@example.com", true),
        ("/.*@example\\.com/", "bobexample.com", true),
        ("/.*\\@example\\.com/", "bobexample.com", false),
        ("/user<1-12>/", "user13", false),
        ("JOHN*", "john", false),
        ("*", "saml1", true),
        ("Admin*", "admins", false),
        ("/cn=[a-z]+,dc=example,dc=com/", "cn=bob,dc=example,dc=com", true),
        ("*,ou=dept_h,o=forces,dc=gc,dc=ca", "cn=x,ou=dept_h,o=forces,dc=gc,dc=ca", true),
    ];

    #[test]
    fn conformance_vectors() {
        for &(p, input, want) in CONFORMANCE {
            assert_eq!(pattern(p).is_match(input), want, "`{p}` on `{input}`");
        }
    }

    #[test]
    fn any_shortcut() {
        for p in ["*", "/.*/", "/@/", "/(.*)+/"] {
            let p = pattern(p);
            assert_eq!(p.shape(), Shape::Any);
            assert!(p.is_match("") && p.is_match("x\ny"));
        }
        assert_eq!(pattern("/.+/").shape(), Shape::Other { required: None });
        assert!(!pattern("/.+/").is_match(""));
    }

    #[test]
    fn shapes() {
        assert_eq!(pattern("abc*").shape(), Shape::Prefix("abc"));
        assert_eq!(pattern("*@x.org").shape(), Shape::Suffix("@x.org"));
        assert_eq!(pattern("/ab.*/").shape(), Shape::Prefix("ab"));
        assert_eq!(pattern("j?hn*").shape(), Shape::Other { required: Some("hn") });
    }

    #[test]
    fn length_limit() {
        let at_limit = format!("{}*", "a".repeat(MAX_PATTERN_LEN - 1));
        assert!(pattern(&at_limit).is_match(&"a".repeat(MAX_PATTERN_LEN)));
        let over = format!("{}*", "a".repeat(MAX_PATTERN_LEN));
        let e = error(&over);
        assert_eq!(e.kind(), &PatternErrorKind::TooLong { len: MAX_PATTERN_LEN + 1, max: MAX_PATTERN_LEN });
        assert_eq!(e.offset(), None);
        let regex_at_limit = format!("/{}/", "a".repeat(MAX_PATTERN_LEN - 2));
        assert!(pattern(&regex_at_limit).is_match(&"a".repeat(MAX_PATTERN_LEN - 2)));
        let regex_over = format!("/{}/", "a".repeat(MAX_PATTERN_LEN - 1));
        assert!(matches!(error(&regex_over).kind(), PatternErrorKind::TooLong { .. }));
        // Plain literals are not patterns and so not limited here.
        assert!(matches!(Pattern::parse(&"a".repeat(10 * MAX_PATTERN_LEN)), Ok(None)));
    }

    #[test]
    fn error_messages() {
        let cases = [
            ("/a&/", "the regular expression ends too early, at position 3"),
            ("/~(a{9999})/", "the regular expression needs an automaton of more than 10000 states"),
            (
                "/home/*",
                "a pattern that starts with `/` is a regular expression and must also end with \
                 `/`; other patterns must not start with `/`; to match it literally, drop the `*`",
            ),
            ("/[a-/", "the regular expression ends too early, at position 4"),
            ("/[ab/", "expected `]` before the end of the regular expression, at position 4"),
            ("/a{2x}/", "expected `}`, found `x`, at position 4"),
            ("/a{}/", "expected a number after `{`, at position 3"),
            (
                "/a)/",
                "unexpected `)` after a complete regular expression, at position 2; \
                 escape it as `\\)` to match a literal `)`",
            ),
            ("/[z-a]/", "invalid class range `z-a`: the start is after the end, at position 2"),
            (
                "/\\n/",
                "invalid escape `\\n`, at position 1; only `\\d`, `\\D`, `\\s`, `\\S`, `\\w` and \
                 `\\W` may follow a backslash as letters",
            ),
            (
                "/<a-3>/",
                "invalid numeric interval `<a-3>`, at position 5; write `<n-m>` with two \
                 non-negative integers, or escape `<` as `\\<`",
            ),
            (
                "/<host>/",
                "unknown named automaton `<host>`, at position 1; escape it as `\\<` to match a \
                 literal `<`",
            ),
            (
                "/a{10001}/",
                "the repetition `{10001}` is too large for its operand (limit 10000 automaton \
                 states), at position 2",
            ),
            ("/a{3000000000}/", "the repetition count does not fit in a 32-bit integer, at position 3"),
        ];
        for (p, want) in cases {
            assert_eq!(error(p).to_string(), want, "`{p}`");
        }
        let deep = format!("/{}a{}/", "(".repeat(65), ")".repeat(65));
        assert_eq!(error(&deep).to_string(), "the regular expression nests deeper than 64 levels, at position 65");
        let big = error("/((((.{100}){100}){100}){100})/");
        assert_eq!(
            big.to_string(),
            format!("the regular expression is too large to compile (limit {MAX_NFA_SIZE} bytes)")
        );
        assert_eq!(big.offset(), None);
    }

    #[test]
    fn thread_safe_and_cloneable() {
        fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
        check::<Pattern>();
        check::<PatternError>();
        let p = pattern("/a+/");
        let q = p.clone();
        assert!(q.is_match("aa") && p.is_match("a"));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>(), input in any::<String>()) {
            if let Ok(Some(p)) = Pattern::parse(&s) {
                let _ = p.is_match(&input);
                let _ = p.shape();
            }
        }

        #[test]
        fn regex_syntax_never_panics(
            body in "[ab.*+?{}0-9,|&~()\\[\\]^\\-\\\\\"<>@#dqé😀]{0,16}",
            input in "[ab0-9\\-]{0,6}",
        ) {
            let s = format!("/{body}/");
            match Pattern::parse(&s) {
                Ok(Some(p)) => {
                    let matched = p.is_match(&input);
                    match p.shape() {
                        Shape::Any => prop_assert!(matched),
                        Shape::Prefix(x) => prop_assert_eq!(matched, input.starts_with(x)),
                        Shape::Suffix(x) => prop_assert_eq!(matched, input.ends_with(x)),
                        Shape::Other { required: Some(r) } => {
                            prop_assert!(!matched || input.contains(r));
                        }
                        Shape::Other { required: None } => {}
                    }
                }
                Ok(None) => prop_assert!(false, "`{}` is a regex", s),
                Err(e) => {
                    prop_assert!(e.offset().is_none_or(|o| o <= s.len()));
                    prop_assert!(!e.to_string().is_empty());
                }
            }
        }
    }
}
