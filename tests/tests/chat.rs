//! Pre-sale chat, offers and order threads over HTTP, on both databases (SPEC §9, §15).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use support::*;

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// RFC 3339 for "now + `days`" (this crate has no date library): civil-from-days after
/// Howard Hinnant.
fn days_from_now(days: i64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + days * 86_400;
    let (z, rem) = (secs.div_euclid(86_400) + 719_468, secs.rem_euclid(86_400));
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn offer_body(gig: &str, price: i64) -> Value {
    let deadline = days_from_now(3);
    json!({
        "gig_id": gig, "tier": "Pro", "price": price, "deadline": deadline,
        "scope": "Port the tokenizer to nom 8, with tests",
        "inputs": {"repo": "https://example.com/r", "lang": "rust"}
    })
}

#[tokio::test]
async fn presale_thread_offer_accept_and_order_thread() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Worker").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let stranger = signup(&server, "stranger@example.com", false).await;

        // Open a thread: the assistant answers with tiers and order-form questions.
        let (s, t) = json_of(
            customer
                .post(server.url("/api/threads"))
                .json(&json!({"agent_id": agent, "message": "Can you port my tokenizer?"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201, "{t}");
        let tid = t["id"].as_str().unwrap().to_owned();
        let msgs = t["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 2, "{}", db.label);
        assert_eq!(msgs[1]["author"], "assistant");
        let reply = msgs[1]["body"].as_str().unwrap();
        assert!(reply.contains("- Basic: 25 points, delivered in 2 days"), "{reply}");
        assert!(reply.contains("- Pro: 90 points"), "{reply}");
        assert!(reply.contains("Repository URL (url, required)"), "{reply}");

        // Strangers see nothing; the owner lists and reads it.
        let r = stranger
            .get(server.url(&format!("/api/threads/{tid}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let r = stranger
            .post(server.url(&format!("/api/threads/{tid}/messages")))
            .json(&json!({"body": "hi"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let (_, list) = json_of(owner.get(server.url("/api/threads")).send().await.unwrap()).await;
        assert_eq!(list["threads"][0]["id"], tid.as_str());
        let (s, m) = json_of(
            owner
                .post(server.url(&format!("/api/threads/{tid}/messages")))
                .json(&json!({"body": "Yes, here is an offer"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((s, m["author"].as_str()), (201, Some("owner")));

        // Offers: outside the price range 25..90 is refused; the customer cannot offer.
        let (s, e) = json_of(
            owner
                .post(server.url(&format!("/api/threads/{tid}/offers")))
                .json(&offer_body(&gig, 91))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 422, "{e}");
        assert_eq!(e["error"]["field"], "price");
        let r = customer
            .post(server.url(&format!("/api/threads/{tid}/offers")))
            .json(&offer_body(&gig, 60))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "customers are not owners");
        let (s, offer) = json_of(
            owner
                .post(server.url(&format!("/api/threads/{tid}/offers")))
                .json(&offer_body(&gig, 60))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201, "{offer}");
        assert_eq!(offer["status"], "open");
        let oid = offer["id"].as_str().unwrap().to_owned();

        // Only the thread's customer accepts; the order starts at once with the scope.
        let r = stranger
            .post(server.url(&format!("/api/offers/{oid}/accept")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let (s, order) = json_of(
            customer
                .post(server.url(&format!("/api/offers/{oid}/accept")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201, "{order}");
        assert_eq!(order["state"], "in_progress", "{}: offers skip approval", db.label);
        assert_eq!(order["price"], 60);
        assert_eq!(order["scope"], "Port the tokenizer to nom 8, with tests");
        let order_id = order["id"].as_str().unwrap().to_owned();
        let evs = next_events(&server, &key).await;
        assert_eq!(evs[0]["k"], "new_order");
        assert_eq!(evs[0]["o"], order_id.as_str());
        assert_eq!(evs[0]["sc"], "Port the tokenizer to nom 8, with tests");
        assert_eq!(evs[0]["p"], 60);
        let (s, e) = json_of(
            customer
                .post(server.url(&format!("/api/offers/{oid}/accept")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((s, e["error"]["code"].as_str()), (409, Some("offer_accepted")));
        let (_, t) = json_of(
            customer
                .get(server.url(&format!("/api/threads/{tid}")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(t["offers"][0]["status"], "accepted");
        assert_eq!(t["offers"][0]["accepted_order_id"], order_id.as_str());

        // The order's thread: both parties reach the same one; strangers get 404.
        let (s, ct) = json_of(
            customer
                .get(server.url(&format!("/api/customer/orders/{order_id}/thread")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200, "{ct}");
        assert_eq!(ct["order_id"], order_id.as_str());
        assert_eq!(ct["writable"], true);
        let (_, ot) = json_of(
            owner
                .get(server.url(&format!("/api/owner/orders/{order_id}/thread")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(ot["id"], ct["id"]);
        let r = stranger
            .get(server.url(&format!("/api/customer/orders/{order_id}/thread")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let otid = ct["id"].as_str().unwrap();
        let r = customer
            .post(server.url(&format!("/api/threads/{otid}/messages")))
            .json(&json!({"body": "Thanks, looking forward"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn asking_for_a_human_emails_the_owner() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, _, _) = live_agent(&server, &owner, "Worker").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let (_, t) = json_of(
            customer
                .post(server.url("/api/threads"))
                .json(&json!({"agent_id": agent, "message": "Is a person there?"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        let tid = t["id"].as_str().unwrap();
        let r = owner
            .post(server.url(&format!("/api/threads/{tid}/human")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "only the customer asks");
        let r = reqwest::Client::new()
            .post(server.url(&format!("/api/threads/{tid}/human")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let (s, t) = json_of(
            customer
                .post(server.url(&format!("/api/threads/{tid}/human")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200, "{t}");
        assert_eq!(t["human_requested"], true);
        let line = server.wait_for_log("A customer asks for a human: Worker");
        assert!(line.contains("owner@example.com"), "{} {line}", db.label);
    }
}
