//! One test per rule of SPEC §9 and §15, in virtual time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use heepr_domain::order::{decide, place_order};
use heepr_domain::{
    AcceptBand, AcceptMode, AccountRef, Actor, AgentAvailability, AgentId, Command, Decision, DomainError, Effect,
    EventKind, FeeBps, NotificationKind, Order, OrderId, OrderState, PlaceOrder, Points, Policy, RevisionBy,
    TransferKind, UserId, WorkSpec,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn cmd(mode: AcceptMode) -> PlaceOrder {
    PlaceOrder {
        id: OrderId::parse("ord_1").unwrap(),
        customer: UserId::parse("usr_c").unwrap(),
        owner: UserId::parse("usr_o").unwrap(),
        agent: AgentId::parse("agt_a").unwrap(),
        availability: AgentAvailability::Active,
        accept_mode: mode,
        price: Points(25),
        fee_bps: FeeBps::new(1000).unwrap(),
        work: WorkSpec {
            gig_title: "Fix a bug".into(),
            tier_name: "Basic".into(),
            inputs: serde_json::json!({"repo": "https://example.com/r"}),
            delivery_days: 2,
            category: "code".into(),
            ..WorkSpec::default()
        },
        revisions_included: 1,
        auto_approve_deliveries: false,
        from_offer: false,
    }
}

fn auto() -> AcceptMode {
    AcceptMode::Auto { bands: vec![] }
}

fn p() -> Policy {
    Policy::default()
}

fn placed(mode: AcceptMode) -> Order {
    place_order(cmd(mode), &p(), t0()).unwrap().order
}

fn run(o: &Order, actor: Actor, c: Command, at: DateTime<Utc>) -> Decision {
    decide(o, actor, c, &p(), at).unwrap()
}

fn transfers(d: &Decision) -> Vec<(AccountRef, AccountRef, i64, TransferKind)> {
    d.transfers()
        .map(|t| (t.debit.clone(), t.credit.clone(), t.amount.get(), t.kind))
        .collect()
}

fn kinds(d: &Decision) -> Vec<EventKind> {
    d.events().map(|e| e.kind).collect()
}

fn notified(d: &Decision) -> Vec<NotificationKind> {
    d.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify(n) => Some(n.kind),
            _ => None,
        })
        .collect()
}

fn escrow() -> AccountRef {
    AccountRef::Escrow(OrderId::parse("ord_1").unwrap())
}
fn customer() -> AccountRef {
    AccountRef::Wallet(UserId::parse("usr_c").unwrap())
}
fn owner() -> AccountRef {
    AccountRef::Wallet(UserId::parse("usr_o").unwrap())
}

/// in_progress → delivered (released) at t0.
fn delivered() -> Order {
    let o = placed(auto());
    let o = run(&o, Actor::Agent, Command::Deliver, t0()).order;
    run(&o, Actor::Owner, Command::Release, t0()).order
}

#[test]
fn auto_mode_inside_band_starts_work_with_new_order_and_escrow_hold() {
    let band = AcceptBand {
        price_min: Points(10),
        price_max: Points(30),
        categories: vec!["code".into()],
        max_revisions: Some(2),
    };
    let d = place_order(cmd(AcceptMode::Auto { bands: vec![band] }), &p(), t0()).unwrap();
    assert_eq!(d.order.state, OrderState::InProgress);
    assert_eq!(d.order.deadline, Some(t0() + Duration::days(2)));
    assert_eq!(transfers(&d), [(customer(), escrow(), 25, TransferKind::EscrowHold)]);
    assert_eq!(kinds(&d), [EventKind::NewOrder]);
    let ev = d.events().next().unwrap();
    assert_eq!(ev.body.g.as_deref(), Some("Fix a bug"));
    assert_eq!(ev.body.p, Some(Points(25)));
    assert_eq!(ev.body.rl, Some(1));
    assert!(
        ev.body.sf.as_ref().is_some_and(|r| !r.is_empty()),
        "sf on every work event"
    );
}

#[test]
fn outside_bands_or_manual_waits_for_owner() {
    let band = AcceptBand {
        price_min: Points(100),
        price_max: Points(200),
        ..AcceptBand::default()
    };
    for mode in [AcceptMode::Manual, AcceptMode::Auto { bands: vec![band] }] {
        let d = place_order(cmd(mode), &p(), t0()).unwrap();
        assert_eq!(d.order.state, OrderState::PendingOwnerApproval);
        assert!(kinds(&d).is_empty());
        assert_eq!(notified(&d), [NotificationKind::OrderNeedsApproval]);
        assert_eq!(transfers(&d).len(), 1, "escrow is held at once");
    }
}

#[test]
fn orders_from_offers_skip_approval() {
    let mut c = cmd(AcceptMode::Manual);
    c.from_offer = true;
    assert_eq!(place_order(c, &p(), t0()).unwrap().order.state, OrderState::InProgress);
}

#[test]
fn paused_or_suspended_agents_take_no_orders() {
    let mut c = cmd(auto());
    c.availability = AgentAvailability::Paused;
    assert_eq!(
        place_order(c.clone(), &p(), t0()).unwrap_err(),
        DomainError::AgentPaused
    );
    c.availability = AgentAvailability::Suspended;
    assert_eq!(place_order(c, &p(), t0()).unwrap_err(), DomainError::AgentSuspended);
}

#[test]
fn owner_approve_emits_owner_approved_order_with_full_payload() {
    let o = placed(AcceptMode::Manual);
    let d = run(&o, Actor::Owner, Command::Approve, t0() + Duration::hours(1));
    assert_eq!(d.order.state, OrderState::InProgress);
    assert_eq!(kinds(&d), [EventKind::OwnerApprovedOrder]);
    assert!(d.events().next().unwrap().body.inputs.is_some());
}

#[test]
fn deny_refunds_and_emits_owner_denied_order() {
    let o = placed(AcceptMode::Manual);
    let d = run(&o, Actor::Owner, Command::Deny { reason: "busy".into() }, t0());
    assert_eq!(d.order.state, OrderState::Refunded);
    assert_eq!(transfers(&d), [(escrow(), customer(), 25, TransferKind::Refund)]);
    assert_eq!(kinds(&d), [EventKind::OwnerDeniedOrder]);
    assert_eq!(d.events().next().unwrap().body.m.as_deref(), Some("busy"));
}

#[test]
fn approval_timeout_refunds_after_24_hours() {
    let o = placed(AcceptMode::Manual);
    let early = run(&o, Actor::System, Command::Tick, t0() + Duration::hours(23));
    assert_eq!(early.order, o, "nothing due yet");
    let d = run(&o, Actor::System, Command::Tick, t0() + Duration::hours(24));
    assert_eq!(d.order.state, OrderState::Refunded);
    assert_eq!(kinds(&d), [EventKind::OwnerDeniedOrder]);
}

#[test]
fn deliver_waits_for_owner_review_unless_auto_approve() {
    let o = placed(auto());
    let d = run(&o, Actor::Agent, Command::Deliver, t0());
    assert_eq!(d.order.state, OrderState::DeliveredPendingOwnerReview);
    assert_eq!(d.order.released, 0, "not visible to the customer yet");
    assert_eq!(notified(&d), [NotificationKind::DeliveryNeedsReview]);

    let mut c = cmd(auto());
    c.auto_approve_deliveries = true;
    let o = place_order(c, &p(), t0()).unwrap().order;
    let d = run(&o, Actor::Agent, Command::Deliver, t0());
    assert_eq!(d.order.state, OrderState::Delivered);
    assert_eq!(d.order.released, 1);
}

#[test]
fn owner_review_auto_releases_after_24_hours() {
    let o = run(&placed(auto()), Actor::Agent, Command::Deliver, t0()).order;
    let d = run(&o, Actor::System, Command::Tick, t0() + Duration::hours(24));
    assert_eq!(d.order.state, OrderState::Delivered);
    assert_eq!(d.order.released, 1);
}

#[test]
fn owner_return_is_a_revision_that_uses_no_customer_revision() {
    let o = run(&placed(auto()), Actor::Agent, Command::Deliver, t0()).order;
    let d = run(
        &o,
        Actor::Owner,
        Command::Return {
            note: "add tests".into(),
        },
        t0() + Duration::hours(1),
    );
    assert_eq!(d.order.state, OrderState::InProgress);
    assert_eq!(d.order.revisions_left, 1);
    assert_eq!(
        d.order.deadline,
        Some(t0() + Duration::hours(1) + Duration::days(2)),
        "new round, new deadline"
    );
    let ev = d.events().next().unwrap();
    assert_eq!(ev.kind, EventKind::RevisionRequest);
    let rh = ev.body.rh.as_ref().unwrap();
    assert_eq!(
        (rh.len(), rh[0].by, rh[0].m.as_str()),
        (1, RevisionBy::Owner, "add tests")
    );
}

#[test]
fn accept_pays_owner_minus_fee_rounded_down() {
    let d = run(&delivered(), Actor::Customer, Command::Accept, t0());
    assert_eq!(d.order.state, OrderState::Completed);
    assert_eq!(
        transfers(&d),
        [
            (escrow(), owner(), 22, TransferKind::Payout),
            (escrow(), AccountRef::PlatformFees, 3, TransferKind::Fee)
        ]
    );
    assert_eq!(kinds(&d), [EventKind::OrderCompleted]);
}

#[test]
fn review_window_completes_after_72_hours() {
    let o = delivered();
    assert_eq!(
        run(&o, Actor::System, Command::Tick, t0() + Duration::hours(71))
            .order
            .state,
        OrderState::Delivered
    );
    let d = run(&o, Actor::System, Command::Tick, t0() + Duration::hours(72));
    assert_eq!(d.order.state, OrderState::Completed);
    assert_eq!(transfers(&d).len(), 2);
}

#[test]
fn revision_uses_an_included_revision_with_full_history() {
    let d = run(
        &delivered(),
        Actor::Customer,
        Command::RequestRevision {
            message: "bigger font".into(),
        },
        t0(),
    );
    assert_eq!(d.order.state, OrderState::InProgress);
    assert_eq!(d.order.revisions_left, 0);
    let ev = d.events().next().unwrap();
    assert_eq!(ev.kind, EventKind::RevisionRequest);
    assert_eq!(ev.body.rl, Some(0));
    assert_eq!(ev.body.rh.as_ref().unwrap()[0].by, RevisionBy::Customer);
}

#[test]
fn revision_beyond_cap_waits_for_owner() {
    let o = run(
        &delivered(),
        Actor::Customer,
        Command::RequestRevision { message: "one".into() },
        t0(),
    )
    .order;
    let o = run(&o, Actor::Agent, Command::Deliver, t0()).order;
    let o = run(&o, Actor::Owner, Command::Release, t0()).order;
    let d = run(
        &o,
        Actor::Customer,
        Command::RequestRevision { message: "two".into() },
        t0(),
    );
    assert_eq!(d.order.state, OrderState::RevisionPendingOwnerReview);
    assert_eq!(notified(&d), [NotificationKind::RevisionNeedsApproval]);
    let approved = run(&d.order, Actor::Owner, Command::ApproveRevision, t0());
    assert_eq!(approved.order.state, OrderState::InProgress);
    let rh = approved.events().next().unwrap().body.rh.clone().unwrap();
    assert_eq!(
        rh.iter().map(|r| r.m.as_str()).collect::<Vec<_>>(),
        ["one", "two"],
        "full history"
    );
    let denied = run(&d.order, Actor::Owner, Command::DenyRevision, t0());
    assert_eq!(denied.order.state, OrderState::Delivered);
    let timed_out = run(&d.order, Actor::System, Command::Tick, t0() + Duration::hours(24));
    assert_eq!(
        timed_out.order.state,
        OrderState::Delivered,
        "no decision in 24 h counts as deny"
    );
}

#[test]
fn decline_refunds_with_order_refunded() {
    let d = run(
        &placed(auto()),
        Actor::Agent,
        Command::Decline {
            reason: "capacity".into(),
        },
        t0(),
    );
    assert_eq!(d.order.state, OrderState::Refunded);
    assert_eq!(kinds(&d), [EventKind::OrderRefunded]);
    assert_eq!(transfers(&d), [(escrow(), customer(), 25, TransferKind::Refund)]);
}

#[test]
fn agent_flag_parks_then_resume_restores_time_left() {
    let o = placed(auto());
    let d = run(
        &o,
        Actor::Agent,
        Command::AgentFlag {
            reason: "policy_violation".into(),
        },
        t0() + Duration::hours(12),
    );
    assert_eq!(d.order.state, OrderState::Flagged);
    assert_eq!(notified(&d), [NotificationKind::OrderFlagged]);
    let resumed = run(
        &d.order,
        Actor::Owner,
        Command::Resume { note: "fine".into() },
        t0() + Duration::hours(20),
    );
    assert_eq!(resumed.order.state, OrderState::InProgress);
    assert_eq!(
        resumed.order.deadline,
        Some(t0() + Duration::hours(20) + Duration::hours(36))
    );
    assert_eq!(kinds(&resumed), [EventKind::ScopeChange]);
    let refunded = run(
        &d.order,
        Actor::Admin,
        Command::RefundFlagged,
        t0() + Duration::hours(13),
    );
    assert_eq!(refunded.order.state, OrderState::Refunded);
    let timed_out = run(&d.order, Actor::System, Command::Tick, t0() + Duration::hours(36));
    assert_eq!(
        timed_out.order.state,
        OrderState::Refunded,
        "no owner decision in 24 h refunds"
    );
}

#[test]
fn missed_deadline_refunds_when_nothing_released() {
    let d = run(&placed(auto()), Actor::System, Command::Tick, t0() + Duration::days(2));
    assert_eq!(d.order.state, OrderState::Refunded);
    assert_eq!(kinds(&d), [EventKind::OrderRefunded]);
    assert_eq!(d.events().next().unwrap().body.m.as_deref(), Some("missed deadline"));
}

#[test]
fn missed_deadline_after_release_returns_to_delivered() {
    let o = run(
        &delivered(),
        Actor::Customer,
        Command::RequestRevision { message: "x".into() },
        t0(),
    )
    .order;
    let d = run(&o, Actor::System, Command::Tick, t0() + Duration::days(2));
    assert_eq!(d.order.state, OrderState::Delivered);
    assert!(transfers(&d).is_empty());
}

#[test]
fn late_scheduler_reaches_same_end_state() {
    // Deadline passes after a release (→ delivered at the deadline), then the review
    // window passes too: one late tick applies both, each at its own instant.
    let o = run(
        &delivered(),
        Actor::Customer,
        Command::RequestRevision { message: "x".into() },
        t0(),
    )
    .order;
    let d = run(&o, Actor::System, Command::Tick, t0() + Duration::days(30));
    assert_eq!(d.order.state, OrderState::Completed);
    assert_eq!(d.order.due_at, None);
}

#[test]
fn scope_change_needs_in_progress_and_a_future_deadline() {
    let o = placed(auto());
    let err = decide(
        &o,
        Actor::Owner,
        Command::ChangeScope {
            scope: None,
            deadline: Some(t0()),
            note: "n".into(),
        },
        &p(),
        t0(),
    )
    .unwrap_err();
    assert!(matches!(err, DomainError::InvalidInput { field: "deadline", .. }));
    let d = run(
        &o,
        Actor::Owner,
        Command::ChangeScope {
            scope: Some("also docs".into()),
            deadline: Some(t0() + Duration::days(5)),
            note: "bigger".into(),
        },
        t0(),
    );
    let ev = d.events().next().unwrap();
    assert_eq!(
        (ev.kind, ev.body.sc.as_deref(), ev.body.dl),
        (
            EventKind::ScopeChange,
            Some("also docs"),
            Some(t0() + Duration::days(5))
        )
    );
    let err = decide(
        &delivered(),
        Actor::Owner,
        Command::ChangeScope {
            scope: Some("x".into()),
            deadline: None,
            note: "n".into(),
        },
        &p(),
        t0(),
    )
    .unwrap_err();
    assert!(matches!(err, DomainError::InvalidState { .. }));
}

#[test]
fn customer_flag_disputes_and_stops_timers() {
    let d = run(
        &delivered(),
        Actor::Customer,
        Command::Dispute { reason: "wrong".into() },
        t0(),
    );
    assert_eq!(d.order.state, OrderState::Disputed);
    assert_eq!(d.order.due_at, None);
    assert_eq!(notified(&d), [NotificationKind::OrderDisputed]);
    let later = run(&d.order, Actor::System, Command::Tick, t0() + Duration::days(365));
    assert_eq!(later.order.state, OrderState::Disputed);
}

#[test]
fn dispute_partial_refund_splits_escrow() {
    let o = run(
        &delivered(),
        Actor::Customer,
        Command::Dispute {
            reason: "half done".into(),
        },
        t0(),
    )
    .order;
    let d = run(&o, Actor::Admin, Command::Resolve { refund: Points(10) }, t0());
    assert_eq!(d.order.state, OrderState::Completed);
    assert_eq!(
        transfers(&d),
        [
            (escrow(), customer(), 10, TransferKind::Refund),
            (escrow(), owner(), 13, TransferKind::Payout),
            (escrow(), AccountRef::PlatformFees, 2, TransferKind::Fee)
        ]
    );
    let err = decide(&o, Actor::Admin, Command::Resolve { refund: Points(26) }, &p(), t0()).unwrap_err();
    assert!(matches!(err, DomainError::InvalidInput { field: "refund", .. }));
}

#[test]
fn dispute_full_refund_refunds() {
    let o = run(
        &placed(auto()),
        Actor::Customer,
        Command::Dispute { reason: "no".into() },
        t0(),
    )
    .order;
    let d = run(&o, Actor::Admin, Command::Resolve { refund: Points(25) }, t0());
    assert_eq!(d.order.state, OrderState::Refunded);
    assert_eq!(transfers(&d), [(escrow(), customer(), 25, TransferKind::Refund)]);
    assert_eq!(kinds(&d), [EventKind::OrderRefunded]);
}

#[test]
fn invalid_transition_returns_invalid_state_and_no_effects() {
    let o = placed(auto());
    for (actor, c) in [
        (Actor::Customer, Command::Accept),
        (Actor::Owner, Command::Release),
        (Actor::Owner, Command::Approve),
        (Actor::Owner, Command::ApproveRevision),
        (Actor::Admin, Command::Resolve { refund: Points(0) }),
    ] {
        let err = decide(&o, actor, c, &p(), t0()).unwrap_err();
        assert!(
            matches!(
                err,
                DomainError::InvalidState {
                    state: OrderState::InProgress,
                    ..
                }
            ),
            "{err}"
        );
    }
    let done = run(&delivered(), Actor::Customer, Command::Accept, t0()).order;
    let err = decide(&done, Actor::Agent, Command::Deliver, &p(), t0()).unwrap_err();
    assert!(matches!(
        err,
        DomainError::InvalidState {
            state: OrderState::Completed,
            ..
        }
    ));
    let err = decide(&done, Actor::Customer, Command::Accept, &p(), t0()).unwrap_err();
    assert_eq!(err.code(), "invalid_state", "review twice");
}

#[test]
fn wrong_actor_is_not_permitted() {
    let o = placed(auto());
    for (actor, c) in [
        (Actor::Customer, Command::Deliver),
        (Actor::Agent, Command::Accept),
        (Actor::Owner, Command::Resolve { refund: Points(0) }),
        (Actor::Agent, Command::Release),
        (Actor::Customer, Command::Approve),
    ] {
        assert!(matches!(
            decide(&o, actor, c, &p(), t0()),
            Err(DomainError::NotPermitted { .. })
        ));
    }
}

#[test]
fn price_below_one_is_refused() {
    let mut c = cmd(auto());
    c.price = Points(0);
    assert!(matches!(
        place_order(c, &p(), t0()),
        Err(DomainError::InvalidInput { field: "price", .. })
    ));
}
