//! What the runner keeps in the bundle folder between runs: the key and cursor files
//! SKILL.md names, the set of handled event ids, what it knows of each order, and the
//! runtime facts `status` prints. Every write goes through a temp file and a rename, so a
//! `kill -9` leaves the old or the new content, never half of one.

use crate::error::{AgentError, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// SKILL.md's key file.
pub const KEY_FILE: &str = ".heepr-marketplace-key";
/// SKILL.md's cursor file.
pub const CURSOR_FILE: &str = ".heepr-cursor";
/// The Skill Setup's token file.
pub const TOKEN_FILE: &str = ".heepr-bootstrap-token";
/// How many handled ids are kept (the cursor covers older ones).
const HANDLED_KEPT: usize = 2000;

/// The paths of one bundle folder.
#[derive(Debug, Clone)]
pub struct Paths {
    pub dir: PathBuf,
}

impl Paths {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
    pub fn key(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }
    pub fn cursor(&self) -> PathBuf {
        self.dir.join(CURSOR_FILE)
    }
    pub fn token(&self) -> PathBuf {
        self.dir.join(TOKEN_FILE)
    }
    /// The runner's own files.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.join(".heepr-agent")
    }
    pub fn base_url(&self) -> PathBuf {
        self.state_dir().join("base_url")
    }
    pub fn handled(&self) -> PathBuf {
        self.state_dir().join("handled")
    }
    pub fn orders(&self) -> PathBuf {
        self.state_dir().join("orders.json")
    }
    pub fn runtime(&self) -> PathBuf {
        self.state_dir().join("runtime.json")
    }
    pub fn pid(&self) -> PathBuf {
        self.state_dir().join("pid")
    }
    pub fn stop(&self) -> PathBuf {
        self.state_dir().join("stop")
    }
    /// Where one order's attachments and outputs live.
    pub fn work(&self, order: &str) -> PathBuf {
        self.dir.join("work").join(order)
    }
}

pub fn ensure_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(AgentError::io(dir))
}

/// Writes `bytes` to `path` through `path.tmp` and a rename (mode 600: these files may
/// hold a key or customer data).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(AgentError::io(&tmp))?;
        f.write_all(bytes).map_err(AgentError::io(&tmp))?;
        f.sync_all().map_err(AgentError::io(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(AgentError::io(path))
}

/// The key, if the file holds one.
pub fn read_key(paths: &Paths) -> Option<String> {
    let k = std::fs::read_to_string(paths.key()).ok()?;
    let k = k.trim();
    (!k.is_empty()).then(|| k.to_owned())
}

/// Saves the key (mode 600), as STEP 1 does.
pub fn write_key(paths: &Paths, key: &str) -> Result<()> {
    write_atomic(&paths.key(), key.as_bytes())?;
    std::fs::set_permissions(paths.key(), std::fs::Permissions::from_mode(0o600)).map_err(AgentError::io(paths.key()))
}

/// The cursor of the last finished batch, `0` (from the first kept event) before any.
pub fn read_cursor(paths: &Paths) -> String {
    std::fs::read_to_string(paths.cursor())
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "0".to_owned())
}

pub fn write_cursor(paths: &Paths, cursor: &str) -> Result<()> {
    write_atomic(&paths.cursor(), format!("{cursor}\n").as_bytes())
}

/// The ids of events already handled (the last [`HANDLED_KEPT`]).
pub struct Handled {
    path: PathBuf,
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl Handled {
    pub fn load(paths: &Paths) -> Self {
        let text = std::fs::read_to_string(paths.handled()).unwrap_or_default();
        let order: VecDeque<String> = text.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
        let set = order.iter().cloned().collect();
        Self {
            path: paths.handled(),
            order,
            set,
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }

    /// Records `id` as handled, on disk before this returns.
    pub fn insert(&mut self, id: &str) -> Result<()> {
        if !self.set.insert(id.to_owned()) {
            return Ok(());
        }
        self.order.push_back(id.to_owned());
        while self.order.len() > HANDLED_KEPT {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        let mut text = self.order.iter().map(String::as_str).collect::<Vec<_>>().join("\n");
        text.push('\n');
        write_atomic(&self.path, text.as_bytes())
    }
}

/// Where an order stands, as far as this runner did something to it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Work assigned, nothing sent yet.
    Open,
    Delivered,
    Declined,
    Flagged,
    Completed,
    Refunded,
}

impl Standing {
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Refunded | Self::Declined)
    }
}

/// What the runner knows of one order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderRecord {
    /// The latest work event (scope changes folded in): what the command gets.
    pub work: Value,
    /// The id of the event the current round of work answers (idempotency keys).
    pub event_id: String,
    pub standing: Standing,
    pub deadline: Option<String>,
    /// What the last action was, in words (for `status` and `get_order`).
    #[serde(default)]
    pub last: Option<String>,
    #[serde(default)]
    pub deliveries: u32,
}

/// Every order the runner has seen, by id.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Orders(pub BTreeMap<String, OrderRecord>);

impl Orders {
    pub fn load(paths: &Paths) -> Self {
        std::fs::read(paths.orders())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, paths: &Paths) -> Result<()> {
        write_atomic(&paths.orders(), &serde_json::to_vec_pretty(self)?)
    }
}

/// Facts of the running runner, for `heepr-agent status`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Runtime {
    pub last_poll: Option<String>,
    pub in_hand: Option<String>,
    pub orders_handled: u64,
    pub requests: u64,
    pub long_poll: bool,
}

impl Runtime {
    pub fn load(paths: &Paths) -> Self {
        std::fs::read(paths.runtime())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, paths: &Paths) -> Result<()> {
        write_atomic(&paths.runtime(), &serde_json::to_vec_pretty(self)?)
    }
}
