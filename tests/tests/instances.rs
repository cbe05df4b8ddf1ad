//! Two server processes on one database: what one instance changes, the other sees
//! within about a second (its caches live at most one second) — and on PostgreSQL at
//! once, through each instance's LISTEN connection (`heepr_store::listen`).
//!
//! Several instances means PostgreSQL (docs/DEPLOY.md): the SQLite half of the first
//! test only shows the one-second fallback. Files through the object store across two
//! instances: object_store.rs; login failures counted once: login_limits.rs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::flow::{json_of, order_form};
use support::*;

#[tokio::test]
async fn revocations_and_events_cross_instances_within_a_second() {
    for db in TestDb::all() {
        let a = Server::start(&db, &[]);
        let owner = signup(&a, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&a, &owner, "Twin").await;
        // Started after onboarding, so the approval email (one outbox, claimed by
        // whichever instance's sender gets it first) is printed by A. One deployment,
        // one server key: B reads A's.
        let server_key = a.data_dir().join("secret.key");
        let b = Server::start(&db, &[("HEEPR_SECRET_KEY_FILE", server_key.to_str().unwrap())]);
        let http = reqwest::Client::new();
        let poll_b = || http.get(b.url("/api/events")).bearer_auth(&key).send();
        assert_eq!(
            poll_b().await.unwrap().text().await.unwrap(),
            "{}",
            "{}: B knows the key",
            db.label
        );

        // An order placed through A reaches the agent polling B.
        let customer = signup(&a, "customer@example.com", false).await;
        let r = customer
            .post(a.url("/api/customer/orders"))
            .json(&json!({"agent_id": agent, "gig_id": gig, "tier": "Basic", "inputs": {"repo": "https://x.io/r", "lang": "rust"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let started = Instant::now();
        loop {
            let body: Value = poll_b().await.unwrap().json().await.unwrap();
            if body["events"].as_array().is_some_and(|e| e[0]["k"] == "new_order") {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{}: event not visible on B",
                db.label
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // A revocation through A stops the key on B.
        owner
            .post(a.url(&format!("/api/owner/agents/{agent}/revoke-key")))
            .send()
            .await
            .unwrap();
        let started = Instant::now();
        loop {
            let r = poll_b().await.unwrap();
            if r.status() == 401 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{}: revocation not seen on B",
                db.label
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "{}: took {:?}",
            db.label,
            started.elapsed()
        );
        assert_ledger_ok(&db);
    }
}

/// One long-poll on `server` of up to `wait` seconds: the body and how long it took.
async fn long_poll(server: &Server, key: &str, wait: u32) -> (Value, Duration) {
    let started = Instant::now();
    let r = reqwest::Client::new()
        .get(server.url(&format!("/api/events?wait={wait}")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    (r.json().await.unwrap(), started.elapsed())
}

/// Polls `check` until it holds, failing past `limit`; returns how long it took.
async fn within<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn on_postgresql_two_instances_see_each_others_writes_at_once_and_fire_timers_once() {
    let Some(db) = TestDb::postgres() else {
        return; // reported by TestDb
    };
    let clock = [
        ("HEEPR_TEST_CLOCK", "true"),
        ("HEEPR_SCHEDULER_SECS", "3600"),
        ("HEEPR_DB_POOL", "4"),
    ];
    let a = Server::start(&db, &clock);
    a.wait_for_log("LISTEN connection up");
    let owner = signup(&a, "owner@example.com", true).await;
    let (agent, key, gig) = live_agent(&a, &owner, "Twin").await;
    let key_file = a.data_dir().join("secret.key");
    let mut env_b = clock.to_vec();
    env_b.push(("HEEPR_SECRET_KEY_FILE", key_file.to_str().unwrap()));
    let b = Server::start(&db, &env_b);
    b.wait_for_log("LISTEN connection up");
    let customer = signup(&a, "customer@example.com", false).await;
    assert_eq!(long_poll(&b, &key, 1).await.0, json!({}), "B knows the key");

    // An order placed through A wakes the agent's long-poll on B at once (the re-read
    // fallback would take up to a second).
    // Whether B's poll registers before or after the placement commits, it answers
    // with the event: woken by the notification, or finding it when it looks.
    let waiting = {
        let (url, key) = (b.url("/api/events?wait=20"), key.clone());
        tokio::spawn(async move {
            let r = reqwest::Client::new().get(url).bearer_auth(key).send().await.unwrap();
            r.json::<Value>().await.unwrap()
        })
    };
    let placed_at = Instant::now();
    let (s, order) = json_of(
        customer
            .post(a.url("/api/customer/orders"))
            .json(&order_form(&agent, &gig, "Basic"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{order}");
    let body = waiting.await.unwrap();
    let latency = placed_at.elapsed();
    assert_eq!(body["events"][0]["k"], "new_order", "{body}");
    assert!(
        latency < Duration::from_millis(800),
        "place on A -> poll on B: {latency:?}"
    );
    let oid = order["id"].as_str().unwrap().to_owned();
    assert_eq!(body["events"][0]["o"], oid.as_str(), "{body}");

    // A logout through A is refused by B well within the one-second fallback.
    let me_b = || customer.get(b.url("/api/me")).send();
    assert_eq!(me_b().await.unwrap().status(), 200, "B knows the session (cached now)");
    let r = customer.post(a.url("/api/auth/logout")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let took = within(Duration::from_secs(3), "logout seen on B", || async {
        me_b().await.unwrap().status() == 401
    })
    .await;
    assert!(took < Duration::from_millis(900), "logout reached B in {took:?}");

    // Time passes the Basic deadline on both; both run their timers at once: the order
    // is refunded once, one event, one refund in the ledger.
    let http = browser();
    for s in [&a, &b] {
        let r = http
            .post(s.url("/api/test/clock"))
            .json(&json!({"seconds": 3 * 86_400}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let (ra, rb) = tokio::join!(
        http.post(a.url("/api/test/timers")).send(),
        http.post(b.url("/api/test/timers")).send()
    );
    let (_, ta) = json_of(ra.unwrap()).await;
    let (_, tb) = json_of(rb.unwrap()).await;
    assert_eq!(
        ta["changed"].as_i64().unwrap() + tb["changed"].as_i64().unwrap(),
        1,
        "A: {ta}, B: {tb}"
    );
    let evs = next_events(&b, &key).await;
    let refunds: Vec<_> = evs
        .iter()
        .filter(|e| e["k"] == "order_refunded" && e["o"] == oid.as_str())
        .collect();
    assert_eq!(refunds.len(), 1, "{evs:?}");

    // A key revoked through A is refused by B at once too.
    owner
        .post(a.url(&format!("/api/owner/agents/{agent}/revoke-key")))
        .send()
        .await
        .unwrap();
    let took = within(Duration::from_secs(3), "revocation seen on B", || async {
        http.get(b.url("/api/events"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .status()
            == 401
    })
    .await;
    assert!(took < Duration::from_millis(900), "revocation reached B in {took:?}");
    assert_ledger_ok(&db);
}

#[tokio::test]
async fn on_postgresql_four_instances_started_at_once_on_an_empty_database_all_come_up() {
    let Some(db) = TestDb::postgres() else {
        return; // reported by TestDb
    };
    // The same moment: four processes race for the migrations (and the applier
    // functions), which run under an advisory lock — once.
    // Small pools: r2d2 opens every connection at start, and the shared PostgreSQL
    // allows 100 clients to all the tests running beside this one.
    let env = [("HEEPR_DB_POOL", "4")];
    let (db, env) = (&db, &env[..]);
    let servers: Vec<Server> = std::thread::scope(|s| {
        let starting: Vec<_> = (0..4).map(|_| s.spawn(move || Server::start(db, env))).collect();
        starting.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let migrated = servers
        .iter()
        .filter(|s| {
            s.log_until("LISTEN connection up")
                .iter()
                .any(|l| l.contains("database migrations applied"))
        })
        .count();
    assert_eq!(migrated, 1, "exactly one instance applied the migrations");
    let http = reqwest::Client::new();
    for (i, s) in servers.iter().enumerate() {
        let r = http.get(s.url("/readyz")).send().await.unwrap();
        assert_eq!(r.status(), 200, "instance {i}");
    }
    // Each serves writes: an account through one, its login through every other.
    signup(&servers[0], "four@example.com", false).await;
    for s in &servers[1..] {
        let r = browser()
            .post(s.url("/api/auth/login"))
            .json(&json!({"email": "four@example.com", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_ledger_ok(db);
}
