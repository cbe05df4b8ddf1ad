//! The AgentMarket-compatible surface (seed 004) over HTTP against the real server, on
//! both databases: the Quick Start step by step, the ledger behind it, exactly one
//! winner under concurrency, direct execution against a real local HTTP server (paid,
//! refunded on every failure kind, refunded after a crash), bad input that changes
//! nothing, and keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use futures_util::future::join_all;
use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::market::{BASE, call};
use support::peer::{Peer, Reply};
use support::*;

/// A server that may call loopback over http (the local peers), with short outbound
/// limits and the test clock.
fn start(db: &TestDb, extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("HEEPR_OUTBOUND_ALLOW_HTTP", "true"),
        ("HEEPR_OUTBOUND_ALLOW_PRIVATE", "true"),
        ("HEEPR_OUTBOUND_TIMEOUT_SECS", "2"),
        ("HEEPR_OUTBOUND_MAX_BYTES", "4096"),
        ("HEEPR_AM_REGISTER_LIMIT", "1000"),
        ("HEEPR_TEST_CLOCK", "1"),
    ];
    env.extend_from_slice(extra);
    Server::start(db, &env)
}

/// Registers an agent; returns (id, key).
async fn register(server: &Server, name: &str, caps: &[&str], extra: Value) -> (String, String) {
    let mut body = json!({"name": name, "capabilities": caps, "owner_email": "me@example.com"});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let (st, v) = call(server, "POST", "/agents/register", None, Some(body)).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["success"], true);
    assert_eq!(v["balance"], 100, "{v}");
    (
        v["data"]["id"].as_str().unwrap().to_owned(),
        v["data"]["api_key"].as_str().unwrap().to_owned(),
    )
}

async fn balance(server: &Server, key: &str) -> i64 {
    let (st, v) = call(server, "GET", "/wallet", Some(key), None).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["balance"], v["balance"]);
    v["balance"].as_i64().unwrap()
}

async fn post_task(server: &Server, key: &str, budget: i64, caps: &[&str]) -> String {
    let body = json!({"title": "Summarize this research paper", "description": "Full text of the paper...",
        "budget": budget, "required_capabilities": caps});
    let (st, v) = call(server, "POST", "/tasks", Some(key), Some(body)).await;
    assert_eq!(st, 201, "{v}");
    v["data"]["id"].as_str().unwrap().to_owned()
}

/// An error answer in the seed's envelope with this status and code.
fn refused(label: &str, what: &str, got: (u16, Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "{label} {what}: {}", got.1);
    assert_eq!(got.1["success"], false, "{label} {what}");
    assert!(got.1["error"].as_str().is_some_and(|e| !e.is_empty()), "{label} {what}");
    assert_eq!(got.1["code"], code, "{label} {what}: {}", got.1);
}

#[tokio::test]
async fn quick_start_step_by_step_on_the_ledger() {
    for db in TestDb::all() {
        let label = db.label;
        let server = start(&db, &[]);
        let endpoint = Peer::start(|r| {
            let task: Value = r.json();
            Reply::json(
                200,
                json!({"result": format!("haiku for {}", task["task_description"].as_str().unwrap())}),
            )
        })
        .await;

        // 1. Register (the seed's body) → a key and 100 credits.
        let (bot, bot_key) = register(&server, "MyBot", &["coding"], json!({})).await;
        let (poster, poster_key) = register(&server, "ResearchBot", &["research", "summarization"], json!({})).await;
        let (me_st, me) = call(&server, "GET", "/agents/me", Some(&bot_key), None).await;
        assert_eq!(me_st, 200);
        assert_eq!(me["data"]["id"], bot.as_str());
        assert_eq!(me["data"]["capabilities"], json!(["coding"]));
        assert_eq!(me["balance"], 100);

        // A task: 100 → 75 at once.
        let task = post_task(&server, &poster_key, 25, &["coding"]).await;
        assert_eq!(balance(&server, &poster_key).await, 75, "{label}");

        // 2. Browse open tasks (no key: no balance).
        let (st, open) = call(&server, "GET", "/tasks?status=open", None, None).await;
        assert_eq!(st, 200);
        assert!(
            open.get("balance").is_none(),
            "{label}: anonymous answers carry no balance"
        );
        let listed = open["data"].as_array().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], task.as_str());
        assert_eq!(listed[0]["budget"], 25);
        assert_eq!(listed[0]["status"], "open");
        let (_, by_cap) = call(&server, "GET", "/tasks?status=open&capability=research", None, None).await;
        assert!(
            by_cap["data"].as_array().unwrap().is_empty(),
            "{label}: capability filter"
        );

        // 3. Accept.
        let (st, acc) = call(&server, "POST", &format!("/tasks/{task}/accept"), Some(&bot_key), None).await;
        assert_eq!(st, 200, "{acc}");
        assert_eq!(acc["data"]["status"], "assigned");
        assert_eq!(acc["data"]["assigned_to"], bot.as_str());
        assert_eq!(acc["balance"], 100);

        // 4. Complete: 25 at 10 % pays 22.
        let (st, done) = call(
            &server,
            "POST",
            &format!("/tasks/{task}/complete"),
            Some(&bot_key),
            Some(json!({"result": "Here is my completed work..."})),
        )
        .await;
        assert_eq!(st, 200, "{done}");
        assert_eq!(done["data"]["status"], "completed");
        assert_eq!(done["data"]["result"], "Here is my completed work...");
        assert_eq!(done["balance"], 122);
        assert_eq!(balance(&server, &bot_key).await, 122);
        // The poster reads the result; a stranger sees the task without it.
        let (_, seen) = call(&server, "GET", &format!("/tasks/{task}"), Some(&poster_key), None).await;
        assert_eq!(seen["data"]["result"], "Here is my completed work...");
        let (_, public) = call(&server, "GET", &format!("/tasks/{task}"), None, None).await;
        assert!(
            public["data"].get("result").is_none(),
            "{label}: results are for the parties"
        );
        let (_, profile) = call(&server, "GET", &format!("/agents/{bot}"), None, None).await;
        assert_eq!(profile["data"]["total_tasks"], 1);
        assert_eq!(profile["data"]["reputation_score"], 3.3);

        // 5. Or hire an agent directly: 75 → 60; the worker gets 13 of 15.
        let (worker, worker_key) = register(
            &server,
            "HaikuBot",
            &["poetry"],
            json!({"endpoint_url": endpoint.url("/execute"), "price_per_task": 15}),
        )
        .await;
        let (st, ex) = call(
            &server,
            "POST",
            "/execute",
            Some(&poster_key),
            Some(json!({"agent_id": worker, "task_description": "Write a haiku about distributed systems", "budget": 15})),
        )
        .await;
        assert_eq!(st, 200, "{label}: {ex}");
        assert_eq!(
            ex["data"]["result"],
            "haiku for Write a haiku about distributed systems"
        );
        assert!(ex["data"]["task_id"].as_str().unwrap().starts_with("tsk_"));
        assert_eq!(ex["balance"], 60);
        assert_eq!(balance(&server, &worker_key).await, 113);
        let sent = endpoint.last().json();
        assert_eq!(sent["task_id"], ex["data"]["task_id"]);
        assert_eq!(sent["budget"], 15);
        assert_eq!(sent["from_agent_id"], poster.as_str());

        // Lists: the seed's array plus a top-level cursor.
        let (_, page1) = call(&server, "GET", "/agents?limit=2", None, None).await;
        assert_eq!(page1["data"].as_array().unwrap().len(), 2);
        let next = page1["next"].as_str().unwrap().to_owned();
        let (_, page2) = call(&server, "GET", &format!("/agents?limit=2&cursor={next}"), None, None).await;
        assert_eq!(page2["data"].as_array().unwrap().len(), 1);
        assert!(page2.get("next").is_none() || page2["next"].is_null());
        let (_, coders) = call(&server, "GET", "/agents?capability=coding", None, None).await;
        assert_eq!(coders["data"].as_array().unwrap().len(), 1);

        // Cancel gives the budget back; only the poster, only while open.
        let t2 = post_task(&server, &poster_key, 10, &["coding"]).await;
        assert_eq!(balance(&server, &poster_key).await, 50);
        refused(
            label,
            "cancel by another",
            call(&server, "POST", &format!("/tasks/{t2}/cancel"), Some(&bot_key), None).await,
            403,
            "not_poster",
        );
        let (st, c) = call(&server, "POST", &format!("/tasks/{t2}/cancel"), Some(&poster_key), None).await;
        assert_eq!((st, c["data"]["status"].as_str()), (200, Some("cancelled")), "{c}");
        assert_eq!(c["balance"], 60);

        // An open task expires after 7 days and its budget returns.
        let t3 = post_task(&server, &poster_key, 20, &[]).await;
        assert_eq!(balance(&server, &poster_key).await, 40);
        let c = reqwest::Client::new();
        c.post(server.url("/api/test/clock"))
            .json(&json!({"seconds": 7 * 86_400}))
            .send()
            .await
            .unwrap();
        c.post(server.url("/api/test/timers")).send().await.unwrap();
        let (_, t3v) = call(&server, "GET", &format!("/tasks/{t3}"), None, None).await;
        assert_eq!(t3v["data"]["status"], "expired", "{label}");
        assert_eq!(balance(&server, &poster_key).await, 60);
        refused(
            label,
            "accept expired",
            call(&server, "POST", &format!("/tasks/{t3}/accept"), Some(&bot_key), None).await,
            409,
            "task_not_available",
        );

        drop(server);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn bad_input_gets_the_envelope_and_changes_nothing() {
    for db in TestDb::all() {
        let label = db.label;
        let server = start(&db, &[]);
        let (a, a_key) = register(&server, "A", &["x"], json!({})).await;
        let (_b, b_key) = register(&server, "B", &["x"], json!({})).await;
        let long = "y".repeat(201);
        let caps21: Vec<String> = (0..21).map(|i| format!("c{i}")).collect();
        let bad_registrations = [
            (json!({"capabilities": ["x"]}), "name"),
            (json!({"name": "n"}), "capabilities"),
            (json!({"name": "n", "capabilities": caps21}), "capabilities"),
            (json!({"name": "y".repeat(101), "capabilities": ["x"]}), "name"),
            (
                json!({"name": "n", "capabilities": ["x"], "webhook_url": "ftp://x.example"}),
                "webhook_url",
            ),
            (
                json!({"name": "n", "capabilities": ["x"], "price_per_task": -1}),
                "price_per_task",
            ),
            (json!({"name": "n\u{0}", "capabilities": ["x"]}), "name"),
        ];
        for (body, field) in bad_registrations {
            let got = call(&server, "POST", "/agents/register", None, Some(body.clone())).await;
            assert_eq!(got.1["field"], field, "{label}: {body}");
            refused(label, "register", got, 422, "validation_failed");
        }
        let bad_posts = [
            (json!({"title": "t", "budget": 0}), 422, "validation_failed"),
            (json!({"title": "t", "budget": -5}), 422, "validation_failed"),
            (json!({"title": "t", "budget": 101}), 402, "insufficient_credits"),
            (
                json!({"title": "t", "budget": 9_223_372_036_854_775_808u64}),
                422,
                "validation_failed",
            ),
            (json!({"title": "t", "budget": 1.5}), 422, "validation_failed"),
            (json!({"title": long, "budget": 5}), 422, "validation_failed"),
            (json!({"budget": 5}), 422, "validation_failed"),
            (
                json!({"title": "t", "budget": 5, "required_capabilities": (0..21).map(|i| i.to_string()).collect::<Vec<_>>()}),
                422,
                "validation_failed",
            ),
            (json!({"title": "t", "budget": 5, "surprise": 1}), 400, "bad_json"),
        ];
        for (body, status, code) in bad_posts {
            refused(
                label,
                &body.to_string(),
                call(&server, "POST", "/tasks", Some(&a_key), Some(body.clone())).await,
                status,
                code,
            );
        }
        let (_, none) = call(&server, "GET", "/tasks", None, None).await;
        assert!(
            none["data"].as_array().unwrap().is_empty(),
            "{label}: nothing was posted"
        );
        assert_eq!(balance(&server, &a_key).await, 100);

        // Auth: no key, a wrong key.
        refused(
            label,
            "no key",
            call(
                &server,
                "POST",
                "/tasks",
                None,
                Some(json!({"title": "t", "budget": 1})),
            )
            .await,
            401,
            "unauthorized",
        );
        refused(
            label,
            "bad key",
            call(&server, "GET", "/wallet", Some("amk_nope"), None).await,
            401,
            "unauthorized",
        );
        refused(
            label,
            "unknown task",
            call(&server, "POST", "/tasks/tsk_nope/accept", Some(&a_key), None).await,
            404,
            "not_found",
        );
        refused(
            label,
            "unknown route",
            call(&server, "GET", "/nowhere", None, None).await,
            404,
            "not_found",
        );
        refused(
            label,
            "bad status filter",
            call(&server, "GET", "/tasks?status=lost", None, None).await,
            422,
            "validation_failed",
        );
        refused(
            label,
            "bad limit",
            call(&server, "GET", "/agents?limit=0", None, None).await,
            422,
            "validation_failed",
        );

        // Task steps out of turn.
        let t = post_task(&server, &a_key, 10, &["x"]).await;
        refused(
            label,
            "own task",
            call(&server, "POST", &format!("/tasks/{t}/accept"), Some(&a_key), None).await,
            409,
            "own_task",
        );
        refused(
            label,
            "complete unassigned",
            call(
                &server,
                "POST",
                &format!("/tasks/{t}/complete"),
                Some(&b_key),
                Some(json!({"result": "r"})),
            )
            .await,
            409,
            "task_not_available",
        );
        call(&server, "POST", &format!("/tasks/{t}/accept"), Some(&b_key), None).await;
        refused(
            label,
            "accept assigned",
            call(&server, "POST", &format!("/tasks/{t}/accept"), Some(&b_key), None).await,
            409,
            "task_not_available",
        );
        refused(
            label,
            "complete by non-assignee",
            call(
                &server,
                "POST",
                &format!("/tasks/{t}/complete"),
                Some(&a_key),
                Some(json!({"result": "r"})),
            )
            .await,
            403,
            "not_assignee",
        );
        refused(
            label,
            "empty result",
            call(
                &server,
                "POST",
                &format!("/tasks/{t}/complete"),
                Some(&b_key),
                Some(json!({"result": " "})),
            )
            .await,
            422,
            "validation_failed",
        );
        refused(
            label,
            "cancel assigned",
            call(&server, "POST", &format!("/tasks/{t}/cancel"), Some(&a_key), None).await,
            409,
            "task_not_available",
        );
        let (st, _) = call(
            &server,
            "POST",
            &format!("/tasks/{t}/complete"),
            Some(&b_key),
            Some(json!({"result": "r"})),
        )
        .await;
        assert_eq!(st, 200);
        refused(
            label,
            "complete twice",
            call(
                &server,
                "POST",
                &format!("/tasks/{t}/complete"),
                Some(&b_key),
                Some(json!({"result": "r"})),
            )
            .await,
            409,
            "task_not_available",
        );
        assert_eq!(balance(&server, &b_key).await, 109, "{label}: paid once");

        // Execute refusals charge nothing.
        let (plain, _) = register(&server, "NoEndpoint", &["x"], json!({})).await;
        refused(
            label,
            "execute unknown",
            call(
                &server,
                "POST",
                "/execute",
                Some(&a_key),
                Some(json!({"agent_id": "agt_nope", "task_description": "d", "budget": 1})),
            )
            .await,
            404,
            "not_found",
        );
        refused(
            label,
            "execute self",
            call(
                &server,
                "POST",
                "/execute",
                Some(&a_key),
                Some(json!({"agent_id": a, "task_description": "d", "budget": 1})),
            )
            .await,
            422,
            "self_execution",
        );
        refused(
            label,
            "execute no endpoint",
            call(
                &server,
                "POST",
                "/execute",
                Some(&a_key),
                Some(json!({"agent_id": plain, "task_description": "d", "budget": 1})),
            )
            .await,
            422,
            "not_executable",
        );
        let (prompted, _) = register(&server, "Prompted", &["x"], json!({"system_prompt": "You are a poet"})).await;
        refused(
            label,
            "execute without an LLM",
            call(
                &server,
                "POST",
                "/execute",
                Some(&a_key),
                Some(json!({"agent_id": prompted, "task_description": "d", "budget": 1})),
            )
            .await,
            422,
            "llm_not_configured",
        );
        let (priced, _) = register(
            &server,
            "Priced",
            &["x"],
            json!({"endpoint_url": "http://127.0.0.1:9/x", "price_per_task": 50}),
        )
        .await;
        refused(
            label,
            "below price",
            call(
                &server,
                "POST",
                "/execute",
                Some(&a_key),
                Some(json!({"agent_id": priced, "task_description": "d", "budget": 49})),
            )
            .await,
            422,
            "validation_failed",
        );
        refused(
            label,
            "above balance",
            call(
                &server,
                "POST",
                "/execute",
                Some(&a_key),
                Some(json!({"agent_id": priced, "task_description": "d", "budget": 1000})),
            )
            .await,
            402,
            "insufficient_credits",
        );
        assert_eq!(balance(&server, &a_key).await, 90, "{label}: refusals charged nothing");

        drop(server);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn thirty_two_agents_accepting_one_task_leave_one_winner() {
    for db in TestDb::all() {
        let label = db.label;
        let server = start(&db, &[]);
        let (_, poster) = register(&server, "Poster", &["x"], json!({})).await;
        let mut keys = Vec::new();
        for i in 0..32 {
            keys.push(register(&server, &format!("W{i}"), &["x"], json!({})).await.1);
        }
        let task = post_task(&server, &poster, 30, &["x"]).await;
        let path = format!("/tasks/{task}/accept");
        let answers = join_all(keys.iter().map(|k| call(&server, "POST", &path, Some(k), None))).await;
        let winners: Vec<&(u16, Value)> = answers.iter().filter(|(s, _)| *s == 200).collect();
        assert_eq!(winners.len(), 1, "{label}: {answers:?}");
        for (s, v) in answers.iter().filter(|(s, _)| *s != 200) {
            assert_eq!(
                (*s, v["code"].as_str()),
                (409, Some("task_not_available")),
                "{label}: {v}"
            );
        }
        let (_, t) = call(&server, "GET", &format!("/tasks/{task}"), None, None).await;
        assert_eq!(t["data"]["assigned_to"], winners[0].1["data"]["assigned_to"]);
        drop(server);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn execution_is_refunded_on_every_failure_and_runs_prompts_through_the_llm() {
    for db in TestDb::all() {
        let label = db.label;
        let llm = Peer::start(|r| {
            let req: Value = r.json();
            assert_eq!(req["messages"][0]["role"], "system");
            let answer = format!(
                "{} says: {}",
                req["messages"][0]["content"].as_str().unwrap(),
                req["messages"][1]["content"].as_str().unwrap()
            );
            Reply::json(
                200,
                json!({"choices": [{"message": {"role": "assistant", "content": answer}}]}),
            )
        })
        .await;
        let llm_url = llm.url("/v1/chat/completions");
        let server = start(&db, &[("HEEPR_LLM_URL", &llm_url), ("HEEPR_LLM_API_KEY", "sk-test")]);
        let (_, caller) = register(&server, "Caller", &["x"], json!({})).await;
        let failing = Peer::start(|r| match r.path.as_str() {
            "/500" => Reply::json(500, json!({"error": "boom"})),
            "/404" => Reply::json(404, json!({})),
            "/slow" => Reply {
                delay: Duration::from_secs(5),
                ..Reply::json(200, json!({"result": "too late"}))
            },
            "/big" => Reply::raw(200, format!("{{\"result\":\"{}\"}}", "z".repeat(10_000)).as_bytes()),
            "/garbage" => Reply::raw(200, b"not json"),
            _ => Reply::json(200, json!({"no_result": true})),
        })
        .await;
        // A port with nothing listening: bind one, then free it.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut kinds: Vec<(String, String)> = ["/500", "/404", "/slow", "/big", "/garbage", "/shape"]
            .iter()
            .map(|p| (p.to_string(), failing.url(p)))
            .collect();
        kinds.push(("refused".into(), format!("http://127.0.0.1:{closed}/x")));
        for (what, url) in kinds {
            let (target, _) = register(&server, &format!("T{what}"), &["x"], json!({"endpoint_url": url})).await;
            let started = Instant::now();
            let (st, v) = call(
                &server,
                "POST",
                "/execute",
                Some(&caller),
                Some(json!({"agent_id": target, "task_description": "d", "budget": 10})),
            )
            .await;
            assert_eq!(st, 502, "{label} {what}: {v}");
            assert_eq!(v["success"], false);
            assert_eq!(v["code"], "execution_failed", "{label} {what}");
            assert!(
                v["error"].as_str().unwrap().contains("10 credits refunded"),
                "{label} {what}: {v}"
            );
            assert_eq!(v["balance"], 100, "{label} {what}: refunded");
            assert!(
                started.elapsed() < Duration::from_secs(4),
                "{label} {what}: bounded by the 2 s limit"
            );
            let (_, prof) = call(&server, "GET", &format!("/agents/{target}"), None, None).await;
            assert_eq!(
                prof["data"]["reputation_score"], 1.7,
                "{label} {what}: a failure counts against the target"
            );
        }
        // A system_prompt agent runs through the operator's chat-completions endpoint.
        let (poet, poet_key) = register(&server, "Poet", &["x"], json!({"system_prompt": "You are a poet"})).await;
        let (st, v) = call(
            &server,
            "POST",
            "/execute",
            Some(&caller),
            Some(json!({"agent_id": poet, "task_description": "a haiku", "budget": 10})),
        )
        .await;
        assert_eq!(st, 200, "{label}: {v}");
        assert_eq!(v["data"]["result"], "You are a poet says: a haiku");
        assert_eq!(v["balance"], 90);
        assert_eq!(balance(&server, &poet_key).await, 109);
        assert_eq!(llm.last().header("authorization"), Some("Bearer sk-test"));
        drop(server);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn a_hold_left_by_a_crash_is_refunded_after_the_time_out() {
    for db in TestDb::all() {
        let label = db.label;
        let stall = Peer::start(|_| Reply {
            delay: Duration::from_secs(60),
            ..Reply::json(200, json!({"result": "never"}))
        })
        .await;
        let env = [("HEEPR_OUTBOUND_TIMEOUT_SECS", "30")];
        let server = start(&db, &env);
        let (_, caller) = register(&server, "Caller", &["x"], json!({})).await;
        let (target, _) = register(&server, "Stall", &["x"], json!({"endpoint_url": stall.url("/x")})).await;
        let url = server.url(&format!("{BASE}/execute"));
        let key = caller.clone();
        let inflight = tokio::spawn(async move {
            let _ = reqwest::Client::new()
                .post(url)
                .header("X-API-Key", key)
                .json(&json!({"agent_id": target, "task_description": "d", "budget": 40}))
                .send()
                .await;
        });
        // The hold is made once the target is being called.
        let deadline = Instant::now() + Duration::from_secs(20);
        while stall.count() == 0 {
            assert!(Instant::now() < deadline, "{label}: the target was never called");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(balance(&server, &caller).await, 60, "{label}: held");
        let data = server.kill();
        inflight.abort();
        let server = Server::start_in(
            &db,
            data,
            &[
                ("HEEPR_OUTBOUND_ALLOW_HTTP", "true"),
                ("HEEPR_OUTBOUND_ALLOW_PRIVATE", "true"),
                ("HEEPR_OUTBOUND_TIMEOUT_SECS", "30"),
                ("HEEPR_TEST_CLOCK", "1"),
            ],
        );
        assert_eq!(
            balance(&server, &caller).await,
            60,
            "{label}: still held after the restart"
        );
        let c = reqwest::Client::new();
        c.post(server.url("/api/test/clock"))
            .json(&json!({"seconds": 61}))
            .send()
            .await
            .unwrap();
        let r: Value = c
            .post(server.url("/api/test/timers"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(r["changed"].as_u64().unwrap() >= 1, "{label}: {r}");
        assert_eq!(
            balance(&server, &caller).await,
            100,
            "{label}: refunded by the scheduler"
        );
        drop(server);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn keys_rotate_registrations_are_limited_and_private_urls_are_refused() {
    for db in TestDb::all() {
        let label = db.label;
        // Default outbound policy: https only, no private addresses.
        let server = Server::start(&db, &[("HEEPR_AM_REGISTER_LIMIT", "3")]);
        for (url, what) in [
            ("http://hooks.example/x", "http"),
            ("https://127.0.0.1/x", "loopback"),
            ("https://[::1]/x", "ipv6 loopback"),
            ("https://10.0.0.1/x", "private"),
            ("https://localhost/x", "localhost"),
        ] {
            let got = call(
                &server,
                "POST",
                "/agents/register",
                None,
                Some(json!({"name": "n", "capabilities": ["x"], "webhook_url": url})),
            )
            .await;
            assert_eq!(got.1["field"], "webhook_url", "{label} {what}");
            refused(label, what, got, 422, "validation_failed");
        }
        let (_, key) = register(&server, "A", &["x"], json!({})).await;
        let (st, v) = call(&server, "POST", "/agents/me/key/rotate", Some(&key), None).await;
        assert_eq!(st, 200, "{v}");
        let new_key = v["data"]["api_key"].as_str().unwrap().to_owned();
        refused(
            label,
            "old key",
            call(&server, "GET", "/wallet", Some(&key), None).await,
            401,
            "key_revoked",
        );
        assert_eq!(balance(&server, &new_key).await, 100);
        let (st, v) = call(
            &server,
            "PUT",
            "/agents/me/webhook",
            Some(&new_key),
            Some(json!({"webhook_url": "https://hooks.example/webhooks/agentmarket"})),
        )
        .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["data"]["webhook_url"], "...gentmarket");
        assert!(v["data"]["webhook_secret"].as_str().unwrap().starts_with("whsec_"));
        let (_, v) = call(&server, "GET", "/agents/me/webhook", Some(&new_key), None).await;
        assert_eq!(v["data"]["webhook_url"], "...gentmarket");
        assert!(
            v["data"].get("webhook_secret").is_none(),
            "{label}: the secret is shown once"
        );
        refused(
            label,
            "private webhook",
            call(
                &server,
                "PUT",
                "/agents/me/webhook",
                Some(&new_key),
                Some(json!({"webhook_url": "https://192.168.1.1/x"})),
            )
            .await,
            422,
            "validation_failed",
        );
        // Two more registrations fit the limit of 3 per hour (one was used), then 429.
        register(&server, "B", &["x"], json!({})).await;
        register(&server, "C", &["x"], json!({})).await;
        refused(
            label,
            "over the limit",
            call(
                &server,
                "POST",
                "/agents/register",
                None,
                Some(json!({"name": "D", "capabilities": ["x"]})),
            )
            .await,
            429,
            "too_many_attempts",
        );
        drop(server);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn a_retried_post_with_an_idempotency_key_posts_once() {
    for db in TestDb::all() {
        let label = db.label;
        let server = start(&db, &[]);
        let (_, key) = register(&server, "A", &["x"], json!({})).await;
        let body = json!({"title": "once", "budget": 30});
        let send = || {
            reqwest::Client::new()
                .post(server.url(&format!("{BASE}/tasks")))
                .header("X-API-Key", &key)
                .header("Idempotency-Key", "post-1")
                .json(&body)
                .send()
        };
        let answers = join_all((0..8).map(|_| async {
            let r = send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }))
        .await;
        for a in &answers {
            assert_eq!(a, &answers[0], "{label}: every retry answers the first answer");
        }
        assert_eq!(answers[0].0, 201);
        assert_eq!(balance(&server, &key).await, 70, "{label}: held once");
        let (_, list) = call(&server, "GET", "/tasks", None, None).await;
        assert_eq!(list["data"].as_array().unwrap().len(), 1);
        drop(server);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn a_heepr_agent_works_the_board_with_its_key_unless_suspended() {
    for db in TestDb::all() {
        let label = db.label;
        let server = start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, sk, _) = live_agent(&server, &owner, "Heepr").await;
        let (_, poster) = register(&server, "Poster", &["x"], json!({})).await;
        let t = post_task(&server, &poster, 20, &["x"]).await;
        let (st, me) = call(&server, "GET", "/agents/me", Some(&sk), None).await;
        assert_eq!(st, 200, "{me}");
        assert_eq!(me["data"]["id"], agent.as_str());
        assert_eq!(me["data"]["kind"], "heepr");
        assert!(
            !me["data"]["capabilities"].as_array().unwrap().is_empty(),
            "{label}: categories as capabilities"
        );
        assert_eq!(me["balance"], 0);
        let (st, _) = call(&server, "POST", &format!("/tasks/{t}/accept"), Some(&sk), None).await;
        assert_eq!(st, 200);
        let (st, v) = call(
            &server,
            "POST",
            &format!("/tasks/{t}/complete"),
            Some(&sk),
            Some(json!({"result": "done"})),
        )
        .await;
        assert_eq!((st, v["balance"].as_i64()), (200, Some(18)), "{label}: {v}");
        // Bearer works as well as X-API-Key.
        let w: Value = reqwest::Client::new()
            .get(server.url(&format!("{BASE}/wallet")))
            .bearer_auth(&sk)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(w["balance"], 18);
        // Suspended by support: no more work on the board (seen within the key cache's second).
        let mut c = heepr_store::DbTarget::parse(&db.url).unwrap().establish().unwrap();
        use diesel::RunQueryDsl;
        diesel::sql_query(format!("UPDATE agents SET suspended = TRUE WHERE id = '{agent}'"))
            .execute(&mut c)
            .unwrap();
        let t2 = post_task(&server, &poster, 5, &["x"]).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = call(&server, "POST", &format!("/tasks/{t2}/accept"), Some(&sk), None).await;
            if got.0 == 403 {
                refused(label, "suspended accept", got, 403, "agent_suspended");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{label}: suspension never took effect: {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(server);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn every_board_route_checks_who_is_asking() {
    for db in TestDb::all() {
        let label = db.label;
        let endpoint = Peer::start(|_| Reply::json(200, json!({"result": "ok"}))).await;
        let server = start(&db, &[]);
        let (a, a_key) = register(&server, "A", &["x"], json!({})).await;
        let (_, b_key) = register(&server, "B", &["x"], json!({})).await;
        let (t, _) = register(&server, "T", &["x"], json!({"endpoint_url": endpoint.url("/x")})).await;
        let (_, revoked) = register(&server, "R", &["x"], json!({})).await;
        call(&server, "POST", "/agents/me/key/rotate", Some(&revoked), None).await;
        let task = post_task(&server, &a_key, 5, &["x"]).await;
        let (st, ex) = call(
            &server,
            "POST",
            "/execute",
            Some(&a_key),
            Some(json!({"agent_id": t, "task_description": "d", "budget": 1})),
        )
        .await;
        assert_eq!(st, 200, "{ex}");
        let exec_task = ex["data"]["task_id"].as_str().unwrap().to_owned();

        let keyed: Vec<(&str, String, Option<Value>)> = vec![
            ("GET", "/agents/me".into(), None),
            ("GET", "/agents/me/webhook".into(), None),
            ("PUT", "/agents/me/webhook".into(), Some(json!({"webhook_url": null}))),
            ("POST", "/agents/me/key/rotate".into(), None),
            ("POST", "/tasks".into(), Some(json!({"title": "t", "budget": 1}))),
            ("POST", format!("/tasks/{task}/accept"), None),
            ("POST", format!("/tasks/{task}/complete"), Some(json!({"result": "r"}))),
            ("POST", format!("/tasks/{task}/cancel"), None),
            ("GET", "/wallet".into(), None),
            ("GET", "/agents/me/webhook/deliveries".into(), None),
            ("POST", "/agents/me/webhook/deliveries/whd_x/retry".into(), None),
            (
                "POST",
                "/execute".into(),
                Some(json!({"agent_id": t, "task_description": "d", "budget": 1})),
            ),
        ];
        let session = signup(&server, "browser@example.com", false).await;
        for (method, path, body) in &keyed {
            refused(
                label,
                &format!("anonymous {method} {path}"),
                call(&server, method, path, None, body.clone()).await,
                401,
                "unauthorized",
            );
            refused(
                label,
                &format!("revoked {method} {path}"),
                call(&server, method, path, Some(&revoked), body.clone()).await,
                401,
                "key_revoked",
            );
            // A browser session is not a board key.
            let r = session
                .request(method.parse().unwrap(), server.url(&format!("{BASE}{path}")))
                .header("X-Heepr-Client", "1")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401, "{label}: session on {method} {path}");
        }
        // Public reads answer without a key; a direct execution only to its parties.
        for path in ["/agents", &format!("/agents/{a}"), "/tasks", &format!("/tasks/{task}")] {
            assert_eq!(call(&server, "GET", path, None, None).await.0, 200, "{label}: {path}");
        }
        refused(
            label,
            "stranger reads an execution",
            call(&server, "GET", &format!("/tasks/{exec_task}"), Some(&b_key), None).await,
            404,
            "not_found",
        );
        refused(
            label,
            "anonymous reads an execution",
            call(&server, "GET", &format!("/tasks/{exec_task}"), None, None).await,
            404,
            "not_found",
        );
        let (st, mine) = call(&server, "GET", &format!("/tasks/{exec_task}"), Some(&a_key), None).await;
        assert_eq!(
            (st, mine["data"]["result"].as_str()),
            (200, Some("ok")),
            "{label}: the caller reads its execution"
        );
        refused(
            label,
            "stranger accepts an execution",
            call(
                &server,
                "POST",
                &format!("/tasks/{exec_task}/accept"),
                Some(&b_key),
                None,
            )
            .await,
            404,
            "not_found",
        );
        drop(server);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn a_keyed_execution_retried_is_charged_and_called_once() {
    for db in TestDb::all() {
        let label = db.label;
        let endpoint = Peer::start(|_| Reply::json(200, json!({"result": "once"}))).await;
        let server = start(&db, &[]);
        let (_, caller) = register(&server, "Caller", &["x"], json!({})).await;
        let (target, target_key) = register(&server, "T", &["x"], json!({"endpoint_url": endpoint.url("/x")})).await;
        let body = json!({"agent_id": target, "task_description": "d", "budget": 20});
        let send = || async {
            let r = reqwest::Client::new()
                .post(server.url(&format!("{BASE}/execute")))
                .header("X-API-Key", &caller)
                .header("Idempotency-Key", "exec-1")
                .json(&body)
                .send()
                .await
                .unwrap();
            let replayed = r.headers().contains_key("idempotent-replayed");
            (r.status().as_u16(), r.text().await.unwrap(), replayed)
        };
        let first = send().await;
        assert_eq!(first.0, 200, "{label}: {}", first.1);
        let again = send().await;
        assert_eq!(
            (again.0, &again.1, again.2),
            (200, &first.1, true),
            "{label}: the retry replays the settled answer"
        );
        assert_eq!(endpoint.count(), 1, "{label}: the target was called once");
        assert_eq!(balance(&server, &caller).await, 80, "{label}: charged once");
        assert_eq!(balance(&server, &target_key).await, 118);
        // The same key with another request is refused.
        let other = reqwest::Client::new()
            .post(server.url(&format!("{BASE}/execute")))
            .header("X-API-Key", &caller)
            .header("Idempotency-Key", "exec-1")
            .json(&json!({"agent_id": target, "task_description": "other", "budget": 20}))
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), 422, "{label}");
        drop(server);
        assert_ledger_ok(&db);
    }
}
