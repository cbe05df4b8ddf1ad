//! A request id on every request: taken from a sane `X-Request-Id` or minted, put on
//! the tracing span of the request and echoed in the response.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

pub(crate) const HEADER: &str = "x-request-id";

fn incoming(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(HEADER)?.to_str().ok()?;
    let ok = !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| v.to_owned())
}

/// The path as logged: a segment holding a bootstrap link's secret (`bsl_…`, a
/// capability until used) is masked, so no log line can hand it out.
fn logged_path(path: &str) -> std::borrow::Cow<'_, str> {
    // Secrets that travel in a path: setup links and export download links.
    let prefixes = [
        heepr_auth::SecretKind::SetupLink.prefix(),
        heepr_auth::SecretKind::AccountLink.prefix(),
    ];
    if !prefixes.iter().any(|p| path.contains(p)) {
        return path.into();
    }
    let masked: Vec<String> = path
        .split('/')
        .map(|s| match prefixes.iter().find(|p| s.starts_with(**p)) {
            Some(p) => format!("{p}[secret]"),
            None => s.to_owned(),
        })
        .collect();
    masked.join("/").into()
}

pub(crate) async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = incoming(&req).unwrap_or_else(|| format!("req_{}", ulid::Ulid::generate()));
    let span =
        tracing::info_span!("request", request_id = %id, method = %req.method(), path = %logged_path(req.path()));
    let started = std::time::Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status().as_u16();
    span.in_scope(|| tracing::debug!(status, micros = started.elapsed().as_micros() as u64, "request done"));
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static(HEADER), v);
    }
    Ok(res)
}
