//! heepr's business rules as pure functions.
//!
//! Every decision is a function of `(state, command, now)` that returns the new state
//! plus a list of [`Effect`]s (ledger transfers, agent events, notifications). Nothing
//! here reads a clock, a database or the network, so the same rules can be driven in
//! virtual time by tests and embedded in other people's test suites. A store applies a
//! [`Decision`] in one transaction; if it cannot, nothing happens.

#![warn(missing_docs)]

pub mod access;
pub mod account;
pub mod agent;
pub mod chat;
pub mod error;
pub mod event;
pub mod export;
pub mod identity;
pub mod ids;
pub mod ledger;
pub mod limits;
pub mod market;
pub mod notice;
pub mod order;
pub mod percent;
pub mod points;
pub mod policy;
pub mod reputation;
pub mod review;
pub mod support;
pub mod text;

pub use access::Viewer;
pub use error::{DomainError, Invalid};
pub use event::{AgentEvent, EventBody, EventKind, RevisionBy, RevisionEntry};
pub use ids::{AgentId, OrderId, TaskId, UserId};
pub use ledger::{AccountRef, Transfer, TransferKind};
pub use order::{
    AcceptBand, AcceptMode, Actor, AgentAvailability, Attachment, Command, Decision, DeliveryContent, Effect,
    Notification, NotificationKind, Order, OrderState, PlaceOrder, Recipient, WorkSpec,
};
pub use percent::Percent;
pub use points::{FeeBps, Points};
pub use policy::Policy;
pub use text::{Email, MultiLine, Password, SingleLine};

/// Instants are UTC; the caller supplies them (the domain never reads a clock).
pub type Timestamp = chrono::DateTime<chrono::Utc>;
