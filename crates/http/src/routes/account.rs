//! Signup, login, logout, the current user.

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::principal::{SESSION_COOKIE, SessionUser};
use crate::ratelimit::Rule;
use crate::views::MeView;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::account::decide_consent;
use heepr_domain::{AccountRef, Email, Password, Points, SingleLine, UserId, limits};
use heepr_store::user::{NewUser, Role, UserRecord};
use serde::Deserialize;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Signup {
    email: String,
    password: String,
    display_name: Option<String>,
    /// The terms and privacy policy accepted (required with `HEEPR_REQUIRE_CONSENT`).
    accept_terms: Option<bool>,
    /// 16 or older (required with `HEEPR_REQUIRE_CONSENT`).
    age_confirmed: Option<bool>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Login {
    email: String,
    password: String,
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::invalid(field, message)
}

pub(crate) fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .max_age(CookieDuration::days(state.config.session_days))
        .finish()
}

/// Mints a session for `user` and returns its cookie.
pub(crate) async fn mint_session(state: &web::Data<AppState>, user: &UserId) -> Result<Cookie<'static>, ApiError> {
    let secret =
        heepr_auth::new_secret(heepr_auth::SecretKind::Session).map_err(|e| ApiError::Blocking(e.to_string()))?;
    let now = state.now();
    let expires = now + chrono::Duration::days(state.config.session_days);
    let store = state.store.clone();
    let id = user.clone();
    let hash = secret.hash.clone();
    blocking(move || Ok(store.create_session(&id, &hash, now, expires)?)).await?;
    Ok(session_cookie(state, secret.plaintext))
}

/// Mints a session for `user` and answers with the cookie and the user.
pub(crate) async fn start_session(
    state: &web::Data<AppState>,
    user: UserRecord,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, ApiError> {
    let cookie = mint_session(state, &user.id).await?;
    let store = state.store.clone();
    let id = user.id.clone();
    let balance = blocking(move || Ok(store.balance(&AccountRef::Wallet(id))?.get())).await?;
    Ok(HttpResponse::build(status)
        .cookie(cookie)
        .json(MeView::new(&user, balance)))
}

pub(crate) async fn signup(state: web::Data<AppState>, body: web::Json<Signup>) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let email = Email::parse(&body.email)?;
    let password = Password::parse(&body.password)?;
    let display_name = SingleLine::required(
        "display_name",
        body.display_name.as_deref().unwrap_or(email.local_part()),
        limits::DISPLAY_NAME_MAX_CHARS,
    )?;
    let now = state.now();
    let consent = decide_consent(state.config.require_consent, body.accept_terms, body.age_confirmed, now)?;
    let store = state.store.clone();
    let starter = Points(state.config.starter_points);
    let user = blocking(move || {
        let password_hash =
            heepr_auth::hash_password(password.expose()).map_err(|e| ApiError::Blocking(e.to_string()))?;
        let id = store.create_user_consenting(
            NewUser {
                email: email.into_string(),
                display_name: display_name.into_string(),
                password_hash,
                extra_roles: vec![],
            },
            consent,
            starter,
            now,
        )?;
        Ok(store.user(&id)?)
    })
    .await?;
    start_session(&state, user, actix_web::http::StatusCode::CREATED).await
}

/// Logins: `HEEPR_LOGIN_LIMIT_EMAIL` failures per email from one client address and
/// `HEEPR_LOGIN_LIMIT_IP` per client address, per 15 minutes.
pub(crate) fn login_rule(state: &AppState) -> Rule {
    Rule {
        name: "login",
        window: chrono::Duration::minutes(15),
        per_subject: state.config.login_limit_per_email,
        per_client: state.config.login_limit_per_ip,
    }
}

pub(crate) async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<Login>,
) -> Result<HttpResponse, ApiError> {
    let Login { email, password } = body.into_inner();
    // Not an address at all (NUL, control characters, no @): no account can match, and
    // both backends answer alike (PostgreSQL cannot compare text holding NUL).
    let email = Email::parse(&email)?.into_string();
    let client = state.config.trusted_proxies.client(&req);
    let attempt = state
        .limiter
        .attempt(&login_rule(&state), Some(&email), client, state.now())
        .await?;
    let store = state.store.clone();
    let lookup = email.clone();
    // Both branches spend one Argon2 verification, so timing does not tell whether
    // the email is registered; the error never says which of the two was wrong.
    let user = blocking(move || {
        Ok(match store.user_by_email(&lookup)? {
            Some(u) if heepr_auth::verify_password(&password, &u.password_hash) => Some(u),
            Some(_) => None,
            None => {
                heepr_auth::verify_against_dummy(&password);
                None
            }
        })
    })
    .await?;
    let Some(user) = user else {
        return Err(ApiError::Unauthorized {
            code: "invalid_credentials",
            message: "wrong email or password",
        });
    };
    state.limiter.succeeded(attempt).await?;
    start_session(&state, user, actix_web::http::StatusCode::OK).await
}

pub(crate) async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    _user: SessionUser,
) -> Result<HttpResponse, ApiError> {
    if let Some(c) = req.cookie(SESSION_COOKIE) {
        let hash = heepr_auth::secret_hash(c.value());
        let store = state.store.clone();
        blocking(move || Ok(store.delete_session(&hash)?)).await?;
    }
    let mut gone = session_cookie(&state, String::new());
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

pub(crate) async fn me(state: web::Data<AppState>, SessionUser(user): SessionUser) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let id = user.id.clone();
    let balance = blocking(move || Ok(store.balance(&AccountRef::Wallet(id))?.get())).await?;
    Ok(HttpResponse::Ok().json(MeView::new(&user, balance)))
}

pub(crate) async fn become_owner(
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let (user, balance) = blocking(move || {
        let u = store.add_role(&user.id, Role::Owner)?;
        let b = store.balance(&AccountRef::Wallet(u.id.clone()))?.get();
        Ok((u, b))
    })
    .await?;
    Ok(HttpResponse::Ok().json(MeView::new(&user, balance)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct WalletQuery {
    limit: Option<i64>,
    cursor: Option<i64>,
}

/// `GET /api/wallet`: balance and transfer history (newest first, `next` = cursor).
pub(crate) async fn wallet(
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
    q: web::Query<WalletQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(invalid("limit", "must be between 1 and 200"));
    }
    let before = q.cursor;
    let store = state.store.clone();
    let (balance, lines) = blocking(move || Ok(store.wallet(&AccountRef::Wallet(user.id), limit, before)?)).await?;
    let next = (lines.len() as i64 == limit)
        .then(|| lines.last().map(|l| l.seq))
        .flatten();
    let transfers: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| {
            let counterparty = if l.counterparty.starts_with("wallet:") { "user".to_owned() } else { l.counterparty.clone() };
            serde_json::json!({"id": l.id, "amount": l.amount, "kind": l.kind, "order_id": l.order_id, "counterparty": counterparty, "created_at": l.at})
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "balance": balance.get(), "transfers": transfers, "next": next })))
}
