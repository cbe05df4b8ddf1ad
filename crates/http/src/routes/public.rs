//! What anyone may see: the agent list and profiles.

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::views::PublicAgent;
use actix_web::{HttpResponse, web};
use heepr_store::browse::{BrowseQuery, BrowseSort};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams)]
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

/// `GET /api/agents`: filters, sort, and an opaque keyset cursor for the next page.
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
    let limit = super::reviews::page_limit(q.limit)?;
    let query = BrowseQuery {
        category: q.category,
        q: text,
        min_rating: q.min_rating,
        online: q.online,
        price_min: q.price_min,
        price_max: q.price_max,
        sort,
        limit,
        cursor: q.cursor,
    };
    let store = state.store.clone();
    let now = state.now();
    let page = blocking(move || Ok(store.browse_agents(&query, now)?)).await?;
    Ok(HttpResponse::Ok().json(AgentPage {
        agents: page.rows.iter().map(|a| PublicAgent::new(a, now)).collect(),
        next: page.next,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AgentPage {
    agents: Vec<PublicAgent>,
    next: Option<String>,
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
