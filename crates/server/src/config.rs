//! Flags and `HEEPR_*` environment variables (README lists them).

use crate::ServerError;
use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use heepr_http::HttpConfig;
use heepr_store::storage::{BlobStore, LocalDisk, ObjectBlobs, ObjectStoreSettings};
use heepr_store::{Store, StoreConfig};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "heepr-server",
    version,
    about = "Self-hostable marketplace where customers hire AI agents"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Run the server (the default).
    Serve,
    /// Operator commands.
    Admin {
        #[command(subcommand)]
        cmd: AdminCmd,
    },
}

#[derive(Subcommand)]
pub enum AdminCmd {
    /// Create a user (use --admin for the first support account).
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long, env = "HEEPR_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        admin: bool,
    },
    /// Verify the ledger invariants; exits non-zero if any is broken.
    CheckLedger,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Clone)]
pub struct Config {
    /// Listen address; port 0 picks a free port.
    #[arg(long, env = "HEEPR_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,
    /// Where `GET /metrics` (Prometheus text format) listens, apart from the API; unset:
    /// no metrics at all. Port 0 picks a free port (logged as `metrics on …`).
    #[arg(long, env = "HEEPR_METRICS_BIND", global = true)]
    pub metrics_bind: Option<String>,
    /// `sqlite://path`, a plain path, or `postgres://…` (default: <data dir>/heepr.db).
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Private file storage root (and the default SQLite location).
    #[arg(long, env = "HEEPR_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Public base URL used in skill packages, event URLs and emails (default: http://<bind>).
    #[arg(long, env = "HEEPR_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// `log`, `smtp://[user:pass@]host[:port][?tls=required|opportunistic]` or
    /// `smtps://user:pass@host[:port]` (implicit TLS).
    #[arg(
        long,
        env = "HEEPR_MAIL",
        default_value = "log",
        global = true,
        hide_env_values = true
    )]
    pub mail: String,
    /// The From address of every email.
    #[arg(
        long,
        env = "HEEPR_MAIL_FROM",
        default_value = "heepr <no-reply@heepr.local>",
        global = true
    )]
    pub mail_from: String,
    /// A Reply-To address (e.g. the support desk's), if any.
    #[arg(long, env = "HEEPR_MAIL_REPLY_TO", global = true)]
    pub mail_reply_to: Option<String>,
    /// An extra root certificate (PEM) the SMTP server's certificate may chain to.
    #[arg(long, env = "HEEPR_MAIL_CA_FILE", global = true)]
    pub mail_ca_file: Option<PathBuf>,
    /// Delay before the first retry of a failed email, in milliseconds (doubles per
    /// attempt, capped at an hour, jittered).
    #[arg(long, env = "HEEPR_MAIL_RETRY_MS", default_value_t = 30_000, global = true)]
    pub mail_retry_ms: u64,
    /// Signup bonus in points.
    #[arg(long, env = "HEEPR_STARTER_POINTS", default_value_t = 1000, global = true)]
    pub starter_points: i64,
    /// heepr order fee in basis points (0–10000).
    #[arg(long, env = "HEEPR_FEE_BPS", default_value_t = 0, global = true)]
    pub fee_bps: u16,
    /// Points credited to a customer for reviewing a completed order (0: none).
    #[arg(long, env = "HEEPR_REVIEW_BONUS", default_value_t = 5, global = true)]
    pub review_bonus: i64,
    /// Largest JSON body in bytes.
    #[arg(long, env = "HEEPR_JSON_LIMIT", default_value_t = 1 << 20, global = true)]
    pub json_limit: usize,
    /// Database connections in the pool.
    #[arg(long, env = "HEEPR_DB_POOL", default_value_t = 16, global = true)]
    pub db_pool: u32,
    /// HTTP worker threads (0 = one per core).
    #[arg(long, env = "HEEPR_WORKERS", default_value_t = 0, global = true)]
    pub workers: usize,
    /// Threads for blocking work, database calls above all, across workers
    /// (0 = as many as database connections, HEEPR_DB_POOL).
    #[arg(long, env = "HEEPR_BLOCKING_THREADS", default_value_t = 0, global = true)]
    pub blocking_threads: usize,
    /// Seconds between scheduler passes over due order timers.
    #[arg(long, env = "HEEPR_SCHEDULER_SECS", default_value_t = 5, global = true)]
    pub scheduler_secs: u64,
    /// Mark the session cookie Secure (set when serving over HTTPS).
    #[arg(long, env = "HEEPR_COOKIE_SECURE", default_value_t = false, global = true,
          action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub cookie_secure: bool,
    /// Session lifetime in days.
    #[arg(long, env = "HEEPR_SESSION_DAYS", default_value_t = 30, global = true)]
    pub session_days: i64,
    /// API keys expire after this many days (unset: never).
    #[arg(long, env = "HEEPR_KEY_TTL_DAYS", global = true)]
    pub key_ttl_days: Option<i64>,
    /// Comma-separated browser origins allowed to call the API with credentials.
    #[arg(long, env = "HEEPR_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,
    /// Failed logins allowed per email from one client address per 15 minutes.
    #[arg(long, env = "HEEPR_LOGIN_LIMIT_EMAIL", default_value_t = 10, global = true)]
    pub login_limit_email: u32,
    /// Failed logins allowed per client address per 15 minutes, all emails together.
    #[arg(long, env = "HEEPR_LOGIN_LIMIT_IP", default_value_t = 100, global = true)]
    pub login_limit_ip: u32,
    /// Comma-separated proxy addresses or CIDR blocks whose X-Forwarded-For names the
    /// client (rate limits); from anyone else the peer address counts.
    #[arg(long, env = "HEEPR_TRUSTED_PROXIES", value_delimiter = ',', global = true)]
    pub trusted_proxies: Vec<String>,
    /// Largest uploaded file in bytes.
    #[arg(long, env = "HEEPR_MAX_FILE_BYTES", default_value_t = 2 << 30, global = true)]
    pub max_file_bytes: u64,
    /// Most files per upload.
    #[arg(long, env = "HEEPR_MAX_FILES", default_value_t = 20, global = true)]
    pub max_files: usize,
    /// Largest multipart request in bytes.
    #[arg(long, env = "HEEPR_MAX_UPLOAD_BYTES", default_value_t = 4 << 30, global = true)]
    pub max_upload_bytes: u64,
    /// Uploads in flight at once, all callers together; over it an upload gets 503 busy
    /// (0 = a quarter of the open-file limit, at most 1024).
    #[arg(long, env = "HEEPR_MAX_UPLOADS", default_value_t = 0, global = true)]
    pub max_uploads: usize,
    /// Uploads in flight at once for one user or agent; over it 503 busy.
    #[arg(long, env = "HEEPR_UPLOADS_PER_CALLER", default_value_t = 4, global = true)]
    pub uploads_per_caller: usize,
    /// Seconds a request body (JSON or upload) may send nothing before it is cut (408).
    #[arg(long, env = "HEEPR_BODY_IDLE_SECS", default_value_t = 30, global = true)]
    pub body_idle_secs: u64,
    /// Seconds a new connection has to send its whole request head (408 after).
    #[arg(long, env = "HEEPR_HEADER_TIMEOUT_SECS", default_value_t = 5, global = true)]
    pub header_timeout_secs: u64,
    /// Seconds an idle keep-alive connection stays open.
    #[arg(long, env = "HEEPR_KEEP_ALIVE_SECS", default_value_t = 5, global = true)]
    pub keep_alive_secs: u64,
    /// The server key (32 bytes) that seals secrets at rest, such as the links in
    /// queued emails; created with mode 600 if missing. Every instance of a deployment
    /// must use the same key (default: <data dir>/secret.key).
    #[arg(long, env = "HEEPR_SECRET_KEY_FILE", global = true)]
    pub secret_key_file: Option<PathBuf>,
    /// An S3-compatible object store for uploaded files, `s3://bucket[/prefix]`
    /// (unset: local disk under the data directory). Every instance of a deployment
    /// on more than one machine needs the same store.
    #[arg(long, env = "HEEPR_OBJECT_STORE_URL", global = true)]
    pub object_store_url: Option<String>,
    /// The store's endpoint, `http(s)://host[:port]`, for S3-compatible servers other
    /// than AWS (MinIO, Garage, Ceph…); path-style requests.
    #[arg(long, env = "HEEPR_OBJECT_STORE_ENDPOINT", global = true)]
    pub object_store_endpoint: Option<String>,
    /// The store's region (default: AWS_REGION, else us-east-1).
    #[arg(long, env = "HEEPR_OBJECT_STORE_REGION", global = true)]
    pub object_store_region: Option<String>,
    /// Access key id (default: AWS_ACCESS_KEY_ID).
    #[arg(
        long,
        env = "HEEPR_OBJECT_STORE_ACCESS_KEY_ID",
        global = true,
        hide_env_values = true
    )]
    pub object_store_access_key_id: Option<String>,
    /// Secret access key (default: AWS_SECRET_ACCESS_KEY).
    #[arg(
        long,
        env = "HEEPR_OBJECT_STORE_SECRET_ACCESS_KEY",
        global = true,
        hide_env_values = true
    )]
    pub object_store_secret_access_key: Option<String>,
    /// Seconds to connect to the object store, and to retry one call of it.
    #[arg(long, env = "HEEPR_OBJECT_STORE_TIMEOUT_SECS", default_value_t = 10, global = true)]
    pub object_store_timeout_secs: u64,
    /// Credits an open AgentMarket registration gets from the mint.
    #[arg(long, env = "HEEPR_AM_SIGNUP_CREDITS", default_value_t = 100, global = true)]
    pub am_signup_credits: i64,
    /// AgentMarket platform fee (tasks and execute) in basis points (0–10000).
    #[arg(long, env = "HEEPR_AM_FEE_BPS", default_value_t = 1000, global = true)]
    pub am_fee_bps: u16,
    /// Open AgentMarket registrations per client address per hour.
    #[arg(long, env = "HEEPR_AM_REGISTER_LIMIT", default_value_t = 20, global = true)]
    pub am_register_limit: u32,
    /// Days an open AgentMarket task (or an accepted one) waits before its budget returns.
    #[arg(long, env = "HEEPR_AM_TASK_TTL_DAYS", default_value_t = 7, global = true)]
    pub am_task_ttl_days: i64,
    /// Allow http:// for webhooks and endpoint_url (local development).
    #[arg(long, env = "HEEPR_OUTBOUND_ALLOW_HTTP", default_value_t = false, global = true,
          action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub outbound_allow_http: bool,
    /// Allow webhooks and endpoint_url to reach loopback, private and link-local addresses.
    #[arg(long, env = "HEEPR_OUTBOUND_ALLOW_PRIVATE", default_value_t = false, global = true,
          action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub outbound_allow_private: bool,
    /// Seconds an outbound call (execute, a webhook delivery) may take in all.
    #[arg(long, env = "HEEPR_OUTBOUND_TIMEOUT_SECS", default_value_t = 30, global = true)]
    pub outbound_timeout_secs: u64,
    /// Largest response body an outbound call reads, in bytes.
    #[arg(long, env = "HEEPR_OUTBOUND_MAX_BYTES", default_value_t = 1 << 20, global = true)]
    pub outbound_max_bytes: usize,
    /// OpenAI-compatible chat-completions URL for system_prompt-only AgentMarket agents.
    #[arg(long, env = "HEEPR_LLM_URL", global = true)]
    pub llm_url: Option<String>,
    /// Bearer key for HEEPR_LLM_URL.
    #[arg(long, env = "HEEPR_LLM_API_KEY", global = true, hide_env_values = true)]
    pub llm_api_key: Option<String>,
    /// The model named in chat-completions requests.
    #[arg(long, env = "HEEPR_LLM_MODEL", default_value = "gpt-4o-mini", global = true)]
    pub llm_model: String,
    /// Test hooks: `/api/test/clock` and `/api/test/timers`. Never in production.
    #[arg(long, env = "HEEPR_TEST_CLOCK", default_value_t = false, global = true, hide = true,
          action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub test_clock: bool,
    /// Log format.
    #[arg(long, env = "HEEPR_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
}

impl Config {
    fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("heepr.db").display()))
    }

    /// Reads the server key, creating it on first start (mode 600).
    pub fn server_key(&self) -> Result<heepr_auth::ServerKey, ServerError> {
        let path = self
            .secret_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secret.key"));
        let loaded = heepr_auth::ServerKey::load_or_create(&path).map_err(|e| ServerError::Config(e.to_string()))?;
        if loaded.created {
            tracing::info!(path = %path.display(), "server key created; every instance of this deployment must use this file");
        }
        if let Some(mode) = loaded.mode.filter(|m| m & 0o077 != 0) {
            tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "the server key file is readable by others than its owner; chmod 600 it");
        }
        Ok(loaded.key)
    }

    /// The file store: local disk under the data directory, or the object store of
    /// `HEEPR_OBJECT_STORE_URL` (checked to answer before the server starts).
    pub fn blobs(&self) -> Result<std::sync::Arc<dyn BlobStore>, ServerError> {
        let data_dir = |cause| ServerError::DataDir {
            dir: self.data_dir.display().to_string(),
            cause,
        };
        let Some(url) = &self.object_store_url else {
            return Ok(std::sync::Arc::new(LocalDisk::new(&self.data_dir).map_err(data_dir)?));
        };
        let settings = ObjectStoreSettings {
            url: url.clone(),
            endpoint: self.object_store_endpoint.clone(),
            region: self.object_store_region.clone(),
            access_key_id: self.object_store_access_key_id.clone(),
            secret_access_key: self.object_store_secret_access_key.clone(),
            timeout: Duration::from_secs(self.object_store_timeout_secs),
        };
        std::fs::create_dir_all(&self.data_dir).map_err(data_dir)?;
        let blobs = ObjectBlobs::connect(&settings, &self.data_dir)
            .map_err(|e| ServerError::Config(format!("object store: {e}")))?;
        Ok(std::sync::Arc::new(blobs))
    }

    /// Creates the data directory, opens the database and applies migrations.
    pub fn open_store(&self) -> Result<Store, ServerError> {
        std::fs::create_dir_all(&self.data_dir).map_err(|cause| ServerError::DataDir {
            dir: self.data_dir.display().to_string(),
            cause,
        })?;
        Ok(Store::open(&StoreConfig {
            url: self.database_url(),
            pool_size: self.db_pool,
        })?)
    }

    pub fn http(&self) -> Result<HttpConfig, ServerError> {
        if heepr_domain::FeeBps::new(self.fee_bps).is_none() {
            return Err(ServerError::Config(format!(
                "HEEPR_FEE_BPS must be 0–10000, not {}",
                self.fee_bps
            )));
        }
        if self.starter_points < 0 {
            return Err(ServerError::Config("HEEPR_STARTER_POINTS must not be negative".into()));
        }
        if self.review_bonus < 0 {
            return Err(ServerError::Config("HEEPR_REVIEW_BONUS must not be negative".into()));
        }
        let base_url = self
            .base_url
            .clone()
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned();
        Ok(HttpConfig {
            bind: self.bind.clone(),
            base_url,
            json_limit: self.json_limit,
            workers: self.workers,
            blocking_threads: match self.blocking_threads {
                0 => self.db_pool as usize,
                n => n,
            },
            starter_points: self.starter_points,
            fee_bps: self.fee_bps,
            review_bonus: self.review_bonus,
            cookie_secure: self.cookie_secure,
            session_days: self.session_days,
            key_ttl_days: self.key_ttl_days,
            cors_origins: self
                .cors_origins
                .iter()
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            login_limit_per_email: self.login_limit_email,
            login_limit_per_ip: self.login_limit_ip,
            trusted_proxies: heepr_http::TrustedProxies::parse(&self.trusted_proxies).map_err(ServerError::Config)?,
            uploads: heepr_http::UploadLimits {
                max_file_bytes: self.max_file_bytes,
                max_files: self.max_files,
                max_total_bytes: self.max_upload_bytes,
                max_in_flight: self.max_uploads,
                per_caller: self.uploads_per_caller.max(1),
                ..heepr_http::UploadLimits::default()
            },
            clients: heepr_http::ClientTimeouts {
                header: Duration::from_secs(self.header_timeout_secs.max(1)),
                keep_alive: Duration::from_secs(self.keep_alive_secs),
                body_idle: Duration::from_secs(self.body_idle_secs.max(1)),
                // Derived from the open-file limit at start (`limits`).
                max_connections_per_worker: 0,
            },
            market: self.market()?,
            metrics: self.metrics_bind.is_some(),
            test_clock: self.test_clock,
        })
    }

    fn market(&self) -> Result<heepr_http::MarketConfig, ServerError> {
        let fee = heepr_domain::FeeBps::new(self.am_fee_bps)
            .ok_or_else(|| ServerError::Config(format!("HEEPR_AM_FEE_BPS must be 0–10000, not {}", self.am_fee_bps)))?;
        if self.am_signup_credits < 0 {
            return Err(ServerError::Config(
                "HEEPR_AM_SIGNUP_CREDITS must not be negative".into(),
            ));
        }
        if self.am_task_ttl_days < 1 {
            return Err(ServerError::Config("HEEPR_AM_TASK_TTL_DAYS must be at least 1".into()));
        }
        Ok(heepr_http::MarketConfig {
            policy: heepr_domain::market::MarketPolicy {
                fee,
                signup_credits: heepr_domain::Points(self.am_signup_credits),
                task_ttl: chrono::Duration::days(self.am_task_ttl_days),
            },
            outbound: heepr_outbound::Policy {
                allow_http: self.outbound_allow_http,
                allow_private: self.outbound_allow_private,
                connect_timeout: Duration::from_secs(self.outbound_timeout_secs.clamp(1, 10)),
                timeout: Duration::from_secs(self.outbound_timeout_secs.max(1)),
                max_bytes: self.outbound_max_bytes.max(1),
            },
            llm: self
                .llm_url
                .as_ref()
                .filter(|u| !u.trim().is_empty())
                .map(|url| heepr_http::LlmConfig {
                    url: url.trim().to_owned(),
                    api_key: self.llm_api_key.clone().filter(|k| !k.is_empty()),
                    model: self.llm_model.clone(),
                }),
            register_limit: self.am_register_limit.max(1),
        })
    }

    pub fn scheduler_every(&self) -> Duration {
        Duration::from_secs(self.scheduler_secs.max(1))
    }
}

/// Logs go to stderr; `RUST_LOG` overrides the default `info` level.
pub fn init_tracing(cfg: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cfg.log_format {
        LogFormat::Text => crate::logs::init(builder.finish()),
        LogFormat::Json => crate::logs::init(builder.json().finish()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_clock(args: &[&str]) -> Result<bool, clap::Error> {
        let mut argv = vec!["heepr-server"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|c| c.config.test_clock)
    }

    #[test]
    fn boolean_settings_take_1_true_yes_and_their_opposites() {
        for on in [
            "--test-clock",
            "--test-clock=1",
            "--test-clock=true",
            "--test-clock=yes",
        ] {
            assert_eq!(test_clock(&[on]).ok(), Some(true), "{on}");
        }
        for off in ["--test-clock=0", "--test-clock=false", "--test-clock=no"] {
            assert_eq!(test_clock(&[off]).ok(), Some(false), "{off}");
        }
        assert_eq!(test_clock(&[]).ok(), Some(false));
        assert!(test_clock(&["--test-clock=maybe"]).is_err());
    }
}
