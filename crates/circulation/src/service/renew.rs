//! Renewal of one loan, and "renew all" (telephone menu, web).

use library_core::{Clock, LoanId, Money, PatronId};

use super::{Circulation, count, record};
use crate::checkin::accrued_fine;
use crate::due_date::renewal_due_date;
use crate::model::{Item, Loan, Title};
use crate::overrides::{Overridden, Override};
use crate::ports::{
    Actor, CalendarRepository, CirculationChannel, CirculationEvent, CirculationStatistic,
    CirculationStore, FineSuspensionRepository, InfrastructureError, RuleRepository, StatisticKind,
};
use crate::renewal::{RenewalFacts, RenewalRefusal, decide_renewal, renewal_refusals};
use crate::rules::EffectiveRules;
use library_fines::NewCharge;

/// Renew a loan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewRequest {
    /// The loan.
    pub loan: LoanId,
    /// The reader asking (web, telephone, station): a loan that is not theirs is "not
    /// found". `None` = staff, who may renew any loan.
    pub patron: Option<PatronId>,
    /// Where the renewal is asked for, as the statistics count it: the counter, a
    /// station, the reader online (a Password session) or by PIN (telephone).
    pub channel: CirculationChannel,
}

/// A renewed loan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewOutcome {
    /// The loan with its new due date and renewal count.
    pub loan: Loan,
    /// The fine accrued so far, fixed as a charge (zero if the loan was not overdue).
    pub fine_charged: Money,
    /// The copy on loan.
    pub item: Item,
    /// Its title.
    pub title: Title,
    /// Renewals the loan still allows after this one.
    pub renewals_left: u32,
    /// The refusals staff overrode to renew it (none without an override).
    pub overridden: Vec<RenewalRefusal>,
}

/// Why a renewal did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RenewError {
    /// No such open loan, or not the asking reader's (docs/http.md: 404).
    #[error("no such loan")]
    LoanNotFound,
    /// Refused for a named reason (docs/http.md: 409 `renewal_refused`).
    #[error("renewal refused: {}", .0.code())]
    Refused(RenewalRefusal),
    /// A port failed.
    #[error(transparent)]
    Infrastructure(#[from] InfrastructureError),
}

/// Renew every open loan of a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewAllRequest {
    /// The reader.
    pub patron: PatronId,
    /// Where it is asked for ([`RenewRequest::channel`]).
    pub channel: CirculationChannel,
}

/// What happened to each loan, in due-date order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewAllOutcome {
    /// Per loan: renewed, or the refusal.
    pub results: Vec<(LoanId, Result<RenewOutcome, RenewalRefusal>)>,
}

/// Why "renew all" did not run.
#[derive(Debug, thiserror::Error)]
pub enum RenewAllError {
    /// No such reader.
    #[error("no such reader")]
    PatronNotFound,
    /// A port failed.
    #[error(transparent)]
    Infrastructure(#[from] InfrastructureError),
}

impl<S, R, L, F, C> Circulation<S, R, L, F, C>
where
    S: CirculationStore,
    R: RuleRepository,
    L: CalendarRepository,
    F: FineSuspensionRepository,
    C: Clock,
{
    /// Renews a loan: refusals in the documented order ([`crate::renewal_refusals`]); an
    /// overdue loan's fine so far is first fixed as a charge, then the new period starts
    /// from the renewal date (or the old due date, per `renewal_base`) and never shortens
    /// the loan.
    pub async fn renew(&self, req: RenewRequest) -> Result<RenewOutcome, RenewError> {
        self.renew_as(req, None).await
    }

    /// [`Self::renew`], with its audit entry written in the same transaction when made `by`
    /// someone.
    pub async fn renew_as(
        &self,
        req: RenewRequest,
        by: Option<&Actor>,
    ) -> Result<RenewOutcome, RenewError> {
        self.renew_with(req, by, None).await
    }

    /// [`Self::renew_as`] made by staff stepping over the refusals `overriding` names
    /// (docs/circulation.md, Overrides); audited with what was stepped over and why.
    pub async fn renew_overriding(
        &self,
        req: RenewRequest,
        by: &Actor,
        overriding: &Override,
    ) -> Result<RenewOutcome, RenewError> {
        self.renew_with(req, Some(by), Some(overriding)).await
    }

    async fn renew_with(
        &self,
        req: RenewRequest,
        by: Option<&Actor>,
        overriding: Option<&Override>,
    ) -> Result<RenewOutcome, RenewError> {
        let now = self.now();
        let config = self.config().await?;
        let mut tx = self.store.begin().await?;
        let not_found = |loan: &Option<Loan>| match loan {
            Some(l) => !l.is_open() || req.patron.is_some_and(|p| p != l.patron),
            None => true,
        };
        let first_look = tx.loan(req.loan).await?;
        if not_found(&first_look) {
            return Err(RenewError::LoanNotFound);
        }
        let first_look = first_look.ok_or(RenewError::LoanNotFound)?;
        // Lock order: patron, title, item; then re-read the loan.
        let vanished = || InfrastructureError::new("record vanished during renewal");
        let patron = tx
            .patron_for_update(first_look.patron)
            .await?
            .ok_or_else(vanished)?;
        // The copy's open loan, read after the borrower's lock: current (every loan write
        // holds its borrower's lock). Another loan of the copy means this one was returned.
        let ((title, item, open_loan), holds) = tx
            .lock_copy_with_holds(first_look.item)
            .await?
            .ok_or_else(vanished)?;
        let loan = open_loan.filter(|l| l.id == req.loan);
        if not_found(&loan) {
            return Err(RenewError::LoanNotFound);
        }
        let mut loan = loan.ok_or(RenewError::LoanNotFound)?;

        let lending = self.known_library(&loan.library).await?;
        let rules = EffectiveRules::resolve(
            &config.rules,
            Some(&loan.library),
            Some(&patron.category),
            Some(&item.item_type),
        );
        let outstanding = self.outstanding(tx.as_mut(), &patron, &config, now).await?;
        let today = lending.calendar.local_date(now);
        // Another reader's queued hold still waiting for a copy: one with a copy in
        // transit to it already has its copy, as a waiting hold does; a suspended hold does
        // not stop a renewal (Koha's CheckReserves skips suspended holds; the lending
        // library's today stands for the pickup library's).
        let reserved_by_another = holds.iter().any(|h| {
            h.position().is_some()
                && h.in_transit_item().is_none()
                && h.patron != patron.id
                && !h.is_suspended_on(today)
        });
        let facts = RenewalFacts {
            today,
            patron: &patron,
            loan: &loan,
            rules: &rules,
            outstanding,
            reserved_by_another,
        };
        let overridden = match overriding {
            None => {
                decide_renewal(&facts).map_err(RenewError::Refused)?;
                Vec::new()
            }
            Some(overriding) => {
                let (overridden, refusing) = overriding.split_renewal(&renewal_refusals(&facts));
                if let Some(&refusal) = refusing.first() {
                    return Err(RenewError::Refused(refusal));
                }
                overridden
            }
        };

        // A renewal of an overdue loan first charges the fine accrued so far
        // (docs/circulation.md; Koha AddRenewal closes the fine as RENEWED).
        let fine = accrued_fine(&loan, now, &lending, &rules, &config.periods);
        if let Some(charge) = NewCharge::overdue_fine(loan.id, &fine, today) {
            tx.add_charge(patron.id, charge).await?;
        }
        loan.due = renewal_due_date(
            loan.due.on,
            now,
            rules.renewal_base,
            rules.loan_days,
            &lending.calendar,
        );
        loan.renewals += 1;
        tx.update_loan(&loan).await?;
        count(
            tx.as_mut(),
            CirculationStatistic {
                kind: StatisticKind::Renewal,
                channel: Some(req.channel),
                library: loan.library.clone(),
                on: today,
                at: now,
                loan: Some(loan.id),
                hold: None,
            },
        )
        .await?;
        record(tx.as_mut(), by, now, || CirculationEvent::Renewal {
            loan: loan.id,
            fine_charged: fine.fine,
            overridden: overriding
                .filter(|_| !overridden.is_empty())
                .map(|o| Overridden {
                    refusals: overridden.iter().map(|r| r.code()).collect(),
                    reason: o.reason.clone(),
                }),
        })
        .await?;
        tx.commit().await?;
        Ok(RenewOutcome {
            renewals_left: rules.renewals_left(&loan),
            loan,
            fine_charged: fine.fine,
            item,
            title,
            overridden,
        })
    }

    /// Renews every open loan of a reader, each in its own unit of work (a refusal of one
    /// does not undo the others). Infrastructure failures stop the run.
    pub async fn renew_all(&self, req: RenewAllRequest) -> Result<RenewAllOutcome, RenewAllError> {
        self.renew_all_as(req, None).await
    }

    /// [`Self::renew_all`], each renewal with its audit entry in its own transaction when
    /// made `by` someone.
    pub async fn renew_all_as(
        &self,
        req: RenewAllRequest,
        by: Option<&Actor>,
    ) -> Result<RenewAllOutcome, RenewAllError> {
        let mut loans = {
            let mut tx = self.store.begin().await?;
            if tx.patron(req.patron).await?.is_none() {
                return Err(RenewAllError::PatronNotFound);
            }
            tx.open_loans_of_patron(req.patron).await?
            // Dropped without commit: a read-only transaction.
        };
        loans.sort_by_key(|l| (l.due.on, l.id));
        let mut results = Vec::with_capacity(loans.len());
        for loan in loans {
            let request = RenewRequest {
                loan: loan.id,
                patron: Some(req.patron),
                channel: req.channel,
            };
            let result = match self.renew_as(request, by).await {
                Ok(renewed) => Ok(renewed),
                Err(RenewError::Refused(refusal)) => Err(refusal),
                // Returned in the meantime: nothing to report for it.
                Err(RenewError::LoanNotFound) => continue,
                Err(RenewError::Infrastructure(e)) => return Err(e.into()),
            };
            results.push((loan.id, result));
        }
        Ok(RenewAllOutcome { results })
    }
}
