use library_core::{LoanId, Money};
use time::macros::{date, datetime};

use super::*;
use crate::renewal::RenewalRefusal;

fn renew(w: &World, loan: LoanId, patron: Option<PatronId>) -> Result<RenewOutcome, RenewError> {
    pollster::block_on(w.svc.renew(RenewRequest {
        loan,
        patron,
        channel: CirculationChannel::Online,
    }))
}

fn refusal(r: Result<RenewOutcome, RenewError>) -> RenewalRefusal {
    match r {
        Err(RenewError::Refused(reason)) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn five_renewals_each_from_the_renewal_date_then_too_many() {
    let w = World::new();
    let me = w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    let lent = w.checkout("21000000000001", "B1").unwrap();
    assert_eq!(lent.renewals_left, 5);
    assert_eq!(
        (lent.item.barcode.as_str(), lent.title.name.as_str()),
        ("B1", "T")
    );
    let loan = lent.loan;
    for n in 1..=5u32 {
        w.at(datetime!(2021-03-05 10:00 +08:00) + time::Duration::days(i64::from(n)));
        let out = renew(&w, loan.id, Some(me)).unwrap();
        assert_eq!(out.loan.renewals, n);
        assert_eq!(out.renewals_left, 5 - n);
        assert_eq!(out.title.name, "T");
        assert_eq!(
            out.loan.due.on,
            date!(2021 - 03 - 19) + time::Duration::days(i64::from(n))
        );
        assert_eq!(out.fine_charged, Money::ZERO);
    }
    assert_eq!(
        refusal(renew(&w, loan.id, Some(me))),
        RenewalRefusal::TooManyRenewals
    );
}

#[test]
fn another_readers_loan_is_not_found_and_staff_may_renew_it() {
    let w = World::new();
    w.patron("21000000000001");
    let other = w.patron("21000000000002");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    let loan = w.checkout("21000000000001", "B1").unwrap().loan;
    assert!(matches!(
        renew(&w, loan.id, Some(other)),
        Err(RenewError::LoanNotFound)
    ));
    assert!(matches!(
        renew(&w, LoanId(999), None),
        Err(RenewError::LoanNotFound)
    ));
    assert!(renew(&w, loan.id, None).is_ok());
    let returned = w.checkin("B1").unwrap();
    assert_eq!(
        returned.borrower.as_ref().map(|c| c.as_str()),
        Some("21000000000001")
    );
    assert_eq!(
        (returned.item.barcode.as_str(), returned.title.name.as_str()),
        ("B1", "T")
    );
    assert!(matches!(
        renew(&w, loan.id, None),
        Err(RenewError::LoanNotFound)
    ));
}

#[test]
fn reserved_by_another_beats_suspension_and_fines() {
    let w = World::new();
    let me = w.patron("21000000000001");
    let other = w.patron("21000000000002");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    let loan = w.checkout("21000000000001", "B1").unwrap().loan;
    w.place_hold(other, t).unwrap();
    let mut p = w.store.patron(me).unwrap();
    p.suspended_until = Some(date!(2021 - 04 - 01));
    w.store.put_patron(p.clone());
    assert_eq!(
        refusal(renew(&w, loan.id, Some(me))),
        RenewalRefusal::OnHoldForAnother
    );
    // Without the hold the suspension shows; then the expired card.
    let hold = w.store.holds()[0].id;
    pollster::block_on(w.svc.cancel_hold(CancelHoldRequest {
        hold,
        patron: Some(other),
        reason: None,
    }))
    .unwrap();
    assert_eq!(
        refusal(renew(&w, loan.id, Some(me))),
        RenewalRefusal::PatronSuspended
    );
    p.suspended_until = None;
    p.card_expires_on = date!(2021 - 03 - 01);
    w.store.put_patron(p);
    assert_eq!(
        refusal(renew(&w, loan.id, Some(me))),
        RenewalRefusal::CardExpired
    );
}

#[test]
fn an_overdue_renewal_charges_the_fine_so_far_and_starts_clean() {
    let w = World::new();
    let me = w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    let loan = w.checkout("21000000000001", "B1").unwrap().loan;
    // Due 19 March; renewed 23 March: 4 days × HK$1.50 fixed as a charge.
    w.at(datetime!(2021-03-23 09:00 +08:00));
    let out = renew(&w, loan.id, Some(me)).unwrap();
    assert_eq!(out.fine_charged, Money::from_cents(600));
    assert_eq!(out.loan.due.on, date!(2021 - 04 - 06));
    assert_eq!(w.store.ledger(me).outstanding(), Money::from_cents(600));
    // Returned on the new due date: nothing more.
    w.at(datetime!(2021-04-06 20:00 +08:00));
    let back = w.checkin("B1").unwrap();
    assert_eq!(back.fine, Money::ZERO);
    assert_eq!(w.store.ledger(me).outstanding(), Money::from_cents(600));
}

#[test]
fn renew_all_reports_each_loan() {
    let w = World::new();
    let me = w.patron("21000000000001");
    let other = w.patron("21000000000002");
    let a = w.title("A");
    let b = w.title("B");
    w.item("B1", a, "adult_book");
    w.item("B2", b, "adult_book");
    let l1 = w.checkout("21000000000001", "B1").unwrap().loan;
    let l2 = w.checkout("21000000000001", "B2").unwrap().loan;
    w.place_hold(other, b).unwrap();
    let out = pollster::block_on(w.svc.renew_all(RenewAllRequest {
        patron: me,
        channel: CirculationChannel::Pin,
    }))
    .unwrap();
    assert_eq!(out.results.len(), 2);
    assert_eq!(out.results[0].0, l1.id);
    assert!(out.results[0].1.is_ok());
    assert_eq!(out.results[1].0, l2.id);
    assert_eq!(
        out.results[1].1.as_ref().err(),
        Some(&RenewalRefusal::OnHoldForAnother)
    );
    assert!(matches!(
        pollster::block_on(w.svc.renew_all(RenewAllRequest {
            patron: PatronId(999),
            channel: CirculationChannel::Pin,
        })),
        Err(RenewAllError::PatronNotFound)
    ));
}
