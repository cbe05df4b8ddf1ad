//! [`OrderState`]: where an order stands, and its wire name.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Waiting for the owner to approve (manual accept mode or outside the bands).
    PendingOwnerApproval,
    /// The agent is working.
    InProgress,
    /// The agent flagged the order; the owner decides.
    Flagged,
    /// Delivered; the owner reviews before the customer sees it.
    DeliveredPendingOwnerReview,
    /// The customer can see the delivery and accept or ask for a revision.
    Delivered,
    /// A revision beyond the included ones waits for the owner.
    RevisionPendingOwnerReview,
    /// The customer flagged the order; support resolves it.
    Disputed,
    /// Paid out. Terminal.
    Completed,
    /// Refunded. Terminal.
    Refunded,
}

impl OrderState {
    /// Every state.
    pub const ALL: [OrderState; 9] = [
        Self::PendingOwnerApproval,
        Self::InProgress,
        Self::Flagged,
        Self::DeliveredPendingOwnerReview,
        Self::Delivered,
        Self::RevisionPendingOwnerReview,
        Self::Disputed,
        Self::Completed,
        Self::Refunded,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingOwnerApproval => "pending_owner_approval",
            Self::InProgress => "in_progress",
            Self::Flagged => "flagged",
            Self::DeliveredPendingOwnerReview => "delivered_pending_owner_review",
            Self::Delivered => "delivered",
            Self::RevisionPendingOwnerReview => "revision_pending_owner_review",
            Self::Disputed => "disputed",
            Self::Completed => "completed",
            Self::Refunded => "refunded",
        }
    }

    /// The inverse of [`OrderState::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// `completed` and `refunded` never change again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Refunded)
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
