//! `GET|PUT agents/me/webhook`: the URL (masked as the seed shows) and its signing
//! secret, shown once when set and kept sealed with the server key; and
//! `agents/me/webhook/deliveries`: the delivery log and a retry.

use super::checked_url;
use super::envelope::{CompatError, Success};
use super::principal::Caller;
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use heepr_auth::SecretKind;
use heepr_domain::AgentId;
use heepr_domain::market::profile::check_url;
use heepr_store::market::webhooks::Delivery;
use serde::{Deserialize, Serialize};

/// How many trailing characters of a webhook URL are shown.
const SHOWN: usize = 10;

/// `...` and the URL's last characters (seed: `"...gentmarket"`).
pub(super) fn mask(url: &str) -> String {
    let chars: Vec<char> = url.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(SHOWN)..].iter().collect();
    format!("...{tail}")
}

/// A fresh `whsec_…` secret and its sealed form (the agent id is the seal's context,
/// so a sealed secret moved to another row does not open).
pub(super) fn new_webhook_secret(state: &AppState, agent: &AgentId) -> Result<(String, Vec<u8>), ApiError> {
    let s = heepr_auth::new_secret(SecretKind::WebhookSecret).map_err(|e| ApiError::Blocking(e.to_string()))?;
    let sealed = state
        .server_key
        .seal(s.plaintext.as_bytes(), agent.as_str().as_bytes())
        .map_err(|e| ApiError::Blocking(e.to_string()))?;
    Ok((s.plaintext, sealed))
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MarketWebhookView)]
pub(crate) struct WebhookView {
    webhook_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_secret: Option<String>,
}

fn market_only(caller: &Caller) -> Result<(), ApiError> {
    if caller.0.heepr {
        return Err(ApiError::Forbidden {
            code: "heepr_agent",
            message: "heepr agents receive work as events (GET /api/events), not webhooks",
        });
    }
    Ok(())
}

pub(crate) async fn get(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, CompatError> {
    market_only(&caller)?;
    let store = state.store.clone();
    let p = caller.0;
    let (me, balance) = blocking(move || Ok((store.market_me(&p)?, store.market_balance(&p.agent)?))).await?;
    let url = me.private.and_then(|p| p.webhook_url);
    let view = WebhookView {
        webhook_url: url.as_deref().map(mask),
        webhook_secret: None,
    };
    Ok(Success::new(view, Some(balance)).respond(StatusCode::OK))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = MarketSetWebhook)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetWebhook {
    webhook_url: Option<String>,
}

/// Sets the URL (a new secret each time, shown in this answer only) or, with `null`
/// or `""`, removes it.
pub(crate) async fn put(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<SetWebhook>,
) -> Result<HttpResponse, CompatError> {
    market_only(&caller)?;
    let p = caller.0;
    let url = body.into_inner().webhook_url.filter(|u| !u.trim().is_empty());
    let set = match url {
        None => None,
        Some(u) => {
            let u = check_url("webhook_url", &u, state.config.market.outbound.allow_http)
                .map_err(heepr_store::StoreError::from)?;
            checked_url(&state, "webhook_url", &u)?;
            let (plain, sealed) = new_webhook_secret(&state, &p.agent)?;
            Some((u, plain, sealed))
        }
    };
    let view = WebhookView {
        webhook_url: set.as_ref().map(|(u, _, _)| mask(u)),
        webhook_secret: set.as_ref().map(|(_, plain, _)| plain.clone()),
    };
    let store = state.store.clone();
    let agent = p.agent.clone();
    let balance = blocking(move || {
        store.set_market_webhook(&agent, set.map(|(u, _, sealed)| (u, sealed)))?;
        Ok(store.market_balance(&agent)?)
    })
    .await?;
    Ok(Success::new(view, Some(balance)).respond(StatusCode::OK))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeliveriesQuery {
    limit: Option<u64>,
    cursor: Option<String>,
}

/// One delivery in the caller's log (its URL masked like the webhook's).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MarketDeliveryView)]
pub(crate) struct DeliveryView {
    id: String,
    event: String,
    task_id: String,
    url: String,
    status: &'static str,
    attempts: i32,
    last_status: Option<i32>,
    last_error: Option<String>,
    created_at: String,
    next_attempt_at: Option<String>,
    delivered_at: Option<String>,
}

impl From<&Delivery> for DeliveryView {
    fn from(d: &Delivery) -> Self {
        let time = |t: heepr_domain::Timestamp| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Self {
            id: d.id.clone(),
            event: d.event.clone(),
            task_id: d.task_id.clone(),
            url: mask(&d.url),
            status: d.status.as_str(),
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error.clone(),
            created_at: time(d.created_at),
            next_attempt_at: d.next_attempt_at.map(time),
            delivered_at: d.delivered_at.map(time),
        }
    }
}

/// A delivery id as issued (`whd_` and a ULID); anything else names nothing.
fn delivery_id(raw: &str) -> Option<&str> {
    raw.strip_prefix("whd_")
        .filter(|u| u.len() == 26 && u.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(|_| raw)
}

/// `GET agents/me/webhook/deliveries`: the caller's deliveries, newest first.
pub(crate) async fn deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<DeliveriesQuery>,
) -> Result<HttpResponse, CompatError> {
    market_only(&caller)?;
    let q = q.into_inner();
    let limit = super::page_limit(q.limit)?;
    let cursor = q.cursor.filter(|c| delivery_id(c).is_some());
    let store = state.store.clone();
    let agent = caller.0.agent;
    let (page, balance) = blocking(move || {
        let page = store.webhook_deliveries(&agent, limit, cursor.as_deref())?;
        Ok((page, store.market_balance(&agent)?))
    })
    .await?;
    let data: Vec<DeliveryView> = page.items.iter().map(DeliveryView::from).collect();
    Ok(Success::page(data, Some(balance), page.next).respond(StatusCode::OK))
}

/// `POST agents/me/webhook/deliveries/{id}/retry`: queues one of the caller's
/// deliveries again, due now (404 for anyone else's).
pub(crate) async fn retry(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, CompatError> {
    market_only(&caller)?;
    let id = path.into_inner();
    delivery_id(&id).ok_or(ApiError::NotFound)?;
    let (store, now) = (state.store.clone(), state.now());
    let agent = caller.0.agent;
    let (d, balance) = blocking(move || {
        let d = store.retry_webhook_delivery(&agent, &id, now)?;
        Ok((d, store.market_balance(&agent)?))
    })
    .await?;
    Ok(Success::new(DeliveryView::from(&d), Some(balance)).respond(StatusCode::OK))
}
