//! GitHub and Facebook through the `oauth2` crate: authorization code with PKCE, then
//! the user API with the access token. Their base URLs are configurable, so tests run
//! a local server that speaks the documented endpoints.
//!
//! - GitHub: `GET {api}/user` (the stable numeric `id`, `name`, `login`) and
//!   `GET {api}/user/emails` (the primary address and its `verified` flag).
//! - Facebook: `GET {api}/me?fields=id,name,email`. Facebook returns only an address
//!   its user confirmed, and none when there is none, so a returned email counts as
//!   verified (docs/DECISIONS.md).

use super::{ProviderClient, ProviderConfig, ProviderError, ProviderKind, Started};
use heepr_domain::identity::ProviderProfile;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope, TokenResponse, TokenUrl,
};

fn call(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Call(e.to_string())
}

/// (authorization URL, token URL, API base, scopes).
fn endpoints(cfg: &ProviderConfig) -> Result<(&str, &str, &str, &'static [&'static str]), ProviderError> {
    match &cfg.kind {
        ProviderKind::GitHub {
            auth_url,
            token_url,
            api_url,
        } => Ok((auth_url, token_url, api_url, &["read:user", "user:email"])),
        ProviderKind::Facebook {
            auth_url,
            token_url,
            api_url,
        } => Ok((auth_url, token_url, api_url, &["email", "public_profile"])),
        ProviderKind::Oidc { .. } => Err(call("not an OAuth 2 provider")),
    }
}

type Client = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn client(cfg: &ProviderConfig, redirect: &str) -> Result<(Client, String), ProviderError> {
    let (auth, token, api, _) = endpoints(cfg)?;
    let client = BasicClient::new(ClientId::new(cfg.client_id.clone()))
        .set_client_secret(ClientSecret::new(cfg.client_secret.clone()))
        .set_auth_uri(AuthUrl::new(auth.to_owned()).map_err(call)?)
        .set_token_uri(TokenUrl::new(token.to_owned()).map_err(call)?)
        // Both take the client secret in the form body.
        .set_auth_type(oauth2::AuthType::RequestBody)
        .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).map_err(call)?);
    Ok((client, api.trim_end_matches('/').to_owned()))
}

pub(super) fn start(cfg: &ProviderConfig, redirect: &str) -> Result<Started, ProviderError> {
    let (client, _) = client(cfg, redirect)?;
    let (_, _, _, scopes) = endpoints(cfg)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
        .set_pkce_challenge(challenge)
        .url();
    Ok(Started {
        url: url.to_string(),
        state: state.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        nonce: String::new(),
    })
}

pub(super) async fn finish(
    cfg: &ProviderConfig,
    http: &ProviderClient,
    redirect: &str,
    code: &str,
    pkce_verifier: &str,
) -> Result<ProviderProfile, ProviderError> {
    let (client, api) = client(cfg, redirect)?;
    let send = |r| http.send(r);
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
        .request_async(&send)
        .await
        .map_err(|e| ProviderError::Verify(format!("code exchange: {e}")))?;
    let token = tokens.access_token().secret();
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    match &cfg.kind {
        ProviderKind::GitHub { .. } => {
            let user = http.get_json(&format!("{api}/user"), token).await?;
            let subject = user["id"]
                .as_i64()
                .ok_or_else(|| call("GitHub user without a numeric id"))?;
            let emails = http.get_json(&format!("{api}/user/emails"), token).await?;
            let primary = emails
                .as_array()
                .and_then(|list| list.iter().find(|e| e["primary"].as_bool() == Some(true)));
            Ok(ProviderProfile {
                subject: subject.to_string(),
                email: primary.and_then(|e| text(&e["email"])),
                email_verified: primary.is_some_and(|e| e["verified"].as_bool() == Some(true)),
                name: text(&user["name"]).or_else(|| text(&user["login"])),
            })
        }
        _ => {
            let me = http.get_json(&format!("{api}/me?fields=id,name,email"), token).await?;
            let subject = text(&me["id"]).ok_or_else(|| call("Facebook user without an id"))?;
            let email = text(&me["email"]);
            Ok(ProviderProfile {
                subject,
                email_verified: email.is_some(),
                email,
                name: text(&me["name"]),
            })
        }
    }
}
