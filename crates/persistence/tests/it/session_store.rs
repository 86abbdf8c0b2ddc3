//! `SessionStore` contract, compared with `InMemorySessionStore`: create, find, revoke one,
//! revoke a reader's sessions (all, or one scope); staff sessions are left alone; revoked
//! sessions are never found again; a session read with its staff user (one join).

use std::sync::Arc;

use library_core::{PatronId, StaffId};
use library_credentials::testing::{InMemorySessionStore, InMemoryStaffStore};
use library_credentials::{
    Scope, SecretHash, Session, SessionStore, StaffCredentialStore, StoredStaff, Subject, TokenHash,
};
use library_persistence::NewStaffUser;
use time::Duration;

use crate::support::{self, T0, backends, new_patron};

fn session(n: u8, subject: Subject, scope: Scope) -> Session {
    Session {
        token_hash: TokenHash([n; 32]),
        subject,
        scope,
        // Microsecond precision survives the round trip on both backends.
        created_at: T0 + Duration::microseconds(123_456),
        expires_at: T0 + Duration::hours(24),
    }
}

enum Revoke {
    One(u8),
    Patron(PatronId, Option<Scope>),
}

#[tokio::test]
async fn sessions_match_the_reference() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.sessions();
        let reference = InMemorySessionStore::new();
        let a = db
            .patrons()
            .register(&new_patron("21000000000001", None))
            .await
            .unwrap();
        let b = db
            .patrons()
            .register(&new_patron("21000000000002", None))
            .await
            .unwrap();
        let staff = db
            .staff()
            .create(&NewStaffUser {
                username: "librarian1".into(),
                password_hash: SecretHash("plain$x".into()),
                role: library_credentials::StaffRole::Librarian,
                may_override: false,
                created_at: T0,
            })
            .await
            .unwrap();
        // The reference's staff users, for `find_with_staff` (the database joins its own).
        let reference_staff = Arc::new(InMemoryStaffStore::new());
        reference_staff.insert(StoredStaff {
            id: staff,
            username: "librarian1".into(),
            password_hash: SecretHash("plain$x".into()),
            role: library_credentials::StaffRole::Librarian,
            may_override: false,
        });
        let all = [
            session(1, Subject::Patron(a), Scope::Full),
            session(2, Subject::Patron(a), Scope::Pin),
            session(3, Subject::Patron(a), Scope::Pin),
            session(4, Subject::Patron(a), Scope::ChangePasswordOnly),
            session(5, Subject::Patron(b), Scope::Pin),
            session(6, Subject::Staff(staff), Scope::Staff),
        ];
        for s in &all {
            store.create(s).await.unwrap();
            reference.create(s).await.unwrap();
        }
        let compare = |what: &'static str| {
            let (store, reference, name) = (&store, &reference, t.name);
            let staff: Arc<dyn StaffCredentialStore> = reference_staff.clone();
            async move {
                for n in 0..=7 {
                    let hash = TokenHash([n; 32]);
                    assert_eq!(
                        store.find(&hash).await.unwrap(),
                        reference.find(&hash).await.unwrap(),
                        "{name}: token {n} after {what}"
                    );
                    assert_eq!(
                        store
                            .find_with_staff(&hash, Arc::clone(&staff))
                            .await
                            .unwrap(),
                        reference
                            .find_with_staff(&hash, Arc::clone(&staff))
                            .await
                            .unwrap(),
                        "{name}: token {n} with its staff user after {what}"
                    );
                }
            }
        };
        compare("create").await;

        for (what, action) in [
            ("revoke 1", Revoke::One(1)),
            ("revoke an unknown token", Revoke::One(9)),
            (
                "revoke a's PIN sessions",
                Revoke::Patron(a, Some(Scope::Pin)),
            ),
            ("revoke all of a's", Revoke::Patron(a, None)),
            (
                "revoke a reader with none",
                Revoke::Patron(PatronId(9999), None),
            ),
            ("revoke 1 again", Revoke::One(1)),
        ] {
            match action {
                Revoke::One(n) => {
                    store.revoke(&TokenHash([n; 32])).await.unwrap();
                    reference.revoke(&TokenHash([n; 32])).await.unwrap();
                }
                Revoke::Patron(patron, scope) => {
                    store.revoke_patron_sessions(patron, scope).await.unwrap();
                    reference
                        .revoke_patron_sessions(patron, scope)
                        .await
                        .unwrap();
                }
            }
            compare(what).await;
        }
        // Still there: b's PIN session and the staff session.
        assert!(store.find(&TokenHash([5; 32])).await.unwrap().is_some());
        assert_eq!(
            store
                .find(&TokenHash([6; 32]))
                .await
                .unwrap()
                .unwrap()
                .subject,
            Subject::Staff(staff),
            "{}",
            t.name
        );
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_session_for_an_unknown_subject_or_a_duplicate_token_is_refused() {
    for t in backends().await {
        let db = t.connect().await;
        let store = db.sessions();
        let a = db
            .patrons()
            .register(&new_patron("21000000000001", None))
            .await
            .unwrap();
        store
            .create(&session(1, Subject::Patron(a), Scope::Full))
            .await
            .unwrap();
        // 256-bit tokens never collide; a duplicate means a bug, not a replacement.
        assert!(
            store
                .create(&session(1, Subject::Patron(a), Scope::Pin))
                .await
                .is_err(),
            "{}",
            t.name
        );
        assert!(
            store
                .create(&session(2, Subject::Patron(PatronId(9999)), Scope::Full))
                .await
                .is_err(),
            "{}: foreign keys are enforced",
            t.name
        );
        assert!(
            store
                .create(&session(3, Subject::Staff(StaffId(9999)), Scope::Staff))
                .await
                .is_err(),
            "{}",
            t.name
        );
        db.close().await.unwrap();
    }
}

/// Polls until `store` no longer finds the session ([`support::eventually`]).
async fn eventually_gone(
    what: &str,
    store: &library_persistence::DbSessionStore,
    hash: &TokenHash,
) {
    support::eventually(what, || async {
        store
            .find_with_staff(hash, Arc::new(InMemoryStaffStore::new()))
            .await
            .unwrap()
            .is_none()
    })
    .await;
}

#[tokio::test]
async fn a_revocation_reaches_every_process() {
    use sea_orm::ConnectionTrait;
    for t in backends().await {
        // Both listen (on PostgreSQL) before looking up, so both really keep what they find.
        let (first, second) = support::two_processes(&t).await;
        let reader = first
            .patrons()
            .register(&new_patron("21000000000001", None))
            .await
            .unwrap();
        let staff_of = || Arc::new(InMemoryStaffStore::new());
        let sessions = [
            session(1, Subject::Patron(reader), Scope::Full),
            session(2, Subject::Patron(reader), Scope::Pin),
            session(3, Subject::Patron(reader), Scope::Full),
        ];
        for s in &sessions {
            first.sessions().create(s).await.unwrap();
        }
        let found = |db: &library_persistence::Database, n: usize| {
            let store = db.sessions();
            let hash = sessions[n].token_hash;
            async move {
                store
                    .find_with_staff(&hash, staff_of())
                    .await
                    .unwrap()
                    .map(|(s, _)| s)
            }
        };
        for db in [&first, &second] {
            for (n, s) in sessions.iter().enumerate() {
                assert_eq!(found(db, n).await.as_ref(), Some(s), "{}", t.name);
            }
        }

        // Revoked through one process: gone there at once, and in the other when announced.
        first
            .sessions()
            .revoke(&sessions[0].token_hash)
            .await
            .unwrap();
        assert_eq!(found(&first, 0).await, None, "{}", t.name);
        eventually_gone(t.name, &second.sessions(), &sessions[0].token_hash).await;
        // A reader's sessions revoked through the other.
        second
            .sessions()
            .revoke_patron_sessions(reader, Some(Scope::Pin))
            .await
            .unwrap();
        assert_eq!(found(&second, 1).await, None, "{}", t.name);
        eventually_gone(t.name, &first.sessions(), &sessions[1].token_hash).await;
        assert_eq!(
            found(&first, 2).await.as_ref(),
            Some(&sessions[2]),
            "{}",
            t.name
        );

        // What a process keeps is not read again: a revocation written behind the stores'
        // back (no announcement) is not seen on PostgreSQL, which keeps sessions; SQLite
        // keeps none and reads it at once.
        let raw = sea_orm::Database::connect(&t.url).await.unwrap();
        raw.execute_unprepared("UPDATE sessions SET revoked_at = created_at")
            .await
            .unwrap();
        let kept = found(&first, 2).await.is_some();
        assert_eq!(
            kept,
            first.backend() == library_persistence::Backend::Postgres,
            "{}",
            t.name
        );
        raw.close().await.unwrap();
    }
}
