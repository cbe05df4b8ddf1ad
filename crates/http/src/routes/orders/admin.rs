//! Support (session, admin role): disputed orders, every delivery, and resolutions.

use super::read::{self, ListQuery};
use super::respond;
use crate::app::AppState;
use crate::error::ApiError;
use crate::principal::AdminUser;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::{Command, Points, Viewer};
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Resolve {
    refund: i64,
}

/// `POST /api/admin/orders/{id}/resolve`: settles a dispute, refunding `refund` points.
pub(crate) async fn resolve(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(a): AdminUser,
    id: web::Path<String>,
    body: web::Json<Resolve>,
) -> Result<HttpResponse, ApiError> {
    tracing::info!(admin = %a.id, order = %id, refund = body.refund, "dispute resolved");
    respond(
        &req,
        &state,
        Viewer::Admin,
        &id,
        Command::Resolve {
            refund: Points(body.refund),
        },
    )
    .await
}

/// `POST /api/admin/orders/{id}/refund`: refunds a flagged order.
pub(crate) async fn refund(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(a): AdminUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    tracing::info!(admin = %a.id, order = %id, "flagged order refunded by support");
    respond(&req, &state, Viewer::Admin, &id, Command::RefundFlagged).await
}
