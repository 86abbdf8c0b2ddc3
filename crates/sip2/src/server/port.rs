//! The port the server calls: what a station may ask of the library, in plain types.
//!
//! The server's implementation (`library-server`, `src/sip2.rs`) is a straight mapping:
//! [`Sip2Backend::station_login`] over the station accounts, the patron look-ups and PIN
//! checks over `library_credentials::CredentialService::verify_pin` (same counters,
//! throttling and PIN lock as the web) plus the reader's account, and every circulation
//! message over `library_circulation::Circulation`, whose refusal codes and messages come
//! back as a [`Refusal`]. Identifiers arrive raw, as the station sent them: the
//! implementation parses them (`CardNumber::parse`, `Barcode::parse`), and a value that
//! does not parse is simply "not found".
//!
//! # PINs
//!
//! `pin` is `None` when the station sent no `AD` or an empty one: "not supplied", never a
//! match, and never counted as a failure. A supplied PIN must be verified; a wrong one, a
//! locked PIN, a throttled card or a reader without a PIN are all just "not verified"
//! ([`PatronLookup::PinNotVerified`], or [`Refusal::pin_not_verified`] for circulation).
//! Whether a PIN is needed at all is the station's setting
//! ([`StationPermissions::pin_required`]): the server refuses a message that names a reader
//! without `AD` from a station that needs PINs before it calls the port, so the port sees
//! `None` only from stations that may act without one (they vouch for the reader, as
//! Koha's stations do; the reference's checkout vector sends no `AD`).
//!
//! # Stations
//!
//! [`Sip2Backend::station_login`] checks the password and the station's address
//! allow-list (a login from an address not allowed fails like a wrong password) and gives
//! the station's [`StationPermissions`], which the server applies to every message on the
//! connection.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use async_trait::async_trait;
use library_core::{LibraryCode, Money};
use time::{Date, OffsetDateTime};

/// An infrastructure failure (database, hashing pool). The station gets a generic "not
/// ok" answer; the detail goes to the log only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SIP2 backend failure: {0}")]
pub struct BackendError(pub String);

impl BackendError {
    /// A failure described by `detail` (for the log, never for the station).
    pub fn new(detail: impl Into<String>) -> Self {
        Self(detail.into())
    }
}

/// Why a circulation request was not carried out: the domain's refusal code (e.g.
/// `quota_reached`, `library_circulation::CheckoutRefusal::code`) and a message for the
/// reader, written to `AF`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Machine-readable code: the domain's refusal code or one of the constants below.
    pub code: Cow<'static, str>,
    /// For the reader (the station shows it).
    pub message: String,
}

impl Refusal {
    /// No reader has this card (or it is not a card number).
    pub const PATRON_NOT_FOUND: &'static str = "patron_not_found";
    /// A PIN was supplied and not verified (wrong, locked, throttled).
    pub const PIN_NOT_VERIFIED: &'static str = "pin_not_verified";
    /// No item has this barcode (or it is not a barcode).
    pub const ITEM_NOT_FOUND: &'static str = "item_not_found";
    /// The item is not on loan (checkin), or not on loan to this reader (renewal).
    pub const NOT_ON_LOAN: &'static str = "not_on_loan";
    /// No such hold to cancel.
    pub const HOLD_NOT_FOUND: &'static str = "hold_not_found";
    /// The station needs the reader's PIN and none was sent (refused by the server before
    /// the port is called).
    pub const PIN_REQUIRED: &'static str = "pin_required";
    /// The reader's PIN is locked by failed attempts: no lending at a station until it is
    /// changed or reset, PIN or not.
    pub const PIN_LOCKED: &'static str = "pin_locked";

    /// A refusal with this code and message.
    pub fn new(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }

    /// Unknown card. The server answers it exactly like [`Self::pin_not_verified`] (same
    /// shape, same generic message), except for `BL`.
    pub fn patron_not_found() -> Self {
        Self::new(Self::PATRON_NOT_FOUND, "")
    }

    /// A supplied PIN that did not verify.
    pub fn pin_not_verified() -> Self {
        Self::new(Self::PIN_NOT_VERIFIED, "")
    }

    /// No PIN from a station that needs one.
    pub fn pin_required() -> Self {
        Self::new(Self::PIN_REQUIRED, "Please enter your PIN.")
    }

    /// A locked PIN, at a station lending without one.
    pub fn pin_locked() -> Self {
        Self::new(
            Self::PIN_LOCKED,
            "Your PIN is locked. Please change it or ask staff.",
        )
    }

    /// Unknown item.
    pub fn item_not_found() -> Self {
        Self::new(Self::ITEM_NOT_FOUND, "Item not found")
    }

    /// Whether the refusal says the reader is not known or not verified.
    pub fn is_about_the_patron(&self) -> bool {
        self.code == Self::PATRON_NOT_FOUND || self.code == Self::PIN_NOT_VERIFIED
    }
}

/// What every circulation operation returns: the outer error is the infrastructure, the
/// inner one the domain's refusal.
pub type Outcome<T> = Result<Result<T, Refusal>, BackendError>;

/// What a station may do, as its account says (docs/credentials.md, SIP2 stations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StationPermissions {
    /// Every message that names a reader needs the reader's PIN in `AD`.
    pub pin_required: bool,
    /// The station may block a card with `01`.
    pub may_block: bool,
}

impl Default for StationPermissions {
    /// A new station's: PIN required, no blocking.
    fn default() -> Self {
        Self {
            pin_required: true,
            may_block: false,
        }
    }
}

/// Why the server closed a connection on its own account (for
/// [`Sip2Backend::connection_refused`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionRefusal {
    /// Over the cap of connections not logged in, per address or in total.
    UnauthenticatedLimit,
    /// No successful `93` within the login deadline.
    LoginDeadline,
    /// A `93` for a station from an address its allow-list does not hold.
    AddressNotAllowed,
}

impl ConnectionRefusal {
    /// The stable code, for the security log.
    pub const fn code(self) -> &'static str {
        match self {
            ConnectionRefusal::UnauthenticatedLimit => "unauthenticated_limit",
            ConnectionRefusal::LoginDeadline => "login_deadline",
            ConnectionRefusal::AddressNotAllowed => "address_not_allowed",
        }
    }
}

/// A station account that logged in: who it is, the library it lends from, and what it
/// may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationAccount {
    /// The station's username (`CN`).
    pub station_id: String,
    /// The library its checkouts lend from (docs/http.md, SIP2 stations).
    pub library_code: LibraryCode,
    /// What it may do.
    pub permissions: StationPermissions,
}

/// The logged-in station a request comes from: passed to every operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationSession {
    /// The station's username (`CN`).
    pub station_id: String,
    /// The library its checkouts lend from.
    pub library_code: LibraryCode,
    /// Where the connection comes from (the attempt source for PIN throttling).
    pub peer: SocketAddr,
    /// `CP` of the login, if sent.
    pub location: Option<String>,
    /// What the station may do (from its account at login).
    pub permissions: StationPermissions,
}

/// What a patron look-up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatronLookup<T> {
    /// No reader has this card (or it is not a card number). Takes precedence over the
    /// PIN check.
    UnknownPatron,
    /// A PIN was supplied and did not verify (wrong, locked, throttled, no PIN set).
    PinNotVerified,
    /// The reader; `pin_verified` is false when no PIN was supplied.
    Found {
        /// A PIN was supplied and verified.
        pin_verified: bool,
        /// What the station may see.
        patron: T,
    },
}

/// The privileges and limits a reader is at, as the 14-position patron status shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PatronStanding {
    /// May not borrow (expired card, suspension, fines over the limit, quota reached).
    pub charge_denied: bool,
    /// May not renew.
    pub renewal_denied: bool,
    /// May not place holds.
    pub hold_denied: bool,
    /// The loan quota is reached.
    pub too_many_items_charged: bool,
    /// Has overdue loans beyond what the rules allow.
    pub too_many_items_overdue: bool,
    /// Outstanding charges are at or over the blocking threshold.
    pub excessive_fines: bool,
}

/// A reader as `23`/`24` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronSummary {
    /// Name as the station shows it (`AE`).
    pub name: String,
    /// Privileges and limits.
    pub standing: PatronStanding,
    /// Unpaid charges plus accruing fines (docs/http.md, Fines: "outstanding"); `BV` when
    /// positive.
    pub outstanding: Money,
    /// Notes for the reader (`AF`): why a privilege is denied, for example.
    pub messages: Vec<String>,
}

/// One open loan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanLine {
    /// The item's barcode.
    pub barcode: String,
    /// The title, for display.
    pub title: String,
    /// When it is due.
    pub due_at: OffsetDateTime,
    /// Past its due date.
    pub overdue: bool,
}

/// One active hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldLine {
    /// What identifies it to the reader: the trapped copy's barcode when waiting, else the
    /// title.
    pub item: String,
    /// Waiting on the hold shelf.
    pub available: bool,
}

/// One unpaid charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FineLine {
    /// What it is for (`"overdue: <title>"`).
    pub description: String,
    /// How much is unpaid.
    pub amount: Money,
}

/// A reader as `63`/`64` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronInformation {
    /// The summary fields.
    pub summary: PatronSummary,
    /// Open loans, oldest first.
    pub loans: Vec<LoanLine>,
    /// Active holds, queued and waiting.
    pub holds: Vec<HoldLine>,
    /// Unpaid charges.
    pub fines: Vec<FineLine>,
    /// Loan quota (`CB`), if any.
    pub loan_limit: Option<u32>,
    /// Hold quota (`BZ`), if any.
    pub hold_limit: Option<u32>,
    /// `BE`
    pub email: Option<String>,
    /// `BF`
    pub phone: Option<String>,
}

/// A loan made or renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanInfo {
    /// The item's barcode.
    pub barcode: String,
    /// The title.
    pub title: String,
    /// The new due date and time.
    pub due_at: OffsetDateTime,
    /// Renewals still allowed.
    pub renewals_left: u32,
    /// A charge made by this transaction (hold fee; fine fixed at renewal), zero if none.
    pub charged: Money,
}

/// A return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnInfo {
    /// The item's barcode.
    pub barcode: String,
    /// The title.
    pub title: String,
    /// The item's home library (`AQ`).
    pub permanent_location: String,
    /// The borrower's card (`AA`), if the station may see it; `None` for an arrival of a
    /// copy in transit (no loan).
    pub patron_card: Option<String>,
    /// The fine fixed by this return, zero if none.
    pub fine: Money,
    /// Where the copy goes now.
    pub routing: ReturnRouting,
}

/// Where a checked-in copy goes, as the station is told to sort it: anything but the shelf
/// sets the alert flag, with the library in `CL` and `CT` and the alert type in `CV`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnRouting {
    /// Back on the shelf here (no alert).
    Shelf,
    /// Trapped for a hold picked up here: to this library's hold shelf (`CV` `01`).
    HoldHere {
        /// The pickup library (this one).
        library: String,
    },
    /// In transit to another library for a hold picked up there (`CV` `02`).
    HoldElsewhere {
        /// The hold's pickup library.
        library: String,
    },
    /// In transit to another library, its home, with no hold (`CV` `04`).
    SendElsewhere {
        /// The destination.
        library: String,
    },
}

impl ReturnRouting {
    /// `CV`: the 3M extension's alert type, as Koha sends it (`01` hold for this library,
    /// `02` hold for another library, `04` send to another library); `None` on the shelf.
    pub fn alert_type(&self) -> Option<&'static str> {
        match self {
            ReturnRouting::Shelf => None,
            ReturnRouting::HoldHere { .. } => Some("01"),
            ReturnRouting::HoldElsewhere { .. } => Some("02"),
            ReturnRouting::SendElsewhere { .. } => Some("04"),
        }
    }

    /// The library the copy goes to (`CT`); `None` on the shelf.
    pub fn destination(&self) -> Option<&str> {
        match self {
            ReturnRouting::Shelf => None,
            ReturnRouting::HoldHere { library }
            | ReturnRouting::HoldElsewhere { library }
            | ReturnRouting::SendElsewhere { library } => Some(library),
        }
    }
}

/// "Renew all": what happened to each loan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewAllInfo {
    /// Barcodes renewed.
    pub renewed: Vec<String>,
    /// Barcodes not renewed, with why.
    pub not_renewed: Vec<(String, Refusal)>,
}

/// What a hold is on: a copy (whose title is meant) or a title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldTarget<'a> {
    /// A copy's barcode (`AB`).
    Item(&'a str),
    /// A title identifier (`AJ`).
    Title(&'a str),
}

/// A hold placed (or the state of the one cancelled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldInfo {
    /// The title.
    pub title: String,
    /// Where it will be collected.
    pub pickup_library: String,
    /// 1-based place in the queue, if queued.
    pub queue_position: Option<u32>,
    /// A copy is already waiting.
    pub available: bool,
    /// Until when a waiting copy stays on the shelf.
    pub pickup_by: Option<Date>,
}

/// A payment taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentInfo {
    /// The ledger's transaction id (`BK`).
    pub transaction_id: Option<String>,
    /// What is still outstanding after it.
    pub outstanding: Money,
}

/// Where an item is, for `18`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemCirculation {
    /// On the shelf.
    Available,
    /// On loan.
    OnLoan,
    /// Waiting on a hold shelf.
    OnHoldShelf,
    /// Between libraries.
    InTransit,
    /// Lost.
    Lost,
    /// Anything else (not for loan, withdrawn).
    Other,
}

/// An item, for `17`/`18`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInfo {
    /// The title.
    pub title: String,
    /// Where it is.
    pub circulation: ItemCirculation,
    /// Due date when on loan.
    pub due_at: Option<OffsetDateTime>,
    /// Readers queued for its title.
    pub hold_queue_length: u32,
    /// Home library.
    pub owner_library: String,
}

/// What the SIP2 server needs from the library. One method per station request (named by
/// role, not by message number); every method gets the logged-in station.
#[async_trait]
pub trait Sip2Backend: Send + Sync {
    /// The current instant (the library's clock, so a settable dev clock applies here
    /// too).
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// The server closed a connection from `peer` on its own account (one call per
    /// connection): for the security log. Does nothing unless implemented.
    fn connection_refused(&self, peer: IpAddr, reason: ConnectionRefusal) {
        let _ = (peer, reason);
    }

    /// `93`: checks a station's credentials (hashed like any secret) and that `peer` is
    /// an address the station may log in from. `Ok(None)`: unknown station, wrong
    /// password or an address not allowed, one answer for all.
    async fn station_login(
        &self,
        username: &str,
        password: &str,
        peer: SocketAddr,
    ) -> Result<Option<StationAccount>, BackendError>;

    /// `23`: the reader with this card, checking `pin` when supplied.
    async fn patron_status(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
    ) -> Result<PatronLookup<PatronSummary>, BackendError>;

    /// `63`: the reader with this card and their loans, holds and charges, checking `pin`
    /// when supplied.
    async fn patron_information(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
    ) -> Result<PatronLookup<PatronInformation>, BackendError>;

    /// `01`: blocks the reader's card (the station kept or flagged it), checking `pin`
    /// when supplied; the reader as they stand afterwards. Only called for a station that
    /// may block.
    async fn block_patron(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        reason: &str,
    ) -> Result<PatronLookup<PatronSummary>, BackendError>;

    /// `11`: lends the item to the reader from the station's library. `fee_acknowledged`
    /// is the station's `BO`.
    async fn checkout(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        barcode: &str,
        fee_acknowledged: bool,
    ) -> Outcome<LoanInfo>;

    /// `09`: returns the item at the station's library; `returned_at` is the station's
    /// return date when it sent one (its clock: a time a little in the future is now).
    async fn checkin(
        &self,
        station: &StationSession,
        barcode: &str,
        returned_at: Option<OffsetDateTime>,
    ) -> Outcome<ReturnInfo>;

    /// `29`: renews the reader's loan of this item.
    async fn renew(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        barcode: &str,
        fee_acknowledged: bool,
    ) -> Outcome<LoanInfo>;

    /// `65`: renews every open loan of the reader.
    async fn renew_all(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        fee_acknowledged: bool,
    ) -> Outcome<RenewAllInfo>;

    /// `15` with `+`: places a hold; `pickup` is the station's `BS` (else the station's
    /// library).
    async fn place_hold(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        target: HoldTarget<'_>,
        pickup: Option<&str>,
    ) -> Outcome<HoldInfo>;

    /// `15` with `-`: cancels the reader's active hold on that title.
    async fn cancel_hold(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        target: HoldTarget<'_>,
    ) -> Outcome<HoldInfo>;

    /// `37`: takes a payment towards the reader's charges (`fee_id` names one charge).
    async fn fee_paid(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        amount: Money,
        fee_id: Option<&str>,
        transaction_id: Option<&str>,
    ) -> Outcome<PaymentInfo>;

    /// `35`: the reader is done at the station (nothing to store today; the PIN is
    /// checked when supplied).
    async fn end_session(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
    ) -> Outcome<()>;

    /// `17`: an item by barcode, `None` if unknown.
    async fn item_information(
        &self,
        station: &StationSession,
        barcode: &str,
    ) -> Result<Option<ItemInfo>, BackendError>;
}
