//! The email outbox: emails are queued in the same transaction as the change that
//! causes them, and a sender drains the queue.
//!
//! Nothing secret is stored in plaintext: an email carrying a one-time link is queued
//! with `body` = the text with the link replaced by `[link]` (what support views and
//! tests see) and `sealed_body` = the whole text sealed with the server key by the
//! caller (`heepr_auth::ServerKey`). The sender opens it just before sending; once
//! sent, both are dropped. This crate never sees the key.

use crate::error::Result;
use crate::plan::Plan;
use crate::plan::record::Change;
use crate::prepared::KeepPrepared;
use crate::rows::naive;
use crate::schema::emails;
use crate::{Store, ulid};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// An email to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body as stored and shown: with no secret in it (links as `[link]`).
    pub body: String,
    /// The body to send, sealed with the server key (`None`: send `body` as is).
    pub sealed_body: Option<Vec<u8>>,
}

impl NewEmail {
    /// An email with nothing secret in it: stored and sent as is.
    pub fn plain(to: impl Into<String>, subject: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            to: to.into(),
            subject: subject.into(),
            body: body.into(),
            sealed_body: None,
        }
    }
}

/// What replaces a one-time link in the stored `body`.
pub const LINK_PLACEHOLDER: &str = "[link]";

/// A queued email.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = emails)]
pub struct QueuedEmail {
    /// Row id.
    pub id: String,
    /// Recipient.
    #[diesel(column_name = to_email)]
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Body as stored: links replaced by `[link]`; `[sent; body removed]` once sent.
    pub body: String,
    /// Failed attempts so far.
    pub attempts: i32,
    /// The body to send, sealed with the server key (`None`: send `body`).
    pub sealed_body: Option<Vec<u8>>,
}

/// Gives up on an email after this many failed attempts.
pub const MAX_ATTEMPTS: i32 = 10;

/// A queued email's row, written by the plan of the change that causes it.
pub(crate) fn row(email: &NewEmail, now: DateTime<Utc>) -> crate::plan::record::NewRow {
    crate::plan::record::NewRow::Email(crate::plan::record::EmailRow {
        id: format!("eml_{}", ulid()),
        to_email: email.to.clone(),
        subject: email.subject.clone(),
        body: email.body.clone(),
        sealed_body: email.sealed_body.clone(),
        created_at: naive(now),
        attempts: 0,
    })
}

impl Store {
    /// Emails waiting to be sent (not sent, not given up on): the outbox's depth.
    pub fn outbox_depth(&self) -> Result<i64> {
        self.query(|c| {
            Ok(emails::table
                .filter(emails::sent_at.is_null())
                .filter(emails::attempts.lt(MAX_ATTEMPTS))
                .count()
                .get_result(c)?)
        })
    }

    /// Claims up to `limit` unsent emails for `lease`, oldest first. Several instances
    /// share one outbox: an email claimed by one is skipped by the others until it is
    /// sent, fails (released at once) or its lease runs out (the sender died).
    pub fn claim_unsent_emails(
        &self,
        limit: i64,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Vec<QueuedEmail>> {
        let (at, until) = (naive(now), naive(now + lease));
        let free = || emails::claimed_until.is_null().or(emails::claimed_until.le(at));
        // Read first: an idle outbox (the usual case, polled every second) opens no
        // write transaction. Each claim below is conditional, so a racing instance's
        // claim in between makes ours match no row.
        let candidates: Vec<QueuedEmail> = self.query(|c| {
            Ok(emails::table
                .filter(emails::sent_at.is_null())
                .filter(emails::attempts.lt(MAX_ATTEMPTS))
                .filter(free())
                .order(emails::created_at)
                .limit(limit)
                .select(QueuedEmail::as_select())
                .load(c)?)
        })?;
        if candidates.is_empty() {
            return Ok(candidates);
        }
        self.bookkeeping(|c| {
            let mut claimed = Vec::with_capacity(candidates.len());
            for e in candidates {
                let n = diesel::update(
                    emails::table
                        .find(&e.id)
                        .filter(emails::sent_at.is_null())
                        .filter(free()),
                )
                .set(emails::claimed_until.eq(until))
                .execute_prepared(c)?;
                if n == 1 {
                    claimed.push(e);
                }
            }
            Ok(claimed)
        })
    }

    /// Marks an email sent: its body is replaced and its sealed copy dropped (the outbox
    /// keeps rows for a year, recipient and subject only).
    pub fn mark_email_sent(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        let mut plan = Plan::new();
        plan.change(Change::EmailSent {
            id: id.to_owned(),
            at: naive(now),
        });
        self.apply(&plan)
    }

    /// Records a failed attempt.
    pub fn mark_email_failed(&self, id: &str, error: &str) -> Result<()> {
        let mut plan = Plan::new();
        plan.change(Change::EmailFailed {
            id: id.to_owned(),
            error: error.to_owned(),
        });
        self.apply(&plan)
    }

    /// Every email queued to `to`, newest first (for tests and the admin outbox view):
    /// bodies as stored, links replaced by `[link]`.
    pub fn emails_to(&self, to: &str) -> Result<Vec<QueuedEmail>> {
        self.read(|c| {
            Ok(emails::table
                .filter(emails::to_email.eq(to))
                .order(emails::created_at.desc())
                .select(QueuedEmail::as_select())
                .load(c)?)
        })
    }
}
