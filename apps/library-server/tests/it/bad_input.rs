//! What a client may get wrong: every answer is the contract's JSON error, never a 500.

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{TestApp, on_every_backend};

#[tokio::test]
async fn unparseable_bodies_are_bad_requests() {
    on_every_backend(false, async |app: &TestApp| {
        let json_body = |s: &str| Some(("application/json", s.as_bytes().to_vec()));
        for (path, body) in [
            ("/api/v1/auth/login", json_body("{not json")),
            (
                "/api/v1/auth/login",
                json_body(r#"{"card_number": 21, "password": "x"}"#),
            ),
            ("/api/v1/auth/login", json_body(r#"{"card_number": "21"}"#)),
            ("/api/v1/auth/login", json_body("[]")),
            ("/api/v1/auth/login", json_body("")),
            ("/api/v1/auth/login", None),
            (
                "/api/v1/auth/login",
                Some((
                    "text/plain",
                    br#"{"card_number":"1","password":"x"}"#.to_vec(),
                )),
            ),
            (
                "/api/v1/auth/pin-login",
                json_body(r#"{"card_number": "1", "pin": 1234}"#),
            ),
            (
                "/api/v1/auth/password-reset",
                json_body(r#"{"email": null}"#),
            ),
            (
                "/api/v1/auth/login",
                Some(("application/json", vec![0xff, 0xfe, 0x00])),
            ),
        ] {
            let shown = format!("{path} {body:?}");
            let answer = app.raw(Method::POST, path, None, body).await;
            assert_eq!(
                (answer.status.as_u16(), answer.code()),
                (400, "bad_request"),
                "{shown} on {}",
                app.db
            );
        }
        let staff = app.staff_token().await;
        app.post(
            "/api/v1/patrons",
            Some(&staff),
            json!({"name": "A", "phone": "91234567", "category": "adult",
                   "home_library": "CEN", "date_of_birth": "01/04/1990"}),
        )
        .await
        .expect(400, "bad_request");
        app.post(
            "/api/v1/patrons",
            Some(&staff),
            json!({"name": "A", "phone": 91234567, "category": "adult", "home_library": "CEN"}),
        )
        .await
        .expect(400, "bad_request");
    })
    .await;
}

#[tokio::test]
async fn registration_is_validated() {
    on_every_backend(false, async |app: &TestApp| {
        let staff = app.staff_token().await;
        let answer = app
            .post(
                "/api/v1/patrons",
                Some(&staff),
                json!({"name": " ", "phone": "12-3", "email": "no-at-sign", "category": "Adult",
                       "home_library": "central library", "date_of_birth": "2999-01-01"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(
            answer.violations(),
            [
                "name_missing",
                "phone_too_short",
                "email_invalid",
                "category_invalid",
                "home_library_invalid",
                "date_of_birth_in_future"
            ]
        );
        let short_phone = app
            .post(
                "/api/v1/patrons",
                Some(&staff),
                json!({"name": "Chan", "phone": "123", "category": "adult", "home_library": "CEN"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(short_phone.violations(), ["phone_too_short"]);
        // Two registrations get two different card numbers.
        let a = app.register("9123 4567", None).await;
        let b = app.register("9123 4567", None).await;
        assert_ne!(a, b);
    })
    .await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    on_every_backend(false, async |app: &TestApp| {
        let staff = app.staff_token().await;
        let big = vec![b' '; 1024 * 1024 + 1];
        app.raw(
            Method::POST,
            "/api/v1/patrons",
            Some(&staff),
            Some(("application/json", big)),
        )
        .await
        .expect(413, "payload_too_large");
        let login = format!(
            r#"{{"card_number":"21000000000000","password":"{}"}}"#,
            "a".repeat(9 * 1024)
        );
        app.raw(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(("application/json", login.into_bytes())),
        )
        .await
        .expect(413, "payload_too_large");
        // Under the limit but over the 1 KiB a secret may have: a plain failed login.
        let long = "a".repeat(2000);
        app.login("21000000000000", &long)
            .await
            .expect(401, "invalid_credentials");

        // Streamed without Content-Length (chunked): refused once it passes the limit.
        let (status, body) = chunked_post(app, "/api/v1/auth/login", 64 * 1024).await;
        assert_eq!(status, 413, "{body}");
        assert!(body.contains("payload_too_large"), "{body}");
    })
    .await;
}

/// POSTs `len` bytes as one chunk of a chunked body over a plain TCP connection.
async fn chunked_post(app: &TestApp, path: &str, len: usize) -> (u16, String) {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{len:x}\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    // The server may answer and close before reading everything: ignore write errors.
    let _ = stream.write_all(&vec![b'x'; len]).await;
    let _ = stream.write_all(b"\r\n0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[tokio::test]
async fn routing_comes_before_authentication_and_scopes() {
    on_every_backend(false, async |app: &TestApp| {
        let (_card, full) = app.full_reader("9123 4567", "Lantern-Harbour-42").await;
        for token in [None, Some("garbage"), Some(full.as_str())] {
            app.get("/api/v1/nothing-here", token)
                .await
                .expect(404, "not_found");
            app.get("/api/nothing", token)
                .await
                .expect(404, "not_found");
            // Outside the API's paths an unknown path is the readers' pages' 404 page.
            let page = app.get("/nothing", token).await;
            assert_eq!(page.status, 404);
            assert_eq!(
                page.headers["content-type"].to_str().ok(),
                Some("text/html; charset=utf-8")
            );
            app.post("/api/v1/me/loans/x/y/z", token, Value::Null)
                .await
                .expect(404, "not_found");
        }
        app.get("/api/v1/me", None)
            .await
            .expect(401, "unauthorized");
        app.get("/api/v1/me", Some("garbage"))
            .await
            .expect(401, "unauthorized");
        app.get("/api/v1/me", Some(&"x".repeat(5000)))
            .await
            .expect(401, "unauthorized");
        let basic = app
            .client_get_with_header("/api/v1/me", "authorization", "Basic YTpi")
            .await;
        assert_eq!(basic, 401);
        // A missing token is 401 before the body is even looked at.
        app.raw(
            Method::POST,
            "/api/v1/patrons",
            None,
            Some(("application/json", b"{bad".to_vec())),
        )
        .await
        .expect(401, "unauthorized");
        // A reader may not use staff routes.
        app.post("/api/v1/patrons", Some(&full), json!({}))
            .await
            .expect(403, "forbidden");
        // A staff session is not a reader's.
        let staff = app.staff_token().await;
        app.get("/api/v1/me", Some(&staff))
            .await
            .expect(403, "forbidden");
        app.post("/api/v1/auth/logout", Some(&staff), Value::Null)
            .await
            .expect(204, "");
        app.post("/api/v1/patrons", Some(&staff), json!({}))
            .await
            .expect(401, "unauthorized");
    })
    .await;
}

#[tokio::test]
async fn operations_routes_and_the_api_document() {
    on_every_backend(false, async |app: &TestApp| {
        app.get("/health", None).await.expect(200, "");
        app.get("/ready", None).await.expect(200, "");
        let doc = app.get("/openapi.json", None).await.expect(200, "");
        let paths = doc.body["paths"].as_object().expect("paths");
        for path in [
            "/health",
            "/ready",
            "/api/v1/auth/login",
            "/api/v1/auth/pin-login",
            "/api/v1/auth/logout",
            "/api/v1/auth/password-reset",
            "/api/v1/me",
            "/api/v1/me/password",
            "/api/v1/me/pin",
            "/api/v1/staff/login",
            "/api/v1/patrons",
            "/api/v1/patrons/{card_number}/password-reset",
        ] {
            assert!(paths.contains_key(path), "{path} missing from the document");
        }
        // One entry per path, with every operation of the path in it (a path declared by
        // two API groups is not written twice, where a reader would keep only the last).
        let (_, _, raw) = app.get_text("/openapi.json", None, None).await;
        for (path, methods) in [
            ("/api/v1/patrons", ["get", "post"]),
            ("/api/v1/patrons/{card_number}", ["get", "patch"]),
            ("/api/v1/patrons/{card_number}/payments", ["get", "post"]),
        ] {
            assert_eq!(raw.matches(&format!("\"{path}\":")).count(), 1, "{path}");
            for method in methods {
                assert!(paths[path].get(method).is_some(), "{method} {path}");
            }
        }
        let page = reqwest::get(app.url("/docs")).await.expect("docs");
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(page.to_lowercase().contains("swagger"));
        assert_eq!(
            page.matches("\"/api/v1/patrons\":").count(),
            1,
            "the page's document"
        );
        // Without LIBRARY_DEV_CLOCK the dev routes do not exist.
        app.put(
            "/api/v1/dev/clock",
            None,
            json!({"now": "2021-03-05T10:00:00+08:00"}),
        )
        .await
        .expect(404, "not_found");
        app.post("/api/v1/dev/jobs/run", None, Value::Null)
            .await
            .expect(404, "not_found");
    })
    .await;
}

#[tokio::test]
async fn the_dev_clock_and_job_trigger_answer_when_enabled() {
    on_every_backend(true, async |app: &TestApp| {
        app.put(
            "/api/v1/dev/clock",
            None,
            json!({"now": "2021-03-05T10:00:00+08:00"}),
        )
        .await
        .expect(204, "");
        app.put("/api/v1/dev/clock", None, json!({"now": "yesterday"}))
            .await
            .expect(400, "bad_request");
        app.post("/api/v1/dev/jobs/run", None, Value::Null)
            .await
            .expect(204, "");
        // Every component sees the set time: a staff session expires 12 h after it.
        let login = app
            .post(
                "/api/v1/staff/login",
                None,
                json!({"username": "admin", "password": crate::support::ADMIN_PASSWORD}),
            )
            .await
            .expect(200, "");
        assert_eq!(login.body["expires_at"], "2021-03-05T22:00:00+08:00");
        let token = login.token();
        // The token is accepted (the empty body is what is wrong).
        app.post("/api/v1/patrons", Some(&token), json!({}))
            .await
            .expect(400, "bad_request");
        // Past its expiry the token is refused as unauthorized, before any scope check.
        app.put(
            "/api/v1/dev/clock",
            None,
            json!({"now": "2021-03-05T22:00:01+08:00"}),
        )
        .await
        .expect(204, "");
        app.post("/api/v1/patrons", Some(&token), json!({}))
            .await
            .expect(401, "unauthorized");
    })
    .await;
}

/// The development clock at the edges of the years it accepts (1970 to 9000) and past
/// them (refused with 422 `now_out_of_range`, the clock left where it was): nothing
/// panics, every answer is a success or a clear refusal.
#[tokio::test]
async fn the_dev_clock_at_the_edges_of_its_years_panics_nothing() {
    on_every_backend(true, async |app| {
        let staff = app.counter_on_1_june_2021().await;
        let card = app.reader(&staff, "91234567").await;
        for now in ["9999-12-31T23:59:59Z", "9001-01-01T08:00:00+08:00", "1969-12-31T23:59:59Z"] {
            app.put("/api/v1/dev/clock", None, serde_json::json!({ "now": now }))
                .await
                .expect(422, "validation_failed");
        }
        for now in ["9000-12-31T23:59:59Z", "9001-01-01T07:59:59+08:00", "1970-01-01T00:00:00Z"] {
            let set = app
                .put("/api/v1/dev/clock", None, serde_json::json!({ "now": now }))
                .await;
            assert_eq!(set.status.as_u16(), 204, "{now}: {:?}", set.body);
            let login = app
                .post(
                    "/api/v1/staff/login",
                    None,
                    serde_json::json!({"username": "admin", "password": crate::support::ADMIN_PASSWORD}),
                )
                .await;
            assert!(login.status.as_u16() < 500, "{now}: staff login {:?}", login.body);
            let wrong = app
                .post(
                    "/api/v1/staff/login",
                    None,
                    serde_json::json!({"username": "admin", "password": "wrong-password-1"}),
                )
                .await;
            assert!(wrong.status.as_u16() < 500, "{now}: wrong login {:?}", wrong.body);
            let reader = app.login(&card, "4567").await;
            assert!(reader.status.as_u16() < 500, "{now}: reader login {:?}", reader.body);
            for path in ["/api/v1/libraries", "/api/v1/libraries/CEN", "/ready", "/health"] {
                let answer = app.get(path, None).await;
                assert!(answer.status.as_u16() < 500, "{now}: {path} {:?}", answer.body);
            }
            let token = login.body["token"].as_str().map(str::to_owned);
            if let Some(token) = token {
                let checkout = app.checkout(&token, &card, "NONE1", "CEN").await;
                assert!(checkout.status.as_u16() < 500, "{now}: checkout {:?}", checkout.body);
                let patron = app.get(&format!("/api/v1/patrons/{card}"), Some(&token)).await;
                assert!(patron.status.as_u16() < 500, "{now}: patron {:?}", patron.body);
            }
            let jobs = app.post("/api/v1/dev/jobs/run", None, serde_json::Value::Null).await;
            assert!(jobs.status.as_u16() < 500, "{now}: jobs {:?}", jobs.body);
        }
    })
    .await;
}
