//! The file-descriptor budget. Every connection is a socket, every upload in flight
//! also a temp file, every pooled SQLite connection up to three files. When the
//! process runs out, `accept` fails and so does every `open`: ordinary requests get
//! 500s. At start the soft open-file limit is raised to the hard one, then the
//! connections actix accepts and the uploads in flight are sized to fit under it, with
//! room left for the database and the rest.

use heepr_http::HttpConfig;

/// Files the process needs besides connections and uploads (listeners, logs, epoll,
/// the checkpointer, blobs being downloaded, …).
const RESERVE: u64 = 64;
/// Uploads get at most a quarter of the limit (a socket and a temp file each).
const UPLOAD_SHARE: u64 = 4;
/// Upper bound of the derived upload cap (memory: each upload buffers a few chunks).
const MAX_DERIVED_UPLOADS: u64 = 1024;
/// actix's own per-worker default.
const ACTIX_MAX_CONNECTIONS: u64 = 25_000;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the limit in force.
fn open_file_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            let soft = rlimit::Resource::NOFILE.get_soft().unwrap_or(1024);
            tracing::warn!(error = %e, soft, "could not raise the open-file limit");
            soft
        }
    }
}

/// What fits under `nofile`: (uploads in flight, connections per worker).
fn budget(nofile: u64, configured_uploads: usize, db_pool: u32, workers: usize) -> (usize, usize) {
    let uploads = match configured_uploads {
        0 => (nofile / UPLOAD_SHARE).clamp(1, MAX_DERIVED_UPLOADS),
        n => n as u64,
    };
    // SQLite: the database, its WAL and shared memory per connection, plus the writer's
    // and the checkpointer's; PostgreSQL needs one socket per connection.
    let database = 3 * (u64::from(db_pool) + 2);
    let sockets = nofile.saturating_sub(RESERVE + database + uploads).max(16);
    let per_worker = (sockets / workers.max(1) as u64).clamp(1, ACTIX_MAX_CONNECTIONS);
    (uploads as usize, per_worker as usize)
}

/// Sizes uploads in flight (unless configured) and connections per worker to the
/// process's open-file limit, and says so in the log.
pub fn fit_open_files(http: &mut HttpConfig, db_pool: u32) {
    let nofile = open_file_limit();
    let workers = match http.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let (uploads, per_worker) = budget(nofile, http.uploads.max_in_flight, db_pool, workers);
    http.uploads.max_in_flight = uploads;
    http.clients.max_connections_per_worker = per_worker;
    tracing::info!(
        open_files = nofile,
        connections = per_worker * workers,
        uploads,
        uploads_per_caller = http.uploads.per_caller,
        "file budget"
    );
}

#[cfg(test)]
mod tests {
    use super::budget;

    #[test]
    fn the_budget_leaves_room_for_ordinary_requests() {
        // A common default soft limit: uploads take a quarter, sockets what is left.
        let (uploads, per_worker) = budget(1024, 0, 16, 2);
        assert_eq!(uploads, 256);
        assert_eq!(per_worker, (1024 - 64 - 54 - 256) / 2);
        // A configured cap is kept; a large limit stays under actix's default.
        assert_eq!(budget(1 << 20, 10, 16, 2), (10, 25_000));
        assert_eq!(budget(1 << 20, 0, 16, 2).0, 1024);
        // A tiny limit still serves.
        assert_eq!(budget(64, 0, 16, 4), (16, 4));
    }
}
