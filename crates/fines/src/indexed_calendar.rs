//! A calendar answered from a precomputed table, for bulk work (nightly accrual, the
//! impact preview, the benchmark): counting the closed days of any stretch inside the
//! table is two array reads instead of one [`ClosedDays::is_closed`] call per day.
//!
//! The table is built once per library (one `u32` per day of the window, ~3 KiB for two
//! years); [`crate::assess_fine`] itself still allocates nothing. Dates outside the window
//! are passed to the wrapped calendar, so answers never change, only their speed.

use time::Date;

use crate::ClosedDays;

/// A [`ClosedDays`] calendar with a prefix-count table over `first..=last`.
#[derive(Debug, Clone)]
pub struct IndexedCalendar<C> {
    inner: C,
    first: Date,
    last: Date,
    first_julian: i32,
    /// `prefix[i]` = closed days in `first .. first + i` (exclusive end).
    prefix: Vec<u32>,
}

impl<C: ClosedDays> IndexedCalendar<C> {
    /// Indexes `inner` over `first..=last` (empty when `last < first`).
    pub fn new(inner: C, first: Date, last: Date) -> Self {
        let mut prefix = vec![0u32];
        let mut closed = 0u32;
        let mut day = first;
        while day <= last {
            closed += u32::from(inner.is_closed(day));
            prefix.push(closed);
            match day.next_day() {
                Some(next) => day = next,
                None => break,
            }
        }
        Self {
            inner,
            first,
            last,
            first_julian: first.to_julian_day(),
            prefix,
        }
    }

    /// The wrapped calendar.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// Position of `date` in the table; only for `first <= date <= last + 1 day`.
    fn index(&self, date: Date) -> usize {
        usize::try_from(date.to_julian_day() - self.first_julian).unwrap_or(0)
    }

    fn indexed(&self) -> bool {
        self.prefix.len() > 1
    }
}

impl<C: ClosedDays> ClosedDays for IndexedCalendar<C> {
    fn is_closed(&self, date: Date) -> bool {
        if self.indexed() && self.first <= date && date <= self.last {
            let i = self.index(date);
            self.prefix[i + 1] != self.prefix[i]
        } else {
            self.inner.is_closed(date)
        }
    }

    fn closed_days_between(&self, first: Date, last: Date) -> u32 {
        if last < first {
            return 0;
        }
        if !self.indexed() || last < self.first || first > self.last {
            return self.inner.closed_days_between(first, last);
        }
        let mut closed = 0u32;
        let from = if first < self.first {
            // `self.first > first`, so it has a previous day.
            let before = self.first.previous_day().unwrap_or(self.first);
            closed += self.inner.closed_days_between(first, before);
            self.first
        } else {
            first
        };
        let to = if last > self.last {
            let after = self.last.next_day().unwrap_or(self.last);
            closed += self.inner.closed_days_between(after, last);
            self.last
        } else {
            last
        };
        closed + self.prefix[self.index(to) + 1] - self.prefix[self.index(from)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Weekday;
    use time::macros::date;

    struct MondaysAndNewYear;
    impl ClosedDays for MondaysAndNewYear {
        fn is_closed(&self, date: Date) -> bool {
            date.weekday() == Weekday::Monday || (date.month() as u8 == 1 && date.day() == 1)
        }
    }

    #[test]
    fn agrees_with_the_wrapped_calendar_inside_and_outside_the_window() {
        let indexed = IndexedCalendar::new(
            MondaysAndNewYear,
            date!(2021 - 01 - 01),
            date!(2021 - 03 - 31),
        );
        let probes = [
            (date!(2020 - 12 - 01), date!(2020 - 12 - 31)),
            (date!(2020 - 12 - 20), date!(2021 - 01 - 10)),
            (date!(2021 - 01 - 01), date!(2021 - 01 - 01)),
            (date!(2021 - 01 - 02), date!(2021 - 03 - 31)),
            (date!(2021 - 03 - 15), date!(2021 - 04 - 20)),
            (date!(2020 - 12 - 01), date!(2022 - 01 - 05)),
            (date!(2021 - 05 - 01), date!(2021 - 05 - 31)),
            (date!(2021 - 02 - 10), date!(2021 - 02 - 09)),
        ];
        for (first, last) in probes {
            assert_eq!(
                indexed.closed_days_between(first, last),
                MondaysAndNewYear.closed_days_between(first, last),
                "{first}..={last}"
            );
        }
        let mut day = date!(2020 - 12 - 25);
        while day < date!(2021 - 04 - 10) {
            assert_eq!(
                indexed.is_closed(day),
                MondaysAndNewYear.is_closed(day),
                "{day}"
            );
            day = day.next_day().unwrap();
        }
        let empty = IndexedCalendar::new(
            MondaysAndNewYear,
            date!(2021 - 02 - 01),
            date!(2021 - 01 - 01),
        );
        assert_eq!(
            empty.closed_days_between(date!(2021 - 01 - 01), date!(2021 - 01 - 31)),
            5
        );
    }
}
