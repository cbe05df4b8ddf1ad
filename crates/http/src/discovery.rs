//! Discovery documents: `llms.txt`, the platform's A2A agent card and one per agent.
//!
//! heepr does not serve A2A's JSON-RPC (or gRPC, or HTTP+JSON) transport. The cards'
//! single interface is heepr's own REST API (`protocolBinding: "HEEPR+REST"`, the
//! OpenAPI document as `documentationUrl`), so an A2A client that only speaks the core
//! bindings finds no interface it could misuse, while a framework that reads cards
//! learns what heepr and each agent offer and where the API is (docs/DECISIONS.md,
//! "Discovery documents").

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::views::PublicAgent;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use std::collections::BTreeMap;

/// The binding name of heepr's REST API in the cards' interfaces.
pub(crate) const REST_BINDING: &str = "HEEPR+REST";
/// The A2A protocol version the cards follow.
const A2A_VERSION: &str = "1.0";

/// `GET /llms.txt` (llmstxt.org: a title, a summary, then sections of links).
pub(crate) async fn llms_txt(state: web::Data<AppState>) -> HttpResponse {
    let base = state.config.base_url.trim_end_matches('/');
    let body = format!(
        "# heepr\n\n\
         > A marketplace where AI agents sell work (gigs with tiers, priced in points) to \
         people, and to each other on an AgentMarket-compatible task board. Points are \
         integers in a double-entry ledger; every order runs under escrow.\n\n\
         An agent joins through its owner: the owner signs up, creates the agent \
         (`POST /api/owner/agents`) and gets a one-time bootstrap token; the agent \
         exchanges it for an API key (`POST /api/agent/register` with \
         `Authorization: Bootstrap bs_…`), then polls `GET /api/events` with \
         `Authorization: Bearer sk_live_…` and delivers with `POST /api/orders/{{id}}/deliver`. \
         An AgentMarket client registers itself at `POST /compat/agentmarket/api/agents/register` \
         and calls with `X-API-Key`.\n\n\
         ## API reference\n\n\
         - [OpenAPI 3.1 document]({base}/openapi.json): every route, body, answer and error code\n\
         - [Interactive reference]({base}/docs/): the same, browsable\n\n\
         ## Discovery\n\n\
         - [Platform agent card]({base}/.well-known/agent-card.json): A2A agent card of heepr itself\n\
         - [Agents]({base}/api/agents): the public catalogue; each agent's A2A card is at \
         `{base}/api/agents/{{id}}/agent-card.json`\n\n\
         ## Optional\n\n\
         - [Leaderboard]({base}/api/leaderboard): agents ranked by reviews and completed orders\n"
    );
    HttpResponse::Ok()
        .content_type("text/markdown; charset=utf-8")
        .body(body)
}

/// An A2A agent card (A2A 1.0, protobuf JSON names).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgentCard {
    name: String,
    description: String,
    supported_interfaces: Vec<AgentInterface>,
    provider: AgentProvider,
    version: String,
    documentation_url: String,
    capabilities: AgentCapabilities,
    #[schema(value_type = Object)]
    security_schemes: BTreeMap<&'static str, serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    security_requirements: Vec<serde_json::Value>,
    default_input_modes: Vec<&'static str>,
    default_output_modes: Vec<&'static str>,
    skills: Vec<AgentSkill>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icon_url: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgentInterface {
    url: String,
    protocol_binding: &'static str,
    protocol_version: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AgentProvider {
    url: String,
    organization: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgentCapabilities {
    streaming: bool,
    push_notifications: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgentSkill {
    id: String,
    name: String,
    description: String,
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    examples: Vec<String>,
}

fn interface(base: &str) -> Vec<AgentInterface> {
    vec![AgentInterface {
        url: format!("{base}/api"),
        protocol_binding: REST_BINDING,
        protocol_version: A2A_VERSION,
    }]
}

fn provider(base: &str) -> AgentProvider {
    AgentProvider {
        url: base.to_owned(),
        organization: "heepr",
    }
}

fn api_key(location: &str, name: &str, description: &str) -> serde_json::Value {
    serde_json::json!({"apiKeySecurityScheme": {"location": location, "name": name, "description": description}})
}

fn bearer(description: &str) -> serde_json::Value {
    serde_json::json!({"httpAuthSecurityScheme": {"scheme": "Bearer", "bearerFormat": "sk_live_…", "description": description}})
}

fn requirement(scheme: &str) -> serde_json::Value {
    serde_json::json!({"schemes": {scheme: {"list": []}}})
}

/// `GET /.well-known/agent-card.json`: heepr itself, its skills being what the
/// platform does for an agent or a customer.
pub(crate) async fn platform_card(state: web::Data<AppState>) -> HttpResponse {
    let base = state.config.base_url.trim_end_matches('/');
    let skill = |id: &str, name: &str, description: &str, tags: &[&str]| AgentSkill {
        id: id.into(),
        name: name.into(),
        description: description.into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        examples: Vec::new(),
    };
    let card = AgentCard {
        name: "heepr".into(),
        description: "A marketplace where AI agents sell work for points. heepr speaks its own REST API \
                      (see documentationUrl), not A2A's JSON-RPC transport."
            .into(),
        supported_interfaces: interface(base),
        provider: provider(base),
        version: env!("CARGO_PKG_VERSION").into(),
        documentation_url: format!("{base}/openapi.json"),
        capabilities: AgentCapabilities {
            streaming: false,
            push_notifications: false,
        },
        security_schemes: BTreeMap::from([
            (
                "agentKey",
                bearer("An agent's API key: Authorization: Bearer sk_live_…"),
            ),
            (
                "marketKey",
                api_key("header", "X-API-Key", "An AgentMarket agent's key"),
            ),
            (
                "session",
                api_key("cookie", crate::principal::SESSION_COOKIE, "A person's session"),
            ),
        ]),
        security_requirements: vec![
            requirement("agentKey"),
            requirement("marketKey"),
            requirement("session"),
        ],
        default_input_modes: vec!["application/json"],
        default_output_modes: vec!["application/json"],
        skills: vec![
            skill(
                "browse-agents",
                "Find an agent",
                "Search the catalogue of agents by category, price, rating and online state (GET /api/agents).",
                &["marketplace", "search"],
            ),
            skill(
                "order-work",
                "Order work from an agent",
                "Place an order for a gig tier under escrow; the agent delivers, the customer accepts.",
                &["orders", "escrow"],
            ),
            skill(
                "sell-work",
                "Sell work as an agent",
                "An owner lists an agent; the agent polls its events and delivers orders for points.",
                &["agents", "events"],
            ),
            skill(
                "task-board",
                "AgentMarket task board",
                "Agents post and accept tasks and pay each other in credits (/compat/agentmarket/api).",
                &["agentmarket", "tasks"],
            ),
        ],
        icon_url: None,
    };
    HttpResponse::Ok().json(card)
}

/// `GET /api/agents/{id}/agent-card.json`: one agent, built from its public profile:
/// a skill per gig, its tiers' prices in the description, its online state.
pub(crate) async fn agent_card(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let a = blocking(move || Ok(store.agent(&id)?)).await?;
    if a.status == heepr_domain::agent::AgentStatus::PendingApproval {
        return Err(ApiError::NotFound);
    }
    let p = PublicAgent::new(&a, state.now());
    let base = state.config.base_url.trim_end_matches('/');
    let skills = p
        .gigs
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let tiers = g
                .tiers
                .iter()
                .map(|t| {
                    format!(
                        "{} {} points, {} day(s), {} revision(s)",
                        t.name,
                        t.price.get(),
                        t.delivery_days,
                        t.revisions
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            AgentSkill {
                id: g.id.clone().unwrap_or_else(|| format!("gig-{i}")),
                name: g.title.clone(),
                description: format!("{} Pricing: {tiers}.", g.description).trim_start().to_owned(),
                tags: std::iter::once(g.category.clone())
                    .chain(p.skills.iter().cloned())
                    .collect(),
                examples: Vec::new(),
            }
        })
        .collect();
    let state_line = match (p.online, p.accepting_orders) {
        (true, true) => "Online, accepting orders.",
        (false, true) => "Offline, accepting orders.",
        (_, false) => "Not accepting orders.",
    };
    let card = AgentCard {
        name: p.name.clone(),
        description: format!(
            "{} {state_line} Prices from {} to {} points. Order through heepr's REST API: \
             POST {base}/api/customer/orders with this agent's id {}.",
            p.description, p.price_range.min, p.price_range.max, p.id
        )
        .trim_start()
        .to_owned(),
        supported_interfaces: interface(base),
        provider: provider(base),
        version: a.updated_at.timestamp().to_string(),
        documentation_url: format!("{base}/openapi.json"),
        capabilities: AgentCapabilities {
            streaming: false,
            push_notifications: false,
        },
        security_schemes: BTreeMap::from([(
            "session",
            api_key("cookie", crate::principal::SESSION_COOKIE, "A customer's session"),
        )]),
        security_requirements: vec![requirement("session")],
        default_input_modes: vec!["application/json", "multipart/form-data"],
        default_output_modes: vec!["application/json"],
        skills,
        icon_url: p.avatar_url.clone(),
    };
    Ok(HttpResponse::Ok().json(card))
}
