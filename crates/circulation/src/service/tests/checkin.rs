use library_core::Money;
use library_fines::{FineSuspensionPeriod, SuspensionScope};
use time::Duration;
use time::macros::{date, datetime};

use super::*;
use crate::calendar::Closure;
use crate::checkin::ReturnTimeError;
use crate::rules::{RuleScope, RuleSet, ScopedRules};

fn drop_return(w: &World, bc: &str, at: OffsetDateTime) -> Result<CheckinOutcome, CheckinError> {
    pollster::block_on(w.svc.checkin(CheckinRequest {
        item_barcode: barcode(bc),
        library: code("HKCL"),
        returned_at: Some(at),
    }))
}

#[test]
fn book_drop_returns_are_backdated_but_never_future_or_before_checkout() {
    let w = World::new();
    w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.checkout("21000000000001", "B1").unwrap();
    w.at(datetime!(2021-03-22 09:00 +08:00));
    assert!(matches!(
        drop_return(&w, "B1", datetime!(2021-03-22 09:00:01 +08:00)),
        Err(CheckinError::InvalidReturnTime(ReturnTimeError::InFuture))
    ));
    assert!(matches!(
        drop_return(&w, "B1", datetime!(2021-03-05 09:59 +08:00)),
        Err(CheckinError::InvalidReturnTime(
            ReturnTimeError::BeforeCheckout
        ))
    ));
    // Dropped on the evening of the due date, processed three days later: no fine.
    let back = drop_return(&w, "B1", datetime!(2021-03-19 21:00 +08:00)).unwrap();
    assert_eq!((back.overdue_days, back.fine), (0, Money::ZERO));
    assert!(matches!(w.checkin("B1"), Err(CheckinError::NotOnLoan)));
    assert!(matches!(w.checkin("NOPE"), Err(CheckinError::ItemNotFound)));
}

#[test]
fn fines_use_the_lending_librarys_calendar_and_periods() {
    let w = World::new();
    // The lending library (HKCL) is closed 20–21 March; closed days are not charged.
    w.store.put_library(Library {
        code: code("HKCL"),
        kind: LibraryKind::Central,
        calendar: Calendar::default()
            .with_closure(Closure::new(date!(2021 - 03 - 20), date!(2021 - 03 - 21)).unwrap()),
    });
    let mut rules = hkpl_profile();
    rules.push(ScopedRules {
        scope: RuleScope {
            library: Some(code("HKCL")),
            ..RuleScope::any()
        },
        rules: RuleSet {
            count_closed_days: Some(false),
            ..RuleSet::default()
        },
    });
    w.store.set_rules(rules);
    w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.checkout("21000000000001", "B1").unwrap();
    // Returned at KLN (open every day) on 25 March: 6 overdue days, 2 closed at HKCL.
    w.at(datetime!(2021-03-25 12:00 +08:00));
    let back = w.checkin_at("B1", "KLN").unwrap();
    assert_eq!((back.overdue_days, back.chargeable_days), (6, 4));
    assert_eq!(back.fine, Money::from_cents(600));
}

#[test]
fn the_2021_rule_mobile_libraries_resume_later() {
    // Fines resume on 5 March 2021 for every library; mobile libraries stay suspended
    // until further notice (docs/policy.md, Fine-suspension periods).
    let w = World::new();
    w.store.add_fine_suspension_period(FineSuspensionPeriod {
        starts_on: date!(2020 - 01 - 29),
        resumes_on: Some(date!(2021 - 03 - 05)),
        scope: SuspensionScope::all_libraries(),
        reason: "closure".into(),
    });
    w.store.add_fine_suspension_period(FineSuspensionPeriod {
        starts_on: date!(2020 - 01 - 29),
        resumes_on: None,
        scope: SuspensionScope::kinds([LibraryKind::Mobile]),
        reason: "mobile libraries".into(),
    });
    w.at(datetime!(2021-01-04 10:00 +08:00));
    w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.item("M1", t, "adult_book");
    w.checkout_at("21000000000001", "B1", "HKCL").unwrap();
    w.checkout_at("21000000000001", "M1", "MOB1").unwrap();
    w.at(datetime!(2021-03-06 12:00 +08:00));
    // Due 18 January; 5 and 6 March are charged.
    let fixed = w.checkin("B1").unwrap();
    assert_eq!(
        (fixed.chargeable_days, fixed.fine),
        (2, Money::from_cents(300))
    );
    let mobile = w.checkin("M1").unwrap();
    assert_eq!((mobile.overdue_days, mobile.fine), (47, Money::ZERO));
}

#[test]
fn reader_suspension_when_the_rule_says_so() {
    let w = World::new();
    let mut rules = hkpl_profile();
    rules.push(ScopedRules {
        scope: RuleScope::any(),
        rules: RuleSet {
            suspension_days_per_day: Some(2),
            ..RuleSet::default()
        },
    });
    // Two global scopes: the first stored wins each rule, so put ours first.
    rules.reverse();
    w.store.set_rules(rules);
    let id = w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.checkout("21000000000001", "B1").unwrap();
    w.at(datetime!(2021-03-22 12:00 +08:00));
    let back = w.checkin("B1").unwrap();
    assert_eq!(back.suspended_until, Some(date!(2021 - 03 - 28)));
    assert_eq!(
        w.store.patron(id).unwrap().suspended_until,
        Some(date!(2021 - 03 - 28))
    );
    assert_eq!(back.fine, Money::from_cents(450));
}

#[test]
fn a_return_traps_the_copy_for_the_first_queued_reader() {
    let w = World::new();
    w.patron("21000000000001");
    let second = w.patron("21000000000002");
    let third = w.patron("21000000000003");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.checkout("21000000000001", "B1").unwrap();
    let h2 = w.place_hold(second, t).unwrap();
    let h3 = w.place_hold(third, t).unwrap();
    w.at(datetime!(2021-03-10 16:00 +08:00) + Duration::hours(1));
    let back = w.checkin("B1").unwrap();
    let trapped = back.hold.unwrap();
    assert_eq!(trapped.id, h2.id);
    assert_eq!(trapped.status(), HoldStatus::Waiting);
    // 7 open days of the pickup library after 10 March.
    assert_eq!(trapped.pickup_by(), Some(date!(2021 - 03 - 17)));
    assert_eq!(w.position(h3.id), Some(1));
    assert_eq!(
        w.store
            .item(trapped.waiting_item().unwrap())
            .unwrap()
            .status,
        ItemStatus::OnHoldShelf
    );
}

#[test]
fn a_copy_is_looked_up_with_its_open_loan() {
    let w = World::new();
    let reader = w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.item("B2", t, "adult_book");
    let lent = w.checkout("21000000000001", "B1").unwrap().loan;
    let look = |bc: &str| pollster::block_on(w.svc.copy_with_open_loan(&barcode(bc))).unwrap();
    let (item, loan) = look("B1").unwrap();
    assert_eq!(item.barcode, barcode("B1"));
    assert_eq!(loan.as_ref(), Some(&lent));
    assert_eq!(lent.patron, reader);
    let (item, loan) = look("B2").unwrap();
    assert_eq!((item.barcode, loan), (barcode("B2"), None));
    assert_eq!(look("NOPE"), None);
    // Returned: on the shelf again, no open loan.
    w.checkin("B1").unwrap();
    assert_eq!(look("B1").unwrap().1, None);
}
