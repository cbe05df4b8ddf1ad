//! The support desk: suspending and reinstating agents (and ending the work a
//! suspended agent still owes), owners' reinstatement requests, reports, support's
//! order commands, and what support reads — the queue, an agent's record, the audit
//! log. Every admin write inserts its audit entry in the same plan as the action.
//!
//! The rules are `heepr_domain::support`'s; this module loads, asks, and applies.

mod desk;
mod orders;
mod report;
pub(crate) mod rows;
mod suspension;
mod sweep;

pub use desk::{AgentCounters, AgentDossier, AuditFilter, AuditRecord, QueueCounts, QueueItem, QueueKind, QueuePage};
pub use report::ReportRecord;
pub use suspension::{RequestRecord, StandingChange, SuspensionRecord};

use crate::rows::naive;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

/// A keyset position in a list ordered by (time, id): `<microseconds>.<id>`, opaque to
/// clients.
pub fn cursor(at: DateTime<Utc>, id: &str) -> String {
    format!("{}.{id}", at.timestamp_micros())
}

/// The position a cursor names, or `None` if it is not one of ours.
pub fn parse_cursor(raw: &str) -> Option<(NaiveDateTime, String)> {
    let (micros, id) = raw.split_once('.')?;
    let at = Utc.timestamp_micros(micros.parse().ok()?).single()?;
    let ok = !id.is_empty() && id.len() <= 80 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then(|| (naive(at), id.to_owned()))
}

pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = Utc.timestamp_micros(1_765_000_000_123_456).single().unwrap();
        let c = cursor(at, "rpt_01ABC");
        assert_eq!(parse_cursor(&c), Some((naive(at), "rpt_01ABC".to_owned())));
        for bad in ["", "x", "12", "12.", "a.rpt_1", "1.rpt 1", "1.rpt'--"] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }
}
