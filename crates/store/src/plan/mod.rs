//! The rows one command writes, collected before the first one is written.
//!
//! A command's writes — the order row, escrow transfers, events, notifications,
//! delivery and file rows — become a [`Plan`], applied in one go:
//!
//! - on SQLite, as statements on the writer's one connection (in-process: a statement
//!   costs what SQLite spends on it) — `statements.rs`;
//! - on PostgreSQL, as **one** call to `heepr_apply_v2(jsonb)` (`heepr_apply_v2.sql`,
//!   installed at start beside v1, which older binaries call), which runs the same
//!   statements inside the server. Statement by statement, an order's lifecycle took
//!   ~37 round trips, and the backends' CPU went to kernel networking and scheduling
//!   per round trip rather than to the statements. Outside an explicit transaction the
//!   call is its own atomic transaction, so it also saves BEGIN and COMMIT.
//!
//! Either way a plan is all or nothing, and the checks that make a write conditional
//! (the order's version, a wallet that must cover its debit, an agent that must exist)
//! refuse it the same way on both backends. What to write is decided by heepr-domain;
//! this module only knows how.

use crate::connection::AnyConnection;
use crate::error::Result;
use crate::event_wire;
use crate::idempotency::ClaimRow;
use crate::listen::Stale;
use crate::rows::{OrderRow, naive};
use crate::schema::{deliveries, files, notifications, reviews};
use crate::ulid;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::reputation::StatsDelta;
use heepr_domain::{AgentEvent, AgentId, Decision, Effect, Notification, Order, Transfer};
use record::{Change, NewRow};
use serde::Serialize;

mod postgres;
pub(crate) mod record;
mod statements;

pub(crate) use postgres::install as install_applier;

/// Writes applied together, in order.
#[derive(Debug, Default, Serialize)]
#[serde(transparent)]
pub(crate) struct Plan {
    steps: Vec<Step>,
    /// Cache entries the plan makes stale besides its events' agents (see
    /// [`Plan::stale`]); every instance drops them once it commits.
    #[serde(skip)]
    also_stale: Vec<Stale>,
}

/// One write. Serialized (tag `t`) as the argument of `heepr_apply`.
#[derive(Debug, Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub(crate) enum Step {
    /// A new order.
    InsertOrder { row: OrderRow },
    /// An order's new state, only over the version it was decided from (else
    /// [`StoreError::Contention`]).
    UpdateOrder { row: OrderRow, expected_version: i64 },
    /// Points moved and logged; the debit must be covered unless its account may go
    /// negative (else `insufficient_points`).
    Transfer(TransferRow),
    /// An event, numbered from its agent's sequence when written. Its id is `id_head`
    /// followed by the zero-padded number; its body is `{"id":"<id>",` + `tail`.
    Event {
        agent_id: String,
        kind: &'static str,
        order_id: Option<String>,
        id_head: String,
        tail: String,
        at: NaiveDateTime,
    },
    /// A notification queued for mail.
    Notification { row: NotificationRow },
    /// A delivery's row.
    Delivery { row: DeliveryRow },
    /// An uploaded file's row.
    File { row: FileRow },
    /// An `Idempotency-Key` claimed with its answer; refused with
    /// [`StoreError::ClaimTaken`] if the key is taken (see `idempotency`).
    Claim { row: ClaimRow },
    /// An agent's counters moved by an order decision (`heepr_domain::reputation`):
    /// increments, so decisions on several of its orders commute.
    AgentStats {
        agent_id: String,
        completed: i64,
        on_time: i64,
        missed_deadlines: i64,
        declines: i64,
        flags: i64,
    },
    /// A review's row (a second review of one order is a unique violation).
    Review { row: ReviewRow },
    /// An agent's rating with a review counted, only over the rating it was decided
    /// from (else [`StoreError::Contention`]).
    AgentRating {
        agent_id: String,
        expected_sum: i64,
        expected_count: i64,
        rating_sum: i64,
        rating_count: i64,
        rating_x100: i64,
        score_x1000: i64,
    },
    /// Any other new row (agents, credentials, users, chat, emails): see `record`.
    #[serde(skip_serializing)]
    Insert(NewRow),
    /// A targeted change to other rows: see `record`.
    #[serde(skip_serializing)]
    Change(Change),
}

impl Step {
    /// Whether `heepr_apply_v2` knows this step (the order hot path, reputation and
    /// reviews); the others are applied statement by statement on PostgreSQL too.
    fn in_server(&self) -> bool {
        !matches!(self, Self::Insert(_) | Self::Change(_))
    }

    /// The counters `delta` moves on `agent`, or `None` when it moves none.
    pub(crate) fn agent_stats(agent: &AgentId, delta: &StatsDelta) -> Option<Self> {
        (!delta.is_zero()).then(|| Self::AgentStats {
            agent_id: agent.to_string(),
            completed: delta.completed,
            on_time: delta.on_time,
            missed_deadlines: delta.missed_deadlines,
            declines: delta.declines,
            flags: delta.flags,
        })
    }
}

/// A transfer: the accounts it moves points between, and its log row.
#[derive(Debug, Serialize)]
pub(crate) struct TransferRow {
    pub id: String,
    pub debit: String,
    pub credit: String,
    pub amount: i64,
    pub may_go_negative: bool,
    pub kind: &'static str,
    pub order_id: Option<String>,
    /// Only AgentMarket plans carry one, and they are applied in Rust: the hot-path
    /// JSON for `heepr_apply_v1`/`_v2` stays as it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    pub at: NaiveDateTime,
}

#[derive(Debug, Serialize, Insertable)]
#[diesel(table_name = notifications)]
pub(crate) struct NotificationRow {
    pub id: String,
    pub recipient: &'static str,
    pub user_id: Option<String>,
    pub kind: &'static str,
    pub order_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    /// The notice's [`heepr_domain::notice::Detail`] as JSON.
    pub detail: String,
    pub agent_id: Option<String>,
    pub thread_id: Option<String>,
    /// The order's gig title, as it was.
    pub title: Option<String>,
    pub read_at: Option<NaiveDateTime>,
}

#[derive(Debug, Serialize, Insertable)]
#[diesel(table_name = reviews)]
pub(crate) struct ReviewRow {
    pub id: String,
    pub order_id: String,
    pub agent_id: String,
    pub customer_id: String,
    pub stars: i32,
    pub body: Option<String>,
    pub reply: Option<String>,
    pub replied_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, Insertable)]
#[diesel(table_name = deliveries)]
pub(crate) struct DeliveryRow {
    pub id: String,
    pub order_id: String,
    pub seq: i32,
    pub body: Option<String>,
    pub urls: String,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, Insertable)]
#[diesel(table_name = files)]
pub(crate) struct FileRow {
    pub id: String,
    pub order_id: String,
    pub delivery_id: Option<String>,
    pub name: String,
    pub content_type: String,
    pub bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub created_at: NaiveDateTime,
}

impl Plan {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn push(&mut self, step: Step) {
        self.steps.push(step);
    }

    /// Adds `step`, if there is one.
    pub(crate) fn extend(&mut self, step: Option<Step>) {
        self.steps.extend(step);
    }

    /// Puts `step` before every other one.
    pub(crate) fn push_first(&mut self, step: Step) {
        self.steps.insert(0, step);
    }

    /// Every effect of a decision, in the order the domain listed them; events link to
    /// `base_url` (see [`crate::Store::set_base_url`]).
    pub(crate) fn effects(&mut self, d: &Decision, base_url: &str, now: DateTime<Utc>) -> Result<()> {
        for effect in &d.effects {
            let step = match effect {
                Effect::Transfer(t) => transfer(t, now),
                Effect::Event(ev) => event(&d.order.agent, ev, base_url)?,
                Effect::Notify(n) => notification(n, &d.order, now)?,
            };
            self.push(step);
        }
        Ok(())
    }

    /// Notes that the plan makes `entry` stale in every instance's caches.
    pub(crate) fn makes_stale(&mut self, entry: Stale) {
        self.also_stale.push(entry);
    }

    /// What the plan makes stale once committed: the agents it gives events, and what
    /// [`Plan::makes_stale`] noted.
    pub(crate) fn stale(&self) -> Vec<Stale> {
        let mut out: Vec<Stale> = Vec::new();
        for step in &self.steps {
            if let Step::Event { agent_id, .. } = step {
                let e = Stale::Events(agent_id.clone());
                if !out.contains(&e) {
                    out.push(e);
                }
            }
        }
        for s in &self.also_stale {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
        out
    }

    /// Adds a new row.
    pub(crate) fn insert(&mut self, row: NewRow) {
        self.push(Step::Insert(row));
    }

    /// Adds a change to existing rows.
    pub(crate) fn change(&mut self, change: Change) {
        self.push(Step::Change(change));
    }

    /// Whether PostgreSQL can take the whole plan in one `heepr_apply_v2` call, which
    /// is its own transaction; otherwise the caller must open one.
    pub(crate) fn in_server(&self) -> bool {
        self.steps.iter().all(Step::in_server)
    }

    /// Applies every step on `c`, inside whatever transaction `c` is in (on PostgreSQL
    /// a plan [`Plan::in_server`] may run outside one: the single call is atomic).
    /// Counts what a committed plan did: order transitions by the state reached, ledger
    /// transfers and the points they moved by kind.
    pub(crate) fn record_metrics(&self) {
        for step in &self.steps {
            match step {
                Step::InsertOrder { row } | Step::UpdateOrder { row, .. } => {
                    metrics::counter!("heepr_order_transitions_total", "to" => row.state.clone()).increment(1);
                }
                Step::Transfer(t) => {
                    metrics::counter!("heepr_ledger_transfers_total", "kind" => t.kind).increment(1);
                    metrics::counter!("heepr_ledger_points_total", "kind" => t.kind).increment(t.amount.unsigned_abs());
                }
                _ => {}
            }
        }
    }

    pub(crate) fn apply(&self, c: &mut AnyConnection) -> Result<()> {
        self.apply_notifying(c, None)
    }

    /// [`Plan::apply`], and on PostgreSQL a `NOTIFY` of `note` (a `crate::listen`
    /// payload) in the same transaction: sent if and only if the plan commits. A plan
    /// PostgreSQL takes in one call carries it in that very statement.
    pub(crate) fn apply_notifying(&self, c: &mut AnyConnection, note: Option<&str>) -> Result<()> {
        if self.steps.is_empty() {
            return Ok(());
        }
        match c {
            AnyConnection::Postgresql(_) if self.in_server() => postgres::apply(c, self, note),
            _ => {
                self.steps.iter().try_for_each(|s| statements::apply(c, s))?;
                match (note, &*c) {
                    (Some(note), AnyConnection::Postgresql(_)) => postgres::notify(c, note),
                    _ => Ok(()),
                }
            }
        }
    }
}

pub(crate) fn transfer(t: &Transfer, now: DateTime<Utc>) -> Step {
    Step::Transfer(TransferRow {
        id: format!("txn_{}", ulid()),
        debit: t.debit.key(),
        credit: t.credit.key(),
        amount: t.amount.get(),
        may_go_negative: t.debit.may_go_negative(),
        kind: t.kind.as_str(),
        order_id: t.order.as_ref().map(|o| o.to_string()),
        task_id: t.task.as_ref().map(|k| k.to_string()),
        at: naive(now),
    })
}

fn event(agent: &AgentId, ev: &AgentEvent, base_url: &str) -> Result<Step> {
    // `id` comes first and is filled in when the sequence number is known.
    let text = event_wire::payload(ev, base_url)?;
    Ok(Step::Event {
        agent_id: agent.to_string(),
        kind: ev.kind.as_str(),
        order_id: Some(ev.body.order.to_string()),
        id_head: crate::poll::event_id_head(agent),
        // Never empty: `k` and `ts` are always there.
        tail: text[1..].to_owned(),
        at: naive(ev.at),
    })
}

fn notification(n: &Notification, order: &Order, now: DateTime<Utc>) -> Result<Step> {
    let notice = crate::notice::NewNotice {
        to: n.to.clone(),
        kind: n.kind,
        detail: n.detail.clone(),
        agent: Some(order.agent.to_string()),
        order: Some(n.order.to_string()),
        thread: None,
        title: Some(order.work.gig_title.clone()),
    };
    Ok(Step::Notification { row: notice.row(now)? })
}

/// The event's id and stored body once its sequence number is known.
pub(super) fn event_row(id_head: &str, tail: &str, seq: i64) -> (String, String) {
    let id = format!("{id_head}{seq:010}");
    let body = format!("{{\"id\":\"{id}\",{tail}");
    (id, body)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod event_row_tests {
    use super::*;

    #[test]
    fn an_event_body_is_its_id_then_the_payload() {
        let (id, body) = event_row("evt_abc-", r#""k":"new_order","ts":"t"}"#, 7);
        assert_eq!(id, "evt_abc-0000000007");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["id"], "evt_abc-0000000007");
        assert_eq!(v["k"], "new_order");
    }
}
