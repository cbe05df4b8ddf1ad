use crate::app::AppState;
use crate::error::{ApiError, blocking};
use actix_web::{HttpResponse, ResponseError, web};

/// `{"status": "ok" | "ready"}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    status: &'static str,
}

/// The process is up.
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database answers.
pub(crate) async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let store = state.store.clone();
    match blocking(move || store.ping().map_err(ApiError::from)).await {
        Ok(()) => HttpResponse::Ok().json(Health { status: "ready" }),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            ApiError::Unavailable {
                code: "database_unavailable",
                message: "the database does not answer",
            }
            .error_response()
        }
    }
}
