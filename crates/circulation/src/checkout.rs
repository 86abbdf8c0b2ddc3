//! The checkout decision: may this reader borrow this item now?
//!
//! Refusals are checked in the fixed order of docs/circulation.md and docs/http.md
//! (`checkout_refused`): card expired, reader suspended, fines at or over the threshold,
//! no policy or quota reached (one place: no rule sets a quota, or the quota is reached),
//! item not available, item on the hold shelf for another reader. Unknown
//! readers and items are not refusals: the service reports them as "not found" before any
//! of these. [`checkout_refusals`] lists every reason that applies, in that order; the
//! first one is the one reported.

use library_core::{Money, PatronId};
use time::Date;

use crate::model::{Item, ItemStatus, Patron};
use crate::rules::EffectiveRules;

/// Why a checkout is refused (docs/http.md, Circulation: `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum CheckoutRefusal {
    /// The reader's card has expired.
    #[error("the reader's card has expired")]
    CardExpired,
    /// The reader is suspended from borrowing.
    #[error("the reader is suspended")]
    PatronSuspended,
    /// Outstanding charges are at or over the blocking threshold.
    #[error("outstanding charges are at or over the limit")]
    FinesOverLimit,
    /// No rule at any scope sets a `quota` for this (lending library, reader category,
    /// item type): a misconfiguration, never reported as [`Self::QuotaReached`].
    #[error("no lending rules are set for this reader and item; please ask staff")]
    NoPolicy,
    /// The reader already has `quota` items on loan.
    #[error("the reader has reached the loan quota")]
    QuotaReached,
    /// The item is on loan, lost, in transit or not for loan.
    #[error("the item is not available for loan")]
    ItemNotAvailable,
    /// The item is on the hold shelf for another reader.
    #[error("the item is on hold for another reader")]
    OnHoldForAnother,
}

impl CheckoutRefusal {
    /// The wire code (docs/http.md, Circulation).
    pub const fn code(self) -> &'static str {
        match self {
            CheckoutRefusal::CardExpired => "card_expired",
            CheckoutRefusal::PatronSuspended => "patron_suspended",
            CheckoutRefusal::FinesOverLimit => "fines_over_limit",
            CheckoutRefusal::NoPolicy => "no_policy",
            CheckoutRefusal::QuotaReached => "quota_reached",
            CheckoutRefusal::ItemNotAvailable => "item_not_available",
            CheckoutRefusal::OnHoldForAnother => "on_hold_for_another",
        }
    }
}

/// Everything the checkout decision looks at.
#[derive(Debug, Clone, Copy)]
pub struct CheckoutFacts<'a> {
    /// Today in the lending library's zone.
    pub today: Date,
    /// The borrower.
    pub patron: &'a Patron,
    /// The item.
    pub item: &'a Item,
    /// The rules for (lending library, category, item type).
    pub rules: &'a EffectiveRules,
    /// Unpaid charges plus fines accruing on open overdue loans (docs/http.md, Fines).
    pub outstanding: Money,
    /// Items the reader has on loan now.
    pub loans_out: u32,
    /// Whose waiting hold the item is trapped for, if any.
    pub waiting_for: Option<PatronId>,
}

/// What a permitted checkout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutKind {
    /// An ordinary loan of an item from the shelf.
    Loan,
    /// The collection of the reader's own waiting hold (docs/circulation.md:
    /// collecting a reserved item is the checkout of the waiting copy).
    Collection,
}

/// Every refusal that applies, in the documented order (empty = allowed).
pub fn checkout_refusals(f: &CheckoutFacts<'_>) -> Vec<CheckoutRefusal> {
    let mut reasons = Vec::new();
    if f.patron.card_expired(f.today) {
        reasons.push(CheckoutRefusal::CardExpired);
    }
    if f.patron.is_suspended(f.today) {
        reasons.push(CheckoutRefusal::PatronSuspended);
    }
    if f.rules.blocks(f.outstanding) {
        reasons.push(CheckoutRefusal::FinesOverLimit);
    }
    // Where the quota is checked, a missing quota is reported: with no rule setting one,
    // the reader has reached nothing; the library has not said what may be lent.
    match f.rules.quota {
        None => reasons.push(CheckoutRefusal::NoPolicy),
        Some(quota) if f.loans_out >= quota => reasons.push(CheckoutRefusal::QuotaReached),
        Some(_) => {}
    }
    match (f.item.status, f.waiting_for) {
        (ItemStatus::Available, _) => {}
        (ItemStatus::OnHoldShelf, Some(holder)) if holder == f.patron.id => {}
        (ItemStatus::OnHoldShelf, Some(_)) => reasons.push(CheckoutRefusal::OnHoldForAnother),
        // On the hold shelf with no waiting hold behind it, on loan, lost, in transit,
        // not for loan.
        _ => reasons.push(CheckoutRefusal::ItemNotAvailable),
    }
    reasons
}

/// The decision: the first refusal, or what kind of checkout this is.
pub fn decide_checkout(f: &CheckoutFacts<'_>) -> Result<CheckoutKind, CheckoutRefusal> {
    match checkout_refusals(f).first() {
        Some(&refusal) => Err(refusal),
        None if f.waiting_for == Some(f.patron.id) => Ok(CheckoutKind::Collection),
        None => Ok(CheckoutKind::Loan),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{ItemType, ReaderCategory};
    use crate::profile::hkpl_profile;
    use library_core::{Barcode, CardNumber, ItemId, LibraryCode, TitleId};
    use time::macros::date;

    use CheckoutRefusal::*;

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

    fn item(status: ItemStatus) -> Item {
        Item {
            id: ItemId(7),
            barcode: Barcode::parse("31234000000007").unwrap(),
            title: TitleId(3),
            item_type: ItemType::parse("adult_book").unwrap(),
            home_library: LibraryCode::parse("HKCL").unwrap(),
            status,
            current_library: LibraryCode::parse("HKCL").unwrap(),
            transit_to: None,
        }
    }

    fn rules() -> EffectiveRules {
        EffectiveRules::resolve(&hkpl_profile(), None, None, None)
    }

    fn decide(
        p: &Patron,
        i: &Item,
        outstanding: i64,
        loans_out: u32,
        waiting: Option<i64>,
    ) -> Vec<CheckoutRefusal> {
        checkout_refusals(&CheckoutFacts {
            today: date!(2021 - 03 - 05),
            patron: p,
            item: i,
            rules: &rules(),
            outstanding: Money::from_cents(outstanding),
            loans_out,
            waiting_for: waiting.map(PatronId),
        })
    }

    #[test]
    fn every_reason_alone() {
        let ok = patron();
        let shelf = item(ItemStatus::Available);
        assert_eq!(decide(&ok, &shelf, 0, 0, None), vec![]);
        let expired = Patron {
            card_expires_on: date!(2021 - 03 - 04),
            ..patron()
        };
        assert_eq!(decide(&expired, &shelf, 0, 0, None), vec![CardExpired]);
        let suspended = Patron {
            suspended_until: Some(date!(2021 - 03 - 06)),
            ..patron()
        };
        assert_eq!(
            decide(&suspended, &shelf, 0, 0, None),
            vec![PatronSuspended]
        );
        assert_eq!(decide(&ok, &shelf, 9_999, 0, None), vec![]);
        assert_eq!(decide(&ok, &shelf, 10_000, 0, None), vec![FinesOverLimit]);
        assert_eq!(decide(&ok, &shelf, 0, 9, None), vec![]);
        assert_eq!(decide(&ok, &shelf, 0, 10, None), vec![QuotaReached]);
        for status in [
            ItemStatus::OnLoan,
            ItemStatus::Lost,
            ItemStatus::InTransit,
            ItemStatus::NotForLoan,
        ] {
            assert_eq!(
                decide(&ok, &item(status), 0, 0, None),
                vec![ItemNotAvailable]
            );
        }
        let trapped = item(ItemStatus::OnHoldShelf);
        assert_eq!(decide(&ok, &trapped, 0, 0, Some(2)), vec![OnHoldForAnother]);
        assert_eq!(decide(&ok, &trapped, 0, 0, Some(1)), vec![]);
    }

    #[test]
    fn the_documented_order_decides_which_reason_wins() {
        let all_wrong = Patron {
            card_expires_on: date!(2020 - 01 - 01),
            suspended_until: Some(date!(2022 - 01 - 01)),
            ..patron()
        };
        let trapped = item(ItemStatus::OnHoldShelf);
        assert_eq!(
            decide(&all_wrong, &trapped, 20_000, 10, Some(2)),
            vec![
                CardExpired,
                PatronSuspended,
                FinesOverLimit,
                QuotaReached,
                OnHoldForAnother
            ]
        );
        // Suspended and over quota: suspension wins.
        let suspended = Patron {
            suspended_until: Some(date!(2022 - 01 - 01)),
            ..patron()
        };
        let f = CheckoutFacts {
            today: date!(2021 - 03 - 05),
            patron: &suspended,
            item: &item(ItemStatus::OnLoan),
            rules: &rules(),
            outstanding: Money::ZERO,
            loans_out: 10,
            waiting_for: None,
        };
        assert_eq!(decide_checkout(&f), Err(PatronSuspended));
        // Fines and an unavailable item: fines win.
        assert_eq!(
            decide(&patron(), &item(ItemStatus::OnLoan), 10_000, 0, None)[0],
            FinesOverLimit
        );
    }

    #[test]
    fn collecting_ones_own_hold_is_a_collection() {
        let p = patron();
        let f = CheckoutFacts {
            today: date!(2021 - 03 - 05),
            patron: &p,
            item: &item(ItemStatus::OnHoldShelf),
            rules: &rules(),
            outstanding: Money::ZERO,
            loans_out: 0,
            waiting_for: Some(PatronId(1)),
        };
        assert_eq!(decide_checkout(&f), Ok(CheckoutKind::Collection));
        let f = CheckoutFacts {
            item: &item(ItemStatus::Available),
            waiting_for: None,
            ..f
        };
        assert_eq!(decide_checkout(&f), Ok(CheckoutKind::Loan));
    }

    #[test]
    fn no_quota_anywhere_is_no_policy_not_a_quota() {
        use crate::rules::{RuleScope, RuleSet, ScopedRules};
        // The quota is set for KLN only; a checkout at HKCL on 5 March 2021 of a reader
        // with no loans finds no quota anywhere.
        let stored = vec![
            ScopedRules {
                scope: RuleScope::any(),
                rules: RuleSet {
                    loan_days: Some(14),
                    fine_per_day: Some(Money::from_cents(150)),
                    ..RuleSet::default()
                },
            },
            ScopedRules {
                scope: RuleScope {
                    library: Some(LibraryCode::parse("KLN").unwrap()),
                    ..RuleScope::any()
                },
                rules: RuleSet {
                    quota: Some(10),
                    ..RuleSet::default()
                },
            },
        ];
        let adult = ReaderCategory::parse("adult").unwrap();
        let book = ItemType::parse("adult_book").unwrap();
        let at = |library: &str| {
            EffectiveRules::resolve(
                &stored,
                Some(&LibraryCode::parse(library).unwrap()),
                Some(&adult),
                Some(&book),
            )
        };
        let p = patron();
        let shelf = item(ItemStatus::Available);
        let facts = |rules, loans_out| CheckoutFacts {
            today: date!(2021 - 03 - 05),
            patron: &p,
            item: &shelf,
            rules,
            outstanding: Money::ZERO,
            loans_out,
            waiting_for: None,
        };
        let hkcl = at("HKCL");
        assert_eq!(hkcl.quota, None);
        assert_eq!(checkout_refusals(&facts(&hkcl, 0)), vec![NoPolicy]);
        assert_eq!(decide_checkout(&facts(&hkcl, 0)), Err(NoPolicy));
        // At KLN the quota applies as usual.
        let kln = at("KLN");
        assert_eq!(decide_checkout(&facts(&kln, 0)), Ok(CheckoutKind::Loan));
        assert_eq!(decide_checkout(&facts(&kln, 10)), Err(QuotaReached));
        // Nothing stored at all: the same.
        let none = EffectiveRules::resolve(&[], None, Some(&adult), Some(&book));
        assert_eq!(decide_checkout(&facts(&none, 0)), Err(NoPolicy));
        // A quota of 0 that a rule sets is a quota.
        let zero = EffectiveRules {
            quota: Some(0),
            ..none.clone()
        };
        assert_eq!(decide_checkout(&facts(&zero, 0)), Err(QuotaReached));
    }

    #[test]
    fn no_policy_takes_the_place_of_the_quota_in_the_order() {
        let none = EffectiveRules {
            quota: None,
            ..rules()
        };
        let all_wrong = Patron {
            card_expires_on: date!(2020 - 01 - 01),
            suspended_until: Some(date!(2022 - 01 - 01)),
            ..patron()
        };
        let trapped = item(ItemStatus::OnHoldShelf);
        let f = CheckoutFacts {
            today: date!(2021 - 03 - 05),
            patron: &all_wrong,
            item: &trapped,
            rules: &none,
            outstanding: Money::from_cents(20_000),
            loans_out: 10,
            waiting_for: Some(PatronId(2)),
        };
        assert_eq!(
            checkout_refusals(&f),
            vec![
                CardExpired,
                PatronSuspended,
                FinesOverLimit,
                NoPolicy,
                OnHoldForAnother
            ]
        );
        // A reader in good standing, an item on loan: the missing policy is reported first.
        let p = patron();
        let f = CheckoutFacts {
            patron: &p,
            item: &item(ItemStatus::OnLoan),
            outstanding: Money::ZERO,
            loans_out: 0,
            waiting_for: None,
            ..f
        };
        assert_eq!(decide_checkout(&f), Err(NoPolicy));
    }

    #[test]
    fn codes_are_the_wire_codes() {
        let codes: Vec<_> = [
            CardExpired,
            PatronSuspended,
            FinesOverLimit,
            NoPolicy,
            QuotaReached,
            ItemNotAvailable,
            OnHoldForAnother,
        ]
        .iter()
        .map(|r| r.code())
        .collect();
        assert_eq!(
            codes,
            [
                "card_expired",
                "patron_suspended",
                "fines_over_limit",
                "no_policy",
                "quota_reached",
                "item_not_available",
                "on_hold_for_another"
            ]
        );
    }
}
