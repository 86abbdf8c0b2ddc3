//! Staff login and staff passwords.

use super::{CredentialService, Guarded};
use crate::guessing::CredentialKind;
use crate::password::{PasswordViolation, check_new_staff_password};
use crate::ports::{AttemptKey, AttemptSource, PortError, SecretHash, StoredStaff};
use crate::secret::Secret;
use crate::session::{IssuedSession, Scope, Session, Subject};

use super::LoginError;

/// Longest staff username.
pub const MAX_STAFF_USERNAME_LEN: usize = 64;

/// Whether `username` may name a new staff user: 1 to [`MAX_STAFF_USERNAME_LEN`] letters,
/// digits, `.`, `_`, `-` or `@` (stored lower-cased, so unique in any case).
pub fn is_valid_staff_username(username: &str) -> bool {
    !username.is_empty()
        && username.chars().count() <= MAX_STAFF_USERNAME_LEN
        && username
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

/// Why a staff password could not be set.
#[derive(Debug, thiserror::Error)]
pub enum StaffPasswordError {
    /// The password breaks the policy.
    #[error("the password is not acceptable")]
    Rejected(Vec<PasswordViolation>),
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] PortError),
}

impl CredentialService {
    /// Staff login: a `staff` session and the staff user. Counted, throttled and answered
    /// like a reader's Password login (the counter is the username's); an unknown username
    /// is verified against the dummy hash.
    pub async fn staff_login(
        &self,
        username: &str,
        password: &Secret,
        source: &AttemptSource,
    ) -> Result<(IssuedSession, StoredStaff), LoginError> {
        let username = username.trim();
        if username.is_empty() || username.chars().count() > MAX_STAFF_USERNAME_LEN {
            return Err(LoginError::InvalidCredentials);
        }
        let Some(normalized) = password.normalized_password() else {
            return Err(LoginError::InvalidCredentials);
        };
        let key = AttemptKey::staff(username);
        let outcome = self
            .guarded_verify(&key, CredentialKind::Password, source, || async {
                let hasher = &self.ports.hasher;
                match self.ports.staff.find_staff_by_username(username).await? {
                    None => {
                        hasher.verify(&normalized, None).await?;
                        Ok(None)
                    }
                    Some(staff) => Ok(hasher
                        .verify(&normalized, Some(&staff.password_hash))
                        .await?
                        .then_some(staff)),
                }
            })
            .await?;
        match outcome {
            Guarded::Verified(staff) => {
                let issued = self
                    .issue_session_for(Subject::Staff(staff.id), Scope::Staff)
                    .await?;
                Ok((issued, staff))
            }
            Guarded::Failed | Guarded::Disabled => Err(LoginError::InvalidCredentials),
            Guarded::Throttled { retry_after } => Err(LoginError::TooManyAttempts { retry_after }),
        }
    }

    /// The staff user a staff session belongs to (`None` for a reader's session or a user
    /// that no longer exists).
    pub async fn staff_of(&self, session: &Session) -> Result<Option<StoredStaff>, PortError> {
        match session.subject {
            Subject::Staff(id) if session.scope == Scope::Staff => {
                self.ports.staff.find_staff(id).await
            }
            _ => Ok(None),
        }
    }

    /// Checks a new staff password against the policy (with the username as personal
    /// information) and hashes it, for creating staff users.
    pub async fn hash_staff_password(
        &self,
        username: &str,
        password: &Secret,
    ) -> Result<SecretHash, StaffPasswordError> {
        let normalized =
            check_new_staff_password(password, username).map_err(StaffPasswordError::Rejected)?;
        Ok(self.hash(&normalized).await?)
    }
}
