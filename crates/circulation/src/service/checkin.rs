//! Checkin: at any library, also book-drop returns with an effective return time; and
//! the arrival of a copy in transit, scanned in at its destination (docs/circulation.md,
//! Transit).

use library_core::{Barcode, CardNumber, Clock, LibraryCode, Money};
use library_fines::{ChargeKind, NewCharge};
use time::{Date, OffsetDateTime};

use super::{Circulation, Config, CopyRouting, count, record, save_queue};
use crate::checkin::{ReturnTimeError, assess_return, effective_return_time};
use crate::hold_queue::{Hold, HoldQueue};
use crate::model::{Item, ItemPlacement, ItemStatus, Library, Loan, Title};
use crate::ports::{
    Actor, CalendarRepository, CirculationChannel, CirculationEvent, CirculationStatistic,
    CirculationStore, CirculationTransaction, FineSuspensionRepository, InfrastructureError,
    RuleRepository, StatisticKind,
};
use crate::rules::EffectiveRules;

/// Return an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinRequest {
    /// The item's barcode.
    pub item_barcode: Barcode,
    /// Where it is returned (any library).
    pub library: LibraryCode,
    /// A book-drop return's effective time (when the drop was last emptied); `None` = now.
    /// Not used for an arrival (no loan is returned).
    pub returned_at: Option<OffsetDateTime>,
}

/// A return and what it cost, or an arrival, and where the copy went (docs/http.md,
/// Circulation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinOutcome {
    /// The loan, now returned; `None` for an arrival (a copy in transit scanned in at its
    /// destination), whose costs below are zero.
    pub loan: Option<Loan>,
    /// Local calendar days from the due date to the return date.
    pub overdue_days: u32,
    /// Days charged after fine-suspension periods, closed days (per rule) and grace.
    pub chargeable_days: u32,
    /// The fine fixed as a charge (zero: none).
    pub fine: Money,
    /// The first date the reader may borrow again, if this return suspended them.
    pub suspended_until: Option<Date>,
    /// The hold the copy was trapped for, now waiting.
    pub hold: Option<Hold>,
    /// The copy returned, as it was before the return.
    pub item: Item,
    /// Its title.
    pub title: Title,
    /// The borrower's card; `None` for an arrival.
    pub borrower: Option<CardNumber>,
    /// Where the copy went: on the hold shelf or the shelf here, or in transit.
    pub placement: ItemPlacement,
    /// The queued hold the copy travels for, when it was sent in transit to that hold's
    /// pickup library.
    pub transit_hold: Option<Hold>,
}

impl CheckinOutcome {
    /// The library the copy travels to, when it is in transit.
    pub fn in_transit_to(&self) -> Option<&LibraryCode> {
        self.placement.transit_to.as_ref()
    }
}

/// Why a checkin did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CheckinError {
    /// No item has this barcode.
    #[error("no item has this barcode")]
    ItemNotFound,
    /// No library has this code.
    #[error("no library {0}")]
    LibraryNotFound(LibraryCode),
    /// The item is not on loan (and not in transit to the library it is scanned in at).
    #[error("the item is not on loan")]
    NotOnLoan,
    /// The book-drop return time is in the future or before the checkout (docs/http.md,
    /// Circulation: 422).
    #[error(transparent)]
    InvalidReturnTime(ReturnTimeError),
    /// A port failed.
    #[error(transparent)]
    Infrastructure(#[from] InfrastructureError),
}

/// How many times a checkin starts again when the copy changed hands between its first look
/// and its locks (returned and lent again in that moment); more is a fault.
const CHECKIN_ATTEMPTS: u32 = 3;

impl<S, R, L, F, C> Circulation<S, R, L, F, C>
where
    S: CirculationStore,
    R: RuleRepository,
    L: CalendarRepository,
    F: FineSuspensionRepository,
    C: Clock,
{
    /// Returns an item: fixes the fine as a charge and any reader suspension (computed with
    /// the lending library's calendar and fine-suspension periods), closes the loan, and
    /// routes the copy from the library it is returned at: trapped for the first queued
    /// hold picked up there, in transit to the first hold's pickup library elsewhere, in
    /// transit home, or shelved (docs/circulation.md, Transit). A copy in transit scanned
    /// in at its destination is an arrival ([`CheckinOutcome::loan`] `None`): trapped for
    /// the hold it travelled for, else routed again from there.
    pub async fn checkin(&self, req: CheckinRequest) -> Result<CheckinOutcome, CheckinError> {
        self.checkin_as(req, None).await
    }

    /// [`Self::checkin`], with its audit entry written in the same transaction when made
    /// `by` someone.
    pub async fn checkin_as(
        &self,
        req: CheckinRequest,
        by: Option<&Actor>,
    ) -> Result<CheckinOutcome, CheckinError> {
        let now = self.now();
        let config = self.config().await?;
        let Some(returned_to) = self.library(&req.library).await? else {
            return Err(CheckinError::LibraryNotFound(req.library));
        };
        // The reader's lock comes first in the lock order, so the borrower is found by a
        // first look without locks, then locked, then the copy; if the copy has been
        // returned and lent to someone else in between, start again with the new borrower.
        let mut attempts = 0;
        let (mut tx, patron, title, item, mut loan, holds) = loop {
            attempts += 1;
            let mut tx = self.store.begin().await?;
            let Some(reads) = tx.checkin_reads(&req.item_barcode).await? else {
                return Err(CheckinError::ItemNotFound);
            };
            if reads.loan.is_none() {
                let item = reads.item;
                if item.status == ItemStatus::InTransit
                    && item.transit_to.as_ref() == Some(&returned_to.code)
                {
                    return self
                        .receive(tx, item, &returned_to, &req, &config, now, by)
                        .await;
                }
                return Err(CheckinError::NotOnLoan);
            }
            // The first look's borrower is locked first, then the copy with its title's
            // holds: read after the reader's lock, the loan is current (every loan write
            // holds its borrower's lock).
            let vanished = || InfrastructureError::new("record vanished during checkin");
            let patron = reads.borrower.ok_or_else(vanished)?;
            let ((title, item, loan), holds) = reads.copy.ok_or_else(vanished)?;
            let Some(loan) = loan else {
                return Err(CheckinError::NotOnLoan);
            };
            if loan.patron == patron.id {
                break (tx, patron, title, item, loan, holds);
            }
            if attempts >= CHECKIN_ATTEMPTS {
                return Err(InfrastructureError::new(
                    "the copy kept changing hands during checkin",
                )
                .into());
            }
            // Dropped: rolled back, the reader's lock released.
        };
        let returned_at = effective_return_time(now, req.returned_at, loan.borrowed_at)
            .map_err(CheckinError::InvalidReturnTime)?;

        // Counted on the day the checkin is made where it is made (a book-drop return
        // included: its earlier return time only changes the fine).
        let checked_in_on = returned_to.calendar.local_date(now);
        // Usually returned where it was lent: no second read of the same library.
        let lending = if loan.library == returned_to.code {
            returned_to.clone()
        } else {
            self.known_library(&loan.library).await?
        };
        let rules = EffectiveRules::resolve(
            &config.rules,
            Some(&loan.library),
            Some(&patron.category),
            Some(&item.item_type),
        );
        let cost = assess_return(
            &loan,
            returned_at,
            &lending,
            &rules,
            &config.periods,
            patron.suspended_until,
        );
        if cost.fine.is_positive() {
            let charge = NewCharge {
                kind: ChargeKind::OverdueFine {
                    loan: loan.id,
                    chargeable_days: cost.chargeable_days,
                },
                amount: cost.fine,
                charged_on: cost.returned_on,
            };
            tx.add_charge(patron.id, charge).await?;
        }
        if cost.suspended_until.is_some() && cost.suspended_until != patron.suspended_until {
            tx.set_suspended_until(patron.id, cost.suspended_until)
                .await?;
        }
        let mut queue = HoldQueue::new(item.title, holds);
        let routing = self
            .route_freed_copy(tx.as_mut(), &mut queue, &item, &returned_to, &config, now)
            .await?;
        loan.returned_at = Some(returned_at);
        loan.returned_to = Some(req.library.clone());
        tx.close_loan(&loan, &routing.placement).await?;
        save_queue(tx.as_mut(), queue).await?;
        count(
            tx.as_mut(),
            CirculationStatistic {
                kind: StatisticKind::Checkin,
                channel: Some(CirculationChannel::of(by)),
                library: req.library.clone(),
                on: checked_in_on,
                at: now,
                loan: Some(loan.id),
                hold: None,
            },
        )
        .await?;
        record(tx.as_mut(), by, now, || CirculationEvent::Checkin {
            loan: loan.id,
            item_barcode: req.item_barcode,
            library: req.library,
            fine: cost.fine,
            book_drop: req.returned_at.is_some(),
        })
        .await?;
        tx.commit().await?;
        Ok(CheckinOutcome {
            loan: Some(loan),
            overdue_days: cost.overdue_days,
            chargeable_days: cost.chargeable_days,
            fine: cost.fine,
            suspended_until: cost.suspended_until,
            hold: routing.trapped,
            item,
            title,
            borrower: Some(patron.card_number),
            placement: routing.placement,
            transit_hold: routing.travels_for,
        })
    }

    /// The arrival of `seen` (a copy in transit, first seen without locks) at its
    /// destination `here`: its title and the copy locked (no reader is locked: no loan
    /// changes), checked again under the locks, then routed from `here`
    /// ([`Self::route_freed_copy`]): trapped for the hold it travelled for if that hold is
    /// still queued, else for the next hold in line picked up here, else on to that
    /// hold's library, or home, or shelved.
    #[allow(clippy::too_many_arguments)]
    async fn receive(
        &self,
        mut tx: Box<dyn CirculationTransaction>,
        seen: Item,
        here: &Library,
        req: &CheckinRequest,
        config: &Config,
        now: OffsetDateTime,
        by: Option<&Actor>,
    ) -> Result<CheckinOutcome, CheckinError> {
        let ((title, item, loan), holds) = tx
            .lock_copy_with_holds(seen.id)
            .await?
            .ok_or_else(|| InfrastructureError::new("record vanished during checkin"))?;
        // Received or lent by someone else between the first look and the locks.
        if loan.is_some()
            || item.status != ItemStatus::InTransit
            || item.transit_to.as_ref() != Some(&here.code)
        {
            return Err(CheckinError::NotOnLoan);
        }
        let mut queue = HoldQueue::new(item.title, holds);
        let routing: CopyRouting = self
            .route_freed_copy(tx.as_mut(), &mut queue, &item, here, config, now)
            .await?;
        tx.place_item(item.id, &routing.placement).await?;
        save_queue(tx.as_mut(), queue).await?;
        record(tx.as_mut(), by, now, || CirculationEvent::TransitReceived {
            item: item.id,
            item_barcode: req.item_barcode.clone(),
            library: here.code.clone(),
            trapped_hold: routing.trapped.as_ref().map(|h| h.id),
            in_transit_to: routing.placement.transit_to.clone(),
        })
        .await?;
        tx.commit().await?;
        Ok(CheckinOutcome {
            loan: None,
            overdue_days: 0,
            chargeable_days: 0,
            fine: Money::ZERO,
            suspended_until: None,
            hold: routing.trapped,
            item,
            title,
            borrower: None,
            placement: routing.placement,
            transit_hold: routing.travels_for,
        })
    }
}
