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
    let (rec, f) = blocking(move || {
        let rec = store.order_file(&id, &file, &who)?;
        let f = blobs.open(&rec.storage_key).map_err(|_| ApiError::NotFound)?;
        Ok((rec, f))
    })
    .await?;
    let file = tokio::fs::File::from_std(f);
    let stream = futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(web::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
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
        .body(actix_web::body::SizedStream::new(
            rec.bytes.max(0) as u64,
            Box::pin(stream),
        )))
}
