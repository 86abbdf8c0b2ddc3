//! Read-only queries the HTTP adapter needs besides the unit of work: a reader's holds
//! (active and recently ended), the
//! owner of a charge and the barcodes of a reader's loans.

use library_circulation::Hold;
use library_circulation::ports::InfrastructureError;
use library_core::{Barcode, LoanId, PatronId};
use library_fines::ChargeId;
use time::OffsetDateTime;

use crate::circulation::rows::{self, HOLD_SELECT};
use crate::error::StoreError;
use crate::instant;
use crate::pool::Pool;
use crate::sql::{all, corrupt, get, infra, one, store_err};

/// Read-only circulation queries.
#[derive(Debug, Clone)]
pub struct QueryStore {
    conn: Pool,
}

impl QueryStore {
    pub(crate) fn new(conn: Pool) -> Self {
        Self { conn }
    }

    /// Reader `patron`'s queued and waiting holds, and those that ended at or after
    /// `ended_since`, oldest first.
    pub async fn holds_of_patron(
        &self,
        patron: PatronId,
        ended_since: OffsetDateTime,
    ) -> Result<Vec<Hold>, StoreError> {
        let sql = format!(
            "{HOLD_SELECT} WHERE h.patron_id = ? AND (h.status IN ('queued', 'waiting') \
             OR h.ended_at >= ?) ORDER BY h.placed_at, h.id"
        );
        let backend = self.conn.get_database_backend();
        let rows = all(
            &self.conn,
            &sql,
            vec![patron.get().into(), instant::value(backend, ended_since)],
        )
        .await
        .map_err(store_err("read holds of reader"))?;
        Ok(rows.iter().map(rows::hold).collect::<Result<_, _>>()?)
    }

    /// The reader charge `charge` belongs to; `None` if there is no such charge.
    pub async fn charge_owner(&self, charge: ChargeId) -> Result<Option<PatronId>, StoreError> {
        let row = one(
            &self.conn,
            "SELECT patron_id FROM charges WHERE id = ?",
            vec![charge.0.into()],
        )
        .await
        .map_err(store_err("read charge owner"))?;
        row.map(|r| get::<i64>(&r, "patron_id").map(PatronId))
            .transpose()
            .map_err(|e| infra("read charge owner")(e).into())
    }

    /// The reader loan `loan` is linked to: `Some(None)` once it is anonymised, `None` if
    /// there is no such loan.
    pub async fn loan_borrower(
        &self,
        loan: LoanId,
    ) -> Result<Option<Option<PatronId>>, StoreError> {
        const C: &str = "read a loan's reader";
        let row = one(
            &self.conn,
            "SELECT patron_id FROM loans WHERE id = ?",
            vec![loan.get().into()],
        )
        .await
        .map_err(store_err(C))?;
        row.map(|r| get::<Option<i64>>(&r, "patron_id").map(|p| p.map(PatronId)))
            .transpose()
            .map_err(|e| infra(C)(e).into())
    }

    /// The item barcode of every loan of reader `patron`, open or returned, and of every
    /// loan one of their charges is for (an anonymised loan's fine still names its copy).
    pub async fn loan_barcodes(
        &self,
        patron: PatronId,
    ) -> Result<Vec<(LoanId, Barcode)>, StoreError> {
        const C: &str = "read loan barcodes";
        let rows = all(
            &self.conn,
            "SELECT l.id, i.barcode FROM loans l JOIN items i ON i.id = l.item_id \
             WHERE l.patron_id = ? OR l.id IN (SELECT c.loan_id FROM charges c \
             WHERE c.patron_id = ? AND c.loan_id IS NOT NULL) ORDER BY l.id",
            vec![patron.get().into(), patron.get().into()],
        )
        .await
        .map_err(store_err(C))?;
        let row = |r: &sea_orm::QueryResult| -> Result<(LoanId, Barcode), InfrastructureError> {
            let barcode: String = get(r, "barcode").map_err(infra(C))?;
            Ok((
                LoanId(get(r, "id").map_err(infra(C))?),
                Barcode::parse(&barcode).map_err(|e| corrupt(C, e))?,
            ))
        };
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }
}
