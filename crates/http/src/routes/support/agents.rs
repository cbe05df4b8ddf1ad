//! Suspension (admin), an agent's record (admin), and the owner's reinstatement request.

use super::view::{DossierView, render_request, render_standing};
use super::{required, with_reason};
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::idempotency;
use crate::principal::{AdminUser, OwnerUser};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::{AgentId, limits};
use heepr_domain::{MultiLine, UserId};
use heepr_store::Store;
use heepr_store::idempotency::Once;
use serde::Deserialize;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Suspend {
    reason: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Request {
    message: Option<String>,
}

/// An agent id from the path; anything else is an agent that does not exist.
fn agent_id(raw: &str) -> Result<AgentId, ApiError> {
    AgentId::parse(raw).ok_or(ApiError::NotFound)
}

/// `POST /api/admin/agents/{id}/suspend` `{"reason"}`: suspends the agent and ends
/// the work it still owes (refunded, or back to the customer), once per
/// `Idempotency-Key`.
pub(crate) async fn suspend(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(a): AdminUser,
    id: web::Path<String>,
    body: web::Json<Suspend>,
) -> Result<HttpResponse, ApiError> {
    let agent = agent_id(&id)?;
    let reason = required("reason", body.into_inner().reason, limits::SUPPORT_REASON_MAX_CHARS)?;
    let fingerprint = reason.to_string();
    idempotency::once(
        &req,
        &state,
        a.id.to_string(),
        &fingerprint,
        StatusCode::OK,
        render_standing,
        |once| async {
            let store = state.store.clone();
            let policy = state.policy.clone();
            let now = state.now();
            let admin = a.id.clone();
            let out = blocking(move || {
                Ok(store.suspend_agent(&admin, agent.as_str(), &reason, &policy, now, once.as_ref())?)
            })
            .await?;
            tracing::info!(admin = %a.id, agent = %out.agent_id, refunded = out.refunded.len(), "agent suspended");
            Ok(out)
        },
    )
    .await
}

/// `POST /api/admin/agents/{id}/reinstate` `{"reason"?}` (or no body): lifts the
/// suspension.
pub(crate) async fn reinstate(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(a): AdminUser,
    id: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let agent = agent_id(&id)?;
    let act = move |s: &Store, admin: &UserId, reason: Option<&MultiLine>, now, once: Option<&Once<_>>| {
        let out = s.reinstate_agent(admin, agent.as_str(), reason, now, once)?;
        tracing::info!(admin = %admin, agent = %out.agent_id, "agent reinstated");
        Ok(out)
    };
    with_reason(&req, &state, &a.id, &body, render_standing, Box::new(act)).await
}

/// `GET /api/admin/agents/{id}`: the agent's standing, counters, reports, suspensions
/// and reinstatement requests.
pub(crate) async fn record(
    state: web::Data<AppState>,
    _a: AdminUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let agent = agent_id(&id)?;
    let store = state.store.clone();
    let d = blocking(move || Ok(store.agent_dossier(agent.as_str())?)).await?;
    Ok(HttpResponse::Ok().json(DossierView::from(&d)))
}

/// `POST /api/owner/agents/{id}/reinstatement` `{"message"}`: the owner asks support
/// to lift the suspension (409 `not_suspended` if there is none).
pub(crate) async fn request(
    req: HttpRequest,
    state: web::Data<AppState>,
    OwnerUser(u): OwnerUser,
    id: web::Path<String>,
    body: web::Json<Request>,
) -> Result<HttpResponse, ApiError> {
    let agent = agent_id(&id)?;
    let message = required(
        "message",
        body.into_inner().message,
        limits::REINSTATEMENT_MESSAGE_MAX_CHARS,
    )?;
    let fingerprint = message.to_string();
    idempotency::once(
        &req,
        &state,
        u.id.to_string(),
        &fingerprint,
        StatusCode::CREATED,
        render_request,
        |once| async {
            let store = state.store.clone();
            let now = state.now();
            let owner = u.id.clone();
            blocking(move || Ok(store.request_reinstatement(&owner, agent.as_str(), &message, now, once.as_ref())?))
                .await
        },
    )
    .await
}
