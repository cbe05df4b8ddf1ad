//! What the package says as a whole: its size, that nothing is said twice, and that its
//! shell blocks are commands a runtime can run as written.

use super::{content, ctx};
use crate::*;

fn field(name: &str, label: &str, kind: &str, required: bool, choices: &[&str]) -> FieldInfo {
    FieldInfo {
        name: name.into(),
        label: label.into(),
        kind: kind.into(),
        required,
        choices: choices.iter().map(|c| c.to_string()).collect(),
    }
}

fn tiers(t: [(&str, i64, u32, u32); 3]) -> Vec<TierInfo> {
    t.map(|(name, price, delivery_days, revisions)| TierInfo {
        name: name.into(),
        price,
        delivery_days,
        revisions,
    })
    .into()
}

/// A realistic agent at the issue's bound: three gigs, each with three tiers and an order
/// form of three or four fields, owner text of ordinary length, the server's default rules.
pub(crate) fn three_gigs() -> SkillContext {
    let mut c = ctx();
    c.agent_name = "Rusty the Reliable".into();
    c.description = "Senior Rust engineer for hire: I fix bugs, speed up hot paths and review \
                     pull requests in async Rust (tokio, actix, axum), with a test for every change.\n\n\
                     I answer within the hour and keep every change small and reviewable."
        .into();
    c.skills = ["rust", "tokio", "actix-web", "diesel", "profiling", "code review"]
        .map(String::from)
        .into();
    c.platform_rules = heepr_domain::Policy::default().platform_rules;
    let gig = |id: &str, title: &str, description: &str, fields, tiers| GigInfo {
        id: id.into(),
        title: title.into(),
        category: "code".into(),
        description: description.into(),
        fields,
        tiers,
    };
    c.gigs = vec![
        gig(
            "gig_01HZX3K4M5N6P7Q8R9S0T1V2W3",
            "Fix a bug in your Rust project",
            "One reproducible bug, fixed with a regression test and a short explanation of the cause.",
            vec![
                field("repo", "Repository URL", "url", true, &[]),
                field("edition", "Rust edition", "choice", true, &["2018", "2021", "2024"]),
                field("crates", "Crates involved", "number", false, &[]),
                field("log", "Failing test output", "file", false, &[]),
            ],
            tiers([("Basic", 25, 3, 1), ("Standard", 60, 2, 2), ("Premium", 150, 1, 5)]),
        ),
        gig(
            "gig_01HZX3K4M5N6P7Q8R9S0T1V2W4",
            "Make a hot path faster",
            "Profile one slow endpoint or function, then cut its latency; before and after numbers included.",
            vec![
                field("repo", "Repository URL", "url", true, &[]),
                field("target", "Target p99 latency (ms)", "number", true, &[]),
                field("profile", "A profile, if you have one", "file", false, &[]),
            ],
            tiers([
                ("Quick look", 40, 2, 1),
                ("Tuning", 120, 5, 2),
                ("Deep dive", 300, 10, 3),
            ]),
        ),
        gig(
            "gig_01HZX3K4M5N6P7Q8R9S0T1V2W5",
            "Review a pull request",
            "A line-by-line review of one pull request up to 1 000 lines: correctness, safety, style.",
            vec![
                field("pr", "Pull request URL", "url", true, &[]),
                field(
                    "focus",
                    "What matters most",
                    "choice",
                    false,
                    &["correctness", "performance", "style"],
                ),
                field("notes", "Anything the reviewer should know", "text", false, &[]),
            ],
            tiers([("Small", 20, 1, 0), ("Medium", 45, 2, 1), ("Large", 90, 3, 1)]),
        ),
    ];
    c
}

#[test]
fn the_package_of_an_agent_with_three_gigs_stays_small() {
    let p = render(&three_gigs()).unwrap();
    let sizes: Vec<(&str, u64)> = p.files.iter().map(|f| (f.name, f.bytes)).collect();
    let total: u64 = sizes.iter().map(|(_, b)| b).sum();
    let skill = p.file("SKILL.md").unwrap().bytes;
    println!("sizes: {sizes:?}, total {total}");
    assert!(skill <= 5_000, "SKILL.md is {skill} bytes: {sizes:?}");
    assert!(total <= 12_000, "the package is {total} bytes: {sizes:?}");
}

/// The prose of a Markdown file: outside front matter and fenced blocks, without the
/// identity line every file carries (SPEC §6), split into sentences (table cells and list
/// items end one too), normalised to lower-case words.
fn sentences(md: &str, identity: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, out: &mut Vec<String>| {
        let words: Vec<String> = current
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
            .filter(|w| !w.is_empty())
            .collect();
        if words.len() >= 4 {
            out.push(words.join(" "));
        }
        current.clear();
    };
    let body = md
        .strip_prefix("---\n")
        .map_or(md, |rest| rest.split_once("\n---\n").map_or(rest, |(_, b)| b));
    let mut in_code = false;
    for line in body.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            flush(&mut current, &mut out);
            continue;
        }
        if in_code || identity.iter().any(|i| i == line) {
            continue;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("- ") || line.starts_with('|') {
            flush(&mut current, &mut out);
        }
        let line = line.trim_start_matches("- ").replace('|', ". ");
        let mut rest = line.as_str();
        while let Some(at) = rest.find(['.', '!', '?', ';']) {
            let (head, tail) = rest.split_at(at + 1);
            current.push(' ');
            current.push_str(head);
            if tail.is_empty() || tail.starts_with(' ') {
                flush(&mut current, &mut out);
            }
            rest = tail;
        }
        current.push(' ');
        current.push_str(rest);
    }
    flush(&mut current, &mut out);
    out
}

#[test]
fn nothing_is_said_twice() {
    for c in [ctx(), three_gigs()] {
        let p = render(&c).unwrap();
        let identity = [sections::identity(&c), sections::identity_short(&c)];
        let mut seen: std::collections::HashMap<String, &str> = Default::default();
        for name in ["SKILL.md", "HEARTBEAT_EVENTS.md", "RULES.md", "API.md"] {
            for s in sentences(content(&p, name), &identity) {
                if let Some(first) = seen.insert(s.clone(), name) {
                    panic!("said twice ({first}, {name}): {s:?}");
                }
            }
        }
        assert!(
            seen.len() > 80,
            "the splitter found the prose ({} sentences)",
            seen.len()
        );
    }
}

#[test]
fn the_sentence_counter_sees_repeats() {
    let md = "# T\n\n> id line\n\nOne fact is here. Another fact is there;\nit wraps over lines.\n\n\
              - One fact is here.\n\n| a | One fact is here |\n\n```sh\necho One fact is here.\n```\n";
    let s = sentences(md, &["> id line".to_owned()]);
    assert_eq!(
        s,
        [
            "one fact is here",
            "another fact is there",
            "it wraps over lines",
            "one fact is here",
            "one fact is here"
        ]
    );
}

/// The fenced `sh` blocks of a file.
pub(crate) fn shell_blocks(md: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = md;
    while let Some(start) = rest.find("```sh\n") {
        let body = &rest[start + 6..];
        let end = body.find("\n```").unwrap();
        blocks.push(body[..end].to_owned());
        rest = &body[end + 4..];
    }
    blocks
}

#[test]
fn every_shell_block_is_valid_bash_and_skill_md_has_no_placeholders() {
    let p = render(&three_gigs()).unwrap();
    for name in ["SKILL.md", "HEARTBEAT_EVENTS.md", "RULES.md", "API.md"] {
        for block in shell_blocks(content(&p, name)) {
            let out = std::process::Command::new("bash")
                .args(["-n", "-c", &block])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{name}: {block}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            if name == "SKILL.md" {
                assert!(
                    !block.contains(" <") && !block.contains('…'),
                    "runs as written: {block}"
                );
            }
        }
    }
    assert_eq!(
        shell_blocks(content(&p, "SKILL.md")).len(),
        4,
        "key check, register, re-read, tick"
    );
}

#[test]
fn every_post_example_carries_an_idempotency_key_from_the_event() {
    let p = render(&three_gigs()).unwrap();
    let mut posts = 0;
    for name in ["SKILL.md", "HEARTBEAT_EVENTS.md", "RULES.md", "API.md"] {
        for block in shell_blocks(content(&p, name)) {
            for command in block.replace("\\\n", " ").lines() {
                if !command.contains("-X POST") || command.contains("/api/agent/register") {
                    continue;
                }
                posts += 1;
                assert!(command.contains("-H \"Idempotency-Key: $E:"), "{name}: {command}");
            }
        }
    }
    assert_eq!(posts, 4, "deliver, decline, flag, progress");
}
