//! The circulation services end to end over the database, compared step by step with the
//! in-memory reference adapter: the same scenario must give the same transcript.

use std::sync::Arc;

use library_circulation::ports::{
    CalendarRepository, CirculationChannel, CirculationNotice, CirculationStore,
    FineSuspensionRepository, RuleRepository,
};
use library_circulation::service::{
    CancelHoldRequest, CheckinRequest, CheckoutRequest, CollectHoldRequest, PlaceHoldRequest,
    RenewRequest,
};
use library_circulation::{Circulation, HoldStatus};
use library_core::{Clock, ManualClock, Money};
use library_fines::{FineSuspensionPeriod, SuspensionScope};
use time::Duration;
use time::macros::date;

use crate::circ_support::{
    NOW, Seeded, barcode, card_of, code, db_service, memory_service, seed_db, seed_memory,
};
use crate::support::backends;

/// Checkout, holds, cancel, renewal refused, overdue return with a fine, trap, collection
/// with the hold fee, renewal, return and trap for the next reader, expiry. Each step's
/// outcome is written to the transcript without record ids.
async fn scenario<S, R, L, F>(
    svc: &Circulation<S, R, L, F, Arc<ManualClock>>,
    store: &S,
    clock: &ManualClock,
    s: &Seeded,
) -> Vec<String>
where
    S: CirculationStore,
    R: RuleRepository,
    L: CalendarRepository,
    F: FineSuspensionRepository,
{
    let (a, b, c) = (s.readers[0], s.readers[1], s.readers[2]);
    let mut log = Vec::new();
    let out = svc
        .checkout(CheckoutRequest {
            card_number: card_of(1),
            item_barcode: barcode("B0001"),
            library: code("HKCL"),
        })
        .await
        .unwrap();
    log.push(format!(
        "checkout due {} at {} renewals {}",
        out.loan.due.on, out.loan.due.at, out.loan.renewals
    ));
    let loan_a = out.loan.id;
    let again = svc
        .checkout(CheckoutRequest {
            card_number: card_of(2),
            item_barcode: barcode("B0001"),
            library: code("HKCL"),
        })
        .await;
    log.push(format!("second checkout: {again:?}").replace(&format!("{loan_a}"), "L"));

    let place = |p, at: &str| PlaceHoldRequest {
        patron: p,
        title: s.title,
        pickup_library: code(at),
        not_needed_after: None,
    };
    let hold_b = svc.place_hold(place(b, "HKCL")).await.unwrap();
    let hold_c = svc.place_hold(place(c, "KLN")).await.unwrap();
    log.push(format!(
        "holds at {:?} {:?}",
        hold_b.position(),
        hold_c.position()
    ));
    let dup = svc.place_hold(place(b, "HKCL")).await;
    log.push(format!("duplicate hold: {:?}", dup.map(|h| h.position())));
    let cancelled = svc
        .cancel_hold(CancelHoldRequest {
            hold: hold_b.id,
            patron: Some(b),
            reason: None,
        })
        .await
        .unwrap();
    log.push(format!("cancelled {:?}", cancelled.status()));
    let hold_b = svc.place_hold(place(b, "HKCL")).await.unwrap();
    log.push(format!("re-placed at {:?}", hold_b.position()));

    // Six days overdue (due 19 March).
    clock.set(
        date!(2021 - 03 - 25)
            .with_hms(15, 0, 0)
            .unwrap()
            .assume_offset(NOW.offset()),
    );
    let renew = svc
        .renew(RenewRequest {
            loan: loan_a,
            patron: Some(a),
            channel: CirculationChannel::Online,
        })
        .await;
    log.push(format!(
        "renew with queue: {:?}",
        renew.map(|r| r.loan.renewals)
    ));
    let back = svc
        .checkin(CheckinRequest {
            item_barcode: barcode("B0001"),
            library: code("KLN"),
            returned_at: None,
        })
        .await
        .unwrap();
    let trapped = back.hold.clone().unwrap();
    log.push(format!(
        "checkin overdue {} chargeable {} fine {} trapped for first {} pickup_by {:?}",
        back.overdue_days,
        back.chargeable_days,
        back.fine,
        trapped.patron == c,
        trapped.pickup_by()
    ));
    let collected = svc
        .collect_hold(CollectHoldRequest {
            hold: trapped.id,
            library: code("KLN"),
        })
        .await
        .unwrap();
    log.push(format!(
        "collected fee {} due {}",
        collected.hold_fee, collected.loan.due.on
    ));
    clock.set(clock.now() + Duration::days(3));
    let renewed = svc
        .renew(RenewRequest {
            loan: collected.loan.id,
            patron: Some(c),
            channel: CirculationChannel::Online,
        })
        .await;
    log.push(format!(
        "renew by c: {:?}",
        renewed.map(|r| (r.loan.renewals, r.loan.due.on, r.fine_charged))
    ));
    // Reader c returns; the copy waits for b.
    let back = svc
        .checkin(CheckinRequest {
            item_barcode: barcode("B0001"),
            library: code("HKCL"),
            returned_at: None,
        })
        .await
        .unwrap();
    let waiting = back.hold.unwrap();
    log.push(format!(
        "second return fine {} trapped for b {} by {:?}",
        back.fine,
        waiting.patron == b,
        waiting.pickup_by()
    ));
    // Nobody collects: past pickup_by the hold expires and the copy is shelved.
    clock.set(clock.now() + Duration::days(30));
    let report = svc.expire_waiting_holds().await.unwrap();
    log.push(format!(
        "expired {} trapped {}",
        report.expired.len(),
        report.trapped.len()
    ));
    let mut tx = store.begin().await.unwrap();
    let item = tx.item(s.items[0]).await.unwrap().unwrap();
    let holds = tx.active_holds_of_title(s.title).await.unwrap();
    let charges = tx.outstanding_charges(a).await.unwrap();
    let charges_c = tx.outstanding_charges(c).await.unwrap();
    log.push(format!(
        "item {:?}, active holds {}, a owes {}, c owes {}",
        item.status,
        holds.len(),
        charges,
        charges_c
    ));
    log.push(format!(
        "hold b status {:?}",
        tx.hold(waiting.id).await.unwrap().map(|h| h.status())
    ));
    log
}

#[tokio::test]
async fn the_database_behaves_like_the_in_memory_reference() {
    let memory = library_circulation::memory::MemoryStore::new();
    let seeded = seed_memory(&memory, 3, 1);
    let clock = Arc::new(ManualClock::new(NOW));
    let svc = memory_service(&memory, clock.clone());
    let reference = scenario(&svc, &memory, &clock, &seeded).await;
    assert!(
        reference.iter().any(|l| l.contains("fine HK$9.00")),
        "{reference:#?}"
    );
    assert!(
        reference
            .iter()
            .any(|l| l.contains("collected fee HK$3.30")),
        "{reference:#?}"
    );

    // The "hold waiting" notices, as (reader number, last day to collect).
    let told = |patron: library_core::PatronId, readers: &[library_core::PatronId]| {
        readers.iter().position(|r| *r == patron).unwrap()
    };
    let reference_notices: Vec<(usize, String)> = memory
        .notices()
        .into_iter()
        .filter_map(|n| match n {
            CirculationNotice::HoldWaiting {
                patron, pickup_by, ..
            } => Some((told(patron, &seeded.readers), pickup_by.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(reference_notices.len(), 2, "{reference_notices:?}");

    for t in backends().await {
        let db = t.connect().await;
        let seeded = seed_db(&db, 3, 1).await;
        let clock = Arc::new(ManualClock::new(NOW));
        let svc = db_service(&db, clock.clone());
        let transcript = scenario(&svc, &db.circulation(), &clock, &seeded).await;
        assert_eq!(transcript, reference, "{}", t.name);
        // Queued in the outbox by the same transactions that trapped the copies.
        let notices: Vec<(usize, String)> = db
            .outbox()
            .unsent(100)
            .await
            .unwrap()
            .into_iter()
            .filter(|n| n.notification.kind == "hold.waiting")
            .map(|n| {
                let payload: serde_json::Value =
                    serde_json::from_str(&n.notification.payload).unwrap();
                (
                    told(n.notification.patron.unwrap(), &seeded.readers),
                    payload["pickup_by"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(notices, reference_notices, "{}", t.name);
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn fine_suspension_periods_and_payments_reach_the_services() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 1, 1).await;
        let clock = Arc::new(ManualClock::new(NOW));
        let svc = db_service(&db, clock.clone());
        svc.checkout(CheckoutRequest {
            card_number: card_of(1),
            item_barcode: barcode("B0001"),
            library: code("HKCL"),
        })
        .await
        .unwrap();
        // Fines suspended from 20 to 23 March (resume on the 24th), for every library.
        let id = db
            .fine_suspensions()
            .create(
                &FineSuspensionPeriod::new(
                    date!(2021 - 03 - 20),
                    None,
                    SuspensionScope::all_libraries(),
                    "typhoon",
                )
                .unwrap(),
                None,
            )
            .await
            .unwrap();
        db.fine_suspensions()
            .set_resume_date(id, date!(2021 - 03 - 24), None)
            .await
            .unwrap();
        clock.set(
            date!(2021 - 03 - 25)
                .with_hms(15, 0, 0)
                .unwrap()
                .assume_offset(NOW.offset()),
        );
        let back = svc
            .checkin(CheckinRequest {
                item_barcode: barcode("B0001"),
                library: code("HKCL"),
                returned_at: None,
            })
            .await
            .unwrap();
        // Overdue 20..25 March = 6 days, of which 20..23 suspended: 2 charged.
        assert_eq!(
            (back.overdue_days, back.chargeable_days),
            (6, 2),
            "{}",
            t.name
        );
        assert_eq!(back.fine, Money::from_cents(300), "{}", t.name);
        let ledger = db.ledger();
        let patron = s.readers[0];
        let payment = ledger
            .pay(patron, Money::from_cents(100), date!(2021 - 03 - 25), None)
            .await
            .unwrap();
        assert_eq!(payment.allocations.len(), 1);
        let charge = ledger.ledger(patron).await.unwrap().charges()[0].id;
        let waived = ledger
            .waive(patron, charge, "first offence", date!(2021 - 03 - 25), None)
            .await
            .unwrap();
        assert_eq!(waived, Money::from_cents(200), "{}", t.name);
        let stored = ledger.ledger(patron).await.unwrap();
        assert_eq!(stored.outstanding(), Money::ZERO, "{}", t.name);
        assert_eq!(stored.payments(), [payment], "{}", t.name);
        assert_eq!(
            stored.charges()[0].status(),
            library_fines::ChargeStatus::Waived
        );
        assert!(matches!(
            ledger
                .pay(patron, Money::from_cents(1), date!(2021 - 03 - 25), None)
                .await,
            Err(library_persistence::StoreError::Ledger(_))
        ));
        let _ = HoldStatus::Queued;
        db.close().await.unwrap();
    }
}
