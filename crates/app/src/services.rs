//! [`Services`]: what every channel runs on (the credential service, the circulation
//! desk and the interfaces of [`crate::ports`]), and the interfaces no domain crate defines
//! (reader directory, readiness, scheduled jobs).

use std::sync::Arc;

use async_trait::async_trait;
use library_core::{CardNumber, Clock, ManualClock, PatronId};
use library_credentials::{CredentialService, PortError, RandomSource, StoredCredentials};
use time::{Date, OffsetDateTime};

use crate::ports::{
    Accounts, AuditRecord, AuditTrail, CatalogueAdmin, CirculationDesk, FineSuspensionAdmin,
    LibraryAdmin, RuleAdmin, Sip2Stations, StaffDirectory,
};
use crate::reader_services::ReaderServices;

/// A reader to register, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReader {
    /// The generated card number.
    pub card_number: CardNumber,
    /// Name as registered.
    pub name: String,
    /// Phone as typed (at least four digits).
    pub phone: String,
    /// Email, if any.
    pub email: Option<String>,
    /// Date of birth, if given.
    pub date_of_birth: Option<Date>,
    /// Reader category (`adult`, `child`, ...).
    pub category: String,
    /// Home library code.
    pub home_library: String,
    /// Last day the card is valid.
    pub card_expires_on: Date,
    /// When.
    pub registered_at: OffsetDateTime,
}

/// A reader's profile as `GET /me` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderProfile {
    /// Card number.
    pub card_number: CardNumber,
    /// Name.
    pub name: String,
    /// Email, if any.
    pub email: Option<String>,
    /// Category (absent for readers registered by other means).
    pub category: Option<String>,
    /// Home library code.
    pub home_library: Option<String>,
    /// Last day the card is valid.
    pub card_expires_on: Option<Date>,
    /// First day the reader may borrow again after a suspension.
    pub suspended_until: Option<Date>,
    /// The card is blocked by a self-service station (SIP2 `01`) until staff lift it.
    pub blocked: bool,
}

/// Why a reader could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum RegisterReaderError {
    /// The card number is already registered (the caller draws another).
    #[error("card number already registered")]
    CardNumberTaken,
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] PortError),
}

/// Readers: registration, the profile, and lifting a station's block. Implemented over the
/// database by `library-persistence`.
#[async_trait]
pub trait ReaderDirectory: Send + Sync {
    /// Registers a reader (no credentials yet) and returns the new id. `audit`, when given,
    /// makes the audit record of the new id, written in the registration's transaction.
    async fn register(
        &self,
        reader: &NewReader,
        audit: Option<&(dyn Fn(PatronId) -> AuditRecord + Send + Sync)>,
    ) -> Result<PatronId, RegisterReaderError>;

    /// The profile of a reader; `Ok(None)` if there is none.
    async fn profile(&self, patron: PatronId) -> Result<Option<ReaderProfile>, PortError>;

    /// The reader with this card; `Ok(None)` if there is none.
    async fn find_by_card(&self, card: &CardNumber) -> Result<Option<PatronId>, PortError>;

    /// Lifts the block on card `card`, with `audit` in the same transaction; `false` if no
    /// reader with this card is blocked (nothing is audited then).
    async fn unblock(&self, card: &CardNumber, audit: AuditRecord) -> Result<bool, PortError>;

    /// The reader with this card with their personal details and credentials, as the PIN
    /// and the station checks read them; `Ok(None)` if there is none.
    async fn credentials_by_card(
        &self,
        card: &CardNumber,
    ) -> Result<Option<StoredCredentials>, PortError>;

    /// Blocks reader `patron`'s card (a station's `01`) at `at` until staff lift it, with
    /// `audit` in the same transaction; `false` if there is no such reader.
    async fn block(
        &self,
        patron: PatronId,
        at: OffsetDateTime,
        reason: &str,
        audit: AuditRecord,
    ) -> Result<bool, PortError>;
}

/// Whether the server can serve: the database answers a read and accepts a write.
#[async_trait]
pub trait Readiness: Send + Sync {
    /// `Ok` when every dependency answers.
    async fn check(&self) -> Result<(), NotReady>;
}

/// What a readiness check found wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReadyReason {
    /// The database does not answer a read.
    DatabaseReadFailed,
    /// The database answers reads but does not accept a write (a full disk, a write lock
    /// held elsewhere, a read-only server).
    DatabaseWriteFailed,
}

impl NotReadyReason {
    /// The stable code in the 503's `reason`.
    pub fn code(self) -> &'static str {
        match self {
            Self::DatabaseReadFailed => "database_read_failed",
            Self::DatabaseWriteFailed => "database_write_failed",
        }
    }
}

/// A failed readiness check: why, and the cause for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady {
    /// Which check failed.
    pub reason: NotReadyReason,
    /// The dependency's own error, for the log.
    pub cause: String,
}

/// The scheduled jobs (hold expiry, the purge of stale guessing counters).
#[async_trait]
pub trait JobRunner: Send + Sync {
    /// Runs every scheduled job once, as of `now`.
    async fn run_all(&self, now: OffsetDateTime) -> Result<(), PortError>;
}

/// The development controls (`LIBRARY_DEV_CLOCK=1`): the settable clock every component
/// shares and the job trigger.
#[derive(Clone)]
pub struct DevControls {
    /// The clock behind every component's `Clock`.
    pub clock: Arc<ManualClock>,
    /// The scheduled jobs.
    pub jobs: Arc<dyn JobRunner>,
}

impl std::fmt::Debug for DevControls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevControls")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// Everything a channel needs: the application's services. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    /// Reader and staff authentication.
    pub credentials: CredentialService,
    /// Reader registration and profiles.
    pub readers: Arc<dyn ReaderDirectory>,
    /// Reader records at the counter: search, edit, card renewal, deactivation.
    pub records: Arc<dyn crate::readers::ReaderRecords>,
    /// The readiness probe.
    pub readiness: Arc<dyn Readiness>,
    /// Checkout, checkin, renewal, holds, reader accounts.
    pub circulation: Arc<dyn CirculationDesk>,
    /// Libraries and calendars.
    pub libraries: Arc<dyn LibraryAdmin>,
    /// Opening hours, sections, door services and reopenings.
    pub premises: crate::premises::Premises,
    /// Titles and items.
    pub catalogue: Arc<dyn CatalogueAdmin>,
    /// Circulation rules.
    pub rules: Arc<dyn RuleAdmin>,
    /// Fine-suspension periods.
    pub suspensions: Arc<dyn FineSuspensionAdmin>,
    /// Ledgers and circulation read models.
    pub accounts: Arc<dyn Accounts>,
    /// The audit log of staff actions, for the one change audited on its own (a Password
    /// reset at the counter); every other change writes its entry in its own transaction.
    pub audit: Arc<dyn AuditTrail>,
    /// SIP2 station accounts (and their open connections).
    pub sip2_stations: Arc<dyn Sip2Stations>,
    /// Staff users.
    pub staff: Arc<dyn StaffDirectory>,
    /// Activities, notices, settings, enquiries.
    pub reader_services: ReaderServices,
    /// Students' Study Room schemes, applications, ballots and cards.
    pub study_rooms: crate::study_rooms::StudyRooms,
    /// The reminders due and noted.
    pub reminders: Arc<dyn crate::notices::ReminderStore>,
    /// What readers and staff see of the messages sent.
    pub notices: Arc<dyn crate::notices::NoticeLog>,
    /// The staff reports' reads.
    pub reports: Arc<dyn crate::reports::ReportStore>,
    /// Capacity, admission, visitor registrations and their purge.
    pub admission: crate::admission::Admission,
    /// The clock every component uses.
    pub clock: Arc<dyn Clock>,
    /// Randomness (card numbers).
    pub random: Arc<dyn RandomSource>,
    /// The process's metrics (`GET /metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The database pools' use, read when the metrics are scraped.
    pub pools: Arc<dyn crate::metrics::PoolGauges>,
    /// `Some` only when the development clock is enabled.
    pub dev: Option<DevControls>,
}

impl Services {
    /// Every metric in the Prometheus text format: the registry's series, the pools' use
    /// and the outbox's depth (one count; left out, and the failure logged, if the
    /// database does not answer).
    pub async fn metrics_text(&self) -> String {
        let outbox_depth = match self.notices.waiting().await {
            Ok(n) => Some(n),
            Err(err) => {
                tracing::warn!(%err, "metrics: the outbox's depth could not be read");
                None
            }
        };
        self.metrics.render(&crate::metrics::Scraped {
            pools: self.pools.pools(),
            outbox_depth,
        })
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("dev", &self.dev.is_some())
            .finish_non_exhaustive()
    }
}
