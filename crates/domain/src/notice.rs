//! What people are told (seeds 000–001: customers and owners hear what happens to
//! their orders and agents), and which of it they may switch off.
//!
//! A notice is decided with the change that causes it and written in the same
//! transaction; the in-app list shows it, and a sender turns it into an email unless
//! the recipient switched its kind off. Notices about money and about the account's
//! standing are essential: they are always emailed.

use crate::Timestamp;
use crate::ids::{OrderId, UserId};
use crate::points::Points;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Who a notification is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", content = "user", rename_all = "snake_case")]
pub enum Recipient {
    /// The order's customer.
    Customer(UserId),
    /// The agent's owner.
    Owner(UserId),
    /// The support queue.
    Support,
}

/// Why someone is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A new order waits for the owner's approval.
    OrderNeedsApproval,
    /// The owner approved the customer's order.
    OrderApproved,
    /// A delivery waits for the owner's review (released automatically at a time).
    DeliveryNeedsReview,
    /// A delivery is visible to the customer.
    DeliveryReleased,
    /// The agent flagged the order.
    OrderFlagged,
    /// A revision beyond the cap waits for the owner.
    RevisionNeedsApproval,
    /// The owner answered a revision beyond the cap (or let it lapse).
    RevisionAnswered,
    /// The customer disputed the order.
    OrderDisputed,
    /// Support resolved a dispute.
    DisputeResolved,
    /// The order was refunded.
    OrderRefunded,
    /// The order completed.
    OrderCompleted,
    /// Someone wrote in a thread of the recipient's.
    NewMessage,
    /// A customer asks the owner for a human.
    HumanRequested,
    /// Support suspended the owner's agent.
    AgentSuspended,
    /// Support lifted the suspension.
    AgentReinstated,
    /// Support closed the owner's reinstatement request without reinstating.
    ReinstatementDeclined,
}

impl NotificationKind {
    /// Every kind, in a stable order (preferences list them so).
    pub const ALL: [NotificationKind; 16] = [
        Self::OrderNeedsApproval,
        Self::OrderApproved,
        Self::DeliveryNeedsReview,
        Self::DeliveryReleased,
        Self::OrderFlagged,
        Self::RevisionNeedsApproval,
        Self::RevisionAnswered,
        Self::OrderDisputed,
        Self::DisputeResolved,
        Self::OrderRefunded,
        Self::OrderCompleted,
        Self::NewMessage,
        Self::HumanRequested,
        Self::AgentSuspended,
        Self::AgentReinstated,
        Self::ReinstatementDeclined,
    ];

    /// The stable name (API, storage).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderNeedsApproval => "order_needs_approval",
            Self::OrderApproved => "order_approved",
            Self::DeliveryNeedsReview => "delivery_needs_review",
            Self::DeliveryReleased => "delivery_released",
            Self::OrderFlagged => "order_flagged",
            Self::RevisionNeedsApproval => "revision_needs_approval",
            Self::RevisionAnswered => "revision_answered",
            Self::OrderDisputed => "order_disputed",
            Self::DisputeResolved => "dispute_resolved",
            Self::OrderRefunded => "order_refunded",
            Self::OrderCompleted => "order_completed",
            Self::NewMessage => "new_message",
            Self::HumanRequested => "human_requested",
            Self::AgentSuspended => "agent_suspended",
            Self::AgentReinstated => "agent_reinstated",
            Self::ReinstatementDeclined => "reinstatement_declined",
        }
    }

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Money and the account's standing: always emailed, whatever the preferences.
    pub fn is_essential(self) -> bool {
        matches!(
            self,
            Self::OrderRefunded
                | Self::OrderCompleted
                | Self::DisputeResolved
                | Self::AgentSuspended
                | Self::AgentReinstated
                | Self::ReinstatementDeclined
        )
    }
}

/// Why an order was refunded, as the customer is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    /// The owner denied the order.
    Denied,
    /// The owner did not decide within the approval window.
    NotApprovedInTime,
    /// The agent declined the order.
    Declined,
    /// The agent missed the deadline without a delivery.
    MissedDeadline,
    /// The owner or support refunded a flagged order.
    Flagged,
    /// A flag was not resolved in time.
    FlagExpired,
    /// The customer cancelled before approval.
    Cancelled,
    /// Support suspended the agent before it delivered.
    AgentSuspended,
}

/// The facts a notice carries beyond its kind (rendered into the email and the
/// in-app text).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Detail {
    /// Nothing more.
    #[default]
    None,
    /// Why the order was refunded.
    Refund {
        /// The reason.
        reason: RefundReason,
    },
    /// When a delivery is released if the owner does nothing.
    ReleaseAt {
        /// The instant.
        at: Timestamp,
    },
    /// The owner's answer on a revision beyond the cap.
    Revision {
        /// Granted (the agent works on it again) or not.
        granted: bool,
    },
    /// How support split the escrow.
    Resolution {
        /// Points back to the customer.
        refunded: Points,
        /// The order's price.
        price: Points,
    },
    /// Words from a person or the agent (a flag's reason, a dispute's, support's).
    Note {
        /// The text, as written (escaped where rendered).
        text: String,
    },
}

/// Someone to tell about an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Who.
    pub to: Recipient,
    /// Why.
    pub kind: NotificationKind,
    /// Which order.
    pub order: OrderId,
    /// What else to say.
    pub detail: Detail,
}

/// The kinds a user switched off for email. Essential kinds cannot be among them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmailPreferences {
    off: BTreeSet<NotificationKind>,
}

/// A preference change that is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreferenceError {
    /// Essential notices are always emailed.
    #[error("{0} notices are essential (money or account standing) and are always emailed")]
    Essential(&'static str),
}

impl EmailPreferences {
    /// The preferences with `off` switched off (as stored; essential kinds ignored).
    pub fn from_off(off: impl IntoIterator<Item = NotificationKind>) -> Self {
        Self {
            off: off.into_iter().filter(|k| !k.is_essential()).collect(),
        }
    }

    /// Whether a notice of `kind` is emailed.
    pub fn emails(&self, kind: NotificationKind) -> bool {
        kind.is_essential() || !self.off.contains(&kind)
    }

    /// Switches `kind` on or off for email; essential kinds cannot be switched off.
    pub fn set(&mut self, kind: NotificationKind, on: bool) -> Result<(), PreferenceError> {
        if on {
            self.off.remove(&kind);
        } else if kind.is_essential() {
            return Err(PreferenceError::Essential(kind.as_str()));
        } else {
            self.off.insert(kind);
        }
        Ok(())
    }

    /// The kinds switched off.
    pub fn off(&self) -> impl Iterator<Item = NotificationKind> + '_ {
        self.off.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for k in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(NotificationKind::parse("nope"), None);
    }

    #[test]
    fn essential_kinds_cannot_be_switched_off() {
        let mut p = EmailPreferences::default();
        assert_eq!(
            p.set(NotificationKind::OrderRefunded, false),
            Err(PreferenceError::Essential("order_refunded"))
        );
        assert!(p.emails(NotificationKind::OrderRefunded));
        p.set(NotificationKind::NewMessage, false).unwrap();
        assert!(!p.emails(NotificationKind::NewMessage));
        p.set(NotificationKind::NewMessage, true).unwrap();
        assert!(p.emails(NotificationKind::NewMessage));
        // Stored essential rows (from an older rule) never stop an email.
        let p = EmailPreferences::from_off([NotificationKind::AgentSuspended]);
        assert!(p.emails(NotificationKind::AgentSuspended));
    }
}
