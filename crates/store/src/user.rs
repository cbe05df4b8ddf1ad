//! Users and (for now, minimal) agents.

use crate::error::{Result, StoreError};
use crate::listen::Stale;
use crate::plan::Plan;
use crate::plan::record::{AccountRow, Change, NewRow, UserRow};
use crate::rows::naive;
use crate::schema::users;
use crate::{Store, ulid};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use heepr_domain::{AccountRef, Points, Transfer, UserId};

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
        let taken: i64 = self.query(|c| Ok(users::table.filter(users::email.eq(&email)).count().get_result(c)?))?;
        if taken > 0 {
            return Err(StoreError::Duplicate("email"));
        }
        let mut plan = Plan::new();
        plan.insert(NewRow::User(UserRow {
            id: id.to_string(),
            email,
            display_name: new.display_name,
            password_hash: new.password_hash,
            roles,
            created_at: naive(now),
        }));
        plan.insert(NewRow::Account(AccountRow {
            id: AccountRef::Wallet(id.clone()).key(),
            balance: 0,
            created_at: naive(now),
        }));
        if let Some(t) = &grant {
            plan.push(crate::plan::transfer(t, now));
        }
        // Two signups with one email at once: the unique index decides.
        self.apply(&plan).map_err(|e| match e {
            StoreError::Database(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => StoreError::Duplicate("email"),
            other => other,
        })?;
        Ok(id)
    }
}

/// A user as shown to themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Id.
    pub id: UserId,
    /// Lower-cased email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Roles, `customer` first.
    pub roles: Vec<String>,
    /// Argon2id hash (never leaves the server).
    pub password_hash: String,
    /// Signed up at.
    pub created_at: DateTime<Utc>,
}

impl UserRecord {
    /// Whether the user has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.iter().any(|r| r == role.as_str())
    }
}

/// A user's row as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserCols {
    id: String,
    email: String,
    display_name: String,
    password_hash: String,
    roles: String,
    created_at: chrono::NaiveDateTime,
}

pub(crate) fn user_record(r: UserCols) -> Result<UserRecord> {
    Ok(UserRecord {
        id: UserId::parse(&r.id).ok_or_else(|| StoreError::corrupt(format!("user id {}", r.id)))?,
        email: r.email,
        display_name: r.display_name,
        roles: r
            .roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        password_hash: r.password_hash,
        created_at: r.created_at.and_utc(),
    })
}

impl Store {
    /// A user by email (any letter case).
    pub fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        let email = email.trim().to_lowercase();
        self.read(|c| {
            let row: Option<UserCols> = users::table
                .filter(users::email.eq(&email))
                .select(UserCols::as_select())
                .first(c)
                .optional()?;
            row.map(user_record).transpose()
        })
    }

    /// A user by id.
    pub fn user(&self, id: &UserId) -> Result<UserRecord> {
        self.read(|c| {
            let row: Option<UserCols> = users::table
                .find(id.as_str())
                .select(UserCols::as_select())
                .first(c)
                .optional()?;
            row.map(user_record).transpose()?.ok_or(StoreError::NotFound)
        })
    }

    /// Adds a role (idempotent) and returns the user.
    pub fn add_role(&self, id: &UserId, role: Role) -> Result<UserRecord> {
        let mut user = self.user(id)?;
        if !user.has(role) {
            user.roles.push(role.as_str().to_owned());
            let mut plan = Plan::new();
            plan.change(Change::UserRoles {
                id: id.to_string(),
                roles: user.roles.join(","),
            });
            plan.makes_stale(Stale::User(id.to_string()));
            self.apply(&plan)?;
        }
        Ok(user)
    }
}
