#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use heepr_domain::{
    AcceptMode, AgentAvailability, AgentId, FeeBps, Order, PlaceOrder, Points, Policy, UserId, WorkSpec,
};
use heepr_store::Store;
use heepr_store::user::NewUser;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

pub struct World {
    pub customer: UserId,
    pub owner: UserId,
    pub agent: AgentId,
}

pub fn user(store: &Store, email: &str, starter: i64) -> UserId {
    store
        .create_user(
            NewUser {
                email: email.into(),
                display_name: email.into(),
                password_hash: "$argon2id$test".into(),
                extra_roles: vec![],
            },
            Points(starter),
            t0(),
        )
        .unwrap()
}

pub fn world(store: &Store) -> World {
    let customer = user(store, "customer@example.com", 1000);
    let owner = user(store, "owner@example.com", 0);
    let agent = store.create_agent(&owner, "Coder", t0()).unwrap();
    World { customer, owner, agent }
}

pub fn order_cmd(store: &Store, w: &World, price: i64, mode: AcceptMode) -> PlaceOrder {
    PlaceOrder {
        id: store.new_order_id(),
        customer: w.customer.clone(),
        owner: w.owner.clone(),
        agent: w.agent.clone(),
        availability: AgentAvailability::Active,
        accept_mode: mode,
        price: Points(price),
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

pub fn auto() -> AcceptMode {
    AcceptMode::Auto { bands: vec![] }
}

pub fn place(store: &Store, w: &World, price: i64) -> Order {
    store
        .place_order(order_cmd(store, w, price, auto()), &Policy::default(), t0())
        .unwrap()
}

pub fn assert_ledger_ok(store: &Store) {
    let v = store.check_ledger().unwrap();
    assert!(v.is_empty(), "ledger invariants broken: {v:?}");
}
