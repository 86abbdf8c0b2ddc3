//! The outbox sender's delivery rate: messages per second from the outbox to a real SMTP
//! server on loopback (`aiosmtpd` with its discarding handler, from PyPI), on SQLite (a
//! temporary file) and on PostgreSQL (a database of its own; only when
//! `LIBRARY_TEST_POSTGRES_URL` is set).
//!
//! Each round queues 300 "ready for pickup" messages for the demo data's two readers with an
//! email, then times one run of the sender (claim in batches, the reader's settings and the
//! title read, the template rendered, the mail sent over SMTP, the row marked sent; 8
//! messages in flight); and in the same round, the same number of the same mails sent
//! straight through the SMTP adapter, one after another. The ratio of the two is what the
//! outbox and its concurrency give over bare sequential SMTP. Three alternated rounds, so
//! that drift in the shared machine's speed affects both halves alike.
//!
//! Figures only, no pass/fail.
//!
//! `CARGO_TARGET_DIR=/work/target-bench LIBRARY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p library-server --bench delivery`

// A benchmark reports on stdout.
#![allow(clippy::print_stdout)]
// Rates and ratios are floating-point figures, not money or dates.
#![allow(clippy::float_arithmetic)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use library_app::{DeliveryPolicy, MailTransport, OutgoingMail, SecretBox, Sender, Services, kind};
use library_core::{CardNumber, Clock, SystemClock};
use library_mail::{LogSms, SmtpMail};
use library_persistence::{Database, NewNotification};
use library_setup::demo::{self, DemoOutcome};
use library_setup::wiring::{credential_service, services};
use sea_orm::ConnectionTrait;

const POSTGRES_URL_VAR: &str = "LIBRARY_TEST_POSTGRES_URL";
const MESSAGES: usize = 300;
const ROUNDS: usize = 3;

/// `aiosmtpd` discarding what it receives, on a free loopback port.
struct Smtp {
    port: u16,
    child: Child,
}

impl Smtp {
    fn start() -> Smtp {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Sink"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs (aiosmtpd: `pip install aiosmtpd`)");
        // Dropped (killed and waited for) on every path from here.
        let smtp = Smtp { port, child };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return smtp;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("aiosmtpd did not start (`pip install aiosmtpd`)");
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh database at a URL of its own; the PostgreSQL one is dropped afterwards.
async fn fresh(label: &str) -> Option<(String, Option<(String, String)>)> {
    match label {
        "sqlite" => {
            let path = std::env::temp_dir()
                .join(format!("library_delivery_bench_{}.db", std::process::id()));
            let _ = std::fs::remove_file(&path);
            Some((format!("sqlite://{}?mode=rwc", path.display()), None))
        }
        _ => {
            let admin = std::env::var(POSTGRES_URL_VAR).ok()?;
            let name = format!("library_delivery_bench_{}", std::process::id());
            let admin_db = sea_orm::Database::connect(&admin).await.expect("postgres");
            admin_db
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create");
            admin_db.close().await.ok();
            let (base, _) = admin.rsplit_once('/').expect("a database URL");
            Some((format!("{base}/{name}"), Some((admin, name))))
        }
    }
}

async fn bench(label: &str, smtp: &Smtp) {
    let Some((url, drop_after)) = fresh(label).await else {
        println!("delivery/{label}: skipped ({POSTGRES_URL_VAR} unset)");
        return;
    };
    let db = Database::connect(&url).await.expect("database");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let DemoOutcome::Loaded(summary) = demo::load(&db, clock.now()).await.expect("demo") else {
        panic!("the fresh database was not empty");
    };
    let secrets = SecretBox::new(SecretBox::generate_key().expect("key"));
    let metrics = Arc::new(library_app::Metrics::new());
    let credentials = credential_service(&db, secrets.clone(), clock.clone(), &metrics);
    let services: Services = services(&db, credentials, clock.clone(), None, metrics);
    let mut readers = Vec::new();
    for reader in summary.readers.iter().filter(|r| r.email.is_some()) {
        let card = CardNumber::parse(&reader.card_number).expect("card");
        let id = services
            .readers
            .find_by_card(&card)
            .await
            .expect("read")
            .expect("the demo reader");
        readers.push((id, reader.email.clone().expect("email")));
    }
    let library = summary.libraries[0].clone();
    let smtp_mail: Arc<dyn MailTransport> =
        Arc::new(SmtpMail::new(&smtp.url(), "library@example.org").expect("smtp"));
    let sender = Sender::new(
        services.clone(),
        Arc::new(library_persistence::application::DbOutbox::new(&db)),
        smtp_mail.clone(),
        Arc::new(LogSms),
        secrets,
        DeliveryPolicy::default(),
    );
    let outbox = db.outbox();
    let payload = serde_json::json!({
        "hold_id": 1, "title_id": 1, "item_id": 1,
        "pickup_library": library, "pickup_by": "2026-12-20",
    })
    .to_string();
    let mut sender_rates = Vec::new();
    let mut bare_rates = Vec::new();
    for _ in 0..ROUNDS {
        for i in 0..MESSAGES {
            outbox
                .append(&NewNotification {
                    kind: kind::HOLD_WAITING.to_owned(),
                    patron: Some(readers[i % readers.len()].0),
                    payload: payload.clone(),
                    created_at: clock.now(),
                    expires_at: None,
                })
                .await
                .expect("queue");
        }
        let started = Instant::now();
        let report = sender.run_once().await.expect("deliver");
        let took = started.elapsed();
        assert_eq!(report.sent, MESSAGES, "{report:?}");
        sender_rates.push(MESSAGES as f64 / took.as_secs_f64());

        let started = Instant::now();
        for i in 0..MESSAGES {
            smtp_mail
                .send(&OutgoingMail {
                    to: readers[i % readers.len()].1.clone(),
                    subject: "Ready for pickup: a title".into(),
                    body: "Dear reader,\n\nThe item you reserved is ready for pickup.\n".into(),
                })
                .await
                .expect("send");
        }
        bare_rates.push(MESSAGES as f64 / started.elapsed().as_secs_f64());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ratios: Vec<String> = sender_rates
        .iter()
        .zip(&bare_rates)
        .map(|(s, b)| format!("{:.2}", s / b))
        .collect();
    println!(
        "delivery/{label}: sender {:.0} messages/s (median of {ROUNDS} rounds of {MESSAGES}), \
         bare SMTP {:.0} mails/s; sender ÷ bare per round: {}",
        median(&mut sender_rates),
        median(&mut bare_rates),
        ratios.join(", ")
    );
    db.close().await.expect("close");
    if let Some((admin, name)) = drop_after {
        if let Ok(admin_db) = sea_orm::Database::connect(&admin).await {
            let _ = admin_db
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            admin_db.close().await.ok();
        }
    } else {
        let path = url
            .trim_start_matches("sqlite://")
            .trim_end_matches("?mode=rwc")
            .to_owned();
        for end in ["", "-wal", "-shm", ".key"] {
            let _ = std::fs::remove_file(format!("{path}{end}"));
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let smtp = Smtp::start();
        bench("sqlite", &smtp).await;
        bench("postgres", &smtp).await;
    });
}
