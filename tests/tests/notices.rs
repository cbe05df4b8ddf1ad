//! Notices that reach people, on both databases, through a real SMTP server (aiosmtpd,
//! started by the test): each kind of notice is caused by its transition, and then the
//! right person has it in-app and by email — with the agent, the order, what happened,
//! what to do and a link — and nobody else has it. Preferences switch optional emails
//! off (never essential ones); read marks belong to their user.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use support::flow::*;
use support::smtp::{Opts, SmtpPeer};
use support::*;

const BASE: &str = "https://heepr.test";

struct World {
    server: Server,
    peer: SmtpPeer,
    customer: reqwest::Client,
    owner: reqwest::Client,
    stranger: reqwest::Client,
    support: reqwest::Client,
    /// Auto-accepting agent: (id, key, gig).
    auto: (String, String, String),
    /// Manually accepting agent: (id, key, gig).
    manual: (String, String, String),
}

const CUSTOMER: &str = "customer@example.com";
const OWNER: &str = "owner@example.com";
const STRANGER: &str = "stranger@example.com";

/// An agent onboarded with the approval link from the email the SMTP server received.
async fn agent_via_email(
    server: &Server,
    peer: &SmtpPeer,
    owner: &reqwest::Client,
    name: &str,
    n: usize,
) -> (String, String, String) {
    create_agent(server, owner, name).await;
    let mails = peer.wait_for(OWNER, n).await;
    let code = code_in_link(mails[n - 1]["text"].as_str().unwrap());
    let setup = approve_agent(server, owner, &code).await;
    register_agent(server, &setup).await
}

async fn world(db: &TestDb) -> World {
    let peer = SmtpPeer::start(&Opts::default());
    let mail = format!("smtp://127.0.0.1:{}", peer.port);
    let server = Server::start(
        db,
        &[
            ("HEEPR_MAIL", &mail),
            ("HEEPR_BASE_URL", BASE),
            ("HEEPR_MAIL_REPLY_TO", "help@heepr.test"),
            ("HEEPR_TEST_CLOCK", "1"),
        ],
    );
    let owner = signup(&server, OWNER, true).await;
    let auto = agent_via_email(&server, &peer, &owner, "Speedy", 1).await;
    let manual_agent = agent_via_email(&server, &peer, &owner, "Careful", 2).await;
    let gig = make_manual(&server, &owner, &manual_agent.0).await;
    let manual = (manual_agent.0, manual_agent.1, gig);
    let customer = signup(&server, CUSTOMER, false).await;
    let stranger = signup(&server, STRANGER, false).await;
    let (support, _) = support_user(&server, db).await;
    World {
        server,
        peer,
        customer,
        owner,
        stranger,
        support,
        auto,
        manual,
    }
}

/// `c`'s notices (newest first).
async fn notices(w: &World, c: &reqwest::Client) -> Vec<Value> {
    let (s, list) = get(c, &w.server, "/api/notifications?limit=100").await;
    assert_eq!(s, 200, "{list}");
    list["notifications"].as_array().unwrap().clone()
}

fn about<'a>(list: &'a [Value], kind: &str, subject: &str) -> Vec<&'a Value> {
    list.iter()
        .filter(|n| {
            n["kind"] == kind && (n["order_id"] == subject || n["agent_id"] == subject || n["thread_id"] == subject)
        })
        .collect()
}

/// `who` was told `kind` about `subject` (an order, agent or thread id) once, in-app and
/// by email, in words that contain `says`; the other people in the world were not told it
/// (what their role is told in other words is theirs: a thread tells each side of the
/// other's messages).
async fn told(w: &World, who: &str, kind: &str, subject: &str, says: &str) -> Value {
    told_with(w, who, &[], kind, subject, says).await
}

/// Both parties of an order were told `kind` (each in their own words); nobody else.
async fn told_both(w: &World, kind: &str, subject: &str, customer_says: &str, owner_says: &str) {
    told_with(w, CUSTOMER, &[OWNER], kind, subject, customer_says).await;
    told_with(w, OWNER, &[CUSTOMER], kind, subject, owner_says).await;
}

async fn told_with(w: &World, who: &str, also: &[&str], kind: &str, subject: &str, says: &str) -> Value {
    let people = [(CUSTOMER, &w.customer), (OWNER, &w.owner), (STRANGER, &w.stranger)];
    let mut found = None;
    for (email, c) in people {
        let list = notices(w, c).await;
        let words = |n: &Value| format!("{} {}", n["title"].as_str().unwrap(), n["body"].as_str().unwrap());
        let mine: Vec<&Value> = about(&list, kind, subject)
            .into_iter()
            .filter(|n| words(n).contains(says))
            .collect();
        if email == who {
            assert_eq!(mine.len(), 1, "{who}: one {kind} about {subject}: {list:?}");
            found = Some(mine[0].clone());
        } else if !also.contains(&email) {
            assert!(
                mine.is_empty(),
                "{email} must not be told {kind} about {subject}: {mine:?}"
            );
        }
    }
    let n = found.unwrap();
    let words = format!("{} {}", n["title"].as_str().unwrap(), n["body"].as_str().unwrap());
    assert!(words.contains(says), "{kind}: {words:?} should say {says:?}");
    let link = n["link"].as_str().unwrap();
    assert!(link.starts_with(BASE) && link.contains(subject), "{kind}: link {link}");
    // The email carries the same words, in text and HTML, with the link.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let mails = w.peer.wait_for(who, 1).await;
        if let Some(m) = mails
            .iter()
            .find(|m| m["subject"] == n["title"] && m["text"].as_str().unwrap().contains(link))
        {
            let text = m["text"].as_str().unwrap();
            assert!(text.contains(says), "{kind} email: {text}");
            assert!(
                m["html"].as_str().unwrap().contains(link),
                "{kind}: HTML part with the link"
            );
            assert_eq!(m["reply_to"], "help@heepr.test");
            assert!(m["from"].as_str().unwrap().contains("no-reply@heepr.local"));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{kind}: no email to {who} titled {}",
            n["title"]
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    n
}

async fn owner_does(w: &World, order: &str, action: &str, body: Value) {
    let (s, o) = post(
        &w.owner,
        &w.server,
        &format!("/api/owner/orders/{order}/{action}"),
        body,
    )
    .await;
    assert_eq!(s, 200, "{action}: {o}");
}

async fn customer_does(w: &World, order: &str, action: &str, body: Value) {
    let (s, o) = post(
        &w.customer,
        &w.server,
        &format!("/api/customer/orders/{order}/{action}"),
        body,
    )
    .await;
    assert!(s == 200 || s == 201, "{action}: {s} {o}");
}

async fn advance(w: &World, seconds: i64) {
    let c = reqwest::Client::new();
    let r = c
        .post(w.server.url("/api/test/clock"))
        .json(&json!({"seconds": seconds}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c.post(w.server.url("/api/test/timers")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn every_notice_reaches_its_person_in_app_and_by_email() {
    for db in TestDb::all() {
        let w = world(&db).await;
        let (auto, key, gig) = w.auto.clone();
        let (manual, _, mgig) = w.manual.clone();

        // Placement on a manual agent: the owner approves.
        let (o1, st) = place(&w.server, &w.customer, &manual, &mgig).await;
        assert_eq!(st, "pending_owner_approval");
        told(&w, OWNER, "order_needs_approval", &o1, "within 24 hours").await;
        owner_does(&w, &o1, "approve", json!({})).await;
        told(&w, CUSTOMER, "order_approved", &o1, "Careful").await;

        // Refunds, each with its reason.
        let (o2, _) = place(&w.server, &w.customer, &manual, &mgig).await;
        owner_does(&w, &o2, "deny", json!({"reason": "busy"})).await;
        told(&w, CUSTOMER, "order_refunded", &o2, "denied the order").await;
        let (o3, _) = place(&w.server, &w.customer, &manual, &mgig).await;
        customer_does(&w, &o3, "cancel", json!({})).await;
        told_both(&w, "order_refunded", &o3, "You cancelled", "before you approved it").await;
        let (o4, _) = place(&w.server, &w.customer, &auto, &gig).await;
        let s = agent_post(
            &w.server,
            &key,
            &format!("/api/orders/{o4}/decline"),
            json!({"reason": "capacity"}),
        )
        .await;
        assert_eq!(s, 200);
        told(&w, CUSTOMER, "order_refunded", &o4, "Speedy declined").await;

        // Review by the owner, release, completion.
        let (o5, _) = place(&w.server, &w.customer, &auto, &gig).await;
        owner_does(&w, &o5, "auto-approve", json!({"enabled": false})).await;
        assert_eq!(deliver(&w.server, &key, &o5).await, 201);
        told(
            &w,
            OWNER,
            "delivery_needs_review",
            &o5,
            "released to the customer automatically at",
        )
        .await;
        owner_does(&w, &o5, "release", json!({})).await;
        told(&w, CUSTOMER, "delivery_released", &o5, "Review it").await;
        customer_does(&w, &o5, "accept", json!({})).await;
        told_both(&w, "order_completed", &o5, "review Speedy", "payment is in your wallet").await;

        // A flag, then revisions beyond the cap.
        let (o6, _) = place(&w.server, &w.customer, &auto, &gig).await;
        let s = agent_post(
            &w.server,
            &key,
            &format!("/api/orders/{o6}/flag"),
            json!({"reason": "illegal", "note": "asks for malware"}),
        )
        .await;
        assert_eq!(s, 200);
        told(&w, OWNER, "order_flagged", &o6, "asks for malware").await;
        let (o7, _) = place(&w.server, &w.customer, &auto, &gig).await;
        owner_does(&w, &o7, "auto-approve", json!({"enabled": true})).await;
        assert_eq!(deliver(&w.server, &key, &o7).await, 201);
        customer_does(&w, &o7, "revision", json!({"message": "add a test"})).await;
        assert_eq!(deliver(&w.server, &key, &o7).await, 201);
        customer_does(&w, &o7, "revision", json!({"message": "and another one"})).await;
        told(&w, OWNER, "revision_needs_approval", &o7, "and another one").await;
        let (s, _) = post(
            &w.owner,
            &w.server,
            &format!("/api/owner/orders/{o7}/revision/deny"),
            json!({}),
        )
        .await;
        assert_eq!(s, 200);
        told(&w, CUSTOMER, "revision_answered", &o7, "did not grant").await;

        // A dispute, resolved by support.
        customer_does(&w, &o7, "flag", json!({"reason": "tests do not run"})).await;
        told(&w, OWNER, "order_disputed", &o7, "tests do not run").await;
        let (s, _) = post(
            &w.support,
            &w.server,
            &format!("/api/admin/orders/{o7}/resolve"),
            json!({"refund": 10}),
        )
        .await;
        assert_eq!(s, 200);
        told_both(&w, "dispute_resolved", &o7, "10 of the 25 points", "Your share").await;

        // A missed deadline, by the scheduler.
        let (o8, _) = place(&w.server, &w.customer, &auto, &gig).await;
        advance(&w, 3 * 86_400).await;
        told(&w, CUSTOMER, "order_refunded", &o8, "missed the deadline").await;

        // Chat: each side hears of the other's message; asking for a human.
        let (s, t) = post(
            &w.customer,
            &w.server,
            "/api/threads",
            json!({"agent_id": manual, "message": "Can you do <b>Go</b>?"}),
        )
        .await;
        assert_eq!(s, 201, "{t}");
        let thread = t["id"].as_str().unwrap().to_owned();
        told(&w, OWNER, "new_message", &thread, "Can you do <b>Go</b>?").await;
        let (s, _) = post(
            &w.owner,
            &w.server,
            &format!("/api/threads/{thread}/messages"),
            json!({"body": "Yes"}),
        )
        .await;
        assert_eq!(s, 201);
        told(&w, CUSTOMER, "new_message", &thread, "Yes").await;
        let (s, _) = post(
            &w.customer,
            &w.server,
            &format!("/api/threads/{thread}/human"),
            json!({}),
        )
        .await;
        assert_eq!(s, 200);
        told(&w, OWNER, "human_requested", &thread, "talk to a person").await;

        // Suspension and reinstatement.
        let (s, _) = post(
            &w.support,
            &w.server,
            &format!("/api/admin/agents/{auto}/suspend"),
            json!({"reason": "fake outputs"}),
        )
        .await;
        assert_eq!(s, 200);
        told(&w, OWNER, "agent_suspended", &auto, "fake outputs").await;
        let (s, _) = post(
            &w.support,
            &w.server,
            &format!("/api/admin/agents/{auto}/reinstate"),
            json!({"reason": "appeal accepted"}),
        )
        .await;
        assert_eq!(s, 200);
        told(&w, OWNER, "agent_reinstated", &auto, "appeal accepted").await;

        // The stranger was told nothing, by any channel.
        assert!(notices(&w, &w.stranger).await.is_empty());
        assert!(w.peer.messages().iter().all(|m| m["rcpt_tos"][0] != STRANGER));
        // The HTML part escapes what people wrote; the text part keeps it.
        let to_owner = w.peer.wait_for(OWNER, 1).await;
        let chat = to_owner
            .iter()
            .find(|m| m["text"].as_str().unwrap().contains("Can you do <b>Go</b>?"))
            .unwrap();
        assert!(!chat["html"].as_str().unwrap().contains("<b>Go</b>"));
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn preferences_switch_optional_emails_off_and_read_marks_are_the_users_own() {
    for db in TestDb::all() {
        let w = world(&db).await;
        let (auto, key, gig) = w.auto.clone();
        let prefs = "/api/notifications/preferences";
        let (s, p) = get(&w.customer, &w.server, prefs).await;
        assert_eq!(s, 200);
        assert_eq!(p["email"]["new_message"], true);
        assert!(p["essential"].as_array().unwrap().contains(&json!("order_refunded")));

        // Bad input changes nothing.
        let patch = |body: Value| w.customer.patch(w.server.url(prefs)).json(&body).send();
        let (s, e) = json_of(patch(json!({"email": {"order_refunded": false}})).await.unwrap()).await;
        assert_eq!(
            (s, code(&e), e["error"]["field"].as_str()),
            (422, "validation_failed", Some("email.order_refunded"))
        );
        let (s, e) = json_of(
            patch(json!({"email": {"nope": false, "new_message": false}}))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((s, e["error"]["field"].as_str()), (422, Some("email.nope")));
        assert_eq!(get(&w.customer, &w.server, prefs).await.1["email"]["new_message"], true);
        let (s, _) = json_of(patch(json!({"email": "off"})).await.unwrap()).await;
        assert_eq!(s, 400);
        let anonymous = reqwest::Client::new();
        for (method, path) in [
            ("GET", prefs),
            ("PATCH", prefs),
            ("GET", "/api/notifications"),
            ("POST", "/api/notifications/read-all"),
        ] {
            let r = anonymous
                .request(method.parse().unwrap(), w.server.url(path))
                .json(&json!({"email": {}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401, "{method} {path}");
        }

        // Messages and approvals stop reaching the customer's inbox; refunds do not.
        let (s, p) = json_of(
            patch(json!({"email": {"new_message": false, "delivery_released": false}}))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200, "{p}");
        assert_eq!(
            (p["email"]["new_message"].clone(), p["email"]["order_refunded"].clone()),
            (json!(false), json!(true))
        );
        let (_, t) = post(
            &w.customer,
            &w.server,
            "/api/threads",
            json!({"agent_id": auto, "message": "hello"}),
        )
        .await;
        let thread = t["id"].as_str().unwrap().to_owned();
        let (s, _) = post(
            &w.owner,
            &w.server,
            &format!("/api/threads/{thread}/messages"),
            json!({"body": "quiet please"}),
        )
        .await;
        assert_eq!(s, 201);
        let (o, _) = place(&w.server, &w.customer, &auto, &gig).await;
        assert_eq!(
            agent_post(
                &w.server,
                &key,
                &format!("/api/orders/{o}/decline"),
                json!({"reason": "capacity"})
            )
            .await,
            200
        );
        // Notices are emailed oldest first: once the refund arrived, the message's
        // notice was handled too — in-app only.
        let refund = told(&w, CUSTOMER, "order_refunded", &o, "declined").await;
        let list = notices(&w, &w.customer).await;
        assert_eq!(about(&list, "new_message", &thread).len(), 1, "still in-app");
        assert!(
            w.peer
                .messages()
                .iter()
                .all(|m| !m["text"].as_str().unwrap().contains("quiet please"))
        );

        // Unread count, one read, all read; another user's notice is not found.
        let (_, page) = get(&w.customer, &w.server, "/api/notifications").await;
        let unread = page["unread_count"].as_i64().unwrap();
        assert!(unread >= 2, "{page}");
        let id = refund["id"].as_str().unwrap();
        let r = w
            .owner
            .post(w.server.url(&format!("/api/notifications/{id}/read")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "not the owner's notice");
        let r = w
            .owner
            .post(w.server.url("/api/notifications/ntf_nope/read"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let r = anonymous
            .post(w.server.url(&format!("/api/notifications/{id}/read")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(
            get(&w.customer, &w.server, "/api/notifications").await.1["unread_count"],
            unread
        );
        let r = w
            .customer
            .post(w.server.url(&format!("/api/notifications/{id}/read")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let (_, page) = get(&w.customer, &w.server, "/api/notifications?unread=true&limit=100").await;
        assert_eq!(page["unread_count"].as_i64().unwrap(), unread - 1);
        assert!(page["notifications"].as_array().unwrap().iter().all(|n| n["id"] != id));
        let r = w
            .customer
            .post(w.server.url("/api/notifications/read-all"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(
            get(&w.customer, &w.server, "/api/notifications").await.1["unread_count"],
            0
        );
        assert!(
            get(&w.owner, &w.server, "/api/notifications").await.1["unread_count"]
                .as_i64()
                .unwrap()
                > 0,
            "the owner's stay unread"
        );

        // Paging: a cursor walks older notices without repeats.
        let (_, first) = get(&w.customer, &w.server, "/api/notifications?limit=1").await;
        let next = first["next_cursor"].as_str().unwrap();
        let (_, second) = get(
            &w.customer,
            &w.server,
            &format!("/api/notifications?limit=1&cursor={next}"),
        )
        .await;
        assert_ne!(first["notifications"][0]["id"], second["notifications"][0]["id"]);
        let (s, e) = get(&w.customer, &w.server, "/api/notifications?limit=0").await;
        assert_eq!((s, e["error"]["field"].as_str()), (422, Some("limit")));
        let (s, _) = get(&w.customer, &w.server, "/api/notifications?limit=x").await;
        assert_eq!(s, 400);
        assert_ledger_ok(&db);
    }
}
