//! Property tests of the invariants in the crate doc.

use library_core::{HoldId, ItemId, Money};
use proptest::prelude::*;
use time::{Date, Duration, Weekday};

use super::*;
use crate::calendar::Closure;
use crate::due_date::{loan_due_date, renewal_due_date};
use crate::hold_options::CancelledBy;
use crate::hold_queue::{HoldQueue, HoldState, NewHold};
use crate::rules::{RenewalBase, RuleScope, RuleSet, ScopedRules};

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn march(day: u8) -> Date {
    Date::from_calendar_date(2021, time::Month::March, day).unwrap()
}

fn day(offset: u32) -> Date {
    date!(2000 - 01 - 01) + Duration::days(i64::from(offset))
}

/// Calendars with at least one open weekday and closures of at most 60 days.
fn calendars() -> impl Strategy<Value = Calendar> {
    (
        proptest::collection::vec(0usize..7, 0..6),
        proptest::collection::vec((1u8..=12, 1u8..=28), 0..5),
        proptest::collection::vec((0u32..15_000, 0u32..60), 0..5),
        proptest::collection::vec(0u32..15_000, 0..5),
    )
        .prop_map(|(weekdays, yearly, ranges, exceptions)| {
            let mut cal = Calendar::default();
            for w in weekdays {
                cal = cal.with_closed_weekday(WEEKDAYS[w]);
            }
            for (m, d) in yearly {
                let month = time::Month::try_from(m).unwrap_or(time::Month::January);
                cal = cal
                    .with_yearly_closure(month, d)
                    .unwrap_or_else(|_| Calendar::default());
            }
            for (start, len) in ranges {
                cal = cal.with_closure(Closure::new(day(start), day(start + len)).unwrap());
            }
            for e in exceptions {
                cal = cal.with_exception(day(e));
            }
            cal
        })
}

#[derive(Debug, Clone)]
enum QueueOp {
    Place,
    Cancel(usize),
    /// Suspend a hold until a day of March 2021 (`None`: lift), then trap on day `.2`.
    Suspend(usize, Option<u8>),
    NotNeededAfter(usize, u8),
    Lapse(usize),
    Trap(u8),
    Expire(usize),
    Collect(usize),
}

fn queue_ops() -> impl Strategy<Value = Vec<QueueOp>> {
    proptest::collection::vec(
        prop_oneof![
            3 => Just(QueueOp::Place),
            2 => (0usize..20).prop_map(QueueOp::Cancel),
            2 => (1u8..=28).prop_map(QueueOp::Trap),
            2 => (0usize..20, proptest::option::of(1u8..=28)).prop_map(|(i, d)| QueueOp::Suspend(i, d)),
            1 => (0usize..20, 1u8..=28).prop_map(|(i, d)| QueueOp::NotNeededAfter(i, d)),
            1 => (0usize..20).prop_map(QueueOp::Lapse),
            1 => (0usize..20).prop_map(QueueOp::Expire),
            1 => (0usize..20).prop_map(QueueOp::Collect),
        ],
        0..60,
    )
}

proptest! {
    #[test]
    fn queue_positions_are_always_one_to_n(ops in queue_ops()) {
        let title = TitleId(1);
        let at = datetime!(2021-03-05 10:00 UTC);
        let mut stored: Vec<Hold> = Vec::new();
        let mut next = 0i64;
        for op in ops {
            let mut queue = HoldQueue::new(title, stored.clone());
            let ids: Vec<HoldId> = stored.iter().filter(|h| h.is_active()).map(|h| h.id).collect();
            let pick = |i: usize| ids.get(i % ids.len().max(1)).copied();
            match op {
                QueueOp::Place => {
                    next += 1;
                    let hold = NewHold {
                        patron: PatronId(next),
                        title,
                        pickup_library: code("HKCL"),
                        placed_at: at + Duration::minutes(next),
                        position: queue.next_position(),
                        not_needed_after: None,
                    }
                    .with_id(HoldId(next));
                    stored.push(hold);
                }
                QueueOp::Cancel(i) => {
                    if let Some(id) = pick(i) {
                        queue.cancel(id, at, CancelledBy::Reader, None).unwrap();
                    }
                }
                QueueOp::Suspend(i, until) => {
                    if let Some(id) = pick(i) {
                        let until = until.map(march);
                        let before = queue.get(id).and_then(Hold::position);
                        if let Ok(changed) = queue.change_options(id, Some(until), None) {
                            // A suspension keeps the position.
                            prop_assert_eq!(changed.position(), before);
                        }
                    }
                }
                QueueOp::NotNeededAfter(i, last) => {
                    if let Some(id) = pick(i) {
                        queue.change_options(id, None, Some(Some(march(last)))).unwrap();
                    }
                }
                QueueOp::Lapse(i) => {
                    if let Some(id) = pick(i) { let _ = queue.lapse(id, at); }
                }
                QueueOp::Trap(on) => {
                    let today = march(on);
                    let next_id = queue.next_in_line(|_| today).map(|h| h.id);
                    // Never a hold suspended that day; never one behind an active one.
                    let first_active = queue.queued().find(|h| !h.is_suspended_on(today)).map(|h| h.id);
                    prop_assert_eq!(next_id, first_active);
                    if let Some(id) = next_id {
                        let trapped = queue.trap(id, ItemId(next), today, today + Duration::days(7)).unwrap();
                        prop_assert_eq!(trapped.suspended_until, None);
                    }
                }
                QueueOp::Expire(i) => {
                    if let Some(id) = pick(i) { let _ = queue.expire(id, at); }
                }
                QueueOp::Collect(i) => {
                    if let Some(id) = pick(i) { let _ = queue.collect(id, at); }
                }
            }
            prop_assert!(queue.positions_are_contiguous());
            for changed in queue.into_changes() {
                if let Some(slot) = stored.iter_mut().find(|h| h.id == changed.id) {
                    *slot = changed;
                }
            }
            // What the store holds after writing the changes back is contiguous too.
            let mut positions: Vec<u32> = stored.iter().filter_map(Hold::position).collect();
            positions.sort_unstable();
            let n = u32::try_from(positions.len()).unwrap();
            prop_assert_eq!(positions, (1..=n).collect::<Vec<_>>());
            let no_zero = stored
                .iter()
                .all(|h| !matches!(h.state, HoldState::Queued { position: 0, .. }));
            prop_assert!(no_zero);
        }
    }

    #[test]
    fn a_due_date_is_never_on_a_closed_day(
        cal in calendars(),
        start in 0u32..15_000,
        minutes in 0i64..1440,
        loan_days in 0u32..60,
    ) {
        let midnight = day(start).midnight().assume_offset(cal.offset());
        let borrowed_at = midnight + Duration::minutes(minutes);
        let due = loan_due_date(borrowed_at, loan_days, &cal);
        prop_assert!(cal.is_open(due.on));
        prop_assert!(due.on >= day(start) + Duration::days(i64::from(loan_days)));
        prop_assert_eq!(due.at, cal.end_of_day(due.on));
    }

    #[test]
    fn a_renewal_never_shortens_a_loan(
        cal in calendars(),
        due in 0u32..15_000,
        renewed in 0u32..15_100,
        loan_days in 0u32..60,
        from_due in any::<bool>(),
    ) {
        let base = if from_due { RenewalBase::DueDate } else { RenewalBase::RenewalDate };
        let current = day(due);
        let at = day(renewed).midnight().assume_offset(cal.offset());
        let new = renewal_due_date(current, at, base, loan_days, &cal);
        prop_assert!(new.on >= current);
        prop_assert!(new.on == current || cal.is_open(new.on));
    }
}

#[derive(Debug, Clone)]
enum LoanOp {
    Checkout { patron: usize, item: usize },
    Checkin { item: usize },
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_reader_never_exceeds_the_quota(
        quota in 0u32..4,
        ops in proptest::collection::vec(
            prop_oneof![
                3 => (0usize..3, 0usize..8)
                    .prop_map(|(patron, item)| LoanOp::Checkout { patron, item }),
                1 => (0usize..8).prop_map(|item| LoanOp::Checkin { item }),
            ],
            0..40,
        ),
    ) {
        let w = World::new();
        let mut rules = vec![ScopedRules {
            scope: RuleScope::any(),
            rules: RuleSet { quota: Some(quota), ..RuleSet::default() },
        }];
        rules.extend(hkpl_profile());
        w.store.set_rules(rules);
        let cards = ["21000000000001", "21000000000002", "21000000000003"];
        let readers: Vec<PatronId> = cards.iter().map(|c| w.patron(c)).collect();
        let t = w.title("T");
        for n in 0..8 {
            w.item(&format!("B{n}"), t, "adult_book");
        }
        for op in ops {
            match op {
                LoanOp::Checkout { patron, item } => {
                    let _ = w.checkout(cards[patron], &format!("B{item}"));
                }
                LoanOp::Checkin { item } => {
                    let _ = w.checkin(&format!("B{item}"));
                }
            }
            let loans = w.store.loans();
            for r in &readers {
                let out = loans.iter().filter(|l| l.patron == *r && l.is_open()).count();
                prop_assert!(u32::try_from(out).unwrap() <= quota);
            }
            // And no item is ever on two open loans.
            let mut items: Vec<_> = loans.iter().filter(|l| l.is_open()).map(|l| l.item).collect();
            let n = items.len();
            items.sort_unstable();
            items.dedup();
            prop_assert_eq!(items.len(), n);
        }
        prop_assert!(w.store.ledger(readers[0]).outstanding() >= Money::ZERO);
    }
}
