//! The reads every audience shares: a page of its orders, one order, an order's
//! deliveries — each scoped to the [`Viewer`] by the store.

use super::view::{DeliveryList, OrderList, OrderView};
use super::{invalid, order_id};
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::principal::Audience;
use actix_web::{HttpResponse, web};
use heepr_domain::{OrderState, Viewer};
use serde::Deserialize;

/// `?state=&limit=&cursor=` of the order lists.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    pub(super) state: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `GET /api/{customer,owner}/orders`
pub(crate) async fn list<A: Audience>(
    state: web::Data<AppState>,
    who: A,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    page(state, who.viewer(), q.into_inner()).await
}

/// One page of `who`'s orders.
pub(super) async fn page(state: web::Data<AppState>, who: Viewer, q: ListQuery) -> Result<HttpResponse, ApiError> {
    let st = match q.state.as_deref() {
        None => None,
        Some(s) => Some(OrderState::parse(s).ok_or_else(|| invalid("state", "unknown order state"))?),
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(invalid("limit", "must be between 1 and 100"));
    }
    let offset = match q.cursor.as_deref() {
        None => 0,
        Some(c) => c
            .strip_prefix('o')
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .ok_or_else(|| invalid("cursor", "pass a previous `next`"))?,
    };
    let store = state.store.clone();
    let mut orders = blocking(move || Ok(store.orders_of(&who, st, limit + 1, offset)?)).await?;
    let more = orders.len() as i64 > limit;
    orders.truncate(limit as usize);
    Ok(HttpResponse::Ok().json(OrderList {
        next: more.then(|| format!("o{}", offset + limit)),
        orders: orders.iter().map(OrderView::from).collect(),
    }))
}

/// `GET /api/{customer,owner,admin}/orders/{id}`
pub(crate) async fn get<A: Audience>(
    state: web::Data<AppState>,
    who: A,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = who.viewer();
    let id = order_id(&id)?;
    let store = state.store.clone();
    let o = blocking(move || Ok(store.order_for(&id, &who)?)).await?;
    Ok(HttpResponse::Ok().json(OrderView::from(&o)))
}

/// `GET /api/{customer,owner,admin}/orders/{id}/deliveries`: the customer sees the
/// released ones.
pub(crate) async fn deliveries<A: Audience>(
    state: web::Data<AppState>,
    who: A,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = who.viewer();
    let id = order_id(&id)?;
    let store = state.store.clone();
    let ds = blocking(move || Ok(store.deliveries_for(&id, &who)?)).await?;
    Ok(HttpResponse::Ok().json(DeliveryList::new(&ds)))
}
