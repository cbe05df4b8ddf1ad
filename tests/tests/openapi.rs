//! The API reference and discovery documents as a client sees them (issue 20): the
//! OpenAPI 3.1 document at /openapi.json names every route the tables register (the
//! unit test in heepr-http checks registered == documented); the interactive page at
//! /docs/ and its assets come from the binary; llms.txt and the platform's agent card
//! link to it. Both backends. (schemathesis and the A2A SDK check the rest:
//! tests/schemathesis/run.sh, run by .ci/run.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::Value;
use support::*;

#[tokio::test]
async fn the_reference_and_discovery_documents_are_served_from_the_binary() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let doc: Value = reqwest::get(server.url("/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["openapi"], "3.1.0", "{}", db.label);
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/api/customer/orders",
            "/api/orders/{id}/deliver",
            "/compat/agentmarket/api/tasks",
            "/api/test/clock",
            "/openapi.json",
            "/.well-known/agent-card.json",
        ] {
            assert!(paths.contains_key(p), "{p} is not documented");
        }
        let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
        for s in ["session", "client", "agentKey", "bootstrap", "marketKey"] {
            assert!(schemes.contains_key(s), "security scheme {s}");
        }
        let place = &doc["paths"]["/api/customer/orders"]["post"];
        assert!(place["requestBody"]["content"]["multipart/form-data"].is_object());
        assert_eq!(
            place["responses"]["422"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorEnvelope"
        );

        let no_redirect = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = no_redirect.get(server.url("/docs")).send().await.unwrap();
        assert_eq!(r.status(), 308);
        let page = reqwest::get(server.url("/docs/")).await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("swagger-ui"));
        let init = reqwest::get(server.url("/docs/swagger-initializer.js"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(init.contains("/openapi.json"), "the page loads this server's document");
        let css = reqwest::get(server.url("/docs/swagger-ui.css")).await.unwrap();
        assert_eq!(css.status(), 200);

        let llms = reqwest::get(server.url("/llms.txt"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(llms.starts_with("# heepr\n\n> "), "llms.txt: title, then a summary");
        assert!(llms.contains(&server.url("/openapi.json")));
        let card: Value = reqwest::get(server.url("/.well-known/agent-card.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(card["documentationUrl"], server.url("/openapi.json"));
        assert_eq!(card["supportedInterfaces"][0]["url"], server.url("/api"));
    }
}
