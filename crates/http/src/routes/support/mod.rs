//! The support desk over HTTP (SPEC §11): suspending and reinstating agents, owners'
//! reinstatement requests, reports by anyone signed in, and what support reads — the
//! queue, an agent's record, the audit log, the ledger check. Every admin write is
//! audited by the store in the same plan as the action; no route changes or deletes
//! an audit entry.
//!
//! One module per concern: [`agents`] (suspension, the agent's record, reinstatement
//! requests), [`reports`] (reports and resolutions), [`desk`] (queue, audit, ledger);
//! the bodies are in `view`.

pub(crate) mod agents;
pub(crate) mod desk;
pub(crate) mod outbox;
pub(crate) mod reports;
pub(crate) mod view;

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::idempotency;
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use heepr_domain::{MultiLine, UserId, limits};
use heepr_store::Store;
use heepr_store::idempotency::Once;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The optional body of an admin action: `{"reason"?}`.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reason {
    pub(crate) reason: Option<String>,
}

/// What an admin action with an optional reason does, given the admin, the reason, the
/// time and the request's `Idempotency-Key` claim.
type ReasonedAction<T> = Box<
    dyn FnOnce(
            &Store,
            &UserId,
            Option<&MultiLine>,
            chrono::DateTime<chrono::Utc>,
            Option<&Once<T>>,
        ) -> heepr_store::Result<T>
        + Send,
>;

/// An admin action whose body is an optional `{"reason"?}`: the reason checked, the
/// request keyed by `Idempotency-Key` (scoped to the admin), `act` run on the blocking
/// pool and its result answered as `render` shows it.
async fn with_reason<T: Send + 'static>(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    admin: &UserId,
    body: &Bytes,
    render: fn(&T) -> String,
    act: ReasonedAction<T>,
) -> Result<HttpResponse, ApiError> {
    let b: Reason = optional_body(req, body)?;
    let reason = optional("reason", b.reason, limits::SUPPORT_REASON_MAX_CHARS)?;
    let fingerprint = format!("{reason:?}");
    idempotency::once(
        req,
        state,
        admin.to_string(),
        &fingerprint,
        StatusCode::OK,
        render,
        |once| {
            let (store, now, admin) = (state.store.clone(), state.now(), admin.clone());
            blocking(move || Ok(act(&store, &admin, reason.as_ref(), now, once.as_ref())?))
        },
    )
    .await
}

/// Required free text under the domain's rules.
fn required(field: &'static str, v: Option<String>, max: usize) -> Result<MultiLine, ApiError> {
    Ok(MultiLine::required(field, v.as_deref().unwrap_or_default(), max)?)
}

/// Optional free text under the domain's rules (empty → `None`).
fn optional(field: &'static str, v: Option<String>, max: usize) -> Result<Option<MultiLine>, ApiError> {
    Ok(MultiLine::optional(field, v.as_deref(), max)?)
}

/// A body that may be left out (an empty body is `T::default()`), but that, when sent,
/// must be JSON of the expected shape: a misspelt field is refused, never ignored.
pub(crate) fn optional_body<T: DeserializeOwned + Default>(req: &HttpRequest, body: &Bytes) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            let t = t.trim().to_ascii_lowercase();
            t == "application/json" || (t.starts_with("application/") && t.ends_with("+json"))
        });
    if !json {
        return Err(ApiError::UnsupportedMediaType("send application/json"));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::BadJson(e.to_string()))
}

/// `?limit=` of a page: 1–100, `default` when absent.
fn page_limit(limit: Option<i64>, default: i64) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(default);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 100"));
    }
    Ok(limit)
}

/// `?cursor=`: a previous page's `next`.
fn page_cursor(cursor: Option<&str>) -> Result<Option<(chrono::NaiveDateTime, String)>, ApiError> {
    cursor
        .map(|c| {
            heepr_store::support::parse_cursor(c)
                .ok_or_else(|| ApiError::invalid("cursor", "pass the `next` value of a previous page"))
        })
        .transpose()
}
