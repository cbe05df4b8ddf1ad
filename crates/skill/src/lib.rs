//! The per-agent skill package (SPEC §6): SKILL.md, HEARTBEAT_EVENTS.md, RULES.md,
//! API.md and skill.json, rendered from templates embedded in the binary.
//!
//! Rendering is deterministic (no clock, no randomness), so the same agent settings
//! always give the same `content_hash`. The bootstrap token is never part of the hashed
//! content: [`Package::skill_md_with_token`] injects it into one delimited line.

use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;

mod sections;
mod text;

/// The files every skill package contains, in the order SKILL.md introduces them.
pub const PACKAGE_FILES: [&str; 5] = ["SKILL.md", "HEARTBEAT_EVENTS.md", "RULES.md", "API.md", "skill.json"];

/// Whether `name` is one of the package's files (anything else is a 404).
pub fn is_package_file(name: &str) -> bool {
    PACKAGE_FILES.contains(&name)
}

/// The token line of a token-free SKILL.md (on a line of its own).
const NO_TOKEN: &str = "Bootstrap token: none in this copy — regenerate one from your owner dashboard.";

/// The Markdown files, in package order; skill.json follows them.
const MARKDOWN_FILES: [&str; 4] = ["SKILL.md", "HEARTBEAT_EVENTS.md", "RULES.md", "API.md"];

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Templates;

/// What went wrong while rendering or bundling a package.
#[derive(Debug, thiserror::Error)]
pub enum SkillError {
    /// A template is missing from the binary (a build problem).
    #[error("template {0} is missing")]
    MissingTemplate(&'static str),
    /// A template is not UTF-8.
    #[error("template {0} is not UTF-8")]
    NotUtf8(&'static str),
    /// A template names a placeholder that is not defined, or leaves one unclosed.
    #[error("template {template}: unknown or unclosed placeholder {placeholder:?}")]
    Placeholder {
        /// The template.
        template: &'static str,
        /// The placeholder's name (or the text after an unclosed `{{`).
        placeholder: String,
    },
    /// JSON encoding failed.
    #[error("skill.json: {0}")]
    Json(#[from] serde_json::Error),
    /// Building the zip failed.
    #[error("zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// Writing into the zip failed.
    #[error("zip: {0}")]
    Io(#[from] std::io::Error),
}

/// Everything a package says about its agent: identity, behaviour, rules and gigs.
/// Any change to it changes the rendered files and so the `content_hash`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillContext {
    /// The agent's id, `agt_…`.
    pub agent_id: String,
    /// The agent's display name.
    pub agent_name: String,
    /// What the agent does (owner text, may span paragraphs).
    pub description: String,
    /// This server's public base URL, e.g. `http://127.0.0.1:8080`, without a trailing slash.
    pub base_url: String,
    /// How often the agent polls `GET /api/events`, in minutes (1..=60).
    pub poll_minutes: u32,
    /// The agent's categories (code, design, …).
    pub categories: Vec<String>,
    /// Free-form skills the owner listed.
    pub skills: Vec<String>,
    /// `auto` or `manual`: whether orders may start without the owner's approval.
    pub accept_mode: String,
    /// Deliveries go straight to the customer, skipping the owner's review.
    pub auto_approve_deliveries: bool,
    /// The platform rules (also echoed in every work event as `sf`).
    pub platform_rules: Vec<String>,
    /// The agent's gigs, with tiers and order forms.
    pub gigs: Vec<GigInfo>,
}

/// A gig as the package shows it (in API.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GigInfo {
    /// The gig's id, `gig_…` (may be empty before the gig is saved).
    pub id: String,
    /// Title; events name the gig by it (`g`).
    pub title: String,
    /// Category.
    pub category: String,
    /// What the gig offers.
    pub description: String,
    /// The order form; answers arrive in events as `in`.
    pub fields: Vec<FieldInfo>,
    /// Price tiers.
    pub tiers: Vec<TierInfo>,
}

/// One field of a gig's order form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldInfo {
    /// The key of the answer in `in`.
    pub name: String,
    /// What the customer sees.
    pub label: String,
    /// `text`, `number`, `url`, `choice` or `file`.
    pub kind: String,
    /// Whether the customer must answer it.
    pub required: bool,
    /// The allowed answers of a `choice` field.
    pub choices: Vec<String>,
}

/// One price tier of a gig.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierInfo {
    /// Tier name; events name it as `tr`.
    pub name: String,
    /// Price in points.
    pub price: i64,
    /// Days from the start of work (or of a revision round) to the deadline.
    pub delivery_days: u32,
    /// Revisions included.
    pub revisions: u32,
}

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    /// File name.
    pub name: &'static str,
    /// Content (SKILL.md without a token).
    pub content: String,
    /// Hex SHA-256 of `content`.
    pub sha256: String,
    /// Size of `content`.
    pub bytes: u64,
}

impl PackageFile {
    fn new(name: &'static str, content: String) -> Self {
        Self {
            name,
            sha256: hex::encode(Sha256::digest(content.as_bytes())),
            bytes: content.len() as u64,
            content,
        }
    }
}

/// A rendered package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// SKILL.md, HEARTBEAT_EVENTS.md, RULES.md, API.md, then skill.json.
    pub files: Vec<PackageFile>,
    /// Hex SHA-256 over `name\n<sha256>\n` of every file but skill.json, sorted by name.
    pub content_hash: String,
}

/// skill.json, with keys in this order.
#[derive(Serialize)]
struct SkillJson<'a> {
    agent_id: &'a str,
    name: &'a str,
    base_url: &'a str,
    poll_minutes: u32,
    categories: &'a [String],
    accept_mode: &'a str,
    files: Vec<FileEntry<'a>>,
    content_hash: &'a str,
}

/// One entry of skill.json's `files`.
#[derive(Serialize)]
struct FileEntry<'a> {
    name: &'a str,
    sha256: &'a str,
    bytes: u64,
}

fn template(name: &'static str) -> Result<String, SkillError> {
    let f = Templates::get(name).ok_or(SkillError::MissingTemplate(name))?;
    String::from_utf8(f.data.into_owned()).map_err(|_| SkillError::NotUtf8(name))
}

/// The skill's `name` in SKILL.md's front matter: lowercase letters, digits and hyphens.
fn skill_name(agent_id: &str) -> String {
    let slug: String = agent_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("heepr-{}", slug.trim_matches('-'))
}

/// Renders the five files for one agent. Deterministic: the same context always gives
/// the same bytes and the same `content_hash`.
pub fn render(ctx: &SkillContext) -> Result<Package, SkillError> {
    let name = text::inline(&ctx.agent_name);
    let categories = text::list(&ctx.categories, "none");
    let front_description = serde_json::to_string(&format!(
        "Work orders on the heepr marketplace ({}) as the agent \"{name}\" ({}; categories: {categories}): \
         register, poll for orders every {} minutes, deliver, decline or flag. Use when told to start, stop or \
         check heepr work.",
        text::inline(&ctx.base_url),
        text::inline(&ctx.agent_id),
        ctx.poll_minutes,
    ))?;
    let poll_seconds = (u64::from(ctx.poll_minutes) * 60).to_string();
    let vars: [(&str, String); 21] = [
        ("skill_name", skill_name(&ctx.agent_id)),
        ("front_description", front_description),
        ("identity", sections::identity(ctx)),
        ("token_line", NO_TOKEN.to_owned()),
        ("agent_id", text::inline(&ctx.agent_id)),
        ("agent_name", name),
        ("base_url", text::inline(&ctx.base_url)),
        ("poll_minutes", ctx.poll_minutes.to_string()),
        ("poll_seconds", poll_seconds),
        ("categories", categories),
        ("skills", text::list(&ctx.skills, "none listed")),
        ("description", text::block(&ctx.description, "(no description yet)")),
        ("accept_mode", text::inline(&ctx.accept_mode)),
        (
            "accept_mode_text",
            sections::accept_mode_text(&ctx.accept_mode).to_owned(),
        ),
        (
            "delivery_text",
            sections::delivery_text(ctx.auto_approve_deliveries).to_owned(),
        ),
        (
            "delivery_state",
            sections::delivery_state(ctx.auto_approve_deliveries).to_owned(),
        ),
        ("rules", text::bullets(&ctx.platform_rules)),
        ("keys_table", sections::keys_table()),
        ("event_kinds", sections::event_kinds()),
        ("example", sections::example(ctx)?),
        ("gigs", sections::gigs(ctx)),
    ];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut files = MARKDOWN_FILES
        .into_iter()
        .map(|name| Ok(PackageFile::new(name, text::fill(name, &template(name)?, &vars)?)))
        .collect::<Result<Vec<_>, SkillError>>()?;

    let mut index: Vec<&PackageFile> = files.iter().collect();
    index.sort_by_key(|f| f.name);
    let content_hash = hex::encode(Sha256::digest(
        index
            .iter()
            .map(|f| format!("{}\n{}\n", f.name, f.sha256))
            .collect::<String>(),
    ));
    let skill_json = SkillJson {
        agent_id: &ctx.agent_id,
        name: &ctx.agent_name,
        base_url: &ctx.base_url,
        poll_minutes: ctx.poll_minutes,
        categories: &ctx.categories,
        accept_mode: &ctx.accept_mode,
        files: index
            .iter()
            .map(|f| FileEntry {
                name: f.name,
                sha256: &f.sha256,
                bytes: f.bytes,
            })
            .collect(),
        content_hash: &content_hash,
    };
    let skill_json = serde_json::to_string_pretty(&skill_json)? + "\n";
    files.push(PackageFile::new("skill.json", skill_json));
    Ok(Package { files, content_hash })
}

impl Package {
    /// One file by name.
    pub fn file(&self, name: &str) -> Option<&PackageFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// SKILL.md with the bootstrap token injected (`Some`), or with the line telling the
    /// owner to regenerate one from the dashboard (`None`). Hashes always cover the
    /// token-free rendering.
    pub fn skill_md_with_token(&self, token: Option<&str>) -> String {
        let content = self.file("SKILL.md").map(|f| f.content.as_str()).unwrap_or_default();
        let Some(token) = token else {
            return content.to_owned();
        };
        let token = text::inline(token).replace('`', "");
        let marker = format!("\n{NO_TOKEN}\n");
        match content.find(&marker) {
            Some(at) => format!(
                "{}\nBootstrap token: `{token}` (single use, valid for 7 days; never share it).\n{}",
                &content[..at],
                &content[at + marker.len()..]
            ),
            None => content.to_owned(),
        }
    }

    /// A flat zip of all five files; SKILL.md carries the token when given. The bytes
    /// are deterministic (fixed timestamps).
    pub fn bundle_zip(&self, token: Option<&str>) -> Result<Vec<u8>, SkillError> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644);
        for f in &self.files {
            zip.start_file(f.name, opts)?;
            if f.name == "SKILL.md" {
                zip.write_all(self.skill_md_with_token(token).as_bytes())?;
            } else {
                zip.write_all(f.content.as_bytes())?;
            }
        }
        Ok(zip.finish()?.into_inner())
    }
}

/// One shell line for the Skill Setup screen: unzip the downloaded bundle into a working
/// directory for the agent and start a runtime (Claude Code, Codex, Cursor or any shell
/// loop) there; the key file will live in that directory.
pub fn install_snippet(ctx: &SkillContext) -> String {
    let id = text::inline(&ctx.agent_id).replace(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'), "");
    let dir = format!("~/heepr-agents/{id}");
    format!(
        "mkdir -p {dir} && unzip -o ~/Downloads/heepr-skill-{id}.zip -d {dir} && cd {dir} && \
         claude \"Read SKILL.md and follow it\"  \
         # or: codex \"Read SKILL.md and follow it\" · Cursor: open {dir} and ask the agent to follow SKILL.md \
         · shell: run your agent loop in {dir}"
    )
}

#[cfg(test)]
mod tests;
