//! `CredentialStore` contract: every method, the same scenario on the in-memory reference
//! (`library_credentials::testing::InMemoryCredentialStore`) and on the database, compared
//! step by step.

use library_core::PatronId;
use library_credentials::AttemptKey;
use library_credentials::testing::InMemoryCredentialStore;
use library_credentials::{
    AttemptDecision, AttemptSource, AttemptState, CredentialKind, CredentialStore, GuessingPolicy,
    RequestLimit, RequestWindow, ResetCounter, ResetPolicy, SecretHash, SourceState,
};
use time::Duration;

use crate::support::{T0, backends, card, new_patron, registered};

/// Registers the same readers in the database and the reference.
async fn seeded(db: &library_persistence::Database) -> (InMemoryCredentialStore, Vec<PatronId>) {
    let reference = InMemoryCredentialStore::new();
    let mut ids = Vec::new();
    for (c, email) in [
        ("21000000000001", Some("Reader@Example.com")),
        ("21000000000002", Some("reader@example.COM")),
        ("21000000000003", None),
    ] {
        let new = new_patron(c, email);
        let id = db.patrons().register(&new).await.unwrap();
        reference.insert(registered(id, &new));
        ids.push(id);
    }
    (reference, ids)
}

#[tokio::test]
async fn finders_match_the_reference() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.credentials();
        let (reference, ids) = seeded(&db).await;

        for c in ["21000000000001", "21000000000003", "99999999"] {
            assert_eq!(
                store.find_by_card(&card(c)).await.unwrap(),
                reference.find_by_card(&card(c)).await.unwrap(),
                "{}: find_by_card {c}",
                t.name
            );
        }
        for id in ids.iter().copied().chain([PatronId(9999)]) {
            assert_eq!(
                store.find_by_patron(id).await.unwrap(),
                reference.find_by_patron(id).await.unwrap(),
                "{}: find_by_patron {id}",
                t.name
            );
        }
        for email in [
            "READER@example.com",
            "reader@example.com",
            "nobody@example.com",
            "",
        ] {
            let found = store.find_by_email(email).await.unwrap();
            assert_eq!(
                found,
                reference.find_by_email(email).await.unwrap(),
                "{}: find_by_email {email}",
                t.name
            );
        }
        assert_eq!(
            store
                .find_by_email("reader@EXAMPLE.com")
                .await
                .unwrap()
                .len(),
            2
        );
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn registering_a_card_twice_fails() {
    for t in backends().await {
        let db = t.connect().await;
        db.patrons()
            .register(&new_patron("21000000000001", None))
            .await
            .unwrap();
        assert!(
            db.patrons()
                .register(&new_patron("2100-0000 000001", None))
                .await
                .is_err(),
            "{}: the same canonical card number is unique",
            t.name
        );
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn setters_match_the_reference() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.credentials();
        let (reference, ids) = seeded(&db).await;
        let (a, b) = (ids[0], ids[1]);
        let hash = |s: &str| SecretHash(format!("plain${s}"));

        macro_rules! both {
            ($call:ident($($arg:expr),*)) => {{
                let db_result = store.$call($($arg),*).await;
                let ref_result = reference.$call($($arg),*).await;
                assert_eq!(
                    db_result.is_ok(),
                    ref_result.is_ok(),
                    "{}: {} ok/err: {db_result:?} vs {ref_result:?}",
                    t.name,
                    stringify!($call)
                );
                db_result.ok()
            }};
        }
        macro_rules! same_state {
            ($what:expr) => {
                for id in [a, b] {
                    assert_eq!(
                        store.find_by_patron(id).await.unwrap(),
                        reference.find_by_patron(id).await.unwrap(),
                        "{}: after {}",
                        t.name,
                        $what
                    );
                }
            };
        }

        both!(set_password(a, &hash("Secret1x"), false));
        both!(set_pin(a, &hash("4821")));
        same_state!("set password and PIN");
        both!(set_password(a, &hash("4567"), true));
        same_state!("set default password");

        // Temporary password: expires half a second after T0 (the sub-second case that a
        // textual timestamp comparison gets wrong on SQLite).
        let expires = T0 + Duration::milliseconds(500);
        both!(put_temporary_password(b, &hash("TempPass1234"), expires));
        same_state!("put temporary password");
        assert_eq!(
            both!(use_temporary_password(b, &hash("TempPass1234"), expires, 5)),
            Some(false),
            "{}: expired at expires_at",
            t.name
        );
        assert_eq!(
            both!(use_temporary_password(b, &hash("TempPass9999"), T0, 5)),
            Some(false),
            "{}: only the reader's own temporary password",
            t.name
        );
        for _ in 0..4 {
            both!(count_temporary_failure(b, &hash("TempPass1234")));
        }
        both!(count_temporary_failure(b, &hash("TempPass9999")));
        same_state!("four failures counted");
        assert_eq!(
            both!(use_temporary_password(b, &hash("TempPass1234"), T0, 4)),
            Some(false),
            "{}: four failures of at most four",
            t.name
        );
        assert_eq!(
            both!(use_temporary_password(b, &hash("TempPass1234"), T0, 5)),
            Some(true),
            "{}",
            t.name
        );
        assert_eq!(
            both!(use_temporary_password(b, &hash("TempPass1234"), T0, 5)),
            Some(false),
            "{}: single use",
            t.name
        );
        same_state!("use temporary password");
        // A new one replaces the used one.
        both!(put_temporary_password(
            b,
            &hash("TempPass5678"),
            T0 + Duration::hours(24)
        ));
        same_state!("replace temporary password");
        both!(count_temporary_failure(b, &hash("TempPass5678")));
        same_state!("a failure of the new one");
        both!(clear_temporary_password(b));
        same_state!("clear temporary password");
        // A staff reset: the Password ended, the temporary one stored, the epoch bumped.
        let before = store.find_by_patron(a).await.unwrap().unwrap().epoch;
        both!(reset_password(
            a,
            &hash("TempPass4321"),
            T0 + Duration::hours(24)
        ));
        same_state!("staff reset");
        let after = store.find_by_patron(a).await.unwrap().unwrap();
        assert_eq!(after.epoch, before + 1, "{}", t.name);
        assert_eq!(after.password_hash.0, "", "{}: the Password ended", t.name);
        assert_eq!(
            both!(use_temporary_password(b, &hash("TempPass1234"), T0, 5)),
            Some(false),
            "{}: cleared",
            t.name
        );
        assert_eq!(
            both!(use_temporary_password(a, &hash("TempPass1234"), T0, 5)),
            Some(false),
            "{}: none issued",
            t.name
        );

        // Unknown readers are errors for every writer, as in the reference.
        let ghost = PatronId(9999);
        both!(set_password(ghost, &hash("x"), false));
        both!(set_pin(ghost, &hash("x")));
        both!(put_temporary_password(ghost, &hash("x"), T0));
        both!(use_temporary_password(ghost, &hash("x"), T0, 5));
        both!(reset_password(ghost, &hash("x"), T0));
        both!(clear_temporary_password(ghost));
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn reserve_attempt_matches_the_reference_step_by_step() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.credentials();
        let (reference, _) = seeded(&db).await;
        let policy = GuessingPolicy::default();
        let known = card("21000000000001");
        let unknown = card("ZZ000000000099");
        // (card, kind, seconds after T0); `None` kind means "clear the PIN counter".
        let mut script = Vec::new();
        for s in 0..12 {
            script.push((&known, Some(CredentialKind::Pin), s * 1000));
        }
        for s in [0, 0, 0, 0, 0, 0, 1, 2, 3, 5, 6, 9, 100, 1_000, 5_000] {
            script.push((&known, Some(CredentialKind::Password), s));
        }
        for s in 0..11 {
            script.push((&unknown, Some(CredentialKind::Pin), s * 2000));
        }
        script.push((&known, None, 50_000));
        script.push((&known, Some(CredentialKind::Pin), 50_001));

        for (step, (c, kind, secs)) in script.into_iter().enumerate() {
            let now = T0 + Duration::seconds(secs);
            match kind {
                Some(kind) => {
                    let got = store
                        .reserve_attempt(&AttemptKey::card(c), kind, now, &policy)
                        .await
                        .unwrap();
                    let want = reference
                        .reserve_attempt(&AttemptKey::card(c), kind, now, &policy)
                        .await
                        .unwrap();
                    assert_eq!(
                        got, want,
                        "{}: step {step} ({c:?} {kind:?} +{secs}s)",
                        t.name
                    );
                    assert_eq!(
                        store.attempts(&AttemptKey::card(c), kind).await.unwrap(),
                        reference.attempts(c, kind),
                        "{}: counter after step {step}",
                        t.name
                    );
                    // The port's read (what `CredentialService::pin_locked` reads).
                    assert_eq!(
                        CredentialStore::attempt_state(&store, &AttemptKey::card(c), kind)
                            .await
                            .unwrap(),
                        CredentialStore::attempt_state(&reference, &AttemptKey::card(c), kind)
                            .await
                            .unwrap(),
                        "{}: port read after step {step}",
                        t.name
                    );
                }
                None => {
                    store
                        .clear_attempts(&AttemptKey::card(c), CredentialKind::Pin)
                        .await
                        .unwrap();
                    reference
                        .clear_attempts(&AttemptKey::card(c), CredentialKind::Pin)
                        .await
                        .unwrap();
                    assert_eq!(
                        store
                            .attempts(&AttemptKey::card(c), CredentialKind::Pin)
                            .await
                            .unwrap(),
                        reference.attempts(c, CredentialKind::Pin),
                        "{}: cleared",
                        t.name
                    );
                }
            }
        }
        // Clearing a counter that never existed is fine.
        store
            .clear_attempts(
                &AttemptKey::card(&card("NEVERSEEN")),
                CredentialKind::Password,
            )
            .await
            .unwrap();
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn source_window_matches_the_reference() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.credentials();
        let reference = InMemoryCredentialStore::new();
        let policy = GuessingPolicy::default();
        let ip = AttemptSource("ip:203.0.113.7".into());

        // (reserve or release, seconds after T0)
        let mut script: Vec<(bool, i64)> = (0..22).map(|s| (true, s)).collect();
        script.extend([
            (false, 30),
            (true, 31),
            (true, 32),
            (false, 700),
            (true, 701),
        ]);
        for (step, (reserve, secs)) in script.into_iter().enumerate() {
            let now = T0 + Duration::seconds(secs);
            if reserve {
                let got = store
                    .reserve_source_attempt(&ip, now, &policy)
                    .await
                    .unwrap();
                let want = reference
                    .reserve_source_attempt(&ip, now, &policy)
                    .await
                    .unwrap();
                assert_eq!(got, want, "{}: step {step} reserve +{secs}s", t.name);
            } else {
                store
                    .release_source_attempt(&ip, now, &policy)
                    .await
                    .unwrap();
                reference
                    .release_source_attempt(&ip, now, &policy)
                    .await
                    .unwrap();
            }
        }
        let window = store.source_window(&ip).await.unwrap().unwrap();
        assert_eq!(
            window.window_started_at,
            T0 + Duration::seconds(701),
            "{}",
            t.name
        );
        assert_eq!(window.failures, 1, "{}", t.name);
        // Releasing a source never seen is a no-op.
        let other = AttemptSource("terminal:SC01".into());
        store
            .release_source_attempt(&other, T0, &policy)
            .await
            .unwrap();
        assert_eq!(store.source_window(&other).await.unwrap(), None);
        db.close().await.unwrap();
    }
}

/// Both reservations of a login at once decide, and leave the counter and the window, as
/// the reference's separate calls do, step by step: a PIN guessed from one address until it
/// is disabled (the counter refusing, the source given back), a flood of Passwords from
/// another until its window is full (the source refusing, the counter untouched), the
/// window over, a success in between, and a policy that refuses every PIN outright.
#[tokio::test]
async fn reserving_both_at_once_matches_the_reference_step_by_step() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.credentials();
        let reference = InMemoryCredentialStore::new();
        let policy = GuessingPolicy::default();
        let pin_card = card("21000000000001");
        let home = AttemptSource("ip:203.0.113.7".into());
        let flood = AttemptSource("ip:198.51.100.9".into());
        // (source, card, kind, seconds after T0, settle a success afterwards)
        let mut script = Vec::new();
        for s in 0..16 {
            script.push((&home, pin_card.clone(), CredentialKind::Pin, s * 10, false));
        }
        // One Password tried on card after card: the window fills (after one success
        // gave a reservation back) and refuses before any card's counter is touched.
        for s in 0..25 {
            let c = card(&format!("210000000001{s:02}"));
            script.push((&flood, c, CredentialKind::Password, 2_000 + s, s == 3));
        }
        for s in [2_600, 2_601] {
            script.push((
                &flood,
                card("21000000000199"),
                CredentialKind::Password,
                s,
                false,
            ));
        }
        script.push((
            &home,
            card("21000000000198"),
            CredentialKind::Password,
            9_000,
            false,
        ));
        let mut refusals = (0, 0, 0);
        for (step, (source, c, kind, secs, settle)) in script.into_iter().enumerate() {
            let now = T0 + Duration::seconds(secs);
            let key = AttemptKey::card(&c);
            let got = store
                .reserve_attempts(source, &key, kind, now, &policy)
                .await
                .unwrap();
            let want = reference
                .reserve_attempts(source, &key, kind, now, &policy)
                .await
                .unwrap();
            assert_eq!(
                got, want,
                "{}: step {step} ({c:?} {kind:?} +{secs}s)",
                t.name
            );
            match got {
                AttemptDecision::Granted => {}
                AttemptDecision::Throttled { .. } if source == &home => refusals.0 += 1,
                AttemptDecision::Disabled => refusals.1 += 1,
                AttemptDecision::Throttled { .. } => refusals.2 += 1,
            }
            if settle {
                for s in [&store as &dyn CredentialStore, &reference] {
                    s.settle_success(&key, kind, source, now, &policy)
                        .await
                        .unwrap();
                }
            }
            assert_eq!(
                store.attempts(&key, kind).await.unwrap(),
                reference.attempts(&c, kind),
                "{}: counter after step {step}",
                t.name
            );
            for s in [&home, &flood] {
                assert_eq!(
                    store.source_window(s).await.unwrap(),
                    reference.source_window(s),
                    "{}: {s:?} after step {step}",
                    t.name
                );
            }
        }
        assert_eq!(
            refusals,
            (1, 5, 4),
            "{}: refused (by the PIN's delay, the PIN disabled, by the full window)",
            t.name
        );
        let refusing = GuessingPolicy {
            pin_disable_after: 0,
            ..policy
        };
        let key = AttemptKey::card(&card("21000000000003"));
        let other = AttemptSource("terminal:SC01".into());
        let got = store
            .reserve_attempts(&other, &key, CredentialKind::Pin, T0, &refusing)
            .await
            .unwrap();
        assert_eq!(got, AttemptDecision::Disabled, "{}", t.name);
        assert_eq!(
            store
                .source_window(&other)
                .await
                .unwrap()
                .map(|w| w.failures),
            Some(0),
            "{}: the source reservation given back",
            t.name
        );
        db.close().await.unwrap();
    }
}

/// Brings the (key, kind) counter to `failures` failures and `throttled_until` through the
/// port itself, with policies that only count (and, for the last attempt, set the delay).
async fn counter_at(
    store: &library_persistence::DbCredentialStore,
    key: &AttemptKey,
    kind: CredentialKind,
    failures: u32,
    throttled_until: Option<time::OffsetDateTime>,
) {
    let counting = GuessingPolicy {
        throttle_from: None,
        pin_disable_after: u32::MAX,
        ..GuessingPolicy::default()
    };
    let count = |policy: GuessingPolicy, at| async move {
        let decision = store.reserve_attempt(key, kind, at, &policy).await.unwrap();
        assert_eq!(decision, AttemptDecision::Granted, "setting up {key:?}");
    };
    if failures == 0 {
        count(counting, T0).await;
        store.clear_attempts(key, kind).await.unwrap();
        return;
    }
    for _ in 1..failures {
        count(counting, T0).await;
    }
    match throttled_until {
        None => count(counting, T0).await,
        Some(until) => {
            let delaying = GuessingPolicy {
                throttle_from: Some(failures),
                first_delay: Duration::seconds(1),
                max_delay: Duration::seconds(1),
                ..counting
            };
            count(delaying, until - Duration::seconds(1)).await;
        }
    }
}

/// The store applies the policy in one statement; on every stored state it decides, and
/// leaves the counter, exactly as `GuessingPolicy::reserve` does: each failure count through
/// the delay table and past the PIN cap, with the delay over, over to the microsecond, and
/// not over by a microsecond.
#[tokio::test]
async fn reservations_decide_as_the_policy_on_every_counter_state() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.credentials();
        let policy = GuessingPolicy::default();
        let now = T0 + Duration::hours(1);
        let micro = Duration::microseconds(1);
        let mut case = 0;
        for kind in [CredentialKind::Pin, CredentialKind::Password] {
            let key = AttemptKey::staff(&format!("fresh-{}", kind.as_str()));
            let want = policy.reserve(kind, AttemptState::default(), now);
            let got = store
                .reserve_attempt(&key, kind, now, &policy)
                .await
                .unwrap();
            assert_eq!(got, want.0, "{}: {kind:?} without a row", t.name);
            assert_eq!(
                Some(store.attempts(&key, kind).await.unwrap()),
                want.1,
                "{}: {kind:?} row written",
                t.name
            );
            for failures in (0..=16).chain([40]) {
                let untils: &[Option<time::OffsetDateTime>] = if failures == 0 {
                    &[None]
                } else {
                    &[None, Some(now - micro), Some(now), Some(now + micro)]
                };
                for &until in untils {
                    case += 1;
                    let key = AttemptKey::staff(&format!("case-{case}"));
                    counter_at(&store, &key, kind, failures, until).await;
                    let state = store.attempts(&key, kind).await.unwrap();
                    assert_eq!(
                        state,
                        AttemptState {
                            failures,
                            throttled_until: until
                        },
                        "{}: set up",
                        t.name
                    );
                    let (decision, next) = policy.reserve(kind, state, now);
                    let got = store
                        .reserve_attempt(&key, kind, now, &policy)
                        .await
                        .unwrap();
                    assert_eq!(got, decision, "{}: {kind:?} from {state:?}", t.name);
                    assert_eq!(
                        store.attempts(&key, kind).await.unwrap(),
                        next.unwrap_or(state),
                        "{}: {kind:?} counter after an attempt from {state:?}",
                        t.name
                    );
                }
            }
        }
        db.close().await.unwrap();
    }
}

/// As above for the per-source window: reserving and giving back from every window state
/// (open, over to the microsecond, over) at and around the cap.
#[tokio::test]
async fn source_reservations_decide_as_the_policy_on_every_window_state() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.credentials();
        let policy = GuessingPolicy::default();
        let roomy = GuessingPolicy {
            source_max_failures: 100,
            ..policy
        };
        let now = T0 + Duration::hours(1);
        let micro = Duration::microseconds(1);
        let mut case = 0;
        let starts = [
            now - policy.source_window - micro,
            now - policy.source_window,
            now - policy.source_window + micro,
            now,
        ];
        for started in starts {
            for failures in [0, 1, 19, 20, 21] {
                for reserve in [true, false] {
                    case += 1;
                    let source = AttemptSource(format!("terminal:CASE{case}"));
                    for _ in 0..failures.max(1) {
                        let granted = store
                            .reserve_source_attempt(&source, started, &roomy)
                            .await
                            .unwrap();
                        assert_eq!(granted, AttemptDecision::Granted, "{}: set up", t.name);
                    }
                    if failures == 0 {
                        store
                            .release_source_attempt(&source, started, &roomy)
                            .await
                            .unwrap();
                    }
                    let state = store.source_window(&source).await.unwrap().unwrap();
                    assert_eq!(
                        state,
                        SourceState {
                            window_started_at: started,
                            failures
                        },
                        "{}: set up",
                        t.name
                    );
                    let after = if reserve {
                        let (decision, next) = policy.reserve_source(Some(state), now);
                        let got = store
                            .reserve_source_attempt(&source, now, &policy)
                            .await
                            .unwrap();
                        assert_eq!(got, decision, "{}: reserve from {state:?}", t.name);
                        next.unwrap_or(state)
                    } else {
                        store
                            .release_source_attempt(&source, now, &policy)
                            .await
                            .unwrap();
                        policy.release_source(state, now)
                    };
                    assert_eq!(
                        store.source_window(&source).await.unwrap(),
                        Some(after),
                        "{}: {} from {state:?}",
                        t.name,
                        if reserve { "reserve" } else { "release" }
                    );
                }
            }
        }
        db.close().await.unwrap();
    }
}

/// After a success the counter is cleared and the source reservation given back, in one
/// round trip, as the reference's two calls do: within the window, after it, and for a
/// counter and a source never seen.
#[tokio::test]
async fn settling_a_success_clears_the_counter_and_gives_the_source_back() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.credentials();
        let reference = InMemoryCredentialStore::new();
        let policy = GuessingPolicy::default();
        let known = card("21000000000001");
        let key = AttemptKey::card(&known);
        let ip = AttemptSource("ip:203.0.113.7".into());
        for s in 0..6 {
            let at = T0 + Duration::seconds(s);
            for kind in [CredentialKind::Pin, CredentialKind::Password] {
                store
                    .reserve_attempt(&key, kind, at, &policy)
                    .await
                    .unwrap();
                reference
                    .reserve_attempt(&key, kind, at, &policy)
                    .await
                    .unwrap();
            }
            store
                .reserve_source_attempt(&ip, at, &policy)
                .await
                .unwrap();
            reference
                .reserve_source_attempt(&ip, at, &policy)
                .await
                .unwrap();
        }
        for (step, secs) in [(0, 10), (1, 11), (2, 10 * 60 + 1)] {
            let at = T0 + Duration::seconds(secs);
            store
                .settle_success(&key, CredentialKind::Pin, &ip, at, &policy)
                .await
                .unwrap();
            reference
                .settle_success(&key, CredentialKind::Pin, &ip, at, &policy)
                .await
                .unwrap();
            for kind in [CredentialKind::Pin, CredentialKind::Password] {
                assert_eq!(
                    store.attempts(&key, kind).await.unwrap(),
                    reference.attempts(&known, kind),
                    "{}: {kind:?} after settling {step}",
                    t.name
                );
            }
            assert_eq!(
                store.source_window(&ip).await.unwrap(),
                reference.source_window(&ip),
                "{}: source after settling {step}",
                t.name
            );
        }
        assert_eq!(
            store.source_window(&ip).await.unwrap().map(|w| w.failures),
            Some(4),
            "{}: two given back within the window, none after it",
            t.name
        );
        let unseen = AttemptSource("terminal:SC01".into());
        store
            .settle_success(
                &AttemptKey::card(&card("NEVERSEEN")),
                CredentialKind::Password,
                &unseen,
                T0,
                &policy,
            )
            .await
            .unwrap();
        assert_eq!(store.source_window(&unseen).await.unwrap(), None);
        db.close().await.unwrap();
    }
}

/// The purge deletes only rows that read as the default state: a cleared counter and the
/// windows that are over (to the microsecond). Failures, a PIN lock and open windows stay,
/// and every later decision is the reference's, which never purged.
#[tokio::test]
async fn purging_stale_attempts_changes_no_decision() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.credentials();
        let reference = InMemoryCredentialStore::new();
        let policy = GuessingPolicy::default();
        let micro = Duration::microseconds(1);
        let cleared = card("21000000000001");
        let failing = card("21000000000002");
        let locked = card("21000000000003");
        let over = AttemptSource("ip:203.0.113.1".into());
        let edge = AttemptSource("ip:203.0.113.2".into());
        let open = AttemptSource("ip:203.0.113.3".into());
        let now = T0 + policy.source_window;
        // (card, kind, attempts, source, when)
        let script = [
            (&cleared, CredentialKind::Password, 2, &over, T0 - micro),
            (&failing, CredentialKind::Password, 3, &edge, T0),
            (&locked, CredentialKind::Pin, 10, &open, T0 + micro),
        ];
        for s in [&store as &dyn CredentialStore, &reference] {
            for (c, kind, attempts, source, at) in script {
                for n in 0..attempts {
                    // A day apart: no delay is running when the next attempt comes.
                    let at = at - Duration::days(attempts - n - 1);
                    let key = AttemptKey::card(c);
                    s.reserve_source_attempt(source, at, &policy).await.unwrap();
                    s.reserve_attempt(&key, kind, at, &policy).await.unwrap();
                }
            }
            s.clear_attempts(&AttemptKey::card(&cleared), CredentialKind::Password)
                .await
                .unwrap();
        }
        assert_eq!(
            store.purge_stale_attempts(now, &policy).await.unwrap(),
            3,
            "{}: the cleared counter and two windows over",
            t.name
        );
        assert_eq!(store.purge_stale_attempts(now, &policy).await.unwrap(), 0);
        assert_eq!(
            store.source_window(&over).await.unwrap(),
            None,
            "{}",
            t.name
        );
        assert_eq!(
            store.source_window(&edge).await.unwrap(),
            None,
            "{}",
            t.name
        );
        assert_eq!(
            store.source_window(&open).await.unwrap(),
            reference.source_window(&open),
            "{}: the open window stays",
            t.name
        );
        for (c, kind, ..) in script {
            assert_eq!(
                store.attempts(&AttemptKey::card(c), kind).await.unwrap(),
                reference.attempts(c, kind),
                "{}: {c:?} {kind:?}",
                t.name
            );
        }
        // Every decision after the purge is the reference's.
        for (c, kind, _, source, _) in script {
            let key = AttemptKey::card(c);
            assert_eq!(
                store
                    .reserve_attempts(source, &key, kind, now, &policy)
                    .await
                    .unwrap(),
                reference
                    .reserve_attempts(source, &key, kind, now, &policy)
                    .await
                    .unwrap(),
                "{}: {c:?} from {source:?}",
                t.name
            );
            assert_eq!(
                store.source_window(source).await.unwrap(),
                reference.source_window(source),
                "{}",
                t.name
            );
        }
        db.close().await.unwrap();
    }
}

/// "Forgot Password" windows decide, and are left, as the reference's, request by request:
/// an account's three an hour (the third granted, the fourth not, up to the window's last
/// microsecond; a new window at its end), a source's ten, and a limit that grants nothing.
#[tokio::test]
async fn reset_windows_match_the_reference_step_by_step() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.credentials();
        let reference = InMemoryCredentialStore::new();
        let limits = ResetPolicy::default();
        let none = RequestLimit {
            max_requests: 0,
            ..limits.per_account
        };
        let micro = Duration::microseconds(1);
        let account = ResetCounter::account(PatronId(1));
        let other = ResetCounter::account(PatronId(2));
        let source = ResetCounter::source(&AttemptSource("ip:203.0.113.7".into()));
        let hour = Duration::hours(1);
        // (counter, limit, offset from T0)
        let mut script: Vec<(&ResetCounter, &RequestLimit, Duration)> = vec![
            (&account, &limits.per_account, Duration::ZERO),
            (&account, &limits.per_account, Duration::minutes(20)),
            (&account, &limits.per_account, Duration::minutes(40)),
            (&account, &limits.per_account, Duration::minutes(41)),
            (&account, &limits.per_account, hour - micro),
            (&account, &limits.per_account, hour),
            (&account, &limits.per_account, hour + micro),
            (&other, &none, Duration::ZERO),
        ];
        for n in 0..12 {
            script.push((&source, &limits.per_source, Duration::minutes(n)));
        }
        script.push((&source, &limits.per_source, Duration::minutes(61)));
        for (step, (counter, limit, offset)) in script.into_iter().enumerate() {
            let now = T0 + offset;
            let got = store
                .reserve_reset_request(counter, now, limit)
                .await
                .unwrap();
            let want = reference
                .reserve_reset_request(counter, now, limit)
                .await
                .unwrap();
            assert_eq!(got, want, "{}: step {step} ({counter:?} +{offset})", t.name);
            assert_eq!(
                store.reset_window(counter).await.unwrap(),
                reference.reset_window(counter),
                "{}: window after step {step}",
                t.name
            );
        }
        assert_eq!(
            store.reset_window(&account).await.unwrap(),
            Some(RequestWindow {
                ends_at: T0 + 2 * hour,
                requests: 2
            }),
            "{}",
            t.name
        );
        assert_eq!(store.reset_window(&other).await.unwrap(), None);
        db.close().await.unwrap();
    }
}

/// From every stored window state around the edges (over a microsecond ago, ending now,
/// ending a microsecond from now; below, at and above the limit), one request decides and
/// leaves the window as [`RequestLimit::reserve`] says.
#[tokio::test]
async fn reset_reservations_decide_as_the_limit_on_every_window_state() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.credentials();
        let limit = ResetPolicy::default().per_account;
        let roomy = RequestLimit {
            max_requests: 100,
            ..limit
        };
        let now = T0 + Duration::hours(5);
        let micro = Duration::microseconds(1);
        let mut case = 0;
        for ends_at in [now - micro, now, now + micro] {
            for requests in [1, 2, 3, 4] {
                case += 1;
                let counter = ResetCounter::account(PatronId(case));
                let opened = ends_at - limit.window;
                for _ in 0..requests {
                    let granted = store
                        .reserve_reset_request(&counter, opened, &roomy)
                        .await
                        .unwrap();
                    assert_eq!(granted, AttemptDecision::Granted, "{}: set up", t.name);
                }
                let state = RequestWindow { ends_at, requests };
                assert_eq!(
                    store.reset_window(&counter).await.unwrap(),
                    Some(state),
                    "{}: set up",
                    t.name
                );
                let (decision, next) = limit.reserve(Some(state), now);
                assert_eq!(
                    store
                        .reserve_reset_request(&counter, now, &limit)
                        .await
                        .unwrap(),
                    decision,
                    "{}: from {state:?}",
                    t.name
                );
                assert_eq!(
                    store.reset_window(&counter).await.unwrap(),
                    Some(next.unwrap_or(state)),
                    "{}: after {state:?}",
                    t.name
                );
            }
        }
        db.close().await.unwrap();
    }
}

/// The purge deletes the "forgot Password" windows that are over, and no decision changes.
#[tokio::test]
async fn purging_removes_reset_windows_that_are_over() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.credentials();
        let limits = ResetPolicy::default();
        let policy = GuessingPolicy::default();
        let micro = Duration::microseconds(1);
        let over = ResetCounter::account(PatronId(1));
        let edge = ResetCounter::account(PatronId(2));
        let open = ResetCounter::source(&AttemptSource("ip:203.0.113.3".into()));
        let now = T0 + Duration::hours(1);
        for (counter, at) in [(&over, T0 - micro), (&edge, T0), (&open, T0 + micro)] {
            for _ in 0..3 {
                store
                    .reserve_reset_request(counter, at, &limits.per_account)
                    .await
                    .unwrap();
            }
        }
        assert_eq!(
            store.purge_stale_attempts(now, &policy).await.unwrap(),
            2,
            "{}: two windows over",
            t.name
        );
        assert_eq!(store.reset_window(&over).await.unwrap(), None);
        assert_eq!(store.reset_window(&edge).await.unwrap(), None);
        assert_eq!(
            store.reset_window(&open).await.unwrap(),
            Some(RequestWindow {
                ends_at: T0 + micro + Duration::hours(1),
                requests: 3
            }),
            "{}: the open window stays",
            t.name
        );
        // Still full: the purge changed no decision.
        assert_eq!(
            store
                .reserve_reset_request(&open, now, &limits.per_account)
                .await
                .unwrap(),
            AttemptDecision::Throttled {
                until: T0 + micro + Duration::hours(1)
            }
        );
        db.close().await.unwrap();
    }
}
