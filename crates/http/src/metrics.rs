//! Prometheus metrics: recorded with the `metrics` macros where things happen (a few
//! atomics), rendered by `metrics-exporter-prometheus` when `GET /metrics` is scraped on
//! its own listener (`HEEPR_METRICS_BIND`, off by default: without it no recorder is
//! installed, the macros do nothing and the HTTP middleware is not mounted).
//!
//! Gauges that are a state, not an event (pool connections in use, SQLite writer queue,
//! outbox depth), are read from the store at scrape time.

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{App, HttpResponse, HttpServer, web};
use heepr_store::Store;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use std::net::{SocketAddr, TcpListener};
use std::time::Instant;

/// Latency buckets (seconds): an idle poll answers in tens of microseconds, an upload
/// or a long poll in seconds.
const SECONDS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0, 60.0,
];
/// SQLite writer group sizes (commands per commit).
const GROUP: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

/// Installs the process-wide recorder; its handle renders the text format.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)?
        .set_buckets_for_metric(Matcher::Full("heepr_sqlite_writer_group_size".into()), GROUP)?
        .install_recorder()
}

/// Middleware: requests and latency by route template (`/api/orders/{id}/deliver`, or
/// `unmatched`), method and status.
pub(crate) async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let out = next.call(req).await;
    let (route, status) = match &out {
        Ok(res) => (
            res.request().match_pattern().unwrap_or_else(|| "unmatched".into()),
            res.status().as_u16(),
        ),
        Err(e) => ("unmatched".into(), e.as_response_error().status_code().as_u16()),
    };
    let elapsed = started.elapsed().as_secs_f64();
    metrics::counter!("heepr_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("heepr_http_request_duration_seconds", "route" => route, "method" => method).record(elapsed);
    out
}

/// `GET /metrics`: the store's state gauges, then everything rendered.
async fn scrape(handle: web::Data<PrometheusHandle>, store: web::Data<Store>) -> HttpResponse {
    let (open, idle) = store.pool_state();
    metrics::gauge!("heepr_db_pool_connections").set(f64::from(open));
    metrics::gauge!("heepr_db_pool_in_use").set(f64::from(open.saturating_sub(idle)));
    metrics::gauge!("heepr_sqlite_writer_queue").set(store.writer_queue() as f64);
    let store = Store::clone(&store);
    match web::block(move || store.outbox_depth()).await {
        Ok(Ok(depth)) => metrics::gauge!("heepr_outbox_depth").set(depth as f64),
        Ok(Err(e)) => tracing::warn!(error = %e, "outbox depth unavailable"),
        Err(e) => tracing::warn!(error = %e, "outbox depth unavailable"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}

/// The metrics listener: `GET /metrics` only, one worker, apart from the API.
pub struct MetricsServer {
    server: Server,
    addr: SocketAddr,
}

impl MetricsServer {
    /// Binds `bind` (port 0 picks a free port).
    pub fn build(bind: &str, handle: PrometheusHandle, store: Store) -> std::io::Result<Self> {
        let store = web::Data::new(store);
        let listener = TcpListener::bind(bind)?;
        let addr = listener.local_addr()?;
        let handle = web::Data::new(handle);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(handle.clone())
                .app_data(store.clone())
                .service(web::resource("/metrics").get(scrape))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        Ok(Self { server, addr })
    }

    /// The address bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until stopped.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }

    /// A handle to stop it.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}
