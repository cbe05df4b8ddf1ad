//! The plan applier for PostgreSQL: the whole plan as **one** call to
//! `heepr_apply_v2(jsonb)` (`heepr_apply_v2.sql`), which runs the same statements
//! inside the server — one round trip instead of one per statement, and outside an
//! explicit transaction the call is its own atomic transaction.
//!
//! The functions are not migrations: [`install`] replaces them at every start, under
//! the migration lock. The version is in the name, so during a rolling upgrade an old
//! binary keeps calling the version it knows (`heepr_apply_v1`, installed unchanged
//! beside v2) while a new one installs and calls its own. A change to the steps'
//! semantics gets a new file and name (`_v3`); a later migration drops versions no
//! binary calls any more.

use super::Plan;
use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::prepared::KeepPrepared;
use diesel::connection::SimpleConnection;
use heepr_domain::DomainError;

/// Every version's source, oldest first; the last is the one this binary calls.
const SOURCES: [&str; 2] = [include_str!("heepr_apply_v1.sql"), include_str!("heepr_apply_v2.sql")];

/// What this binary calls.
const CALL: &str = "SELECT heepr_apply_v2($1::jsonb)";
/// The same, with the other instances told what the plan made stale (`crate::listen`)
/// in the same statement, hence the same transaction: delivered on its commit.
const CALL_NOTIFY: &str = "SELECT heepr_apply_v2($1::jsonb), pg_notify('heepr_stale', $2)";

/// (Re)creates `heepr_apply_v1` and `heepr_apply_v2`. Called by `migrate::run` while it
/// holds the lock.
pub(crate) fn install(c: &mut diesel::PgConnection) -> diesel::QueryResult<()> {
    SOURCES.iter().try_for_each(|s| c.batch_execute(s))
}

/// What `heepr_apply` raises when a conditional write finds its condition false.
const REFUSED_CONTENTION: &str = "heepr:contention";
const REFUSED_INSUFFICIENT: &str = "heepr:insufficient_points";
const REFUSED_NO_AGENT: &str = "heepr:no_agent";
const REFUSED_CLAIM_TAKEN: &str = "heepr:claim_taken";

pub(super) fn apply(c: &mut AnyConnection, plan: &Plan, note: Option<&str>) -> Result<()> {
    let Some(note) = note else {
        return apply_with(c, plan, CALL);
    };
    let json = serde_json::to_string(plan).map_err(StoreError::corrupt)?;
    let out = diesel::sql_query(CALL_NOTIFY)
        .bind::<diesel::sql_types::Text, _>(json)
        .bind::<diesel::sql_types::Text, _>(note)
        .execute_prepared(c);
    refusal(out)
}

/// `NOTIFY` of `note` on the listeners' channel, inside the caller's transaction.
pub(super) fn notify(c: &mut AnyConnection, note: &str) -> Result<()> {
    diesel::sql_query("SELECT pg_notify('heepr_stale', $1)")
        .bind::<diesel::sql_types::Text, _>(note)
        .execute_prepared(c)?;
    Ok(())
}

/// Applies `plan` through `call` (`SELECT heepr_apply_vN($1::jsonb)`): tests compare
/// versions.
pub(super) fn apply_with(c: &mut AnyConnection, plan: &Plan, call: &'static str) -> Result<()> {
    let json = serde_json::to_string(plan).map_err(StoreError::corrupt)?;
    let out = diesel::sql_query(call)
        .bind::<diesel::sql_types::Text, _>(json)
        .execute_prepared(c);
    refusal(out)
}

/// What `heepr_apply_vN` answered, its refusals told apart.
fn refusal(out: diesel::QueryResult<usize>) -> Result<()> {
    match out {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(kind, info)) => Err(match info.message() {
            REFUSED_CONTENTION => StoreError::Contention,
            REFUSED_INSUFFICIENT => DomainError::InsufficientPoints.into(),
            REFUSED_NO_AGENT => StoreError::NotFound,
            REFUSED_CLAIM_TAKEN => StoreError::ClaimTaken,
            _ => diesel::result::Error::DatabaseError(kind, info).into(),
        }),
        Err(e) => Err(e.into()),
    }
}
