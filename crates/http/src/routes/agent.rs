//! The agent's API (bearer key): register, skill, events, status; and the bootstrap link
//! that hands a runtime its Skill Setup.

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::principal::{AgentKey, scheme_token, well_formed};
use crate::skill;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_auth::SecretKind;
use heepr_domain::{Actor, Command, OrderId};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Register {
    agent_id: String,
}

/// `Authorization: Bootstrap bs_…` + `{"agent_id"}` → a perpetual API key, shown once.
/// Never replayed through Idempotency-Key: its answer holds a secret.
pub(crate) async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<Register>,
) -> Result<HttpResponse, ApiError> {
    let token = scheme_token(&req, "Bootstrap")?;
    let unknown = ApiError::Store(heepr_store::StoreError::Register(
        heepr_domain::agent::RegisterError::Unknown,
    ));
    if !well_formed(token, SecretKind::Bootstrap) {
        return Err(unknown);
    }
    let agent_id = body.into_inner().agent_id;
    if heepr_domain::AgentId::parse(&agent_id).is_none() {
        return Err(unknown);
    }
    let token_hash = heepr_auth::secret_hash(token);
    let key = heepr_auth::new_secret(SecretKind::ApiKey).map_err(|e| ApiError::Blocking(e.to_string()))?;
    let ttl = state.config.key_ttl_days.map(chrono::Duration::days);
    let store = state.store.clone();
    let now = state.now();
    let key_hash = key.hash.clone();
    let id = blocking(move || Ok(store.register_agent(&token_hash, &agent_id, &key_hash, ttl, now)?)).await?;
    tracing::info!(agent = %id, "agent registered");
    Ok(HttpResponse::Created().json(json!({ "agent_id": id, "api_key": key.plaintext })))
}

/// `GET /api/setup/{secret}`, the bootstrap link (no login: its secret is the
/// capability). The first fetch mints a fresh bootstrap token (voiding earlier unused
/// ones) and answers the Skill Setup zip with it; every later fetch, or one of an expired
/// or voided link, is `410` and carries no token.
pub(crate) async fn setup(state: web::Data<AppState>, secret: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let secret = secret.into_inner();
    if !well_formed(&secret, SecretKind::SetupLink) {
        return Err(heepr_store::StoreError::SetupLink(heepr_domain::agent::SetupLinkError::Unknown).into());
    }
    let link_hash = heepr_auth::secret_hash(&secret);
    let token = heepr_auth::new_secret(SecretKind::Bootstrap).map_err(|e| ApiError::Blocking(e.to_string()))?;
    let store = state.store.clone();
    let now = state.now();
    let token_hash = token.hash.clone();
    let a = blocking(move || Ok(store.redeem_setup_link(&link_hash, &token_hash, now)?)).await?;
    let zip = skill::render(&state, &a)?
        .bundle_zip(Some(&token.plaintext))
        .map_err(|e| ApiError::Blocking(format!("skill bundle: {e}")))?;
    tracing::info!(agent = %a.id, "bootstrap link used: Skill Setup handed out");
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"heepr-skill-{}.zip\"", a.id),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(zip))
}

fn etag_matches(req: &HttpRequest, hash: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/").trim_matches('"') == hash || t.trim() == "*")
        })
}

/// SKILL.md (without a token) and the content hash; `If-None-Match` → 304.
/// Also how STEP 0 validates a key: it drains nothing.
pub(crate) async fn skill(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: AgentKey,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let id = key.0.agent_id.to_string();
    let a = blocking(move || Ok(store.agent(&id)?)).await?;
    let package = skill::render(&state, &a)?;
    let etag = format!("\"{}\"", package.content_hash);
    if etag_matches(&req, &package.content_hash) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish());
    }
    let body = package.file("SKILL.md").map(|f| f.content.as_str()).unwrap_or_default();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(SkillView {
            body,
            content_hash: &package.content_hash,
        }))
}

/// `GET /api/skill`: SKILL.md as listed in skill.json, and the package's hash.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SkillView<'a> {
    body: &'a str,
    content_hash: &'a str,
}

/// One file of the agent's own package; anyone else's is 404, like an unknown file.
pub(crate) async fn skill_file(
    state: web::Data<AppState>,
    key: AgentKey,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, file) = path.into_inner();
    if id != key.0.agent_id.as_str() || !heepr_skill::is_package_file(&file) {
        return Err(ApiError::NotFound);
    }
    let store = state.store.clone();
    let a = blocking(move || Ok(store.agent(&id)?)).await?;
    let package = skill::render(&state, &a)?;
    let content = package.file(&file).ok_or(ApiError::NotFound)?.content.clone();
    let ct = if file.ends_with(".json") {
        "application/json"
    } else {
        "text/markdown; charset=utf-8"
    };
    Ok(HttpResponse::Ok()
        .content_type(ct)
        .insert_header((header::ETAG, format!("\"{}\"", package.content_hash)))
        .body(content))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    since: Option<String>,
    /// Long-poll for up to this many seconds (1–60). Not a number: 400 `bad_query`.
    wait: Option<i64>,
}

/// The longest a long-poll waits (SPEC §16).
const MAX_WAIT_SECS: i64 = 60;

/// The poll, which is also the heartbeat. Nothing pending → exactly `{}`. With `wait`, a
/// long-poll: answered as soon as an event for the agent is committed, `{}` at the
/// time-out.
pub(crate) async fn events(
    state: web::Data<AppState>,
    key: AgentKey,
    q: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let agent = key.0.agent_id;
    let EventsQuery { since, wait } = q.into_inner();
    let Some(wait) = wait else {
        let answer = poll_once(&state, &agent, since).await?;
        count_poll(answer.is_some());
        return Ok(answer.unwrap_or_else(empty));
    };
    if !(1..=MAX_WAIT_SECS).contains(&wait) {
        return Err(ApiError::invalid(
            "wait",
            "must be a whole number of seconds from 1 to 60",
        ));
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(wait.unsigned_abs());
    // Registered before the first look, so an event committed in between still wakes it.
    let mut waiting = state.store.wait_for_events(&agent);
    if waiting.start_sweeper() {
        sweep_waiting_agents(state.clone());
    }
    loop {
        if let Some(answer) = poll_once(&state, &agent, since.clone()).await? {
            count_poll(true);
            return Ok(answer);
        }
        // Waiting holds no connection and no thread: only this future and the wake-up.
        if tokio::time::timeout_at(deadline, waiting.woken()).await.is_err() {
            break;
        }
    }
    state.store.heartbeat(&agent, state.now());
    count_poll(false);
    Ok(empty())
}

/// One answered poll, idle or with events (a long poll counts once, however often it
/// looked).
fn count_poll(with_events: bool) {
    let result = if with_events { "events" } else { "idle" };
    metrics::counter!("heepr_polls_total", "result" => result).increment(1);
}

/// One look for events: `None` when nothing is pending (answered from memory when the
/// agent's watermark is fresh, so the idle poll makes no database round trip).
async fn poll_once(
    state: &web::Data<AppState>,
    agent: &heepr_domain::AgentId,
    since: Option<String>,
) -> Result<Option<HttpResponse>, ApiError> {
    let now = state.now();
    if since.is_none() && state.store.idle_poll_from_cache(agent, now) {
        return Ok(None);
    }
    let store = state.store.clone();
    let id = agent.clone();
    let batch = blocking(move || Ok(store.poll_events(&id, since.as_deref(), now)?)).await?;
    if batch.events.is_empty() {
        return Ok(None);
    }
    Ok(Some(HttpResponse::Ok().json(EventsView {
        events: batch.events,
        next: batch.next,
    })))
}

/// A poll's answer when something was pending.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct EventsView {
    events: Vec<serde_json::Value>,
    next: Option<String>,
}

/// While anyone long-polls, re-checks the waiting agents' watermarks once a second, so
/// events committed by another instance (several servers on one database) wake their
/// polls within about a second. Ends when nobody waits.
fn sweep_waiting_agents(state: web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let store = state.store.clone();
            match blocking(move || Ok(store.sweep_waiting()?)).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => tracing::warn!(error = %e, "long-poll sweep failed; retrying in a second"),
            }
        }
    });
}

fn empty() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body("{}")
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Status {
    status: Option<String>,
    order_id: Option<String>,
    progress: Option<i64>,
    note: Option<String>,
}

/// `{"status": "active"|"paused"}` and/or `{"order_id", "progress", "note"}`.
pub(crate) async fn status(
    state: web::Data<AppState>,
    key: AgentKey,
    body: web::Json<Status>,
) -> Result<HttpResponse, ApiError> {
    let agent = key.working()?;
    let body = body.into_inner();
    let invalid = |field: &str, message: &str| ApiError::invalid(field, message);
    let paused = match body.status.as_deref() {
        None => None,
        Some("active") => Some(false),
        Some("paused") => Some(true),
        Some(_) => return Err(invalid("status", "must be active or paused")),
    };
    let progress = match (&body.order_id, body.progress) {
        (None, None) => None,
        (Some(o), Some(p)) => {
            let order = OrderId::parse(o).ok_or_else(|| ApiError::NotFound)?;
            let pct = u8::try_from(p)
                .ok()
                .and_then(heepr_domain::Percent::new)
                .ok_or_else(|| invalid("progress", "must be between 0 and 100"))?;
            Some((order, pct))
        }
        (None, Some(_)) => return Err(invalid("order_id", "progress needs an order_id")),
        (Some(_), None) => return Err(invalid("progress", "order_id needs a progress")),
    };
    if paused.is_none() && progress.is_none() {
        return Err(invalid("status", "send a status, or an order_id with a progress"));
    }
    heepr_domain::MultiLine::optional(
        "note",
        body.note.as_deref(),
        heepr_domain::limits::STATUS_NOTE_MAX_CHARS,
    )?;
    let store = state.store.clone();
    let policy = state.policy.clone();
    let now = state.now();
    let id = agent.agent_id.clone();
    let (status, progress) = blocking(move || {
        let status = match paused {
            Some(p) => Some(store.set_agent_paused(None, id.as_str(), p, now)?.status.as_str()),
            None => None,
        };
        let progress = match progress {
            Some((order, pct)) => {
                let o = store.order(&order)?;
                if o.agent != id {
                    return Err(ApiError::NotFound);
                }
                Some(
                    store
                        .order_command(&order, Actor::Agent, Command::Progress(pct), &policy, now)?
                        .progress,
                )
            }
            None => None,
        };
        Ok((status, progress))
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "status": status, "progress": progress })))
}
