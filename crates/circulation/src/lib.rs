//! Circulation for a public library: circulation rules, library calendars, due dates,
//! checkout, checkin, renewals and holds, the ports they need and the application services
//! every channel (web, PIN/telephone, counter, SIP2) calls.
//!
//! Invariants:
//! - Pure: no I/O, no async runtime, no database, no HTTP, no serialisation. The outside
//!   world comes in through [`ports`]; the async traits there are runtime-agnostic.
//! - Decisions are pure functions with ordered, named reasons ([`checkout_refusals`],
//!   [`renewal_refusals`], [`hold_refusals`]); the codes are docs/http.md's, exactly.
//! - A due date is never on a day the lending library is closed (if it has an open day
//!   within two years); a renewal never shortens a loan.
//! - Queued holds of a title always have positions 1..n without gaps.
//! - Fines use the lending library's calendar, zone and fine-suspension periods; the
//!   arithmetic is library-fines'. Money is integer cents ([`library_core::Money`]).
//! - Every search over the calendar is bounded ([`calendar::MAX_SEARCH_DAYS`]).
//! - A checkout's read-check-write happens in one unit of work
//!   ([`ports::CirculationStore`]), locking patron, then title, then item.
//!
//! Map: [`calendar`] (closed days, open-day searches) · `rules` (scopes, resolution) ·
//! `profile` (the default "hkpl" rules) · `due_date` · `checkout`, `renewal`,
//! `hold_request` (the decisions) · `hold_queue` (holds and the FIFO queue) ·
//! `hold_options` (suspension, "not needed after", cancel reasons) · `checkin`
//! (what a return costs) · [`closure_moves`] (a closure moving due and pickup-by dates)
//! · `model` (patron, item, title, library, loan) · [`ports`] · [`service`] (the use
//! cases over the ports) · `memory` (in-memory adapter, feature `memory`). Feature
//! `mocks` adds mockall `MockXxx` types for the ports.
//!
//! # Example: a checkout and a renewal with the in-memory adapter
//!
//! On the default "hkpl" rules, a book lent on Friday 5 March 2021 is due 14 days later,
//! on 19 March; renewed on 15 March, it is due 14 days from the renewal date, on 29 March,
//! with 4 renewals left. An embedder supplies its own adapters for the ports
//! ([`ports::CirculationStore`] and the rule, calendar and fine-suspension repositories);
//! the in-memory one (feature `memory`) implements them all.
//!
//! ```
//! use std::sync::Arc;
//!
//! use library_circulation::memory::MemoryStore;
//! use library_circulation::ports::CirculationChannel;
//! use library_circulation::service::{CheckoutRequest, RenewRequest};
//! use library_circulation::{
//!     Calendar, Circulation, Item, ItemStatus, ItemType, Library, Patron, ReaderCategory,
//!     hkpl_profile,
//! };
//! use library_core::{
//!     Barcode, CardNumber, ItemId, LibraryCode, LibraryKind, ManualClock, PatronId,
//! };
//! use time::macros::{date, datetime};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = MemoryStore::new();
//! store.set_rules(hkpl_profile());
//! let central = LibraryCode::parse("HKCL")?;
//! store.put_library(Library {
//!     code: central.clone(),
//!     kind: LibraryKind::Central,
//!     calendar: Calendar::default(), // open every day
//! });
//! let card = CardNumber::parse("21000000000001")?;
//! let reader = store.add_patron(Patron {
//!     id: PatronId(0),
//!     card_number: card.clone(),
//!     category: ReaderCategory::parse("adult")?,
//!     home_library: central.clone(),
//!     card_expires_on: date!(2025 - 12 - 31),
//!     suspended_until: None,
//!     blocked: false,
//! });
//! let title = store.add_title("A Brief History of Hong Kong");
//! let barcode = Barcode::parse("31000000000001")?;
//! store.add_item(Item {
//!     id: ItemId(0),
//!     barcode: barcode.clone(),
//!     title,
//!     item_type: ItemType::parse("adult_book")?,
//!     home_library: central.clone(),
//!     status: ItemStatus::Available,
//!     current_library: central.clone(),
//!     transit_to: None,
//! });
//!
//! let clock = Arc::new(ManualClock::new(datetime!(2021-03-05 10:00 +08:00)));
//! let circulation = Circulation::new(
//!     store.clone(), // the unit of work
//!     store.clone(), // rules
//!     store.clone(), // libraries and their calendars
//!     store.clone(), // fine-suspension periods
//!     clock.clone(),
//! );
//!
//! let lent = pollster::block_on(circulation.checkout(CheckoutRequest {
//!     card_number: card,
//!     item_barcode: barcode,
//!     library: central,
//! }))?;
//! assert_eq!(lent.loan.due.on, date!(2021 - 03 - 19));
//!
//! clock.set(datetime!(2021-03-15 16:30 +08:00));
//! let renewed = pollster::block_on(circulation.renew(RenewRequest {
//!     loan: lent.loan.id,
//!     patron: Some(reader), // the reader asks: the loan must be theirs
//!     channel: CirculationChannel::Online,
//! }))?;
//! assert_eq!(renewed.loan.due.on, date!(2021 - 03 - 29));
//! assert_eq!(renewed.renewals_left, 4);
//! # Ok(())
//! # }
//! ```

pub mod calendar;
mod checkin;
mod checkout;
pub mod closure_moves;
mod codes;
mod due_date;
mod hold_options;
mod hold_queue;
mod hold_request;
pub mod lost;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
mod model;
pub mod overrides;
pub mod ports;
mod profile;
mod renewal;
mod rules;
pub mod service;
mod standing;
mod transit;

pub use calendar::{Calendar, CalendarError, CalendarRule, Closure};
pub use checkin::{
    ReturnAssessment, ReturnTimeError, accrued_fine, assess_return, effective_return_time,
};
pub use checkout::{
    CheckoutFacts, CheckoutKind, CheckoutRefusal, checkout_refusals, decide_checkout,
};
pub use codes::{ItemType, ParseCodeError, ReaderCategory};
pub use due_date::{DueDate, loan_due_date, renewal_due_date};
pub use hold_options::{
    CancelReason, CancelledBy, HoldOptionViolation, MAX_CANCEL_REASON_CHARS,
    MAX_NOT_NEEDED_AFTER_DAYS, MAX_SUSPENSION_DAYS, check_not_needed_after, check_suspended_until,
};
pub use hold_queue::{Hold, HoldQueue, HoldQueueError, HoldState, HoldStatus, NewHold, pickup_by};
pub use hold_request::{HoldFacts, HoldRefusal, decide_hold, hold_refusals};
pub use model::{Item, ItemPlacement, ItemStatus, Library, Loan, NewLoan, Patron, Title};
pub use profile::{
    ADULT_FINE_PER_DAY, ADULT_ITEM_TYPES, BLOCK_THRESHOLD, HOLD_FEE, JUNIOR_FINE_PER_DAY,
    JUNIOR_ITEM_TYPES, hkpl_profile,
};
pub use renewal::{
    RenewalFacts, RenewalRefusal, decide_renewal, earliest_renewal, renewal_refusals,
};
pub use rules::{EffectiveRules, RenewalBase, RuleScope, RuleSet, ScopedRules, UnknownRenewalBase};
pub use service::Circulation;
pub use standing::ReaderStanding;
pub use transit::{Route, route_copy};
