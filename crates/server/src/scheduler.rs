//! Order timers. Not sleeping tasks per order: every pass asks the store for orders
//! whose timer is due and feeds each a `Tick`. Several instances may run this at once
//! against one PostgreSQL; the versioned command path makes each effect happen once.

use heepr_domain::Policy;
use heepr_store::Store;
use std::time::Duration;

const BATCH: i64 = 500;

pub async fn run(store: Store, policy: Policy, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let (store, policy) = (store.clone(), policy.clone());
        let pass = tokio::task::spawn_blocking(move || {
            let _span = tracing::info_span!("scheduler_pass").entered();
            let mut total = 0;
            loop {
                match store.run_due_timers(&policy, chrono::Utc::now(), BATCH) {
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
            if total > 0 {
                tracing::info!(orders = total, "timers applied");
            }
        });
        if let Err(e) = pass.await {
            tracing::error!(error = %e, "scheduler pass panicked");
        }
    }
}
