//! What a client may get wrong on the circulation routes: malformed bodies, unknown ids,
//! wrong sessions, duplicates, oversized bodies. Never a 500.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{TestApp, on_every_backend, standard_rules};

#[tokio::test]
async fn bad_input_on_the_circulation_routes() {
    on_every_backend(false, async |app: &TestApp| {
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "central").await;
        app.rules(&staff, json!({}), standard_rules())
            .await
            .expect(200, "");
        let title = app.title(&staff, "Red Sorghum").await;
        app.item(&staff, title, "B1", "CEN").await;
        let a = app.reader(&staff, "91234001").await;
        let ta = app.reader_session(&a, "91234001").await;
        let pin = app.pin_login(&a, "4001").await.expect(200, "").token();

        // Malformed JSON and wrong types: 400.
        let json_body = |s: &str| Some(("application/json", s.as_bytes().to_vec()));
        for (path, token, body) in [
            ("/api/v1/circulation/checkouts", &staff, json_body("{nope")),
            (
                "/api/v1/circulation/checkouts",
                &staff,
                json_body(r#"{"card_number": 21, "item_barcode": "B1", "library_code": "CEN"}"#),
            ),
            ("/api/v1/circulation/checkins", &staff, json_body("[]")),
            (
                "/api/v1/me/holds",
                &ta,
                json_body(r#"{"title_id": "one", "pickup_library": "CEN"}"#),
            ),
            (
                "/api/v1/libraries",
                &staff,
                json_body(r#"{"code": "X", "name": "X", "kind": "castle"}"#),
            ),
            (
                "/api/v1/fine-suspensions",
                &staff,
                json_body(r#"{"starts_on": "2 Dec", "reason": "x"}"#),
            ),
            ("/api/v1/fine-suspensions/preview", &staff, json_body("")),
        ] {
            let answer = app.raw(Method::POST, path, Some(token), body).await;
            assert_eq!(
                (answer.status.as_u16(), answer.code()),
                (400, "bad_request"),
                "{path}"
            );
        }
        app.rules(&staff, json!({}), json!({"loan_days": "fourteen"}))
            .await
            .expect(400, "bad_request");
        app.rules(&staff, json!({}), json!({"renewal_base": "tomorrow"}))
            .await
            .expect(400, "bad_request");
        let unknown = app
            .rules(&staff, json!({}), json!({"loan_dayz": 3}))
            .await
            .expect(422, "validation_failed");
        assert_eq!(unknown.violations(), ["unknown_rule"]);
        let negative = app
            .rules(&staff, json!({}), json!({"quota": -1}))
            .await
            .expect(422, "validation_failed");
        assert_eq!(negative.violations(), ["rule_value_invalid"]);
        let scope = app
            .rules(&staff, json!({"category": "Adult!"}), json!({"quota": 1}))
            .await
            .expect(422, "validation_failed");
        assert_eq!(scope.violations(), ["category_invalid"]);

        // Duplicates and references.
        app.post(
            "/api/v1/libraries",
            Some(&staff),
            json!({"code": "CEN", "name": "Again", "kind": "small"}),
        )
        .await
        .expect(409, "already_exists");
        app.post(
            "/api/v1/catalog/items",
            Some(&staff),
            json!({"title_id": title, "barcode": "B1", "item_type": "adult_book",
                   "home_library": "CEN"}),
        )
        .await
        .expect(409, "already_exists");
        let refs = app
            .post(
                "/api/v1/catalog/items",
                Some(&staff),
                json!({"title_id": 999_999, "barcode": "B2", "item_type": "adult_book",
                       "home_library": "NOWHERE"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(
            refs.violations(),
            ["title_id_unknown", "home_library_unknown"]
        );
        let closure = app
            .post(
                "/api/v1/libraries/CEN/closures",
                Some(&staff),
                json!({"from": "2021-03-05", "to": "2021-03-01", "reason": "x"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(closure.violations(), ["to_before_from"]);
        let period = app
            .post(
                "/api/v1/fine-suspensions",
                Some(&staff),
                json!({"starts_on": "2021-03-05", "resumes_on": "2021-03-05", "reason": "x"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(period.violations(), ["resumes_on_not_after_starts_on"]);

        // Unknown ids: 404.
        for (method, path, body) in [
            (
                Method::PATCH,
                "/api/v1/fine-suspensions/999999",
                json!({"resumes_on": "2021-05-03"}),
            ),
            (
                Method::POST,
                "/api/v1/fines/999999/waiver",
                json!({"reason": "x"}),
            ),
            (Method::GET, "/api/v1/patrons/21000000000000", json!(null)),
            (Method::GET, "/api/v1/patrons/not-a-card", json!(null)),
            (
                Method::POST,
                "/api/v1/patrons/21000000000000/payments",
                json!({"amount_cents": 1}),
            ),
            (
                Method::POST,
                "/api/v1/libraries/NOPE/closures",
                json!({"from": "2021-03-01", "to": "2021-03-02", "reason": "x"}),
            ),
            (
                Method::POST,
                "/api/v1/circulation/loans/999999/renewal",
                json!(null),
            ),
        ] {
            let answer = app.call(method, path, Some(&staff), body).await;
            assert_eq!(
                (answer.status.as_u16(), answer.code()),
                (404, "not_found"),
                "{path}"
            );
        }
        app.delete("/api/v1/me/holds/999999", Some(&ta))
            .await
            .expect(404, "not_found");
        app.post("/api/v1/me/loans/999999/renewal", Some(&ta), json!(null))
            .await
            .expect(404, "not_found");

        // Sessions: none → 401; a reader on staff routes, staff on reader routes, a PIN
        // session beyond loans → 403.
        for path in [
            "/api/v1/circulation/rules",
            "/api/v1/fine-suspensions",
            "/api/v1/me/loans",
        ] {
            app.get(path, None).await.expect(401, "unauthorized");
        }
        for path in ["/api/v1/circulation/rules", "/api/v1/fine-suspensions"] {
            app.get(path, Some(&ta)).await.expect(403, "forbidden");
            app.get(path, Some(&pin)).await.expect(403, "forbidden");
        }
        app.checkout(&ta, &a, "B1", "CEN")
            .await
            .expect(403, "forbidden");
        app.get(&format!("/api/v1/patrons/{a}"), Some(&ta))
            .await
            .expect(403, "forbidden");
        for path in ["/api/v1/me/loans", "/api/v1/me/holds", "/api/v1/me/fines"] {
            app.get(path, Some(&staff)).await.expect(403, "forbidden");
        }
        app.post(
            "/api/v1/me/holds",
            Some(&pin),
            json!({"title_id": title, "pickup_library": "CEN"}),
        )
        .await
        .expect(403, "forbidden");
        app.get("/api/v1/me/loans", Some(&pin))
            .await
            .expect(200, "");
        // Telephone renewal tells the caller what they owe: the charges with a PIN session.
        let owed = app
            .get("/api/v1/me/fines", Some(&pin))
            .await
            .expect(200, "");
        assert_eq!(owed.body["outstanding_cents"], 0);
        app.get("/api/v1/me", Some(&pin))
            .await
            .expect(403, "forbidden");

        // Oversized bodies: 413, even before authentication.
        let huge = vec![b' '; 2 * 1024 * 1024];
        for path in [
            "/api/v1/circulation/checkouts",
            "/api/v1/fine-suspensions/preview",
        ] {
            let answer = app
                .raw(
                    Method::POST,
                    path,
                    Some(&staff),
                    Some(("application/json", huge.clone())),
                )
                .await;
            assert_eq!(answer.status.as_u16(), 413, "{path}");
            assert_eq!(answer.code(), "payload_too_large");
        }

        // The public library list.
        // No hours configured and no closed day: open all day, opening next at midnight.
        let mut libraries = app.get("/api/v1/libraries", None).await.expect(200, "");
        let opens_next = libraries.body["libraries"][0]
            .as_object_mut()
            .and_then(|l| l.remove("opens_next"));
        assert!(
            opens_next
                .as_ref()
                .and_then(|n| n.as_str())
                .is_some_and(|n| n.ends_with("T00:00:00+08:00")),
            "{opens_next:?}"
        );
        assert_eq!(
            libraries.body["libraries"],
            json!([{"code": "CEN", "name": "CEN Library", "name_zh": "", "kind": "central",
                    "open_now": true, "closes_at": "24:00", "book_drop": false,
                    "self_service_station": false}])
        );
    })
    .await;
}

#[tokio::test]
async fn a_title_keeps_its_author_and_isbn() {
    on_every_backend(false, async |app: &TestApp| {
        let staff = app.staff_token().await;
        let created = app
            .post(
                "/api/v1/catalog/titles",
                Some(&staff),
                json!({"title": " The Silent River ", "author": "Chan Tai Man",
                       "isbn": "978-0-306-40615-7"}),
            )
            .await
            .expect(201, "");
        let id = created.body["id"].as_i64().unwrap();
        // Public: a reader's client shows it before placing a hold.
        let title = app
            .get(&format!("/api/v1/catalog/titles/{id}"), None)
            .await
            .expect(200, "");
        assert_eq!(
            title.body,
            json!({"id": id, "title": "The Silent River", "author": "Chan Tai Man",
                   "isbn": "9780306406157"})
        );
        // Both optional; blank is none.
        let bare = app
            .post(
                "/api/v1/catalog/titles",
                Some(&staff),
                json!({"title": "Tea, Culture and Time", "author": "  ", "isbn": ""}),
            )
            .await
            .expect(201, "");
        let bare = bare.body["id"].as_i64().unwrap();
        let title = app
            .get(&format!("/api/v1/catalog/titles/{bare}"), None)
            .await
            .expect(200, "");
        assert_eq!(title.body["author"], Value::Null);
        assert_eq!(title.body["isbn"], Value::Null);

        // A wrong check digit and a control character: every violation at once, nothing
        // stored.
        let refused = app
            .post(
                "/api/v1/catalog/titles",
                Some(&staff),
                json!({"title": "", "author": "Chan\nTai Man", "isbn": "978-0-306-40615-8"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(
            refused.body["violations"],
            json!(["title_missing", "author_invalid", "isbn_invalid"])
        );
        // Titles and authors as long as the catalogue import takes (1000 characters), and
        // not one more.
        let long = app
            .post(
                "/api/v1/catalog/titles",
                Some(&staff),
                json!({"title": "長".repeat(1000), "author": "a".repeat(1000)}),
            )
            .await
            .expect(201, "");
        assert_eq!(long.body["id"].as_i64(), Some(bare + 1));
        let refused = app
            .post(
                "/api/v1/catalog/titles",
                Some(&staff),
                json!({"title": "長".repeat(1001), "author": "a".repeat(1001)}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(
            refused.body["violations"],
            json!(["title_invalid", "author_invalid"])
        );
        for unknown in [bare + 2, 0, -1] {
            app.get(&format!("/api/v1/catalog/titles/{unknown}"), None)
                .await
                .expect(404, "not_found");
        }
        app.get("/api/v1/catalog/titles/x", None)
            .await
            .expect(400, "bad_request");
    })
    .await;
}

#[tokio::test]
async fn the_openapi_document_lists_the_circulation_routes() {
    on_every_backend(false, async |app: &TestApp| {
        let doc = app.get("/openapi.json", None).await.expect(200, "");
        for path in [
            "/api/v1/libraries",
            "/api/v1/libraries/{code}/closures",
            "/api/v1/libraries/{code}/calendar",
            "/api/v1/libraries/{code}/calendar/{id}",
            "/api/v1/catalog/titles",
            "/api/v1/catalog/titles/{id}",
            "/api/v1/catalog/items",
            "/api/v1/patrons/{card_number}",
            "/api/v1/patrons/{card_number}/payments",
            "/api/v1/circulation/checkouts",
            "/api/v1/circulation/checkins",
            "/api/v1/circulation/loans/{loan_id}/renewal",
            "/api/v1/circulation/rules",
            "/api/v1/fine-suspensions",
            "/api/v1/fine-suspensions/{id}",
            "/api/v1/fine-suspensions/preview",
            "/api/v1/fines/{id}/waiver",
            "/api/v1/me/loans",
            "/api/v1/me/loans/{id}/renewal",
            "/api/v1/me/holds",
            "/api/v1/me/holds/{id}",
            "/api/v1/patrons/{card_number}/holds",
            "/api/v1/patrons/{card_number}/holds/{id}",
            "/api/v1/circulation/holds/{id}/collection",
            "/api/v1/me/fines",
        ] {
            assert!(
                doc.body["paths"].get(path).is_some(),
                "{path} in the document"
            );
        }
    })
    .await;
}
