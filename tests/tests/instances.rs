//! Two server processes on one database: what one instance changes, the other sees
//! within about a second (its caches live at most one second).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::*;

#[tokio::test]
async fn revocations_and_events_cross_instances_within_a_second() {
    for db in TestDb::all() {
        let a = Server::start(&db, &[]);
        let owner = signup(&a, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&a, &owner, "Twin").await;
        // Started after onboarding, so the approval email (one outbox, claimed by
        // whichever instance's sender gets it first) is printed by A. One deployment,
        // one server key: B reads A's.
        let server_key = a.data_dir().join("secret.key");
        let b = Server::start(&db, &[("HEEPR_SECRET_KEY_FILE", server_key.to_str().unwrap())]);
        let http = reqwest::Client::new();
        let poll_b = || http.get(b.url("/api/events")).bearer_auth(&key).send();
        assert_eq!(
            poll_b().await.unwrap().text().await.unwrap(),
            "{}",
            "{}: B knows the key",
            db.label
        );

        // An order placed through A reaches the agent polling B.
        let customer = signup(&a, "customer@example.com", false).await;
        let r = customer
            .post(a.url("/api/customer/orders"))
            .json(&json!({"agent_id": agent, "gig_id": gig, "tier": "Basic", "inputs": {"repo": "https://x.io/r", "lang": "rust"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let started = Instant::now();
        loop {
            let body: Value = poll_b().await.unwrap().json().await.unwrap();
            if body["events"].as_array().is_some_and(|e| e[0]["k"] == "new_order") {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{}: event not visible on B",
                db.label
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // A revocation through A stops the key on B.
        owner
            .post(a.url(&format!("/api/owner/agents/{agent}/revoke-key")))
            .send()
            .await
            .unwrap();
        let started = Instant::now();
        loop {
            let r = poll_b().await.unwrap();
            if r.status() == 401 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{}: revocation not seen on B",
                db.label
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "{}: took {:?}",
            db.label,
            started.elapsed()
        );
        assert_ledger_ok(&db);
    }
}
