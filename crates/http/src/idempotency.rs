//! `Idempotency-Key` at the edge: the key is checked, the request fingerprinted, a
//! stored answer replayed; otherwise the command runs with a claim that the store
//! writes in the same transaction as the effect (see `heepr_store::idempotency`), so a
//! retry — sequential, concurrent or after a crash — never acts twice.

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_store::StoreError;
use heepr_store::idempotency::{Answer, Claim, Once};
use sha2::{Digest, Sha256};
use std::future::Future;

/// The header's longest accepted value (SPEC §16).
const MAX_KEY: usize = 255;

/// The request's claim, if it carries a key: 422 unless the key is 1–255 printable
/// ASCII bytes. `fingerprint` stands for the request's content (method and path are
/// added here), so the same key with another request is told apart.
pub(crate) fn claim_of(req: &HttpRequest, principal: String, fingerprint: &str) -> Result<Option<Claim>, ApiError> {
    let Some(raw) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let bytes = raw.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_KEY || !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            format!("use 1 to {MAX_KEY} printable ASCII characters"),
        ));
    }
    let request_hash = hex::encode(Sha256::digest(
        format!("{} {}\n{fingerprint}", req.method(), req.path()).as_bytes(),
    ));
    Ok(Some(Claim {
        principal,
        key: String::from_utf8_lossy(bytes).into_owned(),
        request_hash,
    }))
}

/// Answers a keyed request exactly once: a stored answer is replayed as it was given
/// (with `Idempotent-Replayed: true`); otherwise `run` gets the claim to pass to the
/// store, and its result is answered with `status` as `render` shows it — the same
/// bytes the store kept for retries.
pub(crate) async fn once<T, F, Fut>(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    principal: String,
    fingerprint: &str,
    status: StatusCode,
    render: fn(&T) -> String,
    run: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(Option<Once<T>>) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let Some(claim) = claim_of(req, principal, fingerprint)? else {
        let result = run(None).await?;
        return Ok(answer(status, render(&result)));
    };
    // A retry of a request that committed: answered without running it again.
    let store = state.store.clone();
    let lookup = claim.clone();
    match blocking(move || Ok(store.stored_answer(&lookup)?)).await {
        Ok(Some(a)) => return Ok(replay(a)),
        Ok(None) => {}
        Err(e) => return Err(e),
    }
    let once = Once {
        claim,
        status: status.as_u16(),
        render,
    };
    match run(Some(once)).await {
        Ok(result) => Ok(answer(status, render(&result))),
        Err(ApiError::Store(StoreError::Replayed(a))) => Ok(replay(a)),
        Err(e) => Err(e),
    }
}

fn answer(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status).content_type("application/json").body(body)
}

fn replay(a: Answer) -> HttpResponse {
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK);
    HttpResponse::build(status)
        .insert_header(("Idempotent-Replayed", "true"))
        .content_type("application/json")
        .body(a.body)
}
