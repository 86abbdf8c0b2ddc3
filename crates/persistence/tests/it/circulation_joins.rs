//! The one-statement reads and writes a database gives the circulation transaction
//! (`CirculationTransaction`'s methods with defaults in the port) answer exactly what the
//! port's defaults compose from the single-record methods, on every backend; and a checkin
//! whose copy changes hands between its first look and its locks checks in the new loan.

use std::sync::Arc;
use std::time::Duration;

use library_circulation::ports::{
    CheckoutReads, CirculationStore, CirculationTransaction, checkin_reads_by_parts,
    checkout_reads_by_parts,
};
use library_circulation::service::{
    CheckinRequest, CheckoutError, CheckoutRequest, PlaceHoldRequest,
};
use library_circulation::{CheckoutRefusal, ItemPlacement, ItemStatus, Loan, NewLoan};
use library_core::{ItemId, ManualClock, Money, PatronId, TitleId};
use library_fines::NewCharge;
use time::macros::date;

use crate::circ_support::{NOW, barcode, card_of, code, db_service, seed_db};
use crate::support::backends;

/// What the port's default answers for `lock_copy`, from the single-record methods.
async fn composed_copy(
    tx: &mut dyn CirculationTransaction,
    id: ItemId,
) -> Option<(
    library_circulation::Title,
    library_circulation::Item,
    Option<Loan>,
)> {
    // In the lock order, as the default does: the title, then the item.
    let plain = tx.item(id).await.unwrap()?;
    let title = tx.title_for_update(plain.title).await.unwrap().unwrap();
    let item = tx.item_for_update(id).await.unwrap().unwrap();
    let loan = tx.open_loan_of_item(id).await.unwrap();
    Some((title, item, loan))
}

#[tokio::test]
async fn the_joined_reads_equal_the_single_record_reads() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 3, 3).await;
        let svc = db_service(&db, Arc::new(ManualClock::new(NOW)));
        for b in ["B0003", "B0001"] {
            svc.checkout(CheckoutRequest {
                card_number: card_of(1),
                item_barcode: barcode(b),
                library: code("HKCL"),
            })
            .await
            .unwrap();
        }
        // Two readers queue for the title.
        for reader in &s.readers[1..] {
            svc.place_hold(PlaceHoldRequest {
                patron: *reader,
                title: s.title,
                pickup_library: code("HKCL"),
                not_needed_after: None,
            })
            .await
            .unwrap();
        }
        let mut tx = db.circulation().begin().await.unwrap();
        let reader = s.readers[0];
        tx.add_charge(
            reader,
            NewCharge::hold_fee(
                library_core::HoldId(1),
                Money::from_cents(330),
                date!(2021 - 03 - 01),
            ),
        )
        .await
        .unwrap();

        // Loans with their items: the loans, then each item.
        let mut composed = Vec::new();
        for loan in tx.open_loans_of_patron(reader).await.unwrap() {
            let item = tx.item(loan.item).await.unwrap().unwrap();
            composed.push((loan, item));
        }
        assert_eq!(
            tx.open_loans_with_items(reader).await.unwrap(),
            composed,
            "{}",
            t.name
        );
        assert!(
            tx.open_loans_with_items(s.readers[1])
                .await
                .unwrap()
                .is_empty()
        );

        // Loans and charges: with loans and a charge, and a reader with neither.
        let (loans, owed) = tx.open_loans_and_charges(reader).await.unwrap();
        assert_eq!(
            loans,
            tx.open_loans_with_items(reader).await.unwrap(),
            "{}",
            t.name
        );
        assert_eq!(owed, Money::from_cents(330), "{}", t.name);
        assert_eq!(owed, tx.outstanding_charges(reader).await.unwrap());
        let barcodes: Vec<_> = loans.iter().map(|(_, i)| i.barcode.as_str()).collect();
        assert_eq!(barcodes, ["B0003", "B0001"], "{}: in loan order", t.name);
        assert_eq!(
            tx.open_loans_and_charges(s.readers[1]).await.unwrap(),
            (Vec::new(), Money::ZERO),
            "{}",
            t.name
        );
        assert_eq!(
            tx.open_loans_and_charges(PatronId(9_999)).await.unwrap(),
            (Vec::new(), Money::ZERO),
            "{}",
            t.name
        );

        // Loans, charges and the title's holds together: as the reads one by one.
        let holds = tx.active_holds_of_title(s.title).await.unwrap();
        let positions: Vec<_> = holds.iter().map(|h| h.position()).collect();
        assert_eq!(positions, [Some(1), Some(2)], "{}", t.name);
        for (who, title) in [(reader, s.title), (s.readers[1], TitleId(9_999))] {
            assert_eq!(
                tx.open_loans_charges_and_holds(who, title).await.unwrap(),
                (
                    tx.open_loans_and_charges(who).await.unwrap(),
                    tx.active_holds_of_title(title).await.unwrap()
                ),
                "{}",
                t.name
            );
        }

        // The copy with its title (and its open loan), on loan and on the shelf.
        for (b, n) in [("B0001", 0), ("B0002", 1), ("B0003", 2)] {
            let id = s.items[n];
            let expected = composed_copy(tx.as_mut(), id).await.unwrap();
            assert_eq!(expected.2.is_some(), b != "B0002", "{}: {b}", t.name);
            assert_eq!(
                tx.lock_copy(id).await.unwrap().unwrap(),
                expected,
                "{}",
                t.name
            );
            assert_eq!(
                tx.lock_copy_with_holds(id).await.unwrap().unwrap(),
                (expected.clone(), holds.clone()),
                "{}",
                t.name
            );
            assert_eq!(
                tx.lock_copy_by_barcode(&barcode(b)).await.unwrap().unwrap(),
                (expected.0.clone(), expected.1.clone()),
                "{}",
                t.name
            );
            assert_eq!(expected.0.name, "The Rust Book");
            assert_eq!(
                tx.item_with_open_loan_by_barcode(&barcode(b))
                    .await
                    .unwrap()
                    .unwrap(),
                (expected.1, expected.2),
                "{}",
                t.name
            );
        }
        // A checkout's and a checkin's reads at once: as the port's defaults make them one
        // after another, for every copy, known and unknown cards and barcodes.
        for who in [card_of(1), card_of(2), card_of(99)] {
            for b in ["B0001", "B0002", "B0003", "B9999"] {
                let at_once = tx.checkout_reads(&who, &barcode(b)).await.unwrap();
                assert_eq!(
                    at_once,
                    checkout_reads_by_parts(tx.as_mut(), &who, &barcode(b))
                        .await
                        .unwrap(),
                    "{}: checkout reads of {who:?} and {b}",
                    t.name
                );
                let expected = match (who == card_of(99), b) {
                    (true, _) => "no reader",
                    (false, "B9999") => "no copy",
                    _ => "found",
                };
                let got = match at_once {
                    CheckoutReads::NoReader => "no reader",
                    CheckoutReads::NoCopy => "no copy",
                    CheckoutReads::Found(found) => {
                        let ((loans, _), holds) = &found.loans_charges_and_holds;
                        assert_eq!(loans.len(), if who == card_of(1) { 2 } else { 0 });
                        assert_eq!(holds.len(), 2, "{}", t.name);
                        "found"
                    }
                };
                assert_eq!(got, expected, "{}: {who:?} {b}", t.name);
            }
        }
        for b in ["B0001", "B0002", "B0003", "B9999"] {
            let at_once = tx.checkin_reads(&barcode(b)).await.unwrap();
            assert_eq!(
                at_once,
                checkin_reads_by_parts(tx.as_mut(), &barcode(b))
                    .await
                    .unwrap(),
                "{}: checkin reads of {b}",
                t.name
            );
            let on_loan = at_once.as_ref().map(|r| {
                (
                    r.loan.is_some(),
                    r.borrower.as_ref().map(|p| p.id),
                    r.copy.as_ref().map(|(_, holds)| holds.len()),
                )
            });
            let expected = match b {
                "B0002" => Some((false, None, None)),
                "B9999" => None,
                _ => Some((true, Some(reader), Some(2))),
            };
            assert_eq!(on_loan, expected, "{}: {b}", t.name);
        }
        assert_eq!(tx.lock_copy(ItemId(9_999)).await.unwrap(), None);
        assert_eq!(tx.lock_copy_with_holds(ItemId(9_999)).await.unwrap(), None);
        assert_eq!(
            tx.lock_copy_by_barcode(&barcode("B9999")).await.unwrap(),
            None
        );
        assert_eq!(
            tx.item_with_open_loan_by_barcode(&barcode("B9999"))
                .await
                .unwrap(),
            None
        );
        drop(tx);
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn lending_and_closing_write_the_loan_and_the_copy_together() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 1, 2).await;
        let (reader, item) = (s.readers[0], s.items[0]);
        let mut tx = db.circulation().begin().await.unwrap();
        let due = library_circulation::DueDate {
            on: date!(2021 - 03 - 26),
            at: time::macros::datetime!(2021-03-26 15:59:59.999999 UTC),
        };
        let new = NewLoan {
            patron: reader,
            item,
            library: code("HKCL"),
            borrowed_at: NOW,
            due,
        };
        let mut loan = tx.lend(new.clone()).await.unwrap();
        assert_eq!(
            tx.loan(loan.id).await.unwrap().as_ref(),
            Some(&loan),
            "{}",
            t.name
        );
        assert_eq!(
            tx.open_loan_of_item(item).await.unwrap().as_ref(),
            Some(&loan)
        );
        assert_eq!(
            tx.item(item).await.unwrap().unwrap().status,
            ItemStatus::OnLoan,
            "{}",
            t.name
        );

        loan.returned_at = Some(NOW + time::Duration::days(3));
        loan.returned_to = Some(code("KLN"));
        // Returned at KLN away from its home HKCL: in transit home, in one statement.
        tx.close_loan(&loan, &ItemPlacement::in_transit(code("KLN"), code("HKCL")))
            .await
            .unwrap();
        assert_eq!(
            tx.loan(loan.id).await.unwrap().as_ref(),
            Some(&loan),
            "{}",
            t.name
        );
        assert_eq!(tx.open_loan_of_item(item).await.unwrap(), None);
        let copy = tx.item(item).await.unwrap().unwrap();
        assert_eq!(
            (copy.status, &copy.current_library, copy.transit_to.as_ref()),
            (ItemStatus::InTransit, &code("KLN"), Some(&code("HKCL"))),
            "{}",
            t.name
        );
        // Received at home: on the shelf there, the destination cleared.
        tx.place_item(
            item,
            &ItemPlacement::at(ItemStatus::OnHoldShelf, code("HKCL")),
        )
        .await
        .unwrap();
        let copy = tx.item_for_update(item).await.unwrap().unwrap();
        assert_eq!(
            (copy.status, &copy.current_library, copy.transit_to.clone()),
            (ItemStatus::OnHoldShelf, &code("HKCL"), None),
            "{}",
            t.name
        );
        assert!(
            tx.place_item(ItemId(9_999), &copy.placement())
                .await
                .is_err()
        );
        tx.commit().await.unwrap();

        // A second open loan of a copy, an unknown copy, an unknown loan: errors, and the
        // transaction is rolled back (nothing of it stays).
        let mut tx = db.circulation().begin().await.unwrap();
        tx.lend(NewLoan {
            item: s.items[1],
            ..new.clone()
        })
        .await
        .unwrap();
        let twice = tx.lend(NewLoan {
            item: s.items[1],
            ..new.clone()
        });
        assert!(
            twice.await.is_err(),
            "{}: two open loans of one copy",
            t.name
        );
        drop(tx);
        let mut tx = db.circulation().begin().await.unwrap();
        let unknown = tx.lend(NewLoan {
            item: ItemId(9_999),
            ..new.clone()
        });
        assert!(unknown.await.is_err(), "{}: unknown copy", t.name);
        drop(tx);
        let mut tx = db.circulation().begin().await.unwrap();
        let ghost = Loan {
            id: library_core::LoanId(9_999),
            ..loan.clone()
        };
        assert!(
            tx.close_loan(
                &ghost,
                &ItemPlacement::at(ItemStatus::Available, code("HKCL"))
            )
            .await
            .is_err()
        );
        drop(tx);
        let mut tx = db.circulation().begin().await.unwrap();
        assert_eq!(
            tx.open_loan_of_item(s.items[1]).await.unwrap(),
            None,
            "{}",
            t.name
        );
        assert_eq!(
            tx.item(s.items[1]).await.unwrap().unwrap().status,
            ItemStatus::Available,
            "{}",
            t.name
        );
        assert_eq!(
            tx.item(item).await.unwrap().unwrap().status,
            ItemStatus::OnHoldShelf,
            "{}: the failed close changed the copy",
            t.name
        );
        drop(tx);
        db.close().await.unwrap();
    }
}

/// Reader 1's copy is returned and lent to reader 2 while a checkin of it waits for reader
/// 1's lock (held by another transaction, which makes that change): the checkin starts
/// again and checks in reader 2's loan. On SQLite, whose writers queue, the checkin simply
/// runs after the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkin_racing_a_return_and_lend_checks_in_the_new_loan() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 2, 1).await;
        let (first, second, item) = (s.readers[0], s.readers[1], s.items[0]);
        let svc = Arc::new(db_service(&db, Arc::new(ManualClock::new(NOW))));
        let lent = svc
            .checkout(CheckoutRequest {
                card_number: card_of(1),
                item_barcode: barcode("B0001"),
                library: code("HKCL"),
            })
            .await
            .unwrap()
            .loan;

        // Another transaction holds reader 1's lock (on SQLite: the write lock).
        let mut holder = db.circulation().begin().await.unwrap();
        holder.patron_for_update(first).await.unwrap().unwrap();
        let checkin = {
            let svc = svc.clone();
            tokio::spawn(async move {
                svc.checkin(CheckinRequest {
                    item_barcode: barcode("B0001"),
                    library: code("HKCL"),
                    returned_at: None,
                })
                .await
            })
        };
        if t.name == "postgres" {
            // Wait until the checkin waits for reader 1's lock.
            wait_for_a_lock_wait(&t.url).await;
        }
        // Returned, and lent to reader 2.
        let mut returned = lent.clone();
        returned.returned_at = Some(NOW);
        returned.returned_to = Some(code("HKCL"));
        holder
            .close_loan(
                &returned,
                &ItemPlacement::at(ItemStatus::Available, code("HKCL")),
            )
            .await
            .unwrap();
        let relent = holder
            .lend(NewLoan {
                patron: second,
                item,
                library: code("HKCL"),
                borrowed_at: NOW,
                due: lent.due,
            })
            .await
            .unwrap();
        holder.commit().await.unwrap();

        let back = tokio::time::timeout(Duration::from_secs(20), checkin)
            .await
            .unwrap_or_else(|_| panic!("{}: the checkin hung", t.name))
            .unwrap()
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert_eq!(back.loan.map(|l| l.id), Some(relent.id), "{}", t.name);
        assert_eq!(back.borrower, Some(card_of(2)), "{}", t.name);
        let mut tx = db.circulation().begin().await.unwrap();
        assert_eq!(
            tx.open_loan_of_item(item).await.unwrap(),
            None,
            "{}",
            t.name
        );
        assert_eq!(
            tx.loan(lent.id).await.unwrap().unwrap(),
            returned,
            "{}: the first return was overwritten",
            t.name
        );
        assert!(
            tx.loan(relent.id)
                .await
                .unwrap()
                .unwrap()
                .returned_at
                .is_some()
        );
        drop(tx);
        db.close().await.unwrap();
    }
}

/// A checkout waits for its reader's lock (held by another transaction) while that
/// transaction lends the copy to another reader: the checkout, resumed, sees the copy on
/// loan and refuses it; only the other loan is stored. On PostgreSQL the reader, title and
/// copy are locked in one statement, which reads the copy again once the locks are
/// granted. On SQLite, whose writers queue, the checkout simply runs after the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_waiting_for_its_reader_sees_the_copy_lent_meanwhile() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 2, 1).await;
        let (first, second, item) = (s.readers[0], s.readers[1], s.items[0]);
        let svc = Arc::new(db_service(&db, Arc::new(ManualClock::new(NOW))));

        // Another transaction holds reader 1's lock (on SQLite: the write lock).
        let mut holder = db.circulation().begin().await.unwrap();
        holder.patron_for_update(first).await.unwrap().unwrap();
        let checkout = {
            let svc = svc.clone();
            tokio::spawn(async move {
                svc.checkout(CheckoutRequest {
                    card_number: card_of(1),
                    item_barcode: barcode("B0001"),
                    library: code("HKCL"),
                })
                .await
            })
        };
        if t.name == "postgres" {
            wait_for_a_lock_wait(&t.url).await;
        }
        // The copy lent to reader 2 meanwhile.
        holder.item_for_update(item).await.unwrap().unwrap();
        let other = holder
            .lend(NewLoan {
                patron: second,
                item,
                library: code("HKCL"),
                borrowed_at: NOW,
                due: library_circulation::DueDate {
                    on: date!(2026 - 12 - 21),
                    at: NOW,
                },
            })
            .await
            .unwrap();
        holder.commit().await.unwrap();

        let outcome = tokio::time::timeout(Duration::from_secs(20), checkout)
            .await
            .unwrap_or_else(|_| panic!("{}: the checkout hung", t.name))
            .unwrap();
        assert!(
            matches!(
                outcome,
                Err(CheckoutError::Refused(CheckoutRefusal::ItemNotAvailable))
            ),
            "{}: {outcome:?}",
            t.name
        );
        let mut tx = db.circulation().begin().await.unwrap();
        assert_eq!(
            tx.open_loan_of_item(item).await.unwrap().map(|l| l.id),
            Some(other.id),
            "{}",
            t.name
        );
        assert_eq!(
            tx.item(item).await.unwrap().unwrap().status,
            ItemStatus::OnLoan,
            "{}",
            t.name
        );
        drop(tx);
        db.close().await.unwrap();
    }
}

/// Waits until a session of the test database at `url` waits for a lock (PostgreSQL).
async fn wait_for_a_lock_wait(url: &str) {
    use sea_orm::ConnectionTrait;
    let admin = sea_orm::Database::connect(url).await.unwrap();
    let name = crate::support::database_name(url);
    let waiting = format!(
        "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = '{name}' \
         AND wait_event_type = 'Lock'"
    );
    let mut waited = 0;
    loop {
        let row = admin
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                waiting.clone(),
            ))
            .await
            .unwrap()
            .unwrap();
        if row.try_get::<i64>("", "n").unwrap() > 0 {
            break;
        }
        waited += 1;
        assert!(waited < 500, "nothing ever waited for a lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    admin.close().await.unwrap();
}
