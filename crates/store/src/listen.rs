//! Instances on one PostgreSQL tell each other what their writes made stale.
//!
//! A write's plan names what it makes stale in the caches ([`Stale`]); on PostgreSQL
//! the store sends that as a `NOTIFY` **inside** the writing transaction (so it is
//! delivered on commit, and never for a write that rolled back), and each instance
//! keeps one connection of its own — outside the pool — that `LISTEN`s and drops the
//! named entries and wakes the long-polls they concern at once.
//!
//! While that connection is down the caches fall back to what they did before it: an
//! entry lives [`crate::cache::TTL`] (one second), and the long-poll sweeper re-reads
//! the waiting agents' watermarks once a second. A fresh connection forgets everything
//! (notifications sent while it was down are lost).

use crate::cache::Caches;
use std::sync::Weak;
use std::time::Duration;

/// The channel every instance listens on.
pub(crate) const CHANNEL: &str = "heepr_stale";

/// PostgreSQL refuses payloads of 8000 bytes or more; past this a write says "forget
/// everything" instead of listing what.
const MAX_PAYLOAD: usize = 7000;

/// How long the listener waits for a notification before it checks its connection.
const IDLE_CHECK: Duration = Duration::from_secs(5);

/// Reconnection back-off: first and longest wait.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Something a committed write made stale in every instance's caches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stale {
    /// The agent has new events: its watermark is void, its waiting long-polls wake.
    Events(String),
    /// Everything cached about the agent: status, suspension, keys, terms, watermark.
    Agent(String),
    /// Every session of the user (roles or account changed).
    User(String),
    /// One session (a logout), by token hash.
    Session(String),
    /// The agent's AgentMarket keys (a rotation).
    MarketKeys(String),
}

impl Stale {
    fn code(&self) -> (char, &str) {
        match self {
            Self::Events(id) => ('e', id),
            Self::Agent(id) => ('a', id),
            Self::User(id) => ('u', id),
            Self::Session(h) => ('s', h),
            Self::MarketKeys(id) => ('m', id),
        }
    }

    fn parse(word: &str) -> Option<Self> {
        let mut chars = word.chars();
        let code = chars.next()?;
        let id = chars.as_str().to_owned();
        if id.is_empty() {
            return None;
        }
        Some(match code {
            'e' => Self::Events(id),
            'a' => Self::Agent(id),
            'u' => Self::User(id),
            's' => Self::Session(id),
            'm' => Self::MarketKeys(id),
            _ => return None,
        })
    }

    /// Drops what this names from `cache`.
    pub(crate) fn forget(&self, cache: &Caches) {
        match self {
            Self::Events(a) => cache.forget_events(a),
            Self::Agent(a) => cache.forget_agent(a),
            Self::User(u) => cache.forget_user(u),
            Self::Session(h) => cache.forget_session(h),
            Self::MarketKeys(a) => cache.forget_market_keys(a),
        }
    }
}

/// What a notification asks the listeners to drop.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Message {
    /// These entries.
    Some(Vec<Stale>),
    /// Everything (the list was too long for one notification).
    All,
}

/// The payload for `stale`, sent by the instance `from`: `"<from> <code><id> …"`, or
/// `"<from> *"`. Ids and hashes never contain spaces.
pub(crate) fn payload(from: &str, stale: &[Stale]) -> String {
    let mut out = String::with_capacity(from.len() + 32 * stale.len());
    out.push_str(from);
    for s in stale {
        let (code, id) = s.code();
        out.push(' ');
        out.push(code);
        out.push_str(id);
    }
    if out.len() > MAX_PAYLOAD {
        format!("{from} *")
    } else {
        out
    }
}

/// Reads a payload: who sent it and what it asks. `None` for one this version does not
/// understand (a newer binary's during a rolling upgrade): the caller forgets all.
pub(crate) fn parse(payload: &str) -> Option<(&str, Message)> {
    let mut words = payload.split(' ');
    let from = words.next().filter(|f| !f.is_empty())?;
    let rest: Vec<&str> = words.collect();
    if rest == ["*"] {
        return Some((from, Message::All));
    }
    let stale = rest.into_iter().map(Stale::parse).collect::<Option<Vec<_>>>()?;
    Some((from, Message::Some(stale)))
}

/// Starts the listener thread for the instance `me` on `url`; it ends when the caches
/// are dropped (the store is gone).
pub(crate) fn start(url: &str, me: String, cache: Weak<Caches>) -> crate::Result<()> {
    let mut config: postgres::Config = url.parse().map_err(|e| crate::StoreError::Connect {
        url: crate::mask_password(url),
        cause: format!("LISTEN connection: {e}"),
    })?;
    config.connect_timeout(Duration::from_secs(5));
    // Named after the instance, so an operator (or a test) can tell whose it is.
    config.application_name(&format!("heepr-listen-{me}"));
    std::thread::Builder::new()
        .name("heepr-listen".into())
        .spawn(move || run(config, &me, cache))
        .map_err(|e| crate::StoreError::Writer(format!("cannot start the LISTEN thread: {e}")))?;
    Ok(())
}

fn run(config: postgres::Config, me: &str, cache: Weak<Caches>) {
    let mut backoff = BACKOFF_FIRST;
    // Said once per outage, not at every retry.
    let mut said_down = false;
    loop {
        let Err(e) = listen(&config, me, &cache) else {
            return; // the store is gone
        };
        let Some(c) = cache.upgrade() else { return };
        if c.set_listening(false) {
            // It was up: this is a new outage, retry soon.
            said_down = false;
            backoff = BACKOFF_FIRST;
            metrics::counter!("heepr_listen_disconnects_total").increment(1);
        }
        drop(c);
        if !said_down {
            tracing::warn!(error = %e, "no LISTEN connection; other instances' writes are seen within a second until it is back");
            said_down = true;
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// One connection's life: `Ok` when the store is gone, `Err` when the connection is.
fn listen(config: &postgres::Config, me: &str, cache: &Weak<Caches>) -> Result<(), postgres::Error> {
    use postgres::fallible_iterator::FallibleIterator;
    let mut client = config.connect(postgres::NoTls)?;
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    {
        let Some(c) = cache.upgrade() else { return Ok(()) };
        // Whatever was written while nobody listened is unknown: start afresh.
        c.forget_everything();
        c.set_listening(true);
        tracing::info!("LISTEN connection up: other instances' writes are seen at once");
    }
    loop {
        let mut got_any = false;
        {
            let mut notes = client.notifications();
            let mut iter = notes.timeout_iter(IDLE_CHECK);
            while let Some(n) = iter.next()? {
                got_any = true;
                let Some(c) = cache.upgrade() else { return Ok(()) };
                match parse(n.payload()) {
                    Some((from, _)) if from == me => {}
                    Some((_, Message::Some(stale))) => stale.iter().for_each(|s| s.forget(&c)),
                    Some((_, Message::All)) | None => c.forget_everything(),
                }
            }
        }
        if cache.strong_count() == 0 {
            return Ok(());
        }
        if !got_any {
            // Quiet, or the server went away: only a round trip tells.
            client.is_valid(Duration::from_secs(2))?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_reads_back() {
        let stale = vec![
            Stale::Events("agt_1".into()),
            Stale::Agent("agt_2".into()),
            Stale::User("usr_3".into()),
            Stale::Session("ab12".into()),
            Stale::MarketKeys("agt_4".into()),
        ];
        let p = payload("i1", &stale);
        assert_eq!(p, "i1 eagt_1 aagt_2 uusr_3 sab12 magt_4");
        assert_eq!(parse(&p), Some(("i1", Message::Some(stale))));
        assert_eq!(parse("i1"), Some(("i1", Message::Some(vec![]))));
    }

    #[test]
    fn a_long_list_says_forget_all_and_a_strange_one_is_not_understood() {
        let many: Vec<Stale> = (0..1000).map(|i| Stale::Events(format!("agt_{i:020}"))).collect();
        let p = payload("i1", &many);
        assert!(p.len() < 8000);
        assert_eq!(parse(&p), Some(("i1", Message::All)));
        assert_eq!(parse("i1 zwhat"), None);
        assert_eq!(parse(""), None);
    }
}
