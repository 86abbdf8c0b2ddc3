//! Reader credentials: the Password and PIN policies, the guessing policy, the limits on
//! "forgot Password", and the authentication use cases (login, PIN login, change Password,
//! change PIN, confirming the Password before an email change, forgot Password, staff
//! reset) over ports.
//!
//! Where each rule comes from: the library's rules (docs/policy.md: Password ≥ 8 with
//! upper, lower and digit; PIN digits only, ≥ 4; both default to the last 4 phone digits),
//! and the public standards of docs/credentials.md (NIST SP 800-63B, OWASP ASVS) for the
//! rest.
//!
//! Invariants:
//! - No async runtime, no database, no HTTP: `cargo tree -p library-credentials -e normal`
//!   has no tokio, sea-orm, sqlx or poem. The ports are async traits; adapters run them.
//! - Secrets are held in [`Secret`] (zeroised, never printed) and stored only as hashes;
//!   session tokens only as SHA-256.
//! - A Password is NFKC-normalised at set and at verify; a PIN never is.
//! - An attempt at a secret is counted before its hash is computed; a refused attempt
//!   computes no hash. Unknown cards are counted and hashed like known ones.
//!
//! # Example: a first login with the fakes
//!
//! A reader registered with phone 9123 4567 logs in with the default Password (the last
//! four digits), gets a session that may only change the Password, changes it, and gets a
//! full session; a wrong Password is refused with the one answer every failed login gets.
//! An embedder supplies its own adapters for the ports (a database, Argon2, a mailer); the
//! fakes of feature `testing` keep everything in memory.
//!
//! ```
//! use std::sync::Arc;
//!
//! use library_core::{CardNumber, ManualClock, PatronId};
//! use library_credentials::testing::{
//!     CountingHasher, InMemoryCredentialStore, InMemorySessionStore, InMemoryStaffStore,
//!     RecordingNotifier, SeededRandom,
//! };
//! use library_credentials::{
//!     AttemptSource, CredentialConfig, NoSecurityEvents, CredentialPorts, CredentialService, LoginError,
//!     PersonalInfo, Scope, Secret, SecretHash, StoredCredentials,
//! };
//! use time::macros::datetime;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # pollster::block_on(async {
//! let store = Arc::new(InMemoryCredentialStore::new());
//! let service = CredentialService::new(
//!     CredentialPorts {
//!         store: store.clone(),
//!         sessions: Arc::new(InMemorySessionStore::new()),
//!         staff: Arc::new(InMemoryStaffStore::new()),
//!         hasher: Arc::new(CountingHasher::new()),
//!         notifier: Arc::new(RecordingNotifier::new()),
//!         random: Arc::new(SeededRandom::new(7)),
//!         clock: Arc::new(ManualClock::new(datetime!(2021-03-05 09:00 +08:00))),
//!         events: Arc::new(NoSecurityEvents),
//!     },
//!     CredentialConfig::default(),
//! );
//! let card = "21000012345678";
//! store.insert(StoredCredentials {
//!     patron: PatronId(1),
//!     info: PersonalInfo {
//!         card_number: CardNumber::parse(card)?,
//!         name: "Chan Tai Man".into(),
//!         phone: "9123 4567".into(),
//!         email: None,
//!         date_of_birth: None,
//!     },
//!     password_hash: SecretHash(String::new()),
//!     password_is_default: true,
//!     pin_hash: SecretHash(String::new()),
//!     temporary: None,
//!     epoch: 0,
//! });
//! service.set_default_credentials(PatronId(1), "9123 4567").await?;
//! let counter = AttemptSource("ip:203.0.113.7".into());
//!
//! let wrong = service.login(card, &Secret::new("1234"), &counter).await;
//! assert!(matches!(wrong, Err(LoginError::InvalidCredentials)));
//!
//! let first = service.login(card, &Secret::new("4567"), &counter).await?;
//! assert_eq!(first.scope, Scope::ChangePasswordOnly);
//! let session = service.authenticate(first.token.expose()).await?;
//! let full = service
//!     .change_password(&session, &Secret::new("4567"), &Secret::new("Reading-Room-42"), &counter)
//!     .await?;
//! assert_eq!(full.scope, Scope::Full);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })
//! # }
//! ```

mod blocklist;
mod events;
mod guessing;
mod password;
mod personal;
mod pin;
mod ports;
mod reset_limits;
mod secret;
mod service;
mod session;
mod station;
mod temporary;

#[cfg(feature = "argon2")]
mod argon2_hasher;
#[cfg(feature = "os-random")]
mod os_random;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use blocklist::{common_password_count, is_common_password};
pub use events::{NoSecurityEvents, SecurityEvent, SecurityEvents};
pub use guessing::{
    AttemptDecision, AttemptState, Backoff, CredentialKind, GuessState, GuessingPolicy, PairState,
    Reservation, Reserved, SourceState, Tripped,
};
pub use password::{
    CONTEXT_WORDS, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, PasswordViolation, check_new_password,
    check_new_staff_password, is_forbidden_char,
};
pub use personal::{PersonalInfo, PhoneTooShort, default_secret};
pub use pin::{PIN_MAX_DIGITS, PIN_MIN_DIGITS, PinViolation, check_new_pin, is_well_formed_pin};
pub use ports::{
    AttemptKey, AttemptSource, CredentialNotice, CredentialStore, Notifier, PortError,
    RandomSource, ResetCounter, SecretHash, SecretHasher, SessionStore, StaffCredentialStore,
    StaffRole, StoredCredentials, StoredStaff, StoredTemporaryPassword,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{
    MockCredentialStore, MockNotifier, MockRandomSource, MockSecretHasher, MockSessionStore,
    MockStaffCredentialStore,
};
pub use reset_limits::{RequestLimit, RequestWindow, ResetPolicy};
pub use secret::{MAX_SECRET_INPUT_BYTES, Secret};
pub use service::{
    AuthError, ChangePasswordError, ChangePinError, CredentialConfig, CredentialPorts,
    CredentialService, LoginError, MAX_STAFF_USERNAME_LEN, RegisterCredentialsError,
    RemainingResets, StaffPasswordError, StaffResetError, StationPasswordError,
    TemporaryPasswordIssued, VerifyPasswordError, is_valid_staff_username,
};
pub use session::{IssuedSession, Scope, Session, SessionPolicy, SessionToken, Subject, TokenHash};
pub use station::{
    AddressRange, STATION_MAX_ALLOWED_ADDRESSES, STATION_PASSWORD_MAX_CHARS,
    STATION_PASSWORD_MIN_CHARS, STATION_USERNAME_MAX_LEN, StationSettings, StationUsername,
    StationViolation, check_station_password,
};
pub use temporary::{
    TEMPORARY_PASSWORD_LEN, TEMPORARY_PASSWORD_MAX_FAILURES, generate_temporary_password,
};

#[cfg(feature = "argon2")]
pub use argon2_hasher::{Argon2Hasher, Argon2Limits};
#[cfg(feature = "os-random")]
pub use os_random::OsRandom;
