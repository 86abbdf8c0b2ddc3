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
//! # Example: a fine over the 2021 fine suspension
//!
//! Libraries closed in early 2021; fines were not charged until 5 March 2021, and until
//! 3 May 2021 for items borrowed from mobile libraries. A book due on 1 February 2021 and
//! returned on 10 March 2021 is 37 days late, of which 6 are charged (5 to 10 March) at
//! HK$1.50: HK$9.00. From a mobile library, nothing is charged.
//!
//! ```
//! use library_core::{LibraryCode, LibraryKind, Money};
//! use library_fines::{
//!     AlwaysOpen, FinePolicy, FineSuspensionPeriod, LendingLibrary, SuspensionScope,
//!     assess_fine,
//! };
//! use time::macros::date;
//!
//! let periods = [
//!     FineSuspensionPeriod::new(
//!         date!(2020 - 12 - 02),
//!         Some(date!(2021 - 03 - 05)), // the first day charged again
//!         SuspensionScope::all_libraries(),
//!         "libraries closed",
//!     )?,
//!     FineSuspensionPeriod::new(
//!         date!(2020 - 12 - 02),
//!         Some(date!(2021 - 05 - 03)),
//!         SuspensionScope::kinds([LibraryKind::Mobile]),
//!         "mobile libraries closed",
//!     )?,
//! ];
//! let policy = FinePolicy::per_day(Money::from_cents(150));
//! let district = LendingLibrary::new(LibraryCode::parse("TKO")?, LibraryKind::District);
//! let mobile = LendingLibrary::new(LibraryCode::parse("MOB1")?, LibraryKind::Mobile);
//! let (due, back) = (date!(2021 - 02 - 01), date!(2021 - 03 - 10));
//!
//! let fine = assess_fine(due, back, &district, &policy, &periods, &AlwaysOpen);
//! assert_eq!((fine.overdue_days, fine.chargeable_days), (37, 6));
//! assert_eq!(fine.fine, Money::from_cents(900));
//!
//! let fine = assess_fine(due, back, &mobile, &policy, &periods, &AlwaysOpen);
//! assert_eq!(fine.fine, Money::ZERO);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
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
