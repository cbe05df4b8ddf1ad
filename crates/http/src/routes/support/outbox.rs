//! The email outbox as support sees it: what waits, what was given up on (dead
//! letters, with the mail server's reason) and what was sent; a dead letter can be
//! re-sent. Bodies are shown as stored: one-time links replaced by `[link]`, and a
//! sent email's body removed.

use super::page_limit;
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::principal::AdminUser;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use heepr_store::mail::{OutboxEntry, OutboxFilter};
use serde::{Deserialize, Serialize};

/// An outbox row.
#[derive(Serialize)]
pub(crate) struct OutboxView {
    id: String,
    status: &'static str,
    to: String,
    subject: String,
    body: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    next_attempt_at: Option<DateTime<Utc>>,
    sent_at: Option<DateTime<Utc>>,
    dead_at: Option<DateTime<Utc>>,
}

impl From<OutboxEntry> for OutboxView {
    fn from(e: OutboxEntry) -> Self {
        let status = match (e.sent_at, e.dead_at) {
            (Some(_), _) => "sent",
            (None, Some(_)) => "dead",
            (None, None) => "pending",
        };
        Self {
            id: e.id,
            status,
            to: e.to,
            subject: e.subject,
            body: e.body,
            attempts: e.attempts,
            last_error: e.last_error,
            created_at: e.created_at.and_utc(),
            next_attempt_at: e.next_attempt_at.map(|t| t.and_utc()),
            sent_at: e.sent_at.map(|t| t.and_utc()),
            dead_at: e.dead_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct OutboxPage {
    emails: Vec<OutboxView>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutboxQuery {
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// An email id as it can be; anything else is no email.
fn email_id(raw: &str) -> Option<&str> {
    crate::path::ulid_id(raw, "eml_")
}

/// `GET /api/admin/outbox?status=pending|dead|sent&limit=&cursor=`: newest first
/// (default `dead`: the dead letters).
pub(crate) async fn list(
    state: web::Data<AppState>,
    _a: AdminUser,
    q: web::Query<OutboxQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let filter = match q.status.as_deref().unwrap_or("dead") {
        "pending" => OutboxFilter::Pending,
        "dead" => OutboxFilter::Dead,
        "sent" => OutboxFilter::Sent,
        _ => return Err(ApiError::invalid("status", "must be pending, dead or sent")),
    };
    let limit = page_limit(q.limit, 50)?;
    let cursor = q
        .cursor
        .map(|c| {
            email_id(&c)
                .map(str::to_owned)
                .ok_or_else(|| ApiError::invalid("cursor", "pass the `next_cursor` value of a previous page"))
        })
        .transpose()?;
    let store = state.store.clone();
    let rows = blocking(move || Ok(store.outbox(filter, cursor.as_deref(), limit + 1)?)).await?;
    let mut emails: Vec<OutboxView> = rows.into_iter().map(OutboxView::from).collect();
    let next_cursor = (emails.len() as i64 > limit).then(|| {
        emails.truncate(limit as usize);
        emails.last().map(|e| e.id.clone()).unwrap_or_default()
    });
    Ok(HttpResponse::Ok().json(OutboxPage { emails, next_cursor }))
}

/// `POST /api/admin/outbox/{id}/retry`: a dead letter goes back in the queue, to be
/// sent at once with a fresh count of attempts. Naturally idempotent: an email that is
/// already pending or sent is answered as it stands.
pub(crate) async fn retry(
    state: web::Data<AppState>,
    _a: AdminUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = email_id(&id).ok_or(ApiError::NotFound)?.to_owned();
    let store = state.store.clone();
    let now = state.now();
    let e = blocking(move || Ok(store.retry_email(&id, now)?)).await?;
    Ok(HttpResponse::Ok().json(OutboxView::from(e)))
}
