//! Slow and broken clients, and a clean start after a crash: a stalled upload is cut
//! and leaves no temp file; uploads over their caps get 503 `busy` while ordinary
//! requests are served; a server killed mid-upload sweeps the leftovers when it starts
//! again; garbage on the socket writes no ERROR line per connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use support::*;

const BOUNDARY: &str = "heepr-e2e-boundary";

/// Signs up a customer and returns its session cookie (`heepr_session=…`).
async fn session_cookie(server: &Server, email: &str) -> String {
    let r = reqwest::Client::new()
        .post(server.url("/api/auth/signup"))
        .json(&json!({"email": email, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

fn connect(server: &Server) -> TcpStream {
    let addr = server.base.trim_start_matches("http://");
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Starts placing an order with a file, sends the headers and the start of the file,
/// then sends nothing more (the declared length is far larger).
fn stalled_upload(server: &Server, cookie: &str) -> TcpStream {
    let mut s = connect(server);
    let head = format!(
        "POST /api/customer/orders HTTP/1.1\r\nHost: e2e\r\nCookie: {cookie}\r\nX-Heepr-Client: e2e\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: 1000000\r\n\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&[b'x'; 4096]).unwrap();
    s.flush().unwrap();
    s
}

/// Reads what the server answers until it closes the connection: (status, body).
fn answer(mut s: TcpStream) -> (u16, Value) {
    let mut raw = Vec::new();
    // The server closes after answering an upload it did not read to the end.
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Waits (with a deadline) until `n` uploads have a temp file.
fn wait_for_temp_files(data: &Path, n: usize, label: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while upload_temp_files(data).len() < n {
        assert!(Instant::now() < deadline, "{label}: {n} uploads never started");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn a_stalled_upload_is_cut_and_leaves_no_temp_file() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[("HEEPR_BODY_IDLE_SECS", "1")]);
        let cookie = session_cookie(&server, "slow@example.com").await;

        let s = stalled_upload(&server, &cookie);
        wait_for_temp_files(server.data_dir(), 1, db.label);
        let stalled_at = Instant::now();
        let (status, body) = answer(s);
        let took = stalled_at.elapsed();
        assert_eq!(status, 408, "{}: {body}", db.label);
        assert_eq!(body["error"]["code"], "request_timeout", "{}", db.label);
        assert!(took < Duration::from_secs(5), "{}: cut after {took:?}", db.label);
        assert_eq!(
            upload_temp_files(server.data_dir()),
            Vec::<PathBuf>::new(),
            "{}",
            db.label
        );

        // A JSON body that stalls is cut the same way.
        let mut s = connect(&server);
        let head = format!(
            "POST /api/customer/orders HTTP/1.1\r\nHost: e2e\r\nCookie: {cookie}\r\nX-Heepr-Client: e2e\r\n\
             Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"agent_id\":"
        );
        s.write_all(head.as_bytes()).unwrap();
        let (status, body) = answer(s);
        assert_eq!(
            (status, &body["error"]["code"]),
            (408, &json!("request_timeout")),
            "{}",
            db.label
        );
    }
}

#[tokio::test]
async fn uploads_over_their_caps_get_busy_while_ordinary_requests_are_served() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[("HEEPR_MAX_UPLOADS", "2"), ("HEEPR_UPLOADS_PER_CALLER", "1")]);
        let a = session_cookie(&server, "a@example.com").await;
        let b = session_cookie(&server, "b@example.com").await;
        let c = session_cookie(&server, "c@example.com").await;

        // A's first upload is in flight: A's second is over the per-caller cap.
        let _a1 = stalled_upload(&server, &a);
        wait_for_temp_files(server.data_dir(), 1, db.label);
        let (status, body) = answer(stalled_upload(&server, &a));
        assert_eq!(
            (status, &body["error"]["code"]),
            (503, &json!("busy")),
            "{}: {body}",
            db.label
        );

        // With B's upload in flight too the total cap is reached: C is refused.
        let _b1 = stalled_upload(&server, &b);
        wait_for_temp_files(server.data_dir(), 2, db.label);
        let (status, body) = answer(stalled_upload(&server, &c));
        assert_eq!(
            (status, &body["error"]["code"]),
            (503, &json!("busy")),
            "{}: {body}",
            db.label
        );

        // Ordinary requests are served meanwhile.
        let r = reqwest::get(server.url("/healthz")).await.unwrap();
        assert_eq!(r.status(), 200, "{}", db.label);
        let r = reqwest::Client::new()
            .get(server.url("/api/me"))
            .header("cookie", &c)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", db.label);
        assert_eq!(
            upload_temp_files(server.data_dir()).len(),
            2,
            "{}: refused uploads wrote nothing",
            db.label
        );
    }
}

/// Every stored blob: `<data>/files/<shard>/<key>`.
fn blobs(data: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(data.join("files")).unwrap().map_while(Result::ok) {
        if shard.file_name() == "tmp" || !shard.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(shard.path()).unwrap().map_while(Result::ok) {
            out.push(f.path());
        }
    }
    out
}

fn put_blob(data: &Path, key: &str, age: Duration) -> PathBuf {
    let dir = data.join("files").join(&key[key.len() - 2..]);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(key);
    std::fs::write(&path, b"left by a command that never committed").unwrap();
    set_age(&path, age);
    path
}

fn set_age(path: &Path, age: Duration) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
}

#[tokio::test]
async fn a_restart_after_kill_sweeps_temp_files_and_old_orphan_blobs() {
    const TWO_HOURS: Duration = Duration::from_secs(7200);
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let (agent, _key, gig) = live_agent(&server, &owner, "Worker").await;
        let customer = signup(&server, "customer@example.com", false).await;

        // A file with a row: an order's attachment, made to look old.
        let order = json!({"agent_id": agent, "gig_id": gig, "tier": "Basic",
                           "inputs": {"repo": "https://example.com/r", "lang": "rust"}});
        let form = reqwest::multipart::Form::new().text("order", order.to_string()).part(
            "files",
            reqwest::multipart::Part::bytes(b"trace".to_vec()).file_name("trace.txt"),
        );
        let r = customer
            .post(server.url("/api/customer/orders"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", db.label);
        let kept = blobs(server.data_dir());
        assert_eq!(kept.len(), 1, "{}", db.label);
        set_age(&kept[0], TWO_HOURS);

        // Blobs without a row: one old enough to be an orphan, one that may still be
        // an upload of another instance about to commit its row.
        let orphan = put_blob(server.data_dir(), "01ORPHANORPHANORPHANORPH01", TWO_HOURS);
        let young = put_blob(server.data_dir(), "01YOUNGYOUNGYOUNGYOUNGYO02", Duration::from_secs(60));

        // Killed in the middle of an upload.
        let cookie = session_cookie(&server, "uploader@example.com").await;
        let _upload = stalled_upload(&server, &cookie);
        wait_for_temp_files(server.data_dir(), 1, db.label);
        let data = server.kill();

        let server = Server::start_in(&db, data, &[]);
        let line = server.wait_for_log("swept ");
        assert!(
            line.contains("swept 1 temp files, 1 orphan blobs"),
            "{}: {line}",
            db.label
        );
        assert_eq!(
            upload_temp_files(server.data_dir()),
            Vec::<PathBuf>::new(),
            "{}",
            db.label
        );
        assert!(!orphan.exists(), "{}: the old orphan is deleted", db.label);
        assert!(young.exists(), "{}: a young blob without a row stays", db.label);
        assert!(kept[0].exists(), "{}: a blob with a row stays", db.label);
    }
}

#[tokio::test]
async fn garbage_on_the_socket_writes_no_error_line_per_connection() {
    const CONNECTIONS: usize = 300;
    for db in TestDb::all() {
        let server = Server::start(&db, &[("RUST_LOG", "info,heepr_server=debug,heepr_http=debug")]);
        for i in 0..CONNECTIONS {
            let mut s = connect(&server);
            let garbage: &[u8] = if i % 2 == 0 {
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n"
            } else {
                b"GET /\x01 HTTP/1.1\r\nHost: e2e\r\nBad Header\r\n\r\n"
            };
            s.write_all(garbage).unwrap();
            let mut sink = Vec::new();
            let _ = s.read_to_end(&mut sink); // the server answers 400 and closes
        }
        let r = reqwest::Client::new()
            .get(server.url("/healthz"))
            .header("x-request-id", "after-the-garbage")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}: ordinary requests are served", db.label);
        // actix would have written its ERROR lines before closing each connection,
        // so before this request's line.
        let mut lines = server.log_until("after-the-garbage");
        let errors: Vec<&String> = lines.iter().filter(|l| l.contains("ERROR")).collect();
        assert!(
            errors.is_empty(),
            "{}: {} ERROR lines, first {:?}",
            db.label,
            errors.len(),
            errors.first()
        );
        // The summary is written by a thread of its own: it may come later.
        let summary = "dropped a malformed or broken HTTP request";
        if !lines.iter().any(|l| l.contains(summary)) {
            lines.extend(server.log_until(summary));
        }
        let warns = lines
            .iter()
            .filter(|l| l.contains("WARN") && l.contains("malformed"))
            .count();
        assert_eq!(
            warns, 1,
            "{}: one summary line at once, the next after a minute",
            db.label
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("DEBUG") && l.contains("client connection error")),
            "{}: each one is logged at debug",
            db.label
        );
    }
}
