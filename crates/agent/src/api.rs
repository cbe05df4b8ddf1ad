//! heepr's agent API as this runner calls it: one method per endpoint, typed answers,
//! the error envelope turned into [`AgentError::Api`].

use crate::error::{AgentError, Result};
use reqwest::{RequestBuilder, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A client of one heepr server for one agent.
pub struct Api {
    http: reqwest::Client,
    base: String,
    key: Option<String>,
    requests: AtomicU64,
}

/// `GET /api/events`: the events after the cursor and the batch's own cursor.
#[derive(Debug, Default, Deserialize)]
pub struct Batch {
    #[serde(default)]
    pub events: Vec<Value>,
    pub next: Option<String>,
}

/// The outcome of `GET /api/skill` with `If-None-Match`.
#[derive(Debug, PartialEq, Eq)]
pub enum SkillCheck {
    /// 304: the package on disk is current.
    Current,
    /// 200 with this `content_hash`.
    Changed(String),
}

#[derive(Deserialize)]
struct SkillAnswer {
    content_hash: String,
}

#[derive(Deserialize)]
struct Registered {
    api_key: String,
}

#[derive(Deserialize)]
struct Envelope {
    error: EnvelopeError,
}

#[derive(Deserialize)]
struct EnvelopeError {
    code: String,
    message: String,
}

/// `201` of deliver: the delivery written (or, on a retry, the one written first).
#[derive(Debug, Deserialize)]
pub struct Delivered {
    pub delivery: DeliveryRef,
    #[serde(skip)]
    pub replayed: bool,
}

/// The part of a delivery the runner keeps.
#[derive(Debug, Deserialize, Serialize, Clone)]
pub struct DeliveryRef {
    pub id: String,
    #[serde(default)]
    pub files: Vec<Value>,
}

/// What one delivery carries.
#[derive(Debug, Default, Clone)]
pub struct Delivery {
    pub text: Option<String>,
    pub urls: Vec<String>,
    pub note: Option<String>,
    pub files: Vec<PathBuf>,
}

#[derive(Serialize)]
struct ReasonBody<'a> {
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

#[derive(Serialize)]
struct ProgressBody<'a> {
    order_id: &'a str,
    progress: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

#[derive(Serialize)]
struct StatusBody<'a> {
    status: &'a str,
}

#[derive(Serialize)]
struct JsonDelivery<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    urls: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

#[derive(Serialize)]
struct RegisterBody<'a> {
    agent_id: &'a str,
}

impl Api {
    /// A client of the server at `base` (scheme, host, port; no `/api`).
    pub fn new(base: &str, key: Option<String>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("heepr-agent/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key,
            requests: AtomicU64::new(0),
        })
    }

    /// How many requests this client sent.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Uses `key` from now on.
    pub fn set_key(&mut self, key: String) {
        self.key = Some(key);
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn authed(&self, rb: RequestBuilder) -> RequestBuilder {
        match &self.key {
            Some(k) => rb.bearer_auth(k),
            None => rb,
        }
    }

    async fn send(&self, rb: RequestBuilder) -> Result<reqwest::Response> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let r = rb.send().await?;
        if r.status().is_success() || r.status() == StatusCode::NOT_MODIFIED {
            return Ok(r);
        }
        Err(error_of(r).await)
    }

    /// `POST /api/agent/register` with a bootstrap token → the API key.
    pub async fn register(&self, token: &str, agent_id: &str) -> Result<String> {
        let rb = self
            .http
            .post(self.url("/api/agent/register"))
            .header(header::AUTHORIZATION, format!("Bootstrap {}", token.trim()))
            .json(&RegisterBody { agent_id })
            .timeout(Duration::from_secs(30));
        let r: Registered = self.send(rb).await?.json().await?;
        Ok(r.api_key)
    }

    /// `GET /api/skill`, `If-None-Match` the hash on disk (STEP 0 and self-update).
    pub async fn skill(&self, current: Option<&str>) -> Result<SkillCheck> {
        let mut rb = self
            .authed(self.http.get(self.url("/api/skill")))
            .timeout(Duration::from_secs(30));
        if let Some(h) = current {
            rb = rb.header(header::IF_NONE_MATCH, format!("\"{h}\""));
        }
        let r = self.send(rb).await?;
        if r.status() == StatusCode::NOT_MODIFIED {
            return Ok(SkillCheck::Current);
        }
        let a: SkillAnswer = r.json().await?;
        Ok(SkillCheck::Changed(a.content_hash))
    }

    /// `GET /api/agents/{id}/skill/{file}`, byte for byte.
    pub async fn skill_file(&self, agent_id: &str, name: &str) -> Result<Vec<u8>> {
        let rb = self
            .authed(self.http.get(self.url(&format!("/api/agents/{agent_id}/skill/{name}"))))
            .timeout(Duration::from_secs(30));
        Ok(self.send(rb).await?.bytes().await?.to_vec())
    }

    /// `GET /api/events?since=<cursor>[&wait=<s>]`.
    pub async fn events(&self, since: &str, wait: Option<u32>) -> Result<Batch> {
        let mut query = vec![("since", since.to_owned())];
        if let Some(w) = wait {
            query.push(("wait", w.to_string()));
        }
        let rb = self
            .authed(self.http.get(self.url("/api/events")).query(&query))
            .timeout(Duration::from_secs(u64::from(wait.unwrap_or(0)) + 30));
        Ok(self.send(rb).await?.json().await?)
    }

    /// Downloads an attachment (`at[].u`, same origin) into `to`; returns its bytes.
    pub async fn download(&self, url: &str, to: &Path) -> Result<Vec<u8>> {
        if !url.starts_with(&self.base) {
            return Err(AgentError::Usage(format!(
                "attachment URL {url} is not on {}",
                self.base
            )));
        }
        let rb = self.authed(self.http.get(url)).timeout(Duration::from_secs(300));
        let bytes = self.send(rb).await?.bytes().await?.to_vec();
        tokio::fs::write(to, &bytes).await.map_err(AgentError::io(to))?;
        Ok(bytes)
    }

    /// `POST /api/orders/{id}/deliver`: JSON without files, multipart with them.
    pub async fn deliver(&self, order: &str, key: &str, d: &Delivery) -> Result<Delivered> {
        let url = self.url(&format!("/api/orders/{order}/deliver"));
        let rb = if d.files.is_empty() {
            self.http.post(url).json(&JsonDelivery {
                text: d.text.as_deref(),
                urls: &d.urls,
                note: d.note.as_deref(),
            })
        } else {
            let mut form = reqwest::multipart::Form::new();
            if let Some(t) = &d.text {
                form = form.text("text", t.clone());
            }
            if let Some(n) = &d.note {
                form = form.text("note", n.clone());
            }
            for u in &d.urls {
                form = form.text("urls", u.clone());
            }
            for f in &d.files {
                let bytes = tokio::fs::read(f).await.map_err(AgentError::io(f))?;
                let name = f
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "file".to_owned());
                form = form.part("files", reqwest::multipart::Part::bytes(bytes).file_name(name));
            }
            self.http.post(url).multipart(form)
        };
        let rb = self
            .authed(rb)
            .header("Idempotency-Key", key)
            .timeout(Duration::from_secs(300));
        let r = self.send(rb).await?;
        let replayed = r.headers().contains_key("idempotent-replayed");
        let mut d: Delivered = r.json().await?;
        d.replayed = replayed;
        Ok(d)
    }

    /// `POST /api/orders/{id}/decline` or `/flag` (`action`) with a reason and note.
    pub async fn reason(&self, action: &str, order: &str, key: &str, reason: &str, note: Option<&str>) -> Result<()> {
        let rb = self
            .authed(self.http.post(self.url(&format!("/api/orders/{order}/{action}"))))
            .header("Idempotency-Key", key)
            .json(&ReasonBody { reason, note })
            .timeout(Duration::from_secs(30));
        self.send(rb).await.map(drop)
    }

    /// `POST /api/status` with an order's progress.
    pub async fn progress(&self, order: &str, key: &str, progress: u8, note: Option<&str>) -> Result<()> {
        let rb = self
            .authed(self.http.post(self.url("/api/status")))
            .header("Idempotency-Key", key)
            .json(&ProgressBody {
                order_id: order,
                progress,
                note,
            })
            .timeout(Duration::from_secs(30));
        self.send(rb).await.map(drop)
    }

    /// `POST /api/status` `{"status"}`: `active` or `paused`.
    pub async fn status(&self, key: &str, status: &str) -> Result<()> {
        let rb = self
            .authed(self.http.post(self.url("/api/status")))
            .header("Idempotency-Key", key)
            .json(&StatusBody { status })
            .timeout(Duration::from_secs(30));
        self.send(rb).await.map(drop)
    }

    /// `GET <url>` without a key (the bootstrap link).
    pub async fn fetch_link(&self, url: &str) -> Result<Vec<u8>> {
        let rb = self.http.get(url).timeout(Duration::from_secs(60));
        Ok(self.send(rb).await?.bytes().await?.to_vec())
    }
}

/// The envelope of a refused request (or its status, when the body is not one).
async fn error_of(r: reqwest::Response) -> AgentError {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    match serde_json::from_str::<Envelope>(&text) {
        Ok(e) => AgentError::Api {
            status,
            code: e.error.code,
            message: e.error.message,
        },
        Err(_) => AgentError::Api {
            status,
            code: format!("http_{status}"),
            message: text.chars().take(200).collect(),
        },
    }
}
