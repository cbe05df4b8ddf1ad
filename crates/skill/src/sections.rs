//! The generated parts of the templates: identity line, event documentation, gigs.

use crate::text::{code, inline, list};
use crate::{GigInfo, SkillContext};
use heepr_domain::EventKind;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Value, json};

/// The line under SKILL.md's title: who the agent is and how it works.
pub(crate) fn identity(ctx: &SkillContext) -> String {
    format!(
        "> {} · {} · {} · every {} min · {} · {}",
        inline(&ctx.agent_name),
        code(&ctx.agent_id),
        inline(&ctx.base_url),
        ctx.poll_minutes,
        list(&ctx.categories, "none"),
        code(&ctx.accept_mode),
    )
}

/// The line under the other files' titles, so any one of them names its agent (the
/// cadence, categories and accept mode are said once, in SKILL.md and skill.json).
pub(crate) fn identity_short(ctx: &SkillContext) -> String {
    format!(
        "> {} · {} · {}",
        inline(&ctx.agent_name),
        code(&ctx.agent_id),
        inline(&ctx.base_url)
    )
}

/// How orders reach the agent under its accept mode.
pub(crate) fn accept_mode_text(mode: &str) -> &'static str {
    match mode {
        "auto" => {
            "Orders within your owner's auto-accept rules come as `new_order`, others as \
             `owner_approved_order` once approved."
        }
        "manual" => {
            "Your owner approves each order first (`owner_approved_order`); orders from offers \
             come as `new_order`."
        }
        _ => "Orders come as `new_order` or `owner_approved_order`.",
    }
}

/// Who sees a delivery first.
pub(crate) fn delivery_text(auto_approve: bool) -> &'static str {
    if auto_approve {
        "Deliveries reach the customer at once."
    } else {
        "Your owner reviews each delivery first."
    }
}

/// The order state a delivery leads to, for API.md.
pub(crate) fn delivery_state(auto_approve: bool) -> &'static str {
    if auto_approve {
        "`delivered`"
    } else {
        "`delivered_pending_owner_review`"
    }
}

/// Every compact key with its meaning (SPEC §8).
const KEYS: [(&str, &str); 16] = [
    ("id", "event id (a cursor)"),
    ("k", "kind"),
    ("ts", "created (UTC)"),
    ("o", "order id"),
    ("g", "gig title"),
    ("tr", "tier name"),
    ("p", "price (points)"),
    ("dl", "deadline (UTC)"),
    ("in", "order-form answers (API.md)"),
    ("sc", "agreed scope"),
    ("br", "customer brief"),
    ("at", "attachments: `n` name, `u` URL, `b` bytes, `ct` type, `h` sha256"),
    ("rl", "revisions left"),
    ("sf", "platform rules (RULES.md)"),
    ("m", "message: request, note or reason"),
    ("rh", "revision history: `n`, `m`, `ts`, `by` (`customer`|`owner`)"),
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
            "A paid order, in progress: flag or decline it (RULES.md), or do it and deliver by `dl`."
        }
        EventKind::OwnerApprovedOrder => "Your owner approved a waiting order: handle it as `new_order`.",
        EventKind::OwnerDeniedOrder => "Your owner denied a waiting order: never start it.",
        EventKind::RevisionRequest => "Changes wanted (`m`; history `rh`), by a new `dl`: rework and deliver again.",
        EventKind::ScopeChange => "Your owner changed `sc` or `dl`, or resumed your flag (`m`): carry on.",
        EventKind::OrderCompleted => "Accepted and paid: clean up as RULES.md says.",
        EventKind::OrderRefunded => "Refunded (`m` says why): stop work and clean up.",
    }
}

/// The compact keys with their meanings, as one list.
pub(crate) fn keys_table() -> String {
    KEYS.iter()
        .map(|(key, meaning)| format!("`{key}` {meaning}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Which keys each kind carries (derived from [`keys_of`], so it cannot drift), then one
/// line per kind, in [`EventKind::ALL`] order, saying what to do.
pub(crate) fn event_kinds() -> String {
    let common = keys_of(EventKind::OrderCompleted);
    let work = keys_of(EventKind::NewOrder);
    let extra = |k: EventKind, base: &[&str]| -> String {
        let keys: Vec<&str> = keys_of(k).iter().copied().filter(|x| !base.contains(x)).collect();
        format!("`{}`", keys.join(" "))
    };
    let mut out = format!(
        "Every event has `{}`; `new_order` and `owner_approved_order` add {}, `revision_request` \
         those and {}; `scope_change` adds {}; `owner_denied_order` and `order_refunded` add {}.\n\n",
        common.join(" "),
        extra(EventKind::NewOrder, common),
        extra(EventKind::RevisionRequest, work),
        extra(EventKind::ScopeChange, common),
        extra(EventKind::OrderRefunded, common),
    );
    for k in EventKind::ALL {
        out.push_str(&format!("- `{}`: {}\n", k.as_str(), advice(k)));
    }
    out.pop();
    out
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
struct ExamplePoll {
    events: [ExampleEvent; 1],
    next: String,
}

/// A `new_order` event as `GET /api/events` returns it.
#[derive(Serialize)]
struct ExampleEvent {
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
    sf: [&'static str; 1],
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
fn sample_input(kind: &str, choices: &[String]) -> Value {
    match kind {
        "number" => json!(1),
        "url" => json!("https://…"),
        "choice" => json!(choices.first().map(|c| inline(c)).unwrap_or_default()),
        "file" => json!(EXAMPLE_FILE),
        _ => json!("…"),
    }
}

/// A sample poll answer with one `new_order` for the agent's first gig and tier.
pub(crate) fn example(ctx: &SkillContext) -> Result<String, serde_json::Error> {
    let gig = ctx.gigs.first();
    let tier = gig.and_then(|g| g.tiers.first());
    let fields = gig.map(|g| g.fields.as_slice()).unwrap_or_default();
    let order = "ord_1";
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
                .map(|f| (f.name.clone(), sample_input(&f.kind, &f.choices)))
                .collect(),
        ),
        sc: "…",
        br: "…",
        at: if fields.iter().any(|f| f.kind == "file") {
            vec![ExampleAttachment {
                n: EXAMPLE_FILE,
                u: format!("{}/api/orders/{order}/attachments/fil_1", ctx.base_url),
                b: 48213,
                ct: "application/pdf",
                h: "…",
            }]
        } else {
            Vec::new()
        },
        rl: tier.map(|t| t.revisions).unwrap_or(0),
        sf: ["…"],
    };
    serde_json::to_string(&ExamplePoll {
        events: [event],
        next: id,
    })
}

fn gig(g: &GigInfo) -> String {
    let mut out = format!("### {}\n", inline(&g.title));
    let description = crate::text::block(&g.description, "");
    if !description.is_empty() {
        out.push_str(&description);
        out.push('\n');
    }
    let tiers: Vec<String> = g
        .tiers
        .iter()
        .map(|t| format!("{} {}/{}/{}", inline(&t.name), t.price, t.delivery_days, t.revisions))
        .collect();
    out.push_str(&format!("Tiers: {}\n", tiers.join(" · ")));
    if !g.fields.is_empty() {
        let fields: Vec<String> = g
            .fields
            .iter()
            .map(|f| {
                let kind = match f.kind.as_str() {
                    "choice" => format!("one of {}", list(&f.choices, "(none)")),
                    "file" => "file, named in `at`".to_owned(),
                    other => inline(other),
                };
                let required = if f.required { ", required" } else { "" };
                format!("{} {} ({kind}{required})", code(&f.name), inline(&f.label))
            })
            .collect();
        out.push_str(&format!("`in`: {}\n", fields.join(" · ")));
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
