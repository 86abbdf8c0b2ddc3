//! Library notices ("My Info", library information; docs/http.md): published by staff for
//! one library or every library, shown to readers while current, withdrawn by staff.

use library_circulation::ports::InfrastructureError;
use library_core::LibraryCode;
use library_reader_services::{NewNotice, Notice, NoticeId, NoticeListing, Page};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use time::{Date, OffsetDateTime};

use crate::activity_store::library_exists;
use crate::audit_store::{NewAuditEntry, insert_audit_entry};
use crate::error::StoreError;
use crate::instant;
use crate::pool::Pool;
use crate::sql::{all, corrupt, exec, get, infra, insert_returning_id, one, page, store_err};

const NOTICE_SELECT: &str = "SELECT n.id, n.library_code, n.title, n.body, n.title_zh, n.body_zh, n.published_on, \
     n.expires_on, n.created_at, n.withdrawn_at, l.name AS library_name, \
     l.name_zh AS library_name_zh \
     FROM notices n LEFT JOIN libraries l ON l.code = n.library_code";

fn listing(row: &QueryResult) -> Result<NoticeListing, InfrastructureError> {
    const C: &str = "read notice";
    let library: Option<String> = get(row, "library_code").map_err(infra(C))?;
    let library = library
        .map(|code| LibraryCode::parse(&code).map_err(|e| corrupt(C, e)))
        .transpose()?;
    Ok(NoticeListing {
        notice: Notice {
            id: NoticeId(get(row, "id").map_err(infra(C))?),
            details: NewNotice {
                library,
                title: get(row, "title").map_err(infra(C))?,
                body: get(row, "body").map_err(infra(C))?,
                title_zh: get(row, "title_zh").map_err(infra(C))?,
                body_zh: get(row, "body_zh").map_err(infra(C))?,
                published_on: get(row, "published_on").map_err(infra(C))?,
                expires_on: get(row, "expires_on").map_err(infra(C))?,
            },
            created_at: get(row, "created_at").map_err(infra(C))?,
            withdrawn_at: get(row, "withdrawn_at").map_err(infra(C))?,
        },
        library_name: get(row, "library_name").map_err(infra(C))?,
        library_name_zh: get(row, "library_name_zh").map_err(infra(C))?,
    })
}

/// Inserts `notice`, published at `now`, on `conn` (a transaction of the caller's); its id.
pub(crate) async fn insert_notice(
    conn: &impl ConnectionTrait,
    notice: &NewNotice,
    now: OffsetDateTime,
) -> Result<NoticeId, sea_orm::DbErr> {
    let backend = conn.get_database_backend();
    insert_returning_id(
        conn,
        "INSERT INTO notices (library_code, title, body, title_zh, body_zh, published_on, \
         expires_on, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        vec![
            Value::String(notice.library.as_ref().map(|l| l.as_str().to_owned())),
            notice.title.as_str().into(),
            notice.body.as_str().into(),
            Value::String(notice.title_zh.clone()),
            Value::String(notice.body_zh.clone()),
            Value::TimeDate(Some(notice.published_on)),
            Value::TimeDate(notice.expires_on),
            instant::value(backend, now),
        ],
    )
    .await
    .map(NoticeId)
}

/// Notices in the database.
#[derive(Debug, Clone)]
pub struct NoticeStore {
    conn: Pool,
}

impl NoticeStore {
    pub(crate) fn new(conn: Pool) -> Self {
        Self { conn }
    }

    /// Publishes a notice; its id. An unknown library is
    /// [`StoreError::NotFound`]`("library")`. `audit`, when given, makes the audit entry of
    /// the id, written in the same transaction: the entry exists exactly when the notice
    /// does.
    pub async fn publish(
        &self,
        notice: &NewNotice,
        now: OffsetDateTime,
        audit: Option<&(dyn Fn(NoticeId) -> NewAuditEntry + Send + Sync)>,
    ) -> Result<NoticeId, StoreError> {
        const C: &str = "publish notice";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        if let Some(library) = &notice.library
            && !library_exists(&txn, library).await?
        {
            return Err(StoreError::NotFound("library"));
        }
        let id = insert_notice(&txn, notice, now)
            .await
            .map_err(store_err(C))?;
        if let Some(entry) = audit {
            insert_audit_entry(&txn, &entry(id))
                .await
                .map_err(store_err(C))?;
        }
        txn.commit().await.map_err(store_err(C))?;
        Ok(id)
    }

    /// Withdraws notice `id` at `at`; `false` if it was withdrawn already. Unknown:
    /// [`StoreError::NotFound`]. `audit`, when given, is written in the same transaction
    /// when the notice is withdrawn.
    pub async fn withdraw(
        &self,
        id: NoticeId,
        at: OffsetDateTime,
        audit: Option<&NewAuditEntry>,
    ) -> Result<bool, StoreError> {
        const C: &str = "withdraw notice";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let changed = exec(
            &txn,
            "UPDATE notices SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL",
            vec![
                instant::value(txn.get_database_backend(), at),
                id.get().into(),
            ],
        )
        .await
        .map_err(store_err(C))?;
        if changed == 1 {
            if let Some(entry) = audit {
                insert_audit_entry(&txn, entry)
                    .await
                    .map_err(store_err(C))?;
            }
            txn.commit().await.map_err(store_err(C))?;
            return Ok(true);
        }
        let exists = one(
            &txn,
            "SELECT id FROM notices WHERE id = ?",
            vec![id.get().into()],
        )
        .await
        .map_err(store_err(C))?
        .is_some();
        if exists {
            Ok(false)
        } else {
            Err(StoreError::NotFound("notice"))
        }
    }

    /// The notices current on `today` (library-local) for a reader of library `home`:
    /// those of that library and those for every library, newest first (publication date,
    /// then id).
    pub async fn current_for(
        &self,
        home: Option<&LibraryCode>,
        today: Date,
    ) -> Result<Vec<NoticeListing>, StoreError> {
        let sql = format!(
            "{NOTICE_SELECT} WHERE n.withdrawn_at IS NULL AND n.published_on <= ? \
             AND (n.expires_on IS NULL OR n.expires_on >= ?) \
             AND (n.library_code IS NULL OR n.library_code = ?) \
             ORDER BY n.published_on DESC, n.id DESC"
        );
        let rows = all(
            &self.conn,
            &sql,
            vec![
                Value::TimeDate(Some(today)),
                Value::TimeDate(Some(today)),
                Value::String(home.map(|h| h.as_str().to_owned())),
            ],
        )
        .await
        .map_err(store_err("read current notices"))?;
        let notices = rows.iter().map(listing).collect::<Result<Vec<_>, _>>()?;
        // The domain's rule decides; the SQL above only narrows the rows read.
        Ok(notices
            .into_iter()
            .filter(|n| n.notice.is_current(today) && n.notice.reaches(home))
            .collect())
    }

    /// Every notice, withdrawn and expired ones included, newest first (id), one page.
    pub async fn list(&self, limit: u32, offset: u64) -> Result<Page<NoticeListing>, StoreError> {
        const C: &str = "list notices";
        page(
            &self.conn,
            C,
            (
                "SELECT COUNT(*) AS n FROM notices",
                &format!("{NOTICE_SELECT} ORDER BY n.id DESC"),
            ),
            vec![],
            (limit, offset),
            listing,
        )
        .await
    }
}
