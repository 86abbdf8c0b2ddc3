//! The credential rules against guessing and races, through the real server on every
//! backend (docs/credentials.md: Password, Sessions, Temporary passwords): a temporary
//! password's five wrong guesses and single use, a staff reset ending the old Password, a
//! login racing a Password change, answers that are the same whatever the card or email,
//! and the library's names refused in a Password.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Answer, TestApp, hk, on_every_backend};

/// The temporary-password mails queued so far, as (address, temporary password).
async fn temporary_mails(app: &TestApp) -> Vec<(String, String)> {
    let key = library_app::SecretBox::parse_key(crate::support::TEST_SECRET_KEY).unwrap();
    let sealed = library_app::SecretBox::new(key);
    app.outbox()
        .await
        .into_iter()
        .filter(|n| n.notification.kind == "credentials.temporary_password")
        .map(|n| {
            let payload: Value = serde_json::from_str(&n.notification.payload).unwrap();
            (
                payload["email"].as_str().unwrap().to_owned(),
                sealed
                    .open(payload["sealed_password"].as_str().unwrap())
                    .unwrap(),
            )
        })
        .collect()
}

async fn forgot(app: &TestApp, email: &str) -> Answer {
    app.post(
        "/api/v1/auth/password-reset",
        None,
        json!({ "email": email }),
    )
    .await
}

/// The last temporary password mailed to `email`.
async fn last_temporary(app: &TestApp, email: &str) -> String {
    temporary_mails(app)
        .await
        .into_iter()
        .rev()
        .find(|(to, _)| to == email)
        .unwrap_or_else(|| panic!("no mail to {email} on {}", app.db))
        .1
}

/// A reader registered with `email` whose default Password was changed to `password`:
/// (card, full session token).
async fn reader_with_email(
    app: &TestApp,
    phone: &str,
    email: &str,
    password: &str,
) -> (String, String) {
    let card = app.register(phone, Some(email)).await;
    let last4 = &phone[phone.len() - 4..];
    let first = app.login(&card, last4).await.expect(200, "").token();
    let full = app
        .put(
            "/api/v1/me/password",
            Some(&first),
            json!({"current_password": last4, "new_password": password}),
        )
        .await
        .expect(200, "")
        .token();
    (card, full)
}

/// The headers an answer's meaning could show in (not its date).
fn telling_headers(answer: &Answer) -> Vec<(String, String)> {
    let mut headers: Vec<_> = answer
        .headers
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    headers.sort();
    headers
}

#[tokio::test]
async fn a_temporary_password_dies_after_five_wrong_guesses() {
    on_every_backend(true, async |app: &TestApp| {
        let start = hk("2026-12-01T10:00:00");
        app.set_clock(start).await;
        let four = app.register("9123 1357", Some("four@example.com")).await;
        let five = app.register("9123 2468", Some("five@example.com")).await;
        forgot(app, "four@example.com").await;
        forgot(app, "five@example.com").await;
        let mut now = start;
        for (card, wrong) in [(&four, 4), (&five, 5)] {
            for _ in 0..wrong {
                // Past the delay of the failure before.
                now += time::Duration::minutes(16);
                app.set_clock(now).await;
                app.login(card, "Wrong-Guess-1")
                    .await
                    .expect(401, "invalid_credentials");
            }
        }
        now += time::Duration::minutes(16);
        app.set_clock(now).await;
        let temporary = last_temporary(app, "four@example.com").await;
        let opened = app.login(&four, &temporary).await.expect(200, "");
        assert_eq!(opened.body["scope"], "change_password_only", "{}", app.db);
        let dead = last_temporary(app, "five@example.com").await;
        app.login(&five, &dead)
            .await
            .expect(401, "invalid_credentials");
        // The Password still works; a new temporary password starts again from zero.
        now += time::Duration::minutes(16);
        app.set_clock(now).await;
        app.login(&five, "2468").await.expect(200, "");
        forgot(app, "five@example.com").await;
        let fresh = last_temporary(app, "five@example.com").await;
        assert_ne!(fresh, dead);
        app.login(&five, &fresh).await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn a_used_temporary_password_is_not_a_current_password() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) =
            reader_with_email(app, "9123 1357", "used@example.com", "Reading-Room-42").await;
        forgot(app, "used@example.com").await;
        let temporary = last_temporary(app, "used@example.com").await;
        let opened = app.login(&card, &temporary).await.expect(200, "").token();
        // In the reader's full session: not a current Password anywhere.
        app.put(
            "/api/v1/me/password",
            Some(&full),
            json!({"current_password": temporary, "new_password": "Lantern-Harbour-42"}),
        )
        .await
        .expect(401, "invalid_credentials");
        app.put(
            "/api/v1/me/pin",
            Some(&full),
            json!({"password": temporary, "new_pin": "7392"}),
        )
        .await
        .expect(401, "invalid_credentials");
        let settings = |password: &str| {
            json!({"email": "elsewhere@example.com", "sms_number": null,
                   "notification_channels": [], "language": "en",
                   "keep_reading_history": true, "current_password": password})
        };
        // An email change confirmed with it: the one answer of a wrong Password there.
        app.put("/api/v1/me/settings", Some(&full), settings(&temporary))
            .await
            .expect(403, "forbidden");
        app.put(
            "/api/v1/me/settings",
            Some(&full),
            settings("Reading-Room-42"),
        )
        .await
        .expect(200, "");
        // The session its own login opened changes the Password with it.
        app.put(
            "/api/v1/me/password",
            Some(&opened),
            json!({"current_password": temporary, "new_password": "Lantern-Harbour-42"}),
        )
        .await
        .expect(200, "");
        app.login(&card, "Lantern-Harbour-42").await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn a_staff_reset_ends_the_old_password() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, _) =
            reader_with_email(app, "9123 1357", "reset@example.com", "Reading-Room-42").await;
        // "Forgot Password", which anyone may ask for, ends nothing.
        forgot(app, "reset@example.com").await;
        app.login(&card, "Reading-Room-42").await.expect(200, "");
        let staff = app.staff_token().await;
        let reset = app
            .post(
                &format!("/api/v1/patrons/{card}/password-reset"),
                Some(&staff),
                Value::Null,
            )
            .await
            .expect(200, "");
        let temporary = reset.body["temporary_password"]
            .as_str()
            .unwrap()
            .to_owned();
        app.login(&card, "Reading-Room-42")
            .await
            .expect(401, "invalid_credentials");
        // Nor does the temporary password mailed before the reset open the account.
        let mailed = last_temporary(app, "reset@example.com").await;
        app.login(&card, &mailed)
            .await
            .expect(401, "invalid_credentials");
        let opened = app.login(&card, &temporary).await.expect(200, "");
        assert_eq!(opened.body["scope"], "change_password_only", "{}", app.db);
    })
    .await;
}

#[tokio::test]
async fn a_login_racing_a_password_change_gets_no_session() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, mut full) = app.full_reader("9123 1357", "Reading-Room-0").await;
        // Each racing login from its own address, so no source window fills.
        let clients: Vec<reqwest::Client> = (0..4)
            .map(|i| {
                reqwest::Client::builder()
                    .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 20 + i)))
                    .build()
                    .unwrap()
            })
            .collect();
        let mut raced = 0;
        for trial in 0..12 {
            let old = format!("Reading-Room-{trial}");
            let new = format!("Reading-Room-{}", trial + 1);
            let logins = clients.iter().map(|client| {
                let url = app.url("/api/v1/auth/login");
                let body = json!({"card_number": card, "password": old});
                async move {
                    let answer = client.post(url).json(&body).send().await.unwrap();
                    let status = answer.status().as_u16();
                    let body: Value = answer.json().await.unwrap_or(Value::Null);
                    (status, body["token"].as_str().map(str::to_owned))
                }
            });
            let change = app.put(
                "/api/v1/me/password",
                Some(&full),
                json!({"current_password": old, "new_password": new}),
            );
            let (results, changed) =
                tokio::join!(crate::support::futures_join_all(logins.collect()), change);
            let changed = changed.expect(200, "");
            for (status, token) in results {
                assert!([200, 401, 429].contains(&status), "{status} on {}", app.db);
                if let Some(token) = token {
                    raced += 1;
                    // A session opened with the old Password does not outlive the change.
                    app.get("/api/v1/me", Some(&token))
                        .await
                        .expect(401, "unauthorized");
                }
            }
            // The racing failures are forgotten by a success with the new Password.
            tokio::time::sleep(Duration::from_millis(10)).await;
            full = changed.token();
            let _ = app.login(&card, &new).await;
        }
        // Some logins did win against the change (about 45 of 48 here): the race was run.
        assert!(raced > 0, "no login got in before a change on {}", app.db);
    })
    .await;
}

#[tokio::test]
async fn a_login_costs_the_same_whatever_the_card() {
    on_every_backend(false, async |app: &TestApp| {
        let staff = app.staff_token().await;
        let plain = app.register("9123 1357", None).await;
        let pending = app.register("9123 2468", Some("pending@example.com")).await;
        forgot(app, "pending@example.com").await;
        let reset = app.register("9123 3579", None).await;
        app.post(
            &format!("/api/v1/patrons/{reset}/password-reset"),
            Some(&staff),
            Value::Null,
        )
        .await
        .expect(200, "");
        let mut answers = Vec::new();
        for card in ["21999999999999", &plain, &pending, &reset] {
            answers.push(app.login(card, "Wrong-Guess-1").await);
        }
        for answer in &answers {
            assert_eq!(answer.status.as_u16(), 401, "{}", app.db);
            assert_eq!(answer.body, answers[0].body, "{}", app.db);
            assert_eq!(
                telling_headers(answer),
                telling_headers(&answers[0]),
                "{}",
                app.db
            );
        }
    })
    .await;
}

#[tokio::test]
async fn forgot_password_answers_the_same_for_a_shared_email() {
    on_every_backend(false, async |app: &TestApp| {
        app.register("9123 1357", Some("one@example.com")).await;
        app.register("9123 2468", Some("family@example.com")).await;
        app.register("9123 3579", Some("family@example.com")).await;
        let mut answers = Vec::new();
        for email in [
            "one@example.com",
            "nobody@example.com",
            "family@example.com",
        ] {
            answers.push(forgot(app, email).await);
        }
        for answer in &answers {
            assert_eq!(answer.status.as_u16(), 202, "{}", app.db);
            assert_eq!(answer.body, json!({}));
            assert_eq!(
                telling_headers(answer),
                telling_headers(&answers[0]),
                "{}",
                app.db
            );
        }
        // The second reader sharing the email is served after the answer.
        let mut family = 0;
        for _ in 0..100 {
            family = temporary_mails(app)
                .await
                .iter()
                .filter(|(to, _)| to == "family@example.com")
                .count();
            if family == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(family, 2, "{}", app.db);
    })
    .await;
}

#[tokio::test]
async fn passwords_with_the_library_name_are_refused() {
    on_every_backend(false, async |app: &TestApp| {
        let card = app.register("9123 1357", None).await;
        let first = app.login(&card, "1357").await.expect(200, "").token();
        for (password, want) in [
            ("HongKongLibrary9", vec!["context_word"]),
            ("hkpl2021Ab", vec!["context_word"]),
            ("Zq7 L.C.S.D xy", vec!["context_word"]),
            ("Hong Kong 9Zebra", vec!["context_word"]),
            (
                "Chan-Library-7",
                vec!["contains_personal_info", "context_word"],
            ),
        ] {
            let refused = app
                .put(
                    "/api/v1/me/password",
                    Some(&first),
                    json!({"current_password": "1357", "new_password": password}),
                )
                .await
                .expect(422, "validation_failed");
            assert_eq!(refused.violations(), want, "{password} on {}", app.db);
        }
        app.put(
            "/api/v1/me/password",
            Some(&first),
            json!({"current_password": "1357", "new_password": "Reading-Room-42"}),
        )
        .await
        .expect(200, "");
        let admin = app.staff_token().await;
        let refused = app
            .post(
                "/api/v1/staff/users",
                Some(&admin),
                json!({"username": "kwok", "password": "Lcsd-Desk-77", "role": "librarian"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(refused.violations(), ["context_word"], "{}", app.db);
    })
    .await;
}
