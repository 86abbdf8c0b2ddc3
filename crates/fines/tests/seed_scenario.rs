//! The library's 2021 rule (docs/policy.md, Fine-suspension periods): fines resume on
//! 5 March 2021 for items borrowed before reopening and not returned or renewed before
//! then, except items from mobile libraries, whose open-ended suspension was later given
//! the resume date 3 May 2021.

use library_core::{LibraryCode, LibraryKind, LoanId, Money, PatronId};
use library_fines::{
    AlwaysOpen, ChargeId, FineAssessment, FinePolicy, FineSuspensionPeriod, LendingLibrary,
    NewCharge, PatronLedger, SuspensionPolicy, SuspensionScope, assess_fine, late_days,
    suspension_after_return,
};
use time::Date;
use time::macros::date;

const DUE: Date = date!(2020 - 12 - 04);

fn library(code: &str, kind: LibraryKind) -> LendingLibrary {
    LendingLibrary::new(LibraryCode::parse(code).unwrap(), kind)
}

fn seed_periods(mobile_resumes_on: Option<Date>) -> Vec<FineSuspensionPeriod> {
    vec![
        FineSuspensionPeriod::new(
            date!(2020 - 12 - 02),
            Some(date!(2021 - 03 - 05)),
            SuspensionScope::all_libraries(),
            "closure: fines resume 5 March 2021",
        )
        .unwrap(),
        FineSuspensionPeriod::new(
            date!(2020 - 12 - 02),
            mobile_resumes_on,
            SuspensionScope::kinds([LibraryKind::Mobile]),
            "mobile libraries: until further notice",
        )
        .unwrap(),
    ]
}

fn adult() -> FinePolicy {
    FinePolicy::per_day(Money::from_cents(150))
}

fn assessed(days: u32, chargeable: u32, cents: i64) -> FineAssessment {
    FineAssessment {
        overdue_days: days,
        chargeable_days: chargeable,
        fine: Money::from_cents(cents),
    }
}

#[test]
fn district_library_items() {
    let district = library("TMPL", LibraryKind::District);
    let periods = seed_periods(None);
    let cases = [
        // (returned or renewed on, expected)
        (date!(2020 - 12 - 04), assessed(0, 0, 0)),
        (date!(2021 - 03 - 03), assessed(89, 0, 0)), // renewed before the resume date
        (date!(2021 - 03 - 04), assessed(90, 0, 0)),
        (date!(2021 - 03 - 05), assessed(91, 1, 150)),
        (date!(2021 - 03 - 10), assessed(96, 6, 900)),
    ];
    for (until, want) in cases {
        let got = assess_fine(DUE, until, &district, &adult(), &periods, &AlwaysOpen);
        assert_eq!(got, want, "returned {until}");
    }
}

#[test]
fn mobile_library_items() {
    let mobile = library("MOB1", LibraryKind::Mobile);
    let mut periods = seed_periods(None);
    let open_ended = [
        (date!(2021 - 03 - 10), 0),
        (date!(2021 - 05 - 05), 0),
        (date!(2022 - 01 - 01), 0),
    ];
    for (until, want) in open_ended {
        let got = assess_fine(DUE, until, &mobile, &adult(), &periods, &AlwaysOpen);
        assert_eq!(got.fine, Money::from_cents(want), "returned {until}");
    }
    // The administrator later gives the mobile libraries' period its resume date.
    periods[1].resume_on(date!(2021 - 05 - 03)).unwrap();
    let resumed = [
        (date!(2021 - 03 - 10), assessed(96, 0, 0)),
        (date!(2021 - 05 - 02), assessed(149, 0, 0)),
        (date!(2021 - 05 - 03), assessed(150, 1, 150)),
        (date!(2021 - 05 - 05), assessed(152, 3, 450)),
    ];
    for (until, want) in resumed {
        let got = assess_fine(DUE, until, &mobile, &adult(), &periods, &AlwaysOpen);
        assert_eq!(got, want, "returned {until}");
    }
}

#[test]
fn childrens_rate() {
    let district = library("TMPL", LibraryKind::District);
    let children = FinePolicy::per_day(Money::from_cents(50));
    let got = assess_fine(
        DUE,
        date!(2021 - 03 - 10),
        &district,
        &children,
        &seed_periods(None),
        &AlwaysOpen,
    );
    assert_eq!(got, assessed(96, 6, 300));
}

#[test]
fn a_period_scoped_to_one_library_code_does_not_touch_another() {
    let shatin = library("STPL", LibraryKind::Major);
    let tuen_mun = library("TMPL", LibraryKind::Major);
    let periods = [FineSuspensionPeriod::new(
        date!(2021 - 03 - 01),
        Some(date!(2021 - 03 - 08)),
        SuspensionScope::codes([shatin.code.clone()]),
        "renovation",
    )
    .unwrap()];
    let due = date!(2021 - 02 - 26);
    let until = date!(2021 - 03 - 10);
    let cases = [(&shatin, 12 - 7, 750), (&tuen_mun, 12, 1800)];
    for (library, chargeable, cents) in cases {
        let got = assess_fine(due, until, library, &adult(), &periods, &AlwaysOpen);
        assert_eq!(got, assessed(12, chargeable, cents), "{}", library.code);
    }
}

#[test]
fn renewal_fixes_the_accrued_fine_and_accrual_restarts_from_the_new_due_date() {
    let district = library("TMPL", LibraryKind::District);
    let periods = seed_periods(Some(date!(2021 - 05 - 03)));
    let mut ledger = PatronLedger::new(PatronId(1));

    // Accruing on the open loan, as the reader sees it on 03-08: 4 days.
    let accrued = assess_fine(
        DUE,
        date!(2021 - 03 - 08),
        &district,
        &adult(),
        &periods,
        &AlwaysOpen,
    );
    assert_eq!(accrued.fine, Money::from_cents(600));

    // Renewed on 03-10: 6 days fixed as a charge; new due date 03-24.
    let renewed_on = date!(2021 - 03 - 10);
    let at_renewal = assess_fine(DUE, renewed_on, &district, &adult(), &periods, &AlwaysOpen);
    let charge = NewCharge::overdue_fine(LoanId(11), &at_renewal, renewed_on).unwrap();
    ledger.add_charge(ChargeId(1), charge).unwrap();

    // Returned on 03-26: 2 more days.
    let new_due = date!(2021 - 03 - 24);
    let returned_on = date!(2021 - 03 - 26);
    let at_return = assess_fine(
        new_due,
        returned_on,
        &district,
        &adult(),
        &periods,
        &AlwaysOpen,
    );
    assert_eq!(at_return, assessed(2, 2, 300));
    let charge = NewCharge::overdue_fine(LoanId(11), &at_return, returned_on).unwrap();
    ledger.add_charge(ChargeId(2), charge).unwrap();
    assert_eq!(ledger.outstanding(), Money::from_cents(1200));

    // A renewal before the resume date fixes nothing.
    let early = assess_fine(
        DUE,
        date!(2021 - 03 - 03),
        &district,
        &adult(),
        &periods,
        &AlwaysOpen,
    );
    assert_eq!(
        NewCharge::overdue_fine(LoanId(12), &early, date!(2021 - 03 - 03)),
        None
    );
}

#[test]
fn reader_suspension_counts_only_charged_days() {
    let district = library("TMPL", LibraryKind::District);
    let periods = seed_periods(None);
    let policy = SuspensionPolicy {
        days_per_overdue_day: 2,
        max_days: None,
        grace_days: 0,
        cumulative: false,
    };
    let returned_on = date!(2021 - 03 - 10);
    let late = late_days(DUE, returned_on, &district, &adult(), &periods, &AlwaysOpen);
    assert_eq!(late, 6);
    assert_eq!(
        suspension_after_return(late, returned_on, None, &policy),
        Some(date!(2021 - 03 - 22))
    );
}
