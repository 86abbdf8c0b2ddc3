//! Fines for a public library: which days of an overdue loan are charged, how much that
//! costs, fine-suspension periods ("fines are not charged from A; they resume on B"),
//! reader suspensions (Koha's "fine days"), the per-reader ledger of charges, payments and
//! waivers, and the impact preview of a candidate fine-suspension period.
//!
//! Invariants:
//! - Pure: no I/O, no async runtime, no database, no HTTP, no serialisation. Calendars come
//!   in through the [`ClosedDays`] port; persistence stores the ledger's plain data.
//! - Money is integer minor units ([`Money`]); arithmetic saturates; no floats.
//! - Dates are `time::Date` in the lending library's zone. Chargeable days are the dates
//!   from the day after the due date up to and including the return date (or today), so a
//!   date is counted at most once, whatever overlaps (periods, closed days, grace).
//! - A fine is never negative, never above its cap, and never grows when a fine-suspension
//!   period is added. A reader suspension is never shortened.
//! - [`assess_fine`] allocates nothing and does not walk the days one by one unless the
//!   rule says closed days are not charged (then only the unsuspended stretches are asked,
//!   through [`ClosedDays::closed_days_between`], which [`IndexedCalendar`] answers in
//!   O(1)).
//! - [`preview_impact`] reads an iterator once and keeps O(1) state; it changes nothing.
//!
//! [`Money`]: library_core::Money

mod chargeable_days;
mod fine;
mod indexed_calendar;
mod ledger;
mod lending_library;
mod preview;
mod reader_suspension;
mod suspension_period;

pub use chargeable_days::{AlwaysOpen, ClosedDays, overdue_days};
pub use fine::{FineAssessment, FinePolicy, GraceMode, assess_fine, late_days};
pub use indexed_calendar::IndexedCalendar;
pub use ledger::{
    Allocation, Charge, ChargeId, ChargeKind, ChargeStatus, LedgerError, NewCharge, PatronLedger,
    Payment, Waiver, fines_over_limit,
};
pub use lending_library::LendingLibrary;
pub use preview::{ImpactPreview, OpenLoan, preview_impact};
pub use reader_suspension::{SuspensionPolicy, suspension_after_return};
pub use suspension_period::{FineSuspensionPeriod, PeriodError, SuspensionScope};
