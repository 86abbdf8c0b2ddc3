//! Declaring a library closure that moves deadlines, and its preview (docs/circulation.md,
//! "Closures that move deadlines"): the library's calendar read, the targets decided by
//! `library_circulation::closure_moves`, then one call to the store, which applies them
//! in one transaction (or, for the preview, only reads). Every channel calls these.

use library_circulation::Closure;
use library_circulation::closure_moves::{
    ClosureImpact, ClosureMoves, DeadlineChange, MoveTargets, move_targets,
};
use library_core::{HoldId, LibraryCode, LoanId};
use time::Date;

use crate::ports::{AdminError, AuditRecord, DeclaredClosure};
use crate::services::Services;

/// How many moves a preview lists (the counts cover them all).
pub const PREVIEW_SAMPLE: usize = 20;

/// One moved deadline as a preview lists it: no reader is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveLine {
    /// A loan's due date.
    Loan {
        /// The loan.
        id: LoanId,
        /// Due before.
        from: Date,
        /// Due after.
        to: Date,
    },
    /// A waiting hold's pickup-by date.
    Hold {
        /// The hold.
        id: HoldId,
        /// Last day to collect before.
        from: Date,
        /// Last day to collect after.
        to: Date,
    },
}

/// What a closure would do, counted, with the first [`PREVIEW_SAMPLE`] moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosurePreview {
    /// Where each kind of deadline would move (`None`: it stays).
    pub targets: MoveTargets,
    /// Loans whose due date would move.
    pub loans: u64,
    /// Holds whose pickup-by date would move.
    pub holds: u64,
    /// Distinct readers among them.
    pub readers: u64,
    /// The first moves: loans by id, then holds by id.
    pub sample: Vec<MoveLine>,
}

impl ClosurePreview {
    /// The preview of `impact`.
    pub fn new(targets: MoveTargets, impact: &ClosureImpact) -> Self {
        let loans = impact
            .loans
            .iter()
            .map(|c: &DeadlineChange<LoanId>| MoveLine::Loan {
                id: c.id,
                from: c.from,
                to: c.to,
            });
        let holds = impact
            .holds
            .iter()
            .map(|c: &DeadlineChange<HoldId>| MoveLine::Hold {
                id: c.id,
                from: c.from,
                to: c.to,
            });
        Self {
            targets,
            loans: count(impact.loans.len()),
            holds: count(impact.holds.len()),
            readers: count(impact.readers().len()),
            sample: loans.chain(holds).take(PREVIEW_SAMPLE).collect(),
        }
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl Services {
    /// Where the deadlines inside `closure` at library `code` move under `moves`: the
    /// library's calendar with the closure added. [`AdminError::NotFound`] for an unknown
    /// library; [`AdminError::Invalid`] with the refusals' codes for a date that cannot be
    /// used.
    async fn closure_targets(
        &self,
        code: &LibraryCode,
        closure: Closure,
        moves: ClosureMoves,
    ) -> Result<MoveTargets, AdminError> {
        let library = self
            .libraries
            .library(code)
            .await?
            .ok_or(AdminError::NotFound)?;
        move_targets(closure, &library.calendar, moves)
            .map_err(|refusals| AdminError::Invalid(refusals.iter().map(|r| r.code()).collect()))
    }

    /// What declaring `closure` with `moves` at library `code` would do. Changes nothing.
    pub async fn preview_closure(
        &self,
        code: &LibraryCode,
        closure: Closure,
        moves: ClosureMoves,
    ) -> Result<ClosurePreview, AdminError> {
        let targets = self.closure_targets(code, closure, moves).await?;
        let impact = if targets.is_empty() {
            ClosureImpact::default()
        } else {
            self.libraries
                .closure_impact(code, closure, targets)
                .await?
        };
        Ok(ClosurePreview::new(targets, &impact))
    }

    /// Declares `closure` at library `code` for `reason` and moves the deadlines inside it
    /// as `moves` says, in one transaction with the readers' notices and the audit record
    /// `audit` makes of the entry's id and the moves. With no move asked for, this is the
    /// plain closure: the calendar entry and its audit record.
    pub async fn declare_closure(
        &self,
        code: &LibraryCode,
        closure: Closure,
        reason: &str,
        moves: ClosureMoves,
        audit: &(dyn for<'i> Fn(i64, &'i ClosureImpact) -> AuditRecord + Send + Sync),
    ) -> Result<DeclaredClosure, AdminError> {
        let targets = self.closure_targets(code, closure, moves).await?;
        self.libraries
            .declare_closure(code, closure, reason, targets, self.clock.now(), audit)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use library_circulation::closure_moves::DeadlineChange;
    use library_core::PatronId;
    use time::macros::date;

    #[test]
    fn a_preview_counts_every_move_and_lists_the_first_twenty() {
        let change = |id: i64, patron: i64| DeadlineChange {
            id: LoanId(id),
            patron: PatronId(patron),
            from: date!(2021 - 02 - 01),
            to: date!(2021 - 02 - 19),
        };
        let impact = ClosureImpact {
            // 25 loans of 5 readers, and one hold of a sixth.
            loans: (1..=25).map(|n| change(n, n % 5)).collect(),
            holds: vec![DeadlineChange {
                id: HoldId(7),
                patron: PatronId(99),
                from: date!(2021 - 02 - 10),
                to: date!(2021 - 02 - 19),
            }],
        };
        let preview = ClosurePreview::new(MoveTargets::default(), &impact);
        assert_eq!((preview.loans, preview.holds, preview.readers), (25, 1, 6));
        assert_eq!(preview.sample.len(), PREVIEW_SAMPLE);
        assert_eq!(
            preview.sample[0],
            MoveLine::Loan {
                id: LoanId(1),
                from: date!(2021 - 02 - 01),
                to: date!(2021 - 02 - 19),
            }
        );
        // Few loans: the holds follow them in the sample.
        let small = ClosureImpact {
            loans: vec![change(3, 1)],
            holds: impact.holds.clone(),
        };
        let preview = ClosurePreview::new(MoveTargets::default(), &small);
        assert_eq!(preview.sample.len(), 2);
        assert!(matches!(
            preview.sample[1],
            MoveLine::Hold { id: HoldId(7), .. }
        ));
    }
}
