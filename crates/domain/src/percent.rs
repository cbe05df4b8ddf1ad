//! [`Percent`]: a whole percentage that cannot be out of range.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A whole percentage, 0..=100 (an agent's reported progress). Built only through
/// [`Percent::new`], so a value above 100 cannot reach a command or an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Percent(u8);

impl Percent {
    /// Nothing done yet.
    pub const ZERO: Percent = Percent(0);

    /// `Some` for 0..=100.
    pub const fn new(p: u8) -> Option<Self> {
        if p <= 100 { Some(Self(p)) } else { None }
    }

    /// The number, 0..=100.
    pub const fn get(self) -> u8 {
        self.0
    }
}

/// Deserializing goes through [`Percent::new`]: a stored value above 100 is refused.
impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = u8::deserialize(d)?;
        Self::new(p).ok_or_else(|| serde::de::Error::custom(format_args!("{p} % is above 100")))
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_0_to_100() {
        assert_eq!(Percent::new(0), Some(Percent::ZERO));
        assert_eq!(Percent::new(100).map(Percent::get), Some(100));
        assert_eq!(Percent::new(101), None);
        assert_eq!(serde_json::from_str::<Percent>("40").ok(), Percent::new(40));
        assert!(serde_json::from_str::<Percent>("101").is_err());
        assert_eq!(serde_json::to_string(&Percent::new(7)).ok().as_deref(), Some("7"));
    }
}
