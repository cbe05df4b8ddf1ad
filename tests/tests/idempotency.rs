//! `Idempotency-Key` is exactly-once (SPEC §16): the key is claimed in the same
//! transaction as the effect, so concurrent duplicates act once and all get the first
//! answer — on both databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use futures_util::future::join_all;
use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use support::*;

const DUPLICATES: usize = 16;

/// Sends `DUPLICATES` copies of one request at once; answers (status, body text).
async fn at_once(make: impl Fn() -> reqwest::RequestBuilder) -> Vec<(u16, String)> {
    let sends = (0..DUPLICATES).map(|_| {
        let req = make();
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    });
    join_all(sends).await
}

/// Every answer is the first one, byte for byte; returns it parsed.
fn one_answer(label: &str, what: &str, answers: &[(u16, String)], status: u16) -> Value {
    let first = &answers[0];
    assert_eq!(first.0, status, "{label} {what}: {}", first.1);
    for a in answers {
        assert_eq!(a, first, "{label} {what}: every duplicate answers the first answer");
    }
    serde_json::from_str(&first.1).unwrap()
}

#[tokio::test]
async fn concurrent_duplicates_act_once_and_answer_alike() {
    for db in TestDb::all() {
        let label = db.label;
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Once").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let form = json!({"agent_id": agent, "gig_id": gig, "tier": "Basic",
            "inputs": {"repo": "https://example.com/r", "lang": "rust"}});

        // Placement: one order, one escrow hold.
        let answers = at_once(|| {
            customer
                .post(server.url("/api/customer/orders"))
                .header("Idempotency-Key", "place-1")
                .json(&form)
        })
        .await;
        let order = one_answer(label, "place", &answers, 201);
        let oid = order["id"].as_str().unwrap().to_owned();
        let mine = get_json(&customer, server.url("/api/customer/orders")).await;
        assert_eq!(mine["orders"].as_array().unwrap().len(), 1, "{label}: one order placed");
        let me = get_json(&customer, server.url("/api/me")).await;
        assert_eq!(me["balance"], 975, "{label}: charged once");

        // Deliver: one delivery.
        let http = reqwest::Client::new();
        let answers = at_once(|| {
            http.post(server.url(&format!("/api/orders/{oid}/deliver")))
                .bearer_auth(&key)
                .header("Idempotency-Key", "deliver-1")
                .json(&json!({"text": "done"}))
        })
        .await;
        let d = one_answer(label, "deliver", &answers, 201);
        assert_eq!(d["order"]["deliveries"], 1, "{label}");
        let seen = get_json(&owner, server.url(&format!("/api/owner/orders/{oid}/deliveries"))).await;
        assert_eq!(
            seen["deliveries"].as_array().unwrap().len(),
            1,
            "{label}: one delivery stored"
        );

        // Order commands: release, then accept (the payout) — each once.
        for (who, path, key) in [
            (&owner, format!("/api/owner/orders/{oid}/release"), "release-1"),
            (&customer, format!("/api/customer/orders/{oid}/accept"), "accept-1"),
        ] {
            let answers = at_once(|| who.post(server.url(&path)).header("Idempotency-Key", key)).await;
            one_answer(label, key, &answers, 200);
        }
        let o = get_json(&customer, server.url(&format!("/api/customer/orders/{oid}"))).await;
        assert_eq!(o["state"], "completed", "{label}");
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn keys_are_one_to_255_printable_ascii_bytes() {
    for db in TestDb::all() {
        let label = db.label;
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, _, gig) = live_agent(&server, &owner, "Keys").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let form = json!({"agent_id": agent, "gig_id": gig, "tier": "Basic",
            "inputs": {"repo": "https://example.com/r", "lang": "rust"}});
        let place = |k: reqwest::header::HeaderValue| {
            customer
                .post(server.url("/api/customer/orders"))
                .header("Idempotency-Key", k)
                .json(&form)
                .send()
        };
        let long = "k".repeat(256);
        for bad in [
            reqwest::header::HeaderValue::from_str(&long).unwrap(),
            reqwest::header::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
            reqwest::header::HeaderValue::from_bytes(b"tab\there").unwrap(),
        ] {
            let r = place(bad).await.unwrap();
            assert_eq!(r.status(), 422, "{label}");
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["error"]["field"], "Idempotency-Key", "{label}");
        }
        let me = get_json(&customer, server.url("/api/me")).await;
        assert_eq!(me["balance"], 1000, "{label}: a refused key places nothing");
        let ok = "k".repeat(255);
        let r = place(reqwest::header::HeaderValue::from_str(&ok).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{label}: 255 bytes are fine");
    }
}
