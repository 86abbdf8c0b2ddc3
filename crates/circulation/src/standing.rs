//! A reader's standing: which of the reader-level refusals of the checkout, renewal and
//! hold decisions apply today, before any item or loan is named (what a self-service
//! station shows as the reader's privileges).

use library_core::Money;
use time::Date;

use crate::model::Patron;
use crate::rules::EffectiveRules;

/// The reader-level facts the decisions share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderStanding {
    /// The card is no longer valid (`card_expired`).
    pub card_expired: bool,
    /// Suspended or blocked (`patron_suspended`).
    pub suspended: bool,
    /// Outstanding at or over the blocking threshold (`fines_over_limit`).
    pub fines_over_limit: bool,
    /// As many items on loan as the quota allows (`quota_reached` for a checkout). `false`
    /// when no rule at this level sets a quota: the checkout decides that per item
    /// (`no_policy`), since an item-type scope may still set one.
    pub quota_reached: bool,
    /// As many active holds as allowed (`quota_reached` for a hold).
    pub holds_full: bool,
}

impl ReaderStanding {
    /// The standing of `patron` on `today` under `rules` (resolved for the library and the
    /// reader's category), owing `outstanding`, with `loans_out` items on loan and
    /// `active_holds` queued or waiting holds.
    pub fn assess(
        patron: &Patron,
        rules: &EffectiveRules,
        outstanding: Money,
        loans_out: usize,
        active_holds: usize,
        today: Date,
    ) -> Self {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Self {
            card_expired: patron.card_expired(today),
            suspended: patron.is_suspended(today),
            fines_over_limit: rules.blocks(outstanding),
            quota_reached: rules.quota.is_some_and(|quota| count(loans_out) >= quota),
            holds_full: count(active_holds) >= rules.holds_allowed,
        }
    }

    /// No reader-level refusal of a checkout applies.
    pub fn may_borrow(&self) -> bool {
        !(self.card_expired || self.suspended || self.fines_over_limit || self.quota_reached)
    }

    /// No reader-level refusal of a renewal applies.
    pub fn may_renew(&self) -> bool {
        !(self.card_expired || self.suspended || self.fines_over_limit)
    }

    /// No reader-level refusal of a hold applies.
    pub fn may_reserve(&self) -> bool {
        !(self.suspended || self.fines_over_limit || self.holds_full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::ReaderCategory;
    use crate::profile::hkpl_profile;
    use library_core::{CardNumber, LibraryCode, PatronId};
    use time::macros::date;

    fn reader() -> Patron {
        Patron {
            id: PatronId(1),
            card_number: CardNumber::parse("21000012345678").unwrap(),
            category: ReaderCategory::parse("adult").unwrap(),
            home_library: LibraryCode::parse("HKCL").unwrap(),
            card_expires_on: date!(2021 - 03 - 05),
            suspended_until: None,
            blocked: false,
        }
    }

    fn rules() -> EffectiveRules {
        let category = ReaderCategory::parse("adult").unwrap();
        EffectiveRules::resolve(&hkpl_profile(), None, Some(&category), None)
    }

    #[test]
    fn each_fact_denies_what_the_decisions_refuse_for_it() {
        let today = date!(2021 - 03 - 05);
        let rules = rules();
        let clear = ReaderStanding::assess(&reader(), &rules, Money::ZERO, 9, 9, today);
        assert!(clear.may_borrow() && clear.may_renew() && clear.may_reserve());

        // The day after the last valid day: no loans or renewals; holds stay allowed.
        let expired =
            ReaderStanding::assess(&reader(), &rules, Money::ZERO, 0, 0, date!(2021 - 03 - 06));
        assert!(!expired.may_borrow() && !expired.may_renew() && expired.may_reserve());

        // HK$100 outstanding is the hkpl ceiling: everything is refused.
        let owing =
            ReaderStanding::assess(&reader(), &rules, Money::from_cents(10_000), 0, 0, today);
        assert!(owing.fines_over_limit);
        assert!(!owing.may_borrow() && !owing.may_renew() && !owing.may_reserve());

        // 10 loans and 10 holds are the quotas.
        let full = ReaderStanding::assess(&reader(), &rules, Money::ZERO, 10, 10, today);
        assert!(!full.may_borrow() && full.may_renew() && !full.may_reserve());

        let blocked = Patron {
            blocked: true,
            ..reader()
        };
        let blocked = ReaderStanding::assess(&blocked, &rules, Money::ZERO, 0, 0, today);
        assert!(!blocked.may_borrow() && !blocked.may_renew() && !blocked.may_reserve());

        // No quota set at this level: no quota is "reached" (the checkout answers
        // `no_policy` per item).
        let no_quota = EffectiveRules {
            quota: None,
            ..rules
        };
        let unset = ReaderStanding::assess(&reader(), &no_quota, Money::ZERO, 10, 0, today);
        assert!(!unset.quota_reached && unset.may_borrow());
    }
}
