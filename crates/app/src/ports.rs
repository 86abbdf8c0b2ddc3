//! The ports of the circulation increment: what the routes need that the domain crates do
//! not define as ports (library administration, the catalogue, rules and fine-suspension
//! periods as administered, the ledger's payments and waivers, read models, the audit log,
//! SIP2 station accounts, staff users), and [`CirculationDesk`], the circulation services behind one
//! object-safe trait.
//!
//! `library-persistence` implements them over the database; this crate never sees it.

use async_trait::async_trait;
use library_circulation::closure_moves::{ClosureImpact, MoveTargets};
use library_circulation::overrides::Override;
use library_circulation::ports::{Actor, InfrastructureError};
use library_circulation::ports::{
    CalendarRepository, CirculationStore, FineSuspensionRepository, RuleRepository,
};
use library_circulation::service::{
    CancelHoldError, CancelHoldRequest, ChangeHoldError, ChangeHoldRequest, CheckinError,
    CheckinOutcome, CheckinRequest, CheckoutError, CheckoutOutcome, CheckoutRequest,
    CollectHoldError, CollectHoldRequest, CopyInformation, DeclareLostError, DeclareLostRequest,
    ExpireHoldsError, ExpiryReport, FoundError, FoundOutcome, LostOutcome, PlaceHoldError,
    PlaceHoldRequest, ReaderAccount, RenewAllError, RenewAllOutcome, RenewAllRequest, RenewError,
    RenewOutcome, RenewRequest,
};
use library_circulation::{
    Calendar, CalendarError, CalendarRule, Circulation, Closure, Hold, Item, ItemType, Library,
    Loan, ReaderCategory, RuleScope, RuleSet, ScopedRules,
};
use library_core::{
    Barcode, Clock, Isbn, ItemId, LibraryCode, LibraryKind, LoanId, Money, PatronId, StaffId,
    TitleId,
};
use library_credentials::{PortError, SecretHash, StaffRole, StationSettings, StationUsername};
use library_fines::{
    ChargeId, FineAssessment, FineSuspensionPeriod, ImpactPreview, LedgerError, PatronLedger,
    PeriodError,
};
use time::{Date, OffsetDateTime};

/// Why an administrative operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The record the operation is about does not exist.
    #[error("not found")]
    NotFound,
    /// A unique value (library code, barcode) is taken.
    #[error("already exists")]
    AlreadyExists,
    /// The input refers to records that do not exist or is otherwise unacceptable; the
    /// violations as codes.
    #[error("invalid: {0:?}")]
    Invalid(Vec<&'static str>),
    /// The fine ledger refused (overpayment, nothing outstanding, ...).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A fine-suspension period's dates are not acceptable.
    #[error(transparent)]
    Period(#[from] PeriodError),
    /// A calendar entry is not acceptable.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] InfrastructureError),
}

/// The circulation services (library-circulation's [`Circulation`]) as one object-safe
/// trait, so the state can hold them behind an `Arc`.
#[async_trait]
pub trait CirculationDesk: Send + Sync {
    /// [`Circulation::checkout_as`]: audited in the checkout's transaction.
    async fn checkout(
        &self,
        req: CheckoutRequest,
        by: &Actor,
    ) -> Result<CheckoutOutcome, CheckoutError>;
    /// [`Circulation::checkout_overriding`]: staff stepping over named refusals, audited
    /// with them and the reason. Who may is [`crate::roles::may_override`]'s decision.
    async fn checkout_overriding(
        &self,
        req: CheckoutRequest,
        by: &Actor,
        overriding: &Override,
    ) -> Result<CheckoutOutcome, CheckoutError>;
    /// [`Circulation::renew_overriding`], as [`Self::checkout_overriding`].
    async fn renew_overriding(
        &self,
        req: RenewRequest,
        by: &Actor,
        overriding: &Override,
    ) -> Result<RenewOutcome, RenewError>;
    /// [`Circulation::declare_lost_as`]: audited when made `by` staff (a reader's own
    /// report is not audited).
    async fn declare_lost(
        &self,
        req: DeclareLostRequest,
        by: Option<&Actor>,
    ) -> Result<LostOutcome, DeclareLostError>;
    /// [`Circulation::claim_returned_as`]: audited in its transaction.
    async fn claim_returned(&self, loan: LoanId, by: &Actor) -> Result<Loan, DeclareLostError>;
    /// [`Circulation::found_as`]: audited in its transaction.
    async fn found(
        &self,
        barcode: &Barcode,
        library: &LibraryCode,
        by: &Actor,
    ) -> Result<FoundOutcome, FoundError>;
    /// [`Circulation::checkin_as`]: audited in the checkin's transaction.
    async fn checkin(
        &self,
        req: CheckinRequest,
        by: &Actor,
    ) -> Result<CheckinOutcome, CheckinError>;
    /// [`Circulation::renew_as`]: audited in the renewal's transaction when made `by` staff
    /// (a reader's own renewal is not audited).
    async fn renew(
        &self,
        req: RenewRequest,
        by: Option<&Actor>,
    ) -> Result<RenewOutcome, RenewError>;
    /// [`Circulation::collect_hold_as`]: audited in the collection's transaction.
    async fn collect_hold(
        &self,
        req: CollectHoldRequest,
        by: &Actor,
    ) -> Result<CheckoutOutcome, CollectHoldError>;
    /// [`Circulation::renew_all_as`]: each renewal audited in its own transaction.
    async fn renew_all(
        &self,
        req: RenewAllRequest,
        by: &Actor,
    ) -> Result<RenewAllOutcome, RenewAllError>;
    /// [`Circulation::place_hold_as`]: audited in the hold's transaction when placed `by`
    /// staff (a reader's own hold, or a station's, is not audited).
    async fn place_hold(
        &self,
        req: PlaceHoldRequest,
        by: Option<&Actor>,
    ) -> Result<Hold, PlaceHoldError>;
    /// [`Circulation::cancel_hold_as`]: audited in the cancellation's transaction when made
    /// `by` staff (a reader's own cancellation, or a station's, is not audited).
    async fn cancel_hold(
        &self,
        req: CancelHoldRequest,
        by: Option<&Actor>,
    ) -> Result<Hold, CancelHoldError>;
    /// [`Circulation::change_hold_as`]: suspends, resumes or sets "not needed after";
    /// audited in the change's transaction when made `by` staff.
    async fn change_hold(
        &self,
        req: ChangeHoldRequest,
        by: Option<&Actor>,
    ) -> Result<Hold, ChangeHoldError>;
    /// [`Circulation::expire_waiting_holds`].
    async fn expire_waiting_holds(&self) -> Result<ExpiryReport, ExpireHoldsError>;
    /// [`Circulation::account`].
    async fn account(&self, patron: PatronId)
    -> Result<Option<ReaderAccount>, InfrastructureError>;
    /// [`Circulation::accrued_fines`].
    async fn accrued_fines(
        &self,
        loans: &[(Loan, Option<ReaderCategory>, ItemType)],
    ) -> Result<Vec<FineAssessment>, InfrastructureError>;
    /// [`Circulation::copy_with_open_loan`].
    async fn copy_with_open_loan(
        &self,
        barcode: &Barcode,
    ) -> Result<Option<(Item, Option<Loan>)>, InfrastructureError>;
    /// [`Circulation::copy_information`].
    async fn copy_information(
        &self,
        barcode: &Barcode,
    ) -> Result<Option<CopyInformation>, InfrastructureError>;
}

#[async_trait]
impl<S, R, L, F, C> CirculationDesk for Circulation<S, R, L, F, C>
where
    S: CirculationStore + 'static,
    R: RuleRepository + 'static,
    L: CalendarRepository + 'static,
    F: FineSuspensionRepository + 'static,
    C: Clock + 'static,
{
    async fn checkout(
        &self,
        req: CheckoutRequest,
        by: &Actor,
    ) -> Result<CheckoutOutcome, CheckoutError> {
        Circulation::checkout_as(self, req, Some(by)).await
    }
    async fn checkout_overriding(
        &self,
        req: CheckoutRequest,
        by: &Actor,
        overriding: &Override,
    ) -> Result<CheckoutOutcome, CheckoutError> {
        Circulation::checkout_overriding(self, req, by, overriding).await
    }
    async fn declare_lost(
        &self,
        req: DeclareLostRequest,
        by: Option<&Actor>,
    ) -> Result<LostOutcome, DeclareLostError> {
        Circulation::declare_lost_as(self, req, by).await
    }
    async fn claim_returned(&self, loan: LoanId, by: &Actor) -> Result<Loan, DeclareLostError> {
        Circulation::claim_returned_as(self, loan, Some(by)).await
    }
    async fn found(
        &self,
        barcode: &Barcode,
        library: &LibraryCode,
        by: &Actor,
    ) -> Result<FoundOutcome, FoundError> {
        Circulation::found_as(self, barcode, library, Some(by)).await
    }
    async fn renew_overriding(
        &self,
        req: RenewRequest,
        by: &Actor,
        overriding: &Override,
    ) -> Result<RenewOutcome, RenewError> {
        Circulation::renew_overriding(self, req, by, overriding).await
    }
    async fn checkin(
        &self,
        req: CheckinRequest,
        by: &Actor,
    ) -> Result<CheckinOutcome, CheckinError> {
        Circulation::checkin_as(self, req, Some(by)).await
    }
    async fn renew(
        &self,
        req: RenewRequest,
        by: Option<&Actor>,
    ) -> Result<RenewOutcome, RenewError> {
        Circulation::renew_as(self, req, by).await
    }
    async fn collect_hold(
        &self,
        req: CollectHoldRequest,
        by: &Actor,
    ) -> Result<CheckoutOutcome, CollectHoldError> {
        Circulation::collect_hold_as(self, req, Some(by)).await
    }
    async fn renew_all(
        &self,
        req: RenewAllRequest,
        by: &Actor,
    ) -> Result<RenewAllOutcome, RenewAllError> {
        Circulation::renew_all_as(self, req, Some(by)).await
    }
    async fn place_hold(
        &self,
        req: PlaceHoldRequest,
        by: Option<&Actor>,
    ) -> Result<Hold, PlaceHoldError> {
        Circulation::place_hold_as(self, req, by).await
    }
    async fn cancel_hold(
        &self,
        req: CancelHoldRequest,
        by: Option<&Actor>,
    ) -> Result<Hold, CancelHoldError> {
        Circulation::cancel_hold_as(self, req, by).await
    }
    async fn change_hold(
        &self,
        req: ChangeHoldRequest,
        by: Option<&Actor>,
    ) -> Result<Hold, ChangeHoldError> {
        Circulation::change_hold_as(self, req, by).await
    }
    async fn expire_waiting_holds(&self) -> Result<ExpiryReport, ExpireHoldsError> {
        Circulation::expire_waiting_holds(self).await
    }
    async fn account(
        &self,
        patron: PatronId,
    ) -> Result<Option<ReaderAccount>, InfrastructureError> {
        Circulation::account(self, patron).await
    }
    async fn accrued_fines(
        &self,
        loans: &[(Loan, Option<ReaderCategory>, ItemType)],
    ) -> Result<Vec<FineAssessment>, InfrastructureError> {
        Circulation::accrued_fines(self, loans).await
    }
    async fn copy_with_open_loan(
        &self,
        barcode: &Barcode,
    ) -> Result<Option<(Item, Option<Loan>)>, InfrastructureError> {
        Circulation::copy_with_open_loan(self, barcode).await
    }
    async fn copy_information(
        &self,
        barcode: &Barcode,
    ) -> Result<Option<CopyInformation>, InfrastructureError> {
        Circulation::copy_information(self, barcode).await
    }
}

/// A library to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLibraryInfo {
    /// Its code.
    pub code: LibraryCode,
    /// English name.
    pub name: String,
    /// Traditional Chinese name (may be empty).
    pub name_zh: String,
    /// Its kind.
    pub kind: LibraryKind,
}

/// A library with its calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryInfo {
    /// Code, name, kind as created.
    pub info: NewLibraryInfo,
    /// Its calendar of closed days.
    pub calendar: Calendar,
}

/// Libraries and their calendars. Every change takes the audit record of the staff action
/// and writes it in the change's transaction: the entry exists exactly when the change does.
#[async_trait]
pub trait LibraryAdmin: Send + Sync {
    /// Creates a library ([`AdminError::AlreadyExists`] if the code is taken), with `audit`.
    async fn create(&self, library: &NewLibraryInfo, audit: AuditRecord) -> Result<(), AdminError>;
    /// Every library with its calendar, by code.
    async fn list(&self) -> Result<Vec<LibraryInfo>, AdminError>;
    /// One library with its calendar (kind and calendar, as circulation sees it).
    async fn library(&self, code: &LibraryCode) -> Result<Option<Library>, AdminError>;
    /// Adds a rule to the library's calendar; its id. [`AdminError::NotFound`] for an
    /// unknown library; [`AdminError::Calendar`] for a yearly day no month has. `audit`
    /// makes the audit record of the new entry's id.
    async fn add_calendar_entry(
        &self,
        code: &LibraryCode,
        rule: CalendarRule,
        reason: &str,
        audit: &(dyn Fn(i64) -> AuditRecord + Send + Sync),
    ) -> Result<i64, AdminError>;
    /// The library's calendar entries in the order added; `None` for an unknown library.
    async fn calendar_entries(
        &self,
        code: &LibraryCode,
    ) -> Result<Option<Vec<CalendarEntryInfo>>, AdminError>;
    /// Removes the library's calendar entry `id`, with `audit`; `false` if it has none such
    /// (and nothing is audited).
    async fn remove_calendar_entry(
        &self,
        code: &LibraryCode,
        id: i64,
        audit: AuditRecord,
    ) -> Result<bool, AdminError>;
    /// What declaring `closure` at library `code` would do with deadlines moving to
    /// `targets`: the moves of the open loans it lent and the holds waiting on its shelf
    /// (`library_circulation::closure_moves`). Changes nothing. [`AdminError::NotFound`]
    /// for an unknown library.
    async fn closure_impact(
        &self,
        code: &LibraryCode,
        closure: Closure,
        targets: MoveTargets,
    ) -> Result<ClosureImpact, AdminError>;
    /// Declares `closure` at library `code` and moves the deadlines inside it to `targets`,
    /// in one transaction: the calendar entry, every moved due date and pickup-by date, one
    /// `loan.deadlines_moved` notice per reader affected (queued at `at`) and the audit
    /// record `audit` makes of the new entry's id and the moves. A loan returned or renewed,
    /// or a hold collected, by a transaction that committed first keeps that change.
    /// [`AdminError::NotFound`] for an unknown library.
    async fn declare_closure(
        &self,
        code: &LibraryCode,
        closure: Closure,
        reason: &str,
        targets: MoveTargets,
        at: OffsetDateTime,
        audit: &(dyn for<'i> Fn(i64, &'i ClosureImpact) -> AuditRecord + Send + Sync),
    ) -> Result<DeclaredClosure, AdminError>;
}

/// A closure declared: its calendar entry and the deadlines it moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredClosure {
    /// The calendar entry's id.
    pub id: i64,
    /// The deadlines moved.
    pub impact: ClosureImpact,
}

/// A rule of a library's calendar as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEntryInfo {
    /// Its id (to remove it).
    pub id: i64,
    /// The rule.
    pub rule: CalendarRule,
    /// Why.
    pub reason: String,
}

/// An item to add to the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCopy {
    /// Its title.
    pub title: TitleId,
    /// Its barcode (unique).
    pub barcode: Barcode,
    /// Its item type.
    pub item_type: ItemType,
    /// Its home library.
    pub home_library: LibraryCode,
    /// What replacing it costs if it is lost; `None`: its title's, else the rule's.
    pub replacement_cost: Option<library_core::Money>,
}

/// A title as the catalogue records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleInfo {
    /// The title proper.
    pub name: String,
    /// Its author, if recorded.
    pub author: Option<String>,
    /// Its ISBN, if recorded.
    pub isbn: Option<Isbn>,
    /// What replacing a lost copy costs, if recorded (a copy's own cost comes first).
    pub replacement_cost: Option<Money>,
}

/// Titles and items.
#[async_trait]
pub trait CatalogueAdmin: Send + Sync {
    /// Creates a title; its id. `audit` makes the audit record of the id, written in the
    /// title's transaction.
    async fn create_title(
        &self,
        title: &TitleInfo,
        audit: &(dyn Fn(TitleId) -> AuditRecord + Send + Sync),
    ) -> Result<TitleId, AdminError>;
    /// Title `id` as recorded; `None` if there is no such title.
    async fn title(&self, id: TitleId) -> Result<Option<TitleInfo>, AdminError>;
    /// Adds an available item; its id. Unknown title or library: [`AdminError::Invalid`];
    /// a barcode taken: [`AdminError::AlreadyExists`]. `audit` makes the audit record of
    /// the id, written in the item's transaction.
    async fn create_item(
        &self,
        item: &NewCopy,
        audit: &(dyn Fn(ItemId) -> AuditRecord + Send + Sync),
    ) -> Result<ItemId, AdminError>;
    /// The title's name; `None` if there is no such title.
    async fn title_name(&self, title: TitleId) -> Result<Option<String>, AdminError>;
    /// The names of the titles `ids` in one read (a reader's loans and holds, a station's
    /// patron information); a title that does not exist is absent.
    async fn title_names(
        &self,
        ids: &[TitleId],
    ) -> Result<std::collections::HashMap<TitleId, String>, AdminError>;
    /// Copy `id`; `None` if there is no such copy.
    async fn item(&self, id: ItemId) -> Result<Option<Item>, AdminError>;
    /// The copy with `barcode`; `None` if there is no such copy.
    async fn item_by_barcode(&self, barcode: &Barcode) -> Result<Option<Item>, AdminError>;
    /// The titles containing every word of `query` in their title, author or ISBN, best
    /// match first (the exact title, then titles starting with the query, then by title),
    /// one page of them, with their copies and the available ones counted (at
    /// `query.library` when given).
    async fn search(
        &self,
        query: &crate::catalogue::CatalogueQuery,
    ) -> Result<library_reader_services::Page<crate::catalogue::CatalogueHit>, AdminError>;
}

/// Circulation rules as administered.
#[async_trait]
pub trait RuleAdmin: Send + Sync {
    /// Every scope with the rules stored there.
    async fn list(&self) -> Result<Vec<ScopedRules>, AdminError>;
    /// The rules in force, as circulation resolves them (cached: no database read while
    /// nothing changed).
    async fn in_force(&self) -> Result<Vec<ScopedRules>, AdminError>;
    /// Sets the rules given in `set` at `scope` and removes the rules named in `remove`,
    /// with `audit`, in one transaction.
    async fn update(
        &self,
        scope: &RuleScope,
        set: &RuleSet,
        remove: &[&'static str],
        audit: AuditRecord,
    ) -> Result<(), AdminError>;
    /// Replaces every stored rule with `scoped` (a whole policy), with `audit`, in one
    /// transaction.
    async fn replace_all(
        &self,
        scoped: &[ScopedRules],
        audit: AuditRecord,
    ) -> Result<(), AdminError>;
}

/// A stored fine-suspension period and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSuspension {
    /// Its id.
    pub id: i64,
    /// The period.
    pub period: FineSuspensionPeriod,
}

/// Fine-suspension periods as administered.
#[async_trait]
pub trait FineSuspensionAdmin: Send + Sync {
    /// Stores a period; its id. `audit` makes the audit record of the id, written in the
    /// period's transaction.
    async fn create(
        &self,
        period: &FineSuspensionPeriod,
        audit: &(dyn Fn(i64) -> AuditRecord + Send + Sync),
    ) -> Result<i64, AdminError>;
    /// Every period, oldest first.
    async fn list(&self) -> Result<Vec<StoredSuspension>, AdminError>;
    /// Sets or moves the resume date, with `audit`; the period now stored. Unknown id:
    /// `NotFound`.
    async fn set_resume_date(
        &self,
        id: i64,
        resumes_on: Date,
        audit: AuditRecord,
    ) -> Result<FineSuspensionPeriod, AdminError>;
    /// The impact preview of `candidate` over every loan not yet returned, fines as of
    /// `as_of`, with the stored periods in force. Changes nothing.
    async fn preview(
        &self,
        candidate: &FineSuspensionPeriod,
        as_of: Date,
    ) -> Result<ImpactPreview, AdminError>;
}

/// Readers' fine ledgers and the read models of circulation.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Reader `patron`'s ledger.
    async fn ledger(&self, patron: PatronId) -> Result<PatronLedger, AdminError>;
    /// Takes a payment (oldest charges first); the amount paid. `audit` is recorded in the
    /// payment's transaction.
    async fn pay(
        &self,
        patron: PatronId,
        amount: Money,
        on: Date,
        audit: AuditRecord,
    ) -> Result<Money, AdminError>;
    /// The reader a charge belongs to; `None` if there is no such charge.
    async fn charge_owner(&self, charge: ChargeId) -> Result<Option<PatronId>, AdminError>;
    /// Waives what is left of a charge; the amount written off. `audit` makes the audit
    /// record of that amount, recorded in the waiver's transaction.
    async fn waive(
        &self,
        patron: PatronId,
        charge: ChargeId,
        reason: &str,
        on: Date,
        audit: &(dyn Fn(Money) -> AuditRecord + Send + Sync),
    ) -> Result<Money, AdminError>;
    /// The item barcodes of every loan of the reader.
    async fn loan_barcodes(&self, patron: PatronId) -> Result<Vec<(LoanId, Barcode)>, AdminError>;
    /// Queued and waiting holds of the reader and those ended since `ended_since`.
    async fn holds_of(
        &self,
        patron: PatronId,
        ended_since: OffsetDateTime,
    ) -> Result<Vec<Hold>, AdminError>;
}

/// A staff action to record. The interfaces that change data take it (or a function making
/// it from the new record's id) and write it in the change's own transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Who.
    pub staff: Option<StaffId>,
    /// What (`circulation.checkout`, `fine.waive`, ...).
    pub action: &'static str,
    /// On what (`item:123`, `patron:42`, ...).
    pub subject: String,
    /// Details as JSON text (never secrets).
    pub details: String,
    /// When.
    pub at: OffsetDateTime,
}

/// The audit log of staff actions, appended on its own: only for a change that is not one
/// transaction of this layer's stores (a Password reset at the counter, in the credential
/// service).
#[async_trait]
pub trait AuditTrail: Send + Sync {
    /// Appends an entry.
    async fn record(&self, entry: AuditRecord) -> Result<(), AdminError>;
}

/// A SIP2 station account to create (the password already hashed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStation {
    /// What the station sends in `CN`.
    pub username: StationUsername,
    /// The password's hash.
    pub password_hash: SecretHash,
    /// The library its checkouts lend from.
    pub library: LibraryCode,
    /// When.
    pub created_at: OffsetDateTime,
    /// Who created it (the staff username).
    pub created_by: String,
    /// What it may do: PIN required, may block, where it may log in from.
    pub settings: StationSettings,
}

/// A SIP2 station account as staff see it: never its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationInfo {
    /// What the station sends in `CN`.
    pub username: StationUsername,
    /// The library its checkouts lend from.
    pub library: LibraryCode,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// Who created it.
    pub created_by: String,
    /// What it may do: PIN required, may block, where it may log in from.
    pub settings: StationSettings,
}

/// The SIP2 connections of this process, as the station accounts see them: a deleted
/// station loses its open connections. Implemented by the app over its SIP2 server.
pub trait StationConnections: Send + Sync {
    /// Closes every connection logged in as `username`; how many there were.
    fn disconnect(&self, username: &StationUsername) -> usize;
}

/// A station account as its login checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationLogin {
    /// What the station sends in `CN`.
    pub username: StationUsername,
    /// The password's hash.
    pub password_hash: SecretHash,
    /// The library its checkouts lend from.
    pub library: LibraryCode,
    /// What it may do: PIN required, may block, where it may log in from.
    pub settings: StationSettings,
}

/// SIP2 station accounts, and the SIP2 connections they hold.
#[async_trait]
pub trait Sip2Stations: Send + Sync {
    /// Creates an account, with `audit`. A username taken: [`AdminError::AlreadyExists`];
    /// a library that does not exist: [`AdminError::Invalid`] with `unknown_library`.
    async fn create(&self, station: &NewStation, audit: AuditRecord) -> Result<(), AdminError>;
    /// Every account, by username.
    async fn list(&self) -> Result<Vec<StationInfo>, AdminError>;
    /// Replaces the settings of the account, with `audit`; [`AdminError::NotFound`] when
    /// there is no such account. The SIP2 connections logged in with it are closed (they
    /// hold the settings they logged in with), so the station logs in again under the new
    /// ones.
    async fn update_settings(
        &self,
        username: &StationUsername,
        settings: &StationSettings,
        audit: AuditRecord,
    ) -> Result<(), AdminError>;
    /// The account `username` logs in to; `None` if there is none.
    async fn find(&self, username: &StationUsername) -> Result<Option<StationLogin>, AdminError>;
    /// Deletes the account and closes the SIP2 connections logged in with it; how many
    /// were closed, or `None` if there was no such account (nothing audited then). `audit`
    /// makes the audit record of the connections closed before the deletion commits; it is
    /// written in the deletion's transaction.
    async fn delete(
        &self,
        username: &StationUsername,
        audit: &(dyn Fn(usize) -> AuditRecord + Send + Sync),
    ) -> Result<Option<usize>, AdminError>;
}

/// A staff user to create (the password already hashed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaffMember {
    /// The login name, checked ([`library_credentials::is_valid_staff_username`]).
    pub username: String,
    /// The password's hash.
    pub password_hash: SecretHash,
    /// The role.
    pub role: StaffRole,
    /// Granted `override` (docs/circulation.md, Overrides).
    pub may_override: bool,
    /// When.
    pub created_at: OffsetDateTime,
}

/// A staff user as an administrator sees it: never the password or its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    /// The user.
    pub id: StaffId,
    /// The login name as stored (lower-cased).
    pub username: String,
    /// The role.
    pub role: StaffRole,
    /// Granted `override`.
    pub may_override: bool,
}

/// Staff users, as administrators manage them over HTTP.
#[async_trait]
pub trait StaffDirectory: Send + Sync {
    /// Creates a staff user; `Ok(None)` if the username is taken (in any case). `audit`
    /// makes the audit record of the user created, written in the same transaction.
    async fn create(
        &self,
        new: &NewStaffMember,
        audit: &(dyn for<'m> Fn(&'m StaffMember) -> AuditRecord + Send + Sync),
    ) -> Result<Option<StaffMember>, PortError>;
    /// Every staff user, by username.
    async fn list(&self) -> Result<Vec<StaffMember>, PortError>;
}
