//! [`CredentialStore`] on the database.
//!
//! # Guessing counters
//!
//! The source's window, the account-wide counter and the (account, kind, source) pair are
//! reserved together in one transaction that locks what it reads ([`guessing`]).
//!
//! # "Forgot Password" windows
//!
//! The windows of "forgot Password" (`reset_windows`, per account and per source) are
//! reserved the same way: one upsert that counts the request unless the window is full
//! ([`RESET_UPSERT`]), the row read afterwards only to say until when it is full.

use library_core::{CardNumber, PatronId};
use library_credentials::{
    AttemptDecision, AttemptKey, AttemptSource, AttemptState, CredentialKind, CredentialStore,
    GuessingPolicy, PersonalInfo, PortError, RequestLimit, RequestWindow, Reservation,
    ResetCounter, SecretHash, SourceState, StoredCredentials, StoredTemporaryPassword,
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

mod guessing;

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
    /// tried. An account-wide counter with failures stays, however old: failures count
    /// until a success, and a PIN lock does not expire. Pairs idle (no attempt, no success)
    /// for more than 30 days go too: their source is no longer known and their delays are
    /// long over; their failures stop counting towards the account's failing sources. The
    /// rows deleted.
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
        let pairs = self.purge_idle_pairs(now, policy, CONTEXT).await?;
        Ok(counters + windows + resets + pairs)
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

    async fn reserve_guess(
        &self,
        source: &AttemptSource,
        key: &AttemptKey,
        kind: CredentialKind,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<Reservation, PortError> {
        self.reserve_guess_in_db(source, key, kind, now, policy)
            .await
    }

    async fn settle_success(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        source: &AttemptSource,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<(), PortError> {
        self.settle_success_in_db(key, kind, source, now, policy)
            .await
    }

    async fn give_back(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        source: &AttemptSource,
        now: OffsetDateTime,
        policy: &GuessingPolicy,
    ) -> Result<(), PortError> {
        self.give_back_in_db(key, kind, source, now, policy).await
    }

    async fn clear_attempts(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
    ) -> Result<(), PortError> {
        self.clear_attempts_in_db(key, kind).await
    }

    async fn account_attempts(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
    ) -> Result<AttemptState, PortError> {
        self.attempts(key, kind).await
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
}
