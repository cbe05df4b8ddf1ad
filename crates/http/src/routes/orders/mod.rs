//! Orders over HTTP: customers place, review and dispute; agents deliver, decline and
//! flag; owners approve, release and steer; support resolves. Every command goes
//! through the store's versioned command path, scoped to the caller's own orders
//! (anything else is 404).
//!
//! One module per audience ([`customer`], [`agent`], [`owner`], [`admin`]); the reads
//! they share are in `read`, file downloads in `download`, and the answers' shapes in
//! `view`. Whoever asks is a [`Viewer`].

pub(crate) mod admin;
pub(crate) mod agent;
pub(crate) mod customer;
pub(crate) mod download;
pub(crate) mod owner;
pub(crate) mod read;
pub(crate) mod view;

pub(crate) use view::{OrderView, render_order};

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::idempotency;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::{Command, MultiLine, OrderId, Viewer};
use serde::de::DeserializeOwned;
use serde_json::Value;

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(field, message)
}

fn order_id(raw: &str) -> Result<OrderId, ApiError> {
    OrderId::parse(raw).ok_or(ApiError::NotFound)
}

fn typed<T: DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| ApiError::BadJson(e.to_string()))
}

/// Optional free text under the domain's rules (empty → `None`).
fn text(field: &'static str, v: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    Ok(MultiLine::optional(field, v.as_deref(), max)?.map(String::from))
}

/// Required free text under the domain's rules.
fn required(field: &'static str, v: Option<String>, max: usize) -> Result<String, ApiError> {
    Ok(MultiLine::required(field, v.as_deref().unwrap_or_default(), max)?.into_string())
}

/// Runs `cmd` for `who` on one of its orders, exactly once per `Idempotency-Key`,
/// answering the order as its parties see it.
async fn respond(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    who: Viewer,
    id: &str,
    cmd: Command,
) -> Result<HttpResponse, ApiError> {
    let oid = order_id(id)?;
    metrics::counter!("heepr_order_commands_total", "command" => cmd.name()).increment(1);
    let fingerprint = format!("{cmd:?}");
    let principal = who.key();
    idempotency::once(
        req,
        state,
        principal,
        &fingerprint,
        StatusCode::OK,
        render_order,
        |once| async move {
            let store = state.store.clone();
            let policy = state.policy.clone();
            let now = state.now();
            blocking(move || Ok(store.order_command_by(&oid, &who, cmd, &policy, now, once.as_ref())?)).await
        },
    )
    .await
}

/// Whether the files uploaded with a request are kept: only when this request's
/// command succeeded (a refusal or a replayed answer does not use them).
fn keeps_upload(result: &Result<HttpResponse, ApiError>) -> bool {
    result
        .as_ref()
        .is_ok_and(|r| r.status().is_success() && !r.headers().contains_key("idempotent-replayed"))
}

/// A body that is not multipart must say it is JSON: a JSON text sent as `text/plain`
/// or without a content type is refused (415), as every `web::Json` route refuses it.
fn require_json(req: &HttpRequest) -> Result<(), ApiError> {
    let json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            let t = t.trim().to_ascii_lowercase();
            t == "application/json" || (t.starts_with("application/") && t.ends_with("+json"))
        });
    if json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            "send application/json (or multipart/form-data with files)",
        ))
    }
}

/// Reads a JSON body with the configured limit (for handlers that also take multipart).
async fn read_json_body(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    use futures_util::StreamExt;
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match crate::slow::stalled(&e) {
            Some(secs) => ApiError::BodyStalled(secs),
            None => ApiError::BadJson(e.to_string()),
        })?;
        if buf.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}
