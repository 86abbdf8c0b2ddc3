//! A reader's account as every channel shows it: open loans with the fine accruing on each
//! and the renewals left, and the outstanding figure (unpaid charges + accruing fines).
//! Read-only: the unit of work is dropped without a commit.

use crate::codes::{ItemType, ReaderCategory};
use library_core::{Barcode, Clock, Money, PatronId};
use library_fines::FineAssessment;

use super::Circulation;
use crate::checkin::accrued_fine;
use crate::model::{Item, ItemStatus, Loan, Patron};
use crate::ports::{
    CalendarRepository, CirculationStore, FineSuspensionRepository, InfrastructureError,
    RuleRepository,
};
use crate::rules::EffectiveRules;

/// One open loan with what it costs so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanStatus {
    /// The loan.
    pub loan: Loan,
    /// Its item.
    pub item: Item,
    /// Overdue days, chargeable days and the fine accrued as of now.
    pub accrued: FineAssessment,
    /// Renewals still allowed by the rules (0 when used up).
    pub renewals_left: u32,
}

/// A copy as a self-service station's item information shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyInformation {
    /// The copy.
    pub item: Item,
    /// When its open loan is due, if it is on loan.
    pub due_at: Option<time::OffsetDateTime>,
    /// How many readers are queued for its title (waiting holds not counted).
    pub holds_queued: usize,
}

/// A reader's open loans and what they owe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderAccount {
    /// The reader.
    pub patron: Patron,
    /// Open loans, oldest first.
    pub loans: Vec<LoanStatus>,
    /// Unpaid charges in the ledger.
    pub unpaid_charges: Money,
    /// Unpaid charges plus the fines accruing on open loans (docs/http.md, Fines:
    /// "outstanding").
    pub outstanding: Money,
}

impl<S, R, L, F, C> Circulation<S, R, L, F, C>
where
    S: CirculationStore,
    R: RuleRepository,
    L: CalendarRepository,
    F: FineSuspensionRepository,
    C: Clock,
{
    /// The copy with `barcode` and its open loan, if it is on loan; `None` if there is no
    /// such copy. A look without locks, for a channel that names the copy rather than the
    /// loan (a station's renewal); the operation that follows checks again under its locks.
    pub async fn copy_with_open_loan(
        &self,
        barcode: &Barcode,
    ) -> Result<Option<(Item, Option<Loan>)>, InfrastructureError> {
        let mut tx = self.store.begin_read().await?;
        tx.item_with_open_loan_by_barcode(barcode).await
        // Dropped without commit: nothing was written.
    }

    /// The copy with `barcode`, when its loan is due and the length of its title's hold
    /// queue; `None` if there is no such copy. One read-only unit of work; changes nothing.
    pub async fn copy_information(
        &self,
        barcode: &Barcode,
    ) -> Result<Option<CopyInformation>, InfrastructureError> {
        let mut tx = self.store.begin_read().await?;
        let Some(item) = tx.item_by_barcode(barcode).await? else {
            return Ok(None);
        };
        let due_at = match item.status {
            ItemStatus::OnLoan => tx.open_loan_of_item(item.id).await?.map(|l| l.due.at),
            _ => None,
        };
        let holds_queued = tx
            .active_holds_of_title(item.title)
            .await?
            .iter()
            .filter(|h| h.position().is_some())
            .count();
        // Dropped without commit: nothing was written.
        Ok(Some(CopyInformation {
            item,
            due_at,
            holds_queued,
        }))
    }

    /// The overdue days, chargeable days and fine accruing now on each of `loans` (open
    /// loans with their reader's category and their item's type), as a reader's account
    /// computes them: a staff report's figures are the reader's. Reads only.
    pub async fn accrued_fines(
        &self,
        loans: &[(Loan, Option<ReaderCategory>, ItemType)],
    ) -> Result<Vec<FineAssessment>, InfrastructureError> {
        let now = self.now();
        let config = self.config().await?;
        let mut out = Vec::with_capacity(loans.len());
        for (loan, category, item_type) in loans {
            let lending = self.known_library(&loan.library).await?;
            let rules = EffectiveRules::resolve(
                &config.rules,
                Some(&loan.library),
                category.as_ref(),
                Some(item_type),
            );
            out.push(accrued_fine(loan, now, &lending, &rules, &config.periods));
        }
        Ok(out)
    }

    /// The account of reader `patron` as of now; `None` if there is no such reader.
    /// Changes nothing.
    pub async fn account(
        &self,
        patron: PatronId,
    ) -> Result<Option<ReaderAccount>, InfrastructureError> {
        let now = self.now();
        let config = self.config().await?;
        let mut tx = self.store.begin_read().await?;
        let Some(patron) = tx.patron(patron).await? else {
            return Ok(None);
        };
        let (open_loans, unpaid_charges) = tx.open_loans_and_charges(patron.id).await?;
        let mut outstanding = unpaid_charges;
        let mut loans = Vec::new();
        for (loan, item) in open_loans {
            let lending = self.known_library(&loan.library).await?;
            let rules = EffectiveRules::resolve(
                &config.rules,
                Some(&loan.library),
                Some(&patron.category),
                Some(&item.item_type),
            );
            let accrued = accrued_fine(&loan, now, &lending, &rules, &config.periods);
            outstanding += accrued.fine;
            let renewals_left = rules.renewals_left(&loan);
            loans.push(LoanStatus {
                loan,
                item,
                accrued,
                renewals_left,
            });
        }
        // Dropped without commit: nothing was written.
        drop(tx);
        Ok(Some(ReaderAccount {
            patron,
            loans,
            unpaid_charges,
            outstanding,
        }))
    }
}
