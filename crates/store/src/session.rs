//! Browser sessions, stored by the SHA-256 of their token.

use crate::Store;
use crate::error::Result;
use crate::listen::Stale;
use crate::plan::Plan;
use crate::plan::record::{Change, NewRow, SessionRow};
use crate::rows::naive;
use crate::schema::{sessions, users};
use crate::user::{UserCols, UserRecord, user_record};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use heepr_domain::UserId;

impl Store {
    /// Records a new session.
    pub fn create_session(
        &self,
        user: &UserId,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut plan = Plan::new();
        plan.insert(NewRow::Session(SessionRow {
            token_hash: token_hash.to_owned(),
            user_id: user.to_string(),
            created_at: naive(now),
            expires_at: naive(expires_at),
        }));
        self.apply(&plan)
    }

    /// The user of a session cached in this process (fresh and unexpired), without
    /// touching the database: cheap enough for an async thread.
    pub fn cached_session(&self, token_hash: &str, now: DateTime<Utc>) -> Option<UserRecord> {
        self.cache.session(token_hash, now)
    }

    /// The user of a live session, or `None` (unknown or expired). One query; the
    /// answer is cached for about a second, and logging out or changing the user's
    /// roles through this process drops it at once.
    pub fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<UserRecord>> {
        if let Some(u) = self.cache.session(token_hash, now) {
            return Ok(Some(u));
        }
        let row: Option<(UserCols, chrono::NaiveDateTime)> = self.query(|c| {
            Ok(sessions::table
                .inner_join(users::table.on(users::id.eq(sessions::user_id)))
                .filter(sessions::token_hash.eq(token_hash))
                .filter(sessions::expires_at.gt(naive(now)))
                .select((UserCols::as_select(), sessions::expires_at))
                .first(c)
                .optional()?)
        })?;
        let Some((cols, expires)) = row else {
            return Ok(None);
        };
        let user = user_record(cols)?;
        self.cache.put_session(token_hash, expires.and_utc(), user.clone());
        Ok(Some(user))
    }

    /// Ends a session (logout). Unknown tokens are fine.
    pub fn delete_session(&self, token_hash: &str) -> Result<()> {
        let mut plan = Plan::new();
        plan.change(Change::EndSession {
            token_hash: token_hash.to_owned(),
        });
        // Forgotten after the delete (`Store::apply`): a request racing the logout
        // cannot re-cache the session.
        plan.makes_stale(Stale::Session(token_hash.to_owned()));
        self.apply(&plan)?;
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    pub fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<usize> {
        self.bookkeeping(|c| {
            Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(naive(now)))).execute(c)?)
        })
    }
}
