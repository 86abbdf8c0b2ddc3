//! The SIP2 server's port ([`Sip2Backend`]) over the application layer's services
//! (`library_app::Services`, what every channel calls), and the connections a deleted
//! station account loses. Behind the feature `library`.
//!
//! Nothing here decides a library rule: readers are identified through the credential
//! service (`verify_pin`: the web's counters, throttling and PIN lock), every circulation
//! message goes through the same `Circulation` service as the HTTP routes (so a refusal
//! is the same refusal, its reason in `AF`), and payments through the same ledger call as
//! `POST /patrons/{card}/payments`.
//!
//! Decisions (docs/operations.md, "SIP2"):
//! - **PIN.** A supplied `AD` is verified (the attempt source is the station,
//!   `terminal:sip2:<username>`). A station that needs PINs (its account's
//!   `pin_required`, the default) never gets here without one: the server refuses first.
//!   From a station that may act without PINs, an empty or missing `AD` is "not
//!   supplied": the station vouches for the reader, as Koha's stations do, so
//!   circulation goes ahead without it, except lending (checkout, renewals) to a card
//!   whose PIN is locked (`pin_locked`). An unknown card and a PIN that did not verify
//!   answer alike.
//! - **Station login.** The password is checked through the credential service
//!   (`verify_station`: counted and throttled); a station with an address allow-list
//!   logging in from elsewhere is checked against no hash at all, so it fails and counts
//!   exactly like a wrong password, and is recorded as `sip2_connection_refused`
//!   (`address_not_allowed`).
//! - **Lending library.** A checkout lends from the station's library; a checkin returns
//!   to it.
//! - **Block patron (`01`).** Blocks the card (docs/sip2.md, acceptance vector 18): later
//!   checkouts, renewals and holds on any channel are refused as for a suspension
//!   (`patron_suspended`) until staff lift it (`DELETE /api/v1/patrons/{card}/block`). Only
//!   a logged-in station whose account may block gets here (the server refuses the
//!   others); a PIN sent is verified; recorded in the audit log.
//! - **Audit.** What HTTP audits for staff (checkout, checkin, renewal, payment) is
//!   audited here too, without a staff id and with `"channel": "sip2"` and the station.
//!   Checkouts, checkins, renewals, payments and blocks are each recorded in the
//!   transaction of the change (`Actor::Station`, or the audit record handed to the
//!   ledger and the reader directory).
//! - **Fees.** A hold fee charged by collecting a waiting hold, or the fine fixed by
//!   renewing an overdue loan, goes to the reader's account and is shown in `BV`; `BO` is
//!   not required. `CG` (fee identifier) is ignored: payments settle the oldest charges
//!   first, as at the counter.

mod circulation;
mod readers;

use std::net::{IpAddr, SocketAddr};

use async_trait::async_trait;
use library_app::{AuditRecord, Services, StationConnections};
use library_core::{CardNumber, DEFAULT_LIBRARY_OFFSET, Money, PatronId};
use library_credentials::{
    AttemptSource, LoginError, Secret, SecurityEvent, StationUsername, StoredCredentials,
};
use time::{Date, OffsetDateTime};

use crate::server::{
    BackendError, ConnectionRefusal, HoldInfo, HoldTarget, ItemInfo, LoanInfo, Outcome,
    PatronInformation, PatronLookup, PatronSummary, PaymentInfo, Refusal, RenewAllInfo, ReturnInfo,
    Sip2Backend, Sip2Server, StationAccount, StationPermissions, StationSession,
};

/// The SIP2 server as this application runs it.
pub type LibrarySip2Server = Sip2Server<Sip2Library>;

/// The SIP2 server's connections as the station accounts close them.
#[derive(Debug, Clone)]
pub struct Sip2Connections(pub LibrarySip2Server);

impl StationConnections for Sip2Connections {
    fn disconnect(&self, username: &StationUsername) -> usize {
        self.0.disconnect_station(username.as_str())
    }
}

/// The library as the SIP2 server sees it: the application layer's services, which HTTP
/// calls too.
#[derive(Clone)]
pub struct Sip2Library {
    services: Services,
}

impl std::fmt::Debug for Sip2Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sip2Library").finish_non_exhaustive()
    }
}

/// A reader a request names, once identified.
#[derive(Debug)]
enum Reader {
    /// No reader has this card (or it is not a card number).
    Unknown,
    /// A PIN was supplied and did not verify (wrong, locked, throttled).
    PinNotVerified,
    /// The reader; `pin_verified` is false when no PIN was supplied.
    Found {
        credentials: Box<StoredCredentials>,
        pin_verified: bool,
    },
}

impl Reader {
    /// The reader, or the refusal the station gets.
    fn found(self) -> Result<(PatronId, CardNumber), Refusal> {
        match self {
            Reader::Unknown => Err(Refusal::patron_not_found()),
            Reader::PinNotVerified => Err(Refusal::pin_not_verified()),
            Reader::Found { credentials, .. } => {
                Ok((credentials.patron, credentials.info.card_number))
            }
        }
    }
}

/// An infrastructure failure, with what was being done (for the log).
fn failed(context: &str, err: &dyn std::fmt::Display) -> BackendError {
    BackendError::new(format!("{context}: {err}"))
}

/// Maps any displayable failure to a [`BackendError`].
trait OrBackend<T> {
    fn or_backend(self, context: &'static str) -> Result<T, BackendError>;
}

impl<T, E: std::fmt::Display> OrBackend<T> for Result<T, E> {
    fn or_backend(self, context: &'static str) -> Result<T, BackendError> {
        self.map_err(|e| failed(context, &e))
    }
}

/// The domain's reason as a sentence for the reader: "the reader has reached the loan
/// quota" → "The reader has reached the loan quota."
fn sentence(reason: &dyn std::fmt::Display) -> String {
    let text = reason.to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// A domain refusal: its code and its sentence.
fn refusal(code: &'static str, reason: &dyn std::fmt::Display) -> Refusal {
    Refusal::new(code, sentence(reason))
}

impl Sip2Library {
    /// The SIP2 side of the library over the services HTTP uses.
    pub fn new(services: Services) -> Self {
        Self { services }
    }

    /// Today in the libraries' zone (the day payments are booked on, as over HTTP).
    fn today(&self) -> Date {
        self.services
            .clock
            .now()
            .to_offset(DEFAULT_LIBRARY_OFFSET)
            .date()
    }

    /// Identifies the reader of a request: the card, then the PIN when one was supplied.
    /// The PIN goes through the credential service whether or not the card exists (an
    /// unknown card is counted and hashed like a known one, as on the web).
    async fn identify(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
    ) -> Result<Reader, BackendError> {
        let found = match CardNumber::parse(card) {
            Ok(card) => self
                .services
                .readers
                .credentials_by_card(&card)
                .await
                .or_backend("find reader")?,
            Err(_) => None,
        };
        let pin_verified = match pin {
            None => false,
            Some(pin) => {
                let source = AttemptSource(format!("terminal:sip2:{}", station.station_id));
                match self
                    .services
                    .credentials
                    .verify_pin(card, &Secret::new(pin), &source)
                    .await
                {
                    Ok(patron) => found.as_ref().is_some_and(|c| c.patron == patron),
                    Err(LoginError::InvalidCredentials | LoginError::TooManyAttempts { .. }) => {
                        false
                    }
                    Err(LoginError::Infrastructure(e)) => return Err(failed("verify PIN", &e)),
                }
            }
        };
        Ok(match found {
            None => Reader::Unknown,
            Some(_) if pin.is_some() && !pin_verified => Reader::PinNotVerified,
            Some(credentials) => Reader::Found {
                credentials: Box::new(credentials),
                pin_verified,
            },
        })
    }

    /// The reader a lending request (checkout, renewal) names: as [`Self::identify`], and
    /// refused with `pin_locked` when no PIN was sent and the card's PIN is locked (a
    /// station that lends without PINs does not lend past a PIN lock).
    async fn borrower(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
    ) -> Result<Result<(PatronId, CardNumber), Refusal>, BackendError> {
        let reader = self.identify(station, card, pin).await?;
        if let Reader::Found {
            credentials,
            pin_verified: false,
        } = &reader
            && self
                .services
                .credentials
                .pin_locked(&credentials.info.card_number)
                .await
                .or_backend("read PIN lock")?
        {
            return Ok(Err(Refusal::pin_locked()));
        }
        Ok(reader.found())
    }

    /// The audit record of a station's action, for the store that writes it in the
    /// transaction of the change.
    fn audit_record(
        &self,
        station: &StationSession,
        action: &'static str,
        subject: String,
        mut details: serde_json::Value,
    ) -> AuditRecord {
        if let Some(map) = details.as_object_mut() {
            map.insert("channel".into(), "sip2".into());
            map.insert("station".into(), station.station_id.clone().into());
        }
        AuditRecord {
            staff: None,
            action,
            subject,
            details: details.to_string(),
            at: self.services.clock.now(),
        }
    }
}

#[async_trait]
impl Sip2Backend for Sip2Library {
    fn now(&self) -> OffsetDateTime {
        self.services.clock.now()
    }

    fn connection_refused(&self, peer: IpAddr, reason: ConnectionRefusal) {
        self.services
            .credentials
            .events()
            .record(SecurityEvent::Sip2ConnectionRefused {
                address: peer.to_canonical().to_string(),
                reason: reason.code(),
            });
    }

    async fn station_login(
        &self,
        username: &str,
        password: &str,
        peer: SocketAddr,
    ) -> Result<Option<StationAccount>, BackendError> {
        let stored = match StationUsername::parse(username) {
            Ok(name) => self
                .services
                .sip2_stations
                .find(&name)
                .await
                .or_backend("find station")?,
            Err(_) => None,
        };
        let source = AttemptSource(format!("ip:{}", peer.ip()));
        // From an address the station does not allow: checked against no hash, so it fails
        // and counts like a wrong password, in the same time.
        let allowed = stored
            .as_ref()
            .is_none_or(|s| s.settings.allows_address(peer.ip()));
        if !allowed {
            self.connection_refused(peer.ip(), ConnectionRefusal::AddressNotAllowed);
        }
        let hash = stored
            .as_ref()
            .filter(|_| allowed)
            .map(|s| &s.password_hash);
        match self
            .services
            .credentials
            .verify_station(username, &Secret::new(password), hash, &source)
            .await
        {
            Ok(()) => Ok(stored.filter(|_| allowed).map(|s| StationAccount {
                station_id: s.username.as_str().to_owned(),
                library_code: s.library,
                permissions: StationPermissions {
                    pin_required: s.settings.pin_required,
                    may_block: s.settings.may_block,
                },
            })),
            Err(LoginError::InvalidCredentials | LoginError::TooManyAttempts { .. }) => Ok(None),
            Err(LoginError::Infrastructure(e)) => Err(failed("verify station", &e)),
        }
    }

    async fn patron_status(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
    ) -> Result<PatronLookup<PatronSummary>, BackendError> {
        self.patron_summary(station, card, pin).await
    }

    async fn patron_information(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
    ) -> Result<PatronLookup<PatronInformation>, BackendError> {
        self.patron_details(station, card, pin).await
    }

    async fn block_patron(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        reason: &str,
    ) -> Result<PatronLookup<PatronSummary>, BackendError> {
        self.block(station, card, pin, reason).await
    }

    async fn checkout(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        barcode: &str,
        _fee_acknowledged: bool,
    ) -> Outcome<LoanInfo> {
        self.lend(station, card, pin, barcode).await
    }

    async fn checkin(
        &self,
        station: &StationSession,
        barcode: &str,
        returned_at: Option<OffsetDateTime>,
    ) -> Outcome<ReturnInfo> {
        self.take_back(station, barcode, returned_at).await
    }

    async fn renew(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        barcode: &str,
        _fee_acknowledged: bool,
    ) -> Outcome<LoanInfo> {
        self.renew_one(station, card, pin, barcode).await
    }

    async fn renew_all(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        _fee_acknowledged: bool,
    ) -> Outcome<RenewAllInfo> {
        self.renew_every(station, card, pin).await
    }

    async fn place_hold(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        target: HoldTarget<'_>,
        pickup: Option<&str>,
    ) -> Outcome<HoldInfo> {
        self.hold(station, card, pin, target, pickup).await
    }

    async fn cancel_hold(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        target: HoldTarget<'_>,
    ) -> Outcome<HoldInfo> {
        self.unhold(station, card, pin, target).await
    }

    async fn fee_paid(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        amount: Money,
        _fee_id: Option<&str>,
        transaction_id: Option<&str>,
    ) -> Outcome<PaymentInfo> {
        self.pay(station, card, pin, amount, transaction_id).await
    }

    async fn end_session(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
    ) -> Outcome<()> {
        Ok(self.identify(station, card, pin).await?.found().map(|_| ()))
    }

    async fn item_information(
        &self,
        _station: &StationSession,
        barcode: &str,
    ) -> Result<Option<ItemInfo>, BackendError> {
        self.item(barcode).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_sentences() {
        assert_eq!(
            sentence(&library_circulation::CheckoutRefusal::QuotaReached),
            "The reader has reached the loan quota."
        );
        assert_eq!(
            sentence(&library_circulation::CheckoutRefusal::NoPolicy),
            "No lending rules are set for this reader and item; please ask staff."
        );
        assert_eq!(sentence(&""), "");
    }
}
