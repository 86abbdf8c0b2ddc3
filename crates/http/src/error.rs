//! Errors: the contract's error bodies, the ONE table from domain errors to them, and the
//! translation of every failure poem itself reports (see [`from_poem_error`]).
//!
//! Every error body is `{"code","message"}` with a fixed message per code (two failures of
//! the same kind differ in nothing else), plus `violations` for 422 and `reason` for 409.

use library_credentials::{
    AuthError, ChangePasswordError, ChangePinError, LoginError, PortError, StaffPasswordError,
    StaffResetError, StationPasswordError,
};
use poem::http::StatusCode;
use poem::http::header::RETRY_AFTER;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object};

use library_app::AdminError;
use library_app::RegistrationError;
use library_app::ServiceError;
use library_app::SettingsChangeError;
use library_app::StudyRoomError;
use library_circulation::ports::InfrastructureError;
use library_circulation::service::{
    CancelHoldError, ChangeHoldError, CheckinError, CheckoutError, CollectHoldError,
    ExpireHoldsError, PlaceHoldError, RenewError,
};
use library_circulation::{CalendarError, ReturnTimeError};
use library_fines::{LedgerError, PeriodError};
use library_reader_services::Violations;

/// Seconds a client is told to wait when the database cannot serve: long enough for a
/// dropped connection to be replaced or a lock to be released, short enough for a counter.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 2;

/// The body of every error answer.
#[derive(Debug, Clone, Object)]
pub(crate) struct ErrorBody {
    /// Machine-readable code (`unauthorized`, `validation_failed`, ...).
    code: String,
    /// Human text; fixed per code.
    message: String,
    /// 422 only: what is wrong, as codes.
    #[oai(nullable, skip_serializing_if_is_none)]
    violations: Option<Vec<String>>,
    /// 409: why the request was refused, as a code; 503 from `/ready`: why not ready.
    #[oai(nullable, skip_serializing_if_is_none)]
    reason: Option<String>,
    /// 409 `deactivation_refused` only: every reason, `reason` being the first.
    #[oai(nullable, skip_serializing_if_is_none)]
    reasons: Option<Vec<String>>,
}

/// An answer other than success: a status, a code and a fixed message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}")]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: &'static str,
    violations: Option<Vec<String>>,
    reason: Option<&'static str>,
    reasons: Option<Vec<&'static str>>,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    const fn new(status: StatusCode, code: &'static str, message: &'static str) -> Self {
        Self {
            status,
            code,
            message,
            violations: None,
            reason: None,
            reasons: None,
            retry_after_secs: None,
        }
    }

    /// 400: unparseable body, wrong types, missing fields, wrong content type.
    pub fn bad_request() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "The request could not be understood: check the JSON body and its field types.",
        )
    }

    /// 401: missing, unknown, expired or revoked token.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "A valid session token is required.",
        )
    }

    /// 401: any failed login, whatever the cause.
    pub fn invalid_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "The card number or username, or the secret, is not right.",
        )
    }

    /// 403: the session must change its Password first.
    pub fn password_change_required() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "password_change_required",
            "The Password must be changed before anything else.",
        )
    }

    /// 403: the session's scope or role does not allow this.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "This session may not do that.",
        )
    }

    /// 403: reading visitor registrations needs the `contact_tracing` permission, whatever
    /// the role.
    pub fn contact_tracing_required() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "contact_tracing_required",
            "Reading visitor registrations needs the contact_tracing permission.",
        )
    }

    /// 409 `capacity_reached`: as many people are inside as the capacity allows.
    pub fn capacity_reached() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "capacity_reached",
            "The library (or section) is full; admission refused.",
        )
    }

    /// 404: unknown route, or unknown card/id.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found.")
    }

    /// 405: a known path with a method it does not have.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This path does not accept that method.",
        )
    }

    /// 413: the body is over the limit of the route.
    pub fn request_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "The request body did not arrive in time.",
        )
    }

    /// 413: the body is over the route's limit.
    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The request body is too large.",
        )
    }

    /// 409: a circulation request refused for a named reason (`checkout_refused`,
    /// `renewal_refused`, `hold_refused`, `checkin_refused`).
    pub fn refused(code: &'static str, reason: &'static str) -> Self {
        Self {
            reason: Some(reason),
            ..Self::new(
                StatusCode::CONFLICT,
                code,
                "The request was refused; see reason.",
            )
        }
    }

    /// 409 `deactivation_refused`: the reader still has loans, charges or holds; `reason`
    /// is the first of `reasons`.
    pub fn deactivation_refused(reasons: Vec<&'static str>) -> Self {
        Self {
            reasons: Some(reasons.clone()),
            ..Self::refused(
                "deactivation_refused",
                reasons.first().copied().unwrap_or("refused"),
            )
        }
    }

    /// 409 `reader_deactivated`: the reader's record can be read, not changed.
    pub fn reader_deactivated() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "reader_deactivated",
            "The reader has been deactivated.",
        )
    }

    /// 409: a unique value (library code, barcode, station username) is already taken.
    pub fn already_exists() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "already_exists",
            "A record with this code, barcode or username already exists.",
        )
    }

    /// 409: the hold has already ended (collected, expired or cancelled).
    pub fn hold_ended() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "hold_ended",
            "The hold has already ended.",
        )
    }

    /// 409: the reader services' state conflicts (`activity_cancelled`,
    /// `notice_withdrawn`, `already_answered`).
    pub fn reader_service_conflict(code: &'static str) -> Self {
        let message = match code {
            "activity_cancelled" => "The activity has already been cancelled.",
            "notice_withdrawn" => "The notice has already been withdrawn.",
            "already_answered" => "The enquiry has already been answered.",
            _ => "The request conflicts with the current state.",
        };
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// The reason of a 409.
    pub fn reason(&self) -> Option<&'static str> {
        self.reason
    }

    /// 422 with the violated rules as codes.
    pub fn validation_failed<S: Into<String>>(violations: impl IntoIterator<Item = S>) -> Self {
        Self {
            violations: Some(violations.into_iter().map(Into::into).collect()),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Some values are not acceptable; see violations.",
            )
        }
    }

    /// 429 with `Retry-After` in whole seconds, rounded up (at least 1).
    pub fn too_many_attempts(retry_after: time::Duration) -> Self {
        let whole = retry_after.whole_seconds().max(0).unsigned_abs();
        let secs = if retry_after.subsec_nanoseconds() > 0 {
            whole + 1
        } else {
            whole
        };
        Self {
            retry_after_secs: Some(secs.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "Too many attempts; try again later.",
            )
        }
    }

    /// 503: hashing is saturated (or a dependency is down); try again shortly.
    pub fn service_unavailable() -> Self {
        Self {
            retry_after_secs: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "The service is busy; try again shortly.",
            )
        }
    }

    /// 503: the database cannot serve now (unreachable, busy past its timeout, out of
    /// space). The cause, with the database's own words, is logged, never shown.
    pub fn database_unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::warn!(%cause, "database unavailable");
        Self {
            retry_after_secs: Some(DATABASE_RETRY_AFTER_SECS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "The service is busy; try again shortly.",
            )
        }
    }

    /// 503 from the readiness probe, with why (`database_read_failed`,
    /// `database_write_failed`) as `reason`.
    pub fn not_ready(reason: &'static str) -> Self {
        Self {
            reason: Some(reason),
            ..Self::service_unavailable()
        }
    }

    /// 500: an infrastructure failure. The cause is logged, never shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side.",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The violations of a 422.
    pub fn violations(&self) -> Option<&[String]> {
        self.violations.as_deref()
    }

    fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.to_owned(),
            message: self.message.to_owned(),
            violations: self.violations.clone(),
            reason: self.reason.map(str::to_owned),
            reasons: self
                .reasons
                .as_ref()
                .map(|r| r.iter().map(|s| (*s).to_owned()).collect()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = Json(self.body()).into_response();
        resp.set_status(self.status);
        if let Some(secs) = self.retry_after_secs {
            resp.headers_mut().insert(RETRY_AFTER, secs.into());
        }
        resp
    }
}

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.status
    }

    fn as_response(&self) -> Response {
        self.clone().into_response()
    }
}

/// Documents the error answers in the OpenAPI document (every operation may give any of
/// them; the contract says which ones each gives).
impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        let doc = |status: u16, description: &'static str, retry: bool| MetaResponse {
            description,
            status: Some(status),
            status_range: None,
            content: vec![MetaMediaType {
                content_type: "application/json; charset=utf-8",
                schema: ErrorBody::schema_ref(),
            }],
            headers: if retry {
                vec![MetaHeader {
                    name: "Retry-After".to_owned(),
                    description: Some("Seconds to wait, rounded up.".to_owned()),
                    required: true,
                    deprecated: false,
                    schema: u64::schema_ref(),
                }]
            } else {
                vec![]
            },
        };
        MetaResponses {
            responses: vec![
                doc(400, "`bad_request`: unparseable body, wrong types", false),
                doc(
                    401,
                    "`unauthorized` (token) or `invalid_credentials` (login)",
                    false,
                ),
                doc(
                    403,
                    "`password_change_required`, `forbidden` or `contact_tracing_required`",
                    false,
                ),
                doc(404, "`not_found`", false),
                doc(
                    409,
                    "`checkout_refused`, `renewal_refused`, `hold_refused`, `checkin_refused`, \
                     `registration_refused`, `cancellation_refused` (with `reason`), \
                     `already_exists`, `hold_ended`, `activity_cancelled`, `notice_withdrawn`, \
                     `already_answered`, `capacity_reached`",
                    false,
                ),
                doc(413, "`payload_too_large`", false),
                doc(422, "`validation_failed` with `violations`", false),
                doc(429, "`too_many_attempts`", true),
                doc(
                    503,
                    "`service_unavailable`: the database cannot serve now or hashing is \
                     saturated (`/ready`: with `reason`)",
                    true,
                ),
            ],
        }
    }

    fn register(registry: &mut Registry) {
        ErrorBody::register(registry);
    }
}

// ---------------------------------------------------------------------------------------
// The mapping table: domain errors → answers. Handlers only use `?`.
// ---------------------------------------------------------------------------------------

impl From<PortError> for ApiError {
    fn from(err: PortError) -> Self {
        match err {
            PortError::Overloaded => ApiError::service_unavailable(),
            PortError::Unavailable(cause) => ApiError::database_unavailable(&cause),
            PortError::Failed(cause) => ApiError::internal(&cause),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(err: LoginError) -> Self {
        match err {
            LoginError::InvalidCredentials => ApiError::invalid_credentials(),
            LoginError::TooManyAttempts { retry_after } => ApiError::too_many_attempts(retry_after),
            LoginError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Unauthorized => ApiError::unauthorized(),
            AuthError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<ChangePasswordError> for ApiError {
    fn from(err: ChangePasswordError) -> Self {
        match err {
            ChangePasswordError::Forbidden => ApiError::forbidden(),
            ChangePasswordError::InvalidCredentials => ApiError::invalid_credentials(),
            ChangePasswordError::TooManyAttempts { retry_after } => {
                ApiError::too_many_attempts(retry_after)
            }
            ChangePasswordError::Rejected(v) => {
                ApiError::validation_failed(v.into_iter().map(|v| v.code()))
            }
            ChangePasswordError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<ChangePinError> for ApiError {
    fn from(err: ChangePinError) -> Self {
        match err {
            ChangePinError::Forbidden => ApiError::forbidden(),
            ChangePinError::PasswordChangeRequired => ApiError::password_change_required(),
            ChangePinError::InvalidCredentials => ApiError::invalid_credentials(),
            ChangePinError::TooManyAttempts { retry_after } => {
                ApiError::too_many_attempts(retry_after)
            }
            ChangePinError::Rejected(v) => {
                ApiError::validation_failed(v.into_iter().map(|v| v.code()))
            }
            ChangePinError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<StaffResetError> for ApiError {
    fn from(err: StaffResetError) -> Self {
        match err {
            StaffResetError::NotFound => ApiError::not_found(),
            StaffResetError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<StationPasswordError> for ApiError {
    fn from(err: StationPasswordError) -> Self {
        match err {
            StationPasswordError::Rejected(v) => {
                ApiError::validation_failed(v.into_iter().map(|v| v.code()))
            }
            StationPasswordError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<StaffPasswordError> for ApiError {
    fn from(err: StaffPasswordError) -> Self {
        match err {
            StaffPasswordError::Rejected(v) => {
                ApiError::validation_failed(v.into_iter().map(|v| v.code()))
            }
            StaffPasswordError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<RegistrationError> for ApiError {
    fn from(err: RegistrationError) -> Self {
        match err {
            RegistrationError::Invalid(v) => ApiError::validation_failed(v),
            // The service retries with another number; reaching here means it gave up.
            RegistrationError::CardNumberTaken => ApiError::internal(&"no free card number found"),
            RegistrationError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<library_app::ReaderRecordError> for ApiError {
    fn from(err: library_app::ReaderRecordError) -> Self {
        use library_app::ReaderRecordError as E;
        match err {
            E::Invalid(v) => ApiError::validation_failed(v),
            E::NotFound => ApiError::not_found(),
            E::Deactivated => ApiError::reader_deactivated(),
            E::Infrastructure(e) => e.into(),
        }
    }
}

impl From<library_circulation::service::DeclareLostError> for ApiError {
    fn from(err: library_circulation::service::DeclareLostError) -> Self {
        use library_circulation::service::DeclareLostError as E;
        match err {
            E::LoanNotFound => ApiError::not_found(),
            E::Infrastructure(e) => e.into(),
        }
    }
}

impl From<InfrastructureError> for ApiError {
    fn from(err: InfrastructureError) -> Self {
        if err.is_unavailable() {
            ApiError::database_unavailable(&err)
        } else {
            ApiError::internal(&err)
        }
    }
}

/// A library code in a request body that names no library.
fn unknown_library() -> ApiError {
    ApiError::validation_failed(["unknown_library"])
}

impl From<CheckoutError> for ApiError {
    fn from(err: CheckoutError) -> Self {
        match err {
            CheckoutError::PatronNotFound | CheckoutError::ItemNotFound => ApiError::not_found(),
            CheckoutError::LibraryNotFound(_) => unknown_library(),
            CheckoutError::Refused(r) => ApiError::refused("checkout_refused", r.code()),
            CheckoutError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<CheckinError> for ApiError {
    fn from(err: CheckinError) -> Self {
        match err {
            CheckinError::ItemNotFound => ApiError::not_found(),
            CheckinError::LibraryNotFound(_) => unknown_library(),
            CheckinError::NotOnLoan => ApiError::refused("checkin_refused", "not_on_loan"),
            CheckinError::InvalidReturnTime(ReturnTimeError::InFuture) => {
                ApiError::validation_failed(["returned_at_in_future"])
            }
            CheckinError::InvalidReturnTime(ReturnTimeError::BeforeCheckout) => {
                ApiError::validation_failed(["returned_at_before_checkout"])
            }
            CheckinError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<RenewError> for ApiError {
    fn from(err: RenewError) -> Self {
        match err {
            RenewError::LoanNotFound => ApiError::not_found(),
            RenewError::Refused(r) => ApiError::refused("renewal_refused", r.code()),
            RenewError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<PlaceHoldError> for ApiError {
    fn from(err: PlaceHoldError) -> Self {
        match err {
            PlaceHoldError::PatronNotFound | PlaceHoldError::TitleNotFound => ApiError::not_found(),
            PlaceHoldError::LibraryNotFound(_) => unknown_library(),
            PlaceHoldError::Invalid(v) => ApiError::validation_failed([v.code()]),
            PlaceHoldError::Refused(r) => ApiError::refused("hold_refused", r.code()),
            PlaceHoldError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<CollectHoldError> for ApiError {
    fn from(err: CollectHoldError) -> Self {
        match err {
            CollectHoldError::HoldNotFound => ApiError::not_found(),
            CollectHoldError::NotWaiting => ApiError::new(
                StatusCode::CONFLICT,
                "hold_not_waiting",
                "The hold has no copy waiting on the hold shelf.",
            ),
            CollectHoldError::LibraryNotFound(_) => unknown_library(),
            CollectHoldError::Refused(r) => ApiError::refused("checkout_refused", r.code()),
            CollectHoldError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<CancelHoldError> for ApiError {
    fn from(err: CancelHoldError) -> Self {
        match err {
            CancelHoldError::HoldNotFound => ApiError::not_found(),
            CancelHoldError::NotActive => ApiError::hold_ended(),
            CancelHoldError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<ChangeHoldError> for ApiError {
    fn from(err: ChangeHoldError) -> Self {
        match err {
            ChangeHoldError::HoldNotFound => ApiError::not_found(),
            ChangeHoldError::NotActive => ApiError::hold_ended(),
            ChangeHoldError::Invalid(v) => ApiError::validation_failed(v.iter().map(|v| v.code())),
            ChangeHoldError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<ExpireHoldsError> for ApiError {
    fn from(err: ExpireHoldsError) -> Self {
        match err {
            ExpireHoldsError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<LedgerError> for ApiError {
    fn from(err: LedgerError) -> Self {
        match err {
            LedgerError::NotPositive { .. } => ApiError::validation_failed(["amount_not_positive"]),
            LedgerError::Overpayment { .. } => {
                ApiError::validation_failed(["amount_exceeds_outstanding"])
            }
            LedgerError::UnknownCharge(_) => ApiError::not_found(),
            LedgerError::NothingOutstanding(_) => {
                ApiError::validation_failed(["nothing_outstanding"])
            }
            LedgerError::MissingReason => ApiError::validation_failed(["reason_missing"]),
            LedgerError::DuplicateCharge(_) => ApiError::internal(&err),
        }
    }
}

impl From<PeriodError> for ApiError {
    fn from(err: PeriodError) -> Self {
        match err {
            PeriodError::ResumesBeforeStart { .. } => {
                ApiError::validation_failed(["resumes_on_not_after_starts_on"])
            }
        }
    }
}

impl From<library_app::AdmissionError> for ApiError {
    fn from(err: library_app::AdmissionError) -> Self {
        use library_app::AdmissionError as E;
        match err {
            E::NotFound => ApiError::not_found(),
            E::Invalid(v) => ApiError::validation_failed(v),
            E::Refused(_) => ApiError::capacity_reached(),
            E::NotPermitted => ApiError::contact_tracing_required(),
            E::TooMany(secs) => ApiError::too_many_attempts(time::Duration::seconds(
                i64::try_from(secs).unwrap_or(i64::MAX),
            )),
            E::Store(e) => e.into(),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::NotFound => ApiError::not_found(),
            AdminError::AlreadyExists => ApiError::already_exists(),
            AdminError::Invalid(v) => ApiError::validation_failed(v),
            AdminError::Ledger(e) => e.into(),
            AdminError::Period(e) => e.into(),
            AdminError::Calendar(CalendarError::EmptyRange { .. }) => {
                ApiError::validation_failed(["to_before_from"])
            }
            AdminError::Calendar(CalendarError::NoSuchDay { .. }) => {
                ApiError::validation_failed(["no_such_day"])
            }
            AdminError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<library_premises::hours::HoursError> for ApiError {
    fn from(err: library_premises::hours::HoursError) -> Self {
        ApiError::validation_failed([err.code()])
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::NotFound => ApiError::not_found(),
            ServiceError::Invalid(v) => ApiError::validation_failed(v),
            ServiceError::RegistrationRefused(r) => {
                ApiError::refused("registration_refused", r.code())
            }
            ServiceError::CancellationRefused(r) => {
                ApiError::refused("cancellation_refused", r.code())
            }
            ServiceError::ActivityCancelled => {
                ApiError::reader_service_conflict("activity_cancelled")
            }
            ServiceError::NoticeWithdrawn => ApiError::reader_service_conflict("notice_withdrawn"),
            ServiceError::AlreadyAnswered => ApiError::reader_service_conflict("already_answered"),
            ServiceError::EmailChangeUnconfirmed => ApiError::forbidden(),
            ServiceError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<StudyRoomError> for ApiError {
    fn from(err: StudyRoomError) -> Self {
        match err {
            StudyRoomError::NotFound => ApiError::not_found(),
            StudyRoomError::Invalid(v) => ApiError::validation_failed(v),
            StudyRoomError::ApplicationRefused(r) => {
                ApiError::refused("application_refused", r.code())
            }
            StudyRoomError::BallotRefused(r) => ApiError::refused("ballot_refused", r.code()),
            StudyRoomError::DecisionRefused(r) => ApiError::refused("decision_refused", r.code()),
            StudyRoomError::RevocationRefused(r) => {
                ApiError::refused("revocation_refused", r.code())
            }
            StudyRoomError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<SettingsChangeError> for ApiError {
    fn from(err: SettingsChangeError) -> Self {
        match err {
            // A changed email without the Password, or with a wrong one: one answer.
            SettingsChangeError::Forbidden
            | SettingsChangeError::PasswordRequired
            | SettingsChangeError::InvalidPassword => ApiError::forbidden(),
            SettingsChangeError::TooManyAttempts { retry_after } => {
                ApiError::too_many_attempts(retry_after)
            }
            SettingsChangeError::Service(e) => e.into(),
            SettingsChangeError::Infrastructure(e) => e.into(),
        }
    }
}

impl From<Violations> for ApiError {
    fn from(v: Violations) -> Self {
        ApiError::validation_failed(v.0)
    }
}

/// Translates a failure reported by poem or poem-openapi (routing, parsing, security
/// extraction, body limits) into the contract's answer. Our own [`ApiError`]s pass through.
pub(crate) fn from_poem_error(err: poem::Error) -> ApiError {
    if let Some(api) = err.downcast_ref::<ApiError>() {
        return api.clone();
    }
    match err.status() {
        StatusCode::NOT_FOUND => ApiError::not_found(),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::method_not_allowed(),
        StatusCode::UNAUTHORIZED => ApiError::unauthorized(),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(),
        status if status.is_client_error() => ApiError::bad_request(),
        _ => ApiError::internal(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        let secs = |d: time::Duration| ApiError::too_many_attempts(d).retry_after_secs;
        assert_eq!(secs(time::Duration::milliseconds(1200)), Some(2));
        assert_eq!(secs(time::Duration::milliseconds(1)), Some(1));
        assert_eq!(secs(time::Duration::seconds(3)), Some(3));
        assert_eq!(secs(time::Duration::ZERO), Some(1));
        assert_eq!(secs(time::Duration::seconds(-5)), Some(1));
    }

    #[test]
    fn a_missing_policy_is_its_own_checkout_refusal() {
        use library_circulation::CheckoutRefusal;
        for err in [
            ApiError::from(CheckoutError::Refused(CheckoutRefusal::NoPolicy)),
            ApiError::from(CollectHoldError::Refused(CheckoutRefusal::NoPolicy)),
        ] {
            assert_eq!(
                (err.status(), err.code(), err.reason()),
                (StatusCode::CONFLICT, "checkout_refused", Some("no_policy"))
            );
        }
    }

    #[test]
    fn poem_failures_become_contract_errors() {
        use poem::http::StatusCode as S;
        let code = |status: S| from_poem_error(poem::Error::from_status(status)).code();
        assert_eq!(code(S::NOT_FOUND), "not_found");
        assert_eq!(code(S::UNAUTHORIZED), "unauthorized");
        assert_eq!(code(S::PAYLOAD_TOO_LARGE), "payload_too_large");
        assert_eq!(code(S::UNSUPPORTED_MEDIA_TYPE), "bad_request");
        assert_eq!(code(S::BAD_REQUEST), "bad_request");
        assert_eq!(code(S::METHOD_NOT_ALLOWED), "method_not_allowed");
        let ours = poem::Error::from(ApiError::password_change_required());
        assert_eq!(from_poem_error(ours).code(), "password_change_required");
    }
}
