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
    /// A unique value is taken (e.g. an email).
    #[error("{0} is already taken")]
    Duplicate(&'static str),
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
    /// No connection could be had from the pool.
    #[error("connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
}

impl StoreError {
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Corrupt(what.to_string())
    }
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
