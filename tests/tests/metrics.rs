//! `GET /metrics` on `HEEPR_METRICS_BIND` (issue 20): after an order's lifecycle the
//! counters moved — requests by route template and status, polls idle and with events,
//! order commands and transitions, ledger transfers and points, outbox sends, pool and
//! scheduler. Off by default: without the variable nothing listens. Both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::json;
use std::time::{Duration, Instant};
use support::*;

/// The sum of the sample lines that start with `prefix` (a name and some labels);
/// `None` when there is none.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    let values: Vec<f64> = text
        .lines()
        .filter(|l| !l.starts_with('#') && l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

fn has_at_least(text: &str, prefix: &str, min: f64) {
    let v = sample(text, prefix).unwrap_or_else(|| panic!("no sample {prefix}\n{text}"));
    assert!(v >= min, "{prefix} = {v}, expected at least {min}");
}

#[tokio::test]
async fn counters_move_through_an_order_lifecycle() {
    for db in TestDb::all() {
        let server = Server::start(
            &db,
            &[("HEEPR_METRICS_BIND", "127.0.0.1:0"), ("HEEPR_SCHEDULER_SECS", "1")],
        );
        let line = server.wait_for_log("metrics on http://");
        let metrics_url = line
            .split("metrics on ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned();

        let owner = signup(&server, "owner@metrics.test", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Metered").await;
        let customer = signup(&server, "customer@metrics.test", false).await;
        let http = reqwest::Client::new();
        let idle = http
            .get(server.url("/api/events"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(idle.status(), 200);
        let r = customer
            .post(server.url("/api/customer/orders"))
            .json(&json!({"agent_id": agent, "gig_id": gig, "tier": "Basic",
                          "inputs": {"repo": "https://example.com/r", "lang": "rust"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let oid = r.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(!next_events(&server, &key).await.is_empty());
        let r = http
            .post(server.url(&format!("/api/orders/{oid}/deliver")))
            .bearer_auth(&key)
            .json(&json!({"text": "fixed, with a test"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

        // The outbox sends the approval email and the scheduler passes within seconds.
        let deadline = Instant::now() + Duration::from_secs(20);
        let text = loop {
            let text = reqwest::get(&metrics_url).await.unwrap().text().await.unwrap();
            let sent = sample(&text, "heepr_outbox_sends_total{outcome=\"sent\"}").unwrap_or(0.0);
            let passes = sample(&text, "heepr_scheduler_passes_total").unwrap_or(0.0);
            if sent >= 1.0 && passes >= 1.0 {
                break text;
            }
            assert!(
                Instant::now() < deadline,
                "outbox or scheduler never counted ({})\n{text}",
                db.label
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let label = db.label;
        for (prefix, min) in [
            (
                "heepr_http_requests_total{route=\"/api/customer/orders\",method=\"POST\",status=\"201\"}",
                1.0,
            ),
            (
                "heepr_http_requests_total{route=\"/api/orders/{id}/deliver\",method=\"POST\",status=\"201\"}",
                1.0,
            ),
            (
                "heepr_http_request_duration_seconds_count{route=\"/api/events\",method=\"GET\"}",
                2.0,
            ),
            ("heepr_polls_total{result=\"idle\"}", 1.0),
            ("heepr_polls_total{result=\"events\"}", 1.0),
            ("heepr_order_commands_total{command=\"place\"}", 1.0),
            ("heepr_order_commands_total{command=\"deliver\"}", 1.0),
            ("heepr_order_transitions_total{to=", 2.0),
            ("heepr_ledger_transfers_total{kind=", 1.0),
            ("heepr_ledger_points_total{kind=", 25.0),
            ("heepr_db_pool_wait_seconds_count", 1.0),
            ("heepr_db_pool_connections", 1.0),
            ("heepr_db_pool_in_use", 0.0),
            ("heepr_outbox_depth", 0.0),
            ("heepr_sqlite_writer_queue", 0.0),
            ("heepr_scheduler_due_timers_total", 0.0),
        ] {
            has_at_least(&text, prefix, min);
        }
        if label == "sqlite" {
            has_at_least(&text, "heepr_sqlite_writer_group_size_count", 1.0);
        }
        // The API itself serves no /metrics.
        let r = http.get(server.url("/metrics")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{label}");
    }
}

#[tokio::test]
async fn without_a_metrics_address_nothing_listens() {
    let db = TestDb::sqlite();
    let server = Server::start(&db, &[]);
    let lines = server.log_until("listening on");
    assert!(!lines.iter().any(|l| l.contains("metrics on")), "{lines:?}");
}
