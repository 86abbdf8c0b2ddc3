//! Helpers shared by the circulation route groups: the audit trail, parsing identifiers
//! into 422 violations, the library-local date.

use library_core::{Barcode, CardNumber, DEFAULT_LIBRARY_OFFSET, LibraryCode};
use poem_openapi::{Enum, Object};
use time::{Date, OffsetDateTime};

use crate::auth::Principal;
use crate::error::ApiError;
use library_app::AuditRecord;
use library_app::Services;
use library_circulation::ports::Actor;

/// Records a staff action in the audit log after it happened, on its own: only for the one
/// change that is not a transaction of the application layer's stores (a Password reset at
/// the counter, in the credential service). Every other change hands its
/// [`audit_record`] to the interface that makes it, which writes it in the change's
/// transaction. The action has already happened, so a failure to record it is logged (at
/// error level) rather than reported to the client.
pub(crate) async fn audit_after(
    state: &Services,
    who: &Principal,
    action: &'static str,
    subject: String,
    details: &serde_json::Value,
) {
    let entry = audit_record(state, who, action, subject, details);
    if let Err(err) = state.audit.record(entry).await {
        tracing::error!(%err, action, "audit log append failed");
    }
}

/// The audit record of `who` doing `action` on `subject` now, for the interface that makes
/// the change to write in the change's transaction: the entry exists exactly when the
/// change does.
pub(crate) fn audit_record(
    state: &Services,
    who: &Principal,
    action: &'static str,
    subject: String,
    details: &serde_json::Value,
) -> AuditRecord {
    AuditRecord {
        staff: who.staff.as_ref().map(|s| s.id),
        action,
        subject,
        details: details.to_string(),
        at: state.clock.now(),
    }
}

/// The staff member of a staff session, as a circulation change records who made it.
pub(crate) fn staff_actor(who: &Principal) -> Result<Actor, ApiError> {
    who.staff
        .as_ref()
        .map(|s| Actor::Staff(s.id))
        .ok_or_else(|| ApiError::internal(&"staff session without its staff user"))
}

/// Today in the library's default zone.
pub(crate) fn today(state: &Services) -> Date {
    state.clock.now().to_offset(DEFAULT_LIBRARY_OFFSET).date()
}

/// The instant shown in the library's zone.
pub(crate) fn shown(at: OffsetDateTime) -> OffsetDateTime {
    super::types::local(at)
}

/// A card number from a path or body: an unparseable one names no reader (404).
pub(crate) fn card(raw: &str) -> Result<CardNumber, ApiError> {
    CardNumber::parse(raw).map_err(|_| ApiError::not_found())
}

/// The reader with the card number of a path (404 for an unparseable or unknown card).
pub(crate) async fn reader_by_card(
    state: &Services,
    raw: &str,
) -> Result<library_core::PatronId, ApiError> {
    state
        .readers
        .find_by_card(&card(raw)?)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// A barcode from a body: an unparseable one names no item (404).
pub(crate) fn barcode(raw: &str) -> Result<Barcode, ApiError> {
    Barcode::parse(raw).map_err(|_| ApiError::not_found())
}

/// A library code from a path: an unparseable one names no library (404).
pub(crate) fn path_library(raw: &str) -> Result<LibraryCode, ApiError> {
    LibraryCode::parse(raw).map_err(|_| ApiError::not_found())
}

/// A library code from a body: an unparseable one is a violation.
pub(crate) fn library_code(raw: &str, violation: &'static str) -> Result<LibraryCode, ApiError> {
    LibraryCode::parse(raw).map_err(|_| ApiError::validation_failed([violation]))
}

/// A library kind on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub(crate) enum KindDto {
    /// Central library.
    Central,
    /// Major library.
    Major,
    /// District library.
    District,
    /// Small library.
    Small,
    /// Mobile library.
    Mobile,
}

impl From<KindDto> for library_core::LibraryKind {
    fn from(k: KindDto) -> Self {
        use library_core::LibraryKind as K;
        match k {
            KindDto::Central => K::Central,
            KindDto::Major => K::Major,
            KindDto::District => K::District,
            KindDto::Small => K::Small,
            KindDto::Mobile => K::Mobile,
        }
    }
}

impl From<library_core::LibraryKind> for KindDto {
    fn from(k: library_core::LibraryKind) -> Self {
        use library_core::LibraryKind as K;
        match k {
            K::Central => KindDto::Central,
            K::Major => KindDto::Major,
            K::District => KindDto::District,
            K::Small => KindDto::Small,
            K::Mobile => KindDto::Mobile,
        }
    }
}

/// The id of a record created.
#[derive(Debug, Object)]
pub(crate) struct IdBody {
    pub(crate) id: i64,
}
