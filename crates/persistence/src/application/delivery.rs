//! The outbox as the application layer's sender works it (`library_app::Outbox`), what
//! readers and staff see of it (`library_app::NoticeLog`), and the reminders about loans'
//! due dates (`library_app::ReminderStore`).

use std::time::Duration;

use async_trait::async_trait;
use library_app::{
    DueLoan, Failure, NoticeLog, NoticeRecord, NoticeStatus, Outbox, QueuedMessage, ReminderKind,
    ReminderStore,
};
use library_core::{LoanId, PatronId};
use library_credentials::PortError;
use library_reader_services::Page;
use time::{Date, OffsetDateTime};

use crate::{Database, NoticeRow, OutboxStore};

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
                channels: m.channels,
            })
            .collect())
    }

    async fn sent(&self, id: i64, at: OffsetDateTime, channels: &[&str]) -> Result<(), PortError> {
        self.store
            .mark_sent(id, at, channels)
            .await
            .map_err(|e| e.into_port_error("mark a message sent"))?;
        Ok(())
    }

    async fn failed(
        &self,
        id: i64,
        failure: Failure<'_>,
        now: OffsetDateTime,
    ) -> Result<(), PortError> {
        self.store
            .failed(id, failure, now)
            .await
            .map_err(|e| e.into_port_error("record a failed delivery"))
    }

    async fn purge_sent(&self, before: OffsetDateTime) -> Result<u64, PortError> {
        self.store
            .purge_sent(before)
            .await
            .map_err(|e| e.into_port_error("purge sent messages"))
    }

    async fn expire(&self, now: OffsetDateTime) -> Result<u64, PortError> {
        self.store
            .expire(now)
            .await
            .map_err(|e| e.into_port_error("expire unsent messages"))
    }
}

/// A row as readers and staff see it.
fn record(row: NoticeRow) -> NoticeRecord {
    let status = if row.sent_at.is_some() {
        NoticeStatus::Sent
    } else if row.failed_at.is_some() {
        NoticeStatus::NotSent
    } else if row.next_attempt_at.is_some() {
        NoticeStatus::Retrying
    } else {
        NoticeStatus::Queued
    };
    NoticeRecord {
        id: row.id,
        kind: row.kind,
        channels: row.channels,
        status,
        queued_at: row.created_at,
        sent_at: row.sent_at,
        attempts: row.attempts,
        reason: match status {
            NoticeStatus::Retrying | NoticeStatus::NotSent => row.last_error,
            NoticeStatus::Queued | NoticeStatus::Sent => None,
        },
    }
}

/// The outbox and the reminders, as the application layer reads and notes them.
#[derive(Debug, Clone)]
pub struct DbNotices {
    outbox: OutboxStore,
    reminders: crate::ReminderStore,
}

impl DbNotices {
    /// Over `db`.
    pub fn new(db: &Database) -> Self {
        Self {
            outbox: db.outbox(),
            reminders: db.reminders(),
        }
    }
}

#[async_trait]
impl NoticeLog for DbNotices {
    async fn of_reader(
        &self,
        patron: PatronId,
        limit: u32,
        offset: u64,
    ) -> Result<Page<NoticeRecord>, PortError> {
        let page = self
            .outbox
            .of_patron(patron, limit, offset)
            .await
            .map_err(|e| e.into_port_error("read a reader's messages"))?;
        Ok(Page {
            items: page.items.into_iter().map(record).collect(),
            total: page.total,
        })
    }

    async fn waiting(&self) -> Result<u64, PortError> {
        self.outbox
            .waiting()
            .await
            .map_err(|e| e.into_port_error("count waiting messages"))
    }
}

#[async_trait]
impl ReminderStore for DbNotices {
    async fn due(
        &self,
        kind: ReminderKind,
        from: Option<Date>,
        to: Date,
        limit: u32,
    ) -> Result<Vec<DueLoan>, PortError> {
        self.reminders
            .due(kind, from, to, limit)
            .await
            .map_err(|e| e.into_port_error("read loans due a reminder"))
    }

    async fn count_due(
        &self,
        kind: ReminderKind,
        from: Option<Date>,
        to: Date,
    ) -> Result<u64, PortError> {
        self.reminders
            .count_due(kind, from, to)
            .await
            .map_err(|e| e.into_port_error("count loans due a reminder"))
    }

    async fn queue(
        &self,
        kind: ReminderKind,
        loan: &DueLoan,
        payload: &str,
        at: OffsetDateTime,
    ) -> Result<bool, PortError> {
        self.reminders
            .queue(kind, loan, payload, at)
            .await
            .map_err(|e| e.into_port_error("queue a reminder"))
    }

    async fn still_due(&self, loan: LoanId, due_on: Date) -> Result<bool, PortError> {
        self.reminders
            .still_due(loan, due_on)
            .await
            .map_err(|e| e.into_port_error("read a loan's due date"))
    }
}
