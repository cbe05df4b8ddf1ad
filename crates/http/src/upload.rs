//! Streaming multipart uploads with multer: each file part goes to a temp file while
//! it is hashed (SHA-256), then into the blob store under an id. Memory does not grow
//! with file size; on any error — or if the request is dropped half-way (the client
//! went away) — every file written so far is removed.
//!
//! Each upload holds a socket and a temp file for as long as it runs, so uploads in
//! flight are capped, per caller and in total ([`Slots`]); over a cap the upload is
//! refused at once with 503 `busy` before any of its body is read, and ordinary
//! requests keep their file descriptors.

use crate::error::ApiError;
use crate::principal::Caller;
use actix_web::{HttpMessage, HttpRequest, web};
use bytes::Bytes;
use futures_util::StreamExt;
use heepr_store::files::{StagedFile, new_file_key};
use heepr_store::storage::BlobStore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::AsyncWriteExt;

/// Upload limits (config).
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    /// Largest single file.
    pub max_file_bytes: u64,
    /// Most files per request.
    pub max_files: usize,
    /// Largest whole request.
    pub max_total_bytes: u64,
    /// Most parts (files + text fields).
    pub max_parts: usize,
    /// Largest text part.
    pub max_text_bytes: usize,
    /// Most uploads in flight at once, all callers together.
    pub max_in_flight: usize,
    /// Most uploads in flight at once for one caller (a user or an agent).
    pub per_caller: usize,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 2 << 30,
            max_files: 20,
            max_total_bytes: 4 << 30,
            max_parts: 50,
            max_text_bytes: 1 << 20,
            max_in_flight: 256,
            per_caller: 4,
        }
    }
}

/// Uploads in flight, counted against [`UploadLimits::max_in_flight`] and
/// [`UploadLimits::per_caller`].
pub(crate) struct Slots {
    total: usize,
    per_caller: usize,
    taken: Arc<Mutex<Taken>>,
}

#[derive(Default)]
struct Taken {
    total: usize,
    by_caller: HashMap<String, usize>,
}

/// One upload's place; given back on drop.
pub(crate) struct Slot {
    taken: Arc<Mutex<Taken>>,
    caller: String,
}

impl Slots {
    pub(crate) fn new(limits: &UploadLimits) -> Self {
        Self {
            total: limits.max_in_flight,
            per_caller: limits.per_caller,
            taken: Arc::default(),
        }
    }

    /// A place for one more upload of `caller`, or 503 `busy`.
    pub(crate) fn take(&self, caller: &str) -> Result<Slot, ApiError> {
        let mut t = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = t.by_caller.get(caller).copied().unwrap_or(0);
        if t.total >= self.total || mine >= self.per_caller {
            tracing::debug!(in_flight = t.total, caller_in_flight = mine, "upload refused: busy");
            return Err(ApiError::UploadsBusy);
        }
        t.total += 1;
        *t.by_caller.entry(caller.to_owned()).or_default() += 1;
        Ok(Slot {
            taken: self.taken.clone(),
            caller: caller.to_owned(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut t = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        t.total = t.total.saturating_sub(1);
        if let Some(n) = t.by_caller.get_mut(&self.caller) {
            *n -= 1;
            if *n == 0 {
                t.by_caller.remove(&self.caller);
            }
        }
    }
}

/// What a multipart request carried.
#[derive(Default)]
pub struct Upload {
    /// Text parts by name (repeatable).
    pub fields: HashMap<String, Vec<String>>,
    /// Files already in the blob store.
    pub files: Vec<StagedFile>,
}

impl Upload {
    /// The first text part with this name.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    /// Removes every stored file (the command that needed them failed). The deletions
    /// are started, not awaited: the answer does not wait for the store.
    pub fn discard(&self, blobs: &dyn BlobStore) {
        for f in &self.files {
            drop(blobs.delete(&f.key));
        }
    }
}

/// Whether the request is multipart/form-data.
pub fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// Keeps the last path segment, drops control and shell-hostile characters, caps the
/// length. Stored names are ids; this is only what a download offers.
pub fn sanitize_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .take(200)
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').to_owned();
    if trimmed.is_empty() { "file".into() } else { trimmed }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::BadMultipart(msg.into())
}

fn multer_error(e: multer::Error) -> ApiError {
    match e {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => ApiError::TooLarge,
        multer::Error::StreamReadFailed(cause) => {
            match cause.downcast_ref::<std::io::Error>().and_then(crate::slow::stalled_io) {
                Some(secs) => ApiError::BodyStalled(secs),
                None => bad(multer::Error::StreamReadFailed(cause).to_string()),
            }
        }
        other => bad(other.to_string()),
    }
}

/// A temp file, removed on drop unless it was moved into the blob store.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The files of an upload still being read: deleted on drop unless the upload
/// finished (an error, or the request future dropped when the client went away).
struct Unfinished {
    blobs: Arc<dyn BlobStore>,
    up: Upload,
    finished: bool,
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if !self.finished {
            self.up.discard(&*self.blobs);
        }
    }
}

/// Reads a multipart body. Parts named `file_field` (or carrying a file name) are
/// files; everything else is text.
pub async fn read_multipart(
    req: &HttpRequest,
    payload: web::Payload,
    blobs: Arc<dyn BlobStore>,
    limits: UploadLimits,
    file_field: &str,
) -> Result<Upload, ApiError> {
    let ct = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(ct).map_err(|e| bad(format!("content type: {e}")))?;
    // A place among the uploads in flight, before any of the body is read.
    let slots = req
        .app_data::<web::Data<crate::app::AppState>>()
        .ok_or_else(|| ApiError::Blocking("application state missing".into()))?;
    let caller = req
        .extensions()
        .get::<Caller>()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    let _slot = slots.upload_slots.take(&caller)?;
    // actix's payload is !Send: pump it through a small bounded channel (back-pressure)
    // into a stream multer accepts.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let mut payload = payload;
    actix_web::rt::spawn(async move {
        while let Some(chunk) = payload.next().await {
            // An I/O error keeps its cause, so a stalled body is still told apart.
            let item = chunk.map_err(|e| match e {
                actix_web::error::PayloadError::Io(io) => io,
                other => std::io::Error::other(other.to_string()),
            });
            let stop = item.is_err();
            if tx.send(item).await.is_err() || stop {
                break;
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(limits.max_total_bytes)
            .per_field(limits.max_file_bytes.max(limits.max_text_bytes as u64)),
    );
    let mut mp = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut unfinished = Unfinished {
        blobs: blobs.clone(),
        up: Upload::default(),
        finished: false,
    };
    read_parts(&mut mp, &mut unfinished.up, &*blobs, limits, file_field).await?;
    unfinished.finished = true;
    Ok(std::mem::take(&mut unfinished.up))
}

async fn read_parts(
    mp: &mut multer::Multipart<'_>,
    up: &mut Upload,
    blobs: &dyn BlobStore,
    limits: UploadLimits,
    file_field: &str,
) -> Result<(), ApiError> {
    let mut parts = 0usize;
    // One per file in `up.files`, same order: removed on drop until committed.
    let mut temps: Vec<TempFile> = Vec::new();
    while let Some(mut field) = mp.next_field().await.map_err(multer_error)? {
        parts += 1;
        if parts > limits.max_parts {
            return Err(bad(format!("at most {} parts", limits.max_parts)));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name == file_field || field.file_name().is_some() {
            if up.files.len() >= limits.max_files {
                return Err(bad(format!("at most {} files", limits.max_files)));
            }
            let file_name = sanitize_name(field.file_name().unwrap_or("file"));
            let content_type = field
                .content_type()
                .map(|m| m.essence_str().to_owned())
                .unwrap_or_else(|| "application/octet-stream".into());
            let key = new_file_key();
            let temp = blobs.temp_dir().join(&key);
            let guard = TempFile(Some(temp.clone()));
            let mut out = tokio::fs::File::create(&temp)
                .await
                .map_err(|e| ApiError::Blocking(e.to_string()))?;
            let mut hasher = Sha256::new();
            let mut bytes: u64 = 0;
            let copied: Result<(), ApiError> = async {
                while let Some(chunk) = field.chunk().await.map_err(multer_error)? {
                    bytes += chunk.len() as u64;
                    if bytes > limits.max_file_bytes {
                        return Err(ApiError::TooLarge);
                    }
                    hasher.update(&chunk);
                    out.write_all(&chunk)
                        .await
                        .map_err(|e| ApiError::Blocking(e.to_string()))?;
                }
                out.flush().await.map_err(|e| ApiError::Blocking(e.to_string()))?;
                Ok(())
            }
            .await;
            drop(out);
            copied?;
            temps.push(guard);
            up.files.push(StagedFile {
                key,
                name: file_name,
                content_type,
                bytes: bytes as i64,
                sha256: hex::encode(hasher.finalize()),
            });
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multer_error)? {
                text.extend_from_slice(&chunk);
                if text.len() > limits.max_text_bytes {
                    return Err(ApiError::TooLarge);
                }
            }
            let text = String::from_utf8(text).map_err(|_| bad(format!("part {name} is not UTF-8")))?;
            up.fields.entry(name).or_default().push(text);
        }
    }
    // Into the blob store only once the whole upload is here: a stored blob waits for
    // its row no longer than the command that writes it (the orphan sweep counts on it).
    for (guard, file) in temps.iter_mut().zip(&up.files) {
        if let Some(temp) = &guard.0 {
            if let Err(e) = blobs.commit(temp, &file.key).await {
                tracing::warn!(key = %file.key, error = %e, "storing an upload failed");
                return Err(ApiError::StorageUnavailable);
            }
            guard.0 = None;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_sanitised() {
        use super::sanitize_name as s;
        assert_eq!(s("../../etc/passwd"), "passwd");
        assert_eq!(s("C:\\x\\report.pdf"), "report.pdf");
        assert_eq!(s("<script>.html"), "_script_.html");
        assert_eq!(s(".hidden"), "hidden");
        assert_eq!(s(""), "file");
        assert_eq!(s("a\u{0}b"), "a_b");
    }
}
