//! What a return costs: overdue days, chargeable days, the fine and any reader suspension,
//! and the validity of a book-drop return time.
//!
//! Fines are computed with the **lending** library's calendar, zone and fine-suspension
//! periods, wherever the item is returned (docs/fines.md; rero-ils #2683: fees must use
//! the checkout library's open days, not the check-in library's). The arithmetic is
//! library-fines' ([`assess_fine`], [`late_days`], [`suspension_after_return`]).

use library_fines::{
    FineAssessment, FineSuspensionPeriod, assess_fine, late_days, suspension_after_return,
};
use time::{Date, OffsetDateTime};

use crate::model::{Library, Loan};
use crate::rules::EffectiveRules;

/// Why a book-drop return time is refused (docs/http.md, Circulation: 422).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReturnTimeError {
    /// The return time is after now.
    #[error("the return time is in the future")]
    InFuture,
    /// The return time is before the loan was made.
    #[error("the return time is before the checkout")]
    BeforeCheckout,
}

/// The effective return time: `requested` (a book-drop return, backdated to when the drop
/// was last emptied) or `now`. It may be neither in the future nor before the checkout.
pub fn effective_return_time(
    now: OffsetDateTime,
    requested: Option<OffsetDateTime>,
    borrowed_at: OffsetDateTime,
) -> Result<OffsetDateTime, ReturnTimeError> {
    let at = requested.unwrap_or(now);
    if at > now {
        return Err(ReturnTimeError::InFuture);
    }
    if at < borrowed_at {
        return Err(ReturnTimeError::BeforeCheckout);
    }
    Ok(at)
}

/// What a return costs (docs/http.md, Circulation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnAssessment {
    /// The lending library's local date of the return.
    pub returned_on: Date,
    /// Local calendar days from the due date to the return date (0 if on time).
    pub overdue_days: u32,
    /// Days left after fine-suspension periods, closed days (when not charged) and grace.
    pub chargeable_days: u32,
    /// The fine to charge (zero: no charge).
    pub fine: library_core::Money,
    /// The reader's suspension after this return, when this return suspends them: the
    /// first date they may borrow again.
    pub suspended_until: Option<Date>,
}

/// The fine a loan has accrued by `at` (a loan still out; also the fine fixed when an
/// overdue loan is renewed).
pub fn accrued_fine(
    loan: &Loan,
    at: OffsetDateTime,
    lending: &Library,
    rules: &EffectiveRules,
    periods: &[FineSuspensionPeriod],
) -> FineAssessment {
    let until = lending.calendar.local_date(at);
    assess_fine(
        loan.due.on,
        until,
        &lending.lending(),
        &rules.fine_policy(),
        periods,
        &lending.calendar,
    )
}

/// Assesses the return of `loan` at `returned_at`. `current_suspension` is the reader's
/// suspension before the return (a suspension is never shortened).
pub fn assess_return(
    loan: &Loan,
    returned_at: OffsetDateTime,
    lending: &Library,
    rules: &EffectiveRules,
    periods: &[FineSuspensionPeriod],
    current_suspension: Option<Date>,
) -> ReturnAssessment {
    let returned_on = lending.calendar.local_date(returned_at);
    let fine = accrued_fine(loan, returned_at, lending, rules, periods);
    let policy = rules.suspension_policy();
    let late = late_days(
        loan.due.on,
        returned_on,
        &lending.lending(),
        &rules.fine_policy(),
        periods,
        &lending.calendar,
    );
    let suspended_until = (policy.days_for(late) > 0)
        .then(|| suspension_after_return(late, returned_on, current_suspension, &policy))
        .flatten();
    ReturnAssessment {
        returned_on,
        overdue_days: fine.overdue_days,
        chargeable_days: fine.chargeable_days,
        fine: fine.fine,
        suspended_until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Calendar, Closure};
    use crate::due_date::DueDate;
    use crate::profile::hkpl_profile;
    use library_core::{ItemId, LibraryCode, LibraryKind, LoanId, Money, PatronId};
    use library_fines::SuspensionScope;
    use time::macros::{date, datetime};

    fn library(kind: LibraryKind, calendar: Calendar) -> Library {
        Library {
            code: LibraryCode::parse("HKCL").unwrap(),
            kind,
            calendar,
        }
    }

    fn loan(due_on: Date) -> Loan {
        Loan {
            id: LoanId(1),
            patron: PatronId(1),
            item: ItemId(1),
            library: LibraryCode::parse("HKCL").unwrap(),
            borrowed_at: datetime!(2021-01-01 10:00 +08:00),
            due: DueDate::on(due_on, &Calendar::default()),
            renewals: 0,
            returned_at: None,
            returned_to: None,
        }
    }

    fn hkpl() -> EffectiveRules {
        EffectiveRules::resolve(&hkpl_profile(), None, None, None)
    }

    #[test]
    fn return_time_must_be_between_checkout_and_now() {
        let now = datetime!(2021-03-05 10:00 UTC);
        let out = datetime!(2021-03-01 10:00 UTC);
        assert_eq!(effective_return_time(now, None, out), Ok(now));
        let drop = datetime!(2021-03-04 22:00 UTC);
        assert_eq!(effective_return_time(now, Some(drop), out), Ok(drop));
        assert_eq!(
            effective_return_time(now, Some(now + time::Duration::seconds(1)), out),
            Err(ReturnTimeError::InFuture)
        );
        assert_eq!(
            effective_return_time(now, Some(out - time::Duration::seconds(1)), out),
            Err(ReturnTimeError::BeforeCheckout)
        );
    }

    #[test]
    fn six_days_late_at_the_adult_rate() {
        let lib = library(LibraryKind::Central, Calendar::default());
        // Due 5 March, returned 11 March 00:30 local: a part-day counts as a day.
        let a = assess_return(
            &loan(date!(2021 - 03 - 05)),
            datetime!(2021-03-11 00:30 +08:00),
            &lib,
            &hkpl(),
            &[],
            None,
        );
        assert_eq!((a.overdue_days, a.chargeable_days), (6, 6));
        assert_eq!(a.fine, Money::from_cents(900));
        assert_eq!(a.suspended_until, None);
        assert_eq!(a.returned_on, date!(2021 - 03 - 11));
    }

    #[test]
    fn the_lending_librarys_suspension_periods_and_closed_days_count() {
        // The 2021 rule: no fines until 5 March (the first charged day).
        let period = FineSuspensionPeriod {
            starts_on: date!(2020 - 01 - 29),
            resumes_on: Some(date!(2021 - 03 - 05)),
            scope: SuspensionScope::all_libraries(),
            reason: "COVID-19 closure".into(),
        };
        let lib = library(LibraryKind::District, Calendar::default());
        let a = assess_return(
            &loan(date!(2021 - 02 - 01)),
            datetime!(2021-03-06 12:00 +08:00),
            &lib,
            &hkpl(),
            std::slice::from_ref(&period),
            None,
        );
        assert_eq!((a.overdue_days, a.chargeable_days), (33, 2));
        assert_eq!(a.fine, Money::from_cents(300));
        // Closed days not charged when the rule says so.
        let cal = Calendar::default()
            .with_closure(Closure::new(date!(2021 - 03 - 06), date!(2021 - 03 - 06)).unwrap());
        let lib = library(LibraryKind::District, cal);
        let rules = EffectiveRules {
            count_closed_days: false,
            ..hkpl()
        };
        let a = assess_return(
            &loan(date!(2021 - 03 - 01)),
            datetime!(2021-03-07 12:00 +08:00),
            &lib,
            &rules,
            &[],
            None,
        );
        assert_eq!((a.overdue_days, a.chargeable_days), (6, 5));
    }

    #[test]
    fn reader_suspension_when_the_rule_has_one() {
        let lib = library(LibraryKind::Central, Calendar::default());
        let rules = EffectiveRules {
            suspension_days_per_day: 2,
            max_suspension_days: Some(10),
            ..hkpl()
        };
        // K11-like: 3 days late × 2 = 6 days from the return date.
        let a = assess_return(
            &loan(date!(2021 - 03 - 01)),
            datetime!(2021-03-04 12:00 +08:00),
            &lib,
            &rules,
            &[],
            None,
        );
        assert_eq!(a.suspended_until, Some(date!(2021 - 03 - 10)));
        // Capped at 10 days, and never shortening a longer current suspension.
        let a = assess_return(
            &loan(date!(2021 - 03 - 01)),
            datetime!(2021-03-21 12:00 +08:00),
            &lib,
            &rules,
            &[],
            Some(date!(2021 - 05 - 01)),
        );
        assert_eq!(a.suspended_until, Some(date!(2021 - 05 - 01)));
    }
}
