//! Database faults under load: a full disk under SQLite, another process holding SQLite's
//! write lock, PostgreSQL connections terminated in a loop. Every answer is a success, a
//! refusal that follows from an earlier answer, or 503 `service_unavailable` with
//! `Retry-After`; never a 500. Every checkout answered 201 and every checkin answered 200
//! is in the database afterwards, read by a separate connection (and, for SQLite, after a
//! restart); writes recover without a restart; `/ready` says 503 while writes fail.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::Value;

use crate::support::{POSTGRES_URL_VAR, TestApp, TestDb, futures_join_all};

/// What one worker's answers acknowledged.
#[derive(Debug, Default)]
struct Acknowledged {
    /// Loans answered 201 by a checkout.
    lent: Vec<i64>,
    /// Loans answered 200 by a checkin.
    returned: Vec<i64>,
    /// 503 answers (each with `Retry-After`).
    unavailable: u32,
    /// Successes (201 or 200).
    successes: u32,
    /// Anything else: the test fails on any.
    unexpected: Vec<String>,
}

impl Acknowledged {
    fn absorb(&mut self, other: Acknowledged) {
        self.lent.extend(other.lent);
        self.returned.extend(other.returned);
        self.unavailable += other.unavailable;
        self.successes += other.successes;
        self.unexpected.extend(other.unexpected);
    }
}

/// A library with `n` copies (`FLT0000`, …) and `n` readers; the staff token and the cards.
async fn counter_with_copies(app: &TestApp, n: usize) -> (String, Vec<String>) {
    let staff = app.counter_on_1_june_2021().await;
    let title = app.title(&staff, "The Fault Lines").await;
    let mut cards = Vec::new();
    for i in 0..n {
        app.item(&staff, title, &format!("FLT{i:04}"), "CEN").await;
        cards.push(app.reader(&staff, &format!("9555{i:04}")).await);
    }
    (staff, cards)
}

/// One worker: lends copy `barcode` to `card` and takes it back, again and again, until
/// `stop`. After a 503 the outcome is unknown, so the next answer settles it: a checkout
/// refused `item_not_available` means the copy is on loan, a checkin refused `not_on_loan`
/// means it is back.
async fn cycle(
    app: &TestApp,
    staff: &str,
    card: &str,
    barcode: &str,
    stop: &AtomicBool,
) -> Acknowledged {
    let mut seen = Acknowledged::default();
    let mut on_loan = false;
    while !stop.load(Ordering::Relaxed) {
        let answer = if on_loan {
            app.checkin(staff, barcode, "CEN", None).await
        } else {
            app.checkout(staff, card, barcode, "CEN").await
        };
        let reason = answer.body["reason"].as_str().unwrap_or("");
        match (answer.status.as_u16(), answer.code(), reason) {
            (201, _, _) if !on_loan => {
                seen.lent
                    .push(answer.body["loan_id"].as_i64().expect("loan id"));
                seen.successes += 1;
                on_loan = true;
            }
            (200, _, _) if on_loan => {
                seen.returned
                    .push(answer.body["loan_id"].as_i64().expect("loan id"));
                seen.successes += 1;
                on_loan = false;
            }
            (409, "checkout_refused", "item_not_available") if !on_loan => on_loan = true,
            (409, "checkin_refused", "not_on_loan") if on_loan => on_loan = false,
            (503, "service_unavailable", _) => {
                if answer.headers.get("retry-after").is_none() {
                    seen.unexpected
                        .push(format!("503 without Retry-After: {:?}", answer.body));
                }
                seen.unavailable += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (status, code, _) => seen.unexpected.push(format!(
                "{status} {code} {:?} (on loan: {on_loan})",
                answer.body
            )),
        }
    }
    seen
}

/// Runs one worker per card (copy `FLT000n` for card n) while `during` runs; what they
/// acknowledged.
async fn under_load<F: Future<Output = ()>>(
    app: &TestApp,
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
            async move { cycle(app, staff, card, &barcode, stop).await }
        })
        .collect();
    let load = futures_join_all(workers);
    let run = async {
        during.await;
        stop.store(true, Ordering::Relaxed);
    };
    let (seen, ()) = tokio::join!(load, run);
    let mut all = Acknowledged::default();
    for s in seen {
        all.absorb(s);
    }
    all
}

/// The load for 1.5 s once the fault is over: answers as before, writes succeeding again
/// and `/ready` saying 200, all without a restart.
async fn recovered(app: &TestApp, staff: &str, cards: &[String]) -> Acknowledged {
    let after = under_load(
        app,
        staff,
        cards,
        tokio::time::sleep(Duration::from_millis(1500)),
    )
    .await;
    assert!(after.unexpected.is_empty(), "{:#?}", after.unexpected);
    assert!(after.successes > 0, "writes recover: {after:?}");
    assert_eq!(ready(app).await.0, 200);
    after
}

/// Every loan in the database at `url`, read by a connection of its own: id → returned.
async fn stored_loans(url: &str) -> HashMap<i64, bool> {
    let conn = sea_orm::Database::connect(url)
        .await
        .expect("a separate connection");
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, CASE WHEN returned_at IS NULL THEN 0 ELSE 1 END AS returned FROM loans",
        ))
        .await
        .expect("read loans");
    let loans = rows
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("", "id").expect("id");
            let returned: i32 = r.try_get("", "returned").expect("returned");
            (id, returned == 1)
        })
        .collect();
    conn.close().await.expect("close");
    loans
}

/// Every acknowledged checkout is stored, and every acknowledged checkin stored as returned.
#[track_caller]
fn assert_stored(seen: &Acknowledged, stored: &HashMap<i64, bool>, when: &str) {
    for loan in &seen.lent {
        assert!(
            stored.contains_key(loan),
            "{when}: loan {loan} answered 201 is not stored"
        );
    }
    for loan in &seen.returned {
        assert_eq!(
            stored.get(loan),
            Some(&true),
            "{when}: loan {loan} answered 200 at checkin is not stored as returned"
        );
    }
}

/// A tmpfs of `size` mounted for the test, unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    /// `None` where mounting is not allowed (not root); in CI that fails the test.
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = std::env::temp_dir().join(format!(
            "lib_fault_disk_{}_{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos()
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
                "CI must be able to mount a tmpfs for the full-disk test (run as root)"
            );
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "note: cannot mount a tmpfs (not root): the full-disk test is skipped"
            );
            return None;
        }
        Some(SmallDisk { dir })
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
        // Whatever is left, byte by byte.
        while file.write(&[0]).is_ok_and(|n| n == 1) {}
        let _ = file.sync_all();
        path
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

async fn ready(app: &TestApp) -> (u16, Value) {
    let answer = app.get("/ready", None).await;
    (answer.status.as_u16(), answer.body)
}

#[tokio::test]
async fn sqlite_on_a_full_disk_acknowledges_only_what_it_stores_and_recovers() {
    let Some(disk) = SmallDisk::mount("6m") else {
        return;
    };
    let url = format!(
        "sqlite://{}?mode=rwc",
        disk.dir.join("library.db").display()
    );
    let app = TestApp::spawn_at(&url, "sqlite", true).await;
    let (staff, cards) = counter_with_copies(&app, 6).await;

    // Before: a little ordinary traffic.
    let mut seen = under_load(
        &app,
        &staff,
        &cards,
        tokio::time::sleep(Duration::from_millis(500)),
    )
    .await;
    assert!(seen.unexpected.is_empty(), "{:#?}", seen.unexpected);
    assert!(seen.successes > 0);

    // The disk fills up while readers are served.
    let filler = disk.fill();
    let mut while_full = None;
    let full = under_load(&app, &staff, &cards, async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        while_full = Some(ready(&app).await);
    })
    .await;
    assert!(full.unexpected.is_empty(), "{:#?}", full.unexpected);
    assert!(full.unavailable > 0, "writes fail on a full disk: {full:?}");
    let (status, body) = while_full.expect("probed");
    assert_eq!(
        (status, body["code"].as_str(), body["reason"].as_str()),
        (
            503,
            Some("service_unavailable"),
            Some("database_write_failed")
        ),
        "/ready while the disk is full: {body}"
    );
    seen.absorb(full);

    // Space comes back: writes recover without a restart.
    std::fs::remove_file(&filler).expect("free the disk");
    seen.absorb(recovered(&app, &staff, &cards).await);

    // Everything acknowledged is stored: read by another connection, then after a restart.
    assert_stored(&seen, &stored_loans(&url).await, "another connection");
    app.stop().await;
    let restarted = TestApp::spawn_at(&url, "sqlite", true).await;
    assert_eq!(ready(&restarted).await.0, 200);
    restarted.stop().await;
    assert_stored(&seen, &stored_loans(&url).await, "after a restart");
    drop(disk);
}

#[tokio::test]
async fn sqlite_write_lock_held_by_another_process_gives_503_then_recovers() {
    use sea_orm::sqlx::{ConnectOptions, Connection, sqlite::SqliteConnectOptions};
    let db = TestDb::sqlite();
    let url = db.url();
    let app = TestApp::spawn(db, true).await;
    let (staff, cards) = counter_with_copies(&app, 1).await;

    // Another process takes the write lock and keeps it past the busy timeout.
    let options: SqliteConnectOptions = url.parse().expect("url");
    let mut other = options.connect().await.expect("another connection");
    sea_orm::sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .expect("take the write lock");
    let login =
        serde_json::json!({"username": "admin", "password": crate::support::ADMIN_PASSWORD});
    let (checkout, staff_login, not_ready) = tokio::join!(
        app.checkout(&staff, &cards[0], "FLT0000", "CEN"),
        app.post("/api/v1/staff/login", None, login),
        ready(&app)
    );
    for answer in [checkout, staff_login] {
        let answer = answer.expect(503, "service_unavailable");
        assert_eq!(
            answer
                .headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("2")
        );
    }
    assert_eq!(
        (not_ready.0, not_ready.1["reason"].as_str()),
        (503, Some("database_write_failed")),
        "{}",
        not_ready.1
    );

    // The lock is released: the next checkout is stored, and only it.
    sea_orm::sqlx::query("ROLLBACK")
        .execute(&mut other)
        .await
        .expect("release");
    other.close().await.expect("close");
    let lent = app
        .checkout(&staff, &cards[0], "FLT0000", "CEN")
        .await
        .expect(201, "");
    assert_eq!(ready(&app).await.0, 200);
    let stored = stored_loans(&url).await;
    assert_eq!(
        stored.keys().copied().collect::<Vec<_>>(),
        vec![lent.body["loan_id"].as_i64().expect("loan id")]
    );
    app.stop().await;
}

#[tokio::test]
async fn postgres_connections_terminated_under_load_lose_nothing() {
    let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
        return;
    };
    if admin_url.is_empty() {
        return;
    }
    let db = TestDb::postgres(&admin_url).await;
    let url = db.url();
    let name = url
        .rsplit('/')
        .next()
        .and_then(|tail| tail.split('?').next())
        .expect("database name")
        .to_owned();
    let app = TestApp::spawn(db, true).await;
    let (staff, cards) = counter_with_copies(&app, 6).await;

    // Every connection of the test database (the server's pool and its listener) is
    // terminated, again and again, for three seconds.
    let admin = sea_orm::Database::connect(&admin_url).await.expect("admin");
    let terminate = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );
    let killer = async {
        let until = Instant::now() + Duration::from_secs(3);
        let mut rounds = 0;
        while Instant::now() < until {
            admin
                .execute_raw(Statement::from_string(
                    DbBackend::Postgres,
                    terminate.clone(),
                ))
                .await
                .expect("terminate");
            rounds += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(rounds > 10);
    };
    let mut seen = under_load(&app, &staff, &cards, killer).await;
    assert!(seen.unexpected.is_empty(), "{:#?}", seen.unexpected);
    assert!(
        seen.unavailable > 0,
        "terminated connections fail requests: {seen:?}"
    );

    // The terminations stop: the server recovers without a restart.
    seen.absorb(recovered(&app, &staff, &cards).await);

    assert_stored(&seen, &stored_loans(&url).await, "another connection");
    app.stop().await;
    admin.close().await.expect("close admin");
}
