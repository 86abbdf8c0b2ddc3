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
mod lost;
mod renew;

pub use account::{CopyInformation, LoanStatus, ReaderAccount};
pub use checkin::{CheckinError, CheckinOutcome, CheckinRequest};
pub use checkout::{
    CheckoutError, CheckoutOutcome, CheckoutRequest, CollectHoldError, CollectHoldRequest,
};
pub use holds::{
    CancelHoldError, CancelHoldRequest, ChangeHoldError, ChangeHoldRequest, ExpireHoldsError,
    ExpiryReport, PlaceHoldError, PlaceHoldRequest,
};
pub use lost::{
    DeclareLostError, DeclareLostRequest, FOUND_REASON, FoundError, FoundOutcome, LostOutcome,
};
pub use renew::{
    RenewAllError, RenewAllOutcome, RenewAllRequest, RenewError, RenewOutcome, RenewRequest,
};

use std::collections::HashMap;

use library_core::{Clock, LibraryCode, Money};
use library_fines::FineSuspensionPeriod;
use time::OffsetDateTime;

use crate::checkin::accrued_fine;
use crate::hold_queue::{Hold, HoldQueue, pickup_by};
use crate::model::{Item, ItemPlacement, ItemStatus, Library, Loan, Patron};
use crate::ports::{
    Actor, CalendarRepository, CirculationEvent, CirculationNotice, CirculationRecord,
    CirculationStatistic, CirculationStore, CirculationTransaction, FineSuspensionRepository,
    InfrastructureError, RuleRepository,
};
use crate::rules::{EffectiveRules, ScopedRules};
use crate::transit::{Route, route_copy};

/// Where a copy that came free went (a return, an arrival, a waiting hold that ended):
/// trapped for a hold here, in transit to a hold's pickup library or home, or on the shelf
/// (docs/circulation.md, Transit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyRouting {
    /// Its status, the library it is at, and its destination in transit.
    pub placement: ItemPlacement,
    /// The hold it was trapped for, now waiting.
    pub trapped: Option<Hold>,
    /// The queued hold it travels for, in transit to that hold's pickup library.
    pub travels_for: Option<Hold>,
}

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

    /// A copy on the hold shelf has come free (its waiting hold ended): route it from the
    /// library it is at ([`Self::route_freed_copy`]) and put it there. The caller holds the
    /// title's and the item's locks and writes the queue's changes back.
    async fn route_and_place(
        &self,
        tx: &mut dyn CirculationTransaction,
        queue: &mut HoldQueue,
        item: &Item,
        config: &Config,
        now: OffsetDateTime,
    ) -> Result<CopyRouting, InfrastructureError> {
        let here = self.known_library(&item.current_library).await?;
        let routing = self
            .route_freed_copy(tx, queue, item, &here, config, now)
            .await?;
        tx.place_item(item.id, &routing.placement).await?;
        Ok(routing)
    }

    /// Where `item`, come free at library `here`, goes ([`route_copy`]): trapped for the
    /// hold it travelled for or the next hold in line when that hold is picked up here
    /// (the "hold waiting" notice queued, `pickup_by` counted from today in `here`'s
    /// calendar), else in transit to that hold's pickup library (the hold assigned the
    /// copy), else home, or on the shelf here when at home or floating. Returns where it
    /// goes, for the caller to write (with other writes, as a checkin does).
    async fn route_freed_copy(
        &self,
        tx: &mut dyn CirculationTransaction,
        queue: &mut HoldQueue,
        item: &Item,
        here: &Library,
        config: &Config,
        now: OffsetDateTime,
    ) -> Result<CopyRouting, InfrastructureError> {
        let floating =
            EffectiveRules::resolve(&config.rules, Some(&here.code), None, Some(&item.item_type))
                .floating;
        // Each queued hold's "today" is its pickup library's local date: a hold suspended
        // there today is passed over, keeping its position.
        let mut pickups: HashMap<LibraryCode, Library> = HashMap::new();
        for hold in queue.queued() {
            if !pickups.contains_key(&hold.pickup_library) {
                let library = self.known_library(&hold.pickup_library).await?;
                pickups.insert(hold.pickup_library.clone(), library);
            }
        }
        let next = queue
            .next_in_line(|h| {
                pickups
                    .get(&h.pickup_library)
                    .map_or_else(|| now.date(), |library| library.calendar.local_date(now))
            })
            .cloned();
        let route = route_copy(
            item,
            &here.code,
            floating,
            queue.travelling_for(item.id),
            next.as_ref(),
        );
        let out_of_step = |e| InfrastructureError::with_source("hold queue out of step", e);
        match route {
            Route::Trap(id) => {
                let hold = queue
                    .get(id)
                    .cloned()
                    .ok_or_else(|| InfrastructureError::new("trapped hold vanished"))?;
                let holder = tx.patron(hold.patron).await?.ok_or_else(|| {
                    InfrastructureError::new(format!("hold {} refers to a missing reader", id))
                })?;
                let rules = EffectiveRules::resolve(
                    &config.rules,
                    Some(&here.code),
                    Some(&holder.category),
                    None,
                );
                let trapped_on = here.calendar.local_date(now);
                let by = pickup_by(trapped_on, rules.pickup_days, &here.calendar);
                let trapped = queue
                    .trap(id, item.id, trapped_on, by)
                    .map_err(out_of_step)?;
                tx.queue_notice(
                    CirculationNotice::HoldWaiting {
                        patron: trapped.patron,
                        hold: trapped.id,
                        title: trapped.title,
                        item: item.id,
                        pickup_library: trapped.pickup_library.clone(),
                        pickup_by: by,
                    },
                    now,
                )
                .await?;
                Ok(CopyRouting {
                    placement: ItemPlacement::at(ItemStatus::OnHoldShelf, here.code.clone()),
                    trapped: Some(trapped),
                    travels_for: None,
                })
            }
            Route::Transit { to, hold } => {
                let travels_for = hold
                    .map(|id| queue.send_in_transit(id, item.id))
                    .transpose()
                    .map_err(out_of_step)?;
                Ok(CopyRouting {
                    placement: ItemPlacement::in_transit(here.code.clone(), to),
                    trapped: None,
                    travels_for,
                })
            }
            Route::Shelve => Ok(CopyRouting {
                placement: ItemPlacement::at(ItemStatus::Available, here.code.clone()),
                trapped: None,
                travels_for: None,
            }),
        }
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
