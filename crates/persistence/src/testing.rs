//! Test databases for the suites of this crate and of the apps (feature `testing`): a
//! fresh SQLite file, and a fresh PostgreSQL database when `LIBRARY_TEST_POSTGRES_URL` is
//! set (e.g. `postgres://postgres@127.0.0.1:5432/postgres`), each removed when its
//! [`TestDb`] is dropped, also when the test panics.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::ConnectionTrait;

use crate::Database;

/// The variable naming the PostgreSQL server tests may create databases on.
pub const POSTGRES_URL_VAR: &str = "LIBRARY_TEST_POSTGRES_URL";

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
                for suffix in ["", "-wal", "-shm", ".key"] {
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

/// A fresh SQLite file under the temp dir.
fn sqlite() -> TestDb {
    let path = std::env::temp_dir().join(format!("lib_test_{}.db", unique_suffix()));
    TestDb {
        name: "sqlite",
        url: format!("sqlite://{}?mode=rwc", path.display()),
        cleanup: Cleanup::SqliteFile(path),
    }
}

/// A fresh PostgreSQL database on the server of `admin_url`.
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

impl TestDb {
    /// A fresh SQLite file under the temp dir.
    pub fn sqlite() -> TestDb {
        sqlite()
    }

    /// A fresh PostgreSQL database on the server of `admin_url`.
    pub async fn postgres(admin_url: &str) -> TestDb {
        postgres(admin_url).await
    }

    /// `sqlite` or `postgres`.
    pub fn label(&self) -> &'static str {
        self.name
    }

    /// The URL to connect to.
    pub fn url(&self) -> String {
        self.url.clone()
    }
}
