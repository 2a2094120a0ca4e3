//! Elasticsearch's simple wildcard patterns (`Automatons.wildcard`).
//!
//! The pattern is read one UTF-16 unit at a time: `*` is any sequence of code points (also
//! none), `?` is exactly one code point, `\` takes the next unit literally, a trailing lone
//! `\` is a literal backslash, and everything else is literal. The input is then run one code
//! point at a time (`CharacterRunAutomaton.run`), always against the whole string.
//!
//! Instead of building an automaton, this module matches with the classic greedy star
//! algorithm (backtrack to the last `*`), which is O(pattern × input) at worst and needs no
//! allocation per match.

use super::Shape;

/// One element of a parsed wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// `*`: any sequence of code points, including the empty one. Runs of `*` are merged.
    Star,
    /// `?`: exactly one code point.
    One,
    /// A run of literal text (escapes already removed).
    Lit(String),
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone)]
pub(super) struct Wildcard {
    tokens: Vec<Token>,
    /// ES quirk: `Automatons.wildcard` builds each literal with `Automata.makeChar(char)`, one
    /// per UTF-16 unit, so a literal outside the Basic Multilingual Plane becomes two lone
    /// surrogate transitions. Input is run per code point and never contains a lone
    /// surrogate, so such a pattern matches nothing at all.
    /// (x-pack/plugin/core/.../security/support/Automatons.java, `wildcard`.)
    never: bool,
}

impl Wildcard {
    /// Parses a wildcard. Never fails: every string is a valid wildcard.
    pub(super) fn new(pattern: &str) -> Self {
        let mut tokens: Vec<Token> = Vec::new();
        let mut never = false;
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            let lit = match c {
                '*' => {
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                    continue;
                }
                '?' => {
                    tokens.push(Token::One);
                    continue;
                }
                // ES: "lenient parsing with a trailing \": a lone final `\` is a literal.
                '\\' => chars.next().unwrap_or('\\'),
                other => other,
            };
            // `\` followed by an astral character escapes only its high surrogate; the low one
            // is then a literal of its own. Either way the pattern is unmatchable, see `never`.
            if u32::from(lit) > 0xFFFF {
                never = true;
            }
            match tokens.last_mut() {
                Some(Token::Lit(run)) => run.push(lit),
                _ => tokens.push(Token::Lit(lit.to_string())),
            }
        }
        Self { tokens, never }
    }

    /// Whether the whole of `input` matches.
    pub(super) fn is_match(&self, input: &str) -> bool {
        if self.never {
            return false;
        }
        let tokens = &self.tokens;
        let (mut t, mut i) = (0usize, 0usize);
        // The position after the last `*` seen and the input position it is trying to match
        // from. Backtracking only to the last star is enough: an earlier star could only absorb
        // text that the last star can absorb too.
        let mut resume: Option<(usize, usize)> = None;
        loop {
            if t == tokens.len() && i == input.len() {
                return true;
            }
            let step = match tokens.get(t) {
                Some(Token::Star) => {
                    resume = Some((t + 1, i));
                    t += 1;
                    continue;
                }
                Some(Token::One) => input[i..].chars().next().map(char::len_utf8),
                Some(Token::Lit(lit)) => input[i..].starts_with(lit.as_str()).then_some(lit.len()),
                None => None,
            };
            match step {
                Some(len) => {
                    t += 1;
                    i += len;
                }
                None => {
                    // Let the last star absorb one more code point and retry after it.
                    let Some((after_star, from)) = resume else {
                        return false;
                    };
                    let Some(c) = input[from..].chars().next() else {
                        return false;
                    };
                    let from = from + c.len_utf8();
                    resume = Some((after_star, from));
                    t = after_star;
                    i = from;
                }
            }
        }
    }

    /// What an index can use; see [`Shape`].
    pub(super) fn shape(&self) -> Shape<'_> {
        if self.never {
            return Shape::Other { required: None };
        }
        match self.tokens.as_slice() {
            [] => Shape::Other { required: None },
            [Token::Star] => Shape::Any,
            [Token::Lit(lit), Token::Star] => Shape::Prefix(lit),
            [Token::Star, Token::Lit(lit)] => Shape::Suffix(lit),
            tokens => Shape::Other {
                required: tokens
                    .iter()
                    .filter_map(|t| match t {
                        Token::Lit(lit) => Some(lit.as_str()),
                        _ => None,
                    })
                    .max_by_key(|lit| lit.len()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A slow matcher written straight from the ES construction, one pattern char at a time.
    fn reference(pattern: &[char], input: &[char]) -> bool {
        match pattern.split_first() {
            None => input.is_empty(),
            Some(('*', rest)) => (0..=input.len()).any(|k| reference(rest, &input[k..])),
            Some(('?', rest)) => !input.is_empty() && reference(rest, &input[1..]),
            Some(('\\', rest)) if !rest.is_empty() => {
                u32::from(rest[0]) <= 0xFFFF && input.first() == Some(&rest[0]) && reference(&rest[1..], &input[1..])
            }
            Some((&c, rest)) => u32::from(c) <= 0xFFFF && input.first() == Some(&c) && reference(rest, &input[1..]),
        }
    }

    fn m(pattern: &str, input: &str) -> bool {
        Wildcard::new(pattern).is_match(input)
    }

    #[test]
    fn semantics() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "", true),
            ("*", "anything", true),
            ("**", "x", true),
            ("j?hn*", "john", true),
            ("j?hn*", "jhn", false),
            ("j?hn*", "jöhnny", true),
            ("a\\*b*", "a*bc", true),
            ("a\\*b*", "axbc", false),
            ("a\\?b*", "a?b", true),
            ("a\\?b*", "axb", false),
            ("a\\\\*", "a\\x", true),
            ("*a\\", "ba\\", true),
            ("*a\\", "ba", false),
            ("*@shield.gov", "bob@shield.gov", true),
            ("*@shield.gov", "bob@example.net", false),
            ("*@shield.gov", "fury@shield.net", false),
            ("abc*", "abc", true),
            ("abc*", "_abc", false),
            ("abc*", "a", false),
            ("abc*", "", false),
            ("JOHN*", "john", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("*,ou=dept_h,o=forces", "cn=x,ou=dept_h,o=forces", true),
            // `?` is one code point, not one byte or one UTF-16 unit.
            ("?*", "😀", true),
            ("??*", "😀", false),
            ("é*", "éa", true),
            // Astral literals never match (ES builds literals per UTF-16 unit).
            ("😀*", "😀", false),
            ("\\😀*", "😀", false),
            ("*😀", "a😀", false),
        ];
        for &(p, s, want) in cases {
            assert_eq!(m(p, s), want, "wildcard `{p}` on `{s}`");
        }
    }

    #[test]
    fn shapes() {
        assert_eq!(Wildcard::new("*").shape(), Shape::Any);
        assert_eq!(Wildcard::new("***").shape(), Shape::Any);
        assert_eq!(Wildcard::new("abc*").shape(), Shape::Prefix("abc"));
        assert_eq!(Wildcard::new("a\\*c*").shape(), Shape::Prefix("a*c"));
        assert_eq!(Wildcard::new("*@x.org").shape(), Shape::Suffix("@x.org"));
        assert_eq!(Wildcard::new("*x\\").shape(), Shape::Suffix("x\\"));
        assert_eq!(Wildcard::new("a?c*").shape(), Shape::Other { required: Some("c") });
        assert_eq!(Wildcard::new("*ab*cde*").shape(), Shape::Other { required: Some("cde") });
        assert_eq!(Wildcard::new("a\\*b").shape(), Shape::Other { required: Some("a*b") });
        assert_eq!(Wildcard::new("?*").shape(), Shape::Other { required: None });
        assert_eq!(Wildcard::new("😀*").shape(), Shape::Other { required: None });
    }

    #[test]
    fn long_inputs_stay_fast() {
        let pattern = format!("{}b", "*a".repeat(50));
        let input = "a".repeat(10_000);
        assert!(!m(&pattern, &input));
        assert!(m(&pattern, &format!("{input}b")));
    }

    fn text(alphabet: &'static [char], max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(alphabet), 0..max).prop_map(|v| v.into_iter().collect())
    }

    const ALPHABET: &[char] = &['a', 'b', '*', '?', '\\', 'é', '😀'];

    proptest! {
        #[test]
        fn matches_reference(pattern in text(ALPHABET, 8), input in text(ALPHABET, 8)) {
            let p: Vec<char> = pattern.chars().collect();
            let s: Vec<char> = input.chars().collect();
            prop_assert_eq!(m(&pattern, &input), reference(&p, &s));
        }

        #[test]
        fn shape_is_sound(pattern in text(ALPHABET, 6), input in text(ALPHABET, 8)) {
            let w = Wildcard::new(&pattern);
            let matched = w.is_match(&input);
            match w.shape() {
                Shape::Any => prop_assert!(matched),
                Shape::Prefix(p) => prop_assert_eq!(matched, input.starts_with(p)),
                Shape::Suffix(s) => prop_assert_eq!(matched, input.ends_with(s)),
                Shape::Other { required: Some(r) } => {
                    prop_assert!(!matched || input.contains(r));
                }
                Shape::Other { required: None } => {}
            }
        }
    }
}
