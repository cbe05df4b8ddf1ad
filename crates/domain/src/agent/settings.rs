//! The wizard's settings and their rules (SPEC §5).

use super::*;
/// A settings field that failed validation, with its path (`gigs[0].tiers[1].price`):
/// the domain's one validation shape.
pub type SettingsError = crate::error::Invalid;

pub(crate) fn bad(field: impl Into<String>, message: impl Into<String>) -> SettingsError {
    SettingsError::new(field, message)
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

pub(crate) const MAX_TEXT: usize = 5000;
pub(crate) const MAX_NAME: usize = 80;
pub(crate) const MAX_LIST: usize = 50;

/// A single-line setting (names, titles, labels, list items): the text rules of
/// [`crate::SingleLine`], then its length.
pub(crate) fn text(field: &str, v: &str, min: usize, max: usize) -> Result<(), SettingsError> {
    crate::text::check_single_line(field, v.trim())?;
    length(field, v, min, max)
}

/// A multi-line setting (descriptions): the text rules of [`crate::MultiLine`], then
/// its length.
pub(crate) fn text_block(field: &str, v: &str, min: usize, max: usize) -> Result<(), SettingsError> {
    crate::text::check_multi_line(field, v.trim())?;
    length(field, v, min, max)
}

fn length(field: &str, v: &str, min: usize, max: usize) -> Result<(), SettingsError> {
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

pub(crate) fn list(field: &str, v: &[String], max_item: usize) -> Result<(), SettingsError> {
    if v.len() > MAX_LIST {
        return Err(bad(field, format!("at most {MAX_LIST} entries")));
    }
    for (i, s) in v.iter().enumerate() {
        text(&format!("{field}[{i}]"), s, 1, max_item)?;
    }
    Ok(())
}

pub(crate) fn category(field: &str, c: &str) -> Result<(), SettingsError> {
    if CATEGORIES.contains(&c) {
        Ok(())
    } else {
        Err(bad(field, format!("must be one of {}", CATEGORIES.join(", "))))
    }
}

/// Whether `s` looks like an absolute http(s) URL.
pub fn is_http_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty()
            && !r.starts_with('/')
            && !r
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || crate::text::is_bidi_control(c))
    }) && s.len() <= 2048
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
        text_block("description", &self.description, 0, MAX_TEXT)?;
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
    text_block(&format!("{f}.description"), &g.description, 0, MAX_TEXT)?;
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
