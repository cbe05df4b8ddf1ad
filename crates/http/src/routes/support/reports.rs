//! Reports (anyone signed in) and support's resolutions of reports and reinstatement
//! requests.

use super::view::{render_report, render_request};
use super::{required, with_reason};
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::idempotency;
use crate::principal::{AdminUser, SessionUser};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::support::ReportTarget;
use heepr_domain::{MultiLine, UserId};
use heepr_domain::{SingleLine, limits};
use heepr_store::Store;
use heepr_store::idempotency::Once;
use serde::Deserialize;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewReport {
    target: Option<String>,
    id: Option<String>,
    reason: Option<String>,
}

/// `POST /api/reports` `{"target": "review"|"agent", "id", "reason"}`: 201 with the
/// report; it waits in the support queue.
pub(crate) async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    body: web::Json<NewReport>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let target = match b.target.as_deref() {
        Some(t) => ReportTarget::parse(t).ok_or_else(|| ApiError::invalid("target", "one of review, agent"))?,
        None => return Err(ApiError::invalid("target", "is required")),
    };
    let id = SingleLine::required("id", b.id.as_deref().unwrap_or_default(), 100)?.into_string();
    let reason = required("reason", b.reason, limits::REPORT_REASON_MAX_CHARS)?;
    let fingerprint = format!("{}\n{id}\n{reason}", target.as_str());
    idempotency::once(
        &req,
        &state,
        u.id.to_string(),
        &fingerprint,
        StatusCode::CREATED,
        render_report,
        |once| async {
            let store = state.store.clone();
            let now = state.now();
            let reporter = u.id.clone();
            blocking(move || Ok(store.report(&reporter, target, &id, &reason, now, once.as_ref())?)).await
        },
    )
    .await
}

/// `POST /api/admin/reports/{id}/resolve` `{"reason"?}` (or no body).
pub(crate) async fn resolve_report(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(a): AdminUser,
    id: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let act = move |s: &Store, admin: &UserId, reason: Option<&MultiLine>, now, once: Option<&Once<_>>| {
        s.resolve_report(admin, &id, reason, now, once)
    };
    with_reason(&req, &state, &a.id, &body, render_report, Box::new(act)).await
}

/// `POST /api/admin/reinstatement-requests/{id}/resolve` `{"reason"?}` (or no body):
/// closes the request without lifting the suspension; the owner is told.
pub(crate) async fn resolve_request(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(a): AdminUser,
    id: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let act = move |s: &Store, admin: &UserId, reason: Option<&MultiLine>, now, once: Option<&Once<_>>| {
        s.resolve_reinstatement_request(admin, &id, reason, now, once)
    };
    with_reason(&req, &state, &a.id, &body, render_request, Box::new(act)).await
}
