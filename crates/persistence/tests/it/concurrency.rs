//! Atomicity under real parallelism (multi-threaded runtime, pooled connections) on every
//! backend: no cap is passed and no count is lost.

use library_credentials::AttemptKey;
use library_credentials::{
    AttemptDecision, AttemptSource, CredentialKind, CredentialStore, GuessingPolicy, ResetCounter,
    ResetPolicy, SecretHash,
};
use time::Duration;

use crate::support::{T0, backends, card, new_patron};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_parallel_wrong_pins_grant_exactly_ten() {
    let policy = GuessingPolicy {
        throttle_from: None,
        pin_disable_after: 10,
        ..GuessingPolicy::default()
    };
    for t in backends().await {
        let db = t.connect().await;
        let card = card("21000000000001");
        let tasks: Vec<_> = (0..30)
            .map(|_| {
                let store = db.credentials();
                let card = card.clone();
                tokio::spawn(async move {
                    store
                        .reserve_attempt(&AttemptKey::card(&card), CredentialKind::Pin, T0, &policy)
                        .await
                })
            })
            .collect();
        let mut granted = 0;
        let mut disabled = 0;
        for task in tasks {
            match task.await.unwrap().unwrap() {
                AttemptDecision::Granted => granted += 1,
                AttemptDecision::Disabled => disabled += 1,
                other => panic!("{}: unexpected {other:?}", t.name),
            }
        }
        assert_eq!((granted, disabled), (10, 20), "{}", t.name);
        let state = db
            .credentials()
            .attempts(&AttemptKey::card(&card), CredentialKind::Pin)
            .await
            .unwrap();
        assert_eq!(state.failures, 10, "{}", t.name);
        db.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_password_resets_issue_exactly_three() {
    let limits = ResetPolicy::default();
    for t in backends().await {
        let db = t.connect().await;
        let counter = ResetCounter::account(library_core::PatronId(7));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let store = db.credentials();
                let counter = counter.clone();
                tokio::spawn(async move {
                    store
                        .reserve_reset_request(&counter, T0, &limits.per_account)
                        .await
                })
            })
            .collect();
        let mut granted = 0;
        for task in tasks {
            match task.await.unwrap().unwrap() {
                AttemptDecision::Granted => granted += 1,
                AttemptDecision::Throttled { until } => {
                    assert_eq!(until, T0 + Duration::hours(1), "{}", t.name);
                }
                other => panic!("{}: unexpected {other:?}", t.name),
            }
        }
        assert_eq!(granted, 3, "{}", t.name);
        let window = db.credentials().reset_window(&counter).await.unwrap();
        assert_eq!(window.map(|w| w.requests), Some(3), "{}", t.name);
        db.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_source_attempts_grant_exactly_twenty() {
    let policy = GuessingPolicy::default();
    for t in backends().await {
        let db = t.connect().await;
        let source = AttemptSource("ip:198.51.100.23".into());
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let store = db.credentials();
                let source = source.clone();
                tokio::spawn(
                    async move { store.reserve_source_attempt(&source, T0, &policy).await },
                )
            })
            .collect();
        let mut granted = 0;
        for task in tasks {
            match task.await.unwrap().unwrap() {
                AttemptDecision::Granted => granted += 1,
                AttemptDecision::Throttled { until } => {
                    assert_eq!(until, T0 + Duration::minutes(10), "{}", t.name);
                }
                other => panic!("{}: unexpected {other:?}", t.name),
            }
        }
        assert_eq!(granted, 20, "{}", t.name);
        let window = db.credentials().source_window(&source).await.unwrap();
        assert_eq!(window.map(|w| w.failures), Some(20), "{}", t.name);
        db.close().await.unwrap();
    }
}

/// Both reservations of a login at once (one round trip when both grant): fifty parallel
/// wrong PINs from one address grant exactly ten, and every refused one gives its source
/// reservation back, so the window counts exactly the ten.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_paired_reservations_grant_exactly_ten_and_keep_the_window_exact() {
    let policy = GuessingPolicy {
        throttle_from: None,
        pin_disable_after: 10,
        ..GuessingPolicy::default()
    };
    for t in backends().await {
        let db = t.connect().await;
        let key = AttemptKey::card(&card("21000000000001"));
        let source = AttemptSource("ip:198.51.100.24".into());
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let store = db.credentials();
                let (key, source) = (key.clone(), source.clone());
                tokio::spawn(async move {
                    store
                        .reserve_attempts(&source, &key, CredentialKind::Pin, T0, &policy)
                        .await
                })
            })
            .collect();
        let mut granted = 0;
        for task in tasks {
            match task.await.unwrap().unwrap() {
                AttemptDecision::Granted => granted += 1,
                // Refused by the PIN's cap, or by a window momentarily full of
                // reservations the cap then gives back.
                AttemptDecision::Disabled | AttemptDecision::Throttled { .. } => {}
            }
        }
        assert_eq!(granted, 10, "{}", t.name);
        let store = db.credentials();
        let counter = store.attempts(&key, CredentialKind::Pin).await.unwrap();
        assert_eq!(counter.failures, 10, "{}", t.name);
        let window = store.source_window(&source).await.unwrap();
        assert_eq!(window.map(|w| w.failures), Some(10), "{}", t.name);
        db.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_uses_of_a_temporary_password_succeed_once() {
    for t in backends().await {
        let db = t.connect().await;
        let patron = db
            .patrons()
            .register(&new_patron("21000000000001", None))
            .await
            .unwrap();
        db.credentials()
            .put_temporary_password(
                patron,
                &SecretHash("plain$TempPass1234".into()),
                T0 + Duration::hours(24),
            )
            .await
            .unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = db.credentials();
                tokio::spawn(async move {
                    store
                        .use_temporary_password(
                            patron,
                            &SecretHash("plain$TempPass1234".into()),
                            T0 + Duration::milliseconds(i),
                            5,
                        )
                        .await
                })
            })
            .collect();
        let mut used = 0;
        for task in tasks {
            if task.await.unwrap().unwrap() {
                used += 1;
            }
        }
        assert_eq!(used, 1, "{}", t.name);
        db.close().await.unwrap();
    }
}
