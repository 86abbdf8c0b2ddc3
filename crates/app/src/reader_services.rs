//! The ports of the reader services (`library-reader-services`): extension activities and
//! registrations, library notices, readers' settings and reading history, and enquiries.
//! `library-persistence` implements them over the database; this crate never sees it.
//!
//! Every operation answers [`ServiceError`], which each channel maps once (HTTP in its
//! `error.rs`, like every other domain error).

use std::sync::Arc;

use async_trait::async_trait;
use library_circulation::ports::InfrastructureError;
use library_core::{LibraryCode, PatronId, StaffId};
use library_reader_services::{
    Activity, ActivityId, ActivityListing, ActivityQuery, AnonymisationPolicy, CancellationRefusal,
    EmailChange, EnquiryId, EnquiryStatus, NewActivity, NewEnquiry, NewNotice, NoticeId,
    NoticeListing, Page, ReaderRegistration, ReaderSettings, ReadingHistory, Registrant,
    RegistrationRefusal, ReturnedLoan, StaffEnquiry,
};
use time::{Date, OffsetDateTime};

use crate::ports::AuditRecord;

/// Why a reader-service operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The activity, notice, enquiry or registration does not exist (or is another
    /// reader's).
    #[error("not found")]
    NotFound,
    /// The request refers to something that does not exist (`unknown_library`) or is
    /// otherwise unacceptable; the violations as codes.
    #[error("invalid: {0:?}")]
    Invalid(Vec<&'static str>),
    /// A registration refused for a named reason.
    #[error(transparent)]
    RegistrationRefused(#[from] RegistrationRefusal),
    /// A reader's cancellation refused for a named reason.
    #[error("cancellation refused: {0}")]
    CancellationRefused(CancellationRefusal),
    /// The activity was cancelled already.
    #[error("activity already cancelled")]
    ActivityCancelled,
    /// The notice was withdrawn already.
    #[error("notice already withdrawn")]
    NoticeWithdrawn,
    /// The enquiry was answered already (answers are never replaced).
    #[error("enquiry already answered")]
    AlreadyAnswered,
    /// A settings replacement would change the email without the reader's confirmation
    /// (their Password); nothing was stored.
    #[error("an email change needs the Password")]
    EmailChangeUnconfirmed,
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] InfrastructureError),
}

/// Extension activities and registrations.
#[async_trait]
pub trait ActivityBoard: Send + Sync {
    /// Stores a new activity (created at `now`); its id. Unknown library:
    /// `Invalid(["unknown_library"])`. `audit` makes the audit record of the id, written in
    /// the activity's transaction.
    async fn create(
        &self,
        activity: &NewActivity,
        now: OffsetDateTime,
        audit: &(dyn Fn(ActivityId) -> AuditRecord + Send + Sync),
    ) -> Result<ActivityId, ServiceError>;
    /// One page of activities.
    async fn list(&self, query: &ActivityQuery) -> Result<Page<ActivityListing>, ServiceError>;
    /// One activity; `NotFound` if there is none.
    async fn get(&self, id: ActivityId) -> Result<ActivityListing, ServiceError>;
    /// Cancels an activity at `at`, with `audit` in the cancellation's transaction, and
    /// tells its registered readers. `NotFound`, `ActivityCancelled`.
    async fn cancel(
        &self,
        id: ActivityId,
        at: OffsetDateTime,
        audit: AuditRecord,
    ) -> Result<(), ServiceError>;
    /// Registers a reader at `now`; the activity after the registration. `NotFound`,
    /// `RegistrationRefused`.
    async fn register(
        &self,
        id: ActivityId,
        patron: PatronId,
        now: OffsetDateTime,
    ) -> Result<Activity, ServiceError>;
    /// Cancels a reader's registration at `now`. `NotFound` (no activity, or no
    /// registration of theirs), `CancellationRefused`.
    async fn cancel_registration(
        &self,
        id: ActivityId,
        patron: PatronId,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError>;
    /// A reader's registrations for activities ending at or after `ended_since`.
    async fn registrations_of(
        &self,
        patron: PatronId,
        ended_since: OffsetDateTime,
    ) -> Result<Vec<ReaderRegistration>, ServiceError>;
    /// Everyone registered for an activity (cancelled registrations included), by
    /// registration time. `NotFound`.
    async fn registrants(&self, id: ActivityId) -> Result<Vec<Registrant>, ServiceError>;
}

/// Library notices.
#[async_trait]
pub trait NoticeBoard: Send + Sync {
    /// Publishes a notice (at `now`); its id. Unknown library: `Invalid(["unknown_library"])`.
    /// `audit` makes the audit record of the id, written in the notice's transaction.
    async fn publish(
        &self,
        notice: &NewNotice,
        now: OffsetDateTime,
        audit: &(dyn Fn(NoticeId) -> AuditRecord + Send + Sync),
    ) -> Result<NoticeId, ServiceError>;
    /// Withdraws a notice at `at`, with `audit` in the same transaction. `NotFound`,
    /// `NoticeWithdrawn`.
    async fn withdraw(
        &self,
        id: NoticeId,
        at: OffsetDateTime,
        audit: AuditRecord,
    ) -> Result<(), ServiceError>;
    /// Notices current on `today` for a reader of library `home`, newest first.
    async fn current_for(
        &self,
        home: Option<&LibraryCode>,
        today: Date,
    ) -> Result<Vec<NoticeListing>, ServiceError>;
    /// Every notice, newest first, one page.
    async fn list(&self, limit: u32, offset: u64) -> Result<Page<NoticeListing>, ServiceError>;
}

/// Readers' settings and reading histories.
#[async_trait]
pub trait SettingsDesk: Send + Sync {
    /// A reader's settings (the defaults if never saved). `NotFound` for no such reader.
    async fn settings(&self, patron: PatronId) -> Result<ReaderSettings, ServiceError>;
    /// Replaces a reader's settings at `now`; what is now stored. A replacement that
    /// changes the email (judged against the email as stored when it is written) stores
    /// nothing and answers `EmailChangeUnconfirmed` unless `email_change` is
    /// [`EmailChange::Confirmed`]; a confirmed change tells the old address (a
    /// `settings.email_changed` notice queued with the change, when there was one).
    /// `NotFound` for no such reader.
    async fn replace(
        &self,
        patron: PatronId,
        settings: &ReaderSettings,
        now: OffsetDateTime,
        email_change: EmailChange,
    ) -> Result<ReaderSettings, ServiceError>;
    /// A reader's reading history: whether it is kept and the returned loans it shows.
    async fn reading_history(
        &self,
        patron: PatronId,
    ) -> Result<(ReadingHistory, Vec<ReturnedLoan>), ServiceError>;
    /// Removes the reader from the returned loans `policy` anonymises at `now`
    /// ([`AnonymisationPolicy::anonymises`]); how many loans. The loans stay.
    async fn anonymise_returned_loans(
        &self,
        policy: &AnonymisationPolicy,
        now: OffsetDateTime,
    ) -> Result<u64, ServiceError>;
}

/// Ask a Librarian.
#[async_trait]
pub trait EnquiryDesk: Send + Sync {
    /// Stores a reader's enquiry (made at `now`); its id. Unknown library:
    /// `Invalid(["unknown_library"])`.
    async fn ask(
        &self,
        patron: PatronId,
        enquiry: &NewEnquiry,
        now: OffsetDateTime,
    ) -> Result<EnquiryId, ServiceError>;
    /// One enquiry with who asked; `NotFound` if there is none.
    async fn get(&self, id: EnquiryId) -> Result<StaffEnquiry, ServiceError>;
    /// A reader's enquiries, newest first.
    async fn of_reader(
        &self,
        patron: PatronId,
    ) -> Result<Vec<library_reader_services::Enquiry>, ServiceError>;
    /// Enquiries (all or with `status`), oldest first, one page.
    async fn list(
        &self,
        status: Option<EnquiryStatus>,
        limit: u32,
        offset: u64,
    ) -> Result<Page<StaffEnquiry>, ServiceError>;
    /// Answers an enquiry at `at`, with `audit` in the same transaction. `NotFound`,
    /// `AlreadyAnswered`.
    async fn answer(
        &self,
        id: EnquiryId,
        staff: Option<StaffId>,
        text: &str,
        at: OffsetDateTime,
        audit: AuditRecord,
    ) -> Result<(), ServiceError>;
}

/// The reader-service interfaces, as the channels hold them. Cheap to clone.
#[derive(Clone)]
pub struct ReaderServices {
    /// Activities and registrations.
    pub activities: Arc<dyn ActivityBoard>,
    /// Notices.
    pub notices: Arc<dyn NoticeBoard>,
    /// Settings and reading histories.
    pub settings: Arc<dyn SettingsDesk>,
    /// Enquiries.
    pub enquiries: Arc<dyn EnquiryDesk>,
}

impl std::fmt::Debug for ReaderServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReaderServices").finish_non_exhaustive()
    }
}
