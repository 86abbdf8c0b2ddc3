use library_core::Money;
use library_fines::NewCharge;
use time::macros::{date, datetime};

use super::*;
use crate::checkout::CheckoutRefusal::{self, *};

fn refusal(r: Result<CheckoutOutcome, CheckoutError>) -> CheckoutRefusal {
    match r {
        Err(CheckoutError::Refused(reason)) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_seed_hkpl_profile_end_to_end() {
    // Checkout on 5 March 2021 → due 19 March 23:59:59 HKT → returned 25 March → 6 days
    // at HK$1.50 = HK$9.00 (adult collection); a children's book costs HK$0.50/day.
    let w = World::new();
    let reader = w.patron("21000000000001");
    let novel = w.title("A Novel");
    w.item("B1", novel, "adult_book");
    let picture = w.title("A Picture Book");
    w.item("C1", picture, "children_book");

    let out = w.checkout("21000000000001", "B1").unwrap();
    assert_eq!(out.loan.due.on, date!(2021 - 03 - 19));
    assert_eq!(out.loan.due.at, datetime!(2021-03-19 23:59:59 +08:00));
    assert_eq!(out.loan.library, code("HKCL"));
    w.checkout("21000000000001", "C1").unwrap();

    w.at(datetime!(2021-03-25 12:00 +08:00));
    let back = w.checkin_at("B1", "KLN").unwrap();
    assert_eq!((back.overdue_days, back.chargeable_days), (6, 6));
    assert_eq!(back.fine, Money::from_cents(900));
    assert_eq!(back.suspended_until, None);
    assert_eq!(back.hold, None);
    assert_eq!(back.loan.unwrap().returned_to, Some(code("KLN")));
    let back = w.checkin_at("C1", "KLN").unwrap();
    assert_eq!(back.fine, Money::from_cents(300));
    assert_eq!(
        w.store.ledger(reader).outstanding(),
        Money::from_cents(1_200)
    );
    // Returned at KLN, away from its home HKCL, with no hold: it goes home.
    let copy = w.store.item(back.item.id).unwrap();
    assert_eq!(copy.status, ItemStatus::InTransit);
    assert_eq!(copy.transit_to, Some(code("HKCL")));
    assert_eq!(copy.current_library, code("KLN"));
}

#[test]
fn unknown_reader_item_or_library_are_not_found_before_refusals() {
    let w = World::new();
    w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    assert!(matches!(
        w.checkout("29999999999999", "NOPE"),
        Err(CheckoutError::PatronNotFound)
    ));
    assert!(matches!(
        w.checkout("21000000000001", "NOPE"),
        Err(CheckoutError::ItemNotFound)
    ));
    assert!(matches!(
        w.checkout_at("21000000000001", "B1", "NOWHERE"),
        Err(CheckoutError::LibraryNotFound(_))
    ));
}

#[test]
fn quota_is_ten_and_an_item_on_loan_is_not_available() {
    let w = World::new();
    w.patron("21000000000001");
    w.patron("21000000000002");
    let t = w.title("T");
    for n in 0..11 {
        w.item(&format!("B{n}"), t, "adult_book");
    }
    for n in 0..10 {
        w.checkout("21000000000001", &format!("B{n}")).unwrap();
    }
    assert_eq!(refusal(w.checkout("21000000000001", "B10")), QuotaReached);
    assert_eq!(
        refusal(w.checkout("21000000000002", "B0")),
        ItemNotAvailable
    );
    // Over quota and the item is out: quota is checked first.
    assert_eq!(refusal(w.checkout("21000000000001", "B0")), QuotaReached);
}

#[test]
fn with_no_rule_anywhere_a_checkout_is_no_policy_not_a_quota() {
    // B1 is lent under the hkpl profile on 5 March 2021 (due 19 March); then every rule
    // is removed.
    let w = World::new();
    let me = w.patron("21000000000001");
    let other = w.patron("21000000000002");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.item("B2", t, "adult_book");
    let u = w.title("U");
    w.item("C1", u, "children_book");
    let lent = w.checkout("21000000000001", "B1").unwrap();
    assert_eq!(lent.loan.due.on, date!(2021 - 03 - 19));
    w.store.set_rules(Vec::new());
    w.at(datetime!(2021-03-08 10:00 +08:00));

    // A reader with one loan and a reader with none: neither has reached a quota.
    assert_eq!(refusal(w.checkout("21000000000001", "B2")), NoPolicy);
    assert_eq!(refusal(w.checkout("21000000000002", "C1")), NoPolicy);
    // The reader-level refusals still come first.
    let mut p = w.store.patron(other).unwrap();
    p.card_expires_on = date!(2021 - 03 - 07);
    w.store.put_patron(p);
    assert_eq!(refusal(w.checkout("21000000000002", "C1")), CardExpired);

    // Renewals and holds keep the contract's reasons: no rule allows a renewal or a hold
    // (docs/circulation.md, "No policy").
    let renewed = pollster::block_on(w.svc.renew(RenewRequest {
        loan: lent.loan.id,
        patron: Some(me),
        channel: CirculationChannel::Online,
    }));
    assert!(matches!(
        renewed,
        Err(RenewError::Refused(
            crate::renewal::RenewalRefusal::TooManyRenewals
        ))
    ));
    assert!(matches!(
        w.place_hold(me, u),
        Err(PlaceHoldError::Refused(
            crate::hold_request::HoldRefusal::QuotaReached
        ))
    ));

    // A return still works; with no fine rule nothing is charged for the 6 late days.
    w.at(datetime!(2021-03-25 12:00 +08:00));
    let back = w.checkin("B1").unwrap();
    assert_eq!((back.overdue_days, back.fine), (6, Money::ZERO));

    // Rules set again at the global scope only: the item-type-less quota applies.
    w.store.set_rules(vec![crate::rules::ScopedRules {
        scope: crate::rules::RuleScope::any(),
        rules: crate::rules::RuleSet {
            quota: Some(1),
            ..crate::rules::RuleSet::default()
        },
    }]);
    w.checkout("21000000000001", "B2").unwrap();
    assert_eq!(refusal(w.checkout("21000000000001", "B1")), QuotaReached);
}

#[test]
fn card_expiry_and_suspension_win_in_order() {
    let w = World::new();
    let id = w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    let mut p = w.store.patron(id).unwrap();
    p.card_expires_on = date!(2021 - 03 - 04);
    p.suspended_until = Some(date!(2021 - 04 - 01));
    w.store.put_patron(p.clone());
    assert_eq!(refusal(w.checkout("21000000000001", "B1")), CardExpired);
    p.card_expires_on = date!(2021 - 03 - 05);
    w.store.put_patron(p.clone());
    assert_eq!(refusal(w.checkout("21000000000001", "B1")), PatronSuspended);
    // The suspension's date is the first day the reader may borrow again.
    w.at(datetime!(2021-04-01 09:00 +08:00));
    p.card_expires_on = date!(2030 - 01 - 01);
    w.store.put_patron(p);
    assert!(w.checkout("21000000000001", "B1").is_ok());
}

#[test]
fn unpaid_charges_and_accruing_fines_count_towards_the_ceiling() {
    let w = World::new();
    let id = w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.item("B2", t, "adult_book");
    w.item("B3", t, "adult_book");
    w.store
        .with_ledger(id, |l| {
            l.add_charge(
                library_fines::ChargeId(900),
                NewCharge::other(
                    "replacement card",
                    Money::from_cents(9_999),
                    date!(2021 - 03 - 01),
                ),
            )
            .map(|_| ())
        })
        .unwrap();
    // HK$99.99 owed: still below the HK$100 ceiling.
    w.checkout("21000000000001", "B1").unwrap();
    // One day overdue accrues HK$1.50 more: now at or over the ceiling.
    w.at(datetime!(2021-03-20 10:00 +08:00));
    assert_eq!(refusal(w.checkout("21000000000001", "B2")), FinesOverLimit);
    // Paying reopens borrowing.
    w.store
        .with_ledger(id, |l| {
            l.pay(Money::from_cents(9_999), date!(2021 - 03 - 20))
                .map(|_| ())
        })
        .unwrap();
    assert!(w.checkout("21000000000001", "B2").is_ok());
    // Item out and fines over: fines win.
    w.store
        .with_ledger(id, |l| {
            l.add_charge(
                library_fines::ChargeId(901),
                NewCharge::other("x", Money::from_cents(20_000), date!(2021 - 03 - 20)),
            )
            .map(|_| ())
        })
        .unwrap();
    assert_eq!(refusal(w.checkout("21000000000001", "B1")), FinesOverLimit);
}

#[test]
fn a_due_date_on_a_closed_day_runs_to_the_next_open_day() {
    let w = World::new();
    w.store.put_library(Library {
        code: code("HKCL"),
        kind: LibraryKind::Central,
        calendar: Calendar::default().with_closure(
            crate::calendar::Closure::new(date!(2021 - 03 - 19), date!(2021 - 03 - 21)).unwrap(),
        ),
    });
    w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    let out = w.checkout("21000000000001", "B1").unwrap();
    assert_eq!(out.loan.due.at, datetime!(2021-03-22 23:59:59 +08:00));
}

#[test]
fn two_concurrent_checkouts_of_one_item_never_both_succeed() {
    for _ in 0..20 {
        let w = Arc::new(World::new());
        w.patron("21000000000001");
        w.patron("21000000000002");
        let t = w.title("T");
        w.item("B1", t, "adult_book");
        let handles: Vec<_> = ["21000000000001", "21000000000002"]
            .into_iter()
            .map(|c| {
                let w = Arc::clone(&w);
                std::thread::spawn(move || w.checkout(c, "B1").is_ok())
            })
            .collect();
        let wins = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&ok| ok)
            .count();
        assert_eq!(wins, 1);
        assert_eq!(w.store.loans().len(), 1);
    }
}
