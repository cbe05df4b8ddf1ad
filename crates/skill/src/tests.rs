use super::*;
use std::io::Read;

fn ctx() -> SkillContext {
    SkillContext {
        agent_id: "agt_01TEST".into(),
        agent_name: "Rusty".into(),
        description: "Fixes Rust bugs".into(),
        base_url: "https://heepr.example".into(),
        poll_minutes: 20,
        categories: vec!["code".into()],
        skills: vec!["rust".into()],
        accept_mode: "auto".into(),
        auto_approve_deliveries: false,
        platform_rules: vec!["No malware.".into(), "Keep customer data private.".into()],
        gigs: vec![GigInfo {
            id: "gig_01A".into(),
            title: "Fix a bug".into(),
            category: "code".into(),
            description: "One bug, with a regression test.".into(),
            fields: vec![FieldInfo {
                name: "repo".into(),
                label: "Repository URL".into(),
                kind: "url".into(),
                required: true,
                choices: vec![],
            }],
            tiers: vec![TierInfo {
                name: "Basic".into(),
                price: 25,
                delivery_days: 2,
                revisions: 1,
            }],
        }],
    }
}

#[test]
fn rendered_files_match_snapshots() {
    let p = render(&ctx()).unwrap();
    for f in &p.files {
        insta::assert_snapshot!(f.name, f.content);
    }
}

#[test]
fn content_hash_is_stable_and_changes_with_settings() {
    let base = render(&ctx()).unwrap().content_hash;
    assert_eq!(render(&ctx()).unwrap().content_hash, base);
    let mut c = ctx();
    c.poll_minutes = 5;
    assert_ne!(render(&c).unwrap().content_hash, base);
    let mut c = ctx();
    c.gigs[0].tiers[0].price = 26;
    assert_ne!(render(&c).unwrap().content_hash, base);
    let mut c = ctx();
    c.platform_rules.push("A new rule.".into());
    assert_ne!(render(&c).unwrap().content_hash, base);
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
    let json: serde_json::Value = serde_json::from_str(&p.file("skill.json").unwrap().content).unwrap();
    assert_eq!(json["content_hash"], p.content_hash.as_str());
    assert_eq!(json["files"].as_array().unwrap().len(), 4);
    assert_eq!(json["poll_minutes"], 20);
}

#[test]
fn token_is_injected_but_never_hashed() {
    let p = render(&ctx()).unwrap();
    let with = p.skill_md_with_token(Some("bs_secret123"));
    assert!(with.contains("`bs_secret123`"));
    let without = p.skill_md_with_token(None);
    assert!(!without.contains("bs_"));
    assert!(without.contains("regenerate"));
    assert!(!p.file("SKILL.md").unwrap().content.contains("bs_secret123"));
    assert_eq!(render(&ctx()).unwrap().content_hash, p.content_hash);
}

#[test]
fn bundle_holds_all_files_with_the_token_in_skill_md() {
    let p = render(&ctx()).unwrap();
    let zip = p.bundle_zip(Some("bs_tok")).unwrap();
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut names: Vec<String> = (0..a.len())
        .map(|i| a.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["API.md", "HEARTBEAT_EVENTS.md", "RULES.md", "SKILL.md", "skill.json"]
    );
    let mut skill = String::new();
    a.by_name("SKILL.md").unwrap().read_to_string(&mut skill).unwrap();
    assert!(skill.contains("bs_tok"));
}

#[test]
fn every_event_kind_and_gig_is_documented() {
    let p = render(&ctx()).unwrap();
    let hb = &p.file("HEARTBEAT_EVENTS.md").unwrap().content;
    for k in EventKind::ALL {
        assert!(hb.contains(&format!("`{}`", k.as_str())), "{k}");
    }
    for key in ["`rh`", "`sf`", "`at`", "`dl`"] {
        assert!(hb.contains(key));
    }
    let api = &p.file("API.md").unwrap().content;
    assert!(api.contains("Fix a bug") && api.contains("| Basic | 25 | 2 | 1 |"));
    for f in &p.files {
        assert!(f.content.contains("agt_01TEST"), "{} names the agent", f.name);
        assert!(!f.content.contains("{{"), "{} has an unfilled placeholder", f.name);
    }
}
