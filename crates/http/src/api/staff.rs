//! Staff: login, reader registration, Password reset at the counter, staff users.

use library_core::{CardNumber, PatronId};
use library_credentials::{Secret, StaffRole, check_new_staff_password, is_valid_staff_username};
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;
use time::{Date, OffsetDateTime};

use super::ApiTags;
use super::common::{audit_after, audit_record};
use super::types::{Text, local};
use crate::auth::{StaffAuth, attempt_source};
use crate::error::ApiError;
use library_app::Services;
use library_app::{NewStaffMember, RegistrationForm, StaffMember};

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
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 200
    ))]
    name: Text,
    /// At least four digits: the last four are the default Password and PIN.
    phone: Text,
    #[oai(nullable)]
    email: Option<Text>,
    /// Reader category, `[a-z0-9_]{1,32}`.
    #[oai(validator(pattern = "^[a-z0-9_]{1,32}$"))]
    category: Text,
    #[oai(nullable)]
    date_of_birth: Option<Date>,
    /// Library code.
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
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

/// A staff role on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum RoleDto {
    /// Every staff operation, the configuration included.
    Admin,
    /// The counter's work: readers, circulation, payments, the catalogue, activities,
    /// notices, enquiries.
    Librarian,
}

impl From<RoleDto> for StaffRole {
    fn from(role: RoleDto) -> Self {
        match role {
            RoleDto::Admin => StaffRole::Admin,
            RoleDto::Librarian => StaffRole::Librarian,
        }
    }
}

impl From<StaffRole> for RoleDto {
    fn from(role: StaffRole) -> Self {
        match role {
            StaffRole::Admin => RoleDto::Admin,
            StaffRole::Librarian => RoleDto::Librarian,
        }
    }
}

/// `POST /staff/users`.
#[derive(Object)]
struct NewStaffUserRequest {
    /// 1 to 64 letters, digits, `.`, `_`, `-` or `@`; stored lower-cased, unique in any case.
    #[oai(validator(pattern = "^[A-Za-z0-9._@-]{1,64}$"))]
    username: Text,
    /// The staff Password policy: 8 to 128 characters with an upper-case letter, a
    /// lower-case letter and a digit, not a common password, not containing the username.
    #[oai(validator(min_length = 8, max_length = 128))]
    password: Text,
    role: RoleDto,
    /// Permissions beyond the role: `override` (a librarian may check out or renew past
    /// `quota_reached`, `fines_over_limit`, `on_hold_for_another`, `too_many_renewals`;
    /// an administrator always may). Set once, at creation.
    #[oai(default)]
    permissions: Vec<PermissionDto>,
}

/// A permission a staff user may be granted beyond their role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
enum PermissionDto {
    /// Check out or renew past the refusals staff may override.
    Override,
}

/// A staff user (never the password).
#[derive(Debug, Object)]
struct StaffUserBody {
    /// As stored (lower-cased).
    username: String,
    role: RoleDto,
    /// Granted beyond the role.
    permissions: Vec<PermissionDto>,
}

impl From<StaffMember> for StaffUserBody {
    fn from(m: StaffMember) -> Self {
        Self {
            username: m.username,
            role: m.role.into(),
            permissions: if m.may_override {
                vec![PermissionDto::Override]
            } else {
                Vec::new()
            },
        }
    }
}

/// `GET /staff/users`.
#[derive(Debug, Object)]
struct StaffUsersBody {
    users: Vec<StaffUserBody>,
}

#[derive(ApiResponse)]
enum StaffUserCreated {
    /// Created; the user may log in at once.
    #[oai(status = 201)]
    Created(Json<StaffUserBody>),
}

pub(crate) struct StaffApi {
    state: Services,
}

impl StaffApi {
    pub(crate) fn new(state: Services) -> Self {
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
        // Audited in the transaction that stores the reader.
        let audit = |patron: PatronId, card: &CardNumber| {
            audit_record(
                &self.state,
                &auth.0,
                "reader.register",
                format!("patron:{}", patron.get()),
                &json!({"card_number": card.as_str()}),
            )
        };
        let (card, patron) = self.state.register_reader(form, Some(&audit)).await?;
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
        card_number: Path<Text>,
    ) -> Result<Json<TemporaryPasswordBody>, ApiError> {
        let card = CardNumber::parse(&card_number.0).map_err(|_| ApiError::not_found())?;
        let issued = self.state.credentials.staff_reset_password(&card).await?;
        // The reset is several writes of the credential service (the temporary password,
        // the throttle, the sessions, the notice), none of which takes an audit entry: the
        // one change audited after it is done.
        audit_after(
            &self.state,
            &auth.0,
            "reader.password_reset",
            format!("card:{card}"),
            &json!({}),
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

    /// Creates a staff user (administrators). 422 `validation_failed` with
    /// `username_invalid` and the staff Password policy's violations (`too_short`,
    /// `too_long`, `missing_uppercase`, `missing_lowercase`, `missing_digit`,
    /// `common_password`, `contains_personal_info`, `context_word`, `control_character`); 409
    /// `already_exists` for a username taken (in any case). Audited `staff.create`.
    #[oai(path = "/staff/users", method = "post")]
    async fn create_staff_user(
        &self,
        auth: StaffAuth,
        body: Json<NewStaffUserRequest>,
    ) -> Result<StaffUserCreated, ApiError> {
        let body = body.0;
        let username = body.username.into_string();
        let password = Secret::new(body.password.into_string());
        let mut violations: Vec<&'static str> = Vec::new();
        if !is_valid_staff_username(&username) {
            violations.push("username_invalid");
        }
        if let Err(v) = check_new_staff_password(&password, &username) {
            violations.extend(v.iter().map(|v| v.code()));
        }
        if !violations.is_empty() {
            return Err(ApiError::validation_failed(violations));
        }
        // The policy again, then the hash, on the hashing threads.
        let password_hash = self
            .state
            .credentials
            .hash_staff_password(&username, &password)
            .await?;
        let role = StaffRole::from(body.role);
        let audit = |created: &StaffMember| {
            audit_record(
                &self.state,
                &auth.0,
                "staff.create",
                format!("staff:{}", created.id.get()),
                &json!({"username": created.username, "role": role.as_str(),
                        "permissions": if created.may_override { vec!["override"] } else { vec![] }}),
            )
        };
        let created = self
            .state
            .staff
            .create(
                &NewStaffMember {
                    username,
                    password_hash,
                    role,
                    may_override: body.permissions.contains(&PermissionDto::Override),
                    created_at: self.state.clock.now(),
                },
                &audit,
            )
            .await?
            .ok_or_else(ApiError::already_exists)?;
        tracing::info!(
            staff = auth.0.staff.as_ref().map(|s| s.username.as_str()),
            created = %created.username,
            role = role.as_str(),
            "staff user created"
        );
        Ok(StaffUserCreated::Created(Json(created.into())))
    }

    /// Every staff user (administrators), by username.
    #[oai(path = "/staff/users", method = "get")]
    async fn list_staff_users(&self, _auth: StaffAuth) -> Result<Json<StaffUsersBody>, ApiError> {
        let users = self
            .state
            .staff
            .list()
            .await?
            .into_iter()
            .map(StaffUserBody::from)
            .collect();
        Ok(Json(StaffUsersBody { users }))
    }
}
