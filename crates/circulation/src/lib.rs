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
//! `hold_request` (the decisions) · `hold_queue` (holds and the FIFO queue) · `checkin`
//! (what a return costs) · `model` (patron, item, title, library, loan) · [`ports`] ·
//! [`service`] (the use cases over the ports) · `memory` (in-memory adapter, feature
//! `memory`). Feature `mocks` adds mockall `MockXxx` types for the ports.

pub mod calendar;
mod checkin;
mod checkout;
mod codes;
mod due_date;
mod hold_queue;
mod hold_request;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
mod model;
pub mod ports;
mod profile;
mod renewal;
mod rules;
pub mod service;
mod standing;

pub use calendar::{Calendar, CalendarError, CalendarRule, Closure};
pub use checkin::{
    ReturnAssessment, ReturnTimeError, accrued_fine, assess_return, effective_return_time,
};
pub use checkout::{
    CheckoutFacts, CheckoutKind, CheckoutRefusal, checkout_refusals, decide_checkout,
};
pub use codes::{ItemType, ParseCodeError, ReaderCategory};
pub use due_date::{DueDate, loan_due_date, renewal_due_date};
pub use hold_queue::{Hold, HoldQueue, HoldQueueError, HoldState, HoldStatus, NewHold, pickup_by};
pub use hold_request::{HoldFacts, HoldRefusal, decide_hold, hold_refusals};
pub use model::{Item, ItemStatus, Library, Loan, NewLoan, Patron, Title};
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
