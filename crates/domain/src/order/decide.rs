//! Deciding a command on an existing order: due timers first, then the command, each
//! transition with its effects.

use super::command::reason_text;
use super::{Actor, Command, Decision, Effect, Notification, NotificationKind, Order, OrderState, Recipient};
use crate::event::{AgentEvent, EventBody, EventKind, RevisionBy, RevisionEntry};
use crate::ledger::{AccountRef, Transfer, TransferKind};
use crate::notice::{Detail, RefundReason};
use crate::points::Points;
use crate::policy::Policy;
use crate::{DomainError, Timestamp};
use chrono::Duration;

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
                refund(o, fx, RefundReason::NotApprovedInTime)?;
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
                    refund(o, fx, RefundReason::MissedDeadline)?;
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
                refund(o, fx, RefundReason::FlagExpired)?;
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
                fx.push(to_customer(o, NotificationKind::DeliveryReleased, Detail::None));
            }
            OrderState::Delivered => {
                complete(o, Points::ZERO, fx, due)?;
                completed_notices(o, fx);
            }
            OrderState::RevisionPendingOwnerReview => {
                o.pending_revision = None;
                enter_delivered(o, p, due);
                fx.push(to_customer(
                    o,
                    NotificationKind::RevisionAnswered,
                    Detail::Revision { granted: false },
                ));
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
            fx.push(to_customer(o, NotificationKind::OrderApproved, Detail::None));
        }
        (Command::Deny { reason }, S::PendingOwnerApproval) => {
            refund(o, fx, RefundReason::Denied)?;
            o.state = S::Refunded;
            fx.push(agent_event(o, EventKind::OwnerDeniedOrder, Some(reason.clone()), now));
        }
        (Command::Deliver, S::InProgress) => {
            o.deliveries += 1;
            o.flag_remaining_secs = None;
            if o.auto_approve_deliveries {
                o.released = o.deliveries;
                enter_delivered(o, p, now);
                fx.push(to_customer(o, NotificationKind::DeliveryReleased, Detail::None));
            } else {
                o.state = S::DeliveredPendingOwnerReview;
                let at = now + p.owner_review;
                o.due_at = Some(at);
                fx.push(to_owner(
                    o,
                    NotificationKind::DeliveryNeedsReview,
                    Detail::ReleaseAt { at },
                ));
            }
        }
        (Command::Decline { reason, note }, S::InProgress) => {
            refund(o, fx, RefundReason::Declined)?;
            o.state = S::Refunded;
            let told = reason_text(reason.as_str(), note.as_deref());
            fx.push(agent_event(
                o,
                EventKind::OrderRefunded,
                Some(format!("declined: {told}")),
                now,
            ));
        }
        (Command::AgentFlag { reason, note }, S::InProgress) => {
            let left = o.deadline.map(|d| (d - now).num_seconds().max(0)).unwrap_or(0);
            o.flag_remaining_secs = Some(left);
            o.state = S::Flagged;
            o.due_at = Some(now + p.flag_decision);
            let text = reason_text(reason.as_str(), note.as_deref());
            fx.push(to_owner(o, NotificationKind::OrderFlagged, Detail::Note { text }));
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
            refund(o, fx, RefundReason::Flagged)?;
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
            fx.push(to_customer(o, NotificationKind::DeliveryReleased, Detail::None));
        }
        (Command::Return { note }, S::DeliveredPendingOwnerReview) => {
            start_revision(o, note.clone(), RevisionBy::Owner, p, now, fx);
        }
        (Command::Accept, S::Delivered) => {
            complete(o, Points::ZERO, fx, now)?;
            completed_notices(o, fx);
        }
        (Command::RequestRevision { message }, S::Delivered) => {
            if o.revisions_left > 0 {
                o.revisions_left -= 1;
                start_revision(o, message.clone(), RevisionBy::Customer, p, now, fx);
            } else {
                o.pending_revision = Some(message.clone());
                o.state = S::RevisionPendingOwnerReview;
                o.due_at = Some(now + p.revision_decision);
                let text = message.clone();
                fx.push(to_owner(
                    o,
                    NotificationKind::RevisionNeedsApproval,
                    Detail::Note { text },
                ));
            }
        }
        (Command::ApproveRevision, S::RevisionPendingOwnerReview) => {
            let message = o.pending_revision.take().unwrap_or_default();
            start_revision(o, message, RevisionBy::Customer, p, now, fx);
            fx.push(to_customer(
                o,
                NotificationKind::RevisionAnswered,
                Detail::Revision { granted: true },
            ));
        }
        (Command::DenyRevision, S::RevisionPendingOwnerReview) => {
            o.pending_revision = None;
            enter_delivered(o, p, now);
            fx.push(to_customer(
                o,
                NotificationKind::RevisionAnswered,
                Detail::Revision { granted: false },
            ));
        }
        (Command::Dispute { reason }, s) if !s.is_terminal() && s != S::Disputed => {
            o.state = S::Disputed;
            o.due_at = None;
            let detail = Detail::Note { text: reason.clone() };
            fx.push(notify(
                Recipient::Support,
                NotificationKind::OrderDisputed,
                o,
                detail.clone(),
            ));
            fx.push(to_owner(o, NotificationKind::OrderDisputed, detail));
        }
        (Command::Resolve { refund: n }, S::Disputed) => {
            if n.get() < 0 || *n > o.price {
                return Err(DomainError::invalid(
                    "refund",
                    format!("must be between 0 and {}", o.price),
                ));
            }
            if *n == o.price {
                refund_escrow(o, fx)?;
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
            let detail = Detail::Resolution {
                refunded: *n,
                price: o.price,
            };
            fx.push(to_customer(o, NotificationKind::DisputeResolved, detail.clone()));
            fx.push(to_owner(o, NotificationKind::DisputeResolved, detail));
        }
        (Command::SetAutoApprove(on), s) if !s.is_terminal() => {
            o.auto_approve_deliveries = *on;
        }
        (Command::Progress(pct), S::InProgress) => {
            o.progress = *pct;
        }
        (Command::Cancel, S::PendingOwnerApproval) => {
            // As a denial would: the escrow goes back, and the agent and the owner
            // (whose approval queue loses the order) are told.
            refund(o, fx, RefundReason::Cancelled)?;
            o.state = S::Refunded;
            fx.push(agent_event(
                o,
                EventKind::OrderRefunded,
                Some("cancelled by the customer".into()),
                now,
            ));
            let detail = Detail::Refund {
                reason: RefundReason::Cancelled,
            };
            fx.push(to_owner(o, NotificationKind::OrderRefunded, detail));
        }
        (Command::AgentSuspended, _) => end_suspended_work(o, p, now, fx)?,
        _ => return Err(refuse(o, &cmd)),
    }
    if o.state.is_terminal() {
        o.due_at = None;
    }
    Ok(())
}

/// A suspended agent may not work (SPEC §15), so the work it still owes ends as a
/// missed deadline would end it, at once: refunded if the customer never received a
/// delivery, else back to `delivered` with the deliveries released so far, for the
/// customer to accept or dispute. An extra revision waiting for the owner is refused
/// as if denied. A `delivered` order is already the customer's to decide and a
/// `disputed` one support's: both stay as they are, as does an order that has ended
/// (perhaps by a timer that was due first).
fn end_suspended_work(o: &mut Order, p: &Policy, now: Timestamp, fx: &mut Vec<Effect>) -> Result<(), DomainError> {
    use OrderState as S;
    match o.state {
        S::PendingOwnerApproval | S::InProgress | S::Flagged | S::DeliveredPendingOwnerReview if o.released == 0 => {
            refund(o, fx, RefundReason::AgentSuspended)?;
            o.state = S::Refunded;
            o.flag_remaining_secs = None;
            fx.push(agent_event(
                o,
                EventKind::OrderRefunded,
                Some("agent suspended by support".into()),
                now,
            ));
        }
        S::InProgress | S::Flagged | S::DeliveredPendingOwnerReview => {
            o.flag_remaining_secs = None;
            enter_delivered(o, p, now);
        }
        S::RevisionPendingOwnerReview => {
            o.pending_revision = None;
            enter_delivered(o, p, now);
        }
        S::PendingOwnerApproval | S::Delivered | S::Disputed | S::Completed | S::Refunded => {}
    }
    Ok(())
}

pub(super) fn start_work(o: &mut Order, now: Timestamp) {
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
    let round = u32::try_from(o.revisions.len()).unwrap_or(u32::MAX).saturating_add(1);
    o.revisions.push(RevisionEntry {
        round,
        message: message.clone(),
        at: now,
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

/// The whole escrow back to the customer, who is told why.
fn refund(o: &Order, fx: &mut Vec<Effect>, reason: RefundReason) -> Result<(), DomainError> {
    refund_escrow(o, fx)?;
    fx.push(to_customer(
        o,
        NotificationKind::OrderRefunded,
        Detail::Refund { reason },
    ));
    Ok(())
}

fn refund_escrow(o: &Order, fx: &mut Vec<Effect>) -> Result<(), DomainError> {
    fx.extend(escrow_out(
        o,
        AccountRef::Wallet(o.customer.clone()),
        o.price,
        TransferKind::Refund,
    )?);
    Ok(())
}

/// Both parties hear that the order completed (the owner is paid).
fn completed_notices(o: &Order, fx: &mut Vec<Effect>) {
    fx.push(to_customer(o, NotificationKind::OrderCompleted, Detail::None));
    fx.push(to_owner(o, NotificationKind::OrderCompleted, Detail::None));
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
    Ok(())
}

pub(super) fn notify(to: Recipient, kind: NotificationKind, o: &Order, detail: Detail) -> Effect {
    Effect::Notify(Notification {
        to,
        kind,
        order: o.id.clone(),
        detail,
    })
}

pub(super) fn to_customer(o: &Order, kind: NotificationKind, detail: Detail) -> Effect {
    notify(Recipient::Customer(o.customer.clone()), kind, o, detail)
}

pub(super) fn to_owner(o: &Order, kind: NotificationKind, detail: Detail) -> Effect {
    notify(Recipient::Owner(o.owner.clone()), kind, o, detail)
}

fn agent_event(o: &Order, kind: EventKind, message: Option<String>, at: Timestamp) -> Effect {
    Effect::Event(AgentEvent {
        kind,
        at,
        body: EventBody {
            message,
            ..EventBody::about(o.id.clone())
        },
    })
}

fn scope_event(o: &Order, note: String, p: &Policy, now: Timestamp) -> Effect {
    Effect::Event(AgentEvent {
        kind: EventKind::ScopeChange,
        at: now,
        body: EventBody {
            deadline: o.deadline,
            scope: o.work.scope.clone(),
            message: Some(note),
            platform_rules: Some(p.platform_rules.clone()),
            ..EventBody::about(o.id.clone())
        },
    })
}

/// The full work payload of a work-assignment event.
pub(super) fn work_event(o: &Order, kind: EventKind, message: Option<String>, p: &Policy, now: Timestamp) -> Effect {
    let w = &o.work;
    Effect::Event(AgentEvent {
        kind,
        at: now,
        body: EventBody {
            order: o.id.clone(),
            gig_title: Some(w.gig_title.clone()),
            tier_name: Some(w.tier_name.clone()),
            price: Some(o.price),
            deadline: o.deadline,
            inputs: Some(w.inputs.clone()),
            scope: w.scope.clone(),
            brief: w.brief.clone(),
            attachments: Some(w.attachments.clone()),
            revisions_left: Some(o.revisions_left),
            platform_rules: Some(p.platform_rules.clone()),
            message,
            revision_history: (kind == EventKind::RevisionRequest).then(|| o.revisions.clone()),
        },
    })
}
