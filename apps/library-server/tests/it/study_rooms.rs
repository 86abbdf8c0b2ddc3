//! Students' Study Room admission cards over HTTP, on every backend, with the development
//! clock: the 2021 scheme from opening to the door (docs/premises.md, Study-room admission
//! cards).

use std::collections::BTreeMap;

use library_premises::study_room::ApplicationId;
use library_premises::study_room::ballot::{Entrant, draw};
use serde_json::{Value, json};

use crate::support::{Answer, STAFF_PASSWORD, TestApp, hk, on_every_backend};

fn scheme_2021() -> Value {
    json!({"name": "Students' Study Rooms, examination period 2021",
           "name_zh": "自修室 2021 年考試期間", "library_code": "CEN",
           "opens_on": "2021-02-10", "closes_on": "2021-02-28",
           "valid_from": "2021-03-15", "valid_to": "2021-05-20",
           "extended_from": "2021-03-01", "extended_to": "2021-05-31",
           "extended_hours": ["08:00-22:00"], "places": 3, "priority_percent": 95})
}

/// A reader's fresh session.
async fn signed_in(app: &TestApp, card: &str, n: usize) -> String {
    app.login(card, &format!("Study-Room-2021{n}"))
        .await
        .expect(200, "")
        .token()
}

/// The clock moved to `local`, and fresh sessions: (admin, librarian, readers).
async fn at(app: &TestApp, local: &str, cards: &[String]) -> (String, String, Vec<String>) {
    app.set_clock(hk(local)).await;
    let mut readers = Vec::new();
    for (n, card) in cards.iter().enumerate() {
        readers.push(signed_in(app, card, n).await);
    }
    // Sessions expire while the clock jumps weeks: every step signs in again.
    let admin = app.staff_token().await;
    let clerk = app.staff_login("door", STAFF_PASSWORD).await;
    (admin, clerk, readers)
}

async fn apply(app: &TestApp, token: &str, scheme: i64, candidate: bool) -> Answer {
    app.post(
        "/api/v1/me/study-room-applications",
        Some(token),
        json!({"scheme_id": scheme, "exam_candidate": candidate,
               "exam": if candidate { "HKDSE" } else { "" }}),
    )
    .await
}

async fn postal(app: &TestApp, staff: &str, scheme: i64, card: &str, postmark: &str) -> Answer {
    app.post(
        &format!("/api/v1/study-room-schemes/{scheme}/applications"),
        Some(staff),
        json!({"card_number": card, "postmarked_on": postmark, "exam_candidate": true}),
    )
    .await
}

async fn door(app: &TestApp, staff: &str, scheme: i64, card: &str) -> Answer {
    app.post(
        &format!("/api/v1/study-room-schemes/{scheme}/admissions"),
        Some(staff),
        json!({"card_number": card}),
    )
    .await
}

/// The reader's applications: scheme id → (status, reason).
async fn mine(app: &TestApp, token: &str) -> BTreeMap<i64, (String, Value)> {
    app.get("/api/v1/me/study-room-applications", Some(token))
        .await
        .expect(200, "")
        .body["applications"]
        .as_array()
        .expect("applications")
        .iter()
        .map(|a| {
            (
                a["scheme"]["id"].as_i64().expect("scheme id"),
                (
                    a["application"]["status"]
                        .as_str()
                        .expect("status")
                        .to_owned(),
                    a["application"]["reason"].clone(),
                ),
            )
        })
        .collect()
}

fn id(answer: &Answer) -> i64 {
    answer.body["id"].as_i64().expect("id")
}

#[tokio::test]
async fn the_2021_scheme_from_opening_to_the_door() {
    on_every_backend(true, async |app| {
        app.set_clock(hk("2021-02-01T10:00:00")).await;
        let admin = app.staff_token().await;
        app.library(&admin, "CEN", "district").await;
        let clerk = app.staff_user(&admin, "door", "librarian").await;

        // Opening a scheme is the administrators'.
        app.post("/api/v1/study-room-schemes", Some(&clerk), scheme_2021())
            .await
            .expect(403, "forbidden");
        let mut bad = scheme_2021();
        bad["places"] = json!(0);
        bad["closes_on"] = json!("2021-02-01");
        let refused = app
            .post("/api/v1/study-room-schemes", Some(&admin), bad)
            .await
            .expect(422, "validation_failed");
        assert_eq!(refused.violations(), ["places_invalid", "window_invalid"]);
        let mut unknown = scheme_2021();
        unknown["library_code"] = json!("NOPE");
        app.post("/api/v1/study-room-schemes", Some(&admin), unknown)
            .await
            .expect(422, "validation_failed");
        let scheme = id(&app
            .post("/api/v1/study-room-schemes", Some(&admin), scheme_2021())
            .await
            .expect(201, ""));
        let listed = app
            .get("/api/v1/study-room-schemes", None)
            .await
            .expect(200, "");
        let shown = &listed.body["schemes"][0];
        assert_eq!(shown["id"], json!(scheme));
        assert_eq!(shown["priority_places"], json!(2));
        assert_eq!(shown["extended_hours"], json!(["08:00-22:00"]));
        assert_eq!(shown["window_open"], json!(false));
        app.get("/api/v1/study-room-schemes/999999", None)
            .await
            .expect(404, "not_found");

        let mut cards = Vec::new();
        for n in 0..5 {
            let phone = format!("9123000{n}");
            cards.push(
                app.full_reader(&phone, &format!("Study-Room-2021{n}"))
                    .await
                    .0,
            );
        }
        let (card_a, card_b, card_c, card_e) = (&cards[0], &cards[1], &cards[2], &cards[4]);

        // The window: online applications count by the local day.
        let (_, _, r) = at(app, "2021-02-09T23:59:00", &cards).await;
        let a = &r[0];
        let early = apply(app, a, scheme, true)
            .await
            .expect(409, "application_refused");
        assert_eq!(early.body["reason"], json!("before_window"));
        let (_, _, r) = at(app, "2021-02-10T00:00:00", &cards).await;
        let (a, b, c, d) = (&r[0], &r[1], &r[2], &r[3]);
        let first = apply(app, a, scheme, true).await.expect(201, "");
        assert_eq!(first.body["status"], json!("pending"));
        assert_eq!(first.body["counted_on"], json!("2021-02-10"));
        assert_eq!(first.body["channel"], json!("web"));
        let again = apply(app, a, scheme, false)
            .await
            .expect(409, "application_refused");
        assert_eq!(again.body["reason"], json!("already_applied"));
        apply(app, b, scheme, false).await.expect(201, "");
        apply(app, c, scheme, true).await.expect(201, "");
        apply(app, a, 999_999, true).await.expect(404, "not_found");
        // Two applications of one reader at once: one is stored, the other refused.
        let (x, y) = tokio::join!(apply(app, d, scheme, false), apply(app, d, scheme, false));
        let mut statuses = [x.status.as_u16(), y.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "{}", app.database_url());
        for answer in [&x, &y] {
            if answer.status.as_u16() == 409 {
                assert_eq!(answer.body["reason"], json!("already_applied"));
            }
        }

        // No ballot while applications still count.
        let (admin, _, _) = at(app, "2021-02-28T18:00:00", &[]).await;
        let open = app
            .post(
                &format!("/api/v1/study-room-schemes/{scheme}/ballot"),
                Some(&admin),
                json!({"seed": 2021}),
            )
            .await
            .expect(409, "ballot_refused");
        assert_eq!(open.body["reason"], json!("window_still_open"));

        // Letters: the postmark counts, recorded by a librarian after the window closed.
        let (_, clerk, _) = at(app, "2021-03-02T10:00:00", &[]).await;
        let late = postal(app, &clerk, scheme, card_e, "2021-03-01")
            .await
            .expect(409, "application_refused");
        assert_eq!(late.body["reason"], json!("after_window"));
        let letter = postal(app, &clerk, scheme, card_e, "2021-02-27")
            .await
            .expect(201, "");
        assert_eq!(letter.body["channel"], json!("post"));
        assert_eq!(letter.body["counted_on"], json!("2021-02-27"));
        postal(app, &clerk, scheme, card_e, "2021-03-03")
            .await
            .expect(422, "validation_failed");
        postal(app, &clerk, scheme, "29999999999999", "2021-02-27")
            .await
            .expect(404, "not_found");

        // The ballot, by an administrator, on 1 March (the clock may be set back): seed
        // 2021, three winners, two of the places drawn first among the candidates.
        let (admin, clerk, r) = at(app, "2021-03-01T10:00:00", &cards).await;
        app.post(
            &format!("/api/v1/study-room-schemes/{scheme}/ballot"),
            Some(&clerk),
            json!({"seed": 2021}),
        )
        .await
        .expect(403, "forbidden");
        let run = app
            .post(
                &format!("/api/v1/study-room-schemes/{scheme}/ballot"),
                Some(&admin),
                json!({"seed": 2021}),
            )
            .await
            .expect(201, "");
        assert_eq!(run.body["seed"], json!(2021));
        assert_eq!(run.body["priority_places"], json!(2));
        let winners: Vec<i64> = run.body["winners"]
            .as_array()
            .expect("winners")
            .iter()
            .map(|w| w.as_i64().expect("id"))
            .collect();
        assert_eq!(winners.len(), 3);
        let again = app
            .post(
                &format!("/api/v1/study-room-schemes/{scheme}/ballot"),
                Some(&admin),
                json!({}),
            )
            .await
            .expect(409, "ballot_refused");
        assert_eq!(again.body["reason"], json!("ballot_already_run"));
        // Anyone reads the ballot and draws it again with the domain's ballot.
        let read = app
            .get(&format!("/api/v1/study-room-schemes/{scheme}/ballot"), None)
            .await
            .expect(200, "");
        assert_eq!(read.body, run.body);
        let entrants: Vec<Entrant> = read.body["entrants"]
            .as_array()
            .expect("entrants")
            .iter()
            .map(|e| Entrant {
                application: ApplicationId(e["application_id"].as_i64().expect("id")),
                candidate: e["exam_candidate"].as_bool().expect("flag"),
            })
            .collect();
        assert_eq!(entrants.len(), 5);
        let redrawn: Vec<i64> = draw(&entrants, 3, 95, 2021)
            .winners
            .iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(redrawn, winners);

        // Readers see their status.
        let applications = app
            .get(
                &format!("/api/v1/study-room-schemes/{scheme}/applications"),
                Some(&clerk),
            )
            .await
            .expect(200, "")
            .body["applications"]
            .as_array()
            .expect("applications")
            .clone();
        let by_card: BTreeMap<String, i64> = applications
            .iter()
            .map(|a| {
                (
                    a["card_number"].as_str().expect("card").to_owned(),
                    a["application"]["id"].as_i64().expect("id"),
                )
            })
            .collect();
        let tokens = [
            (card_a, &r[0]),
            (card_b, &r[1]),
            (card_c, &r[2]),
            (card_e, &r[4]),
        ];
        let mut winner_card = None;
        let mut loser = None;
        for (card, token) in tokens {
            let status = mine(app, token).await[&scheme].0.clone();
            if winners.contains(&by_card[card.as_str()]) {
                assert_eq!(status, "approved");
                winner_card = Some(card.clone());
            } else {
                assert_eq!(status, "not_selected");
                loser = Some((card.clone(), token.clone()));
            }
        }
        let winner_card = winner_card.expect("a winner among a, b, c, e");
        let (loser_card, loser_token) = loser.expect("a loser among a, b, c, e");

        // A rejection needs a reason, which the reader sees.
        let loser_app = by_card[&loser_card];
        app.post(
            &format!("/api/v1/study-room-applications/{loser_app}/decision"),
            Some(&clerk),
            json!({"decision": "reject"}),
        )
        .await
        .expect(422, "validation_failed");
        app.post(
            &format!("/api/v1/study-room-applications/{loser_app}/decision"),
            Some(&clerk),
            json!({"decision": "reject", "reason": "Not a registered student"}),
        )
        .await
        .expect(200, "");
        assert_eq!(
            mine(app, &loser_token).await[&scheme],
            ("rejected".to_owned(), json!("Not a registered student"))
        );
        let full = app
            .post(
                &format!("/api/v1/study-room-applications/{loser_app}/decision"),
                Some(&clerk),
                json!({"decision": "approve"}),
            )
            .await
            .expect(409, "decision_refused");
        assert_eq!(full.body["reason"], json!("no_place_left"));
        app.post(
            "/api/v1/study-room-applications/999999/decision",
            Some(&clerk),
            json!({"decision": "approve"}),
        )
        .await
        .expect(404, "not_found");

        // The door.
        for (when, expected) in [
            ("2021-03-14T21:00:00", Some("card_not_yet_valid")),
            ("2021-03-15T08:00:00", None),
            ("2021-05-20T21:59:00", None),
            ("2021-05-21T08:00:00", Some("card_expired")),
        ] {
            let (_, clerk, _) = at(app, when, &[]).await;
            let answer = door(app, &clerk, scheme, &winner_card).await;
            match expected {
                None => {
                    let ok = answer.expect(200, "");
                    assert_eq!(ok.body["admitted"], json!(true), "{when}");
                }
                Some(reason) => {
                    let no = answer.expect(409, "admission_refused");
                    assert_eq!(no.body["reason"], json!(reason), "{when}");
                }
            }
        }
        let (_, clerk, _) = at(app, "2021-04-01T10:00:00", &[]).await;
        let no_card = door(app, &clerk, scheme, &loser_card)
            .await
            .expect(409, "admission_refused");
        assert_eq!(no_card.body["reason"], json!("no_card"));
        door(app, &clerk, scheme, "29999999999999")
            .await
            .expect(404, "not_found");
        let winner_app = by_card[&winner_card];
        let revoked = app
            .post(
                &format!("/api/v1/study-room-applications/{winner_app}/revocation"),
                Some(&clerk),
                json!({"reason": "Card lent to another reader"}),
            )
            .await
            .expect(200, "");
        assert_eq!(revoked.body["status"], json!("revoked"));
        let gone = door(app, &clerk, scheme, &winner_card)
            .await
            .expect(409, "admission_refused");
        assert_eq!(gone.body["reason"], json!("card_revoked"));
        let twice = app
            .post(
                &format!("/api/v1/study-room-applications/{winner_app}/revocation"),
                Some(&clerk),
                json!({}),
            )
            .await
            .expect(409, "revocation_refused");
        assert_eq!(twice.body["reason"], json!("already_revoked"));

        // Every staff change is in the audit log; the ballot's entry holds the seed.
        let log = app.audit_log().await;
        let ballot = log
            .iter()
            .find(|e| e.entry.action == "study_room.ballot")
            .expect("the ballot's audit entry");
        assert!(
            ballot.entry.details.contains("\"2021\""),
            "{}",
            ballot.entry.details
        );
        for action in [
            "study_room.scheme_create",
            "study_room.postal_application",
            "study_room.decide",
            "study_room.revoke",
        ] {
            assert!(log.iter().any(|e| e.entry.action == action), "{action}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_drawn_seed_is_recorded_and_unknown_ids_are_404() {
    on_every_backend(true, async |app| {
        app.set_clock(hk("2021-02-01T10:00:00")).await;
        let admin = app.staff_token().await;
        app.library(&admin, "CEN", "district").await;
        let mut body = scheme_2021();
        body["library_code"] = Value::Null;
        body["priority_percent"] = Value::Null;
        let scheme = id(&app.post("/api/v1/study-room-schemes", Some(&admin), body).await.expect(201, ""));
        let got = app
            .get(&format!("/api/v1/study-room-schemes/{scheme}"), None)
            .await
            .expect(200, "");
        assert_eq!(got.body["library_code"], Value::Null);
        assert_eq!(got.body["priority_percent"], json!(0));
        app.get(&format!("/api/v1/study-room-schemes/{scheme}/ballot"), None)
            .await
            .expect(404, "not_found");
        app.set_clock(hk("2021-03-01T10:00:00")).await;
        let admin = app.staff_token().await;
        let run = app
            .post(&format!("/api/v1/study-room-schemes/{scheme}/ballot"), Some(&admin), json!({}))
            .await
            .expect(201, "");
        let seed = run.body["seed"].as_u64().expect("seed");
        assert!(seed < 1 << 53);
        assert_eq!(run.body["winners"], json!([]));
        let read = app
            .get(&format!("/api/v1/study-room-schemes/{scheme}/ballot"), None)
            .await
            .expect(200, "");
        assert_eq!(read.body["seed"], json!(seed));
        for (path, body) in [
            ("/api/v1/study-room-schemes/999999/ballot", json!({})),
            ("/api/v1/study-room-schemes/999999/applications", json!({"card_number": "29999999999999", "postmarked_on": "2021-02-27", "exam_candidate": false})),
            ("/api/v1/study-room-schemes/999999/admissions", json!({"card_number": "29999999999999"})),
            ("/api/v1/study-room-applications/999999/revocation", json!({})),
        ] {
            app.post(path, Some(&admin), body).await.expect(404, "not_found");
        }
        // Wrong types are 400, not 500.
        app.post("/api/v1/study-room-schemes", Some(&admin), json!({"places": "three"}))
            .await
            .expect(400, "bad_request");
        app.post(&format!("/api/v1/study-room-schemes/{scheme}/ballot"), Some(&admin), json!({"seed": -1}))
            .await
            .expect(400, "bad_request");
    })
    .await;
}
