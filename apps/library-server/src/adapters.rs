//! The adapters this server supplies itself: the reader directory and readiness probe over
//! the persistence crate, the outbox notifier, and the scheduled jobs.

use async_trait::async_trait;
use library_circulation::ReaderCategory;
use std::sync::Arc;

use library_core::{Clock, LibraryCode, PatronId, StaffId};
use library_credentials::{
    CredentialNotice, CredentialStore, Notifier, PortError, StaffCredentialStore,
};
use library_http::{
    JobRunner, NewReader, ReaderDirectory, ReaderProfile, Readiness, RegisterReaderError,
};
use library_persistence::{
    Database, DbCredentialStore, NewNotification, NewPatron, OutboxStore, PatronStore, StaffStore,
};
use time::OffsetDateTime;

/// Readers in the database: registration with the circulation profile, and the profile.
#[derive(Debug, Clone)]
pub struct DbReaderDirectory {
    patrons: PatronStore,
    credentials: DbCredentialStore,
}

impl DbReaderDirectory {
    /// Over `db`.
    pub fn new(db: &Database) -> Self {
        Self {
            patrons: db.patrons(),
            credentials: db.credentials(),
        }
    }
}

#[async_trait]
impl ReaderDirectory for DbReaderDirectory {
    async fn register(&self, reader: &NewReader) -> Result<PatronId, RegisterReaderError> {
        let card = &reader.card_number;
        if self.credentials.find_by_card(card).await?.is_some() {
            return Err(RegisterReaderError::CardNumberTaken);
        }
        let profile = library_persistence::ReaderProfile {
            category: ReaderCategory::parse(&reader.category)
                .map_err(|e| PortError::Failed(format!("register reader: {e}")))?,
            home_library: LibraryCode::parse(&reader.home_library)
                .map_err(|e| PortError::Failed(format!("register reader: {e}")))?,
            card_expires_on: reader.card_expires_on,
        };
        let new = NewPatron {
            card_number: card.clone(),
            name: reader.name.clone(),
            phone: reader.phone.clone(),
            email: reader.email.clone(),
            date_of_birth: reader.date_of_birth,
            registered_at: reader.registered_at,
        };
        match self.patrons.register_reader(&new, &profile).await {
            Ok(id) => Ok(id),
            // The store does not say why an insert failed: a card registered meanwhile is
            // the one failure the caller can recover from.
            Err(err) => match self.credentials.find_by_card(card).await {
                Ok(Some(_)) => Err(RegisterReaderError::CardNumberTaken),
                _ => Err(err.into()),
            },
        }
    }

    async fn profile(&self, patron: PatronId) -> Result<Option<ReaderProfile>, PortError> {
        let Some(creds) = self.credentials.find_by_patron(patron).await? else {
            return Ok(None);
        };
        let reader = match self.patrons.reader(patron).await {
            Ok(reader) => reader,
            Err(err) => {
                // A reader registered without a circulation profile.
                tracing::warn!(patron = patron.get(), %err, "reader without a circulation profile");
                None
            }
        };
        Ok(Some(ReaderProfile {
            card_number: creds.info.card_number,
            name: creds.info.name,
            email: creds.info.email,
            category: reader.as_ref().map(|r| r.category.as_str().to_owned()),
            home_library: reader.as_ref().map(|r| r.home_library.as_str().to_owned()),
            card_expires_on: reader.as_ref().map(|r| r.card_expires_on),
            suspended_until: reader.and_then(|r| r.suspended_until),
        }))
    }
}

/// Ready when the database answers a query.
#[derive(Debug, Clone)]
pub struct DbReadiness {
    staff: StaffStore,
}

impl DbReadiness {
    /// Over `db`.
    pub fn new(db: &Database) -> Self {
        Self { staff: db.staff() }
    }
}

#[async_trait]
impl Readiness for DbReadiness {
    async fn check(&self) -> Result<(), PortError> {
        self.staff.find_staff(StaffId(0)).await.map(|_| ())
    }
}

/// Notices to readers: queued in the outbox table for the mail/SMS sender, and noted in
/// the log. The log never carries a temporary password's text; the outbox row does, since
/// the sender must mail it (it is a single-use secret that expires within a day).
#[derive(Clone)]
pub struct OutboxNotifier {
    outbox: OutboxStore,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for OutboxNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxNotifier").finish_non_exhaustive()
    }
}

impl OutboxNotifier {
    /// Over `db`'s outbox.
    pub fn new(db: &Database, clock: Arc<dyn Clock>) -> Self {
        Self {
            outbox: db.outbox(),
            clock,
        }
    }
}

#[async_trait]
impl Notifier for OutboxNotifier {
    async fn notify(&self, notice: CredentialNotice) -> Result<(), PortError> {
        let (kind, patron, payload) = match &notice {
            CredentialNotice::TemporaryPassword {
                patron,
                email,
                password,
                expires_at,
            } => (
                "credentials.temporary_password",
                *patron,
                serde_json::json!({
                    "email": email,
                    "temporary_password": password.expose(),
                    "expires_at": expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                }),
            ),
            CredentialNotice::PasswordResetByStaff { patron } => (
                "credentials.password_reset_by_staff",
                *patron,
                serde_json::json!({}),
            ),
            CredentialNotice::PasswordChanged { patron } => (
                "credentials.password_changed",
                *patron,
                serde_json::json!({}),
            ),
            CredentialNotice::PinChanged { patron } => {
                ("credentials.pin_changed", *patron, serde_json::json!({}))
            }
        };
        self.outbox
            .append(&NewNotification {
                kind: kind.to_owned(),
                patron: Some(patron),
                payload: payload.to_string(),
                created_at: self.clock.now(),
            })
            .await
            .map_err(|e| PortError::Failed(format!("queue notice: {e}")))?;
        tracing::info!(patron = patron.get(), kind, "notice queued");
        Ok(())
    }
}

/// The scheduled jobs. None exist yet (hold expiry, purges and notices arrive with
/// circulation); running them is a no-op that answers success.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScheduledJobs;

#[async_trait]
impl JobRunner for ScheduledJobs {
    async fn run_all(&self, now: OffsetDateTime) -> Result<(), PortError> {
        tracing::info!(%now, "scheduled jobs run (none registered yet)");
        Ok(())
    }
}
