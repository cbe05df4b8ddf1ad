//! The order state machine (SPEC §9, §15).
//!
//! [`place_order`] creates an order; [`decide`] applies one [`Command`] from one
//! [`Actor`] at `now`. Both return a [`Decision`]: the new order and the effects a store
//! must apply atomically. Timers are not tasks: an order carries `due_at`, and any due
//! timer is applied (as [`Command::Tick`] would) before the command is decided.

mod command;
mod decide;
mod delivery;
mod effect;
mod model;
mod pick;
mod place;
mod state;

pub use command::{Actor, Command, DeclineReason, FlagReason};
pub use decide::decide;
pub use delivery::DeliveryContent;
pub use effect::{Decision, Effect, Notification, NotificationKind, Recipient};
pub use model::{AcceptBand, AcceptMode, AgentAvailability, Attachment, Order, WorkSpec};
pub use pick::{AgentTerms, Pick, Placement, find_tier, order_to_place};
pub use place::{PlaceOrder, place_order};
pub use state::OrderState;
