//! Order-form answers checked against a gig's form.

use super::*;

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
                // Answers are free text: NUL and stray control characters never reach
                // the agent (or a PostgreSQL text column).
                crate::text::check_multi_line(&path, s)?;
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
