//! Database faults under load, against the binary: SQLite on a full disk, SQLite on a
//! read-only file system, PostgreSQL with the server's connections terminated again and
//! again, and PostgreSQL refusing connections to the database for a while.
//!
//! Several counters lend and take back copies the whole time. Every answer is a success, a
//! refusal that follows from what was answered before, or 503 `service_unavailable` with
//! `Retry-After: 2`; never a 500, and never no answer within the client's bound
//! (a little above the server's own longest wait). `/ready` answers 503 while writes fail
//! and 200 after; writes recover without a restart; every checkout answered 201 and every
//! checkin answered 200 is in the database afterwards, read by a separate connection (and,
//! on SQLite, after a restart of the binary), and every copy with an open loan is on loan
//! and every copy on loan has one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::server::{Options, Server};
use crate::support::{POSTGRES_URL_VAR, TestApp, TestDb, futures_join_all, stored_loans};

/// The client's bound on one request: the server's longest wait is the readiness probe's
/// 6 s write (SQLite's busy timeout is 5 s), and it closes a connection whose request does
/// not arrive within 10 s. An answer later than this counts as a hang.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(12);

/// How many counters lend at once.
const COUNTERS: usize = 6;

/// An HTTP client whose every request is bounded by [`CLIENT_TIMEOUT`].
#[derive(Clone)]
struct Bounded {
    base: String,
    client: reqwest::Client,
}

/// An answer, or why there was none (a timeout, a refused or reset connection).
type Reply = Result<(u16, Value, Option<String>), String>;

impl Bounded {
    fn new(server: &Server) -> Bounded {
        Bounded {
            base: server.base.clone(),
            client: reqwest::Client::builder()
                .timeout(CLIENT_TIMEOUT)
                .build()
                .expect("client"),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let started = Instant::now();
        let response = request.send().await.map_err(|e| {
            format!(
                "no answer after {:?}: {e}{}",
                started.elapsed(),
                if e.is_timeout() { " (timed out)" } else { "" }
            )
        })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("body cut off: {e}"))?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            retry_after,
        ))
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(
            self.client
                .post(format!("{}{path}", self.base))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    async fn ready(&self) -> Reply {
        self.send(self.client.get(format!("{}/ready", self.base)))
            .await
    }
}

/// What the counters' answers acknowledged.
#[derive(Debug, Default)]
struct Acknowledged {
    /// Loans answered 201 by a checkout.
    lent: Vec<i64>,
    /// Loans answered 200 by a checkin.
    returned: Vec<i64>,
    /// 503 answers (each with `Retry-After`), by `reason` (empty when none is given: a
    /// route other than `/ready` says only `service_unavailable`).
    unavailable: HashMap<String, u32>,
    /// Successes (201 or 200).
    successes: u32,
    /// Anything else, a missing answer included: the test fails on any.
    unexpected: Vec<String>,
}

impl Acknowledged {
    fn absorb(&mut self, other: Acknowledged) {
        self.lent.extend(other.lent);
        self.returned.extend(other.returned);
        for (reason, n) in other.unavailable {
            *self.unavailable.entry(reason).or_default() += n;
        }
        self.successes += other.successes;
        self.unexpected.extend(other.unexpected);
    }

    fn unavailable(&self) -> u32 {
        self.unavailable.values().sum()
    }
}

/// A library with [`COUNTERS`] copies (`FLT0000`, …) and as many readers, through the
/// API; the staff token and the cards.
async fn counters(app: &TestApp) -> (String, Vec<String>) {
    let staff = app.counter_on_1_june_2021().await;
    let title = app.title(&staff, "The Fault Lines").await;
    let mut cards = Vec::new();
    for i in 0..COUNTERS {
        app.item(&staff, title, &format!("FLT{i:04}"), "CEN").await;
        cards.push(app.reader(&staff, &format!("9555{i:04}")).await);
    }
    (staff, cards)
}

/// The binary on the database at `url`, with the development clock (the counters lend on
/// 1 June 2021), its counters set up: the server, its bounded client, the staff token and
/// the cards.
async fn counting_server(url: &str, label: &'static str) -> (Server, Bounded, String, Vec<String>) {
    let server = Server::start(url, label, &counting_options()).await;
    let http = Bounded::new(&server);
    let (staff, cards) = counters(&server.app()).await;
    (server, http, staff, cards)
}

fn counting_options() -> Options {
    Options {
        dev_clock: true,
        ..Options::default()
    }
}

/// One counter: lends copy `barcode` to `card` and takes it back, again and again, until
/// `stop`. After a 503 the outcome is unknown, so the next answer settles it: a checkout
/// refused `item_not_available` means the copy is on loan, a checkin refused `not_on_loan`
/// means it is back.
async fn cycle(
    http: &Bounded,
    staff: &str,
    card: &str,
    barcode: &str,
    stop: &AtomicBool,
) -> Acknowledged {
    let mut seen = Acknowledged::default();
    let mut on_loan = false;
    while !stop.load(Ordering::Relaxed) {
        let reply = if on_loan {
            http.post(
                "/api/v1/circulation/checkins",
                staff,
                json!({"item_barcode": barcode, "library_code": "CEN"}),
            )
            .await
        } else {
            http.post(
                "/api/v1/circulation/checkouts",
                staff,
                json!({"card_number": card, "item_barcode": barcode, "library_code": "CEN"}),
            )
            .await
        };
        let (status, body, retry_after) = match reply {
            Ok(answer) => answer,
            Err(why) => {
                seen.unexpected.push(why);
                continue;
            }
        };
        let code = body["code"].as_str().unwrap_or("");
        let reason = body["reason"].as_str().unwrap_or("");
        match (status, code, reason) {
            (201, _, _) if !on_loan => {
                seen.lent.push(body["loan_id"].as_i64().expect("loan id"));
                seen.successes += 1;
                on_loan = true;
            }
            (200, _, _) if on_loan => {
                seen.returned
                    .push(body["loan_id"].as_i64().expect("loan id"));
                seen.successes += 1;
                on_loan = false;
            }
            (409, "checkout_refused", "item_not_available") if !on_loan => on_loan = true,
            (409, "checkin_refused", "not_on_loan") if on_loan => on_loan = false,
            (503, "service_unavailable", reason) => {
                if retry_after.as_deref() != Some("2") {
                    seen.unexpected
                        .push(format!("503 with Retry-After {retry_after:?}: {body}"));
                }
                *seen.unavailable.entry(reason.to_owned()).or_default() += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (status, code, _) => seen
                .unexpected
                .push(format!("{status} {code} {body} (on loan: {on_loan})")),
        }
    }
    seen
}

/// Runs one counter per card (copy `FLT000n` for card n) while `during` runs; what they
/// acknowledged.
async fn under_load<F: Future<Output = ()>>(
    http: &Bounded,
    staff: &str,
    cards: &[String],
    during: F,
) -> Acknowledged {
    let stop = AtomicBool::new(false);
    let workers = cards
        .iter()
        .enumerate()
        .map(|(i, card)| {
            let barcode = format!("FLT{i:04}");
            let stop = &stop;
            async move { cycle(http, staff, card, &barcode, stop).await }
        })
        .collect();
    let run = async {
        during.await;
        stop.store(true, Ordering::Relaxed);
    };
    let (seen, ()) = tokio::join!(futures_join_all(workers), run);
    let mut all = Acknowledged::default();
    for s in seen {
        all.absorb(s);
    }
    all
}

/// `/ready`: 200, or 503 `service_unavailable` with one of the readiness reasons; the
/// status and the reason.
async fn ready(http: &Bounded, label: &str) -> (u16, String) {
    let (status, body, _) = http
        .ready()
        .await
        .unwrap_or_else(|why| panic!("{label}: /ready: {why}"));
    let reason = body["reason"].as_str().unwrap_or("").to_owned();
    match status {
        200 => {}
        503 => assert_eq!(
            body["code"].as_str(),
            Some("service_unavailable"),
            "{label}: /ready {body}"
        ),
        other => panic!("{label}: /ready answered {other}: {body}"),
    }
    (status, reason)
}

/// Polls `/ready` every 200 ms until it answers 200 (at most 15 s; the time it took).
async fn ready_again(http: &Bounded, label: &str) -> Duration {
    let started = Instant::now();
    loop {
        if ready(http, label).await.0 == 200 {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{label}: /ready still 503 15 s after the fault ended"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The load for 1.5 s once the fault is over and `/ready` says 200 again: answers as
/// before and writes succeeding, all without a restart.
async fn recovered(http: &Bounded, staff: &str, cards: &[String], label: &str) -> Acknowledged {
    ready_again(http, label).await;
    let after = under_load(
        http,
        staff,
        cards,
        tokio::time::sleep(Duration::from_millis(1500)),
    )
    .await;
    assert!(
        after.unexpected.is_empty(),
        "{label}: {:#?}",
        after.unexpected
    );
    assert!(after.successes > 0, "{label}: writes recover: {after:?}");
    assert_eq!(
        after.unavailable(),
        0,
        "{label}: after the fault: {after:?}"
    );
    after
}

/// Every loan in the database at `url`, read by a connection of its own (id → returned),
/// and the copies whose status disagrees with their loans.
async fn stored(url: &str) -> (HashMap<i64, bool>, Vec<String>) {
    let conn = sea_orm::Database::connect(url)
        .await
        .expect("a separate connection");
    let backend = conn.get_database_backend();
    let loans = stored_loans(url).await;
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT i.barcode, i.status, CAST((SELECT COUNT(*) FROM loans l \
             WHERE l.item_id = i.id AND l.returned_at IS NULL) AS INTEGER) AS open \
             FROM items i",
        ))
        .await
        .expect("read items");
    let mismatched = rows
        .iter()
        .filter_map(|r| {
            let barcode: String = r.try_get("", "barcode").expect("barcode");
            let status: String = r.try_get("", "status").expect("status");
            let open: i32 = r.try_get("", "open").expect("open");
            let agrees = match open {
                0 => status != "on_loan",
                1 => status == "on_loan",
                _ => false,
            };
            (!agrees).then(|| format!("{barcode}: status {status}, {open} open loans"))
        })
        .collect();
    conn.close().await.expect("close");
    (loans, mismatched)
}

/// Every acknowledged checkout is stored, every acknowledged checkin stored as returned,
/// and every copy's status agrees with its loans.
async fn assert_stored(seen: &Acknowledged, url: &str, when: &str) {
    let (loans, mismatched) = stored(url).await;
    for loan in &seen.lent {
        assert!(
            loans.contains_key(loan),
            "{when}: loan {loan} answered 201 is not stored"
        );
    }
    for loan in &seen.returned {
        assert_eq!(
            loans.get(loan),
            Some(&true),
            "{when}: loan {loan} answered 200 at checkin is not stored as returned"
        );
    }
    assert!(mismatched.is_empty(), "{when}: {mismatched:#?}");
}

/// A tmpfs of `size` mounted for the test, unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    /// `None` where mounting is not allowed (not root); in CI that fails the test.
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = std::env::temp_dir().join(format!(
            "lib_outside_disk_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("mount point");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            let _ = std::fs::remove_dir(&dir);
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must be able to mount a tmpfs for the file-system faults (run as root)"
            );
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "note: cannot mount a tmpfs (not root): the file-system fault is skipped"
            );
            return None;
        }
        Some(SmallDisk { dir })
    }

    fn url(&self) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            self.dir.join("library.db").display()
        )
    }

    /// Writes a file until the disk is full; its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.dir.join("filler");
        let mut file = std::fs::File::create(&path).expect("filler");
        let block = vec![0xA5u8; 16 * 1024];
        loop {
            match file.write(&block) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        while file.write(&[0]).is_ok_and(|n| n == 1) {}
        let _ = file.sync_all();
        path
    }

    /// Remounts the file system read-only (`true`) or read-write; whether it worked (a
    /// read-only remount fails while a process holds a file open for writing).
    fn remount(&self, read_only: bool) -> bool {
        std::process::Command::new("mount")
            .args([
                "-o",
                if read_only {
                    "remount,ro"
                } else {
                    "remount,rw"
                },
            ])
            .arg(&self.dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "outside-in suite: run by `cargo xtask outside`"]
async fn sqlite_on_a_full_disk_acknowledges_only_what_it_stores_and_recovers() {
    let Some(disk) = SmallDisk::mount("6m") else {
        return;
    };
    let url = disk.url();
    let label = "sqlite";
    let (server, http, staff, cards) = counting_server(&url, label).await;

    // Before: ordinary traffic.
    let mut seen = under_load(
        &http,
        &staff,
        &cards,
        tokio::time::sleep(Duration::from_millis(500)),
    )
    .await;
    assert!(seen.unexpected.is_empty(), "{:#?}", seen.unexpected);
    assert!(seen.successes > 0);

    // The disk fills up under the load.
    let filler = disk.fill();
    let mut while_full = None;
    let full = under_load(&http, &staff, &cards, async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        while_full = Some(ready(&http, label).await);
    })
    .await;
    assert!(full.unexpected.is_empty(), "{:#?}", full.unexpected);
    assert!(
        full.unavailable() > 0,
        "writes fail on a full disk: {full:?}"
    );
    assert_eq!(
        while_full.expect("probed"),
        (503, "database_write_failed".to_owned()),
        "/ready while the disk is full"
    );
    eprintln!(
        "full disk: {} successes before; while full {} successes, 503s {:?}",
        seen.successes, full.successes, full.unavailable
    );
    seen.absorb(full);

    // Space comes back: writes recover without a restart.
    std::fs::remove_file(&filler).expect("free the disk");
    let started = Instant::now();
    seen.absorb(recovered(&http, &staff, &cards, label).await);
    eprintln!(
        "full disk: recovered in {:?} (ready, then 1.5 s of load); {} successes in all",
        started.elapsed(),
        seen.successes
    );

    // Everything acknowledged is stored: read by another connection, then after a restart.
    assert_stored(&seen, &url, "another connection").await;
    server.terminate().await;
    let restarted = Server::start(&url, label, &counting_options()).await;
    assert_eq!(ready(&Bounded::new(&restarted), label).await.0, 200);
    restarted.terminate().await;
    assert_stored(&seen, &url, "after a restart").await;
    drop(disk);
}

/// A running process keeps the database file open for writing, and the kernel refuses to
/// make a file system read-only under an open writer (`mount -o remount,ro` answers
/// "busy"); `chmod` and `chattr +i` stop only new opens, and root ignores `chmod`. So the
/// read-only fault a server meets is at start: the database on a file system mounted
/// read-only (a full root disk remounted read-only by the kernel after an error, a volume
/// attached read-only). The server must refuse to start with a clear message and no
/// panic, leave the file as it was, and start and serve it once the file system is writable.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "outside-in suite: run by `cargo xtask outside`"]
async fn sqlite_on_a_read_only_file_system_refuses_to_start_and_loses_nothing() {
    let Some(disk) = SmallDisk::mount("8m") else {
        return;
    };
    let url = disk.url();
    let label = "sqlite";
    let (server, http, staff, cards) = counting_server(&url, label).await;
    let seen = under_load(
        &http,
        &staff,
        &cards,
        tokio::time::sleep(Duration::from_millis(800)),
    )
    .await;
    assert!(seen.unexpected.is_empty(), "{:#?}", seen.unexpected);
    assert!(seen.successes > 0);

    // While the server runs, the file system cannot be made read-only under it.
    assert!(
        !disk.remount(true),
        "a read-only remount under a running writer is refused by the kernel"
    );
    server.terminate().await;

    // Read-only: the binary exits with a message, not a panic, within the bound.
    assert!(disk.remount(true), "remount read-only");
    let started = Instant::now();
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(crate::server::binary())
            .env("LIBRARY_HTTP_ADDR", "127.0.0.1:0")
            .env("LIBRARY_DATABASE_URL", &url)
            .env("LIBRARY_ADMIN_PASSWORD", crate::support::ADMIN_PASSWORD)
            .env("LIBRARY_SECRET_KEY", crate::support::TEST_SECRET_KEY)
            .env("LIBRARY_JOBS_EVERY_SECS", "0")
            .env_remove("LIBRARY_CONFIG")
            .env_remove("LIBRARY_SIP2_ADDR")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the server exits within 30 s on a read-only database")
    .expect("run the server");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.status.success(), "{log}");
    assert!(log.contains("cannot start"), "a clear message: {log}");
    assert!(!log.contains("panicked"), "{log}");
    eprintln!(
        "read-only: refused to start in {:?}: {}",
        started.elapsed(),
        log.trim()
    );

    // Writable again: it starts and everything acknowledged is there.
    assert!(disk.remount(false), "remount read-write");
    let restarted = Server::start(&url, label, &counting_options()).await;
    let http = Bounded::new(&restarted);
    assert_eq!(ready(&http, label).await.0, 200);
    // The development clock is not kept across a restart: back to the counters' day.
    let app = restarted.app();
    app.set_clock(crate::support::hk("2021-06-01T10:00:00"))
        .await;
    let staff = app.staff_token().await;
    let after = under_load(
        &http,
        &staff,
        &cards,
        tokio::time::sleep(Duration::from_millis(500)),
    )
    .await;
    assert!(after.unexpected.is_empty(), "{:#?}", after.unexpected);
    assert!(after.successes > 0);
    restarted.terminate().await;
    assert_stored(&seen, &url, "after the restart").await;
    assert_stored(&after, &url, "after the restart").await;
    drop(disk);
}

/// The PostgreSQL test database (when configured), the admin URL and the database's name.
async fn postgres() -> Option<(TestDb, String, String)> {
    let admin_url = std::env::var(POSTGRES_URL_VAR).ok()?;
    if admin_url.is_empty() {
        return None;
    }
    let db = TestDb::postgres(&admin_url).await;
    let name = db
        .url()
        .rsplit('/')
        .next()
        .and_then(|tail| tail.split('?').next())
        .expect("database name")
        .to_owned();
    Some((db, admin_url, name))
}

async fn execute(admin: &sea_orm::DatabaseConnection, sql: &str) {
    admin
        .execute_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "outside-in suite: run by `cargo xtask outside`"]
async fn postgres_backends_terminated_under_load_lose_nothing() {
    let Some((db, admin_url, name)) = postgres().await else {
        return;
    };
    let url = db.url();
    let label = "postgres";
    let (server, http, staff, cards) = counting_server(&url, label).await;

    // Every connection to the test database (the server's pool and its listener) is
    // terminated, again and again, for three seconds.
    let admin = sea_orm::Database::connect(&admin_url).await.expect("admin");
    let terminate = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );
    let mut rounds = 0;
    let killer = async {
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            execute(&admin, &terminate).await;
            rounds += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let mut seen = under_load(&http, &staff, &cards, killer).await;
    assert!(seen.unexpected.is_empty(), "{:#?}", seen.unexpected);
    assert!(rounds > 10, "{rounds} rounds of terminations");
    assert!(
        seen.unavailable() > 0,
        "terminated connections fail requests: {seen:?}"
    );
    eprintln!(
        "terminated: {rounds} rounds in 3 s; {} successes, 503s {:?}",
        seen.successes, seen.unavailable
    );

    // The terminations stop: the server recovers without a restart.
    seen.absorb(recovered(&http, &staff, &cards, label).await);
    assert_stored(&seen, &url, "another connection").await;
    server.terminate().await;
    admin.close().await.expect("close admin");
    drop(db);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "outside-in suite: run by `cargo xtask outside`"]
async fn postgres_refusing_connections_for_a_while_gives_503_and_recovers() {
    let Some((db, admin_url, name)) = postgres().await else {
        return;
    };
    let url = db.url();
    let label = "postgres";
    let (server, http, staff, cards) = counting_server(&url, label).await;

    // The database refuses new connections and the open ones are terminated: for the
    // server it is gone, as when PostgreSQL restarts or the network drops, for 3 s.
    let admin = sea_orm::Database::connect(&admin_url).await.expect("admin");
    let mut while_gone = None;
    let mut seen = under_load(&http, &staff, &cards, async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        execute(
            &admin,
            &format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false"),
        )
        .await;
        execute(
            &admin,
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        while_gone = Some(ready(&http, label).await);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        execute(
            &admin,
            &format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"),
        )
        .await;
    })
    .await;
    assert!(seen.unexpected.is_empty(), "{:#?}", seen.unexpected);
    assert!(
        seen.unavailable() > 0,
        "requests fail while the database is gone: {seen:?}"
    );
    let (status, reason) = while_gone.expect("probed");
    assert_eq!(status, 503, "/ready while the database is gone: {reason}");
    assert!(
        ["database_read_failed", "database_write_failed"].contains(&reason.as_str()),
        "{reason}"
    );
    eprintln!(
        "unreachable: {} successes, 503s {:?}",
        seen.successes, seen.unavailable
    );

    let started = Instant::now();
    seen.absorb(recovered(&http, &staff, &cards, label).await);
    eprintln!("unreachable: recovered in {:?}", started.elapsed());
    assert_stored(&seen, &url, "another connection").await;
    server.terminate().await;
    admin.close().await.expect("close admin");
    drop(db);
}
