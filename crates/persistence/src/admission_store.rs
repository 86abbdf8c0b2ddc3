//! Capacity and the count at each door, admission events, visitor registrations with
//! their audited reads and their purge, and staff permissions
//! (`library_app::admission::AdmissionStore`).
//!
//! An admission is one transaction: the door's row is created if missing, locked
//! (`FOR NO KEY UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` holds the write lock),
//! read, decided by [`Occupancy::admit`], and written with an update conditional on the
//! count read and on the capacity, so parallel admissions never pass the capacity on
//! either backend.

use std::collections::BTreeMap;

use async_trait::async_trait;
use library_app::AdminError;
use library_app::AuditRecord;
use library_app::admission::{
    AdmissionStore, DoorCount, NewVisitorRecord, PurgeLine, Registered, StaffPermission,
    VisitorQuery, VisitorRecord,
};
use library_core::{LibraryCode, StaffId};
use library_premises::admission::{AdmissionRefusal, Capacity, Occupancy, SectionCode, local_date};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Value};
use time::OffsetDateTime;

use crate::activity_store::library_exists;
use crate::application::{admin_error, audit_entry};
use crate::audit_store::insert_audit_entry;
use crate::instant;
use crate::pool::Pool;
use crate::sql::{all, corrupt, database_error, exec, get, insert_returning_id, lock_clause, one};

/// The admission records over the database.
#[derive(Debug, Clone)]
pub struct AdmissionRecords {
    conn: Pool,
}

impl AdmissionRecords {
    pub(crate) fn new(conn: Pool) -> Self {
        Self { conn }
    }
}

fn db(context: &'static str) -> impl FnOnce(DbErr) -> AdminError {
    move |err| AdminError::Infrastructure(database_error(format!("{context}: database error"), err))
}

fn bad(context: &'static str, what: impl std::fmt::Display) -> AdminError {
    AdminError::Infrastructure(corrupt(context, what))
}

/// The stored door key: `''` for the library's own door.
fn door(section: Option<&SectionCode>) -> String {
    section.map(|s| s.as_str().to_owned()).unwrap_or_default()
}

fn occupancy(c: &'static str, row: &QueryResult) -> Result<Occupancy, AdminError> {
    let capacity: Option<i32> = get(row, "capacity").map_err(db(c))?;
    let inside: i32 = get(row, "inside").map_err(db(c))?;
    Ok(Occupancy {
        inside: u32::try_from(inside).map_err(|e| bad(c, e))?,
        capacity: Capacity::parse(capacity.map(i64::from)).map_err(|e| bad(c, e))?,
    })
}

/// The door's row, created if missing, locked, as an occupancy.
async fn locked_door(
    conn: &impl ConnectionTrait,
    c: &'static str,
    library: &LibraryCode,
    section: &str,
) -> Result<Occupancy, AdminError> {
    exec(
        conn,
        "INSERT INTO door_counts (library_code, section, capacity, inside) VALUES (?, ?, NULL, 0) \
         ON CONFLICT (library_code, section) DO NOTHING",
        vec![library.as_str().into(), section.into()],
    )
    .await
    .map_err(db(c))?;
    let sql = format!(
        "SELECT capacity, inside FROM door_counts WHERE library_code = ? AND section = ?{}",
        lock_clause(conn.get_database_backend())
    );
    let row = one(conn, &sql, vec![library.as_str().into(), section.into()])
        .await
        .map_err(db(c))?
        .ok_or_else(|| bad(c, "door row missing after its insert"))?;
    occupancy(c, &row)
}

async fn event(
    conn: &impl ConnectionTrait,
    c: &'static str,
    library: &LibraryCode,
    section: &str,
    kind: &str,
    at: OffsetDateTime,
) -> Result<(), AdminError> {
    exec(
        conn,
        "INSERT INTO admission_events (library_code, section, kind, at) VALUES (?, ?, ?, ?)",
        vec![
            library.as_str().into(),
            section.into(),
            kind.into(),
            instant::value(conn.get_database_backend(), at),
        ],
    )
    .await
    .map_err(db(c))?;
    Ok(())
}

/// The admission of one person on `conn` (a write transaction): the domain decides on the
/// locked count; the count is written only if it is still the one read and below the
/// capacity.
async fn admit_on(
    conn: &impl ConnectionTrait,
    c: &'static str,
    library: &LibraryCode,
    section: &str,
    at: OffsetDateTime,
) -> Result<Result<Occupancy, AdmissionRefusal>, AdminError> {
    let now = locked_door(conn, c, library, section).await?;
    let decided = now.admit();
    if let Ok(next) = decided {
        let written = exec(
            conn,
            "UPDATE door_counts SET inside = ? WHERE library_code = ? AND section = ? \
             AND inside = ? AND (capacity IS NULL OR inside < capacity)",
            vec![
                i32::try_from(next.inside).map_err(|e| bad(c, e))?.into(),
                library.as_str().into(),
                section.into(),
                i32::try_from(now.inside).map_err(|e| bad(c, e))?.into(),
            ],
        )
        .await
        .map_err(db(c))?;
        if written != 1 {
            return Err(bad(c, "the locked door count changed"));
        }
    }
    let kind = if decided.is_ok() {
        "admitted"
    } else {
        "refused"
    };
    event(conn, c, library, section, kind, at).await?;
    Ok(decided)
}

fn visitor(c: &'static str, row: &QueryResult) -> Result<VisitorRecord, AdminError> {
    let library: String = get(row, "library_code").map_err(db(c))?;
    Ok(VisitorRecord {
        id: get(row, "id").map_err(db(c))?,
        library: LibraryCode::parse(&library).map_err(|e| bad(c, e))?,
        section: get(row, "section").map_err(db(c))?,
        name: get(row, "name").map_err(db(c))?,
        phone: get(row, "phone").map_err(db(c))?,
        visited_at: get(row, "visited_at").map_err(db(c))?,
        recorded_by: get(row, "recorded_by").map_err(db(c))?,
    })
}

#[async_trait]
impl AdmissionStore for AdmissionRecords {
    async fn set_capacity(
        &self,
        library: &LibraryCode,
        section: Option<&SectionCode>,
        capacity: Capacity,
        audit: AuditRecord,
    ) -> Result<bool, AdminError> {
        const C: &str = "set capacity";
        let txn = self.conn.begin_write().await.map_err(db(C))?;
        if !library_exists(&txn, library).await.map_err(admin_error)? {
            return Ok(false);
        }
        let limit = capacity
            .limit()
            .map(i32::try_from)
            .transpose()
            .map_err(|e| bad(C, e))?;
        exec(
            &txn,
            "INSERT INTO door_counts (library_code, section, capacity, inside) VALUES (?, ?, ?, 0) \
             ON CONFLICT (library_code, section) DO UPDATE SET capacity = excluded.capacity",
            vec![
                library.as_str().into(),
                door(section).into(),
                Value::Int(limit),
            ],
        )
        .await
        .map_err(db(C))?;
        insert_audit_entry(&txn, &audit_entry(audit))
            .await
            .map_err(db(C))?;
        txn.commit().await.map_err(db(C))?;
        Ok(true)
    }

    async fn occupancy(&self, library: &LibraryCode) -> Result<Option<Vec<DoorCount>>, AdminError> {
        const C: &str = "read occupancy";
        if !library_exists(&self.conn, library)
            .await
            .map_err(admin_error)?
        {
            return Ok(None);
        }
        let rows = all(
            &self.conn,
            "SELECT section, capacity, inside FROM door_counts WHERE library_code = ? \
             ORDER BY section",
            vec![library.as_str().into()],
        )
        .await
        .map_err(db(C))?;
        rows.iter()
            .map(|r| {
                let section: String = get(r, "section").map_err(db(C))?;
                Ok(DoorCount {
                    section: (!section.is_empty()).then_some(section),
                    occupancy: occupancy(C, r)?,
                })
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    async fn admit(
        &self,
        library: &LibraryCode,
        section: Option<&SectionCode>,
        at: OffsetDateTime,
        audit: Option<AuditRecord>,
    ) -> Result<Option<Result<Occupancy, AdmissionRefusal>>, AdminError> {
        const C: &str = "admit";
        let txn = self.conn.begin_write().await.map_err(db(C))?;
        if !library_exists(&txn, library).await.map_err(admin_error)? {
            return Ok(None);
        }
        let decided = admit_on(&txn, C, library, &door(section), at).await?;
        if let (Ok(_), Some(audit)) = (&decided, audit) {
            insert_audit_entry(&txn, &audit_entry(audit))
                .await
                .map_err(db(C))?;
        }
        txn.commit().await.map_err(db(C))?;
        Ok(Some(decided))
    }

    async fn leave(
        &self,
        library: &LibraryCode,
        section: Option<&SectionCode>,
        at: OffsetDateTime,
        audit: Option<AuditRecord>,
    ) -> Result<Option<Occupancy>, AdminError> {
        const C: &str = "leave";
        let txn = self.conn.begin_write().await.map_err(db(C))?;
        if !library_exists(&txn, library).await.map_err(admin_error)? {
            return Ok(None);
        }
        let door = door(section);
        let now = locked_door(&txn, C, library, &door).await?;
        let next = now.leave();
        exec(
            &txn,
            "UPDATE door_counts SET inside = ? WHERE library_code = ? AND section = ?",
            vec![
                i32::try_from(next.inside).map_err(|e| bad(C, e))?.into(),
                library.as_str().into(),
                door.as_str().into(),
            ],
        )
        .await
        .map_err(db(C))?;
        event(&txn, C, library, &door, "left", at).await?;
        if let Some(audit) = audit {
            insert_audit_entry(&txn, &audit_entry(audit))
                .await
                .map_err(db(C))?;
        }
        txn.commit().await.map_err(db(C))?;
        Ok(Some(next))
    }

    async fn register(
        &self,
        record: &NewVisitorRecord,
        admit: bool,
        audit: Option<&(dyn Fn(i64) -> AuditRecord + Send + Sync)>,
    ) -> Result<Option<Registered>, AdminError> {
        const C: &str = "register visitor";
        let txn = self.conn.begin_write().await.map_err(db(C))?;
        let backend = txn.get_database_backend();
        if !library_exists(&txn, &record.library)
            .await
            .map_err(admin_error)?
        {
            return Ok(None);
        }
        let admitted = if admit {
            match admit_on(
                &txn,
                C,
                &record.library,
                &door(record.section.as_ref()),
                record.recorded_at,
            )
            .await?
            {
                Ok(occupancy) => Some(occupancy),
                Err(refusal) => {
                    // The refusal is counted; nothing else is stored.
                    txn.commit().await.map_err(db(C))?;
                    return Ok(Some(Registered::Refused(refusal)));
                }
            }
        } else {
            None
        };
        let id = insert_returning_id(
            &txn,
            "INSERT INTO visitor_registrations (library_code, section, name, phone, visited_at, \
             recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            vec![
                record.library.as_str().into(),
                Value::String(record.section.as_ref().map(|s| s.as_str().to_owned())),
                record.visitor.name.as_str().into(),
                record.visitor.phone.as_str().into(),
                instant::value(backend, record.visitor.visited_at),
                instant::value(backend, record.recorded_at),
                record.recorded_by.as_text().into(),
            ],
        )
        .await
        .map_err(db(C))?;
        if let Some(audit) = audit {
            insert_audit_entry(&txn, &audit_entry(audit(id)))
                .await
                .map_err(db(C))?;
        }
        txn.commit().await.map_err(db(C))?;
        Ok(Some(Registered::Recorded { id, admitted }))
    }

    async fn visitors(
        &self,
        query: &VisitorQuery,
        audit: &(dyn Fn(usize) -> AuditRecord + Send + Sync),
    ) -> Result<Vec<VisitorRecord>, AdminError> {
        const C: &str = "read visitor registrations";
        let txn = self.conn.begin_write().await.map_err(db(C))?;
        let backend = txn.get_database_backend();
        let (start, end) = query.instants();
        let mut sql = "SELECT id, library_code, section, name, phone, visited_at, recorded_by \
                       FROM visitor_registrations WHERE visited_at >= ? AND visited_at < ?"
            .to_owned();
        let mut values = vec![instant::value(backend, start), instant::value(backend, end)];
        if let Some(library) = &query.library {
            sql.push_str(" AND library_code = ?");
            values.push(library.as_str().into());
        }
        sql.push_str(" ORDER BY visited_at, id");
        let rows = all(&txn, &sql, values).await.map_err(db(C))?;
        let records = rows
            .iter()
            .map(|r| visitor(C, r))
            .collect::<Result<Vec<_>, _>>()?;
        insert_audit_entry(&txn, &audit_entry(audit(records.len())))
            .await
            .map_err(db(C))?;
        txn.commit().await.map_err(db(C))?;
        Ok(records)
    }

    async fn purge_preview(&self, before: OffsetDateTime) -> Result<Vec<PurgeLine>, AdminError> {
        const C: &str = "preview visitor purge";
        let rows = all(
            &self.conn,
            "SELECT library_code, visited_at FROM visitor_registrations WHERE visited_at < ?",
            vec![instant::value(self.conn.get_database_backend(), before)],
        )
        .await
        .map_err(db(C))?;
        let mut lines: BTreeMap<(String, time::Date), u64> = BTreeMap::new();
        for r in &rows {
            let library: String = get(r, "library_code").map_err(db(C))?;
            let at: OffsetDateTime = get(r, "visited_at").map_err(db(C))?;
            *lines.entry((library, local_date(at))).or_default() += 1;
        }
        lines
            .into_iter()
            .map(|((library, date), count)| {
                Ok(PurgeLine {
                    library: LibraryCode::parse(&library).map_err(|e| bad(C, e))?,
                    date,
                    count,
                })
            })
            .collect()
    }

    async fn purge(&self, before: OffsetDateTime, batch: u32) -> Result<u64, AdminError> {
        const C: &str = "purge visitor registrations";
        let mut total = 0;
        loop {
            let txn = self.conn.begin_write().await.map_err(db(C))?;
            let deleted = exec(
                &txn,
                "DELETE FROM visitor_registrations WHERE id IN (SELECT id FROM \
                 visitor_registrations WHERE visited_at < ? ORDER BY id LIMIT ?)",
                vec![
                    instant::value(txn.get_database_backend(), before),
                    i64::from(batch).into(),
                ],
            )
            .await
            .map_err(db(C))?;
            txn.commit().await.map_err(db(C))?;
            total += deleted;
            if deleted < u64::from(batch) {
                return Ok(total);
            }
        }
    }

    async fn set_permission(
        &self,
        username: &str,
        permission: StaffPermission,
        granted: bool,
        audit: &(dyn Fn(StaffId) -> AuditRecord + Send + Sync),
    ) -> Result<bool, AdminError> {
        const C: &str = "set staff permission";
        let txn = self.conn.begin_write().await.map_err(db(C))?;
        let Some(row) = one(
            &txn,
            "SELECT id FROM staff_users WHERE username = ?",
            vec![username.to_lowercase().into()],
        )
        .await
        .map_err(db(C))?
        else {
            return Ok(false);
        };
        let staff = StaffId(get(&row, "id").map_err(db(C))?);
        let record = audit(staff);
        if granted {
            exec(
                &txn,
                "INSERT INTO staff_permissions (staff_id, permission, granted_at, granted_by) \
                 VALUES (?, ?, ?, ?) ON CONFLICT (staff_id, permission) DO NOTHING",
                vec![
                    staff.get().into(),
                    permission.code().into(),
                    instant::value(txn.get_database_backend(), record.at),
                    Value::BigInt(record.staff.map(|s| s.get())),
                ],
            )
            .await
            .map_err(db(C))?;
        } else {
            exec(
                &txn,
                "DELETE FROM staff_permissions WHERE staff_id = ? AND permission = ?",
                vec![staff.get().into(), permission.code().into()],
            )
            .await
            .map_err(db(C))?;
        }
        insert_audit_entry(&txn, &audit_entry(record))
            .await
            .map_err(db(C))?;
        txn.commit().await.map_err(db(C))?;
        Ok(true)
    }

    async fn has_permission(
        &self,
        staff: StaffId,
        permission: StaffPermission,
    ) -> Result<bool, AdminError> {
        const C: &str = "read staff permission";
        Ok(one(
            &self.conn,
            "SELECT staff_id FROM staff_permissions WHERE staff_id = ? AND permission = ?",
            vec![staff.get().into(), permission.code().into()],
        )
        .await
        .map_err(db(C))?
        .is_some())
    }
}
