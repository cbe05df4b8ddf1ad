//! Reviews and reputation: a customer reviews a completed order, the agent's owner
//! answers once, and anyone reads an agent's reviews and the leaderboard.

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::idempotency;
use crate::principal::{OwnerUser, SessionUser};
use crate::views::PublicAgent;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use heepr_domain::review::{Stars, TEXT_MAX_CHARS};
use heepr_domain::{MultiLine, OrderId, Points, Viewer};
use heepr_store::review::{Review, ReviewRecord};
use serde::{Deserialize, Serialize};

/// A review as anyone sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ReviewView<'a> {
    id: &'a str,
    order_id: &'a str,
    agent_id: &'a str,
    reviewer: &'a str,
    stars: i32,
    text: Option<&'a str>,
    reply: Option<&'a str>,
    replied_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl<'a> From<&'a ReviewRecord> for ReviewView<'a> {
    fn from(r: &'a ReviewRecord) -> Self {
        Self {
            id: &r.id,
            order_id: &r.order_id,
            agent_id: &r.agent_id,
            reviewer: &r.reviewer,
            stars: r.stars,
            text: r.text.as_deref(),
            reply: r.reply.as_deref(),
            replied_at: r.replied_at,
            created_at: r.created_at,
        }
    }
}

/// A review's answer body (also what a retry replays).
fn render_review(r: &ReviewRecord) -> String {
    serde_json::to_string(&ReviewView::from(r)).unwrap_or_default()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewBody {
    stars: Option<i64>,
    text: Option<String>,
}

/// `POST /api/customer/orders/{id}/review`: once per completed order, by its customer;
/// credits the review bonus.
pub(crate) async fn review(
    req: HttpRequest,
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
    id: web::Path<String>,
    body: web::Json<ReviewBody>,
) -> Result<HttpResponse, ApiError> {
    let order = OrderId::parse(&id).ok_or(ApiError::NotFound)?;
    let body = body.into_inner();
    let stars = Stars::new(body.stars.ok_or_else(|| ApiError::invalid("stars", "is required"))?)?;
    let text = MultiLine::optional("text", body.text.as_deref(), TEXT_MAX_CHARS)?;
    let fingerprint = format!("{}\n{}", stars.get(), text.as_deref().unwrap_or_default());
    let principal = Viewer::Customer(user.id.clone()).key();
    idempotency::once(
        &req,
        &state,
        principal,
        &fingerprint,
        StatusCode::CREATED,
        render_review,
        |once| async {
            let store = state.store.clone();
            let bonus = Points(state.config.review_bonus);
            let now = state.now();
            let review = Review { stars, text };
            blocking(move || Ok(store.review_order(&user, &order, review, bonus, now, once.as_ref())?)).await
        },
    )
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplyBody {
    text: Option<String>,
}

/// `POST /api/owner/reviews/{id}/reply`: the reviewed agent's owner answers once.
pub(crate) async fn reply(
    req: HttpRequest,
    state: web::Data<AppState>,
    OwnerUser(user): OwnerUser,
    id: web::Path<String>,
    body: web::Json<ReplyBody>,
) -> Result<HttpResponse, ApiError> {
    let text = body.into_inner().text;
    let fingerprint = text.clone().unwrap_or_default();
    let principal = Viewer::Owner(user.id.clone()).key();
    idempotency::once(
        &req,
        &state,
        principal,
        &fingerprint,
        StatusCode::OK,
        render_review,
        |once| async {
            let store = state.store.clone();
            let now = state.now();
            blocking(move || Ok(store.reply_to_review(&user.id, &id, text.as_deref(), now, once.as_ref())?)).await
        },
    )
    .await
}

/// `limit` (1–100, default 20) and `cursor` of a paged public list.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The page size asked for, 1–100 (20 when not given).
pub(crate) fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 100"));
    }
    Ok(limit)
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ReviewPage<'a> {
    reviews: Vec<ReviewView<'a>>,
    next: Option<String>,
}

/// `GET /api/agents/{id}/reviews`: newest first, keyset-paged.
pub(crate) async fn list(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let limit = page_limit(q.limit)?;
    let store = state.store.clone();
    let page = blocking(move || Ok(store.agent_reviews(&id, limit, q.cursor.as_deref())?)).await?;
    Ok(HttpResponse::Ok().json(ReviewPage {
        reviews: page.rows.iter().map(ReviewView::from).collect(),
        next: page.next,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct BoardQuery {
    category: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RankedAgent {
    rank: i64,
    /// The Bayesian score (see DECISIONS), in stars.
    score: f64,
    #[serde(flatten)]
    agent: PublicAgent,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Leaderboard {
    agents: Vec<RankedAgent>,
    next: Option<String>,
}

/// `GET /api/leaderboard?category=`: reviewed agents by their score, best first.
pub(crate) async fn leaderboard(
    state: web::Data<AppState>,
    q: web::Query<BoardQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    if let Some(c) = &q.category
        && !heepr_domain::agent::CATEGORIES.contains(&c.as_str())
    {
        return Err(ApiError::invalid("category", "unknown category"));
    }
    let limit = page_limit(q.limit)?;
    let store = state.store.clone();
    let page = blocking(move || Ok(store.leaderboard(q.category.as_deref(), limit, q.cursor.as_deref())?)).await?;
    let now = state.now();
    Ok(HttpResponse::Ok().json(Leaderboard {
        agents: page
            .rows
            .iter()
            .map(|r| RankedAgent {
                rank: r.rank,
                score: r.agent.score_x1000 as f64 / 1000.0,
                agent: PublicAgent::new(&r.agent, now),
            })
            .collect(),
        next: page.next,
    }))
}
