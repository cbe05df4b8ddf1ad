//! Sign-in through identity providers (issue 17): configuration, the provider calls
//! (OpenID Connect by discovery; GitHub and Facebook by their OAuth 2 endpoints and user
//! APIs), each returning a verified [`ProviderProfile`]. Which account that opens is
//! heepr-domain's decision (`identity`), applied by the store; this module only talks
//! to providers.

mod client;
mod config;
mod oauth;
mod oidc;

pub(crate) use client::ProviderClient;
pub use config::{ProviderConfig, ProviderKind, SignInConfig};

use heepr_domain::identity::ProviderProfile;

/// What `/start` hands the browser and keeps server-side.
pub(crate) struct Started {
    /// The provider's authorization URL (the redirect).
    pub url: String,
    /// The `state` in that URL (stored only hashed).
    pub state: String,
    /// The PKCE verifier (kept server-side).
    pub pkce_verifier: String,
    /// The OIDC nonce (kept server-side; empty for OAuth 2 providers).
    pub nonce: String,
}

/// Why a provider call failed. Never shown in detail to the browser: every case answers
/// `auth_failed`, and the cause is logged.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProviderError {
    /// The provider could not be reached or answered garbage.
    #[error("provider call: {0}")]
    Call(String),
    /// The provider's answer did not verify (ID token, nonce, issuer, audience, key).
    #[error("verification: {0}")]
    Verify(String),
}

impl ProviderConfig {
    /// The authorization URL for a new sign-in with a fresh `state`, PKCE pair and nonce.
    pub(crate) async fn start(&self, http: &ProviderClient, redirect: &str) -> Result<Started, ProviderError> {
        match &self.kind {
            ProviderKind::Oidc { issuer } => oidc::start(self, issuer, http, redirect).await,
            ProviderKind::GitHub { .. } | ProviderKind::Facebook { .. } => oauth::start(self, redirect),
        }
    }

    /// Redeems `code` (with the stored PKCE verifier and nonce) and returns the verified
    /// profile.
    pub(crate) async fn finish(
        &self,
        http: &ProviderClient,
        redirect: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<ProviderProfile, ProviderError> {
        match &self.kind {
            ProviderKind::Oidc { issuer } => {
                oidc::finish(self, issuer, http, redirect, code, pkce_verifier, nonce).await
            }
            ProviderKind::GitHub { .. } | ProviderKind::Facebook { .. } => {
                oauth::finish(self, http, redirect, code, pkce_verifier).await
            }
        }
    }
}
