//! First start: the circulation policy and the bootstrap `admin` staff user (docs/http.md,
//! Bootstrap and test clock; docs/policy.md, "Where the profile is stored").
//!
//! **First start** means: no staff user `admin` exists yet. Then, before creating it, the
//! server stores the configured policy ([`Policy`]: the "hkpl" profile by default) if and
//! only if no rule is stored (`RuleStore::store_if_empty`, one transaction under the rules'
//! lock). So:
//! - a restart never touches the rules: `admin` exists, whatever staff did to the rules
//!   (even removing them all);
//! - processes starting together on an empty PostgreSQL database store it once: each sees
//!   no `admin`, and the first to take the rules' lock stores; the others find rules;
//! - a start that failed after storing the policy (say, a weak `LIBRARY_ADMIN_PASSWORD`)
//!   finds the rules on the next try and keeps them;
//! - a database from before this rule, whose `admin` exists, is left as it is:
//!   `library-admin policy apply` stores a policy there.

use library_credentials::{
    CredentialService, OsRandom, PasswordViolation, Secret, StaffCredentialStore,
    StaffPasswordError, StaffRole, generate_temporary_password,
};
use library_persistence::{Database, NewStaffUser, StaffStore};
use time::OffsetDateTime;

use crate::config::Config;
use crate::policy::Policy;

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
    /// The initial policy could not be stored.
    #[error("cannot store the initial circulation policy: {0}")]
    Policy(String),
}

fn codes(violations: &[PasswordViolation]) -> String {
    violations
        .iter()
        .map(|v| v.code())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first start's work: the policy (only on a first start, see the module
/// documentation), then the `admin` user.
pub async fn bootstrap(
    db: &Database,
    credentials: &CredentialService,
    config: &Config,
    now: OffsetDateTime,
) -> Result<(), BootstrapError> {
    let staff = db.staff();
    let first_start = staff
        .find_staff_by_username(ADMIN_USERNAME)
        .await
        .map_err(|e| BootstrapError::Store(e.to_string()))?
        .is_none();
    if first_start {
        store_initial_policy(db, &config.policy).await?;
    } else if matches!(config.policy, Policy::Scopes(_)) {
        tracing::info!(
            "the [policy] section of the configuration file is stored on a first start only; \
             this database has been started before, so its rules are kept \
             (library-admin policy apply FILE replaces them)"
        );
    }
    ensure_admin(&staff, credentials, config.admin_password.as_deref(), now).await
}

/// Stores `policy` as the circulation rules, unless some rule is stored already.
async fn store_initial_policy(db: &Database, policy: &Policy) -> Result<(), BootstrapError> {
    let scoped = policy.scoped_rules();
    if scoped.is_empty() {
        tracing::warn!(
            "first start with no circulation policy (profile \"none\"): every checkout is \
             refused no_policy until rules are set (PUT /api/v1/circulation/rules or \
             library-admin policy apply)"
        );
        return Ok(());
    }
    let stored = db
        .rules()
        .store_if_empty(&scoped)
        .await
        .map_err(|e| BootstrapError::Policy(e.to_string()))?;
    if stored {
        tracing::info!(
            scopes = scoped.len(),
            "first start: stored {} as the circulation rules (GET /api/v1/circulation/rules \
             lists them; change them with PUT /api/v1/circulation/rules or library-admin \
             policy apply)",
            policy.describe()
        );
    } else {
        tracing::info!("first start: circulation rules are stored already; kept");
    }
    Ok(())
}

/// Creates `admin` when it does not exist yet: with `password` if given (it must pass the
/// staff policy), else with a random one that is logged once.
///
/// The store has no "count staff users" yet, so "an empty staff table" is approximated by
/// "no user named admin" (staff users cannot be deleted today, so the two agree).
async fn ensure_admin(
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
            may_override: false,
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
