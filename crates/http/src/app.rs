use crate::error::ApiError;
use crate::{health, request_id};
use actix_web::dev::Server;
use actix_web::error::JsonPayloadError;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpServer, web};
use heepr_domain::Policy;
use heepr_store::Store;
use std::net::{SocketAddr, TcpListener};

/// Settings the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Where to listen; port 0 picks a free port.
    pub bind: String,
    /// Public base URL (skill packages, event URLs, emails).
    pub base_url: String,
    /// Largest JSON body accepted, in bytes.
    pub json_limit: usize,
    /// Worker threads (0 = one per core).
    pub workers: usize,
    /// Points credited at signup.
    pub starter_points: i64,
    /// heepr order fee in basis points, snapshotted onto each order.
    pub fee_bps: u16,
}

/// Shared by all handlers.
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Order timers and platform rules.
    pub policy: Policy,
    /// HTTP settings.
    pub config: HttpConfig,
}

/// Mounts every route; used by [`Application`] and by in-process tests.
pub fn configure(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        let limit = state.config.json_limit;
        cfg.app_data(state)
            .app_data(web::JsonConfig::default().limit(limit).error_handler(json_error))
            .route("/healthz", web::get().to(health::healthz))
            .route("/readyz", web::get().to(health::readyz))
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ApiError::NotFound)
            }));
    }
}

fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => ApiError::TooLarge.into(),
        JsonPayloadError::ContentType => ApiError::BadJson("expected Content-Type: application/json".into()).into(),
        other => ApiError::BadJson(other.to_string()).into(),
    }
}

/// A bound, not yet running, HTTP server.
pub struct Application {
    server: Server,
    addr: SocketAddr,
}

impl Application {
    /// Binds `config.bind` (port 0 picks a free port) and prepares the server.
    pub fn build(state: AppState) -> std::io::Result<Self> {
        let listener = TcpListener::bind(&state.config.bind)?;
        let addr = listener.local_addr()?;
        let workers = state.config.workers;
        let state = web::Data::new(state);
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(request_id::middleware))
                .configure(configure(state.clone()))
        })
        .shutdown_timeout(30)
        .listen(listener)?;
        if workers > 0 {
            server = server.workers(workers);
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
