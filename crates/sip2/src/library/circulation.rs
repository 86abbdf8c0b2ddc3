//! Circulation from a station: checkout (`11`), checkin (`09`), renew (`29`), renew all
//! (`65`), holds (`15`), fee paid (`37`) and item information (`17`), each through the
//! service HTTP uses, refusals mapped to the domain's code and sentence.

use std::collections::HashMap;

use crate::server::{
    BackendError, HoldInfo, HoldTarget, ItemCirculation, ItemInfo, LoanInfo, Outcome, PaymentInfo,
    Refusal, RenewAllInfo, ReturnInfo, ReturnRouting, StationSession,
};
use library_app::AdminError;
use library_circulation::ReturnTimeError;
use library_circulation::ports::{Actor, CirculationChannel};
use library_circulation::service::{
    CancelHoldError, CancelHoldRequest, CheckinError, CheckinRequest, CheckoutError,
    CheckoutRequest, PlaceHoldError, PlaceHoldRequest, RenewAllError, RenewAllRequest, RenewError,
    RenewRequest,
};
use library_circulation::{HoldStatus, Item, ItemStatus};
use library_core::{Barcode, LibraryCode, LoanId, Money, TitleId};
use library_fines::LedgerError;
use serde_json::json;
use time::OffsetDateTime;

use super::{OrBackend, Sip2Library, failed, refusal};

/// Refusal codes of this adapter for a hold's title or pickup library that does not exist
/// (HTTP answers those 404 and 422 `unknown_library`).
const TITLE_NOT_FOUND: &str = "title_not_found";
const UNKNOWN_LIBRARY: &str = "unknown_library";

/// A station, as the audit log records the circulation changes it makes.
fn station_actor(station: &StationSession) -> Actor {
    Actor::Station(station.station_id.clone())
}

fn not_on_loan() -> Refusal {
    Refusal::new(Refusal::NOT_ON_LOAN, "The item is not on loan.")
}

fn not_on_loan_to_you() -> Refusal {
    Refusal::new(Refusal::NOT_ON_LOAN, "The item is not on loan to you.")
}

fn hold_not_found() -> Refusal {
    Refusal::new(Refusal::HOLD_NOT_FOUND, "You have no hold on this title.")
}

/// Returns early with the refusal, or gives the value.
macro_rules! refuse_unless {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(refusal) => return Ok(Err(refusal)),
        }
    };
}

impl Sip2Library {
    async fn item_by_barcode(&self, barcode: &Barcode) -> Result<Option<Item>, BackendError> {
        self.services
            .catalogue
            .item_by_barcode(barcode)
            .await
            .or_backend("read item")
    }

    pub(super) async fn lend(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        barcode: &str,
    ) -> Outcome<LoanInfo> {
        let (_, card) = refuse_unless!(self.borrower(station, card, pin).await?);
        let Ok(barcode) = Barcode::parse(barcode) else {
            return Ok(Err(Refusal::item_not_found()));
        };
        let request = CheckoutRequest {
            card_number: card,
            item_barcode: barcode,
            library: station.library_code.clone(),
        };
        let outcome = match self
            .services
            .circulation
            .checkout(request.clone(), &station_actor(station))
            .await
        {
            Ok(outcome) => outcome,
            Err(CheckoutError::PatronNotFound) => return Ok(Err(Refusal::patron_not_found())),
            Err(CheckoutError::ItemNotFound) => return Ok(Err(Refusal::item_not_found())),
            Err(CheckoutError::Refused(r)) => return Ok(Err(refusal(r.code(), &r))),
            Err(e @ CheckoutError::LibraryNotFound(_)) => return Err(failed("checkout", &e)),
            Err(CheckoutError::Infrastructure(e)) => return Err(failed("checkout", &e)),
        };
        Ok(Ok(LoanInfo {
            barcode: request.item_barcode.as_str().to_owned(),
            title: outcome.title.name,
            due_at: outcome.loan.due.at,
            renewals_left: outcome.renewals_left,
            charged: outcome.hold_fee,
        }))
    }

    pub(super) async fn take_back(
        &self,
        station: &StationSession,
        barcode: &str,
        returned_at: Option<OffsetDateTime>,
    ) -> Outcome<ReturnInfo> {
        let Ok(barcode) = Barcode::parse(barcode) else {
            return Ok(Err(Refusal::item_not_found()));
        };
        // A station's clock a little ahead of ours: the return happens now.
        let returned_at = returned_at.filter(|at| *at <= self.services.clock.now());
        let request = CheckinRequest {
            item_barcode: barcode,
            library: station.library_code.clone(),
            returned_at,
        };
        // A lost copy found is taken back as at the counter (Services::check_in).
        let outcome = match self
            .services
            .check_in(request.clone(), &station_actor(station))
            .await
        {
            Ok(library_app::Return::Returned(outcome)) => *outcome,
            Ok(library_app::Return::Found(found)) => {
                let routing = routing(
                    found.routing.trapped.as_ref(),
                    found.routing.placement.transit_to.as_ref(),
                    found.routing.travels_for.is_some(),
                );
                return Ok(Ok(ReturnInfo {
                    barcode: request.item_barcode.as_str().to_owned(),
                    title: found.title.name.clone(),
                    permanent_location: found.item.home_library.as_str().to_owned(),
                    patron_card: None,
                    fine: library_core::Money::ZERO,
                    routing,
                }));
            }
            Err(CheckinError::ItemNotFound) => return Ok(Err(Refusal::item_not_found())),
            Err(CheckinError::NotOnLoan) => return Ok(Err(not_on_loan())),
            Err(CheckinError::InvalidReturnTime(e)) => {
                let code = match e {
                    ReturnTimeError::InFuture => "returned_at_in_future",
                    ReturnTimeError::BeforeCheckout => "returned_at_before_checkout",
                };
                return Ok(Err(refusal(code, &e)));
            }
            Err(e @ CheckinError::LibraryNotFound(_)) => return Err(failed("checkin", &e)),
            Err(CheckinError::Infrastructure(e)) => return Err(failed("checkin", &e)),
        };
        let routing = routing(
            outcome.hold.as_ref(),
            outcome.in_transit_to(),
            outcome.transit_hold.is_some(),
        );
        Ok(Ok(ReturnInfo {
            barcode: request.item_barcode.as_str().to_owned(),
            title: outcome.title.name,
            permanent_location: outcome.item.home_library.as_str().to_owned(),
            patron_card: outcome.borrower.as_ref().map(|c| c.as_str().to_owned()),
            fine: outcome.fine,
            routing,
        }))
    }

    pub(super) async fn renew_one(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        barcode: &str,
    ) -> Outcome<LoanInfo> {
        let (patron, _) = refuse_unless!(self.borrower(station, card, pin).await?);
        let Ok(barcode) = Barcode::parse(barcode) else {
            return Ok(Err(Refusal::item_not_found()));
        };
        let copy = self
            .services
            .circulation
            .copy_with_open_loan(&barcode)
            .await
            .or_backend("read item and its loan")?;
        let Some((_, open_loan)) = copy else {
            return Ok(Err(Refusal::item_not_found()));
        };
        let Some(loan) = open_loan.filter(|l| l.patron == patron).map(|l| l.id) else {
            return Ok(Err(not_on_loan_to_you()));
        };
        let request = RenewRequest {
            loan,
            patron: Some(patron),
            channel: CirculationChannel::Station,
        };
        let outcome = match self
            .services
            .circulation
            .renew(request, Some(&station_actor(station)))
            .await
        {
            Ok(outcome) => outcome,
            Err(RenewError::LoanNotFound) => return Ok(Err(not_on_loan_to_you())),
            Err(RenewError::Refused(r)) => return Ok(Err(refusal(r.code(), &r))),
            Err(RenewError::Infrastructure(e)) => return Err(failed("renew", &e)),
        };
        Ok(Ok(LoanInfo {
            barcode: barcode.as_str().to_owned(),
            title: outcome.title.name,
            due_at: outcome.loan.due.at,
            renewals_left: outcome.renewals_left,
            charged: outcome.fine_charged,
        }))
    }

    pub(super) async fn renew_every(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
    ) -> Outcome<RenewAllInfo> {
        let (patron, _) = refuse_unless!(self.borrower(station, card, pin).await?);
        let barcodes: HashMap<LoanId, Barcode> = self
            .services
            .accounts
            .loan_barcodes(patron)
            .await
            .or_backend("read loan barcodes")?
            .into_iter()
            .collect();
        let outcome = match self
            .services
            .circulation
            .renew_all(
                RenewAllRequest {
                    patron,
                    channel: CirculationChannel::Station,
                },
                &station_actor(station),
            )
            .await
        {
            Ok(outcome) => outcome,
            Err(RenewAllError::PatronNotFound) => return Ok(Err(Refusal::patron_not_found())),
            Err(RenewAllError::Infrastructure(e)) => return Err(failed("renew all", &e)),
        };
        let shown = |loan: LoanId| {
            barcodes
                .get(&loan)
                .map_or_else(|| format!("loan {}", loan.get()), |b| b.as_str().to_owned())
        };
        let mut info = RenewAllInfo {
            renewed: Vec::new(),
            not_renewed: Vec::new(),
        };
        for (loan, result) in outcome.results {
            match result {
                Ok(_) => info.renewed.push(shown(loan)),
                Err(r) => info.not_renewed.push((shown(loan), refusal(r.code(), &r))),
            }
        }
        Ok(Ok(info))
    }

    /// The title a hold request names: a copy's barcode or a title id.
    async fn hold_title(
        &self,
        target: HoldTarget<'_>,
    ) -> Result<Result<TitleId, Refusal>, BackendError> {
        Ok(match target {
            HoldTarget::Item(barcode) => match Barcode::parse(barcode) {
                Ok(barcode) => match self.item_by_barcode(&barcode).await? {
                    Some(item) => Ok(item.title),
                    None => Err(Refusal::item_not_found()),
                },
                Err(_) => Err(Refusal::item_not_found()),
            },
            HoldTarget::Title(id) => match id.trim().parse::<i64>() {
                Ok(id) => Ok(TitleId(id)),
                Err(_) => Err(Refusal::new(TITLE_NOT_FOUND, "Title not found.")),
            },
        })
    }

    pub(super) async fn hold(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        target: HoldTarget<'_>,
        pickup: Option<&str>,
    ) -> Outcome<HoldInfo> {
        let (patron, _) = refuse_unless!(self.identify(station, card, pin).await?.found());
        let title = refuse_unless!(self.hold_title(target).await?);
        let pickup_library = match pickup {
            None => station.library_code.clone(),
            Some(code) => match LibraryCode::parse(code) {
                Ok(code) => code,
                Err(_) => {
                    return Ok(Err(Refusal::new(
                        UNKNOWN_LIBRARY,
                        "No such pickup library.",
                    )));
                }
            },
        };
        let request = PlaceHoldRequest {
            patron,
            title,
            pickup_library,
            not_needed_after: None,
        };
        let hold = match self.services.circulation.place_hold(request, None).await {
            Ok(hold) => hold,
            Err(PlaceHoldError::PatronNotFound) => return Ok(Err(Refusal::patron_not_found())),
            Err(PlaceHoldError::TitleNotFound) => {
                return Ok(Err(Refusal::new(TITLE_NOT_FOUND, "Title not found.")));
            }
            Err(PlaceHoldError::LibraryNotFound(_)) => {
                return Ok(Err(Refusal::new(
                    UNKNOWN_LIBRARY,
                    "No such pickup library.",
                )));
            }
            Err(PlaceHoldError::Refused(r)) => return Ok(Err(refusal(r.code(), &r))),
            // Never sent from here (a station gives no "not needed after" date).
            Err(PlaceHoldError::Invalid(v)) => return Ok(Err(refusal(v.code(), &v))),
            Err(PlaceHoldError::Infrastructure(e)) => return Err(failed("place hold", &e)),
        };
        Ok(Ok(HoldInfo {
            title: self.title_name(hold.title).await?,
            pickup_library: hold.pickup_library.as_str().to_owned(),
            queue_position: hold.position(),
            available: hold.status() == HoldStatus::Waiting,
            pickup_by: hold.pickup_by(),
        }))
    }

    pub(super) async fn unhold(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        target: HoldTarget<'_>,
    ) -> Outcome<HoldInfo> {
        let (patron, _) = refuse_unless!(self.identify(station, card, pin).await?.found());
        let title = refuse_unless!(self.hold_title(target).await?);
        let now = self.services.clock.now();
        let Some(hold) = self
            .services
            .accounts
            .holds_of(patron, now)
            .await
            .or_backend("read holds")?
            .into_iter()
            .find(|h| h.is_active() && h.title == title)
        else {
            return Ok(Err(hold_not_found()));
        };
        let request = CancelHoldRequest {
            hold: hold.id,
            patron: Some(patron),
            reason: None,
        };
        let cancelled = match self.services.circulation.cancel_hold(request, None).await {
            Ok(hold) => hold,
            Err(CancelHoldError::HoldNotFound | CancelHoldError::NotActive) => {
                return Ok(Err(hold_not_found()));
            }
            Err(CancelHoldError::Infrastructure(e)) => return Err(failed("cancel hold", &e)),
        };
        Ok(Ok(HoldInfo {
            title: self.title_name(cancelled.title).await?,
            pickup_library: cancelled.pickup_library.as_str().to_owned(),
            queue_position: None,
            available: false,
            pickup_by: None,
        }))
    }

    pub(super) async fn pay(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        amount: Money,
        transaction_id: Option<&str>,
    ) -> Outcome<PaymentInfo> {
        let (patron, _) = refuse_unless!(self.identify(station, card, pin).await?.found());
        // The ledger call of `POST /patrons/{card}/payments`: oldest charges first.
        let audit = self.audit_record(
            station,
            "fine.payment",
            format!("patron:{}", patron.get()),
            json!({"amount_cents": amount.cents(), "transaction_id": transaction_id}),
        );
        match self
            .services
            .accounts
            .pay(patron, amount, self.today(), audit)
            .await
        {
            Ok(_) => {}
            Err(AdminError::Ledger(LedgerError::Overpayment { outstanding, .. })) => {
                return Ok(Err(Refusal::new(
                    "amount_exceeds_outstanding",
                    format!("{amount} is more than the fines to pay ({outstanding})."),
                )));
            }
            Err(AdminError::Ledger(e @ LedgerError::NotPositive { .. })) => {
                return Ok(Err(refusal("amount_not_positive", &e)));
            }
            Err(e) => return Err(failed("pay", &e)),
        }
        let outstanding = self
            .services
            .circulation
            .account(patron)
            .await
            .or_backend("read reader account")?
            .map_or(Money::ZERO, |a| a.outstanding);
        Ok(Ok(PaymentInfo {
            transaction_id: None,
            outstanding,
        }))
    }

    pub(super) async fn item(&self, barcode: &str) -> Result<Option<ItemInfo>, BackendError> {
        let Ok(barcode) = Barcode::parse(barcode) else {
            return Ok(None);
        };
        let Some(info) = self
            .services
            .circulation
            .copy_information(&barcode)
            .await
            .or_backend("read item")?
        else {
            return Ok(None);
        };
        let (item, due_at) = (info.item, info.due_at);
        let queued = info.holds_queued;
        Ok(Some(ItemInfo {
            title: self.title_name(item.title).await?,
            circulation: match item.status {
                ItemStatus::Available => ItemCirculation::Available,
                ItemStatus::OnLoan => ItemCirculation::OnLoan,
                ItemStatus::OnHoldShelf => ItemCirculation::OnHoldShelf,
                ItemStatus::InTransit => ItemCirculation::InTransit,
                ItemStatus::Lost => ItemCirculation::Lost,
                ItemStatus::NotForLoan => ItemCirculation::Other,
            },
            due_at,
            hold_queue_length: u32::try_from(queued).unwrap_or(u32::MAX),
            owner_library: item.home_library.as_str().to_owned(),
        }))
    }
}

/// Where a copy checked in goes, as a station is told: on the hold shelf here, in transit
/// for a hold elsewhere or home, or to the shelf.
fn routing(
    trapped: Option<&library_circulation::Hold>,
    transit_to: Option<&library_core::LibraryCode>,
    travels_for_hold: bool,
) -> ReturnRouting {
    match (trapped, transit_to) {
        (Some(hold), _) => ReturnRouting::HoldHere {
            library: hold.pickup_library.as_str().to_owned(),
        },
        (None, Some(to)) if travels_for_hold => ReturnRouting::HoldElsewhere {
            library: to.as_str().to_owned(),
        },
        (None, Some(to)) => ReturnRouting::SendElsewhere {
            library: to.as_str().to_owned(),
        },
        (None, None) => ReturnRouting::Shelf,
    }
}
