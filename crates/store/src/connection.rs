//! One binary, two backends: the backend is chosen at run time from `DATABASE_URL`.
//!
//! diesel's `MultiConnection` gives one query DSL over both. Its own `establish` hides
//! every real error behind "Invalid connection url for multiconnection", so connections
//! are made here, per backend, from the URL's scheme.

use crate::dialect;
use crate::error::{Result, StoreError};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use std::path::{Path, PathBuf};

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL.
    Postgresql(PgConnection),
    /// SQLite; last, because SQLite accepts any string as a file name.
    Sqlite(SqliteConnection),
}

/// Which database `DATABASE_URL` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

/// The backend in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl DbTarget {
    /// `sqlite://path`, `sqlite:path`, a plain path, or `postgres://…`/`postgresql://…`.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        if url.is_empty() {
            return Err(StoreError::BadUrl("it is empty".into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let rest = url.split_once("://").map(|(_, r)| r).unwrap_or_default();
            let host = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
            if host.is_empty() || host.starts_with('/') || host.starts_with(':') {
                return Err(StoreError::BadUrl(format!("{} has no host", mask_password(url))));
            }
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(StoreError::BadUrl("sqlite:// needs a file path".into()));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(StoreError::BadUrl(format!(
                "unsupported scheme {scheme:?} (use sqlite://path, a file path, or postgres://…)"
            )));
        }
        Ok(Self::Sqlite(PathBuf::from(url)))
    }

    /// The backend this target uses.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// A printable form with any password masked.
    pub fn display(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite://{}", p.display()),
            Self::Postgres(u) => mask_password(u),
        }
    }

    /// Opens one connection, reporting the driver's real error.
    pub fn establish(&self) -> Result<AnyConnection> {
        // Drivers answer in several lines (libpq adds a hint); operators get one.
        let fail = |cause: String| StoreError::Connect {
            url: self.display(),
            cause: cause.split_whitespace().collect::<Vec<_>>().join(" "),
        };
        match self {
            Self::Postgres(url) => PgConnection::establish(url)
                .map(AnyConnection::Postgresql)
                .map_err(|e| fail(e.to_string())),
            Self::Sqlite(path) => {
                prepare_sqlite_dir(path).map_err(fail)?;
                let path_str = path.to_str().ok_or_else(|| fail("path is not UTF-8".into()))?;
                let mut conn = SqliteConnection::establish(path_str).map_err(|e| fail(e.to_string()))?;
                dialect::sqlite_pragmas(&mut conn).map_err(|e| fail(e.to_string()))?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }
}

fn prepare_sqlite_dir(path: &Path) -> std::result::Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create directory {}: {e}", dir.display()))?;
    // SQLite needs to create -wal/-shm files beside the database: check up front so the
    // error names the directory instead of "unable to open database file".
    let probe = dir.join(format!(".heepr-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| format!("directory {} is not writable: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Replaces the password in a URL with `***`.
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// A pooled connection, and whether it was seen to fail at the connection level (the
/// pool then drops it instead of handing it out again).
pub struct Pooled {
    pub(crate) conn: AnyConnection,
    pub(crate) broken: bool,
}

/// r2d2 manager that opens connections per backend (never through the derive's
/// error-swallowing `establish`).
#[derive(Debug)]
pub struct Manager {
    target: DbTarget,
}

impl Manager {
    pub(crate) fn new(target: DbTarget) -> Self {
        Self { target }
    }
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = r2d2::Error;

    fn connect(&self) -> std::result::Result<Pooled, r2d2::Error> {
        self.target
            .establish()
            .map(|conn| Pooled { conn, broken: false })
            .map_err(|e| r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(e.to_string())))
    }

    fn is_valid(&self, conn: &mut Pooled) -> std::result::Result<(), r2d2::Error> {
        diesel::connection::SimpleConnection::batch_execute(&mut conn.conn, "SELECT 1").map_err(r2d2::Error::QueryError)
    }

    /// Checked when a connection comes back: one that lost its server is dropped here,
    /// which is what lets the pool skip a `SELECT 1` round trip on every checkout.
    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend() {
        assert_eq!(
            DbTarget::parse("sqlite://./data/x.db").unwrap(),
            DbTarget::Sqlite("./data/x.db".into())
        );
        assert_eq!(
            DbTarget::parse("data/x.db").unwrap(),
            DbTarget::Sqlite("data/x.db".into())
        );
        assert_eq!(
            DbTarget::parse("postgres://u:p@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert!(matches!(DbTarget::parse("mysql://h/db"), Err(StoreError::BadUrl(_))));
        assert!(matches!(DbTarget::parse("postgres:///db"), Err(StoreError::BadUrl(_))));
        assert!(matches!(DbTarget::parse(""), Err(StoreError::BadUrl(_))));
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_password("postgres://bob:secret@h:5432/db"),
            "postgres://bob:***@h:5432/db"
        );
        assert_eq!(mask_password("postgres://bob@h/db"), "postgres://bob@h/db");
        assert_eq!(
            DbTarget::parse("postgres://a:b@h/d").unwrap().display(),
            "postgres://a:***@h/d"
        );
    }

    #[test]
    fn unreachable_postgres_reports_the_real_cause() {
        let err = DbTarget::parse("postgres://u:pw@127.0.0.1:1/db")
            .unwrap()
            .establish()
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(msg.contains("u:***@127.0.0.1:1"), "{msg}");
        assert!(!msg.contains("pw@"), "{msg}");
        assert!(!msg.contains("Invalid connection url for multiconnection"), "{msg}");
    }
}
