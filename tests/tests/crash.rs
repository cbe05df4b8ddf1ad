//! A crash test that stays: the real server binary runs concurrent order loops whose
//! requests retry with their `Idempotency-Key`, is killed with SIGKILL at random moments
//! (6 times per database), and is restarted on the same database and data dir. Then:
//! `admin check-ledger` holds; the test's own accounting balances (wallets + open escrow
//! = points minted); every order answered with success is stored; no retried key placed
//! a second order; every order's events reach its agent through `since`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use support::*;

const KILLS: usize = 6;
const WORKERS: usize = 8;
const CUSTOMERS: usize = 4;
const STARTER: i64 = 100_000;
const PRICE: i64 = 25;

/// What every worker shares: where the server is now, and when to stop.
struct Shared {
    base: RwLock<String>,
    stop: AtomicBool,
}

/// Sends a request until the server answers it (across kills), with a deadline. Any
/// answer but success, `503 busy` or `409 idempotency_in_progress` fails the test.
async fn until_answered(shared: &Shared, make: impl Fn(&str) -> reqwest::RequestBuilder) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let base = shared.base.read().unwrap().clone();
        match make(&base).timeout(Duration::from_secs(10)).send().await {
            Ok(r) if r.status().is_success() => return r.json().await.unwrap(),
            Ok(r) if matches!(r.status().as_u16(), 503 | 409) => {}
            Ok(r) => {
                let status = r.status();
                panic!("unexpected answer {status}: {}", r.text().await.unwrap_or_default());
            }
            // The server is down (killed) or restarting: retry the same request.
            Err(_) => {}
        }
        assert!(Instant::now() < deadline, "no answer within 60 s");
        // A pause between attempts, not a wait for an event: the retry polls.
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Places orders, and declines every other one as its agent, until told to stop.
/// Returns (idempotency key, order id) for every placement answered with success.
async fn worker(
    shared: Arc<Shared>,
    i: usize,
    customer: reqwest::Client,
    form: Value,
    key: String,
) -> Vec<(String, String, bool)> {
    let agent = reqwest::Client::new();
    let mut placed = Vec::new();
    let mut n = 0;
    while !shared.stop.load(Ordering::Relaxed) {
        let idem = format!("w{i}-{n}");
        let order = until_answered(&shared, |base| {
            customer
                .post(format!("{base}/api/customer/orders"))
                .header("Idempotency-Key", &idem)
                .json(&form)
        })
        .await;
        let id = order["id"].as_str().unwrap().to_owned();
        let decline = n % 2 == 0;
        if decline {
            let answer = until_answered(&shared, |base| {
                agent
                    .post(format!("{base}/api/orders/{id}/decline"))
                    .bearer_auth(&key)
                    .header("Idempotency-Key", format!("{idem}:decline"))
                    .json(&json!({"reason": "capacity"}))
            })
            .await;
            assert_eq!(answer["state"], "refunded", "{answer}");
        }
        placed.push((idem, id, decline));
        n += 1;
    }
    placed
}

/// A small deterministic generator for the kill moments (the seed is printed).
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

async fn all_orders(c: &reqwest::Client, base: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{base}/api/customer/orders?limit=100&cursor={c}"),
            None => format!("{base}/api/customer/orders?limit=100"),
        };
        let page = get_json(c, url).await;
        out.extend(page["orders"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(n) => cursor = Some(n.to_owned()),
            None => return out,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_load_the_server_loses_nothing_and_acts_once() {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    for db in TestDb::all() {
        let label = db.label;
        let env = [("HEEPR_STARTER_POINTS", "100000")];
        let mut server = Server::start(&db, &env);
        let owner = signup(&server, "owner@example.com", true).await;
        let mut agents = Vec::new();
        for a in 0..CUSTOMERS {
            agents.push(live_agent(&server, &owner, &format!("Crash {a}")).await);
        }
        let mut customers = Vec::new();
        for c in 0..CUSTOMERS {
            customers.push(signup(&server, &format!("c{c}@example.com"), false).await);
        }
        let shared = Arc::new(Shared {
            base: RwLock::new(server.base.clone()),
            stop: AtomicBool::new(false),
        });
        let mut tasks = Vec::new();
        for i in 0..WORKERS {
            let (agent, key, gig) = agents[i % CUSTOMERS].clone();
            let form = json!({"agent_id": agent, "gig_id": gig, "tier": "Basic",
                "inputs": {"repo": "https://example.com/r", "lang": "rust"}});
            tasks.push(tokio::spawn(worker(
                shared.clone(),
                i,
                customers[i % CUSTOMERS].clone(),
                form,
                key,
            )));
        }
        for _ in 0..KILLS {
            let pause = 300 + next(&mut seed) % 900;
            tokio::time::sleep(Duration::from_millis(pause)).await;
            let data = server.kill();
            server = Server::start_in(&db, data, &env);
            *shared.base.write().unwrap() = server.base.clone();
        }
        // A last stretch of load on the final process, then every loop finishes.
        tokio::time::sleep(Duration::from_millis(500)).await;
        shared.stop.store(true, Ordering::Relaxed);
        let mut answered = Vec::new();
        for t in tasks {
            answered.extend(t.await.unwrap());
        }
        let base = server.base.clone();
        assert!(answered.len() >= WORKERS, "{label}: the loops made progress");

        // The ledger's own invariants.
        assert_ledger_ok(&db);

        // No retried key placed a second order, and every answered order is stored.
        let keys: BTreeSet<&str> = answered.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(keys.len(), answered.len(), "{label}: one answer per key");
        let mut stored: BTreeMap<String, Value> = BTreeMap::new();
        for c in &customers {
            for o in all_orders(c, &base).await {
                stored.insert(o["id"].as_str().unwrap().to_owned(), o);
            }
        }
        assert_eq!(
            stored.len(),
            answered.len(),
            "{label}: exactly the answered orders exist (a retried key never placed twice)"
        );
        for (_, id, declined) in &answered {
            let o = stored
                .get(id)
                .unwrap_or_else(|| panic!("{label}: answered order {id} is stored"));
            let want = if *declined { "refunded" } else { "in_progress" };
            assert_eq!(o["state"], want, "{label}: {id}");
        }

        // The test's own accounting: wallets + open escrow = points minted to customers.
        let mut wallets = 0;
        for c in &customers {
            let me: Value = c
                .get(format!("{base}/api/me"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            wallets += me["balance"].as_i64().unwrap();
        }
        let open = answered.iter().filter(|(_, _, declined)| !declined).count() as i64;
        assert_eq!(
            wallets + open * PRICE,
            CUSTOMERS as i64 * STARTER,
            "{label}: wallets + escrow = points minted"
        );

        // Every order's events reach its agent through `since`.
        let http = reqwest::Client::new();
        let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (_, key, _) in &agents {
            let mut cursor = "0".to_owned();
            loop {
                let batch = agent_get(&http, key, format!("{base}/api/events?since={cursor}")).await;
                let events = batch["events"].as_array().cloned().unwrap_or_default();
                if events.is_empty() {
                    break;
                }
                for e in &events {
                    let order = e["o"].as_str().unwrap_or_default().to_owned();
                    seen.entry(order)
                        .or_default()
                        .insert(e["k"].as_str().unwrap().to_owned());
                }
                cursor = batch["next"].as_str().unwrap().to_owned();
            }
        }
        for (_, id, declined) in &answered {
            let kinds = seen.get(id).cloned().unwrap_or_default();
            assert!(
                kinds.contains("new_order"),
                "{label}: {id} reached its agent: {kinds:?}"
            );
            if *declined {
                assert!(
                    kinds.contains("order_refunded"),
                    "{label}: {id} refund event: {kinds:?}"
                );
            }
        }
        eprintln!("{label}: {} orders across {KILLS} kills", answered.len());
    }
}
