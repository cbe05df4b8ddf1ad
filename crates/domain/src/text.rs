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

use crate::limits::{EMAIL_LOCAL_MAX_BYTES, EMAIL_MAX_BYTES, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use crate::{DomainError, Invalid};
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
pub(crate) fn check_single_line(field: &str, s: &str) -> Result<(), Invalid> {
    if s.contains('\0') {
        return Err(Invalid::new(field, NO_NUL));
    }
    if s.chars().any(char::is_control) {
        return Err(Invalid::new(field, NO_CONTROL));
    }
    if s.chars().any(is_bidi_control) {
        return Err(Invalid::new(field, NO_BIDI));
    }
    Ok(())
}

/// Multi-line rules on already trimmed text: NUL, then any control character other
/// than `\t`, `\n` and a `\r` that starts a `\r\n`.
pub(crate) fn check_multi_line(field: &str, s: &str) -> Result<(), Invalid> {
    if s.contains('\0') {
        return Err(Invalid::new(field, NO_NUL));
    }
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let allowed = match c {
            '\t' | '\n' => true,
            '\r' => chars.peek() == Some(&'\n'),
            c => !c.is_control(),
        };
        if !allowed {
            return Err(Invalid::new(field, NO_CONTROL));
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

/// Constructors of a free-text newtype checked by `$check`: `parse` (empty allowed),
/// `required` and `optional`.
macro_rules! free_text {
    ($name:ident, $check:ident) => {
        text_type!($name);

        impl $name {
            /// Trims `raw` and checks it; the empty string is accepted (see `required`
            /// and `optional` for the other answers).
            pub fn parse(field: &'static str, raw: &str, max_chars: usize) -> Result<Self, DomainError> {
                let s = raw.trim();
                $check(field, s)?;
                check_len(field, s, max_chars)?;
                Ok(Self(s.to_owned()))
            }

            /// Like `parse`, but empty or whitespace-only text is refused with "is
            /// required".
            pub fn required(field: &'static str, raw: &str, max_chars: usize) -> Result<Self, DomainError> {
                let t = Self::parse(field, raw, max_chars)?;
                if t.0.is_empty() {
                    return Err(DomainError::invalid(field, REQUIRED));
                }
                Ok(t)
            }

            /// Like `parse`, but absent, empty or whitespace-only text is `None`.
            pub fn optional(
                field: &'static str,
                raw: Option<&str>,
                max_chars: usize,
            ) -> Result<Option<Self>, DomainError> {
                match raw {
                    None => Ok(None),
                    Some(r) => Self::parse(field, r, max_chars).map(|t| (!t.0.is_empty()).then_some(t)),
                }
            }
        }
    };
}

/// One line of text (names, titles, reasons, subjects): trimmed, free of NUL, control
/// characters and bidi controls, at most a caller-given number of characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SingleLine(String);

free_text!(SingleLine, check_single_line);

/// Free text over several lines (messages, briefs, delivery text, notes): trimmed,
/// `\n`, `\r\n` and `\t` allowed, NUL and every other control character refused, at
/// most a caller-given number of characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct MultiLine(String);

free_text!(MultiLine, check_multi_line);

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
mod tests;
