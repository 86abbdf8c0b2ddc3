//! Opening hours, sections and door services ([`library_app::premises::PremisesStore`])
//! over the tables of migration 23: the week and the special patterns are stored in the
//! domain's text form and read back through its parser; each change is one transaction
//! with its audit entry, and a reopening applies to all its libraries and publishes its
//! notice in one transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use library_app::premises::{
    LibraryNames, LibraryPremises, PremisesStore, Reopening, SpecialEntry,
};
use library_app::{AdminError, AuditRecord, LibraryInfo};
use library_circulation::ports::InfrastructureError;
use library_core::LibraryCode;
use library_premises::hours::{
    DoorServices, Section, SectionCode, SectionStatus, SpecialHours, SpecialPattern, WeekHours,
};
use library_reader_services::{NewNotice, NoticeId};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use time::{Date, OffsetDateTime};

use super::admin::{admin_err, audit_entry, library_info, library_infos};
use crate::activity_store::library_exists;
use crate::audit_store::insert_audit_entry;
use crate::error::StoreError;
use crate::instant;
use crate::library_store::LibraryStore;
use crate::notice_store::insert_notice;
use crate::pool::{Pool, Txn};
use crate::sql::{all, corrupt, exec, get, infra, insert_returning_id, one, store_err};

/// The premises of every library, in the database.
#[derive(Debug, Clone)]
pub struct DbPremises {
    conn: Pool,
    libraries: LibraryStore,
}

impl DbPremises {
    pub(crate) fn new(conn: Pool, libraries: LibraryStore) -> Self {
        Self { conn, libraries }
    }

    /// The premises of `libraries` (all of them, or only library `only`): one query per
    /// premises table, attached to the libraries in their order.
    async fn read(
        &self,
        libraries: Vec<LibraryInfo>,
        only: Option<&LibraryCode>,
    ) -> Result<Vec<LibraryPremises>, AdminError> {
        const C: &str = "read premises";
        let (filter, values): (&str, Vec<Value>) = match only {
            Some(code) => ("WHERE library_code = ?", vec![code.as_str().into()]),
            None => ("", Vec::new()),
        };
        let mut premises = HashMap::new();
        let sql = format!(
            "SELECT library_code, regular_hours, book_drop, self_service_station \
             FROM library_premises {filter}"
        );
        for row in all(&self.conn, &sql, values.clone())
            .await
            .map_err(infra(C))?
        {
            premises.insert(library_code(&row)?, premises_row(&row)?);
        }
        let mut special: HashMap<String, Vec<SpecialEntry>> = HashMap::new();
        let sql = format!(
            "SELECT library_code, id, starts_on, ends_on, pattern, reason \
             FROM library_special_hours {filter} ORDER BY library_code, id"
        );
        for row in all(&self.conn, &sql, values.clone())
            .await
            .map_err(infra(C))?
        {
            special
                .entry(library_code(&row)?)
                .or_default()
                .push(special_entry(&row)?);
        }
        let mut sections: HashMap<String, Vec<Section>> = HashMap::new();
        let sql = format!(
            "SELECT library_code, section, status, from_date, until_date, hours \
             FROM library_sections {filter} ORDER BY library_code, section"
        );
        for row in all(&self.conn, &sql, values).await.map_err(infra(C))? {
            sections
                .entry(library_code(&row)?)
                .or_default()
                .push(section(&row)?);
        }
        Ok(libraries
            .into_iter()
            .map(|library| {
                let code = library.info.code.as_str();
                let (regular, doors) = premises.remove(code).unwrap_or_default();
                LibraryPremises {
                    special: special.remove(code).unwrap_or_default(),
                    sections: sections.remove(code).unwrap_or_default(),
                    library,
                    regular,
                    doors,
                }
            })
            .collect())
    }
}

fn library_code(row: &QueryResult) -> Result<String, InfrastructureError> {
    get(row, "library_code").map_err(infra("read premises"))
}

/// The regular hours and door services of a `library_premises` row.
fn premises_row(
    row: &QueryResult,
) -> Result<(Option<WeekHours>, DoorServices), InfrastructureError> {
    const C: &str = "read premises";
    let regular: Option<String> = get(row, "regular_hours").map_err(infra(C))?;
    let regular = regular
        .map(|t| WeekHours::from_text(&t).map_err(|e| corrupt(C, e)))
        .transpose()?;
    let doors = DoorServices {
        book_drop: get(row, "book_drop").map_err(infra(C))?,
        self_service_station: get(row, "self_service_station").map_err(infra(C))?,
    };
    Ok((regular, doors))
}

fn special_entry(row: &QueryResult) -> Result<SpecialEntry, InfrastructureError> {
    const C: &str = "read special hours";
    let pattern: String = get(row, "pattern").map_err(infra(C))?;
    let pattern = SpecialPattern::from_text(&pattern).map_err(|e| corrupt(C, e))?;
    let from: Date = get(row, "starts_on").map_err(infra(C))?;
    let to: Date = get(row, "ends_on").map_err(infra(C))?;
    Ok(SpecialEntry {
        id: get(row, "id").map_err(infra(C))?,
        hours: SpecialHours::new(from, to, pattern).map_err(|e| corrupt(C, e))?,
        reason: get(row, "reason").map_err(infra(C))?,
    })
}

fn section(row: &QueryResult) -> Result<Section, InfrastructureError> {
    const C: &str = "read section";
    let code: String = get(row, "section").map_err(infra(C))?;
    let status: String = get(row, "status").map_err(infra(C))?;
    let hours: Option<String> = get(row, "hours").map_err(infra(C))?;
    Section::new(
        SectionCode::parse(&code).map_err(|e| corrupt(C, e))?,
        SectionStatus::parse(&status).ok_or_else(|| corrupt(C, format_args!("status {status}")))?,
        get(row, "from_date").map_err(infra(C))?,
        get(row, "until_date").map_err(infra(C))?,
        hours
            .map(|t| WeekHours::from_text(&t).map_err(|e| corrupt(C, e)))
            .transpose()?,
    )
    .map_err(|e| corrupt(C, e))
}

/// The library's names, read on `conn`; `None` if there is no such library.
async fn names(
    conn: &impl ConnectionTrait,
    code: &LibraryCode,
) -> Result<Option<LibraryNames>, StoreError> {
    const C: &str = "read library names";
    let Some(row) = one(
        conn,
        "SELECT name, name_zh FROM libraries WHERE code = ?",
        vec![code.as_str().into()],
    )
    .await
    .map_err(store_err(C))?
    else {
        return Ok(None);
    };
    Ok(Some(LibraryNames {
        code: code.clone(),
        name: get(&row, "name").map_err(infra(C))?,
        name_zh: get(&row, "name_zh").map_err(infra(C))?,
    }))
}

/// Makes sure the library has a `library_premises` row (the defaults), on `conn`.
async fn ensure_row(conn: &impl ConnectionTrait, code: &LibraryCode) -> Result<(), StoreError> {
    exec(
        conn,
        "INSERT INTO library_premises (library_code, book_drop, self_service_station) \
         VALUES (?, ?, ?) ON CONFLICT (library_code) DO NOTHING",
        vec![code.as_str().into(), false.into(), false.into()],
    )
    .await
    .map_err(store_err("add premises"))?;
    Ok(())
}

async fn put_section(
    conn: &impl ConnectionTrait,
    code: &LibraryCode,
    section: &Section,
) -> Result<(), StoreError> {
    const C: &str = "set section";
    exec(
        conn,
        "DELETE FROM library_sections WHERE library_code = ? AND section = ?",
        vec![code.as_str().into(), section.code().as_str().into()],
    )
    .await
    .map_err(store_err(C))?;
    exec(
        conn,
        "INSERT INTO library_sections (library_code, section, status, from_date, until_date, \
         hours) VALUES (?, ?, ?, ?, ?, ?)",
        vec![
            code.as_str().into(),
            section.code().as_str().into(),
            section.status().as_str().into(),
            Value::TimeDate(Some(section.from())),
            Value::TimeDate(section.until()),
            Value::String(section.hours().map(WeekHours::to_text)),
        ],
    )
    .await
    .map_err(store_err(C))?;
    Ok(())
}

async fn put_special(
    conn: &impl ConnectionTrait,
    code: &LibraryCode,
    hours: &SpecialHours,
    reason: &str,
    at: OffsetDateTime,
) -> Result<i64, StoreError> {
    let backend = conn.get_database_backend();
    insert_returning_id(
        conn,
        "INSERT INTO library_special_hours (library_code, starts_on, ends_on, pattern, reason, \
         created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        vec![
            code.as_str().into(),
            Value::TimeDate(Some(hours.from())),
            Value::TimeDate(Some(hours.to())),
            hours.pattern().to_text().into(),
            reason.into(),
            instant::value(backend, at),
        ],
    )
    .await
    .map_err(store_err("add special hours"))
}

impl DbPremises {
    /// A write transaction, after checking that library `code` exists.
    async fn begin_for(&self, code: &LibraryCode) -> Result<Txn, AdminError> {
        let txn = self
            .conn
            .begin_write()
            .await
            .map_err(store_err("change premises"))
            .map_err(admin_err)?;
        if !library_exists(&txn, code).await.map_err(admin_err)? {
            return Err(AdminError::NotFound);
        }
        Ok(txn)
    }
}

/// Writes `audit` in `txn` and commits.
async fn finish(txn: Txn, audit: AuditRecord) -> Result<(), AdminError> {
    const C: &str = "change premises";
    insert_audit_entry(&txn, &audit_entry(audit))
        .await
        .map_err(store_err(C))
        .map_err(admin_err)?;
    txn.commit().await.map_err(store_err(C)).map_err(admin_err)
}

#[async_trait]
impl PremisesStore for DbPremises {
    async fn all(&self) -> Result<Vec<LibraryPremises>, AdminError> {
        self.read(library_infos(&self.libraries).await?, None).await
    }

    async fn premises(&self, code: &LibraryCode) -> Result<Option<LibraryPremises>, AdminError> {
        let Some(record) = self.libraries.get(code).await.map_err(admin_err)? else {
            return Ok(None);
        };
        let library = library_info(&self.libraries, record).await?;
        Ok(self.read(vec![library], Some(code)).await?.pop())
    }

    async fn set_regular_hours(
        &self,
        code: &LibraryCode,
        week: Option<&WeekHours>,
        audit: AuditRecord,
    ) -> Result<(), AdminError> {
        let txn = self.begin_for(code).await?;
        ensure_row(&txn, code).await.map_err(admin_err)?;
        exec(
            &txn,
            "UPDATE library_premises SET regular_hours = ? WHERE library_code = ?",
            vec![
                Value::String(week.map(WeekHours::to_text)),
                code.as_str().into(),
            ],
        )
        .await
        .map_err(store_err("set regular hours"))
        .map_err(admin_err)?;
        finish(txn, audit).await
    }

    async fn add_special_hours(
        &self,
        code: &LibraryCode,
        hours: &SpecialHours,
        reason: &str,
        at: OffsetDateTime,
        audit: &(dyn Fn(i64) -> AuditRecord + Send + Sync),
    ) -> Result<i64, AdminError> {
        let txn = self.begin_for(code).await?;
        let id = put_special(&txn, code, hours, reason, at)
            .await
            .map_err(admin_err)?;
        finish(txn, audit(id)).await?;
        Ok(id)
    }

    async fn remove_special_hours(
        &self,
        code: &LibraryCode,
        id: i64,
        audit: AuditRecord,
    ) -> Result<bool, AdminError> {
        const C: &str = "remove special hours";
        let txn = self
            .conn
            .begin_write()
            .await
            .map_err(store_err(C))
            .map_err(admin_err)?;
        let removed = exec(
            &txn,
            "DELETE FROM library_special_hours WHERE id = ? AND library_code = ?",
            vec![id.into(), code.as_str().into()],
        )
        .await
        .map_err(store_err(C))
        .map_err(admin_err)?;
        if removed == 0 {
            return Ok(false);
        }
        finish(txn, audit).await?;
        Ok(true)
    }

    async fn set_section(
        &self,
        code: &LibraryCode,
        section: &Section,
        audit: AuditRecord,
    ) -> Result<(), AdminError> {
        let txn = self.begin_for(code).await?;
        put_section(&txn, code, section).await.map_err(admin_err)?;
        finish(txn, audit).await
    }

    async fn set_door_services(
        &self,
        code: &LibraryCode,
        doors: DoorServices,
        audit: AuditRecord,
    ) -> Result<(), AdminError> {
        let txn = self.begin_for(code).await?;
        ensure_row(&txn, code).await.map_err(admin_err)?;
        exec(
            &txn,
            "UPDATE library_premises SET book_drop = ?, self_service_station = ? \
             WHERE library_code = ?",
            vec![
                doors.book_drop.into(),
                doors.self_service_station.into(),
                code.as_str().into(),
            ],
        )
        .await
        .map_err(store_err("set door services"))
        .map_err(admin_err)?;
        finish(txn, audit).await
    }

    async fn reopen(
        &self,
        reopening: &Reopening,
        at: OffsetDateTime,
        notice: &(dyn for<'n> Fn(&'n [LibraryNames]) -> NewNotice + Send + Sync),
        audit: &(dyn Fn(NoticeId) -> AuditRecord + Send + Sync),
    ) -> Result<NoticeId, AdminError> {
        const C: &str = "reopen libraries";
        let txn = self
            .conn
            .begin_write()
            .await
            .map_err(store_err(C))
            .map_err(admin_err)?;
        let mut found = Vec::with_capacity(reopening.libraries.len());
        for code in &reopening.libraries {
            match names(&txn, code).await.map_err(admin_err)? {
                Some(n) => found.push(n),
                None => return Err(AdminError::Invalid(vec!["unknown_library"])),
            }
        }
        let sections = reopening.sections();
        for code in &reopening.libraries {
            for section in &sections {
                put_section(&txn, code, section).await.map_err(admin_err)?;
            }
            if let Some((hours, reason)) = &reopening.special {
                put_special(&txn, code, hours, reason, at)
                    .await
                    .map_err(admin_err)?;
            }
        }
        let id = insert_notice(&txn, &notice(&found), at)
            .await
            .map_err(store_err(C))
            .map_err(admin_err)?;
        finish(txn, audit(id)).await?;
        Ok(id)
    }
}
