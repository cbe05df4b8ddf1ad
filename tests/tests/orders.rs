//! A whole heepr order over HTTP, on both databases (SPEC §7–§10).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::*;

fn order_form(agent: &str, gig: &str, tier: &str) -> Value {
    json!({"agent_id": agent, "gig_id": gig, "tier": tier, "inputs": {"repo": "https://example.com/r", "lang": "rust"}, "brief": "Fix the panic"})
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn balance(c: &reqwest::Client, server: &Server) -> i64 {
    c.get(server.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["balance"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn agent_loop_from_attachment_to_payout() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Worker").await;
        let (_, other_key, _) = live_agent(&server, &owner, "Other").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let stranger = signup(&server, "stranger@example.com", false).await;
        let agent_http = reqwest::Client::new();

        // Place with an attachment (multipart: `order` JSON part + `files`).
        let brief_file = b"stack trace: thread 'main' panicked".to_vec();
        let form = Form::new()
            .text("order", order_form(&agent, &gig, "Basic").to_string())
            .part(
                "files",
                Part::bytes(brief_file.clone())
                    .file_name("../trace.txt")
                    .mime_str("text/plain")
                    .unwrap(),
            );
        let (s, order) = json_of(
            customer
                .post(server.url("/api/customer/orders"))
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201, "{order}");
        assert_eq!(order["state"], "in_progress", "{}: auto mode inside the band", db.label);
        let oid = order["id"].as_str().unwrap().to_owned();
        assert_eq!(balance(&customer, &server).await, 975);

        // new_order with the compact work payload and a bearer download URL.
        let evs = next_events(&server, &key).await;
        assert_eq!(evs.len(), 1);
        let ev = &evs[0];
        assert_eq!(
            (ev["k"].as_str(), ev["o"].as_str()),
            (Some("new_order"), Some(oid.as_str()))
        );
        assert_eq!(ev["in"]["lang"], "rust");
        assert!(ev["sf"].as_array().is_some_and(|r| !r.is_empty()));
        let at = &ev["at"][0];
        assert_eq!(at["n"], "trace.txt", "file names are sanitised");
        assert_eq!(at["h"], hex(&brief_file));
        let url = at["u"].as_str().unwrap();
        let file = order["attachments"][0]["id"].as_str().unwrap();
        assert_eq!(url, server.url(&format!("/api/orders/{oid}/attachments/{file}")));
        let r = agent_http.get(url).bearer_auth(&key).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"trace.txt\"");
        assert_eq!(r.bytes().await.unwrap().to_vec(), brief_file);
        assert_eq!(
            agent_http
                .get(url)
                .bearer_auth(&other_key)
                .send()
                .await
                .unwrap()
                .status(),
            404,
            "another agent's key"
        );
        assert_eq!(
            stranger
                .get(server.url(&format!("/api/customer/orders/{oid}")))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );

        // Deliver two files; the customer sees nothing until the owner releases.
        let form = Form::new()
            .text("note", "first cut")
            .part("files", Part::bytes(b"fn main() {}".to_vec()).file_name("main.rs"))
            .part("files", Part::bytes(b"# Fix".to_vec()).file_name("NOTES.md"));
        let (s, d) = json_of(
            agent_http
                .post(server.url(&format!("/api/orders/{oid}/deliver")))
                .bearer_auth(&key)
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201, "{d}");
        assert_eq!(d["order"]["state"], "delivered_pending_owner_review");
        let files = d["delivery"]["files"].as_array().unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0]["sha256"], hex(b"fn main() {}"));
        let fid = files[0]["id"].as_str().unwrap().to_owned();
        let (_, ds) = json_of(
            customer
                .get(server.url(&format!("/api/customer/orders/{oid}/deliveries")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(ds["deliveries"], json!([]), "not released yet");
        let r = customer
            .get(server.url(&format!("/api/customer/orders/{oid}/files/{fid}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "unreleased files are invisible to the customer");
        let r = owner
            .get(server.url(&format!("/api/owner/orders/{oid}/files/{fid}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "the owner always sees deliveries");

        let (s, _) = json_of(
            owner
                .post(server.url(&format!("/api/owner/orders/{oid}/release")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200);
        let (_, ds) = json_of(
            customer
                .get(server.url(&format!("/api/customer/orders/{oid}/deliveries")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(ds["deliveries"][0]["files"].as_array().unwrap().len(), 2);
        let r = customer
            .get(server.url(&format!("/api/customer/orders/{oid}/files/{fid}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.bytes().await.unwrap().as_ref(), b"fn main() {}");

        // Revision with full history, redelivery as JSON.
        let (s, o) = json_of(
            customer
                .post(server.url(&format!("/api/customer/orders/{oid}/revision")))
                .json(&json!({"message": "add a test"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((s, o["state"].as_str()), (200, Some("in_progress")));
        let evs = next_events(&server, &key).await;
        assert_eq!(evs[0]["k"], "revision_request");
        assert_eq!(evs[0]["rh"][0]["m"], "add a test");
        assert_eq!(evs[0]["rh"][0]["by"], "customer");
        assert_eq!(evs[0]["rl"], 0);
        let (s, _) = json_of(
            agent_http
                .post(server.url(&format!("/api/orders/{oid}/deliver")))
                .bearer_auth(&key)
                .json(&json!({"text": "added", "urls": ["https://example.com/pr/1"]}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201);
        owner
            .post(server.url(&format!("/api/owner/orders/{oid}/release")))
            .send()
            .await
            .unwrap();
        let (s, o) = json_of(
            customer
                .post(server.url(&format!("/api/customer/orders/{oid}/accept")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((s, o["state"].as_str()), (200, Some("completed")), "{}", db.label);
        let (s, _) = json_of(
            customer
                .post(server.url(&format!("/api/customer/orders/{oid}/accept")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 409, "accepting twice is invalid_state");

        assert_eq!(balance(&owner, &server).await, 1025, "owner credited (fee 0)");
        let (_, w) = json_of(owner.get(server.url("/api/wallet")).send().await.unwrap()).await;
        assert_eq!(w["balance"], 1025);
        assert_eq!(
            (w["transfers"][0]["amount"].as_i64(), w["transfers"][0]["kind"].as_str()),
            (Some(25), Some("payout"))
        );
        assert_eq!(w["transfers"][0]["order_id"], oid.as_str());
        let (_, w) = json_of(customer.get(server.url("/api/wallet?limit=1")).send().await.unwrap()).await;
        assert_eq!(
            (w["transfers"][0]["amount"].as_i64(), w["transfers"][0]["kind"].as_str()),
            (Some(-25), Some("escrow_hold"))
        );
        let cursor = w["next"].as_i64().unwrap();
        let (_, w) = json_of(
            customer
                .get(server.url(&format!("/api/wallet?cursor={cursor}")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(w["transfers"][0]["kind"], "starter_grant");
        assert_eq!(next_events(&server, &key).await[0]["k"], "order_completed");
        assert_ledger_ok(&db);
    }
}

fn hex(b: &[u8]) -> String {
    Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn missed_deadline_refunds_and_dispute_splits_escrow() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[("HEEPR_TEST_CLOCK", "true"), ("HEEPR_SCHEDULER_SECS", "3600")]);
        support::flow::create_support(&db);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Slow").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let agent_http = reqwest::Client::new();

        let (_, late) = json_of(
            customer
                .post(server.url("/api/customer/orders"))
                .json(&order_form(&agent, &gig, "Basic"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        let (_, disputed) = json_of(
            customer
                .post(server.url("/api/customer/orders"))
                .json(&order_form(&agent, &gig, "Pro"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        let (late, disputed) = (
            late["id"].as_str().unwrap().to_owned(),
            disputed["id"].as_str().unwrap().to_owned(),
        );
        assert_eq!(balance(&customer, &server).await, 1000 - 25 - 90);
        next_events(&server, &key).await;

        // Dispute the Pro order after a release.
        agent_http
            .post(server.url(&format!("/api/orders/{disputed}/deliver")))
            .bearer_auth(&key)
            .json(&json!({"text": "half"}))
            .send()
            .await
            .unwrap();
        owner
            .post(server.url(&format!("/api/owner/orders/{disputed}/release")))
            .send()
            .await
            .unwrap();
        let (s, o) = json_of(
            customer
                .post(server.url(&format!("/api/customer/orders/{disputed}/flag")))
                .json(&json!({"reason": "only half done"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((s, o["state"].as_str()), (200, Some("disputed")));

        // Time moves past the Basic deadline (2 days); the Pro one is disputed, so frozen.
        let http = browser();
        assert_eq!(
            http.post(server.url("/api/test/clock"))
                .json(&json!({"seconds": 3 * 86_400}))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let (_, t) = json_of(http.post(server.url("/api/test/timers")).send().await.unwrap()).await;
        assert_eq!(t["changed"], 1, "{}", db.label);
        let (_, o) = json_of(
            customer
                .get(server.url(&format!("/api/customer/orders/{late}")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(o["state"], "refunded");
        let evs = next_events(&server, &key).await;
        assert_eq!(
            (evs[0]["k"].as_str(), evs[0]["m"].as_str()),
            (Some("order_refunded"), Some("missed deadline"))
        );

        // Support resolves the dispute with a partial refund.
        let support = browser();
        let r = support
            .post(server.url("/api/auth/login"))
            .json(&json!({"email": "support@example.com", "password": "support password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let (_, q) = json_of(support.get(server.url("/api/admin/orders")).send().await.unwrap()).await;
        assert_eq!(q["orders"][0]["id"], disputed.as_str());
        assert_eq!(
            owner
                .get(server.url("/api/admin/orders"))
                .send()
                .await
                .unwrap()
                .status(),
            403,
            "owners are not support"
        );
        let (s, _) = json_of(
            support
                .post(server.url(&format!("/api/admin/orders/{disputed}/resolve")))
                .json(&json!({"refund": 91}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 422, "refund above the price");
        let (s, o) = json_of(
            support
                .post(server.url(&format!("/api/admin/orders/{disputed}/resolve")))
                .json(&json!({"refund": 40}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((s, o["state"].as_str()), (200, Some("completed")), "{}", db.label);
        assert_eq!(balance(&customer, &server).await, 1000 - 90 + 40);
        assert_eq!(balance(&owner, &server).await, 1000 + 50);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn bad_orders_and_deliveries_change_nothing() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[("HEEPR_MAX_FILE_BYTES", "1024")]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Strict").await;
        let (_, _, other_gig) = live_agent(&server, &owner, "Other").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let place = |body: Value| {
            let c = customer.clone();
            let url = server.url("/api/customer/orders");
            async move { json_of(c.post(url).json(&body).send().await.unwrap()).await }
        };
        let field = |v: &Value| v["error"]["field"].as_str().unwrap_or("").to_owned();

        let (s, b) = place(order_form(&agent, &gig, "Gold")).await;
        assert_eq!((s, field(&b).as_str()), (422, "tier"));
        let (s, b) = place(order_form(&agent, &other_gig, "Basic")).await;
        assert_eq!((s, field(&b).as_str()), (422, "gig_id"), "a gig of another agent");
        let mut missing = order_form(&agent, &gig, "Basic");
        missing["inputs"] = json!({"lang": "rust"});
        let (s, b) = place(missing).await;
        assert_eq!((s, field(&b).as_str()), (422, "inputs.repo"));
        let mut wrong = order_form(&agent, &gig, "Basic");
        wrong["inputs"]["lang"] = json!("cobol");
        assert_eq!(place(wrong).await.0, 422);
        let (s, b) = place(json!({"agent_id": "agt_nobody", "gig_id": gig, "tier": "Basic"})).await;
        assert_eq!(s, 404, "{b}");
        assert_eq!(balance(&customer, &server).await, 1000, "{}: nothing written", db.label);

        // Oversized file: 413 and no file left behind.
        let form = Form::new()
            .text("order", order_form(&agent, &gig, "Basic").to_string())
            .part("files", Part::bytes(vec![7u8; 4096]).file_name("big.bin"));
        let r = customer
            .post(server.url("/api/customer/orders"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);
        // Truncated multipart: 400.
        let r = customer
            .post(server.url("/api/customer/orders"))
            .header("content-type", "multipart/form-data; boundary=XYZ")
            .body("--XYZ\r\nContent-Disposition: form-data; name=\"order\"\r\n\r\n{\"agent_id\"")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);

        // Deliveries: empty, to a refunded order, by another agent.
        let (s, o) = place(order_form(&agent, &gig, "Basic")).await;
        assert_eq!(s, 201);
        let oid = o["id"].as_str().unwrap().to_owned();
        let http = reqwest::Client::new();
        let deliver = |body: Value, k: String| {
            let http = http.clone();
            let url = server.url(&format!("/api/orders/{oid}/deliver"));
            async move { json_of(http.post(url).bearer_auth(k).json(&body).send().await.unwrap()).await }
        };
        assert_eq!(deliver(json!({}), key.clone()).await.0, 422, "empty delivery");
        assert_eq!(deliver(json!({"urls": ["javascript:x"]}), key.clone()).await.0, 422);
        let (s, o) = json_of(
            http.post(server.url(&format!("/api/orders/{oid}/decline")))
                .bearer_auth(&key)
                .json(&json!({"reason": "capacity", "note": "  full this week "}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((s, o["state"].as_str()), (200, Some("refunded")));
        // The agent is told the reason with its (trimmed) note.
        let mut told = None;
        for _ in 0..50 {
            let evs = next_events(&server, &key).await;
            told = evs
                .into_iter()
                .find(|e| e["k"] == "order_refunded" && e["o"] == oid.as_str())
                .map(|e| e["m"].clone());
            if told.is_some() {
                break;
            }
        }
        assert_eq!(told, Some(json!("declined: capacity (full this week)")));
        let (s, b) = deliver(json!({"text": "late"}), key.clone()).await;
        assert_eq!((s, b["error"]["code"].as_str()), (409, Some("invalid_state")));
        let (s, b) = json_of(
            http.post(server.url(&format!("/api/orders/{oid}/decline")))
                .bearer_auth(&key)
                .json(&json!({"reason": "bored"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (400, Some("bad_json")),
            "unknown decline reason"
        );
        assert_eq!(balance(&customer, &server).await, 1000);
        let stored = std::fs::read_dir(server.data_dir().join("files"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name() != "tmp")
            .count();
        let temp = upload_temp_files(server.data_dir()).len();
        assert_eq!((stored, temp), (0, 0), "{}: no file left behind", db.label);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn idempotency_keys_replay_and_refuse_reuse() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Idem").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let place = |body: Value, k: &'static str| {
            let c = customer.clone();
            let url = server.url("/api/customer/orders");
            async move {
                json_of(
                    c.post(url)
                        .header("Idempotency-Key", k)
                        .json(&body)
                        .send()
                        .await
                        .unwrap(),
                )
                .await
            }
        };
        let (s1, a) = place(order_form(&agent, &gig, "Basic"), "k1").await;
        let (s2, b) = place(order_form(&agent, &gig, "Basic"), "k1").await;
        assert_eq!((s1, s2), (201, 201));
        assert_eq!(a["id"], b["id"], "{}: the retry returns the first result", db.label);
        assert_eq!(balance(&customer, &server).await, 975, "charged once");
        let (s, e) = place(order_form(&agent, &gig, "Pro"), "k1").await;
        assert_eq!((s, e["error"]["code"].as_str()), (422, Some("idempotency_key_reused")));

        let oid = a["id"].as_str().unwrap();
        let http = reqwest::Client::new();
        let deliver = || {
            http.post(server.url(&format!("/api/orders/{oid}/deliver")))
                .bearer_auth(&key)
                .header("Idempotency-Key", "d1")
                .json(&json!({"text": "done"}))
                .send()
        };
        let (s1, d1) = json_of(deliver().await.unwrap()).await;
        let (s2, d2) = json_of(deliver().await.unwrap()).await;
        assert_eq!((s1, s2), (201, 201), "a replayed delivery is not invalid_state");
        assert_eq!(d1["delivery"]["id"], d2["delivery"]["id"]);
        let (_, o) = json_of(
            owner
                .get(server.url(&format!("/api/owner/orders/{oid}")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(o["deliveries"], 1);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn owner_pause_rotate_and_package() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Pausable").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let http = reqwest::Client::new();

        let (s, a) = json_of(
            owner
                .post(server.url(&format!("/api/owner/agents/{agent}/pause")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((s, a["status"].as_str()), (200, Some("paused")));
        let (s, e) = json_of(
            customer
                .post(server.url("/api/customer/orders"))
                .json(&order_form(&agent, &gig, "Basic"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (409, Some("agent_paused")),
            "{}",
            db.label
        );
        assert_eq!(balance(&customer, &server).await, 1000);
        // The agent resumes itself through POST /api/status.
        let (s, st) = json_of(
            http.post(server.url("/api/status"))
                .bearer_auth(&key)
                .json(&json!({"status": "active"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((s, st["status"].as_str()), (200, Some("active")));
        let (s, _) = json_of(
            customer
                .post(server.url("/api/customer/orders"))
                .json(&order_form(&agent, &gig, "Basic"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201);

        // The package download carries no token.
        let r = owner
            .get(server.url(&format!("/api/owner/agents/{agent}/package")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/zip");
        let zip = r.bytes().await.unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
        let mut skill = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("SKILL.md").unwrap(), &mut skill).unwrap();
        assert!(
            !skill.contains("bs_"),
            "a later download renders SKILL.md without a token"
        );

        // Rotate: the live key dies at once; the emailed approval mints a new token.
        let (s, _) = json_of(
            owner
                .post(server.url(&format!("/api/owner/agents/{agent}/rotate")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 202);
        let (s, e) = json_of(
            http.get(server.url("/api/events"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (401, Some("key_revoked")),
            "{}",
            db.label
        );
        let code = approval_code(&server);
        let (s, setup) = json_of(
            owner
                .post(server.url("/api/owner/agents/approve"))
                .json(&json!({"code": code}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200);
        let r = http
            .post(server.url("/api/agent/register"))
            .header(
                "Authorization",
                format!("Bootstrap {}", setup["bootstrap_token"].as_str().unwrap()),
            )
            .json(&json!({"agent_id": agent}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "a fresh key after rotation");
        let new_key = r.json::<Value>().await.unwrap()["api_key"].as_str().unwrap().to_owned();
        let evs = next_events(&server, &new_key).await;
        assert_eq!(evs[0]["k"], "new_order", "undelivered events wait for the new key");
    }
}
