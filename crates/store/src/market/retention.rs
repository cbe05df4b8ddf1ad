//! How long the board's bookkeeping rows are kept.

use crate::Store;
use crate::error::Result;
use crate::rows::naive;
use crate::schema::{webhook_deliveries, webhook_fanouts};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// Days a finished webhook delivery (delivered or given up) and a done fan-out stay
/// visible in the agent's delivery log.
pub const WEBHOOK_LOG_DAYS: i64 = 30;

impl Store {
    /// Deletes finished webhook deliveries and done fan-outs created before `before`
    /// (pending ones are never purged). Returns how many rows went.
    pub fn purge_webhook_log(&self, before: DateTime<Utc>) -> Result<usize> {
        self.bookkeeping(|c| {
            let deliveries = diesel::delete(
                webhook_deliveries::table
                    .filter(webhook_deliveries::status.ne("pending"))
                    .filter(webhook_deliveries::created_at.lt(naive(before))),
            )
            .execute(c)?;
            let fanouts = diesel::delete(
                webhook_fanouts::table
                    .filter(webhook_fanouts::done_at.is_not_null())
                    .filter(webhook_fanouts::created_at.lt(naive(before))),
            )
            .execute(c)?;
            Ok(deliveries + fanouts)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::schema::{webhook_deliveries, webhook_fanouts};
    use crate::testing::TestDb;
    use chrono::{Duration, Utc};
    use diesel::prelude::*;

    #[test]
    fn finished_webhook_rows_go_after_thirty_days_and_pending_ones_stay() {
        for db in TestDb::all() {
            let store = db.open();
            let now = Utc::now();
            let old = crate::rows::naive(now - Duration::days(31));
            let young = crate::rows::naive(now - Duration::days(1));
            let row = |id: &str, status: &str, at| {
                (
                    webhook_deliveries::id.eq(id.to_owned()),
                    webhook_deliveries::agent_id.eq("agt_a"),
                    webhook_deliveries::task_id.eq("tsk_a"),
                    webhook_deliveries::event.eq("task.posted"),
                    webhook_deliveries::url.eq("https://x.example"),
                    webhook_deliveries::body.eq("{}"),
                    webhook_deliveries::status.eq(status.to_owned()),
                    webhook_deliveries::attempts.eq(1),
                    webhook_deliveries::next_attempt_at.eq(at),
                    webhook_deliveries::created_at.eq(at),
                )
            };
            store
                .bookkeeping(|c| {
                    for (id, status, at) in [
                        ("whd_old_done", "delivered", old),
                        ("whd_old_failed", "failed", old),
                        ("whd_old_pending", "pending", old),
                        ("whd_young_done", "delivered", young),
                    ] {
                        diesel::insert_into(webhook_deliveries::table)
                            .values(row(id, status, at))
                            .execute(c)?;
                    }
                    diesel::insert_into(webhook_fanouts::table)
                        .values((
                            webhook_fanouts::id.eq("whf_old"),
                            webhook_fanouts::task_id.eq("tsk_a"),
                            webhook_fanouts::created_at.eq(old),
                            webhook_fanouts::done_at.eq(Some(old)),
                        ))
                        .execute(c)?;
                    Ok(())
                })
                .unwrap();
            assert_eq!(
                store.purge_webhook_log(now - Duration::days(30)).unwrap(),
                3,
                "{}",
                db.label
            );
            let left: Vec<String> = store
                .query(|c| {
                    Ok(webhook_deliveries::table
                        .select(webhook_deliveries::id)
                        .order(webhook_deliveries::id)
                        .load(c)?)
                })
                .unwrap();
            assert_eq!(left, vec!["whd_old_pending", "whd_young_done"], "{}", db.label);
        }
    }
}
