//! The audit log of staff actions: append-only.

use library_core::StaffId;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Value};
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::instant;
use crate::pool::Pool;
use crate::sql::{all, get, infra, insert_returning_id, store_err};

/// A staff action to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// Who (`None`: the system, e.g. a scheduled job).
    pub staff: Option<StaffId>,
    /// What, as a stable code (`fine.waive`, `rules.put`, `reader.reset_pin`, ...).
    pub action: String,
    /// On what (`patron:42`, `library:HKCL`, ...).
    pub subject: String,
    /// Free details (JSON or text; never secrets).
    pub details: String,
    /// When.
    pub at: OffsetDateTime,
}

/// A recorded staff action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its id (increasing).
    pub id: i64,
    /// The action.
    pub entry: NewAuditEntry,
}

/// The insert of an audit entry, with [`audit_entry_values`].
pub(crate) const INSERT_AUDIT_ENTRY: &str =
    "INSERT INTO audit_log (staff_id, action, subject, details, at) VALUES (?, ?, ?, ?, ?)";

/// The values of [`INSERT_AUDIT_ENTRY`] for `entry` on `backend`.
pub(crate) fn audit_entry_values(backend: DbBackend, entry: &NewAuditEntry) -> Vec<Value> {
    vec![
        Value::BigInt(entry.staff.map(|s| s.get())),
        entry.action.as_str().into(),
        entry.subject.as_str().into(),
        entry.details.as_str().into(),
        instant::value(backend, entry.at),
    ]
}

/// Appends `entry` on `conn` (a pool, or a transaction whose change it records); its id.
pub(crate) async fn insert_audit_entry(
    conn: &impl ConnectionTrait,
    entry: &NewAuditEntry,
) -> Result<i64, DbErr> {
    insert_returning_id(
        conn,
        &format!("{INSERT_AUDIT_ENTRY} RETURNING id"),
        audit_entry_values(conn.get_database_backend(), entry),
    )
    .await
}

/// The audit log in the database.
#[derive(Debug, Clone)]
pub struct AuditLogStore {
    conn: Pool,
}

impl AuditLogStore {
    pub(crate) fn new(conn: Pool) -> Self {
        Self { conn }
    }

    /// Records an action; its id.
    pub async fn append(&self, entry: &NewAuditEntry) -> Result<i64, StoreError> {
        insert_audit_entry(&self.conn, entry)
            .await
            .map_err(store_err("append audit entry"))
    }

    /// The latest `limit` entries, newest first.
    pub async fn recent(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        const C: &str = "read audit log";
        let rows = all(
            &self.conn,
            "SELECT id, staff_id, action, subject, details, at FROM audit_log \
             ORDER BY id DESC LIMIT ?",
            vec![i64::from(limit).into()],
        )
        .await
        .map_err(store_err(C))?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: get(r, "id").map_err(infra(C))?,
                    entry: NewAuditEntry {
                        staff: get::<Option<i64>>(r, "staff_id")
                            .map_err(infra(C))?
                            .map(StaffId),
                        action: get(r, "action").map_err(infra(C))?,
                        subject: get(r, "subject").map_err(infra(C))?,
                        details: get(r, "details").map_err(infra(C))?,
                        at: get(r, "at").map_err(infra(C))?,
                    },
                })
            })
            .collect()
    }
}
