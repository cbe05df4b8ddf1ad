//! Browser sessions, stored by the SHA-256 of their token.

use crate::Store;
use crate::error::Result;
use crate::rows::naive;
use crate::schema::sessions;
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
        self.write(|c| {
            diesel::insert_into(sessions::table)
                .values((
                    sessions::token_hash.eq(token_hash),
                    sessions::user_id.eq(user.as_str()),
                    sessions::created_at.eq(naive(now)),
                    sessions::expires_at.eq(naive(expires_at)),
                ))
                .execute(c)?;
            Ok(())
        })
    }

    /// The user of a live session, or `None` (unknown or expired).
    pub fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<UserId>> {
        self.read(|c| {
            let id: Option<String> = sessions::table
                .find(token_hash)
                .filter(sessions::expires_at.gt(naive(now)))
                .select(sessions::user_id)
                .first(c)
                .optional()?;
            Ok(id.and_then(|i| UserId::parse(&i)))
        })
    }

    /// Ends a session (logout). Unknown tokens are fine.
    pub fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.write(|c| {
            diesel::delete(sessions::table.find(token_hash)).execute(c)?;
            Ok(())
        })
    }

    /// Removes expired sessions; returns how many.
    pub fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<usize> {
        self.write(|c| Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(naive(now)))).execute(c)?))
    }
}
