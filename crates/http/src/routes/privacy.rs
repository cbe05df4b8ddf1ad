//! Privacy (seed 003): deleting one's account. `DELETE /api/account` `{"password"}`.

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::principal::SessionUser;
use crate::routes::account::{login_rule, session_cookie};
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::account::AccountError;
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
