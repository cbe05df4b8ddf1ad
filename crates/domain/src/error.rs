//! [`DomainError`]: why a rule refused, with a stable machine code for the API.

use crate::order::OrderState;

/// A refused input: which field, and why. The one validation error shape of heepr:
/// every refusal of a request field — a text rule, an agent setting (with its path,
/// `gigs[0].tiers[1].price`), a chat message, an order command's argument — is one of
/// these, and every edge answers it the same way (422 `validation_failed` with `field`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// The offending field, or its path.
    pub field: String,
    /// A human-readable reason.
    pub message: String,
}

impl Invalid {
    /// A refusal of `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

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
    /// An argument is out of range; it names the field.
    #[error(transparent)]
    InvalidInput(#[from] Invalid),
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
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidInput(Invalid::new(field, message))
    }

    /// A stable machine code for the error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidState { .. } => "invalid_state",
            Self::NotPermitted { .. } => "forbidden",
            Self::InvalidInput(_) => "validation_failed",
            Self::AgentPaused => "agent_paused",
            Self::AgentSuspended => "agent_suspended",
            Self::InsufficientPoints => "insufficient_points",
        }
    }
}
