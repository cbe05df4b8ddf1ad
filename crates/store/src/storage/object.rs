//! Files in an S3-compatible object store (AWS S3, MinIO, Garage, Ceph, moto…) through
//! the `object_store` crate, so several instances on separate machines share them.
//!
//! Uploads in progress still go to a temp file on this machine (a [`LocalDisk`] under
//! the data directory keeps them, and its sweep clears a dead process's); a finished
//! upload is streamed to the store — one `PUT` up to [`PART_BYTES`], a multipart upload
//! of [`PART_BYTES`] parts (two in flight) above — and aborted if anything fails, so
//! nothing half-written stays under a key. Object keys are `<prefix>/<id>`.
//!
//! The S3 client runs on a small runtime of its own: its calls work the same from
//! actix's per-worker runtimes, from blocking threads and from the start-up sweep.

use super::{BlobStore, ByteStream, LocalDisk, bad_key, valid_key};
use futures_util::StreamExt;
use futures_util::future::{BoxFuture, FutureExt, ready};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig, WriteMultipart,
};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::AsyncReadExt;

/// Size of one part of a multipart upload (S3's smallest, 5 MiB); files up to this size
/// go in one `PUT`. With 10 000 parts at most, the largest file is ~48 GiB.
pub const PART_BYTES: usize = 5 << 20;
/// Parts uploaded at once: with [`PART_BYTES`], at most ~15 MiB buffered per upload.
const PARTS_IN_FLIGHT: usize = 2;
/// Read size from the temp file.
const READ_BYTES: usize = 1 << 20;

/// How to reach the store (`HEEPR_OBJECT_STORE_*`); unset values fall back to the
/// usual `AWS_*` environment variables.
#[derive(Clone, Default)]
pub struct ObjectStoreSettings {
    /// `s3://bucket` or `s3://bucket/prefix`.
    pub url: String,
    /// `http(s)://host:port` of an S3-compatible server (unset: AWS).
    pub endpoint: Option<String>,
    /// Region (`us-east-1` if neither this nor `AWS_REGION` is set).
    pub region: Option<String>,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
    /// Connect time-out, and the bound on retries of one call.
    pub timeout: Duration,
}

impl std::fmt::Debug for ObjectStoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStoreSettings")
            .field("url", &self.url)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Files in an S3-compatible bucket.
pub struct ObjectBlobs {
    temp: LocalDisk,
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    url: String,
    rt: tokio::runtime::Handle,
}

impl std::fmt::Debug for ObjectBlobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectBlobs")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// `s3://bucket[/prefix]` → (bucket, prefix).
fn parse_url(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| format!("HEEPR_OBJECT_STORE_URL must look like s3://bucket[/prefix], not {url:?}"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !bucket_ok {
        return Err(format!(
            "HEEPR_OBJECT_STORE_URL: {bucket:?} is not a bucket name (3–63 of a-z, 0-9, '-', '.')"
        ));
    }
    let prefix = prefix.trim_matches('/');
    if prefix.contains(['?', '#']) {
        return Err("HEEPR_OBJECT_STORE_URL: the prefix may not contain '?' or '#'".into());
    }
    Ok((bucket.to_owned(), prefix.to_owned()))
}

impl ObjectBlobs {
    /// Builds the client, checks that the bucket answers (a listing under the prefix:
    /// a wrong credential, a missing bucket or an unreachable server fails here, within
    /// about `timeout`), and claims a temp directory under `data_dir`.
    pub fn connect(settings: &ObjectStoreSettings, data_dir: &Path) -> io::Result<Self> {
        let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        let (bucket, prefix) = parse_url(&settings.url).map_err(invalid)?;
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&bucket);
        if let Some(endpoint) = &settings.endpoint {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(invalid(format!(
                    "HEEPR_OBJECT_STORE_ENDPOINT must be an http:// or https:// URL, not {endpoint:?}"
                )));
            }
            builder = builder.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
        }
        match &settings.region {
            Some(r) => builder = builder.with_region(r),
            None if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() => {
                builder = builder.with_region("us-east-1");
            }
            None => {}
        }
        if let Some(k) = &settings.access_key_id {
            builder = builder.with_access_key_id(k);
        }
        if let Some(s) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(s);
        }
        let timeout = settings.timeout.max(Duration::from_secs(1));
        let store = builder
            .with_client_options(
                ClientOptions::new()
                    // Plain HTTP only where an http:// endpoint was asked for.
                    .with_allow_http(settings.endpoint.as_deref().is_some_and(|e| e.starts_with("http://")))
                    .with_connect_timeout(timeout)
                    // Downloads of large files stream for longer than any whole-request
                    // bound; a stalled read is what fails.
                    .with_timeout_disabled()
                    .with_read_timeout(Duration::from_secs(60)),
            )
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: timeout,
            })
            .build()
            .map_err(|e| invalid(format!("object store: {e}")))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("heepr-objects")
            .enable_all()
            .build()?;
        // One per process, for its whole life: never dropped (dropping a runtime from
        // inside another one panics).
        let rt: &'static tokio::runtime::Runtime = Box::leak(Box::new(rt));
        let store: Arc<dyn ObjectStore> = Arc::new(store);
        let prefix = ObjectPath::from(prefix.as_str());
        let probe_store = store.clone();
        let probe_prefix = prefix.clone();
        let probed = rt.block_on(async move {
            tokio::time::timeout(timeout * 3, probe_store.list_with_delimiter(Some(&probe_prefix))).await
        });
        let url = settings.url.clone();
        match probed {
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, format!("{url}: no answer"))),
            Ok(Err(e)) => return Err(io::Error::other(format!("{url}: {}", one_line(&e.to_string())))),
            Ok(Ok(_)) => {}
        }
        Ok(Self {
            temp: LocalDisk::new(data_dir)?,
            store,
            prefix,
            url,
            rt: rt.handle().clone(),
        })
    }

    fn object_path(&self, key: &str) -> io::Result<ObjectPath> {
        if !valid_key(key) {
            return Err(bad_key());
        }
        Ok(self.prefix.clone().join(key))
    }

    /// Runs `work` on the client's runtime; the returned future only waits for it.
    fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = io::Result<T>> + Send + 'static,
    ) -> BoxFuture<'static, io::Result<T>> {
        let task = self.rt.spawn(work);
        async move {
            task.await
                .map_err(|e| io::Error::other(format!("object store task: {e}")))?
        }
        .boxed()
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn upload(store: &dyn ObjectStore, path: &ObjectPath, temp: &Path) -> io::Result<()> {
    let mut file = tokio::fs::File::open(temp).await?;
    let len = file.metadata().await?.len();
    if len <= PART_BYTES as u64 {
        let mut buf = Vec::with_capacity(len as usize);
        file.read_to_end(&mut buf).await?;
        store.put(path, PutPayload::from(buf)).await?;
        return Ok(());
    }
    let mut writer = WriteMultipart::new_with_chunk_size(store.put_multipart(path).await?, PART_BYTES);
    let mut buf = vec![0u8; READ_BYTES];
    let copied: io::Result<()> = async {
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
            writer.write(&buf[..n]);
        }
    }
    .await;
    match copied {
        // `finish` aborts the upload itself when a part or the completion fails.
        Ok(()) => writer.finish().await.map(drop).map_err(io::Error::from),
        Err(e) => {
            if let Err(abort) = writer.abort().await {
                tracing::warn!(error = %abort, "aborting a failed multipart upload failed");
            }
            Err(e)
        }
    }
}

impl BlobStore for ObjectBlobs {
    fn temp_dir(&self) -> PathBuf {
        self.temp.temp_dir()
    }

    fn commit(&self, temp: &Path, key: &str) -> BoxFuture<'static, io::Result<()>> {
        let path = match self.object_path(key) {
            Ok(p) => p,
            Err(e) => return ready(Err(e)).boxed(),
        };
        let store = self.store.clone();
        let temp = temp.to_owned();
        self.run(async move {
            upload(&*store, &path, &temp).await?;
            // Stored: the temp copy goes (the caller's guard removes it on failure).
            match tokio::fs::remove_file(&temp).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        })
    }

    fn open(&self, key: &str) -> BoxFuture<'static, io::Result<ByteStream>> {
        let path = match self.object_path(key) {
            Ok(p) => p,
            Err(e) => return ready(Err(e)).boxed(),
        };
        let store = self.store.clone();
        let rt = self.rt.clone();
        self.run(async move {
            let mut body = store.get(&path).await?.into_stream();
            // Pumped on the client's runtime into a small bounded channel: back-pressure
            // from the reader, a few chunks in memory at most.
            let (tx, mut rx) = tokio::sync::mpsc::channel::<io::Result<bytes::Bytes>>(4);
            rt.spawn(async move {
                while let Some(chunk) = body.next().await {
                    let stop = chunk.is_err();
                    if tx.send(chunk.map_err(io::Error::from)).await.is_err() || stop {
                        break;
                    }
                }
            });
            let stream: ByteStream = Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
            Ok(stream)
        })
    }

    fn delete(&self, key: &str) -> BoxFuture<'static, io::Result<()>> {
        let path = match self.object_path(key) {
            Ok(p) => p,
            Err(e) => return ready(Err(e)).boxed(),
        };
        let store = self.store.clone();
        self.run(async move {
            match store.delete(&path).await {
                Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn sweep_temp(&self) -> io::Result<usize> {
        self.temp.sweep_temp()
    }

    fn keys_older_than(&self, cutoff: SystemTime) -> BoxFuture<'static, io::Result<Vec<String>>> {
        let store = self.store.clone();
        let prefix = self.prefix.clone();
        let cutoff = chrono::DateTime::<chrono::Utc>::from(cutoff);
        self.run(async move {
            let mut keys = Vec::new();
            let mut listing = store.list(Some(&prefix));
            while let Some(meta) = listing.next().await {
                let meta = meta?;
                let Some(key) = meta.location.filename() else {
                    continue;
                };
                if meta.last_modified < cutoff && valid_key(key) {
                    keys.push(key.to_owned());
                }
            }
            Ok(keys)
        })
    }

    fn describe(&self) -> String {
        format!("object store {}", self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_url;

    #[test]
    fn urls() {
        assert_eq!(parse_url("s3://files").unwrap(), ("files".into(), String::new()));
        assert_eq!(
            parse_url("s3://my.bucket/heepr/prod/").unwrap(),
            ("my.bucket".into(), "heepr/prod".into())
        );
        for bad in [
            "",
            "files",
            "http://x/y",
            "s3://",
            "s3://ab",
            "s3://Upper",
            "s3://a_b_c",
            "s3://ok-bucket/x?y",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
