//! Changing the Password and the PIN.

use time::Duration;

use super::{CredentialService, Guarded};
use crate::guessing::CredentialKind;
use crate::password::{PasswordViolation, check_new_password};
use crate::pin::{PinViolation, check_new_pin};
use crate::ports::{AttemptKey, AttemptSource, CredentialNotice, PortError, StoredCredentials};
use crate::secret::Secret;
use crate::session::{IssuedSession, Scope, Session};

/// Why a Password change failed.
#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    /// The session may not change the Password (a `pin` or staff session).
    #[error("this session may not change the Password")]
    Forbidden,
    /// The current Password is wrong.
    #[error("the current Password is not right")]
    InvalidCredentials,
    /// Too many recent failures; refused before hashing.
    #[error("too many attempts; try again in {retry_after}")]
    TooManyAttempts {
        /// How long to wait.
        retry_after: Duration,
    },
    /// The new Password breaks the policy.
    #[error("the new Password is not acceptable")]
    Rejected(Vec<PasswordViolation>),
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] PortError),
}

/// Why a PIN change failed.
#[derive(Debug, thiserror::Error)]
pub enum ChangePinError {
    /// Only a `full` session may change the PIN.
    #[error("only a Password session may change the PIN")]
    Forbidden,
    /// The session must change the Password first.
    #[error("the Password must be changed first")]
    PasswordChangeRequired,
    /// The Password given is wrong.
    #[error("the Password is not right")]
    InvalidCredentials,
    /// Too many recent failures; refused before hashing.
    #[error("too many attempts; try again in {retry_after}")]
    TooManyAttempts {
        /// How long to wait.
        retry_after: Duration,
    },
    /// The new PIN breaks the policy.
    #[error("the new PIN is not acceptable")]
    Rejected(Vec<PinViolation>),
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] PortError),
}

/// Why a reader's Password was not confirmed (before a sensitive change: the email).
#[derive(Debug, thiserror::Error)]
pub enum VerifyPasswordError {
    /// Only a `full` session of a reader may confirm with the Password.
    #[error("this session may not confirm with the Password")]
    Forbidden,
    /// The Password given is wrong (counted as a failed guess).
    #[error("the Password is not right")]
    InvalidCredentials,
    /// Too many recent failures; refused before hashing.
    #[error("too many attempts; try again in {retry_after}")]
    TooManyAttempts {
        /// How long to wait.
        retry_after: Duration,
    },
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] PortError),
}

impl CredentialService {
    /// Checks the reader's Password (the regular one, never a temporary one) as an attempt
    /// at it from `source`: reserved on the card's Password counter and the source's window
    /// before any hash is computed, like a login. A wrong Password is a failed guess.
    async fn guarded_password_check(
        &self,
        creds: &StoredCredentials,
        normalized: &Secret,
        source: &AttemptSource,
    ) -> Result<Guarded<()>, PortError> {
        self.guarded_verify(
            &AttemptKey::card(&creds.info.card_number),
            CredentialKind::Password,
            source,
            || async {
                // Only the regular Password; an unusable (ended) one costs the dummy.
                let regular = std::slice::from_ref(&creds.password_hash);
                if self.ports.hasher.verify_any(normalized, regular).await? == Some(0) {
                    return Ok(Some(()));
                }
                self.count_temporary_failure(creds, self.now()).await?;
                Ok(None)
            },
        )
        .await
    }

    /// Confirms that the holder of a `full` session knows the reader's Password, before a
    /// change a stolen session must not make (the email "forgot Password" writes to).
    /// Counted and throttled exactly as a login or a Password change: the same counter of
    /// the card and the same window of `source`, reserved before any hash is computed; a
    /// wrong Password is a failed guess, the right one clears the counter. A temporary
    /// password does not confirm. Over-long input fails at once, not counted.
    pub async fn verify_password_for_session(
        &self,
        session: &Session,
        password: &Secret,
        source: &AttemptSource,
    ) -> Result<(), VerifyPasswordError> {
        if session.scope != Scope::Full {
            return Err(VerifyPasswordError::Forbidden);
        }
        let Some(creds) = self.credentials_of(session).await? else {
            return Err(VerifyPasswordError::Forbidden);
        };
        let Some(normalized) = password.normalized_password() else {
            return Err(VerifyPasswordError::InvalidCredentials);
        };
        match self
            .guarded_password_check(&creds, &normalized, source)
            .await?
        {
            Guarded::Verified(()) => Ok(()),
            Guarded::Failed | Guarded::Disabled => Err(VerifyPasswordError::InvalidCredentials),
            Guarded::Throttled { retry_after } => {
                Err(VerifyPasswordError::TooManyAttempts { retry_after })
            }
        }
    }

    async fn credentials_of(
        &self,
        session: &Session,
    ) -> Result<Option<StoredCredentials>, PortError> {
        match session.patron() {
            Some(patron) => self.ports.store.find_by_patron(patron).await,
            None => Ok(None),
        }
    }

    /// Changes the Password. Needs the current one (or the temporary one the session was
    /// opened with). Revokes every session of the reader, the one used included, and any
    /// temporary password, and returns a fresh `full` session.
    pub async fn change_password(
        &self,
        session: &Session,
        current: &Secret,
        new: &Secret,
        source: &AttemptSource,
    ) -> Result<IssuedSession, ChangePasswordError> {
        if !matches!(session.scope, Scope::Full | Scope::ChangePasswordOnly) {
            return Err(ChangePasswordError::Forbidden);
        }
        let Some(creds) = self.credentials_of(session).await? else {
            return Err(ChangePasswordError::Forbidden);
        };
        let new_normalized =
            check_new_password(new, &creds.info).map_err(ChangePasswordError::Rejected)?;
        let Some(current_normalized) = current.normalized_password() else {
            return Err(ChangePasswordError::InvalidCredentials);
        };
        let now = self.now();
        let outcome = self
            .guarded_verify(
                &AttemptKey::card(&creds.info.card_number),
                CredentialKind::Password,
                source,
                || async {
                    // The temporary password is the current one only in the
                    // `change_password_only` session its own login opened: used, and used
                    // before this session began. Anywhere else, once used, never again.
                    let temporary = creds.temporary.as_ref().filter(|t| {
                        session.scope == Scope::ChangePasswordOnly
                            && t.expires_at > now
                            && t.used_at.is_some_and(|used| used <= session.created_at)
                    });
                    let mut hashes = vec![creds.password_hash.clone()];
                    if let Some(t) = temporary {
                        hashes.push(t.hash.clone());
                    }
                    let hasher = &self.ports.hasher;
                    if hasher
                        .verify_any(&current_normalized, &hashes)
                        .await?
                        .is_some()
                    {
                        return Ok(Some(()));
                    }
                    self.count_temporary_failure(&creds, now).await?;
                    Ok(None)
                },
            )
            .await?;
        match outcome {
            Guarded::Verified(()) => {}
            Guarded::Failed | Guarded::Disabled => {
                return Err(ChangePasswordError::InvalidCredentials);
            }
            Guarded::Throttled { retry_after } => {
                return Err(ChangePasswordError::TooManyAttempts { retry_after });
            }
        }
        if new_normalized == current_normalized {
            return Err(ChangePasswordError::Rejected(vec![
                PasswordViolation::SameAsCurrent,
            ]));
        }
        let hash = self.hash(&new_normalized).await?;
        let store = &self.ports.store;
        store.set_password(creds.patron, &hash, false).await?;
        store.clear_temporary_password(creds.patron).await?;
        self.ports
            .sessions
            .revoke_patron_sessions(creds.patron, None)
            .await?;
        let issued = self.issue_session(creds.patron, Scope::Full).await?;
        self.ports
            .notifier
            .notify(CredentialNotice::PasswordChanged {
                patron: creds.patron,
            })
            .await?;
        Ok(issued)
    }

    /// Changes the PIN. Needs a `full` session and the Password. Revokes the reader's `pin`
    /// sessions (Password sessions stay) and lifts a PIN lock.
    pub async fn change_pin(
        &self,
        session: &Session,
        password: &Secret,
        new_pin: &Secret,
        source: &AttemptSource,
    ) -> Result<(), ChangePinError> {
        match session.scope {
            Scope::Full => {}
            Scope::ChangePasswordOnly => return Err(ChangePinError::PasswordChangeRequired),
            Scope::Pin | Scope::Staff => return Err(ChangePinError::Forbidden),
        }
        let Some(creds) = self.credentials_of(session).await? else {
            return Err(ChangePinError::Forbidden);
        };
        check_new_pin(new_pin, &creds.info).map_err(ChangePinError::Rejected)?;
        let Some(normalized) = password.normalized_password() else {
            return Err(ChangePinError::InvalidCredentials);
        };
        let outcome = self
            .guarded_password_check(&creds, &normalized, source)
            .await?;
        match outcome {
            Guarded::Verified(()) => {}
            Guarded::Failed | Guarded::Disabled => return Err(ChangePinError::InvalidCredentials),
            Guarded::Throttled { retry_after } => {
                return Err(ChangePinError::TooManyAttempts { retry_after });
            }
        }
        if self
            .ports
            .hasher
            .verify(new_pin, Some(&creds.pin_hash))
            .await?
        {
            return Err(ChangePinError::Rejected(vec![PinViolation::SameAsCurrent]));
        }
        self.replace_pin(&creds, new_pin).await?;
        Ok(())
    }
}
