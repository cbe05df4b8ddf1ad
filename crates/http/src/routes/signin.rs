//! `GET /api/auth/providers`, `/api/auth/{provider}/start` and `/callback`, and a user's
//! linked identities. Translation only: the provider calls live in `signin`, which
//! account a verified identity opens is heepr-domain's decision, applied by the store.
//!
//! The `state` is bound to the browser that started the flow by a short-lived cookie
//! (`heepr_auth_state`): a callback URL carrying someone else's code and state (login
//! CSRF) is refused because that browser holds no such cookie.

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::principal::SessionUser;
use crate::routes::account::mint_session;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::Points;
use heepr_domain::identity::{PENDING_TTL_MINUTES, SignInError};
use heepr_store::identity::PendingSignIn;
use serde::{Deserialize, Serialize};

const STATE_COOKIE: &str = "heepr_auth_state";

/// A configured provider.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ProviderView {
    /// Its name in the routes.
    name: String,
    /// What the button says.
    display_name: String,
    /// `oidc`, `github` or `facebook`.
    kind: &'static str,
    /// Where the sign-in starts (a redirect to the provider).
    start_url: String,
}

/// `{"providers": [...]}` — empty when none is configured.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ProviderList {
    providers: Vec<ProviderView>,
}

pub(crate) async fn providers(state: web::Data<AppState>) -> HttpResponse {
    let providers = state
        .config
        .sign_in
        .providers
        .iter()
        .map(|p| ProviderView {
            name: p.name.clone(),
            display_name: p.display_name.clone(),
            kind: p.kind.as_str(),
            start_url: format!("/api/auth/{}/start", p.name),
        })
        .collect();
    HttpResponse::Ok().json(ProviderList { providers })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartQuery {
    /// `true`: link the identity to the signed-in account (needs its session) instead of
    /// signing in.
    link: Option<bool>,
}

fn redirect_uri(state: &AppState, provider: &str) -> String {
    format!(
        "{}/api/auth/{provider}/callback",
        state.config.base_url.trim_end_matches('/')
    )
}

fn state_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(STATE_COOKIE, value)
        .path("/api/auth")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .max_age(CookieDuration::minutes(PENDING_TTL_MINUTES))
        .finish()
}

fn failed(provider: &str, e: &crate::signin::ProviderError) -> ApiError {
    tracing::warn!(provider, error = %e, "provider sign-in failed");
    SignInError::NotVerified.into()
}

pub(crate) async fn start(
    state: web::Data<AppState>,
    provider: web::Path<String>,
    q: web::Query<StartQuery>,
    session: Option<SessionUser>,
) -> Result<HttpResponse, ApiError> {
    let cfg = state.config.sign_in.provider(&provider).ok_or(ApiError::NotFound)?;
    let link_user = match (q.link.unwrap_or(false), session) {
        (true, Some(SessionUser(u))) => Some(u.id),
        (true, None) => {
            return Err(ApiError::Unauthorized {
                code: "unauthorized",
                message: "linking a provider needs a signed-in session",
            });
        }
        (false, _) => None,
    };
    let started = cfg
        .start(&state.sign_in, &redirect_uri(&state, &cfg.name))
        .await
        .map_err(|e| failed(&cfg.name, &e))?;
    let store = state.store.clone();
    let hash = heepr_auth::secret_hash(&started.state);
    let pending = PendingSignIn {
        provider: cfg.name.clone(),
        pkce_verifier: started.pkce_verifier,
        nonce: started.nonce,
        link_user,
    };
    let now = state.now();
    blocking(move || Ok(store.start_sign_in(&hash, &pending, now)?)).await?;
    Ok(HttpResponse::Found()
        .insert_header(("Location", started.url))
        .insert_header(("Cache-Control", "no-store"))
        .cookie(state_cookie(&state, started.state))
        .finish())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct CallbackQuery {
    /// The authorization code.
    code: Option<String>,
    /// The `state` that `/start` sent.
    state: Option<String>,
    /// Set by the provider when the user or the provider refused.
    error: Option<String>,
}

pub(crate) async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    provider: web::Path<String>,
    q: web::Query<CallbackQuery>,
    session: Option<SessionUser>,
) -> Result<HttpResponse, ApiError> {
    let cfg = state.config.sign_in.provider(&provider).ok_or(ApiError::NotFound)?;
    let q = q.into_inner();
    let bound = req.cookie(STATE_COOKIE).map(|c| c.value().to_owned());
    let Some(st) = q.state.filter(|s| bound.as_deref() == Some(s.as_str())) else {
        return Err(SignInError::UnknownState.into());
    };
    let store = state.store.clone();
    let (hash, name, now) = (heepr_auth::secret_hash(&st), cfg.name.clone(), state.now());
    let pending = blocking(move || Ok(store.take_sign_in(&hash, &name, now)?)).await?;
    let code = match (q.error, q.code) {
        (None, Some(code)) => code,
        (error, _) => {
            tracing::info!(provider = %cfg.name, error = error.as_deref().unwrap_or("no code"), "provider refused the sign-in");
            return Err(SignInError::NotVerified.into());
        }
    };
    let profile = cfg
        .finish(
            &state.sign_in,
            &redirect_uri(&state, &cfg.name),
            &code,
            &pending.pkce_verifier,
            &pending.nonce,
        )
        .await
        .map_err(|e| failed(&cfg.name, &e))?;
    // Linking needs the session of the account that asked for it, still signed in.
    if let Some(link) = &pending.link_user
        && session.as_ref().map(|SessionUser(u)| &u.id) != Some(link)
    {
        return Err(ApiError::Unauthorized {
            code: "unauthorized",
            message: "linking a provider needs the session that started it",
        });
    }
    let store = state.store.clone();
    let starter = Points(state.config.starter_points);
    let name = cfg.name.clone();
    let user =
        blocking(move || Ok(store.sign_in_with(&name, &profile, pending.link_user.as_ref(), starter, now)?)).await?;
    let session_cookie = mint_session(&state, &user).await?;
    let mut gone = state_cookie(&state, String::new());
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", state.config.sign_in.frontend_url.clone()))
        .insert_header(("Cache-Control", "no-store"))
        .cookie(session_cookie)
        .cookie(gone)
        .finish())
}

/// A linked identity.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct IdentityView {
    /// The provider's name.
    provider: String,
    /// The email the provider returned.
    email: String,
    /// Linked at.
    created_at: chrono::DateTime<chrono::Utc>,
    /// The last sign-in through it.
    last_sign_in_at: chrono::DateTime<chrono::Utc>,
}

/// `{"identities": [...], "has_password": bool}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct IdentityList {
    identities: Vec<IdentityView>,
    /// Whether the account can also sign in with a password.
    has_password: bool,
}

pub(crate) async fn identities(
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let id = user.id.clone();
    let list = blocking(move || Ok(store.identities(&id)?)).await?;
    Ok(HttpResponse::Ok().json(IdentityList {
        identities: list
            .into_iter()
            .map(|i| IdentityView {
                provider: i.provider,
                email: i.email,
                created_at: i.created_at,
                last_sign_in_at: i.last_sign_in_at,
            })
            .collect(),
        has_password: !user.password_hash.is_empty(),
    }))
}

pub(crate) async fn unlink(
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
    provider: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let provider = provider.into_inner();
    blocking(move || Ok(store.unlink_identity(&user.id, &provider)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}
