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

/// Wraps a database error for a port, saying what was being done (and whether the
/// database is unavailable rather than the operation wrong).
pub(crate) fn failed(context: &str) -> impl FnOnce(DbErr) -> PortError + '_ {
    move |err| {
        let what = format!("{context}: {}", crate::fault::describe(&err));
        if crate::fault::is_unavailable(&err) {
            PortError::Unavailable(what)
        } else {
            PortError::Failed(what)
        }
    }
}

/// A stored value the domain cannot accept (a corrupted or hand-edited row).
pub(crate) fn corrupt(context: &str, what: impl std::fmt::Display) -> PortError {
    PortError::Failed(format!("{context}: corrupt stored value: {what}"))
}

/// Why an admin-side store operation (libraries, catalogue, rules, fine-suspension periods,
/// payments, waivers, audit log, outbox) did not happen. The HTTP layer maps `NotFound` to
/// 404, `Conflict` to 409, `Invalid`/`Ledger`/`Period`/`Calendar` to 422 and
/// `Infrastructure` to 500 (without its text).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record the operation is about does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value is taken (library code, barcode) or a referenced record is missing.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input is not acceptable (e.g. an unknown rule name).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The fine ledger refused (overpayment, nothing outstanding, missing reason, ...).
    #[error(transparent)]
    Ledger(#[from] library_fines::LedgerError),
    /// A fine-suspension period's dates are not acceptable.
    #[error(transparent)]
    Period(#[from] library_fines::PeriodError),
    /// A calendar entry is not acceptable.
    #[error(transparent)]
    Calendar(#[from] library_circulation::CalendarError),
    /// The database failed.
    #[error(transparent)]
    Infrastructure(#[from] library_circulation::ports::InfrastructureError),
}

impl StoreError {
    /// Whether the database could not serve now (unreachable, busy past its timeout, out
    /// of space): a later try may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Infrastructure(e) if e.is_unavailable())
    }

    /// As a credentials port's error, saying what was being done, unavailable or failed.
    pub fn into_port_error(self, context: &str) -> PortError {
        let what = format!("{context}: {self}");
        if self.is_unavailable() {
            PortError::Unavailable(what)
        } else {
            PortError::Failed(what)
        }
    }
}
