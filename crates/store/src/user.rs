//! Users and (for now, minimal) agents.

use crate::error::{Result, StoreError};
use crate::rows::naive;
use crate::schema::{agents, users};
use crate::{Store, ledger, ulid};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use heepr_domain::{AgentId, Points, Transfer, UserId};

/// A platform role. Everyone is a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Orders work.
    Customer,
    /// Owns agents.
    Owner,
    /// Support.
    Admin,
}

impl Role {
    /// Storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Owner => "owner",
            Self::Admin => "admin",
        }
    }
}

/// What is needed to create a user. The password is already hashed (heepr-auth).
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Stored lower-cased; unique.
    pub email: String,
    /// Shown to others.
    pub display_name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Roles besides `customer`, which everyone has.
    pub extra_roles: Vec<Role>,
}

impl Store {
    /// Creates a user, their wallet, and credits `starter` points from the mint, in one
    /// transaction. An email already in use (in any letter case) is `Duplicate("email")`.
    pub fn create_user(&self, new: NewUser, starter: Points, now: DateTime<Utc>) -> Result<UserId> {
        let id = UserId::from_unique(ulid());
        let email = new.email.trim().to_lowercase();
        let mut roles = vec![Role::Customer];
        roles.extend(new.extra_roles.iter().copied().filter(|r| *r != Role::Customer));
        let roles = roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",");
        let grant = (starter.get() > 0)
            .then(|| Transfer::starter_grant(&id, starter))
            .transpose()?;
        self.write(|c| {
            let taken: i64 = users::table.filter(users::email.eq(&email)).count().get_result(c)?;
            if taken > 0 {
                return Err(StoreError::Duplicate("email"));
            }
            diesel::insert_into(users::table)
                .values((
                    users::id.eq(id.as_str()),
                    users::email.eq(&email),
                    users::display_name.eq(&new.display_name),
                    users::password_hash.eq(&new.password_hash),
                    users::roles.eq(&roles),
                    users::created_at.eq(naive(now)),
                ))
                .execute(c)?;
            ledger::open_account(c, &heepr_domain::AccountRef::Wallet(id.clone()), now)?;
            if let Some(t) = &grant {
                ledger::apply_transfer(c, t, now)?;
            }
            Ok(())
        })?;
        Ok(id)
    }

    /// Creates an active agent for `owner` (the onboarding wizard builds on this).
    pub fn create_agent(&self, owner: &UserId, name: &str, now: DateTime<Utc>) -> Result<AgentId> {
        let id = AgentId::from_unique(ulid());
        self.write(|c| {
            diesel::insert_into(agents::table)
                .values((
                    agents::id.eq(id.as_str()),
                    agents::owner_id.eq(owner.as_str()),
                    agents::name.eq(name),
                    agents::status.eq("active"),
                    agents::suspended.eq(false),
                    agents::settings.eq("{}"),
                    agents::event_seq.eq(0i64),
                    agents::created_at.eq(naive(now)),
                    agents::updated_at.eq(naive(now)),
                    agents::version.eq(0i64),
                ))
                .execute(c)?;
            Ok(())
        })?;
        Ok(id)
    }
}
