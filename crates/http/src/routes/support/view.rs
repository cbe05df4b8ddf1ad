//! What the support desk answers: typed bodies built from the store's records.

use crate::routes::orders::OrderView;
use chrono::{DateTime, Utc};
use heepr_domain::ledger::Violation;
use heepr_store::support::{
    AgentCounters, AgentDossier, AuditRecord, QueueCounts, QueueItem, QueuePage, ReportRecord, RequestRecord,
    StandingChange, SuspensionRecord,
};
use serde::Serialize;

/// JSON text of a body (these types always serialize).
fn to_json(body: &impl Serialize) -> String {
    serde_json::to_string(body).unwrap_or_default()
}

/// A suspension or reinstatement as applied.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StandingView {
    pub agent_id: String,
    pub suspended: bool,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
    /// Open orders the suspension refunded.
    pub refunded_orders: Vec<String>,
    /// Open orders it returned to their customers as `delivered`.
    pub returned_orders: Vec<String>,
}

impl From<&StandingChange> for StandingView {
    fn from(c: &StandingChange) -> Self {
        Self {
            agent_id: c.agent_id.to_string(),
            suspended: c.suspended,
            reason: c.reason.clone(),
            at: c.at,
            refunded_orders: c.refunded.iter().map(ToString::to_string).collect(),
            returned_orders: c.returned.iter().map(ToString::to_string).collect(),
        }
    }
}

pub(crate) fn render_standing(c: &StandingChange) -> String {
    to_json(&StandingView::from(c))
}

/// A reinstatement request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RequestView {
    pub id: String,
    pub agent_id: String,
    pub owner_id: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<&RequestRecord> for RequestView {
    fn from(r: &RequestRecord) -> Self {
        Self {
            id: r.id.clone(),
            agent_id: r.agent_id.clone(),
            owner_id: r.owner_id.clone(),
            message: r.message.clone(),
            created_at: r.created_at,
            resolved_at: r.resolved_at,
        }
    }
}

pub(crate) fn render_request(r: &RequestRecord) -> String {
    to_json(&RequestView::from(r))
}

/// A report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ReportView {
    pub id: String,
    pub reporter_id: String,
    pub target: String,
    pub target_id: String,
    pub agent_id: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
}

impl From<&ReportRecord> for ReportView {
    fn from(r: &ReportRecord) -> Self {
        Self {
            id: r.id.clone(),
            reporter_id: r.reporter_id.clone(),
            target: r.target_kind.clone(),
            target_id: r.target_id.clone(),
            agent_id: r.agent_id.clone(),
            reason: r.reason.clone(),
            created_at: r.created_at,
            resolved_at: r.resolved_at,
            resolved_by: r.resolved_by.clone(),
        }
    }
}

pub(crate) fn render_report(r: &ReportRecord) -> String {
    to_json(&ReportView::from(r))
}

/// One piece of work in the queue: its kind, when it entered the queue, and the order,
/// report or request itself (exactly one of the three is set).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct QueueItemView {
    pub kind: &'static str,
    pub id: String,
    pub agent_id: String,
    pub since: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestView>,
}

impl From<&QueueItem> for QueueItemView {
    fn from(i: &QueueItem) -> Self {
        let (agent_id, order, report, request) = match i {
            QueueItem::Order { order, .. } => (order.agent.to_string(), Some(OrderView::from(&**order)), None, None),
            QueueItem::Report(r) => (r.agent_id.clone(), None, Some(ReportView::from(r)), None),
            QueueItem::Reinstatement(r) => (r.agent_id.clone(), None, None, Some(RequestView::from(r))),
        };
        Self {
            kind: i.kind().as_str(),
            id: i.id().to_owned(),
            agent_id,
            since: i.since(),
            order,
            report,
            request,
        }
    }
}

/// How much of each kind waits.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CountsView {
    pub dispute: i64,
    pub flagged: i64,
    pub report: i64,
    pub reinstatement: i64,
    pub total: i64,
}

impl From<&QueueCounts> for CountsView {
    fn from(c: &QueueCounts) -> Self {
        Self {
            dispute: c.disputes,
            flagged: c.flagged,
            report: c.reports,
            reinstatement: c.reinstatements,
            total: c.disputes + c.flagged + c.reports + c.reinstatements,
        }
    }
}

/// A page of the queue, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct QueueView {
    pub counts: CountsView,
    pub items: Vec<QueueItemView>,
    pub next: Option<String>,
}

impl From<&QueuePage> for QueueView {
    fn from(p: &QueuePage) -> Self {
        Self {
            counts: CountsView::from(&p.counts),
            items: p.items.iter().map(QueueItemView::from).collect(),
            next: p.next.clone(),
        }
    }
}

/// An agent's counters.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CountersView {
    pub completed: i64,
    pub on_time: i64,
    pub missed_deadlines: i64,
    pub declines: i64,
    pub flags: i64,
    pub rating_sum: i64,
    pub rating_count: i64,
    /// Mean stars, when reviewed.
    pub rating: Option<f64>,
}

impl From<&AgentCounters> for CountersView {
    fn from(c: &AgentCounters) -> Self {
        Self {
            completed: c.completed,
            on_time: c.on_time,
            missed_deadlines: c.missed_deadlines,
            declines: c.declines,
            flags: c.flags,
            rating_sum: c.rating_sum,
            rating_count: c.rating_count,
            rating: (c.rating_count > 0).then(|| c.rating_sum as f64 / c.rating_count as f64),
        }
    }
}

/// One past or current suspension.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SuspensionView {
    pub id: String,
    pub reason: String,
    pub suspended_by: String,
    pub suspended_at: DateTime<Utc>,
    pub reinstated_by: Option<String>,
    pub reinstated_at: Option<DateTime<Utc>>,
    pub reinstate_reason: Option<String>,
}

impl From<&SuspensionRecord> for SuspensionView {
    fn from(s: &SuspensionRecord) -> Self {
        Self {
            id: s.id.clone(),
            reason: s.reason.clone(),
            suspended_by: s.suspended_by.clone(),
            suspended_at: s.suspended_at,
            reinstated_by: s.reinstated_by.clone(),
            reinstated_at: s.reinstated_at,
            reinstate_reason: s.reinstate_reason.clone(),
        }
    }
}

/// An agent as support sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DossierView {
    pub id: String,
    pub name: String,
    pub owner_id: String,
    pub owner_email: String,
    pub status: String,
    pub suspended: bool,
    pub suspended_reason: Option<String>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub counters: CountersView,
    pub open_reports: i64,
    pub reports: Vec<ReportView>,
    pub suspensions: Vec<SuspensionView>,
    pub reinstatement_requests: Vec<RequestView>,
}

impl From<&AgentDossier> for DossierView {
    fn from(d: &AgentDossier) -> Self {
        Self {
            id: d.id.clone(),
            name: d.name.clone(),
            owner_id: d.owner_id.clone(),
            owner_email: d.owner_email.clone(),
            status: d.status.clone(),
            suspended: d.suspended,
            suspended_reason: d.suspended_reason.clone(),
            suspended_at: d.suspended_at,
            created_at: d.created_at,
            counters: CountersView::from(&d.counters),
            open_reports: d.open_reports,
            reports: d.reports.iter().map(ReportView::from).collect(),
            suspensions: d.suspensions.iter().map(SuspensionView::from).collect(),
            reinstatement_requests: d.requests.iter().map(RequestView::from).collect(),
        }
    }
}

/// One audit entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AuditView {
    pub id: String,
    pub actor_id: String,
    pub action: String,
    pub target: String,
    pub target_id: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<&AuditRecord> for AuditView {
    fn from(a: &AuditRecord) -> Self {
        Self {
            id: a.id.clone(),
            actor_id: a.actor_id.clone(),
            action: a.action.clone(),
            target: a.target_kind.clone(),
            target_id: a.target_id.clone(),
            reason: a.reason.clone(),
            at: a.at,
        }
    }
}

/// A page of the audit log, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AuditPage {
    pub entries: Vec<AuditView>,
    pub next: Option<String>,
}

/// One broken ledger invariant.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ViolationView {
    /// 1–4, as numbered in SPEC §10.
    pub invariant: u8,
    pub detail: String,
}

/// The ledger invariant check's report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LedgerView {
    pub ok: bool,
    pub checked_at: DateTime<Utc>,
    pub violations: Vec<ViolationView>,
}

impl LedgerView {
    pub(crate) fn new(violations: &[Violation], checked_at: DateTime<Utc>) -> Self {
        Self {
            ok: violations.is_empty(),
            checked_at,
            violations: violations
                .iter()
                .map(|v| ViolationView {
                    invariant: v.invariant,
                    detail: v.detail.clone(),
                })
                .collect(),
        }
    }
}
