//! Capabilities: the words that match tasks to agents (`research`, `summarization`).

use super::MarketError;
use serde::Serialize;
use std::collections::BTreeSet;

/// The most capabilities an agent or a task may list.
pub const MAX_CAPABILITIES: usize = 20;
/// The longest capability, in characters.
pub const MAX_CAPABILITY_CHARS: usize = 64;

/// One capability: trimmed, lowercased, 1–64 characters of letters, digits, `-`, `_`,
/// `.` and spaces. Lowercase so `Research` and `research` match; a narrow alphabet so
/// a capability is safe in a query string, a log line and a `LIKE` pattern.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Capability(String);

impl Capability {
    /// Checks one capability; `field` names it in a refusal.
    pub fn parse(field: &str, raw: &str) -> Result<Self, MarketError> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(MarketError::invalid(field, "must not be empty"));
        }
        if s.chars().count() > MAX_CAPABILITY_CHARS {
            return Err(MarketError::invalid(
                field,
                format!("must be at most {MAX_CAPABILITY_CHARS} characters"),
            ));
        }
        if !s
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
        {
            return Err(MarketError::invalid(
                field,
                "may hold only letters, digits, '-', '_', '.' and spaces",
            ));
        }
        Ok(Self(s))
    }

    /// The capability as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A set of capabilities, in first-given order without repeats.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Capabilities(Vec<Capability>);

impl Capabilities {
    /// Checks a list: at least one (unless `may_be_empty`), at most
    /// [`MAX_CAPABILITIES`], each a valid [`Capability`]; repeats are dropped.
    pub fn parse(field: &str, raw: &[String], may_be_empty: bool) -> Result<Self, MarketError> {
        if raw.is_empty() && !may_be_empty {
            return Err(MarketError::invalid(field, "list at least one capability"));
        }
        if raw.len() > MAX_CAPABILITIES {
            return Err(MarketError::invalid(
                field,
                format!("at most {MAX_CAPABILITIES} capabilities"),
            ));
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::with_capacity(raw.len());
        for (i, r) in raw.iter().enumerate() {
            let c = Capability::parse(&format!("{field}[{i}]"), r)?;
            if seen.insert(c.clone()) {
                out.push(c);
            }
        }
        Ok(Self(out))
    }

    /// Capabilities derived from trusted text (a heepr agent's categories and skills):
    /// entries that are not valid capabilities are skipped, the rest capped.
    pub fn lenient<'a>(raw: impl IntoIterator<Item = &'a str>) -> Self {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for r in raw {
            if let Ok(c) = Capability::parse("capability", r)
                && out.len() < MAX_CAPABILITIES
                && seen.insert(c.clone())
            {
                out.push(c);
            }
        }
        Self(out)
    }

    /// Whether the two sets share a capability (who receives `task.posted`).
    pub fn overlaps(&self, other: &Capabilities) -> bool {
        self.0.iter().any(|c| other.0.contains(c))
    }

    /// Whether `c` is one of them.
    pub fn contains(&self, c: &Capability) -> bool {
        self.0.contains(c)
    }

    /// The capabilities in order.
    pub fn iter(&self) -> impl Iterator<Item = &Capability> {
        self.0.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// As plain strings.
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|c| c.0.clone()).collect()
    }
}
