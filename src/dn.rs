//! LDAP distinguished names, parsed and normalized the way Elasticsearch sees them.
//!
//! Elasticsearch's role-mapping DN predicate (`UserRoleMapper.DistinguishedNameNormalizer`)
//! calls UnboundID's `new DN(s)` without a schema and compares `DN.toNormalizedString()`.
//! Role mappings only behave the same in this crate if we reproduce that string byte for
//! byte, including UnboundID's quirks. No maintained Rust crate does this (the RFC 4514
//! parsers are stricter or looser in other places and none applies UnboundID's
//! case-ignore normalization or escaping), so the parser and normalizer are hand-written
//! here as a close transcription of UnboundID LDAP SDK 6.0/7.0 (`DN.java`, `RDN.java`,
//! `RDNNameValuePair.java`, `CaseIgnoreStringMatchingRule.java`, `SimpleMatchingRule.java`,
//! `StaticUtils.java`, `ASN1OctetString.java`), the versions Elasticsearch 8.x and 9.x ship.
//!
//! UnboundID behaviours mirrored here:
//! - RDNs are separated by `,` or `;`, multi-valued RDNs by `+`; spaces around names,
//!   `=`, values and separators are skipped. A string of spaces is the empty DN.
//! - Attribute names are anything up to a space or `=` (they may contain `+`, `#`, `"`,
//!   non-ASCII, ...) but not `,` or `;`. They are lower-cased only: no alias resolution.
//! - Values may be empty (`cn=` is valid), quoted (`"a,b"`), `#`-prefixed hex of a BER
//!   element (any tag, whose content becomes the value), or strings with backslash
//!   escapes: `\` + two hex digits starts a run of hex-escaped bytes decoded as UTF-8
//!   (invalid UTF-8 becomes U+FFFD), `\` + any other character is that character.
//! - Unescaped trailing spaces of a string value are trimmed with UnboundID's heuristic,
//!   which only looks at the input character before each space (so a trailing `\20` is
//!   trimmed while `\\ ` keeps its space).
//! - Values are normalized by `caseIgnoreMatch`: leading/trailing spaces removed, inner
//!   runs of spaces collapsed; ASCII values have `A`-`Z` lower-cased and an all-space
//!   value becomes one space; other values are lower-cased character by character
//!   (Java `Character.toLowerCase` on upper-case characters only).
//! - Normalized values re-escape `\ = " + , ; < >`, a leading `#`, a leading or trailing
//!   space, and hex-escape everything outside printable ASCII as lower-case UTF-8 bytes
//!   (`é` -> `\c3\a9`).
//! - Multi-valued RDN components are sorted by lower-cased name (Java UTF-16 order),
//!   then by normalized value bytes; components that compare equal are kept once.
//!
//! There is no length limit (UnboundID has none); parsing and normalization are linear
//! apart from sorting the components of each multi-valued RDN, and nothing recurses.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Parses `s` as an RFC 4514 distinguished name and returns its normalized form, as UnboundID's
/// `DN.toNormalizedString()` gives it, or `None` when `s` is not a DN.
///
/// ```text
/// "CN=Bruce,OU=Hero, O=Wayne" -> Some("cn=bruce,ou=hero,o=wayne")
/// ""                          -> Some("")
/// "Audi R8 owners"            -> None
/// ```
#[must_use]
pub fn normalize(s: &str) -> Option<String> {
    parse_rdns(s).ok().map(|rdns| normalize_rdns(&rdns))
}

/// A parsed distinguished name: a sequence of RDNs, leftmost (most specific) first.
///
/// Equality is structural (same names and raw values in the same order). Two DNs are
/// equivalent for LDAP (and Elasticsearch) when their [`Dn::to_normalized_string`] are equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dn {
    rdns: Vec<Rdn>,
}

/// A relative distinguished name: one or more attribute/value pairs joined by `+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rdn {
    avas: Vec<Ava>,
}

/// One attribute/value pair of an RDN, as written (name not lower-cased, value unescaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ava {
    name: String,
    // Raw octets: a `#hex` BER value need not be UTF-8, exactly like UnboundID's ASN1OctetString.
    value: Vec<u8>,
}

/// Why a string is not a distinguished name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnError {
    input: String,
    position: usize,
    kind: DnErrorKind,
}

/// The UnboundID parse error a [`DnError`] corresponds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DnErrorKind {
    /// The DN ends with `,` or `;` (possibly followed by spaces).
    EndsWithSeparator,
    /// A `,` or `;` appears where an attribute name was expected.
    UnexpectedSeparator,
    /// An RDN component has no attribute name (e.g. `=bar`).
    MissingAttributeName,
    /// An attribute name is not followed by `=` (e.g. `abc`).
    MissingEquals,
    /// The DN ends with `+`, or a `+` is followed only by spaces.
    EndsWithPlus,
    /// Something other than `,`, `;`, `+` follows a `#hex` value.
    UnexpectedCharacter,
    /// A hex digit was expected (in `#hex` or a `\XX` escape).
    InvalidHexDigit,
    /// A hex pair is cut short by the end of the string.
    MissingHexDigit,
    /// A `#hex` value is not a single BER element.
    NotBerEncoded,
    /// The value ends with a lone backslash.
    EndsWithBackslash,
    /// A `"` appears inside an unquoted value.
    UnexpectedQuote,
    /// Something other than spaces follows a closing `"` before the next separator.
    CharacterAfterQuote,
    /// A quoted value has no closing `"`.
    UnclosedQuote,
}

impl Dn {
    /// Parses `s` as UnboundID's `new DN(s)` does (no schema, lenient attribute names).
    ///
    /// # Errors
    ///
    /// Returns a [`DnError`] when UnboundID would throw an `LDAPException`.
    pub fn parse(s: &str) -> Result<Self, DnError> {
        parse_rdns(s).map(|rdns| Self { rdns }).map_err(|(kind, position)| DnError {
            input: s.to_owned(),
            position,
            kind,
        })
    }

    /// The RDNs, leftmost first. Empty for the empty ("null") DN.
    #[must_use]
    pub fn rdns(&self) -> &[Rdn] {
        &self.rdns
    }

    /// Whether this is the empty DN (`""`, or a string of spaces).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rdns.is_empty()
    }

    /// The normalized form, as UnboundID's `DN.toNormalizedString()` (RDNs joined by `,`).
    #[must_use]
    pub fn to_normalized_string(&self) -> String {
        normalize_rdns(&self.rdns)
    }
}

impl FromStr for Dn {
    type Err = DnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Rdn {
    /// The attribute/value pairs in input order (at least one).
    #[must_use]
    pub fn avas(&self) -> &[Ava] {
        &self.avas
    }

    /// Whether the RDN has more than one attribute/value pair.
    #[must_use]
    pub fn is_multi_valued(&self) -> bool {
        self.avas.len() > 1
    }

    /// The normalized form, as UnboundID's `RDN.toNormalizedString()`.
    #[must_use]
    pub fn to_normalized_string(&self) -> String {
        let mut out = String::new();
        push_normalized_rdn(&self.avas, &mut out);
        out
    }
}

impl Ava {
    /// The attribute name as written (an attribute type name or an OID).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The unescaped value octets.
    #[must_use]
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// The value as text; invalid UTF-8 (only possible from `#hex`) becomes U+FFFD.
    #[must_use]
    pub fn value_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.value)
    }
}

impl DnError {
    /// What is wrong.
    #[must_use]
    pub fn kind(&self) -> DnErrorKind {
        self.kind
    }

    /// Byte offset in the input where the problem was found.
    #[must_use]
    pub fn position(&self) -> usize {
        self.position
    }
}

impl fmt::Display for DnErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EndsWithSeparator => "ends with `,` or `;`",
            Self::UnexpectedSeparator => "unexpected `,` or `;` in an attribute name",
            Self::MissingAttributeName => "missing attribute name",
            Self::MissingEquals => "attribute name not followed by `=`",
            Self::EndsWithPlus => "ends with `+`",
            Self::UnexpectedCharacter => "unexpected character after a `#` value",
            Self::InvalidHexDigit => "invalid hex digit",
            Self::MissingHexDigit => "incomplete hex pair",
            Self::NotBerEncoded => "`#` value is not a BER element",
            Self::EndsWithBackslash => "ends with a backslash",
            Self::UnexpectedQuote => "unexpected `\"` inside a value",
            Self::CharacterAfterQuote => "unexpected character after a closing `\"`",
            Self::UnclosedQuote => "unclosed `\"`",
        })
    }
}

impl fmt::Display for DnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid distinguished name `{}`: {} at byte {}", self.input, self.kind, self.position)
    }
}

impl std::error::Error for DnError {}

type ParseResult<T> = Result<T, (DnErrorKind, usize)>;

// --- Parsing: DN.java constructor, RDN.readHexString / readValueString / readEscapedHexString.
//
// We scan UTF-8 bytes where Java scans UTF-16 units. Every decision looks at ASCII
// characters only, and non-ASCII bytes are copied through unchanged, so the two agree
// (including the position arithmetic of the trailing-space trim, see read_string_value).

fn parse_rdns(s: &str) -> ParseResult<Vec<Rdn>> {
    let b = s.as_bytes();
    let len = b.len();
    let mut rdns = Vec::new();
    let mut pos = 0;
    let mut expect_more = false;
    'rdn: while pos < len {
        pos = skip_spaces(b, pos);
        if pos >= len {
            // Only spaces: the empty DN, unless they follow a separator.
            if rdns.is_empty() {
                break;
            }
            return Err((DnErrorKind::EndsWithSeparator, pos));
        }
        let mut avas = Vec::new();
        loop {
            let (name, after_name) = read_attribute_name(s, pos)?;
            pos = skip_spaces(b, after_name);
            if b.get(pos) != Some(&b'=') {
                return Err((DnErrorKind::MissingEquals, pos));
            }
            pos = skip_spaces(b, pos + 1);
            let (value, after_value) = read_value(b, pos)?;
            pos = skip_spaces(b, after_value);
            avas.push(Ava { name, value });
            match b.get(pos) {
                None => {
                    rdns.push(Rdn { avas });
                    expect_more = false;
                    break 'rdn;
                }
                Some(b'+') => {
                    pos = skip_spaces(b, pos + 1);
                    if pos >= len {
                        return Err((DnErrorKind::EndsWithPlus, pos));
                    }
                }
                Some(b',' | b';') => {
                    rdns.push(Rdn { avas });
                    pos += 1;
                    expect_more = true;
                    continue 'rdn;
                }
                Some(_) => return Err((DnErrorKind::UnexpectedCharacter, pos)),
            }
        }
    }
    if expect_more {
        return Err((DnErrorKind::EndsWithSeparator, pos));
    }
    Ok(rdns)
}

fn skip_spaces(b: &[u8], mut pos: usize) -> usize {
    while b.get(pos) == Some(&b' ') {
        pos += 1;
    }
    pos
}

/// Reads up to a space or `=`; UnboundID accepts any other character except `,` and `;`.
fn read_attribute_name(s: &str, start: usize) -> ParseResult<(String, usize)> {
    let b = s.as_bytes();
    let mut pos = start;
    while let Some(&c) = b.get(pos) {
        match c {
            b' ' | b'=' => break,
            b',' | b';' => return Err((DnErrorKind::UnexpectedSeparator, pos)),
            _ => pos += 1,
        }
    }
    // Both ends sit next to ASCII bytes (or the string ends), so they are char boundaries.
    match s.get(start..pos) {
        Some(name) if !name.is_empty() => Ok((name.to_owned(), pos)),
        _ => Err((DnErrorKind::MissingAttributeName, start)),
    }
}

fn read_value(b: &[u8], pos: usize) -> ParseResult<(Vec<u8>, usize)> {
    match b.get(pos) {
        None => Ok((Vec::new(), pos)),
        Some(b'#') => {
            let (ber, end) = read_hex_string(b, pos + 1)?;
            let value = decode_ber_octet_string(&ber).ok_or((DnErrorKind::NotBerEncoded, pos))?;
            Ok((value, end))
        }
        Some(_) => read_string_value(b, pos),
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Hex pairs up to a space, `+`, `,`, `;` (only between pairs) or the end.
fn read_hex_string(b: &[u8], start: usize) -> ParseResult<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut pos = start;
    while let Some(&c) = b.get(pos) {
        if matches!(c, b' ' | b'+' | b',' | b';') {
            break;
        }
        let high = hex_value(c).ok_or((DnErrorKind::InvalidHexDigit, pos))?;
        let &c2 = b.get(pos + 1).ok_or((DnErrorKind::MissingHexDigit, pos + 1))?;
        let low = hex_value(c2).ok_or((DnErrorKind::InvalidHexDigit, pos + 1))?;
        out.push(high << 4 | low);
        pos += 2;
    }
    Ok((out, pos))
}

/// `ASN1OctetString.decodeAsOctetString(byte[])`: any tag byte, short or long-form length
/// (computed in a Java `int`, overflow included) that must cover exactly the rest.
fn decode_ber_octet_string(ber: &[u8]) -> Option<Vec<u8>> {
    let &first_length_byte = ber.get(1)?;
    let mut value_start = 2;
    let mut length = i32::from(first_length_byte & 0x7f);
    if first_length_byte & 0x80 != 0 {
        let length_bytes = length;
        length = 0;
        for _ in 0..length_bytes {
            let &byte = ber.get(value_start)?;
            length = length.wrapping_shl(8) | i32::from(byte);
            value_start += 1;
        }
    }
    let rest = ber.get(value_start..)?;
    (i64::try_from(rest.len()).ok()? == i64::from(length)).then(|| rest.to_vec())
}

fn read_string_value(b: &[u8], start: usize) -> ParseResult<(Vec<u8>, usize)> {
    let mut buf = Vec::new();
    let mut pos = start;
    let mut in_quotes = false;
    while let Some(&c) = b.get(pos) {
        match c {
            b'\\' => {
                let &escaped = b.get(pos + 1).ok_or((DnErrorKind::EndsWithBackslash, pos))?;
                pos += 1;
                if hex_value(escaped).is_some() {
                    pos = read_escaped_hex(b, pos, &mut buf)?;
                    continue;
                }
                // A non-ASCII lead byte is copied here and its continuation bytes by the
                // default arm, which is what Java does with the two halves of a surrogate pair.
                buf.push(escaped);
            }
            b'"' if in_quotes => {
                pos += 1;
                while let Some(&after) = b.get(pos) {
                    match after {
                        b'+' | b',' | b';' => break,
                        b' ' => pos += 1,
                        _ => return Err((DnErrorKind::CharacterAfterQuote, pos)),
                    }
                }
                in_quotes = false;
                break;
            }
            b'"' => {
                if pos != start {
                    return Err((DnErrorKind::UnexpectedQuote, pos));
                }
                in_quotes = true;
            }
            b',' | b';' | b'+' if !in_quotes => break,
            _ => buf.push(c),
        }
        pos += 1;
    }
    if in_quotes {
        return Err((DnErrorKind::UnclosedQuote, pos));
    }

    // UnboundID's trim: drop trailing buffer spaces (never the first character) until the
    // input at `rdn_pos` is a backslash; `rdn_pos` starts just before the last consumed
    // input character and steps back once per dropped space. Input and buffer are walked
    // in step even where escapes make them differ, hence `a\20` -> `a` but `a\\ ` keeps it.
    let mut rdn_pos = pos.checked_sub(2);
    while buf.len() > 1 && buf.last() == Some(&b' ') {
        if rdn_pos.and_then(|p| b.get(p)) == Some(&b'\\') {
            break;
        }
        buf.pop();
        rdn_pos = rdn_pos.and_then(|p| p.checked_sub(1));
    }
    Ok((buf, pos))
}

/// A run of `XX` pairs joined by `\` (starting after the first backslash), decoded as one
/// UTF-8 string with U+FFFD for malformed bytes (Java `new String(bytes, UTF_8)`).
fn read_escaped_hex(b: &[u8], start: usize, buf: &mut Vec<u8>) -> ParseResult<usize> {
    let mut bytes = Vec::new();
    let mut pos = start;
    loop {
        let &c = b.get(pos).ok_or((DnErrorKind::MissingHexDigit, pos))?;
        let high = hex_value(c).ok_or((DnErrorKind::InvalidHexDigit, pos))?;
        let &c2 = b.get(pos + 1).ok_or((DnErrorKind::MissingHexDigit, pos + 1))?;
        let low = hex_value(c2).ok_or((DnErrorKind::InvalidHexDigit, pos + 1))?;
        bytes.push(high << 4 | low);
        pos += 2;
        let continues = b.get(pos) == Some(&b'\\') && b.get(pos + 1).is_some_and(|&next| hex_value(next).is_some());
        if !continues {
            break;
        }
        pos += 1;
    }
    buf.extend_from_slice(String::from_utf8_lossy(&bytes).as_bytes());
    Ok(pos)
}

// --- Normalization: DN/RDN.toNormalizedString, RDNNameValuePair, CaseIgnoreStringMatchingRule.

fn normalize_rdns(rdns: &[Rdn]) -> String {
    let mut out = String::new();
    for (i, rdn) in rdns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_normalized_rdn(&rdn.avas, &mut out);
    }
    out
}

fn push_normalized_rdn(avas: &[Ava], out: &mut String) {
    let mut pairs: Vec<(String, String)> =
        avas.iter().map(|ava| (normalize_name(&ava.name), normalize_value(&ava.value))).collect();
    if pairs.len() > 1 {
        // RDNNameValuePair.compareTo: name by Java String.compareTo (UTF-16 units), then
        // SimpleMatchingRule.compareValues (unsigned bytes of the normalized value). The
        // TreeSet keeps one of each equal pair. (UnboundID 4.0.x, used by ES 7.x, kept only
        // the last value per attribute name instead.)
        pairs.sort_by(|a, b| cmp_utf16(&a.0, &b.0).then_with(|| a.1.as_bytes().cmp(b.1.as_bytes())));
        pairs.dedup();
    }
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('+');
        }
        out.push_str(name);
        out.push('=');
        push_escaped_value(value, out);
    }
}

fn cmp_utf16(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `StaticUtils.toLowerCase`: ASCII fast path, else Java `String.toLowerCase()`, whose full
/// case mapping (final sigma, `İ` -> `i̇`) Rust's `to_lowercase` shares. Assumes a
/// non-Turkish default locale on the Java side.
fn normalize_name(name: &str) -> String {
    if name.is_ascii() { name.to_ascii_lowercase() } else { name.to_lowercase() }
}

/// `CaseIgnoreStringMatchingRule.normalize`.
fn normalize_value(value: &[u8]) -> String {
    if value.is_empty() {
        return String::new();
    }
    if value.is_ascii() {
        if value.iter().all(|&c| c == b' ') {
            // The ASCII path keeps one space for an all-space value (normalizeInternal).
            return " ".to_owned();
        }
        return collapse_spaces(value.iter().map(|&c| char::from(c.to_ascii_lowercase())));
    }
    collapse_spaces(String::from_utf8_lossy(value).chars().map(java_char_to_lower))
}

/// Drops leading and trailing U+0020 and collapses inner runs to one (no other whitespace).
fn collapse_spaces(chars: impl Iterator<Item = char>) -> String {
    let mut out = String::new();
    let mut last_was_space = true;
    for c in chars {
        if c == ' ' {
            if !last_was_space {
                out.push(' ');
                last_was_space = true;
            }
        } else {
            out.push(c);
            last_was_space = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Java `if (Character.isUpperCase(c)) c = Character.toLowerCase(c)`: a simple 1:1 mapping
/// of upper-case characters only. Unlike `str::to_lowercase`, final `Σ` becomes `σ`, title-case
/// letters such as `ǅ` stay, and `İ` becomes plain `i`. (Unicode versions of the JDK and of
/// Rust may differ for newly added characters.)
fn java_char_to_lower(c: char) -> char {
    if !c.is_uppercase() {
        return c;
    }
    if c == '\u{130}' {
        return 'i';
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// `RDN.appendNormalizedValue`'s escaping of an already normalized value.
fn push_escaped_value(value: &str, out: &mut String) {
    for (i, c) in value.char_indices() {
        let first = i == 0;
        let last = i + c.len_utf8() == value.len();
        match c {
            '\\' | '=' | '"' | '+' | ',' | ';' | '<' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '#' if first => out.push_str("\\#"),
            ' ' if first || last => out.push_str("\\ "),
            ' '..='~' => out.push(c),
            _ => {
                let mut utf8 = [0; 4];
                for &byte in c.encode_utf8(&mut utf8).as_bytes() {
                    out.push('\\');
                    out.push(lower_hex_digit(byte >> 4));
                    out.push(lower_hex_digit(byte & 0xf));
                }
            }
        }
    }
}

fn lower_hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).unwrap_or('0')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[track_caller]
    fn norm(s: &str) -> String {
        match normalize(s) {
            Some(n) => n,
            None => panic!("`{s}` should be a DN"),
        }
    }

    #[track_caller]
    fn assert_norm(input: &str, expected: &str) {
        assert_eq!(norm(input), expected, "input `{input}`");
    }

    #[track_caller]
    fn assert_invalid(input: &str) {
        assert_eq!(normalize(input), None, "input `{input}` should not be a DN");
    }

    #[test]
    fn spec_examples() {
        assert_norm("CN=Bruce,OU=Hero, O=Wayne", "cn=bruce,ou=hero,o=wayne");
        assert_norm("", "");
        assert_invalid("Audi R8 owners");
        assert_invalid("=bar");
        assert_norm("cn=a, dc=b", "cn=a,dc=b");
        assert_norm("CN=Admins, DC=Example, DC=Com", "cn=admins,dc=example,dc=com");
        assert_norm("cn=John Doe,cn=contractors,dc=example,dc=com", "cn=john doe,cn=contractors,dc=example,dc=com");
        // No alias resolution.
        assert_norm("commonName=x", "commonname=x");
    }

    #[test]
    fn es_normalizer_test_inputs() {
        // DistinguishedNameNormalizerTests.randomDn() and its mutateDn() variants.
        let dn = "CN=abcdefgh,OU=ijkl, O=mnop,dc=qrs";
        let expected = "cn=abcdefgh,ou=ijkl,o=mnop,dc=qrs";
        for variant in [dn.to_owned(), dn.to_lowercase(), dn.to_uppercase(), dn.replace(' ', ""), dn.replace(',', " ,")]
        {
            assert_norm(&variant, expected);
        }
        assert_norm(&format!("uid=foo,{dn}"), &format!("uid=foo,{expected}"));
        assert_norm(&format!("gid=g7,{dn}"), &format!("gid=g7,{expected}"));
        // The "invalid" candidates of testDnNormalizingIsCached: some do parse.
        assert_norm("", "");
        assert_invalid("abcdefgh");
        assert_invalid("abc*");
        assert_norm("abc=", "abc=");
        assert_invalid("=abc");
    }

    #[test]
    fn es_predicate_test_inputs() {
        // DistinguishedNamePredicateTests.testParsingMalformedInput.
        assert_norm("foo=", "foo=");
        assert_invalid("foo");
        assert_invalid("=bar");
        assert_invalid("bar");
        // testMatching: the subtree suffixes after "*," and "*, ".
        assert_norm("OU=ijkl, O=mnop", "ou=ijkl,o=mnop");
        assert_norm(" OU=ijkl, O=mnop", "ou=ijkl,o=mnop");
        assert_norm("CN=abc,OU=ijkl, O=mnop,CN=AU", "cn=abc,ou=ijkl,o=mnop,cn=au");
        assert_norm("XCN=abc,OU=ijkl, O=mnop", "xcn=abc,ou=ijkl,o=mnop");
    }

    #[test]
    fn conformance_vectors() {
        let user = norm("cn=john.smith, ou=sales, dc=example, dc=com");
        assert!(user.ends_with(&format!(",{}", norm("ou=sales,dc=example,dc=com"))));
        assert_norm(
            "CN=WALTER.LANGOWSKI,OU=PEOPLE,OU=DEPT_H,O=FORCES,DC=GC,DC=CA",
            "cn=walter.langowski,ou=people,ou=dept_h,o=forces,dc=gc,dc=ca",
        );
        assert_eq!(
            norm("cn=alphaflight, ou=groups, ou=dept_h, o=forces, dc=gc, dc=ca"),
            norm("cn=alphaflight,ou=groups,ou=dept_h,o=forces,dc=gc,dc=ca")
        );
        assert_eq!(
            norm("CN=mutants,OU=groups,OU=dept_h,O=forces,DC=gc,DC=ca"),
            norm("cn=mutants,ou=groups,ou=dept_h,o=forces,dc=gc,dc=ca")
        );
        assert_eq!(norm("CN=Bob, DC=Example, DC=COM"), "cn=bob,dc=example,dc=com");
        assert_eq!(norm("CN=Users,DC=Example,DC=Com"), norm("cn=users,dc=example,dc=com"));
        assert_invalid("Admins");
        assert_invalid("admin*");
        assert_invalid("abcdef*");
        assert_invalid("*,ou=subtree,dc=example,dc=com");
    }

    /// RDNTestCase.getValidRDNStrings (UnboundID 6.0), input and normalized form.
    const UNBOUNDID_VALID_RDNS: &[(&str, &str)] = &[
        ("uid=test.user", "uid=test.user"),
        ("  uid  =  test.user  ", "uid=test.user"),
        ("cn=Test     User", "cn=test user"),
        ("givenName=Test+sn=User", "givenname=test+sn=user"),
        (" sn = User + givenName = Test ", "givenname=test+sn=user"),
        ("cn=foo+cn=bar", "cn=bar+cn=foo"),
        ("cn=bar+cn=foo", "cn=bar+cn=foo"),
        ("cn=foo +cn = bar", "cn=bar+cn=foo"),
        ("givenName=Test+sn=User+cn=Test User+description=foo", "cn=test user+description=foo+givenname=test+sn=user"),
        (
            " givenName = Test + sn = User + cn = Test User + description = foo ",
            "cn=test user+description=foo+givenname=test+sn=user",
        ),
        ("uid=#0409746573742e75736572", "uid=test.user"),
        ("uid=#0409746573742E75736572", "uid=test.user"),
        ("UID=#0409544553542e55534552", "uid=test.user"),
        ("givenName=#040474657374+sn=#040475736572", "givenname=test+sn=user"),
        ("  givenName  =  #040474657374  +  sn  =  #040475736572  ", "givenname=test+sn=user"),
        ("givenName=test+sn=#040475736572", "givenname=test+sn=user"),
        ("givenName=#040474657374+sn=user", "givenname=test+sn=user"),
        (r"uid=\74\65\73\74\2e\75\73\65\72", "uid=test.user"),
        (r"uid=\54\45\53\54\2e\55\53\45\52", "uid=test.user"),
        (r"givenName=\54\45\53\54+sn=\55\53\45\52", "givenname=test+sn=user"),
        (r"uid=t\45s\54.\55s\45r", "uid=test.user"),
        (r#"uid=\\#\=\"\+\,\,\;\<\>"#, r#"uid=\\#\=\"\+\,\,\;\<\>"#),
        (r#"uid="test.user""#, "uid=test.user"),
        (r#"givenName="Test"+sn="User""#, "givenname=test+sn=user"),
        (r#"cn="User, Test"+givenName=Test+sn=User"#, r"cn=user\, test+givenname=test+sn=user"),
        (r#"cn="1+1=2""#, r"cn=1\+1\=2"),
        (r#"givenName="1+1=2"+sn="2+2=4""#, r"givenname=1\+1\=2+sn=2\+2\=4"),
        (r#"cn=Austin \"Danger\" Powers"#, r#"cn=austin \"danger\" powers"#),
        (r"givenName=Jos\c3\a9+sn=Jalape\c3\b1o", r"givenname=jos\c3\a9+sn=jalape\c3\b1o"),
        (r"givenName=JOS\C3\89+sn=JALAPE\C3\91O", r"givenname=jos\c3\a9+sn=jalape\c3\b1o"),
        ("uid=", "uid="),
        (" uid = ", "uid="),
        ("uid=foo+sn=", "sn=+uid=foo"),
        ("uid=foo+sn=  ", "sn=+uid=foo"),
        ("uid=+sn=", "sn=+uid="),
        ("uid=+sn=test", "sn=test+uid="),
        ("cn=foo+sn=bar+givenName=", "cn=foo+givenname=+sn=bar"),
        ("cn=Latin Capital Letter OO \u{A74E}", r"cn=latin capital letter oo \ea\9d\8f"),
        ("cn=Deseret Capital Letter Long I \u{10400}", r"cn=deseret capital letter long i \f0\90\90\a8"),
        ("cn=Smiley face emoji \u{1F600}", r"cn=smiley face emoji \f0\9f\98\80"),
        ("cn=United States Flag Emoji \u{1F1FA}\u{1F1F8}", r"cn=united states flag emoji \f0\9f\87\ba\f0\9f\87\b8"),
        ("1.2.3.4=foo", "1.2.3.4=foo"),
    ];

    /// RDNTestCase.getInvalidRDNStrings.
    const UNBOUNDID_INVALID_RDNS: &[&str] = &[
        "",
        "uid",
        "=test",
        "uid=test+=user",
        "uid=+sn",
        "cn=foo+sn=bar+",
        "cn=foo+sn=bar+ ",
        "cn=foo+sn=bar+givenName",
        "cn=foo+sn=bar+givenName=+",
        "cn=foo+sn=bar+givenName=,",
        "uid=test.user+",
        "uid=test.user,",
        "uid=test.user;",
        "uid=#746q",
        "uid=#00",
        r"uid=\74\6",
        r"uid=\74\6q",
        r#"cn="unclosed quote"#,
        r#"cn=quote in " the middle"#,
        r#"cn="value outside the " quotes"#,
        "not a valid RDN",
    ];

    #[test]
    fn unboundid_dn_test_case_valid() {
        // DNTestCase.getTestValidDNs derives DNs from every valid RDN.
        for &(rdn, expected) in UNBOUNDID_VALID_RDNS {
            assert_norm(rdn, expected);
            assert_norm(&format!("{rdn},dc=example,dc=com"), &format!("{expected},dc=example,dc=com"));
            assert_norm(&format!("{rdn};dc=example;dc=com"), &format!("{expected},dc=example,dc=com"));
            assert_norm(&format!("cn=foo,{rdn}"), &format!("cn=foo,{expected}"));
            assert_norm(&format!("cn=foo;{rdn}"), &format!("cn=foo,{expected}"));
        }
        for (input, expected) in [
            ("", ""),
            (" ", ""),
            ("    ", ""),
            ("dc=com", "dc=com"),
            ("DC=COM", "dc=com"),
            ("o=example.com+c=US", "c=us+o=example.com"),
            ("dc=example,dc=com", "dc=example,dc=com"),
            ("dc=example;dc=com", "dc=example,dc=com"),
            (" dc = example , dc = com ", "dc=example,dc=com"),
            (" dc = example ; dc = com ", "dc=example,dc=com"),
            ("  dc  =  example  ,  dc  =  com  ", "dc=example,dc=com"),
            ("  dc  =  example  ;  dc  =  com  ", "dc=example,dc=com"),
            ("o=Example Corp.+dc=example,dc=com", "dc=example+o=example corp.,dc=com"),
            ("o=Example Corp.+dc=example;dc=com", "dc=example+o=example corp.,dc=com"),
            (
                "dc=example+o=example corp.+description=foo+a=,dc=com",
                "a=+dc=example+description=foo+o=example corp.,dc=com",
            ),
            ("1.2.3.4=foo,5.6.7.8=bar", "1.2.3.4=foo,5.6.7.8=bar"),
            // getTestInvalidDNAttributes: only invalid with strict name checking.
            ("attribute_with_underscore=foo", "attribute_with_underscore=foo"),
            ("-starts-with-hyphen=foo", "-starts-with-hyphen=foo"),
            ("1.2..3.4=foo", "1.2..3.4=foo"),
            ("valid=foo,_invalid=bar", "valid=foo,_invalid=bar"),
            ("<GUID=f3ddad46-4332-4871-ae1a-92aa29b0887f>", r"<guid=f3ddad46-4332-4871-ae1a-92aa29b0887f\>"),
        ] {
            assert_norm(input, expected);
        }
    }

    #[test]
    fn unboundid_128_byte_ber_value() {
        let mut input = String::from("cn=#048180");
        let mut expected = String::from("cn=");
        for byte in 0u8..0x80 {
            input.push_str(&format!("{byte:02x}"));
        }
        for byte in 0u8..0x20 {
            expected.push_str(&format!("\\{byte:02x}"));
        }
        expected.push_str(r##" !\"#$%&'()*\+\,-./0123456789:\;\<\=\>?@abcdefghijklmnopqrstuvwxyz[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\7f"##);
        assert_norm(&input, &expected);
        // The same 128 characters as \XX escapes.
        let escaped: String = (0u8..0x80).map(|byte| format!("\\{byte:02x}")).collect();
        assert_norm(&format!("cn={escaped}"), &expected);
    }

    #[test]
    fn unboundid_dn_test_case_invalid() {
        for &rdn in UNBOUNDID_INVALID_RDNS {
            if !rdn.trim().is_empty() {
                assert_invalid(rdn);
            }
            assert_invalid(&format!(",{rdn}"));
            assert_invalid(&format!("{rdn},"));
            assert_invalid(&format!("cn=foo,{rdn}"));
            assert_invalid(&format!("{rdn},dc=example,dc=com"));
        }
        for input in [
            ",",
            ";",
            "dc=exaple,dc=com,",
            "dc=exaple,,dc=com,",
            "dc=exaple;;dc=com,",
            "dc=exaple,;dc=com,",
            "dc=example,dc=com, ",
            ",dc=example,dc=com",
            "dc=example,dc=com+",
            "dc=example,dc=com+ ",
            "dc=example+o=example corp.+,dc=com",
        ] {
            assert_invalid(input);
        }
    }

    #[test]
    fn spaces_in_values() {
        // RDNTestCase.getRDNsWithSpacesTestData: RDN.toString() output and normalized form.
        for (input, expected) in [
            (r"cn=\ ", r"cn=\ "),
            (r"cn=\ a", "cn=a"),
            (r"cn=a\ ", "cn=a"),
            (r"cn=\ a\ ", "cn=a"),
            (r"cn=\ \ ", r"cn=\ "),
            (r"cn=\  \ ", r"cn=\ "),
            ("cn=a b", "cn=a b"),
            (r"cn=\ a b\ ", "cn=a b"),
            (r"givenName=\ +sn=\ ", r"givenname=\ +sn=\ "),
            (r"givenName=\ \ +sn=\ \ ", r"givenname=\ +sn=\ "),
            (r"givenName=\  \ +sn=\  \ ", r"givenname=\ +sn=\ "),
            (r"givenName=\ a+sn=b\ ", "givenname=a+sn=b"),
            (r"givenName=a\ +sn=\ b", "givenname=a+sn=b"),
            (r"givenName=\ a\ +sn=\ b\ ", "givenname=a+sn=b"),
        ] {
            assert_norm(input, expected);
        }
        assert_norm("cn=  a   b  ,dc=x", "cn=a b,dc=x");
        assert_norm(r#"cn="  a   b  ""#, "cn=a b");
        assert_norm("cn=a\tb", r"cn=a\09b");
        // The trailing-space trim looks only at the input character before the space.
        assert_norm(r"cn=a\20", "cn=a");
        assert_norm(r"cn=a\20\20b", "cn=a b");
        assert_norm(r"cn=\20", r"cn=\ ");
        assert_norm(r"cn=a\\ ", r"cn=a\\");
        let raw_value = |s: &str| Dn::parse(s).unwrap().rdns()[0].avas()[0].value().to_vec();
        assert_eq!(raw_value(r"cn=a\20"), b"a");
        assert_eq!(raw_value(r"cn=a\\ "), b"a\\ ");
        assert_eq!(raw_value(r"cn=a\  "), b"a ");
        assert_eq!(raw_value(r#"cn=" a ""#), b" a");
    }

    #[test]
    fn escapes_and_special_characters() {
        // `=` inside a value is re-escaped, so this does not end with ",ou=a,dc=b" ...
        assert_norm(r"cn=x\,ou=a,dc=b", r"cn=x\,ou\=a,dc=b");
        // ... but an attribute name may end with a backslash, and names are not escaped.
        assert_norm(r"ou\=a,dc=b", r"ou\=a,dc=b");
        assert!(norm(r"cn=x\,ou\=a,dc=b").ends_with(&format!(",{}", norm(r"ou\=a,dc=b"))));
        assert_norm(r"cn=\#x", r"cn=\#x");
        assert_norm("cn=a#b", "cn=a#b");
        assert_norm(r"cn=\23a", r"cn=\#a");
        assert_norm("cn=a=b", r"cn=a\=b");
        assert_norm("cn=<a>", r"cn=\<a\>");
        assert_norm(r"cn=\zz", "cn=zz");
        assert_norm(r"cn=\é", r"cn=\c3\a9");
        assert_norm(r"cn=a\00b", r"cn=a\00b");
        assert_norm("cn=a\u{7f}", r"cn=a\7f");
        assert_norm("cn=,dc=x", "cn=,dc=x");
        assert_norm("cn=a;dc=x", "cn=a,dc=x");
        assert_norm(r#"cn="a,b;c+d""#, r"cn=a\,b\;c\+d");
        assert_norm(r#"cn="a\"b""#, r#"cn=a\"b"#);
        assert_norm(r#"cn="a"  ,dc=x"#, "cn=a,dc=x");
        assert_norm(r#"cn="""#, "cn=");
        assert_invalid(r#"cn="a"x"#);
        assert_invalid(r#"cn=a"b"#);
        assert_invalid(r#"cn="ab"#);
        assert_invalid(r"cn=a\");
        assert_invalid(r"cn=\4");
        assert_invalid(r"cn=\4g");
        assert_invalid(r"cn=\ag");
        assert_invalid(r"cn=\41\4");
    }

    #[test]
    fn hex_escapes_decode_as_utf8() {
        assert_norm(r"cn=Jos\C3\A9", r"cn=jos\c3\a9");
        assert_norm("cn=José", r"cn=jos\c3\a9");
        assert_norm("cn=JOSÉ", r"cn=jos\c3\a9");
        // Malformed UTF-8 becomes U+FFFD; separate runs are decoded separately.
        assert_norm(r"cn=\ff", r"cn=\ef\bf\bd");
        assert_norm(r"cn=\c3", r"cn=\ef\bf\bd");
        assert_norm(r"cn=\c3x\a9", r"cn=\ef\bf\bdx\ef\bf\bd");
        assert_norm(r"cn=\C3\A9\20x", r"cn=\c3\a9 x");
    }

    #[test]
    fn java_character_lowercasing_of_values() {
        // Per-character mapping: no final sigma, unlike str::to_lowercase.
        assert_norm("cn=ΟΔΟΣ", r"cn=\ce\bf\ce\b4\ce\bf\cf\83");
        assert_norm("cn=\u{130}", "cn=i");
        // Title-case letters are not upper-case: unchanged.
        assert_norm("cn=\u{1C5}", r"cn=\c7\85");
        // Only U+0020 counts as a space.
        assert_norm("cn=\u{a0}a\u{a0}", r"cn=\c2\a0a\c2\a0");
        // Attribute names use String.toLowerCase (full mapping), and are never escaped.
        assert_norm("ΟΔΟΣ=x", "οδος=x");
        assert_norm("\u{130}=x", "i\u{307}=x");
        assert_norm("a+b=c", "a+b=c");
        assert_norm("a=1+b+c=2", "a=1+b+c=2");
    }

    #[test]
    fn ber_values() {
        assert_norm("cn=#0403414243", "cn=abc");
        assert_norm("cn=#0c03414243", "cn=abc");
        assert_norm("cn=#0480", "cn=");
        assert_norm("cn=#0400", "cn=");
        assert_norm("cn=#04820003616263", "cn=abc");
        // Java int overflow of a long-form length: 0x0100000003 wraps to 3.
        assert_norm("cn=#04850100000003616263", "cn=abc");
        assert_norm("cn=#0403202020", r"cn=\ ");
        assert_norm("cn=#0401ff", r"cn=\ef\bf\bd");
        assert_norm("cn=#0403414243 ,dc=x", "cn=abc,dc=x");
        assert_norm("cn=#0403414243+sn=x", "cn=abc+sn=x");
        assert_invalid("cn=#");
        assert_invalid("cn=#04");
        assert_invalid("cn=#0402");
        assert_invalid("cn=#040341424");
        assert_invalid("cn=#04034142434");
        assert_invalid("cn=#040341424344");
        assert_invalid("cn=#0403414243x");
        assert_invalid("cn=#0403414243 x");
        assert_invalid("cn=#zz");
        assert_invalid("cn=#04 03414243");
        assert_invalid("cn=#0481");
    }

    #[test]
    fn multi_valued_rdn_order() {
        assert_norm("sn=x+CN=y", "cn=y+sn=x");
        // Equal components are kept once (TreeSet).
        assert_norm("cn=a+cn=A", "cn=a");
        assert_norm("cn=a+CN= A ", "cn=a");
        assert_norm("cn=b+cn=a+cn=b", "cn=a+cn=b");
        // Values compare as normalized bytes, shorter first.
        assert_norm("cn=ab+cn=a", "cn=a+cn=ab");
        assert_norm("cn=é+cn=z", r"cn=z+cn=\c3\a9");
        // Names compare as Java strings (UTF-16 units): U+10428 (D801 DC28) < U+FF41.
        assert_norm("\u{FF21}=1+\u{10400}=2", "\u{10428}=2+\u{FF41}=1");
        let dn = Dn::parse("cn=b+cn=a,dc=x").unwrap();
        let rdn = &dn.rdns()[0];
        assert!(rdn.is_multi_valued());
        assert_eq!(rdn.to_normalized_string(), "cn=a+cn=b");
        assert_eq!(rdn.avas()[0].value(), b"b");
    }

    #[test]
    fn whitespace_and_separators() {
        assert_norm("   ", "");
        assert_norm(" cn = a , dc = b ", "cn=a,dc=b");
        assert_norm("cn=a , dc=b", "cn=a,dc=b");
        assert_norm("cn=a ; dc=b", "cn=a,dc=b");
        assert_norm("cn=a + sn=b", "cn=a+sn=b");
        assert_invalid("cn=a,   ");
        assert_invalid("cn=a,,dc=b");
        assert_invalid("cn=a+");
        assert_invalid("cn=a+ ");
        assert_invalid("c,n=a");
        assert_invalid("cn a=b");
        assert_invalid(" =a");
        assert_invalid("*");
    }

    #[test]
    fn parsed_structure_and_errors() {
        let dn: Dn = "CN=José+SN=x, dc=#0403414243".parse().unwrap();
        assert!(!dn.is_empty());
        assert_eq!(dn.rdns().len(), 2);
        let first = &dn.rdns()[0];
        assert_eq!(first.avas().len(), 2);
        assert_eq!(first.avas()[0].name(), "CN");
        assert_eq!(first.avas()[0].value_lossy(), "José");
        assert_eq!(dn.rdns()[1].avas()[0].value(), b"ABC");
        assert_eq!(dn.to_normalized_string(), r"cn=jos\c3\a9+sn=x,dc=abc");
        assert!(Dn::parse("").unwrap().is_empty());

        let err = Dn::parse("Audi R8 owners").unwrap_err();
        assert_eq!(err.kind(), DnErrorKind::MissingEquals);
        assert_eq!(err.position(), 5);
        assert_eq!(
            err.to_string(),
            "invalid distinguished name `Audi R8 owners`: attribute name not followed by `=` at byte 5"
        );
        assert_eq!(Dn::parse("=bar").unwrap_err().kind(), DnErrorKind::MissingAttributeName);
        assert_eq!(Dn::parse("cn=a,").unwrap_err().kind(), DnErrorKind::EndsWithSeparator);
        assert_eq!(Dn::parse(r#"cn="a"#).unwrap_err().kind(), DnErrorKind::UnclosedQuote);
        assert_eq!(Dn::parse("cn=#00").unwrap_err().kind(), DnErrorKind::NotBerEncoded);
    }

    #[test]
    fn normalized_output_is_a_fixed_point() {
        for &(input, _) in UNBOUNDID_VALID_RDNS {
            let once = norm(input);
            assert_eq!(norm(&once), once, "input `{input}`");
        }
    }

    fn check_idempotent(s: &str) -> Result<(), TestCaseError> {
        if let Some(once) = normalize(s) {
            prop_assert_eq!(normalize(&once), Some(once.clone()), "input `{}`", s);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn idempotent_on_arbitrary_strings(s in ".*") {
            check_idempotent(&s)?;
        }

        #[test]
        fn idempotent_on_dn_like_strings(
            s in r##"([ ]{0,2}[a-cA-CΣİ.0-9<]{1,3}[ ]{0,2}=[ ]{0,2}([a-cA-C0-9 #="<>Σσ\u{130}é+,;]|\\[0-9a-fA-F]{2}|\\[ ,+\\"#zé]|#04[0-9]{2}[0-9a-f]{0,4}){0,6}[ ]{0,2}[,;+]){0,4}[a-c]=[a-c ]{0,3}"##
        ) {
            check_idempotent(&s)?;
        }

        #[test]
        fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let s = String::from_utf8_lossy(&bytes);
            let _ = normalize(&s);
            let _ = Dn::parse(&s);
        }
    }
}
