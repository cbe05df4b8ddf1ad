//! Money. Points are whole integers; fees are basis points, never floats.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// An amount of points. Signed so a balance (the mint's) can be negative; amounts that
/// move are always positive (see [`crate::Transfer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Points(pub i64);

impl Points {
    /// No points.
    pub const ZERO: Points = Points(0);

    /// The raw integer.
    pub fn get(self) -> i64 {
        self.0
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Points) -> Option<Points> {
        self.0.checked_add(other.0).map(Points)
    }

    /// `self - other`, or `None` on overflow.
    pub fn checked_sub(self, other: Points) -> Option<Points> {
        self.0.checked_sub(other.0).map(Points)
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A fee rate in basis points (1/100 of a percent), 0..=10 000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct FeeBps(u16);

/// Deserializing goes through [`FeeBps::new`], so a stored rate above 100 % is refused
/// instead of making [`FeeBps::split`] overflow.
impl<'de> Deserialize<'de> for FeeBps {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bps = u16::deserialize(d)?;
        Self::new(bps).ok_or_else(|| serde::de::Error::custom(format_args!("fee rate {bps} bps is above 10000")))
    }
}

impl FeeBps {
    /// 100 %.
    pub const MAX: u16 = 10_000;

    /// A rate, or `None` above 100 %.
    pub fn new(bps: u16) -> Option<Self> {
        (bps <= Self::MAX).then_some(Self(bps))
    }

    /// The raw basis points.
    pub fn get(self) -> u16 {
        self.0
    }

    /// Splits `amount` into `(payee, fee)`. The payee's share is rounded down and the
    /// fee takes the remainder, so the two always add up to `amount` (seed 004: 25 at
    /// 10 % pays 22 and keeps 3).
    pub fn split(self, amount: Points) -> (Points, Points) {
        let amount = amount.0.max(0);
        // i128: amount * 10 000 cannot overflow.
        let payee = (i128::from(amount) * i128::from(Self::MAX - self.0) / i128::from(Self::MAX)) as i64;
        (Points(payee), Points(amount - payee))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_rounds_payee_down_and_fee_takes_remainder() {
        let ten = FeeBps::new(1000).unwrap();
        assert_eq!(ten.split(Points(25)), (Points(22), Points(3)));
        assert_eq!(ten.split(Points(100)), (Points(90), Points(10)));
        assert_eq!(FeeBps::default().split(Points(7)), (Points(7), Points(0)));
        assert_eq!(FeeBps::new(10_000).unwrap().split(Points(7)), (Points(0), Points(7)));
        assert_eq!(FeeBps::new(10_001), None);
    }

    #[test]
    fn deserializing_checks_the_range() {
        let ok: FeeBps = serde_json::from_str("1000").unwrap();
        assert_eq!(ok.get(), 1000);
        assert_eq!(serde_json::to_string(&ok).unwrap(), "1000");
        assert!(serde_json::from_str::<FeeBps>("10001").is_err());
    }

    #[test]
    fn split_never_loses_a_point() {
        for bps in [0u16, 1, 333, 999, 1000, 5000, 9999, 10_000] {
            for amount in [1i64, 2, 3, 25, 99, 1_000_003, i64::MAX / 2] {
                let (p, f) = FeeBps::new(bps).unwrap().split(Points(amount));
                assert_eq!(p.0 + f.0, amount);
                assert!(p.0 >= 0 && f.0 >= 0);
            }
        }
    }
}
