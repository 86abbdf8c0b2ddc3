//! The notification outbox: circulation and credential flows append notifications; a sender
//! reads the unsent ones in order and marks each sent once delivered (at least once).

use library_core::PatronId;
use sea_orm::Value;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::instant;
use crate::pool::Pool;
use crate::sql::{all, exec, get, infra, insert_returning_id, store_err};

/// A notification to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// What it is (`hold.waiting`, `loan.due_soon`, ...).
    pub kind: String,
    /// The reader it is for, if any.
    pub patron: Option<PatronId>,
    /// What the sender needs (JSON).
    pub payload: String,
    /// When it was queued.
    pub created_at: OffsetDateTime,
}

/// A queued notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Its id (increasing: send in this order).
    pub id: i64,
    /// The notification.
    pub notification: NewNotification,
    /// When it was sent; `None` while unsent.
    pub sent_at: Option<OffsetDateTime>,
}

/// The outbox in the database.
#[derive(Debug, Clone)]
pub struct OutboxStore {
    conn: Pool,
}

impl OutboxStore {
    pub(crate) fn new(conn: Pool) -> Self {
        Self { conn }
    }

    /// Queues a notification; its id.
    pub async fn append(&self, n: &NewNotification) -> Result<i64, StoreError> {
        insert_notification(&self.conn, n)
            .await
            .map_err(store_err("append notification"))
    }

    /// Up to `limit` unsent notifications, oldest first.
    pub async fn unsent(&self, limit: u32) -> Result<Vec<Notification>, StoreError> {
        const C: &str = "read outbox";
        let rows = all(
            &self.conn,
            "SELECT id, kind, patron_id, payload, created_at, sent_at FROM outbox \
             WHERE sent_at IS NULL ORDER BY id LIMIT ?",
            vec![i64::from(limit).into()],
        )
        .await
        .map_err(store_err(C))?;
        rows.iter()
            .map(|r| {
                Ok(Notification {
                    id: get(r, "id").map_err(infra(C))?,
                    notification: NewNotification {
                        kind: get(r, "kind").map_err(infra(C))?,
                        patron: get::<Option<i64>>(r, "patron_id")
                            .map_err(infra(C))?
                            .map(PatronId),
                        payload: get(r, "payload").map_err(infra(C))?,
                        created_at: get(r, "created_at").map_err(infra(C))?,
                    },
                    sent_at: get(r, "sent_at").map_err(infra(C))?,
                })
            })
            .collect()
    }

    /// Marks notification `id` sent; `false` if it was already sent or does not exist.
    pub async fn mark_sent(&self, id: i64, at: OffsetDateTime) -> Result<bool, StoreError> {
        let n = exec(
            &self.conn,
            "UPDATE outbox SET sent_at = ? WHERE id = ? AND sent_at IS NULL",
            vec![
                instant::value(self.conn.get_database_backend(), at),
                id.into(),
            ],
        )
        .await
        .map_err(store_err("mark notification sent"))?;
        Ok(n == 1)
    }
}

/// Queues `n` on `conn` (the pool, or a transaction: then it is queued only if that
/// commits); its id.
pub(crate) async fn insert_notification(
    conn: &impl sea_orm::ConnectionTrait,
    n: &NewNotification,
) -> Result<i64, sea_orm::DbErr> {
    insert_returning_id(
        conn,
        "INSERT INTO outbox (kind, patron_id, payload, created_at) VALUES (?, ?, ?, ?) \
         RETURNING id",
        vec![
            n.kind.as_str().into(),
            Value::BigInt(n.patron.map(|p| p.get())),
            n.payload.as_str().into(),
            instant::value(conn.get_database_backend(), n.created_at),
        ],
    )
    .await
}
