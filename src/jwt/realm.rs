//! A JWT realm and the chain of realms: the validation pipeline of
//! Elasticsearch's `JwtRealm` and `JwtAuthenticator`, in its order (spec §2),
//! then claims to user (§3) and role mapping.

use super::cache::{self, CacheStats, Tag, TokenCache};
use super::jwks::{JwkSetStatus, PkcKeys, Reloaded, Reloader};
use super::keys::{Algorithm, Jwk, SignatureFailure, verify_signature};
use super::members::{Members, Metadata};
use super::settings::{ClientAuthType, RealmSettings, Secret, TokenType};
use super::token::{Claims, METADATA_PREFIX, Token, Typ, millis};
use crate::pattern::Pattern;
use crate::{Model, Program, Scratch};
use arc_swap::ArcSwap;
use regex::Regex;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use subtle::ConstantTimeEq;

/// Where in the pipeline a token was rejected. The names are those of the
/// conformance vectors (`"<stage>: gist"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// The request itself is malformed (an empty client secret).
    Request,
    /// No realm could read the token: no `Bearer` JWT, or not a signed JWT.
    NotHandled,
    /// Client authentication (`ES-Client-Authentication`) failed.
    ClientAuth,
    /// The `typ` header.
    Typ,
    /// The `iss` claim.
    Iss,
    /// The `sub` claim (or its fallback).
    Sub,
    /// The `aud` claim (or its fallback).
    Aud,
    /// The `alg` header.
    Alg,
    /// The `iat` claim.
    Iat,
    /// The `exp` claim.
    Exp,
    /// The `nbf` claim.
    Nbf,
    /// The `auth_time` claim.
    AuthTime,
    /// A `required_claims.*` setting.
    RequiredClaims,
    /// The signature, or the keys to check it.
    Signature,
    /// No principal could be taken from the claims.
    Principal,
    /// The groups claim.
    Groups,
    /// The dn claim.
    Dn,
    /// The mail claim.
    Mail,
    /// The name claim.
    Name,
    /// Delegated authorization (`authorization_realms`) found no user.
    AuthorizationRealms,
    /// Role mapping failed for the user (spec role-mapping §3.6).
    RoleMapping,
}

impl Stage {
    /// The stage's name: `typ`, `iss`, `sub`, `signature`, `client_auth`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Request => "request",
            Stage::NotHandled => "not_handled",
            Stage::ClientAuth => "client_auth",
            Stage::Typ => "typ",
            Stage::Iss => "iss",
            Stage::Sub => "sub",
            Stage::Aud => "aud",
            Stage::Alg => "alg",
            Stage::Iat => "iat",
            Stage::Exp => "exp",
            Stage::Nbf => "nbf",
            Stage::AuthTime => "auth_time",
            Stage::RequiredClaims => "required_claims",
            Stage::Signature => "signature",
            Stage::Principal => "principal",
            Stage::Groups => "groups",
            Stage::Dn => "dn",
            Stage::Mail => "mail",
            Stage::Name => "name",
            Stage::AuthorizationRealms => "authorization_realms",
            Stage::RoleMapping => "role_mapping",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request was not authenticated: the first realm's reason (in
/// `order`), with every other realm's in [`Rejection::others`]. Never holds
/// a secret or a token signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    realm: Option<String>,
    stage: Stage,
    reason: String,
    others: Vec<Rejection>,
}

impl Rejection {
    fn new(realm: Option<&str>, stage: Stage, reason: impl Into<String>) -> Self {
        Self { realm: realm.map(str::to_owned), stage, reason: reason.into(), others: Vec::new() }
    }

    /// The realm that rejected the token; `None` for a request no realm read.
    pub fn realm(&self) -> Option<&str> {
        self.realm.as_deref()
    }

    /// The pipeline stage.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// What was wrong.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The rejections of the realms tried after the first.
    pub fn others(&self) -> &[Rejection] {
        &self.others
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.realm {
            Some(realm) => write!(f, "realm `{realm}` rejected the token at `{}`: {}", self.stage, self.reason),
            None => write!(f, "{}: {}", self.stage, self.reason),
        }
    }
}

impl std::error::Error for Rejection {}

/// A user a realm authenticated, with the roles role mapping granted.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthenticatedUser {
    /// The realm's name.
    pub realm: String,
    /// The principal (the user's name).
    pub principal: String,
    /// The groups (used for role mapping).
    pub groups: Vec<String>,
    /// The distinguished name, when the realm reads one.
    pub dn: Option<String>,
    /// The email address (`claims.mail`).
    pub email: Option<String>,
    /// The full name (`claims.name`).
    pub full_name: Option<String>,
    /// `jwt_token_type` and, with `populate_user_metadata`, `jwt_claim_*`.
    pub metadata: Metadata,
    /// The granted roles, sorted.
    pub roles: Vec<String>,
}

impl AuthenticatedUser {
    /// The role-mapping model of this user, as its roles were mapped: to
    /// map it with another program without authenticating it again. Fails
    /// as [`Model::new`] does for metadata holding an object (a realm never
    /// puts one there).
    ///
    /// ```
    /// use rolemap::jwt::{AuthenticatedUser, Metadata};
    /// use rolemap::{Program, Scratch};
    /// use serde_json::json;
    ///
    /// let user = AuthenticatedUser {
    ///     realm: "jwt1".into(),
    ///     principal: "jdoe".into(),
    ///     groups: vec!["admins".into()],
    ///     dn: None,
    ///     email: None,
    ///     full_name: None,
    ///     metadata: [("jwt_claim_level", json!(3))].into_iter().collect::<Metadata>(),
    ///     roles: vec![],
    /// };
    /// let program = Program::from_json(r#"{"ops": {"roles": ["ops"], "enabled": true,
    ///     "rules": {"all": [{"field": {"groups": "admins"}}, {"field": {"metadata.jwt_claim_level": 3}}]}}}"#)?;
    /// let model = user.model()?;
    /// let roles = program.evaluate(&model, &mut Scratch::default())?;
    /// assert_eq!(roles.names().collect::<Vec<_>>(), ["ops"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn model(&self) -> Result<Model<'_>, crate::UserError> {
        Model::from_realm(&self.principal, &self.realm, self.dn.as_deref(), &self.groups, &self.metadata.0, false)
    }
}

/// One claim setting (`claims.x` with its optional `claim_patterns.x`).
#[derive(Debug)]
struct ClaimReader {
    /// The full setting key, for messages.
    setting: String,
    claim: String,
    pattern: Option<Regex>,
}

#[derive(Debug)]
enum Subjects {
    /// An ID-token realm with no subject settings: any string `sub`.
    Any,
    Allowed {
        literals: Vec<String>,
        patterns: Vec<Pattern>,
    },
}

/// The shared secrets in force (spec §4), each kept only as its SHA-256 so
/// that comparing is constant time whatever the lengths.
struct Secrets {
    current: [u8; 32],
    /// The secret before the last rotation and the time (ms since the epoch)
    /// until which it is still accepted (`rotation_grace_period`).
    prior: Option<([u8; 32], i64)>,
}

/// The rotatable client secret of a `shared_secret` realm
/// (`RotatableSecret`): readers take the state in force without a lock.
struct SharedSecret {
    state: ArcSwap<Secrets>,
    grace_ms: i64,
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSecret(***)")
    }
}

impl SharedSecret {
    fn new(secret: &Secret, grace: std::time::Duration) -> Self {
        let state = Secrets { current: Sha256::digest(secret.expose().as_bytes()).into(), prior: None };
        let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        SharedSecret { state: ArcSwap::from_pointee(state), grace_ms }
    }

    /// Whether `presented` is the current secret, or the prior one within
    /// its grace period. Both comparisons always run.
    fn matches(&self, presented: &str, now_ms: i64) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let state = self.state.load();
        let current = digest.ct_eq(&state.current);
        let prior = match state.prior {
            Some((prior, until_ms)) => digest.ct_eq(&prior) & subtle::Choice::from(u8::from(now_ms < until_ms)),
            None => subtle::Choice::from(0),
        };
        bool::from(current | prior)
    }

    /// Makes `secret` current; the current one stays valid for the grace
    /// period from `now_ms`. The same secret again changes nothing.
    fn rotate(&self, secret: &Secret, now_ms: i64) {
        let digest: [u8; 32] = Sha256::digest(secret.expose().as_bytes()).into();
        let until = now_ms.saturating_add(self.grace_ms);
        // Read-copy-update: two rotations at once both land, in some order.
        self.state.rcu(|state| {
            if bool::from(digest.ct_eq(&state.current)) {
                Arc::clone(state)
            } else {
                Arc::new(Secrets { current: digest, prior: Some((state.current, until)) })
            }
        });
    }
}

/// A configured JWT realm, ready to validate tokens.
#[derive(Debug)]
pub struct Realm {
    name: String,
    order: i64,
    token_type: TokenType,
    issuer: String,
    audiences: Vec<String>,
    subjects: Subjects,
    fallback_sub: Option<String>,
    fallback_aud: Option<String>,
    required_claims: Vec<(String, Vec<String>)>,
    algorithms: Vec<Algorithm>,
    skew_ms: i64,
    /// `None` when the family is not configured at all.
    hmac_keys: Option<Vec<Jwk>>,
    pkc_keys: Option<Arc<PkcKeys>>,
    principal: ClaimReader,
    groups: Option<ClaimReader>,
    dn: Option<ClaimReader>,
    mail: Option<ClaimReader>,
    name_claim: Option<ClaimReader>,
    populate_metadata: bool,
    client_secret: Option<SharedSecret>,
    authorization_realms: Vec<String>,
    /// `None` when `jwt.cache.ttl` or `jwt.cache.size` is zero. Shared with
    /// the background reload, which empties it when keys change.
    cache: Option<Arc<TokenCache>>,
}

/// What one realm made of a token.
enum Outcome {
    Success(Arc<AuthenticatedUser>),
    Rejected(Rejection),
}

const PREFIX: &str = "xpack.security.authc.realms.jwt";

impl Realm {
    /// Builds a realm from checked settings and its loaded keys.
    pub(crate) fn new(
        settings: &RealmSettings,
        hmac_keys: Option<Vec<Jwk>>,
        pkc_keys: Option<Arc<PkcKeys>>,
    ) -> Result<Realm, String> {
        let key = |setting: &str| format!("{PREFIX}.{}.{setting}", settings.name);
        let reader = |claim: &Option<String>,
                      pattern: &Option<String>,
                      name: &str|
         -> Result<Option<ClaimReader>, String> {
            let Some(claim) = claim else { return Ok(None) };
            let pattern = match pattern {
                Some(p) => Some(super::java_regex::compile(p).map_err(|e| {
                    format!("invalid claim value regex pattern for `{}`: {e}", key(&format!("claim_patterns.{name}")))
                })?),
                None => None,
            };
            Ok(Some(ClaimReader { setting: key(&format!("claims.{name}")), claim: claim.clone(), pattern }))
        };
        let principal =
            reader(&Some(settings.claims.principal.clone()), &settings.claim_patterns.principal, "principal")?
                .ok_or_else(|| format!("setting `{}` is required", key("claims.principal")))?;
        let subjects = if settings.allowed_subjects.is_empty() && settings.allowed_subject_patterns.is_empty() {
            Subjects::Any
        } else {
            let mut patterns = Vec::new();
            for p in &settings.allowed_subject_patterns {
                // Every value is a pattern here: `?` is a wildcard even without `*`.
                match Pattern::automaton(p) {
                    Ok(pattern) => patterns.push(pattern),
                    Err(_) => {
                        return Err(format!(
                            "invalid patterns for allowed claim values for `{}`",
                            key("allowed_subject_patterns")
                        ));
                    }
                }
            }
            Subjects::Allowed { literals: settings.allowed_subjects.clone(), patterns }
        };
        let client_secret = match settings.client_authentication.kind {
            ClientAuthType::None => None,
            ClientAuthType::SharedSecret => {
                let secret = settings
                    .client_authentication
                    .shared_secret
                    .as_ref()
                    .ok_or_else(|| format!("missing setting `{}`", key("client_authentication.shared_secret")))?;
                Some(SharedSecret::new(secret, settings.client_authentication.rotation_grace_period))
            }
        };
        Ok(Realm {
            name: settings.name.clone(),
            order: settings.order,
            token_type: settings.token_type,
            issuer: settings.allowed_issuer.clone(),
            audiences: settings.allowed_audiences.clone(),
            subjects,
            fallback_sub: settings.fallback_claims.sub.clone(),
            fallback_aud: settings.fallback_claims.aud.clone(),
            required_claims: settings.required_claims.clone(),
            algorithms: settings.allowed_signature_algorithms.clone(),
            skew_ms: i64::try_from(settings.allowed_clock_skew.as_secs()).unwrap_or(i64::MAX / 4).saturating_mul(1000),
            hmac_keys,
            pkc_keys,
            principal,
            groups: reader(&settings.claims.groups, &settings.claim_patterns.groups, "groups")?,
            dn: reader(&settings.claims.dn, &settings.claim_patterns.dn, "dn")?,
            mail: reader(&settings.claims.mail, &settings.claim_patterns.mail, "mail")?,
            name_claim: reader(&settings.claims.name, &settings.claim_patterns.name, "name")?,
            populate_metadata: settings.populate_user_metadata,
            client_secret,
            authorization_realms: settings.authorization_realms.clone(),
            cache: TokenCache::new(settings.cache.ttl, settings.cache.size as usize).map(Arc::new),
        })
    }

    /// The realm's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The realm's `order`.
    pub fn order(&self) -> i64 {
        self.order
    }

    /// Cold: the code that builds a rejection's message is laid out away
    /// from the accepted path, which runs from the instruction cache.
    #[cold]
    fn reject(&self, stage: Stage, reason: impl Into<String>) -> Rejection {
        Rejection::new(Some(&self.name), stage, reason)
    }

    /// The claim checks in Elasticsearch's order, then the signature, then
    /// the user and its roles, which go to the cache. (Client
    /// authentication and the cache lookup come first, in `Realms`.)
    /// `token` is `Some`; the last realm of the chain may take it, to move
    /// the claims into the user's metadata instead of copying them (no
    /// other realm will read it).
    fn authenticate(
        &self,
        token: &mut Option<Token<'_>>,
        last: bool,
        key: Option<&cache::Key>,
        now: SystemTime,
        now_ms: i64,
        program: &Program,
    ) -> Outcome {
        let Some(checked) = token.as_ref() else {
            return Outcome::Rejected(self.reject(Stage::NotHandled, "no token"));
        };
        let keys = match self.validate(checked, now, now_ms) {
            Ok(keys) => keys,
            Err(rejection) => return Outcome::Rejected(rejection),
        };
        // `exp` was checked, so it is there; a cache entry is good while
        // `now < exp + skew`, as the check itself.
        let exp = checked.claims.get("exp").and_then(millis).unwrap_or(i64::MIN);
        match self.user(token, last, program) {
            Ok(user) => {
                let user = Arc::new(user);
                if let (Some(cache), Some(key)) = (&self.cache, key) {
                    let tag = Tag { program: program.id(), keys };
                    cache.insert(*key, Arc::clone(&user), tag, exp.saturating_add(self.skew_ms), now_ms);
                }
                Outcome::Success(user)
            }
            Err(rejection) => Outcome::Rejected(rejection),
        }
    }

    /// The tag a cache entry made now would carry.
    fn tag(&self, program: &Program) -> Tag {
        Tag { program: program.id(), keys: self.pkc_keys.as_ref().map_or(0, |k| k.generation()) }
    }

    /// What the realm's public-key set has been through; `None` without
    /// `pkc_jwkset_path`.
    pub fn jwk_set_status(&self) -> Option<JwkSetStatus> {
        self.pkc_keys.as_ref().map(|k| k.status())
    }

    /// Reads the realm's public-key set again now (as the background reload
    /// would), clearing the token cache when its content changed. Returns
    /// whether it changed; `false` too without `pkc_jwkset_path` or when the
    /// read failed ([`jwk_set_status`](Self::jwk_set_status) says why).
    pub fn reload_jwk_set(&self, now: SystemTime) -> bool {
        let Some(keys) = &self.pkc_keys else { return false };
        let changed = keys.reload(now).0 == Reloaded::Changed;
        if changed && let Some(cache) = &self.cache {
            cache.clear();
        }
        changed
    }

    /// Makes `secret` the realm's client secret; the previous one stays
    /// valid for `client_authentication.rotation_grace_period` from `now`.
    /// The same secret again changes nothing. Fails for a realm whose
    /// client authentication type is `none`.
    fn rotate_client_secret(&self, secret: &Secret, now: SystemTime) -> Result<(), String> {
        let Some(current) = &self.client_secret else {
            return Err(format!(
                "setting `{PREFIX}.{}.client_authentication.shared_secret` is not supported, because setting `client_authentication.type` is `none`",
                self.name
            ));
        };
        current.rotate(secret, millis_of(now));
        Ok(())
    }

    /// This realm's token cache counters; `None` when its cache is disabled.
    pub fn cache_stats(&self) -> Option<CacheStats> {
        self.cache.as_deref().map(TokenCache::stats)
    }

    /// The claim checks then the signature; on success, the generation of
    /// the public keys the signature was checked with.
    fn validate(&self, token: &Token<'_>, now: SystemTime, now_ms: i64) -> Result<u64, Rejection> {
        let access = self.token_type == TokenType::AccessToken;
        // typ: case-insensitive; access tokens also accept `at+jwt`.
        match token.typ() {
            None | Some(Typ::Jwt) => {}
            Some(Typ::AtJwt) if access => {}
            Some(_) => return Err(self.reject(Stage::Typ, "invalid jwt typ header")),
        }
        let claims = &token.claims;
        self.check_string_claim(claims, "iss", None, false, Stage::Iss, |v| v == self.issuer)?;
        let fallback_sub = if access { self.fallback_sub.as_deref() } else { None };
        self.check_string_claim(claims, "sub", fallback_sub, false, Stage::Sub, |v| match &self.subjects {
            // ES allows every subject through the pattern `*`, which matches "" too.
            Subjects::Any => true,
            Subjects::Allowed { literals, patterns } => {
                literals.iter().any(|l| l == v) || patterns.iter().any(|p| p.is_match(v))
            }
        })?;
        let fallback_aud = if access { self.fallback_aud.as_deref() } else { None };
        self.check_string_claim(claims, "aud", fallback_aud, true, Stage::Aud, |v| {
            self.audiences.iter().any(|a| a == v)
        })?;
        // alg: by exact name against the configured list, which holds only
        // algorithms this realm can verify.
        let alg = token.alg();
        let Some(alg) = alg.ok().filter(|a| self.algorithms.contains(a)) else {
            let allowed: Vec<&str> = self.algorithms.iter().map(|a| a.as_str()).collect();
            let name = alg.map_or_else(|name| name, |a| a.as_str());
            let reason = format!("invalid JWT algorithm [{name}], allowed algorithms are [{}]", allowed.join(","));
            return Err(self.reject(Stage::Alg, reason));
        };
        self.check_date(claims, "iat", true, Stage::Iat, now_ms)?;
        self.check_date(claims, "exp", true, Stage::Exp, now_ms)?;
        if !access {
            // Access tokens ignore `nbf` and `auth_time` entirely.
            self.check_date(claims, "nbf", false, Stage::Nbf, now_ms)?;
            self.check_date(claims, "auth_time", false, Stage::AuthTime, now_ms)?;
        }
        for (claim, allowed) in &self.required_claims {
            self.check_string_claim(claims, claim, None, true, Stage::RequiredClaims, |v| {
                allowed.iter().any(|a| a == v)
            })?;
        }
        self.check_signature(token, alg, now)
    }

    /// `ES-Client-Authentication` (spec §4), compared in constant time.
    fn check_client(&self, presented: Option<&str>, now_ms: i64) -> Result<(), Rejection> {
        let Some(expected) = &self.client_secret else {
            // Type `none` ignores a presented secret.
            return Ok(());
        };
        let Some(presented) = presented else {
            let reason = "client authentication type is shared_secret and the secret is missing";
            return Err(self.reject(Stage::ClientAuth, reason));
        };
        if expected.matches(presented, now_ms) {
            Ok(())
        } else {
            Err(self
                .reject(Stage::ClientAuth, "client authentication type is shared_secret and the secret did not match"))
        }
    }

    /// `JwtStringClaimValidator`: the claim (or its fallback when the claim
    /// is absent) must be a string (or, when `multi`, a string or an array
    /// of strings), and one value must be allowed.
    fn check_string_claim(
        &self,
        claims: &Claims,
        name: &str,
        fallback: Option<&str>,
        multi: bool,
        stage: Stage,
        allowed: impl Fn(&str) -> bool,
    ) -> Result<(), Rejection> {
        let (value, fell_back) = match (claims.get(name), fallback) {
            (Some(value), _) => (Some(value), false),
            (None, Some(fallback)) => (claims.get(fallback), true),
            (None, None) => (None, false),
        };
        // Built only for a message: the accepted path allocates nothing.
        let label = || match fallback.filter(|_| fell_back) {
            Some(fallback) => format!("{fallback} (fallback of {name})"),
            None => name.to_owned(),
        };
        let values: &[Value] = match value {
            None | Some(Value::Null) => {
                return Err(self.reject(stage, format!("missing required string claim [{}]", label())));
            }
            Some(one @ Value::String(_)) => std::slice::from_ref(one),
            // A string list may hold nulls (nimbus keeps them); they match nothing.
            Some(Value::Array(items)) if multi && items.iter().all(|v| v.is_string() || v.is_null()) => items,
            Some(_) => {
                let kind = if multi { "string array" } else { "string" };
                return Err(self.reject(stage, format!("cannot parse string claim [{}] as {kind}", label())));
            }
        };
        if values.iter().filter_map(Value::as_str).any(allowed) {
            Ok(())
        } else {
            let shown =
                values.iter().filter_map(Value::as_str).map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ");
            Err(self.reject(stage, format!("string claim [{}] has value {shown}, which is not allowed", label())))
        }
    }

    /// `JwtDateClaimValidator`: strict comparisons with whole-second skew,
    /// against a clock in milliseconds.
    fn check_date(
        &self,
        claims: &Claims,
        name: &str,
        required: bool,
        stage: Stage,
        now_ms: i64,
    ) -> Result<(), Rejection> {
        let Some(value) = claims.get(name) else {
            return if required {
                Err(self.reject(stage, format!("missing required date claim [{name}]")))
            } else {
                Ok(())
            };
        };
        let Some(claim_ms) = millis(value) else {
            return Err(self.reject(stage, format!("cannot parse date claim [{name}]")));
        };
        if name == "exp" {
            if claim_ms > now_ms.saturating_sub(self.skew_ms) {
                return Ok(());
            }
            let reason = format!(
                "date claim [exp] value [{claim_ms}] must be after now [{now_ms}] minus the allowed clock skew [{}s]",
                self.skew_ms / 1000
            );
            Err(self.reject(stage, reason))
        } else {
            if claim_ms < now_ms.saturating_add(self.skew_ms) {
                return Ok(());
            }
            let reason = format!(
                "date claim [{name}] value [{claim_ms}] must be before now [{now_ms}] plus the allowed clock skew [{}s]",
                self.skew_ms / 1000
            );
            Err(self.reject(stage, reason))
        }
    }

    /// Routes by algorithm family, then tries the selected keys in order.
    /// A public-key failure reads the key set again, and verifies once more
    /// if its content changed (spec §2.5). Returns the generation of the
    /// public keys used (that of the set in force for HMAC).
    fn check_signature(&self, token: &Token<'_>, alg: Algorithm, now: SystemTime) -> Result<u64, Rejection> {
        // nimbus refuses every critical header parameter it was not told to
        // defer, and Elasticsearch defers none.
        let crit = token.header.crit;
        let verify = |keys: &[Jwk]| -> Result<(), Rejection> {
            if crit {
                return Err(self.reject(
                    Stage::Signature,
                    "JWT signature verification failed: unsupported critical header parameters",
                ));
            }
            match verify_signature(keys, token.kid(), alg, token.signing_input.as_bytes(), &token.signature) {
                Ok(()) => Ok(()),
                Err(SignatureFailure::NoKeys) => Err(self.reject(
                    Stage::Signature,
                    "signature verification was not attempted since there are not any JWKs available",
                )),
                Err(SignatureFailure::NoKeysAfterFiltering) => Err(self.reject(
                    Stage::Signature,
                    "signature verification was not attempted since there are not any JWKs available after filtering for incompatible keys",
                )),
                // The signature itself is never shown: with the payload it is a usable token.
                Err(SignatureFailure::Failed) => {
                    Err(self.reject(Stage::Signature, "JWT signature verification failed"))
                }
            }
        };
        if alg.is_hmac() {
            let keys = self.hmac_keys.as_deref().ok_or_else(|| {
                let reason = format!("algorithm [{alg}] is a HMAC signing algorithm, but none of the HMAC JWK settings [hmac_key, hmac_jwkset] is configured");
                self.reject(Stage::Signature, reason)
            })?;
            verify(keys)?;
            return Ok(self.pkc_keys.as_ref().map_or(0, |k| k.generation()));
        }
        let Some(pkc) = &self.pkc_keys else {
            let reason = format!(
                "algorithm [{alg}] is a PKC signing algorithm, but PKC JWK setting [pkc_jwkset_path] is not configured"
            );
            return Err(self.reject(Stage::Signature, reason));
        };
        let snapshot = pkc.snapshot();
        let first = match verify(&snapshot.keys) {
            Ok(()) => return Ok(snapshot.generation),
            Err(rejection) => rejection,
        };
        if crit {
            return Err(first);
        }
        // Keys may have rotated at the issuer: read the set again (shared
        // with the other requests failing meanwhile) and retry only when
        // its content changed. Another request may have changed the keys
        // since this one took them: then they are simply tried. The cache
        // is emptied by whoever changed them (entries made with other keys
        // miss anyway).
        if pkc.generation() == snapshot.generation
            && pkc.reload(now).0 == Reloaded::Changed
            && let Some(cache) = &self.cache
        {
            cache.clear();
        }
        let latest = pkc.snapshot();
        if latest.generation == snapshot.generation {
            return Err(first);
        }
        verify(&latest.keys).map(|()| latest.generation)
    }

    /// Claims to user (spec §3), then role mapping.
    fn user(
        &self,
        token: &mut Option<Token<'_>>,
        take: bool,
        program: &Program,
    ) -> Result<AuthenticatedUser, Rejection> {
        let Some(checked) = token.as_ref() else {
            return Err(self.reject(Stage::NotHandled, "no token"));
        };
        let claims = &checked.claims;
        let principal = self.read_first(&self.principal, claims, Stage::Principal)?;
        // `Strings.hasText`: a principal of only whitespace is no principal.
        let Some(principal) = principal.filter(|p| p.chars().any(|c| !java_whitespace(c))) else {
            let reason =
                format!("no principal for token, parser [{}] claim [{}]", self.principal.setting, self.principal.claim);
            return Err(self.reject(Stage::Principal, reason));
        };
        if !self.authorization_realms.is_empty() {
            // Delegated authorization looks the principal up in other realms;
            // none can be consulted here (JWT realms cannot serve lookups).
            let reason = format!(
                "[{principal}] was authenticated, but no user could be found in realms [{}]",
                self.authorization_realms.join(",")
            );
            return Err(self.reject(Stage::AuthorizationRealms, reason));
        }
        let first = |reader: &Option<ClaimReader>, stage| match reader {
            Some(reader) => self.read_first(reader, claims, stage),
            None => Ok(None),
        };
        let mut groups = Vec::new();
        if let Some(reader) = &self.groups {
            self.read(reader, claims, Stage::Groups, |g| {
                groups.push(g.to_owned());
                true
            })?;
        }
        let dn = first(&self.dn, Stage::Dn)?;
        let email = first(&self.mail, Stage::Mail)?;
        let full_name = first(&self.name_claim, Stage::Name)?;
        // The last realm moves the claims; the others copy them.
        let metadata = if take {
            token.take().map(|t| self.metadata(Claimed::Owned(t.claims)))
        } else {
            token.as_ref().map(|t| self.metadata(Claimed::Borrowed(&t.claims)))
        };
        let Some(metadata) = metadata else {
            return Err(self.reject(Stage::NotHandled, "no token"));
        };
        let roles = {
            let model = Model::from_realm(&principal, &self.name, dn.as_deref(), &groups, &metadata.0, true)
                .map_err(|e| self.reject(Stage::RoleMapping, e.to_string()))?;
            SCRATCH.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                program.evaluate(&model, &mut scratch).map(|roles| {
                    let mut names: Vec<String> = roles.names().map(str::to_owned).collect();
                    names.sort_unstable();
                    names.dedup();
                    names
                })
            })
        };
        let roles = roles.map_err(|e| self.reject(Stage::RoleMapping, e.to_string()))?;
        Ok(AuthenticatedUser { realm: self.name.clone(), principal, groups, dn, email, full_name, metadata, roles })
    }

    /// `ClaimParser`: the claim's string values (the fallback claim stands in
    /// when the claim is absent), each through the pattern's group 1, handed
    /// to `each` until it returns `false`.
    fn read(
        &self,
        reader: &ClaimReader,
        claims: &Claims,
        stage: Stage,
        mut each: impl FnMut(&str) -> bool,
    ) -> Result<(), Rejection> {
        let mut name = reader.claim.as_str();
        if self.token_type == TokenType::AccessToken && !claims.contains_key(name) {
            match name {
                "sub" => name = self.fallback_sub.as_deref().unwrap_or(name),
                "aud" => name = self.fallback_aud.as_deref().unwrap_or(name),
                _ => {}
            }
        }
        let values: &[Value] = match claims.get(name) {
            None | Some(Value::Null) => &[],
            Some(one @ Value::String(_)) => std::slice::from_ref(one),
            // `ClaimParser` wants every element to be a string; a null fails too.
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => items,
            Some(_) => {
                let reason = format!(
                    "setting [{}] expects claim [{name}] with a string or a string array value",
                    reader.setting
                );
                return Err(self.reject(stage, reason));
            }
        };
        let values = values.iter().filter_map(Value::as_str);
        let Some(pattern) = &reader.pattern else {
            for value in values {
                if !each(value) {
                    break;
                }
            }
            return Ok(());
        };
        for value in values {
            let Some(captures) = pattern.captures(value) else { continue };
            if pattern.captures_len() < 2 {
                // Java's `group(1)` throws on a pattern without a group.
                let reason = format!("the claim pattern of [{}] has no capture group", reader.setting);
                return Err(self.reject(stage, reason));
            }
            if let Some(group) = captures.get(1).filter(|g| !g.as_str().is_empty())
                && !each(group.as_str())
            {
                break;
            }
        }
        Ok(())
    }

    /// The first value [`read`](Self::read) gives.
    fn read_first(&self, reader: &ClaimReader, claims: &Claims, stage: Stage) -> Result<Option<String>, Rejection> {
        let mut first = None;
        self.read(reader, claims, stage, |v| {
            first = Some(v.to_owned());
            false
        })?;
        Ok(first)
    }

    /// `jwt_token_type` always; with `populate_user_metadata`, every claim
    /// that is a string, number, boolean or a flat array of them, as
    /// `jwt_claim_<name>` (dates `exp`, `nbf`, `iat` are not).
    fn metadata(&self, claims: Claimed<'_>) -> Metadata {
        let token_type = match self.token_type {
            TokenType::IdToken => "id_token",
            TokenType::AccessToken => "access_token",
        };
        let first = ("jwt_token_type", Value::from(token_type));
        if !self.populate_metadata {
            let mut metadata = Members::with_capacity(1, first.0.len());
            metadata.push(first.0, first.1);
            return Metadata(metadata);
        }
        let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
        let keep = |name: &str, value: &Value| {
            !matches!(name, "exp" | "nbf" | "iat")
                && match value {
                    Value::Array(items) => items.iter().all(scalar),
                    other => scalar(other),
                }
        };
        match claims {
            // In place: the names were read after the prefix.
            Claimed::Owned(claims) => Metadata(claims.into_prefixed(METADATA_PREFIX, first, keep)),
            Claimed::Borrowed(claims) => {
                let bytes = claims.iter().map(|(n, _)| METADATA_PREFIX.len() + n.len()).sum::<usize>();
                let mut metadata = Members::with_capacity(claims.len() + 1, bytes + first.0.len());
                metadata.push(first.0, first.1);
                // Claim names are distinct, and none starts `jwt_claim_`
                // after `jwt_token_type`: every key is new.
                for (name, value) in claims.iter().filter(|(n, v)| keep(n, v)) {
                    metadata.push_prefixed(METADATA_PREFIX, name, value.clone());
                }
                Metadata(metadata)
            }
        }
    }
}

/// The claims a realm builds a user's metadata from: moved out of the token
/// by the last realm of the chain, borrowed by the others.
enum Claimed<'a> {
    Owned(Claims),
    Borrowed(&'a Claims),
}

/// Milliseconds since the epoch (negative before it).
fn millis_of(now: SystemTime) -> i64 {
    match now.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// Java's `String.trim`: strips the characters up to U+0020 at both ends,
/// and no other whitespace.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// Java's `Character.isWhitespace`: Unicode spaces except the no-break ones,
/// plus the ASCII separators U+001C to U+001F.
fn java_whitespace(c: char) -> bool {
    matches!(c, '\u{1c}'..='\u{1f}')
        || (c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}' | '\u{85}'))
}

thread_local! {
    /// Role-mapping scratch, one per thread, reused across requests.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The realms of a node, tried in `order`, with the role mappings their
/// users are mapped with.
///
/// A `Realms` is one configuration: its realms and its program do not change
/// under a request. Realms with `pkc_jwkset_reload.enabled` are kept up to
/// date by one background thread that lives as long as they do. To change
/// mappings, realms or secrets while requests flow, hold it in an
/// [`Engine`](crate::Engine).
#[derive(Debug, Clone)]
pub struct Realms {
    chain: Arc<Chain>,
    program: Arc<Program>,
}

/// The realms themselves, shared by the configurations that differ only in
/// their role mappings.
#[derive(Debug)]
struct Chain {
    realms: Vec<Realm>,
    warnings: Vec<String>,
    _reloader: Option<Reloader>,
}

impl Realms {
    /// A chain of built realms (disabled ones already left out) and the
    /// compiled role mappings; starts the background reloads the realms ask for.
    pub(crate) fn from_parts(
        mut realms: Vec<Realm>,
        program: Arc<Program>,
        warnings: Vec<String>,
    ) -> Result<Self, String> {
        realms.sort_by_key(|r| r.order);
        let sets: Vec<_> = realms
            .iter()
            .filter_map(|r| Some((r.pkc_keys.as_ref()?, r)))
            .filter(|(k, _)| k.reload.enabled)
            .map(|(k, r)| (Arc::downgrade(k), r.cache.as_ref().map(Arc::downgrade), k.first_interval()))
            .collect();
        let reloader = if sets.is_empty() { None } else { Some(Reloader::start(sets)?) };
        Ok(Self { chain: Arc::new(Chain { realms, warnings, _reloader: reloader }), program })
    }

    /// What is configured but cannot work, e.g. a realm with no usable key.
    pub fn warnings(&self) -> &[String] {
        &self.chain.warnings
    }

    /// The realms, in the order they are tried.
    pub fn realms(&self) -> &[Realm] {
        &self.chain.realms
    }

    /// The role mappings users are mapped with.
    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }

    /// The same realms (keys, secrets, reloads) with other role mappings.
    /// The token caches are emptied, as Elasticsearch empties them when
    /// role mappings change; a request still running on the old mappings
    /// cannot put its user back (entries remember their program).
    pub fn with_program(&self, program: Arc<Program>) -> Realms {
        self.clear_caches();
        Realms { chain: Arc::clone(&self.chain), program }
    }

    /// Each realm's name and token cache counters (`None` when disabled).
    pub fn cache_stats(&self) -> Vec<(&str, Option<CacheStats>)> {
        self.realms().iter().map(|r| (r.name.as_str(), r.cache_stats())).collect()
    }

    /// Empties every realm's token cache, as Elasticsearch's clear-realm-cache
    /// API does; users are then authenticated afresh.
    pub fn clear_caches(&self) {
        self.realms().iter().filter_map(|r| r.cache.as_deref()).for_each(TokenCache::clear);
    }

    /// Removes the cached users whose principal is `principal` from every
    /// realm's cache (the clear-realm-cache API with `usernames`).
    pub fn expire_user(&self, principal: &str) {
        self.realms().iter().filter_map(|r| r.cache.as_ref()).for_each(|c| c.expire(principal));
    }

    /// Reads every realm's public-key set again now; returns the names of
    /// the realms whose keys changed (their caches are emptied).
    pub fn reload_jwk_sets(&self, now: SystemTime) -> Vec<&str> {
        self.realms().iter().filter(|r| r.reload_jwk_set(now)).map(|r| r.name()).collect()
    }

    /// Takes the reloadable secure settings of `settings`, as
    /// `POST _nodes/reload_secure_settings` does: each realm's
    /// `client_authentication.shared_secret` becomes current, and the one it
    /// replaces stays valid for the realm's `rotation_grace_period` from
    /// `now`. Realms are matched by name; settings of realms not in the
    /// chain are ignored, as are HMAC keys (Elasticsearch does not reload
    /// them). If any realm's new secret is missing, nothing changes.
    pub fn reload_secure_settings(
        &self,
        settings: &[RealmSettings],
        now: SystemTime,
    ) -> Result<(), super::ConfigError> {
        let mut rotations = Vec::new();
        for realm in self.realms() {
            let Some(new) = settings.iter().find(|s| s.name == realm.name) else { continue };
            if realm.client_secret.is_none() {
                continue;
            }
            match &new.client_authentication.shared_secret {
                Some(secret) => rotations.push((realm, secret)),
                None => {
                    return Err(super::ConfigError {
                        realm: realm.name.clone(),
                        message: format!(
                            "missing setting `{PREFIX}.{}.client_authentication.shared_secret`; it is required when setting `client_authentication.type` is `shared_secret`",
                            realm.name
                        ),
                    });
                }
            }
        }
        for (realm, secret) in rotations {
            realm
                .rotate_client_secret(secret, now)
                .map_err(|message| super::ConfigError { realm: realm.name.clone(), message })?;
        }
        Ok(())
    }

    /// Gives each realm of `self` that has a namesake in `old` the client
    /// secret `old` accepts now as its prior one (for its grace period from
    /// `now`) unless the secret did not change, so that replacing the realms
    /// rotates secrets instead of cutting off the clients still on the old one.
    pub(crate) fn carry_secrets_from(&self, old: &Realms, now: SystemTime) {
        let now_ms = millis_of(now);
        for realm in self.realms() {
            let Some(new) = &realm.client_secret else { continue };
            let Some(previous) = old.realms().iter().find(|r| r.name == realm.name) else { continue };
            let Some(previous) = &previous.client_secret else { continue };
            let previous = previous.state.load();
            let current = new.state.load();
            let prior = if bool::from(previous.current.ct_eq(&current.current)) {
                // Unchanged: keep what grace the old one still had.
                previous.prior
            } else {
                Some((previous.current, now_ms.saturating_add(new.grace_ms)))
            };
            new.state.store(Arc::new(Secrets { current: current.current, prior }));
        }
    }

    /// Authenticates a request by its headers (names are case-insensitive)
    /// at the time `now`: the first realm that accepts the bearer token wins.
    pub fn authenticate<'h>(
        &self,
        headers: impl IntoIterator<Item = (&'h str, &'h str)>,
        now: SystemTime,
    ) -> Result<Arc<AuthenticatedUser>, Rejection> {
        let mut bearer = None;
        let mut client = None;
        for (name, value) in headers {
            if bearer.is_none() && name.eq_ignore_ascii_case("authorization") {
                bearer = Some(value);
            } else if client.is_none() && name.eq_ignore_ascii_case("es-client-authentication") {
                client = Some(value);
            }
        }
        // The scheme `Bearer ` is case-sensitive; the value is trimmed.
        let Some(bearer) = bearer.and_then(|v| v.strip_prefix("Bearer ")).map(java_trim) else {
            return Err(Rejection::new(None, Stage::NotHandled, "no `Authorization: Bearer` header"));
        };
        // With a cache, a token seen before is known to parse and may need
        // no parsing at all; otherwise it is parsed first, so that an
        // unreadable token is refused before anything else, as before.
        let realms = self.realms();
        let key = realms.iter().any(|r| r.cache.is_some()).then(|| cache::key(bearer));
        let seen = key.is_some_and(|k| realms.iter().any(|r| r.cache.as_ref().is_some_and(|c| c.contains(&k))));
        let parse = || {
            Token::parse(bearer).map_err(|e| Rejection::new(None, Stage::NotHandled, format!("not a signed JWT: {e}")))
        };
        let mut token = if seen { None } else { Some(parse()?) };
        // The scheme `SharedSecret ` is case-insensitive; a present but empty
        // secret fails the whole request.
        let client_secret = match client {
            Some(value)
                if value.len() >= 13
                    && value.is_char_boundary(13)
                    && value[..13].eq_ignore_ascii_case("SharedSecret ") =>
            {
                let secret = java_trim(&value[13..]);
                if secret.is_empty() {
                    return Err(Rejection::new(None, Stage::Request, "client shared secret must be non-empty"));
                }
                Some(secret)
            }
            _ => None,
        };
        let now_ms = millis_of(now);
        let mut rejections: Vec<Rejection> = Vec::new();
        for (i, realm) in realms.iter().enumerate() {
            // Client authentication comes before the cache: the secret is
            // not part of the key.
            if let Err(rejection) = realm.check_client(client_secret, now_ms) {
                rejections.push(rejection);
                continue;
            }
            if let (Some(cache), Some(key)) = (&realm.cache, &key)
                && let Some(user) = cache.get(key, now_ms, realm.tag(&self.program))
            {
                return Ok(user);
            }
            if token.is_none() {
                token = Some(parse()?);
            }
            let last = i + 1 == realms.len();
            match realm.authenticate(&mut token, last, key.as_ref(), now, now_ms, &self.program) {
                Outcome::Success(user) => return Ok(user),
                Outcome::Rejected(rejection) => rejections.push(rejection),
            }
        }
        let mut rejections = rejections.into_iter();
        match rejections.next() {
            Some(mut first) => {
                first.others = rejections.collect();
                Err(first)
            }
            None => Err(Rejection::new(None, Stage::NotHandled, "no JWT realm is configured")),
        }
    }
}
