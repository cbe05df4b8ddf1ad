//! Attempt counters in fixed windows, shared by every instance on one database. The
//! HTTP crate's limiter keeps them here on PostgreSQL (on SQLite it counts in memory)
//! and decides what a count means; this is bookkeeping (`Store::bookkeeping`): it only
//! counts. Buckets are opaque strings — the limiter passes hashes, so no email address
//! or client address is stored.

use crate::Store;
use crate::connection::Backend;
use crate::error::Result;
use crate::prepared::KeepPrepared;
use crate::rows::naive;
use crate::schema::rate_limits;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

/// A bucket's attempts in its current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    /// Attempts counted in this window, the one just counted included.
    pub count: i64,
    /// When the window began.
    pub window_start: DateTime<Utc>,
}

/// One statement per bucket: a new bucket starts at 1; a bucket whose window began at
/// or before the threshold starts a new window now; otherwise it counts one more.
/// (Both backends read the old row on the right of every `SET`.)
const COUNT_PG: &str = "INSERT INTO rate_limits (bucket, window_start, attempts) VALUES ($1, $2, 1) \
     ON CONFLICT (bucket) DO UPDATE SET \
     attempts = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.attempts + 1 END, \
     window_start = CASE WHEN rate_limits.window_start <= $3 THEN excluded.window_start ELSE rate_limits.window_start END \
     RETURNING attempts, window_start";
const COUNT_SQLITE: &str = "INSERT INTO rate_limits (bucket, window_start, attempts) VALUES (?1, ?2, 1) \
     ON CONFLICT (bucket) DO UPDATE SET \
     attempts = CASE WHEN rate_limits.window_start <= ?3 THEN 1 ELSE rate_limits.attempts + 1 END, \
     window_start = CASE WHEN rate_limits.window_start <= ?3 THEN excluded.window_start ELSE rate_limits.window_start END \
     RETURNING attempts, window_start";

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    attempts: i64,
    #[diesel(sql_type = Timestamp)]
    window_start: NaiveDateTime,
}

impl Store {
    /// Counts one attempt in each bucket and returns the buckets' counts, in order. A
    /// bucket whose window began `window` or longer before `now` starts a new one at
    /// `now`.
    pub fn count_attempt(
        &self,
        buckets: &[String],
        now: DateTime<Utc>,
        window: chrono::Duration,
    ) -> Result<Vec<Attempts>> {
        let (at, expired) = (naive(now), naive(now - window));
        self.bookkeeping(|c| {
            let sql = match crate::dialect::backend_of(c) {
                Backend::Postgres => COUNT_PG,
                Backend::Sqlite => COUNT_SQLITE,
            };
            let mut out = Vec::with_capacity(buckets.len());
            for bucket in buckets {
                let row = diesel::sql_query(sql)
                    .bind::<Text, _>(bucket)
                    .bind::<Timestamp, _>(at)
                    .bind::<Timestamp, _>(expired)
                    .load_prepared::<Counted>(c)?
                    .pop()
                    .ok_or(diesel::result::Error::NotFound)?;
                out.push(Attempts {
                    count: row.attempts,
                    window_start: row.window_start.and_utc(),
                });
            }
            Ok(out)
        })
    }

    /// An attempt that succeeded: `reset` is forgotten (e.g. an email's failures from
    /// one client) and `give_back` counts one attempt less (never below zero).
    pub fn forgive_attempt(&self, reset: &str, give_back: &str) -> Result<()> {
        self.bookkeeping(|c| {
            diesel::delete(rate_limits::table.find(reset)).execute_prepared(c)?;
            diesel::update(rate_limits::table.find(give_back).filter(rate_limits::attempts.gt(0)))
                .set(rate_limits::attempts.eq(rate_limits::attempts - 1))
                .execute_prepared(c)?;
            Ok(())
        })
    }

    /// Removes buckets whose window began before `before`; returns how many.
    pub fn purge_attempts(&self, before: DateTime<Utc>) -> Result<usize> {
        self.bookkeeping(|c| {
            Ok(diesel::delete(rate_limits::table.filter(rate_limits::window_start.lt(naive(before)))).execute(c)?)
        })
    }
}
