//! Capacity, admission and visitor registration over HTTP, on every backend with the
//! development clock: the door at capacity 2; a visitor registered on 2021-02-19 10:00;
//! the `contact_tracing` permission (a librarian refused, an admin too until granted);
//! the read audited; the purge kept through day 31 and done on day 32; bad inputs.

use serde_json::json;

use crate::support::{STAFF_PASSWORD, TestApp, hk, on_every_backend};

const FEB_19: &str = "/api/v1/visitors?library=TMPL&from=2021-02-19&to=2021-02-19";

#[tokio::test]
async fn capacity_admission_registration_permission_and_purge() {
    on_every_backend(true, async |app: &TestApp| {
        app.set_clock(hk("2021-02-19T10:00:00")).await;
        let admin = app.staff_token().await;
        app.library(&admin, "TMPL", "major").await;
        let clerk = app.staff_user(&admin, "clerk", "librarian").await;

        // Capacity 2 (admins only): admit, admit, the third refused, one leaves, admit.
        app.put(
            "/api/v1/libraries/TMPL/capacity",
            Some(&clerk),
            json!({"capacity": 2}),
        )
        .await
        .expect(403, "forbidden");
        let set = app
            .put(
                "/api/v1/libraries/TMPL/capacity",
                Some(&admin),
                json!({"capacity": 2}),
            )
            .await
            .expect(200, "");
        assert_eq!(
            set.body,
            json!({"library": "TMPL", "inside": 0, "capacity": 2, "sections": []})
        );
        let admit = async || {
            app.post("/api/v1/libraries/TMPL/admissions", Some(&clerk), json!({}))
                .await
        };
        assert_eq!(admit().await.expect(201, "").body["inside"], 1);
        assert_eq!(admit().await.expect(201, "").body["inside"], 2);
        admit().await.expect(409, "capacity_reached");
        let left = app
            .post("/api/v1/libraries/TMPL/departures", Some(&clerk), json!({}))
            .await
            .expect(200, "");
        assert_eq!(left.body["inside"], 1);
        assert_eq!(admit().await.expect(201, "").body["inside"], 2);
        // Public, without a token: the counts, no personal data.
        let seen = app
            .get("/api/v1/libraries/TMPL/occupancy", None)
            .await
            .expect(200, "");
        assert_eq!(seen.body["inside"], 2);
        assert_eq!(seen.body["capacity"], 2);

        // A visitor registered at the door, at 2021-02-19 10:00 library time, and one on
        // the public form (nothing echoed back).
        let registered = app
            .post(
                "/api/v1/libraries/TMPL/visitors",
                Some(&clerk),
                json!({"name": " Chan Tai Man ", "phone": "+852 9123-4567",
                       "visited_at": "2021-02-19T10:00:00+08:00"}),
            )
            .await
            .expect(201, "");
        assert!(registered.body["admitted"].is_null());
        let public = app
            .post(
                "/api/v1/visitors",
                None,
                json!({"library": "TMPL", "name": "Wong Siu Ming", "phone": "61234567"}),
            )
            .await
            .expect(201, "");
        assert_eq!(
            public.body,
            json!({"library": "TMPL", "visited_at": "2021-02-19T10:00:00+08:00"})
        );
        // Registering and admitting at once: the door is full, nothing is stored.
        app.post(
            "/api/v1/libraries/TMPL/visitors",
            Some(&clerk),
            json!({"name": "Lee", "phone": "91112222", "admit": true}),
        )
        .await
        .expect(409, "capacity_reached");

        // Reading needs contact_tracing: a librarian and an admin without it are refused.
        app.get(FEB_19, Some(&clerk))
            .await
            .expect(403, "contact_tracing_required");
        app.get(FEB_19, Some(&admin))
            .await
            .expect(403, "contact_tracing_required");
        // Only an admin grants it.
        app.put(
            "/api/v1/staff/users/clerk/permissions/contact_tracing",
            Some(&clerk),
            json!({}),
        )
        .await
        .expect(403, "forbidden");
        app.put(
            "/api/v1/staff/users/nobody/permissions/contact_tracing",
            Some(&admin),
            json!({}),
        )
        .await
        .expect(404, "not_found");
        app.put(
            "/api/v1/staff/users/clerk/permissions/contact_tracing",
            Some(&admin),
            json!({}),
        )
        .await
        .expect(204, "");
        let read = app.get(FEB_19, Some(&clerk)).await.expect(200, "");
        let visitors = read.body["visitors"].as_array().expect("visitors").clone();
        assert_eq!(visitors.len(), 2, "{visitors:?}");
        assert_eq!(visitors[0]["name"], "Chan Tai Man");
        assert_eq!(visitors[0]["phone"], "85291234567");
        assert_eq!(visitors[0]["visited_at"], "2021-02-19T10:00:00+08:00");
        assert_eq!(visitors[1]["recorded_by"], "self");
        let log = app.audit_log().await;
        let entry = log
            .iter()
            .find(|e| e.entry.action == "visitors.read")
            .expect("the read is audited");
        assert_eq!(entry.entry.subject, "library:TMPL");
        let details: serde_json::Value = serde_json::from_str(&entry.entry.details).unwrap();
        assert_eq!(
            details,
            json!({"from": "2021-02-19", "to": "2021-02-19", "records": 2})
        );
        assert!(entry.entry.staff.is_some());
        assert!(
            log.iter()
                .any(|e| e.entry.action == "staff.permission_grant")
        );

        // Day 31 (2021-03-22, its last minute): kept. Day 32 (2021-03-23): purged. (The
        // sessions of a month ago have expired: a new one each day.)
        app.set_clock(hk("2021-03-22T23:59:00")).await;
        app.post("/api/v1/dev/jobs/run", None, json!({}))
            .await
            .expect(204, "");
        let clerk = app.staff_login("clerk", STAFF_PASSWORD).await;
        let kept = app.get(FEB_19, Some(&clerk)).await.expect(200, "");
        assert_eq!(kept.body["visitors"].as_array().map(Vec::len), Some(2));
        app.set_clock(hk("2021-03-23T00:00:00")).await;
        app.post("/api/v1/dev/jobs/run", None, json!({}))
            .await
            .expect(204, "");
        let clerk = app.staff_login("clerk", STAFF_PASSWORD).await;
        let admin = app.staff_token().await;
        let gone = app.get(FEB_19, Some(&clerk)).await.expect(200, "");
        assert_eq!(gone.body["visitors"], json!([]));

        // Revoked: refused again.
        app.delete(
            "/api/v1/staff/users/clerk/permissions/contact_tracing",
            Some(&admin),
        )
        .await
        .expect(204, "");
        app.get(FEB_19, Some(&clerk))
            .await
            .expect(403, "contact_tracing_required");
    })
    .await;
}

#[tokio::test]
async fn bad_inputs_have_their_codes() {
    on_every_backend(true, async |app: &TestApp| {
        app.set_clock(hk("2021-02-19T10:00:00")).await;
        let admin = app.staff_token().await;
        app.library(&admin, "TMPL", "major").await;
        app.put(
            "/api/v1/staff/users/admin/permissions/contact_tracing",
            Some(&admin),
            json!({}),
        )
        .await
        .expect(204, "");
        // Unknown libraries.
        app.get("/api/v1/libraries/NONE/occupancy", None)
            .await
            .expect(404, "not_found");
        app.post("/api/v1/libraries/NONE/admissions", Some(&admin), json!({}))
            .await
            .expect(404, "not_found");
        app.put(
            "/api/v1/libraries/NONE/capacity",
            Some(&admin),
            json!({"capacity": 5}),
        )
        .await
        .expect(404, "not_found");
        app.get(
            "/api/v1/visitors?library=NONE&from=2021-02-19&to=2021-02-19",
            Some(&admin),
        )
        .await
        .expect(404, "not_found");
        let public = app
            .post(
                "/api/v1/visitors",
                None,
                json!({"library": "NONE", "name": "Chan", "phone": "91234567"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(public.violations(), ["unknown_library"]);
        // Capacities and sections.
        for (body, violations) in [
            (json!({"capacity": -1}), vec!["capacity_invalid"]),
            (json!({"capacity": 100_001}), vec!["capacity_invalid"]),
            (
                json!({"capacity": 3, "section": "Study Room"}),
                vec!["section_invalid"],
            ),
        ] {
            let answer = app
                .put("/api/v1/libraries/TMPL/capacity", Some(&admin), body)
                .await
                .expect(422, "validation_failed");
            assert_eq!(answer.violations(), violations);
        }
        app.put(
            "/api/v1/libraries/TMPL/capacity",
            Some(&admin),
            json!({"capacity": "ten"}),
        )
        .await
        .expect(400, "bad_request");
        // A closed section (capacity 0) refuses everyone; the library's door is separate.
        let closed = app
            .put(
                "/api/v1/libraries/TMPL/capacity",
                Some(&admin),
                json!({"capacity": 0, "section": "study_room"}),
            )
            .await
            .expect(200, "");
        assert_eq!(
            closed.body["sections"],
            json!([{"section": "study_room", "inside": 0, "capacity": 0}])
        );
        app.post(
            "/api/v1/libraries/TMPL/admissions",
            Some(&admin),
            json!({"section": "study_room"}),
        )
        .await
        .expect(409, "capacity_reached");
        app.post("/api/v1/libraries/TMPL/admissions", Some(&admin), json!({}))
            .await
            .expect(201, "");
        // Registration forms: every violation at once.
        let answer = app
            .post(
                "/api/v1/libraries/TMPL/visitors",
                Some(&admin),
                json!({"name": "  ", "phone": "1234", "section": "Adult",
                       "visited_at": "2021-02-20T10:00:01+08:00"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(
            answer.violations(),
            [
                "section_invalid",
                "name_invalid",
                "phone_invalid",
                "visited_at_invalid"
            ]
        );
        // Reads: dates in order, a bounded range, dates required.
        let answer = app
            .get(
                "/api/v1/visitors?from=2021-02-19&to=2021-02-18",
                Some(&admin),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(answer.violations(), ["to_before_from"]);
        let answer = app
            .get(
                "/api/v1/visitors?from=2020-01-01&to=2021-02-18",
                Some(&admin),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(answer.violations(), ["range_too_long"]);
        app.get("/api/v1/visitors?from=2021-02-19", Some(&admin))
            .await
            .expect(400, "bad_request");
        app.get(
            "/api/v1/visitors?from=19/02/2021&to=2021-02-19",
            Some(&admin),
        )
        .await
        .expect(400, "bad_request");
        // No token: 401 before anything.
        app.get(FEB_19, None).await.expect(401, "unauthorized");
        // The public form's per-source limit: 20 an hour (the unknown library's above
        // counted too), then 429 with Retry-After.
        for n in 0..19 {
            app.post(
                "/api/v1/visitors",
                None,
                json!({"library": "TMPL", "name": format!("Visitor {n}"), "phone": "91234567"}),
            )
            .await
            .expect(201, "");
        }
        let throttled = app
            .post(
                "/api/v1/visitors",
                None,
                json!({"library": "TMPL", "name": "One more", "phone": "91234567"}),
            )
            .await
            .expect(429, "too_many_attempts");
        assert!(throttled.headers.get("retry-after").is_some());
    })
    .await;
}
