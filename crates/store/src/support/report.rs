//! Reports of reviews and agents, and support resolving them.

use super::rows::{self, ReportRow, SupportChange, SupportRow};
use super::utc;
use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::idempotency::Once;
use crate::plan::Plan;
use crate::plan::record::{Change, NewRow};
use crate::rows::naive;
use crate::schema::{agents, reports, reviews};
use crate::{Store, micros, ulid};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::agent::AgentStatus;
use heepr_domain::support::{self, ReportTarget, Reported};
use heepr_domain::{AgentId, MultiLine, UserId};

/// A report as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRecord {
    /// `rpt_…`.
    pub id: String,
    /// Who reported.
    pub reporter_id: String,
    /// `review` or `agent`.
    pub target_kind: String,
    /// The review's or agent's id.
    pub target_id: String,
    /// The agent it concerns.
    pub agent_id: String,
    /// Why.
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When support resolved it.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The admin who did.
    pub resolved_by: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = reports)]
pub(super) struct ReportCols {
    id: String,
    reporter_id: String,
    target_kind: String,
    target_id: String,
    agent_id: String,
    reason: String,
    created_at: NaiveDateTime,
    resolved_at: Option<NaiveDateTime>,
    resolved_by: Option<String>,
}

impl From<ReportCols> for ReportRecord {
    fn from(r: ReportCols) -> Self {
        Self {
            id: r.id,
            reporter_id: r.reporter_id,
            target_kind: r.target_kind,
            target_id: r.target_id,
            agent_id: r.agent_id,
            reason: r.reason,
            created_at: utc(r.created_at),
            resolved_at: r.resolved_at.map(utc),
            resolved_by: r.resolved_by,
        }
    }
}

/// The target as found (a review's agent, or a public agent), else `NotFound`.
fn find_target(c: &mut AnyConnection, target: ReportTarget, id: &str) -> Result<Reported> {
    let agent: String = match target {
        ReportTarget::Review => reviews::table
            .find(id)
            .select(reviews::agent_id)
            .first(c)
            .optional()?
            .ok_or(StoreError::NotFound)?,
        ReportTarget::Agent => {
            let status: String = agents::table
                .find(id)
                .select(agents::status)
                .first(c)
                .optional()?
                .ok_or(StoreError::NotFound)?;
            // An agent awaiting approval does not exist publicly.
            if status == AgentStatus::PendingApproval.as_str() {
                return Err(StoreError::NotFound);
            }
            id.to_owned()
        }
    };
    Ok(Reported {
        target,
        id: id.to_owned(),
        agent: AgentId::parse(&agent).ok_or_else(|| StoreError::corrupt(format!("agent id {agent}")))?,
    })
}

pub(super) fn load(c: &mut AnyConnection, id: &str) -> Result<ReportRecord> {
    Ok(reports::table
        .find(id)
        .select(ReportCols::as_select())
        .first(c)
        .optional()?
        .ok_or(StoreError::NotFound)?
        .into())
}

impl Store {
    /// A signed-in user reports a review or an agent (`NotFound` if there is no such
    /// public thing; `already_reported` while their earlier report of it is open).
    pub fn report(
        &self,
        reporter: &UserId,
        target: ReportTarget,
        target_id: &str,
        reason: &MultiLine,
        now: DateTime<Utc>,
        once: Option<&Once<ReportRecord>>,
    ) -> Result<ReportRecord> {
        let now = micros(now);
        self.once(once, || {
            let (found, open) = self.read(|c| {
                let found = find_target(c, target, target_id)?;
                let open: i64 = reports::table
                    .filter(reports::reporter_id.eq(reporter.as_str()))
                    .filter(reports::target_kind.eq(target.as_str()))
                    .filter(reports::target_id.eq(target_id))
                    .filter(reports::resolved_at.is_null())
                    .count()
                    .get_result(c)?;
                Ok((found, open > 0))
            })?;
            let r = support::report(reporter, found, open, reason, now)?;
            let record = ReportRecord {
                id: format!("rpt_{}", ulid()),
                reporter_id: r.reporter.to_string(),
                target_kind: r.target.target.as_str().to_owned(),
                target_id: r.target.id.clone(),
                agent_id: r.target.agent.to_string(),
                reason: r.reason.clone(),
                created_at: r.at,
                resolved_at: None,
                resolved_by: None,
            };
            let mut plan = Plan::new();
            if let Some(once) = once {
                once.claim_in(&mut plan, &record, now);
            }
            plan.insert(NewRow::Support(SupportRow::Report(ReportRow {
                id: record.id.clone(),
                reporter_id: record.reporter_id.clone(),
                target_kind: r.target.target.as_str(),
                target_id: record.target_id.clone(),
                agent_id: record.agent_id.clone(),
                reason: record.reason.clone(),
                created_at: naive(now),
            })));
            self.apply(&plan)?;
            Ok(record)
        })
    }

    /// Support resolves a report (`already_resolved` if it is): the report and the
    /// audit entry — one plan.
    pub fn resolve_report(
        &self,
        admin: &UserId,
        id: &str,
        reason: Option<&MultiLine>,
        now: DateTime<Utc>,
        once: Option<&Once<ReportRecord>>,
    ) -> Result<ReportRecord> {
        let now = micros(now);
        self.once(once, || {
            let mut record = self.query(|c| load(c, id))?;
            let audit = support::resolve_report(id, record.resolved_at.is_some(), admin, reason, now)?;
            record.resolved_at = Some(now);
            record.resolved_by = Some(admin.to_string());
            let mut plan = Plan::new();
            if let Some(once) = once {
                once.claim_in(&mut plan, &record, now);
            }
            plan.change(Change::Support(SupportChange::ResolveReport {
                id: id.to_owned(),
                by: admin.to_string(),
                at: naive(now),
            }));
            plan.insert(rows::audit(&audit));
            self.apply(&plan)?;
            Ok(record)
        })
    }
}
