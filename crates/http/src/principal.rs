//! Who is calling: one extractor per kind of principal.
//!
//! - [`SessionUser`]: a browser session cookie. Non-GET requests must also carry the
//!   `X-Heepr-Client` header: a cross-site form cannot set custom headers, so a
//!   forged request fails even where SameSite=Lax would let the cookie through.
//! - [`OwnerUser`]: a session user with the `owner` role.
//! - [`AgentKey`]: `Authorization: Bearer sk_live_…`, found by its SHA-256.

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use heepr_domain::Viewer;
use heepr_store::poll::KeyPrincipal;
use heepr_store::user::{Role, UserRecord};
use std::future::Future;
use std::pin::Pin;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "heepr_session";
/// The anti-forgery header cookie-authenticated mutations must carry.
pub const CLIENT_HEADER: &str = "x-heepr-client";

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// Who the request authenticated as (a user or an agent id), left in the request's
/// extensions by [`SessionUser`] and [`AgentKey`] for limits that count per caller
/// (concurrent uploads).
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub String);

fn note_caller(req: &HttpRequest, id: &str) {
    actix_web::HttpMessage::extensions_mut(req).insert(Caller(id.to_owned()));
}

/// A session extractor that names the [`Viewer`] its caller acts as, so one handler
/// serves every audience of a read (`get::<SessionUser>`, `get::<OwnerUser>`, …): the
/// extractor authenticates, the store scopes by the viewer.
pub(crate) trait Audience: FromRequest<Error = ApiError> {
    /// Who is asking.
    fn viewer(self) -> Viewer;
}

impl Audience for SessionUser {
    fn viewer(self) -> Viewer {
        Viewer::Customer(self.0.id)
    }
}

impl Audience for OwnerUser {
    fn viewer(self) -> Viewer {
        Viewer::Owner(self.0.id)
    }
}

impl Audience for AdminUser {
    fn viewer(self) -> Viewer {
        Viewer::Admin
    }
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Blocking("application state missing".into()))
}

/// A logged-in user (session cookie).
pub struct SessionUser(pub UserRecord);

impl FromRequest for SessionUser {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
        let mutating = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let has_client_header = req.headers().contains_key(CLIENT_HEADER);
        let state = state(req);
        let req = req.clone();
        Box::pin(async move {
            let state = state?;
            let token = token.ok_or(ApiError::Unauthorized {
                code: "unauthorized",
                message: "log in first",
            })?;
            if mutating && !has_client_header {
                return Err(ApiError::Forbidden {
                    code: "client_header_required",
                    message: "cookie-authenticated requests that change something must send X-Heepr-Client",
                });
            }
            let hash = heepr_auth::secret_hash(&token);
            let now = state.now();
            // The cached answer needs no database and no thread hop.
            let user = match state.store.cached_session(&hash, now) {
                Some(u) => Some(u),
                None => {
                    let store = state.store.clone();
                    blocking(move || Ok(store.session_user(&hash, now)?)).await?
                }
            };
            let user = user.ok_or(ApiError::Unauthorized {
                code: "unauthorized",
                message: "the session expired; log in again",
            })?;
            note_caller(&req, user.id.as_str());
            Ok(SessionUser(user))
        })
    }
}

/// A session user who must have `role`, wrapped by `wrap`; `403 code` otherwise.
fn with_role<T: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    role: Role,
    code: &'static str,
    message: &'static str,
    wrap: fn(UserRecord) -> T,
) -> Fut<T> {
    let user = SessionUser::from_request(req, payload);
    Box::pin(async move {
        let SessionUser(user) = user.await?;
        if !user.has(role) {
            return Err(ApiError::Forbidden { code, message });
        }
        Ok(wrap(user))
    })
}

/// A logged-in user with the owner role.
pub struct OwnerUser(pub UserRecord);

impl FromRequest for OwnerUser {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        with_role(
            req,
            payload,
            Role::Owner,
            "not_an_owner",
            "become an owner first (POST /api/me/owner)",
            OwnerUser,
        )
    }
}

/// An agent authenticated by its API key.
pub struct AgentKey(pub KeyPrincipal);

impl AgentKey {
    /// Work endpoints refuse suspended agents (polling stays allowed).
    pub fn working(self) -> Result<KeyPrincipal, ApiError> {
        if self.0.suspended {
            return Err(ApiError::Forbidden {
                code: "agent_suspended",
                message: "this agent is suspended",
            });
        }
        Ok(self.0)
    }
}

/// The token of an `Authorization: <scheme> <token>` header, if the scheme matches
/// (case-insensitively) and the token has the expected prefix.
pub(crate) fn scheme_token<'a>(req: &'a HttpRequest, scheme: &str) -> Result<&'a str, ApiError> {
    let missing = ApiError::Unauthorized {
        code: "unauthorized",
        message: "missing or malformed Authorization header",
    };
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(missing)?;
    let (s, token) = value.trim().split_once(' ').ok_or(ApiError::Unauthorized {
        code: "unauthorized",
        message: "missing or malformed Authorization header",
    })?;
    if !s.eq_ignore_ascii_case(scheme) {
        return Err(ApiError::Unauthorized {
            code: "unauthorized",
            message: "wrong Authorization scheme for this endpoint",
        });
    }
    Ok(token.trim())
}

/// Whether a presented secret has the shape heepr mints (prefix + 64 hex digits), so
/// garbage never reaches the database.
pub(crate) fn well_formed(token: &str, kind: heepr_auth::SecretKind) -> bool {
    token
        .strip_prefix(kind.prefix())
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl FromRequest for AgentKey {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = scheme_token(req, "Bearer").map(str::to_owned);
        let state = state(req);
        let req = req.clone();
        Box::pin(async move {
            let (token, state) = (token?, state?);
            if !well_formed(&token, heepr_auth::SecretKind::ApiKey) {
                return Err(ApiError::Unauthorized {
                    code: "unauthorized",
                    message: "missing or unknown API key",
                });
            }
            let hash = heepr_auth::secret_hash(&token);
            let now = state.now();
            // The cached answer needs no database and no thread hop.
            let p = match state.store.cached_key(&hash) {
                Some(p) => p?,
                None => {
                    let store = state.store.clone();
                    blocking(move || Ok(store.authenticate_key(&hash, now)?)).await?
                }
            };
            note_caller(&req, p.agent_id.as_str());
            Ok(AgentKey(p))
        })
    }
}

/// A logged-in user with the admin (support) role.
pub struct AdminUser(pub UserRecord);

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let admin = with_role(req, payload, Role::Admin, "not_an_admin", "support only", AdminUser);
        // To someone not signed in, support's routes do not exist (SPEC §13: 404 for
        // what a caller must not know exists); a signed-in non-admin gets 403.
        Box::pin(async move {
            admin.await.map_err(|e| match e {
                ApiError::Unauthorized { .. } => ApiError::NotFound,
                other => other,
            })
        })
    }
}
