//! `POST execute`: hold the budget, call the target outside any transaction (bounded
//! in time and size, through the SSRF guard), then settle — paid on a 2xx with a
//! result, refunded on anything else.

use super::envelope::{CompatError, Success};
use super::principal::Caller;
use super::whole;
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::idempotency::claim_of;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::AgentId;
use heepr_domain::market::execute::{Outcome, RawExecution, Runner};
use heepr_domain::market::{Task, TaskStatus};
use heepr_outbound::Outbound;
use heepr_store::idempotency::{Claim, Once};
use heepr_store::market::Paid;
use heepr_store::market::execute::{ExecRequest, Held};
use serde::{Deserialize, Serialize};

/// The operator's OpenAI-compatible chat-completions endpoint (`HEEPR_LLM_*`).
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// The full endpoint URL (`…/v1/chat/completions`).
    pub url: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
    /// The `model` field.
    pub model: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = MarketExecute)]
#[serde(deny_unknown_fields)]
pub(crate) struct Execute {
    agent_id: Option<String>,
    task_description: Option<String>,
    #[schema(value_type = Option<f64>)]
    budget: Option<serde_json::Number>,
}

/// What the target's endpoint receives (SPEC §16).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MarketCallBody)]
pub(crate) struct CallBody<'a> {
    task_id: &'a str,
    task_description: &'a str,
    budget: i64,
    from_agent_id: &'a str,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = MarketCallAnswer)]
pub(crate) struct CallAnswer {
    result: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MarketExecuted)]
pub(crate) struct Executed {
    task_id: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct FailedAnswer {
    success: bool,
    error: String,
    code: &'static str,
    data: Executed,
    balance: i64,
}

/// The answer to a settled execution: the seed's success, or a 502 in the error
/// envelope that says what failed and that the budget came back.
fn render(p: &Paid<Task>) -> String {
    let t = &p.value;
    if t.status == TaskStatus::Completed {
        let data = Executed {
            task_id: t.id.to_string(),
            status: "completed",
            result: t.result.as_ref().map(|r| r.as_str().to_owned()),
        };
        return Success::new(data, Some(p.balance)).render();
    }
    let failed = FailedAnswer {
        success: false,
        error: format!(
            "{}; {} credits refunded",
            t.failure.as_deref().unwrap_or("the execution failed"),
            t.budget
        ),
        code: "execution_failed",
        data: Executed {
            task_id: t.id.to_string(),
            status: "failed",
            result: None,
        },
        balance: p.balance,
    };
    serde_json::to_string(&failed).unwrap_or_default()
}

fn status_of(p: &Paid<Task>) -> StatusCode {
    if p.value.status == TaskStatus::Completed {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    }
}

fn once(claim: &Option<Claim>, status: StatusCode) -> Option<Once<Paid<Task>>> {
    claim.clone().map(|claim| Once {
        claim,
        status: status.as_u16(),
        render,
    })
}

pub(crate) async fn execute(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<Execute>,
) -> Result<HttpResponse, CompatError> {
    let b = body.into_inner();
    let target = b.agent_id.as_deref().unwrap_or("");
    let target = AgentId::parse(target).ok_or_else(|| ApiError::invalid("agent_id", "name an agent's id"))?;
    let raw = RawExecution {
        task_description: b.task_description,
        budget: b.budget.as_ref().map(|n| whole("budget", n)).transpose()?,
    };
    let p = caller.0;
    let claim = claim_of(&req, p.principal_key(), &format!("{target} {raw:?}"))?;
    if let Some(c) = claim.clone() {
        let store = state.store.clone();
        if let Some(a) = blocking(move || Ok(store.stored_answer(&c)?)).await? {
            return Ok(
                HttpResponse::build(StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK))
                    .insert_header(("Idempotent-Replayed", "true"))
                    .content_type("application/json")
                    .body(a.body),
            );
        }
    }
    let (store, now, policy) = (state.store.clone(), state.now(), state.config.market.policy.clone());
    let llm = state.config.market.llm.is_some();
    let (by, hold_once) = (p.clone(), once(&claim, StatusCode::CONFLICT));
    let held = blocking(move || {
        let req = ExecRequest {
            target,
            raw,
            llm_configured: llm,
        };
        Ok(store.hold_execution(&by, req, &policy, hold_once.as_ref(), now)?)
    })
    .await;
    let held = match held {
        Ok(h) => h,
        Err(ApiError::Store(heepr_store::StoreError::Replayed(a))) => {
            return Ok(
                HttpResponse::build(StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK))
                    .insert_header(("Idempotent-Replayed", "true"))
                    .content_type("application/json")
                    .body(a.body),
            );
        }
        Err(e) => return Err(e.into()),
    };
    let outcome = run(&state, &held, &p.agent).await;
    tracing::info!(task = %held.task.id, ok = matches!(outcome, Outcome::Result(_)), "execution settled");
    let (store, now, policy) = (state.store.clone(), state.now(), state.config.market.policy.clone());
    let id = held.task.id.clone();
    let status = if matches!(outcome, Outcome::Result(_)) {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    let settle_once = once(&claim, status);
    let settled =
        blocking(move || Ok(store.settle_execution(&p, &id, outcome, &policy, settle_once.as_ref(), now)?)).await?;
    Ok(HttpResponse::build(status_of(&settled))
        .content_type("application/json")
        .body(render(&settled)))
}

/// Calls the target and says how it went; never fails (every failure is an outcome).
async fn run(state: &AppState, held: &Held, from: &AgentId) -> Outcome {
    match &held.runner {
        Runner::Endpoint(url) => call_endpoint(&state.market.guarded, url, held, from).await,
        Runner::Llm => match (&state.config.market.llm, &held.system_prompt) {
            (Some(llm), Some(prompt)) => call_llm(&state.market.unguarded, llm, prompt, held).await,
            _ => Outcome::Failed("no LLM provider is configured".into()),
        },
    }
}

async fn call_endpoint(client: &Outbound, url: &str, held: &Held, from: &AgentId) -> Outcome {
    let body = CallBody {
        task_id: held.task.id.as_str(),
        task_description: held.task.description.as_str(),
        budget: held.task.budget.get(),
        from_agent_id: from.as_str(),
    };
    let Ok(bytes) = serde_json::to_vec(&body) else {
        return Outcome::Failed("the call could not be encoded".into());
    };
    match client.post_json(url, &[], bytes).await {
        Err(e) => Outcome::Failed(format!("the agent's endpoint could not be called ({e})")),
        Ok(r) if !(200..300).contains(&r.status) => {
            Outcome::Failed(format!("the agent's endpoint answered HTTP {}", r.status))
        }
        Ok(r) => match serde_json::from_slice::<CallAnswer>(&r.body) {
            Ok(a) => Outcome::Result(a.result),
            Err(_) => Outcome::Failed("the agent's endpoint did not answer {\"result\": \"…\"} JSON".into()),
        },
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ChatRequest<'a> {
    model: &'a str,
    messages: [ChatMessage<'a>; 2],
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ChatMessage<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ChatResponse {
    choices: Vec<ChatChoice>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ChatChoice {
    message: ChatContent,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ChatContent {
    content: Option<String>,
}

async fn call_llm(client: &Outbound, llm: &LlmConfig, prompt: &str, held: &Held) -> Outcome {
    let req = ChatRequest {
        model: &llm.model,
        messages: [
            ChatMessage {
                role: "system",
                content: prompt,
            },
            ChatMessage {
                role: "user",
                content: held.task.description.as_str(),
            },
        ],
    };
    let Ok(bytes) = serde_json::to_vec(&req) else {
        return Outcome::Failed("the LLM request could not be encoded".into());
    };
    let headers: Vec<(&str, String)> = llm
        .api_key
        .iter()
        .map(|k| ("authorization", format!("Bearer {k}")))
        .collect();
    match client.post_json(&llm.url, &headers, bytes).await {
        Err(e) => Outcome::Failed(format!("the LLM provider could not be called ({})", e.code())),
        Ok(r) if !(200..300).contains(&r.status) => {
            Outcome::Failed(format!("the LLM provider answered HTTP {}", r.status))
        }
        Ok(r) => match serde_json::from_slice::<ChatResponse>(&r.body) {
            Ok(c) => match c.choices.into_iter().next().and_then(|c| c.message.content) {
                Some(text) => Outcome::Result(text),
                None => Outcome::Failed("the LLM provider answered no message".into()),
            },
            Err(_) => Outcome::Failed("the LLM provider's answer was not chat-completions JSON".into()),
        },
    }
}
