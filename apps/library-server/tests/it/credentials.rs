//! The library's credential flows (docs/policy.md, Password and PIN), end to end.

use serde_json::json;
use time::macros::datetime;

use crate::support::{TestApp, on_every_backend};

#[tokio::test]
async fn default_password_login_allows_only_a_password_change() {
    on_every_backend(false, async |app: &TestApp| {
        let card = app.register("9123 4567", Some("tm@example.com")).await;
        assert_eq!(card.len(), 14, "{}", app.db);
        assert!(card.starts_with("21"));

        let login = app.login(&card, "4567").await.expect(200, "");
        assert_eq!(login.body["scope"], "change_password_only");
        assert!(
            login.body["expires_at"]
                .as_str()
                .unwrap()
                .ends_with("+08:00")
        );
        let first = login.token();

        app.get("/api/v1/me", Some(&first))
            .await
            .expect(403, "password_change_required");
        app.put(
            "/api/v1/me/pin",
            Some(&first),
            json!({"password": "4567", "new_pin": "48213"}),
        )
        .await
        .expect(403, "password_change_required");
        app.post("/api/v1/patrons", Some(&first), json!({}))
            .await
            .expect(403, "password_change_required");

        let wrong_current = app
            .put(
                "/api/v1/me/password",
                Some(&first),
                json!({"current_password": "0000", "new_password": "Lantern-Harbour-42"}),
            )
            .await;
        wrong_current.expect(401, "invalid_credentials");

        let changed = app
            .put(
                "/api/v1/me/password",
                Some(&first),
                json!({"current_password": "4567", "new_password": "Lantern-Harbour-42"}),
            )
            .await
            .expect(200, "");
        assert_eq!(changed.body["scope"], "full");
        let full = changed.token();

        // Every earlier token, the one used included, is revoked.
        app.get("/api/v1/me", Some(&first))
            .await
            .expect(401, "unauthorized");

        let me = app.get("/api/v1/me", Some(&full)).await.expect(200, "");
        assert_eq!(me.body["card_number"], card.as_str());
        assert_eq!(me.body["name"], "Chan Tai Man");
        assert_eq!(me.body["category"], "adult");
        assert_eq!(me.body["email"], "tm@example.com");
        assert_eq!(me.body["home_library"], "CEN");
        assert!(me.body["card_expires_on"].is_string(), "{:?}", me.body);
        assert!(me.body["suspended_until"].is_null());
        assert_eq!(me.body["outstanding_cents"], 0);

        let again = app.login(&card, "Lantern-Harbour-42").await.expect(200, "");
        assert_eq!(again.body["scope"], "full");
        app.login(&card, "4567")
            .await
            .expect(401, "invalid_credentials");

        app.post("/api/v1/auth/logout", Some(&full), serde_json::Value::Null)
            .await;
        app.get("/api/v1/me", Some(&full))
            .await
            .expect(401, "unauthorized");
    })
    .await;
}

#[tokio::test]
async fn weak_passwords_are_refused_with_the_exact_violations() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) = app.full_reader("6123 9876", "Lantern-Harbour-42").await;
        let cases: &[(&str, &[&str])] = &[
            ("Ab1", &["too_short"]),
            (&"Aa1".repeat(43), &["too_long"]),
            ("lantern-harbour-42", &["missing_uppercase"]),
            ("LANTERN-HARBOUR-42", &["missing_lowercase"]),
            ("Lantern-Harbour-xx", &["missing_digit"]),
            ("Password1", &["common_password"]),
            (&format!("Ab{card}"), &["contains_personal_info"]),
            ("Lantern-Harbour-42", &["same_as_current"]),
            ("Lantern\u{7}Harbour42", &["control_character"]),
            ("abc", &["too_short", "missing_uppercase", "missing_digit"]),
        ];
        for (candidate, expected) in cases {
            let answer = app
                .put(
                    "/api/v1/me/password",
                    Some(&full),
                    json!({"current_password": "Lantern-Harbour-42", "new_password": candidate}),
                )
                .await
                .expect(422, "validation_failed");
            assert_eq!(
                answer.violations(),
                *expected,
                "{candidate:?} on {}",
                app.db
            );
        }
        // Nothing was changed by the refusals.
        app.get("/api/v1/me", Some(&full)).await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn pin_sessions_may_not_change_settings_and_pin_changes_are_checked() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) = app.full_reader("5550 2468", "Lantern-Harbour-42").await;
        let pin = app.pin_login(&card, "2468").await.expect(200, "");
        assert_eq!(pin.body["scope"], "pin");
        let pin = pin.token();
        app.get("/api/v1/me", Some(&pin))
            .await
            .expect(403, "forbidden");
        app.put(
            "/api/v1/me/pin",
            Some(&pin),
            json!({"password": "x", "new_pin": "48213"}),
        )
        .await
        .expect(403, "forbidden");
        app.put(
            "/api/v1/me/password",
            Some(&pin),
            json!({"current_password": "x", "new_password": "Lantern-Harbour-43"}),
        )
        .await
        .expect(403, "forbidden");
        app.post("/api/v1/patrons", Some(&pin), json!({}))
            .await
            .expect(403, "forbidden");
        app.pin_login(&card, "0000")
            .await
            .expect(401, "invalid_credentials");
        app.pin_login("21000000000000", "2468")
            .await
            .expect(401, "invalid_credentials");

        let change = |new_pin: &'static str| {
            app.put(
                "/api/v1/me/pin",
                Some(&full),
                json!({"password": "Lantern-Harbour-42", "new_pin": new_pin}),
            )
        };
        assert_eq!(
            change("1234")
                .await
                .expect(422, "validation_failed")
                .violations(),
            ["trivial_pin"]
        );
        assert_eq!(
            change("１２９４")
                .await
                .expect(422, "validation_failed")
                .violations(),
            ["not_digits"]
        );
        assert_eq!(
            change("12")
                .await
                .expect(422, "validation_failed")
                .violations(),
            ["too_short"]
        );
        app.put(
            "/api/v1/me/pin",
            Some(&full),
            json!({"password": "Wrong-Password-1", "new_pin": "48213"}),
        )
        .await
        .expect(401, "invalid_credentials");
        change("48213").await.expect(204, "");
        // PIN sessions are revoked, Password sessions stay.
        app.get("/api/v1/me", Some(&full)).await.expect(200, "");
        app.post("/api/v1/auth/logout", Some(&pin), serde_json::Value::Null)
            .await
            .expect(401, "unauthorized");
        app.pin_login(&card, "2468")
            .await
            .expect(401, "invalid_credentials");
        let new_pin = app.pin_login(&card, "48213").await.expect(200, "").token();
        app.post(
            "/api/v1/auth/logout",
            Some(&new_pin),
            serde_json::Value::Null,
        )
        .await
        .expect(204, "");
        app.post(
            "/api/v1/auth/logout",
            Some(&new_pin),
            serde_json::Value::Null,
        )
        .await
        .expect(401, "unauthorized");
    })
    .await;
}

#[tokio::test]
async fn forgot_password_answers_the_same_for_any_email() {
    on_every_backend(false, async |app: &TestApp| {
        let card = app.register("9123 1357", Some("reader@example.com")).await;
        let known = app
            .post(
                "/api/v1/auth/password-reset",
                None,
                json!({"email": "reader@example.com"}),
            )
            .await;
        let unknown = app
            .post(
                "/api/v1/auth/password-reset",
                None,
                json!({"email": "nobody@example.com"}),
            )
            .await;
        let not_an_email = app
            .post("/api/v1/auth/password-reset", None, json!({"email": "x"}))
            .await;
        for answer in [&known, &unknown, &not_an_email] {
            assert_eq!(answer.status.as_u16(), 202, "{}", app.db);
            assert_eq!(answer.body, json!({}));
        }
        assert_eq!(
            known.headers.get("content-type"),
            unknown.headers.get("content-type")
        );
        // The request changes nothing else: the default Password still works.
        app.login(&card, "1357").await.expect(200, "");

        // Exactly one mail is queued, for the known address; its temporary password opens
        // one change-password-only session.
        let mails: Vec<_> = app
            .outbox()
            .await
            .into_iter()
            .filter(|n| n.notification.kind == "credentials.temporary_password")
            .collect();
        assert_eq!(mails.len(), 1, "{}", app.db);
        let payload: serde_json::Value =
            serde_json::from_str(&mails[0].notification.payload).unwrap();
        assert_eq!(payload["email"], "reader@example.com");
        // Sealed under the server's key: the row never holds the text.
        assert!(payload.get("temporary_password").is_none(), "{payload}");
        let temporary = open_sealed(payload["sealed_password"].as_str().unwrap());
        let session = app.login(&card, &temporary).await.expect(200, "");
        assert_eq!(session.body["scope"], "change_password_only", "{}", app.db);
        app.login(&card, &temporary)
            .await
            .expect(401, "invalid_credentials");
    })
    .await;
}

/// Asks for a temporary password for `email`: always 202 `{}`.
async fn forgot(app: &TestApp, email: &str) {
    let answer = app
        .post(
            "/api/v1/auth/password-reset",
            None,
            json!({ "email": email }),
        )
        .await;
    assert_eq!(answer.status.as_u16(), 202, "{email} on {}", app.db);
    assert_eq!(answer.body, json!({}));
}

/// The temporary password a queued mail holds sealed, opened with the test servers' key.
fn open_sealed(sealed: &str) -> String {
    let key = library_app::SecretBox::parse_key(crate::support::TEST_SECRET_KEY).unwrap();
    library_app::SecretBox::new(key)
        .open(sealed)
        .expect("opens under the server's key")
}

/// The temporary-password mails queued so far, as (address, temporary password).
async fn temporary_mails(app: &TestApp) -> Vec<(String, String)> {
    app.outbox()
        .await
        .into_iter()
        .filter(|n| n.notification.kind == "credentials.temporary_password")
        .map(|n| {
            let payload: serde_json::Value = serde_json::from_str(&n.notification.payload).unwrap();
            (
                payload["email"].as_str().unwrap().to_owned(),
                open_sealed(payload["sealed_password"].as_str().unwrap()),
            )
        })
        .collect()
}

#[tokio::test]
async fn forgot_password_sends_an_account_three_temporary_passwords_an_hour() {
    on_every_backend(true, async |app: &TestApp| {
        let start = datetime!(2026-12-01 10:00 +08:00);
        app.set_clock(start).await;
        let card = app.register("9123 8642", Some("limit@example.com")).await;
        // Four requests within the hour: three mails.
        for minutes in [0, 10, 20, 59] {
            app.set_clock(start + time::Duration::minutes(minutes))
                .await;
            forgot(app, "limit@example.com").await;
        }
        let mails = temporary_mails(app).await;
        assert_eq!(mails.len(), 3, "{}", app.db);
        assert!(mails.iter().all(|(to, _)| to == "limit@example.com"));
        // The fourth changed nothing: the third temporary password still works.
        let session = app.login(&card, &mails[2].1).await.expect(200, "");
        assert_eq!(session.body["scope"], "change_password_only");

        // 61 minutes later, one more is issued.
        app.set_clock(start + time::Duration::minutes(59 + 61))
            .await;
        forgot(app, "limit@example.com").await;
        let mails = temporary_mails(app).await;
        assert_eq!(mails.len(), 4, "{}", app.db);
        app.login(&card, &mails[3].1).await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn forgot_password_serves_a_source_ten_requests_an_hour() {
    on_every_backend(true, async |app: &TestApp| {
        let start = datetime!(2026-12-01 10:00 +08:00);
        app.set_clock(start).await;
        app.register("9123 7531", Some("first@example.com")).await;
        app.register("9123 7532", Some("second@example.com")).await;
        app.register("9123 7533", Some("third@example.com")).await;
        // Ten requests from this address, for known and unknown emails alike.
        forgot(app, "first@example.com").await;
        for n in 0..8 {
            forgot(app, &format!("nobody{n}@example.com")).await;
        }
        forgot(app, "second@example.com").await;
        assert_eq!(temporary_mails(app).await.len(), 2, "{}", app.db);
        // The eleventh and after: the same answer, nothing issued, for anyone.
        app.set_clock(start + time::Duration::minutes(30)).await;
        for email in [
            "third@example.com",
            "first@example.com",
            "nobody@example.com",
        ] {
            forgot(app, email).await;
        }
        let mails = temporary_mails(app).await;
        assert_eq!(
            mails.iter().map(|(to, _)| to.as_str()).collect::<Vec<_>>(),
            ["first@example.com", "second@example.com"],
            "{}",
            app.db
        );
        // An hour after the first request the address is served again.
        app.set_clock(start + time::Duration::minutes(61)).await;
        forgot(app, "third@example.com").await;
        let mails = temporary_mails(app).await;
        assert_eq!(mails.len(), 3, "{}", app.db);
        assert_eq!(mails[2].0, "third@example.com");
    })
    .await;
}

#[tokio::test]
async fn a_staff_reset_gives_a_single_use_temporary_password() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) = app.full_reader("2345 8642", "Lantern-Harbour-42").await;
        let staff = app.staff_token().await;
        app.post(
            &format!("/api/v1/patrons/{card}/password-reset"),
            Some(&full),
            serde_json::Value::Null,
        )
        .await
        .expect(403, "forbidden");
        app.post(
            "/api/v1/patrons/21999999999999/password-reset",
            Some(&staff),
            serde_json::Value::Null,
        )
        .await
        .expect(404, "not_found");
        app.post(
            "/api/v1/patrons/not-a-card!/password-reset",
            Some(&staff),
            serde_json::Value::Null,
        )
        .await
        .expect(404, "not_found");
        let reset = app
            .post(
                &format!("/api/v1/patrons/{card}/password-reset"),
                Some(&staff),
                serde_json::Value::Null,
            )
            .await
            .expect(200, "");
        let temporary = reset.body["temporary_password"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(reset.body["expires_at"].is_string());
        // Every session of the reader is revoked.
        app.get("/api/v1/me", Some(&full))
            .await
            .expect(401, "unauthorized");

        let first = app.login(&card, &temporary).await.expect(200, "");
        assert_eq!(first.body["scope"], "change_password_only");
        app.login(&card, &temporary)
            .await
            .expect(401, "invalid_credentials");
        let changed = app
            .put(
                "/api/v1/me/password",
                Some(&first.token()),
                json!({"current_password": temporary, "new_password": "Quiet-Reading-Room-7"}),
            )
            .await
            .expect(200, "");
        assert_eq!(changed.body["scope"], "full");
        app.login(&card, "Quiet-Reading-Room-7")
            .await
            .expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn ten_pin_failures_disable_the_pin_but_not_the_password() {
    on_every_backend(true, async |app: &TestApp| {
        let mut now = datetime!(2021-03-05 09:00 +08:00);
        app.set_clock(now).await;
        let (card, _full) = app.full_reader("9876 1357", "Lantern-Harbour-42").await;

        for attempt in 1..=5 {
            app.pin_login(&card, "9999")
                .await
                .expect(401, "invalid_credentials");
            let _ = attempt;
        }
        // From the 5th failure on, attempts are throttled (not counted, no hash).
        let throttled = app
            .pin_login(&card, "1357")
            .await
            .expect(429, "too_many_attempts");
        let retry: u64 = throttled.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry >= 1, "{retry}");

        for _ in 6..=10 {
            now += time::Duration::hours(1);
            app.set_clock(now).await;
            app.pin_login(&card, "9999")
                .await
                .expect(401, "invalid_credentials");
        }
        now += time::Duration::days(2);
        app.set_clock(now).await;
        // Disabled: the right PIN is refused with the same answer; time does not lift it.
        app.pin_login(&card, "1357")
            .await
            .expect(401, "invalid_credentials");

        // The Password still works, and a PIN change in a Password session lifts the lock.
        let full = app
            .login(&card, "Lantern-Harbour-42")
            .await
            .expect(200, "")
            .token();
        app.put(
            "/api/v1/me/pin",
            Some(&full),
            json!({"password": "Lantern-Harbour-42", "new_pin": "48213"}),
        )
        .await
        .expect(204, "");
        app.pin_login(&card, "48213").await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn failed_logins_all_look_the_same() {
    on_every_backend(false, async |app: &TestApp| {
        let card = app.register("9123 4567", None).await;
        let wrong = app
            .login(&card, "0000")
            .await
            .expect(401, "invalid_credentials");
        let unknown = app
            .login("21000000000001", "4567")
            .await
            .expect(401, "invalid_credentials");
        let malformed = app
            .login("??", "4567")
            .await
            .expect(401, "invalid_credentials");
        let staff = app
            .post(
                "/api/v1/staff/login",
                None,
                json!({"username": "admin", "password": "nope"}),
            )
            .await
            .expect(401, "invalid_credentials");
        let nobody = app
            .post(
                "/api/v1/staff/login",
                None,
                json!({"username": "nobody", "password": "nope"}),
            )
            .await
            .expect(401, "invalid_credentials");
        for other in [&unknown, &malformed, &staff, &nobody] {
            assert_eq!(other.body, wrong.body);
        }
    })
    .await;
}

/// The scheduled jobs purge the guessing rows that say nothing any more: an address's
/// window once it is over. A reader's failures stay, and go on counting.
#[tokio::test]
async fn the_scheduled_jobs_purge_windows_that_are_over() {
    on_every_backend(true, async |app: &TestApp| {
        let card = app.register("9123 6543", None).await;
        app.login(&card, "0000")
            .await
            .expect(401, "invalid_credentials");
        let source = library_credentials::AttemptSource("ip:127.0.0.1".into());
        let key =
            library_credentials::AttemptKey::card(&library_core::CardNumber::parse(&card).unwrap());
        let kind = library_credentials::CredentialKind::Password;
        let db = library_persistence::Database::connect(app.database_url())
            .await
            .expect("open the test database");
        let store = db.credentials();
        let window = store.source_window(&source).await.unwrap();
        assert_eq!(window.map(|w| w.failures), Some(1), "{}", app.db);

        // Within the window the job keeps it; once it is over, the job deletes it.
        app.run_jobs().await;
        assert!(store.source_window(&source).await.unwrap().is_some());
        let over = window.unwrap().window_started_at + time::Duration::minutes(10);
        app.set_clock(over).await;
        app.run_jobs().await;
        assert_eq!(
            store.source_window(&source).await.unwrap(),
            None,
            "{}",
            app.db
        );
        assert_eq!(store.attempts(&key, kind).await.unwrap().failures, 1);
        app.login(&card, "0000")
            .await
            .expect(401, "invalid_credentials");
        assert_eq!(store.attempts(&key, kind).await.unwrap().failures, 2);
        db.close().await.unwrap();
    })
    .await;
}
