//! `heepr-server` as a library, so the end-to-end crate can build the very same
//! program as its own test binary (cargo offers no binary dependencies).

mod admin;
mod config;
mod limits;
mod logs;
mod mail;
mod scheduler;
mod sweep;
mod webhooks;

use clap::Parser;
use config::{Cli, Cmd, Config};
use heepr_http::{AppState, Application};
use std::process::ExitCode;

/// Why the server could not start or a command failed; printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A configuration value is wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] heepr_store::StoreError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {cause}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        cause: std::io::Error,
    },
    /// The data directory is unusable.
    #[error("data directory {dir}: {cause}")]
    DataDir {
        /// The directory.
        dir: String,
        /// Why.
        cause: std::io::Error,
    },
    /// Anything else from an admin command.
    #[error("{0}")]
    Command(String),
}

/// The whole program: parse flags and env, run the command, print one line on error.
pub fn cli_main() -> ExitCode {
    let cli = Cli::parse();
    config::init_tracing(&cli.config);
    let result = match cli.cmd.unwrap_or(Cmd::Serve) {
        Cmd::Serve => serve(cli.config),
        Cmd::Admin { cmd } => admin::run(&cli.config, cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("heepr-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(cfg: Config) -> Result<ExitCode, ServerError> {
    let store = cfg.open_store()?;
    // One connection of its own (retried in the background), so another instance's write
    // is seen here at once: it does not delay the start.
    store.listen_to_other_instances()?;
    let mut http = cfg.http()?;
    limits::fit_open_files(&mut http, cfg.db_pool);
    let policy = heepr_domain::Policy::default();
    let scheduler_every = cfg.scheduler_every();
    let server_key = std::sync::Arc::new(cfg.server_key()?);
    let blobs = cfg.blobs()?;
    tracing::info!(files = %blobs.describe(), "file storage ready");
    sweep::start(store.clone(), blobs.clone());
    // Webhooks get a client of their own (its own connection pool), under the same
    // policy as the board's other calls to agents' URLs.
    let hooks = heepr_outbound::Outbound::guarded(http.market.outbound.clone())
        .map_err(|e| ServerError::Config(format!("outbound HTTP client: {e}")))?;
    // Installed before anything records; without a metrics address nothing does.
    let metrics = match &cfg.metrics_bind {
        Some(bind) => Some((
            bind.clone(),
            heepr_http::metrics::install().map_err(|e| ServerError::Config(format!("metrics: {e}")))?,
        )),
        None => None,
    };
    actix_web::rt::System::new().block_on(async move {
        // Inside the runtime: the SMTP connection pool spawns its reaper task on it.
        let mailer = mail::Mailer::from_config(&mail::MailSettings {
            url: &cfg.mail,
            from: &cfg.mail_from,
            reply_to: cfg.mail_reply_to.as_deref(),
            ca_file: cfg.mail_ca_file.as_deref(),
            retry_first: std::time::Duration::from_millis(cfg.mail_retry_ms),
        })
        .map_err(ServerError::Config)?;
        let clock = std::sync::Arc::new(heepr_http::Clock::default());
        let app = Application::build(
            AppState::new(
                store.clone(),
                policy.clone(),
                http.clone(),
                blobs,
                clock.clone(),
                server_key.clone(),
            )
            .map_err(|e| ServerError::Config(format!("outbound HTTP client: {e}")))?,
        )
        .map_err(|cause| ServerError::Bind {
            addr: http.bind.clone(),
            cause,
        })?;
        let metrics_server = match metrics {
            Some((bind, handle)) => {
                let m = heepr_http::metrics::MetricsServer::build(&bind, handle, store.clone())
                    .map_err(|cause| ServerError::Bind { addr: bind, cause })?;
                tracing::info!("metrics on http://{}/metrics", m.addr());
                Some(m)
            }
            None => None,
        };
        tracing::info!(backend = ?store.backend(), "listening on http://{}", app.addr());
        let base_url = match http.base_url.as_str() {
            "" => format!("http://{}", app.addr()),
            set => set.to_owned(),
        };
        let mut jobs = vec![
            actix_web::rt::spawn(scheduler::run(
                store.clone(),
                policy,
                http.market.clone(),
                scheduler_every,
                clock.clone(),
            )),
            actix_web::rt::spawn(scheduler::housekeeping(store.clone())),
            actix_web::rt::spawn(mail::run(store.clone(), mailer, server_key.clone(), base_url)),
            actix_web::rt::spawn(webhooks::run(store.clone(), hooks, server_key, clock)),
        ];
        let metrics_handle = metrics_server.as_ref().map(|m| m.handle());
        if let Some(m) = metrics_server {
            jobs.push(actix_web::rt::spawn(async move {
                if let Err(e) = m.run().await {
                    tracing::warn!(error = %e, "metrics listener stopped");
                }
            }));
        }
        let served = app.run().await;
        if let Some(h) = metrics_handle {
            h.stop(true).await;
        }
        for job in jobs {
            job.abort();
        }
        // Heartbeats still in memory are written before exit.
        if let Err(e) = store.flush_heartbeats() {
            tracing::warn!(error = %e, "final heartbeat flush failed");
        }
        tracing::info!("shut down");
        served.map_err(|e| ServerError::Command(format!("server error: {e}")))?;
        Ok(ExitCode::SUCCESS)
    })
}
