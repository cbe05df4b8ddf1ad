//! Accounts: consent at signup, and the one-time links that reset a password or confirm
//! a new email address. The store finds a link by the hash of its secret and asks
//! [`decide_link`] whether it may still be used; using it is a conditional step, so of
//! two concurrent confirmations exactly one wins.

use crate::ledger::{AccountRef, Transfer, TransferKind};
use crate::{Invalid, Points, Timestamp, UserId};

/// A password-reset link works this long (issue 16: one hour).
pub const RESET_TTL_HOURS: i64 = 1;

/// An email-change confirmation link works this long.
pub const EMAIL_CHANGE_TTL_HOURS: i64 = 24;

/// What a one-time account link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Sets a new password (and ends every session).
    PasswordReset,
    /// Makes the address it was sent to the account's email.
    EmailChange,
    /// Downloads the account's data export (support ran it on an emailed request). Not
    /// used up by a download (one may break off); a newer export link replaces it.
    DataExport,
}

impl LinkPurpose {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::EmailChange => "email_change",
            Self::DataExport => "data_export",
        }
    }

    /// The purpose stored as `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "password_reset" => Some(Self::PasswordReset),
            "email_change" => Some(Self::EmailChange),
            "data_export" => Some(Self::DataExport),
            _ => None,
        }
    }

    /// How long a link of this purpose works.
    pub fn ttl(self) -> chrono::Duration {
        match self {
            Self::PasswordReset => chrono::Duration::hours(RESET_TTL_HOURS),
            Self::EmailChange => chrono::Duration::hours(EMAIL_CHANGE_TTL_HOURS),
            Self::DataExport => chrono::Duration::hours(crate::export::EXPORT_LINK_TTL_HOURS),
        }
    }
}

/// Why an account action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// No such link (or one made for something else).
    #[error("unknown link token")]
    TokenUnknown,
    /// The link was used already (or a newer one replaced it).
    #[error("this link was already used")]
    TokenUsed,
    /// The link is past its time.
    #[error("this link has expired")]
    TokenExpired,
    /// The current password given does not match.
    #[error("the current password is wrong")]
    WrongPassword,
    /// The account still has open orders, as customer or on its agents.
    #[error("the account has open orders (as customer or on its agents); finish or cancel them first")]
    OpenOrdersExist,
}

impl AccountError {
    /// Machine code for the error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TokenUnknown => "token_unknown",
            Self::TokenUsed => "token_used",
            Self::TokenExpired => "token_expired",
            Self::WrongPassword => "wrong_password",
            Self::OpenOrdersExist => "open_orders_exist",
        }
    }
}

/// A stored one-time link, as the store found it by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    /// What it was made for.
    pub purpose: LinkPurpose,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Used, or replaced by a newer link of the same purpose.
    pub used: bool,
}

/// Whether a link found by its hash may be used for `purpose` at `now`.
pub fn decide_link(link: Option<&LinkRecord>, purpose: LinkPurpose, now: Timestamp) -> Result<(), AccountError> {
    let l = link
        .filter(|l| l.purpose == purpose)
        .ok_or(AccountError::TokenUnknown)?;
    if l.used {
        return Err(AccountError::TokenUsed);
    }
    if now >= l.expires_at {
        return Err(AccountError::TokenExpired);
    }
    Ok(())
}

/// What a signup agreed to, with the times (seed 003: the terms, and being 16 or older).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Consent {
    /// When the terms and privacy policy were accepted.
    pub terms_accepted_at: Option<Timestamp>,
    /// When the person confirmed being 16 or older.
    pub age_confirmed_at: Option<Timestamp>,
}

/// The consent of a signup. An explicit `false` is always refused (nobody signs up
/// having declined the terms or said they are under 16); an absent answer is refused
/// only when `required` (`HEEPR_REQUIRE_CONSENT`).
pub fn decide_consent(
    required: bool,
    accept_terms: Option<bool>,
    age_confirmed: Option<bool>,
    now: Timestamp,
) -> Result<Consent, Invalid> {
    let one = |field: &str, given: Option<bool>, message: &str| match given {
        Some(true) => Ok(Some(now)),
        Some(false) => Err(Invalid::new(field, message)),
        None if required => Err(Invalid::new(field, message)),
        None => Ok(None),
    };
    Ok(Consent {
        terms_accepted_at: one(
            "accept_terms",
            accept_terms,
            "the terms and privacy policy must be accepted",
        )?,
        age_confirmed_at: one("age_confirmed", age_confirmed, "heepr is not for people under 16")?,
    })
}

/// The name a deleted user is shown under wherever their name appeared (orders,
/// reviews, threads): `deleted-user-` and the last 8 characters of their id, so two
/// deleted users stay apart and nothing of the person remains.
pub fn pseudonym(user: &UserId) -> String {
    let id = user.as_str();
    let tail = &id[id.len().saturating_sub(8)..];
    format!("deleted-user-{}", tail.to_lowercase())
}

/// What deleting an account does to the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    /// The wallet's remaining points returned to the mint (`None`: the wallet is empty).
    pub sweep: Option<Transfer>,
}

/// Whether `user` may delete their account: not while any order is open as customer or
/// on their agents (SPEC §15). Their remaining points go back to the mint, so the
/// ledger still balances and no other account gains from a deletion.
pub fn decide_deletion(user: &UserId, open_orders: i64, balance: Points) -> Result<Deletion, AccountError> {
    if open_orders > 0 {
        return Err(AccountError::OpenOrdersExist);
    }
    let sweep = (balance.get() > 0).then(|| Transfer {
        debit: AccountRef::Wallet(user.clone()),
        credit: AccountRef::Mint,
        amount: balance,
        kind: TransferKind::AccountClosed,
        order: None,
        task: None,
    });
    Ok(Deletion { sweep })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 12, 14, 10, 0, 0).unwrap()
    }

    #[test]
    fn a_link_works_once_for_its_purpose_until_it_expires() {
        let link = LinkRecord {
            purpose: LinkPurpose::PasswordReset,
            expires_at: now() + Duration::hours(RESET_TTL_HOURS),
            used: false,
        };
        let reset = LinkPurpose::PasswordReset;
        assert_eq!(decide_link(Some(&link), reset, now()), Ok(()));
        assert_eq!(decide_link(None, reset, now()), Err(AccountError::TokenUnknown));
        assert_eq!(
            decide_link(Some(&link), LinkPurpose::EmailChange, now()),
            Err(AccountError::TokenUnknown)
        );
        let at_expiry = now() + Duration::hours(1);
        assert_eq!(
            decide_link(Some(&link), reset, at_expiry),
            Err(AccountError::TokenExpired)
        );
        let used = LinkRecord { used: true, ..link };
        assert_eq!(decide_link(Some(&used), reset, now()), Err(AccountError::TokenUsed));
    }

    #[test]
    fn deletion_waits_for_open_orders_and_returns_the_points_to_the_mint() {
        let u = UserId::from_unique("01JABCDEFGHJKMNPQRSTVWXYZ0");
        assert_eq!(decide_deletion(&u, 1, Points(5)), Err(AccountError::OpenOrdersExist));
        let d = decide_deletion(&u, 0, Points(70)).unwrap();
        let t = d.sweep.unwrap();
        assert_eq!(
            (t.debit, t.credit, t.amount),
            (AccountRef::Wallet(u.clone()), AccountRef::Mint, Points(70))
        );
        assert_eq!(decide_deletion(&u, 0, Points(0)).unwrap().sweep, None);
        assert!(pseudonym(&u).starts_with("deleted-user-") && pseudonym(&u).len() == 21);
    }

    #[test]
    fn consent_is_recorded_with_its_time_and_required_only_when_configured() {
        let both = decide_consent(true, Some(true), Some(true), now()).unwrap();
        assert_eq!(both.terms_accepted_at, Some(now()));
        assert_eq!(both.age_confirmed_at, Some(now()));
        assert_eq!(decide_consent(false, None, None, now()), Ok(Consent::default()));
        let missing = decide_consent(true, Some(true), None, now()).unwrap_err();
        assert_eq!(missing.field, "age_confirmed");
        let declined = decide_consent(false, Some(false), None, now()).unwrap_err();
        assert_eq!(declined.field, "accept_terms");
        let under_16 = decide_consent(false, None, Some(false), now()).unwrap_err();
        assert_eq!(under_16.field, "age_confirmed");
    }
}
