//! [`CredentialStore`] on the database.
//!
//! # Atomic reservations
//!
//! `reserve_attempt` and `reserve_source_attempt` apply the pure [`GuessingPolicy`] in one
//! statement each, identical on both backends: `INSERT … ON CONFLICT … DO UPDATE SET …
//! WHERE <the attempt is allowed> RETURNING …`. The numbers come from the policy (the
//! first counter state, the window's cut-off, the caps, [`GuessingPolicy::delay_steps`] as a
//! `CASE`), so the statement decides exactly as [`GuessingPolicy::reserve`] /
//! [`GuessingPolicy::reserve_source`] would on the row it locks (a contract test compares
//! them state by state).
//!
//! - A row returned: the attempt was granted and counted, in the same statement that read
//!   the counter, so concurrent attempts queue on the row and no count is lost and no cap
//!   is passed.
//! - No row: the statement wrote nothing because the attempt is refused. The row is read
//!   and the policy says why (throttled until when, or disabled). Should that read find a
//!   state the policy would grant (a success cleared the counter in between), the upsert
//!   is tried again, at most [`ROUNDS`] times.
//!
//! Giving a source reservation back and clearing a counter are one conditional `UPDATE`
//! each, and `settle_success` sends both in one round trip. `reserve_attempts` sends both
//! upserts in one round trip too, the counter's applying only if the source's granted
//! (SQLite: `changes()` of the statement before; PostgreSQL: two data-modifying `WITH`s,
//! the second reading the first's rows); any refusal falls back to the separate calls,
//! which say why. A successful attempt thus costs two round trips here (was seven
//! statements with a read before every write), and concurrent logins from one address no
//! longer retry a compare-and-set on its window.
//! `version` still counts the writes of a row.
//!
//! The windows of "forgot Password" (`reset_windows`, per account and per source) are
//! reserved the same way: one upsert that counts the request unless the window is full
//! ([`RESET_UPSERT`]), the row read afterwards only to say until when it is full.

use library_core::{CardNumber, PatronId};
use library_credentials::{
    AttemptDecision, AttemptKey, AttemptSource, AttemptState, CredentialKind, CredentialStore,
    GuessingPolicy, PersonalInfo, PortError, RequestLimit, RequestWindow, ResetCounter, SecretHash,
    SourceState, StoredCredentials, StoredTemporaryPassword, reserve_attempts_by_parts,
    reserve_counter_or_give_back,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Value,
};
use time::OffsetDateTime;

use crate::entity::{attempt_source, credential_attempt, patron, patron_credentials};
use crate::error::{corrupt, failed};
use crate::instant;
use crate::pool::Pool;
use crate::sql;

/// Rounds of "refused, but the row read afterwards says granted" before a reservation
/// gives up (each round means another attempt changed the counter in between).
const ROUNDS: usize = 100;

/// Readers' credentials and the guessing counters in the database.
#[derive(Debug, Clone)]
pub struct DbCredentialStore {
    conn: Pool,
}

impl DbCredentialStore {
    pub(crate) fn new(conn: Pool) -> Self {
        Self { conn }
    }

    fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// The (key, kind) counter as stored (the default when there is none).
    pub async fn attempts(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
    ) -> Result<AttemptState, PortError> {
        const CONTEXT: &str = "read attempt counter";
        Ok(self
            .read_attempts(key, kind, CONTEXT)
            .await?
            .unwrap_or_default())
    }

    /// The source's window as stored.
    pub async fn source_window(
        &self,
        source: &AttemptSource,
    ) -> Result<Option<SourceState>, PortError> {
        const CONTEXT: &str = "read source window";
        self.read_source(source, CONTEXT).await
    }

    /// The "forgot Password" window of `counter` as stored.
    pub async fn reset_window(
        &self,
        counter: &ResetCounter,
    ) -> Result<Option<RequestWindow>, PortError> {
        const CONTEXT: &str = "read reset window";
        self.read_reset_window(counter, CONTEXT).await
    }

    /// Deletes the guessing rows that no longer say anything (a scheduled job): counters
    /// with no failures and no delay, source windows that are over, and "forgot Password"
    /// windows that are over. Each reads as the default state, a missing row, so no
    /// decision changes; the tables stop growing with every card, address and reader ever
    /// tried. A counter with failures stays, however old: failures count until a success,
    /// and a PIN lock does not expire. The rows deleted.
    ///
    /// # Errors
    /// [`PortError::Failed`] when the database fails.
    pub async fn purge_stale_attempts(
        &self,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<u64, PortError> {
        const CONTEXT: &str = "purge stale attempt counters";
        let backend = self.backend();
        let counters = sql::exec(
            &self.conn,
            "DELETE FROM credential_attempts WHERE failures = 0 AND throttled_until IS NULL",
            Vec::new(),
        )
        .await
        .map_err(failed(CONTEXT))?;
        // Over: `now >= started + window`, as `GuessingPolicy::reserve_source` reads it.
        let cutoff = instant::value(backend, instant::normalize(now) - policy.source_window);
        let windows = sql::exec(
            &self.conn,
            "DELETE FROM attempt_sources WHERE window_started_at <= ?",
            vec![cutoff],
        )
        .await
        .map_err(failed(CONTEXT))?;
        // Over: `now >= ends_at`, as `RequestLimit::reserve` reads it.
        let resets = sql::exec(
            &self.conn,
            "DELETE FROM reset_windows WHERE window_ends_at <= ?",
            vec![instant::value(backend, now)],
        )
        .await
        .map_err(failed(CONTEXT))?;
        Ok(counters + windows + resets)
    }

    async fn read_reset_window(
        &self,
        counter: &ResetCounter,
        context: &str,
    ) -> Result<Option<RequestWindow>, PortError> {
        let row = sql::one(
            &self.conn,
            "SELECT window_ends_at, requests FROM reset_windows WHERE subject = ?",
            vec![counter.as_str().into()],
        )
        .await
        .map_err(failed(context))?;
        row.map(|r| {
            let requests: i64 = sql::get(&r, "requests").map_err(failed(context))?;
            Ok(RequestWindow {
                ends_at: sql::get(&r, "window_ends_at").map_err(failed(context))?,
                requests: u32::try_from(requests).map_err(|e| corrupt(context, e))?,
            })
        })
        .transpose()
    }

    async fn read_attempts(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        context: &str,
    ) -> Result<Option<AttemptState>, PortError> {
        let row = credential_attempt::Entity::find_by_id((
            key.as_str().to_owned(),
            kind.as_str().to_owned(),
        ))
        .one(&self.conn)
        .await
        .map_err(failed(context))?;
        row.map(|r| {
            let failures = u32::try_from(r.failures).map_err(|e| corrupt(context, e))?;
            Ok(AttemptState {
                failures,
                throttled_until: r.throttled_until,
            })
        })
        .transpose()
    }

    async fn read_source(
        &self,
        source: &AttemptSource,
        context: &str,
    ) -> Result<Option<SourceState>, PortError> {
        let row = attempt_source::Entity::find_by_id(source.0.clone())
            .one(&self.conn)
            .await
            .map_err(failed(context))?;
        row.map(|r| {
            let failures = u32::try_from(r.failures).map_err(|e| corrupt(context, e))?;
            Ok(SourceState {
                window_started_at: r.window_started_at,
                failures,
            })
        })
        .transpose()
    }

    /// The granting half of [`GuessingPolicy::reserve`] in one statement
    /// ([`attempt_upsert`]). `true` when granted.
    async fn upsert_attempt(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
        first: AttemptState,
        context: &str,
    ) -> Result<bool, PortError> {
        let (text, values) = attempt_upsert(
            self.backend(),
            Upsert::ALWAYS,
            (key, kind, first),
            now,
            policy,
        );
        let row = sql::one(&self.conn, &text, values)
            .await
            .map_err(failed(context))?;
        Ok(row.is_some())
    }

    /// The granting half of [`GuessingPolicy::reserve_source`] in one statement
    /// ([`source_upsert`]). `true` when granted.
    async fn upsert_source(
        &self,
        source: &AttemptSource,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
        first: SourceState,
        context: &str,
    ) -> Result<bool, PortError> {
        let (text, values) = source_upsert(
            self.backend(),
            "RETURNING failures",
            source,
            first,
            now,
            policy,
        );
        let row = sql::one(&self.conn, &text, values)
            .await
            .map_err(failed(context))?;
        Ok(row.is_some())
    }

    /// Both granting halves in one round trip, the counter's only if the source's granted:
    /// (source granted, counter granted).
    async fn upsert_both(
        &self,
        (source, first_source): (&AttemptSource, SourceState),
        counter: (&AttemptKey, CredentialKind, AttemptState),
        now: OffsetDateTime,
        policy: &GuessingPolicy,
        context: &str,
    ) -> Result<(bool, bool), PortError> {
        let backend = self.backend();
        let postgres = backend == DbBackend::Postgres;
        // Each upsert returns a row tagged with what it granted. SQLite: two statements in
        // one call, the second inserting its row only if the first changed one
        // (`changes()`); PostgreSQL: two data-modifying WITHs, the second selecting its row
        // only if the first returned one.
        let (src, mut values) = source_upsert(
            backend,
            "RETURNING 'source' AS what",
            source,
            first_source,
            now,
            policy,
        );
        let when = if postgres {
            "EXISTS (SELECT 1 FROM src)"
        } else {
            "changes() > 0"
        };
        let returning = "RETURNING 'attempt' AS what";
        let (att, more) = attempt_upsert(backend, Upsert { when, returning }, counter, now, policy);
        values.extend(more);
        let text = if postgres {
            format!(
                "WITH src AS ({src}), att AS ({att}) \
                 SELECT what FROM src UNION ALL SELECT what FROM att"
            )
        } else {
            format!("{src}; {att}")
        };
        let granted = sql::all(&self.conn, &text, values)
            .await
            .map_err(failed(context))?
            .iter()
            .map(|row| sql::get::<String>(row, "what"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(failed(context))?;
        let has = |what: &str| granted.iter().any(|w| w == what);
        Ok((has("source"), has("attempt")))
    }

    /// Runs one UPDATE of a reader's credentials row; no row means no such reader.
    async fn update_credentials(
        &self,
        patron: PatronId,
        update: &mut sea_orm::sea_query::UpdateStatement,
        context: &str,
    ) -> Result<(), PortError> {
        let update = update
            .table(patron_credentials::Entity)
            .and_where(patron_credentials::Column::PatronId.eq(patron.get()))
            .to_owned();
        let result = self.conn.execute(&update).await.map_err(failed(context))?;
        if result.rows_affected() == 1 {
            Ok(())
        } else {
            Err(no_reader(context, patron))
        }
    }

    async fn reader_exists(&self, patron: PatronId, context: &str) -> Result<bool, PortError> {
        Ok(patron_credentials::Entity::find_by_id(patron.get())
            .one(&self.conn)
            .await
            .map_err(failed(context))?
            .is_some())
    }
}

/// How [`attempt_upsert`] inserts its row and what it returns.
struct Upsert {
    /// The condition for inserting (or updating) the row at all.
    when: &'static str,
    /// The `RETURNING` clause: a row for a granted attempt.
    returning: &'static str,
}

impl Upsert {
    /// Unconditional, returning the new count.
    const ALWAYS: Upsert = Upsert {
        when: "TRUE",
        returning: "RETURNING failures",
    };
}

/// [`GuessingPolicy::reserve`]'s granting half as one statement: counts the attempt and
/// sets the delay it earns, unless the counter refuses it; `first` is the row of a counter
/// never seen. The statement's text and values.
fn attempt_upsert(
    backend: DbBackend,
    upsert: Upsert,
    (key, kind, first): (&AttemptKey, CredentialKind, AttemptState),
    now: OffsetDateTime,
    policy: &GuessingPolicy,
) -> (String, Vec<Value>) {
    let mut values: Vec<Value> = vec![
        key.as_str().into(),
        kind.as_str().into(),
        i64::from(first.failures).into(),
        instant::optional(backend, first.throttled_until),
    ];
    // The delay earned by the failure this attempt adds: the policy's table, last step
    // first.
    let steps = policy.delay_steps();
    let throttled_until = if steps.is_empty() {
        "NULL".to_owned()
    } else {
        let mut case = String::from("CASE");
        for &(failures, delay) in steps.iter().rev() {
            case.push_str(" WHEN credential_attempts.failures + 1 >= ? THEN ?");
            values.push(i64::from(failures).into());
            values.push(instant::value(backend, now + delay));
        }
        case.push_str(" ELSE NULL END");
        case
    };
    // The refusals: a disabled PIN, then a delay not yet over.
    let disabled = match kind {
        CredentialKind::Pin => {
            values.push(i64::from(policy.pin_disable_after).into());
            "credential_attempts.failures < ? AND "
        }
        CredentialKind::Password => "",
    };
    values.push(instant::value(backend, now));
    let Upsert { when, returning } = upsert;
    // `SELECT … WHERE` rather than `VALUES`, for the condition (SQLite also needs the
    // WHERE to parse an upsert of a SELECT).
    let text = format!(
        "INSERT INTO credential_attempts (subject, kind, failures, throttled_until, version) \
         SELECT ?, ?, ?, ?, 1 WHERE {when} \
         ON CONFLICT (subject, kind) DO UPDATE SET \
         failures = credential_attempts.failures + 1, \
         throttled_until = {throttled_until}, \
         version = credential_attempts.version + 1 \
         WHERE {disabled}(credential_attempts.throttled_until IS NULL \
         OR credential_attempts.throttled_until <= ?) \
         {returning}"
    );
    (text, values)
}

/// [`GuessingPolicy::reserve_source`]'s granting half as one statement: counts the attempt
/// in the current window, or opens a new window, unless the window is full; `first` is the
/// row of a source never seen. The statement's text (ending with `returning`) and values.
fn source_upsert(
    backend: DbBackend,
    returning: &str,
    source: &AttemptSource,
    first: SourceState,
    now: OffsetDateTime,
    policy: &GuessingPolicy,
) -> (String, Vec<Value>) {
    // A window started after the cut-off is still open (`now < started + window`).
    let cutoff = instant::value(backend, now - policy.source_window);
    let text = format!(
        "INSERT INTO attempt_sources (source, window_started_at, failures, version) \
         VALUES (?, ?, ?, 1) \
         ON CONFLICT (source) DO UPDATE SET \
         window_started_at = CASE WHEN attempt_sources.window_started_at > ? \
         THEN attempt_sources.window_started_at ELSE ? END, \
         failures = CASE WHEN attempt_sources.window_started_at > ? \
         THEN attempt_sources.failures + 1 ELSE 1 END, \
         version = attempt_sources.version + 1 \
         WHERE attempt_sources.window_started_at <= ? OR attempt_sources.failures < ? \
         {returning}"
    );
    let values: Vec<Value> = vec![
        source.0.as_str().into(),
        instant::value(backend, first.window_started_at),
        i64::from(first.failures).into(),
        cutoff.clone(),
        instant::value(backend, now),
        cutoff.clone(),
        cutoff,
        i64::from(policy.source_max_failures).into(),
    ];
    (text, values)
}

/// [`RequestLimit::reserve`]'s granting half as one statement, the same on both backends:
/// opens a window (a new row, or one whose window is over) or counts the request in the
/// open one, unless it is full; a row returned means granted. Values: the subject, the
/// first window's end and count, then `now` (three times), the new window's end, and the
/// limit (see [`reset_values`]).
const RESET_UPSERT: &str = "INSERT INTO reset_windows (subject, window_ends_at, requests, version) \
     VALUES (?, ?, ?, 1) \
     ON CONFLICT (subject) DO UPDATE SET \
     window_ends_at = CASE WHEN reset_windows.window_ends_at > ? \
     THEN reset_windows.window_ends_at ELSE ? END, \
     requests = CASE WHEN reset_windows.window_ends_at > ? \
     THEN reset_windows.requests + 1 ELSE 1 END, \
     version = reset_windows.version + 1 \
     WHERE reset_windows.window_ends_at <= ? OR reset_windows.requests < ? \
     RETURNING requests";

fn reset_values(
    backend: DbBackend,
    counter: &ResetCounter,
    first: RequestWindow,
    now: OffsetDateTime,
    limit: &RequestLimit,
) -> Vec<Value> {
    let now = instant::value(backend, now);
    vec![
        counter.as_str().into(),
        instant::value(backend, first.ends_at),
        i64::from(first.requests).into(),
        now.clone(),
        instant::value(backend, first.ends_at),
        now.clone(),
        now,
        i64::from(limit.max_requests).into(),
    ]
}

/// Zeroes a counter (key, kind); the row stays until `purge_stale_attempts`.
const CLEAR_ATTEMPTS: &str = "UPDATE credential_attempts \
     SET failures = 0, throttled_until = NULL, version = version + 1 \
     WHERE subject = ? AND kind = ?";

fn clear_values(key: &AttemptKey, kind: CredentialKind) -> Vec<Value> {
    vec![key.as_str().into(), kind.as_str().into()]
}

/// [`GuessingPolicy::release_source`]: within the window one failure less (never below
/// zero); after it, unchanged.
const RELEASE_SOURCE: &str = "UPDATE attempt_sources \
     SET failures = failures - 1, version = version + 1 \
     WHERE source = ? AND window_started_at > ? AND failures > 0";

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

fn no_reader(context: &str, patron: PatronId) -> PortError {
    PortError::Failed(format!("{context}: no reader {patron}"))
}

fn contention(context: &str) -> PortError {
    PortError::Failed(format!("{context}: still contended after {ROUNDS} rounds"))
}

/// A reader and their credentials row as the domain sees them. A missing hash (credentials
/// not set yet) is the empty hash, which never verifies.
fn to_stored(
    reader: patron::Model,
    creds: Option<patron_credentials::Model>,
    context: &str,
) -> Result<StoredCredentials, PortError> {
    let card_number = CardNumber::parse(&reader.card_number)
        .map_err(|e| corrupt(context, format_args!("card number: {e}")))?;
    let creds = creds.unwrap_or(patron_credentials::Model {
        patron_id: reader.id,
        password_hash: None,
        password_is_default: true,
        pin_hash: None,
        temporary_password_hash: None,
        temporary_password_expires_at: None,
        temporary_password_used_at: None,
        credential_epoch: 0,
        temporary_password_failures: 0,
    });
    // A deactivated reader's Password, PIN and temporary password stop working: kept in
    // the row, never verified.
    let creds = if reader.deactivated_at.is_some() {
        patron_credentials::Model {
            password_hash: None,
            pin_hash: None,
            temporary_password_hash: None,
            ..creds
        }
    } else {
        creds
    };
    let temporary = match (
        creds.temporary_password_hash,
        creds.temporary_password_expires_at,
    ) {
        (Some(hash), Some(expires_at)) => Some(StoredTemporaryPassword {
            hash: SecretHash(hash),
            expires_at,
            used_at: creds.temporary_password_used_at,
            failures: u32::try_from(creds.temporary_password_failures)
                .map_err(|e| corrupt(context, e))?,
        }),
        _ => None,
    };
    Ok(StoredCredentials {
        patron: PatronId(reader.id),
        info: PersonalInfo {
            card_number,
            name: reader.name,
            phone: reader.phone,
            email: reader.email,
            date_of_birth: reader.date_of_birth,
        },
        password_hash: SecretHash(creds.password_hash.unwrap_or_default()),
        password_is_default: creds.password_is_default,
        pin_hash: SecretHash(creds.pin_hash.unwrap_or_default()),
        temporary,
        epoch: u64::try_from(creds.credential_epoch).map_err(|e| corrupt(context, e))?,
    })
}

#[async_trait::async_trait]
impl CredentialStore for DbCredentialStore {
    async fn find_by_card(
        &self,
        card: &CardNumber,
    ) -> Result<Option<StoredCredentials>, PortError> {
        const CONTEXT: &str = "find credentials by card";
        // `all` on the unique card: `one` would bind `LIMIT ?`, which SQLite prepares
        // again on every run, and this is every login's first read.
        patron::Entity::find()
            .filter(patron::Column::CardNumber.eq(card.as_str()))
            .find_also_related(patron_credentials::Entity)
            .all(&self.conn)
            .await
            .map_err(failed(CONTEXT))?
            .into_iter()
            .next()
            .map(|(reader, creds)| to_stored(reader, creds, CONTEXT))
            .transpose()
    }

    async fn find_by_patron(
        &self,
        patron: PatronId,
    ) -> Result<Option<StoredCredentials>, PortError> {
        const CONTEXT: &str = "find credentials by patron";
        patron::Entity::find_by_id(patron.get())
            .find_also_related(patron_credentials::Entity)
            .one(&self.conn)
            .await
            .map_err(failed(CONTEXT))?
            .map(|(reader, creds)| to_stored(reader, creds, CONTEXT))
            .transpose()
    }

    async fn find_by_email(&self, email: &str) -> Result<Vec<StoredCredentials>, PortError> {
        const CONTEXT: &str = "find credentials by email";
        // `lower(email)` is indexed. SQLite's lower() folds ASCII only, like the port's
        // reference; PostgreSQL's also folds other letters (a superset of matches).
        let stored_email = Expr::col((patron::Entity, patron::Column::Email));
        patron::Entity::find()
            .filter(Expr::expr(Func::lower(stored_email)).eq(email.to_ascii_lowercase()))
            .find_also_related(patron_credentials::Entity)
            .order_by_asc(patron::Column::Id)
            .all(&self.conn)
            .await
            .map_err(failed(CONTEXT))?
            .into_iter()
            .map(|(reader, creds)| to_stored(reader, creds, CONTEXT))
            .collect()
    }

    async fn reserve_attempt(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<AttemptDecision, PortError> {
        const CONTEXT: &str = "reserve attempt";
        let now = instant::normalize(now);
        let (decision, first) = policy.reserve(kind, AttemptState::default(), now);
        let Some(first) = first else {
            // Refused on a counter with no failures: refused on any.
            return Ok(decision);
        };
        for _ in 0..ROUNDS {
            if self
                .upsert_attempt(key, kind, now, policy, first, CONTEXT)
                .await?
            {
                return Ok(AttemptDecision::Granted);
            }
            let state = self
                .read_attempts(key, kind, CONTEXT)
                .await?
                .unwrap_or_default();
            if let (refused, None) = policy.reserve(kind, state, now) {
                return Ok(refused);
            }
            tokio::task::yield_now().await;
        }
        Err(contention(CONTEXT))
    }

    async fn clear_attempts(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
    ) -> Result<(), PortError> {
        const CONTEXT: &str = "clear attempts";
        sql::exec(&self.conn, CLEAR_ATTEMPTS, clear_values(key, kind))
            .await
            .map_err(failed(CONTEXT))?;
        Ok(())
    }

    async fn reserve_source_attempt(
        &self,
        source: &AttemptSource,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<AttemptDecision, PortError> {
        const CONTEXT: &str = "reserve source attempt";
        let now = instant::normalize(now);
        let (decision, first) = policy.reserve_source(None, now);
        let Some(first) = first else {
            return Ok(decision);
        };
        for _ in 0..ROUNDS {
            if self
                .upsert_source(source, now, policy, first, CONTEXT)
                .await?
            {
                return Ok(AttemptDecision::Granted);
            }
            let state = self.read_source(source, CONTEXT).await?;
            if let (refused, None) = policy.reserve_source(state, now) {
                return Ok(refused);
            }
            tokio::task::yield_now().await;
        }
        Err(contention(CONTEXT))
    }

    async fn release_source_attempt(
        &self,
        source: &AttemptSource,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<(), PortError> {
        const CONTEXT: &str = "release source attempt";
        let values = release_values(self.backend(), source, now, policy);
        sql::exec(&self.conn, RELEASE_SOURCE, values)
            .await
            .map_err(failed(CONTEXT))?;
        Ok(())
    }

    async fn reserve_attempts(
        &self,
        source: &AttemptSource,
        key: &AttemptKey,
        kind: CredentialKind,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<AttemptDecision, PortError> {
        const CONTEXT: &str = "reserve attempts";
        let now = instant::normalize(now);
        let (_, first_source) = policy.reserve_source(None, now);
        let (_, first) = policy.reserve(kind, AttemptState::default(), now);
        let (Some(first_source), Some(first)) = (first_source, first) else {
            return reserve_attempts_by_parts(self, source, key, kind, now, policy).await;
        };
        match self
            .upsert_both(
                (source, first_source),
                (key, kind, first),
                now,
                policy,
                CONTEXT,
            )
            .await?
        {
            (true, true) => Ok(AttemptDecision::Granted),
            // Nothing written: the parts say why (or grant, had the window emptied since).
            (false, _) => reserve_attempts_by_parts(self, source, key, kind, now, policy).await,
            // The source's reservation is held: the counter's half, as the parts do it.
            (true, false) => {
                reserve_counter_or_give_back(self, source, key, kind, now, policy).await
            }
        }
    }

    async fn settle_success(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        source: &AttemptSource,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<(), PortError> {
        const CONTEXT: &str = "settle a successful attempt";
        let backend = self.backend();
        // Both writes in one round trip: two statements in one call on SQLite (sqlx runs
        // them one after the other, each placeholder taking the next value), the first as
        // a data-modifying WITH on PostgreSQL (run once, to completion, whatever the
        // statement that follows reads).
        let text = match backend {
            DbBackend::Postgres => format!("WITH cleared AS ({CLEAR_ATTEMPTS}) {RELEASE_SOURCE}"),
            _ => format!("{CLEAR_ATTEMPTS}; {RELEASE_SOURCE}"),
        };
        let mut values = clear_values(key, kind);
        values.extend(release_values(backend, source, now, policy));
        sql::exec(&self.conn, &text, values)
            .await
            .map_err(failed(CONTEXT))?;
        Ok(())
    }

    async fn reserve_reset_request(
        &self,
        counter: &ResetCounter,
        now: OffsetDateTime,
        limit: &RequestLimit,
    ) -> Result<AttemptDecision, PortError> {
        const CONTEXT: &str = "reserve reset request";
        let now = instant::normalize(now);
        let (decision, first) = limit.reserve(None, now);
        let Some(first) = first else {
            // Refused on a window never seen: refused on any.
            return Ok(decision);
        };
        for _ in 0..ROUNDS {
            let values = reset_values(self.backend(), counter, first, now, limit);
            if sql::one(&self.conn, RESET_UPSERT, values)
                .await
                .map_err(failed(CONTEXT))?
                .is_some()
            {
                return Ok(AttemptDecision::Granted);
            }
            let state = self.read_reset_window(counter, CONTEXT).await?;
            if let (refused, None) = limit.reserve(state, now) {
                return Ok(refused);
            }
            tokio::task::yield_now().await;
        }
        Err(contention(CONTEXT))
    }

    async fn set_password(
        &self,
        patron: PatronId,
        hash: &SecretHash,
        is_default: bool,
    ) -> Result<(), PortError> {
        use patron_credentials::Column as C;
        let mut update = Query::update()
            .value(C::PasswordHash, hash.0.as_str())
            .value(C::PasswordIsDefault, is_default)
            .value(C::CredentialEpoch, Expr::col(C::CredentialEpoch).add(1))
            .to_owned();
        self.update_credentials(patron, &mut update, "set password")
            .await
    }

    async fn set_pin(&self, patron: PatronId, hash: &SecretHash) -> Result<(), PortError> {
        use patron_credentials::Column as C;
        let mut update = Query::update()
            .value(C::PinHash, hash.0.as_str())
            .value(C::CredentialEpoch, Expr::col(C::CredentialEpoch).add(1))
            .to_owned();
        self.update_credentials(patron, &mut update, "set PIN")
            .await
    }

    async fn put_temporary_password(
        &self,
        patron: PatronId,
        hash: &SecretHash,
        expires_at: OffsetDateTime,
    ) -> Result<(), PortError> {
        use patron_credentials::Column as C;
        let backend = self.backend();
        let mut update = Query::update()
            .value(C::TemporaryPasswordHash, hash.0.as_str())
            .value(
                C::TemporaryPasswordExpiresAt,
                instant::value(backend, expires_at),
            )
            .value(C::TemporaryPasswordUsedAt, instant::optional(backend, None))
            .value(C::TemporaryPasswordFailures, 0)
            .to_owned();
        self.update_credentials(patron, &mut update, "put temporary password")
            .await
    }

    async fn reset_password(
        &self,
        patron: PatronId,
        temporary: &SecretHash,
        expires_at: OffsetDateTime,
    ) -> Result<(), PortError> {
        use patron_credentials::Column as C;
        let backend = self.backend();
        // One UPDATE: the Password ended, the temporary password stored, the epoch bumped.
        let mut update = Query::update()
            .value(C::PasswordHash, Option::<String>::None)
            .value(C::PasswordIsDefault, false)
            .value(C::TemporaryPasswordHash, temporary.0.as_str())
            .value(
                C::TemporaryPasswordExpiresAt,
                instant::value(backend, expires_at),
            )
            .value(C::TemporaryPasswordUsedAt, instant::optional(backend, None))
            .value(C::TemporaryPasswordFailures, 0)
            .value(C::CredentialEpoch, Expr::col(C::CredentialEpoch).add(1))
            .to_owned();
        self.update_credentials(patron, &mut update, "reset password")
            .await
    }

    async fn count_temporary_failure(
        &self,
        patron: PatronId,
        hash: &SecretHash,
    ) -> Result<(), PortError> {
        use patron_credentials::Column as C;
        const CONTEXT: &str = "count temporary password failure";
        // One conditional UPDATE: concurrent failures all count.
        let update = Query::update()
            .table(patron_credentials::Entity)
            .value(
                C::TemporaryPasswordFailures,
                Expr::col(C::TemporaryPasswordFailures).add(1),
            )
            .and_where(C::PatronId.eq(patron.get()))
            .and_where(C::TemporaryPasswordHash.eq(hash.0.as_str()))
            .and_where(C::TemporaryPasswordUsedAt.is_null())
            .to_owned();
        self.conn.execute(&update).await.map_err(failed(CONTEXT))?;
        Ok(())
    }

    async fn use_temporary_password(
        &self,
        patron: PatronId,
        hash: &SecretHash,
        now: OffsetDateTime,
        max_failures: u32,
    ) -> Result<bool, PortError> {
        use patron_credentials::Column as C;
        const CONTEXT: &str = "use temporary password";
        let backend = self.backend();
        // One conditional UPDATE: of concurrent callers exactly one matches the row.
        let update = Query::update()
            .table(patron_credentials::Entity)
            .value(C::TemporaryPasswordUsedAt, instant::value(backend, now))
            .and_where(C::PatronId.eq(patron.get()))
            .and_where(C::TemporaryPasswordHash.eq(hash.0.as_str()))
            .and_where(C::TemporaryPasswordUsedAt.is_null())
            .and_where(C::TemporaryPasswordFailures.lt(i64::from(max_failures)))
            .and_where(Expr::col(C::TemporaryPasswordExpiresAt).gt(instant::value(backend, now)))
            .to_owned();
        let result = self.conn.execute(&update).await.map_err(failed(CONTEXT))?;
        if result.rows_affected() == 1 {
            Ok(true)
        } else if self.reader_exists(patron, CONTEXT).await? {
            Ok(false)
        } else {
            Err(no_reader(CONTEXT, patron))
        }
    }

    async fn clear_temporary_password(&self, patron: PatronId) -> Result<(), PortError> {
        use patron_credentials::Column as C;
        let backend = self.backend();
        let mut update = Query::update()
            .value(C::TemporaryPasswordHash, Option::<String>::None)
            .value(
                C::TemporaryPasswordExpiresAt,
                instant::optional(backend, None),
            )
            .value(C::TemporaryPasswordUsedAt, instant::optional(backend, None))
            .to_owned();
        self.update_credentials(patron, &mut update, "clear temporary password")
            .await
    }

    async fn attempt_state(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
    ) -> Result<AttemptState, PortError> {
        self.attempts(key, kind).await
    }
}
