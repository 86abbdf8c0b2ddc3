//! Reader records at the counter (library-app `ReaderRecords`): the staff search, the full
//! record, editing details, the card's expiry and deactivation.
//!
//! The search matches prefixes: the card number's digits; the name and the email folded to
//! lower case (PostgreSQL folds every script; SQLite's `lower()` folds ASCII letters only,
//! so there a name search is case-blind for Latin letters without accents); the phone with
//! spaces, `+`, `-`, `(` and `)` taken out on both sides.

use library_app::readers::DeactivationFacts;
use library_app::{
    AuditRecord, Deactivation, ReaderDetails, ReaderQuery, ReaderRecord, ReaderRecords,
};
use library_core::{CardNumber, Money, PatronId};
use library_credentials::PortError;
use library_reader_services::Page;
use sea_orm::{ConnectionTrait, QueryResult, Value};
use time::{Date, OffsetDateTime};

use crate::application::DbReaderDirectory;
use crate::audit_store::insert_audit_entry;
use crate::catalogue_search::prefix_pattern;
use crate::circulation::ledger::OUTSTANDING_SQL;
use crate::error::{corrupt, failed};
use crate::instant;
use crate::sql::{self, exec, get, lock_clause, one};

const RECORD_COLUMNS: &str = "id, card_number, name, phone, email, date_of_birth, category, \
     home_library, card_expires_on, suspended_until, blocked_at, block_reason, created_at, \
     deactivated_at";

/// The phone with the characters a reader may type around its digits taken out.
const PHONE_DIGITS: &str = "replace(replace(replace(replace(replace(phone, ' ', ''), '+', ''), \
     '-', ''), '(', ''), ')', '')";

fn record(row: &QueryResult) -> Result<ReaderRecord, PortError> {
    const C: &str = "read reader record";
    let card: String = get(row, "card_number").map_err(failed(C))?;
    Ok(ReaderRecord {
        id: PatronId(get(row, "id").map_err(failed(C))?),
        card_number: CardNumber::parse(&card).map_err(|e| corrupt(C, e))?,
        name: get(row, "name").map_err(failed(C))?,
        phone: get(row, "phone").map_err(failed(C))?,
        email: get(row, "email").map_err(failed(C))?,
        date_of_birth: get(row, "date_of_birth").map_err(failed(C))?,
        category: get(row, "category").map_err(failed(C))?,
        home_library: get(row, "home_library").map_err(failed(C))?,
        card_expires_on: get(row, "card_expires_on").map_err(failed(C))?,
        suspended_until: get(row, "suspended_until").map_err(failed(C))?,
        blocked_at: get(row, "blocked_at").map_err(failed(C))?,
        block_reason: get(row, "block_reason").map_err(failed(C))?,
        registered_at: get(row, "created_at").map_err(failed(C))?,
        deactivated_at: get(row, "deactivated_at").map_err(failed(C))?,
    })
}

#[async_trait::async_trait]
impl ReaderRecords for DbReaderDirectory {
    async fn search(&self, query: &ReaderQuery) -> Result<Page<ReaderRecord>, PortError> {
        const C: &str = "search readers";
        let mut conditions = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        if let Some(card) = &query.card {
            conditions.push("card_number LIKE ? ESCAPE '\\'".to_owned());
            values.push(prefix_pattern(card).into());
        }
        if let Some(name) = &query.name {
            conditions.push("lower(name) LIKE ? ESCAPE '\\'".to_owned());
            values.push(prefix_pattern(name).into());
        }
        if let Some(phone) = &query.phone {
            conditions.push(format!("{PHONE_DIGITS} LIKE ? ESCAPE '\\'"));
            values.push(prefix_pattern(phone).into());
        }
        if let Some(email) = &query.email {
            conditions.push("lower(email) LIKE ? ESCAPE '\\'".to_owned());
            values.push(prefix_pattern(email).into());
        }
        let filter = if conditions.is_empty() {
            "1 = 1".to_owned()
        } else {
            conditions.join(" AND ")
        };
        let conn = self.pool();
        let count_sql = format!("SELECT COUNT(*) AS n FROM patrons WHERE {filter}");
        let rows_sql = format!(
            "SELECT {RECORD_COLUMNS} FROM patrons WHERE {filter} ORDER BY name, card_number"
        );
        let found = sql::page(
            conn,
            C,
            (&count_sql, &rows_sql),
            values,
            (query.limit, query.offset),
            |row| {
                record(row).map_err(|e| {
                    library_circulation::ports::InfrastructureError::new(e.to_string())
                })
            },
        )
        .await
        .map_err(|e| e.into_port_error(C))?;
        Ok(found)
    }

    async fn claims_returned(&self) -> Result<Vec<library_app::ClaimReturned>, PortError> {
        const C: &str = "list claims of return";
        let rows = sql::all(
            self.pool(),
            "SELECT l.id, p.card_number, i.barcode, t.name, l.library_code, l.due_at, \
             l.claimed_returned_at FROM loans l JOIN patrons p ON p.id = l.patron_id \
             JOIN items i ON i.id = l.item_id JOIN titles t ON t.id = i.title_id \
             WHERE l.claimed_returned_at IS NOT NULL AND l.lost_at IS NULL \
             AND i.status = 'lost' ORDER BY l.claimed_returned_at, l.id",
            vec![],
        )
        .await
        .map_err(failed(C))?;
        rows.iter()
            .map(|row| {
                let card: String = get(row, "card_number").map_err(failed(C))?;
                Ok(library_app::ClaimReturned {
                    loan: library_core::LoanId(get(row, "id").map_err(failed(C))?),
                    card_number: CardNumber::parse(&card).map_err(|e| corrupt(C, e))?,
                    item_barcode: get(row, "barcode").map_err(failed(C))?,
                    title: get(row, "name").map_err(failed(C))?,
                    library: get(row, "library_code").map_err(failed(C))?,
                    due_at: get(row, "due_at").map_err(failed(C))?,
                    claimed_at: get(row, "claimed_returned_at").map_err(failed(C))?,
                })
            })
            .collect()
    }

    async fn record_by_card(&self, card: &CardNumber) -> Result<Option<ReaderRecord>, PortError> {
        const C: &str = "read reader record";
        let sql = format!("SELECT {RECORD_COLUMNS} FROM patrons WHERE card_number = ?");
        one(self.pool(), &sql, vec![card.as_str().into()])
            .await
            .map_err(failed(C))?
            .map(|row| record(&row))
            .transpose()
    }

    async fn update_details(
        &self,
        id: PatronId,
        details: &ReaderDetails,
        audit: AuditRecord,
    ) -> Result<bool, PortError> {
        const C: &str = "edit reader";
        let txn = self.pool().begin_write().await.map_err(failed(C))?;
        let n = exec(
            &txn,
            "UPDATE patrons SET name = ?, phone = ?, email = ?, category = ?, home_library = ? \
             WHERE id = ? AND deactivated_at IS NULL",
            vec![
                details.name.as_str().into(),
                details.phone.as_str().into(),
                details.email.clone().into(),
                details.category.as_str().into(),
                details.home_library.as_str().into(),
                id.get().into(),
            ],
        )
        .await
        .map_err(failed(C))?;
        if n != 1 {
            return Ok(false);
        }
        insert_audit_entry(&txn, &crate::application::audit_entry(audit))
            .await
            .map_err(failed(C))?;
        txn.commit().await.map_err(failed(C))?;
        Ok(true)
    }

    async fn set_card_expiry(
        &self,
        id: PatronId,
        expires_on: Date,
        audit: AuditRecord,
    ) -> Result<bool, PortError> {
        const C: &str = "renew card";
        let txn = self.pool().begin_write().await.map_err(failed(C))?;
        let n = exec(
            &txn,
            "UPDATE patrons SET card_expires_on = ? WHERE id = ? AND deactivated_at IS NULL",
            vec![Value::TimeDate(Some(expires_on)), id.get().into()],
        )
        .await
        .map_err(failed(C))?;
        if n != 1 {
            return Ok(false);
        }
        insert_audit_entry(&txn, &crate::application::audit_entry(audit))
            .await
            .map_err(failed(C))?;
        txn.commit().await.map_err(failed(C))?;
        Ok(true)
    }

    async fn deactivate(
        &self,
        id: PatronId,
        at: OffsetDateTime,
        audit: AuditRecord,
        decide: &library_app::readers::Decide,
    ) -> Result<Deactivation, PortError> {
        const C: &str = "deactivate reader";
        let txn = self.pool().begin_write().await.map_err(failed(C))?;
        let backend = txn.get_database_backend();
        // The reader's lock first, as every checkout, renewal and hold takes it: none of
        // them can slip in between the checks and the write.
        let lock = lock_clause(backend);
        let Some(row) = one(
            &txn,
            &format!("SELECT deactivated_at FROM patrons WHERE id = ?{lock}"),
            vec![id.get().into()],
        )
        .await
        .map_err(failed(C))?
        else {
            return Ok(Deactivation::NoReader);
        };
        let deactivated: Option<OffsetDateTime> = get(&row, "deactivated_at").map_err(failed(C))?;
        let counts = one(
            &txn,
            &format!(
                "SELECT (SELECT COUNT(*) FROM loans WHERE patron_id = ? AND returned_at IS NULL) \
                 AS loans, (SELECT COUNT(*) FROM holds WHERE patron_id = ? \
                 AND status IN ('queued', 'waiting')) AS holds, o.outstanding \
                 FROM ({OUTSTANDING_SQL}) o"
            ),
            vec![id.get().into(), id.get().into(), id.get().into()],
        )
        .await
        .map_err(failed(C))?
        .ok_or_else(|| PortError::Failed(format!("{C}: the counts gave no row")))?;
        let count = |name: &str| -> Result<u64, PortError> {
            let n: i64 = get(&counts, name).map_err(failed(C))?;
            Ok(u64::try_from(n).unwrap_or_default())
        };
        let reasons = decide(&DeactivationFacts {
            deactivated: deactivated.is_some(),
            open_loans: count("loans")?,
            owed: Money::from_cents(get(&counts, "outstanding").map_err(failed(C))?),
            active_holds: count("holds")?,
        });
        if !reasons.is_empty() {
            return Ok(Deactivation::Refused(reasons));
        }
        exec(
            &txn,
            "UPDATE patrons SET deactivated_at = ? WHERE id = ?",
            vec![instant::value(backend, at), id.get().into()],
        )
        .await
        .map_err(failed(C))?;
        insert_audit_entry(&txn, &crate::application::audit_entry(audit))
            .await
            .map_err(failed(C))?;
        txn.commit().await.map_err(failed(C))?;
        Ok(Deactivation::Done)
    }
}
