//! Fine-suspension periods: created and closed by staff, read by circulation through the
//! `FineSuspensionRepository` port. Scope sets are stored as space-separated codes and
//! kinds (both are `[A-Za-z0-9_]`).

use std::collections::HashMap;

use std::sync::Arc;

use async_trait::async_trait;
use library_circulation::ports::{
    CalendarRepository, FineSuspensionRepository, InfrastructureError, RuleRepository,
};
use library_circulation::{Calendar, EffectiveRules, ItemType, ReaderCategory};
use library_core::{LibraryCode, LibraryKind, PatronId};
use library_fines::{
    FinePolicy, FineSuspensionPeriod, ImpactPreview, IndexedCalendar, LendingLibrary, OpenLoan,
    SuspensionScope, preview_impact,
};
use sea_orm::{QueryResult, Value};
use time::Date;

use crate::audit_store::{NewAuditEntry, insert_audit_entry};
use crate::circulation::rows::code;
use crate::config_cache::ConfigCache;
use crate::error::StoreError;
use crate::library_store::LibraryStore;
use crate::pool::Pool;
use crate::rule_store::RuleStore;
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
    conn: Pool,
    cache: Arc<ConfigCache>,
}

impl FineSuspensionStore {
    pub(crate) fn new(conn: Pool, cache: Arc<ConfigCache>) -> Self {
        Self { conn, cache }
    }

    /// Stores a period (validated by its constructor); its id. `audit`, when given, makes
    /// the audit entry of the id, written in the same transaction: the entry exists exactly
    /// when the period does.
    pub async fn create(
        &self,
        period: &FineSuspensionPeriod,
        audit: Option<&(dyn Fn(i64) -> NewAuditEntry + Send + Sync)>,
    ) -> Result<i64, StoreError> {
        const C: &str = "create fine-suspension period";
        let join = |it: Vec<&str>| it.join(" ");
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let id = insert_returning_id(
            &txn,
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
        .map_err(store_err(C))?;
        if let Some(entry) = audit {
            insert_audit_entry(&txn, &entry(id))
                .await
                .map_err(store_err(C))?;
        }
        self.cache.commit_change(txn).await.map_err(store_err(C))?;
        Ok(id)
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
    /// start); the period as now stored. `audit`, when given, is written in the same
    /// transaction.
    pub async fn set_resume_date(
        &self,
        id: i64,
        resumes_on: Date,
        audit: Option<&NewAuditEntry>,
    ) -> Result<FineSuspensionPeriod, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM fine_suspension_periods WHERE id = ?");
        let row = one(&self.conn, &sql, vec![id.into()])
            .await
            .map_err(store_err("read fine-suspension period"))?
            .ok_or(StoreError::NotFound("fine-suspension period"))?;
        let mut period = stored(&row)?.period;
        period.resume_on(resumes_on)?;
        const C: &str = "set resume date";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let n = exec(
            &txn,
            "UPDATE fine_suspension_periods SET resumes_on = ? WHERE id = ?",
            vec![Value::TimeDate(Some(resumes_on)), id.into()],
        )
        .await
        .map_err(store_err(C))?;
        if n != 1 {
            return Err(StoreError::NotFound("fine-suspension period"));
        }
        if let Some(entry) = audit {
            insert_audit_entry(&txn, entry)
                .await
                .map_err(store_err(C))?;
        }
        self.cache.commit_change(txn).await.map_err(store_err(C))?;
        Ok(period)
    }
}

impl FineSuspensionStore {
    /// The impact preview of `candidate` (`POST /fine-suspensions/preview`, the admin
    /// tool's `preview-fines`): with the stored periods and the candidate in force, the
    /// fines of every loan not yet returned as of `as_of`, resolved exactly as circulation
    /// does (the lending library's calendar and kind, the rules for (lending library,
    /// reader category, item type)). Reads only; changes nothing.
    pub async fn preview(
        &self,
        candidate: &FineSuspensionPeriod,
        as_of: Date,
    ) -> Result<ImpactPreview, StoreError> {
        const C: &str = "fine impact preview";
        let existing: Vec<FineSuspensionPeriod> = self.fine_suspension_periods().await?;
        let rules = RuleStore::new(self.conn.clone(), self.cache.clone())
            .scoped_rules()
            .await?;
        let libraries = LibraryStore::new(self.conn.clone(), self.cache.clone());
        // Grouped by reader, as `preview_impact` wants.
        let rows = all(
            &self.conn,
            "SELECT l.patron_id, l.due_on, l.library_code, p.category, i.item_type \
             FROM loans l JOIN patrons p ON p.id = l.patron_id JOIN items i ON i.id = l.item_id \
             WHERE l.returned_at IS NULL ORDER BY l.patron_id, l.id",
            vec![],
        )
        .await
        .map_err(infra(C))?;

        type PolicyKey = (usize, Option<ReaderCategory>, ItemType);
        let mut lib_index: HashMap<LibraryCode, usize> = HashMap::new();
        let mut lib_data: Vec<(LibraryCode, LendingLibrary, Calendar, Date)> = Vec::new();
        let mut policy_index: HashMap<PolicyKey, usize> = HashMap::new();
        let mut policies: Vec<FinePolicy> = Vec::new();
        let mut loans: Vec<(PatronId, Date, usize, usize)> = Vec::with_capacity(rows.len());
        for row in &rows {
            let patron = PatronId(get(row, "patron_id").map_err(infra(C))?);
            let due_on: Date = get(row, "due_on").map_err(infra(C))?;
            let library = code(C, &get::<String>(row, "library_code").map_err(infra(C))?)?;
            let category = get::<Option<String>>(row, "category")
                .map_err(infra(C))?
                .map(|c| ReaderCategory::parse(&c).map_err(|e| corrupt(C, e)))
                .transpose()?;
            let item_type = ItemType::parse(&get::<String>(row, "item_type").map_err(infra(C))?)
                .map_err(|e| corrupt(C, e))?;
            let lib = match lib_index.get(&library) {
                Some(&i) => {
                    let earliest = &mut lib_data[i].3;
                    *earliest = (*earliest).min(due_on);
                    i
                }
                None => {
                    let found = libraries.library_calendar(&library).await?.ok_or_else(|| {
                        corrupt(
                            C,
                            format_args!("library {library} is referenced but missing"),
                        )
                    })?;
                    lib_data.push((library.clone(), found.lending(), found.calendar, due_on));
                    lib_index.insert(library.clone(), lib_data.len() - 1);
                    lib_data.len() - 1
                }
            };
            let key = (lib, category, item_type);
            let policy = match policy_index.get(&key) {
                Some(&i) => i,
                None => {
                    let effective = EffectiveRules::resolve(
                        &rules,
                        Some(&library),
                        key.1.as_ref(),
                        Some(&key.2),
                    );
                    policies.push(effective.fine_policy());
                    policy_index.insert(key, policies.len() - 1);
                    policies.len() - 1
                }
            };
            loans.push((patron, due_on, lib, policy));
        }
        // Each calendar indexed once over the days the loans can be charged.
        let calendars: Vec<(LendingLibrary, IndexedCalendar<Calendar>)> = lib_data
            .into_iter()
            .map(|(_, lending, calendar, earliest)| {
                let first = earliest.next_day().unwrap_or(earliest);
                (lending, IndexedCalendar::new(calendar, first, as_of))
            })
            .collect();
        let open = loans.iter().map(|&(patron, due_on, lib, policy)| OpenLoan {
            patron,
            due_on,
            library: &calendars[lib].0,
            policy: &policies[policy],
            calendar: &calendars[lib].1,
        });
        Ok(preview_impact(open, &existing, candidate, as_of))
    }
}

#[async_trait]
impl FineSuspensionRepository for FineSuspensionStore {
    async fn fine_suspension_periods(
        &self,
    ) -> Result<Vec<FineSuspensionPeriod>, InfrastructureError> {
        let periods = self
            .cache
            .periods(|| async {
                Ok::<_, InfrastructureError>(
                    self.read_all()
                        .await?
                        .into_iter()
                        .map(|s| s.period)
                        .collect(),
                )
            })
            .await?;
        Ok(periods.as_ref().clone())
    }
}
