//! Reviews and reputation over HTTP, on both databases (SPEC §9, §11, §15): the review
//! with its bonus, every refusal changing nothing, the owner's one reply, the counters
//! every transition keeps (also timers and support), the leaderboard that a few
//! five-star reviews cannot top, and keyset paging of every browse order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use std::collections::HashSet;
use support::flow::{json_of, post};
use support::*;

fn order_form(agent: &str, gig: &str) -> Value {
    json!({"agent_id": agent, "gig_id": gig, "tier": "Basic", "inputs": {"repo": "https://example.com/r", "lang": "rust"}})
}

async fn balance(c: &reqwest::Client, server: &Server) -> i64 {
    get_json(c, server.url("/api/me")).await["balance"].as_i64().unwrap()
}

/// One agent's parties: its owner's session, its key, its gig.
struct Worker {
    id: String,
    key: String,
    gig: String,
}

async fn worker(server: &Server, owner: &reqwest::Client, name: &str) -> Worker {
    let (id, key, gig) = live_agent(server, owner, name).await;
    Worker { id, key, gig }
}

/// Places a Basic order (in progress at once: auto mode inside the band).
async fn place(server: &Server, customer: &reqwest::Client, w: &Worker) -> String {
    let (s, o) = post(customer, server, "/api/customer/orders", order_form(&w.id, &w.gig)).await;
    assert_eq!(s, 201, "{o}");
    o["id"].as_str().unwrap().to_owned()
}

async fn deliver(server: &Server, w: &Worker, oid: &str) {
    let r = reqwest::Client::new()
        .post(server.url(&format!("/api/orders/{oid}/deliver")))
        .bearer_auth(&w.key)
        .json(&json!({"text": "done"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

/// Place → deliver → release → accept: a completed order.
async fn completed(server: &Server, customer: &reqwest::Client, owner: &reqwest::Client, w: &Worker) -> String {
    let oid = place(server, customer, w).await;
    deliver(server, w, &oid).await;
    let (s, _) = post(owner, server, &format!("/api/owner/orders/{oid}/release"), json!({})).await;
    assert_eq!(s, 200);
    let (s, o) = post(
        customer,
        server,
        &format!("/api/customer/orders/{oid}/accept"),
        json!({}),
    )
    .await;
    assert_eq!((s, o["state"].as_str()), (200, Some("completed")));
    oid
}

async fn review(server: &Server, customer: &reqwest::Client, oid: &str, body: Value) -> (u16, Value) {
    post(customer, server, &format!("/api/customer/orders/{oid}/review"), body).await
}

async fn profile(server: &Server, agent: &str) -> Value {
    get_json(&reqwest::Client::new(), server.url(&format!("/api/agents/{agent}"))).await
}

async fn reviews_of(server: &Server, agent: &str) -> Vec<Value> {
    let page = get_json(
        &reqwest::Client::new(),
        server.url(&format!("/api/agents/{agent}/reviews")),
    )
    .await;
    page["reviews"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_review_pays_its_bonus_once_and_every_bad_one_changes_nothing() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let other_owner = signup(&server, "other@example.com", true).await;
        let w = worker(&server, &owner, "Reviewed").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let stranger = signup(&server, "stranger@example.com", false).await;
        let anon = browser();

        let done = completed(&server, &customer, &owner, &w).await;
        let open = place(&server, &customer, &w).await;
        let before = balance(&customer, &server).await;
        assert_eq!(before, 1000 - 2 * 25);

        // Every refusal is an envelope and writes nothing.
        let path = format!("/api/customer/orders/{done}/review");
        let long = "x".repeat(5_001);
        for (who, c, p, body, status, code) in [
            (
                "not completed",
                &customer,
                format!("/api/customer/orders/{open}/review"),
                json!({"stars": 5}),
                409,
                "order_not_completed",
            ),
            (
                "stars 0",
                &customer,
                path.clone(),
                json!({"stars": 0}),
                422,
                "validation_failed",
            ),
            (
                "stars 6",
                &customer,
                path.clone(),
                json!({"stars": 6}),
                422,
                "validation_failed",
            ),
            (
                "no stars",
                &customer,
                path.clone(),
                json!({"text": "nice"}),
                422,
                "validation_failed",
            ),
            (
                "long text",
                &customer,
                path.clone(),
                json!({"stars": 5, "text": long}),
                422,
                "validation_failed",
            ),
            (
                "NUL",
                &customer,
                path.clone(),
                json!({"stars": 5, "text": "a\u{0}b"}),
                422,
                "validation_failed",
            ),
            (
                "control",
                &customer,
                path.clone(),
                json!({"stars": 5, "text": "a\u{7}b"}),
                422,
                "validation_failed",
            ),
            (
                "half a star",
                &customer,
                path.clone(),
                json!({"stars": 4.5}),
                400,
                "bad_json",
            ),
            (
                "unknown field",
                &customer,
                path.clone(),
                json!({"stars": 5, "title": "x"}),
                400,
                "bad_json",
            ),
            (
                "another customer",
                &stranger,
                path.clone(),
                json!({"stars": 1}),
                404,
                "not_found",
            ),
            (
                "anonymous",
                &anon,
                path.clone(),
                json!({"stars": 1}),
                401,
                "unauthorized",
            ),
            (
                "unknown order",
                &customer,
                "/api/customer/orders/ord_nope/review".into(),
                json!({"stars": 5}),
                404,
                "not_found",
            ),
            (
                "not an order id",
                &customer,
                "/api/customer/orders/usr_x/review".into(),
                json!({"stars": 5}),
                404,
                "not_found",
            ),
        ] {
            let (s, e) = post(c, &server, &p, body).await;
            assert_eq!(
                (s, e["error"]["code"].as_str()),
                (status, Some(code)),
                "{}: {who}: {e}",
                db.label
            );
            if status == 422 {
                assert!(e["error"]["field"].is_string(), "{who}: {e}");
            }
        }
        assert_eq!(balance(&customer, &server).await, before);
        assert!(reviews_of(&server, &w.id).await.is_empty());

        // The review, retried with its key: one review, one bonus, the same answer.
        let keyed = |k: &'static str| {
            customer
                .post(server.url(&path))
                .header("Idempotency-Key", k)
                .json(&json!({"stars": 5, "text": " Fixed it in an hour.\nThanks! "}))
        };
        let (s, first) = json_of(keyed("review-1").send().await.unwrap()).await;
        assert_eq!(s, 201, "{first}");
        assert_eq!(
            (first["stars"].as_i64(), first["text"].as_str()),
            (Some(5), Some("Fixed it in an hour.\nThanks!"))
        );
        assert_eq!(first["reviewer"], "customer", "the display name, not the email or id");
        let r = keyed("review-1").send().await.unwrap();
        assert_eq!(r.headers()["idempotent-replayed"], "true");
        assert_eq!(r.json::<Value>().await.unwrap(), first);
        assert_eq!(
            balance(&customer, &server).await,
            before + 5,
            "{}: the bonus, once",
            db.label
        );
        let (s, e) = review(&server, &customer, &done, json!({"stars": 1})).await;
        assert_eq!((s, e["error"]["code"].as_str()), (409, Some("already_reviewed")));
        let (s, e) = json_of(keyed("review-2").send().await.unwrap()).await;
        assert_eq!((s, e["error"]["code"].as_str()), (409, Some("already_reviewed")));
        assert_eq!(balance(&customer, &server).await, before + 5);
        let wallet = get_json(&customer, server.url("/api/wallet")).await;
        let bonus = wallet["transfers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["kind"] == "review_bonus")
            .count();
        assert_eq!(bonus, 1, "{wallet}");

        let p = profile(&server, &w.id).await;
        assert_eq!(
            (
                p["rating"].as_f64(),
                p["reviews"].as_i64(),
                p["completed_orders"].as_i64()
            ),
            (Some(5.0), Some(1), Some(1))
        );
        let listed = reviews_of(&server, &w.id).await;
        assert_eq!(listed, std::slice::from_ref(&first), "{}", db.label);

        // The owner answers once; nobody else can.
        let rid = first["id"].as_str().unwrap();
        let reply = format!("/api/owner/reviews/{rid}/reply");
        for (who, c, body, status, code) in [
            ("another owner", &other_owner, json!({"text": "hi"}), 404, "not_found"),
            ("a customer", &customer, json!({"text": "hi"}), 403, "not_an_owner"),
            ("anonymous", &anon, json!({"text": "hi"}), 401, "unauthorized"),
            ("empty", &owner, json!({"text": "  "}), 422, "validation_failed"),
            ("NUL", &owner, json!({"text": "a\u{0}"}), 422, "validation_failed"),
        ] {
            let (s, e) = post(c, &server, &reply, body).await;
            assert_eq!(
                (s, e["error"]["code"].as_str()),
                (status, Some(code)),
                "{}: {who}: {e}",
                db.label
            );
        }
        let (s, e) = post(
            &owner,
            &server,
            "/api/owner/reviews/rev_nope/reply",
            json!({"text": "hi"}),
        )
        .await;
        assert_eq!((s, e["error"]["code"].as_str()), (404, Some("not_found")));
        let (s, answered) = post(&owner, &server, &reply, json!({"text": "Glad it helped"})).await;
        assert_eq!(
            (s, answered["reply"].as_str()),
            (200, Some("Glad it helped")),
            "{answered}"
        );
        assert!(answered["replied_at"].is_string());
        let (s, e) = post(&owner, &server, &reply, json!({"text": "again"})).await;
        assert_eq!((s, e["error"]["code"].as_str()), (409, Some("already_replied")));
        assert_eq!(reviews_of(&server, &w.id).await, [answered]);

        // An owner's own test order: completed, but no review, no bonus, no count.
        let own = completed(&server, &owner, &owner, &w).await;
        let owner_balance = balance(&owner, &server).await;
        let (s, e) = review(&server, &owner, &own, json!({"stars": 5})).await;
        assert_eq!((s, e["error"]["code"].as_str()), (403, Some("own_agent")), "{e}");
        assert_eq!(balance(&owner, &server).await, owner_balance);
        assert_eq!(
            profile(&server, &w.id).await["completed_orders"],
            1,
            "test orders are not counted"
        );

        // Reviews of unknown agents, and bad pages.
        let http = reqwest::Client::new();
        assert_eq!(
            http.get(server.url("/api/agents/agt_nope/reviews"))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        for q in ["limit=0", "limit=101", "cursor=abc"] {
            let r = http
                .get(server.url(&format!("/api/agents/{}/reviews?{q}", w.id)))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 422, "{q}");
        }
        assert_ledger_ok(&db);
    }
}

/// The agent's counters as the store keeps them (support reads them; the public
/// profile shows completed orders and the on-time rate).
fn counters(db: &TestDb, agent: &str) -> [i64; 5] {
    let r = db.open().agent(agent).unwrap().reputation;
    [r.completed, r.on_time, r.missed_deadlines, r.declines, r.flags]
}

#[tokio::test]
async fn counters_follow_completion_decline_flag_missed_deadline_and_support() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[("HEEPR_TEST_CLOCK", "1"), ("HEEPR_SCHEDULER_SECS", "3600")]);
        support::flow::create_support(&db);
        let support = browser();
        let (s, _) = post(
            &support,
            &server,
            "/api/auth/login",
            json!({"email": "support@example.com", "password": "support password"}),
        )
        .await;
        assert_eq!(s, 200);
        let owner = signup(&server, "owner@example.com", true).await;
        let w = worker(&server, &owner, "Counted").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let agent = reqwest::Client::new();
        assert_eq!(counters(&db, &w.id), [0; 5]);

        completed(&server, &customer, &owner, &w).await;
        assert_eq!(
            counters(&db, &w.id),
            [1, 1, 0, 0, 0],
            "{}: completed, on time",
            db.label
        );

        let declined = place(&server, &customer, &w).await;
        let r = agent
            .post(server.url(&format!("/api/orders/{declined}/decline")))
            .bearer_auth(&w.key)
            .json(&json!({"reason": "capacity"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(counters(&db, &w.id), [1, 1, 0, 1, 0], "{}: declined", db.label);

        let flagged = place(&server, &customer, &w).await;
        let r = agent
            .post(server.url(&format!("/api/orders/{flagged}/flag")))
            .bearer_auth(&w.key)
            .json(&json!({"reason": "policy_violation"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let (s, _) = post(
            &owner,
            &server,
            &format!("/api/owner/orders/{flagged}/refund"),
            json!({}),
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(
            counters(&db, &w.id),
            [1, 1, 0, 1, 1],
            "{}: flagged (the refund is no decline)",
            db.label
        );

        // A dispute support resolves to completed counts as a completion.
        let disputed = place(&server, &customer, &w).await;
        deliver(&server, &w, &disputed).await;
        post(
            &owner,
            &server,
            &format!("/api/owner/orders/{disputed}/release"),
            json!({}),
        )
        .await;
        let (s, _) = post(
            &customer,
            &server,
            &format!("/api/customer/orders/{disputed}/flag"),
            json!({"reason": "half done"}),
        )
        .await;
        assert_eq!(s, 200);
        let (s, o) = post(
            &support,
            &server,
            &format!("/api/admin/orders/{disputed}/resolve"),
            json!({"refund": 10}),
        )
        .await;
        assert_eq!((s, o["state"].as_str()), (200, Some("completed")), "{o}");
        assert_eq!(
            counters(&db, &w.id),
            [2, 2, 0, 1, 1],
            "{}: dispute resolved to completed",
            db.label
        );

        // The deadline (2 days) passes with nothing delivered; the scheduler refunds it.
        let late = place(&server, &customer, &w).await;
        let (s, _) = post(&support, &server, "/api/test/clock", json!({"seconds": 3 * 86_400})).await;
        assert_eq!(s, 200);
        let (_, t) = post(&support, &server, "/api/test/timers", json!({})).await;
        assert_eq!(t["changed"], 1, "{t}");
        let o = get_json(&customer, server.url(&format!("/api/customer/orders/{late}"))).await;
        assert_eq!(o["state"], "refunded");
        assert_eq!(counters(&db, &w.id), [2, 2, 1, 1, 1], "{}: missed deadline", db.label);

        let p = profile(&server, &w.id).await;
        assert_eq!(p["completed_orders"], 2);
        let rate = p["on_time_rate"].as_f64().unwrap();
        assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{p}");
        assert_eq!(p["badges"], json!(["rising"]), "{p}");
        assert_ledger_ok(&db);
    }
}

/// An agent whose Basic tier costs `price`, in `categories`.
async fn priced(server: &Server, owner: &reqwest::Client, name: &str, price: i64, categories: &[&str]) -> Worker {
    let mut form = wizard(name);
    form["gigs"][0]["tiers"][0]["price"] = json!(price);
    form["categories"] = json!(categories);
    let (s, a) = post(owner, server, "/api/owner/agents", form).await;
    assert_eq!(s, 201, "{a}");
    let code = approval_code(server);
    let (s, setup) = post(owner, server, "/api/owner/agents/approve", json!({"code": code})).await;
    assert_eq!(s, 200);
    let id = setup["agent_id"].as_str().unwrap().to_owned();
    let r = reqwest::Client::new()
        .post(server.url("/api/agent/register"))
        .header(
            "Authorization",
            format!("Bootstrap {}", setup["bootstrap_token"].as_str().unwrap()),
        )
        .json(&json!({"agent_id": id}))
        .send()
        .await
        .unwrap();
    let key = r.json::<Value>().await.unwrap()["api_key"].as_str().unwrap().to_owned();
    let gig = a["settings"]["gigs"][0]["id"].as_str().unwrap().to_owned();
    Worker { id, key, gig }
}

/// Completes one order per entry of `stars` and reviews it with that many stars (0: no
/// review), 8 at a time.
async fn rate(server: &Server, buyer: &reqwest::Client, owner: &reqwest::Client, w: &Worker, stars: &[i64]) {
    use futures_util::StreamExt;
    futures_util::stream::iter(stars)
        .for_each_concurrent(8, |&n| async move {
            let oid = completed(server, buyer, owner, w).await;
            if n > 0 {
                let (s, r) = review(server, buyer, &oid, json!({"stars": n})).await;
                assert_eq!(s, 201, "{r}");
            }
        })
        .await;
}

fn ids(v: &Value) -> Vec<String> {
    v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every agent of `query` (a query string), `limit` at a time, following `next`.
async fn all_pages(server: &Server, path: &str, query: &str, limit: usize) -> Vec<Value> {
    let http = reqwest::Client::new();
    let (mut out, mut cursor) = (Vec::new(), None::<String>);
    for _ in 0..100 {
        let mut url = server.url(&format!("{path}?{query}&limit={limit}"));
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page = get_json(&http, url).await;
        let rows = page["agents"].as_array().unwrap();
        assert!(rows.len() <= limit, "{page}");
        out.extend(rows.iter().cloned());
        match page["next"].as_str() {
            Some(n) => {
                assert_eq!(rows.len(), limit, "only a full page has a next");
                cursor = Some(n.to_owned());
            }
            None => return out,
        }
    }
    panic!("more than 100 pages of {query}");
}

#[tokio::test]
async fn the_leaderboard_resists_a_few_perfect_reviews_and_every_sort_pages_by_keyset() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[("HEEPR_STARTER_POINTS", "100000")]);
        let owner = signup(&server, "owner@example.com", true).await;
        let buyer = signup(&server, "buyer@example.com", false).await;
        let veteran = priced(&server, &owner, "Veteran", 30, &["code"]).await;
        let newcomer = priced(&server, &owner, "Newcomer", 20, &["code"]).await;
        let three = priced(&server, &owner, "Three", 40, &["code", "design"]).await;
        let four = priced(&server, &owner, "Four", 50, &["code"]).await;
        let one = priced(&server, &owner, "One", 10, &["code"]).await;
        let unreviewed = priced(&server, &owner, "Unreviewed", 60, &["code"]).await;
        let banned = priced(&server, &owner, "Banned", 15, &["code"]).await;
        let fresh = priced(&server, &owner, "Fresh", 70, &["code"]).await;
        let created = [&veteran, &newcomer, &three, &four, &one, &unreviewed, &banned, &fresh];

        // 200 reviews averaging 4.8 against five perfect ones.
        let mut many = vec![5; 160];
        many.extend([4; 40]);
        rate(&server, &buyer, &owner, &veteran, &many).await;
        rate(&server, &buyer, &owner, &newcomer, &[5; 5]).await;
        rate(&server, &buyer, &owner, &three, &[3]).await;
        rate(&server, &buyer, &owner, &four, &[4, 4]).await;
        rate(&server, &buyer, &owner, &one, &[1]).await;
        rate(&server, &buyer, &owner, &unreviewed, &[0]).await;
        rate(&server, &buyer, &owner, &banned, &[5, 5, 5]).await;
        let p = profile(&server, &veteran.id).await;
        assert_eq!(
            (
                p["rating"].as_f64(),
                p["reviews"].as_i64(),
                p["completed_orders"].as_i64()
            ),
            (Some(4.8), Some(200), Some(200))
        );
        // Support suspends one (PART B sets this flag; here, straight in the table).
        {
            use diesel::RunQueryDsl;
            let mut c = heepr_store::DbTarget::parse(&db.url).unwrap().establish().unwrap();
            diesel::sql_query(format!("UPDATE agents SET suspended = TRUE WHERE id = '{}'", banned.id))
                .execute(&mut c)
                .unwrap();
        }
        assert_eq!(
            profile(&server, &banned.id).await["suspended"],
            true,
            "its profile still answers"
        );

        // The leaderboard: the Bayesian score, not the mean; suspended and unreviewed
        // agents are not on it.
        let board = get_json(&reqwest::Client::new(), server.url("/api/leaderboard")).await;
        let want = [&veteran.id, &newcomer.id, &four.id, &three.id, &one.id].map(|s| s.as_str());
        assert_eq!(ids(&board), want, "{}: {board}", db.label);
        let rows = board["agents"].as_array().unwrap();
        assert_eq!(
            (rows[0]["rank"].as_i64(), rows[0]["score"].as_f64()),
            (Some(1), Some(4.714))
        );
        assert_eq!(
            (rows[1]["rank"].as_i64(), rows[1]["score"].as_f64()),
            (Some(2), Some(3.666))
        );
        assert_eq!(rows[1]["rating"], 5.0, "the mean is higher, the score is not");
        let paged = all_pages(&server, "/api/leaderboard", "", 2).await;
        let ranks: Vec<i64> = paged.iter().map(|a| a["rank"].as_i64().unwrap()).collect();
        assert_eq!(ranks, [1, 2, 3, 4, 5], "{}: ranks run on across pages", db.label);
        assert_eq!(
            paged.iter().map(|a| a["id"].as_str().unwrap()).collect::<Vec<_>>(),
            want
        );
        let design = get_json(&reqwest::Client::new(), server.url("/api/leaderboard?category=design")).await;
        assert_eq!(ids(&design), [three.id.as_str()]);

        // Every browse order, two at a time, is the one-page listing, in its order.
        let listed: Vec<&Worker> = created.iter().copied().filter(|w| w.id != banned.id).collect();
        for sort in ["newest", "rating", "orders", "price"] {
            let whole = all_pages(&server, "/api/agents", &format!("sort={sort}"), 100).await;
            let paged = all_pages(&server, "/api/agents", &format!("sort={sort}"), 2).await;
            assert_eq!(paged, whole, "{}: sort={sort}", db.label);
            let got: Vec<&str> = paged.iter().map(|a| a["id"].as_str().unwrap()).collect();
            assert_eq!(
                got.iter().collect::<HashSet<_>>().len(),
                listed.len(),
                "{sort}: each listed agent once"
            );
            let mut want: Vec<&Value> = whole.iter().collect();
            let id = |a: &Value| a["id"].as_str().unwrap().to_owned();
            match sort {
                "newest" => {
                    let order: Vec<&str> = listed.iter().rev().map(|w| w.id.as_str()).collect();
                    assert_eq!(got, order, "{}: newest first", db.label);
                }
                "rating" => want.sort_by_key(|a| {
                    (
                        std::cmp::Reverse((a["rating"].as_f64().unwrap_or(0.0) * 100.0).floor() as i64),
                        std::cmp::Reverse(id(a)),
                    )
                }),
                "orders" => want.sort_by_key(|a| {
                    (
                        std::cmp::Reverse(a["completed_orders"].as_i64().unwrap()),
                        std::cmp::Reverse(id(a)),
                    )
                }),
                _ => want.sort_by_key(|a| (a["price_range"]["min"].as_i64().unwrap(), id(a))),
            }
            assert_eq!(
                want.iter().map(|a| id(a)).collect::<Vec<_>>(),
                got,
                "{}: sort={sort}",
                db.label
            );
        }
        let by_rating = all_pages(&server, "/api/agents", "sort=rating", 3).await;
        assert_eq!(by_rating[0]["id"], newcomer.id.as_str(), "sort=rating is the mean");
        assert_eq!(by_rating[1]["id"], veteran.id.as_str());

        // min_rating keeps reviewed agents at or above it, across pages and sorts.
        for sort in ["rating", "newest", "price"] {
            let got = all_pages(&server, "/api/agents", &format!("sort={sort}&min_rating=4"), 1).await;
            let mut got: Vec<&str> = got.iter().map(|a| a["id"].as_str().unwrap()).collect();
            if sort == "rating" {
                assert_eq!(got, [&newcomer.id, &veteran.id, &four.id], "{}", db.label);
            }
            got.sort_unstable();
            let mut want = vec![newcomer.id.as_str(), veteran.id.as_str(), four.id.as_str()];
            want.sort_unstable();
            assert_eq!(got, want, "{}: min_rating=4, sort={sort}", db.label);
        }
        let top = all_pages(&server, "/api/agents", "min_rating=4.8", 10).await;
        assert_eq!(top.len(), 2, "4.8 itself counts");

        // A cursor belongs to its own order; anything else is refused.
        let http = reqwest::Client::new();
        let page = get_json(&http, server.url("/api/agents?sort=rating&limit=1")).await;
        let cursor = page["next"].as_str().unwrap();
        for q in [
            format!("sort=price&cursor={cursor}"),
            "cursor=o20".into(),
            "sort=rating&cursor=r1.0.usr_x".into(),
            "sort=rating&cursor=rNaN.0.agt_x".into(),
        ] {
            let r = http.get(server.url(&format!("/api/agents?{q}"))).send().await.unwrap();
            let (s, e) = json_of(r).await;
            assert_eq!((s, e["error"]["field"].as_str()), (422, Some("cursor")), "{q}: {e}");
        }
        let r = http
            .get(server.url(&format!("/api/leaderboard?cursor={cursor}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "a browse cursor on the leaderboard");
        assert_eq!(
            http.get(server.url("/api/leaderboard?category=nope"))
                .send()
                .await
                .unwrap()
                .status(),
            422
        );
        assert_eq!(
            http.get(server.url("/api/leaderboard?limit=0"))
                .send()
                .await
                .unwrap()
                .status(),
            422
        );
        assert_ledger_ok(&db);
    }
}
