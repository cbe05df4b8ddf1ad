//! SQLite's one writer: one connection, and commits shared by whoever is queued.
//!
//! SQLite allows a single writer at a time. Pooled connections taking turns behind a
//! lock pay twice over: every other connection's commit invalidates a connection's page
//! cache, and every command pays its own WAL commit. Here all writes use one connection
//! (its cache stays warm) and commit in groups:
//!
//! - a caller takes the connection, opens the transaction if none is open, and runs its
//!   command inside a SAVEPOINT, so a refused command rolls back alone;
//! - if nobody else is waiting for the connection (or the group is full), it COMMITs
//!   and tells the group; otherwise it leaves the transaction open for the next caller
//!   and waits until a later caller has committed its group.
//!
//! A caller returns only once the transaction holding its writes has committed, so an
//! answer still means "durable" (WAL, synchronous=NORMAL). If that COMMIT fails, every
//! member of the group gets the error.

use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::prepared::exec;
use diesel::connection::SimpleConnection;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Duration;

/// How often the WAL is checkpointed (the WAL grows by about this much write work).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// WAL frames (pages) after which the writer rewinds the WAL to its start.
///
/// Under a steady write load a PASSIVE checkpoint never catches the writer, and SQLite
/// only rewinds the WAL when a checkpoint has caught up: the file grew by ~70 MB/s in
/// the lifecycle benchmark and never shrank. Past this size the writer, between two
/// groups, runs a RESTART checkpoint (the few frames since the last PASSIVE one, then
/// the next group writes from the start of the file again, over blocks already there).
const RESTART_AFTER_FRAMES: i64 = 16 * 1024;

#[derive(diesel::QueryableByName)]
struct CheckpointResult {
    /// Frames in the WAL.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    log: i64,
}

/// When the WAL is checkpointed and rewound.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WalPolicy {
    pub(crate) checkpoint_every: Duration,
    pub(crate) rewind_after_frames: i64,
}

impl Default for WalPolicy {
    fn default() -> Self {
        Self {
            checkpoint_every: CHECKPOINT_EVERY,
            rewind_after_frames: RESTART_AFTER_FRAMES,
        }
    }
}

fn checkpoint_loop(writer: Weak<Writer>, mut conn: AnyConnection, policy: WalPolicy) {
    use diesel::RunQueryDsl;
    loop {
        std::thread::sleep(policy.checkpoint_every);
        let Some(w) = writer.upgrade() else {
            return; // the store is gone
        };
        match diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<CheckpointResult>(&mut conn) {
            Ok(r) if r.log >= policy.rewind_after_frames => w.rewind_wal.store(true, Ordering::Relaxed),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; will retry"),
        }
    }
}

/// Commands committed together at most; bounds how long one group stays open.
const MAX_GROUP: usize = 64;

struct Open {
    conn: AnyConnection,
    /// The group the open transaction belongs to (`None`: no transaction open).
    group: Option<u64>,
    /// Commands run in the open transaction (kept or rolled back to their savepoint).
    members: usize,
    /// The next group number.
    next_group: u64,
}

/// Outcome of finished groups, for callers waiting on them.
#[derive(Default)]
struct Done {
    /// Every group up to this one has ended.
    ended_through: u64,
    /// Groups whose COMMIT failed, with the error (kept short: only recent ones).
    failed: Vec<(u64, String)>,
}

/// The writer connection and the group-commit bookkeeping.
pub(crate) struct Writer {
    open: Mutex<Open>,
    /// Callers waiting to take `open` (read by the holder to decide whether to commit).
    queued: AtomicUsize,
    done: Mutex<Done>,
    ended: Condvar,
    /// Set by the checkpointer when the WAL has grown past [`RESTART_AFTER_FRAMES`].
    rewind_wal: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Writer {
    /// Wraps the (SQLite) connection all writes will use, and starts checkpointing the
    /// WAL from `checkpointer`, another connection to the same file.
    ///
    /// A checkpoint copies the WAL into the database file and fsyncs both: left to
    /// SQLite's automatic checkpoint it runs inside some writer's COMMIT, holding up
    /// every queued write for milliseconds. A PASSIVE checkpoint on another connection
    /// runs beside the writer instead.
    pub(crate) fn start(mut conn: AnyConnection, checkpointer: AnyConnection, policy: WalPolicy) -> Result<Arc<Self>> {
        conn.batch_execute("PRAGMA wal_autocheckpoint = 0")?;
        let writer = Arc::new(Self::new(conn));
        let weak = Arc::downgrade(&writer);
        std::thread::Builder::new()
            .name("heepr-sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(weak, checkpointer, policy))
            .map_err(|e| StoreError::Writer(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(writer)
    }

    fn new(mut conn: AnyConnection) -> Self {
        // The writer's page cache is never invalidated by another writer: let it hold
        // the hot part of the database (index pages, recent rows) instead of 2 MiB.
        if let Err(e) = conn.batch_execute("PRAGMA cache_size = -65536") {
            tracing::warn!(error = %e, "cannot enlarge the writer's page cache");
        }
        Self {
            open: Mutex::new(Open {
                conn,
                group: None,
                members: 0,
                next_group: 1,
            }),
            queued: AtomicUsize::new(0),
            done: Mutex::new(Done::default()),
            ended: Condvar::new(),
            rewind_wal: AtomicBool::new(false),
        }
    }

    /// Writes waiting for the connection now.
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Runs `f` as one atomic command and returns once its writes are committed.
    pub(crate) fn run<T>(&self, f: impl FnOnce(&mut AnyConnection) -> Result<T>) -> Result<T> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut open = lock(&self.open);
        self.queued.fetch_sub(1, Ordering::SeqCst);

        let group = match open.group {
            Some(g) => g,
            None => {
                if self.rewind_wal.swap(false, Ordering::Relaxed) {
                    rewind_wal(&mut open.conn);
                }
                crate::dialect::begin_write(&mut open.conn)?;
                let g = open.next_group;
                open.next_group += 1;
                open.group = Some(g);
                open.members = 0;
                g
            }
        };
        if let Err(e) = exec(&mut open.conn, "SAVEPOINT cmd") {
            let ended = self.finish_if_last(&mut open, group);
            self.release(open, ended);
            return Err(e.into());
        }
        let out = catch_unwind(AssertUnwindSafe(|| f(&mut open.conn)));
        let kept = matches!(out, Ok(Ok(_)));
        let ended = if kept {
            exec(&mut open.conn, "RELEASE cmd")
        } else {
            exec(&mut open.conn, "ROLLBACK TO cmd").and_then(|()| exec(&mut open.conn, "RELEASE cmd"))
        };
        open.members += 1;
        if let Err(e) = ended {
            // The savepoint could not be closed: end the whole group here so no
            // caller's writes ride on a transaction in an unknown state.
            let _ = exec(&mut open.conn, "ROLLBACK");
            open.group = None;
            self.publish(group, Some(e.to_string()));
            self.release(open, true);
            return Err(e.into());
        }
        let committed_here = self.finish_if_last(&mut open, group);
        self.release(open, committed_here);

        let out = match out {
            Ok(out) => out,
            Err(panic) => resume_unwind(panic),
        };
        let value = out?;
        if !committed_here {
            self.wait_for(group)?;
        } else if let Some(e) = self.failure_of(group) {
            return Err(StoreError::Writer(format!("commit failed: {e}")));
        }
        Ok(value)
    }

    /// Commits the open group when nobody is queued behind the holder (or the group is
    /// full). Returns whether this call ended the group.
    fn finish_if_last(&self, open: &mut Open, group: u64) -> bool {
        if self.queued.load(Ordering::SeqCst) > 0 && open.members < MAX_GROUP {
            return false;
        }
        metrics::histogram!("heepr_sqlite_writer_group_size").record(open.members as f64);
        let failure = match exec(&mut open.conn, "COMMIT") {
            Ok(()) => None,
            Err(e) => {
                let _ = exec(&mut open.conn, "ROLLBACK");
                Some(e.to_string())
            }
        };
        open.group = None;
        self.publish(group, failure);
        true
    }

    /// Frees the writer for the next caller, then wakes the members of a group that
    /// just ended: woken waiters preempt the waker on a busy machine, and must not do
    /// so while it still holds the writer.
    fn release(&self, open: MutexGuard<'_, Open>, group_ended: bool) {
        drop(open);
        if group_ended {
            self.ended.notify_all();
        }
    }

    /// Records that `group` has ended (and how); the caller then wakes the waiters
    /// through [`Writer::release`].
    fn publish(&self, group: u64, failure: Option<String>) {
        let mut done = lock(&self.done);
        done.ended_through = done.ended_through.max(group);
        if let Some(e) = failure {
            tracing::error!(group, error = %e, "SQLite group commit failed");
            done.failed.push((group, e));
            let excess = done.failed.len().saturating_sub(1024);
            done.failed.drain(..excess);
        }
    }

    fn failure_of(&self, group: u64) -> Option<String> {
        lock(&self.done)
            .failed
            .iter()
            .find(|(g, _)| *g == group)
            .map(|(_, e)| e.clone())
    }

    fn wait_for(&self, group: u64) -> Result<()> {
        let mut done = lock(&self.done);
        while done.ended_through < group {
            done = self.ended.wait(done).unwrap_or_else(|p| p.into_inner());
        }
        match done.failed.iter().find(|(g, _)| *g == group) {
            Some((_, e)) => Err(StoreError::Writer(format!("commit failed: {e}"))),
            None => Ok(()),
        }
    }
}

/// Checkpoints what is left of the WAL and rewinds it (no transaction is open). Waits
/// (busy_timeout) for readers still on older frames; a failure only means the WAL keeps
/// growing until the next try.
fn rewind_wal(conn: &mut AnyConnection) {
    let _span = tracing::debug_span!("wal_rewind").entered();
    if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(RESTART)") {
        tracing::warn!(error = %e, "WAL restart failed; will retry");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn writer(db: &TestDb) -> Arc<Writer> {
        let target = crate::DbTarget::parse(&db.url).unwrap();
        let mut conn = target.establish().unwrap();
        conn.batch_execute("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")
            .unwrap();
        Writer::start(conn, target.establish().unwrap(), WalPolicy::default()).unwrap()
    }

    fn insert(c: &mut AnyConnection, v: i64) -> Result<()> {
        diesel::sql_query(format!("INSERT INTO t (v) VALUES ({v})")).execute(c)?;
        Ok(())
    }

    fn values(w: &Writer) -> Vec<i64> {
        w.run(|c| {
            let rows: Vec<N> = diesel::sql_query("SELECT v AS n FROM t ORDER BY v").load(c)?;
            Ok(rows.into_iter().map(|r| r.n).collect())
        })
        .unwrap()
    }

    #[test]
    fn a_refused_command_in_a_group_rolls_back_alone() {
        let db = TestDb::sqlite();
        let w = writer(&db);
        // 16 threads x 25 commands, every third one writes and then fails: the failures
        // share groups with successes and must leave nothing behind.
        std::thread::scope(|s| {
            for t in 0..16i64 {
                let w = &w;
                s.spawn(move || {
                    for i in 0..25i64 {
                        let v = t * 100 + i;
                        let r = w.run(|c| {
                            insert(c, v)?;
                            if v % 3 == 0 {
                                return Err(StoreError::Contention);
                            }
                            Ok(v)
                        });
                        assert_eq!(r.is_ok(), v % 3 != 0, "{v}: {r:?}");
                    }
                });
            }
        });
        let expected: Vec<i64> = (0..16i64)
            .flat_map(|t| (0..25i64).map(move |i| t * 100 + i))
            .filter(|v| v % 3 != 0)
            .collect();
        assert_eq!(values(&w), expected);
    }

    #[test]
    fn a_database_error_and_a_panic_leave_the_writer_usable() {
        let db = TestDb::sqlite();
        let w = writer(&db);
        w.run(|c| insert(c, 1)).unwrap();
        // A unique violation after a successful insert: both undone.
        let dup = w.run(|c| {
            insert(c, 2)?;
            insert(c, 1)
        });
        assert!(matches!(dup, Err(StoreError::Database(_))), "{dup:?}");
        let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| {
            w.run(|c| {
                insert(c, 3).unwrap();
                panic!("boom");
                #[allow(unreachable_code)]
                Ok(())
            })
        }));
        assert!(panicked.is_err());
        w.run(|c| insert(c, 4)).unwrap();
        assert_eq!(values(&w), vec![1, 4]);
    }

    #[test]
    fn the_wal_stays_bounded_under_steady_writes_and_reads() {
        let db = TestDb::sqlite();
        let target = crate::DbTarget::parse(&db.url).unwrap();
        let mut conn = target.establish().unwrap();
        conn.batch_execute("CREATE TABLE t (v INTEGER NOT NULL UNIQUE, pad TEXT NOT NULL)")
            .unwrap();
        let policy = WalPolicy {
            checkpoint_every: Duration::from_millis(20),
            rewind_after_frames: 200,
        };
        let w = Writer::start(conn, target.establish().unwrap(), policy).unwrap();
        let wal = std::path::PathBuf::from(format!("{}-wal", db.url.trim_start_matches("sqlite://")));
        let stop = std::sync::atomic::AtomicBool::new(false);
        let max_wal = std::thread::scope(|s| {
            // Readers always in flight, as on a loaded server: SQLite alone then never
            // finds a moment to rewind the WAL.
            for _ in 0..2 {
                s.spawn(|| {
                    let mut r = target.establish().unwrap();
                    while !stop.load(Ordering::Relaxed) {
                        let _: Vec<N> = diesel::sql_query("SELECT count(*) AS n FROM t").load(&mut r).unwrap();
                    }
                });
            }
            // ~24 000 frames written in all (the WAL reaches that without the rewind).
            let mut max_wal = 0;
            for v in 0..8000i64 {
                w.run(|c| {
                    diesel::sql_query(format!("INSERT INTO t (v, pad) VALUES ({v}, printf('%.2000c', 'x'))"))
                        .execute(c)?;
                    Ok(())
                })
                .unwrap();
                max_wal = max_wal.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
            }
            stop.store(true, Ordering::Relaxed);
            max_wal
        });
        let frames = max_wal / 4120;
        assert!(
            frames < 8000,
            "the WAL grew to {frames} frames with a rewind threshold of 200"
        );
    }
}
