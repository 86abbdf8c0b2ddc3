//! Staff: login, reader registration, Password reset at the counter.

use library_core::CardNumber;
use library_credentials::Secret;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use time::{Date, OffsetDateTime};

use super::ApiTags;
use super::types::{Text, local};
use crate::auth::{StaffAuth, attempt_source};
use crate::error::ApiError;
use crate::registration::{RegistrationForm, register};
use crate::state::AppState;

/// `POST /staff/login`.
#[derive(Object)]
struct StaffLoginRequest {
    username: Text,
    password: Text,
}

/// A staff session.
#[derive(Object)]
struct StaffSessionBody {
    /// The bearer token (shown once).
    token: String,
    /// When it stops working.
    expires_at: OffsetDateTime,
}

/// `POST /patrons`.
#[derive(Debug, Object)]
struct RegisterPatronRequest {
    name: Text,
    /// At least four digits: the last four are the default Password and PIN.
    phone: Text,
    email: Option<Text>,
    /// Reader category, `[a-z0-9_]{1,32}`.
    category: Text,
    date_of_birth: Option<Date>,
    /// Library code.
    home_library: Text,
}

/// A registered reader.
#[derive(Debug, Object)]
struct RegisteredBody {
    /// The new card number (14 digits starting `21`).
    card_number: String,
    id: i64,
}

#[derive(ApiResponse)]
enum Registered {
    /// Registered; the Password and PIN are the last four digits of the phone.
    #[oai(status = 201)]
    Created(Json<RegisteredBody>),
}

/// A temporary password to hand to the reader.
#[derive(Object)]
struct TemporaryPasswordBody {
    /// Good for one login, which must change the Password.
    temporary_password: String,
    expires_at: OffsetDateTime,
}

pub(crate) struct StaffApi {
    state: AppState,
}

impl StaffApi {
    pub(crate) fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Staff")]
impl StaffApi {
    /// Staff login: a `staff` session.
    #[oai(path = "/staff/login", method = "post")]
    async fn login(
        &self,
        req: &Request,
        body: Json<StaffLoginRequest>,
    ) -> Result<Json<StaffSessionBody>, ApiError> {
        let body = body.0;
        let (issued, staff) = self
            .state
            .credentials
            .staff_login(
                &body.username.0,
                &Secret::new(body.password.into_string()),
                &attempt_source(req),
            )
            .await?;
        tracing::info!(staff = %staff.username, "staff login");
        Ok(Json(StaffSessionBody {
            token: issued.token.expose().to_owned(),
            expires_at: local(issued.expires_at),
        }))
    }

    /// Registers a reader (staff). Generates the card number; the default Password and
    /// PIN are the last four digits of the phone.
    #[oai(path = "/patrons", method = "post")]
    async fn register_patron(
        &self,
        auth: StaffAuth,
        body: Json<RegisterPatronRequest>,
    ) -> Result<Registered, ApiError> {
        let body = body.0;
        let form = RegistrationForm {
            name: body.name.into_string(),
            phone: body.phone.into_string(),
            email: body.email.map(Text::into_string),
            category: body.category.into_string(),
            date_of_birth: body.date_of_birth,
            home_library: body.home_library.into_string(),
        };
        let (card, patron) = register(&self.state, form).await?;
        super::common::audit(
            &self.state,
            &auth.0,
            "reader.register",
            format!("patron:{}", patron.get()),
            serde_json::json!({"card_number": card.as_str()}),
        )
        .await;
        tracing::info!(
            staff = auth.0.staff.as_ref().map(|s| s.username.as_str()),
            patron = patron.get(),
            "reader registered"
        );
        Ok(Registered::Created(Json(RegisteredBody {
            card_number: card.as_str().to_owned(),
            id: patron.get(),
        })))
    }

    /// Password reset at the counter (staff): a one-time temporary password to hand over.
    /// Every session of the reader is revoked.
    #[oai(path = "/patrons/:card_number/password-reset", method = "post")]
    async fn reset_password(
        &self,
        auth: StaffAuth,
        card_number: Path<String>,
    ) -> Result<Json<TemporaryPasswordBody>, ApiError> {
        let card = CardNumber::parse(&card_number.0).map_err(|_| ApiError::not_found())?;
        let issued = self.state.credentials.staff_reset_password(&card).await?;
        super::common::audit(
            &self.state,
            &auth.0,
            "reader.password_reset",
            format!("card:{card}"),
            serde_json::json!({}),
        )
        .await;
        tracing::info!(
            staff = auth.0.staff.as_ref().map(|s| s.username.as_str()),
            card = %card,
            "Password reset at the counter"
        );
        Ok(Json(TemporaryPasswordBody {
            temporary_password: issued.password.expose().to_owned(),
            expires_at: local(issued.expires_at),
        }))
    }
}
