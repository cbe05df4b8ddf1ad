//! Files in an S3-compatible object store (a real one: moto's server mode on loopback,
//! `support::s3`): two instances with separate data directories share PostgreSQL (or
//! one SQLite file) and the bucket, and nothing else — what one stores the other serves.
//! A store that is misconfigured or unreachable stops the start with one line; one that
//! fails under an upload answers 503 and leaves no row.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use reqwest::multipart::{Form, Part};
use serde_json::json;
use sha2::{Digest, Sha256};
use support::flow::json_of;
use support::s3::{S3Peer, pairs};
use support::*;

fn hex(b: &[u8]) -> String {
    Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

/// Not all one byte, so a mixed-up part would show.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ (i >> 20) as u8).collect()
}

/// Files under the data directory other than uploads in progress (`files/tmp`).
fn local_blobs(data: &std::path::Path) -> usize {
    let Ok(shards) = std::fs::read_dir(data.join("files")) else {
        return 0;
    };
    shards
        .flatten()
        .filter(|s| s.file_name() != "tmp")
        .map(|s| std::fs::read_dir(s.path()).map(|d| d.count()).unwrap_or(0))
        .sum()
}

#[tokio::test]
async fn two_instances_share_files_through_the_bucket() {
    for db in TestDb::all() {
        let s3 = S3Peer::start("heepr-files").await;
        let env = s3.env("deploy");
        let a = Server::start(&db, &pairs(&env));
        let line = a.wait_for_log("file storage ready");
        assert!(line.contains("object store s3://heepr-files/deploy"), "{line}");
        let owner = signup(&a, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&a, &owner, "Twin").await;
        // Another machine: its own data directory and port, the deployment's key file.
        let key_file = a.data_dir().join("secret.key");
        let mut env_b = pairs(&env);
        env_b.push(("HEEPR_SECRET_KEY_FILE", key_file.to_str().unwrap()));
        let b = Server::start(&db, &env_b);

        // An attachment uploaded through A, fetched by the agent through B.
        let customer = signup(&a, "customer@example.com", false).await;
        let brief = b"stack trace".to_vec();
        let order = json!({"agent_id": agent, "gig_id": gig, "tier": "Basic",
                           "inputs": {"repo": "https://example.com/r", "lang": "rust"}});
        let form = Form::new()
            .text("order", order.to_string())
            .part("files", Part::bytes(brief.clone()).file_name("trace.txt"));
        let (s, order) = json_of(
            customer
                .post(a.url("/api/customer/orders"))
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201, "{}: {order}", db.label);
        let oid = order["id"].as_str().unwrap().to_owned();
        let att = order["attachments"][0]["id"].as_str().unwrap().to_owned();
        let http = reqwest::Client::new();
        let r = http
            .get(b.url(&format!("/api/orders/{oid}/attachments/{att}")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", db.label);
        assert_eq!(r.bytes().await.unwrap().to_vec(), brief, "{}", db.label);

        // A 12 MiB delivery through A (a multipart upload to the store), downloaded
        // by the owner through B, byte for byte.
        let big = payload(12 << 20);
        let form = Form::new()
            .text("note", "the build")
            .part("files", Part::bytes(big.clone()).file_name("build.tar"));
        let (s, d) = json_of(
            http.post(a.url(&format!("/api/orders/{oid}/deliver")))
                .bearer_auth(&key)
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201, "{}: {d}", db.label);
        let file = &d["delivery"]["files"][0];
        assert_eq!(file["sha256"], hex(&big), "{}", db.label);
        let fid = file["id"].as_str().unwrap();
        let r = owner
            .get(b.url(&format!("/api/owner/orders/{oid}/files/{fid}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", db.label);
        assert_eq!(r.headers()["x-heepr-sha256"], hex(&big).as_str());
        let got = r.bytes().await.unwrap();
        assert_eq!(got.len(), big.len(), "{}", db.label);
        assert!(got == big, "{}: the download differs from the upload", db.label);

        // Both objects are in the bucket under the prefix, none on either disk.
        let keys = s3.keys("deploy/").await;
        assert_eq!(keys.len(), 2, "{}: {keys:?}", db.label);
        assert_eq!(local_blobs(a.data_dir()) + local_blobs(b.data_dir()), 0, "{}", db.label);
        assert!(
            upload_temp_files(a.data_dir()).is_empty(),
            "{}: temp copies removed",
            db.label
        );
    }
}

#[tokio::test]
async fn a_store_failing_under_an_upload_answers_503_and_writes_nothing() {
    for db in TestDb::all() {
        let mut s3 = S3Peer::start("heepr-flaky").await;
        let env = s3.env("");
        let server = Server::start(&db, &pairs(&env));
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, key, gig) = live_agent(&server, &owner, "Worker").await;
        let customer = signup(&server, "customer@example.com", false).await;
        let (oid, _) = support::flow::place(&server, &customer, &agent, &gig).await;

        s3.stop();
        let form = Form::new().part("files", Part::bytes(payload(12 << 20)).file_name("big.bin"));
        let (s, body) = json_of(
            reqwest::Client::new()
                .post(server.url(&format!("/api/orders/{oid}/deliver")))
                .bearer_auth(&key)
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (s, support::flow::code(&body)),
            (503, "storage_unavailable"),
            "{}: {body}",
            db.label
        );

        // No delivery, no file row, no temp copy; the order is still in progress.
        let (s, o) = support::flow::get(&owner, &server, &format!("/api/owner/orders/{oid}")).await;
        assert_eq!(s, 200, "{o}");
        assert_eq!(o["state"], "in_progress", "{}: {o}", db.label);
        let (_, ds) = support::flow::get(&owner, &server, &format!("/api/owner/orders/{oid}/deliveries")).await;
        assert_eq!(ds["deliveries"], json!([]), "{}", db.label);
        assert!(upload_temp_files(server.data_dir()).is_empty(), "{}", db.label);
        assert_eq!(local_blobs(server.data_dir()), 0, "{}", db.label);
        assert_ledger_ok(&db);
    }
}

#[test]
fn bad_store_settings_stop_the_start_with_one_line() {
    let db = TestDb::sqlite();
    let dead_port = support::s3::free_port().to_string();
    let dead = format!("http://127.0.0.1:{dead_port}");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("HEEPR_OBJECT_STORE_URL", "files-bucket")], "s3://bucket"),
        (vec![("HEEPR_OBJECT_STORE_URL", "s3://No_Such")], "not a bucket name"),
        (
            vec![
                ("HEEPR_OBJECT_STORE_URL", "s3://heepr-files"),
                ("HEEPR_OBJECT_STORE_ENDPOINT", "127.0.0.1:9000"),
            ],
            "HEEPR_OBJECT_STORE_ENDPOINT",
        ),
        (
            vec![
                ("HEEPR_OBJECT_STORE_URL", "s3://heepr-files"),
                ("HEEPR_OBJECT_STORE_ENDPOINT", dead.as_str()),
                ("HEEPR_OBJECT_STORE_TIMEOUT_SECS", "2"),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
            ],
            "s3://heepr-files",
        ),
    ];
    for (env, needle) in cases {
        let data = TempDir::new();
        let started = std::time::Instant::now();
        let mut env = env;
        env.push(("HEEPR_BIND", "127.0.0.1:0"));
        let (status, _out, err) = run_command(&db, &data, &["serve"], &env);
        assert_eq!(status.code(), Some(1), "{env:?}: {err}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{env:?}: one line, not {lines:?}");
        assert!(lines[0].contains(needle), "{env:?}: {}", lines[0]);
        assert!(!lines[0].contains("testing"), "no credentials in the line");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{env:?}: took too long"
        );
    }
}

#[tokio::test]
async fn a_missing_bucket_stops_the_start() {
    let s3 = S3Peer::start("heepr-present").await;
    let db = TestDb::sqlite();
    let data = TempDir::new();
    let mut env = s3.env("");
    env[0].1 = "s3://heepr-absent".into();
    env.push(("HEEPR_BIND", "127.0.0.1:0".into()));
    let (status, _out, err) = run_command(&db, &data, &["serve"], &pairs(&env));
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(err.lines().filter(|l| !l.trim().is_empty()).count(), 1, "{err}");
    assert!(err.contains("s3://heepr-absent"), "{err}");
}
