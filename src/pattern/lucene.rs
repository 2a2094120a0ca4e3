//! Lucene's `RegExp` dialect, as Elasticsearch uses it for `/…/` rule values.
//!
//! Elasticsearch builds `new RegExp(body)` (all optional syntax flags on) and runs the
//! determinized automaton over the whole value, one code point at a time. No Rust crate parses
//! this dialect, and it differs from PCRE-style syntax in ways that change results (`@` is any
//! string, `<1-12>` a number range, `^`/`$` are literals, a leading `*` is a literal, …), so
//! the parser below is a hand-written copy of the recursive descent in Lucene 9's
//! `lucene/core/src/java/org/apache/lucene/util/automaton/RegExp.java` (the version behind
//! Elasticsearch 8.x), with loops instead of recursion where the grammar allows and a nesting
//! limit where it does not. The tree is then turned into a `regex_syntax` [`Hir`] directly (no
//! re-escaping into another syntax) and compiled with a `regex_automata` meta regex, anchored at
//! both ends.
//!
//! Grammar, loosest binding first: `a|b` union, `a&b` intersection, concatenation, postfix
//! `? * + {n} {n,} {n,m}`, prefix `~` complement; atoms `.` (any code point, newline too), `#`
//! (empty language), `@` (any string), `"…"` (literal text), `()` (empty string), `(…)`,
//! `<n-m>` (decimal interval), `<name>` (named automaton), `[…]`/`[^…]` classes with `a-z`
//! ranges, `\d \D \s \S \w \W` (ASCII only), `\\`, `\x` (literal x). A character that cannot
//! start anything else is a literal, including a leading `*`, `?`, `+`, `{`, `|` or `)`.
//!
//! Version notes. Elasticsearch 8.x runs Lucene 9, whose parser this follows. Elasticsearch 9.x
//! runs Lucene 10 and passes `RegExp.ALL | RegExp.DEPRECATED_COMPLEMENT`, so `~` keeps its
//! meaning there; Lucene 10 also rejects `{n,m}` with `n > m` (Lucene 9: the empty language)
//! and reads `[\.-z]` as three characters (Lucene 9: the range `.` to `z`).
//! Positions are byte offsets in the rule value; Lucene's messages count UTF-16 units of the
//! body.
//!
//! Not supported yet, and rejected with a clear error rather than matched differently:
//! `&` (intersection) and `~` (complement). `<name>` is always an error, as in Elasticsearch,
//! which passes no automaton provider.

use regex_automata::meta;
use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, Look, Repetition};

use super::{MAX_NESTING, MAX_NFA_SIZE, MAX_REPEAT, PatternError, PatternErrorKind, Shape};

/// A compiled Lucene regular expression (the body of a `/…/` rule value).
#[derive(Debug, Clone)]
pub(super) struct LuceneRegex {
    ast: Node,
    regex: meta::Regex,
}

impl LuceneRegex {
    /// Parses and compiles `body`; `base` is the byte offset of `body` in the rule string, used
    /// for error positions.
    pub(super) fn new(body: &str, base: usize) -> Result<Self, PatternError> {
        let ast = parse(body, base)?;
        let hir = Hir::concat(vec![Hir::look(Look::Start), to_hir(&ast), Hir::look(Look::End)]);
        let config = meta::Config::new().nfa_size_limit(Some(MAX_NFA_SIZE));
        let regex = meta::Builder::new().configure(config).build_from_hir(&hir).map_err(|e| {
            let kind = match e.size_limit() {
                Some(limit) => PatternErrorKind::TooComplex { limit },
                None => PatternErrorKind::Internal { message: e.to_string() },
            };
            PatternError::new(kind, None)
        })?;
        Ok(Self { ast, regex })
    }

    pub(super) fn is_match(&self, input: &str) -> bool {
        self.regex.is_match(input)
    }

    pub(super) fn shape(&self) -> Shape<'_> {
        if is_any(&self.ast) {
            return Shape::Any;
        }
        if let Node::Concat(items) = &self.ast {
            match items.as_slice() {
                [Node::Literal(lit), rest @ ..] if !lit.is_empty() && rest.iter().all(is_any) => {
                    return Shape::Prefix(lit);
                }
                [rest @ .., Node::Literal(lit)] if !lit.is_empty() && rest.iter().all(is_any) => {
                    return Shape::Suffix(lit);
                }
                _ => {}
            }
        }
        Shape::Other { required: required(&self.ast) }
    }
}

/// A predefined class: `\d \D \s \S \w \W`. ASCII only, as in Lucene
/// (`RegExp.expandPredefined`): `\s` is `[ \t\n\r]`, `\w` is `[a-zA-Z_0-9]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Predefined {
    Digit,
    NotDigit,
    Space,
    NotSpace,
    Word,
    NotWord,
}

impl Predefined {
    fn from_letter(c: char) -> Option<Self> {
        Some(match c {
            'd' => Self::Digit,
            'D' => Self::NotDigit,
            's' => Self::Space,
            'S' => Self::NotSpace,
            'w' => Self::Word,
            'W' => Self::NotWord,
            _ => return None,
        })
    }

    fn class(self) -> ClassUnicode {
        let r = |a, b| ClassUnicodeRange::new(a, b);
        let (mut class, negate) = match self {
            Self::Digit | Self::NotDigit => (ClassUnicode::new([r('0', '9')]), self == Self::NotDigit),
            Self::Space | Self::NotSpace => {
                (ClassUnicode::new([r(' ', ' '), r('\t', '\n'), r('\r', '\r')]), self == Self::NotSpace)
            }
            Self::Word | Self::NotWord => {
                (ClassUnicode::new([r('a', 'z'), r('A', 'Z'), r('_', '_'), r('0', '9')]), self == Self::NotWord)
            }
        };
        if negate {
            class.negate();
        }
        class
    }
}

/// One member of a `[…]` class.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ClassItem {
    Range(char, char),
    Predefined(Predefined),
}

/// The parsed expression. Concatenations and unions are flat, and adjacent literals are merged
/// (as Lucene's `makeConcatenation` does), so depth only grows with `(`, `~` and postfix
/// operators, all of which the parser counts against [`MAX_NESTING`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    /// `#`: matches nothing.
    Empty,
    /// `@`: any string.
    AnyString,
    /// `.`: any one code point.
    AnyChar,
    /// Literal text: characters, escapes, `"…"`, `()` (the empty string).
    Literal(String),
    Class {
        negated: bool,
        items: Vec<ClassItem>,
    },
    /// `\d` and friends outside a class.
    Predefined(Predefined),
    /// `<min-max>`; `digits > 0` means fixed width (both bounds were written with that many
    /// characters), `0` means any number of leading zeros.
    Interval {
        min: u32,
        max: u32,
        digits: usize,
    },
    Repeat {
        sub: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
    Concat(Vec<Node>),
    Union(Vec<Node>),
    // Parsed so that syntax errors behind them are still reported as Lucene does, but never
    // translated: `parse` rejects a tree that holds one.
    Intersection(Vec<Node>),
    Complement(Box<Node>),
    Named(String),
}

impl Node {
    fn concat(items: Vec<Node>) -> Node {
        let mut out: Vec<Node> = Vec::with_capacity(items.len());
        for item in items {
            match (out.last_mut(), item) {
                // Concatenating the empty string changes nothing (`a()b`, `""x`).
                (_, Node::Literal(next)) if next.is_empty() => {}
                (Some(Node::Literal(prev)), Node::Literal(next)) => prev.push_str(&next),
                (_, item) => out.push(item),
            }
        }
        match out.len() {
            0 => Node::Literal(String::new()),
            1 => out.pop().unwrap_or(Node::Concat(Vec::new())),
            _ => Node::Concat(out),
        }
    }

    fn flat(items: Vec<Node>, make: fn(Vec<Node>) -> Node) -> Node {
        match <[Node; 1]>::try_from(items) {
            Ok([one]) => one,
            Err(items) => make(items),
        }
    }
}

/// Operators this port does not implement yet (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unsupported {
    Intersection,
    Complement,
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    /// Byte offset of `src` in the rule string.
    base: usize,
    depth: usize,
    /// The first construct in source order that parses but cannot be compiled.
    blocker: Option<(usize, Blocker)>,
}

#[derive(Debug, Clone)]
enum Blocker {
    Unsupported(Unsupported),
    Named(String),
}

type PResult<T> = Result<T, PatternError>;

fn parse(src: &str, base: usize) -> PResult<Node> {
    let mut p = Parser { src, pos: 0, base, depth: 0, blocker: None };
    // `new RegExp("")` is the empty string, without parsing.
    let node = if src.is_empty() {
        Node::Literal(String::new())
    } else {
        let node = p.parse_union()?;
        if p.more() {
            let found = p.peek_char();
            return Err(p.err_at(p.pos, PatternErrorKind::TrailingInput { found }));
        }
        node
    };
    match p.blocker.take() {
        None => Ok(node),
        Some((at, Blocker::Unsupported(op))) => {
            let operator = match op {
                Unsupported::Intersection => '&',
                Unsupported::Complement => '~',
            };
            Err(p.err_at(at, PatternErrorKind::Unsupported { operator }))
        }
        Some((at, Blocker::Named(name))) => Err(p.err_at(at, PatternErrorKind::UnknownNamedAutomaton { name })),
    }
}

impl Parser<'_> {
    fn err_at(&self, pos: usize, kind: PatternErrorKind) -> PatternError {
        PatternError::new(kind, Some(self.base + pos))
    }

    fn more(&self) -> bool {
        self.pos < self.src.len()
    }

    fn peek_char(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek(&self, set: &str) -> bool {
        self.peek_char().is_some_and(|c| set.contains(c))
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek_char() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn next(&mut self) -> PResult<char> {
        match self.peek_char() {
            Some(c) => {
                self.pos += c.len_utf8();
                Ok(c)
            }
            None => Err(self.err_at(self.pos, PatternErrorKind::UnexpectedEnd)),
        }
    }

    fn block(&mut self, at: usize, blocker: Blocker) {
        if self.blocker.as_ref().is_none_or(|(prev, _)| at < *prev) {
            self.blocker = Some((at, blocker));
        }
    }

    fn enter(&mut self, at: usize) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.err_at(at, PatternErrorKind::TooDeep { max: MAX_NESTING }));
        }
        Ok(())
    }

    /// unionexp ::= interexp ( `|` interexp )*
    fn parse_union(&mut self) -> PResult<Node> {
        let mut alts = vec![self.parse_inter()?];
        while self.eat('|') {
            alts.push(self.parse_inter()?);
        }
        Ok(Node::flat(alts, Node::Union))
    }

    /// interexp ::= concatexp ( `&` concatexp )*
    fn parse_inter(&mut self) -> PResult<Node> {
        let mut parts = vec![self.parse_concat()?];
        loop {
            let at = self.pos;
            if !self.eat('&') {
                break;
            }
            self.block(at, Blocker::Unsupported(Unsupported::Intersection));
            parts.push(self.parse_concat()?);
        }
        Ok(Node::flat(parts, Node::Intersection))
    }

    /// concatexp ::= repeatexp+, stopping before `)`, `|` and `&`. The first element is parsed
    /// unconditionally, which is why a leading `)` or `|` is a literal (Lucene quirk).
    fn parse_concat(&mut self) -> PResult<Node> {
        let mut items = vec![self.parse_repeat()?];
        while self.more() && !self.peek(")|&") {
            items.push(self.parse_repeat()?);
        }
        Ok(Node::concat(items))
    }

    /// repeatexp ::= complexp ( `?` | `*` | `+` | `{n}` | `{n,}` | `{n,m}` )*
    fn parse_repeat(&mut self) -> PResult<Node> {
        let saved_depth = self.depth;
        let mut node = self.parse_compl()?;
        while self.peek("?*+{") {
            let at = self.pos;
            self.enter(at)?;
            let (min, max) = if self.eat('?') {
                (0, Some(1))
            } else if self.eat('*') {
                (0, None)
            } else if self.eat('+') {
                (1, None)
            } else {
                self.eat('{');
                let n = self.parse_count()?;
                let m = if self.eat(',') {
                    if self.peek("0123456789") { Some(self.parse_count()?) } else { None }
                } else {
                    Some(n)
                };
                if !self.eat('}') {
                    let found = self.peek_char();
                    return Err(self.err_at(self.pos, PatternErrorKind::Expected { expected: '}', found }));
                }
                (n, m)
            };
            check_work_limit(&node, min, max).map_err(|kind| self.err_at(at, kind))?;
            node = Node::Repeat { sub: Box::new(node), min, max };
        }
        self.depth = saved_depth;
        Ok(node)
    }

    /// A decimal count inside `{…}`; Lucene uses `Integer.parseInt`, which fails past 2^31-1.
    fn parse_count(&mut self) -> PResult<u32> {
        let start = self.pos;
        while self.peek("0123456789") {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.err_at(self.pos, PatternErrorKind::ExpectedInteger));
        }
        parse_java_int(&self.src[start..self.pos]).ok_or_else(|| self.err_at(start, PatternErrorKind::NumberTooLarge))
    }

    /// complexp ::= `~` complexp | charclassexp
    fn parse_compl(&mut self) -> PResult<Node> {
        let at = self.pos;
        if self.eat('~') {
            self.enter(at)?;
            self.block(at, Blocker::Unsupported(Unsupported::Complement));
            let sub = self.parse_compl()?;
            self.depth -= 1;
            return Ok(Node::Complement(Box::new(sub)));
        }
        self.parse_class_exp()
    }

    /// charclassexp ::= `[` `^`? charclass+ `]` | simpleexp
    fn parse_class_exp(&mut self) -> PResult<Node> {
        if !self.eat('[') {
            return self.parse_simple();
        }
        let negated = self.eat('^');
        let mut items = vec![self.parse_class_item()?];
        while self.more() && !self.peek("]") {
            items.push(self.parse_class_item()?);
        }
        if !self.eat(']') {
            return Err(self.err_at(self.pos, PatternErrorKind::Expected { expected: ']', found: None }));
        }
        Ok(Node::Class { negated, items })
    }

    /// charclass ::= `\d`… | `\\` | charexp ( `-` charexp )?
    ///
    /// Lucene quirks kept: a predefined class or `\\` cannot start a range (`[\d-z]` is `\d`,
    /// `-`, `z`); the end of a range goes through `charexp` only, so `[a-\d]` is `a` to `d`;
    /// `[]]` is the class of `]`; `[a-]` is a range up to `]` and so usually an invalid range.
    fn parse_class_item(&mut self) -> PResult<ClassItem> {
        if let Some(item) = self.match_predefined()? {
            return Ok(match item {
                Escaped::Class(p) => ClassItem::Predefined(p),
                Escaped::Backslash => ClassItem::Range('\\', '\\'),
            });
        }
        let at = self.pos;
        let from = self.parse_char_exp()?;
        if !self.eat('-') {
            return Ok(ClassItem::Range(from, from));
        }
        let to = self.parse_char_exp()?;
        if from > to {
            return Err(self.err_at(at, PatternErrorKind::InvalidRange { from, to }));
        }
        Ok(ClassItem::Range(from, to))
    }

    /// Lucene's `matchPredefinedCharacterClass`: after a `\`, `dDsSwW` is a predefined class,
    /// `\` a literal backslash, any other ASCII letter an error (as in `java.util.regex`).
    /// Otherwise the `\` stays consumed and the caller reads the next character literally.
    fn match_predefined(&mut self) -> PResult<Option<Escaped>> {
        let at = self.pos;
        if !self.eat('\\') {
            return Ok(None);
        }
        match self.peek_char() {
            Some('\\') => {
                self.pos += 1;
                Ok(Some(Escaped::Backslash))
            }
            Some(c) => {
                if let Some(p) = Predefined::from_letter(c) {
                    self.pos += 1;
                    Ok(Some(Escaped::Class(p)))
                } else if c.is_ascii_alphabetic() {
                    Err(self.err_at(at, PatternErrorKind::InvalidEscape { letter: c }))
                } else {
                    Ok(None)
                }
            }
            None => Ok(None),
        }
    }

    /// charexp ::= `\`? any character
    fn parse_char_exp(&mut self) -> PResult<char> {
        self.eat('\\');
        self.next()
    }

    /// simpleexp: `.` `#` `@` `"…"` `()` `(…)` `<…>` or a single (escaped) character.
    fn parse_simple(&mut self) -> PResult<Node> {
        let at = self.pos;
        if self.eat('.') {
            Ok(Node::AnyChar)
        } else if self.eat('#') {
            Ok(Node::Empty)
        } else if self.eat('@') {
            Ok(Node::AnyString)
        } else if self.eat('"') {
            let start = self.pos;
            let Some(len) = self.src[start..].find('"') else {
                self.pos = self.src.len();
                return Err(self.err_at(self.pos, PatternErrorKind::Expected { expected: '"', found: None }));
            };
            self.pos = start + len + 1;
            Ok(Node::Literal(self.src[start..start + len].to_owned()))
        } else if self.eat('(') {
            if self.eat(')') {
                return Ok(Node::Literal(String::new()));
            }
            self.enter(at)?;
            let node = self.parse_union()?;
            if !self.eat(')') {
                let found = self.peek_char();
                return Err(self.err_at(self.pos, PatternErrorKind::Expected { expected: ')', found }));
            }
            self.depth -= 1;
            Ok(node)
        } else if self.eat('<') {
            let start = self.pos;
            let Some(len) = self.src[start..].find('>') else {
                self.pos = self.src.len();
                return Err(self.err_at(self.pos, PatternErrorKind::Expected { expected: '>', found: None }));
            };
            self.pos = start + len + 1;
            let text = &self.src[start..start + len];
            if !text.contains('-') {
                self.block(at, Blocker::Named(text.to_owned()));
                return Ok(Node::Named(text.to_owned()));
            }
            // Lucene reports interval errors at the closing `>`.
            parse_interval(text)
                .ok_or_else(|| self.err_at(start + len, PatternErrorKind::InvalidInterval { text: text.to_owned() }))
        } else {
            match self.match_predefined()? {
                Some(Escaped::Class(p)) => Ok(Node::Predefined(p)),
                Some(Escaped::Backslash) => Ok(Node::Literal("\\".to_owned())),
                None => Ok(Node::Literal(self.parse_char_exp()?.to_string())),
            }
        }
    }
}

enum Escaped {
    Class(Predefined),
    Backslash,
}

/// Java's `Integer.parseInt` for the inputs Lucene can hand it: an optional `+`, then one or
/// more digits, at most 2^31-1. (Java also takes non-ASCII decimal digits; this port does not.)
fn parse_java_int(text: &str) -> Option<u32> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: u32 = 0;
    for b in digits.bytes() {
        value = value.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
    }
    (value <= i32::MAX as u32).then_some(value)
}

/// The inside of `<…>` when it holds a `-` (Lucene `parseSimpleExp`): exactly one `-`, not at
/// either end, both sides valid Java ints; bounds are swapped if reversed; the width is fixed
/// when both sides are written with the same number of characters.
fn parse_interval(text: &str) -> Option<Node> {
    let (lo, hi) = text.split_once('-')?;
    if lo.is_empty() || hi.is_empty() || hi.contains('-') {
        return None;
    }
    let (a, b) = (parse_java_int(lo)?, parse_java_int(hi)?);
    let digits = if lo.len() == hi.len() { lo.len() } else { 0 };
    Some(Node::Interval { min: a.min(b), max: a.max(b), digits })
}

/// Lucene refuses to build `x{n}`/`x{n,m}` when (states of x − 1) × max exceeds its default
/// determinize work limit, and `x{n,}`/`x+` when (states − 1) × min does
/// (`RegExp.toAutomatonInternal`, `REGEXP_REPEAT_MIN`/`REGEXP_REPEAT_MINMAX`). The state count
/// is exact for literals and single-character atoms; for other operands it is taken as 2, so
/// this port may accept a repetition of a long composite operand that Lucene would refuse (the
/// NFA size limit still bounds it).
fn check_work_limit(sub: &Node, min: u32, max: Option<u32>) -> Result<(), PatternErrorKind> {
    let count = match (min, max) {
        (0, Some(1)) | (0, None) => return Ok(()), // `?`, `*`, `{0,}`: no check in Lucene
        (_, Some(max)) => max,
        (min, None) => min,
    };
    let states: u64 = match sub {
        Node::Literal(s) => s.chars().count() as u64 + 1,
        Node::AnyString => 1,
        Node::Empty => 0,
        _ => 2,
    };
    let cost = states.saturating_sub(1).saturating_mul(u64::from(count));
    if cost > MAX_REPEAT as u64 {
        return Err(PatternErrorKind::RepeatTooLarge { count, max: MAX_REPEAT });
    }
    Ok(())
}

fn any_char() -> Hir {
    Hir::class(Class::Unicode(ClassUnicode::new([ClassUnicodeRange::new('\0', char::MAX)])))
}

fn any_string() -> Hir {
    Hir::repetition(Repetition { min: 0, max: None, greedy: true, sub: Box::new(any_char()) })
}

fn digit_class(from: u8, to: u8) -> Hir {
    Hir::class(Class::Unicode(ClassUnicode::new([ClassUnicodeRange::new(char::from(from), char::from(to))])))
}

fn digits(n: usize) -> Hir {
    Hir::repetition(Repetition {
        min: n as u32,
        max: Some(n as u32),
        greedy: true,
        sub: Box::new(digit_class(b'0', b'9')),
    })
}

/// Translates the tree to a `Hir`. Only called on trees without unsupported nodes.
fn to_hir(node: &Node) -> Hir {
    match node {
        Node::Empty => Hir::fail(),
        Node::AnyString => any_string(),
        Node::AnyChar => any_char(),
        Node::Literal(s) => Hir::literal(s.as_bytes()),
        Node::Predefined(p) => Hir::class(Class::Unicode(p.class())),
        Node::Class { negated, items } => {
            let mut class = ClassUnicode::empty();
            for item in items {
                match *item {
                    ClassItem::Range(a, b) => class.push(ClassUnicodeRange::new(a, b)),
                    ClassItem::Predefined(p) => class.union(&p.class()),
                }
            }
            // Lucene: `[^…]` is "any code point" minus the class.
            if *negated {
                class.negate();
            }
            Hir::class(Class::Unicode(class))
        }
        Node::Interval { min, max, digits } => interval(*min, *max, *digits),
        Node::Repeat { sub, min, max } => repeat(sub, *min, *max),
        Node::Concat(items) => Hir::concat(items.iter().map(to_hir).collect()),
        Node::Union(items) => Hir::alternation(items.iter().map(to_hir).collect()),
        // Rejected by `parse`; never reached. Failing closed keeps this total.
        Node::Intersection(_) | Node::Complement(_) | Node::Named(_) => Hir::fail(),
    }
}

fn repeat(sub: &Node, min: u32, max: Option<u32>) -> Hir {
    // Lucene 9 `Operations.repeat(a, min, max)` returns the empty language for min > max.
    // (Lucene 10, behind Elasticsearch 9.x, rejects it as "invalid repetition range".)
    if max.is_some_and(|max| min > max) {
        return Hir::fail();
    }
    // Repeating `@` or `#` collapses; doing it here keeps `@{10000}` (which Lucene accepts,
    // its automaton has one state) from exhausting the NFA size limit.
    match sub {
        Node::AnyString if max != Some(0) => return any_string(),
        Node::Empty if min > 0 => return Hir::fail(),
        _ => {}
    }
    Hir::repetition(Repetition { min, max, greedy: true, sub: Box::new(to_hir(sub)) })
}

/// Lucene's `Automata.makeDecimalInterval(min, max, digits)`:
/// - `digits > 0`: exactly `digits` ASCII digits whose value is in `[min, max]` (`<01-12>`
///   matches `07` but not `7`; `<1-9>` matches `7` but not `07`);
/// - `digits == 0`: one or more digits, any number of leading zeros, value in `[min, max]`
///   (`<1-12>` matches `7`, `007` and `12`).
fn interval(min: u32, max: u32, digits: usize) -> Hir {
    if digits > 0 {
        let x = format!("{min:0>digits$}");
        let y = format!("{max:0>digits$}");
        if x.len() != digits || y.len() != digits {
            // Lucene throws here; unreachable for bounds parsed from `digits` characters.
            return Hir::fail();
        }
        return fixed_width(x.as_bytes(), y.as_bytes());
    }
    // Leading zeros, then the canonical spelling of a value in range, grouped by length.
    let mut alts = Vec::new();
    let (mut lo, mut len) = (u64::from(min), decimal_len(u64::from(min)));
    while lo <= u64::from(max) {
        let top = 10u64.pow(len as u32) - 1;
        let hi = top.min(u64::from(max));
        alts.push(fixed_width(lo.to_string().as_bytes(), hi.to_string().as_bytes()));
        lo = top + 1;
        len += 1;
    }
    Hir::concat(vec![
        Hir::repetition(Repetition { min: 0, max: None, greedy: true, sub: Box::new(Hir::literal(*b"0")) }),
        Hir::alternation(alts),
    ])
}

fn decimal_len(n: u64) -> usize {
    n.to_string().len()
}

/// Strings of `x.len()` digits between `x` and `y` (same length, `x <= y`). The shared prefix
/// becomes one literal; what remains is at most 10 digits (values are below 2^31), so the
/// recursion below is shallow.
fn fixed_width(x: &[u8], y: &[u8]) -> Hir {
    let common = x.iter().zip(y).take_while(|(a, b)| a == b).count();
    Hir::concat(vec![Hir::literal(&x[..common]), between(&x[common..], &y[common..])])
}

fn between(x: &[u8], y: &[u8]) -> Hir {
    match (x.split_first(), y.split_first()) {
        (Some((&cx, xs)), Some((&cy, ys))) => {
            if cx == cy {
                return Hir::concat(vec![Hir::literal([cx]), between(xs, ys)]);
            }
            let mut alts = vec![Hir::concat(vec![Hir::literal([cx]), at_least(xs)])];
            if cx + 1 < cy {
                alts.push(Hir::concat(vec![digit_class(cx + 1, cy - 1), digits(xs.len())]));
            }
            alts.push(Hir::concat(vec![Hir::literal([cy]), at_most(ys)]));
            Hir::alternation(alts)
        }
        _ => Hir::empty(),
    }
}

/// Strings of `x.len()` digits that are `>= x`.
fn at_least(x: &[u8]) -> Hir {
    match x.split_first() {
        None => Hir::empty(),
        Some(_) if x.iter().all(|&c| c == b'0') => digits(x.len()),
        Some((&c, rest)) => {
            let mut alts = vec![Hir::concat(vec![Hir::literal([c]), at_least(rest)])];
            if c < b'9' {
                alts.push(Hir::concat(vec![digit_class(c + 1, b'9'), digits(rest.len())]));
            }
            Hir::alternation(alts)
        }
    }
}

/// Strings of `y.len()` digits that are `<= y`.
fn at_most(y: &[u8]) -> Hir {
    match y.split_first() {
        None => Hir::empty(),
        Some(_) if y.iter().all(|&c| c == b'9') => digits(y.len()),
        Some((&c, rest)) => {
            let mut alts = vec![Hir::concat(vec![Hir::literal([c]), at_most(rest)])];
            if c > b'0' {
                alts.push(Hir::concat(vec![digit_class(b'0', c - 1), digits(rest.len())]));
            }
            Hir::alternation(alts)
        }
    }
}

/// Whether the node matches every string.
fn is_any(node: &Node) -> bool {
    match node {
        Node::AnyString => true,
        Node::Repeat { sub, min: 0, max: None } => matches!(**sub, Node::AnyChar) || is_any(sub),
        // `@{n,m}` is any string as long as the bounds are sane and allow one copy.
        Node::Repeat { sub, min, max } => max.is_none_or(|max| max >= *min && max > 0) && is_any(sub),
        Node::Concat(items) => items.iter().all(is_any),
        Node::Union(items) => items.iter().any(is_any),
        _ => false,
    }
}

/// A literal that every match contains (the longest found in a cheap walk).
fn required(node: &Node) -> Option<&str> {
    match node {
        Node::Literal(s) if !s.is_empty() => Some(s),
        Node::Concat(items) => items.iter().filter_map(required).max_by_key(|s| s.len()),
        Node::Repeat { sub, min, max } if *min > 0 && max.is_none_or(|max| max >= *min) => required(sub),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(body: &str) -> LuceneRegex {
        match LuceneRegex::new(body, 1) {
            Ok(re) => re,
            Err(e) => panic!("`{body}` should compile: {e}"),
        }
    }

    fn err(body: &str) -> PatternError {
        match LuceneRegex::new(body, 1) {
            Ok(_) => panic!("`{body}` should not compile"),
            Err(e) => e,
        }
    }

    /// (regex body, input, expected)
    const DIALECT: &[(&str, &str, bool)] = &[
        // whole-string matching
        ("abc", "abc", true),
        ("abc", "xabc", false),
        ("abc", "abcx", false),
        ("", "", true),
        ("", "a", false),
        // `.` is one code point, newline included
        (".", "a", true),
        (".", "\n", true),
        (".", "😀", true),
        (".", "ab", false),
        // astral characters are one code point in a regex (unlike in a wildcard)
        ("😀+", "😀😀", true),
        ("\"😀\"", "😀", true),
        ("[😀-😂]", "😁", true),
        (".", "", false),
        // repetition
        ("a?", "", true),
        ("a?", "aa", false),
        ("a*", "aaa", true),
        ("a+", "", false),
        ("a+", "aa", true),
        ("a{2}", "aa", true),
        ("a{2}", "aaa", false),
        ("a{2,}", "aaaa", true),
        ("a{2,}", "a", false),
        ("a{1,2}", "aa", true),
        ("a{1,2}", "aaa", false),
        ("a{0}", "", true),
        ("a{3,2}", "aa", false),
        ("a{3,2}", "aaa", false),
        ("a**", "aa", true),
        ("a*?", "aa", true),
        // a repeat binds to the preceding atom only
        ("ab*", "abb", true),
        ("ab*", "abab", false),
        ("(ab)*", "abab", true),
        // union has the lowest precedence
        ("ab|cd", "ab", true),
        ("ab|cd", "cd", true),
        ("ab|cd", "abd", false),
        ("a(b|c)d", "acd", true),
        ("a|b|c", "c", true),
        // odd but valid Lucene: leading operators are literals
        ("*", "*", true),
        ("*a", "*a", true),
        ("+", "+", true),
        ("?", "?", true),
        ("{", "{", true),
        ("{abc}", "{abc}", true),
        ("|a", "|a", true),
        ("a||b", "|b", true),
        ("a||b", "a", true),
        (")", ")", true),
        ("(|)", "|", true),
        ("]", "]", true),
        ("-", "-", true),
        // not anchors
        ("^a$", "^a$", true),
        ("^a$", "a", false),
        // empty group and quoting
        ("()", "", true),
        ("a()b", "ab", true),
        ("\"a.b\"", "a.b", true),
        ("\"a.b\"", "axb", false),
        ("\"\"", "", true),
        ("x\"@#\"y", "x@#y", true),
        ("\"a\"+", "aaa", true),
        // escapes
        ("\\.", ".", true),
        ("\\.", "a", false),
        ("\\@", "@", true),
        ("\\#", "#", true),
        ("\\&", "&", true),
        ("\\~", "~", true),
        ("\\<", "<", true),
        ("\\\\", "\\", true),
        ("\\\"", "\"", true),
        ("\\*", "*", true),
        ("\\é", "é", true),
        (".*\\@example\\.com", "bob@example.com", true),
        (".*\\@example\\.com", "bobexample.com", false),
        (".*\\@avengers\\.(net|org)", "romanov@avengers.org", true),
        // `@` is any string, `#` the empty language
        ("@", "", true),
        ("@", "anything at all", true),
        (".*@example\\.com", "bob@example.com", true),
        (".*@example\\.com", "bobexample.com", true),
        ("a@", "abc", true),
        ("a@", "ba", false),
        ("#", "", false),
        ("#", "#", false),
        ("a|#", "a", true),
        ("#*", "", true),
        ("@{3}", "xyz", true),
        // classes
        ("[abc]", "b", true),
        ("[abc]", "d", false),
        ("[a-c]+", "abcab", true),
        ("[^a-c]", "d", true),
        ("[^a-c]", "b", false),
        ("[^a]", "😀", true),
        ("[^a]", "\n", true),
        ("[]]", "]", true),
        ("[^]]", "]", false),
        ("[-a]", "-", true),
        ("[a\\-z]", "-", true),
        ("[a\\-z]", "b", false),
        ("[\\]]", "]", true),
        ("[\\\\]", "\\", true),
        ("[.]", ".", true),
        ("[.]", "a", false),
        ("[@#&~]", "&", true),
        ("[*]", "*", true),
        ("[a-\\d]", "c", true), // the range end is a plain escape: a..d
        ("[\\d-z]", "-", true), // a predefined class cannot start a range
        ("[\\d-z]", "5", true),
        ("[\\d-z]", "m", false),
        ("[\\.-z]", "m", true), // Lucene 9: an escaped char can start a range
        ("cn=[a-z]+,dc=example,dc=com", "cn=bob,dc=example,dc=com", true),
        // predefined classes: ASCII only
        ("\\d+", "0123456789", true),
        ("\\d", "a", false),
        ("\\d", "٣", false),
        ("\\D", "a", true),
        ("\\D", "1", false),
        ("\\s", " ", true),
        ("\\s", "\t", true),
        ("\\s", "\n", true),
        ("\\s", "\r", true),
        ("\\s", "\u{b}", false),
        ("\\s", "\u{a0}", false),
        ("\\S", "a", true),
        ("\\S", " ", false),
        ("\\w+", "a_Z9", true),
        ("\\w", "é", false),
        ("\\w", "-", false),
        ("\\W", "-", true),
        ("\\W", "_", false),
        ("[\\d_]+", "1_2", true),
        ("[^\\d]", "a", true),
        ("[^\\d]", "1", false),
        ("[\\W]", "a", false),
        // intervals, variable width (bounds written with different lengths)
        ("user<1-12>", "user1", true),
        ("user<1-12>", "user12", true),
        ("user<1-12>", "user012", true),
        ("user<1-12>", "user0007", true),
        ("user<1-12>", "user13", false),
        ("user<1-12>", "user0", false),
        ("user<1-12>", "user", false),
        ("<0-10>", "0", true),
        ("<0-10>", "000", true),
        ("<0-10>", "", false),
        ("<12-1>", "7", true), // swapped
        ("<5-123>", "99", true),
        ("<5-123>", "4", false),
        ("<5-123>", "124", false),
        ("<5-123>", "0123", true),
        ("<0-2147483647>", "2147483647", true),
        ("<0-2147483647>", "2147483648", false),
        ("<0-2147483647>", "0002147483647", true),
        // intervals, fixed width (bounds written with the same number of characters)
        ("<01-12>", "07", true),
        ("<01-12>", "7", false),
        ("<01-12>", "12", true),
        ("<01-12>", "13", false),
        ("<1-9>", "7", true),
        ("<1-9>", "07", false),
        ("<00-99>", "05", true),
        ("<00-99>", "5", false),
        ("<000-250>", "199", true),
        ("<000-250>", "251", false),
        ("<000-250>", "042", true),
        ("<+1-10>", "01", true), // Java parseInt accepts `+`; both sides have 2 chars
        ("<+1-10>", "1", false),
        ("<123-456>", "299", true),
        ("<123-456>", "122", false),
        ("<123-456>", "457", false),
        ("<123-456>", "400", true),
        // lucene literal `<` needs escaping, but `>` alone is literal
        ("a>", "a>", true),
    ];

    #[test]
    fn dialect() {
        for &(body, input, want) in DIALECT {
            assert_eq!(re(body).is_match(input), want, "/{body}/ on `{input}`");
        }
    }

    #[test]
    fn intervals_match_reference_on_all_small_numbers() {
        let reference = |min: u32, max: u32, digits: usize, s: &str| -> bool {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            if digits > 0 && s.len() != digits {
                return false;
            }
            let v: u64 = s.trim_start_matches('0').parse().unwrap_or(0);
            (u64::from(min)..=u64::from(max)).contains(&v)
        };
        let specs = [
            "<0-9>",
            "<0-99>",
            "<1-12>",
            "<7-7>",
            "<10-99>",
            "<5-123>",
            "<00-99>",
            "<01-12>",
            "<007-130>",
            "<19-20>",
            "<0-0>",
            "<0-00>",
            "<100-999>",
            "<001-099>",
            "<1-1000>",
        ];
        let mut inputs = vec![String::new()];
        for n in 0..1100u32 {
            inputs.push(n.to_string());
            inputs.push(format!("{n:02}"));
            inputs.push(format!("{n:03}"));
            inputs.push(format!("{n:04}"));
        }
        for spec in specs {
            let Ok(Node::Interval { min, max, digits }) = parse(spec, 1) else {
                panic!("{spec} should be an interval");
            };
            let compiled = re(spec);
            for s in &inputs {
                assert_eq!(compiled.is_match(s), reference(min, max, digits, s), "/{spec}/ on `{s}`");
            }
        }
    }

    #[test]
    fn syntax_errors_with_positions() {
        use PatternErrorKind as K;
        // Offsets are bytes in the rule string `/body/`, so body offset + 1.
        let cases: Vec<(&str, K, usize)> = vec![
            ("[a-", K::UnexpectedEnd, 4),
            ("a|", K::UnexpectedEnd, 3),
            ("\\", K::UnexpectedEnd, 2),
            ("a~", K::UnexpectedEnd, 3),
            ("[", K::UnexpectedEnd, 2),
            ("[]", K::Expected { expected: ']', found: None }, 3),
            ("[^]", K::Expected { expected: ']', found: None }, 4),
            ("[ab", K::Expected { expected: ']', found: None }, 4),
            ("(a", K::Expected { expected: ')', found: None }, 3),
            ("(a|)", K::Expected { expected: ')', found: None }, 5),
            ("\"ab", K::Expected { expected: '"', found: None }, 4),
            ("<1-2", K::Expected { expected: '>', found: None }, 5),
            ("a{2", K::Expected { expected: '}', found: None }, 4),
            ("a{2,3x}", K::Expected { expected: '}', found: Some('x') }, 6),
            ("a{", K::ExpectedInteger, 3),
            ("a{}", K::ExpectedInteger, 3),
            ("a{,2}", K::ExpectedInteger, 3),
            ("a)", K::TrailingInput { found: Some(')') }, 2),
            ("())", K::TrailingInput { found: Some(')') }, 3),
            ("[z-a]", K::InvalidRange { from: 'z', to: 'a' }, 2),
            ("[a-]", K::InvalidRange { from: 'a', to: ']' }, 2),
            ("\\q", K::InvalidEscape { letter: 'q' }, 1),
            ("a\\b", K::InvalidEscape { letter: 'b' }, 2),
            ("[\\n]", K::InvalidEscape { letter: 'n' }, 2),
            ("\\Z", K::InvalidEscape { letter: 'Z' }, 1),
            ("<-5>", K::InvalidInterval { text: "-5".into() }, 4),
            ("<5->", K::InvalidInterval { text: "5-".into() }, 4),
            ("<1-2-3>", K::InvalidInterval { text: "1-2-3".into() }, 7),
            ("<a-3>", K::InvalidInterval { text: "a-3".into() }, 5),
            ("<1-99999999999>", K::InvalidInterval { text: "1-99999999999".into() }, 15),
            ("a{99999999999}", K::NumberTooLarge, 3),
            ("a{2147483648}", K::NumberTooLarge, 3),
            ("a{10001}", K::RepeatTooLarge { count: 10001, max: MAX_REPEAT }, 2),
            ("a{1,10001}", K::RepeatTooLarge { count: 10001, max: MAX_REPEAT }, 2),
            ("a{10001,}", K::RepeatTooLarge { count: 10001, max: MAX_REPEAT }, 2),
            ("(abc){5001}", K::RepeatTooLarge { count: 5001, max: MAX_REPEAT }, 6),
            ("<name>", K::UnknownNamedAutomaton { name: "name".into() }, 1),
            ("<>", K::UnknownNamedAutomaton { name: String::new() }, 1),
            ("a&b", K::Unsupported { operator: '&' }, 2),
            ("~a", K::Unsupported { operator: '~' }, 1),
            ("x(a|~b)", K::Unsupported { operator: '~' }, 5),
            ("~a&b", K::Unsupported { operator: '~' }, 1),
            ("a&<x>", K::Unsupported { operator: '&' }, 2),
            // a syntax error anywhere wins over an unsupported operator, as in Lucene
            ("~a(", K::UnexpectedEnd, 4),
        ];
        for (body, kind, offset) in cases {
            let e = err(body);
            assert_eq!((e.kind(), e.offset()), (&kind, Some(offset)), "/{body}/: {e}");
        }
    }

    #[test]
    fn literal_ampersand_and_tilde_forms() {
        // `&` that starts an expression is a plain character in Lucene.
        assert!(re("&").is_match("&"));
        assert!(re("&a").is_match("&a"));
        assert!(re("(&)").is_match("&"));
        // Inside classes and quotes neither is an operator.
        assert!(re("[&~]+").is_match("~&"));
        assert!(re("\"a&~b\"").is_match("a&~b"));
        // `a&&b` would be a & "&b": still the unsupported operator.
        assert_eq!(err("a&&b").kind(), &PatternErrorKind::Unsupported { operator: '&' });
    }

    #[test]
    fn repetition_limits() {
        assert!(re("a{10000}").is_match(&"a".repeat(10_000)));
        assert!(re(".{0,4000}").is_match("xyz"));
        // Lucene takes this (2 states × 10000), but a Unicode `.` is several NFA states per
        // copy here, so the NFA size limit refuses it first.
        assert!(matches!(err(".{0,10000}").kind(), PatternErrorKind::TooComplex { .. }));
        assert!(re("(abc){3333}").is_match(&"abc".repeat(3333)));
        assert!(re("@{100000}").is_match("anything"));
        assert!(!re("#{100000}").is_match(""));
        assert!(re("(){100000}").is_match(""));
        assert!(re("a{0,}").is_match("aaa"));
        assert_eq!(err("(abc){3334}").offset(), Some(6));
    }

    #[test]
    fn nesting_limit() {
        let ok = format!("{}a{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(re(&ok).is_match("a"));
        let deep = format!("{}a{}", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1));
        let e = err(&deep);
        assert_eq!(e.kind(), &PatternErrorKind::TooDeep { max: MAX_NESTING });
        assert_eq!(e.offset(), Some(1 + MAX_NESTING));
        let stars = format!("a{}", "*".repeat(MAX_NESTING + 1));
        assert_eq!(err(&stars).kind(), &PatternErrorKind::TooDeep { max: MAX_NESTING });
        assert!(re(&format!("a{}", "*".repeat(MAX_NESTING))).is_match("aaa"));
        let tildes = format!("{}a", "~".repeat(MAX_NESTING + 1));
        assert_eq!(err(&tildes).kind(), &PatternErrorKind::TooDeep { max: MAX_NESTING });
        // Unbounded flat inputs do not recurse.
        let wide = "a|".repeat(2000) + "a";
        assert!(re(&wide).is_match("a"));
    }

    #[test]
    fn nfa_size_limit() {
        // Each level multiplies the automaton: this one is far past the limit.
        let e = err("((((.{100}){100}){100}){100})");
        assert_eq!(e.kind(), &PatternErrorKind::TooComplex { limit: MAX_NFA_SIZE });
    }

    #[test]
    fn shapes() {
        assert_eq!(re("@").shape(), Shape::Any);
        assert_eq!(re(".*").shape(), Shape::Any);
        assert_eq!(re("@.*").shape(), Shape::Any);
        assert_eq!(re("a|@").shape(), Shape::Any);
        assert_eq!(re("(.*)*").shape(), Shape::Any);
        assert_eq!(re("abc.*").shape(), Shape::Prefix("abc"));
        assert_eq!(re("abc@").shape(), Shape::Prefix("abc"));
        assert_eq!(re(".*\\@example\\.com").shape(), Shape::Suffix("@example.com"));
        assert_eq!(re(".*fghij.*").shape(), Shape::Other { required: Some("fghij") });
        assert_eq!(re("ab[0-9]+cdef(x|y)").shape(), Shape::Other { required: Some("cdef") });
        assert_eq!(re("(abc)+").shape(), Shape::Other { required: Some("abc") });
        assert_eq!(re("(abc)?").shape(), Shape::Other { required: None });
        assert_eq!(re("a|b").shape(), Shape::Other { required: None });
        assert_eq!(re("").shape(), Shape::Other { required: None });
        assert_eq!(re("abc").shape(), Shape::Other { required: Some("abc") });
    }

    #[test]
    fn merged_literals() {
        assert_eq!(parse("ab\"cd\"e()", 1).ok(), Some(Node::Literal("abcde".into())));
        assert_eq!(parse("", 1).ok(), Some(Node::Literal(String::new())));
    }
}
