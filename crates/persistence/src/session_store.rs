//! [`SessionStore`] on the database. Revoking sets `revoked_at` (kept for the audit trail)
//! and every lookup filters on `revoked_at IS NULL`, so a revoked session is never found.
//! On PostgreSQL the lookups of a request's session are kept in the process and revocations
//! announced to every process (`session_cache.rs`).

use std::sync::Arc;

use library_core::{Clock, PatronId, StaffId};
use library_credentials::{
    PortError, Scope, Session, SessionStore, StaffCredentialStore, StoredStaff, Subject, TokenHash,
};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter};

use crate::config_cache::ConfigCache;
use crate::entity::session;
use crate::error::{corrupt, failed};
use crate::instant;
use crate::pool::Pool;
use crate::session_cache;
use crate::sql;
use crate::staff_store::stored;

/// Sessions in the database.
#[derive(Clone)]
pub struct DbSessionStore {
    conn: Pool,
    clock: Arc<dyn Clock>,
    cache: Arc<ConfigCache>,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSessionStore").finish_non_exhaustive()
    }
}

impl DbSessionStore {
    pub(crate) fn new(conn: Pool, clock: Arc<dyn Clock>, cache: Arc<ConfigCache>) -> Self {
        Self { conn, clock, cache }
    }

    /// Marks the sessions matching `filter` (SQL over `sessions`, with `?` for `values`)
    /// revoked, now. On PostgreSQL the same statement announces each revoked session to
    /// every process, and this process forgets them at once.
    async fn revoke_where(
        &self,
        filter: &str,
        values: Vec<sea_orm::Value>,
        context: &str,
    ) -> Result<(), PortError> {
        let backend = self.conn.get_database_backend();
        let mut bound = vec![instant::value(backend, self.clock.now())];
        bound.extend(values);
        let update =
            format!("UPDATE sessions SET revoked_at = ? WHERE {filter} AND revoked_at IS NULL");
        if backend == DbBackend::Postgres {
            let sql = format!(
                "WITH revoked AS ({update} RETURNING token_hash) \
                 SELECT token_hash, pg_notify('{}', token_hash) FROM revoked",
                session_cache::CHANNEL
            );
            for row in sql::all(&self.conn, &sql, bound)
                .await
                .map_err(failed(context))?
            {
                let hash: String = row.try_get("", "token_hash").map_err(failed(context))?;
                self.cache.sessions.forget(&hash);
            }
        } else {
            sql::exec(&self.conn, &update, bound)
                .await
                .map_err(failed(context))?;
        }
        Ok(())
    }
}

fn to_session(row: session::Model, context: &str) -> Result<Session, PortError> {
    let token_hash = TokenHash::from_hex(&row.token_hash)
        .ok_or_else(|| corrupt(context, "token hash is not 64 hex digits"))?;
    let scope = Scope::parse(&row.scope)
        .ok_or_else(|| corrupt(context, format_args!("scope {}", row.scope)))?;
    let subject = match (row.patron_id, row.staff_id) {
        (Some(patron), None) => Subject::Patron(PatronId(patron)),
        (None, Some(staff)) => Subject::Staff(StaffId(staff)),
        _ => return Err(corrupt(context, "a session needs exactly one subject")),
    };
    Ok(Session {
        token_hash,
        subject,
        scope,
        created_at: row.created_at,
        expires_at: row.expires_at,
    })
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, session: &Session) -> Result<(), PortError> {
        use session::Column as C;
        const CONTEXT: &str = "create session";
        let backend = self.conn.get_database_backend();
        let (patron, staff) = match session.subject {
            Subject::Patron(id) => (Some(id.get()), None),
            Subject::Staff(id) => (None, Some(id.get())),
        };
        let insert = Query::insert()
            .into_table(session::Entity)
            .columns([
                C::TokenHash,
                C::PatronId,
                C::StaffId,
                C::Scope,
                C::CreatedAt,
                C::ExpiresAt,
            ])
            .values([
                session.token_hash.to_hex().into(),
                patron.into(),
                staff.into(),
                session.scope.as_str().into(),
                instant::value(backend, session.created_at).into(),
                instant::value(backend, session.expires_at).into(),
            ])
            .map_err(|e| PortError::Failed(format!("{CONTEXT}: {e}")))?
            .to_owned();
        self.conn.execute(&insert).await.map_err(failed(CONTEXT))?;
        Ok(())
    }

    /// One statement: the insert selects its row only while the reader's credential epoch
    /// is unchanged. On PostgreSQL the credentials row is read `FOR SHARE`: a Password
    /// change in flight makes the insert wait for it and then see the new epoch, and a
    /// change that comes after waits for the insert to commit, so its revocation finds the
    /// session. SQLite runs one writer at a time.
    async fn create_if_current(
        &self,
        session: &Session,
        patron: PatronId,
        epoch: u64,
        _credentials: Arc<dyn library_credentials::CredentialStore>,
    ) -> Result<bool, PortError> {
        const CONTEXT: &str = "create session";
        let backend = self.conn.get_database_backend();
        let epoch =
            i64::try_from(epoch).map_err(|e| PortError::Failed(format!("{CONTEXT}: {e}")))?;
        let lock = if backend == DbBackend::Postgres {
            " FOR SHARE"
        } else {
            ""
        };
        let text = format!(
            "INSERT INTO sessions (token_hash, patron_id, staff_id, scope, created_at, expires_at) \
             SELECT ?, ?, NULL, ?, ?, ? WHERE EXISTS (SELECT 1 FROM patron_credentials \
             WHERE patron_id = ? AND credential_epoch = ?{lock})"
        );
        let values = vec![
            session.token_hash.to_hex().into(),
            patron.get().into(),
            session.scope.as_str().into(),
            instant::value(backend, session.created_at),
            instant::value(backend, session.expires_at),
            patron.get().into(),
            epoch.into(),
        ];
        let inserted = sql::exec(&self.conn, &text, values)
            .await
            .map_err(failed(CONTEXT))?;
        Ok(inserted == 1)
    }

    async fn find(&self, token_hash: &TokenHash) -> Result<Option<Session>, PortError> {
        const CONTEXT: &str = "find session";
        session::Entity::find_by_id(token_hash.to_hex())
            .filter(session::Column::RevokedAt.is_null())
            .one(&self.conn)
            .await
            .map_err(failed(CONTEXT))?
            .map(|row| to_session(row, CONTEXT))
            .transpose()
    }

    /// One query: the session joined to its staff user.
    async fn find_with_staff(
        &self,
        token_hash: &TokenHash,
        _staff: Arc<dyn StaffCredentialStore>,
    ) -> Result<Option<(Session, Option<StoredStaff>)>, PortError> {
        const CONTEXT: &str = "find session";
        let key = token_hash.to_hex();
        if let Some(found) = self.cache.sessions.get(&key) {
            return Ok(Some(found));
        }
        let generation = self.cache.sessions.generation();
        let Some(row) = sql::one(
            &self.conn,
            "SELECT s.token_hash, s.patron_id, s.staff_id, s.scope, s.created_at, \
             s.expires_at, s.revoked_at, u.id AS user_id, u.username, u.password_hash, u.role, \
             u.may_override \
             FROM sessions s LEFT JOIN staff_users u ON u.id = s.staff_id \
             WHERE s.token_hash = ? AND s.revoked_at IS NULL",
            vec![key.as_str().into()],
        )
        .await
        .map_err(failed(CONTEXT))?
        else {
            return Ok(None);
        };
        let session = session::Model::from_query_result(&row, "").map_err(failed(CONTEXT))?;
        let user: Option<i64> = row.try_get("", "user_id").map_err(failed(CONTEXT))?;
        let user = match user {
            Some(id) => {
                let role: String = row.try_get("", "role").map_err(failed(CONTEXT))?;
                Some(stored(
                    id,
                    row.try_get("", "username").map_err(failed(CONTEXT))?,
                    row.try_get("", "password_hash").map_err(failed(CONTEXT))?,
                    (
                        &role,
                        row.try_get("", "may_override").map_err(failed(CONTEXT))?,
                    ),
                    CONTEXT,
                )?)
            }
            None => None,
        };
        let found = (to_session(session, CONTEXT)?, user);
        if let Some(generation) = generation {
            self.cache.sessions.keep(generation, key, found.clone());
        }
        Ok(Some(found))
    }

    async fn revoke(&self, token_hash: &TokenHash) -> Result<(), PortError> {
        self.revoke_where(
            "token_hash = ?",
            vec![token_hash.to_hex().into()],
            "revoke session",
        )
        .await
    }

    async fn revoke_patron_sessions(
        &self,
        patron: PatronId,
        scope: Option<Scope>,
    ) -> Result<(), PortError> {
        const CONTEXT: &str = "revoke patron sessions";
        match scope {
            Some(scope) => {
                self.revoke_where(
                    "patron_id = ? AND scope = ?",
                    vec![patron.get().into(), scope.as_str().into()],
                    CONTEXT,
                )
                .await
            }
            None => {
                self.revoke_where("patron_id = ?", vec![patron.get().into()], CONTEXT)
                    .await
            }
        }
    }
}
