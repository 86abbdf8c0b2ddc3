//! Holds: place, change (suspend, resume, "not needed after"), cancel, and the expiry job
//! for waiting holds and for queued holds no longer needed.

use library_core::{Clock, HoldId, LibraryCode, PatronId, TitleId};
use time::{Date, Duration};

use super::{Circulation, count, record, save_queue};
use crate::hold_options::{
    CancelReason, CancelledBy, HoldOptionViolation, check_not_needed_after, check_suspended_until,
};
use crate::hold_queue::{Hold, HoldQueue, HoldState, NewHold};
use crate::hold_request::{HoldFacts, HoldRefusal, decide_hold};
use crate::ports::{
    Actor, CalendarRepository, CirculationEvent, CirculationNotice, CirculationStatistic,
    CirculationStore, FineSuspensionRepository, InfrastructureError, RuleRepository, StatisticKind,
};
use crate::rules::EffectiveRules;

/// Place a hold on a title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceHoldRequest {
    /// The reader.
    pub patron: PatronId,
    /// The title.
    pub title: TitleId,
    /// Where the reader will collect it.
    pub pickup_library: LibraryCode,
    /// The reader's last date of interest, if any (today or later, in the pickup library's
    /// calendar: [`check_not_needed_after`]).
    pub not_needed_after: Option<Date>,
}

/// Why a hold was not placed.
#[derive(Debug, thiserror::Error)]
pub enum PlaceHoldError {
    /// No such reader.
    #[error("no such reader")]
    PatronNotFound,
    /// No such title.
    #[error("no such title")]
    TitleNotFound,
    /// No such pickup library.
    #[error("no library {0}")]
    LibraryNotFound(LibraryCode),
    /// The "not needed after" date is not acceptable (422).
    #[error("invalid: {}", .0.code())]
    Invalid(HoldOptionViolation),
    /// Refused for a named reason (docs/http.md: 409 `hold_refused`).
    #[error("hold refused: {}", .0.code())]
    Refused(HoldRefusal),
    /// A port failed.
    #[error(transparent)]
    Infrastructure(#[from] InfrastructureError),
}

/// Cancel a hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelHoldRequest {
    /// The hold.
    pub hold: HoldId,
    /// The reader asking: another reader's hold is "not found". `None` = staff.
    pub patron: Option<PatronId>,
    /// Why, for the reader to read (staff's cancellations).
    pub reason: Option<CancelReason>,
}

/// Why a hold was not cancelled.
#[derive(Debug, thiserror::Error)]
pub enum CancelHoldError {
    /// No such hold, or not the asking reader's.
    #[error("no such hold")]
    HoldNotFound,
    /// The hold has already ended (collected, expired or cancelled).
    #[error("the hold has already ended")]
    NotActive,
    /// A port failed.
    #[error(transparent)]
    Infrastructure(#[from] InfrastructureError),
}

/// Change a hold's options. `None` leaves an option as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeHoldRequest {
    /// The hold.
    pub hold: HoldId,
    /// The reader whose hold it must be: another reader's hold is "not found".
    pub patron: Option<PatronId>,
    /// Suspend until this date (the first day active again), or lift the suspension.
    pub suspended_until: Option<Option<Date>>,
    /// The reader's last date of interest, or none.
    pub not_needed_after: Option<Option<Date>>,
}

/// Why a hold's options were not changed.
#[derive(Debug, thiserror::Error)]
pub enum ChangeHoldError {
    /// No such hold, or not the reader's.
    #[error("no such hold")]
    HoldNotFound,
    /// The hold has already ended (collected, expired or cancelled).
    #[error("the hold has already ended")]
    NotActive,
    /// The dates are not acceptable, or a waiting hold was to be suspended (422).
    #[error("invalid: {0:?}")]
    Invalid(Vec<HoldOptionViolation>),
    /// A port failed.
    #[error(transparent)]
    Infrastructure(#[from] InfrastructureError),
}

/// What the expiry job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpiryReport {
    /// Waiting holds that expired.
    pub expired: Vec<HoldId>,
    /// Queued holds that expired because their "not needed after" date had passed.
    pub no_longer_needed: Vec<HoldId>,
    /// Holds their copies were trapped for in turn.
    pub trapped: Vec<Hold>,
}

/// Why the expiry job failed.
#[derive(Debug, thiserror::Error)]
pub enum ExpireHoldsError {
    /// A port failed (holds expired before the failure stay expired).
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
    /// Places a hold at the end of the title's queue: refusals in the documented order
    /// ([`crate::hold_refusals`]), with the hold rules of the pickup library.
    pub async fn place_hold(&self, req: PlaceHoldRequest) -> Result<Hold, PlaceHoldError> {
        self.place_hold_as(req, None).await
    }

    /// [`Self::place_hold`], with its audit entry (`hold.place`) written in the same
    /// transaction when made `by` someone (staff at the counter).
    pub async fn place_hold_as(
        &self,
        req: PlaceHoldRequest,
        by: Option<&Actor>,
    ) -> Result<Hold, PlaceHoldError> {
        let now = self.now();
        let config = self.config().await?;
        let Some(pickup) = self.library(&req.pickup_library).await? else {
            return Err(PlaceHoldError::LibraryNotFound(req.pickup_library));
        };
        if let Some(last) = req.not_needed_after {
            check_not_needed_after(last, pickup.calendar.local_date(now))
                .map_err(PlaceHoldError::Invalid)?;
        }
        let mut tx = self.store.begin().await?;
        let Some(patron) = tx.patron_for_update(req.patron).await? else {
            return Err(PlaceHoldError::PatronNotFound);
        };
        if tx.title_for_update(req.title).await?.is_none() {
            return Err(PlaceHoldError::TitleNotFound);
        }
        let (open_loans, owed) = tx.open_loans_and_charges(patron.id).await?;
        let has_title_on_loan = open_loans.iter().any(|(_, item)| item.title == req.title);
        let active = tx.active_holds_of_patron(patron.id).await?;
        let rules = EffectiveRules::resolve(
            &config.rules,
            Some(&pickup.code),
            Some(&patron.category),
            None,
        );
        let outstanding = self
            .outstanding_with(owed, &patron, &open_loans, &config, now)
            .await?;
        let pickup_today = pickup.calendar.local_date(now);
        let facts = HoldFacts {
            today: pickup_today,
            patron: &patron,
            rules: &rules,
            has_title_on_loan,
            has_hold_on_title: active.iter().any(|h| h.title == req.title),
            active_holds: u32::try_from(active.len()).unwrap_or(u32::MAX),
            outstanding,
        };
        decide_hold(&facts).map_err(PlaceHoldError::Refused)?;
        let queue = HoldQueue::new(req.title, tx.active_holds_of_title(req.title).await?);
        let position = queue.next_position();
        // Stored positions with gaps would be repaired by the queue; write that back too.
        save_queue(tx.as_mut(), queue).await?;
        let hold = tx
            .insert_hold(NewHold {
                patron: patron.id,
                title: req.title,
                pickup_library: pickup.code,
                placed_at: now,
                position,
                not_needed_after: req.not_needed_after,
            })
            .await?;
        count(
            tx.as_mut(),
            CirculationStatistic {
                kind: StatisticKind::HoldPlaced,
                channel: None,
                library: hold.pickup_library.clone(),
                on: pickup_today,
                at: now,
                loan: None,
                hold: Some(hold.id),
            },
        )
        .await?;
        record(tx.as_mut(), by, now, || CirculationEvent::HoldPlaced {
            hold: hold.id,
            card_number: patron.card_number.clone(),
            title: hold.title,
        })
        .await?;
        tx.commit().await?;
        Ok(hold)
    }

    /// Cancels a queued or waiting hold; the queue is renumbered, and a copy waiting for it
    /// goes to the next reader (in transit if they collect elsewhere), or home, or back to
    /// the shelf. A copy in transit for a cancelled queued hold travels on and is routed
    /// when it arrives.
    pub async fn cancel_hold(&self, req: CancelHoldRequest) -> Result<Hold, CancelHoldError> {
        self.cancel_hold_as(req, None).await
    }

    /// [`Self::cancel_hold`], with its audit entry (`hold.cancel`) written in the same
    /// transaction when made `by` someone (staff at the counter).
    pub async fn cancel_hold_as(
        &self,
        req: CancelHoldRequest,
        by: Option<&Actor>,
    ) -> Result<Hold, CancelHoldError> {
        let now = self.now();
        let config = self.config().await?;
        let mut tx = self.store.begin().await?;
        let Some(hold) = tx.hold(req.hold).await? else {
            return Err(CancelHoldError::HoldNotFound);
        };
        if req.patron.is_some_and(|p| p != hold.patron) {
            return Err(CancelHoldError::HoldNotFound);
        }
        tx.title_for_update(hold.title).await?;
        let mut queue = HoldQueue::new(hold.title, tx.active_holds_of_title(hold.title).await?);
        // Staff at the counter cancel for the reader; a station is the reader's own hand.
        let cancelled_by = match by {
            Some(Actor::Staff(_)) => CancelledBy::Staff,
            _ => CancelledBy::Reader,
        };
        let freed = queue
            .cancel(hold.id, now, cancelled_by, req.reason.clone())
            .map_err(|_| CancelHoldError::NotActive)?;
        if let Some(item) = freed {
            let item = tx
                .item_for_update(item)
                .await?
                .ok_or_else(|| InfrastructureError::new("a waiting hold's copy vanished"))?;
            self.route_and_place(tx.as_mut(), &mut queue, &item, &config, now)
                .await?;
        }
        save_queue(tx.as_mut(), queue).await?;
        let cancelled = tx
            .hold(hold.id)
            .await?
            .ok_or_else(|| InfrastructureError::new("cancelled hold vanished"))?;
        if by.is_some() {
            // The reader's card, as the audit entry names them (read without a lock: the
            // hold's row is what changed).
            let card_number = tx
                .patron(hold.patron)
                .await?
                .ok_or_else(|| InfrastructureError::new("a hold's reader vanished"))?
                .card_number;
            record(tx.as_mut(), by, now, || CirculationEvent::HoldCancelled {
                hold: hold.id,
                card_number,
                reason: req.reason,
            })
            .await?;
        }
        tx.commit().await?;
        Ok(cancelled)
    }

    /// Suspends or resumes a queued hold, or sets its "not needed after" date (checked by
    /// [`crate::check_suspended_until`] and [`crate::check_not_needed_after`]); its queue
    /// position does not change. Resuming traps nothing by itself: the hold is first in
    /// line for the next copy that comes free.
    pub async fn change_hold(&self, req: ChangeHoldRequest) -> Result<Hold, ChangeHoldError> {
        self.change_hold_as(req, None).await
    }

    /// [`Self::change_hold`], with its audit entry (`hold.change`) written in the same
    /// transaction when made `by` someone (staff at the counter).
    pub async fn change_hold_as(
        &self,
        req: ChangeHoldRequest,
        by: Option<&Actor>,
    ) -> Result<Hold, ChangeHoldError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let Some(hold) = tx.hold(req.hold).await? else {
            return Err(ChangeHoldError::HoldNotFound);
        };
        if req.patron.is_some_and(|p| p != hold.patron) {
            return Err(ChangeHoldError::HoldNotFound);
        }
        tx.title_for_update(hold.title).await?;
        let mut queue = HoldQueue::new(hold.title, tx.active_holds_of_title(hold.title).await?);
        let Some(current) = queue.get(hold.id).cloned() else {
            return Err(ChangeHoldError::NotActive);
        };
        let pickup = self.known_library(&current.pickup_library).await?;
        let today = pickup.calendar.local_date(now);
        let mut violations = Vec::new();
        // A date sent again unchanged is not checked again (it may have been accepted on
        // an earlier day).
        if let Some(Some(until)) = req.suspended_until {
            if current.position().is_none() {
                violations.push(HoldOptionViolation::HoldNotQueued);
            } else if current.suspended_until != Some(until) {
                violations.extend(check_suspended_until(until, today).err());
            }
        }
        if let Some(Some(last)) = req.not_needed_after
            && current.not_needed_after != Some(last)
        {
            violations.extend(check_not_needed_after(last, today).err());
        }
        if !violations.is_empty() {
            return Err(ChangeHoldError::Invalid(violations));
        }
        let changed = queue
            .change_options(hold.id, req.suspended_until, req.not_needed_after)
            .map_err(|e| InfrastructureError::with_source("hold queue out of step", e))?;
        save_queue(tx.as_mut(), queue).await?;
        if by.is_some() {
            let card_number = tx
                .patron(hold.patron)
                .await?
                .ok_or_else(|| InfrastructureError::new("a hold's reader vanished"))?
                .card_number;
            record(tx.as_mut(), by, now, || CirculationEvent::HoldChanged {
                hold: hold.id,
                card_number,
                suspended_until: changed.suspended_until,
                not_needed_after: changed.not_needed_after,
            })
            .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// The scheduled job: every waiting hold past its `pickup_by` (in the pickup library's
    /// local date) expires, and its copy is trapped for the next reader in the queue or
    /// shelved; then every queued hold past its "not needed after" date expires and the
    /// queue moves up. One unit of work per hold, so a failure leaves earlier expiries
    /// done.
    pub async fn expire_waiting_holds(&self) -> Result<ExpiryReport, ExpireHoldsError> {
        let now = self.now();
        let config = self.config().await?;
        let waiting = {
            let mut tx = self.store.begin().await?;
            tx.waiting_holds().await?
        };
        let mut report = ExpiryReport::default();
        for candidate in waiting {
            let pickup = self.known_library(&candidate.pickup_library).await?;
            if !candidate.is_expired_on(pickup.calendar.local_date(now)) {
                continue;
            }
            let mut tx = self.store.begin().await?;
            tx.title_for_update(candidate.title).await?;
            let mut queue = HoldQueue::new(
                candidate.title,
                tx.active_holds_of_title(candidate.title).await?,
            );
            // Re-checked under the title's lock: collected or cancelled meanwhile = skip.
            let still_due = queue
                .get(candidate.id)
                .is_some_and(|h| h.is_expired_on(pickup.calendar.local_date(now)));
            if !still_due {
                continue;
            }
            let item = queue
                .expire(candidate.id, now)
                .map_err(|e| InfrastructureError::with_source("hold queue out of step", e))?;
            if let HoldState::Waiting { pickup_by, .. } = candidate.state {
                tx.queue_notice(
                    CirculationNotice::HoldExpired {
                        patron: candidate.patron,
                        hold: candidate.id,
                        title: candidate.title,
                        pickup_library: candidate.pickup_library.clone(),
                        pickup_by,
                    },
                    now,
                )
                .await?;
            }
            let item = tx
                .item_for_update(item)
                .await?
                .ok_or_else(|| InfrastructureError::new("a waiting hold's copy vanished"))?;
            let routing = self
                .route_and_place(tx.as_mut(), &mut queue, &item, &config, now)
                .await?;
            save_queue(tx.as_mut(), queue).await?;
            tx.commit().await?;
            report.expired.push(candidate.id);
            report.trapped.extend(routing.trapped);
        }
        report.no_longer_needed = self.expire_holds_no_longer_needed().await?;
        Ok(report)
    }

    /// The expiry job's second part: queued holds whose "not needed after" date is before
    /// their pickup library's today end as expired, the reader told
    /// ([`CirculationNotice::HoldNotNeeded`]).
    async fn expire_holds_no_longer_needed(&self) -> Result<Vec<HoldId>, ExpireHoldsError> {
        let now = self.now();
        // No library's local date is more than a day after the UTC date.
        let bound = now.date().saturating_add(Duration::days(2));
        let candidates = {
            let mut tx = self.store.begin().await?;
            tx.queued_holds_not_needed_before(bound).await?
        };
        let mut ended = Vec::new();
        for candidate in candidates {
            let pickup = self.known_library(&candidate.pickup_library).await?;
            let today = pickup.calendar.local_date(now);
            if !candidate.is_no_longer_needed_on(today) {
                continue;
            }
            let mut tx = self.store.begin().await?;
            tx.title_for_update(candidate.title).await?;
            let mut queue = HoldQueue::new(
                candidate.title,
                tx.active_holds_of_title(candidate.title).await?,
            );
            // Re-checked under the title's lock: trapped, changed or cancelled meanwhile.
            let Some(current) = queue.get(candidate.id).cloned() else {
                continue;
            };
            let Some(last) = current
                .not_needed_after
                .filter(|_| current.is_no_longer_needed_on(today))
            else {
                continue;
            };
            queue
                .lapse(candidate.id, now)
                .map_err(|e| InfrastructureError::with_source("hold queue out of step", e))?;
            tx.queue_notice(
                CirculationNotice::HoldNotNeeded {
                    patron: current.patron,
                    hold: current.id,
                    title: current.title,
                    pickup_library: current.pickup_library.clone(),
                    not_needed_after: last,
                },
                now,
            )
            .await?;
            save_queue(tx.as_mut(), queue).await?;
            tx.commit().await?;
            ended.push(candidate.id);
        }
        Ok(ended)
    }
}
