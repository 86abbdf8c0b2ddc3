//! Staff circulation: checkout, checkin, renewal at the counter, the circulation rules, a
//! reader's record, payments and waivers. Every change is written to the audit log.

use std::collections::BTreeMap;

use library_circulation::ports::CirculationChannel;
use library_circulation::service::{
    CheckinRequest, CheckoutOutcome, CheckoutRequest, RenewRequest,
};
use library_circulation::{ItemStatus, ItemType, ReaderCategory, RenewalBase, RuleScope, RuleSet};
use library_core::{LoanId, Money};
use library_fines::ChargeId;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use super::ApiTags;
use super::common::{
    audit_record, barcode, card, library_code, reader_by_card, shown, staff_actor, today,
};
use super::types::{Declared, Int, NoContent, Text};
use crate::auth::StaffAuth;
use crate::error::ApiError;
use library_app::{Return, Services};
use library_circulation::overrides::{OverridableRefusal, Override};
use library_circulation::service::DeclareLostRequest;

/// `POST /circulation/checkouts`.
#[derive(Debug, Object)]
struct CheckoutBody {
    card_number: Text,
    item_barcode: Text,
    /// The lending library (where the checkout happens).
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
    library_code: Text,
    /// Staff stepping over named refusals (an `admin`, or a `librarian` granted
    /// `override`; others get 403): `quota_reached`, `fines_over_limit`,
    /// `on_hold_for_another`.
    #[oai(nullable, rename = "override")]
    overriding: Option<OverrideBody>,
}

/// An override: the refusals stepped over and why.
#[derive(Debug, Object)]
pub(super) struct OverrideBody {
    /// Codes of the refusals to step over (`quota_reached`, `fines_over_limit`,
    /// `on_hold_for_another`, `too_many_renewals`).
    #[oai(validator(
        min_items = 1,
        pattern = "^\\s*(quota_reached|fines_over_limit|on_hold_for_another|too_many_renewals)\\s*$"
    ))]
    refusals: Declared<Vec<Text>>,
    /// Why (1 to 500 characters; audited).
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 500
    ))]
    reason: Text,
}

impl OverrideBody {
    /// The override, if `who` may make one: 403 otherwise; 422 `override_refusal_invalid`
    /// (empty, or a refusal that cannot be overridden), `override_reason_missing`,
    /// `override_reason_invalid`.
    fn checked(self, who: &crate::auth::Principal) -> Result<Override, ApiError> {
        if !who
            .staff
            .as_ref()
            .is_some_and(library_app::roles::may_override)
        {
            return Err(ApiError::forbidden());
        }
        let mut violations = Vec::new();
        let refusals: Option<Vec<OverridableRefusal>> = self
            .refusals
            .0
            .iter()
            .map(|code| OverridableRefusal::parse(code.0.trim()))
            .collect();
        let refusals = refusals.filter(|r| !r.is_empty());
        if refusals.is_none() {
            violations.push("override_refusal_invalid");
        }
        let reason = self.reason.0.trim().to_owned();
        if reason.is_empty() {
            violations.push("override_reason_missing");
        } else if reason.chars().count() > 500 || reason.chars().any(char::is_control) {
            violations.push("override_reason_invalid");
        }
        match refusals {
            Some(refusals) if violations.is_empty() => Ok(Override { refusals, reason }),
            _ => Err(ApiError::validation_failed(violations)),
        }
    }
}

/// A loan made.
#[derive(Debug, Object)]
pub(super) struct LoanMadeBody {
    loan_id: i64,
    /// 23:59:59 local time on the due date.
    due_at: OffsetDateTime,
    /// The refusals staff overrode to make the loan (empty without an override).
    overridden: Vec<String>,
}

#[derive(ApiResponse)]
pub(super) enum LoanMade {
    /// Lent.
    #[oai(status = 201)]
    Created(Json<LoanMadeBody>),
}

impl LoanMade {
    /// The answer to a checkout (at the counter, or collecting a hold).
    pub(super) fn of(outcome: &CheckoutOutcome) -> Self {
        LoanMade::Created(Json(LoanMadeBody {
            loan_id: outcome.loan.id.get(),
            due_at: shown(outcome.loan.due.at),
            overridden: outcome
                .overridden
                .iter()
                .map(|r| r.code().to_owned())
                .collect(),
        }))
    }
}

/// `POST /circulation/checkins`.
#[derive(Debug, Object)]
struct CheckinBody {
    item_barcode: Text,
    /// Where the item is returned.
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
    library_code: Text,
    /// Book-drop return: when the drop was last emptied. Not in the future, not before the
    /// checkout.
    #[oai(nullable)]
    returned_at: Option<OffsetDateTime>,
}

/// A lost copy found: its replacement and processing lines.
#[derive(Debug, Object)]
struct FoundBody {
    /// What was unpaid on them, written off.
    written_off_cents: i64,
    /// What the reader had paid on them: owed back at the counter.
    owed_back_cents: i64,
}

/// A claim of return waiting for review.
#[derive(Debug, Object)]
struct ClaimBody {
    loan_id: i64,
    card_number: String,
    item_barcode: String,
    title: String,
    /// The lending library.
    library_code: String,
    due_at: OffsetDateTime,
    claimed_at: OffsetDateTime,
}

/// `GET /circulation/claims-returned`.
#[derive(Debug, Object)]
struct ClaimsBody {
    claims: Vec<ClaimBody>,
}

/// What declaring a loan's item lost charged.
#[derive(Debug, Object)]
pub(super) struct LostBody {
    loan_id: i64,
    /// The overdue fine to today, fixed.
    fine_cents: i64,
    /// The replacement cost.
    replacement_cents: i64,
    /// The processing fee (20 % of the replacement cost).
    processing_cents: i64,
}

impl LostBody {
    pub(super) fn of(outcome: &library_circulation::service::LostOutcome) -> Self {
        Self {
            loan_id: outcome.loan.id.get(),
            fine_cents: outcome.fine.cents(),
            replacement_cents: outcome.replacement.cents(),
            processing_cents: outcome.processing.cents(),
        }
    }
}

/// The hold a returned copy was trapped for.
#[derive(Debug, Object)]
struct TrappedHoldBody {
    id: i64,
    pickup_library: String,
    /// The last day to collect it.
    #[oai(nullable)]
    pickup_by: Option<Date>,
}

/// A return and what it cost, or the arrival of a copy in transit, and where the copy
/// goes.
#[derive(Debug, Object)]
struct CheckinResultBody {
    /// The loan returned; null for an arrival (a copy in transit scanned in at its
    /// destination: no loan, no fine).
    #[oai(nullable)]
    loan_id: Option<i64>,
    overdue_days: u32,
    chargeable_days: u32,
    fine_cents: i64,
    /// The first day the reader may borrow again, when this return suspends them.
    #[oai(nullable, skip_serializing_if_is_none)]
    suspended_until: Option<Date>,
    /// The hold the copy was trapped for (it goes to the hold shelf).
    #[oai(nullable, skip_serializing_if_is_none)]
    hold: Option<TrappedHoldBody>,
    /// A copy declared lost, found and returned: what its lost-item lines gave back.
    #[oai(nullable, skip_serializing_if_is_none)]
    found: Option<FoundBody>,
    /// The copy's status now: `available` (on the shelf here), `on_hold_shelf` (trapped
    /// for `hold`) or `in_transit` (to `in_transit_to`).
    item_status: String,
    /// The library the copy is to be sent to; null unless it is in transit.
    #[oai(nullable)]
    in_transit_to: Option<String>,
    /// The queued hold the copy travels for (to its pickup library); null when it travels
    /// home, or is not in transit.
    #[oai(nullable)]
    in_transit_for_hold: Option<i64>,
}

/// A renewed loan.
#[derive(Debug, Object)]
pub(crate) struct RenewedBody {
    pub(crate) due_at: OffsetDateTime,
    pub(crate) renewals: u32,
}

/// A renewal made by staff stepping over named refusals.
#[derive(Debug, Object)]
struct OverriddenRenewalBody {
    due_at: OffsetDateTime,
    renewals: u32,
    /// The refusals overridden.
    overridden: Vec<String>,
}

/// A rule scope; a dimension left out means "any".
#[derive(Debug, Clone, Object)]
struct ScopeBody {
    #[oai(nullable, skip_serializing_if_is_none)]
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
    library_code: Option<Text>,
    #[oai(nullable, skip_serializing_if_is_none)]
    #[oai(validator(pattern = "^[a-z0-9_]{1,32}$"))]
    category: Option<Text>,
    #[oai(nullable, skip_serializing_if_is_none)]
    #[oai(validator(pattern = "^[a-z0-9_]{1,32}$"))]
    item_type: Option<Text>,
}

/// `PUT /circulation/rules`.
#[derive(Debug, Object)]
struct PutRulesBody {
    scope: ScopeBody,
    /// Rule name → value; `null` removes the rule at this scope.
    rules: BTreeMap<String, Value>,
}

/// The rules stored at one scope.
#[derive(Debug, Object)]
struct ScopedRulesBody {
    scope: ScopeBody,
    rules: BTreeMap<String, Value>,
}

/// `GET /circulation/rules`.
#[derive(Debug, Object)]
struct AllRulesBody {
    /// Every scope that stores at least one rule.
    scopes: Vec<ScopedRulesBody>,
}

/// `GET /patrons/{card_number}`.
#[derive(Debug, Object)]
struct PatronBody {
    id: i64,
    /// The record, as the staff search shows it.
    #[oai(flatten)]
    record: super::readers::ReaderBody,
    /// Items on loan now.
    loans: u32,
    /// Unpaid charges plus fines accruing on open loans.
    outstanding_cents: i64,
    /// The PIN is disabled by consecutive failures; staff may lift the lock
    /// (`DELETE /patrons/{card_number}/pin-lock`).
    pin_locked: bool,
}

/// `POST /patrons/{card_number}/payments`.
#[derive(Debug, Object)]
struct PaymentBody {
    #[oai(validator(minimum(value = "1")))]
    amount_cents: Int,
}

/// A payment taken.
#[derive(Debug, Object)]
struct PaymentResultBody {
    amount_cents: i64,
    /// What is still outstanding (charges and accruing fines).
    outstanding_cents: i64,
}

#[derive(ApiResponse)]
enum PaymentTaken {
    /// Paid; the oldest charges are settled first.
    #[oai(status = 201)]
    Created(Json<PaymentResultBody>),
}

/// `POST /fines/{id}/waiver`.
#[derive(Debug, Object)]
struct WaiverBody {
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$"
    ))]
    reason: Text,
}

/// A waiver.
#[derive(Debug, Object)]
struct WaiverResultBody {
    id: i64,
    waived_cents: i64,
    status: String,
}

/// The rule names of the contract, in its order.
const RULE_NAMES: [&str; 17] = [
    "loan_days",
    "renewals_allowed",
    "renewal_base",
    "renew_before_days",
    "quota",
    "holds_allowed",
    "pickup_days",
    "fine_per_day_cents",
    "grace_days",
    "max_fine_cents",
    "block_threshold_cents",
    "suspension_days_per_day",
    "max_suspension_days",
    "count_closed_days",
    "hold_fee_cents",
    "replacement_cost_cents",
    "floating",
];

/// The rules set in `rules`, by wire name.
fn rules_json(rules: &RuleSet) -> BTreeMap<String, Value> {
    let n = |v: Option<u32>| v.map(Value::from);
    let m = |v: Option<Money>| v.map(|m| Value::from(m.cents()));
    let values = [
        n(rules.loan_days),
        n(rules.renewals_allowed),
        rules.renewal_base.map(|b| Value::from(b.as_str())),
        n(rules.renew_before_days),
        n(rules.quota),
        n(rules.holds_allowed),
        n(rules.pickup_days),
        m(rules.fine_per_day),
        n(rules.grace_days),
        m(rules.max_fine),
        m(rules.block_threshold),
        n(rules.suspension_days_per_day),
        n(rules.max_suspension_days),
        rules.count_closed_days.map(Value::from),
        m(rules.hold_fee),
        m(rules.replacement_cost),
        rules.floating.map(Value::from),
    ];
    RULE_NAMES
        .into_iter()
        .zip(values)
        .filter_map(|(name, v)| v.map(|v| (name.to_owned(), v)))
        .collect()
}

/// Sets rule `name` in `set` from a JSON value. Wrong JSON type: 400; a number out of
/// range: 422 `rule_value_invalid`; an unknown name: 422 `unknown_rule`.
fn set_rule(set: &mut RuleSet, name: &str, value: &Value) -> Result<(), ApiError> {
    let invalid = || ApiError::validation_failed(["rule_value_invalid"]);
    let count = || -> Result<u32, ApiError> {
        match value {
            Value::Number(n) if n.is_u64() => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(invalid),
            Value::Number(n) if n.is_i64() => Err(invalid()),
            _ => Err(ApiError::bad_request()),
        }
    };
    let cents = || -> Result<Money, ApiError> {
        match value {
            Value::Number(n) if n.is_u64() => n
                .as_u64()
                .and_then(|n| i64::try_from(n).ok())
                .map(Money::from_cents)
                .ok_or_else(invalid),
            Value::Number(n) if n.is_i64() => Err(invalid()),
            _ => Err(ApiError::bad_request()),
        }
    };
    match name {
        "loan_days" => set.loan_days = Some(count()?),
        "renewals_allowed" => set.renewals_allowed = Some(count()?),
        "renewal_base" => {
            let text = value.as_str().ok_or_else(ApiError::bad_request)?;
            set.renewal_base = Some(
                text.parse::<RenewalBase>()
                    .map_err(|_| ApiError::bad_request())?,
            );
        }
        "renew_before_days" => set.renew_before_days = Some(count()?),
        "quota" => set.quota = Some(count()?),
        "holds_allowed" => set.holds_allowed = Some(count()?),
        "pickup_days" => set.pickup_days = Some(count()?),
        "fine_per_day_cents" => set.fine_per_day = Some(cents()?),
        "grace_days" => set.grace_days = Some(count()?),
        "max_fine_cents" => set.max_fine = Some(cents()?),
        "block_threshold_cents" => set.block_threshold = Some(cents()?),
        "suspension_days_per_day" => set.suspension_days_per_day = Some(count()?),
        "max_suspension_days" => set.max_suspension_days = Some(count()?),
        "count_closed_days" => {
            set.count_closed_days = Some(value.as_bool().ok_or_else(ApiError::bad_request)?);
        }
        "hold_fee_cents" => set.hold_fee = Some(cents()?),
        "replacement_cost_cents" => set.replacement_cost = Some(cents()?),
        "floating" => {
            set.floating = Some(value.as_bool().ok_or_else(ApiError::bad_request)?);
        }
        _ => return Err(ApiError::validation_failed(["unknown_rule"])),
    }
    Ok(())
}

fn parse_scope(body: &ScopeBody) -> Result<RuleScope, ApiError> {
    let mut violations = Vec::new();
    let library = body
        .library_code
        .as_ref()
        .map(|c| library_code(&c.0, "library_code_invalid"))
        .transpose()
        .map_err(|_| violations.push("library_code_invalid"))
        .ok()
        .flatten();
    let category = body
        .category
        .as_ref()
        .map(|c| ReaderCategory::parse(&c.0))
        .transpose()
        .map_err(|_| violations.push("category_invalid"))
        .ok()
        .flatten();
    let item_type = body
        .item_type
        .as_ref()
        .map(|c| ItemType::parse(&c.0))
        .transpose()
        .map_err(|_| violations.push("item_type_invalid"))
        .ok()
        .flatten();
    if violations.is_empty() {
        Ok(RuleScope {
            library,
            category,
            item_type,
        })
    } else {
        Err(ApiError::validation_failed(violations))
    }
}

fn scope_body(scope: &RuleScope) -> ScopeBody {
    ScopeBody {
        library_code: scope.library.as_ref().map(|c| Text(c.as_str().to_owned())),
        category: scope.category.as_ref().map(|c| Text(c.as_str().to_owned())),
        item_type: scope
            .item_type
            .as_ref()
            .map(|c| Text(c.as_str().to_owned())),
    }
}

/// An item status's wire name (docs/http.md, Checkin).
fn item_status_name(status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::Available => "available",
        ItemStatus::OnLoan => "on_loan",
        ItemStatus::OnHoldShelf => "on_hold_shelf",
        ItemStatus::InTransit => "in_transit",
        ItemStatus::Lost => "lost",
        ItemStatus::NotForLoan => "not_for_loan",
    }
}

pub(crate) struct CirculationApi {
    state: Services,
}

impl CirculationApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Circulation")]
impl CirculationApi {
    /// Lends an item (staff). 404 for an unknown card or barcode; 409 `checkout_refused`
    /// with `reason`; 422 `unknown_library`. Checking out the copy waiting on the hold
    /// shelf for this reader collects their hold.
    #[oai(path = "/circulation/checkouts", method = "post")]
    async fn checkout(
        &self,
        auth: StaffAuth,
        body: Json<CheckoutBody>,
    ) -> Result<LoanMade, ApiError> {
        let body = body.0;
        let overriding = body.overriding.map(|o| o.checked(&auth.0)).transpose()?;
        let req = CheckoutRequest {
            card_number: card(&body.card_number.0)?,
            item_barcode: barcode(&body.item_barcode.0)?,
            library: library_code(&body.library_code.0, "unknown_library")?,
        };
        let by = staff_actor(&auth.0)?;
        let outcome = match &overriding {
            None => self.state.circulation.checkout(req, &by).await?,
            Some(o) => {
                self.state
                    .circulation
                    .checkout_overriding(req, &by, o)
                    .await?
            }
        };
        Ok(LoanMade::of(&outcome))
    }

    /// Returns an item (staff), at any library; `returned_at` for book-drop returns. The
    /// fine is fixed as a charge; the copy is trapped for the first queued hold picked up
    /// here, or sent in transit to that hold's library, or home (unless its type floats).
    /// A copy in transit scanned in at its destination is received (`loan_id` null). 409
    /// `checkin_refused` (`not_on_loan`) for a copy neither on loan nor in transit to
    /// `library_code`.
    #[oai(path = "/circulation/checkins", method = "post")]
    async fn checkin(
        &self,
        auth: StaffAuth,
        body: Json<CheckinBody>,
    ) -> Result<Json<CheckinResultBody>, ApiError> {
        let body = body.0;
        let req = CheckinRequest {
            item_barcode: barcode(&body.item_barcode.0)?,
            library: library_code(&body.library_code.0, "unknown_library")?,
            returned_at: body.returned_at,
        };
        let trapped = |h: library_circulation::Hold| TrappedHoldBody {
            id: h.id.get(),
            pickup_library: h.pickup_library.as_str().to_owned(),
            pickup_by: h.pickup_by(),
        };
        Ok(Json(
            match self.state.check_in(req, &staff_actor(&auth.0)?).await? {
                Return::Returned(outcome) => CheckinResultBody {
                    loan_id: outcome.loan.as_ref().map(|l| l.id.get()),
                    overdue_days: outcome.overdue_days,
                    chargeable_days: outcome.chargeable_days,
                    fine_cents: outcome.fine.cents(),
                    suspended_until: outcome.suspended_until,
                    hold: outcome.hold.map(trapped),
                    item_status: item_status_name(outcome.placement.status).to_owned(),
                    in_transit_to: outcome
                        .placement
                        .transit_to
                        .as_ref()
                        .map(|c| c.as_str().to_owned()),
                    in_transit_for_hold: outcome.transit_hold.as_ref().map(|h| h.id.get()),
                    found: None,
                },
                Return::Found(found) => CheckinResultBody {
                    loan_id: Some(found.loan.id.get()),
                    overdue_days: 0,
                    chargeable_days: 0,
                    fine_cents: 0,
                    suspended_until: None,
                    item_status: item_status_name(found.routing.placement.status).to_owned(),
                    in_transit_to: found
                        .routing
                        .placement
                        .transit_to
                        .as_ref()
                        .map(|c| c.as_str().to_owned()),
                    in_transit_for_hold: found.routing.travels_for.as_ref().map(|h| h.id.get()),
                    hold: found.routing.trapped.map(trapped),
                    found: Some(FoundBody {
                        written_off_cents: found.written_off.cents(),
                        owed_back_cents: found.owed_back.cents(),
                    }),
                },
            },
        ))
    }

    /// Renews a loan past named refusals (an `admin`, or a `librarian` granted
    /// `override`; others 403): `too_many_renewals`, `on_hold_for_another`,
    /// `fines_over_limit`, with a reason; audited with both. 404; 409 `renewal_refused`
    /// for a refusal not named (never past `patron_suspended`, `card_expired`,
    /// `too_soon`); 422 `override_refusal_invalid`, `override_reason_missing`,
    /// `override_reason_invalid`.
    #[oai(path = "/circulation/loans/:loan_id/renewal/override", method = "post")]
    async fn renew_overriding(
        &self,
        auth: StaffAuth,
        loan_id: Path<i64>,
        body: Json<OverrideBody>,
    ) -> Result<Json<OverriddenRenewalBody>, ApiError> {
        let overriding = body.0.checked(&auth.0)?;
        let outcome = self
            .state
            .circulation
            .renew_overriding(
                RenewRequest {
                    loan: LoanId(loan_id.0),
                    patron: None,
                    channel: CirculationChannel::Counter,
                },
                &staff_actor(&auth.0)?,
                &overriding,
            )
            .await?;
        Ok(Json(OverriddenRenewalBody {
            due_at: shown(outcome.loan.due.at),
            renewals: outcome.loan.renewals,
            overridden: outcome
                .overridden
                .iter()
                .map(|r| r.code().to_owned())
                .collect(),
        }))
    }

    /// Declares a loan's item lost (staff): the overdue fine to today, the replacement
    /// cost and a 20 % processing fee charged, each its own line; the loan ends and the
    /// item is `lost`. 404 for an unknown or returned loan. Audited `circulation.lost`.
    #[oai(path = "/circulation/loans/:loan_id/lost", method = "post")]
    async fn declare_lost(
        &self,
        auth: StaffAuth,
        loan_id: Path<i64>,
    ) -> Result<Json<LostBody>, ApiError> {
        let outcome = self
            .state
            .circulation
            .declare_lost(
                DeclareLostRequest {
                    loan: LoanId(loan_id.0),
                    patron: None,
                },
                Some(&staff_actor(&auth.0)?),
            )
            .await?;
        Ok(Json(LostBody::of(&outcome)))
    }

    /// Takes a reader's claim to have returned a loan's item (staff): the loan ends with no
    /// charge at all and the item is `lost` (missing) while staff review it. Found later,
    /// a checkin takes it back; declared lost after review
    /// (`POST /circulation/loans/{loan_id}/lost`), the fine counts to the claim's day.
    /// 204; 404 for an unknown or returned loan. Audited `circulation.claim_returned`.
    #[oai(path = "/circulation/loans/:loan_id/claim-returned", method = "post")]
    async fn claim_returned(
        &self,
        auth: StaffAuth,
        loan_id: Path<i64>,
    ) -> Result<NoContent, ApiError> {
        self.state
            .circulation
            .claim_returned(LoanId(loan_id.0), &staff_actor(&auth.0)?)
            .await?;
        Ok(NoContent::NoContent)
    }

    /// The claims of return waiting for review (staff): loans ended on a reader's claim
    /// whose copy has neither turned up nor been declared lost, oldest claim first.
    #[oai(path = "/circulation/claims-returned", method = "get")]
    async fn claims_returned(&self, _auth: StaffAuth) -> Result<Json<ClaimsBody>, ApiError> {
        let claims = self
            .state
            .records
            .claims_returned()
            .await?
            .into_iter()
            .map(|c| ClaimBody {
                loan_id: c.loan.get(),
                card_number: c.card_number.as_str().to_owned(),
                item_barcode: c.item_barcode,
                title: c.title,
                library_code: c.library,
                due_at: shown(c.due_at),
                claimed_at: shown(c.claimed_at),
            })
            .collect();
        Ok(Json(ClaimsBody { claims }))
    }

    /// Renews any loan at the counter (staff). 404 for an unknown or returned loan; 409
    /// `renewal_refused` with `reason`.
    #[oai(path = "/circulation/loans/:loan_id/renewal", method = "post")]
    async fn renew(
        &self,
        auth: StaffAuth,
        loan_id: Path<i64>,
    ) -> Result<Json<RenewedBody>, ApiError> {
        let outcome = self
            .state
            .circulation
            .renew(
                RenewRequest {
                    loan: LoanId(loan_id.0),
                    patron: None,
                    channel: CirculationChannel::Counter,
                },
                Some(&staff_actor(&auth.0)?),
            )
            .await?;
        Ok(Json(RenewedBody {
            due_at: shown(outcome.loan.due.at),
            renewals: outcome.loan.renewals,
        }))
    }

    /// Sets rules at one scope (staff): named rules are set, `null` removes one, rules not
    /// named are unchanged. Answers the rules now stored at that scope. An unknown rule
    /// name is 422 `unknown_rule`; a negative or too large number 422
    /// `rule_value_invalid`; a value of the wrong JSON type (or an unknown `renewal_base`)
    /// 400.
    #[oai(path = "/circulation/rules", method = "put")]
    async fn put_rules(
        &self,
        auth: StaffAuth,
        body: Json<PutRulesBody>,
    ) -> Result<Json<ScopedRulesBody>, ApiError> {
        let body = body.0;
        let scope = parse_scope(&body.scope)?;
        let mut set = RuleSet::default();
        let mut remove = Vec::new();
        for (name, value) in &body.rules {
            let Some(known) = RULE_NAMES.iter().find(|n| **n == name.as_str()) else {
                return Err(ApiError::validation_failed(["unknown_rule"]));
            };
            if value.is_null() {
                remove.push(*known);
            } else {
                set_rule(&mut set, name, value)?;
            }
        }
        let audit = audit_record(
            &self.state,
            &auth.0,
            "rules.put",
            "rules".to_owned(),
            &json!({"scope": {
                        "library_code": scope.library.as_ref().map(|c| c.as_str()),
                        "category": scope.category.as_ref().map(|c| c.as_str()),
                        "item_type": scope.item_type.as_ref().map(|c| c.as_str())},
                   "rules": body.rules}),
        );
        self.state
            .rules
            .update(&scope, &set, &remove, audit)
            .await?;
        let stored = self
            .state
            .rules
            .list()
            .await?
            .into_iter()
            .find(|s| s.scope == scope)
            .map(|s| s.rules)
            .unwrap_or_default();
        Ok(Json(ScopedRulesBody {
            scope: scope_body(&scope),
            rules: rules_json(&stored),
        }))
    }

    /// Every scope with the rules stored there (staff).
    #[oai(path = "/circulation/rules", method = "get")]
    async fn get_rules(&self, _auth: StaffAuth) -> Result<Json<AllRulesBody>, ApiError> {
        let scopes = self
            .state
            .rules
            .list()
            .await?
            .into_iter()
            .map(|s| ScopedRulesBody {
                scope: scope_body(&s.scope),
                rules: rules_json(&s.rules),
            })
            .collect();
        Ok(Json(AllRulesBody { scopes }))
    }

    /// A reader's record (staff): profile, loans, outstanding, suspension, whether the PIN
    /// is locked.
    #[oai(path = "/patrons/:card_number", method = "get", tag = "ApiTags::Staff")]
    async fn patron(
        &self,
        _auth: StaffAuth,
        card_number: Path<Text>,
    ) -> Result<Json<PatronBody>, ApiError> {
        let card = card(&card_number.0)?;
        let record = self.state.reader_record(&card).await?;
        let pin_locked = self.state.reader_pin_locked(&card).await?;
        let account = self.state.circulation.account(record.id).await?;
        Ok(Json(PatronBody {
            id: record.id.get(),
            record: record.into(),
            loans: account
                .as_ref()
                .map_or(0, |a| u32::try_from(a.loans.len()).unwrap_or(u32::MAX)),
            outstanding_cents: account.map_or(0, |a| a.outstanding.cents()),
            pin_locked,
        }))
    }

    /// Lifts a self-service station's block on a reader's card (staff): 204; 404 for an
    /// unknown card or a card that is not blocked.
    #[oai(
        path = "/patrons/:card_number/block",
        method = "delete",
        tag = "ApiTags::Staff"
    )]
    async fn unblock_patron(
        &self,
        auth: StaffAuth,
        card_number: Path<Text>,
    ) -> Result<NoContent, ApiError> {
        let card = card(&card_number.0)?;
        let audit = audit_record(
            &self.state,
            &auth.0,
            "reader.unblock",
            format!("card:{card}"),
            &json!({}),
        );
        if !self.state.readers.unblock(&card, audit).await? {
            return Err(ApiError::not_found());
        }
        Ok(NoContent::NoContent)
    }

    /// Takes a payment (staff): settles the oldest charges first. 422
    /// `amount_not_positive`, `amount_exceeds_outstanding` (fines still accruing on open
    /// loans cannot be paid before they are fixed).
    #[oai(
        path = "/patrons/:card_number/payments",
        method = "post",
        tag = "ApiTags::Fines"
    )]
    async fn pay(
        &self,
        auth: StaffAuth,
        card_number: Path<Text>,
        body: Json<PaymentBody>,
    ) -> Result<PaymentTaken, ApiError> {
        let patron = reader_by_card(&self.state, &card_number.0).await?;
        let amount = Money::from_cents(body.0.amount_cents.0);
        let record = audit_record(
            &self.state,
            &auth.0,
            "fine.payment",
            format!("patron:{}", patron.get()),
            &json!({"amount_cents": amount.cents()}),
        );
        let paid = self
            .state
            .accounts
            .pay(patron, amount, today(&self.state), record)
            .await?;
        let outstanding = self
            .state
            .circulation
            .account(patron)
            .await?
            .map_or(Money::ZERO, |a| a.outstanding);
        Ok(PaymentTaken::Created(Json(PaymentResultBody {
            amount_cents: paid.cents(),
            outstanding_cents: outstanding.cents(),
        })))
    }

    /// Waives what is left of a charge (staff), with a reason; audited with the staff id.
    /// 404 for an unknown charge; 422 `reason_missing`, `nothing_outstanding`.
    #[oai(path = "/fines/:id/waiver", method = "post", tag = "ApiTags::Fines")]
    async fn waive(
        &self,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<WaiverBody>,
    ) -> Result<Json<WaiverResultBody>, ApiError> {
        let charge = ChargeId(id.0);
        let reason = body.0.reason.0.trim().to_owned();
        if reason.chars().any(char::is_control) || reason.chars().count() > 500 {
            return Err(ApiError::validation_failed(["reason_invalid"]));
        }
        let patron = self
            .state
            .accounts
            .charge_owner(charge)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let record = |waived: Money| {
            audit_record(
                &self.state,
                &auth.0,
                "fine.waive",
                format!("fine:{}", id.0),
                &json!({"patron_id": patron.get(), "waived_cents": waived.cents(),
                        "reason": reason}),
            )
        };
        let waived = self
            .state
            .accounts
            .waive(patron, charge, &reason, today(&self.state), &record)
            .await?;
        Ok(Json(WaiverResultBody {
            id: id.0,
            waived_cents: waived.cents(),
            status: "waived".to_owned(),
        }))
    }
}
