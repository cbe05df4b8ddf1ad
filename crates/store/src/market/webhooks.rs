//! AgentMarket webhooks (`task.posted`): the fan-out queue, the delivery queue and the
//! delivery log.
//!
//! Posting a task writes one `webhook_fanouts` row in the task's own transaction, so a
//! post costs the same whether 1 or 10 000 agents will hear of it. A worker then:
//!
//! 1. **expands** a fan-out ([`Store::expand_webhook_fanouts`]): claims it with a lease,
//!    finds the receivers (agents with a webhook whose capabilities overlap), inserts one
//!    `webhook_deliveries` row per receiver in batches, and marks it done. The insert
//!    skips rows that exist (unique `(fanout_id, agent_id)`), so a fan-out expanded again
//!    after a crash, or by two instances whose leases crossed, never doubles a delivery;
//! 2. **claims** due deliveries with a lease ([`Store::claim_due_webhooks`]), sends them
//!    (outside the store), and **records** each attempt
//!    ([`Store::record_webhook_attempt`]): delivered on a 2xx, else retried after
//!    [`retry_delay`] until [`MAX_ATTEMPTS`], then `failed`.
//!
//! The body is rendered once, at expansion, and stored in the row: every retry sends the
//! same bytes (only the timestamp and its signature change). Each attempt goes to the
//! agent's webhook URL and secret as they are when it is sent, so an agent that fixed
//! its URL and asked for a retry gets it at the new one.
//!
//! Expansion and attempt results are bookkeeping (no rule decides them); an agent's
//! retry is a plan.

use super::Page;
use super::rows::utc;
use crate::error::{Result, StoreError};
use crate::plan::Plan;
use crate::plan::record::Change;
use crate::prepared::KeepPrepared;
use crate::rows::naive;
use crate::schema::{market_agents, webhook_deliveries, webhook_fanouts};
use crate::{AnyConnection, Store, ulid};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::market::{Task, TaskStatus};
use heepr_domain::{AgentId, TaskId, Timestamp};
use serde::Serialize;

/// The one event there is.
pub const TASK_POSTED: &str = "task.posted";

/// Attempts before a delivery is given up (`failed`): the first try and 11 retries,
/// spread over about 3 h 25 min (see [`retry_delay`]).
pub const MAX_ATTEMPTS: i32 = 12;

/// The wait after the first failed attempt; it doubles after each further one.
pub const FIRST_RETRY_SECS: i64 = 10;

/// The longest wait between two attempts.
pub const MAX_RETRY_SECS: i64 = 3600;

/// Rows per `INSERT` when a fan-out is expanded (15 binds each: far below both
/// backends' limits on binds per statement, and a short hold on SQLite's one writer).
const INSERT_BATCH: usize = 500;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or being sent).
    Pending,
    /// A 2xx came back.
    Delivered,
    /// Given up after [`MAX_ATTEMPTS`] (or refused for good: the URL can no longer be
    /// called, the agent removed its webhook).
    Failed,
}

impl DeliveryStatus {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// The wait before the next attempt after `failed_attempts` failed ones (1, 2, …):
/// 10 s · 2^(n−1), at most 1 h, moved by `jitter` (−1.0 … 1.0) times 20 %. Without
/// jitter: 10 s, 20 s, 40 s, 80 s, 160 s, 320 s, 640 s, 1280 s, 2560 s, 3600 s,
/// 3600 s — about 3 h 25 min from the first attempt to the twelfth.
pub fn retry_delay(failed_attempts: i32, jitter: f64) -> chrono::Duration {
    let doublings = u32::try_from(failed_attempts.saturating_sub(1)).unwrap_or(0).min(20);
    let base = FIRST_RETRY_SECS.saturating_mul(1_i64 << doublings).min(MAX_RETRY_SECS);
    let factor = 1.0 + 0.2 * jitter.clamp(-1.0, 1.0);
    // Whole milliseconds: `base` is at most 3600 s, so this never overflows.
    #[allow(clippy::cast_possible_truncation)]
    let ms = (base as f64 * 1000.0 * factor).round() as i64;
    chrono::Duration::milliseconds(ms.max(1))
}

/// A number from −1.0 to 1.0, different on every call (std's per-process random hash
/// keys plus a counter: no dependency for what only spreads retries apart).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(N.fetch_add(1, Ordering::Relaxed));
    let unit = (h.finish() >> 11) as f64 / (1_u64 << 53) as f64; // [0, 1)
    unit * 2.0 - 1.0
}

/// The body of `task.posted`, in the seed's shape and key order.
#[derive(Serialize)]
struct TaskPosted<'a> {
    event: &'a str,
    task: PostedTask<'a>,
    marketplace_url: String,
}

#[derive(Serialize)]
struct PostedTask<'a> {
    id: &'a str,
    title: &'a str,
    description: &'a str,
    budget: i64,
    required_capabilities: Vec<String>,
    created_at: String,
}

/// The JSON text every receiver of `task` gets:
/// `{"event":"task.posted","task":{"id","title","description","budget",
/// "required_capabilities","created_at"},"marketplace_url":"<base>/compat/agentmarket"}`.
pub fn task_posted_body(task: &Task, base_url: &str) -> Result<String> {
    serde_json::to_string(&TaskPosted {
        event: TASK_POSTED,
        task: PostedTask {
            id: task.id.as_str(),
            title: task.title.as_str(),
            description: task.description.as_str(),
            budget: task.budget.get(),
            required_capabilities: task.required_capabilities.to_strings(),
            created_at: task.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        },
        marketplace_url: format!("{}/compat/agentmarket", base_url.trim_end_matches('/')),
    })
    .map_err(StoreError::corrupt)
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webhook_deliveries)]
struct NewDelivery {
    id: String,
    fanout_id: String,
    agent_id: String,
    task_id: String,
    event: String,
    url: String,
    body: String,
    status: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

/// What one pass of [`Store::expand_webhook_fanouts`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expanded {
    /// Fan-outs finished.
    pub fanouts: usize,
    /// Delivery rows written (a re-expansion writes none twice).
    pub deliveries: usize,
}

/// A delivery claimed for sending.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    /// `whd_…`
    pub id: String,
    /// The receiver.
    pub agent_id: String,
    /// `task.posted`.
    pub event: String,
    /// The exact bytes to send.
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i32,
    /// The agent's webhook now; `None` if it removed it.
    pub target: Option<WebhookTarget>,
}

/// Where and with what to send a delivery.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    /// The agent's current webhook URL.
    pub url: String,
    /// Its signing secret, sealed with the server key (context: the agent id).
    pub sealed_secret: Vec<u8>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered 2xx.
    Delivered {
        /// The status it answered.
        status: u16,
    },
    /// No 2xx: retried later, or given up after [`MAX_ATTEMPTS`].
    Failed {
        /// The status, if the receiver answered at all.
        status: Option<u16>,
        /// What went wrong (no secret, no body).
        error: String,
    },
    /// It can never succeed as things stand (the agent removed its webhook, the URL is
    /// no longer allowed): `failed` at once, until the agent asks for a retry.
    GaveUp {
        /// Why.
        error: String,
    },
}

/// An attempt to record: which delivery, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `whd_…`
    pub id: String,
    /// How it ended.
    pub attempt: Attempt,
}

/// A delivery as its agent sees it in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// `whd_…`
    pub id: String,
    /// `task.posted`.
    pub event: String,
    /// The task it announces.
    pub task_id: String,
    /// The URL of its last attempt (the agent's URL when it was queued, before any).
    pub url: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i32,
    /// The HTTP status of the last attempt, if the receiver answered.
    pub last_status: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: Timestamp,
    /// When it is tried next (pending only).
    pub next_attempt_at: Option<Timestamp>,
    /// When a 2xx came back.
    pub delivered_at: Option<Timestamp>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
struct DeliveryRow {
    id: String,
    event: String,
    task_id: String,
    url: String,
    status: String,
    attempts: i32,
    last_status: Option<i32>,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    next_attempt_at: NaiveDateTime,
    delivered_at: Option<NaiveDateTime>,
}

impl DeliveryRow {
    fn view(self) -> Result<Delivery> {
        let status = DeliveryStatus::parse(&self.status)
            .ok_or_else(|| StoreError::corrupt(format!("delivery {} status {}", self.id, self.status)))?;
        Ok(Delivery {
            next_attempt_at: (status == DeliveryStatus::Pending).then(|| utc(self.next_attempt_at)),
            id: self.id,
            event: self.event,
            task_id: self.task_id,
            url: self.url,
            status,
            attempts: self.attempts,
            last_status: self.last_status,
            last_error: self.last_error,
            created_at: utc(self.created_at),
            delivered_at: self.delivered_at.map(utc),
        })
    }
}

/// Inserts `rows`, skipping any whose `(fanout_id, agent_id)` exists; returns how many
/// were new. PostgreSQL: one multi-row statement (one round trip). SQLite: diesel has
/// no multi-row `INSERT … ON CONFLICT` for it, and there is no round trip to save: one
/// prepared statement per row, in the same transaction.
fn insert_deliveries(c: &mut AnyConnection, rows: &[NewDelivery]) -> Result<usize> {
    Ok(match c {
        AnyConnection::Postgresql(c) => diesel::insert_into(webhook_deliveries::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(c)?,
        AnyConnection::Sqlite(_) => {
            let mut n = 0;
            for row in rows {
                n += diesel::insert_into(webhook_deliveries::table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .execute_prepared(c)?;
            }
            n
        }
    })
}

/// Errors longer than this are cut (a receiver's error text is not ours to store whole).
const MAX_ERROR_CHARS: usize = 500;

fn cut(s: &str) -> String {
    s.chars().take(MAX_ERROR_CHARS).collect()
}

impl Store {
    /// Expands up to `max` pending fan-outs into deliveries, each under a lease of
    /// `lease` (another instance skips it until it is done or the lease runs out).
    pub fn expand_webhook_fanouts(&self, max: usize, lease: chrono::Duration, now: DateTime<Utc>) -> Result<Expanded> {
        let (at, until) = (naive(now), naive(now + lease));
        let free = || {
            webhook_fanouts::claimed_until
                .is_null()
                .or(webhook_fanouts::claimed_until.lt(at))
        };
        // A read first: an idle queue (the usual case, polled twice a second) opens no
        // write transaction.
        let pending: Vec<(String, String)> = self.query(|c| {
            Ok(webhook_fanouts::table
                .filter(webhook_fanouts::done_at.is_null())
                .filter(free())
                .order(webhook_fanouts::created_at)
                .limit(i64::try_from(max).unwrap_or(100))
                .select((webhook_fanouts::id, webhook_fanouts::task_id))
                .load(c)?)
        })?;
        let mut out = Expanded::default();
        for (fanout, task) in pending {
            let claimed = self.bookkeeping(|c| {
                Ok(diesel::update(
                    webhook_fanouts::table
                        .find(&fanout)
                        .filter(webhook_fanouts::done_at.is_null())
                        .filter(free()),
                )
                .set(webhook_fanouts::claimed_until.eq(until))
                .execute_prepared(c)?)
            })?;
            if claimed == 1 {
                out.deliveries += self.expand_one(&fanout, &task, now)?;
                out.fanouts += 1;
            }
        }
        Ok(out)
    }

    /// One claimed fan-out: its deliveries in batches, then done (in the last batch's
    /// transaction). A task gone, or no longer open, tells nobody.
    fn expand_one(&self, fanout: &str, task_id: &str, now: DateTime<Utc>) -> Result<usize> {
        let task = match TaskId::parse(task_id) {
            Some(id) => match self.load_task(&id) {
                Ok(t) => Some(t.task),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        let rows = match task.filter(|t| t.status == TaskStatus::Open) {
            None => Vec::new(),
            Some(t) => {
                let body = task_posted_body(&t, &self.base_url())?;
                self.webhook_receivers(&t.required_capabilities, t.poster.as_str())?
                    .into_iter()
                    .map(|r| NewDelivery {
                        id: format!("whd_{}", ulid()),
                        fanout_id: fanout.to_owned(),
                        agent_id: r.agent_id,
                        task_id: task_id.to_owned(),
                        event: TASK_POSTED.to_owned(),
                        url: r.url,
                        body: body.clone(),
                        status: DeliveryStatus::Pending.as_str().to_owned(),
                        attempts: 0,
                        next_attempt_at: naive(now),
                        created_at: naive(now),
                    })
                    .collect()
            }
        };
        let done = |c: &mut AnyConnection| -> Result<()> {
            diesel::update(webhook_fanouts::table.find(fanout))
                .set((
                    webhook_fanouts::done_at.eq(naive(now)),
                    webhook_fanouts::claimed_until.eq(None::<NaiveDateTime>),
                ))
                .execute_prepared(c)?;
            Ok(())
        };
        if rows.is_empty() {
            self.bookkeeping(done)?;
            return Ok(0);
        }
        let batches = rows.chunks(INSERT_BATCH).count();
        let mut written = 0;
        for (i, batch) in rows.chunks(INSERT_BATCH).enumerate() {
            written += self.bookkeeping(|c| {
                let n = insert_deliveries(c, batch)?;
                if i + 1 == batches {
                    done(c)?;
                }
                Ok(n)
            })?;
        }
        Ok(written)
    }

    /// Claims up to `limit` deliveries that are due, oldest due first, for `lease`
    /// (long enough for one call: another instance skips them until they are recorded or
    /// the lease runs out), with each agent's webhook as it is now; a delivery whose
    /// agent changed its URL since records the new one (the log shows where each
    /// attempt went).
    pub fn claim_due_webhooks(
        &self,
        limit: usize,
        lease: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<DueDelivery>> {
        let (at, until) = (naive(now), naive(now + lease));
        let free = || {
            webhook_deliveries::claimed_until
                .is_null()
                .or(webhook_deliveries::claimed_until.lt(at))
        };
        let pending = DeliveryStatus::Pending.as_str();
        type Candidate = (String, String, String, String, String, i32);
        let candidates: Vec<Candidate> = self.query(|c| {
            Ok(webhook_deliveries::table
                .filter(webhook_deliveries::status.eq(pending))
                .filter(webhook_deliveries::next_attempt_at.le(at))
                .filter(free())
                .order(webhook_deliveries::next_attempt_at)
                .limit(i64::try_from(limit).unwrap_or(100))
                .select((
                    webhook_deliveries::id,
                    webhook_deliveries::agent_id,
                    webhook_deliveries::event,
                    webhook_deliveries::url,
                    webhook_deliveries::body,
                    webhook_deliveries::attempts,
                ))
                .load(c)?)
        })?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let mut agents: Vec<&str> = candidates.iter().map(|d| d.1.as_str()).collect();
        agents.sort_unstable();
        agents.dedup();
        let hooks: Vec<(String, Option<String>, Option<Vec<u8>>)> = self.query(|c| {
            Ok(market_agents::table
                .filter(market_agents::id.eq_any(&agents))
                .select((
                    market_agents::id,
                    market_agents::webhook_url,
                    market_agents::webhook_secret,
                ))
                .load(c)?)
        })?;
        let hooks: std::collections::HashMap<String, WebhookTarget> = hooks
            .into_iter()
            .filter_map(|(id, url, secret)| {
                Some((
                    id,
                    WebhookTarget {
                        url: url?,
                        sealed_secret: secret?,
                    },
                ))
            })
            .collect();
        let ids: Vec<&str> = candidates.iter().map(|d| d.0.as_str()).collect();
        let moved: Vec<(&str, &str)> = candidates
            .iter()
            .filter_map(|d| {
                let now_url = hooks.get(&d.1)?.url.as_str();
                (now_url != d.3).then_some((d.0.as_str(), now_url))
            })
            .collect();
        // One conditional UPDATE: a row another instance claimed in between matches
        // no more and is not returned.
        let claimed: std::collections::HashSet<String> = self.bookkeeping(|c| {
            let claimed: Vec<String> = diesel::update(
                webhook_deliveries::table
                    .filter(webhook_deliveries::id.eq_any(&ids))
                    .filter(webhook_deliveries::status.eq(pending))
                    .filter(free()),
            )
            .set(webhook_deliveries::claimed_until.eq(until))
            .returning(webhook_deliveries::id)
            .get_results(c)?;
            for (id, url) in &moved {
                if claimed.iter().any(|c| c == id) {
                    diesel::update(webhook_deliveries::table.find(id))
                        .set(webhook_deliveries::url.eq(url))
                        .execute_prepared(c)?;
                }
            }
            Ok(claimed.into_iter().collect())
        })?;
        Ok(candidates
            .into_iter()
            .filter(|d| claimed.contains(&d.0))
            .map(|(id, agent_id, event, _, body, attempts)| DueDelivery {
                target: hooks.get(&agent_id).cloned(),
                id,
                agent_id,
                event,
                body,
                attempts,
            })
            .collect())
    }

    /// Records how an attempt on a claimed delivery ended and releases its lease;
    /// returns where the delivery stands. A failure short of [`MAX_ATTEMPTS`] is due
    /// again after [`retry_delay`].
    pub fn record_webhook_attempt(&self, id: &str, attempt: &Attempt, now: DateTime<Utc>) -> Result<DeliveryStatus> {
        let one = Recorded {
            id: id.to_owned(),
            attempt: attempt.clone(),
        };
        let mut out = self.record_webhook_attempts(std::slice::from_ref(&one), now)?;
        out.pop().map(|(_, s)| s).ok_or(StoreError::NotFound)
    }

    /// [`Store::record_webhook_attempt`] for several deliveries in one transaction (a
    /// worker's finished sends); returns where each found one stands. The deliveries
    /// (the usual outcome) are one `UPDATE` per answered status; each failure is
    /// its own, since its count decides between a retry and giving up.
    pub fn record_webhook_attempts(
        &self,
        results: &[Recorded],
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, DeliveryStatus)>> {
        if results.is_empty() {
            return Ok(Vec::new());
        }
        let at = naive(now);
        let mut delivered: std::collections::BTreeMap<u16, Vec<&str>> = std::collections::BTreeMap::new();
        let mut others = Vec::new();
        for r in results {
            match &r.attempt {
                Attempt::Delivered { status } => delivered.entry(*status).or_default().push(r.id.as_str()),
                _ => others.push(r),
            }
        }
        self.bookkeeping(|c| {
            let mut out = Vec::with_capacity(results.len());
            for (code, ids) in &delivered {
                let done: Vec<String> =
                    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(ids)))
                        .set((
                            webhook_deliveries::status.eq(DeliveryStatus::Delivered.as_str()),
                            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
                            webhook_deliveries::next_attempt_at.eq(at),
                            webhook_deliveries::claimed_until.eq(None::<NaiveDateTime>),
                            webhook_deliveries::last_status.eq(Some(i32::from(*code))),
                            webhook_deliveries::last_error.eq(None::<String>),
                            webhook_deliveries::delivered_at.eq(Some(at)),
                        ))
                        .returning(webhook_deliveries::id)
                        .get_results(c)?;
                out.extend(done.into_iter().map(|id| (id, DeliveryStatus::Delivered)));
            }
            if others.is_empty() {
                return Ok(out);
            }
            let ids: Vec<&str> = others.iter().map(|r| r.id.as_str()).collect();
            let before: std::collections::HashMap<String, i32> = webhook_deliveries::table
                .filter(webhook_deliveries::id.eq_any(&ids))
                .select((webhook_deliveries::id, webhook_deliveries::attempts))
                .load::<(String, i32)>(c)?
                .into_iter()
                .collect();
            for r in others {
                let Some(&before) = before.get(&r.id) else { continue };
                let (status, attempts, next, last_status, error) = match &r.attempt {
                    Attempt::Failed { status, error } => {
                        let n = before + 1;
                        let (s, next) = if n >= MAX_ATTEMPTS {
                            (DeliveryStatus::Failed, at)
                        } else {
                            (DeliveryStatus::Pending, naive(now + retry_delay(n, jitter())))
                        };
                        (s, n, next, status.map(i32::from), error)
                    }
                    Attempt::GaveUp { error } => (DeliveryStatus::Failed, before, at, None, error),
                    Attempt::Delivered { .. } => continue,
                };
                diesel::update(webhook_deliveries::table.find(&r.id))
                    .set((
                        webhook_deliveries::status.eq(status.as_str()),
                        webhook_deliveries::attempts.eq(attempts),
                        webhook_deliveries::next_attempt_at.eq(next),
                        webhook_deliveries::claimed_until.eq(None::<NaiveDateTime>),
                        webhook_deliveries::last_status.eq(last_status),
                        webhook_deliveries::last_error.eq(Some(cut(error))),
                    ))
                    .execute_prepared(c)?;
                out.push((r.id.clone(), status));
            }
            Ok(out)
        })
    }

    /// `agent`'s deliveries, newest first; `after` is the previous page's `next`.
    pub fn webhook_deliveries(&self, agent: &AgentId, limit: usize, after: Option<&str>) -> Result<Page<Delivery>> {
        let rows: Vec<DeliveryRow> = self.query(|c| {
            let mut q = webhook_deliveries::table
                .filter(webhook_deliveries::agent_id.eq(agent.as_str()))
                .order(webhook_deliveries::id.desc())
                .limit(i64::try_from(limit).unwrap_or(100) + 1)
                .select(DeliveryRow::as_select())
                .into_boxed();
            if let Some(a) = after {
                q = q.filter(webhook_deliveries::id.lt(a.to_owned()));
            }
            Ok(q.load(c)?)
        })?;
        let items = rows.into_iter().map(DeliveryRow::view).collect::<Result<Vec<_>>>()?;
        Ok(Page::of(items, limit, |d| d.id.clone()))
    }

    /// One of `agent`'s deliveries (`NotFound` for anyone else's).
    pub fn webhook_delivery(&self, agent: &AgentId, id: &str) -> Result<Delivery> {
        let row: Option<DeliveryRow> = self.query(|c| {
            Ok(webhook_deliveries::table
                .find(id)
                .filter(webhook_deliveries::agent_id.eq(agent.as_str()))
                .select(DeliveryRow::as_select())
                .first(c)
                .optional()?)
        })?;
        row.ok_or(StoreError::NotFound)?.view()
    }

    /// Queues one of `agent`'s deliveries again, due now, whatever it came to (a
    /// delivered one is sent once more); its attempts so far still count, so a
    /// delivery that had given up gets one more attempt per retry. `NotFound` for
    /// anyone else's.
    pub fn retry_webhook_delivery(&self, agent: &AgentId, id: &str, now: DateTime<Utc>) -> Result<Delivery> {
        let mut p = Plan::new();
        p.change(Change::RetryDelivery {
            id: id.to_owned(),
            agent_id: agent.to_string(),
            at: naive(now),
        });
        self.apply(&p)?;
        self.webhook_delivery(agent, id)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::market::MarketPrincipal;
    use crate::market::agents::new_agent_id;
    use crate::testing::TestDb;
    use heepr_domain::market::task::RawTask;
    use heepr_domain::market::{MarketPolicy, RawRegistration};

    fn agent(store: &Store, name: &str, caps: &[&str], hook: Option<&str>) -> MarketPrincipal {
        let new = RawRegistration {
            name: Some(name.into()),
            description: None,
            capabilities: Some(caps.iter().map(|c| (*c).to_owned()).collect()),
            price_per_task: None,
            endpoint_url: None,
            system_prompt: None,
            webhook_url: hook.map(str::to_owned),
            owner_email: None,
        }
        .validate(false)
        .unwrap();
        let id = new_agent_id();
        let sealed = hook.map(|_| b"sealed".to_vec());
        store
            .register_market_agent(
                &new,
                &format!("hash-{}", id.as_str()),
                sealed,
                id.clone(),
                &MarketPolicy::default(),
                Utc::now(),
            )
            .unwrap();
        MarketPrincipal {
            agent: id,
            heepr: false,
            suspended: false,
        }
    }

    fn post(store: &Store, by: &MarketPrincipal, caps: &[&str], now: DateTime<Utc>) -> Task {
        let raw = RawTask {
            title: Some("Summarize this paper".into()),
            description: Some("Full text…".into()),
            budget: Some(10),
            required_capabilities: caps.iter().map(|c| (*c).to_owned()).collect(),
        };
        store
            .post_task(by, raw, &MarketPolicy::default(), None, now)
            .unwrap()
            .value
    }

    fn lease() -> chrono::Duration {
        chrono::Duration::minutes(5)
    }

    #[test]
    fn the_retry_schedule_doubles_from_10_s_to_at_most_an_hour_within_20_percent() {
        let secs = |n, j| retry_delay(n, j).num_milliseconds() as f64 / 1000.0;
        let plain: Vec<f64> = (1..MAX_ATTEMPTS).map(|n| secs(n, 0.0)).collect();
        assert_eq!(
            plain,
            [
                10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0, 1280.0, 2560.0, 3600.0, 3600.0
            ]
        );
        assert_eq!(secs(1, 1.0), 12.0);
        assert_eq!(secs(1, -1.0), 8.0);
        assert_eq!(secs(40, 5.0), 4320.0, "clamped jitter, capped base");
        assert_eq!(secs(0, 0.0), 10.0);
        for _ in 0..1000 {
            let j = jitter();
            assert!((-1.0..=1.0).contains(&j), "{j}");
        }
        let total: f64 = plain.iter().sum();
        assert!((12_000.0..12_400.0).contains(&total), "about 3 h 25 min: {total}");
    }

    #[test]
    fn a_fanout_reaches_exactly_the_overlapping_agents_once_even_when_expanded_again() {
        for db in TestDb::all() {
            let store = db.open();
            store.set_base_url("https://heepr.example");
            let now = crate::micros(Utc::now());
            let poster = agent(&store, "Poster", &["research"], Some("https://poster.example/hook"));
            let a = agent(&store, "A", &["research", "coding"], Some("https://a.example/hook"));
            let b = agent(&store, "B", &["summarization"], Some("https://b.example/hook"));
            let _no_hook = agent(&store, "C", &["research"], None);
            let _other = agent(&store, "D", &["design"], Some("https://d.example/hook"));
            let task = post(&store, &poster, &["research", "summarization"], now);

            let e = store.expand_webhook_fanouts(10, lease(), now).unwrap();
            assert_eq!(
                e,
                Expanded {
                    fanouts: 1,
                    deliveries: 2
                },
                "{}",
                db.label
            );
            assert_eq!(
                store.expand_webhook_fanouts(10, lease(), now).unwrap(),
                Expanded::default()
            );

            // A crash after the inserts but before "done": the next expansion (after
            // the lease) writes nothing twice.
            store
                .bookkeeping(|c| {
                    diesel::update(webhook_fanouts::table)
                        .set(webhook_fanouts::done_at.eq(None::<NaiveDateTime>))
                        .execute(c)?;
                    Ok(())
                })
                .unwrap();
            let again = store.expand_webhook_fanouts(10, lease(), now).unwrap();
            assert_eq!(
                again,
                Expanded {
                    fanouts: 1,
                    deliveries: 0
                },
                "{}",
                db.label
            );

            let due = store.claim_due_webhooks(100, lease(), now).unwrap();
            let mut got: Vec<&str> = due.iter().map(|d| d.agent_id.as_str()).collect();
            got.sort_unstable();
            let mut want = vec![a.agent.as_str(), b.agent.as_str()];
            want.sort_unstable();
            assert_eq!(got, want, "{}", db.label);
            let body: serde_json::Value = serde_json::from_str(&due[0].body).unwrap();
            assert_eq!(
                body,
                serde_json::json!({
                    "event": "task.posted",
                    "task": {
                        "id": task.id.as_str(), "title": "Summarize this paper", "description": "Full text…",
                        "budget": 10, "required_capabilities": ["research", "summarization"],
                        "created_at": task.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    },
                    "marketplace_url": "https://heepr.example/compat/agentmarket",
                })
            );
            assert!(due[0].body.starts_with("{\"event\":\"task.posted\",\"task\":{\"id\":"));
            assert!(
                due.iter()
                    .all(|d| d.target.as_ref().is_some_and(|t| t.sealed_secret == b"sealed"))
            );
            // Leased: nobody else gets them until the lease runs out.
            assert!(store.claim_due_webhooks(100, lease(), now).unwrap().is_empty());
            let later = now + lease() + chrono::Duration::seconds(1);
            assert_eq!(store.claim_due_webhooks(100, lease(), later).unwrap().len(), 2);
        }
    }

    #[test]
    fn a_task_without_receivers_or_no_longer_open_finishes_its_fanout_with_no_delivery() {
        for db in TestDb::all() {
            let store = db.open();
            let now = crate::micros(Utc::now());
            let poster = agent(&store, "Poster", &["research"], Some("https://poster.example/hook"));
            post(&store, &poster, &["research"], now);
            let t = post(&store, &poster, &["research"], now);
            let _late = agent(&store, "Late", &["research"], Some("https://late.example/hook"));
            store.cancel_task(&poster, &t.id, None, now).unwrap();
            // The first task has a receiver by now, the cancelled one notifies nobody.
            let e = store.expand_webhook_fanouts(10, lease(), now).unwrap();
            assert_eq!(
                e,
                Expanded {
                    fanouts: 2,
                    deliveries: 1
                },
                "{}",
                db.label
            );
        }
    }

    #[test]
    fn failed_attempts_back_off_then_give_up_and_a_retry_requeues() {
        for db in TestDb::all() {
            let store = db.open();
            let mut now = crate::micros(Utc::now());
            let poster = agent(&store, "Poster", &["research"], None);
            let a = agent(&store, "A", &["research"], Some("https://a.example/hook"));
            post(&store, &poster, &["research"], now);
            store.expand_webhook_fanouts(10, lease(), now).unwrap();
            let failed = Attempt::Failed {
                status: Some(500),
                error: "receiver answered 500".into(),
            };
            for n in 1..MAX_ATTEMPTS {
                let due = store.claim_due_webhooks(10, lease(), now).unwrap();
                assert_eq!(due.len(), 1, "attempt {n} ({})", db.label);
                assert_eq!(due[0].attempts, n - 1);
                let st = store.record_webhook_attempt(&due[0].id, &failed, now).unwrap();
                assert_eq!(st, DeliveryStatus::Pending);
                let d = store.webhook_delivery(&a.agent, &due[0].id).unwrap();
                let wait = d.next_attempt_at.unwrap() - now;
                let base = retry_delay(n, 0.0).num_milliseconds();
                let ms = wait.num_milliseconds();
                assert!(ms >= base * 8 / 10 && ms <= base * 12 / 10 + 1, "attempt {n}: {ms} ms");
                // Not due before its time.
                assert!(store.claim_due_webhooks(10, lease(), now).unwrap().is_empty());
                now = d.next_attempt_at.unwrap();
            }
            let due = store.claim_due_webhooks(10, lease(), now).unwrap();
            let id = due[0].id.clone();
            assert_eq!(
                store.record_webhook_attempt(&id, &failed, now).unwrap(),
                DeliveryStatus::Failed
            );
            let d = store.webhook_delivery(&a.agent, &id).unwrap();
            assert_eq!(
                (d.status, d.attempts, d.last_status),
                (DeliveryStatus::Failed, MAX_ATTEMPTS, Some(500))
            );
            assert_eq!(d.next_attempt_at, None);
            assert!(
                store
                    .claim_due_webhooks(10, lease(), now + chrono::Duration::days(1))
                    .unwrap()
                    .is_empty()
            );

            // Someone else's retry: not found, nothing changed.
            let stranger = agent(&store, "S", &["x"], None);
            assert!(matches!(
                store.retry_webhook_delivery(&stranger.agent, &id, now),
                Err(StoreError::NotFound)
            ));
            assert!(matches!(
                store.retry_webhook_delivery(&a.agent, "whd_nope", now),
                Err(StoreError::NotFound)
            ));
            let d = store.retry_webhook_delivery(&a.agent, &id, now).unwrap();
            assert_eq!((d.status, d.next_attempt_at), (DeliveryStatus::Pending, Some(now)));
            assert_eq!(d.url, "https://a.example/hook");
            // The agent fixed its URL (a new secret with it): the retry goes there.
            store
                .set_market_webhook(&a.agent, Some(("https://a.example/new".into(), b"sealed2".to_vec())))
                .unwrap();
            let due = store.claim_due_webhooks(10, lease(), now).unwrap();
            assert_eq!(due.len(), 1);
            let t = due[0].target.clone().unwrap();
            assert_eq!(
                (t.url.as_str(), t.sealed_secret.as_slice()),
                ("https://a.example/new", &b"sealed2"[..])
            );
            let st = store
                .record_webhook_attempt(&id, &Attempt::Delivered { status: 204 }, now)
                .unwrap();
            assert_eq!(st, DeliveryStatus::Delivered);
            let d = store.webhook_delivery(&a.agent, &id).unwrap();
            assert_eq!(d.status, DeliveryStatus::Delivered);
            assert_eq!(d.attempts, MAX_ATTEMPTS + 1);
            assert_eq!((d.last_status, d.last_error.as_deref()), (Some(204), None));
            assert_eq!(d.delivered_at, Some(now));
            assert_eq!(d.url, "https://a.example/new");
        }
    }

    #[test]
    fn gave_up_is_failed_at_once_and_the_log_pages_newest_first() {
        for db in TestDb::all() {
            let store = db.open();
            let now = crate::micros(Utc::now());
            let poster = agent(&store, "Poster", &["research"], None);
            let a = agent(&store, "A", &["research"], Some("https://a.example/hook"));
            for _ in 0..5 {
                post(&store, &poster, &["research"], now);
            }
            assert_eq!(store.expand_webhook_fanouts(10, lease(), now).unwrap().deliveries, 5);
            let due = store.claim_due_webhooks(1, lease(), now).unwrap();
            let st = store
                .record_webhook_attempt(
                    &due[0].id,
                    &Attempt::GaveUp {
                        error: "x".repeat(2000),
                    },
                    now,
                )
                .unwrap();
            assert_eq!(st, DeliveryStatus::Failed);
            let d = store.webhook_delivery(&a.agent, &due[0].id).unwrap();
            assert_eq!((d.attempts, d.last_error.map(|e| e.len())), (0, Some(MAX_ERROR_CHARS)));

            let p1 = store.webhook_deliveries(&a.agent, 2, None).unwrap();
            let p2 = store.webhook_deliveries(&a.agent, 2, p1.next.as_deref()).unwrap();
            let p3 = store.webhook_deliveries(&a.agent, 2, p2.next.as_deref()).unwrap();
            assert_eq!((p1.items.len(), p2.items.len(), p3.items.len()), (2, 2, 1));
            assert!(p3.next.is_none());
            let ids: Vec<String> = [p1.items, p2.items, p3.items]
                .concat()
                .into_iter()
                .map(|d| d.id)
                .collect();
            let mut sorted = ids.clone();
            sorted.sort_unstable_by(|x, y| y.cmp(x));
            assert_eq!(ids, sorted, "newest first");
            assert!(
                store
                    .webhook_deliveries(&poster.agent, 10, None)
                    .unwrap()
                    .items
                    .is_empty()
            );
        }
    }
}
