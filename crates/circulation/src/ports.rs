//! The ports circulation needs from the outside world, named by role and speaking domain
//! types only. Adapters (SQL, in-memory) implement them; services are generic over them.
//!
//! Two kinds:
//! - **Configuration reads** ([`RuleRepository`], [`CalendarRepository`],
//!   [`FineSuspensionRepository`]) are read outside any transaction: they change rarely and
//!   a read a moment stale is harmless.
//! - **The unit of work** ([`CirculationStore`] → [`CirculationTransaction`]) covers every
//!   record an operation reads to decide and then writes: readers, items, titles (their hold
//!   queues), loans, holds and the fine ledger. A SQL adapter implements one transaction per
//!   [`CirculationStore::begin`]; methods named `*_for_update` lock the row
//!   (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite takes the write lock with
//!   `BEGIN IMMEDIATE`). So two checkouts of one item never both pass: the second waits for
//!   the first's commit and then sees the item on loan (docs/circulation.md).
//!   Dropping a transaction without [`CirculationTransaction::commit`] rolls it back.
//!
//! **Lock order**, to rule out deadlocks between processes: patron, then title, then item.
//! Services take locks only in that order (a plain read may come earlier, and is re-read
//! after locking when it matters). A title's row lock guards its hold queue, which is why
//! queue positions are never duplicated; an item's lock guards its loan and status; a
//! patron's lock guards their quota, charges and suspension.
//!
//! Every method returns [`InfrastructureError`] when the store cannot answer (connection
//! lost, serialization failure, corrupt row); that is its only error. "Not found" is
//! `Ok(None)`, never an error.

use async_trait::async_trait;
use library_core::{
    Barcode, CardNumber, HoldId, ItemId, LibraryCode, LoanId, Money, PatronId, StaffId, TitleId,
};
use library_fines::{ChargeId, FineSuspensionPeriod, NewCharge};
use time::Date;

use crate::hold_options::CancelReason;
use crate::hold_queue::{Hold, NewHold};
use crate::model::{Item, ItemPlacement, ItemStatus, Library, Loan, NewLoan, Patron, Title};
use crate::rules::ScopedRules;

/// An adapter could not do its job. Opaque on purpose: services pass it through, inbound
/// adapters log it and answer "internal error" without its text, or "service unavailable,
/// try again" when [`InfrastructureError::is_unavailable`]. Its text ends with its
/// source's, so a log line keeps the dependency's own words ("database or disk is full").
#[derive(Debug)]
pub struct InfrastructureError {
    message: String,
    unavailable: bool,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl std::fmt::Display for InfrastructureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "infrastructure failure: {}", self.message)?;
        let mut source: Option<&(dyn std::error::Error + 'static)> = match &self.source {
            Some(s) => Some(s.as_ref()),
            None => None,
        };
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// The source's text is part of the message (see `Display`), so the chain ends here.
impl std::error::Error for InfrastructureError {}

impl InfrastructureError {
    /// A failure described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            unavailable: false,
            source: None,
        }
    }

    /// A failure caused by `source`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            unavailable: false,
            source: Some(Box::new(source)),
        }
    }

    /// A dependency that cannot serve now (the database unreachable, busy past its
    /// timeout, out of space), caused by `source`: a later try may succeed.
    pub fn unavailable(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            unavailable: true,
            ..Self::with_source(message, source)
        }
    }

    /// Whether the failure is a dependency that cannot serve now, not a fault.
    pub fn is_unavailable(&self) -> bool {
        self.unavailable
    }
}

/// The stored circulation rules.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RuleRepository: Send + Sync {
    /// Every scope with the rules set there (resolution is the domain's job:
    /// [`crate::EffectiveRules::resolve`]).
    ///
    /// # Errors
    /// [`InfrastructureError`] if the rules cannot be read.
    async fn scoped_rules(&self) -> Result<Vec<ScopedRules>, InfrastructureError>;
}

/// Libraries with their kind, calendar of closed days and UTC offset.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CalendarRepository: Send + Sync {
    /// The library `code` with its calendar; `None` if there is no such library.
    ///
    /// # Errors
    /// [`InfrastructureError`] if the library or its calendar cannot be read.
    async fn library_calendar(
        &self,
        code: &LibraryCode,
    ) -> Result<Option<Library>, InfrastructureError>;
}

/// Fine-suspension periods (library-fines decides which apply to a loan).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait FineSuspensionRepository: Send + Sync {
    /// Every fine-suspension period, whatever its scope.
    ///
    /// # Errors
    /// [`InfrastructureError`] if the periods cannot be read.
    async fn fine_suspension_periods(
        &self,
    ) -> Result<Vec<FineSuspensionPeriod>, InfrastructureError>;
}

/// Readers, inside a transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PatronRepository: Send {
    /// The reader with card `card`, row locked until the transaction ends.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn patron_by_card_for_update(
        &mut self,
        card: &CardNumber,
    ) -> Result<Option<Patron>, InfrastructureError>;

    /// The reader `id`, row locked until the transaction ends.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn patron_for_update(
        &mut self,
        id: PatronId,
    ) -> Result<Option<Patron>, InfrastructureError>;

    /// The reader `id`, without a lock (e.g. a hold's owner, for their category).
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn patron(&mut self, id: PatronId) -> Result<Option<Patron>, InfrastructureError>;

    /// Sets the first date reader `id` may borrow again (`None` = not suspended).
    ///
    /// # Errors
    /// [`InfrastructureError`], also if there is no such reader.
    async fn set_suspended_until(
        &mut self,
        id: PatronId,
        until: Option<Date>,
    ) -> Result<(), InfrastructureError>;
}

/// Items, inside a transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ItemRepository: Send {
    /// The item with `barcode`, without a lock.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn item_by_barcode(
        &mut self,
        barcode: &Barcode,
    ) -> Result<Option<Item>, InfrastructureError>;

    /// The item `id`, without a lock.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn item(&mut self, id: ItemId) -> Result<Option<Item>, InfrastructureError>;

    /// The item `id`, row locked until the transaction ends (guards its status and loan).
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn item_for_update(&mut self, id: ItemId) -> Result<Option<Item>, InfrastructureError>;

    /// Sets the status of item `id`.
    ///
    /// # Errors
    /// [`InfrastructureError`], also if there is no such item.
    async fn set_item_status(
        &mut self,
        id: ItemId,
        status: ItemStatus,
    ) -> Result<(), InfrastructureError>;

    /// Puts item `id` where `placement` says: its status, the library it is at and, in
    /// transit, its destination (cleared otherwise).
    ///
    /// # Errors
    /// [`InfrastructureError`], also if there is no such item.
    async fn place_item(
        &mut self,
        id: ItemId,
        placement: &ItemPlacement,
    ) -> Result<(), InfrastructureError>;
}

/// Titles, inside a transaction. A title's lock guards its hold queue.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TitleRepository: Send {
    /// The title `id`, row locked until the transaction ends.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn title_for_update(&mut self, id: TitleId)
    -> Result<Option<Title>, InfrastructureError>;
}

/// Loans, inside a transaction (guarded by their item's lock).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LoanRepository: Send {
    /// The loan `id`, open or returned.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn loan(&mut self, id: LoanId) -> Result<Option<Loan>, InfrastructureError>;

    /// The open loan of item `item`, if it is on loan.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn open_loan_of_item(
        &mut self,
        item: ItemId,
    ) -> Result<Option<Loan>, InfrastructureError>;

    /// Reader `patron`'s open loans.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn open_loans_of_patron(
        &mut self,
        patron: PatronId,
    ) -> Result<Vec<Loan>, InfrastructureError>;

    /// Stores a new loan and returns it with its id.
    ///
    /// # Errors
    /// [`InfrastructureError`], also if the item already has an open loan (a SQL adapter
    /// backs this with a unique index on open loans per item).
    async fn insert_loan(&mut self, loan: NewLoan) -> Result<Loan, InfrastructureError>;

    /// Overwrites the stored loan with the same id (renewal, return).
    ///
    /// # Errors
    /// [`InfrastructureError`], also if there is no such loan.
    async fn update_loan(&mut self, loan: &Loan) -> Result<(), InfrastructureError>;
}

/// Holds, inside a transaction (queue changes need the title's lock).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait HoldRepository: Send {
    /// The hold `id`, whatever its status.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn hold(&mut self, id: HoldId) -> Result<Option<Hold>, InfrastructureError>;

    /// The queued and waiting holds of `title`.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn active_holds_of_title(
        &mut self,
        title: TitleId,
    ) -> Result<Vec<Hold>, InfrastructureError>;

    /// Reader `patron`'s queued and waiting holds.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn active_holds_of_patron(
        &mut self,
        patron: PatronId,
    ) -> Result<Vec<Hold>, InfrastructureError>;

    /// The waiting hold `item` is trapped for, if any.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn waiting_hold_for_item(
        &mut self,
        item: ItemId,
    ) -> Result<Option<Hold>, InfrastructureError>;

    /// Every waiting hold (for the expiry job).
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn waiting_holds(&mut self) -> Result<Vec<Hold>, InfrastructureError>;

    /// Every queued hold whose "not needed after" date is before `before` (for the expiry
    /// job, which checks each against its pickup library's today).
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn queued_holds_not_needed_before(
        &mut self,
        before: Date,
    ) -> Result<Vec<Hold>, InfrastructureError>;

    /// Stores a new queued hold and returns it with its id.
    ///
    /// # Errors
    /// [`InfrastructureError`], also if the position is taken (a SQL adapter backs this with
    /// a unique index on (title, position) of queued holds).
    async fn insert_hold(&mut self, hold: NewHold) -> Result<Hold, InfrastructureError>;

    /// Overwrites the stored hold with the same id.
    ///
    /// # Errors
    /// [`InfrastructureError`], also if there is no such hold.
    async fn update_hold(&mut self, hold: &Hold) -> Result<(), InfrastructureError>;
}

/// The readers' fine ledger (library-fines' charges), inside a transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait FineLedger: Send {
    /// What reader `patron` owes in unpaid charges (fines accruing on open loans are not
    /// included; the service adds them).
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn outstanding_charges(&mut self, patron: PatronId)
    -> Result<Money, InfrastructureError>;

    /// Adds a charge to reader `patron`'s ledger.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn add_charge(
        &mut self,
        patron: PatronId,
        charge: NewCharge,
    ) -> Result<ChargeId, InfrastructureError>;
}

/// A message for a reader that a circulation change calls for, queued in the same unit of
/// work as the change (sent only if it commits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CirculationNotice {
    /// A copy was put on the hold shelf for the reader's hold ("hold ready for pickup").
    HoldWaiting {
        /// The reader.
        patron: PatronId,
        /// The hold.
        hold: HoldId,
        /// The title reserved.
        title: TitleId,
        /// The copy on the shelf.
        item: ItemId,
        /// Where to collect it.
        pickup_library: LibraryCode,
        /// The last day to collect it (the pickup library's local date).
        pickup_by: time::Date,
    },
    /// A waiting hold was not collected by its last day and ended ("hold expired").
    HoldExpired {
        /// The reader.
        patron: PatronId,
        /// The hold.
        hold: HoldId,
        /// The title reserved.
        title: TitleId,
        /// Where it waited.
        pickup_library: LibraryCode,
        /// The last day it could have been collected.
        pickup_by: time::Date,
    },
    /// A queued hold passed the reader's "not needed after" date and ended ("hold no longer
    /// needed").
    HoldNotNeeded {
        /// The reader.
        patron: PatronId,
        /// The hold.
        hold: HoldId,
        /// The title reserved.
        title: TitleId,
        /// Where it would have been collected.
        pickup_library: LibraryCode,
        /// The reader's last date of interest.
        not_needed_after: time::Date,
    },
}

/// The notices queue, inside a transaction (the server's outbox).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait NoticeQueue: Send {
    /// Queues `notice`, raised at `at`; it is sent once the transaction commits.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn queue_notice(
        &mut self,
        notice: CirculationNotice,
        at: time::OffsetDateTime,
    ) -> Result<(), InfrastructureError>;
}

/// Who made a circulation change, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// Staff at a counter.
    Staff(StaffId),
    /// A self-service station, by the station id it logged in with.
    Station(String),
}

/// A circulation change, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CirculationEvent {
    /// A loan made.
    Checkout {
        /// The new loan.
        loan: LoanId,
        /// The borrower's card, as presented.
        card_number: CardNumber,
        /// The copy's barcode.
        item_barcode: Barcode,
        /// The lending library.
        library: LibraryCode,
        /// The reader's hold the checkout collected, if any.
        collected_hold: Option<HoldId>,
        /// The refusals staff overrode to make it, and why.
        overridden: Option<crate::overrides::Overridden>,
    },
    /// A copy returned.
    Checkin {
        /// The loan closed.
        loan: LoanId,
        /// The copy's barcode.
        item_barcode: Barcode,
        /// Where it was returned.
        library: LibraryCode,
        /// The fine fixed as a charge (zero if none).
        fine: Money,
        /// Returned through a book drop (with an earlier return time).
        book_drop: bool,
    },
    /// A loan renewed.
    Renewal {
        /// The loan.
        loan: LoanId,
        /// The fine accrued so far, fixed as a charge (zero if none).
        fine_charged: Money,
        /// The refusals staff overrode to renew it, and why.
        overridden: Option<crate::overrides::Overridden>,
    },
    /// A hold placed for a reader.
    HoldPlaced {
        /// The new hold.
        hold: HoldId,
        /// The reader's card.
        card_number: CardNumber,
        /// The title held.
        title: TitleId,
    },
    /// A loan's item declared lost: the loan ended, its charges fixed.
    LostDeclared {
        /// The loan.
        loan: LoanId,
        /// The copy's barcode.
        item_barcode: Barcode,
        /// The overdue fine fixed (zero if none).
        fine: Money,
        /// The replacement cost charged.
        replacement: Money,
        /// The processing fee charged.
        processing: Money,
    },
    /// A loan ended on the reader's claim to have returned it, for staff review.
    ClaimedReturned {
        /// The loan.
        loan: LoanId,
        /// The copy's barcode.
        item_barcode: Barcode,
    },
    /// A lost item found and returned.
    LostFound {
        /// The loan that ended when it was declared lost.
        loan: LoanId,
        /// The copy's barcode.
        item_barcode: Barcode,
        /// Where it was returned.
        library: LibraryCode,
        /// What was unpaid of its replacement and processing lines, written off.
        written_off: Money,
        /// What had been paid on them, owed back to the reader.
        owed_back: Money,
    },
    /// A copy in transit scanned in at its destination (an arrival: no loan).
    TransitReceived {
        /// The copy.
        item: ItemId,
        /// The copy's barcode.
        item_barcode: Barcode,
        /// Where it arrived.
        library: LibraryCode,
        /// The hold it was trapped for on arrival, if any.
        trapped_hold: Option<HoldId>,
        /// Where it travels on, if it does (its hold ended meanwhile).
        in_transit_to: Option<LibraryCode>,
    },
    /// A reader's hold cancelled.
    HoldCancelled {
        /// The hold.
        hold: HoldId,
        /// The reader's card.
        card_number: CardNumber,
        /// The reason staff gave the reader, if any.
        reason: Option<CancelReason>,
    },
    /// A reader's hold suspended, resumed, or given a "not needed after" date.
    HoldChanged {
        /// The hold.
        hold: HoldId,
        /// The reader's card.
        card_number: CardNumber,
        /// The suspension's end after the change (`None`: not suspended).
        suspended_until: Option<Date>,
        /// The last date of interest after the change.
        not_needed_after: Option<Date>,
    },
}

/// An audit log entry of a circulation change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CirculationRecord {
    /// Who made the change.
    pub by: Actor,
    /// What changed.
    pub event: CirculationEvent,
    /// When.
    pub at: time::OffsetDateTime,
}

/// The audit log, inside a transaction: an entry is written with the change it records and
/// commits with it, or not at all.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AuditJournal: Send {
    /// Appends `record`; it is kept once the transaction commits.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn record(&mut self, record: CirculationRecord) -> Result<(), InfrastructureError>;
}

/// Where a circulation change was made, as the statistics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CirculationChannel {
    /// Staff at a counter (and the book drop they empty).
    Counter,
    /// A self-service station (SIP2).
    Station,
    /// The reader online, with a Password session (web pages, the app).
    Online,
    /// The reader by telephone or another PIN session.
    Pin,
}

impl CirculationChannel {
    /// The channel of a change made `by` someone: a station's, else the counter's. A
    /// reader's own change names its channel itself.
    pub fn of(by: Option<&Actor>) -> Self {
        match by {
            Some(Actor::Station(_)) => Self::Station,
            _ => Self::Counter,
        }
    }

    /// The stable code (`counter`, `station`, `online`, `pin`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Station => "station",
            Self::Online => "online",
            Self::Pin => "pin",
        }
    }

    /// The channel of a code; `None` for anything else.
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Counter, Self::Station, Self::Online, Self::Pin]
            .into_iter()
            .find(|c| c.code() == code)
    }
}

/// What a circulation statistic counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StatisticKind {
    /// A loan made (a hold's collection included).
    Checkout,
    /// A copy returned.
    Checkin,
    /// A loan renewed.
    Renewal,
    /// A hold placed.
    HoldPlaced,
    /// A hold collected: its waiting copy lent, or a copy from the shelf lent to a reader
    /// whose hold on the title was queued.
    HoldCollected,
}

impl StatisticKind {
    /// The stable code (`checkout`, `checkin`, `renewal`, `hold_placed`, `hold_collected`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Checkout => "checkout",
            Self::Checkin => "checkin",
            Self::Renewal => "renewal",
            Self::HoldPlaced => "hold_placed",
            Self::HoldCollected => "hold_collected",
        }
    }

    /// The kind of a code; `None` for anything else.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Checkout,
            Self::Checkin,
            Self::Renewal,
            Self::HoldPlaced,
            Self::HoldCollected,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }
}

/// One circulation event as the statistics count it: no reader, so it outlives the
/// anonymisation of the loan (docs/circulation.md, Statistics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CirculationStatistic {
    /// What happened.
    pub kind: StatisticKind,
    /// Through which channel; `None` where it is not told apart (holds).
    pub channel: Option<CirculationChannel>,
    /// The library it counts for: the lending library of a checkout and a renewal, the
    /// library of a checkin, the pickup library of a hold.
    pub library: LibraryCode,
    /// That library's local date when it happened.
    pub on: Date,
    /// When it happened.
    pub at: time::OffsetDateTime,
    /// The loan, for checkouts, checkins, renewals and collections.
    pub loan: Option<LoanId>,
    /// The hold, for holds placed and collected.
    pub hold: Option<HoldId>,
}

/// The circulation statistics, inside a transaction: an event is counted with the change
/// and commits with it, or not at all.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StatisticsJournal: Send {
    /// Counts `statistic`; it is kept once the transaction commits.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn count(&mut self, statistic: CirculationStatistic) -> Result<(), InfrastructureError>;
}

/// One unit of work over every record circulation writes. Dropped without
/// [`commit`](CirculationTransaction::commit): rolled back.
#[async_trait]
pub trait CirculationTransaction:
    PatronRepository
    + ItemRepository
    + TitleRepository
    + LoanRepository
    + HoldRepository
    + FineLedger
    + NoticeQueue
    + AuditJournal
    + StatisticsJournal
    + Send
{
    /// Makes every write of this transaction visible at once.
    ///
    /// # Errors
    /// [`InfrastructureError`] if the commit fails (nothing is written then), including a
    /// serialization failure against a concurrent transaction.
    async fn commit(self: Box<Self>) -> Result<(), InfrastructureError>;

    /// Reader `patron`'s open loans, each with its item, in loan order. The default reads
    /// the items one by one; a database joins them in one query.
    ///
    /// # Errors
    /// [`InfrastructureError`], also if a loan's item is missing.
    async fn open_loans_with_items(
        &mut self,
        patron: PatronId,
    ) -> Result<Vec<(Loan, Item)>, InfrastructureError> {
        let loans = self.open_loans_of_patron(patron).await?;
        let mut out = Vec::with_capacity(loans.len());
        for loan in loans {
            let item = self.item(loan.item).await?.ok_or_else(|| {
                InfrastructureError::new(format!("loan {} refers to a missing item", loan.id))
            })?;
            out.push((loan, item));
        }
        Ok(out)
    }

    /// Reader `patron`'s open loans with their items (as [`Self::open_loans_with_items`])
    /// and what they owe in unpaid charges (as [`FineLedger::outstanding_charges`]): what a
    /// borrowing decision weighs. The default makes both reads; a database answers in one
    /// query.
    ///
    /// # Errors
    /// [`InfrastructureError`], also if a loan's item is missing.
    async fn open_loans_and_charges(
        &mut self,
        patron: PatronId,
    ) -> Result<(Vec<(Loan, Item)>, Money), InfrastructureError> {
        let loans = self.open_loans_with_items(patron).await?;
        let owed = self.outstanding_charges(patron).await?;
        Ok((loans, owed))
    }

    /// [`Self::open_loans_and_charges`] of `patron` and the active holds of `title`
    /// ([`HoldRepository::active_holds_of_title`]): a checkout's reads once its locks are
    /// held. The default makes both reads ([`loans_charges_and_holds_by_parts`]); a
    /// database may send them at once.
    ///
    /// # Errors
    /// As those two.
    async fn open_loans_charges_and_holds(
        &mut self,
        patron: PatronId,
        title: TitleId,
    ) -> Result<LoansChargesAndHolds, InfrastructureError> {
        loans_charges_and_holds_by_parts(self, patron, title).await
    }

    /// The item with `barcode` and its title, both row locked in the lock order (title,
    /// then item) and read under their locks. The default reads the item, then locks the
    /// title and the item; a database does all three in one statement.
    ///
    /// # Errors
    /// [`InfrastructureError`], also if the item's title is missing.
    async fn lock_copy_by_barcode(
        &mut self,
        barcode: &Barcode,
    ) -> Result<Option<(Title, Item)>, InfrastructureError> {
        let Some(plain) = self.item_by_barcode(barcode).await? else {
            return Ok(None);
        };
        lock_title_then_item(self, plain).await
    }

    /// Item `id` and its title, locked as [`Self::lock_copy_by_barcode`] does, with the
    /// item's open loan. The loan is read as the call begins, not under the item's lock: a
    /// caller that needs it current holds the lock of the reader it expects as borrower
    /// (every write of a loan holds its borrower's lock), and treats a loan of anyone
    /// else as stale.
    ///
    /// # Errors
    /// [`InfrastructureError`], also if the item's title is missing.
    async fn lock_copy(
        &mut self,
        id: ItemId,
    ) -> Result<Option<(Title, Item, Option<Loan>)>, InfrastructureError> {
        let Some(plain) = self.item(id).await? else {
            return Ok(None);
        };
        let Some((title, item)) = lock_title_then_item(self, plain).await? else {
            return Ok(None);
        };
        let loan = self.open_loan_of_item(id).await?;
        Ok(Some((title, item, loan)))
    }

    /// [`Self::lock_copy`], and the active holds of the copy's title read after the locks
    /// (a checkin's or a renewal's reads of the copy). The default makes both reads
    /// ([`lock_copy_with_holds_by_parts`]); a database may send them at once.
    ///
    /// # Errors
    /// As those two.
    async fn lock_copy_with_holds(
        &mut self,
        id: ItemId,
    ) -> Result<Option<(LockedCopy, Vec<Hold>)>, InfrastructureError> {
        lock_copy_with_holds_by_parts(self, id).await
    }

    /// The item with `barcode` and its open loan, without locks (a first look). The default
    /// makes two reads; a database joins them.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn item_with_open_loan_by_barcode(
        &mut self,
        barcode: &Barcode,
    ) -> Result<Option<(Item, Option<Loan>)>, InfrastructureError> {
        let Some(item) = self.item_by_barcode(barcode).await? else {
            return Ok(None);
        };
        let loan = self.open_loan_of_item(item.id).await?;
        Ok(Some((item, loan)))
    }

    /// A counter checkout's reads, in the lock order: the reader with `card`, locked; if
    /// found, the copy with `barcode` and its title, locked; if found too, the reader's
    /// open loans and charges and the title's active holds, read under those locks (as
    /// [`Self::open_loans_charges_and_holds`]). The default makes those calls
    /// ([`checkout_reads_by_parts`]); a database whose write transactions hold the whole
    /// database's write lock from their start (SQLite) sends them at once.
    ///
    /// # Errors
    /// As those calls.
    async fn checkout_reads(
        &mut self,
        card: &CardNumber,
        barcode: &Barcode,
    ) -> Result<CheckoutReads, InfrastructureError> {
        checkout_reads_by_parts(self, card, barcode).await
    }

    /// A checkin's reads: the copy with `barcode` and its open loan, as a first look
    /// without locks ([`Self::item_with_open_loan_by_barcode`]); if it was on loan, that
    /// loan's reader, locked, then the copy locked with its open loan and its title's
    /// active holds ([`Self::lock_copy_with_holds`]). `None` if no item has the barcode.
    /// The default makes those calls ([`checkin_reads_by_parts`]); SQLite sends them at
    /// once, as for [`Self::checkout_reads`].
    ///
    /// # Errors
    /// As those calls.
    async fn checkin_reads(
        &mut self,
        barcode: &Barcode,
    ) -> Result<Option<CheckinReads>, InfrastructureError> {
        checkin_reads_by_parts(self, barcode).await
    }

    /// The replacement cost recorded for item `item`: its own, else its title's; `None`
    /// when neither records one (the rule's default applies). The default records none.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn replacement_cost(
        &mut self,
        item: ItemId,
    ) -> Result<Option<Money>, InfrastructureError> {
        let _ = item;
        Ok(None)
    }

    /// Records that loan `loan` ended at `at` with its item declared lost (the loan itself
    /// is closed with [`Self::close_loan`]). The default store keeps no such record.
    ///
    /// # Errors
    /// [`InfrastructureError`], also if the store cannot record it.
    async fn mark_lost(
        &mut self,
        loan: LoanId,
        at: time::OffsetDateTime,
    ) -> Result<(), InfrastructureError> {
        let _ = (loan, at);
        Err(InfrastructureError::new(
            "this store does not record lost items",
        ))
    }

    /// Records that loan `loan` ended at `at` on the reader's claim to have returned it
    /// (the loan itself is closed with [`Self::close_loan`]). The default store keeps no
    /// such record.
    ///
    /// # Errors
    /// [`InfrastructureError`], also if the store cannot record it.
    async fn mark_claimed_returned(
        &mut self,
        loan: LoanId,
        at: time::OffsetDateTime,
    ) -> Result<(), InfrastructureError> {
        let _ = (loan, at);
        Err(InfrastructureError::new(
            "this store does not record claims",
        ))
    }

    /// When loan `loan` ended on a claim of return, and when it was declared lost, if it
    /// was: `(claimed_returned_at, lost_at)`. The default store records neither.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn loan_endings(
        &mut self,
        loan: LoanId,
    ) -> Result<(Option<time::OffsetDateTime>, Option<time::OffsetDateTime>), InfrastructureError>
    {
        let _ = loan;
        Ok((None, None))
    }

    /// The last loan of `item` that ended with the item declared lost or claimed returned,
    /// if any.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn lost_loan_of_item(
        &mut self,
        item: ItemId,
    ) -> Result<Option<Loan>, InfrastructureError> {
        let _ = item;
        Ok(None)
    }

    /// The charges on reader `patron`'s ledger for loan `loan`'s lost item (its
    /// replacement and processing lines), as stored. The default store records none.
    ///
    /// # Errors
    /// [`InfrastructureError`] only.
    async fn lost_item_charges(
        &mut self,
        patron: PatronId,
        loan: LoanId,
    ) -> Result<Vec<library_fines::Charge>, InfrastructureError> {
        let _ = (patron, loan);
        Ok(Vec::new())
    }

    /// Writes off `amount` of charge `charge` on `on`, with `reason` (a waiver of what is
    /// left on it).
    ///
    /// # Errors
    /// [`InfrastructureError`], also if the store cannot do it.
    async fn write_off(
        &mut self,
        charge: ChargeId,
        amount: Money,
        reason: &str,
        on: Date,
    ) -> Result<(), InfrastructureError> {
        let _ = (charge, amount, reason, on);
        Err(InfrastructureError::new(
            "this store does not write charges off",
        ))
    }

    /// Stores a new loan and puts its item on loan ([`LoanRepository::insert_loan`], then
    /// [`ItemRepository::set_item_status`]); a database does both in one statement.
    ///
    /// # Errors
    /// As those two.
    async fn lend(&mut self, loan: NewLoan) -> Result<Loan, InfrastructureError> {
        lend_by_parts(self, loan).await
    }

    /// Stores a returned `loan` and puts its item where `placement` says
    /// ([`LoanRepository::update_loan`], then [`ItemRepository::place_item`]); a database
    /// does both in one statement.
    ///
    /// # Errors
    /// As those two.
    async fn close_loan(
        &mut self,
        loan: &Loan,
        placement: &ItemPlacement,
    ) -> Result<(), InfrastructureError> {
        close_loan_by_parts(self, loan, placement).await
    }
}

/// A reader's open loans with their items, what they owe, and a title's active holds
/// ([`CirculationTransaction::open_loans_charges_and_holds`]).
pub type LoansChargesAndHolds = ((Vec<(Loan, Item)>, Money), Vec<Hold>);

/// A copy's title and item, locked, with its open loan ([`CirculationTransaction::lock_copy`]).
pub type LockedCopy = (Title, Item, Option<Loan>);

/// [`CirculationTransaction::checkout_reads`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutReads {
    /// No reader has the card.
    NoReader,
    /// The reader is locked; no item has the barcode.
    NoCopy,
    /// The reader, the title and the item locked, and the reads under their locks.
    Found(Box<CheckoutRecords>),
}

/// What a checkout reads under its locks ([`CheckoutReads::Found`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRecords {
    /// The reader, locked.
    pub patron: Patron,
    /// The copy's title, locked.
    pub title: Title,
    /// The copy, locked.
    pub item: Item,
    /// The reader's open loans with their items, what they owe, and the title's holds.
    pub loans_charges_and_holds: LoansChargesAndHolds,
}

/// [`CirculationTransaction::checkin_reads`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinReads {
    /// The copy as first seen, without locks.
    pub item: Item,
    /// Its open loan as first seen.
    pub loan: Option<Loan>,
    /// When it was on loan: that loan's reader, locked (`None` if the reader is gone).
    pub borrower: Option<Patron>,
    /// When it was on loan: the copy locked with its open loan then, and its title's
    /// active holds (`None` if the copy is gone).
    pub copy: Option<(LockedCopy, Vec<Hold>)>,
}

/// [`CirculationTransaction::checkout_reads`]'s default: the reader locked, then the copy,
/// then the loans, charges and holds, each read only if the one before was found.
///
/// # Errors
/// As those calls.
pub async fn checkout_reads_by_parts<T: CirculationTransaction + ?Sized>(
    tx: &mut T,
    card: &CardNumber,
    barcode: &Barcode,
) -> Result<CheckoutReads, InfrastructureError> {
    let Some(patron) = tx.patron_by_card_for_update(card).await? else {
        return Ok(CheckoutReads::NoReader);
    };
    let Some((title, item)) = tx.lock_copy_by_barcode(barcode).await? else {
        return Ok(CheckoutReads::NoCopy);
    };
    let loans_charges_and_holds = tx
        .open_loans_charges_and_holds(patron.id, item.title)
        .await?;
    Ok(CheckoutReads::Found(Box::new(CheckoutRecords {
        patron,
        title,
        item,
        loans_charges_and_holds,
    })))
}

/// [`CirculationTransaction::checkin_reads`]'s default: the first look, then, for a copy
/// on loan, its borrower locked and the copy locked with its holds.
///
/// # Errors
/// As those calls.
pub async fn checkin_reads_by_parts<T: CirculationTransaction + ?Sized>(
    tx: &mut T,
    barcode: &Barcode,
) -> Result<Option<CheckinReads>, InfrastructureError> {
    let Some((item, loan)) = tx.item_with_open_loan_by_barcode(barcode).await? else {
        return Ok(None);
    };
    let (borrower, copy) = match &loan {
        Some(loan) => (
            tx.patron_for_update(loan.patron).await?,
            tx.lock_copy_with_holds(item.id).await?,
        ),
        None => (None, None),
    };
    Ok(Some(CheckinReads {
        item,
        loan,
        borrower,
        copy,
    }))
}

/// [`CirculationTransaction::open_loans_charges_and_holds`]'s default: the two reads.
///
/// # Errors
/// As those two.
pub async fn loans_charges_and_holds_by_parts<T: CirculationTransaction + ?Sized>(
    tx: &mut T,
    patron: PatronId,
    title: TitleId,
) -> Result<LoansChargesAndHolds, InfrastructureError> {
    let loans = tx.open_loans_and_charges(patron).await?;
    let holds = tx.active_holds_of_title(title).await?;
    Ok((loans, holds))
}

/// [`CirculationTransaction::lock_copy_with_holds`]'s default: the copy locked, then its
/// title's active holds read.
///
/// # Errors
/// As those two.
pub async fn lock_copy_with_holds_by_parts<T: CirculationTransaction + ?Sized>(
    tx: &mut T,
    id: ItemId,
) -> Result<Option<(LockedCopy, Vec<Hold>)>, InfrastructureError> {
    let Some(copy) = tx.lock_copy(id).await? else {
        return Ok(None);
    };
    let holds = tx.active_holds_of_title(copy.1.title).await?;
    Ok(Some((copy, holds)))
}

/// [`CirculationTransaction::lend`]'s default, for an adapter that overrides it only on
/// some backends: the loan inserted, then the item's status set.
///
/// # Errors
/// As [`LoanRepository::insert_loan`] and [`ItemRepository::set_item_status`].
pub async fn lend_by_parts<T: CirculationTransaction + ?Sized>(
    tx: &mut T,
    loan: NewLoan,
) -> Result<Loan, InfrastructureError> {
    let item = loan.item;
    let stored = tx.insert_loan(loan).await?;
    tx.set_item_status(item, ItemStatus::OnLoan).await?;
    Ok(stored)
}

/// [`CirculationTransaction::close_loan`]'s default, as [`lend_by_parts`] is `lend`'s.
///
/// # Errors
/// As [`LoanRepository::update_loan`] and [`ItemRepository::place_item`].
pub async fn close_loan_by_parts<T: CirculationTransaction + ?Sized>(
    tx: &mut T,
    loan: &Loan,
    placement: &ItemPlacement,
) -> Result<(), InfrastructureError> {
    tx.update_loan(loan).await?;
    tx.place_item(loan.item, placement).await
}

/// The default of the locking reads: `plain`'s title, then the item again, locked.
async fn lock_title_then_item<T: CirculationTransaction + ?Sized>(
    tx: &mut T,
    plain: Item,
) -> Result<Option<(Title, Item)>, InfrastructureError> {
    let title = tx.title_for_update(plain.title).await?.ok_or_else(|| {
        InfrastructureError::new(format!("item {} refers to a missing title", plain.id))
    })?;
    Ok(tx
        .item_for_update(plain.id)
        .await?
        .map(|item| (title, item)))
}

/// Starts units of work.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CirculationStore: Send + Sync {
    /// Begins a transaction.
    ///
    /// # Errors
    /// [`InfrastructureError`] if no transaction can be started.
    async fn begin(&self) -> Result<Box<dyn CirculationTransaction>, InfrastructureError>;

    /// Begins a transaction that only reads (an account view): a consistent view of the
    /// data that takes no lock and waits for no writer. Nothing is written through it and
    /// it is never committed. The default is [`Self::begin`].
    ///
    /// # Errors
    /// [`InfrastructureError`] if no transaction can be started.
    async fn begin_read(&self) -> Result<Box<dyn CirculationTransaction>, InfrastructureError> {
        self.begin().await
    }
}
