//! Order files (customer attachments, delivered files) for whoever may see them.

use super::order_id;
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::principal::Audience;
use actix_web::{HttpResponse, web};
use heepr_domain::Viewer;

/// `GET /api/{customer,owner}/orders/{id}/files/{file}`
pub(crate) async fn file<A: Audience>(
    state: web::Data<AppState>,
    who: A,
    p: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, f) = p.into_inner();
    download(state, who.viewer(), id, f).await
}

/// Streams a stored file as an attachment (never rendered on the API origin).
pub(super) async fn download(
    state: web::Data<AppState>,
    who: Viewer,
    id: String,
    file: String,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let store = state.store.clone();
    let blobs = state.blobs.clone();
    let rec = blocking(move || Ok(store.order_file(&id, &file, &who)?)).await?;
    let stream = match blobs.open(&rec.storage_key).await {
        Ok(stream) => stream,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ApiError::NotFound),
        Err(e) => {
            tracing::warn!(key = %rec.storage_key, error = %e, "opening a stored file failed");
            return Err(ApiError::StorageUnavailable);
        }
    };
    let ascii: String = rec
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{ascii}\"")))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", "default-src 'none'; sandbox"))
        .insert_header(("X-Heepr-Sha256", rec.sha256.clone()))
        .body(actix_web::body::SizedStream::new(rec.bytes.max(0) as u64, stream)))
}
