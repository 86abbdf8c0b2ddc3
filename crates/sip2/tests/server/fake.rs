//! An in-memory library behind the `Sip2Backend` port: one station account, a few readers
//! and items, loans and charges, and a count of the operations that changed something.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use library_core::{LibraryCode, Money};
use library_sip2::server::{
    BackendError, ConnectionRefusal, HoldInfo, HoldLine, HoldTarget, ItemCirculation, ItemInfo,
    LoanInfo, LoanLine, Outcome, PatronInformation, PatronLookup, PatronStanding, PatronSummary,
    PaymentInfo, Refusal, RenewAllInfo, ReturnInfo, ReturnRouting, Sip2Backend, StationAccount,
    StationPermissions, StationSession,
};
use time::OffsetDateTime;
use time::macros::datetime;

/// Lends without PINs and may block (the reference's vectors send no `AD`).
pub const STATION: &str = "sc_user";
pub const STATION_PASSWORD: &str = "sc_pass";
/// A new station's settings: PIN required, may not block. Same password.
pub const STRICT_STATION: &str = "sc_strict";
pub const LIBRARY: &str = "MAIN";
/// Good standing, PIN 1234, has 31000002 on loan.
pub const READER: &str = "21000001";
pub const PIN: &str = "1234";
pub const READER_NAME: &str = "Chan Tai Man";
/// Owes HK$60.00: over the limit, may not borrow.
pub const OWING: &str = "21000002";
pub const OWING_PIN: &str = "5678";
/// On the shelf.
pub const FREE_ITEM: &str = "31000001";
/// On loan to READER, renewable.
pub const LOANED_ITEM: &str = "31000002";
/// On loan to READER, no renewals left.
pub const MAXED_ITEM: &str = "31000003";
/// On the shelf, a second copy.
pub const OTHER_ITEM: &str = "31000004";
/// The fake's "now".
pub const NOW: OffsetDateTime = datetime!(2025-03-14 01:30:00 UTC);

#[derive(Debug, Clone)]
struct Patron {
    pin: &'static str,
    name: &'static str,
    owes: Money,
    blocked: bool,
}

#[derive(Debug, Clone)]
struct Loan {
    card: String,
    due_at: OffsetDateTime,
    renewals_left: u32,
}

#[derive(Debug, Default)]
struct State {
    patrons: HashMap<String, Patron>,
    titles: HashMap<String, &'static str>,
    loans: HashMap<String, Loan>,
    holds: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct FakeLibrary {
    state: Mutex<State>,
    /// Operations that changed something (checkouts, renewals, payments, ...).
    pub writes: AtomicUsize,
    /// Station logins attempted.
    pub logins: AtomicUsize,
    /// Every backend call is delayed by this much (for shutdown tests).
    pub delay: Mutex<Duration>,
    /// Connections the server closed on its own account.
    pub refused: Mutex<Vec<(std::net::IpAddr, ConnectionRefusal)>>,
}

impl FakeLibrary {
    pub fn new() -> Self {
        let mut state = State::default();
        state.patrons.insert(
            READER.into(),
            Patron {
                pin: PIN,
                name: READER_NAME,
                owes: Money::ZERO,
                blocked: false,
            },
        );
        state.patrons.insert(
            OWING.into(),
            Patron {
                pin: OWING_PIN,
                name: "Lee Siu Ming",
                owes: Money::from_cents(6000),
                blocked: false,
            },
        );
        for (barcode, title) in [
            (FREE_ITEM, "The Old Man and the Sea"),
            (LOANED_ITEM, "Piège à cœur"),
            (MAXED_ITEM, "Dream of the Red Chamber"),
            (OTHER_ITEM, "The Old Man and the Sea"),
        ] {
            state.titles.insert(barcode.into(), title);
        }
        state.loans.insert(
            LOANED_ITEM.into(),
            Loan {
                card: READER.into(),
                due_at: datetime!(2025-03-20 15:59:59 UTC),
                renewals_left: 2,
            },
        );
        state.loans.insert(
            MAXED_ITEM.into(),
            Loan {
                card: READER.into(),
                due_at: datetime!(2025-03-01 15:59:59 UTC),
                renewals_left: 0,
            },
        );
        Self {
            state: Mutex::new(state),
            writes: AtomicUsize::new(0),
            logins: AtomicUsize::new(0),
            delay: Mutex::new(Duration::ZERO),
            refused: Mutex::new(Vec::new()),
        }
    }

    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    pub fn loan_of(&self, barcode: &str) -> Option<String> {
        self.state
            .lock()
            .unwrap()
            .loans
            .get(barcode)
            .map(|l| l.card.clone())
    }

    async fn pause(&self) {
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    /// The reader, checking a supplied PIN: the same two refusals the real service gives.
    fn verify(&self, card: &str, pin: Option<&str>) -> Result<Patron, Refusal> {
        let state = self.state.lock().unwrap();
        let Some(patron) = state.patrons.get(card) else {
            return Err(Refusal::patron_not_found());
        };
        match pin {
            Some(pin) if pin != patron.pin => Err(Refusal::pin_not_verified()),
            _ => Ok(patron.clone()),
        }
    }

    fn lookup<T>(
        &self,
        card: &str,
        pin: Option<&str>,
        make: impl FnOnce(&State, &Patron) -> T,
    ) -> PatronLookup<T> {
        match self.verify(card, pin) {
            Err(r) if r.code == Refusal::PATRON_NOT_FOUND => PatronLookup::UnknownPatron,
            Err(_) => PatronLookup::PinNotVerified,
            Ok(patron) => PatronLookup::Found {
                pin_verified: pin.is_some(),
                patron: make(&self.state.lock().unwrap(), &patron),
            },
        }
    }

    fn summary(patron: &Patron) -> PatronSummary {
        let over = patron.owes >= Money::from_cents(5000);
        let denied = over || patron.blocked;
        PatronSummary {
            name: patron.name.into(),
            standing: PatronStanding {
                charge_denied: denied,
                renewal_denied: denied,
                hold_denied: denied,
                excessive_fines: over,
                ..PatronStanding::default()
            },
            outstanding: patron.owes,
            messages: if over {
                vec!["Outstanding charges are at or over the limit".into()]
            } else {
                Vec::new()
            },
        }
    }

    fn loan_info(state: &State, barcode: &str, loan: &Loan) -> LoanInfo {
        LoanInfo {
            barcode: barcode.into(),
            title: state.titles[barcode].into(),
            due_at: loan.due_at,
            renewals_left: loan.renewals_left,
            charged: Money::ZERO,
        }
    }

    fn renew_one(state: &mut State, card: &str, barcode: &str) -> Result<LoanInfo, Refusal> {
        let Some(loan) = state.loans.get_mut(barcode).filter(|l| l.card == card) else {
            return Err(Refusal::new(
                Refusal::NOT_ON_LOAN,
                "Item not on loan to you",
            ));
        };
        if loan.renewals_left == 0 {
            return Err(Refusal::new(
                "too_many_renewals",
                "the loan has been renewed as often as the rules allow",
            ));
        }
        loan.renewals_left -= 1;
        loan.due_at = NOW + time::Duration::days(28);
        let loan = loan.clone();
        Ok(Self::loan_info(state, barcode, &loan))
    }
}

#[async_trait]
impl Sip2Backend for FakeLibrary {
    fn now(&self) -> OffsetDateTime {
        NOW
    }

    fn connection_refused(&self, peer: std::net::IpAddr, reason: ConnectionRefusal) {
        self.refused.lock().unwrap().push((peer, reason));
    }

    async fn station_login(
        &self,
        username: &str,
        password: &str,
        _peer: SocketAddr,
    ) -> Result<Option<StationAccount>, BackendError> {
        self.logins.fetch_add(1, Ordering::SeqCst);
        self.pause().await;
        if username == "broken" {
            return Err(BackendError::new("database is down"));
        }
        let permissions = match username {
            STATION => StationPermissions {
                pin_required: false,
                may_block: true,
            },
            STRICT_STATION => StationPermissions::default(),
            _ => return Ok(None),
        };
        Ok((password == STATION_PASSWORD).then(|| StationAccount {
            station_id: username.into(),
            library_code: LibraryCode::parse(LIBRARY).unwrap(),
            permissions,
        }))
    }

    async fn patron_status(
        &self,
        _station: &StationSession,
        card: &str,
        pin: Option<&str>,
    ) -> Result<PatronLookup<PatronSummary>, BackendError> {
        self.pause().await;
        Ok(self.lookup(card, pin, |_, p| Self::summary(p)))
    }

    async fn patron_information(
        &self,
        _station: &StationSession,
        card: &str,
        pin: Option<&str>,
    ) -> Result<PatronLookup<PatronInformation>, BackendError> {
        self.pause().await;
        Ok(self.lookup(card, pin, |state, p| {
            let mut loans: Vec<LoanLine> = state
                .loans
                .iter()
                .filter(|(_, l)| l.card == card)
                .map(|(barcode, l)| LoanLine {
                    barcode: barcode.clone(),
                    title: state.titles[barcode.as_str()].into(),
                    due_at: l.due_at,
                    overdue: l.due_at < NOW,
                })
                .collect();
            loans.sort_by(|a, b| a.barcode.cmp(&b.barcode));
            PatronInformation {
                summary: Self::summary(p),
                loans,
                holds: state
                    .holds
                    .iter()
                    .filter(|(c, _)| c == card)
                    .map(|(_, title)| HoldLine {
                        item: title.clone(),
                        available: false,
                    })
                    .collect(),
                fines: if p.owes.is_positive() {
                    vec![library_sip2::server::FineLine {
                        description: "overdue".into(),
                        amount: p.owes,
                    }]
                } else {
                    Vec::new()
                },
                loan_limit: Some(8),
                hold_limit: Some(5),
                email: Some("reader@example.org".into()),
                phone: None,
            }
        }))
    }

    async fn block_patron(
        &self,
        _station: &StationSession,
        card: &str,
        pin: Option<&str>,
        _reason: &str,
    ) -> Result<PatronLookup<PatronSummary>, BackendError> {
        let mut state = self.state.lock().unwrap();
        let Some(patron) = state.patrons.get_mut(card) else {
            return Ok(PatronLookup::UnknownPatron);
        };
        if pin.is_some_and(|p| p != patron.pin) {
            return Ok(PatronLookup::PinNotVerified);
        }
        patron.blocked = true;
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(PatronLookup::Found {
            pin_verified: pin.is_some(),
            patron: Self::summary(patron),
        })
    }

    async fn checkout(
        &self,
        _station: &StationSession,
        card: &str,
        pin: Option<&str>,
        barcode: &str,
        _fee_acknowledged: bool,
    ) -> Outcome<LoanInfo> {
        self.pause().await;
        let patron = match self.verify(card, pin) {
            Ok(p) => p,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let mut state = self.state.lock().unwrap();
        if !state.titles.contains_key(barcode) {
            return Ok(Err(Refusal::item_not_found()));
        }
        if patron.blocked {
            return Ok(Err(Refusal::new(
                "patron_suspended",
                "the reader is suspended",
            )));
        }
        if patron.owes >= Money::from_cents(5000) {
            return Ok(Err(Refusal::new(
                "fines_over_limit",
                "outstanding charges are at or over the limit",
            )));
        }
        if state.loans.contains_key(barcode) {
            return Ok(Err(Refusal::new(
                "item_not_available",
                "the item is not available for loan",
            )));
        }
        let loan = Loan {
            card: card.into(),
            due_at: datetime!(2025-04-11 15:59:59 UTC),
            renewals_left: 2,
        };
        state.loans.insert(barcode.into(), loan.clone());
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(Ok(Self::loan_info(&state, barcode, &loan)))
    }

    async fn checkin(
        &self,
        _station: &StationSession,
        barcode: &str,
        _returned_at: Option<OffsetDateTime>,
    ) -> Outcome<ReturnInfo> {
        self.pause().await;
        let mut state = self.state.lock().unwrap();
        let Some(title) = state.titles.get(barcode).copied() else {
            return Ok(Err(Refusal::item_not_found()));
        };
        let Some(loan) = state.loans.remove(barcode) else {
            return Ok(Err(Refusal::new(
                Refusal::NOT_ON_LOAN,
                "Item not checked out",
            )));
        };
        self.writes.fetch_add(1, Ordering::SeqCst);
        let overdue = loan.due_at < NOW;
        Ok(Ok(ReturnInfo {
            barcode: barcode.into(),
            title: title.into(),
            permanent_location: LIBRARY.into(),
            patron_card: Some(loan.card),
            fine: if overdue {
                Money::from_cents(450)
            } else {
                Money::ZERO
            },
            routing: ReturnRouting::Shelf,
        }))
    }

    async fn renew(
        &self,
        _station: &StationSession,
        card: &str,
        pin: Option<&str>,
        barcode: &str,
        _fee_acknowledged: bool,
    ) -> Outcome<LoanInfo> {
        self.pause().await;
        if let Err(refusal) = self.verify(card, pin) {
            return Ok(Err(refusal));
        }
        let mut state = self.state.lock().unwrap();
        let result = Self::renew_one(&mut state, card, barcode);
        if result.is_ok() {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        Ok(result)
    }

    async fn renew_all(
        &self,
        _station: &StationSession,
        card: &str,
        pin: Option<&str>,
        _fee_acknowledged: bool,
    ) -> Outcome<RenewAllInfo> {
        self.pause().await;
        if let Err(refusal) = self.verify(card, pin) {
            return Ok(Err(refusal));
        }
        let mut state = self.state.lock().unwrap();
        let mut barcodes: Vec<String> = state
            .loans
            .iter()
            .filter(|(_, l)| l.card == card)
            .map(|(b, _)| b.clone())
            .collect();
        barcodes.sort();
        let mut info = RenewAllInfo {
            renewed: Vec::new(),
            not_renewed: Vec::new(),
        };
        for barcode in barcodes {
            match Self::renew_one(&mut state, card, &barcode) {
                Ok(_) => info.renewed.push(barcode),
                Err(refusal) => info.not_renewed.push((barcode, refusal)),
            }
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(Ok(info))
    }

    async fn place_hold(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        target: HoldTarget<'_>,
        pickup: Option<&str>,
    ) -> Outcome<HoldInfo> {
        if let Err(refusal) = self.verify(card, pin) {
            return Ok(Err(refusal));
        }
        let mut state = self.state.lock().unwrap();
        let title = match target {
            HoldTarget::Item(barcode) => match state.titles.get(barcode) {
                Some(title) => (*title).to_owned(),
                None => return Ok(Err(Refusal::item_not_found())),
            },
            HoldTarget::Title(title) => title.to_owned(),
        };
        state.holds.push((card.into(), title.clone()));
        let position = state.holds.iter().filter(|(_, t)| *t == title).count();
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(Ok(HoldInfo {
            title,
            pickup_library: pickup.unwrap_or(station.library_code.as_str()).to_owned(),
            queue_position: Some(u32::try_from(position).unwrap()),
            available: false,
            pickup_by: None,
        }))
    }

    async fn cancel_hold(
        &self,
        station: &StationSession,
        card: &str,
        pin: Option<&str>,
        target: HoldTarget<'_>,
    ) -> Outcome<HoldInfo> {
        if let Err(refusal) = self.verify(card, pin) {
            return Ok(Err(refusal));
        }
        let mut state = self.state.lock().unwrap();
        let title = match target {
            HoldTarget::Item(barcode) => state.titles.get(barcode).map(|t| (*t).to_owned()),
            HoldTarget::Title(title) => Some(title.to_owned()),
        };
        let Some(index) = title.and_then(|title| {
            state
                .holds
                .iter()
                .position(|(c, t)| c == card && *t == title)
        }) else {
            return Ok(Err(Refusal::new(Refusal::HOLD_NOT_FOUND, "No such hold")));
        };
        let (_, title) = state.holds.remove(index);
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(Ok(HoldInfo {
            title,
            pickup_library: station.library_code.to_string(),
            queue_position: None,
            available: false,
            pickup_by: None,
        }))
    }

    async fn fee_paid(
        &self,
        _station: &StationSession,
        card: &str,
        pin: Option<&str>,
        amount: Money,
        _fee_id: Option<&str>,
        transaction_id: Option<&str>,
    ) -> Outcome<PaymentInfo> {
        self.pause().await;
        if let Err(refusal) = self.verify(card, pin) {
            return Ok(Err(refusal));
        }
        let mut state = self.state.lock().unwrap();
        let patron = state.patrons.get_mut(card).unwrap();
        if amount > patron.owes {
            return Ok(Err(Refusal::new(
                "overpayment",
                format!(
                    "Paid amount ({}) is more than the amount owed ({})",
                    amount, patron.owes
                ),
            )));
        }
        patron.owes -= amount;
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(Ok(PaymentInfo {
            transaction_id: Some(transaction_id.unwrap_or("PAY-1").to_owned()),
            outstanding: patron.owes,
        }))
    }

    async fn end_session(
        &self,
        _station: &StationSession,
        card: &str,
        pin: Option<&str>,
    ) -> Outcome<()> {
        Ok(self.verify(card, pin).map(|_| ()))
    }

    async fn item_information(
        &self,
        _station: &StationSession,
        barcode: &str,
    ) -> Result<Option<ItemInfo>, BackendError> {
        let state = self.state.lock().unwrap();
        Ok(state.titles.get(barcode).map(|title| {
            let loan = state.loans.get(barcode);
            ItemInfo {
                title: (*title).into(),
                circulation: if loan.is_some() {
                    ItemCirculation::OnLoan
                } else {
                    ItemCirculation::Available
                },
                due_at: loan.map(|l| l.due_at),
                hold_queue_length: 0,
                owner_library: LIBRARY.into(),
            }
        }))
    }
}
