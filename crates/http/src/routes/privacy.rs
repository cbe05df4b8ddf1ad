//! Privacy (seed 003): deleting one's account (`DELETE /api/account` `{"password"}`), or
//! support deleting it on the holder's emailed request.

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::principal::{AdminUser, SessionUser};
use crate::routes::account::{login_rule, session_cookie};
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::account::AccountError;
use heepr_domain::{Email, MultiLine, limits};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteAccount {
    password: String,
}

/// `DELETE /api/account`: with the account's password (counted by the login limiter),
/// refused with `open_orders_exist` while an order is open as customer or on the
/// user's agents; otherwise the account is deleted in one transaction (see
/// `heepr_store::deletion`) and the session cookie removed.
pub(crate) async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
    body: web::Json<DeleteAccount>,
) -> Result<HttpResponse, ApiError> {
    let DeleteAccount { password } = body.into_inner();
    let client = state.config.trusted_proxies.client(&req);
    let attempt = state
        .limiter
        .attempt(&login_rule(&state), Some(&user.email), client, state.now())
        .await?;
    let store = state.store.clone();
    let now = state.now();
    let deleted = blocking(move || {
        if !heepr_auth::verify_password(&password, &user.password_hash) {
            return Ok(false);
        }
        store.delete_account(&user.id, now)?;
        Ok(true)
    })
    .await?;
    if !deleted {
        return Err(ApiError::Store(AccountError::WrongPassword.into()));
    }
    state.limiter.succeeded(attempt).await?;
    let mut gone = session_cookie(&state, String::new());
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteFor {
    email: String,
    reason: Option<String>,
}

/// `POST /api/admin/accounts/delete` `{"email", "reason"?}`: support deletes an account
/// on its holder's emailed request (seed 003: "from the address on your account"), with
/// the same rules and effects as `DELETE /api/account`, audited (`delete_account`).
pub(crate) async fn delete_for(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    body: web::Json<DeleteFor>,
) -> Result<HttpResponse, ApiError> {
    let DeleteFor { email, reason } = body.into_inner();
    let email = Email::parse(&email)?.into_string();
    let reason = MultiLine::optional("reason", reason.as_deref(), limits::SUPPORT_REASON_MAX_CHARS)?;
    let store = state.store.clone();
    let now = state.now();
    blocking(move || {
        let user = store.user_by_email(&email)?.ok_or(ApiError::NotFound)?;
        Ok(store.delete_account_for(&admin.id, &user.id, reason.as_ref(), now)?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
