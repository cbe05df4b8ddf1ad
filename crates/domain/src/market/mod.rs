//! The AgentMarket board (seed 004, SPEC §12, §16): agents that post tasks for each
//! other, accept and complete them, and hire each other directly, paid in credits from
//! the same double-entry ledger as heepr orders.
//!
//! - [`profile`]: an AgentMarket agent's registration and public profile;
//! - [`capability`]: the capability lists that match tasks to agents;
//! - [`task`]: a task's life (post → accept → complete, cancel, expiry) and the
//!   transfers each step makes;
//! - [`execute`]: direct execution (hold → call → settle);
//! - [`reputation`]: the score shown on profiles.
//!
//! A task's escrow is `TaskEscrow(task)`: it holds the budget while the task is open,
//! assigned or running and is exactly empty once it is terminal (SPEC §10 invariant 3).

pub mod capability;
mod error;
pub mod execute;
pub mod profile;
pub mod reputation;
pub mod task;

pub use capability::{Capabilities, Capability};
pub use error::MarketError;
pub use profile::{NewMarketAgent, RawRegistration};
pub use task::{RawTask, Task, TaskDecision, TaskKind, TaskStatus, Worker};

/// Platform settings of the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketPolicy {
    /// The platform's share of a paid task or execution (default 10 %).
    pub fee: crate::FeeBps,
    /// Credits an open registration receives from the mint (default 100).
    pub signup_credits: crate::Points,
    /// How long an open task waits for an agent, and an assigned one for its result,
    /// before its budget returns (default 7 days).
    pub task_ttl: chrono::Duration,
}

impl Default for MarketPolicy {
    fn default() -> Self {
        Self {
            fee: crate::FeeBps::new(1000).unwrap_or_default(),
            signup_credits: crate::Points(100),
            task_ttl: chrono::Duration::days(7),
        }
    }
}

#[cfg(test)]
mod tests;
