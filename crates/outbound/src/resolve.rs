//! The guard's connect-time half: a DNS resolver that refuses blocked answers.
//!
//! Checking a hostname's addresses when the URL is stored is not enough: the name can
//! be re-pointed later, or answer differently from one query to the next (DNS
//! rebinding). reqwest connects only to the addresses its resolver returns, so
//! filtering them here judges exactly the address that will be dialled, on the first
//! request and on every redirect hop to a new name.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::{OutboundError, Policy, address};

/// Decides on a name's answers: all of them, or a refusal.
///
/// If any answer is blocked the whole answer is refused rather than the blocked
/// addresses dropped: a public name has no business pointing at a private address, a
/// mix is the shape of a rebinding attempt, and refusing keeps the outcome independent
/// of which address the connector would have tried first. An empty answer is a
/// connect failure.
pub fn filter_answers(host: &str, answers: Vec<SocketAddr>, policy: &Policy) -> Result<Vec<SocketAddr>, OutboundError> {
    if answers.is_empty() {
        return Err(OutboundError::Connect(format!("{host} has no address")));
    }
    if !policy.allow_private
        && let Some(bad) = answers.iter().find(|a| address::is_blocked(a.ip()))
    {
        return Err(OutboundError::Blocked {
            addr: bad.ip().to_string(),
        });
    }
    Ok(answers)
}

/// The system resolver (`getaddrinfo` on tokio's blocking pool, as reqwest's default
/// does), its answers passed through [`filter_answers`].
#[derive(Debug, Clone)]
pub(crate) struct GuardedResolver {
    pub(crate) policy: Policy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: the connector puts in the URL's (or the scheme's) port.
            let answers = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| OutboundError::Connect(format!("resolving {host}: {e}")))?;
            let allowed = filter_answers(&host, answers.collect(), &policy)?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn public_answers_pass_unchanged() {
        let answers = addrs(&["93.184.216.34:0", "[2606:4700::1]:0"]);
        assert_eq!(
            filter_answers("example.com", answers.clone(), &Policy::default()),
            Ok(answers)
        );
    }

    #[test]
    fn one_private_answer_among_public_ones_refuses_the_whole_answer() {
        let answers = addrs(&["93.184.216.34:0", "10.0.0.7:0", "[2606:4700::1]:0"]);
        assert_eq!(
            filter_answers("rebind.example", answers, &Policy::default()),
            Err(OutboundError::Blocked {
                addr: "10.0.0.7".into()
            })
        );
        let mapped = addrs(&["[2606:4700::1]:0", "[::ffff:127.0.0.1]:0"]);
        assert_eq!(
            filter_answers("rebind.example", mapped, &Policy::default()).map_err(|e| e.code()),
            Err("address_blocked")
        );
    }

    #[test]
    fn allow_private_keeps_private_answers() {
        let answers = addrs(&["127.0.0.1:0", "10.0.0.7:0"]);
        let p = Policy {
            allow_private: true,
            ..Policy::default()
        };
        assert_eq!(filter_answers("intranet", answers.clone(), &p), Ok(answers));
    }

    #[test]
    fn no_answer_is_a_connect_failure() {
        assert_eq!(
            filter_answers("nowhere", vec![], &Policy::default()).map_err(|e| e.code()),
            Err("connect_failed")
        );
    }

    /// The real resolver: `localhost` comes from /etc/hosts (no DNS traffic) and its
    /// loopback answer is refused.
    #[tokio::test]
    async fn the_real_resolver_refuses_localhost() {
        let resolver = GuardedResolver {
            policy: Policy::default(),
        };
        let err = match resolver.resolve("localhost".parse().unwrap()).await {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        let ours = err.downcast_ref::<OutboundError>().unwrap();
        assert_eq!(ours.code(), "address_blocked", "{ours}");

        let open = GuardedResolver {
            policy: Policy {
                allow_private: true,
                ..Policy::default()
            },
        };
        let found: Vec<_> = open.resolve("localhost".parse().unwrap()).await.unwrap().collect();
        assert!(
            !found.is_empty() && found.iter().all(|a| a.ip().is_loopback()),
            "{found:?}"
        );
    }
}
