//! Webhook fan-out benchmark against a running server: registers a poster, 10 agents
//! with the capability `ten` and N with `many`, every one with a webhook on a local
//! receiver (keep-alive HTTP/1.1 on 127.0.0.1, in this process) that verifies each
//! delivery's V1 and V2 signature with the agent's secret. Then, `rounds` times for each
//! group: posts one task matching it and times the post itself and the wait until every
//! agent of the group has a verified delivery. Also times posts made while a fan-out to
//! N is being delivered, and prints the server's RSS (`/proc/<pid>/status`).
//!
//! `cargo run --release -p heepr-e2e --example webhooks -- <base url> <server pid> <N> <rounds>`
//! (bench/webhooks.sh starts the server with HEEPR_OUTBOUND_ALLOW_HTTP/PRIVATE and
//! passes these.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> String {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    for p in parts {
        inner.update(p);
    }
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Default)]
struct Seen {
    /// path → secret
    secrets: HashMap<String, String>,
    /// task id → paths with a verified delivery, when the first and the last came
    by_task: HashMap<String, (HashSet<String>, Instant, Instant)>,
    bad: u64,
    requests: u64,
}

fn check(seen: &mut Seen, path: &str, headers: &[(String, String)], body: &[u8]) {
    seen.requests += 1;
    let h = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    };
    let Some(secret) = seen.secrets.get(path).cloned() else {
        seen.bad += 1;
        return;
    };
    let v1_ok = h("x-agentmarket-signature") == Some(&format!("sha256={}", hmac_sha256(secret.as_bytes(), &[body])));
    let v2_ok = h("x-agentmarket-signature-v2").is_some_and(|v| {
        let Some((t, sig)) = v.strip_prefix("t=").and_then(|r| r.split_once(",v1=")) else {
            return false;
        };
        let fresh = t.parse::<i64>().is_ok_and(|t| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            (now - t).abs() <= 300
        });
        fresh && sig == hmac_sha256(secret.as_bytes(), &[t.as_bytes(), b".", body])
    });
    let task = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["task"]["id"].as_str().map(str::to_owned));
    match task {
        Some(id) if v1_ok && v2_ok => {
            let now = Instant::now();
            let e = seen.by_task.entry(id).or_insert_with(|| (HashSet::new(), now, now));
            e.0.insert(path.to_owned());
            e.2 = now;
        }
        _ => seen.bad += 1,
    }
}

fn find(buf: &[u8], pat: &[u8]) -> Option<usize> {
    buf.windows(pat.len()).position(|w| w == pat)
}

/// One keep-alive connection: every complete request is checked and answered 200.
async fn serve(mut sock: TcpStream, seen: Arc<Mutex<Seen>>) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        while let Some(head_end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
            let mut lines = head.split("\r\n");
            let path = lines.next().and_then(|l| l.split(' ').nth(1)).unwrap_or("").to_owned();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .collect();
            let len: usize = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let end = head_end + 4 + len;
            if buf.len() < end {
                break;
            }
            check(&mut seen.lock().unwrap(), &path, &headers, &buf[head_end + 4..end]);
            buf.drain(..end);
            if sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await
                .is_err()
            {
                return;
            }
        }
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn rss(pid: &str) -> (f64, f64, f64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (kb("VmRSS:"), kb("VmHWM:"), kb("Threads:") * 1024.0)
}

async fn post(c: &reqwest::Client, url: &str, key: &str, body: Value) -> (u16, Value) {
    let r = c.post(url).header("X-API-Key", key).json(&body).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = format!("{}/compat/agentmarket/api", args[1]);
    let pid = args[2].clone();
    let n: usize = args[3].parse().unwrap();
    let rounds: usize = args[4].parse().unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(serve(sock, s2.clone()));
        }
    });

    let c = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let (st, v) = post(
        &c,
        &format!("{base}/agents/register"),
        "",
        json!({"name": "poster", "capabilities": ["poster"]}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let poster = v["data"]["api_key"].as_str().unwrap().to_owned();

    // Receivers, 16 registrations at a time.
    let groups = [("ten", 10usize), ("many", n)];
    let t = Instant::now();
    for (cap, count) in groups {
        let mut i = 0;
        while i < count {
            let batch: Vec<_> = (i..(i + 16).min(count))
                .map(|j| {
                    let (c, base) = (c.clone(), base.clone());
                    let path = format!("/{cap}/{j}");
                    let url = format!("http://127.0.0.1:{port}{path}");
                    tokio::spawn(async move {
                        let (st, v) = post(
                            &c,
                            &format!("{base}/agents/register"),
                            "",
                            json!({"name": format!("{cap} {j}"), "capabilities": [cap], "webhook_url": url}),
                        )
                        .await;
                        assert_eq!(st, 201, "{v}");
                        (path, v["data"]["webhook_secret"].as_str().unwrap().to_owned())
                    })
                })
                .collect();
            for h in batch {
                let (path, secret) = h.await.unwrap();
                seen.lock().unwrap().secrets.insert(path, secret);
            }
            i += 16;
        }
    }
    println!("registered {} receivers in {:.1} s", 10 + n, t.elapsed().as_secs_f64());
    let (rss_before, _, threads_before) = rss(&pid);

    let tasks_url = format!("{base}/tasks");
    let mut report = Vec::new();
    let mut during = Vec::new();
    for (cap, count) in groups {
        let (mut post_ms, mut all_ms, mut first_ms) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..rounds {
            let t0 = Instant::now();
            let (st, v) = post(
                &c,
                &tasks_url,
                &poster,
                json!({"title": format!("bench {cap} {r}"), "description": "Full text of the paper...",
                    "budget": 1, "required_capabilities": [cap]}),
            )
            .await;
            let posted = t0.elapsed();
            assert_eq!(st, 201, "{v}");
            let id = v["data"]["id"].as_str().unwrap().to_owned();
            if cap == "many" && r == 0 {
                // Posts while the big fan-out is under way (they match nobody).
                for k in 0..10 {
                    let t = Instant::now();
                    let (st, _) = post(
                        &c,
                        &tasks_url,
                        &poster,
                        json!({"title": format!("meanwhile {k}"), "budget": 1, "required_capabilities": ["nobody"]}),
                    )
                    .await;
                    assert_eq!(st, 201);
                    during.push(ms(t.elapsed()));
                }
            }
            let deadline = Instant::now() + Duration::from_secs(600);
            let (first_at, done_at) = loop {
                if let Some((paths, first, last)) = seen.lock().unwrap().by_task.get(&id)
                    && paths.len() == count
                {
                    break (*first, *last);
                }
                assert!(Instant::now() < deadline, "{cap} round {r}: not all delivered in 600 s");
                tokio::time::sleep(Duration::from_millis(5)).await;
            };
            post_ms.push(ms(posted));
            all_ms.push(ms(done_at - t0));
            first_ms.push(ms(first_at - t0));
        }
        report.push((cap, count, post_ms, all_ms, first_ms));
    }
    let (rss_after, hwm, threads) = rss(&pid);
    let s = seen.lock().unwrap();
    for (cap, count, mut post_ms, all_ms, first_ms) in report {
        let spread: Vec<f64> = all_ms.iter().zip(&first_ms).map(|(a, f)| a - f).collect();
        let round = |v: &[f64]| v.iter().map(|x| x.round() as u64).collect::<Vec<_>>();
        println!(
            "{count:>5} receivers ({cap}): post median {:.2} ms (max {:.2}); all delivered and verified after \
             median {:.0} ms {:?}; first one after median {:.0} ms {:?} (the worker wakes every 500 ms); \
             first to last median {:.0} ms {:?}",
            median(&mut post_ms),
            post_ms.iter().copied().fold(0.0, f64::max),
            median(&mut all_ms.clone()),
            round(&all_ms),
            median(&mut first_ms.clone()),
            round(&first_ms),
            median(&mut spread.clone()),
            round(&spread),
        );
    }
    println!(
        "posts while {n} deliveries were under way: median {:.2} ms (max {:.2})",
        median(&mut during.clone()),
        during.iter().copied().fold(0.0, f64::max)
    );
    println!(
        "server RSS: {rss_before:.1} MiB after registration, {rss_after:.1} MiB after, peak (VmHWM) {hwm:.1} MiB; \
         threads {threads_before} -> {threads}"
    );
    println!(
        "{} requests received (expected {}), {} failed verification",
        s.requests,
        (10 + n) * rounds,
        s.bad
    );
    assert_eq!(s.bad, 0, "every delivery verifies");
}
