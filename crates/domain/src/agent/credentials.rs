//! Bootstrap registration (SPEC §7, §15) and email approval codes.

use super::*;

/// A stored bootstrap token, as the store found it by hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapRecord {
    /// Whose token it is.
    pub agent_id: String,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Already exchanged for a key.
    pub used: bool,
    /// Voided by a newer token.
    pub voided: bool,
}

/// Why a registration is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// No such token, or the token of another agent.
    #[error("unknown bootstrap token")]
    Unknown,
    /// The token was already used.
    #[error("this bootstrap token was already used")]
    Used,
    /// The token is older than 7 days.
    #[error("this bootstrap token has expired")]
    Expired,
    /// The agent already has a live API key (the token is not consumed).
    #[error("the agent already has an active API key; revoke it first")]
    ActiveKeyExists,
}

impl RegisterError {
    /// Machine code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unknown => "bootstrap_unknown",
            Self::Used => "bootstrap_used",
            Self::Expired => "bootstrap_expired",
            Self::ActiveKeyExists => "active_key_exists",
        }
    }
}

/// Decides a registration, checking in the order SPEC §15 fixes: unknown → used →
/// expired → active key. So the losers of a race over one token see `used`.
pub fn decide_registration(
    token: Option<&BootstrapRecord>,
    agent_id: &str,
    has_active_key: bool,
    now: Timestamp,
) -> Result<(), RegisterError> {
    let t = token.filter(|t| t.agent_id == agent_id).ok_or(RegisterError::Unknown)?;
    if t.used || t.voided {
        return Err(if t.used {
            RegisterError::Used
        } else {
            RegisterError::Unknown
        });
    }
    if now >= t.expires_at {
        return Err(RegisterError::Expired);
    }
    if has_active_key {
        return Err(RegisterError::ActiveKeyExists);
    }
    Ok(())
}

/// What an approval code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalPurpose {
    /// First activation after the wizard.
    Activate,
    /// A new bootstrap token (regenerate or rotate).
    Bootstrap,
}

impl ApprovalPurpose {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activate => "activate",
            Self::Bootstrap => "bootstrap",
        }
    }

    /// The inverse of [`ApprovalPurpose::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Activate, Self::Bootstrap].into_iter().find(|x| x.as_str() == s)
    }
}

/// Why an approval code is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    /// No such code, or another owner's.
    #[error("unknown approval code")]
    Unknown,
    /// Already used.
    #[error("this approval code was already used")]
    Used,
    /// Older than 24 hours.
    #[error("this approval code has expired")]
    Expired,
}

impl ApprovalError {
    /// Machine code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unknown => "approval_unknown",
            Self::Used => "approval_used",
            Self::Expired => "approval_expired",
        }
    }
}

/// A stored approval code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRecord {
    /// The owner who must confirm it.
    pub owner_id: String,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Already confirmed.
    pub used: bool,
}

/// Decides whether `owner` may confirm an approval code.
pub fn decide_approval(code: Option<&ApprovalRecord>, owner: &str, now: Timestamp) -> Result<(), ApprovalError> {
    let c = code.filter(|c| c.owner_id == owner).ok_or(ApprovalError::Unknown)?;
    if c.used {
        return Err(ApprovalError::Used);
    }
    if now >= c.expires_at {
        return Err(ApprovalError::Expired);
    }
    Ok(())
}

/// How long a bootstrap link (the Skill Setup's one-time download URL) works.
pub const SETUP_LINK_TTL_HOURS: i64 = 24;

/// A stored bootstrap link, as the store found it by the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupLinkRecord {
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Already fetched once.
    pub used: bool,
    /// Voided by a regeneration, a rotation or a newer approval.
    pub voided: bool,
}

/// Why a bootstrap link is refused. Every refusal of a link that existed is `410 Gone`:
/// it worked once and never will again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SetupLinkError {
    /// No such link.
    #[error("unknown bootstrap link")]
    Unknown,
    /// Fetched before: a link works once.
    #[error("this bootstrap link was already used; ask the owner for a new one")]
    Used,
    /// Older than [`SETUP_LINK_TTL_HOURS`].
    #[error("this bootstrap link has expired; ask the owner for a new one")]
    Expired,
    /// The owner regenerated the token or rotated the key since.
    #[error("this bootstrap link was replaced; ask the owner for the new one")]
    Voided,
}

impl SetupLinkError {
    /// Machine code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unknown => "not_found",
            Self::Used => "link_used",
            Self::Expired => "link_expired",
            Self::Voided => "link_voided",
        }
    }
}

/// Decides whether a bootstrap link may be fetched: unknown → used → voided → expired.
pub fn decide_setup_link(link: Option<&SetupLinkRecord>, now: Timestamp) -> Result<(), SetupLinkError> {
    let l = link.ok_or(SetupLinkError::Unknown)?;
    if l.used {
        return Err(SetupLinkError::Used);
    }
    if l.voided {
        return Err(SetupLinkError::Voided);
    }
    if now >= l.expires_at {
        return Err(SetupLinkError::Expired);
    }
    Ok(())
}
