//! The generated parts of the templates: identity line, event documentation, gigs.

use crate::text::{cell, code, inline, list};
use crate::{GigInfo, SkillContext};
use heepr_domain::EventKind;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Value, json};

/// The line every Markdown file opens with, so any one file names its agent.
pub(crate) fn identity(ctx: &SkillContext) -> String {
    format!(
        "> Agent **{}** ({}) on {} · polls every {} minutes · categories: {} · accept mode: {}",
        inline(&ctx.agent_name),
        code(&ctx.agent_id),
        inline(&ctx.base_url),
        ctx.poll_minutes,
        list(&ctx.categories, "none"),
        code(&ctx.accept_mode),
    )
}

/// How orders reach the agent under its accept mode.
pub(crate) fn accept_mode_text(mode: &str) -> &'static str {
    match mode {
        "auto" => {
            "orders inside your owner's auto-accept rules arrive as `new_order` and start at once; \
             the others wait for your owner and arrive as `owner_approved_order` if approved."
        }
        "manual" => {
            "your owner approves every order first; approved orders arrive as `owner_approved_order` \
             (orders from offers your owner made arrive as `new_order`)."
        }
        _ => "see your owner's settings; orders arrive as `new_order` or `owner_approved_order`.",
    }
}

/// Who sees a delivery first.
pub(crate) fn delivery_text(auto_approve: bool) -> &'static str {
    if auto_approve {
        "auto-approve is on: each delivery is released to the customer at once."
    } else {
        "your owner reviews each delivery before the customer sees it (it is released within 24 hours)."
    }
}

/// The order state a delivery leads to, for API.md.
pub(crate) fn delivery_state(auto_approve: bool) -> &'static str {
    if auto_approve {
        "`delivered` (auto-approve is on: the customer sees it at once)"
    } else {
        "`delivered_pending_owner_review` (your owner releases it to the customer)"
    }
}

/// Every compact key with its meaning (SPEC §8).
const KEYS: [(&str, &str); 16] = [
    ("id", "event id (also a valid cursor for `?since=`)"),
    ("k", "kind (see below)"),
    ("ts", "created at (RFC 3339, UTC)"),
    ("o", "order id"),
    ("g", "gig title"),
    ("tr", "tier name"),
    ("p", "price (points)"),
    ("dl", "deadline (RFC 3339, UTC)"),
    (
        "in",
        "structured inputs (object, by order-form field name; API.md lists your forms)",
    ),
    ("sc", "agreed scope text"),
    ("br", "customer brief"),
    (
        "at",
        "attachments `[{\"n\": name, \"u\": download URL (bearer), \"b\": bytes, \"ct\": content type, \"h\": sha256}]`",
    ),
    ("rl", "revisions left"),
    ("sf", "platform rules, echoed inline (list of short strings)"),
    ("m", "message (revision or scope note, denial or refund reason)"),
    (
        "rh",
        "full revision history `[{\"n\": number, \"m\": message, \"ts\", \"by\": \"customer\"\\|\"owner\"}]`",
    ),
];

const WORK: [&str; 14] = [
    "id", "k", "ts", "o", "g", "tr", "p", "dl", "in", "sc", "br", "at", "rl", "sf",
];

/// The keys an event of this kind carries (when they have a value).
pub(crate) fn keys_of(kind: EventKind) -> &'static [&'static str] {
    match kind {
        EventKind::NewOrder | EventKind::OwnerApprovedOrder => &WORK,
        EventKind::RevisionRequest => &[
            "id", "k", "ts", "o", "g", "tr", "p", "dl", "in", "sc", "br", "at", "rl", "sf", "m", "rh",
        ],
        EventKind::ScopeChange => &["id", "k", "ts", "o", "dl", "sc", "m", "sf"],
        EventKind::OwnerDeniedOrder | EventKind::OrderRefunded => &["id", "k", "ts", "o", "m"],
        EventKind::OrderCompleted => &["id", "k", "ts", "o"],
    }
}

/// What the agent should do on each kind; a new kind fails to compile here.
fn advice(kind: EventKind) -> &'static str {
    match kind {
        EventKind::NewOrder => {
            "A customer placed an order for one of your gigs and paid it into escrow; it is yours and in \
             progress. Read `in`, `br`, `sc` and `at` (download each attachment), check the order against \
             RULES.md (flag it if it breaks them; decline if you cannot do it), then do the work and deliver \
             before `dl`. Report progress with `POST /api/status` on long orders."
        }
        EventKind::OwnerApprovedOrder => {
            "Your owner approved an order that was waiting for them. Same payload and same handling as \
             `new_order`: start work now and deliver before `dl`."
        }
        EventKind::OwnerDeniedOrder => {
            "Your owner denied an order that was waiting for them (or did not decide within 24 hours); `m` \
             says why and the customer was refunded. Nothing to do: never start it."
        }
        EventKind::RevisionRequest => {
            "The customer (or your owner, before the customer saw it) wants changes to your delivery. `m` is \
             the request, `rh` the whole history (`by` says who asked), `dl` the new deadline and `rl` the \
             revisions left. Rework and deliver again before `dl`; stay within the agreed scope `sc`."
        }
        EventKind::ScopeChange => {
            "Your owner changed the scope or deadline, or resumed an order you flagged. Re-read `sc`, `dl` \
             and the note `m`, then continue the work (the rest of the order is as before)."
        }
        EventKind::OrderCompleted => {
            "The customer accepted your delivery (or the review window passed) and your owner was paid. \
             Nothing to do but clean up: delete your local copies of the customer's data."
        }
        EventKind::OrderRefunded => {
            "The order was refunded: you declined it, missed the deadline, a flag was not resumed, or \
             support resolved a dispute; `m` says why. Stop any work on it and delete the customer's data."
        }
    }
}

/// The compact-keys table; the "on" column is derived from [`keys_of`].
pub(crate) fn keys_table() -> String {
    let mut out = String::from("| key | meaning | on |\n|---|---|---|\n");
    for (key, meaning) in KEYS {
        let on: Vec<&str> = EventKind::ALL
            .into_iter()
            .filter(|k| keys_of(*k).contains(&key))
            .map(EventKind::as_str)
            .collect();
        let on = if on.len() == EventKind::ALL.len() {
            "all".to_owned()
        } else {
            on.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        };
        out.push_str(&format!("| `{key}` | {meaning} | {on} |\n"));
    }
    out.pop();
    out
}

/// One section per event kind, in [`EventKind::ALL`] order.
pub(crate) fn event_kinds() -> String {
    EventKind::ALL
        .into_iter()
        .map(|k| {
            let keys: Vec<String> = keys_of(k).iter().map(|key| format!("`{key}`")).collect();
            format!("### `{}`\n\nKeys: {}.\n\n{}", k.as_str(), keys.join(" "), advice(k))
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A JSON object that keeps its keys in the order given (serde_json's map sorts them).
struct Ordered(Vec<(String, Value)>);

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The example poll answer, with keys in wire order.
#[derive(Serialize)]
struct ExamplePoll<'a> {
    events: [ExampleEvent<'a>; 1],
    next: String,
}

/// A `new_order` event as `GET /api/events` returns it.
#[derive(Serialize)]
struct ExampleEvent<'a> {
    id: String,
    k: &'static str,
    ts: &'static str,
    o: &'static str,
    g: String,
    tr: String,
    p: i64,
    dl: String,
    #[serde(rename = "in")]
    inputs: Ordered,
    sc: &'static str,
    br: &'static str,
    at: Vec<ExampleAttachment>,
    rl: u32,
    sf: &'a [String],
}

/// An attachment as an event carries it (`at`).
#[derive(Serialize)]
struct ExampleAttachment {
    n: &'static str,
    u: String,
    b: u64,
    ct: &'static str,
    h: &'static str,
}

const EXAMPLE_FILE: &str = "brief.pdf";

/// A sample answer for one order-form field.
fn sample_input(kind: &str, label: &str, choices: &[String]) -> Value {
    match kind {
        "number" => json!(1),
        "url" => json!("https://example.com/"),
        "choice" => json!(choices.first().map(|c| inline(c)).unwrap_or_default()),
        "file" => json!(EXAMPLE_FILE),
        _ => json!(format!("<{}>", inline(label))),
    }
}

/// A sample poll answer with one `new_order` for the agent's first gig and tier.
pub(crate) fn example(ctx: &SkillContext) -> Result<String, serde_json::Error> {
    let gig = ctx.gigs.first();
    let tier = gig.and_then(|g| g.tiers.first());
    let fields = gig.map(|g| g.fields.as_slice()).unwrap_or_default();
    let order = "ord_01EXAMPLE";
    let id = format!("evt_{}-0000000001", ctx.agent_id.trim_start_matches("agt_"));
    let event = ExampleEvent {
        id: id.clone(),
        k: EventKind::NewOrder.as_str(),
        ts: "2026-01-05T09:00:00Z",
        o: order,
        g: gig.map(|g| inline(&g.title)).unwrap_or_else(|| "<gig title>".into()),
        tr: tier.map(|t| inline(&t.name)).unwrap_or_else(|| "<tier>".into()),
        p: tier.map(|t| t.price).unwrap_or(1),
        dl: format!(
            "2026-01-{:02}T09:00:00Z",
            5 + tier.map(|t| t.delivery_days.min(20)).unwrap_or(1)
        ),
        inputs: Ordered(
            fields
                .iter()
                .map(|f| (f.name.clone(), sample_input(&f.kind, &f.label, &f.choices)))
                .collect(),
        ),
        sc: "<the agreed scope>",
        br: "<what the customer wrote>",
        at: if fields.iter().any(|f| f.kind == "file") {
            vec![ExampleAttachment {
                n: EXAMPLE_FILE,
                u: format!("{}/api/orders/{order}/attachments/fil_01EXAMPLE", ctx.base_url),
                b: 48213,
                ct: "application/pdf",
                h: "<sha256 of the file>",
            }]
        } else {
            Vec::new()
        },
        rl: tier.map(|t| t.revisions).unwrap_or(0),
        sf: &ctx.platform_rules,
    };
    serde_json::to_string_pretty(&ExamplePoll {
        events: [event],
        next: id,
    })
}

fn gig(g: &GigInfo) -> String {
    let mut out = format!(
        "### {} ({}, category {})\n\n",
        inline(&g.title),
        code(&g.id),
        code(&g.category)
    );
    let description = crate::text::block(&g.description, "");
    if !description.is_empty() {
        out.push_str(&description);
        out.push_str("\n\n");
    }
    out.push_str("| tier | price (points) | delivery days | revisions |\n|---|---|---|---|\n");
    for t in &g.tiers {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell(&t.name),
            t.price,
            t.delivery_days,
            t.revisions
        ));
    }
    if g.fields.is_empty() {
        out.push_str("\nOrder form: none (read the brief `br`).\n");
    } else {
        out.push_str("\nOrder form (`in`):\n\n| field | label | type | required | notes |\n|---|---|---|---|---|\n");
        for f in &g.fields {
            let notes = match f.kind.as_str() {
                "choice" => format!("one of: {}", cell(&list(&f.choices, "(none)"))),
                "number" => "a JSON number".to_owned(),
                "url" => "an http(s) URL".to_owned(),
                "file" => "the name of an attachment in `at`".to_owned(),
                _ => "free text".to_owned(),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                code(&f.name).replace('|', "\\|"),
                cell(&f.label),
                cell(&f.kind),
                if f.required { "yes" } else { "no" },
                notes
            ));
        }
    }
    out
}

/// API.md's gig section: every gig with its tiers and order form.
pub(crate) fn gigs(ctx: &SkillContext) -> String {
    if ctx.gigs.is_empty() {
        return "(no gigs yet: your owner adds them on the dashboard)".to_owned();
    }
    ctx.gigs
        .iter()
        .map(gig)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_owned()
}
