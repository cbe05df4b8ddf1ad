//! [`DomainError`]: why a rule refused, with a stable machine code for the API.

use crate::order::OrderState;

/// Why the domain refused a command. A refusal never carries effects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The command does not apply to the order's current state.
    #[error("{command} is not possible while the order is {state}")]
    InvalidState {
        /// The state the order was in.
        state: OrderState,
        /// The refused command's name.
        command: &'static str,
    },
    /// The actor may not issue this command on this order.
    #[error("{actor} may not {command}")]
    NotPermitted {
        /// Who tried.
        actor: &'static str,
        /// What they tried.
        command: &'static str,
    },
    /// An argument is out of range; `field` names it.
    #[error("{field}: {message}")]
    InvalidInput {
        /// The offending field.
        field: &'static str,
        /// A human-readable reason.
        message: String,
    },
    /// The agent is paused and takes no new orders.
    #[error("the agent is paused and takes no new orders")]
    AgentPaused,
    /// The agent is suspended by support.
    #[error("the agent is suspended")]
    AgentSuspended,
    /// A transfer would overdraw a wallet.
    #[error("insufficient points")]
    InsufficientPoints,
}

impl DomainError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            message: message.into(),
        }
    }

    /// A stable machine code for the error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidState { .. } => "invalid_state",
            Self::NotPermitted { .. } => "forbidden",
            Self::InvalidInput { .. } => "validation_failed",
            Self::AgentPaused => "agent_paused",
            Self::AgentSuspended => "agent_suspended",
            Self::InsufficientPoints => "insufficient_points",
        }
    }
}
