//! Properties of fines and suspensions, checked against a day-by-day reference.

use library_core::{LibraryCode, LibraryKind, Money, PatronId};
use library_fines::{
    AlwaysOpen, ClosedDays, FinePolicy, FineSuspensionPeriod, GraceMode, LendingLibrary, OpenLoan,
    SuspensionPolicy, SuspensionScope, assess_fine, late_days, preview_impact,
    suspension_after_return,
};
use proptest::prelude::*;
use time::macros::date;
use time::{Date, Duration};

const BASE: Date = date!(2020 - 11 - 01);

fn day(offset: i64) -> Date {
    BASE + Duration::days(offset)
}

/// Closed on the weekdays in the mask (bit 0 = Monday) and on a few dates.
#[derive(Debug, Clone)]
struct Calendar {
    weekdays: u8,
    dated: Vec<Date>,
}

impl ClosedDays for Calendar {
    fn is_closed(&self, date: Date) -> bool {
        self.weekdays & (1 << date.weekday().number_days_from_monday()) != 0
            || self.dated.contains(&date)
    }
}

fn libraries() -> [LendingLibrary; 3] {
    [
        LendingLibrary::new(LibraryCode::parse("TMPL").unwrap(), LibraryKind::District),
        LendingLibrary::new(LibraryCode::parse("MOB1").unwrap(), LibraryKind::Mobile),
        LendingLibrary::new(LibraryCode::parse("HKCL").unwrap(), LibraryKind::Central),
    ]
}

fn scope() -> impl Strategy<Value = SuspensionScope> {
    prop_oneof![
        Just(SuspensionScope::all_libraries()),
        Just(SuspensionScope::kinds([LibraryKind::Mobile])),
        Just(SuspensionScope::codes(
            [LibraryCode::parse("TMPL").unwrap()]
        )),
        Just(SuspensionScope {
            library_codes: [LibraryCode::parse("HKCL").unwrap()].into(),
            library_kinds: [LibraryKind::Mobile].into(),
        }),
    ]
}

fn period() -> impl Strategy<Value = FineSuspensionPeriod> {
    (0i64..300, proptest::option::of(1i64..120), scope()).prop_map(|(start, len, scope)| {
        FineSuspensionPeriod::new(day(start), len.map(|l| day(start + l)), scope, "p").unwrap()
    })
}

fn policy() -> impl Strategy<Value = FinePolicy> {
    (
        -10i64..500,
        0u32..6,
        any::<bool>(),
        proptest::option::of(0i64..5_000),
        any::<bool>(),
    )
        .prop_map(
            |(rate, grace, threshold, cap, count_closed_days)| FinePolicy {
                fine_per_day: Money::from_cents(rate),
                grace_days: grace,
                grace_mode: if threshold {
                    GraceMode::Threshold
                } else {
                    GraceMode::Deducted
                },
                max_fine: cap.map(Money::from_cents),
                count_closed_days,
            },
        )
}

fn calendar() -> impl Strategy<Value = Calendar> {
    (any::<u8>(), proptest::collection::vec(0i64..400, 0..6)).prop_map(|(mask, dated)| Calendar {
        weekdays: mask & 0x7f,
        dated: dated.into_iter().map(day).collect(),
    })
}

/// Day-by-day reference: each date of `due+1..=until` is charged unless suspended or
/// (when not charged) closed.
fn reference_late_days(
    due: Date,
    until: Date,
    library: &LendingLibrary,
    policy: &FinePolicy,
    periods: &[FineSuspensionPeriod],
    calendar: &Calendar,
) -> u32 {
    let mut days = 0;
    let mut d = due + Duration::days(1);
    while d <= until {
        let suspended = periods.iter().any(|p| p.applies_to(library) && p.covers(d));
        let closed = !policy.count_closed_days && calendar.is_closed(d);
        if !suspended && !closed {
            days += 1;
        }
        d += Duration::days(1);
    }
    days
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn fines_match_the_day_by_day_reference(
        due in 0i64..400,
        len in -20i64..300,
        lib in 0usize..3,
        policy in policy(),
        periods in proptest::collection::vec(period(), 0..6),
        calendar in calendar(),
    ) {
        let library = &libraries()[lib];
        let (due, until) = (day(due), day(due + len));
        let got = assess_fine(due, until, library, &policy, &periods, &calendar);
        let late = reference_late_days(due, until, library, &policy, &periods, &calendar);
        prop_assert_eq!(late_days(due, until, library, &policy, &periods, &calendar), late);
        // No date charged twice: never more than the distinct dates in the range.
        let overdue = u32::try_from(len.max(0)).unwrap();
        prop_assert_eq!(got.overdue_days, overdue);
        prop_assert!(got.chargeable_days <= late);
        prop_assert!(late <= overdue);
        prop_assert_eq!(got.chargeable_days, policy.after_grace(late));
        prop_assert!(got.fine >= Money::ZERO);
        if let Some(cap) = policy.max_fine {
            prop_assert!(got.fine <= cap);
        }
    }

    #[test]
    fn adding_a_period_never_increases_a_fine(
        due in 0i64..400,
        len in -20i64..300,
        lib in 0usize..3,
        policy in policy(),
        periods in proptest::collection::vec(period(), 0..5),
        extra in period(),
        calendar in calendar(),
    ) {
        let library = &libraries()[lib];
        let (due, until) = (day(due), day(due + len));
        let before = assess_fine(due, until, library, &policy, &periods, &calendar);
        let mut more = periods.clone();
        more.push(extra);
        let after = assess_fine(due, until, library, &policy, &more, &calendar);
        prop_assert!(after.fine <= before.fine);
        prop_assert!(after.chargeable_days <= before.chargeable_days);
        prop_assert_eq!(after.overdue_days, before.overdue_days);
    }

    #[test]
    fn suspensions_never_shorten(
        late in 0u32..400,
        returned in 0i64..400,
        current in proptest::option::of(0i64..800),
        per_day in 0u32..20,
        max in proptest::option::of(0u32..200),
        grace in 0u32..5,
        cumulative in any::<bool>(),
    ) {
        let policy = SuspensionPolicy { days_per_overdue_day: per_day, max_days: max, grace_days: grace, cumulative };
        let returned_on = day(returned);
        let current = current.map(day);
        let got = suspension_after_return(late, returned_on, current, &policy);
        if let Some(current) = current {
            prop_assert!(got >= Some(current));
        }
        // More late days never give a shorter suspension.
        prop_assert!(suspension_after_return(late + 1, returned_on, current, &policy) >= got);
        let days = policy.days_for(late);
        if days > 0 {
            let base = if cumulative { current.map_or(returned_on, |c| c.max(returned_on)) } else { returned_on };
            prop_assert!(got >= Some(base + Duration::days(i64::from(days))));
        }
        if let Some(max) = max {
            prop_assert!(days <= max);
        }
    }

    #[test]
    fn preview_totals_match_single_assessments(
        loans in proptest::collection::vec((0i64..20, 0i64..400, 0usize..3), 0..40),
        policy in policy(),
        periods in proptest::collection::vec(period(), 0..4),
        candidate in period(),
        as_of in 0i64..500,
    ) {
        let libs = libraries();
        let mut loans = loans;
        loans.sort_by_key(|l| l.0);
        let as_of = day(as_of);
        let got = preview_impact(
            loans.iter().map(|&(patron, due, lib)| OpenLoan {
                patron: PatronId(patron),
                due_on: day(due),
                library: &libs[lib],
                policy: &policy,
                calendar: &AlwaysOpen,
            }),
            &periods,
            &candidate,
            as_of,
        );
        let mut with_candidate = periods.clone();
        with_candidate.push(candidate.clone());
        let (mut total, mut without, mut charged, mut patrons) = (Money::ZERO, Money::ZERO, 0u64, std::collections::BTreeSet::new());
        for &(patron, due, lib) in &loans {
            let with = assess_fine(day(due), as_of, &libs[lib], &policy, &with_candidate, &AlwaysOpen).fine;
            without += assess_fine(day(due), as_of, &libs[lib], &policy, &periods, &AlwaysOpen).fine;
            if with.is_positive() {
                charged += 1;
                total += with;
                patrons.insert(patron);
            }
        }
        prop_assert_eq!(got.loans, charged);
        prop_assert_eq!(got.patrons, patrons.len() as u64);
        prop_assert_eq!(got.total, total);
        prop_assert_eq!(got.waived, without - total);
        prop_assert!(got.waived >= Money::ZERO);
    }
}
