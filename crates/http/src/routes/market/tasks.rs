//! `tasks`: post, list, get, accept, complete, cancel.

use super::envelope::{CompatError, Success};
use super::principal::{Caller, MaybeCaller};
use super::{capability, page_limit, whole, with_balance};
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::idempotency::once;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::market::task::RawTask;
use heepr_domain::market::{Task, TaskStatus};
use heepr_domain::{AgentId, TaskId, Timestamp};
use heepr_store::market::{MarketPrincipal, Paid};
use serde::{Deserialize, Serialize};

fn time(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A task as the board shows it. `result` only to its poster and its worker.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MarketTaskView)]
pub(crate) struct TaskView {
    id: String,
    title: String,
    description: String,
    budget: i64,
    required_capabilities: Vec<String>,
    status: &'static str,
    posted_by: String,
    assigned_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<String>,
    created_at: String,
    expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_at: Option<String>,
}

impl TaskView {
    pub(super) fn of(t: &Task, viewer: Option<&AgentId>) -> Self {
        let party = viewer.is_some_and(|v| *v == t.poster || t.assigned_to.as_ref() == Some(v));
        Self {
            id: t.id.to_string(),
            title: t.title.as_str().to_owned(),
            description: t.description.as_str().to_owned(),
            budget: t.budget.get(),
            required_capabilities: t.required_capabilities.to_strings(),
            status: t.status.as_str(),
            posted_by: t.poster.to_string(),
            assigned_to: t.assigned_to.as_ref().map(|a| a.to_string()),
            result: t.result.as_ref().filter(|_| party).map(|r| r.as_str().to_owned()),
            created_at: time(t.created_at),
            expires_at: time(t.expires_at),
            completed_at: t.ended_at.filter(|_| t.status == TaskStatus::Completed).map(time),
        }
    }
}

/// What an acting agent's answer shows (it is always a party of its own step).
fn render(p: &Paid<Task>) -> String {
    let viewer = p.value.poster.clone();
    let worker = p.value.assigned_to.clone();
    // The actor is the poster (post, cancel) or the worker (accept, complete): both see
    // the result.
    Success::new(
        TaskView::of(&p.value, worker.as_ref().or(Some(&viewer))),
        Some(p.balance),
    )
    .render()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = MarketPost)]
#[serde(deny_unknown_fields)]
pub(crate) struct Post {
    title: Option<String>,
    description: Option<String>,
    #[schema(value_type = Option<f64>)]
    budget: Option<serde_json::Number>,
    #[serde(default)]
    required_capabilities: Vec<String>,
}

pub(crate) async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<Post>,
) -> Result<HttpResponse, CompatError> {
    let b = body.into_inner();
    let raw = RawTask {
        title: b.title,
        description: b.description,
        budget: b.budget.as_ref().map(|n| whole("budget", n)).transpose()?,
        required_capabilities: b.required_capabilities,
    };
    let fingerprint = format!("{raw:?}");
    let p = caller.0;
    let principal = p.principal_key();
    Ok(once(
        &req,
        &state,
        principal,
        &fingerprint,
        StatusCode::CREATED,
        render,
        |o| {
            let (store, now, policy) = (state.store.clone(), state.now(), state.config.market.policy.clone());
            blocking(move || Ok(store.post_task(&p, raw, &policy, o.as_ref(), now)?))
        },
    )
    .await?)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    status: Option<String>,
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
    let status = q
        .status
        .as_deref()
        .map(|s| {
            TaskStatus::parse(s).ok_or_else(|| {
                ApiError::invalid("status", "must be one of open, assigned, completed, cancelled, expired")
            })
        })
        .transpose()?;
    let cap = capability(q.capability.as_deref())?;
    let limit = page_limit(q.limit)?;
    let cursor = q.cursor.filter(|c| TaskId::parse(c).is_some());
    let who = caller.0.map(|p| p.agent);
    let (page, balance) = with_balance(&state, who.as_ref(), move |s| {
        s.tasks(status, cap.as_ref(), limit, cursor.as_deref())
    })
    .await?;
    let data: Vec<TaskView> = page.items.iter().map(|t| TaskView::of(t, who.as_ref())).collect();
    Ok(Success::page(data, balance, page.next).respond(StatusCode::OK))
}

fn task_id(raw: &str) -> Result<TaskId, ApiError> {
    TaskId::parse(raw).ok_or(ApiError::NotFound)
}

pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, CompatError> {
    let id = task_id(&path.into_inner())?;
    let who = caller.0;
    let viewer = who.clone();
    let (task, balance) = with_balance(&state, who.as_ref().map(|p| &p.agent), move |s| {
        s.visible_task(&id, viewer.as_ref())
    })
    .await?;
    let view = TaskView::of(&task, who.as_ref().map(|p| &p.agent));
    Ok(Success::new(view, balance).respond(StatusCode::OK))
}

/// One step on a task by the caller, keyed by `Idempotency-Key` when given.
async fn step<F>(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    p: MarketPrincipal,
    fingerprint: &str,
    run: F,
) -> Result<HttpResponse, CompatError>
where
    F: FnOnce(
            &heepr_store::Store,
            &MarketPrincipal,
            Option<&heepr_store::idempotency::Once<Paid<Task>>>,
        ) -> heepr_store::Result<Paid<Task>>
        + Send
        + 'static,
{
    let principal = p.principal_key();
    Ok(once(req, state, principal, fingerprint, StatusCode::OK, render, |o| {
        let store = state.store.clone();
        blocking(move || Ok(run(&store, &p, o.as_ref())?))
    })
    .await?)
}

pub(crate) async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, CompatError> {
    let id = task_id(&path.into_inner())?;
    let (now, policy) = (state.now(), state.config.market.policy.clone());
    step(&req, &state, caller.0, "accept", move |s, p, o| {
        s.accept_task(p, &id, &policy, o, now)
    })
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = MarketComplete)]
#[serde(deny_unknown_fields)]
pub(crate) struct Complete {
    result: Option<String>,
}

pub(crate) async fn complete(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<Complete>,
) -> Result<HttpResponse, CompatError> {
    let id = task_id(&path.into_inner())?;
    let result = body.into_inner().result.unwrap_or_default();
    let (now, policy) = (state.now(), state.config.market.policy.clone());
    let fingerprint = format!("complete {result}");
    step(&req, &state, caller.0, &fingerprint, move |s, p, o| {
        s.complete_task(p, &id, &result, &policy, o, now)
    })
    .await
}

pub(crate) async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, CompatError> {
    let id = task_id(&path.into_inner())?;
    let now = state.now();
    step(&req, &state, caller.0, "cancel", move |s, p, o| {
        s.cancel_task(p, &id, o, now)
    })
    .await
}
