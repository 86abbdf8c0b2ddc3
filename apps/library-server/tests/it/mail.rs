//! Mail that reaches readers, through a real SMTP server on loopback (`aiosmtpd`, from
//! PyPI: `pip install aiosmtpd`; `.ci/run` installs it), on every backend: the forgotten
//! Password's temporary password arrives at the reader's address and logs in; a copy put on
//! the hold shelf is announced in the reader's language; an SMTP server that is down is
//! retried until it is back; the temporary password does not stay in the outbox once sent.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{POSTGRES_URL_VAR, TestApp, TestDb, futures_join_all, hk, test_databases};
use serde_json::json;

/// An `aiosmtpd` server on a free loopback port, storing what it receives in a maildir.
pub(crate) struct SmtpServer {
    port: u16,
    maildir: PathBuf,
    child: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl SmtpServer {
    fn at(port: u16, maildir: PathBuf) -> SmtpServer {
        let mut server = SmtpServer {
            port,
            maildir,
            child: None,
        };
        server.start();
        server
    }

    pub(crate) fn new() -> SmtpServer {
        let maildir = std::env::temp_dir().join(format!(
            "library_maildir_{}_{}",
            std::process::id(),
            free_port()
        ));
        SmtpServer::at(free_port(), maildir)
    }

    pub(crate) fn start(&mut self) {
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs (aiosmtpd: `pip install aiosmtpd`)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "aiosmtpd did not start on port {} (is it installed? `pip install aiosmtpd`)",
            self.port
        );
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail received so far, as text.
    pub(crate) fn mails(&self) -> Vec<String> {
        let mut mails = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    mails.push(text);
                }
            }
        }
        mails
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

/// The body of a mail, its quoted-printable or base64 transfer encoding undone.
pub(crate) fn body(mail: &str) -> String {
    let (headers, body) = mail.split_once("\n\n").unwrap_or((mail, ""));
    if headers
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: base64")
    {
        let clean: String = body.split_whitespace().collect();
        return decode_base64(&clean);
    }
    if headers
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: quoted-printable")
    {
        return decode_quoted_printable(body);
    }
    body.to_owned()
}

fn decode_base64(text: &str) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_else(|e| panic!("not base64 ({e}): {text}"));
    String::from_utf8_lossy(&bytes).into_owned()
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The temporary password in a mail's body: the indented line after the greeting.
fn temporary_password(body: &str) -> String {
    body.lines()
        .find_map(|l| l.strip_prefix("    "))
        .map(|l| l.trim().to_owned())
        .unwrap_or_else(|| panic!("no temporary password in {body:?}"))
}

pub(crate) async fn app_with_smtp(database: TestDb, smtp: &SmtpServer) -> TestApp {
    let url = smtp.url();
    TestApp::with_config(database, |config| {
        config.smtp_url = Some(url);
        config.mail_from = "library@example.org".into();
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forgotten_password_arrives_by_mail_and_logs_in_once() {
    for database in test_databases().await {
        let smtp = SmtpServer::new();
        let app = app_with_smtp(database, &smtp).await;
        // 1 June 2021, 10:00 in Hong Kong.
        app.counter_on_1_june_2021().await;
        let card = app.register("9123 4567", Some("tm@example.com")).await;
        app.post(
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "tm@example.com"}),
        )
        .await
        .expect(202, "");
        assert!(
            smtp.mails().is_empty(),
            "{}: sent before the job ran",
            app.db
        );
        // While it waits, the row holds the temporary password sealed, never its text.
        let waiting = app
            .outbox()
            .await
            .into_iter()
            .find(|n| n.notification.kind == "credentials.temporary_password")
            .expect("the reset's row")
            .notification
            .payload;
        let fields: serde_json::Value = serde_json::from_str(&waiting).expect("JSON");
        assert!(
            fields["sealed_password"]
                .as_str()
                .is_some_and(|s| s.starts_with("v1:")),
            "{waiting}"
        );
        assert!(fields.get("temporary_password").is_none(), "{waiting}");
        app.run_jobs().await;
        let mails = smtp.mails();
        assert_eq!(mails.len(), 1, "{}: {mails:?}", app.db);
        let mail = &mails[0];
        assert!(mail.contains("To: tm@example.com"), "{mail}");
        assert!(mail.contains("From: library@example.org"), "{mail}");
        assert!(
            mail.contains("Subject: Your temporary library Password"),
            "{mail}"
        );
        let text = body(mail);
        // Valid for 24 hours, shown in Hong Kong time.
        assert!(
            text.contains("until 2021-06-02 10:00 (Hong Kong time)"),
            "{text}"
        );
        let password = temporary_password(&text);
        assert!(
            !waiting.contains(&password),
            "{}: the temporary password was stored in the clear: {waiting}",
            app.db
        );
        let session = app.login(&card, &password).await.expect(200, "");
        assert_eq!(session.body["scope"], "change_password_only", "{}", app.db);

        // Sent once: a second run sends nothing, and the secret is gone from the row.
        app.run_jobs().await;
        assert_eq!(smtp.mails().len(), 1, "{}", app.db);
        let rows = app.outbox().await;
        let reset = rows
            .iter()
            .find(|n| n.notification.kind == "credentials.temporary_password")
            .expect("the reset's row");
        assert!(reset.sent_at.is_some(), "{}", app.db);
        assert!(
            !reset.notification.payload.contains(&password),
            "{}: the temporary password stayed in the outbox: {}",
            app.db,
            reset.notification.payload
        );
        // An unknown address gets nothing, and the answer is the same.
        app.post(
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "nobody@example.com"}),
        )
        .await
        .expect(202, "");
        app.run_jobs().await;
        assert_eq!(smtp.mails().len(), 1, "{}", app.db);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hold_ready_for_pickup_is_announced_in_the_readers_language() {
    for database in test_databases().await {
        let smtp = SmtpServer::new();
        let app = app_with_smtp(database, &smtp).await;
        let staff = app.counter_on_1_june_2021().await;
        let title = app.title(&staff, "The Silent River").await;
        app.item(&staff, title, "M1", "CEN").await;
        // The reader reads Traditional Chinese, by email.
        let card = app.register("9876 5432", Some("reader@example.com")).await;
        let token = app.reader_session(&card, "9876 5432").await;
        app.put(
            "/api/v1/me/settings",
            Some(&token),
            json!({"email": "reader@example.com", "sms_number": null,
                   "notification_channels": ["email"], "language": "zh_hant",
                   "keep_reading_history": true}),
        )
        .await
        .expect(200, "");
        // The copy is on loan to another reader; the reader reserves the title; the copy
        // comes back and is trapped for them.
        let other = app.reader(&staff, "6123 0000").await;
        app.checkout(&staff, &other, "M1", "CEN")
            .await
            .expect(201, "");
        app.post(
            "/api/v1/me/holds",
            Some(&token),
            json!({"title_id": title, "pickup_library": "CEN"}),
        )
        .await
        .expect(201, "");
        app.checkin(&staff, "M1", "CEN", None).await.expect(200, "");
        app.run_jobs().await;
        // Two mails, both in Chinese: the Password change of `reader_session`, then the
        // hold.
        let mails = smtp.mails();
        assert_eq!(mails.len(), 2, "{}: {mails:?}", app.db);
        assert!(
            mails.iter().all(|m| m.contains("To: reader@example.com")),
            "{mails:?}"
        );
        let texts: Vec<String> = mails.iter().map(|m| body(m)).collect();
        assert!(
            texts.iter().any(|t| t.contains("您的圖書館帳戶密碼已更改")),
            "{}: {texts:?}",
            app.db
        );
        let text = texts
            .iter()
            .find(|t| t.contains("The Silent River"))
            .unwrap_or_else(|| panic!("{}: no hold mail in {texts:?}", app.db));
        assert!(
            text.contains("領取圖書館：CEN Library"),
            "{}: {text}",
            app.db
        );
        // The copy came back on 1 June: on the shelf for 3 days (the standard rules).
        assert!(
            text.contains("請於 2021-06-04 或之前領取"),
            "{}: {text}",
            app.db
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_is_retried_while_the_smtp_server_is_down_then_delivered_once() {
    for database in test_databases().await {
        let mut smtp = SmtpServer::new();
        smtp.stop();
        let app = app_with_smtp(database, &smtp).await;
        app.counter_on_1_june_2021().await;
        app.register("9123 4567", Some("tm@example.com")).await;
        app.post(
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "tm@example.com"}),
        )
        .await
        .expect(202, "");
        // Down: the attempt fails; the next waits 30 s, so a second run tries nothing.
        app.run_jobs().await;
        app.run_jobs().await;
        let row = |rows: Vec<library_persistence::Notification>| {
            rows.into_iter()
                .find(|n| n.notification.kind == "credentials.temporary_password")
                .expect("the reset's row")
        };
        assert!(row(app.outbox().await).sent_at.is_none(), "{}", app.db);
        // Back; 31 s later the retry delivers it, once.
        smtp.start();
        app.set_clock(hk("2021-06-01T10:00:31")).await;
        app.run_jobs().await;
        app.run_jobs().await;
        assert_eq!(smtp.mails().len(), 1, "{}", app.db);
        assert!(row(app.outbox().await).sent_at.is_some(), "{}", app.db);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_on_one_postgres_database_deliver_each_message_once() {
    // PostgreSQL only: SQLite is one process's file.
    let Ok(url) = std::env::var(POSTGRES_URL_VAR) else {
        return;
    };
    if url.is_empty() {
        return;
    }
    let smtp = SmtpServer::new();
    let first = app_with_smtp(TestDb::postgres(&url).await, &smtp).await;
    let smtp_url = smtp.url();
    let second = TestApp::with_config_at(first.database_url(), first.db, |config| {
        config.smtp_url = Some(smtp_url);
        config.mail_from = "library@example.org".into();
    })
    .await;
    first.counter_on_1_june_2021().await;
    // The two processes' clocks agree, as real clocks do (a lease is read on them).
    second.set_clock(hk("2021-06-01T10:00:00")).await;
    // Ten: one source may ask for at most ten temporary passwords an hour.
    const READERS: usize = 10;
    for n in 0..READERS {
        let email = format!("reader{n}@example.com");
        first.register(&format!("9125{n:04}"), Some(&email)).await;
        first
            .post("/api/v1/auth/password-reset", None, json!({"email": email}))
            .await
            .expect(202, "");
    }
    // Both deliver at once, three rounds each.
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(first.run_jobs());
        runs.push(second.run_jobs());
    }
    futures_join_all(runs).await;
    let mails = smtp.mails();
    let mut recipients: Vec<String> = mails
        .iter()
        .filter_map(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("To: "))
                .map(str::to_owned)
        })
        .collect();
    recipients.sort();
    let mut distinct = recipients.clone();
    distinct.dedup();
    assert_eq!(mails.len(), READERS, "{recipients:?}");
    assert_eq!(distinct.len(), READERS, "{recipients:?}");
    let unsent = first
        .outbox()
        .await
        .into_iter()
        .filter(|n| n.sent_at.is_none())
        .count();
    assert_eq!(unsent, 0);
    second.stop().await;
    first.stop().await;
}
