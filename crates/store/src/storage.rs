//! Where uploaded files live: a private root on local disk, behind a small trait so
//! an object store can replace it. Stored names are ids, never user-supplied names.

use std::io;
use std::path::{Path, PathBuf};

/// A place for file contents.
pub trait BlobStore: Send + Sync {
    /// A directory on the same filesystem for uploads in progress.
    fn temp_dir(&self) -> PathBuf;
    /// Moves a finished upload into the store and returns its key.
    fn commit(&self, temp: &Path, key: &str) -> io::Result<()>;
    /// Opens a stored file for reading.
    fn open(&self, key: &str) -> io::Result<std::fs::File>;
    /// Removes a stored file (missing is fine).
    fn delete(&self, key: &str) -> io::Result<()>;
}

/// Files under `<data dir>/files/<key[0..2]>/<key>`.
#[derive(Debug, Clone)]
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    /// Creates the directories it needs.
    pub fn new(data_dir: &Path) -> io::Result<Self> {
        let root = data_dir.join("files");
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(Self { root })
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        let ok = key.len() >= 4 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad storage key"));
        }
        Ok(self.root.join(&key[key.len() - 2..]).join(key))
    }
}

impl BlobStore for LocalDisk {
    fn temp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn commit(&self, temp: &Path, key: &str) -> io::Result<()> {
        let dest = self.path(key)?;
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::rename(temp, dest)
    }

    fn open(&self, key: &str) -> io::Result<std::fs::File> {
        std::fs::File::open(self.path(key)?)
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        match std::fs::remove_file(self.path(key)?) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
