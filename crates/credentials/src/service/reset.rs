//! Default credentials at registration, "forgot password", and resets at the counter.

use library_core::{CardNumber, PatronId};
use time::OffsetDateTime;

use super::CredentialService;
use crate::guessing::{AttemptDecision, CredentialKind};
use crate::password::check_new_password;
use crate::personal::{PhoneTooShort, default_secret};
use crate::ports::{
    AttemptKey, AttemptSource, CredentialNotice, PortError, ResetCounter, StoredCredentials,
};
use crate::secret::Secret;
use crate::temporary::generate_temporary_password;

/// Longest email looked up (RFC 5321 path limit).
const MAX_EMAIL_LEN: usize = 254;

/// A temporary password issued at the counter, to hand to the reader.
#[derive(Debug, Clone)]
pub struct TemporaryPasswordIssued {
    /// The temporary password (shown once, to the staff member resetting it).
    pub password: Secret,
    /// When it expires.
    pub expires_at: OffsetDateTime,
}

/// Why a staff reset failed.
#[derive(Debug, thiserror::Error)]
pub enum StaffResetError {
    /// No reader has this card.
    #[error("no reader has this card number")]
    NotFound,
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] PortError),
}

/// Why default credentials could not be set.
#[derive(Debug, thiserror::Error)]
pub enum RegisterCredentialsError {
    /// The phone has fewer than four digits.
    #[error(transparent)]
    PhoneTooShort(#[from] PhoneTooShort),
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] PortError),
}

impl CredentialService {
    /// Sets a new reader's default Password and PIN: both the last four digits of the phone
    /// (docs/policy.md, Password and PIN). Logging in with the default Password forces a
    /// change.
    pub async fn set_default_credentials(
        &self,
        patron: PatronId,
        phone: &str,
    ) -> Result<(), RegisterCredentialsError> {
        let default = Secret::new(default_secret(phone)?);
        let password_hash = self.hash(&default).await?;
        let pin_hash = self.hash(&default).await?;
        self.ports
            .store
            .set_password(patron, &password_hash, true)
            .await?;
        self.ports.store.set_pin(patron, &pin_hash).await?;
        Ok(())
    }

    /// "Forgot Password": sends a temporary password to every reader registered with this
    /// email. Answers the same, in about the same time, whether or not any matches (no
    /// account enumeration: a dummy hash is computed when nothing is issued). A request
    /// changes nothing else: the current Password keeps working.
    ///
    /// Limited ([`crate::ResetPolicy`]): every request counts against `source`, whatever
    /// the email, and beyond that limit nothing is looked up, issued or hashed; each reader
    /// is issued at most so many temporary passwords per window, beyond which their
    /// outstanding one stays valid and nothing is sent. Either way the caller learns
    /// nothing: the answer is the same.
    pub async fn forgot_password(
        &self,
        email: &str,
        source: &AttemptSource,
    ) -> Result<(), PortError> {
        let limits = &self.config.resets;
        let store = &self.ports.store;
        let now = self.now();
        let by_source = store
            .reserve_reset_request(&ResetCounter::source(source), now, &limits.per_source)
            .await?;
        if by_source != AttemptDecision::Granted {
            return Ok(());
        }
        let email = email.trim();
        let matches = if email.is_empty() || email.len() > MAX_EMAIL_LEN || !email.contains('@') {
            Vec::new()
        } else {
            store.find_by_email(email).await?
        };
        let mut issued = 0_usize;
        for creds in matches {
            let Some(address) = creds.info.email.clone() else {
                continue;
            };
            let by_account = store
                .reserve_reset_request(
                    &ResetCounter::account(creds.patron),
                    now,
                    &limits.per_account,
                )
                .await?;
            if by_account != AttemptDecision::Granted {
                continue;
            }
            let (password, expires_at) = self.issue_temporary_password(&creds).await?;
            self.ports
                .notifier
                .notify(CredentialNotice::TemporaryPassword {
                    patron: creds.patron,
                    email: address,
                    password,
                    expires_at,
                })
                .await?;
            issued += 1;
        }
        if issued == 0 {
            let decoy = generate_temporary_password(self.ports.random.as_ref());
            self.hash(&decoy).await?;
        }
        Ok(())
    }

    /// Staff reset at the counter, for readers with no email: a one-time temporary password
    /// to hand over. Staff never choose or see the reader's own Password. Revokes the
    /// reader's sessions and clears the Password throttle.
    pub async fn staff_reset_password(
        &self,
        card_number: &CardNumber,
    ) -> Result<TemporaryPasswordIssued, StaffResetError> {
        let creds = self
            .ports
            .store
            .find_by_card(card_number)
            .await?
            .ok_or(StaffResetError::NotFound)?;
        let (password, expires_at) = self.issue_temporary_password(&creds).await?;
        self.ports
            .store
            .clear_attempts(&AttemptKey::card(card_number), CredentialKind::Password)
            .await?;
        self.ports
            .sessions
            .revoke_patron_sessions(creds.patron, None)
            .await?;
        self.ports
            .notifier
            .notify(CredentialNotice::PasswordResetByStaff {
                patron: creds.patron,
            })
            .await?;
        Ok(TemporaryPasswordIssued {
            password,
            expires_at,
        })
    }

    /// Staff reset of the PIN: back to the default (last four phone digits), lock lifted,
    /// PIN sessions revoked.
    pub async fn staff_reset_pin(&self, card_number: &CardNumber) -> Result<(), StaffResetError> {
        let creds = self
            .ports
            .store
            .find_by_card(card_number)
            .await?
            .ok_or(StaffResetError::NotFound)?;
        let Ok(default) = default_secret(&creds.info.phone) else {
            return Err(StaffResetError::Infrastructure(PortError::Failed(
                "stored phone has fewer than 4 digits".into(),
            )));
        };
        self.replace_pin(&creds, &Secret::new(default)).await?;
        Ok(())
    }

    /// Whether the reader's PIN is disabled by consecutive failures
    /// ([`crate::GuessingPolicy::pin_disable_after`], from every source).
    pub async fn pin_locked(&self, card_number: &CardNumber) -> Result<bool, PortError> {
        let account = self
            .ports
            .store
            .account_attempts(&AttemptKey::card(card_number), CredentialKind::Pin)
            .await?;
        Ok(self
            .config
            .guessing
            .pin_locked(CredentialKind::Pin, &account))
    }

    /// Staff lift a PIN lock: the PIN's failure counters are cleared (account-wide and
    /// every source's), the PIN itself is unchanged. A reader who forgot the PIN gets a
    /// reset instead ([`Self::staff_reset_pin`]).
    pub async fn lift_pin_lock(&self, card_number: &CardNumber) -> Result<(), StaffResetError> {
        self.ports
            .store
            .find_by_card(card_number)
            .await?
            .ok_or(StaffResetError::NotFound)?;
        self.ports
            .store
            .clear_attempts(&AttemptKey::card(card_number), CredentialKind::Pin)
            .await?;
        Ok(())
    }

    async fn issue_temporary_password(
        &self,
        creds: &StoredCredentials,
    ) -> Result<(Secret, OffsetDateTime), PortError> {
        // Random passwords pass the policy but for a chance match with personal digits;
        // draw again in that case.
        let mut password = generate_temporary_password(self.ports.random.as_ref());
        for _ in 0..16 {
            if check_new_password(&password, &creds.info).is_ok() {
                break;
            }
            password = generate_temporary_password(self.ports.random.as_ref());
        }
        let hash = self.hash(&password).await?;
        let expires_at = self.now() + self.config.temporary_password_ttl;
        self.ports
            .store
            .put_temporary_password(creds.patron, &hash, expires_at)
            .await?;
        Ok((password, expires_at))
    }
}
