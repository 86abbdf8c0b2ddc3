//! The hold queue over HTTP: positions, refusals, cancellation renumbering, the trap on
//! checkin, collection, and expiry by the scheduled job.

use serde_json::{Value, json};

use crate::support::{TestApp, hk, on_every_backend, test_databases};

async fn my_holds(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/api/v1/me/holds", Some(token))
        .await
        .expect(200, "")
        .body["holds"]
        .as_array()
        .expect("holds")
        .clone()
}

async fn place(app: &TestApp, token: &str, title: i64) -> crate::support::Answer {
    app.post(
        "/api/v1/me/holds",
        Some(token),
        json!({"title_id": title, "pickup_library": "CEN"}),
    )
    .await
}

#[tokio::test]
async fn the_hold_queue_from_placing_to_expiry() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        let title = app.title(&staff, "Dream of the Red Chamber").await;
        app.item(&staff, title, "H1", "CEN").await;
        let mut readers = Vec::new();
        for phone in ["91231001", "91231002", "91231003", "91231004"] {
            let card = app.reader(&staff, phone).await;
            let token = app.reader_session(&card, phone).await;
            readers.push((card, token));
        }
        let [(a, ta), (_b, tb), (_c, tc), (d, td)] = &readers[..] else {
            unreachable!()
        };
        app.checkout(&staff, a, "H1", "CEN").await.expect(201, "");

        let mut ids = Vec::new();
        for (n, token) in [tb, tc, td].into_iter().enumerate() {
            let placed = place(app, token, title).await.expect(201, "");
            assert_eq!(placed.body["position"], n + 1, "{}", app.db);
            assert_eq!(placed.body["status"], "queued");
            ids.push(placed.body["id"].as_i64().expect("id"));
        }
        place(app, ta, title)
            .await
            .refused("hold_refused", "already_on_loan");
        place(app, tb, title)
            .await
            .refused("hold_refused", "already_on_hold");
        app.post(
            "/api/v1/me/holds",
            Some(tb),
            json!({"title_id": 999_999, "pickup_library": "CEN"}),
        )
        .await
        .expect(404, "not_found");

        // C cancels: D moves up to 2.
        app.delete(&format!("/api/v1/me/holds/{}", ids[0]), Some(td))
            .await
            .expect(404, "not_found");
        app.delete(&format!("/api/v1/me/holds/{}", ids[1]), Some(tc))
            .await
            .expect(204, "");
        app.delete(&format!("/api/v1/me/holds/{}", ids[1]), Some(tc))
            .await
            .expect(409, "hold_ended");
        let d_holds = my_holds(app, td).await;
        assert_eq!(d_holds[0]["position"], 2, "{d_holds:?}");
        let c_holds = my_holds(app, tc).await;
        assert_eq!(c_holds[0]["status"], "cancelled", "{c_holds:?}");
        assert!(c_holds[0].get("position").is_none());

        // The return traps the copy for B, waiting until the 3rd open day after today.
        let back = app.checkin(&staff, "H1", "CEN", None).await.expect(200, "");
        assert_eq!(back.body["hold"]["id"], ids[0], "{:?}", back.body);
        assert_eq!(back.body["hold"]["pickup_by"], "2021-06-04");
        let b_holds = my_holds(app, tb).await;
        assert_eq!(b_holds[0]["status"], "waiting");
        assert_eq!(b_holds[0]["pickup_by"], "2021-06-04");
        assert!(b_holds[0].get("position").is_none());
        assert_eq!(my_holds(app, td).await[0]["position"], 1);
        app.checkout(&staff, a, "H1", "CEN")
            .await
            .refused("checkout_refused", "on_hold_for_another");
        app.checkout(&staff, d, "H1", "CEN")
            .await
            .refused("checkout_refused", "on_hold_for_another");

        // On the last pickup day the job leaves it; the day after, it expires and the copy
        // goes to D.
        app.set_clock(hk("2021-06-04T20:00:00")).await;
        app.run_jobs().await;
        app.set_clock(hk("2021-06-05T09:00:00")).await;
        let td = &app.relogin(d).await;
        let tb = &app.relogin(&readers[1].0).await;
        assert_eq!(my_holds(app, tb).await[0]["status"], "waiting");
        app.run_jobs().await;
        assert_eq!(my_holds(app, tb).await[0]["status"], "expired");
        let d_holds = my_holds(app, td).await;
        assert_eq!(d_holds[0]["status"], "waiting", "{d_holds:?}");
        assert_eq!(d_holds[0]["pickup_by"], "2021-06-08");

        // D collects it at the counter.
        let staff = app.staff_token().await;
        app.checkout(&staff, d, "H1", "CEN").await.expect(201, "");
        assert_eq!(my_holds(app, td).await[0]["status"], "collected");
        let loans = app.get("/api/v1/me/loans", Some(td)).await.expect(200, "");
        assert_eq!(loans.body["loans"][0]["item_barcode"], "H1");
        assert_eq!(loans.body["loans"][0]["title"], "Dream of the Red Chamber");
    })
    .await;
}

#[tokio::test]
async fn staff_keep_a_readers_holds_at_the_counter_and_hand_over_by_hold() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        let title = app.title(&staff, "Journey to the West").await;
        app.item(&staff, title, "J1", "CEN").await;
        let lender = app.reader(&staff, "91232001").await;
        let reader = app.reader(&staff, "91232002").await;
        let other = app.reader(&staff, "91232003").await;
        let token = app.reader_session(&reader, "91232002").await;
        app.checkout(&staff, &lender, "J1", "CEN")
            .await
            .expect(201, "");

        // Placed for the reader at the counter, with the reader's own refusals.
        let holds_path = |card: &str| format!("/api/v1/patrons/{card}/holds");
        let placed = app
            .post(
                &holds_path(&reader),
                Some(&staff),
                json!({"title_id": title, "pickup_library": "CEN"}),
            )
            .await
            .expect(201, "");
        assert_eq!(placed.body["position"], 1);
        let hold = placed.body["id"].as_i64().unwrap();
        app.post(
            &holds_path(&lender),
            Some(&staff),
            json!({"title_id": title, "pickup_library": "CEN"}),
        )
        .await
        .refused("hold_refused", "already_on_loan");
        let queued = app
            .post(
                &holds_path(&other),
                Some(&staff),
                json!({"title_id": title, "pickup_library": "CEN"}),
            )
            .await
            .expect(201, "");
        let queued = queued.body["id"].as_i64().unwrap();
        // Staff see what the reader sees.
        let seen = app
            .get(&holds_path(&reader), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(seen.body["holds"], json!(my_holds(app, &token).await));
        assert_eq!(seen.body["holds"][0]["status"], "queued");

        // Not on the shelf yet: nothing to hand over.
        let collect = |id: i64| format!("/api/v1/circulation/holds/{id}/collection");
        app.post(&collect(hold), Some(&staff), json!({"library_code": "CEN"}))
            .await
            .expect(409, "hold_not_waiting");
        app.checkin(&staff, "J1", "CEN", None).await.expect(200, "");
        app.post(
            &collect(hold),
            Some(&staff),
            json!({"library_code": "NOPE"}),
        )
        .await
        .expect(422, "validation_failed");
        app.post(
            &collect(999_999),
            Some(&staff),
            json!({"library_code": "CEN"}),
        )
        .await
        .expect(404, "not_found");
        let lent = app
            .post(&collect(hold), Some(&staff), json!({"library_code": "CEN"}))
            .await
            .expect(201, "");
        assert!(
            lent.body["due_at"]
                .as_str()
                .unwrap()
                .starts_with("2021-06-15")
        );
        assert_eq!(my_holds(app, &token).await[0]["status"], "collected");
        app.post(&collect(hold), Some(&staff), json!({"library_code": "CEN"}))
            .await
            .expect(409, "hold_not_waiting");
        let checkout = app
            .audit_log()
            .await
            .into_iter()
            .find(|e| e.entry.action == "circulation.checkout")
            .expect("the collection audited");
        assert!(checkout.entry.staff.is_some());
        assert_eq!(
            serde_json::from_str::<Value>(&checkout.entry.details).unwrap()["collected_hold"],
            hold
        );

        // Cancelled at the counter: only through its reader's card.
        app.delete(&format!("{}/{queued}", holds_path(&reader)), Some(&staff))
            .await
            .expect(404, "not_found");
        app.delete(&format!("{}/{queued}", holds_path(&other)), Some(&staff))
            .await
            .expect(204, "");
        app.delete(&format!("{}/{queued}", holds_path(&other)), Some(&staff))
            .await
            .expect(409, "hold_ended");
        for path in [holds_path("29999999999999"), holds_path("x")] {
            app.get(&path, Some(&staff)).await.expect(404, "not_found");
        }
        // Staff only.
        app.get(&holds_path(&reader), Some(&token))
            .await
            .expect(403, "forbidden");
    })
    .await;
}

/// The server runs the scheduled jobs on its own (every second here, on the development
/// clock): a waiting hold stays through its last pickup day and expires once the day after
/// has come, with no `POST /dev/jobs/run`.
#[tokio::test]
async fn the_server_expires_waiting_holds_on_its_own() {
    for database in test_databases().await {
        let app = TestApp::with_jobs_every_second(database).await;
        let staff = app.counter_on_1_june_2021().await;
        let title = app.title(&staff, "Water Margin").await;
        app.item(&staff, title, "W1", "CEN").await;
        let lender = app.reader(&staff, "91233001").await;
        let holder = app.reader(&staff, "91233002").await;
        app.checkout(&staff, &lender, "W1", "CEN")
            .await
            .expect(201, "");
        let token = app.reader_session(&holder, "91233002").await;
        place(&app, &token, title).await.expect(201, "");
        let back = app.checkin(&staff, "W1", "CEN", None).await.expect(200, "");
        assert_eq!(back.body["hold"]["pickup_by"], "2021-06-04", "{}", app.db);

        // The last pickup day: ticks come and go, the hold waits.
        app.set_clock(hk("2021-06-04T20:00:00")).await;
        tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
        let token = app.relogin(&holder).await;
        assert_eq!(my_holds(&app, &token).await[0]["status"], "waiting");

        // The day after: the next tick expires it and frees the copy.
        app.set_clock(hk("2021-06-05T09:00:00")).await;
        let token = app.relogin(&holder).await;
        let mut status = Value::Null;
        for _ in 0..100 {
            status = my_holds(&app, &token).await[0]["status"].clone();
            if status == "expired" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(status, "expired", "{}: never expired", app.db);
        let staff = app.staff_token().await;
        app.checkout(&staff, &lender, "W1", "CEN")
            .await
            .expect(201, "");
        app.stop().await;
    }
}
