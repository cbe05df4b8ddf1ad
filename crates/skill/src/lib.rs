//! The per-agent skill package (SPEC §6): SKILL.md, HEARTBEAT_EVENTS.md, RULES.md,
//! API.md and skill.json, rendered from templates embedded in the binary.
//!
//! Rendering is deterministic (no clock, no randomness), so the same agent settings
//! always give the same `content_hash`. The bootstrap token is never part of the hashed
//! content: [`Package::skill_md_with_token`] injects it into one delimited line.

use heepr_domain::EventKind;
use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;

/// The files every skill package contains, in the order SKILL.md introduces them.
pub const PACKAGE_FILES: [&str; 5] = ["SKILL.md", "HEARTBEAT_EVENTS.md", "RULES.md", "API.md", "skill.json"];

/// Whether `name` is one of the package's files (anything else is a 404).
pub fn is_package_file(name: &str) -> bool {
    PACKAGE_FILES.contains(&name)
}

const NO_TOKEN: &str = "Bootstrap token: none in this copy — regenerate one from your owner dashboard.";

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Templates;

/// What went wrong while rendering.
#[derive(Debug, thiserror::Error)]
pub enum SkillError {
    /// A template is missing from the binary (a build problem).
    #[error("template {0} is missing")]
    MissingTemplate(&'static str),
    /// A template is not UTF-8.
    #[error("template {0} is not UTF-8")]
    NotUtf8(&'static str),
    /// JSON encoding failed.
    #[error("skill.json: {0}")]
    Json(#[from] serde_json::Error),
    /// Building the zip failed.
    #[error("zip: {0}")]
    Zip(String),
}

/// Everything a package says about its agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillContext {
    /// `agt_…`
    pub agent_id: String,
    /// Display name.
    pub agent_name: String,
    /// What the agent does.
    pub description: String,
    /// This server's public base URL, without a trailing slash.
    pub base_url: String,
    /// Poll cadence.
    pub poll_minutes: u32,
    /// Categories.
    pub categories: Vec<String>,
    /// Skills.
    pub skills: Vec<String>,
    /// `auto` or `manual`.
    pub accept_mode: String,
    /// Deliveries skip owner review.
    pub auto_approve_deliveries: bool,
    /// Platform rules (also echoed in events as `sf`).
    pub platform_rules: Vec<String>,
    /// Gigs with tiers and order forms.
    pub gigs: Vec<GigInfo>,
}

/// A gig as the package shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GigInfo {
    /// `gig_…`
    pub id: String,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Description.
    pub description: String,
    /// Order-form fields.
    pub fields: Vec<FieldInfo>,
    /// Tiers.
    pub tiers: Vec<TierInfo>,
}

/// An order-form field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldInfo {
    /// Key in `in`.
    pub name: String,
    /// Label.
    pub label: String,
    /// text|number|url|choice|file
    pub kind: String,
    /// Required.
    pub required: bool,
    /// Choices for `choice`.
    pub choices: Vec<String>,
}

/// A tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierInfo {
    /// Name.
    pub name: String,
    /// Points.
    pub price: i64,
    /// Days.
    pub delivery_days: u32,
    /// Included revisions.
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

fn template(name: &'static str) -> Result<String, SkillError> {
    let f = Templates::get(name).ok_or(SkillError::MissingTemplate(name))?;
    String::from_utf8(f.data.into_owned()).map_err(|_| SkillError::NotUtf8(name))
}

fn fill(mut text: String, vars: &[(&str, String)]) -> String {
    for (k, v) in vars {
        text = text.replace(&format!("{{{{{k}}}}}"), v);
    }
    text
}

fn bullet_list(items: &[String]) -> String {
    if items.is_empty() {
        return "- (none)".into();
    }
    items.iter().map(|r| format!("- {r}")).collect::<Vec<_>>().join("\n")
}

/// What the agent should do for each kind; a new kind fails to compile here.
fn event_advice(k: EventKind) -> &'static str {
    match k {
        EventKind::NewOrder => {
            "A new order is yours and already paid into escrow. Read `in`, `br`, `sc` and `at`, do the work before `dl`, then deliver."
        }
        EventKind::OwnerApprovedOrder => {
            "Your owner approved a pending order: same payload as `new_order`; start work now."
        }
        EventKind::OwnerDeniedOrder => {
            "Your owner denied a pending order (`m` says why). Nothing to do; never start it."
        }
        EventKind::RevisionRequest => {
            "The customer (or your owner) wants changes: `m` is the request, `rh` the full history, `dl` the new deadline, `rl` revisions left. Redeliver."
        }
        EventKind::ScopeChange => {
            "Scope or deadline changed, or a flagged order resumed: read `sc`, `dl` and the note `m`, and continue."
        }
        EventKind::OrderCompleted => {
            "The customer accepted (or the review window passed); your owner was paid. Delete local customer data."
        }
        EventKind::OrderRefunded => {
            "The order was refunded (declined, missed deadline, dispute or flag). Stop work and delete local customer data."
        }
    }
}

fn event_kinds() -> String {
    EventKind::ALL
        .iter()
        .map(|k| {
            let keys = match k {
                k if k.is_work() && *k == EventKind::RevisionRequest => "`id k ts o g tr p dl in sc br at rl sf m rh`",
                EventKind::ScopeChange => "`id k ts o dl sc m sf`",
                k if k.is_work() => "`id k ts o g tr p dl in sc br at rl sf`",
                EventKind::OwnerDeniedOrder => "`id k ts o m`",
                _ => "`id k ts o` (and `m` when there is a reason)",
            };
            format!("### `{}`\n\nKeys: {keys}.\n\n{}\n", k.as_str(), event_advice(*k))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn gigs(ctx: &SkillContext) -> String {
    let mut out = String::new();
    for g in &ctx.gigs {
        out.push_str(&format!("### {} (`{}`, {})\n\n", g.title, g.id, g.category));
        if !g.description.is_empty() {
            out.push_str(&format!("{}\n\n", g.description));
        }
        out.push_str("| tier | price (points) | delivery days | revisions |\n|---|---|---|---|\n");
        for t in &g.tiers {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                t.name, t.price, t.delivery_days, t.revisions
            ));
        }
        if !g.fields.is_empty() {
            out.push_str("\nOrder form (`in`):\n\n");
            for f in &g.fields {
                let choices = if f.choices.is_empty() {
                    String::new()
                } else {
                    format!(" — one of {}", f.choices.join(", "))
                };
                let req = if f.required { "required" } else { "optional" };
                out.push_str(&format!("- `{}` ({}, {req}): {}{choices}\n", f.name, f.kind, f.label));
            }
        }
        out.push('\n');
    }
    if out.is_empty() {
        out.push_str("(no gigs yet)\n");
    }
    out
}

/// Renders the five files for one agent.
pub fn render(ctx: &SkillContext) -> Result<Package, SkillError> {
    let vars = [
        ("agent_id", ctx.agent_id.clone()),
        ("agent_name", ctx.agent_name.clone()),
        ("base_url", ctx.base_url.clone()),
        ("poll_minutes", ctx.poll_minutes.to_string()),
        ("categories", ctx.categories.join(", ")),
        ("accept_mode", ctx.accept_mode.clone()),
        ("token_line", NO_TOKEN.to_owned()),
        ("rules", bullet_list(&ctx.platform_rules)),
        ("event_kinds", event_kinds()),
        ("gigs", gigs(ctx)),
    ];
    let mut files: Vec<PackageFile> = ["SKILL.md", "HEARTBEAT_EVENTS.md", "RULES.md", "API.md"]
        .into_iter()
        .map(|name| Ok(PackageFile::new(name, fill(template(name)?, &vars))))
        .collect::<Result<_, SkillError>>()?;
    let mut index: Vec<(&str, &str)> = files.iter().map(|f| (f.name, f.sha256.as_str())).collect();
    index.sort();
    let mut h = Sha256::new();
    for (name, sha) in &index {
        h.update(format!("{name}\n{sha}\n").as_bytes());
    }
    let content_hash = hex::encode(h.finalize());
    let skill_json = serde_json::json!({
        "agent_id": ctx.agent_id,
        "name": ctx.agent_name,
        "base_url": ctx.base_url,
        "poll_minutes": ctx.poll_minutes,
        "files": index.iter().map(|(name, sha)| {
            let bytes = files.iter().find(|f| f.name == *name).map(|f| f.bytes).unwrap_or(0);
            serde_json::json!({"name": name, "sha256": sha, "bytes": bytes})
        }).collect::<Vec<_>>(),
        "content_hash": content_hash,
    });
    files.push(PackageFile::new(
        "skill.json",
        serde_json::to_string_pretty(&skill_json)? + "\n",
    ));
    Ok(Package { files, content_hash })
}

impl Package {
    /// One file by name.
    pub fn file(&self, name: &str) -> Option<&PackageFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// SKILL.md with the bootstrap token (or, without one, a line saying to
    /// regenerate it). Hashes always cover the token-free rendering.
    pub fn skill_md_with_token(&self, token: Option<&str>) -> String {
        let content = self.file("SKILL.md").map(|f| f.content.clone()).unwrap_or_default();
        match token {
            Some(t) => content.replacen(
                NO_TOKEN,
                &format!("Bootstrap token: `{t}` (one-time; valid for 7 days; never share it)."),
                1,
            ),
            None => content,
        }
    }

    /// A zip of all five files; SKILL.md carries the token when given.
    pub fn bundle_zip(&self, token: Option<&str>) -> Result<Vec<u8>, SkillError> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o644);
        for f in &self.files {
            let content = if f.name == "SKILL.md" {
                self.skill_md_with_token(token)
            } else {
                f.content.clone()
            };
            zip.start_file(f.name, opts)
                .map_err(|e| SkillError::Zip(e.to_string()))?;
            zip.write_all(content.as_bytes())
                .map_err(|e| SkillError::Zip(e.to_string()))?;
        }
        let cursor = zip.finish().map_err(|e| SkillError::Zip(e.to_string()))?;
        Ok(cursor.into_inner())
    }
}

/// A one-line install: unzip the bundle into the agent runtime's skills folder.
pub fn install_snippet(ctx: &SkillContext) -> String {
    format!(
        "mkdir -p ~/.heepr/{id} && cd ~/.heepr/{id} && unzip -o heepr-skill-{id}.zip && echo 'Point your agent (Claude Code, Codex, Cursor or a shell loop) at ~/.heepr/{id}/SKILL.md and run it from this folder.'",
        id = ctx.agent_id
    )
}

#[cfg(test)]
mod tests;
