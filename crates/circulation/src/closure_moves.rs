//! Closures that move deadlines: when a library is closed for a run of dates declared after
//! loans were made and copies were trapped, the due dates and pickup-by dates that fall
//! inside the closure may be moved to after it (docs/circulation.md, "Closures that move
//! deadlines"). During the 2020–21 closures the Hong Kong Public Libraries gave items due
//! while libraries were closed new due dates after reopening and kept reserved items
//! longer; Koha, FOLIO and Evergreen only move a due date computed *after* a closure is
//! entered, never the ones already given.
//!
//! - Which deadlines: an open loan's due date, when the loan's lending library (where it
//!   was checked out, whose calendar computed the due date and decides its fines) is the
//!   closed library; a waiting hold's pickup-by date, when the hold's pickup library is the
//!   closed library. Only deadlines from the closure's first to its last day (both
//!   included) move: one before it was already due or gone before the library closed, one
//!   after it is not affected.
//! - Where to: [`DeadlineMove::FirstOpenDay`], the first day after the closure the
//!   library's calendar (with the closure in it) has open, skipping weekly closed days and
//!   later closures; or [`DeadlineMove::ToDate`], a date the administrator names, which
//!   must be after the closure's last day, an open day of the library, and at most
//!   [`MAX_MOVE_DAYS`] after the closure. Every moved deadline of a kind goes to the same
//!   date, and a deadline never becomes earlier ([`moved_deadline`]).
//! - Nothing else changes: renewal counts stay, a moved loan is renewed and fined by the
//!   usual rules from its new due date.

use std::collections::BTreeSet;

use library_core::{HoldId, LoanId, PatronId};
use time::{Date, Duration};

use crate::calendar::{Calendar, Closure, MAX_SEARCH_DAYS};

/// The latest a given date may be: this many days after the closure's last day (two years,
/// the calendar's own search bound).
pub const MAX_MOVE_DAYS: u32 = MAX_SEARCH_DAYS;

/// What happens to one kind of deadline (due dates, or pickup-by dates) inside a closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DeadlineMove {
    /// Deadlines stay as they are (a closure declared as before).
    #[default]
    Keep,
    /// To the first open day after the closure.
    FirstOpenDay,
    /// To this date: after the closure, an open day of the library.
    ToDate(Date),
}

/// The choice for both kinds of deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ClosureMoves {
    /// Due dates of open loans lent by the library.
    pub due_dates: DeadlineMove,
    /// Pickup-by dates of holds waiting at the library.
    pub pickup_dates: DeadlineMove,
}

/// Why a deadline move is refused, in the order they are checked. Each has a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
pub enum MoveRefusal {
    /// The date given is before the closure's first day.
    #[error("the date is before the closure")]
    DateBeforeClosure,
    /// The date given is inside the closure.
    #[error("the date is inside the closure")]
    DateInClosure,
    /// The date given is more than [`MAX_MOVE_DAYS`] after the closure's last day.
    #[error("the date is too long after the closure")]
    DateTooLate,
    /// The library is closed on the date given.
    #[error("the library is closed on that date")]
    DateClosed,
    /// The library has no open day within [`MAX_MOVE_DAYS`] after the closure.
    #[error("the library has no open day after the closure")]
    NoOpenDay,
}

impl MoveRefusal {
    /// The stable code (a 422 violation).
    pub const fn code(self) -> &'static str {
        match self {
            MoveRefusal::DateBeforeClosure => "move_date_before_closure",
            MoveRefusal::DateInClosure => "move_date_in_closure",
            MoveRefusal::DateTooLate => "move_date_too_late",
            MoveRefusal::DateClosed => "move_date_closed",
            MoveRefusal::NoOpenDay => "no_open_day_after_closure",
        }
    }
}

/// The date deadlines inside `closure` move to under `choice`, or `None` for
/// [`DeadlineMove::Keep`]. `calendar` is the library's; the closure is added to it here if
/// it is not in it yet.
pub fn move_target(
    closure: Closure,
    calendar: &Calendar,
    choice: DeadlineMove,
) -> Result<Option<Date>, MoveRefusal> {
    let calendar = calendar.clone().with_closure(closure);
    let day_after = closure.to().next_day().ok_or(MoveRefusal::NoOpenDay)?;
    let latest = closure
        .to()
        .checked_add(Duration::days(i64::from(MAX_MOVE_DAYS)))
        .unwrap_or(Date::MAX);
    match choice {
        DeadlineMove::Keep => Ok(None),
        DeadlineMove::FirstOpenDay => calendar
            .next_open_day(day_after)
            .filter(|d| *d <= latest)
            .map(Some)
            .ok_or(MoveRefusal::NoOpenDay),
        DeadlineMove::ToDate(date) => {
            if date < closure.from() {
                Err(MoveRefusal::DateBeforeClosure)
            } else if closure.contains(date) {
                Err(MoveRefusal::DateInClosure)
            } else if date > latest {
                Err(MoveRefusal::DateTooLate)
            } else if !calendar.is_open(date) {
                Err(MoveRefusal::DateClosed)
            } else {
                Ok(Some(date))
            }
        }
    }
}

/// Where the deadlines of each kind move to; `None` where they stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MoveTargets {
    /// The new due date of loans due inside the closure.
    pub due_on: Option<Date>,
    /// The new pickup-by date of holds waiting with a pickup-by date inside the closure.
    pub pickup_by: Option<Date>,
}

impl MoveTargets {
    /// `true` if no deadline moves.
    pub fn is_empty(&self) -> bool {
        self.due_on.is_none() && self.pickup_by.is_none()
    }
}

/// The targets of both choices; every refusal of either, each code once, in order.
pub fn move_targets(
    closure: Closure,
    calendar: &Calendar,
    moves: ClosureMoves,
) -> Result<MoveTargets, Vec<MoveRefusal>> {
    let due = move_target(closure, calendar, moves.due_dates);
    let pickup = move_target(closure, calendar, moves.pickup_dates);
    match (due, pickup) {
        (Ok(due_on), Ok(pickup_by)) => Ok(MoveTargets { due_on, pickup_by }),
        (due, pickup) => {
            let refusals: BTreeSet<MoveRefusal> =
                [due.err(), pickup.err()].into_iter().flatten().collect();
            Err(refusals.into_iter().collect())
        }
    }
}

/// The new deadline of a deadline `current` when deadlines inside `closure` move to
/// `target`: `None` if `current` is outside the closure (it stays); never earlier than
/// `current`.
pub fn moved_deadline(current: Date, closure: Closure, target: Date) -> Option<Date> {
    closure.contains(current).then(|| target.max(current))
}

/// One deadline moved: of a loan (its due date) or of a hold (its pickup-by date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeadlineChange<Id> {
    /// The loan or hold.
    pub id: Id,
    /// Its reader.
    pub patron: PatronId,
    /// The deadline before.
    pub from: Date,
    /// The deadline after.
    pub to: Date,
}

/// What a closure does to the deadlines of one library's loans and holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClosureImpact {
    /// Loans whose due date moves, in the order given.
    pub loans: Vec<DeadlineChange<LoanId>>,
    /// Holds whose pickup-by date moves, in the order given.
    pub holds: Vec<DeadlineChange<HoldId>>,
}

impl ClosureImpact {
    /// The moves of `loans` (id, reader, due date) and `holds` (id, reader, pickup-by date),
    /// the candidates of the closed library: open loans it lent, holds waiting on its shelf.
    pub fn of(
        closure: Closure,
        targets: MoveTargets,
        loans: impl IntoIterator<Item = (LoanId, PatronId, Date)>,
        holds: impl IntoIterator<Item = (HoldId, PatronId, Date)>,
    ) -> Self {
        fn changes<Id>(
            closure: Closure,
            target: Option<Date>,
            rows: impl IntoIterator<Item = (Id, PatronId, Date)>,
        ) -> Vec<DeadlineChange<Id>> {
            let Some(target) = target else {
                return Vec::new();
            };
            rows.into_iter()
                .filter_map(|(id, patron, from)| {
                    moved_deadline(from, closure, target).map(|to| DeadlineChange {
                        id,
                        patron,
                        from,
                        to,
                    })
                })
                .collect()
        }
        Self {
            loans: changes(closure, targets.due_on, loans),
            holds: changes(closure, targets.pickup_by, holds),
        }
    }

    /// The distinct readers with a moved deadline, in id order.
    pub fn readers(&self) -> BTreeSet<PatronId> {
        self.loans
            .iter()
            .map(|c| c.patron)
            .chain(self.holds.iter().map(|c| c.patron))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::Weekday;
    use time::macros::date;

    fn closure(from: Date, to: Date) -> Closure {
        Closure::new(from, to).unwrap()
    }

    /// The closure of early 2021, at a library closed on Mondays.
    fn closed_2021() -> (Closure, Calendar) {
        (
            closure(date!(2021 - 01 - 01), date!(2021 - 02 - 18)),
            Calendar::default().with_closed_weekday(Weekday::Monday),
        )
    }

    #[test]
    fn the_first_open_day_skips_closed_weekdays_and_later_closures() {
        let (c, monday_closed) = closed_2021();
        let cases = [
            // Thursday 18 February is the last closed day; Friday 19 is open.
            (monday_closed.clone(), date!(2021 - 02 - 19)),
            // 19 February is a dated closure too (the Lunar New Year extended): Saturday.
            (
                monday_closed
                    .clone()
                    .with_closure(closure(date!(2021 - 02 - 19), date!(2021 - 02 - 19))),
                date!(2021 - 02 - 20),
            ),
            // Friday to Sunday closed too: Monday is closed every week, so Tuesday.
            (
                monday_closed
                    .clone()
                    .with_closure(closure(date!(2021 - 02 - 19), date!(2021 - 02 - 21))),
                date!(2021 - 02 - 23),
            ),
            // A re-opened date inside a weekly closed day counts as open.
            (
                monday_closed
                    .with_closure(closure(date!(2021 - 02 - 19), date!(2021 - 02 - 21)))
                    .with_exception(date!(2021 - 02 - 22)),
                date!(2021 - 02 - 22),
            ),
        ];
        for (calendar, expected) in cases {
            assert_eq!(
                move_target(c, &calendar, DeadlineMove::FirstOpenDay),
                Ok(Some(expected))
            );
        }
    }

    #[test]
    fn a_closure_ending_on_28_february_2024_reopens_on_the_leap_day() {
        let c = closure(date!(2024 - 02 - 01), date!(2024 - 02 - 28));
        assert_eq!(
            move_target(c, &Calendar::default(), DeadlineMove::FirstOpenDay),
            Ok(Some(date!(2024 - 02 - 29)))
        );
        // In 2021 the day after 28 February is 1 March (a Monday: Tuesday at this library).
        let c = closure(date!(2021 - 02 - 01), date!(2021 - 02 - 28));
        let monday_closed = Calendar::default().with_closed_weekday(Weekday::Monday);
        assert_eq!(
            move_target(c, &monday_closed, DeadlineMove::FirstOpenDay),
            Ok(Some(date!(2021 - 03 - 02)))
        );
    }

    #[test]
    fn a_given_date_must_be_after_the_closure_open_and_not_too_late() {
        let (c, calendar) = closed_2021();
        let cases = [
            (date!(2020 - 12 - 31), Err(MoveRefusal::DateBeforeClosure)),
            (date!(2021 - 01 - 01), Err(MoveRefusal::DateInClosure)),
            (date!(2021 - 02 - 10), Err(MoveRefusal::DateInClosure)),
            (date!(2021 - 02 - 18), Err(MoveRefusal::DateInClosure)),
            (date!(2021 - 02 - 19), Ok(Some(date!(2021 - 02 - 19)))),
            // Monday 22 February: closed every week.
            (date!(2021 - 02 - 22), Err(MoveRefusal::DateClosed)),
            (date!(2021 - 03 - 05), Ok(Some(date!(2021 - 03 - 05)))),
            // Two years (732 days) after 18 February 2021 is 20 February 2023 (a Monday);
            // the Tuesday after it is one day too late.
            (date!(2023 - 02 - 17), Ok(Some(date!(2023 - 02 - 17)))),
            (date!(2023 - 02 - 21), Err(MoveRefusal::DateTooLate)),
        ];
        for (given, expected) in cases {
            assert_eq!(
                move_target(c, &calendar, DeadlineMove::ToDate(given)),
                expected,
                "{given}"
            );
        }
        assert_eq!(move_target(c, &calendar, DeadlineMove::Keep), Ok(None));
    }

    #[test]
    fn a_library_closed_for_good_after_the_closure_has_no_first_open_day() {
        let c = closure(date!(2021 - 01 - 01), date!(2021 - 02 - 18));
        let shut =
            Calendar::default().with_closure(closure(date!(2021 - 02 - 19), date!(2030 - 12 - 31)));
        assert_eq!(
            move_target(c, &shut, DeadlineMove::FirstOpenDay),
            Err(MoveRefusal::NoOpenDay)
        );
    }

    #[test]
    fn both_choices_are_checked_and_each_refusal_is_named_once() {
        let (c, calendar) = closed_2021();
        let moves = |due_dates, pickup_dates| ClosureMoves {
            due_dates,
            pickup_dates,
        };
        assert_eq!(
            move_targets(c, &calendar, ClosureMoves::default()),
            Ok(MoveTargets::default())
        );
        assert_eq!(
            move_targets(
                c,
                &calendar,
                moves(
                    DeadlineMove::FirstOpenDay,
                    DeadlineMove::ToDate(date!(2021 - 03 - 02))
                )
            ),
            Ok(MoveTargets {
                due_on: Some(date!(2021 - 02 - 19)),
                pickup_by: Some(date!(2021 - 03 - 02)),
            })
        );
        assert_eq!(
            move_targets(
                c,
                &calendar,
                moves(
                    DeadlineMove::ToDate(date!(2021 - 02 - 22)),
                    DeadlineMove::ToDate(date!(2021 - 02 - 01))
                )
            ),
            Err(vec![MoveRefusal::DateInClosure, MoveRefusal::DateClosed])
        );
        assert_eq!(
            move_targets(
                c,
                &calendar,
                moves(
                    DeadlineMove::ToDate(date!(2021 - 02 - 01)),
                    DeadlineMove::ToDate(date!(2021 - 02 - 02))
                )
            ),
            Err(vec![MoveRefusal::DateInClosure])
        );
        assert_eq!(MoveRefusal::DateInClosure.code(), "move_date_in_closure");
        assert_eq!(MoveRefusal::DateClosed.code(), "move_date_closed");
    }

    #[test]
    fn deadlines_inside_the_closure_move_and_the_others_stay() {
        let (c, _) = closed_2021();
        let to = date!(2021 - 02 - 19);
        let cases = [
            // Due while the library was closed.
            (date!(2021 - 02 - 01), Some(to)),
            (date!(2021 - 01 - 01), Some(to)),
            (date!(2021 - 02 - 18), Some(to)),
            // Due on the day it reopens, or later: untouched.
            (date!(2021 - 02 - 19), None),
            (date!(2021 - 03 - 01), None),
            // Already overdue before the closure: untouched.
            (date!(2020 - 12 - 31), None),
        ];
        for (due, expected) in cases {
            assert_eq!(moved_deadline(due, c, to), expected, "{due}");
        }
    }

    #[test]
    fn the_impact_lists_the_moves_and_counts_each_reader_once() {
        let (c, _) = closed_2021();
        let targets = MoveTargets {
            due_on: Some(date!(2021 - 02 - 19)),
            pickup_by: Some(date!(2021 - 02 - 23)),
        };
        let (ann, bo) = (PatronId(1), PatronId(2));
        let loans = [
            (LoanId(10), ann, date!(2021 - 02 - 01)),
            (LoanId(11), ann, date!(2021 - 02 - 18)),
            (LoanId(12), bo, date!(2021 - 02 - 19)),
            (LoanId(13), bo, date!(2020 - 12 - 31)),
        ];
        let holds = [
            (HoldId(20), bo, date!(2021 - 02 - 10)),
            (HoldId(21), ann, date!(2021 - 03 - 01)),
        ];
        let impact = ClosureImpact::of(c, targets, loans, holds);
        assert_eq!(
            impact.loans,
            vec![
                DeadlineChange {
                    id: LoanId(10),
                    patron: ann,
                    from: date!(2021 - 02 - 01),
                    to: date!(2021 - 02 - 19),
                },
                DeadlineChange {
                    id: LoanId(11),
                    patron: ann,
                    from: date!(2021 - 02 - 18),
                    to: date!(2021 - 02 - 19),
                },
            ]
        );
        assert_eq!(
            impact.holds,
            vec![DeadlineChange {
                id: HoldId(20),
                patron: bo,
                from: date!(2021 - 02 - 10),
                to: date!(2021 - 02 - 23),
            }]
        );
        assert_eq!(impact.readers().len(), 2);

        // Only the due dates move: the hold stays, and only its reader's loans count.
        let only_loans = ClosureImpact::of(
            c,
            MoveTargets {
                pickup_by: None,
                ..targets
            },
            loans,
            holds,
        );
        assert!(only_loans.holds.is_empty());
        assert_eq!(only_loans.readers().into_iter().collect::<Vec<_>>(), [ann]);
        assert_eq!(
            ClosureImpact::of(c, MoveTargets::default(), loans, holds),
            ClosureImpact::default()
        );
    }

    fn any_date() -> impl Strategy<Value = Date> {
        // 2019 to 2026.
        (0i64..8 * 366).prop_map(|n| date!(2019 - 01 - 01) + Duration::days(n))
    }

    proptest! {
        /// Whatever the closure, the calendar and the date given: a deadline never becomes
        /// earlier, only one inside the closure moves, and it moves to an open day after the
        /// closure.
        #[test]
        fn a_deadline_never_shortens_and_lands_on_an_open_day_after_the_closure(
            from in any_date(),
            length in 0i64..120,
            closed_weekday in proptest::option::of(0u8..7),
            given in proptest::option::of(any_date()),
            deadline in any_date(),
        ) {
            let c = closure(from, from + Duration::days(length));
            let mut calendar = Calendar::default();
            if let Some(n) = closed_weekday {
                calendar = calendar.with_closed_weekday(Weekday::Monday.nth_next(n));
            }
            let choice = given.map_or(DeadlineMove::FirstOpenDay, DeadlineMove::ToDate);
            if let Ok(Some(target)) = move_target(c, &calendar, choice) {
                prop_assert!(target > c.to());
                prop_assert!(calendar.clone().with_closure(c).is_open(target));
                match moved_deadline(deadline, c, target) {
                    Some(new) => {
                        prop_assert!(c.contains(deadline));
                        prop_assert!(new >= deadline);
                        prop_assert_eq!(new, target);
                    }
                    None => prop_assert!(!c.contains(deadline)),
                }
            }
        }
    }
}
