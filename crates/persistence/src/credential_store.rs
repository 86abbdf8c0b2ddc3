//! [`CredentialStore`] on the database.
//!
//! # Atomic reservations
//!
//! `reserve_attempt` and `reserve_source_attempt` apply the pure
//! [`GuessingPolicy`] with an optimistic compare-and-set, identical on both backends:
//!
//! 1. read the counter row (with its `version`);
//! 2. let the policy decide; a refusal writes nothing and is answered as read;
//! 3. write the new state with `UPDATE … SET …, version = version + 1 WHERE key = ? AND
//!    version = ?` — or, when there was no row, `INSERT … ON CONFLICT DO NOTHING`;
//! 4. one row affected: done. None: another attempt won the race; go back to 1.
//!
//! A write only lands on the state it was computed from, so no count is lost and no cap is
//! passed, however many attempts run at once. Each round has a winner, so retries are
//! bounded by the number of competing grants; after [`CAS_ROUNDS`] the store gives up with
//! a [`PortError`]. Rows are never deleted (clearing zeroes the counter and bumps the
//! version), so a version is never reused and a stale read can never match.

use library_core::{CardNumber, PatronId};
use library_credentials::{
    AttemptDecision, AttemptKey, AttemptSource, AttemptState, CredentialKind, CredentialStore,
    GuessingPolicy, PersonalInfo, PortError, SecretHash, SourceState, StoredCredentials,
    StoredTemporaryPassword,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

use crate::entity::{attempt_source, credential_attempt, patron, patron_credentials};
use crate::error::{corrupt, failed};
use crate::instant;
use crate::pool::Pool;

/// Compare-and-set rounds before a reservation gives up.
const CAS_ROUNDS: usize = 100;

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
            .map(|(state, _)| state)
            .unwrap_or_default())
    }

    /// The source's window as stored.
    pub async fn source_window(
        &self,
        source: &AttemptSource,
    ) -> Result<Option<SourceState>, PortError> {
        const CONTEXT: &str = "read source window";
        Ok(self
            .read_source(source, CONTEXT)
            .await?
            .map(|(state, _)| state))
    }

    async fn read_attempts(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        context: &str,
    ) -> Result<Option<(AttemptState, i64)>, PortError> {
        let row = credential_attempt::Entity::find_by_id((
            key.as_str().to_owned(),
            kind.as_str().to_owned(),
        ))
        .one(&self.conn)
        .await
        .map_err(failed(context))?;
        row.map(|r| {
            let failures = u32::try_from(r.failures).map_err(|e| corrupt(context, e))?;
            Ok((
                AttemptState {
                    failures,
                    throttled_until: r.throttled_until,
                },
                r.version,
            ))
        })
        .transpose()
    }

    async fn read_source(
        &self,
        source: &AttemptSource,
        context: &str,
    ) -> Result<Option<(SourceState, i64)>, PortError> {
        let row = attempt_source::Entity::find_by_id(source.0.clone())
            .one(&self.conn)
            .await
            .map_err(failed(context))?;
        row.map(|r| {
            let failures = u32::try_from(r.failures).map_err(|e| corrupt(context, e))?;
            Ok((
                SourceState {
                    window_started_at: r.window_started_at,
                    failures,
                },
                r.version,
            ))
        })
        .transpose()
    }

    /// Writes `next` over the counter read at `version` (`None`: there was no row).
    /// `true` when this write won.
    async fn put_attempts(
        &self,
        key: &AttemptKey,
        kind: CredentialKind,
        read_version: Option<i64>,
        next: AttemptState,
        context: &str,
    ) -> Result<bool, PortError> {
        use credential_attempt::Column as C;
        let backend = self.backend();
        let throttled_until = instant::optional(backend, next.throttled_until);
        let result = match read_version {
            None => {
                let insert = Query::insert()
                    .into_table(credential_attempt::Entity)
                    .columns([
                        C::Subject,
                        C::Kind,
                        C::Failures,
                        C::ThrottledUntil,
                        C::Version,
                    ])
                    .values([
                        key.as_str().into(),
                        kind.as_str().into(),
                        i64::from(next.failures).into(),
                        throttled_until.into(),
                        1_i64.into(),
                    ])
                    .map_err(|e| PortError::Failed(format!("{context}: {e}")))?
                    .on_conflict(
                        OnConflict::columns([C::Subject, C::Kind])
                            .do_nothing()
                            .to_owned(),
                    )
                    .to_owned();
                self.conn.execute(&insert).await
            }
            Some(version) => {
                let update = Query::update()
                    .table(credential_attempt::Entity)
                    .value(C::Failures, i64::from(next.failures))
                    .value(C::ThrottledUntil, throttled_until)
                    .value(C::Version, Expr::col(C::Version).add(1))
                    .and_where(C::Subject.eq(key.as_str()))
                    .and_where(C::Kind.eq(kind.as_str()))
                    .and_where(C::Version.eq(version))
                    .to_owned();
                self.conn.execute(&update).await
            }
        };
        Ok(result.map_err(failed(context))?.rows_affected() == 1)
    }

    /// Writes `next` over the window read at `version` (`None`: there was no row).
    async fn put_source(
        &self,
        source: &AttemptSource,
        read_version: Option<i64>,
        next: SourceState,
        context: &str,
    ) -> Result<bool, PortError> {
        use attempt_source::Column as C;
        let backend = self.backend();
        let started = instant::value(backend, next.window_started_at);
        let result = match read_version {
            None => {
                let insert = Query::insert()
                    .into_table(attempt_source::Entity)
                    .columns([C::Source, C::WindowStartedAt, C::Failures, C::Version])
                    .values([
                        source.0.as_str().into(),
                        started.into(),
                        i64::from(next.failures).into(),
                        1_i64.into(),
                    ])
                    .map_err(|e| PortError::Failed(format!("{context}: {e}")))?
                    .on_conflict(OnConflict::column(C::Source).do_nothing().to_owned())
                    .to_owned();
                self.conn.execute(&insert).await
            }
            Some(version) => {
                let update = Query::update()
                    .table(attempt_source::Entity)
                    .value(C::WindowStartedAt, started)
                    .value(C::Failures, i64::from(next.failures))
                    .value(C::Version, Expr::col(C::Version).add(1))
                    .and_where(C::Source.eq(source.0.as_str()))
                    .and_where(C::Version.eq(version))
                    .to_owned();
                self.conn.execute(&update).await
            }
        };
        Ok(result.map_err(failed(context))?.rows_affected() == 1)
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

fn no_reader(context: &str, patron: PatronId) -> PortError {
    PortError::Failed(format!("{context}: no reader {patron}"))
}

fn contention(context: &str) -> PortError {
    PortError::Failed(format!(
        "{context}: still contended after {CAS_ROUNDS} compare-and-set rounds"
    ))
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
    });
    let temporary = match (
        creds.temporary_password_hash,
        creds.temporary_password_expires_at,
    ) {
        (Some(hash), Some(expires_at)) => Some(StoredTemporaryPassword {
            hash: SecretHash(hash),
            expires_at,
            used_at: creds.temporary_password_used_at,
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
    })
}

#[async_trait::async_trait]
impl CredentialStore for DbCredentialStore {
    async fn find_by_card(
        &self,
        card: &CardNumber,
    ) -> Result<Option<StoredCredentials>, PortError> {
        const CONTEXT: &str = "find credentials by card";
        patron::Entity::find()
            .filter(patron::Column::CardNumber.eq(card.as_str()))
            .find_also_related(patron_credentials::Entity)
            .one(&self.conn)
            .await
            .map_err(failed(CONTEXT))?
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
        for _ in 0..CAS_ROUNDS {
            let read = self.read_attempts(key, kind, CONTEXT).await?;
            let (state, version) = match read {
                Some((state, version)) => (state, Some(version)),
                None => (AttemptState::default(), None),
            };
            let (decision, next) = policy.reserve(kind, state, now);
            let Some(next) = next else {
                return Ok(decision);
            };
            if self.put_attempts(key, kind, version, next, CONTEXT).await? {
                return Ok(decision);
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
        use credential_attempt::Column as C;
        const CONTEXT: &str = "clear attempts";
        // Zeroed, not deleted: versions keep growing, so no stale compare-and-set can match.
        let update = Query::update()
            .table(credential_attempt::Entity)
            .value(C::Failures, 0_i64)
            .value(C::ThrottledUntil, instant::optional(self.backend(), None))
            .value(C::Version, Expr::col(C::Version).add(1))
            .and_where(C::Subject.eq(key.as_str()))
            .and_where(C::Kind.eq(kind.as_str()))
            .to_owned();
        self.conn.execute(&update).await.map_err(failed(CONTEXT))?;
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
        for _ in 0..CAS_ROUNDS {
            let read = self.read_source(source, CONTEXT).await?;
            let version = read.map(|(_, v)| v);
            let (decision, next) = policy.reserve_source(read.map(|(s, _)| s), now);
            let Some(next) = next else {
                return Ok(decision);
            };
            if self.put_source(source, version, next, CONTEXT).await? {
                return Ok(decision);
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
        let now = instant::normalize(now);
        for _ in 0..CAS_ROUNDS {
            let Some((state, version)) = self.read_source(source, CONTEXT).await? else {
                return Ok(());
            };
            let next = policy.release_source(state, now);
            if next == state
                || self
                    .put_source(source, Some(version), next, CONTEXT)
                    .await?
            {
                return Ok(());
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
            .to_owned();
        self.update_credentials(patron, &mut update, "set password")
            .await
    }

    async fn set_pin(&self, patron: PatronId, hash: &SecretHash) -> Result<(), PortError> {
        use patron_credentials::Column as C;
        let mut update = Query::update()
            .value(C::PinHash, hash.0.as_str())
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
            .to_owned();
        self.update_credentials(patron, &mut update, "put temporary password")
            .await
    }

    async fn use_temporary_password(
        &self,
        patron: PatronId,
        now: OffsetDateTime,
    ) -> Result<bool, PortError> {
        use patron_credentials::Column as C;
        const CONTEXT: &str = "use temporary password";
        let backend = self.backend();
        // One conditional UPDATE: of concurrent callers exactly one matches the row.
        let update = Query::update()
            .table(patron_credentials::Entity)
            .value(C::TemporaryPasswordUsedAt, instant::value(backend, now))
            .and_where(C::PatronId.eq(patron.get()))
            .and_where(C::TemporaryPasswordHash.is_not_null())
            .and_where(C::TemporaryPasswordUsedAt.is_null())
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
