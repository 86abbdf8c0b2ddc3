//! Checkout, and collection of a waiting hold (which is the holder's checkout of the
//! waiting copy, docs/circulation.md).

use library_core::{Barcode, CardNumber, Clock, HoldId, LibraryCode, Money};
use library_fines::NewCharge;

use super::{Circulation, Config, count, record, save_queue};
use crate::checkout::{
    CheckoutFacts, CheckoutKind, CheckoutRefusal, checkout_refusals, decide_checkout,
};
use crate::due_date::loan_due_date;
use crate::hold_queue::HoldQueue;
use crate::model::{Item, Library, Loan, NewLoan, Title};
use crate::overrides::{Overridden, Override};
use crate::ports::{
    Actor, CalendarRepository, CheckoutReads, CheckoutRecords, CirculationChannel,
    CirculationEvent, CirculationStatistic, CirculationStore, CirculationTransaction,
    FineSuspensionRepository, InfrastructureError, RuleRepository, StatisticKind,
};
use crate::rules::EffectiveRules;

/// Lend an item (counter, self-service station).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// The borrower's card.
    pub card_number: CardNumber,
    /// The item's barcode.
    pub item_barcode: Barcode,
    /// The lending library (where the checkout happens; a station's library).
    pub library: LibraryCode,
}

/// A loan made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutOutcome {
    /// The new loan (`due.at` is the `due_at` of docs/http.md).
    pub loan: Loan,
    /// The reader's hold this checkout collected, if any: their waiting hold (with the fee)
    /// or their queued hold on the title, filled by a copy from the shelf (no fee).
    pub collected_hold: Option<HoldId>,
    /// The hold fee charged for that collection (zero if none).
    pub hold_fee: Money,
    /// The copy lent, as it was before the loan.
    pub item: Item,
    /// Its title.
    pub title: Title,
    /// Renewals the new loan allows.
    pub renewals_left: u32,
    /// The refusals staff overrode to make it (none without an override).
    pub overridden: Vec<CheckoutRefusal>,
}

/// Why a checkout did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// No reader has this card (checked first).
    #[error("no reader has this card")]
    PatronNotFound,
    /// No item has this barcode.
    #[error("no item has this barcode")]
    ItemNotFound,
    /// No library has this code.
    #[error("no library {0}")]
    LibraryNotFound(LibraryCode),
    /// Refused for a named reason (docs/http.md: 409 `checkout_refused`).
    #[error("checkout refused: {}", .0.code())]
    Refused(CheckoutRefusal),
    /// A port failed.
    #[error(transparent)]
    Infrastructure(#[from] InfrastructureError),
}

/// Collect a waiting hold: check its copy out to the holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectHoldRequest {
    /// The waiting hold.
    pub hold: HoldId,
    /// Where the copy is handed over (the lending library of the new loan).
    pub library: LibraryCode,
}

/// Why a collection did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CollectHoldError {
    /// No such hold.
    #[error("no such hold")]
    HoldNotFound,
    /// The hold is not waiting on the shelf.
    #[error("the hold is not waiting")]
    NotWaiting,
    /// No library has this code.
    #[error("no library {0}")]
    LibraryNotFound(LibraryCode),
    /// The checkout is refused for a named reason.
    #[error("checkout refused: {}", .0.code())]
    Refused(CheckoutRefusal),
    /// A port failed.
    #[error(transparent)]
    Infrastructure(#[from] InfrastructureError),
}

impl<S, R, L, F, C> Circulation<S, R, L, F, C>
where
    S: CirculationStore,
    R: RuleRepository,
    L: CalendarRepository,
    F: FineSuspensionRepository,
    C: Clock,
{
    /// Checks an item out to a reader: not-found errors first, then the refusals in the
    /// documented order ([`crate::checkout_refusals`]); on success the due date comes from
    /// the rules and the lending library's calendar. Checking out the item on the hold
    /// shelf for this reader collects their hold (and charges the hold fee).
    pub async fn checkout(&self, req: CheckoutRequest) -> Result<CheckoutOutcome, CheckoutError> {
        self.checkout_as(req, None).await
    }

    /// [`Self::checkout`], with its audit entry written in the same transaction when made
    /// `by` someone.
    pub async fn checkout_as(
        &self,
        req: CheckoutRequest,
        by: Option<&Actor>,
    ) -> Result<CheckoutOutcome, CheckoutError> {
        self.checkout_with(req, by, None).await
    }

    /// [`Self::checkout_as`] made by staff stepping over the refusals `overriding` names
    /// (docs/circulation.md, Overrides): the loan is made when every refusal that applies
    /// is named; the audit entry records what was stepped over and why. If
    /// `on_hold_for_another` is stepped over, the other reader's waiting hold goes back to
    /// the head of the title's queue. Who may override is the caller's decision.
    pub async fn checkout_overriding(
        &self,
        req: CheckoutRequest,
        by: &Actor,
        overriding: &Override,
    ) -> Result<CheckoutOutcome, CheckoutError> {
        self.checkout_with(req, Some(by), Some(overriding)).await
    }

    async fn checkout_with(
        &self,
        req: CheckoutRequest,
        by: Option<&Actor>,
        overriding: Option<&Override>,
    ) -> Result<CheckoutOutcome, CheckoutError> {
        let now = self.now();
        let config = self.config().await?;
        let mut tx = self.store.begin().await?;
        // Not found: reader, then item, then library. The reader's row is locked first,
        // then the title and the item, in the checkout's lock order.
        let found = match tx
            .checkout_reads(&req.card_number, &req.item_barcode)
            .await?
        {
            CheckoutReads::NoReader => return Err(CheckoutError::PatronNotFound),
            CheckoutReads::NoCopy => return Err(CheckoutError::ItemNotFound),
            CheckoutReads::Found(found) => *found,
        };
        let Some(library) = self.library(&req.library).await? else {
            return Err(CheckoutError::LibraryNotFound(req.library));
        };
        let outcome = self
            .checkout_in(tx.as_mut(), found, &library, &config, now, (by, overriding))
            .await?;
        match outcome {
            Ok(outcome) => {
                tx.commit().await?;
                Ok(outcome)
            }
            Err(refusal) => Err(CheckoutError::Refused(refusal)),
        }
    }

    /// Collects a waiting hold at `library`: the holder's checkout of the waiting copy.
    pub async fn collect_hold(
        &self,
        req: CollectHoldRequest,
    ) -> Result<CheckoutOutcome, CollectHoldError> {
        self.collect_hold_as(req, None).await
    }

    /// [`Self::collect_hold`], with its audit entry (a checkout that collected the hold)
    /// written in the same transaction when made `by` someone.
    pub async fn collect_hold_as(
        &self,
        req: CollectHoldRequest,
        by: Option<&Actor>,
    ) -> Result<CheckoutOutcome, CollectHoldError> {
        let now = self.now();
        let config = self.config().await?;
        let Some(library) = self.library(&req.library).await? else {
            return Err(CollectHoldError::LibraryNotFound(req.library));
        };
        let mut tx = self.store.begin().await?;
        let Some(hold) = tx.hold(req.hold).await? else {
            return Err(CollectHoldError::HoldNotFound);
        };
        let Some(copy) = hold.waiting_item() else {
            return Err(CollectHoldError::NotWaiting);
        };
        let missing = |what: &str| InfrastructureError::new(format!("{what} vanished"));
        let patron = tx
            .patron_for_update(hold.patron)
            .await?
            .ok_or_else(|| missing("reader"))?;
        let (title, item, _) = tx.lock_copy(copy).await?.ok_or_else(|| missing("item"))?;
        let loans_charges_and_holds = tx
            .open_loans_charges_and_holds(patron.id, item.title)
            .await?;
        let found = CheckoutRecords {
            patron,
            title,
            item,
            loans_charges_and_holds,
        };
        let outcome = self
            .checkout_in(tx.as_mut(), found, &library, &config, now, (by, None))
            .await?;
        match outcome {
            // The copy was trapped for this hold, so the checkout collected it; if a
            // concurrent expiry moved it on, the decision refused it instead.
            Ok(outcome) if outcome.collected_hold == Some(req.hold) => {
                tx.commit().await?;
                Ok(outcome)
            }
            Ok(_) => Err(CollectHoldError::NotWaiting),
            Err(refusal) => Err(CollectHoldError::Refused(refusal)),
        }
    }

    /// The checkout inside a transaction: the reader, title and item are already locked, in
    /// that order, and read under their locks, with the reader's loans and charges and the
    /// title's active holds (the copy's waiting hold, if any, is among them). Decides,
    /// writes (with the audit entry when made `by` someone); the caller commits.
    /// `Ok(Err(_))` is a refusal.
    async fn checkout_in(
        &self,
        tx: &mut dyn CirculationTransaction,
        CheckoutRecords {
            patron,
            title,
            item,
            loans_charges_and_holds: ((open_loans, owed), holds),
        }: CheckoutRecords,
        library: &Library,
        config: &Config,
        now: time::OffsetDateTime,
        (by, overriding): (Option<&Actor>, Option<&Override>),
    ) -> Result<Result<CheckoutOutcome, CheckoutRefusal>, InfrastructureError> {
        let rules = EffectiveRules::resolve(
            &config.rules,
            Some(&library.code),
            Some(&patron.category),
            Some(&item.item_type),
        );
        let loans_out = u32::try_from(open_loans.len()).unwrap_or(u32::MAX);
        let outstanding = self
            .outstanding_with(owed, &patron, &open_loans, config, now)
            .await?;
        let waiting = holds
            .iter()
            .find(|h| h.waiting_item() == Some(item.id))
            .cloned();
        let today = library.calendar.local_date(now);
        let facts = CheckoutFacts {
            today,
            patron: &patron,
            item: &item,
            rules: &rules,
            outstanding,
            loans_out,
            waiting_for: waiting.as_ref().map(|h| h.patron),
        };
        let (kind, overridden) = match overriding {
            None => match decide_checkout(&facts) {
                Ok(kind) => (kind, Vec::new()),
                Err(refusal) => return Ok(Err(refusal)),
            },
            Some(overriding) => {
                let (overridden, refusing) = overriding.split_checkout(&checkout_refusals(&facts));
                if let Some(&refusal) = refusing.first() {
                    return Ok(Err(refusal));
                }
                // Stepping over `on_hold_for_another` makes it a plain loan.
                let kind = if overridden.is_empty() {
                    decide_checkout(&facts).unwrap_or(CheckoutKind::Loan)
                } else {
                    CheckoutKind::Loan
                };
                (kind, overridden)
            }
        };

        let mut hold_fee = Money::ZERO;
        let mut queue = HoldQueue::new(item.title, holds);
        if overridden.contains(&CheckoutRefusal::OnHoldForAnother)
            && let Some(other) = waiting.as_ref().filter(|h| h.patron != patron.id)
        {
            // The copy on the shelf for another reader is lent: their hold goes back to
            // the head of the queue for the next copy.
            queue
                .release(other.id)
                .map_err(|e| InfrastructureError::with_source("hold queue out of step", e))?;
        }
        let collected_hold = if let (CheckoutKind::Collection, Some(hold)) = (kind, waiting.clone())
        {
            queue
                .collect(hold.id, now)
                .map_err(|e| InfrastructureError::with_source("hold queue out of step", e))?;
            // HK$3.30 "charged when the reserved item is collected" (docs/policy.md).
            if rules.hold_fee.is_positive() {
                tx.add_charge(
                    patron.id,
                    NewCharge::hold_fee(hold.id, rules.hold_fee, today),
                )
                .await?;
                hold_fee = rules.hold_fee;
            }
            Some(hold.id)
        } else {
            // Borrowing a copy from the shelf fills the reader's own queued hold on the
            // title (no fee: the fee is for the hold-shelf service), so the next copy
            // returned is not trapped for a reader who already has the title.
            queue.fill_by_checkout(patron.id, now)
        };
        save_queue(tx, queue).await?;
        let due = loan_due_date(now, rules.loan_days, &library.calendar);
        let loan = tx
            .lend(NewLoan {
                patron: patron.id,
                item: item.id,
                library: library.code.clone(),
                borrowed_at: now,
                due,
            })
            .await?;
        record(tx, by, now, || CirculationEvent::Checkout {
            loan: loan.id,
            card_number: patron.card_number.clone(),
            item_barcode: item.barcode.clone(),
            library: library.code.clone(),
            collected_hold,
            overridden: overriding
                .filter(|_| !overridden.is_empty())
                .map(|o| Overridden {
                    refusals: overridden.iter().map(|r| r.code()).collect(),
                    reason: o.reason.clone(),
                }),
        })
        .await?;
        let statistic = |kind, channel, hold| CirculationStatistic {
            kind,
            channel,
            library: library.code.clone(),
            on: today,
            at: now,
            loan: Some(loan.id),
            hold,
        };
        let channel = CirculationChannel::of(by);
        count(tx, statistic(StatisticKind::Checkout, Some(channel), None)).await?;
        if let Some(hold) = collected_hold {
            count(
                tx,
                statistic(StatisticKind::HoldCollected, None, Some(hold)),
            )
            .await?;
        }
        Ok(Ok(CheckoutOutcome {
            renewals_left: rules.renewals_left(&loan),
            loan,
            collected_hold,
            hold_fee,
            item,
            title,
            overridden,
        }))
    }
}
