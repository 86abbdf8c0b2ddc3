//! Errors: opening the database, and the mapping of database errors to the ports'
//! [`PortError`] (with context for the logs; adapters above never show it to clients).

use library_credentials::PortError;
use sea_orm::DbErr;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The URL names neither `sqlite:` nor `postgres:`/`postgresql:`.
    #[error("unsupported database URL (expected sqlite:// or postgres://)")]
    UnsupportedUrl,
    /// Connecting failed.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] DbErr),
    /// Running the migrations failed.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] DbErr),
}

/// Wraps a database error for a port, saying what was being done.
pub(crate) fn failed(context: &str) -> impl FnOnce(DbErr) -> PortError + '_ {
    move |err| PortError::Failed(format!("{context}: {err}"))
}

/// A stored value the domain cannot accept (a corrupted or hand-edited row).
pub(crate) fn corrupt(context: &str, what: impl std::fmt::Display) -> PortError {
    PortError::Failed(format!("{context}: corrupt stored value: {what}"))
}
