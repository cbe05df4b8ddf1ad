//! Property: random command sequences over several orders never break ledger
//! invariants 1–3, a refused command changes nothing, and terminal orders hold no
//! escrow and run no timer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use heepr_domain::ledger::{LedgerSnapshot, check_invariants};
use heepr_domain::order::{decide, place_order};
use heepr_domain::{
    AcceptMode, AccountRef, Actor, AgentAvailability, AgentId, Command, Effect, FeeBps, Order, OrderId, PlaceOrder,
    Points, Policy, Transfer, UserId, WorkSpec,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Step {
    Place {
        customer: usize,
        price: i64,
        manual: bool,
        fee: u16,
    },
    Act {
        order: usize,
        actor: usize,
        cmd: usize,
        amount: i64,
    },
    Wait {
        hours: i64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (
            0..3usize,
            1..400i64,
            any::<bool>(),
            prop_oneof![Just(0u16), Just(1000), Just(333), Just(10_000)]
        )
            .prop_map(|(customer, price, manual, fee)| Step::Place {
                customer,
                price,
                manual,
                fee
            }),
        (0..8usize, 0..5usize, 0..16usize, 0..400i64).prop_map(|(order, actor, cmd, amount)| Step::Act {
            order,
            actor,
            cmd,
            amount
        }),
        (1..100i64).prop_map(|hours| Step::Wait { hours }),
    ]
}

fn command(i: usize, amount: i64) -> Command {
    match i {
        0 => Command::Tick,
        1 => Command::Approve,
        2 => Command::Deny { reason: "no".into() },
        3 => Command::Deliver,
        4 => Command::Decline {
            reason: "capacity".into(),
        },
        5 => Command::AgentFlag { reason: "other".into() },
        6 => Command::Resume { note: "ok".into() },
        7 => Command::RefundFlagged,
        8 => Command::Release,
        9 => Command::Return { note: "again".into() },
        10 => Command::Accept,
        11 => Command::RequestRevision { message: "more".into() },
        12 => Command::ApproveRevision,
        13 => Command::DenyRevision,
        14 => Command::Dispute { reason: "bad".into() },
        _ => Command::Resolve { refund: Points(amount) },
    }
}

const ACTORS: [Actor; 5] = [Actor::Customer, Actor::Owner, Actor::Agent, Actor::Admin, Actor::System];

struct World {
    balances: BTreeMap<AccountRef, i64>,
    log: Vec<Transfer>,
    orders: Vec<Order>,
}

impl World {
    /// Applies transfers like a store: all or nothing, no wallet below zero.
    fn apply(&mut self, effects: &[Effect]) -> bool {
        let mut next = self.balances.clone();
        for e in effects {
            if let Effect::Transfer(t) = e {
                let d = next.entry(t.debit.clone()).or_default();
                *d -= t.amount.get();
                if *d < 0 && !t.debit.may_go_negative() {
                    return false;
                }
                *next.entry(t.credit.clone()).or_default() += t.amount.get();
            }
        }
        self.balances = next;
        self.log.extend(effects.iter().filter_map(|e| match e {
            Effect::Transfer(t) => Some(t.clone()),
            _ => None,
        }));
        true
    }

    fn check(&self) {
        assert_eq!(self.balances.values().sum::<i64>(), 0, "invariant 1");
        for (a, b) in &self.balances {
            assert!(*b >= 0 || a.may_go_negative(), "invariant 2: {a} at {b}");
        }
        for o in &self.orders {
            let held = self
                .balances
                .get(&AccountRef::Escrow(o.id.clone()))
                .copied()
                .unwrap_or(0);
            if o.state.is_terminal() {
                assert_eq!(held, 0, "invariant 3: terminal {} holds {held}", o.id);
                assert_eq!(o.due_at, None, "terminal orders run no timer");
            } else {
                assert_eq!(held, o.price.get(), "invariant 3: open {} holds {held}", o.id);
            }
        }
    }
}

fn users() -> Vec<UserId> {
    ["usr_a", "usr_b", "usr_c"]
        .iter()
        .map(|u| UserId::parse(u).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_sequences_keep_the_ledger_balanced(steps in proptest::collection::vec(step(), 1..60)) {
        let policy = Policy::default();
        let mut now: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
        let users = users();
        let mut w = World { balances: BTreeMap::new(), log: Vec::new(), orders: Vec::new() };
        for u in &users {
            let grant = Transfer::starter_grant(u, Points(500)).unwrap();
            w.apply(&[Effect::Transfer(grant)]);
        }
        for s in steps {
            match s {
                Step::Place { customer, price, manual, fee } => {
                    let id = OrderId::from_unique(w.orders.len());
                    let cmd = PlaceOrder {
                        id,
                        customer: users[customer].clone(),
                        owner: users[(customer + 1) % 3].clone(),
                        agent: AgentId::parse("agt_x").unwrap(),
                        availability: AgentAvailability::Active,
                        accept_mode: if manual { AcceptMode::Manual } else { AcceptMode::Auto { bands: vec![] } },
                        price: Points(price),
                        fee_bps: FeeBps::new(fee).unwrap(),
                        work: WorkSpec { delivery_days: 1, category: "code".into(), ..WorkSpec::default() },
                        revisions_included: 1,
                        auto_approve_deliveries: price % 2 == 0,
                        from_offer: false,
                    };
                    let d = place_order(cmd, &policy, now).unwrap();
                    if w.apply(&d.effects) {
                        w.orders.push(d.order);
                    }
                }
                Step::Act { order, actor, cmd, amount } => {
                    if w.orders.is_empty() { continue; }
                    let i = order % w.orders.len();
                    let before = w.orders[i].clone();
                    let amount = amount.min(before.price.get());
                    match decide(&before, ACTORS[actor], command(cmd, amount), &policy, now) {
                        Ok(d) => {
                            prop_assert!(w.apply(&d.effects), "escrow always covers its own transfers");
                            w.orders[i] = d.order;
                        }
                        Err(_) => prop_assert_eq!(&w.orders[i], &before, "a refused command changes nothing"),
                    }
                }
                Step::Wait { hours } => now += Duration::hours(hours),
            }
            w.check();
        }
        // And the store-side checker agrees, including a replay of the log.
        let mut snap = LedgerSnapshot::default();
        snap.users.extend(users.iter().cloned());
        snap.transfers = w.log.clone();
        snap.balances = w.balances.iter().map(|(a, b)| (a.clone(), Points(*b))).collect();
        snap.orders = w.orders.iter().map(|o| (o.id.clone(), (o.state, o.price))).collect();
        let v = check_invariants(&snap);
        prop_assert!(v.is_empty(), "{:?}", v);
    }
}
