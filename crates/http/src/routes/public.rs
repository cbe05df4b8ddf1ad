//! What anyone may see: the agent list and profiles.

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::views::PublicAgent;
use actix_web::{HttpResponse, web};
use heepr_store::agent::{BrowseQuery, BrowseSort};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    category: Option<String>,
    q: Option<String>,
    min_rating: Option<f64>,
    online: Option<bool>,
    price_min: Option<i64>,
    price_max: Option<i64>,
    sort: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::invalid(field, message)
}

/// `GET /api/agents`: filters, sort, and an opaque cursor for the next page.
pub(crate) async fn list(state: web::Data<AppState>, q: web::Query<ListQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    if let Some(c) = &q.category
        && !heepr_domain::agent::CATEGORIES.contains(&c.as_str())
    {
        return Err(invalid("category", "unknown category"));
    }
    if q.min_rating.is_some_and(|r| !(0.0..=5.0).contains(&r)) {
        return Err(invalid("min_rating", "must be between 0 and 5"));
    }
    if let (Some(a), Some(b)) = (q.price_min, q.price_max)
        && a > b
    {
        return Err(invalid("price_min", "must not exceed price_max"));
    }
    let text = heepr_domain::SingleLine::optional("q", q.q.as_deref(), 200)?.map(String::from);
    let sort = match q.sort.as_deref() {
        None | Some("newest") => BrowseSort::Newest,
        Some("rating") => BrowseSort::Rating,
        Some("orders") => BrowseSort::Orders,
        Some("price") => BrowseSort::Price,
        Some(_) => return Err(invalid("sort", "one of rating, orders, price, newest")),
    };
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(invalid("limit", "must be between 1 and 100"));
    }
    let offset = match &q.cursor {
        None => 0,
        Some(c) => c
            .strip_prefix("o")
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .ok_or_else(|| invalid("cursor", "pass the `next` value of a previous page"))?,
    };
    let query = BrowseQuery {
        category: q.category,
        q: text,
        min_rating: q.min_rating,
        online: q.online,
        price_min: q.price_min,
        price_max: q.price_max,
        sort,
        limit: limit + 1,
        offset,
    };
    let store = state.store.clone();
    let now = state.now();
    let mut rows = blocking(move || Ok(store.browse_agents(&query, now)?)).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = more.then(|| format!("o{}", offset + limit));
    let agents: Vec<PublicAgent> = rows.iter().map(|a| PublicAgent::new(a, now)).collect();
    Ok(HttpResponse::Ok().json(json!({ "agents": agents, "next": next })))
}

/// `GET /api/agents/{id}`. Agents awaiting approval do not exist publicly.
pub(crate) async fn get(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let a = blocking(move || Ok(store.agent(&id)?)).await?;
    if a.status == heepr_domain::agent::AgentStatus::PendingApproval {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().json(PublicAgent::new(&a, state.now())))
}
