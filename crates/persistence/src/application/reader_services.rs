//! The reader-service interfaces of `library-app` over the stores: activities
//! (with a notice to each registered reader when the library cancels one), notices,
//! settings and the reading history, enquiries.

use std::sync::Arc;

use crate::{
    ActivityStore, Database, EnquiryStore, NewNotification, NoticeStore, OutboxStore,
    ReaderSettingsStore, SettingsPut, StoreError,
};
use async_trait::async_trait;
use library_app::{
    ActivityBoard, AuditRecord, EnquiryDesk, NoticeBoard, ReaderServices, ServiceError,
    SettingsDesk,
};

use super::admin::audit_entry;
use library_core::{Clock, LibraryCode, PatronId, StaffId};
use library_reader_services::{
    Activity, ActivityId, ActivityListing, ActivityQuery, AnonymisationPolicy, EmailChange,
    Enquiry, EnquiryId, EnquiryStatus, NewActivity, NewEnquiry, NewNotice, NoticeId, NoticeListing,
    Page, ReaderRegistration, ReaderSettings, ReadingHistory, Registrant, ReturnedLoan,
    StaffEnquiry,
};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

/// The reader services over `db`.
pub fn reader_services(db: &Database, clock: Arc<dyn Clock>) -> ReaderServices {
    let stores = Arc::new(DbReaderServices {
        activities: db.activities(),
        notices: db.notices(),
        settings: db.reader_settings(),
        enquiries: db.enquiries(),
        outbox: db.outbox(),
        clock,
    });
    ReaderServices {
        activities: stores.clone(),
        notices: stores.clone(),
        settings: stores.clone(),
        enquiries: stores,
    }
}

/// Activities, notices, settings and enquiries in the database.
#[derive(Clone)]
pub struct DbReaderServices {
    activities: ActivityStore,
    notices: NoticeStore,
    settings: ReaderSettingsStore,
    enquiries: EnquiryStore,
    outbox: OutboxStore,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DbReaderServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbReaderServices").finish_non_exhaustive()
    }
}

fn service_err(err: StoreError) -> ServiceError {
    match err {
        StoreError::NotFound("library") => ServiceError::Invalid(vec!["unknown_library"]),
        StoreError::NotFound(_) => ServiceError::NotFound,
        StoreError::Infrastructure(e) => ServiceError::Infrastructure(e),
        // Conflicts are prevented by the checks before each write (a library code checked
        // to exist, one registration row per reader): reaching here is a bug or a race
        // with a deletion, reported as a failure.
        other => ServiceError::Infrastructure(
            library_circulation::ports::InfrastructureError::new(other.to_string()),
        ),
    }
}

#[async_trait]
impl ActivityBoard for DbReaderServices {
    async fn create(
        &self,
        activity: &NewActivity,
        now: OffsetDateTime,
        audit: &(dyn Fn(ActivityId) -> AuditRecord + Send + Sync),
    ) -> Result<ActivityId, ServiceError> {
        let entry = |id| audit_entry(audit(id));
        self.activities
            .create(activity, now, Some(&entry))
            .await
            .map_err(service_err)
    }

    async fn list(&self, query: &ActivityQuery) -> Result<Page<ActivityListing>, ServiceError> {
        self.activities.list(query).await.map_err(service_err)
    }

    async fn get(&self, id: ActivityId) -> Result<ActivityListing, ServiceError> {
        self.activities
            .get(id)
            .await
            .map_err(service_err)?
            .ok_or(ServiceError::NotFound)
    }

    async fn cancel(
        &self,
        id: ActivityId,
        at: OffsetDateTime,
        audit: AuditRecord,
    ) -> Result<(), ServiceError> {
        let Some(readers) = self
            .activities
            .cancel(id, at, Some(&audit_entry(audit)))
            .await
            .map_err(service_err)?
        else {
            return Err(ServiceError::ActivityCancelled);
        };
        let activity = self.activities.get(id).await.map_err(service_err)?;
        let payload = serde_json::json!({
            "activity_id": id.get(),
            "title": activity.as_ref().map(|a| a.activity.details.title.as_str()),
            "starts_at": activity
                .as_ref()
                .and_then(|a| a.activity.details.starts_at.format(&Rfc3339).ok()),
        })
        .to_string();
        // The cancellation stands; a notice that cannot be queued is logged, not undone.
        for patron in readers {
            let queued = self
                .outbox
                .append(&NewNotification {
                    kind: library_app::kind::ACTIVITY_CANCELLED.to_owned(),
                    patron: Some(patron),
                    payload: payload.clone(),
                    created_at: self.clock.now(),
                    expires_at: None,
                })
                .await;
            if let Err(err) = queued {
                tracing::error!(%err, patron = patron.get(), "activity cancellation notice not queued");
            }
        }
        Ok(())
    }

    async fn register(
        &self,
        id: ActivityId,
        patron: PatronId,
        now: OffsetDateTime,
    ) -> Result<Activity, ServiceError> {
        Ok(self
            .activities
            .register(id, patron, now)
            .await
            .map_err(service_err)??)
    }

    async fn cancel_registration(
        &self,
        id: ActivityId,
        patron: PatronId,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError> {
        self.activities
            .cancel_registration(id, patron, now)
            .await
            .map_err(service_err)?
            .map_err(ServiceError::CancellationRefused)
    }

    async fn registrations_of(
        &self,
        patron: PatronId,
        ended_since: OffsetDateTime,
    ) -> Result<Vec<ReaderRegistration>, ServiceError> {
        self.activities
            .registrations_of(patron, ended_since)
            .await
            .map_err(service_err)
    }

    async fn registrants(&self, id: ActivityId) -> Result<Vec<Registrant>, ServiceError> {
        self.activities
            .registrants(id)
            .await
            .map_err(service_err)?
            .ok_or(ServiceError::NotFound)
    }
}

#[async_trait]
impl NoticeBoard for DbReaderServices {
    async fn publish(
        &self,
        notice: &NewNotice,
        now: OffsetDateTime,
        audit: &(dyn Fn(NoticeId) -> AuditRecord + Send + Sync),
    ) -> Result<NoticeId, ServiceError> {
        let entry = |id| audit_entry(audit(id));
        self.notices
            .publish(notice, now, Some(&entry))
            .await
            .map_err(service_err)
    }

    async fn withdraw(
        &self,
        id: NoticeId,
        at: OffsetDateTime,
        audit: AuditRecord,
    ) -> Result<(), ServiceError> {
        if self
            .notices
            .withdraw(id, at, Some(&audit_entry(audit)))
            .await
            .map_err(service_err)?
        {
            Ok(())
        } else {
            Err(ServiceError::NoticeWithdrawn)
        }
    }

    async fn current_for(
        &self,
        home: Option<&LibraryCode>,
        today: Date,
    ) -> Result<Vec<NoticeListing>, ServiceError> {
        self.notices
            .current_for(home, today)
            .await
            .map_err(service_err)
    }

    async fn list(&self, limit: u32, offset: u64) -> Result<Page<NoticeListing>, ServiceError> {
        self.notices.list(limit, offset).await.map_err(service_err)
    }
}

#[async_trait]
impl SettingsDesk for DbReaderServices {
    async fn settings(&self, patron: PatronId) -> Result<ReaderSettings, ServiceError> {
        Ok(self
            .settings
            .get(patron)
            .await
            .map_err(service_err)?
            .ok_or(ServiceError::NotFound)?
            .0)
    }

    async fn replace(
        &self,
        patron: PatronId,
        settings: &ReaderSettings,
        now: OffsetDateTime,
        email_change: EmailChange,
    ) -> Result<ReaderSettings, ServiceError> {
        match self
            .settings
            .put(patron, settings, now, email_change)
            .await
            .map_err(service_err)?
        {
            SettingsPut::Saved(stored, _) => Ok(stored),
            SettingsPut::EmailChangeUnconfirmed => Err(ServiceError::EmailChangeUnconfirmed),
        }
    }

    async fn reading_history(
        &self,
        patron: PatronId,
    ) -> Result<(ReadingHistory, Vec<ReturnedLoan>), ServiceError> {
        self.settings
            .reading_history(patron)
            .await
            .map_err(service_err)
    }

    async fn anonymise_returned_loans(
        &self,
        policy: &AnonymisationPolicy,
        now: OffsetDateTime,
    ) -> Result<u64, ServiceError> {
        self.settings
            .anonymise_returned_loans(policy, now)
            .await
            .map_err(service_err)
    }
}

#[async_trait]
impl EnquiryDesk for DbReaderServices {
    async fn ask(
        &self,
        patron: PatronId,
        enquiry: &NewEnquiry,
        now: OffsetDateTime,
    ) -> Result<EnquiryId, ServiceError> {
        self.enquiries
            .create(patron, enquiry, now)
            .await
            .map_err(service_err)
    }

    async fn get(&self, id: EnquiryId) -> Result<StaffEnquiry, ServiceError> {
        self.enquiries
            .get(id)
            .await
            .map_err(service_err)?
            .ok_or(ServiceError::NotFound)
    }

    async fn of_reader(&self, patron: PatronId) -> Result<Vec<Enquiry>, ServiceError> {
        self.enquiries.of_patron(patron).await.map_err(service_err)
    }

    async fn list(
        &self,
        status: Option<EnquiryStatus>,
        limit: u32,
        offset: u64,
    ) -> Result<Page<StaffEnquiry>, ServiceError> {
        self.enquiries
            .list(status, limit, offset)
            .await
            .map_err(service_err)
    }

    async fn answer(
        &self,
        id: EnquiryId,
        staff: Option<StaffId>,
        text: &str,
        at: OffsetDateTime,
        audit: AuditRecord,
    ) -> Result<(), ServiceError> {
        if self
            .enquiries
            .answer(id, staff, text, at, Some(&audit_entry(audit)))
            .await
            .map_err(service_err)?
        {
            Ok(())
        } else {
            Err(ServiceError::AlreadyAnswered)
        }
    }
}
