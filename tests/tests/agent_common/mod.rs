#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]
//! The `heepr-agent` program as the runner tests start it: `init` from the real bootstrap
//! link into a scratch folder, `run` as a child process whose log the test reads.

use crate::support::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The runner binary built by the tests crate.
pub fn agent_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_heepr-e2e-agent"))
}

/// Runs `heepr-agent <args>` to completion: (status, stdout, stderr).
pub fn agent_cmd(args: &[&str]) -> (ExitStatus, String, String) {
    let out = Command::new(agent_bin())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An agent onboarded through the wizard whose Skill Setup `heepr-agent init` fetched
/// from the bootstrap link: (agent id, gig id, bundle folder).
pub async fn agent_folder(server: &Server, owner: &reqwest::Client, name: &str) -> (String, String, TempDir) {
    let setup = onboard(server, owner, name).await;
    let agent = setup["agent_id"].as_str().unwrap().to_owned();
    let link = setup["bootstrap_link"]["url"].as_str().unwrap().to_owned();
    let dir = TempDir::new();
    let d = dir.0.to_str().unwrap().to_owned();
    let (st, out, err) = agent_cmd(&["init", &link, "--dir", &d]);
    assert!(st.success(), "init: {out} {err}");
    assert!(dir.0.join(".heepr-bootstrap-token").exists());
    let profile = get_json(&reqwest::Client::new(), server.url(&format!("/api/agents/{agent}"))).await;
    let gig = profile["gigs"][0]["id"].as_str().unwrap().to_owned();
    (agent, gig, dir)
}

/// A running `heepr-agent run`; killed on drop.
pub struct Runner {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub log: Vec<String>,
}

impl Runner {
    /// `heepr-agent run --dir <dir> --wait 5 <extra> -- <command>` with `env`.
    #[allow(clippy::zombie_processes)]
    pub fn start(dir: &Path, extra: &[&str], command: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(agent_bin());
        cmd.arg("run")
            .arg("--dir")
            .arg(dir)
            .args(["--wait", "5"])
            .args(extra)
            .arg("--")
            .args(command)
            .env("RUST_LOG", "info,heepr_agent=debug")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
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
        Self {
            child,
            lines: rx,
            log: Vec::new(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (with a deadline) for a log line containing `needle`.
    pub fn wait_for_log(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("runner: no log line with {needle:?} within 30 s; log: {:#?}", self.log),
            }
        }
    }

    /// Waits (with a deadline) for the process to exit; returns its status and the rest of its log.
    pub fn wait_exit(&mut self, within: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                let rest: Vec<String> = self.lines.try_iter().collect();
                self.log.extend(rest);
                return (st, self.log.join("\n"));
            }
            while let Ok(line) = self.lines.try_recv() {
                self.log.push(line);
            }
            assert!(Instant::now() < deadline, "runner did not exit; log: {:#?}", self.log);
            // std has no wait-with-timeout on a child.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no shutdown of any kind.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether it is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Sends SIGTERM.
    pub fn term(&self) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Places an order from the gig's Basic tier with `brief` and optional attachments.
pub async fn place(
    server: &Server,
    customer: &reqwest::Client,
    agent: &str,
    gig: &str,
    brief: &str,
    files: &[(&str, &[u8])],
) -> String {
    let order = json!({"agent_id": agent, "gig_id": gig, "tier": "Basic", "brief": brief,
                       "inputs": {"repo": "https://example.com/r", "lang": "rust"}});
    let req = customer.post(server.url("/api/customer/orders"));
    let req = if files.is_empty() {
        req.json(&order)
    } else {
        let mut form = reqwest::multipart::Form::new().part(
            "order",
            reqwest::multipart::Part::text(order.to_string())
                .mime_str("application/json")
                .unwrap(),
        );
        for (name, bytes) in files {
            form = form.part(
                "files",
                reqwest::multipart::Part::bytes(bytes.to_vec())
                    .file_name(name.to_string())
                    .mime_str("text/plain")
                    .unwrap(),
            );
        }
        req.multipart(form)
    };
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// `GET path` as the owner, as JSON; a pooled connection the server closed while idle
/// (keep-alive time-out) is retried once.
pub async fn owner_get(server: &Server, owner: &reqwest::Client, path: &str) -> Value {
    let url = server.url(path);
    let r = match owner.get(&url).send().await {
        Ok(r) => r,
        Err(_) => owner.get(&url).send().await.unwrap(),
    };
    r.json().await.unwrap()
}

/// The owner's view of an order.
pub async fn owner_order(server: &Server, owner: &reqwest::Client, order: &str) -> Value {
    owner_get(server, owner, &format!("/api/owner/orders/{order}")).await
}

/// Polls the owner's view of `order` until `done` holds (with a deadline); returns it.
pub async fn until_order(
    server: &Server,
    owner: &reqwest::Client,
    order: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let o = owner_order(server, owner, order).await;
        if done(&o) {
            return o;
        }
        assert!(Instant::now() < deadline, "{order}: not {what} within 40 s: {o}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (with a deadline) until `path` exists.
pub async fn until_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(Instant::now() < deadline, "no {} within 30 s", path.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The agent's command in the tests: a shell script that acts on the brief (`br`).
pub const SCRIPT: &str = r#"#!/usr/bin/env bash
ev=$(cat)
printf '%s' "$ev" > "event-$HEEPR_EVENT_ID.json"
echo $$ > pid
case "$ev" in
  *'"br":"hang"'*) while :; do sleep 1; done ;;
  *'"br":"crash"'*) echo "it broke" ; exit 3 ;;
  *'"br":"nothing"'*) exit 0 ;;
  *'"br":"big"'*) head -c 300000 /dev/zero | tr '\0' 'x' > "$HEEPR_OUT_DIR/big.txt"; echo big; exit 0 ;;
  *'"br":"decline"'*) echo "Not my field"; exit 10 ;;
  *'"br":"flag"'*) echo "Looks illegal"; exit 20 ;;
  *'"br":"slow"'*) touch started; while [ ! -f "$HEEPR_TEST_GO" ]; do sleep 0.05; done ;;
esac
echo "PROGRESS 50 halfway"
for f in attachments/*; do [ -f "$f" ] && cp "$f" "$HEEPR_OUT_DIR/echo-$(basename "$f")"; done
rounds=$(ls event-*.json | wc -l)
echo "Done: $HEEPR_ORDER_ID ($HEEPR_EVENT_KIND, round $rounds)"
case "$ev" in *'"rh":'*) echo "revision asked: $(printf '%s' "$ev" | sed 's/.*"m":"\([^"]*\)".*/\1/')";; esac
"#;

/// Writes [`SCRIPT`] to an executable file in `dir`.
pub fn script(dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("agent.sh");
    std::fs::write(&path, SCRIPT).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_str().unwrap().to_owned()
}
