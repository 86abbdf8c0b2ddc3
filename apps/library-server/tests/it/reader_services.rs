//! My Info (activities, notices), My Setting (settings, reading history) and Ask a
//! Librarian over HTTP, on every backend, with the development clock.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Answer, TestApp, hk, on_every_backend, standard_rules};

/// The libraries, a clock at 1 December 2026 10:00 in Hong Kong, and a staff session.
async fn setup(app: &TestApp) -> String {
    app.set_clock(hk("2026-12-01T10:00:00")).await;
    let staff = app.staff_token().await;
    app.library(&staff, "CEN", "district").await;
    app.library(&staff, "KLN", "major").await;
    staff
}

/// A reader of CEN with a `full` session: (card, token).
async fn reader(app: &TestApp, staff: &str, phone: &str) -> (String, String) {
    let card = app.reader(staff, phone).await;
    let token = app.reader_session(&card, phone).await;
    (card, token)
}

fn story_time(capacity: i64) -> Value {
    json!({"library_code": "CEN", "title": "Storytelling in Cantonese",
           "type": "story_time", "venue": "Children's Library, 2/F",
           "description": "For children aged 4 to 8.",
           "starts_at": "2026-12-12T15:00:00+08:00", "ends_at": "2026-12-12T16:00:00+08:00",
           "capacity": capacity, "registration_closes_at": "2026-12-11T17:00:00+08:00"})
}

async fn create_activity(app: &TestApp, staff: &str, body: Value) -> i64 {
    app.post("/api/v1/activities", Some(staff), body)
        .await
        .expect(201, "")
        .body["id"]
        .as_i64()
        .expect("activity id")
}

async fn register(app: &TestApp, token: &str, id: i64) -> Answer {
    app.post(
        &format!("/api/v1/activities/{id}/registrations"),
        Some(token),
        Value::Null,
    )
    .await
}

async fn my_activities(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/api/v1/me/activities", Some(token))
        .await
        .expect(200, "")
        .body["activities"]
        .as_array()
        .expect("activities")
        .clone()
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| v["id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test]
async fn activities_from_creation_to_cancellation() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = setup(app).await;
        let (a_card, a) = reader(app, &staff, "91230001").await;
        let (_b_card, b) = reader(app, &staff, "91230002").await;
        let (_c_card, c) = reader(app, &staff, "91230003").await;

        // Staff create; every violation is named.
        let bad = app
            .post(
                "/api/v1/activities",
                Some(&staff),
                json!({"library_code": "no such!", "title": " ", "type": "Story Time",
                       "venue": "x".repeat(201), "starts_at": "2026-11-30T15:00:00+08:00",
                       "ends_at": "2026-11-30T14:00:00+08:00", "capacity": 0}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(
            bad.violations(),
            [
                "unknown_library",
                "title_missing",
                "type_invalid",
                "venue_too_long",
                "capacity_invalid",
                "ends_at_not_after_starts_at",
                "starts_at_in_past"
            ],
            "{}",
            app.db
        );
        let mut unknown = story_time(2);
        unknown["library_code"] = json!("NOPE");
        let answer = app.post("/api/v1/activities", Some(&staff), unknown).await;
        assert_eq!(
            answer.expect(422, "validation_failed").violations(),
            ["unknown_library"]
        );
        let mut late_close = story_time(2);
        late_close["registration_closes_at"] = json!("2026-12-12T15:30:00+08:00");
        let answer = app
            .post("/api/v1/activities", Some(&staff), late_close)
            .await;
        assert_eq!(
            answer.expect(422, "validation_failed").violations(),
            ["registration_closes_after_start"]
        );
        let mut no_offset = story_time(2);
        no_offset["starts_at"] = json!("2026-12-12T15:00:00");
        app.post("/api/v1/activities", Some(&staff), no_offset)
            .await
            .expect(400, "bad_request");
        app.post("/api/v1/activities", Some(&a), story_time(2))
            .await
            .expect(403, "forbidden");

        let story = create_activity(app, &staff, story_time(2)).await;
        let talk = create_activity(
            app,
            &staff,
            json!({"library_code": "KLN", "title": "Meet the Author", "type": "talk",
                   "venue": "Lecture Room", "starts_at": "2026-12-20T19:00:00+08:00",
                   "ends_at": "2026-12-20T20:30:00+08:00", "capacity": 80}),
        )
        .await;

        // Anyone lists the open activities, by start; filters and paging.
        let list = app.get("/api/v1/activities", None).await.expect(200, "");
        assert_eq!(ids(&list.body["activities"]), [story, talk], "{}", app.db);
        assert_eq!(list.body["total"], 2);
        let first = &list.body["activities"][0];
        assert_eq!(first["library_code"], "CEN");
        assert_eq!(first["library_name"], "CEN Library");
        assert_eq!(first["type"], "story_time");
        assert_eq!(first["venue"], "Children's Library, 2/F");
        assert_eq!(first["starts_at"], "2026-12-12T15:00:00+08:00");
        assert_eq!(first["ends_at"], "2026-12-12T16:00:00+08:00");
        assert_eq!(first["registration_closes_at"], "2026-12-11T17:00:00+08:00");
        assert_eq!(first["capacity"], 2);
        assert_eq!(first["places_left"], 2);
        assert_eq!(first["registration_open"], true);
        assert!(first.get("cancelled_at").is_none());
        let second = &list.body["activities"][1];
        assert_eq!(
            second["registration_closes_at"],
            "2026-12-20T19:00:00+08:00"
        );
        assert_eq!(second["description"], "");
        let kln = app
            .get("/api/v1/activities?library_code=KLN", None)
            .await
            .expect(200, "");
        assert_eq!(ids(&kln.body["activities"]), [talk]);
        let later = app
            .get("/api/v1/activities?from=2026-12-13", None)
            .await
            .expect(200, "");
        assert_eq!(ids(&later.body["activities"]), [talk]);
        let page = app
            .get("/api/v1/activities?limit=1&offset=1", None)
            .await
            .expect(200, "");
        assert_eq!(ids(&page.body["activities"]), [talk]);
        assert_eq!(page.body["total"], 2);
        let bad_limit = app.get("/api/v1/activities?limit=0&offset=-1", None).await;
        assert_eq!(
            bad_limit.expect(422, "validation_failed").violations(),
            ["limit_invalid", "offset_invalid"]
        );
        for path in [
            "/api/v1/activities?limit=ten",
            "/api/v1/activities?from=2026-13-01",
            "/api/v1/activities/abc",
        ] {
            app.get(path, None).await.expect(400, "bad_request");
        }
        app.get("/api/v1/activities?library_code=no%20such", None)
            .await
            .expect(422, "validation_failed");
        let one = app
            .get(&format!("/api/v1/activities/{story}"), None)
            .await
            .expect(200, "");
        assert_eq!(one.body["title"], "Storytelling in Cantonese");
        app.get("/api/v1/activities/999999", None)
            .await
            .expect(404, "not_found");

        // Two places: A and B; C is refused; A twice is refused.
        let reg = register(app, &a, story).await.expect(201, "");
        assert_eq!(reg.body["activity_id"], story);
        assert_eq!(reg.body["status"], "registered");
        assert_eq!(reg.body["registered_at"], "2026-12-01T10:00:00+08:00");
        assert_eq!(reg.body["places_left"], 1);
        register(app, &a, story)
            .await
            .refused("registration_refused", "already_registered");
        let reg = register(app, &b, story).await.expect(201, "");
        assert_eq!(reg.body["places_left"], 0);
        register(app, &c, story)
            .await
            .refused("registration_refused", "full");
        register(app, &c, 999_999).await.expect(404, "not_found");
        let full = app
            .get(&format!("/api/v1/activities/{story}"), None)
            .await
            .expect(200, "");
        assert_eq!(full.body["places_left"], 0);
        assert_eq!(full.body["registration_open"], false);

        let mine = my_activities(app, &a).await;
        assert_eq!(mine.len(), 1, "{}", app.db);
        assert_eq!(mine[0]["id"], story);
        assert_eq!(mine[0]["status"], "registered");
        assert_eq!(mine[0]["title"], "Storytelling in Cantonese");
        assert_eq!(mine[0]["library_name"], "CEN Library");
        assert_eq!(mine[0]["starts_at"], "2026-12-12T15:00:00+08:00");
        assert_eq!(mine[0]["registered_at"], "2026-12-01T10:00:00+08:00");
        assert!(my_activities(app, &c).await.is_empty());

        // B cancels, freeing the place for C; a registration that is not yours is 404.
        // (Staff sessions last 12 hours, readers' 24.)
        app.set_clock(hk("2026-12-02T09:00:00")).await;
        let staff = app.staff_token().await;
        app.delete(&format!("/api/v1/me/activities/{story}"), Some(&b))
            .await
            .expect(204, "");
        app.delete(&format!("/api/v1/me/activities/{story}"), Some(&b))
            .await
            .expect(404, "not_found");
        app.delete(&format!("/api/v1/me/activities/{story}"), Some(&c))
            .await
            .expect(404, "not_found");
        app.delete("/api/v1/me/activities/999999", Some(&c))
            .await
            .expect(404, "not_found");
        register(app, &c, story).await.expect(201, "");
        let b_list = my_activities(app, &b).await;
        assert_eq!(b_list[0]["status"], "cancelled", "{b_list:?}");

        // The library cancels the talk A registered for: A is told, the talk leaves the
        // public list, staff still see it.
        register(app, &a, talk).await.expect(201, "");
        app.delete(&format!("/api/v1/activities/{talk}"), Some(&staff))
            .await
            .expect(204, "");
        app.delete(&format!("/api/v1/activities/{talk}"), Some(&staff))
            .await
            .expect(409, "activity_cancelled");
        app.delete("/api/v1/activities/999999", Some(&staff))
            .await
            .expect(404, "not_found");
        register(app, &b, talk)
            .await
            .refused("registration_refused", "cancelled");
        app.delete(&format!("/api/v1/me/activities/{talk}"), Some(&a))
            .await
            .refused("cancellation_refused", "cancelled");
        let public = app.get("/api/v1/activities", None).await.expect(200, "");
        assert_eq!(ids(&public.body["activities"]), [story]);
        let staff_list = app
            .get("/api/v1/staff/activities", Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(ids(&staff_list.body["activities"]), [story, talk]);
        assert_eq!(
            staff_list.body["activities"][1]["cancelled_at"],
            "2026-12-02T09:00:00+08:00"
        );
        let statuses: BTreeMap<i64, String> = my_activities(app, &a)
            .await
            .iter()
            .map(|v| {
                (
                    v["id"].as_i64().unwrap(),
                    v["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            statuses,
            BTreeMap::from([
                (story, "registered".to_owned()),
                (talk, "activity_cancelled".to_owned())
            ])
        );
        let told = app
            .outbox()
            .await
            .into_iter()
            .filter(|n| n.notification.kind == "activity.cancelled")
            .count();
        assert_eq!(told, 1, "{}", app.db);
        let actions: Vec<String> = app
            .audit_log()
            .await
            .into_iter()
            .map(|e| format!("{} {}", e.entry.action, e.entry.subject))
            .collect();
        assert!(actions.contains(&format!("activity.create activity:{story}")));
        assert!(actions.contains(&format!("activity.cancel activity:{talk}")));

        // Registration closes at 17:00 the day before; at the start nobody may cancel.
        let (d_card, _) = reader(app, &staff, "91230004").await;
        app.delete(&format!("/api/v1/me/activities/{story}"), Some(&c))
            .await
            .expect(204, "");
        app.set_clock(hk("2026-12-11T16:59:59")).await;
        let d = app.relogin(&d_card).await;
        let a = app.relogin(&a_card).await;
        let open = app
            .get(&format!("/api/v1/activities/{story}"), None)
            .await
            .expect(200, "");
        assert_eq!(open.body["registration_open"], true);
        app.set_clock(hk("2026-12-11T17:00:00")).await;
        register(app, &d, story)
            .await
            .refused("registration_refused", "closed");
        app.set_clock(hk("2026-12-12T15:00:00")).await;
        app.delete(&format!("/api/v1/me/activities/{story}"), Some(&a))
            .await
            .refused("cancellation_refused", "started");
        register(app, &d, story)
            .await
            .refused("registration_refused", "started");

        // Over: "ended"; 90 days after the end it leaves the list.
        app.set_clock(hk("2026-12-12T16:00:00")).await;
        let mine = my_activities(app, &a).await;
        assert_eq!(mine[0]["status"], "ended", "{mine:?}");
        app.set_clock(hk("2027-03-12T15:59:59")).await;
        let a = app.relogin(&a_card).await;
        assert_eq!(ids(&json!(my_activities(app, &a).await)), [story, talk]);
        app.set_clock(hk("2027-03-12T16:00:01")).await;
        assert_eq!(ids(&json!(my_activities(app, &a).await)), [talk]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_registrations_take_exactly_the_places_there_are() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = setup(app).await;
        let mut tokens = Vec::new();
        for n in 0..10 {
            let (_, token) = reader(app, &staff, &format!("9124{n:04}")).await;
            tokens.push(token);
        }
        let id = create_activity(app, &staff, story_time(4)).await;
        let answers = futures_join(app, &tokens, id).await;
        let won = answers.iter().filter(|a| a.status.as_u16() == 201).count();
        let full = answers
            .iter()
            .filter(|a| a.status.as_u16() == 409 && a.body["reason"] == "full")
            .count();
        assert_eq!((won, full), (4, 6), "{}: {answers:?}", app.db);
        let activity = app
            .get(&format!("/api/v1/activities/{id}"), None)
            .await
            .expect(200, "");
        assert_eq!(activity.body["places_left"], 0);
        let mut registered = 0;
        for token in &tokens {
            registered += my_activities(app, token).await.len();
        }
        assert_eq!(registered, 4, "{}", app.db);
    })
    .await;
}

#[tokio::test]
async fn staff_see_who_registered_for_an_activity() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = setup(app).await;
        let (card_a, token_a) = reader(app, &staff, "91251001").await;
        let (card_b, token_b) = reader(app, &staff, "91251002").await;
        let id = create_activity(app, &staff, story_time(10)).await;
        let path = format!("/api/v1/activities/{id}/registrations");
        let listed = app.get(&path, Some(&staff)).await.expect(200, "");
        assert_eq!(listed.body, json!({"registrations": []}));

        register(app, &token_a, id).await.expect(201, "");
        app.set_clock(hk("2026-12-01T10:05:00")).await;
        register(app, &token_b, id).await.expect(201, "");
        app.delete(&format!("/api/v1/me/activities/{id}"), Some(&token_a))
            .await
            .expect(204, "");
        let listed = app.get(&path, Some(&staff)).await.expect(200, "");
        let rows: Vec<(String, String, String, Option<String>)> = listed.body["registrations"]
            .as_array()
            .expect("registrations")
            .iter()
            .map(|r| {
                (
                    r["card_number"].as_str().unwrap_or_default().to_owned(),
                    r["phone"].as_str().unwrap_or_default().to_owned(),
                    r["status"].as_str().unwrap_or_default().to_owned(),
                    r["cancelled_at"].as_str().map(str::to_owned),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    card_a.clone(),
                    "91251001".to_owned(),
                    "cancelled".to_owned(),
                    Some("2026-12-01T10:05:00+08:00".to_owned())
                ),
                (card_b, "91251002".to_owned(), "registered".to_owned(), None),
            ],
            "{}",
            app.db
        );
        assert_eq!(
            listed.body["registrations"][0]["registered_at"],
            "2026-12-01T10:00:00+08:00"
        );
        assert!(listed.body["registrations"][0]["name"].is_string());

        // Staff only; an unknown activity is 404.
        app.get(&path, Some(&token_b))
            .await
            .expect(403, "forbidden");
        app.get("/api/v1/activities/999999/registrations", Some(&staff))
            .await
            .expect(404, "not_found");
    })
    .await;
}

/// Every reader registers at once (one task each).
async fn futures_join(app: &TestApp, tokens: &[String], id: i64) -> Vec<Answer> {
    let client = reqwest::Client::new();
    let url = app.url(&format!("/api/v1/activities/{id}/registrations"));
    let tasks: Vec<_> = tokens
        .iter()
        .map(|token| {
            let request = client.post(&url).bearer_auth(token).send();
            tokio::spawn(async move {
                let resp = request.await.expect("request sent");
                let status = resp.status();
                let headers = resp.headers().clone();
                let body = resp.json::<Value>().await.unwrap_or(Value::Null);
                Answer {
                    status,
                    body,
                    headers,
                }
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task"));
    }
    answers
}

#[tokio::test]
async fn notices_for_my_library_and_every_library() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = setup(app).await;
        let (_card, a) = reader(app, &staff, "91230011").await;
        let publish = async |body: Value| -> i64 {
            app.post("/api/v1/notices", Some(&staff), body)
                .await
                .expect(201, "")
                .body["id"]
                .as_i64()
                .expect("notice id")
        };
        let every = publish(json!({"title": "Fines resume on 5 March",
                                   "body": "Overdue fines are charged again\nfrom 5 March.",
                                   "published_on": "2026-11-28"}))
        .await;
        let cen = publish(json!({"library_code": "CEN", "title": "Stocktaking",
                                 "body": "Closed from 7 to 9 December.",
                                 "expires_on": "2026-12-05"}))
        .await;
        let _kln = publish(json!({"library_code": "KLN", "title": "Lift maintenance",
                                  "body": "Ask staff for help."}))
        .await;
        let future = publish(json!({"library_code": null, "title": "Christmas hours",
                                    "body": "Open until 5 pm.",
                                    "published_on": "2026-12-03"}))
        .await;

        let bad = app
            .post(
                "/api/v1/notices",
                Some(&staff),
                json!({"library_code": "NOPE", "title": "", "body": "b",
                       "published_on": "2026-12-10", "expires_on": "2026-12-09"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(
            bad.violations(),
            ["title_missing", "expires_on_before_published_on"],
            "{}",
            app.db
        );
        let unknown = app
            .post(
                "/api/v1/notices",
                Some(&staff),
                json!({"library_code": "NOPE", "title": "t", "body": "b"}),
            )
            .await;
        assert_eq!(
            unknown.expect(422, "validation_failed").violations(),
            ["unknown_library"]
        );
        app.post(
            "/api/v1/notices",
            Some(&staff),
            json!({"library_code": 5, "title": "t", "body": "b"}),
        )
        .await
        .expect(400, "bad_request");
        app.post(
            "/api/v1/notices",
            Some(&a),
            json!({"title": "t", "body": "b"}),
        )
        .await
        .expect(403, "forbidden");

        // Newest first: CEN's of today, then every library's of 28 November.
        let mine = app
            .get("/api/v1/me/notices", Some(&a))
            .await
            .expect(200, "");
        let notices = &mine.body["notices"];
        assert_eq!(ids(notices), [cen, every], "{}", app.db);
        assert_eq!(notices[0]["library_code"], "CEN");
        assert_eq!(notices[0]["library_name"], "CEN Library");
        assert_eq!(notices[0]["title"], "Stocktaking");
        assert_eq!(notices[0]["published_on"], "2026-12-01");
        assert_eq!(notices[0]["expires_on"], "2026-12-05");
        assert_eq!(notices[1]["library_code"], Value::Null);
        assert_eq!(notices[1]["library_name"], Value::Null);
        assert_eq!(
            notices[1]["body"],
            "Overdue fines are charged again\nfrom 5 March."
        );
        assert_eq!(notices[1]["expires_on"], Value::Null);
        assert!(notices[1].get("withdrawn_at").is_none());

        app.delete(&format!("/api/v1/notices/{every}"), Some(&staff))
            .await
            .expect(204, "");
        app.delete(&format!("/api/v1/notices/{every}"), Some(&staff))
            .await
            .expect(409, "notice_withdrawn");
        app.delete("/api/v1/notices/999999", Some(&staff))
            .await
            .expect(404, "not_found");
        let mine = app
            .get("/api/v1/me/notices", Some(&a))
            .await
            .expect(200, "");
        assert_eq!(ids(&mine.body["notices"]), [cen]);

        // On 5 December CEN's is still shown (its last day); on the 6th it is not, and
        // the one published for the 3rd is.
        app.set_clock(hk("2026-12-05T23:59:00")).await;
        let a = app.relogin(&_card).await;
        let mine = app
            .get("/api/v1/me/notices", Some(&a))
            .await
            .expect(200, "");
        assert_eq!(ids(&mine.body["notices"]), [future, cen]);
        app.set_clock(hk("2026-12-06T00:00:00")).await;
        let mine = app
            .get("/api/v1/me/notices", Some(&a))
            .await
            .expect(200, "");
        assert_eq!(ids(&mine.body["notices"]), [future]);

        let staff = app.staff_token().await;
        let all = app
            .get("/api/v1/staff/notices", Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(all.body["total"], 4);
        assert_eq!(all.body["notices"][3]["id"], every);
        assert_eq!(
            all.body["notices"][3]["withdrawn_at"],
            "2026-12-01T10:00:00+08:00"
        );
        let actions: Vec<String> = app
            .audit_log()
            .await
            .into_iter()
            .map(|e| format!("{} {}", e.entry.action, e.entry.subject))
            .collect();
        assert!(actions.contains(&format!("notice.publish notice:{cen}")));
        assert!(actions.contains(&format!("notice.withdraw notice:{every}")));
    })
    .await;
}

#[tokio::test]
async fn settings_are_replaced_and_the_email_is_the_one_email() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = setup(app).await;
        let card = app.register("9123 2468", Some("tm@example.com")).await;
        let token = app.reader_session(&card, "9123 2468").await;
        let t = Some(token.as_str());

        let defaults = app.get("/api/v1/me/settings", t).await.expect(200, "");
        assert_eq!(
            defaults.body,
            json!({"email": "tm@example.com", "sms_number": null,
                   "notification_channels": ["email"], "language": "en",
                   "keep_reading_history": true}),
            "{}",
            app.db
        );

        let new = json!({"email": "new@example.com", "sms_number": "+852 9123 2468",
                         "notification_channels": ["sms", "email", "sms"],
                         "language": "zh_hant", "keep_reading_history": false,
                         "current_password": "Reading-Room-42"});
        let saved = app.put("/api/v1/me/settings", t, new).await.expect(200, "");
        let expected = json!({"email": "new@example.com", "sms_number": "+852 9123 2468",
                              "notification_channels": ["email", "sms"],
                              "language": "zh_hant", "keep_reading_history": false});
        assert_eq!(saved.body, expected);
        let again = app.get("/api/v1/me/settings", t).await.expect(200, "");
        assert_eq!(again.body, expected);
        let me = app.get("/api/v1/me", t).await.expect(200, "");
        assert_eq!(me.body["email"], "new@example.com");
        let patron = app
            .get(&format!("/api/v1/patrons/{card}"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(patron.body["email"], "new@example.com", "{:?}", patron.body);

        // "Forgot Password" now matches the new email only.
        for email in ["tm@example.com", "NEW@example.com"] {
            app.post(
                "/api/v1/auth/password-reset",
                None,
                json!({ "email": email }),
            )
            .await;
        }
        let mails: Vec<Value> = app
            .outbox()
            .await
            .into_iter()
            .filter(|n| n.notification.kind == "credentials.temporary_password")
            .map(|n| serde_json::from_str(&n.notification.payload).unwrap())
            .collect();
        assert_eq!(mails.len(), 1, "{}", app.db);
        assert_eq!(mails[0]["email"], "new@example.com");

        // Violations, all at once where there are several.
        let put = async |body: Value| app.put("/api/v1/me/settings", t, body).await;
        let base = json!({"email": null, "sms_number": null, "notification_channels": [],
                          "language": "en", "keep_reading_history": true});
        let with = |changes: Value| {
            let mut body = base.clone();
            for (k, v) in changes.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        for (changes, violations) in [
            (json!({"email": "nobody"}), vec!["email_invalid"]),
            (json!({"sms_number": "123"}), vec!["sms_number_invalid"]),
            (
                json!({"email": "a b@example.com", "sms_number": "91234567x"}),
                vec!["email_invalid", "sms_number_invalid"],
            ),
            (
                json!({"notification_channels": ["sms"]}),
                vec!["no_channel_address"],
            ),
            (
                json!({"sms_number": "91234567", "notification_channels": ["email", "sms"]}),
                vec!["no_channel_address"],
            ),
        ] {
            let answer = put(with(changes.clone()))
                .await
                .expect(422, "validation_failed");
            assert_eq!(answer.violations(), violations, "{changes}");
        }
        // Unknown enum values, wrong types and missing fields are 400.
        for changes in [
            json!({"language": "fr"}),
            json!({"language": "zh_Hant"}),
            json!({"notification_channels": ["fax"]}),
            json!({"notification_channels": "email"}),
            json!({"keep_reading_history": "yes"}),
            json!({"email": 42}),
        ] {
            put(with(changes.clone())).await.expect(400, "bad_request");
        }
        let mut missing = base.clone();
        missing.as_object_mut().unwrap().remove("email");
        put(missing).await.expect(400, "bad_request");
        // Nothing changed by the refused requests.
        let still = app.get("/api/v1/me/settings", t).await.expect(200, "");
        assert_eq!(still.body, expected);

        // No email at all: "forgot Password" cannot reach the reader any more.
        let none = put(with(json!({"current_password": "Reading-Room-42"})))
            .await
            .expect(200, "");
        assert_eq!(none.body["email"], Value::Null);
        assert_eq!(none.body["notification_channels"], json!([]));
        let me = app.get("/api/v1/me", t).await.expect(200, "");
        assert_eq!(me.body["email"], Value::Null);
        app.post(
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "new@example.com"}),
        )
        .await;
        let mails = app
            .outbox()
            .await
            .into_iter()
            .filter(|n| n.notification.kind == "credentials.temporary_password")
            .count();
        assert_eq!(mails, 1, "{}", app.db);
    })
    .await;
}

/// `PUT /me/settings` with this email (and Password, when given), the rest unchanged.
fn settings_with(email: Option<&str>, password: Option<&str>) -> Value {
    let mut body = json!({"email": email, "sms_number": null,
                          "notification_channels": [], "language": "en",
                          "keep_reading_history": true});
    if let Some(password) = password {
        body["current_password"] = json!(password);
    }
    body
}

/// The `settings.email_changed` rows of the outbox, as (reader id, payload).
async fn email_changes(app: &TestApp) -> Vec<(Option<i64>, Value)> {
    app.outbox()
        .await
        .into_iter()
        .filter(|n| n.notification.kind == "settings.email_changed")
        .map(|n| {
            (
                n.notification.patron.map(|p| p.get()),
                serde_json::from_str(&n.notification.payload).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn changing_the_email_needs_the_password_and_tells_the_old_address() {
    on_every_backend(true, async |app: &TestApp| {
        setup(app).await;
        let card = app.register("9123 3579", Some("old@example.com")).await;
        let token = app.reader_session(&card, "9123 3579").await;
        let t = Some(token.as_str());
        let email =
            async || app.get("/api/v1/me/settings", t).await.expect(200, "").body["email"].clone();

        // Without the Password, with `null` for it, or with a wrong one: 403, nothing changed.
        for body in [
            settings_with(Some("new@example.com"), None),
            {
                let mut body = settings_with(Some("new@example.com"), None);
                body["current_password"] = Value::Null;
                body
            },
            settings_with(Some("new@example.com"), Some("Wrong-Password-1")),
            // Removing the email is a change too.
            settings_with(None, None),
            settings_with(None, Some("Wrong-Password-1")),
        ] {
            app.put("/api/v1/me/settings", t, body.clone())
                .await
                .expect(403, "forbidden");
            assert_eq!(email().await, "old@example.com", "{body} on {}", app.db);
        }
        // Nothing changed: the settings are still the defaults, nothing queued.
        let defaults = app.get("/api/v1/me/settings", t).await.expect(200, "");
        assert_eq!(defaults.body["notification_channels"], json!(["email"]));
        assert!(email_changes(app).await.is_empty());

        // Not changing the email needs no Password (and a wrong one is not even looked at).
        let kept = app
            .put(
                "/api/v1/me/settings",
                t,
                settings_with(Some("old@example.com"), Some("Wrong-Password-1")),
            )
            .await
            .expect(200, "");
        assert_eq!(kept.body["notification_channels"], json!([]));
        app.put(
            "/api/v1/me/settings",
            t,
            settings_with(Some(" old@example.com "), None),
        )
        .await
        .expect(200, "");

        // With the Password: changed, and the old address told, once.
        let changed = app
            .put(
                "/api/v1/me/settings",
                t,
                settings_with(Some("new@example.com"), Some("Reading-Room-42")),
            )
            .await
            .expect(200, "");
        assert_eq!(changed.body["email"], "new@example.com");
        assert_eq!(email().await, "new@example.com");
        let me = app.get("/api/v1/me", t).await.expect(200, "");
        assert_eq!(me.body["email"], "new@example.com");
        let changes = email_changes(app).await;
        assert_eq!(changes.len(), 1, "{}", app.db);
        assert!(changes[0].0.is_some());
        assert_eq!(
            changes[0].1,
            json!({"old_email": "old@example.com", "new_email": "new@example.com"})
        );
        // Saving the same email again needs nothing and tells nobody.
        app.put(
            "/api/v1/me/settings",
            t,
            settings_with(Some("new@example.com"), None),
        )
        .await
        .expect(200, "");
        assert_eq!(email_changes(app).await.len(), 1);

        // Staff see the new email too.
        let staff = app.staff_token().await;
        let patron = app
            .get(&format!("/api/v1/patrons/{card}"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(patron.body["email"], "new@example.com");

        // Removing the email with the Password: the old address is told of that too.
        let removed = app
            .put(
                "/api/v1/me/settings",
                t,
                settings_with(None, Some("Reading-Room-42")),
            )
            .await
            .expect(200, "");
        assert_eq!(removed.body["email"], Value::Null);
        let changes = email_changes(app).await;
        assert_eq!(changes.len(), 2, "{}", app.db);
        assert_eq!(
            changes[1].1,
            json!({"old_email": "new@example.com", "new_email": null})
        );
        // A first email (none before) needs the Password; there is no old address to tell.
        app.put(
            "/api/v1/me/settings",
            t,
            settings_with(Some("again@example.com"), None),
        )
        .await
        .expect(403, "forbidden");
        app.put(
            "/api/v1/me/settings",
            t,
            settings_with(Some("again@example.com"), Some("Reading-Room-42")),
        )
        .await
        .expect(200, "");
        assert_eq!(email().await, "again@example.com");
        assert_eq!(email_changes(app).await.len(), 2);
        // Nothing secret in what is queued.
        for n in app.outbox().await {
            if n.notification.kind == "settings.email_changed" {
                assert!(!n.notification.payload.contains("Reading-Room-42"));
            }
        }
    })
    .await;
}

#[tokio::test]
async fn wrong_passwords_for_an_email_change_are_throttled_like_logins() {
    on_every_backend(true, async |app: &TestApp| {
        setup(app).await;
        let card = app.register("9123 1470", Some("old@example.com")).await;
        let token = app.reader_session(&card, "9123 1470").await;
        let t = Some(token.as_str());
        let change = |password: &str| {
            app.put(
                "/api/v1/me/settings",
                t,
                settings_with(Some("thief@example.com"), Some(password)),
            )
        };
        // Two wrong logins and three wrong Passwords here: five failures on one counter.
        for _ in 0..2 {
            app.login(&card, "Wrong-Password-1")
                .await
                .expect(401, "invalid_credentials");
        }
        for _ in 0..3 {
            change("Wrong-Password-1").await.expect(403, "forbidden");
        }
        // From the fifth failure on, a delay: refused before any check, as a login is, and
        // the same answer `PUT /me/password` gives when throttled.
        let throttled = change("Reading-Room-42")
            .await
            .expect(429, "too_many_attempts");
        assert_eq!(throttled.headers["retry-after"], "1", "{}", app.db);
        app.login(&card, "Reading-Room-42")
            .await
            .expect(429, "too_many_attempts");
        let password_change = app
            .put(
                "/api/v1/me/password",
                t,
                json!({"current_password": "Reading-Room-42",
                       "new_password": "Lantern-Harbour-42"}),
            )
            .await
            .expect(429, "too_many_attempts");
        assert_eq!(password_change.headers["retry-after"], "1");
        let now = app.get("/api/v1/me/settings", t).await.expect(200, "");
        assert_eq!(now.body["email"], "old@example.com");
        assert!(email_changes(app).await.is_empty());

        // Once the delay is over, another wrong one doubles it.
        app.set_clock(hk("2026-12-01T10:00:01")).await;
        change("Wrong-Password-1").await.expect(403, "forbidden");
        let throttled = change("Reading-Room-42")
            .await
            .expect(429, "too_many_attempts");
        assert_eq!(throttled.headers["retry-after"], "2");

        // Then the right Password changes the email and clears the counter.
        app.set_clock(hk("2026-12-01T10:00:03")).await;
        change("Reading-Room-42").await.expect(200, "");
        assert_eq!(email_changes(app).await.len(), 1, "{}", app.db);
        app.login(&card, "Reading-Room-42").await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn the_reading_history_is_kept_only_while_the_reader_wants_it() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = setup(app).await;
        app.rules(&staff, json!({}), standard_rules())
            .await
            .expect(200, "");
        let title = app.title(&staff, "Dream of the Red Chamber").await;
        app.item(&staff, title, "R1", "CEN").await;
        let (card, _) = reader(app, &staff, "91230021").await;
        let lend_and_return = async |borrow: &str, back: &str| {
            app.set_clock(hk(borrow)).await;
            let staff = app.staff_token().await;
            app.checkout(&staff, &card, "R1", "CEN")
                .await
                .expect(201, "");
            app.set_clock(hk(back)).await;
            let staff = app.staff_token().await;
            app.checkin(&staff, "R1", "CEN", None).await.expect(200, "");
        };
        let history = async |token: &str| {
            app.get("/api/v1/me/reading-history", Some(token))
                .await
                .expect(200, "")
                .body
        };
        let settings = |keep: bool| {
            json!({"email": null, "sms_number": null, "notification_channels": [],
                   "language": "en", "keep_reading_history": keep})
        };

        lend_and_return("2026-12-01T11:00:00", "2026-12-03T12:00:00").await;
        let token = app.relogin(&card).await;
        let kept = history(&token).await;
        assert_eq!(kept["keep_reading_history"], true, "{}", app.db);
        assert_eq!(kept["kept_since"], Value::Null);
        let loans = kept["loans"].as_array().unwrap();
        assert_eq!(loans.len(), 1, "{kept:?}");
        assert_eq!(loans[0]["item_barcode"], "R1");
        assert_eq!(loans[0]["title"], "Dream of the Red Chamber");
        assert_eq!(loans[0]["library_code"], "CEN");
        assert_eq!(loans[0]["borrowed_at"], "2026-12-01T11:00:00+08:00");
        assert_eq!(loans[0]["returned_at"], "2026-12-03T12:00:00+08:00");

        // Off: nothing shown, also what was returned before.
        app.put("/api/v1/me/settings", Some(&token), settings(false))
            .await
            .expect(200, "");
        let off = history(&token).await;
        assert_eq!(off["keep_reading_history"], false);
        assert_eq!(off["loans"], json!([]));

        // A loan returned while off is never shown; on again, the history starts anew.
        lend_and_return("2026-12-04T11:00:00", "2026-12-05T12:00:00").await;
        app.set_clock(hk("2026-12-06T09:00:00")).await;
        let token = app.relogin(&card).await;
        app.put("/api/v1/me/settings", Some(&token), settings(true))
            .await
            .expect(200, "");
        let fresh = history(&token).await;
        assert_eq!(fresh["kept_since"], "2026-12-06T09:00:00+08:00");
        assert_eq!(fresh["loans"], json!([]));
        lend_and_return("2026-12-07T11:00:00", "2026-12-08T12:00:00").await;
        let token = app.relogin(&card).await;
        let loans = history(&token).await["loans"].clone();
        assert_eq!(loans.as_array().unwrap().len(), 1, "{loans:?}");
        assert_eq!(loans[0]["returned_at"], "2026-12-08T12:00:00+08:00");
    })
    .await;
}

#[tokio::test]
async fn ask_a_librarian() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = setup(app).await;
        let (a_card, a) = reader(app, &staff, "91230031").await;
        let (_b_card, b) = reader(app, &staff, "91230032").await;
        let ask =
            async |token: &str, body: Value| app.post("/api/v1/enquiries", Some(token), body).await;

        let bad = ask(&a, json!({"subject": " ", "message": "m".repeat(4001)}))
            .await
            .expect(422, "validation_failed");
        assert_eq!(
            bad.violations(),
            ["subject_missing", "message_too_long"],
            "{}",
            app.db
        );
        let long = ask(&a, json!({"subject": "s".repeat(201), "message": ""}))
            .await
            .expect(422, "validation_failed");
        assert_eq!(long.violations(), ["subject_too_long", "message_missing"]);
        let unknown = ask(
            &a,
            json!({"subject": "s", "message": "m", "library_code": "NOPE"}),
        )
        .await
        .expect(422, "validation_failed");
        assert_eq!(unknown.violations(), ["unknown_library"]);
        ask(&a, json!({"subject": "s"}))
            .await
            .expect(400, "bad_request");

        let first = ask(
            &a,
            json!({"subject": "Opening hours at Christmas",
                   "message": "Is the library open\non 26 December?", "library_code": "CEN"}),
        )
        .await
        .expect(201, "");
        assert_eq!(first.body["status"], "open");
        assert_eq!(first.body["subject"], "Opening hours at Christmas");
        assert_eq!(first.body["library_code"], "CEN");
        assert_eq!(first.body["created_at"], "2026-12-01T10:00:00+08:00");
        assert_eq!(first.body["answer"], Value::Null);
        let first = first.body["id"].as_i64().unwrap();
        app.set_clock(hk("2026-12-01T11:00:00")).await;
        let second = ask(
            &a,
            json!({"subject": "Study rooms", "message": "How to apply?"}),
        )
        .await
        .expect(201, "")
        .body["id"]
            .as_i64()
            .unwrap();
        let other = ask(&b, json!({"subject": "Lost card", "message": "What now?"}))
            .await
            .expect(201, "")
            .body["id"]
            .as_i64()
            .unwrap();

        let mine = app
            .get("/api/v1/me/enquiries", Some(&a))
            .await
            .expect(200, "");
        assert_eq!(ids(&mine.body["enquiries"]), [second, first]);
        app.get(&format!("/api/v1/me/enquiries/{other}"), Some(&a))
            .await
            .expect(404, "not_found");
        app.get("/api/v1/me/enquiries/999999", Some(&a))
            .await
            .expect(404, "not_found");
        let one = app
            .get(&format!("/api/v1/me/enquiries/{first}"), Some(&a))
            .await
            .expect(200, "");
        assert_eq!(one.body["message"], "Is the library open\non 26 December?");

        // Staff: the open ones, oldest first, with who asked.
        let open = app
            .get("/api/v1/staff/enquiries?status=open", Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(ids(&open.body["enquiries"]), [first, second, other]);
        assert_eq!(open.body["total"], 3);
        assert_eq!(open.body["enquiries"][0]["card_number"], a_card.as_str());
        assert_eq!(open.body["enquiries"][0]["reader_name"], "Chan Tai Man");
        app.get("/api/v1/staff/enquiries?status=closed", Some(&staff))
            .await
            .expect(400, "bad_request");
        app.get("/api/v1/staff/enquiries", Some(&a))
            .await
            .expect(403, "forbidden");

        let answer = async |id: i64, text: &str| {
            app.post(
                &format!("/api/v1/staff/enquiries/{id}/answer"),
                Some(&staff),
                json!({ "answer": text }),
            )
            .await
        };
        let empty = answer(first, "  ").await.expect(422, "validation_failed");
        assert_eq!(empty.violations(), ["answer_missing"]);
        let too_long = answer(first, &"a".repeat(4001))
            .await
            .expect(422, "validation_failed");
        assert_eq!(too_long.violations(), ["answer_too_long"]);
        app.set_clock(hk("2026-12-02T09:30:00")).await;
        let staff = app.staff_token().await;
        let answer = async |id: i64, text: &str| {
            app.post(
                &format!("/api/v1/staff/enquiries/{id}/answer"),
                Some(&staff),
                json!({ "answer": text }),
            )
            .await
        };
        let answered = answer(first, "Closed on 25 and 26 December.")
            .await
            .expect(200, "");
        assert_eq!(answered.body["status"], "answered");
        assert_eq!(answered.body["answered_at"], "2026-12-02T09:30:00+08:00");
        assert_eq!(answered.body["card_number"], a_card.as_str());
        answer(first, "Replaced?")
            .await
            .expect(409, "already_answered");
        answer(999_999, "x").await.expect(404, "not_found");

        let a = app.relogin(&a_card).await;
        let mine = app
            .get("/api/v1/me/enquiries", Some(&a))
            .await
            .expect(200, "");
        let first_now = &mine.body["enquiries"][1];
        assert_eq!(first_now["status"], "answered");
        assert_eq!(first_now["answer"], "Closed on 25 and 26 December.");
        assert_eq!(first_now["answered_at"], "2026-12-02T09:30:00+08:00");
        assert_eq!(mine.body["enquiries"][0]["answer"], Value::Null);

        let answered = app
            .get("/api/v1/staff/enquiries?status=answered", Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(ids(&answered.body["enquiries"]), [first]);
        let all = app
            .get("/api/v1/staff/enquiries?limit=2&offset=1", Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(ids(&all.body["enquiries"]), [second, other]);
        assert_eq!(all.body["total"], 3);
        let audited = app.audit_log().await.iter().any(|e| {
            e.entry.action == "enquiry.answer" && e.entry.subject == format!("enquiry:{first}")
        });
        assert!(audited, "{}", app.db);
    })
    .await;
}

#[tokio::test]
async fn scopes_on_the_reader_service_routes() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = setup(app).await;
        let (card, full) = reader(app, &staff, "91230041").await;
        let pin = app.pin_login(&card, "0041").await.expect(200, "").token();
        let fresh = app.reader(&staff, "91230042").await;
        let change_only = app.login(&fresh, "0042").await.expect(200, "").token();

        let reader_routes: &[(Method, &str)] = &[
            (Method::GET, "/api/v1/me/activities"),
            (Method::DELETE, "/api/v1/me/activities/1"),
            (Method::POST, "/api/v1/activities/1/registrations"),
            (Method::GET, "/api/v1/me/notices"),
            (Method::GET, "/api/v1/me/settings"),
            (Method::PUT, "/api/v1/me/settings"),
            (Method::GET, "/api/v1/me/reading-history"),
            (Method::POST, "/api/v1/enquiries"),
            (Method::GET, "/api/v1/me/enquiries"),
            (Method::GET, "/api/v1/me/enquiries/1"),
        ];
        let staff_routes: &[(Method, &str)] = &[
            (Method::POST, "/api/v1/activities"),
            (Method::DELETE, "/api/v1/activities/1"),
            (Method::GET, "/api/v1/staff/activities"),
            (Method::POST, "/api/v1/notices"),
            (Method::DELETE, "/api/v1/notices/1"),
            (Method::GET, "/api/v1/staff/notices"),
            (Method::GET, "/api/v1/staff/enquiries"),
            (Method::POST, "/api/v1/staff/enquiries/1/answer"),
        ];
        let call = async |method: &Method, path: &str, token: Option<&str>| {
            app.call(method.clone(), path, token, json!({})).await
        };
        // Who gets what on each kind of route.
        let reader_expectations: [(Option<&str>, (u16, &str)); 4] = [
            (Some(&pin), (403, "forbidden")),
            (Some(&change_only), (403, "password_change_required")),
            (Some(&staff), (403, "forbidden")),
            (None, (401, "unauthorized")),
        ];
        let staff_expectations: [(Option<&str>, (u16, &str)); 4] = [
            (Some(&full), (403, "forbidden")),
            (Some(&pin), (403, "forbidden")),
            (Some(&change_only), (403, "password_change_required")),
            (None, (401, "unauthorized")),
        ];
        for (routes, expectations) in [
            (reader_routes, &reader_expectations),
            (staff_routes, &staff_expectations),
        ] {
            for (method, path) in routes {
                let shown = format!("{method} {path} on {}", app.db);
                for (token, want) in expectations {
                    let answer = call(method, path, *token).await;
                    assert_eq!((answer.status.as_u16(), answer.code()), *want, "{shown}");
                }
            }
        }
        // The public list needs no token; a PIN session may still list loans.
        app.get("/api/v1/activities", None).await.expect(200, "");
        app.get("/api/v1/me/loans", Some(&pin))
            .await
            .expect(200, "");

        // Every designed route is in the served OpenAPI document, described.
        let doc = app.get("/openapi.json", None).await.expect(200, "");
        for (path, method) in [
            ("/api/v1/activities", "post"),
            ("/api/v1/activities", "get"),
            ("/api/v1/activities/{id}", "get"),
            ("/api/v1/activities/{id}", "delete"),
            ("/api/v1/staff/activities", "get"),
            ("/api/v1/activities/{id}/registrations", "post"),
            ("/api/v1/activities/{id}/registrations", "get"),
            ("/api/v1/me/activities", "get"),
            ("/api/v1/me/activities/{id}", "delete"),
            ("/api/v1/notices", "post"),
            ("/api/v1/notices/{id}", "delete"),
            ("/api/v1/staff/notices", "get"),
            ("/api/v1/me/notices", "get"),
            ("/api/v1/me/settings", "get"),
            ("/api/v1/me/settings", "put"),
            ("/api/v1/me/reading-history", "get"),
            ("/api/v1/enquiries", "post"),
            ("/api/v1/me/enquiries", "get"),
            ("/api/v1/me/enquiries/{id}", "get"),
            ("/api/v1/staff/enquiries", "get"),
            ("/api/v1/staff/enquiries/{id}/answer", "post"),
        ] {
            let op = &doc.body["paths"][path][method];
            assert!(
                op["summary"].is_string() || op["description"].is_string(),
                "{method} {path} is not described: {op}"
            );
        }
    })
    .await;
}
