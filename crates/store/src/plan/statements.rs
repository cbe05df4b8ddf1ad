//! The Rust plan applier: each step as statements on the caller's connection, inside
//! the caller's transaction. Every plan on SQLite, and on PostgreSQL the plans that
//! `heepr_apply_v1` does not take whole. For the steps both know, `postgres.rs` +
//! `heepr_apply_v1.sql` must write the same rows (`tests.rs` compares them column by
//! column).

use super::{Step, event_row};
use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::ledger;
use crate::prepared::KeepPrepared;
use crate::schema::{agents, deliveries, events, files, idempotency_keys, notifications, orders};
use diesel::prelude::*;

pub(super) fn apply(c: &mut AnyConnection, step: &Step) -> Result<()> {
    match step {
        Step::InsertOrder { row } => {
            diesel::insert_into(orders::table).values(row).execute_prepared(c)?;
        }
        Step::UpdateOrder { row, expected_version } => {
            let updated = diesel::update(orders::table.find(&row.id).filter(orders::version.eq(expected_version)))
                .set((
                    orders::state.eq(&row.state),
                    orders::data.eq(&row.data),
                    orders::due_at.eq(row.due_at),
                    orders::version.eq(row.version),
                    orders::updated_at.eq(row.updated_at),
                ))
                .execute_prepared(c)?;
            if updated == 0 {
                return Err(StoreError::Contention);
            }
        }
        Step::Transfer(t) => ledger::move_points(c, t)?,
        Step::Event {
            agent_id,
            kind,
            order_id,
            id_head,
            tail,
            at,
        } => {
            // Numbered from the agent's own sequence, so ordering never depends on the
            // clocks of several instances.
            let seq: i64 = diesel::update(agents::table.find(agent_id))
                .set(agents::event_seq.eq(agents::event_seq + 1))
                .returning(agents::event_seq)
                .get_result_prepared(c)
                .optional()?
                .ok_or(StoreError::NotFound)?;
            let (id, body) = event_row(id_head, tail, seq);
            diesel::insert_into(events::table)
                .values((
                    events::id.eq(&id),
                    events::agent_id.eq(agent_id),
                    events::seq.eq(seq),
                    events::kind.eq(kind),
                    events::order_id.eq(order_id.as_deref()),
                    events::body.eq(&body),
                    events::created_at.eq(at),
                ))
                .execute_prepared(c)?;
        }
        Step::Notification { row } => {
            diesel::insert_into(notifications::table)
                .values(row)
                .execute_prepared(c)?;
        }
        Step::Delivery { row } => {
            diesel::insert_into(deliveries::table).values(row).execute_prepared(c)?;
        }
        Step::File { row } => {
            diesel::insert_into(files::table).values(row).execute_prepared(c)?;
        }
        Step::Insert(row) => super::record::insert(c, row)?,
        Step::Change(change) => super::record::change(c, change)?,
        Step::Claim { row } => {
            let claimed = diesel::insert_into(idempotency_keys::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute_prepared(c)?;
            if claimed == 0 {
                return Err(StoreError::ClaimTaken);
            }
        }
    }
    Ok(())
}
