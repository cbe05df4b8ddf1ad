//! Quiet logs for broken clients. actix logs every connection that ends in an error —
//! garbage bytes, a malformed request line, a reset mid-request — as one ERROR line
//! (`stream error: …`); a client sending garbage in a loop wrote 1.2 M lines a minute.
//! Those lines are taken out of the log here: each one is written at debug, and a warn
//! line says how many there were — the first at once, then at most one a minute.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// The summary line comes at most this often.
const WINDOW: Duration = Duration::from_secs(60);

/// Connection errors that did not fit in the queue to the reporter; still counted.
static OVERFLOW: AtomicU64 = AtomicU64::new(0);

/// Installs `subscriber` as the global one, with actix's per-connection errors
/// demoted to debug and counted.
pub fn init<S>(subscriber: S)
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let (tx, rx) = std::sync::mpsc::sync_channel(1024);
    subscriber.with(ClientErrors { tx }).init();
    // Written from a thread of its own: an event cannot be logged from inside the
    // subscriber that is handling another one.
    let spawned = std::thread::Builder::new()
        .name("heepr-log-summary".into())
        .spawn(move || report(&rx));
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no summary of client connection errors");
    }
}

/// Takes actix's `stream error: …` ERROR events out of the log and hands their text
/// to the reporter.
struct ClientErrors {
    tx: SyncSender<String>,
}

#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

/// The connection error of an actix HTTP/1 dispatcher event, if it is one.
fn client_error(event: &Event<'_>) -> Option<String> {
    let meta = event.metadata();
    if *meta.level() != Level::ERROR || !meta.target().starts_with("actix_http::h1") {
        return None;
    }
    let mut m = Message::default();
    event.record(&mut m);
    m.0.strip_prefix("stream error: ").map(str::to_owned)
}

impl<S: Subscriber> Layer<S> for ClientErrors {
    fn event_enabled(&self, event: &Event<'_>, _: Context<'_, S>) -> bool {
        let Some(what) = client_error(event) else {
            return true;
        };
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.tx.try_send(what) {
            OVERFLOW.fetch_add(1, Ordering::Relaxed);
        }
        false
    }
}

fn report(rx: &Receiver<String>) {
    loop {
        // Quiet until the first one: it is told at once.
        let Ok(first) = rx.recv() else { return };
        tracing::debug!("client connection error: {first}");
        tracing::warn!(
            "dropped a malformed or broken HTTP request ({first}); more are logged at debug \
             (RUST_LOG=heepr_server::logs=debug) and counted here once a minute"
        );
        // Then one line per minute while they keep coming.
        loop {
            let end = Instant::now() + WINDOW;
            let mut n: u64 = 0;
            while let Some(left) = end.checked_duration_since(Instant::now()) {
                match rx.recv_timeout(left) {
                    Ok(what) => {
                        n += 1;
                        tracing::debug!("client connection error: {what}");
                    }
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            n += OVERFLOW.swap(0, Ordering::Relaxed);
            if n == 0 {
                break;
            }
            tracing::warn!("dropped {n} more malformed or broken HTTP requests in the last minute");
        }
    }
}
