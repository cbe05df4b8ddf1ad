//! The board's rows and their conversion to and from the domain's values.

use crate::error::{Result, StoreError};
use crate::rows::naive;
use crate::schema::{market_agents, market_keys, tasks, webhook_fanouts};
use chrono::{NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use heepr_domain::market::{Capabilities, Task, TaskKind, TaskStatus};
use heepr_domain::{AgentId, MultiLine, Points, SingleLine, TaskId, Timestamp};

/// `",a,b,"`: a capability filter is `LIKE '%,cap,%'` (capabilities hold no commas).
pub(crate) fn caps_match(caps: &Capabilities) -> String {
    let mut s = String::from(",");
    for c in caps.iter() {
        s.push_str(c.as_str());
        s.push(',');
    }
    s
}

pub(crate) fn caps_json(caps: &Capabilities) -> Result<String> {
    serde_json::to_string(&caps.to_strings()).map_err(StoreError::corrupt)
}

pub(crate) fn caps_from_json(s: &str) -> Result<Vec<String>> {
    serde_json::from_str(s).map_err(StoreError::corrupt)
}

pub(crate) fn utc(t: NaiveDateTime) -> Timestamp {
    Utc.from_utc_datetime(&t)
}

#[derive(Debug, Insertable, Queryable, Selectable)]
#[diesel(table_name = market_agents)]
pub(crate) struct MarketAgentRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub capabilities: String,
    pub caps_match: String,
    pub price_per_task: i64,
    pub endpoint_url: Option<String>,
    pub system_prompt: Option<String>,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<Vec<u8>>,
    pub owner_email: Option<String>,
    pub completed_count: i64,
    pub failed_count: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = market_keys)]
pub(crate) struct MarketKeyRow {
    pub key_hash: String,
    pub agent_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webhook_fanouts)]
pub(crate) struct FanoutRow {
    pub id: String,
    pub task_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = tasks)]
#[diesel(treat_none_as_null = true)]
pub(crate) struct TaskRow {
    pub id: String,
    pub kind: String,
    pub poster_id: String,
    pub title: String,
    pub description: String,
    pub budget: i64,
    pub required_capabilities: String,
    pub caps_match: String,
    pub status: String,
    pub assigned_to: Option<String>,
    pub result: Option<String>,
    pub failure: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub assigned_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub version: i64,
}

impl TaskRow {
    pub(crate) fn new(t: &Task, version: i64) -> Result<Self> {
        Ok(Self {
            id: t.id.to_string(),
            kind: t.kind.as_str().to_owned(),
            poster_id: t.poster.to_string(),
            title: t.title.as_str().to_owned(),
            description: t.description.as_str().to_owned(),
            budget: t.budget.get(),
            required_capabilities: caps_json(&t.required_capabilities)?,
            caps_match: caps_match(&t.required_capabilities),
            status: t.status.as_str().to_owned(),
            assigned_to: t.assigned_to.as_ref().map(|a| a.to_string()),
            result: t.result.as_ref().map(|r| r.as_str().to_owned()),
            failure: t.failure.clone(),
            created_at: naive(t.created_at),
            expires_at: naive(t.expires_at),
            assigned_at: t.assigned_at.map(naive),
            ended_at: t.ended_at.map(naive),
            version,
        })
    }

    /// The domain's task. Stored text passed the rules when written, so it is
    /// re-wrapped without its length limits (limits may change; rows stay readable).
    pub(crate) fn task(&self) -> Result<Task> {
        let bad = |what: &str| StoreError::corrupt(format!("task {} {what}", self.id));
        let agent = |s: &str| AgentId::parse(s).ok_or_else(|| bad("agent id"));
        let caps = caps_from_json(&self.required_capabilities)?;
        Ok(Task {
            id: TaskId::parse(&self.id).ok_or_else(|| bad("id"))?,
            kind: TaskKind::parse(&self.kind).ok_or_else(|| bad("kind"))?,
            poster: agent(&self.poster_id)?,
            title: SingleLine::parse("title", &self.title, usize::MAX).map_err(|_| bad("title"))?,
            description: MultiLine::parse("description", &self.description, usize::MAX)
                .map_err(|_| bad("description"))?,
            budget: Points(self.budget),
            required_capabilities: Capabilities::lenient(caps.iter().map(String::as_str)),
            status: TaskStatus::parse(&self.status).ok_or_else(|| bad("status"))?,
            assigned_to: self.assigned_to.as_deref().map(agent).transpose()?,
            result: self
                .result
                .as_deref()
                .map(|r| MultiLine::parse("result", r, usize::MAX).map_err(|_| bad("result")))
                .transpose()?,
            failure: self.failure.clone(),
            created_at: utc(self.created_at),
            expires_at: utc(self.expires_at),
            assigned_at: self.assigned_at.map(utc),
            ended_at: self.ended_at.map(utc),
        })
    }
}
