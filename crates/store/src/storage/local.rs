//! Files on this machine's disk, under the data directory.

use super::{BlobStore, ByteStream, bad_key, file_stream, valid_key};
use futures_util::future::{BoxFuture, FutureExt, ready};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Files under `<data dir>/files/<key[-2..]>/<key>`; uploads in progress under
/// `<data dir>/files/tmp/<process>/`, a directory only the process holding the lock
/// `<data dir>/files/tmp/<process>.lock` writes to.
#[derive(Debug, Clone)]
pub struct LocalDisk {
    root: PathBuf,
    temp: PathBuf,
    /// Held (locked) for the life of the process: a sweeper that can lock it knows
    /// the temp directory beside it belongs to a dead process.
    _lock: std::sync::Arc<std::fs::File>,
}

const TEMP: &str = "tmp";
const LOCK_EXT: &str = "lock";

fn lock(file: &std::fs::File) -> io::Result<bool> {
    // Called through the trait: std's inherent `File::try_lock` is newer than the MSRV.
    match fs4::FileExt::try_lock(file) {
        Ok(()) => Ok(true),
        Err(fs4::TryLockError::WouldBlock) => Ok(false),
        Err(fs4::TryLockError::Error(e)) => Err(e),
    }
}

fn remove_tree_counting(dir: &Path) -> io::Result<usize> {
    let mut n = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            n += remove_tree_counting(&entry.path())?;
        } else {
            n += 1;
        }
    }
    std::fs::remove_dir_all(dir)?;
    Ok(n)
}

fn gone_ok(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

impl LocalDisk {
    /// Creates the directories it needs and claims this process's temp directory.
    pub fn new(data_dir: &Path) -> io::Result<Self> {
        let root = data_dir.join("files");
        let temps = root.join(TEMP);
        std::fs::create_dir_all(&temps)?;
        let me = crate::ulid();
        // The lock first, then the directory: a temp directory without a lock file
        // beside it is always a dead process's.
        let lock_file = std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(temps.join(format!("{me}.{LOCK_EXT}")))?;
        if !lock(&lock_file)? {
            return Err(io::Error::other("cannot lock a fresh temp directory"));
        }
        let temp = temps.join(&me);
        std::fs::create_dir(&temp)?;
        Ok(Self {
            root,
            temp,
            _lock: std::sync::Arc::new(lock_file),
        })
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        if !valid_key(key) {
            return Err(bad_key());
        }
        Ok(self.root.join(&key[key.len() - 2..]).join(key))
    }
}

impl BlobStore for LocalDisk {
    fn temp_dir(&self) -> PathBuf {
        self.temp.clone()
    }

    fn commit(&self, temp: &Path, key: &str) -> BoxFuture<'static, io::Result<()>> {
        let moved = self.path(key).and_then(|dest| {
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::rename(temp, dest)
        });
        ready(moved).boxed()
    }

    fn open(&self, key: &str) -> BoxFuture<'static, io::Result<ByteStream>> {
        let path = self.path(key);
        async move { Ok(file_stream(tokio::fs::File::open(path?).await?)) }.boxed()
    }

    fn delete(&self, key: &str) -> BoxFuture<'static, io::Result<()>> {
        ready(self.path(key).and_then(|p| gone_ok(std::fs::remove_file(p)))).boxed()
    }

    fn sweep_temp(&self) -> io::Result<usize> {
        let temps = self.root.join(TEMP);
        let mut removed = 0;
        let mut dirs = Vec::new();
        for entry in std::fs::read_dir(&temps)? {
            let entry = entry?;
            let path = entry.path();
            if path == self.temp {
                continue;
            }
            if entry.file_type()?.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == LOCK_EXT) {
                // Another process's claim: its directory goes only if the lock is free.
                let Ok(file) = std::fs::OpenOptions::new().write(true).open(&path) else {
                    continue;
                };
                if lock(&file)? {
                    let dir = path.with_extension("");
                    if dir.is_dir() {
                        removed += remove_tree_counting(&dir)?;
                    }
                    gone_ok(std::fs::remove_file(&path))?;
                }
            } else {
                // A temp file from before per-process directories.
                gone_ok(std::fs::remove_file(&path))?;
                removed += 1;
            }
        }
        for dir in dirs {
            // Still there without its lock file: its process is gone (a live one
            // created the lock before the directory and keeps both).
            if dir.is_dir() && !dir.with_extension(LOCK_EXT).exists() {
                removed += remove_tree_counting(&dir)?;
            }
        }
        Ok(removed)
    }

    fn keys_older_than(&self, cutoff: SystemTime) -> BoxFuture<'static, io::Result<Vec<String>>> {
        ready(self.keys_before(cutoff)).boxed()
    }

    fn describe(&self) -> String {
        format!("local disk {}", self.root.display())
    }
}

impl LocalDisk {
    fn keys_before(&self, cutoff: SystemTime) -> io::Result<Vec<String>> {
        let mut keys = Vec::new();
        for shard in std::fs::read_dir(&self.root)? {
            let shard = shard?;
            if shard.file_name() == TEMP || !shard.file_type()?.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(shard.path())? {
                let entry = entry?;
                let Some(key) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                let meta = entry.metadata()?;
                if meta.is_file() && valid_key(&key) && meta.modified()? < cutoff {
                    keys.push(key);
                }
            }
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
    use std::time::Duration;

    fn scratch() -> PathBuf {
        let p = std::env::temp_dir().join(format!("heepr-storage-{}", crate::ulid()));
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    #[test]
    fn sweep_spares_live_processes_and_removes_dead_ones() {
        let data = scratch();
        let live = LocalDisk::new(&data).unwrap();
        std::fs::write(live.temp_dir().join("a"), b"in flight").unwrap();
        let dead = LocalDisk::new(&data).unwrap();
        std::fs::write(dead.temp_dir().join("b"), b"left over").unwrap();
        std::fs::write(dead.temp_dir().join("c"), b"left over").unwrap();
        let dead_dir = dead.temp_dir();
        drop(dead); // the process "dies": its lock is released
        std::fs::write(data.join("files/tmp/loose"), b"old layout").unwrap();
        std::fs::create_dir(data.join("files/tmp/orphan_dir")).unwrap();
        std::fs::write(data.join("files/tmp/orphan_dir/d"), b"no lock file").unwrap();

        let me = LocalDisk::new(&data).unwrap();
        assert_eq!(me.sweep_temp().unwrap(), 4);
        assert!(live.temp_dir().join("a").exists(), "a live process's upload stays");
        assert!(!dead_dir.exists());
        assert!(me.temp_dir().is_dir());
        std::fs::remove_dir_all(&data).unwrap();
    }

    #[test]
    fn lists_keys_by_age() {
        let data = scratch();
        let disk = LocalDisk::new(&data).unwrap();
        for key in ["old_key_01", "new_key_02"] {
            let t = disk.temp_dir().join(key);
            std::fs::write(&t, b"x").unwrap();
            disk.commit(&t, key).now_or_never().unwrap().unwrap();
        }
        let old = std::time::SystemTime::now() - Duration::from_secs(7200);
        let f = std::fs::File::options()
            .write(true)
            .open(disk.path("old_key_01").unwrap())
            .unwrap();
        f.set_modified(old).unwrap();
        let cutoff = std::time::SystemTime::now() - Duration::from_secs(3600);
        let keys = disk.keys_older_than(cutoff).now_or_never().unwrap().unwrap();
        assert_eq!(keys, vec!["old_key_01".to_owned()]);
        std::fs::remove_dir_all(&data).unwrap();
    }
}
