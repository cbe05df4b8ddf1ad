use super::*;
use heepr_domain::EventKind;
use std::io::Read;

mod prose;

pub(crate) fn ctx() -> SkillContext {
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

pub(crate) fn content<'a>(p: &'a Package, name: &str) -> &'a str {
    &p.file(name).unwrap().content
}

/// The files of a zip, by name.
fn unzip(zip: Vec<u8>) -> Vec<(String, Vec<u8>, Option<u32>)> {
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            (f.name().unwrap().to_string(), bytes, f.unix_mode())
        })
        .collect()
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
    assert_eq!(json["version"], 2);
    assert_eq!(json["content_hash"], p.content_hash.as_str());
    assert_eq!(json["agent_id"], "agt_01TEST");
    assert_eq!(json["poll_minutes"], 20);
    let how = json["content_hash_of"].as_str().unwrap();
    assert!(
        how.contains(r#""<name>\n<sha256>\n""#) && how.contains("sorted by name"),
        "{how}"
    );
    assert!(how.contains(TOKEN_FILE), "says the token file is not listed");
    let files = json["files"].as_array().unwrap();
    let names: Vec<&str> = files.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["API.md", "HEARTBEAT_EVENTS.md", "RULES.md", "SKILL.md"]);
    for f in files {
        let file = p.file(f["name"].as_str().unwrap()).unwrap();
        assert_eq!(f["sha256"], file.sha256.as_str());
        assert_eq!(f["bytes"], file.bytes);
    }
}

/// What a runtime checking integrity does with the unzipped Skill Setup: every file
/// skill.json lists hashes to its entry, and the content hash follows from them by the
/// rule skill.json states. The token is in its own private file, nowhere else.
#[test]
fn setup_zip_ships_every_listed_file_exactly_as_hashed_and_the_token_apart() {
    let p = render(&ctx()).unwrap();
    for token in [Some("bs_tok"), None] {
        let files = unzip(p.bundle_zip(token).unwrap());
        let mut names: Vec<&str> = files.iter().map(|(n, _, _)| n.as_str()).collect();
        names.sort();
        let mut want = vec![
            TOKEN_FILE,
            "API.md",
            "HEARTBEAT_EVENTS.md",
            "RULES.md",
            "SKILL.md",
            "skill.json",
        ];
        if token.is_none() {
            want.remove(0);
        }
        assert_eq!(names, want);
        let shipped = |name: &str| &files.iter().find(|(n, _, _)| n == name).unwrap().1;
        let json: serde_json::Value = serde_json::from_slice(shipped("skill.json")).unwrap();
        let mut lines = Vec::new();
        for f in json["files"].as_array().unwrap() {
            let name = f["name"].as_str().unwrap();
            let bytes = shipped(name);
            assert_eq!(f["sha256"], hex::encode(Sha256::digest(bytes)).as_str(), "{name}");
            assert_eq!(f["bytes"], bytes.len(), "{name}");
            lines.push(format!("{name}\n{}\n", f["sha256"].as_str().unwrap()));
        }
        lines.sort();
        assert_eq!(
            json["content_hash"],
            hex::encode(Sha256::digest(lines.concat().as_bytes())).as_str()
        );
        for (name, bytes, mode) in &files {
            let text = String::from_utf8(bytes.clone()).unwrap();
            if name == TOKEN_FILE {
                assert_eq!(text, "bs_tok");
                assert_eq!(mode.map(|m| m & 0o777), Some(0o600));
            } else {
                assert!(!text.contains("bs_tok"), "{name} carries no token");
                assert_eq!(mode.map(|m| m & 0o777), Some(0o644), "{name}");
            }
        }
    }
}

#[test]
fn every_event_kind_and_compact_key_is_documented() {
    let p = render(&ctx()).unwrap();
    let hb = content(&p, "HEARTBEAT_EVENTS.md");
    let carried = "Every event has `id k ts o`; `new_order` and `owner_approved_order` add `g tr p dl in sc br at \
                   rl sf`, `revision_request` those and `m rh`; `scope_change` adds `dl sc m sf`; \
                   `owner_denied_order` and `order_refunded` add `m`.";
    assert!(hb.contains(carried), "which keys each kind carries");
    for k in EventKind::ALL {
        assert!(hb.contains(&format!("\n- `{}`: ", k.as_str())), "{k} says what to do");
    }
    for key in [
        "id", "k", "ts", "o", "g", "tr", "p", "dl", "in", "sc", "br", "at", "rl", "sf", "m", "rh",
    ] {
        assert!(hb.contains(&format!("`{key}` ")), "{key} is explained");
    }
    for sub in [
        "`n` name",
        "`u` URL",
        "`b` bytes",
        "`ct` type",
        "`h` sha256",
        "`by` (`customer`|`owner`)",
    ] {
        assert!(hb.contains(sub), "{sub}");
    }
    for needle in [
        "your owner sets the cadence (1–60 minutes)",
        "exactly `{}`",
        "at most 100 events",
        "`next`",
        "at least\nonce",
        "`?wait=<1–60>` holds the answer until an event\nis committed",
        "`?since=<id>` repeats",
        "`since=0`",
        "`410 cursor_expired`",
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
fn api_md_shows_every_call_gigs_and_tiers() {
    let p = render(&ctx()).unwrap();
    let api = content(&p, "API.md");
    for needle in [
        "B=https://heepr.example/api; A=\"Authorization: Bearer $(cat .heepr-marketplace-key)\"",
        "curl -s -X POST $B/orders/$O/deliver -H \"$A\" -H \"Idempotency-Key: $E:deliver\" -H \"$J\" -d @delivery.json",
        "curl -s -X POST $B/orders/$O/decline -H \"$A\" -H \"Idempotency-Key: $E:decline\"",
        "curl -s -X POST $B/orders/$O/flag -H \"$A\" -H \"Idempotency-Key: $E:flag\"",
        "curl -s -X POST $B/status -H \"$A\" -H \"Idempotency-Key: $E:progress:50\"",
        "curl -s -f -o \"$N\" -H \"$A\" \"$U\"",
        "`GET /api/skill`",
        "`GET\n  /api/agents/agt_01TEST/skill/<file>`",
        "`422 idempotency_key_reused`",
        "`status:$(date +%s)`",
        "`-F files=@<path>`",
        "### Fix a bug\nOne bug, with a regression test.\nTiers: Basic 25/2/1 · Pro 60/1/3\n",
        "`repo` Repository URL (url, required)",
        "`edition` Rust edition (one of 2021, 2024)",
        "`log` Failing test output (file, named in `at`)",
        "`delivered_pending_owner_review`",
        "as skill.json defines it",
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
    assert!(description.contains("Rusty") && description.contains("https://heepr.example"));
    let mut at = 0;
    for step in [
        "## STEP 0",
        "## STEP 1",
        "## STEP 2",
        "## STEP 3",
        "## Doing the work",
        "## Start and stop",
    ] {
        let found = s[at..].find(step).unwrap_or_else(|| panic!("{step} in order"));
        at += found;
    }
    for needle in [
        "-H \"Authorization: Bearer $(cat .heepr-marketplace-key 2>/dev/null)\" https://heepr.example/api/skill",
        "curl -s -X POST https://heepr.example/api/agent/register",
        "-H \"Authorization: Bootstrap $(cat .heepr-bootstrap-token)\"",
        r#"-d '{"agent_id": "agt_01TEST"}'"#,
        "chmod 600 .heepr-marketplace-key",
        "bootstrap_unknown",
        "bootstrap_used",
        "bootstrap_expired",
        "active_key_exists",
        "B=https://heepr.example/api",
        "\"$B/events?wait=60\"",
        "https://heepr.example/api/events?since=$(cat .heepr-cursor 2>/dev/null || echo 0)",
        "for i in $(seq 20); do",
        "If-None-Match",
        "$B/agents/agt_01TEST/skill/$f",
        "Sends a regression test with every fix.",
        "Skills: rust, tokio.",
        "> Rusty · `agt_01TEST` · https://heepr.example · every 20 min · code, data · `auto`\n",
        // The precedence rule and the definition of "long".
        "latest revision message (`m`) wins over the order inputs (`in`",
        "and those over the gig description",
        "The scope is `sc`, else the gig description\n  and tier",
        "An order is long when `dl` is over 24 hours away",
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
        "graded work",
        "impersonation",
        "confidential",
        "delete your copies",
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
        assert!(f.content.contains("agt_01TEST"), "{} names the agent", f.name);
        if f.name != "skill.json" {
            assert!(
                f.content.contains("https://heepr.example"),
                "{} names the server",
                f.name
            );
        }
        assert!(!f.content.contains("{{"), "{} has an unfilled placeholder", f.name);
    }
    let full = "\n> Rusty · `agt_01TEST` · https://heepr.example · every 20 min · code, data · `auto`\n";
    assert!(content(&p, "SKILL.md").contains(full));
    for name in ["HEARTBEAT_EVENTS.md", "RULES.md", "API.md"] {
        assert!(
            content(&p, name).contains("\n> Rusty · `agt_01TEST` · https://heepr.example\n"),
            "{name}"
        );
    }
    assert!(content(&p, "skill.json").contains("\"poll_minutes\": 20,"));
}

#[test]
fn owner_text_cannot_inject_placeholders_or_break_lines() {
    let mut c = ctx();
    c.agent_name = "Evil {{base_url}}\nName".into();
    c.gigs[0].title = "A | B {{rules}}".into();
    c.gigs[0].tiers[0].name = "Ba\nsic".into();
    c.gigs[0].fields[0].name = "re`po".into();
    let p = render(&c).unwrap();
    let api = content(&p, "API.md");
    assert!(api.contains("\n> Evil {{base_url}} Name · "));
    assert!(api.contains("### A | B {{rules}}\n"));
    assert!(api.contains("Tiers: Ba sic 25/2/1"));
    assert!(api.contains("`re'po` Repository URL"));
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
    assert!(content(&p, "API.md").contains("now `delivered`;"));
    assert!(content(&p, "RULES.md").contains("- (none)"));
    assert!(content(&p, "SKILL.md").contains("for i in $(seq 1); do"));
    let hb = content(&p, "HEARTBEAT_EVENTS.md");
    let start = hb.find("```json\n").unwrap() + 8;
    let end = start + hb[start..].find("\n```").unwrap();
    serde_json::from_str::<serde_json::Value>(&hb[start..end]).unwrap();
}

#[test]
fn install_snippet_fetches_the_link_and_names_runtimes() {
    let s = install_snippet(&ctx(), "https://heepr.example/api/setup/bsl_abc");
    assert!(!s.contains('\n'));
    assert!(s.starts_with(
        "mkdir -p ~/heepr-agents/agt_01TEST && cd ~/heepr-agents/agt_01TEST && \
         curl -fsSL 'https://heepr.example/api/setup/bsl_abc' -o setup.zip && unzip -o setup.zip"
    ));
    for runtime in ["claude", "codex", "Cursor", "shell"] {
        assert!(s.contains(runtime), "{runtime}");
    }
    assert!(s.contains("SKILL.md"));
    assert!(
        !install_snippet(&ctx(), "x' && rm -rf / #").contains("x' &&"),
        "quotes stay closed"
    );
}

#[test]
fn package_file_names() {
    for name in PACKAGE_FILES {
        assert!(is_package_file(name));
    }
    assert!(!is_package_file("nope.md"));
    assert!(!is_package_file("../SKILL.md"));
    assert!(!is_package_file(TOKEN_FILE), "the token file is never served");
}
