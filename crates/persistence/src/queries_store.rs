//! Read-only queries the HTTP adapter needs besides the unit of work: a reader's holds
//! (active and recently ended), open loans for the impact preview (paged by reader), the
//! owner of a charge and the barcodes of a reader's loans.

use library_circulation::ports::InfrastructureError;
use library_circulation::{Hold, ItemType, ReaderCategory};
use library_core::{Barcode, LibraryCode, LoanId, PatronId};
use library_fines::ChargeId;
use sea_orm::DatabaseConnection;
use time::{Date, OffsetDateTime};

use crate::circulation::rows::{self, HOLD_SELECT, code};
use crate::error::StoreError;
use crate::instant;
use crate::sql::{all, corrupt, get, infra, one, store_err};

/// An open loan as the impact preview needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenLoanRow {
    /// The reader.
    pub patron: PatronId,
    /// The reader's category (rules).
    pub category: ReaderCategory,
    /// The item's type (rules).
    pub item_type: ItemType,
    /// The lending library.
    pub library: LibraryCode,
    /// The local due date.
    pub due_on: Date,
}

/// Read-only circulation queries.
#[derive(Debug, Clone)]
pub struct QueryStore {
    conn: DatabaseConnection,
}

impl QueryStore {
    pub(crate) fn new(conn: DatabaseConnection) -> Self {
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

    /// Open loans of the readers after `after` (all readers when `None`), for at most
    /// `max_patrons` readers, ordered by reader: every reader's loans are in one page.
    pub async fn open_loans_page(
        &self,
        after: Option<PatronId>,
        max_patrons: u32,
    ) -> Result<Vec<OpenLoanRow>, StoreError> {
        const C: &str = "read open loans";
        let rows = all(
            &self.conn,
            "SELECT l.patron_id, p.category, i.item_type, l.library_code, l.due_on \
             FROM loans l JOIN patrons p ON p.id = l.patron_id JOIN items i ON i.id = l.item_id \
             WHERE l.returned_at IS NULL AND l.patron_id IN (SELECT DISTINCT patron_id FROM loans \
             WHERE returned_at IS NULL AND patron_id > ? ORDER BY patron_id LIMIT ?) \
             ORDER BY l.patron_id, l.id",
            vec![
                after.map_or(i64::MIN, |p| p.get()).into(),
                i64::from(max_patrons).into(),
            ],
        )
        .await
        .map_err(store_err(C))?;
        let row = |r: &sea_orm::QueryResult| -> Result<OpenLoanRow, InfrastructureError> {
            let category: Option<String> = get(r, "category").map_err(infra(C))?;
            let category = category.ok_or_else(|| corrupt(C, "reader without category"))?;
            let item_type: String = get(r, "item_type").map_err(infra(C))?;
            let library: String = get(r, "library_code").map_err(infra(C))?;
            Ok(OpenLoanRow {
                patron: PatronId(get(r, "patron_id").map_err(infra(C))?),
                category: ReaderCategory::parse(&category).map_err(|e| corrupt(C, e))?,
                item_type: ItemType::parse(&item_type).map_err(|e| corrupt(C, e))?,
                library: code(C, &library)?,
                due_on: get(r, "due_on").map_err(infra(C))?,
            })
        };
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
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

    /// The item barcode of every loan of reader `patron`, open or returned.
    pub async fn loan_barcodes(
        &self,
        patron: PatronId,
    ) -> Result<Vec<(LoanId, Barcode)>, StoreError> {
        const C: &str = "read loan barcodes";
        let rows = all(
            &self.conn,
            "SELECT l.id, i.barcode FROM loans l JOIN items i ON i.id = l.item_id \
             WHERE l.patron_id = ? ORDER BY l.id",
            vec![patron.get().into()],
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
