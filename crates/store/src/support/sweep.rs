//! The scheduler's safety net for suspension: open work of a suspended agent that its
//! suspension did not see — an order placed through a copy of the agent's terms cached
//! (for up to a second) by another instance while the agent was being suspended.

use crate::Store;
use crate::error::{Result, StoreError};
use crate::schema::{agents, orders};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use heepr_domain::{Actor, Command, OrderId, OrderState, Policy};

impl Store {
    /// Gives every open order of a suspended agent `Command::AgentSuspended` (at most
    /// `limit` per call) through the versioned command path, exactly as the suspension
    /// would have; an order the domain leaves as it is (`delivered`, `disputed`) is
    /// skipped. Safe to run on several instances at once. Returns how many changed.
    pub fn end_suspended_work(&self, policy: &Policy, now: DateTime<Utc>, limit: i64) -> Result<usize> {
        // States the domain ends on suspension (`delivered` and `disputed` stay).
        let ending: Vec<&str> = [
            OrderState::PendingOwnerApproval,
            OrderState::InProgress,
            OrderState::Flagged,
            OrderState::DeliveredPendingOwnerReview,
            OrderState::RevisionPendingOwnerReview,
        ]
        .into_iter()
        .map(OrderState::as_str)
        .collect();
        let ids: Vec<String> = self.read(|c| {
            let suspended: Vec<String> = agents::table
                .filter(agents::suspended.eq(true))
                .select(agents::id)
                .load(c)?;
            if suspended.is_empty() {
                return Ok(vec![]);
            }
            Ok(orders::table
                .filter(orders::agent_id.eq_any(suspended))
                .filter(orders::state.eq_any(ending))
                .order(orders::created_at)
                .select(orders::id)
                .limit(limit)
                .load(c)?)
        })?;
        let mut changed = 0;
        for id in ids {
            let id = OrderId::parse(&id).ok_or_else(|| StoreError::corrupt(format!("order id {id}")))?;
            match self.command_with(
                &id,
                Actor::Admin,
                Command::AgentSuspended,
                policy,
                now,
                &|_| true,
                &|_, _| Ok(()),
            ) {
                Ok((_, true)) => changed += 1,
                Ok((_, false)) => {}
                Err(e) => tracing::warn!(order = %id, error = %e, "suspended agent's order not ended"),
            }
        }
        Ok(changed)
    }
}
