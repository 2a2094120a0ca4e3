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

use crate::parse::{StrictValue, strict_json};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustc_hash::FxHashSet;
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

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

/// A parsed, not yet validated, signed JWT.
#[derive(Clone)]
pub struct Token {
    /// The JOSE header.
    pub(crate) header: Map<String, Value>,
    /// `alg` from the header.
    pub(crate) alg: String,
    /// The claims, with registered claims checked for type.
    pub(crate) claims: Claims,
    /// `header.payload`, the bytes the signature covers.
    pub(crate) signing_input: String,
    /// The decoded signature. Never printed.
    pub(crate) signature: Vec<u8>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The signature is left out: with the payload it would let anyone
        // replay the token.
        f.debug_struct("Token").field("header", &self.header).field("claims", &self.claims).finish_non_exhaustive()
    }
}

/// Registered claims whose values must be JSON numbers (seconds since the epoch).
const DATE_CLAIMS: [&str; 3] = ["exp", "nbf", "iat"];

impl Token {
    /// Parses a compact JWS.
    pub fn parse(bearer: &str) -> Result<Token, NotAToken> {
        if bearer.len() > MAX_TOKEN_LEN {
            return Err(NotAToken("the token is longer than the 16 KiB an HTTP header may carry"));
        }
        let mut parts = bearer.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(NotAToken("a signed JWT has three dot-separated parts"));
        };
        let header = decode_json(header)?;
        let alg = match header.get("alg") {
            Some(Value::String(alg)) if alg == "none" => return Err(NotAToken("an unsecured JWT (`alg: none`)")),
            Some(Value::String(alg)) => alg.clone(),
            _ => return Err(NotAToken("the JOSE header has no string `alg`")),
        };
        check_header(&header)?;
        let mut claims = decode_claims(payload)?;
        check_registered_claims(&mut claims)?;
        let signature = decode_base64(signature).ok_or(NotAToken("the signature is not base64url"))?;
        let signing_input = bearer.rfind('.').map_or("", |end| &bearer[..end]).to_owned();
        Ok(Token { header, alg, claims, signing_input, signature })
    }

    /// The `kid` header, if it is a string.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// The `typ` header (parsing made sure it is a string when present).
    pub(crate) fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(Value::as_str)
    }
}

fn decode_base64(part: &str) -> Option<Vec<u8>> {
    // The engine refuses padding, the standard alphabet and non-canonical
    // trailing bits.
    URL_SAFE_NO_PAD.decode(part).ok()
}

/// Whether a JSON error is serde_json's recursion limit: a container
/// nested 128 deep, which is refused with its own message.
fn is_too_deep(message: &str) -> bool {
    message.starts_with("recursion limit exceeded")
}

fn decode_json(part: &str) -> Result<Map<String, Value>, NotAToken> {
    const NOT_JSON: NotAToken = NotAToken("the JOSE header is not base64url-encoded JSON");
    let bytes = decode_base64(part).ok_or(NOT_JSON)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| NOT_JSON)?;
    match strict_json(text) {
        Ok(Value::Object(object)) => Ok(object),
        Err(e) if matches!(e.kind(), crate::ErrorKind::Json(m) if is_too_deep(m)) => {
            Err(NotAToken("the JOSE header nests deeper than the JSON limit of 127 levels"))
        }
        _ => Err(NOT_JSON),
    }
}

/// The claims of a token, in token order.
///
/// A token holds a few dozen claims at most and each realm reads only a
/// handful, so a list searched by name costs less than a hash map built
/// for every token.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Claims(Vec<(String, Value)>);

impl Claims {
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub(crate) fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub(crate) fn into_iter(self) -> impl Iterator<Item = (String, Value)> {
        self.0.into_iter()
    }

    fn set(&mut self, name: &str, value: Value) {
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }
}

/// Reads the claims object, refusing a repeated claim name as the strict
/// JSON reader does for nested objects.
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
        let mut claims = Vec::new();
        // Past a few dozen names, a set keeps the duplicate check linear.
        let mut names: Option<FxHashSet<String>> = None;
        while let Some(key) = map.next_key::<String>()? {
            let repeated = match &mut names {
                Some(names) => !names.insert(key.clone()),
                None => claims.iter().any(|(k, _): &(String, Value)| *k == key),
            };
            if repeated {
                return Err(de::Error::custom("a claim name is repeated"));
            }
            if names.is_none() && claims.len() >= 32 {
                names = Some(claims.iter().map(|(k, _)| k.clone()).chain(std::iter::once(key.clone())).collect());
            }
            let value = map.next_value_seed(StrictValue)?;
            claims.push((key, value));
        }
        Ok(Claims(claims))
    }
}

fn decode_claims(part: &str) -> Result<Claims, NotAToken> {
    const NOT_JSON: NotAToken = NotAToken("the payload is not base64url-encoded JSON");
    let bytes = decode_base64(part).ok_or(NOT_JSON)?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    // A JWT is UTF-8 JSON; serde_json already refuses invalid UTF-8 in strings.
    ClaimsSeed.deserialize(&mut de).and_then(|claims| de.end().map(|()| claims)).map_err(|e| {
        if is_too_deep(&e.to_string()) {
            NotAToken("the payload nests deeper than the JSON limit of 127 levels")
        } else {
            NOT_JSON
        }
    })
}

/// The JOSE types of the registered header parameters (nimbus
/// `JWSHeader.parse`): a wrong type makes the header, and so the token,
/// unparseable.
fn check_header(header: &Map<String, Value>) -> Result<(), NotAToken> {
    let strings = |v: &Value| v.as_array().is_some_and(|items| items.iter().all(Value::is_string));
    // A null parameter counts as absent, as nimbus reads it.
    for (name, value) in header.iter().filter(|(_, v)| !v.is_null()) {
        let ok = match name.as_str() {
            "kid" | "typ" | "cty" | "jku" | "x5u" | "x5t" | "x5t#S256" => value.is_string(),
            "jwk" => value.is_object(),
            "x5c" | "crit" => strings(value),
            "b64" => value.is_boolean(),
            _ => true,
        };
        if !ok {
            return Err(NotAToken("a registered JOSE header parameter has the wrong type"));
        }
    }
    Ok(())
}

/// The JOSE types of registered claims (nimbus `JWTClaimsSet.parse`): a
/// wrong type makes the claims set, and so the token, unparseable. A
/// numeric `sub` becomes its string form, as newer nimbus does, and a
/// string `aud` a one-element list. JSON `null` counts as absent.
fn check_registered_claims(claims: &mut Claims) -> Result<(), NotAToken> {
    claims.0.retain(|(_, v)| !v.is_null());
    for name in ["iss", "jti"] {
        if claims.get(name).is_some_and(|v| !v.is_string()) {
            return Err(NotAToken("a registered string claim (`iss`, `jti`) is not a string"));
        }
    }
    if let Some(Value::Number(n)) = claims.get("sub") {
        let text = n.to_string();
        claims.set("sub", Value::String(text));
    }
    if claims.get("sub").is_some_and(|v| !v.is_string()) {
        return Err(NotAToken("the `sub` claim is not a string"));
    }
    match claims.get("aud") {
        None => {}
        Some(Value::String(s)) => {
            let list = Value::Array(vec![Value::String(s.clone())]);
            claims.set("aud", list);
        }
        // nimbus copies the list into a string array, which keeps nulls.
        Some(Value::Array(items)) if items.iter().all(|v| v.is_string() || v.is_null()) => {}
        Some(_) => return Err(NotAToken("the `aud` claim is not a string or an array of strings")),
    }
    for name in DATE_CLAIMS {
        if claims.get(name).is_some_and(|v| !v.is_number()) {
            return Err(NotAToken("a date claim (`exp`, `nbf`, `iat`) is not a number"));
        }
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

    fn encode(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    fn token(header: &str, claims: &str) -> String {
        format!("{}.{}.{}", encode(header), encode(claims), encode("sig"))
    }

    #[test]
    fn parses_a_signed_jwt() {
        let t = Token::parse(&token(r#"{"alg":"HS256","kid":"k"}"#, r#"{"sub":42,"aud":"a","exp":1.9}"#)).unwrap();
        assert_eq!(t.alg, "HS256");
        assert_eq!(t.kid(), Some("k"));
        assert_eq!(t.claims.get("sub").unwrap(), "42");
        assert_eq!(t.claims.get("aud").unwrap(), &serde_json::json!(["a"]));
        assert_eq!(millis(t.claims.get("exp").unwrap()), Some(1000));
        assert_eq!(millis(&serde_json::json!(18446744073709551615u64)), Some(-1000));
        assert!(millis(&serde_json::json!(1e300)).is_some_and(|ms| ms < 0));
        assert_eq!(t.signature, b"sig");
        assert!(t.signing_input.ends_with(&encode(r#"{"sub":42,"aud":"a","exp":1.9}"#)));
        assert!(!format!("{t:?}").contains("sig\""));
        // A null header parameter is an absent one.
        let t = Token::parse(&token(r#"{"alg":"HS256","typ":null,"kid":null}"#, "{}")).unwrap();
        assert_eq!((t.typ(), t.kid()), (None, None));
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
            token(r#"{"alg":"HS256"}"#, r#"{"sub":"a","sub":"b"}"#),
            format!("{}=.{}.{}", encode(r#"{"alg":"HS256"}"#), encode("{}"), encode("s")),
            "x".repeat(MAX_TOKEN_LEN + 1),
        ] {
            assert!(Token::parse(&bad).is_err(), "{bad}");
        }
    }
}
