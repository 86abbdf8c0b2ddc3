//! The ports of the credential domain: what the application service needs from the
//! outside world, named by role and speaking domain types only. Adapters implement them
//! (the persistence crate the stores, the server a hasher on its own threads, a mail outbox the
//! notifier); tests use the in-memory fakes of [`crate::testing`] or mockall mocks.

use std::sync::Arc;

use async_trait::async_trait;
use library_core::{CardNumber, PatronId, StaffId};
use time::OffsetDateTime;

use crate::guessing::{AttemptDecision, AttemptState, CredentialKind, GuessingPolicy, Reservation};
use crate::personal::PersonalInfo;
use crate::reset_limits::RequestLimit;
use crate::secret::Secret;
use crate::session::{Scope, Session, TokenHash};

/// An infrastructure failure behind a port. Opaque to the domain; adapters log the cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// Too much work queued (e.g. every hashing slot busy): try again shortly (HTTP 503).
    #[error("overloaded, try again shortly")]
    Overloaded,
    /// A dependency cannot serve now (the database unreachable, busy past its timeout,
    /// out of space): try again shortly (HTTP 503).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else (a constraint broken, a corrupt value, ...).
    #[error("{0}")]
    Failed(String),
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(pub String);

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(…)")
    }
}

/// A temporary password as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTemporaryPassword {
    /// Its hash.
    pub hash: SecretHash,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// When it was used to log in (it works for one login only).
    pub used_at: Option<OffsetDateTime>,
    /// Wrong Password attempts on the account since it was issued; at
    /// [`crate::TEMPORARY_PASSWORD_MAX_FAILURES`] it no longer opens the account.
    pub failures: u32,
}

/// Everything the credential service needs to know about one reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredentials {
    /// The reader.
    pub patron: PatronId,
    /// Card, name, phone, email, birthday: the context of the policies.
    pub info: PersonalInfo,
    /// The Password hash. A reader whose credentials were never set has an empty hash,
    /// which never verifies.
    pub password_hash: SecretHash,
    /// `true` while the Password is still the default (last 4 phone digits).
    pub password_is_default: bool,
    /// The PIN hash.
    pub pin_hash: SecretHash,
    /// An outstanding temporary password.
    pub temporary: Option<StoredTemporaryPassword>,
    /// Bumped in the same write as every Password or PIN change and every staff reset: a
    /// session opened with credentials read at one epoch is created only while the epoch
    /// is unchanged ([`SessionStore::create_if_current`]).
    pub epoch: u64,
}

/// What an attempt counter is kept for: a card number (known or not), a staff username or
/// a SIP2 station. Card numbers are `[A-Z0-9]` only, so the `staff:` and `station:`
/// prefixes can never collide with one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttemptKey(String);

impl AttemptKey {
    /// Longest key: `staff:` and a 64-character username.
    pub const MAX_LEN: usize = 70;

    /// The counter of a card number.
    pub fn card(card: &CardNumber) -> Self {
        Self(card.as_str().to_owned())
    }

    /// The counter of a staff username (case-insensitive).
    pub fn staff(username: &str) -> Self {
        Self(format!("staff:{}", username.to_lowercase()))
    }

    /// The counter of a SIP2 station's logins.
    pub fn station(username: &crate::station::StationUsername) -> Self {
        Self(format!("station:{username}"))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where an attempt comes from, for the per-source limit: `ip:203.0.113.7`,
/// `terminal:SC01`, `phone:+85291234567`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttemptSource(pub String);

/// What a "forgot Password" window is kept for: one reader's account (temporary passwords
/// issued) or one source (requests made). The `account:` and `source:` prefixes keep the
/// two apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResetCounter(String);

impl ResetCounter {
    /// The window of the temporary passwords issued to a reader.
    pub fn account(patron: PatronId) -> Self {
        Self(format!("account:{}", patron.get()))
    }

    /// The window of the requests made from a source.
    pub fn source(source: &AttemptSource) -> Self {
        Self(format!("source:{}", source.0))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Credentials and guessing counters.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// The reader with this card. `Ok(None)` for an unknown card.
    async fn find_by_card(&self, card: &CardNumber)
    -> Result<Option<StoredCredentials>, PortError>;

    /// The reader with this id. `Ok(None)` if there is none.
    async fn find_by_patron(
        &self,
        patron: PatronId,
    ) -> Result<Option<StoredCredentials>, PortError>;

    /// Every reader registered with this email (compared case-insensitively).
    async fn find_by_email(&self, email: &str) -> Result<Vec<StoredCredentials>, PortError>;

    /// Reserves an attempt from `source` on `(key, kind)`, whether or not the card or
    /// user exists: atomically applies [`GuessingPolicy::reserve`] to the source's window,
    /// the (key, kind, source) pair and the account-wide (key, kind) counter (one
    /// transaction, or one conditional statement), counting the attempt in all three when
    /// granted and in none when refused. Concurrent attempts can never pass a cap together
    /// and no count is lost.
    async fn reserve_guess(
        &self,
        source: &AttemptSource,
        key: &AttemptKey,
        kind: CredentialKind,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<Reservation, PortError>;

    /// After a verified attempt: clears the pair and marks its source known from `now`
    /// ([`GuessingPolicy::pair_after_success`]), clears the account-wide counter, and gives
    /// the source reservation back ([`GuessingPolicy::release_source`]).
    async fn settle_success(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        source: &AttemptSource,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<(), PortError>;

    /// After a granted attempt that verified nothing (the hasher could not run): gives
    /// every reservation back ([`GuessingPolicy::release_pair`],
    /// [`GuessingPolicy::release_account`], [`GuessingPolicy::release_source`]).
    async fn give_back(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        source: &AttemptSource,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<(), PortError>;

    /// Clears the account-wide (key, kind) counter and the failures and delays of all its
    /// pairs, keeping which sources are known (a PIN change or reset, a lifted PIN lock).
    async fn clear_attempts(&self, key: &AttemptKey, kind: CredentialKind)
    -> Result<(), PortError>;

    /// The account-wide (key, kind) counter as stored (the default when there is none).
    async fn account_attempts(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
    ) -> Result<AttemptState, PortError>;

    /// Atomically applies [`RequestLimit::reserve`] to the "forgot Password" window of
    /// `counter` (one conditional update): concurrent
    /// requests can never pass the limit together. `Granted` means the request was counted.
    async fn reserve_reset_request(
        &self,
        counter: &ResetCounter,
        now: OffsetDateTime,
        limit: &RequestLimit,
    ) -> Result<AttemptDecision, PortError>;

    /// Stores a new Password hash and bumps the epoch, in one write.
    async fn set_password(
        &self,
        patron: PatronId,
        hash: &SecretHash,
        is_default: bool,
    ) -> Result<(), PortError>;

    /// Stores a new PIN hash and bumps the epoch, in one write.
    async fn set_pin(&self, patron: PatronId, hash: &SecretHash) -> Result<(), PortError>;

    /// Stores a temporary password, replacing any earlier one (unused, no failures). The
    /// Password and the epoch are left as they are: "forgot Password" ends nothing.
    async fn put_temporary_password(
        &self,
        patron: PatronId,
        hash: &SecretHash,
        expires_at: OffsetDateTime,
    ) -> Result<(), PortError>;

    /// A staff reset, in one write: the Password is ended (no hash, so nothing but the
    /// temporary password opens the account), the temporary password stored as
    /// [`Self::put_temporary_password`] does, and the epoch bumped.
    async fn reset_password(
        &self,
        patron: PatronId,
        temporary: &SecretHash,
        expires_at: OffsetDateTime,
    ) -> Result<(), PortError>;

    /// Marks the temporary password `hash` used, atomically: `true` for exactly one caller,
    /// and only while it is still the reader's, unused, unexpired at `now` and has fewer
    /// than `max_failures` failures.
    async fn use_temporary_password(
        &self,
        patron: PatronId,
        hash: &SecretHash,
        now: OffsetDateTime,
        max_failures: u32,
    ) -> Result<bool, PortError>;

    /// Counts a wrong Password attempt against the temporary password `hash`, atomically,
    /// if it is still the reader's and unused (no-op otherwise).
    async fn count_temporary_failure(
        &self,
        patron: PatronId,
        hash: &SecretHash,
    ) -> Result<(), PortError>;

    /// Removes any temporary password.
    async fn clear_temporary_password(&self, patron: PatronId) -> Result<(), PortError>;
}

/// A staff member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffRole {
    /// Counter staff: readers, circulation, payments, resets.
    Librarian,
    /// Administrators: also policies, calendars, closures, fine suspensions, stations.
    Admin,
}

impl StaffRole {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            StaffRole::Librarian => "librarian",
            StaffRole::Admin => "admin",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [StaffRole::Librarian, StaffRole::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// A staff user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStaff {
    /// The user.
    pub id: StaffId,
    /// The login name.
    pub username: String,
    /// The Password hash.
    pub password_hash: SecretHash,
    /// What the user may do.
    pub role: StaffRole,
    /// A librarian granted `override`: may check out or renew past the refusals staff may
    /// step over (an administrator always may).
    pub may_override: bool,
}

/// Staff users, for staff login.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StaffCredentialStore: Send + Sync {
    /// The staff user with this username (compared case-insensitively). `Ok(None)` if none.
    async fn find_staff_by_username(
        &self,
        username: &str,
    ) -> Result<Option<StoredStaff>, PortError>;

    /// The staff user with this id. `Ok(None)` if none.
    async fn find_staff(&self, id: StaffId) -> Result<Option<StoredStaff>, PortError>;
}

/// Sessions.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session.
    async fn create(&self, session: &Session) -> Result<(), PortError>;

    /// Stores a new session of reader `patron` only if the reader's credential epoch is
    /// still `epoch` (read before the secret was verified): `false`, and no session, when a
    /// Password change or reset came in between. The default creates the session, then
    /// reads the epoch and revokes the session if it moved: correct against a change that
    /// bumps the epoch before revoking the reader's sessions, as every change does. A
    /// database overrides it with one conditional insert.
    async fn create_if_current(
        &self,
        session: &Session,
        patron: PatronId,
        epoch: u64,
        credentials: Arc<dyn CredentialStore>,
    ) -> Result<bool, PortError> {
        self.create(session).await?;
        let current = credentials.find_by_patron(patron).await?.map(|c| c.epoch);
        if current == Some(epoch) {
            Ok(true)
        } else {
            self.revoke(&session.token_hash).await?;
            Ok(false)
        }
    }

    /// The live (unrevoked) session with this token hash, expired or not.
    async fn find(&self, token_hash: &TokenHash) -> Result<Option<Session>, PortError>;

    /// The live session with this token hash, as [`SessionStore::find`], and for a staff
    /// session its staff user (`None` if that user is gone). The default asks `staff`
    /// after the session; a database overrides it with one query.
    async fn find_with_staff(
        &self,
        token_hash: &TokenHash,
        staff: Arc<dyn StaffCredentialStore>,
    ) -> Result<Option<(Session, Option<StoredStaff>)>, PortError> {
        let Some(session) = self.find(token_hash).await? else {
            return Ok(None);
        };
        let user = match session.subject {
            crate::session::Subject::Staff(id) => staff.find_staff(id).await?,
            crate::session::Subject::Patron(_) => None,
        };
        Ok(Some((session, user)))
    }

    /// Revokes one session.
    async fn revoke(&self, token_hash: &TokenHash) -> Result<(), PortError>;

    /// Revokes a reader's sessions: every one, or only those of `scope`.
    async fn revoke_patron_sessions(
        &self,
        patron: PatronId,
        scope: Option<Scope>,
    ) -> Result<(), PortError>;
}

/// Computes and checks secret hashes. Implementations bound the work they run at once and
/// answer [`PortError::Overloaded`] rather than queueing without limit.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SecretHasher: Send + Sync {
    /// Hashes a secret into a PHC string with a fresh salt.
    async fn hash(&self, secret: &Secret) -> Result<SecretHash, PortError>;

    /// `true` when `secret` matches `hash`. With `hash = None` it verifies against a dummy
    /// hash of the same cost and answers `false`, so an unknown card takes as long as a
    /// known one. A malformed or out-of-bounds stored hash answers `false`.
    async fn verify<'a>(
        &self,
        secret: &Secret,
        hash: Option<&'a SecretHash>,
    ) -> Result<bool, PortError>;

    /// Hashes a secret with the salt and parameters of `companion` (when it is a hash this
    /// hasher accepts; otherwise with a fresh salt), so that [`Self::verify_any`] checks a
    /// secret against both with one computation. For a temporary password issued beside the
    /// reader's Password.
    async fn hash_alongside(
        &self,
        secret: &Secret,
        companion: &SecretHash,
    ) -> Result<SecretHash, PortError>;

    /// Which of `hashes` `secret` matches, at the cost of exactly one hash computation
    /// whatever `hashes` holds: the first acceptable hash's salt and parameters are used,
    /// and a hash with other ones (or malformed) never matches. With no acceptable hash
    /// (none given, none well-formed) it computes the dummy hash and answers `None`.
    async fn verify_any(
        &self,
        secret: &Secret,
        hashes: &[SecretHash],
    ) -> Result<Option<usize>, PortError>;
}

/// A message about a reader's credentials, for the mail/SMS port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialNotice {
    /// A temporary password after "forgot password": sent to the registered email.
    TemporaryPassword {
        /// The reader.
        patron: PatronId,
        /// Where to send it.
        email: String,
        /// The temporary password (the only place it ever appears in clear).
        password: Secret,
        /// When it expires.
        expires_at: OffsetDateTime,
    },
    /// Staff reset the Password at the counter (the temporary password was handed over).
    PasswordResetByStaff {
        /// The reader.
        patron: PatronId,
    },
    /// The Password was changed.
    PasswordChanged {
        /// The reader.
        patron: PatronId,
    },
    /// The PIN was changed or reset.
    PinChanged {
        /// The reader.
        patron: PatronId,
    },
}

/// Sends notices to readers.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Queues or sends a notice.
    async fn notify(&self, notice: CredentialNotice) -> Result<(), PortError>;
}

/// Cryptographically secure random bytes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait RandomSource: Send + Sync {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}
