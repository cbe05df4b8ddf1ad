//! A user's data export as a zip, streamed: a blocking thread reads the store page by
//! page and the blob store file by file, writes the archive through a bounded channel
//! to the response body, and hashes every entry as it goes by, for `manifest.json`.
//! Memory stays flat whatever the export's size: a page of rows, a channel of a few
//! chunks, and one line of the manifest per entry.

mod json;

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use heepr_domain::export::{JSON_ENTRIES, README, Side, file_entry};
use heepr_store::Store;
use heepr_store::export::EXPORT_PAGE;
use heepr_store::storage::BlobStore;
use heepr_store::user::UserRecord;
use json::{Manifest, ManifestEntry};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::{self, Seek, Write};
use std::sync::Arc;
use tokio::sync::mpsc;
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

/// Bytes gathered before a chunk goes to the response.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight between the writer and the response (bounds memory per export).
const IN_FLIGHT: usize = 8;

type Chunk = Result<Bytes, io::Error>;

/// The export of `user`, as a stream of zip bytes. The archive is written on a blocking
/// thread; if the client goes away, the next write fails and the thread stops.
pub(crate) fn stream(
    store: Store,
    blobs: Arc<dyn BlobStore>,
    user: UserRecord,
    now: DateTime<Utc>,
) -> impl Stream<Item = Chunk> {
    let (tx, rx) = mpsc::channel::<Chunk>(IN_FLIGHT);
    let span = tracing::Span::current();
    actix_web::rt::task::spawn_blocking(move || {
        let _in = span.enter();
        let sink = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        if let Err(e) = write_archive(&store, blobs.as_ref(), &user, now, sink) {
            if e.kind() != io::ErrorKind::BrokenPipe {
                tracing::warn!(error = %e, user = %user.id, "data export failed");
            }
            let _ = tx.blocking_send(Err(e));
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) })
}

/// Hands the zip's bytes to the response in chunks, waiting while the client is slower.
struct ChannelWriter {
    tx: mpsc::Sender<Chunk>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

fn store_err(e: heepr_store::StoreError) -> io::Error {
    io::Error::other(e.to_string())
}

/// The archive being written, with the manifest of what went in.
struct Archive<W: Write + Seek> {
    zip: ZipWriter<W>,
    manifest: Vec<ManifestEntry>,
}

/// The entry being written: what goes into the zip is hashed and counted on the way.
struct Entry<'a, W: Write + Seek> {
    zip: &'a mut ZipWriter<W>,
    sha: Sha256,
    bytes: u64,
}

impl<W: Write + Seek> Write for Entry<'_, W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.zip.write(data)?;
        self.sha.update(&data[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.zip.flush()
    }
}

impl<W: Write + Seek> Archive<W> {
    /// Writes one entry with `fill`, and its line of the manifest.
    fn entry(
        &mut self,
        path: String,
        options: SimpleFileOptions,
        fill: impl FnOnce(&mut Entry<'_, W>) -> io::Result<()>,
    ) -> io::Result<()> {
        self.zip.start_file(path.as_str(), options).map_err(io::Error::other)?;
        let mut e = Entry {
            zip: &mut self.zip,
            sha: Sha256::new(),
            bytes: 0,
        };
        fill(&mut e)?;
        let (sha, bytes) = (hex::encode(e.sha.finalize()), e.bytes);
        self.manifest.push(ManifestEntry {
            path,
            bytes,
            sha256: sha,
        });
        Ok(())
    }

    /// A JSON document entry.
    fn json(&mut self, path: &str, value: &impl Serialize) -> io::Result<()> {
        self.entry(path.to_owned(), deflated(), |e| {
            serde_json::to_writer_pretty(&mut *e, value)?;
            e.write_all(b"\n")
        })
    }

    /// A JSON array entry, written page by page: `page(after)` returns the next rows
    /// and the cursor after them (an empty page ends it).
    fn json_pages<T, C: Clone>(
        &mut self,
        path: &str,
        start: C,
        mut page: impl FnMut(C) -> io::Result<(Vec<T>, C)>,
        mut each: impl FnMut(&mut Entry<'_, W>, &T) -> io::Result<()>,
    ) -> io::Result<()> {
        self.entry(path.to_owned(), deflated(), |e| {
            e.write_all(b"[")?;
            let mut first = true;
            let mut cursor = start;
            loop {
                let (rows, next) = page(cursor)?;
                if rows.is_empty() {
                    break;
                }
                for row in &rows {
                    e.write_all(if first { b"\n  " } else { b",\n  " })?;
                    first = false;
                    each(e, row)?;
                }
                cursor = next;
            }
            e.write_all(if first { b"]\n" } else { b"\n]\n" })
        })
    }
}

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

fn row(e: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(e, value).map_err(io::Error::from)
}

/// The last id of a page, the cursor of the next.
fn last_id<T>(rows: &[T], id: impl Fn(&T) -> &str, before: String) -> String {
    rows.last().map_or(before, |r| id(r).to_owned())
}

fn write_archive(
    store: &Store,
    blobs: &dyn BlobStore,
    user: &UserRecord,
    now: DateTime<Utc>,
    sink: ChannelWriter,
) -> io::Result<()> {
    let me = &user.id;
    let mut a = Archive {
        zip: ZipWriter::new_stream(sink),
        manifest: Vec::with_capacity(JSON_ENTRIES.len() + 2),
    };
    a.entry("README.txt".into(), deflated(), |e| e.write_all(README.as_bytes()))?;
    a.json("profile.json", &json::Profile::new(user, now))?;
    a.json("roles.json", &user.roles)?;
    a.json("consents.json", &json::Consents::new(user))?;
    let sessions = store.export_sessions(me).map_err(store_err)?;
    a.json(
        "sessions.json",
        &sessions.iter().map(json::Session::from).collect::<Vec<_>>(),
    )?;
    let keys = store.export_key_use(me).map_err(store_err)?;
    a.json(
        "api_keys.json",
        &keys.iter().map(json::ApiKey::from).collect::<Vec<_>>(),
    )?;
    let agents = store.export_agents(me).map_err(store_err)?;
    a.json("agents.json", &agents.iter().map(json::Agent::from).collect::<Vec<_>>())?;
    for (path, side) in [
        ("orders_as_customer.json", Side::Customer),
        ("orders_as_owner.json", Side::Owner),
    ] {
        a.json_pages(
            path,
            String::new(),
            |after| {
                let rows = store.export_orders(me, side, &after, EXPORT_PAGE).map_err(store_err)?;
                let next = rows.last().map_or(after, |r| r.order.id.to_string());
                Ok((rows, next))
            },
            |e, o| row(e, &json::Order::from(o)),
        )?;
    }
    a.json_pages(
        "messages.json",
        String::new(),
        |after| {
            let rows = store.export_messages(me, &after, EXPORT_PAGE).map_err(store_err)?;
            let next = last_id(&rows, |r| &r.id, after);
            Ok((rows, next))
        },
        |e, m| row(e, &json::Message::from(m)),
    )?;
    a.json_pages(
        "offers.json",
        String::new(),
        |after| {
            let rows = store.export_offers(me, &after, EXPORT_PAGE).map_err(store_err)?;
            let next = last_id(&rows, |r| &r.id, after);
            Ok((rows, next))
        },
        |e, o| row(e, &json::Offer::from(o)),
    )?;
    for (path, side) in [
        ("reviews_written.json", Side::Customer),
        ("reviews_received.json", Side::Owner),
    ] {
        a.json_pages(
            path,
            String::new(),
            |after| {
                let rows = store.export_reviews(me, side, &after, EXPORT_PAGE).map_err(store_err)?;
                let next = last_id(&rows, |r| &r.id, after);
                Ok((rows, next))
            },
            |e, r| row(e, &json::Review::from(r)),
        )?;
    }
    let accounts = store.export_accounts(me).map_err(store_err)?;
    a.json_pages(
        "ledger.json",
        0i64,
        |after| {
            let rows = store
                .export_transfers(&accounts, after, EXPORT_PAGE)
                .map_err(store_err)?;
            let next = rows.last().map_or(after, |r| r.seq);
            Ok((rows, next))
        },
        |e, t| row(e, &json::Transfer::from(t)),
    )?;
    let file_page = |after: String| {
        let rows = store.export_files(me, &after, EXPORT_PAGE).map_err(store_err)?;
        let next = last_id(&rows, |r| &r.id, after);
        Ok((rows, next))
    };
    a.json_pages("files.json", String::new(), file_page, |e, f| {
        row(e, &json::File::new(f, Some(path_of(f))))
    })?;
    // The files themselves, read again page by page (the listing is not kept).
    let mut after = String::new();
    loop {
        let (rows, next) = file_page(after)?;
        if rows.is_empty() {
            break;
        }
        for f in &rows {
            let mut blob = match blobs.open(&f.storage_key) {
                Ok(b) => b,
                // Gone under the retention rule after files.json was written: no entry
                // (the manifest lists only what the archive holds).
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            // Stored, not deflated: uploads are mostly compressed already, and this
            // keeps an export of a gigabyte of files I/O-bound.
            let options = SimpleFileOptions::default()
                .compression_method(CompressionMethod::Stored)
                .large_file(f.bytes >= i64::from(u32::MAX));
            a.entry(path_of(f), options, |e| io::copy(&mut blob, e).map(drop))?;
        }
        after = next;
    }
    let Archive { mut zip, manifest } = a;
    zip.start_file("manifest.json", deflated()).map_err(io::Error::other)?;
    serde_json::to_writer_pretty(
        &mut zip,
        &Manifest {
            format: "heepr-export-1",
            user_id: me.as_str(),
            exported_at: now,
            entries: &manifest,
        },
    )?;
    let sink: StreamWriter<ChannelWriter> = zip.finish().map_err(io::Error::other)?;
    sink.into_inner().flush()
}

fn path_of(f: &heepr_store::export::FileMeta) -> String {
    file_entry(&f.order_id, &f.id, f.delivery_id.is_some(), &f.name)
}
