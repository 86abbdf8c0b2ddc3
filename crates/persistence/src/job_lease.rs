//! Leases of the scheduled jobs (`job_runs`): however many server processes share the
//! database, one of them runs a job per period.
//!
//! Taking a lease is one conditional upsert, `INSERT … ON CONFLICT (name) DO UPDATE SET
//! started_at = now WHERE <the last lease is over>`, on both backends: the row's lock
//! (PostgreSQL) or the write lock (SQLite) lets exactly one of the processes racing for a
//! period through. A lease is over `every` after it was taken. One taken more than a period
//! in the future is void (the clock was set back, as the development clock may be); a
//! smaller difference is two processes' clocks disagreeing, and must not let both run.

use sea_orm::Value;
use time::{Duration, OffsetDateTime};

use crate::error::StoreError;
use crate::instant;
use crate::pool::Pool;
use crate::sql::{self, store_err};

/// The scheduled jobs' leases.
#[derive(Debug, Clone)]
pub struct JobLeaseStore {
    conn: Pool,
}

impl JobLeaseStore {
    pub(crate) fn new(conn: Pool) -> Self {
        Self { conn }
    }

    /// Takes job `name`'s lease at `now` for `every`: `true` for exactly one caller while
    /// no lease was taken in `(now - every, now + every]`.
    ///
    /// # Errors
    /// [`StoreError::Infrastructure`] when the database fails.
    pub async fn try_start(
        &self,
        name: &str,
        now: OffsetDateTime,
        every: Duration,
    ) -> Result<bool, StoreError> {
        let backend = self.conn.get_database_backend();
        let at = instant::value(backend, now);
        let values: Vec<Value> = vec![
            name.into(),
            at.clone(),
            at.clone(),
            instant::value(backend, now - every),
            instant::value(backend, now + every),
        ];
        let taken = sql::one(
            &self.conn,
            "INSERT INTO job_runs (name, started_at) VALUES (?, ?) \
             ON CONFLICT (name) DO UPDATE SET started_at = ? \
             WHERE job_runs.started_at <= ? OR job_runs.started_at > ? \
             RETURNING name",
            values,
        )
        .await
        .map_err(store_err("take a scheduled job's lease"))?;
        Ok(taken.is_some())
    }
}
