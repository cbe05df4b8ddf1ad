use heepr_domain::DomainError;

/// Everything the store can fail with. Query failures stay here; the HTTP crate turns
/// `NotFound`/`Domain`/`Duplicate` into 4xx and everything else into a logged 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist (or is not visible to the caller).
    #[error("not found")]
    NotFound,
    /// The domain refused the command.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A field failed validation (agent settings, order-form answers, …).
    #[error(transparent)]
    Invalid(#[from] heepr_domain::Invalid),
    /// A bootstrap registration was refused.
    #[error(transparent)]
    Register(#[from] heepr_domain::agent::RegisterError),
    /// An approval code was refused.
    #[error(transparent)]
    Approval(#[from] heepr_domain::agent::ApprovalError),
    /// A bootstrap link was refused (unknown, used, expired or voided).
    #[error(transparent)]
    SetupLink(#[from] heepr_domain::agent::SetupLinkError),
    /// A chat or offer action was refused.
    #[error(transparent)]
    Chat(#[from] heepr_domain::chat::ChatError),
    /// The AgentMarket board refused.
    #[error(transparent)]
    Market(#[from] heepr_domain::market::MarketError),
    /// Support refused (suspension, reinstatement, a report or a resolution).
    #[error(transparent)]
    Support(#[from] heepr_domain::support::SupportError),
    /// An account action was refused (a link, the current password).
    #[error(transparent)]
    Account(#[from] heepr_domain::account::AccountError),
    /// A sign-in through an identity provider, a link or an unlink was refused.
    #[error(transparent)]
    SignIn(#[from] heepr_domain::identity::SignInError),
    /// A review or a reply was refused.
    #[error(transparent)]
    Review(#[from] heepr_domain::review::ReviewError),
    /// An API key was refused.
    #[error("{}", .0.message())]
    Key(KeyReject),
    /// An event cursor is malformed (`bad_cursor`) or older than retention (`cursor_expired`).
    #[error("{0}")]
    Cursor(&'static str),
    /// A unique value is taken (e.g. an email).
    #[error("{0} is already taken")]
    Duplicate(&'static str),
    /// A concurrent request with the same `Idempotency-Key` committed first; this one
    /// wrote nothing (turned into [`StoreError::Replayed`] once its answer is read).
    #[error("this Idempotency-Key was claimed by a concurrent request")]
    ClaimTaken,
    /// The request's `Idempotency-Key` already has an answer: this is it.
    #[error("replayed answer")]
    Replayed(crate::idempotency::Answer),
    /// The `Idempotency-Key` was used with a different request.
    #[error("this Idempotency-Key was already used with a different request")]
    KeyReused,
    /// Another writer kept changing the same row; the command was not applied.
    #[error("the order changed concurrently too many times; try again")]
    Contention,
    /// `DATABASE_URL` cannot be understood.
    #[error("invalid DATABASE_URL: {0}")]
    BadUrl(String),
    /// The database could not be reached or opened (URL shown with its password masked).
    #[error("cannot open database {url}: {cause}")]
    Connect {
        /// The URL, password masked.
        url: String,
        /// What the driver said.
        cause: String,
    },
    /// Applying migrations failed.
    #[error("migrations failed: {0}")]
    Migration(String),
    /// A stored row does not decode (a bug or a hand edit).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    /// SQLite's writer could not apply a write (e.g. its group's COMMIT failed).
    #[error("database writer: {0}")]
    Writer(String),
    /// No connection could be had from the pool.
    #[error("connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
}

impl StoreError {
    /// Whether the connection itself failed (server gone, socket closed), as opposed to
    /// a statement being refused.
    pub(crate) fn is_connection_lost(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        matches!(
            self,
            Self::Database(
                Error::DatabaseError(
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                    _
                ) | Error::BrokenTransactionManager
            )
        )
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Corrupt(what.to_string())
    }
}

/// Why an API key does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyReject {
    /// No such key.
    Unknown,
    /// Revoked by the owner (or by a rotation).
    Revoked,
    /// Past `HEEPR_KEY_TTL_DAYS`.
    Expired,
}

impl KeyReject {
    /// Machine code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unknown => "unauthorized",
            Self::Revoked => "key_revoked",
            Self::Expired => "key_expired",
        }
    }

    /// Human message.
    pub fn message(self) -> &'static str {
        match self {
            Self::Unknown => "missing or unknown API key",
            Self::Revoked => "this API key was revoked",
            Self::Expired => "this API key has expired",
        }
    }
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
