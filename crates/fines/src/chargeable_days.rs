//! Chargeable days (docs/fines.md): the local calendar dates from the day after the due
//! date up to and including the return date (or today for a loan still out), minus the
//! dates inside a fine-suspension period that applies to the lending library and, when
//! the rule says closed days are not charged, minus the dates the lending library was
//! closed. Grace comes afterwards ([`crate::FinePolicy`]).
//!
//! The count walks the loan's date range once, jumping over suspended stretches (clipping
//! intervals, never iterating day by day), so a date is subtracted at most once however
//! the periods overlap, and a closed day inside a period is not subtracted again (the
//! calendar is only asked about unsuspended stretches). Nothing is allocated.

use time::Date;

use crate::{FineSuspensionPeriod, LendingLibrary};

/// A lending library's calendar of closed days (the circulation crate implements it).
pub trait ClosedDays {
    /// Whether the library is closed all day on `date`.
    fn is_closed(&self, date: Date) -> bool;

    /// How many dates in `first..=last` are closed (0 when `last < first`).
    ///
    /// The default asks [`is_closed`](Self::is_closed) day by day. A calendar that knows
    /// its own shape (weekly closures, a sorted list of dated closures) may count
    /// arithmetically instead; it must agree with `is_closed`.
    fn closed_days_between(&self, first: Date, last: Date) -> u32 {
        let mut closed = 0u32;
        let mut day = first;
        while day <= last {
            closed += u32::from(self.is_closed(day));
            match day.next_day() {
                Some(next) => day = next,
                None => break,
            }
        }
        closed
    }
}

impl<C: ClosedDays + ?Sized> ClosedDays for &C {
    fn is_closed(&self, date: Date) -> bool {
        (**self).is_closed(date)
    }

    fn closed_days_between(&self, first: Date, last: Date) -> u32 {
        (**self).closed_days_between(first, last)
    }
}

/// A calendar with no closed days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AlwaysOpen;

impl ClosedDays for AlwaysOpen {
    fn is_closed(&self, _date: Date) -> bool {
        false
    }

    fn closed_days_between(&self, _first: Date, _last: Date) -> u32 {
        0
    }
}

/// Local calendar days from the due date to `until`; 0 when `until <= due_on`
/// (docs/http.md, Circulation: `overdue_days`).
pub fn overdue_days(due_on: Date, until: Date) -> u32 {
    let days = i64::from(until.to_julian_day()) - i64::from(due_on.to_julian_day());
    u32::try_from(days.max(0)).unwrap_or(u32::MAX)
}

/// Chargeable days before grace: dates in `due_on+1 ..= until` not covered by an
/// applicable period in `periods` or `extra`, and (when `skip_closed`) not closed.
pub(crate) fn days_before_grace<C: ClosedDays + ?Sized>(
    due_on: Date,
    until: Date,
    library: &LendingLibrary,
    periods: &[FineSuspensionPeriod],
    extra: Option<&FineSuspensionPeriod>,
    skip_closed: bool,
    calendar: &C,
) -> u32 {
    if until <= due_on {
        return 0;
    }
    let Some(first) = due_on.next_day() else {
        return 0;
    };
    let last = until;
    let mut cursor = first;
    let mut days = 0u32;
    loop {
        // Among the applicable periods still relevant at `cursor`: the furthest resume date
        // of those covering it (`Some(None)` = open-ended), and the nearest later start.
        let mut covered_until: Option<Option<Date>> = None;
        let mut next_start: Option<Date> = None;
        for period in periods.iter().chain(extra) {
            if period.starts_on > last || period.resumes_on.is_some_and(|r| r <= cursor) {
                continue;
            }
            if period.starts_on <= cursor {
                if covered_until == Some(None) || !period.applies_to(library) {
                    continue;
                }
                covered_until = Some(match (covered_until, period.resumes_on) {
                    (Some(Some(a)), Some(b)) => Some(a.max(b)),
                    (_, resume) => resume,
                });
            } else if next_start.is_none_or(|n| period.starts_on < n) && period.applies_to(library)
            {
                next_start = Some(period.starts_on);
            }
        }
        match covered_until {
            Some(Some(resume)) if resume <= last => {
                cursor = resume;
                continue;
            }
            Some(_) => break,
            None => {}
        }
        // `cursor..=stretch_last` is charged, except its closed days.
        let stretch_last = match next_start {
            // `start > cursor`, so it has a previous day.
            Some(start) => start.previous_day().unwrap_or(start),
            None => last,
        };
        let mut stretch = overdue_days(cursor, stretch_last).saturating_add(1);
        if skip_closed {
            stretch = stretch.saturating_sub(calendar.closed_days_between(cursor, stretch_last));
        }
        days = days.saturating_add(stretch);
        match next_start {
            Some(start) => cursor = start,
            None => break,
        }
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SuspensionScope;
    use library_core::{LibraryCode, LibraryKind};
    use time::Weekday;
    use time::macros::date;

    struct Weekends;
    impl ClosedDays for Weekends {
        fn is_closed(&self, date: Date) -> bool {
            matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
        }
    }

    fn period(starts_on: Date, resumes_on: Option<Date>) -> FineSuspensionPeriod {
        FineSuspensionPeriod::new(starts_on, resumes_on, SuspensionScope::all_libraries(), "t")
            .unwrap()
    }

    fn district() -> LendingLibrary {
        LendingLibrary::new(LibraryCode::parse("TMPL").unwrap(), LibraryKind::District)
    }

    #[test]
    fn overdue_days_table() {
        let cases = [
            (date!(2020 - 12 - 04), date!(2020 - 12 - 04), 0),
            (date!(2020 - 12 - 04), date!(2020 - 12 - 01), 0),
            (date!(2020 - 12 - 04), date!(2020 - 12 - 05), 1),
            (date!(2024 - 02 - 27), date!(2024 - 03 - 01), 3),
            (date!(2023 - 02 - 27), date!(2023 - 03 - 01), 2),
            (date!(2000 - 01 - 01), date!(2000 - 01 - 30), 29),
        ];
        for (due, until, want) in cases {
            assert_eq!(overdue_days(due, until), want, "{due}..{until}");
        }
    }

    #[test]
    fn days_without_closed_days_or_periods() {
        let lib = district();
        let cases = [
            // (due, until, periods, want)
            (date!(2020 - 12 - 04), date!(2020 - 12 - 10), vec![], 6),
            // A period strictly inside the loan.
            (
                date!(2020 - 12 - 04),
                date!(2020 - 12 - 20),
                vec![period(date!(2020 - 12 - 08), Some(date!(2020 - 12 - 11)))],
                13,
            ),
            // Overlapping periods: 12-06..12-10 and 12-08..12-14 suspend 12-06..12-13.
            (
                date!(2020 - 12 - 04),
                date!(2020 - 12 - 20),
                vec![
                    period(date!(2020 - 12 - 08), Some(date!(2020 - 12 - 14))),
                    period(date!(2020 - 12 - 06), Some(date!(2020 - 12 - 10))),
                ],
                16 - 8,
            ),
            // One period inside another.
            (
                date!(2020 - 12 - 04),
                date!(2020 - 12 - 20),
                vec![
                    period(date!(2020 - 12 - 06), Some(date!(2020 - 12 - 16))),
                    period(date!(2020 - 12 - 08), Some(date!(2020 - 12 - 10))),
                ],
                16 - 10,
            ),
            // Adjacent periods.
            (
                date!(2020 - 12 - 04),
                date!(2020 - 12 - 20),
                vec![
                    period(date!(2020 - 12 - 10), Some(date!(2020 - 12 - 12))),
                    period(date!(2020 - 12 - 06), Some(date!(2020 - 12 - 10))),
                ],
                16 - 6,
            ),
            // A period ending on the return date: the return date is charged.
            (
                date!(2020 - 12 - 04),
                date!(2020 - 12 - 20),
                vec![period(date!(2020 - 12 - 10), Some(date!(2020 - 12 - 20)))],
                6,
            ),
            // A period whose last suspended date is the return date.
            (
                date!(2020 - 12 - 04),
                date!(2020 - 12 - 20),
                vec![period(date!(2020 - 12 - 10), Some(date!(2020 - 12 - 21)))],
                5,
            ),
            // A period starting on the return date.
            (
                date!(2020 - 12 - 04),
                date!(2020 - 12 - 20),
                vec![period(date!(2020 - 12 - 20), None)],
                15,
            ),
            // A period before the due date, one after the return.
            (
                date!(2020 - 12 - 04),
                date!(2020 - 12 - 20),
                vec![
                    period(date!(2020 - 11 - 01), Some(date!(2020 - 12 - 05))),
                    period(date!(2020 - 12 - 21), None),
                ],
                16,
            ),
            // Open-ended period from before the due date.
            (
                date!(2020 - 12 - 04),
                date!(2021 - 12 - 20),
                vec![period(date!(2020 - 12 - 02), None)],
                0,
            ),
        ];
        for (due, until, periods, want) in cases {
            let got = days_before_grace(due, until, &lib, &periods, None, false, &AlwaysOpen);
            assert_eq!(got, want, "{due}..{until} {periods:?}");
        }
    }

    #[test]
    fn closed_days_are_not_subtracted_twice() {
        let lib = district();
        // K18: 2012-07-23 (Mon) to 2012-09-17 (Mon): 56 days, 16 of them weekend days.
        let k18 = days_before_grace(
            date!(2012 - 07 - 23),
            date!(2012 - 09 - 17),
            &lib,
            &[],
            None,
            true,
            &Weekends,
        );
        assert_eq!(k18, 40);
        // Due Fri 2021-03-05, back Fri 03-19: 14 days, 4 weekend days; a period over
        // Sat 03-06..Wed 03-10 suspends 5 days of which 2 are weekend days.
        let p = [period(date!(2021 - 03 - 06), Some(date!(2021 - 03 - 11)))];
        let got = days_before_grace(
            date!(2021 - 03 - 05),
            date!(2021 - 03 - 19),
            &lib,
            &p,
            None,
            true,
            &Weekends,
        );
        assert_eq!(got, 14 - 5 - 2);
    }
}
