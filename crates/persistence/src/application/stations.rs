//! Station accounts: the store, and the running SIP2 server whose connections a deleted
//! station loses.

use async_trait::async_trait;
use library_credentials::{StationSettings, StationUsername};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{Database, NewSip2Station, Sip2StationStore, StoreError};
use library_app::{
    AdminError, AuditRecord, NewStation, Sip2Stations, StationConnections, StationInfo,
    StationLogin,
};

use super::admin::{admin_err, audit_entry};

/// SIP2 station accounts over the database, and the SIP2 server when one runs: deleting
/// a station closes its connections.
#[derive(Clone)]
pub struct DbSip2Stations {
    store: Sip2StationStore,
    server: Option<Arc<dyn StationConnections>>,
}

impl std::fmt::Debug for DbSip2Stations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSip2Stations")
            .field("serves_sip2", &self.server.is_some())
            .finish_non_exhaustive()
    }
}

impl DbSip2Stations {
    /// Over `db`; `server` is the SIP2 server of this process, if it serves SIP2.
    pub fn new(db: &Database, server: Option<Arc<dyn StationConnections>>) -> Self {
        Self {
            store: db.sip2_stations(),
            server,
        }
    }
}

#[async_trait]
impl Sip2Stations for DbSip2Stations {
    async fn create(&self, station: &NewStation, audit: AuditRecord) -> Result<(), AdminError> {
        self.store
            .create(
                &NewSip2Station {
                    username: station.username.clone(),
                    password_hash: station.password_hash.clone(),
                    library: station.library.clone(),
                    created_at: station.created_at,
                    created_by: station.created_by.clone(),
                    settings: station.settings.clone(),
                },
                Some(&audit_entry(audit)),
            )
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => AdminError::Invalid(vec!["unknown_library"]),
                other => admin_err(other),
            })
    }

    async fn list(&self) -> Result<Vec<StationInfo>, AdminError> {
        Ok(self
            .store
            .list()
            .await
            .map_err(admin_err)?
            .into_iter()
            .map(|s| StationInfo {
                username: s.username,
                library: s.library,
                created_at: s.created_at,
                created_by: s.created_by,
                settings: s.settings,
            })
            .collect())
    }

    async fn update_settings(
        &self,
        username: &StationUsername,
        settings: &StationSettings,
        audit: AuditRecord,
    ) -> Result<(), AdminError> {
        if self
            .store
            .update_settings(username, settings, Some(&audit_entry(audit)))
            .await
            .map_err(admin_err)?
        {
            // Logged-in connections hold the settings they logged in with: closed, so the
            // station logs in again under the new ones.
            if let Some(server) = &self.server {
                server.disconnect(username);
            }
            Ok(())
        } else {
            Err(AdminError::NotFound)
        }
    }

    async fn find(&self, username: &StationUsername) -> Result<Option<StationLogin>, AdminError> {
        Ok(self
            .store
            .find(username)
            .await
            .map_err(admin_err)?
            .map(|s| StationLogin {
                username: s.username,
                password_hash: s.password_hash,
                library: s.library,
                settings: s.settings,
            }))
    }

    async fn delete(
        &self,
        username: &StationUsername,
        audit: &(dyn Fn(usize) -> AuditRecord + Send + Sync),
    ) -> Result<Option<usize>, AdminError> {
        let disconnect = || {
            self.server
                .as_ref()
                .map_or(0, |server| server.disconnect(username))
        };
        // The connections are closed once the row is deleted, before the deletion commits,
        // so the audit entry written with it says how many were closed.
        let closed = AtomicUsize::new(0);
        let entry = || {
            let n = disconnect();
            closed.fetch_add(n, Ordering::Relaxed);
            audit_entry(audit(n))
        };
        if !self
            .store
            .delete(username, Some(&entry))
            .await
            .map_err(admin_err)?
        {
            return Ok(None);
        }
        // Once more after the commit: a login that found the account before the deletion
        // was visible is closed too.
        Ok(Some(closed.into_inner() + disconnect()))
    }
}
