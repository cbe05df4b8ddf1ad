//! Exactly-once retries (`Idempotency-Key`).
//!
//! A request that carries a key claims it with a step of the **same plan** as its
//! effect: the claim row (key, request fingerprint, the answer) commits with the order,
//! the escrow hold and the events, or not at all. So:
//!
//! - a retry after a commit finds the answer, even if the first answer never reached
//!   the client or the process died right after the commit;
//! - two concurrent requests with one key conflict on the claim's primary key: the
//!   loser's whole plan is refused (PostgreSQL makes it wait for the winner's commit,
//!   SQLite's one writer orders them) and it answers what the winner answered;
//! - a loser that was refused for another reason first (it decided on the state the
//!   winner left, e.g. "already delivered") looks the key up before answering, and
//!   replays the winner's answer instead of its own refusal.
//!
//! A separate "remember the answer after the commit" write could never give this: the
//! effect and the answer would be two transactions.

use crate::Store;
use crate::error::{Result, StoreError};
use crate::plan::{Plan, Step};
use crate::rows::naive;
use crate::schema::idempotency_keys;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use std::time::{Duration, Instant};

/// How long a key is kept (SPEC §16).
pub const KEEP_DAYS: i64 = 7;

/// How long a request whose claim lost waits for the winner's answer to be readable.
const CLAIM_WAIT: Duration = Duration::from_secs(5);

/// One request's claim on an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Whose key it is: keys are scoped per principal, so two callers may use the same one.
    pub principal: String,
    /// The key as sent (validated by the caller).
    pub key: String,
    /// A digest of the request; the same key with another request is refused.
    pub request_hash: String,
}

/// The answer a request gave, replayed to its retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The JSON body, byte for byte.
    pub body: String,
}

/// A claim, plus how the command's result becomes the answer stored with it.
#[derive(Debug, Clone)]
pub struct Once<T> {
    /// The key claimed.
    pub claim: Claim,
    /// The status a success answers.
    pub status: u16,
    /// Renders a success; it must be deterministic (the live answer renders it again).
    pub render: fn(&T) -> String,
}

/// The stored claim row (also the `row` of a `claim` plan step).
#[derive(Debug, Serialize, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub(crate) struct ClaimRow {
    pub principal: String,
    pub idem_key: String,
    pub request_hash: String,
    pub status: i32,
    pub body: String,
    pub created_at: chrono::NaiveDateTime,
}

impl<T> Once<T> {
    /// Adds the claim, with the answer `result` gives, as the plan's first step: a
    /// duplicate is refused before anything else is written or locked.
    pub(crate) fn claim_in(&self, plan: &mut Plan, result: &T, now: DateTime<Utc>) {
        plan.push_first(self.step(result, now));
    }

    /// The claim step for `result`.
    pub(crate) fn step(&self, result: &T, now: DateTime<Utc>) -> Step {
        Step::Claim {
            row: ClaimRow {
                principal: self.claim.principal.clone(),
                idem_key: self.claim.key.clone(),
                request_hash: self.claim.request_hash.clone(),
                status: i32::from(self.status),
                body: (self.render)(result),
                created_at: naive(now),
            },
        }
    }
}

impl Store {
    /// The answer stored for `claim`'s key: `None` if unseen, [`StoreError::KeyReused`] if
    /// the key was used with a different request.
    pub fn stored_answer(&self, claim: &Claim) -> Result<Option<Answer>> {
        let row: Option<(String, i32, String)> = self.query(|c| {
            Ok(idempotency_keys::table
                .find((&claim.principal, &claim.key))
                .select((
                    idempotency_keys::request_hash,
                    idempotency_keys::status,
                    idempotency_keys::body,
                ))
                .first(c)
                .optional()?)
        })?;
        match row {
            None => Ok(None),
            Some((hash, _, _)) if hash != claim.request_hash => Err(StoreError::KeyReused),
            Some((_, status, body)) => Ok(Some(Answer {
                status: u16::try_from(status).map_err(StoreError::corrupt)?,
                body,
            })),
        }
    }

    /// Runs a command that may carry a claim. If it fails — its claim lost to a
    /// concurrent duplicate, or it was refused on the state a duplicate left — and the
    /// key has an answer by now, that answer is the result: [`StoreError::Replayed`].
    pub(crate) fn once<T, R>(&self, once: Option<&Once<R>>, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let err = match f() {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let Some(once) = once else {
            return Err(err);
        };
        if err.is_connection_lost() {
            return Err(err);
        }
        // A claim that lost may have lost to a write not committed yet (SQLite commits
        // a group of writes at once): its answer is readable within moments.
        let patience = if matches!(err, StoreError::ClaimTaken) {
            CLAIM_WAIT
        } else {
            Duration::ZERO
        };
        let deadline = Instant::now() + patience;
        let mut pause = Duration::from_millis(1);
        loop {
            match self.stored_answer(&once.claim) {
                Ok(Some(answer)) => return Err(StoreError::Replayed(answer)),
                Err(StoreError::KeyReused) => return Err(StoreError::KeyReused),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                // Still unseen: `ClaimTaken` answers 409 `idempotency_in_progress`.
                _ => return Err(err),
            }
        }
    }

    /// Deletes keys claimed before `before` (kept [`KEEP_DAYS`] days).
    pub fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> Result<usize> {
        self.bookkeeping(|c| {
            Ok(
                diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(naive(before))))
                    .execute(c)?,
            )
        })
    }
}
