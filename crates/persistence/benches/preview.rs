//! The impact preview of a fine-suspension period (`POST /fine-suspensions/preview`, the
//! admin tool's `preview-fines`) over a million open loans, through the application
//! layer (`FineSuspensionAdmin::preview` of `DbAdmin`, what both call), against a bare
//! scan: one plain `SELECT` of the same rows and columns (each open loan's reader, due
//! date and lending library, its reader's category and its copy's item type), every value
//! decoded, nothing computed, on the same database in the same run.
//!
//! Each backend gets a database of its own: 200,000 readers, 20,000 titles, 1,000,000
//! copies on loan (`LIBRARY_BENCH_OPEN_LOANS` changes the count) and one open loan per
//! copy, written by one `INSERT … SELECT` over a series: loan `x` goes to reader
//! `1 + 7919·x mod 200,000`, lent by one of three libraries (central, district closed on
//! Mondays, mobile), borrowed 0–59 days before the preview's date, due 14 days later (so
//! about three loans in four are overdue). The rules charge HK$1.50 a day up to HK$130,
//! closed days not counted. One period is stored (mobile libraries, 100 to 80 days
//! before); the candidate suspends fines in every library from 30 to 10 days before.
//!
//! Five rounds alternate the preview and the scan (the order flipped every round), so
//! drift in the shared machine's speed affects both alike; the figures are the medians and
//! the ratio preview ÷ scan (also per round).
//!
//! `CARGO_TARGET_DIR=/work/target-bench LIBRARY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p library-persistence --bench preview`

// A benchmark reports on stdout.
#![allow(clippy::print_stdout)]
// Times and ratios are floating-point figures, not money or dates.
#![allow(clippy::float_arithmetic)]

mod support;

use std::time::{Duration, Instant};

use library_app::FineSuspensionAdmin;
use library_core::LibraryCode;
use library_fines::{FineSuspensionPeriod, SuspensionScope};
use library_persistence::CalendarRule;
use library_persistence::application::DbAdmin;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use support::{BenchDb, POSTGRES_URL_VAR, env_count, median, populate};
use time::macros::date;
use time::{Date, Weekday};

const OPEN_LOANS_VAR: &str = "LIBRARY_BENCH_OPEN_LOANS";
const READERS: u64 = 200_000;
const TITLES: u64 = 20_000;
const ROUNDS: usize = 5;
/// The preview's date.
const AS_OF: Date = date!(2026 - 12 - 01);

/// The same rows and columns the preview reads, without its order.
const SCAN: &str = "SELECT l.patron_id, l.due_on, l.library_code, p.category, i.item_type \
     FROM loans l JOIN patrons p ON p.id = l.patron_id JOIN items i ON i.id = l.item_id \
     WHERE l.returned_at IS NULL";

/// A database with `n` open loans; how long writing them took.
async fn prepare(backend: &str, n: u64) -> (BenchDb, Duration) {
    let bench = match backend {
        "postgres" => {
            let url = std::env::var(POSTGRES_URL_VAR).expect("PostgreSQL URL");
            BenchDb::postgres(&url, "preview").await
        }
        _ => BenchDb::sqlite("preview").await,
    };
    populate(&bench, READERS, TITLES, n, "on_loan").await;
    bench
        .db
        .libraries()
        .add_calendar_entry(
            &LibraryCode::parse("KLNL").unwrap(),
            CalendarRule::ClosedWeekday(Weekday::Monday),
            "closed on Mondays",
            None,
        )
        .await
        .unwrap();
    let stored = FineSuspensionPeriod::new(
        date!(2026 - 08 - 23),
        Some(date!(2026 - 09 - 12)),
        SuspensionScope {
            library_codes: std::collections::BTreeSet::new(),
            library_kinds: [library_core::LibraryKind::Mobile].into_iter().collect(),
        },
        "the mobile libraries' vehicles serviced",
    )
    .unwrap();
    bench
        .db
        .fine_suspensions()
        .create(&stored, None)
        .await
        .unwrap();

    let start = Instant::now();
    let library = "CASE x % 3 WHEN 0 THEN 'HKCL' WHEN 1 THEN 'KLNL' ELSE 'MOB1' END";
    // Borrowed at 02:00 UTC, `x % 60` days before the preview's date; due 14 days later.
    let (borrowed, due_on, due_at) = match bench.backend {
        DbBackend::Postgres => {
            let b = format!("(timestamptz '{AS_OF} 02:00:00+00' - (x % 60) * interval '1 day')");
            (
                b.clone(),
                format!("({b} + interval '14 days')::date"),
                format!("{b} + interval '14 days' + interval '13 hours 59 minutes'"),
            )
        }
        _ => {
            let e =
                format!("(CAST(strftime('%s', '{AS_OF}') AS INTEGER) + 7200 - (x % 60) * 86400)");
            let instant =
                |secs: &str| format!("strftime('%Y-%m-%dT%H:%M:%S.000000Z', {secs}, 'unixepoch')");
            (
                instant(&e),
                format!("date({e} + 14 * 86400, 'unixepoch')"),
                instant(&format!("{e} + 14 * 86400 + 50340")),
            )
        }
    };
    bench
        .insert_series(
            "loans",
            "patron_id, item_id, library_code, borrowed_at, due_on, due_at, renewals",
            &format!("1 + (x * 7919) % {READERS}, x, {library}, {borrowed}, {due_on}, {due_at}, 0"),
            n,
            "",
        )
        .await;
    bench.settle().await;
    (bench, start.elapsed())
}

/// The bare scan: every row read and every value decoded; the rows.
async fn scan(bench: &BenchDb) -> usize {
    let rows = bench
        .raw
        .query_all_raw(Statement::from_string(bench.backend, SCAN))
        .await
        .expect("scan");
    let mut check = 0i64;
    for row in &rows {
        let patron: i64 = row.try_get("", "patron_id").unwrap();
        let due_on: Date = row.try_get("", "due_on").unwrap();
        let library: String = row.try_get("", "library_code").unwrap();
        let category: Option<String> = row.try_get("", "category").unwrap();
        let item_type: String = row.try_get("", "item_type").unwrap();
        check += patron
            + i64::from(due_on.ordinal())
            + i64::try_from(library.len() + category.map_or(0, |c| c.len()) + item_type.len())
                .unwrap_or(0);
    }
    assert!(check > 0);
    rows.len()
}

async fn run_backend(backend: &str, n: u64) -> Vec<String> {
    let (bench, took) = prepare(backend, n).await;
    println!(
        "{backend}: {n} open loans written in {:.1} s",
        took.as_secs_f64()
    );
    let admin = DbAdmin::new(&bench.db);
    let candidate = FineSuspensionPeriod::new(
        date!(2026 - 11 - 01),
        Some(date!(2026 - 11 - 21)),
        SuspensionScope::all_libraries(),
        "typhoon",
    )
    .unwrap();
    // Untimed: both once (caches, the planner's statistics).
    let first = admin.preview(&candidate, AS_OF).await.expect("preview");
    assert_eq!(scan(&bench).await, usize::try_from(n).unwrap());
    println!(
        "{backend}: preview: {} loans charged, {} readers, {} charged, {} waived",
        first.loans, first.patrons, first.total, first.waived
    );
    let (mut previews, mut scans, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let mut times = [0.0; 2];
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let t = Instant::now();
            if which == 0 {
                let preview = admin.preview(&candidate, AS_OF).await.expect("preview");
                assert_eq!(preview, first);
            } else {
                scan(&bench).await;
            }
            times[which] = t.elapsed().as_secs_f64() * 1000.0;
        }
        previews.push(times[0]);
        scans.push(times[1]);
        ratios.push(times[0] / times[1]);
    }
    let per_round: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    let (p, s, r) = (
        median(&mut previews),
        median(&mut scans),
        median(&mut ratios),
    );
    bench.remove().await;
    vec![format!(
        "{backend:<8} preview median {p:.0} ms ÷ bare scan {s:.0} ms = {:.2} \
             (per round: {}; median of the rounds {r:.2})",
        p / s,
        per_round.join(", ")
    )]
}

async fn run() {
    let n = env_count(OPEN_LOANS_VAR, 1_000_000);
    let mut rows = run_backend("sqlite", n).await;
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => rows.extend(run_backend("postgres", n).await),
        _ => println!("note: {POSTGRES_URL_VAR} is not set; PostgreSQL is not benchmarked"),
    }
    println!();
    println!("Fine-suspension impact preview over {n} open loans, {ROUNDS} alternated rounds");
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
