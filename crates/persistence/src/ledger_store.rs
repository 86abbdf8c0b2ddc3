//! Readers' fine ledgers for staff and readers: the ledger as stored (rebuilt with
//! `PatronLedger::from_parts`), payments (oldest charge first) and waivers, and charges
//! added by staff. Payments and waivers run in one transaction holding the reader's lock,
//! the same lock circulation takes, so a payment and a checkout never interleave.

use std::sync::Arc;

use library_circulation::ports::InfrastructureError;
use library_core::{HoldId, LoanId, Money, PatronId};
use library_fines::{
    Allocation, Charge, ChargeId, ChargeKind, LedgerError, NewCharge, PatronLedger, Payment, Waiver,
};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use time::Date;
use tokio::sync::Semaphore;

use crate::audit_store::{NewAuditEntry, insert_audit_entry};
use crate::circulation::ledger::insert_charge;
use crate::error::StoreError;
use crate::pool::Pool;
use crate::sql::{
    all, corrupt, exec, get, infra, insert_returning_id, lock_clause, one, store_err, to_u32,
};

/// Fine ledgers in the database.
#[derive(Debug, Clone)]
pub struct LedgerStore {
    conn: Pool,
    gate: Arc<Semaphore>,
}

fn charge(row: &QueryResult) -> Result<Charge, InfrastructureError> {
    const C: &str = "read charge";
    let kind: String = get(row, "kind").map_err(infra(C))?;
    let kind = match kind.as_str() {
        "overdue_fine" => ChargeKind::OverdueFine {
            loan: LoanId(
                get::<Option<i64>>(row, "loan_id")
                    .map_err(infra(C))?
                    .ok_or_else(|| corrupt(C, "overdue fine without loan"))?,
            ),
            chargeable_days: to_u32(
                C,
                get::<Option<i64>>(row, "chargeable_days")
                    .map_err(infra(C))?
                    .unwrap_or_default(),
            )?,
        },
        "hold_fee" => ChargeKind::HoldFee {
            hold: HoldId(
                get::<Option<i64>>(row, "hold_id")
                    .map_err(infra(C))?
                    .ok_or_else(|| corrupt(C, "hold fee without hold"))?,
            ),
        },
        "other" => {
            let description = get::<Option<String>>(row, "description")
                .map_err(infra(C))?
                .unwrap_or_default();
            let loan = get::<Option<i64>>(row, "loan_id")
                .map_err(infra(C))?
                .map(LoanId);
            match (loan, description.as_str()) {
                (Some(loan), crate::circulation::ledger::LOST_ITEM) => {
                    ChargeKind::LostItem { loan }
                }
                (Some(loan), crate::circulation::ledger::LOST_PROCESSING) => {
                    ChargeKind::LostProcessing { loan }
                }
                _ => ChargeKind::Other { description },
            }
        }
        other => return Err(corrupt(C, format_args!("charge kind {other:?}"))),
    };
    let waived_amount: Option<i64> = get(row, "waived_amount").map_err(infra(C))?;
    let waiver = match waived_amount {
        Some(amount) => Some(Waiver {
            amount: Money::from_cents(amount),
            reason: get::<Option<String>>(row, "waiver_reason")
                .map_err(infra(C))?
                .unwrap_or_default(),
            waived_on: get::<Option<Date>>(row, "waived_on")
                .map_err(infra(C))?
                .ok_or_else(|| corrupt(C, "waiver without date"))?,
        }),
        None => None,
    };
    Ok(Charge {
        id: ChargeId(get(row, "id").map_err(infra(C))?),
        kind,
        amount: Money::from_cents(get(row, "amount").map_err(infra(C))?),
        charged_on: get(row, "charged_on").map_err(infra(C))?,
        paid: Money::from_cents(get(row, "paid").map_err(infra(C))?),
        waiver,
    })
}

/// The charges matching `condition` (with `values` for its placeholders), by id.
pub(crate) async fn charges_where(
    conn: &impl ConnectionTrait,
    condition: &str,
    values: Vec<Value>,
) -> Result<Vec<Charge>, InfrastructureError> {
    const C: &str = "read charges";
    all(
        conn,
        &format!(
            "SELECT id, kind, loan_id, chargeable_days, hold_id, description, amount, \
             charged_on, paid, waived_amount, waiver_reason, waived_on FROM charges \
             WHERE {condition} ORDER BY id"
        ),
        values,
    )
    .await
    .map_err(infra(C))?
    .iter()
    .map(charge)
    .collect()
}

/// The ledger of `patron` as stored, read on `conn` (a transaction when it will change).
async fn read_ledger(
    conn: &impl ConnectionTrait,
    patron: PatronId,
) -> Result<PatronLedger, StoreError> {
    const C: &str = "read ledger";
    let p = || vec![Value::from(patron.get())];
    let charges = charges_where(conn, "patron_id = ?", p()).await?;
    let payment_rows = all(
        conn,
        "SELECT id, amount, paid_on FROM payments WHERE patron_id = ? ORDER BY id",
        p(),
    )
    .await
    .map_err(store_err(C))?;
    let allocation_rows = all(
        conn,
        "SELECT a.payment_id, a.charge_id, a.amount FROM payment_allocations a \
         JOIN payments p ON p.id = a.payment_id JOIN charges c ON c.id = a.charge_id \
         WHERE p.patron_id = ? ORDER BY a.payment_id, c.charged_on, c.id",
        p(),
    )
    .await
    .map_err(store_err(C))?;
    let mut payments = Vec::with_capacity(payment_rows.len());
    for row in &payment_rows {
        let id: i64 = get(row, "id").map_err(infra(C))?;
        let mut allocations = Vec::new();
        for a in &allocation_rows {
            if get::<i64>(a, "payment_id").map_err(infra(C))? == id {
                allocations.push(Allocation {
                    charge: ChargeId(get(a, "charge_id").map_err(infra(C))?),
                    amount: Money::from_cents(get(a, "amount").map_err(infra(C))?),
                });
            }
        }
        payments.push(Payment {
            amount: Money::from_cents(get(row, "amount").map_err(infra(C))?),
            paid_on: get(row, "paid_on").map_err(infra(C))?,
            allocations,
        });
    }
    PatronLedger::from_parts(patron, charges, payments).map_err(|e| corrupt(C, e).into())
}

impl LedgerStore {
    pub(crate) fn new(conn: Pool, gate: Arc<Semaphore>) -> Self {
        Self { conn, gate }
    }

    /// Reader `patron`'s ledger (empty if they have no charges).
    pub async fn ledger(&self, patron: PatronId) -> Result<PatronLedger, StoreError> {
        read_ledger(&self.conn, patron).await
    }

    /// Adds a charge (e.g. a lost item by staff); its id. A non-positive amount is
    /// [`StoreError::Ledger`]; an unknown reader [`StoreError::Conflict`].
    pub async fn add_charge(
        &self,
        patron: PatronId,
        charge: &NewCharge,
    ) -> Result<ChargeId, StoreError> {
        if !charge.amount.is_positive() {
            return Err(LedgerError::NotPositive {
                amount: charge.amount,
            }
            .into());
        }
        let id = insert_charge(&self.conn, patron, charge)
            .await
            .map_err(store_err("add charge"))?;
        Ok(ChargeId(id))
    }

    /// Takes a payment from reader `patron`, settling the oldest charges first; the payment
    /// with its allocations. Overpayment and non-positive amounts are [`StoreError::Ledger`].
    /// `audit`, when given, is written in the same transaction: the entry exists exactly
    /// when the payment does.
    pub async fn pay(
        &self,
        patron: PatronId,
        amount: Money,
        paid_on: Date,
        audit: Option<&NewAuditEntry>,
    ) -> Result<Payment, StoreError> {
        const C: &str = "pay";
        let txn = self
            .conn
            .begin_gated(&self.gate)
            .await
            .map_err(store_err(C))?;
        self.lock_patron(&txn, patron).await?;
        let mut ledger = read_ledger(&txn, patron).await?;
        let payment = ledger.pay(amount, paid_on)?.clone();
        let payment_id = insert_returning_id(
            &txn,
            "INSERT INTO payments (patron_id, amount, paid_on) VALUES (?, ?, ?) RETURNING id",
            vec![
                patron.get().into(),
                amount.cents().into(),
                Value::TimeDate(Some(paid_on)),
            ],
        )
        .await
        .map_err(store_err(C))?;
        for a in &payment.allocations {
            exec(
                &txn,
                "INSERT INTO payment_allocations (payment_id, charge_id, amount) VALUES (?, ?, ?)",
                vec![
                    payment_id.into(),
                    a.charge.0.into(),
                    a.amount.cents().into(),
                ],
            )
            .await
            .map_err(store_err(C))?;
            exec(
                &txn,
                "UPDATE charges SET paid = paid + ? WHERE id = ? AND patron_id = ?",
                vec![
                    a.amount.cents().into(),
                    a.charge.0.into(),
                    patron.get().into(),
                ],
            )
            .await
            .map_err(store_err(C))?;
        }
        if let Some(entry) = audit {
            insert_audit_entry(&txn, entry)
                .await
                .map_err(store_err(C))?;
        }
        txn.commit().await.map_err(store_err(C))?;
        Ok(payment)
    }

    /// Waives what is outstanding on charge `charge` of reader `patron`; the amount written
    /// off. Unknown charge, nothing outstanding and an empty reason are
    /// [`StoreError::Ledger`]. `audit`, when given, makes the audit entry of the amount
    /// written off, written in the same transaction.
    pub async fn waive(
        &self,
        patron: PatronId,
        charge: ChargeId,
        reason: &str,
        waived_on: Date,
        audit: Option<&(dyn Fn(Money) -> NewAuditEntry + Send + Sync)>,
    ) -> Result<Money, StoreError> {
        const C: &str = "waive";
        let txn = self
            .conn
            .begin_gated(&self.gate)
            .await
            .map_err(store_err(C))?;
        self.lock_patron(&txn, patron).await?;
        let mut ledger = read_ledger(&txn, patron).await?;
        let amount = ledger.waive(charge, reason, waived_on)?;
        exec(
            &txn,
            "UPDATE charges SET waived_amount = ?, waiver_reason = ?, waived_on = ? \
             WHERE id = ? AND patron_id = ?",
            vec![
                amount.cents().into(),
                reason.into(),
                Value::TimeDate(Some(waived_on)),
                charge.0.into(),
                patron.get().into(),
            ],
        )
        .await
        .map_err(store_err(C))?;
        if let Some(entry) = audit {
            insert_audit_entry(&txn, &entry(amount))
                .await
                .map_err(store_err(C))?;
        }
        txn.commit().await.map_err(store_err(C))?;
        Ok(amount)
    }

    async fn lock_patron(
        &self,
        txn: &impl ConnectionTrait,
        patron: PatronId,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT id FROM patrons WHERE id = ?{}",
            lock_clause(txn.get_database_backend())
        );
        one(txn, &sql, vec![patron.get().into()])
            .await
            .map_err(store_err("lock reader"))?
            .ok_or(StoreError::NotFound("reader"))?;
        Ok(())
    }
}
