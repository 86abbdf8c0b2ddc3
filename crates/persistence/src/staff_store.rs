//! Staff users: creation, the list, and the `StaffCredentialStore` port for staff login.
//! Usernames are stored lower-cased, so they are unique and found case-insensitively.

use async_trait::async_trait;
use library_core::StaffId;
use library_credentials::{PortError, SecretHash, StaffCredentialStore, StaffRole, StoredStaff};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

use crate::audit_store::{NewAuditEntry, insert_audit_entry};
use crate::entity::staff_user;
use crate::error::{corrupt, failed};
use crate::instant;
use crate::pool::Pool;

/// A staff user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaffUser {
    /// The login name (unique).
    pub username: String,
    /// The Password hash.
    pub password_hash: SecretHash,
    /// The role.
    pub role: StaffRole,
    /// Granted `override` (docs/circulation.md, Overrides).
    pub may_override: bool,
    /// When the user was created.
    pub created_at: OffsetDateTime,
}

/// A staff user as listed: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffUser {
    /// The user.
    pub id: StaffId,
    /// The login name, as stored (lower-cased).
    pub username: String,
    /// The role.
    pub role: StaffRole,
    /// Granted `override`.
    pub may_override: bool,
    /// When the user was created.
    pub created_at: OffsetDateTime,
}

/// Staff users in the database.
#[derive(Debug, Clone)]
pub struct StaffStore {
    conn: Pool,
}

impl StaffStore {
    pub(crate) fn new(conn: Pool) -> Self {
        Self { conn }
    }

    /// Creates a staff user and returns the new id. A username already taken is an error.
    pub async fn create(&self, new: &NewStaffUser) -> Result<StaffId, PortError> {
        self.create_unless_taken(new, None)
            .await?
            .ok_or_else(|| PortError::Failed("create staff user: username taken".into()))
    }

    /// Creates a staff user unless the username is taken (in any case): the new id, or
    /// `None` when taken. One statement (`INSERT … ON CONFLICT DO NOTHING`), so two
    /// requests for one username at once create one user and are told which. `audit`,
    /// when given, makes the audit entry of the new id, written in the same transaction
    /// when a user is created.
    pub async fn create_unless_taken(
        &self,
        new: &NewStaffUser,
        audit: Option<&(dyn Fn(StaffId) -> NewAuditEntry + Send + Sync)>,
    ) -> Result<Option<StaffId>, PortError> {
        const CONTEXT: &str = "create staff user";
        let backend = self.conn.get_database_backend();
        let insert = Query::insert()
            .into_table(staff_user::Entity)
            .columns([
                staff_user::Column::Username,
                staff_user::Column::PasswordHash,
                staff_user::Column::Role,
                staff_user::Column::CreatedAt,
                staff_user::Column::MayOverride,
            ])
            .values([
                new.username.to_lowercase().into(),
                new.password_hash.0.as_str().into(),
                new.role.as_str().into(),
                instant::value(backend, new.created_at).into(),
                new.may_override.into(),
            ])
            .map_err(|e| PortError::Failed(format!("{CONTEXT}: {e}")))?
            .on_conflict(
                OnConflict::column(staff_user::Column::Username)
                    .do_nothing()
                    .to_owned(),
            )
            .returning_col(staff_user::Column::Id)
            .to_owned();
        let txn = self.conn.begin_write().await.map_err(failed(CONTEXT))?;
        let Some(row) = txn.query_one(&insert).await.map_err(failed(CONTEXT))? else {
            return Ok(None);
        };
        let id = StaffId(row.try_get("", "id").map_err(failed(CONTEXT))?);
        if let Some(entry) = audit {
            insert_audit_entry(&txn, &entry(id))
                .await
                .map_err(failed(CONTEXT))?;
        }
        txn.commit().await.map_err(failed(CONTEXT))?;
        Ok(Some(id))
    }

    /// Every staff user, by username.
    pub async fn list(&self) -> Result<Vec<StaffUser>, PortError> {
        const CONTEXT: &str = "list staff users";
        staff_user::Entity::find()
            .order_by_asc(staff_user::Column::Username)
            .all(&self.conn)
            .await
            .map_err(failed(CONTEXT))?
            .into_iter()
            .map(|row| {
                let created_at = row.created_at;
                let stored = to_stored(row, CONTEXT)?;
                Ok(StaffUser {
                    id: stored.id,
                    username: stored.username,
                    role: stored.role,
                    may_override: stored.may_override,
                    created_at,
                })
            })
            .collect()
    }
}

fn to_stored(row: staff_user::Model, context: &str) -> Result<StoredStaff, PortError> {
    stored(
        row.id,
        row.username,
        row.password_hash,
        (&row.role, row.may_override),
        context,
    )
}

/// A staff user from its columns.
pub(crate) fn stored(
    id: i64,
    username: String,
    password_hash: String,
    (role, may_override): (&str, bool),
    context: &str,
) -> Result<StoredStaff, PortError> {
    let role = StaffRole::parse(role)
        .ok_or_else(|| corrupt(context, format!("unknown staff role {role:?}")))?;
    Ok(StoredStaff {
        id: StaffId(id),
        username,
        password_hash: SecretHash(password_hash),
        role,
        may_override,
    })
}

#[async_trait]
impl StaffCredentialStore for StaffStore {
    async fn find_staff_by_username(
        &self,
        username: &str,
    ) -> Result<Option<StoredStaff>, PortError> {
        const CONTEXT: &str = "find staff user";
        staff_user::Entity::find()
            .filter(staff_user::Column::Username.eq(username.to_lowercase()))
            .one(&self.conn)
            .await
            .map_err(failed(CONTEXT))?
            .map(|row| to_stored(row, CONTEXT))
            .transpose()
    }

    async fn find_staff(&self, id: StaffId) -> Result<Option<StoredStaff>, PortError> {
        const CONTEXT: &str = "find staff user";
        staff_user::Entity::find_by_id(id.get())
            .one(&self.conn)
            .await
            .map_err(failed(CONTEXT))?
            .map(|row| to_stored(row, CONTEXT))
            .transpose()
    }
}
