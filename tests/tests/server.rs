//! The server process: start-up, health, errors, shutdown, admin commands.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use std::process::Command;
use support::{Server, TempDir, run_command, server_bin};

#[tokio::test]
async fn serves_health_and_readiness_with_request_ids() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let http = reqwest::Client::new();

        let r = http.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", db.label);
        assert!(r.headers()["x-request-id"].to_str().unwrap().starts_with("req_"));

        let r = http
            .get(server.url("/readyz"))
            .header("x-request-id", "abc-123")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", db.label);
        assert_eq!(r.headers()["x-request-id"], "abc-123");
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["status"], "ready");

        let r = http.get(server.url("/api/nothing-here")).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{body}");

        let status = server.terminate();
        assert!(
            status.success(),
            "{}: graceful shutdown exits 0, got {status:?}",
            db.label
        );
    }
}

#[test]
fn migrations_apply_on_start_and_a_second_start_is_a_no_op() {
    for db in TestDb::all() {
        drop(Server::start(&db, &[]));
        let again = Server::start(&db, &[]);
        assert_eq!(again.db_label, db.label);
    }
}

fn fails_with_one_line(env: &[(&str, &str)], expect: &str) -> String {
    let data = TempDir::new();
    let mut cmd = Command::new(server_bin());
    cmd.env("HEEPR_BIND", "127.0.0.1:0")
        .env("HEEPR_DATA_DIR", &data.0)
        .env("RUST_LOG", "off");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line, got: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains(expect), "expected {expect:?} in {stderr}");
    stderr
}

#[test]
fn malformed_database_url_is_one_clear_line() {
    fails_with_one_line(&[("DATABASE_URL", "mysql://root@localhost/x")], "unsupported scheme");
}

#[test]
fn unreachable_postgres_is_one_line_with_password_masked() {
    let line = fails_with_one_line(
        &[("DATABASE_URL", "postgres://bob:hunter2@127.0.0.1:1/heepr")],
        "bob:***@127.0.0.1:1",
    );
    assert!(!line.contains("hunter2"));
    assert!(!line.contains("Invalid connection url for multiconnection"));
}

#[test]
fn unwritable_data_directory_is_one_clear_line() {
    fails_with_one_line(
        &[("HEEPR_DATA_DIR", "/proc/heepr-cannot-write")],
        "/proc/heepr-cannot-write",
    );
}

#[test]
fn admin_create_user_then_check_ledger() {
    for db in TestDb::all() {
        let data = TempDir::new();
        let (st, out, err) = run_command(
            &db,
            &data,
            &[
                "admin",
                "create-user",
                "--email",
                "Root@Example.com",
                "--password",
                "correct horse",
                "--admin",
            ],
            &[],
        );
        assert!(st.success(), "{}: {err}", db.label);
        assert!(out.contains("root@example.com") && out.contains("admin"), "{out}");

        let (st, _, err) = run_command(
            &db,
            &data,
            &[
                "admin",
                "create-user",
                "--email",
                "root@example.com",
                "--password",
                "another one",
            ],
            &[],
        );
        assert_eq!(st.code(), Some(1), "duplicate email refused: {err}");
        assert!(err.contains("already taken"), "{err}");

        let (st, _, err) = run_command(
            &db,
            &data,
            &[
                "admin",
                "create-user",
                "--email",
                "x@example.com",
                "--password",
                "short",
            ],
            &[],
        );
        assert_eq!(st.code(), Some(1), "{err}");

        let (st, out, err) = run_command(&db, &data, &["admin", "check-ledger"], &[]);
        assert!(st.success(), "{}: {out} {err}", db.label);
        assert!(out.contains("ledger ok"), "{out}");
    }
}
