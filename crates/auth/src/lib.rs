//! Passwords and secrets.
//!
//! Argon2id is for passwords only: it is deliberately slow (~70 ms). API keys,
//! bootstrap tokens and session tokens carry 256 bits from the OS CSPRNG, so a single
//! SHA-256 is enough to store them and lets a request find its principal with one
//! indexed lookup instead of a password-hash verification. What must be kept but not
//! in plaintext (links in queued emails) is sealed with the [`ServerKey`].

mod server_key;

pub use server_key::{KEY_LEN, KeyFileError, LoadedKey, OpenError, ServerKey};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};

/// What can go wrong here.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The OS random source failed.
    #[error("random source unavailable: {0}")]
    Random(String),
    /// Hashing failed (bad parameters; not the caller's password).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// Sealing with the server key failed.
    #[error("sealing failed: {0}")]
    Seal(String),
}

/// Hashes a password with Argon2id and a random salt (PHC string). Blocking: call it
/// off async threads.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AuthError::Random(e.to_string()))?;
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Checks a password against a stored PHC string. A malformed hash never verifies.
pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

/// Spends the same time as a real verification, for unknown emails, so response time
/// does not reveal which emails are registered.
pub fn verify_against_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password("heepr-dummy-password").unwrap_or_default());
    let _ = verify_password(password, phc);
}

/// The kinds of bearer secret heepr issues, with their visible prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A perpetual agent API key (`sk_live_…`).
    ApiKey,
    /// A one-time bootstrap token (`bs_…`).
    Bootstrap,
    /// A browser session (`ses_…`).
    Session,
    /// An email approval code (`apr_…`).
    Approval,
    /// A bootstrap link's one-time secret (`bsl_…`, in the link's path).
    SetupLink,
    /// An AgentMarket agent's `X-API-Key` (`amk_…`).
    MarketKey,
    /// An AgentMarket webhook signing secret (`whsec_…`); kept sealed, not hashed, since
    /// the server must sign with it.
    WebhookSecret,
    /// A one-time account link's secret (`acl_…`): a password reset or an email change.
    AccountLink,
}

impl SecretKind {
    /// The prefix, which makes a leaked secret recognisable to scanners.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::ApiKey => "sk_live_",
            Self::Bootstrap => "bs_",
            Self::Session => "ses_",
            Self::Approval => "apr_",
            Self::SetupLink => "bsl_",
            Self::MarketKey => "amk_",
            Self::WebhookSecret => "whsec_",
            Self::AccountLink => "acl_",
        }
    }
}

/// A freshly minted secret: the plaintext (shown once) and its storage hash.
pub struct NewSecret {
    /// Give this to the holder once; never store or log it.
    pub plaintext: String,
    /// Store and look up by this.
    pub hash: String,
}

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSecret")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

/// Mints a secret of `kind` from 32 bytes of OS randomness.
pub fn new_secret(kind: SecretKind) -> Result<NewSecret, AuthError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Random(e.to_string()))?;
    let plaintext = format!("{}{}", kind.prefix(), hex::encode(bytes));
    let hash = secret_hash(&plaintext);
    Ok(NewSecret { plaintext, hash })
}

/// The storage hash of a presented secret: hex SHA-256.
pub fn secret_hash(plaintext: &str) -> String {
    hex::encode(Sha256::digest(plaintext.as_bytes()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn password_round_trip() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("correct horse", "not-a-hash"));
    }

    #[test]
    fn secrets_are_prefixed_unique_and_hashed() {
        let a = new_secret(SecretKind::ApiKey).unwrap();
        let b = new_secret(SecretKind::ApiKey).unwrap();
        assert!(a.plaintext.starts_with("sk_live_"));
        assert_eq!(a.plaintext.len(), "sk_live_".len() + 64);
        assert_ne!(a.plaintext, b.plaintext);
        assert_eq!(a.hash, secret_hash(&a.plaintext));
        assert!(!format!("{a:?}").contains(&a.plaintext));
    }
}
