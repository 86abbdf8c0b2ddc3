//! What the `history` and `preview` benchmarks share: a database of their own on either
//! backend (a temporary SQLite file; on PostgreSQL `CREATE DATABASE`, dropped after), the
//! first library, reader, title and copy made through the stores, and many more made in
//! one statement each from those rows (`INSERT … SELECT` over PostgreSQL's
//! `generate_series` or a recursive `WITH` on SQLite), so that millions of rows take
//! seconds, not millions of round trips.

// Each benchmark uses part of this module.
#![allow(dead_code)]

use std::path::PathBuf;

use library_circulation::{ItemStatus, ItemType, ReaderCategory, RuleScope, RuleSet};
use library_core::{Barcode, CardNumber, LibraryCode, LibraryKind, Money};
use library_persistence::{Database, NewItem, NewLibrary, NewPatron, ReaderProfile};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait};
use time::UtcOffset;
use time::macros::{date, datetime};

pub const POSTGRES_URL_VAR: &str = "LIBRARY_TEST_POSTGRES_URL";
const KEEP_VAR: &str = "LIBRARY_BENCH_KEEP";

/// A database made for one benchmark, removed by [`BenchDb::remove`].
pub struct BenchDb {
    pub url: String,
    pub backend: DbBackend,
    /// The stores (migrated on connect).
    pub db: Database,
    /// A plain connection for the bulk statements and the baselines.
    pub raw: DatabaseConnection,
    place: Place,
}

enum Place {
    File(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// A name no other run uses at the same time.
fn unique(label: &str) -> String {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000;
    format!("lib_{label}_{}_{nanos}", std::process::id())
}

impl BenchDb {
    /// A new SQLite file in the temporary directory.
    pub async fn sqlite(label: &str) -> BenchDb {
        let path = std::env::temp_dir().join(format!("{}.db", unique(label)));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::open(url, Place::File(path)).await
    }

    /// A new PostgreSQL database on the server of `admin_url`.
    pub async fn postgres(admin_url: &str, label: &str) -> BenchDb {
        let name = unique(label);
        let admin = sea_orm::Database::connect(admin_url)
            .await
            .expect("connect to PostgreSQL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        admin.close().await.ok();
        let base = admin_url.split('?').next().unwrap_or(admin_url);
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        let url = format!("{server}/{name}");
        Self::open(
            url,
            Place::Postgres {
                admin_url: admin_url.to_owned(),
                name,
            },
        )
        .await
    }

    async fn open(url: String, place: Place) -> BenchDb {
        let db = Database::connect(&url).await.expect("connect and migrate");
        let raw = sea_orm::Database::connect(&url).await.expect("connect");
        let backend = raw.get_database_backend();
        BenchDb {
            url,
            backend,
            db,
            raw,
            place,
        }
    }

    /// Closes the connections and removes the database, unless `LIBRARY_BENCH_KEEP` is set
    /// (to look at its plans afterwards; then it says where the database is).
    pub async fn remove(self) {
        self.db.close().await.ok();
        self.raw.close().await.ok();
        if std::env::var_os(KEEP_VAR).is_some() {
            println!("kept: {}", self.url);
            return;
        }
        match self.place {
            Place::File(path) => {
                for end in ["", "-wal", "-shm", ".key"] {
                    let mut file = path.clone().into_os_string();
                    file.push(end);
                    let _ = std::fs::remove_file(file);
                }
            }
            Place::Postgres { admin_url, name } => {
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

    /// Runs one statement on the plain connection.
    pub async fn exec(&self, sql: &str) {
        self.raw
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }

    /// Runs one bulk statement. On PostgreSQL its transaction skips the foreign keys'
    /// per-row checks (`session_replication_role = replica`, as a restore does): the rows
    /// are made to reference existing ones, and checking each took most of the load's time.
    pub async fn bulk(&self, sql: &str) {
        if self.backend != DbBackend::Postgres {
            return self.exec(sql).await;
        }
        let txn = self.raw.begin().await.expect("begin");
        txn.execute_unprepared("SET LOCAL session_replication_role = replica")
            .await
            .expect("set replication role");
        txn.execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
        txn.commit().await.expect("commit");
    }

    /// One integer from `sql`.
    pub async fn int(&self, sql: &str) -> i64 {
        let row = self
            .raw
            .query_one_raw(sea_orm::Statement::from_string(self.backend, sql))
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"))
            .expect("a row");
        row.try_get_by_index::<i64>(0).expect("an integer")
    }

    /// The integer `expr` zero-padded to `width` digits after `prefix`, in SQL.
    pub fn padded(&self, prefix: &str, width: usize, expr: &str) -> String {
        match self.backend {
            DbBackend::Postgres => format!("'{prefix}' || lpad(({expr})::text, {width}, '0')"),
            _ => format!("printf('{prefix}%0{width}d', {expr})"),
        }
    }

    /// `INSERT INTO table (columns) SELECT exprs FROM <1..=n as x> (, from)`: the series
    /// written for the backend; `exprs` may use `x` and the names in `from`.
    pub async fn insert_series(&self, table: &str, columns: &str, exprs: &str, n: u64, from: &str) {
        let from = if from.is_empty() {
            String::new()
        } else {
            format!(", {from}")
        };
        let sql = match self.backend {
            DbBackend::Postgres => format!(
                "INSERT INTO {table} ({columns}) SELECT {exprs} \
                 FROM generate_series(CAST(1 AS BIGINT), {n}) AS s(x){from}"
            ),
            _ => format!(
                "INSERT INTO {table} ({columns}) WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL \
                 SELECT x + 1 FROM s WHERE x < {n}) SELECT {exprs} FROM s{from}"
            ),
        };
        self.bulk(&sql).await;
    }

    /// The columns of `table` (except `id`).
    async fn columns(&self, table: &str) -> Vec<String> {
        let sql = match self.backend {
            DbBackend::Postgres => format!(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY ordinal_position"
            ),
            _ => format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
        };
        self.raw
            .query_all_raw(sea_orm::Statement::from_string(self.backend, sql))
            .await
            .expect("columns")
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).expect("column name"))
            .filter(|c| c != "id")
            .collect()
    }

    /// `n` copies of row `template` of `table`, each column as in the template except
    /// those in `set` (`(column, SQL expression of x)`).
    pub async fn clone_rows(&self, table: &str, template: i64, n: u64, set: &[(&str, String)]) {
        let columns = self.columns(table).await;
        let exprs: Vec<String> = columns
            .iter()
            .map(|c| {
                set.iter()
                    .find(|(name, _)| name == c)
                    .map_or_else(|| format!("t.{c}"), |(_, e)| e.clone())
            })
            .collect();
        self.insert_series(
            table,
            &columns.join(", "),
            &exprs.join(", "),
            n,
            &format!("{table} t WHERE t.id = {template}"),
        )
        .await;
    }

    /// After a bulk load: statistics for the planner (and on PostgreSQL the visibility
    /// map that autovacuum would have written).
    pub async fn settle(&self) {
        match self.backend {
            DbBackend::Postgres => self.exec("VACUUM ANALYZE").await,
            _ => self.exec("ANALYZE").await,
        }
    }
}

/// The libraries every benchmark database has: (code, kind).
pub const LIBRARIES: [(&str, LibraryKind); 3] = [
    ("HKCL", LibraryKind::Central),
    ("KLNL", LibraryKind::District),
    ("MOB1", LibraryKind::Mobile),
];

/// The libraries, the rules (14 days, 10 loans, HK$1.50 a day up to HK$130, closed days not
/// counted), and
/// `readers` readers, `titles` titles and `items` copies (each title in turn; `status`),
/// the first of each through the stores, the rest cloned from it. Readers' cards are
/// `G` and nine digits, barcodes `H` and nine digits (`1` for the first).
pub async fn populate(bench: &BenchDb, readers: u64, titles: u64, items: u64, status: &str) {
    let db = &bench.db;
    for (code, kind) in LIBRARIES {
        db.libraries()
            .create(
                &NewLibrary {
                    code: LibraryCode::parse(code).unwrap(),
                    name: format!("{code} Library"),
                    name_zh: "圖書館".into(),
                    kind,
                    utc_offset: UtcOffset::from_hms(8, 0, 0).unwrap(),
                },
                None,
            )
            .await
            .unwrap();
    }
    db.rules()
        .put_rules(
            &RuleScope::default(),
            &RuleSet {
                loan_days: Some(14),
                renewals_allowed: Some(5),
                quota: Some(10),
                holds_allowed: Some(5),
                pickup_days: Some(3),
                fine_per_day: Some(Money::from_cents(150)),
                max_fine: Some(Money::from_cents(13_000)),
                count_closed_days: Some(false),
                ..RuleSet::default()
            },
        )
        .await
        .unwrap();
    let reader = db
        .patrons()
        .register_reader(
            &NewPatron {
                card_number: CardNumber::parse("G000000001").unwrap(),
                name: "Chan Tai Man".into(),
                phone: "9123 4567".into(),
                email: None,
                date_of_birth: None,
                registered_at: datetime!(2015-03-05 10:00 UTC),
            },
            &ReaderProfile {
                category: ReaderCategory::parse("adult").unwrap(),
                home_library: LibraryCode::parse("HKCL").unwrap(),
                card_expires_on: date!(2035 - 12 - 31),
            },
            None,
        )
        .await
        .unwrap();
    let title = db.catalogue().create_title("Title 1").await.unwrap();
    let item = db
        .catalogue()
        .create_item(
            &NewItem {
                barcode: Barcode::parse("H000000001").unwrap(),
                title,
                item_type: ItemType::parse("adult_book").unwrap(),
                home_library: LibraryCode::parse("HKCL").unwrap(),
                status: ItemStatus::Available,
                replacement_cost: None,
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!((reader.get(), title.get(), item.get()), (1, 1, 1));
    // Ids are 1..=n in a new database (nothing rolled back).
    bench
        .clone_rows(
            "patrons",
            1,
            readers - 1,
            &[
                ("card_number", bench.padded("G", 9, "x + 1")),
                (
                    "name",
                    format!("'Reader ' || {}", cast_text(bench.backend, "x + 1")),
                ),
            ],
        )
        .await;
    bench
        .clone_rows(
            "titles",
            1,
            titles - 1,
            &[(
                "name",
                format!("'Title ' || {}", cast_text(bench.backend, "x + 1")),
            )],
        )
        .await;
    bench
        .clone_rows(
            "items",
            1,
            items - 1,
            &[
                ("barcode", bench.padded("H", 9, "x + 1")),
                ("title_id", format!("1 + x % {titles}")),
                ("status", format!("'{status}'")),
            ],
        )
        .await;
    bench
        .exec(&format!(
            "UPDATE items SET status = '{status}' WHERE id = 1"
        ))
        .await;
    assert_eq!(
        bench.int("SELECT MAX(id) FROM patrons").await,
        readers as i64
    );
    assert_eq!(bench.int("SELECT MAX(id) FROM items").await, items as i64);
}

/// `expr` as text.
pub fn cast_text(backend: DbBackend, expr: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("({expr})::text"),
        _ => format!("CAST({expr} AS TEXT)"),
    }
}

/// The median of `values` (sorted in place).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        f64::midpoint(values[n / 2 - 1], values[n / 2])
    }
}

/// A count from an environment variable (`_` allowed between digits), else `default`.
pub fn env_count(var: &str, default: u64) -> u64 {
    match std::env::var(var) {
        Ok(text) if !text.trim().is_empty() => text
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{var} must be a whole number, not {text:?}")),
        _ => default,
    }
}
