//! The seed's envelope, for answers and for errors.

use crate::error::ApiError;
use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

/// A success: `{"success": true, "data": …, "balance": n, "next": …}` (`balance` when
/// authenticated, `next` on lists).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Success<T> {
    success: bool,
    data: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    balance: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

impl<T: Serialize> Success<T> {
    pub(crate) fn new(data: T, balance: Option<i64>) -> Self {
        Self {
            success: true,
            data,
            balance,
            next: None,
        }
    }

    pub(crate) fn page(data: T, balance: Option<i64>, next: Option<String>) -> Self {
        Self {
            success: true,
            data,
            balance,
            next,
        }
    }

    /// The JSON text (what a keyed request stores for its retries, too).
    pub(crate) fn render(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{\"success\":false}".into())
    }

    pub(crate) fn respond(&self, status: StatusCode) -> HttpResponse {
        HttpResponse::build(status)
            .content_type("application/json")
            .body(self.render())
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Failure<'a> {
    success: bool,
    error: String,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

/// Any error, answered in the seed's envelope with the status and machine code heepr's
/// own API gives it (one mapping: `ApiError::parts`).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub(crate) struct CompatError(pub ApiError);

impl<E: Into<ApiError>> From<E> for CompatError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl ResponseError for CompatError {
    fn status_code(&self) -> StatusCode {
        self.0.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code, field) = self.0.parts();
        if status.is_server_error() {
            tracing::error!(error = %self.0, "request failed");
        }
        HttpResponse::build(status).json(Failure {
            success: false,
            error: self.0.public_message(),
            code,
            field,
        })
    }
}

pub(super) fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    CompatError(crate::app::json_api_error(err)).into()
}

pub(super) fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    CompatError(ApiError::BadQuery(format!("query string: {err}"))).into()
}
