//! Due dates of loans and renewals.
//!
//! - A day loan is due on (loan local date + `loan_days`) at 23:59:59 local time
//!   (docs/http.md, `due_at`; Koha day loans are due at the end of the day).
//! - If the lending library is closed all day on that date, the loan runs to the end of
//!   its next open day: Libraries Regulation (Cap. 132AL) s19(3), Koha "Datedue" mode,
//!   FOLIO `END_OF_THE_NEXT_OPEN_DAY`.
//! - A renewal counts from the renewal date or from the current due date
//!   ([`RenewalBase`]), and **never shortens a loan**: the new due date is the later of the
//!   current one and the computed one (FOLIO refuses a renewal that would not move the
//!   date; we keep the later date instead, so a renewal is never a loss to the reader).
//! - If the calendar has no open day within [`crate::calendar::MAX_SEARCH_DAYS`] of the
//!   computed date (a configuration error), the computed date is kept as it is: the
//!   statutory loan period is not refused because the calendar is wrong.

use time::{Date, Duration, OffsetDateTime};

use crate::calendar::Calendar;
use crate::rules::RenewalBase;

/// When a loan falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DueDate {
    /// The local due date in the lending library's zone.
    pub on: Date,
    /// 23:59:59 local time on `on`, in UTC.
    pub at: OffsetDateTime,
}

impl DueDate {
    /// The due date `on`, due at the end of that day in `calendar`'s zone.
    pub fn on(on: Date, calendar: &Calendar) -> Self {
        Self {
            on,
            at: calendar.end_of_day(on).to_offset(time::UtcOffset::UTC),
        }
    }
}

fn add_days(date: Date, days: u32) -> Date {
    date.checked_add(Duration::days(i64::from(days)))
        .unwrap_or(Date::MAX)
}

/// `date + days`, moved to the next open day of `calendar` if closed (s19).
fn open_due_date(date: Date, days: u32, calendar: &Calendar) -> DueDate {
    let raw = add_days(date, days);
    DueDate::on(calendar.next_open_day(raw).unwrap_or(raw), calendar)
}

/// The due date of a loan made at `borrowed_at` from the library whose calendar is
/// `calendar`.
pub fn loan_due_date(borrowed_at: OffsetDateTime, loan_days: u32, calendar: &Calendar) -> DueDate {
    open_due_date(calendar.local_date(borrowed_at), loan_days, calendar)
}

/// The due date after renewing, at `renewed_at`, a loan currently due on `current_due`.
///
/// With [`RenewalBase::DueDate`] the period counts from the current due date, except for
/// an overdue loan: its fine up to today has just been charged, so the new period starts
/// clean from the renewal date and no day can be charged twice.
pub fn renewal_due_date(
    current_due: Date,
    renewed_at: OffsetDateTime,
    base: RenewalBase,
    loan_days: u32,
    calendar: &Calendar,
) -> DueDate {
    let today = calendar.local_date(renewed_at);
    let from = match base {
        RenewalBase::DueDate if current_due >= today => current_due,
        _ => today,
    };
    let computed = open_due_date(from, loan_days, calendar);
    // Never shorten a loan.
    if computed.on >= current_due {
        computed
    } else {
        DueDate::on(current_due, calendar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Closure;
    use time::Weekday;
    use time::macros::{date, datetime};

    fn hk() -> Calendar {
        Calendar::default()
    }

    #[test]
    fn fourteen_days_due_at_the_end_of_the_local_day() {
        // 2021-03-04 20:00 UTC is already 5 March in Hong Kong.
        let due = loan_due_date(datetime!(2021-03-04 20:00 UTC), 14, &hk());
        assert_eq!(due.on, date!(2021 - 03 - 19));
        assert_eq!(due.at, datetime!(2021-03-19 23:59:59 +08:00));
        assert_eq!(due.at.offset(), time::UtcOffset::UTC);
    }

    #[test]
    fn leap_years() {
        let due = loan_due_date(datetime!(2024-02-15 10:00 +08:00), 14, &hk());
        assert_eq!(due.on, date!(2024 - 02 - 29));
        let due = loan_due_date(datetime!(2023-02-15 10:00 +08:00), 14, &hk());
        assert_eq!(due.on, date!(2023 - 03 - 01));
    }

    #[test]
    fn a_due_date_on_a_closure_day_moves_to_the_next_open_day() {
        // Closed Mondays and over Lunar New Year 2021 (12–14 Feb, Fri–Sun).
        let cal = hk()
            .with_closed_weekday(Weekday::Monday)
            .with_closure(Closure::new(date!(2021 - 02 - 12), date!(2021 - 02 - 14)).unwrap());
        // 29 Jan + 14 = Fri 12 Feb (closed) → Sat, Sun closed → Mon closed → Tue 16 Feb.
        let due = loan_due_date(datetime!(2021-01-29 12:00 +08:00), 14, &cal);
        assert_eq!(due.on, date!(2021 - 02 - 16));
        assert_eq!(due.at, datetime!(2021-02-16 23:59:59 +08:00));
    }

    #[test]
    fn a_due_date_in_a_closure_over_the_year_end() {
        let cal =
            hk().with_closure(Closure::new(date!(2020 - 12 - 24), date!(2021 - 01 - 03)).unwrap());
        let due = loan_due_date(datetime!(2020-12-15 09:00 +08:00), 14, &cal);
        assert_eq!(due.on, date!(2021 - 01 - 04));
    }

    #[test]
    fn renewal_from_the_renewal_date_or_the_due_date() {
        let cal = hk();
        let current = date!(2021 - 03 - 19);
        let at = datetime!(2021-03-15 10:00 +08:00);
        let from_today = renewal_due_date(current, at, RenewalBase::RenewalDate, 14, &cal);
        assert_eq!(from_today.on, date!(2021 - 03 - 29));
        let from_due = renewal_due_date(current, at, RenewalBase::DueDate, 14, &cal);
        assert_eq!(from_due.on, date!(2021 - 04 - 02));
        // Overdue with base due_date: the new period starts clean from today.
        let late = datetime!(2021-04-10 10:00 +08:00);
        let r = renewal_due_date(current, late, RenewalBase::DueDate, 14, &cal);
        assert_eq!(r.on, date!(2021 - 04 - 24));
    }

    #[test]
    fn a_renewal_never_shortens_a_loan() {
        // A 3-day renewal period on a loan due in 10 days keeps the current due date.
        let cal = hk();
        let current = date!(2021 - 03 - 25);
        let r = renewal_due_date(
            current,
            datetime!(2021-03-15 10:00 +08:00),
            RenewalBase::RenewalDate,
            3,
            &cal,
        );
        assert_eq!(r.on, current);
        assert_eq!(r.at, datetime!(2021-03-25 23:59:59 +08:00));
    }

    #[test]
    fn a_calendar_closed_for_years_keeps_the_computed_date() {
        let cal =
            hk().with_closure(Closure::new(date!(2021 - 01 - 01), date!(2025 - 12 - 31)).unwrap());
        let due = loan_due_date(datetime!(2021-01-01 10:00 +08:00), 14, &cal);
        assert_eq!(due.on, date!(2021 - 01 - 15));
    }
}
