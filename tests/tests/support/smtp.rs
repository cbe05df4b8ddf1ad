//! A real SMTP server (`tests/smtp/peer.py`, aiosmtpd) started by a test: plain,
//! STARTTLS or implicit TLS, with or without authentication, failing the first messages
//! or refusing a recipient on demand. Accepted messages are read back as JSON.

use super::TempDir;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the peer behaves.
#[derive(Default, Clone)]
pub struct Opts {
    /// `none`, `starttls` or `implicit`.
    pub tls: &'static str,
    /// Required credentials.
    pub auth: Option<(&'static str, &'static str)>,
    /// Answer the first N messages with 451.
    pub fail_first: u32,
    /// Recipients refused with 550.
    pub refuse: Vec<String>,
}

pub struct SmtpPeer {
    child: Child,
    pub port: u16,
    out: TempDir,
    certs: TempDir,
}

/// aiosmtpd, installed from PyPI if this machine's python lacks it (`.ci/run` installs
/// it up front; this keeps `cargo test --workspace` a single command elsewhere).
fn ensure_aiosmtpd() {
    static ONCE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let have = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .expect("python3 must be installed to run the SMTP peer");
        if !have.success() {
            let st = Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "aiosmtpd==1.4.6"])
                .status()
                .unwrap();
            assert!(st.success(), "installing aiosmtpd failed");
        }
    });
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpPeer {
    #[allow(clippy::zombie_processes)] // killed and waited for on drop
    pub fn start(opts: &Opts) -> Self {
        ensure_aiosmtpd();
        let (out, certs) = (TempDir::new(), TempDir::new());
        let port = free_port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/smtp/peer.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .args(["--port", &port.to_string(), "--out"])
            .arg(&out.0)
            .args(["--certs"])
            .arg(&certs.0)
            .args(["--tls", if opts.tls.is_empty() { "none" } else { opts.tls }])
            .args(["--fail-first", &opts.fail_first.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some((u, p)) = opts.auth {
            cmd.args(["--user", u, "--password", p]);
        }
        for r in &opts.refuse {
            cmd.args(["--refuse", r]);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) if l.starts_with("ready") => {}
            other => {
                let _ = child.kill();
                panic!("the SMTP peer did not start: {other:?}");
            }
        }
        Self {
            child,
            port,
            out,
            certs,
        }
    }

    /// The CA that signed the peer's certificate (for `HEEPR_MAIL_CA_FILE`).
    pub fn ca_file(&self) -> String {
        self.certs.0.join("ca.pem").display().to_string()
    }

    fn files(&self, prefix: &str) -> Vec<Value> {
        let mut names: Vec<_> = std::fs::read_dir(&self.out.0)
            .unwrap()
            .map_while(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(prefix))
            .collect();
        names.sort();
        names
            .iter()
            .map(|n| serde_json::from_slice(&std::fs::read(self.out.0.join(n)).unwrap()).unwrap())
            .collect()
    }

    /// Every accepted message, in arrival order.
    pub fn messages(&self) -> Vec<Value> {
        self.files("message-")
    }

    /// How many messages were answered with a temporary failure.
    pub fn failures(&self) -> usize {
        self.files("failed-").len()
    }

    /// The messages to `to` (waiting, with a deadline, until there are at least `n`).
    pub async fn wait_for(&self, to: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got: Vec<Value> = self
                .messages()
                .into_iter()
                .filter(|m| m["rcpt_tos"].as_array().is_some_and(|r| r.iter().any(|a| a == to)))
                .collect();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{n} message(s) to {to} not received within 30 s: {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
