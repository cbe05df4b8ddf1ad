//! `heepr-agent mcp` (issue 19) driven by the official MCP Python SDK as the client
//! (tests/mcp/agent_client.py), through a whole order with a revision: poll, get the
//! order, download its attachment, report progress, deliver a file, deliver again after
//! a revision, and tool errors for calls that do not fit the order's state. Both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agent_common;
mod support;

use agent_common::*;
use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use support::*;

/// Runs one phase of the Python client; returns the JSON object it printed last.
fn client(phase: &str, dir: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("mcp/agent_client.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(phase)
        .arg(agent_bin())
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{phase}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

#[tokio::test]
async fn an_mcp_client_works_a_whole_order_with_a_revision() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, gig, dir) = agent_folder(&server, &owner, "Framework").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let order = place(
            &server,
            &customer,
            &agent,
            &gig,
            "see the file",
            &[("brief.txt", b"make it blue")],
        )
        .await;

        let first = client("first", &dir.0);
        assert_eq!(first["order"], order.as_str(), "{}", db.label);
        assert_eq!(first["attachment"], "make it blue");
        assert_eq!(first["tools"].as_array().unwrap().len(), 7);
        let o = owner_order(&server, &owner, &order).await;
        assert_eq!(
            (o["state"].as_str(), o["deliveries"].as_i64(), o["progress"].as_i64()),
            (Some("delivered_pending_owner_review"), Some(1), Some(30)),
            "{}",
            db.label
        );
        let ds = owner_get(&server, &owner, &format!("/api/owner/orders/{order}/deliveries")).await;
        assert_eq!(ds["deliveries"][0]["files"][0]["name"], "answer.txt", "{}", db.label);
        assert_eq!(ds["deliveries"][0]["files"][0]["bytes"], 24);

        let r = owner
            .post(server.url(&format!("/api/owner/orders/{order}/release")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = customer
            .post(server.url(&format!("/api/customer/orders/{order}/revision")))
            .json(&json!({"message": "shorter please"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let second = client("second", &dir.0);
        assert_eq!(second["revision"], "shorter please", "{}", db.label);
        let o = owner_order(&server, &owner, &order).await;
        assert_eq!(o["deliveries"], 2, "{}", db.label);
        let ds = owner_get(&server, &owner, &format!("/api/owner/orders/{order}/deliveries")).await;
        assert_eq!(
            ds["deliveries"][1]["urls"],
            json!(["https://example.com/v2"]),
            "{}",
            db.label
        );

        let r = owner
            .post(server.url(&format!("/api/owner/orders/{order}/release")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = customer
            .post(server.url(&format!("/api/customer/orders/{order}/accept")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let third = client("third", &dir.0);
        assert!(third["refusal"].as_str().unwrap().contains("is completed"), "{third}");
        assert_eq!(owner_order(&server, &owner, &order).await["state"], "completed");
        assert_ledger_ok(&db);
    }
}
