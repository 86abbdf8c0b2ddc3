//! Application services: the circulation use cases written once over the ports, for every
//! channel (web, PIN/telephone, counter, SIP2). Each use case has its own request type and
//! error enum; inbound adapters translate their protocol to and from these.
//!
//! Each operation runs in one unit of work (see [`crate::ports`] for the lock order). Time
//! comes from the [`Clock`]; "today" is always a library's local date: the lending
//! library's for loans and fines, the pickup library's for holds.
//!
//! Checkouts, checkins, renewals, hold placements and cancellations made `_as` an [`Actor`]
//! (staff, a station) write their audit entry in the same unit of work
//! ([`crate::ports::AuditJournal`]): the change and its record commit together. The plain
//! methods record nothing, for callers without an audit log (and a reader's own renewals
//! and holds, which are not staff actions).
//!
//! Every checkout, checkin, renewal, hold placed and hold collected, whoever made it, is
//! also counted for the statistics in the same unit of work
//! ([`crate::ports::StatisticsJournal`]), without the reader.

mod account;
mod checkin;
mod checkout;
mod holds;
mod renew;

pub use account::{CopyInformation, LoanStatus, ReaderAccount};
pub use checkin::{CheckinError, CheckinOutcome, CheckinRequest};
pub use checkout::{
    CheckoutError, CheckoutOutcome, CheckoutRequest, CollectHoldError, CollectHoldRequest,
};
pub use holds::{
    CancelHoldError, CancelHoldRequest, ExpireHoldsError, ExpiryReport, PlaceHoldError,
    PlaceHoldRequest,
};
pub use renew::{
    RenewAllError, RenewAllOutcome, RenewAllRequest, RenewError, RenewOutcome, RenewRequest,
};

use library_core::{Clock, ItemId, LibraryCode, Money};
use library_fines::FineSuspensionPeriod;
use time::OffsetDateTime;

use crate::checkin::accrued_fine;
use crate::hold_queue::{Hold, HoldQueue, pickup_by};
use crate::model::{Item, ItemStatus, Library, Loan, Patron};
use crate::ports::{
    Actor, CalendarRepository, CirculationEvent, CirculationNotice, CirculationRecord,
    CirculationStatistic, CirculationStore, CirculationTransaction, FineSuspensionRepository,
    InfrastructureError, RuleRepository,
};
use crate::rules::{EffectiveRules, ScopedRules};

/// The circulation services over their ports: the unit-of-work store, the rules,
/// calendars and fine-suspension periods, and the clock.
#[derive(Debug, Clone)]
pub struct Circulation<S, R, L, F, C> {
    store: S,
    rules: R,
    calendars: L,
    suspensions: F,
    clock: C,
}

/// Configuration read before a transaction starts.
struct Config {
    rules: Vec<ScopedRules>,
    periods: Vec<FineSuspensionPeriod>,
}

impl<S, R, L, F, C> Circulation<S, R, L, F, C>
where
    S: CirculationStore,
    R: RuleRepository,
    L: CalendarRepository,
    F: FineSuspensionRepository,
    C: Clock,
{
    /// The services over these ports.
    pub fn new(store: S, rules: R, calendars: L, suspensions: F, clock: C) -> Self {
        Self {
            store,
            rules,
            calendars,
            suspensions,
            clock,
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    async fn config(&self) -> Result<Config, InfrastructureError> {
        Ok(Config {
            rules: self.rules.scoped_rules().await?,
            periods: self.suspensions.fine_suspension_periods().await?,
        })
    }

    async fn library(&self, code: &LibraryCode) -> Result<Option<Library>, InfrastructureError> {
        self.calendars.library_calendar(code).await
    }

    /// A library that records refer to: missing means the data is inconsistent.
    async fn known_library(&self, code: &LibraryCode) -> Result<Library, InfrastructureError> {
        self.library(code).await?.ok_or_else(|| {
            InfrastructureError::new(format!("library {code} is referenced but missing"))
        })
    }

    /// Unpaid charges plus fines accruing on the reader's open overdue loans as of `now`
    /// (docs/http.md, Fines: the figure compared with `block_threshold_cents`).
    async fn outstanding(
        &self,
        tx: &mut dyn CirculationTransaction,
        patron: &Patron,
        config: &Config,
        now: OffsetDateTime,
    ) -> Result<Money, InfrastructureError> {
        let (open_loans, owed) = tx.open_loans_and_charges(patron.id).await?;
        self.outstanding_with(owed, patron, &open_loans, config, now)
            .await
    }

    /// [`Self::outstanding`] from what the reader owes in charges (`owed`) and their open
    /// loans with their items, already read in this transaction
    /// ([`CirculationTransaction::open_loans_and_charges`]).
    async fn outstanding_with(
        &self,
        owed: Money,
        patron: &Patron,
        open_loans: &[(Loan, Item)],
        config: &Config,
        now: OffsetDateTime,
    ) -> Result<Money, InfrastructureError> {
        let mut total = owed;
        for (loan, item) in open_loans {
            let lending = self.known_library(&loan.library).await?;
            let rules = EffectiveRules::resolve(
                &config.rules,
                Some(&loan.library),
                Some(&patron.category),
                Some(&item.item_type),
            );
            total += accrued_fine(loan, now, &lending, &rules, &config.periods).fine;
        }
        Ok(total)
    }

    /// A copy has come free (returned, or its waiting hold ended): trap it for the first
    /// queued reader of its title, or put it back on the shelf. The caller holds the
    /// title's and the item's locks and writes the queue's changes back.
    async fn trap_or_shelve(
        &self,
        tx: &mut dyn CirculationTransaction,
        queue: &mut HoldQueue,
        item: ItemId,
        config: &Config,
        now: OffsetDateTime,
    ) -> Result<Option<Hold>, InfrastructureError> {
        let (trapped, status) = self.route_freed_copy(tx, queue, item, config, now).await?;
        tx.set_item_status(item, status).await?;
        Ok(trapped)
    }

    /// [`Self::trap_or_shelve`] but for the copy's status, which it returns for the caller
    /// to write (with other writes, as a checkin does): on the hold shelf if it was
    /// trapped, else available.
    async fn route_freed_copy(
        &self,
        tx: &mut dyn CirculationTransaction,
        queue: &mut HoldQueue,
        item: ItemId,
        config: &Config,
        now: OffsetDateTime,
    ) -> Result<(Option<Hold>, ItemStatus), InfrastructureError> {
        let Some(next) = queue.next_in_line().cloned() else {
            return Ok((None, ItemStatus::Available));
        };
        let holder = tx.patron(next.patron).await?.ok_or_else(|| {
            InfrastructureError::new(format!("hold {} refers to a missing reader", next.id))
        })?;
        let pickup = self.known_library(&next.pickup_library).await?;
        let rules = EffectiveRules::resolve(
            &config.rules,
            Some(&pickup.code),
            Some(&holder.category),
            None,
        );
        let trapped_on = pickup.calendar.local_date(now);
        let by = pickup_by(trapped_on, rules.pickup_days, &pickup.calendar);
        let trapped = queue.trap(item, trapped_on, by);
        if let Some(hold) = &trapped {
            tx.queue_notice(
                CirculationNotice::HoldWaiting {
                    patron: hold.patron,
                    hold: hold.id,
                    title: hold.title,
                    item,
                    pickup_library: hold.pickup_library.clone(),
                    pickup_by: by,
                },
                now,
            )
            .await?;
        }
        Ok((trapped, ItemStatus::OnHoldShelf))
    }
}

/// Writes the audit entry of `event`, made `by` (if anyone) at `at`, in the transaction.
async fn record(
    tx: &mut dyn CirculationTransaction,
    by: Option<&Actor>,
    at: OffsetDateTime,
    event: impl FnOnce() -> CirculationEvent + Send,
) -> Result<(), InfrastructureError> {
    match by {
        Some(by) => {
            tx.record(CirculationRecord {
                by: by.clone(),
                event: event(),
                at,
            })
            .await
        }
        None => Ok(()),
    }
}

/// Counts `statistic` in the transaction: every checkout, checkin, renewal, hold placed
/// and hold collected, whoever made it (docs/circulation.md, Statistics).
async fn count(
    tx: &mut dyn CirculationTransaction,
    statistic: CirculationStatistic,
) -> Result<(), InfrastructureError> {
    tx.count(statistic).await
}

/// Writes a queue's changed holds back.
async fn save_queue(
    tx: &mut dyn CirculationTransaction,
    queue: HoldQueue,
) -> Result<(), InfrastructureError> {
    for hold in queue.into_changes() {
        tx.update_hold(&hold).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
