//! Fine-suspension periods: create, list, move the resume date, and the impact preview.

use std::collections::BTreeSet;

use library_core::LibraryCode;
use library_fines::{FineSuspensionPeriod, SuspensionScope};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use time::Date;

use super::ApiTags;
use super::common::{IdBody, KindDto, audit_record, today};
use super::types::Text;
use crate::auth::StaffAuth;
use crate::error::ApiError;
use library_app::Services;
use library_app::StoredSuspension;

/// `POST /fine-suspensions` (and the preview, with `as_of`).
#[derive(Debug, Object)]
struct NewSuspensionBody {
    /// The first day no fine is charged.
    starts_on: Date,
    /// The first day fines are charged again; `null` or absent = until further notice.
    #[oai(nullable)]
    resumes_on: Option<Date>,
    /// Library kinds it applies to.
    #[oai(nullable)]
    library_kinds: Option<Vec<KindDto>>,
    /// Library codes it applies to. No scope field (or both empty) = all libraries.
    #[oai(nullable)]
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
    library_codes: Option<Vec<Text>>,
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 500
    ))]
    reason: Text,
    /// Preview only: fines as of this date (default: today).
    #[oai(nullable)]
    as_of: Option<Date>,
}

/// A fine-suspension period.
#[derive(Debug, Object)]
struct SuspensionBody {
    id: i64,
    starts_on: Date,
    /// `null` while open-ended.
    #[oai(nullable)]
    resumes_on: Option<Date>,
    library_kinds: Vec<KindDto>,
    library_codes: Vec<String>,
    reason: String,
}

/// `GET /fine-suspensions`.
#[derive(Debug, Object)]
struct SuspensionsBody {
    fine_suspensions: Vec<SuspensionBody>,
}

/// `PATCH /fine-suspensions/{id}`.
#[derive(Debug, Object)]
struct ResumeBody {
    resumes_on: Date,
}

/// The impact preview.
#[derive(Debug, Object)]
struct PreviewBody {
    /// Open loans with a fine above 0 with the candidate in force.
    loans: u64,
    /// Distinct readers among them.
    patrons: u64,
    /// Their fines.
    total_cents: i64,
    /// How much less that is than without the candidate.
    waived_cents: i64,
}

#[derive(ApiResponse)]
enum Created {
    /// Created.
    #[oai(status = 201)]
    Created(Json<IdBody>),
}

fn period(body: &NewSuspensionBody) -> Result<FineSuspensionPeriod, ApiError> {
    let mut violations = Vec::new();
    let mut codes = BTreeSet::new();
    for code in body.library_codes.iter().flatten() {
        match LibraryCode::parse(&code.0) {
            Ok(c) => {
                codes.insert(c);
            }
            Err(_) => violations.push("library_code_invalid"),
        }
    }
    let kinds = body
        .library_kinds
        .iter()
        .flatten()
        .map(|k| (*k).into())
        .collect();
    let reason = body.reason.0.trim();
    if reason.is_empty() {
        violations.push("reason_missing");
    } else if reason.chars().count() > 500 || reason.chars().any(char::is_control) {
        violations.push("reason_invalid");
    }
    if !violations.is_empty() {
        violations.dedup();
        return Err(ApiError::validation_failed(violations));
    }
    let scope = SuspensionScope {
        library_codes: codes,
        library_kinds: kinds,
    };
    Ok(FineSuspensionPeriod::new(
        body.starts_on,
        body.resumes_on,
        scope,
        reason.to_owned(),
    )?)
}

fn suspension_body(id: i64, p: &FineSuspensionPeriod) -> SuspensionBody {
    SuspensionBody {
        id,
        starts_on: p.starts_on,
        resumes_on: p.resumes_on,
        library_kinds: p.scope.library_kinds.iter().map(|k| (*k).into()).collect(),
        library_codes: p
            .scope
            .library_codes
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        reason: p.reason.clone(),
    }
}

pub(crate) struct FinesApi {
    state: Services,
}

impl FinesApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Fines")]
impl FinesApi {
    /// Declares a fine-suspension period (staff). 422
    /// `resumes_on_not_after_starts_on`, `reason_missing`, `library_code_invalid`.
    #[oai(path = "/fine-suspensions", method = "post")]
    async fn create(
        &self,
        auth: StaffAuth,
        body: Json<NewSuspensionBody>,
    ) -> Result<Created, ApiError> {
        let period = period(&body.0)?;
        let details = json!({"starts_on": period.starts_on.to_string(),
                             "resumes_on": period.resumes_on.map(|d| d.to_string()),
                             "reason": period.reason});
        let audit = |id: i64| {
            audit_record(
                &self.state,
                &auth.0,
                "fine_suspension.create",
                format!("fine_suspension:{id}"),
                &details,
            )
        };
        let id = self.state.suspensions.create(&period, &audit).await?;
        Ok(Created::Created(Json(IdBody { id })))
    }

    /// Every fine-suspension period (staff), oldest first.
    #[oai(path = "/fine-suspensions", method = "get")]
    async fn list(&self, _auth: StaffAuth) -> Result<Json<SuspensionsBody>, ApiError> {
        let fine_suspensions = self
            .state
            .suspensions
            .list()
            .await?
            .iter()
            .map(|StoredSuspension { id, period }| suspension_body(*id, period))
            .collect();
        Ok(Json(SuspensionsBody { fine_suspensions }))
    }

    /// Sets or moves the resume date of a period (staff). 404 for an unknown id; 422
    /// `resumes_on_not_after_starts_on`.
    #[oai(path = "/fine-suspensions/:id", method = "patch")]
    async fn resume(
        &self,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<ResumeBody>,
    ) -> Result<Json<SuspensionBody>, ApiError> {
        let audit = audit_record(
            &self.state,
            &auth.0,
            "fine_suspension.resume",
            format!("fine_suspension:{}", id.0),
            &json!({"resumes_on": body.0.resumes_on.to_string()}),
        );
        let period = self
            .state
            .suspensions
            .set_resume_date(id.0, body.0.resumes_on, audit)
            .await?;
        Ok(Json(suspension_body(id.0, &period)))
    }

    /// What a candidate period would do to the fines of every loan not yet returned, as of
    /// `as_of` (default today). Changes no data.
    #[oai(path = "/fine-suspensions/preview", method = "post")]
    async fn preview(
        &self,
        _auth: StaffAuth,
        body: Json<NewSuspensionBody>,
    ) -> Result<Json<PreviewBody>, ApiError> {
        let candidate = period(&body.0)?;
        let as_of = body.0.as_of.unwrap_or_else(|| today(&self.state));
        let preview = self.state.suspensions.preview(&candidate, as_of).await?;
        Ok(Json(PreviewBody {
            loans: preview.loans,
            patrons: preview.patrons,
            total_cents: preview.total.cents(),
            waived_cents: preview.waived.cents(),
        }))
    }
}
