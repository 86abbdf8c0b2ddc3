//! The reminders about due dates and the messages readers can see, on every backend, with
//! the development clock and a real SMTP server (`aiosmtpd`): the due reminder on due−3,
//! the overdue alert on due+1 and the first overdue notice on due+11, each exactly once, in
//! the reader's language, naming the title, the library, the due date and the fine in HK$;
//! a loan returned before its day gets none; a renewal moves them. SMS through a gateway:
//! a local HTTP endpoint that records the form it receives. The preview of a day's volume,
//! and the sent messages as the reader and staff see them.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::mail::{SmtpServer, app_with_smtp, body};
use crate::support::{TestApp, hk, test_databases};

/// The mails received whose body contains `needle`.
fn mails_with(smtp: &SmtpServer, needle: &str) -> Vec<String> {
    smtp.mails()
        .iter()
        .map(|m| body(m))
        .filter(|b| b.contains(needle))
        .collect()
}

/// The reminder kinds' counts of a preview.
fn preview_counts(answer: &Value) -> Vec<(String, u64)> {
    answer["reminders"]
        .as_array()
        .expect("reminders")
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().expect("kind").to_owned(),
                r["count"].as_u64().expect("count"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn reminders_arrive_once_each_on_their_day_in_the_readers_language() {
    for database in test_databases().await {
        let smtp = SmtpServer::new();
        let app = app_with_smtp(database, &smtp).await;
        // 1 June 2021, 10:00 in Hong Kong; 14-day loans (due Tuesday 15 June), HK$1.50 a
        // day, no closed days.
        let staff = app.counter_on_1_june_2021().await;
        let title = app.title(&staff, "Harbour Tales").await;
        for barcode in ["H1", "H2", "H3", "H4"] {
            app.item(&staff, title, barcode, "CEN").await;
        }
        let english = app.register("9123 4567", Some("en@example.com")).await;
        // The reader's first Password change (a notice of its own, the oldest).
        app.reader_session(&english, "9123 4567").await;
        let chinese = app.register("9876 5432", Some("zh@example.com")).await;
        let token = app.reader_session(&chinese, "9876 5432").await;
        app.put(
            "/api/v1/me/settings",
            Some(&token),
            json!({"email": "zh@example.com", "sms_number": null,
                   "notification_channels": ["email"], "language": "zh_hant",
                   "keep_reading_history": true}),
        )
        .await
        .expect(200, "");
        app.checkout(&staff, &english, "H1", "CEN")
            .await
            .expect(201, "");
        app.checkout(&staff, &chinese, "H2", "CEN")
            .await
            .expect(201, "");
        app.checkout(&staff, &english, "H3", "CEN")
            .await
            .expect(201, "");
        let renewed = app
            .checkout(&staff, &english, "H4", "CEN")
            .await
            .expect(201, "")
            .body["loan_id"]
            .as_i64()
            .expect("loan id");

        // The preview sees the four loans' due reminders on 12 June, their first overdue
        // notices on 26 June (and on any later day), nothing on 11 June.
        let preview = |date: &'static str| {
            let app = &app;
            let staff = &staff;
            async move {
                app.get(
                    &format!("/api/v1/notices/outbox/preview?date={date}"),
                    Some(staff),
                )
                .await
                .expect(200, "")
                .body
            }
        };
        let on_12 = preview("2021-06-12").await;
        assert_eq!(
            preview_counts(&on_12),
            [
                ("loan.due_soon".to_owned(), 4),
                ("loan.overdue_alert".to_owned(), 0),
                ("loan.overdue_notice".to_owned(), 0)
            ],
            "{}: {on_12}",
            app.db
        );
        assert_eq!(on_12["date"], "2021-06-12");
        assert_eq!(
            on_12["total"].as_u64(),
            Some(4 + on_12["waiting"].as_u64().unwrap())
        );
        assert!(
            preview_counts(&preview("2021-06-11").await)
                .iter()
                .all(|(_, n)| *n == 0),
            "{}",
            app.db
        );
        assert_eq!(
            preview_counts(&preview("2021-07-26").await)[2],
            ("loan.overdue_notice".to_owned(), 4),
            "{}",
            app.db
        );
        // Bad input: a date that is not one.
        let bad = app
            .get(
                "/api/v1/notices/outbox/preview?date=2021-02-30",
                Some(&staff),
            )
            .await;
        assert_eq!(bad.status, 400, "{}: {}", app.db, bad.body);

        // H3 comes back on 5 June; H4 is renewed on 10 June (due 24 June).
        app.set_clock(hk("2021-06-05T11:00:00")).await;
        let staff = app.staff_token().await;
        app.checkin(&staff, "H3", "CEN", None).await.expect(200, "");
        app.set_clock(hk("2021-06-10T11:00:00")).await;
        let staff = app.staff_token().await;
        let renewal = app
            .post(
                &format!("/api/v1/circulation/loans/{renewed}/renewal"),
                Some(&staff),
                json!({}),
            )
            .await
            .expect(200, "");
        assert_eq!(
            renewal.body["due_at"].as_str().map(|d| &d[..10]),
            Some("2021-06-24"),
            "{}: {}",
            app.db,
            renewal.body
        );

        // 11 June (due−4): nothing yet.
        app.set_clock(hk("2021-06-11T09:00:00")).await;
        app.run_jobs().await;
        assert!(mails_with(&smtp, "Harbour Tales").is_empty(), "{}", app.db);
        assert!(mails_with(&smtp, "海港").is_empty(), "{}", app.db);

        // 12 June (due−3), early morning: one due reminder per open loan due 15 June, in
        // the reader's language; none for the returned H3 nor the renewed H4.
        app.set_clock(hk("2021-06-12T00:05:00")).await;
        app.run_jobs().await;
        let due_soon = mails_with(&smtp, "is due on 2021-06-15");
        assert_eq!(due_soon.len(), 1, "{}: {due_soon:?}", app.db);
        assert!(
            due_soon[0].contains(
                "This item you borrowed from CEN Library is due on 2021-06-15:\n\n    \
                 Harbour Tales (H1)"
            ),
            "{}: {}",
            app.db,
            due_soon[0]
        );
        let zh_due = mails_with(&smtp, "將於 2021-06-15 到期");
        assert_eq!(zh_due.len(), 1, "{}: {zh_due:?}", app.db);
        assert!(
            zh_due[0].contains("Harbour Tales（H2）"),
            "{}: {}",
            app.db,
            zh_due[0]
        );
        assert!(mails_with(&smtp, "(H3)").is_empty(), "{}", app.db);
        assert!(mails_with(&smtp, "(H4)").is_empty(), "{}", app.db);
        // A rerun the same day, and the next day, queue nothing again.
        app.run_jobs().await;
        app.set_clock(hk("2021-06-13T09:00:00")).await;
        app.run_jobs().await;
        assert_eq!(
            mails_with(&smtp, "2021-06-15").len(),
            2,
            "{}: sent twice",
            app.db
        );

        // 16 June (due+1): the overdue alert, with one day's fine.
        app.set_clock(hk("2021-06-16T08:00:00")).await;
        app.run_jobs().await;
        let alerts = mails_with(&smtp, "and is 1 day overdue");
        assert_eq!(alerts.len(), 1, "{}: {alerts:?}", app.db);
        assert!(
            alerts[0].contains("The fine so far is HK$1.50;"),
            "{}: {}",
            app.db,
            alerts[0]
        );
        let zh_alerts = mails_with(&smtp, "現已逾期 1 天");
        assert_eq!(zh_alerts.len(), 1, "{}: {zh_alerts:?}", app.db);
        assert!(
            zh_alerts[0].contains("至今罰款為 HK$1.50"),
            "{}",
            zh_alerts[0]
        );

        // 21 June: the renewed loan's due reminder, for its new due date.
        app.set_clock(hk("2021-06-21T08:00:00")).await;
        app.run_jobs().await;
        let renewed_due = mails_with(&smtp, "is due on 2021-06-24");
        assert_eq!(renewed_due.len(), 1, "{}: {renewed_due:?}", app.db);
        assert!(renewed_due[0].contains("(H4)"), "{}", renewed_due[0]);

        // 26 June (due+11): the first overdue notice, 11 days at HK$1.50.
        app.set_clock(hk("2021-06-26T08:00:00")).await;
        app.run_jobs().await;
        app.run_jobs().await;
        let notices = mails_with(&smtp, "This is the first overdue notice");
        assert_eq!(notices.len(), 1, "{}: {notices:?}", app.db);
        assert!(
            notices[0].contains("due on 2021-06-15 and is 11 days overdue")
                && notices[0].contains("The fine so far is HK$16.50;"),
            "{}: {}",
            app.db,
            notices[0]
        );
        let zh_notices = mails_with(&smtp, "此為首次逾期通知");
        assert_eq!(zh_notices.len(), 1, "{}: {zh_notices:?}", app.db);
        assert!(
            zh_notices[0].contains("現已逾期 11 天") && zh_notices[0].contains("HK$16.50"),
            "{}",
            zh_notices[0]
        );
        // H4, due 24 June, is 2 days overdue: its alert.
        assert_eq!(
            mails_with(&smtp, "due on 2021-06-24 and is 2 days overdue").len(),
            1,
            "{}",
            app.db
        );

        // What was sent, as the reader sees it (newest first, without the text) and as
        // staff see it.
        let english_token = app.relogin(&english).await;
        let mine = app
            .get("/api/v1/me/notices/sent?limit=100", Some(&english_token))
            .await
            .expect(200, "");
        let kinds: Vec<&str> = mine.body["notices"]
            .as_array()
            .expect("notices")
            .iter()
            .map(|n| n["kind"].as_str().expect("kind"))
            .collect();
        assert_eq!(
            kinds,
            [
                "loan.overdue_notice",
                "loan.overdue_alert",
                "loan.due_soon",
                "loan.overdue_alert",
                "loan.due_soon",
                "credentials.password_changed"
            ],
            "{}: {}",
            app.db,
            mine.body
        );
        let first = &mine.body["notices"][4];
        assert_eq!(first["kind"], "loan.due_soon", "{first}");
        assert_eq!(first["status"], "sent", "{first}");
        assert_eq!(first["channels"], json!(["email"]), "{first}");
        assert!(first["sent_at"].is_string(), "{first}");
        assert!(first.get("payload").is_none(), "{first}");
        let staff = app.staff_token().await;
        let staff_view = app
            .get(&format!("/api/v1/patrons/{english}/notices"), Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(staff_view.body["total"], mine.body["total"], "{}", app.db);
        app.get("/api/v1/patrons/29999999999999/notices", Some(&staff))
            .await
            .expect(404, "not_found");
        app.get("/api/v1/me/notices/sent?limit=0", Some(&english_token))
            .await
            .expect(422, "validation_failed");
        app.stop().await;
    }
}

/// A local SMS gateway: answers each form POST with `status` and records what it got.
struct Gateway {
    url: String,
    received: Arc<Mutex<Vec<(String, String)>>>,
    status: Arc<Mutex<u16>>,
}

impl Gateway {
    async fn start() -> Gateway {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/send", listener.local_addr().expect("addr"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(Mutex::new(200));
        let (got, answer) = (received.clone(), status.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (got, answer) = (got.clone(), answer.clone());
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    // Headers, then as many bytes as Content-Length says.
                    loop {
                        let Ok(n) = socket.read(&mut buf).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        request.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&request).into_owned();
                        if let Some((head, body)) = text.split_once("\r\n\r\n") {
                            let length = head
                                .lines()
                                .find_map(|l| {
                                    l.to_ascii_lowercase()
                                        .strip_prefix("content-length:")
                                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                                })
                                .unwrap_or(0);
                            if body.len() >= length {
                                got.lock().unwrap().push((head.to_owned(), body.to_owned()));
                                break;
                            }
                        }
                    }
                    let status = *answer.lock().unwrap();
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                    let _ = socket.write_all(reply.as_bytes()).await;
                });
            }
        });
        Gateway {
            url,
            received,
            status,
        }
    }

    fn set_status(&self, status: u16) {
        *self.status.lock().unwrap() = status;
    }

    /// The forms received so far: (headers, body).
    fn received(&self) -> Vec<(String, String)> {
        self.received.lock().unwrap().clone()
    }
}

/// `application/x-www-form-urlencoded` decoded.
fn form(body: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).expect("UTF-8")
    };
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_sms_reader_is_told_through_the_gateway_retried_while_it_fails() {
    for database in test_databases().await {
        let gateway = Gateway::start().await;
        let url = gateway.url.clone();
        let app = TestApp::with_config(database, |config| {
            config.sms_url = Some(url);
            config.sms_token = Some("gateway-token-1".into());
            config.sms_from = Some("HKPL".into());
        })
        .await;
        let staff = app.counter_on_1_june_2021().await;
        let title = app.title(&staff, "The Silent River").await;
        app.item(&staff, title, "S1", "CEN").await;
        // The reader is told by SMS only; another reader chose no channel at all.
        let card = app.register("9123 4567", Some("sms@example.com")).await;
        let token = app.reader_session(&card, "9123 4567").await;
        app.put(
            "/api/v1/me/settings",
            Some(&token),
            json!({"email": "sms@example.com", "sms_number": "+852 9123 4567",
                   "notification_channels": ["sms"], "language": "en",
                   "keep_reading_history": true}),
        )
        .await
        .expect(200, "");
        let silent = app.register("6123 9999", None).await;
        app.reader_session(&silent, "6123 9999").await;
        // The gateway is down: the Password-change notices are retried.
        gateway.set_status(503);
        app.checkout(&staff, &card, "S1", "CEN")
            .await
            .expect(201, "");
        app.run_jobs().await;
        let sent = app
            .get("/api/v1/me/notices/sent", Some(&token))
            .await
            .expect(200, "");
        let newest = &sent.body["notices"][0];
        assert_eq!(
            newest["kind"], "credentials.password_changed",
            "{}",
            sent.body
        );
        assert_eq!(newest["status"], "retrying", "{}: {newest}", app.db);
        assert_eq!(newest["attempts"], 1, "{newest}");
        assert!(
            newest["reason"].as_str().is_some_and(|r| r.contains("503")),
            "{newest}"
        );
        assert_eq!(newest["channels"], json!([]), "{newest}");
        // Back up; 12 June, the due reminder: both go through, once each.
        gateway.set_status(200);
        app.set_clock(hk("2021-06-12T09:00:00")).await;
        app.run_jobs().await;
        app.run_jobs().await;
        // A day later: new sessions.
        let token = app.relogin(&card).await;
        let silent_token = app.relogin(&silent).await;
        let all = gateway.received();
        let texts: Vec<String> = all
            .iter()
            .map(|(_, body)| {
                form(body)
                    .into_iter()
                    .find(|(k, _)| k == "text")
                    .map(|(_, v)| v)
                    .unwrap_or_default()
            })
            .collect();
        let reminder: Vec<&(String, String)> = all
            .iter()
            .filter(|(_, body)| form(body).iter().any(|(_, v)| v.contains("is due on")))
            .collect();
        assert_eq!(reminder.len(), 1, "{}: {texts:?}", app.db);
        let (head, body) = reminder[0];
        assert!(
            head.starts_with("POST /send HTTP/1.1"),
            "{}: {head}",
            app.db
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("authorization: bearer gateway-token-1"),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/x-www-form-urlencoded"),
            "{head}"
        );
        let fields = form(body);
        assert!(
            // As typed in the settings: "+852 9123 4567".
            fields.contains(&("to".to_owned(), "+85291234567".to_owned())),
            "{fields:?}"
        );
        assert!(
            fields.contains(&("from".to_owned(), "HKPL".to_owned())),
            "{fields:?}"
        );
        assert!(
            fields.contains(&(
                "text".to_owned(),
                "HK Public Libraries: \"The Silent River\" is due on 2021-06-15. Return or \
                 renew it by then."
                    .to_owned()
            )),
            "{fields:?}"
        );
        // The Password change was tried while the gateway answered 503, then sent once it
        // was back: two requests; shown sent by SMS.
        let changed = texts
            .iter()
            .filter(|t| t.contains("your Password was changed"))
            .count();
        assert_eq!(changed, 2, "{}: {texts:?}", app.db);
        let sent = app
            .get("/api/v1/me/notices/sent", Some(&token))
            .await
            .expect(200, "");
        for notice in sent.body["notices"].as_array().expect("notices") {
            assert_eq!(notice["status"], "sent", "{}: {notice}", app.db);
            assert_eq!(notice["channels"], json!(["sms"]), "{notice}");
        }
        // The reader without a channel: not sent, and the row says why.
        let theirs = app
            .get("/api/v1/me/notices/sent", Some(&silent_token))
            .await
            .expect(200, "");
        let notice = &theirs.body["notices"][0];
        assert_eq!(notice["status"], "not_sent", "{}: {notice}", app.db);
        assert!(
            notice["reason"]
                .as_str()
                .is_some_and(|r| r.contains("neither email nor SMS")),
            "{notice}"
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reminder_for_a_loan_returned_while_it_waited_is_not_sent() {
    for database in test_databases().await {
        let mut smtp = SmtpServer::new();
        let app = app_with_smtp(database, &smtp).await;
        let staff = app.counter_on_1_june_2021().await;
        let title = app.title(&staff, "Harbour Tales").await;
        app.item(&staff, title, "R1", "CEN").await;
        let card = app.register("9123 4567", Some("en@example.com")).await;
        app.checkout(&staff, &card, "R1", "CEN")
            .await
            .expect(201, "");
        // 12 June (due−3): queued, but the SMTP server is down.
        smtp.stop();
        app.set_clock(hk("2021-06-12T09:00:00")).await;
        app.run_jobs().await;
        let reminder = |rows: Vec<library_persistence::Notification>| {
            rows.into_iter()
                .find(|n| n.notification.kind == "loan.due_soon")
                .expect("the reminder's row")
        };
        assert!(reminder(app.outbox().await).sent_at.is_none(), "{}", app.db);
        // The copy comes back before the retry; the server is up again.
        let staff = app.staff_token().await;
        app.checkin(&staff, "R1", "CEN", None).await.expect(200, "");
        smtp.start();
        app.set_clock(hk("2021-06-12T09:05:00")).await;
        app.run_jobs().await;
        assert!(
            mails_with(&smtp, "Harbour Tales").is_empty(),
            "{}: sent for a returned loan",
            app.db
        );
        let token = app.reader_session(&card, "9123 4567").await;
        let sent = app
            .get("/api/v1/me/notices/sent", Some(&token))
            .await
            .expect(200, "");
        let row = sent.body["notices"]
            .as_array()
            .expect("notices")
            .iter()
            .find(|n| n["kind"] == "loan.due_soon")
            .cloned()
            .expect("the reminder");
        assert_eq!(row["status"], "not_sent", "{}: {row}", app.db);
        assert!(
            row["reason"]
                .as_str()
                .is_some_and(|r| r.contains("returned or renewed")),
            "{row}"
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_running_the_reminders_at_once_queue_each_once() {
    // PostgreSQL only: SQLite is one process's file.
    let Ok(url) = std::env::var(crate::support::POSTGRES_URL_VAR) else {
        return;
    };
    if url.is_empty() {
        return;
    }
    let smtp = SmtpServer::new();
    let first = app_with_smtp(crate::support::TestDb::postgres(&url).await, &smtp).await;
    let smtp_url = smtp.url();
    let second = TestApp::with_config_at(first.database_url(), first.db, |config| {
        config.smtp_url = Some(smtp_url);
        config.mail_from = "library@example.org".into();
    })
    .await;
    let staff = first.counter_on_1_june_2021().await;
    second.set_clock(hk("2021-06-01T10:00:00")).await;
    let title = first.title(&staff, "Harbour Tales").await;
    const LOANS: usize = 12;
    for n in 0..LOANS {
        let barcode = format!("P{n}");
        first.item(&staff, title, &barcode, "CEN").await;
        let card = first
            .register(&format!("9126{n:04}"), Some(&format!("r{n}@example.com")))
            .await;
        first
            .checkout(&staff, &card, &barcode, "CEN")
            .await
            .expect(201, "");
    }
    // 12 June (due−3) on both; each runs the jobs three times, all at once.
    first.set_clock(hk("2021-06-12T09:00:00")).await;
    second.set_clock(hk("2021-06-12T09:00:00")).await;
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(first.run_jobs());
        runs.push(second.run_jobs());
    }
    crate::support::futures_join_all(runs).await;
    first.run_jobs().await;
    let reminders = mails_with(&smtp, "is due on 2021-06-15");
    assert_eq!(reminders.len(), LOANS, "{reminders:?}");
    let queued = first
        .outbox()
        .await
        .into_iter()
        .filter(|n| n.notification.kind == "loan.due_soon")
        .count();
    assert_eq!(queued, LOANS);
    first.stop().await;
    second.stop().await;
}
