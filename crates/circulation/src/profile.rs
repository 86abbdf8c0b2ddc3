//! The default policy profile "hkpl": the lending rules of the Hong Kong Public Libraries.
//! Every number, its source and where it differs from the library's rule: docs/policy.md.
//!
//! Item types. HKPL's fine rate follows the **collection** the item comes from (adult
//! library vs young-adult and children's library), not the reader's age
//! (docs/policy.md, source S1). So the profile's item types are named
//! `<collection>_<format>`: [`ADULT_ITEM_TYPES`] are charged the global HK$1.50/day and
//! [`JUNIOR_ITEM_TYPES`] get an item-type rule of HK$0.50/day. Any other item type a library
//! adds is charged the adult rate until it is given its own rule.

use library_core::Money;

use crate::codes::ItemType;
use crate::rules::{RenewalBase, RuleScope, RuleSet, ScopedRules};

/// Item types of the adult collection (global rate, HK$1.50/day).
pub const ADULT_ITEM_TYPES: [&str; 3] = ["adult_book", "adult_av", "adult_periodical"];

/// Item types of the young-adult and children's collections (HK$0.50/day).
pub const JUNIOR_ITEM_TYPES: [&str; 6] = [
    "young_adult_book",
    "young_adult_av",
    "young_adult_periodical",
    "children_book",
    "children_av",
    "children_periodical",
];

/// HK$1.50 per item per day, adult-library items (HKPL; docs/policy.md, sources S1, S2).
pub const ADULT_FINE_PER_DAY: Money = Money::from_cents(150);
/// HK$0.50 per item per day, young-adult and children's-library items (HKPL;
/// docs/policy.md, sources S1, S2).
pub const JUNIOR_FINE_PER_DAY: Money = Money::from_cents(50);
/// The charge ceiling that blocks borrowing, renewal and holds: HK$100 (*ours*: the
/// ceiling exists, its amount is not published).
pub const BLOCK_THRESHOLD: Money = Money::from_cents(10_000);
/// HK$3.30 per reserved item, charged at collection (HKPL since 7 Sep 2017;
/// docs/policy.md, sources S5, S6).
pub const HOLD_FEE: Money = Money::from_cents(330);

/// The replacement cost of a lost item whose item and title record none (HK$150, *ours*).
pub const DEFAULT_REPLACEMENT_COST: Money = Money::from_cents(15_000);

/// The "hkpl" profile as stored scopes: one global scope plus one per junior item type.
pub fn hkpl_profile() -> Vec<ScopedRules> {
    let global = ScopedRules {
        scope: RuleScope::any(),
        rules: RuleSet {
            // Libraries Regulation (Cap. 132AL) s19.
            loan_days: Some(14),
            // "up to 5 in a row, each 14 days from the renewal date" (HKPL;
            // docs/policy.md, sources S1, S7).
            renewals_allowed: Some(5),
            renewal_base: Some(RenewalBase::RenewalDate),
            renew_before_days: None,
            // 10 items since 23 Apr 2024 (HKPL; docs/policy.md, source S3).
            quota: Some(10),
            // 10 reservations per reader (HKPL; docs/policy.md, source S5).
            holds_allowed: Some(10),
            // 7 open days: *ours* (not published).
            pickup_days: Some(7),
            fine_per_day: Some(ADULT_FINE_PER_DAY),
            grace_days: Some(0),
            // No cap per item: *ours* (HK$130 was not found in any source).
            max_fine: None,
            block_threshold: Some(BLOCK_THRESHOLD),
            // HKPL charges money, not suspensions.
            suspension_days_per_day: Some(0),
            max_suspension_days: None,
            count_closed_days: Some(true),
            hold_fee: Some(HOLD_FEE),
            // HK$150 when neither the item nor its title records its price: *ours* (the
            // library charges the item's own replacement cost, docs/policy.md).
            replacement_cost: Some(DEFAULT_REPLACEMENT_COST),
            // Not set: copies go home (the fallback). HKPL publishes no floating
            // collection; a library sets `floating` per item type.
            floating: None,
        },
    };
    let junior = JUNIOR_ITEM_TYPES.iter().filter_map(|t| {
        Some(ScopedRules {
            scope: RuleScope {
                item_type: Some(ItemType::parse(t).ok()?),
                ..RuleScope::any()
            },
            rules: RuleSet {
                fine_per_day: Some(JUNIOR_FINE_PER_DAY),
                ..RuleSet::default()
            },
        })
    });
    std::iter::once(global).chain(junior).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::ReaderCategory;
    use crate::rules::EffectiveRules;
    use library_core::LibraryCode;

    #[test]
    fn the_profile_resolves_to_the_documented_numbers() {
        let stored = hkpl_profile();
        assert_eq!(stored.len(), 1 + JUNIOR_ITEM_TYPES.len());
        let lib = LibraryCode::parse("HKCL").unwrap();
        let child = ReaderCategory::parse("child").unwrap();
        for t in ADULT_ITEM_TYPES {
            let r = EffectiveRules::resolve(
                &stored,
                Some(&lib),
                Some(&child),
                Some(&ItemType::parse(t).unwrap()),
            );
            // The rate follows the collection, not the reader's age.
            assert_eq!(r.fine_per_day, Money::from_cents(150), "{t}");
            assert_eq!(
                (r.loan_days, r.quota, r.renewals_allowed),
                (14, Some(10), 5)
            );
            assert_eq!(r.renewal_base, RenewalBase::RenewalDate);
            assert_eq!(r.max_fine, None);
            assert_eq!(r.block_threshold, Some(Money::from_cents(10_000)));
            assert_eq!(r.hold_fee, Money::from_cents(330));
            assert_eq!((r.grace_days, r.suspension_days_per_day), (0, 0));
        }
        for t in JUNIOR_ITEM_TYPES {
            let r = EffectiveRules::resolve(
                &stored,
                Some(&lib),
                None,
                Some(&ItemType::parse(t).unwrap()),
            );
            assert_eq!(r.fine_per_day, Money::from_cents(50), "{t}");
        }
        let holds = EffectiveRules::resolve(&stored, Some(&lib), Some(&child), None);
        assert_eq!((holds.holds_allowed, holds.pickup_days), (10, 7));
    }
}
