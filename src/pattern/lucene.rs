//! Lucene's `RegExp` dialect, as Elasticsearch uses it for `/…/` rule values.
//!
//! Elasticsearch builds `new RegExp(body)` (all optional syntax flags on) and runs the
//! determinized automaton over the whole value, one code point at a time. No Rust crate parses
//! this dialect, and it differs from PCRE-style syntax in ways that change results (`@` is any
//! string, `<1-12>` a number range, `^`/`$` are literals, a leading `*` is a literal, …), so
//! the parser below is a hand-written copy of the recursive descent in Lucene 9's
//! `lucene/core/src/java/org/apache/lucene/util/automaton/RegExp.java` (the version behind
//! Elasticsearch 8.x), with loops instead of recursion where the grammar allows and a nesting
//! limit where it does not. A tree without `&` or `~` is then turned into a `regex_syntax`
//! [`Hir`] directly (no re-escaping into another syntax) and compiled with a `regex_automata`
//! meta regex, anchored at both ends. regex-automata cannot intersect or complement, so a tree
//! with `&` or `~` is compiled by the `dfa` module into a minimal DFA over code points, built as
//! Lucene builds it (the parts without those operators still come from the same `Hir`); see
//! [`MAX_DFA_STATES`] for its bound. Both engines match in time linear in the input.
//!
//! Grammar, loosest binding first: `a|b` union, `a&b` intersection, concatenation, postfix
//! `? * + {n} {n,} {n,m}`, prefix `~` complement (of the next complement or atom, so `~a*` is
//! `(~a)*` and `~~a` is `a`); atoms `.` (any code point, newline too), `#`
//! (empty language), `@` (any string), `"…"` (literal text), `()` (empty string), `(…)`,
//! `<n-m>` (decimal interval), `<name>` (named automaton), `[…]`/`[^…]` classes with `a-z`
//! ranges, `\d \D \s \S \w \W` (ASCII only), `\\`, `\x` (literal x). A character that cannot
//! start anything else is a literal, including a leading `*`, `?`, `+`, `{`, `|` or `)`, and an
//! `&` where an expression starts (`&a`, `a|&`, `a&&b` is `a` and `&b`); `&` and `~` are plain
//! characters inside `[…]` (Lucene 9 has no `&&` class intersection). An `&` or `~` with nothing
//! after it is an error (`a&`, `a~`); before a `)` it takes the `)` as a literal operand, so
//! `(a&)` lacks its closing parenthesis and `(a&))` is `a` and `)`.
//!
//! Semantics, as Lucene's automata: `a&b` matches what both match, `~a` every string of code
//! points that `a` does not match (the empty string included), `[^…]` one code point outside
//! the class.
//!
//! Version notes. Elasticsearch 8.x runs Lucene 9, whose parser this follows. Elasticsearch 9.x
//! runs Lucene 10 and passes `RegExp.ALL | RegExp.DEPRECATED_COMPLEMENT`, so `~` keeps its
//! meaning there; Lucene 10 also rejects `{n,m}` with `n > m` (Lucene 9: the empty language)
//! and reads `[\.-z]` as three characters (Lucene 9: the range `.` to `z`).
//! Positions are byte offsets in the rule value; Lucene's messages count UTF-16 units of the
//! body.
//!
//! `<name>` is always an error, as in Elasticsearch, which passes no automaton provider.

use regex_automata::meta;
use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, Look, Repetition};

use super::dfa::{self, Alphabet, Automaton, Budget, BuildError, Cuts, Dfa, Frag, Nfa};
use super::{MAX_DFA_STATES, MAX_NESTING, MAX_NFA_SIZE, MAX_REPEAT, PatternError, PatternErrorKind, Shape};

/// How many states the DFA of a regex without `&` or `~` may have. Lucene stops determinizing
/// once the NFA states of all subsets it made add up to ten times its work limit of 10 000;
/// every subset holds at least one, so no pattern Lucene accepts needs more states than this,
/// and the blow-ups it refuses (`.*a.{20}`, `[ac]*a[ac]{50,200}`) need far more. A linear
/// pattern such as `a{10000}` passes, as in Lucene.
const MAX_DETERMINIZED_STATES: usize = 10 * MAX_DFA_STATES;

/// A compiled Lucene regular expression (the body of a `/…/` rule value).
#[derive(Debug, Clone)]
pub(super) struct LuceneRegex {
    ast: Node,
    engine: Engine,
}

#[derive(Debug, Clone)]
enum Engine {
    /// Trees without `&` and `~`.
    Meta(meta::Regex),
    /// Trees with `&` or `~`; `universal` when it matches every string.
    Dfa { automaton: Box<Automaton>, universal: bool },
}

impl LuceneRegex {
    /// Parses and compiles `body`; `base` is the byte offset of `body` in the rule string, used
    /// for error positions.
    pub(super) fn new(body: &str, base: usize) -> Result<Self, PatternError> {
        let ast = parse(body, base)?;
        if has_boolean_ops(&ast) {
            let automaton = build_automaton(&ast, MAX_DFA_STATES).map_err(|kind| PatternError::new(kind, None))?;
            let universal = automaton.is_universal();
            return Ok(Self { ast, engine: Engine::Dfa { automaton: Box::new(automaton), universal } });
        }
        let hir = Hir::concat(vec![Hir::look(Look::Start), to_hir(&ast), Hir::look(Look::End)]);
        let config = meta::Config::new().nfa_size_limit(Some(MAX_NFA_SIZE));
        let regex = meta::Builder::new().configure(config).build_from_hir(&hir).map_err(|e| {
            let kind = match e.size_limit() {
                Some(limit) => PatternErrorKind::TooComplex { limit },
                None => PatternErrorKind::Internal { message: e.to_string() },
            };
            PatternError::new(kind, None)
        })?;
        // Elasticsearch determinizes every regex and refuses one whose
        // determinization exceeds Lucene's work limit (its own test:
        // `[ac]*a[ac]{50,200}`), so the DFA is built once here under a like
        // bound; matching still goes to regex-automata, whose literal
        // prefilters the program's indexes use.
        build_automaton(&ast, MAX_DETERMINIZED_STATES).map_err(|kind| PatternError::new(kind, None))?;
        Ok(Self { ast, engine: Engine::Meta(regex) })
    }

    pub(super) fn is_match(&self, input: &str) -> bool {
        match &self.engine {
            Engine::Meta(regex) => regex.is_match(input),
            Engine::Dfa { automaton, .. } => automaton.is_match(input),
        }
    }

    pub(super) fn shape(&self) -> Shape<'_> {
        if is_any(&self.ast) || matches!(self.engine, Engine::Dfa { universal: true, .. }) {
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

/// The parsed expression. Concatenations, unions and intersections are flat, and adjacent
/// literals are merged (as Lucene's `makeConcatenation` does), so depth only grows with `(`,
/// `~` and postfix operators, all of which the parser counts against [`MAX_NESTING`].
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
    /// `a&b&…`: strings every part matches.
    Intersection(Vec<Node>),
    /// `~a`: strings `a` does not match.
    Complement(Box<Node>),
    /// `<name>`: parsed so that syntax errors behind it are still reported as Lucene does, but
    /// `parse` rejects a tree that holds one.
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

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    /// Byte offset of `src` in the rule string.
    base: usize,
    depth: usize,
    /// The first named automaton `<name>`, which parses but cannot be compiled.
    named: Option<(usize, String)>,
}

type PResult<T> = Result<T, PatternError>;

fn parse(src: &str, base: usize) -> PResult<Node> {
    let mut p = Parser { src, pos: 0, base, depth: 0, named: None };
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
    match p.named.take() {
        None => Ok(node),
        Some((at, name)) => Err(p.err_at(at, PatternErrorKind::UnknownNamedAutomaton { name })),
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
    ///
    /// Lucene recurses to the right (`concatexp & interexp`); intersection is associative, so a
    /// flat list means the same. After an `&` a concatexp must follow: `a&` ends too early.
    fn parse_inter(&mut self) -> PResult<Node> {
        let mut parts = vec![self.parse_concat()?];
        while self.eat('&') {
            parts.push(self.parse_concat()?);
        }
        Ok(Node::flat(parts, Node::Intersection))
    }

    /// concatexp ::= repeatexp+, stopping before `)`, `|` and `&`. The first element is parsed
    /// unconditionally, which is why a leading `)`, `|` or `&` is a literal (Lucene quirk).
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
    ///
    /// The postfix operators bind looser, so `~a*` is `(~a)*` (Lucene's `parseRepeatExp` calls
    /// this first, then applies them).
    fn parse_compl(&mut self) -> PResult<Node> {
        let at = self.pos;
        if self.eat('~') {
            self.enter(at)?;
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
                if self.named.is_none() {
                    self.named = Some((at, text.to_owned()));
                }
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
        Node::Class { negated, items } => Hir::class(Class::Unicode(class_set(*negated, items))),
        Node::Interval { min, max, digits } => interval(*min, *max, *digits),
        Node::Repeat { sub, min, max } => repeat(sub, *min, *max),
        Node::Concat(items) => Hir::concat(items.iter().map(to_hir).collect()),
        Node::Union(items) => Hir::alternation(items.iter().map(to_hir).collect()),
        // `&` and `~` go to `build_automaton` instead, and `parse` rejects `<name>`; never
        // reached. Failing closed keeps this total.
        Node::Intersection(_) | Node::Complement(_) | Node::Named(_) => Hir::fail(),
    }
}

/// The code points of a `[…]` or `[^…]` class. Lucene: `[^…]` is "any code point" minus the
/// class.
fn class_set(negated: bool, items: &[ClassItem]) -> ClassUnicode {
    let mut class = ClassUnicode::empty();
    for item in items {
        match *item {
            ClassItem::Range(a, b) => class.push(ClassUnicodeRange::new(a, b)),
            ClassItem::Predefined(p) => class.union(&p.class()),
        }
    }
    if negated {
        class.negate();
    }
    class
}

/// Whether the tree uses `&` or `~`, which only `build_automaton` can compile.
fn has_boolean_ops(node: &Node) -> bool {
    match node {
        Node::Intersection(_) | Node::Complement(_) => true,
        Node::Repeat { sub, .. } => has_boolean_ops(sub),
        Node::Concat(items) | Node::Union(items) => items.iter().any(has_boolean_ops),
        _ => false,
    }
}

/// Compiles a tree with `&` or `~` into a minimal DFA (regex-automata has neither operator),
/// operator by operator as Lucene's `RegExp.toAutomatonInternal` does. Recursion follows the
/// tree, whose depth the parser bounds with [`MAX_NESTING`].
fn build_automaton(ast: &Node, max_states: usize) -> Result<Automaton, PatternErrorKind> {
    let mut cuts = Cuts::default();
    collect_cuts(ast, &mut cuts);
    let alphabet = Alphabet::new(cuts);
    let mut budget = Budget::with_states(max_states);
    let dfa = dfa_of(ast, &alphabet, &mut budget).map_err(|e| match e {
        BuildError::TooLarge => PatternErrorKind::AutomatonTooLarge { max: max_states },
        BuildError::Unexpected(what) => PatternErrorKind::Internal { message: format!("unexpected {what}") },
    })?;
    Ok(Automaton::new(alphabet, dfa))
}

/// Every boundary between code points that some part of the tree tells apart, so that the
/// alphabet's classes never straddle one.
fn collect_cuts(node: &Node, cuts: &mut Cuts) {
    let mut class = |class: &ClassUnicode| {
        for r in class.ranges() {
            cuts.range(r.start(), r.end());
        }
    };
    match node {
        Node::Empty | Node::AnyString | Node::AnyChar | Node::Named(_) => {}
        Node::Literal(s) => s.chars().for_each(|c| cuts.range(c, c)),
        Node::Class { negated, items } => class(&class_set(*negated, items)),
        Node::Predefined(p) => class(&p.class()),
        // Intervals are built from single digits and digit ranges.
        Node::Interval { .. } => ('0'..='9').for_each(|d| cuts.range(d, d)),
        Node::Repeat { sub, .. } | Node::Complement(sub) => collect_cuts(sub, cuts),
        Node::Concat(items) | Node::Union(items) | Node::Intersection(items) => {
            items.iter().for_each(|item| collect_cuts(item, cuts));
        }
    }
}

/// The minimal DFA of `node`.
fn dfa_of(node: &Node, alphabet: &Alphabet, budget: &mut Budget) -> Result<Dfa, BuildError> {
    let dfa = match node {
        Node::Intersection(parts) => {
            let Some((first, rest)) = parts.split_first() else {
                return Ok(dfa::universal(alphabet.len()));
            };
            let mut acc = dfa_of(first, alphabet, budget)?;
            for part in rest {
                let next = dfa_of(part, alphabet, budget)?;
                acc = dfa::minimize(&dfa::intersect(&acc, &next, budget)?, budget)?;
            }
            return Ok(acc);
        }
        Node::Complement(sub) => dfa::complement(&dfa_of(sub, alphabet, budget)?, budget)?,
        _ => {
            let mut nfa = Nfa::default();
            let frag = match node {
                Node::Union(items) => {
                    let parts = frags_of(items, &mut nfa, alphabet, budget)?;
                    nfa.union(parts, budget)?
                }
                Node::Interval { .. } => nfa.hir(&to_hir(node), alphabet, budget)?,
                _ => frag_of(node, &mut nfa, alphabet, budget)?,
            };
            dfa::determinize(&nfa, frag, alphabet.len(), budget)?
        }
    };
    dfa::minimize(&dfa, budget)
}

/// `node` as a piece of `nfa`. Intersections, complements, unions and numeric intervals become
/// their minimal DFA first, as Lucene minimizes what each operator builds: a union embedded as
/// a trie keeps the subsets of what surrounds it small (`~(.*(w1|w2|…|w500).*)`), and an
/// interval's `0*` prefix, left in the NFA under a repetition, made determinizing
/// `<1-12>*\d{8}+` cost more than the bound allows. Other leaves, and repetitions of them, go
/// through the same `Hir` as the regex-automata engine.
fn frag_of(node: &Node, nfa: &mut Nfa, alphabet: &Alphabet, budget: &mut Budget) -> Result<Frag, BuildError> {
    match node {
        Node::Intersection(_) | Node::Complement(_) | Node::Union(_) | Node::Interval { .. } => {
            let dfa = dfa_of(node, alphabet, budget)?;
            nfa.embed(&dfa, budget)
        }
        Node::Concat(items) => {
            let parts = frags_of(items, nfa, alphabet, budget)?;
            nfa.concat(parts, budget)
        }
        Node::Repeat { sub, min, max }
            if matches!(**sub, Node::Concat(_) | Node::Union(_) | Node::Interval { .. }) || has_boolean_ops(sub) =>
        {
            let frag = frag_of(sub, nfa, alphabet, budget)?;
            nfa.repeat(frag, *min, *max, budget)
        }
        _ => nfa.hir(&to_hir(node), alphabet, budget),
    }
}

fn frags_of(items: &[Node], nfa: &mut Nfa, alphabet: &Alphabet, budget: &mut Budget) -> Result<Vec<Frag>, BuildError> {
    items.iter().map(|n| frag_of(n, nfa, alphabet, budget)).collect()
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

/// Whether the node matches every string (`false` when unsure).
fn is_any(node: &Node) -> bool {
    match node {
        Node::AnyString => true,
        Node::Repeat { sub, min: 0, max: None } => matches!(**sub, Node::AnyChar) || is_any(sub),
        // `@{n,m}` is any string as long as the bounds are sane and allow one copy.
        Node::Repeat { sub, min, max } => max.is_none_or(|max| max >= *min && max > 0) && is_any(sub),
        Node::Concat(items) | Node::Intersection(items) => items.iter().all(is_any),
        Node::Union(items) => items.iter().any(is_any),
        Node::Complement(sub) => is_nothing(sub),
        _ => false,
    }
}

/// Whether the node matches no string at all (`false` when unsure).
fn is_nothing(node: &Node) -> bool {
    match node {
        Node::Empty => true,
        Node::Repeat { sub, min, max } => max.is_some_and(|max| *min > max) || (*min > 0 && is_nothing(sub)),
        Node::Concat(items) | Node::Intersection(items) => items.iter().any(is_nothing),
        Node::Union(items) => items.iter().all(is_nothing),
        Node::Complement(sub) => is_any(sub),
        _ => false,
    }
}

/// A literal that every match contains (the longest found in a cheap walk). Every part of an
/// intersection must match, so any part's literal is required; a complement requires nothing.
fn required(node: &Node) -> Option<&str> {
    match node {
        Node::Literal(s) if !s.is_empty() => Some(s),
        Node::Concat(items) | Node::Intersection(items) => items.iter().filter_map(required).max_by_key(|s| s.len()),
        Node::Repeat { sub, min, max } if *min > 0 && max.is_none_or(|max| max >= *min) => required(sub),
        _ => None,
    }
}

/// What the compiled engine, the crate's own DFA and the slow matcher say
/// about each input, for the `lucene_match` fuzz target; `None` when `body`
/// does not compile (bad syntax or over a budget, both legitimate).
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn verdicts(body: &str, inputs: &[&str]) -> Option<Vec<Verdict>> {
    let ast = parse(body, 1).ok()?;
    let compiled = LuceneRegex::new(body, 1).ok()?;
    // A tree without `&`/`~` may still be too big for the own DFA's budget.
    let own = build_automaton(&ast, MAX_DFA_STATES).ok();
    let verdicts = inputs
        .iter()
        .map(|input| Verdict {
            compiled: compiled.is_match(input),
            own: own.as_ref().map(|own| own.is_match(input)),
            slow: slow::oracle(&ast, input),
        })
        .collect();
    Some(verdicts)
}

/// One input's answers, see [`verdicts`].
#[cfg(any(test, feature = "fuzzing"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The engine rule values use (regex-automata, or the own DFA with `&`/`~`).
    pub(crate) compiled: bool,
    /// The own DFA built for any tree, when within its budget.
    pub(crate) own: Option<bool>,
    /// The slow matcher.
    pub(crate) slow: bool,
}

/// A slow matcher written straight from the definitions, for the tests and
/// the `lucene_match` fuzz target: no automaton, only sets of spans, so it
/// shares no code with either engine. Cubic in the input; give it short ones.
#[cfg(any(test, feature = "fuzzing"))]
mod slow {
    use super::{ClassItem, Node, Predefined};

    /// Which spans `s[i..j]` a node matches, as an (n+1)² table.
    pub(super) fn spans(node: &Node, s: &[char]) -> Vec<Vec<bool>> {
        let n = s.len();
        let mut m = vec![vec![false; n + 1]; n + 1];
        let compose = |a: &[Vec<bool>], b: &[Vec<bool>]| -> Vec<Vec<bool>> {
            (0..=n).map(|i| (0..=n).map(|j| (0..=n).any(|k| a[i][k] && b[k][j])).collect()).collect()
        };
        let identity: Vec<Vec<bool>> = (0..=n).map(|i| (0..=n).map(|j| i == j).collect()).collect();
        let predefined = |p: Predefined, c: char| match p {
            Predefined::Digit => c.is_ascii_digit(),
            Predefined::NotDigit => !c.is_ascii_digit(),
            Predefined::Space => matches!(c, ' ' | '\t' | '\n' | '\r'),
            Predefined::NotSpace => !matches!(c, ' ' | '\t' | '\n' | '\r'),
            Predefined::Word => c.is_ascii_alphanumeric() || c == '_',
            Predefined::NotWord => !(c.is_ascii_alphanumeric() || c == '_'),
        };
        let mut one_char = |accept: &dyn Fn(char) -> bool| {
            for (i, &c) in s.iter().enumerate() {
                m[i][i + 1] = accept(c);
            }
        };
        match node {
            Node::Empty | Node::Named(_) => {}
            Node::AnyChar => one_char(&|_| true),
            Node::Predefined(p) => one_char(&|c| predefined(*p, c)),
            Node::Class { negated, items } => one_char(&|c| {
                let inside = items.iter().any(|item| match *item {
                    ClassItem::Range(a, b) => a <= c && c <= b,
                    ClassItem::Predefined(p) => predefined(p, c),
                });
                inside != *negated
            }),
            Node::AnyString => m = (0..=n).map(|i| (0..=n).map(|j| i <= j).collect()).collect(),
            Node::Literal(text) => {
                let t: Vec<char> = text.chars().collect();
                for i in 0..=n {
                    if s[i..].starts_with(&t) {
                        m[i][i + t.len()] = true;
                    }
                }
            }
            Node::Interval { min, max, digits } => {
                for i in 0..n {
                    for j in i + 1..=n {
                        let text: String = s[i..j].iter().collect();
                        let value = text.trim_start_matches('0').parse::<u64>().unwrap_or(0);
                        m[i][j] = text.bytes().all(|b| b.is_ascii_digit())
                            && (*digits == 0 || text.len() == *digits)
                            && (u64::from(*min)..=u64::from(*max)).contains(&value);
                    }
                }
            }
            Node::Repeat { sub, min, max } => {
                let x = spans(sub, s);
                let (min, cap) = (*min as usize, *min as usize + n + 1);
                let top = max.map_or(cap, |max| (max as usize).min(cap));
                let mut power = identity.clone();
                for k in 0..=top {
                    if k >= min {
                        for i in 0..=n {
                            for j in 0..=n {
                                m[i][j] |= power[i][j];
                            }
                        }
                    }
                    // No span is left to extend: further powers add nothing
                    // (this keeps `a{9999}` cheap on short inputs).
                    if power.iter().all(|row| row.iter().all(|&b| !b)) {
                        break;
                    }
                    power = compose(&power, &x);
                }
            }
            Node::Concat(items) => {
                m = items.iter().fold(identity, |acc, item| compose(&acc, &spans(item, s)));
            }
            Node::Union(items) | Node::Intersection(items) => {
                let all = matches!(node, Node::Intersection(_));
                m = vec![vec![all; n + 1]; n + 1];
                for item in items {
                    let x = spans(item, s);
                    for i in 0..=n {
                        for j in 0..=n {
                            m[i][j] = if all { m[i][j] && x[i][j] } else { m[i][j] || x[i][j] };
                        }
                    }
                }
            }
            Node::Complement(sub) => {
                let x = spans(sub, s);
                m = (0..=n).map(|i| (0..=n).map(|j| i <= j && !x[i][j]).collect()).collect();
            }
        }
        m
    }

    pub(super) fn oracle(ast: &Node, input: &str) -> bool {
        let s: Vec<char> = input.chars().collect();
        spans(ast, &s)[0][s.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::slow::oracle;
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
            ("a&<x>", K::UnknownNamedAutomaton { name: "x".into() }, 3),
            // `&` and `~` need an operand after them (Lucene: "unexpected end-of-string")
            ("a&", K::UnexpectedEnd, 3),
            ("&&", K::UnexpectedEnd, 3),
            ("a&b&", K::UnexpectedEnd, 5),
            ("~", K::UnexpectedEnd, 2),
            ("~~", K::UnexpectedEnd, 3),
            ("a|~", K::UnexpectedEnd, 4),
            // before `)` they take it as a literal operand, and the group stays open
            ("(a&)", K::Expected { expected: ')', found: None }, 5),
            ("(~)", K::Expected { expected: ')', found: None }, 4),
            ("~a(", K::UnexpectedEnd, 4),
            // a syntax error after a named automaton still wins, as Lucene parses first
            ("<x>a)", K::TrailingInput { found: Some(')') }, 5),
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
        // `a&&b` is `a` and the string `&b`: nothing matches both.
        assert!(!re("a&&b").is_match("a") && !re("a&&b").is_match("&b"));
        // `a&)` is `a` and the string `)`; `a~)` is `a` then anything but `)`.
        assert!(!re("a&)").is_match("a") && !re("a&)").is_match(")"));
        assert!(re("a~)").is_match("ab") && !re("a~)").is_match("a)"));
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

    /// The automaton of our own construction for any parsed tree, `&` and `~` or not.
    fn own_automaton(body: &str) -> Automaton {
        let ast = parse(body, 1).unwrap_or_else(|e| panic!("`{body}` should parse: {e}"));
        build_automaton(&ast, MAX_DFA_STATES).unwrap_or_else(|e| panic!("`{body}` should build: {e}"))
    }

    #[test]
    fn own_automaton_agrees_on_the_whole_dialect() {
        // Every leaf kind, escape and repetition of the table, through the DFA construction
        // that trees with `&` or `~` use.
        for &(body, input, want) in DIALECT {
            assert_eq!(own_automaton(body).is_match(input), want, "/{body}/ on `{input}`");
        }
        assert!(own_automaton("a{9999}").is_match(&"a".repeat(9_999)));
        assert!(!own_automaton("a{9999}").is_match(&"a".repeat(9_998)));
    }

    #[test]
    fn boolean_operators_use_the_own_engine() {
        assert!(matches!(re("a&b").engine, Engine::Dfa { .. }));
        assert!(matches!(re("x(~a)*").engine, Engine::Dfa { .. }));
        assert!(matches!(re("a|b").engine, Engine::Meta(_)));
        // Escaped, quoted or in a class they are characters, and regex-automata runs them.
        assert!(matches!(re("a\\&b\\~").engine, Engine::Meta(_)));
        assert!(matches!(re("\"&~\"[&~]").engine, Engine::Meta(_)));
    }

    #[test]
    fn state_budget() {
        // a{9998} has 9 999 states; its complement adds the sink that accepts longer strings.
        let at_budget = re("~(a{9998})");
        let Engine::Dfa { automaton, .. } = &at_budget.engine else { panic!("own engine expected") };
        assert_eq!(automaton.live_states(), MAX_DFA_STATES);
        assert!(!at_budget.is_match(&"a".repeat(9_998)));
        assert!(at_budget.is_match(&"a".repeat(9_997)) && at_budget.is_match(&"a".repeat(9_999)));
        let over = err("~(a{9999})");
        assert_eq!(over.kind(), &PatternErrorKind::AutomatonTooLarge { max: MAX_DFA_STATES });
        assert_eq!(over.offset(), None);
        // Intersections count too: the product is checked as it is built.
        assert!(re("a{9999}&@").is_match(&"a".repeat(9_999)));
        // Exponential blow-ups stop at the budget: 2^13 states fit, 2^14 do not.
        assert!(re("~(.*a.{12})").is_match("a"));
        for hostile in ["~(.*a.{13})", "~(.*a.{20})", "~(~(.*a.{20}))", "(.*a.{20})&(.*b.{20})", "~((a|b)*a(a|b){30})"]
        {
            assert_eq!(err(hostile).kind(), &PatternErrorKind::AutomatonTooLarge { max: MAX_DFA_STATES }, "{hostile}");
        }
        // A wide alphabet shrinks the state budget: 2 000 character classes × 2 001 states.
        let wide: String = (0..1000u32).filter_map(|i| char::from_u32(0x100 + 2 * i)).collect();
        let e = err(&format!("[{wide}]{{2000}}&@"));
        assert_eq!(e.kind(), &PatternErrorKind::AutomatonTooLarge { max: MAX_DFA_STATES });
        assert!(re(&format!("[{wide}]{{20}}&@")).is_match(&"\u{100}".repeat(20)));
    }

    #[test]
    fn hostile_patterns_are_refused_or_built_within_bounds() {
        let too_large = PatternErrorKind::AutomatonTooLarge { max: MAX_DFA_STATES };
        let refused = [
            "(~(.*a.{12})){100}".to_owned(),
            "~(.*a.{12})&~(.*b.{12})&~(.*c.{12})&~(.*d.{12})".to_owned(),
            format!("~({}b)", "(.*a.{11})|".repeat(60)),
            "(.{0,60}&~(.*a.*)){60}".to_owned(),
            format!("{}&@", ".{0,100}".repeat(40)),
        ];
        for body in &refused {
            assert_eq!(err(body).kind(), &too_large, "/{body}/");
        }
        // Large but tame: a word list excluded anywhere, a long alternation, many copies.
        let words = (0..500).map(|i| format!("w{i}")).collect::<Vec<_>>().join("|");
        let excluded = re(&format!("~(.*({words}).*)"));
        assert!(excluded.is_match("x1w") && !excluded.is_match("xw499y") && !excluded.is_match("w0"));
        let names = (0..1000).map(|i| format!("x{i}")).collect::<Vec<_>>().join("|");
        assert!(re(&format!("~({names})")).is_match("x1000") && !re(&format!("~({names})")).is_match("x999"));
        assert!(re("(~a){5000}").is_match("aa") && !re("(~a){5000}").is_match("a"));
        assert!(re("((~a){100}){100}").is_match("") && !re("((~a){100}){100}").is_match("a"));
        // A repeated numeric interval is embedded as its minimal DFA: left in the NFA, its
        // `0*` made this small pattern cost past the determinization bound.
        let blocks = re("<1-12>*\\d{2}{2}{2}+");
        assert!(blocks.is_match("12345678") && blocks.is_match("0712345678") && !blocks.is_match("1234567"));
    }

    #[test]
    fn boolean_shapes() {
        assert_eq!(re("~#").shape(), Shape::Any);
        assert_eq!(re("~(a&b)").shape(), Shape::Any); // only the DFA knows a&b is empty
        assert_eq!(re("@&.*").shape(), Shape::Any);
        assert_eq!(re("abc~#").shape(), Shape::Prefix("abc"));
        assert_eq!(re(".*abcd.*&.*ef.*").shape(), Shape::Other { required: Some("abcd") });
        assert_eq!(re("x(.*abcd.*&.*ef.*)").shape(), Shape::Other { required: Some("abcd") });
        assert_eq!(re("~abc").shape(), Shape::Other { required: Some("bc") }); // (~a)bc
        assert_eq!(re("~(abc)").shape(), Shape::Other { required: None });
        assert_eq!(re("(~a)*").shape(), Shape::Other { required: None }); // not "a"
        assert_eq!(re("(.*admin.*)&~(.*test.*)").shape(), Shape::Other { required: Some("admin") });
    }

    #[test]
    fn oracle_on_known_cases() {
        for (body, input, want) in [
            ("~a*", "a", false),
            ("~a*", "aa", true),
            ("~(a*)", "aa", false),
            ("a&a|b", "b", true),
            ("(a|b)*&~(.*aa.*)", "abab", true),
            ("(a|b)*&~(.*aa.*)", "abaa", false),
        ] {
            assert_eq!(oracle(&parse(body, 1).unwrap(), input), want, "/{body}/ on `{input}`");
        }
    }

    const TOKENS: &[&str] = &[
        "a", "b", ".", "@", "#", "&", "~", "|", "(", ")", "*", "+", "?", "[ab]", "[^a]", "{2}", "{0,2}", "{1,}",
        "\"ab\"", "()", "\\d", "<1-12>", "<01-12>", "1",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        /// Both engines against the slow matcher, on small patterns over a small alphabet.
        #[test]
        fn engines_agree_with_the_oracle(
            tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 1..9),
            inputs in proptest::collection::vec("[ab1.]{0,5}", 8),
        ) {
            let body: String = tokens.concat();
            let Ok(ast) = parse(&body, 1) else { return Ok(()) };
            let compiled = LuceneRegex::new(&body, 1);
            // A pattern whose automaton is past the bound is refused, as Elasticsearch refuses
            // what Lucene cannot determinize within its work limit (`<1-12>*\d{16}` is one);
            // nothing else.
            let too_large = |e: &PatternError| matches!(e.kind(), PatternErrorKind::AutomatonTooLarge { .. });
            proptest::prop_assert!(compiled.as_ref().err().is_none_or(too_large), "/{}/: {:?}", body, compiled.err());
            let Ok(compiled) = compiled else { return Ok(()) };
            // The bound each kind of pattern is built under in `LuceneRegex::new`.
            let max = if has_boolean_ops(&ast) { MAX_DFA_STATES } else { MAX_DETERMINIZED_STATES };
            let own = build_automaton(&ast, max);
            proptest::prop_assert!(own.is_ok(), "/{}/: {:?}", body, own.err());
            let Ok(own) = own else { return Ok(()) };
            for input in inputs.iter().map(String::as_str).chain(["", "a", "aa", "ab", "12"]) {
                let want = oracle(&ast, input);
                proptest::prop_assert_eq!(compiled.is_match(input), want, "/{}/ on `{}`", body, input);
                proptest::prop_assert_eq!(own.is_match(input), want, "own /{}/ on `{}`", body, input);
            }
        }
    }
}
