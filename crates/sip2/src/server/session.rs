//! One connection's state machine, without I/O: a line in, what to do out.
//!
//! | state | message | answer |
//! |---|---|---|
//! | any | blank line (a CRLF client's LF) | nothing |
//! | any | TLS record (`0x16 0x03`) | close, unanswered |
//! | any | bad checksum, unparseable, unknown command | `96AZFEF6`, keep; the tenth in a row closes |
//! | any | no `AZ` while error detection is required | `96AZFEF6`, keep |
//! | any | `97` | the last response again, byte for byte (`96` if none yet) |
//! | any | the previous line again, with the same `AY` and `AZ` | the last response again, not re-run |
//! | any | `99` | `98` (`AO` = the station's library once logged in) |
//! | any | `93` accepted | `941`; the connection is the station's from now on |
//! | any | `93` refused (or algorithm not `0`) | `940`, logged out; the third refusal on the connection closes it |
//! | logged out | anything else | close, unanswered |
//! | logged in | `23 63 11 09 29 65 15 35 37 01 17` | the answer from the backend |
//!
//! Every answer echoes the request's `AY` and carries an `AZ` when the request had one
//! (or error detection is required).

use std::sync::Arc;

use tracing::{debug, warn};

use super::answers;
use super::config::ServerConfig;
use super::port::{Sip2Backend, StationSession};
use crate::codec::{
    AcsStatusResponse, FixedStr, LoginRequest, LoginResponse, ParsedRequest, Request, Response,
    SipDate, SupportedMessages,
};

/// Logins refused on one connection before it is closed (docs/http.md, SIP2 stations).
const MAX_LOGIN_FAILURES: u8 = 3;
/// Unparseable messages in a row before the connection is closed.
const MAX_CONSECUTIVE_ERRORS: u8 = 10;
/// `96` with its checksum, the answer to any message we cannot read.
const RESEND: &[u8] = b"96AZFEF6\r";

/// What the connection does with a line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing to send (a blank line).
    Nothing,
    /// Send these bytes (one write).
    Reply(Vec<u8>),
    /// Send these bytes, then close.
    ReplyAndClose(Vec<u8>),
    /// Close without an answer.
    Close,
}

/// The messages we answer, for `BX`.
pub(crate) fn supported_messages() -> SupportedMessages {
    SupportedMessages::from_codes(&Request::CODES)
}

#[derive(Debug)]
pub(crate) struct Session<B: ?Sized> {
    backend: Arc<B>,
    config: Arc<ServerConfig>,
    peer: std::net::SocketAddr,
    station: Option<StationSession>,
    failed_logins: u8,
    consecutive_errors: u8,
    /// The last line answered with error detection (trimmed), for repeat detection.
    last_request: Option<Vec<u8>>,
    last_response: Option<Vec<u8>>,
}

impl<B: Sip2Backend + ?Sized> Session<B> {
    pub(crate) fn new(
        backend: Arc<B>,
        config: Arc<ServerConfig>,
        peer: std::net::SocketAddr,
    ) -> Self {
        Self {
            backend,
            config,
            peer,
            station: None,
            failed_logins: 0,
            consecutive_errors: 0,
            last_request: None,
            last_response: None,
        }
    }

    /// The station logged in on this connection, if any.
    pub(crate) fn station_id(&self) -> Option<&str> {
        self.station.as_ref().map(|s| s.station_id.as_str())
    }

    /// Handles one line as the reader split it (terminator included).
    pub(crate) async fn handle(&mut self, line: &[u8]) -> Action {
        if line.starts_with(&[0x16, 0x03]) {
            debug!(peer = %self.peer, "TLS record on the plain SIP2 port; closing");
            return Action::Close;
        }
        let trimmed = trim(line);
        if trimmed.is_empty() {
            return Action::Nothing;
        }
        let parsed = match Request::parse_with(line, self.config.charset) {
            Ok(parsed) => parsed,
            Err(error) => return self.unreadable(&error),
        };
        if self.config.require_error_detection && parsed.checksum.is_none() {
            return self.unreadable(&"no AZ checksum while error detection is required");
        }
        self.consecutive_errors = 0;
        if parsed.request == Request::RequestAcsResend {
            return Action::Reply(
                self.last_response
                    .clone()
                    .unwrap_or_else(|| RESEND.to_vec()),
            );
        }
        if parsed.checksum.is_some()
            && self.last_request.as_deref() == Some(trimmed)
            && let Some(last) = &self.last_response
        {
            debug!(peer = %self.peer, "repeated request; replaying the last response");
            return Action::Reply(last.clone());
        }
        let action = self.answer(&parsed).await;
        if let Action::Reply(bytes) | Action::ReplyAndClose(bytes) = &action {
            self.last_response = Some(bytes.clone());
            self.last_request = parsed.checksum.map(|_| trimmed.to_vec());
        }
        action
    }

    fn unreadable(&mut self, error: &dyn std::fmt::Display) -> Action {
        debug!(peer = %self.peer, %error, "unreadable SIP2 message; asking for a resend");
        self.consecutive_errors = self.consecutive_errors.saturating_add(1);
        if self.consecutive_errors >= MAX_CONSECUTIVE_ERRORS {
            return Action::Close;
        }
        Action::Reply(RESEND.to_vec())
    }

    async fn answer(&mut self, parsed: &ParsedRequest) -> Action {
        let with_checksum = parsed.checksum.is_some()
            || parsed.sequence.is_some()
            || self.config.require_error_detection;
        let charset = self.config.charset;
        let format =
            |response: &Response| response.format_with(parsed.sequence, with_checksum, charset);
        match &parsed.request {
            Request::Login(login) => {
                let accepted = self.login(login).await;
                let bytes = format(&Response::Login(LoginResponse { ok: accepted }));
                if !accepted && self.failed_logins >= MAX_LOGIN_FAILURES {
                    Action::ReplyAndClose(bytes)
                } else {
                    Action::Reply(bytes)
                }
            }
            Request::ScStatus(_) => Action::Reply(format(&self.acs_status())),
            request => match &self.station {
                None => {
                    debug!(peer = %self.peer, code = request.code(), "message before login; closing");
                    Action::Close
                }
                Some(station) => {
                    let ctx = answers::Context {
                        backend: &*self.backend,
                        config: &self.config,
                        station,
                    };
                    Action::Reply(format(&answers::answer(&ctx, request).await))
                }
            },
        }
    }

    /// A `93`: any outcome but success logs the connection out.
    async fn login(&mut self, login: &LoginRequest) -> bool {
        self.station = None;
        let plain = login.uid_algorithm.as_str() == "0" && login.pwd_algorithm.as_str() == "0";
        let account = if plain {
            match self
                .backend
                .station_login(&login.login_user_id, &login.login_password, self.peer)
                .await
            {
                Ok(account) => account,
                Err(error) => {
                    // Not the station's fault: refused, but not counted.
                    warn!(peer = %self.peer, %error, "station login failed on the backend");
                    return false;
                }
            }
        } else {
            None
        };
        match account {
            Some(account) => {
                debug!(peer = %self.peer, station = %account.station_id, "station logged in");
                self.station = Some(StationSession {
                    station_id: account.station_id,
                    library_code: account.library_code,
                    peer: self.peer,
                    location: login.location_code.clone().filter(|l| !l.is_empty()),
                    permissions: account.permissions,
                });
                true
            }
            None => {
                self.failed_logins = self.failed_logins.saturating_add(1);
                debug!(peer = %self.peer, failures = self.failed_logins, "station login refused");
                false
            }
        }
    }

    fn acs_status(&self) -> Response {
        let now = self.backend.now();
        Response::AcsStatus(AcsStatusResponse {
            online_status: true,
            checkin_ok: true,
            checkout_ok: true,
            acs_renewal_policy: true,
            status_update_ok: false,
            offline_ok: false,
            timeout_period: self.config.response_timeout_tenths,
            retries_allowed: self.config.retries_allowed,
            date_time_sync: SipDate::local(now, self.config.local_offset),
            protocol_version: FixedStr::PROTOCOL_2_00,
            institution_id: match &self.station {
                Some(station) => station.library_code.as_str().to_owned(),
                None => self.config.institution_id.clone(),
            },
            library_name: self.config.library_name.clone(),
            supported_messages: supported_messages(),
            terminal_location: self
                .station
                .as_ref()
                .map(|s| s.location.clone().unwrap_or_else(|| s.station_id.clone())),
            screen_messages: Vec::new(),
            print_lines: Vec::new(),
        })
    }
}

/// The line without its terminator and surrounding blanks and NULs.
fn trim(line: &[u8]) -> &[u8] {
    let blank = |b: &u8| matches!(b, b'\r' | b'\n' | b'\0' | b' ' | b'\t');
    let start = line.iter().position(|b| !blank(b)).unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !blank(b))
        .map_or(start, |i| i + 1);
    &line[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bx_advertises_exactly_what_we_answer() {
        // 19 (item status update) and 25 (patron enable) are not answered.
        assert_eq!(supported_messages().to_text(), "YYYYYYYYYYYNNYYY");
    }

    #[test]
    fn trim_removes_terminators_blanks_and_nuls() {
        assert_eq!(trim(b"\n 99\0\r"), b"99");
        assert_eq!(trim(b"\r\n"), b"");
        assert_eq!(trim(b""), b"");
    }
}
