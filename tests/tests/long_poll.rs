//! `GET /api/events?wait=<1–60>` (SPEC §16): answered as soon as an event for the agent is
//! committed, `{}` at the time-out; waiting holds no database connection and no thread;
//! two polls of one agent both answer and hand each event out once; another instance's
//! events wake it within about a second. Both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::*;

/// One long-poll: status, body and how long it took.
async fn long_poll(base: String, key: String, query: &str) -> (u16, Value, Duration) {
    let started = Instant::now();
    let r = reqwest::Client::new()
        .get(format!("{base}/api/events?{query}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap(), started.elapsed())
}

async fn place(server: &Server, customer: &reqwest::Client, agent: &str, gig: &str) -> String {
    let r = customer
        .post(server.url("/api/customer/orders"))
        .json(&json!({"agent_id": agent, "gig_id": gig, "tier": "Basic",
                      "inputs": {"repo": "https://example.com/r", "lang": "rust"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

fn ids(body: &Value) -> Vec<String> {
    body["events"]
        .as_array()
        .map(|e| e.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_long_poll_answers_on_the_event_or_with_an_empty_object_at_the_time_out() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Waiter").await;
        let customer = signup(&server, "customer@example.com", false).await;

        // Nothing comes: exactly `{}` once the wait is over, not before.
        let (s, body, took) = long_poll(server.base.clone(), key.clone(), "wait=1").await;
        assert_eq!((s, &body), (200, &json!({})), "{}", db.label);
        assert!(took >= Duration::from_secs(1), "{}: answered after {took:?}", db.label);
        assert!(took < Duration::from_secs(5), "{}: {took:?}", db.label);

        // An order placed while the poll waits answers it at once, drained.
        let poll = tokio::spawn(long_poll(server.base.clone(), key.clone(), "wait=30"));
        // Let the request reach the server so the wake-up, not the first look, answers
        // it (either way the answer must be the same).
        tokio::time::sleep(Duration::from_millis(300)).await;
        let order = place(&server, &customer, &agent, &gig).await;
        let placed = Instant::now();
        let (s, body, took) = poll.await.unwrap();
        assert_eq!(s, 200, "{}", db.label);
        assert_eq!(body["events"][0]["k"], "new_order", "{}: {body}", db.label);
        assert_eq!(body["events"][0]["o"], order.as_str());
        assert_eq!(body["next"], body["events"][0]["id"]);
        assert!(took < Duration::from_secs(10), "{}: {took:?}", db.label);
        println!("{}: answered {:?} after the placement", db.label, placed.elapsed());
        let (s, body, _) = long_poll(server.base.clone(), key.clone(), "wait=1").await;
        assert_eq!((s, body), (200, json!({})), "{}: handed out once", db.label);

        // `since` with `wait` re-reads at once what came after the cursor.
        let (s, again, _) = long_poll(server.base.clone(), key.clone(), "since=0&wait=30").await;
        assert_eq!(s, 200);
        assert_eq!(again["events"][0]["o"], order.as_str(), "{}", db.label);
    }
}

#[tokio::test]
async fn a_bad_wait_is_refused_in_the_envelope_and_drains_nothing() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Picky").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let order = place(&server, &customer, &agent, &gig).await;
        for (query, status, code) in [
            ("wait=soon", 400, "bad_query"),
            ("wait=1.5", 400, "bad_query"),
            ("wait=", 400, "bad_query"),
            ("wait=1&wait=2", 400, "bad_query"),
            ("wait=0", 422, "validation_failed"),
            ("wait=61", 422, "validation_failed"),
            ("wait=-3", 422, "validation_failed"),
            ("wait=9999999999", 422, "validation_failed"),
        ] {
            let (s, body, took) = long_poll(server.base.clone(), key.clone(), query).await;
            assert_eq!(
                (s, body["error"]["code"].as_str()),
                (status, Some(code)),
                "{}: {query}: {body}",
                db.label
            );
            if status == 422 {
                assert_eq!(body["error"]["field"], "wait", "{query}");
            }
            assert!(took < Duration::from_secs(1), "{query} answered at once");
        }
        let (s, body, _) = long_poll(server.base.clone(), key.clone(), "wait=5").await;
        assert_eq!(s, 200);
        assert_eq!(
            body["events"][0]["o"],
            order.as_str(),
            "{}: the refused polls drained nothing",
            db.label
        );
    }
}

/// 32 long-polls of one agent on a server with 2 database connections and 2 blocking
/// threads: while they wait, another agent's order is placed and polled at once (the
/// waiting polls hold neither); then one order wakes them all, every poll answers, and
/// its event is handed out exactly once.
#[tokio::test]
async fn concurrent_long_polls_hold_nothing_and_hand_each_event_out_once() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[("HEEPR_DB_POOL", "2"), ("HEEPR_BLOCKING_THREADS", "2")]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Popular").await;
        let (other, other_key, other_gig) = live_agent(&server, &owner, "Bystander").await;
        let customer = signup(&server, "customer@example.com", false).await;

        let started = Instant::now();
        let polls: Vec<_> = (0..32)
            .map(|_| tokio::spawn(long_poll(server.base.clone(), key.clone(), "wait=8")))
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let t = Instant::now();
        place(&server, &customer, &other, &other_gig).await;
        let got = next_events(&server, &other_key).await;
        assert_eq!(got.len(), 1);
        assert!(
            t.elapsed() < Duration::from_secs(4),
            "{}: another agent's order and poll took {:?} while 32 polls waited",
            db.label,
            t.elapsed()
        );

        let order = place(&server, &customer, &agent, &gig).await;
        let mut handed_out = Vec::new();
        for p in polls {
            let (s, body, _) = p.await.unwrap();
            assert_eq!(s, 200, "{}: every poll is answered: {body}", db.label);
            handed_out.extend(ids(&body));
        }
        assert_eq!(
            handed_out.len(),
            1,
            "{}: one event, handed out once: {handed_out:?}",
            db.label
        );
        assert!(started.elapsed() < Duration::from_secs(30), "{}", db.label);
        let (_, again, _) = long_poll(server.base.clone(), key.clone(), "since=0&wait=1").await;
        assert_eq!(again["events"][0]["o"], order.as_str());
        assert_eq!(ids(&again), handed_out);
    }
}

#[tokio::test]
async fn a_long_poll_counts_as_a_heartbeat() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[("HEEPR_SCHEDULER_SECS", "1")]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, _) = live_agent(&server, &owner, "Sleepy").await;
        let profile = |server: &Server| reqwest::get(server.url(&format!("/api/agents/{agent}")));
        let body: Value = profile(&server).await.unwrap().json().await.unwrap();
        assert_eq!(body["online"], false, "{}: never polled", db.label);
        let (s, _, _) = long_poll(server.base.clone(), key.clone(), "wait=1").await;
        assert_eq!(s, 200);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let body: Value = profile(&server).await.unwrap().json().await.unwrap();
            if body["online"] == true {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{}: the long-poll marked no heartbeat",
                db.label
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test]
async fn another_instances_event_wakes_a_long_poll_within_about_a_second() {
    for db in TestDb::all() {
        let a = Server::start(&db, &[]);
        let owner = signup(&a, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&a, &owner, "Twin").await;
        let server_key = a.data_dir().join("secret.key");
        let b = Server::start(&db, &[("HEEPR_SECRET_KEY_FILE", server_key.to_str().unwrap())]);
        let customer = signup(&a, "customer@example.com", false).await;
        // B knows the key (a plain poll), then waits.
        assert_eq!(long_poll(b.base.clone(), key.clone(), "wait=1").await.1, json!({}));
        let poll = tokio::spawn(long_poll(b.base.clone(), key.clone(), "wait=30"));
        tokio::time::sleep(Duration::from_millis(300)).await;
        place(&a, &customer, &agent, &gig).await;
        let placed = Instant::now();
        let (s, body, _) = poll.await.unwrap();
        let took = placed.elapsed();
        assert_eq!(s, 200);
        assert_eq!(body["events"][0]["k"], "new_order", "{}: {body}", db.label);
        assert!(
            took < Duration::from_millis(2500),
            "{}: B's poll answered {took:?} after A's placement",
            db.label
        );
        println!("{}: B answered {took:?} after A's placement", db.label);
    }
}
