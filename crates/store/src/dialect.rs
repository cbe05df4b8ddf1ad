//! Where SQL differs between SQLite and PostgreSQL — besides the two PostgreSQL-only
//! round-trip savers: `plan` (one `heepr_apply` call per command) and the one-statement
//! drain in `poll`.

use crate::connection::{AnyConnection, Backend};
use crate::prepared::exec;
use diesel::SqliteConnection;
use diesel::connection::SimpleConnection;

/// Per-connection SQLite settings. busy_timeout must come first: switching to WAL
/// takes a lock, and without a timeout concurrent pool start-up fails with
/// "database is locked". synchronous=NORMAL is durable across process crashes in WAL.
/// temp_store=MEMORY keeps the statement journal of the writer's per-command
/// SAVEPOINTs in memory: on disk, it was a pwrite for every page a command touched.
/// secure_delete=ON overwrites deleted and replaced content with zeros, so a freed
/// page or cell (in the file, and in the page images the WAL receives) keeps nothing of
/// what was there. Zeroing a cell costs nothing (its page is written anyway); a page
/// that becomes free is written once more (`FAST` would skip that and keep its data).
pub(crate) fn sqlite_pragmas(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    conn.batch_execute(
        "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA temp_store = MEMORY; PRAGMA secure_delete = ON;",
    )
}

/// Opens a write transaction. SQLite must take the write lock at BEGIN (IMMEDIATE):
/// a deferred transaction that reads, then writes, fails with SQLITE_BUSY instead of
/// waiting whenever another writer got there first.
pub(crate) fn begin_write(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    match backend_of(conn) {
        Backend::Sqlite => exec(conn, "BEGIN IMMEDIATE"),
        Backend::Postgres => exec(conn, "BEGIN"),
    }
}

/// Opens a read transaction, so multi-statement reads see one snapshot.
pub(crate) fn begin_read(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    match backend_of(conn) {
        Backend::Sqlite => exec(conn, "BEGIN DEFERRED"),
        Backend::Postgres => exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
    }
}

pub(crate) fn backend_of(conn: &AnyConnection) -> Backend {
    match conn {
        AnyConnection::Postgresql(_) => Backend::Postgres,
        AnyConnection::Sqlite(_) => Backend::Sqlite,
    }
}

/// The tables and columns a migrated database ends with, for the twin-migration test.
pub fn table_columns(conn: &mut AnyConnection) -> diesel::QueryResult<Vec<(String, String)>> {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    #[derive(QueryableByName)]
    struct Col {
        #[diesel(sql_type = Text)]
        t: String,
        #[diesel(sql_type = Text)]
        c: String,
    }
    let sql = match backend_of(conn) {
        Backend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '__diesel%' ORDER BY 1, 2"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name NOT LIKE '__diesel%' ORDER BY 1, 2"
        }
    };
    let rows: Vec<Col> = diesel::sql_query(sql).load(conn)?;
    Ok(rows.into_iter().map(|r| (r.t, r.c)).collect())
}
