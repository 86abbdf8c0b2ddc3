//! The reader authentication use cases, written once over the ports and used by every
//! channel (web and app with the Password; telephone, terminals and SIP2 with the PIN; the
//! counter for resets).
//!
//! Every attempt at a secret goes through [`CredentialService::guarded_verify`]: the
//! source's window, the (account, kind, source) pair and the account-wide counter are
//! reserved first, so a throttled or disabled attempt is refused before any hash is
//! computed and is not counted; an unknown
//! card is verified against a dummy hash and counted exactly like a known one, so neither
//! the answer nor its timing says whether a card exists.

mod change;
mod login;
mod pin_lock;
mod reset;
mod staff;
mod station;

use std::sync::Arc;

use library_core::{Clock, PatronId};
use time::{Duration, OffsetDateTime};

use crate::events::{SecurityEvent, SecurityEvents};
use crate::guessing::{AttemptDecision, CredentialKind, GuessingPolicy, Tripped};
use crate::ports::{
    AttemptKey, AttemptSource, CredentialNotice, CredentialStore, Notifier, PortError,
    RandomSource, SecretHash, SecretHasher, SessionStore, StaffCredentialStore, StoredCredentials,
};
use crate::reset_limits::ResetPolicy;
use crate::secret::Secret;
use crate::session::{IssuedSession, Scope, Session, SessionPolicy, SessionToken, Subject};

pub use change::{ChangePasswordError, ChangePinError, VerifyPasswordError};
pub use login::{AuthError, LoginError};
pub use reset::{
    RegisterCredentialsError, RemainingResets, StaffResetError, TemporaryPasswordIssued,
};
pub use staff::{MAX_STAFF_USERNAME_LEN, StaffPasswordError, is_valid_staff_username};
pub use station::StationPasswordError;

/// The numbers of the credential domain. [`CredentialConfig::default`] is the product's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialConfig {
    /// Throttling and lock-out.
    pub guessing: GuessingPolicy,
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// How long a temporary password works (NIST rev 4 §4.2: at most 24 h by email).
    pub temporary_password_ttl: Duration,
    /// How many "forgot Password" requests are served, per account and per source.
    pub resets: ResetPolicy,
}

impl Default for CredentialConfig {
    fn default() -> Self {
        Self {
            guessing: GuessingPolicy::default(),
            sessions: SessionPolicy::default(),
            temporary_password_ttl: Duration::hours(24),
            resets: ResetPolicy::default(),
        }
    }
}

/// The ports the service runs on.
#[derive(Clone)]
pub struct CredentialPorts {
    /// Credentials and counters.
    pub store: Arc<dyn CredentialStore>,
    /// Sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// Hashing (bounded, off the async runtime).
    pub hasher: Arc<dyn SecretHasher>,
    /// Staff users (staff login).
    pub staff: Arc<dyn StaffCredentialStore>,
    /// Mail/SMS.
    pub notifier: Arc<dyn Notifier>,
    /// Randomness for tokens and temporary passwords.
    pub random: Arc<dyn RandomSource>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Where security events go (throttles, PIN locks, failed station logins).
    pub events: Arc<dyn SecurityEvents>,
}

impl std::fmt::Debug for CredentialPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialPorts")
    }
}

/// The credential application service. Cheap to clone (ports are shared).
#[derive(Debug, Clone)]
pub struct CredentialService {
    ports: CredentialPorts,
    config: CredentialConfig,
}

/// What a guarded verification found.
#[derive(Debug)]
pub(crate) enum Guarded<T> {
    /// The secret matched; the counters were cleared.
    Verified(T),
    /// No match (or no such card); counted as a failure.
    Failed,
    /// Refused before hashing.
    Throttled { retry_after: Duration },
    /// The PIN is disabled.
    Disabled,
}

impl CredentialService {
    /// A service over `ports` with `config`.
    pub fn new(ports: CredentialPorts, config: CredentialConfig) -> Self {
        Self { ports, config }
    }

    /// The configuration in force.
    pub fn config(&self) -> &CredentialConfig {
        &self.config
    }

    /// Where security events go: the SIP2 server records its own there too.
    pub fn events(&self) -> &Arc<dyn SecurityEvents> {
        &self.ports.events
    }

    /// Records a security event.
    pub(crate) fn record(&self, event: SecurityEvent) {
        self.ports.events.record(event);
    }

    fn now(&self) -> OffsetDateTime {
        self.ports.clock.now()
    }

    /// Reserves an attempt from `source` on `(key, kind)` (the source's window, the pair
    /// and the account-wide counter), runs `verify` only if granted, and settles the
    /// counters on the outcome: a success clears them; a failure stays counted and
    /// records what it set off; an error of `verify` (nothing was verified, e.g. the
    /// hasher's queue is full) gives every reservation back before it is answered.
    pub(crate) async fn guarded_verify<T, F, Fut>(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        source: &AttemptSource,
        verify: F,
    ) -> Result<Guarded<T>, PortError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>, PortError>>,
    {
        let policy = &self.config.guessing;
        let store = &self.ports.store;
        let now = self.now();
        let reservation = store.reserve_guess(source, key, kind, now, policy).await?;
        match reservation.decision {
            AttemptDecision::Granted => {}
            AttemptDecision::Throttled { until } => {
                return Ok(Guarded::Throttled {
                    retry_after: until - now,
                });
            }
            AttemptDecision::Disabled => return Ok(Guarded::Disabled),
        }
        let verified = match verify().await {
            Ok(verified) => verified,
            Err(err) => {
                // Not a failed guess: nothing was verified. The caller hears the error
                // (503 for a busy hasher) and no counter keeps the attempt.
                store
                    .give_back(key, kind, source, self.now(), policy)
                    .await?;
                return Err(err);
            }
        };
        match verified {
            Some(found) => {
                store
                    .settle_success(key, kind, source, self.now(), policy)
                    .await?;
                Ok(Guarded::Verified(found))
            }
            None => {
                self.record_tripped(key, kind, source, reservation.tripped);
                Ok(Guarded::Failed)
            }
        }
    }

    /// Records the limits a failed attempt started or lengthened (once per failure that
    /// trips them, never per refused request).
    fn record_tripped(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        source: &AttemptSource,
        tripped: Tripped,
    ) {
        let account = || key.as_str().to_owned();
        if let Some(until) = tripped.source_limited_until {
            self.record(SecurityEvent::SourceLimited {
                source: source.0.clone(),
                until,
            });
        }
        if let Some(until) = tripped.pair_delayed_until {
            self.record(SecurityEvent::PairDelayed {
                account: account(),
                kind,
                source: source.0.clone(),
                until,
            });
        }
        if let Some(until) = tripped.account_delayed_until {
            self.record(SecurityEvent::AccountDelayed {
                account: account(),
                kind,
                until,
            });
        }
        if tripped.pin_disabled {
            self.record(SecurityEvent::PinDisabled { account: account() });
        }
    }

    /// Issues and stores a new session for a reader.
    pub(crate) async fn issue_session(
        &self,
        patron: PatronId,
        scope: Scope,
    ) -> Result<IssuedSession, PortError> {
        self.issue_session_for(Subject::Patron(patron), scope).await
    }

    /// Issues a reader's session only if the credential epoch is still `epoch` (read with
    /// the credentials before the secret was verified): `None` when a Password change or
    /// reset came in between, so a login racing a change never outlives it.
    pub(crate) async fn issue_session_at(
        &self,
        patron: PatronId,
        scope: Scope,
        epoch: u64,
    ) -> Result<Option<IssuedSession>, PortError> {
        let (session, issued) = self.new_session(Subject::Patron(patron), scope);
        let created = self
            .ports
            .sessions
            .create_if_current(&session, patron, epoch, Arc::clone(&self.ports.store))
            .await?;
        Ok(created.then_some(issued))
    }

    /// Counts a wrong Password attempt against the reader's pending temporary password, if
    /// any ([`crate::TEMPORARY_PASSWORD_MAX_FAILURES`] end it).
    pub(crate) async fn count_temporary_failure(
        &self,
        creds: &StoredCredentials,
        now: OffsetDateTime,
    ) -> Result<(), PortError> {
        match creds.temporary.as_ref().filter(|t| t.is_pending(now)) {
            Some(t) => {
                self.ports
                    .store
                    .count_temporary_failure(creds.patron, &t.hash)
                    .await
            }
            None => Ok(()),
        }
    }

    fn new_session(&self, subject: Subject, scope: Scope) -> (Session, IssuedSession) {
        let now = self.now();
        let token = SessionToken::generate(self.ports.random.as_ref());
        let expires_at = now + self.config.sessions.lifetime(scope);
        let session = Session {
            token_hash: token.hash(),
            subject,
            scope,
            created_at: now,
            expires_at,
        };
        let issued = IssuedSession {
            token,
            scope,
            expires_at,
        };
        (session, issued)
    }

    /// Issues and stores a new session.
    pub(crate) async fn issue_session_for(
        &self,
        subject: Subject,
        scope: Scope,
    ) -> Result<IssuedSession, PortError> {
        let (session, issued) = self.new_session(subject, scope);
        self.ports.sessions.create(&session).await?;
        Ok(issued)
    }

    /// Stores a new PIN, lifts the PIN lock, revokes the reader's `pin` sessions and tells
    /// the reader: what every PIN change and reset does.
    pub(crate) async fn replace_pin(
        &self,
        creds: &StoredCredentials,
        new_pin: &Secret,
    ) -> Result<(), PortError> {
        let hash = self.hash(new_pin).await?;
        self.ports.store.set_pin(creds.patron, &hash).await?;
        self.ports
            .store
            .clear_attempts(
                &AttemptKey::card(&creds.info.card_number),
                CredentialKind::Pin,
            )
            .await?;
        self.ports
            .sessions
            .revoke_patron_sessions(creds.patron, Some(Scope::Pin))
            .await?;
        self.ports
            .notifier
            .notify(CredentialNotice::PinChanged {
                patron: creds.patron,
            })
            .await
    }

    /// Hashes `secret` with the configured hasher.
    pub(crate) async fn hash(&self, secret: &Secret) -> Result<SecretHash, PortError> {
        self.ports.hasher.hash(secret).await
    }
}
