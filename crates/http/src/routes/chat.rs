//! Chat over HTTP: pre-sale threads with the built-in assistant, messages, "ask for a
//! human", owner offers and their acceptance, and order threads. Anyone who is not a
//! party to a thread gets 404.

use super::orders::render_order;
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::idempotency;
use crate::principal::{Audience, OwnerUser, SessionUser};
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use heepr_domain::chat::OfferDraft;
use heepr_domain::{FeeBps, OrderId, Points, Timestamp, UserId};
use heepr_store::chat::{MessageRecord, OfferRecord, ThreadRecord, ThreadView, Viewer};
use heepr_store::user::{Role, UserRecord};
use serde::Deserialize;
use serde_json::{Value, json};

/// An owned [`Viewer`], so it can cross into blocking tasks.
pub(crate) struct Me {
    id: UserId,
    support: bool,
}

impl Me {
    fn of(u: &UserRecord) -> Self {
        Self {
            id: u.id.clone(),
            support: u.has(Role::Admin),
        }
    }

    fn viewer(&self) -> Viewer<'_> {
        Viewer {
            user: &self.id,
            support: self.support,
        }
    }
}

fn thread_json(t: &ThreadRecord) -> Value {
    json!({
        "id": t.id, "agent_id": t.agent_id, "customer_id": t.customer_id, "owner_id": t.owner_id,
        "order_id": t.order_id, "human_requested": t.human_requested,
        "created_at": t.created_at, "updated_at": t.updated_at,
    })
}

fn message_json(m: &MessageRecord) -> Value {
    json!({
        "id": m.id, "thread_id": m.thread_id, "author": m.author_kind.as_str(), "author_id": m.author_id,
        "body": m.body, "created_at": m.created_at,
    })
}

fn offer_json(o: &OfferRecord, now: Timestamp) -> Value {
    let status = if o.accepted_order_id.is_some() {
        "accepted"
    } else if now >= o.expires_at || now >= o.deadline {
        "expired"
    } else {
        "open"
    };
    json!({
        "id": o.id, "thread_id": o.thread_id, "agent_id": o.agent_id, "gig_id": o.gig_id, "tier": o.tier,
        "price": o.price, "deadline": o.deadline, "scope": o.scope, "inputs": o.inputs,
        "expires_at": o.expires_at, "status": status, "accepted_order_id": o.accepted_order_id,
        "created_at": o.created_at,
    })
}

fn view_json(v: &ThreadView, now: Timestamp) -> Value {
    let mut t = thread_json(&v.thread);
    if let Some(obj) = t.as_object_mut() {
        obj.insert("role".into(), v.role.as_str().into());
        obj.insert("writable".into(), v.writable.into());
        obj.insert(
            "messages".into(),
            v.messages.iter().map(message_json).collect::<Vec<_>>().into(),
        );
        obj.insert(
            "offers".into(),
            v.offers.iter().map(|o| offer_json(o, now)).collect::<Vec<_>>().into(),
        );
    }
    t
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenBody {
    agent_id: String,
    message: String,
}

/// `POST /api/threads`: a customer opens a pre-sale thread; the assistant answers.
pub(crate) async fn open(
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    body: web::Json<OpenBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let store = state.store.clone();
    let now = state.now();
    let v = blocking(move || Ok(store.open_thread(&u.id, &b.agent_id, &b.message, now)?)).await?;
    Ok(HttpResponse::Created().json(view_json(&v, now)))
}

/// `GET /api/threads`: threads where I am the customer or the agent's owner.
pub(crate) async fn list(state: web::Data<AppState>, SessionUser(u): SessionUser) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let ts = blocking(move || Ok(store.threads_of(&u.id, 100)?)).await?;
    Ok(HttpResponse::Ok().json(json!({ "threads": ts.iter().map(thread_json).collect::<Vec<_>>() })))
}

/// `GET /api/threads/{id}`: the thread, its messages and offers.
pub(crate) async fn get(
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = Me::of(&u);
    let store = state.store.clone();
    let now = state.now();
    let v = blocking(move || Ok(store.thread_for(&id, me.viewer(), now)?)).await?;
    Ok(HttpResponse::Ok().json(view_json(&v, now)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PostBody {
    body: String,
}

/// `POST /api/threads/{id}/messages`.
pub(crate) async fn post(
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    id: web::Path<String>,
    body: web::Json<PostBody>,
) -> Result<HttpResponse, ApiError> {
    let me = Me::of(&u);
    let text = body.into_inner().body;
    let store = state.store.clone();
    let now = state.now();
    let m = blocking(move || Ok(store.post_message(&id, me.viewer(), &text, now)?)).await?;
    Ok(HttpResponse::Created().json(message_json(&m)))
}

/// `POST /api/threads/{id}/human`: the customer asks for a person; the owner is told.
pub(crate) async fn human(
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = Me::of(&u);
    let store = state.store.clone();
    let now = state.now();
    let t = blocking(move || Ok(store.request_human(&id, me.viewer(), now)?)).await?;
    Ok(HttpResponse::Ok().json(thread_json(&t)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OfferBody {
    gig_id: String,
    tier: String,
    price: i64,
    #[schema(value_type = String, format = DateTime)]
    deadline: Timestamp,
    scope: String,
    #[serde(default)]
    inputs: Value,
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<Timestamp>,
}

/// `POST /api/threads/{id}/offers`: the owner of the thread's agent makes an offer.
pub(crate) async fn offer(
    state: web::Data<AppState>,
    OwnerUser(u): OwnerUser,
    id: web::Path<String>,
    body: web::Json<OfferBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let draft = OfferDraft {
        gig_id: b.gig_id,
        tier: b.tier,
        price: Points(b.price),
        deadline: b.deadline,
        scope: b.scope,
        inputs: b.inputs,
        expires_at: b.expires_at,
    };
    let store = state.store.clone();
    let now = state.now();
    let o = blocking(move || Ok(store.create_offer(&id, &u.id, draft, now)?)).await?;
    Ok(HttpResponse::Created().json(offer_json(&o, now)))
}

/// `POST /api/offers/{id}/accept`: the thread's customer accepts → 201 the order.
pub(crate) async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let principal = heepr_domain::Viewer::Customer(u.id.clone()).key();
    idempotency::once(
        &req,
        &state,
        principal,
        "",
        StatusCode::CREATED,
        render_order,
        |once| async {
            let store = state.store.clone();
            let policy = state.policy.clone();
            let now = state.now();
            let fee = FeeBps::new(state.config.fee_bps).unwrap_or_default();
            blocking(move || Ok(store.accept_offer(&id, &u.id, fee, &policy, now, once.as_ref())?)).await
        },
    )
    .await
}

/// `GET /api/{customer,owner,admin}/orders/{id}/thread`: created on first access by
/// one of the order's parties; support reads.
pub(crate) async fn order_thread<A: Audience>(
    state: web::Data<AppState>,
    who: A,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let side = who.viewer();
    let id = OrderId::parse(&id).ok_or(ApiError::NotFound)?;
    let store = state.store.clone();
    let now = state.now();
    let v = blocking(move || Ok(store.order_thread(&id, &side, now)?)).await?;
    Ok(HttpResponse::Ok().json(view_json(&v, now)))
}
