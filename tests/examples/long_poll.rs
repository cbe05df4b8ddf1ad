//! Load generator for the long-poll (`GET /api/events?wait=`), three modes:
//!
//! - `latency <base url> <server log> <workers> <seconds>`: each worker has its own agent
//!   and customer; it opens a long-poll, places an order and times place → the poll's
//!   answer carrying that order. Prints p50/p99.
//! - `seed <database url> <owner user id> <n>`: inserts `n` agents with API keys straight
//!   into the tables (key i is `sk_live_` + i as 64 hex digits), for `waiters`.
//! - `waiters <base url> <n> <seconds>`: keeps `n` seeded agents long-polling (`wait=60`,
//!   again at once after each answer) for that long; prints answers and errors.
//!
//! bench/long_poll.sh runs them against a release server and samples its RSS and CPU.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::RunQueryDsl;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

fn key(i: usize) -> String {
    format!("sk_live_{i:064x}")
}

fn client() -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("x-heepr-client", reqwest::header::HeaderValue::from_static("bench"));
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(h)
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

async fn post(c: &reqwest::Client, url: String, body: Value) -> Value {
    let r = c.post(&url).json(&body).send().await.unwrap();
    let s = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(s.is_success(), "{url}: {s} {v}");
    v
}

/// The first approval code in `logs` (comma-separated paths: with two instances either
/// one's sender may send the email) not in `used`.
async fn approval_code(logs: &str, used: &[String]) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text: String = logs
            .split(',')
            .map(|l| std::fs::read_to_string(l).unwrap_or_default())
            .collect();
        let fresh = text.split("owner/approve?code=").skip(1).map(|c| {
            c.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        });
        if let Some(code) = fresh.into_iter().find(|c| !used.contains(c)) {
            return code;
        }
        assert!(Instant::now() < deadline, "no approval email in the log");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn pct(v: &mut [u128], p: f64) -> f64 {
    v.sort_unstable();
    v.get(((v.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0) as f64 / 1000.0
}

/// `poll_base`: where the agents long-poll (another instance than `base`, where orders
/// are placed, to time a notification across instances).
async fn latency(base: String, log: String, workers: usize, secs: u64, poll_base: String) {
    let owner = client();
    let signup = |email: String| json!({"email": email, "password": "bench password"});
    post(
        &owner,
        format!("{base}/api/auth/signup"),
        signup("owner@bench.test".into()),
    )
    .await;
    post(&owner, format!("{base}/api/me/owner"), json!({})).await;
    let mut agents = Vec::new();
    let mut used = Vec::new();
    for i in 0..workers {
        let wizard = json!({"name": format!("Waiter {i}"), "categories": ["code"], "accept_mode": {"mode": "auto", "bands": []},
            "gigs": [{"title": "T", "category": "code", "tiers": [{"name": "B", "price": 1, "delivery_days": 1, "revisions": 1}]}]});
        let a = post(&owner, format!("{base}/api/owner/agents"), wizard).await;
        let code = approval_code(&log, &used).await;
        used.push(code.clone());
        let setup = post(
            &owner,
            format!("{base}/api/owner/agents/approve"),
            json!({"code": code}),
        )
        .await;
        let reg = reqwest::Client::new()
            .post(format!("{base}/api/agent/register"))
            .header(
                "Authorization",
                format!("Bootstrap {}", setup["bootstrap_token"].as_str().unwrap()),
            )
            .json(&json!({"agent_id": a["id"]}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let customer = client();
        post(
            &customer,
            format!("{base}/api/auth/signup"),
            signup(format!("c{i}@bench.test")),
        )
        .await;
        let id = a["id"].as_str().unwrap().to_owned();
        let gig = a["settings"]["gigs"][0]["id"].as_str().unwrap().to_owned();
        agents.push((id, reg["api_key"].as_str().unwrap().to_owned(), gig, customer));
    }
    let end = Instant::now() + Duration::from_secs(secs);
    let handles: Vec<_> = agents
        .into_iter()
        .map(|(agent, key, gig, customer)| {
            let (base, poll_base) = (base.clone(), poll_base.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let (mut seen, mut place) = (Vec::new(), Vec::new());
                while Instant::now() < end {
                    let poll = {
                        let (http, url, key) = (http.clone(), format!("{poll_base}/api/events?wait=30"), key.clone());
                        tokio::spawn(async move {
                            let r = http.get(url).bearer_auth(key).send().await.unwrap();
                            let body: Value = r.json().await.unwrap();
                            (Instant::now(), body)
                        })
                    };
                    // Let the poll reach the server and wait there before the order is placed.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let t0 = Instant::now();
                    let o = post(
                        &customer,
                        format!("{base}/api/customer/orders"),
                        json!({"agent_id": agent, "gig_id": gig, "tier": "B"}),
                    )
                    .await;
                    place.push(t0.elapsed().as_micros());
                    let (answered, body) = poll.await.unwrap();
                    let got = body["events"][0]["o"] == o["id"];
                    assert!(got, "the poll answered with the placed order: {body}");
                    seen.push(answered.duration_since(t0).as_micros());
                }
                (seen, place)
            })
        })
        .collect();
    let (mut seen, mut place) = (Vec::new(), Vec::new());
    for h in handles {
        let (s, p) = h.await.unwrap();
        seen.extend(s);
        place.extend(p);
    }
    println!(
        "place -> long-poll answer ({} orders, {workers} workers, {secs} s): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; \
         the placement itself: p50 {:.2} ms, p99 {:.2} ms",
        seen.len(),
        pct(&mut seen, 0.5),
        pct(&mut seen, 0.99),
        pct(&mut seen, 1.0),
        pct(&mut place, 0.5),
        pct(&mut place, 0.99)
    );
}

fn seed(url: &str, owner: &str, n: usize) {
    let mut c = heepr_store::DbTarget::parse(url).unwrap().establish().unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let agents: Vec<String> = chunk
            .iter()
            .map(|i| {
                format!(
                    "('agt_w{i:06}', '{owner}', 'Waiter {i}', 'active', '{{}}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            })
            .collect();
        diesel::sql_query(format!(
            "INSERT INTO agents (id, owner_id, name, status, settings, created_at, updated_at) VALUES {}",
            agents.join(", ")
        ))
        .execute(&mut c)
        .unwrap();
        let keys: Vec<String> = chunk
            .iter()
            .map(|i| {
                let hash: String = Sha256::digest(key(*i).as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                format!("('{hash}', 'agt_w{i:06}', CURRENT_TIMESTAMP)")
            })
            .collect();
        diesel::sql_query(format!(
            "INSERT INTO api_keys (key_hash, agent_id, created_at) VALUES {}",
            keys.join(", ")
        ))
        .execute(&mut c)
        .unwrap();
    }
    println!("seeded {n} agents with keys");
}

async fn waiters(base: String, n: usize, secs: u64) {
    let http = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(secs);
    let mut handles = Vec::new();
    for i in 0..n {
        let (http, url) = (http.clone(), format!("{base}/api/events?wait=60"));
        handles.push(tokio::spawn(async move {
            let (mut answers, mut errors) = (0u64, 0u64);
            while Instant::now() < end {
                let ok = match http.get(&url).bearer_auth(key(i)).send().await {
                    Ok(r) => r.status() == 200 && r.text().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    answers += 1;
                } else {
                    errors += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            (answers, errors)
        }));
        // Open connections at about 2 000 a second (the accept queue is finite).
        if i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    println!("{n} long-polls open");
    let (mut answers, mut errors) = (0, 0);
    for h in handles {
        let (a, e) = h.await.unwrap();
        answers += a;
        errors += e;
    }
    println!("waiters done: {answers} answers, {errors} errors");
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("latency") => {
            latency(
                args[2].clone(),
                args[3].clone(),
                args[4].parse().unwrap(),
                args[5].parse().unwrap(),
                args.get(6).unwrap_or(&args[2]).clone(),
            )
            .await
        }
        Some("seed") => seed(&args[2], &args[3], args[4].parse().unwrap()),
        Some("waiters") => waiters(args[2].clone(), args[3].parse().unwrap(), args[4].parse().unwrap()).await,
        _ => panic!("usage: long_poll latency|seed|waiters …"),
    }
}
