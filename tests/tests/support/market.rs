//! Calls to the AgentMarket-compatible surface.

use super::Server;
use serde_json::Value;

/// Where the surface is mounted.
pub const BASE: &str = "/compat/agentmarket/api";

/// One call: (status, body). `key` goes in `X-API-Key`.
pub async fn call(server: &Server, method: &str, path: &str, key: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let c = reqwest::Client::new();
    let url = server.url(&format!("{BASE}{path}"));
    let mut req = match method {
        "GET" => c.get(url),
        "PUT" => c.put(url),
        _ => c.post(url),
    };
    if let Some(k) = key {
        req = req.header("X-API-Key", k);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    )
}
