//! The notification outbox: circulation and credential flows append notifications; a sender
//! reads the unsent ones in order and marks each sent once delivered (at least once).

use library_core::PatronId;
use sea_orm::Value;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::instant;
use crate::pool::Pool;
use library_reader_services::Page;

use crate::sql::{all, count, exec, get, infra, insert_returning_id, page, store_err};

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
    /// When it is no longer worth sending (a temporary password's expiry): given up then,
    /// unsent, and its secret wiped.
    pub expires_at: Option<OffsetDateTime>,
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
        self.read("WHERE sent_at IS NULL", limit).await
    }

    /// Up to `limit` notifications, sent or not, oldest first.
    pub async fn all(&self, limit: u32) -> Result<Vec<Notification>, StoreError> {
        self.read("", limit).await
    }

    async fn read(&self, filter: &str, limit: u32) -> Result<Vec<Notification>, StoreError> {
        const C: &str = "read outbox";
        let rows = all(
            &self.conn,
            &format!(
                "SELECT id, kind, patron_id, payload, created_at, expires_at, sent_at FROM outbox \
                 {filter} ORDER BY id LIMIT ?"
            ),
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
                        expires_at: get(r, "expires_at").map_err(infra(C))?,
                    },
                    sent_at: get(r, "sent_at").map_err(infra(C))?,
                })
            })
            .collect()
    }

    /// Marks notification `id` sent on `channels` (a secret in its payload wiped); `false`
    /// if it was already sent or does not exist.
    pub async fn mark_sent(
        &self,
        id: i64,
        at: OffsetDateTime,
        channels: &[&str],
    ) -> Result<bool, StoreError> {
        let n = exec(
            &self.conn,
            "UPDATE outbox SET sent_at = ?, claimed_until = NULL, channel = ?, payload = CASE \
             WHEN kind = ? THEN '{}' ELSE payload END \
             WHERE id = ? AND sent_at IS NULL",
            vec![
                instant::value(self.conn.get_database_backend(), at),
                channel_list(channels),
                SECRET_KIND.into(),
                id.into(),
            ],
        )
        .await
        .map_err(store_err("mark notification sent"))?;
        Ok(n == 1)
    }
}

/// The kind whose payload holds a secret that must not outlive the sending (the temporary
/// password): wiped when the message is sent or given up.
const SECRET_KIND: &str = library_app::kind::TEMPORARY_PASSWORD;

/// `email,sms` as the `channel` column keeps it; NULL for none.
fn channel_list(channels: &[&str]) -> Value {
    Value::String((!channels.is_empty()).then(|| channels.join(",")))
}

impl OutboxStore {
    /// Claims up to `limit` messages due at `now` until `now + lease`, oldest first: unsent,
    /// not given up, not waiting for a retry, not claimed by a sender whose lease still
    /// runs. On PostgreSQL rows another sender is claiming are skipped (`SKIP LOCKED`); on
    /// SQLite the claim runs under the write lock.
    pub async fn claim(
        &self,
        now: OffsetDateTime,
        lease: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<QueuedMessage>, StoreError> {
        const C: &str = "claim outbox messages";
        let backend = self.conn.get_database_backend();
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let skip_locked = match backend {
            sea_orm::DbBackend::Postgres => " FOR UPDATE SKIP LOCKED",
            _ => "",
        };
        let rows = all(
            &txn,
            &format!(
                "UPDATE outbox SET claimed_until = ? WHERE id IN (\
                 SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL \
                 AND (next_attempt_at IS NULL OR next_attempt_at <= ?) \
                 AND (claimed_until IS NULL OR claimed_until <= ?) \
                 ORDER BY id LIMIT ?{skip_locked}) \
                 RETURNING id, kind, patron_id, payload, attempts, channel"
            ),
            vec![
                instant::value(backend, now + lease),
                instant::value(backend, now),
                instant::value(backend, now),
                i64::from(limit).into(),
            ],
        )
        .await
        .map_err(store_err(C))?;
        let mut claimed = rows
            .iter()
            .map(|r| {
                Ok(QueuedMessage {
                    id: get(r, "id").map_err(infra(C))?,
                    kind: get(r, "kind").map_err(infra(C))?,
                    patron: get::<Option<i64>>(r, "patron_id")
                        .map_err(infra(C))?
                        .map(PatronId),
                    payload: get(r, "payload").map_err(infra(C))?,
                    attempts: u32::try_from(get::<i64>(r, "attempts").map_err(infra(C))?)
                        .unwrap_or(u32::MAX),
                    channels: split_channels(get(r, "channel").map_err(infra(C))?),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        txn.commit().await.map_err(store_err(C))?;
        claimed.sort_by_key(|m| m.id);
        Ok(claimed)
    }

    /// Records a failed attempt of message `id`: `attempts` in all, the reason, the next
    /// try at `retry_at` and the channels it went by so far; given up at `now` when
    /// `retry_at` is `None` (and a secret in its payload wiped).
    pub async fn failed(
        &self,
        id: i64,
        failure: library_app::Failure<'_>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let backend = self.conn.get_database_backend();
        let given_up = failure.retry_at.is_none().then_some(now);
        exec(
            &self.conn,
            "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ?, \
             failed_at = ?, claimed_until = NULL, channel = ?, payload = CASE \
             WHEN ? AND kind = ? THEN '{}' ELSE payload END \
             WHERE id = ? AND sent_at IS NULL",
            vec![
                i64::from(failure.attempts).into(),
                failure.reason.chars().take(500).collect::<String>().into(),
                instant::optional(backend, failure.retry_at),
                instant::optional(backend, given_up),
                channel_list(failure.channels),
                given_up.is_some().into(),
                SECRET_KIND.into(),
                id.into(),
            ],
        )
        .await
        .map_err(store_err("record a failed delivery"))?;
        Ok(())
    }

    /// Deletes the messages sent before `before`; how many.
    pub async fn purge_sent(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        exec(
            &self.conn,
            "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?",
            vec![instant::value(self.conn.get_database_backend(), before)],
        )
        .await
        .map_err(store_err("purge sent messages"))
    }

    /// Gives up the unsent messages whose `expires_at` is past at `now`, wiping a secret in
    /// their payload; how many.
    pub async fn expire(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let backend = self.conn.get_database_backend();
        exec(
            &self.conn,
            "UPDATE outbox SET failed_at = ?, claimed_until = NULL, payload = '{}', \
             last_error = 'expired before it was sent' \
             WHERE expires_at IS NOT NULL AND expires_at <= ? \
             AND sent_at IS NULL AND failed_at IS NULL",
            vec![instant::value(backend, now), instant::value(backend, now)],
        )
        .await
        .map_err(store_err("expire unsent messages"))
    }

    /// The messages for `patron`, newest first: `limit` from `offset`, and how many in all.
    pub async fn of_patron(
        &self,
        patron: PatronId,
        limit: u32,
        offset: u64,
    ) -> Result<Page<NoticeRow>, StoreError> {
        const C: &str = "read a reader's messages";
        page(
            &self.conn,
            C,
            (
                "SELECT COUNT(*) AS n FROM outbox WHERE patron_id = ?",
                "SELECT id, kind, channel, created_at, sent_at, failed_at, next_attempt_at, \
                 attempts, last_error FROM outbox WHERE patron_id = ? ORDER BY id DESC",
            ),
            vec![patron.get().into()],
            (limit, offset),
            |r| {
                Ok(NoticeRow {
                    id: get(r, "id").map_err(infra(C))?,
                    kind: get(r, "kind").map_err(infra(C))?,
                    channels: split_channels(get(r, "channel").map_err(infra(C))?),
                    created_at: get(r, "created_at").map_err(infra(C))?,
                    sent_at: get(r, "sent_at").map_err(infra(C))?,
                    failed_at: get(r, "failed_at").map_err(infra(C))?,
                    next_attempt_at: get(r, "next_attempt_at").map_err(infra(C))?,
                    attempts: u32::try_from(get::<i64>(r, "attempts").map_err(infra(C))?)
                        .unwrap_or(u32::MAX),
                    last_error: get(r, "last_error").map_err(infra(C))?,
                })
            },
        )
        .await
    }

    /// How many messages wait to be sent (neither sent nor given up).
    pub async fn waiting(&self) -> Result<u64, StoreError> {
        count(
            &self.conn,
            "count waiting messages",
            "SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
            vec![],
        )
        .await
    }
}

/// A message as its reader and staff see it (never its payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    /// Its id.
    pub id: i64,
    /// Its kind.
    pub kind: String,
    /// The channels it went by.
    pub channels: Vec<String>,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// When it was sent.
    pub sent_at: Option<OffsetDateTime>,
    /// When it was given up.
    pub failed_at: Option<OffsetDateTime>,
    /// When it is tried next (after a failure).
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Failed attempts.
    pub attempts: u32,
    /// The last failure's reason.
    pub last_error: Option<String>,
}

/// The `channel` column as a list.
fn split_channels(column: Option<String>) -> Vec<String> {
    column
        .map(|c| {
            c.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A message as the sender claims it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    /// Its id.
    pub id: i64,
    /// Its kind.
    pub kind: String,
    /// The reader it is for.
    pub patron: Option<PatronId>,
    /// Its payload (JSON).
    pub payload: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The channels it went by already.
    pub channels: Vec<String>,
}

/// Queues `n` on `conn` (the pool, or a transaction: then it is queued only if that
/// commits); its id.
pub(crate) async fn insert_notification(
    conn: &impl sea_orm::ConnectionTrait,
    n: &NewNotification,
) -> Result<i64, sea_orm::DbErr> {
    insert_returning_id(
        conn,
        "INSERT INTO outbox (kind, patron_id, payload, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?) RETURNING id",
        vec![
            n.kind.as_str().into(),
            Value::BigInt(n.patron.map(|p| p.get())),
            n.payload.as_str().into(),
            instant::value(conn.get_database_backend(), n.created_at),
            instant::optional(conn.get_database_backend(), n.expires_at),
        ],
    )
    .await
}
