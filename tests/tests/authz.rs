//! Every order, delivery and file route refuses everyone but the order's own parties:
//! another customer, another owner, another agent, a revoked key, anonymous — 404, 401
//! or 403, never data, and nothing changes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn order_routes_refuse_strangers() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner_a = signup(&server, "a@example.com", true).await;
        let owner_b = signup(&server, "b@example.com", true).await;
        let (agent_a, key_a, gig_a) = live_agent(&server, &owner_a, "A").await;
        let (_, key_b, _) = live_agent(&server, &owner_b, "B").await;
        let (agent_r, key_r, _) = live_agent(&server, &owner_a, "Revoked").await;
        owner_a
            .post(server.url(&format!("/api/owner/agents/{agent_r}/revoke-key")))
            .send()
            .await
            .unwrap();
        let customer = signup(&server, "c@example.com", false).await;
        let stranger = signup(&server, "d@example.com", false).await;
        let anon = browser();
        let bare = reqwest::Client::new();

        let form = Form::new()
            .text("order", json!({"agent_id": agent_a, "gig_id": gig_a, "tier": "Basic", "inputs": {"repo": "https://x.io/r", "lang": "rust"}}).to_string())
            .part("files", Part::bytes(b"brief".to_vec()).file_name("brief.txt"));
        let order: Value = customer
            .post(server.url("/api/customer/orders"))
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let oid = order["id"].as_str().unwrap().to_owned();
        let att = order["attachments"][0]["id"].as_str().unwrap().to_owned();
        let r = bare
            .post(server.url(&format!("/api/orders/{oid}/deliver")))
            .bearer_auth(&key_a)
            .json(&json!({"text": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let (_, ds) = {
            let r = owner_a
                .get(server.url(&format!("/api/owner/orders/{oid}/deliveries")))
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        };
        assert_eq!(ds["deliveries"].as_array().unwrap().len(), 1);

        let check = |who: &'static str, r: reqwest::Response, allowed: &[u16]| {
            let s = r.status().as_u16();
            assert!(allowed.contains(&s), "{}: {who} got {s} for {}", db.label, r.url());
        };

        // Customer routes.
        for path in [
            format!("/api/customer/orders/{oid}"),
            format!("/api/customer/orders/{oid}/deliveries"),
            format!("/api/customer/orders/{oid}/files/{att}"),
        ] {
            check(
                "another customer",
                stranger.get(server.url(&path)).send().await.unwrap(),
                &[404],
            );
            check(
                "another owner",
                owner_b.get(server.url(&path)).send().await.unwrap(),
                &[404],
            );
            check("anonymous", anon.get(server.url(&path)).send().await.unwrap(), &[401]);
        }
        for action in ["accept", "revision", "flag"] {
            let path = format!("/api/customer/orders/{oid}/{action}");
            let body = if action == "accept" {
                json!({})
            } else if action == "revision" {
                json!({"message": "m"})
            } else {
                json!({"reason": "r"})
            };
            check(
                "another customer",
                stranger.post(server.url(&path)).json(&body).send().await.unwrap(),
                &[404],
            );
            check(
                "anonymous",
                anon.post(server.url(&path)).json(&body).send().await.unwrap(),
                &[401],
            );
        }

        // Owner routes.
        for path in [
            format!("/api/owner/orders/{oid}"),
            format!("/api/owner/orders/{oid}/deliveries"),
            format!("/api/owner/orders/{oid}/files/{att}"),
        ] {
            check(
                "another owner",
                owner_b.get(server.url(&path)).send().await.unwrap(),
                &[404],
            );
            check(
                "a customer",
                customer.get(server.url(&path)).send().await.unwrap(),
                &[403],
            );
            check("anonymous", anon.get(server.url(&path)).send().await.unwrap(), &[401]);
        }
        for action in [
            "approve",
            "deny",
            "release",
            "return",
            "scope",
            "resume",
            "refund",
            "revision/approve",
            "revision/deny",
            "auto-approve",
        ] {
            let path = format!("/api/owner/orders/{oid}/{action}");
            let body = json!({"note": "n", "enabled": true, "scope": "s"});
            check(
                "another owner",
                owner_b.post(server.url(&path)).json(&body).send().await.unwrap(),
                &[404],
            );
            check(
                "a customer",
                customer.post(server.url(&path)).json(&body).send().await.unwrap(),
                &[403],
            );
            check(
                "anonymous",
                anon.post(server.url(&path)).json(&body).send().await.unwrap(),
                &[401],
            );
        }

        // Agent routes.
        let attachment = format!("/api/orders/{oid}/attachments/{att}");
        check(
            "another agent",
            bare.get(server.url(&attachment))
                .bearer_auth(&key_b)
                .send()
                .await
                .unwrap(),
            &[404],
        );
        check(
            "revoked key",
            bare.get(server.url(&attachment))
                .bearer_auth(&key_r)
                .send()
                .await
                .unwrap(),
            &[401],
        );
        check(
            "no key",
            bare.get(server.url(&attachment)).send().await.unwrap(),
            &[401],
        );
        check(
            "a customer session",
            customer.get(server.url(&attachment)).send().await.unwrap(),
            &[401],
        );
        for (action, body) in [
            ("deliver", json!({"text": "t"})),
            ("decline", json!({"reason": "capacity"})),
            ("flag", json!({"reason": "other"})),
        ] {
            let path = format!("/api/orders/{oid}/{action}");
            check(
                "another agent",
                bare.post(server.url(&path))
                    .bearer_auth(&key_b)
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
                &[404],
            );
            check(
                "revoked key",
                bare.post(server.url(&path))
                    .bearer_auth(&key_r)
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
                &[401],
            );
            check(
                "no key",
                bare.post(server.url(&path)).json(&body).send().await.unwrap(),
                &[401],
            );
        }

        // Support routes.
        for path in [format!("/api/admin/orders/{oid}"), "/api/admin/orders".to_owned()] {
            check("an owner", owner_a.get(server.url(&path)).send().await.unwrap(), &[403]);
            check("anonymous", anon.get(server.url(&path)).send().await.unwrap(), &[404]);
        }
        check(
            "an owner",
            owner_a
                .post(server.url(&format!("/api/admin/orders/{oid}/resolve")))
                .json(&json!({"refund": 1}))
                .send()
                .await
                .unwrap(),
            &[403],
        );

        // Nothing changed.
        let o: Value = customer
            .get(server.url(&format!("/api/customer/orders/{oid}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(o["state"], "delivered_pending_owner_review", "{}", db.label);
        assert_eq!(o["deliveries"], 1);
        let r = bare
            .get(server.url(&attachment))
            .bearer_auth(&key_a)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "the order's own agent still can");
        assert_ledger_ok(&db);
    }
}

/// The bootstrap link is its own authorization: no session or key makes a wrong secret
/// work, and the right one works for anyone, once.
#[tokio::test]
async fn the_bootstrap_link_needs_its_secret_and_nothing_else() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "a@example.com", true).await;
        let (_, key, _) = live_agent(&server, &owner, "A").await;
        let setup = onboard(&server, &owner, "B").await;
        let link = setup["bootstrap_link"]["url"].as_str().unwrap().to_owned();
        let wrong = format!("{}/api/setup/bsl_{}", server.base, "0".repeat(64));
        let r = owner.get(&wrong).send().await.unwrap();
        assert_eq!(r.status(), 404, "{}: the owner's session is no secret", db.label);
        let r = reqwest::Client::new()
            .get(&wrong)
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{}: nor is an agent's key", db.label);
        let r = reqwest::get(&link).await.unwrap();
        assert_eq!(r.status(), 200, "{}: anonymous, with the secret", db.label);
        let r = owner.get(&link).send().await.unwrap();
        assert_eq!(r.status(), 410, "{}: once, even for its owner", db.label);
    }
}
