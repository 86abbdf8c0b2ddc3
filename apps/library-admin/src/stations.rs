//! `sip2-station create | set | list | delete`: SIP2 station accounts, through the
//! application layer's `Sip2Stations` with the password rules and hasher
//! `POST /api/v1/sip2/stations` uses; each change audited in its own transaction.
//!
//! Deleting a station here removes the account at once (a station can no longer log in);
//! connections it already holds to a running server end when they next log in or when
//! the server restarts. `DELETE /api/v1/sip2/stations/{username}` also closes them.

use std::io::BufRead;

use library_app::{AdminError, NewStation};
use library_core::{DEFAULT_LIBRARY_OFFSET, LibraryCode};
use library_credentials::{
    OsRandom, Secret, StationPasswordError, StationSettings, StationUsername,
    generate_temporary_password,
};
use time::format_description::well_known::Rfc3339;

use crate::context::{Context, Failure};

const CREATED_BY: &str = "library-admin";

fn username(text: &str) -> Result<StationUsername, Failure> {
    StationUsername::parse(text).map_err(|_| {
        Failure::Usage(format!(
            "station username {text:?}: 1 to 32 of a-z, 0-9, '_', '.', '-'"
        ))
    })
}

/// Settings to give a station; `None` keeps what it has (or the default).
#[derive(Debug, Default)]
pub struct SettingsChange {
    /// `--pin-required`.
    pub pin_required: Option<bool>,
    /// `--may-block`.
    pub may_block: Option<bool>,
    /// `--allow` (replaces the list) or `--allow-any` (empty).
    pub allowed_addresses: Option<Vec<String>>,
}

impl SettingsChange {
    /// `settings` with the change applied; a usage error for an address that is not one.
    fn apply(&self, mut settings: StationSettings) -> Result<StationSettings, Failure> {
        if let Some(pin_required) = self.pin_required {
            settings.pin_required = pin_required;
        }
        if let Some(may_block) = self.may_block {
            settings.may_block = may_block;
        }
        if let Some(addresses) = &self.allowed_addresses {
            settings.allowed_addresses = StationSettings::parse_addresses(
                addresses.iter().map(String::as_str),
            )
            .map_err(|bad| {
                Failure::Usage(format!(
                    "--allow {bad:?}: an IP address or a CIDR range \
                             (192.0.2.0/24), at most 32"
                ))
            })?;
        }
        Ok(settings)
    }
}

/// The settings as one line of `list`: `pin_required=… may_block=… addresses=…`.
fn shown(settings: &StationSettings) -> String {
    let addresses = if settings.allowed_addresses.is_empty() {
        "any".to_owned()
    } else {
        settings
            .allowed_addresses
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "pin_required={} may_block={} addresses={addresses}",
        settings.pin_required, settings.may_block
    )
}

fn settings_json(settings: &StationSettings) -> serde_json::Value {
    serde_json::json!({
        "pin_required": settings.pin_required,
        "may_block": settings.may_block,
        "allowed_addresses": settings
            .allowed_addresses
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
    })
}

/// Creates a station account; prints the generated password when none was given.
pub async fn create(
    ctx: &Context,
    name: &str,
    library: &str,
    password_stdin: bool,
    change: &SettingsChange,
) -> Result<(), Failure> {
    let name = username(name)?;
    let settings = change.apply(StationSettings::default())?;
    let library = LibraryCode::parse(library)
        .map_err(|_| Failure::Usage(format!("library code {library:?} is not one")))?;
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::failed(format!("reading the password from stdin: {e}")))?;
        let password = line.trim_end_matches(['\n', '\r']);
        if password.is_empty() {
            return Err(Failure::failed("no password on stdin"));
        }
        (Secret::new(password), false)
    } else {
        (generate_temporary_password(&OsRandom), true)
    };
    let hash = ctx
        .credentials()
        .hash_station_password(&password)
        .await
        .map_err(|e| match e {
            StationPasswordError::Rejected(v) => Failure::failed(format!(
                "the password is not acceptable: {} (12 to 128 characters, no '|' or \
                 control characters)",
                v.iter().map(|v| v.code()).collect::<Vec<_>>().join(", ")
            )),
            StationPasswordError::Infrastructure(e) => Failure::failed(e),
        })?;
    let mut details = settings_json(&settings);
    details["library_code"] = library.as_str().into();
    let audit = ctx.audit_record(
        "sip2_station.create",
        format!("sip2_station:{name}"),
        details,
    );
    let station = NewStation {
        username: name.clone(),
        password_hash: hash,
        library: library.clone(),
        created_at: ctx.now(),
        created_by: CREATED_BY.to_owned(),
        settings,
    };
    ctx.services()
        .sip2_stations
        .create(&station, audit)
        .await
        .map_err(|e| match e {
            AdminError::AlreadyExists => {
                Failure::failed(format!("SIP2 station {name} already exists"))
            }
            AdminError::Invalid(_) => Failure::failed(format!("no library has code {library}")),
            other => Failure::failed(format!("cannot create SIP2 station {name}: {other}")),
        })?;
    println!(
        "created SIP2 station {name} (lends from {library}; {})",
        shown(&station.settings)
    );
    if generated {
        println!("password: {}", password.expose());
        println!("(shown only this once)");
    }
    Ok(())
}

/// Lists the station accounts: username, library, created at, created by.
pub async fn list(ctx: &Context) -> Result<(), Failure> {
    let stations = ctx
        .services()
        .sip2_stations
        .list()
        .await
        .map_err(Failure::failed)?;
    if stations.is_empty() {
        println!("no SIP2 stations");
    }
    for s in stations {
        let created = s.created_at.to_offset(DEFAULT_LIBRARY_OFFSET);
        let created = created
            .replace_nanosecond(0)
            .unwrap_or(created)
            .format(&Rfc3339)
            .map_err(Failure::failed)?;
        println!(
            "{}\t{}\t{created}\t{}\t{}",
            s.username,
            s.library,
            s.created_by,
            shown(&s.settings)
        );
    }
    Ok(())
}

/// Changes a station's settings.
pub async fn set(ctx: &Context, name: &str, change: &SettingsChange) -> Result<(), Failure> {
    let name = username(name)?;
    let current = ctx
        .services()
        .sip2_stations
        .list()
        .await
        .map_err(Failure::failed)?
        .into_iter()
        .find(|s| s.username == name)
        .ok_or_else(|| Failure::failed(format!("no SIP2 station {name}")))?;
    let settings = change.apply(current.settings)?;
    let audit = ctx.audit_record(
        "sip2_station.settings",
        format!("sip2_station:{name}"),
        settings_json(&settings),
    );
    ctx.services()
        .sip2_stations
        .update_settings(&name, &settings, audit)
        .await
        .map_err(|e| match e {
            AdminError::NotFound => Failure::failed(format!("no SIP2 station {name}")),
            other => Failure::failed(format!("cannot change SIP2 station {name}: {other}")),
        })?;
    println!("SIP2 station {name}: {}", shown(&settings));
    Ok(())
}

/// Deletes a station account.
pub async fn delete(ctx: &Context, name: &str) -> Result<(), Failure> {
    let name = username(name)?;
    let audit = |_closed: usize| {
        ctx.audit_record(
            "sip2_station.delete",
            format!("sip2_station:{name}"),
            serde_json::json!({}),
        )
    };
    let deleted = ctx
        .services()
        .sip2_stations
        .delete(&name, &audit)
        .await
        .map_err(Failure::failed)?;
    if deleted.is_none() {
        return Err(Failure::failed(format!("no SIP2 station {name}")));
    }
    println!("deleted SIP2 station {name}");
    Ok(())
}
