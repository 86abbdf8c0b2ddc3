//! The SIP2 v2.00 message codec: one line of bytes ⇄ one typed message. No I/O.
//!
//! # Decisions
//!
//! - **Raw values.** Identifiers, passwords, amounts and free-text dates in variable fields
//!   stay `String`s; the adapter parses them into `library_core::{CardNumber, Barcode,
//!   Money}`. A station may send anything printable (an empty `AC`, an unparseable `AA`
//!   that must be echoed back as "unknown patron"), and the codec must neither refuse nor
//!   alter it.
//! - **Charset.** Fixed fields are ASCII. Variable fields are UTF-8 by default, Latin-1 on
//!   request ([`Charset`]); the checksum covers the bytes on the wire. Control bytes (below
//!   0x20, and 0x7F) are refused anywhere in a message, which also catches binary frames
//!   such as a TLS ClientHello; so are the C1 control characters (U+0080–U+009F) a variable
//!   field decodes to ([`CodecError::ControlCharacter`]). No control character reaches the
//!   adapter, and so none reaches a store (PostgreSQL refuses NUL in text).
//! - **Dates.** [`SipDate`] keeps the wall-clock time and its zone (blank = local, `Z` =
//!   UTC, other military letters = whole-hour offsets); the adapter converts with the
//!   library's offset. 18 blanks are `None`; every request date may be blank. We write
//!   local time with a blank zone, as Koha and FOLIO do.
//! - **Leniency on input** (docs/sip2.md, Leniency): CR, CRLF or LF, blanks and NULs around
//!   the line; `AY`/`AZ` auto-detected per message, `AZ` without `AY`, lower-case or
//!   unpadded (1–4 digit) checksums; variable fields in any order, empty or trailing `|`s,
//!   a last field without `|`; missing required fields read as empty; `Y`/`N` flags in
//!   either case; a 65 without its date; a 17 with a stray language; summary positions 6–9
//!   ignored. Unknown fields and repeats of non-repeatable ones are returned in
//!   `extra_fields`, never an error.
//! - **Strictness on output**: exact widths, every required field even when empty, the
//!   specification's field order, values cleaned of `|` and control characters and cut at
//!   [`MAX_FIELD_CHARS`] characters, numbers clamped to their width.
//! - **Bad checksum is an error** ([`CodecError::BadChecksum`]): the server answers 96
//!   without looking at the content. A valid one is reported in `checksum`, so the server
//!   can spot a repeated request (same `AY` and `AZ`) and replay its last response.

mod error;
mod fields;
mod frame;
mod request;
mod response;
mod values;

pub use error::CodecError;
pub use fields::MAX_FIELD_CHARS;
pub use frame::{MAX_MESSAGE_LEN, checksum};
pub use request::{
    BlockPatronRequest, CheckinRequest, CheckoutRequest, EndPatronSessionRequest, FeePaidRequest,
    HoldRequest, ItemInformationRequest, LoginRequest, PatronInformationRequest,
    PatronStatusRequest, RenewAllRequest, RenewRequest, Request, ScStatusRequest,
};
pub use response::{
    AcsStatusResponse, CheckinResponse, CheckoutResponse, EndSessionResponse, FeePaidResponse,
    HoldResponse, ItemInformationResponse, LoginResponse, PatronInformationResponse,
    PatronStatusResponse, RenewAllResponse, RenewResponse, Response,
};
pub use values::{
    Charset, Field, FixedStr, HoldMode, InvalidSipDate, PatronCondition, PatronStatus, SipDate,
    SipZone, SummaryItem, SupportedMessages, YesNoUnknown,
};

use fields::{Fixed, Vars};

/// A request and what came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRequest {
    /// The message.
    pub request: Request,
    /// The `AY` digit, to echo in the response.
    pub sequence: Option<u8>,
    /// The `AZ` value when present (it was verified: a bad one is an error). With
    /// `sequence`, identifies a repeated request.
    pub checksum: Option<u16>,
    /// Variable fields the message has no place for, in wire order.
    pub extra_fields: Vec<Field>,
}

/// A response and what came with it (for tests and tools acting as a station).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedResponse {
    /// The message.
    pub response: Response,
    /// The `AY` digit.
    pub sequence: Option<u8>,
    /// The verified `AZ` value when present.
    pub checksum: Option<u16>,
    /// Variable fields the message has no place for, in wire order.
    pub extra_fields: Vec<Field>,
}

/// A message body: framing removed, checksum verified, no control bytes.
#[derive(Debug)]
pub(crate) struct Body<'a> {
    bytes: &'a [u8],
    offset: usize,
    charset: Charset,
}

impl<'a> Body<'a> {
    fn open(input: &'a [u8], charset: Charset) -> Result<(Self, frame::Frame<'a>), CodecError> {
        let frame = frame::unframe(input)?;
        if let Some(i) = frame.body.iter().position(|&b| b < 0x20 || b == 0x7F) {
            return Err(CodecError::InvalidCharacter {
                offset: frame.offset + i,
                byte: frame.body[i],
            });
        }
        let body = Self {
            bytes: frame.body,
            offset: frame.offset,
            charset,
        };
        Ok((body, frame))
    }

    /// The command code, or `""` when the first two bytes are not ASCII digits.
    fn code(&self) -> &'a str {
        match self.bytes {
            [a, b, ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
                std::str::from_utf8(&self.bytes[..2]).unwrap_or_default()
            }
            _ => "",
        }
    }

    fn unknown_command(&self) -> CodecError {
        let end = self.bytes.len().min(2);
        CodecError::UnknownCommand {
            code: String::from_utf8_lossy(&self.bytes[..end]).into_owned(),
        }
    }

    fn fixed(&self, command: &'static str, fixed_len: usize) -> Result<Fixed<'a>, CodecError> {
        Fixed::new(self.bytes, command, fixed_len)
    }

    fn vars(&self, fixed: &Fixed<'a>) -> Result<Vars, CodecError> {
        Vars::parse(fixed.rest(), self.offset + fixed.pos(), self.charset)
    }

    fn vars_after(&self, pos: usize) -> Result<Vars, CodecError> {
        let rest = self.bytes.get(pos..).unwrap_or_default();
        Vars::parse(rest, self.offset + pos, self.charset)
    }
}
