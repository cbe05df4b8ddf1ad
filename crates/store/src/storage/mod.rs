//! Where uploaded files live, behind one trait: a private root on local disk (the
//! default, [`LocalDisk`]) or an S3-compatible object store ([`ObjectBlobs`]). Stored
//! names are ids, never user-supplied names.
//!
//! Either way an upload in progress is first written to a temp file on this machine's
//! disk (hashed as it arrives); only a whole upload goes into the store, by rename on
//! local disk and by a streamed (multipart, for large files) upload to the object store.
//! Reads stream in chunks. Memory does not grow with file size.

mod local;
mod object;

pub use local::LocalDisk;
pub use object::{ObjectBlobs, ObjectStoreSettings};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A stored file's contents, in chunks.
pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// A place for file contents. Calls that talk to a remote store return futures; the
/// work starts when the method is called, so a caller that cannot wait (a `Drop`) may
/// drop the future and the deletion still happens.
pub trait BlobStore: Send + Sync {
    /// A directory on this machine for uploads in progress (this process's own).
    fn temp_dir(&self) -> PathBuf;
    /// Moves a finished upload into the store under `key`. On failure nothing is
    /// stored under `key` (a multipart upload is aborted).
    fn commit(&self, temp: &Path, key: &str) -> BoxFuture<'static, io::Result<()>>;
    /// Opens a stored file for reading; `NotFound` if there is none.
    fn open(&self, key: &str) -> BoxFuture<'static, io::Result<ByteStream>>;
    /// Removes a stored file (missing is fine).
    fn delete(&self, key: &str) -> BoxFuture<'static, io::Result<()>>;
    /// Removes the temp files left by processes that are gone (a crash, a kill);
    /// uploads in flight in a live process, this one or another, are left alone.
    /// Returns how many files were removed.
    fn sweep_temp(&self) -> io::Result<usize>;
    /// Keys of stored files last written before `cutoff`.
    fn keys_older_than(&self, cutoff: SystemTime) -> BoxFuture<'static, io::Result<Vec<String>>>;
    /// Where the files are, for the start-up log line (no credentials).
    fn describe(&self) -> String;
}

/// Keys are ids: letters, digits and `_`.
pub(crate) fn valid_key(key: &str) -> bool {
    key.len() >= 4 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn bad_key() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "bad storage key")
}

/// Reads a file in 64 KiB chunks.
pub(crate) fn file_stream(file: tokio::fs::File) -> ByteStream {
    Box::pin(futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    }))
}
