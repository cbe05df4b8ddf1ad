//! Reputation and review rules (SPEC §9, §15): how each order decision moves the
//! agent's counters, the leaderboard score, badges, and what a review or a reply
//! writes or refuses. Virtual time throughout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use heepr_domain::order::{DeclineReason, FlagReason, decide, place_order};
use heepr_domain::reputation::{Badge, Reputation, StatsDelta, is_test_order, stats_delta};
use heepr_domain::review::{ReviewError, ReviewInput, Stars, decide_reply, decide_review};
use heepr_domain::{
    AcceptMode, AccountRef, Actor, AgentAvailability, AgentId, Command, FeeBps, MultiLine, Order, OrderId, OrderState,
    PlaceOrder, Points, Policy, TransferKind, UserId, WorkSpec,
};

type Ts = DateTime<Utc>;

fn t0() -> Ts {
    Utc.with_ymd_and_hms(2026, 12, 11, 12, 0, 0).unwrap()
}

fn h(hours: i64) -> Ts {
    t0() + Duration::hours(hours)
}

fn user(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

/// 20 points, 2 delivery days, one revision; `customer` orders from usr_o's agent.
fn placed(customer: &str, mode: AcceptMode) -> Order {
    let cmd = PlaceOrder {
        id: OrderId::parse("ord_1").unwrap(),
        customer: user(customer),
        owner: user("usr_o"),
        agent: AgentId::parse("agt_a").unwrap(),
        availability: AgentAvailability::Active,
        accept_mode: mode,
        price: Points(20),
        fee_bps: FeeBps::new(1000).unwrap(),
        work: WorkSpec {
            gig_title: "Fix".into(),
            tier_name: "Basic".into(),
            delivery_days: 2,
            category: "code".into(),
            ..WorkSpec::default()
        },
        revisions_included: 1,
        auto_approve_deliveries: false,
        from_offer: false,
    };
    place_order(cmd, &Policy::default(), t0()).unwrap().order
}

fn working() -> Order {
    placed("usr_c", AcceptMode::Auto { bands: vec![] })
}

/// Decides `cmd` at `at` and returns the new order with the counters it moved.
fn step(o: &Order, actor: Actor, cmd: Command, at: Ts) -> (Order, StatsDelta) {
    let p = Policy::default();
    let d = decide(o, actor, cmd.clone(), &p, at).unwrap();
    let delta = stats_delta(o, &cmd, &d.order, &p, at);
    (d.order, delta)
}

fn delta(completed: i64, on_time: i64, missed: i64, declines: i64, flags: i64) -> StatsDelta {
    StatsDelta {
        completed,
        on_time,
        missed_deadlines: missed,
        declines,
        flags,
    }
}

fn delivered_and_released(o: &Order) -> Order {
    let (o, d) = step(o, Actor::Agent, Command::Deliver, h(1));
    assert_eq!(d, delta(0, 1, 0, 0, 0), "a delivery by the deadline is on time");
    let (o, d) = step(&o, Actor::Owner, Command::Release, h(2));
    assert!(d.is_zero());
    o
}

#[test]
fn accept_counts_one_completed_order_and_one_deadline_met() {
    let o = delivered_and_released(&working());
    let (o, d) = step(&o, Actor::Customer, Command::Accept, h(3));
    assert_eq!(o.state, OrderState::Completed);
    assert_eq!(d, delta(1, 0, 0, 0, 0));
}

#[test]
fn the_review_window_completing_an_order_counts_it() {
    let o = delivered_and_released(&working());
    let (o, d) = step(&o, Actor::System, Command::Tick, h(2 + 72));
    assert_eq!(o.state, OrderState::Completed);
    assert_eq!(d, delta(1, 0, 0, 0, 0));
}

#[test]
fn decline_and_agent_flag_are_counted() {
    let decline = Command::Decline {
        reason: DeclineReason::Capacity,
        note: None,
    };
    let (o, d) = step(&working(), Actor::Agent, decline, h(1));
    assert_eq!(o.state, OrderState::Refunded);
    assert_eq!(d, delta(0, 0, 0, 1, 0));
    let flag = Command::AgentFlag {
        reason: FlagReason::PolicyViolation,
        note: None,
    };
    let (o, d) = step(&working(), Actor::Agent, flag, h(1));
    assert_eq!(o.state, OrderState::Flagged);
    assert_eq!(d, delta(0, 0, 0, 0, 1));
    // The owner's refund of the flagged order is no decline.
    let (_, d) = step(&o, Actor::Owner, Command::RefundFlagged, h(2));
    assert!(d.is_zero());
}

#[test]
fn a_missed_deadline_is_counted_by_the_scheduler_and_before_a_late_command() {
    // Nothing delivered: refunded by the timer.
    let (o, d) = step(&working(), Actor::System, Command::Tick, h(49));
    assert_eq!(o.state, OrderState::Refunded);
    assert_eq!(d, delta(0, 0, 1, 0, 0));
    // The agent delivers after its deadline: the timer fires first and the delivery
    // is refused, so nothing is decided (and nothing counted).
    assert!(decide(&working(), Actor::Agent, Command::Deliver, &Policy::default(), h(49)).is_err());
}

#[test]
fn a_revision_round_missed_returns_to_delivered_and_a_later_accept_counts_both() {
    let o = delivered_and_released(&working());
    let (o, _) = step(
        &o,
        Actor::Customer,
        Command::RequestRevision {
            message: "again".into(),
        },
        h(3),
    );
    assert_eq!(o.state, OrderState::InProgress);
    // The new deadline (h(3) + 2 days) passes; the customer accepts after it, before
    // any scheduler ran: one miss (the timer, replayed) and one completion.
    let (o, d) = step(&o, Actor::Customer, Command::Accept, h(3 + 49));
    assert_eq!(o.state, OrderState::Completed);
    assert_eq!(d, delta(1, 0, 1, 0, 0));
}

#[test]
fn a_dispute_resolved_to_completed_counts_and_a_full_refund_does_not() {
    let o = delivered_and_released(&working());
    let (o, d) = step(
        &o,
        Actor::Customer,
        Command::Dispute {
            reason: "not what I asked".into(),
        },
        h(3),
    );
    assert!(d.is_zero());
    let (done, d) = step(&o, Actor::Admin, Command::Resolve { refund: Points(5) }, h(4));
    assert_eq!(done.state, OrderState::Completed);
    assert_eq!(d, delta(1, 0, 0, 0, 0));
    let (gone, d) = step(&o, Actor::Admin, Command::Resolve { refund: Points(20) }, h(4));
    assert_eq!(gone.state, OrderState::Refunded);
    assert!(d.is_zero());
}

#[test]
fn an_owners_test_order_counts_for_nothing() {
    let o = placed("usr_o", AcceptMode::Auto { bands: vec![] });
    assert!(is_test_order(&o));
    let p = Policy::default();
    let d = decide(&o, Actor::Agent, Command::Deliver, &p, h(1)).unwrap();
    assert!(stats_delta(&o, &Command::Deliver, &d.order, &p, h(1)).is_zero());
    let d = decide(&o, Actor::System, Command::Tick, &p, h(49)).unwrap();
    assert!(stats_delta(&o, &Command::Tick, &d.order, &p, h(49)).is_zero());
}

#[test]
fn approval_cancel_and_suspension_move_nothing() {
    let pending = placed("usr_c", AcceptMode::Manual);
    let (o, d) = step(&pending, Actor::Owner, Command::Approve, h(1));
    assert_eq!(o.state, OrderState::InProgress);
    assert!(d.is_zero());
    let (_, d) = step(&pending, Actor::System, Command::Tick, h(25));
    assert!(d.is_zero(), "an approval that timed out is no missed deadline");
    let (o, d) = step(&pending, Actor::Customer, Command::Cancel, h(1));
    assert_eq!(o.state, OrderState::Refunded);
    assert!(d.is_zero());
    // Support suspending the agent ends its work: not the agent's decline or miss.
    let (o, d) = step(&working(), Actor::Admin, Command::AgentSuspended, h(1));
    assert_eq!(o.state, OrderState::Refunded);
    assert!(d.is_zero());
}

#[test]
fn five_perfect_reviews_do_not_outrank_two_hundred_at_four_point_eight() {
    let mut newcomer = Reputation::default();
    for _ in 0..5 {
        newcomer = newcomer.with_review(5);
    }
    let veteran = Reputation {
        rating_sum: 960,
        rating_count: 200,
        ..Reputation::default()
    };
    assert_eq!(newcomer.rating_x100(), 500);
    assert_eq!(veteran.rating_x100(), 480);
    assert!(newcomer.score_x1000() < veteran.score_x1000());
    // (10 × 3 + 25) / 15 and (10 × 3 + 960) / 210, in thousandths, rounded down.
    assert_eq!((newcomer.score_x1000(), veteran.score_x1000()), (3_666, 4_714));
    assert_eq!(
        Reputation::default().score_x1000(),
        0,
        "unreviewed agents are not ranked"
    );
    assert!(Reputation::default().with_review(1).score_x1000() > 0);
}

#[test]
fn badges_follow_their_documented_thresholds() {
    let mut r = Reputation {
        completed: 100,
        rating_sum: 48,
        rating_count: 10,
        on_time: 19,
        missed_deadlines: 1,
        ..Reputation::default()
    };
    assert_eq!(
        r.badges(),
        [Badge::TopRated, Badge::FastDelivery, Badge::HundredCompleted]
    );
    assert_eq!(r.on_time_rate(), Some(0.95));
    r.rating_sum = 47; // 4.7
    r.missed_deadlines = 2; // 19 of 21 < 95 %
    r.completed = 99;
    assert!(r.badges().is_empty());
    let fresh = Reputation {
        completed: 1,
        ..Reputation::default()
    };
    assert_eq!(fresh.badges(), [Badge::Rising]);
    assert_eq!(
        Badge::HundredCompleted.as_str(),
        "100_completed",
        "wire names are stable"
    );
}

fn input(stars: i64) -> ReviewInput {
    ReviewInput {
        id: "rev_1".into(),
        stars: Stars::new(stars).unwrap(),
        text: MultiLine::optional("text", Some(" Great work "), 100).unwrap(),
    }
}

fn completed(customer: &str) -> Order {
    let mut o = placed(customer, AcceptMode::Auto { bands: vec![] });
    for (actor, cmd, at) in [
        (Actor::Agent, Command::Deliver, h(1)),
        (Actor::Owner, Command::Release, h(2)),
        (Actor::Customer, Command::Accept, h(3)),
    ] {
        o = step(&o, actor, cmd, at).0;
    }
    assert_eq!(o.state, OrderState::Completed);
    o
}

#[test]
fn a_review_counts_in_the_rating_and_credits_the_bonus_from_the_mint() {
    let before = Reputation {
        completed: 3,
        rating_sum: 8,
        rating_count: 2,
        ..Reputation::default()
    };
    let d = decide_review(&completed("usr_c"), false, before, input(4), Points(5), h(4)).unwrap();
    assert_eq!(d.before, before);
    assert_eq!(
        (d.after.rating_sum, d.after.rating_count, d.after.completed),
        (12, 3, 3)
    );
    assert_eq!(d.review.stars.get(), 4);
    assert_eq!(d.review.text.as_deref(), Some("Great work"));
    assert_eq!(d.review.customer, user("usr_c"));
    let bonus = d.bonus.unwrap();
    assert_eq!(
        (bonus.debit, bonus.credit, bonus.amount, bonus.kind),
        (
            AccountRef::Mint,
            AccountRef::Wallet(user("usr_c")),
            Points(5),
            TransferKind::ReviewBonus
        )
    );
    let none = decide_review(&completed("usr_c"), false, before, input(4), Points(0), h(4)).unwrap();
    assert!(none.bonus.is_none(), "a bonus of 0 moves no points");
}

#[test]
fn a_review_is_refused_on_a_test_order_an_open_order_and_a_reviewed_one() {
    let r = Reputation::default();
    let refuse = |o: &Order, reviewed: bool| decide_review(o, reviewed, r, input(5), Points(5), h(4)).unwrap_err();
    assert_eq!(refuse(&completed("usr_o"), false), ReviewError::OwnAgent);
    assert_eq!(
        refuse(&working(), false),
        ReviewError::NotCompleted(OrderState::InProgress)
    );
    assert_eq!(refuse(&completed("usr_c"), true), ReviewError::AlreadyReviewed);
    assert_eq!(ReviewError::AlreadyReviewed.code(), "already_reviewed");
}

#[test]
fn stars_are_one_to_five() {
    for n in [0, 6, -1, 256, i64::MAX] {
        let e = Stars::new(n).unwrap_err();
        assert_eq!(e.field, "stars", "{n}");
    }
    assert_eq!(
        (1..=5).map(|n| Stars::new(n).unwrap().get()).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
}

#[test]
fn a_reply_needs_text_and_is_given_once() {
    assert_eq!(decide_reply(false, Some(" Thanks! ")).unwrap().as_str(), "Thanks!");
    assert_eq!(
        decide_reply(true, Some("again")).unwrap_err(),
        ReviewError::AlreadyReplied
    );
    for bad in [None, Some("  "), Some("nul\0byte"), Some(&*"x".repeat(5_001))] {
        assert!(
            matches!(decide_reply(false, bad), Err(ReviewError::Invalid(ref i)) if i.field == "text"),
            "{bad:?}"
        );
    }
}
