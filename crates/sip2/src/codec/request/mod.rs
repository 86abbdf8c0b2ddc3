//! Requests: what a station sends (SC → ACS).
//!
//! Every struct field is named after the SIP2 specification's field name, with its wire
//! identifier in the doc comment. Required variable fields are `String` (empty when the
//! station left them out: see [`super`] on leniency); optional ones are `Option`.

use crate::codec::fields::Writer;
use crate::codec::values::{Charset, FixedStr, HoldMode, SipDate, SummaryItem};
use crate::codec::{Body, CodecError, ParsedRequest, frame};

mod parse;
use parse::*;

/// 93 Login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    /// UID algorithm (`0` = plain).
    pub uid_algorithm: FixedStr<1>,
    /// PWD algorithm (`0` = plain).
    pub pwd_algorithm: FixedStr<1>,
    /// `CN`
    pub login_user_id: String,
    /// `CO`
    pub login_password: String,
    /// `CP`
    pub location_code: Option<String>,
}

/// 99 SC Status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScStatusRequest {
    /// `0` ok, `1` printer out of paper, `2` about to shut down.
    pub status_code: FixedStr<1>,
    /// Three digits as sent (`080`, `999`).
    pub max_print_width: FixedStr<3>,
    /// `2.00`
    pub protocol_version: FixedStr<4>,
}

/// 23 Patron Status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronStatusRequest {
    /// Three digits (`000` unknown, `001` English).
    pub language: FixedStr<3>,
    /// Blank is accepted.
    pub transaction_date: Option<SipDate>,
    /// `AO`
    pub institution_id: String,
    /// `AA`
    pub patron_identifier: String,
    /// `AC`
    pub terminal_password: String,
    /// `AD`: empty means "not supplied", never a match.
    pub patron_password: String,
}

/// 63 Patron Information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronInformationRequest {
    /// Three digits.
    pub language: FixedStr<3>,
    /// Blank is accepted.
    pub transaction_date: Option<SipDate>,
    /// The list asked for, if any.
    pub summary: Option<SummaryItem>,
    /// `AO`
    pub institution_id: String,
    /// `AA`
    pub patron_identifier: String,
    /// `AC`
    pub terminal_password: Option<String>,
    /// `AD`
    pub patron_password: Option<String>,
    /// `BP`: first item of the list, 1-based (raw text).
    pub start_item: Option<String>,
    /// `BQ`: last item of the list, inclusive (raw text).
    pub end_item: Option<String>,
}

/// 11 Checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// SC renewal policy.
    pub sc_renewal_policy: bool,
    /// No block (offline transaction being replayed).
    pub no_block: bool,
    /// Blank is accepted.
    pub transaction_date: Option<SipDate>,
    /// Blank is accepted (and usual).
    pub nb_due_date: Option<SipDate>,
    /// `AO`
    pub institution_id: String,
    /// `AA`
    pub patron_identifier: String,
    /// `AB`
    pub item_identifier: String,
    /// `AC`
    pub terminal_password: String,
    /// `CH`
    pub item_properties: Option<String>,
    /// `AD`
    pub patron_password: Option<String>,
    /// `BO`
    pub fee_acknowledged: Option<bool>,
    /// `BI`
    pub cancel: Option<bool>,
}

/// 09 Checkin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinRequest {
    /// No block.
    pub no_block: bool,
    /// Blank is accepted.
    pub transaction_date: Option<SipDate>,
    /// Blank is accepted.
    pub return_date: Option<SipDate>,
    /// `AP` (the `sip2` crate omits it).
    pub current_location: String,
    /// `AO`
    pub institution_id: String,
    /// `AB`
    pub item_identifier: String,
    /// `AC`
    pub terminal_password: String,
    /// `CH`
    pub item_properties: Option<String>,
    /// `BI`
    pub cancel: Option<bool>,
}

/// 29 Renew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewRequest {
    /// Third party allowed.
    pub third_party_allowed: bool,
    /// No block.
    pub no_block: bool,
    /// Blank is accepted.
    pub transaction_date: Option<SipDate>,
    /// Blank is accepted.
    pub nb_due_date: Option<SipDate>,
    /// `AO`
    pub institution_id: String,
    /// `AA`
    pub patron_identifier: String,
    /// `AD`
    pub patron_password: Option<String>,
    /// `AB`
    pub item_identifier: Option<String>,
    /// `AJ`
    pub title_identifier: Option<String>,
    /// `AC`
    pub terminal_password: Option<String>,
    /// `CH`
    pub item_properties: Option<String>,
    /// `BO`
    pub fee_acknowledged: Option<bool>,
}

/// 65 Renew All.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewAllRequest {
    /// Blank, or missing altogether (the Python `Sip2` client sends `65AO…`).
    pub transaction_date: Option<SipDate>,
    /// `AO`
    pub institution_id: String,
    /// `AA`
    pub patron_identifier: String,
    /// `AD`
    pub patron_password: Option<String>,
    /// `AC`
    pub terminal_password: Option<String>,
    /// `BO`
    pub fee_acknowledged: Option<bool>,
}

/// 15 Hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRequest {
    /// Add, delete or change.
    pub hold_mode: HoldMode,
    /// Blank is accepted.
    pub transaction_date: Option<SipDate>,
    /// `BW`: an 18-character date as sent (see [`SipDate::parse`]).
    pub expiration_date: Option<String>,
    /// `BS`
    pub pickup_location: Option<String>,
    /// `BY`: 1 other, 2 any copy, 3 specific copy, 4 any copy at a branch.
    pub hold_type: Option<String>,
    /// `AO`
    pub institution_id: String,
    /// `AA`
    pub patron_identifier: String,
    /// `AD`
    pub patron_password: Option<String>,
    /// `AB`
    pub item_identifier: Option<String>,
    /// `AJ`
    pub title_identifier: Option<String>,
    /// `AC`
    pub terminal_password: Option<String>,
    /// `BO`
    pub fee_acknowledged: Option<bool>,
}

/// 35 End Patron Session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndPatronSessionRequest {
    /// Blank is accepted.
    pub transaction_date: Option<SipDate>,
    /// `AO`
    pub institution_id: String,
    /// `AA`
    pub patron_identifier: String,
    /// `AC`
    pub terminal_password: Option<String>,
    /// `AD`
    pub patron_password: Option<String>,
}

/// 37 Fee Paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeePaidRequest {
    /// Blank is accepted.
    pub transaction_date: Option<SipDate>,
    /// Two digits (`01` other … `09` hold).
    pub fee_type: FixedStr<2>,
    /// Two digits (`00` cash, `01` VISA, `02` credit card).
    pub payment_type: FixedStr<2>,
    /// ISO 4217 code.
    pub currency_type: FixedStr<3>,
    /// `BV`: decimal amount as sent (`2.50`).
    pub fee_amount: String,
    /// `AO`
    pub institution_id: String,
    /// `AA`
    pub patron_identifier: String,
    /// `AC`
    pub terminal_password: Option<String>,
    /// `AD`
    pub patron_password: Option<String>,
    /// `CG`
    pub fee_identifier: Option<String>,
    /// `BK`
    pub transaction_id: Option<String>,
}

/// 01 Block Patron (answered with a 24).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockPatronRequest {
    /// Card retained.
    pub card_retained: bool,
    /// Blank is accepted.
    pub transaction_date: Option<SipDate>,
    /// `AO`
    pub institution_id: String,
    /// `AL`
    pub blocked_card_msg: String,
    /// `AA`
    pub patron_identifier: String,
    /// `AC`
    pub terminal_password: String,
    /// `AD`: not in the 2.00 specification for `01`; read when a station sends it (a
    /// station that needs PINs must, docs/sip2.md).
    pub patron_password: Option<String>,
}

/// 17 Item Information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInformationRequest {
    /// Blank is accepted; a stray 3-digit language in front of it (Koha's emulator) is
    /// skipped.
    pub transaction_date: Option<SipDate>,
    /// `AO`
    pub institution_id: String,
    /// `AB`
    pub item_identifier: String,
    /// `AC`
    pub terminal_password: Option<String>,
}

/// A request from a station, one variant per message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// 93
    Login(LoginRequest),
    /// 99
    ScStatus(ScStatusRequest),
    /// 97 Request ACS Resend: no fields.
    RequestAcsResend,
    /// 23
    PatronStatus(PatronStatusRequest),
    /// 63
    PatronInformation(PatronInformationRequest),
    /// 11
    Checkout(CheckoutRequest),
    /// 09
    Checkin(CheckinRequest),
    /// 29
    Renew(RenewRequest),
    /// 65
    RenewAll(RenewAllRequest),
    /// 15
    Hold(HoldRequest),
    /// 35
    EndPatronSession(EndPatronSessionRequest),
    /// 37
    FeePaid(FeePaidRequest),
    /// 01
    BlockPatron(BlockPatronRequest),
    /// 17
    ItemInformation(ItemInformationRequest),
}

impl Request {
    /// Every command code this codec parses.
    pub const CODES: [&'static str; 14] = [
        "93", "99", "97", "23", "63", "11", "09", "29", "65", "15", "35", "37", "01", "17",
    ];

    /// The two-digit command code.
    pub fn code(&self) -> &'static str {
        match self {
            Request::Login(_) => "93",
            Request::ScStatus(_) => "99",
            Request::RequestAcsResend => "97",
            Request::PatronStatus(_) => "23",
            Request::PatronInformation(_) => "63",
            Request::Checkout(_) => "11",
            Request::Checkin(_) => "09",
            Request::Renew(_) => "29",
            Request::RenewAll(_) => "65",
            Request::Hold(_) => "15",
            Request::EndPatronSession(_) => "35",
            Request::FeePaid(_) => "37",
            Request::BlockPatron(_) => "01",
            Request::ItemInformation(_) => "17",
        }
    }

    /// Parses one request, UTF-8. See [`Request::parse_with`].
    pub fn parse(input: &[u8]) -> Result<ParsedRequest, CodecError> {
        Self::parse_with(input, Charset::Utf8)
    }

    /// Parses one request: `input` is one line, with or without its terminator (CR, CRLF
    /// or LF), optionally ending with the `AY`/`AZ` trailer. Never panics.
    pub fn parse_with(input: &[u8], charset: Charset) -> Result<ParsedRequest, CodecError> {
        let (body, frame) = Body::open(input, charset)?;
        let (request, vars) = match body.code() {
            "93" => parse_login(&body)?,
            "99" => parse_sc_status(&body)?,
            "97" => (Request::RequestAcsResend, body.vars_after(2)?),
            "23" => parse_patron_status(&body)?,
            "63" => parse_patron_information(&body)?,
            "11" => parse_checkout(&body)?,
            "09" => parse_checkin(&body)?,
            "29" => parse_renew(&body)?,
            "65" => parse_renew_all(&body)?,
            "15" => parse_hold(&body)?,
            "35" => parse_end_patron_session(&body)?,
            "37" => parse_fee_paid(&body)?,
            "01" => parse_block_patron(&body)?,
            "17" => parse_item_information(&body)?,
            _ => return Err(body.unknown_command()),
        };
        Ok(ParsedRequest {
            request,
            sequence: frame.sequence,
            checksum: frame.checksum,
            extra_fields: vars.into_extras(),
        })
    }

    /// Formats the request, UTF-8 (for tests and tools acting as a station). See
    /// [`super::Response::format`] for `sequence` and `with_checksum`.
    pub fn format(&self, sequence: Option<u8>, with_checksum: bool) -> Vec<u8> {
        self.format_with(sequence, with_checksum, Charset::Utf8)
    }

    /// Formats the request in `charset`. A 97 never carries `AY`.
    pub fn format_with(
        &self,
        sequence: Option<u8>,
        with_checksum: bool,
        charset: Charset,
    ) -> Vec<u8> {
        let mut w = Writer::new(self.code(), charset);
        let mut sequence = sequence;
        match self {
            Request::Login(m) => {
                w.text(&m.uid_algorithm)
                    .text(&m.pwd_algorithm)
                    .field("CN", &m.login_user_id)
                    .field("CO", &m.login_password)
                    .optional("CP", m.location_code.as_ref());
            }
            Request::ScStatus(m) => {
                w.text(&m.status_code)
                    .text(&m.max_print_width)
                    .text(&m.protocol_version);
            }
            Request::RequestAcsResend => sequence = None,
            Request::PatronStatus(m) => {
                w.text(&m.language)
                    .date(m.transaction_date.as_ref())
                    .field("AO", &m.institution_id)
                    .field("AA", &m.patron_identifier)
                    .field("AC", &m.terminal_password)
                    .field("AD", &m.patron_password);
            }
            Request::PatronInformation(m) => {
                w.text(&m.language)
                    .date(m.transaction_date.as_ref())
                    .summary(m.summary)
                    .field("AO", &m.institution_id)
                    .field("AA", &m.patron_identifier)
                    .optional("AC", m.terminal_password.as_ref())
                    .optional("AD", m.patron_password.as_ref())
                    .optional("BP", m.start_item.as_ref())
                    .optional("BQ", m.end_item.as_ref());
            }
            Request::Checkout(m) => {
                w.yes_no(m.sc_renewal_policy)
                    .yes_no(m.no_block)
                    .date(m.transaction_date.as_ref())
                    .date(m.nb_due_date.as_ref())
                    .field("AO", &m.institution_id)
                    .field("AA", &m.patron_identifier)
                    .field("AB", &m.item_identifier)
                    .field("AC", &m.terminal_password)
                    .optional("CH", m.item_properties.as_ref())
                    .optional("AD", m.patron_password.as_ref())
                    .flag("BO", m.fee_acknowledged)
                    .flag("BI", m.cancel);
            }
            Request::Checkin(m) => {
                w.yes_no(m.no_block)
                    .date(m.transaction_date.as_ref())
                    .date(m.return_date.as_ref())
                    .field("AP", &m.current_location)
                    .field("AO", &m.institution_id)
                    .field("AB", &m.item_identifier)
                    .field("AC", &m.terminal_password)
                    .optional("CH", m.item_properties.as_ref())
                    .flag("BI", m.cancel);
            }
            Request::Renew(m) => {
                w.yes_no(m.third_party_allowed)
                    .yes_no(m.no_block)
                    .date(m.transaction_date.as_ref())
                    .date(m.nb_due_date.as_ref())
                    .field("AO", &m.institution_id)
                    .field("AA", &m.patron_identifier)
                    .optional("AD", m.patron_password.as_ref())
                    .optional("AB", m.item_identifier.as_ref())
                    .optional("AJ", m.title_identifier.as_ref())
                    .optional("AC", m.terminal_password.as_ref())
                    .optional("CH", m.item_properties.as_ref())
                    .flag("BO", m.fee_acknowledged);
            }
            Request::RenewAll(m) => {
                w.date(m.transaction_date.as_ref())
                    .field("AO", &m.institution_id)
                    .field("AA", &m.patron_identifier)
                    .optional("AD", m.patron_password.as_ref())
                    .optional("AC", m.terminal_password.as_ref())
                    .flag("BO", m.fee_acknowledged);
            }
            Request::Hold(m) => {
                w.hold_mode(m.hold_mode)
                    .date(m.transaction_date.as_ref())
                    .optional("BW", m.expiration_date.as_ref())
                    .optional("BS", m.pickup_location.as_ref())
                    .optional("BY", m.hold_type.as_ref())
                    .field("AO", &m.institution_id)
                    .field("AA", &m.patron_identifier)
                    .optional("AD", m.patron_password.as_ref())
                    .optional("AB", m.item_identifier.as_ref())
                    .optional("AJ", m.title_identifier.as_ref())
                    .optional("AC", m.terminal_password.as_ref())
                    .flag("BO", m.fee_acknowledged);
            }
            Request::EndPatronSession(m) => {
                w.date(m.transaction_date.as_ref())
                    .field("AO", &m.institution_id)
                    .field("AA", &m.patron_identifier)
                    .optional("AC", m.terminal_password.as_ref())
                    .optional("AD", m.patron_password.as_ref());
            }
            Request::FeePaid(m) => {
                w.date(m.transaction_date.as_ref())
                    .text(&m.fee_type)
                    .text(&m.payment_type)
                    .text(&m.currency_type)
                    .field("BV", &m.fee_amount)
                    .field("AO", &m.institution_id)
                    .field("AA", &m.patron_identifier)
                    .optional("AC", m.terminal_password.as_ref())
                    .optional("AD", m.patron_password.as_ref())
                    .optional("CG", m.fee_identifier.as_ref())
                    .optional("BK", m.transaction_id.as_ref());
            }
            Request::BlockPatron(m) => {
                w.yes_no(m.card_retained)
                    .date(m.transaction_date.as_ref())
                    .field("AO", &m.institution_id)
                    .field("AL", &m.blocked_card_msg)
                    .field("AA", &m.patron_identifier)
                    .field("AC", &m.terminal_password)
                    .optional("AD", m.patron_password.as_ref());
            }
            Request::ItemInformation(m) => {
                w.date(m.transaction_date.as_ref())
                    .field("AO", &m.institution_id)
                    .field("AB", &m.item_identifier)
                    .optional("AC", m.terminal_password.as_ref());
            }
        }
        frame::finish(w.into_bytes(), sequence, with_checksum)
    }
}
