//! The library's premises and the services at its doors (docs/premises.md): when each
//! library and each of its sections is open ([`hours`]), how many people may be inside and
//! the visitor registrations kept for contact tracing ([`admission`]), and the Students'
//! Study Room admission cards with their application window and ballot ([`study_room`]).
//!
//! Invariants:
//! - No I/O, no async runtime, no database, no HTTP: stores apply these decisions inside
//!   their own transactions, never re-implementing them in SQL.
//! - Times of day are the library's local time; dates are library-local dates; instants
//!   are UTC and turned into local time only with the library's offset.
//! - Refusal and violation codes are `snake_case` and stable: clients see them.

pub mod admission;
pub mod hours;
pub mod study_room;
