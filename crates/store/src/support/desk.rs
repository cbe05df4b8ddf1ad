//! What support reads: the queue (disputes, flagged orders, open reports, open
//! reinstatement requests — oldest first, keyset-paged, with counts per kind), an
//! agent's record, and the audit log (newest first).

use super::report::{ReportCols, ReportRecord};
use super::suspension::{RequestCols, RequestRecord, SuspensionRecord};
use super::{cursor, utc};
use crate::Store;
use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::order::Stored;
use crate::rows::OrderRow;
use crate::schema::{agents, audit_log, orders, reinstatement_requests, reports, users};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::{Order, OrderState};

/// The kinds of work in the support queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    /// A customer disputed an order.
    Dispute,
    /// An agent flagged an order (its owner decides, support watches).
    Flagged,
    /// An open report of a review or an agent.
    Report,
    /// An owner's open request to lift a suspension.
    Reinstatement,
}

impl QueueKind {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dispute => "dispute",
            Self::Flagged => "flagged",
            Self::Report => "report",
            Self::Reinstatement => "reinstatement",
        }
    }
}

/// One piece of work in the queue.
#[derive(Debug, Clone, PartialEq)]
pub enum QueueItem {
    /// A disputed or flagged order (`since`: when it entered that state).
    Order {
        /// Dispute or flagged.
        kind: QueueKind,
        /// The order.
        order: Box<Order>,
        /// When it entered the queue.
        since: DateTime<Utc>,
    },
    /// An open report.
    Report(ReportRecord),
    /// An open reinstatement request.
    Reinstatement(RequestRecord),
}

impl QueueItem {
    /// Its kind.
    pub fn kind(&self) -> QueueKind {
        match self {
            Self::Order { kind, .. } => *kind,
            Self::Report(_) => QueueKind::Report,
            Self::Reinstatement(_) => QueueKind::Reinstatement,
        }
    }

    /// The order's, report's or request's id.
    pub fn id(&self) -> &str {
        match self {
            Self::Order { order, .. } => order.id.as_str(),
            Self::Report(r) => &r.id,
            Self::Reinstatement(r) => &r.id,
        }
    }

    /// When it entered the queue.
    pub fn since(&self) -> DateTime<Utc> {
        match self {
            Self::Order { since, .. } => *since,
            Self::Report(r) => r.created_at,
            Self::Reinstatement(r) => r.created_at,
        }
    }
}

/// How much of each kind waits (over the whole queue, not the page).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Disputed orders.
    pub disputes: i64,
    /// Flagged orders.
    pub flagged: i64,
    /// Open reports.
    pub reports: i64,
    /// Open reinstatement requests.
    pub reinstatements: i64,
}

/// One page of the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuePage {
    /// Oldest first.
    pub items: Vec<QueueItem>,
    /// Counts per kind.
    pub counts: QueueCounts,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

/// An agent's counters, as the reputation rules keep them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentCounters {
    /// Completed orders.
    pub completed: i64,
    /// Of which delivered on time.
    pub on_time: i64,
    /// Deadlines missed.
    pub missed_deadlines: i64,
    /// Orders it declined.
    pub declines: i64,
    /// Orders it flagged.
    pub flags: i64,
    /// Sum of review stars.
    pub rating_sum: i64,
    /// Number of reviews.
    pub rating_count: i64,
}

/// An agent as support sees it: standing, counters, reports, suspensions, requests.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentDossier {
    /// The agent.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its owner.
    pub owner_id: String,
    /// The owner's email (to reach them).
    pub owner_email: String,
    /// Life-cycle status.
    pub status: String,
    /// Suspended now.
    pub suspended: bool,
    /// Why, while suspended.
    pub suspended_reason: Option<String>,
    /// Since when, while suspended.
    pub suspended_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Counters.
    pub counters: AgentCounters,
    /// Open reports about it.
    pub open_reports: i64,
    /// The latest reports about it (open or not), newest first.
    pub reports: Vec<ReportRecord>,
    /// Every suspension, newest first.
    pub suspensions: Vec<SuspensionRecord>,
    /// The latest reinstatement requests, newest first.
    pub requests: Vec<RequestRecord>,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only entries about this target (kind, id).
    pub target: Option<(String, String)>,
    /// Page size (1–100).
    pub limit: i64,
    /// Entries older than this position (from a previous page's `next`).
    pub before: Option<(NaiveDateTime, String)>,
}

/// One audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// `aud_…`.
    pub id: String,
    /// The admin.
    pub actor_id: String,
    /// What they did (`suspend_agent`, …).
    pub action: String,
    /// What it was about (`agent`, `order`, `report`, `reinstatement_request`).
    pub target_kind: String,
    /// Its id.
    pub target_id: String,
    /// Why.
    pub reason: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// How many rows of one list an agent's record shows.
const RECORD_ROWS: i64 = 50;

type AuditCols = (String, String, String, String, String, Option<String>, NaiveDateTime);

fn orders_in(
    c: &mut AnyConnection,
    state: OrderState,
    after: Option<&(NaiveDateTime, String)>,
    n: i64,
) -> Result<Vec<QueueItem>> {
    let mut q = orders::table
        .filter(orders::state.eq(state.as_str()))
        .select(OrderRow::as_select())
        .into_boxed();
    if let Some((t, id)) = after {
        q = q.filter(
            orders::updated_at
                .gt(*t)
                .or(orders::updated_at.eq(*t).and(orders::id.gt(id.clone()))),
        );
    }
    let rows: Vec<OrderRow> = q.order((orders::updated_at, orders::id)).limit(n).load(c)?;
    let kind = match state {
        OrderState::Disputed => QueueKind::Dispute,
        _ => QueueKind::Flagged,
    };
    rows.into_iter()
        .map(|r| {
            let since = utc(r.updated_at);
            let s = Stored::try_from(r)?;
            Ok(QueueItem::Order {
                kind,
                order: Box::new(s.order),
                since,
            })
        })
        .collect()
}

fn open_reports(c: &mut AnyConnection, after: Option<&(NaiveDateTime, String)>, n: i64) -> Result<Vec<QueueItem>> {
    let mut q = reports::table
        .filter(reports::resolved_at.is_null())
        .select(ReportCols::as_select())
        .into_boxed();
    if let Some((t, id)) = after {
        q = q.filter(
            reports::created_at
                .gt(*t)
                .or(reports::created_at.eq(*t).and(reports::id.gt(id.clone()))),
        );
    }
    let rows: Vec<ReportCols> = q.order((reports::created_at, reports::id)).limit(n).load(c)?;
    Ok(rows.into_iter().map(|r| QueueItem::Report(r.into())).collect())
}

fn open_requests(c: &mut AnyConnection, after: Option<&(NaiveDateTime, String)>, n: i64) -> Result<Vec<QueueItem>> {
    use reinstatement_requests as rr;
    let mut q = rr::table
        .filter(rr::resolved_at.is_null())
        .select(RequestCols::as_select())
        .into_boxed();
    if let Some((t, id)) = after {
        q = q.filter(
            rr::created_at
                .gt(*t)
                .or(rr::created_at.eq(*t).and(rr::id.gt(id.clone()))),
        );
    }
    let rows: Vec<RequestCols> = q.order((rr::created_at, rr::id)).limit(n).load(c)?;
    Ok(rows.into_iter().map(|r| QueueItem::Reinstatement(r.into())).collect())
}

fn counts(c: &mut AnyConnection) -> Result<QueueCounts> {
    let in_state = |c: &mut AnyConnection, s: OrderState| -> Result<i64> {
        Ok(orders::table
            .filter(orders::state.eq(s.as_str()))
            .count()
            .get_result(c)?)
    };
    Ok(QueueCounts {
        disputes: in_state(c, OrderState::Disputed)?,
        flagged: in_state(c, OrderState::Flagged)?,
        reports: reports::table
            .filter(reports::resolved_at.is_null())
            .count()
            .get_result(c)?,
        reinstatements: reinstatement_requests::table
            .filter(reinstatement_requests::resolved_at.is_null())
            .count()
            .get_result(c)?,
    })
}

impl Store {
    /// One page of the support queue, oldest first across all kinds, after `after`
    /// (a position from [`super::parse_cursor`]), with the counts per kind — one
    /// snapshot.
    pub fn support_queue(&self, limit: i64, after: Option<(NaiveDateTime, String)>) -> Result<QueuePage> {
        let limit = limit.clamp(1, crate::MAX_PAGE_ROWS - 1);
        self.read(|c| {
            let after = after.as_ref();
            let mut items = orders_in(c, OrderState::Disputed, after, limit + 1)?;
            items.extend(orders_in(c, OrderState::Flagged, after, limit + 1)?);
            items.extend(open_reports(c, after, limit + 1)?);
            items.extend(open_requests(c, after, limit + 1)?);
            // (since, id) is a total order: ids of different kinds differ in prefix.
            items.sort_by(|a, b| (a.since(), a.id()).cmp(&(b.since(), b.id())));
            let more = items.len() as i64 > limit;
            items.truncate(limit as usize);
            let next = more.then(|| items.last().map(|i| cursor(i.since(), i.id()))).flatten();
            Ok(QueuePage {
                items,
                counts: counts(c)?,
                next,
            })
        })
    }

    /// An agent's record for support (`NotFound` if there is no such agent).
    pub fn agent_dossier(&self, id: &str) -> Result<AgentDossier> {
        self.read(|c| {
            #[allow(clippy::type_complexity)]
            let row: Option<(
                (
                    String,
                    String,
                    String,
                    bool,
                    Option<String>,
                    Option<NaiveDateTime>,
                    NaiveDateTime,
                ),
                (i64, i64, i64, i64, i64, i64, i64),
            )> = agents::table
                .find(id)
                .select((
                    (
                        agents::name,
                        agents::owner_id,
                        agents::status,
                        agents::suspended,
                        agents::suspended_reason,
                        agents::suspended_at,
                        agents::created_at,
                    ),
                    (
                        agents::completed_count,
                        agents::on_time_count,
                        agents::missed_deadline_count,
                        agents::decline_count,
                        agents::flag_count,
                        agents::rating_sum,
                        agents::rating_count,
                    ),
                ))
                .first(c)
                .optional()?;
            let ((name, owner_id, status, suspended, suspended_reason, suspended_at, created_at), n) =
                row.ok_or(StoreError::NotFound)?;
            let owner_email: String = users::table.find(&owner_id).select(users::email).first(c)?;
            let open_reports: i64 = reports::table
                .filter(reports::agent_id.eq(id))
                .filter(reports::resolved_at.is_null())
                .count()
                .get_result(c)?;
            let reports: Vec<ReportCols> = reports::table
                .filter(reports::agent_id.eq(id))
                .order((reports::created_at.desc(), reports::id.desc()))
                .limit(RECORD_ROWS)
                .select(ReportCols::as_select())
                .load(c)?;
            let requests: Vec<RequestCols> = reinstatement_requests::table
                .filter(reinstatement_requests::agent_id.eq(id))
                .order((
                    reinstatement_requests::created_at.desc(),
                    reinstatement_requests::id.desc(),
                ))
                .limit(RECORD_ROWS)
                .select(RequestCols::as_select())
                .load(c)?;
            Ok(AgentDossier {
                id: id.to_owned(),
                name,
                owner_id,
                owner_email,
                status,
                suspended,
                suspended_reason,
                suspended_at: suspended_at.map(utc),
                created_at: utc(created_at),
                counters: AgentCounters {
                    completed: n.0,
                    on_time: n.1,
                    missed_deadlines: n.2,
                    declines: n.3,
                    flags: n.4,
                    rating_sum: n.5,
                    rating_count: n.6,
                },
                open_reports,
                reports: reports.into_iter().map(ReportRecord::from).collect(),
                suspensions: vec![],
                requests: requests.into_iter().map(RequestRecord::from).collect(),
            })
        })
        .and_then(|mut d| {
            d.suspensions = self.suspensions_of(id)?;
            Ok(d)
        })
    }

    /// Audit entries, newest first; the last of a full page is the next page's position.
    pub fn audit_log(&self, f: &AuditFilter) -> Result<Vec<AuditRecord>> {
        self.query(|c| {
            let mut q = audit_log::table
                .select((
                    audit_log::id,
                    audit_log::actor_id,
                    audit_log::action,
                    audit_log::target_kind,
                    audit_log::target_id,
                    audit_log::reason,
                    audit_log::created_at,
                ))
                .into_boxed();
            if let Some((kind, id)) = &f.target {
                q = q
                    .filter(audit_log::target_kind.eq(kind.clone()))
                    .filter(audit_log::target_id.eq(id.clone()));
            }
            if let Some((t, id)) = &f.before {
                q = q.filter(
                    audit_log::created_at
                        .lt(*t)
                        .or(audit_log::created_at.eq(*t).and(audit_log::id.lt(id.clone()))),
                );
            }
            let rows: Vec<AuditCols> = q
                .order((audit_log::created_at.desc(), audit_log::id.desc()))
                .limit(f.limit.clamp(1, crate::MAX_PAGE_ROWS))
                .load(c)?;
            Ok(rows
                .into_iter()
                .map(
                    |(id, actor_id, action, target_kind, target_id, reason, at)| AuditRecord {
                        id,
                        actor_id,
                        action,
                        target_kind,
                        target_id,
                        reason,
                        at: utc(at),
                    },
                )
                .collect())
        })
    }
}
