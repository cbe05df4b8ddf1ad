//! Process-local caches for the hottest path, the idle poll: key hash → principal,
//! and per agent "is anything undelivered". Entries are dropped by writes made through
//! this process at once, and live at most [`TTL`] so writes made by *another* instance
//! (several servers on one PostgreSQL) are seen within about a second.

use crate::KeyReject;
use crate::poll::KeyPrincipal;
use crate::user::UserRecord;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

pub(crate) const TTL: Duration = Duration::from_secs(1);
/// Bounds memory under a flood of random keys; the map is simply cleared when full.
const MAX_ENTRIES: usize = 100_000;

type KeyAnswer = Result<KeyPrincipal, KeyReject>;
/// (checked at, session expiry, user)
type SessionEntry = (Instant, chrono::DateTime<chrono::Utc>, UserRecord);

#[derive(Default)]
pub(crate) struct Caches {
    keys: RwLock<HashMap<String, (Instant, KeyAnswer)>>,
    /// agent id → (checked at, event_seq, delivered_seq)
    watermarks: RwLock<HashMap<String, (Instant, i64, i64)>>,
    /// session token hash → (checked at, session expiry, user)
    sessions: RwLock<HashMap<String, SessionEntry>>,
    /// agent id → last successful poll, waiting to be flushed
    pub(crate) heartbeats: std::sync::Mutex<HashMap<String, chrono::DateTime<chrono::Utc>>>,
}

fn fresh(at: Instant) -> bool {
    at.elapsed() < TTL
}

impl Caches {
    pub(crate) fn key(&self, hash: &str) -> Option<Result<KeyPrincipal, KeyReject>> {
        let map = self.keys.read().unwrap_or_else(|p| p.into_inner());
        map.get(hash).filter(|(at, _)| fresh(*at)).map(|(_, v)| v.clone())
    }

    pub(crate) fn put_key(&self, hash: &str, v: Result<KeyPrincipal, KeyReject>) {
        let mut map = self.keys.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(hash.to_owned(), (Instant::now(), v));
    }

    /// Forgets everything cached about `agent` (status, keys, watermark).
    pub(crate) fn forget_agent(&self, agent: &str) {
        self.keys
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (_, v)| !matches!(v, Ok(p) if p.agent_id.as_str() == agent));
        self.forget_events(agent);
    }

    pub(crate) fn forget_events(&self, agent: &str) {
        self.watermarks.write().unwrap_or_else(|p| p.into_inner()).remove(agent);
    }

    /// `Some(true)` when a fresh watermark says nothing is pending.
    pub(crate) fn nothing_pending(&self, agent: &str) -> Option<bool> {
        let map = self.watermarks.read().unwrap_or_else(|p| p.into_inner());
        map.get(agent)
            .filter(|(at, ..)| fresh(*at))
            .map(|(_, seq, delivered)| seq <= delivered)
    }

    pub(crate) fn put_watermark(&self, agent: &str, seq: i64, delivered: i64) {
        let mut map = self.watermarks.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(agent.to_owned(), (Instant::now(), seq, delivered));
    }

    /// The user of a cached, unexpired session.
    pub(crate) fn session(&self, hash: &str, now: chrono::DateTime<chrono::Utc>) -> Option<UserRecord> {
        let map = self.sessions.read().unwrap_or_else(|p| p.into_inner());
        map.get(hash)
            .filter(|(at, expires, _)| fresh(*at) && *expires > now)
            .map(|(_, _, u)| u.clone())
    }

    pub(crate) fn put_session(&self, hash: &str, expires: chrono::DateTime<chrono::Utc>, user: UserRecord) {
        let mut map = self.sessions.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(hash.to_owned(), (Instant::now(), expires, user));
    }

    pub(crate) fn forget_session(&self, hash: &str) {
        self.sessions.write().unwrap_or_else(|p| p.into_inner()).remove(hash);
    }

    /// Drops every cached session of `user` (their roles or account changed).
    pub(crate) fn forget_user(&self, user: &str) {
        self.sessions
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (_, _, u)| u.id.as_str() != user);
    }
}
