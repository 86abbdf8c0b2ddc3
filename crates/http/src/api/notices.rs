//! Library notices ("My Info", library information): staff publish and withdraw them;
//! readers read the current ones of their home library and of every library.

use library_core::LibraryCode;
use library_reader_services::{NoticeForm, NoticeId, NoticeListing};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use time::{Date, OffsetDateTime};

use super::ApiTags;
use super::activities::{paging, reader};
use super::common::{IdBody, audit_record, shown, today};
use super::types::{Int, NoContent, Text};
use crate::auth::{ReaderAuth, StaffAuth};
use crate::error::ApiError;
use library_app::Services;

/// `POST /notices`.
#[derive(Debug, Object)]
struct NewNoticeRequest {
    /// The library publishing it; absent or `null` = every library.
    #[oai(nullable)]
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
    library_code: Option<Text>,
    /// At most 200 characters.
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 200
    ))]
    title: Text,
    /// At most 5,000 characters; line breaks allowed.
    #[oai(validator(
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$",
        max_length = 5000
    ))]
    body: Text,
    /// The title in Traditional Chinese (at most 200 characters); absent, `null` or blank:
    /// none.
    #[oai(nullable)]
    #[oai(validator(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$", max_length = 200))]
    title_zh: Option<Text>,
    /// The text in Traditional Chinese (at most 5,000 characters); absent, `null` or
    /// blank: none.
    #[oai(nullable)]
    #[oai(validator(max_length = 5000))]
    body_zh: Option<Text>,
    /// First day shown (library-local; default today; may be in the future).
    #[oai(nullable)]
    published_on: Option<Date>,
    /// Last day shown, inclusive (default: until withdrawn).
    #[oai(nullable)]
    expires_on: Option<Date>,
}

/// A notice.
#[derive(Debug, Object)]
struct NoticeBody {
    id: i64,
    /// `null` for a notice to every library.
    #[oai(nullable)]
    library_code: Option<String>,
    /// `null` for a notice to every library.
    #[oai(nullable)]
    library_name: Option<String>,
    /// `null` for a notice to every library.
    #[oai(nullable)]
    library_name_zh: Option<String>,
    title: String,
    body: String,
    /// The title in Traditional Chinese; `null` when the notice has none.
    #[oai(nullable)]
    title_zh: Option<String>,
    /// The text in Traditional Chinese; `null` when the notice has none.
    #[oai(nullable)]
    body_zh: Option<String>,
    published_on: Date,
    /// Last day shown; `null` = until withdrawn.
    #[oai(nullable)]
    expires_on: Option<Date>,
    /// Staff list only: when it was withdrawn.
    #[oai(nullable, skip_serializing_if_is_none)]
    withdrawn_at: Option<OffsetDateTime>,
}

fn notice_body(n: NoticeListing) -> NoticeBody {
    let d = n.notice.details;
    NoticeBody {
        id: n.notice.id.get(),
        library_code: d.library.as_ref().map(|l| l.as_str().to_owned()),
        library_name: n.library_name,
        library_name_zh: n.library_name_zh,
        title: d.title,
        body: d.body,
        title_zh: d.title_zh,
        body_zh: d.body_zh,
        published_on: d.published_on,
        expires_on: d.expires_on,
        withdrawn_at: n.notice.withdrawn_at.map(shown),
    }
}

/// `GET /me/notices`.
#[derive(Debug, Object)]
struct MyNoticesBody {
    notices: Vec<NoticeBody>,
}

/// `GET /staff/notices`.
#[derive(Debug, Object)]
struct NoticesPageBody {
    notices: Vec<NoticeBody>,
    /// How many there are, over all pages.
    total: u64,
}

#[derive(ApiResponse)]
enum Created {
    /// Published.
    #[oai(status = 201)]
    Created(Json<IdBody>),
}

pub(crate) struct NoticesApi {
    state: Services,
}

impl NoticesApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Notices")]
impl NoticesApi {
    /// Publishes a notice (staff) for one library or every library. 422 with violations:
    /// `unknown_library`, `title_missing`, `title_too_long`, `title_invalid`,
    /// `body_missing`, `body_too_long`, `body_invalid`, `title_zh_too_long`,
    /// `title_zh_invalid`, `body_zh_too_long`, `body_zh_invalid`, `expires_on_before_published_on`,
    /// `expires_on_in_past`.
    #[oai(path = "/notices", method = "post")]
    async fn publish(
        &self,
        auth: StaffAuth,
        body: Json<NewNoticeRequest>,
    ) -> Result<Created, ApiError> {
        let body = body.0;
        let notice = NoticeForm {
            library_code: body.library_code.map(Text::into_string),
            title: body.title.into_string(),
            body: body.body.into_string(),
            title_zh: body.title_zh.map(Text::into_string),
            body_zh: body.body_zh.map(Text::into_string),
            published_on: body.published_on,
            expires_on: body.expires_on,
        }
        .parse(today(&self.state))?;
        let details = json!({"library_code": notice.library.as_ref().map(LibraryCode::as_str),
                             "title": notice.title,
                             "published_on": notice.published_on.to_string()});
        let audit = |id: NoticeId| {
            audit_record(
                &self.state,
                &auth.0,
                "notice.publish",
                format!("notice:{}", id.get()),
                &details,
            )
        };
        let id = self
            .state
            .reader_services
            .notices
            .publish(&notice, self.state.clock.now(), &audit)
            .await?;
        Ok(Created::Created(Json(IdBody { id: id.get() })))
    }

    /// Withdraws a notice (staff): readers no longer see it. 404; 409 `notice_withdrawn`.
    #[oai(path = "/notices/:id", method = "delete")]
    async fn withdraw(&self, auth: StaffAuth, id: Path<i64>) -> Result<NoContent, ApiError> {
        let audit = audit_record(
            &self.state,
            &auth.0,
            "notice.withdraw",
            format!("notice:{}", id.0),
            &json!({}),
        );
        self.state
            .reader_services
            .notices
            .withdraw(NoticeId(id.0), self.state.clock.now(), audit)
            .await?;
        Ok(NoContent::NoContent)
    }

    /// Every notice (staff), withdrawn and expired ones included, newest first. Paged with
    /// `limit` (1–100, default 20) and `offset`.
    #[oai(path = "/staff/notices", method = "get")]
    async fn staff_list(
        &self,
        _auth: StaffAuth,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<Int>>,
        #[oai(validator(minimum(value = "0")))] offset: Query<Option<Int>>,
    ) -> Result<Json<NoticesPageBody>, ApiError> {
        let (limit, offset) = paging(Int::get(limit.0), Int::get(offset.0))?;
        let page = self
            .state
            .reader_services
            .notices
            .list(limit, offset)
            .await?;
        Ok(Json(NoticesPageBody {
            notices: page.items.into_iter().map(notice_body).collect(),
            total: page.total,
        }))
    }

    /// Library information for me (Password session): the notices current today for my
    /// home library and for every library, newest first, with the library's name.
    #[oai(path = "/me/notices", method = "get", tag = "ApiTags::Me")]
    async fn mine(&self, auth: ReaderAuth) -> Result<Json<MyNoticesBody>, ApiError> {
        let patron = reader(&auth.0)?;
        let home = self
            .state
            .readers
            .profile(patron)
            .await?
            .and_then(|p| p.home_library)
            .and_then(|code| LibraryCode::parse(&code).ok());
        let notices = self
            .state
            .reader_services
            .notices
            .current_for(home.as_ref(), today(&self.state))
            .await?;
        Ok(Json(MyNoticesBody {
            notices: notices.into_iter().map(notice_body).collect(),
        }))
    }
}
