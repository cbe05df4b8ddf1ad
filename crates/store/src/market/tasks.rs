//! Tasks on the board: post, accept, complete, cancel, expire, and the reads.

use super::rows::{FanoutRow, TaskRow};
use super::{MarketPrincipal, Page, Paid, balance_after};
use crate::error::{Result, StoreError};
use crate::idempotency::Once;
use crate::order::retrying_with_pause as retrying;
use crate::plan::record::{Change, NewRow};
use crate::plan::{self, Plan};
use crate::rows::naive;
use crate::schema::tasks;
use crate::{Store, ulid};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use heepr_domain::TaskId;
use heepr_domain::market::task::{self as rules, RawTask};
use heepr_domain::market::{Capability, MarketPolicy, Task, TaskDecision, TaskKind, TaskStatus};

/// A task and the version it was read at.
#[derive(Debug, Clone)]
pub(crate) struct StoredTask {
    pub task: Task,
    pub version: i64,
}

/// The plan for a decision on a stored task (or a new one when `before` is `None`):
/// the row, its transfers and the outcome counters it moves.
pub(crate) fn task_plan(before: Option<&StoredTask>, d: &TaskDecision, now: DateTime<Utc>) -> Result<Plan> {
    let mut p = Plan::new();
    match before {
        None => p.insert(NewRow::Task(TaskRow::new(&d.task, 0)?)),
        Some(b) => p.change(Change::UpdateTask {
            row: TaskRow::new(&d.task, b.version + 1)?,
            expected_version: b.version,
        }),
    }
    for t in &d.transfers {
        p.push(plan::transfer(t, now));
    }
    let worker = d.task.assigned_to.as_ref().map(|a| a.to_string());
    let was = before.map(|b| b.task.status);
    match (d.task.status, worker) {
        (TaskStatus::Completed, Some(id)) => p.change(Change::MarketOutcome {
            id,
            completed: 1,
            failed: 0,
        }),
        // An accepted task left to expire, or a call the target failed.
        (TaskStatus::Expired, Some(id)) if was == Some(TaskStatus::Assigned) => p.change(Change::MarketOutcome {
            id,
            completed: 0,
            failed: 1,
        }),
        _ => {}
    }
    Ok(p)
}

impl Store {
    pub(crate) fn load_task(&self, id: &TaskId) -> Result<StoredTask> {
        let row = self.query(|c| {
            Ok(tasks::table
                .find(id.as_str())
                .select(TaskRow::as_select())
                .first(c)
                .optional()?)
        })?;
        let row = row.ok_or(StoreError::NotFound)?;
        Ok(StoredTask {
            task: row.task()?,
            version: row.version,
        })
    }

    /// Posts a task: its row, the hold of its budget and one webhook fan-out row, in
    /// one transaction (a poster short of credits gets `insufficient_credits`, nothing
    /// written). Receivers are found and called later by the webhook worker.
    pub fn post_task(
        &self,
        by: &MarketPrincipal,
        raw: RawTask,
        policy: &MarketPolicy,
        once: Option<&Once<Paid<Task>>>,
        now: DateTime<Utc>,
    ) -> Result<Paid<Task>> {
        let id = TaskId::from_unique(ulid());
        let d = rules::post(id, &by.worker(), raw, policy, now)?;
        let before = self.market_balance(&by.agent)?;
        let out = Paid {
            value: d.task.clone(),
            balance: balance_after(before, &by.agent, &d.transfers),
        };
        let mut p = task_plan(None, &d, now)?;
        if !d.task.required_capabilities.is_empty() {
            p.insert(NewRow::Fanout(FanoutRow {
                id: format!("whf_{}", ulid()),
                task_id: d.task.id.to_string(),
                created_at: naive(now),
            }));
        }
        if let Some(o) = once {
            o.claim_in(&mut p, &out, now);
        }
        self.once(once, || self.apply(&p).map_err(insufficient))?;
        Ok(out)
    }

    /// Runs one step on a stored task, retried against fresh state when another writer
    /// changed the task first (32 agents accepting at once: one wins, the others are
    /// refused by the rules on the state the winner left).
    fn task_step(
        &self,
        by: &MarketPrincipal,
        id: &TaskId,
        once: Option<&Once<Paid<Task>>>,
        now: DateTime<Utc>,
        decide: impl Fn(&Task) -> std::result::Result<TaskDecision, heepr_domain::market::MarketError>,
    ) -> Result<Paid<Task>> {
        self.once(once, || {
            retrying(|| {
                let stored = self.load_task(id)?;
                let d = decide(&stored.task)?;
                let before = self.market_balance(&by.agent)?;
                let out = Paid {
                    value: d.task.clone(),
                    balance: balance_after(before, &by.agent, &d.transfers),
                };
                let mut p = task_plan(Some(&stored), &d, now)?;
                if let Some(o) = once {
                    o.claim_in(&mut p, &out, now);
                }
                self.apply(&p)?;
                Ok(out)
            })
        })
    }

    /// `by` accepts an open task (exactly one winner).
    pub fn accept_task(
        &self,
        by: &MarketPrincipal,
        id: &TaskId,
        policy: &MarketPolicy,
        once: Option<&Once<Paid<Task>>>,
        now: DateTime<Utc>,
    ) -> Result<Paid<Task>> {
        self.visible_task(id, Some(by))?;
        self.task_step(by, id, once, now, |t| rules::accept(t, &by.worker(), policy, now))
    }

    /// The assignee hands in its result and is paid.
    pub fn complete_task(
        &self,
        by: &MarketPrincipal,
        id: &TaskId,
        result: &str,
        policy: &MarketPolicy,
        once: Option<&Once<Paid<Task>>>,
        now: DateTime<Utc>,
    ) -> Result<Paid<Task>> {
        self.visible_task(id, Some(by))?;
        self.task_step(by, id, once, now, |t| {
            rules::complete(t, &by.worker(), result, policy, now)
        })
    }

    /// The poster withdraws an open task; the budget returns.
    pub fn cancel_task(
        &self,
        by: &MarketPrincipal,
        id: &TaskId,
        once: Option<&Once<Paid<Task>>>,
        now: DateTime<Utc>,
    ) -> Result<Paid<Task>> {
        self.visible_task(id, Some(by))?;
        self.task_step(by, id, once, now, |t| rules::cancel(t, &by.worker(), now))
    }

    /// A task as `viewer` may see it: board tasks are public; a direct execution only
    /// to its two parties (404 for anyone else).
    pub fn visible_task(&self, id: &TaskId, viewer: Option<&MarketPrincipal>) -> Result<Task> {
        let t = self.load_task(id)?.task;
        let party = viewer.is_some_and(|v| t.poster == v.agent || t.assigned_to.as_ref() == Some(&v.agent));
        if t.kind == TaskKind::Execute && !party {
            return Err(StoreError::NotFound);
        }
        Ok(t)
    }

    /// Board tasks, newest first, by status and capability; `after` is the previous
    /// page's `next`.
    pub fn tasks(
        &self,
        status: Option<TaskStatus>,
        capability: Option<&Capability>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Page<Task>> {
        let rows = self.query(|c| {
            let mut q = tasks::table
                .select(TaskRow::as_select())
                .filter(tasks::kind.eq(TaskKind::Board.as_str()))
                .order(tasks::id.desc())
                .limit(i64::try_from(limit).unwrap_or(100) + 1)
                .into_boxed();
            if let Some(s) = status {
                q = q.filter(tasks::status.eq(s.as_str()));
            }
            if let Some(cap) = capability {
                q = q.filter(tasks::caps_match.like(format!("%,{},%", cap.as_str())));
            }
            if let Some(a) = after {
                q = q.filter(tasks::id.lt(a.to_owned()));
            }
            Ok(q.load(c)?)
        })?;
        let items = rows.iter().map(TaskRow::task).collect::<Result<Vec<_>>>()?;
        Ok(Page::of(items, limit, |t| t.id.to_string()))
    }

    /// Expires every open or assigned board task whose time ran out, returning its
    /// budget (the scheduler's sweep). Returns how many expired.
    pub fn expire_tasks(&self, now: DateTime<Utc>) -> Result<usize> {
        let due: Vec<String> = self.query(|c| {
            Ok(tasks::table
                .select(tasks::id)
                .filter(tasks::kind.eq(TaskKind::Board.as_str()))
                .filter(tasks::status.eq_any([TaskStatus::Open.as_str(), TaskStatus::Assigned.as_str()]))
                .filter(tasks::expires_at.le(naive(now)))
                .limit(500)
                .load(c)?)
        })?;
        self.sweep(due, now, |t| rules::expire(t, now))
    }

    /// Applies `decide` to each of `ids` (a timer's due tasks), each in its own
    /// transaction over the version it read; returns how many changed. A task a
    /// concurrent step already moved on is skipped.
    pub(crate) fn sweep(
        &self,
        ids: Vec<String>,
        now: DateTime<Utc>,
        decide: impl Fn(&Task) -> std::result::Result<Option<TaskDecision>, heepr_domain::market::MarketError>,
    ) -> Result<usize> {
        let mut n = 0;
        for id in ids {
            let Some(id) = TaskId::parse(&id) else { continue };
            let done = retrying(|| {
                let stored = self.load_task(&id)?;
                match decide(&stored.task)? {
                    None => Ok(false),
                    Some(d) => self.apply(&task_plan(Some(&stored), &d, now)?).map(|()| true),
                }
            });
            match done {
                Ok(d) => n += usize::from(d),
                Err(StoreError::Market(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}

impl Store {
    /// The board's timers: expired tasks and abandoned executions, refunded.
    pub fn run_market_timers(
        &self,
        policy: &MarketPolicy,
        abandon_after: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        Ok(self.expire_tasks(now)? + self.sweep_abandoned_executions(abandon_after, policy, now)?)
    }
}

/// A hold the poster's wallet cannot cover is the board's 402.
pub(crate) fn insufficient(e: StoreError) -> StoreError {
    match e {
        StoreError::Domain(heepr_domain::DomainError::InsufficientPoints) => {
            heepr_domain::market::MarketError::InsufficientCredits.into()
        }
        other => other,
    }
}

/// A fresh task id.
pub fn new_task_id() -> TaskId {
    TaskId::from_unique(ulid())
}
