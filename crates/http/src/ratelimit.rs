//! Failed-login counters per email and per IP, in fixed 15-minute windows. In memory:
//! each instance counts its own; behind a load balancer the effective limit is
//! multiplied by the instance count, which still stops online guessing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_TRACKED: usize = 100_000;

pub(crate) struct LoginLimiter {
    per_email: u32,
    per_ip: u32,
    failures: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LoginLimiter {
    pub(crate) fn new(per_email: u32, per_ip: u32) -> Self {
        Self {
            per_email,
            per_ip,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn count(map: &HashMap<String, (Instant, u32)>, key: &str) -> u32 {
        map.get(key)
            .filter(|(start, _)| start.elapsed() < WINDOW)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }

    /// Whether another attempt for this email from this IP is allowed now.
    pub(crate) fn allowed(&self, email: &str, ip: &str) -> bool {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        Self::count(&map, &format!("e:{email}")) < self.per_email && Self::count(&map, &format!("i:{ip}")) < self.per_ip
    }

    pub(crate) fn failed(&self, email: &str, ip: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (start, _)| start.elapsed() < WINDOW);
        }
        for key in [format!("e:{email}"), format!("i:{ip}")] {
            let entry = map.entry(key).or_insert((Instant::now(), 0));
            if entry.0.elapsed() >= WINDOW {
                *entry = (Instant::now(), 0);
            }
            entry.1 += 1;
        }
    }

    pub(crate) fn succeeded(&self, email: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&format!("e:{email}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_per_email_and_per_ip() {
        let l = LoginLimiter::new(2, 3);
        assert!(l.allowed("a", "ip1"));
        l.failed("a", "ip1");
        l.failed("a", "ip1");
        assert!(!l.allowed("a", "ip2"), "email limit applies from any IP");
        assert!(l.allowed("b", "ip1"));
        l.failed("b", "ip1");
        assert!(!l.allowed("c", "ip1"), "IP limit applies to any email");
        l.succeeded("a");
        assert!(l.allowed("a", "ip2"));
    }
}
