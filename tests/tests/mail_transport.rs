//! Email over real SMTP, on both databases: STARTTLS and implicit TLS with
//! authentication against a server the test starts (aiosmtpd, with a certificate from a
//! throw-away CA); a server that fails at first is retried with back-off until it
//! accepts; a refused recipient becomes a dead letter, with the server's reason, that
//! support sees (redacted) and re-sends, while other emails go out; a malformed
//! `HEEPR_MAIL` stops the start with one clear line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::flow::*;
use support::smtp::{Opts, SmtpPeer};
use support::*;

/// An owner who creates an agent, so that its approval email (with a one-time link) is
/// queued.
async fn owner_with_new_agent(server: &Server, email: &str) -> reqwest::Client {
    let owner = signup(server, email, true).await;
    create_agent(server, &owner, "Mailer").await;
    owner
}

#[tokio::test]
async fn starttls_and_implicit_tls_with_authentication() {
    for db in TestDb::all() {
        for (tls, scheme) in [("starttls", "smtp"), ("implicit", "smtps")] {
            let peer = SmtpPeer::start(&Opts {
                tls,
                auth: Some(("heepr", "s3cret pass")),
                ..Opts::default()
            });
            let query = if tls == "starttls" { "?tls=required" } else { "" };
            let url = format!("{scheme}://heepr:s3cret%20pass@127.0.0.1:{}{query}", peer.port);
            let ca = peer.ca_file();
            let server = Server::start(&db, &[("HEEPR_MAIL", &url), ("HEEPR_MAIL_CA_FILE", &ca)]);
            let owner = format!("owner-{tls}@example.com");
            owner_with_new_agent(&server, &owner).await;
            let m = &peer.wait_for(&owner, 1).await[0];
            assert_eq!(
                (m["tls"].clone(), m["authenticated"].clone()),
                (json!(true), json!(true)),
                "{tls}"
            );
            assert!(
                m["text"].as_str().unwrap().contains("/owner/approve?code="),
                "the sealed link is sent"
            );
            assert!(
                !server.log_until("email").join("\n").contains("s3cret"),
                "no password in the log"
            );
        }
    }
}

#[tokio::test]
async fn a_failing_server_is_retried_until_it_accepts() {
    for db in TestDb::all() {
        let peer = SmtpPeer::start(&Opts {
            fail_first: 2,
            ..Opts::default()
        });
        let url = format!("smtp://127.0.0.1:{}", peer.port);
        let server = Server::start(&db, &[("HEEPR_MAIL", &url), ("HEEPR_MAIL_RETRY_MS", "100")]);
        let (support, _) = support_user(&server, &db).await;
        owner_with_new_agent(&server, "owner@example.com").await;
        peer.wait_for("owner@example.com", 1).await;
        assert_eq!(peer.failures(), 2, "two temporary failures, then success");
        let (s, page) = get(&support, &server, "/api/admin/outbox?status=sent").await;
        assert_eq!(s, 200, "{page}");
        let sent = &page["emails"][0];
        assert_eq!(
            (sent["to"].as_str(), sent["attempts"].as_i64()),
            (Some("owner@example.com"), Some(2))
        );
        assert!(sent["last_error"].as_str().unwrap().contains("try again later"));
        assert_eq!(sent["body"], "[sent; body removed]");
    }
}

/// Polls the dead letters (with a deadline) until one to `to` is there.
async fn dead_letter(server: &Server, support: &reqwest::Client, to: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, page) = get(support, server, "/api/admin/outbox").await;
        if let Some(e) = page["emails"].as_array().unwrap().iter().find(|e| e["to"] == to) {
            return e.clone();
        }
        assert!(Instant::now() < deadline, "no dead letter to {to}: {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_refused_recipient_becomes_a_dead_letter_support_can_resend() {
    for db in TestDb::all() {
        let peer = SmtpPeer::start(&Opts {
            refuse: vec!["bounce@example.com".into()],
            ..Opts::default()
        });
        let url = format!("smtp://127.0.0.1:{}", peer.port);
        let server = Server::start(&db, &[("HEEPR_MAIL", &url), ("HEEPR_MAIL_RETRY_MS", "100")]);
        let (support, _) = support_user(&server, &db).await;
        let bouncing = owner_with_new_agent(&server, "bounce@example.com").await;
        owner_with_new_agent(&server, "fine@example.com").await;
        peer.wait_for("fine@example.com", 1).await;
        let dead = dead_letter(&server, &support, "bounce@example.com").await;
        assert_eq!(dead["status"], "dead");
        assert_eq!(dead["attempts"], 1, "a permanent refusal is not retried");
        assert!(
            dead["last_error"].as_str().unwrap().contains("no such mailbox"),
            "{dead}"
        );
        let body = dead["body"].as_str().unwrap();
        assert!(
            body.contains("[link]") && !body.contains("approve?code="),
            "redacted: {body}"
        );

        // Only support sees and re-sends it.
        let id = dead["id"].as_str().unwrap();
        let retry = format!("/api/admin/outbox/{id}/retry");
        let (s, e) = post(&bouncing, &server, &retry, json!({})).await;
        assert_eq!((s, code(&e)), (403, "not_an_admin"));
        let (s, _) = get(&bouncing, &server, "/api/admin/outbox").await;
        assert_eq!(s, 403);
        let (s, _) = get(&reqwest::Client::new(), &server, "/api/admin/outbox").await;
        assert_eq!(s, 404, "support routes do not exist for the anonymous");
        let (s, e) = get(&support, &server, "/api/admin/outbox?status=lost").await;
        assert_eq!((s, e["error"]["field"].as_str()), (422, Some("status")));
        let (s, _) = post(&support, &server, "/api/admin/outbox/eml_nope/retry", json!({})).await;
        assert_eq!(s, 404);
        let (s, again) = post(&support, &server, &retry, json!({})).await;
        assert_eq!(s, 200, "{again}");
        assert_eq!(
            (again["attempts"].as_i64(), again["dead_at"].clone()),
            (Some(0), Value::Null)
        );
        // Tried again at once: refused again, dead again with a fresh count.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let e = dead_letter(&server, &support, "bounce@example.com").await;
            if e["attempts"] == 1 && e["dead_at"] != dead["dead_at"] {
                break;
            }
            assert!(Instant::now() < deadline, "the re-sent email was not tried: {e}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(peer.wait_for("fine@example.com", 1).await.len(), 1, "sent once");
    }
}

#[tokio::test]
async fn malformed_mail_settings_stop_the_start_with_one_line() {
    let db = &TestDb::all()[0];
    let bad: &[(&str, &str, &str)] = &[
        ("HEEPR_MAIL", "smtp://", "no host"),
        ("HEEPR_MAIL", "ftp://mail.example.com", "unknown scheme"),
        ("HEEPR_MAIL", "smtp://u:p@mail.example.com:25", "need TLS"),
        ("HEEPR_MAIL", "smtps://mail.example.com?tls=required", "TLS already"),
        ("HEEPR_MAIL", "smtp://mail.example.com?tls=maybe", "unknown setting"),
        ("HEEPR_MAIL", "smtp://mail.example.com:99999", "not a URL"),
        ("HEEPR_MAIL_FROM", "not an address", "HEEPR_MAIL_FROM"),
    ];
    for (var, value, says) in bad {
        let data = TempDir::new();
        let (st, _, err) = run_command(db, &data, &[], &[(var, value), ("HEEPR_BIND", "127.0.0.1:0")]);
        assert_eq!(st.code(), Some(1), "{var}={value}: {err}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{var}={value}: one line, not {err:?}");
        assert!(
            lines[0].contains(says) && lines[0].contains(var),
            "{var}={value}: {}",
            lines[0]
        );
        assert!(!lines[0].contains("u:p@"), "no credentials echoed");
    }
}
