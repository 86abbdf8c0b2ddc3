//! Fine-suspension periods: created and closed by staff, read by circulation through the
//! `FineSuspensionRepository` port. Scope sets are stored as space-separated codes and
//! kinds (both are `[A-Za-z0-9_]`).

use async_trait::async_trait;
use library_circulation::ports::{FineSuspensionRepository, InfrastructureError};
use library_core::LibraryKind;
use library_fines::{FineSuspensionPeriod, SuspensionScope};
use sea_orm::{DatabaseConnection, QueryResult, Value};
use time::Date;

use crate::circulation::rows::code;
use crate::error::StoreError;
use crate::sql::{all, corrupt, exec, get, infra, insert_returning_id, one, store_err};

/// A stored period with its id (`PATCH /fine-suspensions/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPeriod {
    /// Its id.
    pub id: i64,
    /// The period.
    pub period: FineSuspensionPeriod,
}

const COLUMNS: &str = "id, starts_on, resumes_on, library_codes, library_kinds, reason";

fn stored(row: &QueryResult) -> Result<StoredPeriod, InfrastructureError> {
    const C: &str = "read fine-suspension period";
    let codes: String = get(row, "library_codes").map_err(infra(C))?;
    let kinds: String = get(row, "library_kinds").map_err(infra(C))?;
    let scope = SuspensionScope {
        library_codes: codes
            .split_whitespace()
            .map(|c| code(C, c))
            .collect::<Result<_, _>>()?,
        library_kinds: kinds
            .split_whitespace()
            .map(|k| {
                k.parse::<LibraryKind>()
                    .map_err(|_| corrupt(C, format_args!("kind {k:?}")))
            })
            .collect::<Result<_, _>>()?,
    };
    let period = FineSuspensionPeriod::new(
        get(row, "starts_on").map_err(infra(C))?,
        get(row, "resumes_on").map_err(infra(C))?,
        scope,
        get::<String>(row, "reason").map_err(infra(C))?,
    )
    .map_err(|e| corrupt(C, e))?;
    Ok(StoredPeriod {
        id: get(row, "id").map_err(infra(C))?,
        period,
    })
}

/// Fine-suspension periods in the database.
#[derive(Debug, Clone)]
pub struct FineSuspensionStore {
    conn: DatabaseConnection,
}

impl FineSuspensionStore {
    pub(crate) fn new(conn: DatabaseConnection) -> Self {
        Self { conn }
    }

    /// Stores a period (validated by its constructor); its id.
    pub async fn create(&self, period: &FineSuspensionPeriod) -> Result<i64, StoreError> {
        let join = |it: Vec<&str>| it.join(" ");
        insert_returning_id(
            &self.conn,
            "INSERT INTO fine_suspension_periods (starts_on, resumes_on, library_codes, \
             library_kinds, reason) VALUES (?, ?, ?, ?, ?) RETURNING id",
            vec![
                Value::TimeDate(Some(period.starts_on)),
                Value::TimeDate(period.resumes_on),
                join(
                    period
                        .scope
                        .library_codes
                        .iter()
                        .map(|c| c.as_str())
                        .collect(),
                )
                .into(),
                join(
                    period
                        .scope
                        .library_kinds
                        .iter()
                        .map(|k| k.as_str())
                        .collect(),
                )
                .into(),
                period.reason.as_str().into(),
            ],
        )
        .await
        .map_err(store_err("create fine-suspension period"))
    }

    /// Every period with its id, oldest first.
    pub async fn list(&self) -> Result<Vec<StoredPeriod>, StoreError> {
        Ok(self.read_all().await?)
    }

    async fn read_all(&self) -> Result<Vec<StoredPeriod>, InfrastructureError> {
        let sql = format!("SELECT {COLUMNS} FROM fine_suspension_periods ORDER BY id");
        all(&self.conn, &sql, vec![])
            .await
            .map_err(infra("read fine-suspension periods"))?
            .iter()
            .map(stored)
            .collect()
    }

    /// Sets or moves the resume date of period `id` (the domain checks it is after the
    /// start); the period as now stored.
    pub async fn set_resume_date(
        &self,
        id: i64,
        resumes_on: Date,
    ) -> Result<FineSuspensionPeriod, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM fine_suspension_periods WHERE id = ?");
        let row = one(&self.conn, &sql, vec![id.into()])
            .await
            .map_err(store_err("read fine-suspension period"))?
            .ok_or(StoreError::NotFound("fine-suspension period"))?;
        let mut period = stored(&row)?.period;
        period.resume_on(resumes_on)?;
        exec(
            &self.conn,
            "UPDATE fine_suspension_periods SET resumes_on = ? WHERE id = ?",
            vec![Value::TimeDate(Some(resumes_on)), id.into()],
        )
        .await
        .map_err(store_err("set resume date"))?;
        Ok(period)
    }
}

#[async_trait]
impl FineSuspensionRepository for FineSuspensionStore {
    async fn fine_suspension_periods(
        &self,
    ) -> Result<Vec<FineSuspensionPeriod>, InfrastructureError> {
        Ok(self
            .read_all()
            .await?
            .into_iter()
            .map(|s| s.period)
            .collect())
    }
}
