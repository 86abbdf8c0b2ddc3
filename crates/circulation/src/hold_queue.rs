//! Holds (reservations) and the FIFO queue of one title.
//!
//! - A hold is placed on a title with a pickup library and joins the end of the title's
//!   queue (Koha `CalculatePriority`: 1 + the holds already queued).
//! - When a copy comes back it is **trapped** for the first queued hold, which becomes
//!   *waiting* (Koha `set_waiting`: priority 0). It waits until `pickup_by`, the N-th open
//!   day of the pickup library after the trap date T (`pickup_days`; Koha
//!   `ExcludeHolidaysFromMaxPickUpDelay`, vector K23 of docs/circulation.md), and expires
//!   the day after; the copy then goes to the next reader in the queue.
//! - A copy returned at another library than the hold's pickup library is sent there in
//!   transit for the hold (Koha: a transfer with reason `Reserve`, the hold found `T`). The
//!   hold stays queued at its position but is *assigned* the copy
//!   ([`HoldState::Queued::in_transit`]), so no second copy is sent or trapped for it; the
//!   copy is trapped when it is scanned in at the pickup library, and `pickup_by` counts
//!   from that day (docs/circulation.md, Transit).
//! - Cancelling renumbers the queue. Collection is the holder's checkout of the copy.
//! - A queued hold may be **suspended** until a date (`hold_options.rs`): it keeps
//!   its position but a freed copy goes to the first queued hold that is not suspended on
//!   its pickup library's today ([`HoldQueue::next_in_line`]). A queued hold whose "not
//!   needed after" date has passed is ended as expired ([`HoldQueue::lapse`]).
//! - **Invariant:** the queued holds of a title always have positions 1..n, without gaps or
//!   duplicates, in the order they were placed. Every operation renumbers, so the invariant
//!   holds after any sequence of place, cancel, trap and expire (tested with proptest).

use std::collections::BTreeSet;

use library_core::{HoldId, ItemId, LibraryCode, PatronId, TitleId};
use time::{Date, Duration, OffsetDateTime};

use crate::calendar::Calendar;
use crate::hold_options::{CancelReason, CancelledBy};

/// A hold's status (docs/http.md, Circulation: `GET /me/holds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldStatus {
    /// In the queue for a copy.
    Queued,
    /// A copy is on the hold shelf for the reader.
    Waiting,
    /// The reader collected the copy.
    Collected,
    /// The reader did not collect in time.
    Expired,
    /// Cancelled by the reader or staff.
    Cancelled,
}

impl HoldStatus {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            HoldStatus::Queued => "queued",
            HoldStatus::Waiting => "waiting",
            HoldStatus::Collected => "collected",
            HoldStatus::Expired => "expired",
            HoldStatus::Cancelled => "cancelled",
        }
    }
}

/// Where a hold is in its life, with what each state needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HoldState {
    /// In the queue at `position` (1 = next).
    Queued {
        /// 1..n without gaps.
        position: u32,
        /// A copy in transit to the pickup library for this hold, if one was sent.
        in_transit: Option<ItemId>,
    },
    /// `item` is on the hold shelf since `trapped_on`; collect by `pickup_by` inclusive.
    Waiting {
        /// The trapped copy.
        item: ItemId,
        /// The trap date T (pickup library's local date).
        trapped_on: Date,
        /// The last day to collect.
        pickup_by: Date,
    },
    /// Collected at `at`.
    Collected {
        /// When.
        at: OffsetDateTime,
    },
    /// Expired at `at` (the expiry job's run).
    Expired {
        /// When.
        at: OffsetDateTime,
    },
    /// Cancelled at `at`.
    Cancelled {
        /// When.
        at: OffsetDateTime,
        /// By the reader or by staff.
        by: CancelledBy,
        /// Why, as staff told the reader (`None` for a reader's own cancellation, or staff's
        /// without a reason).
        reason: Option<CancelReason>,
    },
}

/// A hold on a title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The record id.
    pub id: HoldId,
    /// The reader.
    pub patron: PatronId,
    /// The title reserved.
    pub title: TitleId,
    /// Where the reader collects it.
    pub pickup_library: LibraryCode,
    /// When it was placed (UTC).
    pub placed_at: OffsetDateTime,
    /// Where it is in its life.
    pub state: HoldState,
    /// Suspended: not trapped before this date, the first day it is active again (pickup
    /// library's local date). Cleared when a copy is trapped for it.
    pub suspended_until: Option<Date>,
    /// The reader's last date of interest: queued past it, the hold expires.
    pub not_needed_after: Option<Date>,
}

impl Hold {
    /// The status.
    pub fn status(&self) -> HoldStatus {
        match self.state {
            HoldState::Queued { .. } => HoldStatus::Queued,
            HoldState::Waiting { .. } => HoldStatus::Waiting,
            HoldState::Collected { .. } => HoldStatus::Collected,
            HoldState::Expired { .. } => HoldStatus::Expired,
            HoldState::Cancelled { .. } => HoldStatus::Cancelled,
        }
    }

    /// `true` while queued or waiting (counts towards `holds_allowed`).
    pub fn is_active(&self) -> bool {
        matches!(
            self.state,
            HoldState::Queued { .. } | HoldState::Waiting { .. }
        )
    }

    /// The queue position of a queued hold.
    pub fn position(&self) -> Option<u32> {
        match self.state {
            HoldState::Queued { position, .. } => Some(position),
            _ => None,
        }
    }

    /// The last day to collect, for a waiting hold.
    pub fn pickup_by(&self) -> Option<Date> {
        match self.state {
            HoldState::Waiting { pickup_by, .. } => Some(pickup_by),
            _ => None,
        }
    }

    /// The copy in transit to the pickup library for a queued hold, if one was sent.
    pub fn in_transit_item(&self) -> Option<ItemId> {
        match self.state {
            HoldState::Queued { in_transit, .. } => in_transit,
            _ => None,
        }
    }

    /// The trapped copy, for a waiting hold.
    pub fn waiting_item(&self) -> Option<ItemId> {
        match self.state {
            HoldState::Waiting { item, .. } => Some(item),
            _ => None,
        }
    }

    /// `true` if the hold is waiting and `today` (pickup library's date) is after
    /// `pickup_by`: it expires the day after the last day to collect.
    pub fn is_expired_on(&self, today: Date) -> bool {
        self.pickup_by().is_some_and(|by| today > by)
    }

    /// `true` if the hold is suspended on `today` (pickup library's date): before its
    /// `suspended_until` date. On that date it is active again.
    pub fn is_suspended_on(&self, today: Date) -> bool {
        self.suspended_until.is_some_and(|until| today < until)
    }

    /// `true` if the hold is queued and `today` (pickup library's date) is after its "not
    /// needed after" date. A waiting hold keeps its pickup-by date instead.
    pub fn is_no_longer_needed_on(&self, today: Date) -> bool {
        self.position().is_some() && self.not_needed_after.is_some_and(|last| today > last)
    }

    /// Who cancelled it and why, for a cancelled hold.
    pub fn cancellation(&self) -> Option<(CancelledBy, Option<&CancelReason>)> {
        match &self.state {
            HoldState::Cancelled { by, reason, .. } => Some((*by, reason.as_ref())),
            _ => None,
        }
    }
}

/// A hold not yet stored (the store assigns the id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHold {
    /// The reader.
    pub patron: PatronId,
    /// The title.
    pub title: TitleId,
    /// Where the reader collects it.
    pub pickup_library: LibraryCode,
    /// When it was placed.
    pub placed_at: OffsetDateTime,
    /// Its position at the end of the queue ([`HoldQueue::next_position`]).
    pub position: u32,
    /// The reader's last date of interest, if they gave one.
    pub not_needed_after: Option<Date>,
}

impl NewHold {
    /// The stored hold with its id.
    pub fn with_id(self, id: HoldId) -> Hold {
        Hold {
            id,
            patron: self.patron,
            title: self.title,
            pickup_library: self.pickup_library,
            placed_at: self.placed_at,
            state: HoldState::Queued {
                position: self.position,
                in_transit: None,
            },
            suspended_until: None,
            not_needed_after: self.not_needed_after,
        }
    }
}

/// The last day to collect a hold trapped on `trapped_on`: the `pickup_days`-th open day of
/// the pickup library after it (docs/http.md; Koha vector K23, docs/circulation.md). If the
/// calendar has no open day within its search bound, plain days are counted instead.
pub fn pickup_by(trapped_on: Date, pickup_days: u32, pickup_calendar: &Calendar) -> Date {
    pickup_calendar
        .nth_open_day_after(trapped_on, pickup_days)
        .unwrap_or_else(|| {
            trapped_on
                .checked_add(Duration::days(i64::from(pickup_days)))
                .unwrap_or(Date::MAX)
        })
}

/// Why a queue operation does not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HoldQueueError {
    /// The hold is not an active hold of this title.
    #[error("hold {0} is not queued or waiting on this title")]
    NotActive(HoldId),
    /// The hold is not waiting on the shelf.
    #[error("hold {0} is not waiting")]
    NotWaiting(HoldId),
    /// The hold is not queued.
    #[error("hold {0} is not queued")]
    NotQueued(HoldId),
}

/// The active (queued and waiting) holds of one title, and the holds an operation changed.
#[derive(Debug, Clone)]
pub struct HoldQueue {
    title: TitleId,
    active: Vec<Hold>,
    ended: Vec<Hold>,
    changed: BTreeSet<HoldId>,
}

impl HoldQueue {
    /// The queue of `title` from its stored holds (others and ended ones are ignored).
    /// Stored positions are repaired if they have gaps or duplicates: queued holds are
    /// ordered by position, then placement time, then id.
    pub fn new(title: TitleId, holds: impl IntoIterator<Item = Hold>) -> Self {
        let active = holds
            .into_iter()
            .filter(|h| h.title == title && h.is_active())
            .collect();
        let mut queue = Self {
            title,
            active,
            ended: Vec::new(),
            changed: BTreeSet::new(),
        };
        queue.renumber();
        queue
    }

    /// The title.
    pub fn title(&self) -> TitleId {
        self.title
    }

    /// Queued holds, first in line first.
    pub fn queued(&self) -> impl Iterator<Item = &Hold> {
        self.active.iter().filter(|h| h.position().is_some())
    }

    /// Waiting holds.
    pub fn waiting(&self) -> impl Iterator<Item = &Hold> {
        self.active.iter().filter(|h| h.pickup_by().is_some())
    }

    /// An active hold by id.
    pub fn get(&self, id: HoldId) -> Option<&Hold> {
        self.active.iter().find(|h| h.id == id)
    }

    /// The position a hold placed now gets.
    pub fn next_position(&self) -> u32 {
        u32::try_from(self.queued().count())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    /// Adds a newly stored queued hold at the end of the queue.
    pub fn push(&mut self, mut hold: Hold) {
        hold.state = HoldState::Queued {
            position: self.next_position(),
            in_transit: None,
        };
        self.changed.insert(hold.id);
        self.active.push(hold);
        self.renumber();
    }

    /// The hold a copy that comes free goes to: the first queued hold that is not
    /// suspended on `today_at(hold)` (its pickup library's local date) and that no copy is
    /// travelling for already. A suspended hold keeps its position and is passed over.
    pub fn next_in_line(&self, today_at: impl Fn(&Hold) -> Date) -> Option<&Hold> {
        self.queued()
            .find(|h| h.in_transit_item().is_none() && !h.is_suspended_on(today_at(h)))
    }

    /// The queued hold `item` is in transit for, if it still is.
    pub fn travelling_for(&self, item: ItemId) -> Option<&Hold> {
        self.queued().find(|h| h.in_transit_item() == Some(item))
    }

    /// Traps `item` for the queued hold `id` (the one [`Self::next_in_line`] names, or the
    /// hold the copy travelled for), which becomes waiting until `pickup_by`; its
    /// suspension, over by now, is cleared.
    ///
    /// # Errors
    /// [`HoldQueueError::NotQueued`] if `id` is not a queued hold of this title.
    pub fn trap(
        &mut self,
        id: HoldId,
        item: ItemId,
        trapped_on: Date,
        pickup_by: Date,
    ) -> Result<Hold, HoldQueueError> {
        let hold = self.queued_mut(id)?;
        hold.state = HoldState::Waiting {
            item,
            trapped_on,
            pickup_by,
        };
        hold.suspended_until = None;
        let trapped = hold.clone();
        self.changed.insert(trapped.id);
        self.renumber();
        Ok(trapped)
    }

    /// Assigns `item`, sent in transit to the pickup library, to the queued hold `id`: the
    /// hold keeps its position, and no other copy goes to it meanwhile.
    pub fn send_in_transit(&mut self, id: HoldId, item: ItemId) -> Result<Hold, HoldQueueError> {
        let hold = self.queued_mut(id)?;
        if let HoldState::Queued { in_transit, .. } = &mut hold.state {
            *in_transit = Some(item);
        }
        let sent = hold.clone();
        self.changed.insert(sent.id);
        Ok(sent)
    }

    fn queued_mut(&mut self, id: HoldId) -> Result<&mut Hold, HoldQueueError> {
        self.active
            .iter_mut()
            .find(|h| h.id == id && h.position().is_some())
            .ok_or(HoldQueueError::NotQueued(id))
    }

    /// Cancels an active hold, `by` the reader or staff, with staff's `reason`. Returns the
    /// copy it freed if it was waiting.
    pub fn cancel(
        &mut self,
        id: HoldId,
        at: OffsetDateTime,
        by: CancelledBy,
        reason: Option<CancelReason>,
    ) -> Result<Option<ItemId>, HoldQueueError> {
        let hold = self.end(id, HoldState::Cancelled { at, by, reason }, false)?;
        Ok(hold.waiting_item())
    }

    /// Ends a queued hold as expired because its "not needed after" date has passed; the
    /// holds behind it move up.
    ///
    /// # Errors
    /// [`HoldQueueError::NotActive`], or [`HoldQueueError::NotQueued`] for a waiting hold.
    pub fn lapse(&mut self, id: HoldId, at: OffsetDateTime) -> Result<(), HoldQueueError> {
        if self.get(id).is_some_and(|h| h.position().is_none()) {
            return Err(HoldQueueError::NotQueued(id));
        }
        self.end(id, HoldState::Expired { at }, false)?;
        Ok(())
    }

    /// Sets or lifts (`None`) a queued hold's suspension and sets its "not needed after"
    /// date, each only when given (`Some`). The caller checked the dates
    /// ([`crate::check_suspended_until`], [`crate::check_not_needed_after`]). Its position
    /// does not change.
    ///
    /// # Errors
    /// [`HoldQueueError::NotActive`]; [`HoldQueueError::NotQueued`] for a suspension of a
    /// waiting hold (lifting one is allowed: it has none).
    pub fn change_options(
        &mut self,
        id: HoldId,
        suspended_until: Option<Option<Date>>,
        not_needed_after: Option<Option<Date>>,
    ) -> Result<Hold, HoldQueueError> {
        let hold = self
            .active
            .iter_mut()
            .find(|h| h.id == id)
            .ok_or(HoldQueueError::NotActive(id))?;
        if let Some(until) = suspended_until {
            if until.is_some() && hold.position().is_none() {
                return Err(HoldQueueError::NotQueued(id));
            }
            hold.suspended_until = until;
        }
        if let Some(last) = not_needed_after {
            hold.not_needed_after = last;
        }
        let changed = hold.clone();
        self.changed.insert(id);
        Ok(changed)
    }

    /// Expires a waiting hold. Returns the copy it freed.
    pub fn expire(&mut self, id: HoldId, at: OffsetDateTime) -> Result<ItemId, HoldQueueError> {
        let hold = self.end(id, HoldState::Expired { at }, true)?;
        hold.waiting_item().ok_or(HoldQueueError::NotWaiting(id))
    }

    /// Marks a waiting hold collected (its copy is being checked out to the holder).
    pub fn collect(&mut self, id: HoldId, at: OffsetDateTime) -> Result<ItemId, HoldQueueError> {
        let hold = self.end(id, HoldState::Collected { at }, true)?;
        hold.waiting_item().ok_or(HoldQueueError::NotWaiting(id))
    }

    /// Puts a waiting hold back in the queue, first in line, because its copy was lent to
    /// someone else by a staff override (docs/circulation.md, Overrides). Returns the copy
    /// it had.
    pub fn release(&mut self, id: HoldId) -> Result<ItemId, HoldQueueError> {
        let hold = self
            .active
            .iter_mut()
            .find(|h| h.id == id)
            .ok_or(HoldQueueError::NotActive(id))?;
        let item = hold.waiting_item().ok_or(HoldQueueError::NotWaiting(id))?;
        // Position 0 sorts before every queued hold; renumbering makes it 1.
        hold.state = HoldState::Queued {
            position: 0,
            in_transit: None,
        };
        self.changed.insert(id);
        self.renumber();
        Ok(item)
    }

    /// Ends `patron`'s queued hold on the title as collected because they borrowed a
    /// copy from the open shelf (Koha fills a reader's hold when they check out the
    /// title). Returns the hold, if there was one.
    pub fn fill_by_checkout(&mut self, patron: PatronId, at: OffsetDateTime) -> Option<HoldId> {
        let id = self.queued().find(|h| h.patron == patron)?.id;
        self.end(id, HoldState::Collected { at }, false).ok()?;
        Some(id)
    }

    /// Every hold this queue changed (to be written back), ended ones included.
    pub fn into_changes(self) -> Vec<Hold> {
        let changed = self.changed;
        self.active
            .into_iter()
            .chain(self.ended)
            .filter(|h| changed.contains(&h.id))
            .collect()
    }

    /// `true` if queued positions are exactly 1..n (the invariant; for tests).
    pub fn positions_are_contiguous(&self) -> bool {
        let mut positions: Vec<u32> = self.queued().filter_map(Hold::position).collect();
        positions.sort_unstable();
        positions
            .iter()
            .copied()
            .eq(1..=u32::try_from(positions.len()).unwrap_or(u32::MAX))
    }

    /// Ends an active hold (only a waiting one if `waiting_only`) and returns it as it was.
    fn end(
        &mut self,
        id: HoldId,
        state: HoldState,
        waiting_only: bool,
    ) -> Result<Hold, HoldQueueError> {
        let idx = self
            .active
            .iter()
            .position(|h| h.id == id)
            .ok_or(HoldQueueError::NotActive(id))?;
        if waiting_only && self.active[idx].pickup_by().is_none() {
            return Err(HoldQueueError::NotWaiting(id));
        }
        let mut hold = self.active.remove(idx);
        let before = hold.clone();
        hold.state = state;
        self.changed.insert(id);
        self.ended.push(hold);
        self.renumber();
        Ok(before)
    }

    /// Queued holds get positions 1..n in their current order (position, placement, id);
    /// the active list is kept in that order, waiting holds first.
    fn renumber(&mut self) {
        self.active.sort_by_key(|h| {
            (
                h.position().is_some(),
                h.position().unwrap_or(0),
                h.placed_at,
                h.id,
            )
        });
        let mut next = 1u32;
        for hold in &mut self.active {
            if let HoldState::Queued { position, .. } = &mut hold.state {
                if *position != next {
                    *position = next;
                    self.changed.insert(hold.id);
                }
                next += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Closure;
    use time::macros::{date, datetime};

    fn hold(id: i64, position: u32) -> Hold {
        Hold {
            id: HoldId(id),
            patron: PatronId(id),
            title: TitleId(1),
            pickup_library: LibraryCode::parse("HKCL").unwrap(),
            placed_at: datetime!(2021-03-01 10:00 UTC) + Duration::minutes(id),
            state: HoldState::Queued {
                position,
                in_transit: None,
            },
            suspended_until: None,
            not_needed_after: None,
        }
    }

    fn first_in_line(q: &HoldQueue, today: Date) -> Option<HoldId> {
        q.next_in_line(|_| today).map(|h| h.id)
    }

    fn trap_next(q: &mut HoldQueue, item: ItemId, on: Date, by: Date) -> Option<Hold> {
        let id = first_in_line(q, on)?;
        q.trap(id, item, on, by).ok()
    }

    #[test]
    fn k23_pickup_by_counts_open_days_of_the_pickup_library() {
        let t = date!(2021 - 03 - 01);
        let open = Calendar::default();
        assert_eq!(pickup_by(t, 6, &open), date!(2021 - 03 - 07));
        // Holidays at T+2 and T+4 push the last day to T+8.
        let cal = open
            .with_closure(Closure::new(date!(2021 - 03 - 03), date!(2021 - 03 - 03)).unwrap())
            .with_closure(Closure::new(date!(2021 - 03 - 05), date!(2021 - 03 - 05)).unwrap());
        let by = pickup_by(t, 6, &cal);
        assert_eq!(by, date!(2021 - 03 - 09));
        // It expires the day after.
        let mut q = HoldQueue::new(TitleId(1), [hold(1, 1)]);
        let trapped = trap_next(&mut q, ItemId(9), t, by).unwrap();
        assert_eq!(trapped.status(), HoldStatus::Waiting);
        assert_eq!(trapped.position(), None);
        assert!(!trapped.is_expired_on(date!(2021 - 03 - 09)));
        assert!(trapped.is_expired_on(date!(2021 - 03 - 10)));
    }

    #[test]
    fn fifo_trap_expire_moves_the_next_reader_up() {
        let mut q = HoldQueue::new(TitleId(1), [hold(1, 1), hold(2, 2), hold(3, 3)]);
        assert_eq!(q.next_position(), 4);
        let first = trap_next(
            &mut q,
            ItemId(9),
            date!(2021 - 03 - 01),
            date!(2021 - 03 - 08),
        )
        .unwrap();
        assert_eq!(first.id, HoldId(1));
        let positions: Vec<_> = q.queued().map(|h| (h.id.0, h.position())).collect();
        assert_eq!(positions, vec![(2, Some(1)), (3, Some(2))]);
        let freed = q
            .expire(HoldId(1), datetime!(2021-03-09 00:05 UTC))
            .unwrap();
        assert_eq!(freed, ItemId(9));
        let second =
            trap_next(&mut q, freed, date!(2021 - 03 - 09), date!(2021 - 03 - 16)).unwrap();
        assert_eq!(second.id, HoldId(2));
        let today = date!(2021 - 03 - 09);
        assert_eq!(first_in_line(&q, today), Some(HoldId(3)));
        assert_eq!(q.next_in_line(|_| today).and_then(Hold::position), Some(1));
        let changes = q.into_changes();
        assert_eq!(changes.len(), 3);
        assert!(changes.iter().any(|h| h.status() == HoldStatus::Expired));
    }

    #[test]
    fn cancel_renumbers_and_frees_a_waiting_copy() {
        let mut q = HoldQueue::new(TitleId(1), [hold(1, 1), hold(2, 2), hold(3, 3)]);
        assert_eq!(
            q.cancel(
                HoldId(2),
                datetime!(2021-03-02 00:00 UTC),
                CancelledBy::Reader,
                None
            ),
            Ok(None)
        );
        let positions: Vec<_> = q.queued().map(|h| (h.id.0, h.position())).collect();
        assert_eq!(positions, vec![(1, Some(1)), (3, Some(2))]);
        trap_next(
            &mut q,
            ItemId(9),
            date!(2021 - 03 - 02),
            date!(2021 - 03 - 09),
        );
        assert_eq!(
            q.cancel(
                HoldId(1),
                datetime!(2021-03-03 00:00 UTC),
                CancelledBy::Reader,
                None
            ),
            Ok(Some(ItemId(9)))
        );
        assert_eq!(
            q.cancel(
                HoldId(1),
                datetime!(2021-03-03 00:00 UTC),
                CancelledBy::Reader,
                None
            ),
            Err(HoldQueueError::NotActive(HoldId(1)))
        );
        assert_eq!(
            q.expire(HoldId(3), datetime!(2021-03-03 00:00 UTC)),
            Err(HoldQueueError::NotWaiting(HoldId(3)))
        );
        assert!(q.positions_are_contiguous());
    }

    #[test]
    fn an_off_shelf_checkout_fills_the_readers_queued_hold() {
        let mut q = HoldQueue::new(TitleId(1), [hold(1, 1), hold(2, 2)]);
        let at = datetime!(2021-03-02 00:00 UTC);
        assert_eq!(q.fill_by_checkout(PatronId(2), at), Some(HoldId(2)));
        assert_eq!(q.fill_by_checkout(PatronId(3), at), None);
        let changes = q.into_changes();
        assert_eq!(changes[0].status(), HoldStatus::Collected);
    }

    #[test]
    fn a_hold_with_a_copy_in_transit_keeps_its_place_and_is_skipped() {
        let mut q = HoldQueue::new(TitleId(1), [hold(1, 1), hold(2, 2)]);
        let sent = q.send_in_transit(HoldId(1), ItemId(9)).unwrap();
        assert_eq!(
            (sent.position(), sent.in_transit_item()),
            (Some(1), Some(ItemId(9)))
        );
        assert_eq!(sent.status(), HoldStatus::Queued);
        // The next copy goes to the second hold, not to the one a copy travels for.
        let today = |_: &Hold| date!(2021 - 03 - 08);
        assert_eq!(q.next_in_line(today).map(|h| h.id), Some(HoldId(2)));
        assert_eq!(q.travelling_for(ItemId(9)).map(|h| h.id), Some(HoldId(1)));
        let other = q
            .trap(
                HoldId(2),
                ItemId(8),
                date!(2021 - 03 - 08),
                date!(2021 - 03 - 15),
            )
            .unwrap();
        assert_eq!(other.id, HoldId(2));
        // On arrival the travelling copy is trapped for its hold.
        let arrived = q
            .trap(
                HoldId(1),
                ItemId(9),
                date!(2021 - 03 - 10),
                date!(2021 - 03 - 17),
            )
            .unwrap();
        assert_eq!(arrived.waiting_item(), Some(ItemId(9)));
        assert_eq!(q.next_in_line(today), None);
        assert_eq!(
            q.send_in_transit(HoldId(1), ItemId(9)),
            Err(HoldQueueError::NotQueued(HoldId(1)))
        );
        assert!(q.positions_are_contiguous());
    }

    #[test]
    fn stored_gaps_and_duplicates_are_repaired() {
        let q = HoldQueue::new(TitleId(1), [hold(3, 7), hold(1, 2), hold(2, 2)]);
        let positions: Vec<_> = q.queued().map(|h| (h.id.0, h.position())).collect();
        assert_eq!(positions, vec![(1, Some(1)), (2, Some(2)), (3, Some(3))]);
        assert!(q.positions_are_contiguous());
    }

    #[test]
    fn a_suspended_hold_keeps_its_place_and_is_passed_over_until_its_date() {
        let mut first = hold(1, 1);
        first.suspended_until = Some(date!(2021 - 03 - 10));
        let mut q = HoldQueue::new(TitleId(1), [first, hold(2, 2), hold(3, 3)]);
        // 8 March: #1 is suspended, so the copy goes to #2.
        let on = date!(2021 - 03 - 08);
        assert_eq!(first_in_line(&q, on), Some(HoldId(2)));
        let trapped = trap_next(&mut q, ItemId(9), on, date!(2021 - 03 - 15)).unwrap();
        assert_eq!(trapped.id, HoldId(2));
        let positions: Vec<_> = q.queued().map(|h| (h.id.0, h.position())).collect();
        assert_eq!(positions, vec![(1, Some(1)), (3, Some(2))]);
        // 9 March, the day before it ends: still passed over.
        assert_eq!(first_in_line(&q, date!(2021 - 03 - 09)), Some(HoldId(3)));
        // 10 March, the first day it is active again: #1 is next.
        let on = date!(2021 - 03 - 10);
        assert_eq!(first_in_line(&q, on), Some(HoldId(1)));
        let trapped = trap_next(&mut q, ItemId(8), on, date!(2021 - 03 - 17)).unwrap();
        assert_eq!(trapped.id, HoldId(1));
        assert_eq!(
            trapped.suspended_until, None,
            "a trap clears the suspension"
        );
        assert!(q.positions_are_contiguous());
    }

    #[test]
    fn every_queued_hold_suspended_means_nobody_is_next() {
        let mut q = HoldQueue::new(TitleId(1), [hold(1, 1), hold(2, 2)]);
        for id in [HoldId(1), HoldId(2)] {
            q.change_options(id, Some(Some(date!(2021 - 04 - 01))), None)
                .unwrap();
        }
        assert_eq!(first_in_line(&q, date!(2021 - 03 - 31)), None);
        assert_eq!(
            q.trap(
                HoldId(9),
                ItemId(1),
                date!(2021 - 03 - 31),
                date!(2021 - 04 - 07)
            ),
            Err(HoldQueueError::NotQueued(HoldId(9)))
        );
        // Lifted: active at once.
        let lifted = q.change_options(HoldId(2), Some(None), None).unwrap();
        assert_eq!(lifted.suspended_until, None);
        assert_eq!(lifted.position(), Some(2));
        assert_eq!(first_in_line(&q, date!(2021 - 03 - 31)), Some(HoldId(2)));
    }

    #[test]
    fn a_waiting_hold_cannot_be_suspended_but_takes_a_last_date() {
        let mut q = HoldQueue::new(TitleId(1), [hold(1, 1)]);
        trap_next(
            &mut q,
            ItemId(9),
            date!(2021 - 03 - 01),
            date!(2021 - 03 - 08),
        );
        assert_eq!(
            q.change_options(HoldId(1), Some(Some(date!(2021 - 03 - 05))), None),
            Err(HoldQueueError::NotQueued(HoldId(1)))
        );
        let changed = q
            .change_options(HoldId(1), Some(None), Some(Some(date!(2021 - 03 - 03))))
            .unwrap();
        assert_eq!(changed.not_needed_after, Some(date!(2021 - 03 - 03)));
        // Not cut short: it is not "no longer needed" while waiting.
        assert!(!changed.is_no_longer_needed_on(date!(2021 - 03 - 04)));
        assert_eq!(
            q.change_options(HoldId(7), None, None),
            Err(HoldQueueError::NotActive(HoldId(7)))
        );
    }

    #[test]
    fn a_hold_not_needed_any_more_lapses_and_the_queue_moves_up() {
        let mut second = hold(2, 2);
        second.not_needed_after = Some(date!(2021 - 03 - 05));
        assert!(!second.is_no_longer_needed_on(date!(2021 - 03 - 05)));
        assert!(second.is_no_longer_needed_on(date!(2021 - 03 - 06)));
        let mut q = HoldQueue::new(TitleId(1), [hold(1, 1), second, hold(3, 3)]);
        q.lapse(HoldId(2), datetime!(2021-03-05 16:00 UTC)).unwrap();
        let positions: Vec<_> = q.queued().map(|h| (h.id.0, h.position())).collect();
        assert_eq!(positions, vec![(1, Some(1)), (3, Some(2))]);
        trap_next(
            &mut q,
            ItemId(9),
            date!(2021 - 03 - 06),
            date!(2021 - 03 - 13),
        );
        assert_eq!(
            q.lapse(HoldId(1), datetime!(2021-03-06 16:00 UTC)),
            Err(HoldQueueError::NotQueued(HoldId(1)))
        );
        let changes = q.into_changes();
        let lapsed = changes.iter().find(|h| h.id == HoldId(2)).unwrap();
        assert_eq!(lapsed.status(), HoldStatus::Expired);
    }

    #[test]
    fn a_cancellation_says_who_and_why() {
        let mut q = HoldQueue::new(TitleId(1), [hold(1, 1)]);
        let reason = CancelReason::parse("Title withdrawn").unwrap();
        q.cancel(
            HoldId(1),
            datetime!(2021-03-02 00:00 UTC),
            CancelledBy::Staff,
            Some(reason.clone()),
        )
        .unwrap();
        let changes = q.into_changes();
        assert_eq!(
            changes[0].cancellation(),
            Some((CancelledBy::Staff, Some(&reason)))
        );
    }
}
