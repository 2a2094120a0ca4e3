//! The engine a service embeds: one configuration in force, replaced as a
//! whole while requests flow.

use crate::jwt::settings::RealmSettings;
use crate::jwt::{AuthenticatedUser, ConfigError, Realms, Rejection};
use crate::{Errors, Options, Program, RuleSet, Syntax};
use arc_swap::ArcSwap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

/// The realms and role mappings in force, behind one atomic pointer.
///
/// Every request reads the configuration once and finishes on it, so a
/// request sees the old realms and mappings or the new ones, never a mix.
/// Changes build the new configuration off to the side and swap it in; one
/// that cannot be built is refused and the running one stays. Reading costs
/// no lock (`arc-swap`), so threads authenticating at once do not contend.
///
/// Public keys and client secrets are the exception, as in Elasticsearch:
/// they belong to the realms and change in place
/// ([`reload_jwk_sets`](Self::reload_jwk_sets), the reloads after a
/// signature failure or in the background,
/// [`reload_secure_settings`](Self::reload_secure_settings)), so every
/// holder of the realms, old configurations included, sees them at once.
///
/// ```
/// use rolemap::{Engine, Options, Program, Syntax};
/// use rolemap::jwt::{Realms, settings};
/// use std::sync::Arc;
/// use std::time::SystemTime;
///
/// let dir = std::path::Path::new("examples/jwt");
/// let settings = settings::parse_yaml(
///     &std::fs::read_to_string(dir.join("realms.yml"))?,
///     Some(&std::fs::read_to_string(dir.join("secrets.yml"))?),
///     dir,
/// )?;
/// let program = Arc::new(Program::from_json(&std::fs::read_to_string(dir.join("mappings.json"))?)?);
/// let engine = Engine::new(Realms::new(&settings.realms, program)?);
///
/// let bearer = format!("Bearer {}", std::fs::read_to_string(dir.join("jwt1.token"))?.trim());
/// let headers = [
///     ("Authorization", bearer.as_str()),
///     ("ES-Client-Authentication", "SharedSecret client-shared-secret-string"),
/// ];
/// let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600);
/// assert_eq!(engine.authenticate(headers, now)?.roles, ["superuser"]);
///
/// // New mappings take effect for the next request; the token cache is emptied.
/// let mappings = r#"mapping "admins" { roles: "admin" rules: groups == "elasticadmins" }"#;
/// engine.reload_mappings(mappings, "mappings", Syntax::Text, &Options::default())?;
/// assert_eq!(engine.authenticate(headers, now)?.roles, ["admin"]);
///
/// // Mappings that do not compile are refused; the running ones stay.
/// assert!(engine.reload_mappings("{", "broken", Syntax::Json, &Options::default()).is_err());
/// assert_eq!(engine.authenticate(headers, now)?.roles, ["admin"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Engine {
    current: ArcSwap<Realms>,
    /// Changes read the configuration in force and write a new one; one at a
    /// time, so that none is lost.
    writer: Mutex<()>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine").field("current", &self.current.load()).finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine running `realms`.
    pub fn new(realms: Realms) -> Engine {
        Engine { current: ArcSwap::from_pointee(realms), writer: Mutex::new(()) }
    }

    /// The configuration in force now. A caller that needs several answers
    /// from one configuration holds on to it.
    pub fn current(&self) -> Arc<Realms> {
        self.current.load_full()
    }

    /// Authenticates a request with the configuration in force
    /// ([`Realms::authenticate`]).
    pub fn authenticate<'h>(
        &self,
        headers: impl IntoIterator<Item = (&'h str, &'h str)>,
        now: SystemTime,
    ) -> Result<Arc<AuthenticatedUser>, Rejection> {
        // A guard, not an `Arc` clone: no shared counter bounces between the
        // threads. It is held for one request, even one that waits for a
        // key-set fetch, which arc-swap handles (writers never wait on it).
        self.current.load().authenticate(headers, now)
    }

    fn write(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Maps users with `program` from now on; realms, keys and secrets stay.
    /// The token caches are emptied (as Elasticsearch empties them when role
    /// mappings change).
    pub fn replace_program(&self, program: Arc<Program>) {
        let _writing = self.write();
        let next = self.current.load().with_program(program);
        self.current.store(Arc::new(next));
    }

    /// Reads and compiles a mapping document, then maps users with it from
    /// now on. On any error nothing changes.
    pub fn reload_mappings(&self, text: &str, name: &str, syntax: Syntax, options: &Options) -> Result<(), Errors> {
        let rules = RuleSet::from_source(text, name, syntax, options)?;
        let program = Program::compile(&rules)?;
        self.replace_program(Arc::new(program));
        Ok(())
    }

    /// Builds the realms of `settings` (reading or fetching their keys) and
    /// runs them from now on with the role mappings in force. A realm that
    /// keeps its name keeps accepting the client secret it accepted until
    /// now for its `rotation_grace_period`, if the secret changed. On any
    /// error nothing changes.
    pub fn replace_realms(&self, settings: &[RealmSettings], now: SystemTime) -> Result<(), ConfigError> {
        let _writing = self.write();
        let old = self.current.load_full();
        let next = Realms::new_at(settings, Arc::clone(old.program()), now)?;
        next.carry_secrets_from(&old, now);
        self.current.store(Arc::new(next));
        Ok(())
    }

    /// Replaces realms and role mappings in one step.
    pub fn replace(
        &self,
        settings: &[RealmSettings],
        program: Arc<Program>,
        now: SystemTime,
    ) -> Result<(), ConfigError> {
        let _writing = self.write();
        let old = self.current.load_full();
        let next = Realms::new_at(settings, program, now)?;
        next.carry_secrets_from(&old, now);
        self.current.store(Arc::new(next));
        Ok(())
    }

    /// Rotates client secrets ([`Realms::reload_secure_settings`]).
    pub fn reload_secure_settings(&self, settings: &[RealmSettings], now: SystemTime) -> Result<(), ConfigError> {
        let _writing = self.write();
        self.current.load().reload_secure_settings(settings, now)
    }

    /// Reads every realm's public-key set again now
    /// ([`Realms::reload_jwk_sets`]); returns the realms whose keys changed.
    pub fn reload_jwk_sets(&self, now: SystemTime) -> Vec<String> {
        self.current.load().reload_jwk_sets(now).into_iter().map(str::to_owned).collect()
    }
}
