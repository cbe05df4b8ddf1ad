//! The HTTP client the oauth2/openidconnect crates call providers with: heepr's reqwest,
//! redirects never followed (the crates' advice: a followed redirect opens SSRF), bounded
//! in time and size. Provider URLs are operator-set, so no address guard applies.

use super::ProviderError;
use openidconnect::{HttpRequest, HttpResponse};
use std::time::Duration;

/// Largest provider answer read (discovery documents, key sets, tokens, user JSON).
const MAX_BYTES: usize = 256 * 1024;

/// A cheap-to-clone client for provider calls.
#[derive(Debug, Clone)]
pub(crate) struct ProviderClient {
    client: reqwest::Client,
}

/// A failed provider call (the crates need an `Error` type).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct CallError(String);

impl ProviderClient {
    pub(crate) fn new() -> Result<Self, ProviderError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .no_proxy()
            .user_agent(concat!("heepr/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Call(format!("building the provider client: {e}")))?;
        Ok(Self { client })
    }

    /// Sends one request as the crates built it.
    pub(crate) async fn send(&self, request: HttpRequest) -> Result<HttpResponse, CallError> {
        let request: reqwest::Request = request.try_into().map_err(|e| CallError(format!("request: {e}")))?;
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| CallError(format!("{e}")))?;
        let mut builder = openidconnect::http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| CallError(format!("{e}")))? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(CallError(format!("answer over {MAX_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        builder.body(body).map_err(|e| CallError(format!("response: {e}")))
    }

    /// GETs `url` with a bearer token and reads JSON (the user APIs).
    pub(crate) async fn get_json(&self, url: &str, token: &str) -> Result<serde_json::Value, ProviderError> {
        let request = openidconnect::http::Request::builder()
            .method("GET")
            .uri(url)
            .header("Authorization", format!("Bearer {token}"))
            .header("Accept", "application/json")
            .body(Vec::new())
            .map_err(|e| ProviderError::Call(format!("{url}: {e}")))?;
        let response = self
            .send(request)
            .await
            .map_err(|e| ProviderError::Call(format!("{url}: {e}")))?;
        if !response.status().is_success() {
            return Err(ProviderError::Call(format!("{url}: status {}", response.status())));
        }
        serde_json::from_slice(response.body()).map_err(|e| ProviderError::Call(format!("{url}: {e}")))
    }
}
