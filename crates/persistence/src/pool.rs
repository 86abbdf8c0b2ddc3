//! The connections every store uses: SQLite's one writer behind an in-process queue, and
//! the transactions that cannot confirm what they did not store.
//!
//! # Never acknowledge a write that is not stored
//!
//! A database error inside a transaction can leave a connection in a state the driver does
//! not know about. SQLite rolls a whole transaction back on its own after `SQLITE_FULL`,
//! `SQLITE_IOERR`, `SQLITE_BUSY` or `SQLITE_NOMEM`; the `ROLLBACK` that follows then fails
//! ("no transaction is active"), the driver keeps counting the transaction as open, and
//! the next transaction on that connection would be opened as a `SAVEPOINT` inside
//! whatever is left, never committed. PostgreSQL answers the `COMMIT` of a transaction a
//! statement failed in with a rollback, not an error. So here, by construction:
//!
//! - Every transaction is a [`Txn`]. The first error of a statement in it (other than a
//!   constraint violation on SQLite, which undoes only that statement) ends it: every later
//!   statement and the commit answer that error without reaching the database, so a
//!   commit can only confirm a transaction all of whose statements succeeded.
//! - On SQLite, every write (a transaction or a single statement) goes through one writer
//!   connection, and a writer that has failed is never used again: the failing transaction
//!   or statement closes it (rolling back whatever it still held, and with it the write
//!   lock) and the next write opens a fresh one.
//! - Every connection handed out by a pool must have no transaction open in the driver's
//!   count; one that has is closed instead (`before_acquire`), on both backends. Since the
//!   count is zero, a transaction always begins with `BEGIN IMMEDIATE` (SQLite) or `BEGIN`,
//!   never with a savepoint, and the driver checks that SQLite is inside a transaction
//!   after its `BEGIN IMMEDIATE`.
//!
//! # The write queue
//!
//! SQLite has one write lock per database file. A writer that finds it taken waits in
//! SQLite's busy handler, which *sleeps* (1, 2, 5, 10 … 100 ms steps) and polls again; with
//! a handful of concurrent requests most of the time went into those sleeps (measured: about
//! 2,400 sleeps of 3.8 ms on average in nine seconds of the HTTP benchmark). So on SQLite
//! every write of this process first takes the single permit of the database's write gate
//! (the same permit a circulation transaction holds for its whole length): writers queue on
//! a fair async semaphore and find the lock free when their turn comes. Reads never take it
//! and run on a pool of their own (WAL readers do not block the writer nor the writer
//! them). The busy timeout still covers other processes writing the same file.
//!
//! On PostgreSQL nothing is queued: row locks do the work, and one pool serves everything.
//!
//! A statement is a read when it begins with `SELECT`; anything else sent through the query
//! path (`INSERT … RETURNING`, `UPDATE … RETURNING`, `WITH … INSERT`) is a write. A task
//! holding the permit (inside a [`Txn`] that writes) must run its statements on its
//! transaction, never on the pool, or it would wait for itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sea_orm::sqlx::{Connection, pool::PoolConnectionMetadata};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, RuntimeErr, SqlErr, SqliteTransactionMode, SqlxSqliteConnector, Statement,
    TransactionOptions, TransactionTrait,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::fault::is_unavailable;

/// The shared connections, with the SQLite writer and its gate. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    /// Reads on SQLite; everything on PostgreSQL.
    conn: DatabaseConnection,
    /// `Some` on SQLite: the one writer connection.
    writer: Option<Arc<SqliteWriter>>,
    /// `Some` on SQLite: the database's one-permit write gate.
    sqlite_writes: Option<Arc<Semaphore>>,
}

/// A write permit: held for the length of a write on SQLite, nothing on PostgreSQL.
pub(crate) type WritePermit = Option<OwnedSemaphorePermit>;

/// Whether the driver counts no transaction open on `conn`. A connection counting one
/// is in a state nobody knows (its `COMMIT` or `ROLLBACK` failed): it is closed, never
/// handed out.
fn no_transaction_open<C: Connection>(
    conn: &mut C,
    _: PoolConnectionMetadata,
) -> std::pin::Pin<Box<dyn Future<Output = Result<bool, sea_orm::sqlx::Error>> + Send + '_>> {
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("a pooled connection still counts a transaction open: closed");
    }
    Box::pin(std::future::ready(Ok(clean)))
}

/// SQLite's writer: one connection, replaced whenever a write fails on it.
pub(crate) struct SqliteWriter {
    options: SqliteConnectOptions,
    current: Mutex<DatabaseConnection>,
    /// How many times the writer was replaced (for the log and the tests).
    replaced: AtomicU64,
}

impl std::fmt::Debug for SqliteWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteWriter")
            .field("replaced", &self.replaced.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl SqliteWriter {
    fn open(options: &SqliteConnectOptions) -> DatabaseConnection {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .test_before_acquire(false)
            .before_acquire(no_transaction_open)
            .connect_lazy_with(options.clone());
        SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
    }

    fn connection(&self) -> DatabaseConnection {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Closes the writer (in the background: its connection is closed once returned,
    /// rolling back whatever it still holds) and opens a fresh one for the next write.
    /// Called with the write permit held, so no other write is using it.
    fn replace(&self, why: &dyn std::fmt::Display) {
        let fresh = Self::open(&self.options);
        let old = std::mem::replace(
            &mut *self.current.lock().unwrap_or_else(PoisonError::into_inner),
            fresh,
        );
        let n = self.replaced.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(%why, replaced = n, "a write failed: the SQLite writer connection is closed and replaced");
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let _ = old.close().await;
                });
            }
            // Outside a runtime: dropping the last handle closes the pool.
            Err(_) => drop(old),
        }
    }
}

impl Pool {
    /// SQLite at `options`: a pool of `readers` connections for reads and one writer
    /// behind `gate` (one permit).
    pub(crate) fn sqlite(
        options: SqliteConnectOptions,
        readers: u32,
        gate: &Arc<Semaphore>,
    ) -> Pool {
        let pool = SqlitePoolOptions::new()
            .max_connections(readers)
            // An embedded file has no server to drop a connection: never ping.
            .test_before_acquire(false)
            .before_acquire(no_transaction_open)
            .connect_lazy_with(options.clone());
        Pool {
            conn: SqlxSqliteConnector::from_sqlx_sqlite_pool(pool),
            writer: Some(Arc::new(SqliteWriter {
                current: Mutex::new(SqliteWriter::open(&options)),
                options,
                replaced: AtomicU64::new(0),
            })),
            sqlite_writes: Some(Arc::clone(gate)),
        }
    }

    /// PostgreSQL: one pool for everything (its `before_acquire` is set by the caller).
    pub(crate) fn postgres(conn: DatabaseConnection) -> Pool {
        Pool {
            conn,
            writer: None,
            sqlite_writes: None,
        }
    }

    /// The engine behind the pool.
    pub(crate) fn get_database_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// The connection writes go to: SQLite's writer, or PostgreSQL's pool.
    pub(crate) fn write_connection(&self) -> DatabaseConnection {
        match &self.writer {
            Some(writer) => writer.connection(),
            None => self.conn.clone(),
        }
    }

    /// How many times SQLite's writer was replaced after a failed write (0 on PostgreSQL).
    pub(crate) fn writer_replacements(&self) -> u64 {
        self.writer
            .as_ref()
            .map_or(0, |w| w.replaced.load(Ordering::Relaxed))
    }

    /// Each pool's use now: SQLite's `reader` pool and its `writer`, or PostgreSQL's `main`
    /// pool. Read from the pools' own counts, no query.
    pub(crate) fn pool_use(&self) -> Vec<library_app::PoolUse> {
        fn of<DB: sea_orm::sqlx::Database>(
            pool: &'static str,
            p: &sea_orm::sqlx::Pool<DB>,
        ) -> library_app::PoolUse {
            let open = u64::from(p.size());
            let idle = u64::try_from(p.num_idle()).unwrap_or(u64::MAX).min(open);
            library_app::PoolUse {
                pool,
                in_use: open - idle,
                idle,
                max: u64::from(p.options().get_max_connections()),
            }
        }
        match &self.writer {
            Some(writer) => vec![
                of("reader", self.conn.get_sqlite_connection_pool()),
                of("writer", writer.connection().get_sqlite_connection_pool()),
            ],
            None => vec![of("main", self.conn.get_postgres_connection_pool())],
        }
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub(crate) async fn close(&self) -> Result<(), DbErr> {
        if let Some(writer) = &self.writer {
            writer.connection().close().await?;
        }
        self.conn.clone().close().await
    }

    async fn write_permit(&self) -> Result<WritePermit, DbErr> {
        match &self.sqlite_writes {
            None => Ok(None),
            Some(gate) => Arc::clone(gate)
                .acquire_owned()
                .await
                .map(Some)
                .map_err(|_| DbErr::Custom("write gate closed".into())),
        }
    }

    /// Begins a transaction that writes, holding the write permit (SQLite) until the
    /// transaction ends.
    pub(crate) async fn begin_write(&self) -> Result<Txn, DbErr> {
        let permit = self.write_permit().await?;
        self.begin_write_holding(permit).await
    }

    /// Begins a transaction that writes once a permit of `gate` is held (on SQLite the gate
    /// is the write gate; on PostgreSQL it keeps pooled connections free for the reads a
    /// service makes while its transaction is open).
    pub(crate) async fn begin_gated(&self, gate: &Arc<Semaphore>) -> Result<Txn, DbErr> {
        let permit = gate
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| DbErr::Custom("transaction gate closed".into()))?;
        self.begin_write_holding(Some(permit)).await
    }

    /// On SQLite `BEGIN IMMEDIATE` on the writer: the write lock is taken at `BEGIN`
    /// (waiting up to the busy timeout for other processes), so the transaction cannot fail
    /// later with `SQLITE_BUSY` when a read would have to become a write. A failed `BEGIN`
    /// replaces the writer too. PostgreSQL ignores the mode.
    async fn begin_write_holding(&self, permit: WritePermit) -> Result<Txn, DbErr> {
        let begun = self
            .write_connection()
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await;
        match begun {
            Ok(txn) => Ok(Txn::new(txn, self.writer.clone(), permit)),
            Err(err) => {
                if let Some(writer) = &self.writer {
                    writer.replace(&err);
                }
                Err(err)
            }
        }
    }

    /// Begins a transaction with `options` on the pool (reads on SQLite): no permit, and
    /// nothing to replace if it fails.
    pub(crate) async fn begin_with(
        &self,
        options: TransactionOptions,
        permit: WritePermit,
    ) -> Result<Txn, DbErr> {
        let txn = self.conn.begin_with_options(options).await?;
        Ok(Txn::new(txn, None, permit))
    }

    /// Runs a write on SQLite's writer (holding the permit) or on PostgreSQL's pool; a
    /// failed write on SQLite replaces the writer.
    async fn write<T>(
        &self,
        run: impl AsyncFnOnce(DatabaseConnection) -> Result<T, DbErr>,
    ) -> Result<T, DbErr> {
        let _permit = self.write_permit().await?;
        let result = run(self.write_connection()).await;
        if let (Err(err), Some(writer)) = (&result, &self.writer)
            && !only_the_statement_failed(DbBackend::Sqlite, err)
        {
            writer.replace(err);
        }
        result
    }
}

/// Whether `err` undid only its own statement and left the connection and its transaction
/// as they were: a constraint violation on SQLite (the default `ABORT` conflict rule).
/// On PostgreSQL every error aborts the transaction it happens in.
fn only_the_statement_failed(backend: DbBackend, err: &DbErr) -> bool {
    backend == DbBackend::Sqlite
        && matches!(
            err.sql_err(),
            Some(SqlErr::UniqueConstraintViolation(_) | SqlErr::ForeignKeyConstraintViolation(_))
        )
}

/// Whether a statement sent through the query path only reads.
fn is_read(sql: &str) -> bool {
    sql.trim_start()
        .get(..6)
        .is_some_and(|head| head.eq_ignore_ascii_case("select"))
}

#[async_trait::async_trait]
impl ConnectionTrait for Pool {
    fn get_database_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.write(async |conn| conn.execute_raw(stmt).await).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.write(async |conn| conn.execute_unprepared(sql).await)
            .await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        if is_read(&stmt.sql) {
            return self.conn.query_one_raw(stmt).await;
        }
        self.write(async |conn| conn.query_one_raw(stmt).await)
            .await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        if is_read(&stmt.sql) {
            return self.conn.query_all_raw(stmt).await;
        }
        self.write(async |conn| conn.query_all_raw(stmt).await)
            .await
    }
}

/// Why a transaction can no longer do anything: its first failure.
#[derive(Debug, Clone)]
struct Failure {
    what: String,
    unavailable: bool,
}

impl Failure {
    /// The error every later statement and the commit answer.
    fn error(&self) -> DbErr {
        let what = format!("the transaction failed earlier: {}", self.what);
        if self.unavailable {
            DbErr::Conn(RuntimeErr::Internal(what))
        } else {
            DbErr::Custom(what)
        }
    }
}

/// A transaction that ends at its first failure (see the module docs). Dropped without
/// [`Txn::commit`]: rolled back. On SQLite's writer, a failed transaction closes the
/// writer when it ends, before the write permit is given back.
pub(crate) struct Txn {
    // Declared before the permit: the transaction is rolled back (dropped) first.
    txn: Option<DatabaseTransaction>,
    failure: Mutex<Option<Failure>>,
    writer: Option<Arc<SqliteWriter>>,
    _permit: WritePermit,
}

impl std::fmt::Debug for Txn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Txn")
            .field("failure", &self.failed())
            .finish_non_exhaustive()
    }
}

impl Txn {
    fn new(
        txn: DatabaseTransaction,
        writer: Option<Arc<SqliteWriter>>,
        permit: WritePermit,
    ) -> Txn {
        Txn {
            txn: Some(txn),
            failure: Mutex::new(None),
            writer,
            _permit: permit,
        }
    }

    fn failed(&self) -> Option<Failure> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn fail(&self, err: &DbErr) {
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        if failure.is_none() {
            *failure = Some(Failure {
                what: err.to_string(),
                unavailable: is_unavailable(err),
            });
        }
    }

    /// The open transaction, unless a statement of it failed.
    fn usable(&self) -> Result<&DatabaseTransaction, DbErr> {
        if let Some(failure) = self.failed() {
            return Err(failure.error());
        }
        self.txn
            .as_ref()
            .ok_or_else(|| DbErr::Custom("the transaction has ended".into()))
    }

    /// Notes the outcome of a statement: its error ends the transaction (see
    /// [`only_the_statement_failed`]).
    fn noted<T>(&self, result: Result<T, DbErr>) -> Result<T, DbErr> {
        if let Err(err) = &result
            && !only_the_statement_failed(self.get_database_backend(), err)
        {
            self.fail(err);
        }
        result
    }

    /// Commits, unless a statement failed: then the transaction is rolled back and the
    /// first failure answered. A failed `COMMIT` counts as a failure too.
    pub(crate) async fn commit(mut self) -> Result<(), DbErr> {
        if let Some(failure) = self.failed() {
            return Err(failure.error());
        }
        let txn = self
            .txn
            .take()
            .ok_or_else(|| DbErr::Custom("the transaction has ended".into()))?;
        let committed = txn.commit().await;
        if let Err(err) = &committed {
            self.fail(err);
        }
        committed
    }
}

impl Drop for Txn {
    fn drop(&mut self) {
        if let (Some(failure), Some(writer)) = (self.failed(), &self.writer) {
            writer.replace(&failure.what);
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Txn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn
            .as_ref()
            .map_or(DbBackend::Sqlite, ConnectionTrait::get_database_backend)
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let result = self.usable()?.execute_raw(stmt).await;
        self.noted(result)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let result = self.usable()?.execute_unprepared(sql).await;
        self.noted(result)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let result = self.usable()?.query_one_raw(stmt).await;
        self.noted(result)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let result = self.usable()?.query_all_raw(stmt).await;
        self.noted(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_select_statements_are_reads() {
        assert!(is_read("SELECT 1"));
        assert!(is_read("  select id FROM loan"));
        assert!(!is_read("INSERT INTO loan (id) VALUES (1) RETURNING id"));
        assert!(!is_read("UPDATE item SET status = 'on_loan' RETURNING id"));
        assert!(!is_read("DELETE FROM session"));
        assert!(!is_read("SEL"));
        assert!(!is_read(""));
    }

    /// A pool over a fresh SQLite file, and the file's path.
    fn sqlite_pool(name: &str) -> (Pool, std::path::PathBuf, Arc<Semaphore>) {
        let path = std::env::temp_dir().join(format!(
            "lib_pool_{name}_{}_{}.db",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_millis(200));
        let gate = Arc::new(Semaphore::new(1));
        (Pool::sqlite(options, 4, &gate), path, gate)
    }

    fn remove(path: &std::path::Path) {
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.to_path_buf().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }

    /// [`sqlite_pool`] with table `t` created as `table` and a marker on the writer
    /// connection (see [`writer_marker`]).
    async fn marked_sqlite_pool(name: &str, table: &str) -> (Pool, std::path::PathBuf) {
        let (pool, path, _gate) = sqlite_pool(name);
        pool.execute_unprepared(table).await.unwrap();
        pool.execute_unprepared("PRAGMA cache_size = -1234")
            .await
            .unwrap();
        (pool, path)
    }

    async fn count(pool: &Pool) -> i64 {
        let row = pool
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT COUNT(*) AS n FROM t",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "n").unwrap()
    }

    /// The writer's `cache_size`, a per-connection setting: a marker that survives only as
    /// long as the connection does.
    async fn writer_marker(txn: &Txn) -> i64 {
        let row = txn
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA cache_size",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index(0).unwrap()
    }

    #[tokio::test]
    async fn a_sqlite_write_waits_for_the_gate_and_a_read_does_not() {
        let (pool, path, gate) = sqlite_pool("gate");
        pool.execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        let held = Arc::clone(&gate).acquire_owned().await.unwrap();
        let read = pool.query_one_raw(Statement::from_string(DbBackend::Sqlite, "SELECT 1"));
        assert!(read.await.unwrap().is_some(), "reads pass a held gate");
        let insert = pool.execute_unprepared("INSERT INTO t VALUES (1)");
        let waited = tokio::time::timeout(std::time::Duration::from_millis(50), insert).await;
        assert!(waited.is_err(), "a write waits while the gate is held");
        drop(held);
        pool.execute_unprepared("INSERT INTO t VALUES (2)")
            .await
            .unwrap();
        assert_eq!(count(&pool).await, 1, "the timed-out write never ran");
        pool.close().await.unwrap();
        remove(&path);
    }

    #[tokio::test]
    async fn after_a_failed_statement_nothing_more_runs_and_the_commit_refuses() {
        let (pool, path, _gate) = sqlite_pool("refuse");
        pool.execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        let txn = pool.begin_write().await.unwrap();
        txn.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        let failed = txn
            .execute_unprepared("INSERT INTO missing VALUES (1)")
            .await;
        assert!(failed.is_err());
        let after = txn.execute_unprepared("INSERT INTO t VALUES (2)").await;
        assert!(
            after.unwrap_err().to_string().contains("failed earlier"),
            "a later statement answers the first failure"
        );
        let commit = txn.commit().await;
        assert!(commit.unwrap_err().to_string().contains("failed earlier"));
        assert_eq!(
            count(&pool).await,
            0,
            "nothing of the failed transaction stays"
        );
        assert_eq!(pool.writer_replacements(), 1);
        pool.close().await.unwrap();
        remove(&path);
    }

    #[tokio::test]
    async fn a_failed_write_replaces_the_writer_and_a_constraint_violation_does_not() {
        let (pool, path) =
            marked_sqlite_pool("replace", "CREATE TABLE t (x INTEGER PRIMARY KEY)").await;

        // A constraint violation undoes its statement only: same connection, and the
        // transaction goes on.
        let txn = pool.begin_write().await.unwrap();
        assert_eq!(writer_marker(&txn).await, -1234);
        txn.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        let duplicate = txn.execute_unprepared("INSERT INTO t VALUES (1)").await;
        assert!(matches!(
            duplicate.unwrap_err().sql_err(),
            Some(SqlErr::UniqueConstraintViolation(_))
        ));
        txn.execute_unprepared("INSERT INTO t VALUES (2)")
            .await
            .unwrap();
        txn.commit().await.unwrap();
        assert_eq!(count(&pool).await, 2);
        assert_eq!(pool.writer_replacements(), 0);

        // Any other failure: the next transaction runs on a fresh connection.
        let txn = pool.begin_write().await.unwrap();
        assert_eq!(writer_marker(&txn).await, -1234);
        assert!(txn.execute_unprepared("NOT SQL").await.is_err());
        drop(txn);
        let txn = pool.begin_write().await.unwrap();
        assert_ne!(writer_marker(&txn).await, -1234, "a fresh connection");
        txn.execute_unprepared("INSERT INTO t VALUES (3)")
            .await
            .unwrap();
        txn.commit().await.unwrap();
        assert_eq!(count(&pool).await, 3);
        assert_eq!(pool.writer_replacements(), 1);
        pool.close().await.unwrap();
        remove(&path);
    }

    /// The failure the fault run found: SQLite ended the transaction on its own, the
    /// driver's `ROLLBACK` then failed and it still counts the transaction open. Such a
    /// connection is never handed out again: the next transaction begins with
    /// `BEGIN IMMEDIATE` on a fresh connection and commits for real.
    #[tokio::test]
    async fn a_connection_whose_transaction_count_is_wrong_is_never_reused() {
        let (pool, path) = marked_sqlite_pool("stale", "CREATE TABLE t (x INTEGER)").await;
        let txn = pool.begin_write().await.unwrap();
        // Behind the driver's back, as SQLite does after `SQLITE_FULL`: the transaction
        // ends. The driver's `ROLLBACK` on drop then fails ("no transaction is active")
        // and it goes on counting one transaction open.
        txn.execute_unprepared("COMMIT").await.unwrap();
        drop(txn);

        let txn = pool.begin_write().await.unwrap();
        assert_ne!(writer_marker(&txn).await, -1234, "a fresh connection");
        txn.execute_unprepared("INSERT INTO t VALUES (7)")
            .await
            .unwrap();
        txn.commit().await.unwrap();

        // Another connection, as another process would: the row is there.
        let options = SqliteConnectOptions::new().filename(&path);
        let mut other = sea_orm::sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        let n: i64 = sea_orm::sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&mut other)
            .await
            .unwrap();
        assert_eq!(n, 1, "committed");
        other.close().await.unwrap();
        pool.close().await.unwrap();
        remove(&path);
    }

    /// PostgreSQL answers the `COMMIT` of a transaction a statement failed in with a
    /// rollback, and the driver reports success: a caller that went on after an error
    /// would be told its transaction committed. A [`Txn`] refuses the commit instead.
    #[tokio::test]
    async fn on_postgres_a_failed_statement_ends_the_transaction_and_the_commit_says_so() {
        let Ok(admin) = std::env::var(crate::testing::POSTGRES_URL_VAR) else {
            return;
        };
        if admin.is_empty() {
            return;
        }
        let test_db = crate::testing::TestDb::postgres(&admin).await;
        let db = crate::Database::connect(&test_db.url()).await.unwrap();
        let pool = db.pool();
        pool.execute_unprepared("CREATE TABLE t (x INTEGER PRIMARY KEY)")
            .await
            .unwrap();
        let count = async || -> i64 {
            pool.query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT COUNT(*) AS n FROM t",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "n")
            .unwrap()
        };

        // What the driver does on its own.
        let raw = pool.write_connection().begin().await.unwrap();
        raw.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        assert!(
            raw.execute_unprepared("INSERT INTO t VALUES (1)")
                .await
                .is_err()
        );
        assert!(raw.commit().await.is_ok(), "the driver reports a commit");
        assert_eq!(count().await, 0, "that stored nothing");

        // What a Txn does: every later statement and the commit answer the failure.
        let txn = pool.begin_write().await.unwrap();
        txn.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        let duplicate = txn.execute_unprepared("INSERT INTO t VALUES (1)").await;
        assert!(matches!(
            duplicate.unwrap_err().sql_err(),
            Some(SqlErr::UniqueConstraintViolation(_))
        ));
        let later = txn.execute_unprepared("INSERT INTO t VALUES (2)").await;
        assert!(later.unwrap_err().to_string().contains("failed earlier"));
        assert!(
            txn.commit()
                .await
                .unwrap_err()
                .to_string()
                .contains("failed earlier")
        );
        assert_eq!(count().await, 0);

        // The connection is clean for the next transaction.
        let txn = pool.begin_write().await.unwrap();
        txn.execute_unprepared("INSERT INTO t VALUES (3)")
            .await
            .unwrap();
        txn.commit().await.unwrap();
        assert_eq!(count().await, 1);
        db.close().await.unwrap();
    }
}
