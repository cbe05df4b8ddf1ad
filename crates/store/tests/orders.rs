//! Orders and the ledger through the store, on SQLite and (when configured) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use common::*;
use heepr_domain::order::DeclineReason;
use heepr_domain::{AccountRef, Actor, Command, DomainError, OrderState, Points, Policy};
use heepr_store::StoreError;
use heepr_store::testing::TestDb;

#[test]
fn place_deliver_release_accept_pays_owner_minus_fee() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let p = Policy::default();
        let o = place(&store, &w, 25);
        assert_eq!(o.state, OrderState::InProgress, "{}", db.label);
        assert_eq!(
            store.balance(&AccountRef::Wallet(w.customer.clone())).unwrap(),
            Points(975)
        );
        assert_eq!(store.balance(&AccountRef::Escrow(o.id.clone())).unwrap(), Points(25));

        let now = t0() + Duration::hours(1);
        store
            .order_command(&o.id, Actor::Agent, Command::Deliver, &p, now)
            .unwrap();
        store
            .order_command(&o.id, Actor::Owner, Command::Release, &p, now)
            .unwrap();
        let done = store
            .order_command(&o.id, Actor::Customer, Command::Accept, &p, now)
            .unwrap();

        assert_eq!(done.state, OrderState::Completed);
        assert_eq!(store.stored_order(&o.id).unwrap().version, 3, "{}", db.label);
        assert_eq!(store.balance(&AccountRef::Wallet(w.owner.clone())).unwrap(), Points(22));
        assert_eq!(store.balance(&AccountRef::PlatformFees).unwrap(), Points(3));
        assert_eq!(store.balance(&AccountRef::Escrow(o.id.clone())).unwrap(), Points(0));
        let kinds: Vec<String> = store
            .agent_events(&w.agent, 0, 100)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["new_order", "order_completed"], "{}", db.label);
        assert_ledger_ok(&store);
    }
}

#[test]
fn events_are_numbered_per_agent_and_carry_compact_keys() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let a = place(&store, &w, 10);
        let b = place(&store, &w, 10);
        let evs = store.agent_events(&w.agent, 0, 100).unwrap();
        assert_eq!(evs.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2], "{}", db.label);
        assert_eq!(evs[0].body["o"], a.id.as_str());
        assert_eq!(evs[1].body["o"], b.id.as_str());
        assert_eq!(evs[0].body["k"], "new_order");
        assert_eq!(evs[0].body["id"], evs[0].id.as_str());
        assert_eq!(evs[0].body["g"], "Fix a bug");
        assert_eq!(evs[0].body["p"], 10);
        assert!(evs[0].body["sf"].as_array().is_some_and(|r| !r.is_empty()));
        assert_eq!(store.agent_events(&w.agent, 1, 100).unwrap().len(), 1);
    }
}

#[test]
fn insufficient_points_writes_nothing() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let cmd = common::order_cmd(&store, &w, 1001, auto());
        let id = cmd.id.clone();
        let err = store.place_order(cmd, &Policy::default(), t0()).unwrap_err();
        assert!(
            matches!(err, StoreError::Domain(DomainError::InsufficientPoints)),
            "{}: {err}",
            db.label
        );
        assert!(matches!(store.order(&id), Err(StoreError::NotFound)));
        assert_eq!(
            store.balance(&AccountRef::Wallet(w.customer.clone())).unwrap(),
            Points(1000)
        );
        assert!(store.agent_events(&w.agent, 0, 10).unwrap().is_empty());
        assert_ledger_ok(&store);
    }
}

#[test]
fn invalid_transition_changes_nothing() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let o = place(&store, &w, 50);
        let err = store
            .order_command(&o.id, Actor::Customer, Command::Accept, &Policy::default(), t0())
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Domain(DomainError::InvalidState { .. })),
            "{}",
            db.label
        );
        assert_eq!(store.order(&o.id).unwrap(), o);
        assert_eq!(store.balance(&AccountRef::Escrow(o.id.clone())).unwrap(), Points(50));
        assert_ledger_ok(&store);
    }
}

#[test]
fn duplicate_email_is_refused_in_any_case() {
    for db in TestDb::all() {
        let store = db.open();
        user(&store, "Ann@Example.com", 10);
        let err = store
            .create_user(
                heepr_store::user::NewUser {
                    email: "ann@example.COM".into(),
                    display_name: "x".into(),
                    password_hash: "h".into(),
                    extra_roles: vec![],
                },
                Points(10),
                t0(),
            )
            .unwrap_err();
        assert!(matches!(err, StoreError::Duplicate("email")), "{}: {err}", db.label);
        assert_ledger_ok(&store);
    }
}

#[test]
fn scheduler_refunds_missed_deadline_and_completes_review_window() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let p = Policy::default();
        let late = place(&store, &w, 40);
        let done = place(&store, &w, 60);
        store
            .order_command(&done.id, Actor::Agent, Command::Deliver, &p, t0())
            .unwrap();
        store
            .order_command(&done.id, Actor::Owner, Command::Release, &p, t0())
            .unwrap();

        assert!(store.due_orders(t0() + Duration::hours(1), 10).unwrap().is_empty());
        let later = t0() + Duration::days(4);
        assert_eq!(store.due_orders(later, 10).unwrap().len(), 2, "{}", db.label);
        assert_eq!(store.run_due_timers(&p, later, 10).unwrap(), 2);
        assert_eq!(store.order(&late.id).unwrap().state, OrderState::Refunded);
        assert_eq!(store.order(&done.id).unwrap().state, OrderState::Completed);
        assert!(store.due_orders(later, 10).unwrap().is_empty());
        assert_eq!(
            store.balance(&AccountRef::Wallet(w.customer.clone())).unwrap(),
            Points(940)
        );
        assert_eq!(store.balance(&AccountRef::Wallet(w.owner.clone())).unwrap(), Points(54));
        assert_ledger_ok(&store);
    }
}

#[test]
fn racing_schedulers_apply_each_timer_once() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let p = Policy::default();
        let ids: Vec<_> = (0..12).map(|_| place(&store, &w, 10).id).collect();
        let later = t0() + Duration::days(3);
        let changed: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| store.run_due_timers(&p, later, 100).unwrap()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(changed, 12, "{}: every timer applied exactly once", db.label);
        for id in &ids {
            assert_eq!(store.order(id).unwrap().state, OrderState::Refunded);
        }
        assert_eq!(
            store.balance(&AccountRef::Wallet(w.customer.clone())).unwrap(),
            Points(1000)
        );
        let refunds = store
            .agent_events(&w.agent, 0, 1000)
            .unwrap()
            .iter()
            .filter(|e| e.kind == "order_refunded")
            .count();
        assert_eq!(refunds, 12, "{}", db.label);
        assert_ledger_ok(&store);
    }
}

#[test]
fn eight_threads_place_and_settle_against_shared_wallets() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        // The owner also buys from their own agent, so wallets are debited and credited
        // from both sides at once.
        let p = Policy::default();
        std::thread::scope(|s| {
            for t in 0..8 {
                let (store, w, p) = (&store, &w, &p);
                s.spawn(move || {
                    for i in 0..15 {
                        let mut cmd = common::order_cmd(store, w, 7 + (i % 5), auto());
                        if t % 2 == 1 {
                            cmd.customer = w.owner.clone();
                        }
                        let Ok(o) = store.place_order(cmd, p, t0()) else {
                            continue; // the owner may run dry: that is a refusal, not a failure
                        };
                        store
                            .order_command(&o.id, Actor::Agent, Command::Deliver, p, t0())
                            .unwrap();
                        if i % 3 == 0 {
                            store
                                .order_command(&o.id, Actor::Owner, Command::Return { note: "again".into() }, p, t0())
                                .unwrap();
                            store
                                .order_command(
                                    &o.id,
                                    Actor::Agent,
                                    Command::Decline {
                                        reason: DeclineReason::Capacity,
                                        note: None,
                                    },
                                    p,
                                    t0(),
                                )
                                .unwrap();
                        } else {
                            store
                                .order_command(&o.id, Actor::Owner, Command::Release, p, t0())
                                .unwrap();
                            store
                                .order_command(&o.id, Actor::Customer, Command::Accept, p, t0())
                                .unwrap();
                        }
                    }
                });
            }
        });
        assert_ledger_ok(&store);
        let total = store.balance(&AccountRef::Wallet(w.customer.clone())).unwrap().get()
            + store.balance(&AccountRef::Wallet(w.owner.clone())).unwrap().get()
            + store.balance(&AccountRef::PlatformFees).unwrap().get();
        assert_eq!(total, 1000, "{}: no point created or lost", db.label);
    }
}

/// Each instance keeps the orders it wrote; a copy another instance has since changed
/// must never decide a command.
#[test]
fn an_instance_never_acts_on_its_stale_copy_of_an_order() {
    for db in TestDb::all() {
        let (a, b) = (db.open(), db.open());
        let w = world(&a);
        let p = Policy::default();
        let o = place(&a, &w, 25);
        b.order_command(&o.id, Actor::Agent, Command::Deliver, &p, t0())
            .unwrap();
        // On `a`'s copy nothing is delivered yet, so a release would be refused there.
        let released = a
            .order_command(&o.id, Actor::Owner, Command::Release, &p, t0())
            .unwrap();
        assert_eq!(released.state, OrderState::Delivered, "{}", db.label);
        assert_eq!(a.stored_order(&o.id).unwrap().version, 2, "{}", db.label);
        b.order_command(&o.id, Actor::Customer, Command::Accept, &p, t0())
            .unwrap();
        // On `a`'s copy the order still awaits acceptance: paying out again must not happen.
        let again = a.order_command(&o.id, Actor::Customer, Command::Accept, &p, t0());
        assert!(
            again.as_ref().map_or(true, |o| o.state == OrderState::Completed),
            "{}: {again:?}",
            db.label
        );
        assert_eq!(a.order(&o.id).unwrap().state, OrderState::Completed);
        assert_eq!(
            a.balance(&AccountRef::Wallet(w.owner.clone())).unwrap(),
            Points(22),
            "{}: paid once",
            db.label
        );
        assert_ledger_ok(&a);
    }
}
