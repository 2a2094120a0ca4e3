//! JWK sets, key filtering and JWS signature verification for the `jwt` realm.
//!
//! This module re-implements what Elasticsearch does with key material in
//! `JwkValidateUtil` (load-time filtering, `hmac_key` loading), `JwtSignatureValidator.validateSignature`
//! (per-token key selection) and the parts of nimbus-jose-jwt 9.37.3 (`JWKSet.parse`, `JWK.parse`,
//! `MACVerifier`, `RSASSAVerifier`, `ECDSAVerifier`) that decide which JWK sets load and which
//! signatures verify.
//!
//! # Parsing ([`parse_jwk_set`])
//!
//! * Input longer than [`MAX_JWK_SET_LEN`] bytes or with more than [`MAX_JWK_SET_KEYS`] entries in
//!   `keys` is rejected before any key is looked at.
//! * Blank input (empty or whitespace only) is an empty set, as ES (`Strings.hasText` false → no keys).
//! * The document must be strict JSON (nimbus' Gson is lenient; we are not) and no object at any
//!   depth may repeat a member name.
//! * The top level must be an object with a `keys` array whose entries are all objects.
//! * An entry whose `kty` is not one of `oct`, `RSA`, `EC`, `OKP` (case-sensitive) is **skipped**, as
//!   nimbus does (RFC 7517 §5). Any other problem in any entry fails the **whole set**, as nimbus
//!   does ("Invalid JWK at position i"), which ES reports as `JWKSet parse failed for setting [..]`.
//! * A member whose value is JSON `null` counts as absent (nimbus `JSONObjectUtils`).
//! * `kid`, `alg`, `use` must be strings; `alg` and `use` may hold any value. `key_ops` must be an
//!   array of strings (null entries skipped), each one of the eight RFC 7517 operations. `use` and
//!   `key_ops` must be consistent (`sig` ↔ `sign`/`verify`; `enc` ↔ `encrypt`/`decrypt`/`wrapKey`/
//!   `unwrapKey`; any other `use` value is consistent with anything).
//! * `oct` needs `k`; `RSA` needs `n` and `e`; `EC` needs `crv` (`P-256`, `P-384`, `P-521`, `P-256K`),
//!   `x` and `y`, and the point must be on the curve; `OKP` needs `crv` (`Ed25519`, `Ed448`,
//!   `X25519`, `X448`) and `x`. Base64url values may be padded and may use the standard alphabet.
//! * `OKP` and `P-256K` keys load but are never usable (ES' `isMatch` knows only oct/RSA/EC and
//!   ES256/384/512 map to P-256/384/521 only).
//! * An RSA key that the JDK would refuse to turn into a public key (modulus outside 512..=16384
//!   bits, exponent < 3 or ≥ modulus, exponent over 64 bits with a modulus over 3072 bits) loads but
//!   is never usable: ES catches that exception in `isMatch` and drops the key.
//!
//! # Load-time filtering ([`JwkSet::filter`])
//!
//! A key is kept iff `use` is absent or `sig`, `key_ops` is absent or contains `verify`, and it is
//! usable ([`Jwk::usable_for`]) for at least one allowed algorithm. Usable: HS256/384/512 need an
//! `oct` key of ≥ 256/384/512 bits; RS*/PS* need an RSA key whose modulus, rounded **up** to whole
//! bytes as ES does, is ≥ 2048 bits; ES256/384/512 need an EC key on P-256/P-384/P-521.
//!
//! # Per-token selection ([`verify_signature`])
//!
//! kid filter (token kid absent → all keys; else keys with no kid or an equal kid), then `alg`
//! filter (key `alg` absent or equal to the token alg), then usability for the token alg; keys are
//! tried in order and the first that verifies wins.
//!
//! # Known deviations from ES / nimbus
//!
//! * nimbus compares a JWK `alg` with the token alg by `String.hashCode()`; we compare strings.
//! * nimbus validates `x5c` certificates against the key and `P-256K` points against secp256k1; we
//!   only check `x5c` is an array of strings and that `P-256K` coordinates are base64url.
//! * nimbus skips illegal base64 characters; we reject them. nimbus reduces EC coordinates mod p;
//!   we reject coordinates that are not canonical field elements (whole set fails).
//! * RSA moduli of 2041–2047 bits count as 2048 for ES (byte rounding) and so are usable here, but
//!   the backend (aws-lc) only verifies with moduli of 2048..=8192 bits, so such keys (and keys of
//!   8193..=16384 bits, which Java accepts) never verify a signature. The backend may also refuse
//!   exponents the JDK accepts (e.g. even or over 33 bits); such keys never verify.
//! * nimbus versions differ on a non-standard `use` combined with `key_ops`: older ones fail the
//!   set (`KeyUseAndOpsConsistency` looks the `use` up in a map and gets null), newer ones accept
//!   it. We accept it; which variant ES' bundled 9.37.3 has was not confirmed. The key is dropped
//!   by the `use` rule either way.
//! * A `crit` JOSE header makes every nimbus verifier return false; this module does not see
//!   headers, so the caller must treat a `crit` header as [`SignatureFailure::Failed`].
//!
//! # Secrets
//!
//! `oct` key bytes are consumed into prepared HMAC keys at load time and not kept; no `Debug`,
//! `Display` or error text contains key material or signatures.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

/// Largest JWK set document accepted by [`parse_jwk_set`], in bytes (1 MiB).
pub const MAX_JWK_SET_LEN: usize = 1 << 20;

/// Largest number of entries accepted in the `keys` array of a JWK set.
///
/// A token without `kid` is tried against every usable key, so this also bounds the work one
/// token can cause.
pub const MAX_JWK_SET_KEYS: usize = 256;

/// Longest piece of user input quoted in an error message, in characters.
const MAX_QUOTED: usize = 64;

// ---------------------------------------------------------------------------------------------
// Algorithm
// ---------------------------------------------------------------------------------------------

/// A JWS signature algorithm supported by the ES `jwt` realm (`allowed_signature_algorithms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256 (MGF1 SHA-256, salt length 32).
    PS256,
    /// RSASSA-PSS with SHA-384 (MGF1 SHA-384, salt length 48).
    PS384,
    /// RSASSA-PSS with SHA-512 (MGF1 SHA-512, salt length 64).
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// ECDSA on P-521 with SHA-512.
    ES512,
}

impl Algorithm {
    /// All twelve algorithms, in the order ES lists them.
    pub const ALL: [Algorithm; 12] = [
        Algorithm::HS256,
        Algorithm::HS384,
        Algorithm::HS512,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
    ];

    /// The JOSE name (`HS256`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
        }
    }

    /// True for HS256/384/512 (verified with `oct` keys from `hmac_key`/`hmac_jwkset`).
    pub const fn is_hmac(self) -> bool {
        matches!(self, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
    }

    /// True for RS* and PS* (verified with RSA keys).
    pub const fn is_rsa(self) -> bool {
        matches!(
            self,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        )
    }

    /// True for ES256/384/512 (verified with EC keys).
    pub const fn is_ec(self) -> bool {
        matches!(self, Algorithm::ES256 | Algorithm::ES384 | Algorithm::ES512)
    }

    /// Minimum `oct` key size in bits for an HMAC algorithm (nimbus `MACSigner.getMinRequiredSecretLength`).
    const fn min_hmac_bits(self) -> Option<usize> {
        match self {
            Algorithm::HS256 => Some(256),
            Algorithm::HS384 => Some(384),
            Algorithm::HS512 => Some(512),
            _ => None,
        }
    }

    /// The only curve an ECDSA algorithm accepts (nimbus `Curve.forJWSAlgorithm`).
    const fn curve(self) -> Option<Curve> {
        match self {
            Algorithm::ES256 => Some(Curve::P256),
            Algorithm::ES384 => Some(Curve::P384),
            Algorithm::ES512 => Some(Curve::P521),
            _ => None,
        }
    }

    /// Index into [`RsaKey::parsed`] for RS*/PS*.
    const fn rsa_index(self) -> Option<usize> {
        match self {
            Algorithm::RS256 => Some(0),
            Algorithm::RS384 => Some(1),
            Algorithm::RS512 => Some(2),
            Algorithm::PS256 => Some(3),
            Algorithm::PS384 => Some(4),
            Algorithm::PS512 => Some(5),
            _ => None,
        }
    }
}

/// aws-lc verification parameters for RS256, RS384, RS512, PS256, PS384, PS512 (same order as
/// [`Algorithm::rsa_index`]).
static RSA_PARAMS: [&sig::RsaParameters; 6] = [
    &sig::RSA_PKCS1_2048_8192_SHA256,
    &sig::RSA_PKCS1_2048_8192_SHA384,
    &sig::RSA_PKCS1_2048_8192_SHA512,
    &sig::RSA_PSS_2048_8192_SHA256,
    &sig::RSA_PSS_2048_8192_SHA384,
    &sig::RSA_PSS_2048_8192_SHA512,
];

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = KeyError;

    /// Parses a JOSE name, case-sensitively (`rs256` is rejected, as in ES).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .iter()
            .copied()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| KeyError::new(KeyErrorKind::UnknownAlgorithm, format!("unknown algorithm `{}`", quote(s))))
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// What went wrong while loading key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyErrorKind {
    /// The document is longer than [`MAX_JWK_SET_LEN`].
    TooLarge,
    /// `keys` has more than [`MAX_JWK_SET_KEYS`] entries.
    TooManyKeys,
    /// The document is not (strict) JSON.
    InvalidJson,
    /// An object repeats a member name.
    DuplicateMember,
    /// The document is JSON but not a JWK set (not an object, no `keys` array, a non-object entry).
    InvalidSet,
    /// One entry of `keys` is not a valid JWK; the whole set is rejected (nimbus behaviour).
    InvalidJwk,
    /// An algorithm name is not one of [`Algorithm::ALL`].
    UnknownAlgorithm,
}

/// Error loading key material. The message is lowercase, quotes user input in backticks and
/// never contains key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    kind: KeyErrorKind,
    message: String,
}

impl KeyError {
    fn new(kind: KeyErrorKind, message: String) -> Self {
        KeyError { kind, message }
    }

    fn jwk(position: usize, reason: &str) -> Self {
        KeyError::new(KeyErrorKind::InvalidJwk, format!("invalid jwk at position {position}: {reason}"))
    }

    /// The error category.
    pub fn kind(&self) -> KeyErrorKind {
        self.kind
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for KeyError {}

/// Truncates user input for quoting and neutralises backticks and control characters.
fn quote(s: &str) -> String {
    let mut out: String =
        s.chars().take(MAX_QUOTED).map(|c| if c == '`' || c.is_control() { '?' } else { c }).collect();
    if s.chars().nth(MAX_QUOTED).is_some() {
        out.push('…');
    }
    out
}

/// Why [`verify_signature`] rejected a token. Each maps to one ES message (see [`Self::es_message`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureFailure {
    /// The key list is empty (ES: "... not any JWKs available.").
    NoKeys,
    /// Keys exist but none survived the kid/alg/usability filters (ES: "... available after
    /// filtering for incompatible keys.").
    NoKeysAfterFiltering,
    /// At least one key was tried and none verified the signature.
    Failed,
}

impl SignatureFailure {
    /// The exact ES exception message. `redacted_jwt` is the token as ES prints it for the
    /// [`SignatureFailure::Failed`] case (`header.payload.<redacted-signature>`, see
    /// `JwtUtil.toStringRedactSignature`); it is ignored for the other cases.
    pub fn es_message(&self, redacted_jwt: &str) -> String {
        match self {
            SignatureFailure::NoKeys => {
                "Signature verification was not attempted since there are not any JWKs available.".to_owned()
            }
            SignatureFailure::NoKeysAfterFiltering => "Signature verification was not attempted since there are not \
                 any JWKs available after filtering for incompatible keys."
                .to_owned(),
            SignatureFailure::Failed => format!("JWT [{redacted_jwt}] signature verification failed."),
        }
    }
}

impl fmt::Display for SignatureFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureFailure::NoKeys => {
                "signature verification was not attempted since there are not any jwks available"
            }
            SignatureFailure::NoKeysAfterFiltering => {
                "signature verification was not attempted since there are not any jwks available after filtering \
                 for incompatible keys"
            }
            SignatureFailure::Failed => "signature verification failed",
        })
    }
}

impl std::error::Error for SignatureFailure {}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

/// Named curves nimbus accepts for `kty: EC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    const fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// Coordinate length in bytes.
    const fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    /// Field size in bits.
    const fn bits(self) -> usize {
        match self {
            Curve::P256 => 256,
            Curve::P384 => 384,
            Curve::P521 => 521,
        }
    }

    fn verification_algorithm(self) -> &'static sig::EcdsaVerificationAlgorithm {
        match self {
            Curve::P256 => &sig::ECDSA_P256_SHA256_FIXED,
            Curve::P384 => &sig::ECDSA_P384_SHA384_FIXED,
            Curve::P521 => &sig::ECDSA_P521_SHA512_FIXED,
        }
    }
}

/// Prepared HMAC keys for one `oct` JWK. The raw bytes are not kept.
#[derive(Clone)]
struct OctKey {
    bits: usize,
    hs256: hmac::Key,
    hs384: hmac::Key,
    hs512: hmac::Key,
}

impl OctKey {
    fn new(secret: &[u8]) -> Self {
        OctKey {
            bits: secret.len().saturating_mul(8),
            hs256: hmac::Key::new(hmac::HMAC_SHA256, secret),
            hs384: hmac::Key::new(hmac::HMAC_SHA384, secret),
            hs512: hmac::Key::new(hmac::HMAC_SHA512, secret),
        }
    }
}

impl fmt::Debug for OctKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OctKey").field("bits", &self.bits).field("k", &"***").finish()
    }
}

/// An RSA public key, prepared once per RS*/PS* algorithm.
#[derive(Clone)]
struct RsaKey {
    /// Modulus length rounded up to whole bytes, as ES `computeBitLengthRsa`.
    bits: usize,
    /// `None` when the JDK would not build the key (ES drops it in `isMatch`).
    parsed: Option<Box<[ParsedPublicKey; 6]>>,
}

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaKey").field("bits", &self.bits).field("valid", &self.parsed.is_some()).finish()
    }
}

/// An EC public key on a supported curve, prepared for its one ECDSA algorithm.
#[derive(Clone)]
struct EcKey {
    curve: Curve,
    parsed: ParsedPublicKey,
}

impl fmt::Debug for EcKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcKey").field("crv", &self.curve.name()).finish()
    }
}

#[derive(Debug, Clone)]
enum Material {
    Oct(Box<OctKey>),
    Rsa(RsaKey),
    Ec(EcKey),
    /// Parsed by nimbus but never usable by ES (`OKP` keys, `EC` on `P-256K`).
    Unusable {
        kty: &'static str,
        crv: &'static str,
    },
}

/// One parsed JWK with its verification key prepared.
///
/// `Debug` shows metadata and sizes only, never key bytes.
#[derive(Debug, Clone)]
pub struct Jwk {
    kid: Option<String>,
    alg: Option<String>,
    key_use: Option<String>,
    key_ops: Option<Vec<&'static str>>,
    material: Material,
}

impl Jwk {
    /// The `kid` member.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The `alg` member, verbatim (any string is accepted, as nimbus does).
    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }

    /// The `use` member, verbatim.
    pub fn key_use(&self) -> Option<&str> {
        self.key_use.as_deref()
    }

    /// The `key_ops` member (known operation names, duplicates removed, in document order).
    pub fn key_ops(&self) -> Option<&[&'static str]> {
        self.key_ops.as_deref()
    }

    /// The key type: `oct`, `RSA`, `EC` or `OKP`.
    pub fn kty(&self) -> &str {
        match &self.material {
            Material::Oct(_) => "oct",
            Material::Rsa(_) => "RSA",
            Material::Ec(_) => "EC",
            Material::Unusable { kty, .. } => kty,
        }
    }

    /// The curve of an `EC` or `OKP` key.
    pub fn crv(&self) -> Option<&str> {
        match &self.material {
            Material::Ec(k) => Some(k.curve.name()),
            Material::Unusable { crv, .. } => Some(crv),
            Material::Oct(_) | Material::Rsa(_) => None,
        }
    }

    /// Key size in bits as ES computes it: `oct` byte length × 8, RSA modulus rounded up to whole
    /// bytes, EC field size. `None` for unusable key types.
    pub fn size_bits(&self) -> Option<usize> {
        match &self.material {
            Material::Oct(k) => Some(k.bits),
            Material::Rsa(k) => Some(k.bits),
            Material::Ec(k) => Some(k.curve.bits()),
            Material::Unusable { .. } => None,
        }
    }

    /// The `use`/`key_ops` half of ES' load-time filter: `use` absent or `sig`, and `key_ops`
    /// absent or containing `verify`.
    pub fn allows_verification(&self) -> bool {
        self.key_use.as_deref().is_none_or(|u| u == "sig")
            && self.key_ops.as_deref().is_none_or(|ops| ops.contains(&"verify"))
    }

    /// ES `JwkValidateUtil.isMatch`: key type and strength fit `alg` (HS*: `oct` of at least
    /// 256/384/512 bits; RS*/PS*: RSA, modulus ≥ 2048 bits after rounding up to bytes; ES*: EC on
    /// the algorithm's curve). Ignores `kid`, `alg`, `use`, `key_ops`.
    pub fn usable_for(&self, alg: Algorithm) -> bool {
        match &self.material {
            Material::Oct(k) => alg.min_hmac_bits().is_some_and(|min| k.bits >= min),
            Material::Rsa(k) => alg.is_rsa() && k.parsed.is_some() && k.bits >= 2048,
            Material::Ec(k) => alg.curve() == Some(k.curve),
            Material::Unusable { .. } => false,
        }
    }

    /// Verifies `signature` (decoded bytes) over `signing_input` (ASCII `header.payload`) with
    /// this key. False whenever [`Self::usable_for`] is false, so a key never verifies an
    /// algorithm of another family. ECDSA signatures must be raw `r || s` (64/96/132 bytes).
    pub fn verify(&self, alg: Algorithm, signing_input: &[u8], signature: &[u8]) -> bool {
        if !self.usable_for(alg) {
            return false;
        }
        match &self.material {
            Material::Oct(k) => {
                let key = match alg {
                    Algorithm::HS256 => &k.hs256,
                    Algorithm::HS384 => &k.hs384,
                    Algorithm::HS512 => &k.hs512,
                    _ => return false,
                };
                // Constant-time tag comparison inside aws-lc.
                hmac::verify(key, signing_input, signature).is_ok()
            }
            Material::Rsa(k) => match (&k.parsed, alg.rsa_index()) {
                (Some(parsed), Some(i)) => parsed[i].verify_sig(signing_input, signature).is_ok(),
                _ => false,
            },
            Material::Ec(k) => {
                // nimbus ECDSAVerifier: wrong length → false (no DER fallback).
                signature.len() == 2 * k.curve.coordinate_len() && k.parsed.verify_sig(signing_input, signature).is_ok()
            }
            Material::Unusable { .. } => false,
        }
    }
}

/// The `hmac_key` setting as ES loads it: key bytes are the UTF-8 bytes of `secret_utf8`; the
/// JWK has no `kid`, `alg`, `use` or `key_ops`. (ES treats a blank setting as not configured; that
/// check belongs to the caller.)
pub fn hmac_key(secret_utf8: &str) -> Jwk {
    Jwk {
        kid: None,
        alg: None,
        key_use: None,
        key_ops: None,
        material: Material::Oct(Box::new(OctKey::new(secret_utf8.as_bytes()))),
    }
}

/// An ordered list of JWKs.
#[derive(Debug, Clone, Default)]
pub struct JwkSet {
    keys: Vec<Jwk>,
}

impl JwkSet {
    /// The keys, in document order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Consumes the set, returning the keys.
    pub fn into_keys(self) -> Vec<Jwk> {
        self.keys
    }

    /// ES `filterJwksAndAlgorithms`: keeps the keys that [allow verification](Jwk::allows_verification)
    /// and are [usable](Jwk::usable_for) for at least one of `allowed`. ES calls this per family, so
    /// pass only the HMAC algorithms for `hmac_key`/`hmac_jwkset` and only the PKC ones for
    /// `pkc_jwkset_path`.
    pub fn filter(self, allowed: &[Algorithm]) -> JwkSet {
        let keys = self
            .keys
            .into_iter()
            .filter(|k| k.allows_verification() && allowed.iter().any(|&a| k.usable_for(a)))
            .collect();
        JwkSet { keys }
    }

    /// The algorithms of `allowed` (in that order) for which at least one key is usable — ES'
    /// `algsFiltered`, used for its "usable algorithms" log lines and the "No available JWK and
    /// algorithm" warning. Call on a filtered set.
    pub fn usable_algorithms(&self, allowed: &[Algorithm]) -> Vec<Algorithm> {
        allowed.iter().copied().filter(|&a| self.keys.iter().any(|k| k.usable_for(a))).collect()
    }
}

impl From<Vec<Jwk>> for JwkSet {
    fn from(keys: Vec<Jwk>) -> Self {
        JwkSet { keys }
    }
}

/// ES `validateSignature`: selects keys for the token (kid, then `alg`, then usability for `alg`)
/// and tries them in order; the first that verifies wins.
///
/// `signing_input` is the ASCII `header.payload` of the compact JWS and `signature` the
/// base64url-decoded third part.
pub fn verify_signature(
    keys: &[Jwk],
    token_kid: Option<&str>,
    alg: Algorithm,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), SignatureFailure> {
    if keys.is_empty() {
        return Err(SignatureFailure::NoKeys);
    }
    let mut candidates = keys
        .iter()
        .filter(|k| match (token_kid, k.kid()) {
            (None, _) | (_, None) => true,
            (Some(t), Some(j)) => t == j,
        })
        .filter(|k| k.alg().is_none_or(|a| a == alg.as_str()))
        .filter(|k| k.usable_for(alg))
        .peekable();
    if candidates.peek().is_none() {
        return Err(SignatureFailure::NoKeysAfterFiltering);
    }
    if candidates.any(|k| k.verify(alg, signing_input, signature)) { Ok(()) } else { Err(SignatureFailure::Failed) }
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// Parses a JWK set document (`{"keys": [...]}`) following nimbus `JWKSet.parse`; see the module
/// documentation for the rules. The result is unfiltered; call [`JwkSet::filter`].
pub fn parse_jwk_set(json: &str) -> Result<JwkSet, KeyError> {
    if json.len() > MAX_JWK_SET_LEN {
        return Err(KeyError::new(
            KeyErrorKind::TooLarge,
            format!("jwk set is {} bytes, more than the limit of {MAX_JWK_SET_LEN}", json.len()),
        ));
    }
    if json.trim().is_empty() {
        return Ok(JwkSet::default());
    }
    let value = parse_strict_json(json)?;
    let Value::Object(top) = value else {
        return Err(KeyError::new(KeyErrorKind::InvalidSet, "jwk set is not a json object".to_owned()));
    };
    let entries = match top.get("keys") {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => {
            return Err(KeyError::new(KeyErrorKind::InvalidSet, "jwk set has no `keys` member".to_owned()));
        }
        Some(_) => {
            return Err(KeyError::new(KeyErrorKind::InvalidSet, "jwk set member `keys` is not an array".to_owned()));
        }
    };
    if entries.len() > MAX_JWK_SET_KEYS {
        return Err(KeyError::new(
            KeyErrorKind::TooManyKeys,
            format!("jwk set has {} keys, more than the limit of {MAX_JWK_SET_KEYS}", entries.len()),
        ));
    }
    let mut keys = Vec::with_capacity(entries.len());
    for (position, entry) in entries.iter().enumerate() {
        let Value::Object(obj) = entry else {
            return Err(KeyError::new(
                KeyErrorKind::InvalidSet,
                "jwk set member `keys` must contain json objects only".to_owned(),
            ));
        };
        if let Some(jwk) = parse_jwk(obj).map_err(|reason| KeyError::jwk(position, &reason))? {
            keys.push(jwk);
        }
    }
    Ok(JwkSet { keys })
}

/// Parses one JWK. `Ok(None)`: unsupported `kty`, skipped. `Err(reason)`: the set fails.
fn parse_jwk(obj: &Map<String, Value>) -> Result<Option<Jwk>, String> {
    let Some(kty) = opt_str(obj, "kty")? else {
        return Err("missing `kty` member".to_owned());
    };
    if !matches!(kty, "oct" | "RSA" | "EC" | "OKP") {
        return Ok(None);
    }
    let kid = opt_str(obj, "kid")?.map(str::to_owned);
    let alg = opt_str(obj, "alg")?.map(str::to_owned);
    let key_use = opt_str(obj, "use")?.map(str::to_owned);
    let key_ops = parse_key_ops(obj)?;
    if let (Some(u), Some(ops)) = (key_use.as_deref(), key_ops.as_deref()) {
        let allowed: &[&str] = match u {
            "sig" => &["sign", "verify"],
            "enc" => &["encrypt", "decrypt", "wrapKey", "unwrapKey"],
            _ => &[],
        };
        if !allowed.is_empty() && !ops.iter().all(|op| allowed.contains(op)) {
            return Err("members `use` and `key_ops` are not consistent".to_owned());
        }
    }
    for member in ["x5u", "x5t", "x5t#S256"] {
        opt_str(obj, member)?;
    }
    if let Some(v) = present(obj, "x5c") {
        let ok = matches!(v, Value::Array(a) if a.iter().all(Value::is_string));
        if !ok {
            return Err("member `x5c` is not an array of strings".to_owned());
        }
    }
    for member in ["exp", "nbf", "iat"] {
        if present(obj, member).is_some_and(|v| !v.is_number()) {
            return Err(format!("member `{member}` is not a number"));
        }
    }
    let material = match kty {
        "oct" => {
            let k = required_b64(obj, "k")?;
            Material::Oct(Box::new(OctKey::new(&k)))
        }
        "RSA" => parse_rsa(obj)?,
        "EC" => parse_ec(obj)?,
        _ => parse_okp(obj)?,
    };
    Ok(Some(Jwk { kid, alg, key_use, key_ops, material }))
}

fn parse_key_ops(obj: &Map<String, Value>) -> Result<Option<Vec<&'static str>>, String> {
    const OPS: [&str; 8] = ["sign", "verify", "encrypt", "decrypt", "wrapKey", "unwrapKey", "deriveKey", "deriveBits"];
    let Some(v) = present(obj, "key_ops") else {
        return Ok(None);
    };
    let Value::Array(items) = v else {
        return Err("member `key_ops` is not an array of strings".to_owned());
    };
    let mut ops: Vec<&'static str> = Vec::new();
    for item in items {
        match item {
            Value::Null => {}
            Value::String(s) => {
                let Some(op) = OPS.iter().copied().find(|op| op == s) else {
                    return Err(format!("invalid key operation `{}`", quote(s)));
                };
                if !ops.contains(&op) {
                    ops.push(op);
                }
            }
            _ => return Err("member `key_ops` is not an array of strings".to_owned()),
        }
    }
    Ok(Some(ops))
}

fn parse_rsa(obj: &Map<String, Value>) -> Result<Material, String> {
    let n = required_b64(obj, "n")?;
    let e = required_b64(obj, "e")?;
    let n = strip_leading_zeros(&n);
    let e = strip_leading_zeros(&e);
    let bits = n.len() * 8;
    let parsed = if jdk_accepts_rsa(n, e) {
        let components = RsaPublicKeyComponents { n, e };
        let mut prepared = Vec::with_capacity(RSA_PARAMS.len());
        for params in RSA_PARAMS {
            match components.to_parsed_public_key(params) {
                Ok(p) => prepared.push(p),
                Err(_) => break,
            }
        }
        <Box<[ParsedPublicKey; 6]>>::try_from(prepared.into_boxed_slice()).ok()
    } else {
        None
    };
    Ok(Material::Rsa(RsaKey { bits, parsed }))
}

/// The JDK `RSAKeyFactory`/`RSAPublicKeyImpl` checks (inputs without leading zeros).
fn jdk_accepts_rsa(n: &[u8], e: &[u8]) -> bool {
    let n_bits = bit_len(n);
    let e_bits = bit_len(e);
    let modulus_ok = (512..=16384).contains(&n_bits);
    let exponent_size_ok = n_bits <= 3072 || e_bits <= 64;
    let e_at_least_3 = e_bits > 2 || (e_bits == 2 && e.last().is_some_and(|&b| b >= 3));
    // Both big-endian without leading zeros: compare by length, then lexicographically.
    let e_below_n = e.len() < n.len() || (e.len() == n.len() && e < n);
    modulus_ok && exponent_size_ok && e_at_least_3 && e_below_n
}

fn bit_len(be: &[u8]) -> usize {
    match be.first() {
        None => 0,
        Some(&b) => (be.len() - 1) * 8 + (8 - b.leading_zeros() as usize),
    }
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[start..]
}

fn parse_ec(obj: &Map<String, Value>) -> Result<Material, String> {
    let Some(crv) = opt_str(obj, "crv")? else {
        return Err("missing `crv` member".to_owned());
    };
    let x = required_b64(obj, "x")?;
    let y = required_b64(obj, "y")?;
    let curve = match crv {
        "P-256" => Curve::P256,
        "P-384" => Curve::P384,
        "P-521" => Curve::P521,
        "P-256K" => return Ok(Material::Unusable { kty: "EC", crv: "P-256K" }),
        other => return Err(format!("unknown or unsupported curve `{}`", quote(other))),
    };
    let len = curve.coordinate_len();
    let (x, y) = (strip_leading_zeros(&x), strip_leading_zeros(&y));
    if x.len() > len || y.len() > len {
        return Err(format!("public coordinates are not on the {} curve", curve.name()));
    }
    let mut point = vec![0u8; 1 + 2 * len];
    point[0] = 0x04;
    point[1 + len - x.len()..1 + len].copy_from_slice(x);
    point[1 + 2 * len - y.len()..].copy_from_slice(y);
    let parsed = ParsedPublicKey::new(curve.verification_algorithm(), &point)
        .map_err(|_| format!("public coordinates are not on the {} curve", curve.name()))?;
    Ok(Material::Ec(EcKey { curve, parsed }))
}

fn parse_okp(obj: &Map<String, Value>) -> Result<Material, String> {
    let Some(crv) = opt_str(obj, "crv")? else {
        return Err("missing `crv` member".to_owned());
    };
    let crv = match crv {
        "Ed25519" => "Ed25519",
        "Ed448" => "Ed448",
        "X25519" => "X25519",
        "X448" => "X448",
        other => return Err(format!("unknown or unsupported curve `{}`", quote(other))),
    };
    required_b64(obj, "x")?;
    Ok(Material::Unusable { kty: "OKP", crv })
}

/// A member that is present and not JSON `null`.
fn present<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

fn opt_str<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match present(obj, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("member `{name}` is not a string")),
    }
}

/// A required base64url member, decoded. Never echoes the value (it may be a secret).
fn required_b64(obj: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    let Some(s) = opt_str(obj, name)? else {
        return Err(format!("missing `{name}` member"));
    };
    decode_b64url(s).ok_or_else(|| format!("member `{name}` is not valid base64url"))
}

/// Lenient base64url: optional padding, standard alphabet tolerated, non-zero trailing bits allowed.
fn decode_b64url(s: &str) -> Option<Vec<u8>> {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let s: Cow<'_, str> =
        if s.contains(['+', '/']) { Cow::Owned(s.replace('+', "-").replace('/', "_")) } else { Cow::Borrowed(s) };
    ENGINE.decode(s.as_bytes()).ok()
}

// ---------------------------------------------------------------------------------------------
// Strict JSON (duplicate member names rejected)
// ---------------------------------------------------------------------------------------------

fn parse_strict_json(json: &str) -> Result<Value, KeyError> {
    crate::parse::strict_json(json).map_err(|e| {
        let (line, column) = e.location().line_column().unwrap_or((0, 0));
        match e.kind() {
            crate::ErrorKind::DuplicateKey(member) => KeyError::new(
                KeyErrorKind::DuplicateMember,
                format!("jwk set has a duplicate json member `{member}` (line {line}, column {column})"),
            ),
            // serde_json's recursion limit: a container nested 128 deep.
            crate::ErrorKind::Json(message) if message.starts_with("recursion limit exceeded") => KeyError::new(
                KeyErrorKind::InvalidJson,
                format!("jwk set nests deeper than the json limit of 127 levels (line {line}, column {column})"),
            ),
            // Only the position is reported, so that no fragment of the
            // document (possibly a secret) can leak.
            _ => KeyError::new(
                KeyErrorKind::InvalidJson,
                format!("jwk set is not valid json (line {line}, column {column})"),
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, RsaKeyPair};
    use serde_json::json;

    /// Fixed 2048-bit test key (PKCS#1 DER, base64), generated with `openssl genpkey` for these tests only.
    const RSA1_DER: &str = concat!(
        "MIIEogIBAAKCAQEAvEOQJIH3d8lekdPXCqXOWiOlEcYqiKEeaUdGF+UqgZtwqGUo+UU/ndnR/usIKjIa5NPnLrDCElUmexEa",
        "G+n5bCFgUA8lnREg3mMp+95y8B/x5lChkjP76AdRZysVxBI0jp200+EMMryMzY6GxY/QbDQ0H21QsBRdjtn15EuV8qKUlBFI",
        "vcw8WQo6gGUV4o3wUSst8ccjQQxlmXBCOEGtmV6RhoY/ub27NW63JVZm9ukToP56qPZZFr/dydFBY9QL3mBraPjEMFuE1Jsr",
        "r703cb6iPm0gR9KKlKDd8M2Q9LdcVbKucBEeEDrZW3y+XrHiilf39Yd9OiQNuGE6XJjICQIDAQABAoIBABplLJ35vN0GFiTC",
        "+zjqc0qPCdM6ofcDA/UFwa2S+0ktpndtq3d7foZepkMj58KmwL+JeDXDIYqZdqo1hSAZx1ciPNMstHzXjHCxnY7LKvlAuVUt",
        "w+FwOWbYM9EPqN8TIFxIfzRfrqqkZediDsI/Ph0VmqM3W+M8D7v6EjAeatkYNUwNJ9hC3VF1hVat1uMiQFp82AcPyvi58Ly1",
        "vxPiWv+C16AStpJz2BbdR5S/MvksBj8hb6o6uJNvY5rMK4Sf+u3/xsR68SNi53iv6bs6aS9JdPK6rUVUTP1IDvt31z8/hWsL",
        "3lsIkdeeU38gwtST6w6aUfteK9r238LmiBKLRzMCgYEA+KLqmUPwrSUfgICRv3OH/YzUd/a/cZdqpM6Lgr9uqjZeQiuC2VOE",
        "yZq/if/HTEP+G6ap/BkY7X+7gYSfn/umgqS6U0F1GlCGL2wGfAZTrNm6euF5y1XvZdVb8Tv40/c7j8iavIFFBdH0F2KQkUMs",
        "/ZNwCYURvINePtu0BoO0O6sCgYEAwdbr37vBvnlH9/+KvoJFcZVKQbEXmgWorXPwqhXH1JH3GSBpj9oK5wZ0NdMcWl1bZ1Vm",
        "/F0CDIKcIbOSNypBzab0kjSzW6/+tgcSIdiFZ5vijAT2Vz5EFzRW5skB2l31XZC4rWlfmAWoiEmg4hxDsjOI5T1trktK9oc/",
        "MciOdxsCgYAp6/42PVhVOU8ocYUhjK8/NwGUAIyi8G7QvuqS7wgPtv8JlSCI2CYpf+gPsoq99zDfJKjAktK7KLBK1Du908Zt",
        "fKzV4NGH0E/vqv0k6EQvfr6MfXv1ptWoi+Lmt7/qrWLjiWVdp0YmBxJq5vmNJJBvaO6ZDFDDQjsfyhd+ibJX5QKBgHk4yDAW",
        "Alb1D933ELSNUZJz04l7j5ACA/fdbt9fWaYFVqt/CqUsre7GqXxTtwKIKbZYwVwHalWahLvKyiD3q0lKJN8eWCB50ufRSjSi",
        "bONbqHT6UXhD918vmz0e7aq7YcwOyn+gS2kN+NSqfxOIq4lRE0aRgPskGRBNima+zuGLAoGAA6X5FyrulCDJrr2NdhCIp0tv",
        "Rljiu5+gHBy/1GnS3FMaSeJJqdMYRUVMvpe5Hfz62JnwGeB+NGLMbcRMsEJDeZCJL+3IBd+/B0ljTAQ7XRarmpymvLiIU7eP",
        "V+3sfziUgQtfORPzR8qMVtguZPWJg/IVAG9UahbzD4B7IolpGkQ=",
    );
    /// Fixed 2048-bit test key (PKCS#1 DER, base64), generated with `openssl genpkey` for these tests only.
    const RSA2_DER: &str = concat!(
        "MIIEowIBAAKCAQEAxniHf0e/hayOrdQQIwJhY+OoltFBjPEUkAGtYUMKi1qb+8Cd75WMzMEJg40G1c6LfuqOhF7y7qBny3eZ",
        "gJ9wmD7AyRcjBknF207lnz1sPgeqcuCboaVVkL9Mea7SXhlR1WtWmO30fMMjRRG9gMLUnuX9tR2JRlK/KHmcPXSdtctyom6I",
        "rv51KzkGUfIFrl34yTjnp7Xzafu5PK5FQSrVkEyFwsKr0d2YjGgkQOUiM7GWbNQRO92CdUR9YUN2nQzjpMl33bbUTGh/o+sa",
        "laZnxOSSofRIYJ7QGylHjHrKw1CJcqyyUj3l2wueHEYMYX19av1BpY8eZwK+8+JxyhRKDwIDAQABAoIBAATQ03pxwDwhgr8r",
        "04E19pNltVqFFOt/+GxbtHXh5yiYeAtBkjnhza40mBZNq4PJywK3KEjrKnpCmoiKWPqQ/W3REzAN7d1u/tKidUBKGkB33FmE",
        "1hUaN06xOM04qIWvl/4iTtI17xlaSfz/QDNJ076DSboST5lmoP+Xa9FMU7Afug/chPNgFW03AJAUcJcHtGdbLqsZFZ/XBOBR",
        "mGxNVsb0H7bhQIJj6fdK4da3M9rQuNTLHp27ZlQAgKI3htZhwkrHeJPC+HWKx1urOvLvlODBFyQt6kzT3wItj0KXQeAeATiS",
        "07FH6lJUMHHn2zOhylcX8G9kn4n19GusSPYypfECgYEA9GJcZnY7HvLe1pqo4ZLzIq9vfveFpQVFRDyQ7Yi4hpf2tYtsTHf0",
        "7JdjqvsYtqw2UPYsJ7yyppgrI1UO84kg2Znue8Y5YIqnmM88vU4+x5JCBWO61CxTs2OPJRuE1Wkfcv9EUrC8lVcziofrX0ve",
        "exacbkTrMWKzVHqj83wx14cCgYEAz+d/097lJL/VYGKKz+ZwC/0yqFyECA3/p5/dmf+0fkC6/4uilcH3bNE9FmU3Ykkmx0OZ",
        "W3+uFcEEpKldtzhF9EE+EAQ+mZIH+hv3tOzYYM/Tq1YSzfJ0alY17kHvFvhlWo0oYxc/wrYeRUbW1+y7YRrL/U8l2j+aNoj4",
        "t2ijizkCgYB/B8nj8L0Wf0RZ5Ra3+nyroOmh4+PyPWUd7SWgcxsHy2IQSCLJNOl5OdAzBkZ4Xdf2CaA2H531fs+dlA8rhDIx",
        "KhSO/iDBEBHCGqcF9/AmKN5sksSAmXIAo1W7AizwCa6xRgMrwHamYieGcNRmOrew37X8k5J1n0p8NSuX2wzFbQKBgBZdZujZ",
        "z3iWklOeBiS7O05u3GY0HZfoOZpEnkgUs8vpFrSqxsCpbv5ru9CO7thJ2jwRT4wCPi3k56T2+zfce9n8srpyWnGWvfjvzUPP",
        "Pq+ba7/AsKEq9c8CmyaYPSoRaoXFLZULSTae9L6rEi2EL9wQT+VeAEpsESDQt0CzpvQxAoGBALP6XDZ9OvtulmuwNqaLaBWH",
        "RoN7BymuH2wBS6ujfbe0atNAIIsJgfo5I2t7hP2qrbNBaD1Lz6p6qcnuj/KoKbbRbLAl5GWvmq0M0ZpDxYFWrB4ABjPLLyJD",
        "+VZmmZ4G2T9E+5P6JgMmunlRm4tYri0iTyl2c6+s6ZpO3XJrEQTk",
    );

    const INPUT: &[u8] = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIiwiaXNzIjoiaXNzdWVyIn0";

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn rsa_pair(der_b64: &str) -> RsaKeyPair {
        let der = base64::engine::general_purpose::STANDARD.decode(der_b64).unwrap();
        RsaKeyPair::from_der(&der).unwrap()
    }

    fn rsa_jwk(kp: &RsaKeyPair, extra: Value) -> Value {
        let c: RsaPublicKeyComponents<Vec<u8>> = kp.public_key().into();
        with_extra(json!({"kty": "RSA", "n": b64(&c.n), "e": b64(&c.e)}), extra)
    }

    fn with_extra(mut base: Value, extra: Value) -> Value {
        if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
            b.extend(e);
        }
        base
    }

    fn ec_signing_alg(alg: Algorithm) -> &'static sig::EcdsaSigningAlgorithm {
        match alg {
            Algorithm::ES256 => &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
            Algorithm::ES384 => &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
            _ => &sig::ECDSA_P521_SHA512_FIXED_SIGNING,
        }
    }

    fn ec_pair(alg: Algorithm) -> EcdsaKeyPair {
        EcdsaKeyPair::generate(ec_signing_alg(alg)).unwrap()
    }

    fn ec_jwk(kp: &EcdsaKeyPair, crv: &str, extra: Value) -> Value {
        let point = kp.public_key().as_ref();
        let len = (point.len() - 1) / 2;
        with_extra(json!({"kty": "EC", "crv": crv, "x": b64(&point[1..=len]), "y": b64(&point[1 + len..])}), extra)
    }

    fn oct_jwk(secret: &[u8], extra: Value) -> Value {
        with_extra(json!({"kty": "oct", "k": b64(secret)}), extra)
    }

    fn set(keys: &[Value]) -> JwkSet {
        parse_jwk_set(&json!({ "keys": keys }).to_string()).unwrap()
    }

    fn set_err(doc: &str) -> KeyError {
        parse_jwk_set(doc).unwrap_err()
    }

    fn rsa_sign(kp: &RsaKeyPair, alg: Algorithm, input: &[u8]) -> Vec<u8> {
        let enc: &'static dyn sig::RsaEncoding = match alg {
            Algorithm::RS256 => &sig::RSA_PKCS1_SHA256,
            Algorithm::RS384 => &sig::RSA_PKCS1_SHA384,
            Algorithm::RS512 => &sig::RSA_PKCS1_SHA512,
            Algorithm::PS256 => &sig::RSA_PSS_SHA256,
            Algorithm::PS384 => &sig::RSA_PSS_SHA384,
            _ => &sig::RSA_PSS_SHA512,
        };
        let mut out = vec![0; kp.public_modulus_len()];
        kp.sign(enc, &SystemRandom::new(), input, &mut out).unwrap();
        out
    }

    fn ec_sign(kp: &EcdsaKeyPair, input: &[u8]) -> Vec<u8> {
        kp.sign(&SystemRandom::new(), input).unwrap().as_ref().to_vec()
    }

    fn hmac_sign(alg: Algorithm, secret: &[u8], input: &[u8]) -> Vec<u8> {
        let a = match alg {
            Algorithm::HS256 => hmac::HMAC_SHA256,
            Algorithm::HS384 => hmac::HMAC_SHA384,
            _ => hmac::HMAC_SHA512,
        };
        hmac::sign(&hmac::Key::new(a, secret), input).as_ref().to_vec()
    }

    /// For one algorithm: (keys JSON of a signer, keys JSON of another key of the same kind, signature).
    fn fixture(alg: Algorithm, input: &[u8]) -> (Value, Value, Vec<u8>) {
        if alg.is_hmac() {
            let secret = [0x5au8; 64];
            (oct_jwk(&secret, json!({})), oct_jwk(&[0xa5u8; 64], json!({})), hmac_sign(alg, &secret, input))
        } else if alg.is_rsa() {
            let (kp, other) = (rsa_pair(RSA1_DER), rsa_pair(RSA2_DER));
            (rsa_jwk(&kp, json!({})), rsa_jwk(&other, json!({})), rsa_sign(&kp, alg, input))
        } else {
            let crv = alg.curve().map(Curve::name).unwrap_or_default();
            let (kp, other) = (ec_pair(alg), ec_pair(alg));
            (ec_jwk(&kp, crv, json!({})), ec_jwk(&other, crv, json!({})), ec_sign(&kp, input))
        }
    }

    #[test]
    fn every_algorithm_verifies_and_rejects_tampering_and_wrong_keys() {
        for alg in Algorithm::ALL {
            let (good, other, signature) = fixture(alg, INPUT);
            let keys = set(&[good]).filter(&Algorithm::ALL);
            assert_eq!(keys.len(), 1, "{alg}");
            assert_eq!(verify_signature(keys.keys(), None, alg, INPUT, &signature), Ok(()), "{alg}");

            let mut tampered_input = INPUT.to_vec();
            tampered_input[3] ^= 1;
            assert_eq!(
                verify_signature(keys.keys(), None, alg, &tampered_input, &signature),
                Err(SignatureFailure::Failed),
                "{alg}"
            );
            let mut tampered_sig = signature.clone();
            tampered_sig[5] ^= 0x10;
            assert_eq!(
                verify_signature(keys.keys(), None, alg, INPUT, &tampered_sig),
                Err(SignatureFailure::Failed),
                "{alg}"
            );
            assert_eq!(verify_signature(keys.keys(), None, alg, INPUT, &[]), Err(SignatureFailure::Failed), "{alg}");

            let wrong = set(&[other]).filter(&Algorithm::ALL);
            assert_eq!(
                verify_signature(wrong.keys(), None, alg, INPUT, &signature),
                Err(SignatureFailure::Failed),
                "{alg}"
            );
        }
    }

    #[test]
    fn a_good_key_later_in_the_list_is_found() {
        for alg in [Algorithm::HS384, Algorithm::PS512, Algorithm::ES384] {
            let (good, other, signature) = fixture(alg, INPUT);
            let keys = set(&[other, good]).filter(&[alg]);
            assert_eq!(keys.len(), 2);
            assert_eq!(verify_signature(keys.keys(), None, alg, INPUT, &signature), Ok(()), "{alg}");
        }
    }

    #[test]
    fn ecdsa_signatures_must_be_raw_and_of_exact_length() {
        let kp = ec_pair(Algorithm::ES256);
        let keys = set(&[ec_jwk(&kp, "P-256", json!({}))]);
        let raw = ec_sign(&kp, INPUT);
        assert_eq!(raw.len(), 64);
        assert!(keys.keys()[0].verify(Algorithm::ES256, INPUT, &raw));
        let mut longer = raw.clone();
        longer.push(0);
        assert!(!keys.keys()[0].verify(Algorithm::ES256, INPUT, &longer));
        let mut prefixed = vec![0];
        prefixed.extend_from_slice(&raw);
        assert!(!keys.keys()[0].verify(Algorithm::ES256, INPUT, &prefixed));
        let der = EcdsaKeyPair::from_pkcs8(
            &sig::ECDSA_P256_SHA256_ASN1_SIGNING,
            EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new()).unwrap().as_ref(),
        )
        .unwrap();
        let der_keys = set(&[ec_jwk(&der, "P-256", json!({}))]);
        let der_sig = der.sign(&SystemRandom::new(), INPUT).unwrap();
        assert!(!der_keys.keys()[0].verify(Algorithm::ES256, INPUT, der_sig.as_ref()));
        // All-zero r||s is never valid.
        assert!(!keys.keys()[0].verify(Algorithm::ES256, INPUT, &[0u8; 64]));
    }

    #[test]
    fn hmac_secret_made_of_public_rsa_key_does_not_verify_against_rsa_keys() {
        let kp = rsa_pair(RSA1_DER);
        let rsa = rsa_jwk(&kp, json!({}));
        let public_text = rsa.to_string();
        let token_sig = hmac_sign(Algorithm::HS256, public_text.as_bytes(), INPUT);
        let keys = set(&[rsa]);
        assert_eq!(
            verify_signature(keys.keys(), None, Algorithm::HS256, INPUT, &token_sig),
            Err(SignatureFailure::NoKeysAfterFiltering)
        );
        assert!(!keys.keys()[0].verify(Algorithm::HS256, INPUT, &token_sig));
        assert!(!keys.keys()[0].usable_for(Algorithm::HS256));
        assert_eq!(keys.filter(&[Algorithm::HS256, Algorithm::HS384, Algorithm::HS512]).len(), 0);
    }

    #[test]
    fn oct_key_holding_public_key_bytes_is_never_used_for_pkc() {
        let kp = rsa_pair(RSA1_DER);
        let public_text = rsa_jwk(&kp, json!({})).to_string();
        let oct = set(&[oct_jwk(public_text.as_bytes(), json!({}))]);
        let rs_sig = rsa_sign(&kp, Algorithm::RS256, INPUT);
        for alg in Algorithm::ALL.into_iter().filter(|a| !a.is_hmac()) {
            assert!(!oct.keys()[0].usable_for(alg), "{alg}");
            assert!(!oct.keys()[0].verify(alg, INPUT, &rs_sig), "{alg}");
        }
        assert_eq!(
            verify_signature(oct.keys(), None, Algorithm::RS256, INPUT, &rs_sig),
            Err(SignatureFailure::NoKeysAfterFiltering)
        );
        assert_eq!(oct.clone().filter(&[Algorithm::RS256, Algorithm::PS256, Algorithm::ES256]).len(), 0);
        // It is a perfectly good HMAC key, though.
        assert!(oct.keys()[0].usable_for(Algorithm::HS512));
    }

    #[test]
    fn key_types_and_curves_never_cross() {
        let ec256 = ec_pair(Algorithm::ES256);
        let keys = set(&[rsa_jwk(&rsa_pair(RSA1_DER), json!({})), ec_jwk(&ec256, "P-256", json!({}))]);
        let (rsa, ec) = (&keys.keys()[0], &keys.keys()[1]);
        for alg in Algorithm::ALL {
            assert_eq!(rsa.usable_for(alg), alg.is_rsa(), "{alg}");
            assert_eq!(ec.usable_for(alg), alg == Algorithm::ES256, "{alg}");
        }
        let es_sig = ec_sign(&ec256, INPUT);
        assert!(!ec.verify(Algorithm::ES384, INPUT, &es_sig));
        assert!(!rsa.verify(Algorithm::ES256, INPUT, &es_sig));
        let p384 = set(&[ec_jwk(&ec_pair(Algorithm::ES384), "P-384", json!({}))]);
        assert_eq!(p384.clone().filter(&[Algorithm::ES256, Algorithm::ES512]).len(), 0);
        assert_eq!(p384.filter(&[Algorithm::ES384]).len(), 1);
    }

    #[test]
    fn kid_filter_keeps_matching_and_kidless_keys() {
        let (k1, k2, k3) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let keys =
            set(&[oct_jwk(&k1, json!({"kid": "a"})), oct_jwk(&k2, json!({"kid": "b"})), oct_jwk(&k3, json!({}))]);
        let hs = Algorithm::HS256;
        let sig2 = hmac_sign(hs, &k2, INPUT);
        let sig3 = hmac_sign(hs, &k3, INPUT);
        assert_eq!(verify_signature(keys.keys(), Some("b"), hs, INPUT, &sig2), Ok(()));
        assert_eq!(verify_signature(keys.keys(), None, hs, INPUT, &sig2), Ok(()));
        // kid `a` selects key a and the kid-less key, not key b.
        assert_eq!(verify_signature(keys.keys(), Some("a"), hs, INPUT, &sig2), Err(SignatureFailure::Failed));
        // An unknown kid still tries kid-less keys.
        assert_eq!(verify_signature(keys.keys(), Some("zzz"), hs, INPUT, &sig3), Ok(()));
        // Exact, case-sensitive match.
        assert_eq!(verify_signature(keys.keys(), Some("B"), hs, INPUT, &sig2), Err(SignatureFailure::Failed));
        let only_kids = &keys.keys()[..2];
        assert_eq!(
            verify_signature(only_kids, Some("zzz"), hs, INPUT, &sig2),
            Err(SignatureFailure::NoKeysAfterFiltering)
        );
    }

    #[test]
    fn alg_member_filter() {
        let kp = rsa_pair(RSA1_DER);
        let keys = set(&[rsa_jwk(&kp, json!({"alg": "RS384"}))]);
        let rs256 = rsa_sign(&kp, Algorithm::RS256, INPUT);
        assert_eq!(
            verify_signature(keys.keys(), None, Algorithm::RS256, INPUT, &rs256),
            Err(SignatureFailure::NoKeysAfterFiltering)
        );
        // The alg member does not restrict load-time filtering (ES only checks it per token).
        assert_eq!(keys.clone().filter(&[Algorithm::RS256]).len(), 1);
        let rs384 = rsa_sign(&kp, Algorithm::RS384, INPUT);
        assert_eq!(verify_signature(keys.keys(), None, Algorithm::RS384, INPUT, &rs384), Ok(()));
        let odd = set(&[rsa_jwk(&kp, json!({"alg": "RSA-OAEP"}))]);
        assert_eq!(odd.keys()[0].alg(), Some("RSA-OAEP"));
        assert_eq!(
            verify_signature(odd.keys(), None, Algorithm::RS256, INPUT, &rs256),
            Err(SignatureFailure::NoKeysAfterFiltering)
        );
    }

    #[test]
    fn use_filter() {
        let secret = [9u8; 32];
        let keep = |extra: Value| set(&[oct_jwk(&secret, extra)]).filter(&[Algorithm::HS256]).len() == 1;
        assert!(keep(json!({})));
        assert!(keep(json!({"use": "sig"})));
        assert!(keep(json!({"use": null})));
        assert!(!keep(json!({"use": "enc"})));
        assert!(!keep(json!({"use": "SIG"})));
        assert!(!keep(json!({"use": "custom"})));
    }

    #[test]
    fn key_ops_filter_and_validation() {
        let secret = [9u8; 32];
        let keep = |extra: Value| set(&[oct_jwk(&secret, extra)]).filter(&[Algorithm::HS256]).len() == 1;
        assert!(keep(json!({})));
        assert!(keep(json!({"key_ops": ["verify"]})));
        assert!(keep(json!({"key_ops": ["sign", "verify", null]})));
        assert!(keep(json!({"use": "sig", "key_ops": ["verify"]})));
        // A non-standard `use` is consistent with any `key_ops` (it is then dropped by the `use` rule).
        assert!(
            parse_jwk_set(
                &json!({"keys": [oct_jwk(&secret, json!({"use": "custom", "key_ops": ["encrypt"]}))]}).to_string()
            )
            .is_ok()
        );
        assert!(!keep(json!({"key_ops": ["sign"]})));
        assert!(!keep(json!({"key_ops": []})));
        assert!(!keep(json!({"key_ops": ["encrypt", "deriveKey"]})));
        let bad = |extra: Value| {
            parse_jwk_set(&json!({"keys": [oct_jwk(&secret, extra)]}).to_string()).map(|_| ()).unwrap_err().kind()
        };
        assert_eq!(bad(json!({"key_ops": ["frobnicate"]})), KeyErrorKind::InvalidJwk);
        assert_eq!(bad(json!({"key_ops": ["Verify"]})), KeyErrorKind::InvalidJwk);
        assert_eq!(bad(json!({"key_ops": "verify"})), KeyErrorKind::InvalidJwk);
        assert_eq!(bad(json!({"key_ops": [1]})), KeyErrorKind::InvalidJwk);
        assert_eq!(bad(json!({"use": "sig", "key_ops": ["verify", "encrypt"]})), KeyErrorKind::InvalidJwk);
        assert_eq!(bad(json!({"use": "enc", "key_ops": ["verify"]})), KeyErrorKind::InvalidJwk);
    }

    #[test]
    fn hmac_strength_rules() {
        let key = |n: usize| set(&[oct_jwk(&vec![7u8; n], json!({}))]).into_keys().remove(0);
        let k31 = key(31);
        assert!(Algorithm::ALL.iter().all(|&a| !k31.usable_for(a)));
        let k33 = key(33);
        assert!(k33.usable_for(Algorithm::HS256));
        assert!(!k33.usable_for(Algorithm::HS384));
        assert_eq!(k33.size_bits(), Some(264));
        let k47 = key(47);
        assert!(!k47.usable_for(Algorithm::HS384));
        let k48 = key(48);
        assert!(k48.usable_for(Algorithm::HS384) && !k48.usable_for(Algorithm::HS512));
        assert!(key(64).usable_for(Algorithm::HS512));

        // HS384 allowed, 33-byte key: filtered out at load time, runtime failure per token.
        let secret = [7u8; 33];
        let loaded = JwkSet::from(vec![hmac_key(std::str::from_utf8(&secret).unwrap_or_default())]);
        let filtered = loaded.filter(&[Algorithm::HS384]);
        assert!(filtered.is_empty());
        assert!(filtered.usable_algorithms(&[Algorithm::HS384]).is_empty());
        assert_eq!(
            verify_signature(
                filtered.keys(),
                None,
                Algorithm::HS384,
                INPUT,
                &hmac_sign(Algorithm::HS384, &secret, INPUT)
            ),
            Err(SignatureFailure::NoKeys)
        );
        // Unfiltered, the short key exists but is filtered per token.
        let unfiltered = [hmac_key("0123456789abcdef0123456789abcdef!")];
        assert_eq!(
            verify_signature(&unfiltered, None, Algorithm::HS384, INPUT, &[0u8; 48]),
            Err(SignatureFailure::NoKeysAfterFiltering)
        );
    }

    #[test]
    fn hmac_key_setting_uses_utf8_bytes() {
        let secret = "pässwörd-ünïcode-secret-of-enough-length";
        let jwk = hmac_key(secret);
        assert_eq!((jwk.kid(), jwk.alg(), jwk.key_use(), jwk.key_ops()), (None, None, None, None));
        assert_eq!(jwk.kty(), "oct");
        assert_eq!(jwk.size_bits(), Some(secret.len() * 8));
        let signature = hmac_sign(Algorithm::HS256, secret.as_bytes(), INPUT);
        assert_eq!(verify_signature(&[jwk], Some("any-kid"), Algorithm::HS256, INPUT, &signature), Ok(()));
    }

    #[test]
    fn rsa_strength_and_jdk_rules() {
        let rsa = |n: Vec<u8>, e: &[u8]| set(&[json!({"kty": "RSA", "n": b64(&n), "e": b64(e)})]).into_keys().remove(0);
        let modulus = |bytes: usize, first: u8| {
            let mut n = vec![0xc3u8; bytes];
            n[0] = first;
            n
        };
        let f4 = [1u8, 0, 1];
        assert!(!rsa(modulus(128, 0xff), &f4).usable_for(Algorithm::RS256));
        assert!(!rsa(modulus(255, 0xff), &f4).usable_for(Algorithm::PS256));
        assert!(rsa(modulus(256, 0xff), &f4).usable_for(Algorithm::RS256));
        // ES rounds the modulus up to whole bytes: 2041 bits counts as 2048.
        let k2041 = rsa(modulus(256, 0x01), &f4);
        assert_eq!(k2041.size_bits(), Some(2048));
        assert!(k2041.usable_for(Algorithm::RS512));
        // Leading zero bytes do not count.
        let mut padded = vec![0u8; 4];
        padded.extend(modulus(255, 0xff));
        assert_eq!(rsa(padded, &f4).size_bits(), Some(2040));
        // JDK: exponent at least 3 and below the modulus; > 3072-bit modulus needs exponent ≤ 64 bits.
        assert!(!rsa(modulus(256, 0xff), &[1]).usable_for(Algorithm::RS256));
        assert!(!rsa(modulus(256, 0xff), &[2]).usable_for(Algorithm::RS256));
        assert!(rsa(modulus(256, 0xff), &[3]).usable_for(Algorithm::RS256));
        assert!(!rsa(modulus(256, 0x80), &modulus(256, 0xff)).usable_for(Algorithm::RS256));
        assert!(!rsa(modulus(512, 0xff), &[1u8; 9]).usable_for(Algorithm::RS256));
        assert!(rsa(modulus(256, 0xff), &[1u8; 9]).usable_for(Algorithm::RS256));
        assert!(!rsa(modulus(2049, 0xff), &f4).usable_for(Algorithm::RS256));
        // Unusable keys load and are then filtered out.
        let keys = set(&[json!({"kty": "RSA", "n": "AA", "e": "AQAB"})]);
        assert_eq!(keys.len(), 1);
        assert!(keys.filter(&Algorithm::ALL).is_empty());
    }

    #[test]
    fn usable_algorithms_lists_algorithms_with_a_key() {
        let keys =
            set(&[rsa_jwk(&rsa_pair(RSA1_DER), json!({})), oct_jwk(&[1u8; 40], json!({}))]).filter(&Algorithm::ALL);
        assert_eq!(
            keys.usable_algorithms(&[Algorithm::ES256, Algorithm::PS384, Algorithm::HS384, Algorithm::HS256]),
            vec![Algorithm::PS384, Algorithm::HS256]
        );
    }

    #[test]
    fn signature_failure_messages() {
        let kp = rsa_pair(RSA1_DER);
        let signature = rsa_sign(&kp, Algorithm::RS256, INPUT);
        assert_eq!(verify_signature(&[], None, Algorithm::RS256, INPUT, &signature), Err(SignatureFailure::NoKeys));
        assert_eq!(
            SignatureFailure::NoKeys.es_message("x"),
            "Signature verification was not attempted since there are not any JWKs available."
        );
        assert_eq!(
            SignatureFailure::NoKeysAfterFiltering.es_message("x"),
            "Signature verification was not attempted since there are not any JWKs available after filtering for \
             incompatible keys."
        );
        assert_eq!(
            SignatureFailure::Failed.es_message("a.b.<redacted-signature>"),
            "JWT [a.b.<redacted-signature>] signature verification failed."
        );
        assert_eq!(SignatureFailure::Failed.to_string(), "signature verification failed");
        assert!(SignatureFailure::NoKeysAfterFiltering.to_string().ends_with("filtering for incompatible keys"));
    }

    #[test]
    fn keys_are_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Jwk>();
        assert_send_sync::<JwkSet>();
        assert_send_sync::<KeyError>();
    }

    #[test]
    fn algorithm_names() {
        assert_eq!(Algorithm::ALL.len(), 12);
        for alg in Algorithm::ALL {
            assert_eq!(alg.as_str().parse::<Algorithm>(), Ok(alg));
            assert_eq!(alg.to_string(), alg.as_str());
            assert_eq!(
                [alg.is_hmac(), alg.is_rsa(), alg.is_ec()].iter().filter(|&&b| b).count(),
                1,
                "{alg} is in exactly one family"
            );
        }
        let err = "rs256".parse::<Algorithm>().unwrap_err();
        assert_eq!(err.kind(), KeyErrorKind::UnknownAlgorithm);
        assert_eq!(err.to_string(), "unknown algorithm `rs256`");
        assert!("none".parse::<Algorithm>().is_err());
        assert!("EdDSA".parse::<Algorithm>().is_err());
        assert!(Algorithm::HS512.is_hmac() && !Algorithm::PS256.is_hmac());
    }

    #[test]
    fn bad_documents_fail_the_whole_set() {
        let secret_k = b64(b"topsecret-topsecret-topsecret-32");
        let cases: Vec<(String, KeyErrorKind)> = vec![
            ("{".into(), KeyErrorKind::InvalidJson),
            ("{\"keys\": []} x".into(), KeyErrorKind::InvalidJson),
            ("{'keys': []}".into(), KeyErrorKind::InvalidJson),
            ("[]".into(), KeyErrorKind::InvalidSet),
            ("\"keys\"".into(), KeyErrorKind::InvalidSet),
            ("{}".into(), KeyErrorKind::InvalidSet),
            ("{\"keys\": null}".into(), KeyErrorKind::InvalidSet),
            ("{\"keys\": {}}".into(), KeyErrorKind::InvalidSet),
            ("{\"keys\": [1]}".into(), KeyErrorKind::InvalidSet),
            ("{\"keys\": [], \"keys\": []}".into(), KeyErrorKind::DuplicateMember),
            (
                format!("{{\"keys\": [{{\"kty\": \"oct\", \"k\": \"{secret_k}\", \"k\": \"{secret_k}\"}}]}}"),
                KeyErrorKind::DuplicateMember,
            ),
            ("{\"keys\": [{}]}".into(), KeyErrorKind::InvalidJwk),
            ("{\"keys\": [{\"kty\": 1}]}".into(), KeyErrorKind::InvalidJwk),
            ("{\"keys\": [{\"kty\": \"oct\"}]}".into(), KeyErrorKind::InvalidJwk),
            ("{\"keys\": [{\"kty\": \"oct\", \"k\": \"a*b\"}]}".into(), KeyErrorKind::InvalidJwk),
            ("{\"keys\": [{\"kty\": \"oct\", \"k\": 5}]}".into(), KeyErrorKind::InvalidJwk),
            (
                format!("{{\"keys\": [{{\"kty\": \"oct\", \"k\": \"{secret_k}\", \"kid\": 7}}]}}"),
                KeyErrorKind::InvalidJwk,
            ),
            (
                format!("{{\"keys\": [{{\"kty\": \"oct\", \"k\": \"{secret_k}\", \"x5c\": \"abc\"}}]}}"),
                KeyErrorKind::InvalidJwk,
            ),
            (
                format!("{{\"keys\": [{{\"kty\": \"oct\", \"k\": \"{secret_k}\", \"exp\": \"soon\"}}]}}"),
                KeyErrorKind::InvalidJwk,
            ),
            ("{\"keys\": [{\"kty\": \"RSA\", \"e\": \"AQAB\"}]}".into(), KeyErrorKind::InvalidJwk),
            (
                "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-192\", \"x\": \"AA\", \"y\": \"AA\"}]}".into(),
                KeyErrorKind::InvalidJwk,
            ),
            (
                "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"AQ\", \"y\": \"Ag\"}]}".into(),
                KeyErrorKind::InvalidJwk,
            ),
            ("{\"keys\": [{\"kty\": \"EC\", \"x\": \"AQ\", \"y\": \"Ag\"}]}".into(), KeyErrorKind::InvalidJwk),
            ("{\"keys\": [{\"kty\": \"OKP\", \"crv\": \"Ed25519\"}]}".into(), KeyErrorKind::InvalidJwk),
            ("{\"keys\": [{\"kty\": \"OKP\", \"crv\": \"Ed9\", \"x\": \"AA\"}]}".into(), KeyErrorKind::InvalidJwk),
        ];
        for (doc, kind) in cases {
            let err = set_err(&doc);
            assert_eq!(err.kind(), kind, "{doc}: {err}");
            let text = err.to_string();
            assert!(!text.contains(&secret_k) && !text.contains("topsecret"), "{text}");
            assert!(text.starts_with(|c: char| c.is_ascii_lowercase()), "{text}");
        }
        // One bad key among good ones still fails the set.
        let good = oct_jwk(&[1u8; 32], json!({}));
        let err = parse_jwk_set(&json!({"keys": [good, {"kty": "RSA", "n": "AQAB"}]}).to_string()).unwrap_err();
        assert_eq!(err.to_string(), "invalid jwk at position 1: missing `e` member");
    }

    #[test]
    fn error_messages_name_members_not_values() {
        let err = set_err("{\"keys\": [{\"kty\": \"oct\", \"k\": \"secret secret\"}]}");
        assert_eq!(err.to_string(), "invalid jwk at position 0: member `k` is not valid base64url");
        let err = set_err("{\"keys\": [], \"keys\": []}");
        assert!(err.to_string().starts_with("jwk set has a duplicate json member `keys`"), "{err}");
        let err = set_err("{\"keys\": [\"secret-value\"");
        assert!(err.to_string().starts_with("jwk set is not valid json (line 1, column"), "{err}");
        assert!(!err.to_string().contains("secret"));
        let err = set_err("{\"keys\": [{\"kty\": \"EC\", \"crv\": \"`evil`\", \"x\": \"AQ\", \"y\": \"Ag\"}]}");
        assert_eq!(err.to_string(), "invalid jwk at position 0: unknown or unsupported curve `?evil?`");
    }

    #[test]
    fn unknown_key_types_are_skipped() {
        let good = oct_jwk(&[1u8; 32], json!({"kid": "good"}));
        let keys =
            set(&[json!({"kty": "foo", "whatever": 1}), json!({"kty": "rsa", "n": 5}), json!({"kty": "OCT"}), good]);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys.keys()[0].kid(), Some("good"));
    }

    #[test]
    fn okp_and_secp256k1_keys_load_but_are_never_usable() {
        let keys = set(&[
            json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&[1u8; 32])}),
            json!({"kty": "EC", "crv": "P-256K", "x": b64(&[1u8; 32]), "y": b64(&[2u8; 32])}),
        ]);
        assert_eq!(keys.len(), 2);
        assert_eq!((keys.keys()[0].kty(), keys.keys()[0].crv()), ("OKP", Some("Ed25519")));
        assert_eq!((keys.keys()[1].kty(), keys.keys()[1].crv()), ("EC", Some("P-256K")));
        assert!(keys.keys().iter().all(|k| Algorithm::ALL.iter().all(|&a| !k.usable_for(a))));
        assert!(keys.filter(&Algorithm::ALL).is_empty());
    }

    #[test]
    fn blank_empty_and_oversized_documents() {
        assert!(parse_jwk_set("").unwrap().is_empty());
        assert!(parse_jwk_set(" \n\t ").unwrap().is_empty());
        assert!(parse_jwk_set("{\"keys\": []}").unwrap().is_empty());
        let huge = format!("{{\"keys\": [], \"pad\": \"{}\"}}", "a".repeat(MAX_JWK_SET_LEN));
        assert_eq!(set_err(&huge).kind(), KeyErrorKind::TooLarge);
        let many = vec![json!({"kty": "foo"}); MAX_JWK_SET_KEYS + 1];
        assert_eq!(set_err(&json!({ "keys": many }).to_string()).kind(), KeyErrorKind::TooManyKeys);
        let at_limit = vec![json!({"kty": "foo"}); MAX_JWK_SET_KEYS];
        assert!(parse_jwk_set(&json!({ "keys": at_limit }).to_string()).is_ok());
        // Extra top-level and per-key members are ignored.
        let keys = set(&[oct_jwk(&[1u8; 32], json!({"x5t": "abc", "x5c": ["MIIB"], "exp": 1, "d": "ignored"}))]);
        assert_eq!(keys.len(), 1);
        assert!(parse_jwk_set("{\"keys\": [], \"other\": {\"a\": 1}}").is_ok());
    }

    #[test]
    fn base64_leniency_and_nulls() {
        // 32 bytes whose standard encoding contains '+' and '/', with padding.
        let secret = [0xfbu8; 32];
        let std_b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        assert!(std_b64.contains('+') || std_b64.contains('/'));
        assert!(std_b64.ends_with('='));
        let keys = set(&[json!({"kty": "oct", "k": std_b64, "kid": null, "alg": null})]);
        assert_eq!(keys.keys()[0].kid(), None);
        let signature = hmac_sign(Algorithm::HS256, &secret, INPUT);
        assert_eq!(verify_signature(keys.keys(), None, Algorithm::HS256, INPUT, &signature), Ok(()));
    }

    #[test]
    fn ec_point_must_be_on_curve() {
        let kp = ec_pair(Algorithm::ES256);
        let mut jwk = ec_jwk(&kp, "P-256", json!({}));
        let point = kp.public_key().as_ref().to_vec();
        let mut y = point[33..].to_vec();
        y[31] ^= 1;
        jwk["y"] = Value::String(b64(&y));
        let err = parse_jwk_set(&json!({ "keys": [jwk] }).to_string()).unwrap_err();
        assert_eq!(err.to_string(), "invalid jwk at position 0: public coordinates are not on the P-256 curve");
        // Wrong curve name for the coordinates: also not on that curve.
        let jwk = ec_jwk(&kp, "P-384", json!({}));
        assert!(parse_jwk_set(&json!({ "keys": [jwk] }).to_string()).is_err());
        // Leading zeros / short coordinates are normalised.
        let p521 = ec_pair(Algorithm::ES512);
        let keys = set(&[ec_jwk(&p521, "P-521", json!({}))]);
        assert_eq!(keys.keys()[0].size_bits(), Some(521));
    }

    #[test]
    fn debug_never_shows_key_material() {
        let secret = "very-secret-hmac-key-material-0123456789";
        let jwk = hmac_key(secret);
        let set_of_one = JwkSet::from(vec![jwk.clone()]);
        for text in [format!("{jwk:?}"), format!("{set_of_one:?}"), format!("{jwk:#?}")] {
            assert!(!text.contains(secret) && !text.contains(&b64(secret.as_bytes())), "{text}");
            assert!(!text.contains("118, 101, 114"), "{text}");
            assert!(text.contains("***"), "{text}");
        }
        let k = b64(b"another-secret-key-of-32-bytes!!");
        let parsed = parse_jwk_set(&json!({"keys": [{"kty": "oct", "k": k, "kid": "x"}]}).to_string()).unwrap();
        let text = format!("{parsed:?}");
        assert!(!text.contains(&k) && !text.contains("another-secret"), "{text}");
    }
}
