//! The shared kernel of the library system: the few value types every domain crate
//! speaks (card numbers, barcodes, library codes and kinds, numeric ids, money in minor
//! units), the limits of free text, and the clock port.
//!
//! Invariants:
//! - No I/O, no async runtime, no database, no HTTP. Reading the system clock is the only
//!   contact with the outside world, behind the [`Clock`] port.
//! - Every value type is parsed, never validated after the fact: holding a [`CardNumber`]
//!   means holding a well-formed one.
//! - Money is an integer number of minor units ([`Money`]); there are no floats here.

mod clock;
mod ids;
mod isbn;
mod library;
mod money;
mod text;

pub use clock::{Clock, ManualClock, SystemClock};
pub use ids::{
    Barcode, CardNumber, HoldId, ItemId, LoanId, ParseIdError, PatronId, StaffId, TitleId,
};
pub use isbn::{InvalidIsbn, Isbn};
pub use library::{DEFAULT_LIBRARY_OFFSET, LibraryCode, LibraryKind};
pub use money::Money;
pub use text::{MAX_CATALOGUE_TEXT_CHARS, MAX_NAME_CHARS, fits};
