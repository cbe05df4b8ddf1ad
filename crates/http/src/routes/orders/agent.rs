//! The agent's side of its orders (bearer key): deliver, decline, flag, and fetch the
//! customer's attachments.

use super::download::download;
use super::view::render_delivered;
use super::{keeps_upload, order_id, read_json_body, require_json, respond, text, typed};
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::idempotency;
use crate::principal::AgentKey;
use crate::upload::{self, Upload};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::order::{DeclineReason, DeliveryContent, FlagReason};
use heepr_domain::{Command, Viewer, limits};
use heepr_store::delivery::NewDelivery;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A delivery as JSON.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeliverBody {
    text: Option<String>,
    #[serde(default)]
    urls: Vec<String>,
    note: Option<String>,
}

/// `POST /api/orders/{id}/deliver`: JSON `{text?, urls?, note?}` or multipart with
/// `files` parts and optional `text`/`note`/`urls` fields.
pub(crate) async fn deliver(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: AgentKey,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let agent = key.working()?;
    let id = order_id(&id)?;
    let (text_v, urls, note, up) = if upload::is_multipart(&req) {
        let up = upload::read_multipart(&req, payload, state.blobs.clone(), state.config.uploads, "files").await?;
        let urls = up.fields.get("urls").cloned().unwrap_or_default();
        (
            up.field("text").map(str::to_owned),
            urls,
            up.field("note").map(str::to_owned),
            up,
        )
    } else {
        require_json(&req)?;
        let bytes = read_json_body(payload, state.config.json_limit).await?;
        let b: DeliverBody = serde_json::from_slice(&bytes).map_err(|e| ApiError::BadJson(e.to_string()))?;
        (b.text, b.urls, b.note, Upload::default())
    };
    let checked = DeliveryContent::new(text_v.as_deref(), urls, note.as_deref(), up.files.len());
    let (text_v, urls, note) = match checked {
        Ok(content) => content.into_parts(),
        Err(e) => {
            up.discard(&*state.blobs);
            return Err(e.into());
        }
    };
    metrics::counter!("heepr_order_commands_total", "command" => "deliver").increment(1);
    let fingerprint = format!(
        "{}\n{:?}\n{:?}\n{}",
        id,
        (&text_v, &note, &urls),
        (),
        up.files.iter().map(|f| f.sha256.as_str()).collect::<Vec<_>>().join(",")
    );
    let principal = Viewer::Agent(agent.agent_id.clone()).key();
    let delivery = NewDelivery {
        text: text_v,
        urls,
        note,
        files: up.files.clone(),
    };
    let result = idempotency::once(
        &req,
        &state,
        principal,
        &fingerprint,
        StatusCode::CREATED,
        render_delivered,
        |once| async {
            let store = state.store.clone();
            let policy = state.policy.clone();
            let now = state.now();
            let (agent_id, oid) = (agent.agent_id.clone(), id.clone());
            blocking(move || Ok(store.deliver(&agent_id, &oid, &delivery, &policy, now, once.as_ref())?)).await
        },
    )
    .await;
    if !keeps_upload(&result) {
        up.discard(&*state.blobs);
    }
    result
}

/// A body that names one of the agent's order commands.
pub(crate) trait AgentCommand: DeserializeOwned {
    /// The command, its texts checked.
    fn command(self) -> Result<Command, ApiError>;
}

/// `{"reason": out_of_scope|capacity|…, "note"?}`
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeclineBody {
    #[schema(value_type = String)]
    reason: DeclineReason,
    note: Option<String>,
}

impl AgentCommand for DeclineBody {
    fn command(self) -> Result<Command, ApiError> {
        Ok(Command::Decline {
            reason: self.reason,
            note: note(self.note)?,
        })
    }
}

/// `{"reason": illegal|policy_violation|other, "note"?}`: asks the owner to decide.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FlagBody {
    #[schema(value_type = String)]
    reason: FlagReason,
    note: Option<String>,
}

impl AgentCommand for FlagBody {
    fn command(self) -> Result<Command, ApiError> {
        Ok(Command::AgentFlag {
            reason: self.reason,
            note: note(self.note)?,
        })
    }
}

/// The agent's optional note on a decline or flag, under the domain's text rules.
fn note(note: Option<String>) -> Result<Option<String>, ApiError> {
    text("note", note, limits::DECLINE_FLAG_NOTE_MAX_CHARS)
}

/// `POST /api/orders/{id}/decline` (`B` = [`DeclineBody`]) and `/flag` ([`FlagBody`]).
/// The body is read as JSON first, so a bad reason is `400 bad_json` and a bad note 422.
pub(crate) async fn command<B: AgentCommand>(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: AgentKey,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let agent = key.working()?;
    let cmd = typed::<B>(body.into_inner())?.command()?;
    respond(&req, &state, Viewer::Agent(agent.agent_id), &id, cmd).await
}

/// `GET /api/orders/{id}/attachments/{file}`: customer attachments, with the agent's
/// key; nobody else's key works.
pub(crate) async fn attachment(
    state: web::Data<AppState>,
    key: AgentKey,
    p: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, f) = p.into_inner();
    download(state, Viewer::Agent(key.0.agent_id), id, f).await
}
