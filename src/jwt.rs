//! The JWT stage: Elasticsearch's `jwt` realm.
//!
//! A bearer token goes through the realms of a [`Realms`] chain in `order`.
//! Each realm checks client authentication, then the header and claims in
//! Elasticsearch's order (`typ`, `iss`, `sub`, `aud`, `alg`, time claims,
//! required claims), then the signature, and turns the claims into a user
//! (principal, groups, dn, mail, name, `jwt_claim_*` metadata) whose roles
//! the compiled role mappings decide.
//!
//! The crate documentation shows the whole flow, from `elasticsearch.yml`
//! settings to an authenticated user with roles.

mod cache;
#[cfg(feature = "https")]
mod fetch;
mod java_regex;
mod jwks;
pub mod keys;
pub(crate) mod members;
mod realm;
pub mod settings;
mod token;

pub use cache::CacheStats;
pub use jwks::JwkSetStatus;
pub use members::Metadata;
pub use realm::{AuthenticatedUser, Realm, Realms, Rejection, Stage};
pub use token::{MAX_TOKEN_LEN, NotAToken, Token};

use crate::Program;
use jwks::PkcKeys;
use keys::{Algorithm, JwkSet};
use settings::RealmSettings;
use std::fmt;
use std::sync::Arc;

/// A realm that cannot be built: its keys cannot be read or its settings
/// do not hold together. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    realm: String,
    message: String,
}

impl ConfigError {
    /// The realm's name.
    pub fn realm(&self) -> &str {
        &self.realm
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "realm `{}`: {}", self.realm, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Realms {
    /// Builds the enabled realms of `settings` (reading their key files) and
    /// chains them in `order` with the role mappings of `program`.
    pub fn new(settings: &[RealmSettings], program: Arc<Program>) -> Result<Realms, ConfigError> {
        Realms::new_at(settings, program, std::time::SystemTime::now())
    }

    /// [`Realms::new`] at the time `now` (which only matters to the expiry
    /// of a fetched JWK set).
    pub fn new_at(
        settings: &[RealmSettings],
        program: Arc<Program>,
        now: std::time::SystemTime,
    ) -> Result<Realms, ConfigError> {
        let mut realms = Vec::new();
        let mut warnings = Vec::new();
        for s in settings.iter().filter(|s| s.enabled) {
            let error = |message: String| ConfigError { realm: s.name.clone(), message };
            let prefix = format!("xpack.security.authc.realms.jwt.{}", s.name);
            // Each key family is filtered by the algorithms of its own family.
            let (hmac_algs, pkc_algs): (Vec<Algorithm>, Vec<Algorithm>) =
                s.allowed_signature_algorithms.iter().partition(|a| a.is_hmac());
            let hmac_keys = match (&s.hmac_key, &s.hmac_jwkset) {
                (Some(key), _) => Some(JwkSet::from(vec![keys::hmac_key(key.expose())])),
                (None, Some(set)) => Some(
                    keys::parse_jwk_set(set.expose())
                        .map_err(|e| error(format!("JWKSet parse failed for setting `{prefix}.hmac_jwkset`: {e}")))?,
                ),
                (None, None) => None,
            };
            let hmac_keys = hmac_keys.map(|set| set.filter(&hmac_algs).into_keys());
            let pkc_keys = match &s.pkc_jwkset_path {
                None => None,
                Some(location) => Some(Arc::new(
                    PkcKeys::load(
                        format!("{prefix}.pkc_jwkset_path"),
                        location,
                        pkc_algs,
                        s.pkc_jwkset_reload.clone(),
                        s,
                        now,
                    )
                    .map_err(error)?,
                )),
            };
            if hmac_keys.as_ref().is_none_or(Vec::is_empty)
                && pkc_keys.as_ref().is_none_or(|k| k.snapshot().keys.is_empty())
            {
                // Current Elasticsearch only warns; every token then fails at the signature.
                warnings.push(format!(
                    "realm `{}`: no available JWK and algorithm for HMAC or PKC; authentication is expected to fail until this is fixed",
                    s.name
                ));
            }
            realms.push(Realm::new(s, hmac_keys, pkc_keys).map_err(error)?);
        }
        let first = realms.first().map(|r: &Realm| r.name().to_owned()).unwrap_or_default();
        Realms::from_parts(realms, program, warnings).map_err(|message| ConfigError { realm: first, message })
    }
}
