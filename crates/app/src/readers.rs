//! Reader records at the counter, for every channel: finding a reader by card, name,
//! phone or email; the full record; editing the details with the registration form's
//! checks; renewing a card; deactivating a reader who has nothing on loan, owes nothing
//! and waits for nothing (docs/http.md, Reader records).

use library_core::{CardNumber, DEFAULT_LIBRARY_OFFSET, LibraryCode, PatronId};
use library_credentials::{PortError, StaffResetError};
use library_reader_services::Page;
use time::{Date, OffsetDateTime};

use crate::ports::AuditRecord;
use crate::registration::{RegistrationForm, card_expiry, violations};
use crate::services::Services;

/// The fewest digits a card or phone prefix may have.
pub const MIN_DIGIT_PREFIX: usize = 4;
/// The fewest characters a name prefix may have.
pub const MIN_NAME_PREFIX: usize = 2;
/// The fewest characters an email prefix may have.
pub const MIN_EMAIL_PREFIX: usize = 3;
/// The longest prefix accepted, in characters.
pub const MAX_PREFIX: usize = 100;
/// The most results on one page.
pub const MAX_PER_PAGE: u32 = 100;

/// A search for readers as a channel received it: each criterion a prefix, all given
/// ones must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderSearchForm {
    /// The card number's first digits.
    pub card: Option<String>,
    /// The name's first letters (case folded).
    pub name: Option<String>,
    /// The phone's first digits (spaces, `+`, `-`, `(` and `)` ignored on both sides).
    pub phone: Option<String>,
    /// The email's first characters (case folded).
    pub email: Option<String>,
    /// From 1.
    pub page: u32,
    /// 1 to [`MAX_PER_PAGE`].
    pub per_page: u32,
}

/// A checked search: what the directory runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderQuery {
    /// Card prefix, digits only.
    pub card: Option<String>,
    /// Name prefix, lower case.
    pub name: Option<String>,
    /// Phone prefix, digits only.
    pub phone: Option<String>,
    /// Email prefix, lower case.
    pub email: Option<String>,
    /// Rows to return.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u64,
}

/// A reader's record as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderRecord {
    /// The record id.
    pub id: PatronId,
    /// The card.
    pub card_number: CardNumber,
    /// Name.
    pub name: String,
    /// Phone as typed.
    pub phone: String,
    /// Email, if any.
    pub email: Option<String>,
    /// Date of birth, if known.
    pub date_of_birth: Option<Date>,
    /// Category (absent for a reader registered without a circulation profile).
    pub category: Option<String>,
    /// Home library.
    pub home_library: Option<String>,
    /// Last day the card is valid.
    pub card_expires_on: Option<Date>,
    /// First day the reader may borrow again after a suspension.
    pub suspended_until: Option<Date>,
    /// When a station blocked the card, if it is blocked.
    pub blocked_at: Option<OffsetDateTime>,
    /// The station's reason for the block.
    pub block_reason: Option<String>,
    /// When the reader was registered.
    pub registered_at: OffsetDateTime,
    /// When the reader was deactivated, if they were.
    pub deactivated_at: Option<OffsetDateTime>,
}

/// A reader's details after an edit, checked: what the directory stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderDetails {
    /// Name, trimmed.
    pub name: String,
    /// Phone, trimmed.
    pub phone: String,
    /// Email, trimmed, `None` when cleared.
    pub email: Option<String>,
    /// Category.
    pub category: String,
    /// Home library (an existing one).
    pub home_library: LibraryCode,
}

/// An edit of a reader's details: `None` keeps the field; for the email, `Some(None)`
/// clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderEdit {
    /// New name.
    pub name: Option<String>,
    /// New phone.
    pub phone: Option<String>,
    /// New email, or `Some(None)` to remove it.
    pub email: Option<Option<String>>,
    /// New category.
    pub category: Option<String>,
    /// New home library.
    pub home_library: Option<String>,
}

/// Why a deactivation was refused: every reason at once, in this order.
pub const DEACTIVATION_REASONS: [&str; 4] = [
    "already_deactivated",
    "loans_open",
    "charges_outstanding",
    "holds_active",
];

/// What a deactivation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deactivation {
    /// Done (the audit entry written with it).
    Done,
    /// Refused with these reasons (from [`DEACTIVATION_REASONS`]); nothing changed.
    Refused(Vec<&'static str>),
    /// No such reader.
    NoReader,
}

/// Why a search, an edit or a renewal failed.
#[derive(Debug, thiserror::Error)]
pub enum ReaderRecordError {
    /// The input breaks these rules (codes, all at once).
    #[error("invalid: {0:?}")]
    Invalid(Vec<&'static str>),
    /// No such reader.
    #[error("no such reader")]
    NotFound,
    /// The reader is deactivated: their record can be read, not changed.
    #[error("reader deactivated")]
    Deactivated,
    /// Infrastructure failure.
    #[error(transparent)]
    Infrastructure(#[from] PortError),
}

/// A loan ended on the reader's claim to have returned it, waiting for staff's review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimReturned {
    /// The loan.
    pub loan: library_core::LoanId,
    /// The reader's card.
    pub card_number: CardNumber,
    /// The copy's barcode.
    pub item_barcode: String,
    /// Its title.
    pub title: String,
    /// The lending library.
    pub library: String,
    /// When it was due.
    pub due_at: OffsetDateTime,
    /// When the claim was taken.
    pub claimed_at: OffsetDateTime,
}

/// Reader records in the store (implemented by `library-persistence`).
#[async_trait::async_trait]
pub trait ReaderRecords: Send + Sync {
    /// One page of the readers matching `query`, by name then card number.
    async fn search(&self, query: &ReaderQuery) -> Result<Page<ReaderRecord>, PortError>;

    /// The loans ended on a claim of return whose copy is still missing (not found, not
    /// declared lost), oldest claim first.
    async fn claims_returned(&self) -> Result<Vec<ClaimReturned>, PortError>;

    /// The reader with this card, deactivated or not.
    async fn record_by_card(&self, card: &CardNumber) -> Result<Option<ReaderRecord>, PortError>;

    /// Stores reader `id`'s details with `audit` in the same transaction; `false` if there
    /// is no such active reader.
    async fn update_details(
        &self,
        id: PatronId,
        details: &ReaderDetails,
        audit: AuditRecord,
    ) -> Result<bool, PortError>;

    /// Sets reader `id`'s card expiry with `audit` in the same transaction; `false` if
    /// there is no such active reader.
    async fn set_card_expiry(
        &self,
        id: PatronId,
        expires_on: Date,
        audit: AuditRecord,
    ) -> Result<bool, PortError>;

    /// Deactivates reader `id` at `at` if they have no open loan, owe nothing in charges
    /// and have no queued or waiting hold, checked and written in one transaction that
    /// holds the reader's lock (so no checkout slips in between), with `audit`.
    async fn deactivate(
        &self,
        id: PatronId,
        at: OffsetDateTime,
        audit: AuditRecord,
        decide: &Decide,
    ) -> Result<Deactivation, PortError>;
}

/// The deactivation decision a store applies to what it read under the reader's lock.
pub type Decide = dyn Fn(&DeactivationFacts) -> Vec<&'static str> + Send + Sync;

/// What a deactivation weighs, read under the reader's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeactivationFacts {
    /// The reader is deactivated already.
    pub deactivated: bool,
    /// Their open loans.
    pub open_loans: u64,
    /// What they owe in charges.
    pub owed: library_core::Money,
    /// Their queued and waiting holds.
    pub active_holds: u64,
}

/// Why a reader may not be deactivated: every reason that applies, in the order of
/// [`DEACTIVATION_REASONS`] (empty: they may be).
pub fn deactivation_refusals(f: &DeactivationFacts) -> Vec<&'static str> {
    let applies = [
        f.deactivated,
        f.open_loans > 0,
        f.owed.is_positive(),
        f.active_holds > 0,
    ];
    DEACTIVATION_REASONS
        .into_iter()
        .zip(applies)
        .filter_map(|(reason, applies)| applies.then_some(reason))
        .collect()
}

fn digits_only(s: &str) -> Option<String> {
    let kept: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '+' | '-' | '(' | ')'))
        .collect();
    kept.chars().all(|c| c.is_ascii_digit()).then_some(kept)
}

fn clean(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Checks a search form: the query, or every rule it breaks (`criteria_missing`,
/// `card_invalid`, `name_invalid`, `phone_invalid`, `email_invalid`, `page_invalid`,
/// `per_page_invalid`).
pub fn reader_query(form: &ReaderSearchForm) -> Result<ReaderQuery, Vec<&'static str>> {
    let mut bad = Vec::new();
    let card = clean(&form.card);
    let name = clean(&form.name);
    let phone = clean(&form.phone);
    let email = clean(&form.email);
    if card.is_none() && name.is_none() && phone.is_none() && email.is_none() {
        bad.push("criteria_missing");
    }
    let card = card.and_then(|c| {
        let ok =
            c.len() >= MIN_DIGIT_PREFIX && c.len() <= 14 && c.bytes().all(|b| b.is_ascii_digit());
        if !ok {
            bad.push("card_invalid");
        }
        ok.then(|| c.to_owned())
    });
    let name = name.and_then(|n| {
        let chars = n.chars().count();
        let ok =
            (MIN_NAME_PREFIX..=MAX_PREFIX).contains(&chars) && !n.chars().any(char::is_control);
        if !ok {
            bad.push("name_invalid");
        }
        ok.then(|| n.to_lowercase())
    });
    let phone = phone.and_then(|p| {
        let digits = digits_only(p).filter(|d| (MIN_DIGIT_PREFIX..=32).contains(&d.len()));
        if digits.is_none() {
            bad.push("phone_invalid");
        }
        digits
    });
    let email = email.and_then(|e| {
        let chars = e.chars().count();
        let ok =
            (MIN_EMAIL_PREFIX..=MAX_PREFIX).contains(&chars) && !e.chars().any(char::is_control);
        if !ok {
            bad.push("email_invalid");
        }
        ok.then(|| e.to_lowercase())
    });
    if form.page == 0 {
        bad.push("page_invalid");
    }
    if form.per_page == 0 || form.per_page > MAX_PER_PAGE {
        bad.push("per_page_invalid");
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    Ok(ReaderQuery {
        card,
        name,
        phone,
        email,
        limit: form.per_page,
        offset: u64::from(form.page - 1) * u64::from(form.per_page),
    })
}

impl Services {
    fn today(&self) -> Date {
        self.clock.now().to_offset(DEFAULT_LIBRARY_OFFSET).date()
    }

    /// Finds readers (staff).
    ///
    /// # Errors
    /// [`ReaderRecordError::Invalid`] for a bad form; infrastructure failures.
    pub async fn search_readers(
        &self,
        form: &ReaderSearchForm,
    ) -> Result<Page<ReaderRecord>, ReaderRecordError> {
        let query = reader_query(form).map_err(ReaderRecordError::Invalid)?;
        Ok(self.records.search(&query).await?)
    }

    /// The record of the reader with `card` (staff), deactivated or not.
    ///
    /// # Errors
    /// [`ReaderRecordError::NotFound`]; infrastructure failures.
    pub async fn reader_record(
        &self,
        card: &CardNumber,
    ) -> Result<ReaderRecord, ReaderRecordError> {
        self.records
            .record_by_card(card)
            .await?
            .ok_or(ReaderRecordError::NotFound)
    }

    /// Whether the reader's PIN is disabled by consecutive failures from every source
    /// (docs/credentials.md, Guessing): staff see it with the record.
    ///
    /// # Errors
    /// Infrastructure failures.
    pub async fn reader_pin_locked(&self, card: &CardNumber) -> Result<bool, ReaderRecordError> {
        Ok(self.credentials.pin_locked(card).await?)
    }

    /// Lifts a PIN lock (staff): the PIN's failure counts are cleared, the PIN itself is
    /// unchanged; lifting a PIN that is not locked changes nothing. The counters live
    /// beside the credentials, outside the reader's transactions, so `audit` is appended
    /// once the lock is lifted (a failed append is logged, the lift stands).
    ///
    /// # Errors
    /// [`ReaderRecordError::NotFound`]; infrastructure failures.
    pub async fn lift_pin_lock(
        &self,
        card: &CardNumber,
        audit: AuditRecord,
    ) -> Result<(), ReaderRecordError> {
        self.credentials
            .lift_pin_lock(card)
            .await
            .map_err(|e| match e {
                StaffResetError::NotFound => ReaderRecordError::NotFound,
                StaffResetError::Infrastructure(e) => e.into(),
            })?;
        if let Err(err) = self.audit.record(audit).await {
            tracing::error!(%err, action = "reader.pin_unlock", "audit log append failed");
        }
        Ok(())
    }

    /// Edits a reader's details with the registration form's checks (and the home library
    /// must exist: `unknown_library`). `audit` makes the record from the details stored.
    ///
    /// # Errors
    /// [`ReaderRecordError::Invalid`] with every rule broken, `NotFound`, `Deactivated`.
    pub async fn edit_reader(
        &self,
        card: &CardNumber,
        edit: ReaderEdit,
        audit: impl FnOnce(&ReaderRecord, &ReaderDetails) -> AuditRecord + Send,
    ) -> Result<ReaderRecord, ReaderRecordError> {
        let record = self.reader_record(card).await?;
        if record.deactivated_at.is_some() {
            return Err(ReaderRecordError::Deactivated);
        }
        let form = RegistrationForm {
            name: edit.name.unwrap_or_else(|| record.name.clone()),
            phone: edit.phone.unwrap_or_else(|| record.phone.clone()),
            email: edit.email.unwrap_or_else(|| record.email.clone()),
            category: edit
                .category
                .or_else(|| record.category.clone())
                .unwrap_or_default(),
            date_of_birth: None,
            home_library: edit
                .home_library
                .or_else(|| record.home_library.clone())
                .unwrap_or_default(),
        };
        let mut bad = violations(&form, self.today());
        let home = LibraryCode::parse(form.home_library.trim()).ok();
        if let Some(code) = &home {
            let known = self
                .libraries
                .library(code)
                .await
                .map_err(|e| PortError::Failed(e.to_string()))?
                .is_some();
            if !known {
                bad.push("unknown_library");
            }
        }
        let (false, Some(home_library)) = (!bad.is_empty(), home) else {
            return Err(ReaderRecordError::Invalid(bad));
        };
        let details = ReaderDetails {
            name: form.name.trim().to_owned(),
            phone: form.phone.trim().to_owned(),
            email: form
                .email
                .map(|e| e.trim().to_owned())
                .filter(|e| !e.is_empty()),
            category: form.category,
            home_library,
        };
        let entry = audit(&record, &details);
        if !self
            .records
            .update_details(record.id, &details, entry)
            .await?
        {
            return Err(ReaderRecordError::NotFound);
        }
        self.reader_record(card).await
    }

    /// Renews a card: valid until [`card_expiry`] of today (five years), never earlier
    /// than it already was. `audit` makes the record from the old and new expiry.
    ///
    /// # Errors
    /// `NotFound`, `Deactivated`; infrastructure failures.
    pub async fn renew_card(
        &self,
        card: &CardNumber,
        audit: impl FnOnce(Option<Date>, Date) -> AuditRecord + Send,
    ) -> Result<ReaderRecord, ReaderRecordError> {
        let record = self.reader_record(card).await?;
        if record.deactivated_at.is_some() {
            return Err(ReaderRecordError::Deactivated);
        }
        let renewed = card_expiry(self.today());
        let expires_on = record.card_expires_on.map_or(renewed, |d| d.max(renewed));
        let entry = audit(record.card_expires_on, expires_on);
        if !self
            .records
            .set_card_expiry(record.id, expires_on, entry)
            .await?
        {
            return Err(ReaderRecordError::NotFound);
        }
        self.reader_record(card).await
    }

    /// Deactivates a reader who has nothing on loan, owes nothing and has no active hold;
    /// their sessions end and their Password and PIN stop working.
    ///
    /// # Errors
    /// `NotFound`; infrastructure failures. A refusal is `Ok(Deactivation::Refused)`.
    pub async fn deactivate_reader(
        &self,
        card: &CardNumber,
        audit: AuditRecord,
    ) -> Result<Deactivation, ReaderRecordError> {
        let record = self.reader_record(card).await?;
        let outcome = self
            .records
            .deactivate(record.id, self.clock.now(), audit, &deactivation_refusals)
            .await?;
        if outcome == Deactivation::Done {
            self.credentials.end_reader_sessions(record.id).await?;
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ReaderSearchForm {
        ReaderSearchForm {
            page: 1,
            per_page: 20,
            ..ReaderSearchForm::default()
        }
    }

    #[test]
    fn a_search_needs_a_criterion_and_sane_prefixes() {
        assert_eq!(reader_query(&form()), Err(vec!["criteria_missing"]));
        let short = ReaderSearchForm {
            card: Some("210".into()),
            name: Some("a".into()),
            phone: Some("12-3".into()),
            email: Some("ab".into()),
            page: 0,
            per_page: 101,
        };
        assert_eq!(
            reader_query(&short),
            Err(vec![
                "card_invalid",
                "name_invalid",
                "phone_invalid",
                "email_invalid",
                "page_invalid",
                "per_page_invalid"
            ])
        );
    }

    #[test]
    fn every_reason_not_to_deactivate_in_order() {
        let none = DeactivationFacts {
            deactivated: false,
            open_loans: 0,
            owed: library_core::Money::ZERO,
            active_holds: 0,
        };
        assert!(deactivation_refusals(&none).is_empty());
        let all = DeactivationFacts {
            deactivated: true,
            open_loans: 1,
            owed: library_core::Money::from_cents(1),
            active_holds: 2,
        };
        assert_eq!(deactivation_refusals(&all), DEACTIVATION_REASONS.to_vec());
        let owed = DeactivationFacts {
            owed: library_core::Money::from_cents(150),
            ..none
        };
        assert_eq!(deactivation_refusals(&owed), vec!["charges_outstanding"]);
    }

    #[test]
    fn prefixes_are_folded_and_phones_reduced_to_digits() {
        let q = reader_query(&ReaderSearchForm {
            card: Some(" 2100 ".into()),
            name: Some("ChAN".into()),
            phone: Some("+852 9123-4".into()),
            email: Some("Reader@".into()),
            page: 3,
            per_page: 10,
        })
        .unwrap();
        assert_eq!(q.card.as_deref(), Some("2100"));
        assert_eq!(q.name.as_deref(), Some("chan"));
        assert_eq!(q.phone.as_deref(), Some("85291234"));
        assert_eq!(q.email.as_deref(), Some("reader@"));
        assert_eq!((q.limit, q.offset), (10, 20));
        // Letters in a phone prefix are not a phone.
        let letters = ReaderSearchForm {
            phone: Some("9123abc".into()),
            ..form()
        };
        assert_eq!(reader_query(&letters), Err(vec!["phone_invalid"]));
    }
}
