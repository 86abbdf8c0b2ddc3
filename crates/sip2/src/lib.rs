//! SIP2 v2.00 (3M Standard Interchange Protocol) for self-service stations.
//!
//! The [`codec`]: bytes of one message in, a typed [`Request`] out; a typed [`Response`]
//! in, the bytes of one message out. With the non-default feature `server`, the TCP
//! server adapter (`server`): tokio, one task per station, over the `Sip2Backend` port.
//! With `library`, that port over the application layer (`library`: `Sip2Library`, what
//! `library-server` serves).
//!
//! Invariants:
//! - The codec does no I/O, has no async runtime and knows nothing of the domain: values a
//!   station sends (patron and item identifiers, amounts, PINs) stay raw strings here and
//!   are parsed into `library_core` types by the adapter, which decides what an
//!   unparseable or empty value means (an unknown patron, "no PIN supplied").
//! - Parsing never panics, whatever the input; lines over [`MAX_MESSAGE_LEN`] are refused
//!   before any other work.
//! - Formatting always produces exact fixed widths and every required field, even empty.
//! - The default build has no async runtime: tokio comes only with `server` (a tidy test
//!   checks `cargo tree -e normal`).
//!
//! What we serve, and the wire details it relies on: `docs/sip2.md`.

pub mod codec;
#[cfg(feature = "library")]
pub mod library;
#[cfg(feature = "server")]
pub mod server;

pub use codec::{
    AcsStatusResponse, BlockPatronRequest, Charset, CheckinRequest, CheckinResponse,
    CheckoutRequest, CheckoutResponse, CodecError, EndPatronSessionRequest, EndSessionResponse,
    FeePaidRequest, FeePaidResponse, Field, FixedStr, HoldMode, HoldRequest, HoldResponse,
    InvalidSipDate, ItemInformationRequest, ItemInformationResponse, LoginRequest, LoginResponse,
    MAX_FIELD_CHARS, MAX_MESSAGE_LEN, ParsedRequest, ParsedResponse, PatronCondition,
    PatronInformationRequest, PatronInformationResponse, PatronStatus, PatronStatusRequest,
    PatronStatusResponse, RenewAllRequest, RenewAllResponse, RenewRequest, RenewResponse, Request,
    Response, ScStatusRequest, SipDate, SipZone, SummaryItem, SupportedMessages, YesNoUnknown,
    checksum,
};
