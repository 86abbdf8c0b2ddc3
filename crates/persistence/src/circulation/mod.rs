//! The circulation unit of work: [`DbCirculationStore::begin`] opens one database
//! transaction, and [`DbTransaction`] implements every repository of
//! `library_circulation::ports` over it.
//!
//! # Concurrency
//!
//! - **PostgreSQL:** the `*_for_update` reads take row locks (`SELECT … FOR NO KEY
//!   UPDATE`: it serialises our writers exactly like `FOR UPDATE` but does not block
//!   other transactions inserting rows that merely reference the locked one). The services
//!   lock patron → title → item, so two transactions never wait on each other in a cycle.
//!   Under READ COMMITTED every statement after a lock wait sees the winner's commit, so the
//!   loser of a race for an item reads it on loan, and the 11th renewal reads 5 renewals.
//! - **SQLite:** the transaction begins `IMMEDIATE`, taking the database's write lock
//!   before its first read; writers queue (5 s busy timeout across processes).
//! - **Both:** a transaction first takes a permit of the database's transaction gate (one
//!   on SQLite, pool size − 2 on PostgreSQL). The services read configuration (calendars,
//!   rules) through the pool *while* a transaction is open; without the gate, transactions
//!   waiting for locks could hold every pooled connection and starve the one holding the
//!   locks. On SQLite the gate also queues writers fairly in-process instead of
//!   busy-polling.
//! - Constraints back the locks: one open loan per item, one active hold per (reader,
//!   title), a unique queue sequence per title. A violation fails the operation with an
//!   [`InfrastructureError`] ("… unique constraint violated") and rolls back.

mod holds;
pub(crate) mod ledger;
mod loans;
mod notices;
mod records;
pub(crate) mod rows;

use std::sync::Arc;

use async_trait::async_trait;
use library_circulation::ports::{CirculationStore, CirculationTransaction, InfrastructureError};
use library_circulation::{Item, Loan};
use library_core::PatronId;
use sea_orm::{DatabaseTransaction, DbBackend};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::pool::{Pool, begin_write};
use crate::sql::infra;

/// Starts circulation units of work on the database.
#[derive(Debug, Clone)]
pub struct DbCirculationStore {
    conn: Pool,
    gate: Arc<Semaphore>,
}

impl DbCirculationStore {
    pub(crate) fn new(conn: Pool, gate: Arc<Semaphore>) -> Self {
        Self { conn, gate }
    }

    /// Begins a transaction (the concrete type, for callers that do not need the port).
    pub async fn begin_transaction(&self) -> Result<DbTransaction, InfrastructureError> {
        let (permit, txn) = begin_gated(&self.conn, &self.gate)
            .await
            .map_err(infra("begin circulation transaction"))?;
        Ok(DbTransaction {
            backend: self.conn.get_database_backend(),
            txn,
            _permit: Some(permit),
        })
    }

    /// Begins a transaction that only reads. SQLite: a deferred transaction without the
    /// write gate (in WAL mode its first read fixes a snapshot and it never blocks or waits
    /// for the writer). PostgreSQL: `REPEATABLE READ, READ ONLY`, with a permit of the gate
    /// like any transaction (the gate there only keeps connections for configuration reads).
    pub async fn begin_read_transaction(&self) -> Result<DbTransaction, InfrastructureError> {
        use sea_orm::{AccessMode, IsolationLevel, TransactionOptions, TransactionTrait};
        const C: &str = "begin read transaction";
        let backend = self.conn.get_database_backend();
        let (permit, txn) = if backend == DbBackend::Sqlite {
            (
                None,
                self.conn.connection().begin().await.map_err(infra(C))?,
            )
        } else {
            let permit = self
                .gate
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| InfrastructureError::new("transaction gate closed"))?;
            let txn = self
                .conn
                .connection()
                .begin_with_options(TransactionOptions {
                    isolation_level: Some(IsolationLevel::RepeatableRead),
                    access_mode: Some(AccessMode::ReadOnly),
                    ..TransactionOptions::default()
                })
                .await
                .map_err(infra(C))?;
            (Some(permit), txn)
        };
        Ok(DbTransaction {
            backend,
            txn,
            _permit: permit,
        })
    }
}

/// Takes a permit of the transaction gate, then begins a write transaction.
pub(crate) async fn begin_gated(
    conn: &Pool,
    gate: &Arc<Semaphore>,
) -> Result<(OwnedSemaphorePermit, DatabaseTransaction), sea_orm::DbErr> {
    let permit = gate
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| sea_orm::DbErr::Custom("transaction gate closed".into()))?;
    let txn = begin_write(conn.connection()).await?;
    Ok((permit, txn))
}

#[async_trait]
impl CirculationStore for DbCirculationStore {
    async fn begin(&self) -> Result<Box<dyn CirculationTransaction>, InfrastructureError> {
        Ok(Box::new(self.begin_transaction().await?))
    }

    async fn begin_read(&self) -> Result<Box<dyn CirculationTransaction>, InfrastructureError> {
        Ok(Box::new(self.begin_read_transaction().await?))
    }
}

/// One circulation transaction. Dropped without [`CirculationTransaction::commit`]: rolled
/// back.
pub struct DbTransaction {
    backend: DbBackend,
    // Declared before the permit: the transaction is rolled back (dropped) first.
    txn: DatabaseTransaction,
    _permit: Option<OwnedSemaphorePermit>,
}

impl std::fmt::Debug for DbTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbTransaction")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl CirculationTransaction for DbTransaction {
    async fn commit(self: Box<Self>) -> Result<(), InfrastructureError> {
        let DbTransaction { txn, _permit, .. } = *self;
        txn.commit().await.map_err(infra("commit"))
    }

    /// One query: the open loans joined to their items.
    async fn open_loans_with_items(
        &mut self,
        patron: PatronId,
    ) -> Result<Vec<(Loan, Item)>, InfrastructureError> {
        const SQL: &str = "SELECT l.id, l.patron_id, l.item_id, l.library_code, l.borrowed_at, \
             l.due_on, l.due_at, l.renewals, l.returned_at, l.returned_to, i.barcode, \
             i.title_id, i.item_type, i.home_library, i.status \
             FROM loans l JOIN items i ON i.id = l.item_id \
             WHERE l.patron_id = ? AND l.returned_at IS NULL ORDER BY l.id";
        crate::sql::all(&self.txn, SQL, vec![patron.get().into()])
            .await
            .map_err(infra("read open loans of reader with their items"))?
            .iter()
            .map(|row| Ok((rows::loan(row)?, rows::item_with_id(row, "item_id")?)))
            .collect()
    }
}
