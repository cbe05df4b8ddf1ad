//! Support's order commands (settling a dispute, refunding a flagged order), each with
//! its audit entry in the same plan as the order's change.

use super::rows;
use crate::error::Result;
use crate::idempotency::Once;
use crate::{Store, micros};
use chrono::{DateTime, Utc};
use heepr_domain::support::order_action;
use heepr_domain::{Actor, Command, MultiLine, Order, OrderId, Policy, UserId};

impl Store {
    /// Runs support's `cmd` on any order as `admin`, writing the audit entry (who,
    /// what, why) with the change and claiming `once`'s key with it. A command that is
    /// not support's is refused by the domain before anything is written.
    #[allow(clippy::too_many_arguments)]
    pub fn admin_order_command(
        &self,
        admin: &UserId,
        id: &OrderId,
        cmd: Command,
        reason: Option<&MultiLine>,
        policy: &Policy,
        now: DateTime<Utc>,
        once: Option<&Once<Order>>,
    ) -> Result<Order> {
        let now = micros(now);
        let audit = order_action(admin, id, &cmd, reason, now);
        self.once(once, || {
            self.command_with(id, Actor::Admin, cmd, policy, now, &|_| true, &|after, plan| {
                if let Some(once) = once {
                    once.claim_in(plan, after, now);
                }
                if let Some(a) = &audit {
                    plan.insert(rows::audit(a));
                }
                Ok(())
            })
        })
        .map(|(o, _)| o)
    }
}
