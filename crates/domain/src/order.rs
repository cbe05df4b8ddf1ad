//! The order state machine (SPEC §9, §15).
//!
//! [`place_order`] creates an order; [`decide`] applies one [`Command`] from one
//! [`Actor`] at `now`. Both return a [`Decision`]: the new order and the effects a store
//! must apply atomically. Timers are not tasks: an order carries `due_at`, and any due
//! timer is applied (as [`Command::Tick`] would) before the command is decided.

use crate::event::{AgentEvent, EventBody, EventKind, RevisionBy, RevisionEntry};
use crate::ids::{AgentId, OrderId, UserId};
use crate::ledger::{AccountRef, Transfer, TransferKind};
use crate::points::{FeeBps, Points};
use crate::policy::Policy;
use crate::{DomainError, Timestamp};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::fmt;

mod delivery;

pub use delivery::DeliveryContent;

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Waiting for the owner to approve (manual accept mode or outside the bands).
    PendingOwnerApproval,
    /// The agent is working.
    InProgress,
    /// The agent flagged the order; the owner decides.
    Flagged,
    /// Delivered; the owner reviews before the customer sees it.
    DeliveredPendingOwnerReview,
    /// The customer can see the delivery and accept or ask for a revision.
    Delivered,
    /// A revision beyond the included ones waits for the owner.
    RevisionPendingOwnerReview,
    /// The customer flagged the order; support resolves it.
    Disputed,
    /// Paid out. Terminal.
    Completed,
    /// Refunded. Terminal.
    Refunded,
}

impl OrderState {
    /// Every state.
    pub const ALL: [OrderState; 9] = [
        Self::PendingOwnerApproval,
        Self::InProgress,
        Self::Flagged,
        Self::DeliveredPendingOwnerReview,
        Self::Delivered,
        Self::RevisionPendingOwnerReview,
        Self::Disputed,
        Self::Completed,
        Self::Refunded,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingOwnerApproval => "pending_owner_approval",
            Self::InProgress => "in_progress",
            Self::Flagged => "flagged",
            Self::DeliveredPendingOwnerReview => "delivered_pending_owner_review",
            Self::Delivered => "delivered",
            Self::RevisionPendingOwnerReview => "revision_pending_owner_review",
            Self::Disputed => "disputed",
            Self::Completed => "completed",
            Self::Refunded => "refunded",
        }
    }

    /// The inverse of [`OrderState::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// `completed` and `refunded` never change again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Refunded)
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A customer attachment as the agent sees it (`at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name.
    pub n: String,
    /// Bearer-auth download URL.
    pub u: String,
    /// Size in bytes.
    pub b: u64,
    /// Content type.
    pub ct: String,
    /// SHA-256, hex.
    pub h: String,
}

/// What the agent is asked to do: a snapshot taken when the order is placed, so later
/// edits to the gig do not change active orders.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WorkSpec {
    /// Gig title.
    pub gig_title: String,
    /// Tier name.
    pub tier_name: String,
    /// Order-form answers by field name.
    pub inputs: serde_json::Value,
    /// Agreed scope (from an offer or a scope change).
    pub scope: Option<String>,
    /// The customer's brief.
    pub brief: Option<String>,
    /// The brief's attachments.
    pub attachments: Vec<Attachment>,
    /// Days from entering `in_progress` (or a revision round) to the deadline.
    pub delivery_days: u32,
    /// The gig's category, for accept bands.
    pub category: String,
}

/// One auto-accept band: an order inside any band of an `auto` agent skips approval.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AcceptBand {
    /// Lowest price accepted (inclusive).
    pub price_min: Points,
    /// Highest price accepted (inclusive).
    pub price_max: Points,
    /// Categories accepted; empty means any.
    pub categories: Vec<String>,
    /// Largest number of included revisions accepted; `None` means any.
    pub max_revisions: Option<u32>,
}

impl AcceptBand {
    fn admits(&self, price: Points, category: &str, revisions: u32) -> bool {
        price >= self.price_min
            && price <= self.price_max
            && (self.categories.is_empty() || self.categories.iter().any(|c| c == category))
            && self.max_revisions.is_none_or(|m| revisions <= m)
    }
}

/// How an agent takes new orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum AcceptMode {
    /// Start at once when inside a band (or always, with no bands).
    Auto {
        /// The bands; empty admits everything.
        bands: Vec<AcceptBand>,
    },
    /// Every order waits for the owner.
    Manual,
}

impl AcceptMode {
    /// Whether an order starts without owner approval.
    pub fn admits(&self, price: Points, category: &str, revisions: u32) -> bool {
        match self {
            Self::Manual => false,
            Self::Auto { bands } => bands.is_empty() || bands.iter().any(|b| b.admits(price, category, revisions)),
        }
    }
}

/// Whether the agent takes work right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentAvailability {
    /// Takes orders.
    Active,
    /// Paused by its owner or itself.
    Paused,
    /// Suspended by support.
    Suspended,
}

/// An order: its state, its snapshot of the terms, and its timers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Id.
    pub id: OrderId,
    /// Who pays.
    pub customer: UserId,
    /// Who owns the agent and is paid.
    pub owner: UserId,
    /// Who works.
    pub agent: AgentId,
    /// Held in escrow while open.
    pub price: Points,
    /// Fee rate snapshotted at placement.
    pub fee_bps: FeeBps,
    /// Current state.
    pub state: OrderState,
    /// Terms snapshot.
    pub work: WorkSpec,
    /// Revisions the tier includes.
    pub revisions_included: u32,
    /// Included revisions not used yet.
    pub revisions_left: u32,
    /// Every revision round so far.
    pub revisions: Vec<RevisionEntry>,
    /// A customer's revision request waiting for the owner (beyond the cap).
    pub pending_revision: Option<String>,
    /// Release deliveries without owner review (snapshotted, owner may toggle).
    pub auto_approve_deliveries: bool,
    /// Work deadline, set when work starts.
    pub deadline: Option<Timestamp>,
    /// When the current state's timer fires; `None` when no timer runs.
    pub due_at: Option<Timestamp>,
    /// Time that was left before the deadline when the agent flagged the order.
    pub flag_remaining_secs: Option<i64>,
    /// Deliveries made.
    pub deliveries: u32,
    /// Deliveries the customer can see.
    pub released: u32,
    /// Progress reported by the agent, 0–100.
    pub progress: u8,
    /// Placed at.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version; the store bumps it on every change.
    pub version: i64,
}

/// Who issues a command. The store has already established that a `Customer`,
/// `Owner` or `Agent` is *this order's* customer, owner or agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The order's customer.
    Customer,
    /// The owner of the order's agent.
    Owner,
    /// The order's agent.
    Agent,
    /// Support.
    Admin,
    /// The scheduler.
    System,
}

impl Actor {
    fn name(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Owner => "owner",
            Self::Agent => "agent",
            Self::Admin => "admin",
            Self::System => "system",
        }
    }
}

/// Everything that can happen to an existing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Apply due timers only.
    Tick,
    /// Owner approves a pending order.
    Approve,
    /// Owner denies a pending order.
    Deny {
        /// Shown to the agent as `m`.
        reason: String,
    },
    /// Agent delivers.
    Deliver,
    /// Agent declines an order in progress.
    Decline {
        /// Structured reason, e.g. `out_of_scope`.
        reason: String,
    },
    /// Agent flags an order it should not do.
    AgentFlag {
        /// Structured reason.
        reason: String,
    },
    /// Owner resumes a flagged order.
    Resume {
        /// Sent to the agent as a `scope_change` note.
        note: String,
    },
    /// Owner or admin refunds a flagged order.
    RefundFlagged,
    /// Owner changes scope and/or deadline of an order in progress.
    ChangeScope {
        /// New scope text.
        scope: Option<String>,
        /// New deadline, later than now.
        deadline: Option<Timestamp>,
        /// Note to the agent.
        note: String,
    },
    /// Owner releases a delivery to the customer.
    Release,
    /// Owner returns a delivery to the agent with a note.
    Return {
        /// What to fix.
        note: String,
    },
    /// Customer accepts the delivery.
    Accept,
    /// Customer asks for a revision.
    RequestRevision {
        /// What to change.
        message: String,
    },
    /// Owner grants a revision beyond the cap.
    ApproveRevision,
    /// Owner refuses a revision beyond the cap.
    DenyRevision,
    /// Customer disputes the order.
    Dispute {
        /// Why.
        reason: String,
    },
    /// Support resolves a dispute, refunding `refund` of the price to the customer.
    Resolve {
        /// 0..=price.
        refund: Points,
    },
    /// Owner toggles auto-approval of deliveries for this order.
    SetAutoApprove(bool),
    /// Agent reports progress.
    Progress(u8),
}

impl Command {
    /// A stable name for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Tick => "tick",
            Self::Approve => "approve",
            Self::Deny { .. } => "deny",
            Self::Deliver => "deliver",
            Self::Decline { .. } => "decline",
            Self::AgentFlag { .. } => "flag",
            Self::Resume { .. } => "resume",
            Self::RefundFlagged => "refund",
            Self::ChangeScope { .. } => "scope",
            Self::Release => "release",
            Self::Return { .. } => "return",
            Self::Accept => "accept",
            Self::RequestRevision { .. } => "revision",
            Self::ApproveRevision => "approve_revision",
            Self::DenyRevision => "deny_revision",
            Self::Dispute { .. } => "dispute",
            Self::Resolve { .. } => "resolve",
            Self::SetAutoApprove(_) => "auto_approve",
            Self::Progress(_) => "progress",
        }
    }

    fn permits(&self, actor: Actor) -> bool {
        use Actor::*;
        match self {
            Self::Tick => true,
            Self::Approve
            | Self::Deny { .. }
            | Self::Resume { .. }
            | Self::ChangeScope { .. }
            | Self::Release
            | Self::Return { .. }
            | Self::ApproveRevision
            | Self::DenyRevision
            | Self::SetAutoApprove(_) => actor == Owner,
            Self::RefundFlagged => matches!(actor, Owner | Admin),
            Self::Deliver | Self::Decline { .. } | Self::AgentFlag { .. } | Self::Progress(_) => actor == Agent,
            Self::Accept | Self::RequestRevision { .. } | Self::Dispute { .. } => actor == Customer,
            Self::Resolve { .. } => actor == Admin,
        }
    }
}

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
    /// The order after the command (version unchanged: the store bumps it).
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
        progress: 0,
        created_at: now,
        updated_at: now,
        version: 0,
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
        fx.push(notify(
            Recipient::Owner(order.owner.clone()),
            NotificationKind::OrderNeedsApproval,
            &order,
        ));
    }
    Ok(Decision { order, effects: fx })
}

/// Applies due timers, then `cmd` from `actor`, at `now`.
pub fn decide(
    order: &Order,
    actor: Actor,
    cmd: Command,
    policy: &Policy,
    now: Timestamp,
) -> Result<Decision, DomainError> {
    if !cmd.permits(actor) {
        return Err(DomainError::NotPermitted {
            actor: actor.name(),
            command: cmd.name(),
        });
    }
    let mut o = order.clone();
    let mut fx = Vec::new();
    apply_due_timers(&mut o, policy, now, &mut fx)?;
    if cmd != Command::Tick {
        apply(&mut o, cmd, policy, now, &mut fx)?;
    }
    if o != *order {
        o.updated_at = now;
    }
    Ok(Decision { order: o, effects: fx })
}

/// Fires every timer that is due by `now`, each at the instant it was due, so a
/// scheduler that runs late reaches the same end state as one that ran on time.
fn apply_due_timers(o: &mut Order, p: &Policy, now: Timestamp, fx: &mut Vec<Effect>) -> Result<(), DomainError> {
    // Each firing either ends the order or moves `due_at` strictly forward.
    while let Some(due) = o.due_at.filter(|d| *d <= now) {
        match o.state {
            OrderState::PendingOwnerApproval => {
                refund(o, fx, due)?;
                o.state = OrderState::Refunded;
                fx.push(agent_event(
                    o,
                    EventKind::OwnerDeniedOrder,
                    Some("no owner decision within 24 hours".into()),
                    due,
                ));
            }
            OrderState::InProgress => {
                if o.released == 0 {
                    refund(o, fx, due)?;
                    o.state = OrderState::Refunded;
                    fx.push(agent_event(
                        o,
                        EventKind::OrderRefunded,
                        Some("missed deadline".into()),
                        due,
                    ));
                } else {
                    enter_delivered(o, p, due);
                }
            }
            OrderState::Flagged => {
                refund(o, fx, due)?;
                o.state = OrderState::Refunded;
                fx.push(agent_event(
                    o,
                    EventKind::OrderRefunded,
                    Some("flag not resolved in time".into()),
                    due,
                ));
            }
            OrderState::DeliveredPendingOwnerReview => {
                o.released = o.deliveries;
                enter_delivered(o, p, due);
                fx.push(notify(
                    Recipient::Customer(o.customer.clone()),
                    NotificationKind::DeliveryReleased,
                    o,
                ));
            }
            OrderState::Delivered => {
                complete(o, Points::ZERO, fx, due)?;
            }
            OrderState::RevisionPendingOwnerReview => {
                o.pending_revision = None;
                enter_delivered(o, p, due);
            }
            OrderState::Disputed | OrderState::Completed | OrderState::Refunded => {
                o.due_at = None;
            }
        }
        if o.state.is_terminal() {
            o.due_at = None;
        }
    }
    Ok(())
}

fn apply(o: &mut Order, cmd: Command, p: &Policy, now: Timestamp, fx: &mut Vec<Effect>) -> Result<(), DomainError> {
    use OrderState as S;
    let refuse = |o: &Order, cmd: &Command| DomainError::InvalidState {
        state: o.state,
        command: cmd.name(),
    };
    match (&cmd, o.state) {
        (Command::Approve, S::PendingOwnerApproval) => {
            start_work(o, now);
            fx.push(work_event(o, EventKind::OwnerApprovedOrder, None, p, now));
        }
        (Command::Deny { reason }, S::PendingOwnerApproval) => {
            refund(o, fx, now)?;
            o.state = S::Refunded;
            fx.push(agent_event(o, EventKind::OwnerDeniedOrder, Some(reason.clone()), now));
        }
        (Command::Deliver, S::InProgress) => {
            o.deliveries += 1;
            o.flag_remaining_secs = None;
            if o.auto_approve_deliveries {
                o.released = o.deliveries;
                enter_delivered(o, p, now);
                fx.push(notify(
                    Recipient::Customer(o.customer.clone()),
                    NotificationKind::DeliveryReleased,
                    o,
                ));
            } else {
                o.state = S::DeliveredPendingOwnerReview;
                o.due_at = Some(now + p.owner_review);
                fx.push(notify(
                    Recipient::Owner(o.owner.clone()),
                    NotificationKind::DeliveryNeedsReview,
                    o,
                ));
            }
        }
        (Command::Decline { reason }, S::InProgress) => {
            refund(o, fx, now)?;
            o.state = S::Refunded;
            fx.push(agent_event(
                o,
                EventKind::OrderRefunded,
                Some(format!("declined: {reason}")),
                now,
            ));
        }
        (Command::AgentFlag { .. }, S::InProgress) => {
            let left = o.deadline.map(|d| (d - now).num_seconds().max(0)).unwrap_or(0);
            o.flag_remaining_secs = Some(left);
            o.state = S::Flagged;
            o.due_at = Some(now + p.flag_decision);
            fx.push(notify(
                Recipient::Owner(o.owner.clone()),
                NotificationKind::OrderFlagged,
                o,
            ));
        }
        (Command::Resume { note }, S::Flagged) => {
            let left = Duration::seconds(o.flag_remaining_secs.take().unwrap_or(0));
            o.state = S::InProgress;
            // Resuming restores the time that was left, with at least one hour to act.
            let deadline = now + left.max(Duration::hours(1));
            o.deadline = Some(deadline);
            o.due_at = Some(deadline);
            fx.push(scope_event(o, note.clone(), p, now));
        }
        (Command::RefundFlagged, S::Flagged) => {
            refund(o, fx, now)?;
            o.state = S::Refunded;
            fx.push(agent_event(
                o,
                EventKind::OrderRefunded,
                Some("refunded after flag".into()),
                now,
            ));
        }
        (Command::ChangeScope { scope, deadline, note }, S::InProgress) => {
            if scope.is_none() && deadline.is_none() {
                return Err(DomainError::invalid(
                    "scope",
                    "give a new scope, a new deadline, or both",
                ));
            }
            if let Some(d) = deadline {
                if *d <= now {
                    return Err(DomainError::invalid("deadline", "must be later than now"));
                }
                // Bounded like tier delivery days, so later timer arithmetic cannot overflow.
                if *d > now + Duration::days(365) {
                    return Err(DomainError::invalid("deadline", "must be within 365 days"));
                }
                o.deadline = Some(*d);
                o.due_at = Some(*d);
            }
            if let Some(s) = scope {
                o.work.scope = Some(s.clone());
            }
            fx.push(scope_event(o, note.clone(), p, now));
        }
        (Command::Release, S::DeliveredPendingOwnerReview) => {
            o.released = o.deliveries;
            enter_delivered(o, p, now);
            fx.push(notify(
                Recipient::Customer(o.customer.clone()),
                NotificationKind::DeliveryReleased,
                o,
            ));
        }
        (Command::Return { note }, S::DeliveredPendingOwnerReview) => {
            start_revision(o, note.clone(), RevisionBy::Owner, p, now, fx);
        }
        (Command::Accept, S::Delivered) => {
            complete(o, Points::ZERO, fx, now)?;
        }
        (Command::RequestRevision { message }, S::Delivered) => {
            if o.revisions_left > 0 {
                o.revisions_left -= 1;
                start_revision(o, message.clone(), RevisionBy::Customer, p, now, fx);
            } else {
                o.pending_revision = Some(message.clone());
                o.state = S::RevisionPendingOwnerReview;
                o.due_at = Some(now + p.revision_decision);
                fx.push(notify(
                    Recipient::Owner(o.owner.clone()),
                    NotificationKind::RevisionNeedsApproval,
                    o,
                ));
            }
        }
        (Command::ApproveRevision, S::RevisionPendingOwnerReview) => {
            let message = o.pending_revision.take().unwrap_or_default();
            start_revision(o, message, RevisionBy::Customer, p, now, fx);
        }
        (Command::DenyRevision, S::RevisionPendingOwnerReview) => {
            o.pending_revision = None;
            enter_delivered(o, p, now);
        }
        (Command::Dispute { .. }, s) if !s.is_terminal() && s != S::Disputed => {
            o.state = S::Disputed;
            o.due_at = None;
            fx.push(notify(Recipient::Support, NotificationKind::OrderDisputed, o));
        }
        (Command::Resolve { refund: n }, S::Disputed) => {
            if n.get() < 0 || *n > o.price {
                return Err(DomainError::invalid(
                    "refund",
                    format!("must be between 0 and {}", o.price),
                ));
            }
            if *n == o.price {
                refund(o, fx, now)?;
                o.state = S::Refunded;
                fx.push(agent_event(
                    o,
                    EventKind::OrderRefunded,
                    Some("dispute resolved with a full refund".into()),
                    now,
                ));
            } else {
                // Support sees the latest delivery; resolving to completed shows it to the customer.
                o.released = o.deliveries;
                complete(o, *n, fx, now)?;
            }
        }
        (Command::SetAutoApprove(on), s) if !s.is_terminal() => {
            o.auto_approve_deliveries = *on;
        }
        (Command::Progress(pct), S::InProgress) => {
            if *pct > 100 {
                return Err(DomainError::invalid("progress", "must be between 0 and 100"));
            }
            o.progress = *pct;
        }
        _ => return Err(refuse(o, &cmd)),
    }
    if o.state.is_terminal() {
        o.due_at = None;
    }
    Ok(())
}

fn start_work(o: &mut Order, now: Timestamp) {
    let deadline = now + Duration::days(i64::from(o.work.delivery_days));
    o.state = OrderState::InProgress;
    o.deadline = Some(deadline);
    o.due_at = Some(deadline);
}

fn enter_delivered(o: &mut Order, p: &Policy, at: Timestamp) {
    o.state = OrderState::Delivered;
    o.due_at = Some(at + p.review_window);
}

fn start_revision(o: &mut Order, message: String, by: RevisionBy, p: &Policy, now: Timestamp, fx: &mut Vec<Effect>) {
    let n = u32::try_from(o.revisions.len()).unwrap_or(u32::MAX).saturating_add(1);
    o.revisions.push(RevisionEntry {
        n,
        m: message.clone(),
        ts: now,
        by,
    });
    start_work(o, now);
    fx.push(work_event(o, EventKind::RevisionRequest, Some(message), p, now));
}

fn escrow_out(o: &Order, to: AccountRef, amount: Points, kind: TransferKind) -> Result<Option<Effect>, DomainError> {
    if amount.get() == 0 {
        return Ok(None);
    }
    Transfer::new(AccountRef::Escrow(o.id.clone()), to, amount, kind, Some(o.id.clone()))
        .map(|t| Some(Effect::Transfer(t)))
}

fn refund(o: &Order, fx: &mut Vec<Effect>, _at: Timestamp) -> Result<(), DomainError> {
    fx.extend(escrow_out(
        o,
        AccountRef::Wallet(o.customer.clone()),
        o.price,
        TransferKind::Refund,
    )?);
    fx.push(notify(
        Recipient::Customer(o.customer.clone()),
        NotificationKind::OrderRefunded,
        o,
    ));
    Ok(())
}

/// Empties the escrow: `refunded` back to the customer, the rest to the owner minus
/// the order's fee. Emits `order_completed`.
fn complete(o: &mut Order, refunded: Points, fx: &mut Vec<Effect>, at: Timestamp) -> Result<(), DomainError> {
    let rest = o
        .price
        .checked_sub(refunded)
        .ok_or_else(|| DomainError::invalid("refund", "out of range"))?;
    let (payee, fee) = o.fee_bps.split(rest);
    fx.extend(escrow_out(
        o,
        AccountRef::Wallet(o.customer.clone()),
        refunded,
        TransferKind::Refund,
    )?);
    fx.extend(escrow_out(
        o,
        AccountRef::Wallet(o.owner.clone()),
        payee,
        TransferKind::Payout,
    )?);
    fx.extend(escrow_out(o, AccountRef::PlatformFees, fee, TransferKind::Fee)?);
    o.state = OrderState::Completed;
    o.due_at = None;
    fx.push(agent_event(o, EventKind::OrderCompleted, None, at));
    fx.push(notify(
        Recipient::Owner(o.owner.clone()),
        NotificationKind::OrderCompleted,
        o,
    ));
    Ok(())
}

fn notify(to: Recipient, kind: NotificationKind, o: &Order) -> Effect {
    Effect::Notify(Notification {
        to,
        kind,
        order: o.id.clone(),
    })
}

fn agent_event(o: &Order, kind: EventKind, m: Option<String>, at: Timestamp) -> Effect {
    Effect::Event(AgentEvent {
        kind,
        at,
        body: EventBody {
            o: Some(o.id.clone()),
            m,
            ..EventBody::default()
        },
    })
}

fn scope_event(o: &Order, note: String, p: &Policy, now: Timestamp) -> Effect {
    Effect::Event(AgentEvent {
        kind: EventKind::ScopeChange,
        at: now,
        body: EventBody {
            o: Some(o.id.clone()),
            dl: o.deadline,
            sc: o.work.scope.clone(),
            m: Some(note),
            sf: Some(p.platform_rules.clone()),
            ..EventBody::default()
        },
    })
}

/// The full work payload of a work-assignment event.
fn work_event(o: &Order, kind: EventKind, m: Option<String>, p: &Policy, now: Timestamp) -> Effect {
    let w = &o.work;
    Effect::Event(AgentEvent {
        kind,
        at: now,
        body: EventBody {
            o: Some(o.id.clone()),
            g: Some(w.gig_title.clone()),
            tr: Some(w.tier_name.clone()),
            p: Some(o.price),
            dl: o.deadline,
            inputs: Some(w.inputs.clone()),
            sc: w.scope.clone(),
            br: w.brief.clone(),
            at: Some(w.attachments.clone()),
            rl: Some(o.revisions_left),
            sf: Some(p.platform_rules.clone()),
            rh: (kind == EventKind::RevisionRequest).then(|| o.revisions.clone()),
            m,
        },
    })
}

/// Why an agent declines an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    /// Not what the agent does.
    OutOfScope,
    /// Too busy.
    Capacity,
    /// The order lacks what is needed.
    MissingInformation,
    /// Against the rules.
    Policy,
    /// Anything else.
    Other,
}

/// Why an agent flags an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagReason {
    /// Illegal.
    Illegal,
    /// Breaks platform policy.
    PolicyViolation,
    /// Anything else.
    Other,
}

impl DeclineReason {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OutOfScope => "out_of_scope",
            Self::Capacity => "capacity",
            Self::MissingInformation => "missing_information",
            Self::Policy => "policy",
            Self::Other => "other",
        }
    }
}

impl FlagReason {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Illegal => "illegal",
            Self::PolicyViolation => "policy_violation",
            Self::Other => "other",
        }
    }
}
