//! The server key: 32 random bytes in a file (`HEEPR_SECRET_KEY_FILE`), created on first
//! start with mode 600. It seals what must be kept but never stored in plaintext — the
//! links in queued emails — with XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`).
//! Every instance of one deployment must read the same key: what one instance seals,
//! another may have to open.
//!
//! A sealed value is `1 ‖ nonce (24 random bytes) ‖ ciphertext ‖ tag`. The 24-byte
//! nonce makes random nonces safe for any number of values under one key. The caller
//! names a context (e.g. the recipient of an email), bound in as associated data, so a
//! sealed value copied onto another row does not open there.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Key length in bytes.
pub const KEY_LEN: usize = 32;
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// Why the key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Reading or creating the file failed.
    #[error("secret key file {path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The file holds something else than a key.
    #[error("secret key file {path}: expected {KEY_LEN} bytes (or {} hex digits), found {len} bytes", KEY_LEN * 2)]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What it holds.
        len: usize,
    },
    /// The OS random source failed.
    #[error("random source unavailable: {0}")]
    Random(String),
}

/// A sealed value did not open: sealed under another key, for another context, or
/// damaged.
#[derive(Debug, thiserror::Error)]
#[error("the sealed value does not open with this server key (another key, another context, or damaged)")]
pub struct OpenError;

/// The server key, ready to seal and open. Its `Debug` shows nothing of the key.
pub struct ServerKey {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(..)")
    }
}

/// What [`ServerKey::load_or_create`] found.
#[derive(Debug)]
pub struct LoadedKey {
    /// The key.
    pub key: ServerKey,
    /// The file did not exist and was created now.
    pub created: bool,
    /// The file's permission bits (Unix), for a warning when others may read it.
    pub mode: Option<u32>,
}

impl ServerKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&(*bytes).into()),
        }
    }

    /// A fresh random key (tests, and the first start).
    pub fn generate() -> Result<Self, KeyFileError> {
        Ok(Self::from_bytes(&random_key()?))
    }

    /// Reads the key at `path`, or creates it (32 random bytes, mode 600) if there is
    /// none. Creation is atomic: the bytes are written to a temporary file that is then
    /// hard-linked into place, so instances starting at once on a shared directory all
    /// end up reading the one key that won. The file may also hold the key as 64 hex
    /// digits (e.g. `openssl rand -hex 32`).
    pub fn load_or_create(path: &Path) -> Result<LoadedKey, KeyFileError> {
        let io = |cause| KeyFileError::Io {
            path: path.to_owned(),
            cause,
        };
        let created = match std::fs::metadata(path) {
            Ok(_) => false,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path, &random_key()?).map_err(io)?,
            Err(e) => return Err(io(e)),
        };
        let bytes = std::fs::read(path).map_err(io)?;
        let key = parse(&bytes).ok_or_else(|| KeyFileError::Malformed {
            path: path.to_owned(),
            len: bytes.len(),
        })?;
        Ok(LoadedKey {
            key: Self::from_bytes(&key),
            created,
            mode: mode_of(path),
        })
    }

    /// Seals `plaintext` for `context` (associated data: it must be given again to open).
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, crate::AuthError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| crate::AuthError::Random(e.to_string()))?;
        let nonce = XNonce::from(nonce);
        // Encryption into a Vec fails only on lengths no email reaches (2^38 bytes).
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| crate::AuthError::Seal("message too long to seal".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`ServerKey::seal`] sealed for the same `context`.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, OpenError> {
        let (&version, rest) = sealed.split_first().ok_or(OpenError)?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = <&XNonce>::try_from(nonce).map_err(|_| OpenError)?;
        self.cipher
            .decrypt(
                nonce,
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| OpenError)
    }
}

fn random_key() -> Result<[u8; KEY_LEN], KeyFileError> {
    let mut key = [0u8; KEY_LEN];
    getrandom::fill(&mut key).map_err(|e| KeyFileError::Random(e.to_string()))?;
    Ok(key)
}

fn parse(bytes: &[u8]) -> Option<[u8; KEY_LEN]> {
    if let Ok(raw) = <[u8; KEY_LEN]>::try_from(bytes) {
        return Some(raw);
    }
    let text = std::str::from_utf8(bytes).ok()?.trim();
    <[u8; KEY_LEN]>::try_from(hex::decode(text).ok()?).ok()
}

/// Writes `key` to a private temporary file and links it into place; `false` if another
/// process created `path` first (its key is the one to read).
fn create(path: &Path, key: &[u8; KEY_LEN]) -> std::io::Result<bool> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = (|| {
        let mut f = private_new_file(&tmp)?;
        f.write_all(key)?;
        f.sync_all()
    })();
    let linked = written.and_then(|()| match std::fs::hard_link(&tmp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    });
    let _ = std::fs::remove_file(&tmp);
    linked
}

#[cfg(unix)]
fn private_new_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_new_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).ok().map(|m| m.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn mode_of(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn scratch() -> PathBuf {
        let mut n = [0u8; 8];
        getrandom::fill(&mut n).unwrap();
        std::env::temp_dir().join(format!("heepr-key-{}", hex::encode(n)))
    }

    #[test]
    fn seals_and_opens_only_with_the_same_key_and_context() {
        let k = ServerKey::generate().unwrap();
        let sealed = k.seal(b"https://x/approve?code=apr_1", b"a@example.com").unwrap();
        assert!(!sealed.windows(5).any(|w| w == b"apr_1"));
        assert_eq!(
            k.open(&sealed, b"a@example.com").unwrap(),
            b"https://x/approve?code=apr_1"
        );
        assert!(k.open(&sealed, b"b@example.com").is_err(), "another context");
        assert!(
            ServerKey::generate().unwrap().open(&sealed, b"a@example.com").is_err(),
            "another key"
        );
        let mut damaged = sealed.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert!(k.open(&damaged, b"a@example.com").is_err());
        assert!(k.open(&[], b"").is_err());
        assert_ne!(
            sealed,
            k.seal(b"https://x/approve?code=apr_1", b"a@example.com").unwrap(),
            "fresh nonce"
        );
        assert_eq!(format!("{k:?}"), "ServerKey(..)");
    }

    #[test]
    fn the_key_file_is_created_once_private_and_read_back() {
        let dir = scratch();
        let path = dir.join("secret.key");
        let first = ServerKey::load_or_create(&path).unwrap();
        assert!(first.created);
        assert_eq!(std::fs::read(&path).unwrap().len(), KEY_LEN);
        #[cfg(unix)]
        assert_eq!(first.mode, Some(0o600));
        let again = ServerKey::load_or_create(&path).unwrap();
        assert!(!again.created);
        let sealed = first.key.seal(b"x", b"").unwrap();
        assert_eq!(again.key.open(&sealed, b"").unwrap(), b"x", "the same key");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file left");

        std::fs::write(&path, format!("{}\n", "ab".repeat(KEY_LEN))).unwrap();
        let hex_key = ServerKey::load_or_create(&path).unwrap().key;
        assert_eq!(
            hex_key
                .open(&ServerKey::from_bytes(&[0xab; KEY_LEN]).seal(b"y", b"").unwrap(), b"")
                .unwrap(),
            b"y"
        );
        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(
            ServerKey::load_or_create(&path),
            Err(KeyFileError::Malformed { len: 5, .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
