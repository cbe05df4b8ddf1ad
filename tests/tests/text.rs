//! Text is text (SPEC §16): NUL and forbidden control characters are refused with 422
//! `validation_failed` naming the field — the same on SQLite (which could store them)
//! and PostgreSQL (which cannot) — and nothing is written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use support::*;

async fn refused(label: &str, r: reqwest::RequestBuilder, field: &str) {
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 422, "{label} {field}: {body}");
    assert_eq!(body["error"]["code"], "validation_failed", "{label} {field}: {body}");
    assert_eq!(body["error"]["field"], field, "{label}: {body}");
}

#[tokio::test]
async fn nul_and_control_characters_are_refused_on_both_backends() {
    for db in TestDb::all() {
        let label = db.label;
        let server = Server::start(&db, &[]);
        let c = browser();
        refused(
            label,
            c.post(server.url("/api/auth/signup")).json(
                &json!({"email": "a@example.com", "password": "correct horse battery", "display_name": "Ann\u{0}"}),
            ),
            "display_name",
        )
        .await;
        refused(
            label,
            c.post(server.url("/api/auth/signup"))
                .json(&json!({"email": "b\u{202E}@example.com", "password": "correct horse battery"})),
            "email",
        )
        .await;

        refused(
            label,
            c.post(server.url("/api/auth/login"))
                .json(&json!({"email": "a\u{0}@example.com", "password": "correct horse battery"})),
            "email",
        )
        .await;

        let owner = signup(&server, "owner@example.com", true).await;
        let mut w = wizard("Nul\u{0}Agent");
        refused(label, owner.post(server.url("/api/owner/agents")).json(&w), "name").await;
        w = wizard("Fine");
        w["gigs"][0]["title"] = json!("Two\nlines");
        refused(
            label,
            owner.post(server.url("/api/owner/agents")).json(&w),
            "gigs[0].title",
        )
        .await;

        let (agent, key, gig) = live_agent(&server, &owner, "Texts").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let form = json!({"agent_id": agent, "gig_id": gig, "tier": "Basic",
            "inputs": {"repo": "https://example.com/r", "lang": "rust"}, "brief": "fix\u{0}"});
        refused(
            label,
            customer.post(server.url("/api/customer/orders")).json(&form),
            "brief",
        )
        .await;
        let me: Value = get_json(&customer, server.url("/api/me")).await;
        assert_eq!(me["balance"], 1000, "{label}: a refused order holds nothing");
        let mine: Value = get_json(&customer, server.url("/api/customer/orders")).await;
        assert_eq!(mine["orders"], json!([]), "{label}: nothing placed");

        refused(
            label,
            customer
                .post(server.url("/api/threads"))
                .json(&json!({"agent_id": agent, "message": "hello\u{0}"})),
            "message",
        )
        .await;

        let mut ok = form.clone();
        ok["brief"] = json!("Fix the panic.\nThanks!");
        let r = customer
            .post(server.url("/api/customer/orders"))
            .json(&ok)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{label}: multi-line text is fine");
        let oid = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        refused(
            label,
            reqwest::Client::new()
                .post(server.url(&format!("/api/orders/{oid}/deliver")))
                .bearer_auth(&key)
                .json(&json!({"text": "done\u{0}"})),
            "text",
        )
        .await;
        let o: Value = get_json(&owner, server.url(&format!("/api/owner/orders/{oid}"))).await;
        assert_eq!(o["deliveries"], 0, "{label}: a refused delivery writes nothing");
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn query_and_content_type_errors_answer_in_the_envelope() {
    for db in TestDb::all() {
        let label = db.label;
        let server = Server::start(&db, &[]);
        let http = reqwest::Client::new();
        let code = |r: reqwest::Response| async move {
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, body["error"]["code"].as_str().map(str::to_owned), body)
        };
        for bad in [
            "/api/agents?limit=abc",
            "/api/agents?online=maybe",
            "/api/agents?limit=1&limit=2",
        ] {
            let (s, c, b) = code(http.get(server.url(bad)).send().await.unwrap()).await;
            assert_eq!((s, c.as_deref()), (400, Some("bad_query")), "{label} {bad}: {b}");
        }
        let (s, c, b) = code(http.get(server.url("/api/agents?limit=500")).send().await.unwrap()).await;
        assert_eq!(
            (s, c.as_deref()),
            (422, Some("validation_failed")),
            "{label}: in range is 422: {b}"
        );
        let (s, c, b) = code(http.get(server.url("/api/agents?q=%00")).send().await.unwrap()).await;
        assert_eq!(
            (s, c.as_deref(), b["error"]["field"].as_str()),
            (422, Some("validation_failed"), Some("q"))
        );
        let (s, c, _) = code(http.get(server.url("/api/agents/agt_x%00y")).send().await.unwrap()).await;
        assert_eq!(
            (s, c.as_deref()),
            (404, Some("not_found")),
            "{label}: a path with NUL names nothing"
        );

        let (s, c, b) = code(
            http.post(server.url("/api/auth/signup"))
                .header("Content-Type", "text/plain")
                .body(r#"{"email":"x@example.com","password":"correct horse battery"}"#)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((s, c.as_deref()), (415, Some("unsupported_media_type")), "{label}: {b}");

        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Media").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let form = json!({"agent_id": agent, "gig_id": gig, "tier": "Basic",
            "inputs": {"repo": "https://example.com/r", "lang": "rust"}});
        for content_type in [Some("text/plain"), None] {
            let mut r = customer.post(server.url("/api/customer/orders")).body(form.to_string());
            if let Some(t) = content_type {
                r = r.header("Content-Type", t);
            }
            let (s, c, b) = code(r.send().await.unwrap()).await;
            assert_eq!(
                (s, c.as_deref()),
                (415, Some("unsupported_media_type")),
                "{label} {content_type:?}: {b}"
            );
        }
        let me: Value = get_json(&customer, server.url("/api/me")).await;
        assert_eq!(me["balance"], 1000, "{label}: nothing placed");
        let placed: Value = customer
            .post(server.url("/api/customer/orders"))
            .json(&form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let oid = placed["id"].as_str().unwrap();
        let (s, c, b) = code(
            http.post(server.url(&format!("/api/orders/{oid}/deliver")))
                .bearer_auth(&key)
                .header("Content-Type", "text/plain")
                .body(r#"{"text":"done"}"#)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((s, c.as_deref()), (415, Some("unsupported_media_type")), "{label}: {b}");
        let (s, c, b) = code(
            http.get(server.url("/api/events?since=a&since=b"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((s, c.as_deref()), (400, Some("bad_query")), "{label}: {b}");
    }
}

#[tokio::test]
async fn the_wizard_refuses_unknown_fields_like_every_body() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let mut w = wizard("Typo");
        w["gigs"][0]["tiers"][0]["revisons"] = json!(3);
        let r = owner
            .post(server.url("/api/owner/agents"))
            .json(&w)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{}", db.label);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_json");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("gigs.0.tiers.0.revisons"),
            "{body}"
        );
        let mine: Value = get_json(&owner, server.url("/api/owner/agents")).await;
        assert_eq!(mine["agents"], json!([]), "{}: nothing created", db.label);
    }
}
