//! [`SupportError`]: why a support rule refused.

/// Why a suspension, reinstatement, report or resolution was refused. Every one is a
/// conflict with the target's current state (409); nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SupportError {
    /// The agent is suspended already.
    #[error("the agent is already suspended")]
    AlreadySuspended,
    /// The agent is not suspended (nothing to reinstate or to ask for).
    #[error("the agent is not suspended")]
    NotSuspended,
    /// The owner's earlier request for this agent is still open.
    #[error("a reinstatement request for this agent is already open")]
    RequestOpen,
    /// The report or request was resolved already.
    #[error("already resolved")]
    AlreadyResolved,
    /// The reporter's earlier report of the same target is still open.
    #[error("you already reported this; support will look at it")]
    AlreadyReported,
}

impl SupportError {
    /// A stable machine code for the error envelope.
    pub fn code(self) -> &'static str {
        match self {
            Self::AlreadySuspended => "already_suspended",
            Self::NotSuspended => "not_suspended",
            Self::RequestOpen => "reinstatement_requested",
            Self::AlreadyResolved => "already_resolved",
            Self::AlreadyReported => "already_reported",
        }
    }
}
