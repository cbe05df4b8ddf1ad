//! The support desk's rows and conditional changes, as plan steps
//! ([`crate::plan::record::NewRow::Support`], [`crate::plan::record::Change::Support`]):
//! suspensions, reinstatement requests, reports and the audit log.

use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::rows::naive;
use crate::schema::{agents, audit_log, reinstatement_requests, reports, suspensions};
use crate::ulid;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use heepr_domain::support::{AuditEntry, SupportError};

/// A new support row.
#[derive(Debug)]
pub(crate) enum SupportRow {
    Suspension(SuspensionRow),
    Request(RequestRow),
    Report(ReportRow),
    Audit(AuditRow),
}

/// A targeted change made by support (or by an owner asking it for something).
#[derive(Debug)]
pub(crate) enum SupportChange {
    /// The agent's flag set with its reason and time, only if it is not set (else
    /// `already_suspended`: a concurrent suspension won).
    Suspend {
        agent_id: String,
        reason: String,
        at: NaiveDateTime,
    },
    /// The agent's flag cleared, only if it is set (else `not_suspended`), and its open
    /// suspension record closed.
    Reinstate {
        agent_id: String,
        by: String,
        reason: Option<String>,
        at: NaiveDateTime,
    },
    /// Every open reinstatement request of an agent resolved (none is fine).
    ResolveRequests { agent_id: String, at: NaiveDateTime },
    /// One reinstatement request resolved, only once (else `already_resolved`).
    ResolveRequest { id: String, at: NaiveDateTime },
    /// One report resolved, only once (else `already_resolved`).
    ResolveReport { id: String, by: String, at: NaiveDateTime },
}

#[derive(Debug, Insertable)]
#[diesel(table_name = suspensions)]
pub(crate) struct SuspensionRow {
    pub id: String,
    pub agent_id: String,
    pub reason: String,
    pub suspended_by: String,
    pub suspended_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = reinstatement_requests)]
pub(crate) struct RequestRow {
    pub id: String,
    pub agent_id: String,
    pub owner_id: String,
    pub message: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = reports)]
pub(crate) struct ReportRow {
    pub id: String,
    pub reporter_id: String,
    pub target_kind: &'static str,
    pub target_id: String,
    pub agent_id: String,
    pub reason: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_log)]
pub(crate) struct AuditRow {
    pub id: String,
    pub actor_id: String,
    pub action: &'static str,
    pub target_kind: &'static str,
    pub target_id: String,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
}

/// The audit log's row for `e`.
pub(crate) fn audit(e: &AuditEntry) -> crate::plan::record::NewRow {
    crate::plan::record::NewRow::Support(SupportRow::Audit(AuditRow {
        id: format!("aud_{}", ulid()),
        actor_id: e.actor.to_string(),
        action: e.action.as_str(),
        target_kind: e.target_kind.as_str(),
        target_id: e.target_id.clone(),
        reason: e.reason.clone(),
        created_at: naive(e.at),
    }))
}

pub(crate) fn insert(c: &mut AnyConnection, row: &SupportRow) -> Result<usize> {
    Ok(match row {
        SupportRow::Suspension(r) => diesel::insert_into(suspensions::table).values(r).execute(c)?,
        SupportRow::Request(r) => diesel::insert_into(reinstatement_requests::table)
            .values(r)
            .execute(c)?,
        SupportRow::Report(r) => diesel::insert_into(reports::table).values(r).execute(c)?,
        SupportRow::Audit(r) => diesel::insert_into(audit_log::table).values(r).execute(c)?,
    })
}

pub(crate) fn change(c: &mut AnyConnection, ch: &SupportChange) -> Result<()> {
    let (changed, refused) = match ch {
        SupportChange::Suspend { agent_id, reason, at } => (
            diesel::update(agents::table.find(agent_id).filter(agents::suspended.eq(false)))
                .set((
                    agents::suspended.eq(true),
                    agents::suspended_reason.eq(reason),
                    agents::suspended_at.eq(at),
                    agents::updated_at.eq(at),
                ))
                .execute(c)?,
            Some(SupportError::AlreadySuspended),
        ),
        SupportChange::Reinstate {
            agent_id,
            by,
            reason,
            at,
        } => {
            let lifted = diesel::update(agents::table.find(agent_id).filter(agents::suspended.eq(true)))
                .set((
                    agents::suspended.eq(false),
                    agents::suspended_reason.eq(None::<String>),
                    agents::suspended_at.eq(None::<NaiveDateTime>),
                    agents::updated_at.eq(at),
                ))
                .execute(c)?;
            if lifted == 1 {
                diesel::update(
                    suspensions::table
                        .filter(suspensions::agent_id.eq(agent_id))
                        .filter(suspensions::reinstated_at.is_null()),
                )
                .set((
                    suspensions::reinstated_by.eq(by),
                    suspensions::reinstated_at.eq(at),
                    suspensions::reinstate_reason.eq(reason),
                ))
                .execute(c)?;
            }
            (lifted, Some(SupportError::NotSuspended))
        }
        SupportChange::ResolveRequests { agent_id, at } => (
            diesel::update(
                reinstatement_requests::table
                    .filter(reinstatement_requests::agent_id.eq(agent_id))
                    .filter(reinstatement_requests::resolved_at.is_null()),
            )
            .set(reinstatement_requests::resolved_at.eq(at))
            .execute(c)?,
            None,
        ),
        SupportChange::ResolveRequest { id, at } => (
            diesel::update(
                reinstatement_requests::table
                    .find(id)
                    .filter(reinstatement_requests::resolved_at.is_null()),
            )
            .set(reinstatement_requests::resolved_at.eq(at))
            .execute(c)?,
            Some(SupportError::AlreadyResolved),
        ),
        SupportChange::ResolveReport { id, by, at } => (
            diesel::update(reports::table.find(id).filter(reports::resolved_at.is_null()))
                .set((reports::resolved_at.eq(at), reports::resolved_by.eq(by)))
                .execute(c)?,
            Some(SupportError::AlreadyResolved),
        ),
    };
    match refused {
        Some(e) if changed == 0 => Err(StoreError::Support(e)),
        _ => Ok(()),
    }
}
