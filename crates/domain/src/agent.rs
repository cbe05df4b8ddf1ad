//! Agents: the wizard's settings and their rules (SPEC §5), bootstrap registration
//! (SPEC §7, §15) and email approval codes.

use crate::Timestamp;
use crate::order::{AcceptBand, AcceptMode};
use crate::points::Points;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Categories an agent or gig may use.
pub const CATEGORIES: [&str; 8] = [
    "code", "design", "video", "writing", "audio", "data", "research", "other",
];

/// Default polling cadence: seed 000 says 5, seed 002 and the dashboard say 20; 20 wins.
pub const DEFAULT_POLL_MINUTES: u32 = 20;

/// How long a bootstrap token stays usable.
pub const BOOTSTRAP_TTL_DAYS: i64 = 7;

/// How long an approval link stays usable.
pub const APPROVAL_TTL_HOURS: i64 = 24;

/// A settings field that failed validation, with its path (`gigs[0].tiers[1].price`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SettingsError {
    /// Path of the offending field.
    pub field: String,
    /// Why.
    pub message: String,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> SettingsError {
    SettingsError {
        field: field.into(),
        message: message.into(),
    }
}

/// Kinds of order-form field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Free text.
    Text,
    /// A number.
    Number,
    /// An http(s) URL.
    Url,
    /// One of `choices`.
    Choice,
    /// An uploaded file.
    File,
}

impl FieldKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Url => "url",
            Self::Choice => "choice",
            Self::File => "file",
        }
    }
}

/// One question of a gig's order form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    /// Key in the order's `inputs`.
    pub name: String,
    /// Shown to the customer.
    pub label: String,
    /// Kind of answer.
    #[serde(rename = "type")]
    pub kind: FieldKind,
    /// Must be answered.
    #[serde(default)]
    pub required: bool,
    /// Allowed answers for `choice`.
    #[serde(default)]
    pub choices: Vec<String>,
}

/// A price tier of a gig.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// e.g. Basic, Standard, Premium.
    pub name: String,
    /// Points, at least 1.
    pub price: Points,
    /// Days to deliver, 1–365.
    pub delivery_days: u32,
    /// Revisions included, 0–20.
    pub revisions: u32,
}

/// A gig: something an agent sells, with an order form and tiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gig {
    /// `gig_…`; assigned by the store when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Title.
    pub title: String,
    /// One of [`CATEGORIES`].
    pub category: String,
    /// What the customer gets.
    #[serde(default)]
    pub description: String,
    /// Order-form questions.
    #[serde(default)]
    pub form: Vec<FormField>,
    /// One or more tiers.
    pub tiers: Vec<Tier>,
}

/// Everything the wizard sets (steps 1–4), and every owner edit after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSettings {
    /// Display name.
    pub name: String,
    /// Optional avatar.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// What the agent does.
    #[serde(default)]
    pub description: String,
    /// From [`CATEGORIES`], at least one.
    pub categories: Vec<String>,
    /// Free strings.
    #[serde(default)]
    pub skills: Vec<String>,
    /// Free strings (tools and plugins).
    #[serde(default)]
    pub tools: Vec<String>,
    /// Gigs, at least one.
    pub gigs: Vec<Gig>,
    /// Poll cadence in minutes, 1–60.
    #[serde(default = "default_poll")]
    pub poll_minutes: u32,
    /// How new orders are accepted.
    #[serde(default = "default_accept")]
    pub accept_mode: AcceptMode,
    /// Release deliveries without owner review.
    #[serde(default)]
    pub auto_approve_deliveries: bool,
}

fn default_poll() -> u32 {
    DEFAULT_POLL_MINUTES
}

fn default_accept() -> AcceptMode {
    AcceptMode::Manual
}

const MAX_TEXT: usize = 5000;
const MAX_NAME: usize = 80;
const MAX_LIST: usize = 50;

fn text(field: &str, v: &str, min: usize, max: usize) -> Result<(), SettingsError> {
    let n = v.trim().chars().count();
    if n < min {
        return Err(bad(
            field,
            if min == 1 {
                "is required".to_owned()
            } else {
                format!("needs at least {min} characters")
            },
        ));
    }
    if v.chars().count() > max {
        return Err(bad(field, format!("must be at most {max} characters")));
    }
    Ok(())
}

fn list(field: &str, v: &[String], max_item: usize) -> Result<(), SettingsError> {
    if v.len() > MAX_LIST {
        return Err(bad(field, format!("at most {MAX_LIST} entries")));
    }
    for (i, s) in v.iter().enumerate() {
        text(&format!("{field}[{i}]"), s, 1, max_item)?;
    }
    Ok(())
}

fn category(field: &str, c: &str) -> Result<(), SettingsError> {
    if CATEGORIES.contains(&c) {
        Ok(())
    } else {
        Err(bad(field, format!("must be one of {}", CATEGORIES.join(", "))))
    }
}

/// Whether `s` looks like an absolute http(s) URL.
pub fn is_http_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.chars().any(char::is_whitespace)) && s.len() <= 2048
}

impl AgentSettings {
    /// Checks every field; the first problem is returned with its path.
    pub fn validate(&self) -> Result<(), SettingsError> {
        text("name", &self.name, 1, MAX_NAME)?;
        if let Some(u) = &self.avatar_url
            && !is_http_url(u)
        {
            return Err(bad("avatar_url", "must be an http(s) URL"));
        }
        text("description", &self.description, 0, MAX_TEXT)?;
        if self.categories.is_empty() {
            return Err(bad("categories", "choose at least one category"));
        }
        for (i, c) in self.categories.iter().enumerate() {
            category(&format!("categories[{i}]"), c)?;
        }
        list("skills", &self.skills, MAX_NAME)?;
        list("tools", &self.tools, MAX_NAME)?;
        if !(1..=60).contains(&self.poll_minutes) {
            return Err(bad("poll_minutes", "must be between 1 and 60"));
        }
        if let AcceptMode::Auto { bands } = &self.accept_mode {
            for (i, b) in bands.iter().enumerate() {
                validate_band(i, b)?;
            }
        }
        if self.gigs.is_empty() {
            return Err(bad("gigs", "add at least one gig"));
        }
        if self.gigs.len() > 20 {
            return Err(bad("gigs", "at most 20 gigs"));
        }
        for (i, g) in self.gigs.iter().enumerate() {
            validate_gig(&format!("gigs[{i}]"), g)?;
        }
        Ok(())
    }

    /// Lowest and highest tier price over all gigs.
    pub fn price_range(&self) -> (Points, Points) {
        let prices = self.gigs.iter().flat_map(|g| g.tiers.iter().map(|t| t.price));
        let min = prices.clone().min().unwrap_or_default();
        let max = prices.max().unwrap_or_default();
        (min, max)
    }
}

fn validate_band(i: usize, b: &AcceptBand) -> Result<(), SettingsError> {
    let f = format!("accept_mode.bands[{i}]");
    if b.price_min.get() < 0 {
        return Err(bad(format!("{f}.price_min"), "must not be negative"));
    }
    if b.price_min > b.price_max {
        return Err(bad(format!("{f}.price_min"), "must not exceed price_max"));
    }
    for (j, c) in b.categories.iter().enumerate() {
        category(&format!("{f}.categories[{j}]"), c)?;
    }
    Ok(())
}

fn validate_gig(f: &str, g: &Gig) -> Result<(), SettingsError> {
    text(&format!("{f}.title"), &g.title, 1, 120)?;
    category(&format!("{f}.category"), &g.category)?;
    text(&format!("{f}.description"), &g.description, 0, MAX_TEXT)?;
    if g.tiers.is_empty() {
        return Err(bad(format!("{f}.tiers"), "add at least one tier"));
    }
    if g.tiers.len() > 5 {
        return Err(bad(format!("{f}.tiers"), "at most 5 tiers"));
    }
    for (j, t) in g.tiers.iter().enumerate() {
        let tf = format!("{f}.tiers[{j}]");
        text(&format!("{tf}.name"), &t.name, 1, 40)?;
        if g.tiers[..j].iter().any(|o| o.name == t.name) {
            return Err(bad(format!("{tf}.name"), "tier names must be unique within a gig"));
        }
        if t.price.get() < 1 || t.price.get() > 10_000_000 {
            return Err(bad(format!("{tf}.price"), "must be between 1 and 10000000 points"));
        }
        if !(1..=365).contains(&t.delivery_days) {
            return Err(bad(format!("{tf}.delivery_days"), "must be between 1 and 365"));
        }
        if t.revisions > 20 {
            return Err(bad(format!("{tf}.revisions"), "must be between 0 and 20"));
        }
    }
    if g.form.len() > 30 {
        return Err(bad(format!("{f}.form"), "at most 30 fields"));
    }
    for (j, q) in g.form.iter().enumerate() {
        let qf = format!("{f}.form[{j}]");
        let name_ok = !q.name.is_empty()
            && q.name.len() <= 40
            && q.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Err(bad(format!("{qf}.name"), "use 1-40 of a-z, 0-9 and _"));
        }
        if g.form[..j].iter().any(|o| o.name == q.name) {
            return Err(bad(format!("{qf}.name"), "field names must be unique within a gig"));
        }
        text(&format!("{qf}.label"), &q.label, 1, 200)?;
        match q.kind {
            FieldKind::Choice if q.choices.is_empty() => {
                return Err(bad(format!("{qf}.choices"), "a choice field needs choices"));
            }
            FieldKind::Choice => list(&format!("{qf}.choices"), &q.choices, 100)?,
            _ if !q.choices.is_empty() => {
                return Err(bad(format!("{qf}.choices"), "only choice fields have choices"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Where an agent stands in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// Created, waiting for the owner's email approval.
    PendingApproval,
    /// Takes orders.
    Active,
    /// Paused by the owner or itself.
    Paused,
}

impl AgentStatus {
    /// Storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingApproval => "pending_approval",
            Self::Active => "active",
            Self::Paused => "paused",
        }
    }

    /// The inverse of [`AgentStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::PendingApproval, Self::Active, Self::Paused]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored bootstrap token, as the store found it by hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapRecord {
    /// Whose token it is.
    pub agent_id: String,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Already exchanged for a key.
    pub used: bool,
    /// Voided by a newer token.
    pub voided: bool,
}

/// Why a registration is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// No such token, or the token of another agent.
    #[error("unknown bootstrap token")]
    Unknown,
    /// The token was already used.
    #[error("this bootstrap token was already used")]
    Used,
    /// The token is older than 7 days.
    #[error("this bootstrap token has expired")]
    Expired,
    /// The agent already has a live API key (the token is not consumed).
    #[error("the agent already has an active API key; revoke it first")]
    ActiveKeyExists,
}

impl RegisterError {
    /// Machine code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unknown => "bootstrap_unknown",
            Self::Used => "bootstrap_used",
            Self::Expired => "bootstrap_expired",
            Self::ActiveKeyExists => "active_key_exists",
        }
    }
}

/// Decides a registration, checking in the order SPEC §15 fixes: unknown → used →
/// expired → active key. So the losers of a race over one token see `used`.
pub fn decide_registration(
    token: Option<&BootstrapRecord>,
    agent_id: &str,
    has_active_key: bool,
    now: Timestamp,
) -> Result<(), RegisterError> {
    let t = token.filter(|t| t.agent_id == agent_id).ok_or(RegisterError::Unknown)?;
    if t.used || t.voided {
        return Err(if t.used {
            RegisterError::Used
        } else {
            RegisterError::Unknown
        });
    }
    if now >= t.expires_at {
        return Err(RegisterError::Expired);
    }
    if has_active_key {
        return Err(RegisterError::ActiveKeyExists);
    }
    Ok(())
}

/// What an approval code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalPurpose {
    /// First activation after the wizard.
    Activate,
    /// A new bootstrap token (regenerate or rotate).
    Bootstrap,
}

impl ApprovalPurpose {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activate => "activate",
            Self::Bootstrap => "bootstrap",
        }
    }

    /// The inverse of [`ApprovalPurpose::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Activate, Self::Bootstrap].into_iter().find(|x| x.as_str() == s)
    }
}

/// Why an approval code is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    /// No such code, or another owner's.
    #[error("unknown approval code")]
    Unknown,
    /// Already used.
    #[error("this approval code was already used")]
    Used,
    /// Older than 24 hours.
    #[error("this approval code has expired")]
    Expired,
}

impl ApprovalError {
    /// Machine code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unknown => "approval_unknown",
            Self::Used => "approval_used",
            Self::Expired => "approval_expired",
        }
    }
}

/// A stored approval code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRecord {
    /// The owner who must confirm it.
    pub owner_id: String,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Already confirmed.
    pub used: bool,
}

/// Decides whether `owner` may confirm an approval code.
pub fn decide_approval(code: Option<&ApprovalRecord>, owner: &str, now: Timestamp) -> Result<(), ApprovalError> {
    let c = code.filter(|c| c.owner_id == owner).ok_or(ApprovalError::Unknown)?;
    if c.used {
        return Err(ApprovalError::Used);
    }
    if now >= c.expires_at {
        return Err(ApprovalError::Expired);
    }
    Ok(())
}

/// Checks a customer's order-form answers against a gig's form and returns them
/// normalised (trimmed strings). `files` are the names of the attachments uploaded
/// with the order: a `file` field must name one of them.
pub fn validate_inputs(
    form: &[FormField],
    inputs: &serde_json::Value,
    files: &[String],
) -> Result<serde_json::Map<String, serde_json::Value>, SettingsError> {
    use serde_json::Value;
    let empty = serde_json::Map::new();
    let given = match inputs {
        Value::Null => &empty,
        Value::Object(m) => m,
        _ => return Err(bad("inputs", "must be an object keyed by order-form field name")),
    };
    if let Some(k) = given.keys().find(|k| !form.iter().any(|f| &f.name == *k)) {
        return Err(bad(format!("inputs.{k}"), "is not a field of this gig"));
    }
    let mut out = serde_json::Map::new();
    for f in form {
        let path = format!("inputs.{}", f.name);
        let v = match given.get(&f.name) {
            None | Some(Value::Null) => {
                if f.required {
                    return Err(bad(path, "is required"));
                }
                continue;
            }
            Some(Value::String(s)) if s.trim().is_empty() && f.required => return Err(bad(path, "is required")),
            Some(v) => v,
        };
        let normalised = match (f.kind, v) {
            (FieldKind::Number, Value::Number(_)) => v.clone(),
            (FieldKind::Number, _) => return Err(bad(path, "must be a number")),
            (_, Value::String(s)) => {
                let s = s.trim();
                match f.kind {
                    FieldKind::Text if s.chars().count() > MAX_TEXT => {
                        return Err(bad(path, format!("must be at most {MAX_TEXT} characters")));
                    }
                    FieldKind::Url if !is_http_url(s) => return Err(bad(path, "must be an http(s) URL")),
                    FieldKind::Choice if !f.choices.iter().any(|c| c == s) => {
                        return Err(bad(path, format!("must be one of {}", f.choices.join(", "))));
                    }
                    FieldKind::File if !files.iter().any(|n| n == s) => {
                        return Err(bad(path, "must name a file uploaded with the order"));
                    }
                    _ => Value::String(s.to_owned()),
                }
            }
            _ => return Err(bad(path, "must be a string")),
        };
        out.insert(f.name.clone(), normalised);
    }
    Ok(out)
}

/// Badges derived from an agent's record (never stored, so they cannot go stale).
pub fn badges(rating: Option<f64>, reviews: i64, completed: i64) -> Vec<&'static str> {
    let mut b = Vec::new();
    if rating.is_some_and(|r| r >= 4.8) && reviews >= 10 {
        b.push("top_rated");
    }
    if completed >= 100 {
        b.push("100_completed");
    }
    if completed >= 1 && reviews == 0 && completed < 100 {
        b.push("rising");
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    fn settings() -> AgentSettings {
        serde_json::from_value(serde_json::json!({
            "name": "Coder",
            "categories": ["code"],
            "gigs": [{"title": "Fix a bug", "category": "code",
                      "form": [{"name": "repo", "label": "Repository", "type": "url", "required": true}],
                      "tiers": [{"name": "Basic", "price": 10, "delivery_days": 2, "revisions": 1}]}]
        }))
        .unwrap()
    }

    #[test]
    fn defaults_poll_20_and_manual_accept() {
        let s = settings();
        assert_eq!(s.poll_minutes, 20);
        assert_eq!(s.accept_mode, AcceptMode::Manual);
        assert!(s.validate().is_ok());
    }

    #[test]
    fn each_bad_field_is_named() {
        type Mutation = Box<dyn Fn(&mut AgentSettings)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (Box::new(|s| s.poll_minutes = 0), "poll_minutes"),
            (Box::new(|s| s.poll_minutes = 61), "poll_minutes"),
            (Box::new(|s| s.name = " ".into()), "name"),
            (Box::new(|s| s.categories = vec!["cooking".into()]), "categories[0]"),
            (Box::new(|s| s.gigs.clear()), "gigs"),
            (Box::new(|s| s.gigs[0].tiers.clear()), "gigs[0].tiers"),
            (
                Box::new(|s| s.gigs[0].tiers[0].price = Points(0)),
                "gigs[0].tiers[0].price",
            ),
            (
                Box::new(|s| s.gigs[0].tiers[0].delivery_days = 0),
                "gigs[0].tiers[0].delivery_days",
            ),
            (
                Box::new(|s| s.gigs[0].form[0].kind = FieldKind::Choice),
                "gigs[0].form[0].choices",
            ),
            (
                Box::new(|s| s.avatar_url = Some("javascript:alert(1)".into())),
                "avatar_url",
            ),
            (
                Box::new(|s| {
                    s.accept_mode = AcceptMode::Auto {
                        bands: vec![AcceptBand {
                            price_min: Points(50),
                            price_max: Points(10),
                            ..AcceptBand::default()
                        }],
                    }
                }),
                "accept_mode.bands[0].price_min",
            ),
        ];
        for (mutate, field) in cases {
            let mut s = settings();
            mutate(&mut s);
            assert_eq!(s.validate().unwrap_err().field, field);
        }
    }

    #[test]
    fn inputs_are_checked_against_the_form() {
        let form = settings().gigs[0].form.clone();
        let ok = validate_inputs(&form, &serde_json::json!({"repo": " https://x.io/r "}), &[]).unwrap();
        assert_eq!(ok["repo"], "https://x.io/r");
        let err = |v: serde_json::Value| validate_inputs(&form, &v, &[]).unwrap_err().field;
        assert_eq!(err(serde_json::json!({})), "inputs.repo");
        assert_eq!(err(serde_json::json!({"repo": "ftp://x"})), "inputs.repo");
        assert_eq!(err(serde_json::json!({"repo": 5})), "inputs.repo");
        assert_eq!(
            err(serde_json::json!({"repo": "https://x.io", "extra": 1})),
            "inputs.extra"
        );
        assert_eq!(err(serde_json::json!([1])), "inputs");
        let choice = vec![FormField {
            name: "lang".into(),
            label: "Language".into(),
            kind: FieldKind::Choice,
            required: false,
            choices: vec!["rust".into()],
        }];
        assert!(validate_inputs(&choice, &serde_json::json!({"lang": "go"}), &[]).is_err());
        assert!(
            validate_inputs(&choice, &serde_json::json!({}), &[])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn registration_checks_unknown_used_expired_active_in_order() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
        let rec = BootstrapRecord {
            agent_id: "agt_a".into(),
            expires_at: now + Duration::days(7),
            used: false,
            voided: false,
        };
        assert_eq!(
            decide_registration(None, "agt_a", false, now),
            Err(RegisterError::Unknown)
        );
        assert_eq!(
            decide_registration(Some(&rec), "agt_b", false, now),
            Err(RegisterError::Unknown)
        );
        let used = BootstrapRecord {
            used: true,
            ..rec.clone()
        };
        assert_eq!(
            decide_registration(Some(&used), "agt_a", true, now + Duration::days(8)),
            Err(RegisterError::Used)
        );
        assert_eq!(
            decide_registration(Some(&rec), "agt_a", true, now + Duration::days(7)),
            Err(RegisterError::Expired)
        );
        assert_eq!(
            decide_registration(Some(&rec), "agt_a", true, now),
            Err(RegisterError::ActiveKeyExists)
        );
        assert_eq!(decide_registration(Some(&rec), "agt_a", false, now), Ok(()));
    }

    #[test]
    fn approval_codes_are_single_use_owner_bound_and_expire() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
        let rec = ApprovalRecord {
            owner_id: "usr_o".into(),
            expires_at: now + Duration::hours(24),
            used: false,
        };
        assert_eq!(decide_approval(Some(&rec), "usr_x", now), Err(ApprovalError::Unknown));
        assert_eq!(
            decide_approval(Some(&rec), "usr_o", now + Duration::hours(24)),
            Err(ApprovalError::Expired)
        );
        let used = ApprovalRecord {
            used: true,
            ..rec.clone()
        };
        assert_eq!(decide_approval(Some(&used), "usr_o", now), Err(ApprovalError::Used));
        assert_eq!(decide_approval(Some(&rec), "usr_o", now), Ok(()));
    }
}
