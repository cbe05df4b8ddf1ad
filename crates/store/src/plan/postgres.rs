//! The plan applier for PostgreSQL: the whole plan as **one** call to
//! `heepr_apply_v1(jsonb)` (`heepr_apply_v1.sql`), which runs the same statements
//! inside the server — one round trip instead of one per statement, and outside an
//! explicit transaction the call is its own atomic transaction.
//!
//! The function is not a migration: [`install`] replaces it at every start, under the
//! migration lock. Its version is in its name, so during a rolling upgrade an old
//! binary keeps calling the version it knows while a new one installs and calls its
//! own. A change to the steps' semantics gets a new file and name (`_v2`); a later
//! migration drops versions no binary calls any more.

use super::Plan;
use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::prepared::KeepPrepared;
use diesel::connection::SimpleConnection;
use heepr_domain::DomainError;

/// The function's source.
const SOURCE: &str = include_str!("heepr_apply_v1.sql");

/// (Re)creates `heepr_apply_v1`. Called by `migrate::run` while it holds the lock.
pub(crate) fn install(c: &mut diesel::PgConnection) -> diesel::QueryResult<()> {
    c.batch_execute(SOURCE)
}

/// What `heepr_apply` raises when a conditional write finds its condition false.
const REFUSED_CONTENTION: &str = "heepr:contention";
const REFUSED_INSUFFICIENT: &str = "heepr:insufficient_points";
const REFUSED_NO_AGENT: &str = "heepr:no_agent";
const REFUSED_CLAIM_TAKEN: &str = "heepr:claim_taken";

pub(super) fn apply(c: &mut AnyConnection, plan: &Plan) -> Result<()> {
    let json = serde_json::to_string(plan).map_err(StoreError::corrupt)?;
    let out = diesel::sql_query("SELECT heepr_apply_v1($1::jsonb)")
        .bind::<diesel::sql_types::Text, _>(json)
        .execute_prepared(c);
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
