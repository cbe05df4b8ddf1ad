//! The one place where errors become HTTP answers.
//!
//! Policy (after crates.io): a client mistake gets a 4xx with a machine code and a
//! message safe to show; anything else is logged with its cause and answered as a
//! generic 500. Database failures are never a 400.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use heepr_domain::agent::{ApprovalError, RegisterError, SetupLinkError};
use heepr_domain::chat::ChatError;
use heepr_domain::market::MarketError;
use heepr_domain::review::ReviewError;
use heepr_domain::{DomainError, Invalid};
use heepr_store::StoreError;
use serde::Serialize;
use std::fmt;

/// An error on its way to becoming a response.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// From the store (which wraps domain refusals).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The route or resource does not exist for this caller.
    #[error("not found")]
    NotFound,
    /// Authentication failed; the code says why (`unauthorized`, `key_revoked`, …).
    #[error("{message}")]
    Unauthorized {
        /// Machine code.
        code: &'static str,
        /// Human message.
        message: &'static str,
    },
    /// A request field is invalid (the domain's one validation shape).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// A body is not the JSON we expect.
    #[error("{0}")]
    BadJson(String),
    /// A query-string value does not parse (a number that is not one, a repeated key).
    #[error("{0}")]
    BadQuery(String),
    /// The body's content type is not one this endpoint takes.
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    /// A multipart body is malformed, truncated or has too many parts.
    #[error("{0}")]
    BadMultipart(String),
    /// A body is over its limit.
    #[error("the request body is too large")]
    TooLarge,
    /// Authenticated, but not allowed.
    #[error("{message}")]
    Forbidden {
        /// Machine code.
        code: &'static str,
        /// Human message.
        message: &'static str,
    },
    /// Too many attempts; retry later.
    #[error("too many attempts; try again later")]
    TooManyAttempts,
    /// The request body stalled: no byte arrived for the configured idle time.
    #[error("the request body stalled: no data arrived for {0} s")]
    BodyStalled(u64),
    /// Too many uploads in flight (for this caller or in total); retry later.
    #[error("too many uploads in progress; retry shortly")]
    UploadsBusy,
    /// A dependency (the database) does not answer.
    #[error("{message}")]
    Unavailable {
        /// Machine code.
        code: &'static str,
        /// Human message.
        message: &'static str,
    },
    /// The file store (an object store) failed or did not answer.
    #[error("file storage is unavailable; retry later")]
    StorageUnavailable,
    /// A blocking task failed to run (pool shut down).
    #[error("background task failed: {0}")]
    Blocking(String),
}

/// Every error of `/api`: `{"error": {"code", "message", "field"?}}`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorEnvelope)]
pub(crate) struct Envelope<'a> {
    error: Body<'a>,
}

/// What went wrong: a machine `code`, a `message` safe to show, and the refused
/// `field` for `validation_failed`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorBody)]
pub(crate) struct Body<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

/// A domain refusal (e.g. a validated field) answers like one from the store.
impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        Self::Store(StoreError::Domain(e))
    }
}

impl ApiError {
    /// A refusal of `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(Invalid::new(field, message))
    }

    /// The refused field, wherever the refusal came from: every one answers 422
    /// `validation_failed` with `field`.
    fn refused_field(&self) -> Option<&Invalid> {
        match self {
            Self::Invalid(e)
            | Self::Store(StoreError::Invalid(e))
            | Self::Store(StoreError::Domain(DomainError::InvalidInput(e)))
            | Self::Store(StoreError::Chat(ChatError::Invalid(e)))
            | Self::Store(StoreError::Market(MarketError::Invalid(e)))
            | Self::Store(StoreError::Review(ReviewError::Invalid(e))) => Some(e),
            _ => None,
        }
    }

    /// Status, machine code and the field for validation errors.
    pub(crate) fn parts(&self) -> (StatusCode, &'static str, Option<&str>) {
        use StatusCode as S;
        match self {
            Self::NotFound | Self::Store(StoreError::NotFound) => (S::NOT_FOUND, "not_found", None),
            Self::Unauthorized { code, .. } => (S::UNAUTHORIZED, code, None),
            Self::Invalid(e) => (S::UNPROCESSABLE_ENTITY, "validation_failed", Some(e.field.as_str())),
            _ if self.refused_field().is_some() => {
                let field = self.refused_field().map(|e| e.field.as_str());
                (S::UNPROCESSABLE_ENTITY, "validation_failed", field)
            }
            Self::BadJson(_) => (S::BAD_REQUEST, "bad_json", None),
            Self::BadMultipart(_) => (S::BAD_REQUEST, "bad_multipart", None),
            Self::BadQuery(_) => (S::BAD_REQUEST, "bad_query", None),
            Self::UnsupportedMediaType(_) => (S::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", None),
            Self::Store(StoreError::KeyReused) => (S::UNPROCESSABLE_ENTITY, "idempotency_key_reused", None),
            Self::Store(StoreError::ClaimTaken | StoreError::Replayed(_)) => {
                (S::CONFLICT, "idempotency_in_progress", None)
            }
            Self::TooLarge => (S::PAYLOAD_TOO_LARGE, "payload_too_large", None),
            Self::BodyStalled(_) => (S::REQUEST_TIMEOUT, "request_timeout", None),
            Self::UploadsBusy => (S::SERVICE_UNAVAILABLE, "busy", None),
            Self::Unavailable { code, .. } => (S::SERVICE_UNAVAILABLE, code, None),
            Self::StorageUnavailable => (S::SERVICE_UNAVAILABLE, "storage_unavailable", None),
            Self::Store(StoreError::Domain(d)) => {
                let status = match d {
                    DomainError::InvalidState { .. } | DomainError::AgentPaused => S::CONFLICT,
                    DomainError::NotPermitted { .. } | DomainError::AgentSuspended => S::FORBIDDEN,
                    DomainError::InvalidInput(_) => S::UNPROCESSABLE_ENTITY,
                    DomainError::InsufficientPoints => S::PAYMENT_REQUIRED,
                };
                (status, d.code(), None)
            }
            Self::Forbidden { code, .. } => (S::FORBIDDEN, code, None),
            Self::TooManyAttempts => (S::TOO_MANY_REQUESTS, "too_many_attempts", None),
            Self::Store(StoreError::Register(e)) => {
                let status = match e {
                    RegisterError::ActiveKeyExists => S::CONFLICT,
                    _ => S::UNAUTHORIZED,
                };
                (status, e.code(), None)
            }
            Self::Store(StoreError::Approval(e)) => {
                let status = match e {
                    ApprovalError::Unknown => S::NOT_FOUND,
                    _ => S::GONE,
                };
                (status, e.code(), None)
            }
            Self::Store(StoreError::SetupLink(e)) => {
                let status = match e {
                    SetupLinkError::Unknown => S::NOT_FOUND,
                    _ => S::GONE,
                };
                (status, e.code(), None)
            }
            Self::Store(StoreError::Key(k)) => (S::UNAUTHORIZED, k.code(), None),
            Self::Store(StoreError::Cursor(code)) => {
                let status = if *code == "cursor_expired" {
                    S::GONE
                } else {
                    S::BAD_REQUEST
                };
                (status, code, None)
            }
            Self::Store(StoreError::Chat(e)) => {
                let status = match e {
                    ChatError::OfferAccepted | ChatError::ReadOnly | ChatError::NotPreSale => S::CONFLICT,
                    ChatError::OfferExpired => S::GONE,
                    ChatError::NotAParty => S::NOT_FOUND,
                    ChatError::SupportReadsOnly => S::FORBIDDEN,
                    ChatError::Invalid(_) => S::UNPROCESSABLE_ENTITY,
                };
                (status, e.code(), None)
            }
            Self::Store(StoreError::Market(e)) => {
                let status = match e {
                    MarketError::TaskState { .. } | MarketError::OwnTask => S::CONFLICT,
                    MarketError::NotAssignee | MarketError::NotPoster | MarketError::Suspended => S::FORBIDDEN,
                    MarketError::InsufficientCredits => S::PAYMENT_REQUIRED,
                    MarketError::Invalid(_)
                    | MarketError::SelfExecution
                    | MarketError::NotExecutable
                    | MarketError::NoLlm => S::UNPROCESSABLE_ENTITY,
                };
                (status, e.code(), None)
            }
            Self::Store(StoreError::Support(e)) => (S::CONFLICT, e.code(), None),
            Self::Store(StoreError::Review(e)) => {
                let status = match e {
                    ReviewError::OwnAgent => S::FORBIDDEN,
                    ReviewError::Invalid(_) => S::UNPROCESSABLE_ENTITY,
                    ReviewError::NotCompleted(_) | ReviewError::AlreadyReviewed | ReviewError::AlreadyReplied => {
                        S::CONFLICT
                    }
                };
                (status, e.code(), None)
            }
            Self::Store(StoreError::Duplicate(_)) => (S::CONFLICT, "already_exists", None),
            Self::Store(StoreError::Contention) => (S::SERVICE_UNAVAILABLE, "busy", None),
            Self::Store(_) | Self::Blocking(_) => (S::INTERNAL_SERVER_ERROR, "internal", None),
        }
    }

    pub(crate) fn public_message(&self) -> String {
        match self {
            Self::Store(StoreError::Domain(d)) => d.to_string(),
            Self::Store(StoreError::Invalid(e)) => e.to_string(),
            Self::Store(StoreError::Register(e)) => e.to_string(),
            Self::Store(StoreError::Approval(e)) => e.to_string(),
            Self::Store(StoreError::SetupLink(e)) => e.to_string(),
            Self::Store(StoreError::Chat(e)) => e.to_string(),
            Self::Store(StoreError::Market(e)) => e.to_string(),
            Self::Store(StoreError::Support(e)) => e.to_string(),
            Self::Store(StoreError::Review(e)) => e.to_string(),
            Self::Store(StoreError::Key(k)) => k.message().to_owned(),
            Self::Store(StoreError::Cursor(code)) => match *code {
                "cursor_expired" => {
                    "events after this cursor were removed after the 7-day retention; re-read with since=0".into()
                }
                _ => "malformed cursor: pass an event id from a previous poll".into(),
            },
            Self::Store(StoreError::Duplicate(what)) => format!("{what} is already taken"),
            Self::Store(StoreError::Contention) => "the resource is busy; retry".into(),
            Self::Store(StoreError::KeyReused) => StoreError::KeyReused.to_string(),
            Self::Store(StoreError::ClaimTaken | StoreError::Replayed(_)) => {
                "a request with this Idempotency-Key is in progress; retry".into()
            }
            Self::Store(StoreError::NotFound) => "not found".into(),
            Self::Store(_) | Self::Blocking(_) => "internal error".into(),
            other => other.to_string(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code, field) = self.parts();
        // Refusing an upload under load is the limit working, not a fault: no log line.
        if status.is_server_error() && !matches!(self, Self::UploadsBusy | Self::Unavailable { .. }) {
            // The cause goes to the log (with the request id from the span), not the client.
            tracing::error!(error = %self, "request failed");
        }
        HttpResponse::build(status).json(Envelope {
            error: Body {
                code,
                message: self.public_message(),
                field,
            },
        })
    }
}

/// Runs blocking work (diesel, argon2) on the blocking pool.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    actix_web::web::block(move || span.in_scope(f))
        .await
        .map_err(|e| ApiError::Blocking(e.to_string()))?
}

impl fmt::Display for Envelope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error.code)
    }
}
