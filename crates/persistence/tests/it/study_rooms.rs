//! The study-room store on every backend: schemes, one application per reader (also
//! under real parallelism), the ballot drawn once from its recorded seed, staff decisions,
//! revocation and the card read at the door.

use std::sync::Arc;

use library_app::{AuditRecord, StudyRoomError, StudyRoomStore};
use library_premises::study_room::ballot::{Entrant, draw};
use library_premises::study_room::{
    ApplicationId, ApplicationRefusal, BallotRefusal, Channel, Decision, DecisionRefusal,
    NewApplication, NewScheme, RevocationRefusal, SchemeForm, SchemeId, StaffDecision,
};
use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};

use crate::circ_support::seed_db;
use crate::support::backends;

const AT: OffsetDateTime = datetime!(2021-02-10 10:00 +08:00);

fn scheme(library: Option<&str>, places: i64) -> NewScheme {
    SchemeForm {
        name: "Students' Study Rooms 2021".into(),
        name_zh: "自修室 2021".into(),
        library_code: library.map(str::to_owned),
        opens_on: date!(2021 - 02 - 10),
        closes_on: date!(2021 - 02 - 28),
        valid_from: date!(2021 - 03 - 15),
        valid_to: date!(2021 - 05 - 20),
        extended_from: Some(date!(2021 - 03 - 01)),
        extended_to: Some(date!(2021 - 05 - 31)),
        extended_hours: vec!["08:00-13:00".into(), "14:00-22:00".into()],
        places,
        priority_percent: Some(95),
    }
    .parse()
    .unwrap()
}

fn web(on: Date, candidate: bool) -> NewApplication {
    NewApplication {
        channel: Channel::Web,
        counted_on: on,
        exam_candidate: candidate,
        exam: if candidate {
            "HKDSE".into()
        } else {
            String::new()
        },
    }
}

fn audit(action: &'static str, subject: String) -> AuditRecord {
    AuditRecord {
        staff: None,
        action,
        subject,
        details: "{}".into(),
        at: AT,
    }
}

#[tokio::test]
async fn schemes_applications_ballot_decisions_and_cards() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 6, 0).await;
        let store = db.study_rooms();
        let make = |id: SchemeId| audit("study_room.scheme_create", format!("scheme:{}", id.0));
        assert!(matches!(
            store.create_scheme(&scheme(Some("NOPE"), 3), AT, &make).await,
            Err(StudyRoomError::Invalid(v)) if v == ["unknown_library"]
        ));
        let id = store
            .create_scheme(&scheme(Some("HKCL"), 3), AT, &make)
            .await
            .unwrap();
        let everywhere = store
            .create_scheme(&scheme(None, 1), AT, &make)
            .await
            .unwrap();
        let stored = store.scheme(id).await.unwrap();
        assert_eq!(stored.details, scheme(Some("HKCL"), 3), "{}", t.name);
        assert!(!stored.ballot_run);
        assert_eq!(
            store.scheme(everywhere).await.unwrap().details.library,
            None
        );
        assert!(matches!(
            store.scheme(SchemeId(999_999)).await,
            Err(StudyRoomError::NotFound)
        ));
        // Listed until the cards expire.
        let listed: Vec<_> = store
            .schemes(date!(2021 - 05 - 20))
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(listed, [id, everywhere]);
        assert!(
            store
                .schemes(date!(2021 - 05 - 21))
                .await
                .unwrap()
                .is_empty()
        );

        // Applications: the window, one per reader.
        let r = &s.readers;
        assert!(matches!(
            store
                .apply(id, r[0], &web(date!(2021 - 02 - 09), true), AT, None)
                .await,
            Err(StudyRoomError::ApplicationRefused(
                ApplicationRefusal::BeforeWindow
            ))
        ));
        let mut applied = Vec::new();
        for (n, &reader) in r.iter().enumerate() {
            let a = store
                .apply(
                    id,
                    reader,
                    &web(date!(2021 - 02 - 10), n % 2 == 0),
                    AT,
                    None,
                )
                .await
                .unwrap();
            assert_eq!(a.decision, Decision::Pending);
            applied.push(a);
        }
        assert!(matches!(
            store
                .apply(id, r[0], &web(date!(2021 - 02 - 11), false), AT, None)
                .await,
            Err(StudyRoomError::ApplicationRefused(
                ApplicationRefusal::AlreadyApplied
            ))
        ));
        assert!(matches!(
            store
                .apply(
                    SchemeId(999_999),
                    r[0],
                    &web(date!(2021 - 02 - 11), false),
                    AT,
                    None
                )
                .await,
            Err(StudyRoomError::NotFound)
        ));
        // Staff reject one before the ballot: it takes no part.
        let rejected = applied[5].id;
        let reject = StaffDecision::Reject {
            reason: "Duplicate card".into(),
        };
        let out = store
            .decide(
                rejected,
                &reject,
                AT,
                audit("study_room.decide", String::new()),
            )
            .await
            .unwrap();
        assert_eq!(out.decision, Decision::Rejected);
        assert_eq!(out.reason.as_deref(), Some("Duplicate card"));
        assert!(matches!(
            store
                .decide(
                    applied[0].id,
                    &StaffDecision::Approve,
                    AT,
                    audit("x", String::new())
                )
                .await,
            Err(StudyRoomError::DecisionRefused(
                DecisionRefusal::BallotNotRun
            ))
        ));

        // The ballot: not while the window is open; once; from the seed.
        let ballot_audit = || audit("study_room.ballot", format!("scheme:{}", id.0));
        assert!(matches!(
            store
                .run_ballot(id, 2021, date!(2021 - 02 - 28), AT, ballot_audit())
                .await,
            Err(StudyRoomError::BallotRefused(
                BallotRefusal::WindowStillOpen
            ))
        ));
        assert_eq!(store.ballot(id).await.unwrap(), None);
        let run = store
            .run_ballot(id, 2021, date!(2021 - 03 - 01), AT, ballot_audit())
            .await
            .unwrap();
        let entrants: Vec<_> = applied[..5]
            .iter()
            .map(|a| Entrant {
                application: a.id,
                candidate: a.details.exam_candidate,
            })
            .collect();
        assert_eq!(
            run.winners,
            draw(&entrants, 3, 95, 2021).winners,
            "{}",
            t.name
        );
        assert_eq!((&run.entrants, run.priority_places), (&entrants, 2));
        assert_eq!(store.ballot(id).await.unwrap(), Some(run.clone()));
        assert!(matches!(
            store
                .run_ballot(id, 7, date!(2021 - 03 - 02), AT, ballot_audit())
                .await,
            Err(StudyRoomError::BallotRefused(BallotRefusal::AlreadyRun))
        ));
        assert!(matches!(
            store.ballot(SchemeId(999_999)).await,
            Err(StudyRoomError::NotFound)
        ));
        let listed = store.applications(id).await.unwrap();
        assert_eq!(listed.len(), 6);
        for a in &listed {
            let expected = if a.application.id == rejected {
                Decision::Rejected
            } else if run.winners.contains(&a.application.id) {
                Decision::Approved
            } else {
                Decision::NotSelected
            };
            assert_eq!(a.application.decision, expected, "{}", t.name);
        }
        assert!(!listed[0].name.is_empty());
        // A late letter postmarked in the window no longer joins once lots are drawn;
        // the other scheme still takes applications.
        assert!(matches!(
            store
                .apply(id, r[0], &web(date!(2021 - 02 - 20), false), AT, None)
                .await,
            Err(StudyRoomError::ApplicationRefused(
                ApplicationRefusal::BallotAlreadyRun
            ))
        ));
        let mut post = web(date!(2021 - 02 - 20), false);
        post.channel = Channel::Post;
        let other = store
            .apply(everywhere, r[0], &post, AT, None)
            .await
            .unwrap();
        assert_eq!(other.details.channel, Channel::Post);
        assert_eq!(other.decision, Decision::Pending);

        // Decisions after the ballot: every place is taken, until one is freed.
        let loser = listed
            .iter()
            .find(|a| a.application.decision == Decision::NotSelected)
            .unwrap()
            .application
            .id;
        let winner = run.winners[0];
        assert!(matches!(
            store
                .decide(
                    loser,
                    &StaffDecision::Approve,
                    AT,
                    audit("x", String::new())
                )
                .await,
            Err(StudyRoomError::DecisionRefused(
                DecisionRefusal::NoPlaceLeft
            ))
        ));
        assert!(matches!(
            store
                .revoke(loser, None, AT, audit("x", String::new()))
                .await,
            Err(StudyRoomError::RevocationRefused(
                RevocationRefusal::NotApproved
            ))
        ));
        let revoked = store
            .revoke(
                winner,
                Some("Card lent to another"),
                AT,
                audit("x", String::new()),
            )
            .await
            .unwrap();
        assert_eq!(revoked.revoked_at, Some(AT));
        assert_eq!(revoked.reason.as_deref(), Some("Card lent to another"));
        assert!(matches!(
            store
                .revoke(winner, None, AT, audit("x", String::new()))
                .await,
            Err(StudyRoomError::RevocationRefused(
                RevocationRefusal::AlreadyRevoked
            ))
        ));
        let approved = store
            .decide(
                loser,
                &StaffDecision::Approve,
                AT,
                audit("x", String::new()),
            )
            .await
            .unwrap();
        assert_eq!(approved.decision, Decision::Approved);
        assert!(matches!(
            store
                .decide(
                    ApplicationId(999_999),
                    &StaffDecision::Approve,
                    AT,
                    audit("x", String::new())
                )
                .await,
            Err(StudyRoomError::NotFound)
        ));

        // The card as the door reads it.
        let winner_reader = listed
            .iter()
            .find(|a| a.application.id == winner)
            .unwrap()
            .application
            .patron;
        let (_, card) = store.card(id, winner_reader).await.unwrap();
        assert!(card.unwrap().revoked_at.is_some());
        let (_, none) = store.card(everywhere, r[1]).await.unwrap();
        assert_eq!(none, None);

        // A reader's applications, newest scheme first.
        let mine = store.applications_of(r[0]).await.unwrap();
        let schemes: Vec<_> = mine.iter().map(|(s, _)| s.id).collect();
        assert_eq!(schemes, [everywhere, id]);

        // Every staff change was audited in its transaction, the ballot with its action.
        let log = db.audit_log().recent(20).await.unwrap();
        let ballots = log
            .iter()
            .filter(|e| e.entry.action == "study_room.ballot")
            .count();
        assert_eq!(ballots, 1, "{}", t.name);
        assert_eq!(
            log.iter()
                .filter(|e| e.entry.action == "study_room.scheme_create")
                .count(),
            2
        );
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn parallel_applications_of_one_reader_store_one() {
    for t in backends().await {
        let db = t.connect().await;
        let s = seed_db(&db, 1, 0).await;
        let make = |id: SchemeId| audit("study_room.scheme_create", format!("scheme:{}", id.0));
        let id = db
            .study_rooms()
            .create_scheme(&scheme(None, 3), AT, &make)
            .await
            .unwrap();
        let start_line = Arc::new(tokio::sync::Barrier::new(12));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let store = db.study_rooms();
                let start_line = start_line.clone();
                let reader = s.readers[0];
                tokio::spawn(async move {
                    start_line.wait().await;
                    store
                        .apply(id, reader, &web(date!(2021 - 02 - 10), false), AT, None)
                        .await
                })
            })
            .collect();
        let (mut stored, mut refused) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => stored += 1,
                Err(StudyRoomError::ApplicationRefused(ApplicationRefusal::AlreadyApplied)) => {
                    refused += 1
                }
                other => panic!("{}: unexpected {other:?}", t.name),
            }
        }
        assert_eq!((stored, refused), (1, 11), "{}", t.name);
        assert_eq!(db.study_rooms().applications(id).await.unwrap().len(), 1);
        db.close().await.unwrap();
    }
}
