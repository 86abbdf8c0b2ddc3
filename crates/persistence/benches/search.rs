//! The catalogue search on a million titles, through the store's `search` (first page of
//! 20, copies counted), against the `LIKE` scan it replaced (kept here only, as the
//! baseline) on the same database: SQLite in a temporary file; PostgreSQL in a database of
//! its own when `LIBRARY_TEST_POSTGRES_URL` is set. Each backend's database is built once
//! per run: migrated by `Database::connect` (so the FTS5 tables with their triggers, and
//! the trigram indexes, are in place), then 1,000,000 generated titles (names, authors,
//! ISBNs; one in twenty in Chinese) inserted in one transaction by multi-row `INSERT`s. On
//! PostgreSQL the GIN indexes take the load in their pending lists and are vacuumed after
//! it (see `load`); the baseline runs with index scans switched off, as before the
//! migration.
//!
//! The queries: two words, one rare and one common (`tamarind harbour`); an ISBN typed with
//! hyphens; and a two-character Chinese word (`歷史`), which no trigram can find, so it
//! scans either way. After each backend the medians (of every timed call, criterion's
//! samples) are printed with the ratio old ÷ new.
//!
//! `CARGO_TARGET_DIR=/work/target-bench LIBRARY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p library-persistence --bench search`

// A benchmark reports on stdout.
#![allow(clippy::print_stdout)]
// Ratios are floating-point figures, not money or dates.
#![allow(clippy::float_arithmetic)]

use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use library_app::CatalogueQuery;
use library_persistence::Database;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};

const TITLES: u64 = 1_000_000;
/// Rows per `INSERT`.
const BATCH: u64 = 1_000;
/// The common word: in about one title in twelve.
const COMMON: &str = "harbour";
/// The rare word: in about one title in twenty thousand.
const RARE: &str = "tamarind";

/// The migration's GIN indexes (PostgreSQL).
const TRIGRAM_INDEXES: [&str; 3] = [
    "idx_titles_name_trgm",
    "idx_titles_author_trgm",
    "idx_titles_isbn_trgm",
];

/// A small deterministic generator (xorshift64*): the same titles every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// 0..n.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An index into a list of `n`, small ones far more often (words' frequencies).
    fn skewed(&mut self, n: usize) -> usize {
        let n = n as u64;
        let u = self.below(n);
        usize::try_from(u * self.below(n) / n * self.below(n) / n).unwrap_or(0)
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ren", "to", "sa", "vin", "del", "mor", "ta", "ber", "li", "na", "gor", "pe",
    "sil", "an", "cor", "du", "fen", "ha", "is", "jo", "kel", "mar", "nor", "os", "pra", "qui",
    "ros", "sten", "ul", "var", "wen", "yo", "zel",
];
const CHINESE: &[&str] = &[
    "香港", "歷史", "文化", "社會", "經濟", "科學", "藝術", "音樂", "教育", "兒童", "故事", "城市",
    "生活", "自然", "世界", "中國", "文學", "哲學", "旅行", "飲食", "建築", "電影", "海港", "山水",
    "家庭", "心理", "健康", "語言", "地理", "天文",
];
const SURNAMES: &[&str] = &[
    "Chan", "Wong", "Lee", "Cheung", "Lau", "Ho", "Ng", "Leung", "Smith", "Brown", "Garcia",
    "Müller", "Dubois", "Tanaka", "Kim", "Silva", "Novak", "Rossi",
];
const GIVEN: &[&str] = &[
    "Tai Man", "Siu Ming", "Mei Ling", "Ka Yan", "Wing", "Ada", "John", "Maria", "Élodie",
    "Jürgen", "Yuki", "Ji-woo", "Ana", "Pavel", "Giulia", "Kwok Wai",
];
const CHINESE_NAMES: &[&str] = &["陳大文", "黃美玲", "李小明", "張家欣", "劉志偉", "何嘉儀"];

/// The 12 digits of title `n`'s ISBN-13 and its check digit.
fn isbn(n: u64) -> String {
    // Spread over the range, unique per title (the multiplier is prime to 10^9).
    let body = format!("978{:09}", n.wrapping_mul(7_919) % 1_000_000_000);
    let sum: u32 = body
        .chars()
        .zip([1, 3].into_iter().cycle())
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// Title `n`: its name and author.
fn title(rng: &mut Rng, words: &[String]) -> (String, String) {
    if rng.below(20) == 0 {
        let n = 2 + rng.below(3);
        let name: String = (0..n).map(|_| CHINESE[rng.skewed(CHINESE.len())]).collect();
        let author = CHINESE_NAMES[rng.skewed(CHINESE_NAMES.len())].to_owned();
        return (name, author);
    }
    let mut name = Vec::new();
    if rng.below(5) == 0 {
        name.push("The".to_owned());
    }
    for _ in 0..2 + rng.below(3) {
        let mut word = words[rng.skewed(words.len())].clone();
        if name.is_empty() {
            word[..1].make_ascii_uppercase();
        }
        name.push(word);
    }
    if rng.below(12) == 0 {
        name.push(COMMON.to_owned());
    }
    if rng.below(20_000) == 0 {
        name.insert(name.len() / 2, RARE.to_owned());
    }
    let author = format!(
        "{} {}",
        SURNAMES[rng.skewed(SURNAMES.len())],
        GIVEN[rng.skewed(GIVEN.len())]
    );
    (name.join(" "), author)
}

/// `?` placeholders numbered for PostgreSQL.
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let mut text = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' && backend == DbBackend::Postgres {
            n += 1;
            text.push_str(&format!("${n}"));
        } else {
            text.push(c);
        }
    }
    Statement::from_sql_and_values(backend, text, values)
}

/// Inserts the million titles in one transaction; the time it took.
async fn load(conn: &DatabaseConnection) -> Duration {
    let start = Instant::now();
    let backend = conn.get_database_backend();
    if backend == DbBackend::Sqlite {
        // Only this loading connection: room for the index's pages while it grows.
        conn.execute_unprepared("PRAGMA cache_size = -262144")
            .await
            .unwrap();
    }
    let mut words: Vec<String> = Vec::new();
    'outer: for a in SYLLABLES {
        for b in SYLLABLES {
            for c in ["", "n", "a", "er", "is"] {
                words.push(format!("{a}{b}{c}"));
                if words.len() == 4_000 {
                    break 'outer;
                }
            }
        }
    }
    if backend == DbBackend::Postgres {
        // A bulk load: the GIN indexes gather new rows in pending lists, merged every 4 MB
        // (inserting each row into the indexes as the migration's `fastupdate = off` does
        // would take about four minutes), then go back to `off` with the lists merged.
        for index in TRIGRAM_INDEXES {
            conn.execute_unprepared(&format!("ALTER INDEX {index} SET (fastupdate = on)"))
                .await
                .unwrap();
        }
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let txn = conn.begin().await.unwrap();
    let mut n = 0;
    while n < TITLES {
        let rows = BATCH.min(TITLES - n);
        let mut values: Vec<Value> = Vec::with_capacity(usize::try_from(rows * 3).unwrap());
        for _ in 0..rows {
            let (name, author) = title(&mut rng, &words);
            n += 1;
            values.push(name.into());
            values.push(author.into());
            values.push(isbn(n).into());
        }
        let marks = vec!["(?, ?, ?)"; usize::try_from(rows).unwrap()].join(", ");
        txn.execute_raw(statement(
            backend,
            &format!("INSERT INTO titles (name, author, isbn) VALUES {marks}"),
            values,
        ))
        .await
        .unwrap();
    }
    txn.commit().await.unwrap();
    if backend == DbBackend::Postgres {
        for index in TRIGRAM_INDEXES {
            conn.execute_unprepared(&format!("ALTER INDEX {index} SET (fastupdate = off)"))
                .await
                .unwrap();
        }
        conn.execute_unprepared("VACUUM ANALYZE titles")
            .await
            .unwrap();
    }
    start.elapsed()
}

/// The search as it was before the indexes (count, then the page with its copies counted
/// over the joined items): `LIKE` on every title for every word. On PostgreSQL the same
/// `LIKE`s would now use the trigram indexes, so the planner is told not to (in a
/// transaction of its own: `SET LOCAL`), as before the migration.
async fn former_search(conn: &DatabaseConnection, query: &CatalogueQuery) -> (i64, usize) {
    let backend = conn.get_database_backend();
    let txn = conn.begin().await.unwrap();
    if backend == DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL enable_bitmapscan = off")
            .await
            .unwrap();
        txn.execute_unprepared("SET LOCAL enable_indexscan = off")
            .await
            .unwrap();
    }
    let conn = &txn;
    let pattern = |word: &str| {
        let escaped = word
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    };
    let mut filter = String::from("1 = 1");
    let mut values: Vec<Value> = Vec::new();
    for word in &query.words {
        filter.push_str(
            " AND (lower(t.name) LIKE ? ESCAPE '\\' \
             OR lower(COALESCE(t.author, '')) LIKE ? ESCAPE '\\' \
             OR COALESCE(t.isbn, '') LIKE ? ESCAPE '\\')",
        );
        let text = pattern(&word.text);
        values.push(text.clone().into());
        values.push(text.into());
        values.push(pattern(&word.isbn).into());
    }
    let total: i64 = conn
        .query_one_raw(statement(
            backend,
            &format!("SELECT COUNT(*) AS n FROM titles t WHERE {filter}"),
            values.clone(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    values.push(query.phrase.clone().into());
    values.push(format!("{}%", query.phrase).into());
    values.push(i64::from(query.limit).into());
    values.push(0_i64.into());
    let rows = conn
        .query_all_raw(statement(
            backend,
            &format!(
                "SELECT t.id, t.name, t.author, t.isbn, COUNT(i.id) AS copies, \
                 COALESCE(SUM(CASE WHEN i.status = 'available' THEN 1 ELSE 0 END), 0) \
                 AS available \
                 FROM titles t LEFT JOIN items i ON i.title_id = t.id WHERE {filter} \
                 GROUP BY t.id, t.name, t.author, t.isbn \
                 ORDER BY CASE WHEN lower(t.name) = ? THEN 0 \
                 WHEN lower(t.name) LIKE ? THEN 1 ELSE 2 END, t.name, t.id \
                 LIMIT ? OFFSET ?"
            ),
            values,
        ))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    (total, rows.len())
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn bench_backend(c: &mut Criterion, name: &str, url: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (db, raw, loaded) = rt.block_on(async {
        let db = Database::connect(url).await.expect("connect");
        let raw = sea_orm::Database::connect(url).await.expect("connect");
        let loaded = load(&raw).await;
        (db, raw, loaded)
    });
    println!(
        "{name}: {TITLES} titles loaded (with the index kept by the triggers / GIN) in {:.1} s",
        loaded.as_secs_f64()
    );
    let queries = [
        ("rare+common", format!("{RARE} {COMMON}")),
        ("isbn", {
            let d = isbn(123_457);
            format!(
                "{}-{}-{}-{}-{}",
                &d[..3],
                &d[3..4],
                &d[4..8],
                &d[8..12],
                &d[12..]
            )
        }),
        ("short_chinese", "歷史".to_owned()),
    ];
    let mut group = c.benchmark_group(format!("catalogue_search_{name}"));
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mut figures = Vec::new();
    for (label, q) in &queries {
        let query = CatalogueQuery::parse(q, None, None, None).unwrap();
        let (new_total, old_total) = rt.block_on(async {
            let new = db.catalogue().search(&query).await.unwrap();
            let old = former_search(&raw, &query).await;
            (new.total, old.0)
        });
        println!("{name} {label} ({q}): {new_total} titles (the scan: {old_total})");
        let mut medians = Vec::new();
        for (how, index) in [("index", true), ("scan", false)] {
            let mut times = Vec::new();
            group.bench_function(format!("{label}/{how}"), |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let start = Instant::now();
                            if index {
                                std::hint::black_box(db.catalogue().search(&query).await.unwrap());
                            } else {
                                std::hint::black_box(former_search(&raw, &query).await);
                            }
                            let took = start.elapsed();
                            times.push(took);
                            total += took;
                        }
                        total
                    })
                });
            });
            medians.push(median(&mut times));
        }
        figures.push((label, medians[0], medians[1]));
    }
    group.finish();
    println!("{name}: median per query, index vs the former scan");
    for (label, new, old) in figures {
        println!(
            "  {label:<14} {:>10.3} ms  scan {:>10.3} ms  ratio {:>8.1}",
            new.as_secs_f64() * 1e3,
            old.as_secs_f64() * 1e3,
            old.as_secs_f64() / new.as_secs_f64()
        );
    }
    rt.block_on(async {
        raw.close().await.unwrap();
        db.close().await.unwrap();
    });
}

fn search(c: &mut Criterion) {
    let path = std::env::temp_dir().join(format!("lib_bench_search_{}.db", std::process::id()));
    bench_backend(
        c,
        "sqlite",
        &format!("sqlite://{}?mode=rwc", path.display()),
    );
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }

    let Ok(admin_url) = std::env::var("LIBRARY_TEST_POSTGRES_URL") else {
        println!("note: LIBRARY_TEST_POSTGRES_URL is not set; PostgreSQL is not benchmarked");
        return;
    };
    let database = format!("lib_bench_search_{}", std::process::id());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let admin = |sql: String| {
        let admin_url = admin_url.clone();
        rt.block_on(async move {
            let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
            admin.execute_unprepared(&sql).await.unwrap();
            admin.close().await.unwrap();
        });
    };
    admin(format!("CREATE DATABASE {database}"));
    let base = admin_url.split('?').next().unwrap_or(&admin_url);
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    bench_backend(c, "postgres", &format!("{server}/{database}"));
    admin(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"));
}

criterion_group!(benches, search);
criterion_main!(benches);
