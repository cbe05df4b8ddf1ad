//! A user's own account (not the ledger's `accounts`): display name, password, and the
//! one-time links that reset a password or confirm a new email address. Links are stored
//! only as the SHA-256 of their secret; each write loads what the domain needs, lets it
//! decide ([`decide_link`]) and applies one plan whose conditional step (a link used at
//! most once) settles races.

use crate::Store;
use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::mail::{self, NewEmail};
use crate::plan::Plan;
use crate::plan::record::{Change, NewRow};
use crate::prepared::KeepPrepared;
use crate::rows::naive;
use crate::schema::{account_links, emails, notification_email_off, notifications, orders, sessions, users};
use crate::user::{NewUser, Role, UserRecord};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::account::{AccountError, LinkPurpose, LinkRecord, decide_link};
use heepr_domain::{OrderState, Points, UserId};

/// A one-time account link's row: the hash of its secret, never the secret.
#[derive(Debug, Insertable)]
#[diesel(table_name = account_links)]
pub(crate) struct LinkRow {
    link_hash: String,
    user_id: String,
    purpose: &'static str,
    new_email: Option<String>,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

/// A targeted change to a user's account (a plan step: `Change::Account`).
#[derive(Debug)]
pub(crate) enum AccountChange {
    /// The link used, only once (else `token_used`: a concurrent use won).
    UseLink { link_hash: String, at: NaiveDateTime },
    /// Every unused link of the user for `purpose` voided (a newer one replaces them).
    VoidLinks {
        user_id: String,
        purpose: &'static str,
        at: NaiveDateTime,
    },
    /// A new password hash.
    Password { user_id: String, hash: String },
    /// A new display name.
    DisplayName { user_id: String, name: String },
    /// A new (confirmed) email; the unique index refuses one taken meanwhile.
    Email { user_id: String, email: String },
    /// Every session of the user ended, but `except` (the one that asked), if any.
    EndSessions { user_id: String, except: Option<String> },
    /// Refuses (`open_orders_exist`) if the user has an open order as customer or on
    /// their agents, checked inside the deleting transaction.
    NoOpenOrders { user_id: String },
    /// The person removed from the row: email, name and password replaced, deleted_at set.
    Erase {
        user_id: String,
        placeholder_email: String,
        pseudonym: String,
        at: NaiveDateTime,
    },
    /// What only concerned the person goes: notices, email preferences, unsent emails to
    /// `email`, account links.
    Forget { user_id: String, email: String },
}

pub(crate) fn insert_link(c: &mut AnyConnection, row: &LinkRow) -> Result<()> {
    diesel::insert_into(account_links::table)
        .values(row)
        .execute_prepared(c)?;
    Ok(())
}

pub(crate) fn change(c: &mut AnyConnection, ch: &AccountChange) -> Result<()> {
    match ch {
        AccountChange::UseLink { link_hash, at } => {
            let n = diesel::update(
                account_links::table
                    .find(link_hash)
                    .filter(account_links::used_at.is_null()),
            )
            .set(account_links::used_at.eq(at))
            .execute_prepared(c)?;
            if n == 0 {
                return Err(AccountError::TokenUsed.into());
            }
        }
        AccountChange::VoidLinks { user_id, purpose, at } => {
            diesel::update(
                account_links::table
                    .filter(account_links::user_id.eq(user_id))
                    .filter(account_links::purpose.eq(*purpose))
                    .filter(account_links::used_at.is_null()),
            )
            .set(account_links::used_at.eq(at))
            .execute_prepared(c)?;
        }
        AccountChange::Password { user_id, hash } => {
            diesel::update(users::table.find(user_id))
                .set(users::password_hash.eq(hash))
                .execute_prepared(c)?;
        }
        AccountChange::DisplayName { user_id, name } => {
            diesel::update(users::table.find(user_id))
                .set(users::display_name.eq(name))
                .execute_prepared(c)?;
        }
        AccountChange::Email { user_id, email } => {
            diesel::update(users::table.find(user_id))
                .set(users::email.eq(email))
                .execute_prepared(c)?;
        }
        AccountChange::NoOpenOrders { user_id } => {
            let terminal = [OrderState::Completed.as_str(), OrderState::Refunded.as_str()];
            let open: i64 = orders::table
                .filter(orders::customer_id.eq(user_id).or(orders::owner_id.eq(user_id)))
                .filter(orders::state.ne_all(terminal))
                .count()
                .get_result(c)?;
            if open > 0 {
                return Err(AccountError::OpenOrdersExist.into());
            }
        }
        AccountChange::Erase {
            user_id,
            placeholder_email,
            pseudonym,
            at,
        } => {
            diesel::update(users::table.find(user_id))
                .set((
                    users::email.eq(placeholder_email),
                    users::display_name.eq(pseudonym),
                    users::password_hash.eq(""),
                    users::deleted_at.eq(at),
                ))
                .execute(c)?;
        }
        AccountChange::Forget { user_id, email } => {
            diesel::delete(notifications::table.filter(notifications::user_id.eq(user_id))).execute(c)?;
            diesel::delete(notification_email_off::table.filter(notification_email_off::user_id.eq(user_id)))
                .execute(c)?;
            diesel::delete(
                emails::table
                    .filter(emails::to_email.eq(email))
                    .filter(emails::sent_at.is_null()),
            )
            .execute(c)?;
            diesel::delete(account_links::table.filter(account_links::user_id.eq(user_id))).execute(c)?;
        }
        AccountChange::EndSessions { user_id, except } => {
            let mine = sessions::table.filter(sessions::user_id.eq(user_id));
            match except {
                Some(keep) => diesel::delete(mine.filter(sessions::token_hash.ne(keep))).execute(c)?,
                None => diesel::delete(mine).execute(c)?,
            };
        }
    }
    Ok(())
}

/// A unique-index refusal of an email (two accounts claiming one address at once).
fn email_taken(e: StoreError) -> StoreError {
    match e {
        StoreError::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => StoreError::Duplicate("email"),
        other => other,
    }
}

/// A stored link as the domain sees it, with whose it is and the address it confirms.
struct FoundLink {
    record: LinkRecord,
    user_id: String,
    new_email: Option<String>,
}

/// What [`Store::ensure_first_admin`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstAdmin {
    /// Created this admin.
    Created(UserId),
    /// An admin exists already: nothing done.
    AdminExists,
    /// The address belongs to a user who is no admin: left as is.
    EmailTaken,
}

impl Store {
    fn link(&self, link_hash: &str) -> Result<Option<FoundLink>> {
        type Cols = (String, String, Option<String>, NaiveDateTime, Option<NaiveDateTime>);
        let row: Option<Cols> = self.query(|c| {
            Ok(account_links::table
                .find(link_hash)
                .select((
                    account_links::user_id,
                    account_links::purpose,
                    account_links::new_email,
                    account_links::expires_at,
                    account_links::used_at,
                ))
                .first(c)
                .optional()?)
        })?;
        Ok(row.and_then(|(user_id, purpose, new_email, expires_at, used_at)| {
            Some(FoundLink {
                record: LinkRecord {
                    purpose: LinkPurpose::parse(&purpose)?,
                    expires_at: expires_at.and_utc(),
                    used: used_at.is_some(),
                },
                user_id,
                new_email,
            })
        }))
    }

    /// A new link for `purpose`, voiding the user's earlier unused ones, queued with the
    /// email that carries it (sealed by the caller), in one transaction.
    fn issue_link(
        &self,
        user: &UserId,
        purpose: LinkPurpose,
        new_email: Option<String>,
        link_hash: &str,
        email: &NewEmail,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.apply(&self.link_plan(user, purpose, new_email, link_hash, email, now))
    }

    /// The plan of a new link: the user's earlier unused ones of `purpose` voided, the
    /// link stored (its hash), the email that carries it queued.
    fn link_plan(
        &self,
        user: &UserId,
        purpose: LinkPurpose,
        new_email: Option<String>,
        link_hash: &str,
        email: &NewEmail,
        now: DateTime<Utc>,
    ) -> Plan {
        let mut plan = Plan::new();
        plan.change(Change::Account(AccountChange::VoidLinks {
            user_id: user.to_string(),
            purpose: purpose.as_str(),
            at: naive(now),
        }));
        plan.insert(NewRow::AccountLink(LinkRow {
            link_hash: link_hash.to_owned(),
            user_id: user.to_string(),
            purpose: purpose.as_str(),
            new_email,
            created_at: naive(now),
            expires_at: naive(now + purpose.ttl()),
        }));
        plan.insert(mail::row(email, now));
        plan
    }

    /// Sets the display name; returns the user.
    pub fn set_display_name(&self, user: &UserId, name: &str) -> Result<UserRecord> {
        let mut plan = Plan::new();
        plan.change(Change::Account(AccountChange::DisplayName {
            user_id: user.to_string(),
            name: name.to_owned(),
        }));
        self.apply(&plan)?;
        self.cache.forget_user(user.as_str());
        self.user(user)
    }

    /// Sets a new password hash and ends every session of the user but `keep` (the
    /// session that asked), in one transaction.
    pub fn change_password(&self, user: &UserId, hash: &str, keep: &str) -> Result<()> {
        let mut plan = Plan::new();
        plan.change(Change::Account(AccountChange::Password {
            user_id: user.to_string(),
            hash: hash.to_owned(),
        }));
        plan.change(Change::Account(AccountChange::EndSessions {
            user_id: user.to_string(),
            except: Some(keep.to_owned()),
        }));
        self.apply(&plan)?;
        self.cache.forget_user(user.as_str());
        Ok(())
    }

    /// Queues a confirmation link to `new_email` (already lower-cased and valid); the
    /// account's email changes only when it is confirmed. An address in use by any
    /// account is `Duplicate("email")`, and nothing is written.
    pub fn request_email_change(
        &self,
        user: &UserId,
        new_email: &str,
        link_hash: &str,
        email: &NewEmail,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let taken: i64 =
            self.query(|c| Ok(users::table.filter(users::email.eq(new_email)).count().get_result(c)?))?;
        if taken > 0 {
            return Err(StoreError::Duplicate("email"));
        }
        self.issue_link(
            user,
            LinkPurpose::EmailChange,
            Some(new_email.to_owned()),
            link_hash,
            email,
            now,
        )
    }

    /// Confirms an email change with its link: the link used once and the address
    /// set, in one transaction. Returns the user.
    pub fn confirm_email_change(&self, link_hash: &str, now: DateTime<Utc>) -> Result<UserRecord> {
        let link = self.link(link_hash)?;
        decide_link(link.as_ref().map(|l| &l.record), LinkPurpose::EmailChange, now)?;
        let Some(FoundLink {
            user_id,
            new_email: Some(email),
            ..
        }) = link
        else {
            return Err(StoreError::corrupt("an email-change link without its address"));
        };
        let mut plan = Plan::new();
        plan.change(Change::Account(AccountChange::UseLink {
            link_hash: link_hash.to_owned(),
            at: naive(now),
        }));
        plan.change(Change::Account(AccountChange::Email {
            user_id: user_id.clone(),
            email,
        }));
        self.apply(&plan).map_err(email_taken)?;
        self.cache.forget_user(&user_id);
        let id = UserId::parse(&user_id).ok_or_else(|| StoreError::corrupt(format!("user id {user_id}")))?;
        self.user(&id)
    }

    /// Queues a password-reset link for `user` (valid one hour), voiding earlier ones.
    pub fn request_password_reset(
        &self,
        user: &UserId,
        link_hash: &str,
        email: &NewEmail,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.issue_link(user, LinkPurpose::PasswordReset, None, link_hash, email, now)
    }

    /// Resets a password with its link: the link used once, the new hash set and every
    /// session of the user ended, in one transaction.
    pub fn confirm_password_reset(&self, link_hash: &str, hash: &str, now: DateTime<Utc>) -> Result<()> {
        let link = self.link(link_hash)?;
        decide_link(link.as_ref().map(|l| &l.record), LinkPurpose::PasswordReset, now)?;
        let Some(FoundLink { user_id, .. }) = link else {
            return Err(AccountError::TokenUnknown.into());
        };
        let mut plan = Plan::new();
        plan.change(Change::Account(AccountChange::UseLink {
            link_hash: link_hash.to_owned(),
            at: naive(now),
        }));
        plan.change(Change::Account(AccountChange::Password {
            user_id: user_id.clone(),
            hash: hash.to_owned(),
        }));
        plan.change(Change::Account(AccountChange::EndSessions {
            user_id: user_id.clone(),
            except: None,
        }));
        self.apply(&plan)?;
        self.cache.forget_user(&user_id);
        Ok(())
    }

    /// Support sends `user` a link to their data export (on their emailed request): the
    /// link (its hash), the email that carries it and the audit entry, in one
    /// transaction; an earlier export link of the user stops working.
    pub fn request_export_link(
        &self,
        admin: &UserId,
        user: &UserId,
        reason: Option<&heepr_domain::MultiLine>,
        link_hash: &str,
        email: &NewEmail,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut plan = self.link_plan(user, LinkPurpose::DataExport, None, link_hash, email, now);
        plan.insert(crate::support::rows::audit(&heepr_domain::support::account_exported(
            admin, user, reason, now,
        )));
        self.apply(&plan)
    }

    /// Whose export a download link opens (it stays usable until it expires or a newer
    /// one replaces it: a download may break off and be started again).
    pub fn export_link_user(&self, link_hash: &str, now: DateTime<Utc>) -> Result<UserId> {
        let link = self.link(link_hash)?;
        decide_link(link.as_ref().map(|l| &l.record), LinkPurpose::DataExport, now)?;
        let user_id = link.map(|l| l.user_id).unwrap_or_default();
        UserId::parse(&user_id).ok_or_else(|| StoreError::corrupt(format!("user id {user_id}")))
    }

    /// Creates `new` as an admin if no admin exists yet (`HEEPR_ADMIN_EMAIL` at start);
    /// never changes an existing user. Two instances starting at once: the unique email
    /// index lets one create it, the other finds it.
    pub fn ensure_first_admin(&self, mut new: NewUser, starter: Points, now: DateTime<Utc>) -> Result<FirstAdmin> {
        let admins: i64 = self.query(|c| {
            Ok(users::table
                .filter(users::roles.like(format!("%{}%", Role::Admin.as_str())))
                .count()
                .get_result(c)?)
        })?;
        if admins > 0 {
            return Ok(FirstAdmin::AdminExists);
        }
        new.extra_roles = vec![Role::Admin];
        match self.create_user(new, starter, now) {
            Ok(id) => Ok(FirstAdmin::Created(id)),
            Err(StoreError::Duplicate(_)) => Ok(FirstAdmin::EmailTaken),
            Err(e) => Err(e),
        }
    }
}
