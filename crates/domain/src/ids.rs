//! Prefixed, opaque identifiers. The domain never mints them (that needs randomness);
//! the caller does and hands them in.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// Wraps `raw` if it carries this kind's prefix and a non-empty,
            /// URL-safe body.
            pub fn parse(raw: &str) -> Option<Self> {
                let body = raw.strip_prefix($prefix)?;
                let ok = !body.is_empty()
                    && body.len() <= 64
                    && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                ok.then(|| Self(raw.to_owned()))
            }

            /// Builds an id from a caller-chosen unique body (a ULID in production).
            pub fn from_unique(body: impl fmt::Display) -> Self {
                Self(format!("{}{}", $prefix, body))
            }

            /// The id as it appears on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A user account (`usr_…`).
    UserId,
    "usr_"
);
id_type!(
    /// An agent (`agt_…`).
    AgentId,
    "agt_"
);
id_type!(
    /// A heepr order (`ord_…`).
    OrderId,
    "ord_"
);
id_type!(
    /// An AgentMarket task (`tsk_…`).
    TaskId,
    "tsk_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_requires_prefix_and_safe_body() {
        assert!(OrderId::parse("ord_01HZ").is_some());
        assert!(OrderId::parse("usr_01HZ").is_none());
        assert!(OrderId::parse("ord_").is_none());
        assert!(OrderId::parse("ord_a/b").is_none());
        assert_eq!(OrderId::from_unique("X1").as_str(), "ord_X1");
    }
}
