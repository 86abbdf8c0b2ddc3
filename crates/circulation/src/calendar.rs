//! A library's calendar: which local dates it is closed all day, and its UTC offset.
//!
//! Closed days come in four kinds, as in Koha (`Koha/Calendar.pm`, tables
//! `repeatable_holidays` and `special_holidays`) and docs/circulation.md: weekly weekdays,
//! yearly month/day dates, dated closure ranges (inclusive, may span a year end), and
//! exceptions that re-open one specific date whatever else says. A calendar with no entries
//! is open every day (docs/http.md, `POST /libraries/{code}/closures`).
//!
//! Every search for an open day is bounded by [`MAX_SEARCH_DAYS`] (Koha's `NoOpenDays`
//! guard): a library closed for longer than that gives `None`, never an endless loop.

use std::collections::BTreeSet;

use library_core::DEFAULT_LIBRARY_OFFSET;
use library_fines::ClosedDays;
use time::{Date, Duration, Month, OffsetDateTime, Time, UtcOffset, Weekday};

/// The longest run of closed days searched through before giving up (two years).
pub const MAX_SEARCH_DAYS: u32 = 366 * 2;

/// Why a calendar entry is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A yearly closure on a day the month never has (e.g. 31 April).
    #[error("{month} has no day {day}")]
    NoSuchDay {
        /// The month given.
        month: Month,
        /// The day given.
        day: u8,
    },
    /// A closure range that ends before it starts.
    #[error("a closure from {from} to {to} ends before it starts")]
    EmptyRange {
        /// First closed date given.
        from: Date,
        /// Last closed date given.
        to: Date,
    },
}

/// One rule of a library's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarRule {
    /// Closed every such weekday.
    ClosedWeekday(Weekday),
    /// Closed every year on this day.
    Yearly {
        /// The month.
        month: Month,
        /// The day of the month.
        day: u8,
    },
    /// Closed on every date of the range.
    Closure(Closure),
    /// Open on this date whatever the other rules say.
    Reopen(Date),
}

/// A dated closure: every date from `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Closure {
    from: Date,
    to: Date,
}

impl Closure {
    /// The closure from `from` to `to` inclusive; refused if `to` is before `from`.
    pub fn new(from: Date, to: Date) -> Result<Self, CalendarError> {
        if to < from {
            return Err(CalendarError::EmptyRange { from, to });
        }
        Ok(Self { from, to })
    }

    /// First closed date.
    pub fn from(&self) -> Date {
        self.from
    }

    /// Last closed date.
    pub fn to(&self) -> Date {
        self.to
    }

    /// `true` if `date` is inside the closure.
    pub fn contains(&self, date: Date) -> bool {
        self.from <= date && date <= self.to
    }
}

/// One library's calendar of closed days and its UTC offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    offset: UtcOffset,
    closed_weekdays: [bool; 7],
    yearly: BTreeSet<(Month, u8)>,
    closures: Vec<Closure>,
    reopened: BTreeSet<Date>,
}

impl Default for Calendar {
    fn default() -> Self {
        Self::always_open(DEFAULT_LIBRARY_OFFSET)
    }
}

impl Calendar {
    /// A calendar with no closed days at the given offset.
    pub fn always_open(offset: UtcOffset) -> Self {
        Self {
            offset,
            closed_weekdays: [false; 7],
            yearly: BTreeSet::new(),
            closures: Vec::new(),
            reopened: BTreeSet::new(),
        }
    }

    /// Closed every `weekday`.
    pub fn with_closed_weekday(mut self, weekday: Weekday) -> Self {
        self.closed_weekdays[usize::from(weekday.number_days_from_monday())] = true;
        self
    }

    /// Closed every year on `day` of `month`. 29 February is allowed (it only closes in
    /// leap years).
    pub fn with_yearly_closure(mut self, month: Month, day: u8) -> Result<Self, CalendarError> {
        // 2024 is a leap year, so this accepts exactly the days some year has.
        if Date::from_calendar_date(2024, month, day).is_err() {
            return Err(CalendarError::NoSuchDay { month, day });
        }
        self.yearly.insert((month, day));
        Ok(self)
    }

    /// Closed on every date of `closure`.
    pub fn with_closure(mut self, closure: Closure) -> Self {
        self.closures.push(closure);
        self
    }

    /// The calendar with `rule` added.
    ///
    /// # Errors
    /// [`CalendarError::NoSuchDay`] for a yearly day no month has.
    pub fn with_rule(self, rule: CalendarRule) -> Result<Self, CalendarError> {
        Ok(match rule {
            CalendarRule::ClosedWeekday(w) => self.with_closed_weekday(w),
            CalendarRule::Yearly { month, day } => self.with_yearly_closure(month, day)?,
            CalendarRule::Closure(c) => self.with_closure(c),
            CalendarRule::Reopen(d) => self.with_exception(d),
        })
    }

    /// Open on `date` whatever the weekly, yearly and dated closures say (Koha's
    /// `isexception`).
    pub fn with_exception(mut self, date: Date) -> Self {
        self.reopened.insert(date);
        self
    }

    /// The library's UTC offset (default +08:00, Hong Kong).
    pub fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// The library-local date of an instant.
    pub fn local_date(&self, at: OffsetDateTime) -> Date {
        at.to_offset(self.offset).date()
    }

    /// The instant 23:59:59 local time on `date` (when a day loan falls due; docs/http.md,
    /// `due_at`).
    pub fn end_of_day(&self, date: Date) -> OffsetDateTime {
        date.with_time(Time::from_hms(23, 59, 59).unwrap_or(Time::MIDNIGHT))
            .assume_offset(self.offset)
    }

    /// `true` unless the library is closed all day on `date`.
    pub fn is_open(&self, date: Date) -> bool {
        if self.reopened.contains(&date) {
            return true;
        }
        let weekly = self.closed_weekdays[usize::from(date.weekday().number_days_from_monday())];
        let yearly = self.yearly.contains(&(date.month(), date.day()));
        let dated = self.closures.iter().any(|c| c.contains(date));
        !(weekly || yearly || dated)
    }

    /// The first open date on or after `date`, or `None` if the library is closed for
    /// [`MAX_SEARCH_DAYS`] days in a row from there.
    pub fn next_open_day(&self, date: Date) -> Option<Date> {
        let mut day = date;
        for _ in 0..=MAX_SEARCH_DAYS {
            if self.is_open(day) {
                return Some(day);
            }
            day = day.next_day()?;
        }
        None
    }

    /// The last open date on or before `date`, bounded like [`Calendar::next_open_day`].
    pub fn previous_open_day(&self, date: Date) -> Option<Date> {
        let mut day = date;
        for _ in 0..=MAX_SEARCH_DAYS {
            if self.is_open(day) {
                return Some(day);
            }
            day = day.previous_day()?;
        }
        None
    }

    /// The number of open dates after the earlier of `a` and `b` up to and including the
    /// later one; the order does not matter (Koha `days_between`, vector K18 of
    /// docs/circulation.md).
    pub fn open_days_between(&self, a: Date, b: Date) -> u32 {
        let (from, to) = if a <= b { (a, b) } else { (b, a) };
        let mut count = 0u32;
        let mut day = from;
        while day < to {
            match day.next_day() {
                Some(next) => day = next,
                None => break,
            }
            if self.is_open(day) {
                count += 1;
            }
        }
        count
    }

    /// The `n`-th open date strictly after `date` (`n = 0` gives `date` itself), or `None`
    /// if a run of [`MAX_SEARCH_DAYS`] closed days is met first. This is Koha's "Calendar"
    /// days mode and how a hold's pickup period is counted (docs/http.md, Circulation).
    pub fn nth_open_day_after(&self, date: Date, n: u32) -> Option<Date> {
        let mut day = date;
        let mut found = 0u32;
        let mut closed_run = 0u32;
        while found < n {
            day = day.next_day()?;
            if self.is_open(day) {
                found += 1;
                closed_run = 0;
            } else {
                closed_run += 1;
                if closed_run > MAX_SEARCH_DAYS {
                    return None;
                }
            }
        }
        Some(day)
    }

    /// `date + days`, then pushed forwards to the next open day (Koha's "Datedue" mode,
    /// Libraries Regulation s19). Negative `days` push backwards instead. `None` if no open
    /// day is found within the bound.
    pub fn add_days_then_open(&self, date: Date, days: i64) -> Option<Date> {
        let target = date.checked_add(Duration::days(days))?;
        if days < 0 {
            self.previous_open_day(target)
        } else {
            self.next_open_day(target)
        }
    }
}

/// The fines crate asks calendars through this port (library-fines `ClosedDays`).
impl ClosedDays for Calendar {
    fn is_closed(&self, date: Date) -> bool {
        !self.is_open(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, offset};

    /// The calendar of Koha's `t/db_dependent/Calendar.t`: closed Saturdays and Sundays,
    /// 1 January, 25 December, and 2012-07-04.
    fn koha_calendar() -> Calendar {
        Calendar::always_open(offset!(+8))
            .with_closed_weekday(Weekday::Saturday)
            .with_closed_weekday(Weekday::Sunday)
            .with_yearly_closure(Month::January, 1)
            .unwrap()
            .with_yearly_closure(Month::December, 25)
            .unwrap()
            .with_closure(Closure::new(date!(2012 - 07 - 04), date!(2012 - 07 - 04)).unwrap())
    }

    #[test]
    fn k16_one_day_after_a_tuesday_before_a_holiday() {
        let cal = koha_calendar();
        let tue = date!(2012 - 07 - 03);
        // Datedue: add, then push off the closed day.
        assert_eq!(cal.add_days_then_open(tue, 1), Some(date!(2012 - 07 - 05)));
        // Calendar: step over open days.
        assert_eq!(cal.nth_open_day_after(tue, 1), Some(date!(2012 - 07 - 05)));
        // Days: plain arithmetic.
        assert_eq!(tue + Duration::days(1), date!(2012 - 07 - 04));
    }

    #[test]
    fn k17_seven_days_after_a_monday_and_weekend_pushes() {
        let cal = koha_calendar();
        let mon = date!(2012 - 07 - 23);
        assert_eq!(cal.add_days_then_open(mon, 7), Some(date!(2012 - 07 - 30)));
        assert_eq!(cal.nth_open_day_after(mon, 7), Some(date!(2012 - 08 - 01)));
        let sat = date!(2012 - 11 - 24);
        assert_eq!(cal.add_days_then_open(sat, 1), Some(date!(2012 - 11 - 26)));
        assert_eq!(cal.nth_open_day_after(sat, 1), Some(date!(2012 - 11 - 26)));
        // Backwards: 26 Dec − 1 is Christmas, closed, so the previous open day.
        let boxing = date!(2012 - 12 - 26);
        assert_eq!(
            cal.add_days_then_open(boxing, -1),
            Some(date!(2012 - 12 - 24))
        );
    }

    #[test]
    fn k18_open_days_between_in_either_order() {
        let cal = koha_calendar();
        let (a, b) = (date!(2012 - 07 - 23), date!(2012 - 09 - 17));
        assert_eq!(cal.open_days_between(a, b), 40);
        assert_eq!(cal.open_days_between(b, a), 40);
        assert_eq!(cal.open_days_between(a, a), 0);
    }

    #[test]
    fn closure_ranges_span_a_year_end() {
        let cal = Calendar::default()
            .with_closure(Closure::new(date!(2020 - 12 - 30), date!(2021 - 01 - 02)).unwrap());
        assert!(cal.is_open(date!(2020 - 12 - 29)));
        for d in [
            date!(2020 - 12 - 30),
            date!(2020 - 12 - 31),
            date!(2021 - 01 - 01),
            date!(2021 - 01 - 02),
        ] {
            assert!(!cal.is_open(d), "{d}");
        }
        assert_eq!(
            cal.next_open_day(date!(2020 - 12 - 31)),
            Some(date!(2021 - 01 - 03))
        );
        assert!(Closure::new(date!(2021 - 01 - 02), date!(2020 - 12 - 30)).is_err());
    }

    #[test]
    fn exceptions_reopen_a_closed_day() {
        let cal = koha_calendar().with_exception(date!(2012 - 12 - 25));
        assert!(cal.is_open(date!(2012 - 12 - 25)));
        assert!(!cal.is_open(date!(2013 - 12 - 25)));
        // An exception also beats a weekly closure.
        let cal = cal.with_exception(date!(2012 - 07 - 07));
        assert!(cal.is_open(date!(2012 - 07 - 07)));
    }

    #[test]
    fn yearly_closures_validate_the_day_and_allow_29_february() {
        let cal = Calendar::default()
            .with_yearly_closure(Month::February, 29)
            .unwrap();
        assert!(!cal.is_open(date!(2024 - 02 - 29)));
        assert!(cal.is_open(date!(2023 - 02 - 28)));
        assert_eq!(
            Calendar::default().with_yearly_closure(Month::April, 31),
            Err(CalendarError::NoSuchDay {
                month: Month::April,
                day: 31
            })
        );
    }

    #[test]
    fn searches_are_bounded() {
        let mut cal = Calendar::default();
        for w in [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
            Weekday::Sunday,
        ] {
            cal = cal.with_closed_weekday(w);
        }
        let d = date!(2021 - 03 - 05);
        assert_eq!(cal.next_open_day(d), None);
        assert_eq!(cal.previous_open_day(d), None);
        assert_eq!(cal.nth_open_day_after(d, 3), None);
        assert_eq!(cal.open_days_between(d, date!(2022 - 03 - 05)), 0);
        // A long closure followed by an open day is still found.
        let cal = Calendar::default()
            .with_closure(Closure::new(date!(2020 - 01 - 23), date!(2021 - 02 - 18)).unwrap());
        assert_eq!(
            cal.next_open_day(date!(2020 - 01 - 23)),
            Some(date!(2021 - 02 - 19))
        );
    }

    #[test]
    fn local_dates_and_end_of_day_use_the_offset() {
        let cal = Calendar::default();
        let at = time::macros::datetime!(2021-03-04 16:30 UTC);
        assert_eq!(cal.local_date(at), date!(2021 - 03 - 05));
        assert_eq!(
            cal.end_of_day(date!(2021 - 03 - 05)),
            time::macros::datetime!(2021-03-05 23:59:59 +08:00)
        );
    }

    #[test]
    fn each_rule_closes_or_reopens_as_its_builder() {
        // Wednesday 16 December 2026.
        let cal = Calendar::default()
            .with_rule(CalendarRule::ClosedWeekday(Weekday::Wednesday))
            .unwrap()
            .with_rule(CalendarRule::Yearly {
                month: Month::December,
                day: 17,
            })
            .unwrap()
            .with_rule(CalendarRule::Closure(
                Closure::new(date!(2026 - 12 - 18), date!(2026 - 12 - 19)).unwrap(),
            ))
            .unwrap();
        assert_eq!(
            cal.next_open_day(date!(2026 - 12 - 16)),
            Some(date!(2026 - 12 - 20))
        );
        let cal = cal
            .with_rule(CalendarRule::Reopen(date!(2026 - 12 - 16)))
            .unwrap();
        assert!(cal.is_open(date!(2026 - 12 - 16)));
        assert_eq!(
            Calendar::default().with_rule(CalendarRule::Yearly {
                month: Month::February,
                day: 30,
            }),
            Err(CalendarError::NoSuchDay {
                month: Month::February,
                day: 30,
            })
        );
    }
}
