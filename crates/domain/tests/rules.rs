//! One test per rule of SPEC §9 (the order table) and §15 ("Orders and timers"), in
//! virtual time: every instant is a fixed timestamp handed to the domain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use heepr_domain::order::{DeclineReason, FlagReason, decide, place_order};
use heepr_domain::{
    AcceptBand, AcceptMode, AccountRef, Actor, AgentAvailability, AgentEvent, AgentId, Attachment, Command, Decision,
    DomainError, Effect, EventKind, FeeBps, NotificationKind, Order, OrderId, OrderState, Percent, PlaceOrder, Points,
    Policy, Recipient, RevisionBy, TransferKind, UserId, WorkSpec,
};
use serde_json::json;

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

type Ts = DateTime<Utc>;

fn t0() -> Ts {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn h(hours: i64) -> Ts {
    t0() + Duration::hours(hours)
}

fn p() -> Policy {
    Policy::default()
}

fn order_id() -> OrderId {
    OrderId::parse("ord_1").unwrap()
}
fn cust_id() -> UserId {
    UserId::parse("usr_c").unwrap()
}
fn owner_id() -> UserId {
    UserId::parse("usr_o").unwrap()
}

fn escrow() -> AccountRef {
    AccountRef::Escrow(order_id())
}
fn customer() -> AccountRef {
    AccountRef::Wallet(cust_id())
}
fn owner() -> AccountRef {
    AccountRef::Wallet(owner_id())
}
fn fees() -> AccountRef {
    AccountRef::PlatformFees
}

fn auto() -> AcceptMode {
    AcceptMode::Auto { bands: vec![] }
}

/// 25 points at a 10 % fee, 2 delivery days, 1 included revision.
fn cmd(mode: AcceptMode) -> PlaceOrder {
    PlaceOrder {
        id: order_id(),
        customer: cust_id(),
        owner: owner_id(),
        agent: AgentId::parse("agt_a").unwrap(),
        availability: AgentAvailability::Active,
        accept_mode: mode,
        price: Points(25),
        fee_bps: FeeBps::new(1000).unwrap(),
        work: WorkSpec {
            gig_title: "Fix a bug".into(),
            tier_name: "Basic".into(),
            inputs: json!({"repo": "https://example.com/r"}),
            scope: Some("one bug".into()),
            brief: Some("It crashes on start".into()),
            attachments: vec![Attachment {
                name: "log.txt".into(),
                file_id: "fil_1".into(),
                bytes: 12,
                content_type: "text/plain".into(),
                sha256: "ab".repeat(32),
            }],
            delivery_days: 2,
            category: "code".into(),
        },
        revisions_included: 1,
        auto_approve_deliveries: false,
        from_offer: false,
    }
}

fn pct(p: u8) -> Percent {
    Percent::new(p).unwrap()
}

fn run(o: &Order, actor: Actor, c: Command, at: Ts) -> Decision {
    decide(o, actor, c, &p(), at).unwrap()
}

fn try_run(o: &Order, actor: Actor, c: Command, at: Ts) -> Result<Decision, DomainError> {
    decide(o, actor, c, &p(), at)
}

fn tick(o: &Order, at: Ts) -> Decision {
    run(o, Actor::System, Command::Tick, at)
}

// Orders in each state, built at t0 so that no timer is due before h(24).

fn pending() -> Order {
    place_order(cmd(AcceptMode::Manual), &p(), t0()).unwrap().order
}
fn in_progress() -> Order {
    place_order(cmd(auto()), &p(), t0()).unwrap().order
}
fn flagged() -> Order {
    let cmd = Command::AgentFlag {
        reason: FlagReason::PolicyViolation,
        note: None,
    };
    run(&in_progress(), Actor::Agent, cmd, t0()).order
}
fn awaiting_review() -> Order {
    run(&in_progress(), Actor::Agent, Command::Deliver, t0()).order
}
fn delivered() -> Order {
    run(&awaiting_review(), Actor::Owner, Command::Release, t0()).order
}
/// Delivered with no included revision left, then a revision request.
fn revision_pending() -> Order {
    let mut c = cmd(auto());
    c.revisions_included = 0;
    let o = place_order(c, &p(), t0()).unwrap().order;
    let o = run(&o, Actor::Agent, Command::Deliver, t0()).order;
    let o = run(&o, Actor::Owner, Command::Release, t0()).order;
    let message = "more tests".into();
    run(&o, Actor::Customer, Command::RequestRevision { message }, t0()).order
}
fn disputed() -> Order {
    let reason = "no answer".into();
    run(&in_progress(), Actor::Customer, Command::Dispute { reason }, t0()).order
}
fn completed() -> Order {
    run(&delivered(), Actor::Customer, Command::Accept, t0()).order
}
fn refunded() -> Order {
    let cmd = Command::Decline {
        reason: DeclineReason::Capacity,
        note: None,
    };
    run(&in_progress(), Actor::Agent, cmd, t0()).order
}

fn every_state() -> Vec<Order> {
    vec![
        pending(),
        in_progress(),
        flagged(),
        awaiting_review(),
        delivered(),
        revision_pending(),
        disputed(),
        completed(),
        refunded(),
    ]
}

// Effect views.

fn transfers(d: &Decision) -> Vec<(AccountRef, AccountRef, i64, TransferKind)> {
    for t in d.transfers() {
        assert_eq!(t.order.as_ref(), Some(&d.order.id), "every transfer names its order");
        assert!(t.amount.get() > 0, "no zero-amount transfers");
    }
    d.transfers()
        .map(|t| (t.debit.clone(), t.credit.clone(), t.amount.get(), t.kind))
        .collect()
}

fn events(d: &Decision) -> Vec<&AgentEvent> {
    let evs: Vec<&AgentEvent> = d.events().collect();
    for ev in &evs {
        assert_eq!(ev.body.order, d.order.id, "every event names its order");
    }
    evs
}

fn kinds(d: &Decision) -> Vec<(EventKind, Ts)> {
    events(d).iter().map(|e| (e.kind, e.at)).collect()
}

fn notes(d: &Decision) -> Vec<(Recipient, NotificationKind)> {
    d.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify(n) => {
                assert_eq!(n.order, d.order.id);
                Some((n.to.clone(), n.kind))
            }
            _ => None,
        })
        .collect()
}

fn to_customer(k: NotificationKind) -> (Recipient, NotificationKind) {
    (Recipient::Customer(cust_id()), k)
}
fn to_owner(k: NotificationKind) -> (Recipient, NotificationKind) {
    (Recipient::Owner(owner_id()), k)
}

/// The full work payload against the order it came from.
fn assert_work_payload(ev: &AgentEvent, o: &Order) {
    assert!(ev.kind.is_work(), "{} is a work event", ev.kind);
    let b = &ev.body;
    assert_eq!(b.order, o.id);
    assert_eq!(b.gig_title.as_deref(), Some("Fix a bug"));
    assert_eq!(b.tier_name.as_deref(), Some("Basic"));
    assert_eq!(b.price, Some(o.price));
    assert!(b.deadline.is_some());
    assert_eq!(b.deadline, o.deadline);
    assert_eq!(b.inputs, Some(json!({"repo": "https://example.com/r"})));
    assert_eq!(b.scope, o.work.scope);
    assert_eq!(b.brief.as_deref(), Some("It crashes on start"));
    assert_eq!(b.attachments.as_ref(), Some(&o.work.attachments));
    assert_eq!(b.revisions_left, Some(o.revisions_left));
    assert_eq!(b.platform_rules, Some(p().platform_rules), "sf on every work event");
}

/// A non-work event carries only its order and perhaps a message.
fn assert_bare(ev: &AgentEvent) {
    let b = &ev.body;
    assert!(
        b.gig_title.is_none()
            && b.tier_name.is_none()
            && b.price.is_none()
            && b.deadline.is_none()
            && b.inputs.is_none(),
        "{} carries no work payload",
        ev.kind
    );
    assert!(
        b.platform_rules.is_none()
            && b.revision_history.is_none()
            && b.revisions_left.is_none()
            && b.attachments.is_none()
    );
}

/// The order as a late tick and as on-time ticks leave it, ignoring `updated_at`
/// (which is the instant of the last decision, not of the last change).
fn same_but_updated_at(a: &Order, b: &Order) -> bool {
    let mut a = a.clone();
    a.updated_at = b.updated_at;
    a == *b
}

/// Ticks exactly at each due instant up to `until`, like a punctual scheduler.
fn on_time(o: &Order, until: Ts) -> (Order, Vec<Effect>) {
    let mut o = o.clone();
    let mut fx = Vec::new();
    while let Some(due) = o.due_at.filter(|d| *d <= until) {
        let d = tick(&o, due);
        fx.extend(d.effects);
        o = d.order;
    }
    (o, fx)
}

// ---------------------------------------------------------------------------
// §9: placing an order
// ---------------------------------------------------------------------------

#[test]
fn auto_mode_inside_band_starts_work_with_new_order() {
    let elsewhere = AcceptBand {
        price_min: Points(1000),
        price_max: Points(2000),
        ..AcceptBand::default()
    };
    let band = AcceptBand {
        price_min: Points(25),
        price_max: Points(25),
        categories: vec!["writing".into(), "code".into()],
        max_revisions: Some(1),
    };
    let d = place_order(
        cmd(AcceptMode::Auto {
            bands: vec![elsewhere, band],
        }),
        &p(),
        t0(),
    )
    .unwrap();
    let o = &d.order;
    assert_eq!(o.state, OrderState::InProgress);
    assert_eq!(o.deadline, Some(t0() + Duration::days(2)));
    assert_eq!(o.due_at, o.deadline, "the deadline is the running timer");
    assert_eq!((o.revisions_left, o.deliveries, o.released), (1, 0, 0));
    assert_eq!((o.created_at, o.updated_at), (t0(), t0()));
    assert_eq!(transfers(&d), [(customer(), escrow(), 25, TransferKind::EscrowHold)]);
    assert_eq!(kinds(&d), [(EventKind::NewOrder, t0())]);
    let ev = events(&d)[0];
    assert_work_payload(ev, o);
    assert_eq!(
        (ev.body.message.as_ref(), ev.body.revision_history.as_ref()),
        (None, None)
    );
    assert!(notes(&d).is_empty());

    // No bands at all admits everything.
    assert_eq!(
        place_order(cmd(auto()), &p(), t0()).unwrap().order.state,
        OrderState::InProgress
    );
}

#[test]
fn auto_mode_outside_bands_waits_for_owner_approval() {
    let inside = AcceptBand {
        price_min: Points(10),
        price_max: Points(30),
        categories: vec!["code".into()],
        max_revisions: Some(1),
    };
    let misses = [
        AcceptBand {
            price_min: Points(26),
            ..inside.clone()
        },
        AcceptBand {
            price_max: Points(24),
            ..inside.clone()
        },
        AcceptBand {
            categories: vec!["design".into()],
            ..inside.clone()
        },
        AcceptBand {
            max_revisions: Some(0),
            ..inside.clone()
        },
    ];
    for band in misses {
        let d = place_order(
            cmd(AcceptMode::Auto {
                bands: vec![band.clone()],
            }),
            &p(),
            t0(),
        )
        .unwrap();
        assert_eq!(d.order.state, OrderState::PendingOwnerApproval, "{band:?}");
        assert_eq!(d.order.deadline, None);
        assert_eq!(d.order.due_at, Some(h(24)));
        assert_eq!(transfers(&d), [(customer(), escrow(), 25, TransferKind::EscrowHold)]);
        assert!(kinds(&d).is_empty(), "no event until approved");
        assert_eq!(notes(&d), [to_owner(NotificationKind::OrderNeedsApproval)]);
    }
}

#[test]
fn manual_mode_waits_for_owner_approval() {
    let d = place_order(cmd(AcceptMode::Manual), &p(), t0()).unwrap();
    assert_eq!(d.order.state, OrderState::PendingOwnerApproval);
    assert_eq!(d.order.due_at, Some(t0() + p().approval_timeout));
    assert_eq!(transfers(&d), [(customer(), escrow(), 25, TransferKind::EscrowHold)]);
    assert!(kinds(&d).is_empty());
    assert_eq!(notes(&d), [to_owner(NotificationKind::OrderNeedsApproval)]);
}

#[test]
fn order_from_offer_skips_owner_approval() {
    let mut c = cmd(AcceptMode::Manual);
    c.from_offer = true;
    let d = place_order(c, &p(), t0()).unwrap();
    assert_eq!(d.order.state, OrderState::InProgress);
    assert_eq!(kinds(&d), [(EventKind::NewOrder, t0())]);
    assert_work_payload(events(&d)[0], &d.order);
    assert!(notes(&d).is_empty());
}

#[test]
fn paused_or_suspended_agent_takes_no_orders() {
    let mut c = cmd(auto());
    c.availability = AgentAvailability::Paused;
    assert_eq!(
        place_order(c.clone(), &p(), t0()).unwrap_err(),
        DomainError::AgentPaused
    );
    c.availability = AgentAvailability::Suspended;
    let err = place_order(c, &p(), t0()).unwrap_err();
    assert_eq!(
        (err.clone(), err.code()),
        (DomainError::AgentSuspended, "agent_suspended")
    );
}

#[test]
fn price_below_one_is_refused() {
    for price in [0, -5] {
        let mut c = cmd(auto());
        c.price = Points(price);
        assert!(refused_field(place_order(c, &p(), t0()), "price"));
    }
}

#[test]
fn delivery_days_out_of_range_is_refused() {
    for days in [0, 366, u32::MAX] {
        let mut c = cmd(auto());
        c.work.delivery_days = days;
        assert!(
            refused_field(place_order(c, &p(), t0()), "delivery_days"),
            "{days} days"
        );
    }
    let mut c = cmd(auto());
    c.work.delivery_days = 365;
    assert_eq!(
        place_order(c, &p(), t0()).unwrap().order.deadline,
        Some(t0() + Duration::days(365))
    );
}

// ---------------------------------------------------------------------------
// §9: pending_owner_approval
// ---------------------------------------------------------------------------

#[test]
fn approve_starts_work_with_owner_approved_order() {
    let d = run(&pending(), Actor::Owner, Command::Approve, h(5));
    assert_eq!(d.order.state, OrderState::InProgress);
    assert_eq!(d.order.deadline, Some(h(5) + Duration::days(2)));
    assert_eq!(d.order.updated_at, h(5));
    assert!(transfers(&d).is_empty(), "escrow was held at placement");
    assert_eq!(kinds(&d), [(EventKind::OwnerApprovedOrder, h(5))]);
    assert_work_payload(events(&d)[0], &d.order);
    assert_eq!(notes(&d), [to_customer(NotificationKind::OrderApproved)]);
}

#[test]
fn deny_refunds_and_emits_owner_denied_order() {
    let d = run(&pending(), Actor::Owner, Command::Deny { reason: "busy".into() }, h(1));
    assert_eq!(d.order.state, OrderState::Refunded);
    assert_eq!(d.order.due_at, None);
    assert_eq!(transfers(&d), [(escrow(), customer(), 25, TransferKind::Refund)]);
    assert_eq!(kinds(&d), [(EventKind::OwnerDeniedOrder, h(1))]);
    let ev = events(&d)[0];
    assert_eq!(ev.body.message.as_deref(), Some("busy"), "m carries the denial reason");
    assert_bare(ev);
    assert_eq!(notes(&d), [to_customer(NotificationKind::OrderRefunded)]);
}

#[test]
fn no_owner_decision_in_24_hours_refunds_as_denied() {
    let o = pending();
    let early = tick(&o, h(24) - Duration::seconds(1));
    assert_eq!(early.order, o, "nothing due yet");
    assert!(early.effects.is_empty());

    let d = tick(&o, h(30));
    assert_eq!(d.order.state, OrderState::Refunded);
    assert_eq!(d.order.due_at, None);
    assert_eq!(transfers(&d), [(escrow(), customer(), 25, TransferKind::Refund)]);
    assert_eq!(
        kinds(&d),
        [(EventKind::OwnerDeniedOrder, h(24))],
        "fired at the instant it was due"
    );
    assert!(events(&d)[0].body.message.is_some());
    assert_eq!(notes(&d), [to_customer(NotificationKind::OrderRefunded)]);
}

// ---------------------------------------------------------------------------
// §9: in_progress
// ---------------------------------------------------------------------------

#[test]
fn deliver_waits_for_owner_review() {
    let d = run(&in_progress(), Actor::Agent, Command::Deliver, h(3));
    assert_eq!(d.order.state, OrderState::DeliveredPendingOwnerReview);
    assert_eq!((d.order.deliveries, d.order.released), (1, 0), "not visible yet");
    assert_eq!(d.order.due_at, Some(h(3) + p().owner_review));
    assert!(transfers(&d).is_empty());
    assert!(kinds(&d).is_empty());
    assert_eq!(notes(&d), [to_owner(NotificationKind::DeliveryNeedsReview)]);
}

#[test]
fn deliver_with_auto_approve_releases_at_once() {
    let mut c = cmd(auto());
    c.auto_approve_deliveries = true;
    let o = place_order(c, &p(), t0()).unwrap().order;
    let d = run(&o, Actor::Agent, Command::Deliver, h(3));
    assert_eq!(d.order.state, OrderState::Delivered);
    assert_eq!((d.order.deliveries, d.order.released), (1, 1));
    assert_eq!(d.order.due_at, Some(h(3) + p().review_window));
    assert!(transfers(&d).is_empty());
    assert!(kinds(&d).is_empty());
    assert_eq!(notes(&d), [to_customer(NotificationKind::DeliveryReleased)]);
}

#[test]
fn owner_toggles_auto_approve_for_the_next_delivery() {
    let d = run(&in_progress(), Actor::Owner, Command::SetAutoApprove(true), h(1));
    assert!(d.order.auto_approve_deliveries);
    assert!(d.effects.is_empty());
    let d = run(&d.order, Actor::Agent, Command::Deliver, h(2));
    assert_eq!(d.order.state, OrderState::Delivered);
    assert!(try_run(&completed(), Actor::Owner, Command::SetAutoApprove(true), h(1)).is_err());
}

#[test]
fn decline_refunds_and_emits_order_refunded() {
    let cmd = Command::Decline {
        reason: DeclineReason::Capacity,
        note: None,
    };
    let d = run(&in_progress(), Actor::Agent, cmd, h(2));
    assert_eq!(d.order.state, OrderState::Refunded);
    assert_eq!(d.order.due_at, None);
    assert_eq!(transfers(&d), [(escrow(), customer(), 25, TransferKind::Refund)]);
    assert_eq!(kinds(&d), [(EventKind::OrderRefunded, h(2))]);
    assert_bare(events(&d)[0]);
    assert_eq!(events(&d)[0].body.message.as_deref(), Some("declined: capacity"));
    assert_eq!(notes(&d), [to_customer(NotificationKind::OrderRefunded)]);
}

#[test]
fn a_decline_tells_its_reason_and_the_agents_note() {
    let cmd = Command::Decline {
        reason: DeclineReason::MissingInformation,
        note: Some("which repo?".into()),
    };
    let d = run(&in_progress(), Actor::Agent, cmd, h(2));
    assert_eq!(
        events(&d)[0].body.message.as_deref(),
        Some("declined: missing_information (which repo?)")
    );
}

#[test]
fn agent_flag_parks_order_and_notifies_owner() {
    let cmd = Command::AgentFlag {
        reason: FlagReason::Illegal,
        note: Some("not legal here".into()),
    };
    let d = run(&in_progress(), Actor::Agent, cmd, h(12));
    assert_eq!(d.order.state, OrderState::Flagged);
    assert_eq!(d.order.flag_remaining_secs, Some(36 * 3600), "48 h deadline, 12 h used");
    assert_eq!(d.order.due_at, Some(h(12) + p().flag_decision));
    assert!(transfers(&d).is_empty());
    assert!(kinds(&d).is_empty());
    assert_eq!(notes(&d), [to_owner(NotificationKind::OrderFlagged)]);
}

#[test]
fn progress_is_reported_while_in_progress() {
    let d = run(&in_progress(), Actor::Agent, Command::Progress(pct(40)), h(1));
    assert_eq!(d.order.progress, pct(40));
    assert!(d.effects.is_empty());
    // 101 % cannot even be said.
    assert_eq!(Percent::new(101), None);
}

#[test]
fn missed_deadline_refunds_when_nothing_released() {
    let deadline = t0() + Duration::days(2);
    let o = in_progress();
    assert_eq!(tick(&o, deadline - Duration::seconds(1)).order, o);
    let d = tick(&o, deadline + Duration::hours(5));
    assert_eq!(d.order.state, OrderState::Refunded);
    assert_eq!(d.order.due_at, None);
    assert_eq!(transfers(&d), [(escrow(), customer(), 25, TransferKind::Refund)]);
    assert_eq!(kinds(&d), [(EventKind::OrderRefunded, deadline)]);
    assert_eq!(events(&d)[0].body.message.as_deref(), Some("missed deadline"));
    assert_eq!(notes(&d), [to_customer(NotificationKind::OrderRefunded)]);

    // Delivered but returned by the owner before release: still nothing released.
    let note = "not yet".into();
    let o = run(&awaiting_review(), Actor::Owner, Command::Return { note }, h(1)).order;
    assert_eq!((o.deliveries, o.released), (1, 0));
    let d = tick(&o, h(1) + Duration::days(2));
    assert_eq!(d.order.state, OrderState::Refunded);
    assert_eq!(transfers(&d), [(escrow(), customer(), 25, TransferKind::Refund)]);
}

#[test]
fn missed_deadline_after_release_returns_to_delivered() {
    let message = "bigger font".into();
    let o = run(
        &delivered(),
        Actor::Customer,
        Command::RequestRevision { message },
        h(1),
    )
    .order;
    let deadline = h(1) + Duration::days(2);
    assert_eq!(o.deadline, Some(deadline));
    let d = tick(&o, deadline + Duration::hours(1));
    assert_eq!(d.order.state, OrderState::Delivered);
    assert_eq!(d.order.released, 1, "the customer keeps the last released delivery");
    assert_eq!(d.order.due_at, Some(deadline + p().review_window));
    assert!(transfers(&d).is_empty(), "no refund once something was released");
    assert!(kinds(&d).is_empty());
}

// ---------------------------------------------------------------------------
// §9: flagged
// ---------------------------------------------------------------------------

#[test]
fn resume_emits_scope_change_with_note() {
    let d = run(&flagged(), Actor::Owner, Command::Resume { note: "fine".into() }, h(2));
    assert_eq!(d.order.state, OrderState::InProgress);
    assert!(transfers(&d).is_empty());
    assert_eq!(kinds(&d), [(EventKind::ScopeChange, h(2))]);
    let b = &events(&d)[0].body;
    assert_eq!(b.message.as_deref(), Some("fine"));
    assert_eq!(b.deadline, d.order.deadline);
    assert_eq!(b.scope.as_deref(), Some("one bug"));
    assert_eq!(b.platform_rules, Some(p().platform_rules));
    assert!(notes(&d).is_empty());
}

#[test]
fn resume_restores_time_left() {
    let cmd = Command::AgentFlag {
        reason: FlagReason::PolicyViolation,
        note: None,
    };
    let o = run(&in_progress(), Actor::Agent, cmd, h(12)).order;
    let d = run(&o, Actor::Owner, Command::Resume { note: "ok".into() }, h(20));
    // 36 h were left when flagged; the 8 h spent flagged do not count.
    assert_eq!(d.order.deadline, Some(h(20) + Duration::hours(36)));
    assert_eq!(d.order.due_at, d.order.deadline);
    assert_eq!(d.order.flag_remaining_secs, None);
    assert_eq!(events(&d)[0].body.deadline, d.order.deadline);
    assert_eq!(
        tick(&d.order, h(56) - Duration::seconds(1)).order.state,
        OrderState::InProgress
    );
    assert_eq!(tick(&d.order, h(56)).order.state, OrderState::Refunded);
}

#[test]
fn refund_flagged_by_owner_or_admin_refunds() {
    for actor in [Actor::Owner, Actor::Admin] {
        let d = run(&flagged(), actor, Command::RefundFlagged, h(3));
        assert_eq!(d.order.state, OrderState::Refunded);
        assert_eq!(d.order.due_at, None);
        assert_eq!(transfers(&d), [(escrow(), customer(), 25, TransferKind::Refund)]);
        assert_eq!(kinds(&d), [(EventKind::OrderRefunded, h(3))]);
        assert_eq!(notes(&d), [to_customer(NotificationKind::OrderRefunded)]);
    }
}

#[test]
fn flag_without_owner_decision_refunds_after_24_hours() {
    let o = flagged();
    assert_eq!(tick(&o, h(24) - Duration::seconds(1)).order, o);
    let d = tick(&o, h(40));
    assert_eq!(d.order.state, OrderState::Refunded);
    assert_eq!(transfers(&d), [(escrow(), customer(), 25, TransferKind::Refund)]);
    assert_eq!(kinds(&d), [(EventKind::OrderRefunded, h(24))]);
    assert_eq!(notes(&d), [to_customer(NotificationKind::OrderRefunded)]);
}

// ---------------------------------------------------------------------------
// §9 / §15: scope change
// ---------------------------------------------------------------------------

#[test]
fn scope_change_emits_scope_change_with_o_dl_sc_m_sf() {
    let new_deadline = h(100);
    let d = run(
        &in_progress(),
        Actor::Owner,
        Command::ChangeScope {
            scope: Some("two bugs".into()),
            deadline: Some(new_deadline),
            note: "bigger job".into(),
        },
        h(1),
    );
    assert_eq!(d.order.state, OrderState::InProgress);
    assert_eq!(d.order.work.scope.as_deref(), Some("two bugs"));
    assert_eq!(
        (d.order.deadline, d.order.due_at),
        (Some(new_deadline), Some(new_deadline))
    );
    assert!(transfers(&d).is_empty());
    assert!(notes(&d).is_empty());
    assert_eq!(kinds(&d), [(EventKind::ScopeChange, h(1))]);
    let b = &events(&d)[0].body;
    assert_eq!(
        (b.deadline, b.scope.as_deref(), b.message.as_deref()),
        (Some(new_deadline), Some("two bugs"), Some("bigger job"))
    );
    assert_eq!(b.platform_rules, Some(p().platform_rules));
    assert!(
        b.gig_title.is_none() && b.price.is_none() && b.revision_history.is_none(),
        "only o, dl, sc, m, sf"
    );

    // Scope only: the deadline stays.
    let d = run(
        &in_progress(),
        Actor::Owner,
        Command::ChangeScope {
            scope: Some("x".into()),
            deadline: None,
            note: "n".into(),
        },
        h(1),
    );
    assert_eq!(d.order.deadline, in_progress().deadline);
    // Neither: nothing to change.
    let err = try_run(
        &in_progress(),
        Actor::Owner,
        Command::ChangeScope {
            scope: None,
            deadline: None,
            note: "n".into(),
        },
        h(1),
    )
    .unwrap_err();
    assert_eq!(err.code(), "validation_failed");
}

#[test]
fn scope_change_needs_future_deadline() {
    let change = |deadline| Command::ChangeScope {
        scope: None,
        deadline: Some(deadline),
        note: "n".into(),
    };
    for past in [h(5), h(4)] {
        assert!(refused_field(
            try_run(&in_progress(), Actor::Owner, change(past), h(5)),
            "deadline"
        ));
    }
    let later = h(5) + Duration::seconds(1);
    assert_eq!(
        run(&in_progress(), Actor::Owner, change(later), h(5)).order.deadline,
        Some(later)
    );
    // A far-future deadline is refused rather than overflowing timer arithmetic.
    assert!(refused_field(
        try_run(&in_progress(), Actor::Owner, change(h(5) + Duration::days(366)), h(5)),
        "deadline"
    ));
}

#[test]
fn scope_change_only_in_progress() {
    for o in every_state().into_iter().filter(|o| o.state != OrderState::InProgress) {
        let err = try_run(
            &o,
            Actor::Owner,
            Command::ChangeScope {
                scope: Some("x".into()),
                deadline: Some(h(200)),
                note: "n".into(),
            },
            h(1),
        )
        .unwrap_err();
        assert_eq!(
            err,
            DomainError::InvalidState {
                state: o.state,
                command: "scope"
            }
        );
    }
}

// ---------------------------------------------------------------------------
// §9: delivered_pending_owner_review
// ---------------------------------------------------------------------------

#[test]
fn release_shows_delivery_to_customer() {
    let d = run(&awaiting_review(), Actor::Owner, Command::Release, h(2));
    assert_eq!(d.order.state, OrderState::Delivered);
    assert_eq!(d.order.released, 1);
    assert_eq!(d.order.due_at, Some(h(2) + p().review_window));
    assert!(transfers(&d).is_empty());
    assert!(kinds(&d).is_empty());
    assert_eq!(notes(&d), [to_customer(NotificationKind::DeliveryReleased)]);
}

#[test]
fn owner_review_timeout_releases_after_24_hours() {
    let o = run(&in_progress(), Actor::Agent, Command::Deliver, h(3)).order;
    assert_eq!(tick(&o, h(27) - Duration::seconds(1)).order, o);
    let d = tick(&o, h(30));
    assert_eq!(d.order.state, OrderState::Delivered);
    assert_eq!(d.order.released, 1);
    assert_eq!(
        d.order.due_at,
        Some(h(27) + p().review_window),
        "window from the release instant"
    );
    assert!(transfers(&d).is_empty());
    assert_eq!(notes(&d), [to_customer(NotificationKind::DeliveryReleased)]);
}

#[test]
fn return_sends_owner_revision_without_using_customer_revision() {
    let d = run(
        &awaiting_review(),
        Actor::Owner,
        Command::Return {
            note: "add tests".into(),
        },
        h(1),
    );
    assert_eq!(d.order.state, OrderState::InProgress);
    assert_eq!(d.order.revisions_left, 1, "a customer revision is not used");
    assert_eq!(d.order.released, 0);
    assert_eq!(d.order.deadline, Some(h(1) + Duration::days(2)));
    assert!(transfers(&d).is_empty());
    assert!(notes(&d).is_empty());
    assert_eq!(kinds(&d), [(EventKind::RevisionRequest, h(1))]);
    let ev = events(&d)[0];
    assert_work_payload(ev, &d.order);
    assert_eq!(ev.body.message.as_deref(), Some("add tests"));
    let rh = ev.body.revision_history.as_ref().unwrap();
    assert_eq!(rh.len(), 1);
    assert_eq!(
        (rh[0].round, rh[0].message.as_str(), rh[0].at, rh[0].by),
        (1, "add tests", h(1), RevisionBy::Owner)
    );
}

// ---------------------------------------------------------------------------
// §9: delivered
// ---------------------------------------------------------------------------

#[test]
fn accept_completes_and_pays_out() {
    let d = run(&delivered(), Actor::Customer, Command::Accept, h(4));
    assert_eq!(d.order.state, OrderState::Completed);
    assert_eq!(d.order.due_at, None);
    assert_eq!(
        transfers(&d),
        [
            (escrow(), owner(), 22, TransferKind::Payout),
            (escrow(), fees(), 3, TransferKind::Fee)
        ]
    );
    assert_eq!(kinds(&d), [(EventKind::OrderCompleted, h(4))]);
    assert_bare(events(&d)[0]);
    assert_eq!(
        notes(&d),
        [
            to_customer(NotificationKind::OrderCompleted),
            to_owner(NotificationKind::OrderCompleted)
        ]
    );
}

#[test]
fn fee_taken_on_payout_rounds_payee_down() {
    // (price, bps) → (payee, fee); zero legs are not written.
    for (price, bps, payee, fee) in [
        (25, 1000, 22, 3),
        (100, 1000, 90, 10),
        (7, 333, 6, 1),
        (19, 250, 18, 1),
        (10, 0, 10, 0),
        (1, 9999, 0, 1),
        (3, 10_000, 0, 3),
    ] {
        let mut c = cmd(auto());
        c.price = Points(price);
        c.fee_bps = FeeBps::new(bps).unwrap();
        c.auto_approve_deliveries = true;
        let o = place_order(c, &p(), t0()).unwrap().order;
        let o = run(&o, Actor::Agent, Command::Deliver, t0()).order;
        let d = run(&o, Actor::Customer, Command::Accept, h(1));
        let mut want = Vec::new();
        if payee > 0 {
            want.push((escrow(), owner(), payee, TransferKind::Payout));
        }
        if fee > 0 {
            want.push((escrow(), fees(), fee, TransferKind::Fee));
        }
        assert_eq!(transfers(&d), want, "{price} at {bps} bps");
    }
}

#[test]
fn review_window_completes_after_72_hours() {
    let o = delivered();
    assert_eq!(tick(&o, h(72) - Duration::seconds(1)).order, o);
    let d = tick(&o, h(100));
    assert_eq!(d.order.state, OrderState::Completed);
    assert_eq!(
        transfers(&d),
        [
            (escrow(), owner(), 22, TransferKind::Payout),
            (escrow(), fees(), 3, TransferKind::Fee)
        ]
    );
    assert_eq!(kinds(&d), [(EventKind::OrderCompleted, h(72))]);
    assert_eq!(
        notes(&d),
        [
            to_customer(NotificationKind::OrderCompleted),
            to_owner(NotificationKind::OrderCompleted)
        ]
    );
}

#[test]
fn revision_with_revisions_left_restarts_work_with_full_history() {
    let mut c = cmd(auto());
    c.revisions_included = 2;
    c.auto_approve_deliveries = true;
    let o = place_order(c, &p(), t0()).unwrap().order;
    let o = run(&o, Actor::Agent, Command::Deliver, h(1)).order;

    let d = run(
        &o,
        Actor::Customer,
        Command::RequestRevision { message: "one".into() },
        h(2),
    );
    assert_eq!(d.order.state, OrderState::InProgress);
    assert_eq!(d.order.revisions_left, 1);
    assert_eq!(d.order.deadline, Some(h(2) + Duration::days(2)));
    assert!(transfers(&d).is_empty());
    assert!(notes(&d).is_empty());
    assert_eq!(kinds(&d), [(EventKind::RevisionRequest, h(2))]);
    let ev = events(&d)[0];
    assert_work_payload(ev, &d.order);
    assert_eq!(ev.body.revisions_left, Some(1));
    assert_eq!(ev.body.message.as_deref(), Some("one"));

    let o = run(&d.order, Actor::Agent, Command::Deliver, h(3)).order;
    let d = run(
        &o,
        Actor::Customer,
        Command::RequestRevision { message: "two".into() },
        h(4),
    );
    assert_eq!(d.order.revisions_left, 0);
    let ev = events(&d)[0];
    assert_eq!(ev.body.revisions_left, Some(0));
    let rh = ev.body.revision_history.as_ref().unwrap();
    let got: Vec<_> = rh.iter().map(|r| (r.round, r.message.as_str(), r.at, r.by)).collect();
    assert_eq!(
        got,
        [
            (1, "one", h(2), RevisionBy::Customer),
            (2, "two", h(4), RevisionBy::Customer)
        ],
        "rh is the full history"
    );
}

#[test]
fn revision_beyond_cap_waits_for_owner() {
    let mut c = cmd(auto());
    c.revisions_included = 0;
    let o = place_order(c, &p(), t0()).unwrap().order;
    let o = run(&o, Actor::Agent, Command::Deliver, t0()).order;
    let o = run(&o, Actor::Owner, Command::Release, t0()).order;
    let d = run(
        &o,
        Actor::Customer,
        Command::RequestRevision { message: "more".into() },
        h(5),
    );
    assert_eq!(d.order.state, OrderState::RevisionPendingOwnerReview);
    assert_eq!(d.order.revisions_left, 0);
    assert_eq!(d.order.pending_revision.as_deref(), Some("more"));
    assert_eq!(d.order.due_at, Some(h(5) + p().revision_decision));
    assert!(d.order.revisions.is_empty(), "not a round until the owner approves");
    assert!(transfers(&d).is_empty());
    assert!(kinds(&d).is_empty(), "the agent hears nothing yet");
    assert_eq!(notes(&d), [to_owner(NotificationKind::RevisionNeedsApproval)]);
}

// ---------------------------------------------------------------------------
// §9: revision_pending_owner_review
// ---------------------------------------------------------------------------

#[test]
fn approve_revision_beyond_cap_restarts_work() {
    let d = run(&revision_pending(), Actor::Owner, Command::ApproveRevision, h(3));
    assert_eq!(d.order.state, OrderState::InProgress);
    assert_eq!(d.order.pending_revision, None);
    assert_eq!(d.order.revisions_left, 0);
    assert_eq!(d.order.deadline, Some(h(3) + Duration::days(2)));
    assert!(transfers(&d).is_empty());
    assert_eq!(kinds(&d), [(EventKind::RevisionRequest, h(3))]);
    let ev = events(&d)[0];
    assert_work_payload(ev, &d.order);
    assert_eq!(ev.body.message.as_deref(), Some("more tests"));
    let rh = ev.body.revision_history.as_ref().unwrap();
    assert_eq!(rh.len(), 1);
    assert_eq!((rh[0].message.as_str(), rh[0].by), ("more tests", RevisionBy::Customer));
}

#[test]
fn deny_revision_returns_to_delivered() {
    let d = run(&revision_pending(), Actor::Owner, Command::DenyRevision, h(3));
    assert_eq!(d.order.state, OrderState::Delivered);
    assert_eq!(d.order.pending_revision, None);
    assert_eq!(d.order.due_at, Some(h(3) + p().review_window));
    assert!(transfers(&d).is_empty());
    assert!(kinds(&d).is_empty());
}

#[test]
fn revision_decision_timeout_counts_as_deny() {
    let o = revision_pending();
    assert_eq!(tick(&o, h(24) - Duration::seconds(1)).order, o);
    let d = tick(&o, h(25));
    assert_eq!(d.order.state, OrderState::Delivered);
    assert_eq!(d.order.pending_revision, None);
    assert_eq!(d.order.due_at, Some(h(24) + p().review_window));
    assert_eq!(
        notes(&d),
        [to_customer(NotificationKind::RevisionAnswered)],
        "refused, as if denied"
    );
    assert_eq!(d.effects.len(), 1);
}

// ---------------------------------------------------------------------------
// §9: disputes
// ---------------------------------------------------------------------------

#[test]
fn dispute_from_any_open_state_stops_timers() {
    for o in every_state().into_iter().filter(|o| !o.state.is_terminal()) {
        let res = try_run(&o, Actor::Customer, Command::Dispute { reason: "bad".into() }, h(1));
        if o.state == OrderState::Disputed {
            assert!(matches!(res, Err(DomainError::InvalidState { .. })));
            continue;
        }
        let d = res.unwrap();
        assert_eq!(d.order.state, OrderState::Disputed, "from {}", o.state);
        assert_eq!(d.order.due_at, None, "timers stop");
        assert!(transfers(&d).is_empty(), "escrow stays held");
        assert!(kinds(&d).is_empty());
        assert_eq!(
            notes(&d),
            [
                (Recipient::Support, NotificationKind::OrderDisputed),
                to_owner(NotificationKind::OrderDisputed)
            ]
        );
        let later = tick(&d.order, h(24 * 365));
        assert_eq!(later.order, d.order);
        assert!(later.effects.is_empty());
    }
}

#[test]
fn dispute_partial_refund_splits_escrow() {
    let reason = "half done".into();
    let o = run(&delivered(), Actor::Customer, Command::Dispute { reason }, h(1)).order;
    let d = run(&o, Actor::Admin, Command::Resolve { refund: Points(10) }, h(2));
    assert_eq!(d.order.state, OrderState::Completed);
    assert_eq!(d.order.due_at, None);
    // 15 left: 10 % fee → payee 13 (13.5 rounded down), fee 2.
    assert_eq!(
        transfers(&d),
        [
            (escrow(), customer(), 10, TransferKind::Refund),
            (escrow(), owner(), 13, TransferKind::Payout),
            (escrow(), fees(), 2, TransferKind::Fee)
        ]
    );
    assert_eq!(kinds(&d), [(EventKind::OrderCompleted, h(2))]);
    assert_eq!(
        notes(&d),
        [
            to_customer(NotificationKind::DisputeResolved),
            to_owner(NotificationKind::DisputeResolved)
        ]
    );
}

#[test]
fn dispute_zero_refund_pays_out_in_full() {
    let d = run(&disputed(), Actor::Admin, Command::Resolve { refund: Points(0) }, h(2));
    assert_eq!(d.order.state, OrderState::Completed);
    assert_eq!(
        transfers(&d),
        [
            (escrow(), owner(), 22, TransferKind::Payout),
            (escrow(), fees(), 3, TransferKind::Fee)
        ],
        "no zero-amount refund leg"
    );
}

#[test]
fn dispute_full_refund_refunds() {
    let d = run(&disputed(), Actor::Admin, Command::Resolve { refund: Points(25) }, h(2));
    assert_eq!(d.order.state, OrderState::Refunded);
    assert_eq!(d.order.due_at, None);
    assert_eq!(transfers(&d), [(escrow(), customer(), 25, TransferKind::Refund)]);
    assert_eq!(kinds(&d), [(EventKind::OrderRefunded, h(2))]);
    assert_eq!(
        notes(&d),
        [
            to_customer(NotificationKind::DisputeResolved),
            to_owner(NotificationKind::DisputeResolved)
        ]
    );
}

#[test]
fn dispute_refund_out_of_range_is_refused() {
    for refund in [-1, 26] {
        assert!(refused_field(
            try_run(
                &disputed(),
                Actor::Admin,
                Command::Resolve { refund: Points(refund) },
                h(2)
            ),
            "refund"
        ));
    }
}

#[test]
fn resolving_to_completed_releases_latest_delivery() {
    let o = run(&in_progress(), Actor::Agent, Command::Deliver, h(1)).order;
    let o = run(&o, Actor::Owner, Command::Return { note: "redo".into() }, h(2)).order;
    let o = run(&o, Actor::Agent, Command::Deliver, h(3)).order;
    assert_eq!((o.deliveries, o.released), (2, 0));
    let o = run(&o, Actor::Customer, Command::Dispute { reason: "late".into() }, h(4)).order;
    let d = run(&o, Actor::Admin, Command::Resolve { refund: Points(5) }, h(5));
    assert_eq!(d.order.state, OrderState::Completed);
    assert_eq!(d.order.released, 2, "the latest delivery becomes visible");
    // A full refund shows nothing.
    let d = run(&o, Actor::Admin, Command::Resolve { refund: Points(25) }, h(5));
    assert_eq!(d.order.released, 0);
}

// ---------------------------------------------------------------------------
// §9: refusals
// ---------------------------------------------------------------------------

/// Every command with valid arguments, each with an actor allowed to issue it.
fn every_command() -> Vec<(Actor, Command)> {
    vec![
        (Actor::System, Command::Tick),
        (Actor::Owner, Command::Approve),
        (Actor::Owner, Command::Deny { reason: "r".into() }),
        (Actor::Agent, Command::Deliver),
        (
            Actor::Agent,
            Command::Decline {
                reason: DeclineReason::Other,
                note: Some("n".into()),
            },
        ),
        (
            Actor::Agent,
            Command::AgentFlag {
                reason: FlagReason::Other,
                note: None,
            },
        ),
        (Actor::Owner, Command::Resume { note: "n".into() }),
        (Actor::Owner, Command::RefundFlagged),
        (
            Actor::Owner,
            Command::ChangeScope {
                scope: Some("s".into()),
                deadline: Some(h(200)),
                note: "n".into(),
            },
        ),
        (Actor::Owner, Command::Release),
        (Actor::Owner, Command::Return { note: "n".into() }),
        (Actor::Customer, Command::Accept),
        (Actor::Customer, Command::RequestRevision { message: "m".into() }),
        (Actor::Owner, Command::ApproveRevision),
        (Actor::Owner, Command::DenyRevision),
        (Actor::Customer, Command::Dispute { reason: "r".into() }),
        (Actor::Admin, Command::Resolve { refund: Points(5) }),
        (Actor::Owner, Command::SetAutoApprove(true)),
        (Actor::Agent, Command::Progress(pct(50))),
    ]
}

/// SPEC §9's table: the commands each state accepts (besides `tick`).
fn accepted(state: OrderState) -> &'static [&'static str] {
    use OrderState as S;
    match state {
        S::PendingOwnerApproval => &["approve", "deny", "dispute", "auto_approve"],
        S::InProgress => &[
            "deliver",
            "decline",
            "flag",
            "scope",
            "dispute",
            "auto_approve",
            "progress",
        ],
        S::Flagged => &["resume", "refund", "dispute", "auto_approve"],
        S::DeliveredPendingOwnerReview => &["release", "return", "dispute", "auto_approve"],
        S::Delivered => &["accept", "revision", "dispute", "auto_approve"],
        S::RevisionPendingOwnerReview => &["approve_revision", "deny_revision", "dispute", "auto_approve"],
        S::Disputed => &["resolve", "auto_approve"],
        S::Completed | S::Refunded => &[],
    }
}

#[test]
fn invalid_transition_returns_invalid_state_and_no_effects() {
    let mut refused = 0;
    for o in every_state() {
        for (actor, c) in every_command() {
            let name = c.name();
            let res = decide(&o, actor, c, &p(), h(1));
            if name == "tick" || accepted(o.state).contains(&name) {
                assert!(res.is_ok(), "{name} in {}: {res:?}", o.state);
            } else {
                refused += 1;
                let err = res.unwrap_err();
                assert_eq!(
                    err,
                    DomainError::InvalidState {
                        state: o.state,
                        command: name
                    }
                );
                assert_eq!(err.code(), "invalid_state");
            }
        }
    }
    assert!(refused > 100, "the matrix was exercised ({refused} refusals)");

    // A terminal order never changes again, even by tick.
    for o in [completed(), refunded()] {
        let d = tick(&o, h(24 * 365));
        assert_eq!(d.order, o);
        assert!(d.effects.is_empty());
    }
}

#[test]
fn wrong_actor_is_not_permitted() {
    const ACTORS: [(Actor, &str); 5] = [
        (Actor::Customer, "customer"),
        (Actor::Owner, "owner"),
        (Actor::Agent, "agent"),
        (Actor::Admin, "admin"),
        (Actor::System, "system"),
    ];
    let allowed = |name: &str| -> &'static [&'static str] {
        match name {
            "tick" => &["customer", "owner", "agent", "admin", "system"],
            "refund" => &["owner", "admin"],
            "approve" | "deny" | "resume" | "scope" | "release" | "return" | "approve_revision" | "deny_revision"
            | "auto_approve" => &["owner"],
            "deliver" | "decline" | "flag" | "progress" => &["agent"],
            "accept" | "revision" | "dispute" => &["customer"],
            "resolve" => &["admin"],
            other => panic!("unlisted command {other}"),
        }
    };
    let states = every_state();
    for (_, c) in every_command() {
        let name = c.name();
        // An order in a state that accepts the command, so only the actor is wrong.
        let o = states
            .iter()
            .find(|o| name == "tick" || accepted(o.state).contains(&name))
            .unwrap();
        for (actor, actor_name) in ACTORS {
            let res = decide(o, actor, c.clone(), &p(), h(1));
            if allowed(name).contains(&actor_name) {
                assert!(res.is_ok(), "{actor_name} may {name}: {res:?}");
            } else {
                let err = res.unwrap_err();
                assert_eq!(
                    err,
                    DomainError::NotPermitted {
                        actor: actor_name,
                        command: name
                    }
                );
                assert_eq!(err.code(), "forbidden");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// §15: orders and timers
// ---------------------------------------------------------------------------

#[test]
fn due_timer_applies_before_command() {
    // The approval timeout passed: the owner's late approve meets a refunded order.
    let err = try_run(&pending(), Actor::Owner, Command::Approve, h(25)).unwrap_err();
    assert_eq!(
        err,
        DomainError::InvalidState {
            state: OrderState::Refunded,
            command: "approve"
        }
    );
    // The owner-review timeout released the delivery; a revision request then applies
    // to the released order, and the decision carries both.
    let o = run(&in_progress(), Actor::Agent, Command::Deliver, h(1)).order;
    let d = run(
        &o,
        Actor::Customer,
        Command::RequestRevision { message: "m".into() },
        h(30),
    );
    assert_eq!(d.order.state, OrderState::InProgress);
    assert_eq!(d.order.released, 1);
    assert_eq!(notes(&d), [to_customer(NotificationKind::DeliveryReleased)]);
    assert_eq!(kinds(&d), [(EventKind::RevisionRequest, h(30))]);
}

#[test]
fn deadline_is_entry_into_in_progress_plus_delivery_days() {
    let mut c = cmd(AcceptMode::Manual);
    c.work.delivery_days = 3;
    let o = place_order(c, &p(), t0()).unwrap().order;
    assert_eq!(o.deadline, None, "no deadline before work starts");
    let d = run(&o, Actor::Owner, Command::Approve, h(7));
    assert_eq!(d.order.deadline, Some(h(7) + Duration::days(3)));
    assert_eq!(events(&d)[0].body.deadline, Some(h(7) + Duration::days(3)));
}

#[test]
fn each_revision_round_sets_a_new_deadline() {
    // Owner return.
    let note = "n".into();
    let d = run(&awaiting_review(), Actor::Owner, Command::Return { note }, h(20));
    assert_eq!(d.order.deadline, Some(h(20) + Duration::days(2)));
    assert_eq!(d.order.due_at, d.order.deadline);
    // Customer revision.
    let message = "m".into();
    let d = run(
        &delivered(),
        Actor::Customer,
        Command::RequestRevision { message },
        h(30),
    );
    assert_eq!(d.order.deadline, Some(h(30) + Duration::days(2)));
    // Owner-approved revision beyond the cap.
    let d = run(&revision_pending(), Actor::Owner, Command::ApproveRevision, h(10));
    assert_eq!(d.order.deadline, Some(h(10) + Duration::days(2)));
}

#[test]
fn review_window_restarts_on_every_entry_into_delivered() {
    let window = p().review_window;
    // Release.
    let d = run(&awaiting_review(), Actor::Owner, Command::Release, h(5));
    assert_eq!(d.order.due_at, Some(h(5) + window));
    // Second delivery after a revision.
    let o = run(
        &d.order,
        Actor::Customer,
        Command::RequestRevision { message: "m".into() },
        h(10),
    )
    .order;
    let o = run(&o, Actor::Agent, Command::Deliver, h(20)).order;
    let d = run(&o, Actor::Owner, Command::Release, h(30));
    assert_eq!(d.order.due_at, Some(h(30) + window));
    // Denied revision.
    let d = run(&revision_pending(), Actor::Owner, Command::DenyRevision, h(8));
    assert_eq!(d.order.due_at, Some(h(8) + window));
    // Missed revision deadline.
    let o = run(
        &delivered(),
        Actor::Customer,
        Command::RequestRevision { message: "m".into() },
        h(1),
    )
    .order;
    let deadline = o.deadline.unwrap();
    assert_eq!(tick(&o, deadline).order.due_at, Some(deadline + window));
}

#[test]
fn late_scheduler_reaches_same_end_state() {
    // Cascades: each timer fires at its own instant and may arm the next one.
    let revising = run(
        &delivered(),
        Actor::Customer,
        Command::RequestRevision { message: "m".into() },
        h(1),
    )
    .order;
    let cases = [
        ("approval timeout", pending()),
        ("missed deadline", in_progress()),
        ("flag timeout", flagged()),
        ("review → release → window → completed", awaiting_review()),
        ("window → completed", delivered()),
        ("revision timeout → window → completed", revision_pending()),
        ("revision deadline → delivered → window → completed", revising),
    ];
    let late = h(24 * 30);
    for (what, o) in cases {
        let (punctual, fx) = on_time(&o, late);
        let d = tick(&o, late);
        assert!(d.order.state.is_terminal(), "{what}: {}", d.order.state);
        assert!(same_but_updated_at(&d.order, &punctual), "{what}: same end state");
        assert_eq!(d.effects, fx, "{what}: same effects, same instants");
        assert_eq!(d.order.updated_at, late);
    }
    // The review → release → completed cascade in detail.
    let d = tick(&awaiting_review(), late);
    assert_eq!(notes(&d)[0], to_customer(NotificationKind::DeliveryReleased));
    assert_eq!(kinds(&d), [(EventKind::OrderCompleted, h(24) + p().review_window)]);
    assert_eq!(d.order.released, 1);
}

#[test]
fn every_terminal_entry_emits_completed_or_refunded() {
    let r = || "r".to_owned();
    let paths: Vec<(&str, Decision, EventKind)> = vec![
        (
            "deny",
            run(&pending(), Actor::Owner, Command::Deny { reason: r() }, h(1)),
            EventKind::OwnerDeniedOrder,
        ),
        ("approval timeout", tick(&pending(), h(24)), EventKind::OwnerDeniedOrder),
        (
            "decline",
            run(
                &in_progress(),
                Actor::Agent,
                Command::Decline {
                    reason: DeclineReason::Other,
                    note: Some(r()),
                },
                h(1),
            ),
            EventKind::OrderRefunded,
        ),
        ("missed deadline", tick(&in_progress(), h(48)), EventKind::OrderRefunded),
        (
            "refund flagged",
            run(&flagged(), Actor::Owner, Command::RefundFlagged, h(1)),
            EventKind::OrderRefunded,
        ),
        ("flag timeout", tick(&flagged(), h(24)), EventKind::OrderRefunded),
        (
            "full refund",
            run(&disputed(), Actor::Admin, Command::Resolve { refund: Points(25) }, h(1)),
            EventKind::OrderRefunded,
        ),
        (
            "accept",
            run(&delivered(), Actor::Customer, Command::Accept, h(1)),
            EventKind::OrderCompleted,
        ),
        ("review window", tick(&delivered(), h(72)), EventKind::OrderCompleted),
        (
            "partial refund",
            run(&disputed(), Actor::Admin, Command::Resolve { refund: Points(1) }, h(1)),
            EventKind::OrderCompleted,
        ),
        (
            "customer cancel",
            run(&pending(), Actor::Customer, Command::Cancel, h(1)),
            EventKind::OrderRefunded,
        ),
        (
            "agent suspended",
            run(&in_progress(), Actor::Admin, Command::AgentSuspended, h(1)),
            EventKind::OrderRefunded,
        ),
    ];
    for (what, d, want) in paths {
        assert!(d.order.state.is_terminal(), "{what}");
        assert_eq!(d.order.due_at, None, "{what}: no timer once terminal");
        let got: Vec<EventKind> = events(&d).iter().map(|e| e.kind).collect();
        assert_eq!(got, [want], "{what}");
        let held: i64 = 25 - transfers(&d).iter().map(|t| t.2).sum::<i64>();
        assert_eq!(held, 0, "{what}: escrow emptied");
    }
}

#[test]
fn owner_may_order_from_own_agent() {
    let mut c = cmd(auto());
    c.customer = owner_id();
    c.auto_approve_deliveries = true;
    let d = place_order(c, &p(), t0()).unwrap();
    assert_eq!(transfers(&d), [(owner(), escrow(), 25, TransferKind::EscrowHold)]);
    let o = run(&d.order, Actor::Agent, Command::Deliver, h(1)).order;
    let d = run(&o, Actor::Customer, Command::Accept, h(2));
    assert_eq!(
        transfers(&d),
        [
            (escrow(), owner(), 22, TransferKind::Payout),
            (escrow(), fees(), 3, TransferKind::Fee)
        ]
    );
}

#[test]
fn tick_with_nothing_due_changes_nothing() {
    for o in every_state() {
        let d = tick(&o, h(1));
        assert_eq!(d.order, o, "{}: not even updated_at", o.state);
        assert!(d.effects.is_empty());
    }
}

/// Whether `r` is a refusal of `field` (the domain's one validation shape).
fn refused_field<T: std::fmt::Debug>(r: Result<T, DomainError>, field: &str) -> bool {
    matches!(r, Err(DomainError::InvalidInput(e)) if e.field == field)
}

// ---------------------------------------------------------------------------
// Customer cancel (SPEC §16) and the open orders of a suspended agent (§15)
// ---------------------------------------------------------------------------

#[test]
fn customer_cancel_refunds_a_pending_order_at_once() {
    let o = pending();
    let d = run(&o, Actor::Customer, Command::Cancel, h(1));
    assert_eq!(d.order.state, OrderState::Refunded);
    assert_eq!(d.order.due_at, None, "the 24 h approval timer is gone");
    assert_eq!(transfers(&d), [(escrow(), customer(), 25, TransferKind::Refund)]);
    assert_eq!(kinds(&d), [(EventKind::OrderRefunded, h(1))]);
    let ev = events(&d)[0];
    assert_bare(ev);
    assert_eq!(ev.body.message.as_deref(), Some("cancelled by the customer"));
    assert_eq!(
        notes(&d),
        [
            to_customer(NotificationKind::OrderRefunded),
            to_owner(NotificationKind::OrderRefunded)
        ]
    );
}

#[test]
fn customer_cancel_only_while_pending_and_only_by_the_customer() {
    for o in every_state()
        .into_iter()
        .filter(|o| o.state != OrderState::PendingOwnerApproval)
    {
        assert_eq!(
            try_run(&o, Actor::Customer, Command::Cancel, h(1)).unwrap_err(),
            DomainError::InvalidState {
                state: o.state,
                command: "cancel"
            },
            "{}",
            o.state
        );
    }
    for actor in [Actor::Owner, Actor::Agent, Actor::Admin, Actor::System] {
        assert!(matches!(
            try_run(&pending(), actor, Command::Cancel, h(1)),
            Err(DomainError::NotPermitted { command: "cancel", .. })
        ));
    }
}

#[test]
fn cancel_after_the_approval_timeout_finds_the_order_refunded() {
    // The due timer is applied first: the order was refunded at h(24) as denied.
    let r = try_run(&pending(), Actor::Customer, Command::Cancel, h(25));
    assert!(matches!(
        r,
        Err(DomainError::InvalidState {
            state: OrderState::Refunded,
            ..
        })
    ));
}

#[test]
fn suspension_refunds_work_the_customer_never_received() {
    for o in [pending(), in_progress(), flagged(), awaiting_review()] {
        let d = run(&o, Actor::Admin, Command::AgentSuspended, h(1));
        assert_eq!(d.order.state, OrderState::Refunded, "{}", o.state);
        assert_eq!(d.order.due_at, None);
        assert_eq!(transfers(&d), [(escrow(), customer(), 25, TransferKind::Refund)]);
        assert_eq!(kinds(&d), [(EventKind::OrderRefunded, h(1))], "{}", o.state);
        assert_eq!(
            events(&d)[0].body.message.as_deref(),
            Some("agent suspended by support")
        );
        assert_eq!(notes(&d), [to_customer(NotificationKind::OrderRefunded)]);
    }
}

#[test]
fn suspension_returns_released_work_to_the_customer() {
    // A revision round after a released delivery: the customer keeps that delivery.
    let revising = run(
        &delivered(),
        Actor::Customer,
        Command::RequestRevision { message: "more".into() },
        h(1),
    )
    .order;
    let redelivered = run(&revising, Actor::Agent, Command::Deliver, h(2)).order;
    let reflagged = run(
        &revising,
        Actor::Agent,
        Command::AgentFlag {
            reason: FlagReason::Other,
            note: None,
        },
        h(2),
    )
    .order;
    for o in [revising, redelivered, reflagged, revision_pending()] {
        let d = run(&o, Actor::Admin, Command::AgentSuspended, h(3));
        assert_eq!(d.order.state, OrderState::Delivered, "{}", o.state);
        assert_eq!(d.order.due_at, Some(h(3) + p().review_window), "{}", o.state);
        assert_eq!(d.order.released, o.released, "nothing new is released");
        assert_eq!(d.order.pending_revision, None);
        assert_eq!(d.order.flag_remaining_secs, None);
        assert!(d.effects.is_empty(), "{}: no points move", o.state);
    }
}

#[test]
fn suspension_leaves_orders_with_the_customer_or_support_alone() {
    for o in [delivered(), disputed(), completed(), refunded()] {
        let d = run(&o, Actor::Admin, Command::AgentSuspended, h(1));
        assert_eq!(d.order, o, "{}: unchanged", o.state);
        assert!(d.effects.is_empty());
    }
    // A timer due first decides: the review window completed this order at h(72).
    let d = run(&delivered(), Actor::Admin, Command::AgentSuspended, h(100));
    assert_eq!(d.order.state, OrderState::Completed);
    assert_eq!(kinds(&d), [(EventKind::OrderCompleted, t0() + p().review_window)]);
    assert!(matches!(
        try_run(&in_progress(), Actor::Owner, Command::AgentSuspended, h(1)),
        Err(DomainError::NotPermitted { .. })
    ));
}

/// What the customer is told with each refund: why.
fn refund_reasons(d: &Decision) -> Vec<heepr_domain::notice::Detail> {
    d.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify(n) if n.kind == NotificationKind::OrderRefunded => Some(n.detail.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn refunds_tell_the_customer_why() {
    use heepr_domain::notice::{Detail, RefundReason as R};
    let why = |r| vec![Detail::Refund { reason: r }];
    let deny = Command::Deny { reason: "busy".into() };
    assert_eq!(
        refund_reasons(&run(&pending(), Actor::Owner, deny, h(1))),
        why(R::Denied)
    );
    assert_eq!(refund_reasons(&tick(&pending(), h(25))), why(R::NotApprovedInTime));
    let decline = Command::Decline {
        reason: DeclineReason::Capacity,
        note: None,
    };
    assert_eq!(
        refund_reasons(&run(&in_progress(), Actor::Agent, decline, h(1))),
        why(R::Declined)
    );
    assert_eq!(refund_reasons(&tick(&in_progress(), h(24 * 3))), why(R::MissedDeadline));
    let cancel = run(&pending(), Actor::Customer, Command::Cancel, h(1));
    assert_eq!(
        refund_reasons(&cancel),
        [why(R::Cancelled), why(R::Cancelled)].concat(),
        "customer and owner"
    );
    let flag = Command::AgentFlag {
        reason: FlagReason::Illegal,
        note: Some("malware".into()),
    };
    let flagged = run(&in_progress(), Actor::Agent, flag, h(1));
    assert_eq!(
        flagged.effects.iter().find_map(|e| match e {
            Effect::Notify(n) if n.kind == NotificationKind::OrderFlagged => Some(n.detail.clone()),
            _ => None,
        }),
        Some(Detail::Note {
            text: "illegal (malware)".into()
        })
    );
    let refunded = run(&flagged.order, Actor::Owner, Command::RefundFlagged, h(2));
    assert_eq!(refund_reasons(&refunded), why(R::Flagged));
    let suspended = run(&in_progress(), Actor::Admin, Command::AgentSuspended, h(1));
    assert_eq!(refund_reasons(&suspended), why(R::AgentSuspended));
}
