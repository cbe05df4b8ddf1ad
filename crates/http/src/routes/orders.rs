//! Orders over HTTP: customers place, review and dispute; agents deliver, decline and
//! flag; owners approve, release and steer; support resolves. Every command goes
//! through the store's versioned command path, scoped to the caller's own orders
//! (anything else is 404).

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::idempotency;
use crate::principal::{AdminUser, AgentKey, OwnerUser, SessionUser};
use crate::upload::{self, Upload};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::order::DeliveryContent;
use heepr_domain::order::{DeclineReason, FlagReason};
use heepr_domain::{Command, FeeBps, MultiLine, Order, OrderId, OrderState, Points, Viewer as Who, limits};
use heepr_store::delivery::{DeliveryRecord, FileRecord, NewDelivery, NewOrder};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Validation {
        field: field.into(),
        message: message.into(),
    }
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

/// An order as its parties see it.
pub(crate) fn order_view(o: &Order) -> Value {
    let attachments: Vec<Value> = o
        .work
        .attachments
        .iter()
        .map(|a| {
            let id = a.u.rsplit('/').next().unwrap_or_default();
            json!({"id": id, "name": a.n, "bytes": a.b, "content_type": a.ct, "sha256": a.h})
        })
        .collect();
    json!({
        "id": o.id, "state": o.state.as_str(), "agent_id": o.agent, "customer_id": o.customer, "owner_id": o.owner,
        "price": o.price, "fee_bps": o.fee_bps.get(),
        "gig": o.work.gig_title, "tier": o.work.tier_name, "category": o.work.category,
        "inputs": o.work.inputs, "brief": o.work.brief, "scope": o.work.scope, "attachments": attachments,
        "deadline": o.deadline, "timer_due_at": o.due_at,
        "revisions_included": o.revisions_included, "revisions_left": o.revisions_left, "revisions": o.revisions,
        "pending_revision": o.pending_revision, "progress": o.progress,
        "deliveries": o.deliveries, "released_deliveries": o.released,
        "auto_approve_deliveries": o.auto_approve_deliveries,
        "created_at": o.created_at, "updated_at": o.updated_at,
    })
}

fn file_view(f: &FileRecord) -> Value {
    json!({"id": f.id, "name": f.name, "bytes": f.bytes, "sha256": f.sha256, "content_type": f.content_type})
}

fn delivery_view(d: &DeliveryRecord) -> Value {
    json!({
        "id": d.id, "seq": d.seq, "text": d.text, "urls": d.urls, "note": d.note,
        "files": d.files.iter().map(file_view).collect::<Vec<_>>(), "created_at": d.created_at,
    })
}

/// Runs `cmd` for `who` on one of its orders, exactly once per `Idempotency-Key`,
/// answering the order as its parties see it.
async fn respond(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    who: Who,
    id: &str,
    cmd: Command,
) -> Result<HttpResponse, ApiError> {
    let oid = order_id(id)?;
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

/// An order's answer body (also what a retry replays).
pub(crate) fn render_order(o: &Order) -> String {
    order_view(o).to_string()
}

// ---------- customer ----------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceBody {
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
    let principal = Who::Customer(user.id.clone()).key();
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
            let base = state.config.base_url.clone();
            blocking(move || Ok(store.place_from_gig(new, fee, &base, &policy, now, once.as_ref())?)).await
        },
    )
    .await;
    if result
        .as_ref()
        .map(|r| !r.status().is_success() || r.headers().contains_key("idempotent-replayed"))
        .unwrap_or(true)
    {
        // Refused, or answered from a replay: the files of this request are not needed.
        upload.discard(&*blobs);
    }
    result
}

/// Reads a JSON body with the configured limit (for handlers that also take multipart).
async fn read_json_body(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    use futures_util::StreamExt;
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadJson(e.to_string()))?;
        if buf.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    state: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(state: web::Data<AppState>, who: Who, q: ListQuery) -> Result<HttpResponse, ApiError> {
    let st = match q.state.as_deref() {
        None => None,
        Some(s) => Some(OrderState::parse(s).ok_or_else(|| invalid("state", "unknown order state"))?),
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(invalid("limit", "must be between 1 and 100"));
    }
    let offset = match q.cursor.as_deref() {
        None => 0,
        Some(c) => c
            .strip_prefix('o')
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .ok_or_else(|| invalid("cursor", "pass a previous `next`"))?,
    };
    let store = state.store.clone();
    let mut orders = blocking(move || Ok(store.orders_of(&who, st, limit + 1, offset)?)).await?;
    let more = orders.len() as i64 > limit;
    orders.truncate(limit as usize);
    Ok(HttpResponse::Ok().json(json!({
        "orders": orders.iter().map(order_view).collect::<Vec<_>>(),
        "next": more.then(|| format!("o{}", offset + limit)),
    })))
}

pub(crate) async fn customer_list(
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    list(state, Who::Customer(u.id), q.into_inner()).await
}

async fn get(state: web::Data<AppState>, who: Who, id: String) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let store = state.store.clone();
    let o = blocking(move || Ok(store.order_for(&id, &who)?)).await?;
    Ok(HttpResponse::Ok().json(order_view(&o)))
}

pub(crate) async fn customer_get(
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    get(state, Who::Customer(u.id), id.into_inner()).await
}

pub(crate) async fn customer_accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    respond(&req, &state, Who::Customer(u.id), &id, Command::Accept).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Message {
    message: Option<String>,
}

pub(crate) async fn customer_revision(
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
        Who::Customer(u.id),
        &id,
        Command::RequestRevision { message },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reason {
    reason: Option<String>,
}

pub(crate) async fn customer_flag(
    req: HttpRequest,
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    id: web::Path<String>,
    body: web::Json<Reason>,
) -> Result<HttpResponse, ApiError> {
    let reason = required("reason", body.into_inner().reason, limits::DISPUTE_REASON_MAX_CHARS)?;
    respond(&req, &state, Who::Customer(u.id), &id, Command::Dispute { reason }).await
}

async fn deliveries(state: web::Data<AppState>, who: Who, id: String) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let store = state.store.clone();
    let ds = blocking(move || Ok(store.deliveries_for(&id, &who)?)).await?;
    Ok(HttpResponse::Ok().json(json!({ "deliveries": ds.iter().map(delivery_view).collect::<Vec<_>>() })))
}

pub(crate) async fn customer_deliveries(
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    deliveries(state, Who::Customer(u.id), id.into_inner()).await
}

/// Streams a stored file as an attachment (never rendered on the API origin).
async fn download(state: web::Data<AppState>, who: Who, id: String, file: String) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let store = state.store.clone();
    let blobs = state.blobs.clone();
    let (rec, f) = blocking(move || {
        let rec = store.order_file(&id, &file, &who)?;
        let f = blobs.open(&rec.storage_key).map_err(|_| ApiError::NotFound)?;
        Ok((rec, f))
    })
    .await?;
    let file = tokio::fs::File::from_std(f);
    let stream = futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(web::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    let ascii: String = rec
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{ascii}\"")))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", "default-src 'none'; sandbox"))
        .insert_header(("X-Heepr-Sha256", rec.sha256.clone()))
        .body(actix_web::body::SizedStream::new(
            rec.bytes.max(0) as u64,
            Box::pin(stream),
        )))
}

pub(crate) async fn customer_file(
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    p: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, f) = p.into_inner();
    download(state, Who::Customer(u.id), id, f).await
}

// ---------- agent ----------

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
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Body {
            text: Option<String>,
            #[serde(default)]
            urls: Vec<String>,
            note: Option<String>,
        }
        let bytes = read_json_body(payload, state.config.json_limit).await?;
        let b: Body = serde_json::from_slice(&bytes).map_err(|e| ApiError::BadJson(e.to_string()))?;
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
    let fingerprint = format!(
        "{}\n{:?}\n{:?}\n{}",
        id,
        (&text_v, &note, &urls),
        (),
        up.files.iter().map(|f| f.sha256.as_str()).collect::<Vec<_>>().join(",")
    );
    let principal = Who::Agent(agent.agent_id.clone()).key();
    let delivery = NewDelivery {
        text: text_v,
        urls,
        note,
        files: up.files.clone(),
    };
    let render: fn(&(Order, DeliveryRecord)) -> String =
        |(o, d)| json!({ "order": order_view(o), "delivery": delivery_view(d) }).to_string();
    let result = idempotency::once(
        &req,
        &state,
        principal,
        &fingerprint,
        StatusCode::CREATED,
        render,
        |once| async {
            let store = state.store.clone();
            let policy = state.policy.clone();
            let now = state.now();
            let (agent_id, oid) = (agent.agent_id.clone(), id.clone());
            blocking(move || Ok(store.deliver(&agent_id, &oid, &delivery, &policy, now, once.as_ref())?)).await
        },
    )
    .await;
    if result
        .as_ref()
        .map(|r| !r.status().is_success() || r.headers().contains_key("idempotent-replayed"))
        .unwrap_or(true)
    {
        up.discard(&*state.blobs);
    }
    result
}

async fn agent_command(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: AgentKey,
    id: String,
    body: Value,
    cmd: impl FnOnce(Value) -> Result<Command, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let agent = key.working()?;
    let cmd = cmd(body)?;
    respond(&req, &state, Who::Agent(agent.agent_id), &id, cmd).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclineBody {
    reason: DeclineReason,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagBody {
    reason: FlagReason,
    note: Option<String>,
}

/// The structured reason, with the agent's optional note in parentheses.
fn with_note(reason: &str, note: Option<String>) -> Result<String, ApiError> {
    Ok(match text("note", note, limits::DECLINE_FLAG_NOTE_MAX_CHARS)? {
        Some(n) => format!("{reason} ({n})"),
        None => reason.to_owned(),
    })
}

pub(crate) async fn decline(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: AgentKey,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    agent_command(req, state, key, id.into_inner(), body.into_inner(), |v| {
        let b: DeclineBody = typed(v)?;
        Ok(Command::Decline {
            reason: with_note(b.reason.as_str(), b.note)?,
        })
    })
    .await
}

pub(crate) async fn flag(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: AgentKey,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    agent_command(req, state, key, id.into_inner(), body.into_inner(), |v| {
        let b: FlagBody = typed(v)?;
        Ok(Command::AgentFlag {
            reason: with_note(b.reason.as_str(), b.note)?,
        })
    })
    .await
}

/// Customer attachments, with the agent's key; nobody else's key works.
pub(crate) async fn attachment(
    state: web::Data<AppState>,
    key: AgentKey,
    p: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, f) = p.into_inner();
    download(state, Who::Agent(key.0.agent_id), id, f).await
}

// ---------- owner ----------

pub(crate) async fn owner_list(
    state: web::Data<AppState>,
    OwnerUser(u): OwnerUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    list(state, Who::Owner(u.id), q.into_inner()).await
}

pub(crate) async fn owner_get(
    state: web::Data<AppState>,
    OwnerUser(u): OwnerUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    get(state, Who::Owner(u.id), id.into_inner()).await
}

pub(crate) async fn owner_deliveries(
    state: web::Data<AppState>,
    OwnerUser(u): OwnerUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    deliveries(state, Who::Owner(u.id), id.into_inner()).await
}

pub(crate) async fn owner_file(
    state: web::Data<AppState>,
    OwnerUser(u): OwnerUser,
    p: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, f) = p.into_inner();
    download(state, Who::Owner(u.id), id, f).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct OwnerBody {
    reason: Option<String>,
    note: Option<String>,
    scope: Option<String>,
    deadline: Option<chrono::DateTime<chrono::Utc>>,
    enabled: Option<bool>,
}

/// `POST /api/owner/orders/{id}/{action}` (and `revision/approve|deny`).
pub(crate) async fn owner_action(
    req: HttpRequest,
    state: web::Data<AppState>,
    OwnerUser(u): OwnerUser,
    p: web::Path<(String, String)>,
    body: Option<web::Json<OwnerBody>>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = p.into_inner();
    let b = body.map(|b| b.into_inner()).unwrap_or_default();
    let cmd = match action.as_str() {
        "approve" => Command::Approve,
        "deny" => Command::Deny {
            reason: text("reason", b.reason, limits::DENY_REASON_MAX_CHARS)?
                .unwrap_or_else(|| "denied by the owner".into()),
        },
        "release" => Command::Release,
        "return" => Command::Return {
            note: required("note", b.note, limits::RETURN_NOTE_MAX_CHARS)?,
        },
        "scope" => Command::ChangeScope {
            scope: text("scope", b.scope, limits::SCOPE_MAX_CHARS)?,
            deadline: b.deadline,
            note: text("note", b.note, limits::SCOPE_NOTE_MAX_CHARS)?.unwrap_or_default(),
        },
        "resume" => Command::Resume {
            note: text("note", b.note, limits::SCOPE_NOTE_MAX_CHARS)?.unwrap_or_else(|| "resumed by the owner".into()),
        },
        "refund" => Command::RefundFlagged,
        "revision-approve" => Command::ApproveRevision,
        "revision-deny" => Command::DenyRevision,
        "auto-approve" => Command::SetAutoApprove(b.enabled.ok_or_else(|| invalid("enabled", "is required"))?),
        _ => return Err(ApiError::NotFound),
    };
    respond(&req, &state, Who::Owner(u.id), &id, cmd).await
}

pub(crate) async fn owner_revision(
    req: HttpRequest,
    state: web::Data<AppState>,
    owner: OwnerUser,
    p: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, decision) = p.into_inner();
    let action = match decision.as_str() {
        "approve" => "revision-approve",
        "deny" => "revision-deny",
        _ => return Err(ApiError::NotFound),
    };
    owner_action(req, state, owner, web::Path::from((id, action.to_owned())), None).await
}

// ---------- admin ----------

pub(crate) async fn admin_list(
    state: web::Data<AppState>,
    _a: AdminUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut q = q.into_inner();
    q.state.get_or_insert_with(|| "disputed".into());
    list(state, Who::Admin, q).await
}

pub(crate) async fn admin_get(
    state: web::Data<AppState>,
    _a: AdminUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    get(state, Who::Admin, id.into_inner()).await
}

pub(crate) async fn admin_deliveries(
    state: web::Data<AppState>,
    _a: AdminUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    deliveries(state, Who::Admin, id.into_inner()).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Resolve {
    refund: i64,
}

pub(crate) async fn admin_resolve(
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
        Who::Admin,
        &id,
        Command::Resolve {
            refund: Points(body.refund),
        },
    )
    .await
}

pub(crate) async fn admin_refund(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(a): AdminUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    tracing::info!(admin = %a.id, order = %id, "flagged order refunded by support");
    respond(&req, &state, Who::Admin, &id, Command::RefundFlagged).await
}
