//! Hooks for end-to-end tests that drive time: they answer 404 unless the server was
//! started with `HEEPR_TEST_CLOCK=1`, which production never sets.

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Advance {
    seconds: i64,
}

pub(crate) async fn advance_clock(
    state: web::Data<AppState>,
    body: web::Json<Advance>,
) -> Result<HttpResponse, ApiError> {
    if !state.config.test_clock {
        return Err(ApiError::NotFound);
    }
    if !(0..=366 * 86_400).contains(&body.seconds) {
        return Err(ApiError::invalid("seconds", "0 to one year"));
    }
    state.clock.advance(body.seconds);
    Ok(HttpResponse::Ok().json(json!({ "now": state.now() })))
}

/// Runs one scheduler pass at the (moved) current time.
pub(crate) async fn run_timers(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !state.config.test_clock {
        return Err(ApiError::NotFound);
    }
    let store = state.store.clone();
    let policy = state.policy.clone();
    let now = state.now();
    let market = state.config.market.clone();
    let changed = blocking(move || {
        let orders = store.run_due_timers(&policy, now, 10_000)? + store.end_suspended_work(&policy, now, 10_000)?;
        Ok(orders + store.run_market_timers(&market.policy, market.abandon_after(), now)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "changed": changed })))
}
