//! Validated text (SPEC §13, §16): one strict rule per kind of text, so every edge
//! refuses the same input with the same answer.
//!
//! - [`SingleLine`]: names, titles, reasons, subjects. No control characters at all and
//!   no Unicode bidirectional controls (they let a name display as something it is not).
//! - [`MultiLine`]: messages, briefs, delivery text, notes. Line breaks (`\n`, `\r\n`)
//!   and tabs are allowed; every other control character is refused.
//! - [`Email`]: a plausible address, trimmed and lowercased.
//! - [`Password`]: a new password, only ever handed to the hasher.
//!
//! Text is trimmed before it is checked, and lengths are counted in characters
//! (Unicode scalar values), not bytes, unless a rule says bytes. Every refusal is a
//! [`DomainError::InvalidInput`] naming the field.

use crate::DomainError;
use crate::limits::{EMAIL_LOCAL_MAX_BYTES, EMAIL_MAX_BYTES, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use serde::Serialize;
use std::fmt;
use std::ops::Deref;

const REQUIRED: &str = "is required";
const NO_NUL: &str = "must not contain NUL characters";
const NO_CONTROL: &str = "must not contain control characters";
const NO_BIDI: &str = "must not contain bidirectional control characters";

/// Unicode bidirectional controls: embeddings and overrides (U+202A–U+202E), isolates
/// (U+2066–U+2069) and the marks (U+200E, U+200F, U+061C).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn too_long(field: &'static str, max_chars: usize) -> DomainError {
    DomainError::invalid(field, format!("must be at most {max_chars} characters"))
}

/// Single-line rules on already trimmed text: NUL, then control characters (C0
/// including `\n`, `\r`, `\t`; DEL; C1), then bidi controls.
fn check_single_line(field: &'static str, s: &str) -> Result<(), DomainError> {
    if s.contains('\0') {
        return Err(DomainError::invalid(field, NO_NUL));
    }
    if s.chars().any(char::is_control) {
        return Err(DomainError::invalid(field, NO_CONTROL));
    }
    if s.chars().any(is_bidi_control) {
        return Err(DomainError::invalid(field, NO_BIDI));
    }
    Ok(())
}

/// Multi-line rules on already trimmed text: NUL, then any control character other
/// than `\t`, `\n` and a `\r` that starts a `\r\n`.
fn check_multi_line(field: &'static str, s: &str) -> Result<(), DomainError> {
    if s.contains('\0') {
        return Err(DomainError::invalid(field, NO_NUL));
    }
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let allowed = match c {
            '\t' | '\n' => true,
            '\r' => chars.peek() == Some(&'\n'),
            c => !c.is_control(),
        };
        if !allowed {
            return Err(DomainError::invalid(field, NO_CONTROL));
        }
    }
    Ok(())
}

fn check_len(field: &'static str, s: &str, max_chars: usize) -> Result<(), DomainError> {
    // A string of at most `max_chars` bytes has at most that many chars: skip counting.
    if s.len() > max_chars && s.chars().count() > max_chars {
        return Err(too_long(field, max_chars));
    }
    Ok(())
}

/// Shared surface of the string newtypes: read access, display, plain-string JSON.
macro_rules! text_type {
    ($name:ident) => {
        impl $name {
            /// The text, trimmed and checked.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The text as an owned `String` (for storage).
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(t: $name) -> String {
                t.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

/// One line of text (names, titles, reasons, subjects): trimmed, free of NUL, control
/// characters and bidi controls, at most a caller-given number of characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SingleLine(String);

text_type!(SingleLine);

impl SingleLine {
    /// Trims `raw` and checks it; the empty string is accepted (see
    /// [`SingleLine::required`] and [`SingleLine::optional`] for the other answers).
    pub fn parse(field: &'static str, raw: &str, max_chars: usize) -> Result<Self, DomainError> {
        let s = raw.trim();
        check_single_line(field, s)?;
        check_len(field, s, max_chars)?;
        Ok(Self(s.to_owned()))
    }

    /// Like [`SingleLine::parse`], but empty or whitespace-only text is refused with
    /// "is required".
    pub fn required(field: &'static str, raw: &str, max_chars: usize) -> Result<Self, DomainError> {
        let t = Self::parse(field, raw, max_chars)?;
        if t.0.is_empty() {
            return Err(DomainError::invalid(field, REQUIRED));
        }
        Ok(t)
    }

    /// Like [`SingleLine::parse`], but absent, empty or whitespace-only text is `None`.
    pub fn optional(field: &'static str, raw: Option<&str>, max_chars: usize) -> Result<Option<Self>, DomainError> {
        match raw {
            None => Ok(None),
            Some(r) => Self::parse(field, r, max_chars).map(|t| (!t.0.is_empty()).then_some(t)),
        }
    }
}

/// Free text over several lines (messages, briefs, delivery text, notes): trimmed,
/// `\n`, `\r\n` and `\t` allowed, NUL and every other control character refused, at
/// most a caller-given number of characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct MultiLine(String);

text_type!(MultiLine);

impl MultiLine {
    /// Trims `raw` and checks it; the empty string is accepted (see
    /// [`MultiLine::required`] and [`MultiLine::optional`] for the other answers).
    pub fn parse(field: &'static str, raw: &str, max_chars: usize) -> Result<Self, DomainError> {
        let s = raw.trim();
        check_multi_line(field, s)?;
        check_len(field, s, max_chars)?;
        Ok(Self(s.to_owned()))
    }

    /// Like [`MultiLine::parse`], but empty or whitespace-only text is refused with
    /// "is required".
    pub fn required(field: &'static str, raw: &str, max_chars: usize) -> Result<Self, DomainError> {
        let t = Self::parse(field, raw, max_chars)?;
        if t.0.is_empty() {
            return Err(DomainError::invalid(field, REQUIRED));
        }
        Ok(t)
    }

    /// Like [`MultiLine::parse`], but absent, empty or whitespace-only text is `None`.
    pub fn optional(field: &'static str, raw: Option<&str>, max_chars: usize) -> Result<Option<Self>, DomainError> {
        match raw {
            None => Ok(None),
            Some(r) => Self::parse(field, r, max_chars).map(|t| (!t.0.is_empty()).then_some(t)),
        }
    }
}

/// An email address as heepr stores and compares it: trimmed, lowercased, one line,
/// at most 254 bytes, `local@domain` with a local part of at most 64 bytes and a
/// dotted domain without empty labels. Deliberately plausible rather than RFC 5322
/// complete: no quoted local parts, no IP-literal domains, no whitespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

text_type!(Email);

impl Email {
    /// The field name every refusal carries.
    pub const FIELD: &'static str = "email";

    /// Trims, lowercases and checks `raw`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        const F: &str = Email::FIELD;
        let e = raw.trim().to_lowercase();
        if e.is_empty() {
            return Err(DomainError::invalid(F, REQUIRED));
        }
        check_single_line(F, &e)?;
        if e.chars().any(char::is_whitespace) {
            return Err(DomainError::invalid(F, "must not contain spaces"));
        }
        if e.len() > EMAIL_MAX_BYTES {
            return Err(DomainError::invalid(
                F,
                format!("must be at most {EMAIL_MAX_BYTES} bytes"),
            ));
        }
        let Some((local, domain)) = e.split_once('@') else {
            return Err(DomainError::invalid(F, "must contain an @"));
        };
        if domain.contains('@') {
            return Err(DomainError::invalid(F, "must contain exactly one @"));
        }
        if local.is_empty() {
            return Err(DomainError::invalid(F, "needs a name before the @"));
        }
        if local.len() > EMAIL_LOCAL_MAX_BYTES {
            return Err(DomainError::invalid(
                F,
                format!("the part before the @ must be at most {EMAIL_LOCAL_MAX_BYTES} bytes"),
            ));
        }
        if !domain.contains('.') {
            return Err(DomainError::invalid(F, "the domain must contain a dot"));
        }
        if domain.split('.').any(str::is_empty) {
            return Err(DomainError::invalid(F, "the domain must not have empty labels"));
        }
        Ok(Self(e))
    }

    /// The part before the `@` (the default display name of a new account).
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or(self.0.as_str(), |(l, _)| l)
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, d)| d)
    }
}

/// A new password, checked before hashing: 8 to 256 characters, no NUL; anything
/// else goes (it is never displayed). Not trimmed: spaces count. It has no `Display`
/// or `Serialize`, and `Debug` prints `Password(***)`, so it cannot leak into logs or
/// answers by accident.
///
/// Use it where a password is *set* (signup, change, reset, admin create). Sign-in
/// should compare whatever was sent, so accounts made under older rules still work.
pub struct Password(String);

impl Password {
    /// The field name every refusal carries.
    pub const FIELD: &'static str = "password";

    /// Checks `raw` as a new password.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        const F: &str = Password::FIELD;
        if raw.is_empty() {
            return Err(DomainError::invalid(F, REQUIRED));
        }
        if raw.contains('\0') {
            return Err(DomainError::invalid(F, NO_NUL));
        }
        let n = raw.chars().count();
        if n < PASSWORD_MIN_CHARS {
            return Err(DomainError::invalid(
                F,
                format!("must be at least {PASSWORD_MIN_CHARS} characters"),
            ));
        }
        if n > PASSWORD_MAX_CHARS {
            return Err(too_long(F, PASSWORD_MAX_CHARS));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The plaintext, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<impl fmt::Debug, DomainError>) -> String {
        match r {
            Err(DomainError::InvalidInput { message, .. }) => message,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn single_line_table() {
        // (input, max, Ok(value) or Err(message))
        let cases: &[(&str, usize, Result<&str, &str>)] = &[
            ("  Ada  ", 10, Ok("Ada")),
            ("\tAda\n", 10, Ok("Ada")),
            ("", 10, Ok("")),
            ("a\0b", 10, Err(NO_NUL)),
            ("a\nb", 10, Err(NO_CONTROL)),
            ("a\rb", 10, Err(NO_CONTROL)),
            ("a\tb", 10, Err(NO_CONTROL)),
            ("a\u{7f}b", 10, Err(NO_CONTROL)),
            ("a\u{1b}[31mb", 10, Err(NO_CONTROL)),
            ("a\u{85}b", 10, Err(NO_CONTROL)),
            ("a\u{9f}b", 10, Err(NO_CONTROL)),
            ("a\u{202E}b", 10, Err(NO_BIDI)),
            ("a\u{202A}b", 10, Err(NO_BIDI)),
            ("a\u{2066}b", 10, Err(NO_BIDI)),
            ("a\u{2069}b", 10, Err(NO_BIDI)),
            ("a\u{200E}b", 10, Err(NO_BIDI)),
            ("a\u{200F}b", 10, Err(NO_BIDI)),
            ("a\u{061C}b", 10, Err(NO_BIDI)),
            // Counted in chars: five two-byte chars fit in five.
            ("ééééé", 5, Ok("ééééé")),
            ("éééééé", 5, Err("must be at most 5 characters")),
            // Counted after trimming.
            ("   abcde   ", 5, Ok("abcde")),
            ("日本語", 3, Ok("日本語")),
            ("日本語x", 3, Err("must be at most 3 characters")),
        ];
        for (raw, max, want) in cases {
            let got = SingleLine::parse("name", raw, *max);
            match want {
                Ok(v) => assert_eq!(got.as_ref().map(SingleLine::as_str), Ok(*v), "{raw:?}"),
                Err(m) => assert_eq!(message(got), *m, "{raw:?}"),
            }
        }
    }

    #[test]
    fn required_and_optional() {
        assert_eq!(message(SingleLine::required("name", "   ", 10)), REQUIRED);
        assert_eq!(message(MultiLine::required("brief", "\n\t ", 10)), REQUIRED);
        assert_eq!(SingleLine::optional("name", None, 10), Ok(None));
        assert_eq!(SingleLine::optional("name", Some("  "), 10), Ok(None));
        assert_eq!(
            SingleLine::optional("name", Some(" x "), 10).unwrap().unwrap().as_str(),
            "x"
        );
        assert_eq!(MultiLine::optional("note", Some(""), 10), Ok(None));
        assert_eq!(message(MultiLine::optional("note", Some("a\0"), 10)), NO_NUL);
        let e = SingleLine::required("title", "x\ny", 10).unwrap_err();
        assert_eq!(
            e,
            DomainError::InvalidInput {
                field: "title",
                message: NO_CONTROL.into()
            }
        );
    }

    #[test]
    fn multi_line_table() {
        let cases: &[(&str, usize, Result<&str, &str>)] = &[
            ("line 1\nline 2", 100, Ok("line 1\nline 2")),
            ("line 1\r\nline 2", 100, Ok("line 1\r\nline 2")),
            ("a\tb", 100, Ok("a\tb")),
            ("\n\n  text \n\n", 100, Ok("text")),
            ("a\0b", 100, Err(NO_NUL)),
            ("a\rb", 100, Err(NO_CONTROL)),
            ("a\u{7}b", 100, Err(NO_CONTROL)),
            ("a\u{7f}b", 100, Err(NO_CONTROL)),
            ("a\u{1b}[2Jb", 100, Err(NO_CONTROL)),
            ("a\u{85}b", 100, Err(NO_CONTROL)),
            ("a\u{b}b", 100, Err(NO_CONTROL)),
            ("a\u{c}b", 100, Err(NO_CONTROL)),
            // Right-to-left text keeps its marks in free text.
            ("a\u{200F}b", 100, Ok("a\u{200F}b")),
            ("ééé\nééé", 7, Ok("ééé\nééé")),
            ("ééé\néééé", 7, Err("must be at most 7 characters")),
        ];
        for (raw, max, want) in cases {
            let got = MultiLine::parse("message", raw, *max);
            match want {
                Ok(v) => assert_eq!(got.as_ref().map(MultiLine::as_str), Ok(*v), "{raw:?}"),
                Err(m) => assert_eq!(message(got), *m, "{raw:?}"),
            }
        }
    }

    #[test]
    fn email_table() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let ok_local = format!("{}@example.com", "a".repeat(64));
        let long = format!("{}@{}.com", "a".repeat(60), "b".repeat(190));
        let cases: Vec<(&str, Result<&str, &str>)> = vec![
            ("  Ada@Example.COM ", Ok("ada@example.com")),
            ("a.b+tag@mail.example.org", Ok("a.b+tag@mail.example.org")),
            (&ok_local, Ok(ok_local.as_str())),
            ("", Err(REQUIRED)),
            ("   ", Err(REQUIRED)),
            ("ada", Err("must contain an @")),
            ("a@b@example.com", Err("must contain exactly one @")),
            ("@example.com", Err("needs a name before the @")),
            ("ada@localhost", Err("the domain must contain a dot")),
            ("ada@.example.com", Err("the domain must not have empty labels")),
            ("ada@example.com.", Err("the domain must not have empty labels")),
            ("ada@example..com", Err("the domain must not have empty labels")),
            ("ada lovelace@example.com", Err("must not contain spaces")),
            ("ada@exa\u{a0}mple.com", Err("must not contain spaces")),
            ("ada\0@example.com", Err(NO_NUL)),
            ("ada\n@example.com", Err(NO_CONTROL)),
            ("ada@example.com\u{7f}", Err(NO_CONTROL)),
            ("ada\u{202E}moc.elpmaxe@x.com", Err(NO_BIDI)),
            ("ada@\u{2066}example.com", Err(NO_BIDI)),
            (&long_local, Err("the part before the @ must be at most 64 bytes")),
            (&long, Err("must be at most 254 bytes")),
        ];
        for (raw, want) in cases {
            let got = Email::parse(raw);
            match want {
                Ok(v) => assert_eq!(got.as_ref().map(Email::as_str), Ok(v), "{raw:?}"),
                Err(m) => {
                    assert!(matches!(&got, Err(DomainError::InvalidInput { field: "email", .. })));
                    assert_eq!(message(got), m, "{raw:?}");
                }
            }
        }
    }

    #[test]
    fn email_helpers_and_serde() {
        let e = Email::parse("Grace.Hopper@Navy.MIL").unwrap();
        assert_eq!(e.local_part(), "grace.hopper");
        assert_eq!(e.domain(), "navy.mil");
        assert_eq!(e.to_string(), "grace.hopper@navy.mil");
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"grace.hopper@navy.mil\"");
        let n = SingleLine::parse("name", " Ada ", 10).unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"Ada\"");
        assert_eq!(&*n, "Ada");
        assert_eq!(n.len(), 3);
        assert_eq!(String::from(n), "Ada");
    }

    #[test]
    fn password_table() {
        let max = "é".repeat(256);
        let over = "é".repeat(257);
        let cases: Vec<(&str, Result<(), &str>)> = vec![
            ("12345678", Ok(())),
            ("  spaced  ", Ok(())),
            ("tab\tand\nnewline", Ok(())),
            (&max, Ok(())),
            ("", Err(REQUIRED)),
            ("1234567", Err("must be at least 8 characters")),
            // Seven chars but fourteen bytes: still too short.
            ("ééééééé", Err("must be at least 8 characters")),
            (&over, Err("must be at most 256 characters")),
            ("1234\x005678", Err(NO_NUL)),
        ];
        for (raw, want) in cases {
            let got = Password::parse(raw);
            match want {
                Ok(()) => assert_eq!(got.unwrap().expose(), raw),
                Err(m) => {
                    assert!(matches!(&got, Err(DomainError::InvalidInput { field: "password", .. })));
                    assert_eq!(message(got), m, "{raw:?}");
                }
            }
        }
    }

    #[test]
    fn password_debug_hides_the_secret() {
        let p = Password::parse("hunter2hunter2").unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
        assert_eq!(format!("{:?}", Some(&p)), "Some(Password(***))");
    }
}
