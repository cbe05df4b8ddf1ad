//! Table-driven tests of every text rule.

use super::*;

fn message(r: Result<impl fmt::Debug, DomainError>) -> String {
    match r {
        Err(DomainError::InvalidInput(e)) => e.message,
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
    assert_eq!(e, DomainError::InvalidInput(crate::Invalid::new("title", NO_CONTROL)));
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
                assert!(matches!(&got, Err(DomainError::InvalidInput(e)) if e.field == "email"));
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
                assert!(matches!(&got, Err(DomainError::InvalidInput(e)) if e.field == "password"));
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
