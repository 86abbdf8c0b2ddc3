//! The decision to accept a hold on a title.
//!
//! Refusals in the order of docs/http.md (`hold_refused`): already on loan (no hold on a
//! title you have on loan, docs/circulation.md), already on hold (one active hold per
//! reader and title, Koha `holds_per_record` = 1), quota reached (`holds_allowed` active
//! holds), fines at or over the threshold, reader suspended. An unknown title or pickup
//! library is a "not found", not a refusal.

use library_core::Money;
use time::Date;

use crate::model::Patron;
use crate::rules::EffectiveRules;

/// Why a hold is refused (docs/http.md, Circulation: `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum HoldRefusal {
    /// The reader has a copy of the title on loan.
    #[error("the reader has this title on loan")]
    AlreadyOnLoan,
    /// The reader already has an active hold on the title.
    #[error("the reader already has a hold on this title")]
    AlreadyOnHold,
    /// The reader has `holds_allowed` active holds.
    #[error("the reader has reached the hold quota")]
    QuotaReached,
    /// Outstanding charges are at or over the blocking threshold.
    #[error("outstanding charges are at or over the limit")]
    FinesOverLimit,
    /// The reader is suspended.
    #[error("the reader is suspended")]
    PatronSuspended,
}

impl HoldRefusal {
    /// The wire code (docs/http.md, Circulation).
    pub const fn code(self) -> &'static str {
        match self {
            HoldRefusal::AlreadyOnLoan => "already_on_loan",
            HoldRefusal::AlreadyOnHold => "already_on_hold",
            HoldRefusal::QuotaReached => "quota_reached",
            HoldRefusal::FinesOverLimit => "fines_over_limit",
            HoldRefusal::PatronSuspended => "patron_suspended",
        }
    }
}

/// Everything the hold decision looks at.
#[derive(Debug, Clone, Copy)]
pub struct HoldFacts<'a> {
    /// Today in the pickup library's zone.
    pub today: Date,
    /// The reader.
    pub patron: &'a Patron,
    /// The hold rules for (pickup library, category, no item type).
    pub rules: &'a EffectiveRules,
    /// Whether the reader has a copy of the title on loan.
    pub has_title_on_loan: bool,
    /// Whether the reader has an active hold on the title.
    pub has_hold_on_title: bool,
    /// The reader's active (queued or waiting) holds.
    pub active_holds: u32,
    /// Unpaid charges plus fines accruing on open overdue loans.
    pub outstanding: Money,
}

/// Every refusal that applies, in the documented order (empty = allowed).
pub fn hold_refusals(f: &HoldFacts<'_>) -> Vec<HoldRefusal> {
    let checks = [
        (f.has_title_on_loan, HoldRefusal::AlreadyOnLoan),
        (f.has_hold_on_title, HoldRefusal::AlreadyOnHold),
        (
            f.active_holds >= f.rules.holds_allowed,
            HoldRefusal::QuotaReached,
        ),
        (f.rules.blocks(f.outstanding), HoldRefusal::FinesOverLimit),
        (f.patron.is_suspended(f.today), HoldRefusal::PatronSuspended),
    ];
    checks
        .into_iter()
        .filter_map(|(applies, refusal)| applies.then_some(refusal))
        .collect()
}

/// The decision: the first refusal, if any.
pub fn decide_hold(f: &HoldFacts<'_>) -> Result<(), HoldRefusal> {
    match hold_refusals(f).first() {
        Some(&refusal) => Err(refusal),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::ReaderCategory;
    use crate::profile::hkpl_profile;
    use library_core::{CardNumber, LibraryCode, PatronId};
    use time::macros::date;

    use HoldRefusal::*;

    #[test]
    fn the_documented_order() {
        let p = Patron {
            id: PatronId(1),
            card_number: CardNumber::parse("21000012345678").unwrap(),
            category: ReaderCategory::parse("adult").unwrap(),
            home_library: LibraryCode::parse("HKCL").unwrap(),
            card_expires_on: date!(2030 - 01 - 01),
            suspended_until: Some(date!(2021 - 04 - 01)),
            blocked: false,
        };
        let r = EffectiveRules::resolve(&hkpl_profile(), None, None, None);
        let f = HoldFacts {
            today: date!(2021 - 03 - 05),
            patron: &p,
            rules: &r,
            has_title_on_loan: true,
            has_hold_on_title: true,
            active_holds: 10,
            outstanding: Money::from_cents(10_000),
        };
        assert_eq!(
            hold_refusals(&f),
            vec![
                AlreadyOnLoan,
                AlreadyOnHold,
                QuotaReached,
                FinesOverLimit,
                PatronSuspended
            ]
        );
        let f = HoldFacts {
            has_title_on_loan: false,
            ..f
        };
        assert_eq!(decide_hold(&f), Err(AlreadyOnHold));
        let f = HoldFacts {
            has_hold_on_title: false,
            ..f
        };
        assert_eq!(decide_hold(&f), Err(QuotaReached));
        let f = HoldFacts {
            active_holds: 9,
            ..f
        };
        assert_eq!(decide_hold(&f), Err(FinesOverLimit));
        let f = HoldFacts {
            outstanding: Money::from_cents(9_999),
            ..f
        };
        assert_eq!(
            decide_hold(&f).map_err(HoldRefusal::code),
            Err("patron_suspended")
        );
        let f = HoldFacts {
            today: date!(2021 - 04 - 01),
            ..f
        };
        assert_eq!(decide_hold(&f), Ok(()));
    }
}
