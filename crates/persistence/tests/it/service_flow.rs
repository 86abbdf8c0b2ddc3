//! The real `CredentialService` of `library-credentials` over the database stores (with the
//! fast `CountingHasher`): the product's flows end to end on every backend.

use library_credentials::AttemptKey;
use std::sync::Arc;

use library_core::{ManualClock, PatronId};
use library_credentials::testing::{CountingHasher, RecordingNotifier, SeededRandom};
use library_credentials::{
    AttemptSource, Backoff, CredentialConfig, CredentialKind, CredentialNotice, CredentialPorts,
    CredentialService, GuessingPolicy, LoginError, PortError, Scope, Secret, StaffCredentialStore,
    StaffRole, Subject,
};
use library_persistence::{Database, NewStaffUser};

use crate::support::{T0, backends, new_patron};

const CARD: &str = "21000000000001";

struct Harness {
    db: Database,
    service: CredentialService,
    notifier: Arc<RecordingNotifier>,
    hasher: Arc<CountingHasher>,
    patron: PatronId,
}

async fn harness(db: &Database, config: CredentialConfig) -> Harness {
    let clock = Arc::new(ManualClock::new(T0));
    let db = db.clone().with_clock(clock.clone());
    let notifier = Arc::new(RecordingNotifier::new());
    let hasher = Arc::new(CountingHasher::new());
    let service = CredentialService::new(
        CredentialPorts {
            store: Arc::new(db.credentials()),
            sessions: Arc::new(db.sessions()),
            staff: Arc::new(db.staff()),
            hasher: hasher.clone(),
            notifier: notifier.clone(),
            random: Arc::new(SeededRandom::new(7)),
            clock,
            events: Arc::new(library_credentials::NoSecurityEvents),
        },
        config,
    );
    let new = new_patron(CARD, Some("reader@example.com"));
    let patron = db.patrons().register(&new).await.unwrap();
    service
        .set_default_credentials(patron, &new.phone)
        .await
        .unwrap();
    Harness {
        service,
        notifier,
        hasher,
        patron,
        db,
    }
}

fn ip() -> AttemptSource {
    AttemptSource("ip:203.0.113.7".into())
}

#[tokio::test]
async fn default_login_then_change_password_gives_a_full_session() {
    for t in backends().await {
        let db = t.connect().await;
        let h = harness(&db, CredentialConfig::default()).await;
        let first = h
            .service
            .login(CARD, &Secret::new("4567"), &ip())
            .await
            .unwrap();
        assert_eq!(first.scope, Scope::ChangePasswordOnly, "{}", t.name);
        let session = h.service.authenticate(first.token.expose()).await.unwrap();
        assert_eq!(session.patron(), Some(h.patron));

        let full = h
            .service
            .change_password(
                &session,
                &Secret::new("4567"),
                &Secret::new("Zebracorn9"),
                &ip(),
            )
            .await
            .unwrap();
        assert_eq!(full.scope, Scope::Full, "{}", t.name);
        assert_eq!(
            h.service
                .authenticate(full.token.expose())
                .await
                .unwrap()
                .scope,
            Scope::Full
        );
        assert!(
            h.service.authenticate(first.token.expose()).await.is_err(),
            "{}: the change revokes the old session",
            t.name
        );
        let again = h
            .service
            .login(CARD, &Secret::new("Zebracorn9"), &ip())
            .await
            .unwrap();
        assert_eq!(again.scope, Scope::Full, "{}", t.name);
        assert!(matches!(
            h.service.login(CARD, &Secret::new("4567"), &ip()).await,
            Err(LoginError::InvalidCredentials)
        ));
        // Logging out revokes that session only.
        let s = h.service.authenticate(again.token.expose()).await.unwrap();
        h.service.logout(&s).await.unwrap();
        assert!(h.service.authenticate(again.token.expose()).await.is_err());
        assert!(h.service.authenticate(full.token.expose()).await.is_ok());
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn pin_locks_after_ten_failures_until_staff_reset() {
    for t in backends().await {
        let db = t.connect().await;
        let config = CredentialConfig {
            guessing: GuessingPolicy {
                pair_delay: Backoff {
                    from: None,
                    ..GuessingPolicy::default().pair_delay
                },
                ..GuessingPolicy::default()
            },
            ..CredentialConfig::default()
        };
        let h = harness(&db, config).await;
        let pin = h
            .service
            .pin_login(CARD, &Secret::new("4567"), &ip())
            .await
            .unwrap();
        assert_eq!(pin.scope, Scope::Pin);
        for n in 0..10 {
            assert!(
                matches!(
                    h.service.pin_login(CARD, &Secret::new("0000"), &ip()).await,
                    Err(LoginError::InvalidCredentials)
                ),
                "{}: wrong PIN {n}",
                t.name
            );
        }
        assert_eq!(
            db.credentials()
                .attempts(
                    &AttemptKey::card(&crate::support::card(CARD)),
                    CredentialKind::Pin
                )
                .await
                .unwrap()
                .failures,
            10
        );
        assert!(
            matches!(
                h.service.pin_login(CARD, &Secret::new("4567"), &ip()).await,
                Err(LoginError::InvalidCredentials)
            ),
            "{}: the right PIN is refused once disabled",
            t.name
        );
        // The Password still works; a staff reset lifts the lock and ends PIN sessions.
        assert!(
            h.service
                .login(CARD, &Secret::new("4567"), &ip())
                .await
                .is_ok()
        );
        h.service
            .staff_reset_pin(&crate::support::card(CARD))
            .await
            .unwrap();
        assert!(h.service.authenticate(pin.token.expose()).await.is_err());
        assert!(
            h.service
                .pin_login(CARD, &Secret::new("4567"), &ip())
                .await
                .is_ok(),
            "{}",
            t.name
        );
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_temporary_password_works_for_one_login() {
    for t in backends().await {
        let db = t.connect().await;
        let h = harness(&db, CredentialConfig::default()).await;
        h.service
            .forgot_password("Reader@Example.com", &ip())
            .await
            .unwrap();
        let sent = h.notifier.sent();
        let [CredentialNotice::TemporaryPassword { password, .. }] = sent.as_slice() else {
            panic!("{}: expected one temporary password, got {sent:?}", t.name);
        };
        let first = h.service.login(CARD, password, &ip()).await.unwrap();
        assert_eq!(first.scope, Scope::ChangePasswordOnly, "{}", t.name);
        assert!(
            matches!(
                h.service.login(CARD, password, &ip()).await,
                Err(LoginError::InvalidCredentials)
            ),
            "{}: the second use fails",
            t.name
        );
        // Asking for one changed nothing else: the default Password still works.
        assert!(
            h.service
                .login(CARD, &Secret::new("4567"), &ip())
                .await
                .is_ok()
        );
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn staff_login_over_the_database() {
    for t in backends().await {
        let db = t.connect().await;
        let h = harness(&db, CredentialConfig::default()).await;
        let hash = h
            .service
            .hash_staff_password("Counter01", &Secret::new("Zebracorn9"))
            .await
            .unwrap();
        let id =
            h.db.staff()
                .create(&NewStaffUser {
                    username: "Counter01".into(),
                    password_hash: hash,
                    role: StaffRole::Admin,
                    may_override: false,
                    created_at: T0,
                })
                .await
                .unwrap();
        // Stored lower-cased, found in any case, by name and by id.
        let found =
            h.db.staff()
                .find_staff_by_username("COUNTER01")
                .await
                .unwrap()
                .unwrap();
        assert_eq!(
            (found.id, found.username.as_str(), found.role),
            (id, "counter01", StaffRole::Admin),
            "{}",
            t.name
        );
        assert_eq!(
            h.db.staff().find_staff(id).await.unwrap().map(|s| s.id),
            Some(id)
        );
        assert_eq!(
            h.db.staff().find_staff_by_username("nobody").await.unwrap(),
            None
        );

        let (issued, staff) = h
            .service
            .staff_login("counter01", &Secret::new("Zebracorn9"), &ip())
            .await
            .unwrap();
        assert_eq!((issued.scope, staff.id), (Scope::Staff, id), "{}", t.name);
        let session = h.service.authenticate(issued.token.expose()).await.unwrap();
        assert_eq!(session.subject, Subject::Staff(id));
        assert!(matches!(
            h.service
                .staff_login("counter01", &Secret::new("Wrong1234"), &ip())
                .await,
            Err(LoginError::InvalidCredentials)
        ));
        // The staff counter is its own: the reader's card counter is untouched.
        let counter =
            h.db.credentials()
                .attempts(&AttemptKey::staff("counter01"), CredentialKind::Password)
                .await
                .unwrap();
        assert_eq!(counter.failures, 1, "{}", t.name);
        db.close().await.unwrap();
    }
}

/// A hasher whose queue is full (503) verifies nothing: the attempt is not a failed guess,
/// and every reservation it took is given back in the database.
#[tokio::test]
async fn a_busy_hasher_does_not_count_as_a_failure() {
    for t in backends().await {
        let db = t.connect().await;
        let h = harness(&db, CredentialConfig::default()).await;
        let key = AttemptKey::card(&library_core::CardNumber::parse(CARD).unwrap());
        h.hasher.set_busy(true);
        for _ in 0..25 {
            assert!(
                matches!(
                    h.service
                        .login(CARD, &Secret::new("Wrong1234"), &ip())
                        .await,
                    Err(LoginError::Infrastructure(PortError::Overloaded))
                ),
                "{}",
                t.name
            );
        }
        let store = h.db.credentials();
        let account = store
            .attempts(&key, CredentialKind::Password)
            .await
            .unwrap();
        assert_eq!(account.failures, 0, "{}", t.name);
        assert_eq!(account.throttled_until, None, "{}", t.name);
        let pair = store
            .pair(&key, CredentialKind::Password, &ip())
            .await
            .unwrap()
            .unwrap_or_default();
        assert_eq!(
            (pair.failures, pair.throttled_until),
            (0, None),
            "{}",
            t.name
        );
        let window = store.source_window(&ip()).await.unwrap();
        assert_eq!(window.map(|w| w.failures), Some(0), "{}", t.name);
        // Once the hasher has room, the right Password works at once: nothing was counted.
        h.hasher.set_busy(false);
        assert!(
            h.service
                .login(CARD, &Secret::new("4567"), &ip())
                .await
                .is_ok(),
            "{}",
            t.name
        );
        db.close().await.unwrap();
    }
}
