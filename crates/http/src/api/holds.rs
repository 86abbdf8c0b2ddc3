//! Holds: a reader's own (`/me/holds`, in `me.rs`) and staff's at the counter for a reader
//! (`/patrons/{card_number}/holds`) answer alike through the helpers here: placing,
//! suspending and resuming, "not needed after", cancelling (staff with a reason the reader
//! sees); staff also hand a waiting copy over by the hold's id
//! (`/circulation/holds/{id}/collection`). Staff see a reader's loans and charges here too,
//! as the reader does (`/patrons/{card_number}/loans`, `/fines`).

use library_app::HoldLine;
use library_circulation::ports::Actor;
use library_circulation::service::{
    CancelHoldRequest, ChangeHoldRequest, CollectHoldRequest, PlaceHoldRequest,
};
use library_circulation::{CancelReason, CancelledBy, HoldStatus};
use library_core::{HoldId, PatronId, TitleId};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use time::{Date, OffsetDateTime};

use super::ApiTags;
use super::circulation::LoanMade;
use super::common::{library_code, reader_by_card, shown, staff_actor};
use super::me::{FinesBody, LoansBody, fines_of, loans_of};
use super::types::{NoContent, Text};
use crate::auth::StaffAuth;
use crate::error::ApiError;
use library_app::Services;

/// A hold status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum HoldStatusDto {
    /// In the queue.
    Queued,
    /// On the hold shelf.
    Waiting,
    /// Collected.
    Collected,
    /// Not collected in time.
    Expired,
    /// Cancelled.
    Cancelled,
}

impl From<HoldStatus> for HoldStatusDto {
    fn from(s: HoldStatus) -> Self {
        match s {
            HoldStatus::Queued => HoldStatusDto::Queued,
            HoldStatus::Waiting => HoldStatusDto::Waiting,
            HoldStatus::Collected => HoldStatusDto::Collected,
            HoldStatus::Expired => HoldStatusDto::Expired,
            HoldStatus::Cancelled => HoldStatusDto::Cancelled,
        }
    }
}

/// Who cancelled a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum CancelledByDto {
    /// The reader (online, by telephone, at a station).
    Reader,
    /// Staff at the counter.
    Staff,
}

impl From<CancelledBy> for CancelledByDto {
    fn from(by: CancelledBy) -> Self {
        match by {
            CancelledBy::Reader => CancelledByDto::Reader,
            CancelledBy::Staff => CancelledByDto::Staff,
        }
    }
}

/// A reader's hold.
#[derive(Debug, Object)]
pub(super) struct HoldBody {
    id: i64,
    title_id: i64,
    title: String,
    pickup_library: String,
    status: HoldStatusDto,
    /// Queued holds: the place in the queue (1 = next).
    #[oai(nullable, skip_serializing_if_is_none)]
    position: Option<u32>,
    /// Waiting holds: the last day to collect.
    #[oai(nullable, skip_serializing_if_is_none)]
    pickup_by: Option<Date>,
    /// Queued holds: `true` while a copy travels to the pickup library for this hold
    /// (absent otherwise).
    #[oai(nullable, skip_serializing_if_is_none)]
    in_transit: Option<bool>,
    placed_at: OffsetDateTime,
    /// Queued holds: suspended until this date, the first day it is active again (the
    /// pickup library's date); it keeps its position meanwhile. `null`: not suspended.
    #[oai(nullable)]
    suspended_until: Option<Date>,
    /// The reader's last date of interest: a queued hold expires the day after. `null`:
    /// none.
    #[oai(nullable)]
    not_needed_after: Option<Date>,
    /// Cancelled holds: `reader` or `staff`; `null` otherwise.
    #[oai(nullable)]
    cancelled_by: Option<CancelledByDto>,
    /// Cancelled holds: the reason staff gave; `null` otherwise or without one.
    #[oai(nullable)]
    cancel_reason: Option<String>,
}

impl From<HoldLine> for HoldBody {
    fn from(line: HoldLine) -> Self {
        let hold = line.hold;
        let cancellation = hold.cancellation();
        HoldBody {
            id: hold.id.get(),
            title_id: hold.title.get(),
            title: line.title,
            pickup_library: hold.pickup_library.as_str().to_owned(),
            status: hold.status().into(),
            position: hold.position(),
            pickup_by: hold.pickup_by(),
            in_transit: hold.in_transit_item().map(|_| true),
            placed_at: shown(hold.placed_at),
            suspended_until: hold.suspended_until,
            not_needed_after: hold.not_needed_after,
            cancelled_by: cancellation.map(|(by, _)| by.into()),
            cancel_reason: cancellation.and_then(|(_, r)| r.map(|r| r.as_str().to_owned())),
        }
    }
}

/// `GET /me/holds`, `GET /patrons/{card_number}/holds`.
#[derive(Debug, Object)]
pub(super) struct HoldsBody {
    holds: Vec<HoldBody>,
}

/// `POST /me/holds`, `POST /patrons/{card_number}/holds`.
#[derive(Debug, Object)]
pub(super) struct PlaceHoldBody {
    title_id: i64,
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
    pickup_library: Text,
    /// The reader's last date of interest (today or later, at most two years ahead).
    #[oai(nullable)]
    not_needed_after: Option<Date>,
}

/// `PATCH /me/holds/{id}`, `PATCH /patrons/{card_number}/holds/{id}`: an absent field is
/// left as it is, `null` clears it.
#[derive(Debug, Object)]
pub(super) struct ChangeHoldBody {
    /// Suspend a queued hold until this date, the first day it is active again (after
    /// today, at most a year ahead); `null` resumes it at once.
    suspended_until: MaybeUndefined<Date>,
    /// The last date of interest (today or later, at most two years ahead); `null` for none.
    not_needed_after: MaybeUndefined<Date>,
}

/// `POST /patrons/{card_number}/holds/{id}/cancellation`.
#[derive(Debug, Object)]
struct CancellationBody {
    /// Why, for the reader: 1 to 500 characters once trimmed, one line.
    #[oai(validator(
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F]([^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?\\s*$",
        max_length = 500
    ))]
    reason: Text,
}

fn change(field: MaybeUndefined<Date>) -> Option<Option<Date>> {
    match field {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(date) => Some(Some(date)),
    }
}

/// A hold placed.
#[derive(Debug, Object)]
pub(super) struct HoldPlacedBody {
    id: i64,
    #[oai(nullable)]
    position: Option<u32>,
    status: HoldStatusDto,
}

#[derive(ApiResponse)]
pub(super) enum HoldPlaced {
    /// Placed at the end of the queue.
    #[oai(status = 201)]
    Created(Json<HoldPlacedBody>),
}

/// `POST /circulation/holds/{id}/collection`.
#[derive(Debug, Object)]
struct CollectionBody {
    /// Where the copy is handed over (the lending library of the loan).
    #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
    library_code: Text,
}

/// The reader's holds: queued and waiting ones, and those that ended in the last 90 days.
pub(super) async fn holds_of(
    state: &Services,
    patron: PatronId,
) -> Result<Json<HoldsBody>, ApiError> {
    let holds = state
        .holds_of(patron)
        .await?
        .into_iter()
        .map(HoldBody::from)
        .collect();
    Ok(Json(HoldsBody { holds }))
}

/// Suspends, resumes or sets "not needed after" on the reader's hold `hold` (404 if it is
/// not theirs); the hold as `GET /me/holds` lists it. Audited in its transaction when
/// changed `by` staff.
pub(super) async fn change_options(
    state: &Services,
    patron: PatronId,
    hold: HoldId,
    body: ChangeHoldBody,
    by: Option<&Actor>,
) -> Result<Json<HoldBody>, ApiError> {
    let changed = state
        .circulation
        .change_hold(
            ChangeHoldRequest {
                hold,
                patron: Some(patron),
                suspended_until: change(body.suspended_until),
                not_needed_after: change(body.not_needed_after),
            },
            by,
        )
        .await?;
    Ok(Json(state.hold_line(changed).await?.into()))
}

/// Places the reader's hold at the end of the title's queue; audited in its transaction
/// when placed `by` staff.
pub(super) async fn place(
    state: &Services,
    patron: PatronId,
    body: PlaceHoldBody,
    by: Option<&Actor>,
) -> Result<HoldPlaced, ApiError> {
    let hold = state
        .circulation
        .place_hold(
            PlaceHoldRequest {
                patron,
                title: TitleId(body.title_id),
                pickup_library: library_code(&body.pickup_library.0, "unknown_library")?,
                not_needed_after: body.not_needed_after,
            },
            by,
        )
        .await?;
    Ok(HoldPlaced::Created(Json(HoldPlacedBody {
        id: hold.id.get(),
        position: hold.position(),
        status: hold.status().into(),
    })))
}

/// Cancels the reader's hold `hold` (404 if it is not theirs); audited in its transaction
/// when cancelled `by` staff.
pub(super) async fn cancel(
    state: &Services,
    patron: PatronId,
    hold: HoldId,
    by: Option<&Actor>,
) -> Result<NoContent, ApiError> {
    state
        .circulation
        .cancel_hold(
            CancelHoldRequest {
                hold,
                patron: Some(patron),
                reason: None,
            },
            by,
        )
        .await?;
    Ok(NoContent::NoContent)
}

pub(crate) struct StaffHoldsApi {
    state: Services,
}

impl StaffHoldsApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }

    /// The reader with this card (404 if none).
    async fn reader(&self, card_number: &str) -> Result<PatronId, ApiError> {
        reader_by_card(&self.state, card_number).await
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Staff")]
impl StaffHoldsApi {
    /// A reader's holds (staff), as the reader sees them in `GET /me/holds`. 404 for an
    /// unknown card.
    #[oai(path = "/patrons/:card_number/holds", method = "get")]
    async fn holds(
        &self,
        _auth: StaffAuth,
        card_number: Path<Text>,
    ) -> Result<Json<HoldsBody>, ApiError> {
        let patron = self.reader(&card_number.0).await?;
        holds_of(&self.state, patron).await
    }

    /// A reader's open loans (staff), as the reader sees them in `GET /me/loans`: due date,
    /// overdue days, the fine accruing, renewals left. 404 for an unknown card.
    #[oai(path = "/patrons/:card_number/loans", method = "get")]
    async fn loans(
        &self,
        _auth: StaffAuth,
        card_number: Path<Text>,
    ) -> Result<Json<LoansBody>, ApiError> {
        let patron = self.reader(&card_number.0).await?;
        loans_of(&self.state, patron).await
    }

    /// A reader's charges with their ids and reasons and what they owe (staff), as the
    /// reader sees them in `GET /me/fines`: what a waiver names. 404 for an unknown card.
    #[oai(path = "/patrons/:card_number/fines", method = "get")]
    async fn fines(
        &self,
        _auth: StaffAuth,
        card_number: Path<Text>,
    ) -> Result<Json<FinesBody>, ApiError> {
        let patron = self.reader(&card_number.0).await?;
        fines_of(&self.state, patron).await
    }

    /// Places a hold for a reader at the counter (staff), with the reader's own rules and
    /// refusals (`POST /me/holds`). 404 for an unknown card or title.
    #[oai(path = "/patrons/:card_number/holds", method = "post")]
    async fn place_hold(
        &self,
        auth: StaffAuth,
        card_number: Path<Text>,
        body: Json<PlaceHoldBody>,
    ) -> Result<HoldPlaced, ApiError> {
        let by = staff_actor(&auth.0)?;
        let patron = self.reader(&card_number.0).await?;
        place(&self.state, patron, body.0, Some(&by)).await
    }

    /// Cancels a reader's hold at the counter (staff). 404 for an unknown card or a hold
    /// that is not the reader's; 409 `hold_ended`.
    #[oai(path = "/patrons/:card_number/holds/:id", method = "delete")]
    async fn cancel_hold(
        &self,
        auth: StaffAuth,
        card_number: Path<Text>,
        id: Path<i64>,
    ) -> Result<NoContent, ApiError> {
        let by = staff_actor(&auth.0)?;
        let patron = self.reader(&card_number.0).await?;
        cancel(&self.state, patron, HoldId(id.0), Some(&by)).await
    }

    /// Suspends or resumes a reader's queued hold, or sets its "not needed after" date
    /// (staff), as `PATCH /me/holds/{id}`; audited `hold.change`. 404 for an unknown card
    /// or a hold that is not the reader's; 409 `hold_ended`; 422.
    #[oai(path = "/patrons/:card_number/holds/:id", method = "patch")]
    async fn change_hold(
        &self,
        auth: StaffAuth,
        card_number: Path<Text>,
        id: Path<i64>,
        body: Json<ChangeHoldBody>,
    ) -> Result<Json<HoldBody>, ApiError> {
        let by = staff_actor(&auth.0)?;
        let patron = self.reader(&card_number.0).await?;
        change_options(&self.state, patron, HoldId(id.0), body.0, Some(&by)).await
    }

    /// Cancels a reader's hold at the counter with a reason the reader sees in their list
    /// of holds (staff); audited `hold.cancel` with the reason. The hold as `GET /me/holds`
    /// lists it. 404 for an unknown card or a hold that is not the reader's; 409
    /// `hold_ended`; 422 `reason_missing`, `reason_too_long`, `reason_invalid`.
    #[oai(path = "/patrons/:card_number/holds/:id/cancellation", method = "post")]
    async fn cancel_with_reason(
        &self,
        auth: StaffAuth,
        card_number: Path<Text>,
        id: Path<i64>,
        body: Json<CancellationBody>,
    ) -> Result<Json<HoldBody>, ApiError> {
        let by = staff_actor(&auth.0)?;
        let patron = self.reader(&card_number.0).await?;
        let reason = CancelReason::parse(&body.0.reason.0)
            .map_err(|v| ApiError::validation_failed([v.code()]))?;
        let cancelled = self
            .state
            .circulation
            .cancel_hold(
                CancelHoldRequest {
                    hold: HoldId(id.0),
                    patron: Some(patron),
                    reason: Some(reason),
                },
                Some(&by),
            )
            .await?;
        Ok(Json(self.state.hold_line(cancelled).await?.into()))
    }

    /// Hands the copy waiting on the hold shelf to its reader (staff): a checkout of that
    /// copy, with the hold fee, audited in its transaction. 404 for an unknown hold; 409
    /// `hold_not_waiting` for a hold not on the shelf; 409 `checkout_refused` with
    /// `reason` as a checkout; 422 `unknown_library`.
    #[oai(
        path = "/circulation/holds/:id/collection",
        method = "post",
        tag = "ApiTags::Circulation"
    )]
    async fn collect(
        &self,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<CollectionBody>,
    ) -> Result<LoanMade, ApiError> {
        let req = CollectHoldRequest {
            hold: HoldId(id.0),
            library: library_code(&body.0.library_code.0, "unknown_library")?,
        };
        let outcome = self
            .state
            .circulation
            .collect_hold(req, &staff_actor(&auth.0)?)
            .await?;
        Ok(LoanMade::of(&outcome))
    }
}
