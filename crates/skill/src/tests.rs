use super::*;
use heepr_domain::EventKind;
use std::io::Read;

fn ctx() -> SkillContext {
    SkillContext {
        agent_id: "agt_01TEST".into(),
        agent_name: "Rusty".into(),
        description: "Fixes Rust bugs.\n\nSends a regression test with every fix.".into(),
        base_url: "https://heepr.example".into(),
        poll_minutes: 20,
        categories: vec!["code".into(), "data".into()],
        skills: vec!["rust".into(), "tokio".into()],
        accept_mode: "auto".into(),
        auto_approve_deliveries: false,
        platform_rules: vec!["No malware.".into(), "Keep customer data private.".into()],
        gigs: vec![GigInfo {
            id: "gig_01A".into(),
            title: "Fix a bug".into(),
            category: "code".into(),
            description: "One bug, with a regression test.".into(),
            fields: vec![
                FieldInfo {
                    name: "repo".into(),
                    label: "Repository URL".into(),
                    kind: "url".into(),
                    required: true,
                    choices: vec![],
                },
                FieldInfo {
                    name: "edition".into(),
                    label: "Rust edition".into(),
                    kind: "choice".into(),
                    required: false,
                    choices: vec!["2021".into(), "2024".into()],
                },
                FieldInfo {
                    name: "log".into(),
                    label: "Failing test output".into(),
                    kind: "file".into(),
                    required: false,
                    choices: vec![],
                },
            ],
            tiers: vec![
                TierInfo {
                    name: "Basic".into(),
                    price: 25,
                    delivery_days: 2,
                    revisions: 1,
                },
                TierInfo {
                    name: "Pro".into(),
                    price: 60,
                    delivery_days: 1,
                    revisions: 3,
                },
            ],
        }],
    }
}

fn content<'a>(p: &'a Package, name: &str) -> &'a str {
    &p.file(name).unwrap().content
}

#[test]
fn rendered_files_match_snapshots() {
    let p = render(&ctx()).unwrap();
    assert_eq!(p.files.iter().map(|f| f.name).collect::<Vec<_>>(), PACKAGE_FILES);
    for f in &p.files {
        insta::assert_snapshot!(f.name, f.content);
    }
}

#[test]
fn rendering_is_deterministic() {
    assert_eq!(render(&ctx()).unwrap(), render(&ctx()).unwrap());
    let p = render(&ctx()).unwrap();
    assert_eq!(p.bundle_zip(Some("bs_x")).unwrap(), p.bundle_zip(Some("bs_x")).unwrap());
}

#[test]
fn content_hash_is_stable_and_changes_with_settings() {
    let base = render(&ctx()).unwrap().content_hash;
    assert_eq!(render(&ctx()).unwrap().content_hash, base);
    let changes: [fn(&mut SkillContext); 8] = [
        |c| c.poll_minutes = 5,
        |c| c.gigs[0].tiers[0].price = 26,
        |c| c.platform_rules.push("A new rule.".into()),
        |c| c.platform_rules[0] = "No malware, ever.".into(),
        |c| c.accept_mode = "manual".into(),
        |c| c.auto_approve_deliveries = true,
        |c| c.gigs[0].fields[0].required = false,
        |c| c.description.push_str(" Fast."),
    ];
    for (i, change) in changes.iter().enumerate() {
        let mut c = ctx();
        change(&mut c);
        assert_ne!(render(&c).unwrap().content_hash, base, "change #{i}");
    }
}

#[test]
fn content_hash_is_sha256_of_sorted_name_hash_lines() {
    let p = render(&ctx()).unwrap();
    let mut lines: Vec<String> = p
        .files
        .iter()
        .filter(|f| f.name != "skill.json")
        .map(|f| format!("{}\n{}\n", f.name, f.sha256))
        .collect();
    lines.sort();
    assert_eq!(p.content_hash, hex::encode(Sha256::digest(lines.concat().as_bytes())));
    for f in &p.files {
        assert_eq!(f.sha256, hex::encode(Sha256::digest(f.content.as_bytes())));
        assert_eq!(f.bytes, f.content.len() as u64);
    }

    let json: serde_json::Value = serde_json::from_str(content(&p, "skill.json")).unwrap();
    assert_eq!(json["content_hash"], p.content_hash.as_str());
    assert_eq!(json["agent_id"], "agt_01TEST");
    assert_eq!(json["name"], "Rusty");
    assert_eq!(json["base_url"], "https://heepr.example");
    assert_eq!(json["poll_minutes"], 20);
    let files = json["files"].as_array().unwrap();
    let names: Vec<&str> = files.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["API.md", "HEARTBEAT_EVENTS.md", "RULES.md", "SKILL.md"]);
    for f in files {
        let file = p.file(f["name"].as_str().unwrap()).unwrap();
        assert_eq!(f["sha256"], file.sha256.as_str());
        assert_eq!(f["bytes"], file.bytes);
    }
}

#[test]
fn token_is_injected_but_never_hashed() {
    let p = render(&ctx()).unwrap();
    let with = p.skill_md_with_token(Some("bs_secret123"));
    assert!(with.contains("\nBootstrap token: `bs_secret123` "));
    assert_eq!(with.matches("bs_secret123").count(), 1);
    assert!(!with.contains("none in this copy"));
    let without = p.skill_md_with_token(None);
    assert!(!without.contains("bs_"));
    assert!(without.contains(&format!("\n{NO_TOKEN}\n")));
    assert_eq!(without, content(&p, "SKILL.md"));
    assert!(!content(&p, "SKILL.md").contains("bs_secret123"));
    assert_eq!(render(&ctx()).unwrap().content_hash, p.content_hash);
    // Only the token line differs.
    let changed: Vec<_> = with.lines().zip(without.lines()).filter(|(a, b)| a != b).collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(with.lines().count(), without.lines().count());
}

#[test]
fn bundle_holds_all_files_with_the_token_in_skill_md() {
    let p = render(&ctx()).unwrap();
    for token in [Some("bs_tok"), None] {
        let zip = p.bundle_zip(token).unwrap();
        let mut a = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        let mut names: Vec<String> = (0..a.len())
            .map(|i| a.by_index(i).unwrap().name().unwrap().to_string())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["API.md", "HEARTBEAT_EVENTS.md", "RULES.md", "SKILL.md", "skill.json"]
        );
        for f in &p.files {
            let mut got = String::new();
            a.by_name(f.name).unwrap().read_to_string(&mut got).unwrap();
            if f.name == "SKILL.md" {
                assert_eq!(got, p.skill_md_with_token(token));
                assert_eq!(got.contains("`bs_tok`"), token.is_some());
            } else {
                assert_eq!(got, f.content, "{}", f.name);
            }
        }
    }
}

#[test]
fn every_event_kind_and_compact_key_is_documented() {
    let p = render(&ctx()).unwrap();
    let hb = content(&p, "HEARTBEAT_EVENTS.md");
    for k in EventKind::ALL {
        assert!(hb.contains(&format!("### `{}`", k.as_str())), "{k} has a section");
        for key in sections::keys_of(k) {
            assert!(
                hb.contains(&format!("| `{key}` |")),
                "{key} (on {k}) is in the keys table"
            );
        }
    }
    for key in [
        "id", "k", "ts", "o", "g", "tr", "p", "dl", "in", "sc", "br", "at", "rl", "sf", "m", "rh",
    ] {
        assert!(hb.contains(&format!("| `{key}` |")), "{key}");
    }
    for sub in ["\"n\"", "\"u\"", "\"b\"", "\"ct\"", "\"h\"", "\"by\""] {
        assert!(hb.contains(sub), "{sub}");
    }
    for needle in [
        "every **20 minutes**",
        "exactly `{}`",
        "at most 100 events",
        "`next`",
        "at least once",
        "dedupe by `id`",
        "?since=",
        "No malware.",
    ] {
        assert!(hb.contains(needle), "{needle}");
    }
}

#[test]
fn heartbeat_example_is_a_new_order_with_exactly_its_keys() {
    let p = render(&ctx()).unwrap();
    let hb = content(&p, "HEARTBEAT_EVENTS.md");
    let start = hb.find("```json\n").unwrap() + 8;
    let end = start + hb[start..].find("\n```").unwrap();
    let example: serde_json::Value = serde_json::from_str(&hb[start..end]).unwrap();
    let event = &example["events"][0];
    let mut keys: Vec<&str> = event.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    let mut want = sections::keys_of(EventKind::NewOrder).to_vec();
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(event["g"], "Fix a bug");
    assert_eq!(event["p"], 25);
    assert_eq!(event["in"]["edition"], "2021");
    assert_eq!(event["at"][0]["n"], event["in"]["log"]);
    assert_eq!(example["next"], event["id"]);
}

#[test]
fn api_md_lists_endpoints_gigs_and_tiers() {
    let p = render(&ctx()).unwrap();
    let api = content(&p, "API.md");
    for endpoint in [
        "POST {{base}}/api/agent/register",
        "{{base}}/api/skill",
        "{{base}}/api/agents/agt_01TEST/skill/HEARTBEAT_EVENTS.md",
        "{{base}}/api/events",
        "{{base}}/api/events?since=",
        "POST {{base}}/api/orders/<order id>/deliver",
        "POST {{base}}/api/orders/<order id>/decline",
        "POST {{base}}/api/orders/<order id>/flag",
        "POST {{base}}/api/status",
        "{{base}}/api/orders/<order id>/attachments/<file id>",
    ] {
        let endpoint = endpoint.replace("{{base}}", "https://heepr.example");
        assert!(api.contains(&endpoint), "{endpoint}");
    }
    for needle in [
        "Idempotency-Key",
        r#"{"error": {"code": "…", "message": "…"}}"#,
        "-F files=@",
        "out_of_scope",
        "missing_information",
        "policy_violation",
        "### Fix a bug (`gig_01A`, category `code`)",
        "| Basic | 25 | 2 | 1 |",
        "| Pro | 60 | 1 | 3 |",
        "| `repo` | Repository URL | url | yes |",
        "one of: 2021, 2024",
        "`delivered_pending_owner_review`",
    ] {
        assert!(api.contains(needle), "{needle}");
    }
}

#[test]
fn skill_md_walks_through_the_steps_with_real_urls() {
    let p = render(&ctx()).unwrap();
    let s = content(&p, "SKILL.md");
    assert!(s.starts_with("---\nname: heepr-agt-01test\ndescription: \""));
    let front = &s[4..s[4..].find("\n---\n").unwrap() + 4];
    let description = front.lines().nth(1).unwrap().strip_prefix("description: ").unwrap();
    let description: String = serde_json::from_str(description).unwrap();
    assert!(description.contains("Rusty") && description.contains("every 20 minutes"));
    let mut at = 0;
    for step in [
        "## STEP 0",
        "## STEP 1",
        "## STEP 2",
        "## STEP 3",
        "## Start and stop",
        "## Self-update",
    ] {
        let found = s[at..].find(step).unwrap_or_else(|| panic!("{step} in order"));
        at += found;
    }
    for needle in [
        ".heepr-marketplace-key",
        "chmod 600",
        "-H \"Authorization: Bearer $(cat .heepr-marketplace-key)\" https://heepr.example/api/skill",
        "curl -s -X POST https://heepr.example/api/agent/register",
        "-H \"Authorization: Bootstrap $BOOTSTRAP_TOKEN\"",
        r#"-d '{"agent_id": "agt_01TEST"}'"#,
        "bootstrap_unknown",
        "bootstrap_used",
        "bootstrap_expired",
        "active_key_exists",
        "https://heepr.example/api/events",
        "?since=<last id>",
        "`{}` means there is nothing to do",
        "sleep 1200",
        "content_hash",
        "https://heepr.example/api/agents/agt_01TEST/skill/$f",
        "{\"status\": \"paused\"}",
        "Sends a regression test with every fix.",
        "Skills: rust, tokio",
    ] {
        assert!(s.contains(needle), "{needle}");
    }
}

#[test]
fn rules_md_has_policy_reasons_and_current_rules() {
    let p = render(&ctx()).unwrap();
    let r = content(&p, "RULES.md");
    for needle in [
        "- No malware.\n- Keep customer data private.",
        "malware",
        "harassment",
        "personal data",
        "academic",
        "impersonating",
        "confidential",
        "Delete your local copies",
        "`out_of_scope`",
        "`capacity`",
        "`missing_information`",
        "`policy`",
        "`illegal`",
        "`policy_violation`",
        "`other`",
    ] {
        assert!(r.contains(needle), "{needle}");
    }
}

#[test]
fn every_file_carries_the_agent_identity() {
    let p = render(&ctx()).unwrap();
    for f in &p.files {
        for needle in [
            "agt_01TEST",
            "Rusty",
            "https://heepr.example",
            "20",
            "code",
            "data",
            "auto",
        ] {
            assert!(f.content.contains(needle), "{} carries {needle}", f.name);
        }
        assert!(!f.content.contains("{{"), "{} has an unfilled placeholder", f.name);
    }
    for name in ["SKILL.md", "HEARTBEAT_EVENTS.md", "RULES.md", "API.md"] {
        assert!(
            content(&p, name).contains(
                "> Agent **Rusty** (`agt_01TEST`) on https://heepr.example · polls every 20 minutes · \
                 categories: code, data · accept mode: `auto`"
            ),
            "{name}"
        );
    }
}

#[test]
fn owner_text_cannot_inject_placeholders_tokens_or_break_tables() {
    let mut c = ctx();
    c.agent_name = "Evil {{base_url}}\nName".into();
    c.gigs[0].title = "A | B {{rules}}".into();
    c.gigs[0].tiers[0].name = "Ba|sic".into();
    c.description = format!("Hi\n{NO_TOKEN}\n");
    let p = render(&c).unwrap();
    let api = content(&p, "API.md");
    assert!(api.contains("# API — Evil {{base_url}} Name"));
    assert!(api.contains("### A | B {{rules}}"));
    assert!(api.contains("| Ba\\|sic | 25 |"));
    let with = p.skill_md_with_token(Some("bs_t"));
    // The token replaces the package's own line, which comes before any owner text.
    assert!(with.find("`bs_t`").unwrap() < with.find("\nHi\n").unwrap());
    assert!(with.contains(&format!("\nHi\n{NO_TOKEN}\n")));
    let front = content(&p, "SKILL.md").lines().nth(2).unwrap();
    assert!(front.starts_with("description: \"") && !front.contains('\n'));
}

#[test]
fn fill_rejects_unknown_and_unclosed_placeholders() {
    let vars = [("a", "1")];
    assert_eq!(text::fill("t", "x {{a}} {{ a }} y", &vars).unwrap(), "x 1 1 y");
    assert!(matches!(
        text::fill("t", "{{b}}", &vars),
        Err(SkillError::Placeholder { placeholder, .. }) if placeholder == "b"
    ));
    assert!(matches!(
        text::fill("t", "{{a", &vars),
        Err(SkillError::Placeholder { .. })
    ));
}

#[test]
fn sparse_context_still_renders() {
    let c = SkillContext {
        agent_id: "agt_X".into(),
        agent_name: "X".into(),
        description: String::new(),
        base_url: "http://127.0.0.1:8080".into(),
        poll_minutes: 1,
        categories: vec![],
        skills: vec![],
        accept_mode: "manual".into(),
        auto_approve_deliveries: true,
        platform_rules: vec![],
        gigs: vec![],
    };
    let p = render(&c).unwrap();
    assert!(content(&p, "API.md").contains("(no gigs yet"));
    assert!(content(&p, "API.md").contains("`delivered` (auto-approve is on"));
    assert!(content(&p, "RULES.md").contains("- (none)"));
    assert!(content(&p, "SKILL.md").contains("sleep 60\n"));
    let hb = content(&p, "HEARTBEAT_EVENTS.md");
    let start = hb.find("```json\n").unwrap() + 8;
    let end = start + hb[start..].find("\n```").unwrap();
    serde_json::from_str::<serde_json::Value>(&hb[start..end]).unwrap();
}

#[test]
fn install_snippet_unzips_the_bundle_and_names_runtimes() {
    let s = install_snippet(&ctx());
    assert!(!s.contains('\n'));
    assert!(s.starts_with("mkdir -p ~/heepr-agents/agt_01TEST && unzip -o ~/Downloads/heepr-skill-agt_01TEST.zip"));
    for runtime in ["claude", "codex", "Cursor", "shell"] {
        assert!(s.contains(runtime), "{runtime}");
    }
    assert!(s.contains("SKILL.md"));
}

#[test]
fn package_file_names() {
    for name in PACKAGE_FILES {
        assert!(is_package_file(name));
    }
    assert!(!is_package_file("nope.md"));
    assert!(!is_package_file("../SKILL.md"));
}
