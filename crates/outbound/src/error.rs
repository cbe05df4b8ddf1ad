//! The one error type of outbound calls.
//!
//! Every refusal and failure is a variant a caller can turn into a machine code
//! ([`OutboundError::code`]) without reading the message: an API answers 422 with the
//! code when a URL is refused at input time, and a delivery log stores it per attempt.

/// Why an outbound call was refused or failed.
///
/// `Clone` because the resolver and the redirect policy hand a copy to reqwest inside
/// its error chain, and [`crate::Outbound`] recovers it from there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The URL's scheme is not allowed (`https` only unless the policy allows `http`).
    #[error("URL scheme {0:?} is not allowed")]
    Scheme(String),
    /// The URL does not parse, or has no host.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The target is a loopback, private, link-local or otherwise non-public address
    /// (or a name such as `localhost` that always means one). `addr` is the address or
    /// name that was refused.
    #[error("address {addr} is not allowed")]
    Blocked {
        /// The refused address (or name).
        addr: String,
    },
    /// More redirects than [`crate::MAX_REDIRECTS`].
    #[error("too many redirects")]
    TooManyRedirects,
    /// A header name or value the caller passed is not valid HTTP.
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    /// The connect timeout or the total timeout ran out.
    #[error("timed out")]
    Timeout,
    /// The response body exceeds the policy's `max_bytes`.
    #[error("response larger than {max_bytes} bytes")]
    TooLarge {
        /// The limit that was exceeded.
        max_bytes: usize,
    },
    /// The name did not resolve, or the connection (TCP or TLS) failed.
    #[error("connect failed: {0}")]
    Connect(String),
    /// Anything else (a broken response, a client that could not be built).
    #[error("outbound call failed: {0}")]
    Other(String),
}

impl OutboundError {
    /// A stable machine code for this error, for API answers and delivery logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Scheme(_) => "url_scheme",
            Self::InvalidUrl(_) => "url_invalid",
            Self::Blocked { .. } => "address_blocked",
            Self::TooManyRedirects => "too_many_redirects",
            Self::InvalidHeader(_) => "header_invalid",
            Self::Timeout => "timeout",
            Self::TooLarge { .. } => "response_too_large",
            Self::Connect(_) => "connect_failed",
            Self::Other(_) => "outbound_failed",
        }
    }

    /// Maps a reqwest error back to ours.
    ///
    /// Our resolver and redirect policy put an `OutboundError` into reqwest's error
    /// chain; it is found there first, so a refusal at connect time or at a hop reads
    /// as `Blocked` and not as a generic connect or redirect error.
    pub(crate) fn from_reqwest(err: &reqwest::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(e) = source {
            if let Some(ours) = e.downcast_ref::<OutboundError>() {
                return ours.clone();
            }
            source = e.source();
        }
        if err.is_timeout() {
            Self::Timeout
        } else if err.is_connect() {
            Self::Connect(chain(err))
        } else {
            Self::Other(chain(err))
        }
    }
}

/// The error and its sources, "a: b: c" (reqwest's own message is often just
/// "error sending request").
fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct() {
        let all = [
            OutboundError::Scheme("http".into()),
            OutboundError::InvalidUrl(String::new()),
            OutboundError::Blocked {
                addr: "10.0.0.1".into(),
            },
            OutboundError::TooManyRedirects,
            OutboundError::InvalidHeader(String::new()),
            OutboundError::Timeout,
            OutboundError::TooLarge { max_bytes: 1 },
            OutboundError::Connect(String::new()),
            OutboundError::Other(String::new()),
        ];
        let mut codes: Vec<_> = all.iter().map(OutboundError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert_eq!(all[2].code(), "address_blocked");
    }
}
