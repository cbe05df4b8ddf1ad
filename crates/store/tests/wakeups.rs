//! Long-poll wake-ups (SPEC §16 `wait`): a write that gives an agent events wakes its
//! waiting polls after the commit, on both backends; another instance's write wakes them
//! through the sweep.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use heepr_store::testing::TestDb;
use std::time::Duration;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

#[test]
fn a_placement_wakes_the_waiting_poll_after_its_commit() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let other = store.create_agent(&w.owner, "Other", t0()).unwrap();
        let mut waiting = store.wait_for_events(&w.agent);
        let mut bystander = store.wait_for_events(&other);
        assert!(
            store.poll_events(&w.agent, None, t0()).unwrap().events.is_empty(),
            "nothing pending yet"
        );
        let placer = {
            let store = store.clone();
            let cmd = order_cmd(&store, &w, 10, auto());
            std::thread::spawn(move || store.place_order(cmd, &heepr_domain::Policy::default(), t0()).unwrap())
        };
        runtime().block_on(async {
            tokio::time::timeout(Duration::from_secs(10), waiting.woken())
                .await
                .expect("woken by the placement");
        });
        // Woken only after the commit: the event is there to be drained at once.
        let batch = store.poll_events(&w.agent, None, t0()).unwrap();
        assert_eq!(batch.events.len(), 1, "{}", db.label);
        assert_eq!(batch.events[0]["k"], "new_order");
        placer.join().unwrap();
        let quiet =
            runtime().block_on(async { tokio::time::timeout(Duration::from_millis(50), bystander.woken()).await });
        assert!(quiet.is_err(), "{}: another agent's poll sleeps on", db.label);
    }
}

#[test]
fn the_sweep_wakes_a_poll_for_an_event_another_instance_wrote() {
    for db in TestDb::all() {
        let here = db.open();
        let there = db.open();
        let w = world(&here);
        let mut waiting = here.wait_for_events(&w.agent);
        assert!(waiting.start_sweeper(), "the first waiting poll starts the sweeper");
        assert!(!here.wait_for_events(&w.agent).start_sweeper(), "one sweeper at a time");
        assert!(here.sweep_waiting().unwrap(), "someone waits: keep sweeping");
        place(&there, &w, 10); // another instance: nothing here is told
        let quiet =
            runtime().block_on(async { tokio::time::timeout(Duration::from_millis(50), waiting.woken()).await });
        assert!(quiet.is_err(), "{}: not woken before a sweep", db.label);
        assert!(here.sweep_waiting().unwrap());
        runtime().block_on(async {
            tokio::time::timeout(Duration::from_secs(1), waiting.woken())
                .await
                .expect("woken by the sweep");
        });
        assert_eq!(
            here.poll_events(&w.agent, None, t0()).unwrap().events.len(),
            1,
            "{}",
            db.label
        );
        drop(waiting);
        assert!(
            !here.sweep_waiting().unwrap(),
            "{}: nobody waits: the sweeper stops",
            db.label
        );
        assert!(
            here.wait_for_events(&w.agent).start_sweeper(),
            "the next waiting poll starts it again"
        );
    }
}

/// Waits (with a deadline) until `cond` holds; returns how long it took.
fn within(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) -> Duration {
    let started = std::time::Instant::now();
    while !cond() {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    started.elapsed()
}

#[test]
fn on_postgresql_another_instances_write_wakes_and_forgets_here_at_once() {
    let Some(db) = TestDb::postgres() else {
        return; // reported by TestDb
    };
    let here = db.open();
    let there = db.open();
    here.listen_to_other_instances().unwrap();
    within(Duration::from_secs(10), "LISTEN connection up", || {
        here.hears_other_instances()
    });
    let w = world(&here);

    // A placement through the other instance wakes the poll here, with no sweep.
    let mut waiting = here.wait_for_events(&w.agent);
    assert!(here.sweep_waiting().unwrap(), "the sweeper idles while listening");
    place(&there, &w, 10);
    runtime().block_on(async {
        tokio::time::timeout(Duration::from_millis(500), waiting.woken())
            .await
            .expect("woken by the notification, well before any one-second re-read");
    });
    assert_eq!(here.poll_events(&w.agent, None, t0()).unwrap().events.len(), 1);

    // A logout through the other instance drops the session cached here.
    let expires = t0() + chrono::Duration::days(1);
    here.create_session(&w.customer, "tok-listen", t0(), expires).unwrap();
    assert!(here.session_user("tok-listen", t0()).unwrap().is_some());
    assert!(here.cached_session("tok-listen", t0()).is_some(), "cached");
    there.delete_session("tok-listen").unwrap();
    within(Duration::from_millis(500), "session forgotten", || {
        here.cached_session("tok-listen", t0()).is_none()
    });

    // The connection dropped under it: the fallback takes over, then it comes back.
    let killed = {
        use diesel::prelude::*;
        let mut c = diesel::PgConnection::establish(&db.url).unwrap();
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1",
        )
        .bind::<diesel::sql_types::Text, _>(format!("heepr-listen-{}", here.instance_name()))
        .get_result::<N>(&mut c)
        .unwrap()
        .n
    };
    assert_eq!(killed, 1, "one LISTEN connection per instance");
    within(Duration::from_secs(10), "outage noticed", || {
        !here.hears_other_instances()
    });
    within(Duration::from_secs(10), "reconnected", || here.hears_other_instances());
    let mut waiting = here.wait_for_events(&w.agent);
    place(&there, &w, 10);
    runtime().block_on(async {
        tokio::time::timeout(Duration::from_millis(500), waiting.woken())
            .await
            .expect("woken through the new connection");
    });
    assert_ledger_ok(&here);
}
