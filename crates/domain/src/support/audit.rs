//! The audit log: one [`AuditEntry`] per admin action, written in the same plan as the
//! action and never changed afterwards.

use crate::ids::{OrderId, UserId};
use crate::order::Command;
use crate::{MultiLine, Timestamp};

/// What an admin did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// Suspended an agent.
    SuspendAgent,
    /// Lifted an agent's suspension.
    ReinstateAgent,
    /// Settled a disputed order.
    ResolveDispute,
    /// Refunded a flagged order.
    RefundFlagged,
    /// Closed a report.
    ResolveReport,
    /// Closed an owner's reinstatement request without reinstating.
    ResolveReinstatementRequest,
    /// Deleted a user's account on their emailed request (seed 003).
    DeleteAccount,
    /// Sent a user their data export on their emailed request (seed 003).
    ExportAccount,
}

impl AuditAction {
    /// Every action, in documentation order.
    pub const ALL: [AuditAction; 8] = [
        Self::SuspendAgent,
        Self::ReinstateAgent,
        Self::ResolveDispute,
        Self::RefundFlagged,
        Self::ResolveReport,
        Self::ResolveReinstatementRequest,
        Self::DeleteAccount,
        Self::ExportAccount,
    ];

    /// Storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SuspendAgent => "suspend_agent",
            Self::ReinstateAgent => "reinstate_agent",
            Self::ResolveDispute => "resolve_dispute",
            Self::RefundFlagged => "refund_flagged",
            Self::ResolveReport => "resolve_report",
            Self::ResolveReinstatementRequest => "resolve_reinstatement_request",
            Self::DeleteAccount => "delete_account",
            Self::ExportAccount => "export_account",
        }
    }

    /// The inverse of [`AuditAction::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// What an action was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetKind {
    /// An agent (`agt_…`).
    Agent,
    /// An order (`ord_…`).
    Order,
    /// A report (`rpt_…`).
    Report,
    /// A reinstatement request (`rrq_…`).
    ReinstatementRequest,
    /// A user (`usr_…`).
    User,
}

impl TargetKind {
    /// Every kind.
    pub const ALL: [TargetKind; 5] = [
        Self::Agent,
        Self::Order,
        Self::Report,
        Self::ReinstatementRequest,
        Self::User,
    ];

    /// Storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Order => "order",
            Self::Report => "report",
            Self::ReinstatementRequest => "reinstatement_request",
            Self::User => "user",
        }
    }

    /// The inverse of [`TargetKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One line of the audit log: who did what to which, when, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The admin.
    pub actor: UserId,
    /// What they did.
    pub action: AuditAction,
    /// What it was about.
    pub target_kind: TargetKind,
    /// Its id.
    pub target_id: String,
    /// Why, as the admin said (and, for a dispute, how much was refunded).
    pub reason: Option<String>,
    /// When.
    pub at: Timestamp,
}

impl AuditEntry {
    pub(super) fn new(
        actor: &UserId,
        action: AuditAction,
        target_kind: TargetKind,
        target_id: impl Into<String>,
        reason: Option<String>,
        at: Timestamp,
    ) -> Self {
        Self {
            actor: actor.clone(),
            action,
            target_kind,
            target_id: target_id.into(),
            reason,
            at,
        }
    }
}

/// The audit entry of support deleting `user`'s account on their emailed request.
pub fn account_deleted(admin: &UserId, user: &UserId, reason: Option<&MultiLine>, at: Timestamp) -> AuditEntry {
    AuditEntry::new(
        admin,
        AuditAction::DeleteAccount,
        TargetKind::User,
        user.as_str(),
        reason.map(|r| r.as_str().to_owned()),
        at,
    )
}

/// The audit entry of support sending `user` a link to their data export on their
/// emailed request.
pub fn account_exported(admin: &UserId, user: &UserId, reason: Option<&MultiLine>, at: Timestamp) -> AuditEntry {
    AuditEntry::new(
        admin,
        AuditAction::ExportAccount,
        TargetKind::User,
        user.as_str(),
        reason.map(|r| r.as_str().to_owned()),
        at,
    )
}

/// The audit entry of an order command support issues — settling a dispute (its
/// reason starts with the refunded amount: `refund 10`, `refund 10: <reason>`) or
/// refunding a flagged order — or `None` for any other command (none is support's).
pub fn order_action(
    admin: &UserId,
    order: &OrderId,
    cmd: &Command,
    reason: Option<&MultiLine>,
    at: Timestamp,
) -> Option<AuditEntry> {
    let said = reason.map(|r| r.as_str().to_owned());
    let (action, reason) = match cmd {
        Command::Resolve { refund } => (
            AuditAction::ResolveDispute,
            Some(match said {
                Some(r) => format!("refund {refund}: {r}"),
                None => format!("refund {refund}"),
            }),
        ),
        Command::RefundFlagged => (AuditAction::RefundFlagged, said),
        _ => return None,
    };
    Some(AuditEntry::new(
        admin,
        action,
        TargetKind::Order,
        order.as_str(),
        reason,
        at,
    ))
}
