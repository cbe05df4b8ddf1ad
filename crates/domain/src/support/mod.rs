//! Trust and support (SPEC §9, §11, §15): suspending and reinstating agents, owners'
//! requests to lift a suspension, reports of reviews and agents, and the audit log of
//! every admin action.
//!
//! Each rule is a function of plain values — the target's standing as loaded, the
//! validated input, `now` — that returns what to write (rows as plain values, the
//! audit entry, the email to send) or a [`SupportError`]. The store applies the answer
//! in one plan; a conditional step protects it against a concurrent change.

mod audit;
mod error;
mod report;
mod suspension;

pub use audit::{AuditAction, AuditEntry, TargetKind, account_deleted, account_exported, order_action};
pub use error::SupportError;
pub use report::{NewReport, ReportTarget, Reported, report, resolve_report};
pub use suspension::{
    Notice, Reinstatement, ReinstatementRequest, RequestResolution, Standing, Suspension, reinstate,
    request_reinstatement, resolve_request, suspend,
};

#[cfg(test)]
mod tests;
