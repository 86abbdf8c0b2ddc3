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

mod audit;
mod holds;
pub(crate) mod ledger;
mod loans;
mod notices;
mod records;
pub(crate) mod rows;
mod statistics;

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use library_circulation::ports::{
    CheckinReads, CheckoutReads, CheckoutRecords, CirculationStore, CirculationTransaction,
    InfrastructureError, LoansChargesAndHolds, LockedCopy, checkin_reads_by_parts,
    checkout_reads_by_parts, loans_charges_and_holds_by_parts, lock_copy_with_holds_by_parts,
};
use library_circulation::{Hold, Item, ItemPlacement, ItemStatus, Loan, NewLoan, Title};
use library_core::{Barcode, CardNumber, ItemId, LoanId, Money, PatronId, TitleId};
use sea_orm::{DbBackend, QueryResult};
use time::Date;
use tokio::sync::Semaphore;

use crate::instant;
use crate::pool::{Pool, Txn};
use crate::sql::{exec, get, infra, lock_clause_of, one};
use ledger::OUTSTANDING_SQL;
use rows::LOAN_COLUMNS;
use rows::PATRON_COLUMNS;

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
        let txn = self
            .conn
            .begin_gated(&self.gate)
            .await
            .map_err(infra("begin circulation transaction"))?;
        Ok(DbTransaction {
            backend: self.conn.get_database_backend(),
            txn,
            journal: Vec::new(),
        })
    }

    /// Begins a transaction that only reads. SQLite: a deferred transaction without the
    /// write gate (in WAL mode its first read fixes a snapshot and it never blocks or waits
    /// for the writer). PostgreSQL: `REPEATABLE READ, READ ONLY`, with a permit of the gate
    /// like any transaction (the gate there only keeps connections for configuration reads).
    pub async fn begin_read_transaction(&self) -> Result<DbTransaction, InfrastructureError> {
        use sea_orm::{AccessMode, IsolationLevel, TransactionOptions};
        const C: &str = "begin read transaction";
        let backend = self.conn.get_database_backend();
        let txn = if backend == DbBackend::Sqlite {
            self.conn
                .begin_with(TransactionOptions::default(), None)
                .await
                .map_err(infra(C))?
        } else {
            let permit = self
                .gate
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| InfrastructureError::new("transaction gate closed"))?;
            self.conn
                .begin_with(
                    TransactionOptions {
                        isolation_level: Some(IsolationLevel::RepeatableRead),
                        access_mode: Some(AccessMode::ReadOnly),
                        ..TransactionOptions::default()
                    },
                    Some(permit),
                )
                .await
                .map_err(infra(C))?
        };
        Ok(DbTransaction {
            backend,
            txn,
            journal: Vec::new(),
        })
    }
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
/// back. It ends at its first failed statement (see `pool.rs`).
pub struct DbTransaction {
    backend: DbBackend,
    txn: Txn,
    /// Rows appended to the journals (the audit log, the circulation statistics), written
    /// when the transaction commits: nothing in the transaction reads them back, and all of
    /// them go to the database in one statement just before `COMMIT`
    /// ([`DbTransaction::write_journal`]).
    journal: Vec<(&'static str, Vec<sea_orm::Value>)>,
}

impl DbTransaction {
    /// Appends the row `insert` (an `INSERT … VALUES (?, …)` without `RETURNING`) writes
    /// with `values`, to be written at the commit.
    pub(crate) fn append_to_journal(&mut self, insert: &'static str, values: Vec<sea_orm::Value>) {
        self.journal.push((insert, values));
    }

    /// Writes the journals' rows appended since the last call, in one statement: on
    /// PostgreSQL the inserts as data-modifying `WITH` parts of one statement, on SQLite as
    /// one call of several statements.
    async fn write_journal(&mut self) -> Result<(), InfrastructureError> {
        const C: &str = "write the audit entries and statistics";
        let journal = std::mem::take(&mut self.journal);
        if journal.is_empty() {
            return Ok(());
        }
        let sql = if self.backend == DbBackend::Postgres && journal.len() > 1 {
            let parts: Vec<String> = journal
                .iter()
                .enumerate()
                .map(|(n, (insert, _))| format!("j{n} AS ({insert})"))
                .collect();
            format!("WITH {} SELECT 1 AS written", parts.join(", "))
        } else {
            // One insert alone on either backend; several, one call of them on SQLite.
            let inserts: Vec<&str> = journal.iter().map(|(insert, _)| *insert).collect();
            inserts.join("; ")
        };
        let values = journal.into_iter().flat_map(|(_, values)| values).collect();
        crate::sql::all(&self.txn, &sql, values)
            .await
            .map_err(infra(C))?;
        Ok(())
    }
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
    async fn commit(mut self: Box<Self>) -> Result<(), InfrastructureError> {
        self.write_journal().await?;
        self.txn.commit().await.map_err(infra("commit"))
    }

    async fn replacement_cost(
        &mut self,
        item: ItemId,
    ) -> Result<Option<Money>, InfrastructureError> {
        const C: &str = "read replacement cost";
        let row = one(
            &self.txn,
            "SELECT COALESCE(i.replacement_cost_cents, t.replacement_cost_cents) AS cost              FROM items i JOIN titles t ON t.id = i.title_id WHERE i.id = ?",
            vec![item.get().into()],
        )
        .await
        .map_err(infra(C))?;
        Ok(match row {
            Some(row) => get::<Option<i64>>(&row, "cost")
                .map_err(infra(C))?
                .map(Money::from_cents),
            None => None,
        })
    }

    async fn mark_lost(
        &mut self,
        loan: LoanId,
        at: time::OffsetDateTime,
    ) -> Result<(), InfrastructureError> {
        let n = exec(
            &self.txn,
            "UPDATE loans SET lost_at = ? WHERE id = ?",
            vec![instant::value(self.backend, at), loan.get().into()],
        )
        .await
        .map_err(infra("mark loan lost"))?;
        if n == 1 {
            Ok(())
        } else {
            Err(InfrastructureError::new(format!("no such loan {loan}")))
        }
    }

    async fn mark_claimed_returned(
        &mut self,
        loan: LoanId,
        at: time::OffsetDateTime,
    ) -> Result<(), InfrastructureError> {
        let n = exec(
            &self.txn,
            "UPDATE loans SET claimed_returned_at = ? WHERE id = ?",
            vec![instant::value(self.backend, at), loan.get().into()],
        )
        .await
        .map_err(infra("mark loan claimed returned"))?;
        if n == 1 {
            Ok(())
        } else {
            Err(InfrastructureError::new(format!("no such loan {loan}")))
        }
    }

    async fn loan_endings(
        &mut self,
        loan: LoanId,
    ) -> Result<(Option<time::OffsetDateTime>, Option<time::OffsetDateTime>), InfrastructureError>
    {
        const C: &str = "read how a loan ended";
        let row = one(
            &self.txn,
            "SELECT claimed_returned_at, lost_at FROM loans WHERE id = ?",
            vec![loan.get().into()],
        )
        .await
        .map_err(infra(C))?;
        match row {
            Some(row) => Ok((
                get(&row, "claimed_returned_at").map_err(infra(C))?,
                get(&row, "lost_at").map_err(infra(C))?,
            )),
            None => Ok((None, None)),
        }
    }

    async fn lost_loan_of_item(
        &mut self,
        item: ItemId,
    ) -> Result<Option<Loan>, InfrastructureError> {
        let sql = format!(
            "SELECT {LOAN_COLUMNS} FROM loans WHERE item_id = ? \
             AND (lost_at IS NOT NULL OR claimed_returned_at IS NOT NULL) \
             AND patron_id IS NOT NULL ORDER BY returned_at DESC, id DESC LIMIT 1"
        );
        one(&self.txn, &sql, vec![item.get().into()])
            .await
            .map_err(infra("read lost loan of item"))?
            .map(|row| rows::loan(&row))
            .transpose()
    }

    async fn lost_item_charges(
        &mut self,
        patron: PatronId,
        loan: LoanId,
    ) -> Result<Vec<library_fines::Charge>, InfrastructureError> {
        crate::ledger_store::charges_where(
            &self.txn,
            "patron_id = ? AND loan_id = ? AND kind = 'other' \
             AND description IN ('lost_item', 'lost_processing')",
            vec![patron.get().into(), loan.get().into()],
        )
        .await
    }

    async fn write_off(
        &mut self,
        charge: library_fines::ChargeId,
        amount: Money,
        reason: &str,
        on: Date,
    ) -> Result<(), InfrastructureError> {
        let n = exec(
            &self.txn,
            "UPDATE charges SET waived_amount = ?, waiver_reason = ?, waived_on = ? \
             WHERE id = ? AND waived_on IS NULL",
            vec![
                amount.cents().into(),
                reason.into(),
                sea_orm::Value::TimeDate(Some(on)),
                charge.0.into(),
            ],
        )
        .await
        .map_err(infra("write off charge"))?;
        if n == 1 {
            Ok(())
        } else {
            Err(InfrastructureError::new(format!(
                "no charge {} to write off",
                charge.0
            )))
        }
    }

    /// One query: the open loans joined to their items.
    async fn open_loans_with_items(
        &mut self,
        patron: PatronId,
    ) -> Result<Vec<(Loan, Item)>, InfrastructureError> {
        let sql = format!("{} ORDER BY l.id", *OPEN_LOANS_WITH_ITEMS);
        crate::sql::all(&self.txn, &sql, vec![patron.get().into()])
            .await
            .map_err(infra("read open loans of reader with their items"))?
            .iter()
            .map(|row| Ok((rows::loan(row)?, rows::item_with_id(row, "item_id")?)))
            .collect()
    }

    /// One query: what the reader owes in charges (one row), left joined to their open
    /// loans with their items.
    async fn open_loans_and_charges(
        &mut self,
        patron: PatronId,
    ) -> Result<(Vec<(Loan, Item)>, Money), InfrastructureError> {
        const C: &str = "read open loans and charges of reader";
        let found = crate::sql::all(
            &self.txn,
            &loans_and_charges_sql(""),
            vec![patron.get().into(), patron.get().into()],
        )
        .await
        .map_err(infra(C))?;
        loans_and_charges_of(found.iter(), C)
    }

    /// One statement: the item joined to its title, both locked (title first: PostgreSQL
    /// locks the relations of `FOR … OF` in the order listed).
    async fn lock_copy_by_barcode(
        &mut self,
        barcode: &Barcode,
    ) -> Result<Option<(Title, Item)>, InfrastructureError> {
        const C: &str = "lock title and item by barcode";
        let sql = format!(
            "SELECT t.name AS title_name, {COPY_COLUMNS} FROM items i \
             JOIN titles t ON t.id = i.title_id WHERE i.barcode = ?{}",
            lock_clause_of(self.backend, "t, i")
        );
        let Some(row) = one(&self.txn, &sql, vec![barcode.as_str().into()])
            .await
            .map_err(infra(C))?
        else {
            return Ok(None);
        };
        let item = rows::item_with_id(&row, "copy_id")?;
        Ok(Some((title_of(&row, &item, C)?, item)))
    }

    /// One statement: the item joined to its title, both locked as
    /// [`Self::lock_copy_by_barcode`] does, left joined to its open loan (read as the
    /// statement begins; see the port).
    async fn lock_copy(
        &mut self,
        id: ItemId,
    ) -> Result<Option<(Title, Item, Option<Loan>)>, InfrastructureError> {
        const C: &str = "lock title and item with open loan";
        let sql = lock_copy_sql(self.backend, "", None, "i.id = ?");
        one(&self.txn, &sql, vec![id.get().into()])
            .await
            .map_err(infra(C))?
            .map(|row| locked_copy_of(&row, C))
            .transpose()
    }

    /// SQLite: both reads sent as one call (`sqlite_batch`). PostgreSQL: the two
    /// statements (their rows differ in shape; both run under locks already held).
    async fn open_loans_charges_and_holds(
        &mut self,
        patron: PatronId,
        title: TitleId,
    ) -> Result<LoansChargesAndHolds, InfrastructureError> {
        if self.backend == DbBackend::Postgres {
            return loans_charges_and_holds_by_parts(self, patron, title).await;
        }
        const C: &str = "read open loans, charges and holds";
        let sql = format!(
            "{}; {}",
            loans_and_charges_sql("'loans' AS what, "),
            holds::active_holds_of_title_sql("'holds' AS what, ", "?")
        );
        let found = sqlite_batch(
            &self.txn,
            &sql,
            vec![patron.get().into(), patron.get().into(), title.get().into()],
            C,
        )
        .await?;
        let loans = loans_and_charges_of(tagged(&found, "loans"), C)?;
        let holds = tagged(&found, "holds")
            .map(rows::hold)
            .collect::<Result<_, _>>()?;
        Ok((loans, holds))
    }

    /// SQLite: both reads sent as one call (`sqlite_batch`). PostgreSQL: the two
    /// statements, the holds read after the locks are granted (a statement reads what was
    /// committed when it began, and the locking one may have waited).
    async fn lock_copy_with_holds(
        &mut self,
        id: ItemId,
    ) -> Result<Option<(LockedCopy, Vec<Hold>)>, InfrastructureError> {
        if self.backend == DbBackend::Postgres {
            return lock_copy_with_holds_by_parts(self, id).await;
        }
        const C: &str = "lock title and item with open loan and holds";
        let sql = format!(
            "{}; {}",
            lock_copy_sql(self.backend, "'copy' AS what, ", None, "i.id = ?"),
            holds::active_holds_of_title_sql(
                "'holds' AS what, ",
                "(SELECT title_id FROM items WHERE id = ?)"
            )
        );
        let found =
            sqlite_batch(&self.txn, &sql, vec![id.get().into(), id.get().into()], C).await?;
        let Some(copy) = tagged(&found, "copy").next() else {
            return Ok(None);
        };
        let holds = tagged(&found, "holds")
            .map(rows::hold)
            .collect::<Result<_, _>>()?;
        Ok(Some((locked_copy_of(copy, C)?, holds)))
    }

    /// One query: the item left joined to its open loan.
    async fn item_with_open_loan_by_barcode(
        &mut self,
        barcode: &Barcode,
    ) -> Result<Option<(Item, Option<Loan>)>, InfrastructureError> {
        const C: &str = "read item with open loan by barcode";
        let sql = format!(
            "SELECT {COPY_COLUMNS}, {OPEN_LOAN_COLUMNS} FROM items i \
             LEFT JOIN loans l ON l.item_id = i.id AND l.returned_at IS NULL \
             WHERE i.barcode = ?"
        );
        let Some(row) = one(&self.txn, &sql, vec![barcode.as_str().into()])
            .await
            .map_err(infra(C))?
        else {
            return Ok(None);
        };
        let item = rows::item_with_id(&row, "copy_id")?;
        Ok(Some((item, open_loan_of(&row, C)?)))
    }

    /// SQLite: the four reads sent as one call (`sqlite_batch`), the copy, loans and holds
    /// found through the card and the barcode; the transaction holds the database's write
    /// lock from its start, so they read what the reads one after another would.
    /// PostgreSQL: the reader, the title and the copy locked in one statement (in that
    /// order), then the loans, charges and holds read after it (a lock may wait, and what
    /// follows must be read after it); when that statement finds no row, the calls one
    /// after another tell whether the reader or the copy is missing.
    async fn checkout_reads(
        &mut self,
        card: &CardNumber,
        barcode: &Barcode,
    ) -> Result<CheckoutReads, InfrastructureError> {
        if self.backend == DbBackend::Postgres {
            const C: &str = "lock reader, title and copy";
            let sql = lock_copy_sql(self.backend, "", Some("p.card_number = ?"), "i.barcode = ?");
            let values = vec![card.as_str().into(), barcode.as_str().into()];
            let Some(row) = one(&self.txn, &sql, values).await.map_err(infra(C))? else {
                return checkout_reads_by_parts(self, card, barcode).await;
            };
            let patron = rows::patron_prefixed(&row, "reader_")?;
            let (title, item, _) = locked_copy_of(&row, C)?;
            let loans_charges_and_holds = self
                .open_loans_charges_and_holds(patron.id, item.title)
                .await?;
            return Ok(CheckoutReads::Found(Box::new(CheckoutRecords {
                patron,
                title,
                item,
                loans_charges_and_holds,
            })));
        }
        const C: &str = "read reader, copy, loans, charges and holds";
        const READER: &str = "(SELECT id FROM patrons WHERE card_number = ?)";
        let sql = format!(
            "SELECT 'reader' AS what, {PATRON_COLUMNS} FROM patrons WHERE card_number = ?; \
             SELECT 'copy' AS what, t.name AS title_name, {COPY_COLUMNS} FROM items i \
             JOIN titles t ON t.id = i.title_id WHERE i.barcode = ?; {}; {}",
            loans_and_charges_sql("'loans' AS what, ").replace('?', READER),
            holds::active_holds_of_title_sql(
                "'holds' AS what, ",
                "(SELECT title_id FROM items WHERE barcode = ?)"
            )
        );
        let (card, barcode) = (card.as_str(), barcode.as_str());
        let values = vec![
            card.into(),
            barcode.into(),
            card.into(),
            card.into(),
            barcode.into(),
        ];
        let found = sqlite_batch(&self.txn, &sql, values, C).await?;
        let Some(patron) = tagged(&found, "reader").next() else {
            return Ok(CheckoutReads::NoReader);
        };
        let Some(copy) = tagged(&found, "copy").next() else {
            return Ok(CheckoutReads::NoCopy);
        };
        let item = rows::item_with_id(copy, "copy_id")?;
        let holds = tagged(&found, "holds")
            .map(rows::hold)
            .collect::<Result<_, _>>()?;
        Ok(CheckoutReads::Found(Box::new(CheckoutRecords {
            patron: rows::patron(patron)?,
            title: title_of(copy, &item, C)?,
            item,
            loans_charges_and_holds: (loans_and_charges_of(tagged(&found, "loans"), C)?, holds),
        })))
    }

    /// SQLite: the four reads sent as one call, as for [`Self::checkout_reads`], the
    /// borrower found through the copy's open loan. PostgreSQL: the first look at the copy
    /// and its open loan and the borrower's lock in one statement, then the copy locked
    /// with its open loan and its title's holds (read after the borrower's lock is
    /// granted: a statement that waited for a lock returns the rows it did not lock as they
    /// were when it began, which is what a first look is). When that first statement finds
    /// no row (no such copy, not on loan, or the borrower gone), the calls one after
    /// another.
    async fn checkin_reads(
        &mut self,
        barcode: &Barcode,
    ) -> Result<Option<CheckinReads>, InfrastructureError> {
        if self.backend == DbBackend::Postgres {
            const C: &str = "read copy with open loan, lock borrower";
            let sql = format!(
                "SELECT {}, {COPY_COLUMNS}, {OPEN_LOAN_COLUMNS} FROM items i \
                 JOIN loans l ON l.item_id = i.id AND l.returned_at IS NULL \
                 JOIN patrons p ON p.id = l.patron_id WHERE i.barcode = ?{}",
                *rows::READER_COLUMNS,
                lock_clause_of(self.backend, "p")
            );
            let found = one(&self.txn, &sql, vec![barcode.as_str().into()])
                .await
                .map_err(infra(C))?;
            let Some(row) = found else {
                return checkin_reads_by_parts(self, barcode).await;
            };
            let item = rows::item_with_id(&row, "copy_id")?;
            let borrower = rows::patron_prefixed(&row, "reader_")?;
            let copy = self.lock_copy_with_holds(item.id).await?;
            return Ok(Some(CheckinReads {
                item,
                loan: open_loan_of(&row, C)?,
                borrower: Some(borrower),
                copy,
            }));
        }
        const C: &str = "read copy, open loan, borrower and holds";
        let sql = format!(
            "SELECT 'look' AS what, {COPY_COLUMNS}, {OPEN_LOAN_COLUMNS} FROM items i \
             LEFT JOIN loans l ON l.item_id = i.id AND l.returned_at IS NULL \
             WHERE i.barcode = ?; \
             SELECT 'reader' AS what, {PATRON_COLUMNS} FROM patrons WHERE id = \
             (SELECT l.patron_id FROM loans l JOIN items i ON i.id = l.item_id \
             WHERE i.barcode = ? AND l.returned_at IS NULL); {}; {}",
            lock_copy_sql(self.backend, "'copy' AS what, ", None, "i.barcode = ?"),
            holds::active_holds_of_title_sql(
                "'holds' AS what, ",
                "(SELECT title_id FROM items WHERE barcode = ?)"
            )
        );
        let values = vec![barcode.as_str().into(); 4];
        let found = sqlite_batch(&self.txn, &sql, values, C).await?;
        let Some(look) = tagged(&found, "look").next() else {
            return Ok(None);
        };
        let item = rows::item_with_id(look, "copy_id")?;
        let Some(loan) = open_loan_of(look, C)? else {
            return Ok(Some(CheckinReads {
                item,
                loan: None,
                borrower: None,
                copy: None,
            }));
        };
        let borrower = tagged(&found, "reader")
            .next()
            .map(rows::patron)
            .transpose()?;
        let copy = match tagged(&found, "copy").next() {
            Some(copy) => Some((
                locked_copy_of(copy, C)?,
                tagged(&found, "holds")
                    .map(rows::hold)
                    .collect::<Result<_, _>>()?,
            )),
            None => None,
        };
        Ok(Some(CheckinReads {
            item,
            loan: Some(loan),
            borrower,
            copy,
        }))
    }

    /// PostgreSQL: one statement, the loan inserted in a data-modifying `WITH`. SQLite: the
    /// copy's update and the loan's insert sent as one call (`sqlite_batch`).
    async fn lend(&mut self, loan: NewLoan) -> Result<Loan, InfrastructureError> {
        const C: &str = "lend";
        let b = self.backend;
        let status = vec![
            rows::item_status_str(ItemStatus::OnLoan).into(),
            loan.item.get().into(),
        ];
        let values = loans::new_loan_values(b, &loan);
        let loan_id = |row: &QueryResult| get::<i64>(row, "id").map_err(infra(C));
        let id = if b == DbBackend::Postgres {
            let sql = format!(
                "WITH l AS ({}) UPDATE items SET status = ? WHERE id = ? \
                 RETURNING (SELECT id FROM l) AS id",
                loans::INSERT_LOAN
            );
            one(&self.txn, &sql, [values, status].concat())
                .await
                .map_err(infra(C))?
                .as_ref()
                .map(loan_id)
        } else {
            let sql = format!(
                "UPDATE items SET status = ? WHERE id = ? RETURNING 'item' AS what, id; \
                 {}, 'loan' AS what",
                loans::INSERT_LOAN
            );
            let found = sqlite_batch(&self.txn, &sql, [status, values].concat(), C).await?;
            tagged(&found, "loan").next().map(loan_id)
        };
        let id = id
            .transpose()?
            .ok_or_else(|| InfrastructureError::new(format!("no such item {}", loan.item)))?;
        Ok(loans::stored_loan(loan, id))
    }

    /// PostgreSQL: one statement, the loan updated in a data-modifying `WITH`. SQLite: the
    /// copy's update and the loan's sent as one call (`sqlite_batch`).
    async fn close_loan(
        &mut self,
        loan: &Loan,
        placement: &ItemPlacement,
    ) -> Result<(), InfrastructureError> {
        const C: &str = "close loan";
        let b = self.backend;
        let item_values = records::placement_values(loan.item, placement);
        let (item_found, loan_found) = if b == DbBackend::Postgres {
            let sql = format!(
                "WITH l AS ({} RETURNING id) UPDATE items SET {} WHERE id = ? \
                 RETURNING CAST((SELECT COUNT(*) FROM l) AS BIGINT) AS loans",
                loans::UPDATE_LOAN,
                records::PLACE_ITEM
            );
            match one(
                &self.txn,
                &sql,
                [loans::loan_values(b, loan), item_values].concat(),
            )
            .await
            .map_err(infra(C))?
            {
                Some(row) => (true, get::<i64>(&row, "loans").map_err(infra(C))? == 1),
                None => (false, false),
            }
        } else {
            let sql = format!(
                "UPDATE items SET {} WHERE id = ? RETURNING 'item' AS what; \
                 {} RETURNING 'loan' AS what",
                records::PLACE_ITEM,
                loans::UPDATE_LOAN
            );
            let found = sqlite_batch(
                &self.txn,
                &sql,
                [item_values, loans::loan_values(b, loan)].concat(),
                C,
            )
            .await?;
            (
                tagged(&found, "item").count() == 1,
                tagged(&found, "loan").count() == 1,
            )
        };
        if !item_found {
            return Err(InfrastructureError::new(format!(
                "no such item {}",
                loan.item
            )));
        }
        if !loan_found {
            return Err(InfrastructureError::new(format!(
                "no such loan {}",
                loan.id
            )));
        }
        Ok(())
    }
}

/// The reader's unpaid charges (one row) left joined to their open loans with their items,
/// with `extra` columns first; binds the reader twice.
fn loans_and_charges_sql(extra: &str) -> String {
    format!(
        "SELECT {extra}o.outstanding, x.* FROM ({OUTSTANDING_SQL}) o \
         LEFT JOIN ({}) x ON 1 = 1 ORDER BY x.id",
        *OPEN_LOANS_WITH_ITEMS
    )
}

/// The loans with their items and the amount owed, from [`loans_and_charges_sql`]'s rows.
fn loans_and_charges_of<'a>(
    found: impl Iterator<Item = &'a QueryResult>,
    context: &'static str,
) -> Result<(Vec<(Loan, Item)>, Money), InfrastructureError> {
    let mut owed = Money::ZERO;
    let mut loans = Vec::new();
    for row in found {
        owed = Money::from_cents(get(row, "outstanding").map_err(infra(context))?);
        if get::<Option<i64>>(row, "id")
            .map_err(infra(context))?
            .is_some()
        {
            loans.push((rows::loan(row)?, rows::item_with_id(row, "item_id")?));
        }
    }
    Ok((loans, owed))
}

/// Item `which` with its title, both locked (title first), and its open loan; `extra`
/// columns first. With `reader` (a condition on patrons `p`), that reader too, locked
/// before them (PostgreSQL locks the relations of `FOR … OF` in the order listed), its
/// columns named as [`rows::READER_COLUMNS`] names them.
fn lock_copy_sql(backend: DbBackend, extra: &str, reader: Option<&str>, which: &str) -> String {
    let (reader_columns, patrons, reader, locked) = match reader {
        Some(condition) => (
            format!("{}, ", *rows::READER_COLUMNS),
            "patrons p, ",
            format!("{condition} AND "),
            "p, t, i",
        ),
        None => (String::new(), "", String::new(), "t, i"),
    };
    format!(
        "SELECT {extra}{reader_columns}t.name AS title_name, {COPY_COLUMNS}, {OPEN_LOAN_COLUMNS} \
         FROM {patrons}items i JOIN titles t ON t.id = i.title_id \
         LEFT JOIN loans l ON l.item_id = i.id AND l.returned_at IS NULL \
         WHERE {reader}{which}{}",
        lock_clause_of(backend, locked)
    )
}

/// The copy of a [`lock_copy_sql`] row.
fn locked_copy_of(
    row: &QueryResult,
    context: &'static str,
) -> Result<LockedCopy, InfrastructureError> {
    let item = rows::item_with_id(row, "copy_id")?;
    let loan = open_loan_of(row, context)?;
    Ok((title_of(row, &item, context)?, item, loan))
}

/// The rows of a `sqlite_batch` tagged `what`.
fn tagged<'a>(
    found: &'a [(String, QueryResult)],
    what: &'a str,
) -> impl Iterator<Item = &'a QueryResult> {
    found
        .iter()
        .filter(move |(w, _)| w == what)
        .map(|(_, row)| row)
}

/// SQLite: several statements sent as one call to the connection's thread (sqlx runs them
/// in order, binding `values` across them in order), each returning rows tagged with a
/// `what` column; the rows as (tag, row). Each statement is a hop to that thread and back
/// otherwise, the largest part of a short statement's cost.
async fn sqlite_batch(
    txn: &Txn,
    sql: &str,
    values: Vec<sea_orm::Value>,
    context: &'static str,
) -> Result<Vec<(String, QueryResult)>, InfrastructureError> {
    crate::sql::all(txn, sql, values)
        .await
        .map_err(infra(context))?
        .into_iter()
        .map(|row| Ok((get::<String>(&row, "what").map_err(infra(context))?, row)))
        .collect()
}

/// An item's columns for [`rows::item_with_id`], its id as `copy_id` (clear of a joined
/// loan's `id` and `item_id`).
const COPY_COLUMNS: &str = "i.id AS copy_id, i.barcode, i.title_id, i.item_type, \
     i.home_library, i.status, COALESCE(i.current_library, i.home_library) AS current_library, \
     i.transit_to";

/// A loan's columns (`l`) for [`rows::loan`] (all NULL when left joined without one).
const OPEN_LOAN_COLUMNS: &str = "l.id, l.patron_id, l.item_id, l.library_code, l.borrowed_at, \
     l.due_on, l.due_at, l.renewals, l.returned_at, l.returned_to";

/// A reader's open loans (`l`) with their items (`i`), for [`rows::loan`] and
/// [`rows::item_with_id`] with `item_id`; one placeholder, the reader's id.
static OPEN_LOANS_WITH_ITEMS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {OPEN_LOAN_COLUMNS}, i.barcode, i.title_id, i.item_type, i.home_library, \
         i.status, COALESCE(i.current_library, i.home_library) AS current_library, \
         i.transit_to FROM loans l JOIN items i ON i.id = l.item_id \
         WHERE l.patron_id = ? AND l.returned_at IS NULL"
    )
});

fn title_of(
    row: &QueryResult,
    item: &Item,
    context: &'static str,
) -> Result<Title, InfrastructureError> {
    Ok(Title {
        id: item.title,
        name: get(row, "title_name").map_err(infra(context))?,
    })
}

fn open_loan_of(
    row: &QueryResult,
    context: &'static str,
) -> Result<Option<Loan>, InfrastructureError> {
    if get::<Option<i64>>(row, "id")
        .map_err(infra(context))?
        .is_none()
    {
        return Ok(None);
    }
    rows::loan(row).map(Some)
}
