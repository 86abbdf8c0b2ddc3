//! Readers (patrons): registration (with or without the circulation profile: category,
//! home library, card expiry), the profile, reader suspensions, and look-ups as
//! circulation sees a reader.

use library_circulation::{Patron, ReaderCategory};
use library_core::{CardNumber, LibraryCode, PatronId};
use library_credentials::{PortError, SecretHash};
use sea_orm::sea_query::Query;
use sea_orm::{ConnectionTrait, Value};
use time::{Date, OffsetDateTime};

use crate::audit_store::{NewAuditEntry, insert_audit_entry};
use crate::circulation::rows::{self, PATRON_COLUMNS};
use crate::entity::{patron, patron_credentials};
use crate::error::{StoreError, corrupt, failed};
use crate::instant;
use crate::pool::Pool;
use crate::sql::{exec, insert_returning_id, one, store_err};

/// What circulation needs to know of a reader besides their card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderProfile {
    /// The reader category rules are resolved for.
    pub category: ReaderCategory,
    /// The home library.
    pub home_library: LibraryCode,
    /// The last date the card is valid.
    pub card_expires_on: Date,
}

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

/// A reader to import in bulk ([`PatronStore::import_readers`]): the registration, the
/// circulation profile and the hashes of the Password and PIN to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedReader {
    /// The registration.
    pub patron: NewPatron,
    /// The circulation profile.
    pub profile: ReaderProfile,
    /// The Password's hash.
    pub password_hash: SecretHash,
    /// Whether the Password is the default one (a login with it must change it).
    pub password_is_default: bool,
    /// The PIN's hash.
    pub pin_hash: SecretHash,
}

/// Readers in the database.
#[derive(Debug, Clone)]
pub struct PatronStore {
    conn: Pool,
}

impl PatronStore {
    pub(crate) fn new(conn: Pool) -> Self {
        Self { conn }
    }

    /// Registers a reader with an empty credentials row (no Password, no PIN: an empty hash
    /// never verifies) and returns the new id. Set the default credentials next
    /// (`CredentialService::set_default_credentials`). A card number already registered is
    /// an error.
    pub async fn register(&self, new: &NewPatron) -> Result<PatronId, PortError> {
        self.register_with(new, None, None).await
    }

    /// Registers a reader who may borrow: [`register`](Self::register) plus the
    /// circulation profile, in one transaction. `audit`, when given, makes the audit entry
    /// of the new id, written in the same transaction: the entry exists exactly when the
    /// reader does.
    pub async fn register_reader(
        &self,
        new: &NewPatron,
        profile: &ReaderProfile,
        audit: Option<&(dyn Fn(PatronId) -> NewAuditEntry + Send + Sync)>,
    ) -> Result<PatronId, PortError> {
        self.register_with(new, Some(profile), audit).await
    }

    async fn register_with(
        &self,
        new: &NewPatron,
        profile: Option<&ReaderProfile>,
        audit: Option<&(dyn Fn(PatronId) -> NewAuditEntry + Send + Sync)>,
    ) -> Result<PatronId, PortError> {
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
                patron::Column::Category,
                patron::Column::HomeLibrary,
                patron::Column::CardExpiresOn,
                patron::Column::CreatedAt,
            ])
            .values([
                new.card_number.as_str().into(),
                new.name.as_str().into(),
                new.phone.as_str().into(),
                new.email.clone().into(),
                new.date_of_birth.into(),
                Value::String(profile.map(|p| p.category.as_str().to_owned())).into(),
                Value::String(profile.map(|p| p.home_library.as_str().to_owned())).into(),
                Value::TimeDate(profile.map(|p| p.card_expires_on)).into(),
                instant::value(backend, new.registered_at).into(),
            ])
            .map_err(|e| PortError::Failed(format!("{CONTEXT}: {e}")))?
            .returning_col(patron::Column::Id)
            .to_owned();

        let txn = self.conn.begin_write().await.map_err(failed(CONTEXT))?;
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
        if let Some(entry) = audit {
            insert_audit_entry(&txn, &entry(PatronId(id)))
                .await
                .map_err(failed(CONTEXT))?;
        }
        txn.commit().await.map_err(failed(CONTEXT))?;
        Ok(PatronId(id))
    }

    /// Registers many readers with their profiles and credentials in **one transaction**:
    /// all of them or, on any error (a card number already registered is
    /// [`StoreError::Conflict`]), none. Their ids, in order.
    pub async fn import_readers(
        &self,
        readers: &[ImportedReader],
    ) -> Result<Vec<PatronId>, StoreError> {
        const CONTEXT: &str = "import readers";
        let backend = self.conn.get_database_backend();
        let txn = self.conn.begin_write().await.map_err(store_err(CONTEXT))?;
        let mut ids = Vec::with_capacity(readers.len());
        for reader in readers {
            let new = &reader.patron;
            let id = insert_returning_id(
                &txn,
                "INSERT INTO patrons (card_number, name, phone, email, date_of_birth, category, \
                 home_library, card_expires_on, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                vec![
                    new.card_number.as_str().into(),
                    new.name.as_str().into(),
                    new.phone.as_str().into(),
                    new.email.clone().into(),
                    Value::TimeDate(new.date_of_birth),
                    reader.profile.category.as_str().into(),
                    reader.profile.home_library.as_str().into(),
                    Value::TimeDate(Some(reader.profile.card_expires_on)),
                    instant::value(backend, new.registered_at),
                ],
            )
            .await
            .map_err(store_err(CONTEXT))?;
            exec(
                &txn,
                "INSERT INTO patron_credentials (patron_id, password_hash, password_is_default, \
                 pin_hash) VALUES (?, ?, ?, ?)",
                vec![
                    id.into(),
                    reader.password_hash.0.as_str().into(),
                    reader.password_is_default.into(),
                    reader.pin_hash.0.as_str().into(),
                ],
            )
            .await
            .map_err(store_err(CONTEXT))?;
            ids.push(PatronId(id));
        }
        txn.commit().await.map_err(store_err(CONTEXT))?;
        Ok(ids)
    }

    /// Sets reader `id`'s circulation profile; `false` if there is no such reader.
    pub async fn set_reader_profile(
        &self,
        id: PatronId,
        profile: &ReaderProfile,
    ) -> Result<bool, StoreError> {
        let n = exec(
            &self.conn,
            "UPDATE patrons SET category = ?, home_library = ?, card_expires_on = ? WHERE id = ?",
            vec![
                profile.category.as_str().into(),
                profile.home_library.as_str().into(),
                Value::TimeDate(Some(profile.card_expires_on)),
                id.get().into(),
            ],
        )
        .await
        .map_err(store_err("set reader profile"))?;
        Ok(n == 1)
    }

    /// Sets or lifts (`None`) reader `id`'s suspension: the first date they may borrow
    /// again. `false` if there is no such reader.
    pub async fn set_suspended_until(
        &self,
        id: PatronId,
        until: Option<Date>,
    ) -> Result<bool, StoreError> {
        let n = exec(
            &self.conn,
            "UPDATE patrons SET suspended_until = ? WHERE id = ?",
            vec![Value::TimeDate(until), id.get().into()],
        )
        .await
        .map_err(store_err("set reader suspension"))?;
        Ok(n == 1)
    }

    /// Blocks reader `id`'s card (SIP2 `01`) at `at` with the station's `reason`, until
    /// staff lift it; a card already blocked keeps its first block. `false` if there is no
    /// such reader. `audit`, when given, is written in the same transaction: the entry
    /// exists exactly when the block does.
    pub async fn block(
        &self,
        id: PatronId,
        at: OffsetDateTime,
        reason: &str,
        audit: Option<&NewAuditEntry>,
    ) -> Result<bool, StoreError> {
        const C: &str = "block reader";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let n = exec(
            &txn,
            "UPDATE patrons SET blocked_at = COALESCE(blocked_at, ?), \
             block_reason = COALESCE(block_reason, ?) WHERE id = ?",
            vec![
                instant::value(txn.get_database_backend(), at),
                reason.into(),
                id.get().into(),
            ],
        )
        .await
        .map_err(store_err(C))?;
        if n != 1 {
            return Ok(false);
        }
        if let Some(entry) = audit {
            insert_audit_entry(&txn, entry)
                .await
                .map_err(store_err(C))?;
        }
        txn.commit().await.map_err(store_err(C))?;
        Ok(true)
    }

    /// Lifts the block on card `card`; `false` if no reader with this card is blocked.
    /// `audit`, when given, is written in the same transaction when a block is lifted.
    pub async fn unblock(
        &self,
        card: &CardNumber,
        audit: Option<&NewAuditEntry>,
    ) -> Result<bool, StoreError> {
        const C: &str = "unblock reader";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let n = exec(
            &txn,
            "UPDATE patrons SET blocked_at = NULL, block_reason = NULL \
             WHERE card_number = ? AND blocked_at IS NOT NULL",
            vec![card.as_str().into()],
        )
        .await
        .map_err(store_err(C))?;
        if n != 1 {
            return Ok(false);
        }
        if let Some(entry) = audit {
            insert_audit_entry(&txn, entry)
                .await
                .map_err(store_err(C))?;
        }
        txn.commit().await.map_err(store_err(C))?;
        Ok(true)
    }

    /// Reader `id` as circulation sees them. A reader without a circulation profile is
    /// [`StoreError::Infrastructure`] (a data error).
    pub async fn reader(&self, id: PatronId) -> Result<Option<Patron>, StoreError> {
        let sql = format!("SELECT {PATRON_COLUMNS} FROM patrons WHERE id = ?");
        let row = one(&self.conn, &sql, vec![id.get().into()])
            .await
            .map_err(store_err("read reader"))?;
        Ok(row.map(|r| rows::patron(&r)).transpose()?)
    }

    /// The reader with card `card`, as circulation sees them.
    pub async fn reader_by_card(&self, card: &CardNumber) -> Result<Option<Patron>, StoreError> {
        let sql = format!("SELECT {PATRON_COLUMNS} FROM patrons WHERE card_number = ?");
        let row = one(&self.conn, &sql, vec![card.as_str().into()])
            .await
            .map_err(store_err("read reader"))?;
        Ok(row.map(|r| rows::patron(&r)).transpose()?)
    }
}
