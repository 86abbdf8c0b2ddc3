//! The one table from station requests to backend calls, and from their outcomes to SIP2
//! answers (style.md: map domain errors in one place per adapter).
//!
//! - A refusal's message goes to `AF` and clears the ok flag. An unknown card and a PIN
//!   that did not verify get one generic message and the same shape; only `BL` (valid
//!   patron) tells them apart, as the specification requires.
//! - A patron look-up shows personal details (name, counts, lists, fines) only when the
//!   PIN verified or none was supplied; a failed PIN gets the unknown-card shape with
//!   `BL=Y`. `CQ=Y` only for a supplied PIN that verified. A reader's email and phone
//!   (`BE`, `BF`) go out only with a PIN verified in that very message, whatever the
//!   station's settings.
//! - A station that needs PINs ([`pin_required`](super::port::StationPermissions::pin_required)) and sends a message
//!   naming a reader without `AD` gets the message's refusal with "Please enter your PIN."
//!   and no `BL`; the backend is not called, nothing is done and nothing is counted.
//! - `01` from a station that may not block is refused the same way, and no block is
//!   written.
//! - An infrastructure failure is logged and answered "not ok" with a generic message.

use library_core::Money;
use time::PrimitiveDateTime;
use time::macros::time;
use tracing::warn;

use super::config::ServerConfig;
use super::port::{
    BackendError, HoldTarget, ItemCirculation, LoanInfo, Outcome, PatronLookup, PatronStanding,
    PatronSummary, Refusal, ReturnRouting, Sip2Backend, StationSession,
};
use crate::codec::{
    BlockPatronRequest, CheckinRequest, CheckinResponse, CheckoutRequest, CheckoutResponse,
    EndPatronSessionRequest, EndSessionResponse, FeePaidRequest, FeePaidResponse, FixedStr,
    HoldMode, HoldRequest, HoldResponse, ItemInformationRequest, ItemInformationResponse,
    PatronCondition, PatronInformationRequest, PatronInformationResponse, PatronStatus,
    PatronStatusRequest, PatronStatusResponse, RenewAllRequest, RenewAllResponse, RenewRequest,
    Request, Response, SipDate, SipZone, SummaryItem, YesNoUnknown,
};

/// For an unknown card and a PIN that did not verify alike.
pub(crate) const NOT_VERIFIED: &str = "Your card number or PIN is not right. Please ask staff.";
/// For a station that may not block cards.
pub(crate) const MAY_NOT_BLOCK: &str = "This station may not block cards. Please ask staff.";
/// For an infrastructure failure.
pub(crate) const UNAVAILABLE: &str = "The library system is not available. Please ask staff.";
/// Items listed in one `64` or `66` list at most (the Python client reads 4 KB at once).
const MAX_LIST_ITEMS: usize = 20;

/// What an answer needs besides the request.
#[derive(Debug)]
pub(crate) struct Context<'a, B: ?Sized> {
    pub backend: &'a B,
    pub config: &'a ServerConfig,
    pub station: &'a StationSession,
}

impl<B: Sip2Backend + ?Sized> Context<'_, B> {
    fn now(&self) -> SipDate {
        SipDate::local(self.backend.now(), self.config.local_offset)
    }

    fn date(&self, at: time::OffsetDateTime) -> String {
        SipDate::local(at, self.config.local_offset).to_string()
    }

    /// The request's `AO`, or the station's library when it sent none.
    fn institution(&self, sent: &str) -> String {
        if sent.is_empty() {
            self.station.library_code.as_str().to_owned()
        } else {
            sent.to_owned()
        }
    }

    fn currency(&self) -> Option<String> {
        Some(self.config.currency.as_str().to_owned())
    }

    /// The station needs PINs and this message names a reader without one: refused
    /// before the backend is called.
    fn pin_missing(&self, pin: Option<&str>) -> bool {
        self.station.permissions.pin_required && pin.is_none()
    }
}

/// Refused for want of a PIN, or runs `call`.
async fn unless_pin_missing<B, T, F>(ctx: &Context<'_, B>, pin: Option<&str>, call: F) -> Outcome<T>
where
    B: Sip2Backend + ?Sized,
    F: Future<Output = Outcome<T>>,
{
    if ctx.pin_missing(pin) {
        Ok(Err(Refusal::pin_required()))
    } else {
        call.await
    }
}

/// `AD` as the port wants it: empty is "not supplied".
fn pin(sent: Option<&String>) -> Option<&str> {
    sent.map(String::as_str).filter(|p| !p.is_empty())
}

fn unavailable(error: &BackendError) -> String {
    warn!(%error, "SIP2 request failed on the backend");
    UNAVAILABLE.to_owned()
}

/// The screen message for a refusal: one generic text for every patron refusal (a missing
/// PIN has its own: it says nothing about the card).
fn refusal_message(refusal: &Refusal) -> String {
    if refusal.is_about_the_patron() {
        NOT_VERIFIED.to_owned()
    } else if refusal.message.is_empty() {
        refusal.code.replace('_', " ")
    } else {
        refusal.message.clone()
    }
}

/// A 2-character fixed field, checked at compile time (use in `const` blocks).
const fn fixed2(code: &[u8; 2]) -> FixedStr<2> {
    match FixedStr::from_bytes(*code) {
        Some(fixed) => fixed,
        None => panic!("fixed fields are printable ASCII"),
    }
}

/// `2.50` from HK$2.50.
pub(crate) fn format_amount(amount: Money) -> String {
    let cents = amount.cents();
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `2.50`, `2.5`, `2`, `.5` → cents; anything else (signs, more than two decimals, over
/// 12 integer digits) is `None`.
pub(crate) fn parse_amount(text: &str) -> Option<Money> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.len() > 12 || fraction.len() > 2 || !digits(whole) || !digits(fraction) {
        return None;
    }
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    Some(Money::from_cents(whole * 100 + fraction))
}

fn status_of(standing: &PatronStanding) -> PatronStatus {
    let mut status = PatronStatus::GOOD_STANDING;
    for (set, condition) in [
        (
            standing.charge_denied,
            PatronCondition::ChargePrivilegesDenied,
        ),
        (
            standing.renewal_denied,
            PatronCondition::RenewalPrivilegesDenied,
        ),
        (standing.hold_denied, PatronCondition::HoldPrivilegesDenied),
        (
            standing.too_many_items_charged,
            PatronCondition::TooManyItemsCharged,
        ),
        (
            standing.too_many_items_overdue,
            PatronCondition::TooManyItemsOverdue,
        ),
        (
            standing.excessive_fines,
            PatronCondition::ExcessiveOutstandingFines,
        ),
    ] {
        if set {
            status = status.with(condition);
        }
    }
    status
}

/// Answers a request from a logged-in station (not 93, 99 or 97: see the session).
pub(crate) async fn answer<B: Sip2Backend + ?Sized>(
    ctx: &Context<'_, B>,
    request: &Request,
) -> Response {
    match request {
        Request::PatronStatus(r) => patron_status(ctx, r).await,
        Request::PatronInformation(r) => patron_information(ctx, r).await,
        Request::BlockPatron(r) => block_patron(ctx, r).await,
        Request::Checkout(r) => checkout(ctx, r).await,
        Request::Checkin(r) => checkin(ctx, r).await,
        Request::Renew(r) => renew(ctx, r).await,
        Request::RenewAll(r) => renew_all(ctx, r).await,
        Request::Hold(r) => hold(ctx, r).await,
        Request::EndPatronSession(r) => end_session(ctx, r).await,
        Request::FeePaid(r) => fee_paid(ctx, r).await,
        Request::ItemInformation(r) => item_information(ctx, r).await,
        // Answered by the session itself.
        Request::Login(_) | Request::ScStatus(_) | Request::RequestAcsResend => {
            Response::RequestScResend
        }
    }
}

/// The patron part of a `24`/`64`: status, name, BL, CQ, fees, screen messages.
struct PatronFields {
    status: PatronStatus,
    name: String,
    valid_patron: Option<bool>,
    valid_pin: bool,
    outstanding: Option<Money>,
    messages: Vec<String>,
}

impl PatronFields {
    fn refused(valid_patron: Option<bool>, message: String) -> Self {
        Self {
            status: PatronStatus::PRIVILEGES_DENIED,
            name: String::new(),
            valid_patron,
            valid_pin: false,
            outstanding: None,
            messages: vec![message],
        }
    }

    fn of<T>(
        lookup: &Result<PatronLookup<T>, BackendError>,
        summary: fn(&T) -> &PatronSummary,
    ) -> Self {
        match lookup {
            Err(error) => Self::refused(None, unavailable(error)),
            Ok(PatronLookup::UnknownPatron) => Self::refused(Some(false), NOT_VERIFIED.to_owned()),
            Ok(PatronLookup::PinNotVerified) => Self::refused(Some(true), NOT_VERIFIED.to_owned()),
            Ok(PatronLookup::Found {
                pin_verified,
                patron,
            }) => {
                let s = summary(patron);
                Self {
                    status: status_of(&s.standing),
                    name: s.name.clone(),
                    valid_patron: Some(true),
                    valid_pin: *pin_verified,
                    outstanding: s.outstanding.is_positive().then_some(s.outstanding),
                    messages: s.messages.clone(),
                }
            }
        }
    }
}

async fn patron_status<B: Sip2Backend + ?Sized>(
    ctx: &Context<'_, B>,
    r: &PatronStatusRequest,
) -> Response {
    let sent = pin(Some(&r.patron_password));
    let p = if ctx.pin_missing(sent) {
        PatronFields::refused(None, Refusal::pin_required().message)
    } else {
        let lookup = ctx
            .backend
            .patron_status(ctx.station, &r.patron_identifier, sent)
            .await;
        PatronFields::of(&lookup, |s| s)
    };
    Response::PatronStatus(PatronStatusResponse {
        patron_status: p.status,
        language: r.language,
        transaction_date: ctx.now(),
        institution_id: ctx.institution(&r.institution_id),
        patron_identifier: r.patron_identifier.clone(),
        personal_name: p.name,
        valid_patron: p.valid_patron,
        valid_patron_password: Some(p.valid_pin),
        currency_type: p.outstanding.and_then(|_| ctx.currency()),
        fee_amount: p.outstanding.map(format_amount),
        screen_messages: p.messages,
        print_lines: Vec::new(),
    })
}

/// The 1-based inclusive `BP`..`BQ` range as a slice range, at most [`MAX_LIST_ITEMS`].
fn list_range(start: Option<&String>, end: Option<&String>, len: usize) -> std::ops::Range<usize> {
    let number = |v: Option<&String>| v.and_then(|v| v.trim().parse::<usize>().ok());
    let first = number(start).unwrap_or(1).max(1) - 1;
    let last = number(end).unwrap_or(usize::MAX).min(len);
    let last = last.min(first.saturating_add(MAX_LIST_ITEMS));
    first.min(last)..last
}

async fn patron_information<B: Sip2Backend + ?Sized>(
    ctx: &Context<'_, B>,
    r: &PatronInformationRequest,
) -> Response {
    let sent = pin(r.patron_password.as_ref());
    let (lookup, p) = if ctx.pin_missing(sent) {
        (
            None,
            PatronFields::refused(None, Refusal::pin_required().message),
        )
    } else {
        let lookup = ctx
            .backend
            .patron_information(ctx.station, &r.patron_identifier, sent)
            .await;
        let p = PatronFields::of(&lookup, |i| &i.summary);
        (Some(lookup), p)
    };
    let mut m = PatronInformationResponse {
        patron_status: p.status,
        language: r.language,
        transaction_date: ctx.now(),
        hold_items_count: Some(0),
        overdue_items_count: Some(0),
        charged_items_count: Some(0),
        fine_items_count: Some(0),
        recall_items_count: Some(0),
        unavailable_holds_count: Some(0),
        institution_id: ctx.institution(&r.institution_id),
        patron_identifier: r.patron_identifier.clone(),
        personal_name: p.name,
        hold_items_limit: None,
        overdue_items_limit: None,
        charged_items_limit: None,
        valid_patron: p.valid_patron,
        valid_patron_password: Some(p.valid_pin),
        currency_type: p.outstanding.and_then(|_| ctx.currency()),
        fee_amount: p.outstanding.map(format_amount),
        fee_limit: None,
        hold_items: Vec::new(),
        overdue_items: Vec::new(),
        charged_items: Vec::new(),
        fine_items: Vec::new(),
        recall_items: Vec::new(),
        unavailable_hold_items: Vec::new(),
        home_address: None,
        email_address: None,
        home_phone_number: None,
        screen_messages: p.messages,
        print_lines: Vec::new(),
    };
    if let Some(Ok(PatronLookup::Found {
        patron: info,
        pin_verified,
    })) = &lookup
    {
        let count = |n: usize| Some(u16::try_from(n).unwrap_or(u16::MAX));
        let available: Vec<String> = info
            .holds
            .iter()
            .filter(|h| h.available)
            .map(|h| h.item.clone())
            .collect();
        let unavailable: Vec<String> = info
            .holds
            .iter()
            .filter(|h| !h.available)
            .map(|h| h.item.clone())
            .collect();
        let overdue: Vec<String> = info
            .loans
            .iter()
            .filter(|l| l.overdue)
            .map(|l| l.barcode.clone())
            .collect();
        let charged: Vec<String> = info.loans.iter().map(|l| l.barcode.clone()).collect();
        let fines: Vec<String> = info
            .fines
            .iter()
            .map(|f| format!("{} {}", f.description, format_amount(f.amount)))
            .collect();
        m.hold_items_count = count(available.len());
        m.overdue_items_count = count(overdue.len());
        m.charged_items_count = count(charged.len());
        m.fine_items_count = count(fines.len());
        m.unavailable_holds_count = count(unavailable.len());
        m.hold_items_limit = info
            .hold_limit
            .map(|n| u16::try_from(n).unwrap_or(u16::MAX));
        m.charged_items_limit = info
            .loan_limit
            .map(|n| u16::try_from(n).unwrap_or(u16::MAX));
        // Contact details only to the reader who proved it with the PIN, in this message.
        if *pin_verified {
            m.email_address = info.email.clone();
            m.home_phone_number = info.phone.clone();
        }
        let pick = |list: Vec<String>| {
            let range = list_range(r.start_item.as_ref(), r.end_item.as_ref(), list.len());
            list[range].to_vec()
        };
        match r.summary {
            Some(SummaryItem::HoldItems) => m.hold_items = pick(available),
            Some(SummaryItem::OverdueItems) => m.overdue_items = pick(overdue),
            Some(SummaryItem::ChargedItems) => m.charged_items = pick(charged),
            Some(SummaryItem::FineItems) => m.fine_items = pick(fines),
            Some(SummaryItem::UnavailableHolds) => m.unavailable_hold_items = pick(unavailable),
            Some(SummaryItem::RecallItems) | None => {}
        }
    }
    Response::PatronInformation(m)
}

async fn block_patron<B: Sip2Backend + ?Sized>(
    ctx: &Context<'_, B>,
    r: &BlockPatronRequest,
) -> Response {
    let sent = pin(r.patron_password.as_ref());
    let result = if !ctx.station.permissions.may_block {
        Err(MAY_NOT_BLOCK.to_owned())
    } else if ctx.pin_missing(sent) {
        Err(Refusal::pin_required().message)
    } else {
        Ok(ctx
            .backend
            .block_patron(ctx.station, &r.patron_identifier, sent, &r.blocked_card_msg)
            .await)
    };
    let p = match &result {
        // Refused by the station's settings: nothing asked of the library.
        Err(message) => PatronFields::refused(None, message.clone()),
        Ok(Err(error)) => PatronFields::refused(None, unavailable(error)),
        Ok(Ok(PatronLookup::UnknownPatron)) => {
            PatronFields::refused(Some(false), NOT_VERIFIED.to_owned())
        }
        Ok(Ok(PatronLookup::PinNotVerified)) => {
            PatronFields::refused(Some(true), NOT_VERIFIED.to_owned())
        }
        Ok(Ok(PatronLookup::Found {
            patron: summary, ..
        })) => PatronFields {
            // Blocked: whatever the backend says, the card may not be used now.
            status: status_of(&summary.standing).with(PatronCondition::ChargePrivilegesDenied),
            name: summary.name.clone(),
            valid_patron: Some(true),
            valid_pin: false,
            outstanding: summary
                .outstanding
                .is_positive()
                .then_some(summary.outstanding),
            messages: summary.messages.clone(),
        },
    };
    Response::PatronStatus(PatronStatusResponse {
        patron_status: p.status,
        language: FixedStr::LANGUAGE_UNKNOWN,
        transaction_date: ctx.now(),
        institution_id: ctx.institution(&r.institution_id),
        patron_identifier: r.patron_identifier.clone(),
        personal_name: p.name,
        valid_patron: p.valid_patron,
        valid_patron_password: Some(false),
        currency_type: p.outstanding.and_then(|_| ctx.currency()),
        fee_amount: p.outstanding.map(format_amount),
        screen_messages: p.messages,
        print_lines: Vec::new(),
    })
}

/// A `12`/`30` from a loan outcome. `renewal` chooses the renewal flags.
fn loan_answer<B: Sip2Backend + ?Sized>(
    ctx: &Context<'_, B>,
    institution: &str,
    patron: &str,
    item: &str,
    outcome: Result<Result<LoanInfo, Refusal>, BackendError>,
    renewal: bool,
) -> CheckoutResponse {
    let mut m = CheckoutResponse {
        ok: false,
        renewal_ok: false,
        magnetic_media: YesNoUnknown::Unknown,
        desensitize: YesNoUnknown::No,
        transaction_date: ctx.now(),
        institution_id: ctx.institution(institution),
        patron_identifier: patron.to_owned(),
        item_identifier: item.to_owned(),
        title_identifier: String::new(),
        due_date: String::new(),
        fee_type: None,
        security_inhibit: None,
        currency_type: None,
        fee_amount: None,
        media_type: None,
        item_properties: None,
        transaction_id: None,
        valid_patron: None,
        screen_messages: Vec::new(),
        print_lines: Vec::new(),
    };
    match outcome {
        Ok(Ok(loan)) => {
            m.ok = true;
            m.renewal_ok = renewal;
            m.magnetic_media = YesNoUnknown::No;
            m.desensitize = if renewal {
                YesNoUnknown::No
            } else {
                YesNoUnknown::Yes
            };
            m.item_identifier = loan.barcode;
            m.title_identifier = loan.title;
            m.due_date = ctx.date(loan.due_at);
            m.valid_patron = Some(true);
            if loan.charged.is_positive() {
                m.currency_type = ctx.currency();
                m.fee_amount = Some(format_amount(loan.charged));
            }
        }
        Ok(Err(refusal)) => {
            // A missing PIN says nothing about the card.
            m.valid_patron = (refusal.code != Refusal::PIN_REQUIRED)
                .then_some(refusal.code != Refusal::PATRON_NOT_FOUND);
            m.screen_messages.push(refusal_message(&refusal));
        }
        Err(error) => m.screen_messages.push(unavailable(&error)),
    }
    m
}

async fn checkout<B: Sip2Backend + ?Sized>(ctx: &Context<'_, B>, r: &CheckoutRequest) -> Response {
    let sent = pin(r.patron_password.as_ref());
    let outcome = unless_pin_missing(
        ctx,
        sent,
        ctx.backend.checkout(
            ctx.station,
            &r.patron_identifier,
            sent,
            &r.item_identifier,
            r.fee_acknowledged == Some(true),
        ),
    )
    .await;
    Response::Checkout(loan_answer(
        ctx,
        &r.institution_id,
        &r.patron_identifier,
        &r.item_identifier,
        outcome,
        false,
    ))
}

async fn renew<B: Sip2Backend + ?Sized>(ctx: &Context<'_, B>, r: &RenewRequest) -> Response {
    let item = r.item_identifier.clone().unwrap_or_default();
    let outcome = if item.is_empty() {
        // Renewal by title alone: we renew loans of copies, named by barcode.
        Ok(Err(Refusal::new(
            Refusal::ITEM_NOT_FOUND,
            "Please give the item's barcode.",
        )))
    } else {
        let sent = pin(r.patron_password.as_ref());
        unless_pin_missing(
            ctx,
            sent,
            ctx.backend.renew(
                ctx.station,
                &r.patron_identifier,
                sent,
                &item,
                r.fee_acknowledged == Some(true),
            ),
        )
        .await
    };
    Response::Renew(loan_answer(
        ctx,
        &r.institution_id,
        &r.patron_identifier,
        &item,
        outcome,
        true,
    ))
}

async fn checkin<B: Sip2Backend + ?Sized>(ctx: &Context<'_, B>, r: &CheckinRequest) -> Response {
    // Only an offline (no-block) return carries a return date worth believing; an online
    // one happens now, whatever the station's clock or zone says.
    let returned_at = r
        .return_date
        .filter(|_| r.no_block)
        .map(|d| d.to_offset_date_time(ctx.config.local_offset));
    let outcome = ctx
        .backend
        .checkin(ctx.station, &r.item_identifier, returned_at)
        .await;
    let mut m = CheckinResponse {
        ok: false,
        resensitize: true,
        magnetic_media: YesNoUnknown::Unknown,
        alert: true,
        transaction_date: ctx.now(),
        institution_id: ctx.institution(&r.institution_id),
        item_identifier: r.item_identifier.clone(),
        permanent_location: String::new(),
        title_identifier: None,
        sort_bin: None,
        patron_identifier: None,
        media_type: None,
        item_properties: None,
        alert_type: None,
        destination_location: None,
        screen_messages: Vec::new(),
        print_lines: Vec::new(),
    };
    match outcome {
        Ok(Ok(ret)) => {
            m.ok = true;
            m.magnetic_media = YesNoUnknown::No;
            m.item_identifier = ret.barcode;
            m.permanent_location = ret.permanent_location;
            m.title_identifier = Some(ret.title);
            m.patron_identifier = ret.patron_card;
            // Set aside, sorted to the library it goes to: `CL` (as before), `CT` and the
            // alert type `CV` (3M extensions, as Koha sends them).
            m.alert = ret.routing != ReturnRouting::Shelf;
            m.alert_type = ret.routing.alert_type().map(str::to_owned);
            m.destination_location = ret.routing.destination().map(str::to_owned);
            m.sort_bin.clone_from(&m.destination_location);
            match &ret.routing {
                ReturnRouting::Shelf => {}
                ReturnRouting::HoldHere { library } => m
                    .screen_messages
                    .push(format!("On hold: send to the hold shelf at {library}.")),
                ReturnRouting::HoldElsewhere { library } => m
                    .screen_messages
                    .push(format!("On hold at {library}: send it there (in transit).")),
                ReturnRouting::SendElsewhere { library } => m
                    .screen_messages
                    .push(format!("In transit: send it to {library}.")),
            }
            if ret.fine.is_positive() {
                m.screen_messages
                    .push(format!("Fine charged: {}", format_amount(ret.fine)));
            }
        }
        Ok(Err(refusal)) => m.screen_messages.push(refusal_message(&refusal)),
        Err(error) => m.screen_messages.push(unavailable(&error)),
    }
    Response::Checkin(m)
}

async fn renew_all<B: Sip2Backend + ?Sized>(ctx: &Context<'_, B>, r: &RenewAllRequest) -> Response {
    let sent = pin(r.patron_password.as_ref());
    let outcome = unless_pin_missing(
        ctx,
        sent,
        ctx.backend.renew_all(
            ctx.station,
            &r.patron_identifier,
            sent,
            r.fee_acknowledged == Some(true),
        ),
    )
    .await;
    let mut m = RenewAllResponse {
        ok: false,
        renewed_count: 0,
        unrenewed_count: 0,
        transaction_date: ctx.now(),
        institution_id: ctx.institution(&r.institution_id),
        renewed_items: Vec::new(),
        unrenewed_items: Vec::new(),
        screen_messages: Vec::new(),
        print_lines: Vec::new(),
    };
    match outcome {
        Ok(Ok(info)) => {
            let count = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
            m.ok = true;
            m.renewed_count = count(info.renewed.len());
            m.unrenewed_count = count(info.not_renewed.len());
            m.renewed_items = info.renewed.into_iter().take(MAX_LIST_ITEMS).collect();
            for (barcode, refusal) in info.not_renewed.into_iter().take(MAX_LIST_ITEMS) {
                m.screen_messages
                    .push(format!("{barcode}: {}", refusal_message(&refusal)));
                m.unrenewed_items.push(barcode);
            }
        }
        Ok(Err(refusal)) => m.screen_messages.push(refusal_message(&refusal)),
        Err(error) => m.screen_messages.push(unavailable(&error)),
    }
    Response::RenewAll(m)
}

async fn hold<B: Sip2Backend + ?Sized>(ctx: &Context<'_, B>, r: &HoldRequest) -> Response {
    let target = match (&r.item_identifier, &r.title_identifier) {
        (Some(item), _) if !item.is_empty() => Some(HoldTarget::Item(item)),
        (_, Some(title)) if !title.is_empty() => Some(HoldTarget::Title(title)),
        _ => None,
    };
    let pin = pin(r.patron_password.as_ref());
    let card = &r.patron_identifier;
    let outcome = match (r.hold_mode, target) {
        _ if ctx.pin_missing(pin) => Ok(Err(Refusal::pin_required())),
        (_, None) => Ok(Err(Refusal::item_not_found())),
        (HoldMode::Add, Some(target)) => {
            let pickup = r.pickup_location.as_deref().filter(|p| !p.is_empty());
            ctx.backend
                .place_hold(ctx.station, card, pin, target, pickup)
                .await
        }
        (HoldMode::Delete, Some(target)) => {
            ctx.backend
                .cancel_hold(ctx.station, card, pin, target)
                .await
        }
        (HoldMode::Change, Some(_)) => Ok(Err(Refusal::new(
            "hold_change_not_supported",
            "Changing a hold is not possible here; cancel it and place a new one.",
        ))),
    };
    let mut m = HoldResponse {
        ok: false,
        available: false,
        transaction_date: ctx.now(),
        expiration_date: None,
        queue_position: None,
        pickup_location: None,
        institution_id: ctx.institution(&r.institution_id),
        patron_identifier: r.patron_identifier.clone(),
        item_identifier: r.item_identifier.clone(),
        title_identifier: r.title_identifier.clone(),
        screen_messages: Vec::new(),
        print_lines: Vec::new(),
    };
    match outcome {
        Ok(Ok(info)) => {
            m.ok = true;
            m.available = info.available;
            m.queue_position = info.queue_position.map(|p| p.to_string());
            m.pickup_location = Some(info.pickup_library);
            m.expiration_date = info.pickup_by.map(|date| {
                SipDate {
                    datetime: PrimitiveDateTime::new(date, time!(23:59:59)),
                    zone: SipZone::Local,
                }
                .to_string()
            });
            if m.title_identifier.is_none() {
                m.title_identifier = Some(info.title);
            }
        }
        Ok(Err(refusal)) => m.screen_messages.push(refusal_message(&refusal)),
        Err(error) => m.screen_messages.push(unavailable(&error)),
    }
    Response::Hold(m)
}

async fn end_session<B: Sip2Backend + ?Sized>(
    ctx: &Context<'_, B>,
    r: &EndPatronSessionRequest,
) -> Response {
    let sent = pin(r.patron_password.as_ref());
    let outcome = unless_pin_missing(
        ctx,
        sent,
        ctx.backend
            .end_session(ctx.station, &r.patron_identifier, sent),
    )
    .await;
    let mut m = EndSessionResponse {
        end_session: false,
        transaction_date: ctx.now(),
        institution_id: ctx.institution(&r.institution_id),
        patron_identifier: r.patron_identifier.clone(),
        screen_messages: Vec::new(),
        print_lines: Vec::new(),
    };
    match outcome {
        Ok(Ok(())) => m.end_session = true,
        Ok(Err(refusal)) => m.screen_messages.push(refusal_message(&refusal)),
        Err(error) => m.screen_messages.push(unavailable(&error)),
    }
    Response::EndSession(m)
}

async fn fee_paid<B: Sip2Backend + ?Sized>(ctx: &Context<'_, B>, r: &FeePaidRequest) -> Response {
    let currency = r.currency_type.as_str();
    let sent = pin(r.patron_password.as_ref());
    let outcome = if ctx.pin_missing(sent) {
        Ok(Err(Refusal::pin_required()))
    } else if currency.trim().is_empty() || currency == ctx.config.currency.as_str() {
        match parse_amount(&r.fee_amount).filter(|a| a.is_positive()) {
            None => Ok(Err(Refusal::new(
                "invalid_amount",
                format!("Not an amount: {:?}", r.fee_amount),
            ))),
            Some(amount) => {
                ctx.backend
                    .fee_paid(
                        ctx.station,
                        &r.patron_identifier,
                        sent,
                        amount,
                        r.fee_identifier.as_deref().filter(|f| !f.is_empty()),
                        r.transaction_id.as_deref().filter(|t| !t.is_empty()),
                    )
                    .await
            }
        }
    } else {
        Ok(Err(Refusal::new(
            "wrong_currency",
            format!("Payments are taken in {}.", ctx.config.currency),
        )))
    };
    let mut m = FeePaidResponse {
        payment_accepted: false,
        transaction_date: ctx.now(),
        institution_id: ctx.institution(&r.institution_id),
        patron_identifier: r.patron_identifier.clone(),
        transaction_id: r.transaction_id.clone(),
        screen_messages: Vec::new(),
        print_lines: Vec::new(),
    };
    match outcome {
        Ok(Ok(payment)) => {
            m.payment_accepted = true;
            if payment.transaction_id.is_some() {
                m.transaction_id = payment.transaction_id;
            }
            m.screen_messages.push(format!(
                "Still outstanding: {}",
                format_amount(payment.outstanding)
            ));
        }
        Ok(Err(refusal)) => m.screen_messages.push(refusal_message(&refusal)),
        Err(error) => m.screen_messages.push(unavailable(&error)),
    }
    Response::FeePaid(m)
}

async fn item_information<B: Sip2Backend + ?Sized>(
    ctx: &Context<'_, B>,
    r: &ItemInformationRequest,
) -> Response {
    let found = ctx
        .backend
        .item_information(ctx.station, &r.item_identifier)
        .await;
    let mut m = ItemInformationResponse {
        // 01 other; 00 security marker "other"; 01 fee type "other/unknown".
        circulation_status: const { fixed2(b"01") },
        security_marker: const { fixed2(b"00") },
        fee_type: const { fixed2(b"01") },
        transaction_date: ctx.now(),
        hold_queue_length: None,
        due_date: None,
        recall_date: None,
        hold_pickup_date: None,
        item_identifier: r.item_identifier.clone(),
        title_identifier: String::new(),
        owner: None,
        currency_type: None,
        fee_amount: None,
        media_type: None,
        permanent_location: None,
        current_location: None,
        item_properties: None,
        screen_messages: Vec::new(),
        print_lines: Vec::new(),
    };
    match found {
        Ok(Some(item)) => {
            m.circulation_status = match item.circulation {
                ItemCirculation::Available => const { fixed2(b"03") },
                ItemCirculation::OnLoan => const { fixed2(b"04") },
                ItemCirculation::OnHoldShelf => const { fixed2(b"08") },
                ItemCirculation::InTransit => const { fixed2(b"10") },
                ItemCirculation::Lost => const { fixed2(b"12") },
                ItemCirculation::Other => const { fixed2(b"01") },
            };
            m.title_identifier = item.title;
            m.due_date = item.due_at.map(|at| ctx.date(at));
            m.hold_queue_length = Some(item.hold_queue_length.to_string());
            m.permanent_location = Some(item.owner_library.clone());
            m.owner = Some(item.owner_library);
        }
        Ok(None) => m.screen_messages.push("Item not found".to_owned()),
        Err(error) => m.screen_messages.push(unavailable(&error)),
    }
    Response::ItemInformation(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_and_written_in_cents() {
        for (text, cents) in [
            ("2.50", 250),
            ("2.5", 250),
            ("2", 200),
            (".5", 50),
            (" 10.05 ", 1005),
        ] {
            assert_eq!(parse_amount(text), Some(Money::from_cents(cents)), "{text}");
        }
        for bad in [
            "",
            ".",
            "-1.00",
            "+1",
            "1.005",
            "1,50",
            "1e3",
            "9999999999999",
        ] {
            assert_eq!(parse_amount(bad), None, "{bad}");
        }
        assert_eq!(format_amount(Money::from_cents(250)), "2.50");
        assert_eq!(format_amount(Money::from_cents(-5)), "-0.05");
    }

    #[test]
    fn list_ranges_are_one_based_inclusive_and_capped() {
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(list_range(None, None, 3), 0..3);
        assert_eq!(list_range(s("2").as_ref(), s("2").as_ref(), 3), 1..2);
        assert_eq!(list_range(s("0").as_ref(), s("9").as_ref(), 3), 0..3);
        assert_eq!(list_range(s("5").as_ref(), None, 3), 3..3);
        assert_eq!(list_range(s("x").as_ref(), s("y").as_ref(), 2), 0..2);
        assert_eq!(list_range(None, None, 100), 0..MAX_LIST_ITEMS);
    }

    #[test]
    fn refusals_about_the_patron_share_one_message() {
        assert_eq!(refusal_message(&Refusal::patron_not_found()), NOT_VERIFIED);
        assert_eq!(refusal_message(&Refusal::pin_not_verified()), NOT_VERIFIED);
        assert_eq!(
            refusal_message(&Refusal::new("quota_reached", "")),
            "quota reached"
        );
        assert_eq!(
            refusal_message(&Refusal::new(
                "quota_reached",
                "the reader has reached the loan quota"
            )),
            "the reader has reached the loan quota"
        );
    }

    #[test]
    fn standing_maps_to_the_patron_status_positions() {
        let standing = PatronStanding {
            charge_denied: true,
            excessive_fines: true,
            ..PatronStanding::default()
        };
        let status = status_of(&standing);
        assert!(status.is_set(PatronCondition::ChargePrivilegesDenied));
        assert!(status.is_set(PatronCondition::ExcessiveOutstandingFines));
        assert!(!status.is_set(PatronCondition::RenewalPrivilegesDenied));
        assert_eq!(
            status_of(&PatronStanding::default()),
            PatronStatus::GOOD_STANDING
        );
    }
}
