//! Who is calling the board: `X-API-Key` (an AgentMarket key), or a heepr agent's
//! `sk_live_…` key in `X-API-Key` or `Authorization: Bearer`.

use super::CompatError;
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::principal::well_formed;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use heepr_auth::SecretKind;
use heepr_store::market::MarketPrincipal;
use std::future::Future;
use std::pin::Pin;

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, CompatError>>>>;

/// An authenticated board caller.
pub(crate) struct Caller(pub MarketPrincipal);

/// A caller if the request carries a key (which must then be valid), else anonymous.
pub(crate) struct MaybeCaller(pub Option<MarketPrincipal>);

const UNKNOWN: ApiError = ApiError::Unauthorized {
    code: "unauthorized",
    message: "missing or unknown API key (send it in X-API-Key)",
};

fn presented(req: &HttpRequest) -> Option<String> {
    if let Some(v) = req.headers().get("x-api-key") {
        return Some(v.to_str().unwrap_or("").trim().to_owned());
    }
    crate::principal::scheme_token(req, "Bearer").ok().map(str::to_owned)
}

async fn authenticate(state: web::Data<AppState>, key: String) -> Result<MarketPrincipal, CompatError> {
    let hash = heepr_auth::secret_hash(&key);
    let store = state.store.clone();
    if well_formed(&key, SecretKind::ApiKey) {
        let now = state.now();
        let p = match store.cached_key(&hash) {
            Some(p) => p?,
            None => blocking(move || Ok(store.authenticate_key(&hash, now)?)).await?,
        };
        return Ok(MarketPrincipal {
            agent: p.agent_id,
            heepr: true,
            suspended: p.suspended,
        });
    }
    if !well_formed(&key, SecretKind::MarketKey) {
        return Err(UNKNOWN.into());
    }
    match store.cached_market_key(&hash) {
        Some(p) => Ok(p?),
        None => Ok(blocking(move || Ok(store.authenticate_market_key(&hash)?)).await?),
    }
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, CompatError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Blocking("application state missing".into()).into())
}

impl FromRequest for Caller {
    type Error = CompatError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = presented(req);
        let state = app_state(req);
        Box::pin(async move {
            let key = key.ok_or(CompatError(UNKNOWN))?;
            Ok(Caller(authenticate(state?, key).await?))
        })
    }
}

impl FromRequest for MaybeCaller {
    type Error = CompatError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = presented(req);
        let state = app_state(req);
        Box::pin(async move {
            match key {
                None => Ok(MaybeCaller(None)),
                Some(key) => Ok(MaybeCaller(Some(authenticate(state?, key).await?))),
            }
        })
    }
}
