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
    /// An HTML alternative (never with a secret in it: emails with one-time links are
    /// plain text only).
    pub html_body: Option<String>,
}

impl NewEmail {
    /// An email with nothing secret in it: stored and sent as is.
    pub fn plain(to: impl Into<String>, subject: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            to: to.into(),
            subject: subject.into(),
            body: body.into(),
            sealed_body: None,
            html_body: None,
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
    /// The HTML alternative, if any.
    pub html_body: Option<String>,
}

/// An outbox row as support sees it: no body but the stored one (links as `[link]`).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = emails)]
pub struct OutboxEntry {
    /// Row id.
    pub id: String,
    /// Recipient.
    #[diesel(column_name = to_email)]
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Body as stored (links as `[link]`; removed once sent).
    pub body: String,
    /// Queued at.
    pub created_at: chrono::NaiveDateTime,
    /// Sent at.
    pub sent_at: Option<chrono::NaiveDateTime>,
    /// Failed attempts.
    pub attempts: i32,
    /// The last failure, as the mail server said it.
    pub last_error: Option<String>,
    /// Next attempt not before.
    pub next_attempt_at: Option<chrono::NaiveDateTime>,
    /// Given up at (a dead letter).
    pub dead_at: Option<chrono::NaiveDateTime>,
}

/// Which outbox rows to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxFilter {
    /// Waiting to be sent (perhaps after a failure).
    Pending,
    /// Given up on.
    Dead,
    /// Sent.
    Sent,
}

/// Sent emails are kept this long (seed 003: 12 months).
pub const KEEP_SENT_DAYS: i64 = 365;

/// Gives up on an email after this many failed attempts (see the sender's back-off).
pub const MAX_ATTEMPTS: i32 = 8;

/// A queued email's row, written by the plan of the change that causes it.
pub(crate) fn row(email: &NewEmail, now: DateTime<Utc>) -> crate::plan::record::NewRow {
    crate::plan::record::NewRow::Email(crate::plan::record::EmailRow {
        id: format!("eml_{}", ulid()),
        to_email: email.to.clone(),
        subject: email.subject.clone(),
        body: email.body.clone(),
        sealed_body: email.sealed_body.clone(),
        html_body: email.html_body.clone(),
        created_at: naive(now),
        attempts: 0,
    })
}

/// What became of one attempt to send an email.
pub struct EmailAttempt<'a> {
    pub id: &'a str,
    pub outcome: AttemptOutcome<'a>,
}

/// An attempt's outcome.
pub enum AttemptOutcome<'a> {
    Sent,
    /// Tried again not before `retry_at`, or, with `None`, given up on (a dead letter
    /// support can re-send).
    Failed {
        error: &'a str,
        retry_at: Option<DateTime<Utc>>,
    },
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
                .filter(emails::dead_at.is_null())
                .filter(emails::next_attempt_at.is_null().or(emails::next_attempt_at.le(at)))
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

    /// Records what became of a batch of sends, in one transaction: a busy marketplace
    /// sends thousands of emails a minute, and one write each would queue behind the
    /// orders' writes (SQLite has one writer).
    pub fn record_attempts(&self, sends: &[EmailAttempt<'_>], now: DateTime<Utc>) -> Result<()> {
        if sends.is_empty() {
            return Ok(());
        }
        let mut plan = Plan::new();
        for s in sends {
            plan.change(match &s.outcome {
                // A sent email's body is replaced and its sealed copy dropped (the outbox
                // keeps rows for a year, recipient and subject only).
                AttemptOutcome::Sent => Change::EmailSent {
                    id: s.id.to_owned(),
                    at: naive(now),
                },
                AttemptOutcome::Failed { error, retry_at } => Change::EmailFailed {
                    id: s.id.to_owned(),
                    error: (*error).to_owned(),
                    retry_at: retry_at.map(naive),
                    dead_at: retry_at.is_none().then(|| naive(now)),
                },
            });
        }
        self.apply(&plan)
    }

    /// Puts a dead email back in the queue, to be sent at once; an email that is not
    /// dead (pending, or sent) is left as it is. Answers the row after the change.
    pub fn retry_email(&self, id: &str, now: DateTime<Utc>) -> Result<OutboxEntry> {
        let mut plan = Plan::new();
        plan.change(Change::RetryEmail {
            id: id.to_owned(),
            at: naive(now),
        });
        match self.apply(&plan) {
            Ok(()) | Err(crate::error::StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
        self.read(|c| {
            emails::table
                .find(id)
                .select(OutboxEntry::as_select())
                .first(c)
                .optional()?
                .ok_or(crate::error::StoreError::NotFound)
        })
    }

    /// Outbox rows for support, newest first, older than the cursor `before` (an id).
    pub fn outbox(&self, filter: OutboxFilter, before: Option<&str>, limit: i64) -> Result<Vec<OutboxEntry>> {
        self.read(|c| {
            let mut q = emails::table
                .select(OutboxEntry::as_select())
                .order(emails::id.desc())
                .limit(limit)
                .into_boxed();
            q = match filter {
                OutboxFilter::Pending => q.filter(emails::sent_at.is_null()).filter(emails::dead_at.is_null()),
                OutboxFilter::Dead => q.filter(emails::dead_at.is_not_null()),
                OutboxFilter::Sent => q.filter(emails::sent_at.is_not_null()),
            };
            if let Some(b) = before {
                q = q.filter(emails::id.lt(b.to_owned()));
            }
            Ok(q.load(c)?)
        })
    }

    /// Deletes emails sent before `before` (seed 003: kept 12 months, [`KEEP_SENT_DAYS`]).
    pub fn purge_sent_emails(&self, before: DateTime<Utc>) -> Result<usize> {
        self.bookkeeping(|c| Ok(diesel::delete(emails::table.filter(emails::sent_at.lt(naive(before)))).execute(c)?))
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
