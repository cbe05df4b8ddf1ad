#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]
// Starts the real server program (`heepr-e2e-server`, the same code as
// `heepr-server`) as a child process on a random port, and talks HTTP to it.

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
    _data: TempDir,
}

impl Server {
    /// Starts the server on `db` with a fresh data dir and waits (with a deadline) for
    /// its `listening on` line.
    // The child moves into `Server`, whose Drop kills and waits for it.
    #[allow(clippy::zombie_processes)]
    pub fn start(db: &TestDb, extra_env: &[(&str, &str)]) -> Self {
        let data = TempDir::new();
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
                            _data: data,
                        };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("server did not report `listening on` within 60 s ({})", db.label);
                }
            }
        }
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

    /// Log lines seen so far (after `listening on`).
    pub fn log_lines(&self) -> Vec<String> {
        self.lines.try_iter().collect()
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
