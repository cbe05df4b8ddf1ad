//! The customer's orders (session): place, list and read, accept, ask for a revision,
//! dispute, cancel while pending, and fetch the released deliveries and their files.

use super::view::render_order;
use super::{invalid, keeps_upload, read_json_body, require_json, required, respond, text, typed};
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::idempotency;
use crate::principal::SessionUser;
use crate::upload::{self, Upload};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::{Command, FeeBps, Viewer, limits};
use heepr_store::placement::NewOrder;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlaceBody {
    agent_id: String,
    gig_id: String,
    tier: String,
    #[serde(default)]
    inputs: Value,
    brief: Option<String>,
}

/// `POST /api/customer/orders`: JSON, or multipart with an `order` JSON part and `files`.
pub(crate) async fn place(
    req: HttpRequest,
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (raw, upload) = if upload::is_multipart(&req) {
        let up = upload::read_multipart(&req, payload, state.blobs.clone(), state.config.uploads, "files").await?;
        let raw = up
            .field("order")
            .ok_or_else(|| invalid("order", "the multipart body needs an `order` JSON part"))?;
        let v: Value = serde_json::from_str(raw).map_err(|e| {
            up.discard(&*state.blobs);
            ApiError::BadJson(format!("order part: {e}"))
        })?;
        (v, up)
    } else {
        require_json(&req)?;
        let bytes = read_json_body(payload, state.config.json_limit).await?;
        (
            serde_json::from_slice::<Value>(&bytes).map_err(|e| ApiError::BadJson(e.to_string()))?,
            Upload::default(),
        )
    };
    let fingerprint = format!(
        "{raw}\n{}",
        upload
            .files
            .iter()
            .map(|f| f.sha256.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    metrics::counter!("heepr_order_commands_total", "command" => "place").increment(1);
    let principal = Viewer::Customer(user.id.clone()).key();
    let blobs = state.blobs.clone();
    let result = idempotency::once(
        &req,
        &state,
        principal,
        &fingerprint,
        StatusCode::CREATED,
        render_order,
        |once| async {
            let body: PlaceBody = typed(raw.clone())?;
            let brief = text("brief", body.brief, limits::BRIEF_MAX_CHARS)?;
            let new = NewOrder {
                customer: user.id.clone(),
                agent_id: body.agent_id,
                gig_id: body.gig_id,
                tier: body.tier,
                inputs: body.inputs,
                brief,
                attachments: upload.files.clone(),
            };
            let store = state.store.clone();
            let policy = state.policy.clone();
            let now = state.now();
            let fee = FeeBps::new(state.config.fee_bps).unwrap_or_default();
            blocking(move || Ok(store.place_from_gig(new, fee, &policy, now, once.as_ref())?)).await
        },
    )
    .await;
    if !keeps_upload(&result) {
        // Refused, or answered from a replay: the files of this request are not needed.
        upload.discard(&*blobs);
    }
    result
}

/// `POST /api/customer/orders/{id}/accept`
pub(crate) async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    respond(&req, &state, Viewer::Customer(u.id), &id, Command::Accept).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = RevisionBody)]
#[serde(deny_unknown_fields)]
pub(crate) struct Message {
    message: Option<String>,
}

/// `POST /api/customer/orders/{id}/revision`
pub(crate) async fn revision(
    req: HttpRequest,
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    id: web::Path<String>,
    body: web::Json<Message>,
) -> Result<HttpResponse, ApiError> {
    let message = required("message", body.into_inner().message, limits::REVISION_MESSAGE_MAX_CHARS)?;
    respond(
        &req,
        &state,
        Viewer::Customer(u.id),
        &id,
        Command::RequestRevision { message },
    )
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = DisputeBody)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reason {
    reason: Option<String>,
}

/// `POST /api/customer/orders/{id}/flag`: opens a dispute.
pub(crate) async fn flag(
    req: HttpRequest,
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    id: web::Path<String>,
    body: web::Json<Reason>,
) -> Result<HttpResponse, ApiError> {
    let reason = required("reason", body.into_inner().reason, limits::DISPUTE_REASON_MAX_CHARS)?;
    respond(&req, &state, Viewer::Customer(u.id), &id, Command::Dispute { reason }).await
}

/// `POST /api/customer/orders/{id}/cancel`: withdraws an order still waiting for the
/// owner's approval; refunded at once (409 `invalid_state` once approved).
pub(crate) async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    respond(&req, &state, Viewer::Customer(u.id), &id, Command::Cancel).await
}
