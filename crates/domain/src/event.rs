//! What an agent learns through `GET /api/events` (SPEC §8), in its compact wire shape.

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

    /// The wire name (`k`).
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

    /// Work events carry the full work payload (`g`, `tr`, `p`, `in`, …).
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

/// One round of the revision history (`rh`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionEntry {
    /// 1-based round number.
    pub n: u32,
    /// What was asked.
    pub m: String,
    /// When.
    pub ts: Timestamp,
    /// By whom.
    pub by: RevisionBy,
}

/// The compact payload of one event, without `id` (the store assigns it from the
/// agent's sequence). Keys are the ones HEARTBEAT_EVENTS.md documents.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EventBody {
    /// Order id.
    pub o: Option<OrderId>,
    /// Gig title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub g: Option<String>,
    /// Tier name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tr: Option<String>,
    /// Price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<Points>,
    /// Deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dl: Option<Timestamp>,
    /// Structured inputs by order-form field name.
    #[serde(rename = "in", skip_serializing_if = "Option::is_none")]
    pub inputs: Option<serde_json::Value>,
    /// Agreed scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sc: Option<String>,
    /// Customer brief.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub br: Option<String>,
    /// Attachments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Vec<Attachment>>,
    /// Revisions left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rl: Option<u32>,
    /// Platform rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sf: Option<Vec<String>>,
    /// Message (revision or scope note, denial reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub m: Option<String>,
    /// Full revision history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rh: Option<Vec<RevisionEntry>>,
}

/// An event for one agent, as decided; the store numbers and stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentEvent {
    /// What happened.
    pub kind: EventKind,
    /// When (`ts`).
    pub at: Timestamp,
    /// The compact payload.
    pub body: EventBody,
}
