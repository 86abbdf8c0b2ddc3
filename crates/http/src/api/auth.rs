//! Reader authentication: Password login, PIN login, logout, forgotten Password.

use library_credentials::Secret;
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::types::{AnyText, NoContent, SessionBody, Text};
use crate::auth::{SessionAuth, attempt_source};
use crate::error::ApiError;
use crate::text::RefusedText;
use library_app::Services;

/// `POST /auth/login`.
#[derive(Object)]
struct LoginRequest {
    card_number: Text,
    password: Text,
}

/// `POST /auth/pin-login`.
#[derive(Object)]
struct PinLoginRequest {
    card_number: Text,
    pin: Text,
}

/// `POST /auth/password-reset`.
#[derive(Object)]
struct PasswordResetRequest {
    /// Any string: the answer is the same whatever it holds.
    email: AnyText,
}

/// An empty JSON object.
#[derive(Object)]
struct Empty {}

#[derive(ApiResponse)]
enum ResetAccepted {
    /// Always the same answer, whether or not the email is registered.
    #[oai(status = 202)]
    Accepted(Json<Empty>),
}

pub(crate) struct AuthApi {
    state: Services,
}

impl AuthApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Password login.
    ///
    /// `scope` is `change_password_only` after the default or a temporary Password, else
    /// `full`. Every failure is the same 401 `invalid_credentials`.
    #[oai(path = "/auth/login", method = "post")]
    async fn login(
        &self,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> Result<Json<SessionBody>, ApiError> {
        let body = body.0;
        let issued = self
            .state
            .credentials
            .login(
                &body.card_number.0,
                &Secret::new(body.password.into_string()),
                &attempt_source(req),
            )
            .await?;
        Ok(Json(issued.into()))
    }

    /// PIN login (telephone renewal, terminals): a `pin` session, which may only list
    /// loans and renew.
    #[oai(path = "/auth/pin-login", method = "post")]
    async fn pin_login(
        &self,
        req: &Request,
        body: Json<PinLoginRequest>,
    ) -> Result<Json<SessionBody>, ApiError> {
        let body = body.0;
        let issued = self
            .state
            .credentials
            .pin_login(
                &body.card_number.0,
                &Secret::new(body.pin.into_string()),
                &attempt_source(req),
            )
            .await?;
        Ok(Json(issued.into()))
    }

    /// Ends the session the token opened (any scope).
    #[oai(path = "/auth/logout", method = "post")]
    async fn logout(&self, auth: SessionAuth) -> Result<NoContent, ApiError> {
        self.state.credentials.logout(&auth.0.session).await?;
        Ok(NoContent::NoContent)
    }

    /// Forgotten Password: a temporary password is sent to every reader registered with
    /// this email, at most 3 per reader an hour; a source (IP address) makes at most 10
    /// requests an hour. The answer is the same for any email, and beyond either limit.
    #[oai(path = "/auth/password-reset", method = "post")]
    async fn password_reset(
        &self,
        req: &Request,
        body: Json<PasswordResetRequest>,
    ) -> Result<ResetAccepted, ApiError> {
        // A refused character (`crate::text`) names no reader's email: the same answer,
        // nothing sent. The body was parsed first, so a malformed one is 400 as always.
        if req.data::<RefusedText>().is_some() {
            return Ok(ResetAccepted::Accepted(Json(Empty {})));
        }
        self.state
            .request_password_reset(&body.0.email.0.0, &attempt_source(req))
            .await?;
        Ok(ResetAccepted::Accepted(Json(Empty {})))
    }
}
