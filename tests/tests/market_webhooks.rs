//! AgentMarket webhooks (`task.posted`) against the real server and a real local HTTP
//! receiver, on both databases: exactly the overlapping agents get the seed's body with
//! the exact headers, an independent verifier in JavaScript (`tests/webhook-verifier.mjs`,
//! run with the machine's `node`) accepts the genuine signatures and refuses a changed
//! body, a wrong secret and a stale V2 timestamp; a failed first attempt is retried and
//! delivered; the delivery log shows it and its retry endpoint queues a delivery again;
//! without HEEPR_OUTBOUND_ALLOW_PRIVATE a loopback webhook is refused when it is set and
//! never called. The ledger is checked after each.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::market::call;
use support::peer::{Peer, Received, Reply};
use support::*;

/// A server that may call loopback over http (the local receiver), with the test clock.
fn start(db: &TestDb, private: bool) -> Server {
    let mut env = vec![
        ("HEEPR_OUTBOUND_ALLOW_HTTP", "true"),
        ("HEEPR_OUTBOUND_TIMEOUT_SECS", "5"),
        ("HEEPR_AM_REGISTER_LIMIT", "1000"),
        ("HEEPR_TEST_CLOCK", "1"),
    ];
    if private {
        env.push(("HEEPR_OUTBOUND_ALLOW_PRIVATE", "true"));
    }
    Server::start(db, &env)
}

/// A registered agent.
struct Agent {
    key: String,
    secret: Option<String>,
}

async fn register(server: &Server, name: &str, caps: &[&str], webhook: Option<String>) -> Agent {
    let mut body = json!({"name": name, "capabilities": caps, "owner_email": "me@example.com"});
    if let Some(w) = webhook {
        body["webhook_url"] = json!(w);
    }
    let (st, v) = call(server, "POST", "/agents/register", None, Some(body)).await;
    assert_eq!(st, 201, "{v}");
    Agent {
        key: v["data"]["api_key"].as_str().unwrap().to_owned(),
        secret: v["data"]["webhook_secret"].as_str().map(str::to_owned),
    }
}

/// Polls `f` (every 20 ms) until it answers, failing after 30 s.
async fn until<T, F: std::future::Future<Output = Option<T>>>(what: &str, mut f: impl FnMut() -> F) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn to(peer: &Peer, path: &str) -> Vec<Received> {
    peer.received
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path == path)
        .cloned()
        .collect()
}

async fn deliveries(server: &Server, key: &str) -> Vec<Value> {
    let (st, v) = call(server, "GET", "/agents/me/webhook/deliveries", Some(key), None).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["success"], true);
    assert!(v["balance"].is_i64(), "{v}");
    v["data"].as_array().unwrap().clone()
}

/// The one delivery of `key`'s log once `ready` holds for it.
async fn delivery_when(server: &Server, key: &str, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    until(what, || async {
        let list = deliveries(server, key).await;
        assert!(list.len() <= 1, "{list:?}");
        list.into_iter().next().filter(|d| ready(d))
    })
    .await
}

/// Runs the JavaScript verifier; whether it accepts.
fn node_accepts(dir: &Path, scheme: &str, body: &[u8], secret: &str, header: &str, now: Option<i64>) -> bool {
    let (b, s) = (dir.join("body"), dir.join("secret"));
    std::fs::write(&b, body).unwrap();
    std::fs::write(&s, secret).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("webhook-verifier.mjs");
    let mut cmd = std::process::Command::new("node");
    cmd.arg(script).arg(scheme).arg(&b).arg(&s).arg(header);
    if let Some(n) = now {
        cmd.arg(n.to_string());
    }
    let out = cmd
        .output()
        .expect("`node` must be installed to run the JavaScript verifier (.ci/run installs it)");
    match out.status.code() {
        Some(0) => true,
        Some(1) => false,
        other => panic!(
            "verifier failed ({other:?}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// The headers a delivery must carry, and no other `X-AgentMarket-…`.
fn assert_headers(r: &Received) {
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-agentmarket-event"), Some("task.posted"));
    let v1 = r.header("x-agentmarket-signature").unwrap();
    assert!(v1.starts_with("sha256=") && v1.len() == 7 + 64, "{v1}");
    let ts = r.header("x-agentmarket-timestamp").unwrap();
    assert!(ts.parse::<i64>().is_ok(), "{ts}");
    let v2 = r.header("x-agentmarket-signature-v2").unwrap();
    let (t, sig) = v2.strip_prefix("t=").unwrap().split_once(",v1=").unwrap();
    assert_eq!(t, ts, "the V2 timestamp is the timestamp header");
    assert_eq!(sig.len(), 64, "{v2}");
    let mut ours: Vec<String> = r
        .headers
        .iter()
        .map(|(k, _)| k.to_ascii_lowercase())
        .filter(|k| k.starts_with("x-agentmarket-"))
        .collect();
    ours.sort();
    assert_eq!(
        ours,
        [
            "x-agentmarket-event",
            "x-agentmarket-signature",
            "x-agentmarket-signature-v2",
            "x-agentmarket-timestamp"
        ]
    );
}

/// A log line without its colour codes.
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ … m
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn task_posted_reaches_the_overlapping_agents_signed_retried_and_logged() {
    for db in TestDb::all() {
        let label = db.label;
        let server = start(&db, true);
        // `/flaky` answers 500 the first time, every path 200 after.
        let flaky_calls = Arc::new(AtomicUsize::new(0));
        let calls = flaky_calls.clone();
        let peer = Peer::start(move |r| {
            if r.path == "/flaky" && calls.fetch_add(1, Ordering::SeqCst) == 0 {
                return Reply::raw(500, b"try later");
            }
            Reply::raw(200, b"ok")
        })
        .await;
        let poster = register(&server, "Poster", &["research"], Some(peer.url("/poster"))).await;
        let a = register(&server, "A", &["research", "coding"], Some(peer.url("/a"))).await;
        let b = register(&server, "B", &["summarization"], Some(peer.url("/flaky"))).await;
        let off_topic = register(&server, "C", &["design"], Some(peer.url("/c"))).await;
        let _no_hook = register(&server, "D", &["research"], None).await;
        let secret_a = a.secret.clone().unwrap();
        let secret_b = b.secret.clone().unwrap();
        assert!(secret_a.starts_with("whsec_") && secret_a != secret_b);

        let description = "Full text of the paper: webhooks must never log me";
        let (st, posted) = call(
            &server,
            "POST",
            "/tasks",
            Some(&poster.key),
            Some(
                json!({"title": "Summarize this research paper", "description": description,
                "budget": 25, "required_capabilities": ["research", "summarization"]}),
            ),
        )
        .await;
        assert_eq!(st, 201, "{posted}");
        let task = &posted["data"];

        let first_a = until("A's delivery", || async { to(&peer, "/a").into_iter().next() }).await;
        assert_headers(&first_a);
        let ts: i64 = first_a.header("x-agentmarket-timestamp").unwrap().parse().unwrap();
        assert!((ts - unix_now()).abs() < 60, "timestamp {ts} is now");
        assert_eq!(
            first_a.json(),
            json!({
                "event": "task.posted",
                "task": {
                    "id": task["id"], "title": "Summarize this research paper", "description": description,
                    "budget": 25, "required_capabilities": ["research", "summarization"],
                    "created_at": task["created_at"],
                },
                "marketplace_url": format!("{}/compat/agentmarket", server.base),
            }),
            "{label}"
        );
        // The seed's key order, byte for byte.
        let raw = String::from_utf8(first_a.body.clone()).unwrap();
        assert!(
            raw.starts_with("{\"event\":\"task.posted\",\"task\":{\"id\":\"")
                && raw.contains("},\"marketplace_url\":\""),
            "{raw}"
        );

        // The JavaScript verifier: genuine V1 and V2 pass; a changed body, the wrong
        // secret and a stale V2 timestamp do not.
        let scratch = TempDir::new();
        let dir = scratch.0.as_path();
        let (v1, v2) = (
            first_a.header("x-agentmarket-signature").unwrap(),
            first_a.header("x-agentmarket-signature-v2").unwrap(),
        );
        let body = first_a.body.as_slice();
        let changed = raw.replace("\"budget\":25", "\"budget\":2500").into_bytes();
        assert!(
            node_accepts(dir, "v1", body, &secret_a, v1, None),
            "{label}: genuine v1"
        );
        assert!(
            node_accepts(dir, "v2", body, &secret_a, v2, None),
            "{label}: genuine v2"
        );
        assert!(
            node_accepts(dir, "v2", body, &secret_a, v2, Some(ts + 300)),
            "at the edge"
        );
        assert!(
            !node_accepts(dir, "v1", &changed, &secret_a, v1, None),
            "changed body v1"
        );
        assert!(
            !node_accepts(dir, "v2", &changed, &secret_a, v2, None),
            "changed body v2"
        );
        assert!(!node_accepts(dir, "v1", body, &secret_b, v1, None), "wrong secret v1");
        assert!(!node_accepts(dir, "v2", body, &secret_b, v2, None), "wrong secret v2");
        assert!(
            !node_accepts(dir, "v2", body, &secret_a, v2, Some(ts + 301)),
            "stale v2"
        );
        assert!(
            !node_accepts(dir, "v2", body, &secret_a, v2, Some(ts - 301)),
            "from the future"
        );

        // B's first attempt got a 500: logged, and due again in 10 s ± 20 %.
        let failed = delivery_when(&server, &b.key, "B's failed attempt", |d| d["attempts"] == 1).await;
        assert_eq!(failed["status"], "pending", "{failed}");
        assert_eq!(failed["last_status"], 500, "{failed}");
        assert_eq!(failed["event"], "task.posted");
        assert_eq!(failed["task_id"], task["id"]);
        let flaky_url = peer.url("/flaky");
        assert_eq!(
            failed["url"],
            format!("...{}", &flaky_url[flaky_url.len() - 10..]),
            "masked"
        );
        assert!(failed["delivered_at"].is_null());
        assert!(failed["next_attempt_at"].is_string(), "{failed}");
        assert!(to(&peer, "/flaky").len() == 1, "not retried before its time");
        // Time moves 15 s: the retry is due and goes out with the very same body.
        let r = reqwest::Client::new()
            .post(server.url("/api/test/clock"))
            .json(&json!({"seconds": 15}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let delivered = delivery_when(&server, &b.key, "B's retry", |d| d["status"] == "delivered").await;
        assert_eq!(delivered["attempts"], 2, "{delivered}");
        assert_eq!(delivered["last_status"], 200);
        assert!(delivered["last_error"].is_null(), "{delivered}");
        assert!(delivered["delivered_at"].is_string() && delivered["next_attempt_at"].is_null());
        let to_b = to(&peer, "/flaky");
        assert_eq!(to_b.len(), 2, "{label}");
        assert_eq!(to_b[0].body, to_b[1].body, "every attempt sends the same bytes");
        assert_headers(&to_b[1]);
        let (v1b, v2b) = (
            to_b[1].header("x-agentmarket-signature").unwrap(),
            to_b[1].header("x-agentmarket-signature-v2").unwrap(),
        );
        let ts_b: i64 = to_b[1].header("x-agentmarket-timestamp").unwrap().parse().unwrap();
        assert!(node_accepts(dir, "v1", &to_b[1].body, &secret_b, v1b, None));
        assert!(node_accepts(dir, "v2", &to_b[1].body, &secret_b, v2b, Some(ts_b)));

        // Exactly the overlapping agents: not the poster, not the off-topic agent, not
        // the one without a webhook (their logs hold nothing at all).
        let a_log = delivery_when(&server, &a.key, "A's log", |d| d["status"] == "delivered").await;
        assert_eq!(
            (a_log["attempts"].clone(), a_log["last_status"].clone()),
            (json!(1), json!(200))
        );
        assert!(deliveries(&server, &off_topic.key).await.is_empty());
        assert!(deliveries(&server, &poster.key).await.is_empty());
        let paths: std::collections::BTreeSet<String> =
            peer.received.lock().unwrap().iter().map(|r| r.path.clone()).collect();
        assert_eq!(paths, ["/a".to_owned(), "/flaky".to_owned()].into(), "{label}");
        assert_eq!(to(&peer, "/a").len(), 1);

        // The retry endpoint queues A's delivery again: sent once more, logged.
        let id = a_log["id"].as_str().unwrap();
        let (st, v) = call(
            &server,
            "POST",
            &format!("/agents/me/webhook/deliveries/{id}/retry"),
            Some(&a.key),
            None,
        )
        .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["data"]["id"], id);
        assert_eq!(v["data"]["status"], "pending");
        assert!(v["balance"].is_i64());
        until("A's retried delivery", || async {
            (to(&peer, "/a").len() == 2).then_some(())
        })
        .await;
        let again = delivery_when(&server, &a.key, "A's retry logged", |d| d["attempts"] == 2).await;
        assert_eq!(again["status"], "delivered", "{again}");

        // Who may ask: no key → 401; another agent's delivery, or none → 404.
        for (method, path) in [
            ("GET", "/agents/me/webhook/deliveries".to_owned()),
            ("POST", format!("/agents/me/webhook/deliveries/{id}/retry")),
        ] {
            let (st, v) = call(&server, method, &path, None, None).await;
            assert_eq!(st, 401, "{method} {path}: {v}");
            assert_eq!(v["success"], false);
        }
        for (key, what) in [(&b.key, "B retries A's"), (&off_topic.key, "C retries A's")] {
            let (st, v) = call(
                &server,
                "POST",
                &format!("/agents/me/webhook/deliveries/{id}/retry"),
                Some(key),
                None,
            )
            .await;
            assert_eq!(st, 404, "{what}: {v}");
        }
        for bad in ["whd_01ARZ3NDEKTSV4RRFFQ69G5FAV", "nope", "whd_"] {
            let path = format!("/agents/me/webhook/deliveries/{bad}/retry");
            assert_eq!(call(&server, "POST", &path, Some(&a.key), None).await.0, 404, "{bad}");
        }
        let (st, _) = call(
            &server,
            "GET",
            "/agents/me/webhook/deliveries?limit=0",
            Some(&a.key),
            None,
        )
        .await;
        assert_eq!(st, 422);
        assert_eq!(to(&peer, "/a").len(), 2, "a refused retry sends nothing");

        // The log never shows a secret or a body.
        let mut lines = Vec::new();
        for _ in 0..3 {
            lines.extend(server.log_until("webhook delivered"));
        }
        for l in &lines {
            assert!(
                !l.contains(&secret_a) && !l.contains(&secret_b),
                "secret in the log: {l}"
            );
            assert!(!l.contains("never log me"), "body in the log: {l}");
        }
        drop(server);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn the_log_pages_newest_first() {
    for db in TestDb::all() {
        let server = start(&db, true);
        let peer = Peer::start(|_| Reply::raw(204, b"")).await;
        let poster = register(&server, "Poster", &["research"], None).await;
        let a = register(&server, "A", &["research"], Some(peer.url("/a"))).await;
        let mut tasks = Vec::new();
        for i in 0..3 {
            let (st, v) = call(
                &server,
                "POST",
                "/tasks",
                Some(&poster.key),
                Some(json!({"title": format!("Task {i}"), "budget": 5, "required_capabilities": ["research"]})),
            )
            .await;
            assert_eq!(st, 201, "{v}");
            tasks.push(v["data"]["id"].as_str().unwrap().to_owned());
            // One at a time, so the log's order is the posts' order.
            until("delivered", || async {
                let all = deliveries(&server, &a.key).await;
                (all.len() == i + 1 && all.iter().all(|d| d["status"] == "delivered")).then_some(())
            })
            .await;
        }
        let (st, p1) = call(
            &server,
            "GET",
            "/agents/me/webhook/deliveries?limit=2",
            Some(&a.key),
            None,
        )
        .await;
        assert_eq!(st, 200, "{p1}");
        let next = p1["next"].as_str().unwrap();
        let (_, p2) = call(
            &server,
            "GET",
            &format!("/agents/me/webhook/deliveries?limit=2&cursor={next}"),
            Some(&a.key),
            None,
        )
        .await;
        assert!(p2["next"].is_null(), "{p2}");
        let seen: Vec<&Value> = p1["data"]
            .as_array()
            .unwrap()
            .iter()
            .chain(p2["data"].as_array().unwrap())
            .map(|d| &d["task_id"])
            .collect();
        let newest_first: Vec<Value> = tasks.iter().rev().map(|t| json!(t)).collect();
        assert_eq!(seen, newest_first.iter().collect::<Vec<_>>(), "{}", db.label);
        assert_eq!(peer.count(), 3);
        drop(server);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn a_loopback_webhook_is_refused_when_set_and_never_called() {
    for db in TestDb::all() {
        let server = start(&db, false);
        // A bare listener: any connection at all is counted.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = connections.clone();
        let accept = tokio::spawn(async move {
            while listener.accept().await.is_ok() {
                seen.fetch_add(1, Ordering::SeqCst);
            }
        });
        let hook = format!("http://127.0.0.1:{port}/hook");

        let (st, v) = call(
            &server,
            "POST",
            "/agents/register",
            None,
            Some(json!({"name": "Local", "capabilities": ["research"], "webhook_url": hook})),
        )
        .await;
        assert_eq!((st, v["field"].clone()), (422, json!("webhook_url")), "{v}");
        let agent = register(&server, "Agent", &["research"], None).await;
        for url in [
            hook.clone(),
            format!("http://localhost:{port}/hook"),
            format!("http://[::1]:{port}/hook"),
        ] {
            let (st, v) = call(
                &server,
                "PUT",
                "/agents/me/webhook",
                Some(&agent.key),
                Some(json!({"webhook_url": url})),
            )
            .await;
            assert_eq!(st, 422, "{url}: {v}");
            assert_eq!(v["field"], "webhook_url");
            assert_eq!(v["success"], false);
        }
        let (_, v) = call(&server, "GET", "/agents/me/webhook", Some(&agent.key), None).await;
        assert!(v["data"]["webhook_url"].is_null(), "nothing stored: {v}");

        let poster = register(&server, "Poster", &["research"], None).await;
        let (st, _) = call(
            &server,
            "POST",
            "/tasks",
            Some(&poster.key),
            Some(json!({"title": "Anyone?", "budget": 5, "required_capabilities": ["research"]})),
        )
        .await;
        assert_eq!(st, 201);
        // The worker has seen the task once it reports its fan-out: nobody to tell.
        let line = server.wait_for_log("webhook fan-out expanded");
        assert!(plain(&line).contains("deliveries=0"), "{line}");
        assert!(deliveries(&server, &agent.key).await.is_empty());
        assert_eq!(connections.load(Ordering::SeqCst), 0, "the receiver got a connection");
        accept.abort();
        drop(server);
        assert_ledger_ok(&db);
    }
}
