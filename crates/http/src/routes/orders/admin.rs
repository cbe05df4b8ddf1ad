//! Support (session, admin role): disputed orders, every delivery, and resolutions.
//! Each resolution is audited (who, what, why) in the same plan as the order's change.

use super::read::{self, ListQuery};
use super::{order_id, render_order};
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::idempotency;
use crate::principal::AdminUser;
use crate::routes::support::{Reason, optional_body};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::{Command, MultiLine, Points, Viewer, limits};
use heepr_store::user::UserRecord;
use serde::Deserialize;

/// `GET /api/admin/orders`: disputed ones unless `state` says otherwise.
pub(crate) async fn list(
    state: web::Data<AppState>,
    _a: AdminUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut q = q.into_inner();
    q.state.get_or_insert_with(|| "disputed".into());
    read::page(state, Viewer::Admin, q).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Resolve {
    refund: i64,
    reason: Option<String>,
}

fn reason(v: Option<String>) -> Result<Option<MultiLine>, ApiError> {
    Ok(MultiLine::optional(
        "reason",
        v.as_deref(),
        limits::SUPPORT_REASON_MAX_CHARS,
    )?)
}

/// `POST /api/admin/orders/{id}/resolve` `{"refund", "reason"?}`: settles a dispute,
/// refunding `refund` points.
pub(crate) async fn resolve(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(a): AdminUser,
    id: web::Path<String>,
    body: web::Json<Resolve>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let cmd = Command::Resolve {
        refund: Points(b.refund),
    };
    respond(&req, &state, a, &id, cmd, reason(b.reason)?).await
}

/// `POST /api/admin/orders/{id}/refund` `{"reason"?}` (or no body): refunds a flagged
/// order.
pub(crate) async fn refund(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(a): AdminUser,
    id: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: Reason = optional_body(&req, &body)?;
    respond(&req, &state, a, &id, Command::RefundFlagged, reason(b.reason)?).await
}

/// Runs support's `cmd` on the order as `admin`, audited, exactly once per
/// `Idempotency-Key` (scoped to the admin).
async fn respond(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    admin: UserRecord,
    id: &str,
    cmd: Command,
    reason: Option<MultiLine>,
) -> Result<HttpResponse, ApiError> {
    let oid = order_id(id)?;
    metrics::counter!("heepr_order_commands_total", "command" => cmd.name()).increment(1);
    let fingerprint = format!("{cmd:?}\n{reason:?}");
    idempotency::once(
        req,
        state,
        admin.id.to_string(),
        &fingerprint,
        StatusCode::OK,
        render_order,
        |once| async move {
            let store = state.store.clone();
            let policy = state.policy.clone();
            let now = state.now();
            let what = cmd.name();
            let o = blocking(move || {
                Ok(store.admin_order_command(&admin.id, &oid, cmd, reason.as_ref(), &policy, now, once.as_ref())?)
            })
            .await?;
            tracing::info!(order = %o.id, action = what, state = %o.state, "support resolved an order");
            Ok(o)
        },
    )
    .await
}
