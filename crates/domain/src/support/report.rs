//! Reports: anyone signed in may report a review or an agent with a reason; reports
//! wait in the support queue until an admin resolves them.

use super::audit::{AuditAction, AuditEntry, TargetKind};
use super::error::SupportError;
use crate::ids::{AgentId, UserId};
use crate::{MultiLine, Timestamp};

/// What can be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportTarget {
    /// A review (`rev_…`).
    Review,
    /// An agent (`agt_…`).
    Agent,
}

impl ReportTarget {
    /// Storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Review => "review",
            Self::Agent => "agent",
        }
    }

    /// The inverse of [`ReportTarget::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Review, Self::Agent].into_iter().find(|t| t.as_str() == s)
    }
}

/// A report's target as found: what it is, its id, and the agent it concerns (a
/// review's agent, or the agent itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    /// Review or agent.
    pub target: ReportTarget,
    /// Its id.
    pub id: String,
    /// The agent it concerns.
    pub agent: AgentId,
}

/// A new report's row, as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    /// Who reports.
    pub reporter: UserId,
    /// What.
    pub target: Reported,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Timestamp,
}

/// `reporter` reports `target`; refused while their earlier report of the same target
/// is still open (`already_open`), so one person cannot flood the queue.
pub fn report(
    reporter: &UserId,
    target: Reported,
    already_open: bool,
    reason: &MultiLine,
    now: Timestamp,
) -> Result<NewReport, SupportError> {
    if already_open {
        return Err(SupportError::AlreadyReported);
    }
    Ok(NewReport {
        reporter: reporter.clone(),
        target,
        reason: reason.as_str().to_owned(),
        at: now,
    })
}

/// Support resolves a report (whatever it did about it is its own audited action);
/// refused if it is resolved already.
pub fn resolve_report(
    report_id: &str,
    resolved: bool,
    admin: &UserId,
    reason: Option<&MultiLine>,
    now: Timestamp,
) -> Result<AuditEntry, SupportError> {
    if resolved {
        return Err(SupportError::AlreadyResolved);
    }
    Ok(AuditEntry::new(
        admin,
        AuditAction::ResolveReport,
        TargetKind::Report,
        report_id,
        reason.map(|r| r.as_str().to_owned()),
        now,
    ))
}
