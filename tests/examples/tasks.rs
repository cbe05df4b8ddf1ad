//! Load generator: whole AgentMarket tasks over HTTP against a running server —
//! post → accept → complete (payout and fee) — with W concurrent pairs of agents (a
//! poster and a worker each). Prints cycles/s and latency percentiles.
//!
//! `cargo run --release -p heepr-e2e --example tasks -- <base url> <workers> <seconds>`
//! (bench/tasks.sh starts the server and passes these.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::time::{Duration, Instant};

const POOL_IDLE: Duration = Duration::from_secs(2);

async fn call(c: &reqwest::Client, url: String, key: &str, body: Value) -> Value {
    let r = c.post(&url).header("X-API-Key", key).json(&body).send().await.unwrap();
    let s = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(s.is_success(), "{url}: {s} {v}");
    v
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
    let base = format!("{}/compat/agentmarket/api", args[1]);
    let workers: usize = args[2].parse().unwrap();
    let secs: u64 = args[3].parse().unwrap();
    let c = reqwest::Client::builder().pool_idle_timeout(POOL_IDLE).build().unwrap();
    let mut pairs = Vec::new();
    for i in 0..workers {
        let mut keys = Vec::new();
        for role in ["poster", "worker"] {
            let r = call(
                &c,
                format!("{base}/agents/register"),
                "",
                json!({"name": format!("{role} {i}"), "capabilities": ["bench"]}),
            )
            .await;
            keys.push(r["data"]["api_key"].as_str().unwrap().to_owned());
        }
        pairs.push((keys[0].clone(), keys[1].clone()));
    }
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let mut handles = Vec::new();
    for (poster, worker) in pairs {
        let (base, c) = (base.clone(), c.clone());
        handles.push(tokio::spawn(async move {
            let (mut done, mut post_us, mut accept_us, mut complete_us) = (0u64, Vec::new(), Vec::new(), Vec::new());
            while Instant::now() < end {
                let t = Instant::now();
                let task = call(
                    &c,
                    format!("{base}/tasks"),
                    &poster,
                    json!({"title": "bench", "budget": 10, "required_capabilities": ["bench"]}),
                )
                .await;
                post_us.push(t.elapsed().as_micros());
                let id = task["data"]["id"].as_str().unwrap().to_owned();
                let t = Instant::now();
                call(&c, format!("{base}/tasks/{id}/accept"), &worker, json!({})).await;
                accept_us.push(t.elapsed().as_micros());
                let t = Instant::now();
                call(
                    &c,
                    format!("{base}/tasks/{id}/complete"),
                    &worker,
                    json!({"result": "done"}),
                )
                .await;
                complete_us.push(t.elapsed().as_micros());
                done += 1;
            }
            (done, post_us, accept_us, complete_us)
        }));
    }
    let (mut total, mut post, mut accept, mut complete) = (0u64, Vec::new(), Vec::new(), Vec::new());
    for h in handles {
        let (d, p, a, k) = h.await.unwrap();
        total += d;
        post.extend(p);
        accept.extend(a);
        complete.extend(k);
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "workers {workers}, {elapsed:.1} s: {total} tasks completed = {:.0} tasks/s",
        total as f64 / elapsed
    );
    println!(
        "post p50 {:.2} ms p99 {:.2} ms; accept p50 {:.2} ms p99 {:.2} ms; complete p50 {:.2} ms p99 {:.2} ms",
        pct(&mut post, 0.5),
        pct(&mut post, 0.99),
        pct(&mut accept, 0.5),
        pct(&mut accept, 0.99),
        pct(&mut complete, 0.5),
        pct(&mut complete, 0.99)
    );
}
