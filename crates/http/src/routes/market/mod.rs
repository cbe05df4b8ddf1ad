//! The AgentMarket-compatible surface (seed 004, SPEC §12, §16), mounted under
//! `/compat/agentmarket/api`: a client written for AgentMarket only changes its base
//! URL. Same core, same ledger; its own envelope:
//! `{"success": true, "data": …, "balance": n}` and
//! `{"success": false, "error": "<message>", "code": "<machine code>"}`.

mod agents;
mod envelope;
mod execute;
mod principal;
mod tasks;
mod webhook;

pub(crate) use envelope::{CompatError, Failure};
pub use execute::LlmConfig;

use crate::openapi::op::op;
use crate::openapi::table::Table;
use actix_web::web;

/// The board's settings.
#[derive(Debug, Clone)]
pub struct MarketConfig {
    /// Fee, starter credits, task lifetime.
    pub policy: heepr_domain::market::MarketPolicy,
    /// Limits and guard of calls to agents' URLs (webhooks and `endpoint_url`).
    pub outbound: heepr_outbound::Policy,
    /// The operator's chat-completions endpoint for `system_prompt` agents.
    pub llm: Option<LlmConfig>,
    /// Open registrations per client address per hour.
    pub register_limit: u32,
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self {
            policy: heepr_domain::market::MarketPolicy::default(),
            outbound: heepr_outbound::Policy::default(),
            llm: None,
            register_limit: 20,
        }
    }
}

impl MarketConfig {
    /// How old a running execution must be before the scheduler refunds it: its call
    /// has timed out by then (plus a margin for the settle itself).
    pub fn abandon_after(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.outbound.timeout).unwrap_or_default() + chrono::Duration::seconds(30)
    }
}

/// The board's outbound clients, built once.
#[derive(Clone)]
pub struct MarketClients {
    /// For agents' URLs: the SSRF guard on.
    pub guarded: heepr_outbound::Outbound,
    /// For the operator's LLM URL: bounds only.
    pub unguarded: heepr_outbound::Outbound,
}

impl MarketClients {
    /// Builds both clients from the config.
    pub fn new(cfg: &MarketConfig) -> Result<Self, heepr_outbound::OutboundError> {
        Ok(Self {
            guarded: heepr_outbound::Outbound::guarded(cfg.outbound.clone())?,
            unguarded: heepr_outbound::Outbound::unguarded(cfg.outbound.clone())?,
        })
    }
}

/// Where the surface is mounted.
pub(crate) const PREFIX: &str = "/compat/agentmarket/api";

pub(crate) fn configure(cfg: &mut web::ServiceConfig, json_limit: usize) {
    let scope = web::scope(PREFIX)
        .app_data(
            web::JsonConfig::default()
                .limit(json_limit)
                .error_handler(envelope::json_error),
        )
        .app_data(web::QueryConfig::default().error_handler(envelope::query_error));
    let mut t = Table::scoped(PREFIX, scope);
    table(&mut t);
    if let Some(scope) = t.into_scope() {
        cfg.service(scope.default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(CompatError(crate::error::ApiError::NotFound))
        })));
    }
}

/// The board's routes.
pub(crate) fn table(t: &mut Table<'_>) {
    use crate::openapi::op::Auth::{MarketKey as Key, MarketKeyOptional as MaybeKey, Public};
    t.post(
        "/agents/register",
        agents::register,
        op("agentmarket", "Register an agent (returns its API key once)", Public)
            .body::<agents::Register>()
            .compat::<agents::Registered>(201, false, "the agent and its key")
            .errors(&[409, 429]),
    )
    .get(
        "/agents",
        agents::list,
        op("agentmarket", "Browse agents", MaybeKey)
            .query::<agents::ListQuery>()
            .compat::<agents::AgentView>(200, true, "a page of agents"),
    )
    .get(
        "/agents/me",
        agents::me,
        op("agentmarket", "The calling agent", Key).compat::<agents::MeView>(
            200,
            false,
            "the agent, with its private settings",
        ),
    )
    .get(
        "/agents/me/webhook",
        webhook::get,
        op("agentmarket", "The webhook", Key).compat::<webhook::WebhookView>(200, false, "the webhook"),
    )
    .put(
        "/agents/me/webhook",
        webhook::put,
        op("agentmarket", "Set or clear the webhook", Key)
            .body::<webhook::SetWebhook>()
            .compat::<webhook::WebhookView>(200, false, "the webhook (secret shown once)"),
    )
    .get(
        "/agents/me/webhook/deliveries",
        webhook::deliveries,
        op("agentmarket", "The webhook's delivery log", Key)
            .query::<webhook::DeliveriesQuery>()
            .compat::<webhook::DeliveryView>(200, true, "a page of deliveries"),
    )
    .post(
        "/agents/me/webhook/deliveries/{id}/retry",
        webhook::retry,
        op("agentmarket", "Retry a failed delivery", Key)
            .compat::<webhook::DeliveryView>(200, false, "the delivery")
            .errors(&[409]),
    )
    .post(
        "/agents/me/key/rotate",
        agents::rotate_key,
        op("agentmarket", "Rotate the API key", Key).compat::<agents::Rotated>(200, false, "the new key"),
    )
    .get(
        "/agents/{id}",
        agents::get,
        op("agentmarket", "An agent", MaybeKey).compat::<agents::AgentView>(200, false, "the agent"),
    )
    .post(
        "/tasks",
        tasks::post,
        op("agentmarket", "Post a task (escrows its budget)", Key)
            .body::<tasks::Post>()
            .compat::<tasks::TaskView>(201, false, "the task")
            .errors(&[402, 409]),
    )
    .get(
        "/tasks",
        tasks::list,
        op("agentmarket", "Browse tasks", MaybeKey)
            .query::<tasks::ListQuery>()
            .compat::<tasks::TaskView>(200, true, "a page of tasks"),
    )
    .get(
        "/tasks/{id}",
        tasks::get,
        op("agentmarket", "A task", MaybeKey).compat::<tasks::TaskView>(200, false, "the task"),
    )
    .post(
        "/tasks/{id}/accept",
        tasks::accept,
        op("agentmarket", "Accept a task", Key)
            .compat::<tasks::TaskView>(200, false, "the task")
            .errors(&[409]),
    )
    .post(
        "/tasks/{id}/complete",
        tasks::complete,
        op("agentmarket", "Complete a task (releases its budget)", Key)
            .body::<tasks::Complete>()
            .compat::<tasks::TaskView>(200, false, "the task")
            .errors(&[409]),
    )
    .post(
        "/tasks/{id}/cancel",
        tasks::cancel,
        op("agentmarket", "Cancel an open task (refunds it)", Key)
            .compat::<tasks::TaskView>(200, false, "the task")
            .errors(&[409]),
    )
    .get(
        "/wallet",
        agents::wallet,
        op("agentmarket", "The calling agent's credits", Key).compat::<agents::Wallet>(200, false, "the balance"),
    )
    .post(
        "/execute",
        execute::execute,
        op("agentmarket", "Pay an agent and run it now", Key)
            .body::<execute::Execute>()
            .compat::<execute::Executed>(200, false, "the result")
            .errors(&[402, 409, 502]),
    );
}

/// A list's `limit`: 1–100, 20 when absent (422 outside the range).
fn page_limit(limit: Option<u64>) -> Result<usize, crate::error::ApiError> {
    match limit {
        None => Ok(20),
        Some(n @ 1..=100) => Ok(usize::try_from(n).unwrap_or(100)),
        Some(_) => Err(crate::error::ApiError::invalid("limit", "must be from 1 to 100")),
    }
}

/// A whole number of credits from JSON: a fraction or a value past `i64` is a 422
/// naming the field, not a parse error.
fn whole(field: &str, n: &serde_json::Number) -> Result<i64, crate::error::ApiError> {
    n.as_i64()
        .ok_or_else(|| crate::error::ApiError::invalid(field, format!("must be a whole number up to {}", i64::MAX)))
}

/// A URL heepr will call later: refused now (422) if the outbound guard would refuse
/// it (scheme, a literal private address, `localhost`); the guard checks again on
/// every connect.
fn checked_url(state: &crate::app::AppState, field: &str, url: &str) -> Result<(), crate::error::ApiError> {
    state
        .market
        .guarded
        .check_url(url)
        .map(drop)
        .map_err(|e| crate::error::ApiError::invalid(field, e.to_string()))
}

/// A `capability` filter from the query string (422 if it is not one).
fn capability(raw: Option<&str>) -> Result<Option<heepr_domain::market::Capability>, crate::error::ApiError> {
    raw.map(|c| heepr_domain::market::Capability::parse("capability", c))
        .transpose()
        .map_err(|e| heepr_store::StoreError::from(e).into())
}

/// Runs a read on the blocking pool, with the caller's balance when a key came with it
/// (every authenticated answer carries one).
async fn with_balance<T: Send + 'static>(
    state: &actix_web::web::Data<crate::app::AppState>,
    who: Option<&heepr_domain::AgentId>,
    read: impl FnOnce(&heepr_store::Store) -> heepr_store::Result<T> + Send + 'static,
) -> Result<(T, Option<i64>), crate::error::ApiError> {
    let store = state.store.clone();
    let who = who.cloned();
    crate::error::blocking(move || {
        let value = read(&store)?;
        let balance = who.map(|a| store.market_balance(&a)).transpose()?;
        Ok((value, balance))
    })
    .await
}
