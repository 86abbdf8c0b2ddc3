//! The overdue fine of one loan: chargeable days after grace × the daily rate, capped
//! (docs/fines.md; Koha `CalcFine`, FOLIO `OverdueFineService`).
//!
//! Pipeline: chargeable days before grace ([`late_days`]) → grace ([`GraceMode`]) → × rate
//! → cap. The grace is applied to the days that remain after fine-suspension periods and
//! (when not charged) closed days, as Koha applies `firstremind` to its calendar-aware
//! units. A negative rate is treated as zero: a fine is never a credit.

use library_core::Money;
use time::Date;

use crate::chargeable_days::{ClosedDays, days_before_grace, overdue_days};
use crate::{FineSuspensionPeriod, LendingLibrary};

/// How grace days work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GraceMode {
    /// Koha (`firstremind`): the grace days are subtracted from the chargeable days.
    Deducted,
    /// FOLIO (`gracePeriod`): nothing while within grace; past it, every day is charged.
    Threshold,
}

/// The fine rules that apply to a loan (resolved by the circulation rules for the lending
/// library, the reader's category and the item type).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FinePolicy {
    /// Fine per chargeable day (HK$1.50 for adult-library items, HK$0.50 for children's).
    pub fine_per_day: Money,
    /// Grace days.
    pub grace_days: u32,
    /// How the grace days work.
    pub grace_mode: GraceMode,
    /// Fine cap per item: `None` = no cap; `Some(0)` = no fine at all. (Unlike Koha's
    /// `overduefinescap`, where 0 means "no cap".)
    pub max_fine: Option<Money>,
    /// `true`: days the lending library is closed are charged (the default);
    /// `false`: they are not (Koha `noFinesWhenClosed`, FOLIO `countClosed=false`).
    pub count_closed_days: bool,
}

impl FinePolicy {
    /// A policy charging `fine_per_day` for every overdue day: no grace, no cap, closed
    /// days charged (the "hkpl" profile, docs/policy.md).
    pub fn per_day(fine_per_day: Money) -> Self {
        Self {
            fine_per_day,
            grace_days: 0,
            grace_mode: GraceMode::Deducted,
            max_fine: None,
            count_closed_days: true,
        }
    }

    /// The same policy with the cap lowered to `price` if that is lower (Koha
    /// `cap_fine_to_replacement_price`: the lesser cap wins).
    pub fn capped_to_replacement_price(mut self, price: Money) -> Self {
        let price = price.max(Money::ZERO);
        self.max_fine = Some(self.max_fine.map_or(price, |cap| cap.min(price)));
        self
    }

    /// Chargeable days left after grace, from the days before grace.
    pub fn after_grace(&self, late_days: u32) -> u32 {
        match self.grace_mode {
            GraceMode::Deducted => late_days.saturating_sub(self.grace_days),
            GraceMode::Threshold if late_days <= self.grace_days => 0,
            GraceMode::Threshold => late_days,
        }
    }

    /// The fine for `chargeable_days` (after grace): days × rate, capped, never negative.
    pub fn fine_for(&self, chargeable_days: u32) -> Money {
        let fine = self
            .fine_per_day
            .max(Money::ZERO)
            .times(i64::from(chargeable_days));
        match self.max_fine {
            Some(cap) => fine.capped_at(cap.max(Money::ZERO)),
            None => fine,
        }
    }
}

/// The fine of one loan as of a date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FineAssessment {
    /// Local calendar days from the due date to the return date (or today); 0 if on time.
    pub overdue_days: u32,
    /// What is left after fine-suspension periods, closed days (when not charged) and
    /// grace.
    pub chargeable_days: u32,
    /// The fine: `chargeable_days × fine_per_day`, capped.
    pub fine: Money,
}

/// The fine of a loan due on `due_on` (the loan's local due date), returned on `until` (or,
/// for a loan still out, as accrued by `until` = today). `calendar` is the lending
/// library's. Allocation-free.
pub fn assess_fine(
    due_on: Date,
    until: Date,
    library: &LendingLibrary,
    policy: &FinePolicy,
    periods: &[FineSuspensionPeriod],
    calendar: &impl ClosedDays,
) -> FineAssessment {
    assess(due_on, until, library, policy, periods, None, calendar)
}

/// Chargeable days *before grace*: the dates after the due date up to `until` that are in
/// no applicable fine-suspension period and, when `policy.count_closed_days` is false, on
/// which the library was open.
///
/// This is the `late_days` to pass to [`crate::suspension_after_return`]: like Koha's
/// suspension units it is calendar-aware and ignores the fine's grace (the suspension
/// policy has its own), and a reader is not suspended for days on which fines were
/// suspended.
pub fn late_days(
    due_on: Date,
    until: Date,
    library: &LendingLibrary,
    policy: &FinePolicy,
    periods: &[FineSuspensionPeriod],
    calendar: &impl ClosedDays,
) -> u32 {
    days_before_grace(
        due_on,
        until,
        library,
        periods,
        None,
        !policy.count_closed_days,
        calendar,
    )
}

/// [`assess_fine`] with one more (candidate) period, without building a new slice.
pub(crate) fn assess<C: ClosedDays + ?Sized>(
    due_on: Date,
    until: Date,
    library: &LendingLibrary,
    policy: &FinePolicy,
    periods: &[FineSuspensionPeriod],
    extra: Option<&FineSuspensionPeriod>,
    calendar: &C,
) -> FineAssessment {
    let overdue_days = overdue_days(due_on, until);
    if overdue_days == 0 {
        return FineAssessment::default();
    }
    let late = days_before_grace(
        due_on,
        until,
        library,
        periods,
        extra,
        !policy.count_closed_days,
        calendar,
    );
    let chargeable_days = policy.after_grace(late);
    FineAssessment {
        overdue_days,
        chargeable_days,
        fine: policy.fine_for(chargeable_days),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AlwaysOpen, SuspensionScope};
    use library_core::{LibraryCode, LibraryKind};
    use time::Weekday;
    use time::macros::date;

    const ADULT: Money = Money::from_cents(150);
    const CHILDREN: Money = Money::from_cents(50);

    fn lib() -> LendingLibrary {
        LendingLibrary::new(LibraryCode::parse("TMPL").unwrap(), LibraryKind::District)
    }

    struct Weekends;
    impl ClosedDays for Weekends {
        fn is_closed(&self, date: Date) -> bool {
            matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
        }
    }

    fn policy(rate: i64, grace: u32, mode: GraceMode, cap: Option<i64>) -> FinePolicy {
        FinePolicy {
            fine_per_day: Money::from_cents(rate),
            grace_days: grace,
            grace_mode: mode,
            max_fine: cap.map(Money::from_cents),
            count_closed_days: true,
        }
    }

    #[test]
    fn rates_grace_and_caps() {
        use GraceMode::{Deducted, Threshold};
        let cases = [
            // (name, due, until, policy, overdue, chargeable, fine)
            (
                "K1",
                date!(2000 - 01 - 01),
                date!(2000 - 01 - 30),
                policy(100, 0, Deducted, None),
                29,
                29,
                2900,
            ),
            (
                "K4 cap 3",
                date!(2000 - 01 - 01),
                date!(2000 - 01 - 30),
                policy(100, 0, Deducted, Some(300)),
                29,
                29,
                300,
            ),
            (
                "F1 5 days, max 10",
                date!(2021 - 03 - 01),
                date!(2021 - 03 - 06),
                policy(100, 0, Threshold, Some(1000)),
                5,
                5,
                500,
            ),
            (
                "F1 15 days, max 10",
                date!(2021 - 03 - 01),
                date!(2021 - 03 - 16),
                policy(100, 0, Threshold, Some(1000)),
                15,
                15,
                1000,
            ),
            (
                "adult rate",
                date!(2021 - 03 - 01),
                date!(2021 - 03 - 07),
                FinePolicy::per_day(ADULT),
                6,
                6,
                900,
            ),
            (
                "children's rate",
                date!(2021 - 03 - 01),
                date!(2021 - 03 - 07),
                FinePolicy::per_day(CHILDREN),
                6,
                6,
                300,
            ),
            (
                "leap day",
                date!(2024 - 02 - 27),
                date!(2024 - 03 - 01),
                FinePolicy::per_day(ADULT),
                3,
                3,
                450,
            ),
            (
                "returned on the due date",
                date!(2024 - 02 - 27),
                date!(2024 - 02 - 27),
                FinePolicy::per_day(ADULT),
                0,
                0,
                0,
            ),
            (
                "returned early",
                date!(2024 - 02 - 27),
                date!(2024 - 02 - 20),
                FinePolicy::per_day(ADULT),
                0,
                0,
                0,
            ),
            (
                "deducted grace 2 of 5",
                date!(2021 - 03 - 01),
                date!(2021 - 03 - 06),
                policy(150, 2, Deducted, None),
                5,
                3,
                450,
            ),
            (
                "deducted grace 5 of 5",
                date!(2021 - 03 - 01),
                date!(2021 - 03 - 06),
                policy(150, 5, Deducted, None),
                5,
                0,
                0,
            ),
            (
                "threshold grace 5 of 5",
                date!(2021 - 03 - 01),
                date!(2021 - 03 - 06),
                policy(150, 5, Threshold, None),
                5,
                0,
                0,
            ),
            (
                "threshold grace 4 of 5",
                date!(2021 - 03 - 01),
                date!(2021 - 03 - 06),
                policy(150, 4, Threshold, None),
                5,
                5,
                750,
            ),
            (
                "zero rate",
                date!(2021 - 03 - 01),
                date!(2021 - 03 - 06),
                policy(0, 0, Deducted, None),
                5,
                5,
                0,
            ),
            (
                "cap 0 = no fine",
                date!(2021 - 03 - 01),
                date!(2021 - 03 - 06),
                policy(150, 0, Deducted, Some(0)),
                5,
                5,
                0,
            ),
            (
                "negative rate charges nothing",
                date!(2021 - 03 - 01),
                date!(2021 - 03 - 06),
                policy(-150, 0, Deducted, None),
                5,
                5,
                0,
            ),
            (
                "saturates",
                date!(2000 - 01 - 01),
                date!(2001 - 01 - 01),
                policy(i64::MAX / 2, 0, Deducted, None),
                366,
                366,
                i64::MAX,
            ),
        ];
        for (name, due, until, policy, overdue, chargeable, fine) in cases {
            let got = assess_fine(due, until, &lib(), &policy, &[], &AlwaysOpen);
            let want = FineAssessment {
                overdue_days: overdue,
                chargeable_days: chargeable,
                fine: Money::from_cents(fine),
            };
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn replacement_price_cap_k3_k4() {
        let (due, until) = (date!(2000 - 01 - 01), date!(2000 - 01 - 30));
        let cases = [
            // (overduefinescap, replacement price, fine)
            (None, 500, 500),      // K3
            (None, 600, 600),      // K3, itemtype default cost
            (Some(300), 500, 300), // K4
            (Some(600), 500, 500), // K4
        ];
        for (cap, price, want) in cases {
            let p = policy(100, 0, GraceMode::Deducted, cap)
                .capped_to_replacement_price(Money::from_cents(price));
            let got = assess_fine(due, until, &lib(), &p, &[], &AlwaysOpen).fine;
            assert_eq!(got, Money::from_cents(want), "{cap:?} {price}");
        }
    }

    #[test]
    fn closed_days_only_when_the_rule_says_so() {
        // K18-style: Mon 2012-07-23 to Mon 2012-09-17, closed Saturdays and Sundays.
        let (due, until) = (date!(2012 - 07 - 23), date!(2012 - 09 - 17));
        let mut p = FinePolicy::per_day(ADULT);
        let charged = assess_fine(due, until, &lib(), &p, &[], &Weekends);
        assert_eq!((charged.overdue_days, charged.chargeable_days), (56, 56));
        p.count_closed_days = false;
        let skipped = assess_fine(due, until, &lib(), &p, &[], &Weekends);
        assert_eq!((skipped.overdue_days, skipped.chargeable_days), (56, 40));
        assert_eq!(skipped.fine, Money::from_cents(40 * 150));
        // K15-style: grace applies after closed days. Due Thu 2021-03-04, back Tue 03-09:
        // 5 days, Sat+Sun closed → 3; grace 1 deducted → 2.
        p.grace_days = 1;
        let a = assess_fine(
            date!(2021 - 03 - 04),
            date!(2021 - 03 - 09),
            &lib(),
            &p,
            &[],
            &Weekends,
        );
        assert_eq!((a.overdue_days, a.chargeable_days), (5, 2));
        assert_eq!(
            late_days(
                date!(2021 - 03 - 04),
                date!(2021 - 03 - 09),
                &lib(),
                &p,
                &[],
                &Weekends
            ),
            3
        );
    }

    #[test]
    fn grace_applies_after_suspension_periods() {
        let period = FineSuspensionPeriod::new(
            date!(2021 - 03 - 02),
            Some(date!(2021 - 03 - 05)),
            SuspensionScope::all_libraries(),
            "t",
        )
        .unwrap();
        let mut p = policy(150, 2, GraceMode::Threshold, None);
        // Due 03-01, back 03-08: 7 overdue days, 3 suspended → 4 > grace 2 → 4 charged.
        let a = assess_fine(
            date!(2021 - 03 - 01),
            date!(2021 - 03 - 08),
            &lib(),
            &p,
            std::slice::from_ref(&period),
            &AlwaysOpen,
        );
        assert_eq!(
            (a.overdue_days, a.chargeable_days, a.fine.cents()),
            (7, 4, 600)
        );
        p.grace_mode = GraceMode::Deducted;
        let a = assess_fine(
            date!(2021 - 03 - 01),
            date!(2021 - 03 - 08),
            &lib(),
            &p,
            &[period],
            &AlwaysOpen,
        );
        assert_eq!(
            (a.overdue_days, a.chargeable_days, a.fine.cents()),
            (7, 2, 300)
        );
    }
}
