//! Sends AgentMarket webhooks (`task.posted`): expands posted tasks' fan-outs into
//! deliveries and sends the due ones, at most [`CONCURRENCY`] at once, through the
//! guarded outbound client (the SSRF guard on every connect and redirect). Several
//! instances may run this against one database: fan-outs and deliveries are claimed
//! with leases (see `heepr_store::market::webhooks`).
//!
//! Each request carries exactly:
//! `Content-Type: application/json`, `X-AgentMarket-Event: task.posted`,
//! `X-AgentMarket-Signature: sha256=<hex HMAC-SHA256(secret, body)>`,
//! `X-AgentMarket-Timestamp: <unix>` and
//! `X-AgentMarket-Signature-V2: t=<unix>,v1=<hex HMAC-SHA256(secret, "<unix>.<body>")>`.
//! Neither the secret nor the body is ever logged.

use heepr_auth::ServerKey;
use heepr_http::Clock;
use heepr_outbound::{Outbound, OutboundError, signature};
use heepr_store::Store;
use heepr_store::market::webhooks::{Attempt, DeliveryStatus, DueDelivery, Recorded};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tracing::Instrument;

/// Deliveries in flight at once.
pub const CONCURRENCY: usize = 32;

/// How long the loop sleeps when there is nothing to do.
const IDLE: Duration = Duration::from_millis(500);

/// Fan-outs expanded per pass (each is one task, however many receivers it has).
const FANOUTS_PER_PASS: usize = 16;

/// Claim more only once this many slots are free (fewer, larger claims).
const CLAIM_AT_LEAST: usize = CONCURRENCY / 4;

/// Everything a send needs, shared by all of them.
struct Sender {
    store: Store,
    outbound: Outbound,
    key: Arc<ServerKey>,
    clock: Arc<Clock>,
}

impl Sender {
    /// A delivery's lease: longer than one call can take (the outbound client's total
    /// time-out), plus the time to record its result.
    fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.outbound.policy().timeout).unwrap_or_default() + chrono::Duration::seconds(60)
    }
}

pub async fn run(store: Store, outbound: Outbound, key: Arc<ServerKey>, clock: Arc<Clock>) {
    let sender = Arc::new(Sender {
        store,
        outbound,
        key,
        clock,
    });
    let mut in_flight: JoinSet<Recorded> = JoinSet::new();
    // Fan-outs are looked for at most every IDLE while none turns up (the loop also
    // turns whenever a send ends).
    let mut next_expand = tokio::time::Instant::now();
    loop {
        let mut worked = false;
        if tokio::time::Instant::now() >= next_expand {
            worked = expand(&sender).await;
            next_expand = tokio::time::Instant::now() + if worked { Duration::ZERO } else { IDLE };
        }
        let free = CONCURRENCY - in_flight.len();
        if free >= CLAIM_AT_LEAST || in_flight.is_empty() {
            let due = claim(&sender, free).await;
            worked |= !due.is_empty();
            for d in due {
                let s = sender.clone();
                let span = tracing::info_span!("webhook_delivery", delivery = %d.id, agent = %d.agent_id, attempt = d.attempts + 1);
                in_flight.spawn(async move { deliver(&s, d).await }.instrument(span));
            }
        }
        if in_flight.is_empty() {
            if !worked {
                tokio::time::sleep(IDLE).await;
            }
            continue;
        }
        // Wake when a send ends (a slot is free) or after the idle pause (new work),
        // then record every send that has ended, in one transaction.
        let mut ended = Vec::new();
        tokio::select! {
            r = in_flight.join_next() => ended.extend(r),
            () = tokio::time::sleep(IDLE) => {}
        }
        while let Some(r) = in_flight.try_join_next() {
            ended.push(r);
        }
        record(&sender, ended).await;
    }
}

/// Records ended sends. One that panicked is not recorded: its lease runs out and it
/// is sent again.
async fn record(s: &Arc<Sender>, ended: Vec<Result<Recorded, tokio::task::JoinError>>) {
    let mut results = Vec::with_capacity(ended.len());
    for r in ended {
        match r {
            Ok(r) => results.push(r),
            Err(e) => tracing::error!(error = %e, "a webhook send panicked"),
        }
    }
    if results.is_empty() {
        return;
    }
    let s2 = s.clone();
    let now = s.clock.now();
    match tokio::task::spawn_blocking(move || s2.store.record_webhook_attempts(&results, now)).await {
        Ok(Ok(states)) => {
            for (id, state) in states {
                if state == DeliveryStatus::Failed {
                    tracing::warn!(delivery = %id, "webhook delivery failed for good");
                }
            }
        }
        // The leases run out and another pass sends them again.
        Ok(Err(e)) => tracing::error!(error = %e, "recording webhook attempts failed"),
        Err(e) => tracing::error!(error = %e, "recording webhook attempts panicked"),
    }
}

/// Expands pending fan-outs; whether any was.
async fn expand(s: &Arc<Sender>) -> bool {
    let s2 = s.clone();
    let lease = s.lease();
    let done =
        tokio::task::spawn_blocking(move || s2.store.expand_webhook_fanouts(FANOUTS_PER_PASS, lease, s2.clock.now()))
            .await;
    match done {
        Ok(Ok(e)) => {
            if e.fanouts > 0 {
                tracing::info!(tasks = e.fanouts, deliveries = e.deliveries, "webhook fan-out expanded");
            }
            e.fanouts > 0
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "expanding webhook fan-outs failed");
            false
        }
        Err(e) => {
            tracing::error!(error = %e, "expanding webhook fan-outs panicked");
            false
        }
    }
}

async fn claim(s: &Arc<Sender>, n: usize) -> Vec<DueDelivery> {
    let s2 = s.clone();
    let lease = s.lease();
    match tokio::task::spawn_blocking(move || s2.store.claim_due_webhooks(n, lease, s2.clock.now())).await {
        Ok(Ok(due)) => due,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "claiming webhook deliveries failed");
            Vec::new()
        }
        Err(e) => {
            tracing::error!(error = %e, "claiming webhook deliveries panicked");
            Vec::new()
        }
    }
}

/// The headers of one attempt, signed with `secret` at `unix`.
fn headers(event: &str, secret: &str, unix: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("X-AgentMarket-Event", event.to_owned()),
        ("X-AgentMarket-Signature", signature::v1(secret, body)),
        ("X-AgentMarket-Timestamp", unix.to_string()),
        ("X-AgentMarket-Signature-V2", signature::v2(secret, unix, body)),
    ]
}

/// Errors a retry cannot fix while the configuration stays as it is.
fn permanent(e: &OutboundError) -> bool {
    matches!(
        e,
        OutboundError::Scheme(_) | OutboundError::InvalidUrl(_) | OutboundError::InvalidHeader(_)
    )
}

/// One attempt, logged (in the delivery's span); recorded by the loop.
async fn deliver(s: &Sender, d: DueDelivery) -> Recorded {
    let attempt = send(s, &d).await;
    match &attempt {
        Attempt::Delivered { status } => tracing::info!(status, "webhook delivered"),
        Attempt::Failed { status, error } => tracing::warn!(status, error = %error, "webhook attempt failed"),
        Attempt::GaveUp { error } => tracing::warn!(error = %error, "webhook given up"),
    }
    Recorded { id: d.id, attempt }
}

async fn send(s: &Sender, d: &DueDelivery) -> Attempt {
    let Some(target) = &d.target else {
        let error = "the agent has no webhook any more".to_owned();
        return Attempt::GaveUp { error };
    };
    let secret = match s.key.open(&target.sealed_secret, d.agent_id.as_bytes()) {
        Ok(b) => match String::from_utf8(b) {
            Ok(secret) => secret,
            Err(_) => {
                let error = "the webhook secret is not text".to_owned();
                return Attempt::GaveUp { error };
            }
        },
        // Retried: another instance (or this one, once configured right) may hold the
        // key.
        Err(_) => {
            let error = "the webhook secret does not open with this instance's server key \
                         (every instance must use the same HEEPR_SECRET_KEY_FILE)"
                .to_owned();
            return Attempt::Failed { status: None, error };
        }
    };
    let body = d.body.as_bytes();
    let headers = headers(&d.event, &secret, s.clock.now().timestamp(), body);
    match s.outbound.post_json(&target.url, &headers, body.to_vec()).await {
        Ok(r) if (200..300).contains(&r.status) => Attempt::Delivered { status: r.status },
        Ok(r) => Attempt::Failed {
            status: Some(r.status),
            error: format!("the receiver answered {}", r.status),
        },
        Err(e) if permanent(&e) => Attempt::GaveUp {
            error: format!("{}: {e}", e.code()),
        },
        Err(e) => Attempt::Failed {
            status: None,
            error: format!("{}: {e}", e.code()),
        },
    }
}
