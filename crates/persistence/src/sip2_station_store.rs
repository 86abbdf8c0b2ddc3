//! SIP2 station accounts: create, list, find, delete (docs/http.md, SIP2 stations; the
//! admin tool's `sip2-station`).

use library_core::LibraryCode;
use library_credentials::{AddressRange, SecretHash, StationSettings, StationUsername};
use sea_orm::{ConnectionTrait, QueryResult};
use time::OffsetDateTime;

use crate::audit_store::{NewAuditEntry, insert_audit_entry};
use crate::circulation::rows::code;
use crate::error::StoreError;
use crate::instant;
use crate::pool::Pool;
use crate::sql::{all, corrupt, exec, get, infra, one, store_err};

/// A station account to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSip2Station {
    /// What the station sends in `CN` (unique).
    pub username: StationUsername,
    /// The password's hash (PHC string).
    pub password_hash: SecretHash,
    /// The library its checkouts lend from.
    pub library: LibraryCode,
    /// When.
    pub created_at: OffsetDateTime,
    /// Who created it (a staff username, or `library-admin`).
    pub created_by: String,
    /// What it may do: PIN required, may block, where it may log in from.
    pub settings: StationSettings,
}

/// A stored station account.
pub type Sip2Station = NewSip2Station;

/// Station accounts in the database.
#[derive(Debug, Clone)]
pub struct Sip2StationStore {
    conn: Pool,
}

const COLUMNS: &str = "username, password_hash, library_code, created_at, created_by, \
     pin_required, may_block, allowed_addresses";

/// The allow-list as stored: canonical ranges separated by single spaces.
fn addresses_text(settings: &StationSettings) -> String {
    settings
        .allowed_addresses
        .iter()
        .map(AddressRange::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn station(row: &QueryResult) -> Result<Sip2Station, StoreError> {
    const C: &str = "read sip2 station";
    let username: String = get(row, "username").map_err(infra(C))?;
    let library: String = get(row, "library_code").map_err(infra(C))?;
    let addresses: String = get(row, "allowed_addresses").map_err(infra(C))?;
    Ok(Sip2Station {
        username: StationUsername::parse(&username)
            .map_err(|_| corrupt(C, format_args!("username {username:?}")))?,
        password_hash: SecretHash(get(row, "password_hash").map_err(infra(C))?),
        library: code(C, &library)?,
        created_at: get(row, "created_at").map_err(infra(C))?,
        created_by: get(row, "created_by").map_err(infra(C))?,
        settings: StationSettings {
            pin_required: get(row, "pin_required").map_err(infra(C))?,
            may_block: get(row, "may_block").map_err(infra(C))?,
            allowed_addresses: StationSettings::parse_addresses(addresses.split_whitespace())
                .map_err(|bad| corrupt(C, format_args!("allowed address {bad:?}")))?,
        },
    })
}

impl Sip2StationStore {
    pub(crate) fn new(conn: Pool) -> Self {
        Self { conn }
    }

    /// Creates a station account. A username already used is [`StoreError::Conflict`];
    /// a library that does not exist is [`StoreError::NotFound`]`("library")`. `audit`,
    /// when given, is written in the same transaction: the entry exists exactly when the
    /// account does.
    pub async fn create(
        &self,
        new: &NewSip2Station,
        audit: Option<&NewAuditEntry>,
    ) -> Result<(), StoreError> {
        const C: &str = "create sip2 station";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let backend = txn.get_database_backend();
        // One statement: the library is checked and the row written together, so a library
        // cannot vanish in between (the foreign key stays the last line of defence).
        let written = exec(
            &txn,
            "INSERT INTO sip2_stations (username, password_hash, library_code, created_at, \
             created_by, pin_required, may_block, allowed_addresses) \
             SELECT ?, ?, code, ?, ?, ?, ?, ? FROM libraries WHERE code = ?",
            vec![
                new.username.as_str().into(),
                new.password_hash.0.as_str().into(),
                instant::value(backend, new.created_at),
                new.created_by.as_str().into(),
                new.settings.pin_required.into(),
                new.settings.may_block.into(),
                addresses_text(&new.settings).into(),
                new.library.as_str().into(),
            ],
        )
        .await
        .map_err(store_err(C))?;
        if written == 0 {
            return Err(StoreError::NotFound("library"));
        }
        if let Some(entry) = audit {
            insert_audit_entry(&txn, entry)
                .await
                .map_err(store_err(C))?;
        }
        txn.commit().await.map_err(store_err(C))?;
        Ok(())
    }

    /// Every station account, by username.
    pub async fn list(&self) -> Result<Vec<Sip2Station>, StoreError> {
        let rows = all(
            &self.conn,
            &format!("SELECT {COLUMNS} FROM sip2_stations ORDER BY username"),
            vec![],
        )
        .await
        .map_err(store_err("list sip2 stations"))?;
        rows.iter().map(station).collect()
    }

    /// The station account with this username; `None` if there is none.
    pub async fn find(
        &self,
        username: &StationUsername,
    ) -> Result<Option<Sip2Station>, StoreError> {
        let row = one(
            &self.conn,
            &format!("SELECT {COLUMNS} FROM sip2_stations WHERE username = ?"),
            vec![username.as_str().into()],
        )
        .await
        .map_err(store_err("find sip2 station"))?;
        row.as_ref().map(station).transpose()
    }

    /// Replaces the station's settings; whether there was such a station. `audit`, when
    /// given, is written in the same transaction.
    pub async fn update_settings(
        &self,
        username: &StationUsername,
        settings: &StationSettings,
        audit: Option<&NewAuditEntry>,
    ) -> Result<bool, StoreError> {
        const C: &str = "update sip2 station settings";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let updated = exec(
            &txn,
            "UPDATE sip2_stations SET pin_required = ?, may_block = ?, allowed_addresses = ? \
             WHERE username = ?",
            vec![
                settings.pin_required.into(),
                settings.may_block.into(),
                addresses_text(settings).into(),
                username.as_str().into(),
            ],
        )
        .await
        .map_err(store_err(C))?;
        if updated == 0 {
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

    /// Deletes the station account; whether there was one. `audit`, when given and there
    /// was an account, is called once the row is deleted and before the transaction
    /// commits (whatever it does then happens before the deletion is visible), and the
    /// entry it makes is written in the same transaction.
    pub async fn delete(
        &self,
        username: &StationUsername,
        audit: Option<&(dyn Fn() -> NewAuditEntry + Send + Sync)>,
    ) -> Result<bool, StoreError> {
        const C: &str = "delete sip2 station";
        let txn = self.conn.begin_write().await.map_err(store_err(C))?;
        let deleted = exec(
            &txn,
            "DELETE FROM sip2_stations WHERE username = ?",
            vec![username.as_str().into()],
        )
        .await
        .map_err(store_err(C))?;
        if deleted == 0 {
            return Ok(false);
        }
        if let Some(entry) = audit {
            insert_audit_entry(&txn, &entry())
                .await
                .map_err(store_err(C))?;
        }
        txn.commit().await.map_err(store_err(C))?;
        Ok(true)
    }
}
