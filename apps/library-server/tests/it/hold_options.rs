//! Hold options over HTTP with the dates of docs/circulation.md: a hold suspended until
//! 10 March 2021 keeps its place while the copy returned on 8 March goes to the next
//! reader, and is first on 10 March itself; a hold not needed after 5 March is still
//! queued that day and expired by the job on 6 March; staff cancel with a reason the
//! reader sees.

use serde_json::{Value, json};

use crate::support::{TestApp, hk, on_every_backend, standard_rules};

/// The counter on 1 March 2021 at 10:00 in Hong Kong: library `CEN`, the standard rules.
async fn counter_on_1_march_2021(app: &TestApp) -> String {
    app.set_clock(hk("2021-03-01T10:00:00")).await;
    let staff = app.staff_token().await;
    app.library(&staff, "CEN", "district").await;
    app.rules(&staff, json!({}), standard_rules())
        .await
        .expect(200, "");
    staff
}

async fn my_holds(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/api/v1/me/holds", Some(token))
        .await
        .expect(200, "")
        .body["holds"]
        .as_array()
        .expect("holds")
        .clone()
}

async fn my_hold(app: &TestApp, token: &str, id: i64) -> Value {
    my_holds(app, token)
        .await
        .into_iter()
        .find(|h| h["id"] == id)
        .expect("the hold is listed")
}

fn id(answer: &crate::support::Answer) -> i64 {
    answer.body["id"].as_i64().expect("id")
}

/// A title with one copy `barcode` on loan and three readers' holds on it, in order.
async fn three_queued(
    app: &TestApp,
    staff: &str,
    barcode: &str,
    phones: [&str; 4],
) -> (Vec<(String, String)>, Vec<i64>) {
    let title = app.title(staff, "Harbour Tales").await;
    app.item(staff, title, barcode, "CEN").await;
    let lender = app.reader(staff, phones[0]).await;
    app.checkout(staff, &lender, barcode, "CEN")
        .await
        .expect(201, "");
    let mut readers = Vec::new();
    let mut holds = Vec::new();
    for phone in &phones[1..] {
        let card = app.reader(staff, phone).await;
        let token = app.reader_session(&card, phone).await;
        let placed = app
            .post(
                "/api/v1/me/holds",
                Some(&token),
                json!({"title_id": title, "pickup_library": "CEN"}),
            )
            .await
            .expect(201, "");
        holds.push(id(&placed));
        readers.push((card, token));
    }
    (readers, holds)
}

#[tokio::test]
async fn a_suspended_hold_keeps_its_place_and_is_first_on_its_resume_day() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = counter_on_1_march_2021(app).await;
        let (readers, holds) = three_queued(
            app,
            &staff,
            "S1",
            ["91241000", "91241001", "91241002", "91241003"],
        )
        .await;
        let [(a, ta), (b, tb), _] = &readers[..] else {
            unreachable!()
        };
        let path = |hold: i64| format!("/api/v1/me/holds/{hold}");

        // Bad dates, all named at once; another reader's hold is not found.
        let bad = app
            .patch(
                &path(holds[0]),
                Some(ta),
                json!({"suspended_until": "2021-03-01", "not_needed_after": "2021-02-28"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(
            bad.violations(),
            [
                "suspended_until_not_after_today",
                "not_needed_after_in_past"
            ],
            "{}",
            app.db
        );
        let far = app
            .patch(
                &path(holds[0]),
                Some(ta),
                json!({"suspended_until": "2022-03-02"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(far.violations(), ["suspended_until_too_far"]);
        let far = app
            .patch(
                &path(holds[0]),
                Some(ta),
                json!({"not_needed_after": "2023-03-02"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(far.violations(), ["not_needed_after_too_far"]);
        app.patch(
            &path(holds[0]),
            Some(ta),
            json!({"suspended_until": "10/03/2021"}),
        )
        .await
        .expect(400, "bad_request");
        app.patch(&path(holds[0]), Some(tb), json!({"suspended_until": null}))
            .await
            .expect(404, "not_found");
        app.patch(&path(999_999), Some(ta), json!({}))
            .await
            .expect(404, "not_found");

        // Suspended until 10 March: answered as the list shows it, still first.
        let suspended = app
            .patch(
                &path(holds[0]),
                Some(ta),
                json!({"suspended_until": "2021-03-10"}),
            )
            .await
            .expect(200, "");
        assert_eq!(
            suspended.body["suspended_until"], "2021-03-10",
            "{}",
            app.db
        );
        assert_eq!(suspended.body["position"], 1);
        assert_eq!(suspended.body["not_needed_after"], Value::Null);
        assert_eq!(suspended.body["title"], "Harbour Tales");
        assert_eq!(suspended.body, my_hold(app, ta, holds[0]).await);
        // An absent field is left as it is.
        let same = app
            .patch(&path(holds[0]), Some(ta), json!({}))
            .await
            .expect(200, "");
        assert_eq!(same.body["suspended_until"], "2021-03-10");

        // Returned on 8 March: the copy goes to hold #2; #1 keeps position 1.
        app.set_clock(hk("2021-03-08T11:00:00")).await;
        let staff = app.staff_token().await;
        let back = app.checkin(&staff, "S1", "CEN", None).await.expect(200, "");
        assert_eq!(back.body["hold"]["id"], holds[1], "{}", app.db);
        let ta = &app.relogin(a).await;
        let tc = &app.relogin(&readers[2].0).await;
        let first = my_hold(app, ta, holds[0]).await;
        assert_eq!(
            (first["status"].clone(), first["position"].clone()),
            (json!("queued"), json!(1))
        );
        assert_eq!(my_hold(app, tc, holds[2]).await["position"], 2);
        let _ = tc;

        // #2 borrows it; on 10 March, the resume day itself, it comes back and goes to #1.
        app.post(
            &format!("/api/v1/circulation/holds/{}/collection", holds[1]),
            Some(&staff),
            json!({"library_code": "CEN"}),
        )
        .await
        .expect(201, "");
        app.set_clock(hk("2021-03-10T09:30:00")).await;
        let staff = app.staff_token().await;
        let back = app.checkin(&staff, "S1", "CEN", None).await.expect(200, "");
        assert_eq!(back.body["hold"]["id"], holds[0], "{}", app.db);
        let ta = &app.relogin(a).await;
        let waiting = my_hold(app, ta, holds[0]).await;
        assert_eq!(waiting["status"], "waiting");
        assert_eq!(waiting["suspended_until"], Value::Null, "a trap clears it");

        // A waiting hold cannot be suspended; an ended one cannot be changed.
        let refused = app
            .patch(
                &path(holds[0]),
                Some(ta),
                json!({"suspended_until": "2021-03-20"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(refused.violations(), ["hold_not_queued"]);
        let tb = &app.relogin(b).await;
        app.patch(&path(holds[1]), Some(tb), json!({"suspended_until": null}))
            .await
            .expect(409, "hold_ended");
    })
    .await;
}

#[tokio::test]
async fn resuming_makes_a_suspended_hold_first_in_line_at_once() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = counter_on_1_march_2021(app).await;
        let (readers, holds) = three_queued(
            app,
            &staff,
            "R1",
            ["91242000", "91242001", "91242002", "91242003"],
        )
        .await;
        let ta = &readers[0].1;
        let path = format!("/api/v1/me/holds/{}", holds[0]);
        app.patch(&path, Some(ta), json!({"suspended_until": "2021-03-10"}))
            .await
            .expect(200, "");
        let resumed = app
            .patch(&path, Some(ta), json!({"suspended_until": null}))
            .await
            .expect(200, "");
        assert_eq!(resumed.body["suspended_until"], Value::Null, "{}", app.db);
        let back = app.checkin(&staff, "R1", "CEN", None).await.expect(200, "");
        assert_eq!(back.body["hold"]["id"], holds[0]);
    })
    .await;
}

#[tokio::test]
async fn a_hold_not_needed_after_5_march_is_expired_by_the_job_on_6_march() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = counter_on_1_march_2021(app).await;
        let title = app.title(&staff, "Harbour Tales").await;
        app.item(&staff, title, "N1", "CEN").await;
        let lender = app.reader(&staff, "91243000").await;
        app.checkout(&staff, &lender, "N1", "CEN")
            .await
            .expect(201, "");
        let a = app.reader(&staff, "91243001").await;
        let b = app.reader(&staff, "91243002").await;
        let c = app.reader(&staff, "91243003").await;
        let ta = app.reader_session(&a, "91243001").await;
        let tc = app.reader_session(&c, "91243003").await;
        let place = |last: Value| json!({"title_id": title, "pickup_library": "CEN", "not_needed_after": last});

        // A date already past is refused; today is accepted.
        let past = app
            .post("/api/v1/me/holds", Some(&ta), place(json!("2021-02-28")))
            .await
            .expect(422, "validation_failed");
        assert_eq!(past.violations(), ["not_needed_after_in_past"], "{}", app.db);
        let first = app
            .post("/api/v1/me/holds", Some(&ta), place(json!("2021-03-05")))
            .await
            .expect(201, "");
        let first = id(&first);
        assert_eq!(my_hold(app, &ta, first).await["not_needed_after"], "2021-03-05");
        // Staff place B's with no date (null is none); C's is set later, then cleared.
        let second = app
            .post(&format!("/api/v1/patrons/{b}/holds"), Some(&staff), place(Value::Null))
            .await
            .expect(201, "");
        let second = id(&second);
        let third = app
            .post("/api/v1/me/holds", Some(&tc), json!({"title_id": title, "pickup_library": "CEN"}))
            .await
            .expect(201, "");
        let third = id(&third);
        let path = format!("/api/v1/me/holds/{third}");
        let set = app
            .patch(&path, Some(&tc), json!({"not_needed_after": "2021-03-31"}))
            .await
            .expect(200, "");
        assert_eq!(set.body["not_needed_after"], "2021-03-31");
        let cleared = app
            .patch(&path, Some(&tc), json!({"not_needed_after": null}))
            .await
            .expect(200, "");
        assert_eq!(cleared.body["not_needed_after"], Value::Null);

        // 5 March, evening: the job leaves it; it is still wanted that day.
        app.set_clock(hk("2021-03-05T20:00:00")).await;
        app.run_jobs().await;
        let ta = app.relogin(&a).await;
        let hold = my_hold(app, &ta, first).await;
        assert_eq!((hold["status"].clone(), hold["position"].clone()), (json!("queued"), json!(1)));

        // 6 March, just after midnight: expired, B moves up to 1, C to 2, A told.
        app.set_clock(hk("2021-03-06T00:30:00")).await;
        app.run_jobs().await;
        let ta = app.relogin(&a).await;
        let hold = my_hold(app, &ta, first).await;
        assert_eq!(hold["status"], "expired", "{}", app.db);
        assert!(hold.get("position").is_none());
        let staff = app.staff_token().await;
        let seen = app
            .get(&format!("/api/v1/patrons/{b}/holds"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(seen.body["holds"][0]["id"], second);
        assert_eq!(seen.body["holds"][0]["position"], 1);
        let tc = app.relogin(&c).await;
        assert_eq!(my_hold(app, &tc, third).await["position"], 2);
        let told: Vec<_> = app
            .outbox()
            .await
            .into_iter()
            .filter(|n| n.notification.kind == "hold.not_needed")
            .map(|n| serde_json::from_str::<Value>(&n.notification.payload).unwrap())
            .collect();
        assert_eq!(told.len(), 1, "{}: {told:?}", app.db);
        assert_eq!(told[0]["hold_id"], first);
        assert_eq!(told[0]["not_needed_after"], "2021-03-05");
        // The copy still comes back to the next reader in line.
        let back = app.checkin(&staff, "N1", "CEN", None).await.expect(200, "");
        assert_eq!(back.body["hold"]["id"], second);
    })
    .await;
}

#[tokio::test]
async fn staff_change_and_cancel_a_hold_with_a_reason_the_reader_sees() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = counter_on_1_march_2021(app).await;
        let (readers, holds) = three_queued(
            app,
            &staff,
            "C1",
            ["91244000", "91244001", "91244002", "91244003"],
        )
        .await;
        let [(a, ta), (b, tb), (c, tc)] = &readers[..] else {
            unreachable!()
        };
        let hold_path = |card: &str, hold: i64| format!("/api/v1/patrons/{card}/holds/{hold}");
        let cancel_path = |card: &str, hold: i64| format!("{}/cancellation", hold_path(card, hold));

        // Staff suspend A's hold, audited; only through A's card.
        app.patch(
            &hold_path(b, holds[0]),
            Some(&staff),
            json!({"suspended_until": "2021-03-10"}),
        )
        .await
        .expect(404, "not_found");
        app.patch(
            &hold_path("29999999999999", holds[0]),
            Some(&staff),
            json!({"suspended_until": "2021-03-10"}),
        )
        .await
        .expect(404, "not_found");
        let changed = app
            .patch(
                &hold_path(a, holds[0]),
                Some(&staff),
                json!({"suspended_until": "2021-03-10", "not_needed_after": "2021-04-30"}),
            )
            .await
            .expect(200, "");
        assert_eq!(changed.body, my_hold(app, ta, holds[0]).await, "{}", app.db);
        let entry = app
            .audit_log()
            .await
            .into_iter()
            .find(|e| e.entry.action == "hold.change")
            .expect("the change audited");
        assert!(entry.entry.staff.is_some());
        assert_eq!(entry.entry.subject, format!("hold:{}", holds[0]));
        let details: Value = serde_json::from_str(&entry.entry.details).unwrap();
        assert_eq!(details["suspended_until"], "2021-03-10");
        assert_eq!(details["not_needed_after"], "2021-04-30");
        assert_eq!(details["card_number"], a.as_str());

        // A reason is required: one line, 1 to 500 characters once trimmed.
        for (reason, code) in [
            (json!(""), "reason_missing"),
            (json!("   "), "reason_missing"),
            (json!("x".repeat(501)), "reason_too_long"),
            (json!("two\nlines"), "reason_invalid"),
            (json!("bell\u{7}"), "control_character"),
        ] {
            let refused = app
                .post(
                    &cancel_path(a, holds[0]),
                    Some(&staff),
                    json!({"reason": reason}),
                )
                .await
                .expect(422, "validation_failed");
            assert_eq!(refused.violations(), [code], "{}", app.db);
        }
        app.post(&cancel_path(a, holds[0]), Some(&staff), json!({}))
            .await
            .expect(400, "bad_request");
        app.post(
            &cancel_path(a, holds[0]),
            Some(ta),
            json!({"reason": "mine"}),
        )
        .await
        .expect(403, "forbidden");
        assert_eq!(my_hold(app, ta, holds[0]).await["status"], "queued");

        // Cancelled with a reason: the reader sees who and why; the queue moves up.
        let long = "書".repeat(500);
        let cancelled = app
            .post(
                &cancel_path(a, holds[0]),
                Some(&staff),
                json!({"reason": "  The copy was withdrawn from stock. "}),
            )
            .await
            .expect(200, "");
        assert_eq!(cancelled.body["status"], "cancelled", "{}", app.db);
        assert_eq!(cancelled.body["cancelled_by"], "staff");
        assert_eq!(
            cancelled.body["cancel_reason"],
            "The copy was withdrawn from stock."
        );
        assert!(cancelled.body.get("position").is_none());
        let seen = my_hold(app, ta, holds[0]).await;
        assert_eq!(seen, cancelled.body);
        assert_eq!(my_hold(app, tb, holds[1]).await["position"], 1);
        let entry = app
            .audit_log()
            .await
            .into_iter()
            .find(|e| e.entry.action == "hold.cancel")
            .expect("the cancellation audited");
        assert!(entry.entry.staff.is_some());
        let details: Value = serde_json::from_str(&entry.entry.details).unwrap();
        assert_eq!(details["reason"], "The copy was withdrawn from stock.");
        app.post(
            &cancel_path(a, holds[0]),
            Some(&staff),
            json!({"reason": "again"}),
        )
        .await
        .expect(409, "hold_ended");
        app.patch(
            &hold_path(a, holds[0]),
            Some(&staff),
            json!({"suspended_until": null}),
        )
        .await
        .expect(409, "hold_ended");

        // 500 characters are enough; the plain DELETE still works, without a reason.
        let at_limit = app
            .post(
                &cancel_path(b, holds[1]),
                Some(&staff),
                json!({"reason": long}),
            )
            .await
            .expect(200, "");
        assert_eq!(at_limit.body["cancel_reason"], long.as_str());
        app.delete(&hold_path(c, holds[2]), Some(&staff))
            .await
            .expect(204, "");
        let plain = my_hold(app, tc, holds[2]).await;
        assert_eq!(plain["cancelled_by"], "staff");
        assert_eq!(plain["cancel_reason"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn a_readers_own_cancellation_says_so_and_active_holds_carry_no_cancellation() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = counter_on_1_march_2021(app).await;
        let (readers, holds) = three_queued(
            app,
            &staff,
            "O1",
            ["91245000", "91245001", "91245002", "91245003"],
        )
        .await;
        let (ta, tb) = (&readers[0].1, &readers[1].1);
        app.delete(&format!("/api/v1/me/holds/{}", holds[0]), Some(ta))
            .await
            .expect(204, "");
        let own = my_hold(app, ta, holds[0]).await;
        assert_eq!(own["cancelled_by"], "reader", "{}", app.db);
        assert_eq!(own["cancel_reason"], Value::Null);
        let queued = my_hold(app, tb, holds[1]).await;
        for field in [
            "cancelled_by",
            "cancel_reason",
            "suspended_until",
            "not_needed_after",
        ] {
            assert_eq!(queued[field], Value::Null, "{field}");
        }
    })
    .await;
}
