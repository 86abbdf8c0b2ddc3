//! The persistence adapter: the database schema, its migrations and the implementations of
//! the domain's store ports on SQLite (embedded, the default) and PostgreSQL, through
//! sea-orm.
//!
//! Built so far: the credential ports of `library-credentials` ([`DbCredentialStore`],
//! [`DbSessionStore`]), reader registration ([`PatronStore`]) and staff users
//! ([`StaffStore`]). The circulation ports come next, as one more module per store and one
//! more migration in the same set.
//!
//! Invariants:
//! - sea-orm types (entities, connections, errors) never leave this crate: the stores speak
//!   domain types and answer [`PortError`](library_credentials::PortError), whose text is
//!   for logs, never for clients.
//! - The domain's policies are applied here, never re-implemented in SQL: a guessing
//!   counter is read, [`GuessingPolicy`](library_credentials::GuessingPolicy) decides, and
//!   the new state is written with a compare-and-set on a `version` column (see
//!   [`DbCredentialStore`]). The same code is atomic on both backends.
//! - Every write is one statement or one transaction that takes the write lock first, so
//!   concurrent writers queue instead of failing with `SQLITE_BUSY`.
//! - Instants are stored in UTC with microsecond precision (PostgreSQL's `timestamptz`
//!   precision); on SQLite as fixed-width text (`2021-03-05T01:00:00.000000Z`) so that
//!   comparing them in SQL compares instants (see `instant.rs`). Dates are dates; money
//!   (later) is `BIGINT` minor units.
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

mod credential_store;
mod database;
mod entity;
mod error;
mod instant;
mod migration;
mod patron_store;
mod session_store;
mod staff_store;

pub use credential_store::DbCredentialStore;
pub use database::{Backend, Database, SQLITE_BUSY_TIMEOUT, SQLITE_MAX_CONNECTIONS};
pub use error::DatabaseError;
pub use patron_store::{NewPatron, PatronStore};
pub use session_store::DbSessionStore;
pub use staff_store::{NewStaffUser, StaffStore};
