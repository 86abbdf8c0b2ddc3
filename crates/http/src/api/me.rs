//! My Account: the profile, changing the Password and the PIN.

use library_circulation::service::RenewRequest;
use library_core::{HoldId, LoanId, PatronId};
use library_credentials::Secret;
use library_fines::{ChargeKind, ChargeStatus};
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use time::{Date, OffsetDateTime};

use super::circulation::RenewedBody;
use super::common::shown;
use super::holds::{self, ChangeHoldBody, HoldBody, HoldPlaced, HoldsBody, PlaceHoldBody};
use crate::auth::Principal;

use super::ApiTags;
use super::types::{NoContent, SessionBody, Text};
use crate::auth::{LoansAuth, PasswordChangeAuth, ReaderAuth, attempt_source};
use crate::error::ApiError;
use library_app::{RenewalResult, Services, reader_channel};

/// `GET /me`.
#[derive(Debug, Object)]
struct MeBody {
    card_number: String,
    name: String,
    /// Reader category (`adult`, `child`, ...).
    #[oai(nullable)]
    category: Option<String>,
    #[oai(nullable)]
    email: Option<String>,
    /// Home library code.
    #[oai(nullable)]
    home_library: Option<String>,
    /// Last day the card is valid.
    #[oai(nullable)]
    card_expires_on: Option<Date>,
    /// First day the reader may borrow again after a suspension.
    #[oai(nullable)]
    suspended_until: Option<Date>,
    /// Unpaid charges plus the fines accruing on open overdue loans.
    outstanding_cents: i64,
}

/// `POST /me/loans/renewals`: what became of each open loan.
#[derive(Debug, Object)]
struct RenewalsBody {
    renewals: Vec<RenewalLineBody>,
}

/// One loan of "renew all".
#[derive(Debug, Object)]
struct RenewalLineBody {
    loan_id: i64,
    /// Whether it was renewed.
    renewed: bool,
    /// The due date now: the new one, or the unchanged one when refused.
    due_at: OffsetDateTime,
    /// Why not (`too_many_renewals`, `on_hold_for_another`, `patron_suspended`,
    /// `fines_over_limit`, `card_expired`, `too_soon`); absent when renewed.
    #[oai(nullable, skip_serializing_if_is_none)]
    reason: Option<String>,
}

/// `PUT /me/password`.
#[derive(Object)]
struct ChangePasswordRequest {
    current_password: Text,
    new_password: Text,
}

/// `PUT /me/pin`.
#[derive(Object)]
struct ChangePinRequest {
    password: Text,
    new_pin: Text,
}

pub(crate) struct MeApi {
    state: Services,
}

impl MeApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Me")]
impl MeApi {
    /// My profile (Password session), with the suspension and what I owe.
    #[oai(path = "/me", method = "get")]
    async fn me(&self, auth: ReaderAuth) -> Result<Json<MeBody>, ApiError> {
        let patron = auth.0.session.patron().ok_or_else(ApiError::forbidden)?;
        let profile = self
            .state
            .readers
            .profile(patron)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let outstanding = self
            .state
            .circulation
            .account(patron)
            .await?
            .map_or(0, |a| a.outstanding.cents());
        Ok(Json(MeBody {
            card_number: profile.card_number.as_str().to_owned(),
            name: profile.name,
            category: profile.category,
            email: profile.email,
            home_library: profile.home_library,
            card_expires_on: profile.card_expires_on,
            suspended_until: profile.suspended_until,
            outstanding_cents: outstanding,
        }))
    }

    /// Changes the Password (`full` or `change_password_only` session).
    ///
    /// Every earlier session of the reader, this one included, is revoked; the answer is a
    /// new `full` session.
    #[oai(path = "/me/password", method = "put")]
    async fn change_password(
        &self,
        auth: PasswordChangeAuth,
        req: &Request,
        body: Json<ChangePasswordRequest>,
    ) -> Result<Json<SessionBody>, ApiError> {
        let body = body.0;
        let issued = self
            .state
            .credentials
            .change_password(
                &auth.0.session,
                &Secret::new(body.current_password.into_string()),
                &Secret::new(body.new_password.into_string()),
                &attempt_source(req),
            )
            .await?;
        Ok(Json(issued.into()))
    }

    /// Changes the PIN (`full` session and the Password). Revokes the reader's PIN
    /// sessions and lifts a PIN lock.
    #[oai(path = "/me/pin", method = "put")]
    async fn change_pin(
        &self,
        auth: ReaderAuth,
        req: &Request,
        body: Json<ChangePinRequest>,
    ) -> Result<NoContent, ApiError> {
        let body = body.0;
        self.state
            .credentials
            .change_pin(
                &auth.0.session,
                &Secret::new(body.password.into_string()),
                &Secret::new(body.new_pin.into_string()),
                &attempt_source(req),
            )
            .await?;
        Ok(NoContent::NoContent)
    }

    /// My loans (`full` or `pin` session), with the fine accrued so far on each.
    #[oai(path = "/me/loans", method = "get")]
    async fn loans(&self, auth: LoansAuth) -> Result<Json<LoansBody>, ApiError> {
        loans_of(&self.state, reader_of(&auth.0)?).await
    }

    /// Renews one of my loans (`full` or `pin` session). 404 for a loan that is not mine
    /// (or returned); 409 `renewal_refused` with `reason`.
    #[oai(path = "/me/loans/:id/renewal", method = "post")]
    async fn renew(&self, auth: LoansAuth, id: Path<i64>) -> Result<Json<RenewedBody>, ApiError> {
        let patron = reader_of(&auth.0)?;
        let outcome = self
            .state
            .circulation
            .renew(
                RenewRequest {
                    loan: LoanId(id.0),
                    patron: Some(patron),
                    channel: reader_channel(auth.0.session.scope),
                },
                None,
            )
            .await?;
        Ok(Json(RenewedBody {
            due_at: shown(outcome.loan.due.at),
            renewals: outcome.loan.renewals,
        }))
    }

    /// Renews every open loan of mine (`full` or `pin` session), each its own renewal:
    /// per loan whether it was renewed, the due date now (unchanged when refused) and the
    /// refusal's `reason`.
    #[oai(path = "/me/loans/renewals", method = "post")]
    async fn renew_all(&self, auth: LoansAuth) -> Result<Json<RenewalsBody>, ApiError> {
        let patron = reader_of(&auth.0)?;
        let done = self
            .state
            .renew_loans(patron, None, reader_channel(auth.0.session.scope))
            .await?;
        let renewals = done
            .into_iter()
            .filter_map(|r| {
                let (renewed, due_at, reason) = match r.result {
                    RenewalResult::Renewed(outcome) => (true, outcome.loan.due.at, None),
                    RenewalResult::Refused(why) => (false, r.due_before?, Some(why.code())),
                    // Returned between the listing and the renewal: not an open loan.
                    RenewalResult::NotFound => return None,
                };
                Some(RenewalLineBody {
                    loan_id: r.loan.get(),
                    renewed,
                    due_at: shown(due_at),
                    reason: reason.map(str::to_owned),
                })
            })
            .collect();
        Ok(Json(RenewalsBody { renewals }))
    }

    /// My holds: queued and waiting ones, and those that ended in the last 90 days.
    #[oai(path = "/me/holds", method = "get")]
    async fn holds(&self, auth: ReaderAuth) -> Result<Json<HoldsBody>, ApiError> {
        holds::holds_of(&self.state, reader_of(&auth.0)?).await
    }

    /// Places a hold on a title. 404 for an unknown title; 422 `unknown_library`; 409
    /// `hold_refused` with `reason`.
    #[oai(path = "/me/holds", method = "post")]
    async fn place_hold(
        &self,
        auth: ReaderAuth,
        body: Json<PlaceHoldBody>,
    ) -> Result<HoldPlaced, ApiError> {
        holds::place(&self.state, reader_of(&auth.0)?, body.0, None).await
    }

    /// Suspends or resumes one of my queued holds, or sets its "not needed after" date: an
    /// absent field is left as it is, `null` clears it. The hold as `GET /me/holds` lists
    /// it. 404 for a hold that is not mine; 409 `hold_ended`; 422 `hold_not_queued`,
    /// `suspended_until_not_after_today`, `suspended_until_too_far`,
    /// `not_needed_after_in_past`, `not_needed_after_too_far`.
    #[oai(path = "/me/holds/:id", method = "patch")]
    async fn change_hold(
        &self,
        auth: ReaderAuth,
        id: Path<i64>,
        body: Json<ChangeHoldBody>,
    ) -> Result<Json<HoldBody>, ApiError> {
        holds::change_options(&self.state, reader_of(&auth.0)?, HoldId(id.0), body.0, None).await
    }

    /// Cancels one of my holds. 404 for a hold that is not mine; 409 `hold_ended`.
    #[oai(path = "/me/holds/:id", method = "delete")]
    async fn cancel_hold(&self, auth: ReaderAuth, id: Path<i64>) -> Result<NoContent, ApiError> {
        holds::cancel(&self.state, reader_of(&auth.0)?, HoldId(id.0), None).await
    }

    /// Reports one of my loans lost (Password session): as staff declaring it lost, the
    /// overdue fine to today, the replacement cost and a 20 % processing fee are charged
    /// and the loan ends; if the item turns up and is returned, what is unpaid of the
    /// replacement and processing is written off. 404 not mine or not on loan.
    #[oai(path = "/me/loans/:id/lost", method = "post")]
    async fn report_lost(
        &self,
        auth: ReaderAuth,
        id: Path<i64>,
    ) -> Result<Json<super::circulation::LostBody>, ApiError> {
        let patron = reader_of(&auth.0)?;
        let outcome = self
            .state
            .circulation
            .declare_lost(
                library_circulation::service::DeclareLostRequest {
                    loan: LoanId(id.0),
                    patron: Some(patron),
                },
                None,
            )
            .await?;
        Ok(Json(super::circulation::LostBody::of(&outcome)))
    }

    /// My charges (fines and fees) and what I owe, accruing fines included (`full` or `pin`
    /// session: telephone renewal tells the caller what they owe).
    #[oai(path = "/me/fines", method = "get")]
    async fn fines(&self, auth: LoansAuth) -> Result<Json<FinesBody>, ApiError> {
        fines_of(&self.state, reader_of(&auth.0)?).await
    }
}

/// A reader's open loans as `GET /me/loans` answers them (staff see the same).
pub(super) async fn loans_of(
    state: &Services,
    patron: PatronId,
) -> Result<Json<LoansBody>, ApiError> {
    let loans = state
        .loans_of(patron)
        .await?
        .into_iter()
        .map(|line| {
            let status = line.status;
            LoanBody {
                id: status.loan.id.get(),
                item_barcode: status.item.barcode.as_str().to_owned(),
                title: line.title,
                library_code: status.loan.library.as_str().to_owned(),
                borrowed_at: shown(status.loan.borrowed_at),
                due_at: shown(status.loan.due.at),
                renewals: status.loan.renewals,
                renewals_left: status.renewals_left,
                overdue_days: status.accrued.overdue_days,
                fine_cents: status.accrued.fine.cents(),
            }
        })
        .collect();
    Ok(Json(LoansBody { loans }))
}

/// A reader's charges and what they owe as `GET /me/fines` answers them (staff see the
/// same).
pub(super) async fn fines_of(
    state: &Services,
    patron: PatronId,
) -> Result<Json<FinesBody>, ApiError> {
    let outstanding = state
        .circulation
        .account(patron)
        .await?
        .map_or(0, |a| a.outstanding.cents());
    let ledger = state.accounts.ledger(patron).await?;
    let barcodes = state.accounts.loan_barcodes(patron).await?;
    let fines = ledger
        .charges()
        .iter()
        .map(|c| {
            let (loan_id, chargeable_days, kind) = match &c.kind {
                ChargeKind::OverdueFine {
                    loan,
                    chargeable_days,
                } => (Some(*loan), Some(*chargeable_days), "overdue_fine"),
                ChargeKind::HoldFee { .. } => (None, None, "hold_fee"),
                ChargeKind::LostItem { loan } => (Some(*loan), None, "lost_item"),
                ChargeKind::LostProcessing { loan } => (Some(*loan), None, "lost_processing"),
                ChargeKind::Other { .. } => (None, None, "other"),
            };
            FineBody {
                id: c.id.0,
                kind: kind.to_owned(),
                loan_id: loan_id.map(LoanId::get),
                item_barcode: loan_id.and_then(|l| {
                    barcodes
                        .iter()
                        .find(|(id, _)| *id == l)
                        .map(|(_, b)| b.as_str().to_owned())
                }),
                amount_cents: c.amount.cents(),
                outstanding_cents: c.outstanding().cents(),
                chargeable_days,
                charged_on: c.charged_on,
                status: match c.status() {
                    ChargeStatus::Outstanding => "outstanding",
                    ChargeStatus::Paid => "paid",
                    ChargeStatus::Waived => "waived",
                }
                .to_owned(),
            }
        })
        .collect();
    Ok(Json(FinesBody {
        outstanding_cents: outstanding,
        fines,
    }))
}

fn reader_of(principal: &Principal) -> Result<PatronId, ApiError> {
    principal.session.patron().ok_or_else(ApiError::forbidden)
}

/// One of my loans.
#[derive(Debug, Object)]
struct LoanBody {
    id: i64,
    item_barcode: String,
    title: String,
    /// The lending library.
    library_code: String,
    borrowed_at: OffsetDateTime,
    due_at: OffsetDateTime,
    renewals: u32,
    renewals_left: u32,
    overdue_days: u32,
    /// Accrued so far (fixed as a charge on return or renewal).
    fine_cents: i64,
}

/// `GET /me/loans`.
#[derive(Debug, Object)]
pub(super) struct LoansBody {
    loans: Vec<LoanBody>,
}

/// A charge.
#[derive(Debug, Object)]
struct FineBody {
    id: i64,
    /// `overdue_fine`, `hold_fee`, `lost_item` (replacement cost), `lost_processing` (20 %
    /// of it) or `other`.
    kind: String,
    /// Overdue fines and lost-item lines: the loan.
    #[oai(nullable)]
    loan_id: Option<i64>,
    #[oai(nullable)]
    item_barcode: Option<String>,
    amount_cents: i64,
    /// What is left to pay.
    outstanding_cents: i64,
    /// Overdue fines: the days charged.
    #[oai(nullable)]
    chargeable_days: Option<u32>,
    charged_on: Date,
    /// `outstanding`, `paid` or `waived`.
    status: String,
}

/// `GET /me/fines`.
#[derive(Debug, Object)]
pub(super) struct FinesBody {
    /// Unpaid charges plus the fines accruing on open overdue loans.
    outstanding_cents: i64,
    fines: Vec<FineBody>,
}
