//! `heepr-agent run`: SKILL.md's STEP 3 as a program. Re-read what followed the last
//! finished batch, handle each event not handled before, save the cursor, update the
//! package when its ETag changed, wait (long-poll when the server offers it); back off
//! with jitter on errors; SIGTERM finishes or releases the order in hand.

use crate::bundle;
use crate::command::Shutdown;
use crate::error::{AgentError, Result};
use crate::session::Session;
use crate::state::{self, Handled, Orders, Paths, Runtime};
use crate::work::{self, Ctx};
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// `heepr-agent run` options.
pub struct RunOpts {
    pub argv: Vec<String>,
    /// Seconds a poll waits for an event (1–60).
    pub wait: u32,
    /// The longest one run of the command may take.
    pub max_time: Duration,
    /// How long SIGTERM lets the order in hand finish.
    pub grace: Duration,
}

/// Exponential back-off with full jitter: 0.2 s … 60 s.
struct Backoff {
    failures: u32,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let cap_ms = (500u64 << self.failures.min(7)).min(60_000);
        let r = getrandom::u64().unwrap_or(cap_ms / 2);
        Duration::from_millis(200 + r % cap_ms)
    }
}

/// Watches SIGTERM and SIGINT: `Stop` when `heepr-agent stop` left its marker, else `Term`.
fn watch_signals(paths: &Paths) -> Result<watch::Receiver<Shutdown>> {
    let (tx, rx) = watch::channel(Shutdown::No);
    let mut term = signal(SignalKind::terminate()).map_err(AgentError::io("SIGTERM"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(AgentError::io("SIGINT"))?;
    let stop = paths.stop();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            let s = if stop.exists() { Shutdown::Stop } else { Shutdown::Term };
            let _ = tx.send(s);
        }
    });
    Ok(rx)
}

/// Sleeps `d`, or less when a shutdown comes; true when it came.
async fn nap(d: Duration, shutdown: &mut watch::Receiver<Shutdown>) -> bool {
    if *shutdown.borrow() != Shutdown::No {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = shutdown.changed() => true,
    }
}

pub async fn run(paths: Paths, opts: RunOpts) -> Result<()> {
    if opts.argv.is_empty() {
        return Err(AgentError::Usage(
            "no command: `heepr-agent run --dir D -- <command…>`".to_owned(),
        ));
    }
    let mut shutdown = watch_signals(&paths)?;
    let Session { paths, mut bundle, api } = Session::open(paths).await?;
    state::write_atomic(&paths.pid(), format!("{}\n", std::process::id()).as_bytes())?;
    // "start heepr": the agent takes orders (a restart after a crash is a start too).
    let start = format!("start:{}", chrono::Utc::now().timestamp_millis());
    api.status(&start, "active").await?;
    tracing::info!(agent_id = %bundle.agent_id, "running");

    let mut handled = Handled::load(&paths);
    let mut orders = Orders::load(&paths);
    let mut rt = Runtime::load(&paths);
    rt.requests = api.requests();
    rt.in_hand = None;
    rt.save(&paths)?;
    let mut backoff = Backoff { failures: 0 };
    let mut long_poll = true;
    let result = loop {
        if *shutdown.borrow() != Shutdown::No {
            break Ok(());
        }
        let cursor = state::read_cursor(&paths);
        let poll = api.events(&cursor, long_poll.then_some(opts.wait));
        let answer = tokio::select! {
            r = poll => r,
            _ = shutdown.changed() => break Ok(()),
        };
        let batch = match answer {
            Ok(b) => b,
            Err(e) => match e.code() {
                Some("key_revoked") => break Err(AgentError::KeyRevoked("revoked".to_owned())),
                Some("key_expired") => break Err(AgentError::KeyRevoked("expired".to_owned())),
                Some("unauthorized") => break Err(AgentError::KeyRevoked("refused".to_owned())),
                Some("bad_query" | "validation_failed") if long_poll => {
                    tracing::info!("no long-poll here: polling every {} min", bundle.poll_minutes);
                    long_poll = false;
                    continue;
                }
                Some("cursor_expired") => {
                    tracing::warn!("cursor expired: re-reading from the oldest kept event");
                    state::write_cursor(&paths, "0")?;
                    continue;
                }
                _ => {
                    let d = backoff.next();
                    tracing::warn!(error = %e, retry_in_ms = d.as_millis() as u64, "poll failed");
                    if nap(d, &mut shutdown).await {
                        break Ok(());
                    }
                    continue;
                }
            },
        };
        tracing::debug!(events = batch.events.len(), %cursor, "polled");
        rt.last_poll = Some(chrono::Utc::now().to_rfc3339());
        rt.long_poll = long_poll;
        let ctx = Ctx {
            api: &api,
            paths: &paths,
            argv: &opts.argv,
            max_time: opts.max_time,
            grace: opts.grace,
            shutdown: shutdown.clone(),
        };
        let mut finished = true;
        let mut failed = None;
        for ev in &batch.events {
            let Some(id) = ev.get("id").and_then(|v| v.as_str()) else {
                continue;
            };
            if handled.contains(id) {
                continue;
            }
            rt.in_hand = ev.get("o").and_then(|v| v.as_str()).map(str::to_owned);
            rt.save(&paths)?;
            match work::handle(&ctx, &mut orders, ev).await {
                Ok(work::Handled::Done) => {
                    handled.insert(id)?;
                    rt.orders_handled += 1;
                }
                Ok(work::Handled::Released) => {
                    finished = false;
                    break;
                }
                Err(e) => {
                    failed = Some(e);
                    finished = false;
                    break;
                }
            }
            rt.in_hand = None;
            rt.requests = api.requests();
            rt.save(&paths)?;
            if *shutdown.borrow() != Shutdown::No {
                finished = false;
                break;
            }
        }
        rt.in_hand = None;
        rt.requests = api.requests();
        rt.save(&paths)?;
        if let Some(e) = failed {
            if matches!(e.code(), Some("key_revoked" | "key_expired")) {
                break Err(AgentError::KeyRevoked(
                    e.code().unwrap_or("revoked").trim_start_matches("key_").to_owned(),
                ));
            }
            let d = backoff.next();
            tracing::warn!(error = %e, retry_in_ms = d.as_millis() as u64, "event not handled");
            if nap(d, &mut shutdown).await {
                break Ok(());
            }
            continue;
        }
        if !finished {
            continue;
        }
        backoff.failures = 0;
        if let Some(next) = &batch.next {
            state::write_cursor(&paths, next)?;
        }
        // Self-update: one conditional request per tick.
        match bundle::update(&api, &paths, bundle.clone()).await {
            Ok((b, _)) => bundle = b,
            Err(e) => tracing::warn!(error = %e, "package update failed: keeping the current one"),
        }
        if !long_poll && batch.events.is_empty() {
            let every = Duration::from_secs(u64::from(bundle.poll_minutes.max(1)) * 60);
            if nap(every, &mut shutdown).await {
                break Ok(());
            }
        }
    };
    let stopping = *shutdown.borrow() == Shutdown::Stop;
    if stopping && result.is_ok() {
        // "stop heepr": the order in hand is finished; now take no new ones.
        let key = format!("stop:{}", chrono::Utc::now().timestamp_millis());
        api.status(&key, "paused").await?;
        let _ = std::fs::remove_file(paths.stop());
        tracing::info!("stopped: agent paused");
    } else if result.is_ok() {
        tracing::info!("exiting: the agent stays active");
    }
    let _ = std::fs::remove_file(paths.pid());
    result
}
