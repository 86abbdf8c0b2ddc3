//! Extension activities and readers' registrations ("My Info"; docs/http.md, Reader
//! services).
//!
//! Capacity is exact under concurrency on both backends: a registration runs in one write
//! transaction that first locks the activity's row (`SELECT … FOR NO KEY UPDATE` on
//! PostgreSQL; SQLite's `BEGIN IMMEDIATE` holds the database's write lock), then counts
//! the places taken and lets `library-reader-services` decide
//! ([`Activity::registration_refusal`]). At READ COMMITTED every statement after the lock
//! wait sees the previous winner's commit, so N parallel registrations for C places make
//! exactly C registrations. The unique (activity, reader) row is the last line of defence
//! against a double registration.

use std::sync::Arc;

use library_circulation::ports::InfrastructureError;
use library_core::{CardNumber, LibraryCode, PatronId};
use library_reader_services::{
    Activity, ActivityId, ActivityListing, ActivityQuery, ActivityType, CancellationRefusal,
    NewActivity, Page, ReaderRegistration, Registrant, RegistrationRefusal,
};
use sea_orm::{ConnectionTrait, QueryResult};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use crate::audit_store::{NewAuditEntry, insert_audit_entry};
use crate::error::StoreError;
use crate::instant;
use crate::pool::Pool;
use crate::sql::{
    all, corrupt, exec, get, infra, insert_returning_id, lock_clause, one, page, store_err, to_u32,
};

const ACTIVITY_SELECT: &str = "SELECT a.id, a.library_code, a.title, a.activity_type, a.venue, \
     a.description, a.starts_at, a.ends_at, a.capacity, a.registration_closes_at, \
     a.cancelled_at, l.name AS library_name, l.name_zh AS library_name_zh, \
     (SELECT COUNT(*) FROM activity_registrations r WHERE r.activity_id = a.id \
      AND r.cancelled_at IS NULL) AS registered \
     FROM activities a JOIN libraries l ON l.code = a.library_code";

fn listing(row: &QueryResult) -> Result<ActivityListing, InfrastructureError> {
    const C: &str = "read activity";
    let library: String = get(row, "library_code").map_err(infra(C))?;
    let activity_type: String = get(row, "activity_type").map_err(infra(C))?;
    let details = NewActivity {
        library: LibraryCode::parse(&library).map_err(|e| corrupt(C, e))?,
        title: get(row, "title").map_err(infra(C))?,
        activity_type: ActivityType::parse(&activity_type)
            .ok_or_else(|| corrupt(C, format_args!("activity type {activity_type:?}")))?,
        venue: get(row, "venue").map_err(infra(C))?,
        description: get(row, "description").map_err(infra(C))?,
        starts_at: get(row, "starts_at").map_err(infra(C))?,
        ends_at: get(row, "ends_at").map_err(infra(C))?,
        capacity: to_u32(C, get(row, "capacity").map_err(infra(C))?)?,
        registration_closes_at: get(row, "registration_closes_at").map_err(infra(C))?,
    };
    Ok(ActivityListing {
        activity: Activity {
            id: ActivityId(get(row, "id").map_err(infra(C))?),
            details,
            registered: to_u32(C, get(row, "registered").map_err(infra(C))?)?,
            cancelled_at: get(row, "cancelled_at").map_err(infra(C))?,
        },
        library_name: get(row, "library_name").map_err(infra(C))?,
        library_name_zh: get(row, "library_name_zh").map_err(infra(C))?,
    })
}

/// Whether library `code` exists (read on `conn`).
pub(crate) async fn library_exists(
    conn: &impl ConnectionTrait,
    code: &LibraryCode,
) -> Result<bool, StoreError> {
    Ok(one(
        conn,
        "SELECT code FROM libraries WHERE code = ?",
        vec![code.as_str().into()],
    )
    .await
    .map_err(store_err("read library"))?
    .is_some())
}

/// Activities and registrations in the database.
#[derive(Debug, Clone)]
pub struct ActivityStore {
    conn: Pool,
    gate: Arc<Semaphore>,
}

impl ActivityStore {
    pub(crate) fn new(conn: Pool, gate: Arc<Semaphore>) -> Self {
        Self { conn, gate }
    }

    /// Stores a new activity; its id. An unknown library is
    /// [`StoreError::NotFound`]`("library")`. `audit`, when given, makes the audit entry of
    /// the id, written in the same transaction: the entry exists exactly when the activity
    /// does.
    pub async fn create(
        &self,
        activity: &NewActivity,
        now: OffsetDateTime,
        audit: Option<&(dyn Fn(ActivityId) -> NewAuditEntry + Send + Sync)>,
    ) -> Result<ActivityId, StoreError> {
        const C: &str = "create activity";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        if !library_exists(&txn, &activity.library).await? {
            return Err(StoreError::NotFound("library"));
        }
        let backend = txn.get_database_backend();
        let id = insert_returning_id(
            &txn,
            "INSERT INTO activities (library_code, title, activity_type, venue, description, \
             starts_at, ends_at, capacity, registration_closes_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            vec![
                activity.library.as_str().into(),
                activity.title.as_str().into(),
                activity.activity_type.as_str().into(),
                activity.venue.as_str().into(),
                activity.description.as_str().into(),
                instant::value(backend, activity.starts_at),
                instant::value(backend, activity.ends_at),
                i64::from(activity.capacity).into(),
                instant::value(backend, activity.registration_closes_at),
                instant::value(backend, now),
            ],
        )
        .await
        .map(ActivityId)
        .map_err(store_err(C))?;
        if let Some(entry) = audit {
            insert_audit_entry(&txn, &entry(id))
                .await
                .map_err(store_err(C))?;
        }
        txn.commit().await.map_err(store_err(C))?;
        Ok(id)
    }

    /// One activity with its library's names and the places taken.
    pub async fn get(&self, id: ActivityId) -> Result<Option<ActivityListing>, StoreError> {
        read(&self.conn, id).await
    }

    /// Activities beginning at or after `query.starting_from`, by start then id, one page.
    pub async fn list(&self, query: &ActivityQuery) -> Result<Page<ActivityListing>, StoreError> {
        const C: &str = "list activities";
        let backend = self.conn.get_database_backend();
        let mut condition = String::from(" WHERE a.starts_at >= ?");
        let mut values = vec![instant::value(backend, query.starting_from)];
        if let Some(library) = &query.library {
            condition.push_str(" AND a.library_code = ?");
            values.push(library.as_str().into());
        }
        if !query.include_cancelled {
            condition.push_str(" AND a.cancelled_at IS NULL");
        }
        page(
            &self.conn,
            C,
            (
                &format!("SELECT COUNT(*) AS n FROM activities a{condition}"),
                &format!("{ACTIVITY_SELECT}{condition} ORDER BY a.starts_at, a.id"),
            ),
            values,
            (query.limit, query.offset),
            listing,
        )
        .await
    }

    /// Cancels activity `id` at `at`; the readers registered for it (to tell them), or
    /// `None` if it was cancelled already. Unknown: [`StoreError::NotFound`]. `audit`, when
    /// given, is written in the same transaction when the activity is cancelled.
    pub async fn cancel(
        &self,
        id: ActivityId,
        at: OffsetDateTime,
        audit: Option<&NewAuditEntry>,
    ) -> Result<Option<Vec<PatronId>>, StoreError> {
        const C: &str = "cancel activity";
        let txn = self
            .conn
            .begin_gated(&self.gate)
            .await
            .map_err(store_err(C))?;
        let activity = lock(&txn, id).await?;
        if activity.activity.cancelled_at.is_some() {
            return Ok(None);
        }
        exec(
            &txn,
            "UPDATE activities SET cancelled_at = ? WHERE id = ?",
            vec![
                instant::value(txn.get_database_backend(), at),
                id.get().into(),
            ],
        )
        .await
        .map_err(store_err(C))?;
        let readers = all(
            &txn,
            "SELECT patron_id FROM activity_registrations WHERE activity_id = ? \
             AND cancelled_at IS NULL ORDER BY id",
            vec![id.get().into()],
        )
        .await
        .map_err(store_err(C))?
        .iter()
        .map(|r| get::<i64>(r, "patron_id").map(PatronId))
        .collect::<Result<Vec<_>, _>>()
        .map_err(infra(C))?;
        if let Some(entry) = audit {
            insert_audit_entry(&txn, entry)
                .await
                .map_err(store_err(C))?;
        }
        txn.commit().await.map_err(store_err(C))?;
        Ok(Some(readers))
    }

    /// Registers reader `patron` for activity `id` at `now`: the activity as it is after
    /// the registration, or why it was refused. Unknown activity: [`StoreError::NotFound`].
    pub async fn register(
        &self,
        id: ActivityId,
        patron: PatronId,
        now: OffsetDateTime,
    ) -> Result<Result<Activity, RegistrationRefusal>, StoreError> {
        const C: &str = "register for activity";
        let txn = self
            .conn
            .begin_gated(&self.gate)
            .await
            .map_err(store_err(C))?;
        let mut activity = lock(&txn, id).await?.activity;
        let existing = registration(&txn, id, patron).await?;
        let already = matches!(existing, Some((_, None)));
        if let Some(refusal) = activity.registration_refusal(now, already) {
            return Ok(Err(refusal));
        }
        let backend = txn.get_database_backend();
        match existing {
            Some((row_id, _)) => exec(
                &txn,
                "UPDATE activity_registrations SET cancelled_at = NULL, registered_at = ? \
                 WHERE id = ?",
                vec![instant::value(backend, now), row_id.into()],
            )
            .await
            .map_err(store_err(C))?,
            None => exec(
                &txn,
                "INSERT INTO activity_registrations (activity_id, patron_id, registered_at) \
                 VALUES (?, ?, ?)",
                vec![
                    id.get().into(),
                    patron.get().into(),
                    instant::value(backend, now),
                ],
            )
            .await
            .map_err(store_err(C))?,
        };
        txn.commit().await.map_err(store_err(C))?;
        activity.registered += 1;
        Ok(Ok(activity))
    }

    /// Cancels reader `patron`'s registration for activity `id` at `now`, or says why it
    /// may not be. No such activity, or no registration of theirs:
    /// [`StoreError::NotFound`].
    pub async fn cancel_registration(
        &self,
        id: ActivityId,
        patron: PatronId,
        now: OffsetDateTime,
    ) -> Result<Result<(), CancellationRefusal>, StoreError> {
        const C: &str = "cancel registration";
        let txn = self
            .conn
            .begin_gated(&self.gate)
            .await
            .map_err(store_err(C))?;
        let activity = lock(&txn, id).await?.activity;
        let Some((row_id, None)) = registration(&txn, id, patron).await? else {
            return Err(StoreError::NotFound("registration"));
        };
        if let Some(refusal) = activity.cancellation_refusal(now) {
            return Ok(Err(refusal));
        }
        exec(
            &txn,
            "UPDATE activity_registrations SET cancelled_at = ? WHERE id = ?",
            vec![
                instant::value(txn.get_database_backend(), now),
                row_id.into(),
            ],
        )
        .await
        .map_err(store_err(C))?;
        txn.commit().await.map_err(store_err(C))?;
        Ok(Ok(()))
    }

    /// Reader `patron`'s registrations (cancelled ones included) for activities ending at
    /// or after `ended_since`, by start then id.
    pub async fn registrations_of(
        &self,
        patron: PatronId,
        ended_since: OffsetDateTime,
    ) -> Result<Vec<ReaderRegistration>, StoreError> {
        const C: &str = "read registrations of reader";
        let sql = format!(
            "SELECT x.*, r.registered_at AS my_registered_at, r.cancelled_at AS my_cancelled_at \
             FROM activity_registrations r JOIN ({ACTIVITY_SELECT}) x ON x.id = r.activity_id \
             WHERE r.patron_id = ? AND x.ends_at >= ? ORDER BY x.starts_at, x.id"
        );
        let backend = self.conn.get_database_backend();
        let rows = all(
            &self.conn,
            &sql,
            vec![patron.get().into(), instant::value(backend, ended_since)],
        )
        .await
        .map_err(store_err(C))?;
        rows.iter()
            .map(|row| {
                Ok(ReaderRegistration {
                    listing: listing(row)?,
                    patron,
                    registered_at: get(row, "my_registered_at").map_err(infra(C))?,
                    cancelled_at: get(row, "my_cancelled_at").map_err(infra(C))?,
                })
            })
            .collect::<Result<_, InfrastructureError>>()
            .map_err(StoreError::from)
    }
}

impl ActivityStore {
    /// Everyone registered for activity `id` (cancelled registrations included), by
    /// registration time; `None` if there is no such activity.
    pub async fn registrants(&self, id: ActivityId) -> Result<Option<Vec<Registrant>>, StoreError> {
        const C: &str = "read registrants of activity";
        if read(&self.conn, id).await?.is_none() {
            return Ok(None);
        }
        let rows = all(
            &self.conn,
            "SELECT r.patron_id, p.card_number, p.name, p.phone, r.registered_at, \
             r.cancelled_at FROM activity_registrations r JOIN patrons p ON p.id = r.patron_id \
             WHERE r.activity_id = ? ORDER BY r.registered_at, r.id",
            vec![id.get().into()],
        )
        .await
        .map_err(store_err(C))?;
        rows.iter()
            .map(|row| {
                let card: String = get(row, "card_number").map_err(infra(C))?;
                Ok(Registrant {
                    patron: PatronId(get(row, "patron_id").map_err(infra(C))?),
                    card_number: CardNumber::parse(&card).map_err(|_| corrupt(C, "card number"))?,
                    name: get(row, "name").map_err(infra(C))?,
                    phone: get(row, "phone").map_err(infra(C))?,
                    registered_at: get(row, "registered_at").map_err(infra(C))?,
                    cancelled_at: get(row, "cancelled_at").map_err(infra(C))?,
                })
            })
            .collect::<Result<_, InfrastructureError>>()
            .map(Some)
            .map_err(StoreError::from)
    }
}

async fn read(
    conn: &impl ConnectionTrait,
    id: ActivityId,
) -> Result<Option<ActivityListing>, StoreError> {
    let row = one(
        conn,
        &format!("{ACTIVITY_SELECT} WHERE a.id = ?"),
        vec![id.get().into()],
    )
    .await
    .map_err(store_err("read activity"))?;
    Ok(row.map(|r| listing(&r)).transpose()?)
}

/// Locks activity `id`'s row, then reads it (the count after the lock sees every earlier
/// winner's commit). Unknown: [`StoreError::NotFound`].
async fn lock(conn: &impl ConnectionTrait, id: ActivityId) -> Result<ActivityListing, StoreError> {
    let sql = format!(
        "SELECT id FROM activities WHERE id = ?{}",
        lock_clause(conn.get_database_backend())
    );
    one(conn, &sql, vec![id.get().into()])
        .await
        .map_err(store_err("lock activity"))?
        .ok_or(StoreError::NotFound("activity"))?;
    read(conn, id)
        .await?
        .ok_or(StoreError::NotFound("activity"))
}

/// Reader `patron`'s registration row for activity `id`: its row id and when it was
/// cancelled (`None` while active).
async fn registration(
    conn: &impl ConnectionTrait,
    id: ActivityId,
    patron: PatronId,
) -> Result<Option<(i64, Option<OffsetDateTime>)>, StoreError> {
    const C: &str = "read registration";
    let row = one(
        conn,
        "SELECT id, cancelled_at FROM activity_registrations WHERE activity_id = ? \
         AND patron_id = ?",
        vec![id.get().into(), patron.get().into()],
    )
    .await
    .map_err(store_err(C))?;
    row.map(|r| {
        Ok((
            get(&r, "id").map_err(infra(C))?,
            get(&r, "cancelled_at").map_err(infra(C))?,
        ))
    })
    .transpose()
    .map_err(|e: InfrastructureError| e.into())
}
