//! Checkout and checkin latency as the loan history grows: the circulation service's
//! checkout and checkin (`library_persistence::application::circulation`, what every
//! channel calls: the reader's and copy's locks, the open loans, charges and holds read,
//! the loan written, the statistics row) on a database holding many returned loans,
//! against the same on a database holding 10,000, in the same run.
//!
//! Each backend gets two databases of its own, identical but for the history: 100,000
//! readers, 20,000 titles, 200,000 copies (three libraries, the district rules), and
//! 10,000 returned loans in the small one, `LIBRARY_BENCH_HISTORY` (default 10,000,000)
//! on PostgreSQL and `LIBRARY_BENCH_HISTORY_SQLITE` (default 1,000,000) on SQLite in the
//! large one. The history is written by one `INSERT … SELECT` over a series (no round trip
//! per loan), spread as a library's is: loan `x` goes to reader `1 + 7919·x mod 100,000`
//! and copy `1 + 104,729·x mod 200,000` (both multipliers prime, so every reader and copy
//! gets its share: 100 past loans a reader and 50 a copy at 10 million), lent by one of
//! the three libraries, borrowed at even steps over ten years from 2016, returned after
//! 7–13 days; one loan in twenty has a paid overdue fine (`charges`) and one in ten
//! collected a hold on its title (`holds`, status `collected`), so the charges a checkout
//! sums and the hold queue it reads have their history too. Then `VACUUM ANALYZE`
//! (PostgreSQL) or `ANALYZE` (SQLite), as autovacuum would. On PostgreSQL the bulk
//! statements skip the foreign keys' per-row checks (`session_replication_role =
//! replica` in their transaction, as a restore does); 10 million loans still take several
//! minutes to write.
//!
//! Measured: 100 readers spread over all readers, each lending and returning a copy of its
//! own (spread over all copies), one operation at a time; an untimed pass on each
//! database first, then five rounds alternating the two databases (the order flipped every
//! round), so that drift in the shared machine's speed affects both alike. Figures: the
//! median latency of the checkouts and of the checkins on each database, and the ratio
//! large ÷ small (also per round). On PostgreSQL the statistics views are reset before the
//! timed rounds and read after them: the sequential scans of every table during the rounds
//! are printed (a scan of `loans` would grow with the history).
//!
//! `LIBRARY_TEST_POSTGRES_URL` adds PostgreSQL; `LIBRARY_BENCH_HISTORY=100000` makes a
//! quick run.
//!
//! `CARGO_TARGET_DIR=/work/target-bench LIBRARY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p library-persistence --bench history`

// A benchmark reports on stdout.
#![allow(clippy::print_stdout)]
// Latencies and ratios are floating-point figures, not money or dates.
#![allow(clippy::float_arithmetic)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use library_circulation::service::{CheckinRequest, CheckoutRequest};
use library_core::{Barcode, CardNumber, LibraryCode, SystemClock};
use library_persistence::application::{DbCirculation, circulation};
use sea_orm::DbBackend;
use support::{BenchDb, POSTGRES_URL_VAR, env_count, median, populate};

const HISTORY_VAR: &str = "LIBRARY_BENCH_HISTORY";
const SQLITE_HISTORY_VAR: &str = "LIBRARY_BENCH_HISTORY_SQLITE";
const SMALL_HISTORY: u64 = 10_000;
const READERS: u64 = 100_000;
const TITLES: u64 = 20_000;
const ITEMS: u64 = 200_000;
/// Checkout + checkin pairs per database and round.
const PAIRS: u64 = 100;
const ROUNDS: usize = 5;
/// The history's ten years, in seconds.
const SPAN: u64 = 315_360_000;

/// Writes `n` returned loans in one statement; the time it took (with the vacuum).
async fn load_history(bench: &BenchDb, n: u64) -> Duration {
    let start = Instant::now();
    let step = (SPAN / n).max(1);
    let library = "CASE x % 3 WHEN 0 THEN 'HKCL' WHEN 1 THEN 'KLNL' ELSE 'MOB1' END";
    let (borrowed, due_on, due_at, returned) = match bench.backend {
        DbBackend::Postgres => {
            let b = format!(
                "(timestamptz '2016-01-04 02:00:00+00' + x * {step} * interval '1 second')"
            );
            (
                b.clone(),
                format!("({b} + interval '14 days')::date"),
                format!("{b} + interval '14 days'"),
                format!("{b} + (7 + x % 7) * interval '1 day'"),
            )
        }
        _ => {
            let e = format!("(1451872800 + x * {step})");
            let instant =
                |secs: &str| format!("strftime('%Y-%m-%dT%H:%M:%S.000000Z', {secs}, 'unixepoch')");
            (
                instant(&e),
                format!("date({e} + 14 * 86400, 'unixepoch')"),
                instant(&format!("{e} + 14 * 86400")),
                instant(&format!("{e} + (7 + x % 7) * 86400")),
            )
        }
    };
    bench
        .insert_series(
            "loans",
            "patron_id, item_id, library_code, borrowed_at, due_on, due_at, renewals, \
             returned_at, returned_to",
            &format!(
                "1 + (x * 7919) % {READERS}, 1 + (x * 104729) % {ITEMS}, {library}, \
                 {borrowed}, {due_on}, {due_at}, 0, {returned}, {library}"
            ),
            n,
            "",
        )
        .await;
    // One loan in twenty was returned late and its fine paid; one in ten collected a hold
    // (picked by a multiplicative hash of the id: a fixed residue of the id would pick
    // readers and titles of one residue only).
    let (charged_on, placed_at, trapped_on) = match bench.backend {
        DbBackend::Postgres => (
            "l.due_on + 3".to_owned(),
            "l.borrowed_at - interval '5 days'".to_owned(),
            "(l.borrowed_at - interval '1 day')::date".to_owned(),
        ),
        _ => (
            "date(l.due_on, '+3 days')".to_owned(),
            "strftime('%Y-%m-%dT%H:%M:%S.000000Z', l.borrowed_at, '-5 days')".to_owned(),
            "date(l.borrowed_at, '-1 day')".to_owned(),
        ),
    };
    bench
        .bulk(&format!(
            "INSERT INTO charges (patron_id, kind, loan_id, chargeable_days, amount, \
             charged_on, paid) SELECT l.patron_id, 'overdue_fine', l.id, 2, 300, {charged_on}, \
             300 FROM loans l WHERE l.id * 2654435761 % 1000 < 50"
        ))
        .await;
    bench
        .bulk(&format!(
            "INSERT INTO holds (patron_id, title_id, pickup_library, placed_at, queue_seq, \
             status, item_id, trapped_on, pickup_by, ended_at) SELECT l.patron_id, i.title_id, \
             l.library_code, {placed_at}, l.id, 'collected', l.item_id, {trapped_on}, \
             l.due_on, l.borrowed_at FROM loans l JOIN items i ON i.id = l.item_id \
             WHERE l.id * 2654435761 % 1000 >= 900"
        ))
        .await;
    bench.settle().await;
    start.elapsed()
}

/// A database with `history` returned loans, and its circulation service.
async fn prepare(backend: &str, history: u64) -> (BenchDb, Duration) {
    let bench = match backend {
        "postgres" => {
            let url = std::env::var(POSTGRES_URL_VAR).expect("PostgreSQL URL");
            BenchDb::postgres(&url, "history").await
        }
        _ => BenchDb::sqlite("history").await,
    };
    populate(&bench, READERS, TITLES, ITEMS, "available").await;
    let took = load_history(&bench, history).await;
    (bench, took)
}

/// The `k`-th measured reader's card and copy's barcode.
fn pair(k: u64) -> (CardNumber, Barcode) {
    let reader = 1 + k * (READERS / PAIRS) + 17;
    let item = 1 + k * (ITEMS / PAIRS) + 29;
    (
        CardNumber::parse(&format!("G{reader:09}")).unwrap(),
        Barcode::parse(&format!("H{item:09}")).unwrap(),
    )
}

/// [`PAIRS`] checkouts and checkins, one at a time; their latencies in milliseconds.
async fn pairs(service: &DbCirculation, out: &mut Vec<f64>, back: &mut Vec<f64>) {
    let library = LibraryCode::parse("HKCL").unwrap();
    for k in 0..PAIRS {
        let (card, barcode) = pair(k);
        let t = Instant::now();
        service
            .checkout(CheckoutRequest {
                card_number: card,
                item_barcode: barcode.clone(),
                library: library.clone(),
            })
            .await
            .expect("checkout");
        out.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        service
            .checkin(CheckinRequest {
                item_barcode: barcode,
                library: library.clone(),
                returned_at: None,
            })
            .await
            .expect("checkin");
        back.push(t.elapsed().as_secs_f64() * 1000.0);
    }
}

fn service(bench: &BenchDb) -> DbCirculation {
    circulation(&bench.db, Arc::new(SystemClock))
}

/// Sequential scans per table since the statistics were reset (PostgreSQL).
async fn sequential_scans(bench: &BenchDb) -> Vec<(String, i64, i64)> {
    use sea_orm::ConnectionTrait;
    bench
        .raw
        .query_all_raw(sea_orm::Statement::from_string(
            DbBackend::Postgres,
            "SELECT relname::text, seq_scan, n_live_tup FROM pg_stat_user_tables \
             WHERE seq_scan > 0 ORDER BY relname",
        ))
        .await
        .expect("statistics")
        .iter()
        .map(|row| {
            (
                row.try_get_by_index::<String>(0).unwrap(),
                row.try_get_by_index::<i64>(1).unwrap(),
                row.try_get_by_index::<i64>(2).unwrap(),
            )
        })
        .collect()
}

async fn run_backend(backend: &str, history: u64) -> Vec<String> {
    let (small, small_took) = prepare(backend, SMALL_HISTORY).await;
    let (large, large_took) = prepare(backend, history).await;
    println!(
        "{backend}: {SMALL_HISTORY} past loans (with their charges and holds) written in \
         {:.1} s, {history} in {:.1} s",
        small_took.as_secs_f64(),
        large_took.as_secs_f64()
    );
    // Untimed: connections, prepared statements, the configuration cache.
    let (mut ignored, mut ignored_too) = (Vec::new(), Vec::new());
    for bench in [&small, &large] {
        pairs(&service(bench), &mut ignored, &mut ignored_too).await;
    }
    if backend == "postgres" {
        // The counters of the timed rounds only; other connections' counts reach the
        // view when they report (at the latest on closing, below).
        tokio::time::sleep(Duration::from_secs(2)).await;
        large.exec("SELECT pg_stat_reset()").await;
    }
    let services = [service(&small), service(&large)];
    let mut checkouts = [Vec::new(), Vec::new()];
    let mut checkins = [Vec::new(), Vec::new()];
    let mut round_ratios = Vec::new();
    for round in 0..ROUNDS {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        let mut round_medians = [0.0; 2];
        for which in order {
            let (mut out, mut back) = (Vec::new(), Vec::new());
            pairs(&services[which], &mut out, &mut back).await;
            checkouts[which].extend_from_slice(&out);
            checkins[which].extend_from_slice(&back);
            round_medians[which] = median(&mut out);
        }
        round_ratios.push(round_medians[1] / round_medians[0]);
    }
    let mut rows = Vec::new();
    let ratios: Vec<String> = round_ratios.iter().map(|r| format!("{r:.2}")).collect();
    for (what, samples) in [("checkout", &mut checkouts), ("checkin", &mut checkins)] {
        let (s, l) = samples.split_at_mut(1);
        let (s, l) = (median(&mut s[0]), median(&mut l[0]));
        rows.push(format!(
            "{backend:<8} {what:<8} median {l:.2} ms with {history} past loans ÷ {s:.2} ms \
             with {SMALL_HISTORY} = {:.2}",
            l / s
        ));
    }
    rows.push(format!(
        "{backend:<8} checkout ratio per round: {}",
        ratios.join(", ")
    ));
    drop(services);
    if backend == "postgres" {
        // Closing the services' connections makes their backends report.
        large.db.clone().close().await.ok();
        small.db.clone().close().await.ok();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let scans = sequential_scans(&large).await;
        let listed: Vec<String> = scans
            .iter()
            .map(|(table, n, rows)| format!("{table} {n} ({rows} rows)"))
            .collect();
        rows.push(format!(
            "{backend:<8} sequential scans in the timed rounds ({history} past loans): {}",
            if listed.is_empty() {
                "none".to_owned()
            } else {
                listed.join(", ")
            }
        ));
    }
    small.remove().await;
    large.remove().await;
    rows
}

async fn run() {
    let mut rows = run_backend("sqlite", env_count(SQLITE_HISTORY_VAR, 1_000_000)).await;
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => {
            rows.extend(run_backend("postgres", env_count(HISTORY_VAR, 10_000_000)).await);
        }
        _ => println!("note: {POSTGRES_URL_VAR} is not set; PostgreSQL is not benchmarked"),
    }
    println!();
    println!(
        "Checkout and checkin latency with a long loan history, one operation at a time, \
         {PAIRS} readers, {ROUNDS} alternated rounds"
    );
    for row in rows {
        println!("  {row}");
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}
