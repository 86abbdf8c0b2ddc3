//! Security events: what the guessing policy and the station logins report, with no
//! secrets, for the operator's log and metrics. The port [`SecurityEvents`] is given to the
//! service; the server's adapter writes each event as a structured log line and counts it.

use time::OffsetDateTime;

use crate::guessing::CredentialKind;

/// One security event. Account keys are the stored attempt keys (`card:…`, `staff:…`,
/// `station:…`), sources the attempt sources (`ip:…`, `terminal:…`): never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityEvent {
    /// A source reached its failure limit (spraying one secret over many accounts).
    SourceLimited {
        /// The source.
        source: String,
        /// No attempt from it is allowed before this instant.
        until: OffsetDateTime,
    },
    /// Guesses at one account from one source are being delayed.
    PairDelayed {
        /// The account.
        account: String,
        /// The credential guessed at.
        kind: CredentialKind,
        /// The source.
        source: String,
        /// No attempt on the pair is allowed before this instant.
        until: OffsetDateTime,
    },
    /// Guesses at one account from many sources are being delayed account-wide.
    AccountDelayed {
        /// The account.
        account: String,
        /// The credential guessed at.
        kind: CredentialKind,
        /// No attempt from an unknown source is allowed before this instant.
        until: OffsetDateTime,
    },
    /// A PIN was disabled by consecutive failures.
    PinDisabled {
        /// The account.
        account: String,
    },
    /// A SIP2 station failed to log in.
    StationLoginFailed {
        /// The station username as sent (already checked to be a well-formed username).
        station: String,
        /// Where from.
        source: String,
    },
    /// A SIP2 connection was refused or closed before a station logged in.
    Sip2ConnectionRefused {
        /// The peer address.
        address: String,
        /// Why (`unauthenticated_limit`, `login_deadline`, `address_not_allowed`).
        reason: &'static str,
    },
}

impl SecurityEvent {
    /// The event's stable name, for logs and metrics.
    pub const fn name(&self) -> &'static str {
        match self {
            SecurityEvent::SourceLimited { .. } => "source_limited",
            SecurityEvent::PairDelayed { .. } => "pair_delayed",
            SecurityEvent::AccountDelayed { .. } => "account_delayed",
            SecurityEvent::PinDisabled { .. } => "pin_disabled",
            SecurityEvent::StationLoginFailed { .. } => "station_login_failed",
            SecurityEvent::Sip2ConnectionRefused { .. } => "sip2_connection_refused",
        }
    }

    /// Every event name, in a fixed order (for metrics that list zeros too).
    pub const NAMES: [&'static str; 6] = [
        "source_limited",
        "pair_delayed",
        "account_delayed",
        "pin_disabled",
        "station_login_failed",
        "sip2_connection_refused",
    ];
}

/// Where security events go. Recording never fails and never blocks for long.
pub trait SecurityEvents: Send + Sync {
    /// Records one event.
    fn record(&self, event: SecurityEvent);
}

/// Drops every event (for embedders that do not want them).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSecurityEvents;

impl SecurityEvents for NoSecurityEvents {
    fn record(&self, _event: SecurityEvent) {}
}
