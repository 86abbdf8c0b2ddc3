//! The messages readers are sent (mail, SMS): what was sent to me, what was sent to a reader
//! (staff), and the preview of a day's volume (staff).

use library_app::{NoticeRecord, Services};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use time::{Date, OffsetDateTime};

use super::ApiTags;
use super::activities::{paging, reader};
use super::common::{reader_by_card, shown, today};
use super::types::{Int, Text};
use crate::auth::{ReaderAuth, StaffAuth};
use crate::error::ApiError;

/// A message to a reader, without what it said.
#[derive(Debug, Object)]
struct SentNoticeBody {
    id: i64,
    /// What it is: `loan.due_soon`, `loan.overdue_alert`, `loan.overdue_notice`,
    /// `hold.waiting`, `hold.expired`, `hold.not_needed`, `enquiry.answered`,
    /// `activity.cancelled`,
    /// `credentials.temporary_password`, `credentials.password_changed`,
    /// `credentials.pin_changed`, `credentials.password_reset_by_staff`,
    /// `settings.email_changed`.
    kind: String,
    /// The channels it went by: `email`, `sms` (empty while none).
    channels: Vec<String>,
    /// `queued`, `retrying`, `sent` or `not_sent`.
    status: String,
    queued_at: OffsetDateTime,
    #[oai(nullable)]
    sent_at: Option<OffsetDateTime>,
    /// Failed attempts so far.
    attempts: u32,
    /// Why it is retrying or was not sent.
    #[oai(nullable)]
    reason: Option<String>,
}

fn sent_notice(n: NoticeRecord) -> SentNoticeBody {
    SentNoticeBody {
        id: n.id,
        kind: n.kind,
        channels: n.channels,
        status: n.status.code().to_owned(),
        queued_at: shown(n.queued_at),
        sent_at: n.sent_at.map(shown),
        attempts: n.attempts,
        reason: n.reason,
    }
}

/// `GET /me/notices/sent`, `GET /patrons/{card_number}/notices`.
#[derive(Debug, Object)]
struct SentNoticesBody {
    notices: Vec<SentNoticeBody>,
    /// How many there are, over all pages.
    total: u64,
}

/// One kind's count in a preview.
#[derive(Debug, Object)]
struct PreviewKindBody {
    /// `loan.due_soon`, `loan.overdue_alert` or `loan.overdue_notice`.
    kind: String,
    count: u64,
}

/// `GET /notices/outbox/preview`.
#[derive(Debug, Object)]
struct OutboxPreviewBody {
    /// The day previewed (library-local).
    date: Date,
    /// The reminders the scheduled job would queue that day, per kind, for the loans open
    /// now (those already sent one not counted).
    reminders: Vec<PreviewKindBody>,
    /// Messages already waiting in the outbox (queued or retrying).
    waiting: u64,
    /// Reminders plus waiting.
    total: u64,
}

pub(crate) struct MessagesApi {
    state: Services,
}

impl MessagesApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }

    async fn page(
        &self,
        patron: library_core::PatronId,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Json<SentNoticesBody>, ApiError> {
        let (limit, offset) = paging(limit, offset)?;
        let page = self.state.notices_of(patron, limit, offset).await?;
        Ok(Json(SentNoticesBody {
            notices: page.items.into_iter().map(sent_notice).collect(),
            total: page.total,
        }))
    }
}

#[OpenApi(prefix_path = "/api/v1")]
impl MessagesApi {
    /// The messages sent to me (Password session), newest first, with their channel and
    /// status; never what they said. Paged with `limit` (1–100, default 20) and `offset`.
    #[oai(path = "/me/notices/sent", method = "get", tag = "ApiTags::Me")]
    async fn mine(
        &self,
        auth: ReaderAuth,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<Int>>,
        #[oai(validator(minimum(value = "0")))] offset: Query<Option<Int>>,
    ) -> Result<Json<SentNoticesBody>, ApiError> {
        let patron = reader(&auth.0)?;
        self.page(patron, Int::get(limit.0), Int::get(offset.0))
            .await
    }

    /// The messages sent to a reader (staff), as the reader sees them in
    /// `GET /me/notices/sent`. 404 for an unknown card.
    #[oai(
        path = "/patrons/:card_number/notices",
        method = "get",
        tag = "ApiTags::Staff"
    )]
    async fn of_reader(
        &self,
        _auth: StaffAuth,
        card_number: Path<Text>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<Int>>,
        #[oai(validator(minimum(value = "0")))] offset: Query<Option<Int>>,
    ) -> Result<Json<SentNoticesBody>, ApiError> {
        let patron = reader_by_card(&self.state, &card_number.0).await?;
        self.page(patron, Int::get(limit.0), Int::get(offset.0))
            .await
    }

    /// The volume of a day (staff): how many due reminders, overdue alerts and first
    /// overdue notices the scheduled job would queue on `date` (default tomorrow) for the
    /// loans open now, and how many messages already wait. An administrator sees the flood
    /// before a reopening day.
    #[oai(
        path = "/notices/outbox/preview",
        method = "get",
        tag = "ApiTags::Notices"
    )]
    async fn preview(
        &self,
        _auth: StaffAuth,
        date: Query<Option<Date>>,
    ) -> Result<Json<OutboxPreviewBody>, ApiError> {
        let date = match date.0 {
            Some(date) => date,
            None => today(&self.state)
                .next_day()
                .ok_or_else(|| ApiError::validation_failed(vec!["date_out_of_range"]))?,
        };
        let preview = self.state.outbox_preview(date).await?;
        Ok(Json(OutboxPreviewBody {
            date: preview.date,
            total: preview.total(),
            reminders: preview
                .reminders
                .iter()
                .map(|(kind, count)| PreviewKindBody {
                    kind: kind.kind().to_owned(),
                    count: *count,
                })
                .collect(),
            waiting: preview.waiting,
        }))
    }
}
