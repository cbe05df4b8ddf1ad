//! Process-local caches for the hot paths: key hash → principal, per agent "is anything
//! undelivered" (the idle poll), and session → user (every cookie request). Entries are dropped by writes made through
//! this process at once, by other instances' writes at once too while the LISTEN
//! connection is up (`crate::listen`), and live at most [`TTL`] so writes made by
//! *another* instance (several servers on one PostgreSQL) are seen within about a second
//! even while it is down.
//!
//! Beside them, the long-polls waiting for an agent's events ([`Wakeups`]): a write that
//! gave an agent events wakes its waiting polls when it voids the agent's watermark
//! ([`Caches::forget_events`]), which the store does only after the write committed.

use crate::KeyReject;
use crate::order::Stored;
use crate::placement::CachedTerms;
use crate::poll::KeyPrincipal;
use crate::user::UserRecord;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub(crate) const TTL: Duration = Duration::from_secs(1);
/// Bounds memory under a flood of random keys; the map is simply cleared when full.
const MAX_ENTRIES: usize = 100_000;

type KeyAnswer = Result<KeyPrincipal, KeyReject>;
type MarketKeyAnswer = Result<crate::market::MarketPrincipal, KeyReject>;

/// Orders kept for the command path at most (each a few KiB).
const MAX_ORDERS: usize = 4096;
/// How long a kept order is used. Its freshness is checked by the write itself (the
/// version), so this only bounds how long a quiet order takes memory.
const ORDER_TTL: Duration = Duration::from_secs(600);

/// A string-keyed map whose entries are answered for at most `ttl` after they were put.
struct TtlMap<V> {
    map: RwLock<HashMap<String, (Instant, V)>>,
    ttl: Duration,
    cap: usize,
}

impl<V> Default for TtlMap<V> {
    fn default() -> Self {
        Self::new(TTL, MAX_ENTRIES)
    }
}

impl<V> TtlMap<V> {
    fn new(ttl: Duration, cap: usize) -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
            ttl,
            cap,
        }
    }
}

impl<V: Clone> TtlMap<V> {
    /// A fresh entry, if `keep` accepts it.
    fn get(&self, k: &str, keep: impl FnOnce(&V) -> bool) -> Option<V> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.get(k)
            .filter(|(at, v)| at.elapsed() < self.ttl && keep(v))
            .map(|(_, v)| v.clone())
    }

    fn put(&self, k: &str, v: V) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.cap {
            map.clear();
        }
        map.insert(k.to_owned(), (Instant::now(), v));
    }

    fn remove(&self, k: &str) {
        self.map.write().unwrap_or_else(|p| p.into_inner()).remove(k);
    }

    fn clear(&self) {
        self.map.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn retain(&self, keep: impl Fn(&V) -> bool) {
        self.map
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (_, v)| keep(v));
    }
}

/// Per agent, whether anything is undelivered: the idle poll's answer.
#[derive(Default)]
struct Watermarks {
    map: RwLock<MarkMap>,
    /// Counts [`Caches::forget_events`] calls; a reader notes it before it reads.
    epoch: AtomicU64,
}

#[derive(Default)]
struct MarkMap {
    marks: HashMap<String, Mark>,
    /// The epoch when the map was last emptied (the forgotten marks went with it).
    cleared_at: u64,
}

enum Mark {
    /// Read from the database.
    Known { at: Instant, seq: i64, delivered: i64 },
    /// Voided by a write, at this epoch.
    Forgotten { epoch: u64 },
}

/// Per agent, the long-polls waiting for its events. A waiting poll holds a receiver and
/// nothing else (no connection, no thread); a wake-up bumps the agent's counter, which
/// every receiver sees once.
#[derive(Default)]
pub(crate) struct Wakeups {
    map: Mutex<HashMap<String, Waiting>>,
    /// Whether a sweeper re-checks the waiting agents' watermarks (writes made by other
    /// instances wake no one here). Set and cleared under `map`'s lock, so exactly one
    /// runs while anyone waits.
    sweeping: AtomicBool,
}

struct Waiting {
    tx: watch::Sender<u64>,
    polls: usize,
}

impl Wakeups {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Waiting>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(crate) struct Caches {
    /// agent id → the long-polls waiting for its events
    pub(crate) wakeups: Wakeups,
    /// key hash → principal or refusal
    keys: TtlMap<KeyAnswer>,
    /// AgentMarket key hash → principal or refusal
    market_keys: TtlMap<MarketKeyAnswer>,
    /// agent id → (event_seq, delivered_seq)
    watermarks: Watermarks,
    /// session token hash → (session expiry, user)
    sessions: TtlMap<(chrono::DateTime<chrono::Utc>, UserRecord)>,
    /// agent id → last successful poll, waiting to be flushed
    pub(crate) heartbeats: std::sync::Mutex<HashMap<String, chrono::DateTime<chrono::Utc>>>,
    /// agent id → what placing an order needs of the agent
    agents: TtlMap<CachedTerms>,
    /// order id → the order (and version) as this process last wrote it (see
    /// [`Caches::order`])
    orders: TtlMap<Stored>,
    /// Whether this instance's LISTEN connection is up (`crate::listen`): other
    /// instances' writes then void entries at once, and the sweeper reads nothing.
    listening: AtomicBool,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            wakeups: Wakeups::default(),
            keys: TtlMap::default(),
            market_keys: TtlMap::default(),
            watermarks: Watermarks::default(),
            sessions: TtlMap::default(),
            agents: TtlMap::default(),
            heartbeats: Default::default(),
            orders: TtlMap::new(ORDER_TTL, MAX_ORDERS),
            listening: AtomicBool::new(false),
        }
    }
}

impl Caches {
    /// Notes whether the LISTEN connection is up; returns whether it was.
    pub(crate) fn set_listening(&self, up: bool) -> bool {
        self.listening.swap(up, Ordering::SeqCst)
    }

    /// Whether other instances' writes reach this one at once (the LISTEN connection).
    pub(crate) fn listening(&self) -> bool {
        self.listening.load(Ordering::SeqCst)
    }

    /// Forgets every entry another instance's write may have made stale, and wakes
    /// every waiting long-poll (they look again): after a LISTEN outage, or when a
    /// notification was too long to list its entries.
    pub(crate) fn forget_everything(&self) {
        self.keys.clear();
        self.market_keys.clear();
        self.sessions.clear();
        self.agents.clear();
        {
            let epoch = self.watermarks.epoch.fetch_add(1, Ordering::SeqCst) + 1;
            let mut w = self.watermarks.map.write().unwrap_or_else(|p| p.into_inner());
            w.marks.clear();
            w.cleared_at = epoch;
        }
        for w in self.wakeups.lock().values() {
            w.tx.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    pub(crate) fn key(&self, hash: &str) -> Option<KeyAnswer> {
        self.keys.get(hash, |_| true)
    }

    pub(crate) fn put_key(&self, hash: &str, v: KeyAnswer) {
        self.keys.put(hash, v);
    }

    pub(crate) fn market_key(&self, hash: &str) -> Option<MarketKeyAnswer> {
        self.market_keys.get(hash, |_| true)
    }

    pub(crate) fn put_market_key(&self, hash: &str, v: MarketKeyAnswer) {
        self.market_keys.put(hash, v);
    }

    /// Forgets the AgentMarket keys of `agent` (a rotation).
    pub(crate) fn forget_market_keys(&self, agent: &str) {
        self.market_keys
            .retain(|v| !matches!(v, Ok(p) if p.agent.as_str() == agent));
    }

    /// Forgets everything cached about `agent` (status, keys, settings, watermark).
    pub(crate) fn forget_agent(&self, agent: &str) {
        self.keys
            .retain(|v| !matches!(v, Ok(p) if p.agent_id.as_str() == agent));
        self.agents.remove(agent);
        self.forget_events(agent);
    }

    pub(crate) fn agent_terms(&self, agent: &str) -> Option<CachedTerms> {
        self.agents.get(agent, |_| true)
    }

    pub(crate) fn put_agent_terms(&self, agent: &str, terms: CachedTerms) {
        self.agents.put(agent, terms);
    }

    /// A write gave `agent` new events: its watermark is void, and so is any read of
    /// it that began before now; the agent's waiting long-polls wake up. Called only
    /// after the write committed, so a woken poll finds what woke it.
    pub(crate) fn forget_events(&self, agent: &str) {
        let epoch = self.watermarks.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let mut w = self.watermarks.map.write().unwrap_or_else(|p| p.into_inner());
            w.marks.insert(agent.to_owned(), Mark::Forgotten { epoch });
        }
        if let Some(w) = self.wakeups.lock().get(agent) {
            w.tx.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Registers a long-poll of `agent`: the receiver sees every wake-up from now on.
    /// Also says whether the caller must start the sweeper (nobody runs one).
    pub(crate) fn wait_for_events(&self, agent: &str) -> (watch::Receiver<u64>, bool) {
        let mut map = self.wakeups.lock();
        let w = map.entry(agent.to_owned()).or_insert_with(|| Waiting {
            tx: watch::Sender::new(0),
            polls: 0,
        });
        w.polls += 1;
        let rx = w.tx.subscribe();
        let start_sweeper = !self.wakeups.sweeping.swap(true, Ordering::SeqCst);
        (rx, start_sweeper)
    }

    /// A long-poll of `agent` ended (answered, timed out or dropped).
    pub(crate) fn stop_waiting(&self, agent: &str) {
        let mut map = self.wakeups.lock();
        if let Some(w) = map.get_mut(agent) {
            w.polls = w.polls.saturating_sub(1);
            if w.polls == 0 {
                map.remove(agent);
            }
        }
    }

    /// The agents with a waiting long-poll, for the sweeper; `None` (and the sweeper's
    /// claim released) when nobody waits.
    pub(crate) fn waiting_agents(&self) -> Option<Vec<String>> {
        let map = self.wakeups.lock();
        if map.is_empty() {
            self.wakeups.sweeping.store(false, Ordering::SeqCst);
            return None;
        }
        Some(map.keys().cloned().collect())
    }

    /// To note before reading a watermark from the database, for [`Caches::put_watermark`].
    pub(crate) fn events_epoch(&self) -> u64 {
        self.watermarks.epoch.load(Ordering::SeqCst)
    }

    /// `Some(true)` when a fresh watermark says nothing is pending.
    pub(crate) fn nothing_pending(&self, agent: &str) -> Option<bool> {
        let w = self.watermarks.map.read().unwrap_or_else(|p| p.into_inner());
        match w.marks.get(agent) {
            Some(Mark::Known { at, seq, delivered }) if at.elapsed() < TTL => Some(seq <= delivered),
            _ => None,
        }
    }

    /// Keeps a watermark read from the database — unless a write for this agent (or a
    /// reset of the map) came after `read_epoch`, noted before the read: the read may
    /// have missed that write's events, and keeping it would answer "nothing pending"
    /// for them until it expired.
    pub(crate) fn put_watermark(&self, agent: &str, read_epoch: u64, seq: i64, delivered: i64) {
        let mut w = self.watermarks.map.write().unwrap_or_else(|p| p.into_inner());
        if w.marks.len() >= MAX_ENTRIES {
            w.marks.clear();
            w.cleared_at = self.watermarks.epoch.load(Ordering::SeqCst);
        }
        let forgotten_since = match w.marks.get(agent) {
            Some(Mark::Forgotten { epoch }) => *epoch > read_epoch,
            _ => false,
        };
        if forgotten_since || w.cleared_at > read_epoch {
            return;
        }
        w.marks.insert(
            agent.to_owned(),
            Mark::Known {
                at: Instant::now(),
                seq,
                delivered,
            },
        );
    }

    /// An order as this process last wrote it. It may be stale (another instance may
    /// have changed it since): only a command whose versioned write then succeeds may
    /// rely on it — any other outcome is decided again on the stored order.
    pub(crate) fn order(&self, id: &str) -> Option<Stored> {
        self.orders.get(id, |_| true)
    }

    pub(crate) fn put_order(&self, o: &Stored) {
        self.orders.put(o.order.id.as_str(), o.clone());
    }

    pub(crate) fn forget_order(&self, id: &str) {
        self.orders.remove(id);
    }

    /// The user of a cached, unexpired session.
    pub(crate) fn session(&self, hash: &str, now: chrono::DateTime<chrono::Utc>) -> Option<UserRecord> {
        self.sessions.get(hash, |(expires, _)| *expires > now).map(|(_, u)| u)
    }

    pub(crate) fn put_session(&self, hash: &str, expires: chrono::DateTime<chrono::Utc>, user: UserRecord) {
        self.sessions.put(hash, (expires, user));
    }

    pub(crate) fn forget_session(&self, hash: &str) {
        self.sessions.remove(hash);
    }

    /// Drops every cached session of `user` (their roles or account changed).
    pub(crate) fn forget_user(&self, user: &str) {
        self.sessions.retain(|(_, u)| u.id.as_str() != user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_wakes_the_waiting_polls_of_its_agent_only() {
        let c = Caches::default();
        let (mut a1, sweep) = c.wait_for_events("agt_a");
        assert!(sweep, "the first waiter starts the sweeper");
        let (a2, sweep) = c.wait_for_events("agt_a");
        assert!(!sweep, "one sweeper at a time");
        let (mut b, _) = c.wait_for_events("agt_b");
        c.forget_events("agt_a");
        assert!(
            a1.has_changed().unwrap() && a2.has_changed().unwrap(),
            "both polls of agt_a"
        );
        assert!(!b.has_changed().unwrap(), "not agt_b's");
        a1.mark_unchanged();
        assert!(!a1.has_changed().unwrap(), "a wake-up is seen once");
        b.mark_unchanged();
        c.stop_waiting("agt_a");
        c.stop_waiting("agt_a");
        c.stop_waiting("agt_b");
        assert_eq!(c.waiting_agents(), None, "every registration is gone");
        c.forget_events("agt_a"); // nobody to wake: no entry is created
        assert_eq!(c.waiting_agents(), None);
        let (_a, sweep) = c.wait_for_events("agt_a");
        assert!(sweep, "the claim was released with the last waiter");
        assert_eq!(c.waiting_agents(), Some(vec!["agt_a".to_owned()]));
    }

    #[test]
    fn a_watermark_read_before_a_write_of_its_agent_is_not_kept() {
        let c = Caches::default();
        let before = c.events_epoch();
        c.forget_events("agt_a"); // a placement lands while the poll reads
        c.put_watermark("agt_a", before, 5, 5);
        assert_eq!(
            c.nothing_pending("agt_a"),
            None,
            "the read may have missed the new event"
        );

        let now = c.events_epoch();
        c.put_watermark("agt_a", now, 5, 5);
        assert_eq!(c.nothing_pending("agt_a"), Some(true));

        let read = c.events_epoch();
        c.forget_events("agt_b"); // another agent's write does not void this read
        c.put_watermark("agt_a", read, 6, 5);
        assert_eq!(c.nothing_pending("agt_a"), Some(false));
    }
}
