//! The guessing counters on the database: the source's window (`attempt_sources`), the
//! account-wide counter (`credential_attempts`) and the (account, kind, source) pair
//! (`guessing_pairs`).
//!
//! # One transaction per reservation
//!
//! [`GuessingPolicy::reserve`] reads all three and the number of other sources failing on
//! the account, so a reservation is one write transaction that locks what it reads, in one
//! order: the source's row, then the account's row (each by an upsert that changes
//! nothing, so a row never seen is created and locked as well), then it reads the pair and
//! counts the account's failing pairs, asks the policy, and writes the three new states.
//! A refusal rolls back: nothing is counted. Every writer of a pair holds its account's row
//! first (a reservation, a success, a give-back, a clear), so the count read under that
//! lock is exact, concurrent reservations on one account queue on its row (no count is
//! lost and no cap is passed), and no two writers wait on each other in opposite orders:
//! the source's row is only ever taken first, or alone.
//!
//! On SQLite every write already runs one at a time (`BEGIN IMMEDIATE` on the one writer);
//! on PostgreSQL the row locks do it, and each statement after a lock sees every commit
//! made before it (READ COMMITTED).
//!
//! A successful login thus costs six round trips to reserve (`BEGIN`, the source's row, the
//! account's row, the pair with the count, the three writes in one, `COMMIT`) and two to
//! settle (the source's row alone, then the account and the pair in one statement that
//! locks the account first): eight, where one conditional upsert per counter took two. A
//! refusal costs the first four and a rollback.

use library_credentials::{
    AttemptDecision, AttemptKey, AttemptSource, AttemptState, CredentialKind, GuessState,
    GuessingPolicy, PairState, PortError, Reservation, SourceState,
};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Value};
use time::OffsetDateTime;

use super::DbCredentialStore;
use crate::error::{corrupt, failed};
use crate::instant;
use crate::sql;

/// Locks (creating it if need be) and reads the source's window. A new row reads as an
/// empty window opened `now`, which the policy treats as a source never seen.
const LOCK_SOURCE: &str = "INSERT INTO attempt_sources (source, window_started_at, failures, version) \
     VALUES (?, ?, 0, 0) \
     ON CONFLICT (source) DO UPDATE SET version = attempt_sources.version \
     RETURNING window_started_at, failures";

/// Locks (creating it if need be) and reads the account-wide counter.
const LOCK_ACCOUNT: &str = "INSERT INTO credential_attempts (subject, kind, failures, throttled_until, version) \
     VALUES (?, ?, 0, NULL, 0) \
     ON CONFLICT (subject, kind) DO UPDATE SET version = credential_attempts.version \
     RETURNING failures, throttled_until";

/// The pair (its columns NULL when there is none) and the other sources failing on the
/// account. Values: subject, kind, source (the count), subject, kind, source (the pair).
const READ_PAIR: &str = "SELECT \
     (SELECT COUNT(*) FROM guessing_pairs o \
      WHERE o.subject = ? AND o.kind = ? AND o.source <> ? AND o.failures > 0) AS others, \
     p.failures, p.throttled_until, p.last_success_at \
     FROM (SELECT 1 AS one) AS one \
     LEFT JOIN guessing_pairs p ON p.subject = ? AND p.kind = ? AND p.source = ?";

/// Writes a pair's state. Values: subject, kind, source, failures, throttled_until,
/// last_success_at, last_active_at.
const WRITE_PAIR: &str = "INSERT INTO guessing_pairs \
     (subject, kind, source, failures, throttled_until, last_success_at, last_active_at, version) \
     SELECT ?, ?, ?, ?, ?, ?, ?, 1 WHERE TRUE \
     ON CONFLICT (subject, kind, source) DO UPDATE SET \
     failures = excluded.failures, throttled_until = excluded.throttled_until, \
     last_success_at = excluded.last_success_at, last_active_at = excluded.last_active_at, \
     version = guessing_pairs.version + 1";

/// Writes the account-wide counter (its row is locked). Values: failures,
/// throttled_until, subject, kind.
const WRITE_ACCOUNT: &str = "UPDATE credential_attempts \
     SET failures = ?, throttled_until = ?, version = version + 1 \
     WHERE subject = ? AND kind = ?";

/// Writes the source's window (its row is locked). Values: window_started_at, failures,
/// source.
const WRITE_SOURCE: &str = "UPDATE attempt_sources \
     SET window_started_at = ?, failures = ?, version = version + 1 WHERE source = ?";

/// [`GuessingPolicy::release_source`]: within the window one failure less (never below
/// zero); after it, unchanged. Values: source, the window's cut-off.
const RELEASE_SOURCE: &str = "UPDATE attempt_sources \
     SET failures = failures - 1, version = version + 1 \
     WHERE source = ? AND window_started_at > ? AND failures > 0";

/// Clears the account-wide counter (creating the row if need be) and returns a row, so
/// the statement it opens can take the pair after it. Values: subject, kind.
const CLEAR_ACCOUNT: &str = "INSERT INTO credential_attempts (subject, kind, failures, throttled_until, version) \
     VALUES (?, ?, 0, NULL, 1) \
     ON CONFLICT (subject, kind) DO UPDATE SET failures = 0, throttled_until = NULL, \
     version = credential_attempts.version + 1 \
     RETURNING subject";

/// [`GuessingPolicy::pair_after_success`]. Values: subject, kind, source, the success's
/// instant (twice).
const SUCCEED_PAIR: &str = "INSERT INTO guessing_pairs \
     (subject, kind, source, failures, throttled_until, last_success_at, last_active_at, version) \
     SELECT ?, ?, ?, 0, NULL, ?, ?, 1 FROM cleared WHERE TRUE \
     ON CONFLICT (subject, kind, source) DO UPDATE SET \
     failures = 0, throttled_until = NULL, last_success_at = excluded.last_success_at, \
     last_active_at = excluded.last_active_at, version = guessing_pairs.version + 1";

/// Clears the failures and delays of every pair of an account. Values: subject, kind.
const CLEAR_PAIRS: &str = "UPDATE guessing_pairs \
     SET failures = 0, throttled_until = NULL, version = version + 1 \
     WHERE subject = ? AND kind = ? AND (failures > 0 OR throttled_until IS NOT NULL)";

fn count(row: &QueryResult, column: &str, context: &str) -> Result<u32, PortError> {
    let n: i64 = sql::get(row, column).map_err(failed(context))?;
    u32::try_from(n).map_err(|e| corrupt(context, e))
}

fn account_key(key: &AttemptKey, kind: CredentialKind) -> Vec<Value> {
    vec![key.as_str().into(), kind.as_str().into()]
}

fn release_values(
    backend: DbBackend,
    source: &AttemptSource,
    now: OffsetDateTime,
    policy: &GuessingPolicy,
) -> Vec<Value> {
    // A window started after the cut-off is still open (`now < started + window`).
    let cutoff = instant::normalize(now) - policy.source_window;
    vec![source.0.as_str().into(), instant::value(backend, cutoff)]
}

/// The values of [`WRITE_PAIR`].
fn pair_values(
    backend: DbBackend,
    (key, kind, source): (&AttemptKey, CredentialKind, &AttemptSource),
    pair: PairState,
    now: OffsetDateTime,
) -> Vec<Value> {
    let mut values = account_key(key, kind);
    values.extend([
        source.0.as_str().into(),
        i64::from(pair.failures).into(),
        instant::optional(backend, pair.throttled_until),
        instant::optional(backend, pair.last_success_at),
        instant::value(backend, now),
    ]);
    values
}

/// The values of [`WRITE_ACCOUNT`].
fn account_values(
    backend: DbBackend,
    key: &AttemptKey,
    kind: CredentialKind,
    account: AttemptState,
) -> Vec<Value> {
    let mut values: Vec<Value> = vec![
        i64::from(account.failures).into(),
        instant::optional(backend, account.throttled_until),
    ];
    values.extend(account_key(key, kind));
    values
}

/// Locks the account's row and reads it (see [`LOCK_ACCOUNT`]).
async fn lock_account(
    conn: &impl ConnectionTrait,
    key: &AttemptKey,
    kind: CredentialKind,
    context: &str,
) -> Result<AttemptState, PortError> {
    let row = sql::one(conn, LOCK_ACCOUNT, account_key(key, kind))
        .await
        .map_err(failed(context))?
        .ok_or_else(|| PortError::Failed(format!("{context}: the upsert gave no row")))?;
    Ok(AttemptState {
        failures: count(&row, "failures", context)?,
        throttled_until: sql::get(&row, "throttled_until").map_err(failed(context))?,
    })
}

/// Reads the pair and counts the other failing sources (see [`READ_PAIR`]); the caller
/// holds the account's row.
async fn read_pair(
    conn: &impl ConnectionTrait,
    key: &AttemptKey,
    kind: CredentialKind,
    source: &AttemptSource,
    context: &str,
) -> Result<(PairState, u32), PortError> {
    let mut values = Vec::with_capacity(6);
    for _ in 0..2 {
        values.extend(account_key(key, kind));
        values.push(source.0.as_str().into());
    }
    let row = sql::one(conn, READ_PAIR, values)
        .await
        .map_err(failed(context))?
        .ok_or_else(|| PortError::Failed(format!("{context}: no row")))?;
    let failures: Option<i64> = sql::get(&row, "failures").map_err(failed(context))?;
    let pair = PairState {
        failures: u32::try_from(failures.unwrap_or(0)).map_err(|e| corrupt(context, e))?,
        throttled_until: sql::get(&row, "throttled_until").map_err(failed(context))?,
        last_success_at: sql::get(&row, "last_success_at").map_err(failed(context))?,
    };
    Ok((pair, count(&row, "others", context)?))
}

/// Writes a pair's state (see [`WRITE_PAIR`]).
async fn write_pair(
    conn: &impl ConnectionTrait,
    (key, kind, source): (&AttemptKey, CredentialKind, &AttemptSource),
    pair: PairState,
    now: OffsetDateTime,
    context: &str,
) -> Result<(), PortError> {
    let values = pair_values(conn.get_database_backend(), (key, kind, source), pair, now);
    sql::exec(conn, WRITE_PAIR, values)
        .await
        .map_err(failed(context))?;
    Ok(())
}

/// Writes the account-wide counter (see [`WRITE_ACCOUNT`]).
async fn write_account(
    conn: &impl ConnectionTrait,
    key: &AttemptKey,
    kind: CredentialKind,
    account: AttemptState,
    context: &str,
) -> Result<(), PortError> {
    let values = account_values(conn.get_database_backend(), key, kind, account);
    sql::exec(conn, WRITE_ACCOUNT, values)
        .await
        .map_err(failed(context))?;
    Ok(())
}

impl DbCredentialStore {
    /// [`library_credentials::CredentialStore::reserve_guess`] in one transaction (see the
    /// module docs).
    pub(super) async fn reserve_guess_in_db(
        &self,
        source: &AttemptSource,
        key: &AttemptKey,
        kind: CredentialKind,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<Reservation, PortError> {
        const CONTEXT: &str = "reserve a guess";
        let now = instant::normalize(now);
        let backend = self.backend();
        let txn = self.conn.begin_write().await.map_err(failed(CONTEXT))?;
        let row = sql::one(
            &txn,
            LOCK_SOURCE,
            vec![source.0.as_str().into(), instant::value(backend, now)],
        )
        .await
        .map_err(failed(CONTEXT))?
        .ok_or_else(|| PortError::Failed(format!("{CONTEXT}: the upsert gave no row")))?;
        let window = SourceState {
            window_started_at: sql::get(&row, "window_started_at").map_err(failed(CONTEXT))?,
            failures: count(&row, "failures", CONTEXT)?,
        };
        let account = lock_account(&txn, key, kind, CONTEXT).await?;
        let (pair, other_failing_sources) = read_pair(&txn, key, kind, source, CONTEXT).await?;
        let state = GuessState {
            source: Some(window),
            pair,
            account,
            other_failing_sources,
        };
        let (decision, reserved) = policy.reserve(kind, &state, now);
        let Some(r) = reserved else {
            // Dropped: rolled back, nothing counted (a row created to be locked is gone too).
            return Ok(Reservation::refused(decision));
        };
        // The three writes in one round trip (their rows are this transaction's already):
        // three statements in one call on SQLite, two data-modifying WITHs on PostgreSQL.
        let mut values = vec![
            instant::value(backend, r.source.window_started_at),
            i64::from(r.source.failures).into(),
            source.0.as_str().into(),
        ];
        values.extend(account_values(backend, key, kind, r.account));
        values.extend(pair_values(backend, (key, kind, source), r.pair, now));
        let text = match backend {
            DbBackend::Postgres => {
                format!("WITH s AS ({WRITE_SOURCE}), a AS ({WRITE_ACCOUNT}) {WRITE_PAIR}")
            }
            _ => format!("{WRITE_SOURCE}; {WRITE_ACCOUNT}; {WRITE_PAIR}"),
        };
        sql::exec(&txn, &text, values)
            .await
            .map_err(failed(CONTEXT))?;
        txn.commit().await.map_err(failed(CONTEXT))?;
        Ok(Reservation {
            decision: AttemptDecision::Granted,
            tripped: r.tripped,
        })
    }

    /// [`library_credentials::CredentialStore::settle_success`]: the source's row alone,
    /// then the account and the pair in one statement, the account first.
    pub(super) async fn settle_success_in_db(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        source: &AttemptSource,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<(), PortError> {
        const CONTEXT: &str = "settle a successful attempt";
        let backend = self.backend();
        let now = instant::normalize(now);
        sql::exec(
            &self.conn,
            RELEASE_SOURCE,
            release_values(backend, source, now, policy),
        )
        .await
        .map_err(failed(CONTEXT))?;
        let mut values = account_key(key, kind);
        values.extend(account_key(key, kind));
        values.extend([
            source.0.as_str().into(),
            instant::value(backend, now),
            instant::value(backend, now),
        ]);
        // PostgreSQL: the pair is inserted from the account's returned row, so the account
        // is locked first. SQLite (no data-modifying WITH): the same two statements in one
        // call, the second reading a one-row `cleared`.
        let text = match backend {
            DbBackend::Postgres => format!("WITH cleared AS ({CLEAR_ACCOUNT}) {SUCCEED_PAIR}"),
            _ => format!(
                "{}; WITH cleared AS (SELECT 1) {SUCCEED_PAIR}",
                CLEAR_ACCOUNT.replace(" RETURNING subject", "")
            ),
        };
        sql::exec(&self.conn, &text, values)
            .await
            .map_err(failed(CONTEXT))?;
        Ok(())
    }

    /// [`library_credentials::CredentialStore::give_back`]: the account and the pair in one
    /// transaction, as the policy releases them, then the source's row alone.
    pub(super) async fn give_back_in_db(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        source: &AttemptSource,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<(), PortError> {
        const CONTEXT: &str = "give a reservation back";
        let now = instant::normalize(now);
        let txn = self.conn.begin_write().await.map_err(failed(CONTEXT))?;
        let account = lock_account(&txn, key, kind, CONTEXT).await?;
        let (pair, _) = read_pair(&txn, key, kind, source, CONTEXT).await?;
        write_account(&txn, key, kind, policy.release_account(account), CONTEXT).await?;
        write_pair(
            &txn,
            (key, kind, source),
            policy.release_pair(pair),
            now,
            CONTEXT,
        )
        .await?;
        txn.commit().await.map_err(failed(CONTEXT))?;
        sql::exec(
            &self.conn,
            RELEASE_SOURCE,
            release_values(self.backend(), source, now, policy),
        )
        .await
        .map_err(failed(CONTEXT))?;
        Ok(())
    }

    /// [`library_credentials::CredentialStore::clear_attempts`]: the account, then its
    /// pairs, in one transaction.
    pub(super) async fn clear_attempts_in_db(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
    ) -> Result<(), PortError> {
        const CONTEXT: &str = "clear attempts";
        let txn = self.conn.begin_write().await.map_err(failed(CONTEXT))?;
        sql::one(&txn, CLEAR_ACCOUNT, account_key(key, kind))
            .await
            .map_err(failed(CONTEXT))?;
        sql::exec(&txn, CLEAR_PAIRS, account_key(key, kind))
            .await
            .map_err(failed(CONTEXT))?;
        txn.commit().await.map_err(failed(CONTEXT))
    }

    /// The (key, kind, source) pair as stored (`None` when there is none).
    ///
    /// # Errors
    /// [`PortError::Failed`] when the database fails.
    pub async fn pair(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        source: &AttemptSource,
    ) -> Result<Option<PairState>, PortError> {
        const CONTEXT: &str = "read a guessing pair";
        let mut values = account_key(key, kind);
        values.push(source.0.as_str().into());
        let row = sql::one(
            &self.conn,
            "SELECT failures, throttled_until, last_success_at FROM guessing_pairs \
             WHERE subject = ? AND kind = ? AND source = ?",
            values,
        )
        .await
        .map_err(failed(CONTEXT))?;
        row.map(|row| {
            Ok(PairState {
                failures: count(&row, "failures", CONTEXT)?,
                throttled_until: sql::get(&row, "throttled_until").map_err(failed(CONTEXT))?,
                last_success_at: sql::get(&row, "last_success_at").map_err(failed(CONTEXT))?,
            })
        })
        .transpose()
    }

    /// Deletes the pairs idle (no attempt, no success) for longer than a source stays
    /// known: none is known any more, and no delay of theirs is still running. The rows
    /// deleted.
    pub(super) async fn purge_idle_pairs(
        &self,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
        context: &str,
    ) -> Result<u64, PortError> {
        let cutoff = instant::normalize(now) - policy.known_source_for;
        sql::exec(
            &self.conn,
            "DELETE FROM guessing_pairs WHERE last_active_at < ?",
            vec![instant::value(self.backend(), cutoff)],
        )
        .await
        .map_err(failed(context))
    }
}
