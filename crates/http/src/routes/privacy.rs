//! Privacy (seed 003): one's data export (`GET /api/account/export`) and deleting one's
//! account (`DELETE /api/account` `{"password"}`), or support doing either on the
//! holder's emailed request (the export then reaches them as a download link).

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::openapi::op::{Auth, op};
use crate::openapi::table::Table;
use crate::principal::{AdminUser, SessionUser};
use crate::routes::account::{login_rule, session_cookie};
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::account::AccountError;
use heepr_domain::export::EXPORT_LINK_TTL_HOURS;
use heepr_domain::{Email, MultiLine, limits};
use heepr_store::user::UserRecord;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
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

#[derive(Deserialize, utoipa::ToSchema)]
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

/// The zip of `user`'s data, streamed.
fn export_response(state: &AppState, user: UserRecord) -> HttpResponse {
    let now = state.now();
    let name = format!("heepr-export-{}.zip", now.format("%Y-%m-%d"));
    HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .streaming(crate::export::stream(
            state.store.clone(),
            state.blobs.clone(),
            user,
            now,
        ))
}

/// `GET /api/account/export`: everything heepr holds about the signed-in user, as a zip
/// (entries in docs/API.md, "Data export").
pub(crate) async fn export(state: web::Data<AppState>, SessionUser(user): SessionUser) -> HttpResponse {
    export_response(&state, user)
}

/// `GET /api/account/export/{token}`: the export support sent a link to (the token is
/// the capability: it reached the account's address).
pub(crate) async fn export_download(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let hash = heepr_auth::secret_hash(&token.into_inner());
    let store = state.store.clone();
    let now = state.now();
    let user = blocking(move || {
        let id = store.export_link_user(&hash, now)?;
        Ok(store.user(&id)?)
    })
    .await?;
    Ok(export_response(&state, user))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportFor {
    /// The address the request came from: the account's email.
    email: String,
    reason: Option<String>,
}

/// The answer of `POST /api/admin/accounts/export`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ExportSent {
    /// The account the link was sent for.
    user_id: String,
    /// When the link stops working.
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /api/admin/accounts/export` `{"email", "reason"?}`: support sends the account's
/// holder a link to their export, to the account's address only, audited
/// (`export_account`). The link is stored hashed and queued sealed.
pub(crate) async fn export_for(
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
    body: web::Json<ExportFor>,
) -> Result<HttpResponse, ApiError> {
    let ExportFor { email, reason } = body.into_inner();
    let email = Email::parse(&email)?.into_string();
    let reason = MultiLine::optional("reason", reason.as_deref(), limits::SUPPORT_REASON_MAX_CHARS)?;
    let store = state.store.clone();
    let lookup = email.clone();
    let user = blocking(move || store.user_by_email(&lookup)?.ok_or(ApiError::NotFound)).await?;
    let secret =
        heepr_auth::new_secret(heepr_auth::SecretKind::AccountLink).map_err(|e| ApiError::Blocking(e.to_string()))?;
    let link = format!("{}/api/account/export/{}", state.config.base_url, secret.plaintext);
    let mail = crate::mail::with_link(&state, &user.email, "Your heepr data export".into(), &link, |link| {
        format!(
            "Hello {},\n\nas you asked, here is everything heepr holds about your account, as a zip file:\n\n{link}\n\n\
             The link works for {EXPORT_LINK_TTL_HOURS} hours. Keep it to yourself: whoever has it can download your data.\n",
            user.display_name
        )
    })?;
    let store = state.store.clone();
    let now = state.now();
    let id = user.id.clone();
    blocking(move || Ok(store.request_export_link(&admin.id, &id, reason.as_ref(), &secret.hash, &mail, now)?)).await?;
    Ok(HttpResponse::Accepted().json(ExportSent {
        user_id: user.id.to_string(),
        expires_at: now + heepr_domain::account::LinkPurpose::DataExport.ttl(),
    }))
}

/// The privacy routes, documented.
pub(super) fn table(t: &mut Table<'_>) {
    t.get(
        "/account/export",
        export,
        op(
            "privacy",
            "Download everything heepr holds about me (zip)",
            Auth::Session,
        )
        .about("Streamed. Entries, each listed in `manifest.json` with its SHA-256: see docs/API.md, \"Data export\".")
        .bytes(200, "application/zip", "the export"),
    )
    .get(
        "/account/export/{token}",
        export_download,
        op(
            "privacy",
            "Download my export from the link support emailed",
            Auth::Public,
        )
        .bytes(200, "application/zip", "the export")
        .errors(&[410]),
    )
    .route(
        Method::DELETE,
        "/account",
        delete,
        op("privacy", "Delete my account", Auth::Session)
            .about("Refused with `open_orders_exist` while an order is open as customer or on my agents.")
            .body::<DeleteAccount>()
            .empty(204, "deleted; the session cookie is removed")
            .errors(&[409, 429]),
    )
    .post(
        "/admin/accounts/export",
        export_for,
        op("support", "Email a user a link to their data export", Auth::Admin)
            .body::<ExportFor>()
            .json::<ExportSent>(202, "the link is queued to the account's address"),
    )
    .post(
        "/admin/accounts/delete",
        delete_for,
        op(
            "support",
            "Delete a user's account on their emailed request",
            Auth::Admin,
        )
        .body::<DeleteFor>()
        .empty(204, "deleted")
        .errors(&[409]),
    );
}
