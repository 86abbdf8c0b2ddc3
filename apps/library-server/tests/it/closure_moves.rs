//! Closures that move deadlines, over HTTP with the dev clock: the 2021 closure declared at
//! the end of December 2020, its preview, the due dates and pickup-by dates moved to the
//! first open day after it, the readers' notices and the audit entry, and a renewal and a
//! fine that follow the moved date.

use serde_json::{Value, json};

use crate::support::{TestApp, hk, on_every_backend, standard_rules};

const CLOSURE: &str = "/api/v1/libraries/CEN/closures";
const PREVIEW: &str = "/api/v1/libraries/CEN/closures/preview";

/// The closure of early 2021 with the moves given.
fn closure_2021(moves: Value) -> Value {
    let mut body = json!({"from": "2021-01-01", "to": "2021-02-18", "reason": "COVID-19"});
    if let (Some(body), Some(moves)) = (body.as_object_mut(), moves.as_object()) {
        body.extend(moves.clone());
    }
    body
}

/// The reader's open loans as (barcode, local due date, renewals), by barcode.
async fn loans(app: &TestApp, token: &str) -> Vec<(String, String, i64)> {
    let answer = app
        .get("/api/v1/me/loans", Some(token))
        .await
        .expect(200, "");
    let mut out: Vec<_> = answer.body["loans"]
        .as_array()
        .expect("loans")
        .iter()
        .map(|l| {
            (
                l["item_barcode"].as_str().unwrap_or("").to_owned(),
                l["due_at"].as_str().unwrap_or("")[..10].to_owned(),
                l["renewals"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    out.sort();
    out
}

fn loan(barcode: &str, due: &str, renewals: i64) -> (String, String, i64) {
    (barcode.to_owned(), due.to_owned(), renewals)
}

/// The pickup-by date of the reader's one hold.
async fn pickup_by(app: &TestApp, token: &str) -> String {
    let answer = app
        .get("/api/v1/me/holds", Some(token))
        .await
        .expect(200, "");
    answer.body["holds"][0]["pickup_by"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// Lends `barcode` to `card` at `library`, due on local date `due`.
async fn lend(app: &TestApp, staff: &str, card: &str, barcode: &str, library: &str, due: &str) {
    let lent = app
        .checkout(staff, card, barcode, library)
        .await
        .expect(201, "");
    assert_eq!(
        &lent.body["due_at"].as_str().unwrap_or("")[..10],
        due,
        "{barcode} {}",
        app.db
    );
}

/// Libraries `CEN` (closed on Mondays) and `OTH`, the standard rules with a 70-day loan
/// for item type `long_loan`, and loans made in December 2020:
/// - reader 1: `A0` due 2020-12-31 (overdue before the closure), `A1` due 2021-01-03;
/// - reader 2: `A2` due 2021-01-03, `L1` due 2021-02-28 (after the closure), `B1` lent by
///   `OTH`, due 2021-01-03;
/// - reader 3: a hold on `H1`'s title waiting at `CEN` until 2021-01-02.
///
/// The clock is left at 2020-12-31 10:00; the cards, in order.
async fn december_2020(app: &TestApp) -> [String; 3] {
    app.set_clock(hk("2020-12-17T10:00:00")).await;
    let staff = app.staff_token().await;
    app.library(&staff, "CEN", "district").await;
    app.library(&staff, "OTH", "small").await;
    app.post(
        "/api/v1/libraries/CEN/calendar",
        Some(&staff),
        json!({"rule": "closed_weekday", "weekday": "monday", "reason": "weekly"}),
    )
    .await
    .expect(201, "");
    app.rules(&staff, json!({}), standard_rules())
        .await
        .expect(200, "");
    app.rules(
        &staff,
        json!({"item_type": "long_loan"}),
        json!({"loan_days": 70}),
    )
    .await
    .expect(200, "");
    for (barcode, home) in [("A0", "CEN"), ("A1", "CEN"), ("A2", "CEN"), ("B1", "OTH")] {
        let title = app.title(&staff, &format!("Title {barcode}")).await;
        app.item(&staff, title, barcode, home).await;
    }
    let long = app.title(&staff, "Title L1").await;
    app.post(
        "/api/v1/catalog/items",
        Some(&staff),
        json!({"title_id": long, "barcode": "L1", "item_type": "long_loan",
               "home_library": "CEN"}),
    )
    .await
    .expect(201, "");
    let reserved = app.title(&staff, "Title H1").await;
    app.item(&staff, reserved, "H1", "CEN").await;
    let cards = [
        app.reader(&staff, "91240001").await,
        app.reader(&staff, "91240002").await,
        app.reader(&staff, "91240003").await,
    ];
    for (n, card) in cards.iter().enumerate() {
        app.reader_session(card, &format!("9124000{}", n + 1)).await;
    }

    lend(app, &staff, &cards[0], "A0", "CEN", "2020-12-31").await;
    app.set_clock(hk("2020-12-20T10:00:00")).await;
    let staff = app.staff_token().await;
    lend(app, &staff, &cards[0], "A1", "CEN", "2021-01-03").await;
    lend(app, &staff, &cards[0], "H1", "CEN", "2021-01-03").await;
    lend(app, &staff, &cards[1], "A2", "CEN", "2021-01-03").await;
    lend(app, &staff, &cards[1], "L1", "CEN", "2021-02-28").await;
    lend(app, &staff, &cards[1], "B1", "OTH", "2021-01-03").await;
    let third = app.relogin(&cards[2]).await;
    app.post(
        "/api/v1/me/holds",
        Some(&third),
        json!({"title_id": reserved, "pickup_library": "CEN"}),
    )
    .await
    .expect(201, "");
    // Returned on Wednesday 30 December: trapped, waiting for 3 open days.
    app.set_clock(hk("2020-12-30T10:00:00")).await;
    let staff = app.staff_token().await;
    let back = app.checkin(&staff, "H1", "CEN", None).await.expect(200, "");
    assert_eq!(back.body["hold"]["pickup_by"], "2021-01-02", "{}", app.db);
    app.set_clock(hk("2020-12-31T10:00:00")).await;
    cards
}

#[tokio::test]
async fn a_closure_moves_due_dates_and_pickup_dates_to_the_first_open_day_after_it() {
    on_every_backend(true, async |app: &TestApp| {
        let [first, second, third] = december_2020(app).await;
        let staff = app.staff_token().await;
        let (t1, t2, t3) = (
            app.relogin(&first).await,
            app.relogin(&second).await,
            app.relogin(&third).await,
        );
        let before_1 = vec![loan("A0", "2020-12-31", 0), loan("A1", "2021-01-03", 0)];
        let before_2 = vec![
            loan("A2", "2021-01-03", 0),
            loan("B1", "2021-01-03", 0),
            loan("L1", "2021-02-28", 0),
        ];
        assert_eq!(loans(app, &t1).await, before_1, "{}", app.db);
        assert_eq!(loans(app, &t2).await, before_2);
        let moves = json!({"move_due_dates": "first_open_day",
                           "move_pickup_dates": "first_open_day"});

        // The preview counts and changes nothing.
        let preview = app
            .post(PREVIEW, Some(&staff), closure_2021(moves.clone()))
            .await
            .expect(200, "");
        let body = &preview.body;
        assert_eq!(
            (&body["loans"], &body["holds"], &body["readers"]),
            (&json!(2), &json!(1), &json!(3)),
            "{body}"
        );
        assert_eq!(body["due_on"], "2021-02-19");
        assert_eq!(body["pickup_by"], "2021-02-19");
        let sample = body["sample"].as_array().expect("sample");
        assert_eq!(sample.len(), 3, "{body}");
        assert_eq!(
            sample.iter().map(|m| m["kind"].clone()).collect::<Vec<_>>(),
            [json!("loan"), json!("loan"), json!("hold")]
        );
        assert!(
            sample[..2]
                .iter()
                .all(|m| m["from"] == "2021-01-03" && m["to"] == "2021-02-19")
        );
        assert_eq!(
            (&sample[2]["from"], &sample[2]["to"]),
            (&json!("2021-01-02"), &json!("2021-02-19"))
        );
        assert!(
            !body.to_string().contains("Chan Tai Man"),
            "no reader is named"
        );
        assert_eq!(loans(app, &t1).await, before_1);
        assert_eq!(loans(app, &t2).await, before_2);
        assert_eq!(pickup_by(app, &t3).await, "2021-01-02");
        // The library's calendar has no closure yet: a preview stores nothing.
        let calendar = app.get("/api/v1/libraries/CEN/calendar", None).await;
        assert!(
            !calendar.body.to_string().contains("2021-02-18"),
            "{:?}",
            calendar.body
        );
        // A librarian may preview (reading the configuration) but not declare.
        app.post(
            "/api/v1/staff/users",
            Some(&staff),
            json!({"username": "counter", "password": "Lending-Hall-2021", "role": "librarian"}),
        )
        .await
        .expect(201, "");
        let librarian = app
            .post(
                "/api/v1/staff/login",
                None,
                json!({"username": "counter", "password": "Lending-Hall-2021"}),
            )
            .await
            .expect(200, "")
            .token();
        app.post(PREVIEW, Some(&librarian), closure_2021(moves.clone()))
            .await
            .expect(200, "");
        app.post(CLOSURE, Some(&librarian), closure_2021(moves.clone()))
            .await
            .expect(403, "forbidden");

        // A date that cannot be used is refused by name, and nothing is stored.
        for (given, violation) in [
            ("2021-02-10", "move_date_in_closure"),
            ("2020-12-01", "move_date_before_closure"),
            ("2021-02-22", "move_date_closed"),
        ] {
            for endpoint in [PREVIEW, CLOSURE] {
                let refused = app
                    .post(
                        endpoint,
                        Some(&staff),
                        closure_2021(json!({"move_due_dates": given})),
                    )
                    .await
                    .expect(422, "validation_failed");
                assert_eq!(refused.violations(), [violation], "{given}");
            }
        }
        for bad in [json!("tomorrow"), json!(20210219), json!("2021-02-30")] {
            app.post(
                CLOSURE,
                Some(&staff),
                closure_2021(json!({"move_pickup_dates": bad})),
            )
            .await
            .expect(400, "bad_request");
        }
        app.post(
            "/api/v1/libraries/NOPE/closures/preview",
            Some(&staff),
            closure_2021(moves.clone()),
        )
        .await
        .expect(404, "not_found");
        assert_eq!(loans(app, &t1).await, before_1);
        assert!(
            app.outbox()
                .await
                .iter()
                .all(|n| n.notification.kind != "loan.deadlines_moved")
        );

        // Declared: the same counts, in one change.
        let declared = app
            .post(CLOSURE, Some(&staff), closure_2021(moves.clone()))
            .await
            .expect(201, "");
        let id = declared.body["id"].as_i64().expect("id");
        assert_eq!(
            (
                &declared.body["loans"],
                &declared.body["holds"],
                &declared.body["readers"]
            ),
            (&json!(2), &json!(1), &json!(3)),
            "{}",
            declared.body
        );
        assert_eq!(
            loans(app, &t1).await,
            vec![loan("A0", "2020-12-31", 0), loan("A1", "2021-02-19", 0)],
            "{}",
            app.db
        );
        // The second library's loan and the loan due after the closure stay.
        assert_eq!(
            loans(app, &t2).await,
            vec![
                loan("A2", "2021-02-19", 0),
                loan("B1", "2021-01-03", 0),
                loan("L1", "2021-02-28", 0),
            ]
        );
        assert_eq!(pickup_by(app, &t3).await, "2021-02-19");

        // One notice per reader, naming what moved.
        let notices: Vec<_> = app
            .outbox()
            .await
            .into_iter()
            .filter(|n| n.notification.kind == "loan.deadlines_moved")
            .collect();
        assert_eq!(notices.len(), 3, "{}", app.db);
        let mut readers: Vec<_> = notices.iter().map(|n| n.notification.patron).collect();
        readers.dedup();
        assert_eq!(readers.len(), 3);
        let payloads: Vec<Value> = notices
            .iter()
            .map(|n| serde_json::from_str(&n.notification.payload).expect("json"))
            .collect();
        let of = |barcode: &str| {
            payloads
                .iter()
                .find(|p| p["loans"].to_string().contains(&format!("\"{barcode}\"")))
                .unwrap_or_else(|| panic!("no notice for {barcode}: {payloads:?}"))
        };
        assert_eq!(of("A1")["loans"].as_array().map(Vec::len), Some(1));
        assert_eq!(of("A2")["loans"][0]["due_on_before"], "2021-01-03");
        assert_eq!(of("A2")["loans"][0]["due_on"], "2021-02-19");
        let hold = payloads
            .iter()
            .find(|p| p["holds"].as_array().is_some_and(|h| !h.is_empty()))
            .expect("the hold's notice");
        assert_eq!(hold["holds"][0]["pickup_by"], "2021-02-19");
        assert_eq!(hold["holds"][0]["title"], "Title H1");
        assert_eq!(hold["library"], "CEN");

        // The audit entry: the closure id and the counts.
        let audit = app.audit_log().await;
        let entry = audit
            .iter()
            .find(|e| e.entry.action == "library.closure")
            .expect("audited");
        let details: Value = serde_json::from_str(&entry.entry.details).expect("json");
        assert_eq!(details["id"], id);
        assert_eq!(
            (&details["loans"], &details["holds"], &details["readers"]),
            (&json!(2), &json!(1), &json!(3))
        );
        assert_eq!(details["move_due_dates"], "first_open_day");
        assert_eq!(entry.entry.subject, "library:CEN");

        // After reopening, the renewal follows the rules from the renewal date...
        app.set_clock(hk("2021-02-19T10:00:00")).await;
        let t1 = app.relogin(&first).await;
        let a1 = app.get("/api/v1/me/loans", Some(&t1)).await.body["loans"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["item_barcode"] == "A1").cloned())
            .expect("A1");
        let renewed = app
            .post(
                &format!("/api/v1/me/loans/{}/renewal", a1["id"]),
                Some(&t1),
                json!(null),
            )
            .await
            .expect(200, "");
        assert_eq!(
            &renewed.body["due_at"].as_str().unwrap_or("")[..10],
            "2021-03-05"
        );
        assert_eq!(renewed.body["renewals"], 1);
        // ... and a late return is fined from the moved due date: 19 to 23 February.
        app.set_clock(hk("2021-02-23T10:00:00")).await;
        let staff = app.staff_token().await;
        let back = app.checkin(&staff, "A2", "CEN", None).await.expect(200, "");
        assert_eq!(back.body["overdue_days"], 4, "{}", back.body);
        assert_eq!(back.body["fine_cents"], 600, "{}", back.body);
    })
    .await;
}

#[tokio::test]
async fn a_closure_without_moves_is_declared_as_before() {
    on_every_backend(true, async |app: &TestApp| {
        let [first, _, third] = december_2020(app).await;
        let staff = app.staff_token().await;
        // The old body, and the same with both moves "none".
        let plain = app
            .post(CLOSURE, Some(&staff), closure_2021(json!({})))
            .await
            .expect(201, "");
        assert_eq!(
            (
                &plain.body["loans"],
                &plain.body["holds"],
                &plain.body["readers"]
            ),
            (&json!(0), &json!(0), &json!(0)),
            "{}",
            plain.body
        );
        let id = plain.body["id"].as_i64().expect("id");
        app.post(
            CLOSURE,
            Some(&staff),
            closure_2021(json!({"move_due_dates": "none", "move_pickup_dates": "none"})),
        )
        .await
        .expect(201, "");
        let preview = app
            .post(PREVIEW, Some(&staff), closure_2021(json!({})))
            .await
            .expect(200, "");
        assert_eq!(preview.body["loans"], 0);
        assert_eq!(preview.body["due_on"], Value::Null);
        assert_eq!(preview.body["sample"], json!([]));

        let t1 = app.relogin(&first).await;
        assert_eq!(
            loans(app, &t1).await,
            vec![loan("A0", "2020-12-31", 0), loan("A1", "2021-01-03", 0)],
            "{}",
            app.db
        );
        assert_eq!(
            pickup_by(app, &app.relogin(&third).await).await,
            "2021-01-02"
        );
        assert!(
            app.outbox()
                .await
                .iter()
                .all(|n| n.notification.kind != "loan.deadlines_moved")
        );
        // The audit entry is the one a closure always had.
        let audit = app.audit_log().await;
        let entry = audit
            .iter()
            .find(|e| {
                e.entry.action == "library.closure"
                    && e.entry.details.contains(&format!("\"id\":{id},"))
            })
            .expect("audited");
        let details: Value = serde_json::from_str(&entry.entry.details).expect("json");
        assert_eq!(
            details,
            json!({"id": id, "from": "2021-01-01", "to": "2021-02-18", "reason": "COVID-19"})
        );
        // A checkout now, inside the closure, is due on the first open day after it (s19).
        let staff = app.staff_token().await;
        app.checkin(&staff, "A0", "CEN", None).await.expect(200, "");
        app.set_clock(hk("2021-01-10T10:00:00")).await;
        let staff = app.staff_token().await;
        let lent = app
            .checkout(&staff, &first, "A0", "CEN")
            .await
            .expect(201, "");
        assert_eq!(
            &lent.body["due_at"].as_str().unwrap_or("")[..10],
            "2021-02-19"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reader_is_told_of_the_new_dates_by_mail_in_their_language() {
    for database in crate::support::test_databases().await {
        let smtp = crate::mail::SmtpServer::new();
        let app = crate::mail::app_with_smtp(database, &smtp).await;
        let [first, _, _] = december_2020(&app).await;
        let token = app.relogin(&first).await;
        app.put(
            "/api/v1/me/settings",
            Some(&token),
            json!({"email": "reader@example.com", "sms_number": null,
                   "notification_channels": ["email"], "language": "zh_hant",
                   "keep_reading_history": true, "current_password": "Reading-Room-42"}),
        )
        .await
        .expect(200, "");
        let staff = app.staff_token().await;
        app.post(
            CLOSURE,
            Some(&staff),
            closure_2021(json!({"move_due_dates": "first_open_day"})),
        )
        .await
        .expect(201, "");
        app.run_jobs().await;
        let texts: Vec<String> = smtp
            .mails()
            .iter()
            .filter(|m| m.contains("To: reader@example.com"))
            .map(|m| crate::mail::body(m))
            .collect();
        let text = texts
            .iter()
            .find(|t| t.contains("新到期日"))
            .unwrap_or_else(|| panic!("{}: no mail of the new dates in {texts:?}", app.db));
        assert!(
            text.contains("CEN Library於 2021-01-01 至 2021-02-18 期間關閉"),
            "{}: {text}",
            app.db
        );
        assert!(
            text.contains("    Title A1（A1）：新到期日 2021-02-19（原為 2021-01-03）"),
            "{}: {text}",
            app.db
        );
        // The loan due before the closure is not in it.
        assert!(!text.contains("A0"), "{}: {text}", app.db);
        app.stop().await;
    }
}
