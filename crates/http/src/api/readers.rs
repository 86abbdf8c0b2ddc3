//! Reader records at the counter (staff): finding a reader, editing their details,
//! renewing a card, deactivating a reader, and the parts of the record not served
//! elsewhere (payments, reading history). The rules are the application layer's
//! (`library_app::readers`); this module speaks HTTP only.

use library_app::{Deactivation, ReaderEdit, ReaderRecord, ReaderSearchForm, Services};
use library_core::Money;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{Object, OpenApi};
use serde_json::json;
use time::{Date, OffsetDateTime};

use super::ApiTags;
use super::common::{audit_record, card, reader_by_card, shown};
use super::settings::{ReadingHistoryBody, reading_history_of};
use super::types::{Int, NoContent, Text};
use crate::auth::StaffAuth;
use crate::error::ApiError;

/// A reader as staff find and see them.
#[derive(Debug, Object)]
pub(super) struct ReaderBody {
    card_number: String,
    name: String,
    phone: String,
    #[oai(nullable)]
    email: Option<String>,
    #[oai(nullable)]
    date_of_birth: Option<Date>,
    #[oai(nullable)]
    category: Option<String>,
    #[oai(nullable)]
    home_library: Option<String>,
    /// The last day the card is valid.
    #[oai(nullable)]
    card_expires_on: Option<Date>,
    /// The first day the reader may borrow again after a suspension.
    #[oai(nullable)]
    suspended_until: Option<Date>,
    /// Blocked by a self-service station until staff lift it.
    blocked: bool,
    #[oai(nullable)]
    blocked_at: Option<OffsetDateTime>,
    #[oai(nullable)]
    block_reason: Option<String>,
    registered_at: OffsetDateTime,
    /// When staff deactivated the reader (null: active).
    #[oai(nullable)]
    deactivated_at: Option<OffsetDateTime>,
}

impl From<ReaderRecord> for ReaderBody {
    fn from(r: ReaderRecord) -> Self {
        Self {
            card_number: r.card_number.as_str().to_owned(),
            name: r.name,
            phone: r.phone,
            email: r.email,
            date_of_birth: r.date_of_birth,
            category: r.category,
            home_library: r.home_library,
            card_expires_on: r.card_expires_on,
            suspended_until: r.suspended_until,
            blocked: r.blocked_at.is_some(),
            blocked_at: r.blocked_at.map(shown),
            block_reason: r.block_reason,
            registered_at: shown(r.registered_at),
            deactivated_at: r.deactivated_at.map(shown),
        }
    }
}

/// `GET /patrons`.
#[derive(Debug, Object)]
struct ReaderSearchBody {
    /// Readers matching, over all pages.
    total: u64,
    results: Vec<ReaderBody>,
}

/// `PATCH /patrons/{card_number}`: the fields to change (absent: unchanged; `email`
/// null: removed).
#[derive(Debug, Object)]
struct ReaderEditBody {
    #[oai(nullable)]
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 200
    ))]
    name: Option<Text>,
    #[oai(nullable)]
    phone: Option<Text>,
    email: MaybeUndefined<Text>,
    #[oai(nullable)]
    #[oai(validator(pattern = "^[a-z0-9_]{1,32}$"))]
    category: Option<Text>,
    #[oai(nullable)]
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
    home_library: Option<Text>,
}

/// A payment's share of one charge.
#[derive(Debug, Object)]
struct AllocationBody {
    charge_id: i64,
    amount_cents: i64,
}

/// A payment taken from the reader.
#[derive(Debug, Object)]
struct PaymentLineBody {
    amount_cents: i64,
    paid_on: Date,
    /// Where it went, oldest charge first.
    allocations: Vec<AllocationBody>,
}

/// `GET /patrons/{card_number}/payments`.
#[derive(Debug, Object)]
struct PaymentsBody {
    /// Oldest first.
    payments: Vec<PaymentLineBody>,
    /// Their sum.
    total_cents: i64,
}

pub(crate) struct ReadersApi {
    state: Services,
}

impl ReadersApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

fn page_number(raw: Option<i64>, default: u32) -> u32 {
    raw.map_or(default, |n| u32::try_from(n).unwrap_or(0))
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Staff")]
impl ReadersApi {
    /// Finds readers (staff) by the first digits of the card (4 or more) or phone (4 or
    /// more, spaces and `+ - ( )` ignored), the first letters of the name (2 or more,
    /// case-blind) or of the email (3 or more); every criterion given must match. By name,
    /// then card. `page` from 1, `per_page` 1–100 (default 20). Deactivated readers are
    /// found too, with `deactivated_at`. 422 `criteria_missing`, `card_invalid`,
    /// `name_invalid`, `phone_invalid`, `email_invalid`, `page_invalid`,
    /// `per_page_invalid`.
    #[oai(path = "/patrons", method = "get")]
    #[allow(clippy::too_many_arguments)] // one per query parameter, as poem-openapi reads them
    async fn search(
        &self,
        _auth: StaffAuth,
        #[oai(validator(pattern = "^\\s*([0-9]{4,14})?\\s*$"))] card: Query<Option<Text>>,
        #[oai(validator(
            pattern = "^\\s*([^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]{0,98}[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$"
        ))]
        name: Query<Option<Text>>,
        #[oai(validator(pattern = "^\\s*$|^\\s*[ +()-]*(?:[0-9][ +()-]*){4,32}\\s*$"))]
        phone: Query<Option<Text>>,
        #[oai(validator(
            pattern = "^\\s*([^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]{1,98}[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$"
        ))]
        email: Query<Option<Text>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "4294967295")))] page: Query<
            Option<Int>,
        >,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] per_page: Query<
            Option<Int>,
        >,
    ) -> Result<Json<ReaderSearchBody>, ApiError> {
        let form = ReaderSearchForm {
            card: card.0.map(Text::into_string),
            name: name.0.map(Text::into_string),
            phone: phone.0.map(Text::into_string),
            email: email.0.map(Text::into_string),
            page: page_number(Int::get(page.0), 1),
            per_page: page_number(Int::get(per_page.0), 20),
        };
        let found = self.state.search_readers(&form).await?;
        Ok(Json(ReaderSearchBody {
            total: found.total,
            results: found.items.into_iter().map(ReaderBody::from).collect(),
        }))
    }

    /// Edits a reader's name, phone, email, category or home library (staff), with the
    /// registration's checks; answers the record. 404; 409 `reader_deactivated`; 422
    /// `name_missing`, `name_invalid`, `phone_invalid`, `phone_too_short`,
    /// `email_invalid`, `category_invalid`, `home_library_invalid`, `unknown_library`.
    /// Audited `reader.update` with the fields changed.
    #[oai(path = "/patrons/:card_number", method = "patch")]
    async fn edit(
        &self,
        auth: StaffAuth,
        card_number: Path<Text>,
        body: Json<ReaderEditBody>,
    ) -> Result<Json<ReaderBody>, ApiError> {
        let card = card(&card_number.0)?;
        let body = body.0;
        let edit = ReaderEdit {
            name: body.name.map(Text::into_string),
            phone: body.phone.map(Text::into_string),
            email: match body.email {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(text) => Some(Some(text.into_string())),
            },
            category: body.category.map(Text::into_string),
            home_library: body.home_library.map(Text::into_string),
        };
        let state = &self.state;
        let who = &auth.0;
        let record = self
            .state
            .edit_reader(&card, edit, |before, after| {
                let mut changed = serde_json::Map::new();
                if before.name != after.name {
                    changed.insert("name".into(), json!(after.name));
                }
                if before.phone != after.phone {
                    changed.insert("phone".into(), json!(after.phone));
                }
                if before.email != after.email {
                    changed.insert("email".into(), json!(after.email));
                }
                if before.category.as_deref() != Some(after.category.as_str()) {
                    changed.insert("category".into(), json!(after.category));
                }
                if before.home_library.as_deref() != Some(after.home_library.as_str()) {
                    changed.insert("home_library".into(), json!(after.home_library.as_str()));
                }
                audit_record(
                    state,
                    who,
                    "reader.update",
                    format!("card:{}", before.card_number),
                    &json!({ "changed": changed }),
                )
            })
            .await?;
        Ok(Json(record.into()))
    }

    /// Renews a reader's card (staff): valid until five years from today, never less than
    /// it was; answers the record. 404; 409 `reader_deactivated`. Audited
    /// `reader.card_renewal` with the old and new expiry.
    #[oai(path = "/patrons/:card_number/card-renewal", method = "post")]
    async fn renew_card(
        &self,
        auth: StaffAuth,
        card_number: Path<Text>,
    ) -> Result<Json<ReaderBody>, ApiError> {
        let card = card(&card_number.0)?;
        let state = &self.state;
        let who = &auth.0;
        let subject = format!("card:{card}");
        let record = self
            .state
            .renew_card(&card, |before, after| {
                audit_record(
                    state,
                    who,
                    "reader.card_renewal",
                    subject,
                    &json!({ "card_expires_on_before": before.map(|d| d.to_string()),
                             "card_expires_on": after.to_string() }),
                )
            })
            .await?;
        Ok(Json(record.into()))
    }

    /// Deactivates a reader (staff) who has nothing on loan, owes nothing and has no
    /// queued or waiting hold: 204, their sessions end and their Password and PIN stop
    /// working; the record stays readable and searchable. 404; 409
    /// `deactivation_refused` with `reason` and `reasons` from `already_deactivated`,
    /// `loans_open`, `charges_outstanding`, `holds_active`. Audited `reader.deactivate`.
    #[oai(path = "/patrons/:card_number/deactivation", method = "post")]
    async fn deactivate(
        &self,
        auth: StaffAuth,
        card_number: Path<Text>,
    ) -> Result<NoContent, ApiError> {
        let card = card(&card_number.0)?;
        let audit = audit_record(
            &self.state,
            &auth.0,
            "reader.deactivate",
            format!("card:{card}"),
            &json!({}),
        );
        match self.state.deactivate_reader(&card, audit).await? {
            Deactivation::Done => Ok(NoContent::NoContent),
            Deactivation::Refused(reasons) => Err(ApiError::deactivation_refused(reasons)),
            Deactivation::NoReader => Err(ApiError::not_found()),
        }
    }

    /// Lifts a reader's PIN lock (staff): the PIN, disabled after 10 consecutive
    /// failures, works again as it was; 204 also when it was not locked. 404. Audited
    /// `reader.pin_unlock`.
    #[oai(path = "/patrons/:card_number/pin-lock", method = "delete")]
    async fn lift_pin_lock(
        &self,
        auth: StaffAuth,
        card_number: Path<Text>,
    ) -> Result<NoContent, ApiError> {
        let card = card(&card_number.0)?;
        let audit = audit_record(
            &self.state,
            &auth.0,
            "reader.pin_unlock",
            format!("card:{card}"),
            &json!({}),
        );
        self.state.lift_pin_lock(&card, audit).await?;
        Ok(NoContent::NoContent)
    }

    /// A reader's payments (staff), oldest first, each with the charges it settled. 404.
    #[oai(
        path = "/patrons/:card_number/payments",
        method = "get",
        tag = "ApiTags::Fines"
    )]
    async fn payments(
        &self,
        _auth: StaffAuth,
        card_number: Path<Text>,
    ) -> Result<Json<PaymentsBody>, ApiError> {
        let patron = reader_by_card(&self.state, &card_number.0).await?;
        let ledger = self.state.accounts.ledger(patron).await?;
        let payments: Vec<PaymentLineBody> = ledger
            .payments()
            .iter()
            .map(|p| PaymentLineBody {
                amount_cents: p.amount.cents(),
                paid_on: p.paid_on,
                allocations: p
                    .allocations
                    .iter()
                    .map(|a| AllocationBody {
                        charge_id: a.charge.0,
                        amount_cents: a.amount.cents(),
                    })
                    .collect(),
            })
            .collect();
        let total: Money = ledger.payments().iter().map(|p| p.amount).sum();
        Ok(Json(PaymentsBody {
            payments,
            total_cents: total.cents(),
        }))
    }

    /// A reader's reading history (staff), as `GET /me/reading-history` shows it to the
    /// reader: nothing while the reader keeps none. 404.
    #[oai(path = "/patrons/:card_number/reading-history", method = "get")]
    async fn reading_history(
        &self,
        _auth: StaffAuth,
        card_number: Path<Text>,
    ) -> Result<Json<ReadingHistoryBody>, ApiError> {
        let patron = reader_by_card(&self.state, &card_number.0).await?;
        reading_history_of(&self.state, patron).await
    }
}
