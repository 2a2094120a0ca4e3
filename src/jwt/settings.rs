//! Settings of the `jwt` realm, read the way Elasticsearch reads `elasticsearch.yml` and its
//! keystore.
//!
//! Every key lives under `xpack.security.authc.realms.jwt.<name>.`. The realm file may write
//! keys as nested YAML maps, as flat dotted keys, or as any mix of both
//! (`xpack.security.authc.realms: {jwt.jwt1.order: 1}`); keys that are not under a JWT realm are
//! ignored, except that the `order` of other enabled realms takes part in the uniqueness check.
//! The setting table, defaults and error messages follow Elasticsearch's
//! `JwtRealmSettings.java`, `ClaimSetting.java`, `SecuritySettingsUtil.java`, `RealmSettings.java`,
//! `RealmConfig.java`, `Realms.java`, `JwtUtil.java` and `JwtSignatureValidator.java`
//! (see `shared/spec/jwt-realm.md` §1).
//!
//! Secure settings (`hmac_key`, `hmac_jwkset`, `client_authentication.shared_secret`) come from a
//! separate secrets file written in the same key format (what `elasticsearch.keystore` holds),
//! from the caller ([`SecureSettings`]), or, with a warning, from the realm file itself. They are
//! kept in [`Secret`], which never prints its value; no error or warning of this module contains
//! a secret value.
//!
//! Value rules, as in Elasticsearch's `Settings` and `Setting` classes:
//! - a list is a YAML sequence or a comma-separated string (`"a, b"` is `[a, b]`, Java
//!   `String.split` then `trim`); a string that splits into nothing means "use the default";
//! - booleans are exactly `true` or `false`;
//! - integers are Java `int`s written in decimal;
//! - times need a unit (`nanos`, `micros`, `ms`, `s`, `m`, `h`, `d`; the unit is case-insensitive
//!   except `m`); only `0` and `-1` may be written without one, and `-1` means zero here;
//!   fractions and values below `-1` are refused;
//! - a YAML `null` value is refused (Elasticsearch: "null-valued setting"), and so is a key
//!   written twice, in one form or across the nested and flat forms ("duplicate settings key").
//!
//! The YAML reader is `yaml-rust2`'s event parser: it is maintained, gives a line and column for
//! every event, and is a state machine without recursion, so the tree built here from its events
//! is bounded by [`MAX_YAML_DEPTH`] without any risk to the stack. (`yaml-rust2`'s own
//! `YamlLoader` recurses, and `saphyr` offers nothing more that is needed here.)

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// The prefix of every realm setting, whatever the realm type.
pub const REALMS_PREFIX: &str = "xpack.security.authc.realms.";

/// The prefix of every JWT realm setting; the realm name and the setting follow.
pub const JWT_PREFIX: &str = "xpack.security.authc.realms.jwt.";

/// How deeply YAML maps and lists may nest in the realm and secrets files. Deeper input is
/// refused with an error. `elasticsearch.yml` needs at most eight levels for a JWT setting
/// written fully nested (`xpack.security.authc.realms.jwt.<name>.claims.principal`).
pub const MAX_YAML_DEPTH: usize = 64;

/// The claims a `required_claims.<name>` setting may not name (`JwtRealmSettings.REQUIRED_CLAIMS`).
pub const REQUIRED_CLAIMS_FORBIDDEN: [&str; 6] = ["iss", "sub", "aud", "exp", "nbf", "iat"];

/// The registered claims of RFC 7519 §4.1 that a fallback claim may not name
/// (`JwtRealmSettings.REGISTERED_CLAIM_NAMES`).
pub const REGISTERED_CLAIM_NAMES: [&str; 7] = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

/// Elasticsearch's TLS client settings (`SSLConfigurationSettings`) other
/// than `ssl.certificate_authorities` and `ssl.truststore.path`, which a
/// realm accepts for fetching its JWK set over HTTPS. None widens what is
/// trusted when ignored (we always verify certificates and host names).
const SSL_SETTINGS_NOT_READ: [&str; 13] = [
    "ssl.verification_mode",
    "ssl.supported_protocols",
    "ssl.cipher_suites",
    "ssl.truststore.type",
    "ssl.truststore.algorithm",
    "ssl.truststore.password",
    "ssl.keystore.path",
    "ssl.keystore.type",
    "ssl.keystore.algorithm",
    "ssl.keystore.password",
    "ssl.key",
    "ssl.certificate",
    "ssl.key_passphrase",
];

/// The secure settings of a JWT realm (`JwtRealmSettings.getSecureSettings`).
pub const SECURE_SETTINGS: [&str; 3] = ["hmac_key", "hmac_jwkset", "client_authentication.shared_secret"];

// ---------------------------------------------------------------------------------------------
// Value types
// ---------------------------------------------------------------------------------------------

pub use super::keys::Algorithm;

/// What kind of token a realm accepts (`token_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TokenType {
    /// `id_token`, the default: OpenID Connect ID tokens.
    #[default]
    IdToken,
    /// `access_token`: OAuth2 access tokens; subjects must be restricted and fallback claims
    /// may be configured.
    AccessToken,
}

impl TokenType {
    /// The setting value (`id_token` or `access_token`).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::IdToken => "id_token",
            TokenType::AccessToken => "access_token",
        }
    }

    /// Parses a setting value, ignoring case like Java's `equalsIgnoreCase`.
    pub fn parse(s: &str) -> Option<Self> {
        [TokenType::IdToken, TokenType::AccessToken].into_iter().find(|t| java_equals_ignore_case(s, t.as_str()))
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How clients must authenticate (`client_authentication.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClientAuthType {
    /// `shared_secret`, the default: requests carry `ES-Client-Authentication: SharedSecret <s>`.
    #[default]
    SharedSecret,
    /// `none`: no client authentication.
    None,
}

impl ClientAuthType {
    /// The setting value (`shared_secret` or `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthType::SharedSecret => "shared_secret",
            ClientAuthType::None => "none",
        }
    }

    /// Parses a setting value, ignoring case like Java's `equalsIgnoreCase`.
    pub fn parse(s: &str) -> Option<Self> {
        [ClientAuthType::None, ClientAuthType::SharedSecret]
            .into_iter()
            .find(|t| java_equals_ignore_case(s, t.as_str()))
    }
}

impl fmt::Display for ClientAuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Java's `String.equalsIgnoreCase`: equal lengths, and each pair of characters equal, or equal
/// once upper-cased, or once that is lower-cased again.
fn java_equals_ignore_case(a: &str, b: &str) -> bool {
    fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
        let c = it.next()?;
        if it.next().is_some() { None } else { Some(c) }
    }
    let upper = |c: char| single(c.to_uppercase()).unwrap_or(c);
    let lower = |c: char| single(c.to_lowercase()).unwrap_or(c);
    a.encode_utf16().count() == b.encode_utf16().count()
        && a.chars().count() == b.chars().count()
        && a.chars().zip(b.chars()).all(|(x, y)| x == y || upper(x) == upper(y) || lower(upper(x)) == lower(upper(y)))
}

/// A secure setting's value. Its `Debug` prints `Secret(***)`, it has no `Display`, and its
/// bytes are overwritten with zeros when it is dropped (best effort: copies made before it was
/// wrapped, for example by the YAML reader, are not).
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret value. Never log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value has a non-whitespace character (Java's `Strings.hasText`), which is what
    /// Elasticsearch checks to decide whether a secure setting is set.
    pub fn has_text(&self) -> bool {
        self.0.chars().any(|c| !c.is_whitespace())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl PartialEq for Secret {
    /// Compares without stopping at the first difference (the realm code should still use its
    /// own constant-time comparison for client secrets).
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        let mut diff = u8::from(a.len() != b.len());
        for (x, y) in a.iter().zip(b.iter()) {
            diff |= x ^ y;
        }
        diff == 0
    }
}

impl Eq for Secret {}

impl Drop for Secret {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&bytes);
    }
}

/// Where the public-key JWK set of `pkc_jwkset_path` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwkSetLocation {
    /// A file; a relative path was resolved against the configuration file's folder.
    File(PathBuf),
    /// An `https://` URL with a host, kept as written.
    Url(String),
}

/// The claim names of `claims.*`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Claims {
    /// `claims.principal`: the claim holding the user name. Required, no default.
    pub principal: String,
    /// `claims.groups`: the claim holding the groups. Default: none.
    pub groups: Option<String>,
    /// `claims.dn`: the claim holding the distinguished name. Default: none.
    pub dn: Option<String>,
    /// `claims.mail`: the claim holding the e-mail address. Default: none.
    pub mail: Option<String>,
    /// `claims.name`: the claim holding the full name. Default: none.
    pub name: Option<String>,
}

/// The patterns of `claim_patterns.*`: Java regular expressions (compiled with Java's meanings
/// on top of the `regex` crate, see `jwt::java_regex`) whose group 1, found anywhere in a claim
/// value, is the value used. Each is only allowed when the matching `claims.*` is set. Default: none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClaimPatterns {
    /// `claim_patterns.principal`.
    pub principal: Option<String>,
    /// `claim_patterns.groups`.
    pub groups: Option<String>,
    /// `claim_patterns.dn`.
    pub dn: Option<String>,
    /// `claim_patterns.mail`.
    pub mail: Option<String>,
    /// `claim_patterns.name`.
    pub name: Option<String>,
}

/// `fallback_claims.*` (access tokens only): the claim read when `sub` or `aud` is absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FallbackClaims {
    /// `fallback_claims.sub`. `None` (the default, `sub` itself) means no fallback.
    pub sub: Option<String>,
    /// `fallback_claims.aud`. `None` (the default, `aud` itself) means no fallback.
    pub aud: Option<String>,
}

/// `client_authentication.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuthentication {
    /// `client_authentication.type`. Default: [`ClientAuthType::SharedSecret`].
    pub kind: ClientAuthType,
    /// `client_authentication.shared_secret` (secure). Set exactly when `kind` is
    /// [`ClientAuthType::SharedSecret`] (for an enabled realm).
    pub shared_secret: Option<Secret>,
    /// `client_authentication.rotation_grace_period`: how long the previous secret stays valid
    /// after a reload. Default: 1 minute.
    pub rotation_grace_period: Duration,
}

impl Default for ClientAuthentication {
    fn default() -> Self {
        ClientAuthentication {
            kind: ClientAuthType::SharedSecret,
            shared_secret: None,
            rotation_grace_period: Duration::from_secs(60),
        }
    }
}

/// `jwt.cache.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSettings {
    /// `jwt.cache.ttl`. Default: 20 minutes; zero disables the cache.
    pub ttl: Duration,
    /// `jwt.cache.size` (≥ 0). Default: 100 000; zero disables the cache.
    pub size: u32,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings { ttl: Duration::from_secs(20 * 60), size: 100_000 }
    }
}

/// `pkc_jwkset_reload.*`: background reloading of the public-key JWK set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwkSetReload {
    /// `pkc_jwkset_reload.enabled`. Default: `false`.
    pub enabled: bool,
    /// `pkc_jwkset_reload.file_interval`: how often a file is polled. Default: 5 minutes.
    pub file_interval: Duration,
    /// `pkc_jwkset_reload.url_interval_min`. Default: 60 minutes.
    pub url_interval_min: Duration,
    /// `pkc_jwkset_reload.url_interval_max` (not below the minimum). Default: 5 days.
    pub url_interval_max: Duration,
}

impl Default for JwkSetReload {
    fn default() -> Self {
        JwkSetReload {
            enabled: false,
            file_interval: Duration::from_secs(5 * 60),
            url_interval_min: Duration::from_secs(60 * 60),
            url_interval_max: Duration::from_secs(5 * 24 * 60 * 60),
        }
    }
}

/// `http.*`: the client that fetches a JWK set URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// `http.connect_timeout`. Default: 5 seconds.
    pub connect_timeout: Duration,
    /// `http.connection_read_timeout`. Default: 5 seconds.
    pub connection_read_timeout: Duration,
    /// `http.socket_timeout`. Default: 5 seconds.
    pub socket_timeout: Duration,
    /// `http.max_connections` (≥ 0). Default: 200.
    pub max_connections: u32,
    /// `http.max_endpoint_connections` (≥ 0). Default: 200.
    pub max_endpoint_connections: u32,
    /// `http.proxy.host`. Default: none (no proxy).
    pub proxy_host: Option<String>,
    /// `http.proxy.scheme`: only `http`. Default: `http`.
    pub proxy_scheme: String,
    /// `http.proxy.port` (1–65535). Default: 80.
    pub proxy_port: u16,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(5),
            connection_read_timeout: Duration::from_secs(5),
            socket_timeout: Duration::from_secs(5),
            max_connections: 200,
            max_endpoint_connections: 200,
            proxy_host: None,
            proxy_scheme: "http".to_owned(),
            proxy_port: 80,
        }
    }
}

/// The checked settings of one JWT realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealmSettings {
    /// The realm name (letters, digits, `_`, `-`).
    pub name: String,
    /// `order`: the realm's place in the chain, a Java `int`, unique among enabled realms.
    /// Required for an enabled realm read from YAML; otherwise defaults to `2147483647`
    /// (Elasticsearch's `Integer.MAX_VALUE`).
    pub order: i64,
    /// `enabled`. Default: `true`. A disabled realm is listed but was only checked setting by
    /// setting, not as a whole (Elasticsearch does not build it).
    pub enabled: bool,
    /// `token_type`. Default: [`TokenType::IdToken`].
    pub token_type: TokenType,
    /// `allowed_issuer`: the exact `iss`. Required, non-empty.
    pub allowed_issuer: String,
    /// `allowed_audiences`: accepted `aud` values. Required, non-empty.
    pub allowed_audiences: Vec<String>,
    /// `allowed_subjects`: accepted literal `sub` values. Default: empty.
    pub allowed_subjects: Vec<String>,
    /// `allowed_subject_patterns`: accepted `sub` patterns (wildcards or `/regex/`), each checked
    /// to compile. Default: empty. For an access-token realm this list and
    /// [`allowed_subjects`](Self::allowed_subjects) are not both empty; for an ID-token realm
    /// both empty means any subject.
    pub allowed_subject_patterns: Vec<String>,
    /// `fallback_claims.*`. Default: no fallback.
    pub fallback_claims: FallbackClaims,
    /// `required_claims.<name>`: claims that must hold one of the listed strings, in the order
    /// the settings were read. Default: none.
    pub required_claims: Vec<(String, Vec<String>)>,
    /// `allowed_signature_algorithms`. Default: `[RS256]`.
    pub allowed_signature_algorithms: Vec<Algorithm>,
    /// `allowed_clock_skew`. Default: 60 seconds.
    pub allowed_clock_skew: Duration,
    /// `pkc_jwkset_path`: a file or `https://` URL. Default: none.
    pub pkc_jwkset_path: Option<JwkSetLocation>,
    /// `hmac_key` (secure): one HMAC key, its UTF-8 bytes. Default: none. Never set together
    /// with `hmac_jwkset`; blank values count as unset.
    pub hmac_key: Option<Secret>,
    /// `hmac_jwkset` (secure): a JWK set of `oct` keys, as JSON text. Default: none.
    pub hmac_jwkset: Option<Secret>,
    /// `claims.*`.
    pub claims: Claims,
    /// `claim_patterns.*`.
    pub claim_patterns: ClaimPatterns,
    /// `populate_user_metadata`. Default: `true`.
    pub populate_user_metadata: bool,
    /// `client_authentication.*`.
    pub client_authentication: ClientAuthentication,
    /// `jwt.cache.*`.
    pub cache: CacheSettings,
    /// `authorization_realms`: realms that look up the user instead of role mapping.
    /// Default: empty.
    pub authorization_realms: Vec<String>,
    /// `pkc_jwkset_reload.*`.
    pub pkc_jwkset_reload: JwkSetReload,
    /// `http.*`.
    pub http: HttpSettings,
    /// `ssl.certificate_authorities`: CA certificate files for the JWK set URL, resolved against
    /// the configuration file's folder. Default: empty (the system's trust).
    pub ssl_certificate_authorities: Vec<PathBuf>,
}

impl RealmSettings {
    /// The full key of one of this realm's settings (`xpack.security.authc.realms.jwt.<name>.<setting>`).
    pub fn key(&self, setting: &str) -> String {
        full_key(&self.name, setting)
    }
}

/// All JWT realms of a configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// The realms, sorted by `order` (then name); disabled ones included.
    pub realms: Vec<RealmSettings>,
    /// Things that work but should be fixed (a secure setting in the realm file, a reserved realm
    /// name, client authentication `none`). Never holds a secret.
    pub warnings: Vec<String>,
}

/// Secure settings handed over by a library caller, keyed by their full setting key
/// (`xpack.security.authc.realms.jwt.<name>.hmac_key`). Keys of other realm types are ignored.
#[derive(Debug, Clone, Default)]
pub struct SecureSettings {
    entries: BTreeMap<String, (Secret, Option<Position>, ConfigSource)>,
}

impl SecureSettings {
    /// No secure settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) one secure setting.
    pub fn insert(&mut self, key: impl Into<String>, value: Secret) {
        self.entries.insert(key.into(), (value, None, ConfigSource::Caller));
    }

    /// Reads a secrets file: YAML in the realm file's key format whose values are the secrets.
    pub fn from_yaml(text: &str) -> Result<SecureSettings, SettingsErrors> {
        let mut errors = Vec::new();
        let entries = flatten_yaml(text, ConfigSource::SecretsFile, &mut errors);
        let mut settings = SecureSettings::new();
        for entry in entries {
            match entry.value {
                RawValue::Scalar(value) => {
                    settings.entries.insert(entry.key, (Secret::new(value), entry.position, ConfigSource::SecretsFile));
                }
                RawValue::List(_) | RawValue::Null => {
                    if entry.key.starts_with(JWT_PREFIX) {
                        errors.push(SettingsError::new(
                            ErrorKind::SecretNotString,
                            entry.key,
                            ConfigSource::SecretsFile,
                            entry.position,
                        ));
                    }
                }
            }
        }
        if errors.is_empty() { Ok(settings) } else { Err(SettingsErrors(errors)) }
    }

    /// The number of secure settings held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no secure setting is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A line and column (both from 1) in a YAML file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1.
    pub column: usize,
}

impl Position {
    fn from_marker(mark: Marker) -> Self {
        Position { line: mark.line(), column: mark.col() + 1 }
    }
}

/// Where a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigSource {
    /// The realm file (`elasticsearch.yml`).
    RealmFile,
    /// The secrets file (what `elasticsearch.keystore` holds).
    SecretsFile,
    /// The flat form of [`from_flat`].
    Flat,
    /// [`SecureSettings::insert`].
    Caller,
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigSource::RealmFile => "realm file",
            ConfigSource::SecretsFile => "secrets file",
            ConfigSource::Flat => "flat settings",
            ConfigSource::Caller => "caller's secure settings",
        })
    }
}

/// Why a time value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeProblem {
    /// No unit, or an unknown one (`60`, `5w`, `5M`).
    UnitMissing,
    /// A fraction (`1.5h`).
    Fractional,
    /// Below `-1` (`-2s`).
    Negative,
    /// Not a number before the unit (`abcs`).
    NotANumber,
}

impl fmt::Display for TimeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeProblem::UnitMissing => "unit is missing or unrecognized",
            TimeProblem::Fractional => "fractional time values are not supported",
            TimeProblem::Negative => "negative durations are not supported",
            TimeProblem::NotANumber => "not a number",
        })
    }
}

/// The kinds of [`SettingsError`]. Values quoted in them are never secure settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The YAML does not parse.
    #[error("invalid yaml: {message}")]
    Yaml {
        /// The parser's message (a generic one for the secrets file).
        message: String,
    },
    /// Maps and lists nest deeper than [`MAX_YAML_DEPTH`].
    #[error("yaml nests deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The file holds more than one YAML document.
    #[error("the file holds more than one yaml document")]
    MultipleDocuments,
    /// The top of the file is not a map.
    #[error("the top of the file must be a map of settings")]
    RootNotMap,
    /// A map used as a map key, a list inside a list, or a map inside a list.
    #[error("only maps of settings with scalar or list-of-scalar values are allowed")]
    UnsupportedStructure,
    /// An alias to a map or list, or to an unknown anchor.
    #[error("yaml aliases are only supported for scalar values")]
    UnsupportedAlias,
    /// A key written twice (in either form).
    #[error("duplicate settings key")]
    DuplicateKey,
    /// A `null` value.
    #[error("null-valued setting")]
    NullValue,
    /// A list where one value is expected.
    #[error("expected a single value, found a list")]
    ExpectedSingleValue,
    /// A setting under a JWT realm that Elasticsearch does not define.
    #[error("unknown setting")]
    UnknownSetting,
    /// A realm or realm type key holding a value instead of a map of settings.
    #[error("expected a map of realm settings")]
    NotAMap,
    /// A realm name with characters other than letters, digits, `_` and `-`.
    #[error("invalid realm name `{name}`: only letters, digits, `_` and `-` are allowed")]
    InvalidRealmName {
        /// The name.
        name: String,
    },
    /// An enabled realm without `order`.
    #[error("`order` is a mandatory setting of an enabled realm")]
    MissingOrder,
    /// Enabled realms sharing one `order`.
    #[error("found multiple realms configured with the same order `{order}`: {}", list(.realms))]
    DuplicateOrder {
        /// The order.
        order: i64,
        /// The realms (`type.name`).
        realms: Vec<String>,
    },
    /// Not a Java `int`.
    #[error("invalid integer `{value}`")]
    InvalidInt {
        /// The value.
        value: String,
    },
    /// An integer out of its range.
    #[error("`{value}` is out of range, must be >= {min} and <= {max}")]
    IntOutOfRange {
        /// The value.
        value: i64,
        /// The minimum.
        min: i64,
        /// The maximum.
        max: i64,
    },
    /// Not `true` or `false`.
    #[error("invalid value `{value}`, only `true` or `false` are allowed")]
    InvalidBool {
        /// The value.
        value: String,
    },
    /// Not a time value.
    #[error("invalid time value `{value}`: {problem}")]
    InvalidTime {
        /// The value.
        value: String,
        /// What is wrong.
        problem: TimeProblem,
    },
    /// `token_type` is not `id_token` or `access_token`.
    #[error("invalid value `{value}`, allowed values are [id_token,access_token]")]
    InvalidTokenType {
        /// The value.
        value: String,
    },
    /// `client_authentication.type` is not `shared_secret` or `none`.
    #[error("invalid value `{value}`, allowed values are [none,shared_secret]")]
    InvalidClientAuthType {
        /// The value.
        value: String,
    },
    /// An empty or missing required value (`SecuritySettingsUtil`: "Invalid empty value").
    #[error("invalid empty value")]
    EmptyValue,
    /// An empty or missing required list (`SecuritySettingsUtil`: "Invalid empty list").
    #[error("invalid empty list")]
    EmptyList,
    /// An algorithm name outside the twelve supported ones.
    #[error(
        "invalid value `{value}`, allowed values are [HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512]"
    )]
    InvalidAlgorithm {
        /// The value.
        value: String,
    },
    /// A required setting that is absent.
    #[error("setting is required")]
    Required,
    /// An access-token realm (or an ID-token realm that sets either key) without allowed subjects.
    #[error("one of either `{subjects}` or `{patterns}` must be specified and not be empty")]
    SubjectsRequired {
        /// The full `allowed_subjects` key.
        subjects: String,
        /// The full `allowed_subject_patterns` key.
        patterns: String,
    },
    /// An invalid `allowed_subject_patterns` element.
    #[error("invalid patterns for allowed claim values for [sub]: `{value}`: {message}")]
    InvalidSubjectPattern {
        /// The pattern.
        value: String,
        /// What is wrong.
        message: String,
    },
    /// A fallback claim on an ID-token realm.
    #[error("fallback claim setting is not allowed when jwt realm `{realm}` is [id_token] type")]
    FallbackNotAllowedForIdToken {
        /// The realm.
        realm: String,
    },
    /// A fallback to a registered claim.
    #[error("claim [{claim}] cannot fallback to a registered claim `{fallback}`")]
    FallbackToRegisteredClaim {
        /// `sub` or `aud`.
        claim: String,
        /// The registered claim named.
        fallback: String,
    },
    /// `required_claims.<name>` with a registered name.
    #[error("required claim cannot be one of [iss,sub,aud,exp,nbf,iat]")]
    RequiredClaimForbidden,
    /// `required_claims.<name>` without values.
    #[error("required claim cannot be empty")]
    RequiredClaimEmpty,
    /// Neither `hmac_key`, `hmac_jwkset` nor `pkc_jwkset_path`.
    #[error("at least one of `{hmac_key}` or `{hmac_jwkset}` or `{pkc_jwkset_path}` must be set")]
    NoKeySource {
        /// The full `hmac_key` key.
        hmac_key: String,
        /// The full `hmac_jwkset` key.
        hmac_jwkset: String,
        /// The full `pkc_jwkset_path` key.
        pkc_jwkset_path: String,
    },
    /// Both `hmac_jwkset` and `hmac_key`.
    #[error("settings `{hmac_jwkset}` and `{hmac_key}` are not allowed at the same time")]
    HmacKeyAndJwkSet {
        /// The full `hmac_jwkset` key.
        hmac_jwkset: String,
        /// The full `hmac_key` key.
        hmac_key: String,
    },
    /// `client_authentication.type: shared_secret` without a secret.
    #[error("missing setting, it is required when setting `{type_key}` is [shared_secret]")]
    SharedSecretMissing {
        /// The full `client_authentication.type` key.
        type_key: String,
    },
    /// `client_authentication.type: none` with a secret.
    #[error("setting is not supported, because setting `{type_key}` is [none]")]
    SharedSecretNotAllowed {
        /// The full `client_authentication.type` key.
        type_key: String,
    },
    /// `claims.<x>` set to an empty string.
    #[error("invalid null or empty claim name")]
    EmptyClaimName,
    /// `claim_patterns.<x>` that does not compile.
    #[error("invalid claim value regex pattern: {message}")]
    InvalidClaimPattern {
        /// What is wrong.
        message: String,
    },
    /// `claim_patterns.<x>` without `claims.<x>`.
    #[error("setting cannot be set unless `{claim_key}` is also set")]
    ClaimPatternWithoutClaim {
        /// The full `claims.<x>` key.
        claim_key: String,
    },
    /// An `http…` `pkc_jwkset_path` that is not `https`.
    #[error("not allowed to use HTTP URI `{value}`, only HTTPS is supported")]
    HttpUriNotAllowed {
        /// The value.
        value: String,
    },
    /// An `https` `pkc_jwkset_path` without a host.
    #[error("host is missing in HTTPS URI `{value}`")]
    HttpsHostMissing {
        /// The value.
        value: String,
    },
    /// An `https` `pkc_jwkset_path` that is not a valid URI.
    #[error("failed to parse HTTPS URI `{value}`")]
    InvalidUri {
        /// The value.
        value: String,
    },
    /// `pkc_jwkset_reload.url_interval_max` below `url_interval_min`.
    #[error("invalid PKC JWK set URL reload intervals: max `{max:?}` is less than min `{min:?}`")]
    ReloadIntervals {
        /// The minimum.
        min: Duration,
        /// The maximum.
        max: Duration,
    },
    /// `ssl.truststore.path` with a URL `pkc_jwkset_path`: the trust store
    /// cannot be read here, and ignoring it would trust the system's roots
    /// instead, more than the operator configured.
    #[error("setting is not supported for fetching the JWK set; give the CA certificates as PEM files in `{ca_key}`")]
    TrustStoreNotSupported {
        /// The full `ssl.certificate_authorities` key.
        ca_key: String,
    },
    /// `http.proxy.scheme` other than `http`.
    #[error("invalid value `{value}`, only `http` is allowed")]
    InvalidProxyScheme {
        /// The value.
        value: String,
    },
    /// A secure setting that is not a single string.
    #[error("a secure setting must be a single string")]
    SecretNotString,
    /// A non-secure setting in the secrets file.
    #[error("not a secure setting: it belongs in the realm file, not in the secrets file")]
    NotSecureSetting,
    /// A secure setting both in the realm file and in the secure settings.
    #[error("secure setting found both in the realm file and in the secure settings")]
    SecretInBothFiles,
    /// Secure settings for a realm that has no settings in the realm file.
    #[error("found secure settings for realm `{realm}`, which has no settings in the realm file")]
    SecretsWithoutRealm {
        /// The realm.
        realm: String,
    },
}

fn list(items: &[String]) -> String {
    items.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
}

/// One configuration problem: what, which setting (its full key), and where in the YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    kind: ErrorKind,
    key: String,
    origin: ConfigSource,
    position: Option<Position>,
}

impl SettingsError {
    fn new(kind: ErrorKind, key: String, origin: ConfigSource, position: Option<Position>) -> Self {
        SettingsError { kind, key, origin, position }
    }

    /// What is wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The full setting key (`xpack.security.authc.realms.jwt.jwt1.allowed_issuer`); empty for a
    /// problem of the whole file.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The file or form the setting came from.
    pub fn origin(&self) -> ConfigSource {
        self.origin
    }

    /// The line and column in the YAML, when known.
    pub fn position(&self) -> Option<Position> {
        self.position
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.key.is_empty() {
            write!(f, "`{}`: ", self.key)?;
        }
        write!(f, "{}", self.kind)?;
        if let Some(p) = self.position {
            write!(f, " ({}, line {}, column {})", self.origin, p.line, p.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for SettingsError {}

/// Every problem found in a configuration, in the order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsErrors(pub Vec<SettingsError>);

impl SettingsErrors {
    /// The problems.
    pub fn iter(&self) -> std::slice::Iter<'_, SettingsError> {
        self.0.iter()
    }

    /// The number of problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no problem (never true for a returned error).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a SettingsErrors {
    type Item = &'a SettingsError;
    type IntoIter = std::slice::Iter<'a, SettingsError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for SettingsErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::error::write_lines(f, &self.0)
    }
}

impl std::error::Error for SettingsErrors {}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/// Reads the JWT realms of a realm file (`elasticsearch.yml` syntax) and, if given, a secrets
/// file in the same key format. Relative paths resolve against `base_dir` (the realm file's
/// folder). Returns every problem found, not only the first.
pub fn parse_yaml(realms_yaml: &str, secrets_yaml: Option<&str>, base_dir: &Path) -> Result<Settings, SettingsErrors> {
    let mut errors = Vec::new();
    let secrets = match secrets_yaml.map(SecureSettings::from_yaml) {
        None => SecureSettings::new(),
        Some(Ok(secrets)) => secrets,
        Some(Err(e)) => {
            errors.extend(e.0);
            SecureSettings::new()
        }
    };
    load(realms_yaml, &secrets, base_dir, errors)
}

/// Like [`parse_yaml`], with the secure settings given by the caller.
pub fn parse_yaml_with_secrets(
    realms_yaml: &str,
    secrets: &SecureSettings,
    base_dir: &Path,
) -> Result<Settings, SettingsErrors> {
    load(realms_yaml, secrets, base_dir, Vec::new())
}

/// Reads one realm from the flat form of the conformance vectors: `setting -> value` without the
/// `xpack.security.authc.realms.jwt.<name>.` prefix (strings, numbers, booleans, lists of them,
/// or nested objects that flatten with `.`), secure settings inline. A `name` key is skipped;
/// `order` is optional here (default `2147483647`).
pub fn from_flat(
    name: &str,
    settings: &serde_json::Map<String, serde_json::Value>,
    base_dir: &Path,
) -> Result<RealmSettings, SettingsErrors> {
    let mut errors = Vec::new();
    let mut raw = RawRealm::default();
    let mut stack: Vec<(String, &serde_json::Map<String, serde_json::Value>, usize)> =
        vec![(String::new(), settings, 0)];
    while let Some((prefix, map, depth)) = stack.pop() {
        for (k, v) in map {
            let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            if prefix.is_empty() && k == "name" {
                continue;
            }
            let value = match v {
                serde_json::Value::Object(inner) => {
                    if depth + 1 >= MAX_YAML_DEPTH {
                        errors.push(SettingsError::new(
                            ErrorKind::TooDeep { max: MAX_YAML_DEPTH },
                            full_key(name, &key),
                            ConfigSource::Flat,
                            None,
                        ));
                    } else {
                        stack.push((key, inner, depth + 1));
                    }
                    continue;
                }
                serde_json::Value::Array(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    let mut ok = true;
                    for item in items {
                        match json_scalar(item) {
                            Some(RawValue::Scalar(s)) => out.push(s),
                            _ => ok = false,
                        }
                    }
                    if !ok {
                        errors.push(SettingsError::new(
                            ErrorKind::UnsupportedStructure,
                            full_key(name, &key),
                            ConfigSource::Flat,
                            None,
                        ));
                        continue;
                    }
                    RawValue::List(out)
                }
                other => json_scalar(other).unwrap_or(RawValue::Null),
            };
            if SECURE_SETTINGS.contains(&key.as_str()) {
                match value {
                    RawValue::Scalar(s) => {
                        raw.secrets.insert(key, (Secret::new(s), None, ConfigSource::Flat));
                    }
                    _ => errors.push(SettingsError::new(
                        ErrorKind::SecretNotString,
                        full_key(name, &key),
                        ConfigSource::Flat,
                        None,
                    )),
                }
            } else {
                let full = full_key(name, &key);
                match raw.settings.entry(key) {
                    std::collections::btree_map::Entry::Occupied(_) => {
                        errors.push(SettingsError::new(ErrorKind::DuplicateKey, full, ConfigSource::Flat, None));
                    }
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        slot.insert(RawEntry { value, position: None, origin: ConfigSource::Flat });
                    }
                }
            }
        }
    }
    let mut warnings = Vec::new();
    if !valid_realm_name(name) {
        errors.push(SettingsError::new(
            ErrorKind::InvalidRealmName { name: name.to_owned() },
            format!("{JWT_PREFIX}{name}"),
            ConfigSource::Flat,
            None,
        ));
    }
    let realm = build_realm(name, raw, base_dir, false, &mut warnings, &mut errors);
    match realm {
        Some(realm) if errors.is_empty() => Ok(realm),
        _ => Err(SettingsErrors(errors)),
    }
}

fn json_scalar(v: &serde_json::Value) -> Option<RawValue> {
    match v {
        serde_json::Value::String(s) => Some(RawValue::Scalar(s.clone())),
        serde_json::Value::Number(n) => Some(RawValue::Scalar(n.to_string())),
        serde_json::Value::Bool(b) => Some(RawValue::Scalar(b.to_string())),
        serde_json::Value::Null => Some(RawValue::Null),
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => None,
    }
}

fn full_key(realm: &str, setting: &str) -> String {
    format!("{JWT_PREFIX}{realm}.{setting}")
}

/// Letters, digits, `_` and `-`, at least one.
fn valid_realm_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

// ---------------------------------------------------------------------------------------------
// YAML → flat entries
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum RawValue {
    Scalar(String),
    List(Vec<String>),
    Null,
}

#[derive(Debug)]
struct FlatEntry {
    key: String,
    value: RawValue,
    position: Option<Position>,
}

enum Frame {
    Map { prefix: String, key: Option<(String, Position)> },
    Seq { key: String, position: Position, items: Vec<String>, has_null: bool },
}

fn join_key(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") }
}

fn is_null_scalar(value: &str, style: TScalarStyle) -> bool {
    style == TScalarStyle::Plain && matches!(value, "~" | "null" | "Null" | "NULL" | "")
}

/// Flattens a YAML settings file into `key -> value` entries, the way Elasticsearch's
/// `Settings.fromXContent` does. Stops at the first structural problem (as Elasticsearch does).
fn flatten_yaml(text: &str, origin: ConfigSource, errors: &mut Vec<SettingsError>) -> Vec<FlatEntry> {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut local = Vec::new();
        let entries = flatten_yaml_inner(text, origin, &mut local);
        (entries, local)
    }));
    match result {
        Ok((entries, local)) => {
            errors.extend(local);
            entries
        }
        Err(_) => {
            errors.push(SettingsError::new(
                ErrorKind::Yaml { message: "the yaml parser failed".to_owned() },
                String::new(),
                origin,
                None,
            ));
            Vec::new()
        }
    }
}

fn flatten_yaml_inner(text: &str, origin: ConfigSource, errors: &mut Vec<SettingsError>) -> Vec<FlatEntry> {
    let mut parser = Parser::new_from_str(text);
    let mut entries: Vec<FlatEntry> = Vec::new();
    let mut seen: HashMap<String, ()> = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (String, TScalarStyle)> = HashMap::new();
    let mut documents = 0usize;
    let fail = |errors: &mut Vec<SettingsError>, kind: ErrorKind, key: String, position: Position| {
        errors.push(SettingsError::new(kind, key, origin, Some(position)));
    };
    let mut add = |entries: &mut Vec<FlatEntry>, errors: &mut Vec<SettingsError>, key: String, value, position| {
        if seen.insert(key.clone(), ()).is_some() {
            errors.push(SettingsError::new(ErrorKind::DuplicateKey, key, origin, Some(position)));
        } else {
            entries.push(FlatEntry { key, value, position: Some(position) });
        }
    };
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(next) => next,
            Err(e) => {
                let message = match origin {
                    // The scanner may quote a character of the input: never one of a secret.
                    ConfigSource::SecretsFile => "the secrets file is not valid yaml".to_owned(),
                    _ => e.info().to_owned(),
                };
                fail(errors, ErrorKind::Yaml { message }, String::new(), Position::from_marker(*e.marker()));
                return entries;
            }
        };
        let position = Position::from_marker(mark);
        // A scalar (or an alias to one) is a node; handle both the same way.
        let scalar = match event {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => continue,
            Event::StreamEnd => return entries,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    fail(errors, ErrorKind::MultipleDocuments, String::new(), position);
                    return entries;
                }
                continue;
            }
            Event::Scalar(value, style, anchor, _tag) => {
                if anchor > 0 {
                    anchors.insert(anchor, (value.clone(), style));
                }
                (value, style)
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(found) => found.clone(),
                None => {
                    fail(errors, ErrorKind::UnsupportedAlias, String::new(), position);
                    return entries;
                }
            },
            Event::MappingStart(..) => {
                if stack.len() >= MAX_YAML_DEPTH {
                    fail(errors, ErrorKind::TooDeep { max: MAX_YAML_DEPTH }, String::new(), position);
                    return entries;
                }
                let frame = match stack.last_mut() {
                    None => Frame::Map { prefix: String::new(), key: None },
                    Some(Frame::Map { prefix, key: key @ Some(_) }) => {
                        let k = key.take().map(|(k, _)| k).unwrap_or_default();
                        Frame::Map { prefix: join_key(prefix, &k), key: None }
                    }
                    Some(Frame::Map { prefix, key: None }) => {
                        fail(errors, ErrorKind::UnsupportedStructure, prefix.clone(), position);
                        return entries;
                    }
                    Some(Frame::Seq { key, .. }) => {
                        fail(errors, ErrorKind::UnsupportedStructure, key.clone(), position);
                        return entries;
                    }
                };
                stack.push(frame);
                continue;
            }
            Event::SequenceStart(..) => {
                if stack.len() >= MAX_YAML_DEPTH {
                    fail(errors, ErrorKind::TooDeep { max: MAX_YAML_DEPTH }, String::new(), position);
                    return entries;
                }
                let frame = match stack.last_mut() {
                    None => {
                        fail(errors, ErrorKind::RootNotMap, String::new(), position);
                        return entries;
                    }
                    Some(Frame::Map { prefix, key: key @ Some(_) }) => {
                        let (k, kpos) = key.take().unwrap_or_else(|| (String::new(), position));
                        Frame::Seq { key: join_key(prefix, &k), position: kpos, items: Vec::new(), has_null: false }
                    }
                    Some(Frame::Map { prefix, key: None }) => {
                        fail(errors, ErrorKind::UnsupportedStructure, prefix.clone(), position);
                        return entries;
                    }
                    Some(Frame::Seq { key, .. }) => {
                        fail(errors, ErrorKind::UnsupportedStructure, key.clone(), position);
                        return entries;
                    }
                };
                stack.push(frame);
                continue;
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq { key, position, items, has_null }) = stack.pop() {
                    if has_null {
                        fail(errors, ErrorKind::NullValue, key, position);
                    } else {
                        add(&mut entries, errors, key, RawValue::List(items), position);
                    }
                }
                continue;
            }
            Event::MappingEnd => {
                stack.pop();
                continue;
            }
        };
        let (value, style) = scalar;
        match stack.last_mut() {
            None => {
                // A document that is only a scalar: an empty file or `~` holds no settings.
                if !is_null_scalar(&value, style) {
                    fail(errors, ErrorKind::RootNotMap, String::new(), position);
                    return entries;
                }
            }
            Some(Frame::Map { key: key @ None, .. }) => *key = Some((value, position)),
            Some(Frame::Map { prefix, key: key @ Some(_) }) => {
                let (k, kpos) = key.take().unwrap_or_else(|| (String::new(), position));
                let full = join_key(prefix, &k);
                let raw = if is_null_scalar(&value, style) { RawValue::Null } else { RawValue::Scalar(value) };
                add(&mut entries, errors, full, raw, kpos);
            }
            Some(Frame::Seq { items, has_null, .. }) => {
                if is_null_scalar(&value, style) {
                    *has_null = true;
                } else {
                    items.push(value);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Grouping into realms
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct RawEntry {
    value: RawValue,
    position: Option<Position>,
    origin: ConfigSource,
}

#[derive(Debug, Default)]
struct RawRealm {
    /// Non-secure settings, by setting key (without the realm prefix).
    settings: BTreeMap<String, RawEntry>,
    /// Secure settings, by setting key.
    secrets: BTreeMap<String, (Secret, Option<Position>, ConfigSource)>,
}

fn load(
    realms_yaml: &str,
    secrets: &SecureSettings,
    base_dir: &Path,
    mut errors: Vec<SettingsError>,
) -> Result<Settings, SettingsErrors> {
    let mut warnings = Vec::new();
    let entries = flatten_yaml(realms_yaml, ConfigSource::RealmFile, &mut errors);

    let mut names: Vec<String> = Vec::new();
    let mut realms: HashMap<String, RawRealm> = HashMap::new();
    // Other realm types: (type.name) -> (order, enabled, position of order).
    let mut others: BTreeMap<String, (Option<i64>, bool)> = BTreeMap::new();

    for entry in entries {
        let Some(rest) = entry.key.strip_prefix(REALMS_PREFIX) else { continue };
        let Some((kind, rest)) = rest.split_once('.') else {
            if rest == "jwt" {
                errors.push(SettingsError::new(ErrorKind::NotAMap, entry.key, ConfigSource::RealmFile, entry.position));
            }
            continue;
        };
        let Some((name, setting)) = rest.split_once('.') else {
            if kind == "jwt" {
                errors.push(SettingsError::new(ErrorKind::NotAMap, entry.key, ConfigSource::RealmFile, entry.position));
            }
            continue;
        };
        if kind != "jwt" {
            let other = others.entry(format!("{kind}.{name}")).or_insert((None, true));
            match (setting, &entry.value) {
                ("order", RawValue::Scalar(s)) => other.0 = s.parse::<i32>().ok().map(i64::from),
                ("enabled", RawValue::Scalar(s)) => other.1 = s != "false",
                _ => {}
            }
            continue;
        }
        let realm = realms.entry(name.to_owned()).or_insert_with(|| {
            names.push(name.to_owned());
            RawRealm::default()
        });
        let (setting, value, position) = (setting.to_owned(), entry.value, entry.position);
        if SECURE_SETTINGS.contains(&setting.as_str()) {
            match value {
                RawValue::Scalar(s) => {
                    warnings.push(format!(
                        "secure setting `{}` is read from the realm file; it belongs in the secrets file \
                         (elasticsearch.keystore)",
                        entry.key
                    ));
                    realm.secrets.insert(setting, (Secret::new(s), position, ConfigSource::RealmFile));
                }
                _ => errors.push(SettingsError::new(
                    ErrorKind::SecretNotString,
                    entry.key,
                    ConfigSource::RealmFile,
                    position,
                )),
            }
        } else {
            realm.settings.insert(setting, RawEntry { value, position, origin: ConfigSource::RealmFile });
        }
    }

    // Secure settings from the secrets file or the caller.
    for (key, (secret, position, origin)) in &secrets.entries {
        let Some(rest) = key.strip_prefix(JWT_PREFIX) else { continue };
        let Some((name, setting)) = rest.split_once('.') else {
            errors.push(SettingsError::new(ErrorKind::NotSecureSetting, key.clone(), *origin, *position));
            continue;
        };
        if !SECURE_SETTINGS.contains(&setting) {
            errors.push(SettingsError::new(ErrorKind::NotSecureSetting, key.clone(), *origin, *position));
            continue;
        }
        let Some(realm) = realms.get_mut(name).filter(|r| !r.settings.is_empty()) else {
            errors.push(SettingsError::new(
                ErrorKind::SecretsWithoutRealm { realm: name.to_owned() },
                key.clone(),
                *origin,
                *position,
            ));
            continue;
        };
        if realm.secrets.contains_key(setting) {
            errors.push(SettingsError::new(ErrorKind::SecretInBothFiles, key.clone(), *origin, *position));
            continue;
        }
        realm.secrets.insert(setting.to_owned(), (secret.clone(), *position, *origin));
    }

    let mut built = Vec::new();
    let mut orders: Vec<(i64, String, Option<Position>)> = Vec::new();
    for name in names {
        let Some(raw) = realms.remove(&name) else { continue };
        if !valid_realm_name(&name) {
            let position = raw.settings.values().find_map(|e| e.position);
            errors.push(SettingsError::new(
                ErrorKind::InvalidRealmName { name: name.clone() },
                format!("{JWT_PREFIX}{name}"),
                ConfigSource::RealmFile,
                position,
            ));
            continue;
        }
        if name.starts_with('_') {
            warnings.push(format!(
                "realm name `{name}` starts with the reserved prefix `_`; a future Elasticsearch release will refuse it"
            ));
        }
        // Orders are compared even for realms with other problems, to report everything at once.
        let scalar = |k: &str| match raw.settings.get(k) {
            Some(RawEntry { value: RawValue::Scalar(s), position, .. }) => Some((s.clone(), *position)),
            _ => None,
        };
        let enabled = scalar("enabled").is_none_or(|(s, _)| s != "false");
        if let Some((order, position)) = scalar("order")
            && let Ok(order) = order.parse::<i32>()
            && enabled
        {
            orders.push((i64::from(order), name.clone(), position));
        }
        if let Some(realm) = build_realm(&name, raw, base_dir, true, &mut warnings, &mut errors) {
            built.push(realm);
        }
    }

    // `order` is unique among enabled realms of every type (`Realms.checkUniqueOrders`).
    let mut by_order: BTreeMap<i64, Vec<(String, Option<Position>)>> = BTreeMap::new();
    for (order, name, position) in orders {
        by_order.entry(order).or_default().push((format!("jwt.{name}"), position));
    }
    for (id, (order, enabled)) in &others {
        if let (Some(order), true) = (order, enabled) {
            by_order.entry(*order).or_default().push((id.clone(), None));
        }
    }
    for (order, realms) in by_order {
        if realms.len() > 1 {
            let (key, position) = realms
                .iter()
                .rev()
                .find_map(|(id, p)| id.strip_prefix("jwt.").map(|n| (full_key(n, "order"), *p)))
                .unwrap_or_default();
            let names = realms.into_iter().map(|(id, _)| id).collect();
            errors.push(SettingsError::new(
                ErrorKind::DuplicateOrder { order, realms: names },
                key,
                ConfigSource::RealmFile,
                position,
            ));
        }
    }

    if !errors.is_empty() {
        return Err(SettingsErrors(errors));
    }
    let mut realms = built;
    realms.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.name.cmp(&b.name)));
    Ok(Settings { realms, warnings })
}

// ---------------------------------------------------------------------------------------------
// One realm
// ---------------------------------------------------------------------------------------------

/// A list setting's value: what was written, or "use the default" (a string that splits into
/// nothing, as Elasticsearch's `Settings.getAsList`).
enum ListValue {
    Explicit(Vec<String>),
    Default,
}

struct Ctx<'a> {
    name: &'a str,
    errors: &'a mut Vec<SettingsError>,
    failed: bool,
}

impl Ctx<'_> {
    fn key(&self, setting: &str) -> String {
        full_key(self.name, setting)
    }

    fn error(&mut self, setting: &str, entry: Option<&RawEntry>, kind: ErrorKind) {
        self.failed = true;
        let (origin, position) = match entry {
            Some(e) => (e.origin, e.position),
            None => (ConfigSource::RealmFile, None),
        };
        let key = self.key(setting);
        self.errors.push(SettingsError::new(kind, key, origin, position));
    }

    fn string(&mut self, setting: &str, entry: &RawEntry) -> Option<String> {
        match &entry.value {
            RawValue::Scalar(s) => Some(s.clone()),
            RawValue::List(_) => {
                self.error(setting, Some(entry), ErrorKind::ExpectedSingleValue);
                None
            }
            RawValue::Null => {
                self.error(setting, Some(entry), ErrorKind::NullValue);
                None
            }
        }
    }

    fn list(&mut self, setting: &str, entry: &RawEntry) -> Option<ListValue> {
        match &entry.value {
            RawValue::Scalar(s) => {
                let items = split_comma(s);
                Some(if items.is_empty() { ListValue::Default } else { ListValue::Explicit(items) })
            }
            RawValue::List(items) => Some(ListValue::Explicit(items.clone())),
            RawValue::Null => {
                self.error(setting, Some(entry), ErrorKind::NullValue);
                None
            }
        }
    }

    /// A list whose elements may not be empty ("Invalid empty value").
    fn non_empty_elements(&mut self, setting: &str, entry: &RawEntry) -> Option<Vec<String>> {
        let items = match self.list(setting, entry)? {
            ListValue::Explicit(items) => items,
            ListValue::Default => Vec::new(),
        };
        if items.iter().any(String::is_empty) {
            self.error(setting, Some(entry), ErrorKind::EmptyValue);
            return None;
        }
        Some(items)
    }

    fn bool(&mut self, setting: &str, entry: &RawEntry) -> Option<bool> {
        let s = self.string(setting, entry)?;
        match s.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                self.error(setting, Some(entry), ErrorKind::InvalidBool { value: s });
                None
            }
        }
    }

    fn int(&mut self, setting: &str, entry: &RawEntry, min: i64, max: i64) -> Option<i64> {
        let s = self.string(setting, entry)?;
        let Ok(value) = s.parse::<i32>() else {
            self.error(setting, Some(entry), ErrorKind::InvalidInt { value: s });
            return None;
        };
        let value = i64::from(value);
        if value < min || value > max {
            self.error(setting, Some(entry), ErrorKind::IntOutOfRange { value, min, max });
            return None;
        }
        Some(value)
    }

    fn time(&mut self, setting: &str, entry: &RawEntry) -> Option<Duration> {
        let s = self.string(setting, entry)?;
        match parse_time(&s) {
            Ok(d) => Some(d),
            Err(problem) => {
                self.error(setting, Some(entry), ErrorKind::InvalidTime { value: s, problem });
                None
            }
        }
    }
}

/// Java's `String.split(",")` (trailing empty strings dropped) then `String.trim` on each part.
fn split_comma(s: &str) -> Vec<String> {
    let mut parts: Vec<&str> = s.split(',').collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts.into_iter().map(|p| p.trim_matches(|c: char| c <= ' ').to_owned()).collect()
}

/// Java's `String.trim`.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// Elasticsearch's `TimeValue.parseTimeValue`, with `-1` read as zero.
pub fn parse_time(value: &str) -> Result<Duration, TimeProblem> {
    let normalized = java_trim(value).to_lowercase();
    // (suffix, nanoseconds per unit); `m` is matched case-sensitively on the raw value
    // (`M` would be months), the others on the lower-cased one.
    const UNITS: [(&str, u128); 7] = [
        ("nanos", 1),
        ("micros", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
        ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
        ("d", 86_400_000_000_000),
    ];
    for (suffix, nanos) in UNITS {
        let matches = if suffix == "m" { value.ends_with('m') } else { normalized.ends_with(suffix) };
        if !matches {
            continue;
        }
        let number = java_trim(&normalized[..normalized.len() - suffix.len()]);
        let n: i64 = match number.parse() {
            Ok(n) => n,
            Err(_) if number.parse::<f64>().is_ok() => return Err(TimeProblem::Fractional),
            Err(_) => return Err(TimeProblem::NotANumber),
        };
        if n < -1 {
            return Err(TimeProblem::Negative);
        }
        if n <= 0 {
            return Ok(Duration::ZERO);
        }
        let total = u128::from(n.unsigned_abs()) * nanos;
        let secs = u64::try_from(total / 1_000_000_000).unwrap_or(u64::MAX);
        let sub = u32::try_from(total % 1_000_000_000).unwrap_or(0);
        return Ok(Duration::new(secs, sub));
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b == b'0');
    if let Some(rest) = normalized.strip_prefix('-')
        && let Some(zeros) = rest.strip_suffix('1')
        && (zeros.is_empty() || digits(zeros))
    {
        return Ok(Duration::ZERO);
    }
    if digits(&normalized) {
        return Ok(Duration::ZERO);
    }
    Err(TimeProblem::UnitMissing)
}

/// `JwtUtil.parseHttpsUri` and the file case: `https…` must be a URI with a host, other `http…`
/// values are refused, anything else is a file path.
fn jwk_set_location(value: &str, base_dir: &Path) -> Result<Option<JwkSetLocation>, ErrorKind> {
    if value.chars().all(char::is_whitespace) {
        return Ok(None);
    }
    if value.starts_with("https") {
        const INVALID: &[char] = &[' ', '"', '<', '>', '\\', '^', '`', '{', '|', '}'];
        if value.chars().any(|c| c.is_control() || INVALID.contains(&c)) {
            return Err(ErrorKind::InvalidUri { value: value.to_owned() });
        }
        let Some(rest) = value.strip_prefix("https://") else {
            // `https:/x`, `https_file` … parse as URIs without an authority.
            return Err(ErrorKind::HttpsHostMissing { value: value.to_owned() });
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if host_port.starts_with('[') {
            host_port.split_once(']').map_or("", |(h, _)| h.trim_start_matches('['))
        } else {
            host_port.split(':').next().unwrap_or("")
        };
        if host.is_empty() {
            return Err(ErrorKind::HttpsHostMissing { value: value.to_owned() });
        }
        return Ok(Some(JwkSetLocation::Url(value.to_owned())));
    }
    if value.starts_with("http") {
        return Err(ErrorKind::HttpUriNotAllowed { value: value.to_owned() });
    }
    Ok(Some(JwkSetLocation::File(base_dir.join(value))))
}

/// Checks and types one realm's settings. Every problem goes to `errors`; `None` if there was one.
fn build_realm(
    name: &str,
    mut raw: RawRealm,
    base_dir: &Path,
    require_order: bool,
    warnings: &mut Vec<String>,
    errors: &mut Vec<SettingsError>,
) -> Option<RealmSettings> {
    let mut cx = Ctx { name, errors, failed: false };
    let mut take = |k: &str| raw.settings.remove(k);

    let order_entry = take("order");
    let enabled_entry = take("enabled");
    let token_type_entry = take("token_type");
    let issuer_entry = take("allowed_issuer");
    let audiences_entry = take("allowed_audiences");
    let subjects_entry = take("allowed_subjects");
    let patterns_entry = take("allowed_subject_patterns");
    let fallback_sub_entry = take("fallback_claims.sub");
    let fallback_aud_entry = take("fallback_claims.aud");
    let algorithms_entry = take("allowed_signature_algorithms");
    let skew_entry = take("allowed_clock_skew");
    let pkc_entry = take("pkc_jwkset_path");
    let populate_entry = take("populate_user_metadata");
    let client_type_entry = take("client_authentication.type");
    let grace_entry = take("client_authentication.rotation_grace_period");
    let cache_ttl_entry = take("jwt.cache.ttl");
    let cache_size_entry = take("jwt.cache.size");
    let authz_entry = take("authorization_realms");
    let reload_enabled_entry = take("pkc_jwkset_reload.enabled");
    let reload_file_entry = take("pkc_jwkset_reload.file_interval");
    let reload_min_entry = take("pkc_jwkset_reload.url_interval_min");
    let reload_max_entry = take("pkc_jwkset_reload.url_interval_max");
    let http_connect_entry = take("http.connect_timeout");
    let http_read_entry = take("http.connection_read_timeout");
    let http_socket_entry = take("http.socket_timeout");
    let http_max_entry = take("http.max_connections");
    let http_max_endpoint_entry = take("http.max_endpoint_connections");
    let proxy_host_entry = take("http.proxy.host");
    let proxy_scheme_entry = take("http.proxy.scheme");
    let proxy_port_entry = take("http.proxy.port");
    let ssl_ca_entry = take("ssl.certificate_authorities");
    const CLAIMS: [&str; 5] = ["principal", "groups", "dn", "mail", "name"];
    let claim_entries: Vec<Option<RawEntry>> = CLAIMS.iter().map(|c| take(&format!("claims.{c}"))).collect();
    let pattern_entries: Vec<Option<RawEntry>> = CLAIMS.iter().map(|c| take(&format!("claim_patterns.{c}"))).collect();
    let required_keys: Vec<String> =
        raw.settings.keys().filter(|k| k.starts_with("required_claims.")).cloned().collect();
    let required_entries: Vec<(String, RawEntry)> =
        required_keys.into_iter().filter_map(|k| raw.settings.remove(&k).map(|e| (k, e))).collect();

    // The other TLS client settings Elasticsearch accepts for the JWK set URL:
    // accepted, so that real configurations load, and reported as unused.
    let truststore_entry = raw.settings.remove("ssl.truststore.path");
    for setting in SSL_SETTINGS_NOT_READ {
        if raw.settings.remove(setting).is_some() {
            warnings.push(format!(
                "`{}` is accepted but not used: only `ssl.certificate_authorities` is read",
                cx.key(setting)
            ));
        }
    }

    // Whatever is left is not a JWT realm setting.
    for (setting, entry) in &raw.settings {
        cx.error(setting, Some(entry), ErrorKind::UnknownSetting);
    }

    // --- Standard realm settings.
    let enabled = enabled_entry.as_ref().and_then(|e| cx.bool("enabled", e)).unwrap_or(true);
    let order = match &order_entry {
        Some(e) => cx.int("order", e, i64::from(i32::MIN), i64::from(i32::MAX)),
        None => {
            if require_order && enabled {
                cx.error("order", None, ErrorKind::MissingOrder);
            }
            None
        }
    }
    .unwrap_or(i64::from(i32::MAX));

    // --- Token type.
    let token_type = match &token_type_entry {
        Some(e) => cx.string("token_type", e).and_then(|s| {
            let parsed = TokenType::parse(&s);
            if parsed.is_none() {
                cx.error("token_type", Some(e), ErrorKind::InvalidTokenType { value: s });
            }
            parsed
        }),
        None => Some(TokenType::IdToken),
    };

    // --- Issuer and audiences (validated on read, default included).
    let allowed_issuer = match &issuer_entry {
        Some(e) => cx.string("allowed_issuer", e).unwrap_or_default(),
        None => String::new(),
    };
    if allowed_issuer.is_empty() && (issuer_entry.is_some() || enabled) && !cx.failed_on("allowed_issuer") {
        cx.error("allowed_issuer", issuer_entry.as_ref(), ErrorKind::EmptyValue);
    }
    let allowed_audiences = match &audiences_entry {
        Some(e) => cx.non_empty_elements("allowed_audiences", e),
        None => Some(Vec::new()),
    };
    if let Some(a) = &allowed_audiences
        && a.is_empty()
        && (audiences_entry.is_some() || enabled)
    {
        cx.error("allowed_audiences", audiences_entry.as_ref(), ErrorKind::EmptyList);
    }

    // --- Subjects.
    let allowed_subjects = match &subjects_entry {
        Some(e) => cx.non_empty_elements("allowed_subjects", e),
        None => Some(Vec::new()),
    };
    let allowed_subject_patterns = match &patterns_entry {
        Some(e) => cx.non_empty_elements("allowed_subject_patterns", e),
        None => Some(Vec::new()),
    };
    if let Some(patterns) = &allowed_subject_patterns {
        for p in patterns {
            if let Err(message) = check_subject_pattern(p) {
                let entry = patterns_entry.as_ref();
                cx.error(
                    "allowed_subject_patterns",
                    entry,
                    ErrorKind::InvalidSubjectPattern { value: p.clone(), message },
                );
            }
        }
    }
    if let (Some(subjects), Some(patterns), Some(token_type)) =
        (&allowed_subjects, &allowed_subject_patterns, token_type)
    {
        let present = subjects_entry.is_some() || patterns_entry.is_some();
        let applies = match token_type {
            TokenType::AccessToken => present || enabled,
            TokenType::IdToken => present,
        };
        if applies && subjects.is_empty() && patterns.is_empty() {
            let kind = ErrorKind::SubjectsRequired {
                subjects: cx.key("allowed_subjects"),
                patterns: cx.key("allowed_subject_patterns"),
            };
            let (setting, entry) = match (&subjects_entry, &patterns_entry) {
                (None, Some(p)) => ("allowed_subject_patterns", Some(p)),
                (s, _) => ("allowed_subjects", s.as_ref()),
            };
            cx.error(setting, entry, kind);
        }
    }

    // --- Fallback claims (access tokens only; validated only when present).
    let mut fallback_claims = FallbackClaims::default();
    for (claim, entry, slot) in
        [("sub", &fallback_sub_entry, &mut fallback_claims.sub), ("aud", &fallback_aud_entry, &mut fallback_claims.aud)]
    {
        let Some(entry) = entry else { continue };
        let setting = format!("fallback_claims.{claim}");
        let Some(value) = cx.string(&setting, entry) else { continue };
        match token_type {
            Some(TokenType::IdToken) => {
                let kind = ErrorKind::FallbackNotAllowedForIdToken { realm: name.to_owned() };
                cx.error(&setting, Some(entry), kind);
            }
            Some(TokenType::AccessToken) => {
                if value.is_empty() {
                    cx.error(&setting, Some(entry), ErrorKind::EmptyValue);
                } else if value != claim && REGISTERED_CLAIM_NAMES.contains(&value.as_str()) {
                    let kind = ErrorKind::FallbackToRegisteredClaim { claim: claim.to_owned(), fallback: value };
                    cx.error(&setting, Some(entry), kind);
                } else if value != claim {
                    *slot = Some(value);
                }
            }
            None => {}
        }
    }

    // --- Required claims.
    let mut required_claims = Vec::new();
    for (setting, entry) in &required_entries {
        let claim = &setting["required_claims.".len()..];
        // A dotted name is a nested group in Elasticsearch: its first part has no value.
        let (claim, nested) = match claim.split_once('.') {
            Some((first, _)) => (first, true),
            None => (claim, false),
        };
        let setting = format!("required_claims.{claim}");
        if REQUIRED_CLAIMS_FORBIDDEN.contains(&claim) {
            cx.error(&setting, Some(entry), ErrorKind::RequiredClaimForbidden);
            continue;
        }
        let values = if nested {
            Vec::new()
        } else {
            match cx.list(&setting, entry) {
                Some(ListValue::Explicit(values)) => values,
                Some(ListValue::Default) => Vec::new(),
                None => continue,
            }
        };
        if values.is_empty() {
            cx.error(&setting, Some(entry), ErrorKind::RequiredClaimEmpty);
            continue;
        }
        required_claims.push((claim.to_owned(), values));
    }

    // --- Algorithms.
    let allowed_signature_algorithms = match &algorithms_entry {
        None => Some(vec![Algorithm::RS256]),
        Some(e) => match cx.list("allowed_signature_algorithms", e) {
            None => None,
            Some(ListValue::Default) => Some(vec![Algorithm::RS256]),
            Some(ListValue::Explicit(items)) if items.is_empty() => {
                cx.error("allowed_signature_algorithms", Some(e), ErrorKind::EmptyList);
                None
            }
            Some(ListValue::Explicit(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if item.is_empty() {
                        cx.error("allowed_signature_algorithms", Some(e), ErrorKind::EmptyValue);
                    } else {
                        match item.parse::<Algorithm>() {
                            Ok(a) => out.push(a),
                            Err(_) => {
                                let value = item.clone();
                                cx.error(
                                    "allowed_signature_algorithms",
                                    Some(e),
                                    ErrorKind::InvalidAlgorithm { value },
                                );
                            }
                        }
                    }
                }
                Some(out)
            }
        },
    };

    let time = |cx: &mut Ctx<'_>, setting: &str, entry: &Option<RawEntry>, default: Duration| match entry {
        Some(e) => cx.time(setting, e).unwrap_or(default),
        None => default,
    };
    let allowed_clock_skew = time(&mut cx, "allowed_clock_skew", &skew_entry, Duration::from_secs(60));

    // --- Key sources.
    let pkc_jwkset_path = match &pkc_entry {
        Some(e) => cx.string("pkc_jwkset_path", e).and_then(|v| match jwk_set_location(&v, base_dir) {
            Ok(location) => location,
            Err(kind) => {
                cx.error("pkc_jwkset_path", Some(e), kind);
                None
            }
        }),
        None => None,
    };
    if let Some(entry) = &truststore_entry {
        if matches!(pkc_jwkset_path, Some(JwkSetLocation::Url(_))) {
            let ca_key = cx.key("ssl.certificate_authorities");
            cx.error("ssl.truststore.path", Some(entry), ErrorKind::TrustStoreNotSupported { ca_key });
        } else {
            warnings.push(format!(
                "`{}` is accepted but not used: only `ssl.certificate_authorities` is read",
                cx.key("ssl.truststore.path")
            ));
        }
    }
    let mut secret = |key: &str| raw.secrets.remove(key);
    let hmac_key_raw = secret("hmac_key");
    let hmac_jwkset_raw = secret("hmac_jwkset");
    let shared_secret_raw = secret("client_authentication.shared_secret");
    fn present(
        s: &Option<(Secret, Option<Position>, ConfigSource)>,
    ) -> Option<&(Secret, Option<Position>, ConfigSource)> {
        s.as_ref().filter(|(v, _, _)| v.has_text())
    }
    let secret_entry =
        |s: &(Secret, Option<Position>, ConfigSource)| RawEntry { value: RawValue::Null, position: s.1, origin: s.2 };
    if enabled {
        let has_pkc =
            pkc_entry.as_ref().is_some_and(|e| matches!(&e.value, RawValue::Scalar(s) if !s.trim().is_empty()));
        match (present(&hmac_key_raw), present(&hmac_jwkset_raw)) {
            (None, None) if !has_pkc => {
                let kind = ErrorKind::NoKeySource {
                    hmac_key: cx.key("hmac_key"),
                    hmac_jwkset: cx.key("hmac_jwkset"),
                    pkc_jwkset_path: cx.key("pkc_jwkset_path"),
                };
                cx.error("hmac_key", None, kind);
            }
            (Some(_), Some(set)) => {
                let kind =
                    ErrorKind::HmacKeyAndJwkSet { hmac_jwkset: cx.key("hmac_jwkset"), hmac_key: cx.key("hmac_key") };
                cx.error("hmac_jwkset", Some(&secret_entry(set)), kind);
            }
            _ => {}
        }
    }

    // --- Claims.
    let mut claim_values: Vec<Option<String>> = Vec::with_capacity(CLAIMS.len());
    for (claim, entry) in CLAIMS.iter().zip(&claim_entries) {
        let setting = format!("claims.{claim}");
        let value = entry.as_ref().and_then(|e| {
            let v = cx.string(&setting, e)?;
            if v.is_empty() {
                cx.error(&setting, Some(e), ErrorKind::EmptyClaimName);
                None
            } else {
                Some(v)
            }
        });
        claim_values.push(value);
    }
    if enabled && claim_entries[0].is_none() {
        cx.error("claims.principal", None, ErrorKind::Required);
    }
    let mut pattern_values: Vec<Option<String>> = Vec::with_capacity(CLAIMS.len());
    for ((claim, entry), claim_entry) in CLAIMS.iter().zip(&pattern_entries).zip(&claim_entries) {
        let setting = format!("claim_patterns.{claim}");
        let value = entry.as_ref().and_then(|e| {
            let v = cx.string(&setting, e)?;
            // Compiled as the realm compiles it: with Java's meanings.
            if !v.is_empty()
                && let Err(err) = super::java_regex::compile(&v)
            {
                let message = err.lines().last().unwrap_or("invalid pattern").trim().to_owned();
                cx.error(&setting, Some(e), ErrorKind::InvalidClaimPattern { message });
                return None;
            }
            if enabled && claim_entry.is_none() {
                let kind = ErrorKind::ClaimPatternWithoutClaim { claim_key: cx.key(&format!("claims.{claim}")) };
                cx.error(&setting, Some(e), kind);
            }
            Some(v)
        });
        pattern_values.push(value);
    }

    let populate_user_metadata =
        populate_entry.as_ref().and_then(|e| cx.bool("populate_user_metadata", e)).unwrap_or(true);

    // --- Client authentication.
    let client_type = match &client_type_entry {
        Some(e) => cx.string("client_authentication.type", e).and_then(|s| {
            let parsed = ClientAuthType::parse(&s);
            if parsed.is_none() {
                cx.error("client_authentication.type", Some(e), ErrorKind::InvalidClientAuthType { value: s });
            }
            parsed
        }),
        None => Some(ClientAuthType::SharedSecret),
    };
    let rotation_grace_period =
        time(&mut cx, "client_authentication.rotation_grace_period", &grace_entry, Duration::from_secs(60));
    let shared_secret = present(&shared_secret_raw).map(|(s, _, _)| s.clone());
    if enabled {
        let type_key = cx.key("client_authentication.type");
        match (client_type, &shared_secret) {
            (Some(ClientAuthType::SharedSecret), None) => {
                let entry = shared_secret_raw.as_ref().map(secret_entry);
                cx.error(
                    "client_authentication.shared_secret",
                    entry.as_ref(),
                    ErrorKind::SharedSecretMissing { type_key },
                );
            }
            (Some(ClientAuthType::None), Some(_)) => {
                let entry = shared_secret_raw.as_ref().map(secret_entry);
                let kind = ErrorKind::SharedSecretNotAllowed { type_key };
                cx.error("client_authentication.shared_secret", entry.as_ref(), kind);
            }
            (Some(ClientAuthType::None), None) => warnings.push(format!(
                "`{type_key}` is [none] for realm `{name}`: unauthorized clients may be able to submit jwts from the \
                 same issuer"
            )),
            _ => {}
        }
    }

    // --- Cache, delegated authorization, reload, http, ssl.
    let defaults = CacheSettings::default();
    let cache = CacheSettings {
        ttl: time(&mut cx, "jwt.cache.ttl", &cache_ttl_entry, defaults.ttl),
        size: cache_size_entry
            .as_ref()
            .and_then(|e| cx.int("jwt.cache.size", e, 0, i64::from(i32::MAX)))
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(defaults.size),
    };
    let authorization_realms = match &authz_entry {
        Some(e) => match cx.list("authorization_realms", e) {
            Some(ListValue::Explicit(items)) => items,
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    let defaults = JwkSetReload::default();
    let pkc_jwkset_reload = JwkSetReload {
        enabled: reload_enabled_entry
            .as_ref()
            .and_then(|e| cx.bool("pkc_jwkset_reload.enabled", e))
            .unwrap_or(defaults.enabled),
        file_interval: time(&mut cx, "pkc_jwkset_reload.file_interval", &reload_file_entry, defaults.file_interval),
        url_interval_min: time(
            &mut cx,
            "pkc_jwkset_reload.url_interval_min",
            &reload_min_entry,
            defaults.url_interval_min,
        ),
        url_interval_max: time(
            &mut cx,
            "pkc_jwkset_reload.url_interval_max",
            &reload_max_entry,
            defaults.url_interval_max,
        ),
    };
    if enabled && pkc_jwkset_reload.url_interval_max < pkc_jwkset_reload.url_interval_min {
        let kind = ErrorKind::ReloadIntervals {
            min: pkc_jwkset_reload.url_interval_min,
            max: pkc_jwkset_reload.url_interval_max,
        };
        let entry = reload_max_entry.as_ref().or(reload_min_entry.as_ref());
        cx.error("pkc_jwkset_reload.url_interval_max", entry, kind);
    }
    let defaults = HttpSettings::default();
    let count = |cx: &mut Ctx<'_>, setting: &str, entry: &Option<RawEntry>, default: u32| {
        entry
            .as_ref()
            .and_then(|e| cx.int(setting, e, 0, i64::from(i32::MAX)))
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(default)
    };
    let http = HttpSettings {
        connect_timeout: time(&mut cx, "http.connect_timeout", &http_connect_entry, defaults.connect_timeout),
        connection_read_timeout: time(
            &mut cx,
            "http.connection_read_timeout",
            &http_read_entry,
            defaults.connection_read_timeout,
        ),
        socket_timeout: time(&mut cx, "http.socket_timeout", &http_socket_entry, defaults.socket_timeout),
        max_connections: count(&mut cx, "http.max_connections", &http_max_entry, defaults.max_connections),
        max_endpoint_connections: count(
            &mut cx,
            "http.max_endpoint_connections",
            &http_max_endpoint_entry,
            defaults.max_endpoint_connections,
        ),
        proxy_host: proxy_host_entry.as_ref().and_then(|e| cx.string("http.proxy.host", e)).filter(|h| !h.is_empty()),
        proxy_scheme: match &proxy_scheme_entry {
            Some(e) => match cx.string("http.proxy.scheme", e) {
                Some(s) if s == "http" => s,
                Some(s) => {
                    cx.error("http.proxy.scheme", Some(e), ErrorKind::InvalidProxyScheme { value: s });
                    defaults.proxy_scheme.clone()
                }
                None => defaults.proxy_scheme.clone(),
            },
            None => defaults.proxy_scheme.clone(),
        },
        proxy_port: proxy_port_entry
            .as_ref()
            .and_then(|e| cx.int("http.proxy.port", e, 1, 65535))
            .and_then(|v| u16::try_from(v).ok())
            .unwrap_or(defaults.proxy_port),
    };
    let ssl_certificate_authorities = match &ssl_ca_entry {
        Some(e) => cx
            .non_empty_elements("ssl.certificate_authorities", e)
            .unwrap_or_default()
            .into_iter()
            .map(|p| base_dir.join(p))
            .collect(),
        None => Vec::new(),
    };

    if cx.failed {
        return None;
    }
    let mut claim_values = claim_values.into_iter();
    let mut pattern_values = pattern_values.into_iter();
    let mut next_claim = || claim_values.next().flatten();
    let mut next_pattern = || pattern_values.next().flatten();
    Some(RealmSettings {
        name: name.to_owned(),
        order,
        enabled,
        token_type: token_type.unwrap_or_default(),
        allowed_issuer,
        allowed_audiences: allowed_audiences.unwrap_or_default(),
        allowed_subjects: allowed_subjects.unwrap_or_default(),
        allowed_subject_patterns: allowed_subject_patterns.unwrap_or_default(),
        fallback_claims,
        required_claims,
        allowed_signature_algorithms: allowed_signature_algorithms.unwrap_or_default(),
        allowed_clock_skew,
        pkc_jwkset_path,
        hmac_key: present(&hmac_key_raw).map(|(s, _, _)| s.clone()),
        hmac_jwkset: present(&hmac_jwkset_raw).map(|(s, _, _)| s.clone()),
        claims: Claims {
            principal: next_claim().unwrap_or_default(),
            groups: next_claim(),
            dn: next_claim(),
            mail: next_claim(),
            name: next_claim(),
        },
        claim_patterns: ClaimPatterns {
            principal: next_pattern(),
            groups: next_pattern(),
            dn: next_pattern(),
            mail: next_pattern(),
            name: next_pattern(),
        },
        populate_user_metadata,
        client_authentication: ClientAuthentication {
            kind: client_type.unwrap_or_default(),
            shared_secret,
            rotation_grace_period,
        },
        cache,
        authorization_realms,
        pkc_jwkset_reload,
        http,
        ssl_certificate_authorities,
    })
}

impl Ctx<'_> {
    /// Whether an error was already reported for `setting` (to avoid reporting a bad value and
    /// then "empty" for the same key).
    fn failed_on(&self, setting: &str) -> bool {
        let key = self.key(setting);
        self.errors.iter().any(|e| e.key == key)
    }
}

/// `Automatons.buildAutomaton`'s acceptance: a `/…/` regex must be closed and compile; other
/// strings are wildcards.
fn check_subject_pattern(p: &str) -> Result<(), String> {
    crate::pattern::Pattern::automaton(p).map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Recognizes an error kind.
    type Check = fn(&ErrorKind) -> bool;

    const P: &str = "xpack.security.authc.realms.jwt";
    const HMAC: &str = "hmac-oidc-key-string-for-hs256-algorithm";
    const SHARED: &str = "client-shared-secret-string";

    fn base() -> &'static Path {
        Path::new("/etc/es")
    }

    /// A valid realm `r1` in flat keys, plus `extra` lines (flat, relative to the realm).
    fn realm(extra: &[&str]) -> String {
        let mut lines = vec![
            "order: 2",
            "allowed_issuer: iss",
            "allowed_audiences: [aud]",
            "allowed_signature_algorithms: [HS256]",
            "claims.principal: sub",
            "client_authentication.type: none",
        ];
        let extra_keys: Vec<&str> = extra.iter().filter_map(|l| l.split(':').next()).collect();
        lines.retain(|l| !extra_keys.iter().any(|k| l.split(':').next() == Some(k)));
        lines.extend_from_slice(extra);
        lines.iter().map(|l| format!("{P}.r1.{l}\n")).collect()
    }

    fn secrets(lines: &[&str]) -> String {
        lines.iter().map(|l| format!("{P}.r1.{l}\n")).collect()
    }

    fn ok(yaml: &str, secrets_yaml: Option<&str>) -> Settings {
        match parse_yaml(yaml, secrets_yaml, base()) {
            Ok(s) => s,
            Err(e) => panic!("unexpected errors:\n{e}"),
        }
    }

    fn errors(yaml: &str, secrets_yaml: Option<&str>) -> Vec<SettingsError> {
        match parse_yaml(yaml, secrets_yaml, base()) {
            Ok(s) => panic!("expected errors, got {s:?}"),
            Err(e) => e.0,
        }
    }

    fn hmac_secret() -> String {
        secrets(&[&format!("hmac_key: {HMAC}")])
    }

    /// Expects exactly one error, on `setting` of realm `r1`.
    fn one_error(extra: &[&str], setting: &str) -> ErrorKind {
        let errs = errors(&realm(extra), Some(&hmac_secret()));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].key(), format!("{P}.r1.{setting}"), "{errs:?}");
        errs[0].kind().clone()
    }

    // --- Conformance vectors -------------------------------------------------------------------

    fn vectors() -> Vec<serde_json::Value> {
        let candidates = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/conformance/jwt-realm.jsonl"),
            "/work/shared/conformance/jwt-realm.jsonl",
        ];
        let text = candidates.iter().find_map(|p| std::fs::read_to_string(p).ok()).expect("jwt-realm.jsonl");
        text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("vector")).collect()
    }

    fn expected_kind(gist: &str) -> Check {
        let table: [(&str, Check); 11] = [
            ("allowed_subjects or allowed_subject_patterns", |k| matches!(k, ErrorKind::SubjectsRequired { .. })),
            ("fallback claim setting not allowed for id_token", |k| {
                matches!(k, ErrorKind::FallbackNotAllowedForIdToken { .. })
            }),
            ("cannot fallback to a registered claim", |k| matches!(k, ErrorKind::FallbackToRegisteredClaim { .. })),
            ("required claim cannot be one of", |k| matches!(k, ErrorKind::RequiredClaimForbidden)),
            ("not allowed at the same time", |k| matches!(k, ErrorKind::HmacKeyAndJwkSet { .. })),
            ("claims.principal is required", |k| matches!(k, ErrorKind::Required)),
            ("shared_secret missing", |k| matches!(k, ErrorKind::SharedSecretMissing { .. })),
            ("Invalid patterns for allowed claim values", |k| matches!(k, ErrorKind::InvalidSubjectPattern { .. })),
            ("at least one of hmac_key", |k| matches!(k, ErrorKind::NoKeySource { .. })),
            ("HTTP URI not allowed", |k| matches!(k, ErrorKind::HttpUriNotAllowed { .. })),
            ("invalid token_type", |k| matches!(k, ErrorKind::InvalidTokenType { .. })),
        ];
        table
            .into_iter()
            .find(|(g, _)| gist.contains(g))
            .map(|(_, f)| f)
            .unwrap_or_else(|| panic!("unmapped gist {gist}"))
    }

    #[test]
    fn conformance_vectors_load_or_fail_as_expected() {
        let vectors = vectors();
        assert!(vectors.len() >= 50);
        let mut config_cases = 0;
        for v in &vectors {
            let realm = v["realm"].as_object().expect("realm");
            let name = realm["name"].as_str().expect("name");
            let result = from_flat(name, realm, Path::new("/conf"));
            let reason = v["expect"]["reason"].as_str().unwrap_or("");
            if let Some(gist) = reason.strip_prefix("config: ") {
                config_cases += 1;
                let errs = result.expect_err(gist);
                let check = expected_kind(gist);
                assert!(errs.iter().any(|e| check(e.kind())), "{gist}: {errs}");
            } else {
                let settings = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(settings.name, name);
                if let Some(path) = realm.get("pkc_jwkset_path").and_then(|p| p.as_str()) {
                    assert_eq!(settings.pkc_jwkset_path, Some(JwkSetLocation::File(Path::new("/conf").join(path))));
                }
            }
        }
        assert!(config_cases >= 11);
    }

    #[test]
    fn flat_form_converts_numbers_booleans_and_inline_secrets() {
        let json = serde_json::json!({
            "name": "v", "order": 3, "allowed_issuer": "i", "allowed_audiences": "a, b",
            "claims.principal": "sub", "hmac_key": HMAC, "populate_user_metadata": false,
            "required_claims": {"n": 42, "list": [1, "x"]},
            "client_authentication.shared_secret": SHARED,
        });
        let s = from_flat("v", json.as_object().expect("object"), base()).expect("valid");
        assert_eq!(s.order, 3);
        assert_eq!(s.allowed_audiences, ["a", "b"]);
        assert!(!s.populate_user_metadata);
        assert_eq!(s.hmac_key.as_ref().map(Secret::expose), Some(HMAC));
        assert_eq!(s.client_authentication.shared_secret.as_ref().map(Secret::expose), Some(SHARED));
        let mut required = s.required_claims.clone();
        required.sort();
        assert_eq!(
            required,
            [("list".to_owned(), vec!["1".to_owned(), "x".to_owned()]), ("n".to_owned(), vec!["42".to_owned()])]
        );
        // `order` is optional in the flat form.
        let json = serde_json::json!({"allowed_issuer": "i", "allowed_audiences": ["a"], "claims.principal": "sub",
            "hmac_key": HMAC, "client_authentication.type": "none"});
        let s = from_flat("v", json.as_object().expect("object"), base()).expect("valid");
        assert_eq!(s.order, i64::from(i32::MAX));
    }

    // --- Forms of YAML ------------------------------------------------------------------------

    #[test]
    fn nested_flat_and_mixed_yaml_give_equal_settings() {
        let flat = format!(
            "{P}.jwt1.order: 1\n{P}.jwt1.allowed_issuer: iss\n{P}.jwt1.allowed_audiences: [a, b]\n\
             {P}.jwt1.claims.principal: sub\n{P}.jwt1.claims.groups: roles\n{P}.jwt1.pkc_jwkset_path: keys.json\n\
             {P}.jwt1.client_authentication.type: none\n{P}.jwt1.required_claims.token_use: id\n"
        );
        let nested = "
xpack:
  security:
    authc:
      realms:
        jwt:
          jwt1:
            order: 1
            allowed_issuer: iss
            allowed_audiences:
              - a
              - b
            claims:
              principal: sub
              groups: roles
            pkc_jwkset_path: keys.json
            client_authentication:
              type: none
            required_claims:
              token_use: id
";
        let mixed = "
xpack.security.authc.realms:
  jwt.jwt1.order: 1
  jwt:
    jwt1:
      allowed_issuer: iss
      allowed_audiences: a, b
      claims.principal: sub
      claims: {groups: roles}
      pkc_jwkset_path: keys.json
      client_authentication.type: none
      required_claims: {token_use: id}
other.setting: ignored
xpack.security.authc.token.enabled: true
";
        let a = ok(&flat, None);
        let b = ok(nested, None);
        let c = ok(mixed, None);
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.realms.len(), 1);
        let r = &a.realms[0];
        assert_eq!(r.allowed_audiences, ["a", "b"]);
        assert_eq!(r.claims.groups.as_deref(), Some("roles"));
        assert_eq!(r.required_claims, [("token_use".to_owned(), vec!["id".to_owned()])]);
        assert_eq!(r.pkc_jwkset_path, Some(JwkSetLocation::File(PathBuf::from("/etc/es/keys.json"))));
    }

    #[test]
    fn several_realms_are_sorted_by_order() {
        let yaml = format!(
            "{P}:\n  b: {{order: 5, allowed_issuer: i, allowed_audiences: a, claims.principal: sub, \
             client_authentication.type: none, pkc_jwkset_path: k}}\n  \
             a: {{order: 9, allowed_issuer: i, allowed_audiences: a, claims.principal: sub, \
             client_authentication.type: none, pkc_jwkset_path: k}}\n  \
             c: {{order: -1, allowed_issuer: i, allowed_audiences: a, claims.principal: sub, \
             client_authentication.type: none, pkc_jwkset_path: k}}\n\
             xpack.security.authc.realms.native.native1.order: 0\n"
        );
        let s = ok(&yaml, None);
        let names: Vec<&str> = s.realms.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["c", "b", "a"]);
    }

    #[test]
    fn defaults() {
        let s = ok(&realm(&[]), Some(&hmac_secret()));
        let r = &s.realms[0];
        assert!(r.enabled);
        assert_eq!(r.order, 2);
        assert_eq!(r.token_type, TokenType::IdToken);
        assert!(r.allowed_subjects.is_empty() && r.allowed_subject_patterns.is_empty());
        assert_eq!(r.fallback_claims, FallbackClaims::default());
        assert!(r.required_claims.is_empty());
        assert_eq!(r.allowed_clock_skew, Duration::from_secs(60));
        assert!(r.populate_user_metadata);
        assert_eq!(r.client_authentication.rotation_grace_period, Duration::from_secs(60));
        assert_eq!(r.cache, CacheSettings { ttl: Duration::from_secs(1200), size: 100_000 });
        assert_eq!(r.pkc_jwkset_reload, JwkSetReload::default());
        assert_eq!(r.pkc_jwkset_reload.url_interval_max, Duration::from_secs(5 * 86400));
        assert_eq!(r.http, HttpSettings::default());
        assert_eq!(r.http.max_connections, 200);
        assert!(r.authorization_realms.is_empty() && r.ssl_certificate_authorities.is_empty());
        assert_eq!(r.claim_patterns, ClaimPatterns::default());
        // Algorithms default to RS256, also when written as an empty string.
        let s = ok(&realm(&["allowed_signature_algorithms: ''"]), Some(&hmac_secret()));
        assert_eq!(s.realms[0].allowed_signature_algorithms, [Algorithm::RS256]);
        let yaml = realm(&[]).lines().filter(|l| !l.contains("allowed_signature")).collect::<Vec<_>>().join("\n");
        assert_eq!(ok(&yaml, Some(&hmac_secret())).realms[0].allowed_signature_algorithms, [Algorithm::RS256]);
    }

    #[test]
    fn every_setting_is_read() {
        let yaml = realm(&[
            "enabled: true",
            "token_type: Access_Token",
            "allowed_subjects: a,b",
            "allowed_subject_patterns: ['a*', '/b.+/']",
            "fallback_claims.sub: email",
            "fallback_claims.aud: scope",
            "allowed_signature_algorithms: HS256, ES512",
            "allowed_clock_skew: 500ms",
            "pkc_jwkset_path: https://idp.example.com:8443/jwks.json",
            "claims.groups: roles",
            "claims.dn: dn",
            "claims.mail: mail",
            "claims.name: name",
            "claim_patterns.principal: '^(.*)@example[.]com$'",
            "claim_patterns.groups: '^g-(.*)$'",
            "populate_user_metadata: false",
            "client_authentication.type: NONE",
            "client_authentication.rotation_grace_period: 0",
            "jwt.cache.ttl: -1",
            "jwt.cache.size: 0",
            "authorization_realms: [native1, ldap1]",
            "pkc_jwkset_reload.enabled: true",
            "pkc_jwkset_reload.file_interval: 1h",
            "pkc_jwkset_reload.url_interval_min: 1d",
            "pkc_jwkset_reload.url_interval_max: 2d",
            "http.connect_timeout: 1s",
            "http.connection_read_timeout: 2s",
            "http.socket_timeout: 3s",
            "http.max_connections: 10",
            "http.max_endpoint_connections: 5",
            "http.proxy.host: proxy.local",
            "http.proxy.scheme: http",
            "http.proxy.port: 3128",
            "ssl.certificate_authorities: [ca.pem, /abs/ca2.pem]",
            "required_claims.token_use: access",
            "required_claims.version: [1, '2.0']",
        ]);
        let s = ok(&yaml, Some(&hmac_secret()));
        let r = &s.realms[0];
        assert_eq!(r.token_type, TokenType::AccessToken);
        assert_eq!(r.allowed_subjects, ["a", "b"]);
        assert_eq!(r.allowed_subject_patterns, ["a*", "/b.+/"]);
        assert_eq!(r.fallback_claims.sub.as_deref(), Some("email"));
        assert_eq!(r.fallback_claims.aud.as_deref(), Some("scope"));
        assert_eq!(r.allowed_signature_algorithms, [Algorithm::HS256, Algorithm::ES512]);
        assert_eq!(r.allowed_clock_skew, Duration::from_millis(500));
        assert_eq!(r.pkc_jwkset_path, Some(JwkSetLocation::Url("https://idp.example.com:8443/jwks.json".to_owned())));
        assert_eq!(
            r.claims,
            Claims {
                principal: "sub".into(),
                groups: Some("roles".into()),
                dn: Some("dn".into()),
                mail: Some("mail".into()),
                name: Some("name".into())
            }
        );
        assert_eq!(r.claim_patterns.principal.as_deref(), Some("^(.*)@example[.]com$"));
        assert_eq!(r.claim_patterns.groups.as_deref(), Some("^g-(.*)$"));
        assert!(!r.populate_user_metadata);
        assert_eq!(r.client_authentication.kind, ClientAuthType::None);
        assert_eq!(r.client_authentication.rotation_grace_period, Duration::ZERO);
        assert_eq!(r.cache, CacheSettings { ttl: Duration::ZERO, size: 0 });
        assert_eq!(r.authorization_realms, ["native1", "ldap1"]);
        assert_eq!(
            r.pkc_jwkset_reload,
            JwkSetReload {
                enabled: true,
                file_interval: Duration::from_secs(3600),
                url_interval_min: Duration::from_secs(86400),
                url_interval_max: Duration::from_secs(2 * 86400)
            }
        );
        assert_eq!(r.http.connect_timeout, Duration::from_secs(1));
        assert_eq!(r.http.connection_read_timeout, Duration::from_secs(2));
        assert_eq!(r.http.socket_timeout, Duration::from_secs(3));
        assert_eq!((r.http.max_connections, r.http.max_endpoint_connections), (10, 5));
        assert_eq!(r.http.proxy_host.as_deref(), Some("proxy.local"));
        assert_eq!(r.http.proxy_port, 3128);
        assert_eq!(r.ssl_certificate_authorities, [PathBuf::from("/etc/es/ca.pem"), PathBuf::from("/abs/ca2.pem")]);
        assert_eq!(
            r.required_claims,
            [
                ("token_use".to_owned(), vec!["access".to_owned()]),
                ("version".to_owned(), vec!["1".to_owned(), "2.0".to_owned()])
            ]
        );
        assert_eq!(r.key("order"), format!("{P}.r1.order"));
    }

    // --- Errors ------------------------------------------------------------------------------

    #[test]
    fn each_error_kind_names_its_setting() {
        use ErrorKind as K;
        let cases: Vec<(Vec<&str>, &str, Check)> = vec![
            (vec!["token_type: refresh_token"], "token_type", |k| matches!(k, K::InvalidTokenType { .. })),
            (vec!["allowed_issuer: ''"], "allowed_issuer", |k| matches!(k, K::EmptyValue)),
            (vec!["allowed_audiences: []"], "allowed_audiences", |k| matches!(k, K::EmptyList)),
            (vec!["allowed_audiences: ''"], "allowed_audiences", |k| matches!(k, K::EmptyList)),
            (vec!["allowed_audiences: ['a', '']"], "allowed_audiences", |k| matches!(k, K::EmptyValue)),
            (vec!["allowed_subjects: 'a,,b'"], "allowed_subjects", |k| matches!(k, K::EmptyValue)),
            (vec!["token_type: access_token"], "allowed_subjects", |k| matches!(k, K::SubjectsRequired { .. })),
            (vec!["allowed_subjects: []"], "allowed_subjects", |k| matches!(k, K::SubjectsRequired { .. })),
            (vec!["allowed_subject_patterns: []"], "allowed_subject_patterns", |k| {
                matches!(k, K::SubjectsRequired { .. })
            }),
            (vec!["allowed_subject_patterns: ['/unclosed']"], "allowed_subject_patterns", |k| {
                matches!(k, K::InvalidSubjectPattern { .. })
            }),
            (vec!["allowed_subject_patterns: ['/a[/']"], "allowed_subject_patterns", |k| {
                matches!(k, K::InvalidSubjectPattern { .. })
            }),
            (vec!["allowed_subject_patterns: ['/']"], "allowed_subject_patterns", |k| {
                matches!(k, K::InvalidSubjectPattern { .. })
            }),
            (vec!["fallback_claims.sub: email"], "fallback_claims.sub", |k| {
                matches!(k, K::FallbackNotAllowedForIdToken { .. })
            }),
            (
                vec!["token_type: access_token", "allowed_subjects: s", "fallback_claims.aud: iat"],
                "fallback_claims.aud",
                |k| matches!(k, K::FallbackToRegisteredClaim { .. }),
            ),
            (
                vec!["token_type: access_token", "allowed_subjects: s", "fallback_claims.sub: ''"],
                "fallback_claims.sub",
                |k| matches!(k, K::EmptyValue),
            ),
            (vec!["required_claims.iat: 1"], "required_claims.iat", |k| matches!(k, K::RequiredClaimForbidden)),
            (vec!["required_claims.x: ''"], "required_claims.x", |k| matches!(k, K::RequiredClaimEmpty)),
            (vec!["required_claims.x: []"], "required_claims.x", |k| matches!(k, K::RequiredClaimEmpty)),
            (vec!["allowed_signature_algorithms: [hs256]"], "allowed_signature_algorithms", |k| {
                matches!(k, K::InvalidAlgorithm { .. })
            }),
            (vec!["allowed_signature_algorithms: []"], "allowed_signature_algorithms", |k| matches!(k, K::EmptyList)),
            (vec!["allowed_clock_skew: 60"], "allowed_clock_skew", |k| {
                matches!(k, K::InvalidTime { problem: TimeProblem::UnitMissing, .. })
            }),
            (vec!["pkc_jwkset_path: http://idp/jwks.json"], "pkc_jwkset_path", |k| {
                matches!(k, K::HttpUriNotAllowed { .. })
            }),
            (vec!["pkc_jwkset_path: https:///jwks.json"], "pkc_jwkset_path", |k| {
                matches!(k, K::HttpsHostMissing { .. })
            }),
            (vec!["pkc_jwkset_path: https://a b/"], "pkc_jwkset_path", |k| matches!(k, K::InvalidUri { .. })),
            (vec!["claims.groups: ''"], "claims.groups", |k| matches!(k, K::EmptyClaimName)),
            (vec!["claim_patterns.principal: '(unclosed'"], "claim_patterns.principal", |k| {
                matches!(k, K::InvalidClaimPattern { .. })
            }),
            (vec!["claim_patterns.mail: '(.*)'"], "claim_patterns.mail", |k| {
                matches!(k, K::ClaimPatternWithoutClaim { .. })
            }),
            (vec!["populate_user_metadata: yes"], "populate_user_metadata", |k| matches!(k, K::InvalidBool { .. })),
            (vec!["enabled: True"], "enabled", |k| matches!(k, K::InvalidBool { .. })),
            (vec!["client_authentication.type: basic"], "client_authentication.type", |k| {
                matches!(k, K::InvalidClientAuthType { .. })
            }),
            (vec!["client_authentication.type: shared_secret"], "client_authentication.shared_secret", |k| {
                matches!(k, K::SharedSecretMissing { .. })
            }),
            (vec!["jwt.cache.size: -1"], "jwt.cache.size", |k| matches!(k, K::IntOutOfRange { .. })),
            (vec!["order: 1.5"], "order", |k| matches!(k, K::InvalidInt { .. })),
            (vec!["order: 2147483648"], "order", |k| matches!(k, K::InvalidInt { .. })),
            (vec!["pkc_jwkset_reload.url_interval_max: 1m"], "pkc_jwkset_reload.url_interval_max", |k| {
                matches!(k, K::ReloadIntervals { .. })
            }),
            (vec!["http.proxy.scheme: socks"], "http.proxy.scheme", |k| matches!(k, K::InvalidProxyScheme { .. })),
            (vec!["http.proxy.port: 0"], "http.proxy.port", |k| matches!(k, K::IntOutOfRange { .. })),
            (vec!["claims.unknown: x"], "claims.unknown", |k| matches!(k, K::UnknownSetting)),
            (vec!["ssl.verify_everything: full"], "ssl.verify_everything", |k| matches!(k, K::UnknownSetting)),
            (vec!["allowed_issuer: [a, b]"], "allowed_issuer", |k| matches!(k, K::ExpectedSingleValue)),
            (vec!["allowed_issuer: ~"], "allowed_issuer", |k| matches!(k, K::NullValue)),
        ];
        for (extra, setting, check) in cases {
            let kind = one_error(&extra, setting);
            assert!(check(&kind), "{extra:?}: {kind:?}");
            // Every message is lowercase at its start.
            let text = kind.to_string();
            assert!(!text.starts_with(|c: char| c.is_uppercase()), "{text}");
        }
    }

    #[test]
    fn required_settings_of_an_enabled_realm() {
        let yaml = format!("{P}.r1.populate_user_metadata: true\n");
        let errs = errors(&yaml, None);
        let found: Vec<(&str, &ErrorKind)> =
            errs.iter().map(|e| (e.key().rsplit('.').next().unwrap_or(""), e.kind())).collect();
        assert!(
            errs.iter().any(|e| e.key().ends_with(".order") && matches!(e.kind(), ErrorKind::MissingOrder)),
            "{found:?}"
        );
        assert!(errs.iter().any(|e| e.key().ends_with(".allowed_issuer") && matches!(e.kind(), ErrorKind::EmptyValue)));
        assert!(
            errs.iter().any(|e| e.key().ends_with(".allowed_audiences") && matches!(e.kind(), ErrorKind::EmptyList))
        );
        assert!(errs.iter().any(|e| e.key().ends_with(".claims.principal") && matches!(e.kind(), ErrorKind::Required)));
        assert!(errs.iter().any(|e| matches!(e.kind(), ErrorKind::NoKeySource { .. })));
        assert!(errs.iter().any(|e| matches!(e.kind(), ErrorKind::SharedSecretMissing { .. })));
        // A disabled realm needs none of them, and is listed.
        let s = ok(&format!("{P}.r1.enabled: false\n"), None);
        assert_eq!(s.realms.len(), 1);
        assert!(!s.realms[0].enabled);
        // ... but its values are still checked one by one.
        let errs = errors(&format!("{P}.r1.enabled: false\n{P}.r1.allowed_clock_skew: 5\n"), None);
        assert_eq!(errs.len(), 1);
    }

    #[test]
    fn hmac_key_sources() {
        let errs = errors(&realm(&[]), Some(&secrets(&[&format!("hmac_key: {HMAC}"), "hmac_jwkset: '{\"keys\":[]}'"])));
        assert_eq!(errs.len(), 1);
        assert!(matches!(errs[0].kind(), ErrorKind::HmacKeyAndJwkSet { .. }));
        assert_eq!(errs[0].key(), format!("{P}.r1.hmac_jwkset"));
        // A blank secret counts as unset (`Strings.hasText`).
        let errs = errors(&realm(&[]), Some(&secrets(&["hmac_key: '  '"])));
        assert!(matches!(errs[0].kind(), ErrorKind::NoKeySource { .. }));
        // A JWK set alone, or a PKC path alone, is enough.
        ok(&realm(&[]), Some(&secrets(&["hmac_jwkset: '{\"keys\":[]}'"])));
        ok(&realm(&["pkc_jwkset_path: jwks.json"]), None);
    }

    #[test]
    fn client_secret_required_or_forbidden() {
        let yaml = realm(&["client_authentication.type: shared_secret"]);
        let s = ok(
            &yaml,
            Some(&secrets(&[&format!("hmac_key: {HMAC}"), &format!("client_authentication.shared_secret: {SHARED}")])),
        );
        assert_eq!(s.realms[0].client_authentication.kind, ClientAuthType::SharedSecret);
        assert_eq!(s.realms[0].client_authentication.shared_secret.as_ref().map(Secret::expose), Some(SHARED));
        let errs = errors(
            &realm(&[]),
            Some(&secrets(&[&format!("hmac_key: {HMAC}"), &format!("client_authentication.shared_secret: {SHARED}")])),
        );
        assert_eq!(errs.len(), 1);
        assert!(matches!(errs[0].kind(), ErrorKind::SharedSecretNotAllowed { .. }));
        assert_eq!(errs[0].origin(), ConfigSource::SecretsFile);
        assert!(errs[0].position().is_some());
    }

    #[test]
    fn all_problems_are_reported() {
        let errs = errors(
            &realm(&["token_type: x", "allowed_clock_skew: 1", "jwt.cache.size: a", "bogus: 1"]),
            Some(&hmac_secret()),
        );
        assert_eq!(errs.len(), 4, "{errs:?}");
    }

    #[test]
    fn duplicate_orders() {
        let two = format!("{}{}", realm(&[]), realm(&[]).replace(".r1.", ".r2."));
        let errs = errors(&two, Some(&format!("{}{}", hmac_secret(), hmac_secret().replace(".r1.", ".r2."))));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            matches!(errs[0].kind(), ErrorKind::DuplicateOrder { order: 2, realms } if realms == &["jwt.r1", "jwt.r2"])
        );
        assert_eq!(errs[0].key(), format!("{P}.r2.order"));
        assert!(errs[0].to_string().contains("`jwt.r1`, `jwt.r2`"));
        // Against a realm of another type.
        let errs =
            errors(&format!("{}xpack.security.authc.realms.native.n1.order: 2\n", realm(&[])), Some(&hmac_secret()));
        assert!(matches!(errs[0].kind(), ErrorKind::DuplicateOrder { .. }));
        // Disabled realms do not count.
        ok(
            &format!(
                "{}xpack.security.authc.realms.native.n1: {{order: 2, enabled: false}}\n{P}.off.enabled: false\n",
                realm(&[])
            ),
            Some(&hmac_secret()),
        );
    }

    #[test]
    fn realm_names() {
        for bad in ["a b", "ré", "x+y", "a:b"] {
            let yaml = format!("{P}:\n  '{bad}':\n    order: 1\n");
            let errs = errors(&yaml, None);
            assert!(errs.iter().any(|e| matches!(e.kind(), ErrorKind::InvalidRealmName { .. })), "{bad}: {errs:?}");
        }
        // A dotted name is a name plus an unknown setting, as in Elasticsearch.
        let errs = errors(&format!("{P}.my.realm.order: 1\n"), None);
        assert!(
            errs.iter()
                .any(|e| matches!(e.kind(), ErrorKind::UnknownSetting) && e.key() == format!("{P}.my.realm.order"))
        );
        // `_` and `-` are fine; a leading `_` warns.
        let s = ok(&realm(&[]).replace(".r1.", "._r-1."), Some(&hmac_secret().replace(".r1.", "._r-1.")));
        assert_eq!(s.realms[0].name, "_r-1");
        assert!(s.warnings.iter().any(|w| w.contains("reserved prefix")));
        assert!(matches!(errors(&format!("{P}.r1: x\n"), None)[0].kind(), ErrorKind::NotAMap));
        assert!(matches!(errors(&format!("{P}: x\n"), None)[0].kind(), ErrorKind::NotAMap));
    }

    #[test]
    fn time_values() {
        let cases: [(&str, Result<Duration, TimeProblem>); 22] = [
            ("60s", Ok(Duration::from_secs(60))),
            ("20m", Ok(Duration::from_secs(1200))),
            ("1h", Ok(Duration::from_secs(3600))),
            ("5d", Ok(Duration::from_secs(5 * 86400))),
            ("500ms", Ok(Duration::from_millis(500))),
            ("7micros", Ok(Duration::from_micros(7))),
            ("9nanos", Ok(Duration::from_nanos(9))),
            ("0", Ok(Duration::ZERO)),
            ("000", Ok(Duration::ZERO)),
            ("-1", Ok(Duration::ZERO)),
            ("-01", Ok(Duration::ZERO)),
            ("-1s", Ok(Duration::ZERO)),
            (" 10 S ", Ok(Duration::from_secs(10))),
            ("1H", Ok(Duration::from_secs(3600))),
            ("60", Err(TimeProblem::UnitMissing)),
            ("1M", Err(TimeProblem::UnitMissing)),
            ("2w", Err(TimeProblem::UnitMissing)),
            ("", Err(TimeProblem::UnitMissing)),
            ("1.5h", Err(TimeProblem::Fractional)),
            ("-2s", Err(TimeProblem::Negative)),
            ("xs", Err(TimeProblem::NotANumber)),
            // Java: not a long, but a double.
            ("99999999999999999999d", Err(TimeProblem::Fractional)),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_time(value), expected, "{value:?}");
        }
        assert!(parse_time("9223372036854775807d").is_ok());
        let s = ok(&realm(&["allowed_clock_skew: 2m"]), Some(&hmac_secret()));
        assert_eq!(s.realms[0].allowed_clock_skew, Duration::from_secs(120));
    }

    #[test]
    fn lists_and_booleans() {
        assert_eq!(split_comma("a, b ,c"), ["a", "b", "c"]);
        assert_eq!(split_comma("a,b,,"), ["a", "b"]);
        assert_eq!(split_comma(",a"), ["", "a"]);
        assert!(split_comma(",").is_empty() && split_comma("").is_empty());
        let s = ok(&realm(&["required_claims.extra: 'hello,world'", "allowed_audiences: x , y"]), Some(&hmac_secret()));
        assert_eq!(s.realms[0].required_claims, [("extra".to_owned(), vec!["hello".to_owned(), "world".to_owned()])]);
        assert_eq!(s.realms[0].allowed_audiences, ["x", "y"]);
        assert!(java_equals_ignore_case("ACCESS_TOKEN", "access_token"));
        assert!(java_equals_ignore_case("acceſs_token", "access_token"));
        assert!(!java_equals_ignore_case("access_toke", "access_token"));
        for (v, expected) in [("true", Some(true)), ("false", Some(false)), ("'true'", Some(true))] {
            let s = ok(&realm(&[&format!("populate_user_metadata: {v}")]), Some(&hmac_secret()));
            assert_eq!(Some(s.realms[0].populate_user_metadata), expected);
        }
        for v in ["TRUE", "yes", "1", "on", "''"] {
            let kind = one_error(&[&format!("populate_user_metadata: {v}")], "populate_user_metadata");
            assert!(matches!(kind, ErrorKind::InvalidBool { .. }), "{v}");
        }
    }

    // --- YAML structure ------------------------------------------------------------------------

    #[test]
    fn duplicate_keys_in_any_form_have_a_position() {
        let yaml = format!("{P}.r1.order: 1\n{P}.r1.order: 2\n");
        let errs = errors(&yaml, None);
        let dup = errs.iter().find(|e| matches!(e.kind(), ErrorKind::DuplicateKey)).expect("duplicate");
        assert_eq!(dup.key(), format!("{P}.r1.order"));
        assert_eq!(dup.position(), Some(Position { line: 2, column: 1 }));
        assert!(dup.to_string().contains("line 2, column 1"), "{dup}");
        let yaml = format!("{P}.r1.order: 1\nxpack:\n  security.authc.realms.jwt:\n    r1:\n      order: 2\n");
        let errs = errors(&yaml, None);
        let dup = errs.iter().find(|e| matches!(e.kind(), ErrorKind::DuplicateKey)).expect("duplicate");
        assert_eq!(dup.position(), Some(Position { line: 5, column: 7 }));
    }

    #[test]
    fn yaml_structure_errors() {
        // Nesting past the limit is refused by this module (block style) or by the scanner (flow).
        let deep: String =
            (0..70).map(|i| format!("{}k{i}:\n", "  ".repeat(i))).collect::<String>() + &"  ".repeat(70) + "v: 1\n";
        let errs = errors(&deep, None);
        assert!(matches!(errs[0].kind(), ErrorKind::TooDeep { max: MAX_YAML_DEPTH }), "{errs:?}");
        let flow = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let errs = errors(&flow, None);
        assert!(matches!(errs[0].kind(), ErrorKind::TooDeep { .. } | ErrorKind::Yaml { .. }), "{errs:?}");
        let flow = format!("a: {}{}\n", "{b: ".repeat(100), "}".repeat(100));
        assert!(matches!(errors(&flow, None)[0].kind(), ErrorKind::TooDeep { .. } | ErrorKind::Yaml { .. }));
        // Up to the limit is fine.
        let ok_deep: String =
            (0..60).map(|i| format!("{}k{i}:\n", "  ".repeat(i))).collect::<String>() + &"  ".repeat(60) + "v: 1\n";
        ok(&ok_deep, None);
        assert!(matches!(errors("- a\n- b\n", None)[0].kind(), ErrorKind::RootNotMap));
        assert!(matches!(errors("a: 1\n---\nb: 2\n", None)[0].kind(), ErrorKind::MultipleDocuments));
        assert!(matches!(errors("a: [[1]]\n", None)[0].kind(), ErrorKind::UnsupportedStructure));
        assert!(matches!(errors("a: [{b: 1}]\n", None)[0].kind(), ErrorKind::UnsupportedStructure));
        assert!(matches!(errors("a: {b: 1\n", None)[0].kind(), ErrorKind::Yaml { .. }));
        let e = &errors("a: b: c\n", None)[0];
        assert!(matches!(e.kind(), ErrorKind::Yaml { .. }) && e.position().is_some());
        // Empty files and non-JWT keys hold no realms.
        assert!(ok("", None).realms.is_empty());
        assert!(ok("# nothing\n", None).realms.is_empty());
        assert!(ok("cluster.name: x\npath: {data: /d}\nlist: [1, 2]\nnull_key: ~\n", None).realms.is_empty());
        // Scalar aliases work; collection aliases do not.
        let s = ok(
            &format!("base: &iss my-issuer\n{}", realm(&[]).replace("allowed_issuer: iss", "allowed_issuer: *iss")),
            Some(&hmac_secret()),
        );
        assert_eq!(s.realms[0].allowed_issuer, "my-issuer");
        assert!(matches!(errors("a: &x {b: 1}\nc: *x\n", None)[0].kind(), ErrorKind::UnsupportedAlias));
    }

    proptest! {
        #[test]
        fn never_panics_on_any_yaml(text in "(\\PC|[\\n \\t:{}\\[\\],&*!|>'\"#-]){0,200}") {
            let _ = parse_yaml(&text, Some(&text), base());
        }

        #[test]
        fn never_panics_on_settings_values(value in "\\PC{0,40}", setting in prop::sample::select(vec![
            "order", "enabled", "token_type", "allowed_clock_skew", "pkc_jwkset_path", "allowed_signature_algorithms",
            "claim_patterns.principal", "allowed_subject_patterns", "jwt.cache.size", "http.proxy.port", "required_claims.x",
        ])) {
            let mut map = serde_json::Map::new();
            map.insert(setting.to_owned(), serde_json::Value::String(value.clone()));
            let _ = from_flat("p", &map, base());
            let _ = parse_time(&value);
        }
    }

    // --- Secrets ---------------------------------------------------------------------------------

    #[test]
    fn secrets_file_or_inline_with_a_warning() {
        let from_file = ok(&realm(&[]), Some(&hmac_secret()));
        assert!(from_file.warnings.iter().all(|w| !w.contains("secure setting")));
        let inline = ok(&format!("{}{}", realm(&[]), hmac_secret()), None);
        assert_eq!(from_file.realms, inline.realms);
        assert!(
            inline.warnings.iter().any(|w| w.contains("secure setting") && w.contains("hmac_key") && !w.contains(HMAC))
        );
        // Both: an error.
        let errs = errors(&format!("{}{}", realm(&[]), hmac_secret()), Some(&hmac_secret()));
        assert!(matches!(errs[0].kind(), ErrorKind::SecretInBothFiles));
        // Secrets of a realm with no settings; non-secure settings in the secrets file.
        let errs = errors(&realm(&[]), Some(&format!("{}{P}.ghost.hmac_key: k\n", hmac_secret())));
        assert!(matches!(errs[0].kind(), ErrorKind::SecretsWithoutRealm { .. }));
        let errs = errors(&realm(&[]), Some(&format!("{}{P}.r1.order: 5\n", hmac_secret())));
        assert!(matches!(errs[0].kind(), ErrorKind::NotSecureSetting));
        let errs = errors(&realm(&[]), Some(&secrets(&["hmac_key: [a, b]"])));
        assert!(errs.iter().any(|e| matches!(e.kind(), ErrorKind::SecretNotString)));
        // Other keys in the secrets file are ignored.
        ok(&realm(&[]), Some(&format!("{}bootstrap.password: x\n", hmac_secret())));
        // The caller's secure settings.
        let mut given = SecureSettings::new();
        given.insert(format!("{P}.r1.hmac_key"), Secret::new(HMAC.to_owned()));
        assert_eq!(given.len(), 1);
        let s = parse_yaml_with_secrets(&realm(&[]), &given, base()).expect("valid");
        assert_eq!(s.realms, from_file.realms);
    }

    #[test]
    fn secrets_never_appear_in_errors_warnings_or_debug() {
        const S1: &str = "SeCrEt-hmac-value-1234567890";
        const S2: &str = "SeCrEt-shared-value-0987654321";
        const S3: &str = "SeCrEt-jwkset-value-13579";
        let secret_lines = [
            format!("hmac_key: {S1}"),
            format!("client_authentication.shared_secret: {S2}"),
            format!("hmac_jwkset: {S3}"),
        ];
        let secret_lines: Vec<&str> = secret_lines.iter().map(String::as_str).collect();
        let mut texts = Vec::new();
        // Valid realm with secrets in the realm file (warnings) and its Debug output.
        let inline =
            format!("{}{}", realm(&["client_authentication.type: shared_secret"]), secrets(&secret_lines[..2]));
        let s = ok(&inline, None);
        texts.push(format!("{s:?}"));
        texts.extend(s.warnings.iter().cloned());
        // Every error involving secrets: both HMAC sources, forbidden shared secret, in both files,
        // for a missing realm, in a broken secrets file, not a string.
        let bad_secrets = [
            secrets(&secret_lines),
            format!("{}{}", secrets(&secret_lines), secrets(&secret_lines)),
            format!("{P}.ghost.hmac_key: {S1}\n"),
            format!("{P}.r1.hmac_key: [{S1}]\n"),
            format!("{P}.r1.hmac_key: \"{S1}\n"),
            format!("{P}.r1.hmac_key: {S1}: {S2}\n"),
            format!("{P}.r1.hmac_key: {S1}\n\t{S2}\n"),
            format!("{P}.r1.hmac_key: @{S1}\n"),
        ];
        for bad in &bad_secrets {
            for realm_yaml in [realm(&[]), format!("{}{}", realm(&[]), secrets(&secret_lines))] {
                if let Err(errs) = parse_yaml(&realm_yaml, Some(bad), base()) {
                    texts.push(format!("{errs}"));
                    texts.push(format!("{errs:?}"));
                    for e in &errs {
                        texts.push(e.to_string());
                    }
                }
            }
        }
        let json = serde_json::json!({"hmac_key": S1, "hmac_jwkset": S3, "client_authentication.shared_secret": S2,
            "client_authentication.type": "none"});
        let errs = from_flat("f", json.as_object().expect("object"), base()).expect_err("invalid");
        texts.push(format!("{errs} {errs:?}"));
        let secure = SecureSettings::from_yaml(&secrets(&secret_lines)).expect("valid");
        texts.push(format!("{secure:?}"));
        assert_eq!(format!("{:?}", Secret::new(S1.to_owned())), "Secret(***)");
        assert!(texts.len() > 20);
        for text in &texts {
            for secret in [S1, S2, S3, "SeCrEt"] {
                assert!(!text.contains(secret), "secret in: {text}");
            }
        }
    }

    // --- Paths ---------------------------------------------------------------------------------

    #[test]
    fn relative_paths_resolve_against_the_config_folder() {
        let cases = [
            ("jwks.json", Some(JwkSetLocation::File(PathBuf::from("/etc/es/jwks.json")))),
            ("sub/jwks.json", Some(JwkSetLocation::File(PathBuf::from("/etc/es/sub/jwks.json")))),
            ("/abs/jwks.json", Some(JwkSetLocation::File(PathBuf::from("/abs/jwks.json")))),
            ("https://idp.example.com/jwks", Some(JwkSetLocation::Url("https://idp.example.com/jwks".to_owned()))),
            ("https://user@[::1]:8443/k", Some(JwkSetLocation::Url("https://user@[::1]:8443/k".to_owned()))),
            ("HTTP://idp/jwks.json", Some(JwkSetLocation::File(PathBuf::from("/etc/es/HTTP://idp/jwks.json")))),
        ];
        for (value, expected) in cases {
            let s = ok(&realm(&[&format!("pkc_jwkset_path: '{value}'")]), None);
            assert_eq!(s.realms[0].pkc_jwkset_path, expected, "{value}");
        }
        for bad in ["https://", "https://:443/x", "https:/x", "httpsfile.json"] {
            let kind = one_error(&[&format!("pkc_jwkset_path: '{bad}'")], "pkc_jwkset_path");
            assert!(matches!(kind, ErrorKind::HttpsHostMissing { .. }), "{bad}: {kind:?}");
        }
        let kind = one_error(&["pkc_jwkset_path: httpfile.json"], "pkc_jwkset_path");
        assert!(matches!(kind, ErrorKind::HttpUriNotAllowed { .. }));
        let s = parse_yaml(
            &realm(&["ssl.certificate_authorities: a.pem, ../b.pem"]),
            Some(&hmac_secret()),
            Path::new("conf"),
        )
        .expect("valid");
        assert_eq!(
            s.realms[0].ssl_certificate_authorities,
            [PathBuf::from("conf/a.pem"), PathBuf::from("conf/../b.pem")]
        );
    }

    #[test]
    fn algorithms() {
        for a in Algorithm::ALL {
            assert_eq!(a.as_str().parse::<Algorithm>(), Ok(a));
            assert_eq!(a.to_string(), a.as_str());
            assert_eq!(a.is_hmac() as u8 + a.is_rsa() as u8 + a.is_ec() as u8, 1);
        }
        assert!("hs256".parse::<Algorithm>().is_err());
        assert!(Algorithm::HS384.is_hmac() && !Algorithm::PS256.is_hmac());
        assert_eq!(TokenType::parse("ID_TOKEN"), Some(TokenType::IdToken));
        assert_eq!(ClientAuthType::parse("Shared_Secret"), Some(ClientAuthType::SharedSecret));
        assert_eq!(ClientAuthType::parse("none ").map(ClientAuthType::as_str), None);
    }
}
