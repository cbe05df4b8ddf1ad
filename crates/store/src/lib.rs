//! heepr's storage on SQLite or PostgreSQL.
//!
//! Repositories load state, ask `heepr-domain` for a decision, and apply the new state
//! and every effect in **one** transaction with an optimistic `version` check. No
//! business rule lives here: the store only knows how to persist what was decided.

pub mod agent;
pub mod browse;
mod cache;
pub mod chat;
pub mod connection;
pub mod credentials;
pub mod delivery;
pub mod dialect;
mod error;
mod event_wire;
pub mod files;
pub mod idempotency;
pub mod ledger;
mod legacy;
mod listen;
pub mod mail;
pub mod market;
mod migrate;
pub mod notice;
pub mod order;
pub mod placement;
mod plan;
pub mod poll;
mod prepared;
pub mod ratelimit;
pub mod review;
mod rows;
pub mod schema;
pub mod session;
pub mod storage;
pub mod support;
pub mod testing;
pub mod user;
mod writer;

pub use connection::{AnyConnection, Backend, DbTarget, mask_password};
pub use error::{KeyReject, Result, StoreError};

use chrono::{DateTime, SubsecRound, Utc};
use diesel::connection::SimpleConnection;
use std::sync::{Arc, RwLock};
use std::time::Duration;

type Pool = diesel::r2d2::Pool<connection::Manager>;

/// A handle on the database: cheap to clone, safe to share across threads.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    backend: Backend,
    /// SQLite has one writer: all writes go through one connection that commits in
    /// groups (see `writer`). Leaving writers to busy_timeout lets an unlucky one sleep
    /// and retry for seconds while others cut in. `None` on PostgreSQL.
    sqlite_writer: Option<Arc<writer::Writer>>,
    /// In-process read caches for the idle-poll hot path.
    cache: Arc<cache::Caches>,
    /// The public base URL agent events link to (see [`Store::set_base_url`]); shared
    /// by every clone.
    base_url: Arc<RwLock<Arc<str>>>,
    /// The database, for the LISTEN connection ([`Store::listen_to_other_instances`]).
    target: DbTarget,
    /// This instance's name in its notifications (it skips its own).
    instance: Arc<str>,
}

/// How to open a [`Store`].
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `DATABASE_URL`.
    pub url: String,
    /// Pooled connections.
    pub pool_size: u32,
}

impl Store {
    /// Opens the database, applies pending migrations and builds the pool. Every error
    /// names the real cause (unreachable server, unwritable directory, bad URL).
    pub fn open(cfg: &StoreConfig) -> Result<Self> {
        let target = DbTarget::parse(&cfg.url)?;
        let mut first = target.establish()?;
        migrate::run(&mut first)?;
        let sqlite_writer = match target.backend() {
            Backend::Sqlite => Some(writer::Writer::start(
                first,
                target.establish()?,
                writer::WalPolicy::default(),
            )?),
            Backend::Postgres => None,
        };
        let pool = diesel::r2d2::Pool::builder()
            .max_size(cfg.pool_size.max(1))
            .connection_timeout(Duration::from_secs(10))
            // No `SELECT 1` before every use (a round trip per request on PostgreSQL):
            // a connection that fails at the connection level is marked broken and
            // dropped when it comes back (`with_conn`).
            .test_on_check_out(false)
            .build(connection::Manager::new(target.clone()))
            .map_err(|e| StoreError::Connect {
                url: target.display(),
                cause: e.to_string(),
            })?;
        Ok(Self {
            pool,
            backend: target.backend(),
            sqlite_writer,
            cache: Arc::new(cache::Caches::default()),
            base_url: Arc::new(RwLock::new(Arc::from(""))),
            target,
            instance: Arc::from(ulid()),
        })
    }

    /// On PostgreSQL, starts this instance's LISTEN connection (`listen`): what other
    /// instances' writes make stale is dropped here at once, and their events wake the
    /// long-polls waiting here. Until it is up, and whenever it is down, caches hold
    /// entries for a second and the long-poll sweeper re-reads once a second. Nothing
    /// to do on SQLite (one instance). A server calls it once; a store that is never
    /// shared by another process need not.
    pub fn listen_to_other_instances(&self) -> Result<()> {
        match &self.target {
            DbTarget::Postgres(url) => listen::start(url, self.instance.to_string(), Arc::downgrade(&self.cache)),
            DbTarget::Sqlite(_) => Ok(()),
        }
    }

    /// This instance's name: in its notifications, and its LISTEN connection's
    /// `application_name` is `heepr-listen-<name>`.
    pub fn instance_name(&self) -> &str {
        &self.instance
    }

    /// Whether this instance's LISTEN connection is up (for tests and metrics).
    pub fn hears_other_instances(&self) -> bool {
        self.cache.listening()
    }

    /// Sets the public base URL (`https://heepr.example`, no trailing slash) that the
    /// events written from now on link to: an attachment is downloaded from
    /// `{base_url}/api/orders/{order}/attachments/{file_id}`. Until it is set, links
    /// are relative to the API's root. Every clone of this store shares it.
    pub fn set_base_url(&self, base_url: &str) {
        *self.base_url.write().unwrap_or_else(|p| p.into_inner()) = Arc::from(base_url);
    }

    /// The base URL events link to.
    pub(crate) fn base_url(&self) -> Arc<str> {
        self.base_url.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers (for `/readyz`).
    pub fn ping(&self) -> Result<()> {
        self.with_conn(|c| Ok(c.batch_execute("SELECT 1")?))
    }

    /// Runs `f` on a pooled connection; a connection-level failure marks the connection
    /// broken, so the pool replaces it instead of handing it out again.
    fn with_conn<T>(&self, f: impl FnOnce(&mut AnyConnection) -> Result<T>) -> Result<T> {
        let asked = std::time::Instant::now();
        let mut pooled = self.pool.get()?;
        metrics::histogram!("heepr_db_pool_wait_seconds").record(asked.elapsed().as_secs_f64());
        let out = f(&mut pooled.conn);
        if let Err(e) = &out
            && e.is_connection_lost()
        {
            pooled.broken = true;
        }
        out
    }

    /// Runs `f` in one write transaction: committed if it returns `Ok`, rolled back
    /// otherwise (and if it panics).
    fn in_transaction<T>(&self, f: impl FnOnce(&mut AnyConnection) -> Result<T>) -> Result<T> {
        if let Some(writer) = &self.sqlite_writer {
            return writer.run(f);
        }
        self.with_conn(|c| {
            dialect::begin_write(c)?;
            Tx::run(c, f)
        })
    }

    /// A write that no rule decides — handing out events, heartbeats, the outbox's send
    /// lease, retention purges — in one transaction. Everything a user or an agent
    /// causes is a plan ([`Store::apply`]).
    pub(crate) fn bookkeeping<T>(&self, f: impl FnOnce(&mut AnyConnection) -> Result<T>) -> Result<T> {
        self.in_transaction(f)
    }

    /// Applies `plan` as one write — **the** way the store writes: through SQLite's
    /// writer, or on PostgreSQL as one `heepr_apply_v2` call outside any explicit
    /// transaction (the call commits on its own), or, for plans with steps that
    /// function does not know, statement by statement in one transaction.
    ///
    /// What the plan makes stale in the caches is dropped here once it committed, and
    /// on PostgreSQL every other instance is told in the same transaction (`listen`).
    pub(crate) fn apply(&self, plan: &plan::Plan) -> Result<()> {
        let stale = plan.stale();
        let note = (self.sqlite_writer.is_none() && !stale.is_empty()).then(|| listen::payload(&self.instance, &stale));
        let note = note.as_deref();
        match &self.sqlite_writer {
            Some(writer) => writer.run(|c| plan.apply(c)),
            None if plan.in_server() => self.with_conn(|c| plan.apply_notifying(c, note)),
            None => self.in_transaction(|c| plan.apply_notifying(c, note)),
        }?;
        for s in &stale {
            s.forget(&self.cache);
        }
        plan.record_metrics();
        Ok(())
    }

    /// Pooled connections: (open, idle). Read when metrics are scraped.
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections)
    }

    /// Writes waiting for SQLite's one writer (always 0 on PostgreSQL).
    pub fn writer_queue(&self) -> usize {
        self.sqlite_writer.as_ref().map_or(0, |w| w.queued())
    }

    /// Runs `f` on a pooled connection outside any explicit transaction: for a single
    /// statement, which is its own snapshot (saves BEGIN and COMMIT round trips).
    pub(crate) fn query<T>(&self, f: impl FnOnce(&mut AnyConnection) -> Result<T>) -> Result<T> {
        self.with_conn(f)
    }

    /// Runs `f` in one read-only snapshot.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&mut AnyConnection) -> Result<T>) -> Result<T> {
        self.with_conn(|c| {
            dialect::begin_read(c)?;
            Tx::run(c, f)
        })
    }
}

/// Ends a transaction opened by hand: COMMIT on success, ROLLBACK on error or unwind,
/// so a pooled connection never returns to the pool inside a transaction.
struct Tx<'a> {
    conn: &'a mut AnyConnection,
    done: bool,
}

impl<'a> Tx<'a> {
    fn run<T>(conn: &'a mut AnyConnection, f: impl FnOnce(&mut AnyConnection) -> Result<T>) -> Result<T> {
        let mut tx = Tx { conn, done: false };
        let out = f(tx.conn);
        tx.done = true;
        match out {
            Ok(v) => match prepared::exec(tx.conn, "COMMIT") {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = prepared::exec(tx.conn, "ROLLBACK");
                    Err(e.into())
                }
            },
            Err(e) => {
                prepared::exec(tx.conn, "ROLLBACK")?;
                Err(e)
            }
        }
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = prepared::exec(self.conn, "ROLLBACK");
        }
    }
}

/// The most rows a list query returns: a page of at most 100, plus one that tells the
/// caller whether another page follows (it asks for `limit + 1`).
pub const MAX_PAGE_ROWS: i64 = 101;

/// Truncates to the microsecond, the precision both backends store, so a time read
/// back equals the time written.
pub fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// A fresh time-sortable id body.
pub(crate) fn ulid() -> String {
    ulid::Ulid::generate().to_string()
}
