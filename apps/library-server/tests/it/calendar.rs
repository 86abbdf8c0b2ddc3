//! A library's calendar over HTTP beyond dated closures: closed weekdays, yearly closed
//! days and re-opened dates, each moving (or not) the due date of a real checkout.

use serde_json::{Value, json};

use crate::support::{Answer, TestApp, hk, on_every_backend, standard_rules};

/// The due date (`YYYY-MM-DD`) of a checkout of `B1` made now, then returned.
async fn due_now(app: &TestApp, staff: &str, card: &str) -> String {
    let lent = app.checkout(staff, card, "B1", "CEN").await.expect(201, "");
    app.checkin(staff, "B1", "CEN", None).await.expect(200, "");
    lent.body["due_at"].as_str().unwrap_or_default()[..10].to_owned()
}

async fn add(app: &TestApp, staff: &str, code: &str, entry: Value) -> Answer {
    app.post(
        &format!("/api/v1/libraries/{code}/calendar"),
        Some(staff),
        entry,
    )
    .await
}

#[tokio::test]
async fn weekly_yearly_and_reopened_days_move_the_due_date() {
    on_every_backend(true, async |app: &TestApp| {
        // Wednesday 2 December 2026: 14 days lend to Wednesday the 16th.
        app.set_clock(hk("2026-12-02T10:00:00")).await;
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "central").await;
        app.rules(&staff, json!({}), standard_rules())
            .await
            .expect(200, "");
        let title = app.title(&staff, "The Silent River").await;
        app.item(&staff, title, "B1", "CEN").await;
        let card = app.reader(&staff, "91234567").await;
        assert_eq!(due_now(app, &staff, &card).await, "2026-12-16");

        // Closed on Wednesdays: Thursday the 17th.
        let weekly = add(
            app,
            &staff,
            "CEN",
            json!({"rule": "closed_weekday", "weekday": "wednesday", "reason": "cleaning day"}),
        )
        .await
        .expect(201, "");
        let weekly = weekly.body["id"].as_i64().unwrap();
        assert_eq!(due_now(app, &staff, &card).await, "2026-12-17");

        // The 16th re-opened: the 16th again.
        let reopen = add(
            app,
            &staff,
            "CEN",
            json!({"rule": "reopen", "date": "2026-12-16", "reason": "book fair"}),
        )
        .await
        .expect(201, "");
        let reopen = reopen.body["id"].as_i64().unwrap();
        assert_eq!(due_now(app, &staff, &card).await, "2026-12-16");

        // Re-opening removed and every 17 December closed: Friday the 18th.
        app.delete(
            &format!("/api/v1/libraries/CEN/calendar/{reopen}"),
            Some(&staff),
        )
        .await
        .expect(204, "");
        let yearly = add(
            app,
            &staff,
            "CEN",
            json!({"rule": "closed_yearly", "month": 12, "day": 17, "reason": "anniversary"}),
        )
        .await
        .expect(201, "");
        let yearly = yearly.body["id"].as_i64().unwrap();
        assert_eq!(due_now(app, &staff, &card).await, "2026-12-18");

        // The calendar, public, in the order added (the contract's closures too).
        app.closure(&staff, "CEN", "2027-02-16", "2027-02-18").await;
        let calendar = app
            .get("/api/v1/libraries/CEN/calendar", None)
            .await
            .expect(200, "");
        let entries = calendar.body["entries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(entries.len(), 3, "{}", calendar.body);
        assert_eq!(
            entries[..2],
            [
                json!({"id": weekly, "rule": "closed_weekday", "weekday": "wednesday",
                       "reason": "cleaning day"}),
                json!({"id": yearly, "rule": "closed_yearly", "month": 12, "day": 17,
                       "reason": "anniversary"}),
            ]
        );
        assert_eq!(entries[2]["rule"], "closure");
        assert_eq!(
            (entries[2]["from"].as_str(), entries[2]["to"].as_str()),
            (Some("2027-02-16"), Some("2027-02-18"))
        );

        for id in [weekly, yearly] {
            app.delete(
                &format!("/api/v1/libraries/CEN/calendar/{id}"),
                Some(&staff),
            )
            .await
            .expect(204, "");
        }
        assert_eq!(due_now(app, &staff, &card).await, "2026-12-16");
        let actions: Vec<String> = app
            .audit_log()
            .await
            .into_iter()
            .map(|e| e.entry.action)
            .filter(|a| a.starts_with("library.calendar"))
            .collect();
        assert_eq!(actions.len(), 6, "{actions:?}");
    })
    .await;
}

#[tokio::test]
async fn calendar_entries_are_checked_and_belong_to_their_library() {
    on_every_backend(false, async |app: &TestApp| {
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "central").await;
        app.library(&staff, "SHA", "district").await;
        for (entry, violations) in [
            (
                json!({"rule": "closed_yearly", "month": 2, "day": 30, "reason": "x"}),
                json!(["no_such_day"]),
            ),
            (
                json!({"rule": "closed_yearly", "month": 13, "reason": "x"}),
                json!(["day_missing", "month_invalid"]),
            ),
            (
                json!({"rule": "closed_weekday", "reason": "x"}),
                json!(["weekday_missing"]),
            ),
            (
                json!({"rule": "reopen", "reason": "x"}),
                json!(["date_missing"]),
            ),
            (
                json!({"rule": "closure", "from": "2026-12-20", "to": "2026-12-19",
                       "reason": "x"}),
                json!(["to_before_from"]),
            ),
            (
                json!({"rule": "reopen", "date": "2026-12-20", "reason": "a\tb"}),
                json!(["reason_invalid"]),
            ),
        ] {
            let refused = add(app, &staff, "CEN", entry.clone())
                .await
                .expect(422, "validation_failed");
            assert_eq!(refused.body["violations"], violations, "{entry}");
        }
        // 29 February is a closed day in leap years.
        add(
            app,
            &staff,
            "CEN",
            json!({"rule": "closed_yearly", "month": 2, "day": 29, "reason": "leap day"}),
        )
        .await
        .expect(201, "");
        for entry in [
            json!({"rule": "fortnightly", "reason": "x"}),
            json!({"rule": "closed_weekday", "weekday": "someday", "reason": "x"}),
            json!({"rule": "closed_yearly", "month": -1, "day": 1, "reason": "x"}),
        ] {
            add(app, &staff, "CEN", entry)
                .await
                .expect(400, "bad_request");
        }

        let sha = add(
            app,
            &staff,
            "SHA",
            json!({"rule": "closed_weekday", "weekday": "monday", "reason": "x"}),
        )
        .await
        .expect(201, "");
        let sha = sha.body["id"].as_i64().unwrap();
        // Another library's entry, an unknown entry, an unknown library: 404, nothing gone.
        for path in [
            format!("/api/v1/libraries/CEN/calendar/{sha}"),
            format!("/api/v1/libraries/CEN/calendar/{}", sha + 100),
            format!("/api/v1/libraries/NOPE/calendar/{sha}"),
        ] {
            app.delete(&path, Some(&staff))
                .await
                .expect(404, "not_found");
        }
        let calendar = app
            .get("/api/v1/libraries/SHA/calendar", None)
            .await
            .expect(200, "");
        assert_eq!(calendar.body["entries"][0]["id"], sha);
        app.get("/api/v1/libraries/NOPE/calendar", None)
            .await
            .expect(404, "not_found");
        add(
            app,
            &staff,
            "NOPE",
            json!({"rule": "reopen", "date": "2026-12-20", "reason": "x"}),
        )
        .await
        .expect(404, "not_found");
        // Staff only.
        app.post(
            "/api/v1/libraries/CEN/calendar",
            None,
            json!({"rule": "reopen", "date": "2026-12-20", "reason": "x"}),
        )
        .await
        .expect(401, "unauthorized");
    })
    .await;
}
