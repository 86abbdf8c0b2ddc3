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

/// The readers sharing a "forgot Password" email beyond the first, served after the
/// answer ([`CredentialService::send_remaining_temporary_passwords`]).
#[derive(Debug, Clone)]
pub struct RemainingResets {
    readers: Vec<StoredCredentials>,
}

impl RemainingResets {
    /// How many readers are left.
    pub fn len(&self) -> usize {
        self.readers.len()
    }

    /// `true` when none is left.
    pub fn is_empty(&self) -> bool {
        self.readers.is_empty()
    }
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

    /// "Forgot Password", start to end: [`Self::request_password_reset`], then
    /// [`Self::send_remaining_temporary_passwords`] with what it left. For callers that give
    /// no answer in between (tools, tests); a channel answers after the first and runs the
    /// second after answering.
    pub async fn forgot_password(
        &self,
        email: &str,
        source: &AttemptSource,
    ) -> Result<(), PortError> {
        if let Some(rest) = self.request_password_reset(email, source).await? {
            self.send_remaining_temporary_passwords(rest).await?;
        }
        Ok(())
    }

    /// "Forgot Password", the part before the answer: a temporary password for the first
    /// reader registered with this email (within the limits), and the other readers
    /// sharing it left for after the answer. The work is the same whatever the email (no
    /// account enumeration, ASVS 5.0 6.3.8): exactly one hash, the first reader's temporary
    /// password or a decoy when nothing is issued, whether the email is unknown, belongs to
    /// one reader or is shared by many. A request changes nothing else: the current
    /// Password keeps working.
    ///
    /// Limited ([`crate::ResetPolicy`]): every request counts against `source`, whatever
    /// the email, and beyond that limit nothing is looked up, issued or hashed; each reader
    /// is issued at most so many temporary passwords per window, beyond which their
    /// outstanding one stays valid and nothing is sent. Either way the caller learns
    /// nothing: the answer is the same.
    ///
    /// `Some` when other readers share the email: pass it to
    /// [`Self::send_remaining_temporary_passwords`] after answering.
    pub async fn request_password_reset(
        &self,
        email: &str,
        source: &AttemptSource,
    ) -> Result<Option<RemainingResets>, PortError> {
        let limits = &self.config.resets;
        let store = &self.ports.store;
        let now = self.now();
        let by_source = store
            .reserve_reset_request(&ResetCounter::source(source), now, &limits.per_source)
            .await?;
        if by_source != AttemptDecision::Granted {
            return Ok(None);
        }
        let email = email.trim();
        let mut matches = if email.is_empty() || email.len() > MAX_EMAIL_LEN || !email.contains('@')
        {
            Vec::new()
        } else {
            store.find_by_email(email).await?
        };
        let rest = (matches.len() > 1).then(|| RemainingResets {
            readers: matches.split_off(1),
        });
        let issued = match matches.pop() {
            Some(first) => self.send_temporary_password(&first, now).await?,
            None => false,
        };
        if !issued {
            let decoy = generate_temporary_password(self.ports.random.as_ref());
            self.hash(&decoy).await?;
        }
        Ok(rest)
    }

    /// "Forgot Password", the part after the answer: a temporary password for each other
    /// reader sharing the email (within their limits). How long it takes is no part of the
    /// answer.
    pub async fn send_remaining_temporary_passwords(
        &self,
        rest: RemainingResets,
    ) -> Result<(), PortError> {
        let now = self.now();
        for creds in &rest.readers {
            self.send_temporary_password(creds, now).await?;
        }
        Ok(())
    }

    /// Issues a reader a temporary password and mails it, within the reader's limit.
    /// `true` when one was issued.
    async fn send_temporary_password(
        &self,
        creds: &StoredCredentials,
        now: OffsetDateTime,
    ) -> Result<bool, PortError> {
        let Some(address) = creds.info.email.clone() else {
            return Ok(false);
        };
        let by_account = self
            .ports
            .store
            .reserve_reset_request(
                &ResetCounter::account(creds.patron),
                now,
                &self.config.resets.per_account,
            )
            .await?;
        if by_account != AttemptDecision::Granted {
            return Ok(false);
        }
        let password = self.temporary_password_for(creds);
        // Beside the Password, with its salt and parameters: one computation at login
        // checks both.
        let hash = self
            .ports
            .hasher
            .hash_alongside(&password, &creds.password_hash)
            .await?;
        let expires_at = self.now() + self.config.temporary_password_ttl;
        self.ports
            .store
            .put_temporary_password(creds.patron, &hash, expires_at)
            .await?;
        self.ports
            .notifier
            .notify(CredentialNotice::TemporaryPassword {
                patron: creds.patron,
                email: address,
                password,
                expires_at,
            })
            .await?;
        Ok(true)
    }

    /// Staff reset at the counter, for readers with no email: a one-time temporary password
    /// to hand over. Staff never choose or see the reader's own Password. Ends the old
    /// Password in the same write that stores the temporary one and bumps the epoch (only
    /// the temporary password opens the account now), revokes the reader's sessions and
    /// clears the Password throttle.
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
        let password = self.temporary_password_for(&creds);
        let hash = self.hash(&password).await?;
        let expires_at = self.now() + self.config.temporary_password_ttl;
        self.ports
            .store
            .reset_password(creds.patron, &hash, expires_at)
            .await?;
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

    /// A fresh temporary password that passes the policy for this reader.
    fn temporary_password_for(&self, creds: &StoredCredentials) -> Secret {
        // Random passwords pass the policy but for a chance match with personal digits;
        // draw again in that case.
        let mut password = generate_temporary_password(self.ports.random.as_ref());
        for _ in 0..16 {
            if check_new_password(&password, &creds.info).is_ok() {
                break;
            }
            password = generate_temporary_password(self.ports.random.as_ref());
        }
        password
    }
}
