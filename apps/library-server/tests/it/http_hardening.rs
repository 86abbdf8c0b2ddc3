//! The HTTP listener against slow, idle and careless clients, and the headers every API
//! answer carries: the header and body deadlines, tokens only in the header, no query
//! string in the request log, and a clock at the end of time.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{TestApp, TestDb, on_every_backend, test_databases};

/// A server whose clients have 1 s for a request's headers and then 1 s for its body.
async fn with_one_second_deadline(db: TestDb) -> TestApp {
    TestApp::with_config(db, |c| c.http_read_timeout_secs = 1).await
}

fn host_port(app: &TestApp) -> String {
    app.url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

/// Reads until the server closes the connection (or `within` passes: `None`).
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok()
    .map(|()| all)
}

#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_deadline() {
    for db in test_databases().await {
        let app = with_one_second_deadline(db).await;
        let mut stream = TcpStream::connect(host_port(&app)).await.unwrap();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: library\r\nX-Slow: ")
            .await
            .unwrap();
        // Well within the 65 s the listener used to wait: closed after about 1 s.
        let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(
            answer.is_some(),
            "{}: a half-sent request still held open after 5 s",
            app.db
        );
        // A kept-alive connection that goes quiet is closed the same way.
        let mut idle = TcpStream::connect(host_port(&app)).await.unwrap();
        idle.write_all(b"GET /health HTTP/1.1\r\nHost: library\r\n\r\n")
            .await
            .unwrap();
        let answer = read_until_closed(&mut idle, Duration::from_secs(5))
            .await
            .expect("an idle kept-alive connection is closed");
        assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
        app.stop().await;
    }
}

#[tokio::test]
async fn a_body_sent_too_slowly_is_answered_408_and_nothing_is_done() {
    for db in test_databases().await {
        let app = with_one_second_deadline(db).await;
        let mut stream = TcpStream::connect(host_port(&app)).await.unwrap();
        let body = r#"{"card_number":"21000012345678","password":"Abcdef12"}"#;
        let head = format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: library\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&body.as_bytes()[..10]).await.unwrap();
        let answer = read_until_closed(&mut stream, Duration::from_secs(5))
            .await
            .expect("answered and closed within 5 s");
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 408"), "{}: {text}", app.db);
        assert!(text.contains(r#""code":"request_timeout""#), "{text}");
        app.stop().await;
    }
}

#[tokio::test]
async fn slow_clients_do_not_keep_others_out() {
    for db in test_databases().await {
        let app = with_one_second_deadline(db).await;
        let staff = app.staff_token().await;
        // 200 connections each sending its headers a byte at a time.
        let mut slow = Vec::new();
        for _ in 0..200 {
            let mut stream = TcpStream::connect(host_port(&app)).await.unwrap();
            stream.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
            slow.push(stream);
        }
        let drip = tokio::spawn(async move {
            let mut closed = 0;
            for _ in 0..4 {
                tokio::time::sleep(Duration::from_millis(500)).await;
                closed = 0;
                for stream in &mut slow {
                    if stream.write_all(b"X").await.is_err() {
                        closed += 1;
                    }
                }
            }
            // After the deadline the server has closed them: writes fail (or the next
            // read sees the end).
            let mut ended = 0;
            for stream in &mut slow {
                let mut buf = [0u8; 64];
                if matches!(
                    tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await,
                    Ok(Ok(0) | Err(_))
                ) {
                    ended += 1;
                }
            }
            (closed, ended)
        });
        // Meanwhile, ordinary requests are served.
        for _ in 0..20 {
            app.get("/api/v1/me", Some(&staff)).await;
            app.get("/health", None).await.expect(200, "");
        }
        let (_, ended) = drip.await.unwrap();
        assert_eq!(ended, 200, "{}: every slow connection was closed", app.db);
        app.stop().await;
    }
}

#[tokio::test]
async fn every_api_answer_is_no_store_nosniff_and_no_referrer() {
    on_every_backend(true, async |app: &TestApp| {
        let card = app.register("91234567", None).await;
        let client = reqwest::Client::new();
        let answers = [
            client
                .post(app.url("/api/v1/auth/login"))
                .json(&json!({"card_number": card, "password": "4567"}))
                .send()
                .await
                .unwrap(),
            client.get(app.url("/api/v1/me")).send().await.unwrap(),
            client.get(app.url("/api/v1/nowhere")).send().await.unwrap(),
            client
                .post(app.url("/api/v1/auth/login"))
                .body("{")
                .header("content-type", "application/json")
                .send()
                .await
                .unwrap(),
            client.get(app.url("/health")).send().await.unwrap(),
        ];
        for answer in answers {
            let h = answer.headers();
            let at = format!("{} {}", app.db, answer.url());
            assert_eq!(h["cache-control"], "no-store", "{at}");
            assert_eq!(h["x-content-type-options"], "nosniff", "{at}");
            assert_eq!(h["referrer-policy"], "no-referrer", "{at}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_token_is_accepted_only_in_the_authorization_header() {
    on_every_backend(true, async |app: &TestApp| {
        let (_, token) = app.full_reader("91234567", "Kowloon-Walk-42").await;
        let client = reqwest::Client::new();
        for path in [
            format!("/api/v1/me?access_token={token}"),
            format!("/api/v1/me?token={token}"),
        ] {
            let status = client.get(app.url(&path)).send().await.unwrap().status();
            assert_eq!(status, 401, "{}: {path}", app.db);
        }
        app.get("/api/v1/me", Some(&token)).await.expect(200, "");
    })
    .await;
}

#[tokio::test]
async fn a_clock_at_the_end_of_time_answers_without_failing() {
    on_every_backend(true, async |app: &TestApp| {
        let card = app.register("91234567", None).await;
        // Past the last year the clock accepts: refused with a clear code, never a 500.
        let refused = app
            .put(
                "/api/v1/dev/clock",
                None,
                json!({"now": "9999-12-31T23:59:59Z"}),
            )
            .await
            .expect(422, "validation_failed");
        assert_eq!(refused.violations(), ["now_out_of_range"]);
        // The last instant accepted: every period added to it is still a date.
        app.set_clock(time::macros::datetime!(9000-12-31 23:59:59 UTC))
            .await;
        let token = app.login(&card, "4567").await.expect(200, "").token();
        app.get("/api/v1/me/loans", Some(&token)).await;
        let staff = app.staff_token().await;
        app.get(&format!("/api/v1/patrons/{card}"), Some(&staff))
            .await
            .expect(200, "");
        for _ in 0..6 {
            let answer = app.login(&card, "0000").await;
            assert!(
                matches!(answer.status.as_u16(), 401 | 429),
                "{}: {}",
                app.db,
                answer.status
            );
        }
    })
    .await;
}
