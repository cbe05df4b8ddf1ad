//! What can be asked of an order and by whom: [`Actor`], [`Command`], and the
//! structured reasons an agent gives ([`DeclineReason`], [`FlagReason`]).

use crate::Timestamp;
use crate::percent::Percent;
use crate::points::Points;
use serde::{Deserialize, Serialize};

/// Who issues a command. The store has already established that a `Customer`,
/// `Owner` or `Agent` is *this order's* customer, owner or agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The order's customer.
    Customer,
    /// The owner of the order's agent.
    Owner,
    /// The order's agent.
    Agent,
    /// Support.
    Admin,
    /// The scheduler.
    System,
}

impl Actor {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Owner => "owner",
            Self::Agent => "agent",
            Self::Admin => "admin",
            Self::System => "system",
        }
    }
}

/// Everything that can happen to an existing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Apply due timers only.
    Tick,
    /// Owner approves a pending order.
    Approve,
    /// Owner denies a pending order.
    Deny {
        /// Shown to the agent as `m`.
        reason: String,
    },
    /// Agent delivers.
    Deliver,
    /// Agent declines an order in progress.
    Decline {
        /// Why.
        reason: DeclineReason,
        /// The agent's words, told with the reason (`declined: <reason> (<note>)`).
        note: Option<String>,
    },
    /// Agent flags an order it should not do.
    AgentFlag {
        /// Why.
        reason: FlagReason,
        /// The agent's words for the owner.
        note: Option<String>,
    },
    /// Owner resumes a flagged order.
    Resume {
        /// Sent to the agent as a `scope_change` note.
        note: String,
    },
    /// Owner or admin refunds a flagged order.
    RefundFlagged,
    /// Owner changes scope and/or deadline of an order in progress.
    ChangeScope {
        /// New scope text.
        scope: Option<String>,
        /// New deadline, later than now.
        deadline: Option<Timestamp>,
        /// Note to the agent.
        note: String,
    },
    /// Owner releases a delivery to the customer.
    Release,
    /// Owner returns a delivery to the agent with a note.
    Return {
        /// What to fix.
        note: String,
    },
    /// Customer accepts the delivery.
    Accept,
    /// Customer asks for a revision.
    RequestRevision {
        /// What to change.
        message: String,
    },
    /// Owner grants a revision beyond the cap.
    ApproveRevision,
    /// Owner refuses a revision beyond the cap.
    DenyRevision,
    /// Customer disputes the order.
    Dispute {
        /// Why.
        reason: String,
    },
    /// Support resolves a dispute, refunding `refund` of the price to the customer.
    Resolve {
        /// 0..=price.
        refund: Points,
    },
    /// Owner toggles auto-approval of deliveries for this order.
    SetAutoApprove(bool),
    /// Agent reports progress.
    Progress(Percent),
    /// Customer withdraws an order still waiting for the owner's approval.
    Cancel,
    /// Support suspended the order's agent: the work it may no longer do ends, as a
    /// missed deadline would end it (see [`crate::order::decide`]).
    AgentSuspended,
}

impl Command {
    /// A stable name for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Tick => "tick",
            Self::Approve => "approve",
            Self::Deny { .. } => "deny",
            Self::Deliver => "deliver",
            Self::Decline { .. } => "decline",
            Self::AgentFlag { .. } => "flag",
            Self::Resume { .. } => "resume",
            Self::RefundFlagged => "refund",
            Self::ChangeScope { .. } => "scope",
            Self::Release => "release",
            Self::Return { .. } => "return",
            Self::Accept => "accept",
            Self::RequestRevision { .. } => "revision",
            Self::ApproveRevision => "approve_revision",
            Self::DenyRevision => "deny_revision",
            Self::Dispute { .. } => "dispute",
            Self::Resolve { .. } => "resolve",
            Self::SetAutoApprove(_) => "auto_approve",
            Self::Progress(_) => "progress",
            Self::Cancel => "cancel",
            Self::AgentSuspended => "agent_suspended",
        }
    }

    pub(super) fn permits(&self, actor: Actor) -> bool {
        use Actor::*;
        match self {
            Self::Tick => true,
            Self::Approve
            | Self::Deny { .. }
            | Self::Resume { .. }
            | Self::ChangeScope { .. }
            | Self::Release
            | Self::Return { .. }
            | Self::ApproveRevision
            | Self::DenyRevision
            | Self::SetAutoApprove(_) => actor == Owner,
            Self::RefundFlagged => matches!(actor, Owner | Admin),
            Self::Deliver | Self::Decline { .. } | Self::AgentFlag { .. } | Self::Progress(_) => actor == Agent,
            Self::Accept | Self::RequestRevision { .. } | Self::Dispute { .. } | Self::Cancel => actor == Customer,
            Self::Resolve { .. } | Self::AgentSuspended => actor == Admin,
        }
    }
}

/// Why an agent declines an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    /// Not what the agent does.
    OutOfScope,
    /// Too busy.
    Capacity,
    /// The order lacks what is needed.
    MissingInformation,
    /// Against the rules.
    Policy,
    /// Anything else.
    Other,
}

/// Why an agent flags an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagReason {
    /// Illegal.
    Illegal,
    /// Breaks platform policy.
    PolicyViolation,
    /// Anything else.
    Other,
}

/// A structured reason as told: `<reason>`, or `<reason> (<note>)` with a note.
pub(super) fn reason_text(reason: &str, note: Option<&str>) -> String {
    match note {
        Some(n) => format!("{reason} ({n})"),
        None => reason.to_owned(),
    }
}

impl DeclineReason {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OutOfScope => "out_of_scope",
            Self::Capacity => "capacity",
            Self::MissingInformation => "missing_information",
            Self::Policy => "policy",
            Self::Other => "other",
        }
    }
}

impl FlagReason {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Illegal => "illegal",
            Self::PolicyViolation => "policy_violation",
            Self::Other => "other",
        }
    }
}
