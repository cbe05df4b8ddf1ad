//! The JSON entries of a data export, field by field (docs/API.md, "Data export"). They
//! are built from the store's export rows; other people appear by display name only.

use chrono::{DateTime, Utc};
use heepr_store::export::{
    AgentExport, DeliveryMeta, FileMeta, KeyUse, MessageExport, OfferExport, OrderExport, ReviewExport, SessionMeta,
    TransferExport,
};
use heepr_store::user::UserRecord;
use serde::Serialize;

/// `profile.json`.
#[derive(Serialize)]
pub(super) struct Profile<'a> {
    id: &'a str,
    email: &'a str,
    display_name: &'a str,
    created_at: DateTime<Utc>,
    exported_at: DateTime<Utc>,
}

impl<'a> Profile<'a> {
    pub(super) fn new(u: &'a UserRecord, now: DateTime<Utc>) -> Self {
        Self {
            id: u.id.as_str(),
            email: &u.email,
            display_name: &u.display_name,
            created_at: u.created_at,
            exported_at: now,
        }
    }
}

/// `consents.json`.
#[derive(Serialize)]
pub(super) struct Consents {
    terms_accepted_at: Option<DateTime<Utc>>,
    age_confirmed_at: Option<DateTime<Utc>>,
}

impl Consents {
    pub(super) fn new(u: &UserRecord) -> Self {
        Self {
            terms_accepted_at: u.consent.terms_accepted_at,
            age_confirmed_at: u.consent.age_confirmed_at,
        }
    }
}

/// One element of `sessions.json`.
#[derive(Serialize)]
pub(super) struct Session {
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl From<&SessionMeta> for Session {
    fn from(s: &SessionMeta) -> Self {
        Self {
            created_at: s.created_at,
            expires_at: s.expires_at,
        }
    }
}

/// One element of `api_keys.json`.
#[derive(Serialize)]
pub(super) struct ApiKey<'a> {
    agent_id: &'a str,
    agent_name: &'a str,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
}

impl<'a> From<&'a KeyUse> for ApiKey<'a> {
    fn from(k: &'a KeyUse) -> Self {
        Self {
            agent_id: &k.agent_id,
            agent_name: &k.agent_name,
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// One element of `agents.json`.
#[derive(Serialize)]
pub(super) struct Agent<'a> {
    id: &'a str,
    name: &'a str,
    status: &'a str,
    suspended: bool,
    settings: &'a serde_json::Value,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl<'a> From<&'a AgentExport> for Agent<'a> {
    fn from(a: &'a AgentExport) -> Self {
        Self {
            id: &a.id,
            name: &a.name,
            status: &a.status,
            suspended: a.suspended,
            settings: &a.settings,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// A stored file's metadata (in `files.json` and in deliveries).
#[derive(Serialize)]
pub(super) struct File<'a> {
    id: &'a str,
    order_id: &'a str,
    delivery_id: Option<&'a str>,
    name: &'a str,
    content_type: &'a str,
    bytes: i64,
    sha256: &'a str,
    created_at: DateTime<Utc>,
    /// Its path in this archive (`None` inside a delivery of an order as customer: a
    /// file the other party uploaded is not part of the export).
    #[serde(skip_serializing_if = "Option::is_none")]
    entry: Option<String>,
}

impl<'a> File<'a> {
    pub(super) fn new(f: &'a FileMeta, entry: Option<String>) -> Self {
        Self {
            id: &f.id,
            order_id: &f.order_id,
            delivery_id: f.delivery_id.as_deref(),
            name: &f.name,
            content_type: &f.content_type,
            bytes: f.bytes,
            sha256: &f.sha256,
            created_at: f.created_at,
            entry,
        }
    }
}

/// A delivery's metadata.
#[derive(Serialize)]
pub(super) struct Delivery<'a> {
    id: &'a str,
    seq: i32,
    created_at: DateTime<Utc>,
    links: usize,
    files: Vec<File<'a>>,
}

impl<'a> From<&'a DeliveryMeta> for Delivery<'a> {
    fn from(d: &'a DeliveryMeta) -> Self {
        Self {
            id: &d.id,
            seq: d.seq,
            created_at: d.created_at,
            links: d.urls,
            files: d.files.iter().map(|f| File::new(f, None)).collect(),
        }
    }
}

/// One element of `orders_as_customer.json` and `orders_as_owner.json`.
#[derive(Serialize)]
pub(super) struct Order<'a> {
    id: String,
    state: &'static str,
    agent_id: String,
    agent_name: &'a str,
    /// The owner's display name (as customer) or the customer's (as owner).
    counterparty: &'a str,
    gig: &'a str,
    tier: &'a str,
    category: &'a str,
    price: i64,
    fee_bps: u16,
    brief: Option<&'a str>,
    scope: Option<&'a str>,
    inputs: &'a serde_json::Value,
    revisions_included: u32,
    revisions_used: usize,
    deadline: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deliveries: Vec<Delivery<'a>>,
}

impl<'a> From<&'a OrderExport> for Order<'a> {
    fn from(e: &'a OrderExport) -> Self {
        let o = &e.order;
        Self {
            id: o.id.to_string(),
            state: o.state.as_str(),
            agent_id: o.agent.to_string(),
            agent_name: &e.agent_name,
            counterparty: &e.counterparty,
            gig: &o.work.gig_title,
            tier: &o.work.tier_name,
            category: &o.work.category,
            price: o.price.get(),
            fee_bps: o.fee_bps.get(),
            brief: o.work.brief.as_deref(),
            scope: o.work.scope.as_deref(),
            inputs: &o.work.inputs,
            revisions_included: o.revisions_included,
            revisions_used: o.revisions.len(),
            deadline: o.deadline,
            created_at: o.created_at,
            updated_at: o.updated_at,
            deliveries: e.deliveries.iter().map(Delivery::from).collect(),
        }
    }
}

/// One element of `messages.json`.
#[derive(Serialize)]
pub(super) struct Message<'a> {
    id: &'a str,
    thread_id: &'a str,
    order_id: Option<&'a str>,
    agent_id: &'a str,
    author_kind: &'a str,
    /// `you`, or the other author's display name (the agent's name for its assistant).
    author: &'a str,
    body: &'a str,
    created_at: DateTime<Utc>,
}

impl<'a> From<&'a MessageExport> for Message<'a> {
    fn from(m: &'a MessageExport) -> Self {
        Self {
            id: &m.id,
            thread_id: &m.thread_id,
            order_id: m.order_id.as_deref(),
            agent_id: &m.agent_id,
            author_kind: &m.author_kind,
            author: if m.mine {
                "you"
            } else {
                m.author_name.as_deref().unwrap_or("")
            },
            body: &m.body,
            created_at: m.created_at,
        }
    }
}

/// One element of `offers.json`.
#[derive(Serialize)]
pub(super) struct Offer<'a> {
    id: &'a str,
    thread_id: &'a str,
    agent_id: &'a str,
    gig_id: &'a str,
    tier: &'a str,
    price: i64,
    deadline: DateTime<Utc>,
    scope: &'a str,
    inputs: &'a serde_json::Value,
    expires_at: DateTime<Utc>,
    accepted_order_id: Option<&'a str>,
    created_at: DateTime<Utc>,
}

impl<'a> From<&'a OfferExport> for Offer<'a> {
    fn from(o: &'a OfferExport) -> Self {
        Self {
            id: &o.id,
            thread_id: &o.thread_id,
            agent_id: &o.agent_id,
            gig_id: &o.gig_id,
            tier: &o.tier,
            price: o.price,
            deadline: o.deadline,
            scope: &o.scope,
            inputs: &o.inputs,
            expires_at: o.expires_at,
            accepted_order_id: o.accepted_order_id.as_deref(),
            created_at: o.created_at,
        }
    }
}

/// One element of `reviews_written.json` and `reviews_received.json`.
#[derive(Serialize)]
pub(super) struct Review<'a> {
    id: &'a str,
    order_id: &'a str,
    agent_id: &'a str,
    agent_name: &'a str,
    /// The agent's owner (written) or the reviewer (received), by display name.
    counterparty: &'a str,
    stars: i32,
    body: Option<&'a str>,
    reply: Option<&'a str>,
    replied_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl<'a> From<&'a ReviewExport> for Review<'a> {
    fn from(r: &'a ReviewExport) -> Self {
        Self {
            id: &r.id,
            order_id: &r.order_id,
            agent_id: &r.agent_id,
            agent_name: &r.agent_name,
            counterparty: &r.counterparty,
            stars: r.stars,
            body: r.body.as_deref(),
            reply: r.reply.as_deref(),
            replied_at: r.replied_at,
            created_at: r.created_at,
        }
    }
}

/// One element of `ledger.json`.
#[derive(Serialize)]
pub(super) struct Transfer<'a> {
    seq: i64,
    id: &'a str,
    account: &'a str,
    amount: i64,
    kind: &'a str,
    other_account: &'a str,
    order_id: Option<&'a str>,
    created_at: DateTime<Utc>,
}

impl<'a> From<&'a TransferExport> for Transfer<'a> {
    fn from(t: &'a TransferExport) -> Self {
        Self {
            seq: t.seq,
            id: &t.id,
            account: &t.account,
            amount: t.amount,
            kind: &t.kind,
            other_account: &t.other,
            order_id: t.order_id.as_deref(),
            created_at: t.created_at,
        }
    }
}

/// One element of `manifest.json`'s `entries`.
#[derive(Serialize)]
pub(super) struct ManifestEntry {
    pub(super) path: String,
    pub(super) bytes: u64,
    pub(super) sha256: String,
}

/// `manifest.json`.
#[derive(Serialize)]
pub(super) struct Manifest<'a> {
    pub(super) format: &'static str,
    pub(super) user_id: &'a str,
    pub(super) exported_at: DateTime<Utc>,
    pub(super) entries: &'a [ManifestEntry],
}
