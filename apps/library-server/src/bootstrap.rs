//! First start: the bootstrap `admin` staff user (docs/http.md, Bootstrap and test clock).

use library_credentials::{
    CredentialService, OsRandom, PasswordViolation, Secret, StaffCredentialStore,
    StaffPasswordError, StaffRole, generate_temporary_password,
};
use library_persistence::{NewStaffUser, StaffStore};
use time::OffsetDateTime;

/// The bootstrap staff user.
pub const ADMIN_USERNAME: &str = "admin";

/// Why the bootstrap user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// `LIBRARY_ADMIN_PASSWORD` breaks the staff password policy.
    #[error(
        "LIBRARY_ADMIN_PASSWORD is not acceptable ({}); it needs 8 to 128 characters with an \
         upper-case letter, a lower-case letter and a digit, must not be a common password \
         and must not contain the username",
        codes(.0)
    )]
    WeakAdminPassword(Vec<PasswordViolation>),
    /// The database failed.
    #[error("cannot create the admin user: {0}")]
    Store(String),
}

fn codes(violations: &[PasswordViolation]) -> String {
    violations
        .iter()
        .map(|v| v.code())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Creates `admin` when it does not exist yet: with `password` if given (it must pass the
/// staff policy), else with a random one that is logged once.
///
/// The store has no "count staff users" yet, so "an empty staff table" is approximated by
/// "no user named admin" (staff users cannot be deleted today, so the two agree).
pub(crate) async fn ensure_admin(
    staff: &StaffStore,
    credentials: &CredentialService,
    password: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), BootstrapError> {
    let store_err = |e: library_credentials::PortError| BootstrapError::Store(e.to_string());
    if staff
        .find_staff_by_username(ADMIN_USERNAME)
        .await
        .map_err(store_err)?
        .is_some()
    {
        return Ok(());
    }
    let (hash, generated) = match password {
        Some(given) => {
            let hash = credentials
                .hash_staff_password(ADMIN_USERNAME, &Secret::new(given))
                .await
                .map_err(|e| match e {
                    StaffPasswordError::Rejected(v) => BootstrapError::WeakAdminPassword(v),
                    StaffPasswordError::Infrastructure(e) => store_err(e),
                })?;
            (hash, None)
        }
        None => {
            let mut attempt = 0;
            loop {
                let candidate = generate_temporary_password(&OsRandom);
                match credentials
                    .hash_staff_password(ADMIN_USERNAME, &candidate)
                    .await
                {
                    Ok(hash) => break (hash, Some(candidate)),
                    Err(StaffPasswordError::Rejected(v)) if attempt < 16 => {
                        attempt += 1;
                        tracing::debug!(violations = codes(&v), "drawing another admin password");
                    }
                    Err(StaffPasswordError::Rejected(v)) => {
                        return Err(BootstrapError::WeakAdminPassword(v));
                    }
                    Err(StaffPasswordError::Infrastructure(e)) => return Err(store_err(e)),
                }
            }
        }
    };
    let created = staff
        .create(&NewStaffUser {
            username: ADMIN_USERNAME.to_owned(),
            password_hash: hash,
            role: StaffRole::Admin,
            created_at: now,
        })
        .await;
    if let Err(err) = created {
        // Another process sharing the database may have created it at the same moment.
        if staff
            .find_staff_by_username(ADMIN_USERNAME)
            .await
            .map_err(store_err)?
            .is_some()
        {
            return Ok(());
        }
        return Err(store_err(err));
    }
    match generated {
        Some(secret) => tracing::warn!(
            username = ADMIN_USERNAME,
            password = secret.expose(),
            "created the bootstrap staff user with a random password (shown only this once; \
             set LIBRARY_ADMIN_PASSWORD to choose it)"
        ),
        None => tracing::info!(
            username = ADMIN_USERNAME,
            "created the bootstrap staff user with LIBRARY_ADMIN_PASSWORD"
        ),
    }
    Ok(())
}
