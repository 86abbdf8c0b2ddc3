//! The library a loan was made from. Its code and kind decide which fine-suspension
//! periods apply (docs/fines.md), and its calendar which days are closed.

use library_core::{LibraryCode, LibraryKind};

/// The lending library of a loan (where the checkout happened), as far as fines care.
///
/// Callers that assess many loans (the impact preview, nightly accrual) keep one
/// `LendingLibrary` per library and lend it out by reference ([`crate::OpenLoan`] holds a
/// `&LendingLibrary`), so no code string is cloned per loan.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LendingLibrary {
    /// The library's code.
    pub code: LibraryCode,
    /// The library's kind (`mobile` matters for the 2021 rule).
    pub kind: LibraryKind,
}

impl LendingLibrary {
    /// A lending library.
    pub fn new(code: LibraryCode, kind: LibraryKind) -> Self {
        Self { code, kind }
    }
}
