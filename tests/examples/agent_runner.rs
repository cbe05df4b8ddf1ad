//! Runner overhead: one `heepr-agent run` works N orders placed at once, with a command
//! that does nothing (`cat >/dev/null; echo done`), so what is measured is the runner:
//! its own CPU time (utime + stime of its process, not the commands') and the requests
//! it sent, per order.
//!
//! `cargo run --release -p heepr-e2e --example agent_runner -- <base url> <server log> <heepr-agent> <orders>`
//! (bench/agent_runner.sh starts the server and passes these.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

fn approval_code(log: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(rest) = text.split("owner/approve?code=").nth(1) {
            return rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
        }
        assert!(Instant::now() < deadline, "no approval email in the log");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = stat.rsplit(')').next().unwrap();
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields after the command name start at field 3 (state).
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (base, log, agent_bin, orders) = (&args[1], &args[2], &args[3], args[4].parse::<usize>().unwrap());
    let owner = client();
    post(
        &owner,
        format!("{base}/api/auth/signup"),
        json!({"email": "o@bench.test", "password": "correct horse battery"}),
    )
    .await;
    post(&owner, format!("{base}/api/me/owner"), json!({})).await;
    let wizard = json!({"name": "Bench", "description": "d", "categories": ["code"], "skills": [], "tools": [],
        "poll_minutes": 1, "accept_mode": {"mode": "auto", "bands": [{"price_min": 1, "price_max": 100, "categories": ["code"]}]},
        "gigs": [{"title": "T", "category": "code", "tiers": [{"name": "B", "price": 10, "delivery_days": 1, "revisions": 1}]}]});
    post(&owner, format!("{base}/api/owner/agents"), wizard).await;
    let setup = post(
        &owner,
        format!("{base}/api/owner/agents/approve"),
        json!({"code": approval_code(log)}),
    )
    .await;
    let agent = setup["agent_id"].as_str().unwrap().to_owned();
    let link = setup["bootstrap_link"]["url"].as_str().unwrap();
    let dir = std::env::temp_dir().join(format!("heepr-agent-bench-{}", std::process::id()));
    let st = Command::new(agent_bin)
        .args(["init", link, "--dir"])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success());
    let profile: Value = reqwest::get(format!("{base}/api/agents/{agent}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gig = profile["gigs"][0]["id"].as_str().unwrap().to_owned();
    let customer = client();
    post(
        &customer,
        format!("{base}/api/auth/signup"),
        json!({"email": "c@bench.test", "password": "correct horse battery"}),
    )
    .await;

    let mut runner = Command::new(agent_bin)
        .args(["run", "--dir"])
        .arg(&dir)
        .args(["--", "sh", "-c", "cat >/dev/null; echo done"])
        .env("RUST_LOG", "warn")
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // Registered and polling (it writes its pid file once STEP 0-2 are done).
    let runtime = dir.join(".heepr-agent/runtime.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !dir.join(".heepr-agent/pid").exists() || !runtime.exists() {
        assert!(Instant::now() < deadline, "the runner did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (cpu0, req0) = (cpu_ticks(runner.id()), requests(&runtime));
    let started = Instant::now();
    let mut ids = Vec::new();
    for _ in 0..orders {
        let o = post(
            &customer,
            format!("{base}/api/customer/orders"),
            json!({"agent_id": agent, "gig_id": gig, "tier": "B"}),
        )
        .await;
        ids.push(o["id"].as_str().unwrap().to_owned());
    }
    let last = ids.last().unwrap();
    loop {
        let v: Value = owner
            .get(format!("{base}/api/owner/orders/{last}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["deliveries"] == 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "not all delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    // The runner saves its counters after each event; read them once the last is saved.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (cpu1, req1) = (cpu_ticks(runner.id()), requests(&runtime));
    let _ = Command::new("kill").args(["-TERM", &runner.id().to_string()]).status();
    let _ = runner.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let tick_ms = 1000.0 / 100.0; // USER_HZ is 100 on Linux
    let cpu_ms = (cpu1 - cpu0) as f64 * tick_ms;
    println!(
        "orders {orders}: all delivered in {:.1} s ({:.1} orders/s); runner CPU {:.0} ms = {:.2} ms/order; requests {} = {:.2}/order",
        took.as_secs_f64(),
        orders as f64 / took.as_secs_f64(),
        cpu_ms,
        cpu_ms / orders as f64,
        req1 - req0,
        (req1 - req0) as f64 / orders as f64
    );
}

fn requests(runtime: &std::path::Path) -> u64 {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(runtime).unwrap()).unwrap();
    v["requests"].as_u64().unwrap()
}
