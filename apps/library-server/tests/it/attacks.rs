//! The attack suite: the 36 bad-input and attack cases of docs/credentials.md ("The attack
//! cases"), each tried from outside, as an attacker would, against the real server over
//! HTTP (and SIP2 where the case is about stations) on every backend. Each test is named
//! after its case; the table in docs/credentials.md lists them.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::support::{Answer, TestApp, on_every_backend, on_every_backend_with};

const PASSWORD: &str = "Lantern-Harbour-42";

/// Tries `new_password` as the reader's new Password; the answer.
async fn set_password(app: &TestApp, token: &str, current: &str, new_password: &str) -> Answer {
    app.put(
        "/api/v1/me/password",
        Some(token),
        json!({"current_password": current, "new_password": new_password}),
    )
    .await
}

/// Tries `new_pin` as the reader's new PIN; the answer.
async fn set_pin(app: &TestApp, token: &str, new_pin: &str) -> Answer {
    app.put(
        "/api/v1/me/pin",
        Some(token),
        json!({"password": PASSWORD, "new_pin": new_pin}),
    )
    .await
}

/// A client whose requests come from 127.0.0.`n` (every loopback address reaches the
/// listener): another source for the per-source limits.
fn client_from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, n]))
        .build()
        .unwrap()
}

/// Outbox notices of a kind containing `kind`.
async fn notices(app: &TestApp, kind: &str) -> Vec<Value> {
    app.outbox()
        .await
        .into_iter()
        .filter(|n| n.notification.kind.contains(kind))
        .map(|n| serde_json::from_str(&n.notification.payload).unwrap_or(Value::Null))
        .collect()
}

/// A SQL connection to the server's database, for what an attacker with a dump sees.
async fn database(app: &TestApp) -> sea_orm::DatabaseConnection {
    sea_orm::Database::connect(app.database_url())
        .await
        .unwrap()
}

async fn rows(app: &TestApp, sql: &str) -> Vec<sea_orm::QueryResult> {
    use sea_orm::ConnectionTrait;
    let conn = database(app).await;
    let backend = conn.get_database_backend();
    conn.query_all_raw(sea_orm::Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap()
}

async fn execute(app: &TestApp, sql: &str) {
    use sea_orm::ConnectionTrait;
    let conn = database(app).await;
    conn.execute_unprepared(sql).await.unwrap();
}

// ---------------------------------------------------------------------------------------
// Setting a Password or a PIN (cases 1 to 16).
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn case_01_common_passwords_are_refused_whatever_their_case() {
    on_every_backend(false, async |app: &TestApp| {
        let (_, full) = app.full_reader("9123 4567", PASSWORD).await;
        for common in ["Passw0rd", "Password1", "Summer2025", "pASSWORD1"] {
            let answer = set_password(app, &full, PASSWORD, common)
                .await
                .expect(422, "validation_failed");
            assert!(
                answer.violations().contains(&"common_password".to_owned()),
                "{common} on {}: {:?}",
                app.db,
                answer.violations()
            );
        }
    })
    .await;
}

#[tokio::test]
async fn case_02_personal_and_context_words_are_refused() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) = app.full_reader("9123 4567", PASSWORD).await;
        let cases = [
            (format!("Ab{card}"), "contains_personal_info"),
            ("Lantern-91234567-x".to_owned(), "contains_personal_info"),
            ("Harbour-Chan-42x".to_owned(), "contains_personal_info"),
            ("HongKongLibrary9".to_owned(), "context_word"),
            ("hkpl2021Ab".to_owned(), "context_word"),
            ("Hong-Kong-Reader-7".to_owned(), "context_word"),
        ];
        for (candidate, code) in cases {
            let answer = set_password(app, &full, PASSWORD, &candidate)
                .await
                .expect(422, "validation_failed");
            assert!(
                answer.violations().contains(&code.to_owned()),
                "{candidate} on {}: {:?}",
                app.db,
                answer.violations()
            );
        }
    })
    .await;
}

#[tokio::test]
async fn case_03_password_and_pin_lengths() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) = app.full_reader("9123 4567", PASSWORD).await;
        let answer = set_password(app, &full, PASSWORD, "Abcde1x")
            .await
            .expect(422, "validation_failed");
        assert_eq!(answer.violations(), ["too_short"], "{}", app.db);
        let full = set_password(app, &full, PASSWORD, "Abcdef1x")
            .await
            .expect(200, "")
            .token();
        app.login(&card, "Abcdef1x").await.expect(200, "");
        for pin in ["482", "4829174630125"] {
            app.put(
                "/api/v1/me/pin",
                Some(&full),
                json!({"password": "Abcdef1x", "new_pin": pin}),
            )
            .await
            .expect(422, "validation_failed");
        }
        app.put(
            "/api/v1/me/pin",
            Some(&full),
            json!({"password": "Abcdef1x", "new_pin": "482917463012"}),
        )
        .await
        .expect(204, "");
    })
    .await;
}

#[tokio::test]
async fn case_04_length_is_counted_in_code_points_not_bytes() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) = app.full_reader("9123 4567", PASSWORD).await;
        // 7 code points in 19 bytes: too short, however many bytes.
        let seven = "Ab1\u{1F600}\u{1F601}\u{1F602}\u{1F603}";
        assert_eq!((seven.chars().count(), seven.len()), (7, 19));
        let answer = set_password(app, &full, PASSWORD, seven)
            .await
            .expect(422, "validation_failed");
        assert_eq!(answer.violations(), ["too_short"], "{}", app.db);
        // 8 code points in 24 bytes: long enough.
        let eight = "Ab1\u{9F8D}\u{99AC}\u{7CBE}\u{795E}\u{00E9}\u{00E8}";
        let eight: String = eight.chars().take(8).collect();
        assert_eq!(eight.chars().count(), 8);
        let full = set_password(app, &full, PASSWORD, &eight)
            .await
            .expect(200, "")
            .token();
        app.login(&card, &eight).await.expect(200, "");
        // Seven emoji and `aA1`: ten code points.
        let emoji = "\u{1F600}\u{1F601}\u{1F602}\u{1F603}\u{1F604}\u{1F605}\u{1F606}aA1";
        set_password(app, &full, &eight, emoji)
            .await
            .expect(200, "");
        app.login(&card, emoji).await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn case_05_a_password_is_compared_after_nfkc_on_both_sides() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) = app.full_reader("9123 4567", PASSWORD).await;
        set_password(app, &full, PASSWORD, "Caf\u{00E9}12Ab-harbour")
            .await
            .expect(200, "");
        app.login(&card, "Cafe\u{0301}12Ab-harbour")
            .await
            .expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn case_06_full_width_letters_are_normalised_before_the_blocklist() {
    on_every_backend(false, async |app: &TestApp| {
        let (_, full) = app.full_reader("9123 4567", PASSWORD).await;
        let answer = set_password(
            app,
            &full,
            PASSWORD,
            "\u{FF30}\u{FF41}\u{FF53}\u{FF53}\u{FF57}\u{FF4F}\u{FF52}\u{FF44}\u{FF11}",
        )
        .await
        .expect(422, "validation_failed");
        assert_eq!(answer.violations(), ["common_password"], "{}", app.db);
    })
    .await;
}

#[tokio::test]
async fn case_07_a_megabyte_password_is_refused_before_hashing_and_not_counted() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, _) = app.full_reader("9123 4567", PASSWORD).await;
        let huge = "A".repeat(1024 * 1024);
        for _ in 0..8 {
            let status = app
                .try_post(
                    "/api/v1/auth/login",
                    None,
                    json!({"card_number": card, "password": huge}),
                )
                .await;
            assert!(
                matches!(status, Some(413 | 400) | None),
                "{}: {status:?}",
                app.db
            );
        }
        // Eight of them counted nothing: no delay, the right Password gets in.
        app.login(&card, PASSWORD).await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn case_08_a_129_character_password_is_refused_clearly_and_fails_login_generically() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) = app.full_reader("9123 4567", PASSWORD).await;
        let long = format!("Ab1{}", "x".repeat(126));
        assert_eq!(long.chars().count(), 129);
        let answer = set_password(app, &full, PASSWORD, &long)
            .await
            .expect(422, "validation_failed");
        assert_eq!(answer.violations(), ["too_long"], "{}", app.db);
        app.login(&card, &long)
            .await
            .expect(401, "invalid_credentials");
    })
    .await;
}

#[tokio::test]
async fn case_09_nul_bidi_override_and_lone_surrogates_are_refused() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) = app.full_reader("9123 4567", PASSWORD).await;
        for bad in ["Harbour-42\u{0}Ab", "Harbour-42\u{202E}Ab"] {
            let answer = app
                .put(
                    "/api/v1/me/password",
                    Some(&full),
                    json!({"current_password": PASSWORD, "new_password": bad}),
                )
                .await;
            assert!(
                matches!(answer.status.as_u16(), 400 | 422),
                "{bad:?} on {}: {}",
                app.db,
                answer.status
            );
        }
        // Not truncated at the NUL: the part before it is not the Password.
        app.login(&card, "Harbour-42")
            .await
            .expect(401, "invalid_credentials");
        // A lone surrogate is not JSON text.
        let raw =
            format!(r#"{{"current_password":"{PASSWORD}","new_password":"Harbour-42\ud800Ab"}}"#);
        let status = reqwest::Client::new()
            .put(app.url("/api/v1/me/password"))
            .bearer_auth(&full)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}", app.db);
        app.login(&card, PASSWORD).await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn case_10_spaces_are_kept_alike_at_set_and_at_verify() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) = app.full_reader("9123 4567", PASSWORD).await;
        let spaced = " Harbour Lantern 42 ";
        set_password(app, &full, PASSWORD, spaced)
            .await
            .expect(200, "");
        app.login(&card, spaced).await.expect(200, "");
        app.login(&card, spaced.trim())
            .await
            .expect(401, "invalid_credentials");
    })
    .await;
}

#[tokio::test]
async fn case_11_to_13_a_pin_is_ascii_digits_as_typed() {
    on_every_backend(false, async |app: &TestApp| {
        let (_, full) = app.full_reader("9123 4567", PASSWORD).await;
        for pin in [
            // 11: full-width digits.
            "\u{FF11}\u{FF12}\u{FF13}\u{FF14}",
            // 12: other scripts' digits, fractions and superscripts.
            "\u{0661}\u{0662}\u{0663}\u{0664}",
            "\u{00BD}\u{00BD}",
            "\u{00B2}\u{00B2}\u{00B2}\u{00B2}",
            // 13: no integer parsing.
            "+1234",
            " 1234",
            "12 34",
            "-123",
            "1e3",
            "0x1F",
        ] {
            let answer = set_pin(app, &full, pin).await;
            assert_eq!(answer.status.as_u16(), 422, "{pin:?} on {}", app.db);
        }
    })
    .await;
}

#[tokio::test]
async fn case_14_leading_zeros_are_kept() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) = app.full_reader("9123 4567", PASSWORD).await;
        set_pin(app, &full, "0472").await.expect(204, "");
        app.pin_login(&card, "472")
            .await
            .expect(401, "invalid_credentials");
        app.pin_login(&card, "0472").await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn case_15_common_pins_are_refused() {
    on_every_backend(false, async |app: &TestApp| {
        let (_, full) = app.full_reader("9123 4567", PASSWORD).await;
        for pin in ["0000", "1111", "1234", "9876", "1984"] {
            let answer = set_pin(app, &full, pin)
                .await
                .expect(422, "validation_failed");
            assert!(!answer.violations().is_empty(), "{pin} on {}", app.db);
        }
    })
    .await;
}

#[tokio::test]
async fn case_16_a_pin_from_the_phone_the_card_or_the_current_pin_is_refused() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) = app.full_reader("9123 5831", PASSWORD).await;
        set_pin(app, &full, "70529").await.expect(204, "");
        let last4_of_card = &card[card.len() - 4..];
        for pin in ["5831", "70529", last4_of_card] {
            let answer = set_pin(app, &full, pin).await;
            assert_eq!(answer.status.as_u16(), 422, "{pin} on {}", app.db);
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Default and temporary credentials (cases 17 to 19, 22 to 26).
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn case_17_the_default_password_opens_only_the_password_change() {
    on_every_backend(false, async |app: &TestApp| {
        let card = app.register("9123 4567", None).await;
        let first = app.login(&card, "4567").await.expect(200, "");
        assert_eq!(first.body["scope"], "change_password_only");
        let token = first.token();
        for path in ["/api/v1/me", "/api/v1/me/loans", "/api/v1/me/fines"] {
            app.get(path, Some(&token))
                .await
                .expect(403, "password_change_required");
        }
    })
    .await;
}

/// The library's default credentials never expire (docs/credentials.md, case 18): the
/// mitigations are what this proves. The default stops working once changed; unused for
/// more than a year it still opens only the change; guessing it is throttled like any
/// Password; and the change is told to the reader.
#[tokio::test]
async fn case_18_the_default_password_after_a_change_and_unused_for_a_year() {
    on_every_backend(true, async |app: &TestApp| {
        app.set_clock(crate::support::hk("2021-03-05T10:00:00"))
            .await;
        let card = app.register("9123 4567", Some("reader@example.com")).await;
        app.set_clock(crate::support::hk("2022-04-05T10:00:00"))
            .await;
        let first = app.login(&card, "4567").await.expect(200, "");
        assert_eq!(first.body["scope"], "change_password_only", "{}", app.db);
        set_password(app, &first.token(), "4567", PASSWORD)
            .await
            .expect(200, "");
        app.login(&card, "4567")
            .await
            .expect(401, "invalid_credentials");
        assert_eq!(
            notices(app, "password_changed").await.len(),
            1,
            "{}",
            app.db
        );
        // Guessing a default: throttled from the 5th failure from one source.
        let other = app.register("9123 8888", None).await;
        for _ in 0..5 {
            app.login(&other, "0000")
                .await
                .expect(401, "invalid_credentials");
        }
        app.login(&other, "8888")
            .await
            .expect(429, "too_many_attempts");
    })
    .await;
}

#[tokio::test]
async fn case_19_an_empty_secret_never_opens_anything() {
    on_every_backend(false, async |app: &TestApp| {
        let card = app.register("9123 4567", None).await;
        for (card, secret) in [(card.as_str(), ""), ("21999999999999", "")] {
            let login = app.login(card, secret).await;
            assert!(
                matches!(login.status.as_u16(), 401 | 422 | 400),
                "{}: {}",
                app.db,
                login.status
            );
            assert_ne!(login.status.as_u16(), 200);
            let pin = app.pin_login(card, secret).await;
            assert_ne!(pin.status.as_u16(), 200, "{}", app.db);
        }
        let staff = app
            .post(
                "/api/v1/staff/login",
                None,
                json!({"username": "admin", "password": ""}),
            )
            .await;
        assert_ne!(staff.status.as_u16(), 200, "{}", app.db);
    })
    .await;
}

#[tokio::test]
async fn case_22_forgot_password_answers_alike_for_registered_unknown_and_shared_emails() {
    on_every_backend(false, async |app: &TestApp| {
        app.register("9123 4567", Some("one@example.com")).await;
        app.register("9123 5678", Some("shared@example.com")).await;
        app.register("9123 6789", Some("shared@example.com")).await;
        let mut answers = Vec::new();
        for email in [
            "one@example.com",
            "nobody@example.com",
            "shared@example.com",
        ] {
            let answer = app
                .post(
                    "/api/v1/auth/password-reset",
                    None,
                    json!({ "email": email }),
                )
                .await;
            let mut headers: Vec<(String, String)> = answer
                .headers
                .iter()
                .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
                .collect();
            headers.sort();
            answers.push((answer.status, answer.body, headers));
        }
        assert_eq!(answers[0], answers[1], "{}", app.db);
        assert_eq!(answers[0], answers[2], "{}", app.db);
        assert_eq!(answers[0].0.as_u16(), 202);
    })
    .await;
}

#[tokio::test]
async fn case_23_a_reset_request_with_a_foreign_host_sends_nothing_pointing_there() {
    on_every_backend(false, async |app: &TestApp| {
        app.register("9123 4567", Some("reader@example.com")).await;
        let status = reqwest::Client::new()
            .post(app.url("/api/v1/auth/password-reset"))
            .header("host", "evil.example")
            .json(&json!({"email": "reader@example.com"}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::ACCEPTED, "{}", app.db);
        let queued = app.outbox().await;
        assert!(!queued.is_empty());
        for n in queued {
            assert!(
                !n.notification.payload.contains("evil.example"),
                "{}",
                n.notification.payload
            );
        }
    })
    .await;
}

#[tokio::test]
async fn case_24_a_strangers_reset_request_changes_nothing_for_the_owner() {
    on_every_backend(false, async |app: &TestApp| {
        let card = app.register("9123 4567", Some("reader@example.com")).await;
        let first = app.login(&card, "4567").await.expect(200, "").token();
        set_password(app, &first, "4567", PASSWORD)
            .await
            .expect(200, "");
        for _ in 0..5 {
            client_from(23)
                .post(app.url("/api/v1/auth/password-reset"))
                .json(&json!({"email": "reader@example.com"}))
                .send()
                .await
                .unwrap();
        }
        app.login(&card, PASSWORD).await.expect(200, "");
    })
    .await;
}

/// A temporary password from "forgot Password", opened from the outbox as the mail would
/// carry it.
async fn mailed_temporary(app: &TestApp, email: &str) -> String {
    let key = library_app::SecretBox::parse_key(crate::support::TEST_SECRET_KEY).unwrap();
    let sealed = library_app::SecretBox::new(key);
    app.post(
        "/api/v1/auth/password-reset",
        None,
        json!({ "email": email }),
    )
    .await;
    let payload = notices(app, "temporary_password")
        .await
        .into_iter()
        .rev()
        .find(|p| p["email"] == email)
        .expect("a mail");
    sealed
        .open(payload["sealed_password"].as_str().unwrap())
        .unwrap()
}

#[tokio::test]
async fn case_25_a_temporary_password_reused_expired_superseded_or_guessed_fails() {
    on_every_backend(true, async |app: &TestApp| {
        app.set_clock(crate::support::hk("2021-03-05T10:00:00"))
            .await;
        let card = app.register("9123 4567", Some("reader@example.com")).await;
        // Reused: one login, then never again.
        let once = mailed_temporary(app, "reader@example.com").await;
        app.login(&card, &once).await.expect(200, "");
        app.login(&card, &once)
            .await
            .expect(401, "invalid_credentials");
        // Past its 24 hours.
        let late = mailed_temporary(app, "reader@example.com").await;
        app.set_clock(crate::support::hk("2021-03-06T10:00:01"))
            .await;
        app.login(&card, &late)
            .await
            .expect(401, "invalid_credentials");
        // Superseded by a newer one.
        let old = mailed_temporary(app, "reader@example.com").await;
        mailed_temporary(app, "reader@example.com").await;
        app.login(&card, &old)
            .await
            .expect(401, "invalid_credentials");
        // Five wrong guesses while it waits end it, from wherever they come.
        app.set_clock(crate::support::hk("2021-03-06T15:00:00"))
            .await;
        let guessed = mailed_temporary(app, "reader@example.com").await;
        for n in 0..5u8 {
            let status = client_from(60 + n)
                .post(app.url("/api/v1/auth/login"))
                .json(&json!({"card_number": card, "password": "Wrong-Guess-1"}))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{}", app.db);
        }
        app.login(&card, &guessed)
            .await
            .expect(401, "invalid_credentials");
        // The default Password, never changed, still works: nothing was locked.
        app.login(&card, "4567").await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn case_26_a_hundred_reset_requests_send_at_most_three_mails() {
    on_every_backend(false, async |app: &TestApp| {
        app.register("9123 4567", Some("reader@example.com")).await;
        let mut seen = std::collections::BTreeSet::new();
        for n in 0..100u8 {
            // From many sources, so that only the account's own limit applies.
            let answer = client_from(100 + n % 50)
                .post(app.url("/api/v1/auth/password-reset"))
                .json(&json!({"email": "reader@example.com"}))
                .send()
                .await
                .unwrap();
            let status = answer.status().as_u16();
            let body = answer.text().await.unwrap();
            seen.insert((status, body));
        }
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            [(202, "{}".to_owned())],
            "{}",
            app.db
        );
        assert_eq!(
            notices(app, "temporary_password").await.len(),
            3,
            "{}",
            app.db
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Logins and guessing (cases 20, 21, 28 to 30, 34, 35).
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn case_20_an_unknown_card_and_a_wrong_password_answer_alike() {
    on_every_backend(false, async |app: &TestApp| {
        let card = app.register("9123 4567", None).await;
        let shape = |a: &Answer| {
            let mut names: Vec<String> = a
                .headers
                .iter()
                .filter(|(n, _)| !matches!(n.as_str(), "date" | "x-request-id"))
                .map(|(n, v)| format!("{n}: {}", v.to_str().unwrap_or("")))
                .collect();
            names.sort();
            (a.status, a.body.clone(), names)
        };
        // Two sources, so neither pair reaches its delay.
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for _ in 0..4 {
            known.push(shape(&app.login(&card, "0000").await));
            unknown.push(shape(&app.login("21999999999999", "0000").await));
        }
        for (k, u) in known.iter().zip(&unknown) {
            assert_eq!(k, u, "{}", app.db);
        }
        assert_eq!(known[0].0.as_u16(), 401);
    })
    .await;
}

#[tokio::test]
async fn case_21_card_numbers_with_spaces_or_sql_are_canonical_or_refused() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, _) = app.full_reader("9123 4567", PASSWORD).await;
        let spaced = format!("{} {} {}", &card[..4], &card[4..8], &card[8..]);
        let spaced_login = app.login(&spaced, PASSWORD).await;
        assert!(
            matches!(spaced_login.status.as_u16(), 200 | 401),
            "{}",
            app.db
        );
        for hostile in ["21%", "21______________", "21000000000' OR '1'='1", "%"] {
            app.login(hostile, PASSWORD)
                .await
                .expect(401, "invalid_credentials");
        }
        let staff = app.staff_token().await;
        for q in ["%25%25%25%25", "____", "'%20OR%201=1--"] {
            let answer = app
                .get(&format!("/api/v1/patrons?q={q}"), Some(&staff))
                .await;
            assert!(
                answer.status.as_u16() == 200 || answer.status.as_u16() == 422,
                "{q} on {}: {}",
                app.db,
                answer.status
            );
            if answer.status.as_u16() == 200 {
                assert_eq!(answer.body["items"], json!([]), "{q} on {}", app.db);
            }
        }
        // The tables are all there.
        app.login(&card, PASSWORD).await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn case_28_fifty_parallel_wrong_passwords_run_at_most_five_hashes() {
    on_every_backend(false, async |app: &TestApp| {
        let card = app.register("9123 4567", None).await;
        let tries = (0..50).map(|_| app.login(&card, "0000"));
        let answers = crate::support::futures_join_all(tries.collect()).await;
        let verified = answers.iter().filter(|a| a.status.as_u16() == 401).count();
        let refused = answers
            .iter()
            .filter(|a| matches!(a.status.as_u16(), 429 | 503))
            .count();
        assert!(verified <= 5, "{}: {verified} verified", app.db);
        assert!(verified >= 1, "{}", app.db);
        assert_eq!(verified + refused, 50, "{}", app.db);
    })
    .await;
}

/// A station at SIP2: logs in, then asks patron status with a PIN.
struct Station {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Station {
    async fn open(app: &TestApp, staff: &str, username: &str, pin_required: bool) -> Station {
        app.post(
            "/api/v1/sip2/stations",
            Some(staff),
            json!({"username": username, "password": "kiosk-pass-2026", "library_code": "CEN",
                   "pin_required": pin_required}),
        )
        .await
        .expect(201, "");
        let addr: SocketAddr = app.sip2.expect("SIP2 on");
        let (read, write) = TcpStream::connect(addr).await.unwrap().into_split();
        let mut station = Station {
            reader: BufReader::new(read),
            writer: write,
        };
        let login = station
            .call(&format!("9300CN{username}|COkiosk-pass-2026|CPCEN|"))
            .await;
        assert_eq!(login, "941");
        station
    }

    async fn call(&mut self, line: &str) -> String {
        self.writer
            .write_all(format!("{line}\r").as_bytes())
            .await
            .unwrap();
        let mut buf = Vec::new();
        tokio::time::timeout(
            Duration::from_secs(20),
            self.reader.read_until(b'\r', &mut buf),
        )
        .await
        .expect("an answer within 20 s")
        .unwrap();
        String::from_utf8(buf).unwrap().trim_end().to_owned()
    }

    async fn patron_status(&mut self, card: &str, pin: &str) -> String {
        self.call(&format!(
            "23001{}AOCEN|AA{card}|AC|AD{pin}|",
            "20210601    100000"
        ))
        .await
    }
}

#[tokio::test]
async fn case_29_a_pin_locked_by_a_sip2_flood_leaves_the_password_working() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "central").await;
        let (card, _) = app.full_reader("9123 4567", PASSWORD).await;
        let mut station = Station::open(app, &staff, "sc29", true).await;
        let mut now = crate::support::hk("2021-06-01T10:00:00");
        for _ in 0..10 {
            now += time::Duration::hours(1);
            app.set_clock(now).await;
            let answer = station.patron_status(&card, "9999").await;
            assert!(answer.contains("|CQN|"), "{}: {answer}", app.db);
        }
        // The PIN is locked: the right one fails at the station and on the web.
        let answer = station.patron_status(&card, "4567").await;
        assert!(answer.contains("|CQN|"), "{}: {answer}", app.db);
        app.pin_login(&card, "4567")
            .await
            .expect(401, "invalid_credentials");
        // The Password is another credential: it still works.
        app.login(&card, PASSWORD).await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn case_30_one_pin_sprayed_over_many_cards_trips_the_source_limit_and_alerts() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "central").await;
        let mut station = Station::open(app, &staff, "sc30", false).await;
        let before = metric(app, "source_limited").await;
        // One common PIN over 100 cards in turn, as a sprayer would: every answer is the
        // same refusal, and past 20 failures in 10 minutes the station's source is
        // refused before any PIN is checked.
        for n in 0..100u64 {
            let card = format!("2100000{:07}", 1000 + n);
            let answer = station.patron_status(&card, "1234").await;
            assert!(answer.contains("|CQN|"), "{}: {answer}", app.db);
        }
        assert!(
            metric(app, "source_limited").await > before,
            "{}: the limit tripping is a security event",
            app.db
        );
    })
    .await;
}

/// The count of one security event in `/metrics`.
async fn metric(app: &TestApp, event: &str) -> u64 {
    let text = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("library_security_events_total{{event=\"{event}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {event} in {text}"))
}

#[tokio::test]
async fn case_34_a_login_flood_is_bounded_and_health_stays_up() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, _) = app.full_reader("9123 4567", PASSWORD).await;
        let flood = (0..200u8).map(|n| {
            let client = client_from(20 + n % 200);
            let card = card.clone();
            let url = app.url("/api/v1/auth/login");
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"card_number": card, "password": PASSWORD}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        });
        let flood: Vec<_> = flood.collect();
        let health = reqwest::get(app.url("/health")).await.unwrap().status();
        assert_eq!(health, StatusCode::OK, "{}", app.db);
        let mut statuses = Vec::new();
        for task in flood {
            statuses.push(task.await.unwrap());
        }
        assert!(
            statuses.iter().all(|s| matches!(s, 200 | 429 | 503)),
            "{}: {statuses:?}",
            app.db
        );
        assert!(statuses.contains(&200), "{}", app.db);
        // After the flood, the owner gets in.
        app.login(&card, PASSWORD).await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn case_35_a_tampered_hash_with_huge_parameters_is_refused() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, _) = app.full_reader("9123 4567", PASSWORD).await;
        // m = 4 GiB, t = 1, p = 1: what an attacker with write access to the table might
        // plant to make the server allocate gigabytes on a login.
        let tampered = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$\
                        aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
        execute(
            app,
            &format!("UPDATE patron_credentials SET password_hash = '{tampered}'"),
        )
        .await;
        app.login(&card, PASSWORD)
            .await
            .expect(401, "invalid_credentials");
        app.get("/health", None).await.expect(200, "");
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Tokens and sessions (cases 27, 31 to 33, 36).
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn case_27_a_token_is_stored_only_as_its_hash_and_never_referred_on() {
    on_every_backend(false, async |app: &TestApp| {
        let (_, full) = app.full_reader("9123 4567", PASSWORD).await;
        let sessions = rows(app, "SELECT token_hash FROM sessions").await;
        assert!(!sessions.is_empty());
        for row in sessions {
            let stored: String = row.try_get("", "token_hash").unwrap();
            assert_ne!(stored, full, "{}", app.db);
            assert!(!stored.contains(&full));
        }
        let me = app.get("/api/v1/me", Some(&full)).await.expect(200, "");
        assert_eq!(me.headers["referrer-policy"], "no-referrer");
        let page = reqwest::get(app.url("/")).await.unwrap();
        assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    })
    .await;
}

#[tokio::test]
async fn case_31_sessions_are_new_at_each_login_and_end_with_a_password_change() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, _) = app.full_reader("9123 4567", PASSWORD).await;
        let a = app.login(&card, PASSWORD).await.expect(200, "").token();
        let b = app.login(&card, PASSWORD).await.expect(200, "").token();
        assert_ne!(a, b);
        let changed = set_password(app, &a, PASSWORD, "Quiet-Reading-Room-7")
            .await
            .expect(200, "")
            .token();
        app.get("/api/v1/me", Some(&a))
            .await
            .expect(401, "unauthorized");
        app.get("/api/v1/me", Some(&b))
            .await
            .expect(401, "unauthorized");
        app.get("/api/v1/me", Some(&changed)).await.expect(200, "");
        assert!(
            !notices(app, "password_changed").await.is_empty(),
            "{}",
            app.db
        );
    })
    .await;
}

#[tokio::test]
async fn case_32_a_pin_does_not_open_the_web_and_a_pin_session_cannot_change_the_email() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) = app.full_reader("9123 4567", PASSWORD).await;
        set_pin(app, &full, "70529").await.expect(204, "");
        app.login(&card, "70529")
            .await
            .expect(401, "invalid_credentials");
        let pin = app.pin_login(&card, "70529").await.expect(200, "").token();
        let answer = app
            .put(
                "/api/v1/me/settings",
                Some(&pin),
                json!({"email": "thief@example.com", "sms_number": null,
                       "notification_channels": [], "language": "en",
                       "keep_reading_history": true, "current_password": PASSWORD}),
            )
            .await;
        assert_eq!(answer.status.as_u16(), 403, "{}", app.db);
        let me = app.get("/api/v1/me", Some(&full)).await.expect(200, "");
        assert!(me.body["email"].is_null(), "{}", app.db);
    })
    .await;
}

#[tokio::test]
async fn case_33_changes_of_password_and_email_need_the_current_password() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, full) = app.full_reader("9123 4567", PASSWORD).await;
        let without = app
            .put(
                "/api/v1/me/password",
                Some(&full),
                json!({"new_password": "Quiet-Reading-Room-7"}),
            )
            .await;
        assert_eq!(without.status.as_u16(), 400, "{}", app.db);
        let settings = |current: Option<&str>| {
            json!({"email": "thief@example.com", "sms_number": null,
                   "notification_channels": [], "language": "en",
                   "keep_reading_history": true, "current_password": current})
        };
        app.put("/api/v1/me/settings", Some(&full), settings(None))
            .await
            .expect(403, "forbidden");
        app.put(
            "/api/v1/me/settings",
            Some(&full),
            settings(Some("Wrong-Password-1")),
        )
        .await
        .expect(403, "forbidden");
        app.login(&card, PASSWORD).await.expect(200, "");
        let me = app.get("/api/v1/me", Some(&full)).await.expect(200, "");
        assert!(me.body["email"].is_null(), "{}", app.db);
    })
    .await;
}

#[tokio::test]
async fn case_36_a_desk_reset_is_random_single_use_audited_and_told() {
    on_every_backend(false, async |app: &TestApp| {
        let (card, _) = app.full_reader("9123 4567", PASSWORD).await;
        let staff = app.staff_token().await;
        let path = format!("/api/v1/patrons/{card}/password-reset");
        // Staff cannot choose it: a body naming one is not used.
        let first = app
            .post(
                &path,
                Some(&staff),
                json!({"password": "Chosen-By-Staff-1"}),
            )
            .await;
        let first = if first.status.as_u16() == 200 {
            first
        } else {
            app.post(&path, Some(&staff), Value::Null)
                .await
                .expect(200, "")
        };
        let one = first.body["temporary_password"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(one, "Chosen-By-Staff-1");
        app.login(&card, "Chosen-By-Staff-1")
            .await
            .expect(401, "invalid_credentials");
        let two = app
            .post(&path, Some(&staff), Value::Null)
            .await
            .expect(200, "");
        let two = two.body["temporary_password"].as_str().unwrap().to_owned();
        assert_ne!(one, two, "{}: random each time", app.db);
        let session = app.login(&card, &two).await.expect(200, "");
        assert_eq!(session.body["scope"], "change_password_only");
        app.login(&card, &two)
            .await
            .expect(401, "invalid_credentials");
        let audited = app
            .audit_log()
            .await
            .into_iter()
            .filter(|e| e.entry.action == "reader.password_reset")
            .count();
        assert!(audited >= 2, "{}: {audited}", app.db);
        assert!(
            !notices(app, "password_reset").await.is_empty(),
            "{}",
            app.db
        );
    })
    .await;
}
