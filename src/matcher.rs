//! Rule values and how they match model values: the tables of spec §2.3
//! (generic fields) and §3.4 (the DN-aware `dn` and `groups`).
//!
//! These functions are the definition of matching. The reference interpreter
//! calls them directly; the program answers the same questions through its
//! indexes, and the two are checked against each other.

use crate::ast::{FieldValue, ValueKind};
use crate::dn;
use crate::error::{Error, ErrorKind};
use crate::pattern::Pattern;
use crate::user::{DnValue, Meta};
use std::fmt;

/// A model field a rule can name (spec §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Field {
    Username,
    Dn,
    Groups,
    Realm,
    /// `metadata.<key>`: the top-level metadata key, taken literally (dots included).
    Metadata(Box<str>),
    /// Any other name: never defined in the model, so it matches only `null`.
    Absent(Box<str>),
}

impl Field {
    pub(crate) fn parse(name: &str) -> Field {
        match name {
            "username" => Field::Username,
            "dn" => Field::Dn,
            "groups" => Field::Groups,
            "realm.name" => Field::Realm,
            _ => match name.strip_prefix("metadata.") {
                Some(key) => Field::Metadata(key.into()),
                None => Field::Absent(name.into()),
            },
        }
    }

    /// `dn` and `groups` use the DN-aware predicate.
    pub(crate) fn is_dn_aware(&self) -> bool {
        matches!(self, Field::Dn | Field::Groups)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Username => f.write_str("username"),
            Field::Dn => f.write_str("dn"),
            Field::Groups => f.write_str("groups"),
            Field::Realm => f.write_str("realm.name"),
            Field::Metadata(key) => write!(f, "metadata.{key}"),
            Field::Absent(name) => f.write_str(name),
        }
    }
}

/// One compiled rule value.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    Null,
    Bool(bool),
    /// Rule numbers are always 64-bit integers (fractions truncated).
    Int(i64),
    /// A plain string; for DN-aware fields with its normalized DN.
    Literal {
        text: Box<str>,
        normalized: Option<Box<str>>,
    },
    /// A wildcard or Lucene regex.
    Pattern(Box<PatternMatcher>),
}

#[derive(Debug, Clone)]
pub(crate) struct PatternMatcher {
    pub(crate) pattern: Pattern,
    /// For a DN-aware pattern `*,T` where `T` has no `*`: `Some(normalize(T))`
    /// (the inner `None` when `T` is not a DN), used by the strict subtree step.
    pub(crate) subtree: Option<Option<Box<str>>>,
}

impl Matcher {
    /// Compiles one rule value. `dn_aware` precomputes what the DN predicate needs.
    pub(crate) fn new(value: &FieldValue, dn_aware: bool) -> Result<Matcher, Error> {
        let error = |kind| Error::new(kind, value.location.clone());
        Ok(match &value.kind {
            ValueKind::Null => Matcher::Null,
            ValueKind::Bool(b) => Matcher::Bool(*b),
            ValueKind::Number(n) => {
                Matcher::Int(rule_integer(n).ok_or_else(|| error(ErrorKind::NumberOutOfRange(n.to_string())))?)
            }
            ValueKind::String(s) => match Pattern::parse(s) {
                Ok(None) => Matcher::Literal {
                    text: s.as_str().into(),
                    normalized: if dn_aware { dn::normalize(s).map(String::into_boxed_str) } else { None },
                },
                Ok(Some(pattern)) => {
                    let subtree = if dn_aware { subtree_base(s) } else { None };
                    Matcher::Pattern(Box::new(PatternMatcher { pattern, subtree }))
                }
                Err(e) => {
                    return Err(error(ErrorKind::Pattern { pattern: s.clone(), message: e.to_string() }));
                }
            },
        })
    }

    /// The generic predicate for a field the model does not define (or a
    /// `dn` the user lacks): only `null` matches.
    pub(crate) fn matches_absent(&self) -> bool {
        matches!(self, Matcher::Null)
    }

    /// The generic predicate on a string model value (case-sensitive).
    pub(crate) fn matches_str(&self, s: &str) -> bool {
        match self {
            Matcher::Literal { text, .. } => **text == *s,
            Matcher::Pattern(p) => p.pattern.is_match(s),
            Matcher::Null | Matcher::Bool(_) | Matcher::Int(_) => false,
        }
    }

    /// The generic predicate on a metadata value (spec §2.3).
    pub(crate) fn matches_meta(&self, value: &Meta) -> bool {
        match value {
            // Lists are any-of; an empty list matches nothing, not even null.
            Meta::List(_) => value.items().any(|item| self.matches_meta(&item)),
            Meta::Null => matches!(self, Matcher::Null),
            Meta::Bool(b) => matches!(self, Matcher::Bool(r) if r == b),
            Meta::Int(i) => matches!(self, Matcher::Int(r) if r == i),
            Meta::Float(f) => matches!(self, Matcher::Int(r) if double_equals(*f, *r)),
            // Only an integer rule could compare with it, and that fails the
            // resolution before matching starts (`RuleSet::check_numbers`).
            Meta::Big(_) => false,
            Meta::Str(s) => self.matches_str(s),
        }
    }

    /// The DN-aware predicate (spec §3.4) on one `dn` or group value.
    pub(crate) fn matches_dn(&self, value: &DnValue) -> bool {
        let s = value.raw;
        let n = value.normalized;
        match self {
            Matcher::Literal { text, normalized } => {
                if eq_ignore_case(text, s) {
                    return true;
                }
                let Some(n) = n else { return false };
                match normalized {
                    Some(normalized) => **normalized == *n,
                    None => eq_ignore_case(text, n),
                }
            }
            Matcher::Pattern(p) => {
                let pattern = &p.pattern;
                if pattern.is_match(s)
                    || n.is_some_and(|n| pattern.is_match(n))
                    || pattern.is_match(&s.to_lowercase())
                    || pattern.is_match(&s.to_uppercase())
                {
                    return true;
                }
                match (n, &p.subtree) {
                    (Some(n), Some(Some(base))) => is_strict_subtree(n, base),
                    _ => false,
                }
            }
            Matcher::Null | Matcher::Bool(_) | Matcher::Int(_) => false,
        }
    }
}

/// The strict subtree test of spec §3.4 step 5 on normalized forms: a string
/// suffix test after a comma, as current Elasticsearch does it (so, like
/// Elasticsearch, an escaped comma in a value can satisfy it).
pub(crate) fn is_strict_subtree(normalized: &str, base: &str) -> bool {
    if base.is_empty() {
        return !normalized.is_empty();
    }
    normalized.len() > base.len()
        && normalized.ends_with(base)
        && normalized.as_bytes().get(normalized.len() - base.len() - 1) == Some(&b',')
}

/// For a pattern `*,T` whose `T` contains no `*`: `Some(normalize(T))`.
pub(crate) fn subtree_base(pattern: &str) -> Option<Option<Box<str>>> {
    let rest = pattern.strip_prefix("*,")?;
    if rest.contains('*') {
        return None;
    }
    Some(dn::normalize(rest).map(String::into_boxed_str))
}

/// Reads a rule number as Elasticsearch does: `longValue()` of the JSON
/// number, so fractions are truncated toward zero, and a number outside the
/// signed 64-bit range is an error (Jackson refuses the overflow).
pub(crate) fn rule_integer(n: &serde_json::Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.is_u64() {
        return None;
    }
    let f = n.as_f64()?;
    // Jackson's range check compares against (double) Long.MIN/MAX_VALUE; the
    // cast then saturates, as Java's does.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..=LIMIT).contains(&f) {
        return None;
    }
    Some(f.trunc() as i64)
}

/// Java's `Double.compare(f, (double) rule) == 0`: numeric equality, except
/// that `-0.0` differs from `0.0` (and the rule side is never NaN).
pub(crate) fn double_equals(f: f64, rule: i64) -> bool {
    f.to_bits() == (rule as f64).to_bits()
}

/// Java's `String.equalsIgnoreCase`: character by character, equal when the
/// characters are, or their upper cases are, or the lower cases of those are.
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.len() == b.len() && a.eq_ignore_ascii_case(b) {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        return false;
    }
    let mut x = a.chars();
    let mut y = b.chars();
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(c), Some(d)) => {
                if c != d && fold_char(c) != fold_char(d) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// The key under which `eq_ignore_case` equates strings: each character
/// mapped to the lower case of its upper case (simple, one-to-one mappings).
pub(crate) fn fold_case(s: &str, out: &mut String) {
    out.clear();
    if s.is_ascii() {
        out.push_str(s);
        out.make_ascii_lowercase();
    } else {
        out.extend(s.chars().map(fold_char));
    }
}

fn fold_char(c: char) -> char {
    let upper = single(c.to_uppercase()).unwrap_or(c);
    // `İ` is the one character whose full lower case has two characters
    // while its one-to-one mapping, which Java uses, is `i`.
    if upper == '\u{130}' {
        return 'i';
    }
    single(upper.to_lowercase()).unwrap_or(upper)
}

/// Java's `Character.toUpperCase(int)` uses one-to-one mappings: a character
/// whose full mapping has several characters (`ß` → `SS`) stays as it is.
fn single(mut chars: impl Iterator<Item = char>) -> Option<char> {
    let c = chars.next()?;
    if chars.next().is_some() { None } else { Some(c) }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Null => f.write_str("null"),
            Matcher::Bool(b) => write!(f, "{b}"),
            Matcher::Int(i) => write!(f, "{i}"),
            Matcher::Literal { text, .. } => write!(f, "{}", serde_json::Value::String(text.to_string())),
            Matcher::Pattern(p) => write!(f, "{}", serde_json::Value::String(p.pattern.source().to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_numbers_truncate_toward_zero() {
        let n = |s: &str| rule_integer(&serde_json::from_str(s).unwrap());
        assert_eq!(n("1.5"), Some(1));
        assert_eq!(n("-2.7"), Some(-2));
        assert_eq!(n("1e3"), Some(1000));
        assert_eq!(n("9223372036854775807"), Some(i64::MAX));
        assert_eq!(n("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(n("9223372036854775808"), None);
        assert_eq!(n("99999999999999999999"), None);
        assert_eq!(n("1e19"), None);
        assert_eq!(n("-1e19"), None);
    }

    #[test]
    fn doubles_compare_as_java_double_compare() {
        assert!(double_equals(1.0, 1));
        assert!(!double_equals(1.5, 1));
        assert!(double_equals(0.0, 0));
        assert!(!double_equals(-0.0, 0));
        assert!(!double_equals(f64::NAN, 0));
        // Above 2^53 several longs convert to the same double.
        assert!(double_equals(9_007_199_254_740_992.0, 9_007_199_254_740_993));
    }

    #[test]
    fn ignore_case_is_java_equals_ignore_case() {
        assert!(eq_ignore_case("Admins", "admins"));
        assert!(eq_ignore_case("ÉCOLE", "école"));
        assert!(!eq_ignore_case("admin", "admins"));
        assert!(!eq_ignore_case("ß", "ss"));
        assert!(eq_ignore_case("İstanbul", "istanbul"));
        let mut a = String::new();
        let mut b = String::new();
        fold_case("ÉCOLE", &mut a);
        fold_case("école", &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn strict_subtree_excludes_the_base() {
        assert!(is_strict_subtree("cn=x,ou=a,dc=b", "ou=a,dc=b"));
        assert!(!is_strict_subtree("ou=a,dc=b", "ou=a,dc=b"));
        assert!(!is_strict_subtree("cn=x,xou=a,dc=b", "ou=a,dc=b"));
        assert!(is_strict_subtree("cn=x", ""));
        assert!(!is_strict_subtree("", ""));
    }
}
