//! Money as an integer number of minor units (HK cents). Never floating point: HK$1.50 is
//! `Money::from_cents(150)`. Arithmetic saturates rather than wrapping, so no input can
//! overflow into a negative fine.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// An amount in minor units (cents). May be negative (a credit or a refund).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    /// Nothing.
    pub const ZERO: Money = Money(0);

    /// An amount of `cents` minor units.
    pub const fn from_cents(cents: i64) -> Self {
        Money(cents)
    }

    /// The amount in minor units.
    pub const fn cents(self) -> i64 {
        self.0
    }

    /// `self × n`, saturating at the bounds of `i64`.
    pub const fn times(self, n: i64) -> Self {
        Money(self.0.saturating_mul(n))
    }

    /// The smaller of `self` and `cap`.
    pub fn capped_at(self, cap: Money) -> Self {
        self.min(cap)
    }

    /// `true` for a positive amount.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// `true` for zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        *self = *self + rhs;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0.saturating_sub(rhs.0))
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        *self = *self - rhs;
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(self.0.saturating_neg())
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

/// `HK$1.50`, `-HK$0.05`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}HK${}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn displays_dollars_and_cents() {
        assert_eq!(Money::from_cents(150).to_string(), "HK$1.50");
        assert_eq!(Money::from_cents(5).to_string(), "HK$0.05");
        assert_eq!(Money::ZERO.to_string(), "HK$0.00");
        assert_eq!(Money::from_cents(-330).to_string(), "-HK$3.30");
        assert_eq!(
            Money::from_cents(i64::MIN).to_string(),
            "-HK$92233720368547758.08"
        );
    }

    #[test]
    fn arithmetic() {
        let rate = Money::from_cents(150);
        assert_eq!(rate.times(6), Money::from_cents(900));
        assert_eq!(rate.times(0), Money::ZERO);
        assert_eq!(
            rate + Money::from_cents(50) - Money::from_cents(200),
            Money::ZERO
        );
        assert_eq!(
            rate.capped_at(Money::from_cents(100)),
            Money::from_cents(100)
        );
        let total: Money = [150, 50, 330].into_iter().map(Money::from_cents).sum();
        assert_eq!(total, Money::from_cents(530));
    }

    #[test]
    fn saturates_instead_of_wrapping() {
        assert_eq!(
            Money::from_cents(i64::MAX).times(2),
            Money::from_cents(i64::MAX)
        );
        assert_eq!(
            Money::from_cents(i64::MAX) + Money::from_cents(1),
            Money::from_cents(i64::MAX)
        );
        assert_eq!(-Money::from_cents(i64::MIN), Money::from_cents(i64::MAX));
    }

    proptest! {
        #[test]
        fn times_is_monotone_for_non_negative_rates(rate in 0i64..1_000_000, a in 0i64..100_000, b in 0i64..100_000) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(Money::from_cents(rate).times(lo) <= Money::from_cents(rate).times(hi));
        }
    }
}
