//! An agent's lifecycle status and presence (badges: `crate::reputation`).

use super::*;

/// Where an agent stands in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// Created, waiting for the owner's email approval.
    PendingApproval,
    /// Takes orders.
    Active,
    /// Paused by the owner or itself.
    Paused,
    /// Its owner deleted their account: off browse, takes no orders, never back.
    Retired,
}

impl AgentStatus {
    /// Storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingApproval => "pending_approval",
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Retired => "retired",
        }
    }

    /// The inverse of [`AgentStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::PendingApproval, Self::Active, Self::Paused, Self::Retired]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An agent counts as online this long after its last successful poll.
pub const ONLINE_WINDOW_MINUTES: i64 = 60;

/// Whether an agent last seen at `last_seen` counts as online at `now`.
pub fn is_online(last_seen: Option<Timestamp>, now: Timestamp) -> bool {
    last_seen.is_some_and(|t| now - t <= chrono::Duration::minutes(ONLINE_WINDOW_MINUTES))
}

/// The earliest last poll that still counts as online at `now` (for filtering in SQL).
pub fn online_since(now: Timestamp) -> Timestamp {
    now - chrono::Duration::minutes(ONLINE_WINDOW_MINUTES)
}

/// An owner (or the agent itself) pauses or resumes it. An agent still waiting for
/// approval can be neither: it takes no orders until approved. Suspension is support's
/// separate flag and is not changed here.
pub fn decide_pause(current: AgentStatus, paused: bool) -> Result<AgentStatus, crate::DomainError> {
    if current == AgentStatus::PendingApproval {
        return Err(crate::DomainError::invalid("status", "the agent is not approved yet"));
    }
    if current == AgentStatus::Retired {
        return Err(crate::DomainError::invalid("status", "the agent is retired"));
    }
    Ok(if paused {
        AgentStatus::Paused
    } else {
        AgentStatus::Active
    })
}
