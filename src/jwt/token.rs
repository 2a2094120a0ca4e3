//! Compact JWS parsing, as the realm sees a bearer token before validating it.
//!
//! A token that does not parse is not an error for a realm: Elasticsearch
//! passes it over (spec §2.1), so parsing answers `None`-like
//! [`NotAToken`] and the chain reports the token as not handled. What is
//! accepted follows nimbus-jose-jwt's `SignedJWT.parse` and
//! `JWTClaimsSet.parse` (spec §2.7): three base64url parts, a JSON header
//! with a string `alg` other than `none`, a JSON claims object whose
//! registered claims have their JOSE types. Stricter than nimbus in one way
//! that cannot reject a token a signer produced: base64url must be
//! canonical (no padding, no `+` or `/`), and JSON objects must not repeat a
//! key.

use super::keys::Algorithm;
use super::members::{self, Members};
use crate::parse::visit_scalars;
use hashbrown::HashTable;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, RandomState};

/// The longest bearer token read, in bytes: Elasticsearch's default HTTP
/// header limit (`http.max_header_size`, 16 KiB), which a longer token
/// could not get through.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Why a bearer string is not a signed JWT (the realm then ignores it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAToken(pub(crate) &'static str);

impl fmt::Display for NotAToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A parsed, not yet validated, signed JWT, borrowing the bearer string.
#[derive(Clone)]
pub struct Token<'a> {
    /// The JOSE header parameters a realm reads.
    pub(crate) header: Header,
    /// The claims, with registered claims checked for type.
    pub(crate) claims: Claims,
    /// `header.payload`, the bytes the signature covers.
    pub(crate) signing_input: &'a str,
    /// The decoded signature (inline up to RSA-4096's 512 bytes). Never printed.
    pub(crate) signature: SmallVec<[u8; 512]>,
}

impl fmt::Debug for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The signature is left out: with the payload it would let anyone
        // replay the token.
        f.debug_struct("Token").field("header", &self.header).field("claims", &self.claims).finish_non_exhaustive()
    }
}

/// Registered claims whose values must be JSON numbers (seconds since the epoch).
const DATE_CLAIMS: [&str; 3] = ["exp", "nbf", "iat"];

impl<'a> Token<'a> {
    /// Parses a compact JWS.
    pub fn parse(bearer: &'a str) -> Result<Token<'a>, NotAToken> {
        if bearer.len() > MAX_TOKEN_LEN {
            return Err(NotAToken("the token is longer than the 16 KiB an HTTP header may carry"));
        }
        // The dots are found with SIMD: a token is mostly its signature, and
        // the whole of it is searched for a fourth part.
        let mut dots = memchr::memchr_iter(b'.', bearer.as_bytes());
        let (Some(first), Some(second), None) = (dots.next(), dots.next(), dots.next()) else {
            return Err(NotAToken("a signed JWT has three dot-separated parts"));
        };
        let (header, payload, signature_part) = (&bearer[..first], &bearer[first + 1..second], &bearer[second + 1..]);
        // Header and payload are decoded into one buffer in turn, on the
        // stack unless the payload is large.
        let mut buffer = SmallVec::new();
        let header = decode_header(header, &mut buffer)?;
        let mut claims = decode_object(payload, &mut buffer)?;
        check_registered_claims(&mut claims)?;
        let mut signature = SmallVec::new();
        decode_base64(signature_part, &mut signature).ok_or(NotAToken("the signature is not base64url"))?;
        let signing_input = &bearer[..bearer.len() - signature_part.len() - 1];
        Ok(Token { header, claims, signing_input, signature })
    }

    /// `alg` from the header.
    pub(crate) fn alg(&self) -> Result<Algorithm, &str> {
        match &self.header.alg {
            Alg::Known(alg) => Ok(*alg),
            Alg::Other(name) => Err(name),
        }
    }

    /// The `kid` header.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }

    /// The `typ` header.
    pub(crate) fn typ(&self) -> Option<Typ> {
        self.header.typ
    }
}

/// Decodes base64url into `out` (emptied first). Padding, the standard
/// alphabet and non-canonical trailing bits are refused.
fn decode_base64<const N: usize>(part: &str, out: &mut SmallVec<[u8; N]>) -> Option<()> {
    let engine = base64_simd::URL_SAFE_NO_PAD;
    out.clear();
    out.resize(engine.estimated_decoded_length(part.len()), 0);
    let len = engine.decode(part.as_bytes(), base64_simd::Out::from_slice(out)).ok()?.len();
    out.truncate(len);
    Some(())
}

/// Whether a JSON error is serde_json's recursion limit: a container
/// nested 128 deep, which is refused with its own message.
fn is_too_deep(message: &str) -> bool {
    message.starts_with("recursion limit exceeded")
}

/// The two JSON parts of a token, for messages.
#[derive(Clone, Copy)]
enum Part {
    Header,
    Payload,
}

/// Decodes base64url UTF-8 JSON into `buffer` and reads it with `seed`.
fn decode_part<'b, T>(
    part: &str,
    buffer: &'b mut SmallVec<[u8; 2048]>,
    which: Part,
    seed: impl DeserializeSeed<'b, Value = T>,
) -> Result<T, NotAToken> {
    let (not_json, too_deep) = match which {
        Part::Header => (
            NotAToken("the JOSE header is not base64url-encoded JSON"),
            NotAToken("the JOSE header nests deeper than the JSON limit of 127 levels"),
        ),
        Part::Payload => (
            NotAToken("the payload is not base64url-encoded JSON"),
            NotAToken("the payload nests deeper than the JSON limit of 127 levels"),
        ),
    };
    decode_base64(part, buffer).ok_or_else(|| not_json.clone())?;
    // A JWT is UTF-8 JSON. Checked at once for the whole part (mostly
    // ASCII, a word at a time), which spares the reader checking each string.
    let text = std::str::from_utf8(buffer).map_err(|_| not_json.clone())?;
    let mut de = serde_json::Deserializer::from_str(text);
    seed.deserialize(&mut de)
        .and_then(|value| de.end().map(|()| value))
        .map_err(|e| if is_too_deep(&e.to_string()) { too_deep } else { not_json })
}

fn decode_object(part: &str, buffer: &mut SmallVec<[u8; 2048]>) -> Result<Claims, NotAToken> {
    decode_part(part, buffer, Part::Payload, ClaimsSeed)
}

/// The JOSE header parameters a realm reads; the others are only checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    pub(crate) alg: Alg,
    pub(crate) kid: Option<String>,
    pub(crate) typ: Option<Typ>,
    /// Whether `crit` names any parameter.
    pub(crate) crit: bool,
}

/// `alg`: one this crate knows (by exact name), or another, kept for
/// messages.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Alg {
    Known(Algorithm),
    Other(Box<str>),
}

/// `typ`, as far as a realm tells values apart (case-insensitively).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Typ {
    Jwt,
    /// `at+jwt`, which access tokens may carry.
    AtJwt,
    Other,
}

/// The JOSE types of the registered header parameters (nimbus
/// `JWSHeader.parse`): `alg` a string other than `none`, and a wrong type
/// of another makes the header, and so the token, unparseable. A null
/// parameter counts as absent, as nimbus reads it.
fn decode_header(part: &str, buffer: &mut SmallVec<[u8; 2048]>) -> Result<Header, NotAToken> {
    let read = decode_part(part, buffer, Part::Header, HeaderSeed)?;
    match read.alg {
        Some(alg) if alg == "none" => Err(NotAToken("an unsecured JWT (`alg: none`)")),
        None => Err(NotAToken("the JOSE header has no string `alg`")),
        Some(_) if read.wrong_type => Err(NotAToken("a registered JOSE header parameter has the wrong type")),
        Some(alg) => {
            let alg = alg.parse().map_or_else(|_| Alg::Other(alg.into()), Alg::Known);
            Ok(Header { alg, kid: read.kid, typ: read.typ, crit: read.crit })
        }
    }
}

/// A header as read, before its checks.
#[derive(Default)]
struct ReadHeader<'de> {
    /// `None` when absent or not a string.
    alg: Option<Cow<'de, str>>,
    kid: Option<String>,
    typ: Option<Typ>,
    crit: bool,
    wrong_type: bool,
}

struct HeaderSeed;

impl<'de> DeserializeSeed<'de> for HeaderSeed {
    type Value = ReadHeader<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<ReadHeader<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HeaderSeed {
    type Value = ReadHeader<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JOSE header")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReadHeader<'de>, A::Error> {
        let mut header = ReadHeader::default();
        let mut names = Names::default();
        while let Some(name) = map.next_key_seed(NameSeed)? {
            let param = map.next_value_seed(ParamSeed)?;
            let ok = match (name.as_ref(), param) {
                (_, Param::Null) => true,
                ("alg", Param::Str(alg)) => {
                    header.alg = Some(alg);
                    true
                }
                ("alg", _) => {
                    header.alg = None;
                    true
                }
                ("kid", Param::Str(kid)) => {
                    header.kid = Some(kid.into_owned());
                    true
                }
                ("typ", Param::Str(typ)) => {
                    header.typ = Some(if typ.eq_ignore_ascii_case("JWT") {
                        Typ::Jwt
                    } else if typ.eq_ignore_ascii_case("at+jwt") {
                        Typ::AtJwt
                    } else {
                        Typ::Other
                    });
                    true
                }
                ("crit", Param::Strings(n)) => {
                    header.crit = n > 0;
                    true
                }
                ("kid" | "typ" | "cty" | "jku" | "x5u" | "x5t" | "x5t#S256", p) => matches!(p, Param::Str(_)),
                ("jwk", p) => matches!(p, Param::Object),
                ("x5c" | "crit", p) => matches!(p, Param::Strings(_)),
                ("b64", p) => matches!(p, Param::Bool),
                _ => true,
            };
            header.wrong_type |= !ok;
            if !names.insert(name) {
                return Err(de::Error::custom("a header parameter is repeated"));
            }
        }
        Ok(header)
    }
}

/// A header parameter's value, as far as its type check needs.
enum Param<'de> {
    Null,
    Str(Cow<'de, str>),
    Bool,
    /// An array of strings, of this length.
    Strings(usize),
    Object,
    Other,
}

struct ParamSeed;

impl<'de> DeserializeSeed<'de> for ParamSeed {
    type Value = Param<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Param<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ParamSeed {
    type Value = Param<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Param<'de>, E> {
        Ok(Param::Bool)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Param<'de>, E> {
        Ok(Param::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Param<'de>, E> {
        Ok(Param::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Param<'de>, E> {
        Ok(Param::Other)
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Param<'de>, E> {
        Ok(Param::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Param<'de>, E> {
        Ok(Param::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_unit<E>(self) -> Result<Param<'de>, E> {
        Ok(Param::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Param<'de>, A::Error> {
        let (mut len, mut strings) = (0, true);
        while let Some(param) = seq.next_element_seed(ParamSeed)? {
            len += 1;
            strings &= matches!(param, Param::Str(_));
        }
        Ok(if strings { Param::Strings(len) } else { Param::Other })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Param<'de>, A::Error> {
        Checked.visit_map(map).map(|()| Param::Object)
    }
}

/// The claims of a token, in token order.
pub(crate) type Claims = Members;

/// What a claim's name becomes in the user's metadata: `jwt_claim_<name>`.
pub(crate) const METADATA_PREFIX: &str = "jwt_claim_";

/// Reads a JSON object of a token, refusing a repeated member name as the
/// strict JSON reader does for nested objects. Each claim name is written
/// after [`METADATA_PREFIX`], so that the last realm turns the claims into
/// metadata in place.
struct ClaimsSeed;

impl<'de> DeserializeSeed<'de> for ClaimsSeed {
    type Value = Claims;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Claims, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ClaimsSeed {
    type Value = Claims;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Claims, A::Error> {
        // Room for the claims of most tokens without growing.
        let mut claims = Claims::with_capacity(16, 384);
        // A repeated name is looked for in the claims themselves, one by
        // one among the first few dozen; past that, in an index of them by
        // name, so that reading stays linear.
        let mut index: Option<(HashTable<usize>, RandomState)> = None;
        while let Some(key) = map.next_key_seed(NameSeed)? {
            let value = map.next_value_seed(MemberValue::Member)?;
            let new = match &mut index {
                None => claims.push_after_new(METADATA_PREFIX, &key, value),
                Some((index, keys)) => {
                    let hash = keys.hash_one(&*key);
                    let new = index.find(hash, |&i| claims.name_at(i) == key).is_none();
                    if new {
                        index.insert_unique(hash, claims.len(), |&i| keys.hash_one(claims.name_at(i)));
                        claims.push_after(METADATA_PREFIX, &key, value);
                    }
                    new
                }
            };
            if !new {
                return Err(de::Error::custom("a claim name is repeated"));
            }
            if index.is_none() && claims.len() > MANY_NAMES {
                let (mut table, keys) = (HashTable::with_capacity(2 * claims.len()), RandomState::new());
                for i in 0..claims.len() {
                    table.insert_unique(keys.hash_one(claims.name_at(i)), i, |&j| keys.hash_one(claims.name_at(j)));
                }
                index = Some((table, keys));
            }
        }
        Ok(claims)
    }
}

/// A member's value. Nothing reads inside an object or a nested array of a
/// token: a realm reads strings and arrays of strings, and metadata keeps
/// only scalars and flat arrays of them (spec §3.5). So scalars and arrays
/// are kept, while an object, and a container inside an array, is checked
/// as strictly as the rest (no repeated names, the nesting limit) and kept
/// empty: an IdP's large nested claims cost no allocation.
#[derive(Clone, Copy)]
enum MemberValue {
    /// The value of a member.
    Member,
    /// An element of an array that is a member's value.
    Element,
}

impl<'de> DeserializeSeed<'de> for MemberValue {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MemberValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    visit_scalars!();
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if let MemberValue::Element = self {
            return Checked.visit_seq(seq).map(|()| Value::Array(Vec::new()));
        }
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
        while let Some(item) = seq.next_element_seed(MemberValue::Element)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        Checked.visit_map(map).map(|()| Value::Object(serde_json::Map::new()))
    }
}

/// Any JSON value, read and checked (no repeated names in an object) but
/// not kept.
struct Checked;

impl<'de> DeserializeSeed<'de> for Checked {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Checked {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Checked)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut names = Names::default();
        while let Some(name) = map.next_key_seed(NameSeed)? {
            if !names.insert(name) {
                return Err(de::Error::custom("a member name is repeated"));
            }
            map.next_value_seed(Checked)?;
        }
        Ok(())
    }
}

/// How many names of an object are searched one by one for a repeated
/// one. Past that they are hashed, with std's randomly keyed hasher: the
/// names are the sender's, read before the signature is checked, and a
/// token written so that they collide would make the search quadratic.
const MANY_NAMES: usize = 32;

/// The names of an object read so far, to refuse a repeated one.
#[derive(Default)]
struct Names<'de> {
    /// With each name its [`members::tag`], compared first.
    few: SmallVec<[(u64, Cow<'de, str>); 16]>,
    /// Past a few dozen names, a set keeps the check linear.
    many: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> Names<'de> {
    /// Whether `name` is new.
    fn insert(&mut self, name: Cow<'de, str>) -> bool {
        if let Some(set) = &mut self.many {
            return set.insert(name);
        }
        let tag = members::tag(&name);
        if self.few.iter().any(|(t, n)| *t == tag && *n == name) {
            return false;
        }
        if self.few.len() >= MANY_NAMES {
            let mut all: HashSet<_> = self.few.drain(..).map(|(_, n)| n).collect();
            all.insert(name);
            self.many = Some(all);
        } else {
            self.few.push((tag, name));
        }
        true
    }
}

/// A member name, borrowed from the JSON text unless it holds escapes.
struct NameSeed;

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

/// The JOSE types of registered claims (nimbus `JWTClaimsSet.parse`): a
/// wrong type makes the claims set, and so the token, unparseable. A
/// numeric `sub` becomes its string form, as newer nimbus does, and a
/// string `aud` a one-element list. JSON `null` counts as absent.
fn check_registered_claims(claims: &mut Claims) -> Result<(), NotAToken> {
    claims.retain(|v| !v.is_null());
    // One pass over the claims, matching each name, rather than a search
    // for each registered name.
    claims.try_for_each_mut(check_registered_claim)
}

fn check_registered_claim(name: &str, value: &mut Value) -> Result<(), NotAToken> {
    match (name, &mut *value) {
        ("iss" | "jti", Value::String(_)) => {}
        ("iss" | "jti", _) => return Err(NotAToken("a registered string claim (`iss`, `jti`) is not a string")),
        ("sub", Value::String(_)) => {}
        ("sub", Value::Number(n)) => *value = Value::String(n.to_string()),
        ("sub", _) => return Err(NotAToken("the `sub` claim is not a string")),
        ("aud", Value::String(s)) => *value = Value::Array(vec![Value::String(std::mem::take(s))]),
        // nimbus copies the list into a string array, which keeps nulls.
        ("aud", Value::Array(items)) if items.iter().all(|v| v.is_string() || v.is_null()) => {}
        ("aud", _) => return Err(NotAToken("the `aud` claim is not a string or an array of strings")),
        (name, value) if DATE_CLAIMS.contains(&name) && !value.is_number() => {
            return Err(NotAToken("a date claim (`exp`, `nbf`, `iat`) is not a number"));
        }
        _ => {}
    }
    Ok(())
}

/// A date claim in milliseconds, as nimbus computes it: the number's Java
/// `longValue()` (fractions truncated, doubles saturated, integers past 64
/// bits wrapped), times 1000 in wrapping 64-bit arithmetic. So an absurdly
/// large `exp` wraps to the past, as it does in Elasticsearch.
pub(crate) fn millis(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else { return None };
    let secs = if let Some(i) = n.as_i64() {
        i
    } else if let Some(u) = n.as_u64() {
        u as i64
    } else {
        n.as_f64()? as i64
    };
    Some(secs.wrapping_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    proptest! {
        /// The SIMD decoder is exactly as strict as the `base64` crate's
        /// (the one that encodes tokens here), on text near base64url.
        #[test]
        fn base64url_is_read_as_the_base64_crate_reads_it(text in "[A-Za-z0-9_+/=. -]{0,80}") {
            let mut out: SmallVec<[u8; 16]> = SmallVec::new();
            let ours = decode_base64(&text, &mut out).map(|()| out.to_vec());
            prop_assert_eq!(ours, URL_SAFE_NO_PAD.decode(&text).ok());
        }

        #[test]
        fn base64url_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut out: SmallVec<[u8; 16]> = SmallVec::new();
            prop_assert_eq!(decode_base64(&URL_SAFE_NO_PAD.encode(&bytes), &mut out), Some(()));
            prop_assert_eq!(&out[..], &bytes[..]);
        }

        /// Claims are read exactly when their names are distinct, however
        /// many there are and whether a name is written with an escape.
        #[test]
        fn claims_with_distinct_names_are_read_and_others_refused(
            distinct in proptest::collection::btree_set("[a-f]{1,3}", 0..70),
            escaped in proptest::collection::vec(any::<bool>(), 71),
            repeat in proptest::option::of((any::<proptest::sample::Index>(), any::<proptest::sample::Index>())),
        ) {
            let mut names: Vec<String> = distinct.into_iter().collect();
            let repeated = match repeat {
                Some((which, at)) if !names.is_empty() => {
                    let name = names[which.index(names.len())].clone();
                    names.insert(at.index(names.len() + 1), name);
                    true
                }
                _ => false,
            };
            let members: Vec<String> = names
                .iter()
                .zip(&escaped)
                .enumerate()
                .map(|(i, (name, escaped))| {
                    let first = u32::from(name.as_bytes()[0]);
                    let written = if *escaped { format!("\\u{first:04x}{}", &name[1..]) } else { name.clone() };
                    format!(r#""{written}":{i}"#)
                })
                .collect();
            let text = token(r#"{"alg":"HS256"}"#, &format!("{{{}}}", members.join(",")));
            let parsed = Token::parse(&text);
            prop_assert_eq!(parsed.is_ok(), !repeated);
            if let Ok(t) = parsed {
                prop_assert_eq!(t.claims.len(), names.len());
                for (i, name) in names.iter().enumerate() {
                    prop_assert_eq!(t.claims.get(name), Some(&serde_json::json!(i)));
                }
            }
        }
    }

    fn encode(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    fn token(header: &str, claims: &str) -> String {
        format!("{}.{}.{}", encode(header), encode(claims), encode("sig"))
    }

    #[test]
    fn parses_a_signed_jwt() {
        let text = token(r#"{"alg":"HS256","kid":"k","typ":"at+JWT"}"#, r#"{"sub":42,"aud":"a","exp":1.9}"#);
        let t = Token::parse(&text).unwrap();
        assert_eq!(t.typ(), Some(Typ::AtJwt));
        assert_eq!(t.alg(), Ok(Algorithm::HS256));
        assert_eq!(t.kid(), Some("k"));
        assert_eq!(t.claims.get("sub").unwrap(), "42");
        assert_eq!(t.claims.get("aud").unwrap(), &serde_json::json!(["a"]));
        assert_eq!(millis(t.claims.get("exp").unwrap()), Some(1000));
        assert_eq!(millis(&serde_json::json!(18446744073709551615u64)), Some(-1000));
        assert!(millis(&serde_json::json!(1e300)).is_some_and(|ms| ms < 0));
        assert_eq!(&t.signature[..], b"sig");
        assert!(t.signing_input.ends_with(&encode(r#"{"sub":42,"aud":"a","exp":1.9}"#)));
        assert!(!format!("{t:?}").contains("sig\""));
        // A null header parameter is an absent one.
        let text = token(r#"{"alg":"HS256","typ":null,"kid":null}"#, "{}");
        let t = Token::parse(&text).unwrap();
        assert_eq!((t.typ(), t.kid()), (None, None));
        // An algorithm this crate does not know is kept by name.
        let text = token(r#"{"alg":"XS256","typ":"jwt"}"#, "{}");
        let t = Token::parse(&text).unwrap();
        assert_eq!((t.alg(), t.typ()), (Err("XS256"), Some(Typ::Jwt)));
        let text = token(r#"{"alg":"hs256","typ":"JOSE"}"#, "{}");
        let t = Token::parse(&text).unwrap();
        assert_eq!((t.alg(), t.typ()), (Err("hs256"), Some(Typ::Other)));
    }

    #[test]
    fn nested_containers_are_checked_and_kept_empty() {
        let text = token(
            r#"{"alg":"HS256","jwk":{"kty":"oct","k":"AAAA"}}"#,
            r#"{"address":{"city":"A","zip":"1"},"mixed":["a",1,null,{"b":[2]},[3]],"groups":["x","y"]}"#,
        );
        let t = Token::parse(&text).unwrap();
        assert_eq!(t.claims.get("address"), Some(&serde_json::json!({})));
        assert_eq!(t.claims.get("mixed"), Some(&serde_json::json!(["a", 1, null, {}, []])));
        assert_eq!(t.claims.get("groups"), Some(&serde_json::json!(["x", "y"])));
        // Still as strict inside: a repeated name at any depth, in a small
        // or a large object, is not JSON a token may carry.
        let wide: Vec<String> = (0..40).map(|i| format!(r#""k{i}":{i}"#)).collect();
        for claims in [
            r#"{"address":{"city":"A","city":"B"}}"#.to_owned(),
            r#"{"x":[{"a":1,"a":2}]}"#.to_owned(),
            r#"{"x":{"y":[[{"a":1,"\u0061":2}]]}}"#.to_owned(),
            format!(r#"{{"x":{{{},"k39":0}}}}"#, wide.join(",")),
        ] {
            assert!(Token::parse(&token(r#"{"alg":"HS256"}"#, &claims)).is_err(), "{claims}");
        }
        let distinct = format!(r#"{{"x":{{{}}}}}"#, wide.join(","));
        assert!(Token::parse(&token(r#"{"alg":"HS256"}"#, &distinct)).is_ok());
        // The claims themselves, searched one by one up to 32 names and in
        // an index past that: the first or the last name read repeated,
        // plainly or through an escape, after fewer, just as many, one
        // more and more claims than that.
        for n in [2, MANY_NAMES, MANY_NAMES + 1, 40] {
            let claims = |extra: &str| format!("{{{}{extra}}}", wide[..n].join(","));
            let last = n - 1;
            for repeat in [r#","k0":0"#.to_owned(), format!(r#","k{last}":0"#), format!(r#","\u006b{last}":0"#)] {
                let text = token(r#"{"alg":"HS256"}"#, &claims(&repeat));
                assert!(Token::parse(&text).is_err(), "{n} {repeat}");
            }
            let text = token(r#"{"alg":"HS256"}"#, &claims(r#","k40":0,"\u006b41":1"#));
            let t = Token::parse(&text).unwrap();
            assert_eq!(t.claims.len(), n + 2);
            assert_eq!(
                (t.claims.get("k1"), t.claims.get("k41")),
                (Some(&serde_json::json!(1)), Some(&serde_json::json!(1)))
            );
        }
    }

    #[test]
    fn what_is_not_a_token() {
        for bad in [
            String::new(),
            "a.b".into(),
            "a.b.c.d".into(),
            "a.b.c.d.e".into(),
            token(r#"{"alg":"none"}"#, "{}"),
            token(r#"{"typ":"JWT"}"#, "{}"),
            token(r#"{"alg":5}"#, "{}"),
            token(r#"{"alg":"HS256"}"#, "[]"),
            token(r#"{"alg":"HS256"}"#, r#"{"exp":"tomorrow"}"#),
            token(r#"{"alg":"HS256"}"#, r#"{"iss":1}"#),
            token(r#"{"alg":"HS256"}"#, r#"{"aud":[1]}"#),
            token(r#"{"alg":"HS256","kid":5}"#, "{}"),
            token(r#"{"alg":"HS256","typ":5}"#, "{}"),
            token(r#"{"alg":"HS256","jwk":"x"}"#, "{}"),
            token(r#"{"alg":"HS256","typ":"JWT","alg":"HS256"}"#, "{}"),
            token(r#"{"alg":"HS256","x5t#S256":"a","x5t#S256":"a"}"#, "{}"),
            token(r#"{"alg":"HS256","zip":"DEF","\u007aip":"DEF"}"#, "{}"),
            token(r#"{"alg":"HS256"}"#, r#"{"sub":"a","sub":"b"}"#),
            format!("{}=.{}.{}", encode(r#"{"alg":"HS256"}"#), encode("{}"), encode("s")),
            "x".repeat(MAX_TOKEN_LEN + 1),
        ] {
            assert!(Token::parse(&bad).is_err(), "{bad}");
        }
    }
}
