//! SIP2 station accounts (docs/http.md, SIP2 stations): create, list, change settings,
//! delete. Staff only.
//!
//! The password is checked against the station rules and hashed on the blocking pool
//! like every secret; it is never returned, and neither is its hash. Deleting an account
//! also closes the SIP2 connections logged in with it.

use library_core::LibraryCode;
use library_credentials::{
    Secret, StationSettings, StationUsername, StationViolation, check_station_password,
};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use time::OffsetDateTime;

use super::ApiTags;
use super::common::{audit_record, shown};
use super::types::{NoContent, Text};
use crate::auth::StaffAuth;
use crate::error::ApiError;
use library_app::Services;
use library_app::{NewStation, StationInfo};

/// `POST /sip2/stations`.
#[derive(Debug, Object)]
struct NewStationRequest {
    /// What the station sends in `CN`: 1 to 32 of `a-z 0-9 _ . -`.
    #[oai(validator(pattern = "^[a-z0-9_.-]{1,32}$"))]
    username: Text,
    /// What the station sends in `CO`: 12 to 128 characters, no `|` or control characters.
    #[oai(validator(
        min_length = 12,
        max_length = 128,
        pattern = "^[^|\\u0000-\\u001F\\u007F-\\u009F\\u00AD\\u061C\\u180E\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u206F\\uFEFF\\uFFF9-\\uFFFB]*$"
    ))]
    password: Text,
    /// The library the station's checkouts lend from.
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
    library_code: Text,
    /// Every message that acts for or shows a reader needs the reader's PIN (`AD`).
    /// Default `true`.
    #[oai(nullable)]
    pin_required: Option<bool>,
    /// The station may block a reader's card (`01`). Default `false`.
    #[oai(nullable)]
    may_block: Option<bool>,
    /// Where the station may log in from: IP addresses or CIDR ranges (`192.0.2.0/24`),
    /// at most 32. Default and `[]`: anywhere.
    #[oai(nullable)]
    allowed_addresses: Option<Vec<Text>>,
}

/// `PATCH /sip2/stations/{username}`: the settings to change; those left out stay.
#[derive(Debug, Object)]
struct StationSettingsChange {
    /// Every message that acts for or shows a reader needs the reader's PIN (`AD`).
    #[oai(nullable)]
    pin_required: Option<bool>,
    /// The station may block a reader's card (`01`).
    #[oai(nullable)]
    may_block: Option<bool>,
    /// Where the station may log in from: IP addresses or CIDR ranges, at most 32;
    /// `[]`: anywhere.
    #[oai(nullable)]
    allowed_addresses: Option<Vec<Text>>,
}

/// The allow-list as sent, checked: 422 `allowed_addresses_invalid` for an entry that is
/// not an address or a CIDR range, or more than 32 entries.
fn allowed_addresses(
    sent: Option<Vec<Text>>,
    violations: &mut Vec<&'static str>,
) -> Option<Vec<library_credentials::AddressRange>> {
    let sent = sent?;
    match StationSettings::parse_addresses(sent.iter().map(|t| t.0.as_str())) {
        Ok(ranges) => Some(ranges),
        Err(_) => {
            violations.push("allowed_addresses_invalid");
            None
        }
    }
}

/// The settings as the API shows them (and audits them).
fn settings_json(settings: &StationSettings) -> serde_json::Value {
    json!({
        "pin_required": settings.pin_required,
        "may_block": settings.may_block,
        "allowed_addresses": settings
            .allowed_addresses
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
    })
}

/// A station account (never its password).
#[derive(Debug, Object)]
struct StationBody {
    username: String,
    /// The library its checkouts lend from.
    library_code: String,
    created_at: OffsetDateTime,
    /// The staff user (or `library-admin`) who created it.
    created_by: String,
    /// Every message that acts for or shows a reader needs the reader's PIN.
    pin_required: bool,
    /// The station may block a reader's card (`01`).
    may_block: bool,
    /// Where the station may log in from (canonical: host bits cleared); empty: anywhere.
    allowed_addresses: Vec<String>,
}

impl From<StationInfo> for StationBody {
    fn from(s: StationInfo) -> Self {
        Self {
            username: s.username.as_str().to_owned(),
            library_code: s.library.as_str().to_owned(),
            created_at: shown(s.created_at),
            created_by: s.created_by,
            pin_required: s.settings.pin_required,
            may_block: s.settings.may_block,
            allowed_addresses: s
                .settings
                .allowed_addresses
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }
}

#[derive(ApiResponse)]
enum Changed {
    /// The station as it is now. Its open SIP2 connections are closed, so it logs in again
    /// under the new settings.
    #[oai(status = 200)]
    Ok(Json<StationBody>),
}

/// `GET /sip2/stations`.
#[derive(Debug, Object)]
struct StationsBody {
    stations: Vec<StationBody>,
}

#[derive(ApiResponse)]
enum Created {
    /// Created; the station may log in with `93` at once.
    #[oai(status = 201)]
    Created(Json<StationBody>),
}

pub(crate) struct Sip2Api {
    state: Services,
}

impl Sip2Api {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Sip2")]
impl Sip2Api {
    /// Creates a SIP2 station account (staff). 422 `validation_failed` with
    /// `username_invalid`, `password_too_short`, `password_too_long`, `password_invalid`,
    /// `library_code_invalid` or `unknown_library`; 409 `already_exists` for a username
    /// taken.
    #[oai(path = "/sip2/stations", method = "post")]
    async fn create(
        &self,
        auth: StaffAuth,
        body: Json<NewStationRequest>,
    ) -> Result<Created, ApiError> {
        let body = body.0;
        let password = Secret::new(body.password.into_string());
        let mut violations: Vec<&'static str> = Vec::new();
        let username = StationUsername::parse(&body.username.0)
            .map_err(|v| violations.push(v.code()))
            .ok();
        if let Err(v) = check_station_password(&password) {
            violations.extend(v.iter().map(|v| StationViolation::code(*v)));
        }
        let library = LibraryCode::parse(&body.library_code.0)
            .map_err(|_| violations.push("library_code_invalid"))
            .ok();
        let defaults = StationSettings::default();
        let settings = StationSettings {
            pin_required: body.pin_required.unwrap_or(defaults.pin_required),
            may_block: body.may_block.unwrap_or(defaults.may_block),
            allowed_addresses: allowed_addresses(body.allowed_addresses, &mut violations)
                .unwrap_or_default(),
        };
        let (Some(username), Some(library), true) = (username, library, violations.is_empty())
        else {
            return Err(ApiError::validation_failed(violations));
        };
        let password_hash = self
            .state
            .credentials
            .hash_station_password(&password)
            .await?;
        let created_by = auth
            .0
            .staff
            .as_ref()
            .map_or_else(|| "staff".to_owned(), |s| s.username.clone());
        let station = NewStation {
            username,
            password_hash,
            library,
            created_at: self.state.clock.now(),
            created_by,
            settings,
        };
        let mut details = settings_json(&station.settings);
        details["library_code"] = station.library.as_str().into();
        let audit = audit_record(
            &self.state,
            &auth.0,
            "sip2_station.create",
            format!("sip2_station:{}", station.username),
            &details,
        );
        self.state.sip2_stations.create(&station, audit).await?;
        tracing::info!(station = %station.username, library = %station.library, "SIP2 station created");
        Ok(Created::Created(Json(StationBody::from(StationInfo {
            username: station.username,
            library: station.library,
            created_at: station.created_at,
            created_by: station.created_by,
            settings: station.settings,
        }))))
    }

    /// Changes a station's settings (staff): `pin_required`, `may_block`,
    /// `allowed_addresses`; those left out stay as they are. Audited
    /// `sip2_station.settings` with the settings now in force. 404 for an unknown
    /// username; 422 `validation_failed` with `allowed_addresses_invalid`.
    #[oai(path = "/sip2/stations/:username", method = "patch")]
    async fn change(
        &self,
        auth: StaffAuth,
        username: Path<Text>,
        body: Json<StationSettingsChange>,
    ) -> Result<Changed, ApiError> {
        let username = StationUsername::parse(&username.0).map_err(|_| ApiError::not_found())?;
        let body = body.0;
        let mut violations = Vec::new();
        let addresses = allowed_addresses(body.allowed_addresses, &mut violations);
        if !violations.is_empty() {
            return Err(ApiError::validation_failed(violations));
        }
        let mut station = self
            .state
            .sip2_stations
            .list()
            .await?
            .into_iter()
            .find(|s| s.username == username)
            .ok_or_else(ApiError::not_found)?;
        let settings = &mut station.settings;
        if let Some(pin_required) = body.pin_required {
            settings.pin_required = pin_required;
        }
        if let Some(may_block) = body.may_block {
            settings.may_block = may_block;
        }
        if let Some(addresses) = addresses {
            settings.allowed_addresses = addresses;
        }
        let audit = audit_record(
            &self.state,
            &auth.0,
            "sip2_station.settings",
            format!("sip2_station:{username}"),
            &settings_json(&station.settings),
        );
        self.state
            .sip2_stations
            .update_settings(&username, &station.settings, audit)
            .await?;
        tracing::info!(station = %username, "SIP2 station settings changed");
        Ok(Changed::Ok(Json(StationBody::from(station))))
    }

    /// Every SIP2 station account (staff), by username.
    #[oai(path = "/sip2/stations", method = "get")]
    async fn list(&self, _auth: StaffAuth) -> Result<Json<StationsBody>, ApiError> {
        let stations = self
            .state
            .sip2_stations
            .list()
            .await?
            .into_iter()
            .map(StationBody::from)
            .collect();
        Ok(Json(StationsBody { stations }))
    }

    /// Deletes a SIP2 station account (staff) and closes its open connections. 404 for an
    /// unknown username.
    #[oai(path = "/sip2/stations/:username", method = "delete")]
    async fn delete(&self, auth: StaffAuth, username: Path<Text>) -> Result<NoContent, ApiError> {
        let username = StationUsername::parse(&username.0).map_err(|_| ApiError::not_found())?;
        let audit = |closed: usize| {
            audit_record(
                &self.state,
                &auth.0,
                "sip2_station.delete",
                format!("sip2_station:{username}"),
                &json!({"connections_closed": closed}),
            )
        };
        let closed = self
            .state
            .sip2_stations
            .delete(&username, &audit)
            .await?
            .ok_or_else(ApiError::not_found)?;
        tracing::info!(station = %username, connections_closed = closed, "SIP2 station deleted");
        Ok(NoContent::NoContent)
    }
}
