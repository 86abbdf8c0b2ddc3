//! Backends for the contract suite, and shared fixtures.
//!
//! SQLite: a fresh file under the temp dir per test. PostgreSQL (when
//! `LIBRARY_TEST_POSTGRES_URL` is set, e.g. `postgres://postgres@127.0.0.1:5432/postgres`):
//! `CREATE DATABASE lib_test_<unique>` per test. Both are removed when the [`TestDb`] is
//! dropped, also when the test panics.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

use library_core::{CardNumber, PatronId};
use library_credentials::{PersonalInfo, SecretHash, StoredCredentials};
use library_persistence::{Database, NewPatron};
use sea_orm::ConnectionTrait;
use time::OffsetDateTime;
use time::macros::datetime;

pub const POSTGRES_URL_VAR: &str = "LIBRARY_TEST_POSTGRES_URL";

/// A fixed instant with a non-UTC offset (the library's), to prove offsets do not matter.
pub const T0: OffsetDateTime = datetime!(2021-03-05 09:00 +08:00);

/// One backend's database for one test.
#[derive(Debug)]
pub struct TestDb {
    /// `sqlite` or `postgres`, for assertion messages.
    pub name: &'static str,
    /// The URL to (re)connect to.
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    SqliteFile(PathBuf),
    Postgres { admin_url: String, database: String },
}

impl TestDb {
    /// Opens (and migrates) the database.
    pub async fn connect(&self) -> Database {
        Database::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("{}: connect: {e}", self.name))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::Postgres {
                admin_url,
                database,
            } => {
                // Drop may run inside the test's runtime (or while unwinding): use a thread
                // with a runtime of its own.
                let admin_url = admin_url.clone();
                let sql = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime for cleanup");
                    rt.block_on(async {
                        let admin = sea_orm::Database::connect(&admin_url).await?;
                        admin.execute_unprepared(&sql).await?;
                        admin.close().await
                    })
                })
                .join();
            }
        }
    }
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn sqlite() -> TestDb {
    let path = std::env::temp_dir().join(format!("lib_test_{}.db", unique_suffix()));
    TestDb {
        name: "sqlite",
        url: format!("sqlite://{}?mode=rwc", path.display()),
        cleanup: Cleanup::SqliteFile(path),
    }
}

async fn postgres(admin_url: &str) -> TestDb {
    let database = format!("lib_test_{}", unique_suffix());
    let admin = sea_orm::Database::connect(admin_url)
        .await
        .expect("connect to the PostgreSQL admin URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {database}"))
        .await
        .expect("create test database");
    admin.close().await.expect("close admin connection");
    // Same server and credentials, other database (keep any query string).
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let (server, _) = base
        .rsplit_once('/')
        .filter(|(server, _)| server.contains("://") && !server.ends_with('/'))
        .unwrap_or((base, ""));
    TestDb {
        name: "postgres",
        url: format!("{server}/{database}{query}"),
        cleanup: Cleanup::Postgres {
            admin_url: admin_url.to_owned(),
            database,
        },
    }
}

/// A fresh database on every available backend.
pub async fn backends() -> Vec<TestDb> {
    let mut all = vec![sqlite()];
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => all.push(postgres(&url).await),
        _ => note_postgres_skipped(),
    }
    all
}

/// Said once per run, straight to stderr so the test harness does not swallow it.
fn note_postgres_skipped() {
    static NOTE: Once = Once::new();
    NOTE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "note: {POSTGRES_URL_VAR} is not set; PostgreSQL contract tests are skipped \
             (SQLite only)"
        );
    });
}

pub fn card(text: &str) -> CardNumber {
    CardNumber::parse(text).unwrap()
}

pub fn new_patron(card_number: &str, email: Option<&str>) -> NewPatron {
    NewPatron {
        card_number: card(card_number),
        name: "Chan Tai Man".into(),
        phone: "9123 4567".into(),
        email: email.map(str::to_owned),
        date_of_birth: Some(time::macros::date!(1990 - 07 - 14)),
        registered_at: T0,
    }
}

/// What the in-memory reference holds for a reader just registered in the database.
pub fn registered(patron: PatronId, new: &NewPatron) -> StoredCredentials {
    StoredCredentials {
        patron,
        info: PersonalInfo {
            card_number: new.card_number.clone(),
            name: new.name.clone(),
            phone: new.phone.clone(),
            email: new.email.clone(),
            date_of_birth: new.date_of_birth,
        },
        password_hash: SecretHash(String::new()),
        password_is_default: true,
        pin_hash: SecretHash(String::new()),
        temporary: None,
    }
}
