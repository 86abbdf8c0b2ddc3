//! Opening the database: backend choice from the URL, connection settings, migrations, and
//! the stores.

use std::sync::Arc;
use std::time::Duration;

use library_core::{Clock, SystemClock};
use sea_orm::sqlx::ConnectOptions as _;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, DbBackend};
use sea_orm_migration::MigratorTrait;
use tokio::sync::Semaphore;

use crate::activity_store::ActivityStore;
use crate::audit_store::AuditLogStore;
use crate::catalogue_store::CatalogueStore;
use crate::circulation::DbCirculationStore;
use crate::config_cache::ConfigCache;
use crate::credential_store::DbCredentialStore;
use crate::enquiry_store::EnquiryStore;
use crate::error::DatabaseError;
use crate::fine_suspension_store::FineSuspensionStore;
use crate::job_lease::JobLeaseStore;
use crate::ledger_store::LedgerStore;
use crate::library_store::LibraryStore;
use crate::migration::Migrator;
use crate::notice_store::NoticeStore;
use crate::outbox_store::OutboxStore;
use crate::patron_store::PatronStore;
use crate::pool::Pool;
use crate::queries_store::QueryStore;
use crate::reminder_store::ReminderStore;
use crate::report_store::ReportQueries;
use crate::rule_store::RuleStore;
use crate::session_store::DbSessionStore;
use crate::settings_store::ReaderSettingsStore;
use crate::sip2_station_store::Sip2StationStore;
use crate::staff_store::StaffStore;

/// How long a SQLite writer waits for the write lock before failing.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in the SQLite pool. Reads run in parallel; writes wait for the write gate
/// (`pool.rs`) before they take a connection, so the request holding the write lock always
/// finds one for its reads.
pub const SQLITE_MAX_CONNECTIONS: u32 = 16;

/// Connections in the PostgreSQL pool.
const POSTGRES_MAX_CONNECTIONS: u32 = 10;

/// A pooled PostgreSQL connection idle at least this long is pinged before it is handed
/// out (a server restart, a proxy or a firewall may have dropped it). A connection in
/// steady use is not: a ping on every acquire is a round trip to the server before every
/// statement a request runs outside a transaction, and before every transaction. The cost:
/// a connection dropped less than this long after its last use fails its next statement
/// once, and the pool replaces it.
pub const POSTGRES_PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// Pooled connections a PostgreSQL transaction may never take: kept for the configuration
/// reads (calendars, rules) the services make while a transaction is open.
const POSTGRES_RESERVED_CONNECTIONS: u32 = 2;

/// How long the readiness probe waits for its write (a little past SQLite's busy timeout,
/// so another process holding the write lock shows as "not ready", not as a hung probe).
pub const READY_WRITE_TIMEOUT: Duration = Duration::from_secs(6);

/// The free space SQLite's file system must have for the readiness probe to say ready.
pub const READY_MIN_FREE_BYTES: u64 = 1024 * 1024;

/// Why [`Database::check_ready`] failed, with the database's own words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadyError {
    /// A read failed.
    #[error("the database does not answer a read: {0}")]
    Read(String),
    /// A write failed or did not finish in time.
    #[error("the database does not accept a write: {0}")]
    Write(String),
}

/// Which database engine is behind a [`Database`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (a file, or `sqlite::memory:` for throwaway use).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The backend a URL names: `sqlite:…` or `postgres://…` / `postgresql://…`.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// An open, migrated database and the stores over it. Cheap to clone (one shared pool).
#[derive(Clone)]
pub struct Database {
    conn: Pool,
    clock: Arc<dyn Clock>,
    /// Permits for write transactions that take locks (see `circulation/mod.rs`): one on
    /// SQLite, the pool minus the reserved connections on PostgreSQL.
    gate: Arc<Semaphore>,
    /// Rules, fine-suspension periods and library calendars, cached exactly (see
    /// `config_cache.rs`).
    config: Arc<ConfigCache>,
    /// SQLite's database file (not for an in-memory database): the readiness probe checks
    /// the free space of its file system.
    sqlite_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Opens `url` (`sqlite://path?mode=rwc`, `sqlite::memory:`, `postgres://…`) and brings
    /// its schema up to date. Running the migrations is idempotent: applied ones are
    /// recorded in `seaql_migrations` and skipped.
    pub async fn connect(url: &str) -> Result<Database, DatabaseError> {
        let backend = Backend::of_url(url).ok_or(DatabaseError::UnsupportedUrl)?;
        let permits = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => POSTGRES_MAX_CONNECTIONS - POSTGRES_RESERVED_CONNECTIONS,
        };
        let gate = Arc::new(Semaphore::new(permits as usize));
        let sqlite_file = crate::backup::sqlite_file_of_url(url);
        let conn = match backend {
            Backend::Sqlite => {
                let options = url
                    .parse::<SqliteConnectOptions>()
                    .map_err(|e| DatabaseError::Connect(sqlx_conn_err(e)))?
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
                    .disable_statement_logging();
                Pool::sqlite(options, SQLITE_MAX_CONNECTIONS, &gate)
            }
            Backend::Postgres => {
                let mut options = ConnectOptions::new(url);
                options
                    .sqlx_logging(false)
                    .max_connections(POSTGRES_MAX_CONNECTIONS)
                    .test_before_acquire_if_idle_for(POSTGRES_PING_WHEN_IDLE_FOR)
                    // A connection whose COMMIT or ROLLBACK failed is never handed out.
                    .map_sqlx_postgres_before_acquire(|conn, _| {
                        use sea_orm::sqlx::Connection;
                        let clean = !conn.is_in_transaction();
                        if !clean {
                            tracing::warn!(
                                "a pooled connection still counts a transaction open: closed"
                            );
                        }
                        Box::pin(std::future::ready(Ok(clean)))
                    });
                Pool::postgres(
                    sea_orm::Database::connect(options)
                        .await
                        .map_err(DatabaseError::Connect)?,
                )
            }
        };
        migrate(&conn.write_connection(), backend, url).await?;
        let config = match backend {
            Backend::Sqlite => ConfigCache::sqlite_watching(conn.clone()),
            Backend::Postgres => ConfigCache::postgres(url),
        };
        Ok(Database {
            conn,
            clock: Arc::new(SystemClock),
            gate,
            config,
            sqlite_file,
        })
    }

    /// The same database with another clock, used where a port gives no instant (the time
    /// a session is revoked). The system clock by default.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Database {
        Database { clock, ..self }
    }

    /// SQLite's database file; `None` for PostgreSQL and an in-memory database.
    pub fn sqlite_file(&self) -> Option<&std::path::Path> {
        self.sqlite_file.as_deref()
    }

    /// The engine behind this database.
    pub fn backend(&self) -> Backend {
        match self.conn.get_database_backend() {
            DbBackend::Sqlite => Backend::Sqlite,
            _ => Backend::Postgres,
        }
    }

    /// Readers' credentials and the guessing counters.
    pub fn credentials(&self) -> DbCredentialStore {
        DbCredentialStore::new(self.conn.clone())
    }

    /// Sessions.
    pub fn sessions(&self) -> DbSessionStore {
        DbSessionStore::new(
            self.conn.clone(),
            self.clock.clone(),
            Arc::clone(&self.config),
        )
    }

    /// Readers (patrons).
    pub fn patrons(&self) -> PatronStore {
        PatronStore::new(self.conn.clone())
    }

    /// Staff users.
    pub fn staff(&self) -> StaffStore {
        StaffStore::new(self.conn.clone())
    }

    /// The circulation unit of work (`library_circulation::ports::CirculationStore`).
    pub fn circulation(&self) -> DbCirculationStore {
        DbCirculationStore::new(self.conn.clone(), self.gate.clone())
    }

    /// Libraries and their calendars (`CalendarRepository`).
    pub fn libraries(&self) -> LibraryStore {
        LibraryStore::new(self.conn.clone(), self.config.clone())
    }

    /// Opening hours, sections and door services of the libraries.
    pub fn premises(&self) -> crate::application::DbPremises {
        crate::application::DbPremises::new(self.conn.clone(), self.libraries())
    }

    /// Titles and items.
    pub fn catalogue(&self) -> CatalogueStore {
        CatalogueStore::new(self.conn.clone())
    }

    /// Circulation rules per scope (`RuleRepository`).
    pub fn rules(&self) -> RuleStore {
        RuleStore::new(self.conn.clone(), self.config.clone())
    }

    /// Fine-suspension periods (`FineSuspensionRepository`).
    pub fn fine_suspensions(&self) -> FineSuspensionStore {
        FineSuspensionStore::new(self.conn.clone(), self.config.clone())
    }

    /// Readers' fine ledgers: charges, payments, waivers.
    pub fn ledger(&self) -> LedgerStore {
        LedgerStore::new(self.conn.clone(), self.gate.clone())
    }

    /// The audit log of staff actions.
    pub fn audit_log(&self) -> AuditLogStore {
        AuditLogStore::new(self.conn.clone())
    }

    /// Read-only circulation queries (holds of a reader, open loans for the preview).
    pub fn queries(&self) -> QueryStore {
        QueryStore::new(self.conn.clone())
    }

    /// The staff reports' reads.
    pub fn reports(&self) -> ReportQueries {
        ReportQueries::new(self.conn.clone())
    }

    /// Capacities, door counts, visitor registrations, staff permissions.
    pub fn admission(&self) -> crate::AdmissionRecords {
        crate::AdmissionRecords::new(self.conn.clone())
    }

    /// The scheduled jobs' leases.
    pub fn job_leases(&self) -> JobLeaseStore {
        JobLeaseStore::new(self.conn.clone())
    }

    /// The notification outbox.
    pub fn outbox(&self) -> OutboxStore {
        OutboxStore::new(self.conn.clone())
    }

    /// The reminders about loans' due dates.
    pub fn reminders(&self) -> ReminderStore {
        ReminderStore::new(self.conn.clone())
    }

    /// SIP2 station accounts.
    pub fn sip2_stations(&self) -> Sip2StationStore {
        Sip2StationStore::new(self.conn.clone())
    }

    /// Extension activities and readers' registrations.
    pub fn activities(&self) -> ActivityStore {
        ActivityStore::new(self.conn.clone(), self.gate.clone())
    }

    /// Students' Study Room schemes, applications, ballots and cards.
    pub fn study_rooms(&self) -> crate::DbStudyRooms {
        crate::DbStudyRooms::new(self.conn.clone(), self.gate.clone())
    }

    /// Library notices.
    pub fn notices(&self) -> NoticeStore {
        NoticeStore::new(self.conn.clone())
    }

    /// Readers' settings and reading histories.
    pub fn reader_settings(&self) -> ReaderSettingsStore {
        ReaderSettingsStore::new(self.conn.clone(), self.gate.clone())
    }

    /// Ask a Librarian: enquiries and answers.
    pub fn enquiries(&self) -> EnquiryStore {
        EnquiryStore::new(self.conn.clone())
    }

    /// Whether rules, fine-suspension periods and library calendars are served from the
    /// process's cache: always on SQLite; on PostgreSQL while the process listens for other
    /// processes' changes (until then every read goes to the database).
    pub fn caches_configuration(&self) -> bool {
        self.config.is_live()
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(self) -> Result<(), DatabaseError> {
        self.conn.close().await.map_err(DatabaseError::Connect)
    }

    /// Whether the database serves: it answers a read, and accepts a write (one row of
    /// the `heartbeat` table updated) within [`READY_WRITE_TIMEOUT`]. On SQLite the write
    /// queues behind this process's other writes and waits for another process's write
    /// lock up to the busy timeout; on a full disk it fails like any write.
    pub async fn check_ready(&self) -> Result<(), ReadyError> {
        use sea_orm::ConnectionTrait;
        let backend = self.conn.get_database_backend();
        let read = sea_orm::Statement::from_string(backend, "SELECT 1 AS one");
        self.conn
            .query_one_raw(read)
            .await
            .map_err(|e| ReadyError::Read(crate::fault::describe(&e)))?;
        let beat = sea_orm::Statement::from_string(
            backend,
            "INSERT INTO heartbeat (id, beats) VALUES (1, 1) \
             ON CONFLICT (id) DO UPDATE SET beats = heartbeat.beats + 1",
        );
        match tokio::time::timeout(READY_WRITE_TIMEOUT, self.conn.execute_raw(beat)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(ReadyError::Write(crate::fault::describe(&e))),
            Err(_) => {
                return Err(ReadyError::Write(format!(
                    "no write within {} s",
                    READY_WRITE_TIMEOUT.as_secs()
                )));
            }
        }
        // A small write can still fit where SQLite's log has room while a checkout does
        // not: a file system that is (nearly) full is not ready either.
        if let Some(file) = &self.sqlite_file {
            let dir = file
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let stats = rustix::fs::statvfs(dir)
                .map_err(|e| ReadyError::Write(format!("free space unknown: {e}")))?;
            let free = stats.f_bavail.saturating_mul(stats.f_frsize);
            if free < READY_MIN_FREE_BYTES {
                return Err(ReadyError::Write(format!(
                    "{free} bytes free on the file system holding the database"
                )));
            }
        }
        Ok(())
    }

    /// The connections.
    pub(crate) fn pool(&self) -> &Pool {
        &self.conn
    }

    /// Each connection pool's use now (no query): what `/metrics` shows.
    pub fn pool_use(&self) -> Vec<library_app::PoolUse> {
        self.conn.pool_use()
    }

    /// How many times SQLite's writer connection was closed and replaced after a failed
    /// write (0 on PostgreSQL): a figure for the log and the tests.
    pub fn writer_replacements(&self) -> u64 {
        self.conn.writer_replacements()
    }
}

/// A connection error from sqlx, as sea-orm reports one.
fn sqlx_conn_err(err: sea_orm::sqlx::Error) -> sea_orm::DbErr {
    sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(Arc::new(err)))
}

/// The advisory lock PostgreSQL processes hold while migrating (any constant unique to
/// this product: "LIBRARYM" in ASCII).
const MIGRATION_LOCK: i64 = 0x4C49_4252_4152_594D;

/// Brings the schema up to date. On PostgreSQL under an advisory lock held on a connection
/// of its own, so processes starting together on an empty database migrate one after the
/// other (the later ones find the migrations applied) instead of creating the same tables
/// at once. The lock goes with its connection if the process dies.
async fn migrate(
    conn: &sea_orm::DatabaseConnection,
    backend: Backend,
    url: &str,
) -> Result<(), DatabaseError> {
    use sea_orm::sqlx::{Connection, postgres::PgConnection, query};
    if backend == Backend::Sqlite {
        return Migrator::up(conn, None)
            .await
            .map_err(DatabaseError::Migrate);
    }
    let locked = |e: sea_orm::sqlx::Error| {
        DatabaseError::Connect(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(
            e.into(),
        )))
    };
    let mut lock = PgConnection::connect(url).await.map_err(locked)?;
    query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut lock)
        .await
        .map_err(locked)?;
    let migrated = Migrator::up(conn, None)
        .await
        .map_err(DatabaseError::Migrate);
    // Closing the connection releases the lock, also if the unlock fails.
    let _ = query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut lock)
        .await;
    let _ = lock.close().await;
    migrated
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ConnectionTrait, Statement};

    async fn pragma(db: &Database, name: &str) -> String {
        let row = db
            .conn
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!("PRAGMA {name}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0)
            .map(|n| n.to_string())
            .or_else(|_| row.try_get_by_index::<String>(0))
            .unwrap()
    }

    #[tokio::test]
    async fn sqlite_connections_use_wal_normal_sync_a_busy_timeout_and_foreign_keys() {
        let path = std::env::temp_dir().join(format!("lib_unit_{}.db", std::process::id()));
        let db = Database::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
        assert_eq!(db.backend(), Backend::Sqlite);
        assert_eq!(pragma(&db, "journal_mode").await, "wal");
        assert_eq!(pragma(&db, "synchronous").await, "1", "NORMAL");
        assert_eq!(pragma(&db, "busy_timeout").await, "5000");
        assert_eq!(pragma(&db, "foreign_keys").await, "1");
        db.close().await.unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }

    #[test]
    fn backend_is_chosen_by_url_scheme() {
        assert_eq!(Backend::of_url("sqlite::memory:"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::of_url("sqlite://x.db?mode=rwc"),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::of_url("postgres://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::of_url("postgresql://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::of_url("mysql://u@h/db"), None);
    }
}
