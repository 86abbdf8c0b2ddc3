//! Staff circulation: checkout, checkin, renewal at the counter, the circulation rules, a
//! reader's record, payments and waivers. Every change is written to the audit log.

use std::collections::BTreeMap;

use library_circulation::ports::CirculationChannel;
use library_circulation::service::{
    CheckinRequest, CheckoutOutcome, CheckoutRequest, RenewRequest,
};
use library_circulation::{ItemType, ReaderCategory, RenewalBase, RuleScope, RuleSet};
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
use super::types::{NoContent, Text};
use crate::auth::StaffAuth;
use crate::error::ApiError;
use library_app::Services;

/// `POST /circulation/checkouts`.
#[derive(Debug, Object)]
struct CheckoutBody {
    card_number: Text,
    item_barcode: Text,
    /// The lending library (where the checkout happens).
    library_code: Text,
}

/// A loan made.
#[derive(Debug, Object)]
pub(super) struct LoanMadeBody {
    loan_id: i64,
    /// 23:59:59 local time on the due date.
    due_at: OffsetDateTime,
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
        }))
    }
}

/// `POST /circulation/checkins`.
#[derive(Debug, Object)]
struct CheckinBody {
    item_barcode: Text,
    /// Where the item is returned.
    library_code: Text,
    /// Book-drop return: when the drop was last emptied. Not in the future, not before the
    /// checkout.
    returned_at: Option<OffsetDateTime>,
}

/// The hold a returned copy was trapped for.
#[derive(Debug, Object)]
struct TrappedHoldBody {
    id: i64,
    pickup_library: String,
    /// The last day to collect it.
    pickup_by: Option<Date>,
}

/// A return and what it cost.
#[derive(Debug, Object)]
struct CheckinResultBody {
    loan_id: i64,
    overdue_days: u32,
    chargeable_days: u32,
    fine_cents: i64,
    /// The first day the reader may borrow again, when this return suspends them.
    #[oai(skip_serializing_if_is_none)]
    suspended_until: Option<Date>,
    /// The hold the copy was trapped for (it goes to the hold shelf).
    #[oai(skip_serializing_if_is_none)]
    hold: Option<TrappedHoldBody>,
}

/// A renewed loan.
#[derive(Debug, Object)]
pub(crate) struct RenewedBody {
    pub(crate) due_at: OffsetDateTime,
    pub(crate) renewals: u32,
}

/// A rule scope; a dimension left out means "any".
#[derive(Debug, Clone, Object)]
struct ScopeBody {
    #[oai(skip_serializing_if_is_none)]
    library_code: Option<Text>,
    #[oai(skip_serializing_if_is_none)]
    category: Option<Text>,
    #[oai(skip_serializing_if_is_none)]
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
    card_number: String,
    name: String,
    email: Option<String>,
    category: Option<String>,
    home_library: Option<String>,
    card_expires_on: Option<Date>,
    suspended_until: Option<Date>,
    /// The card is blocked by a self-service station (SIP2 `01` Block Patron): checkouts,
    /// renewals and holds are refused with `patron_suspended` until staff lift it with
    /// `DELETE /patrons/{card_number}/block`.
    blocked: bool,
    /// Items on loan now.
    loans: u32,
    /// Unpaid charges plus fines accruing on open loans.
    outstanding_cents: i64,
}

/// `POST /patrons/{card_number}/payments`.
#[derive(Debug, Object)]
struct PaymentBody {
    amount_cents: i64,
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
const RULE_NAMES: [&str; 15] = [
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
        let req = CheckoutRequest {
            card_number: card(&body.card_number.0)?,
            item_barcode: barcode(&body.item_barcode.0)?,
            library: library_code(&body.library_code.0, "unknown_library")?,
        };
        let outcome = self
            .state
            .circulation
            .checkout(req, &staff_actor(&auth.0)?)
            .await?;
        Ok(LoanMade::of(&outcome))
    }

    /// Returns an item (staff), at any library; `returned_at` for book-drop returns. The
    /// fine is fixed as a charge; the copy is trapped for the first queued hold.
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
        let outcome = self
            .state
            .circulation
            .checkin(req, &staff_actor(&auth.0)?)
            .await?;
        Ok(Json(CheckinResultBody {
            loan_id: outcome.loan.id.get(),
            overdue_days: outcome.overdue_days,
            chargeable_days: outcome.chargeable_days,
            fine_cents: outcome.fine.cents(),
            suspended_until: outcome.suspended_until,
            hold: outcome.hold.map(|h| TrappedHoldBody {
                id: h.id.get(),
                pickup_library: h.pickup_library.as_str().to_owned(),
                pickup_by: h.pickup_by(),
            }),
        }))
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

    /// A reader's record (staff): profile, loans, outstanding, suspension.
    #[oai(path = "/patrons/:card_number", method = "get", tag = "ApiTags::Staff")]
    async fn patron(
        &self,
        _auth: StaffAuth,
        card_number: Path<String>,
    ) -> Result<Json<PatronBody>, ApiError> {
        let patron = reader_by_card(&self.state, &card_number.0).await?;
        let profile = self
            .state
            .readers
            .profile(patron)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let account = self.state.circulation.account(patron).await?;
        Ok(Json(PatronBody {
            id: patron.get(),
            card_number: profile.card_number.as_str().to_owned(),
            name: profile.name,
            email: profile.email,
            category: profile.category,
            home_library: profile.home_library,
            card_expires_on: profile.card_expires_on,
            suspended_until: profile.suspended_until,
            blocked: profile.blocked,
            loans: account
                .as_ref()
                .map_or(0, |a| u32::try_from(a.loans.len()).unwrap_or(u32::MAX)),
            outstanding_cents: account.map_or(0, |a| a.outstanding.cents()),
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
        card_number: Path<String>,
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
        card_number: Path<String>,
        body: Json<PaymentBody>,
    ) -> Result<PaymentTaken, ApiError> {
        let patron = reader_by_card(&self.state, &card_number.0).await?;
        let amount = Money::from_cents(body.0.amount_cents);
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
