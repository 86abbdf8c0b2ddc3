//! Readers (patrons). For now only registration, which the credential flows and their
//! tests need; circulation extends this store with its reader port.

use library_core::{CardNumber, PatronId};
use library_credentials::PortError;
use sea_orm::sea_query::Query;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use time::{Date, OffsetDateTime};

use crate::database::begin_write;
use crate::entity::{patron, patron_credentials};
use crate::error::{corrupt, failed};
use crate::instant;

/// A reader to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPatron {
    /// The card number (unique).
    pub card_number: CardNumber,
    /// The name as registered.
    pub name: String,
    /// The phone number as typed.
    pub phone: String,
    /// The email, if any.
    pub email: Option<String>,
    /// The date of birth, if known.
    pub date_of_birth: Option<Date>,
    /// When the reader was registered.
    pub registered_at: OffsetDateTime,
}

/// Readers in the database.
#[derive(Debug, Clone)]
pub struct PatronStore {
    conn: DatabaseConnection,
}

impl PatronStore {
    pub(crate) fn new(conn: DatabaseConnection) -> Self {
        Self { conn }
    }

    /// Registers a reader with an empty credentials row (no Password, no PIN: an empty hash
    /// never verifies) and returns the new id. Set the default credentials next
    /// (`CredentialService::set_default_credentials`). A card number already registered is
    /// an error.
    pub async fn register(&self, new: &NewPatron) -> Result<PatronId, PortError> {
        const CONTEXT: &str = "register patron";
        let backend = self.conn.get_database_backend();
        let insert_patron = Query::insert()
            .into_table(patron::Entity)
            .columns([
                patron::Column::CardNumber,
                patron::Column::Name,
                patron::Column::Phone,
                patron::Column::Email,
                patron::Column::DateOfBirth,
                patron::Column::CreatedAt,
            ])
            .values([
                new.card_number.as_str().into(),
                new.name.as_str().into(),
                new.phone.as_str().into(),
                new.email.clone().into(),
                new.date_of_birth.into(),
                instant::value(backend, new.registered_at).into(),
            ])
            .map_err(|e| PortError::Failed(format!("{CONTEXT}: {e}")))?
            .returning_col(patron::Column::Id)
            .to_owned();

        let txn = begin_write(&self.conn).await.map_err(failed(CONTEXT))?;
        let row = txn
            .query_one(&insert_patron)
            .await
            .map_err(failed(CONTEXT))?
            .ok_or_else(|| corrupt(CONTEXT, "INSERT … RETURNING gave no row"))?;
        let id: i64 = row.try_get("", "id").map_err(failed(CONTEXT))?;
        let insert_credentials = Query::insert()
            .into_table(patron_credentials::Entity)
            .columns([patron_credentials::Column::PatronId])
            .values([id.into()])
            .map_err(|e| PortError::Failed(format!("{CONTEXT}: {e}")))?
            .to_owned();
        txn.execute(&insert_credentials)
            .await
            .map_err(failed(CONTEXT))?;
        txn.commit().await.map_err(failed(CONTEXT))?;
        Ok(PatronId(id))
    }
}
