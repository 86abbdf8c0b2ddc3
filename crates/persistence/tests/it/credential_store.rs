//! `CredentialStore` contract: every method, the same scenario on the in-memory reference
//! (`library_credentials::testing::InMemoryCredentialStore`) and on the database, compared
//! step by step.

use library_core::PatronId;
use library_credentials::AttemptKey;
use library_credentials::testing::InMemoryCredentialStore;
use library_credentials::{
    AttemptDecision, AttemptSource, Backoff, CredentialKind, CredentialStore, GuessingPolicy,
    RequestLimit, RequestWindow, ResetCounter, ResetPolicy, SecretHash,
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

/// A small deterministic generator for the scripts below.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from((self.0 >> 33) % u64::try_from(n).unwrap()).unwrap()
    }
}

/// Smaller numbers than the product's, so a short script reaches every limit.
fn tight() -> GuessingPolicy {
    GuessingPolicy {
        pair_delay: Backoff {
            from: Some(3),
            first: Duration::seconds(1),
            max: Duration::seconds(20),
        },
        account_delay: Backoff {
            from: Some(6),
            first: Duration::seconds(2),
            max: Duration::seconds(30),
        },
        account_min_sources: 2,
        known_source_for: Duration::hours(1),
        pin_disable_after: 8,
        source_max_failures: 9,
        source_window: Duration::minutes(2),
    }
}

/// Compares every counter the script touches, in the store and in the reference.
async fn assert_same_counters(
    store: &library_persistence::DbCredentialStore,
    reference: &InMemoryCredentialStore,
    keys: &[AttemptKey],
    sources: &[AttemptSource],
    context: &str,
) {
    for key in keys {
        for kind in [CredentialKind::Password, CredentialKind::Pin] {
            assert_eq!(
                store.attempts(key, kind).await.unwrap(),
                reference.account(key, kind),
                "{context}: account {key:?} {kind:?}"
            );
            for source in sources {
                assert_eq!(
                    store
                        .pair(key, kind, source)
                        .await
                        .unwrap()
                        .unwrap_or_default(),
                    reference.pair(key, kind, source),
                    "{context}: pair {key:?} {kind:?} {source:?}"
                );
            }
        }
    }
    for source in sources {
        assert_eq!(
            store.source_window(source).await.unwrap(),
            reference.source_window(source),
            "{context}: window {source:?}"
        );
    }
}

/// Reservations, successes, give-backs and clears in a long pseudo-random script over
/// three accounts and five sources: every decision (and what it sets off) and every
/// counter after every step are the reference's, with the product's numbers and with
/// tight ones that reach every limit (pair and account delays, known sources, the PIN
/// lock, full windows).
#[tokio::test]
async fn guesses_match_the_reference_step_by_step() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.credentials();
        for (name, policy) in [("tight", tight()), ("default", GuessingPolicy::default())] {
            let reference = InMemoryCredentialStore::new();
            let keys: Vec<AttemptKey> = ["21000000000001", "21000000000002"]
                .iter()
                .map(|c| AttemptKey::card(&card(c)))
                .chain([AttemptKey::staff(&format!("desk-{name}"))])
                .collect();
            let sources: Vec<AttemptSource> = (1..=5)
                .map(|i| AttemptSource(format!("ip:192.0.2.{i}-{name}")))
                .collect();
            for key in &keys {
                for kind in [CredentialKind::Password, CredentialKind::Pin] {
                    store.clear_attempts(key, kind).await.unwrap();
                }
            }
            let mut rng = Lcg(7);
            let mut now = T0;
            let mut seen = std::collections::HashSet::new();
            for step in 0..600 {
                let key = &keys[rng.below(3)];
                let source = &sources[rng.below(5)];
                let kind = if rng.below(4) == 0 {
                    CredentialKind::Pin
                } else {
                    CredentialKind::Password
                };
                let context = format!("{}/{name} step {step}", t.name);
                match rng.below(100) {
                    0..=2 => {
                        store.clear_attempts(key, kind).await.unwrap();
                        reference.clear_attempts(key, kind).await.unwrap();
                    }
                    _ => {
                        let got = store
                            .reserve_guess(source, key, kind, now, &policy)
                            .await
                            .unwrap();
                        let want = reference
                            .reserve_guess(source, key, kind, now, &policy)
                            .await
                            .unwrap();
                        assert_eq!(got, want, "{context}");
                        seen.insert(
                            format!("{:?}", want.decision)
                                .chars()
                                .take(9)
                                .collect::<String>(),
                        );
                        if want.tripped.account_delayed_until.is_some() {
                            seen.insert("account delay".into());
                        }
                        if got.decision == AttemptDecision::Granted {
                            match rng.below(10) {
                                0..=1 => {
                                    store
                                        .settle_success(key, kind, source, now, &policy)
                                        .await
                                        .unwrap();
                                    reference
                                        .settle_success(key, kind, source, now, &policy)
                                        .await
                                        .unwrap();
                                }
                                2 => {
                                    store
                                        .give_back(key, kind, source, now, &policy)
                                        .await
                                        .unwrap();
                                    reference
                                        .give_back(key, kind, source, now, &policy)
                                        .await
                                        .unwrap();
                                }
                                _ => {}
                            }
                        }
                    }
                }
                assert_same_counters(&store, &reference, &keys, &sources, &context).await;
                now += match rng.below(20) {
                    0 => policy.known_source_for + Duration::seconds(1),
                    1..=4 => Duration::ZERO,
                    _ => Duration::milliseconds(i64::try_from(rng.below(4_000)).unwrap() * 7),
                };
            }
            if name == "tight" {
                for what in ["Granted", "Throttled", "Disabled", "account delay"] {
                    assert!(
                        seen.contains(what),
                        "{}: the script never saw {what}",
                        t.name
                    );
                }
            }
        }
        db.close().await.unwrap();
    }
}

/// The purge deletes only what no decision reads: cleared counters, windows that are over
/// (to the microsecond) and pairs idle for longer than a source stays known. Failures, a
/// PIN lock, open windows and a source known for exactly 30 days stay, and every later
/// decision is the reference's, which never purged.
#[tokio::test]
async fn purging_stale_attempts_changes_no_decision() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.credentials();
        let reference = InMemoryCredentialStore::new();
        let policy = GuessingPolicy::default();
        let micro = Duration::microseconds(1);
        let cleared = AttemptKey::card(&card("21000000000001"));
        let failing = AttemptKey::card(&card("21000000000002"));
        let locked = AttemptKey::card(&card("21000000000003"));
        let over = AttemptSource("ip:203.0.113.1".into());
        let edge = AttemptSource("ip:203.0.113.2".into());
        let open = AttemptSource("ip:203.0.113.3".into());
        let old = AttemptSource("ip:203.0.113.4".into());
        let home = AttemptSource("ip:203.0.113.5".into());
        let now = T0 + policy.source_window;
        let password = CredentialKind::Password;
        for s in [&store as &dyn CredentialStore, &reference] {
            // A success 40 days ago (idle since: purged), one exactly 30 days ago (kept).
            for (key, source, at) in [
                (&failing, &old, T0 - Duration::days(40)),
                (&locked, &home, now - Duration::days(30)),
            ] {
                s.reserve_guess(source, key, password, at, &policy)
                    .await
                    .unwrap();
                s.settle_success(key, password, source, at, &policy)
                    .await
                    .unwrap();
            }
            // (account, kind, attempts, source, when the last one is)
            for (key, kind, attempts, source, at) in [
                (&cleared, password, 2, &over, T0 - micro),
                (&failing, password, 3, &edge, T0),
                (&locked, CredentialKind::Pin, 10, &open, T0 + micro),
            ] {
                for n in 0..attempts {
                    // A day apart: no delay is running when the next attempt comes.
                    let at = at - Duration::days(attempts - n - 1);
                    let r = s.reserve_guess(source, key, kind, at, &policy).await;
                    assert_eq!(r.unwrap().decision, AttemptDecision::Granted);
                }
            }
            s.clear_attempts(&cleared, password).await.unwrap();
        }
        assert_eq!(
            store.purge_stale_attempts(now, &policy).await.unwrap(),
            7,
            "{}: two cleared counters, four windows over, one idle pair",
            t.name
        );
        assert_eq!(store.purge_stale_attempts(now, &policy).await.unwrap(), 0);
        for gone in [&over, &edge, &old, &home] {
            assert_eq!(store.source_window(gone).await.unwrap(), None, "{}", t.name);
        }
        assert_eq!(
            store.source_window(&open).await.unwrap(),
            reference.source_window(&open),
            "{}: the open window stays",
            t.name
        );
        assert_eq!(store.pair(&failing, password, &old).await.unwrap(), None);
        assert_eq!(
            store.pair(&locked, password, &home).await.unwrap(),
            Some(reference.pair(&locked, password, &home)),
            "{}: the known source stays",
            t.name
        );
        let keys = [cleared, failing, locked];
        let sources = [over, edge, open, old, home];
        for key in &keys {
            for kind in [password, CredentialKind::Pin] {
                assert_eq!(
                    store.attempts(key, kind).await.unwrap(),
                    reference.account(key, kind),
                    "{}: {key:?} {kind:?}",
                    t.name
                );
            }
        }
        // Every decision after the purge is the reference's.
        for key in &keys {
            for source in &sources {
                for kind in [password, CredentialKind::Pin] {
                    assert_eq!(
                        store
                            .reserve_guess(source, key, kind, now, &policy)
                            .await
                            .unwrap(),
                        reference
                            .reserve_guess(source, key, kind, now, &policy)
                            .await
                            .unwrap(),
                        "{}: {key:?} {kind:?} from {source:?}",
                        t.name
                    );
                }
            }
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
