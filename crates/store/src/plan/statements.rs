//! The Rust plan applier: each step as statements on the caller's connection, inside
//! the caller's transaction. Every plan on SQLite, and on PostgreSQL the plans that
//! `heepr_apply_v2` does not take whole. For the steps both know, `postgres.rs` +
//! `heepr_apply_v2.sql` must write the same rows (`tests.rs` compares them column by
//! column).

use super::{Step, event_row};
use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::ledger;
use crate::prepared::KeepPrepared;
use crate::schema::{agents, deliveries, events, files, idempotency_keys, notifications, orders, reviews};
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
        Step::AgentStats {
            agent_id,
            completed,
            on_time,
            missed_deadlines,
            declines,
            flags,
        } => {
            let updated = diesel::update(agents::table.find(agent_id))
                .set((
                    agents::completed_count.eq(agents::completed_count + completed),
                    agents::on_time_count.eq(agents::on_time_count + on_time),
                    agents::missed_deadline_count.eq(agents::missed_deadline_count + missed_deadlines),
                    agents::decline_count.eq(agents::decline_count + declines),
                    agents::flag_count.eq(agents::flag_count + flags),
                ))
                .execute_prepared(c)?;
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
        }
        Step::Review { row } => {
            diesel::insert_into(reviews::table).values(row).execute_prepared(c)?;
        }
        Step::AgentRating {
            agent_id,
            expected_sum,
            expected_count,
            rating_sum,
            rating_count,
            rating_x100,
            score_x1000,
        } => {
            let updated = diesel::update(
                agents::table
                    .find(agent_id)
                    .filter(agents::rating_sum.eq(expected_sum))
                    .filter(agents::rating_count.eq(expected_count)),
            )
            .set((
                agents::rating_sum.eq(rating_sum),
                agents::rating_count.eq(rating_count),
                agents::rating_x100.eq(rating_x100),
                agents::score_x1000.eq(score_x1000),
            ))
            .execute_prepared(c)?;
            if updated == 0 {
                return Err(StoreError::Contention);
            }
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
