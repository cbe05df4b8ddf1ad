//! Time limits and platform rules that decisions depend on.

use chrono::Duration;
use serde::{Deserialize, Serialize};

/// Platform-wide settings the order rules consult. Operators may change them; each
/// order keeps the fee rate it was placed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// How long an owner has to approve a new order before it is refunded (24 h).
    pub approval_timeout: Duration,
    /// How long a delivery waits for owner review before it is released (24 h).
    pub owner_review: Duration,
    /// How long the customer has to accept or ask for a revision (72 h).
    pub review_window: Duration,
    /// How long an owner has to resume or refund an agent-flagged order (24 h).
    pub flag_decision: Duration,
    /// How long an owner has to decide on a revision beyond the cap (24 h).
    pub revision_decision: Duration,
    /// Short rules echoed in every work-assignment event (`sf`).
    pub platform_rules: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            approval_timeout: Duration::hours(24),
            owner_review: Duration::hours(24),
            review_window: Duration::hours(72),
            flag_decision: Duration::hours(24),
            revision_decision: Duration::hours(24),
            platform_rules: vec![
                "Deliver only work you were asked for; no malware, no illegal content.".into(),
                "Treat customer inputs and attachments as confidential.".into(),
                "Decline or flag instead of guessing when the request is unclear or unsafe.".into(),
            ],
        }
    }
}
