//! Crash leftovers, cleared at start: temp files of uploads whose process died (a
//! crash, `kill -9`), and blobs — files on local disk or objects in the object store —
//! that no file row points at, written for a command that never committed. A blob is only an orphan once it is older than
//! [`ORPHAN_AGE`]: another instance may have just written it and be about to commit
//! its row.

use heepr_store::Store;
use heepr_store::storage::BlobStore;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How old a blob without a row must be before it is deleted. Blobs are moved into
/// the store only once a whole upload has arrived, and the row follows within the
/// command that needed them.
pub const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// Runs the sweep on its own thread (listing a large store takes a while; requests
/// are served meanwhile) and logs one line: `swept N temp files, M orphan blobs`.
pub fn start(store: Store, blobs: Arc<dyn BlobStore>) {
    let spawned = std::thread::Builder::new()
        .name("heepr-sweep".into())
        .spawn(move || match sweep(&store, &*blobs) {
            Ok((temp, orphans)) => tracing::info!("swept {temp} temp files, {orphans} orphan blobs"),
            Err(e) => tracing::warn!(error = %e, "sweeping crash leftovers failed"),
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not start the sweep of crash leftovers");
    }
}

fn sweep(store: &Store, blobs: &dyn BlobStore) -> Result<(usize, usize), String> {
    let temp = blobs.sweep_temp().map_err(|e| format!("temp files: {e}"))?;
    // The store's calls are futures (an object store answers over the network); this
    // thread waits for them on a small runtime of its own.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let cutoff = SystemTime::now() - ORPHAN_AGE;
    let old = rt
        .block_on(blobs.keys_older_than(cutoff))
        .map_err(|e| format!("listing blobs: {e}"))?;
    let kept = store.keys_with_rows(&old).map_err(|e| format!("file rows: {e}"))?;
    let mut orphans = 0;
    for key in old.iter().filter(|k| !kept.contains(*k)) {
        match rt.block_on(blobs.delete(key)) {
            Ok(()) => orphans += 1,
            Err(e) => tracing::warn!(key, error = %e, "could not delete an orphan blob"),
        }
    }
    Ok((temp, orphans))
}
