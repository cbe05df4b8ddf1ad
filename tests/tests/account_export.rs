//! The data export (issue 16, seed 003): a user with orders on both sides, files,
//! messages and reviews downloads a zip whose every entry is checked against its
//! manifest; other people appear by display name only; support sends the export as a
//! link to the account's address (audited), which expires. Both backends, over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use support::flow::{code, get, json_of, order_form, post};
use support::*;

fn hex(b: &[u8]) -> String {
    Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

/// Every entry of a zip, by path.
fn entries(zip: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a valid zip");
    let mut out = BTreeMap::new();
    for i in 0..a.len() {
        let mut f = a.by_index(i).unwrap();
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).unwrap();
        out.insert(f.name().unwrap().to_string(), buf);
    }
    out
}

fn json_entry(e: &BTreeMap<String, Vec<u8>>, path: &str) -> Value {
    serde_json::from_slice(e.get(path).unwrap_or_else(|| panic!("no {path}"))).unwrap()
}

/// Downloads `path` with `c`: status, content type and bytes.
async fn download(c: &reqwest::Client, server: &Server, path: &str) -> (u16, String, Vec<u8>) {
    let r = c.get(server.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

/// Delivers `files` (name, bytes) as the agent; the owner releases it, the customer
/// accepts and reviews.
async fn complete(
    server: &Server,
    key: &str,
    owner: &reqwest::Client,
    customer: &reqwest::Client,
    oid: &str,
    files: &[(&str, &[u8])],
    review: &str,
) {
    let mut form = Form::new().text("note", "here it is");
    for (name, bytes) in files {
        form = form.part("files", Part::bytes(bytes.to_vec()).file_name(name.to_string()));
    }
    let (s, d) = json_of(
        reqwest::Client::new()
            .post(server.url(&format!("/api/orders/{oid}/deliver")))
            .bearer_auth(key)
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{d}");
    let (st, b) = post(owner, server, &format!("/api/owner/orders/{oid}/release"), json!({})).await;
    assert_eq!(st, 200, "{b}");
    let (st, b) = post(
        customer,
        server,
        &format!("/api/customer/orders/{oid}/accept"),
        json!({}),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let (st, b) = post(
        customer,
        server,
        &format!("/api/customer/orders/{oid}/review"),
        json!({"stars": 4, "text": review}),
    )
    .await;
    assert_eq!(st, 201, "{b}");
}

#[tokio::test]
async fn an_export_holds_everything_about_the_user_and_nothing_about_others() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[("HEEPR_TEST_CLOCK", "1")]);
        let (desk, _) = support::flow::support_user(&server, &db).await;
        // Ann owns an agent and is a customer of Carl's; Bob is a customer of Ann's.
        let ann = signup(&server, "ann@example.com", true).await;
        let (ann_agent, ann_key, ann_gig) = live_agent(&server, &ann, "Annbot").await;
        let carl = signup(&server, "carl@example.com", true).await;
        let (carl_agent, carl_key, carl_gig) = live_agent(&server, &carl, "Carlbot").await;
        let bob = signup(&server, "bob@example.com", false).await;
        let (_, bob_me) = get(&bob, &server, "/api/me").await;
        let (_, carl_me) = get(&carl, &server, "/api/me").await;

        // As customer, with a brief attachment.
        let brief = b"the brief: port my tokenizer".to_vec();
        let form = Form::new()
            .text("order", order_form(&carl_agent, &carl_gig, "Basic").to_string())
            .part("files", Part::bytes(brief.clone()).file_name("brief.txt"));
        let (s, o) = json_of(
            ann.post(server.url("/api/customer/orders"))
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201, "{o}");
        let bought = o["id"].as_str().unwrap().to_owned();
        complete(
            &server,
            &carl_key,
            &carl,
            &ann,
            &bought,
            &[("carl.rs", b"carl's work")],
            "Good port",
        )
        .await;
        // As owner: Bob's order, delivered by Ann's agent with a file.
        let (sold, _) = support::flow::place(&server, &bob, &ann_agent, &ann_gig).await;
        let delivered = b"fn tokenizer() {}".to_vec();
        complete(
            &server,
            &ann_key,
            &ann,
            &bob,
            &sold,
            &[("lib.rs", &delivered)],
            "Solid work",
        )
        .await;
        // A thread with Carl's agent.
        let (s, t) = json_of(
            ann.post(server.url("/api/threads"))
                .json(&json!({"agent_id": carl_agent, "message": "Can you also do a lexer?"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201, "{t}");

        // Without a session: the envelope.
        let (st, _, body) = download(&browser(), &server, "/api/account/export").await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((st, code(&body)), (401, "unauthorized"), "{}", db.label);

        let (st, ct, zip) = download(&ann, &server, "/api/account/export").await;
        assert_eq!((st, ct.as_str()), (200, "application/zip"), "{}", db.label);
        let e = entries(&zip);
        // Every entry is in the manifest with its size and SHA-256, and nothing else is.
        let manifest = json_entry(&e, "manifest.json");
        let listed: BTreeMap<String, (u64, String)> = manifest["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["path"].as_str().unwrap().to_owned(),
                    (m["bytes"].as_u64().unwrap(), m["sha256"].as_str().unwrap().to_owned()),
                )
            })
            .collect();
        for (path, bytes) in &e {
            if path == "manifest.json" {
                continue;
            }
            let (n, sha) = listed.get(path).unwrap_or_else(|| panic!("{path} not in the manifest"));
            assert_eq!((*n, sha.as_str()), (bytes.len() as u64, hex(bytes).as_str()), "{path}");
        }
        assert_eq!(listed.len(), e.len() - 1, "{}: {listed:?}", db.label);
        for name in [
            "README.txt",
            "profile.json",
            "roles.json",
            "consents.json",
            "sessions.json",
            "api_keys.json",
            "agents.json",
            "orders_as_customer.json",
            "orders_as_owner.json",
            "messages.json",
            "offers.json",
            "reviews_written.json",
            "reviews_received.json",
            "ledger.json",
            "files.json",
        ] {
            assert!(e.contains_key(name), "{}: {name}", db.label);
        }

        assert_eq!(json_entry(&e, "profile.json")["email"], "ann@example.com");
        assert_eq!(json_entry(&e, "roles.json"), json!(["customer", "owner"]));
        assert!(!json_entry(&e, "sessions.json").as_array().unwrap().is_empty());
        let keys = json_entry(&e, "api_keys.json");
        assert_eq!(keys[0]["agent_id"], ann_agent.as_str(), "{keys}");
        assert!(!keys.to_string().contains("sk_live_"), "no key material {keys}");
        let agents = json_entry(&e, "agents.json");
        assert_eq!(agents[0]["name"], "Annbot");
        assert!(agents[0]["settings"]["gigs"].is_array(), "{agents}");

        let bought_o = &json_entry(&e, "orders_as_customer.json")[0];
        assert_eq!(bought_o["id"], bought.as_str());
        assert_eq!(bought_o["counterparty"], carl_me["display_name"]);
        assert_eq!(bought_o["deliveries"][0]["files"][0]["name"], "carl.rs");
        let sold_o = &json_entry(&e, "orders_as_owner.json")[0];
        assert_eq!(sold_o["id"], sold.as_str());
        assert_eq!(sold_o["counterparty"], bob_me["display_name"]);
        assert_eq!(sold_o["state"], "completed");

        // Her uploads only: the brief and her agent's delivery, bytes as uploaded.
        let files = json_entry(&e, "files.json");
        let files = files.as_array().unwrap();
        assert_eq!(files.len(), 2, "{}: {files:?}", db.label);
        for f in files {
            let path = f["entry"].as_str().unwrap();
            let bytes = &e[path];
            assert_eq!(f["sha256"].as_str().unwrap(), hex(bytes), "{path}");
            let want = if f["delivery_id"].is_null() { &brief } else { &delivered };
            assert_eq!(bytes, want, "{path}");
        }
        assert!(!e.keys().any(|k| k.contains("carl.rs")), "not Carl's upload");

        let messages = json_entry(&e, "messages.json");
        let mine: Vec<&Value> = messages
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["author"] == "you")
            .collect();
        assert_eq!(mine[0]["body"], "Can you also do a lexer?", "{messages}");
        assert!(
            messages.as_array().unwrap().iter().any(|m| m["author"] == "Carlbot"),
            "the assistant by its agent's name {messages}"
        );
        let written = json_entry(&e, "reviews_written.json");
        assert_eq!(
            (written[0]["body"].as_str(), written[0]["agent_name"].as_str()),
            (Some("Good port"), Some("Carlbot"))
        );
        let received = json_entry(&e, "reviews_received.json");
        assert_eq!(received[0]["counterparty"], bob_me["display_name"], "{received}");
        let ledger = json_entry(&e, "ledger.json");
        let ledger = ledger.as_array().unwrap();
        let net: i64 = ledger
            .iter()
            .filter(|t| t["account"].as_str().unwrap().starts_with("wallet:"))
            .map(|t| t["amount"].as_i64().unwrap())
            .sum();
        let (_, now_me) = get(&ann, &server, "/api/me").await;
        assert_eq!(net, now_me["balance"].as_i64().unwrap(), "{}: {ledger:?}", db.label);

        // Nobody else's address or id anywhere.
        for (path, bytes) in &e {
            let text = String::from_utf8_lossy(bytes);
            for other in [
                "bob@example.com",
                "carl@example.com",
                bob_me["id"].as_str().unwrap(),
                carl_me["id"].as_str().unwrap(),
            ] {
                assert!(!text.contains(other), "{}: {other} in {path}", db.label);
            }
        }

        // Support sends it as a link to the account's address, audited.
        let path = "/api/admin/accounts/export";
        let (st, b) = post(&ann, &server, path, json!({"email": "ann@example.com"})).await;
        assert_eq!((st, code(&b)), (403, "not_an_admin"), "{}", db.label);
        let (st, b) = post(&desk, &server, path, json!({"email": "nobody@example.com"})).await;
        assert_eq!((st, code(&b)), (404, "not_found"), "{}", db.label);
        let (st, b) = post(
            &desk,
            &server,
            path,
            json!({"email": "Ann@example.com", "reason": "emailed privacy@ from the account's address"}),
        )
        .await;
        assert_eq!(st, 202, "{}: {b}", db.label);
        let line = server.wait_for_log("/api/account/export/acl_");
        let token: String = line
            .split("/api/account/export/")
            .nth(1)
            .unwrap()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let (st, ct, by_link) = download(&browser(), &server, &format!("/api/account/export/{token}")).await;
        assert_eq!((st, ct.as_str()), (200, "application/zip"), "{}", db.label);
        let linked = entries(&by_link);
        assert_eq!(linked["files.json"], e["files.json"], "{}: the same export", db.label);
        let (st, _, b) = download(&browser(), &server, "/api/account/export/acl_nottherightone").await;
        let b: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!((st, code(&b)), (404, "token_unknown"), "{}", db.label);
        let (_, audit) = get(&desk, &server, "/api/admin/audit").await;
        let text = audit.to_string();
        assert!(
            text.contains("export_account") && text.contains("emailed privacy@"),
            "{audit}"
        );
        assert!(!text.contains(&token), "{}: no link in the log", db.label);
        let (st, _) = post(&browser(), &server, "/api/test/clock", json!({"seconds": 73 * 3600})).await;
        assert_eq!(st, 200);
        let (st, _, b) = download(&browser(), &server, &format!("/api/account/export/{token}")).await;
        let b: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!((st, code(&b)), (410, "token_expired"), "{}", db.label);
        assert_ledger_ok(&db);
    }
}
