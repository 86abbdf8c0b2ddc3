//! Hostile clients against the binary: hundreds of HTTP connections dripping their headers
//! a byte a second, and hundreds of SIP2 connections that stay silent or send garbage,
//! while an ordinary client (a reader over HTTP, a station over SIP2) is served. Every
//! ordinary request is answered correctly within a generous bound (it bounds a hang, not a
//! speed: the speed under attack is a benchmark figure), the server's open file descriptors
//! stay bounded and fall back once the attack ends, and the server keeps serving after.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};

use crate::server::{Options, Server};
use crate::support::{TestApp, standard_rules, test_databases};

/// An ordinary request's bound: far above its usual few milliseconds, far below the
/// deadlines an attacker could make it wait for.
const BOUND: Duration = Duration::from_secs(2);
/// A station login's bound (see [`Station::login`]).
const LOGIN_BOUND: Duration = Duration::from_secs(10);

/// The open file descriptors of process `pid`.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Runs `attack` copies of `attacker` until `stop`; polls the server's descriptors every
/// 250 ms meanwhile. The most seen.
async fn peak_fds(pid: u32, stop: &AtomicBool) -> usize {
    let mut peak = 0;
    while !stop.load(Ordering::Relaxed) {
        peak = peak.max(open_fds(pid));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    peak
}

/// A connection from `from` (any 127.0.0.0/8 address reaches the loopback listener).
async fn connect_from(from: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from.parse().expect("address"), 0))?;
    socket.connect(to).await
}

/// A slow client: a request's header, one byte a second; a new connection whenever the
/// server closes the one it has (or answers: a 408, say). Counts its connections.
async fn slowloris(to: SocketAddr, stop: Arc<AtomicBool>, connections: Arc<AtomicU64>) {
    let header = b"GET /api/v1/me/loans HTTP/1.1\r\nHost: library\r\nX-Padding: ";
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = TcpStream::connect(to).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        connections.fetch_add(1, Ordering::Relaxed);
        let mut sent = 0usize;
        let mut buf = [0u8; 512];
        while !stop.load(Ordering::Relaxed) {
            let byte = header.get(sent).copied().unwrap_or(b'a');
            if stream.write_all(&[byte]).await.is_err() {
                break;
            }
            sent += 1;
            match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await {
                Err(_) => {}                 // a second passed: the next byte
                Ok(Ok(0) | Err(_)) => break, // closed
                Ok(Ok(_)) => break,          // answered (and about to close)
            }
        }
    }
}

/// The ordinary reader and counter: `GET /me/loans` and a checkout+checkin pair, again
/// and again, each on a new connection and bounded by [`BOUND`]. The number of rounds,
/// and what went wrong.
async fn ordinary_http(
    base: &str,
    reader: &str,
    staff: &str,
    card: &str,
    stop: &AtomicBool,
) -> (u32, Vec<String>) {
    let client = reqwest::Client::builder()
        .timeout(BOUND)
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let (mut rounds, mut wrong) = (0, Vec::new());
    while !stop.load(Ordering::Relaxed) {
        let loans = client
            .get(format!("{base}/api/v1/me/loans"))
            .bearer_auth(reader)
            .send()
            .await;
        match loans {
            Ok(r) if r.status() == 200 => {}
            Ok(r) => wrong.push(format!("GET /me/loans: {}", r.status())),
            Err(e) => wrong.push(format!("GET /me/loans: {e}")),
        }
        let out = client
            .post(format!("{base}/api/v1/circulation/checkouts"))
            .bearer_auth(staff)
            .json(&json!({"card_number": card, "item_barcode": "HST0001", "library_code": "CEN"}))
            .send()
            .await;
        match out {
            Ok(r) if r.status() == 201 => {}
            Ok(r) => wrong.push(format!("checkout: {}", r.status())),
            Err(e) => wrong.push(format!("checkout: {e}")),
        }
        let back = client
            .post(format!("{base}/api/v1/circulation/checkins"))
            .bearer_auth(staff)
            .json(&json!({"item_barcode": "HST0001", "library_code": "CEN"}))
            .send()
            .await;
        match back {
            Ok(r) if r.status() == 200 => {}
            Ok(r) => wrong.push(format!("checkin: {}", r.status())),
            Err(e) => wrong.push(format!("checkin: {e}")),
        }
        rounds += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (rounds, wrong)
}

/// A library `CEN` under the standard rules, copy `HST0001` and a reader; the staff token,
/// the card and the reader's token.
async fn counter(app: &TestApp, phone: &str) -> (String, String, String) {
    let staff = app.staff_token().await;
    app.library(&staff, "CEN", "district").await;
    app.rules(&staff, json!({}), standard_rules())
        .await
        .expect(200, "");
    let title = app.title(&staff, "Seven Pillars of Wisdom").await;
    app.item(&staff, title, "HST0001", "CEN").await;
    let card = app.reader(&staff, phone).await;
    let reader = app.reader_session(&card, phone).await;
    (staff, card, reader)
}

/// How many slow HTTP clients.
const SLOW_CLIENTS: usize = 300;
/// How long each attack lasts.
const ATTACK: Duration = Duration::from_secs(6);

#[tokio::test(flavor = "multi_thread")]
#[ignore = "outside-in suite: run by `cargo xtask outside`"]
async fn slow_http_clients_do_not_stop_ordinary_requests() {
    for db in test_databases().await {
        let (url, label) = (db.url(), db.label());
        // A header deadline of 2 s (10 s in production), so the suite sees the slow
        // clients closed and reconnecting several times.
        let server = Server::start(
            &url,
            label,
            &Options {
                env: vec![("LIBRARY_HTTP_READ_TIMEOUT_SECS".into(), "2".into())],
                ..Options::default()
            },
        )
        .await;
        let app = server.app();
        let (staff, card, reader) = counter(&app, "91234567").await;
        let pid = server.pid();
        let to: SocketAddr = server.base["http://".len()..].parse().expect("address");
        let before = open_fds(pid);

        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicU64::new(0));
        let attackers: Vec<_> = (0..SLOW_CLIENTS)
            .map(|_| tokio::spawn(slowloris(to, stop.clone(), connections.clone())))
            .collect();
        let ordinary_stop = AtomicBool::new(false);
        let started = Instant::now();
        let ((rounds, wrong), peak) = tokio::join!(
            ordinary_http(&server.base, &reader, &staff, &card, &ordinary_stop),
            async {
                let peak = peak_fds(pid, &ordinary_stop);
                let timer = async {
                    tokio::time::sleep(ATTACK).await;
                    ordinary_stop.store(true, Ordering::Relaxed);
                };
                tokio::join!(peak, timer).0
            }
        );
        stop.store(true, Ordering::Relaxed);
        for attacker in attackers {
            attacker.await.expect("attacker");
        }
        let attack = started.elapsed();
        assert!(wrong.is_empty(), "{label}: {wrong:#?}");
        assert!(rounds > 0, "{label}: the ordinary client was served");
        let opened = connections.load(Ordering::Relaxed);
        assert!(
            opened > SLOW_CLIENTS as u64,
            "{label}: the slow clients were closed at the deadline and came back ({opened})"
        );
        // One descriptor per connection, a few spare: never more than the attackers.
        assert!(
            peak <= before + SLOW_CLIENTS + 32,
            "{label}: {peak} descriptors under attack, {before} before"
        );

        // Once they are gone, the descriptors fall back and the server serves as before.
        let settle = Instant::now();
        let mut after = open_fds(pid);
        while after > before + 16 && settle.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            after = open_fds(pid);
        }
        assert!(
            after <= before + 16,
            "{label}: {after} descriptors after, {before} before"
        );
        let quiet = AtomicBool::new(false);
        let (after_rounds, after_wrong) = tokio::join!(
            ordinary_http(&server.base, &reader, &staff, &card, &quiet),
            async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                quiet.store(true, Ordering::Relaxed);
            }
        )
        .0;
        assert!(
            after_wrong.is_empty() && after_rounds > 0,
            "{after_wrong:#?}"
        );
        eprintln!(
            "{label}: slow HTTP: {SLOW_CLIENTS} clients, {opened} connections in {attack:?}; \
             {rounds} ordinary rounds (3 requests each) all answered within {BOUND:?}; \
             descriptors {before} before, {peak} at most during, {after} after"
        );
        server.terminate().await;
        drop(db);
    }
}

// ---------------------------------------------------------------------------------------
// SIP2.
// ---------------------------------------------------------------------------------------

const STATION: &str = "hs01";
const STATION_PASSWORD: &str = "kiosk-pass-2026";
const DATE: &str = "20210601    100000";

/// A station's connection, one line at a time, each answer bounded by [`BOUND`].
struct Station {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Station {
    async fn connect(to: SocketAddr) -> Station {
        let stream = connect_from("127.0.0.1", to).await.expect("connect");
        let (read, write) = stream.into_split();
        Station {
            reader: BufReader::new(read),
            writer: write,
        }
    }

    /// The answer to `line`, or why there was none within [`BOUND`].
    async fn call(&mut self, line: &str) -> Result<String, String> {
        self.call_within(line, BOUND).await
    }

    /// A login: its password is verified by Argon2 on the server's hashing threads, which
    /// run at nice 19, so a machine busy with other work (a build beside the suite) slows
    /// it more than anything else; bounded by [`LOGIN_BOUND`].
    async fn login(&mut self) -> Result<String, String> {
        self.call_within(
            &format!("9300CN{STATION}|CO{STATION_PASSWORD}|CPKLN|"),
            LOGIN_BOUND,
        )
        .await
    }

    async fn call_within(&mut self, line: &str, bound: Duration) -> Result<String, String> {
        let started = Instant::now();
        self.writer
            .write_all(format!("{line}\r").as_bytes())
            .await
            .map_err(|e| format!("{line:?}: send: {e}"))?;
        let mut buf = Vec::new();
        match tokio::time::timeout(bound, self.reader.read_until(b'\r', &mut buf)).await {
            Err(_) => Err(format!("{line:?}: no answer within {bound:?}")),
            Ok(Ok(0) | Err(_)) => Err(format!("{line:?}: closed after {:?}", started.elapsed())),
            Ok(Ok(_)) => Ok(String::from_utf8_lossy(&buf).trim_end().to_owned()),
        }
    }
}

/// What the hostile SIP2 connections do.
#[derive(Clone, Copy, Debug)]
enum Garbage {
    /// Connect and send nothing.
    Idle,
    /// Random bytes.
    Random,
    /// One line longer than any message, never ended.
    Overlong,
    /// A good login, then random bytes.
    LoginThenNoise,
    /// Half a patron-status message, then silence.
    HalfMessage,
}

/// One hostile connection from `from`: does what `kind` says, then waits (at most 30 s)
/// for the server to close it; how long the server took from the connection. A station
/// logged in may stay connected (its read timeout is 300 s): after its garbage it gets 3 s,
/// then this side closes it (`None`).
async fn hostile(
    kind: Garbage,
    from: &str,
    to: SocketAddr,
    seed: u64,
) -> Result<Option<Duration>, String> {
    let started = Instant::now();
    let stream = connect_from(from, to)
        .await
        .map_err(|e| format!("{kind:?}: connect: {e}"))?;
    let (mut read, mut write) = stream.into_split();
    let mut random = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                random = random
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                random.to_be_bytes()[3]
            })
            .collect()
    };
    // Writes may fail once the server has closed: that is an outcome, not an error.
    let _ = match kind {
        Garbage::Idle => Ok(()),
        Garbage::Random => write.write_all(&noise(4096)).await,
        Garbage::Overlong => write.write_all(&vec![b'A'; 64 * 1024]).await,
        Garbage::LoginThenNoise => {
            let login = format!("9300CN{STATION}|CO{STATION_PASSWORD}|CPKLN|\r");
            let _ = write.write_all(login.as_bytes()).await;
            write.write_all(&noise(4096)).await
        }
        Garbage::HalfMessage => write.write_all(b"23001").await,
    };
    let mut sink = vec![0u8; 8192];
    let wait = match kind {
        Garbage::LoginThenNoise => Duration::from_secs(3),
        _ => Duration::from_secs(30),
    };
    loop {
        match tokio::time::timeout(wait, read.read(&mut sink)).await {
            Err(_) if matches!(kind, Garbage::LoginThenNoise) => return Ok(None),
            Err(_) => return Err(format!("{kind:?}: still open after 30 s")),
            Ok(Ok(0) | Err(_)) => return Ok(Some(started.elapsed())),
            Ok(Ok(_)) => {} // an answer (`96`, a `94`): read on until the close
        }
    }
}

/// How many hostile SIP2 connections of each kind (from six addresses, 127.0.0.2–7).
const PER_KIND: usize = 60;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "outside-in suite: run by `cargo xtask outside`"]
async fn idle_and_garbage_sip2_connections_do_not_stop_a_station() {
    for db in test_databases().await {
        let (url, label) = (db.url(), db.label());
        let server = Server::start(
            &url,
            label,
            &Options {
                sip2: true,
                dev_clock: true,
                env: vec![("LIBRARY_SIP2_LOGIN_DEADLINE_SECS".into(), "1".into())],
            },
        )
        .await;
        let app = server.app();
        app.set_clock(crate::support::hk("2021-06-01T10:00:00"))
            .await;
        let (staff, card, _) = counter(&app, "98765432").await;
        app.library(&staff, "KLN", "district").await;
        // The station's copy is at home at the station's library, so a checkin there puts
        // it back on the shelf (not in transit).
        let title = app.title(&staff, "The Analects").await;
        app.item(&staff, title, "HST0002", "KLN").await;
        app.post(
            "/api/v1/sip2/stations",
            Some(&staff),
            json!({"username": STATION, "password": STATION_PASSWORD,
                   "library_code": "KLN", "pin_required": false}),
        )
        .await
        .expect(201, "");
        let to: SocketAddr = server.sip2.as_deref().expect("SIP2").parse().expect("addr");
        let pid = server.pid();
        let before = open_fds(pid);

        // The station logs in before the attack and keeps its connection.
        let mut station = Station::connect(to).await;
        assert_eq!(station.login().await, Ok("941".to_owned()), "{label}");

        let kinds = [
            Garbage::Idle,
            Garbage::Random,
            Garbage::Overlong,
            Garbage::LoginThenNoise,
            Garbage::HalfMessage,
        ];
        let attack_stop = AtomicBool::new(false);
        let attack = async {
            let mut connections = Vec::new();
            for (k, kind) in kinds.iter().enumerate() {
                for i in 0..PER_KIND {
                    let from = format!("127.0.0.{}", 2 + (k * PER_KIND + i) % 6);
                    let seed = (k * PER_KIND + i) as u64;
                    connections.push(async move { hostile(*kind, &from, to, seed).await });
                }
            }
            let outcomes = crate::support::futures_join_all(connections).await;
            attack_stop.store(true, Ordering::Relaxed);
            outcomes
        };
        let normal = async {
            let (mut rounds, mut wrong) = (0u32, Vec::new());
            let started = Instant::now();
            // At least 3 s, and on until the attack is over.
            while started.elapsed() < Duration::from_secs(3) || !attack_stop.load(Ordering::Relaxed)
            {
                let status = station
                    .call(&format!("23001{DATE}AOKLN|AA{card}|AC|"))
                    .await;
                if !status.as_deref().is_ok_and(|s| s.starts_with("24")) {
                    wrong.push(format!("patron status: {status:?}"));
                }
                let blank = " ".repeat(18);
                let out = station
                    .call(&format!("11YN{DATE}{blank}AOKLN|AA{card}|ABHST0002|AC|"))
                    .await;
                if !out.as_deref().is_ok_and(|s| s.starts_with("121")) {
                    wrong.push(format!("checkout: {out:?}"));
                }
                let back = station
                    .call(&format!("09N{DATE}{DATE}APKLN|AOKLN|ABHST0002|AC|"))
                    .await;
                if !back.as_deref().is_ok_and(|s| s.starts_with("101")) {
                    wrong.push(format!("checkin: {back:?}"));
                }
                // A new login during the attack finds room too.
                let mut fresh = Station::connect(to).await;
                let login = fresh.login().await;
                if login.as_deref() != Ok("941") {
                    wrong.push(format!("a new login: {login:?}"));
                }
                rounds += 1;
                if wrong.len() > 20 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (rounds, wrong)
        };
        let started = Instant::now();
        let (outcomes, (rounds, wrong), peak) =
            tokio::join!(attack, normal, peak_fds(pid, &attack_stop));
        let took = started.elapsed();
        assert!(wrong.is_empty(), "{label}: {wrong:#?}");
        let still_open: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
        assert!(still_open.is_empty(), "{label}: {still_open:#?}");
        let closed: Vec<Duration> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok().copied().flatten())
            .collect();
        let longest = closed.iter().max().copied().unwrap_or_default();
        assert!(
            peak <= before + kinds.len() * PER_KIND + 32,
            "{label}: {peak} descriptors under attack, {before} before"
        );

        // Still serving: the station, and HTTP.
        assert!(
            station
                .call(&format!("23001{DATE}AOKLN|AA{card}|AC|"))
                .await
                .is_ok_and(|s| s.starts_with("24")),
            "{label}"
        );
        app.get(&format!("/api/v1/patrons/{card}"), Some(&staff))
            .await
            .expect(200, "");
        let after = open_fds(pid);
        eprintln!(
            "{label}: SIP2: {} hostile connections in {took:?}, {} closed by the server \
             (the last {longest:?} after it connected), the rest logged in; {rounds} station rounds (status, \
             checkout, checkin within {BOUND:?}, a new login within {LOGIN_BOUND:?}) all answered; descriptors \
             {before} before, {peak} at most during, {after} after",
            outcomes.len(),
            closed.len()
        );
        drop(station);
        server.terminate().await;
        drop(db);
    }
}
