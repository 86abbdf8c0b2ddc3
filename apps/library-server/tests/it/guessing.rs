//! Guessing, end to end on every backend, with real client sources: each test binds its
//! clients to their own loopback address (127.0.0.N), which the server sees as the
//! attempt's source (docs/credentials.md, Guessing).

use std::net::{IpAddr, Ipv4Addr};

use serde_json::{Value, json};
use time::Duration;

use crate::sip2::{Raw, STATION, STATION_PASSWORD, fixture, sip2_addr};
use crate::support::{ADMIN_PASSWORD, TestApp, hk, on_every_backend, on_every_backend_with};

/// 127.0.0.`n`.
fn source(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// A POST from 127.0.0.`n`: the status, the `Retry-After` header (seconds) and the body.
async fn post_from(app: &TestApp, n: u8, path: &str, body: Value) -> (u16, Option<u64>, Value) {
    let client = reqwest::Client::builder()
        .local_address(source(n))
        .build()
        .expect("a client");
    let resp = client
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .expect("request sent");
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, retry_after, body)
}

fn staff_login(password: &str) -> Value {
    json!({"username": "admin", "password": password})
}

fn reader_login(card: &str, password: &str) -> Value {
    json!({"card_number": card, "password": password})
}

fn pin_login(card: &str, pin: &str) -> Value {
    json!({"card_number": card, "pin": pin})
}

const START: &str = "2021-06-01T10:00:00";

/// `failures` wrong guesses from 127.0.0.`n`, each 16 minutes after the last (past any
/// delay, so each one is counted); the clock at the last.
async fn guess_spaced_out(
    app: &TestApp,
    n: u8,
    path: &str,
    body: &Value,
    failures: u32,
) -> time::OffsetDateTime {
    let mut now = hk(START);
    for attempt in 1..=failures {
        now += Duration::minutes(16);
        app.set_clock(now).await;
        let (status, ..) = post_from(app, n, path, body.clone()).await;
        assert_eq!(status, 401, "{}: failure {attempt}", app.db);
    }
    now
}

#[tokio::test]
async fn a_stranger_cannot_lock_out_a_staff_user() {
    on_every_backend(true, async |app: &TestApp| {
        let path = "/api/v1/staff/login";
        guess_spaced_out(app, 2, path, &staff_login("Wrong-Guess-2026"), 14).await;
        // The stranger waits 512 s (the 14th failure of his pair), whatever he sends...
        let (status, retry_after, body) =
            post_from(app, 2, path, staff_login(ADMIN_PASSWORD)).await;
        assert_eq!(
            (status, retry_after),
            (429, Some(512)),
            "{}: {body}",
            app.db
        );
        assert_eq!(body["code"], "too_many_attempts");
        // ...and the owner, from another address, is not delayed at all.
        let (status, _, body) = post_from(app, 3, path, staff_login(ADMIN_PASSWORD)).await;
        assert_eq!(status, 200, "{}: {body}", app.db);
        // Nor is the owner after one more of the stranger's failures.
        app.set_clock(hk(START) + Duration::hours(6)).await;
        let (status, ..) = post_from(app, 2, path, staff_login("Wrong-Guess-2026")).await;
        assert_eq!(status, 401);
        let (status, ..) = post_from(app, 3, path, staff_login(ADMIN_PASSWORD)).await;
        assert_eq!(status, 200, "{}", app.db);
    })
    .await;
}

#[tokio::test]
async fn a_stranger_cannot_lock_out_a_reader() {
    on_every_backend(true, async |app: &TestApp| {
        app.set_clock(hk(START)).await;
        let card = app.register("91234567", None).await;
        let path = "/api/v1/auth/login";
        guess_spaced_out(app, 2, path, &reader_login(&card, "Wrong1234"), 14).await;
        let (status, retry_after, _) = post_from(app, 2, path, reader_login(&card, "4567")).await;
        assert_eq!((status, retry_after), (429, Some(512)), "{}", app.db);
        let (status, _, body) = post_from(app, 3, path, reader_login(&card, "4567")).await;
        assert_eq!(status, 200, "{}: {body}", app.db);
        // The PIN too: four wrong PINs from the stranger, the owner's PIN from elsewhere.
        let path = "/api/v1/auth/pin-login";
        for _ in 0..5 {
            post_from(app, 2, path, pin_login(&card, "0000")).await;
        }
        let (status, retry_after, _) = post_from(app, 2, path, pin_login(&card, "4567")).await;
        assert_eq!((status, retry_after), (429, Some(1)), "{}", app.db);
        let (status, ..) = post_from(app, 3, path, pin_login(&card, "4567")).await;
        assert_eq!(status, 200, "{}", app.db);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_cannot_lock_out_a_sip2_station() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        fixture(app).await;
        let addr = sip2_addr(app);
        let mut now = hk(START);
        let mut failures = 0;
        // Three wrong logins close a connection: the stranger reconnects.
        while failures < 14 {
            let mut stranger = Raw::connect_from_ip(addr, source(2)).await;
            for _ in 0..3 {
                if failures == 14 {
                    break;
                }
                now += Duration::minutes(16);
                app.set_clock(now).await;
                assert_eq!(stranger.login(STATION, "wrong-password-1").await, "940");
                failures += 1;
            }
        }
        // The stranger's own address is delayed: the right password is refused there...
        let mut stranger = Raw::connect_from_ip(addr, source(2)).await;
        assert_eq!(stranger.login(STATION, STATION_PASSWORD).await, "940");
        // ...and the station, from its own address, logs in at once.
        let mut station = Raw::connect_from_ip(addr, source(3)).await;
        assert_eq!(
            station.login(STATION, STATION_PASSWORD).await,
            "941",
            "{}",
            app.db
        );
    })
    .await;
}

#[tokio::test]
async fn a_distributed_guesser_is_delayed_account_wide() {
    on_every_backend(true, async |app: &TestApp| {
        app.set_clock(hk(START)).await;
        let card = app.register("91234567", None).await;
        let path = "/api/v1/auth/login";
        // The owner's own address: it verified today, so it is known.
        let (status, ..) = post_from(app, 10, path, reader_login(&card, "4567")).await;
        assert_eq!(status, 200);
        // 19 failures from five addresses (at most four each: no address is delayed)...
        for i in 0..19 {
            let (status, ..) =
                post_from(app, 20 + i % 5, path, reader_login(&card, "Wrong1234")).await;
            assert_eq!(status, 401, "{}: failure {}", app.db, i + 1);
        }
        // ...do not delay the account; a fresh address still gets its answer.
        let (status, ..) = post_from(app, 30, path, reader_login(&card, "Wrong1234")).await;
        assert_eq!(status, 401, "{}: the 20th failure", app.db);
        // The 20th, from three or more addresses, did: 2 s for an address not known...
        let (status, retry_after, body) =
            post_from(app, 31, path, reader_login(&card, "4567")).await;
        assert_eq!((status, retry_after), (429, Some(2)), "{}: {body}", app.db);
        assert_eq!(body["code"], "too_many_attempts");
        // ...while the owner's known address gets in.
        let (status, ..) = post_from(app, 10, path, reader_login(&card, "4567")).await;
        assert_eq!(status, 200, "{}", app.db);
        // Its success cleared the account-wide count: the fresh address gets in too.
        let (status, ..) = post_from(app, 31, path, reader_login(&card, "4567")).await;
        assert_eq!(status, 200, "{}", app.db);
    })
    .await;
}

#[tokio::test]
async fn staff_see_and_lift_a_pin_lock() {
    on_every_backend(true, async |app: &TestApp| {
        app.set_clock(hk(START)).await;
        let admin = app.staff_token().await;
        let card = app.register("91234567", None).await;
        let record = format!("/api/v1/patrons/{card}");
        assert_eq!(
            app.get(&record, Some(&admin)).await.body["pin_locked"],
            false
        );
        // Ten wrong PINs from ten addresses: none is delayed, the tenth disables the PIN.
        for n in 1..=10 {
            let (status, ..) = post_from(
                app,
                40 + n,
                "/api/v1/auth/pin-login",
                pin_login(&card, "0000"),
            )
            .await;
            assert_eq!(status, 401, "{}: failure {n}", app.db);
            let locked =
                app.get(&record, Some(&admin)).await.expect(200, "").body["pin_locked"].clone();
            assert_eq!(locked, n == 10, "{}: after failure {n}", app.db);
        }
        app.pin_login(&card, "4567")
            .await
            .expect(401, "invalid_credentials");
        // A librarian lifts it; the PIN works again as it was.
        app.post(
            "/api/v1/staff/users",
            Some(&admin),
            json!({"username": "clerk", "password": "Counter-Desk-2026", "role": "librarian"}),
        )
        .await
        .expect(201, "");
        let librarian = app
            .post(
                "/api/v1/staff/login",
                None,
                json!({"username": "clerk", "password": "Counter-Desk-2026"}),
            )
            .await
            .expect(200, "")
            .token();
        app.delete(&format!("{record}/pin-lock"), Some(&librarian))
            .await
            .expect(204, "");
        assert_eq!(
            app.get(&record, Some(&admin)).await.body["pin_locked"],
            false
        );
        app.pin_login(&card, "4567").await.expect(200, "");
        // Audited; lifting again changes nothing; an unknown card is 404; readers may not.
        let entries = app.audit_log().await;
        let lifted = entries
            .iter()
            .find(|e| e.entry.action == "reader.pin_unlock")
            .expect("audited");
        assert_eq!(lifted.entry.subject, format!("card:{card}"));
        app.delete(&format!("{record}/pin-lock"), Some(&admin))
            .await
            .expect(204, "");
        app.delete("/api/v1/patrons/21999999999999/pin-lock", Some(&admin))
            .await
            .expect(404, "not_found");
        let reader = app.login(&card, "4567").await.expect(200, "").token();
        let refused = app
            .delete(&format!("{record}/pin-lock"), Some(&reader))
            .await;
        assert!(matches!(refused.status.as_u16(), 401 | 403), "{refused:?}");
    })
    .await;
}
