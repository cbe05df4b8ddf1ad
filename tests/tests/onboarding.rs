//! From signup to a live, polling agent over HTTP alone (SPEC §4–§8, §11).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::Engine;
use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use std::io::Read;
use std::path::Path;
use support::*;

/// What a scripted agent does when it follows SKILL.md.
struct ScriptedAgent {
    dir: std::path::PathBuf,
    base: String,
    http: reqwest::Client,
}

impl ScriptedAgent {
    const KEY_FILE: &'static str = ".heepr-marketplace-key";

    fn key(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.join(Self::KEY_FILE))
            .ok()
            .map(|k| k.trim().to_owned())
    }

    /// STEP 0: a key file that validates against GET /api/skill means "already registered".
    async fn step0_has_valid_key(&self) -> bool {
        let Some(key) = self.key() else { return false };
        let r = self
            .http
            .get(format!("{}/api/skill", self.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        r.status() == 200
    }

    /// STEP 1 + 2: register with the token of `.heepr-bootstrap-token`, store the key (0600).
    async fn step1_register(&self) -> Value {
        let skill_md = std::fs::read_to_string(self.dir.join("SKILL.md")).unwrap();
        let token = std::fs::read_to_string(self.dir.join(".heepr-bootstrap-token")).unwrap();
        assert!(
            token.starts_with("bs_") && token.len() == 67,
            "the Skill Setup carries the token"
        );
        assert!(
            !skill_md.contains(&token),
            "SKILL.md is shipped as hashed, without the token"
        );
        let skill_json: Value =
            serde_json::from_str(&std::fs::read_to_string(self.dir.join("skill.json")).unwrap()).unwrap();
        let agent_id = skill_json["agent_id"].as_str().unwrap();
        assert!(skill_md.contains(agent_id), "SKILL.md names the agent");
        assert!(
            skill_md.contains(&format!("{}/api/agent/register", self.base)),
            "SKILL.md points at this server"
        );
        assert!(skill_md.contains(Self::KEY_FILE) && skill_md.contains("chmod 600"));
        let r = self
            .http
            .post(format!("{}/api/agent/register", self.base))
            .header("Authorization", format!("Bootstrap {token}"))
            .json(&json!({ "agent_id": agent_id }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let body: Value = r.json().await.unwrap();
        let path = self.dir.join(Self::KEY_FILE);
        std::fs::write(&path, body["api_key"].as_str().unwrap()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        body
    }

    async fn poll(&self) -> reqwest::Response {
        self.http
            .get(format!("{}/api/events", self.base))
            .bearer_auth(self.key().unwrap())
            .send()
            .await
            .unwrap()
    }
}

fn unzip(zip: &[u8], into: &Path) -> Vec<String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut names = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        assert!(!name.contains('/') && !name.contains(".."), "flat bundle: {name}");
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).unwrap();
        std::fs::write(into.join(&name), buf).unwrap();
        names.push(name);
    }
    names.sort();
    names
}

#[tokio::test]
async fn scripted_agent_follows_skill_md_from_bundle_to_revocation() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "owner@example.com", true).await;
        let setup = onboard(&server, &owner, "Rusty").await;
        assert_eq!(setup["status"], "active");
        let zip = base64::engine::general_purpose::STANDARD
            .decode(setup["bundle"]["zip_base64"].as_str().unwrap())
            .unwrap();

        let dir = TempDir::new();
        let names = unzip(&zip, &dir.0);
        assert_eq!(
            names,
            [
                ".heepr-bootstrap-token",
                "API.md",
                "HEARTBEAT_EVENTS.md",
                "RULES.md",
                "SKILL.md",
                "skill.json"
            ]
        );
        let agent = ScriptedAgent {
            dir: dir.0.clone(),
            base: server.base.clone(),
            http: reqwest::Client::new(),
        };

        // First start: no key → register → key file with mode 600.
        assert!(!agent.step0_has_valid_key().await);
        let reg = agent.step1_register().await;
        assert_eq!(reg["agent_id"], setup["agent_id"]);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.0.join(ScriptedAgent::KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        // Restart: STEP 0 finds the key and skips registration.
        assert!(agent.step0_has_valid_key().await, "{}", db.label);
        let r = agent.poll().await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "{}", "idle poll is exactly {{}}");

        // The owner revokes: the very next poll says so.
        let id = setup["agent_id"].as_str().unwrap();
        let r = owner
            .post(server.url(&format!("/api/owner/agents/{id}/revoke-key")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = agent.poll().await;
        assert_eq!(r.status(), 401);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "key_revoked", "{}", db.label);
        assert!(
            !agent.step0_has_valid_key().await,
            "STEP 0 now sends the agent back to STEP 1"
        );
    }
}

#[tokio::test]
async fn register_errors_and_concurrent_registration() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "o@example.com", true).await;
        let setup = onboard(&server, &owner, "Racer").await;
        let id = setup["agent_id"].as_str().unwrap().to_owned();
        let token = setup["bootstrap_token"].as_str().unwrap().to_owned();
        let http = reqwest::Client::new();
        let register = |auth: String, agent: String| {
            let http = http.clone();
            let url = server.url("/api/agent/register");
            async move {
                let r = http
                    .post(url)
                    .header("Authorization", auth)
                    .json(&json!({"agent_id": agent}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap();
                (status, body)
            }
        };
        let code = |b: &Value| b["error"]["code"].as_str().unwrap_or("").to_owned();

        let (s, b) = register(format!("Bearer {token}"), id.clone()).await;
        assert_eq!((s, code(&b).as_str()), (401, "unauthorized"), "wrong scheme");
        let (s, b) = register("Bootstrap bs_short".into(), id.clone()).await;
        assert_eq!((s, code(&b).as_str()), (401, "bootstrap_unknown"), "malformed token");
        let (s, b) = register(format!("Bootstrap {token}"), "agt_someoneelse".into()).await;
        assert_eq!(
            (s, code(&b).as_str()),
            (401, "bootstrap_unknown"),
            "token of another agent"
        );

        let results = futures_all((0..32).map(|_| register(format!("Bootstrap {token}"), id.clone()))).await;
        let ok: Vec<_> = results.iter().filter(|(s, _)| *s == 201).collect();
        assert_eq!(ok.len(), 1, "{}: exactly one key", db.label);
        for (s, b) in results.iter().filter(|(s, _)| *s != 201) {
            assert_eq!((*s, code(b).as_str()), (401, "bootstrap_used"), "{}", db.label);
        }

        // A regenerated token while the key is live: 409, and the token is kept.
        let r = owner
            .post(server.url(&format!("/api/owner/agents/{id}/bootstrap")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let c = approval_code(&server);
        let again: Value = owner
            .post(server.url("/api/owner/agents/approve"))
            .json(&json!({"code": c}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token2 = again["bootstrap_token"].as_str().unwrap().to_owned();
        let (s, b) = register(format!("Bootstrap {token2}"), id.clone()).await;
        assert_eq!((s, code(&b).as_str()), (409, "active_key_exists"));
        // The approval code is single-use.
        let r = owner
            .post(server.url("/api/owner/agents/approve"))
            .json(&json!({"code": c}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 410);
        owner
            .post(server.url(&format!("/api/owner/agents/{id}/revoke-key")))
            .send()
            .await
            .unwrap();
        let (s, b) = register(format!("Bootstrap {token2}"), id.clone()).await;
        assert_eq!(s, 201, "{b}");
    }
}

async fn futures_all<F: std::future::Future<Output = T> + Send + 'static, T: Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<T> {
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn skill_endpoints_etag_and_files_are_per_agent() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "o@example.com", true).await;
        let http = reqwest::Client::new();
        let mut keys = Vec::new();
        for name in ["One", "Two"] {
            let setup = onboard(&server, &owner, name).await;
            let r = http
                .post(server.url("/api/agent/register"))
                .header(
                    "Authorization",
                    format!("Bootstrap {}", setup["bootstrap_token"].as_str().unwrap()),
                )
                .json(&json!({"agent_id": setup["agent_id"]}))
                .send()
                .await
                .unwrap();
            let b: Value = r.json().await.unwrap();
            keys.push((
                setup["agent_id"].as_str().unwrap().to_owned(),
                b["api_key"].as_str().unwrap().to_owned(),
            ));
        }
        let (id1, key1) = &keys[0];
        let (id2, key2) = &keys[1];

        let r = http
            .get(server.url("/api/skill"))
            .bearer_auth(key1)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let etag = r.headers()["etag"].to_str().unwrap().to_owned();
        let body: Value = r.json().await.unwrap();
        assert_eq!(etag, format!("\"{}\"", body["content_hash"].as_str().unwrap()));
        assert!(
            !body["body"].as_str().unwrap().contains("bs_"),
            "GET /api/skill never returns a token"
        );

        let r = http
            .get(server.url("/api/skill"))
            .bearer_auth(key1)
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{}", db.label);

        let r = http
            .get(server.url(&format!("/api/agents/{id1}/skill/RULES.md")))
            .bearer_auth(key1)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = http
            .get(server.url(&format!("/api/agents/{id1}/skill/RULES.md")))
            .bearer_auth(key2)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "another agent's file");
        let r = http
            .get(server.url(&format!("/api/agents/{id2}/skill/nope.md")))
            .bearer_auth(key2)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "unknown file");

        // A settings change changes the hash; the key stays valid.
        let mut settings = wizard("One");
        settings["poll_minutes"] = json!(7);
        let r = owner
            .put(server.url(&format!("/api/owner/agents/{id1}")))
            .json(&settings)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = http
            .get(server.url("/api/skill"))
            .bearer_auth(key1)
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}: new content_hash", db.label);
    }
}

#[tokio::test]
async fn accounts_sessions_and_login_limits() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[("HEEPR_LOGIN_LIMIT_EMAIL", "3")]);
        let alice = signup(&server, "Alice@Example.com", false).await;
        let me: Value = alice
            .get(server.url("/api/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["email"], "alice@example.com");
        assert_eq!(me["balance"], 1000, "{}: starter points through the ledger", db.label);
        assert_eq!(me["roles"], json!(["customer"]));

        let anon = browser();
        let r = anon
            .post(server.url("/api/auth/signup"))
            .json(&json!({"email": "ALICE@example.com", "password": "another password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409, "duplicate email in another case");
        let r = anon
            .post(server.url("/api/auth/signup"))
            .json(&json!({"email": "not-an-email", "password": "long enough"}))
            .send()
            .await
            .unwrap();
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"]["field"], "email");

        let wrong = |email: &'static str| {
            let anon = anon.clone();
            let url = server.url("/api/auth/login");
            async move {
                anon.post(url)
                    .json(&json!({"email": email, "password": "wrong password"}))
                    .send()
                    .await
                    .unwrap()
            }
        };
        let a = wrong("alice@example.com").await;
        let b = wrong("nobody@example.com").await;
        assert_eq!(a.status(), 401);
        assert_eq!(b.status(), 401);
        let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
        assert_eq!(a, b, "the error never says which of email or password was wrong");
        wrong("alice@example.com").await;
        wrong("alice@example.com").await;
        let r = anon
            .post(server.url("/api/auth/login"))
            .json(&json!({"email": "alice@example.com", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 429, "{}: limited after 3 failures", db.label);

        // Cookie mutations need X-Heepr-Client.
        let r = alice
            .post(server.url("/api/me/owner"))
            .header("x-heepr-client", "x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let bare = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let r = bare
            .post(server.url("/api/auth/signup"))
            .header("x-heepr-client", "1")
            .json(&json!({"email": "bob@example.com", "password": "bob password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let r = bare.post(server.url("/api/me/owner")).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"]["code"], "client_header_required");

        let r = alice.post(server.url("/api/auth/logout")).send().await.unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(alice.get(server.url("/api/me")).send().await.unwrap().status(), 401);
    }
}

#[tokio::test]
async fn wizard_rejects_bad_input_and_writes_nothing() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let customer = signup(&server, "c@example.com", false).await;
        let r = customer
            .post(server.url("/api/owner/agents"))
            .json(&wizard("X"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "not an owner yet");
        let owner = signup(&server, "o@example.com", true).await;
        let cases: Vec<(&str, Value, &str)> = vec![
            ("/poll_minutes", json!(0), "poll_minutes"),
            ("/poll_minutes", json!(61), "poll_minutes"),
            ("/gigs/0/tiers", json!([]), "gigs[0].tiers"),
            ("/gigs", json!([]), "gigs"),
            ("/gigs/0/tiers/0/price", json!(0), "gigs[0].tiers[0].price"),
            ("/categories", json!(["cooking"]), "categories[0]"),
            (
                "/accept_mode/bands/0/price_min",
                json!(500),
                "accept_mode.bands[0].price_min",
            ),
        ];
        for (pointer, value, field) in cases {
            let mut body = wizard("Bad");
            *body.pointer_mut(pointer).unwrap() = value;
            let r = owner
                .post(server.url("/api/owner/agents"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 422, "{pointer}");
            let b: Value = r.json().await.unwrap();
            assert_eq!(b["error"]["field"], field, "{b}");
            assert_eq!(b["error"]["code"], "validation_failed");
        }
        let r = owner
            .post(server.url("/api/owner/agents"))
            .header("content-type", "application/json")
            .body(vec![b' '; 2 << 20])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "oversized JSON");
        let list: Value = owner
            .get(server.url("/api/owner/agents"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["agents"], json!([]), "{}: nothing written", db.label);
    }
}

#[tokio::test]
async fn public_browse_filters_and_online_flag() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let owner = signup(&server, "o@example.com", true).await;
        let setup = onboard(&server, &owner, "Searchable Sam").await;
        let id = setup["agent_id"].as_str().unwrap().to_owned();
        // A second agent left pending is not public.
        let r = owner
            .post(server.url("/api/owner/agents"))
            .json(&wizard("Pending Pete"))
            .send()
            .await
            .unwrap();
        let pending: Value = r.json().await.unwrap();
        let anon = reqwest::Client::new();
        let r = anon
            .get(server.url(&format!("/api/agents/{}", pending["id"].as_str().unwrap())))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);

        let list = |q: &'static str| {
            let anon = anon.clone();
            let url = server.url(&format!("/api/agents{q}"));
            async move {
                let r = anon.get(url).send().await.unwrap();
                assert_eq!(r.status(), 200, "{q}");
                let b: Value = r.json().await.unwrap();
                b["agents"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["name"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(list("").await, ["Searchable Sam"]);
        assert_eq!(list("?category=code&q=SEARCHABLE").await, ["Searchable Sam"]);
        assert!(list("?category=design").await.is_empty());
        assert!(list("?q=zzz").await.is_empty());
        assert_eq!(
            list("?price_min=50&price_max=60").await,
            ["Searchable Sam"],
            "tiers 25..90 overlap"
        );
        assert!(list("?price_max=10").await.is_empty());
        assert!(list("?min_rating=4").await.is_empty(), "no reviews yet");
        assert!(list("?online=true").await.is_empty());
        let r = anon.get(server.url("/api/agents?sort=loudest")).send().await.unwrap();
        assert_eq!(r.status(), 422);

        let profile: Value = anon
            .get(server.url(&format!("/api/agents/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(profile["online"], false);
        assert_eq!(profile["price_range"], json!({"min": 25, "max": 90}));

        let r = anon
            .post(server.url("/api/agent/register"))
            .header(
                "Authorization",
                format!("Bootstrap {}", setup["bootstrap_token"].as_str().unwrap()),
            )
            .json(&json!({"agent_id": id}))
            .send()
            .await
            .unwrap();
        let key = r.json::<Value>().await.unwrap()["api_key"].as_str().unwrap().to_owned();
        assert_eq!(
            anon.get(server.url("/api/events"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let profile: Value = anon
            .get(server.url(&format!("/api/agents/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(profile["online"], true, "{}: online right after a poll", db.label);
        // The list filters in SQL, so it sees the heartbeat once flushed (every 5 s).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while list("?online=true").await.is_empty() {
            assert!(std::time::Instant::now() < deadline, "heartbeat never flushed");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test]
async fn agent_routes_refuse_missing_and_malformed_keys() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let http = reqwest::Client::new();
        for path in ["/api/events", "/api/skill"] {
            let r = http.get(server.url(path)).send().await.unwrap();
            assert_eq!(r.status(), 401, "{path} without a key");
            let r = http
                .get(server.url(path))
                .header("Authorization", "Basic abc")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401, "{path} with the wrong scheme");
            let r = http
                .get(server.url(path))
                .bearer_auth("sk_live_nothex")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401);
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unauthorized", "{}", db.label);
        }
        let r = http
            .post(server.url("/api/status"))
            .bearer_auth(format!("sk_live_{}", "a".repeat(64)))
            .json(&json!({"status": "paused"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "well-formed but unknown key");
    }
}

#[tokio::test]
async fn keys_expire_after_the_configured_ttl() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[("HEEPR_KEY_TTL_DAYS", "1"), ("HEEPR_TEST_CLOCK", "true")]);
        let owner = signup(&server, "o@example.com", true).await;
        let (_, key, _) = live_agent(&server, &owner, "Mortal").await;
        let http = reqwest::Client::new();
        assert_eq!(
            http.get(server.url("/api/events"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        browser()
            .post(server.url("/api/test/clock"))
            .json(&json!({"seconds": 86_401}))
            .send()
            .await
            .unwrap();
        // The cached answer lives at most a second; poll with a deadline.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let r = http
                .get(server.url("/api/events"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap();
            if r.status() == 401 {
                let b: Value = r.json().await.unwrap();
                assert_eq!(b["error"]["code"], "key_expired", "{}", db.label);
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{}: key never expired", db.label);
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}
