//! Account deletion (issue 16, seed 003): refused while an order is open (as customer or
//! on one's agents), then the person goes and the history stays under a pseudonym — on
//! both backends, through the real server over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use support::flow::{code, get, post};
use support::*;

const PASSWORD: &str = "correct horse battery";

async fn delete(c: &reqwest::Client, server: &Server, body: Value) -> (u16, Value) {
    let r = c.delete(server.url("/api/account")).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn login_status(server: &Server, email: &str) -> u16 {
    let (st, _) = post(
        &browser(),
        server,
        "/api/auth/login",
        json!({"email": email, "password": PASSWORD}),
    )
    .await;
    st
}

/// An order placed by `customer` and taken at once (auto mode); returns its id.
async fn place(server: &Server, customer: &reqwest::Client, agent: &str, gig: &str) -> String {
    support::flow::place(server, customer, agent, gig).await.0
}

#[tokio::test]
async fn deletion_waits_for_open_orders_then_keeps_the_history_under_a_pseudonym() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Keeper").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let oid = place(&server, &customer, &agent, &gig).await;

        // Bad input and open orders: the envelope, nothing written.
        let (st, body) = delete(&browser(), &server, json!({"password": PASSWORD})).await;
        assert_eq!(st, 401, "{}: no session {body}", db.label);
        let bare = reqwest::Client::builder().cookie_store(true).build().unwrap();
        post(
            &bare,
            &server,
            "/api/auth/login",
            json!({"email": "customer@example.com", "password": PASSWORD}),
        )
        .await;
        let (st, body) = delete(&bare, &server, json!({"password": PASSWORD})).await;
        assert_eq!(
            (st, code(&body)),
            (403, "client_header_required"),
            "{}: no X-Heepr-Client",
            db.label
        );
        let (st, body) = delete(&customer, &server, json!({"password": "not my password"})).await;
        assert_eq!((st, code(&body)), (403, "wrong_password"), "{}", db.label);
        let (st, body) = delete(&customer, &server, json!({"password": PASSWORD})).await;
        assert_eq!(
            (st, code(&body)),
            (409, "open_orders_exist"),
            "{}: as customer",
            db.label
        );
        let (st, body) = delete(&owner, &server, json!({"password": PASSWORD})).await;
        assert_eq!(
            (st, code(&body)),
            (409, "open_orders_exist"),
            "{}: on the agent",
            db.label
        );
        assert_eq!(login_status(&server, "customer@example.com").await, 200);

        // The order completes and is reviewed; then the customer may go.
        assert_eq!(support::flow::deliver(&server, &key, &oid).await, 201);
        let (st, _) = post(&owner, &server, &format!("/api/owner/orders/{oid}/release"), json!({})).await;
        assert_eq!(st, 200);
        let (st, _) = post(
            &customer,
            &server,
            &format!("/api/customer/orders/{oid}/accept"),
            json!({}),
        )
        .await;
        assert_eq!(st, 200);
        let (st, _) = post(
            &customer,
            &server,
            &format!("/api/customer/orders/{oid}/review"),
            json!({"stars": 5, "text": "Quick and right"}),
        )
        .await;
        assert_eq!(st, 201, "{}", db.label);
        let (st, body) = delete(&customer, &server, json!({"password": PASSWORD})).await;
        assert_eq!(st, 204, "{}: {body}", db.label);

        assert_eq!(
            get(&customer, &server, "/api/me").await.0,
            401,
            "{}: session ended",
            db.label
        );
        assert_eq!(login_status(&server, "customer@example.com").await, 401, "{}", db.label);
        // The owner still sees the order and the review, under the pseudonym only.
        let (st, order) = get(&owner, &server, &format!("/api/owner/orders/{oid}")).await;
        assert_eq!((st, order["state"].as_str()), (200, Some("completed")), "{}", db.label);
        assert!(!order.to_string().contains("customer@example.com"), "{order}");
        let reviews = get_json(
            &reqwest::Client::new(),
            server.url(&format!("/api/agents/{agent}/reviews")),
        )
        .await;
        let review = &reviews["reviews"][0];
        assert!(
            review["reviewer"].as_str().unwrap().starts_with("deleted-user-"),
            "{review}"
        );
        assert_eq!(
            review["text"].as_str().or(review["body"].as_str()),
            Some("Quick and right"),
            "{review}"
        );
        assert!(!reviews.to_string().contains("customer"), "{reviews}");
        // The address may sign up again, as a new account.
        let again = signup(&server, "customer@example.com", false).await;
        let (_, me) = get(&again, &server, "/api/me").await;
        assert_eq!(me["balance"], 1000, "{}: a fresh wallet", db.label);

        // The owner goes too: the agent retires and its key is revoked.
        let (st, body) = delete(&owner, &server, json!({"password": PASSWORD})).await;
        assert_eq!(st, 204, "{}: {body}", db.label);
        let r = reqwest::Client::new()
            .get(server.url("/api/skill"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!((status, code(&body)), (401, "key_revoked"), "{}", db.label);
        let (_, listed) = get(&browser(), &server, "/api/agents").await;
        assert!(
            !listed.to_string().contains(&agent),
            "{}: off browse {listed}",
            db.label
        );
        let (st, body) = post(
            &again,
            &server,
            "/api/customer/orders",
            support::flow::order_form(&agent, &gig, "Basic"),
        )
        .await;
        assert!(st >= 400, "{}: no orders for a retired agent ({st} {body})", db.label);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn support_deletes_an_account_on_its_emailed_request_audited() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let (desk, _) = support::flow::support_user(&server, &db).await;
        let ann = signup(&server, "ann@example.com", false).await;
        let path = "/api/admin/accounts/delete";
        let (st, _) = post(&ann, &server, path, json!({"email": "ann@example.com"})).await;
        assert_eq!(st, 403, "{}: not support", db.label);
        let (st, body) = post(&desk, &server, path, json!({"email": "nobody@example.com"})).await;
        assert_eq!((st, code(&body)), (404, "not_found"), "{}", db.label);
        let (st, body) = post(
            &desk,
            &server,
            path,
            json!({"email": "Ann@example.com", "reason": "emailed privacy@ from the account's address"}),
        )
        .await;
        assert_eq!(st, 204, "{}: {body}", db.label);
        assert_eq!(get(&ann, &server, "/api/me").await.0, 401);
        assert_eq!(login_status(&server, "ann@example.com").await, 401);
        let (_, audit) = get(&desk, &server, "/api/admin/audit").await;
        let text = audit.to_string();
        assert!(
            text.contains("delete_account") && text.contains("emailed privacy@"),
            "{audit}"
        );
        assert!(
            !text.contains("ann@example.com"),
            "{}: no address in the log {audit}",
            db.label
        );
        assert_ledger_ok(&db);
    }
}
