//! Changes made `_as` an actor carry their audit entry in their own unit of work: one entry
//! per committed change, none for a refusal, none for the plain methods.

use library_core::{Money, StaffId};
use time::macros::datetime;

use super::*;
use crate::ports::{Actor, CirculationEvent, CirculationRecord};

fn staff() -> Actor {
    Actor::Staff(StaffId(7))
}

fn checkout_as(w: &World, bc: &str, by: &Actor) -> Result<CheckoutOutcome, CheckoutError> {
    pollster::block_on(w.svc.checkout_as(
        CheckoutRequest {
            card_number: card("21000000000001"),
            item_barcode: barcode(bc),
            library: code("HKCL"),
        },
        Some(by),
    ))
}

fn checkin_as(
    w: &World,
    bc: &str,
    returned_at: Option<OffsetDateTime>,
    by: &Actor,
) -> Result<CheckinOutcome, CheckinError> {
    pollster::block_on(w.svc.checkin_as(
        CheckinRequest {
            item_barcode: barcode(bc),
            library: code("KLN"),
            returned_at,
        },
        Some(by),
    ))
}

#[test]
fn a_checkout_and_its_return_are_recorded_with_who_when_and_what() {
    // Lent 5 March 2021 10:00 HKT, due 19 March; returned 25 March: 6 days at HK$1.50.
    let w = World::new();
    w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    let lent = checkout_as(&w, "B1", &staff()).unwrap();
    assert_eq!(
        w.store.records(),
        vec![CirculationRecord {
            by: staff(),
            event: CirculationEvent::Checkout {
                loan: lent.loan.id,
                card_number: card("21000000000001"),
                item_barcode: barcode("B1"),
                library: code("HKCL"),
                collected_hold: None,
                overridden: None,
            },
            at: datetime!(2021-03-05 10:00 +08:00),
        }]
    );

    w.at(datetime!(2021-03-25 12:00 +08:00));
    let kiosk = Actor::Station("kiosk-1".into());
    let back = checkin_as(&w, "B1", None, &kiosk).unwrap();
    assert_eq!(back.fine, Money::from_cents(900));
    let records = w.store.records();
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[1],
        CirculationRecord {
            by: kiosk,
            event: CirculationEvent::Checkin {
                loan: lent.loan.id,
                item_barcode: barcode("B1"),
                library: code("KLN"),
                fine: Money::from_cents(900),
                book_drop: false,
            },
            at: datetime!(2021-03-25 12:00 +08:00),
        }
    );
}

#[test]
fn a_book_drop_return_is_recorded_as_one() {
    let w = World::new();
    w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    checkout_as(&w, "B1", &staff()).unwrap();
    w.at(datetime!(2021-03-22 09:00 +08:00));
    // Dropped in the box on Saturday 20 March at 18:00, emptied on Monday: one day over.
    let back = checkin_as(&w, "B1", Some(datetime!(2021-03-20 18:00 +08:00)), &staff()).unwrap();
    assert_eq!(back.overdue_days, 1);
    match &w.store.records()[1].event {
        CirculationEvent::Checkin {
            book_drop, fine, ..
        } => {
            assert!(*book_drop);
            assert_eq!(*fine, back.fine);
        }
        other => panic!("expected a checkin, got {other:?}"),
    }
}

#[test]
fn refusals_and_not_found_record_nothing() {
    let w = World::new();
    w.patron("21000000000001");
    w.patron("21000000000002");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.checkout("21000000000002", "B1").unwrap();
    assert!(matches!(
        checkout_as(&w, "B1", &staff()),
        Err(CheckoutError::Refused(_))
    ));
    assert!(matches!(
        checkout_as(&w, "NOPE", &staff()),
        Err(CheckoutError::ItemNotFound)
    ));
    assert!(matches!(
        checkin_as(&w, "NOPE", None, &staff()),
        Err(CheckinError::ItemNotFound)
    ));
    assert_eq!(w.store.records(), vec![]);
}

#[test]
fn the_plain_methods_record_nothing() {
    let w = World::new();
    w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    let loan = w.checkout("21000000000001", "B1").unwrap().loan;
    w.at(datetime!(2021-03-08 10:00 +08:00));
    pollster::block_on(w.svc.renew(RenewRequest {
        loan: loan.id,
        patron: None,
        channel: CirculationChannel::Counter,
    }))
    .unwrap();
    w.checkin("B1").unwrap();
    assert_eq!(w.store.records(), vec![]);
}

#[test]
fn an_overdue_renewal_records_the_fine_it_fixed() {
    // Due 19 March 2021; renewed on 25 March: 6 days at HK$1.50 fixed first.
    let w = World::new();
    w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    let loan = checkout_as(&w, "B1", &staff()).unwrap().loan;
    w.at(datetime!(2021-03-25 12:00 +08:00));
    let renewed = pollster::block_on(w.svc.renew_as(
        RenewRequest {
            loan: loan.id,
            patron: None,
            channel: CirculationChannel::Counter,
        },
        Some(&staff()),
    ))
    .unwrap();
    assert_eq!(renewed.fine_charged, Money::from_cents(900));
    assert_eq!(
        w.store.records()[1],
        CirculationRecord {
            by: staff(),
            event: CirculationEvent::Renewal {
                loan: loan.id,
                fine_charged: Money::from_cents(900),
                overridden: None,
            },
            at: datetime!(2021-03-25 12:00 +08:00),
        }
    );
}

#[test]
fn renew_all_records_each_renewal_and_no_refusal() {
    // Two loans; the second title is reserved by another reader, so only the first renews.
    let w = World::new();
    let me = w.patron("21000000000001");
    let other = w.patron("21000000000002");
    let t1 = w.title("T1");
    w.item("B1", t1, "adult_book");
    let t2 = w.title("T2");
    w.item("B2", t2, "adult_book");
    let first = w.checkout("21000000000001", "B1").unwrap().loan;
    w.checkout("21000000000001", "B2").unwrap();
    w.place_hold(other, t2).unwrap();
    w.at(datetime!(2021-03-08 10:00 +08:00));
    let kiosk = Actor::Station("kiosk-1".into());
    let out = pollster::block_on(w.svc.renew_all_as(
        RenewAllRequest {
            patron: me,
            channel: CirculationChannel::Station,
        },
        Some(&kiosk),
    ))
    .unwrap();
    assert_eq!(out.results.len(), 2);
    assert_eq!(
        w.store.records(),
        vec![CirculationRecord {
            by: kiosk,
            event: CirculationEvent::Renewal {
                loan: first.id,
                fine_charged: Money::ZERO,
                overridden: None,
            },
            at: datetime!(2021-03-08 10:00 +08:00),
        }]
    );
}

#[test]
fn a_hold_placed_and_cancelled_at_the_counter_is_recorded_and_a_reader_s_own_is_not() {
    let w = World::new();
    let reader = w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    let place = || PlaceHoldRequest {
        patron: reader,
        title: t,
        pickup_library: code("HKCL"),
        not_needed_after: None,
    };
    let hold = pollster::block_on(w.svc.place_hold_as(place(), Some(&staff()))).unwrap();
    pollster::block_on(w.svc.cancel_hold_as(
        CancelHoldRequest {
            hold: hold.id,
            patron: Some(reader),
            reason: None,
        },
        Some(&staff()),
    ))
    .unwrap();
    let at = datetime!(2021-03-05 10:00 +08:00);
    assert_eq!(
        w.store.records(),
        vec![
            CirculationRecord {
                by: staff(),
                event: CirculationEvent::HoldPlaced {
                    hold: hold.id,
                    card_number: card("21000000000001"),
                    title: t,
                },
                at,
            },
            CirculationRecord {
                by: staff(),
                event: CirculationEvent::HoldCancelled {
                    hold: hold.id,
                    card_number: card("21000000000001"),
                    reason: None,
                },
                at,
            },
        ]
    );
    // A cancellation refused (the hold ended) and the reader's own hold: nothing more.
    assert!(matches!(
        pollster::block_on(w.svc.cancel_hold_as(
            CancelHoldRequest {
                hold: hold.id,
                patron: None,
                reason: None,
            },
            Some(&staff()),
        )),
        Err(CancelHoldError::NotActive)
    ));
    w.place_hold(reader, t).unwrap();
    assert_eq!(w.store.records().len(), 2);
}
