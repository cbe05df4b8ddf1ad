//! The static check of a URL: what can be decided without resolving a name.
//!
//! Used three times: when a URL is stored ([`crate::Outbound::check_url`], a 422 for
//! the user), before each call (the stored URL may predate a stricter policy), and on
//! each redirect hop ([`crate::redirect::allow_hop`]). A literal IP address is judged
//! here because the HTTP connector does not resolve it, so the resolver hook never
//! sees it. A hostname is judged again by its answers at connect time.

use url::{Host, Url};

use crate::{OutboundError, Policy, address};

/// Parses `raw` and checks it against `policy`: the full guard when `guarded`, and
/// only "an http(s) URL with a host" otherwise.
pub(crate) fn parse(raw: &str, policy: &Policy, guarded: bool) -> Result<Url, OutboundError> {
    let url = Url::parse(raw.trim()).map_err(|e| OutboundError::InvalidUrl(e.to_string()))?;
    if guarded {
        check(&url, policy)?;
    } else if !matches!(url.scheme(), "http" | "https") {
        return Err(OutboundError::Scheme(url.scheme().to_owned()));
    } else if url.host().is_none() {
        return Err(OutboundError::InvalidUrl("no host".into()));
    }
    Ok(url)
}

/// The guard's static half: scheme, a host, and (unless `allow_private`) no literal
/// blocked address and no name that always means this machine.
pub(crate) fn check(url: &Url, policy: &Policy) -> Result<(), OutboundError> {
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        other => return Err(OutboundError::Scheme(other.to_owned())),
    }
    let host = url.host().ok_or_else(|| OutboundError::InvalidUrl("no host".into()))?;
    if policy.allow_private {
        return Ok(());
    }
    let refused = match host {
        Host::Ipv4(ip) => address::is_blocked(ip.into()),
        Host::Ipv6(ip) => address::is_blocked(ip.into()),
        Host::Domain(name) => address::is_local_name(name),
    };
    if refused {
        // `host_str` keeps IPv6 brackets: "[::1]".
        return Err(OutboundError::Blocked {
            addr: url.host_str().unwrap_or_default().to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guarded(raw: &str, policy: &Policy) -> Result<Url, OutboundError> {
        parse(raw, policy, true)
    }

    #[test]
    fn scheme_is_https_unless_http_is_allowed() {
        let strict = Policy::default();
        assert_eq!(guarded("http://x", &strict), Err(OutboundError::Scheme("http".into())));
        assert_eq!(
            guarded("ftp://example.com/", &strict),
            Err(OutboundError::Scheme("ftp".into()))
        );
        assert_eq!(
            guarded("file:///etc/passwd", &strict),
            Err(OutboundError::Scheme("file".into()))
        );
        assert!(guarded("https://example.com/hook", &strict).is_ok());
        let lax = Policy {
            allow_http: true,
            ..Policy::default()
        };
        assert!(guarded("http://example.com/hook", &lax).is_ok());
        assert_eq!(
            guarded("ftp://example.com/", &lax),
            Err(OutboundError::Scheme("ftp".into()))
        );
    }

    #[test]
    fn unparseable_or_hostless_urls_are_invalid() {
        let p = Policy::default();
        for raw in ["", "not a url", "https://", "https://exa mple.com/"] {
            assert_eq!(guarded(raw, &p).map_err(|e| e.code()), Err("url_invalid"), "{raw:?}");
        }
        assert_eq!(
            parse("data:text/plain,hi", &p, false),
            Err(OutboundError::Scheme("data".into()))
        );
    }

    #[test]
    fn literal_blocked_addresses_and_local_names_are_refused() {
        let p = Policy::default();
        for (raw, addr) in [
            ("https://127.0.0.1/", "127.0.0.1"),
            ("https://2130706433/", "127.0.0.1"), // decimal form, normalised by the parser
            ("https://0x7f.1/", "127.0.0.1"),
            ("https://10.0.0.1:8443/x", "10.0.0.1"),
            ("https://169.254.169.254/latest/meta-data/", "169.254.169.254"),
            ("https://[::1]/", "[::1]"),
            ("https://[::ffff:10.0.0.1]/", "[::ffff:a00:1]"),
            ("https://localhost/", "localhost"),
            ("https://api.localhost./", "api.localhost."),
        ] {
            assert_eq!(
                guarded(raw, &p),
                Err(OutboundError::Blocked { addr: addr.into() }),
                "{raw}"
            );
        }
        assert!(guarded("https://93.184.216.34/", &p).is_ok());
        assert!(guarded("https://[2606:4700::1]/", &p).is_ok());
    }

    #[test]
    fn allow_private_lets_local_targets_through() {
        let p = Policy {
            allow_http: true,
            allow_private: true,
            ..Policy::default()
        };
        assert!(guarded("http://127.0.0.1:8080/", &p).is_ok());
        assert!(guarded("http://localhost/", &p).is_ok());
    }

    #[test]
    fn unguarded_takes_any_http_address() {
        let p = Policy::default();
        assert!(parse("http://127.0.0.1:11434/v1", &p, false).is_ok());
        assert!(parse("https://localhost/", &p, false).is_ok());
    }
}
