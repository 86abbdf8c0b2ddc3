//! Login with the Password or the PIN, session look-up and logout.

use std::sync::Arc;

use library_core::{CardNumber, PatronId};
use time::Duration;

use super::{CredentialService, Guarded};
use crate::guessing::CredentialKind;
use crate::pin::is_well_formed_pin;
use crate::ports::{AttemptKey, AttemptSource, PortError, StoredStaff};
use crate::secret::Secret;
use crate::session::{IssuedSession, Scope, Session, SessionToken};
use crate::temporary::TEMPORARY_PASSWORD_MAX_FAILURES;

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown card, wrong secret or disabled PIN: one answer for all, so a caller learns
    /// nothing about which.
    #[error("the card number or the secret is not right")]
    InvalidCredentials,
    /// Too many recent failures for this card or from this source; refused before hashing.
    #[error("too many attempts; try again in {retry_after}")]
    TooManyAttempts {
        /// How long to wait.
        retry_after: Duration,
    },
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] PortError),
}

/// Why a presented token does not open a session.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Missing, unknown, expired or revoked.
    #[error("no valid session")]
    Unauthorized,
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] PortError),
}

enum PasswordMatch {
    Regular { is_default: bool },
    Temporary,
}

impl CredentialService {
    /// Password login (web, app). The default Password or a temporary one gives a
    /// `change_password_only` session; any other a `full` one.
    pub async fn login(
        &self,
        card_number: &str,
        password: &Secret,
        source: &AttemptSource,
    ) -> Result<IssuedSession, LoginError> {
        let Ok(card) = CardNumber::parse(card_number) else {
            return Err(LoginError::InvalidCredentials);
        };
        // Over-long input is refused before normalising or hashing and is not counted.
        let Some(normalized) = password.normalized_password() else {
            return Err(LoginError::InvalidCredentials);
        };
        let outcome = self
            .guarded_verify(
                &AttemptKey::card(&card),
                CredentialKind::Password,
                source,
                || async {
                    let now = self.now();
                    let Some(creds) = self.ports.store.find_by_card(&card).await? else {
                        // The dummy: the same one computation as a known card.
                        self.ports.hasher.verify_any(&normalized, &[]).await?;
                        return Ok(None);
                    };
                    // One computation checks the Password and a pending temporary
                    // password together (hashed with the same salt and parameters).
                    let temporary = creds.temporary.as_ref().filter(|t| t.is_pending(now));
                    let mut hashes = Vec::with_capacity(2);
                    if !creds.password_hash.0.is_empty() {
                        hashes.push(creds.password_hash.clone());
                    }
                    let regular = hashes.len();
                    if let Some(t) = temporary {
                        hashes.push(t.hash.clone());
                    }
                    let found = self.ports.hasher.verify_any(&normalized, &hashes).await?;
                    let matched = match (found, temporary) {
                        (Some(i), _) if i < regular => Some(PasswordMatch::Regular {
                            is_default: creds.password_is_default,
                        }),
                        (Some(_), Some(t)) => self
                            .ports
                            .store
                            .use_temporary_password(
                                creds.patron,
                                &t.hash,
                                now,
                                TEMPORARY_PASSWORD_MAX_FAILURES,
                            )
                            .await?
                            .then_some(PasswordMatch::Temporary),
                        _ => None,
                    };
                    if matched.is_none() {
                        self.count_temporary_failure(&creds, now).await?;
                    }
                    Ok(matched.map(|m| (creds.patron, m, creds.epoch)))
                },
            )
            .await?;
        match outcome {
            Guarded::Verified((patron, found, epoch)) => {
                let scope = match found {
                    PasswordMatch::Regular { is_default: false } => Scope::Full,
                    PasswordMatch::Regular { is_default: true } | PasswordMatch::Temporary => {
                        Scope::ChangePasswordOnly
                    }
                };
                // A Password change or reset since the credentials were read: no session.
                self.issue_session_at(patron, scope, epoch)
                    .await?
                    .ok_or(LoginError::InvalidCredentials)
            }
            Guarded::Failed | Guarded::Disabled => Err(LoginError::InvalidCredentials),
            Guarded::Throttled { retry_after } => Err(LoginError::TooManyAttempts { retry_after }),
        }
    }

    /// PIN login (telephone renewal, self-charging terminals, SIP2): a `pin` session. The
    /// PIN is compared exactly as typed (never normalised); anything but 4 to 12 ASCII
    /// digits fails without hashing and is not counted.
    pub async fn pin_login(
        &self,
        card_number: &str,
        pin: &Secret,
        source: &AttemptSource,
    ) -> Result<IssuedSession, LoginError> {
        let (patron, epoch) = self.verify_pin_at(card_number, pin, source).await?;
        self.issue_session_at(patron, Scope::Pin, epoch)
            .await?
            .ok_or(LoginError::InvalidCredentials)
    }

    /// Checks a card and PIN without issuing a session (SIP2 messages carry the PIN in
    /// every request). Same counters, throttling and lock as [`Self::pin_login`].
    pub async fn verify_pin(
        &self,
        card_number: &str,
        pin: &Secret,
        source: &AttemptSource,
    ) -> Result<library_core::PatronId, LoginError> {
        Ok(self.verify_pin_at(card_number, pin, source).await?.0)
    }

    /// [`Self::verify_pin`], and the credential epoch the PIN was verified at.
    async fn verify_pin_at(
        &self,
        card_number: &str,
        pin: &Secret,
        source: &AttemptSource,
    ) -> Result<(PatronId, u64), LoginError> {
        let Ok(card) = CardNumber::parse(card_number) else {
            return Err(LoginError::InvalidCredentials);
        };
        if !is_well_formed_pin(pin.expose()) {
            return Err(LoginError::InvalidCredentials);
        }
        let outcome = self
            .guarded_verify(
                &AttemptKey::card(&card),
                CredentialKind::Pin,
                source,
                || async {
                    let hasher = &self.ports.hasher;
                    match self.ports.store.find_by_card(&card).await? {
                        None => {
                            hasher.verify(pin, None).await?;
                            Ok(None)
                        }
                        Some(creds) => Ok(hasher
                            .verify(pin, Some(&creds.pin_hash))
                            .await?
                            .then_some((creds.patron, creds.epoch))),
                    }
                },
            )
            .await?;
        match outcome {
            Guarded::Verified(found) => Ok(found),
            Guarded::Failed | Guarded::Disabled => Err(LoginError::InvalidCredentials),
            Guarded::Throttled { retry_after } => Err(LoginError::TooManyAttempts { retry_after }),
        }
    }

    /// The live session a presented bearer token opens.
    pub async fn authenticate(&self, token: &str) -> Result<Session, AuthError> {
        Ok(self.authenticate_with_staff(token).await?.0)
    }

    /// The live session a presented bearer token opens and, for a staff session, its
    /// staff user (`None` if the user is gone): what [`Self::authenticate`] and
    /// [`Self::staff_of`] answer, read together.
    pub async fn authenticate_with_staff(
        &self,
        token: &str,
    ) -> Result<(Session, Option<StoredStaff>), AuthError> {
        if token.is_empty() || token.len() > SessionToken::MAX_TEXT_LEN {
            return Err(AuthError::Unauthorized);
        }
        let hash = SessionToken::from_presented(token).hash();
        match self
            .ports
            .sessions
            .find_with_staff(&hash, Arc::clone(&self.ports.staff))
            .await?
        {
            Some((session, staff)) if session.expires_at > self.now() => {
                let staff = staff.filter(|_| session.scope == Scope::Staff);
                Ok((session, staff))
            }
            _ => Err(AuthError::Unauthorized),
        }
    }

    /// Ends every session of reader `patron` (a deactivation).
    ///
    /// # Errors
    /// [`PortError`] if the sessions cannot be revoked.
    pub async fn end_reader_sessions(&self, patron: PatronId) -> Result<(), PortError> {
        self.ports
            .sessions
            .revoke_patron_sessions(patron, None)
            .await
    }

    /// Ends a session.
    pub async fn logout(&self, session: &Session) -> Result<(), PortError> {
        self.ports.sessions.revoke(&session.token_hash).await
    }
}
