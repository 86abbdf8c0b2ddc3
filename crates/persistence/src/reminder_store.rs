//! The reminders about loans' due dates: which open loans are due one, and noting a reminder
//! with the outbox row it queues, in one transaction (docs/operations.md, Messages).

use library_app::{DueLoan, ReminderKind};
use library_core::{LoanId, PatronId, TitleId};
use sea_orm::Value;
use time::{Date, OffsetDateTime};

use crate::error::StoreError;
use crate::instant;
use crate::outbox_store::{NewNotification, insert_notification};
use crate::pool::Pool;
use crate::sql::{all, count, exec, get, infra, one, store_err};

/// The reminders table and the loans it watches.
#[derive(Debug, Clone)]
pub struct ReminderStore {
    conn: Pool,
}

/// The open loans due within the window (`due_on <= ?`, and `>= ?` when bounded) without a
/// reminder of the kind for their due date; its values from [`due_values`].
fn due_filter(from: Option<Date>) -> String {
    format!(
        "FROM loans l JOIN items i ON i.id = l.item_id \
         WHERE l.returned_at IS NULL AND l.due_on <= ?{} \
         AND NOT EXISTS (SELECT 1 FROM loan_reminders r WHERE r.loan_id = l.id \
         AND r.kind = ? AND r.due_on = l.due_on)",
        if from.is_some() {
            " AND l.due_on >= ?"
        } else {
            ""
        }
    )
}

fn due_values(kind: ReminderKind, from: Option<Date>, to: Date) -> Vec<Value> {
    let mut values = vec![Value::TimeDate(Some(to))];
    if let Some(from) = from {
        values.push(Value::TimeDate(Some(from)));
    }
    values.push(kind.kind().into());
    values
}

impl ReminderStore {
    pub(crate) fn new(conn: Pool) -> Self {
        Self { conn }
    }

    /// Up to `limit` open loans due within `from..=to` not yet sent `kind` for their due
    /// date, earliest due first.
    pub async fn due(
        &self,
        kind: ReminderKind,
        from: Option<Date>,
        to: Date,
        limit: u32,
    ) -> Result<Vec<DueLoan>, StoreError> {
        const C: &str = "read loans due a reminder";
        let mut values = due_values(kind, from, to);
        values.push(i64::from(limit).into());
        let rows = all(
            &self.conn,
            &format!(
                "SELECT l.id, l.patron_id, i.title_id, i.barcode, l.library_code, l.due_on {} \
                 ORDER BY l.due_on, l.id LIMIT ?",
                due_filter(from)
            ),
            values,
        )
        .await
        .map_err(store_err(C))?;
        rows.iter()
            .map(|r| {
                Ok(DueLoan {
                    loan: LoanId(get(r, "id").map_err(infra(C))?),
                    patron: PatronId(get(r, "patron_id").map_err(infra(C))?),
                    title: TitleId(get(r, "title_id").map_err(infra(C))?),
                    barcode: get(r, "barcode").map_err(infra(C))?,
                    library: get(r, "library_code").map_err(infra(C))?,
                    due_on: get(r, "due_on").map_err(infra(C))?,
                })
            })
            .collect()
    }

    /// How many loans [`ReminderStore::due`] would give without a limit.
    pub async fn count_due(
        &self,
        kind: ReminderKind,
        from: Option<Date>,
        to: Date,
    ) -> Result<u64, StoreError> {
        count(
            &self.conn,
            "count loans due a reminder",
            &format!("SELECT COUNT(*) AS n {}", due_filter(from)),
            due_values(kind, from, to),
        )
        .await
    }

    /// Notes `kind` for `loan` at its due date and queues its message, in one transaction;
    /// `false` (nothing queued) if another run noted it first.
    pub async fn queue(
        &self,
        kind: ReminderKind,
        loan: &DueLoan,
        payload: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        const C: &str = "queue a reminder";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let noted = exec(
            &txn,
            "INSERT INTO loan_reminders (loan_id, kind, due_on, queued_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (loan_id, kind, due_on) DO NOTHING",
            vec![
                loan.loan.get().into(),
                kind.kind().into(),
                Value::TimeDate(Some(loan.due_on)),
                instant::value(self.conn.get_database_backend(), at),
            ],
        )
        .await
        .map_err(store_err(C))?;
        if noted == 0 {
            return Ok(false);
        }
        let id = insert_notification(
            &txn,
            &NewNotification {
                kind: kind.kind().to_owned(),
                patron: Some(loan.patron),
                payload: payload.to_owned(),
                created_at: at,
                expires_at: None,
            },
        )
        .await
        .map_err(store_err(C))?;
        exec(
            &txn,
            "UPDATE loan_reminders SET outbox_id = ? WHERE loan_id = ? AND kind = ? \
             AND due_on = ?",
            vec![
                id.into(),
                loan.loan.get().into(),
                kind.kind().into(),
                Value::TimeDate(Some(loan.due_on)),
            ],
        )
        .await
        .map_err(store_err(C))?;
        txn.commit().await.map_err(store_err(C))?;
        Ok(true)
    }

    /// Whether `loan` is open and due on `due_on`.
    pub async fn still_due(&self, loan: LoanId, due_on: Date) -> Result<bool, StoreError> {
        let row = one(
            &self.conn,
            "SELECT 1 AS found FROM loans WHERE id = ? AND returned_at IS NULL AND due_on = ?",
            vec![loan.get().into(), Value::TimeDate(Some(due_on))],
        )
        .await
        .map_err(store_err("read a loan's due date"))?;
        Ok(row.is_some())
    }
}
