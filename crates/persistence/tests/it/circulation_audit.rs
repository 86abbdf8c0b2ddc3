//! A circulation change made as an actor writes its audit entry in its own transaction: the
//! change and the entry commit together, or neither does.

use std::sync::Arc;

use library_circulation::ItemStatus;
use library_circulation::ports::{Actor, CirculationStore};
use library_circulation::service::{CheckinRequest, CheckoutError, CheckoutRequest};
use library_core::{ManualClock, StaffId};
use library_credentials::{SecretHash, StaffRole};
use library_persistence::NewStaffUser;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::circ_support::{NOW, barcode, card_of, code, db_service, seed_db};
use crate::support::{T0, backends};

fn checkout() -> CheckoutRequest {
    CheckoutRequest {
        card_number: card_of(1),
        item_barcode: barcode("B0001"),
        library: code("HKCL"),
    }
}

#[tokio::test]
async fn a_change_and_its_audit_entry_commit_together() {
    for t in backends().await {
        let db = t.connect().await;
        seed_db(&db, 1, 1).await;
        let staff = db
            .staff()
            .create(&NewStaffUser {
                username: "Counter".into(),
                password_hash: SecretHash("x".into()),
                role: StaffRole::Librarian,
                may_override: false,
                created_at: T0,
            })
            .await
            .unwrap();
        let clock = Arc::new(ManualClock::new(NOW));
        let svc = db_service(&db, clock.clone());
        let lent = svc
            .checkout_as(checkout(), Some(&Actor::Staff(staff)))
            .await
            .unwrap();
        // Due Friday 19 March 2021; returned at a station on the 25th: 6 days at HK$1.50.
        clock.set(datetime!(2021-03-25 12:00 +08:00));
        let back = svc
            .checkin_as(
                CheckinRequest {
                    item_barcode: barcode("B0001"),
                    library: code("KLN"),
                    returned_at: None,
                },
                Some(&Actor::Station("kiosk-1".into())),
            )
            .await
            .unwrap();
        assert_eq!(back.fine.cents(), 900, "{}", t.name);

        let log = db.audit_log().recent(10).await.unwrap();
        assert_eq!(log.len(), 2, "{}", t.name);
        let (checkin, checkout) = (&log[0].entry, &log[1].entry);
        assert_eq!(checkout.action, "circulation.checkout", "{}", t.name);
        assert_eq!(checkout.staff, Some(staff), "{}", t.name);
        assert_eq!(checkout.subject, format!("loan:{}", lent.loan.id.get()));
        assert_eq!(checkout.at, NOW, "{}", t.name);
        assert_eq!(
            serde_json::from_str::<Value>(&checkout.details).unwrap(),
            json!({"card_number": card_of(1).as_str(), "item_barcode": "B0001",
                   "library_code": "HKCL", "collected_hold": null}),
            "{}",
            t.name
        );
        assert_eq!(checkin.action, "circulation.checkin", "{}", t.name);
        assert_eq!(checkin.staff, None, "{}", t.name);
        assert_eq!(checkin.at, datetime!(2021-03-25 12:00 +08:00), "{}", t.name);
        assert_eq!(
            serde_json::from_str::<Value>(&checkin.details).unwrap(),
            json!({"item_barcode": "B0001", "library_code": "KLN", "fine_cents": 900,
                   "book_drop": false, "channel": "sip2", "station": "kiosk-1"}),
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn an_entry_that_cannot_be_written_undoes_its_change() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 1, 1).await;
        let svc = db_service(&db, Arc::new(ManualClock::new(NOW)));
        // No staff user 9999: the entry breaks the audit log's foreign key.
        let failed = svc
            .checkout_as(checkout(), Some(&Actor::Staff(StaffId(9999))))
            .await;
        assert!(
            matches!(failed, Err(CheckoutError::Infrastructure(_))),
            "{}: {failed:?}",
            t.name
        );
        let item = db.catalogue().item(s.items[0]).await.unwrap().unwrap();
        assert_eq!(item.status, ItemStatus::Available, "{}", t.name);
        let mut tx = db.circulation().begin().await.unwrap();
        assert_eq!(tx.open_loan_of_item(s.items[0]).await.unwrap(), None);
        assert!(
            tx.open_loans_of_patron(s.readers[0])
                .await
                .unwrap()
                .is_empty()
        );
        drop(tx);
        assert!(db.audit_log().recent(10).await.unwrap().is_empty());
        // The same checkout with a writable entry goes through.
        svc.checkout_as(checkout(), Some(&Actor::Station("kiosk-1".into())))
            .await
            .unwrap();
        assert_eq!(db.audit_log().recent(10).await.unwrap().len(), 1);
    }
}
