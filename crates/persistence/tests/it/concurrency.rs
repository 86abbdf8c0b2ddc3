//! Atomicity under real parallelism (multi-threaded runtime, pooled connections) on every
//! backend: no cap is passed and no count is lost.

use library_credentials::AttemptKey;
use library_credentials::{
    AttemptDecision, AttemptSource, Backoff, CredentialKind, CredentialStore, GuessingPolicy,
    ResetCounter, ResetPolicy, SecretHash,
};
use time::Duration;

use crate::support::{T0, backends, card, new_patron};

/// No delays: only the caps decide.
fn caps_only() -> GuessingPolicy {
    let p = GuessingPolicy::default();
    GuessingPolicy {
        pair_delay: Backoff {
            from: None,
            ..p.pair_delay
        },
        ..p
    }
}

/// Runs `n` reservations at once, the `i`-th from `source(i)` on `key(i)`; the decisions.
async fn in_parallel(
    db: &library_persistence::Database,
    n: usize,
    source: impl Fn(usize) -> AttemptSource,
    key: impl Fn(usize) -> AttemptKey,
    kind: CredentialKind,
    policy: GuessingPolicy,
) -> Vec<AttemptDecision> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let store = db.credentials();
            let (source, key) = (source(i), key(i));
            tokio::spawn(async move {
                store
                    .reserve_guess(&source, &key, kind, T0, &policy)
                    .await
                    .map(|r| r.decision)
            })
        })
        .collect();
    let mut decisions = Vec::new();
    for task in tasks {
        decisions.push(task.await.unwrap().unwrap());
    }
    decisions
}

/// Thirty wrong PINs at once from thirty sources: the account-wide cap grants exactly ten.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_parallel_wrong_pins_grant_exactly_ten() {
    for t in backends().await {
        let db = t.connect().await;
        let key = AttemptKey::card(&card("21000000000001"));
        let decisions = in_parallel(
            &db,
            30,
            |i| AttemptSource(format!("ip:198.51.100.{i}")),
            |_| key.clone(),
            CredentialKind::Pin,
            caps_only(),
        )
        .await;
        let granted = decisions.iter().filter(|d| **d == AttemptDecision::Granted);
        let disabled = decisions
            .iter()
            .filter(|d| **d == AttemptDecision::Disabled);
        assert_eq!((granted.count(), disabled.count()), (10, 20), "{}", t.name);
        let state = db
            .credentials()
            .attempts(&key, CredentialKind::Pin)
            .await
            .unwrap();
        assert_eq!(state.failures, 10, "{}", t.name);
        db.close().await.unwrap();
    }
}

/// Forty wrong Passwords at once from forty sources: the 20th failure from three or more
/// sources starts the account-wide delay, so exactly twenty are granted and the delay
/// (2 s) is set once, whatever the order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_parallel_guesses_from_many_sources_grant_exactly_twenty() {
    for t in backends().await {
        let db = t.connect().await;
        let key = AttemptKey::card(&card("21000000000002"));
        let decisions = in_parallel(
            &db,
            40,
            |i| AttemptSource(format!("ip:198.51.100.{i}")),
            |_| key.clone(),
            CredentialKind::Password,
            GuessingPolicy::default(),
        )
        .await;
        let granted = decisions
            .iter()
            .filter(|d| **d == AttemptDecision::Granted)
            .count();
        assert_eq!(granted, 20, "{}", t.name);
        for d in decisions {
            assert!(
                matches!(d, AttemptDecision::Granted)
                    || d == AttemptDecision::Throttled {
                        until: T0 + Duration::seconds(2)
                    },
                "{}: {d:?}",
                t.name
            );
        }
        let state = db
            .credentials()
            .attempts(&key, CredentialKind::Password)
            .await
            .unwrap();
        assert_eq!(state.failures, 20, "{}", t.name);
        assert_eq!(
            state.throttled_until,
            Some(T0 + Duration::seconds(2)),
            "{}",
            t.name
        );
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

/// Fifty guesses at once from one source on fifty cards: its window grants exactly twenty.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_source_attempts_grant_exactly_twenty() {
    for t in backends().await {
        let db = t.connect().await;
        let source = AttemptSource("ip:198.51.100.23".into());
        let decisions = in_parallel(
            &db,
            50,
            |_| source.clone(),
            |i| AttemptKey::card(&card(&format!("2100000000{i:04}"))),
            CredentialKind::Pin,
            GuessingPolicy::default(),
        )
        .await;
        let mut granted = 0;
        for d in decisions {
            match d {
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

/// Fifty wrong PINs at once from one address on one card: exactly ten are granted, and a
/// refused one counts nowhere, so the window, the pair and the account all count ten.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_paired_reservations_grant_exactly_ten_and_keep_the_window_exact() {
    for t in backends().await {
        let db = t.connect().await;
        let key = AttemptKey::card(&card("21000000000001"));
        let source = AttemptSource("ip:198.51.100.24".into());
        let decisions = in_parallel(
            &db,
            50,
            |_| source.clone(),
            |_| key.clone(),
            CredentialKind::Pin,
            caps_only(),
        )
        .await;
        let granted = decisions
            .iter()
            .filter(|d| **d == AttemptDecision::Granted)
            .count();
        assert_eq!(granted, 10, "{}", t.name);
        let store = db.credentials();
        let counter = store.attempts(&key, CredentialKind::Pin).await.unwrap();
        assert_eq!(counter.failures, 10, "{}", t.name);
        let pair = store
            .pair(&key, CredentialKind::Pin, &source)
            .await
            .unwrap();
        assert_eq!(pair.map(|p| p.failures), Some(10), "{}", t.name);
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
