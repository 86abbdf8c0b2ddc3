//! One reader's ledger: charges (overdue fines, hold fees, other), payments and waivers,
//! the outstanding balance, and the fines-over-limit block (docs/fines.md, Ledger).
//!
//! Decisions:
//! - **Fixing a fine.** An open loan's fine accrues ([`crate::assess_fine`] as of today) and
//!   is not in the ledger. On return, and on renewal of an overdue loan, it becomes a
//!   charge: [`NewCharge::overdue_fine`] (a zero fine makes no charge, as in Koha
//!   `UpdateFine`). After a renewal the new due date is later than the charged days, so
//!   accrual restarts from it and no day is charged twice.
//! - **Payment allocation: oldest charge first.** A payment settles outstanding charges in
//!   order of `charged_on`, ties by id (creation order); the last one touched may be
//!   partly paid. A payment must be positive and no more than the outstanding balance
//!   (there are no credits).
//! - **Waiver** writes off what is still outstanding on one charge, with a non-empty
//!   reason; what was already paid stays paid.
//! - **Block:** `outstanding >= threshold` blocks borrowing, renewal and holds
//!   ([`fines_over_limit`]); a reader who owes nothing is never blocked, even with a
//!   threshold of 0. "Outstanding" for the block includes fines accruing on open overdue
//!   loans (docs/http.md, Fines), which the caller adds
//!   ([`PatronLedger::outstanding_with`]).
//! - Pure data: the persistence adapter stores charges and payments and rebuilds a ledger
//!   with [`PatronLedger::from_parts`]; ids are assigned by the caller's store.

use library_core::{HoldId, LoanId, Money, PatronId};
use time::Date;

use crate::FineAssessment;

/// A charge's id (the store's key; `GET /me/fines` `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChargeId(pub i64);

/// What a charge is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChargeKind {
    /// The fixed overdue fine of a loan (on return or renewal).
    OverdueFine {
        /// The loan.
        loan: LoanId,
        /// The chargeable days the fine is for.
        chargeable_days: u32,
    },
    /// The fee for collecting a reserved item (HK$3.30 in the default profile,
    /// docs/policy.md).
    HoldFee {
        /// The hold.
        hold: HoldId,
    },
    /// The replacement cost of a loan's item declared lost (docs/circulation.md, Lost
    /// and found).
    LostItem {
        /// The loan.
        loan: LoanId,
    },
    /// The processing fee (20 % of the replacement cost) of a loan's item declared lost.
    LostProcessing {
        /// The loan.
        loan: LoanId,
    },
    /// Anything else (replacement card, ...).
    Other {
        /// What it is for, as staff wrote it.
        description: String,
    },
}

/// A charge not yet in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NewCharge {
    /// What it is for.
    pub kind: ChargeKind,
    /// How much (positive).
    pub amount: Money,
    /// When it was charged (local date).
    pub charged_on: Date,
}

impl NewCharge {
    /// Fixes a loan's fine as a charge, on return or renewal; `None` when there is no fine.
    pub fn overdue_fine(loan: LoanId, assessment: &FineAssessment, on: Date) -> Option<Self> {
        assessment.fine.is_positive().then_some(Self {
            kind: ChargeKind::OverdueFine {
                loan,
                chargeable_days: assessment.chargeable_days,
            },
            amount: assessment.fine,
            charged_on: on,
        })
    }

    /// A hold fee.
    pub fn hold_fee(hold: HoldId, amount: Money, on: Date) -> Self {
        Self {
            kind: ChargeKind::HoldFee { hold },
            amount,
            charged_on: on,
        }
    }

    /// The replacement cost of an item declared lost.
    pub fn lost_item(loan: LoanId, amount: Money, on: Date) -> Self {
        Self {
            kind: ChargeKind::LostItem { loan },
            amount,
            charged_on: on,
        }
    }

    /// The processing fee of an item declared lost.
    pub fn lost_processing(loan: LoanId, amount: Money, on: Date) -> Self {
        Self {
            kind: ChargeKind::LostProcessing { loan },
            amount,
            charged_on: on,
        }
    }

    /// Any other charge.
    pub fn other(description: impl Into<String>, amount: Money, on: Date) -> Self {
        Self {
            kind: ChargeKind::Other {
                description: description.into(),
            },
            amount,
            charged_on: on,
        }
    }
}

/// A write-off of what was outstanding on a charge.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Waiver {
    /// The amount written off.
    pub amount: Money,
    /// Why (audited).
    pub reason: String,
    /// When.
    pub waived_on: Date,
}

/// Where a charge stands (`GET /me/fines` `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChargeStatus {
    /// Something is still owed.
    Outstanding,
    /// Paid in full.
    Paid,
    /// The rest was waived.
    Waived,
}

/// A charge in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Charge {
    /// Its id.
    pub id: ChargeId,
    /// What it is for.
    pub kind: ChargeKind,
    /// How much was charged.
    pub amount: Money,
    /// When.
    pub charged_on: Date,
    /// How much of it has been paid.
    pub paid: Money,
    /// The waiver, if the rest was written off.
    pub waiver: Option<Waiver>,
}

impl Charge {
    /// What is still owed on this charge.
    pub fn outstanding(&self) -> Money {
        if self.waiver.is_some() {
            Money::ZERO
        } else {
            (self.amount - self.paid).max(Money::ZERO)
        }
    }

    /// Where it stands.
    pub fn status(&self) -> ChargeStatus {
        if self.waiver.is_some() {
            ChargeStatus::Waived
        } else if self.outstanding().is_positive() {
            ChargeStatus::Outstanding
        } else {
            ChargeStatus::Paid
        }
    }
}

/// How much of a payment went to which charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Allocation {
    /// The charge.
    pub charge: ChargeId,
    /// The part of the payment applied to it.
    pub amount: Money,
}

/// A payment and how it was allocated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Payment {
    /// How much was paid.
    pub amount: Money,
    /// When.
    pub paid_on: Date,
    /// Where it went, oldest charge first.
    pub allocations: Vec<Allocation>,
}

/// Why a ledger operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// Charges and payments must be positive amounts.
    #[error("the amount must be positive, got {amount}")]
    NotPositive {
        /// The amount given.
        amount: Money,
    },
    /// A payment larger than what is owed (there are no credits).
    #[error("payment {amount} exceeds the outstanding {outstanding}")]
    Overpayment {
        /// The payment.
        amount: Money,
        /// What is owed.
        outstanding: Money,
    },
    /// No such charge on this reader's ledger.
    #[error("unknown charge {0:?}")]
    UnknownCharge(ChargeId),
    /// The charge is already paid or waived.
    #[error("charge {0:?} has nothing outstanding")]
    NothingOutstanding(ChargeId),
    /// A waiver needs a reason.
    #[error("a waiver needs a reason")]
    MissingReason,
    /// The id is already used in this ledger.
    #[error("charge {0:?} already exists")]
    DuplicateCharge(ChargeId),
}

/// Whether an outstanding balance blocks borrowing, renewal and holds (docs/http.md,
/// `fines_over_limit`): at or over the threshold, exactly at the limit included. Owing
/// nothing never blocks.
pub fn fines_over_limit(outstanding: Money, threshold: Money) -> bool {
    outstanding.is_positive() && outstanding >= threshold
}

/// One reader's charges and payments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronLedger {
    patron: PatronId,
    charges: Vec<Charge>,
    payments: Vec<Payment>,
}

impl PatronLedger {
    /// An empty ledger.
    pub fn new(patron: PatronId) -> Self {
        Self {
            patron,
            charges: Vec::new(),
            payments: Vec::new(),
        }
    }

    /// A ledger rebuilt from stored charges and payments.
    pub fn from_parts(
        patron: PatronId,
        charges: Vec<Charge>,
        payments: Vec<Payment>,
    ) -> Result<Self, LedgerError> {
        let mut ledger = Self::new(patron);
        for charge in charges {
            if ledger.charge(charge.id).is_some() {
                return Err(LedgerError::DuplicateCharge(charge.id));
            }
            ledger.charges.push(charge);
        }
        ledger.payments = payments;
        Ok(ledger)
    }

    /// The reader.
    pub fn patron(&self) -> PatronId {
        self.patron
    }

    /// Every charge, in the order they were added.
    pub fn charges(&self) -> &[Charge] {
        &self.charges
    }

    /// One charge.
    pub fn charge(&self, id: ChargeId) -> Option<&Charge> {
        self.charges.iter().find(|c| c.id == id)
    }

    /// Every payment, oldest first.
    pub fn payments(&self) -> &[Payment] {
        &self.payments
    }

    /// Adds a charge under `id` (assigned by the store).
    pub fn add_charge(&mut self, id: ChargeId, new: NewCharge) -> Result<&Charge, LedgerError> {
        if !new.amount.is_positive() {
            return Err(LedgerError::NotPositive { amount: new.amount });
        }
        if self.charge(id).is_some() {
            return Err(LedgerError::DuplicateCharge(id));
        }
        self.charges.push(Charge {
            id,
            kind: new.kind,
            amount: new.amount,
            charged_on: new.charged_on,
            paid: Money::ZERO,
            waiver: None,
        });
        Ok(&self.charges[self.charges.len() - 1])
    }

    /// What the reader owes on charges.
    pub fn outstanding(&self) -> Money {
        self.charges.iter().map(Charge::outstanding).sum()
    }

    /// What the reader owes including `accruing`, the fines accruing on open overdue loans
    /// (the figure shown as `outstanding_cents` and compared with the threshold).
    pub fn outstanding_with(&self, accruing: Money) -> Money {
        self.outstanding() + accruing.max(Money::ZERO)
    }

    /// Whether the reader is blocked from borrowing, renewing and placing holds.
    pub fn is_over_limit(&self, accruing: Money, threshold: Money) -> bool {
        fines_over_limit(self.outstanding_with(accruing), threshold)
    }

    /// Takes a payment, settling the oldest outstanding charges first.
    pub fn pay(&mut self, amount: Money, paid_on: Date) -> Result<&Payment, LedgerError> {
        if !amount.is_positive() {
            return Err(LedgerError::NotPositive { amount });
        }
        let outstanding = self.outstanding();
        if amount > outstanding {
            return Err(LedgerError::Overpayment {
                amount,
                outstanding,
            });
        }
        let mut order: Vec<usize> = (0..self.charges.len()).collect();
        order.sort_by_key(|&i| (self.charges[i].charged_on, self.charges[i].id));
        let mut left = amount;
        let mut allocations = Vec::new();
        for i in order {
            if !left.is_positive() {
                break;
            }
            let charge = &mut self.charges[i];
            let part = charge.outstanding().min(left);
            if part.is_positive() {
                charge.paid += part;
                left -= part;
                allocations.push(Allocation {
                    charge: charge.id,
                    amount: part,
                });
            }
        }
        self.payments.push(Payment {
            amount,
            paid_on,
            allocations,
        });
        Ok(&self.payments[self.payments.len() - 1])
    }

    /// Waives what is outstanding on one charge; returns the amount written off.
    pub fn waive(
        &mut self,
        id: ChargeId,
        reason: impl Into<String>,
        waived_on: Date,
    ) -> Result<Money, LedgerError> {
        let reason = reason.into();
        if reason.trim().is_empty() {
            return Err(LedgerError::MissingReason);
        }
        let charge = self
            .charges
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or(LedgerError::UnknownCharge(id))?;
        let amount = charge.outstanding();
        if !amount.is_positive() {
            return Err(LedgerError::NothingOutstanding(id));
        }
        charge.waiver = Some(Waiver {
            amount,
            reason,
            waived_on,
        });
        Ok(amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn cents(c: i64) -> Money {
        Money::from_cents(c)
    }

    fn fine(days: u32, amount: i64) -> FineAssessment {
        FineAssessment {
            overdue_days: days,
            chargeable_days: days,
            fine: cents(amount),
        }
    }

    /// Charges: fine 900 (03-10), hold fee 330 (03-01), fine 150 (03-05) — added out of
    /// date order.
    fn ledger() -> PatronLedger {
        let mut l = PatronLedger::new(PatronId(7));
        let f1 = NewCharge::overdue_fine(LoanId(1), &fine(6, 900), date!(2021 - 03 - 10));
        l.add_charge(ChargeId(1), f1.unwrap()).unwrap();
        l.add_charge(
            ChargeId(2),
            NewCharge::hold_fee(HoldId(9), cents(330), date!(2021 - 03 - 01)),
        )
        .unwrap();
        let f2 = NewCharge::overdue_fine(LoanId(2), &fine(1, 150), date!(2021 - 03 - 05));
        l.add_charge(ChargeId(3), f2.unwrap()).unwrap();
        l
    }

    #[test]
    fn no_charge_for_no_fine() {
        assert_eq!(
            NewCharge::overdue_fine(LoanId(1), &fine(0, 0), date!(2021 - 03 - 04)),
            None
        );
    }

    #[test]
    fn payments_settle_the_oldest_charge_first() {
        type Case = (&'static [i64], &'static [(i64, i64)], i64);
        let cases: [Case; 4] = [
            // (payments, allocations of the last payment, outstanding after)
            (&[330], &[(2, 330)], 1050),
            (&[400], &[(2, 330), (3, 70)], 980),
            (&[400, 700], &[(3, 80), (1, 620)], 280),
            (&[1380], &[(2, 330), (3, 150), (1, 900)], 0),
        ];
        for (payments, want_allocations, want_outstanding) in cases {
            let mut l = ledger();
            let mut last = Vec::new();
            for &p in payments {
                last = l
                    .pay(cents(p), date!(2021 - 03 - 11))
                    .unwrap()
                    .allocations
                    .clone();
            }
            let want: Vec<Allocation> = want_allocations
                .iter()
                .map(|&(id, amount)| Allocation {
                    charge: ChargeId(id),
                    amount: cents(amount),
                })
                .collect();
            assert_eq!(last, want, "{payments:?}");
            assert_eq!(l.outstanding(), cents(want_outstanding), "{payments:?}");
        }
    }

    #[test]
    fn refused_payments() {
        let mut l = ledger();
        let on = date!(2021 - 03 - 11);
        assert_eq!(
            l.pay(cents(1381), on),
            Err(LedgerError::Overpayment {
                amount: cents(1381),
                outstanding: cents(1380)
            })
        );
        assert_eq!(
            l.pay(Money::ZERO, on),
            Err(LedgerError::NotPositive {
                amount: Money::ZERO
            })
        );
        assert!(l.pay(cents(-5), on).is_err());
        assert_eq!(l.outstanding(), cents(1380));
        assert!(l.payments().is_empty());
    }

    #[test]
    fn waivers() {
        let mut l = ledger();
        let on = date!(2021 - 03 - 12);
        l.pay(cents(400), on).unwrap(); // hold fee paid, fine 3 partly (70 of 150)
        assert_eq!(l.waive(ChargeId(3), "closure", on), Ok(cents(80)));
        assert_eq!(
            l.charge(ChargeId(3)).unwrap().status(),
            ChargeStatus::Waived
        );
        assert_eq!(l.charge(ChargeId(3)).unwrap().paid, cents(70));
        assert_eq!(l.charge(ChargeId(2)).unwrap().status(), ChargeStatus::Paid);
        assert_eq!(
            l.charge(ChargeId(1)).unwrap().status(),
            ChargeStatus::Outstanding
        );
        assert_eq!(l.outstanding(), cents(900));
        assert_eq!(
            l.waive(ChargeId(3), "again", on),
            Err(LedgerError::NothingOutstanding(ChargeId(3)))
        );
        assert_eq!(
            l.waive(ChargeId(2), "paid", on),
            Err(LedgerError::NothingOutstanding(ChargeId(2)))
        );
        assert_eq!(
            l.waive(ChargeId(99), "x", on),
            Err(LedgerError::UnknownCharge(ChargeId(99)))
        );
        assert_eq!(
            l.waive(ChargeId(1), "  ", on),
            Err(LedgerError::MissingReason)
        );
        let waiver = l.charge(ChargeId(3)).unwrap().waiver.clone().unwrap();
        assert_eq!(waiver.reason, "closure");
        // A later payment skips the waived charge.
        let p = l.pay(cents(900), on).unwrap();
        assert_eq!(
            p.allocations,
            vec![Allocation {
                charge: ChargeId(1),
                amount: cents(900)
            }]
        );
        assert_eq!(l.outstanding(), Money::ZERO);
    }

    #[test]
    fn threshold_blocks_at_exactly_the_limit() {
        let threshold = cents(10_000);
        let cases = [(9_999, false), (10_000, true), (10_001, true), (0, false)];
        for (owed, want) in cases {
            assert_eq!(fines_over_limit(cents(owed), threshold), want, "{owed}");
        }
        assert!(!fines_over_limit(Money::ZERO, Money::ZERO));
        assert!(fines_over_limit(cents(1), Money::ZERO));
        // Accruing fines count: 1380 charged + 8620 accruing = 10000.
        let l = ledger();
        assert!(l.is_over_limit(cents(8_620), threshold));
        assert!(!l.is_over_limit(cents(8_619), threshold));
        assert_eq!(l.outstanding_with(cents(8_620)), threshold);
    }

    #[test]
    fn ids_are_unique_and_amounts_positive() {
        let mut l = ledger();
        let on = date!(2021 - 03 - 12);
        assert_eq!(
            l.add_charge(ChargeId(1), NewCharge::other("card", cents(10), on)),
            Err(LedgerError::DuplicateCharge(ChargeId(1)))
        );
        assert!(
            l.add_charge(ChargeId(4), NewCharge::other("card", Money::ZERO, on))
                .is_err()
        );
        let rebuilt =
            PatronLedger::from_parts(l.patron(), l.charges().to_vec(), l.payments().to_vec())
                .unwrap();
        assert_eq!(rebuilt, l);
        let dup = [l.charges()[0].clone(), l.charges()[0].clone()].to_vec();
        assert!(PatronLedger::from_parts(PatronId(7), dup, Vec::new()).is_err());
    }
}
