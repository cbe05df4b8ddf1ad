//! Direct execution: the hold and the settlement, each its own transaction, with the
//! call to the target in between and outside both (the HTTP layer makes it).

use super::tasks::{insufficient, task_plan};
use super::{MarketPrincipal, Paid, balance_after};
use crate::error::Result;
use crate::idempotency::{ClaimRow, Once};
use crate::order::retrying_with_pause as retrying;
use crate::plan::Step;
use crate::plan::record::Change;
use crate::rows::naive;
use crate::schema::tasks;
use crate::{Store, ulid};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use heepr_domain::market::execute::{self as rules, Outcome, RawExecution, Runner};
use heepr_domain::market::{MarketPolicy, Task, TaskKind, TaskStatus};
use heepr_domain::{AgentId, TaskId};

/// A hold made: the running task and how to run its target.
#[derive(Debug, Clone)]
pub struct Held {
    /// The running execution (its budget in escrow).
    pub task: Task,
    /// Endpoint or LLM.
    pub runner: Runner,
    /// The target's prompt, for the LLM runner.
    pub system_prompt: Option<String>,
    /// The caller's credits after the hold.
    pub balance: i64,
}

/// A direct execution as asked for.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    /// Who is hired.
    pub target: AgentId,
    /// What for, and for how much.
    pub raw: RawExecution,
    /// Whether the operator configured an LLM provider (for `system_prompt` agents).
    pub llm_configured: bool,
}

/// What a retry of a keyed execution sees while its call is under way (replaced by the
/// real answer when it settles).
pub const IN_PROGRESS_BODY: &str = "{\"success\":false,\"error\":\"this execution is still running; retry with the same Idempotency-Key for its answer\",\"code\":\"idempotency_in_progress\"}";

impl Store {
    /// Holds the budget for a direct execution of `target` (refused, nothing charged,
    /// if the target cannot be run or the caller's credits do not cover it). A keyed
    /// request claims its key here, answered "in progress" until it settles.
    pub fn hold_execution(
        &self,
        by: &MarketPrincipal,
        req: ExecRequest,
        policy: &MarketPolicy,
        once: Option<&Once<Paid<Task>>>,
        now: DateTime<Utc>,
    ) -> Result<Held> {
        let t = self.exec_target(&req.target)?;
        let id = TaskId::from_unique(ulid());
        let (d, runner) = rules::hold(id, &by.worker(), &t.target, req.raw, req.llm_configured, policy, now)?;
        let before = self.market_balance(&by.agent)?;
        let mut p = task_plan(None, &d, now)?;
        if let Some(o) = once {
            p.push_first(Step::Claim {
                row: ClaimRow {
                    principal: o.claim.principal.clone(),
                    idem_key: o.claim.key.clone(),
                    request_hash: o.claim.request_hash.clone(),
                    status: 409,
                    body: IN_PROGRESS_BODY.to_owned(),
                    created_at: naive(now),
                },
            });
        }
        self.once(once, || self.apply(&p).map_err(insufficient))?;
        Ok(Held {
            balance: balance_after(before, &by.agent, &d.transfers),
            task: d.task,
            runner,
            system_prompt: t.system_prompt,
        })
    }

    /// Settles a running execution with the call's outcome: the target paid for a
    /// result, the caller refunded otherwise (and the target's failures counted). A
    /// keyed request's stored answer becomes the real one in the same transaction.
    pub fn settle_execution(
        &self,
        by: &MarketPrincipal,
        id: &TaskId,
        outcome: Outcome,
        policy: &MarketPolicy,
        once: Option<&Once<Paid<Task>>>,
        now: DateTime<Utc>,
    ) -> Result<Paid<Task>> {
        retrying(|| {
            let stored = self.load_task(id)?;
            let d = rules::settle(&stored.task, outcome.clone(), policy, now)?;
            let before = self.market_balance(&by.agent)?;
            let out = Paid {
                value: d.task.clone(),
                balance: balance_after(before, &by.agent, &d.transfers),
            };
            let mut p = task_plan(Some(&stored), &d, now)?;
            if let (TaskStatus::Failed, Some(target)) = (d.task.status, &d.task.assigned_to) {
                p.change(Change::MarketOutcome {
                    id: target.to_string(),
                    completed: 0,
                    failed: 1,
                });
            }
            if let Some(o) = once {
                p.change(Change::ClaimAnswer {
                    principal: o.claim.principal.clone(),
                    key: o.claim.key.clone(),
                    status: i32::from(o.status),
                    body: (o.render)(&out),
                });
            }
            self.apply(&p)?;
            Ok(out)
        })
    }

    /// Refunds running executions older than `limit` (the call's time-out plus a
    /// margin): their process died between hold and settle. Returns how many.
    pub fn sweep_abandoned_executions(
        &self,
        limit: chrono::Duration,
        policy: &MarketPolicy,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let due: Vec<String> = self.query(|c| {
            Ok(tasks::table
                .select(tasks::id)
                .filter(tasks::kind.eq(TaskKind::Execute.as_str()))
                .filter(tasks::status.eq(TaskStatus::Running.as_str()))
                .filter(tasks::created_at.le(naive(now - limit)))
                .limit(500)
                .load(c)?)
        })?;
        self.sweep(due, now, |t| rules::abandoned(t, limit, policy, now))
    }
}
