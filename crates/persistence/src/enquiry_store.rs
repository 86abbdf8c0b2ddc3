//! Ask a Librarian (docs/http.md, Reader services): readers' enquiries and staff answers.
//! An enquiry is answered once: the answer is a conditional update
//! (`WHERE answered_at IS NULL`), so two staff answering at once cannot both succeed.

use library_circulation::ports::InfrastructureError;
use library_core::{CardNumber, LibraryCode, PatronId, StaffId};
use library_reader_services::{
    Answer, Enquiry, EnquiryId, EnquiryStatus, NewEnquiry, Page, StaffEnquiry,
};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use time::OffsetDateTime;

use crate::activity_store::library_exists;
use crate::audit_store::{NewAuditEntry, insert_audit_entry};
use crate::error::StoreError;
use crate::instant;
use crate::outbox_store::{NewNotification, insert_notification};
use crate::pool::Pool;
use crate::sql::{all, corrupt, get, infra, insert_returning_id, one, page, store_err};

const ENQUIRY_SELECT: &str = "SELECT e.id, e.patron_id, e.library_code, e.subject, e.message, \
     e.created_at, e.answer, e.answered_at, e.answered_by, p.card_number, p.name \
     FROM enquiries e JOIN patrons p ON p.id = e.patron_id";

fn staff_enquiry(row: &QueryResult) -> Result<StaffEnquiry, InfrastructureError> {
    const C: &str = "read enquiry";
    let library: Option<String> = get(row, "library_code").map_err(infra(C))?;
    let answer_text: Option<String> = get(row, "answer").map_err(infra(C))?;
    let answered_at: Option<OffsetDateTime> = get(row, "answered_at").map_err(infra(C))?;
    let answer = match (answer_text, answered_at) {
        (Some(text), Some(answered_at)) => Some(Answer {
            text,
            answered_at,
            staff: get::<Option<i64>>(row, "answered_by")
                .map_err(infra(C))?
                .map(StaffId),
        }),
        _ => None,
    };
    let card: String = get(row, "card_number").map_err(infra(C))?;
    Ok(StaffEnquiry {
        enquiry: Enquiry {
            id: EnquiryId(get(row, "id").map_err(infra(C))?),
            patron: PatronId(get(row, "patron_id").map_err(infra(C))?),
            details: NewEnquiry {
                subject: get(row, "subject").map_err(infra(C))?,
                message: get(row, "message").map_err(infra(C))?,
                library: library
                    .map(|code| LibraryCode::parse(&code).map_err(|e| corrupt(C, e)))
                    .transpose()?,
            },
            created_at: get(row, "created_at").map_err(infra(C))?,
            answer,
        },
        card_number: CardNumber::parse(&card).map_err(|e| corrupt(C, e))?,
        reader_name: get(row, "name").map_err(infra(C))?,
    })
}

/// Enquiries in the database.
#[derive(Debug, Clone)]
pub struct EnquiryStore {
    conn: Pool,
}

impl EnquiryStore {
    pub(crate) fn new(conn: Pool) -> Self {
        Self { conn }
    }

    /// Stores reader `patron`'s enquiry made at `now`; its id. An unknown library is
    /// [`StoreError::NotFound`]`("library")`.
    pub async fn create(
        &self,
        patron: PatronId,
        enquiry: &NewEnquiry,
        now: OffsetDateTime,
    ) -> Result<EnquiryId, StoreError> {
        if let Some(library) = &enquiry.library
            && !library_exists(&self.conn, library).await?
        {
            return Err(StoreError::NotFound("library"));
        }
        let id = insert_returning_id(
            &self.conn,
            "INSERT INTO enquiries (patron_id, library_code, subject, message, created_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
            vec![
                patron.get().into(),
                Value::String(enquiry.library.as_ref().map(|l| l.as_str().to_owned())),
                enquiry.subject.as_str().into(),
                enquiry.message.as_str().into(),
                instant::value(self.conn.get_database_backend(), now),
            ],
        )
        .await
        .map_err(store_err("create enquiry"))?;
        Ok(EnquiryId(id))
    }

    /// One enquiry with who asked; `None` if there is none.
    pub async fn get(&self, id: EnquiryId) -> Result<Option<StaffEnquiry>, StoreError> {
        let row = one(
            &self.conn,
            &format!("{ENQUIRY_SELECT} WHERE e.id = ?"),
            vec![id.get().into()],
        )
        .await
        .map_err(store_err("read enquiry"))?;
        Ok(row.map(|r| staff_enquiry(&r)).transpose()?)
    }

    /// Reader `patron`'s enquiries, newest first.
    pub async fn of_patron(&self, patron: PatronId) -> Result<Vec<Enquiry>, StoreError> {
        let rows = all(
            &self.conn,
            &format!(
                "{ENQUIRY_SELECT} WHERE e.patron_id = ? ORDER BY e.created_at DESC, e.id DESC"
            ),
            vec![patron.get().into()],
        )
        .await
        .map_err(store_err("read enquiries of reader"))?;
        rows.iter()
            .map(|r| staff_enquiry(r).map(|e| e.enquiry))
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)
    }

    /// Enquiries (all, or those with `status`), oldest first, one page.
    pub async fn list(
        &self,
        status: Option<EnquiryStatus>,
        limit: u32,
        offset: u64,
    ) -> Result<Page<StaffEnquiry>, StoreError> {
        const C: &str = "list enquiries";
        let condition = match status {
            None => "",
            Some(EnquiryStatus::Open) => " WHERE e.answered_at IS NULL",
            Some(EnquiryStatus::Answered) => " WHERE e.answered_at IS NOT NULL",
        };
        page(
            &self.conn,
            C,
            (
                &format!("SELECT COUNT(*) AS n FROM enquiries e{condition}"),
                &format!("{ENQUIRY_SELECT}{condition} ORDER BY e.created_at, e.id"),
            ),
            vec![],
            (limit, offset),
            staff_enquiry,
        )
        .await
    }

    /// Answers enquiry `id`; `false` if it was answered already (the answer stays).
    /// Unknown: [`StoreError::NotFound`]. `audit`, when given, is written in the same
    /// transaction when the enquiry is answered.
    pub async fn answer(
        &self,
        id: EnquiryId,
        staff: Option<StaffId>,
        text: &str,
        at: OffsetDateTime,
        audit: Option<&NewAuditEntry>,
    ) -> Result<bool, StoreError> {
        const C: &str = "answer enquiry";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let answered = one(
            &txn,
            "UPDATE enquiries SET answer = ?, answered_at = ?, answered_by = ? \
             WHERE id = ? AND answered_at IS NULL RETURNING patron_id, subject",
            vec![
                text.into(),
                instant::value(txn.get_database_backend(), at),
                Value::BigInt(staff.map(StaffId::get)),
                id.get().into(),
            ],
        )
        .await
        .map_err(store_err(C))?;
        if let Some(row) = answered {
            // The reader is told in the same transaction: a notice exists exactly when the
            // answer does.
            let patron: i64 = get(&row, "patron_id").map_err(infra(C))?;
            let subject: String = get(&row, "subject").map_err(infra(C))?;
            insert_notification(
                &txn,
                &NewNotification {
                    kind: library_app::kind::ENQUIRY_ANSWERED.to_owned(),
                    patron: Some(PatronId(patron)),
                    payload: serde_json::json!({
                        "enquiry_id": id.get(),
                        "subject": subject,
                        "answer": text,
                    })
                    .to_string(),
                    created_at: at,
                    expires_at: None,
                },
            )
            .await
            .map_err(store_err(C))?;
            if let Some(entry) = audit {
                insert_audit_entry(&txn, entry)
                    .await
                    .map_err(store_err(C))?;
            }
            txn.commit().await.map_err(store_err(C))?;
            return Ok(true);
        }
        // Nothing changed: the transaction ends (rolled back) before the read.
        drop(txn);
        match self.get(id).await? {
            Some(_) => Ok(false),
            None => Err(StoreError::NotFound("enquiry")),
        }
    }
}
