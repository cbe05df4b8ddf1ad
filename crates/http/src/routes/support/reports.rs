//! Reports (anyone signed in) and support's resolutions of reports and reinstatement
//! requests.

use super::view::{render_report, render_request};
use super::{Reason, optional, optional_body, required};
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::idempotency;
use crate::principal::{AdminUser, SessionUser};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::support::ReportTarget;
use heepr_domain::{SingleLine, limits};
use serde::Deserialize;

#[derive(Deserialize)]
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
    let b: Reason = optional_body(&req, &body)?;
    let reason = optional("reason", b.reason, limits::SUPPORT_REASON_MAX_CHARS)?;
    let fingerprint = format!("{reason:?}");
    let id = id.into_inner();
    idempotency::once(
        &req,
        &state,
        a.id.to_string(),
        &fingerprint,
        StatusCode::OK,
        render_report,
        |once| async {
            let store = state.store.clone();
            let now = state.now();
            let admin = a.id.clone();
            blocking(move || Ok(store.resolve_report(&admin, &id, reason.as_ref(), now, once.as_ref())?)).await
        },
    )
    .await
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
    let b: Reason = optional_body(&req, &body)?;
    let reason = optional("reason", b.reason, limits::SUPPORT_REASON_MAX_CHARS)?;
    let fingerprint = format!("{reason:?}");
    let id = id.into_inner();
    idempotency::once(
        &req,
        &state,
        a.id.to_string(),
        &fingerprint,
        StatusCode::OK,
        render_request,
        |once| async {
            let store = state.store.clone();
            let now = state.now();
            let admin = a.id.clone();
            blocking(move || {
                Ok(store.resolve_reinstatement_request(&admin, &id, reason.as_ref(), now, once.as_ref())?)
            })
            .await
        },
    )
    .await
}
