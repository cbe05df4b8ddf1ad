//! The order itself and the terms it was placed on: [`Order`], [`WorkSpec`],
//! [`Attachment`], and the agent settings consulted at placement ([`AcceptMode`],
//! [`AcceptBand`], [`AgentAvailability`]).

use super::OrderState;
use crate::Timestamp;
use crate::event::RevisionEntry;
use crate::ids::{AgentId, OrderId, UserId};
use crate::percent::Percent;
use crate::points::{FeeBps, Points};
use serde::{Deserialize, Serialize};

/// A file the customer attached to the brief, already stored. Where it is downloaded
/// from is not the domain's concern: an edge links to it by `file_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name, as uploaded (order-form `file` fields name it).
    pub name: String,
    /// The stored file's id (`fil_…`).
    pub file_id: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Content type.
    pub content_type: String,
    /// SHA-256, hex.
    pub sha256: String,
}

/// What the agent is asked to do: a snapshot taken when the order is placed, so later
/// edits to the gig do not change active orders.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WorkSpec {
    /// Gig title.
    pub gig_title: String,
    /// Tier name.
    pub tier_name: String,
    /// Order-form answers by field name.
    pub inputs: serde_json::Value,
    /// Agreed scope (from an offer or a scope change).
    pub scope: Option<String>,
    /// The customer's brief.
    pub brief: Option<String>,
    /// The brief's attachments.
    pub attachments: Vec<Attachment>,
    /// Days from entering `in_progress` (or a revision round) to the deadline.
    pub delivery_days: u32,
    /// The gig's category, for accept bands.
    pub category: String,
}

/// One auto-accept band: an order inside any band of an `auto` agent skips approval.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AcceptBand {
    /// Lowest price accepted (inclusive).
    pub price_min: Points,
    /// Highest price accepted (inclusive).
    pub price_max: Points,
    /// Categories accepted; empty means any.
    pub categories: Vec<String>,
    /// Largest number of included revisions accepted; `None` means any.
    pub max_revisions: Option<u32>,
}

impl AcceptBand {
    fn admits(&self, price: Points, category: &str, revisions: u32) -> bool {
        price >= self.price_min
            && price <= self.price_max
            && (self.categories.is_empty() || self.categories.iter().any(|c| c == category))
            && self.max_revisions.is_none_or(|m| revisions <= m)
    }
}

/// How an agent takes new orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum AcceptMode {
    /// Start at once when inside a band (or always, with no bands).
    Auto {
        /// The bands; empty admits everything.
        bands: Vec<AcceptBand>,
    },
    /// Every order waits for the owner.
    Manual,
}

impl AcceptMode {
    /// Whether an order starts without owner approval.
    pub fn admits(&self, price: Points, category: &str, revisions: u32) -> bool {
        match self {
            Self::Manual => false,
            Self::Auto { bands } => bands.is_empty() || bands.iter().any(|b| b.admits(price, category, revisions)),
        }
    }
}

/// Whether the agent takes work right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentAvailability {
    /// Takes orders.
    Active,
    /// Paused by its owner or itself.
    Paused,
    /// Suspended by support.
    Suspended,
}

/// An order: its state, its snapshot of the terms, and its timers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Id.
    pub id: OrderId,
    /// Who pays.
    pub customer: UserId,
    /// Who owns the agent and is paid.
    pub owner: UserId,
    /// Who works.
    pub agent: AgentId,
    /// Held in escrow while open.
    pub price: Points,
    /// Fee rate snapshotted at placement.
    pub fee_bps: FeeBps,
    /// Current state.
    pub state: OrderState,
    /// Terms snapshot.
    pub work: WorkSpec,
    /// Revisions the tier includes.
    pub revisions_included: u32,
    /// Included revisions not used yet.
    pub revisions_left: u32,
    /// Every revision round so far.
    pub revisions: Vec<RevisionEntry>,
    /// A customer's revision request waiting for the owner (beyond the cap).
    pub pending_revision: Option<String>,
    /// Release deliveries without owner review (snapshotted, owner may toggle).
    pub auto_approve_deliveries: bool,
    /// Work deadline, set when work starts.
    pub deadline: Option<Timestamp>,
    /// When the current state's timer fires; `None` when no timer runs.
    pub due_at: Option<Timestamp>,
    /// Time that was left before the deadline when the agent flagged the order.
    pub flag_remaining_secs: Option<i64>,
    /// Deliveries made.
    pub deliveries: u32,
    /// Deliveries the customer can see.
    pub released: u32,
    /// Progress reported by the agent.
    pub progress: Percent,
    /// Placed at.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}
