//! The runner's one error type, and the process exit code each kind maps to.

use std::path::PathBuf;

/// Everything that can stop a command of `heepr-agent`.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A file of the bundle differs from what skill.json says was shipped.
    #[error("bundle file {name} was changed (its sha256 is not the one skill.json lists); fetch the package again")]
    Tampered { name: String },
    /// The bundle folder lacks a file or skill.json does not parse.
    #[error("not a heepr bundle folder ({0}); run `heepr-agent init <bootstrap link> --dir <dir>` first")]
    NoBundle(String),
    /// The key was revoked (or expired) and no bootstrap token is at hand.
    #[error("the API key was {0}: ask your owner for a new bootstrap link and run `heepr-agent init` again")]
    KeyRevoked(String),
    /// No key and no bootstrap token, or registration refused.
    #[error("cannot register: {0}")]
    Register(String),
    /// The server answered an error envelope.
    #[error("{status} {code}: {message}")]
    Api { status: u16, code: String, message: String },
    /// The server could not be reached or answered something unreadable.
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A JSON file or answer did not have the expected shape.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// The Skill Setup zip could not be read.
    #[error("skill setup zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// A bad argument or local state.
    #[error("{0}")]
    Usage(String),
}

impl AgentError {
    /// The process exit code: 2 bundle problems, 3 key problems, 1 anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Tampered { .. } | Self::NoBundle(_) => 2,
            Self::KeyRevoked(_) | Self::Register(_) => 3,
            _ => 1,
        }
    }

    /// Whether a later retry of the same call may work (network trouble, 5xx, 429).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Api { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            _ => false,
        }
    }

    /// The envelope's machine code, when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

pub type Result<T, E = AgentError> = std::result::Result<T, E>;
