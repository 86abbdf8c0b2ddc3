//! Loans inside a circulation transaction (guarded by their item's lock).

use async_trait::async_trait;
use library_circulation::ports::{InfrastructureError, LoanRepository};
use library_circulation::{Loan, NewLoan};
use library_core::{ItemId, LoanId, PatronId};
use sea_orm::{DbBackend, Value};

use super::DbTransaction;
use super::rows::{self, LOAN_COLUMNS};
use crate::instant;
use crate::sql::{all, exec, infra, insert_returning_id, one};

#[async_trait]
impl LoanRepository for DbTransaction {
    async fn loan(&mut self, id: LoanId) -> Result<Option<Loan>, InfrastructureError> {
        // An anonymised loan has no reader: circulation has nothing to do with it.
        let sql =
            format!("SELECT {LOAN_COLUMNS} FROM loans WHERE id = ? AND patron_id IS NOT NULL");
        one(&self.txn, &sql, vec![id.get().into()])
            .await
            .map_err(infra("read loan"))?
            .map(|row| rows::loan(&row))
            .transpose()
    }

    async fn open_loan_of_item(
        &mut self,
        item: ItemId,
    ) -> Result<Option<Loan>, InfrastructureError> {
        let sql =
            format!("SELECT {LOAN_COLUMNS} FROM loans WHERE item_id = ? AND returned_at IS NULL");
        one(&self.txn, &sql, vec![item.get().into()])
            .await
            .map_err(infra("read open loan of item"))?
            .map(|row| rows::loan(&row))
            .transpose()
    }

    async fn open_loans_of_patron(
        &mut self,
        patron: PatronId,
    ) -> Result<Vec<Loan>, InfrastructureError> {
        let sql = format!(
            "SELECT {LOAN_COLUMNS} FROM loans WHERE patron_id = ? AND returned_at IS NULL \
             ORDER BY id"
        );
        all(&self.txn, &sql, vec![patron.get().into()])
            .await
            .map_err(infra("read open loans of reader"))?
            .iter()
            .map(rows::loan)
            .collect()
    }

    async fn insert_loan(&mut self, loan: NewLoan) -> Result<Loan, InfrastructureError> {
        let b = self.backend;
        let id = insert_returning_id(&self.txn, INSERT_LOAN, new_loan_values(b, &loan))
            .await
            .map_err(infra("insert loan"))?;
        Ok(stored_loan(loan, id))
    }

    async fn update_loan(&mut self, loan: &Loan) -> Result<(), InfrastructureError> {
        let b = self.backend;
        let n = exec(&self.txn, UPDATE_LOAN, loan_values(b, loan))
            .await
            .map_err(infra("update loan"))?;
        if n == 1 {
            Ok(())
        } else {
            Err(InfrastructureError::new(format!(
                "no such loan {}",
                loan.id
            )))
        }
    }
}

/// Inserts a loan ([`new_loan_values`]), giving its id.
pub(super) const INSERT_LOAN: &str = "INSERT INTO loans (patron_id, item_id, library_code, \
     borrowed_at, due_on, due_at, renewals) VALUES (?, ?, ?, ?, ?, ?, 0) RETURNING id";

/// Overwrites a loan ([`loan_values`]).
pub(super) const UPDATE_LOAN: &str = "UPDATE loans SET patron_id = ?, item_id = ?, \
     library_code = ?, borrowed_at = ?, due_on = ?, due_at = ?, renewals = ?, returned_at = ?, \
     returned_to = ? WHERE id = ?";

/// The values of `INSERT INTO loans (patron_id, item_id, library_code, borrowed_at, due_on,
/// due_at, …)`, in that order.
pub(super) fn new_loan_values(b: DbBackend, loan: &NewLoan) -> Vec<Value> {
    vec![
        loan.patron.get().into(),
        loan.item.get().into(),
        loan.library.as_str().into(),
        instant::value(b, loan.borrowed_at),
        Value::TimeDate(Some(loan.due.on)),
        instant::value(b, loan.due.at),
    ]
}

/// The new loan as stored with `id`: what a read gives back (instants in UTC, whole
/// microseconds).
pub(super) fn stored_loan(loan: NewLoan, id: i64) -> Loan {
    let mut stored = loan.with_id(LoanId(id));
    stored.borrowed_at = instant::normalize(stored.borrowed_at);
    stored.due.at = instant::normalize(stored.due.at);
    stored
}

/// The values of `UPDATE loans SET patron_id, item_id, library_code, borrowed_at, due_on,
/// due_at, renewals, returned_at, returned_to … WHERE id`, in that order.
pub(super) fn loan_values(b: DbBackend, loan: &Loan) -> Vec<Value> {
    vec![
        loan.patron.get().into(),
        loan.item.get().into(),
        loan.library.as_str().into(),
        instant::value(b, loan.borrowed_at),
        Value::TimeDate(Some(loan.due.on)),
        instant::value(b, loan.due.at),
        i64::from(loan.renewals).into(),
        instant::optional(b, loan.returned_at),
        Value::String(loan.returned_to.as_ref().map(|c| c.as_str().to_owned())),
        loan.id.get().into(),
    ]
}
