//! The outbox as the application layer's sender works it (`library_app::Outbox`).

use std::time::Duration;

use async_trait::async_trait;
use library_app::{Outbox, QueuedMessage};
use library_credentials::PortError;
use time::OffsetDateTime;

use crate::{Database, OutboxStore};

/// The outbox table.
#[derive(Debug, Clone)]
pub struct DbOutbox {
    store: OutboxStore,
}

impl DbOutbox {
    /// Over `db`.
    pub fn new(db: &Database) -> Self {
        Self { store: db.outbox() }
    }
}

#[async_trait]
impl Outbox for DbOutbox {
    async fn claim(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<QueuedMessage>, PortError> {
        Ok(self
            .store
            .claim(now, lease, limit)
            .await
            .map_err(|e| e.into_port_error("claim outbox messages"))?
            .into_iter()
            .map(|m| QueuedMessage {
                id: m.id,
                kind: m.kind,
                patron: m.patron,
                payload: m.payload,
                attempts: m.attempts,
            })
            .collect())
    }

    async fn sent(&self, id: i64, at: OffsetDateTime) -> Result<(), PortError> {
        self.store
            .mark_sent(id, at)
            .await
            .map_err(|e| e.into_port_error("mark a message sent"))?;
        Ok(())
    }

    async fn failed(
        &self,
        id: i64,
        attempts: u32,
        reason: &str,
        retry_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<(), PortError> {
        self.store
            .failed(id, attempts, reason, retry_at, now)
            .await
            .map_err(|e| e.into_port_error("record a failed delivery"))
    }

    async fn purge_sent(&self, before: OffsetDateTime) -> Result<u64, PortError> {
        self.store
            .purge_sent(before)
            .await
            .map_err(|e| e.into_port_error("purge sent messages"))
    }
}
