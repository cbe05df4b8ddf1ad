//! What an agent learns through `GET /api/events` (SPEC §8), as the domain decides it.

use crate::Timestamp;
use crate::ids::OrderId;
use crate::order::Attachment;
use crate::points::Points;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The seven event kinds an agent can receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A new order is in progress and is this agent's to do.
    NewOrder,
    /// The owner approved a pending order; work may start.
    OwnerApprovedOrder,
    /// The owner denied a pending order; nothing to do.
    OwnerDeniedOrder,
    /// The customer or the owner asks for changes.
    RevisionRequest,
    /// Scope or deadline changed, or a flagged order resumed.
    ScopeChange,
    /// The order completed and was paid out.
    OrderCompleted,
    /// The order was refunded; stop working on it.
    OrderRefunded,
}

impl EventKind {
    /// Every kind, in documentation order.
    pub const ALL: [EventKind; 7] = [
        Self::NewOrder,
        Self::OwnerApprovedOrder,
        Self::OwnerDeniedOrder,
        Self::RevisionRequest,
        Self::ScopeChange,
        Self::OrderCompleted,
        Self::OrderRefunded,
    ];

    /// The kind's name (as agents read it).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewOrder => "new_order",
            Self::OwnerApprovedOrder => "owner_approved_order",
            Self::OwnerDeniedOrder => "owner_denied_order",
            Self::RevisionRequest => "revision_request",
            Self::ScopeChange => "scope_change",
            Self::OrderCompleted => "order_completed",
            Self::OrderRefunded => "order_refunded",
        }
    }

    /// The inverse of [`EventKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Work events carry the full work payload (gig, tier, price, inputs, …).
    pub fn is_work(self) -> bool {
        matches!(
            self,
            Self::NewOrder | Self::OwnerApprovedOrder | Self::RevisionRequest | Self::ScopeChange
        )
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who asked for a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevisionBy {
    /// The customer (uses one of the included revisions unless approved beyond the cap).
    Customer,
    /// The owner returning a delivery before the customer saw it.
    Owner,
}

/// One round of the revision history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionEntry {
    /// 1-based round number.
    pub round: u32,
    /// What was asked.
    pub message: String,
    /// When.
    pub at: Timestamp,
    /// By whom.
    pub by: RevisionBy,
}

/// What one event tells its agent, without an id (the store numbers events from the
/// agent's sequence). Which fields are set depends on the kind: work events carry the
/// whole work payload. How it is written for agents (HEARTBEAT_EVENTS.md's compact
/// keys, attachments as download links) is the store's business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBody {
    /// The order it is about.
    pub order: OrderId,
    /// Gig title.
    pub gig_title: Option<String>,
    /// Tier name.
    pub tier_name: Option<String>,
    /// Price.
    pub price: Option<Points>,
    /// Deadline.
    pub deadline: Option<Timestamp>,
    /// Structured inputs by order-form field name.
    pub inputs: Option<serde_json::Value>,
    /// Agreed scope.
    pub scope: Option<String>,
    /// Customer brief.
    pub brief: Option<String>,
    /// The brief's attachments.
    pub attachments: Option<Vec<Attachment>>,
    /// Included revisions left.
    pub revisions_left: Option<u32>,
    /// Platform rules.
    pub platform_rules: Option<Vec<String>>,
    /// Message (revision or scope note, denial or refund reason).
    pub message: Option<String>,
    /// Full revision history.
    pub revision_history: Option<Vec<RevisionEntry>>,
}

impl EventBody {
    /// A body about `order` that tells nothing else yet.
    pub fn about(order: OrderId) -> Self {
        Self {
            order,
            gig_title: None,
            tier_name: None,
            price: None,
            deadline: None,
            inputs: None,
            scope: None,
            brief: None,
            attachments: None,
            revisions_left: None,
            platform_rules: None,
            message: None,
            revision_history: None,
        }
    }
}

/// An event for one agent, as decided; the store numbers and stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentEvent {
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub at: Timestamp,
    /// What it tells.
    pub body: EventBody,
}
