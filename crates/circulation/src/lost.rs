//! Lost items (docs/circulation.md, Lost and found): what a loan declared lost costs, and
//! what a lost item found and returned gives back.
//!
//! - **Declared lost** (staff at the counter, or the reader): the overdue fine to that day
//!   is fixed, and two more charges are added, each its own line: the item's replacement
//!   cost, and a processing fee of 20 % of it (the library's rule: "replacement cost +
//!   20 % + the overdue fine"). The replacement cost is the item's own, else its title's,
//!   else the `replacement_cost_cents` rule for (lending library, category, item type).
//!   The loan ends then (the item leaves the reader's quota, the fine stops accruing, as
//!   Koha's `MarkLostItemsAsReturned`), and the item is `lost`.
//! - **Found and returned**: the replacement and processing lines are written off as far
//!   as they are unpaid; what the reader had already paid on them is owed back to the
//!   reader (reported, and audited, for the counter to refund). The overdue fine stays.
//!   The copy goes back on the shelf, or to the first reader waiting for its title.

use library_core::Money;

/// The processing fee, in per cent of the replacement cost.
pub const PROCESSING_PERCENT: i64 = 20;

/// The charges of an item declared lost with `replacement` as its replacement cost:
/// (replacement, processing), the processing fee rounded half up to a cent.
pub fn lost_item_charges(replacement: Money) -> (Money, Money) {
    let cents = replacement.cents().max(0);
    let processing = (cents * PROCESSING_PERCENT + 50) / 100;
    (Money::from_cents(cents), Money::from_cents(processing))
}

/// What a found item gives back on one of its lost-item charges of `amount`, of which
/// `paid` was paid and which is not waived: (written off, owed back to the reader).
pub fn found_refund(amount: Money, paid: Money, waived: bool) -> (Money, Money) {
    let paid = paid.max(Money::ZERO).min(amount);
    let unpaid = if waived { Money::ZERO } else { amount - paid };
    (unpaid, paid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_hk_200_item_costs_200_plus_40() {
        assert_eq!(
            lost_item_charges(Money::from_cents(20_000)),
            (Money::from_cents(20_000), Money::from_cents(4_000))
        );
        // Half a cent rounds up; nothing costs nothing.
        assert_eq!(
            lost_item_charges(Money::from_cents(1_234)).1,
            Money::from_cents(247)
        );
        assert_eq!(lost_item_charges(Money::ZERO), (Money::ZERO, Money::ZERO));
    }

    #[test]
    fn a_found_item_writes_off_what_is_unpaid_and_owes_back_what_was_paid() {
        let c = Money::from_cents;
        assert_eq!(found_refund(c(20_000), c(0), false), (c(20_000), c(0)));
        assert_eq!(
            found_refund(c(20_000), c(5_000), false),
            (c(15_000), c(5_000))
        );
        assert_eq!(found_refund(c(4_000), c(4_000), false), (c(0), c(4_000)));
        // A waived line has nothing left to write off; its paid part is still owed back.
        assert_eq!(found_refund(c(4_000), c(1_000), true), (c(0), c(1_000)));
    }

    proptest! {
        #[test]
        fn the_refund_never_exceeds_the_charge(amount in 0i64..10_000_000, paid in 0i64..10_000_000, waived: bool) {
            let (off, back) = found_refund(Money::from_cents(amount), Money::from_cents(paid), waived);
            prop_assert!(off + back <= Money::from_cents(amount));
            prop_assert!(off >= Money::ZERO && back >= Money::ZERO);
        }

        #[test]
        fn processing_is_a_fifth_of_the_replacement(cents in 0i64..100_000_000) {
            let (r, p) = lost_item_charges(Money::from_cents(cents));
            prop_assert_eq!(r.cents(), cents);
            prop_assert!((p.cents() * 5 - cents).abs() <= 3);
        }
    }
}
