//! Suspending and reinstating agents, and owners' requests to lift a suspension.

use super::rows::{self, RequestRow, SupportChange, SupportRow, SuspensionRow};
use super::utc;
use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::idempotency::Once;
use crate::listen::Stale;
use crate::notice::NewNotice;
use crate::order::{Stored, retrying_with_pause};
use crate::plan::record::{Change, NewRow};
use crate::plan::{Plan, Step};
use crate::rows::{OrderRow, naive};
use crate::schema::{agents, orders, reinstatement_requests, suspensions};
use crate::{Store, micros, ulid};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::notice::Recipient;
use heepr_domain::order::decide;
use heepr_domain::support::{self, Notice, Standing};
use heepr_domain::{Actor, AgentId, Command, MultiLine, OrderId, OrderState, Policy, UserId};

/// A suspension or reinstatement as it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandingChange {
    /// The agent.
    pub agent_id: AgentId,
    /// Suspended after the change.
    pub suspended: bool,
    /// The reason support gave (required to suspend, optional to reinstate).
    pub reason: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// Open orders the suspension refunded (the customer had received nothing).
    pub refunded: Vec<OrderId>,
    /// Open orders it gave back to their customers as `delivered`.
    pub returned: Vec<OrderId>,
}

/// One suspension of an agent, and its end if it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspensionRecord {
    /// `sus_…`.
    pub id: String,
    /// Why.
    pub reason: String,
    /// The admin.
    pub suspended_by: String,
    /// When.
    pub suspended_at: DateTime<Utc>,
    /// The admin who lifted it.
    pub reinstated_by: Option<String>,
    /// When it was lifted.
    pub reinstated_at: Option<DateTime<Utc>>,
    /// Why it was lifted.
    pub reinstate_reason: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = suspensions)]
struct SuspensionCols {
    id: String,
    reason: String,
    suspended_by: String,
    suspended_at: NaiveDateTime,
    reinstated_by: Option<String>,
    reinstated_at: Option<NaiveDateTime>,
    reinstate_reason: Option<String>,
}

impl From<SuspensionCols> for SuspensionRecord {
    fn from(r: SuspensionCols) -> Self {
        Self {
            id: r.id,
            reason: r.reason,
            suspended_by: r.suspended_by,
            suspended_at: utc(r.suspended_at),
            reinstated_by: r.reinstated_by,
            reinstated_at: r.reinstated_at.map(utc),
            reinstate_reason: r.reinstate_reason,
        }
    }
}

/// An owner's request to lift a suspension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// `rrq_…`.
    pub id: String,
    /// The agent.
    pub agent_id: String,
    /// The owner who asked.
    pub owner_id: String,
    /// What they told support.
    pub message: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When support closed it (by reinstating, or by resolving it without).
    pub resolved_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = reinstatement_requests)]
pub(super) struct RequestCols {
    id: String,
    agent_id: String,
    owner_id: String,
    message: String,
    created_at: NaiveDateTime,
    resolved_at: Option<NaiveDateTime>,
}

impl From<RequestCols> for RequestRecord {
    fn from(r: RequestCols) -> Self {
        Self {
            id: r.id,
            agent_id: r.agent_id,
            owner_id: r.owner_id,
            message: r.message,
            created_at: utc(r.created_at),
            resolved_at: r.resolved_at.map(utc),
        }
    }
}

/// What a suspension decision needs: the agent's standing and its owner.
fn standing(c: &mut AnyConnection, agent_id: &str) -> Result<(Standing, String)> {
    let (name, owner_id, suspended): (String, String, bool) = agents::table
        .find(agent_id)
        .select((agents::name, agents::owner_id, agents::suspended))
        .first(c)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let open: i64 = reinstatement_requests::table
        .filter(reinstatement_requests::agent_id.eq(agent_id))
        .filter(reinstatement_requests::resolved_at.is_null())
        .count()
        .get_result(c)?;
    let agent = AgentId::parse(agent_id).ok_or(StoreError::NotFound)?;
    Ok((
        Standing {
            agent,
            name,
            suspended,
            open_request: open > 0,
        },
        owner_id,
    ))
}

/// The agent's orders that are not terminal, with their versions.
fn open_orders(c: &mut AnyConnection, agent_id: &str) -> Result<Vec<Stored>> {
    let open: Vec<&str> = OrderState::ALL
        .into_iter()
        .filter(|s| !s.is_terminal())
        .map(OrderState::as_str)
        .collect();
    let rows: Vec<OrderRow> = orders::table
        .filter(orders::agent_id.eq(agent_id))
        .filter(orders::state.eq_any(open))
        .select(OrderRow::as_select())
        .load(c)?;
    rows.into_iter().map(Stored::try_from).collect()
}

/// The owner's notice about their agent (emailed by the sender, see `notice`).
fn owner_notice(owner_id: &str, agent_id: &str, n: &Notice, now: DateTime<Utc>) -> Result<Step> {
    let owner = UserId::parse(owner_id).ok_or_else(|| StoreError::corrupt(format!("owner id {owner_id}")))?;
    NewNotice {
        to: Recipient::Owner(owner),
        kind: n.kind,
        detail: n.detail.clone(),
        agent: Some(agent_id.to_owned()),
        order: None,
        thread: None,
        title: None,
    }
    .step(now)
}

impl Store {
    /// Suspends an agent with a reason (`already_suspended` if it is): the flag, a
    /// suspension record, the audit entry, the owner's email, and the end of the work
    /// it still owes (each open order takes `Command::AgentSuspended`: refunds and
    /// events for its agent) — one plan. The process forgets what it cached of the
    /// agent, so its key and placement refuse at once.
    pub fn suspend_agent(
        &self,
        admin: &UserId,
        agent_id: &str,
        reason: &MultiLine,
        policy: &Policy,
        now: DateTime<Utc>,
        once: Option<&Once<StandingChange>>,
    ) -> Result<StandingChange> {
        let now = micros(now);
        let (change, ended) = self.once(once, || {
            retrying_with_pause(|| {
                let (standing, owner_id) = self.read(|c| standing(c, agent_id))?;
                let s = support::suspend(&standing, admin, reason, now)?;
                let open = self.query(|c| open_orders(c, agent_id))?;
                let mut plan = Plan::new();
                plan.change(Change::Support(SupportChange::Suspend {
                    agent_id: agent_id.to_owned(),
                    reason: s.reason.clone(),
                    at: naive(now),
                }));
                plan.insert(NewRow::Support(SupportRow::Suspension(SuspensionRow {
                    id: format!("sus_{}", ulid()),
                    agent_id: agent_id.to_owned(),
                    reason: s.reason.clone(),
                    suspended_by: admin.to_string(),
                    suspended_at: naive(now),
                })));
                plan.insert(rows::audit(&s.audit));
                plan.push(owner_notice(&owner_id, agent_id, &s.notice, now)?);
                let mut change = StandingChange {
                    agent_id: s.agent.clone(),
                    suspended: true,
                    reason: Some(s.reason.clone()),
                    at: now,
                    refunded: vec![],
                    returned: vec![],
                };
                let mut ended = Vec::new();
                for before in open {
                    let d = decide(&before.order, Actor::Admin, Command::AgentSuspended, policy, now)?;
                    if d.order == before.order && d.effects.is_empty() {
                        continue;
                    }
                    let after = Stored {
                        order: d.order.clone(),
                        version: before.version + 1,
                    };
                    plan.push(Step::UpdateOrder {
                        row: OrderRow::new(&after.order, after.version)?,
                        expected_version: before.version,
                    });
                    plan.effects(&d, &self.base_url(), now)?;
                    match after.order.state {
                        OrderState::Refunded => change.refunded.push(after.order.id.clone()),
                        OrderState::Delivered => change.returned.push(after.order.id.clone()),
                        _ => {}
                    }
                    ended.push(after);
                }
                if let Some(once) = once {
                    once.claim_in(&mut plan, &change, now);
                }
                plan.makes_stale(Stale::Agent(agent_id.to_owned()));
                self.apply(&plan)?;
                Ok((change, ended))
            })
        })?;
        for after in &ended {
            self.cache.put_order(after);
        }
        Ok(change)
    }

    /// Lifts a suspension (`not_suspended` if there is none): the flag, the open
    /// suspension record closed, the agent's open reinstatement requests resolved, the
    /// audit entry and the owner's email — one plan. Refunded orders stay refunded.
    pub fn reinstate_agent(
        &self,
        admin: &UserId,
        agent_id: &str,
        reason: Option<&MultiLine>,
        now: DateTime<Utc>,
        once: Option<&Once<StandingChange>>,
    ) -> Result<StandingChange> {
        let now = micros(now);
        let change = self.once(once, || {
            let (standing, owner_id) = self.read(|c| standing(c, agent_id))?;
            let r = support::reinstate(&standing, admin, reason, now)?;
            let mut plan = Plan::new();
            plan.change(Change::Support(SupportChange::Reinstate {
                agent_id: agent_id.to_owned(),
                by: admin.to_string(),
                reason: r.reason.clone(),
                at: naive(now),
            }));
            plan.change(Change::Support(SupportChange::ResolveRequests {
                agent_id: agent_id.to_owned(),
                at: naive(now),
            }));
            plan.insert(rows::audit(&r.audit));
            plan.push(owner_notice(&owner_id, agent_id, &r.notice, now)?);
            let change = StandingChange {
                agent_id: r.agent,
                suspended: false,
                reason: r.reason,
                at: now,
                refunded: vec![],
                returned: vec![],
            };
            if let Some(once) = once {
                once.claim_in(&mut plan, &change, now);
            }
            plan.makes_stale(Stale::Agent(agent_id.to_owned()));
            self.apply(&plan)?;
            Ok(change)
        })?;
        Ok(change)
    }

    /// The owner of a suspended agent asks support to lift the suspension
    /// (`not_suspended`, or `reinstatement_requested` while an earlier request is
    /// open); another owner's agent is `NotFound`.
    pub fn request_reinstatement(
        &self,
        owner: &UserId,
        agent_id: &str,
        message: &MultiLine,
        now: DateTime<Utc>,
        once: Option<&Once<RequestRecord>>,
    ) -> Result<RequestRecord> {
        let now = micros(now);
        self.once(once, || {
            let (standing, owner_id) = self.read(|c| standing(c, agent_id))?;
            if owner_id != owner.as_str() {
                return Err(StoreError::NotFound);
            }
            let r = support::request_reinstatement(&standing, owner, message, now)?;
            let record = RequestRecord {
                id: format!("rrq_{}", ulid()),
                agent_id: r.agent.to_string(),
                owner_id: r.owner.to_string(),
                message: r.message,
                created_at: r.at,
                resolved_at: None,
            };
            let mut plan = Plan::new();
            if let Some(once) = once {
                once.claim_in(&mut plan, &record, now);
            }
            plan.insert(NewRow::Support(SupportRow::Request(RequestRow {
                id: record.id.clone(),
                agent_id: record.agent_id.clone(),
                owner_id: record.owner_id.clone(),
                message: record.message.clone(),
                created_at: naive(record.created_at),
            })));
            self.apply(&plan)?;
            Ok(record)
        })
    }

    /// Support closes a reinstatement request without lifting the suspension
    /// (`already_resolved` if closed): the request, the audit entry and the owner's
    /// email — one plan.
    pub fn resolve_reinstatement_request(
        &self,
        admin: &UserId,
        id: &str,
        reason: Option<&MultiLine>,
        now: DateTime<Utc>,
        once: Option<&Once<RequestRecord>>,
    ) -> Result<RequestRecord> {
        let now = micros(now);
        self.once(once, || {
            let mut record: RequestRecord = self.read(|c| {
                Ok(reinstatement_requests::table
                    .find(id)
                    .select(RequestCols::as_select())
                    .first(c)
                    .optional()?
                    .ok_or(StoreError::NotFound)?
                    .into())
            })?;
            let done = support::resolve_request(id, record.resolved_at.is_some(), admin, reason, now)?;
            record.resolved_at = Some(now);
            let mut plan = Plan::new();
            if let Some(once) = once {
                once.claim_in(&mut plan, &record, now);
            }
            plan.change(Change::Support(SupportChange::ResolveRequest {
                id: id.to_owned(),
                at: naive(now),
            }));
            plan.insert(rows::audit(&done.audit));
            plan.push(owner_notice(&record.owner_id, &record.agent_id, &done.notice, now)?);
            self.apply(&plan)?;
            Ok(record)
        })
    }

    /// Every suspension of an agent, newest first.
    pub fn suspensions_of(&self, agent_id: &str) -> Result<Vec<SuspensionRecord>> {
        self.query(|c| {
            Ok(suspensions::table
                .filter(suspensions::agent_id.eq(agent_id))
                .order((suspensions::suspended_at.desc(), suspensions::id.desc()))
                .select(SuspensionCols::as_select())
                .load::<SuspensionCols>(c)?
                .into_iter()
                .map(SuspensionRecord::from)
                .collect())
        })
    }
}
