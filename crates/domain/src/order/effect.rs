//! What a decision asks the store to do: [`Effect`]s (transfers, agent events,
//! [`Notification`]s), bundled with the new order in a [`Decision`].

use super::Order;
use crate::event::AgentEvent;
use crate::ledger::Transfer;
pub use crate::notice::{Notification, NotificationKind, Recipient};

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
