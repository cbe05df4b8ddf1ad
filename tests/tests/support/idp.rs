//! Identity providers for the sign-in tests, each a real server on loopback that the
//! test starts: `oidc-provider` (tests/oidc/provider.mjs, on the machine's node) and
//! the GitHub/Facebook OAuth 2 peer (tests/oauth/peer.py, Python's standard library).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// A peer process that printed `listening <port>`; killed on drop.
pub struct Peer {
    child: Child,
    pub base: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Spawns `cmd` (stdin kept open: the peer exits when it closes) and waits, with a
/// deadline, for its `listening <port>` line.
#[allow(clippy::zombie_processes)]
fn spawn(mut cmd: Command) -> Peer {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Drain to the end even once the port is known: a closed pipe would kill the
        // peer on its next log line (EPIPE).
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(port) = line.strip_prefix("listening ") {
                    return Peer {
                        child,
                        base: format!("http://127.0.0.1:{}", port.trim()),
                    };
                }
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the peer did not report `listening` within 30 s");
            }
        }
    }
}

static NPM: Mutex<bool> = Mutex::new(false);

/// `npm ci` in tests/oidc once, if .ci/run has not done it (the lock file pins
/// oidc-provider).
fn npm_ci() {
    let mut done = NPM.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tests_dir().join("oidc");
    if *done || dir.join("node_modules/oidc-provider").exists() {
        *done = true;
        return;
    }
    let st = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(st.success(), "npm ci in tests/oidc failed");
    *done = true;
}

/// Starts oidc-provider; [`configure`] it once heepr's callback URL is known.
pub fn oidc_provider() -> Peer {
    npm_ci();
    let mut cmd = Command::new("node");
    cmd.arg(tests_dir().join("oidc/provider.mjs"));
    spawn(cmd)
}

/// Registers heepr as the provider's one client.
pub async fn configure(op: &Peer, client_id: &str, secret: &str, redirect: &str) {
    let r = reqwest::Client::new()
        .post(format!("{}/_test/configure", op.base))
        .json(&serde_json::json!({"client_id": client_id, "client_secret": secret, "redirect_uris": [redirect]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Sets the provider's ID-token tampering mode (`normal`, `wrong_key`, …).
pub async fn set_mode(op: &Peer, mode: &str) {
    let r = reqwest::Client::new()
        .post(format!("{}/_test/mode", op.base))
        .json(&serde_json::json!({ "mode": mode }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Starts the GitHub/Facebook OAuth 2 peer.
pub fn oauth_peer() -> Peer {
    let mut cmd = Command::new("python3");
    cmd.arg(tests_dir().join("oauth/peer.py"));
    spawn(cmd)
}
