//! Responses: what we send back (ACS → SC).
//!
//! Field names follow the SIP2 specification, wire identifiers in the doc comments. Required
//! variable fields are always written, even empty; optional ones only when `Some` (or
//! non-empty, for repeatable ones). Output order is the specification's order.

use crate::codec::fields::Writer;
use crate::codec::values::{
    Charset, FixedStr, PatronStatus, SipDate, SupportedMessages, YesNoUnknown,
};
use crate::codec::{Body, CodecError, ParsedResponse, frame};

mod parse;
use parse::*;

/// 94 Login Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginResponse {
    /// `1` / `0`.
    pub ok: bool,
}

/// 98 ACS Status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcsStatusResponse {
    /// On-line status.
    pub online_status: bool,
    /// Checkin ok.
    pub checkin_ok: bool,
    /// Checkout ok.
    pub checkout_ok: bool,
    /// ACS renewal policy.
    pub acs_renewal_policy: bool,
    /// Status update ok.
    pub status_update_ok: bool,
    /// Off-line ok.
    pub offline_ok: bool,
    /// Tenths of a second, 3 digits (000 = off-line, 999 = unknown); clamped to 999.
    pub timeout_period: u16,
    /// 3 digits (999 = unknown); clamped to 999.
    pub retries_allowed: u16,
    /// Date/time sync.
    pub date_time_sync: SipDate,
    /// `2.00`
    pub protocol_version: FixedStr<4>,
    /// `AO`
    pub institution_id: String,
    /// `AM`
    pub library_name: Option<String>,
    /// `BX`
    pub supported_messages: SupportedMessages,
    /// `AN`
    pub terminal_location: Option<String>,
    /// `AF` (repeatable)
    pub screen_messages: Vec<String>,
    /// `AG` (repeatable)
    pub print_lines: Vec<String>,
}

/// 24 Patron Status Response (also the answer to 01).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronStatusResponse {
    /// 14 flags.
    pub patron_status: PatronStatus,
    /// Three digits.
    pub language: FixedStr<3>,
    /// Transaction date.
    pub transaction_date: SipDate,
    /// `AO`
    pub institution_id: String,
    /// `AA`
    pub patron_identifier: String,
    /// `AE`
    pub personal_name: String,
    /// `BL`
    pub valid_patron: Option<bool>,
    /// `CQ`
    pub valid_patron_password: Option<bool>,
    /// `BH`
    pub currency_type: Option<String>,
    /// `BV`
    pub fee_amount: Option<String>,
    /// `AF` (repeatable)
    pub screen_messages: Vec<String>,
    /// `AG` (repeatable)
    pub print_lines: Vec<String>,
}

/// 64 Patron Information Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronInformationResponse {
    /// 14 flags.
    pub patron_status: PatronStatus,
    /// Three digits.
    pub language: FixedStr<3>,
    /// Transaction date.
    pub transaction_date: SipDate,
    /// 4 digits, or blanks when `None` (not supported); clamped to 9999.
    pub hold_items_count: Option<u16>,
    /// See `hold_items_count`.
    pub overdue_items_count: Option<u16>,
    /// See `hold_items_count`.
    pub charged_items_count: Option<u16>,
    /// See `hold_items_count`.
    pub fine_items_count: Option<u16>,
    /// See `hold_items_count`.
    pub recall_items_count: Option<u16>,
    /// See `hold_items_count`.
    pub unavailable_holds_count: Option<u16>,
    /// `AO`
    pub institution_id: String,
    /// `AA`
    pub patron_identifier: String,
    /// `AE`
    pub personal_name: String,
    /// `BZ` (4 digits)
    pub hold_items_limit: Option<u16>,
    /// `CA` (4 digits)
    pub overdue_items_limit: Option<u16>,
    /// `CB` (4 digits)
    pub charged_items_limit: Option<u16>,
    /// `BL`
    pub valid_patron: Option<bool>,
    /// `CQ`
    pub valid_patron_password: Option<bool>,
    /// `BH`
    pub currency_type: Option<String>,
    /// `BV`
    pub fee_amount: Option<String>,
    /// `CC`
    pub fee_limit: Option<String>,
    /// `AS` (repeatable)
    pub hold_items: Vec<String>,
    /// `AT` (repeatable)
    pub overdue_items: Vec<String>,
    /// `AU` (repeatable)
    pub charged_items: Vec<String>,
    /// `AV` (repeatable)
    pub fine_items: Vec<String>,
    /// `BU` (repeatable)
    pub recall_items: Vec<String>,
    /// `CD` (repeatable)
    pub unavailable_hold_items: Vec<String>,
    /// `BD`
    pub home_address: Option<String>,
    /// `BE`
    pub email_address: Option<String>,
    /// `BF`
    pub home_phone_number: Option<String>,
    /// `AF` (repeatable)
    pub screen_messages: Vec<String>,
    /// `AG` (repeatable)
    pub print_lines: Vec<String>,
}

/// The shape shared by 12 Checkout Response and 30 Renew Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutResponse {
    /// `1` / `0`.
    pub ok: bool,
    /// Renewal ok.
    pub renewal_ok: bool,
    /// Magnetic media.
    pub magnetic_media: YesNoUnknown,
    /// Desensitize.
    pub desensitize: YesNoUnknown,
    /// Transaction date.
    pub transaction_date: SipDate,
    /// `AO`
    pub institution_id: String,
    /// `AA`
    pub patron_identifier: String,
    /// `AB`
    pub item_identifier: String,
    /// `AJ` (may be empty)
    pub title_identifier: String,
    /// `AH` (free format; may be empty)
    pub due_date: String,
    /// `BT`
    pub fee_type: Option<String>,
    /// `CI`
    pub security_inhibit: Option<bool>,
    /// `BH`
    pub currency_type: Option<String>,
    /// `BV`
    pub fee_amount: Option<String>,
    /// `CK`
    pub media_type: Option<String>,
    /// `CH`
    pub item_properties: Option<String>,
    /// `BK`
    pub transaction_id: Option<String>,
    /// `BL` (not in 2.00 for this message, but Evergreen sends it and stations read it)
    pub valid_patron: Option<bool>,
    /// `AF` (repeatable)
    pub screen_messages: Vec<String>,
    /// `AG` (repeatable)
    pub print_lines: Vec<String>,
}

/// 30 Renew Response: the same fields as 12.
pub type RenewResponse = CheckoutResponse;

/// 10 Checkin Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinResponse {
    /// `1` / `0`.
    pub ok: bool,
    /// Resensitize.
    pub resensitize: bool,
    /// Magnetic media.
    pub magnetic_media: YesNoUnknown,
    /// Alert.
    pub alert: bool,
    /// Transaction date.
    pub transaction_date: SipDate,
    /// `AO`
    pub institution_id: String,
    /// `AB`
    pub item_identifier: String,
    /// `AQ`
    pub permanent_location: String,
    /// `AJ`
    pub title_identifier: Option<String>,
    /// `CL`
    pub sort_bin: Option<String>,
    /// `AA`
    pub patron_identifier: Option<String>,
    /// `CK`
    pub media_type: Option<String>,
    /// `CH`
    pub item_properties: Option<String>,
    /// `CV` alert type, two digits (3M extension, as Koha sends it): `01` hold for this
    /// library, `02` hold for another library, `04` send to another library.
    pub alert_type: Option<String>,
    /// `CT` destination location (3M extension): the library to send the item to, or
    /// whose hold shelf it goes to.
    pub destination_location: Option<String>,
    /// `AF` (repeatable)
    pub screen_messages: Vec<String>,
    /// `AG` (repeatable)
    pub print_lines: Vec<String>,
}

/// 66 Renew All Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewAllResponse {
    /// `1` / `0`.
    pub ok: bool,
    /// 4 digits, clamped to 9999.
    pub renewed_count: u16,
    /// 4 digits, clamped to 9999.
    pub unrenewed_count: u16,
    /// Transaction date.
    pub transaction_date: SipDate,
    /// `AO`
    pub institution_id: String,
    /// `BM` (repeatable)
    pub renewed_items: Vec<String>,
    /// `BN` (repeatable)
    pub unrenewed_items: Vec<String>,
    /// `AF` (repeatable)
    pub screen_messages: Vec<String>,
    /// `AG` (repeatable)
    pub print_lines: Vec<String>,
}

/// 16 Hold Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldResponse {
    /// `1` / `0`.
    pub ok: bool,
    /// Available.
    pub available: bool,
    /// Transaction date.
    pub transaction_date: SipDate,
    /// `BW`
    pub expiration_date: Option<String>,
    /// `BR`
    pub queue_position: Option<String>,
    /// `BS`
    pub pickup_location: Option<String>,
    /// `AO`
    pub institution_id: String,
    /// `AA`
    pub patron_identifier: String,
    /// `AB`
    pub item_identifier: Option<String>,
    /// `AJ`
    pub title_identifier: Option<String>,
    /// `AF` (repeatable)
    pub screen_messages: Vec<String>,
    /// `AG` (repeatable)
    pub print_lines: Vec<String>,
}

/// 36 End Session Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndSessionResponse {
    /// End session.
    pub end_session: bool,
    /// Transaction date.
    pub transaction_date: SipDate,
    /// `AO`
    pub institution_id: String,
    /// `AA`
    pub patron_identifier: String,
    /// `AF` (repeatable)
    pub screen_messages: Vec<String>,
    /// `AG` (repeatable)
    pub print_lines: Vec<String>,
}

/// 38 Fee Paid Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeePaidResponse {
    /// Payment accepted.
    pub payment_accepted: bool,
    /// Transaction date.
    pub transaction_date: SipDate,
    /// `AO`
    pub institution_id: String,
    /// `AA`
    pub patron_identifier: String,
    /// `BK`
    pub transaction_id: Option<String>,
    /// `AF` (repeatable)
    pub screen_messages: Vec<String>,
    /// `AG` (repeatable)
    pub print_lines: Vec<String>,
}

/// 18 Item Information Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInformationResponse {
    /// Circulation status, 2 digits (`01` other … `13` lost).
    pub circulation_status: FixedStr<2>,
    /// Security marker, 2 digits.
    pub security_marker: FixedStr<2>,
    /// Fee type, 2 digits.
    pub fee_type: FixedStr<2>,
    /// Transaction date.
    pub transaction_date: SipDate,
    /// `CF`
    pub hold_queue_length: Option<String>,
    /// `AH`
    pub due_date: Option<String>,
    /// `CJ`
    pub recall_date: Option<String>,
    /// `CM`
    pub hold_pickup_date: Option<String>,
    /// `AB`
    pub item_identifier: String,
    /// `AJ`
    pub title_identifier: String,
    /// `BG`
    pub owner: Option<String>,
    /// `BH`
    pub currency_type: Option<String>,
    /// `BV`
    pub fee_amount: Option<String>,
    /// `CK`
    pub media_type: Option<String>,
    /// `AQ`
    pub permanent_location: Option<String>,
    /// `AP`
    pub current_location: Option<String>,
    /// `CH`
    pub item_properties: Option<String>,
    /// `AF` (repeatable)
    pub screen_messages: Vec<String>,
    /// `AG` (repeatable)
    pub print_lines: Vec<String>,
}

/// A response to a station, one variant per message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// 94
    Login(LoginResponse),
    /// 98
    AcsStatus(AcsStatusResponse),
    /// 96 Request SC Resend: no fields, never an `AY`.
    RequestScResend,
    /// 24
    PatronStatus(PatronStatusResponse),
    /// 64
    PatronInformation(PatronInformationResponse),
    /// 12
    Checkout(CheckoutResponse),
    /// 10
    Checkin(CheckinResponse),
    /// 30
    Renew(RenewResponse),
    /// 66
    RenewAll(RenewAllResponse),
    /// 16
    Hold(HoldResponse),
    /// 36
    EndSession(EndSessionResponse),
    /// 38
    FeePaid(FeePaidResponse),
    /// 18
    ItemInformation(ItemInformationResponse),
}

impl Response {
    /// Every command code this codec formats.
    pub const CODES: [&'static str; 13] = [
        "94", "98", "96", "24", "64", "12", "10", "30", "66", "16", "36", "38", "18",
    ];

    /// The two-digit command code.
    pub fn code(&self) -> &'static str {
        match self {
            Response::Login(_) => "94",
            Response::AcsStatus(_) => "98",
            Response::RequestScResend => "96",
            Response::PatronStatus(_) => "24",
            Response::PatronInformation(_) => "64",
            Response::Checkout(_) => "12",
            Response::Checkin(_) => "10",
            Response::Renew(_) => "30",
            Response::RenewAll(_) => "66",
            Response::Hold(_) => "16",
            Response::EndSession(_) => "36",
            Response::FeePaid(_) => "38",
            Response::ItemInformation(_) => "18",
        }
    }

    /// Formats the response, UTF-8. See [`Response::format_with`].
    pub fn format(&self, sequence: Option<u8>, with_checksum: bool) -> Vec<u8> {
        self.format_with(sequence, with_checksum, Charset::Utf8)
    }

    /// The bytes of the whole response, CR included, ready for one write.
    ///
    /// `sequence` is the request's `AY` digit to echo (taken modulo 10); `with_checksum`
    /// appends `AZ` and the checksum of everything before it. A 96 never carries `AY`
    /// (`96AZFEF6`).
    pub fn format_with(
        &self,
        sequence: Option<u8>,
        with_checksum: bool,
        charset: Charset,
    ) -> Vec<u8> {
        let mut w = Writer::new(self.code(), charset);
        let mut sequence = sequence;
        match self {
            Response::Login(m) => {
                w.ok(m.ok);
            }
            Response::AcsStatus(m) => {
                w.yes_no(m.online_status)
                    .yes_no(m.checkin_ok)
                    .yes_no(m.checkout_ok)
                    .yes_no(m.acs_renewal_policy)
                    .yes_no(m.status_update_ok)
                    .yes_no(m.offline_ok)
                    .number(m.timeout_period, 3)
                    .number(m.retries_allowed, 3)
                    .date(Some(&m.date_time_sync))
                    .text(&m.protocol_version)
                    .field("AO", &m.institution_id)
                    .optional("AM", m.library_name.as_ref())
                    .field("BX", &m.supported_messages.to_text())
                    .optional("AN", m.terminal_location.as_ref());
                messages(&mut w, &m.screen_messages, &m.print_lines);
            }
            Response::RequestScResend => sequence = None,
            Response::PatronStatus(m) => {
                w.patron_status(m.patron_status)
                    .text(&m.language)
                    .date(Some(&m.transaction_date))
                    .field("AO", &m.institution_id)
                    .field("AA", &m.patron_identifier)
                    .field("AE", &m.personal_name)
                    .flag("BL", m.valid_patron)
                    .flag("CQ", m.valid_patron_password)
                    .optional("BH", m.currency_type.as_ref())
                    .optional("BV", m.fee_amount.as_ref());
                messages(&mut w, &m.screen_messages, &m.print_lines);
            }
            Response::PatronInformation(m) => {
                w.patron_status(m.patron_status)
                    .text(&m.language)
                    .date(Some(&m.transaction_date))
                    .count(m.hold_items_count)
                    .count(m.overdue_items_count)
                    .count(m.charged_items_count)
                    .count(m.fine_items_count)
                    .count(m.recall_items_count)
                    .count(m.unavailable_holds_count)
                    .field("AO", &m.institution_id)
                    .field("AA", &m.patron_identifier)
                    .field("AE", &m.personal_name)
                    .optional_number("BZ", m.hold_items_limit)
                    .optional_number("CA", m.overdue_items_limit)
                    .optional_number("CB", m.charged_items_limit)
                    .flag("BL", m.valid_patron)
                    .flag("CQ", m.valid_patron_password)
                    .optional("BH", m.currency_type.as_ref())
                    .optional("BV", m.fee_amount.as_ref())
                    .optional("CC", m.fee_limit.as_ref())
                    .repeated("AS", &m.hold_items)
                    .repeated("AT", &m.overdue_items)
                    .repeated("AU", &m.charged_items)
                    .repeated("AV", &m.fine_items)
                    .repeated("BU", &m.recall_items)
                    .repeated("CD", &m.unavailable_hold_items)
                    .optional("BD", m.home_address.as_ref())
                    .optional("BE", m.email_address.as_ref())
                    .optional("BF", m.home_phone_number.as_ref());
                messages(&mut w, &m.screen_messages, &m.print_lines);
            }
            Response::Checkout(m) | Response::Renew(m) => {
                w.ok(m.ok)
                    .yes_no(m.renewal_ok)
                    .yes_no_unknown(m.magnetic_media)
                    .yes_no_unknown(m.desensitize)
                    .date(Some(&m.transaction_date))
                    .field("AO", &m.institution_id)
                    .field("AA", &m.patron_identifier)
                    .field("AB", &m.item_identifier)
                    .field("AJ", &m.title_identifier)
                    .field("AH", &m.due_date)
                    .optional("BT", m.fee_type.as_ref())
                    .flag("CI", m.security_inhibit)
                    .optional("BH", m.currency_type.as_ref())
                    .optional("BV", m.fee_amount.as_ref())
                    .optional("CK", m.media_type.as_ref())
                    .optional("CH", m.item_properties.as_ref())
                    .optional("BK", m.transaction_id.as_ref())
                    .flag("BL", m.valid_patron);
                messages(&mut w, &m.screen_messages, &m.print_lines);
            }
            Response::Checkin(m) => {
                w.ok(m.ok)
                    .yes_no(m.resensitize)
                    .yes_no_unknown(m.magnetic_media)
                    .yes_no(m.alert)
                    .date(Some(&m.transaction_date))
                    .field("AO", &m.institution_id)
                    .field("AB", &m.item_identifier)
                    .field("AQ", &m.permanent_location)
                    .optional("AJ", m.title_identifier.as_ref())
                    .optional("CL", m.sort_bin.as_ref())
                    .optional("AA", m.patron_identifier.as_ref())
                    .optional("CK", m.media_type.as_ref())
                    .optional("CH", m.item_properties.as_ref())
                    .optional("CV", m.alert_type.as_ref())
                    .optional("CT", m.destination_location.as_ref());
                messages(&mut w, &m.screen_messages, &m.print_lines);
            }
            Response::RenewAll(m) => {
                w.ok(m.ok)
                    .number(m.renewed_count, 4)
                    .number(m.unrenewed_count, 4)
                    .date(Some(&m.transaction_date))
                    .field("AO", &m.institution_id)
                    .repeated("BM", &m.renewed_items)
                    .repeated("BN", &m.unrenewed_items);
                messages(&mut w, &m.screen_messages, &m.print_lines);
            }
            Response::Hold(m) => {
                w.ok(m.ok)
                    .yes_no(m.available)
                    .date(Some(&m.transaction_date))
                    .optional("BW", m.expiration_date.as_ref())
                    .optional("BR", m.queue_position.as_ref())
                    .optional("BS", m.pickup_location.as_ref())
                    .field("AO", &m.institution_id)
                    .field("AA", &m.patron_identifier)
                    .optional("AB", m.item_identifier.as_ref())
                    .optional("AJ", m.title_identifier.as_ref());
                messages(&mut w, &m.screen_messages, &m.print_lines);
            }
            Response::EndSession(m) => {
                w.yes_no(m.end_session)
                    .date(Some(&m.transaction_date))
                    .field("AO", &m.institution_id)
                    .field("AA", &m.patron_identifier);
                messages(&mut w, &m.screen_messages, &m.print_lines);
            }
            Response::FeePaid(m) => {
                w.yes_no(m.payment_accepted)
                    .date(Some(&m.transaction_date))
                    .field("AO", &m.institution_id)
                    .field("AA", &m.patron_identifier)
                    .optional("BK", m.transaction_id.as_ref());
                messages(&mut w, &m.screen_messages, &m.print_lines);
            }
            Response::ItemInformation(m) => {
                w.text(&m.circulation_status)
                    .text(&m.security_marker)
                    .text(&m.fee_type)
                    .date(Some(&m.transaction_date))
                    .optional("CF", m.hold_queue_length.as_ref())
                    .optional("AH", m.due_date.as_ref())
                    .optional("CJ", m.recall_date.as_ref())
                    .optional("CM", m.hold_pickup_date.as_ref())
                    .field("AB", &m.item_identifier)
                    .field("AJ", &m.title_identifier)
                    .optional("BG", m.owner.as_ref())
                    .optional("BH", m.currency_type.as_ref())
                    .optional("BV", m.fee_amount.as_ref())
                    .optional("CK", m.media_type.as_ref())
                    .optional("AQ", m.permanent_location.as_ref())
                    .optional("AP", m.current_location.as_ref())
                    .optional("CH", m.item_properties.as_ref());
                messages(&mut w, &m.screen_messages, &m.print_lines);
            }
        }
        frame::finish(w.into_bytes(), sequence, with_checksum)
    }

    /// Parses a response, UTF-8 (for tests and tools acting as a station). Strict on fixed
    /// fields (dates must not be blank), lenient on variable fields like requests.
    pub fn parse(input: &[u8]) -> Result<ParsedResponse, CodecError> {
        Self::parse_with(input, Charset::Utf8)
    }

    /// Parses a response in `charset`.
    pub fn parse_with(input: &[u8], charset: Charset) -> Result<ParsedResponse, CodecError> {
        let (body, frame) = Body::open(input, charset)?;
        let (response, vars) = match body.code() {
            "94" => parse_login(&body)?,
            "98" => parse_acs_status(&body)?,
            "96" => (Response::RequestScResend, body.vars_after(2)?),
            "24" => parse_patron_status(&body)?,
            "64" => parse_patron_information(&body)?,
            "12" => parse_checkout(&body, "12").map(|(m, v)| (Response::Checkout(m), v))?,
            "30" => parse_checkout(&body, "30").map(|(m, v)| (Response::Renew(m), v))?,
            "10" => parse_checkin(&body)?,
            "66" => parse_renew_all(&body)?,
            "16" => parse_hold(&body)?,
            "36" => parse_end_session(&body)?,
            "38" => parse_fee_paid(&body)?,
            "18" => parse_item_information(&body)?,
            _ => return Err(body.unknown_command()),
        };
        Ok(ParsedResponse {
            response,
            sequence: frame.sequence,
            checksum: frame.checksum,
            extra_fields: vars.into_extras(),
        })
    }
}

fn messages(w: &mut Writer, screen: &[String], print: &[String]) {
    w.repeated("AF", screen).repeated("AG", print);
}
