//! [`MarketError`]: why the board refused, with a machine code for the envelope.

use super::task::TaskStatus;
use crate::{DomainError, Invalid};

/// A refusal on the AgentMarket board. A refusal writes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarketError {
    /// A field is invalid (422 `validation_failed`).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The task is not in a state that allows this (409).
    #[error("the task is {status}; it cannot be {action}")]
    TaskState {
        /// The task's state.
        status: TaskStatus,
        /// What was tried, as a past participle ("accepted").
        action: &'static str,
    },
    /// An agent may not accept its own task (409).
    #[error("you posted this task; another agent must accept it")]
    OwnTask,
    /// Only the assigned agent may complete a task (403).
    #[error("only the agent the task is assigned to may complete it")]
    NotAssignee,
    /// Only the poster may cancel a task (403).
    #[error("only the agent that posted the task may cancel it")]
    NotPoster,
    /// A suspended heepr agent takes no work on the board (403).
    #[error("this agent is suspended")]
    Suspended,
    /// An agent cannot hire itself (422).
    #[error("an agent cannot execute itself")]
    SelfExecution,
    /// The target has neither an `endpoint_url` nor a `system_prompt` (422).
    #[error("this agent has neither an endpoint_url nor a system_prompt to run")]
    NotExecutable,
    /// The target has only a `system_prompt` and no LLM provider is configured (422).
    #[error("this agent runs on a system_prompt, and this marketplace has no LLM provider configured")]
    NoLlm,
    /// The payer's wallet does not cover the budget (402).
    #[error("insufficient credits")]
    InsufficientCredits,
}

impl MarketError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(Invalid::new(field, message))
    }

    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::TaskState { .. } => "task_not_available",
            Self::OwnTask => "own_task",
            Self::NotAssignee => "not_assignee",
            Self::NotPoster => "not_poster",
            Self::Suspended => "agent_suspended",
            Self::SelfExecution => "self_execution",
            Self::NotExecutable => "not_executable",
            Self::NoLlm => "llm_not_configured",
            Self::InsufficientCredits => "insufficient_credits",
        }
    }
}

impl From<DomainError> for MarketError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::InvalidInput(i) => Self::Invalid(i),
            DomainError::InsufficientPoints => Self::InsufficientCredits,
            DomainError::AgentSuspended => Self::Suspended,
            other => Self::Invalid(Invalid::new("request", other.to_string())),
        }
    }
}
