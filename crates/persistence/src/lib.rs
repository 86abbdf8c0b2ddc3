//! The persistence adapter: the database schema, its migrations and the implementations of
//! the domain's store ports on SQLite (embedded, the default) and PostgreSQL, through
//! sea-orm.
//!
//! Stores (all from [`Database`], cheap to clone):
//! - credentials: [`DbCredentialStore`], [`DbSessionStore`], [`StaffStore`] (the
//!   `library-credentials` ports); readers: [`PatronStore`] (registration, the circulation
//!   profile, suspensions);
//! - circulation: [`DbCirculationStore`] (the unit of work, `CirculationStore` →
//!   [`DbTransaction`], see `circulation/mod.rs` for the locking), [`RuleStore`]
//!   (`RuleRepository`), [`LibraryStore`] (`CalendarRepository`), [`FineSuspensionStore`]
//!   (`FineSuspensionRepository`);
//! - admin side: [`CatalogueStore`] (titles, items, the catalogue search over trigram
//!   indexes: FTS5 on SQLite, `pg_trgm` on PostgreSQL), [`LedgerStore`] (charges, payments,
//!   waivers), [`AuditLogStore`], [`OutboxStore`], [`Sip2StationStore`] (SIP2 station
//!   accounts). They answer [`StoreError`];
//! - reader services: [`ActivityStore`] (activities, registrations under the activity's
//!   row lock), [`NoticeStore`], [`ReaderSettingsStore`] (settings, the reading history;
//!   an email change only when confirmed, the old address told in its transaction),
//!   [`EnquiryStore`]; they speak `library-reader-services` types;
//! - premises: [`AdmissionRecords`] (capacities and the count at each door, admission
//!   events, visitor registrations and their purge, staff permissions).
//! - premises: [`DbStudyRooms`] (Students' Study Room schemes, applications under the
//!   scheme's row lock, the ballot recorded with its seed, decisions and revocations);
//!   it implements `library_app::StudyRoomStore` directly.
//! - operations: [`Database::backup_sqlite`] (a consistent copy of a running SQLite
//!   database) and [`restore_sqlite`] (a checked copy put in place of a database no
//!   process has open), in `backup.rs`.
//!
//! Invariants:
//! - sea-orm types (entities, connections, errors) never leave this crate: the stores speak
//!   domain types and answer [`PortError`](library_credentials::PortError) (credentials),
//!   `InfrastructureError` (circulation ports) or [`StoreError`] (admin side); their text
//!   is for logs, never for clients.
//! - The domain's policies are applied here, never decided by SQL of its own: a guess is
//!   reserved in one transaction that locks the source's window and the account's counter,
//!   reads the pair, and stores what
//!   [`GuessingPolicy::reserve`](library_credentials::GuessingPolicy::reserve) decides (see
//!   [`DbCredentialStore`]); a contract test checks it against the in-memory reference
//!   step by step. The "forgot Password" windows are reserved by one conditional upsert
//!   built from
//!   [`RequestLimit`](library_credentials::RequestLimit)'s numbers. The same code is
//!   atomic on both backends.
//! - Every write is one statement or one transaction that takes the write lock first, so
//!   concurrent writers queue instead of failing with `SQLITE_BUSY`.
//! - Instants are stored in UTC with microsecond precision (PostgreSQL's `timestamptz`
//!   precision); on SQLite as fixed-width text (`2021-03-05T01:00:00.000000Z`) so that
//!   comparing them in SQL compares instants (see `instant.rs`). Dates are dates; money
//!   is `BIGINT` minor units.
//!
//! # SQLite settings (applied to every pooled connection)
//!
//! | pragma | value | why |
//! |---|---|---|
//! | `journal_mode` | `WAL` | readers never block the writer nor the writer the readers |
//! | `synchronous` | `NORMAL` | in WAL mode a commit survives a crash of the application (the WAL is written before the commit returns); only a power loss or OS crash may lose the last transactions, never corrupt the file. `FULL` would fsync on every commit, which costs more than a library's counter traffic is worth |
//! | `busy_timeout` | 5 s | a writer waits for the lock instead of failing with `SQLITE_BUSY` |
//! | `foreign_keys` | `ON` | SQLite leaves them off by default |
//!
//! The SQLite pool holds [`SQLITE_MAX_CONNECTIONS`] connections: reads run in parallel,
//! writes queue on SQLite's single write lock. Writes are single autocommit statements,
//! which take the write lock before reading (so the busy handler applies), or
//! transactions begun `IMMEDIATE`.

mod activity_store;
mod admission_store;
pub mod application;
mod audit_store;
mod backup;
mod catalogue_search;
mod catalogue_store;
mod circulation;
mod closure_moves;
mod config_cache;
mod credential_store;
mod database;
mod enquiry_store;
mod entity;
mod error;
mod fault;
mod fine_suspension_store;
mod instant;
mod job_lease;
mod ledger_store;
mod library_store;
mod migration;
mod notice_store;
mod outbox_store;
mod patron_store;
mod pool;
mod queries_store;
mod reader_records;
mod reminder_store;
mod report_store;
mod rule_store;
mod session_cache;
mod session_store;
mod settings_store;
mod sip2_station_store;
mod sql;
mod staff_store;
mod study_room_store;
#[cfg(feature = "testing")]
pub mod testing;

pub use activity_store::ActivityStore;
pub use admission_store::AdmissionRecords;
pub use audit_store::{AuditEntry, AuditLogStore, NewAuditEntry};
pub use backup::{
    BackupError, CopySummary, restore_sqlite, sqlite_file_of_url, verify_sqlite_copy,
};
pub use catalogue_store::{CatalogueStore, ImportedItem, ImportedTitle, NewItem, TitleDetails};
pub use circulation::{DbCirculationStore, DbTransaction};
pub use config_cache::SQLITE_POLL_EVERY;
pub use credential_store::DbCredentialStore;
pub use database::{
    Backend, Database, POSTGRES_PING_WHEN_IDLE_FOR, READY_MIN_FREE_BYTES, READY_WRITE_TIMEOUT,
    ReadyError, SQLITE_BUSY_TIMEOUT, SQLITE_MAX_CONNECTIONS,
};
pub use enquiry_store::EnquiryStore;
pub use error::{DatabaseError, StoreError};
pub use fine_suspension_store::{FineSuspensionStore, StoredPeriod};
pub use job_lease::JobLeaseStore;
pub use ledger_store::LedgerStore;
pub use library_store::{CalendarEntry, CalendarRule, LibraryRecord, LibraryStore, NewLibrary};
pub use notice_store::NoticeStore;
pub use outbox_store::{NewNotification, NoticeRow, Notification, OutboxStore, QueuedMessage};
pub use patron_store::{ImportedReader, NewPatron, PatronStore, ReaderProfile};
pub use queries_store::QueryStore;
pub use reminder_store::ReminderStore;
pub use report_store::ReportQueries;
pub use rule_store::{RULE_NAMES, RuleStore};
pub use session_store::DbSessionStore;
pub use settings_store::{EMAIL_CHANGED, ReaderSettingsStore, SettingsPut};
pub use sip2_station_store::{NewSip2Station, Sip2Station, Sip2StationStore};
pub use staff_store::{NewStaffUser, StaffStore, StaffUser};
pub use study_room_store::DbStudyRooms;
