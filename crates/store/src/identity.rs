//! Provider identities and sign-ins in flight (issue 17). The store loads the facts,
//! heepr-domain's `identity` decides, and one plan applies the decision: a new account
//! with its identity, a link, or a recorded sign-in. A sign-in's `state` is stored only
//! as its hash and taken at most once.

use crate::Store;
use crate::error::{Result, StoreError};
use crate::plan::Plan;
use crate::plan::record::{Change, NewRow};
use crate::prepared::KeepPrepared;
use crate::rows::naive;
use crate::schema::{auth_pending, user_identities, users};
use crate::user::{NewUser, email_race};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::account::Consent;
use heepr_domain::identity::{
    PENDING_TTL_MINUTES, ProviderProfile, SignIn, SignInError, SignInFacts, decide_sign_in, decide_unlink,
};
use heepr_domain::{Points, UserId};

/// A sign-in in flight, as the callback needs it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    /// The provider's configured name.
    pub provider: String,
    /// The PKCE code verifier (sent with the code; never shown to the browser).
    pub pkce_verifier: String,
    /// The OIDC nonce the ID token must carry (unused by plain OAuth 2 providers).
    pub nonce: String,
    /// The signed-in user who started the flow to link the identity.
    pub link_user: Option<UserId>,
}

/// A linked identity as shown to its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRecord {
    /// The provider's configured name.
    pub provider: String,
    /// The email the provider returned.
    pub email: String,
    /// Linked at.
    pub created_at: DateTime<Utc>,
    /// The last sign-in through it.
    pub last_sign_in_at: DateTime<Utc>,
}

/// Rows of the `identity` plan steps.
#[derive(Debug)]
pub(crate) enum IdentityRow {
    /// A linked identity; the primary key (provider, subject) settles races.
    Linked {
        provider: String,
        subject: String,
        user_id: String,
        email: String,
        display_name: String,
        at: NaiveDateTime,
    },
    /// A sign-in in flight.
    Pending {
        state_hash: String,
        provider: String,
        pkce_verifier: String,
        nonce: String,
        link_user_id: Option<String>,
        at: NaiveDateTime,
        expires_at: NaiveDateTime,
    },
}

/// Changes of the `identity` plan steps.
#[derive(Debug)]
pub(crate) enum IdentityChange {
    /// A pending sign-in taken, only once and only unexpired (else `auth_state_invalid`).
    Take { state_hash: String, now: NaiveDateTime },
    /// A sign-in through the identity, with the profile fields it returned this time.
    SignedIn {
        provider: String,
        subject: String,
        email: String,
        display_name: String,
        at: NaiveDateTime,
    },
    /// The user's identity at a provider removed.
    Unlink { user_id: String, provider: String },
}

pub(crate) fn insert(c: &mut crate::AnyConnection, row: &IdentityRow) -> Result<()> {
    match row {
        IdentityRow::Linked {
            provider,
            subject,
            user_id,
            email,
            display_name,
            at,
        } => diesel::insert_into(user_identities::table)
            .values((
                user_identities::provider.eq(provider),
                user_identities::subject.eq(subject),
                user_identities::user_id.eq(user_id),
                user_identities::email.eq(email),
                user_identities::display_name.eq(display_name),
                user_identities::created_at.eq(at),
                user_identities::last_sign_in_at.eq(at),
            ))
            .execute_prepared(c)
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                    StoreError::SignIn(SignInError::LinkedElsewhere)
                }
                other => other.into(),
            })?,
        IdentityRow::Pending {
            state_hash,
            provider,
            pkce_verifier,
            nonce,
            link_user_id,
            at,
            expires_at,
        } => diesel::insert_into(auth_pending::table)
            .values((
                auth_pending::state_hash.eq(state_hash),
                auth_pending::provider.eq(provider),
                auth_pending::pkce_verifier.eq(pkce_verifier),
                auth_pending::nonce.eq(nonce),
                auth_pending::link_user_id.eq(link_user_id),
                auth_pending::created_at.eq(at),
                auth_pending::expires_at.eq(expires_at),
            ))
            .execute_prepared(c)?,
    };
    Ok(())
}

pub(crate) fn change(c: &mut crate::AnyConnection, ch: &IdentityChange) -> Result<()> {
    match ch {
        IdentityChange::Take { state_hash, now } => {
            let n = diesel::delete(
                auth_pending::table
                    .find(state_hash)
                    .filter(auth_pending::expires_at.gt(now)),
            )
            .execute_prepared(c)?;
            if n == 0 {
                return Err(SignInError::UnknownState.into());
            }
        }
        IdentityChange::SignedIn {
            provider,
            subject,
            email,
            display_name,
            at,
        } => {
            diesel::update(user_identities::table.find((provider, subject)))
                .set((
                    user_identities::email.eq(email),
                    user_identities::display_name.eq(display_name),
                    user_identities::last_sign_in_at.eq(at),
                ))
                .execute_prepared(c)?;
        }
        IdentityChange::Unlink { user_id, provider } => {
            let n = diesel::delete(
                user_identities::table
                    .filter(user_identities::user_id.eq(user_id))
                    .filter(user_identities::provider.eq(provider)),
            )
            .execute_prepared(c)?;
            if n == 0 {
                return Err(SignInError::NotLinked.into());
            }
        }
    }
    Ok(())
}

impl Store {
    /// Records a sign-in in flight under the hash of its `state`, for
    /// [`PENDING_TTL_MINUTES`] (expired ones go with [`Store::purge_expired_sign_ins`]).
    pub fn start_sign_in(&self, state_hash: &str, pending: &PendingSignIn, now: DateTime<Utc>) -> Result<()> {
        let mut plan = Plan::new();
        plan.insert(NewRow::Identity(IdentityRow::Pending {
            state_hash: state_hash.to_owned(),
            provider: pending.provider.clone(),
            pkce_verifier: pending.pkce_verifier.clone(),
            nonce: pending.nonce.clone(),
            link_user_id: pending.link_user.as_ref().map(ToString::to_string),
            at: naive(now),
            expires_at: naive(now + Duration::minutes(PENDING_TTL_MINUTES)),
        }));
        self.apply(&plan)
    }

    /// Takes the sign-in in flight for `provider` under `state_hash`: once. Unknown,
    /// expired, already taken, or started for another provider → `auth_state_invalid`
    /// (a pending sign-in of another provider is left alone).
    pub fn take_sign_in(&self, state_hash: &str, provider: &str, now: DateTime<Utc>) -> Result<PendingSignIn> {
        type Cols = (String, String, String, Option<String>, NaiveDateTime);
        let row: Option<Cols> = self.query(|c| {
            Ok(auth_pending::table
                .find(state_hash)
                .select((
                    auth_pending::provider,
                    auth_pending::pkce_verifier,
                    auth_pending::nonce,
                    auth_pending::link_user_id,
                    auth_pending::expires_at,
                ))
                .first(c)
                .optional()?)
        })?;
        let Some((p, pkce_verifier, nonce, link, expires_at)) = row else {
            return Err(SignInError::UnknownState.into());
        };
        if p != provider || expires_at.and_utc() <= now {
            return Err(SignInError::UnknownState.into());
        }
        let link_user = link
            .map(|l| UserId::parse(&l).ok_or_else(|| StoreError::corrupt(format!("user id {l}"))))
            .transpose()?;
        let mut plan = Plan::new();
        plan.change(Change::Identity(IdentityChange::Take {
            state_hash: state_hash.to_owned(),
            now: naive(now),
        }));
        self.apply(&plan)?;
        Ok(PendingSignIn {
            provider: p,
            pkce_verifier,
            nonce,
            link_user,
        })
    }

    /// A verified provider identity signs in: to its linked account, linked to the user
    /// who started the flow from their session, or as a new account credited `starter`
    /// points — as heepr-domain decides. Returns the account to start a session for.
    pub fn sign_in_with(
        &self,
        provider: &str,
        profile: &ProviderProfile,
        linking_user: Option<&UserId>,
        starter: Points,
        now: DateTime<Utc>,
    ) -> Result<UserId> {
        let linked: Option<String> = self.query(|c| {
            Ok(user_identities::table
                .find((provider, profile.subject.as_str()))
                .select(user_identities::user_id)
                .first(c)
                .optional()?)
        })?;
        let linked_to = linked
            .map(|l| UserId::parse(&l).ok_or_else(|| StoreError::corrupt(format!("user id {l}"))))
            .transpose()?;
        let decision = decide_sign_in(
            &SignInFacts {
                linked_to: linked_to.as_ref(),
                linking_user,
            },
            profile,
        )?;
        let email = profile.email.clone().unwrap_or_default().trim().to_lowercase();
        let name = profile.name.clone().unwrap_or_default();
        let identity = |user: &UserId| {
            NewRow::Identity(IdentityRow::Linked {
                provider: provider.to_owned(),
                subject: profile.subject.clone(),
                user_id: user.to_string(),
                email: email.clone(),
                display_name: name.clone(),
                at: naive(now),
            })
        };
        match decision {
            SignIn::Existing(user) => {
                let mut plan = Plan::new();
                plan.change(Change::Identity(IdentityChange::SignedIn {
                    provider: provider.to_owned(),
                    subject: profile.subject.clone(),
                    email: email.clone(),
                    display_name: name.clone(),
                    at: naive(now),
                }));
                self.apply(&plan)?;
                Ok(user)
            }
            SignIn::Link(user) => {
                let mut plan = Plan::new();
                plan.insert(identity(&user));
                self.apply(&plan)?;
                Ok(user)
            }
            SignIn::Create { email, display_name } => {
                let new = NewUser {
                    email: email.into_string(),
                    display_name,
                    // No password: this account signs in through its provider until
                    // its user sets one (an empty hash never verifies).
                    password_hash: String::new(),
                    extra_roles: vec![],
                };
                let in_use = |e: StoreError| match e {
                    StoreError::Duplicate("email") => SignInError::EmailInUse.into(),
                    other => other,
                };
                let (user, mut plan) = self
                    .new_user_plan(new, Consent::default(), starter, now)
                    .map_err(in_use)?;
                plan.insert(identity(&user));
                self.apply(&plan).map_err(|e| in_use(email_race(e)))?;
                Ok(user)
            }
        }
    }

    /// The identities linked to `user`, by provider name.
    pub fn identities(&self, user: &UserId) -> Result<Vec<IdentityRecord>> {
        type Cols = (String, String, NaiveDateTime, NaiveDateTime);
        let rows: Vec<Cols> = self.query(|c| {
            Ok(user_identities::table
                .filter(user_identities::user_id.eq(user.as_str()))
                .order(user_identities::provider.asc())
                .select((
                    user_identities::provider,
                    user_identities::email,
                    user_identities::created_at,
                    user_identities::last_sign_in_at,
                ))
                .load(c)?)
        })?;
        Ok(rows
            .into_iter()
            .map(|(provider, email, created, last)| IdentityRecord {
                provider,
                email,
                created_at: created.and_utc(),
                last_sign_in_at: last.and_utc(),
            })
            .collect())
    }

    /// Unlinks the user's identity at `provider`, unless it is their last way to sign in
    /// (no password and no other identity: `last_sign_in_method`).
    pub fn unlink_identity(&self, user: &UserId, provider: &str) -> Result<()> {
        let (hash, providers): (String, Vec<String>) = self.read(|c| {
            let hash = users::table
                .find(user.as_str())
                .select(users::password_hash)
                .first::<String>(c)
                .optional()?
                .ok_or(StoreError::NotFound)?;
            let providers = user_identities::table
                .filter(user_identities::user_id.eq(user.as_str()))
                .select(user_identities::provider)
                .load(c)?;
            Ok((hash, providers))
        })?;
        decide_unlink(
            providers.iter().any(|p| p == provider),
            !hash.is_empty(),
            providers.len(),
        )?;
        let mut plan = Plan::new();
        plan.change(Change::Identity(IdentityChange::Unlink {
            user_id: user.to_string(),
            provider: provider.to_owned(),
        }));
        self.apply(&plan)
    }

    /// Removes sign-ins in flight that expired; returns how many.
    pub fn purge_expired_sign_ins(&self, now: DateTime<Utc>) -> Result<usize> {
        self.bookkeeping(|c| {
            Ok(diesel::delete(auth_pending::table.filter(auth_pending::expires_at.le(naive(now)))).execute(c)?)
        })
    }
}
