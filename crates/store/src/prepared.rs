//! Statements kept prepared across calls.
//!
//! diesel prepares a statement once per connection and reuses it only when it can
//! prove the SQL never varies for the query's *type*. It gives up on every UPDATE
//! (a changeset may skip `None` fields), on PostgreSQL INSERTs (a `None` may render as
//! `DEFAULT`) and on `sql_query`: those were parsed and planned again on every call —
//! on SQLite inside the one writer, on PostgreSQL in the backend, which is where both
//! lifecycle benchmarks spend their time.
//!
//! [`KeepPrepared`] caches such a statement under its SQL text (and bind types)
//! instead of its type: correct for any statement, since SQL that does vary simply
//! gets an entry per shape. Use it for fixed-shape statements only, so the
//! per-connection cache stays small. It runs the statement on the backend's own
//! connection (under `MultiConnection` diesel decides cacheability on its own copy of
//! the query), and relies on `AstPassHelper`, the pass inspection diesel exports for
//! `#[derive(MultiConnection)]` (diesel is pinned in Cargo.lock; the tests below catch
//! a change).

use crate::connection::AnyConnection;
use diesel::backend::Backend;
use diesel::internal::derives::multiconnection::AstPassHelper;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryBuilder, QueryFragment, QueryId};
use diesel::query_dsl::LoadQuery;
use diesel::sqlite::Sqlite;
use diesel::{PgConnection, QueryResult, RunQueryDsl, SqliteConnection};

/// A statement cached by its SQL text; see the module docs.
pub(crate) struct Prepared<Q> {
    query: Q,
    sql: String,
}

impl<Q> Prepared<Q> {
    fn new<DB>(query: Q, backend: &DB) -> QueryResult<Self>
    where
        DB: Backend,
        DB::QueryBuilder: Default,
        Q: QueryFragment<DB>,
    {
        let mut qb = DB::QueryBuilder::default();
        query.to_sql(&mut qb, backend)?;
        Ok(Self {
            query,
            sql: qb.finish(),
        })
    }
}

impl<Q, DB> QueryFragment<DB> for Prepared<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // The statement's own parts are walked only to collect bind values. Walking them
        // in diesel's "may this be cached?" pass would answer no again; the SQL text
        // (and so the cache key) is fixed at construction instead.
        if pass.bind_collector().is_some() || pass.debug_binds().is_some() {
            return self.query.walk_ast(pass);
        }
        pass.push_sql(&self.sql);
        Ok(())
    }
}

impl<Q> QueryId for Prepared<Q> {
    // No static id: the cache is keyed by the SQL text.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Prepared<Q> {}

/// Whether diesel caches `q` by its type already: then building its SQL text here
/// would only add work (the usual case for SQLite INSERTs).
fn diesel_caches<Q: QueryFragment<DB> + QueryId, DB: Backend>(q: &Q, backend: &DB) -> QueryResult<bool> {
    Ok(Q::HAS_STATIC_QUERY_ID && q.is_safe_to_cache_prepared(backend)?)
}

/// Runs a statement from the connection's prepared-statement cache.
pub(crate) trait KeepPrepared: Sized {
    /// Like `RunQueryDsl::execute`, prepared once per connection.
    fn execute_prepared(self, c: &mut AnyConnection) -> QueryResult<usize>
    where
        Self: QueryFragment<Sqlite>
            + QueryFragment<Pg>
            + QueryId
            + RunQueryDsl<SqliteConnection>
            + RunQueryDsl<PgConnection>,
    {
        match c {
            AnyConnection::Sqlite(c) if diesel_caches(&self, &Sqlite)? => self.execute(c),
            AnyConnection::Sqlite(c) => Prepared::new(self, &Sqlite)?.execute(c),
            AnyConnection::Postgresql(c) if diesel_caches(&self, &Pg)? => self.execute(c),
            AnyConnection::Postgresql(c) => Prepared::new(self, &Pg)?.execute(c),
        }
    }

    /// Like `RunQueryDsl::get_result`, prepared once per connection.
    fn get_result_prepared<'q, U>(self, c: &mut AnyConnection) -> QueryResult<U>
    where
        Self: Query + QueryFragment<Sqlite> + QueryFragment<Pg>,
        Prepared<Self>: LoadQuery<'q, SqliteConnection, U> + LoadQuery<'q, PgConnection, U>,
    {
        match c {
            AnyConnection::Sqlite(c) => Prepared::new(self, &Sqlite)?.get_result(c),
            AnyConnection::Postgresql(c) => Prepared::new(self, &Pg)?.get_result(c),
        }
    }

    /// Like `RunQueryDsl::load`, prepared once per connection.
    fn load_prepared<'q, U>(self, c: &mut AnyConnection) -> QueryResult<Vec<U>>
    where
        Self: Query + QueryFragment<Sqlite> + QueryFragment<Pg>,
        Prepared<Self>: LoadQuery<'q, SqliteConnection, U> + LoadQuery<'q, PgConnection, U>,
    {
        match c {
            AnyConnection::Sqlite(c) => Prepared::new(self, &Sqlite)?.load(c),
            AnyConnection::Postgresql(c) => Prepared::new(self, &Pg)?.load(c),
        }
    }
}

impl<Q> KeepPrepared for Q {}

/// Runs a fixed statement without parameters (transaction control) from a prepared
/// statement rather than parsing it on every call as `batch_execute` does.
pub(crate) fn exec(conn: &mut AnyConnection, sql: &'static str) -> QueryResult<()> {
    diesel::sql_query(sql).execute_prepared(conn).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;
    use diesel::connection::{Connection, InstrumentationEvent, SimpleConnection};
    use diesel::prelude::*;
    use std::sync::{Arc, Mutex};

    diesel::table! {
        t (id) {
            id -> Integer,
            v -> Nullable<Integer>,
        }
    }

    fn conn(db: &TestDb) -> AnyConnection {
        let mut c = crate::DbTarget::parse(&db.url).unwrap().establish().unwrap();
        c.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
            .unwrap();
        exec(&mut c, "INSERT INTO t (id, v) VALUES (1, 1)").unwrap();
        c
    }

    fn v(c: &mut AnyConnection) -> Option<i32> {
        t::table.find(1).select(t::v).first(c).unwrap()
    }

    #[test]
    fn statements_of_one_type_but_two_shapes_each_run_their_own_sql() {
        for db in TestDb::all() {
            let mut c = conn(&db);
            // One Rust type, two SQL shapes: `v = v + 1` and `v = NULL`.
            for (set, want) in [(Some(5), Some(5)), (None, None), (Some(7), Some(7))] {
                let n = diesel::update(t::table.find(1))
                    .set(t::v.eq(set))
                    .execute_prepared(&mut c)
                    .unwrap();
                assert_eq!((n, v(&mut c)), (1, want), "{}", db.label);
            }
            let got: Option<i32> = diesel::update(t::table.find(1))
                .set(t::v.eq(t::v + 1))
                .returning(t::v)
                .get_result_prepared(&mut c)
                .unwrap();
            assert_eq!(got, Some(8), "{}", db.label);
        }
    }

    #[test]
    fn an_update_and_transaction_control_are_prepared_once_per_connection() {
        for db in TestDb::all() {
            let mut c = conn(&db);
            let cached = Arc::new(Mutex::new(Vec::<String>::new()));
            let seen = cached.clone();
            c.set_instrumentation(move |e: InstrumentationEvent<'_>| {
                if let InstrumentationEvent::CacheQuery { sql, .. } = e {
                    seen.lock().unwrap().push(sql.to_owned());
                }
            });
            for _ in 0..3 {
                exec(&mut c, "BEGIN").unwrap();
                diesel::update(t::table.find(1))
                    .set(t::v.eq(t::v + 1))
                    .execute_prepared(&mut c)
                    .unwrap();
                exec(&mut c, "COMMIT").unwrap();
            }
            let cached = cached.lock().unwrap().clone();
            assert_eq!(cached.len(), 3, "{}: {cached:?}", db.label);
            assert_eq!(v(&mut c), Some(4), "{}", db.label);
        }
    }
}
