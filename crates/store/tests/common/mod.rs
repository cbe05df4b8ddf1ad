#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use heepr_domain::{AcceptMode, AgentId, Order, PlaceOrder, Points, Policy, UserId};
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
    heepr_store::testing::order_to_place(store.new_order_id(), &w.customer, &w.owner, &w.agent, price, mode)
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
