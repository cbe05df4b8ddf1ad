//! AgentMarket agents: registration, profiles, keys and webhook settings.

use super::rows::{MarketAgentRow, MarketKeyRow, caps_from_json, caps_json, caps_match, utc};
use super::{MarketPrincipal, Page, Paid};
use crate::error::{Result, StoreError};
use crate::listen::Stale;
use crate::plan::record::{Change, NewRow};
use crate::plan::{self, Plan};
use crate::rows::naive;
use crate::schema::{agents, market_agents, tasks};
use crate::{Store, ulid};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use heepr_domain::market::profile::starter_credits;
use heepr_domain::market::reputation;
use heepr_domain::market::{Capabilities, Capability, MarketPolicy, NewMarketAgent};
use heepr_domain::{AgentId, Timestamp};

/// An agent as the board shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketAgent {
    /// `agt_…`
    pub id: AgentId,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// What it can do.
    pub capabilities: Vec<String>,
    /// Its asking price for a direct execution.
    pub price_per_task: i64,
    /// See `heepr_domain::market::reputation`.
    pub reputation_score: f64,
    /// Tasks and executions it completed.
    pub total_tasks: i64,
    /// Whether `POST execute` can run it (an endpoint, or a system prompt).
    pub executable: bool,
    /// When it registered.
    pub created_at: Timestamp,
    /// A heepr agent acting on the board.
    pub heepr: bool,
    /// Only on the agent's own profile.
    pub private: Option<PrivateProfile>,
}

/// What only the agent itself sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivateProfile {
    /// Where direct execution calls it.
    pub endpoint_url: Option<String>,
    /// Its prompt.
    pub system_prompt: Option<String>,
    /// Its webhook URL (shown masked by the HTTP layer).
    pub webhook_url: Option<String>,
    /// Its owner's contact.
    pub owner_email: Option<String>,
}

/// What direct execution needs of its target.
#[derive(Debug, Clone)]
pub struct ExecTarget {
    /// The rules' view.
    pub target: heepr_domain::market::execute::Target,
    /// Its prompt, for the LLM runner.
    pub system_prompt: Option<String>,
}

/// A receiver of `task.posted`: its URL and sealed secret.
#[derive(Debug, Clone)]
pub struct WebhookReceiver {
    /// The agent.
    pub agent_id: String,
    /// Its URL.
    pub url: String,
    /// Its signing secret, sealed with the server key (context: the agent id).
    pub sealed_secret: Vec<u8>,
}

fn view(r: MarketAgentRow, own: bool) -> Result<MarketAgent> {
    let completed = u64::try_from(r.completed_count).unwrap_or(0);
    let failed = u64::try_from(r.failed_count).unwrap_or(0);
    Ok(MarketAgent {
        id: AgentId::parse(&r.id).ok_or_else(|| StoreError::corrupt(format!("agent id {}", r.id)))?,
        capabilities: caps_from_json(&r.capabilities)?,
        price_per_task: r.price_per_task,
        reputation_score: reputation::score(completed, failed),
        total_tasks: r.completed_count,
        executable: r.endpoint_url.is_some() || r.system_prompt.is_some(),
        created_at: utc(r.created_at),
        heepr: false,
        private: own.then(|| PrivateProfile {
            endpoint_url: r.endpoint_url.clone(),
            system_prompt: r.system_prompt.clone(),
            webhook_url: r.webhook_url.clone(),
            owner_email: r.owner_email.clone(),
        }),
        name: r.name,
        description: r.description,
    })
}

/// Escapes `LIKE` wildcards (a capability holds neither, but the rule stays local).
fn like_contains(c: &Capability) -> String {
    format!("%,{},%", c.as_str().replace(['%', '_'], ""))
}

impl Store {
    /// Registers an AgentMarket agent with its key (hash only) and, if it set a
    /// webhook, the sealed secret; credits its starter credits from the mint.
    pub fn register_market_agent(
        &self,
        new: &NewMarketAgent,
        key_hash: &str,
        sealed_secret: Option<Vec<u8>>,
        id: AgentId,
        policy: &MarketPolicy,
        now: DateTime<Utc>,
    ) -> Result<Paid<MarketAgent>> {
        let grants = starter_credits(&id, policy)?;
        let row = MarketAgentRow {
            id: id.to_string(),
            name: new.name.as_str().to_owned(),
            description: new.description.as_str().to_owned(),
            capabilities: caps_json(&new.capabilities)?,
            caps_match: caps_match(&new.capabilities),
            price_per_task: new.price_per_task.get(),
            endpoint_url: new.endpoint_url.clone(),
            system_prompt: new.system_prompt.as_ref().map(|p| p.as_str().to_owned()),
            webhook_url: new.webhook_url.clone().filter(|_| sealed_secret.is_some()),
            webhook_secret: sealed_secret,
            owner_email: new.owner_email.as_ref().map(|e| e.as_str().to_owned()),
            completed_count: 0,
            failed_count: 0,
            created_at: naive(now),
        };
        let mut p = Plan::new();
        p.insert(NewRow::MarketAgent(row));
        p.insert(NewRow::MarketKey(MarketKeyRow {
            key_hash: key_hash.to_owned(),
            agent_id: id.to_string(),
            created_at: naive(now),
        }));
        for t in &grants {
            p.push(plan::transfer(t, now));
        }
        self.apply(&p)?;
        let agent = self.market_agent_as(&id, true)?;
        let balance = super::balance_after(0, &id, &grants);
        Ok(Paid { value: agent, balance })
    }

    fn market_row(&self, id: &AgentId) -> Result<MarketAgentRow> {
        let row = self.query(|c| {
            Ok(market_agents::table
                .find(id.as_str())
                .select(MarketAgentRow::as_select())
                .first(c)
                .optional()?)
        })?;
        row.ok_or(StoreError::NotFound)
    }

    fn market_agent_as(&self, id: &AgentId, own: bool) -> Result<MarketAgent> {
        view(self.market_row(id)?, own)
    }

    /// An AgentMarket agent's public profile.
    pub fn market_agent(&self, id: &AgentId) -> Result<MarketAgent> {
        self.market_agent_as(id, false)
    }

    /// The caller's own profile: an AgentMarket agent's row, or a heepr agent's
    /// (its categories and skills as capabilities, its counts from completed tasks).
    pub fn market_me(&self, p: &MarketPrincipal) -> Result<MarketAgent> {
        if !p.heepr {
            return self.market_agent_as(&p.agent, true);
        }
        let (name, description, categories, settings, created, done): (
            String,
            String,
            String,
            String,
            chrono::NaiveDateTime,
            i64,
        ) = self.read(|c| {
            let (name, description, categories, settings, created) = agents::table
                .find(p.agent.as_str())
                .select((
                    agents::name,
                    agents::description,
                    agents::categories,
                    agents::settings,
                    agents::created_at,
                ))
                .first::<(String, String, String, String, chrono::NaiveDateTime)>(c)?;
            let done: i64 = tasks::table
                .filter(tasks::assigned_to.eq(p.agent.as_str()))
                .filter(tasks::status.eq("completed"))
                .count()
                .get_result(c)?;
            Ok((name, description, categories, settings, created, done))
        })?;
        let capabilities = heepr_capabilities(&categories, &settings);
        Ok(MarketAgent {
            id: p.agent.clone(),
            name,
            description,
            capabilities: capabilities.to_strings(),
            price_per_task: 0,
            reputation_score: reputation::score(u64::try_from(done).unwrap_or(0), 0),
            total_tasks: done,
            executable: false,
            created_at: utc(created),
            heepr: true,
            private: Some(PrivateProfile::default()),
        })
    }

    /// AgentMarket agents, newest first, optionally with a capability; `after` is the
    /// previous page's `next`.
    pub fn market_agents(
        &self,
        capability: Option<&Capability>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Page<MarketAgent>> {
        let rows = self.query(|c| {
            let mut q = market_agents::table
                .select(MarketAgentRow::as_select())
                .order(market_agents::id.desc())
                .limit(i64::try_from(limit).unwrap_or(100) + 1)
                .into_boxed();
            if let Some(cap) = capability {
                q = q.filter(market_agents::caps_match.like(like_contains(cap)));
            }
            if let Some(a) = after {
                q = q.filter(market_agents::id.lt(a.to_owned()));
            }
            Ok(q.load(c)?)
        })?;
        let items = rows.into_iter().map(|r| view(r, false)).collect::<Result<Vec<_>>>()?;
        Ok(Page::of(items, limit, |a| a.id.to_string()))
    }

    /// Replaces an AgentMarket agent's key: the old one stops at once (in this process;
    /// other instances within a second).
    pub fn rotate_market_key(&self, agent: &AgentId, new_hash: &str, now: DateTime<Utc>) -> Result<()> {
        let mut p = Plan::new();
        p.change(Change::RevokeMarketKeys {
            agent_id: agent.to_string(),
            at: naive(now),
        });
        p.insert(NewRow::MarketKey(MarketKeyRow {
            key_hash: new_hash.to_owned(),
            agent_id: agent.to_string(),
            created_at: naive(now),
        }));
        p.makes_stale(Stale::MarketKeys(agent.to_string()));
        self.apply(&p)?;
        Ok(())
    }

    /// Sets (or with `None` removes) an AgentMarket agent's webhook URL and its sealed
    /// secret.
    pub fn set_market_webhook(&self, agent: &AgentId, url: Option<(String, Vec<u8>)>) -> Result<()> {
        let (url, secret) = match url {
            Some((u, s)) => (Some(u), Some(s)),
            None => (None, None),
        };
        let mut p = Plan::new();
        p.change(Change::MarketWebhook {
            id: agent.to_string(),
            url,
            secret,
        });
        self.apply(&p)
    }

    /// What `POST execute` needs of its target (AgentMarket agents only: a heepr agent
    /// has no endpoint on the board).
    pub fn exec_target(&self, id: &AgentId) -> Result<ExecTarget> {
        let r = self.market_row(id)?;
        Ok(ExecTarget {
            target: heepr_domain::market::execute::Target {
                id: id.clone(),
                price_per_task: heepr_domain::Points(r.price_per_task),
                endpoint_url: r.endpoint_url,
                has_system_prompt: r.system_prompt.is_some(),
                suspended: false,
            },
            system_prompt: r.system_prompt,
        })
    }

    /// Every agent with a webhook whose capabilities overlap `caps` (`task.posted`
    /// receivers), but the poster. Used by the fan-out worker.
    pub fn webhook_receivers(&self, caps: &Capabilities, poster: &str) -> Result<Vec<WebhookReceiver>> {
        if caps.is_empty() {
            return Ok(Vec::new());
        }
        self.query(|c| {
            let mut q = market_agents::table
                .select((
                    market_agents::id,
                    market_agents::webhook_url,
                    market_agents::webhook_secret,
                ))
                .filter(market_agents::webhook_url.is_not_null())
                .filter(market_agents::id.ne(poster.to_owned()))
                .into_boxed();
            let mut any: Option<
                Box<dyn BoxableExpression<market_agents::table, _, SqlType = diesel::sql_types::Bool>>,
            > = None;
            for cap in caps.iter() {
                let one = market_agents::caps_match.like(like_contains(cap));
                any = Some(match any {
                    None => Box::new(one),
                    Some(prev) => Box::new(prev.or(one)),
                });
            }
            if let Some(cond) = any {
                q = q.filter(cond);
            }
            let rows: Vec<(String, Option<String>, Option<Vec<u8>>)> = q.load(c)?;
            Ok(rows
                .into_iter()
                .filter_map(|(agent_id, url, secret)| {
                    Some(WebhookReceiver {
                        agent_id,
                        url: url?,
                        sealed_secret: secret?,
                    })
                })
                .collect())
        })
    }
}

/// A heepr agent's capabilities on the board: its categories (stored `",a,b,"`) and
/// the skills in its settings.
fn heepr_capabilities(categories: &str, settings: &str) -> Capabilities {
    let skills: Vec<String> = serde_json::from_str::<serde_json::Value>(settings)
        .ok()
        .and_then(|v| v.get("skills").cloned())
        .and_then(|s| serde_json::from_value(s).ok())
        .unwrap_or_default();
    Capabilities::lenient(
        categories
            .split(',')
            .filter(|s| !s.is_empty())
            .chain(skills.iter().map(String::as_str)),
    )
}

/// A fresh AgentMarket agent id.
pub fn new_agent_id() -> AgentId {
    AgentId::from_unique(ulid())
}
