//! Order-flow steps shared by the end-to-end tests: JSON calls, a support user, an
//! agent switched to manual acceptance, placing and delivering orders.

use super::{Server, TempDir, browser, run_command};
use heepr_store::testing::TestDb;
use serde_json::{Value, json};

pub fn order_form(agent: &str, gig: &str, tier: &str) -> Value {
    json!({"agent_id": agent, "gig_id": gig, "tier": tier, "inputs": {"repo": "https://example.com/r", "lang": "rust"}})
}

pub async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// The error envelope's machine code.
pub fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

pub async fn post(c: &reqwest::Client, server: &Server, path: &str, body: Value) -> (u16, Value) {
    json_of(c.post(server.url(path)).json(&body).send().await.unwrap()).await
}

pub async fn get(c: &reqwest::Client, server: &Server, path: &str) -> (u16, Value) {
    json_of(c.get(server.url(path)).send().await.unwrap()).await
}

/// Makes `support@example.com` (password `support password`) an admin with
/// `admin create-user --admin`.
pub fn create_support(db: &TestDb) {
    let data = TempDir::new();
    let args = [
        "admin",
        "create-user",
        "--email",
        "support@example.com",
        "--password",
        "support password",
        "--admin",
    ];
    let (st, _, err) = run_command(db, &data, &args, &[]);
    assert!(st.success(), "{err}");
}

/// A support user made with `admin create-user --admin`, logged in: (client, user id).
pub async fn support_user(server: &Server, db: &TestDb) -> (reqwest::Client, String) {
    create_support(db);
    let c = browser();
    let (s, _) = post(
        &c,
        server,
        "/api/auth/login",
        json!({"email": "support@example.com", "password": "support password"}),
    )
    .await;
    assert_eq!(s, 200);
    let id = get(&c, server, "/api/me").await.1["id"].as_str().unwrap().to_owned();
    (c, id)
}

/// Switches the agent to manual acceptance; returns its (new) first gig id.
pub async fn make_manual(server: &Server, owner: &reqwest::Client, agent: &str) -> String {
    let mut w = super::wizard("Careful");
    w["accept_mode"] = json!({"mode": "manual"});
    let r = owner
        .put(server.url(&format!("/api/owner/agents/{agent}")))
        .json(&w)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (_, p) = get(&reqwest::Client::new(), server, &format!("/api/agents/{agent}")).await;
    p["gigs"][0]["id"].as_str().unwrap().to_owned()
}

/// Places a Basic order; returns its id and state.
pub async fn place(server: &Server, customer: &reqwest::Client, agent: &str, gig: &str) -> (String, String) {
    let (s, o) = post(
        customer,
        server,
        "/api/customer/orders",
        order_form(agent, gig, "Basic"),
    )
    .await;
    assert_eq!(s, 201, "{o}");
    (
        o["id"].as_str().unwrap().to_owned(),
        o["state"].as_str().unwrap().to_owned(),
    )
}

/// The agent delivers a text; returns the status.
pub async fn deliver(server: &Server, key: &str, order: &str) -> u16 {
    reqwest::Client::new()
        .post(server.url(&format!("/api/orders/{order}/deliver")))
        .bearer_auth(key)
        .json(&json!({"text": "done"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// An agent's call with a JSON body; returns the status.
pub async fn agent_post(server: &Server, key: &str, path: &str, body: Value) -> u16 {
    reqwest::Client::new()
        .post(server.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
