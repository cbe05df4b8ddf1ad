//! The agent's side as a runtime sees it (issue 18): the owner's one line fetches the
//! bootstrap link into an empty directory, and SKILL.md's shell blocks, run literally
//! there against the real server, register without the key reaching any output, leave a
//! mode-600 key file and poll. The link works once, expires, and regenerating voids it;
//! neither its secret nor a token is stored in plaintext. Both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use diesel::prelude::*;
use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use support::*;

/// Runs one shell command in `dir` with only PATH set, as an agent runtime would; returns
/// what it printed (stdout and stderr together).
fn run(dir: &Path, script: &str) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The fenced `sh` blocks of a Markdown file, in order.
fn shell_blocks(md: &str) -> Vec<String> {
    md.split("```sh\n")
        .skip(1)
        .map(|rest| rest.split("\n```").next().unwrap().to_owned())
        .collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

async fn place(server: &Server, customer: &reqwest::Client, agent: &str, gig: &str) -> String {
    let r = customer
        .post(server.url("/api/customer/orders"))
        .json(&json!({"agent_id": agent, "gig_id": gig, "tier": "Basic",
                      "inputs": {"repo": "https://example.com/r", "lang": "rust"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

async fn gig_of(server: &Server, agent: &str) -> String {
    let profile = get_json(&reqwest::Client::new(), server.url(&format!("/api/agents/{agent}"))).await;
    profile["gigs"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn skill_md_run_as_written_registers_without_printing_the_key_and_polls() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let setup = onboard(&server, &owner, "Literal").await;
        let agent = setup["agent_id"].as_str().unwrap().to_owned();
        let link = setup["bootstrap_link"]["url"].as_str().unwrap().to_owned();
        assert!(link.starts_with(&format!("{}/api/setup/bsl_", server.base)), "{link}");
        assert!(setup["install"].as_str().unwrap().contains(&link));
        let customer = signup(&server, "customer@example.com", false).await;
        let gig = gig_of(&server, &agent).await;
        let first = place(&server, &customer, &agent, &gig).await;

        // The owner's one line, pasted into an empty directory of the remote runtime.
        let dir = TempDir::new();
        let out = run(&dir.0, &format!("curl -fsSL {link} -o setup.zip && unzip setup.zip"));
        assert!(
            !out.contains("bs_"),
            "{}: unzip lists names, not the token: {out}",
            db.label
        );
        let token_file = dir.0.join(".heepr-bootstrap-token");
        assert_eq!(mode(&token_file), 0o600, "{}", db.label);
        let token = std::fs::read_to_string(&token_file).unwrap();
        assert!(token.starts_with("bs_"));

        // skill.json lists every other file with the hash of its bytes as shipped.
        let index: Value = serde_json::from_str(&std::fs::read_to_string(dir.0.join("skill.json")).unwrap()).unwrap();
        let mut lines = Vec::new();
        for f in index["files"].as_array().unwrap() {
            let name = f["name"].as_str().unwrap();
            let bytes = std::fs::read(dir.0.join(name)).unwrap();
            assert_eq!(f["sha256"], hex_sha256(&bytes).as_str(), "{}: {name}", db.label);
            lines.push(format!("{name}\n{}\n", hex_sha256(&bytes)));
        }
        lines.sort();
        assert_eq!(index["content_hash"], hex_sha256(lines.concat().as_bytes()).as_str());

        // SKILL.md's blocks, literally, in order: key check, register, re-read, tick.
        let skill_md = std::fs::read_to_string(dir.0.join("SKILL.md")).unwrap();
        let blocks = shell_blocks(&skill_md);
        assert_eq!(blocks.len(), 4, "{}", db.label);
        let mut printed = String::new();
        let out = run(&dir.0, &blocks[0]);
        assert_eq!(out.trim(), "key check: 401", "{}: no key yet", db.label);
        printed += &out;
        let out = run(&dir.0, &blocks[1]);
        assert_eq!(out.trim(), "registered", "{}: {out}", db.label);
        printed += &out;
        let key_file = dir.0.join(".heepr-marketplace-key");
        let key = std::fs::read_to_string(&key_file).unwrap();
        assert!(key.starts_with("sk_live_") && key.len() == 72, "{}: {key:?}", db.label);
        assert_eq!(mode(&key_file), 0o600, "{}", db.label);
        assert!(!token_file.exists(), "{}: the used token is deleted", db.label);
        assert!(!dir.0.join(".heepr-reg").exists(), "no copy of the answer is left");

        let out = run(&dir.0, &blocks[2]);
        printed += &out;
        let batch: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(batch["events"][0]["k"], "new_order", "{}: {out}", db.label);
        assert_eq!(batch["events"][0]["o"], first.as_str());

        // The tick saves the finished batch's cursor, then waits: an order placed now
        // answers it at once.
        let second = place(&server, &customer, &agent, &gig).await;
        let out = run(&dir.0, &blocks[3]);
        printed += &out;
        assert!(
            !out.contains("package updated"),
            "{}: the package is current: {out}",
            db.label
        );
        let batch: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(batch["events"][0]["o"], second.as_str(), "{}: {out}", db.label);
        let cursor = std::fs::read_to_string(dir.0.join(".heepr-cursor")).unwrap();
        assert!(cursor.trim().starts_with("evt_"), "{}: {cursor:?}", db.label);

        // A restart: STEP 0 now finds the key valid; nothing printed ever held it.
        let out = run(&dir.0, &blocks[0]);
        assert_eq!(out.trim(), "key check: 200", "{}", db.label);
        printed += &out;
        assert!(
            !printed.contains(key.trim()),
            "{}: the key reached the output",
            db.label
        );
        assert!(!printed.contains("sk_live_"), "{}", db.label);

        // The link worked once.
        let r = reqwest::get(&link).await.unwrap();
        assert_eq!(r.status(), 410, "{}", db.label);
        let body = r.text().await.unwrap();
        assert!(body.contains("\"link_used\"") && !body.contains("bs_"), "{body}");
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The rows and files holding bootstrap links and tokens, as bytes.
fn stored_bytes(db: &TestDb) -> Vec<u8> {
    if let Some(path) = db.url.strip_prefix("sqlite://") {
        let mut out = std::fs::read(path).unwrap();
        out.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        return out;
    }
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    let mut c = PgConnection::establish(&db.url).unwrap();
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT row_to_json(l)::text AS t FROM bootstrap_links l \
         UNION ALL SELECT row_to_json(b)::text FROM bootstrap_tokens b",
    )
    .load(&mut c)
    .unwrap();
    rows.into_iter().flat_map(|r| r.t.into_bytes()).collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn a_bootstrap_link_works_once_expires_and_is_voided_by_regenerating() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[("HEEPR_TEST_CLOCK", "1")]);
        let owner = signup(&server, "owner@example.com", true).await;
        let setup = onboard(&server, &owner, "Linked").await;
        let agent = setup["agent_id"].as_str().unwrap().to_owned();
        let link = setup["bootstrap_link"]["url"].as_str().unwrap().to_owned();
        let http = reqwest::Client::new();
        let fetch = |url: String| {
            let http = http.clone();
            async move {
                let r = http.get(url).send().await.unwrap();
                let status = r.status().as_u16();
                let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
                (status, ct, r.bytes().await.unwrap().to_vec())
            }
        };
        let refused = |(status, ct, body): (u16, String, Vec<u8>), code: &str| {
            assert_eq!(status, if code == "not_found" { 404 } else { 410 }, "{code}");
            assert!(ct.starts_with("application/json"));
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["error"]["code"], code);
            assert!(!body.to_string().contains("bs_"), "no token in a refusal");
        };

        let (status, ct, zip) = fetch(link.clone()).await;
        assert_eq!((status, ct.as_str()), (200, "application/zip"), "{}", db.label);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        let mut token = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(".heepr-bootstrap-token").unwrap(), &mut token).unwrap();
        // The log says so without handing the link out (its secret is masked).
        let line = server.wait_for_log("bootstrap link used");
        let secret = link.rsplit('/').next().unwrap();
        assert!(
            line.contains("bsl_[secret]") && !line.contains(secret),
            "{}: {line}",
            db.label
        );
        refused(fetch(link.clone()).await, "link_used");
        refused(fetch(format!("{}/api/setup/bsl_nope", server.base)).await, "not_found");
        refused(fetch(link.replace("/bsl_", "/bsl_0")).await, "not_found");

        // No secret in plaintext: neither the link's nor either token.
        let stored = stored_bytes(&db);
        for s in [secret, token.as_str(), setup["bootstrap_token"].as_str().unwrap()] {
            assert!(!contains(&stored, s), "{}: {s} is stored in plaintext", db.label);
        }

        // The link's token voided the approval's; the link's registers.
        let register = |token: String| {
            let http = http.clone();
            let url = server.url("/api/agent/register");
            let agent = agent.clone();
            async move {
                let r = http
                    .post(url)
                    .header("Authorization", format!("Bootstrap {token}"))
                    .json(&json!({ "agent_id": agent }))
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            }
        };
        let (s, b) = register(setup["bootstrap_token"].as_str().unwrap().to_owned()).await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (401, Some("bootstrap_unknown")),
            "{}",
            db.label
        );
        let (s, _) = register(token.clone()).await;
        assert_eq!(s, 201, "{}", db.label);

        // Regenerating: a new approval gives a new link; asking again voids it unused.
        let regenerate = || {
            owner
                .post(server.url(&format!("/api/owner/agents/{agent}/bootstrap")))
                .send()
        };
        assert_eq!(regenerate().await.unwrap().status(), 202);
        let again: Value = owner
            .post(server.url("/api/owner/agents/approve"))
            .json(&json!({ "code": approval_code(&server) }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let link2 = again["bootstrap_link"]["url"].as_str().unwrap().to_owned();
        assert_ne!(link2, link);
        assert_eq!(regenerate().await.unwrap().status(), 202);
        refused(fetch(link2).await, "link_voided");

        // A link lives a day.
        let again: Value = owner
            .post(server.url("/api/owner/agents/approve"))
            .json(&json!({ "code": approval_code(&server) }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let link3 = again["bootstrap_link"]["url"].as_str().unwrap().to_owned();
        http.post(server.url("/api/test/clock"))
            .json(&json!({"seconds": 24 * 3600}))
            .send()
            .await
            .unwrap();
        refused(fetch(link3).await, "link_expired");
    }
}
