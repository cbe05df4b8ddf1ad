use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Applies pending migrations on a connection of either backend.
pub(crate) fn run(conn: &mut AnyConnection) -> Result<()> {
    let applied = match conn {
        AnyConnection::Postgresql(c) => {
            // Several instances may start at once against one PostgreSQL: migrate one at a time.
            c.batch_execute("SELECT pg_advisory_lock(727001)")
                .map_err(|e| StoreError::Migration(e.to_string()))?;
            let out = c
                .run_pending_migrations(POSTGRES)
                .map(|v| v.len())
                .and_then(|n| crate::plan::install_applier(c).map(|()| n).map_err(Into::into));
            let _ = c.batch_execute("SELECT pg_advisory_unlock(727001)");
            out
        }
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE).map(|v| v.len()),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(())
}
