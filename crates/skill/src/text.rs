//! Placeholder filling and Markdown-safe formatting of owner-provided text.

use crate::SkillError;

/// Replaces every `{{name}}` in `template` with its value, in one pass: values are never
/// scanned again, so owner text that happens to contain `{{…}}` stays as written.
/// An unknown or unclosed placeholder is an error (a template bug, caught by the tests).
pub(crate) fn fill(template_name: &'static str, template: &str, vars: &[(&str, &str)]) -> Result<String, SkillError> {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| SkillError::Placeholder {
            template: template_name,
            placeholder: after.chars().take(20).collect(),
        })?;
        let key = after[..end].trim();
        let value = vars
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| SkillError::Placeholder {
                template: template_name,
                placeholder: key.to_owned(),
            })?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One line: every run of whitespace (newlines included) becomes one space.
pub(crate) fn inline(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An inline code span (backticks inside become `'`).
pub(crate) fn code(s: &str) -> String {
    format!("`{}`", inline(s).replace('`', "'"))
}

/// A paragraph of owner text: trimmed, line endings normalised, blank lines collapsed.
pub(crate) fn block(s: &str, empty: &str) -> String {
    let lines: Vec<&str> = s.lines().map(str::trim_end).collect();
    let mut out: Vec<&str> = Vec::new();
    for l in lines {
        if l.trim().is_empty() && out.last().is_none_or(|p| p.trim().is_empty()) {
            continue;
        }
        out.push(l);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    if out.is_empty() {
        empty.to_owned()
    } else {
        out.join("\n")
    }
}

/// A comma-separated list of one-line items, or `empty`.
pub(crate) fn list(items: &[String], empty: &str) -> String {
    let items: Vec<String> = items.iter().map(|s| inline(s)).filter(|s| !s.is_empty()).collect();
    if items.is_empty() {
        empty.to_owned()
    } else {
        items.join(", ")
    }
}

/// A Markdown bullet list of one-line items, or `- (none)`.
pub(crate) fn bullets(items: &[String]) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|s| inline(s))
        .filter(|s| !s.is_empty())
        .map(|s| format!("- {s}"))
        .collect();
    if items.is_empty() {
        "- (none)".to_owned()
    } else {
        items.join("\n")
    }
}
