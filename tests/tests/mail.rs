//! The SMTP transport against a real SMTP peer (Python's smtpd DebuggingServer).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::*;

struct SmtpPeer {
    child: std::process::Child,
    port: u16,
    lines: mpsc::Receiver<String>,
}

impl SmtpPeer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("python3")
            .args([
                "-u",
                "-W",
                "ignore",
                "-m",
                "smtpd",
                "-n",
                "-c",
                "DebuggingServer",
                &format!("127.0.0.1:{port}"),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the SMTP peer");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "SMTP peer did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port, lines }
    }

    /// The next whole message, with quoted-printable soft breaks and `=3D` undone.
    fn next_message(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut msg = String::new();
        let mut inside = false;
        loop {
            let l = match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(l) => l,
                Err(_) => panic!("no complete message within 30 s; got {msg:?}"),
            };
            // The debugging server prints each line as a bytes literal: b'...'.
            let l = l
                .strip_prefix("b'")
                .and_then(|x| x.strip_suffix('\''))
                .unwrap_or(&l)
                .to_owned();
            if l.contains("MESSAGE FOLLOWS") {
                inside = true;
            } else if l.contains("END MESSAGE") {
                return msg.replace("=3D", "=");
            } else if inside {
                match l.strip_suffix('=') {
                    Some(soft) => msg.push_str(soft),
                    None => {
                        msg.push_str(&l);
                        msg.push('\n');
                    }
                }
            }
        }
    }

    #[allow(dead_code)]
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(l) if l.contains(needle) => return l,
                Ok(_) => {}
                Err(_) => panic!("the SMTP peer never received {needle:?}"),
            }
        }
    }
}

impl Drop for SmtpPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn approval_email_goes_through_smtp_and_its_link_works() {
    let db = TestDb::sqlite();
    let peer = SmtpPeer::start();
    let server = Server::start(&db, &[("HEEPR_MAIL", &format!("smtp://127.0.0.1:{}", peer.port))]);
    let owner = signup(&server, "owner@example.com", true).await;
    let r = owner
        .post(server.url("/api/owner/agents"))
        .json(&wizard("Mailed"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let msg = peer.next_message();
    assert!(msg.contains("To: owner@example.com"), "{msg}");
    let link = format!("{}/owner/approve?code=", server.base);
    let code: String = msg
        .split(&link)
        .nth(1)
        .unwrap_or_default()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(code.len(), "apr_".len() + 64, "{msg}");
    let r = owner
        .post(server.url("/api/owner/agents/approve"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the emailed code approves the agent");
}
