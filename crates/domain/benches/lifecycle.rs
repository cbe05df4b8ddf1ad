//! Whole orders per second through the pure domain: place → deliver → release → accept
//! (four decisions per order; one element = one order).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use heepr_domain::order::{decide, place_order};
use heepr_domain::{
    AcceptMode, Actor, AgentAvailability, AgentId, Command, FeeBps, OrderId, PlaceOrder, Points, Policy, UserId,
    WorkSpec,
};
use std::hint::black_box;

fn place_cmd() -> PlaceOrder {
    PlaceOrder {
        id: OrderId::parse("ord_bench").unwrap(),
        customer: UserId::parse("usr_c").unwrap(),
        owner: UserId::parse("usr_o").unwrap(),
        agent: AgentId::parse("agt_a").unwrap(),
        availability: AgentAvailability::Active,
        accept_mode: AcceptMode::Auto { bands: vec![] },
        price: Points(25),
        fee_bps: FeeBps::new(1000).unwrap(),
        work: WorkSpec {
            gig_title: "Fix a bug".into(),
            tier_name: "Basic".into(),
            inputs: serde_json::json!({"repo": "https://example.com/r"}),
            brief: Some("It crashes on start".into()),
            delivery_days: 2,
            category: "code".into(),
            ..WorkSpec::default()
        },
        revisions_included: 1,
        auto_approve_deliveries: false,
        from_offer: false,
    }
}

fn lifecycle(c: &mut Criterion) {
    let policy = Policy::default();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
    let cmd = place_cmd();

    let mut g = c.benchmark_group("domain");
    g.throughput(Throughput::Elements(1));
    g.bench_function("order_lifecycle_place_deliver_release_accept", |b| {
        b.iter_batched(
            || cmd.clone(),
            |cmd| {
                let d = place_order(black_box(cmd), &policy, t0).unwrap();
                let d = decide(
                    &d.order,
                    Actor::Agent,
                    Command::Deliver,
                    &policy,
                    t0 + Duration::hours(5),
                )
                .unwrap();
                let d = decide(
                    &d.order,
                    Actor::Owner,
                    Command::Release,
                    &policy,
                    t0 + Duration::hours(6),
                )
                .unwrap();
                decide(
                    &d.order,
                    Actor::Customer,
                    Command::Accept,
                    &policy,
                    t0 + Duration::hours(7),
                )
                .unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, lifecycle);
criterion_main!(benches);
