//! The bundle folder: the five package files as skill.json lists them, checked byte for
//! byte; `init` from a bootstrap link, self-update by ETag.

use crate::api::{Api, SkillCheck};
use crate::error::{AgentError, Result};
use crate::state::{self, Paths};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The package files besides skill.json (skill.json lists exactly these).
const PACKAGE_FILES: [&str; 5] = ["SKILL.md", "HEARTBEAT_EVENTS.md", "RULES.md", "API.md", "skill.json"];

/// skill.json, as far as the runner reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct Bundle {
    pub agent_id: String,
    pub poll_minutes: u32,
    pub files: Vec<FileEntry>,
    pub content_hash: String,
}

/// One file of skill.json's `files`.
#[derive(Debug, Clone, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub sha256: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Bundle {
    /// Reads skill.json in `dir` and checks every listed file and the content hash: a
    /// changed file is refused by name.
    pub fn open(dir: &Path) -> Result<Self> {
        let index = dir.join("skill.json");
        let raw = std::fs::read(&index).map_err(|e| AgentError::NoBundle(format!("{}: {e}", index.display())))?;
        let b: Bundle = serde_json::from_slice(&raw).map_err(|e| AgentError::NoBundle(format!("skill.json: {e}")))?;
        b.verify(dir)?;
        Ok(b)
    }

    fn verify(&self, dir: &Path) -> Result<()> {
        let mut lines = Vec::new();
        for f in &self.files {
            if !PACKAGE_FILES.contains(&f.name.as_str()) || f.name == "skill.json" {
                return Err(AgentError::NoBundle(format!(
                    "skill.json lists an unknown file {}",
                    f.name
                )));
            }
            let path = dir.join(&f.name);
            let bytes = std::fs::read(&path).map_err(|e| AgentError::NoBundle(format!("{}: {e}", path.display())))?;
            if sha256_hex(&bytes) != f.sha256 {
                return Err(AgentError::Tampered { name: f.name.clone() });
            }
            lines.push(format!("{}\n{}\n", f.name, f.sha256));
        }
        lines.sort();
        if sha256_hex(lines.concat().as_bytes()) != self.content_hash {
            return Err(AgentError::Tampered {
                name: "skill.json".to_owned(),
            });
        }
        Ok(())
    }
}

/// The server's base URL: the one `init` saved, else the one SKILL.md's STEP 0 calls.
pub fn base_url(paths: &Paths) -> Result<String> {
    if let Ok(s) = std::fs::read_to_string(paths.base_url()) {
        return Ok(s.trim().to_owned());
    }
    let md = std::fs::read_to_string(paths.dir.join("SKILL.md")).map_err(AgentError::io(paths.dir.join("SKILL.md")))?;
    md.split_whitespace()
        .find_map(|w| w.strip_suffix("/api/skill"))
        .map(str::to_owned)
        .ok_or_else(|| AgentError::NoBundle("SKILL.md names no server".to_owned()))
}

/// `heepr-agent init <link> --dir D`: fetches the Skill Setup zip, unpacks its plain files
/// into D (the token file mode 600) and checks the bundle.
pub async fn init(link: &str, paths: &Paths) -> Result<Bundle> {
    let origin = origin_of(link)?;
    std::fs::create_dir_all(&paths.dir).map_err(AgentError::io(&paths.dir))?;
    let api = Api::new(&origin, None)?;
    let zip = api.fetch_link(link).await?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i)?;
        let name = entry.name()?.into_owned();
        // Only the package's own plain names; anything else (paths, dot-dot) is skipped.
        if !(PACKAGE_FILES.contains(&name.as_str()) || name == state::TOKEN_FILE) {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(AgentError::io(&name))?;
        let path = paths.dir.join(&name);
        state::write_atomic(&path, &bytes)?;
        if name == state::TOKEN_FILE {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(AgentError::io(&path))?;
        }
    }
    state::ensure_dir(&paths.state_dir())?;
    state::write_atomic(&paths.base_url(), format!("{origin}\n").as_bytes())?;
    Bundle::open(&paths.dir)
}

/// `scheme://host[:port]` of a URL.
fn origin_of(link: &str) -> Result<String> {
    let bad = || AgentError::Usage(format!("not a bootstrap link: {link}"));
    let (scheme, rest) = link.split_once("://").ok_or_else(bad)?;
    if scheme != "http" && scheme != "https" {
        return Err(bad());
    }
    let host = rest.split('/').next().filter(|h| !h.is_empty()).ok_or_else(bad)?;
    Ok(format!("{scheme}://{host}"))
}

/// Self-update: `GET /api/skill` with the hash on disk; on a change, fetches the five
/// files, checks them against the new skill.json, and only then replaces the old ones.
/// Returns the bundle now in force and whether it changed.
pub async fn update(api: &Api, paths: &Paths, bundle: Bundle) -> Result<(Bundle, bool)> {
    if api.skill(Some(&bundle.content_hash)).await? == SkillCheck::Current {
        return Ok((bundle, false));
    }
    let staging = paths.state_dir().join("update");
    state::ensure_dir(&staging)?;
    for name in PACKAGE_FILES {
        let bytes = api.skill_file(&bundle.agent_id, name).await?;
        state::write_atomic(&staging.join(name), &bytes)?;
    }
    let fresh = Bundle::open(&staging)?;
    for name in PACKAGE_FILES {
        let from = staging.join(name);
        std::fs::rename(&from, paths.dir.join(name)).map_err(AgentError::io(from))?;
    }
    tracing::info!(content_hash = %fresh.content_hash, "package updated");
    Ok((fresh, true))
}
