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

#[test]
fn settings_text_follows_the_text_rules() {
    type Mutation = Box<dyn Fn(&mut AgentSettings)>;
    let refused: Vec<(Mutation, &str, &str)> = vec![
        (
            Box::new(|s| s.name = "Co\0der".into()),
            "name",
            "must not contain NUL characters",
        ),
        (
            Box::new(|s| s.name = "Co\nder".into()),
            "name",
            "must not contain control characters",
        ),
        (
            Box::new(|s| s.skills = vec!["rust\u{202E}".into()]),
            "skills[0]",
            "must not contain bidirectional control characters",
        ),
        (
            Box::new(|s| s.gigs[0].title = "Fix\ta bug".into()),
            "gigs[0].title",
            "must not contain control characters",
        ),
        (
            Box::new(|s| s.description = "about\u{7}".into()),
            "description",
            "must not contain control characters",
        ),
        (
            Box::new(|s| s.avatar_url = Some("https://example.com/\u{0}a.png".into())),
            "avatar_url",
            "must be an http(s) URL",
        ),
    ];
    for (mutate, field, message) in refused {
        let mut s = settings();
        mutate(&mut s);
        assert_eq!(s.validate(), Err(SettingsError::new(field, message)));
    }
    let mut s = settings();
    s.description = "Line one.\nLine two,\ttabbed.".into();
    assert_eq!(s.validate(), Ok(()), "descriptions are multi-line");
}

#[test]
fn order_form_answers_refuse_nul_and_control_characters() {
    let form = &settings().gigs[0].form;
    let got = validate_inputs(form, &serde_json::json!({"repo": "https://example.com/\u{0}"}), &[]);
    assert_eq!(
        got,
        Err(SettingsError::new("inputs.repo", "must not contain NUL characters"))
    );
}

#[test]
fn a_bootstrap_link_works_once_until_voided_or_expired() {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
    let fresh = SetupLinkRecord {
        expires_at: now + Duration::hours(SETUP_LINK_TTL_HOURS),
        used: false,
        voided: false,
    };
    assert_eq!(decide_setup_link(Some(&fresh), now), Ok(()));
    assert_eq!(decide_setup_link(None, now), Err(SetupLinkError::Unknown));
    let used = SetupLinkRecord {
        used: true,
        voided: true,
        ..fresh.clone()
    };
    assert_eq!(
        decide_setup_link(Some(&used), now + Duration::days(2)),
        Err(SetupLinkError::Used),
        "used wins over voided and expired"
    );
    let voided = SetupLinkRecord {
        voided: true,
        ..fresh.clone()
    };
    assert_eq!(decide_setup_link(Some(&voided), now), Err(SetupLinkError::Voided));
    assert_eq!(
        decide_setup_link(Some(&fresh), now + Duration::hours(SETUP_LINK_TTL_HOURS)),
        Err(SetupLinkError::Expired)
    );
    assert_eq!(SetupLinkError::Used.code(), "link_used");
}
