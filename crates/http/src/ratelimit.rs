//! One limiter for attempts worth guessing at: logins now; password resets and open
//! registrations plug in with a [`Rule`] of their own.
//!
//! An attempt is counted in two buckets: its subject (the email) *from this client*,
//! and this client alone. A stranger failing at someone's email from their own address
//! therefore locks only themselves out of that email, never its owner on another
//! address; hammering many emails from one address meets the per-client ceiling. Both
//! are fixed windows. Counting happens before the attempt is checked, so concurrent
//! attempts cannot slip past the limit together; an attempt that succeeds is given back
//! (and the subject's count forgotten), so only failures use up a limit.
//!
//! Where: in memory on SQLite (one process), in the database's `rate_limits` table on
//! PostgreSQL, where several instances share one count. The client address is the peer
//! address, or — only when the peer is a trusted proxy (`HEEPR_TRUSTED_PROXIES`) — the
//! nearest untrusted address in `X-Forwarded-For`. IPv6 clients count per /64, the
//! block one subscriber usually holds.

use crate::error::{ApiError, blocking};
use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use heepr_store::Store;
use heepr_store::connection::Backend;
use ipnet::IpNet;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

/// Limits of one kind of attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rule {
    /// Names the rule's buckets (`login`).
    pub name: &'static str,
    /// The fixed window.
    pub window: chrono::Duration,
    /// Attempts per subject from one client per window.
    pub per_subject: u32,
    /// Attempts from one client per window, all subjects together.
    pub per_client: u32,
}

/// Addresses whose `X-Forwarded-For` is believed (`HEEPR_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses IP addresses and CIDR blocks (`10.0.0.1`, `10.0.0.0/8`, `fd00::/8`);
    /// empty entries are skipped.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .map(|e| {
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("HEEPR_TRUSTED_PROXIES: {e:?} is not an IP address or CIDR block"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the peer's, unless the peer is trusted; then the nearest
    /// address in `X-Forwarded-For` (read from the right, past trusted proxies) that is
    /// not trusted itself. An entry that does not parse ends the walk: what is left of
    /// it was written by the client and proves nothing.
    pub(crate) fn client(&self, req: &HttpRequest) -> IpAddr {
        let mut client = canonical(req.peer_addr().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip()));
        if !self.trusts(client) {
            return client;
        }
        let hops: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for hop in hops.into_iter().rev() {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// `::ffff:10.0.0.1` is `10.0.0.1`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// What one client counts as: an IPv4 address, or an IPv6 /64.
fn client_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

/// Bucket names are hashes: the table never holds an email or an address.
fn bucket(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// A counted attempt, to give back if it succeeds.
pub(crate) struct Attempt {
    client: String,
    subject: Option<String>,
}

/// A bucket counted in memory.
struct Window {
    start: DateTime<Utc>,
    length: chrono::Duration,
    count: i64,
}

enum Counts {
    Memory(Mutex<HashMap<String, Window>>),
    Shared(Store),
}

/// Buckets kept in memory before expired ones are swept.
const MAX_TRACKED: usize = 100_000;

/// The attempt counters; see the module docs.
pub(crate) struct Limiter {
    counts: Counts,
}

impl Limiter {
    /// In memory on SQLite (one process), in the database on PostgreSQL.
    pub(crate) fn for_store(store: &Store) -> Self {
        match store.backend() {
            Backend::Sqlite => Self::in_memory(),
            Backend::Postgres => Self {
                counts: Counts::Shared(store.clone()),
            },
        }
    }

    pub(crate) fn in_memory() -> Self {
        Self {
            counts: Counts::Memory(Mutex::new(HashMap::new())),
        }
    }

    /// Counts an attempt from `client` — at `subject` (an email), if the rule has
    /// one — and refuses it (`429 too_many_attempts`) when a count is over its limit
    /// in the current window.
    pub(crate) async fn attempt(
        &self,
        rule: &Rule,
        subject: Option<&str>,
        client: IpAddr,
        now: DateTime<Utc>,
    ) -> Result<Attempt, ApiError> {
        let client = client_key(client);
        let attempt = Attempt {
            client: bucket(&[rule.name, "client", &client]),
            subject: subject.map(|s| bucket(&[rule.name, "subject", s, "client", &client])),
        };
        let buckets: Vec<String> = std::iter::once(attempt.client.clone())
            .chain(attempt.subject.clone())
            .collect();
        let counts: Vec<i64> = match &self.counts {
            Counts::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                if map.len() >= MAX_TRACKED {
                    map.retain(|_, w| w.start + w.length > now);
                }
                buckets
                    .into_iter()
                    .map(|b| {
                        let fresh = || Window {
                            start: now,
                            length: rule.window,
                            count: 0,
                        };
                        let w = map.entry(b).or_insert_with(fresh);
                        if w.start + w.length <= now {
                            *w = fresh();
                        }
                        w.count += 1;
                        w.count
                    })
                    .collect()
            }
            Counts::Shared(store) => {
                let store = store.clone();
                let window = rule.window;
                blocking(move || Ok(store.count_attempt(&buckets, now, window)?))
                    .await?
                    .iter()
                    .map(|a| a.count)
                    .collect()
            }
        };
        let limits = [rule.per_client, rule.per_subject];
        if counts.iter().zip(limits).any(|(n, limit)| *n > i64::from(limit)) {
            return Err(ApiError::TooManyAttempts);
        }
        Ok(attempt)
    }

    /// The attempt succeeded: it does not count against the client, and the subject's
    /// failures from this client are forgotten. (For rules where every attempt counts,
    /// such as registrations, do not call this.)
    pub(crate) async fn succeeded(&self, attempt: Attempt) -> Result<(), ApiError> {
        let reset = attempt.subject.unwrap_or_default();
        match &self.counts {
            Counts::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                map.remove(&reset);
                if let Some(w) = map.get_mut(&attempt.client) {
                    w.count = (w.count - 1).max(0);
                }
                Ok(())
            }
            Counts::Shared(store) => {
                let store = store.clone();
                blocking(move || Ok(store.forgive_attempt(&reset, &attempt.client)?)).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::test::TestRequest;

    const LOGIN: Rule = Rule {
        name: "login",
        window: chrono::Duration::minutes(15),
        per_subject: 2,
        per_client: 3,
    };

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    async fn allowed(l: &Limiter, email: &str, client: &str, now: DateTime<Utc>) -> bool {
        l.attempt(&LOGIN, Some(email), ip(client), now).await.is_ok()
    }

    #[actix_web::test]
    async fn limits_an_email_per_client_and_each_client_overall() {
        let l = Limiter::in_memory();
        let now = Utc::now();
        assert!(allowed(&l, "a", "10.0.0.1", now).await);
        assert!(allowed(&l, "a", "10.0.0.1", now).await);
        assert!(
            !allowed(&l, "a", "10.0.0.1", now).await,
            "third try at a from one client"
        );
        assert!(allowed(&l, "a", "10.0.0.2", now).await, "a from another client");
        assert!(!allowed(&l, "b", "10.0.0.1", now).await, "the client's ceiling");
        assert!(allowed(&l, "a", "10.0.0.1", now + LOGIN.window).await, "a new window");
        // IPv6 clients count per /64.
        assert!(allowed(&l, "c", "2001:db8::1", now).await);
        assert!(allowed(&l, "d", "2001:db8::2", now).await);
        assert!(allowed(&l, "e", "2001:db8::3", now).await);
        assert!(!allowed(&l, "f", "2001:db8::4", now).await);
        assert!(allowed(&l, "f", "2001:db8:0:1::4", now).await);
    }

    #[actix_web::test]
    async fn a_success_is_given_back() {
        let l = Limiter::in_memory();
        let now = Utc::now();
        for _ in 0..5 {
            let a = l.attempt(&LOGIN, Some("a"), ip("10.0.0.1"), now).await.unwrap();
            l.succeeded(a).await.unwrap();
        }
        assert!(allowed(&l, "a", "10.0.0.1", now).await);
    }

    #[actix_web::test]
    async fn a_rule_without_a_subject_counts_the_client_alone() {
        let register = Rule {
            name: "register",
            window: chrono::Duration::hours(1),
            per_subject: 0,
            per_client: 2,
        };
        let l = Limiter::in_memory();
        let now = Utc::now();
        for _ in 0..2 {
            assert!(l.attempt(&register, None, ip("10.0.0.1"), now).await.is_ok());
        }
        assert!(l.attempt(&register, None, ip("10.0.0.1"), now).await.is_err());
        assert!(allowed(&l, "a", "10.0.0.1", now).await, "another rule counts apart");
    }

    fn client_of(trusted: &[&str], peer: &str, xff: &[&str]) -> IpAddr {
        let t = TrustedProxies::parse(&trusted.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        let mut req = TestRequest::default().peer_addr(format!("{peer}:4000").parse().unwrap());
        for v in xff {
            req = req.append_header(("X-Forwarded-For", *v));
        }
        t.client(&req.to_http_request())
    }

    #[test]
    fn x_forwarded_for_counts_only_behind_a_trusted_proxy() {
        assert_eq!(client_of(&[], "10.0.0.9", &["203.0.113.5"]), ip("10.0.0.9"));
        assert_eq!(
            client_of(&["10.0.0.0/8"], "10.0.0.9", &["203.0.113.5"]),
            ip("203.0.113.5")
        );
        assert_eq!(client_of(&["10.0.0.9"], "10.0.0.8", &["203.0.113.5"]), ip("10.0.0.8"));
        // The client may write anything on the left; the nearest untrusted hop counts.
        assert_eq!(
            client_of(&["10.0.0.0/8"], "10.0.0.9", &["1.1.1.1, 203.0.113.5, 10.0.0.7"]),
            ip("203.0.113.5")
        );
        assert_eq!(
            client_of(&["10.0.0.0/8"], "10.0.0.9", &["1.1.1.1", "203.0.113.5"]),
            ip("203.0.113.5"),
            "several headers read as one list"
        );
        assert_eq!(
            client_of(&["10.0.0.0/8"], "10.0.0.9", &["junk, 10.0.0.3"]),
            ip("10.0.0.3")
        );
        assert_eq!(client_of(&["10.0.0.0/8"], "10.0.0.9", &[]), ip("10.0.0.9"));
        assert_eq!(
            client_of(&["10.0.0.0/8"], "10.0.0.9", &["::ffff:203.0.113.5"]),
            ip("203.0.113.5")
        );
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["proxy.local".into()]).is_err());
    }
}
