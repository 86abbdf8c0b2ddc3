use library_core::Money;
use library_fines::ChargeKind;
use time::macros::{date, datetime};

use super::*;
use crate::checkout::CheckoutRefusal;
use crate::hold_request::HoldRefusal;

fn hold_refusal(r: Result<Hold, PlaceHoldError>) -> HoldRefusal {
    match r {
        Err(PlaceHoldError::Refused(reason)) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn expire(w: &World) -> ExpiryReport {
    pollster::block_on(w.svc.expire_waiting_holds()).unwrap()
}

#[test]
fn placing_holds_queues_fifo_and_refuses_in_order() {
    let w = World::new();
    let a = w.patron("21000000000001");
    let b = w.patron("21000000000002");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.checkout("21000000000001", "B1").unwrap();
    assert_eq!(hold_refusal(w.place_hold(a, t)), HoldRefusal::AlreadyOnLoan);
    let hb = w.place_hold(b, t).unwrap();
    assert_eq!((hb.status(), hb.position()), (HoldStatus::Queued, Some(1)));
    assert_eq!(hold_refusal(w.place_hold(b, t)), HoldRefusal::AlreadyOnHold);
    // Quota of 10 holds.
    for n in 0..9 {
        let other = w.title(&format!("T{n}"));
        w.place_hold(b, other).unwrap();
    }
    let eleventh = w.title("T11");
    assert_eq!(
        hold_refusal(w.place_hold(b, eleventh)),
        HoldRefusal::QuotaReached
    );
    // Unknown things are not found.
    assert!(matches!(
        w.place_hold(PatronId(999), t),
        Err(PlaceHoldError::PatronNotFound)
    ));
    assert!(matches!(
        w.place_hold(a, TitleId(999)),
        Err(PlaceHoldError::TitleNotFound)
    ));
    let err = pollster::block_on(w.svc.place_hold(PlaceHoldRequest {
        patron: a,
        title: t,
        pickup_library: code("NOWHERE"),
        not_needed_after: None,
    }));
    assert!(matches!(err, Err(PlaceHoldError::LibraryNotFound(_))));
}

#[test]
fn cancel_renumbers_the_queue() {
    let w = World::new();
    let readers: Vec<_> = (1..=4)
        .map(|n| w.patron(&format!("2100000000000{n}")))
        .collect();
    let t = w.title("T");
    let holds: Vec<_> = readers
        .iter()
        .map(|&r| w.place_hold(r, t).unwrap())
        .collect();
    let positions = |w: &World| holds.iter().map(|h| w.position(h.id)).collect::<Vec<_>>();
    assert_eq!(positions(&w), [Some(1), Some(2), Some(3), Some(4)]);
    let cancelled = pollster::block_on(w.svc.cancel_hold(CancelHoldRequest {
        hold: holds[1].id,
        patron: Some(readers[1]),
        reason: None,
    }))
    .unwrap();
    assert_eq!(cancelled.status(), HoldStatus::Cancelled);
    assert_eq!(positions(&w), [Some(1), None, Some(2), Some(3)]);
    // Another reader's hold is not found; an ended hold cannot be cancelled again.
    let not_mine = pollster::block_on(w.svc.cancel_hold(CancelHoldRequest {
        hold: holds[0].id,
        patron: Some(readers[2]),
        reason: None,
    }));
    assert!(matches!(not_mine, Err(CancelHoldError::HoldNotFound)));
    let again = pollster::block_on(w.svc.cancel_hold(CancelHoldRequest {
        hold: holds[1].id,
        patron: None,
        reason: None,
    }));
    assert!(matches!(again, Err(CancelHoldError::NotActive)));
}

#[test]
fn collection_is_the_holders_checkout_and_charges_the_fee() {
    let w = World::new();
    w.patron("21000000000001");
    let holder = w.patron("21000000000002");
    w.patron("21000000000003");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.checkout("21000000000001", "B1").unwrap();
    let hold = w.place_hold(holder, t).unwrap();
    w.checkin("B1").unwrap();
    // Anyone else is refused the copy on the shelf.
    assert!(matches!(
        w.checkout("21000000000003", "B1"),
        Err(CheckoutError::Refused(CheckoutRefusal::OnHoldForAnother))
    ));
    let out = w.checkout("21000000000002", "B1").unwrap();
    assert_eq!(out.collected_hold, Some(hold.id));
    assert_eq!(out.hold_fee, Money::from_cents(330));
    assert_eq!(
        w.store.hold(hold.id).unwrap().status(),
        HoldStatus::Collected
    );
    let ledger = w.store.ledger(holder);
    assert_eq!(ledger.outstanding(), Money::from_cents(330));
    assert!(matches!(
        ledger.charges()[0].kind,
        ChargeKind::HoldFee { .. }
    ));
}

#[test]
fn collect_hold_service_checks_out_the_waiting_copy() {
    let w = World::new();
    w.patron("21000000000001");
    let holder = w.patron("21000000000002");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.checkout("21000000000001", "B1").unwrap();
    let hold = w.place_hold(holder, t).unwrap();
    let early = pollster::block_on(w.svc.collect_hold(CollectHoldRequest {
        hold: hold.id,
        library: code("HKCL"),
    }));
    assert!(matches!(early, Err(CollectHoldError::NotWaiting)));
    w.checkin("B1").unwrap();
    let out = pollster::block_on(w.svc.collect_hold(CollectHoldRequest {
        hold: hold.id,
        library: code("HKCL"),
    }))
    .unwrap();
    assert_eq!(out.loan.patron, holder);
    assert_eq!(out.collected_hold, Some(hold.id));
}

#[test]
fn k23_expiry_moves_the_next_reader_up() {
    // Pickup library closed on T+2 and T+4: 7 open days after T end on T+9.
    let w = World::new();
    w.store.put_library(Library {
        code: code("HKCL"),
        kind: LibraryKind::Central,
        calendar: Calendar::default()
            .with_closure(
                crate::calendar::Closure::new(date!(2021 - 03 - 12), date!(2021 - 03 - 12))
                    .unwrap(),
            )
            .with_closure(
                crate::calendar::Closure::new(date!(2021 - 03 - 14), date!(2021 - 03 - 14))
                    .unwrap(),
            ),
    });
    w.patron("21000000000001");
    let first = w.patron("21000000000002");
    let second = w.patron("21000000000003");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.checkout_at("21000000000001", "B1", "KLN").unwrap();
    let h1 = w.place_hold(first, t).unwrap();
    let h2 = w.place_hold(second, t).unwrap();
    w.at(datetime!(2021-03-10 11:00 +08:00));
    let trapped = w.checkin("B1").unwrap().hold.unwrap();
    assert_eq!(trapped.pickup_by(), Some(date!(2021 - 03 - 19)));
    // The last day to collect: nothing expires.
    w.at(datetime!(2021-03-19 23:00 +08:00));
    assert_eq!(expire(&w), ExpiryReport::default());
    // The day after: expired, the copy goes to the next reader.
    w.at(datetime!(2021-03-20 00:30 +08:00));
    let report = expire(&w);
    assert_eq!(report.expired, vec![h1.id]);
    assert_eq!(report.trapped.len(), 1);
    assert_eq!(report.trapped[0].id, h2.id);
    assert_eq!(w.store.hold(h1.id).unwrap().status(), HoldStatus::Expired);
    assert_eq!(w.store.hold(h2.id).unwrap().status(), HoldStatus::Waiting);
    // No one left: when the second expires too, the copy goes back on the shelf.
    w.at(datetime!(2021-04-30 10:00 +08:00));
    let report = expire(&w);
    assert_eq!(report.expired, vec![h2.id]);
    assert!(report.trapped.is_empty());
    let item = w.store.loans()[0].item;
    assert_eq!(w.store.item(item).unwrap().status, ItemStatus::Available);
    // Each reader was told once, when the copy was put on the shelf for them (the second
    // on the expiry day 20 March, a Saturday: 7 open days end on Saturday 27 March).
    let told: Vec<_> = w
        .store
        .notices()
        .into_iter()
        .filter_map(|n| match n {
            crate::ports::CirculationNotice::HoldWaiting {
                patron,
                hold,
                item: copy,
                pickup_library,
                pickup_by,
                ..
            } => {
                assert_eq!((copy, pickup_library), (item, code("HKCL")));
                Some((patron, hold, pickup_by))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        told,
        vec![
            (first, h1.id, date!(2021 - 03 - 19)),
            (second, h2.id, date!(2021 - 03 - 27)),
        ]
    );
    // And each was told when their hold ended uncollected, naming its last day.
    let expired: Vec<_> = w
        .store
        .notices()
        .into_iter()
        .filter_map(|n| match n {
            crate::ports::CirculationNotice::HoldExpired {
                patron,
                hold,
                pickup_by,
                pickup_library,
                ..
            } => {
                assert_eq!(pickup_library, code("HKCL"));
                Some((patron, hold, pickup_by))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        expired,
        vec![
            (first, h1.id, date!(2021 - 03 - 19)),
            (second, h2.id, date!(2021 - 03 - 27)),
        ]
    );
}

#[test]
fn cancelling_a_waiting_hold_passes_the_copy_on() {
    let w = World::new();
    w.patron("21000000000001");
    let first = w.patron("21000000000002");
    let second = w.patron("21000000000003");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.checkout("21000000000001", "B1").unwrap();
    let h1 = w.place_hold(first, t).unwrap();
    let h2 = w.place_hold(second, t).unwrap();
    w.checkin("B1").unwrap();
    pollster::block_on(w.svc.cancel_hold(CancelHoldRequest {
        hold: h1.id,
        patron: Some(first),
        reason: None,
    }))
    .unwrap();
    assert_eq!(w.store.hold(h2.id).unwrap().status(), HoldStatus::Waiting);
    assert!(w.checkout("21000000000003", "B1").is_ok());
}

#[test]
fn borrowing_a_copy_from_the_shelf_fills_ones_own_queued_hold() {
    let w = World::new();
    w.patron("21000000000001");
    let reader = w.patron("21000000000002");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.item("B2", t, "adult_book");
    w.checkout("21000000000001", "B1").unwrap();
    let hold = w.place_hold(reader, t).unwrap();
    let out = w.checkout("21000000000002", "B2").unwrap();
    assert_eq!(out.collected_hold, Some(hold.id));
    assert_eq!(out.hold_fee, Money::ZERO);
    assert_eq!(
        w.store.hold(hold.id).unwrap().status(),
        HoldStatus::Collected
    );
    // The first copy's return is not trapped for a reader who has the title.
    assert_eq!(w.checkin("B1").unwrap().hold, None);
}
