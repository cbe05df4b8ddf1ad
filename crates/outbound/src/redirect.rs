//! The guard on redirects.
//!
//! A public server can answer `307 Location: http://169.254.169.254/…`: every hop is a
//! new target and gets the same static check as the first URL (scheme, literal
//! address, local names). A hop to another hostname is then judged by the resolver
//! when reqwest connects to it. The number of hops is capped so a redirect loop ends.

use reqwest::redirect;
use url::Url;

use crate::{OutboundError, Policy, target};

/// Redirects followed at most, per call.
pub const MAX_REDIRECTS: usize = 5;

/// Decides whether to follow a redirect to `url`. `previous_hops` is the number of
/// URLs already requested in this chain, the original one included (reqwest's
/// `Attempt::previous().len()`), so the first redirect has `previous_hops == 1` and at
/// most [`MAX_REDIRECTS`] redirects are followed.
pub fn allow_hop(url: &Url, previous_hops: usize, policy: &Policy) -> Result<(), OutboundError> {
    if previous_hops > MAX_REDIRECTS {
        return Err(OutboundError::TooManyRedirects);
    }
    target::check(url, policy)
}

/// The reqwest policy for a guarded client: [`allow_hop`] on every hop; a refusal
/// travels inside reqwest's error and is recovered by `OutboundError::from_reqwest`.
pub(crate) fn guarded(policy: Policy) -> redirect::Policy {
    redirect::Policy::custom(
        move |attempt| match allow_hop(attempt.url(), attempt.previous().len(), &policy) {
            Ok(()) => attempt.follow(),
            Err(refusal) => attempt.error(refusal),
        },
    )
}

/// The reqwest policy for an unguarded client: the same cap, no address check.
pub(crate) fn unguarded() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(OutboundError::TooManyRedirects)
        } else {
            attempt.follow()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(raw: &str, previous: usize, policy: &Policy) -> Result<(), OutboundError> {
        allow_hop(&Url::parse(raw).unwrap(), previous, policy)
    }

    #[test]
    fn https_to_http_is_refused_unless_http_is_allowed() {
        let strict = Policy::default();
        assert_eq!(
            hop("http://example.com/", 1, &strict),
            Err(OutboundError::Scheme("http".into()))
        );
        assert_eq!(hop("https://example.com/next", 1, &strict), Ok(()));
        let lax = Policy {
            allow_http: true,
            ..Policy::default()
        };
        assert_eq!(hop("http://example.com/", 1, &lax), Ok(()));
        assert_eq!(
            hop("gopher://example.com/", 1, &lax),
            Err(OutboundError::Scheme("gopher".into()))
        );
    }

    #[test]
    fn hop_to_a_literal_blocked_address_is_refused() {
        let p = Policy {
            allow_http: true,
            ..Policy::default()
        };
        assert_eq!(
            hop("http://10.0.0.1/", 1, &p),
            Err(OutboundError::Blocked {
                addr: "10.0.0.1".into()
            })
        );
        assert_eq!(
            hop("https://169.254.169.254/latest", 2, &p),
            Err(OutboundError::Blocked {
                addr: "169.254.169.254".into()
            })
        );
        assert_eq!(
            hop("https://[fd00::1]/", 1, &p),
            Err(OutboundError::Blocked {
                addr: "[fd00::1]".into()
            })
        );
        assert_eq!(
            hop("https://localhost/", 1, &p),
            Err(OutboundError::Blocked {
                addr: "localhost".into()
            })
        );
        let open = Policy {
            allow_http: true,
            allow_private: true,
            ..Policy::default()
        };
        assert_eq!(hop("http://10.0.0.1/", 1, &open), Ok(()));
    }

    #[test]
    fn hop_count_is_capped() {
        let p = Policy::default();
        for previous in 1..=MAX_REDIRECTS {
            assert_eq!(hop("https://example.com/", previous, &p), Ok(()), "hop {previous}");
        }
        assert_eq!(
            hop("https://example.com/", MAX_REDIRECTS + 1, &p),
            Err(OutboundError::TooManyRedirects)
        );
        let open = Policy {
            allow_private: true,
            allow_http: true,
            ..Policy::default()
        };
        assert_eq!(
            hop("http://10.0.0.1/", MAX_REDIRECTS + 1, &open),
            Err(OutboundError::TooManyRedirects)
        );
    }
}
