//! The server end to end over loopback HTTP, 8 concurrent clients.
//!
//! (a) checkout + checkin pairs per second against the real `Application`, on SQLite (a
//!     temporary file) and on PostgreSQL (a database of its own, created and dropped; only
//!     when `LIBRARY_TEST_POSTGRES_URL` is set; over loopback without TLS, as a server on
//!     the database's host would connect), each client lending its own copy of its own
//!     title (eight counters lending different books; copies of one title would queue on
//!     the title's lock, which guards its hold queue), and in the same run, on the same database
//!     with the same 8 clients, the persistence adapter's raw transactions: a raw checkout
//!     (lock the item, insert the loan, set the item on loan, commit) and a raw checkin (lock
//!     the item, read its open loan, close it, set the item available, commit);
//! (b) Password logins per second against standalone `Argon2Hasher::verify_sync` calls per
//!     second on 2 threads;
//! (c) p99 latency of `GET /api/v1/me/loans` with and without a concurrent login flood of
//!     32 clients (more than the hashing threads admit at once: the rest wait for a slot);
//! (d) the same latency while slow clients drip their headers;
//! (e) p99 latency of a station's SIP2 patron status (`23`) while hundreds of SIP2
//!     connections stay silent or send garbage, ÷ quiet.
//!
//! `LIBRARY_BENCH_ONLY=sip2` runs (e) alone (a few seconds instead of minutes).
//!
//! Each figure's two halves (HTTP and raw pairs; logins and verifications; quiet and flooded
//! latencies) are measured in three alternated rounds of 2 s, so that drift in the shared
//! machine's speed during a run affects both halves alike.
//!
//! Peak memory: the server runs inside this process (on threads of its own), so what is
//! reported is the peak resident set (`VmHWM` of `/proc/self/status`) of the whole
//! process: the server with its connection pools, caches and hashing threads, plus the
//! benchmark's clients and, during (b), the two threads of standalone verifications. The
//! peak is reset (`5` written to `/proc/self/clear_refs`) before each part and read after
//! it; the run's peak is the largest of them. Linux only; elsewhere it is not reported.
//!
//! Figures only, no pass/fail. Fixed durations and bounded request counts.
//!
//! `CARGO_TARGET_DIR=/work/target-bench LIBRARY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p library-server --bench http`

// A benchmark reports on stdout.
#![allow(clippy::print_stdout)]
// Rates and ratios are floating-point figures, not money or dates.
#![allow(clippy::float_arithmetic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use library_circulation::ports::CirculationStore;
use library_circulation::{DueDate, ItemStatus, NewLoan};
use library_core::{Barcode, CardNumber, LibraryCode};
use library_credentials::{Argon2Hasher, Secret};
use library_server::Application;
use library_setup::{Config, Policy};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tokio::sync::oneshot;

const POSTGRES_URL_VAR: &str = "LIBRARY_TEST_POSTGRES_URL";
const ADMIN_PASSWORD: &str = "Circ-Desk-2026x";
const READER_PASSWORD: &str = "Reading-Room-42";
const CLIENTS: usize = 8;
/// (c) Readers logging in at once during the flood.
const FLOOD_CLIENTS: usize = 32;
/// (a) and (c): rounds of the two halves of each figure, alternated, so that drift in the
/// shared machine's speed during a run affects both halves alike.
const ROUNDS: u32 = 3;
const ROUND: Duration = Duration::from_secs(2);
const MAX_REQUESTS_PER_CLIENT: usize = 50_000;

enum Db {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

fn suffix() -> String {
    format!(
        "{}_{}",
        std::process::id(),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000
    )
}

impl Db {
    fn url(&self) -> String {
        match self {
            Db::Sqlite(path) => format!("sqlite://{}?mode=rwc", path.display()),
            Db::Postgres { admin_url, name } => {
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(b, _)| b);
                format!("{base}/{name}?sslmode=disable")
            }
        }
    }

    async fn drop_db(self) {
        match self {
            Db::Sqlite(path) => {
                for end in ["", "-wal", "-shm", ".key"] {
                    let mut file = path.clone().into_os_string();
                    file.push(end);
                    let _ = std::fs::remove_file(file);
                }
            }
            Db::Postgres { admin_url, name } => {
                if let Ok(admin) = sea_orm::Database::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    if let Err(e) = admin.execute_unprepared(&sql).await {
                        println!("warning: could not drop {name}: {e}");
                    }
                    admin.close().await.ok();
                }
            }
        }
    }
}

struct Server {
    base: String,
    /// The SIP2 listener, when it serves SIP2.
    sip2: Option<std::net::SocketAddr>,
    client: reqwest::Client,
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Server {
    /// The server on a runtime and threads of its own, as in production (`main.rs`), so
    /// the benchmark's clients do not share its worker threads.
    async fn spawn(url: &str) -> Server {
        Self::spawn_with(url, None).await
    }

    /// With `sip2_hold` (the refusal hold, ms), SIP2 on a free port too, with a login
    /// deadline of 1 s (10 s by default) so the garbage connections of (e) come and go
    /// within a round.
    async fn spawn_with(url: &str, sip2_hold: Option<u64>) -> Server {
        let mut config = Config {
            database_url: url.to_owned(),
            http_addr: "127.0.0.1:0".into(),
            admin_password: Some(ADMIN_PASSWORD.into()),
            // The benchmark sets the one rule scope it lends under, as before the default
            // policy was stored on first start, so its figures stay comparable.
            policy: Policy::Empty,
            ..Config::default()
        };
        if let Some(hold) = sip2_hold {
            config.sip2_addr = Some(":0".into());
            config.sip2_limits.login_deadline_secs = 1;
            config.sip2_limits.refusal_hold_ms = hold;
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let (started, address) = oneshot::channel::<(String, Option<std::net::SocketAddr>)>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                // Named apart from the clients' threads, for profiles.
                .thread_name("server-worker")
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let app = Application::build(&config)
                    .await
                    .expect("application starts");
                let _ = started.send((format!("http://{}", app.local_addr()), app.sip2_addr()));
                let _ = app
                    .run_until(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        let (base, sip2) = address.await.expect("server started");
        Server {
            base,
            sip2,
            client: reqwest::Client::new(),
            stop,
            thread,
        }
    }

    async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = tokio::task::spawn_blocking(move || self.thread.join()).await;
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value, want: u16) -> Value {
        let (status, body) = self
            .send(reqwest::Method::POST, path, token, Some(body))
            .await;
        assert_eq!(status, want, "POST {path}: {body}");
        body
    }

    async fn put(&self, path: &str, token: Option<&str>, body: Value, want: u16) -> Value {
        let (status, body) = self
            .send(reqwest::Method::PUT, path, token, Some(body))
            .await;
        assert_eq!(status, want, "PUT {path}: {body}");
        body
    }

    async fn login(&self, card: &str) -> u16 {
        self.send(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"card_number": card, "password": READER_PASSWORD})),
        )
        .await
        .0
    }
}

/// Staff token, readers' cards and full sessions, one item barcode per client.
struct Fixture {
    staff: String,
    cards: Vec<String>,
    sessions: Vec<String>,
    barcodes: Vec<String>,
}

async fn setup(server: &Server, readers: usize) -> Fixture {
    let staff = server
        .post(
            "/api/v1/staff/login",
            None,
            json!({"username": "admin", "password": ADMIN_PASSWORD}),
            200,
        )
        .await["token"]
        .as_str()
        .expect("staff token")
        .to_owned();
    let s = Some(staff.as_str());
    server
        .post(
            "/api/v1/libraries",
            s,
            json!({"code": "CEN", "name": "CEN Library", "kind": "district"}),
            201,
        )
        .await;
    server
        .put(
            "/api/v1/circulation/rules",
            s,
            json!({"scope": {}, "rules": {"loan_days": 14, "renewals_allowed": 5, "quota": 10,
                   "holds_allowed": 5, "pickup_days": 3, "fine_per_day_cents": 150}}),
            200,
        )
        .await;
    let mut barcodes = Vec::new();
    for i in 0..CLIENTS + 1 {
        let title = server
            .post(
                "/api/v1/catalog/titles",
                s,
                json!({"title": format!("Tao Te Ching {i}")}),
                201,
            )
            .await["id"]
            .as_i64()
            .expect("title id");
        let barcode = format!("B{i:04}");
        server
            .post(
                "/api/v1/catalog/items",
                s,
                json!({"title_id": title, "barcode": barcode, "item_type": "adult_book",
                       "home_library": "CEN"}),
                201,
            )
            .await;
        barcodes.push(barcode);
    }
    let mut cards = Vec::new();
    let mut sessions = Vec::new();
    for i in 0..readers {
        let phone = format!("9123{:04}", 1000 + i);
        let card = server
            .post(
                "/api/v1/patrons",
                s,
                json!({"name": "Chan Tai Man", "phone": phone, "category": "adult",
                       "home_library": "CEN"}),
                201,
            )
            .await["card_number"]
            .as_str()
            .expect("card")
            .to_owned();
        let last4 = &phone[phone.len() - 4..];
        let first = server
            .post(
                "/api/v1/auth/login",
                None,
                json!({"card_number": card, "password": last4}),
                200,
            )
            .await["token"]
            .as_str()
            .expect("token")
            .to_owned();
        let full = server
            .put(
                "/api/v1/me/password",
                Some(&first),
                json!({"current_password": last4, "new_password": READER_PASSWORD}),
                200,
            )
            .await["token"]
            .as_str()
            .expect("token")
            .to_owned();
        cards.push(card);
        sessions.push(full);
    }
    Fixture {
        staff,
        cards,
        sessions,
        barcodes,
    }
}

/// (a) HTTP and raw pairs per second, over [`ROUNDS`] alternated rounds of each.
async fn pair_rates(server: &Arc<Server>, url: &str, fx: &Fixture) -> (f64, f64) {
    let (mut http, mut http_time) = (0, Duration::ZERO);
    let (mut raw, mut raw_time) = (0, Duration::ZERO);
    for _ in 0..ROUNDS {
        let (n, t) = circulation_pairs(server, fx).await;
        http += n;
        http_time += t;
        let (n, t) = raw_pairs(url, fx).await;
        raw += n;
        raw_time += t;
    }
    (
        http as f64 / http_time.as_secs_f64(),
        raw as f64 / raw_time.as_secs_f64(),
    )
}

/// (a) Checkout + checkin pairs in one [`ROUND`], each client with its own reader and
/// item, and the time taken.
async fn circulation_pairs(server: &Arc<Server>, fx: &Fixture) -> (usize, Duration) {
    let start = Instant::now();
    let deadline = start + ROUND;
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let server = Arc::clone(server);
        let staff = fx.staff.clone();
        let card = fx.cards[i].clone();
        let barcode = fx.barcodes[i].clone();
        tasks.push(tokio::spawn(async move {
            let mut pairs = 0usize;
            while Instant::now() < deadline && pairs < MAX_REQUESTS_PER_CLIENT {
                server
                    .post(
                        "/api/v1/circulation/checkouts",
                        Some(&staff),
                        json!({"card_number": card, "item_barcode": barcode,
                               "library_code": "CEN"}),
                        201,
                    )
                    .await;
                server
                    .post(
                        "/api/v1/circulation/checkins",
                        Some(&staff),
                        json!({"item_barcode": barcode, "library_code": "CEN"}),
                        200,
                    )
                    .await;
                pairs += 1;
            }
            pairs
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("client");
    }
    (total, start.elapsed())
}

/// (a) The persistence adapter's raw checkout and checkin transactions, the same 8 clients
/// each with its own reader and item, on the server's database (the server idle). Raw
/// checkout+checkin pairs in one [`ROUND`], and the time taken.
async fn raw_pairs(url: &str, fx: &Fixture) -> (usize, Duration) {
    let db = library_persistence::Database::connect(url)
        .await
        .expect("connect for the raw transactions");
    let library = LibraryCode::parse("CEN").expect("library code");
    let mut pairs_of = Vec::new();
    for i in 0..CLIENTS {
        let mut tx = db.circulation().begin().await.expect("begin");
        let card = CardNumber::parse(&fx.cards[i]).expect("card");
        let patron = tx
            .patron_by_card_for_update(&card)
            .await
            .expect("patron")
            .expect("patron exists")
            .id;
        let barcode = Barcode::parse(&fx.barcodes[i]).expect("barcode");
        let item = tx
            .item_by_barcode(&barcode)
            .await
            .expect("item")
            .expect("item exists")
            .id;
        pairs_of.push((patron, item));
    }
    let db = Arc::new(db);
    let start = Instant::now();
    let deadline = start + ROUND;
    let mut tasks = Vec::new();
    for (patron, item) in pairs_of {
        let db = Arc::clone(&db);
        let library = library.clone();
        tasks.push(tokio::spawn(async move {
            let mut pairs = 0usize;
            while Instant::now() < deadline && pairs < MAX_REQUESTS_PER_CLIENT {
                let now = time::OffsetDateTime::now_utc();
                let mut tx = db.circulation().begin().await.expect("begin");
                tx.item_for_update(item).await.expect("lock").expect("item");
                tx.insert_loan(NewLoan {
                    patron,
                    item,
                    library: library.clone(),
                    borrowed_at: now,
                    due: DueDate {
                        on: now.date(),
                        at: now,
                    },
                })
                .await
                .expect("insert loan");
                tx.set_item_status(item, ItemStatus::OnLoan)
                    .await
                    .expect("status");
                tx.commit().await.expect("commit checkout");

                let mut tx = db.circulation().begin().await.expect("begin");
                tx.item_for_update(item).await.expect("lock").expect("item");
                let mut loan = tx
                    .open_loan_of_item(item)
                    .await
                    .expect("loan")
                    .expect("open loan");
                loan.returned_at = Some(now);
                loan.returned_to = Some(library.clone());
                tx.update_loan(&loan).await.expect("close loan");
                tx.set_item_status(item, ItemStatus::Available)
                    .await
                    .expect("status");
                tx.commit().await.expect("commit checkin");
                pairs += 1;
            }
            pairs
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("raw client");
    }
    let elapsed = start.elapsed();
    if let Ok(db) = Arc::try_unwrap(db) {
        db.close().await.ok();
    }
    (total, elapsed)
}

/// Login clients until `stop` (or the deadline); successful logins.
fn spawn_logins(
    server: &Arc<Server>,
    cards: &[String],
    deadline: Instant,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<usize>> {
    cards
        .iter()
        .map(|card| {
            let server = Arc::clone(server);
            let card = card.clone();
            let stop = Arc::clone(stop);
            tokio::spawn(async move {
                let mut ok = 0usize;
                let mut sent = 0usize;
                while Instant::now() < deadline
                    && !stop.load(Ordering::Relaxed)
                    && sent < MAX_REQUESTS_PER_CLIENT
                {
                    sent += 1;
                    if server.login(&card).await == 200 {
                        ok += 1;
                    }
                }
                ok
            })
        })
        .collect()
}

/// (b) Successful Password logins in [`ROUND`], and the time taken.
async fn logins(server: &Arc<Server>, fx: &Fixture) -> (usize, Duration) {
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = spawn_logins(server, &fx.cards[..CLIENTS], start + ROUND, &stop);
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("client");
    }
    (total, start.elapsed())
}

/// (b) Standalone verifications on 2 threads in [`ROUND`], and the time taken.
fn verifications() -> (usize, Duration) {
    let hasher = Arc::new(Argon2Hasher::owasp_minimum());
    let hash = hasher
        .hash_sync(&Secret::new(READER_PASSWORD))
        .expect("hash");
    let start = Instant::now();
    let deadline = start + ROUND;
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let hasher = Arc::clone(&hasher);
            let hash = hash.clone();
            std::thread::spawn(move || {
                let secret = Secret::new(READER_PASSWORD);
                let mut n = 0usize;
                while Instant::now() < deadline && n < MAX_REQUESTS_PER_CLIENT {
                    assert!(hasher.verify_sync(&secret, Some(&hash)));
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: usize = threads.into_iter().map(|t| t.join().expect("thread")).sum();
    (total, start.elapsed())
}

/// (c) Latencies of `GET /api/v1/me/loans` from one client, sequential requests, for one
/// [`ROUND`].
async fn loans_latencies(server: &Server, token: &str, samples: &mut Vec<Duration>) {
    let deadline = Instant::now() + ROUND;
    let mut sent = 0;
    while Instant::now() < deadline && sent < MAX_REQUESTS_PER_CLIENT {
        sent += 1;
        let t = Instant::now();
        let (status, body) = server
            .send(reqwest::Method::GET, "/api/v1/me/loans", Some(token), None)
            .await;
        samples.push(t.elapsed());
        assert_eq!(status, 200, "GET /me/loans: {body}");
    }
}

/// Slow clients (slowloris): each opens a connection and sends a request's headers one
/// byte every 500 ms, reconnecting when the server closes it (the header deadline), until
/// `stop`.
const SLOW_CLIENTS: usize = 200;

async fn spawn_slow_clients(
    base: &str,
    n: usize,
    stop: &Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    use tokio::io::AsyncWriteExt;
    let addr = base.trim_start_matches("http://").to_owned();
    let stop = stop.clone();
    tokio::spawn(async move {
        let mut conns: Vec<Option<tokio::net::TcpStream>> = Vec::new();
        for _ in 0..n {
            conns.push(tokio::net::TcpStream::connect(&addr).await.ok());
        }
        for conn in conns.iter_mut().flatten() {
            let _ = conn
                .write_all(b"GET /health HTTP/1.1\r\nHost: library\r\n")
                .await;
        }
        while !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(500)).await;
            for conn in &mut conns {
                let alive = match conn {
                    Some(c) => c.write_all(b"X").await.is_ok(),
                    None => false,
                };
                if !alive {
                    *conn = tokio::net::TcpStream::connect(&addr).await.ok();
                    if let Some(c) = conn {
                        let _ = c.write_all(b"GET /health HTTP/1.1\r\nX-Slow: ").await;
                    }
                }
            }
        }
    })
}

/// The 99th percentile of `samples`, and how many there were.
fn p99(mut samples: Vec<Duration>) -> (Duration, usize) {
    samples.sort_unstable();
    let idx = (samples.len() * 99).div_ceil(100).saturating_sub(1);
    (samples[idx], samples.len())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The process's peak resident set since the last [`reset_peak_memory`] (or its start), in
/// KiB: `VmHWM` of `/proc/self/status`; `None` where there is none.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Starts a new peak: the kernel sets the high-water mark to the current resident set.
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peaks of the parts of the run, in KiB.
#[derive(Default)]
struct PeakMemory(Vec<(&'static str, u64)>);

impl PeakMemory {
    /// Records the peak of the part just finished as `part`, and starts a new one.
    fn part(&mut self, part: &'static str) {
        if let Some(kib) = peak_memory_kib() {
            self.0.push((part, kib));
        }
        reset_peak_memory();
    }

    fn rows(&self) -> Vec<String> {
        let Some(largest) = self.0.iter().map(|&(_, kib)| kib).max() else {
            return vec!["peak RSS: not available (no /proc/self/status)".to_owned()];
        };
        let mib = |kib: u64| kib as f64 / 1024.0;
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|&(part, kib)| format!("{part} {:.0}", mib(kib)))
            .collect();
        vec![format!(
            "peak RSS of the process (server inside it, with the clients): {:.0} MiB \
             (per part, MiB: {})",
            mib(largest),
            parts.join(", ")
        )]
    }
}

/// (e) One station's patron-status latencies over one connection logged in, for one
/// [`ROUND`].
async fn station_latencies(
    station: &mut (
        tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>,
        tokio::net::tcp::OwnedWriteHalf,
    ),
    card: &str,
    samples: &mut Vec<Duration>,
) {
    let deadline = Instant::now() + ROUND;
    let mut sent = 0;
    while Instant::now() < deadline && sent < MAX_REQUESTS_PER_CLIENT {
        sent += 1;
        let t = Instant::now();
        let answer = sip2_call(station, &format!("23001{SIP2_DATE}AOCEN|AA{card}|AC|")).await;
        samples.push(t.elapsed());
        assert!(answer.starts_with("24"), "patron status: {answer:?}");
    }
}

const SIP2_DATE: &str = "20210601    100000";
/// (e) The server's refusal hold as shipped (`LIBRARY_SIP2_REFUSAL_HOLD_MS`); (e) also runs
/// with 0 (closed at once), to show what the hold does.
const SIP2_HOLD_MS: u64 = library_setup::DEFAULT_SIP2_REFUSAL_HOLD_MS;

/// How (e)'s row names the hold.
fn hostile_held(hold_ms: u64) -> String {
    if hold_ms == 0 {
        "refused ones closed at once".to_owned()
    } else {
        format!("refused ones held {hold_ms} ms")
    }
}
const STATION_PASSWORD: &str = "kiosk-pass-2026";
/// (e) Hostile SIP2 connections kept going at once: half silent, half garbage.
const SIP2_HOSTILE: usize = 200;

async fn sip2_call(
    station: &mut (
        tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>,
        tokio::net::tcp::OwnedWriteHalf,
    ),
    line: &str,
) -> String {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    station
        .1
        .write_all(format!("{line}\r").as_bytes())
        .await
        .expect("send");
    let mut buf = Vec::new();
    station.0.read_until(b'\r', &mut buf).await.expect("answer");
    String::from_utf8_lossy(&buf).trim_end().to_owned()
}

/// (e) Hostile SIP2 clients from 127.0.0.2–7 until `stop`: each connects and stays silent
/// (even ones) or sends garbage (random bytes, an overlong line, half a message), and
/// connects again once the server closes it (the caps close most at once, the login
/// deadline the rest).
fn spawn_sip2_hostile(
    addr: std::net::SocketAddr,
    n: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    (0..n)
        .map(|i| {
            let stop = stop.clone();
            tokio::spawn(async move {
                let from: std::net::IpAddr =
                    format!("127.0.0.{}", 2 + i % 6).parse().expect("address");
                let mut seed = i as u64 + 1;
                while !stop.load(Ordering::Relaxed) {
                    let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
                        return;
                    };
                    if socket.bind(std::net::SocketAddr::new(from, 0)).is_err() {
                        return;
                    }
                    let Ok(mut conn) = socket.connect(addr).await else {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    let garbage: Vec<u8> = match i % 6 {
                        1 => (0..2048)
                            .map(|_| {
                                seed = seed
                                    .wrapping_mul(6364136223846793005)
                                    .wrapping_add(1442695040888963407);
                                seed.to_be_bytes()[3]
                            })
                            .collect(),
                        3 => vec![b'A'; 32 * 1024],
                        5 => b"23001".to_vec(),
                        _ => Vec::new(),
                    };
                    let _ = conn.write_all(&garbage).await;
                    let mut sink = [0u8; 1024];
                    // Until the server closes it (or the round ends).
                    loop {
                        match tokio::time::timeout(Duration::from_millis(200), conn.read(&mut sink))
                            .await
                        {
                            Ok(Ok(0) | Err(_)) => break,
                            Ok(Ok(_)) => {}
                            Err(_) if stop.load(Ordering::Relaxed) => return,
                            Err(_) => {}
                        }
                    }
                }
            })
        })
        .collect()
}

/// (e) The p99 of a station's patron status, quiet and under [`SIP2_HOSTILE`] hostile SIP2
/// connections, in [`ROUNDS`] alternated rounds, with the server holding refused
/// connections `hold_ms` before closing them; a line for the table.
async fn sip2_figure(hold_ms: u64) -> String {
    let db = Db::Sqlite(std::env::temp_dir().join(format!("library_sip2_bench_{}.db", suffix())));
    let server = Server::spawn_with(&db.url(), Some(hold_ms)).await;
    let fx = setup(&server, 1).await;
    server
        .post(
            "/api/v1/sip2/stations",
            Some(&fx.staff),
            json!({"username": "bench01", "password": STATION_PASSWORD,
                   "library_code": "CEN", "pin_required": false}),
            201,
        )
        .await;
    let addr = server.sip2.expect("SIP2");
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (read, write) = stream.into_split();
    let mut station = (tokio::io::BufReader::new(read), write);
    let login = sip2_call(
        &mut station,
        &format!("9300CNbench01|CO{STATION_PASSWORD}|CPCEN|"),
    )
    .await;
    assert_eq!(login, "941");
    let card = fx.cards[0].clone();
    let (mut quiet, mut attacked) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        station_latencies(&mut station, &card, &mut quiet).await;
        let stop = Arc::new(AtomicBool::new(false));
        let hostile = spawn_sip2_hostile(addr, SIP2_HOSTILE, &stop);
        tokio::time::sleep(Duration::from_millis(200)).await;
        station_latencies(&mut station, &card, &mut attacked).await;
        stop.store(true, Ordering::Relaxed);
        for task in hostile {
            let _ = task.await;
        }
    }
    let ((quiet, quiet_n), (attacked, attacked_n)) = (p99(quiet), p99(attacked));
    let held = hostile_held(hold_ms);
    println!(
        "(e) p99 SIP2 patron status, quiet: {:.2} ms ({quiet_n} requests); \
         {SIP2_HOSTILE} idle and garbage connections, {held}: {:.2} ms ({attacked_n} requests)",
        ms(quiet),
        ms(attacked)
    );
    drop(station);
    server.shutdown().await;
    db.drop_db().await;
    format!(
        "(e) p99 SIP2 patron status with {SIP2_HOSTILE} idle and garbage connections, {held}, \
         {:.2} ms ÷ quiet {:.2} ms = {:.1}",
        ms(attacked),
        ms(quiet),
        attacked.as_secs_f64() / quiet.as_secs_f64()
    )
}

async fn run() {
    if std::env::var("LIBRARY_BENCH_ONLY").as_deref() == Ok("sip2") {
        let rows = [sip2_figure(SIP2_HOLD_MS).await, sip2_figure(0).await];
        println!();
        for row in rows {
            println!("  {row}");
        }
        return;
    }
    let mut rows: Vec<String> = Vec::new();
    let mut memory = PeakMemory::default();

    // SQLite: (a), (b), (c).
    let db = Db::Sqlite(std::env::temp_dir().join(format!("library_http_bench_{}.db", suffix())));
    let server = Arc::new(Server::spawn(&db.url()).await);
    let fx = setup(&server, FLOOD_CLIENTS + 1).await;
    memory.part("setup");
    let (sqlite_pairs, sqlite_raw) = pair_rates(&server, &db.url(), &fx).await;
    memory.part("(a) sqlite");
    println!("(a) sqlite   checkout+checkin pairs/s: {sqlite_pairs:.0}");
    println!("(a) sqlite   raw transaction pairs/s: {sqlite_raw:.0}");

    let (mut logged_in, mut login_time) = (0, Duration::ZERO);
    let (mut verified, mut verify_time) = (0, Duration::ZERO);
    for _ in 0..ROUNDS {
        let (n, t) = logins(&server, &fx).await;
        logged_in += n;
        login_time += t;
        let (n, t) = verifications();
        verified += n;
        verify_time += t;
    }
    let logins_per_s = logged_in as f64 / login_time.as_secs_f64();
    println!("(b) logins/s (HTTP, {CLIENTS} clients): {logins_per_s:.1}");
    let verifies_per_s = verified as f64 / verify_time.as_secs_f64();
    println!("(b) verify_sync/s (2 threads): {verifies_per_s:.1}");
    memory.part("(b)");

    // The latency reader (the last) holds one loan, of the title no client lends.
    let reader = FLOOD_CLIENTS;
    server
        .post(
            "/api/v1/circulation/checkouts",
            Some(&fx.staff),
            json!({"card_number": fx.cards[reader], "item_barcode": fx.barcodes[CLIENTS],
                   "library_code": "CEN"}),
            201,
        )
        .await;
    let token = fx.sessions[reader].clone();
    let (mut quiet, mut busy) = (Vec::new(), Vec::new());
    let mut flood_logins = 0;
    for _ in 0..ROUNDS {
        loans_latencies(&server, &token, &mut quiet).await;
        let stop = Arc::new(AtomicBool::new(false));
        let flood = spawn_logins(
            &server,
            &fx.cards[..FLOOD_CLIENTS],
            Instant::now() + ROUND + Duration::from_secs(5),
            &stop,
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        loans_latencies(&server, &token, &mut busy).await;
        stop.store(true, Ordering::Relaxed);
        for task in flood {
            flood_logins += task.await.unwrap_or(0);
        }
    }
    // (d) The same reads while 200 slow clients drip their headers a byte at a time.
    let mut slowed = Vec::new();
    for _ in 0..ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let drip = spawn_slow_clients(&server.base, SLOW_CLIENTS, &stop).await;
        loans_latencies(&server, &token, &mut slowed).await;
        stop.store(true, Ordering::Relaxed);
        let _ = drip.await;
    }
    memory.part("(c) and (d)");
    let (slowed, slowed_n) = p99(slowed);
    println!(
        "(d) p99 GET /me/loans, {SLOW_CLIENTS} slow clients: {:.2} ms ({slowed_n} requests)",
        ms(slowed)
    );
    let ((quiet, quiet_n), (busy, busy_n)) = (p99(quiet), p99(busy));
    println!(
        "(c) p99 GET /me/loans, quiet: {:.2} ms ({quiet_n} requests)",
        ms(quiet)
    );
    println!(
        "(c) p99 GET /me/loans, login flood ({FLOOD_CLIENTS} clients, {flood_logins} logins): \
         {:.2} ms ({busy_n} requests)",
        ms(busy)
    );
    drop(fx);
    if let Ok(server) = Arc::try_unwrap(server) {
        server.shutdown().await;
    }
    db.drop_db().await;

    rows.push(format!(
        "(a) sqlite     HTTP pairs/s {sqlite_pairs:>6.0} ÷ raw pairs/s {sqlite_raw:>6.0} = {:.2}",
        sqlite_pairs / sqlite_raw
    ));

    // PostgreSQL: (a) only.
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("lib_http_bench_{}", suffix());
            let admin = sea_orm::Database::connect(&admin_url)
                .await
                .expect("connect to PostgreSQL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            admin.close().await.ok();
            let db = Db::Postgres { admin_url, name };
            let server = Arc::new(Server::spawn(&db.url()).await);
            let fx = setup(&server, CLIENTS).await;
            reset_peak_memory();
            let (pg_pairs, pg_raw) = pair_rates(&server, &db.url(), &fx).await;
            memory.part("(a) postgres");
            println!("(a) postgres checkout+checkin pairs/s: {pg_pairs:.0}");
            println!("(a) postgres raw transaction pairs/s: {pg_raw:.0}");
            if let Ok(server) = Arc::try_unwrap(server) {
                server.shutdown().await;
            }
            db.drop_db().await;
            rows.push(format!(
                "(a) postgres   HTTP pairs/s {pg_pairs:>6.0} ÷ raw pairs/s {pg_raw:>6.0} = {:.2}",
                pg_pairs / pg_raw
            ));
        }
        _ => println!("note: {POSTGRES_URL_VAR} is not set; PostgreSQL is not benchmarked"),
    }

    rows.push(format!(
        "(b) logins/s {logins_per_s:.1} ÷ verify_sync/s {verifies_per_s:.1} = {:.2}",
        logins_per_s / verifies_per_s
    ));
    rows.push(format!(
        "(c) p99 /me/loans flood ({FLOOD_CLIENTS} clients) {:.2} ms ÷ quiet {:.2} ms = {:.1}",
        ms(busy),
        ms(quiet),
        busy.as_secs_f64() / quiet.as_secs_f64()
    ));
    rows.push(format!(
        "(d) p99 /me/loans with {SLOW_CLIENTS} slow clients {:.2} ms ÷ quiet {:.2} ms = {:.1}",
        ms(slowed),
        ms(quiet),
        slowed.as_secs_f64() / quiet.as_secs_f64()
    ));
    rows.push(sip2_figure(SIP2_HOLD_MS).await);
    rows.push(sip2_figure(0).await);
    memory.part("(e)");
    rows.extend(memory.rows());
    println!();
    println!("HTTP end to end, {CLIENTS} concurrent clients, loopback");
    for row in rows {
        println!("  {row}");
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}
