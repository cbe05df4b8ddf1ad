//! The per-agent skill package (SPEC §6): SKILL.md, HEARTBEAT_EVENTS.md, RULES.md,
//! API.md and skill.json, rendered from templates embedded in the binary.
//!
//! Rendering is deterministic (no clock, no randomness), so the same agent settings
//! always give the same `content_hash`. Every listed file is hashed exactly as shipped:
//! the bootstrap token travels in a file of its own, [`TOKEN_FILE`], which only the
//! Skill Setup zip carries and skill.json does not list (SPEC §16).

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

/// The Skill Setup zip's file holding the one-time bootstrap token (not hashed, not listed).
pub const TOKEN_FILE: &str = ".heepr-bootstrap-token";

/// How skill.json says `content_hash` is computed.
const CONTENT_HASH_OF: &str = "hex SHA-256 of \"<name>\\n<sha256>\\n\" per entry of files, sorted by name (not listed: skill.json, .heepr-bootstrap-token)";

/// The package format; skill.json carries it as `version`.
pub const PACKAGE_VERSION: u32 = 2;

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
    /// Content, exactly as shipped.
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

/// One entry of skill.json's `files`.
#[derive(Serialize)]
struct FileEntry<'a> {
    name: &'a str,
    sha256: &'a str,
    bytes: u64,
}

/// skill.json: one key per line, in this order, and one line per listed file (pretty
/// printing spent a fifth of the file on indentation).
fn skill_json(ctx: &SkillContext, index: &[&PackageFile], content_hash: &str) -> Result<String, SkillError> {
    let files = index
        .iter()
        .map(|f| {
            serde_json::to_string(&FileEntry {
                name: f.name,
                sha256: &f.sha256,
                bytes: f.bytes,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    fn j<T: Serialize + ?Sized>(v: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(v)
    }
    let fields = [
        ("version", j(&PACKAGE_VERSION)?),
        ("agent_id", j(&ctx.agent_id)?),
        ("poll_minutes", j(&ctx.poll_minutes)?),
        ("files", format!("[\n    {}\n  ]", files.join(",\n    "))),
        ("content_hash", j(content_hash)?),
        ("content_hash_of", j(CONTENT_HASH_OF)?),
    ];
    let lines: Vec<String> = fields.iter().map(|(k, v)| format!("  \"{k}\": {v}")).collect();
    Ok(format!("{{\n{}\n}}\n", lines.join(",\n")))
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
    let front_description = serde_json::to_string(&format!(
        "Work heepr orders ({}) as {name} ({}): start, stop, status.",
        text::inline(&ctx.base_url),
        text::inline(&ctx.agent_id),
    ))?;
    let vars: [(&str, String); 17] = [
        ("skill_name", skill_name(&ctx.agent_id)),
        ("front_description", front_description),
        ("identity", sections::identity(ctx)),
        ("identity_short", sections::identity_short(ctx)),
        ("agent_id", text::inline(&ctx.agent_id)),
        ("agent_name", name),
        ("base_url", text::inline(&ctx.base_url)),
        ("poll_minutes", ctx.poll_minutes.to_string()),
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
    ];
    let generated = [("example", sections::example(ctx)?), ("gigs", sections::gigs(ctx))];
    let vars: Vec<(&str, &str)> = vars.iter().chain(&generated).map(|(k, v)| (*k, v.as_str())).collect();
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
    let skill_json = skill_json(ctx, &index, &content_hash)?;
    files.push(PackageFile::new("skill.json", skill_json));
    Ok(Package { files, content_hash })
}

impl Package {
    /// One file by name.
    pub fn file(&self, name: &str) -> Option<&PackageFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// The Skill Setup zip: every file as listed, flat, plus [`TOKEN_FILE`] (mode 600)
    /// when a token is given. The bytes are deterministic (fixed timestamps).
    pub fn bundle_zip(&self, token: Option<&str>) -> Result<Vec<u8>, SkillError> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default());
        for f in &self.files {
            zip.start_file(f.name, opts.unix_permissions(0o644))?;
            zip.write_all(f.content.as_bytes())?;
        }
        if let Some(token) = token {
            zip.start_file(TOKEN_FILE, opts.unix_permissions(0o600))?;
            zip.write_all(token.as_bytes())?;
        }
        Ok(zip.finish()?.into_inner())
    }
}

/// One shell line for the Skill Setup screen: fetch the one-time bootstrap link into a
/// fresh working directory, unzip it there and start a runtime (Claude Code, Codex,
/// Cursor or any shell loop) in it; the key file will live in that directory.
pub fn install_snippet(ctx: &SkillContext, link: &str) -> String {
    let id = text::inline(&ctx.agent_id).replace(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'), "");
    let link = text::inline(link).replace('\'', "");
    let dir = format!("~/heepr-agents/{id}");
    format!(
        "mkdir -p {dir} && cd {dir} && curl -fsSL '{link}' -o setup.zip && unzip -o setup.zip && rm setup.zip && \
         claude \"Read SKILL.md and follow it\"  \
         # or: codex \"Read SKILL.md and follow it\" · Cursor: open {dir} and ask the agent to follow SKILL.md \
         · shell: run your agent loop in {dir}"
    )
}

#[cfg(test)]
mod tests;
