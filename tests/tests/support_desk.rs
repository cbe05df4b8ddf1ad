//! Trust and support over HTTP, on both databases: a customer cancels an order waiting
//! for approval; support suspends an agent (its open work ends, it gets no new orders,
//! it still polls) and reinstates it after the owner asks; reports and the queue; the
//! audit log, the ledger check, and every new route refusing strangers. The ledger is
//! checked after each scenario.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use support::flow::*;
use support::*;

async fn balance(c: &reqwest::Client, server: &Server) -> i64 {
    get(c, server, "/api/me").await.1["balance"].as_i64().unwrap()
}

async fn order_state(server: &Server, customer: &reqwest::Client, order: &str) -> String {
    let (_, o) = get(customer, server, &format!("/api/customer/orders/{order}")).await;
    o["state"].as_str().unwrap().to_owned()
}

/// Every event the agent has pending, polled until at least `n` arrived (with a deadline).
async fn events_until(server: &Server, key: &str, n: usize) -> Vec<Value> {
    let mut all = Vec::new();
    while all.len() < n {
        all.extend(next_events(server, key).await);
    }
    all
}

#[tokio::test]
async fn customer_cancels_an_order_waiting_for_approval() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, _) = live_agent(&server, &owner, "Careful").await;
        let gig = make_manual(&server, &owner, &agent).await;
        let customer = signup(&server, "customer@example.com", false).await;
        let stranger = signup(&server, "stranger@example.com", false).await;
        let start = balance(&customer, &server).await;

        let (oid, st) = place(&server, &customer, &agent, &gig).await;
        assert_eq!(st, "pending_owner_approval", "{}", db.label);
        assert_eq!(balance(&customer, &server).await, start - 25);
        let path = format!("/api/customer/orders/{oid}/cancel");

        // Nobody else may cancel it: another customer, its owner acting as a customer, anonymous.
        let (s, _) = post(&stranger, &server, &path, json!({})).await;
        assert_eq!(s, 404);
        let (s, _) = post(&owner, &server, &path, json!({})).await;
        assert_eq!(s, 404);
        let (s, _) = post(&browser(), &server, &path, json!({})).await;
        assert_eq!(s, 401);
        assert_eq!(order_state(&server, &customer, &oid).await, "pending_owner_approval");

        // The customer cancels, once per Idempotency-Key.
        let first = customer
            .post(server.url(&path))
            .header("Idempotency-Key", "cancel-1")
            .send()
            .await
            .unwrap();
        assert_eq!(first.status(), 200);
        let first: Value = first.json().await.unwrap();
        assert_eq!(first["state"], "refunded", "{}", db.label);
        assert_eq!(first["timer_due_at"], Value::Null);
        let again = customer
            .post(server.url(&path))
            .header("Idempotency-Key", "cancel-1")
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 200);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.json::<Value>().await.unwrap(), first);
        assert_eq!(balance(&customer, &server).await, start, "escrow back at once");
        // The agent is told; a second cancel is refused.
        let evs = next_events(&server, &key).await;
        assert_eq!(evs.len(), 1, "{evs:?}");
        assert_eq!(evs[0]["k"], "order_refunded");
        assert_eq!(evs[0]["o"], oid.as_str());
        assert_eq!(evs[0]["m"], "cancelled by the customer");
        let (s, e) = post(&customer, &server, &path, json!({})).await;
        assert_eq!((s, code(&e)), (409, "invalid_state"));

        // Past approval the customer can no longer cancel.
        let (oid, _) = place(&server, &customer, &agent, &gig).await;
        let (s, _) = post(&owner, &server, &format!("/api/owner/orders/{oid}/approve"), json!({})).await;
        assert_eq!(s, 200);
        let (s, e) = post(
            &customer,
            &server,
            &format!("/api/customer/orders/{oid}/cancel"),
            json!({}),
        )
        .await;
        assert_eq!((s, code(&e)), (409, "invalid_state"), "{e}");
        assert_eq!(order_state(&server, &customer, &oid).await, "in_progress");
        assert_eq!(balance(&customer, &server).await, start - 25);
        let (s, _) = post(&customer, &server, "/api/customer/orders/ord_nope/cancel", json!({})).await;
        assert_eq!(s, 404);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn suspension_ends_open_work_and_reinstatement_restores_orders() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let (support, support_id) = support_user(&server, &db).await;
        let owner = signup(&server, "owner@example.com", true).await;
        let other_owner = signup(&server, "other@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Shady").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let start = balance(&customer, &server).await;

        // Open work in three shapes: nothing delivered; delivered and with the customer;
        // a revision round after a released delivery.
        let (fresh, _) = place(&server, &customer, &agent, &gig).await;
        let (done, _) = place(&server, &customer, &agent, &gig).await;
        let (revising, _) = place(&server, &customer, &agent, &gig).await;
        for o in [&done, &revising] {
            assert_eq!(deliver(&server, &key, o).await, 201);
            let (s, _) = post(&owner, &server, &format!("/api/owner/orders/{o}/release"), json!({})).await;
            assert_eq!(s, 200);
        }
        let (s, _) = post(
            &customer,
            &server,
            &format!("/api/customer/orders/{revising}/revision"),
            json!({"message": "one more test"}),
        )
        .await;
        assert_eq!(s, 200);
        events_until(&server, &key, 4).await;

        // Bad input changes nothing.
        let suspend = format!("/api/admin/agents/{agent}/suspend");
        let (s, e) = post(&owner, &server, &suspend, json!({"reason": "x"})).await;
        assert_eq!((s, code(&e)), (403, "not_an_admin"));
        let (s, e) = post(&support, &server, &suspend, json!({})).await;
        assert_eq!(
            (s, code(&e), e["error"]["field"].as_str()),
            (422, "validation_failed", Some("reason"))
        );
        let (s, _) = post(&support, &server, &suspend, json!({"reason": "x".repeat(2001)})).await;
        assert_eq!(s, 422);
        let (s, _) = post(
            &support,
            &server,
            "/api/admin/agents/agt_nope/suspend",
            json!({"reason": "x"}),
        )
        .await;
        assert_eq!(s, 404);
        let (_, p) = get(&customer, &server, &format!("/api/agents/{agent}")).await;
        assert_eq!(p["suspended"], false);

        // Suspend: the work it still owes ends. Once per Idempotency-Key.
        let keyed = || {
            support
                .post(server.url(&suspend))
                .header("Idempotency-Key", "suspend-1")
                .json(&json!({"reason": "fake deliverables"}))
        };
        let (s, out) = json_of(keyed().send().await.unwrap()).await;
        assert_eq!(s, 200, "{out}");
        let replay = keyed().send().await.unwrap();
        assert_eq!(replay.headers()["idempotent-replayed"], "true");
        assert_eq!(replay.json::<Value>().await.unwrap(), out);
        assert_eq!(out["suspended"], true);
        assert_eq!(out["refunded_orders"], json!([fresh]), "{}", db.label);
        assert_eq!(out["returned_orders"], json!([revising]));
        assert_eq!(order_state(&server, &customer, &fresh).await, "refunded");
        assert_eq!(order_state(&server, &customer, &revising).await, "delivered");
        assert_eq!(order_state(&server, &customer, &done).await, "delivered");
        assert_eq!(balance(&customer, &server).await, start - 50, "one refund of 25");
        let (s, e) = post(&support, &server, &suspend, json!({"reason": "again"})).await;
        assert_eq!((s, code(&e)), (409, "already_suspended"));
        server.wait_for_log("Your agent Shady is suspended");

        // Public profile says so; browse leaves it out; no new orders.
        let (_, p) = get(&customer, &server, &format!("/api/agents/{agent}")).await;
        assert_eq!((&p["suspended"], &p["accepting_orders"]), (&json!(true), &json!(false)));
        let (_, list) = get(&customer, &server, "/api/agents").await;
        assert!(
            list["agents"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["id"] != agent.as_str())
        );
        let (s, e) = post(
            &customer,
            &server,
            "/api/customer/orders",
            order_form(&agent, &gig, "Basic"),
        )
        .await;
        assert_eq!((s, code(&e)), (403, "agent_suspended"));

        // It still polls (and learns of the refund) but may not work.
        let evs = next_events(&server, &key).await;
        assert!(
            evs.iter().any(|e| e["k"] == "order_refunded"
                && e["o"] == fresh.as_str()
                && e["m"] == "agent suspended by support"),
            "{evs:?}"
        );
        assert_eq!(deliver(&server, &key, &revising).await, 403);
        let r = reqwest::Client::new()
            .post(server.url("/api/status"))
            .bearer_auth(&key)
            .json(&json!({"status": "active"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        // Support's record of the agent.
        let (s, d) = get(&support, &server, &format!("/api/admin/agents/{agent}")).await;
        assert_eq!(s, 200);
        assert_eq!(
            (&d["suspended"], &d["suspended_reason"]),
            (&json!(true), &json!("fake deliverables"))
        );
        assert_eq!(d["owner_email"], "owner@example.com");
        assert_eq!(d["suspensions"].as_array().unwrap().len(), 1);
        assert_eq!(d["suspensions"][0]["suspended_by"], support_id.as_str());
        assert_eq!(d["suspensions"][0]["reinstated_at"], Value::Null);
        assert!(d["counters"]["completed"].is_i64());

        // The owner asks for reinstatement: the request lands in the queue.
        let ask = format!("/api/owner/agents/{agent}/reinstatement");
        let (s, _) = post(&other_owner, &server, &ask, json!({"message": "please"})).await;
        assert_eq!(s, 404, "another owner's agent");
        let (s, e) = post(&owner, &server, &ask, json!({"message": "  "})).await;
        assert_eq!((s, e["error"]["field"].as_str()), (422, Some("message")));
        let (s, rq) = post(&owner, &server, &ask, json!({"message": "we removed the fake outputs"})).await;
        assert_eq!(s, 201, "{rq}");
        assert_eq!(rq["resolved_at"], Value::Null);
        let (s, e) = post(&owner, &server, &ask, json!({"message": "again"})).await;
        assert_eq!((s, code(&e)), (409, "reinstatement_requested"));
        let (_, q) = get(&support, &server, "/api/admin/queue").await;
        assert_eq!(q["counts"]["reinstatement"], 1);
        let item = q["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "reinstatement")
            .unwrap();
        assert_eq!((&item["id"], &item["agent_id"]), (&rq["id"], &json!(agent)));
        assert_eq!(item["request"]["message"], "we removed the fake outputs");

        // Reinstate: orders again; the request is closed with it.
        let reinstate = format!("/api/admin/agents/{agent}/reinstate");
        let (s, out) = post(&support, &server, &reinstate, json!({"reason": "appeal accepted"})).await;
        assert_eq!((s, &out["suspended"]), (200, &json!(false)), "{out}");
        let (s, e) = post(&support, &server, &reinstate, json!({})).await;
        assert_eq!((s, code(&e)), (409, "not_suspended"));
        let (s, e) = post(&owner, &server, &ask, json!({"message": "?"})).await;
        assert_eq!((s, code(&e)), (409, "not_suspended"));
        server.wait_for_log("Your agent Shady is reinstated");
        let (_, q) = get(&support, &server, "/api/admin/queue").await;
        assert_eq!(q["counts"]["reinstatement"], 0);
        let (_, d) = get(&support, &server, &format!("/api/admin/agents/{agent}")).await;
        assert_eq!(d["suspended"], false);
        assert_eq!(d["suspensions"][0]["reinstate_reason"], "appeal accepted");
        assert!(d["reinstatement_requests"][0]["resolved_at"].is_string());
        let (_, p) = get(&customer, &server, &format!("/api/agents/{agent}")).await;
        assert_eq!(p["accepting_orders"], true);
        let (_, list) = get(&customer, &server, "/api/agents").await;
        assert!(
            list["agents"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["id"] == agent.as_str())
        );
        let (_, st) = place(&server, &customer, &agent, &gig).await;
        assert_eq!(st, "in_progress");
        assert_eq!(
            order_state(&server, &customer, &fresh).await,
            "refunded",
            "refunds stay"
        );

        // Both actions are in the audit log, newest first, with who and why.
        let (s, a) = get(
            &support,
            &server,
            &format!("/api/admin/audit?target=agent&target_id={agent}"),
        )
        .await;
        assert_eq!(s, 200);
        let entries = a["entries"].as_array().unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["reinstate_agent", "suspend_agent"], "{}", db.label);
        assert!(entries.iter().all(|e| e["actor_id"] == support_id.as_str()));
        assert_eq!(entries[1]["reason"], "fake deliverables");
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn reports_disputes_and_flags_share_one_queue() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let (support, support_id) = support_user(&server, &db).await;
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Busy").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let reporter = signup(&server, "reporter@example.com", false).await;

        // A disputed order (with a brief file support may download), a flagged one.
        let form = Form::new()
            .text("order", order_form(&agent, &gig, "Basic").to_string())
            .part("files", Part::bytes(b"the brief".to_vec()).file_name("brief.txt"));
        let (s, o) = json_of(
            customer
                .post(server.url("/api/customer/orders"))
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201);
        let disputed = o["id"].as_str().unwrap().to_owned();
        let file = o["attachments"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(deliver(&server, &key, &disputed).await, 201);
        let (s, _) = post(
            &customer,
            &server,
            &format!("/api/customer/orders/{disputed}/flag"),
            json!({"reason": "nothing works"}),
        )
        .await;
        assert_eq!(s, 200);
        let (flagged, _) = place(&server, &customer, &agent, &gig).await;
        let r = reqwest::Client::new()
            .post(server.url(&format!("/api/orders/{flagged}/flag")))
            .bearer_auth(&key)
            .json(&json!({"reason": "policy_violation"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

        // Reports: bad input first.
        for (body, status, field) in [
            (
                json!({"target": "user", "id": agent, "reason": "spam"}),
                422,
                Some("target"),
            ),
            (json!({"id": agent, "reason": "spam"}), 422, Some("target")),
            (json!({"target": "agent", "reason": "spam"}), 422, Some("id")),
            (json!({"target": "agent", "id": agent}), 422, Some("reason")),
            (
                json!({"target": "agent", "id": agent, "reason": "x".repeat(2001)}),
                422,
                Some("reason"),
            ),
            (
                json!({"target": "agent", "id": "agt_\u{0}", "reason": "spam"}),
                422,
                Some("id"),
            ),
            (
                json!({"target": "agent", "id": "agt_nope", "reason": "spam"}),
                404,
                None,
            ),
            (
                json!({"target": "review", "id": "rev_nope", "reason": "spam"}),
                404,
                None,
            ),
        ] {
            let (s, e) = post(&reporter, &server, "/api/reports", body.clone()).await;
            assert_eq!((s, e["error"]["field"].as_str()), (status, field), "{body}: {e}");
        }
        let (s, _) = post(
            &browser(),
            &server,
            "/api/reports",
            json!({"target": "agent", "id": agent, "reason": "spam"}),
        )
        .await;
        assert_eq!(s, 401);
        let (s, rep) = post(
            &reporter,
            &server,
            "/api/reports",
            json!({"target": "agent", "id": agent, "reason": "spams the chat"}),
        )
        .await;
        assert_eq!(s, 201, "{rep}");
        assert_eq!((&rep["target"], &rep["agent_id"]), (&json!("agent"), &json!(agent)));
        let (s, e) = post(
            &reporter,
            &server,
            "/api/reports",
            json!({"target": "agent", "id": agent, "reason": "again"}),
        )
        .await;
        assert_eq!((s, code(&e)), (409, "already_reported"));

        // The queue: oldest first across kinds, counts, keyset pages.
        let (s, q) = get(&support, &server, "/api/admin/queue").await;
        assert_eq!(s, 200);
        assert_eq!(
            q["counts"],
            json!({"dispute": 1, "flagged": 1, "report": 1, "reinstatement": 0, "total": 3})
        );
        let kinds: Vec<&str> = q["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["dispute", "flagged", "report"], "{}", db.label);
        assert_eq!(q["items"][0]["order"]["state"], "disputed");
        assert_eq!(q["next"], Value::Null);
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                None => "/api/admin/queue?limit=1".to_owned(),
                Some(c) => format!("/api/admin/queue?limit=1&cursor={c}"),
            };
            let (_, page) = get(&support, &server, &path).await;
            assert_eq!(page["items"].as_array().unwrap().len(), 1);
            seen.push(page["items"][0]["id"].as_str().unwrap().to_owned());
            match page["next"].as_str() {
                Some(n) => cursor = Some(n.to_owned()),
                None => break,
            }
        }
        assert_eq!(
            seen,
            [
                disputed.clone(),
                flagged.clone(),
                rep["id"].as_str().unwrap().to_owned()
            ]
        );
        for bad in [
            "/api/admin/queue?cursor=nope",
            "/api/admin/queue?limit=0",
            "/api/admin/queue?limit=101",
        ] {
            let (s, _) = get(&support, &server, bad).await;
            assert_eq!(s, 422, "{bad}");
        }

        // Support downloads a disputed order's files, not those of orders outside its queue.
        let r = support
            .get(server.url(&format!("/api/admin/orders/{disputed}/files/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap().as_ref(), b"the brief");
        let (_, thread) = get(&support, &server, &format!("/api/admin/orders/{disputed}/thread")).await;
        assert!(thread.is_object(), "{thread}");
        let (_, ds) = get(&support, &server, &format!("/api/admin/orders/{disputed}/deliveries")).await;
        assert_eq!(ds["deliveries"].as_array().unwrap().len(), 1);

        // Resolutions, each audited.
        let (s, e) = post(&support, &server, "/api/admin/reports/rpt_nope/resolve", json!({})).await;
        assert_eq!(s, 404, "{e}");
        let resolve = format!("/api/admin/reports/{}/resolve", rep["id"].as_str().unwrap());
        let (s, e) = post(&support, &server, &resolve, json!({"resolution": "x"})).await;
        assert_eq!(s, 400, "unknown field: {e}");
        let (s, done) = post(&support, &server, &resolve, json!({"reason": "warned the owner"})).await;
        assert_eq!(s, 200, "{done}");
        assert_eq!(done["resolved_by"], support_id.as_str());
        let (s, e) = post(&support, &server, &resolve, json!({})).await;
        assert_eq!((s, code(&e)), (409, "already_resolved"));
        let (s, o) = post(
            &support,
            &server,
            &format!("/api/admin/orders/{disputed}/resolve"),
            json!({"refund": 5, "reason": "half of it works"}),
        )
        .await;
        assert_eq!((s, &o["state"]), (200, &json!("completed")), "{o}");
        let r = support
            .post(server.url(&format!("/api/admin/orders/{flagged}/refund")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let (_, q) = get(&support, &server, "/api/admin/queue").await;
        assert_eq!(q["counts"]["total"], 0);
        assert_eq!(q["items"], json!([]));
        let r = support
            .get(server.url(&format!("/api/admin/orders/{disputed}/files/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "a settled order's files are no longer support's");

        // The audit log pages newest first.
        let (_, a) = get(&support, &server, "/api/admin/audit").await;
        let actions: Vec<&str> = a["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            ["refund_flagged", "resolve_dispute", "resolve_report"],
            "{}",
            db.label
        );
        assert_eq!(a["entries"][1]["reason"], "refund 5: half of it works");
        assert_eq!(a["entries"][1]["target_id"], disputed.as_str());
        let (_, p1) = get(&support, &server, "/api/admin/audit?limit=2").await;
        assert_eq!(p1["entries"].as_array().unwrap().len(), 2);
        let next = p1["next"].as_str().unwrap().to_owned();
        let (_, p2) = get(&support, &server, &format!("/api/admin/audit?limit=2&cursor={next}")).await;
        assert_eq!(p2["entries"][0]["action"], "resolve_report");
        assert_eq!(p2["next"], Value::Null);
        for bad in [
            "/api/admin/audit?target=agent",
            "/api/admin/audit?target=wallet&target_id=x",
            "/api/admin/audit?cursor=x",
        ] {
            let (s, _) = get(&support, &server, bad).await;
            assert_eq!(s, 422, "{bad}");
        }

        // The ledger check over HTTP.
        let (s, l) = get(&support, &server, "/api/admin/ledger").await;
        assert_eq!(s, 200);
        assert_eq!((&l["ok"], &l["violations"]), (&json!(true), &json!([])));
        assert!(l["checked_at"].is_string());
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn support_routes_refuse_everyone_else() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let (support, _) = support_user(&server, &db).await;
        let owner = signup(&server, "owner@example.com", true).await;
        let other_owner = signup(&server, "other@example.com", true).await;
        let customer = signup(&server, "customer@example.com", false).await;
        let (agent, _, gig) = live_agent(&server, &owner, "Guarded").await;
        let (oid, _) = place(&server, &customer, &agent, &gig).await;
        let (s, _) = post(
            &customer,
            &server,
            &format!("/api/customer/orders/{oid}/flag"),
            json!({"reason": "r"}),
        )
        .await;
        assert_eq!(s, 200);
        let (s, rep) = post(
            &customer,
            &server,
            "/api/reports",
            json!({"target": "agent", "id": agent, "reason": "r"}),
        )
        .await;
        assert_eq!(s, 201);
        let rpt = rep["id"].as_str().unwrap().to_owned();
        let anon = browser();
        let check = |who: &'static str, path: &str, got: (u16, Value), want: (u16, &str)| {
            assert_eq!((got.0, code(&got.1)), want, "{}: {who} on {path}", db.label);
        };

        let gets = [
            "/api/admin/queue".to_owned(),
            format!("/api/admin/agents/{agent}"),
            "/api/admin/audit".to_owned(),
            "/api/admin/ledger".to_owned(),
            format!("/api/admin/orders/{oid}/files/fil_x"),
        ];
        for path in &gets {
            check("anonymous", path, get(&anon, &server, path).await, (404, "not_found"));
            check(
                "an owner",
                path,
                get(&owner, &server, path).await,
                (403, "not_an_admin"),
            );
            check(
                "a customer",
                path,
                get(&customer, &server, path).await,
                (403, "not_an_admin"),
            );
        }
        let posts = [
            (format!("/api/admin/agents/{agent}/suspend"), json!({"reason": "r"})),
            (format!("/api/admin/agents/{agent}/reinstate"), json!({})),
            (format!("/api/admin/reports/{rpt}/resolve"), json!({})),
            ("/api/admin/reinstatement-requests/rrq_x/resolve".to_owned(), json!({})),
            (format!("/api/admin/orders/{oid}/resolve"), json!({"refund": 1})),
        ];
        for (path, body) in &posts {
            check(
                "anonymous",
                path,
                post(&anon, &server, path, body.clone()).await,
                (404, "not_found"),
            );
            check(
                "an owner",
                path,
                post(&owner, &server, path, body.clone()).await,
                (403, "not_an_admin"),
            );
            check(
                "a customer",
                path,
                post(&customer, &server, path, body.clone()).await,
                (403, "not_an_admin"),
            );
        }
        let ask = format!("/api/owner/agents/{agent}/reinstatement");
        let body = json!({"message": "m"});
        check(
            "anonymous",
            &ask,
            post(&anon, &server, &ask, body.clone()).await,
            (401, "unauthorized"),
        );
        check(
            "a customer",
            &ask,
            post(&customer, &server, &ask, body.clone()).await,
            (403, "not_an_owner"),
        );
        check(
            "another owner",
            &ask,
            post(&other_owner, &server, &ask, body.clone()).await,
            (404, "not_found"),
        );
        let cancel = format!("/api/customer/orders/{oid}/cancel");
        check(
            "anonymous",
            &cancel,
            post(&anon, &server, &cancel, json!({})).await,
            (401, "unauthorized"),
        );
        check(
            "another customer",
            &cancel,
            post(&other_owner, &server, &cancel, json!({})).await,
            (404, "not_found"),
        );
        let (s, _) = post(
            &anon,
            &server,
            "/api/reports",
            json!({"target": "agent", "id": agent, "reason": "r"}),
        )
        .await;
        assert_eq!(s, 401);
        // The audit log has no route that changes it.
        for method in [reqwest::Method::PUT, reqwest::Method::PATCH, reqwest::Method::DELETE] {
            let r = support
                .request(method.clone(), server.url("/api/admin/audit"))
                .send()
                .await
                .unwrap();
            assert!(
                [404, 405].contains(&r.status().as_u16()),
                "{method} answered {}",
                r.status()
            );
        }

        // Nothing changed.
        let (_, q) = get(&support, &server, "/api/admin/queue").await;
        assert_eq!(
            q["counts"],
            json!({"dispute": 1, "flagged": 0, "report": 1, "reinstatement": 0, "total": 2})
        );
        let (_, a) = get(&support, &server, "/api/admin/audit").await;
        assert_eq!(a["entries"], json!([]));
        let (_, p) = get(&customer, &server, &format!("/api/agents/{agent}")).await;
        assert_eq!(p["suspended"], false);
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn a_review_is_reported_and_support_resolves_the_report() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let (support, _) = support_user(&server, &db).await;
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Reviewed").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let (oid, _) = place(&server, &customer, &agent, &gig).await;
        assert_eq!(deliver(&server, &key, &oid).await, 201);
        let (s, _) = post(&owner, &server, &format!("/api/owner/orders/{oid}/release"), json!({})).await;
        assert_eq!(s, 200);
        let (s, _) = post(
            &customer,
            &server,
            &format!("/api/customer/orders/{oid}/accept"),
            json!({}),
        )
        .await;
        assert_eq!(s, 200);
        let (s, review) = post(
            &customer,
            &server,
            &format!("/api/customer/orders/{oid}/review"),
            json!({"stars": 5, "text": "great"}),
        )
        .await;
        assert_eq!(s, 201, "{review}");
        let rid = review["id"].as_str().unwrap().to_owned();

        // The owner reports the review (say, a competitor's sock puppet).
        let body = json!({"target": "review", "id": rid, "reason": "sock puppet"});
        let (s, rep) = post(&owner, &server, "/api/reports", body.clone()).await;
        assert_eq!(s, 201, "{rep}");
        assert_eq!((&rep["target"], &rep["target_id"]), (&json!("review"), &json!(rid)));
        assert_eq!(rep["agent_id"], agent.as_str(), "a review's report concerns its agent");
        let (s, e) = post(&owner, &server, "/api/reports", body).await;
        assert_eq!((s, code(&e)), (409, "already_reported"));
        let (_, q) = get(&support, &server, "/api/admin/queue").await;
        assert_eq!(q["counts"]["report"], 1);
        assert_eq!(q["items"][0]["report"]["target_id"], rid.as_str());
        let (_, d) = get(&support, &server, &format!("/api/admin/agents/{agent}")).await;
        assert_eq!(d["open_reports"], 1);
        assert_eq!(d["counters"]["rating_count"], 1, "{}", db.label);
        assert_eq!(d["counters"]["completed"], 1);

        let path = format!("/api/admin/reports/{}/resolve", rep["id"].as_str().unwrap());
        let r = support.post(server.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "no body is fine");
        let (_, d) = get(&support, &server, &format!("/api/admin/agents/{agent}")).await;
        assert_eq!(d["open_reports"], 0);
        assert!(d["reports"][0]["resolved_at"].is_string());

        // Ranked while in good standing; a suspension takes it off the leaderboard.
        let ranked = |board: &Value| {
            board["agents"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["id"] == agent.as_str())
        };
        let (_, board) = get(&customer, &server, "/api/leaderboard").await;
        assert!(ranked(&board), "{board}");
        let suspend = format!("/api/admin/agents/{agent}/suspend");
        let (s, _) = post(&support, &server, &suspend, json!({"reason": "review ring"})).await;
        assert_eq!(s, 200);
        let (_, board) = get(&customer, &server, "/api/leaderboard").await;
        assert!(!ranked(&board), "{board}");
        assert_ledger_ok(&db);
    }
}
