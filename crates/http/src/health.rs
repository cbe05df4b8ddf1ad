use crate::app::AppState;
use crate::error::{ApiError, blocking};
use actix_web::{HttpResponse, web};

/// The process is up.
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The database answers.
pub(crate) async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let store = state.store.clone();
    match blocking(move || store.ping().map_err(ApiError::from)).await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({"error": {"code": "database_unavailable", "message": "the database does not answer"}}))
        }
    }
}
