//! heepr's HTTP surface. Handlers only translate: extract, authorise, call one store
//! function off the async threads, answer JSON. No SQL and no business rule here.

mod app;
mod discovery;
mod error;
mod export;
mod health;
mod idempotency;
mod mail;
pub mod metrics;
pub mod openapi;
mod path;
mod principal;
mod ratelimit;
mod request_id;
mod routes;
pub mod signin;
mod skill;
pub mod slow;
pub mod upload;
mod views;

pub use app::{AppState, Application, Clock, HttpConfig, configure};
pub use error::ApiError;
pub use ratelimit::TrustedProxies;
pub use routes::market::{LlmConfig, MarketConfig};
pub use slow::ClientTimeouts;
pub use upload::UploadLimits;
