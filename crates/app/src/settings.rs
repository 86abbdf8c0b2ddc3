//! Saving a reader's settings, for every channel: a change of the email needs the reader's
//! Password (docs/http.md, Reader services; docs/credentials.md, Email changes).
//!
//! The email is where "forgot Password" sends a temporary password, so whoever holds a
//! reader's session (a shared computer, a stolen token) could otherwise take the account
//! over by pointing it at an address of their own. So a replacement that changes it (to
//! another address, a first one, or none) must carry the Password, checked by the
//! credential service as a counted attempt, exactly like a login; the old address is told.
//! A replacement that leaves the email alone needs nothing more than the session.

use library_credentials::{AttemptSource, PortError, Secret, Session, VerifyPasswordError};
use library_reader_services::{EmailChange, Language, ReaderSettings};
use time::Duration;

use crate::reader_services::ServiceError;
use crate::services::Services;

/// Why settings were not saved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsChangeError {
    /// The session is not a reader's `full` session.
    #[error("this session may not change the settings")]
    Forbidden,
    /// The email would change and no Password was given.
    #[error("changing the email needs the Password")]
    PasswordRequired,
    /// The email would change and the Password given is wrong (a failed guess).
    #[error("the Password is not right")]
    InvalidPassword,
    /// Too many recent Password failures; refused before hashing.
    #[error("too many attempts; try again in {retry_after}")]
    TooManyAttempts {
        /// How long to wait.
        retry_after: Duration,
    },
    /// The settings service refused or failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The credential service failed.
    #[error(transparent)]
    Infrastructure(#[from] PortError),
}

impl From<VerifyPasswordError> for SettingsChangeError {
    fn from(err: VerifyPasswordError) -> Self {
        match err {
            VerifyPasswordError::Forbidden => Self::Forbidden,
            VerifyPasswordError::InvalidCredentials => Self::InvalidPassword,
            VerifyPasswordError::TooManyAttempts { retry_after } => {
                Self::TooManyAttempts { retry_after }
            }
            VerifyPasswordError::Infrastructure(e) => Self::Infrastructure(e),
        }
    }
}

impl Services {
    /// Keeps `language` in the settings of the reader of `session` (any reader session,
    /// the forced Password change's too): the pages' language switch and sign-in. Nothing
    /// is written when it is the language held already.
    pub async fn set_language(
        &self,
        session: &Session,
        language: Language,
        source: &AttemptSource,
    ) -> Result<(), SettingsChangeError> {
        let patron = session.patron().ok_or(SettingsChangeError::Forbidden)?;
        let mut settings = self.reader_services.settings.settings(patron).await?;
        if settings.language != language {
            settings.language = language;
            self.replace_settings(session, &settings, None, source)
                .await?;
        }
        Ok(())
    }

    /// Replaces the settings of the reader of `session` with `settings`; what is now
    /// stored. When the email changes, `current_password` must be the reader's Password:
    /// it is checked as an attempt from `source` (the same counters and throttling as a
    /// login), and the old address is told of the change. When the email stays,
    /// `current_password` is not looked at.
    pub async fn replace_settings(
        &self,
        session: &Session,
        settings: &ReaderSettings,
        current_password: Option<&Secret>,
        source: &AttemptSource,
    ) -> Result<ReaderSettings, SettingsChangeError> {
        let patron = session.patron().ok_or(SettingsChangeError::Forbidden)?;
        let desk = &self.reader_services.settings;
        let now = self.clock.now();
        let current = desk.settings(patron).await?;
        let mut email_change = EmailChange::Unconfirmed;
        if current.changes_email(settings) {
            self.confirm_password(session, current_password, source)
                .await?;
            email_change = EmailChange::Confirmed;
        }
        match desk.replace(patron, settings, now, email_change).await {
            // The email changed since it was read (another save of the reader's), so this
            // replacement changes it after all: it needs the Password too.
            Err(ServiceError::EmailChangeUnconfirmed) => {
                self.confirm_password(session, current_password, source)
                    .await?;
                Ok(desk
                    .replace(patron, settings, now, EmailChange::Confirmed)
                    .await?)
            }
            saved => Ok(saved?),
        }
    }

    async fn confirm_password(
        &self,
        session: &Session,
        password: Option<&Secret>,
        source: &AttemptSource,
    ) -> Result<(), SettingsChangeError> {
        let password = password.ok_or(SettingsChangeError::PasswordRequired)?;
        self.credentials
            .verify_password_for_session(session, password, source)
            .await?;
        Ok(())
    }
}
