//! Server settings, typed.

use std::time::Duration;

use time::UtcOffset;

use crate::codec::{Charset, FixedStr, MAX_MESSAGE_LEN};

/// Hong Kong dollars, the library's currency (`library_core::Money` is HK cents).
const HKD: FixedStr<3> = match FixedStr::from_bytes(*b"HKD") {
    Some(code) => code,
    None => panic!("HKD is printable ASCII"),
};

/// How the SIP2 server behaves. [`Default`] gives the production values.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `AO` of the `98` before a station has logged in (afterwards: the station's library).
    pub institution_id: String,
    /// `AM` of the `98`.
    pub library_name: Option<String>,
    /// The whole next message must arrive within this, counted from the previous response
    /// (or the connection): an idle or too slow station is disconnected. Stations send `99`
    /// regularly to keep the connection.
    pub read_timeout: Duration,
    /// A response not taken by the station within this closes the connection.
    pub write_timeout: Duration,
    /// Longest line accepted, terminator included; a longer one closes the connection.
    /// Capped at the codec's [`MAX_MESSAGE_LEN`].
    pub max_line_len: usize,
    /// Connections served at once; one more is accepted and closed at once.
    pub max_connections: usize,
    /// A connection must log in (a successful `93`) within this, counted from the
    /// connection; nothing else it sends (`99` included) extends it. Past it the
    /// connection is closed.
    pub login_deadline: Duration,
    /// Connections not logged in at once from one peer (an IPv4 address, or an IPv6 /64);
    /// one more is closed at once.
    pub max_unauthenticated_per_address: usize,
    /// Connections not logged in at once in total, kept well below
    /// [`Self::max_connections`] so that logged-in stations keep their room; one more is
    /// closed at once.
    pub max_unauthenticated: usize,
    /// A connection closed for a cap above (or [`Self::max_connections`]), or closed before
    /// logging in for what it sent (a line over the limit, a message other than `93`/`99`/`97`,
    /// unreadable messages, wrong passwords, TLS), is first held this long, unread, and then
    /// closed: a client that reconnects as soon as it is closed does so at most once per
    /// hold, instead of thousands of times a second. [`Duration::ZERO`] closes at once.
    pub refusal_hold: Duration,
    /// Connections held at once by [`Self::refusal_hold`] (each an open socket, counted
    /// under no other limit meanwhile); one more is closed at once.
    pub max_held: usize,
    /// Variable-field encoding on the wire.
    pub charset: Charset,
    /// When true, a message without an `AZ` checksum is answered `96` (FOLIO's
    /// `errorDetectionEnabled`); when false it is detected per message (Koha).
    pub require_error_detection: bool,
    /// The library's offset: dates we write are local wall-clock time with a blank zone,
    /// and blank-zone dates we read are in it.
    pub local_offset: UtcOffset,
    /// ISO 4217 code of our money (`BH`); a `37` in another currency is refused.
    pub currency: FixedStr<3>,
    /// `98` timeout period, tenths of a second (how long the station should wait for us).
    pub response_timeout_tenths: u16,
    /// `98` retries allowed.
    pub retries_allowed: u16,
    /// On shutdown, how long in-flight requests may take before their connections are
    /// dropped.
    pub shutdown_grace: Duration,
}

impl ServerConfig {
    /// The line limit in force: [`Self::max_line_len`], at most [`MAX_MESSAGE_LEN`].
    pub fn line_limit(&self) -> usize {
        self.max_line_len.clamp(16, MAX_MESSAGE_LEN)
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            institution_id: "LIBRARY".to_owned(),
            library_name: None,
            read_timeout: Duration::from_secs(300),
            write_timeout: Duration::from_secs(30),
            max_line_len: MAX_MESSAGE_LEN,
            max_connections: 128,
            login_deadline: Duration::from_secs(10),
            max_unauthenticated_per_address: 4,
            max_unauthenticated: 32,
            refusal_hold: Duration::from_secs(1),
            max_held: 256,
            charset: Charset::Utf8,
            require_error_detection: false,
            local_offset: library_core::DEFAULT_LIBRARY_OFFSET,
            currency: HKD,
            response_timeout_tenths: 100,
            retries_allowed: 3,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}
