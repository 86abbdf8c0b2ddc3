//! Readers' settings ("My Setting"; docs/http.md, Reader services) and the reading history
//! they govern.
//!
//! The email is `patrons.email`, the column registration, `GET /me` and "forgot Password"
//! read: saving settings writes it there, in the same transaction as the rest. A reader
//! without a `reader_settings` row has the defaults ([`ReaderSettings::defaults`]).
//!
//! Changing the email needs the reader's confirmation ([`EmailChange`]), decided on the
//! row locked by the saving transaction, so no concurrent save can slip a change past it;
//! the old address is told of a change by an outbox row ([`EMAIL_CHANGED`]) written in that
//! same transaction: the notice exists exactly when the change committed.

use std::collections::BTreeSet;
use std::sync::Arc;

use library_circulation::ports::InfrastructureError;
use library_core::{Barcode, LibraryCode, LoanId, PatronId};
use library_reader_services::{
    AnonymisationPolicy, Channel, Email, EmailChange, Language, ReaderSettings, ReadingHistory,
    ReturnedLoan, SmsNumber,
};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use crate::error::StoreError;
use crate::instant;
use crate::outbox_store::{NewNotification, insert_notification};
use crate::pool::Pool;
use crate::sql::{all, corrupt, exec, get, infra, lock_clause, one, store_err};

fn settings(row: &QueryResult) -> Result<(ReaderSettings, ReadingHistory), InfrastructureError> {
    const C: &str = "read settings";
    let email = get::<Option<String>>(row, "email")
        .map_err(infra(C))?
        .filter(|e| !e.is_empty())
        .map(Email::stored);
    let saved: Option<i64> = get(row, "saved").map_err(infra(C))?;
    if saved.is_none() {
        return Ok((
            ReaderSettings::defaults(email),
            ReadingHistory::FROM_THE_START,
        ));
    }
    let language: String = get::<Option<String>>(row, "language")
        .map_err(infra(C))?
        .unwrap_or_default();
    let flag = |column: &str| -> Result<bool, InfrastructureError> {
        Ok(get::<Option<bool>>(row, column)
            .map_err(infra(C))?
            .unwrap_or_default())
    };
    let mut channels = BTreeSet::new();
    if flag("notify_email")? {
        channels.insert(Channel::Email);
    }
    if flag("notify_sms")? {
        channels.insert(Channel::Sms);
    }
    let keep = flag("keep_reading_history")?;
    Ok((
        ReaderSettings {
            email,
            sms_number: get::<Option<String>>(row, "sms_number")
                .map_err(infra(C))?
                .map(SmsNumber::stored),
            channels,
            language: Language::from_code(&language)
                .ok_or_else(|| corrupt(C, format_args!("language {language:?}")))?,
            keep_reading_history: keep,
        },
        ReadingHistory {
            keep,
            kept_since: get(row, "reading_history_since").map_err(infra(C))?,
        },
    ))
}

async fn read(
    conn: &impl ConnectionTrait,
    patron: PatronId,
) -> Result<Option<(ReaderSettings, ReadingHistory)>, StoreError> {
    let row = one(
        conn,
        "SELECT p.email, s.patron_id AS saved, s.notify_email, s.notify_sms, s.sms_number, \
         s.language, s.keep_reading_history, s.reading_history_since \
         FROM patrons p LEFT JOIN reader_settings s ON s.patron_id = p.id WHERE p.id = ?",
        vec![patron.get().into()],
    )
    .await
    .map_err(store_err("read settings"))?;
    Ok(row.map(|r| settings(&r)).transpose()?)
}

/// The outbox kind of a changed email, sent to the old address: payload `old_email`,
/// `new_email` (`null` when the email was removed). Nothing secret.
pub const EMAIL_CHANGED: &str = library_app::kind::EMAIL_CHANGED;

/// What [`ReaderSettingsStore::put`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsPut {
    /// Stored: the settings and the reading-history state now in force.
    Saved(ReaderSettings, ReadingHistory),
    /// Nothing stored: the replacement would change the email, and the change was not
    /// confirmed.
    EmailChangeUnconfirmed,
}

/// The outbox row telling `old` that reader `patron`'s email is now `new`.
fn email_changed(
    patron: PatronId,
    old: &Email,
    new: Option<&Email>,
    at: OffsetDateTime,
) -> NewNotification {
    NewNotification {
        kind: EMAIL_CHANGED.to_owned(),
        patron: Some(patron),
        payload: serde_json::json!({
            "old_email": old.as_str(),
            "new_email": new.map(Email::as_str),
        })
        .to_string(),
        created_at: at,
        expires_at: None,
    }
}

/// Readers' settings in the database.
#[derive(Debug, Clone)]
pub struct ReaderSettingsStore {
    conn: Pool,
    gate: Arc<Semaphore>,
}

impl ReaderSettingsStore {
    pub(crate) fn new(conn: Pool, gate: Arc<Semaphore>) -> Self {
        Self { conn, gate }
    }

    /// Reader `patron`'s settings (the defaults if never saved) and reading-history state;
    /// `None` if there is no such reader.
    pub async fn get(
        &self,
        patron: PatronId,
    ) -> Result<Option<(ReaderSettings, ReadingHistory)>, StoreError> {
        read(&self.conn, patron).await
    }

    /// Replaces reader `patron`'s settings at `now` (the email in `patrons`); what is now
    /// stored. Turning the reading history back on starts it at `now`
    /// ([`ReadingHistory::set`]). A replacement that changes the email
    /// ([`ReaderSettings::changes_email`], against the email as locked here) stores nothing
    /// unless `email_change` is [`EmailChange::Confirmed`]; when it is, and the reader had
    /// an email, an [`EMAIL_CHANGED`] notice to the old address is queued in the same
    /// transaction. Unknown reader: [`StoreError::NotFound`].
    pub async fn put(
        &self,
        patron: PatronId,
        new: &ReaderSettings,
        now: OffsetDateTime,
        email_change: EmailChange,
    ) -> Result<SettingsPut, StoreError> {
        const C: &str = "save settings";
        let txn = self
            .conn
            .begin_gated(&self.gate)
            .await
            .map_err(store_err(C))?;
        let backend = txn.get_database_backend();
        let lock = format!(
            "SELECT id FROM patrons WHERE id = ?{}",
            lock_clause(backend)
        );
        one(&txn, &lock, vec![patron.get().into()])
            .await
            .map_err(store_err(C))?
            .ok_or(StoreError::NotFound("reader"))?;
        let (current, history) = read(&txn, patron)
            .await?
            .ok_or(StoreError::NotFound("reader"))?;
        let notice = if current.changes_email(new) {
            if email_change == EmailChange::Unconfirmed {
                // Dropped without a commit: rolled back, nothing written.
                return Ok(SettingsPut::EmailChangeUnconfirmed);
            }
            current
                .email
                .as_ref()
                .map(|old| email_changed(patron, old, new.email.as_ref(), now))
        } else {
            None
        };
        if let Some(notice) = &notice {
            insert_notification(&txn, notice)
                .await
                .map_err(store_err(C))?;
        }
        let history = history.set(new.keep_reading_history, now);
        exec(
            &txn,
            "UPDATE patrons SET email = ? WHERE id = ?",
            vec![
                Value::String(new.email.as_ref().map(|e| e.as_str().to_owned())),
                patron.get().into(),
            ],
        )
        .await
        .map_err(store_err(C))?;
        exec(
            &txn,
            "INSERT INTO reader_settings (patron_id, notify_email, notify_sms, sms_number, \
             language, keep_reading_history, reading_history_since, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (patron_id) DO UPDATE SET \
             notify_email = excluded.notify_email, notify_sms = excluded.notify_sms, \
             sms_number = excluded.sms_number, language = excluded.language, \
             keep_reading_history = excluded.keep_reading_history, \
             reading_history_since = excluded.reading_history_since, \
             updated_at = excluded.updated_at",
            vec![
                patron.get().into(),
                new.channels.contains(&Channel::Email).into(),
                new.channels.contains(&Channel::Sms).into(),
                Value::String(new.sms_number.as_ref().map(|n| n.as_str().to_owned())),
                new.language.code().into(),
                history.keep.into(),
                instant::optional(backend, history.kept_since),
                instant::value(backend, now),
            ],
        )
        .await
        .map_err(store_err(C))?;
        let (settings, history) = read(&txn, patron)
            .await?
            .ok_or(StoreError::NotFound("reader"))?;
        txn.commit().await.map_err(store_err(C))?;
        if notice.is_some() {
            tracing::info!(patron = patron.get(), kind = EMAIL_CHANGED, "notice queued");
        }
        Ok(SettingsPut::Saved(settings, history))
    }

    /// Reader `patron`'s reading history: the returned loans it shows, most recently
    /// returned first, and whether it is kept. Unknown reader: [`StoreError::NotFound`].
    pub async fn reading_history(
        &self,
        patron: PatronId,
    ) -> Result<(ReadingHistory, Vec<ReturnedLoan>), StoreError> {
        const C: &str = "read reading history";
        let (_, history) = read(&self.conn, patron)
            .await?
            .ok_or(StoreError::NotFound("reader"))?;
        if !history.keep {
            return Ok((history, Vec::new()));
        }
        let backend = self.conn.get_database_backend();
        let since = history
            .kept_since
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let rows = all(
            &self.conn,
            "SELECT l.id, i.barcode, t.name AS title, l.library_code, l.borrowed_at, \
             l.returned_at FROM loans l JOIN items i ON i.id = l.item_id \
             JOIN titles t ON t.id = i.title_id \
             WHERE l.patron_id = ? AND l.returned_at IS NOT NULL AND l.returned_at >= ? \
             ORDER BY l.returned_at DESC, l.id DESC",
            vec![patron.get().into(), instant::value(backend, since)],
        )
        .await
        .map_err(store_err(C))?;
        let row = |r: &QueryResult| -> Result<ReturnedLoan, InfrastructureError> {
            let barcode: String = get(r, "barcode").map_err(infra(C))?;
            let library: String = get(r, "library_code").map_err(infra(C))?;
            Ok(ReturnedLoan {
                loan: LoanId(get(r, "id").map_err(infra(C))?),
                item_barcode: Barcode::parse(&barcode).map_err(|e| corrupt(C, e))?,
                title: get(r, "title").map_err(infra(C))?,
                library: LibraryCode::parse(&library).map_err(|e| corrupt(C, e))?,
                borrowed_at: get(r, "borrowed_at").map_err(infra(C))?,
                returned_at: get(r, "returned_at").map_err(infra(C))?,
            })
        };
        let loans = rows.iter().map(row).collect::<Result<Vec<_>, _>>()?;
        // The domain's rule decides; the SQL above only narrows the rows read.
        Ok((
            history,
            loans
                .into_iter()
                .filter(|l| history.shows(l.returned_at))
                .collect(),
        ))
    }

    /// Anonymises the returned loans of readers who do not keep a reading history, as
    /// `policy` decides at `now` ([`AnonymisationPolicy::anonymises`]): the reader's link
    /// is removed (`patron_id` null) from every loan returned at or before
    /// [`AnonymisationPolicy::returned_by`] that has no charge still owed (neither paid in
    /// full nor waived); the rows stay. One statement, so a loan returned, paid for or a
    /// setting saved meanwhile is judged as it is when the statement runs. How many loans.
    pub async fn anonymise_returned_loans(
        &self,
        policy: &AnonymisationPolicy,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let backend = self.conn.get_database_backend();
        exec(
            &self.conn,
            "UPDATE loans SET patron_id = NULL \
             WHERE patron_id IN (SELECT patron_id FROM reader_settings \
             WHERE keep_reading_history = ?) \
             AND returned_at IS NOT NULL AND returned_at <= ? \
             AND NOT EXISTS (SELECT 1 FROM charges c WHERE c.loan_id = loans.id \
             AND c.waived_on IS NULL AND c.amount > c.paid)",
            vec![
                false.into(),
                instant::value(backend, policy.returned_by(now)),
            ],
        )
        .await
        .map_err(store_err("anonymise returned loans"))
    }
}
