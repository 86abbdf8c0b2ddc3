//! Capacity, admission at the door, visitor registration for contact tracing, the
//! `contact_tracing` permission and the purge of expired registrations (the rules are
//! `library_premises::admission`; docs/premises.md, Capacity and visitor registration).
//!
//! Every channel (the staff API, the public form, the readers' web page, the admin tool,
//! the scheduled jobs) calls [`Admission`]; [`AdmissionStore`] is its port, implemented
//! over the database by `library-persistence`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use library_core::{Clock, LibraryCode, StaffId};
use library_credentials::{AttemptDecision, PortError, RequestLimit, RequestWindow};
use library_premises::admission::{
    AdmissionRefusal, Capacity, Occupancy, Retention, SectionCode, Visitor, VisitorForm,
    check_visitor, local_midnight,
};
use time::{Date, Duration, OffsetDateTime};

use crate::ports::{AdminError, AuditRecord};
use crate::services::JobRunner;

/// Who recorded a visitor registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordedBy {
    /// A staff user at the door.
    Staff(StaffId),
    /// The visitor, on the public form.
    SelfService,
}

impl RecordedBy {
    /// As stored and shown: `staff:<id>` or `self`.
    pub fn as_text(self) -> String {
        match self {
            RecordedBy::Staff(id) => format!("staff:{}", id.get()),
            RecordedBy::SelfService => "self".to_owned(),
        }
    }
}

/// A registration to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisitorRecord {
    /// The library visited.
    pub library: LibraryCode,
    /// The section, if the registration is for one.
    pub section: Option<SectionCode>,
    /// Name, phone and the visit's instant, checked.
    pub visitor: Visitor,
    /// When it was recorded.
    pub recorded_at: OffsetDateTime,
    /// By whom.
    pub recorded_by: RecordedBy,
}

/// A stored registration, as read for contact tracing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorRecord {
    /// Its id.
    pub id: i64,
    /// The library visited.
    pub library: LibraryCode,
    /// The section, if any.
    pub section: Option<String>,
    /// The name.
    pub name: String,
    /// The phone's digits.
    pub phone: String,
    /// The visit, UTC.
    pub visited_at: OffsetDateTime,
    /// `staff:<id>` or `self`.
    pub recorded_by: String,
}

/// The count at one door: the library's (`section` `None`) or a section's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorCount {
    /// `None` for the library as a whole.
    pub section: Option<String>,
    /// People inside and the capacity.
    pub occupancy: Occupancy,
}

/// What a registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// Stored (and, when asked, admitted: the occupancy after it).
    Recorded {
        /// The registration's id.
        id: i64,
        /// The occupancy after the admission, when one was asked for.
        admitted: Option<Occupancy>,
    },
    /// Admission was asked for and refused: nothing was stored.
    Refused(AdmissionRefusal),
}

/// Which registrations to read: visits on the local dates `from` to `to` (inclusive), at
/// one library or all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorQuery {
    /// One library, or all.
    pub library: Option<LibraryCode>,
    /// First local date.
    pub from: Date,
    /// Last local date.
    pub to: Date,
}

impl VisitorQuery {
    /// The instants `[start, end)` the dates cover.
    pub fn instants(&self) -> (OffsetDateTime, OffsetDateTime) {
        let start = local_midnight(self.from);
        let end = local_midnight(self.to) + Duration::DAY;
        (start, end)
    }
}

/// What a purge would delete: registrations per library and local date of the visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeLine {
    /// The library.
    pub library: LibraryCode,
    /// The local date of the visits.
    pub date: Date,
    /// How many registrations.
    pub count: u64,
}

/// A permission a staff user may hold beyond their role, granted by an administrator and
/// read fresh at every use (never from the session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffPermission {
    /// Read the visitor registrations (contact tracing).
    ContactTracing,
}

impl StaffPermission {
    /// The stable code.
    pub const fn code(self) -> &'static str {
        match self {
            StaffPermission::ContactTracing => "contact_tracing",
        }
    }
}

/// The port: capacities and counts, registrations, their purge, staff permissions.
#[async_trait]
pub trait AdmissionStore: Send + Sync {
    /// Sets the capacity of the library's door (or a section's) with `audit`, keeping the
    /// count; `false` for an unknown library (nothing audited).
    async fn set_capacity(
        &self,
        library: &LibraryCode,
        section: Option<&SectionCode>,
        capacity: Capacity,
        audit: AuditRecord,
    ) -> Result<bool, AdminError>;
    /// Every door of the library with a count or a capacity, the library's first then the
    /// sections by code; `None` for an unknown library.
    async fn occupancy(&self, library: &LibraryCode) -> Result<Option<Vec<DoorCount>>, AdminError>;
    /// Admits one person through the door at `at`, as [`Occupancy::admit`] decides on the
    /// locked count, with `audit`; the event is counted either way. `None` for an unknown
    /// library.
    async fn admit(
        &self,
        library: &LibraryCode,
        section: Option<&SectionCode>,
        at: OffsetDateTime,
        audit: Option<AuditRecord>,
    ) -> Result<Option<Result<Occupancy, AdmissionRefusal>>, AdminError>;
    /// One person leaves at `at` (never below zero), with `audit`. `None` for an unknown
    /// library.
    async fn leave(
        &self,
        library: &LibraryCode,
        section: Option<&SectionCode>,
        at: OffsetDateTime,
        audit: Option<AuditRecord>,
    ) -> Result<Option<Occupancy>, AdminError>;
    /// Stores a registration; with `admit`, admits in the same transaction and stores
    /// nothing when refused. `audit` (made from the new id) in the same transaction.
    /// `None` for an unknown library.
    async fn register(
        &self,
        record: &NewVisitorRecord,
        admit: bool,
        audit: Option<&(dyn Fn(i64) -> AuditRecord + Send + Sync)>,
    ) -> Result<Option<Registered>, AdminError>;
    /// The registrations of `query`, by visit, with the audit record of the read (made
    /// from the number of records) written in the read's transaction.
    async fn visitors(
        &self,
        query: &VisitorQuery,
        audit: &(dyn Fn(usize) -> AuditRecord + Send + Sync),
    ) -> Result<Vec<VisitorRecord>, AdminError>;
    /// What [`Self::purge`] would delete at the same cut-off, without personal data.
    async fn purge_preview(&self, before: OffsetDateTime) -> Result<Vec<PurgeLine>, AdminError>;
    /// Deletes every registration of a visit before `before`, `batch` rows per
    /// transaction; how many.
    async fn purge(&self, before: OffsetDateTime, batch: u32) -> Result<u64, AdminError>;
    /// Grants (or revokes) `permission` to the staff user `username` with the audit record
    /// made from their id; `false` for an unknown user (nothing audited).
    async fn set_permission(
        &self,
        username: &str,
        permission: StaffPermission,
        granted: bool,
        audit: &(dyn Fn(StaffId) -> AuditRecord + Send + Sync),
    ) -> Result<bool, AdminError>;
    /// Whether staff user `staff` holds `permission` now.
    async fn has_permission(
        &self,
        staff: StaffId,
        permission: StaffPermission,
    ) -> Result<bool, AdminError>;
}

/// Why a use case of [`Admission`] did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AdmissionError {
    /// No such library (or staff user).
    #[error("not found")]
    NotFound,
    /// The input's violations, as codes.
    #[error("invalid: {0:?}")]
    Invalid(Vec<&'static str>),
    /// The door is at capacity.
    #[error(transparent)]
    Refused(AdmissionRefusal),
    /// The staff user lacks the `contact_tracing` permission.
    #[error("the contact_tracing permission is needed")]
    NotPermitted,
    /// Too many self-registrations from one source; try again after this many seconds.
    #[error("too many registrations; retry in {0} s")]
    TooMany(u64),
    /// A store's failure.
    #[error(transparent)]
    Store(#[from] AdminError),
}

/// The longest range of dates one read of the registrations may cover.
pub const MAX_READ_DAYS: i64 = Retention::MAX_DAYS as i64 + 1;
/// Rows deleted per transaction by the purge: short transactions, so the purge of a
/// large backlog never holds the write lock for long.
pub const PURGE_BATCH: u32 = 500;
/// Self-registrations one source may make an hour on the public form.
pub const SELF_REGISTRATIONS_PER_HOUR: u32 = 20;

/// The public form's per-source limit.
const SELF_REGISTRATION_LIMIT: RequestLimit = RequestLimit {
    max_requests: SELF_REGISTRATIONS_PER_HOUR,
    window: Duration::HOUR,
};

/// The use cases.
#[derive(Clone)]
pub struct Admission {
    store: Arc<dyn AdmissionStore>,
    clock: Arc<dyn Clock>,
    retention: Retention,
    /// The public form's window per source, in memory (a server restart forgets it; a
    /// bound on abuse, not a security control).
    windows: Arc<Mutex<HashMap<String, RequestWindow>>>,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

fn section(raw: Option<&str>) -> Result<Option<SectionCode>, AdmissionError> {
    raw.map(SectionCode::parse)
        .transpose()
        .map_err(|e| AdmissionError::Invalid(vec![e.code()]))
}

impl Admission {
    /// Over `store`, with the default retention (31 days).
    pub fn new(store: Arc<dyn AdmissionStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            retention: Retention::default(),
            windows: Arc::default(),
        }
    }

    /// The same, keeping registrations for `retention`.
    #[must_use]
    pub fn with_retention(self, retention: Retention) -> Self {
        Self { retention, ..self }
    }

    /// How long registrations are kept.
    pub fn retention(&self) -> Retention {
        self.retention
    }

    /// Sets a door's capacity (`None` unlimited, 0 closed to visitors).
    pub async fn set_capacity(
        &self,
        library: &LibraryCode,
        section_code: Option<&str>,
        capacity: Option<i64>,
        audit: AuditRecord,
    ) -> Result<(), AdmissionError> {
        let mut violations = Vec::new();
        let section = section(section_code).unwrap_or_else(|_| {
            violations.push("section_invalid");
            None
        });
        let capacity = Capacity::parse(capacity).unwrap_or_else(|e| {
            violations.push(e.code());
            Capacity::UNLIMITED
        });
        if !violations.is_empty() {
            return Err(AdmissionError::Invalid(violations));
        }
        if self
            .store
            .set_capacity(library, section.as_ref(), capacity, audit)
            .await?
        {
            Ok(())
        } else {
            Err(AdmissionError::NotFound)
        }
    }

    /// Every door's count of a library (the library's own first, always present).
    pub async fn occupancy(&self, library: &LibraryCode) -> Result<Vec<DoorCount>, AdmissionError> {
        let mut doors = self
            .store
            .occupancy(library)
            .await?
            .ok_or(AdmissionError::NotFound)?;
        if doors.first().is_none_or(|d| d.section.is_some()) {
            doors.insert(
                0,
                DoorCount {
                    section: None,
                    occupancy: Occupancy::EMPTY,
                },
            );
        }
        Ok(doors)
    }

    /// Admits one person (staff at the door).
    pub async fn admit(
        &self,
        library: &LibraryCode,
        section_code: Option<&str>,
        audit: AuditRecord,
    ) -> Result<Occupancy, AdmissionError> {
        let section = section(section_code)?;
        self.store
            .admit(library, section.as_ref(), self.clock.now(), Some(audit))
            .await?
            .ok_or(AdmissionError::NotFound)?
            .map_err(AdmissionError::Refused)
    }

    /// One person leaves (staff at the door).
    pub async fn leave(
        &self,
        library: &LibraryCode,
        section_code: Option<&str>,
        audit: AuditRecord,
    ) -> Result<Occupancy, AdmissionError> {
        let section = section(section_code)?;
        self.store
            .leave(library, section.as_ref(), self.clock.now(), Some(audit))
            .await?
            .ok_or(AdmissionError::NotFound)
    }

    /// Registers a visitor, by staff at the door or (with `by` [`RecordedBy::SelfService`])
    /// on the public form; with `admit`, admits them in the same transaction (nothing is
    /// stored when the door is at capacity). Violations all at once: `section_invalid`,
    /// `name_invalid`, `phone_invalid`, `visited_at_invalid`.
    pub async fn register(
        &self,
        library: &LibraryCode,
        section_code: Option<&str>,
        form: &VisitorForm,
        by: RecordedBy,
        admit: bool,
        audit: Option<&(dyn Fn(i64) -> AuditRecord + Send + Sync)>,
    ) -> Result<(i64, Option<Occupancy>), AdmissionError> {
        self.record(library, section_code, form, by, admit, audit)
            .await
            .map(|(id, admitted, _)| (id, admitted))
    }

    /// A visitor's self-registration on the public form, from `source`, at the library
    /// of code `raw_library`: counted against the source's limit
    /// ([`AdmissionError::TooMany`]), never admitting, not audited. An unparseable or
    /// unknown library is the violation `unknown_library` (the form names it in its
    /// body); other violations as for [`Self::register`]. The id and the visit's instant.
    pub async fn register_self(
        &self,
        source: &str,
        raw_library: &str,
        section_code: Option<&str>,
        form: &VisitorForm,
    ) -> Result<(i64, OffsetDateTime), AdmissionError> {
        let unknown_library = || AdmissionError::Invalid(vec!["unknown_library"]);
        let library = LibraryCode::parse(raw_library).map_err(|_| unknown_library())?;
        self.count_self_registration(source)?;
        match self
            .record(
                &library,
                section_code,
                form,
                RecordedBy::SelfService,
                false,
                None,
            )
            .await
        {
            Ok((id, _, visited_at)) => Ok((id, visited_at)),
            Err(AdmissionError::NotFound) => Err(unknown_library()),
            Err(e) => Err(e),
        }
    }

    /// [`Self::register`], with the visit's instant as recorded.
    async fn record(
        &self,
        library: &LibraryCode,
        section_code: Option<&str>,
        form: &VisitorForm,
        by: RecordedBy,
        admit: bool,
        audit: Option<&(dyn Fn(i64) -> AuditRecord + Send + Sync)>,
    ) -> Result<(i64, Option<Occupancy>, OffsetDateTime), AdmissionError> {
        let now = self.clock.now();
        let mut violations = Vec::new();
        let section = section(section_code).unwrap_or_else(|_| {
            violations.push("section_invalid");
            None
        });
        let visitor = match check_visitor(form, now, self.retention) {
            Ok(v) => Some(v),
            Err(v) => {
                violations.extend(v.iter().map(|v| v.code()));
                None
            }
        };
        let Some(visitor) = visitor.filter(|_| violations.is_empty()) else {
            return Err(AdmissionError::Invalid(violations));
        };
        let visited_at = visitor.visited_at;
        let record = NewVisitorRecord {
            library: library.clone(),
            section,
            visitor,
            recorded_at: now,
            recorded_by: by,
        };
        match self
            .store
            .register(&record, admit, audit)
            .await?
            .ok_or(AdmissionError::NotFound)?
        {
            Registered::Recorded { id, admitted } => Ok((id, admitted, visited_at)),
            Registered::Refused(refusal) => Err(AdmissionError::Refused(refusal)),
        }
    }

    /// Counts one self-registration from `source` (the public form's per-source limit):
    /// [`AdmissionError::TooMany`] past [`SELF_REGISTRATIONS_PER_HOUR`] within an hour of
    /// the source's first.
    fn count_self_registration(&self, source: &str) -> Result<(), AdmissionError> {
        let now = self.clock.now();
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        windows.retain(|_, w| now < w.ends_at);
        match SELF_REGISTRATION_LIMIT.reserve(windows.get(source).copied(), now) {
            (AttemptDecision::Throttled { until }, _) => {
                let wait = (until - now).whole_seconds().max(1);
                Err(AdmissionError::TooMany(wait.unsigned_abs()))
            }
            (_, window) => {
                if let Some(window) = window {
                    windows.insert(source.to_owned(), window);
                }
                Ok(())
            }
        }
    }

    /// The registrations of visits on the local dates `from` to `to` at `library` (or
    /// all), for staff user `reader` if they hold `contact_tracing`; the read is audited
    /// (`audit` made from the number of records) in its transaction.
    /// [`AdmissionError::NotFound`] for an unknown library. Violations:
    /// `to_before_from`, `range_too_long` (more than 367 days).
    pub async fn read_visitors(
        &self,
        reader: StaffId,
        query: &VisitorQuery,
        audit: &(dyn Fn(usize) -> AuditRecord + Send + Sync),
    ) -> Result<Vec<VisitorRecord>, AdmissionError> {
        if let Some(library) = &query.library {
            self.store
                .occupancy(library)
                .await?
                .ok_or(AdmissionError::NotFound)?;
        }
        if !self
            .store
            .has_permission(reader, StaffPermission::ContactTracing)
            .await?
        {
            return Err(AdmissionError::NotPermitted);
        }
        if query.to < query.from {
            return Err(AdmissionError::Invalid(vec!["to_before_from"]));
        }
        if (query.to - query.from).whole_days() >= MAX_READ_DAYS {
            return Err(AdmissionError::Invalid(vec!["range_too_long"]));
        }
        Ok(self.store.visitors(query, audit).await?)
    }

    /// Grants or revokes a permission (administrators), audited.
    pub async fn set_permission(
        &self,
        username: &str,
        permission: StaffPermission,
        granted: bool,
        audit: &(dyn Fn(StaffId) -> AuditRecord + Send + Sync),
    ) -> Result<(), AdmissionError> {
        if self
            .store
            .set_permission(username, permission, granted, audit)
            .await?
        {
            Ok(())
        } else {
            Err(AdmissionError::NotFound)
        }
    }

    /// What a purge at `now` would delete.
    pub async fn purge_preview(&self, now: OffsetDateTime) -> Result<Vec<PurgeLine>, AdminError> {
        self.store
            .purge_preview(self.retention.purge_before(now))
            .await
    }

    /// Deletes the registrations past the retention at `now`; how many.
    pub async fn purge(&self, now: OffsetDateTime) -> Result<u64, AdminError> {
        self.store
            .purge(self.retention.purge_before(now), PURGE_BATCH)
            .await
    }
}

/// The scheduled purge of visitor registrations past their retention.
#[derive(Debug, Clone)]
pub struct VisitorPurge(pub Admission);

#[async_trait]
impl JobRunner for VisitorPurge {
    async fn run_all(&self, now: OffsetDateTime) -> Result<(), PortError> {
        let purged = self
            .0
            .purge(now)
            .await
            .map_err(|e| PortError::Failed(format!("purge visitor registrations: {e}")))?;
        if purged > 0 {
            tracing::info!(purged, "visitor registrations purged");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn a_query_covers_whole_local_days() {
        let q = VisitorQuery {
            library: None,
            from: date!(2021 - 02 - 19),
            to: date!(2021 - 02 - 19),
        };
        assert_eq!(
            q.instants(),
            (
                datetime!(2021-02-18 16:00 UTC),
                datetime!(2021-02-19 16:00 UTC)
            )
        );
    }

    #[test]
    fn recorded_by_text() {
        assert_eq!(RecordedBy::Staff(StaffId(7)).as_text(), "staff:7");
        assert_eq!(RecordedBy::SelfService.as_text(), "self");
    }
}
