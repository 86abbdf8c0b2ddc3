//! Ask a Librarian: readers send enquiries and read the answers; staff list and answer
//! them.

use library_reader_services::{
    Enquiry, EnquiryForm, EnquiryId, EnquiryStatus, StaffEnquiry, parse_answer,
};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;
use time::OffsetDateTime;

use super::ApiTags;
use super::activities::{paging, reader};
use super::common::{audit_record, shown};
use super::types::{Int, Text};
use crate::auth::{ReaderAuth, StaffAuth};
use crate::error::ApiError;
use library_app::Services;

/// Whether an enquiry has been answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum EnquiryStatusDto {
    /// Waiting for an answer.
    Open,
    /// Answered.
    Answered,
}

impl From<EnquiryStatus> for EnquiryStatusDto {
    fn from(s: EnquiryStatus) -> Self {
        match s {
            EnquiryStatus::Open => EnquiryStatusDto::Open,
            EnquiryStatus::Answered => EnquiryStatusDto::Answered,
        }
    }
}

impl From<EnquiryStatusDto> for EnquiryStatus {
    fn from(s: EnquiryStatusDto) -> Self {
        match s {
            EnquiryStatusDto::Open => EnquiryStatus::Open,
            EnquiryStatusDto::Answered => EnquiryStatus::Answered,
        }
    }
}

/// `POST /enquiries`.
#[derive(Debug, Object)]
struct NewEnquiryRequest {
    /// One line, at most 200 characters.
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 200
    ))]
    subject: Text,
    /// At most 4,000 characters; line breaks allowed.
    #[oai(validator(
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$",
        max_length = 4000
    ))]
    message: Text,
    /// The library asked, if any.
    #[oai(nullable)]
    #[oai(validator(pattern = "^\\s*([A-Za-z0-9_]{1,32})?\\s*$"))]
    library_code: Option<Text>,
}

/// An enquiry.
#[derive(Debug, Object)]
struct EnquiryBody {
    id: i64,
    subject: String,
    message: String,
    #[oai(nullable)]
    library_code: Option<String>,
    status: EnquiryStatusDto,
    created_at: OffsetDateTime,
    /// The staff answer, once given.
    #[oai(nullable)]
    answer: Option<String>,
    #[oai(nullable)]
    answered_at: Option<OffsetDateTime>,
}

fn enquiry_body(e: Enquiry) -> EnquiryBody {
    let status = e.status().into();
    EnquiryBody {
        id: e.id.get(),
        subject: e.details.subject,
        message: e.details.message,
        library_code: e.details.library.map(|l| l.as_str().to_owned()),
        status,
        created_at: shown(e.created_at),
        answered_at: e.answer.as_ref().map(|a| shown(a.answered_at)),
        answer: e.answer.map(|a| a.text),
    }
}

/// An enquiry with who asked (staff).
#[derive(Debug, Object)]
struct StaffEnquiryBody {
    #[oai(flatten)]
    enquiry: EnquiryBody,
    card_number: String,
    reader_name: String,
}

fn staff_body(e: StaffEnquiry) -> StaffEnquiryBody {
    StaffEnquiryBody {
        card_number: e.card_number.as_str().to_owned(),
        reader_name: e.reader_name,
        enquiry: enquiry_body(e.enquiry),
    }
}

/// `GET /me/enquiries`.
#[derive(Debug, Object)]
struct MyEnquiriesBody {
    enquiries: Vec<EnquiryBody>,
}

/// `GET /staff/enquiries`.
#[derive(Debug, Object)]
struct StaffEnquiriesBody {
    enquiries: Vec<StaffEnquiryBody>,
    /// How many match, over all pages.
    total: u64,
}

/// `POST /staff/enquiries/{id}/answer`.
#[derive(Debug, Object)]
struct AnswerRequest {
    /// At most 4,000 characters; line breaks allowed.
    #[oai(validator(
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$",
        max_length = 4000
    ))]
    answer: Text,
}

#[derive(ApiResponse)]
enum Asked {
    /// Sent; open until staff answer.
    #[oai(status = 201)]
    Created(Json<EnquiryBody>),
}

pub(crate) struct EnquiriesApi {
    state: Services,
}

impl EnquiriesApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Enquiries")]
impl EnquiriesApi {
    /// Asks a librarian (Password session). 422 with violations: `subject_missing`,
    /// `subject_too_long`, `subject_invalid`, `message_missing`, `message_too_long`,
    /// `message_invalid`, `unknown_library`.
    #[oai(path = "/enquiries", method = "post")]
    async fn ask(
        &self,
        auth: ReaderAuth,
        body: Json<NewEnquiryRequest>,
    ) -> Result<Asked, ApiError> {
        let patron = reader(&auth.0)?;
        let body = body.0;
        let enquiry = EnquiryForm {
            subject: body.subject.into_string(),
            message: body.message.into_string(),
            library_code: body.library_code.map(Text::into_string),
        }
        .parse()?;
        let desk = &self.state.reader_services.enquiries;
        let id = desk.ask(patron, &enquiry, self.state.clock.now()).await?;
        let stored = desk.get(id).await?;
        Ok(Asked::Created(Json(enquiry_body(stored.enquiry))))
    }

    /// My enquiries with the answers (Password session), newest first.
    #[oai(path = "/me/enquiries", method = "get", tag = "ApiTags::Me")]
    async fn mine(&self, auth: ReaderAuth) -> Result<Json<MyEnquiriesBody>, ApiError> {
        let patron = reader(&auth.0)?;
        let enquiries = self
            .state
            .reader_services
            .enquiries
            .of_reader(patron)
            .await?;
        Ok(Json(MyEnquiriesBody {
            enquiries: enquiries.into_iter().map(enquiry_body).collect(),
        }))
    }

    /// One of my enquiries (Password session). 404 for an unknown id or another
    /// reader's enquiry.
    #[oai(path = "/me/enquiries/:id", method = "get", tag = "ApiTags::Me")]
    async fn one_of_mine(
        &self,
        auth: ReaderAuth,
        id: Path<i64>,
    ) -> Result<Json<EnquiryBody>, ApiError> {
        let patron = reader(&auth.0)?;
        let found = self
            .state
            .reader_services
            .enquiries
            .get(EnquiryId(id.0))
            .await?;
        if found.enquiry.patron != patron {
            return Err(ApiError::not_found());
        }
        Ok(Json(enquiry_body(found.enquiry)))
    }

    /// Enquiries (staff), oldest first: all, or those with `status` (`open`, `answered`;
    /// anything else is 400). Paged with `limit` (1–100, default 20) and `offset`.
    #[oai(path = "/staff/enquiries", method = "get")]
    async fn staff_list(
        &self,
        _auth: StaffAuth,
        status: Query<Option<EnquiryStatusDto>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<Int>>,
        #[oai(validator(minimum(value = "0")))] offset: Query<Option<Int>>,
    ) -> Result<Json<StaffEnquiriesBody>, ApiError> {
        let (limit, offset) = paging(Int::get(limit.0), Int::get(offset.0))?;
        let page = self
            .state
            .reader_services
            .enquiries
            .list(status.0.map(Into::into), limit, offset)
            .await?;
        Ok(Json(StaffEnquiriesBody {
            enquiries: page.items.into_iter().map(staff_body).collect(),
            total: page.total,
        }))
    }

    /// Answers an enquiry (staff); the reader sees the answer in `GET /me/enquiries`. An
    /// enquiry is answered once: 409 `already_answered` (a follow-up is a new enquiry).
    /// 404 for an unknown id; 422 `answer_missing`, `answer_too_long`, `answer_invalid`.
    #[oai(path = "/staff/enquiries/:id/answer", method = "post")]
    async fn answer(
        &self,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<AnswerRequest>,
    ) -> Result<Json<StaffEnquiryBody>, ApiError> {
        let text = parse_answer(&body.0.answer.0)?;
        let desk = &self.state.reader_services.enquiries;
        let staff = auth.0.staff.as_ref().map(|s| s.id);
        let audit = audit_record(
            &self.state,
            &auth.0,
            "enquiry.answer",
            format!("enquiry:{}", id.0),
            &json!({"length": text.chars().count()}),
        );
        desk.answer(EnquiryId(id.0), staff, &text, self.state.clock.now(), audit)
            .await?;
        Ok(Json(staff_body(desk.get(EnquiryId(id.0)).await?)))
    }
}
