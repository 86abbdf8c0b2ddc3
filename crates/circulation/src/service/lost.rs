//! Lost and found (docs/circulation.md, Lost and found): a loan's item declared lost, and a
//! lost item found and returned. The rules are in [`crate::lost`].

use library_core::{Barcode, Clock, LibraryCode, LoanId, Money, PatronId};
use library_fines::NewCharge;

use super::{Circulation, CopyRouting, record, save_queue};
use crate::checkin::accrued_fine;
use crate::hold_queue::HoldQueue;
use crate::lost::{found_refund, lost_item_charges};
use crate::model::{Item, ItemPlacement, ItemStatus, Loan, Title};
use crate::ports::{
    Actor, CalendarRepository, CirculationEvent, CirculationStore, FineSuspensionRepository,
    InfrastructureError, RuleRepository,
};
use crate::rules::EffectiveRules;

/// Declare a loan's item lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclareLostRequest {
    /// The loan.
    pub loan: LoanId,
    /// When a reader reports their own loan: the reader (someone else's loan is "not
    /// found"); `None` at the counter.
    pub patron: Option<PatronId>,
}

/// What declaring an item lost charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostOutcome {
    /// The loan, now ended.
    pub loan: Loan,
    /// The overdue fine to that day, fixed (zero: none).
    pub fine: Money,
    /// The replacement cost charged.
    pub replacement: Money,
    /// The processing fee charged.
    pub processing: Money,
    /// The copy, as it was before.
    pub item: Item,
    /// Its title.
    pub title: Title,
}

/// Why an item was not declared lost.
#[derive(Debug, thiserror::Error)]
pub enum DeclareLostError {
    /// No such open loan (or not the reader's).
    #[error("no such loan")]
    LoanNotFound,
    /// A port failed.
    #[error(transparent)]
    Infrastructure(#[from] InfrastructureError),
}

/// What finding a lost item gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundOutcome {
    /// The loan that ended when the item was declared lost.
    pub loan: Loan,
    /// What was unpaid of the replacement and processing lines, written off.
    pub written_off: Money,
    /// What had been paid on them: owed back to the reader.
    pub owed_back: Money,
    /// Where the copy went: trapped for a hold, in transit, or on the shelf here.
    pub routing: CopyRouting,
    /// The copy, as it was before (lost).
    pub item: Item,
    /// Its title.
    pub title: Title,
}

/// Why a found item was not taken back.
#[derive(Debug, thiserror::Error)]
pub enum FoundError {
    /// No item has this barcode.
    #[error("no item has this barcode")]
    ItemNotFound,
    /// No library has this code.
    #[error("no library {0}")]
    LibraryNotFound(LibraryCode),
    /// The item is not lost.
    #[error("the item is not lost")]
    NotLost,
    /// A port failed.
    #[error(transparent)]
    Infrastructure(#[from] InfrastructureError),
}

/// The waiver reason of lost-item lines written off when the item comes back.
pub const FOUND_REASON: &str = "lost item found and returned";

impl<S, R, L, F, C> Circulation<S, R, L, F, C>
where
    S: CirculationStore,
    R: RuleRepository,
    L: CalendarRepository,
    F: FineSuspensionRepository,
    C: Clock,
{
    /// Declares a loan's item lost: the overdue fine to today fixed, the replacement cost
    /// and the processing fee charged (each its own line), the loan ended and the item
    /// `lost`; audited in the same transaction when made `by` someone.
    pub async fn declare_lost_as(
        &self,
        req: DeclareLostRequest,
        by: Option<&Actor>,
    ) -> Result<LostOutcome, DeclareLostError> {
        let now = self.now();
        let config = self.config().await?;
        let mut tx = self.store.begin().await?;
        let Some(first_look) = tx.loan(req.loan).await? else {
            return Err(DeclareLostError::LoanNotFound);
        };
        if req.patron.is_some_and(|p| p != first_look.patron) {
            return Err(DeclareLostError::LoanNotFound);
        }
        // A loan ended on a claim of return may be declared lost by staff after review:
        // its fine counts to the day of the claim.
        let claimed_at = if first_look.is_open() {
            None
        } else {
            match tx.loan_endings(first_look.id).await? {
                (Some(claimed), None) if req.patron.is_none() => Some(claimed),
                _ => return Err(DeclareLostError::LoanNotFound),
            }
        };
        let vanished = || InfrastructureError::new("record vanished while declaring lost");
        // Lock order: patron, then the copy (title, item); the loan re-read under them.
        let patron = tx
            .patron_for_update(first_look.patron)
            .await?
            .ok_or_else(vanished)?;
        let ((title, item, open_loan), _holds) = tx
            .lock_copy_with_holds(first_look.item)
            .await?
            .ok_or_else(vanished)?;
        let mut loan = match claimed_at {
            None => open_loan
                .filter(|l| l.id == req.loan)
                .ok_or(DeclareLostError::LoanNotFound)?,
            // Still missing (not found, not lent again) under the item's lock.
            Some(_) if item.status == ItemStatus::Lost && open_loan.is_none() => first_look,
            Some(_) => return Err(DeclareLostError::LoanNotFound),
        };
        let lending = self.known_library(&loan.library).await?;
        let rules = EffectiveRules::resolve(
            &config.rules,
            Some(&loan.library),
            Some(&patron.category),
            Some(&item.item_type),
        );
        let today = lending.calendar.local_date(now);
        let fine = accrued_fine(
            &loan,
            claimed_at.unwrap_or(now),
            &lending,
            &rules,
            &config.periods,
        );
        if let Some(charge) = NewCharge::overdue_fine(loan.id, &fine, today) {
            tx.add_charge(patron.id, charge).await?;
        }
        let cost = tx
            .replacement_cost(item.id)
            .await?
            .unwrap_or(rules.replacement_cost);
        let (replacement, processing) = lost_item_charges(cost);
        if replacement.is_positive() {
            tx.add_charge(patron.id, NewCharge::lost_item(loan.id, replacement, today))
                .await?;
        }
        if processing.is_positive() {
            tx.add_charge(
                patron.id,
                NewCharge::lost_processing(loan.id, processing, today),
            )
            .await?;
        }
        if claimed_at.is_none() {
            loan.returned_at = Some(now);
            loan.returned_to = None;
            tx.close_loan(
                &loan,
                &ItemPlacement::at(ItemStatus::Lost, item.current_library.clone()),
            )
            .await?;
        }
        tx.mark_lost(loan.id, now).await?;
        record(tx.as_mut(), by, now, || CirculationEvent::LostDeclared {
            loan: loan.id,
            item_barcode: item.barcode.clone(),
            fine: fine.fine,
            replacement,
            processing,
        })
        .await?;
        tx.commit().await?;
        Ok(LostOutcome {
            loan,
            fine: fine.fine,
            replacement,
            processing,
            item,
            title,
        })
    }

    /// Takes a reader's claim to have returned a loan's item for staff review: the loan
    /// ends without any charge (no fine fixed, nothing for the item) and the item is
    /// `lost` (missing) until it turns up (a checkin takes it back as found) or staff,
    /// after review, declare it lost ([`Self::declare_lost_as`]: the fine then counts to
    /// the day of the claim). Audited when made `by` someone.
    pub async fn claim_returned_as(
        &self,
        loan: LoanId,
        by: Option<&Actor>,
    ) -> Result<Loan, DeclareLostError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let Some(first_look) = tx.loan(loan).await?.filter(Loan::is_open) else {
            return Err(DeclareLostError::LoanNotFound);
        };
        let vanished = || InfrastructureError::new("record vanished while taking a claim");
        tx.patron_for_update(first_look.patron)
            .await?
            .ok_or_else(vanished)?;
        let ((_title, item, open_loan), _holds) = tx
            .lock_copy_with_holds(first_look.item)
            .await?
            .ok_or_else(vanished)?;
        let mut claimed = open_loan
            .filter(|l| l.id == loan)
            .ok_or(DeclareLostError::LoanNotFound)?;
        claimed.returned_at = Some(now);
        claimed.returned_to = None;
        tx.close_loan(
            &claimed,
            &ItemPlacement::at(ItemStatus::Lost, item.current_library.clone()),
        )
        .await?;
        tx.mark_claimed_returned(claimed.id, now).await?;
        record(tx.as_mut(), by, now, || CirculationEvent::ClaimedReturned {
            loan: claimed.id,
            item_barcode: item.barcode.clone(),
        })
        .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Takes back a lost item found and returned at `library`: the unpaid part of its
    /// replacement and processing lines written off, the paid part reported as owed back,
    /// the overdue fine kept; the copy trapped for the first queued hold or shelved.
    /// Audited in the same transaction when made `by` someone.
    pub async fn found_as(
        &self,
        barcode: &Barcode,
        library: &LibraryCode,
        by: Option<&Actor>,
    ) -> Result<FoundOutcome, FoundError> {
        let now = self.now();
        let config = self.config().await?;
        let Some(here) = self.library(library).await? else {
            return Err(FoundError::LibraryNotFound(library.clone()));
        };
        let mut tx = self.store.begin().await?;
        let Some(first_look) = tx.item_by_barcode(barcode).await? else {
            return Err(FoundError::ItemNotFound);
        };
        if first_look.status != ItemStatus::Lost {
            return Err(FoundError::NotLost);
        }
        let Some(loan) = tx.lost_loan_of_item(first_look.id).await? else {
            return Err(FoundError::NotLost);
        };
        let vanished = || InfrastructureError::new("record vanished while taking back");
        let patron = tx
            .patron_for_update(loan.patron)
            .await?
            .ok_or_else(vanished)?;
        let ((title, item, open_loan), holds) = tx
            .lock_copy_with_holds(first_look.id)
            .await?
            .ok_or_else(vanished)?;
        // Under the locks: still lost, and not lent meanwhile.
        if item.status != ItemStatus::Lost || open_loan.is_some() {
            return Err(FoundError::NotLost);
        }
        let today = here.calendar.local_date(now);
        let (mut written_off, mut owed_back) = (Money::ZERO, Money::ZERO);
        for line in tx.lost_item_charges(patron.id, loan.id).await? {
            let (off, back) = found_refund(line.amount, line.paid, line.waiver.is_some());
            if off.is_positive() {
                tx.write_off(line.id, off, FOUND_REASON, today).await?;
            }
            written_off += off;
            owed_back += back;
        }
        let mut queue = HoldQueue::new(item.title, holds);
        let routing = self
            .route_freed_copy(tx.as_mut(), &mut queue, &item, &here, &config, now)
            .await?;
        tx.place_item(item.id, &routing.placement).await?;
        save_queue(tx.as_mut(), queue).await?;
        record(tx.as_mut(), by, now, || CirculationEvent::LostFound {
            loan: loan.id,
            item_barcode: item.barcode.clone(),
            library: library.clone(),
            written_off,
            owed_back,
        })
        .await?;
        tx.commit().await?;
        Ok(FoundOutcome {
            loan,
            written_off,
            owed_back,
            routing,
            item,
            title,
        })
    }
}
