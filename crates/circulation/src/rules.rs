//! Circulation rules resolved over (library, reader category, item type).
//!
//! Storage is one partial [`RuleSet`] per [`RuleScope`]; a scope dimension left `None`
//! means "any". Resolution follows Koha's `get_effective_rule` (`Koha/CirculationRules.pm`):
//! keep the scopes that match (each dimension equal to the asked value, or "any"), order
//! them by library, then category, then item type, specific before "any", and take the
//! first scope that sets the rule. **Each rule name is resolved on its own**, so one
//! effective rule set may draw values from several scopes.
//!
//! For holds (`holds_allowed`, `pickup_days`, `block_threshold_cents`) the library is the
//! pickup library and there is no item type, so only scopes without an item type match
//! (docs/http.md, Rules).
//!
//! `floating` (whether a copy returned away from its home library stays where it is
//! returned instead of travelling home) is resolved for the library where the copy is
//! scanned in and its item type, with no reader category: where a copy goes does not
//! depend on who returned it (docs/circulation.md, Transit).

use library_core::{LibraryCode, Money};
use library_fines::{FinePolicy, GraceMode, SuspensionPolicy, fines_over_limit};

use crate::codes::{ItemType, ReaderCategory};
use crate::model::Loan;

/// Where a partial rule set applies. `None` in a dimension means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RuleScope {
    /// The lending library (for holds: the pickup library), or any.
    pub library: Option<LibraryCode>,
    /// The reader category, or any.
    pub category: Option<ReaderCategory>,
    /// The item type, or any.
    pub item_type: Option<ItemType>,
}

impl RuleScope {
    /// The scope that applies everywhere.
    pub fn any() -> Self {
        Self::default()
    }

    /// `true` if this scope applies to the given (library, category, item type).
    pub fn matches(
        &self,
        library: Option<&LibraryCode>,
        category: Option<&ReaderCategory>,
        item_type: Option<&ItemType>,
    ) -> bool {
        fn dim<T: PartialEq>(scope: Option<&T>, asked: Option<&T>) -> bool {
            scope.is_none() || scope == asked
        }
        dim(self.library.as_ref(), library)
            && dim(self.category.as_ref(), category)
            && dim(self.item_type.as_ref(), item_type)
    }

    /// Koha's ordering key: library, then category, then item type; specific first.
    fn specificity(&self) -> (bool, bool, bool) {
        (
            self.library.is_some(),
            self.category.is_some(),
            self.item_type.is_some(),
        )
    }
}

/// Where a renewed loan's new period counts from (Koha `RenewalPeriodBase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RenewalBase {
    /// From the renewal date (HKPL: "each 14 days from the renewal date").
    RenewalDate,
    /// From the current due date.
    DueDate,
}

impl RenewalBase {
    /// The wire name: `renewal_date` or `due_date`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RenewalBase::RenewalDate => "renewal_date",
            RenewalBase::DueDate => "due_date",
        }
    }
}

impl std::str::FromStr for RenewalBase {
    type Err = UnknownRenewalBase;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [RenewalBase::RenewalDate, RenewalBase::DueDate]
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or(UnknownRenewalBase)
    }
}

/// Not `renewal_date` or `due_date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("renewal_base is renewal_date or due_date")]
pub struct UnknownRenewalBase;

/// The rules stored at one scope; `None` = not set here (inherited from a wider scope).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSet {
    /// `loan_days`: days from the loan date to the due date.
    pub loan_days: Option<u32>,
    /// `renewals_allowed`: renewals in a row.
    pub renewals_allowed: Option<u32>,
    /// `renewal_base`.
    pub renewal_base: Option<RenewalBase>,
    /// `renew_before_days`: renewal allowed from (due date − N); absent = any time.
    pub renew_before_days: Option<u32>,
    /// `quota`: items on loan at once.
    pub quota: Option<u32>,
    /// `holds_allowed`: active (queued or waiting) holds per reader.
    pub holds_allowed: Option<u32>,
    /// `pickup_days`: open days of the pickup library a waiting hold stays on the shelf.
    pub pickup_days: Option<u32>,
    /// `fine_per_day_cents`.
    pub fine_per_day: Option<Money>,
    /// `grace_days`.
    pub grace_days: Option<u32>,
    /// `max_fine_cents`: cap per item; absent = no cap.
    pub max_fine: Option<Money>,
    /// `block_threshold_cents`: outstanding charges at or over this block borrowing,
    /// renewal and holds; absent = never blocks.
    pub block_threshold: Option<Money>,
    /// `suspension_days_per_day`: reader suspension days per late day (0 = off).
    pub suspension_days_per_day: Option<u32>,
    /// `max_suspension_days`: absent = no cap.
    pub max_suspension_days: Option<u32>,
    /// `count_closed_days`: whether days the lending library is closed are charged.
    pub count_closed_days: Option<bool>,
    /// `hold_fee_cents`: charged when a waiting hold is collected.
    pub hold_fee: Option<Money>,
    /// `replacement_cost_cents`: what an item declared lost costs when neither the item
    /// nor its title records its own replacement cost.
    pub replacement_cost: Option<Money>,
    /// `floating`: a copy returned away from its home library stays there (no transit
    /// home).
    pub floating: Option<bool>,
}

impl RuleSet {
    /// Fills every rule not set in `self` from `wider`.
    fn inherit(self, wider: &RuleSet) -> RuleSet {
        RuleSet {
            loan_days: self.loan_days.or(wider.loan_days),
            renewals_allowed: self.renewals_allowed.or(wider.renewals_allowed),
            renewal_base: self.renewal_base.or(wider.renewal_base),
            renew_before_days: self.renew_before_days.or(wider.renew_before_days),
            quota: self.quota.or(wider.quota),
            holds_allowed: self.holds_allowed.or(wider.holds_allowed),
            pickup_days: self.pickup_days.or(wider.pickup_days),
            fine_per_day: self.fine_per_day.or(wider.fine_per_day),
            grace_days: self.grace_days.or(wider.grace_days),
            max_fine: self.max_fine.or(wider.max_fine),
            block_threshold: self.block_threshold.or(wider.block_threshold),
            suspension_days_per_day: self
                .suspension_days_per_day
                .or(wider.suspension_days_per_day),
            max_suspension_days: self.max_suspension_days.or(wider.max_suspension_days),
            count_closed_days: self.count_closed_days.or(wider.count_closed_days),
            hold_fee: self.hold_fee.or(wider.hold_fee),
            replacement_cost: self.replacement_cost.or(wider.replacement_cost),
            floating: self.floating.or(wider.floating),
        }
    }
}

/// A partial rule set stored at a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedRules {
    /// Where the rules apply.
    pub scope: RuleScope,
    /// The rules set there.
    pub rules: RuleSet,
}

/// The rules in force for one (library, category, item type), every rule decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveRules {
    /// Days from the loan date to the due date.
    pub loan_days: u32,
    /// Renewals allowed in a row.
    pub renewals_allowed: u32,
    /// Where a renewal's period counts from.
    pub renewal_base: RenewalBase,
    /// Renewal allowed from (due date − N); `None` = any time.
    pub renew_before_days: Option<u32>,
    /// Items on loan at once; `None` when no stored scope sets `quota` for this (library,
    /// category, item type): no policy applies, and a checkout is refused `no_policy`
    /// rather than `quota_reached` (a misconfiguration is not a quota).
    pub quota: Option<u32>,
    /// Active holds per reader.
    pub holds_allowed: u32,
    /// Open days a waiting hold stays on the shelf.
    pub pickup_days: u32,
    /// Fine per chargeable day.
    pub fine_per_day: Money,
    /// Grace days (deducted from chargeable days).
    pub grace_days: u32,
    /// Fine cap per item; `None` = no cap.
    pub max_fine: Option<Money>,
    /// Outstanding charges at or over this block service; `None` = never.
    pub block_threshold: Option<Money>,
    /// Reader suspension days per late day (0 = no suspension).
    pub suspension_days_per_day: u32,
    /// Longest reader suspension; `None` = no cap.
    pub max_suspension_days: Option<u32>,
    /// Whether closed days of the lending library are charged.
    pub count_closed_days: bool,
    /// Fee charged when a waiting hold is collected.
    pub hold_fee: Money,
    /// The replacement cost of an item declared lost, when the item and its title
    /// record none.
    pub replacement_cost: Money,
    /// Copies returned away from their home library stay there.
    pub floating: bool,
}

impl EffectiveRules {
    /// What applies when no scope sets a rule at all. A misconfigured system lends nothing
    /// rather than lending without limits: a missing `quota` has no fallback (the checkout
    /// is refused `no_policy`), and, like Koha, where a missing `reservesallowed` means 0,
    /// renewals and holds fall back to 0. The loan period falls back to the statutory 14
    /// days (Libraries Regulation s19), the pickup period to 7 open days, fines and fees
    /// to 0, `count_closed_days` to its documented default `true`, and `floating` to
    /// `false` (copies go home).
    pub const FALLBACK: RuleSet = RuleSet {
        loan_days: Some(14),
        renewals_allowed: Some(0),
        renewal_base: Some(RenewalBase::RenewalDate),
        renew_before_days: None,
        quota: None,
        holds_allowed: Some(0),
        pickup_days: Some(7),
        fine_per_day: Some(Money::ZERO),
        grace_days: Some(0),
        max_fine: None,
        block_threshold: None,
        suspension_days_per_day: Some(0),
        max_suspension_days: None,
        count_closed_days: Some(true),
        hold_fee: Some(Money::ZERO),
        replacement_cost: Some(Money::ZERO),
        floating: Some(false),
    };

    /// Resolves every rule for (library, category, item type) over the stored scopes.
    /// Pass `item_type: None` for hold rules.
    pub fn resolve(
        stored: &[ScopedRules],
        library: Option<&LibraryCode>,
        category: Option<&ReaderCategory>,
        item_type: Option<&ItemType>,
    ) -> Self {
        let mut matching: Vec<&ScopedRules> = stored
            .iter()
            .filter(|s| s.scope.matches(library, category, item_type))
            .collect();
        // Stable sort: among equal scopes (which a store should not hold) the first wins.
        matching.sort_by_key(|s| std::cmp::Reverse(s.scope.specificity()));
        let merged = matching
            .iter()
            .fold(RuleSet::default(), |acc, s| acc.inherit(&s.rules))
            .inherit(&Self::FALLBACK);
        // After inheriting from FALLBACK every rule that has a fallback is set; the
        // `unwrap_or` values below repeat FALLBACK and are never used. `quota`,
        // `renew_before_days`, `max_fine`, `block_threshold` and `max_suspension_days`
        // have none: absent means what their fields say.
        EffectiveRules {
            loan_days: merged.loan_days.unwrap_or(14),
            renewals_allowed: merged.renewals_allowed.unwrap_or(0),
            renewal_base: merged.renewal_base.unwrap_or(RenewalBase::RenewalDate),
            renew_before_days: merged.renew_before_days,
            quota: merged.quota,
            holds_allowed: merged.holds_allowed.unwrap_or(0),
            pickup_days: merged.pickup_days.unwrap_or(7),
            fine_per_day: merged.fine_per_day.unwrap_or(Money::ZERO),
            grace_days: merged.grace_days.unwrap_or(0),
            max_fine: merged.max_fine,
            block_threshold: merged.block_threshold,
            suspension_days_per_day: merged.suspension_days_per_day.unwrap_or(0),
            max_suspension_days: merged.max_suspension_days,
            count_closed_days: merged.count_closed_days.unwrap_or(true),
            hold_fee: merged.hold_fee.unwrap_or(Money::ZERO),
            replacement_cost: merged.replacement_cost.unwrap_or(Money::ZERO),
            floating: merged.floating.unwrap_or(false),
        }
    }

    /// The fine rules for library-fines. Grace is deducted (Koha `firstremind`):
    /// the `chargeable_days` of docs/http.md are "what is left after ... grace".
    pub fn fine_policy(&self) -> FinePolicy {
        FinePolicy {
            fine_per_day: self.fine_per_day,
            grace_days: self.grace_days,
            grace_mode: GraceMode::Deducted,
            max_fine: self.max_fine,
            count_closed_days: self.count_closed_days,
        }
    }

    /// The reader-suspension rules for library-fines. The same grace as fines; there is no
    /// rule for cumulative suspensions, so they overlap (the later end is kept).
    pub fn suspension_policy(&self) -> SuspensionPolicy {
        SuspensionPolicy {
            days_per_overdue_day: self.suspension_days_per_day,
            max_days: self.max_suspension_days,
            grace_days: self.grace_days,
            cumulative: false,
        }
    }

    /// `true` if `outstanding` is at or over the blocking threshold (docs/http.md,
    /// Rules: "at or over this"). A reader who owes nothing is never blocked, even with a
    /// threshold of 0 (library-fines [`fines_over_limit`]).
    pub fn blocks(&self, outstanding: Money) -> bool {
        self.block_threshold
            .is_some_and(|t| fines_over_limit(outstanding, t))
    }

    /// Renewals still allowed on `loan` under these rules.
    pub fn renewals_left(&self, loan: &Loan) -> u32 {
        self.renewals_allowed.saturating_sub(loan.renewals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib(code: &str) -> LibraryCode {
        LibraryCode::parse(code).unwrap()
    }
    fn cat(code: &str) -> ReaderCategory {
        ReaderCategory::parse(code).unwrap()
    }
    fn ty(code: &str) -> ItemType {
        ItemType::parse(code).unwrap()
    }
    fn scoped(l: Option<&str>, c: Option<&str>, t: Option<&str>, rules: RuleSet) -> ScopedRules {
        ScopedRules {
            scope: RuleScope {
                library: l.map(lib),
                category: c.map(cat),
                item_type: t.map(ty),
            },
            rules,
        }
    }

    #[test]
    fn library_beats_category_beats_item_type_per_rule() {
        let stored = vec![
            scoped(
                None,
                None,
                None,
                RuleSet {
                    loan_days: Some(14),
                    quota: Some(10),
                    renewals_allowed: Some(5),
                    ..RuleSet::default()
                },
            ),
            scoped(
                None,
                None,
                Some("adult_av"),
                RuleSet {
                    loan_days: Some(7),
                    quota: Some(3),
                    renewals_allowed: Some(1),
                    ..RuleSet::default()
                },
            ),
            scoped(
                None,
                Some("child"),
                None,
                RuleSet {
                    quota: Some(4),
                    renewals_allowed: Some(2),
                    ..RuleSet::default()
                },
            ),
            scoped(
                Some("HKCL"),
                None,
                None,
                RuleSet {
                    renewals_allowed: Some(9),
                    ..RuleSet::default()
                },
            ),
        ];
        let r = EffectiveRules::resolve(
            &stored,
            Some(&lib("HKCL")),
            Some(&cat("child")),
            Some(&ty("adult_av")),
        );
        assert_eq!(r.renewals_allowed, 9, "library-specific wins");
        assert_eq!(r.quota, Some(4), "category beats item type");
        assert_eq!(r.loan_days, 7, "item type beats any");
        // Another library, an adult reader: only the item-type and global scopes match.
        let r = EffectiveRules::resolve(
            &stored,
            Some(&lib("KLN")),
            Some(&cat("adult")),
            Some(&ty("adult_book")),
        );
        assert_eq!(
            (r.loan_days, r.quota, r.renewals_allowed),
            (14, Some(10), 5)
        );
    }

    #[test]
    fn library_and_item_type_beats_category_alone() {
        let stored = vec![
            scoped(
                None,
                Some("adult"),
                Some("adult_book"),
                RuleSet {
                    loan_days: Some(21),
                    ..RuleSet::default()
                },
            ),
            scoped(
                Some("HKCL"),
                None,
                Some("adult_book"),
                RuleSet {
                    loan_days: Some(28),
                    ..RuleSet::default()
                },
            ),
        ];
        let r = EffectiveRules::resolve(
            &stored,
            Some(&lib("HKCL")),
            Some(&cat("adult")),
            Some(&ty("adult_book")),
        );
        assert_eq!(r.loan_days, 28);
    }

    #[test]
    fn hold_rules_ignore_item_type_scopes() {
        let stored = vec![
            scoped(
                None,
                None,
                None,
                RuleSet {
                    holds_allowed: Some(10),
                    ..RuleSet::default()
                },
            ),
            scoped(
                None,
                None,
                Some("adult_book"),
                RuleSet {
                    holds_allowed: Some(1),
                    ..RuleSet::default()
                },
            ),
        ];
        let r = EffectiveRules::resolve(&stored, Some(&lib("HKCL")), Some(&cat("adult")), None);
        assert_eq!(r.holds_allowed, 10);
    }

    #[test]
    fn nothing_stored_falls_back_to_lending_nothing() {
        let r = EffectiveRules::resolve(&[], None, None, None);
        assert_eq!(r.loan_days, 14);
        // No quota at all (a checkout is refused `no_policy`); no renewals, no holds.
        assert_eq!((r.quota, r.renewals_allowed, r.holds_allowed), (None, 0, 0));
        assert!(r.count_closed_days);
        assert!(!r.floating, "copies go home unless a rule says they float");
        assert_eq!(r.max_fine, None);
        assert!(!r.blocks(Money::from_cents(i64::MAX)));
    }

    #[test]
    fn floating_is_resolved_by_library_and_item_type() {
        let stored = vec![
            scoped(
                None,
                None,
                Some("adult_book"),
                RuleSet {
                    floating: Some(true),
                    ..RuleSet::default()
                },
            ),
            scoped(
                Some("STLB"),
                None,
                Some("adult_book"),
                RuleSet {
                    floating: Some(false),
                    ..RuleSet::default()
                },
            ),
        ];
        let floats = |library: &str, item_type: &str| {
            EffectiveRules::resolve(&stored, Some(&lib(library)), None, Some(&ty(item_type)))
                .floating
        };
        assert!(floats("HKCL", "adult_book"));
        assert!(!floats("STLB", "adult_book"), "the library's own rule wins");
        assert!(
            !floats("HKCL", "adult_av"),
            "not set for the type: copies go home"
        );
    }

    #[test]
    fn renewal_base_wire_names() {
        for b in [RenewalBase::RenewalDate, RenewalBase::DueDate] {
            assert_eq!(b.as_str().parse::<RenewalBase>(), Ok(b));
        }
        assert_eq!("now".parse::<RenewalBase>(), Err(UnknownRenewalBase));
    }

    #[test]
    fn blocking_is_at_or_over_the_threshold() {
        let r = EffectiveRules {
            block_threshold: Some(Money::from_cents(10_000)),
            ..EffectiveRules::resolve(&[], None, None, None)
        };
        assert!(!r.blocks(Money::from_cents(9_999)));
        assert!(r.blocks(Money::from_cents(10_000)));
        // Owing nothing never blocks, even with a threshold of 0.
        let zero = EffectiveRules {
            block_threshold: Some(Money::ZERO),
            ..r
        };
        assert!(!zero.blocks(Money::ZERO));
        assert!(zero.blocks(Money::from_cents(1)));
    }
}
