use crate::error::ApiError;
use crate::request_id;
use actix_web::dev::Server;
use actix_web::error::JsonPayloadError;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpRequest, HttpServer, web};
use heepr_domain::Policy;
use heepr_store::Store;
use std::net::{SocketAddr, TcpListener};

/// Settings the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Where to listen; port 0 picks a free port.
    pub bind: String,
    /// Public base URL (skill packages, event URLs, emails); empty = `http://<bound address>`.
    pub base_url: String,
    /// Largest JSON body accepted, in bytes.
    pub json_limit: usize,
    /// Worker threads (0 = one per core).
    pub workers: usize,
    /// Threads for blocking work (database calls, file chunks) across all workers
    /// (0 = actix's default, 512). Nearly all of it holds a database connection, so
    /// threads beyond the pool only queue on it — and each extra runnable thread is
    /// another wake-up and another contender for the SQLite writer.
    pub blocking_threads: usize,
    /// Points credited at signup.
    pub starter_points: i64,
    /// heepr order fee in basis points, snapshotted onto each order.
    pub fee_bps: u16,
    /// Points credited for a review (`HEEPR_REVIEW_BONUS`; 0: none).
    pub review_bonus: i64,
    /// Mark the session cookie `Secure` (serve over HTTPS).
    pub cookie_secure: bool,
    /// Session lifetime in days.
    pub session_days: i64,
    /// API keys expire after this many days (`None`: never).
    pub key_ttl_days: Option<i64>,
    /// Origins allowed to call the API from a browser with credentials.
    pub cors_origins: Vec<String>,
    /// Failed logins allowed per email from one client address per 15 minutes.
    pub login_limit_per_email: u32,
    /// Failed logins allowed per client address per 15 minutes, all emails together.
    pub login_limit_per_ip: u32,
    /// Proxies whose `X-Forwarded-For` names the client (rate limits).
    pub trusted_proxies: crate::ratelimit::TrustedProxies,
    /// Upload limits.
    pub uploads: crate::upload::UploadLimits,
    /// Deadlines for slow clients (request head, keep-alive, stalled bodies).
    pub clients: crate::slow::ClientTimeouts,
    /// The AgentMarket board.
    pub market: crate::routes::market::MarketConfig,
    /// Records HTTP metrics (set when `HEEPR_METRICS_BIND` is; off, the middleware is not
    /// even mounted).
    pub metrics: bool,
    /// Identity providers to sign in with (none by default) and where a sign-in lands.
    pub sign_in: crate::signin::SignInConfig,
    /// Enables `/api/test/*` (moving the clock, running timers) for end-to-end tests.
    /// Never set in production.
    pub test_clock: bool,
    /// Signup must carry `accept_terms` and `age_confirmed` (`HEEPR_REQUIRE_CONSENT`).
    pub require_consent: bool,
}

impl HttpConfig {
    /// Defaults suitable for tests and local runs.
    pub fn local(bind: &str) -> Self {
        Self {
            bind: bind.to_owned(),
            base_url: format!("http://{bind}"),
            json_limit: 1 << 20,
            workers: 0,
            blocking_threads: 0,
            starter_points: 1000,
            fee_bps: 0,
            review_bonus: 5,
            cookie_secure: false,
            session_days: 30,
            key_ttl_days: None,
            cors_origins: Vec::new(),
            login_limit_per_email: 10,
            login_limit_per_ip: 100,
            trusted_proxies: crate::ratelimit::TrustedProxies::default(),
            uploads: crate::upload::UploadLimits::default(),
            clients: crate::slow::ClientTimeouts::default(),
            market: crate::routes::market::MarketConfig::default(),
            metrics: false,
            sign_in: crate::signin::SignInConfig {
                providers: Vec::new(),
                frontend_url: "/".into(),
            },
            test_clock: false,
            require_consent: false,
        }
    }
}

/// Shared by all handlers.
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Order timers and platform rules.
    pub policy: Policy,
    /// HTTP settings.
    pub config: HttpConfig,
    /// Attempt counters for logins (and, later, password resets and registrations).
    pub(crate) limiter: crate::ratelimit::Limiter,
    /// Uploads in flight, against their caps.
    pub(crate) upload_slots: crate::upload::Slots,
    /// Uploaded files.
    pub blobs: std::sync::Arc<dyn heepr_store::storage::BlobStore>,
    /// The time source (shared with the scheduler).
    pub clock: std::sync::Arc<Clock>,
    /// Seals what is kept but must not be stored in plaintext (links in queued emails).
    pub server_key: std::sync::Arc<heepr_auth::ServerKey>,
    /// The board's outbound clients (agents' URLs, the LLM provider).
    pub(crate) market: crate::routes::market::MarketClients,
    /// The client for identity providers (no redirects followed).
    pub(crate) sign_in: crate::signin::ProviderClient,
}

/// Wall-clock time plus an offset that only end-to-end tests move (`HEEPR_TEST_CLOCK`).
#[derive(Debug, Default)]
pub struct Clock {
    offset_secs: std::sync::atomic::AtomicI64,
}

impl Clock {
    /// Now, truncated to what the database keeps.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        let offset = self.offset_secs.load(std::sync::atomic::Ordering::Relaxed);
        heepr_store::micros(chrono::Utc::now() + chrono::Duration::seconds(offset))
    }

    /// Moves time forward (tests only).
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, std::sync::atomic::Ordering::Relaxed);
    }
}

impl AppState {
    /// Builds the shared state.
    pub fn new(
        store: Store,
        policy: Policy,
        config: HttpConfig,
        blobs: std::sync::Arc<dyn heepr_store::storage::BlobStore>,
        clock: std::sync::Arc<Clock>,
        server_key: std::sync::Arc<heepr_auth::ServerKey>,
    ) -> Result<Self, heepr_outbound::OutboundError> {
        let limiter = crate::ratelimit::Limiter::for_store(&store);
        let market = crate::routes::market::MarketClients::new(&config.market)?;
        let sign_in =
            crate::signin::ProviderClient::new().map_err(|e| heepr_outbound::OutboundError::Other(e.to_string()))?;
        Ok(Self {
            store,
            policy,
            upload_slots: crate::upload::Slots::new(&config.uploads),
            config,
            limiter,
            blobs,
            clock,
            server_key,
            market,
            sign_in,
        })
    }

    /// The current time, truncated to what the database keeps.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

/// Mounts every route; used by [`Application`] and by in-process tests.
pub fn configure(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        let limit = state.config.json_limit;
        cfg.app_data(state)
            .app_data(web::JsonConfig::default().limit(limit).error_handler(json_error))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .configure(|c| crate::routes::configure(c, limit))
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ApiError::NotFound)
            }));
    }
}

fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    json_api_error(err).into()
}

/// What a JSON body that could not be read answers (shared by every envelope).
pub(crate) fn json_api_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => ApiError::TooLarge,
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType("expected Content-Type: application/json"),
        JsonPayloadError::Payload(e) => match crate::slow::stalled(&e) {
            Some(secs) => ApiError::BodyStalled(secs),
            None => ApiError::BadJson(JsonPayloadError::Payload(e).to_string()),
        },
        other => ApiError::BadJson(other.to_string()),
    }
}

/// A query string that does not parse answers 400 `bad_query` in the envelope (actix
/// would answer plain text).
fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::BadQuery(format!("query string: {err}")).into()
}

/// A bound, not yet running, HTTP server.
pub struct Application {
    server: Server,
    addr: SocketAddr,
}

impl Application {
    /// Binds `config.bind` (port 0 picks a free port) and prepares the server.
    pub fn build(mut state: AppState) -> std::io::Result<Self> {
        let listener = TcpListener::bind(&state.config.bind)?;
        let addr = listener.local_addr()?;
        if state.config.base_url.is_empty() {
            // Derived from the address actually bound, so port 0 yields usable URLs.
            state.config.base_url = format!("http://{addr}");
        }
        // Agent events link to the server's files (attachments) from here.
        state.store.set_base_url(&state.config.base_url);
        let clients = state.config.clients;
        let workers = state.config.workers;
        let metrics = state.config.metrics;
        let blocking_threads = state.config.blocking_threads;
        let state = web::Data::new(state);
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(cors(&state.config.cors_origins))
                .wrap(from_fn(crate::slow::middleware))
                .wrap(from_fn(crate::path::refuse_control_characters))
                .wrap(from_fn(request_id::middleware))
                .wrap(Condition::new(metrics, from_fn(crate::metrics::middleware)))
                .configure(configure(state.clone()))
        })
        .shutdown_timeout(30)
        .client_request_timeout(clients.header)
        .keep_alive(clients.keep_alive)
        // After an early answer (a refused or stalled upload), the unread rest of the
        // body gets this long before the connection closes.
        .client_disconnect_timeout(std::time::Duration::from_secs(1))
        .listen(listener)?;
        if workers > 0 {
            server = server.workers(workers);
        }
        if clients.max_connections_per_worker > 0 {
            server = server.max_connections(clients.max_connections_per_worker);
        }
        if blocking_threads > 0 {
            let workers = if workers > 0 {
                workers
            } else {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            };
            server = server.worker_max_blocking_threads(blocking_threads.div_ceil(workers));
        }
        Ok(Self {
            server: server.run(),
            addr,
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }

    /// A handle to stop the server from elsewhere.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

/// Browsers may call the API with credentials only from the configured origins;
/// without any, cross-origin requests get no CORS headers at all.
fn cors(origins: &[String]) -> actix_cors::Cors {
    use actix_web::http::{Method, header};
    let mut cors = actix_cors::Cors::default();
    for o in origins {
        cors = cors.allowed_origin(o);
    }
    cors.allowed_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static(crate::principal::CLIENT_HEADER),
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([header::ETAG, header::HeaderName::from_static(request_id::HEADER)])
        .supports_credentials()
        .max_age(3600)
}
