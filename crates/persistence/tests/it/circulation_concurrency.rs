//! Circulation under real parallelism on every backend (multi-threaded runtime, pooled
//! connections, the real services): exactly one loan per item, gap-free hold positions,
//! no lost renewal.

use std::sync::Arc;

use library_circulation::ports::{CirculationChannel, CirculationStore};
use library_circulation::service::{
    CheckoutError, CheckoutRequest, PlaceHoldRequest, RenewError, RenewRequest,
};
use library_circulation::{CheckoutRefusal, RenewalRefusal};
use library_core::ManualClock;

use crate::circ_support::{NOW, barcode, card_of, code, db_service, seed_db};
use crate::support::backends;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_checkouts_of_one_item_make_exactly_one_loan() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 50, 1).await;
        let svc = Arc::new(db_service(&db, Arc::new(ManualClock::new(NOW))));
        let tasks: Vec<_> = (1..=50)
            .map(|n| {
                let svc = svc.clone();
                tokio::spawn(async move {
                    svc.checkout(CheckoutRequest {
                        card_number: card_of(n),
                        item_barcode: barcode("B0001"),
                        library: code("HKCL"),
                    })
                    .await
                })
            })
            .collect();
        let (mut loans, mut refused) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => loans += 1,
                Err(CheckoutError::Refused(CheckoutRefusal::ItemNotAvailable)) => refused += 1,
                Err(other) => panic!("{}: unexpected {other:?}", t.name),
            }
        }
        assert_eq!((loans, refused), (1, 49), "{}", t.name);
        let mut tx = db.circulation().begin().await.unwrap();
        assert!(tx.open_loan_of_item(s.items[0]).await.unwrap().is_some());
        let mut open = 0;
        for reader in &s.readers {
            open += tx.open_loans_of_patron(*reader).await.unwrap().len();
        }
        assert_eq!(open, 1, "{}", t.name);
        drop(tx);
        db.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_holds_on_one_title_get_positions_one_to_fifty() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 50, 1).await;
        let svc = Arc::new(db_service(&db, Arc::new(ManualClock::new(NOW))));
        let tasks: Vec<_> = s
            .readers
            .iter()
            .map(|&patron| {
                let svc = svc.clone();
                let title = s.title;
                tokio::spawn(async move {
                    svc.place_hold(PlaceHoldRequest {
                        patron,
                        title,
                        pickup_library: code("HKCL"),
                        not_needed_after: None,
                    })
                    .await
                })
            })
            .collect();
        let mut positions = Vec::new();
        for task in tasks {
            let hold = task
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{}: {e:?}", t.name));
            positions.push(hold.position().unwrap());
        }
        positions.sort_unstable();
        assert_eq!(positions, (1..=50).collect::<Vec<u32>>(), "{}", t.name);
        let mut tx = db.circulation().begin().await.unwrap();
        let mut stored: Vec<u32> = tx
            .active_holds_of_title(s.title)
            .await
            .unwrap()
            .iter()
            .filter_map(|h| h.position())
            .collect();
        stored.sort_unstable();
        assert_eq!(stored, (1..=50).collect::<Vec<u32>>(), "{}", t.name);
        drop(tx);
        db.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_parallel_renewals_with_five_allowed_renew_exactly_five_times() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 1, 1).await;
        let svc = Arc::new(db_service(&db, Arc::new(ManualClock::new(NOW))));
        let loan = svc
            .checkout(CheckoutRequest {
                card_number: card_of(1),
                item_barcode: barcode("B0001"),
                library: code("HKCL"),
            })
            .await
            .unwrap()
            .loan;
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let svc = svc.clone();
                let patron = s.readers[0];
                tokio::spawn(async move {
                    svc.renew(RenewRequest {
                        loan: loan.id,
                        patron: Some(patron),
                        channel: CirculationChannel::Online,
                    })
                    .await
                })
            })
            .collect();
        let (mut renewed, mut refused) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => renewed += 1,
                Err(RenewError::Refused(RenewalRefusal::TooManyRenewals)) => refused += 1,
                Err(other) => panic!("{}: unexpected {other:?}", t.name),
            }
        }
        assert_eq!((renewed, refused), (5, 5), "{}", t.name);
        let mut tx = db.circulation().begin().await.unwrap();
        let stored = tx.loan(loan.id).await.unwrap().unwrap();
        assert_eq!(stored.renewals, 5, "{}", t.name);
        drop(tx);
        db.close().await.unwrap();
    }
}

/// A read-only unit of work (an account view) neither waits for a writer holding the item's
/// lock (and, on SQLite, the database's write lock) nor sees its uncommitted writes.
#[tokio::test]
async fn a_read_transaction_does_not_wait_for_an_open_write_transaction() {
    use library_circulation::ItemStatus;
    for t in backends().await {
        let db = t.connect().await;
        let seeded = seed_db(&db, 1, 1).await;
        let item = seeded.items[0];
        let store = db.circulation();
        let mut writer = store.begin().await.unwrap();
        writer.item_for_update(item).await.unwrap().unwrap();
        writer
            .set_item_status(item, ItemStatus::OnLoan)
            .await
            .unwrap();
        let read = async {
            let mut reader = store.begin_read().await.unwrap();
            reader.item(item).await.unwrap().unwrap().status
        };
        // Generous: a reader that waited for the writer would wait until the writer ends.
        let status = tokio::time::timeout(std::time::Duration::from_secs(5), read)
            .await
            .unwrap_or_else(|_| panic!("{}: the read waited for the writer", t.name));
        assert_eq!(
            status,
            ItemStatus::Available,
            "{}: saw an uncommitted write",
            t.name
        );
        writer.commit().await.unwrap();
        let mut reader = store.begin_read().await.unwrap();
        assert_eq!(
            reader.item(item).await.unwrap().unwrap().status,
            ItemStatus::OnLoan,
            "{}",
            t.name
        );
    }
}
