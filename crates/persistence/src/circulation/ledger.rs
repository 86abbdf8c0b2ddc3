//! The fine ledger inside a circulation transaction (guarded by the reader's lock).

use async_trait::async_trait;
use library_circulation::ports::{FineLedger, InfrastructureError};
use library_core::{Money, PatronId};
use library_fines::{ChargeId, ChargeKind, NewCharge};
use sea_orm::{ConnectionTrait, DbErr, Value};

use super::DbTransaction;
use crate::sql::{get, infra, insert_returning_id, one};

/// What a reader owes on charges: unwaived, unpaid parts. `CAST` because PostgreSQL sums
/// `BIGINT` into `NUMERIC`.
/// The description of a lost item's replacement line (kind `other`, with its loan).
pub(crate) const LOST_ITEM: &str = "lost_item";
/// The description of a lost item's processing line (kind `other`, with its loan).
pub(crate) const LOST_PROCESSING: &str = "lost_processing";

pub(crate) const OUTSTANDING_SQL: &str = "SELECT CAST(COALESCE(SUM(CASE WHEN waived_on IS NULL \
     AND amount > paid THEN amount - paid ELSE 0 END), 0) AS BIGINT) AS outstanding \
     FROM charges WHERE patron_id = ?";

/// Inserts a charge (any connection or transaction); its id.
pub(crate) async fn insert_charge(
    conn: &impl ConnectionTrait,
    patron: PatronId,
    charge: &NewCharge,
) -> Result<i64, DbErr> {
    let (kind, loan, days, hold, description) = match &charge.kind {
        ChargeKind::OverdueFine {
            loan,
            chargeable_days,
        } => (
            "overdue_fine",
            Some(loan.get()),
            Some(i64::from(*chargeable_days)),
            None,
            None,
        ),
        ChargeKind::HoldFee { hold } => ("hold_fee", None, None, Some(hold.get()), None),
        ChargeKind::Other { description } => ("other", None, None, None, Some(description.clone())),
        // Stored as `other` lines naming the loan, with a fixed description: the kind's
        // CHECK constraint predates them (docs/persistence.md).
        ChargeKind::LostItem { loan } => (
            "other",
            Some(loan.get()),
            None,
            None,
            Some(LOST_ITEM.to_owned()),
        ),
        ChargeKind::LostProcessing { loan } => (
            "other",
            Some(loan.get()),
            None,
            None,
            Some(LOST_PROCESSING.to_owned()),
        ),
    };
    insert_returning_id(
        conn,
        "INSERT INTO charges (patron_id, kind, loan_id, chargeable_days, hold_id, description, \
         amount, charged_on, paid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) RETURNING id",
        vec![
            patron.get().into(),
            kind.into(),
            Value::BigInt(loan),
            Value::BigInt(days),
            Value::BigInt(hold),
            Value::String(description),
            charge.amount.cents().into(),
            Value::TimeDate(Some(charge.charged_on)),
        ],
    )
    .await
}

#[async_trait]
impl FineLedger for DbTransaction {
    async fn outstanding_charges(
        &mut self,
        patron: PatronId,
    ) -> Result<Money, InfrastructureError> {
        const C: &str = "read outstanding charges";
        let row = one(&self.txn, OUTSTANDING_SQL, vec![patron.get().into()])
            .await
            .map_err(infra(C))?
            .ok_or_else(|| InfrastructureError::new(format!("{C}: no row")))?;
        Ok(Money::from_cents(
            get(&row, "outstanding").map_err(infra(C))?,
        ))
    }

    async fn add_charge(
        &mut self,
        patron: PatronId,
        charge: NewCharge,
    ) -> Result<ChargeId, InfrastructureError> {
        if !charge.amount.is_positive() {
            return Err(InfrastructureError::new(format!(
                "charge refused by the ledger: the amount must be positive, got {}",
                charge.amount
            )));
        }
        let id = insert_charge(&self.txn, patron, &charge)
            .await
            .map_err(infra("add charge"))?;
        Ok(ChargeId(id))
    }
}
