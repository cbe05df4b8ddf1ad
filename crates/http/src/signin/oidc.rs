//! OpenID Connect through the `openidconnect` crate: endpoints and signing keys from the
//! issuer's discovery document (fetched per sign-in, so a key rotation is picked up at
//! once), authorization code with PKCE, and an ID token whose signature, issuer,
//! audience, expiry and nonce are all verified before any claim is read.

use super::{ProviderClient, ProviderConfig, ProviderError, Started};
use heepr_domain::identity::ProviderProfile;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};

fn call(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Call(e.to_string())
}

fn verify(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Verify(e.to_string())
}

async fn metadata(issuer: &str, http: &ProviderClient) -> Result<CoreProviderMetadata, ProviderError> {
    let issuer = IssuerUrl::new(issuer.to_owned()).map_err(call)?;
    let send = |r| http.send(r);
    CoreProviderMetadata::discover_async(issuer, &send)
        .await
        .map_err(|e| call(format!("discovery: {e}")))
}

pub(super) async fn start(
    cfg: &ProviderConfig,
    issuer: &str,
    http: &ProviderClient,
    redirect: &str,
) -> Result<Started, ProviderError> {
    let client = CoreClient::from_provider_metadata(
        metadata(issuer, http).await?,
        ClientId::new(cfg.client_id.clone()),
        Some(ClientSecret::new(cfg.client_secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).map_err(call)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    Ok(Started {
        url: url.to_string(),
        state: state.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        nonce: nonce.secret().clone(),
    })
}

pub(super) async fn finish(
    cfg: &ProviderConfig,
    issuer: &str,
    http: &ProviderClient,
    redirect: &str,
    code: &str,
    pkce_verifier: &str,
    nonce: &str,
) -> Result<ProviderProfile, ProviderError> {
    let client = CoreClient::from_provider_metadata(
        metadata(issuer, http).await?,
        ClientId::new(cfg.client_id.clone()),
        Some(ClientSecret::new(cfg.client_secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).map_err(call)?);
    let send = |r| http.send(r);
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(call)?
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
        .request_async(&send)
        .await
        .map_err(|e| verify(format!("code exchange: {e}")))?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| verify("the token answer has no ID token"))?;
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &Nonce::new(nonce.to_owned()))
        .map_err(|e| verify(format!("ID token: {e}")))?;
    // The access token must be the one the ID token was issued with (no substitution).
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token.signing_alg().map_err(verify)?;
        let key = id_token.signing_key(&verifier).map_err(verify)?;
        let actual = AccessTokenHash::from_token(tokens.access_token(), alg, key).map_err(verify)?;
        if actual != *expected {
            return Err(verify("at_hash does not match the access token"));
        }
    }
    Ok(ProviderProfile {
        subject: claims.subject().as_str().to_owned(),
        email: claims.email().map(|e| e.as_str().to_owned()),
        email_verified: claims.email_verified() == Some(true),
        name: claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()),
    })
}
