//! `agents/register`, `agents`, `agents/{id}`, `agents/me`, `agents/me/key/rotate`,
//! `wallet`.

use super::envelope::{CompatError, Success};
use super::principal::{Caller, MaybeCaller};
use super::webhook::{mask, new_webhook_secret};
use super::{capability, checked_url, page_limit, whole, with_balance};
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::ratelimit::Rule;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_auth::SecretKind;
use heepr_domain::AgentId;
use heepr_domain::market::RawRegistration;
use heepr_store::market::agents::{MarketAgent, new_agent_id};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = MarketRegister)]
#[serde(deny_unknown_fields)]
pub(crate) struct Register {
    name: Option<String>,
    description: Option<String>,
    capabilities: Option<Vec<String>>,
    #[schema(value_type = Option<f64>)]
    price_per_task: Option<serde_json::Number>,
    endpoint_url: Option<String>,
    system_prompt: Option<String>,
    webhook_url: Option<String>,
    owner_email: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MarketRegistered)]
pub(crate) struct Registered {
    id: String,
    name: String,
    api_key: String,
    capabilities: Vec<String>,
    price_per_task: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_url: Option<String>,
    /// Shown once, when a webhook URL was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_secret: Option<String>,
}

/// A public profile (seed: id, name, capabilities, price_per_task, reputation_score,
/// total_tasks).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MarketAgentView)]
pub(crate) struct AgentView {
    id: String,
    name: String,
    description: String,
    capabilities: Vec<String>,
    price_per_task: i64,
    reputation_score: f64,
    total_tasks: i64,
    executable: bool,
    created_at: String,
}

impl From<&MarketAgent> for AgentView {
    fn from(a: &MarketAgent) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name.clone(),
            description: a.description.clone(),
            capabilities: a.capabilities.clone(),
            price_per_task: a.price_per_task,
            reputation_score: a.reputation_score,
            total_tasks: a.total_tasks,
            executable: a.executable,
            created_at: a.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

/// The caller's own profile: the public one plus what only it sees.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MarketMeView)]
pub(crate) struct MeView {
    #[serde(flatten)]
    public: AgentView,
    kind: &'static str,
    endpoint_url: Option<String>,
    system_prompt: Option<String>,
    webhook_url: Option<String>,
    owner_email: Option<String>,
}

fn register_rule(state: &AppState) -> Rule {
    let n = state.config.market.register_limit;
    Rule {
        name: "am_register",
        window: chrono::Duration::hours(1),
        per_subject: n,
        per_client: n,
    }
}

pub(crate) async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<Register>,
) -> Result<HttpResponse, CompatError> {
    let b = body.into_inner();
    let allow_http = state.config.market.outbound.allow_http;
    let raw = RawRegistration {
        name: b.name,
        description: b.description,
        capabilities: b.capabilities,
        price_per_task: b
            .price_per_task
            .as_ref()
            .map(|n| whole("price_per_task", n))
            .transpose()?,
        endpoint_url: b.endpoint_url,
        system_prompt: b.system_prompt,
        webhook_url: b.webhook_url,
        owner_email: b.owner_email,
    };
    let new = raw.validate(allow_http).map_err(heepr_store::StoreError::from)?;
    for (field, url) in [("endpoint_url", &new.endpoint_url), ("webhook_url", &new.webhook_url)] {
        if let Some(u) = url {
            checked_url(&state, field, u)?;
        }
    }
    // Every registration counts (there is no "success" to give back).
    let client = state.config.trusted_proxies.client(&req);
    state
        .limiter
        .attempt(&register_rule(&state), None, client, state.now())
        .await?;
    let key = heepr_auth::new_secret(SecretKind::MarketKey).map_err(|e| ApiError::Blocking(e.to_string()))?;
    let id = new_agent_id();
    let secret = match &new.webhook_url {
        Some(_) => Some(new_webhook_secret(&state, &id)?),
        None => None,
    };
    let sealed = secret.as_ref().map(|(_, sealed)| sealed.clone());
    let (store, now, policy, key_hash) = (
        state.store.clone(),
        state.now(),
        state.config.market.policy.clone(),
        key.hash.clone(),
    );
    let new2 = new.clone();
    let paid = blocking(move || Ok(store.register_market_agent(&new2, &key_hash, sealed, id, &policy, now)?)).await?;
    let a = &paid.value;
    let view = Registered {
        id: a.id.to_string(),
        name: a.name.clone(),
        api_key: key.plaintext,
        capabilities: a.capabilities.clone(),
        price_per_task: a.price_per_task,
        webhook_url: new.webhook_url.as_deref().map(mask),
        webhook_secret: secret.map(|(plain, _)| plain),
    };
    Ok(Success::new(view, Some(paid.balance)).respond(StatusCode::CREATED))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    capability: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, CompatError> {
    let q = q.into_inner();
    let cap = capability(q.capability.as_deref())?;
    let limit = page_limit(q.limit)?;
    let cursor = q.cursor.filter(|c| AgentId::parse(c).is_some());
    let who = caller.0.map(|p| p.agent);
    let (page, balance) = with_balance(&state, who.as_ref(), move |s| {
        s.market_agents(cap.as_ref(), limit, cursor.as_deref())
    })
    .await?;
    let data: Vec<AgentView> = page.items.iter().map(AgentView::from).collect();
    Ok(Success::page(data, balance, page.next).respond(StatusCode::OK))
}

pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, CompatError> {
    let id = AgentId::parse(&path.into_inner()).ok_or(ApiError::NotFound)?;
    let who = caller.0.map(|p| p.agent);
    let (agent, balance) = with_balance(&state, who.as_ref(), move |s| s.market_agent(&id)).await?;
    Ok(Success::new(AgentView::from(&agent), balance).respond(StatusCode::OK))
}

pub(crate) async fn me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, CompatError> {
    let store = state.store.clone();
    let p = caller.0;
    let (agent, balance) = blocking(move || Ok((store.market_me(&p)?, store.market_balance(&p.agent)?))).await?;
    let private = agent.private.clone().unwrap_or_default();
    let view = MeView {
        public: AgentView::from(&agent),
        kind: if agent.heepr { "heepr" } else { "agentmarket" },
        endpoint_url: private.endpoint_url,
        system_prompt: private.system_prompt,
        webhook_url: private.webhook_url.as_deref().map(mask),
        owner_email: private.owner_email,
    };
    Ok(Success::new(view, Some(balance)).respond(StatusCode::OK))
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MarketRotated)]
pub(crate) struct Rotated {
    id: String,
    api_key: String,
}

/// A new key; the old one stops at once. heepr agents rotate through their owner.
pub(crate) async fn rotate_key(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, CompatError> {
    let p = caller.0;
    if p.heepr {
        return Err(ApiError::Forbidden {
            code: "heepr_agent",
            message: "a heepr agent's key is rotated by its owner (POST /api/owner/agents/{id}/rotate)",
        }
        .into());
    }
    let key = heepr_auth::new_secret(SecretKind::MarketKey).map_err(|e| ApiError::Blocking(e.to_string()))?;
    let (store, now, hash, agent) = (state.store.clone(), state.now(), key.hash.clone(), p.agent.clone());
    let balance = blocking(move || {
        store.rotate_market_key(&agent, &hash, now)?;
        Ok(store.market_balance(&agent)?)
    })
    .await?;
    let view = Rotated {
        id: p.agent.to_string(),
        api_key: key.plaintext,
    };
    Ok(Success::new(view, Some(balance)).respond(StatusCode::OK))
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MarketWallet)]
pub(crate) struct Wallet {
    agent_id: String,
    balance: i64,
}

pub(crate) async fn wallet(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, CompatError> {
    let store = state.store.clone();
    let agent = caller.0.agent;
    let a = agent.clone();
    let balance = blocking(move || Ok(store.market_balance(&a)?)).await?;
    let view = Wallet {
        agent_id: agent.to_string(),
        balance,
    };
    Ok(Success::new(view, Some(balance)).respond(StatusCode::OK))
}
