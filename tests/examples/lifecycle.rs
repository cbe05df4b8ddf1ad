//! Load generator: whole heepr orders over HTTP against a running server —
//! place → poll → deliver → release → accept (payout) — with W concurrent workers,
//! each with its own customer and agent. Prints orders/s and latency percentiles.
//!
//! `cargo run --release -p heepr-e2e --example lifecycle -- <base url> <server log file> <workers> <seconds>`
//! (bench/lifecycle.sh starts the server and passes these.) With `REVIEW=1` the customer
//! also reviews each completed order, and the review's latency is printed beside the
//! accept's (an order command) for comparison.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The server closes a keep-alive connection idle for 5 s (`HEEPR_KEEP_ALIVE_SECS`); a
/// client that reuses one at that moment sees it closed under its request. Like any client
/// of a keep-alive server, the generator drops idle connections sooner.
const POOL_IDLE: Duration = Duration::from_secs(2);

fn client() -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("x-heepr-client", reqwest::header::HeaderValue::from_static("bench"));
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(h)
        .pool_idle_timeout(POOL_IDLE)
        .build()
        .unwrap()
}

fn agent_client() -> reqwest::Client {
    reqwest::Client::builder().pool_idle_timeout(POOL_IDLE).build().unwrap()
}

async fn post(c: &reqwest::Client, url: String, body: Value) -> Value {
    let r = c.post(&url).json(&body).send().await.unwrap();
    let s = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(s.is_success(), "{url}: {s} {v}");
    v
}

async fn approval_code(log: &str, seen: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let codes: Vec<&str> = text.split("owner/approve?code=").skip(1).collect();
        if codes.len() > seen {
            return codes[seen]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
        }
        assert!(Instant::now() < deadline, "no approval email in the log");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn pct(v: &mut [u128], p: f64) -> f64 {
    v.sort_unstable();
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() as f64 - 1.0) * p) as usize] as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (base, log) = (args[1].clone(), args[2].clone());
    let workers: usize = args[3].parse().unwrap();
    let secs: u64 = args[4].parse().unwrap();

    let owner = client();
    post(
        &owner,
        format!("{base}/api/auth/signup"),
        json!({"email": "owner@bench.test", "password": "bench password"}),
    )
    .await;
    post(&owner, format!("{base}/api/me/owner"), json!({})).await;
    let mut agents = Vec::new();
    let mut register_us = Vec::new();
    for i in 0..workers {
        let wizard = json!({"name": format!("Bench {i}"), "categories": ["code"], "accept_mode": {"mode": "auto", "bands": []},
            "gigs": [{"title": "T", "category": "code", "tiers": [{"name": "B", "price": 10, "delivery_days": 1, "revisions": 1}]}]});
        let a = post(&owner, format!("{base}/api/owner/agents"), wizard).await;
        let code = approval_code(&log, i).await;
        let setup = post(
            &owner,
            format!("{base}/api/owner/agents/approve"),
            json!({"code": code}),
        )
        .await;
        let token = setup["bootstrap_token"].as_str().unwrap().to_owned();
        let t = Instant::now();
        let reg = reqwest::Client::new()
            .post(format!("{base}/api/agent/register"))
            .header("Authorization", format!("Bootstrap {token}"))
            .json(&json!({"agent_id": a["id"]}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        register_us.push(t.elapsed().as_micros());
        let gig = a["settings"]["gigs"][0]["id"].as_str().unwrap().to_owned();
        // Customers sign up before the clock starts: a signup is an Argon2 hash, not
        // part of an order's lifecycle.
        let customer = client();
        post(
            &customer,
            format!("{base}/api/auth/signup"),
            json!({"email": format!("c{i}@bench.test"), "password": "bench password"}),
        )
        .await;
        agents.push((
            a["id"].as_str().unwrap().to_owned(),
            reg["api_key"].as_str().unwrap().to_owned(),
            gig,
            customer,
        ));
    }

    println!(
        "register (sequential, {} calls): p50 {:.2} ms, p99 {:.2} ms",
        register_us.len(),
        pct(&mut register_us, 0.5),
        pct(&mut register_us, 0.99)
    );
    let reviews = std::env::var("REVIEW").is_ok_and(|v| v == "1");
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let mut handles = Vec::new();
    for (agent, key, gig, customer) in agents {
        let (base, owner) = (base.clone(), owner.clone());
        handles.push(tokio::spawn(async move {
            let agent_http = agent_client();
            let (mut done, mut place_us, mut poll_us) = (0u64, Vec::new(), Vec::new());
            let (mut accept_us, mut review_us) = (Vec::new(), Vec::new());
            while Instant::now() < end {
                let t = Instant::now();
                let o = post(
                    &customer,
                    format!("{base}/api/customer/orders"),
                    json!({"agent_id": agent, "gig_id": gig, "tier": "B"}),
                )
                .await;
                place_us.push(t.elapsed().as_micros());
                let oid = o["id"].as_str().unwrap().to_owned();
                loop {
                    let t = Instant::now();
                    let ev: Value = agent_http
                        .get(format!("{base}/api/events"))
                        .bearer_auth(&key)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    poll_us.push(t.elapsed().as_micros());
                    if ev["events"]
                        .as_array()
                        .is_some_and(|e| e.iter().any(|e| e["o"] == oid.as_str() && e["k"] == "new_order"))
                    {
                        break;
                    }
                }
                let r = agent_http
                    .post(format!("{base}/api/orders/{oid}/deliver"))
                    .bearer_auth(&key)
                    .json(&json!({"text": "done"}))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "deliver: {}", r.status());
                post(&owner, format!("{base}/api/owner/orders/{oid}/release"), json!({})).await;
                let t = Instant::now();
                post(&customer, format!("{base}/api/customer/orders/{oid}/accept"), json!({})).await;
                accept_us.push(t.elapsed().as_micros());
                if reviews {
                    let t = Instant::now();
                    post(
                        &customer,
                        format!("{base}/api/customer/orders/{oid}/review"),
                        json!({"stars": 5, "text": "Fixed, with a test."}),
                    )
                    .await;
                    review_us.push(t.elapsed().as_micros());
                }
                done += 1;
            }
            (done, place_us, poll_us, accept_us, review_us)
        }));
    }
    let (mut total, mut place, mut poll) = (0u64, Vec::new(), Vec::new());
    let (mut accept, mut review) = (Vec::new(), Vec::new());
    for h in handles {
        let (d, p, q, a, r) = h.await.unwrap();
        total += d;
        place.extend(p);
        poll.extend(q);
        accept.extend(a);
        review.extend(r);
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "workers {workers}, {elapsed:.1} s: {total} orders completed = {:.0} orders/s",
        total as f64 / elapsed
    );
    println!(
        "place p50 {:.2} ms p99 {:.2} ms; poll p50 {:.2} ms p99 {:.2} ms",
        pct(&mut place, 0.5),
        pct(&mut place, 0.99),
        pct(&mut poll, 0.5),
        pct(&mut poll, 0.99)
    );
    println!(
        "accept p50 {:.2} ms p99 {:.2} ms",
        pct(&mut accept, 0.5),
        pct(&mut accept, 0.99)
    );
    if reviews {
        println!(
            "review p50 {:.2} ms p99 {:.2} ms ({} reviews)",
            pct(&mut review, 0.5),
            pct(&mut review, 0.99),
            review.len()
        );
    }
}
