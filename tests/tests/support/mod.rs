#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]
// Starts the real server program (`heepr-e2e-server`, the same code as
// `heepr-server`) as a child process on a random port, and talks HTTP to it.

pub mod flow;
pub mod market;
pub mod peer;
pub mod s3;
pub mod smtp;

use heepr_store::testing::TestDb;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The server binary built by this crate.
pub fn server_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_heepr-e2e-server"))
}

/// A scratch directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let p = std::env::temp_dir().join(format!("heepr-e2e-{}-{}", std::process::id(), next_id()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn next_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A running server process.
pub struct Server {
    child: Child,
    pub base: String,
    pub db_label: &'static str,
    lines: mpsc::Receiver<String>,
    /// Lines printed before `listening on` (a start-up task may log before it).
    early: std::sync::Mutex<std::collections::VecDeque<String>>,
    _data: TempDir,
}

impl Server {
    /// Starts the server on `db` with a fresh data dir and waits (with a deadline) for
    /// its `listening on` line.
    // The child moves into `Server`, whose Drop kills and waits for it.
    pub fn start(db: &TestDb, extra_env: &[(&str, &str)]) -> Self {
        Self::start_in(db, TempDir::new(), extra_env)
    }

    /// Starts the server on `db` with the data dir `data` (e.g. one a killed server left).
    #[allow(clippy::zombie_processes)]
    pub fn start_in(db: &TestDb, data: TempDir, extra_env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(server_bin());
        cmd.env("HEEPR_BIND", "127.0.0.1:0")
            .env("DATABASE_URL", &db.url)
            .env("HEEPR_DATA_DIR", &data.0)
            .env("HEEPR_WORKERS", "2")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut early = std::collections::VecDeque::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.split("listening on ").nth(1) {
                        let base = rest.split_whitespace().next().unwrap().to_owned();
                        return Self {
                            child,
                            base,
                            db_label: db.label,
                            lines: rx,
                            early: std::sync::Mutex::new(early),
                            _data: data,
                        };
                    }
                    early.push_back(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("server did not report `listening on` within 60 s ({})", db.label);
                }
            }
        }
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self._data.0
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends SIGTERM and waits (with a deadline) for the process to exit.
    pub fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not exit after SIGTERM");
            // Polling a child's exit has no blocking-with-timeout API in std.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process with SIGKILL (no shutdown of any kind) and hands back its data
    /// dir, for a restart with [`Server::start_in`].
    pub fn kill(mut self) -> TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self._data, TempDir(PathBuf::new()))
    }

    /// The next log line: first those printed before `listening on`, then new ones.
    fn next_line(&self, left: Duration) -> Result<String, mpsc::RecvTimeoutError> {
        if let Some(line) = self.early.lock().unwrap().pop_front() {
            return Ok(line);
        }
        self.lines.recv_timeout(left)
    }

    /// The log lines up to and including the first one containing `needle` (waiting
    /// for it with a deadline).
    pub fn log_until(&self, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_line(left) {
                Ok(line) => {
                    let found = line.contains(needle);
                    lines.push(line);
                    if found {
                        return lines;
                    }
                }
                Err(_) => panic!("no log line containing {needle:?} within 30 s"),
            }
        }
    }

    /// Waits (with a deadline) for a log line containing `needle` and returns it.
    pub fn wait_for_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_line(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line containing {needle:?} within 30 s"),
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the server program to completion with `args` and env; returns status, stdout, stderr.
pub fn run_command(db: &TestDb, data: &TempDir, args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String, String) {
    let mut cmd = Command::new(server_bin());
    cmd.args(args)
        .env("DATABASE_URL", &db.url)
        .env("HEEPR_DATA_DIR", &data.0)
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A browser-like client: keeps cookies, sends the anti-forgery header.
pub fn browser() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-heepr-client", reqwest::header::HeaderValue::from_static("e2e"));
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .build()
        .unwrap()
}

/// A wizard payload that passes validation.
pub fn wizard(name: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "description": "Fixes bugs in Rust and Python projects",
        "categories": ["code"],
        "skills": ["rust", "python"],
        "tools": ["git"],
        "gigs": [{
            "title": "Fix a bug",
            "category": "code",
            "description": "One bug, with a test",
            "form": [
                {"name": "repo", "label": "Repository URL", "type": "url", "required": true},
                {"name": "lang", "label": "Language", "type": "choice", "required": true, "choices": ["rust", "python"]}
            ],
            "tiers": [
                {"name": "Basic", "price": 25, "delivery_days": 2, "revisions": 1},
                {"name": "Pro", "price": 90, "delivery_days": 4, "revisions": 3}
            ]
        }],
        "poll_minutes": 5,
        "accept_mode": {"mode": "auto", "bands": [{"price_min": 1, "price_max": 100, "categories": ["code"]}]}
    })
}

/// Signs up (as an owner when `owner`), returns the logged-in client.
pub async fn signup(server: &Server, email: &str, owner: bool) -> reqwest::Client {
    let c = browser();
    let r = c
        .post(server.url("/api/auth/signup"))
        .json(&serde_json::json!({"email": email, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    if owner {
        let r = c.post(server.url("/api/me/owner")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    c
}

/// Creates an agent through the wizard, approves it with the code from the emailed
/// link (read from the server log), and returns the approve answer.
pub async fn onboard(server: &Server, owner: &reqwest::Client, name: &str) -> serde_json::Value {
    create_agent(server, owner, name).await;
    approve_agent(server, owner, &approval_code(server)).await
}

/// Creates an agent through the wizard (its approval link is emailed to the owner).
pub async fn create_agent(server: &Server, owner: &reqwest::Client, name: &str) {
    let r = owner
        .post(server.url("/api/owner/agents"))
        .json(&wizard(name))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// Approves a new agent with the code of its approval link; returns the answer.
pub async fn approve_agent(server: &Server, owner: &reqwest::Client, code: &str) -> serde_json::Value {
    let r = owner
        .post(server.url("/api/owner/agents/approve"))
        .json(&serde_json::json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The code of the next approval link printed by the log mail transport.
pub fn approval_code(server: &Server) -> String {
    let line = server.wait_for_log("/owner/approve?code=");
    code_in_link(&line)
}

/// The approval code in a text holding an approval link.
pub fn code_in_link(text: &str) -> String {
    let tail = text.split("/owner/approve?code=").nth(1).unwrap();
    tail.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// An onboarded, registered agent: (agent id, API key, first gig id).
pub async fn live_agent(server: &Server, owner: &reqwest::Client, name: &str) -> (String, String, String) {
    let setup = onboard(server, owner, name).await;
    register_agent(server, &setup).await
}

/// Registers an approved agent with its bootstrap token: (agent id, API key, first gig id).
pub async fn register_agent(server: &Server, setup: &serde_json::Value) -> (String, String, String) {
    let id = setup["agent_id"].as_str().unwrap().to_owned();
    let r = reqwest::Client::new()
        .post(server.url("/api/agent/register"))
        .header(
            "Authorization",
            format!("Bootstrap {}", setup["bootstrap_token"].as_str().unwrap()),
        )
        .json(&serde_json::json!({"agent_id": id}))
        .send()
        .await
        .unwrap();
    let key = r.json::<serde_json::Value>().await.unwrap()["api_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let profile: serde_json::Value = reqwest::get(server.url(&format!("/api/agents/{id}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gig = profile["gigs"][0]["id"].as_str().unwrap().to_owned();
    (id, key, gig)
}

/// Polls `/api/events` until at least one event arrives (with a deadline).
pub async fn next_events(server: &Server, key: &str) -> Vec<serde_json::Value> {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let body = agent_get(&http, key, server.url("/api/events")).await;
        if let Some(evs) = body["events"].as_array() {
            return evs.clone();
        }
        assert!(Instant::now() < deadline, "no event within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Files of uploads in progress: under `<data>/files/tmp` (in a directory per server
/// process), the processes' lock files aside.
pub fn upload_temp_files(data: &std::path::Path) -> Vec<PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.map_while(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_none_or(|x| x != "lock") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&data.join("files/tmp"), &mut out);
    out
}

/// `admin check-ledger` against the server's database: the ledger invariants hold.
pub fn assert_ledger_ok(db: &TestDb) {
    let data = TempDir::new();
    let (st, out, err) = run_command(db, &data, &["admin", "check-ledger"], &[]);
    assert!(st.success(), "ledger broken ({}): {out} {err}", db.label);
}

/// `GET url` with `c`, answered as JSON.
pub async fn get_json(c: &reqwest::Client, url: String) -> serde_json::Value {
    c.get(url).send().await.unwrap().json().await.unwrap()
}

/// `GET url` with an agent's key, answered as JSON.
pub async fn agent_get(c: &reqwest::Client, key: &str, url: String) -> serde_json::Value {
    c.get(url).bearer_auth(key).send().await.unwrap().json().await.unwrap()
}
