//! Staff overrides: lending or renewing past a named refusal, with a reason
//! (docs/circulation.md, Overrides).
//!
//! Only four refusals can be overridden: `quota_reached`, `fines_over_limit` and
//! `on_hold_for_another` at a checkout, and `too_many_renewals`, `on_hold_for_another`
//! and `fines_over_limit` at a renewal. Never `card_expired`, `patron_suspended` (a
//! suspension or a station's block must be lifted, not stepped over), `no_policy`,
//! `item_not_available` or `too_soon`. Who may override is the application layer's
//! decision (an `admin`, or a `librarian` granted `override`).
//!
//! An override names the refusals it steps over; the operation goes ahead only when every
//! refusal that applies is named (a refusal not named still refuses, as it would without
//! the override). What was actually stepped over is returned and audited.

use crate::checkout::CheckoutRefusal;
use crate::renewal::RenewalRefusal;

/// A refusal staff may override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OverridableRefusal {
    /// The reader has reached the loan quota (checkout).
    QuotaReached,
    /// Outstanding charges are at or over the threshold (checkout, renewal).
    FinesOverLimit,
    /// Another reader waits for the copy or the title (checkout, renewal).
    OnHoldForAnother,
    /// The loan has no renewals left (renewal).
    TooManyRenewals,
}

impl OverridableRefusal {
    /// Every one, in the order they are listed.
    pub const ALL: [OverridableRefusal; 4] = [
        OverridableRefusal::QuotaReached,
        OverridableRefusal::FinesOverLimit,
        OverridableRefusal::OnHoldForAnother,
        OverridableRefusal::TooManyRenewals,
    ];

    /// The refusal's wire code.
    pub const fn code(self) -> &'static str {
        match self {
            OverridableRefusal::QuotaReached => "quota_reached",
            OverridableRefusal::FinesOverLimit => "fines_over_limit",
            OverridableRefusal::OnHoldForAnother => "on_hold_for_another",
            OverridableRefusal::TooManyRenewals => "too_many_renewals",
        }
    }

    /// From a wire code; `None` for a refusal that cannot be overridden.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The checkout refusal this is, if it is one.
    pub const fn checkout(self) -> Option<CheckoutRefusal> {
        match self {
            OverridableRefusal::QuotaReached => Some(CheckoutRefusal::QuotaReached),
            OverridableRefusal::FinesOverLimit => Some(CheckoutRefusal::FinesOverLimit),
            OverridableRefusal::OnHoldForAnother => Some(CheckoutRefusal::OnHoldForAnother),
            OverridableRefusal::TooManyRenewals => None,
        }
    }

    /// The renewal refusal this is, if it is one.
    pub const fn renewal(self) -> Option<RenewalRefusal> {
        match self {
            OverridableRefusal::QuotaReached => None,
            OverridableRefusal::FinesOverLimit => Some(RenewalRefusal::FinesOverLimit),
            OverridableRefusal::OnHoldForAnother => Some(RenewalRefusal::OnHoldForAnother),
            OverridableRefusal::TooManyRenewals => Some(RenewalRefusal::TooManyRenewals),
        }
    }
}

/// Staff's override of some refusals, with their reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The refusals staff step over.
    pub refusals: Vec<OverridableRefusal>,
    /// Why (audited; at most 500 characters, checked by the caller).
    pub reason: String,
}

impl Override {
    /// Splits the checkout refusals that apply into those this override steps over and
    /// those that still refuse, each in the documented order.
    pub fn split_checkout(
        &self,
        refusals: &[CheckoutRefusal],
    ) -> (Vec<CheckoutRefusal>, Vec<CheckoutRefusal>) {
        refusals
            .iter()
            .partition(|r| self.refusals.iter().any(|o| o.checkout() == Some(**r)))
    }

    /// As [`Self::split_checkout`], for a renewal.
    pub fn split_renewal(
        &self,
        refusals: &[RenewalRefusal],
    ) -> (Vec<RenewalRefusal>, Vec<RenewalRefusal>) {
        refusals
            .iter()
            .partition(|r| self.refusals.iter().any(|o| o.renewal() == Some(**r)))
    }
}

/// What an override stepped over, for the audit entry: the refusals' codes and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overridden {
    /// The codes of the refusals that applied and were stepped over, in the documented
    /// order.
    pub refusals: Vec<&'static str>,
    /// Staff's reason.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overriding(refusals: &[OverridableRefusal]) -> Override {
        Override {
            refusals: refusals.to_vec(),
            reason: "reason".into(),
        }
    }

    #[test]
    fn only_four_refusals_can_be_overridden() {
        for code in [
            "quota_reached",
            "fines_over_limit",
            "on_hold_for_another",
            "too_many_renewals",
        ] {
            assert_eq!(
                OverridableRefusal::parse(code).map(|r| r.code()),
                Some(code)
            );
        }
        for code in [
            "card_expired",
            "patron_suspended",
            "no_policy",
            "item_not_available",
            "too_soon",
            "",
        ] {
            assert_eq!(OverridableRefusal::parse(code), None, "{code}");
        }
    }

    #[test]
    fn a_refusal_not_named_still_refuses() {
        use CheckoutRefusal as C;
        let o = overriding(&[OverridableRefusal::QuotaReached]);
        assert_eq!(
            o.split_checkout(&[C::FinesOverLimit, C::QuotaReached]),
            (vec![C::QuotaReached], vec![C::FinesOverLimit])
        );
        // Never past an expired card, whatever is named.
        let all = overriding(&OverridableRefusal::ALL);
        assert_eq!(
            all.split_checkout(&[C::CardExpired, C::QuotaReached]),
            (vec![C::QuotaReached], vec![C::CardExpired])
        );
        use RenewalRefusal as R;
        assert_eq!(
            all.split_renewal(&[R::TooManyRenewals, R::OnHoldForAnother, R::PatronSuspended]),
            (
                vec![R::TooManyRenewals, R::OnHoldForAnother],
                vec![R::PatronSuspended]
            )
        );
        // `quota_reached` means nothing to a renewal, `too_many_renewals` to a checkout.
        let quota = overriding(&[OverridableRefusal::QuotaReached]);
        assert_eq!(
            quota.split_renewal(&[R::TooManyRenewals]),
            (vec![], vec![R::TooManyRenewals])
        );
    }
}
