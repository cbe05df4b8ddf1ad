//! Order timers. Not sleeping tasks per order: every pass asks the store for orders
//! whose timer is due and feeds each a `Tick`, then ends any open work of suspended
//! agents that their suspension did not see. Several instances may run this at once
//! against one PostgreSQL; the versioned command path makes each effect happen once.

use heepr_domain::Policy;
use heepr_store::Store;
use std::time::Duration;

const BATCH: i64 = 500;

pub async fn run(
    store: Store,
    policy: Policy,
    market: heepr_http::MarketConfig,
    every: Duration,
    clock: std::sync::Arc<heepr_http::Clock>,
) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let (store, policy, clock, market) = (store.clone(), policy.clone(), clock.clone(), market.clone());
        let pass = tokio::task::spawn_blocking(move || {
            let _span = tracing::info_span!("scheduler_pass").entered();
            let mut total = 0;
            loop {
                match store.run_due_timers(&policy, clock.now(), BATCH) {
                    Ok(n) => {
                        total += n;
                        if n < BATCH as usize {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "scheduler pass failed");
                        break;
                    }
                }
            }
            metrics::counter!("heepr_scheduler_passes_total").increment(1);
            metrics::counter!("heepr_scheduler_due_timers_total").increment(total as u64);
            if total > 0 {
                tracing::info!(orders = total, "timers applied");
            }
            match store.end_suspended_work(&policy, clock.now(), BATCH) {
                Ok(0) => {}
                Ok(n) => tracing::info!(orders = n, "open work of suspended agents ended"),
                Err(e) => tracing::error!(error = %e, "ending suspended agents' work failed"),
            }
            match store.run_market_timers(&market.policy, market.abandon_after(), clock.now()) {
                Ok(0) => {}
                Ok(n) => tracing::info!(tasks = n, "AgentMarket tasks expired or refunded"),
                Err(e) => tracing::error!(error = %e, "AgentMarket timers failed"),
            }
        });
        if let Err(e) = pass.await {
            tracing::error!(error = %e, "scheduler pass panicked");
        }
    }
}

/// Flushes coalesced heartbeats every few seconds, and hourly purges delivered events
/// past retention (7 days), expired sessions, Idempotency-Keys older than 7 days and
/// finished webhook deliveries older than 30 days.
pub async fn housekeeping(store: Store) {
    let mut beat = tokio::time::interval(Duration::from_secs(5));
    let mut purge = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = beat.tick() => {
                let store = store.clone();
                let flushed = tokio::task::spawn_blocking(move || store.flush_heartbeats()).await;
                if let Ok(Err(e)) = flushed {
                    tracing::warn!(error = %e, "heartbeat flush failed");
                }
            }
            _ = purge.tick() => {
                let store = store.clone();
                let done = tokio::task::spawn_blocking(move || {
                    let now = chrono::Utc::now();
                    let events = store.purge_delivered_events(now - chrono::Duration::days(7))?;
                    let sessions = store.purge_expired_sessions(now)? + store.purge_expired_sign_ins(now)?;
                    let keys = store
                        .purge_idempotency_keys(now - chrono::Duration::days(heepr_store::idempotency::KEEP_DAYS))?;
                    // Rate-limit windows last at most an hour.
                    let attempts = store.purge_attempts(now - chrono::Duration::hours(1))?;
                    let webhooks = store.purge_webhook_log(
                        now - chrono::Duration::days(heepr_store::market::retention::WEBHOOK_LOG_DAYS),
                    )?;
                    let emails = store
                        .purge_sent_emails(now - chrono::Duration::days(heepr_store::mail::KEEP_SENT_DAYS))?;
                    Ok::<_, heepr_store::StoreError>((events, sessions + keys + attempts + webhooks + emails))
                })
                .await;
                match done {
                    Ok(Ok((events, sessions))) if events + sessions > 0 => tracing::info!(events, sessions, "retention purge"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "retention purge failed"),
                    _ => {}
                }
            }
        }
    }
}
