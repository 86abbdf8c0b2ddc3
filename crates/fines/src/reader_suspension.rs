//! Reader suspension, Koha's "fine days" (`_calculate_new_debar_dt`,
//! `_debar_user_on_return`): returning a loan late may suspend borrowing for
//! `(late days − grace) × days_per_overdue_day` days, capped by `max_days`.
//!
//! - `late_days` is chosen by the caller; the circulation crate passes [`crate::late_days`]
//!   (chargeable days before grace: calendar-aware like Koha's units, and without the
//!   days of fine-suspension periods). Koha's `suspension_chargeperiod` is not modelled
//!   (it is always 1).
//! - The suspension starts on the return date, or, in cumulative mode
//!   (`CumulativeRestrictionPeriods`), where the current one ends if that is later.
//! - The result is the first date the reader may borrow again (`returned_on + N`,
//!   docs/http.md, `suspended_until`). A suspension is never shortened: the later of the
//!   new and the current date is kept (`AddUniqueDebarment`).
//! - Days are calendar days (Koha `SuspensionsCalendar=noSuspensionsWhenClosed` is not
//!   modelled).

use time::{Date, Duration};

/// The reader-suspension rules for a loan (off in the default profile, docs/policy.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SuspensionPolicy {
    /// Suspension days per late day (Koha `finedays`); 0 = no suspension.
    pub days_per_overdue_day: u32,
    /// Cap on one suspension's length (Koha `maxsuspensiondays`); `None` = no cap.
    pub max_days: Option<u32>,
    /// Late days forgiven before counting (Koha `firstremind`), always deducted.
    pub grace_days: u32,
    /// Add to a running suspension instead of overlapping it.
    pub cumulative: bool,
}

impl SuspensionPolicy {
    /// The suspension length in days for `late_days`; 0 = none.
    pub fn days_for(&self, late_days: u32) -> u32 {
        let days = late_days
            .saturating_sub(self.grace_days)
            .saturating_mul(self.days_per_overdue_day);
        self.max_days.map_or(days, |max| days.min(max))
    }
}

/// The reader's "suspended until" date after returning a loan `late_days` late on
/// `returned_on`: the first date the reader may borrow again. Returns `current_until` when
/// this return adds nothing or ends earlier, and `None` when there is no suspension at all.
pub fn suspension_after_return(
    late_days: u32,
    returned_on: Date,
    current_until: Option<Date>,
    policy: &SuspensionPolicy,
) -> Option<Date> {
    let days = policy.days_for(late_days);
    if days == 0 {
        return current_until;
    }
    let start = match current_until {
        Some(current) if policy.cumulative => current.max(returned_on),
        _ => returned_on,
    };
    let new_until = start
        .checked_add(Duration::days(i64::from(days)))
        .unwrap_or(Date::MAX);
    Some(current_until.map_or(new_until, |current| current.max(new_until)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const T: Date = date!(2021 - 03 - 10);

    fn d(offset: i64) -> Date {
        T.checked_add(Duration::days(offset)).unwrap()
    }

    fn policy(per_day: u32, max: Option<u32>, grace: u32, cumulative: bool) -> SuspensionPolicy {
        SuspensionPolicy {
            days_per_overdue_day: per_day,
            max_days: max,
            grace_days: grace,
            cumulative,
        }
    }

    #[test]
    fn koha_vectors() {
        let cases = [
            // (name, late days, current, policy, want)
            ("K11", 20, None, policy(2, None, 0, false), Some(d(40))),
            (
                "K11 max 10",
                20,
                None,
                policy(2, Some(10), 0, false),
                Some(d(10)),
            ),
            (
                "K14 period 1",
                5,
                None,
                policy(2, None, 0, false),
                Some(d(10)),
            ),
            // K15: 5 days late, one closed day (noFinesWhenClosed) → 4 late days × 2.
            ("K15", 4, None, policy(2, None, 0, false), Some(d(8))),
            ("off", 20, None, policy(0, None, 0, false), None),
            (
                "off keeps current",
                20,
                Some(d(3)),
                policy(0, None, 0, true),
                Some(d(3)),
            ),
            ("within grace", 1, None, policy(2, None, 1, false), None),
            ("max 0", 20, None, policy(2, Some(0), 0, false), None),
            (
                "on time",
                0,
                Some(d(3)),
                policy(2, None, 0, false),
                Some(d(3)),
            ),
            // Never shortened: a running suspension that ends later is kept.
            (
                "never shortens",
                2,
                Some(d(30)),
                policy(2, None, 0, false),
                Some(d(30)),
            ),
            // Cumulative with an expired suspension starts at the return date.
            (
                "cumulative, expired",
                2,
                Some(d(-5)),
                policy(2, None, 0, true),
                Some(d(4)),
            ),
            (
                "cumulative, running",
                2,
                Some(d(30)),
                policy(2, None, 0, true),
                Some(d(34)),
            ),
            (
                "saturates",
                u32::MAX,
                None,
                policy(u32::MAX, None, 0, false),
                Some(Date::MAX),
            ),
        ];
        for (name, late, current, policy, want) in cases {
            assert_eq!(
                suspension_after_return(late, T, current, &policy),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn k13_cumulative_restriction_periods() {
        // firstremind 1, finedays 2; loans due D(−5) and D(−10), both returned today.
        for (cumulative, first, second) in [(false, d(8), d(18)), (true, d(8), d(26))] {
            let p = policy(2, None, 1, cumulative);
            let after_first = suspension_after_return(5, T, None, &p);
            assert_eq!(after_first, Some(first), "cumulative {cumulative}");
            let after_second = suspension_after_return(10, T, after_first, &p);
            assert_eq!(after_second, Some(second), "cumulative {cumulative}");
        }
    }

    #[test]
    fn far_future_saturates_at_date_max() {
        let p = policy(u32::MAX, None, 0, false);
        assert_eq!(
            suspension_after_return(u32::MAX, Date::MAX, None, &p),
            Some(Date::MAX)
        );
    }
}
