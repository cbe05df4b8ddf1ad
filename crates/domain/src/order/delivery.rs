//! What an agent hands in with a delivery, checked once for every edge (JSON and
//! multipart alike).

use crate::DomainError;
use crate::agent::is_http_url;
use crate::limits::{DELIVERY_MAX_URLS, DELIVERY_NOTE_MAX_CHARS, DELIVERY_TEXT_MAX_CHARS};
use crate::text::{MultiLine, is_bidi_control};

/// The checked content of one delivery: optional text, links, an optional note to the
/// owner, and how many files came with it. Never empty: at least one of text, links
/// or files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryContent {
    text: Option<MultiLine>,
    urls: Vec<String>,
    note: Option<MultiLine>,
    files: usize,
}

impl DeliveryContent {
    /// Checks a delivery: `text` is multi-line text of at most
    /// [`DELIVERY_TEXT_MAX_CHARS`] (empty means none), `note` at most
    /// [`DELIVERY_NOTE_MAX_CHARS`], at most [`DELIVERY_MAX_URLS`] links that are each an
    /// absolute http(s) URL, and at least one of text, links or `files` (the number of
    /// uploaded files, which the caller has already stored).
    pub fn new(text: Option<&str>, urls: Vec<String>, note: Option<&str>, files: usize) -> Result<Self, DomainError> {
        let text = MultiLine::optional("text", text, DELIVERY_TEXT_MAX_CHARS)?;
        let note = MultiLine::optional("note", note, DELIVERY_NOTE_MAX_CHARS)?;
        if urls.len() > DELIVERY_MAX_URLS {
            return Err(DomainError::invalid(
                "urls",
                format!("at most {DELIVERY_MAX_URLS} links"),
            ));
        }
        if let Some(u) = urls.iter().find(|u| !is_link(u)) {
            return Err(DomainError::invalid("urls", format!("{u:?} is not an http(s) URL")));
        }
        if text.is_none() && urls.is_empty() && files == 0 {
            return Err(DomainError::invalid("delivery", "send text, urls or files"));
        }
        Ok(Self {
            text,
            urls,
            note,
            files,
        })
    }

    /// The delivery's text, trimmed; `None` when none was sent.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The links, as sent.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// The agent's note, trimmed; `None` when none was sent.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// How many files came with the delivery.
    pub fn files(&self) -> usize {
        self.files
    }

    /// Text, links and note as owned values, for storage.
    pub fn into_parts(self) -> (Option<String>, Vec<String>, Option<String>) {
        (
            self.text.map(MultiLine::into_string),
            self.urls,
            self.note.map(MultiLine::into_string),
        )
    }
}

/// An absolute http(s) URL without control or bidi characters ([`is_http_url`] alone
/// lets those through when they are not whitespace).
fn is_link(u: &str) -> bool {
    is_http_url(u) && !u.chars().any(|c| c.is_control() || is_bidi_control(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<DeliveryContent, DomainError>) -> (String, String) {
        match r {
            Err(DomainError::InvalidInput(e)) => (e.field, e.message),
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    fn urls(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("https://example.com/{i}")).collect()
    }

    #[test]
    fn accepts_any_one_of_text_urls_files() {
        let d = DeliveryContent::new(Some("  done \n"), vec![], None, 0).unwrap();
        assert_eq!(d.text(), Some("done"));
        assert_eq!(d.note(), None);
        let d = DeliveryContent::new(None, urls(1), Some(" see link "), 0).unwrap();
        assert_eq!(d.urls(), &urls(1)[..]);
        assert_eq!(d.note(), Some("see link"));
        let d = DeliveryContent::new(Some("   "), vec![], Some(""), 2).unwrap();
        assert_eq!((d.text(), d.note(), d.files()), (None, None, 2));
        let d = DeliveryContent::new(None, urls(20), None, 0).unwrap();
        assert_eq!(d.urls().len(), 20);
        let (t, u, n) = DeliveryContent::new(Some("t"), urls(1), Some("n"), 0)
            .unwrap()
            .into_parts();
        assert_eq!((t.as_deref(), u.len(), n.as_deref()), (Some("t"), 1, Some("n")));
    }

    #[test]
    fn refusals() {
        let long_text = "é".repeat(DELIVERY_TEXT_MAX_CHARS + 1);
        let long_note = "x".repeat(DELIVERY_NOTE_MAX_CHARS + 1);
        let table: Vec<(Result<DeliveryContent, DomainError>, &str, String)> = vec![
            (
                DeliveryContent::new(None, vec![], None, 0),
                "delivery",
                "send text, urls or files".into(),
            ),
            (
                DeliveryContent::new(Some(" \n "), vec![], Some("note only"), 0),
                "delivery",
                "send text, urls or files".into(),
            ),
            (
                DeliveryContent::new(Some(&long_text), vec![], None, 0),
                "text",
                "must be at most 100000 characters".into(),
            ),
            (
                DeliveryContent::new(Some("a\0b"), vec![], None, 0),
                "text",
                "must not contain NUL characters".into(),
            ),
            (
                DeliveryContent::new(Some("ok"), vec![], Some(&long_note), 0),
                "note",
                "must be at most 5000 characters".into(),
            ),
            (
                DeliveryContent::new(Some("ok"), vec![], Some("a\u{1b}b"), 0),
                "note",
                "must not contain control characters".into(),
            ),
            (
                DeliveryContent::new(None, urls(21), None, 0),
                "urls",
                "at most 20 links".into(),
            ),
            (
                DeliveryContent::new(None, vec!["ftp://example.com".into()], None, 0),
                "urls",
                "\"ftp://example.com\" is not an http(s) URL".into(),
            ),
            (
                DeliveryContent::new(None, vec!["https://exa mple.com".into()], None, 0),
                "urls",
                "\"https://exa mple.com\" is not an http(s) URL".into(),
            ),
        ];
        for (got, field, message) in table {
            assert_eq!(err(got), (field.to_owned(), message));
        }
        // Control and bidi characters are not whitespace, but still make a bad link.
        for u in [
            "https://example.com/\0",
            "https://example.com/\u{7}",
            "https://example.com/\u{202E}fdp.exe",
        ] {
            let got = DeliveryContent::new(None, vec![u.into()], None, 1);
            assert_eq!(err(got), ("urls".to_owned(), format!("{u:?} is not an http(s) URL")));
        }
    }
}
