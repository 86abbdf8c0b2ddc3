//! Restart safety: what was written is there after the pool is dropped and the database
//! reopened, and opening runs the migrations again without harm.

use library_core::CardNumber;
use library_credentials::{AttemptKey, AttemptSource};
use library_credentials::{
    CredentialKind, CredentialStore, GuessingPolicy, Scope, SecretHash, Session, SessionStore,
    Subject, TokenHash,
};
use library_persistence::Database;
use time::Duration;

use crate::support::{T0, backends, new_patron};

#[tokio::test]
async fn everything_survives_a_reconnect_and_migrations_rerun() {
    for t in backends().await {
        let card = CardNumber::parse("21000000000001").unwrap();
        let session = {
            let db = t.connect().await;
            let patron = db
                .patrons()
                .register(&new_patron(card.as_str(), Some("reader@example.com")))
                .await
                .unwrap();
            let store = db.credentials();
            store
                .set_password(patron, &SecretHash("plain$Zebracorn9".into()), false)
                .await
                .unwrap();
            store
                .set_pin(patron, &SecretHash("plain$4821".into()))
                .await
                .unwrap();
            store
                .reserve_guess(
                    &AttemptSource("ip:198.51.100.7".into()),
                    &AttemptKey::card(&card),
                    CredentialKind::Pin,
                    T0,
                    &GuessingPolicy::default(),
                )
                .await
                .unwrap();
            let session = Session {
                token_hash: TokenHash([7; 32]),
                subject: Subject::Patron(patron),
                scope: Scope::Full,
                created_at: T0,
                expires_at: T0 + Duration::hours(24),
            };
            db.sessions().create(&session).await.unwrap();
            db.close().await.unwrap();
            session
        };
        // Reopen twice: the second and third connect find the migrations applied.
        for round in 0..2 {
            let db = t.connect().await;
            let creds = db.credentials().find_by_card(&card).await.unwrap();
            let creds = creds.unwrap_or_else(|| panic!("{}: reader lost", t.name));
            assert_eq!(creds.password_hash.0, "plain$Zebracorn9", "{}", t.name);
            assert!(!creds.password_is_default);
            assert_eq!(creds.pin_hash.0, "plain$4821");
            assert_eq!(creds.info.email.as_deref(), Some("reader@example.com"));
            assert_eq!(
                db.credentials()
                    .attempts(&AttemptKey::card(&card), CredentialKind::Pin)
                    .await
                    .unwrap()
                    .failures,
                1,
                "{}: round {round}",
                t.name
            );
            let pair = db
                .credentials()
                .pair(
                    &AttemptKey::card(&card),
                    CredentialKind::Pin,
                    &AttemptSource("ip:198.51.100.7".into()),
                )
                .await
                .unwrap();
            assert_eq!(pair.map(|p| p.failures), Some(1), "{}", t.name);
            assert_eq!(
                db.sessions().find(&session.token_hash).await.unwrap(),
                Some(session.clone()),
                "{}",
                t.name
            );
            db.close().await.unwrap();
        }
    }
}

#[tokio::test]
async fn an_unsupported_url_is_refused() {
    assert!(
        Database::connect("mysql://localhost/library")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn circulation_records_survive_a_reconnect() {
    use std::sync::Arc;

    use library_circulation::ports::CirculationStore;
    use library_circulation::service::{CheckoutRequest, PlaceHoldRequest};
    use library_core::{ManualClock, Money};
    use library_fines::NewCharge;

    use crate::circ_support::{NOW, barcode, card_of, code, db_service, seed_db};

    for t in backends().await {
        let (s, loan, hold, charge) = {
            let db = t.connect().await;
            let s = seed_db(&db, 2, 1).await;
            let svc = db_service(&db, Arc::new(ManualClock::new(NOW)));
            let loan = svc
                .checkout(CheckoutRequest {
                    card_number: card_of(1),
                    item_barcode: barcode("B0001"),
                    library: code("HKCL"),
                })
                .await
                .unwrap()
                .loan;
            let hold = svc
                .place_hold(PlaceHoldRequest {
                    patron: s.readers[1],
                    title: s.title,
                    pickup_library: code("KLN"),
                    not_needed_after: None,
                })
                .await
                .unwrap();
            let charge = db
                .ledger()
                .add_charge(
                    s.readers[1],
                    &NewCharge::other("lost card", Money::from_cents(1_000), NOW.date()),
                )
                .await
                .unwrap();
            db.close().await.unwrap();
            (s, loan, hold, charge)
        };
        for _ in 0..2 {
            let db = t.connect().await;
            let mut tx = db.circulation().begin().await.unwrap();
            assert_eq!(
                tx.loan(loan.id).await.unwrap(),
                Some(loan.clone()),
                "{}",
                t.name
            );
            assert_eq!(
                tx.hold(hold.id).await.unwrap(),
                Some(hold.clone()),
                "{}",
                t.name
            );
            assert_eq!(
                tx.outstanding_charges(s.readers[1]).await.unwrap(),
                Money::from_cents(1_000)
            );
            drop(tx);
            let ledger = db.ledger().ledger(s.readers[1]).await.unwrap();
            assert_eq!(ledger.charges()[0].id, charge);
            assert_eq!(db.rules().list().await.unwrap().len(), 7, "{}", t.name);
            assert_eq!(db.libraries().list().await.unwrap().len(), 2);
            db.close().await.unwrap();
        }
    }
}

/// A pooled connection is pinged before use only once it has been idle for
/// `POSTGRES_PING_WHEN_IDLE_FOR`. Connections the server dropped are found by that ping
/// and replaced without a failure; one dropped within that time of its last use fails its
/// next statement once, and the pool replaces it.
#[tokio::test]
async fn the_pool_recovers_when_the_server_drops_its_connections() {
    use library_persistence::POSTGRES_PING_WHEN_IDLE_FOR;
    use sea_orm::ConnectionTrait;

    for t in backends().await {
        if t.name != "postgres" {
            continue;
        }
        let db = t.connect().await;
        let hash = TokenHash([3; 32]);
        let name = crate::support::database_name(&t.url);
        let drop_connections = || async {
            let admin = sea_orm::Database::connect(t.url.as_str()).await.unwrap();
            admin
                .execute_unprepared(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                ))
                .await
                .unwrap();
            admin.close().await.unwrap();
        };
        let (s1, s2, s3, s4) = (db.sessions(), db.sessions(), db.sessions(), db.sessions());
        let warm_pool = || async {
            let found = tokio::join!(
                s1.find(&hash),
                s2.find(&hash),
                s3.find(&hash),
                s4.find(&hash)
            );
            for found in [found.0, found.1, found.2, found.3] {
                assert_eq!(found.unwrap(), None);
            }
        };

        // Dropped while idle past the threshold: found by the ping, no failure.
        warm_pool().await;
        drop_connections().await;
        tokio::time::sleep(POSTGRES_PING_WHEN_IDLE_FOR + std::time::Duration::from_millis(200))
            .await;
        for _ in 0..8 {
            assert_eq!(db.sessions().find(&hash).await.unwrap(), None);
        }

        // Dropped just after use: at most one failure per pooled connection.
        warm_pool().await;
        drop_connections().await;
        let mut failures = 0;
        let mut answered = false;
        for _ in 0..=10 {
            match db.sessions().find(&hash).await {
                Ok(found) => {
                    assert_eq!(found, None);
                    answered = true;
                    break;
                }
                Err(_) => failures += 1,
            }
        }
        assert!(answered, "no answer after {failures} failures");
        db.close().await.unwrap();
    }
}
