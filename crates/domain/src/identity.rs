//! Sign-in through identity providers (Google, GitHub, Facebook, any OpenID Connect
//! issuer): which account a verified provider identity opens, and when an identity may
//! be linked or unlinked.
//!
//! An identity is the pair (provider, subject): the provider's stable id for the user.
//! The email it reports is a profile field, never a key: an account is found by its
//! linked identity only, and an identity joins an existing account only from a session
//! of that account — so an unverified local signup with someone's address cannot
//! capture their provider login.

use crate::UserId;
use crate::text::Email;

/// How long a started sign-in waits for its callback (minutes).
pub const PENDING_TTL_MINUTES: i64 = 10;

/// What a provider told us about the user after the flow was verified. Only seed 003's
/// basic profile fields: the email (with the provider's word on whether it is verified)
/// and a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderProfile {
    /// The provider's stable user id (`sub`, GitHub's numeric id, Facebook's id).
    pub subject: String,
    /// The email the provider returned, if any.
    pub email: Option<String>,
    /// Whether the provider says it verified that email.
    pub email_verified: bool,
    /// The name the provider returned, if any.
    pub name: Option<String>,
}

/// The facts a sign-in is decided on, loaded by the store in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInFacts<'a> {
    /// The account the identity is linked to already, if any.
    pub linked_to: Option<&'a UserId>,
    /// The signed-in user who started the flow to link this identity, if any.
    pub linking_user: Option<&'a UserId>,
}

/// What a verified callback does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// Sign in to the account the identity is linked to (its last sign-in is recorded).
    Existing(UserId),
    /// Link the identity to the signed-in user who started the flow, and sign them in.
    Link(UserId),
    /// A new account for a new identity: starter points as at signup.
    Create {
        /// The verified email (lower-cased).
        email: Email,
        /// The display name: the provider's name, else the email's local part.
        display_name: String,
    },
}

/// Why a provider sign-in is refused. Every refusal writes nothing and starts no session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// The callback's `state` is unknown, already used or expired.
    #[error("this sign-in is unknown, expired or already used; start again")]
    UnknownState,
    /// The provider refused, or its answer did not verify (code, ID token, nonce,
    /// issuer, audience, signature).
    #[error("the identity provider's answer could not be verified")]
    NotVerified,
    /// The provider returned no email, or one it has not verified.
    #[error("the identity provider did not return a verified email")]
    EmailUnverified,
    /// The identity belongs to another account than the signed-in one.
    #[error("this identity is linked to another account")]
    LinkedElsewhere,
    /// A new account's email is already an account's: sign in to it and link from there.
    #[error("an account with this email exists; sign in to it and link this provider from its session")]
    EmailInUse,
    /// Unlinking would leave the account without a password or another identity.
    #[error("this is the account's last way to sign in; add a password or another provider first")]
    LastSignInMethod,
    /// The account has no identity at that provider.
    #[error("no identity at this provider is linked to the account")]
    NotLinked,
}

impl SignInError {
    /// Machine code for the error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownState => "auth_state_invalid",
            Self::NotVerified => "auth_failed",
            Self::EmailUnverified => "email_unverified",
            Self::LinkedElsewhere => "identity_linked_elsewhere",
            Self::EmailInUse => "email_in_use",
            Self::LastSignInMethod => "last_sign_in_method",
            Self::NotLinked => "not_found",
        }
    }
}

/// Decides what a verified callback does. A linked identity signs in to its account
/// (unless a different user is linking it); an unlinked one links to the user who
/// started the flow from their session, or else creates an account. The provider must
/// vouch for the email in every case: heepr keeps it as the account's contact.
pub fn decide_sign_in(facts: &SignInFacts<'_>, profile: &ProviderProfile) -> Result<SignIn, SignInError> {
    let email = match (&profile.email, profile.email_verified) {
        (Some(e), true) => Email::parse(e).map_err(|_| SignInError::EmailUnverified)?,
        _ => return Err(SignInError::EmailUnverified),
    };
    match (facts.linked_to, facts.linking_user) {
        (Some(owner), Some(linking)) if owner != linking => Err(SignInError::LinkedElsewhere),
        (Some(owner), _) => Ok(SignIn::Existing(owner.clone())),
        (None, Some(linking)) => Ok(SignIn::Link(linking.clone())),
        (None, None) => {
            let display_name = profile
                .name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| n.chars().take(crate::limits::DISPLAY_NAME_MAX_CHARS).collect())
                .unwrap_or_else(|| email.local_part().to_owned());
            Ok(SignIn::Create { email, display_name })
        }
    }
}

/// Decides whether an identity may be unlinked: the account must keep a way in — a
/// password or another linked identity.
pub fn decide_unlink(is_linked: bool, has_password: bool, identities: usize) -> Result<(), SignInError> {
    if !is_linked {
        return Err(SignInError::NotLinked);
    }
    if !has_password && identities <= 1 {
        return Err(SignInError::LastSignInMethod);
    }
    Ok(())
}

/// How recent a provider sign-in must be to stand in for a password (SPEC §16: deleting
/// an identity-only account).
pub const RECENT_SIGN_IN_MINUTES: i64 = 5;

/// Whether the user proved control of one of their identities within the last
/// [`RECENT_SIGN_IN_MINUTES`]: `last_sign_ins` are their identities' last provider
/// sign-ins (only the identity's owner can sign in with it). For issue 16's
/// `DELETE /api/account`, which takes this instead of a password when the account has
/// none; no route uses it yet.
pub fn recently_signed_in(last_sign_ins: &[crate::Timestamp], now: crate::Timestamp) -> bool {
    let since = now - chrono::Duration::minutes(RECENT_SIGN_IN_MINUTES);
    last_sign_ins.iter().any(|t| *t > since && *t <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(email: Option<&str>, verified: bool) -> ProviderProfile {
        ProviderProfile {
            subject: "s1".into(),
            email: email.map(str::to_owned),
            email_verified: verified,
            name: Some("Ada".into()),
        }
    }

    fn user(n: &str) -> UserId {
        UserId::from_unique(n.to_owned())
    }

    #[test]
    fn a_new_identity_creates_an_account() {
        let d = decide_sign_in(
            &SignInFacts {
                linked_to: None,
                linking_user: None,
            },
            &profile(Some("A@x.io"), true),
        );
        assert!(
            matches!(d, Ok(SignIn::Create { ref email, ref display_name }) if email.as_str() == "a@x.io" && display_name == "Ada")
        );
    }

    #[test]
    fn a_linked_identity_signs_in_and_never_links_elsewhere() {
        let (a, b) = (user("01A"), user("01B"));
        let p = profile(Some("a@x.io"), true);
        assert_eq!(
            decide_sign_in(
                &SignInFacts {
                    linked_to: Some(&a),
                    linking_user: None
                },
                &p
            ),
            Ok(SignIn::Existing(a.clone()))
        );
        assert_eq!(
            decide_sign_in(
                &SignInFacts {
                    linked_to: Some(&a),
                    linking_user: Some(&a)
                },
                &p
            ),
            Ok(SignIn::Existing(a.clone()))
        );
        assert_eq!(
            decide_sign_in(
                &SignInFacts {
                    linked_to: Some(&a),
                    linking_user: Some(&b)
                },
                &p
            ),
            Err(SignInError::LinkedElsewhere)
        );
        assert_eq!(
            decide_sign_in(
                &SignInFacts {
                    linked_to: None,
                    linking_user: Some(&b)
                },
                &p
            ),
            Ok(SignIn::Link(b))
        );
    }

    #[test]
    fn an_unverified_or_missing_email_is_refused() {
        let f = SignInFacts {
            linked_to: None,
            linking_user: None,
        };
        assert_eq!(
            decide_sign_in(&f, &profile(Some("a@x.io"), false)),
            Err(SignInError::EmailUnverified)
        );
        assert_eq!(
            decide_sign_in(&f, &profile(None, true)),
            Err(SignInError::EmailUnverified)
        );
    }

    #[test]
    fn a_provider_sign_in_counts_for_five_minutes() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let ago = |m| now - chrono::Duration::minutes(m);
        assert!(recently_signed_in(&[ago(10), ago(4)], now));
        assert!(!recently_signed_in(&[ago(5)], now));
        assert!(!recently_signed_in(&[], now));
    }

    #[test]
    fn the_last_way_in_stays() {
        assert_eq!(decide_unlink(true, false, 1), Err(SignInError::LastSignInMethod));
        assert_eq!(decide_unlink(true, true, 1), Ok(()));
        assert_eq!(decide_unlink(true, false, 2), Ok(()));
        assert_eq!(decide_unlink(false, true, 0), Err(SignInError::NotLinked));
    }
}
