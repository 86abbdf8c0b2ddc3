//! Fine-suspension periods: "fines are not charged from `starts_on`; calculation resumes on
//! `resumes_on`", for all libraries, some library codes or some library kinds, possibly
//! "until further notice" (docs/fines.md; docs/http.md, Fines).
//!
//! No anchor system has this (Koha and FOLIO emulate it with holidays or zero-fine rules);
//! it is first-class here so that closing a period later is a field update
//! (`resumes_on = Some(date)`), not a rewrite of calendars.

use std::collections::BTreeSet;

use library_core::{LibraryCode, LibraryKind};
use time::Date;

use crate::LendingLibrary;

/// Which libraries a fine-suspension period applies to.
///
/// Both sets empty means every library. Otherwise the period applies to a library whose
/// code is in `library_codes` **or** whose kind is in `library_kinds`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SuspensionScope {
    /// Libraries named by code.
    pub library_codes: BTreeSet<LibraryCode>,
    /// Libraries named by kind.
    pub library_kinds: BTreeSet<LibraryKind>,
}

impl SuspensionScope {
    /// Every library.
    pub fn all_libraries() -> Self {
        Self::default()
    }

    /// The libraries of these kinds.
    pub fn kinds(kinds: impl IntoIterator<Item = LibraryKind>) -> Self {
        Self {
            library_codes: BTreeSet::new(),
            library_kinds: kinds.into_iter().collect(),
        }
    }

    /// The libraries with these codes.
    pub fn codes(codes: impl IntoIterator<Item = LibraryCode>) -> Self {
        Self {
            library_codes: codes.into_iter().collect(),
            library_kinds: BTreeSet::new(),
        }
    }

    /// `true` when both sets are empty.
    pub fn is_all_libraries(&self) -> bool {
        self.library_codes.is_empty() && self.library_kinds.is_empty()
    }

    /// Whether the scope includes `library`.
    pub fn includes(&self, library: &LendingLibrary) -> bool {
        // Kinds first: a tiny set of small enums, cheaper than comparing code strings.
        self.is_all_libraries()
            || self.library_kinds.contains(&library.kind)
            || self.library_codes.contains(&library.code)
    }
}

/// Why a fine-suspension period cannot be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// The resume date is on or before the start: the period would cover no day.
    #[error("resumes_on {resumes_on} must be after starts_on {starts_on}")]
    ResumesBeforeStart {
        /// The first suspended date.
        starts_on: Date,
        /// The first charged date.
        resumes_on: Date,
    },
}

/// A fine-suspension period: no fine is charged for `starts_on <= date < resumes_on`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FineSuspensionPeriod {
    /// The first date on which fines are not charged.
    pub starts_on: Date,
    /// The first date on which fines are charged again; `None` = until further notice.
    pub resumes_on: Option<Date>,
    /// The libraries it applies to.
    pub scope: SuspensionScope,
    /// Why (shown to staff; e.g. "COVID-19 closure").
    pub reason: String,
}

impl FineSuspensionPeriod {
    /// A period, refusing one whose resume date is not after its start.
    pub fn new(
        starts_on: Date,
        resumes_on: Option<Date>,
        scope: SuspensionScope,
        reason: impl Into<String>,
    ) -> Result<Self, PeriodError> {
        if let Some(resumes_on) = resumes_on
            && resumes_on <= starts_on
        {
            return Err(PeriodError::ResumesBeforeStart {
                starts_on,
                resumes_on,
            });
        }
        Ok(Self {
            starts_on,
            resumes_on,
            scope,
            reason: reason.into(),
        })
    }

    /// Whether the period applies to loans from `library`.
    pub fn applies_to(&self, library: &LendingLibrary) -> bool {
        self.scope.includes(library)
    }

    /// Whether `date` is a suspended (uncharged) date of this period, whatever the library.
    pub fn covers(&self, date: Date) -> bool {
        self.starts_on <= date && self.resumes_on.is_none_or(|resume| date < resume)
    }

    /// Whether the period covers any date of `first..=last`.
    pub fn overlaps(&self, first: Date, last: Date) -> bool {
        self.starts_on <= last && self.resumes_on.is_none_or(|resume| resume > first)
    }

    /// Sets or moves the resume date (`PATCH /fine-suspensions/{id}`): an open-ended period
    /// gets its end, or a resume date is moved.
    pub fn resume_on(&mut self, resumes_on: Date) -> Result<(), PeriodError> {
        if resumes_on <= self.starts_on {
            return Err(PeriodError::ResumesBeforeStart {
                starts_on: self.starts_on,
                resumes_on,
            });
        }
        self.resumes_on = Some(resumes_on);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn lib(code: &str, kind: LibraryKind) -> LendingLibrary {
        LendingLibrary::new(LibraryCode::parse(code).unwrap(), kind)
    }

    #[test]
    fn scope_matches_code_or_kind() {
        let district = lib("TMPL", LibraryKind::District);
        let mobile = lib("MOB1", LibraryKind::Mobile);
        let central = lib("HKCL", LibraryKind::Central);
        let either = SuspensionScope {
            library_codes: [LibraryCode::parse("HKCL").unwrap()].into(),
            library_kinds: [LibraryKind::Mobile].into(),
        };
        let cases = [
            (SuspensionScope::all_libraries(), [true, true, true]),
            (
                SuspensionScope::kinds([LibraryKind::Mobile]),
                [false, true, false],
            ),
            (
                SuspensionScope::codes([LibraryCode::parse("TMPL").unwrap()]),
                [true, false, false],
            ),
            (either, [false, true, true]),
        ];
        for (scope, want) in cases {
            let got = [&district, &mobile, &central].map(|l| scope.includes(l));
            assert_eq!(got, want, "{scope:?}");
        }
    }

    #[test]
    fn covers_is_half_open() {
        let p = FineSuspensionPeriod::new(
            date!(2020 - 12 - 02),
            Some(date!(2021 - 03 - 05)),
            SuspensionScope::all_libraries(),
            "closure",
        )
        .unwrap();
        let cases = [
            (date!(2020 - 12 - 01), false),
            (date!(2020 - 12 - 02), true),
            (date!(2021 - 03 - 04), true),
            (date!(2021 - 03 - 05), false),
        ];
        for (d, want) in cases {
            assert_eq!(p.covers(d), want, "{d}");
        }
        let mut open = FineSuspensionPeriod::new(
            date!(2020 - 12 - 02),
            None,
            SuspensionScope::kinds([LibraryKind::Mobile]),
            "mobile",
        )
        .unwrap();
        assert!(open.covers(date!(2099 - 01 - 01)));
        open.resume_on(date!(2021 - 05 - 03)).unwrap();
        assert!(open.covers(date!(2021 - 05 - 02)));
        assert!(!open.covers(date!(2021 - 05 - 03)));
    }

    #[test]
    fn refuses_empty_periods() {
        let d = date!(2021 - 03 - 05);
        let all = SuspensionScope::all_libraries;
        assert!(FineSuspensionPeriod::new(d, Some(d), all(), "x").is_err());
        assert!(FineSuspensionPeriod::new(d, d.previous_day(), all(), "x").is_err());
        let mut p = FineSuspensionPeriod::new(d, None, all(), "x").unwrap();
        assert!(p.resume_on(d).is_err());
        assert_eq!(p.resumes_on, None);
    }
}
