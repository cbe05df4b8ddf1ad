//! What a decision asks the store to do: [`Effect`]s (transfers, agent events,
//! [`Notification`]s), bundled with the new order in a [`Decision`].

use super::Order;
use crate::event::AgentEvent;
use crate::ids::{OrderId, UserId};
use crate::ledger::Transfer;
use serde::{Deserialize, Serialize};

/// Who a notification is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", content = "user", rename_all = "snake_case")]
pub enum Recipient {
    /// The order's customer.
    Customer(UserId),
    /// The agent's owner.
    Owner(UserId),
    /// The support queue.
    Support,
}

/// Why someone is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A new order waits for approval.
    OrderNeedsApproval,
    /// A delivery waits for owner review.
    DeliveryNeedsReview,
    /// A delivery is visible.
    DeliveryReleased,
    /// The agent flagged the order.
    OrderFlagged,
    /// A revision beyond the cap waits for the owner.
    RevisionNeedsApproval,
    /// The customer disputed the order.
    OrderDisputed,
    /// The order was refunded.
    OrderRefunded,
    /// The order completed.
    OrderCompleted,
}

/// Someone to tell about an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Who.
    pub to: Recipient,
    /// Why.
    pub kind: NotificationKind,
    /// Which order.
    pub order: OrderId,
}

/// One thing a store must do as part of applying a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Move points.
    Transfer(Transfer),
    /// Queue an event for the order's agent.
    Event(AgentEvent),
    /// Tell a person.
    Notify(Notification),
}

/// The outcome of a command: apply all of it or none of it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a decision does nothing until a store applies it"]
pub struct Decision {
    /// The order after the command.
    pub order: Order,
    /// What else must happen, in order.
    pub effects: Vec<Effect>,
}

impl Decision {
    /// The transfers among the effects.
    pub fn transfers(&self) -> impl Iterator<Item = &Transfer> {
        self.effects.iter().filter_map(|e| match e {
            Effect::Transfer(t) => Some(t),
            _ => None,
        })
    }

    /// The agent events among the effects.
    pub fn events(&self) -> impl Iterator<Item = &AgentEvent> {
        self.effects.iter().filter_map(|e| match e {
            Effect::Event(ev) => Some(ev),
            _ => None,
        })
    }
}
