//! A task on the board and every step of its life.
//!
//! ```text
//! post ──► open ──accept──► assigned ──complete──► completed   (worker paid, fee kept)
//!           │                  └──────expire────► expired     (budget back)
//!           ├──cancel (poster)──► cancelled                    (budget back)
//!           └──expire──────────► expired                       (budget back)
//! execute ──► running ──settle ok──► completed | settle failed ──► failed (budget back)
//! ```
//!
//! Each step is a function of the task, the actor and `now`, returning the task's next
//! state and the transfers it makes ([`TaskDecision`]) or a refusal.

use super::{Capabilities, MarketError, MarketPolicy};
use crate::ledger::{AccountRef, Transfer, TransferKind};
use crate::{AgentId, MultiLine, Points, SingleLine, TaskId, Timestamp};
use std::fmt;

/// The longest task title.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest task description.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
/// The longest result.
pub const MAX_RESULT_CHARS: usize = 100_000;

/// How a task came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// Posted to the board for any agent to accept.
    Board,
    /// A direct execution (`POST /api/execute`): assigned to its target at once.
    Execute,
}

impl TaskKind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Board => "board",
            Self::Execute => "execute",
        }
    }

    /// The inverse of [`TaskKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Board, Self::Execute].into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// Waiting for an agent.
    Open,
    /// Accepted by one agent, waiting for its result.
    Assigned,
    /// A direct execution whose call is under way.
    Running,
    /// Done and paid.
    Completed,
    /// Withdrawn by its poster; the budget went back.
    Cancelled,
    /// Nobody took it (or finished it) in time; the budget went back.
    Expired,
    /// A direct execution whose call failed; the budget went back.
    Failed,
}

impl TaskStatus {
    /// Every status, for parsing and filters.
    pub const ALL: [TaskStatus; 7] = [
        Self::Open,
        Self::Assigned,
        Self::Running,
        Self::Completed,
        Self::Cancelled,
        Self::Expired,
        Self::Failed,
    ];

    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Assigned => "assigned",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Failed => "failed",
        }
    }

    /// The inverse of [`TaskStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// No further step: the escrow is empty.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled | Self::Expired | Self::Failed)
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An agent acting on the board: an AgentMarket agent, or a heepr agent through its
/// `sk_live_` key (then with its categories and skills as capabilities).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    /// Its id; its wallet is `AgentWallet(id)`.
    pub id: AgentId,
    /// Suspended by support (a heepr agent): may read, may not work.
    pub suspended: bool,
}

impl Worker {
    fn working(&self) -> Result<(), MarketError> {
        if self.suspended {
            return Err(MarketError::Suspended);
        }
        Ok(())
    }
}

/// A task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// `tsk_…`
    pub id: TaskId,
    /// Board task or direct execution.
    pub kind: TaskKind,
    /// Who pays.
    pub poster: AgentId,
    /// One line.
    pub title: SingleLine,
    /// What to do.
    pub description: MultiLine,
    /// What it pays, held in its escrow until it ends.
    pub budget: Points,
    /// Who is told about it (`task.posted` goes to agents with an overlap).
    pub required_capabilities: Capabilities,
    /// Where it stands.
    pub status: TaskStatus,
    /// The agent doing it.
    pub assigned_to: Option<AgentId>,
    /// The worker's answer.
    pub result: Option<MultiLine>,
    /// Why a direct execution failed.
    pub failure: Option<String>,
    /// When it was posted.
    pub created_at: Timestamp,
    /// When an open (or assigned) task's budget returns if nothing happens.
    pub expires_at: Timestamp,
    /// When it was accepted.
    pub assigned_at: Option<Timestamp>,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
}

/// A task as it arrives at `POST /api/tasks`.
#[derive(Debug, Clone, Default)]
pub struct RawTask {
    /// Required.
    pub title: Option<String>,
    /// Optional.
    pub description: Option<String>,
    /// Required, at least 1.
    pub budget: Option<i64>,
    /// Optional, up to 20.
    pub required_capabilities: Vec<String>,
}

/// The new state of a task and the transfers that come with it, applied together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDecision {
    /// The task after the step.
    pub task: Task,
    /// Points moved by the step.
    pub transfers: Vec<Transfer>,
}

fn budget_of(raw: Option<i64>) -> Result<Points, MarketError> {
    match raw {
        Some(b) if b >= 1 => Ok(Points(b)),
        Some(_) => Err(MarketError::invalid("budget", "must be at least 1 credit")),
        None => Err(MarketError::invalid("budget", "is required")),
    }
}

fn hold(task: &Task) -> Result<Transfer, MarketError> {
    Ok(Transfer::for_task(
        AccountRef::AgentWallet(task.poster.clone()),
        AccountRef::TaskEscrow(task.id.clone()),
        task.budget,
        TransferKind::EscrowHold,
        &task.id,
    )?)
}

fn refund(task: &Task) -> Result<Transfer, MarketError> {
    Ok(Transfer::for_task(
        AccountRef::TaskEscrow(task.id.clone()),
        AccountRef::AgentWallet(task.poster.clone()),
        task.budget,
        TransferKind::Refund,
        &task.id,
    )?)
}

/// The worker's share and the platform's fee out of the escrow (either may be 0 and is
/// then left out: no zero-amount transfers).
fn pay(task: &Task, worker: &AgentId, policy: &MarketPolicy) -> Result<Vec<Transfer>, MarketError> {
    let (share, fee) = policy.fee.split(task.budget);
    let escrow = AccountRef::TaskEscrow(task.id.clone());
    let mut out = Vec::with_capacity(2);
    if share.get() > 0 {
        out.push(Transfer::for_task(
            escrow.clone(),
            AccountRef::AgentWallet(worker.clone()),
            share,
            TransferKind::Payout,
            &task.id,
        )?);
    }
    if fee.get() > 0 {
        out.push(Transfer::for_task(
            escrow,
            AccountRef::PlatformFees,
            fee,
            TransferKind::Fee,
            &task.id,
        )?);
    }
    Ok(out)
}

/// Posts a task: the budget moves from the poster's wallet into the task's escrow at
/// once (a wallet that does not cover it refuses the whole post when applied).
pub fn post(
    id: TaskId,
    poster: &Worker,
    raw: RawTask,
    policy: &MarketPolicy,
    now: Timestamp,
) -> Result<TaskDecision, MarketError> {
    let title = SingleLine::required("title", raw.title.as_deref().unwrap_or(""), MAX_TITLE_CHARS)?;
    let description = MultiLine::parse(
        "description",
        raw.description.as_deref().unwrap_or(""),
        MAX_DESCRIPTION_CHARS,
    )?;
    let budget = budget_of(raw.budget)?;
    let required_capabilities = Capabilities::parse("required_capabilities", &raw.required_capabilities, true)?;
    poster.working()?;
    let task = Task {
        id,
        kind: TaskKind::Board,
        poster: poster.id.clone(),
        title,
        description,
        budget,
        required_capabilities,
        status: TaskStatus::Open,
        assigned_to: None,
        result: None,
        failure: None,
        created_at: now,
        expires_at: now + policy.task_ttl,
        assigned_at: None,
        ended_at: None,
    };
    let transfers = vec![hold(&task)?];
    Ok(TaskDecision { task, transfers })
}

/// Applies a due expiry first, so no step acts on a task whose time ran out.
fn current(task: &Task, now: Timestamp) -> Result<Task, MarketError> {
    Ok(match expire(task, now)? {
        Some(d) => d.task,
        None => task.clone(),
    })
}

/// `by` accepts an open task. Exactly one agent wins under concurrency: the store
/// applies this over the version it was decided from.
pub fn accept(task: &Task, by: &Worker, policy: &MarketPolicy, now: Timestamp) -> Result<TaskDecision, MarketError> {
    by.working()?;
    let t = current(task, now)?;
    if t.status != TaskStatus::Open || t.kind != TaskKind::Board {
        return Err(MarketError::TaskState {
            status: t.status,
            action: "accepted",
        });
    }
    if t.poster == by.id {
        return Err(MarketError::OwnTask);
    }
    let mut next = t;
    next.status = TaskStatus::Assigned;
    next.assigned_to = Some(by.id.clone());
    next.assigned_at = Some(now);
    // The worker gets as long to finish as the task waited to be taken.
    next.expires_at = now + policy.task_ttl;
    Ok(TaskDecision {
        task: next,
        transfers: Vec::new(),
    })
}

/// The assignee hands in its result: it is paid its share rounded down, the platform
/// keeps the rest.
pub fn complete(
    task: &Task,
    by: &Worker,
    result: &str,
    policy: &MarketPolicy,
    now: Timestamp,
) -> Result<TaskDecision, MarketError> {
    by.working()?;
    let result = MultiLine::required("result", result, MAX_RESULT_CHARS)?;
    let t = current(task, now)?;
    if t.assigned_to.as_ref() != Some(&by.id) && t.status != TaskStatus::Open {
        return Err(MarketError::NotAssignee);
    }
    if t.status != TaskStatus::Assigned {
        return Err(MarketError::TaskState {
            status: t.status,
            action: "completed",
        });
    }
    let transfers = pay(&t, &by.id, policy)?;
    let mut next = t;
    next.status = TaskStatus::Completed;
    next.result = Some(result);
    next.ended_at = Some(now);
    Ok(TaskDecision { task: next, transfers })
}

/// The poster withdraws an open task; the budget goes back.
pub fn cancel(task: &Task, by: &Worker, now: Timestamp) -> Result<TaskDecision, MarketError> {
    let t = current(task, now)?;
    if t.poster != by.id {
        return Err(MarketError::NotPoster);
    }
    if t.status != TaskStatus::Open {
        return Err(MarketError::TaskState {
            status: t.status,
            action: "cancelled",
        });
    }
    let transfers = vec![refund(&t)?];
    let mut next = t;
    next.status = TaskStatus::Cancelled;
    next.ended_at = Some(now);
    Ok(TaskDecision { task: next, transfers })
}

/// An open or assigned board task whose time ran out: the budget goes back. `None`
/// when nothing is due.
pub fn expire(task: &Task, now: Timestamp) -> Result<Option<TaskDecision>, MarketError> {
    let due = task.kind == TaskKind::Board
        && matches!(task.status, TaskStatus::Open | TaskStatus::Assigned)
        && task.expires_at <= now;
    if !due {
        return Ok(None);
    }
    let transfers = vec![refund(task)?];
    let mut next = task.clone();
    next.status = TaskStatus::Expired;
    next.ended_at = Some(task.expires_at);
    Ok(Some(TaskDecision { task: next, transfers }))
}

pub(super) fn refund_transfer(task: &Task) -> Result<Transfer, MarketError> {
    refund(task)
}

pub(super) fn hold_transfer(task: &Task) -> Result<Transfer, MarketError> {
    hold(task)
}

pub(super) fn pay_transfers(
    task: &Task,
    worker: &AgentId,
    policy: &MarketPolicy,
) -> Result<Vec<Transfer>, MarketError> {
    pay(task, worker, policy)
}

pub(super) fn budget(raw: Option<i64>) -> Result<Points, MarketError> {
    budget_of(raw)
}
