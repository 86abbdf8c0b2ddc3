//! The renewal decision: may this loan be renewed now?
//!
//! Refusals are checked in the fixed order of docs/circulation.md and docs/http.md
//! (`renewal_refused`): too many renewals, reserved by another reader, reader suspended,
//! fines at or over the threshold, card expired, too soon. "Not the reader's loan" comes
//! first of all and is a "not found" in the service, never a refusal (it must not reveal
//! other readers' loans). The order follows Koha's `CanBookBeRenewed` in spirit (`too_many`
//! before `on_reserve`, `too_soon` last).
//!
//! "Reserved by another reader" means another reader has a *queued* hold on the loan's
//! title: such a hold needs a copy, and this one is the next to come back. A hold already
//! waiting on the shelf has its copy and does not block renewals (Koha `on_reserve` looks
//! for holds this item could fill).

use library_core::Money;
use time::{Date, Duration};

use crate::model::{Loan, Patron};
use crate::rules::EffectiveRules;

/// Why a renewal is refused (docs/http.md, Circulation: `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum RenewalRefusal {
    /// `renewals_allowed` renewals have been made.
    #[error("no renewals left")]
    TooManyRenewals,
    /// Another reader has reserved the title.
    #[error("another reader has reserved the title")]
    OnHoldForAnother,
    /// The reader is suspended.
    #[error("the reader is suspended")]
    PatronSuspended,
    /// Outstanding charges are at or over the blocking threshold.
    #[error("outstanding charges are at or over the limit")]
    FinesOverLimit,
    /// The reader's card has expired.
    #[error("the reader's card has expired")]
    CardExpired,
    /// Renewal opens on `earliest` (due date − `renew_before_days`; Koha `too_soon` with
    /// `soonest_renew_date`, date precision).
    #[error("too soon to renew; renewal opens on {earliest}")]
    TooSoon {
        /// The first local date the loan may be renewed.
        earliest: Date,
    },
}

impl RenewalRefusal {
    /// The wire code (docs/http.md, Circulation).
    pub const fn code(self) -> &'static str {
        match self {
            RenewalRefusal::TooManyRenewals => "too_many_renewals",
            RenewalRefusal::OnHoldForAnother => "on_hold_for_another",
            RenewalRefusal::PatronSuspended => "patron_suspended",
            RenewalRefusal::FinesOverLimit => "fines_over_limit",
            RenewalRefusal::CardExpired => "card_expired",
            RenewalRefusal::TooSoon { .. } => "too_soon",
        }
    }
}

/// Everything the renewal decision looks at.
#[derive(Debug, Clone, Copy)]
pub struct RenewalFacts<'a> {
    /// Today in the lending library's zone.
    pub today: Date,
    /// The borrower.
    pub patron: &'a Patron,
    /// The loan.
    pub loan: &'a Loan,
    /// The rules for (lending library, category, item type).
    pub rules: &'a EffectiveRules,
    /// Unpaid charges plus fines accruing on open overdue loans, this one included.
    pub outstanding: Money,
    /// Whether another reader has a queued hold on the title.
    pub reserved_by_another: bool,
}

/// The first local date the loan may be renewed; `None` = any time.
pub fn earliest_renewal(loan: &Loan, rules: &EffectiveRules) -> Option<Date> {
    let days = rules.renew_before_days?;
    Some(
        loan.due
            .on
            .checked_sub(Duration::days(i64::from(days)))
            .unwrap_or(Date::MIN),
    )
}

/// Every refusal that applies, in the documented order (empty = allowed).
pub fn renewal_refusals(f: &RenewalFacts<'_>) -> Vec<RenewalRefusal> {
    let mut reasons = Vec::new();
    if f.loan.renewals >= f.rules.renewals_allowed {
        reasons.push(RenewalRefusal::TooManyRenewals);
    }
    if f.reserved_by_another {
        reasons.push(RenewalRefusal::OnHoldForAnother);
    }
    if f.patron.is_suspended(f.today) {
        reasons.push(RenewalRefusal::PatronSuspended);
    }
    if f.rules.blocks(f.outstanding) {
        reasons.push(RenewalRefusal::FinesOverLimit);
    }
    if f.patron.card_expired(f.today) {
        reasons.push(RenewalRefusal::CardExpired);
    }
    if let Some(earliest) = earliest_renewal(f.loan, f.rules)
        && f.today < earliest
    {
        reasons.push(RenewalRefusal::TooSoon { earliest });
    }
    reasons
}

/// The decision: the first refusal, if any.
pub fn decide_renewal(f: &RenewalFacts<'_>) -> Result<(), RenewalRefusal> {
    match renewal_refusals(f).first() {
        Some(&refusal) => Err(refusal),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Calendar;
    use crate::codes::ReaderCategory;
    use crate::due_date::DueDate;
    use crate::profile::hkpl_profile;
    use library_core::{CardNumber, ItemId, LibraryCode, LoanId, PatronId};
    use time::macros::{date, datetime};

    use RenewalRefusal::*;

    fn patron() -> Patron {
        Patron {
            id: PatronId(1),
            card_number: CardNumber::parse("21000012345678").unwrap(),
            category: ReaderCategory::parse("adult").unwrap(),
            home_library: LibraryCode::parse("HKCL").unwrap(),
            card_expires_on: date!(2030 - 01 - 01),
            suspended_until: None,
            blocked: false,
        }
    }

    fn loan(renewals: u32) -> Loan {
        Loan {
            id: LoanId(1),
            patron: PatronId(1),
            item: ItemId(1),
            library: LibraryCode::parse("HKCL").unwrap(),
            borrowed_at: datetime!(2021-03-01 10:00 +08:00),
            due: DueDate::on(date!(2021 - 03 - 15), &Calendar::default()),
            renewals,
            returned_at: None,
            returned_to: None,
        }
    }

    fn rules(renew_before_days: Option<u32>) -> EffectiveRules {
        EffectiveRules {
            renew_before_days,
            ..EffectiveRules::resolve(&hkpl_profile(), None, None, None)
        }
    }

    #[test]
    fn k19_too_soon_opens_renew_before_days_before_the_due_date() {
        let (p, l, r) = (patron(), loan(0), rules(Some(7)));
        let facts = |today| RenewalFacts {
            today,
            patron: &p,
            loan: &l,
            rules: &r,
            outstanding: Money::ZERO,
            reserved_by_another: false,
        };
        assert_eq!(
            decide_renewal(&facts(date!(2021 - 03 - 07))),
            Err(TooSoon {
                earliest: date!(2021 - 03 - 08)
            })
        );
        assert_eq!(decide_renewal(&facts(date!(2021 - 03 - 08))), Ok(()));
        // Absent = any time.
        let r = rules(None);
        let f = RenewalFacts {
            rules: &r,
            ..facts(date!(2021 - 03 - 02))
        };
        assert_eq!(decide_renewal(&f), Ok(()));
    }

    #[test]
    fn k19_no_renewals_allowed_is_too_many() {
        let (p, l) = (patron(), loan(0));
        let r = EffectiveRules {
            renewals_allowed: 0,
            ..rules(None)
        };
        let f = RenewalFacts {
            today: date!(2021 - 03 - 10),
            patron: &p,
            loan: &l,
            rules: &r,
            outstanding: Money::ZERO,
            reserved_by_another: false,
        };
        assert_eq!(decide_renewal(&f), Err(TooManyRenewals));
    }

    #[test]
    fn the_documented_order() {
        let p = Patron {
            card_expires_on: date!(2021 - 01 - 01),
            suspended_until: Some(date!(2021 - 12 - 01)),
            ..patron()
        };
        let (l, r) = (loan(5), rules(Some(2)));
        let f = RenewalFacts {
            today: date!(2021 - 03 - 10),
            patron: &p,
            loan: &l,
            rules: &r,
            outstanding: Money::from_cents(10_000),
            reserved_by_another: true,
        };
        assert_eq!(
            renewal_refusals(&f),
            vec![
                TooManyRenewals,
                OnHoldForAnother,
                PatronSuspended,
                FinesOverLimit,
                CardExpired,
                TooSoon {
                    earliest: date!(2021 - 03 - 13)
                }
            ]
        );
        // Peel the reasons off one by one: each next one wins in turn.
        let l4 = loan(4);
        let f = RenewalFacts { loan: &l4, ..f };
        assert_eq!(decide_renewal(&f), Err(OnHoldForAnother));
        let f = RenewalFacts {
            reserved_by_another: false,
            ..f
        };
        assert_eq!(decide_renewal(&f), Err(PatronSuspended));
        let p2 = Patron {
            suspended_until: None,
            ..p.clone()
        };
        let f = RenewalFacts { patron: &p2, ..f };
        assert_eq!(decide_renewal(&f), Err(FinesOverLimit));
        let f = RenewalFacts {
            outstanding: Money::from_cents(9_999),
            ..f
        };
        assert_eq!(decide_renewal(&f), Err(CardExpired));
        let p3 = patron();
        let f = RenewalFacts { patron: &p3, ..f };
        assert_eq!(f.loan.renewals, 4);
        assert_eq!(
            decide_renewal(&f).map_err(RenewalRefusal::code),
            Err("too_soon")
        );
    }
}
