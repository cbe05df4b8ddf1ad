//! Suspending and reinstating an agent, and the owner's request to lift a suspension.
//!
//! Suspension is its own flag (SPEC §15): the agent may still poll — it must learn of
//! the refunds — but takes no new orders and may not work. The work it still owes ends
//! with the suspension: every open order takes [`crate::Command::AgentSuspended`] in
//! the same plan (refunded when the customer never received a delivery, else back to
//! the customer to accept or dispute).

use super::audit::{AuditAction, AuditEntry, TargetKind};
use super::error::SupportError;
use crate::ids::{AgentId, UserId};
use crate::notice::{Detail, NotificationKind};
use crate::{MultiLine, Timestamp};

/// An agent's standing with support, as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The agent.
    pub agent: AgentId,
    /// Its name (for the owner's emails).
    pub name: String,
    /// Suspended now.
    pub suspended: bool,
    /// Its owner has a reinstatement request open.
    pub open_request: bool,
}

/// What the agent's owner is told (in-app and by email; see [`crate::notice`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Why.
    pub kind: NotificationKind,
    /// Support's words, if any.
    pub detail: Detail,
}

impl Notice {
    fn new(kind: NotificationKind, reason: Option<&str>) -> Self {
        let detail = match reason {
            Some(text) => Detail::Note { text: text.to_owned() },
            None => Detail::None,
        };
        Self { kind, detail }
    }
}

/// What suspending writes: the agent's flag with its reason and time, a record of the
/// suspension, the audit entry and the owner's email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspension {
    /// The agent.
    pub agent: AgentId,
    /// Why (shown to the owner and to support, never publicly).
    pub reason: String,
    /// Who.
    pub by: UserId,
    /// When.
    pub at: Timestamp,
    /// The audit entry.
    pub audit: AuditEntry,
    /// The owner's email.
    pub notice: Notice,
}

/// What reinstating writes: the flag lifted, the open suspension record closed, every
/// open reinstatement request of the agent resolved, the audit entry and the owner's
/// email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reinstatement {
    /// The agent.
    pub agent: AgentId,
    /// Why, if support said.
    pub reason: Option<String>,
    /// Who.
    pub by: UserId,
    /// When.
    pub at: Timestamp,
    /// The audit entry.
    pub audit: AuditEntry,
    /// The owner's email.
    pub notice: Notice,
}

/// An owner's request to lift a suspension, for the support queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReinstatementRequest {
    /// The agent.
    pub agent: AgentId,
    /// The owner asking.
    pub owner: UserId,
    /// What they tell support.
    pub message: String,
    /// When.
    pub at: Timestamp,
}

/// What closing a reinstatement request without reinstating writes: the audit entry
/// and the owner's email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestResolution {
    /// The audit entry.
    pub audit: AuditEntry,
    /// The owner's email.
    pub notice: Notice,
}

/// Support suspends the agent with a reason; refused if it is suspended already.
pub fn suspend(s: &Standing, admin: &UserId, reason: &MultiLine, now: Timestamp) -> Result<Suspension, SupportError> {
    if s.suspended {
        return Err(SupportError::AlreadySuspended);
    }
    let reason = reason.as_str().to_owned();
    let notice = Notice::new(NotificationKind::AgentSuspended, Some(&reason));
    Ok(Suspension {
        agent: s.agent.clone(),
        audit: AuditEntry::new(
            admin,
            AuditAction::SuspendAgent,
            TargetKind::Agent,
            s.agent.as_str(),
            Some(reason.clone()),
            now,
        ),
        reason,
        by: admin.clone(),
        at: now,
        notice,
    })
}

/// Support lifts the suspension; refused if the agent is not suspended.
pub fn reinstate(
    s: &Standing,
    admin: &UserId,
    reason: Option<&MultiLine>,
    now: Timestamp,
) -> Result<Reinstatement, SupportError> {
    if !s.suspended {
        return Err(SupportError::NotSuspended);
    }
    let reason = reason.map(|r| r.as_str().to_owned());
    let notice = Notice::new(NotificationKind::AgentReinstated, reason.as_deref());
    Ok(Reinstatement {
        agent: s.agent.clone(),
        audit: AuditEntry::new(
            admin,
            AuditAction::ReinstateAgent,
            TargetKind::Agent,
            s.agent.as_str(),
            reason.clone(),
            now,
        ),
        reason,
        by: admin.clone(),
        at: now,
        notice,
    })
}

/// The owner asks support to lift the suspension; refused if the agent is not
/// suspended, or while an earlier request of theirs is still open (one at a time keeps
/// the queue honest).
pub fn request_reinstatement(
    s: &Standing,
    owner: &UserId,
    message: &MultiLine,
    now: Timestamp,
) -> Result<ReinstatementRequest, SupportError> {
    if !s.suspended {
        return Err(SupportError::NotSuspended);
    }
    if s.open_request {
        return Err(SupportError::RequestOpen);
    }
    Ok(ReinstatementRequest {
        agent: s.agent.clone(),
        owner: owner.clone(),
        message: message.as_str().to_owned(),
        at: now,
    })
}

/// Support closes a reinstatement request without lifting the suspension (reinstating
/// closes the agent's open requests by itself); refused if it is closed already.
pub fn resolve_request(
    request_id: &str,
    resolved: bool,
    admin: &UserId,
    reason: Option<&MultiLine>,
    now: Timestamp,
) -> Result<RequestResolution, SupportError> {
    if resolved {
        return Err(SupportError::AlreadyResolved);
    }
    let reason = reason.map(|r| r.as_str().to_owned());
    let notice = Notice::new(NotificationKind::ReinstatementDeclined, reason.as_deref());
    Ok(RequestResolution {
        audit: AuditEntry::new(
            admin,
            AuditAction::ResolveReinstatementRequest,
            TargetKind::ReinstatementRequest,
            request_id,
            reason,
            now,
        ),
        notice,
    })
}
