//! The agent's hot path: key authentication and `GET /api/events`.
//!
//! An idle poll (nothing pending, key and watermark cached) touches no database: the
//! heartbeat is recorded in memory and flushed in batches by the server. A long-poll
//! (`?wait=`) waits on an [`EventWait`]: a wake-up in memory, fired after the commit of a
//! write through this process that gave the agent events, by a notification of another
//! instance's write (`listen`, PostgreSQL), and — while that connection is down — by
//! [`Store::sweep_waiting`].

use crate::error::{KeyReject, Result, StoreError};
use crate::prepared::KeepPrepared;
use crate::rows::naive;
use crate::schema::{agents, api_keys, events};
use crate::{Backend, Store, micros};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use heepr_domain::AgentId;
use heepr_domain::agent::AgentStatus;
use std::sync::Arc;

/// Events returned by one poll at most (SPEC §15).
pub const POLL_LIMIT: i64 = 100;

/// The agent a valid API key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPrincipal {
    /// The agent.
    pub agent_id: AgentId,
    /// Its owner.
    pub owner_id: String,
    /// Its status.
    pub status: AgentStatus,
    /// Suspended by support (may poll, may not work).
    pub suspended: bool,
}

/// What a poll returns.
#[derive(Debug, Clone, PartialEq)]
pub struct PollBatch {
    /// Oldest first, at most [`POLL_LIMIT`], each the stored compact JSON.
    pub events: Vec<serde_json::Value>,
    /// The last id returned (a cursor), when any.
    pub next: Option<String>,
}

fn event_id(agent: &AgentId, seq: i64) -> String {
    format!("{}{seq:010}", event_id_head(agent))
}

/// What every event id of `agent` starts with (then its sequence number, 10 digits).
pub(crate) fn event_id_head(agent: &AgentId) -> String {
    format!("evt_{}-", agent.as_str().trim_start_matches(AgentId::PREFIX))
}

/// The sequence number a cursor names, if it is one of this agent's event ids.
fn cursor_seq(agent: &AgentId, cursor: &str) -> Option<i64> {
    let rest = cursor.strip_prefix("evt_")?;
    let (agent_body, seq) = rest.rsplit_once('-')?;
    (agent_body == agent.as_str().trim_start_matches(AgentId::PREFIX) && seq.len() == 10)
        .then(|| seq.parse().ok())
        .flatten()
}

/// Drains the agent's undelivered events on PostgreSQL in one statement (one round
/// trip, its own transaction) instead of a watermark read, BEGIN, three statements and
/// COMMIT. The agent row is locked first — only when something is pending — so two
/// polls of one agent take turns and each event is handed out once; the second sees
/// the watermark the first moved.
fn drain_in_one_statement(c: &mut crate::AnyConnection, agent: &AgentId) -> Result<Vec<(i64, String)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        body: String,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "WITH a AS (SELECT delivered_seq FROM agents WHERE id = $1 AND event_seq > delivered_seq FOR UPDATE), \
         ev AS (SELECT e.seq, e.body FROM events e, a WHERE e.agent_id = $1 AND e.seq > a.delivered_seq \
                ORDER BY e.seq LIMIT $2), \
         moved AS (UPDATE agents SET delivered_seq = (SELECT max(seq) FROM ev) \
                   WHERE id = $1 AND (SELECT max(seq) FROM ev) > delivered_seq) \
         SELECT seq, body FROM ev ORDER BY seq",
    )
    .bind::<diesel::sql_types::Text, _>(agent.as_str())
    .bind::<diesel::sql_types::BigInt, _>(POLL_LIMIT)
    .load_prepared(c)?;
    Ok(rows.into_iter().map(|r| (r.seq, r.body)).collect())
}

/// One long-poll's registration for an agent's wake-ups; dropping it unregisters.
pub struct EventWait {
    cache: Arc<crate::cache::Caches>,
    agent: String,
    rx: tokio::sync::watch::Receiver<u64>,
    start_sweeper: bool,
}

impl EventWait {
    /// Resolves at the next wake-up since the last one seen (at once if one came after
    /// the registration): look for events again then.
    pub async fn woken(&mut self) {
        if self.rx.changed().await.is_err() {
            // The sender lives as long as a registration does; should it go, wait for
            // the caller's deadline rather than spin.
            std::future::pending::<()>().await;
        }
    }

    /// Whether this registration must start the sweeper ([`Store::sweep_waiting`] once
    /// a second until it says stop): true for exactly one waiting poll at a time.
    pub fn start_sweeper(&self) -> bool {
        self.start_sweeper
    }
}

impl Drop for EventWait {
    fn drop(&mut self) {
        self.cache.stop_waiting(&self.agent);
    }
}

/// Waiting agents whose watermarks one sweep statement reads.
const SWEEP_CHUNK: usize = 500;

impl Store {
    /// Registers a long-poll of `agent`. Register **before** looking for events: a write
    /// committed after that wakes it even if the look missed the write.
    pub fn wait_for_events(&self, agent: &AgentId) -> EventWait {
        let (rx, start_sweeper) = self.cache.wait_for_events(agent.as_str());
        EventWait {
            cache: self.cache.clone(),
            agent: agent.to_string(),
            rx,
            start_sweeper,
        }
    }

    /// Wakes every waiting agent that has undelivered events: those another instance
    /// wrote (a write through this process woke its agent already). One primary-key
    /// read per [`SWEEP_CHUNK`] waiting agents; none when nobody waits. Returns `false`
    /// when nobody waits any more — the sweeper stops, and the next waiting poll starts
    /// one again.
    pub fn sweep_waiting(&self) -> Result<bool> {
        let Some(waiting) = self.cache.waiting_agents() else {
            return Ok(false);
        };
        if self.cache.listening() {
            // Other instances' writes wake the polls here themselves (`listen`): the
            // re-read is only the fallback while that connection is down.
            return Ok(true);
        }
        for chunk in waiting.chunks(SWEEP_CHUNK) {
            let pending: Vec<String> = self.query(|c| {
                Ok(agents::table
                    .filter(agents::id.eq_any(chunk))
                    .filter(agents::event_seq.gt(agents::delivered_seq))
                    .select(agents::id)
                    .load(c)?)
            })?;
            for agent in pending {
                self.cache.forget_events(&agent);
            }
        }
        Ok(true)
    }

    /// The cached answer for a key hash, if fresh (no database, cheap enough to call
    /// on an async thread).
    pub fn cached_key(&self, key_hash: &str) -> Option<Result<KeyPrincipal>> {
        self.cache.key(key_hash).map(|r| r.map_err(StoreError::Key))
    }

    /// Finds the agent of an API key by its SHA-256 hash. Cached for about a second;
    /// revoking, rotating or suspending through this process takes effect at once.
    pub fn authenticate_key(&self, key_hash: &str, now: DateTime<Utc>) -> Result<KeyPrincipal> {
        if let Some(hit) = self.cache.key(key_hash) {
            return hit.map_err(StoreError::Key);
        }
        let found = self.read(|c| {
            let key: Option<(String, Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>)> = api_keys::table
                .find(key_hash)
                .select((api_keys::agent_id, api_keys::expires_at, api_keys::revoked_at))
                .first(c)
                .optional()?;
            let Some((agent_id, expires_at, revoked_at)) = key else {
                return Ok(Err(KeyReject::Unknown));
            };
            if revoked_at.is_some() {
                return Ok(Err(KeyReject::Revoked));
            }
            if expires_at.is_some_and(|e| e <= naive(now)) {
                return Ok(Err(KeyReject::Expired));
            }
            let (owner_id, status, suspended): (String, String, bool) = agents::table
                .find(&agent_id)
                .select((agents::owner_id, agents::status, agents::suspended))
                .first(c)?;
            Ok(Ok(KeyPrincipal {
                agent_id: AgentId::parse(&agent_id)
                    .ok_or_else(|| StoreError::corrupt(format!("agent id {agent_id}")))?,
                owner_id,
                status: AgentStatus::parse(&status).ok_or_else(|| StoreError::corrupt(format!("status {status}")))?,
                suspended,
            }))
        })?;
        // Expiry depends on `now`; only cache answers that cannot flip within the TTL.
        self.cache.put_key(key_hash, found.clone());
        found.map_err(StoreError::Key)
    }

    /// Notes a successful poll in memory (the online flag); flushed in batches.
    pub fn heartbeat(&self, agent: &AgentId, now: DateTime<Utc>) {
        let mut beats = self.cache.heartbeats.lock().unwrap_or_else(|p| p.into_inner());
        beats.insert(agent.to_string(), micros(now));
    }

    /// Writes the heartbeats collected since the last flush, in one transaction.
    /// Returns how many agents were updated.
    pub fn flush_heartbeats(&self) -> Result<usize> {
        let beats: Vec<(String, DateTime<Utc>)> = {
            let mut map = self.cache.heartbeats.lock().unwrap_or_else(|p| p.into_inner());
            map.drain().collect()
        };
        if beats.is_empty() {
            return Ok(0);
        }
        let n = beats.len();
        let result = self.bookkeeping(|c| {
            for (agent, at) in &beats {
                diesel::update(agents::table.find(agent))
                    .set(agents::last_seen_at.eq(naive(*at)))
                    .execute_prepared(c)?;
            }
            Ok(())
        });
        if result.is_err() {
            // Put them back so the next flush retries (a newer beat wins).
            let mut map = self.cache.heartbeats.lock().unwrap_or_else(|p| p.into_inner());
            for (agent, at) in beats {
                map.entry(agent).or_insert(at);
            }
        }
        result.map(|()| n)
    }

    /// A heartbeat not flushed yet, if any.
    pub(crate) fn pending_heartbeat(&self, agent: &str) -> Option<DateTime<Utc>> {
        self.cache
            .heartbeats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(agent)
            .copied()
    }

    /// An idle poll answered from memory: `true` when no cursor was given, the
    /// watermark is fresh and nothing is pending (the heartbeat is recorded too).
    pub fn idle_poll_from_cache(&self, agent: &AgentId, now: DateTime<Utc>) -> bool {
        let idle = self.cache.nothing_pending(agent.as_str()) == Some(true);
        if idle {
            self.heartbeat(agent, now);
        }
        idle
    }

    /// `GET /api/events`: without a cursor, the undelivered events (drained: they are
    /// marked delivered); with `since`, every event after that cursor (re-read for
    /// recovery, and marked delivered too); `since = "0"` re-reads from the first
    /// retained event. A cursor is expired only when retention removed an event after
    /// it.
    pub fn poll_events(&self, agent: &AgentId, since: Option<&str>, now: DateTime<Utc>) -> Result<PollBatch> {
        self.heartbeat(agent, now);
        let empty = PollBatch {
            events: Vec::new(),
            next: None,
        };
        let after = match since {
            // From the agent's first retained event: a first drain whose answer was lost
            // is recoverable too.
            Some("0") => Some(0),
            Some(cursor) => Some(cursor_seq(agent, cursor).ok_or(StoreError::Cursor("bad_cursor"))?),
            None => None,
        };
        if after.is_none() && self.cache.nothing_pending(agent.as_str()) == Some(true) {
            return Ok(empty);
        }
        // On PostgreSQL the drain below is itself one cheap statement when nothing is
        // pending (it locks the agent row only when there is something to hand out).
        let read_epoch = self.cache.events_epoch();
        if after.is_none() && self.backend == Backend::Sqlite {
            let (seq, delivered): (i64, i64) = self.query(|c| {
                Ok(agents::table
                    .find(agent.as_str())
                    .select((agents::event_seq, agents::delivered_seq))
                    .first(c)?)
            })?;
            self.cache.put_watermark(agent.as_str(), read_epoch, seq, delivered);
            if seq <= delivered {
                return Ok(empty);
            }
        }
        let rows = match (after, self.backend) {
            (None, Backend::Postgres) => {
                let rows = self.query(|c| drain_in_one_statement(c, agent))?;
                if rows.is_empty() {
                    // Nothing pending as of this statement: what a watermark says.
                    self.cache.put_watermark(agent.as_str(), read_epoch, 0, 0);
                    return Ok(empty);
                }
                rows
            }
            _ => self.bookkeeping(|c| {
                let (delivered, last): (i64, i64) = agents::table
                    .find(agent.as_str())
                    .select((agents::delivered_seq, agents::event_seq))
                    .first(c)?;
                let from = match after {
                    Some(s) => {
                        if s > last {
                            return Err(StoreError::Cursor("bad_cursor"));
                        }
                        // Expired only if retention removed an event after the cursor:
                        // the first one still kept must be the cursor's next. Zero asks
                        // for whatever is retained, so it never expires.
                        let first: Option<i64> = events::table
                            .filter(events::agent_id.eq(agent.as_str()))
                            .select(diesel::dsl::min(events::seq))
                            .first(c)?;
                        if s > 0 && first.unwrap_or(last + 1) > s + 1 {
                            return Err(StoreError::Cursor("cursor_expired"));
                        }
                        s
                    }
                    None => delivered,
                };
                let rows: Vec<(i64, String)> = events::table
                    .filter(events::agent_id.eq(agent.as_str()))
                    .filter(events::seq.gt(from))
                    .order(events::seq)
                    .limit(POLL_LIMIT)
                    .select((events::seq, events::body))
                    .load(c)?;
                if let Some(last) = rows.last().map(|(s, _)| *s).filter(|l| *l > delivered) {
                    diesel::update(agents::table.find(agent.as_str()))
                        .set(agents::delivered_seq.eq(last))
                        .execute_prepared(c)?;
                }
                Ok(rows)
            })?,
        };
        let next = rows.last().map(|(s, _)| event_id(agent, *s));
        let events = rows
            .into_iter()
            .map(|(seq, body)| {
                serde_json::from_str(&body).map_err(|e| StoreError::corrupt(format!("event {seq}: {e}")))
            })
            .collect::<Result<Vec<serde_json::Value>>>()?;
        let batch = PollBatch { events, next };
        // Only a read that handed something out moves the watermark; waking the agent's
        // long-polls for an empty re-read (`since` with nothing after it) made them spin.
        if !batch.events.is_empty() {
            self.cache.forget_events(agent.as_str());
        }
        Ok(batch)
    }

    /// Deletes delivered events older than `before` (retention). Undelivered events
    /// are kept whatever their age.
    pub fn purge_delivered_events(&self, before: DateTime<Utc>) -> Result<usize> {
        let before = naive(before);
        self.bookkeeping(|c| {
            let delivered = agents::table
                .filter(agents::id.eq(events::agent_id))
                .select(agents::delivered_seq)
                .single_value();
            let n = diesel::delete(
                events::table
                    .filter(events::created_at.lt(before))
                    .filter(events::seq.nullable().le(delivered)),
            )
            .execute(c)?;
            Ok(n)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_belong_to_one_agent() {
        let a = AgentId::parse("agt_01ABC").unwrap();
        let b = AgentId::parse("agt_01XYZ").unwrap();
        let id = event_id(&a, 42);
        assert_eq!(id, "evt_01ABC-0000000042");
        assert_eq!(cursor_seq(&a, &id), Some(42));
        assert_eq!(cursor_seq(&b, &id), None);
        assert_eq!(cursor_seq(&a, "evt_01ABC-42"), None);
        assert_eq!(cursor_seq(&a, "garbage"), None);
    }
}
