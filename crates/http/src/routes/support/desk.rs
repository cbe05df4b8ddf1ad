//! What support reads: the queue, the audit log, the ledger check.

use super::view::{AuditPage, AuditView, LedgerView, QueueView};
use super::{page_cursor, page_limit};
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::principal::AdminUser;
use actix_web::{HttpResponse, web};
use heepr_domain::support::TargetKind;
use heepr_store::support::AuditFilter;
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueueQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `GET /api/admin/queue?limit=&cursor=`: disputes, flagged orders, open reports and
/// open reinstatement requests, oldest first, with counts per kind.
pub(crate) async fn queue(
    state: web::Data<AppState>,
    _a: AdminUser,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let limit = page_limit(q.limit, 50)?;
    let after = page_cursor(q.cursor.as_deref())?;
    let store = state.store.clone();
    let page = blocking(move || Ok(store.support_queue(limit, after)?)).await?;
    Ok(HttpResponse::Ok().json(QueueView::from(&page)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    target: Option<String>,
    target_id: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `GET /api/admin/audit?target=&target_id=&limit=&cursor=`: the audit log, newest
/// first (read-only: no route changes an entry).
pub(crate) async fn audit(
    state: web::Data<AppState>,
    _a: AdminUser,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let limit = page_limit(q.limit, 50)?;
    let target = match (q.target, q.target_id) {
        (None, None) => None,
        (Some(kind), Some(id)) => {
            let kind = TargetKind::parse(&kind).ok_or_else(|| {
                ApiError::invalid("target", "one of agent, order, report, reinstatement_request, user")
            })?;
            let id = heepr_domain::SingleLine::required("target_id", &id, 100)?.into_string();
            Some((kind.as_str().to_owned(), id))
        }
        (Some(_), None) => return Err(ApiError::invalid("target_id", "is required with target")),
        (None, Some(_)) => return Err(ApiError::invalid("target", "is required with target_id")),
    };
    let filter = AuditFilter {
        target,
        limit: limit + 1,
        before: page_cursor(q.cursor.as_deref())?,
    };
    let store = state.store.clone();
    let mut rows = blocking(move || Ok(store.audit_log(&filter)?)).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = more
        .then(|| rows.last().map(|r| heepr_store::support::cursor(r.at, &r.id)))
        .flatten();
    Ok(HttpResponse::Ok().json(AuditPage {
        entries: rows.iter().map(AuditView::from).collect(),
        next,
    }))
}

/// `GET /api/admin/ledger`: runs the ledger invariant check (SPEC §10) and reports it.
pub(crate) async fn ledger(state: web::Data<AppState>, _a: AdminUser) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let violations = blocking(move || Ok(store.check_ledger()?)).await?;
    if !violations.is_empty() {
        tracing::error!(violations = violations.len(), "ledger invariant check failed");
    }
    Ok(HttpResponse::Ok().json(LedgerView::new(&violations, state.now())))
}
