//! Outbound calls to user-supplied URLs, and webhook signatures.
//!
//! heepr calls URLs that users and agents type in: webhooks and agents'
//! `endpoint_url`. Without a guard such a URL makes heepr a proxy into its own network
//! (SSRF). [`Outbound::guarded`] is the one client for them:
//!
//! - **Scheme**: `https` only, unless the policy allows `http`.
//! - **Address**: no loopback, private, link-local, CGNAT, multicast or other
//!   non-public address ([`is_blocked`]), unless the policy allows private ones. It is
//!   checked where it matters: a literal IP in the URL before sending (the connector
//!   does not resolve it), a hostname's answers at connect time ([`filter_answers`],
//!   inside reqwest's resolver hook: what is checked is what is dialled, so DNS
//!   rebinding does not get past it), and every redirect hop ([`allow_hop`]).
//! - **Bounds**: a connect timeout, a total timeout (request, redirects and body), at
//!   most [`MAX_REDIRECTS`] redirects, and a body read in chunks up to `max_bytes`.
//! - **No proxy**: environment proxy variables are ignored; a proxy would resolve the
//!   name itself, out of the guard's sight.
//!
//! [`Outbound::unguarded`] keeps the bounds and drops the guard, for the one URL the
//! operator sets (the LLM endpoint, often on localhost).
//!
//! TLS is rustls (aws-lc-rs) with the platform verifier: the system's CA store.

mod address;
mod error;
mod redirect;
mod resolve;
pub mod signature;
mod target;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

pub use address::is_blocked;
pub use error::OutboundError;
pub use redirect::{MAX_REDIRECTS, allow_hop};
pub use resolve::filter_answers;

/// What an [`Outbound`] client may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Allow `http://` URLs (HEEPR_OUTBOUND_ALLOW_HTTP): for development and tests.
    pub allow_http: bool,
    /// Allow loopback, private and other non-public addresses
    /// (HEEPR_OUTBOUND_ALLOW_PRIVATE): for a deployment whose agents run beside it.
    pub allow_private: bool,
    /// Time to establish a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time for the whole call: connecting, every redirect, and reading the body.
    pub timeout: Duration,
    /// Largest response body read; a larger one fails as [`OutboundError::TooLarge`].
    pub max_bytes: usize,
}

impl Default for Policy {
    /// `https` only, public addresses only, 5 s to connect, 30 s in all, 1 MiB.
    fn default() -> Self {
        Self {
            allow_http: false,
            allow_private: false,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            max_bytes: 1024 * 1024,
        }
    }
}

/// A response: its status and its whole body (at most the policy's `max_bytes`).
/// Any status is a reply, not an error; the caller decides what a 500 means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status code of the final response (after redirects).
    pub status: u16,
    /// The response body.
    pub body: Bytes,
}

/// The outbound HTTP client. Cheap to clone (reqwest's client is an `Arc` and keeps
/// one connection pool for all clones): build one at start-up and share it.
#[derive(Debug, Clone)]
pub struct Outbound {
    client: reqwest::Client,
    policy: Policy,
    guarded: bool,
}

impl Outbound {
    /// A client with the SSRF guard on: for every URL a user or agent supplied.
    pub fn guarded(policy: Policy) -> Result<Self, OutboundError> {
        Self::build(builder(&policy, true), policy, true)
    }

    /// A client with only the time and size bounds: any http(s) URL, any address. For
    /// the operator-set LLM URL, never for a URL a user supplied.
    pub fn unguarded(policy: Policy) -> Result<Self, OutboundError> {
        Self::build(builder(&policy, false), policy, false)
    }

    fn build(builder: reqwest::ClientBuilder, policy: Policy, guarded: bool) -> Result<Self, OutboundError> {
        let client = builder
            .build()
            .map_err(|e| OutboundError::Other(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            client,
            policy,
            guarded,
        })
    }

    /// The policy this client enforces.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The static check of a URL, at input time (a 422 before a URL is stored): it
    /// parses, its scheme is allowed, and (guarded, private not allowed) its host is
    /// neither a blocked literal address nor a local name such as `localhost`. A
    /// hostname's addresses are not looked up here: they are checked at each call.
    pub fn check_url(&self, url: &str) -> Result<url::Url, OutboundError> {
        target::parse(url, &self.policy, self.guarded)
    }

    /// POSTs `body` as JSON (`Content-Type: application/json` is set here and replaces
    /// one in `headers`) and reads the reply within the policy's bounds.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<Reply, OutboundError> {
        let url = self.check_url(url)?;
        let mut map = HeaderMap::with_capacity(headers.len() + 1);
        for (name, value) in headers {
            let name =
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| OutboundError::InvalidHeader(name.to_string()))?;
            let value =
                HeaderValue::from_str(value).map_err(|_| OutboundError::InvalidHeader(format!("value of {name}")))?;
            map.append(name, value);
        }
        map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.send(url, map, body).await
    }

    /// Sends a checked URL. The whole call runs under the total timeout as well as
    /// reqwest's own, so no stage (a slow resolver included) can outlast it.
    async fn send(&self, url: url::Url, headers: HeaderMap, body: Vec<u8>) -> Result<Reply, OutboundError> {
        let call = async {
            let mut response = self
                .client
                .post(url)
                .headers(headers)
                .body(body)
                .send()
                .await
                .map_err(|e| OutboundError::from_reqwest(&e))?;
            let status = response.status().as_u16();
            let max_bytes = self.policy.max_bytes;
            let too_large = OutboundError::TooLarge { max_bytes };
            // A declared length over the limit fails before reading anything.
            if response
                .content_length()
                .is_some_and(|n| n > u64::try_from(max_bytes).unwrap_or(u64::MAX))
            {
                return Err(too_large);
            }
            let mut buf = BytesMut::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| OutboundError::from_reqwest(&e))? {
                if buf.len() + chunk.len() > max_bytes {
                    return Err(too_large);
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(Reply {
                status,
                body: buf.freeze(),
            })
        };
        tokio::time::timeout(self.policy.timeout, call)
            .await
            .unwrap_or(Err(OutboundError::Timeout))
    }
}

/// The reqwest builder for a policy: bounds always; the resolver and redirect guards
/// when `guarded`.
fn builder(policy: &Policy, guarded: bool) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder()
        .connect_timeout(policy.connect_timeout)
        .timeout(policy.timeout)
        .no_proxy()
        .referer(false)
        .user_agent(concat!("heepr/", env!("CARGO_PKG_VERSION")));
    if guarded {
        builder
            .https_only(!policy.allow_http)
            .dns_resolver(Arc::new(resolve::GuardedResolver { policy: policy.clone() }))
            .redirect(redirect::guarded(policy.clone()))
    } else {
        builder.redirect(redirect::unguarded())
    }
}
