//! [`SessionStore`] on the database. Revoking sets `revoked_at` (kept for the audit trail)
//! and every lookup filters on `revoked_at IS NULL`, so a revoked session is never found.

use std::sync::Arc;

use library_core::{Clock, PatronId, StaffId};
use library_credentials::{
    PortError, Scope, Session, SessionStore, StaffCredentialStore, StoredStaff, Subject, TokenHash,
};
use sea_orm::sea_query::{ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter};

use crate::entity::session;
use crate::error::{corrupt, failed};
use crate::instant;
use crate::pool::Pool;
use crate::sql;
use crate::staff_store::stored;

/// Sessions in the database.
#[derive(Clone)]
pub struct DbSessionStore {
    conn: Pool,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSessionStore").finish_non_exhaustive()
    }
}

impl DbSessionStore {
    pub(crate) fn new(conn: Pool, clock: Arc<dyn Clock>) -> Self {
        Self { conn, clock }
    }

    /// Marks the sessions matching `filter` revoked, now.
    async fn revoke_where(
        &self,
        filter: sea_orm::sea_query::Expr,
        context: &str,
    ) -> Result<(), PortError> {
        use session::Column as C;
        let backend = self.conn.get_database_backend();
        let update = Query::update()
            .table(session::Entity)
            .value(C::RevokedAt, instant::value(backend, self.clock.now()))
            .and_where(filter)
            .and_where(C::RevokedAt.is_null())
            .to_owned();
        self.conn.execute(&update).await.map_err(failed(context))?;
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
        let Some(row) = sql::one(
            &self.conn,
            "SELECT s.token_hash, s.patron_id, s.staff_id, s.scope, s.created_at, \
             s.expires_at, s.revoked_at, u.id AS user_id, u.username, u.password_hash, u.role \
             FROM sessions s LEFT JOIN staff_users u ON u.id = s.staff_id \
             WHERE s.token_hash = ? AND s.revoked_at IS NULL",
            vec![token_hash.to_hex().into()],
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
                    &role,
                    CONTEXT,
                )?)
            }
            None => None,
        };
        Ok(Some((to_session(session, CONTEXT)?, user)))
    }

    async fn revoke(&self, token_hash: &TokenHash) -> Result<(), PortError> {
        self.revoke_where(
            session::Column::TokenHash.eq(token_hash.to_hex()),
            "revoke session",
        )
        .await
    }

    async fn revoke_patron_sessions(
        &self,
        patron: PatronId,
        scope: Option<Scope>,
    ) -> Result<(), PortError> {
        let mut filter = session::Column::PatronId.eq(patron.get());
        if let Some(scope) = scope {
            filter = filter.and(session::Column::Scope.eq(scope.as_str()));
        }
        self.revoke_where(filter, "revoke patron sessions").await
    }
}
