//! Black-box tests of the SIP2 codec: the reference's acceptance vectors, hand-built
//! messages from real clients and broken input, round-trip properties, and the fuzz corpus.

mod corpus;
mod hand_built;
mod roundtrip;
mod strategies;
mod vectors;

use library_sip2::{ParsedRequest, ParsedResponse, Request, Response, SipDate};

/// A fixed transaction date for hand-built messages.
pub const DATE: &str = "20250314    093000";

pub fn request(text: &str) -> ParsedRequest {
    Request::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

pub fn response(bytes: &[u8]) -> ParsedResponse {
    Response::parse(bytes).unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(bytes)))
}

pub fn date() -> SipDate {
    SipDate::parse(DATE.as_bytes()).unwrap().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}
