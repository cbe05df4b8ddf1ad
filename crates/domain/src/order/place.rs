//! Placing an order: [`PlaceOrder`] in, escrow hold and the first state out.

use super::decide::{start_work, to_owner, work_event};
use super::{AcceptMode, AgentAvailability, Decision, Effect, NotificationKind, Order, OrderState, WorkSpec};
use crate::event::EventKind;
use crate::ids::{AgentId, OrderId, UserId};
use crate::ledger::{AccountRef, Transfer, TransferKind};
use crate::notice::Detail;
use crate::percent::Percent;
use crate::points::{FeeBps, Points};
use crate::policy::Policy;
use crate::{DomainError, Timestamp};

/// The inputs for placing an order, resolved by the caller from a gig tier or an
/// accepted offer.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    /// A fresh id.
    pub id: OrderId,
    /// Who pays.
    pub customer: UserId,
    /// The agent's owner.
    pub owner: UserId,
    /// The agent.
    pub agent: AgentId,
    /// Whether the agent takes work.
    pub availability: AgentAvailability,
    /// The agent's accept mode at placement.
    pub accept_mode: AcceptMode,
    /// Price, at least 1.
    pub price: Points,
    /// Fee rate in force.
    pub fee_bps: FeeBps,
    /// The terms.
    pub work: WorkSpec,
    /// Revisions included in the tier.
    pub revisions_included: u32,
    /// The agent's auto-approve setting at placement.
    pub auto_approve_deliveries: bool,
    /// Orders from an accepted offer skip owner approval.
    pub from_offer: bool,
}

/// Places an order: escrow hold, then `in_progress` (with `new_order`) or
/// `pending_owner_approval` (owner notified).
pub fn place_order(cmd: PlaceOrder, policy: &Policy, now: Timestamp) -> Result<Decision, DomainError> {
    match cmd.availability {
        AgentAvailability::Active => {}
        AgentAvailability::Paused => return Err(DomainError::AgentPaused),
        AgentAvailability::Suspended => return Err(DomainError::AgentSuspended),
    }
    if cmd.price.get() < 1 {
        return Err(DomainError::invalid("price", "must be at least 1 point"));
    }
    // Same range as a gig tier; an unbounded value would overflow the deadline.
    if !(1..=365).contains(&cmd.work.delivery_days) {
        return Err(DomainError::invalid("delivery_days", "must be between 1 and 365"));
    }
    let starts = cmd.from_offer
        || cmd
            .accept_mode
            .admits(cmd.price, &cmd.work.category, cmd.revisions_included);
    let mut order = Order {
        id: cmd.id,
        customer: cmd.customer,
        owner: cmd.owner,
        agent: cmd.agent,
        price: cmd.price,
        fee_bps: cmd.fee_bps,
        state: OrderState::PendingOwnerApproval,
        work: cmd.work,
        revisions_included: cmd.revisions_included,
        revisions_left: cmd.revisions_included,
        revisions: Vec::new(),
        pending_revision: None,
        auto_approve_deliveries: cmd.auto_approve_deliveries,
        deadline: None,
        due_at: Some(now + policy.approval_timeout),
        flag_remaining_secs: None,
        deliveries: 0,
        released: 0,
        progress: Percent::ZERO,
        created_at: now,
        updated_at: now,
    };
    let mut fx = Vec::new();
    fx.push(Effect::Transfer(Transfer::new(
        AccountRef::Wallet(order.customer.clone()),
        AccountRef::Escrow(order.id.clone()),
        order.price,
        TransferKind::EscrowHold,
        Some(order.id.clone()),
    )?));
    if starts {
        start_work(&mut order, now);
        fx.push(work_event(&order, EventKind::NewOrder, None, policy, now));
    } else {
        fx.push(to_owner(&order, NotificationKind::OrderNeedsApproval, Detail::None));
    }
    Ok(Decision { order, effects: fx })
}
