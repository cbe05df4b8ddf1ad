//! Login limits: per email from one client address plus a per-client ceiling, so a
//! stranger cannot lock the owner out; the client address comes from X-Forwarded-For
//! only behind a trusted proxy; on PostgreSQL every instance shares the count.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use support::*;

const PASSWORD: &str = "correct horse battery";

/// A login for `email` with `password`, sent as if from `client` (X-Forwarded-For);
/// returns the status and the error code, if any.
async fn login(server: &Server, client: Option<&str>, email: &str, password: &str) -> (u16, String) {
    let mut req = browser()
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": email, "password": password}));
    if let Some(c) = client {
        req = req.header("X-Forwarded-For", c);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_stranger_cannot_lock_the_owner_out_and_one_client_meets_its_ceiling() {
    for db in TestDb::all() {
        let server = Server::start(
            &db,
            &[("HEEPR_TRUSTED_PROXIES", "127.0.0.1"), ("HEEPR_LOGIN_LIMIT_IP", "15")],
        );
        signup(&server, "owner@example.com", false).await;
        let stranger = Some("203.0.113.5");
        for i in 1..=10 {
            let r = login(&server, stranger, "owner@example.com", "guess").await;
            assert_eq!(r.0, 401, "{}: guess {i}", db.label);
        }
        let r = login(&server, stranger, "owner@example.com", "guess").await;
        assert_eq!(r, (429, "too_many_attempts".into()), "{}: the 11th guess", db.label);

        // The owner, from their own address, is not locked out.
        let r = login(&server, Some("198.51.100.7"), "owner@example.com", PASSWORD).await;
        assert_eq!(r.0, 200, "{}: the owner logs in", db.label);

        // The stranger's address has a ceiling over all emails: 11 attempts so far, 4
        // more fit under 15, then every email is refused.
        for i in 0..4 {
            let r = login(&server, stranger, &format!("victim{i}@example.com"), "guess").await;
            assert_eq!(r.0, 401, "{}: victim {i}", db.label);
        }
        let r = login(&server, stranger, "victim9@example.com", "guess").await;
        assert_eq!(r, (429, "too_many_attempts".into()), "{}: the ceiling", db.label);
        let r = login(&server, Some("198.51.100.7"), "owner@example.com", PASSWORD).await;
        assert_eq!(r.0, 200, "{}: the owner still logs in", db.label);
    }
}

#[tokio::test]
async fn x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    for db in TestDb::all() {
        // A proxy list that does not hold the peer (127.0.0.1).
        let server = Server::start(
            &db,
            &[
                ("HEEPR_TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8"),
                ("HEEPR_LOGIN_LIMIT_EMAIL", "2"),
            ],
        );
        signup(&server, "owner@example.com", false).await;
        assert_eq!(
            login(&server, Some("203.0.113.1"), "owner@example.com", "guess")
                .await
                .0,
            401
        );
        assert_eq!(
            login(&server, Some("203.0.113.2"), "owner@example.com", "guess")
                .await
                .0,
            401
        );
        // A made-up X-Forwarded-For does not buy a fresh count: the peer is the client.
        let r = login(&server, Some("203.0.113.3"), "owner@example.com", PASSWORD).await;
        assert_eq!(r, (429, "too_many_attempts".into()), "{}", db.label);
    }
}

#[tokio::test]
async fn instances_on_postgresql_share_the_count() {
    for db in TestDb::all() {
        let env = [("HEEPR_LOGIN_LIMIT_EMAIL", "3")];
        let a = Server::start(&db, &env);
        let b = Server::start(&db, &env);
        signup(&a, "owner@example.com", false).await;
        assert_eq!(login(&a, None, "owner@example.com", "guess").await.0, 401);
        assert_eq!(login(&a, None, "owner@example.com", "guess").await.0, 401);
        assert_eq!(login(&b, None, "owner@example.com", "guess").await.0, 401);
        let r = login(&a, None, "owner@example.com", PASSWORD).await;
        if db.label == "postgres" {
            assert_eq!(r, (429, "too_many_attempts".into()), "A sees B's failure");
        } else {
            // SQLite counts in each process's memory (one process per database is the
            // SQLite deployment): A has seen two failures only.
            assert_eq!(r.0, 200, "{}", db.label);
        }
    }
}

#[test]
fn a_trusted_proxy_that_is_no_address_stops_the_start_with_one_line() {
    for db in TestDb::all() {
        let data = TempDir::new();
        let (status, _, err) = run_command(
            &db,
            &data,
            &[],
            &[
                ("HEEPR_BIND", "127.0.0.1:0"),
                ("HEEPR_TRUSTED_PROXIES", "10.0.0.1,proxy.local"),
            ],
        );
        assert!(!status.success(), "{}", db.label);
        assert!(
            err.contains("HEEPR_TRUSTED_PROXIES") && err.contains("proxy.local"),
            "{}: {err}",
            db.label
        );
    }
}
