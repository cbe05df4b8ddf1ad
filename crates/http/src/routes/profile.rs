//! A user's own profile and password: `PATCH /api/me` (display name; an email change
//! through a link to the new address), `POST /api/me/password`, and the password reset
//! by email. One-time links are queued sealed (`crate::mail::with_link`); the store keeps
//! only their hashes.

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::openapi::op::{Auth, op};
use crate::openapi::table::Table;
use crate::principal::{SESSION_COOKIE, SessionUser};
use crate::routes::account::login_rule;
use crate::views::MeView;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::account::{AccountError, EMAIL_CHANGE_TTL_HOURS, RESET_TTL_HOURS};
use heepr_domain::{AccountRef, Email, Password, SingleLine, limits};
use heepr_store::mail::NewEmail;
use heepr_store::user::UserRecord;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfilePatch {
    display_name: Option<String>,
    email: Option<String>,
}

/// The user after a profile change, and the address waiting for its confirmation.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ProfileView {
    #[serde(flatten)]
    me: MeView,
    /// An email change sent for confirmation by this request (`null`: none).
    pending_email: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenBody {
    token: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordChange {
    current_password: String,
    new_password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetRequest {
    email: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetConfirm {
    token: String,
    new_password: String,
}

/// The answer of `POST /api/auth/password-reset`, whatever the address.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Accepted {
    status: &'static str,
}

fn secret() -> Result<heepr_auth::NewSecret, ApiError> {
    heepr_auth::new_secret(heepr_auth::SecretKind::AccountLink).map_err(|e| ApiError::Blocking(e.to_string()))
}

fn hash(password: &Password) -> Result<String, ApiError> {
    heepr_auth::hash_password(password.expose()).map_err(|e| ApiError::Blocking(e.to_string()))
}

async fn me_view(state: &AppState, user: UserRecord) -> Result<MeView, ApiError> {
    let store = state.store.clone();
    let id = user.id.clone();
    let balance = blocking(move || Ok(store.balance(&AccountRef::Wallet(id))?.get())).await?;
    Ok(MeView::new(&user, balance))
}

fn email_change_mail(state: &AppState, user: &UserRecord, to: &str, token: &str) -> Result<NewEmail, ApiError> {
    let link = format!("{}/account/confirm-email?token={token}", state.config.base_url);
    crate::mail::with_link(
        state,
        to,
        "Confirm your new heepr email address".into(),
        &link,
        |link| {
            format!(
                "Hello {},\n\nconfirm that this address should become the email of your heepr account by opening this link:\n\n{link}\n\n\
             The link works once and expires in {EMAIL_CHANGE_TTL_HOURS} hours. Until then your account keeps its current address. \
             If you did not ask for this, ignore this email.\n",
                user.display_name
            )
        },
    )
}

fn reset_mail(state: &AppState, user: &UserRecord, token: &str) -> Result<NewEmail, ApiError> {
    let link = format!("{}/account/reset-password?token={token}", state.config.base_url);
    crate::mail::with_link(state, &user.email, "Reset your heepr password".into(), &link, |link| {
        format!(
            "Hello {},\n\nsomeone (hopefully you) asked to reset the password of your heepr account. Choose a new one here:\n\n{link}\n\n\
             The link works once and expires in {RESET_TTL_HOURS} hour; setting a new password signs out every session. \
             If you did not ask for this, ignore this email: your password stays as it is.\n",
            user.display_name
        )
    })
}

/// `PATCH /api/me`: the display name at once; a new email only once the link sent to it
/// is confirmed (`POST /api/me/email/confirm`).
pub(crate) async fn update(
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
    body: web::Json<ProfilePatch>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    // Every field is checked before anything is written.
    let name = body
        .display_name
        .as_deref()
        .map(|n| SingleLine::required("display_name", n, limits::DISPLAY_NAME_MAX_CHARS))
        .transpose()?;
    let email = body.email.as_deref().map(Email::parse).transpose()?;
    let email = email.filter(|e| e.as_str() != user.email);
    let link = email
        .as_ref()
        .map(|e| {
            let s = secret()?;
            let mail = email_change_mail(&state, &user, e.as_str(), &s.plaintext)?;
            Ok::<_, ApiError>((s.hash, mail))
        })
        .transpose()?;
    let store = state.store.clone();
    let now = state.now();
    let pending = email.as_ref().map(|e| e.as_str().to_owned());
    let user = blocking(move || {
        // The email first: a taken address refuses the whole request.
        if let (Some(e), Some((hash, mail))) = (&email, &link) {
            store.request_email_change(&user.id, e.as_str(), hash, mail, now)?;
        }
        Ok(match name {
            Some(n) => store.set_display_name(&user.id, n.as_str())?,
            None => user,
        })
    })
    .await?;
    let me = me_view(&state, user).await?;
    Ok(HttpResponse::Ok().json(ProfileView {
        me,
        pending_email: pending,
    }))
}

/// `POST /api/me/email/confirm` `{"token"}`: the link's address becomes the account's
/// email. The token is the capability (it reached the new address): no session needed.
pub(crate) async fn confirm_email(
    state: web::Data<AppState>,
    body: web::Json<TokenBody>,
) -> Result<HttpResponse, ApiError> {
    let hash = heepr_auth::secret_hash(&body.token);
    let store = state.store.clone();
    let now = state.now();
    let user = blocking(move || Ok(store.confirm_email_change(&hash, now)?)).await?;
    Ok(HttpResponse::Ok().json(me_view(&state, user).await?))
}

/// `POST /api/me/password`: checks the current password (counted by the login limiter),
/// sets the new one and ends every other session.
pub(crate) async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let PasswordChange {
        current_password,
        new_password,
    } = body.into_inner();
    let new_password = Password::parse(&new_password)?;
    let keep = req
        .cookie(SESSION_COOKIE)
        .map(|c| heepr_auth::secret_hash(c.value()))
        .unwrap_or_default();
    let client = state.config.trusted_proxies.client(&req);
    let attempt = state
        .limiter
        .attempt(&login_rule(&state), Some(&user.email), client, state.now())
        .await?;
    let store = state.store.clone();
    let id = user.id.clone();
    blocking(move || {
        if !heepr_auth::verify_password(&current_password, &user.password_hash) {
            return Err(ApiError::Store(AccountError::WrongPassword.into()));
        }
        let new_hash = hash(&new_password)?;
        store.change_password(&id, &new_hash, &keep)?;
        Ok(())
    })
    .await?;
    state.limiter.succeeded(attempt).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/auth/password-reset` `{"email"}`: 202 whether or not the address has an
/// account (then a one-hour, single-use link is emailed to it). Counted by the login
/// limiter per address and client, so it cannot be used to flood an inbox.
pub(crate) async fn request_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<ResetRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = Email::parse(&body.email)?.into_string();
    let client = state.config.trusted_proxies.client(&req);
    state
        .limiter
        .attempt(&login_rule(&state), Some(&email), client, state.now())
        .await?;
    let store = state.store.clone();
    let lookup = email.clone();
    let user = blocking(move || Ok(store.user_by_email(&lookup)?)).await?;
    if let Some(user) = user {
        let s = secret()?;
        let mail = reset_mail(&state, &user, &s.plaintext)?;
        let store = state.store.clone();
        let now = state.now();
        blocking(move || Ok(store.request_password_reset(&user.id, &s.hash, &mail, now)?)).await?;
    }
    Ok(HttpResponse::Accepted().json(Accepted { status: "accepted" }))
}

/// `POST /api/auth/password-reset/confirm` `{"token", "new_password"}`: sets the password
/// and ends every session of the account; the link works once.
pub(crate) async fn confirm_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<ResetConfirm>,
) -> Result<HttpResponse, ApiError> {
    let ResetConfirm { token, new_password } = body.into_inner();
    let new_password = Password::parse(&new_password)?;
    let client = state.config.trusted_proxies.client(&req);
    state
        .limiter
        .attempt(&login_rule(&state), None, client, state.now())
        .await?;
    let link_hash = heepr_auth::secret_hash(&token);
    let store = state.store.clone();
    let now = state.now();
    blocking(move || {
        let new_hash = hash(&new_password)?;
        Ok(store.confirm_password_reset(&link_hash, &new_hash, now)?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The profile and password routes, documented.
pub(super) fn table(t: &mut Table<'_>) {
    t.route(
        Method::PATCH,
        "/me",
        update,
        op("accounts", "Change my display name or email", Auth::Session)
            .about(
                "A new email takes effect only once the link sent to it is confirmed (`POST /api/me/email/confirm`).",
            )
            .body::<ProfilePatch>()
            .json::<ProfileView>(200, "the user, with the address waiting for confirmation")
            .errors(&[409]),
    )
    .post(
        "/me/email/confirm",
        confirm_email,
        op("accounts", "Confirm an email change (the link's token)", Auth::Public)
            .body::<TokenBody>()
            .json::<MeView>(200, "the user with the new email")
            .errors(&[409, 410]),
    )
    .post(
        "/me/password",
        change_password,
        op(
            "accounts",
            "Change my password (ends every other session)",
            Auth::Session,
        )
        .body::<PasswordChange>()
        .empty(204, "changed")
        .errors(&[429]),
    )
    .post(
        "/auth/password-reset",
        request_reset,
        op("accounts", "Email a password reset link", Auth::Public)
            .about("Always 202, whether or not the address has an account; the link works once, for one hour.")
            .body::<ResetRequest>()
            .json::<Accepted>(202, "accepted")
            .errors(&[429]),
    )
    .post(
        "/auth/password-reset/confirm",
        confirm_reset,
        op(
            "accounts",
            "Set a new password with a reset link (ends every session)",
            Auth::Public,
        )
        .body::<ResetConfirm>()
        .empty(204, "the password is set")
        .errors(&[410, 429]),
    );
}
