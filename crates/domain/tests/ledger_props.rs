//! Properties over random command sequences: random actors, commands and time advances
//! over several orders, customers and owners, starting from starter grants. Effects are
//! applied to an in-memory ledger the way a store applies them (all or nothing; a
//! transfer that would overdraw a wallet fails the command). After every step the
//! ledger invariants of SPEC §10 hold; at the end `check_invariants` agrees.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use heepr_domain::ledger::{LedgerSnapshot, check_invariants};
use heepr_domain::order::{DeclineReason, FlagReason, decide, place_order};
use heepr_domain::{
    AcceptBand, AcceptMode, AccountRef, Actor, AgentAvailability, AgentId, Command, Decision, DomainError, Effect,
    EventKind, FeeBps, Order, OrderId, OrderState, Percent, PlaceOrder, Points, Policy, Transfer, UserId, WorkSpec,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

type Ts = DateTime<Utc>;

const CUSTOMERS: [&str; 3] = ["usr_c0", "usr_c1", "usr_c2"];
/// Owner `i` owns agent `AGENTS[i]`; owners also buy (sometimes from themselves).
const OWNERS: [&str; 2] = ["usr_o0", "usr_o1"];
const AGENTS: [&str; 2] = ["agt_o0", "agt_o1"];
const STARTER: i64 = 300;

const ACTORS: [Actor; 5] = [Actor::Customer, Actor::Owner, Actor::Agent, Actor::Admin, Actor::System];

#[derive(Debug, Clone)]
enum Step {
    Place {
        /// Index into customers then owners.
        buyer: usize,
        agent: usize,
        price: i64,
        /// 0 manual, 1 auto without bands, 2 auto with a band 1..=100, 3 paused, 4 suspended.
        mode: u8,
        fee: u16,
        from_offer: bool,
        revisions: u32,
        auto_approve: bool,
        days: u32,
    },
    Act {
        order: usize,
        /// `None`: a command the order's current state accepts (so sequences get deep);
        /// else any command, usually refused.
        cmd: Option<usize>,
        arg: i64,
        /// `None`: the actor the command is meant for; else a random one.
        actor: Option<usize>,
    },
    Wait {
        secs: i64,
        /// Run the scheduler (a tick on every open order) after the wait.
        scheduler: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let place = (
        0..5usize,
        0..2usize,
        1..400i64,
        prop_oneof![4 => 0..3u8, 1 => 3..5u8],
        prop_oneof![Just(0u16), Just(1000), Just(333), Just(9999), Just(10_000)],
        any::<bool>(),
        0..3u32,
        any::<bool>(),
        1..4u32,
    )
        .prop_map(
            |(buyer, agent, price, mode, fee, from_offer, revisions, auto_approve, days)| Step::Place {
                buyer,
                agent,
                price,
                mode,
                fee,
                from_offer,
                revisions,
                auto_approve,
                days,
            },
        );
    let act = (
        0..10usize,
        prop_oneof![3 => Just(None), 1 => (0..COMMANDS).prop_map(Some)],
        0..500i64,
        prop_oneof![4 => Just(None), 1 => (0..5usize).prop_map(Some)],
    )
        .prop_map(|(order, cmd, arg, actor)| Step::Act { order, cmd, arg, actor });
    let wait = (
        prop_oneof![
            1..7200i64,
            (1..48i64).prop_map(|h| h * 3600),
            Just(24 * 3600),
            (1..8i64).prop_map(|d| d * 86_400),
        ],
        any::<bool>(),
    )
        .prop_map(|(secs, scheduler)| Step::Wait { secs, scheduler });
    prop_oneof![2 => place, 6 => act, 2 => wait]
}

const COMMANDS: usize = 21;

/// The commands (numbers for [`command`]) SPEC §9 lets each state accept.
fn accepted(state: OrderState) -> &'static [usize] {
    use OrderState as S;
    match state {
        S::PendingOwnerApproval => &[1, 1, 2, 15, 19, 20],
        S::InProgress => &[3, 3, 3, 4, 5, 8, 15, 17, 18, 20],
        S::Flagged => &[6, 6, 7, 15, 20],
        S::DeliveredPendingOwnerReview => &[9, 9, 10, 15, 20],
        S::Delivered => &[11, 12, 12, 15],
        S::RevisionPendingOwnerReview => &[13, 14, 15, 20],
        S::Disputed => &[16],
        S::Completed | S::Refunded => &[0, 20],
    }
}

/// Command number `i`, with its intended actor; `arg` feeds the arguments.
fn command(i: usize, arg: i64, o: &Order, now: Ts) -> (Actor, Command) {
    let s = |t: &str| t.to_owned();
    match i {
        0 => (Actor::System, Command::Tick),
        1 => (Actor::Owner, Command::Approve),
        2 => (Actor::Owner, Command::Deny { reason: s("no") }),
        3 => (Actor::Agent, Command::Deliver),
        4 => (
            Actor::Agent,
            Command::Decline {
                reason: DeclineReason::Capacity,
                note: Some(s("busy")),
            },
        ),
        5 => (
            Actor::Agent,
            Command::AgentFlag {
                reason: FlagReason::Other,
                note: None,
            },
        ),
        6 => (Actor::Owner, Command::Resume { note: s("go on") }),
        7 => (
            if arg % 2 == 0 { Actor::Owner } else { Actor::Admin },
            Command::RefundFlagged,
        ),
        8 => (
            Actor::Owner,
            Command::ChangeScope {
                scope: (arg % 3 != 0).then(|| s("new scope")),
                // Sometimes in the past, sometimes not given.
                deadline: (arg % 3 != 1).then(|| now + Duration::hours(arg % 100 - 20)),
                note: s("changed"),
            },
        ),
        9 => (Actor::Owner, Command::Release),
        10 => (Actor::Owner, Command::Return { note: s("again") }),
        11 => (Actor::Customer, Command::Accept),
        12 => (Actor::Customer, Command::RequestRevision { message: s("more") }),
        13 => (Actor::Owner, Command::ApproveRevision),
        14 => (Actor::Owner, Command::DenyRevision),
        15 => (Actor::Customer, Command::Dispute { reason: s("bad") }),
        16 => {
            let price = o.price.get();
            let refund = match arg % 5 {
                0 => 0,
                1 => price,
                2 => (arg / 5) % price,
                3 => -1,
                _ => price + 1,
            };
            (Actor::Admin, Command::Resolve { refund: Points(refund) })
        }
        17 => (Actor::Owner, Command::SetAutoApprove(arg % 2 == 0)),
        18 => (
            Actor::Agent,
            Command::Progress(Percent::new(u8::try_from(arg % 101).unwrap()).unwrap()),
        ),
        19 => (Actor::Customer, Command::Cancel),
        _ => (Actor::Admin, Command::AgentSuspended),
    }
}

fn users() -> Vec<UserId> {
    CUSTOMERS
        .iter()
        .chain(OWNERS.iter())
        .map(|u| UserId::parse(u).unwrap())
        .collect()
}

struct World {
    policy: Policy,
    now: Ts,
    balances: BTreeMap<AccountRef, i64>,
    log: Vec<Transfer>,
    orders: Vec<Order>,
}

impl World {
    fn new() -> Self {
        let mut w = World {
            policy: Policy::default(),
            now: Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap(),
            balances: BTreeMap::new(),
            log: Vec::new(),
            orders: Vec::new(),
        };
        for u in users() {
            let grant = Transfer::starter_grant(&u, Points(STARTER)).unwrap();
            assert!(w.apply(&[Effect::Transfer(grant)]));
        }
        w
    }

    fn balance(&self, a: &AccountRef) -> i64 {
        self.balances.get(a).copied().unwrap_or(0)
    }

    /// Applies a decision's transfers like a store: all or nothing, and a transfer that
    /// would take a non-mint account below zero fails the whole command.
    fn apply(&mut self, effects: &[Effect]) -> bool {
        let mut next = self.balances.clone();
        let mut written = Vec::new();
        for e in effects {
            if let Effect::Transfer(t) = e {
                let d = next.entry(t.debit.clone()).or_default();
                *d -= t.amount.get();
                if *d < 0 && !t.debit.may_go_negative() {
                    return false;
                }
                *next.entry(t.credit.clone()).or_default() += t.amount.get();
                written.push(t.clone());
            }
        }
        self.balances = next;
        self.log.extend(written);
        true
    }

    /// Invariants 1–3, and the timer rules, after every step.
    fn check(&self) -> Result<(), TestCaseError> {
        prop_assert_eq!(self.balances.values().sum::<i64>(), 0, "invariant 1: balances sum to 0");
        for (a, b) in &self.balances {
            prop_assert!(*b >= 0 || a.may_go_negative(), "invariant 2: {} at {}", a, b);
        }
        for o in &self.orders {
            let held = self.balance(&AccountRef::Escrow(o.id.clone()));
            if o.state.is_terminal() {
                prop_assert_eq!(held, 0, "invariant 3: terminal {} holds {}", &o.id, held);
                prop_assert_eq!(o.due_at, None, "terminal {} runs a timer", &o.id);
            } else {
                prop_assert_eq!(held, o.price.get(), "invariant 3: open {} holds {}", &o.id, held);
                // Every open state but a dispute runs exactly one timer.
                prop_assert_eq!(o.due_at.is_none(), o.state == OrderState::Disputed, "{} timer", o.state);
            }
            prop_assert!(o.revisions_left <= o.revisions_included);
            prop_assert!(o.released <= o.deliveries);
        }
        Ok(())
    }

    fn snapshot(&self) -> LedgerSnapshot {
        let mut s = LedgerSnapshot::default();
        s.users.extend(users());
        s.agents.extend(AGENTS.iter().map(|a| AgentId::parse(a).unwrap()));
        s.transfers = self.log.clone();
        s.balances = self.balances.iter().map(|(a, b)| (a.clone(), Points(*b))).collect();
        s.orders = self.orders.iter().map(|o| (o.id.clone(), (o.state, o.price))).collect();
        s
    }
}

/// What a decision on an existing order may contain.
fn check_decision(before: &Order, d: &Decision, policy: &Policy) -> Result<(), TestCaseError> {
    let o = &d.order;
    let id = &o.id;
    prop_assert_eq!(id, &before.id);
    prop_assert!(
        !before.state.is_terminal() || o == before,
        "a terminal order never changes"
    );
    let mut out_of_escrow = 0;
    for t in d.transfers() {
        prop_assert!(t.amount.get() > 0, "no zero-amount transfers");
        prop_assert_eq!(t.order.as_ref(), Some(id));
        prop_assert_eq!(
            &t.debit,
            &AccountRef::Escrow(id.clone()),
            "decisions only empty the escrow"
        );
        let to_party = t.credit == AccountRef::Wallet(o.customer.clone())
            || t.credit == AccountRef::Wallet(o.owner.clone())
            || t.credit == AccountRef::PlatformFees;
        prop_assert!(to_party, "{} is not a party to {}", &t.credit, id);
        out_of_escrow += t.amount.get();
    }
    let entered_terminal = !before.state.is_terminal() && o.state.is_terminal();
    prop_assert_eq!(out_of_escrow, if entered_terminal { o.price.get() } else { 0 });

    let terminal_kinds = [
        EventKind::OrderCompleted,
        EventKind::OrderRefunded,
        EventKind::OwnerDeniedOrder,
    ];
    let kinds: Vec<EventKind> = d.events().map(|e| e.kind).collect();
    let terminal: Vec<EventKind> = kinds.iter().copied().filter(|k| terminal_kinds.contains(k)).collect();
    if entered_terminal {
        let want: &[EventKind] = if o.state == OrderState::Completed {
            &[EventKind::OrderCompleted]
        } else {
            &[EventKind::OrderRefunded, EventKind::OwnerDeniedOrder]
        };
        prop_assert_eq!(terminal.len(), 1, "one terminal event, got {:?}", kinds);
        prop_assert!(want.contains(&terminal[0]));
        prop_assert_eq!(kinds.last(), terminal.last(), "the terminal event comes last");
    } else {
        prop_assert!(terminal.is_empty(), "{:?} without reaching a terminal state", kinds);
    }
    for ev in d.events() {
        prop_assert_eq!(&ev.body.order, id);
        if ev.kind.is_work() {
            prop_assert_eq!(
                ev.body.platform_rules.as_ref(),
                Some(&policy.platform_rules),
                "sf on {}",
                ev.kind
            );
            prop_assert!(ev.body.deadline.is_some());
        }
        if matches!(
            ev.kind,
            EventKind::NewOrder | EventKind::OwnerApprovedOrder | EventKind::RevisionRequest
        ) {
            prop_assert_eq!(ev.body.price, Some(o.price));
            prop_assert!(ev.body.gig_title.is_some() && ev.body.inputs.is_some() && ev.body.revisions_left.is_some());
        }
        if ev.kind == EventKind::RevisionRequest {
            let rh = ev.body.revision_history.as_ref().unwrap();
            prop_assert_eq!(rh, &o.revisions, "rh is the full history");
            prop_assert_eq!(ev.body.message.as_ref(), rh.last().map(|r| &r.message));
        } else {
            prop_assert!(ev.body.revision_history.is_none());
        }
        if matches!(ev.kind, EventKind::ScopeChange | EventKind::OwnerDeniedOrder) {
            prop_assert!(ev.body.message.is_some(), "m on {}", ev.kind);
        }
    }
    for e in &d.effects {
        if let Effect::Notify(n) = e {
            prop_assert_eq!(&n.order, id);
        }
    }
    Ok(())
}

/// The order after ticks at each due instant up to `until`, and their effects.
fn on_time(o: &Order, policy: &Policy, until: Ts) -> (Order, Vec<Effect>) {
    let mut o = o.clone();
    let mut fx = Vec::new();
    while let Some(due) = o.due_at.filter(|d| *d <= until) {
        let d = decide(&o, Actor::System, Command::Tick, policy, due).unwrap();
        fx.extend(d.effects);
        o = d.order;
    }
    (o, fx)
}

fn run_step(w: &mut World, s: Step) -> Result<(), TestCaseError> {
    match s {
        Step::Place {
            buyer,
            agent,
            price,
            mode,
            fee,
            from_offer,
            revisions,
            auto_approve,
            days,
        } => {
            let customer = users()[buyer].clone();
            let cmd = PlaceOrder {
                id: OrderId::from_unique(w.orders.len()),
                customer: customer.clone(),
                owner: UserId::parse(OWNERS[agent]).unwrap(),
                agent: AgentId::parse(AGENTS[agent]).unwrap(),
                availability: match mode {
                    3 => AgentAvailability::Paused,
                    4 => AgentAvailability::Suspended,
                    _ => AgentAvailability::Active,
                },
                accept_mode: match mode {
                    0 => AcceptMode::Manual,
                    2 => AcceptMode::Auto {
                        bands: vec![AcceptBand {
                            price_min: Points(1),
                            price_max: Points(100),
                            ..AcceptBand::default()
                        }],
                    },
                    _ => AcceptMode::Auto { bands: vec![] },
                },
                price: Points(price),
                fee_bps: FeeBps::new(fee).unwrap(),
                work: WorkSpec {
                    gig_title: "Gig".into(),
                    tier_name: "Basic".into(),
                    inputs: serde_json::json!({}),
                    delivery_days: days,
                    category: "code".into(),
                    ..WorkSpec::default()
                },
                revisions_included: revisions,
                auto_approve_deliveries: auto_approve,
                from_offer,
            };
            match place_order(cmd, &w.policy, w.now) {
                Err(e) => prop_assert!(
                    matches!(e, DomainError::AgentPaused | DomainError::AgentSuspended),
                    "{}",
                    e
                ),
                Ok(d) => {
                    let before = w.balances.clone();
                    let affordable = w.balance(&AccountRef::Wallet(customer)) >= price;
                    prop_assert_eq!(w.apply(&d.effects), affordable, "hold fails iff it would overdraw");
                    if affordable {
                        w.orders.push(d.order);
                    } else {
                        prop_assert_eq!(&w.balances, &before, "a refused hold changes nothing");
                    }
                }
            }
        }
        Step::Act { order, cmd, arg, actor } => {
            if w.orders.is_empty() {
                return Ok(());
            }
            // A command meant to apply goes to an open order when there is one.
            let open: Vec<usize> = (0..w.orders.len())
                .filter(|&i| cmd.is_some() || !w.orders[i].state.is_terminal())
                .collect();
            let i = if open.is_empty() {
                order % w.orders.len()
            } else {
                open[order % open.len()]
            };
            let before = w.orders[i].clone();
            let balances = w.balances.clone();
            let cmd = cmd.unwrap_or_else(|| {
                let ok = accepted(before.state);
                ok[usize::try_from(arg).unwrap() % ok.len()]
            });
            let (natural, c) = command(cmd, arg / 7, &before, w.now);
            let actor = actor.map_or(natural, |a| ACTORS[a]);
            let res = decide(&before, actor, c.clone(), &w.policy, w.now);
            prop_assert_eq!(&res, &decide(&before, actor, c, &w.policy, w.now), "decisions are pure");
            match res {
                Ok(d) => {
                    check_decision(&before, &d, &w.policy)?;
                    // Decisions only move what the escrow holds, so a store never refuses them.
                    prop_assert!(w.apply(&d.effects), "escrow covers its own transfers");
                    w.orders[i] = d.order;
                }
                Err(_) => {
                    // The store applies nothing: order and balances stay as they were.
                    prop_assert_eq!(&w.orders[i], &before);
                    prop_assert_eq!(&w.balances, &balances);
                    // Timers alone never fail.
                    prop_assert!(decide(&before, Actor::System, Command::Tick, &w.policy, w.now).is_ok());
                }
            }
        }
        Step::Wait { secs, scheduler } => {
            w.now += Duration::seconds(secs);
            if scheduler {
                for i in 0..w.orders.len() {
                    let before = w.orders[i].clone();
                    let d = decide(&before, Actor::System, Command::Tick, &w.policy, w.now).unwrap();
                    // A late scheduler reaches the same end state as a punctual one.
                    let (punctual, fx) = on_time(&before, &w.policy, w.now);
                    let mut late = d.order.clone();
                    late.updated_at = punctual.updated_at;
                    prop_assert_eq!(&late, &punctual);
                    prop_assert_eq!(&d.effects, &fx);
                    check_decision(&before, &d, &w.policy)?;
                    prop_assert!(w.apply(&d.effects));
                    w.orders[i] = d.order;
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_sequences_keep_the_ledger_balanced(steps in proptest::collection::vec(step(), 1..80)) {
        let mut w = World::new();
        w.check()?;
        for s in steps {
            run_step(&mut w, s)?;
            w.check()?;
        }
        // The store-side checker agrees, including a replay of the transfer log.
        let v = check_invariants(&w.snapshot());
        prop_assert!(v.is_empty(), "{:?}", v);
        // And points are conserved: the mint issued exactly the starter grants.
        prop_assert_eq!(w.balance(&AccountRef::Mint), -STARTER * 5);
    }

    #[test]
    fn fee_split_rounds_payee_down(amount in 1..i64::MAX / 2, bps in 0..=10_000u16) {
        let (payee, fee) = FeeBps::new(bps).unwrap().split(Points(amount));
        prop_assert_eq!(payee.get() + fee.get(), amount);
        let exact = i128::from(amount) * i128::from(10_000 - bps);
        prop_assert_eq!(i128::from(payee.get()), exact / 10_000, "payee rounded down");
        prop_assert!(fee.get() >= 0 && payee.get() >= 0);
    }
}

#[test]
fn check_invariants_catches_a_broken_escrow() {
    // The checker used above is not vacuous: an order whose escrow was emptied while
    // open, or a replay that disagrees, is reported.
    let mut w = World::new();
    let cmd = PlaceOrder {
        id: OrderId::from_unique("x"),
        customer: UserId::parse(CUSTOMERS[0]).unwrap(),
        owner: UserId::parse(OWNERS[0]).unwrap(),
        agent: AgentId::parse(AGENTS[0]).unwrap(),
        availability: AgentAvailability::Active,
        accept_mode: AcceptMode::Manual,
        price: Points(10),
        fee_bps: FeeBps::default(),
        work: WorkSpec {
            delivery_days: 1,
            ..WorkSpec::default()
        },
        revisions_included: 0,
        auto_approve_deliveries: false,
        from_offer: false,
    };
    let d = place_order(cmd, &w.policy, w.now).unwrap();
    assert!(w.apply(&d.effects));
    w.orders.push(d.order);
    assert!(check_invariants(&w.snapshot()).is_empty());

    let mut s = w.snapshot();
    s.orders.values_mut().for_each(|(st, _)| *st = OrderState::Completed);
    let found: Vec<u8> = check_invariants(&s).iter().map(|v| v.invariant).collect();
    assert_eq!(found, [3]);

    let mut s = w.snapshot();
    s.transfers.pop();
    let found: Vec<u8> = check_invariants(&s).iter().map(|v| v.invariant).collect();
    assert!(found.contains(&4), "{found:?}");
}
