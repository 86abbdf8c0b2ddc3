//! The connection pool every store uses, with SQLite's writes queued in-process.
//!
//! SQLite has one write lock per database file. A writer that finds it taken waits in
//! SQLite's busy handler, which *sleeps* (1, 2, 5, 10 … 100 ms steps) and polls again; with
//! a handful of concurrent requests most of the time went into those sleeps (measured: about
//! 2,400 sleeps of 3.8 ms on average in nine seconds of the HTTP benchmark). So on SQLite
//! every write of this process first takes the single permit of the database's write gate
//! (the same permit a circulation transaction holds for its whole length): writers queue on
//! a fair async semaphore and find the lock free when their turn comes. Reads never take it
//! (WAL readers do not block the writer nor the writer them). The busy timeout still covers
//! other processes writing the same file.
//!
//! On PostgreSQL nothing is queued: row locks do the work.
//!
//! A statement is a read when it begins with `SELECT`; anything else sent through the query
//! path (`INSERT … RETURNING`, `UPDATE … RETURNING`) is a write. A task holding the permit
//! (inside [`Pool::begin_write`] or a circulation transaction) must run its statements on
//! its transaction, never on the pool, or it would wait for itself.

use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The shared pool, with the SQLite write gate. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    conn: DatabaseConnection,
    /// `Some` on SQLite: the database's one-permit write gate.
    sqlite_writes: Option<Arc<Semaphore>>,
}

/// A write permit: held for the length of a write on SQLite, nothing on PostgreSQL.
pub(crate) type WritePermit = Option<OwnedSemaphorePermit>;

impl Pool {
    /// `gate` is the database's transaction gate; on SQLite (one permit) it also queues
    /// single writes.
    pub(crate) fn new(conn: DatabaseConnection, gate: &Arc<Semaphore>) -> Pool {
        let sqlite_writes =
            (conn.get_database_backend() == DbBackend::Sqlite).then(|| Arc::clone(gate));
        Pool {
            conn,
            sqlite_writes,
        }
    }

    /// The engine behind the pool.
    pub(crate) fn get_database_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// The underlying connection, for transactions whose gate permit the caller holds.
    pub(crate) fn connection(&self) -> &DatabaseConnection {
        &self.conn
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
    /// returned permit is dropped: drop it after the transaction ends.
    pub(crate) async fn begin_write(&self) -> Result<(WritePermit, DatabaseTransaction), DbErr> {
        let permit = self.write_permit().await?;
        let txn = begin_write(&self.conn).await?;
        Ok((permit, txn))
    }
}

/// Begins a transaction that writes. On SQLite it is `BEGIN IMMEDIATE`: the write lock is
/// taken at `BEGIN` (waiting up to the busy timeout for other processes), so the
/// transaction cannot fail later with `SQLITE_BUSY` when a read would have to become a
/// write. PostgreSQL ignores the mode. The caller holds the gate permit.
pub(crate) async fn begin_write(conn: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    conn.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
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
        let _permit = self.write_permit().await?;
        self.conn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let _permit = self.write_permit().await?;
        self.conn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        if is_read(&stmt.sql) {
            return self.conn.query_one_raw(stmt).await;
        }
        let _permit = self.write_permit().await?;
        self.conn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        if is_read(&stmt.sql) {
            return self.conn.query_all_raw(stmt).await;
        }
        let _permit = self.write_permit().await?;
        self.conn.query_all_raw(stmt).await
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

    #[tokio::test]
    async fn a_sqlite_write_waits_for_the_gate_and_a_read_does_not() {
        let mut options = sea_orm::ConnectOptions::new("sqlite::memory:");
        options.max_connections(1).sqlx_logging(false);
        let conn = sea_orm::Database::connect(options).await.unwrap();
        let gate = Arc::new(Semaphore::new(1));
        let pool = Pool::new(conn, &gate);
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
        let rows = pool
            .query_all_raw(Statement::from_string(DbBackend::Sqlite, "SELECT x FROM t"))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "the timed-out write never ran");
    }
}
