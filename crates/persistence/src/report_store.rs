//! The staff reports' reads (`library_app::ReportStore`): the circulation statistics
//! grouped by local day and library, the fine ledger's movements per day and library, and
//! the overdue loans, paged. Reads only.

use std::collections::BTreeMap;

use async_trait::async_trait;
use library_app::{
    AdminError, CirculationDay, FinesDay, OverdueQuery, OverdueRow, ReportPeriod, ReportStore,
};
use library_circulation::ports::{CirculationChannel, InfrastructureError, StatisticKind};
use library_circulation::{ItemType, ReaderCategory};
use library_core::{Barcode, CardNumber, LibraryCode, Money};
use library_reader_services::Page;
use sea_orm::{QueryResult, Value};
use time::{Date, OffsetDateTime};

use crate::circulation::rows;
use crate::error::StoreError;
use crate::instant;
use crate::pool::Pool;
use crate::sql::{all, corrupt, get, infra, one, store_err};

/// The reports over the database.
#[derive(Debug, Clone)]
pub struct ReportQueries {
    conn: Pool,
}

impl ReportQueries {
    pub(crate) fn new(conn: Pool) -> Self {
        Self { conn }
    }
}

fn admin(err: StoreError) -> AdminError {
    crate::application::admin_error(err)
}

fn code(c: &'static str, raw: &str) -> Result<LibraryCode, InfrastructureError> {
    LibraryCode::parse(raw).map_err(|e| corrupt(c, e))
}

/// The library of a charge: an overdue fine's lending library, a hold fee's pickup library.
const CHARGE_LIBRARY: &str = "COALESCE(l.library_code, h.pickup_library)";

impl ReportQueries {
    async fn day_sums(
        &self,
        c: &'static str,
        sql: &str,
        period: &ReportPeriod,
    ) -> Result<Vec<(Date, Option<LibraryCode>, Money)>, StoreError> {
        let rows = all(
            &self.conn,
            sql,
            vec![
                Value::TimeDate(Some(period.from)),
                Value::TimeDate(Some(period.to)),
            ],
        )
        .await
        .map_err(store_err(c))?;
        let row = |r: &QueryResult| -> Result<_, InfrastructureError> {
            let library: Option<String> = get(r, "library_code").map_err(infra(c))?;
            Ok((
                get::<Date>(r, "on_date").map_err(infra(c))?,
                library.map(|l| code(c, &l)).transpose()?,
                Money::from_cents(get(r, "cents").map_err(infra(c))?),
            ))
        };
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }
}

#[async_trait]
impl ReportStore for ReportQueries {
    async fn circulation(&self, period: &ReportPeriod) -> Result<Vec<CirculationDay>, AdminError> {
        const C: &str = "circulation report";
        let mut sql = "SELECT on_date, library_code, kind, channel, COUNT(*) AS n \
                       FROM circulation_statistics WHERE on_date >= ? AND on_date <= ?"
            .to_owned();
        let mut values = vec![
            Value::TimeDate(Some(period.from)),
            Value::TimeDate(Some(period.to)),
        ];
        if let Some(library) = &period.library {
            sql.push_str(" AND library_code = ?");
            values.push(library.as_str().into());
        }
        sql.push_str(" GROUP BY on_date, library_code, kind, channel");
        let rows = all(&self.conn, &sql, values)
            .await
            .map_err(|e| admin(store_err(C)(e)))?;
        let mut days: BTreeMap<(Date, LibraryCode), CirculationDay> = BTreeMap::new();
        for r in &rows {
            let on: Date = get(r, "on_date").map_err(|e| admin(infra(C)(e).into()))?;
            let library: String = get(r, "library_code").map_err(|e| admin(infra(C)(e).into()))?;
            let kind: String = get(r, "kind").map_err(|e| admin(infra(C)(e).into()))?;
            let channel: Option<String> =
                get(r, "channel").map_err(|e| admin(infra(C)(e).into()))?;
            let n: i64 = get(r, "n").map_err(|e| admin(infra(C)(e).into()))?;
            let library = code(C, &library).map_err(|e| admin(e.into()))?;
            let kind = StatisticKind::from_code(&kind)
                .ok_or_else(|| admin(corrupt(C, format_args!("kind {kind:?}")).into()))?;
            let channel = match channel {
                Some(c) => Some(
                    CirculationChannel::from_code(&c)
                        .ok_or_else(|| admin(corrupt(C, format_args!("channel {c:?}")).into()))?,
                ),
                None => None,
            };
            days.entry((on, library.clone()))
                .or_insert_with(|| CirculationDay::new(on, library))
                .add(kind, channel, u64::try_from(n).unwrap_or_default());
        }
        Ok(days.into_values().collect())
    }

    async fn fines(&self, period: &ReportPeriod) -> Result<Vec<FinesDay>, AdminError> {
        let joins = "LEFT JOIN loans l ON l.id = c.loan_id LEFT JOIN holds h ON h.id = c.hold_id";
        // `CAST`: PostgreSQL sums `BIGINT` into `NUMERIC`.
        let charged = format!(
            "SELECT c.charged_on AS on_date, {CHARGE_LIBRARY} AS library_code, \
             CAST(SUM(c.amount) AS BIGINT) AS cents FROM charges c {joins} \
             WHERE c.charged_on >= ? AND c.charged_on <= ? GROUP BY 1, 2"
        );
        let paid = format!(
            "SELECT p.paid_on AS on_date, {CHARGE_LIBRARY} AS library_code, \
             CAST(SUM(a.amount) AS BIGINT) AS cents FROM payment_allocations a \
             JOIN payments p ON p.id = a.payment_id JOIN charges c ON c.id = a.charge_id {joins} \
             WHERE p.paid_on >= ? AND p.paid_on <= ? GROUP BY 1, 2"
        );
        let waived = format!(
            "SELECT c.waived_on AS on_date, {CHARGE_LIBRARY} AS library_code, \
             CAST(SUM(c.waived_amount) AS BIGINT) AS cents FROM charges c {joins} \
             WHERE c.waived_on >= ? AND c.waived_on <= ? AND c.waived_amount > 0 GROUP BY 1, 2"
        );
        // Keyed so that a charge of no library sorts after the libraries of its day.
        type Key = (Date, Option<LibraryCode>);
        let mut days: BTreeMap<(Date, bool, Option<LibraryCode>), FinesDay> = BTreeMap::new();
        let mut add = |(on, library): Key, f: &dyn Fn(&mut FinesDay)| {
            if period.library.is_some() && library != period.library {
                return;
            }
            let day = days
                .entry((on, library.is_none(), library.clone()))
                .or_insert_with(|| FinesDay {
                    on,
                    library,
                    charged: Money::ZERO,
                    paid: Money::ZERO,
                    waived: Money::ZERO,
                });
            f(day);
        };
        for (on, library, cents) in self
            .day_sums("fines report: charged", &charged, period)
            .await
            .map_err(admin)?
        {
            add((on, library), &|d| d.charged += cents);
        }
        for (on, library, cents) in self
            .day_sums("fines report: paid", &paid, period)
            .await
            .map_err(admin)?
        {
            add((on, library), &|d| d.paid += cents);
        }
        for (on, library, cents) in self
            .day_sums("fines report: waived", &waived, period)
            .await
            .map_err(admin)?
        {
            add((on, library), &|d| d.waived += cents);
        }
        Ok(days.into_values().collect())
    }

    async fn overdue(
        &self,
        query: &OverdueQuery,
        now: OffsetDateTime,
    ) -> Result<Page<OverdueRow>, AdminError> {
        const C: &str = "overdue report";
        let backend = self.conn.get_database_backend();
        let mut filter = "l.returned_at IS NULL AND l.due_at < ?".to_owned();
        let mut values = vec![instant::value(backend, now)];
        if let Some(library) = &query.library {
            filter.push_str(" AND l.library_code = ?");
            values.push(library.as_str().into());
        }
        let total: i64 = one(
            &self.conn,
            &format!("SELECT COUNT(*) AS n FROM loans l WHERE {filter}"),
            values.clone(),
        )
        .await
        .map_err(|e| admin(store_err(C)(e)))?
        .map(|r| get::<i64>(&r, "n"))
        .transpose()
        .map_err(|e| admin(infra(C)(e).into()))?
        .unwrap_or_default();
        let mut page_values = values;
        page_values.push(i64::from(query.limit).into());
        page_values.push(i64::try_from(query.offset).unwrap_or(i64::MAX).into());
        let rows = all(
            &self.conn,
            &format!(
                "SELECT l.id, l.patron_id, l.item_id, l.library_code, l.borrowed_at, l.due_on, \
                 l.due_at, l.renewals, l.returned_at, l.returned_to, p.card_number, \
                 p.category, i.barcode, i.item_type, t.name AS title \
                 FROM loans l JOIN patrons p ON p.id = l.patron_id \
                 JOIN items i ON i.id = l.item_id JOIN titles t ON t.id = i.title_id \
                 WHERE {filter} ORDER BY l.due_at, l.id LIMIT ? OFFSET ?"
            ),
            page_values,
        )
        .await
        .map_err(|e| admin(store_err(C)(e)))?;
        let row = |r: &QueryResult| -> Result<OverdueRow, InfrastructureError> {
            let card: String = get(r, "card_number").map_err(infra(C))?;
            let category: Option<String> = get(r, "category").map_err(infra(C))?;
            let barcode: String = get(r, "barcode").map_err(infra(C))?;
            let item_type: String = get(r, "item_type").map_err(infra(C))?;
            Ok(OverdueRow {
                loan: rows::loan(r)?,
                card_number: CardNumber::parse(&card).map_err(|e| corrupt(C, e))?,
                category: category
                    .map(|c| ReaderCategory::parse(&c).map_err(|e| corrupt(C, e)))
                    .transpose()?,
                title: get(r, "title").map_err(infra(C))?,
                barcode: Barcode::parse(&barcode).map_err(|e| corrupt(C, e))?,
                item_type: ItemType::parse(&item_type).map_err(|e| corrupt(C, e))?,
            })
        };
        Ok(Page {
            items: rows
                .iter()
                .map(row)
                .collect::<Result<_, _>>()
                .map_err(|e| admin(e.into()))?,
            total: u64::try_from(total).unwrap_or_default(),
        })
    }
}
