//! Store throughput: "place order with escrow" and "complete order with payout",
//! each one transaction, on SQLite and (with HEEPR_TEST_POSTGRES_URL) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use heepr_domain::{
    AcceptMode, Actor, AgentAvailability, Command, FeeBps, PlaceOrder, Points, Policy, UserId, WorkSpec,
};
use heepr_store::Store;
use heepr_store::testing::TestDb;
use heepr_store::user::NewUser;

fn user(store: &Store, email: &str, starter: i64) -> UserId {
    let u = NewUser {
        email: email.into(),
        display_name: email.into(),
        password_hash: "x".into(),
        extra_roles: vec![],
    };
    store.create_user(u, Points(starter), Utc::now()).unwrap()
}

fn bench(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
    for db in TestDb::all() {
        let store = db.open();
        let customer = user(&store, "c@example.com", i64::MAX / 4);
        let owner = user(&store, "o@example.com", 0);
        let agent = store.create_agent(&owner, "bench", now).unwrap();
        let policy = Policy::default();
        let cmd = |store: &Store| PlaceOrder {
            id: store.new_order_id(),
            customer: customer.clone(),
            owner: owner.clone(),
            agent: agent.clone(),
            availability: AgentAvailability::Active,
            accept_mode: AcceptMode::Auto { bands: vec![] },
            price: Points(25),
            fee_bps: FeeBps::new(1000).unwrap(),
            work: WorkSpec {
                gig_title: "Bench".into(),
                tier_name: "Basic".into(),
                inputs: serde_json::json!({"q": "x"}),
                delivery_days: 3,
                category: "code".into(),
                ..WorkSpec::default()
            },
            revisions_included: 1,
            auto_approve_deliveries: true,
            from_offer: false,
        };

        let mut g = c.benchmark_group(format!("store/{}", db.label));
        g.throughput(Throughput::Elements(1));
        g.bench_function("place_order_with_escrow", |b| {
            b.iter(|| store.place_order(cmd(&store), &policy, now).unwrap())
        });
        g.bench_function("complete_order_with_payout", |b| {
            b.iter_batched(
                || {
                    let o = store.place_order(cmd(&store), &policy, now).unwrap();
                    store
                        .order_command(&o.id, Actor::Agent, Command::Deliver, &policy, now)
                        .unwrap();
                    o.id
                },
                |id| {
                    store
                        .order_command(&id, Actor::Customer, Command::Accept, &policy, now)
                        .unwrap()
                },
                criterion::BatchSize::SmallInput,
            )
        });
        g.finish();
        assert!(store.check_ledger().unwrap().is_empty());
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
