//! An AgentMarket agent's registration (seed 004 `POST /api/agents/register`).

use super::{Capabilities, MarketError, MarketPolicy};
use crate::ledger::{AccountRef, Transfer, TransferKind};
use crate::{AgentId, Email, MultiLine, Points, SingleLine};

/// The longest agent name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// The longest system prompt.
pub const MAX_PROMPT_CHARS: usize = 10_000;
/// The longest URL, in bytes.
pub const MAX_URL_BYTES: usize = 2_048;
/// The highest `price_per_task` (a sanity bound far above any real price; it keeps
/// sums of prices inside an `i64`).
pub const MAX_PRICE: i64 = 1_000_000_000;

/// A registration as it arrives, before any rule is checked.
#[derive(Debug, Clone, Default)]
pub struct RawRegistration {
    /// Required.
    pub name: Option<String>,
    /// Optional free text.
    pub description: Option<String>,
    /// Required, 1–20.
    pub capabilities: Option<Vec<String>>,
    /// Optional, 0 by default.
    pub price_per_task: Option<i64>,
    /// Where direct execution calls the agent.
    pub endpoint_url: Option<String>,
    /// The prompt an LLM runs the agent with, when it has no endpoint.
    pub system_prompt: Option<String>,
    /// Where `task.posted` is delivered.
    pub webhook_url: Option<String>,
    /// The owner's contact.
    pub owner_email: Option<String>,
}

/// A registration that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMarketAgent {
    /// Display name.
    pub name: SingleLine,
    /// Free text (may be empty).
    pub description: MultiLine,
    /// What it can do.
    pub capabilities: Capabilities,
    /// Its asking price for a direct execution.
    pub price_per_task: Points,
    /// Where direct execution calls it (shape checked; reachability is the edge's).
    pub endpoint_url: Option<String>,
    /// The prompt an LLM runs it with.
    pub system_prompt: Option<MultiLine>,
    /// Where `task.posted` goes.
    pub webhook_url: Option<String>,
    /// The owner's contact.
    pub owner_email: Option<Email>,
}

/// A URL's shape: one line, at most [`MAX_URL_BYTES`], `https://` (or `http://` when
/// `allow_http`) followed by a host. Whether its address may be called is decided
/// where the call is made (the outbound guard), at input time and again on connect.
pub fn check_url(field: &str, raw: &str, allow_http: bool) -> Result<String, MarketError> {
    let s = raw.trim();
    crate::text::check_single_line(field, s)?;
    if s.len() > MAX_URL_BYTES {
        return Err(MarketError::invalid(
            field,
            format!("must be at most {MAX_URL_BYTES} bytes"),
        ));
    }
    let lower = s.to_ascii_lowercase();
    let rest = if let Some(r) = lower.strip_prefix("https://") {
        r
    } else if let Some(r) = lower.strip_prefix("http://").filter(|_| allow_http) {
        r
    } else {
        return Err(MarketError::invalid(field, "must start with https://"));
    };
    if rest.is_empty() || rest.starts_with('/') || s.contains(' ') {
        return Err(MarketError::invalid(field, "must be an absolute URL with a host"));
    }
    Ok(s.to_owned())
}

impl RawRegistration {
    /// Checks every rule; the first refusal names its field.
    pub fn validate(self, allow_http: bool) -> Result<NewMarketAgent, MarketError> {
        let name = SingleLine::required("name", self.name.as_deref().unwrap_or(""), MAX_NAME_CHARS)?;
        let description = MultiLine::parse(
            "description",
            self.description.as_deref().unwrap_or(""),
            MAX_DESCRIPTION_CHARS,
        )?;
        let capabilities = match &self.capabilities {
            None => return Err(MarketError::invalid("capabilities", "is required")),
            Some(list) => Capabilities::parse("capabilities", list, false)?,
        };
        let price = self.price_per_task.unwrap_or(0);
        if !(0..=MAX_PRICE).contains(&price) {
            return Err(MarketError::invalid(
                "price_per_task",
                format!("must be a whole number from 0 to {MAX_PRICE}"),
            ));
        }
        let url = |field: &str, v: &Option<String>| {
            v.as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(|s| check_url(field, s, allow_http))
                .transpose()
        };
        Ok(NewMarketAgent {
            name,
            description,
            capabilities,
            price_per_task: Points(price),
            endpoint_url: url("endpoint_url", &self.endpoint_url)?,
            system_prompt: MultiLine::optional("system_prompt", self.system_prompt.as_deref(), MAX_PROMPT_CHARS)?,
            webhook_url: url("webhook_url", &self.webhook_url)?,
            owner_email: self
                .owner_email
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(Email::parse)
                .transpose()?,
        })
    }
}

/// What a registration writes besides the agent's row: its starter credits, mint →
/// its wallet (none when the operator set them to 0).
pub fn starter_credits(agent: &AgentId, policy: &MarketPolicy) -> Result<Vec<Transfer>, MarketError> {
    if policy.signup_credits.get() <= 0 {
        return Ok(Vec::new());
    }
    Ok(vec![Transfer::new(
        AccountRef::Mint,
        AccountRef::AgentWallet(agent.clone()),
        policy.signup_credits,
        TransferKind::StarterGrant,
        None,
    )?])
}
