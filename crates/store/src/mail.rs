//! The email outbox: emails are queued in the same transaction as the change that
//! causes them, and a sender drains the queue.

use crate::error::Result;
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
    /// Plain-text body.
    pub body: String,
}

/// A queued email.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct QueuedEmail {
    /// Row id.
    pub id: String,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// Failed attempts so far.
    pub attempts: i32,
}

/// Columns in the field order of [`QueuedEmail`].
const EMAIL_COLS: (
    emails::id,
    emails::to_email,
    emails::subject,
    emails::body,
    emails::attempts,
) = (
    emails::id,
    emails::to_email,
    emails::subject,
    emails::body,
    emails::attempts,
);

/// Gives up on an email after this many failed attempts.
pub const MAX_ATTEMPTS: i32 = 10;

pub(crate) fn queue(c: &mut crate::AnyConnection, email: &NewEmail, now: DateTime<Utc>) -> Result<String> {
    let id = format!("eml_{}", ulid());
    diesel::insert_into(emails::table)
        .values((
            emails::id.eq(&id),
            emails::to_email.eq(&email.to),
            emails::subject.eq(&email.subject),
            emails::body.eq(&email.body),
            emails::created_at.eq(naive(now)),
            emails::attempts.eq(0),
        ))
        .execute_prepared(c)?;
    Ok(id)
}

impl Store {
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
                .select(EMAIL_COLS)
                .load(c)?)
        })?;
        if candidates.is_empty() {
            return Ok(candidates);
        }
        self.write(|c| {
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

    /// Marks an email sent. Its body is replaced: approval links are secrets, and the
    /// outbox keeps rows for a year.
    pub fn mark_email_sent(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        self.write(|c| {
            diesel::update(emails::table.find(id))
                .set((emails::sent_at.eq(naive(now)), emails::body.eq("[sent; body removed]")))
                .execute_prepared(c)?;
            Ok(())
        })
    }

    /// Records a failed attempt.
    pub fn mark_email_failed(&self, id: &str, error: &str) -> Result<()> {
        self.write(|c| {
            diesel::update(emails::table.find(id))
                .set((
                    emails::attempts.eq(emails::attempts + 1),
                    emails::last_error.eq(error),
                    emails::claimed_until.eq(None::<chrono::NaiveDateTime>),
                ))
                .execute_prepared(c)?;
            Ok(())
        })
    }

    /// Every email queued to `to`, newest first (for tests and the admin outbox view).
    pub fn emails_to(&self, to: &str) -> Result<Vec<QueuedEmail>> {
        self.read(|c| {
            Ok(emails::table
                .filter(emails::to_email.eq(to))
                .order(emails::created_at.desc())
                .select(EMAIL_COLS)
                .load(c)?)
        })
    }
}
