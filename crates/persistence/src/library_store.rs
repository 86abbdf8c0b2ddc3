//! Libraries and their calendars: creation and listing for staff, calendar entries (weekly
//! closed weekdays, yearly dates, dated closures, reopen exceptions), and the
//! `CalendarRepository` port, which builds a `library_circulation::Calendar` from them.

use std::sync::Arc;

use async_trait::async_trait;
pub use library_circulation::CalendarRule;
use library_circulation::ports::{CalendarRepository, InfrastructureError};
use library_circulation::{Calendar, Closure, Library};
use library_core::{LibraryCode, LibraryKind};
use sea_orm::{QueryResult, Value};
use time::{Date, Month, UtcOffset, Weekday};

use crate::audit_store::{NewAuditEntry, insert_audit_entry};
use crate::circulation::rows::code;
use crate::config_cache::ConfigCache;
use crate::error::StoreError;
use crate::pool::Pool;
use crate::sql::{all, corrupt, exec, get, infra, insert_returning_id, one, store_err};

/// A library to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLibrary {
    /// The code (unique).
    pub code: LibraryCode,
    /// The English name.
    pub name: String,
    /// The Chinese name.
    pub name_zh: String,
    /// The kind.
    pub kind: LibraryKind,
    /// The library's UTC offset (Hong Kong: +08:00).
    pub utc_offset: UtcOffset,
}

/// A stored library (without its calendar).
pub type LibraryRecord = NewLibrary;

/// A stored calendar entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEntry {
    /// Its id (to remove it).
    pub id: i64,
    /// The rule.
    pub rule: CalendarRule,
    /// Why (shown to staff and readers).
    pub description: String,
}

/// Libraries and calendars in the database.
#[derive(Debug, Clone)]
pub struct LibraryStore {
    pub(crate) conn: Pool,
    pub(crate) cache: Arc<ConfigCache>,
}

const LIBRARY_COLUMNS: &str = "code, name, name_zh, kind, utc_offset_seconds";

fn library_record(row: &QueryResult) -> Result<LibraryRecord, InfrastructureError> {
    const C: &str = "read library";
    let code_text: String = get(row, "code").map_err(infra(C))?;
    let kind: String = get(row, "kind").map_err(infra(C))?;
    let offset: i64 = get(row, "utc_offset_seconds").map_err(infra(C))?;
    let offset = i32::try_from(offset)
        .ok()
        .and_then(|s| UtcOffset::from_whole_seconds(s).ok())
        .ok_or_else(|| corrupt(C, format_args!("UTC offset {offset}")))?;
    Ok(NewLibrary {
        code: code(C, &code_text)?,
        name: get(row, "name").map_err(infra(C))?,
        name_zh: get(row, "name_zh").map_err(infra(C))?,
        kind: kind
            .parse()
            .map_err(|_| corrupt(C, format_args!("kind {kind:?}")))?,
        utc_offset: offset,
    })
}

fn calendar_entry(row: &QueryResult) -> Result<CalendarEntry, InfrastructureError> {
    const C: &str = "read calendar entry";
    let kind: String = get(row, "kind").map_err(infra(C))?;
    let number = |column: &str| -> Result<u8, InfrastructureError> {
        let n: Option<i64> = get(row, column).map_err(infra(C))?;
        n.and_then(|n| u8::try_from(n).ok())
            .ok_or_else(|| corrupt(C, format_args!("{column} missing or out of range")))
    };
    let date = |column: &str| -> Result<Date, InfrastructureError> {
        let d: Option<Date> = get(row, column).map_err(infra(C))?;
        d.ok_or_else(|| corrupt(C, format_args!("{column} missing")))
    };
    let rule = match kind.as_str() {
        "weekday" => CalendarRule::ClosedWeekday(match number("weekday")? {
            0 => Weekday::Monday,
            1 => Weekday::Tuesday,
            2 => Weekday::Wednesday,
            3 => Weekday::Thursday,
            4 => Weekday::Friday,
            5 => Weekday::Saturday,
            6 => Weekday::Sunday,
            n => return Err(corrupt(C, format_args!("weekday {n}"))),
        }),
        "yearly" => CalendarRule::Yearly {
            month: Month::try_from(number("month")?).map_err(|e| corrupt(C, e))?,
            day: number("day")?,
        },
        "closure" => CalendarRule::Closure(
            Closure::new(date("from_on")?, date("to_on")?).map_err(|e| corrupt(C, e))?,
        ),
        "reopen" => CalendarRule::Reopen(date("from_on")?),
        other => return Err(corrupt(C, format_args!("calendar entry kind {other:?}"))),
    };
    Ok(CalendarEntry {
        id: get(row, "id").map_err(infra(C))?,
        rule,
        description: get(row, "description").map_err(infra(C))?,
    })
}

/// Inserts calendar entry `rule` of library `code` in `txn`; its id.
pub(crate) async fn insert_calendar_entry(
    txn: &crate::pool::Txn,
    code: &LibraryCode,
    rule: CalendarRule,
    description: &str,
) -> Result<i64, sea_orm::DbErr> {
    let none = || Value::BigInt(None);
    let no_date = || Value::TimeDate(None);
    let (kind, weekday, month, day, from, to) = match rule {
        CalendarRule::ClosedWeekday(w) => (
            "weekday",
            Value::BigInt(Some(i64::from(w.number_days_from_monday()))),
            none(),
            none(),
            no_date(),
            no_date(),
        ),
        CalendarRule::Yearly { month, day } => (
            "yearly",
            none(),
            Value::BigInt(Some(i64::from(u8::from(month)))),
            Value::BigInt(Some(i64::from(day))),
            no_date(),
            no_date(),
        ),
        CalendarRule::Closure(c) => (
            "closure",
            none(),
            none(),
            none(),
            Value::TimeDate(Some(c.from())),
            Value::TimeDate(Some(c.to())),
        ),
        CalendarRule::Reopen(d) => (
            "reopen",
            none(),
            none(),
            none(),
            Value::TimeDate(Some(d)),
            no_date(),
        ),
    };
    insert_returning_id(
        txn,
        "INSERT INTO calendar_entries (library_code, kind, weekday, month, day, from_on, \
             to_on, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        vec![
            code.as_str().into(),
            kind.into(),
            weekday,
            month,
            day,
            from,
            to,
            description.into(),
        ],
    )
    .await
}

impl LibraryStore {
    pub(crate) fn new(conn: Pool, cache: Arc<ConfigCache>) -> Self {
        Self { conn, cache }
    }

    /// Creates a library (open every day until calendar entries are added). A code already
    /// used is [`StoreError::Conflict`]. `audit`, when given, is written in the same
    /// transaction: the entry exists exactly when the library does.
    pub async fn create(
        &self,
        new: &NewLibrary,
        audit: Option<&NewAuditEntry>,
    ) -> Result<(), StoreError> {
        const C: &str = "create library";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        exec(
            &txn,
            "INSERT INTO libraries (code, name, name_zh, kind, utc_offset_seconds) \
             VALUES (?, ?, ?, ?, ?)",
            vec![
                new.code.as_str().into(),
                new.name.as_str().into(),
                new.name_zh.as_str().into(),
                new.kind.as_str().into(),
                i64::from(new.utc_offset.whole_seconds()).into(),
            ],
        )
        .await
        .map_err(store_err(C))?;
        if let Some(entry) = audit {
            insert_audit_entry(&txn, entry)
                .await
                .map_err(store_err(C))?;
        }
        self.cache.commit_change(txn).await.map_err(store_err(C))?;
        Ok(())
    }

    /// Every library, by code.
    pub async fn list(&self) -> Result<Vec<LibraryRecord>, StoreError> {
        let sql = format!("SELECT {LIBRARY_COLUMNS} FROM libraries ORDER BY code");
        let rows = all(&self.conn, &sql, vec![])
            .await
            .map_err(store_err("list libraries"))?;
        Ok(rows.iter().map(library_record).collect::<Result<_, _>>()?)
    }

    /// One library.
    pub async fn get(&self, code: &LibraryCode) -> Result<Option<LibraryRecord>, StoreError> {
        let sql = format!("SELECT {LIBRARY_COLUMNS} FROM libraries WHERE code = ?");
        let row = one(&self.conn, &sql, vec![code.as_str().into()])
            .await
            .map_err(store_err("read library"))?;
        Ok(row.map(|r| library_record(&r)).transpose()?)
    }

    /// Adds a calendar entry to library `code`; its id. A yearly date no year has (31
    /// April) is [`StoreError::Calendar`]; an unknown library is [`StoreError::NotFound`].
    /// `audit`, when given, makes the audit entry of the new id, written in the same
    /// transaction.
    pub async fn add_calendar_entry(
        &self,
        code: &LibraryCode,
        rule: CalendarRule,
        description: &str,
        audit: Option<&(dyn Fn(i64) -> NewAuditEntry + Send + Sync)>,
    ) -> Result<i64, StoreError> {
        if self.get(code).await?.is_none() {
            return Err(StoreError::NotFound("library"));
        }
        // Only rules a calendar accepts are stored (a yearly day some year has).
        Calendar::default().with_rule(rule)?;
        const C: &str = "add calendar entry";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let id = insert_calendar_entry(&txn, code, rule, description)
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

    /// Removes a calendar entry of library `code`; `false` if there was none. `audit`, when
    /// given, is written in the same transaction if an entry was removed.
    pub async fn remove_calendar_entry(
        &self,
        code: &LibraryCode,
        id: i64,
        audit: Option<&NewAuditEntry>,
    ) -> Result<bool, StoreError> {
        const C: &str = "remove calendar entry";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let n = exec(
            &txn,
            "DELETE FROM calendar_entries WHERE id = ? AND library_code = ?",
            vec![id.into(), code.as_str().into()],
        )
        .await
        .map_err(store_err(C))?;
        if n != 1 {
            return Ok(false);
        }
        if let Some(entry) = audit {
            insert_audit_entry(&txn, entry)
                .await
                .map_err(store_err(C))?;
        }
        self.cache.commit_change(txn).await.map_err(store_err(C))?;
        Ok(true)
    }

    /// The calendar entries of library `code`, in the order they were added.
    pub async fn calendar_entries(
        &self,
        code: &LibraryCode,
    ) -> Result<Vec<CalendarEntry>, StoreError> {
        Ok(self.entries(code).await?)
    }

    async fn entries(&self, code: &LibraryCode) -> Result<Vec<CalendarEntry>, InfrastructureError> {
        all(
            &self.conn,
            "SELECT id, kind, weekday, month, day, from_on, to_on, description \
             FROM calendar_entries WHERE library_code = ? ORDER BY id",
            vec![code.as_str().into()],
        )
        .await
        .map_err(infra("read calendar entries"))?
        .iter()
        .map(calendar_entry)
        .collect()
    }
}

#[async_trait]
impl CalendarRepository for LibraryStore {
    async fn library_calendar(
        &self,
        code: &LibraryCode,
    ) -> Result<Option<Library>, InfrastructureError> {
        self.cache
            .library(code, || self.read_library_calendar(code))
            .await
    }
}

impl LibraryStore {
    /// The library `code` with its calendar, from the database.
    async fn read_library_calendar(
        &self,
        code: &LibraryCode,
    ) -> Result<Option<Library>, InfrastructureError> {
        const C: &str = "read library calendar";
        let sql = format!("SELECT {LIBRARY_COLUMNS} FROM libraries WHERE code = ?");
        let Some(row) = one(&self.conn, &sql, vec![code.as_str().into()])
            .await
            .map_err(infra(C))?
        else {
            return Ok(None);
        };
        let record = library_record(&row)?;
        let mut calendar = Calendar::always_open(record.utc_offset);
        for entry in self.entries(code).await? {
            calendar = calendar.with_rule(entry.rule).map_err(|e| corrupt(C, e))?;
        }
        Ok(Some(Library {
            code: record.code,
            kind: record.kind,
            calendar,
        }))
    }
}
