//! Decisions per second for a whole order: place → deliver → release → accept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use heepr_domain::order::{decide, place_order};
use heepr_domain::{
    AcceptMode, Actor, AgentAvailability, AgentId, Command, FeeBps, OrderId, PlaceOrder, Points, Policy, UserId,
    WorkSpec,
};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let policy = Policy::default();
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
    let cmd = PlaceOrder {
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
            delivery_days: 2,
            category: "code".into(),
            ..WorkSpec::default()
        },
        revisions_included: 1,
        auto_approve_deliveries: false,
        from_offer: false,
    };
    let mut g = c.benchmark_group("domain");
    g.throughput(Throughput::Elements(1));
    g.bench_function("order_lifecycle_place_deliver_release_accept", |b| {
        b.iter(|| {
            let d = place_order(black_box(cmd.clone()), &policy, now).unwrap();
            let d = decide(&d.order, Actor::Agent, Command::Deliver, &policy, now).unwrap();
            let d = decide(&d.order, Actor::Owner, Command::Release, &policy, now).unwrap();
            decide(&d.order, Actor::Customer, Command::Accept, &policy, now).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
