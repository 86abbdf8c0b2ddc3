//! The impact preview of a candidate fine-suspension period (docs/fines.md,
//! `POST /fine-suspensions/preview`): "if this period were in force, for every loan not yet
//! returned, fines as of `as_of`: how many loans and readers are charged, how much, and how
//! much less than without it". It reads data and changes none.
//!
//! Decisions:
//! - **O(1) memory:** the loans must come **grouped by patron** (all loans of a reader
//!   next to each other, e.g. `ORDER BY patron_id`); a reader is counted when the patron id
//!   changes. Ungrouped input over-counts `patrons`, nothing else.
//! - Only open loans: a returned loan's fine is already a fixed charge in the ledger and a
//!   new period does not rewrite charges (as Koha freezes RETURNED fines).
//! - For speed over many loans, wrap each library's calendar once in a
//!   [`crate::IndexedCalendar`] covering the loans' dates.
//! - To preview moving the resume date of an existing period, pass the existing periods
//!   without it and the moved one as the candidate.

use library_core::{Money, PatronId};
use time::Date;

use crate::chargeable_days::ClosedDays;
use crate::fine::assess;
use crate::{FinePolicy, FineSuspensionPeriod, LendingLibrary};

/// An open loan as the preview needs it. Everything but the ids is borrowed, so a caller
/// streaming millions of loans keeps one library, policy and calendar per distinct value.
pub struct OpenLoan<'a, C: ?Sized = dyn ClosedDays + 'a> {
    /// The reader.
    pub patron: PatronId,
    /// The loan's local due date.
    pub due_on: Date,
    /// The lending library.
    pub library: &'a LendingLibrary,
    /// The fine rules for the loan.
    pub policy: &'a FinePolicy,
    /// The lending library's calendar.
    pub calendar: &'a C,
}

impl<C: ?Sized> Clone for OpenLoan<'_, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C: ?Sized> Copy for OpenLoan<'_, C> {}

impl<C: ?Sized> std::fmt::Debug for OpenLoan<'_, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenLoan")
            .field("patron", &self.patron)
            .field("due_on", &self.due_on)
            .field("library", &self.library)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// What a candidate fine-suspension period would do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ImpactPreview {
    /// Loans with a fine above 0 with the candidate in force.
    pub loans: u64,
    /// Distinct readers among those loans.
    pub patrons: u64,
    /// Their fines with the candidate in force.
    pub total: Money,
    /// How much less that is than without the candidate.
    pub waived: Money,
}

/// Previews `candidate` over `open_loans` (grouped by patron, see the module doc), with
/// the `existing` periods, fines as of `as_of`.
pub fn preview_impact<'a, C, I>(
    open_loans: I,
    existing: &[FineSuspensionPeriod],
    candidate: &FineSuspensionPeriod,
    as_of: Date,
) -> ImpactPreview
where
    C: ClosedDays + ?Sized + 'a,
    I: IntoIterator<Item = OpenLoan<'a, C>>,
{
    let mut preview = ImpactPreview::default();
    let mut current_patron: Option<PatronId> = None;
    let mut patron_counted = false;
    for loan in open_loans {
        if current_patron != Some(loan.patron) {
            current_patron = Some(loan.patron);
            patron_counted = false;
        }
        let Some(first) = loan.due_on.next_day() else {
            continue;
        };
        if as_of < first {
            continue;
        }
        let with = assess(
            loan.due_on,
            as_of,
            loan.library,
            loan.policy,
            existing,
            Some(candidate),
            loan.calendar,
        )
        .fine;
        // The candidate only matters if it touches this loan's days and library.
        let without = if candidate.overlaps(first, as_of) && candidate.applies_to(loan.library) {
            assess(
                loan.due_on,
                as_of,
                loan.library,
                loan.policy,
                existing,
                None,
                loan.calendar,
            )
            .fine
        } else {
            with
        };
        preview.waived += without - with;
        if with.is_positive() {
            preview.loans += 1;
            preview.total += with;
            if !patron_counted {
                patron_counted = true;
                preview.patrons += 1;
            }
        }
    }
    preview
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AlwaysOpen, SuspensionScope};
    use library_core::{LibraryCode, LibraryKind};
    use time::macros::date;

    #[test]
    fn counts_loans_patrons_total_and_waived() {
        let district =
            LendingLibrary::new(LibraryCode::parse("TMPL").unwrap(), LibraryKind::District);
        let mobile = LendingLibrary::new(LibraryCode::parse("MOB1").unwrap(), LibraryKind::Mobile);
        let adult = FinePolicy::per_day(Money::from_cents(150));
        let children = FinePolicy::per_day(Money::from_cents(50));
        let existing = [FineSuspensionPeriod::new(
            date!(2020 - 12 - 02),
            None,
            SuspensionScope::kinds([LibraryKind::Mobile]),
            "mobile libraries",
        )
        .unwrap()];
        // Candidate: no fines from 12-02 until 03-05 for every library.
        let candidate = FineSuspensionPeriod::new(
            date!(2020 - 12 - 02),
            Some(date!(2021 - 03 - 05)),
            SuspensionScope::all_libraries(),
            "closure",
        )
        .unwrap();
        let as_of = date!(2021 - 03 - 10);
        let loan = |patron: i64, due_on: Date, library, policy| OpenLoan::<dyn ClosedDays> {
            patron: PatronId(patron),
            due_on,
            library,
            policy,
            calendar: &AlwaysOpen,
        };
        let loans = [
            // Patron 1: two district loans due 2020-12-04: 6 days each with the
            // candidate (900 adult, 300 children); 96 days without.
            loan(1, date!(2020 - 12 - 04), &district, &adult),
            loan(1, date!(2020 - 12 - 04), &district, &children),
            // Patron 2: a mobile loan: suspended anyway; nothing either way.
            loan(2, date!(2020 - 12 - 04), &mobile, &adult),
            // Patron 3: due 03-08, after the candidate: 2 days, untouched.
            loan(3, date!(2021 - 03 - 08), &district, &adult),
            // Patron 4: not yet due.
            loan(4, date!(2021 - 03 - 20), &district, &adult),
            // Patron 5: due 2021-03-01: 03-02..03-04 suspended, 6 days charged (9 without).
            loan(5, date!(2021 - 03 - 01), &district, &children),
        ];
        let got = preview_impact(loans, &existing, &candidate, as_of);
        let total = 900 + 300 + 300 + 6 * 50;
        let without = 96 * 150 + 96 * 50 + 300 + 9 * 50;
        assert_eq!(
            got,
            ImpactPreview {
                loans: 4,
                patrons: 3,
                total: Money::from_cents(total),
                waived: Money::from_cents(without - total),
            }
        );
        assert_eq!(
            preview_impact(Vec::<OpenLoan<'_>>::new(), &existing, &candidate, as_of),
            ImpactPreview::default()
        );
    }

    #[test]
    fn a_reader_is_counted_once_when_charged() {
        let library =
            LendingLibrary::new(LibraryCode::parse("TMPL").unwrap(), LibraryKind::District);
        let adult = FinePolicy::per_day(Money::from_cents(150));
        let candidate = FineSuspensionPeriod::new(
            date!(2021 - 03 - 01),
            Some(date!(2021 - 03 - 03)),
            SuspensionScope::codes([LibraryCode::parse("OTHER").unwrap()]),
            "elsewhere",
        )
        .unwrap();
        let loan = |patron: i64, due_on: Date| OpenLoan {
            patron: PatronId(patron),
            due_on,
            library: &library,
            policy: &adult,
            calendar: &AlwaysOpen,
        };
        let as_of = date!(2021 - 03 - 10);
        let cases = [
            // (loans as (patron, due), loans charged, patrons, total)
            (vec![], 0, 0, 0),
            (vec![(1, date!(2021 - 03 - 20))], 0, 0, 0),
            (
                vec![(1, date!(2021 - 03 - 20)), (1, date!(2021 - 03 - 09))],
                1,
                1,
                150,
            ),
            (
                vec![
                    (1, date!(2021 - 03 - 09)),
                    (1, date!(2021 - 03 - 08)),
                    (2, date!(2021 - 03 - 10)),
                    (3, date!(2021 - 03 - 07)),
                ],
                3,
                2,
                150 + 300 + 450,
            ),
        ];
        for (loans, want_loans, want_patrons, want_total) in cases {
            let got = preview_impact(
                loans.iter().map(|&(p, d)| loan(p, d)),
                &[],
                &candidate,
                as_of,
            );
            let want = ImpactPreview {
                loans: want_loans,
                patrons: want_patrons,
                total: Money::from_cents(want_total),
                waived: Money::ZERO,
            };
            assert_eq!(got, want, "{loans:?}");
        }
    }
}
