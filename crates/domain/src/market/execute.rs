//! Direct execution (`POST /api/execute`): hold the budget, call the target outside
//! any transaction, then settle — pay on a result, refund on anything else. A hold
//! that a crash left behind is settled as failed once its call can no longer answer.

use super::task::{self, Task, TaskDecision, TaskKind, TaskStatus, Worker};
use super::{Capabilities, MarketError, MarketPolicy};
use crate::{AgentId, MultiLine, Points, SingleLine, TaskId, Timestamp};

/// The longest task description for an execution.
pub const MAX_DESCRIPTION_CHARS: usize = task::MAX_DESCRIPTION_CHARS;

/// The agent being hired, as far as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Its id (its wallet is paid).
    pub id: AgentId,
    /// The least it works for.
    pub price_per_task: Points,
    /// Where it is called, if it has an endpoint.
    pub endpoint_url: Option<String>,
    /// Whether it has a system prompt an LLM can run.
    pub has_system_prompt: bool,
    /// A suspended heepr agent is not hired.
    pub suspended: bool,
}

/// How the target is run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runner {
    /// `POST {"task_id", "task_description", "budget", "from_agent_id"}` to its URL.
    Endpoint(String),
    /// Its system prompt through the operator's chat-completions provider.
    Llm,
}

/// An execution as it arrives.
#[derive(Debug, Clone, Default)]
pub struct RawExecution {
    /// Required.
    pub task_description: Option<String>,
    /// Required, at least the target's price.
    pub budget: Option<i64>,
}

/// The hold: a running task assigned to the target with the budget in escrow, and how
/// to run it. Refused — nothing charged — when the target cannot be run.
pub fn hold(
    id: TaskId,
    from: &Worker,
    target: &Target,
    raw: RawExecution,
    llm_configured: bool,
    policy: &MarketPolicy,
    now: Timestamp,
) -> Result<(TaskDecision, Runner), MarketError> {
    let description = MultiLine::required(
        "task_description",
        raw.task_description.as_deref().unwrap_or(""),
        MAX_DESCRIPTION_CHARS,
    )?;
    let budget = task::budget(raw.budget)?;
    if from.suspended {
        return Err(MarketError::Suspended);
    }
    if from.id == target.id {
        return Err(MarketError::SelfExecution);
    }
    if target.suspended {
        return Err(MarketError::Suspended);
    }
    if budget < target.price_per_task {
        return Err(MarketError::invalid(
            "budget",
            format!("this agent asks at least {} credits per task", target.price_per_task),
        ));
    }
    let runner = match (&target.endpoint_url, target.has_system_prompt, llm_configured) {
        (Some(url), _, _) => Runner::Endpoint(url.clone()),
        (None, true, true) => Runner::Llm,
        (None, true, false) => return Err(MarketError::NoLlm),
        (None, false, _) => return Err(MarketError::NotExecutable),
    };
    let title = SingleLine::required("title", "direct execution", task::MAX_TITLE_CHARS)?;
    let t = Task {
        id,
        kind: TaskKind::Execute,
        poster: from.id.clone(),
        title,
        description,
        budget,
        required_capabilities: Capabilities::default(),
        status: TaskStatus::Running,
        assigned_to: Some(target.id.clone()),
        result: None,
        failure: None,
        created_at: now,
        // Only the crash sweep reads it for a running execution.
        expires_at: now + policy.task_ttl,
        assigned_at: Some(now),
        ended_at: None,
    };
    let transfers = vec![task::hold_transfer(&t)?];
    Ok((TaskDecision { task: t, transfers }, runner))
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer with a result.
    Result(String),
    /// Anything else, in words for the caller (time-out, 5xx, oversize, malformed…).
    Failed(String),
}

/// Settles a running execution: the target is paid (minus the fee) for a result, the
/// caller refunded otherwise. A result that breaks the text rules counts as a failure.
pub fn settle(t: &Task, outcome: Outcome, policy: &MarketPolicy, now: Timestamp) -> Result<TaskDecision, MarketError> {
    if t.kind != TaskKind::Execute || t.status != TaskStatus::Running {
        return Err(MarketError::TaskState {
            status: t.status,
            action: "settled",
        });
    }
    let mut next = t.clone();
    next.ended_at = Some(now);
    let result = match outcome {
        Outcome::Result(r) => MultiLine::required("result", &r, task::MAX_RESULT_CHARS)
            .map_err(|e| format!("the agent's result was refused ({e})")),
        Outcome::Failed(why) => Err(why),
    };
    let transfers = match (result, &t.assigned_to) {
        (Ok(result), Some(worker)) => {
            next.status = TaskStatus::Completed;
            next.result = Some(result);
            task::pay_transfers(t, worker, policy)?
        }
        (Ok(_), None) => {
            next.status = TaskStatus::Failed;
            next.failure = Some("the execution has no target".into());
            vec![task::refund_transfer(t)?]
        }
        (Err(why), _) => {
            next.status = TaskStatus::Failed;
            next.failure = Some(why);
            vec![task::refund_transfer(t)?]
        }
    };
    Ok(TaskDecision { task: next, transfers })
}

/// A running execution older than `limit` (the call's time-out plus a margin) can no
/// longer be answered — its process died between hold and settle: it fails and the
/// caller is refunded. `None` when it is not due.
pub fn abandoned(
    t: &Task,
    limit: chrono::Duration,
    policy: &MarketPolicy,
    now: Timestamp,
) -> Result<Option<TaskDecision>, MarketError> {
    if t.kind != TaskKind::Execute || t.status != TaskStatus::Running || t.created_at + limit > now {
        return Ok(None);
    }
    settle(
        t,
        Outcome::Failed("the execution was interrupted before it settled; refunded".into()),
        policy,
        now,
    )
    .map(Some)
}
