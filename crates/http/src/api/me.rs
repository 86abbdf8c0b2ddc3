//! My Account: the profile, changing the Password and the PIN.

use library_credentials::Secret;
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use time::Date;

use super::ApiTags;
use super::types::{NoContent, SessionBody, Text};
use crate::auth::{PasswordChangeAuth, ReaderAuth, attempt_source};
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /me`.
#[derive(Debug, Object)]
struct MeBody {
    card_number: String,
    name: String,
    /// Reader category (`adult`, `child`, ...).
    category: Option<String>,
    email: Option<String>,
    /// Home library code.
    home_library: Option<String>,
    /// Last day the card is valid.
    card_expires_on: Option<Date>,
    /// First day the reader may borrow again after a suspension.
    suspended_until: Option<Date>,
    /// Unpaid charges and accruing fines; always 0 until the circulation increment.
    outstanding_cents: i64,
}

/// `PUT /me/password`.
#[derive(Object)]
struct ChangePasswordRequest {
    current_password: Text,
    new_password: Text,
}

/// `PUT /me/pin`.
#[derive(Object)]
struct ChangePinRequest {
    password: Text,
    new_pin: Text,
}

pub(crate) struct MeApi {
    state: AppState,
}

impl MeApi {
    pub(crate) fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Me")]
impl MeApi {
    /// My profile (Password session).
    ///
    /// Loans and fines come with the circulation increment: until then
    /// `outstanding_cents` is 0.
    #[oai(path = "/me", method = "get")]
    async fn me(&self, auth: ReaderAuth) -> Result<Json<MeBody>, ApiError> {
        let patron = auth.0.session.patron().ok_or_else(ApiError::forbidden)?;
        let profile = self
            .state
            .readers
            .profile(patron)
            .await?
            .ok_or_else(ApiError::not_found)?;
        Ok(Json(MeBody {
            card_number: profile.card_number.as_str().to_owned(),
            name: profile.name,
            category: profile.category,
            email: profile.email,
            home_library: profile.home_library,
            card_expires_on: profile.card_expires_on,
            suspended_until: profile.suspended_until,
            outstanding_cents: 0,
        }))
    }

    /// Changes the Password (`full` or `change_password_only` session).
    ///
    /// Every earlier session of the reader, this one included, is revoked; the answer is a
    /// new `full` session.
    #[oai(path = "/me/password", method = "put")]
    async fn change_password(
        &self,
        auth: PasswordChangeAuth,
        req: &Request,
        body: Json<ChangePasswordRequest>,
    ) -> Result<Json<SessionBody>, ApiError> {
        let body = body.0;
        let issued = self
            .state
            .credentials
            .change_password(
                &auth.0.session,
                &Secret::new(body.current_password.into_string()),
                &Secret::new(body.new_password.into_string()),
                &attempt_source(req),
            )
            .await?;
        Ok(Json(issued.into()))
    }

    /// Changes the PIN (`full` session and the Password). Revokes the reader's PIN
    /// sessions and lifts a PIN lock.
    #[oai(path = "/me/pin", method = "put")]
    async fn change_pin(
        &self,
        auth: ReaderAuth,
        req: &Request,
        body: Json<ChangePinRequest>,
    ) -> Result<NoContent, ApiError> {
        let body = body.0;
        self.state
            .credentials
            .change_pin(
                &auth.0.session,
                &Secret::new(body.password.into_string()),
                &Secret::new(body.new_pin.into_string()),
                &attempt_source(req),
            )
            .await?;
        Ok(NoContent::NoContent)
    }
}
