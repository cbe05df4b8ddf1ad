//! What an export read returns: one struct per kind of row, other people by name only.

use crate::schema::files;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::Order;

/// Rows per page of an export read.
pub const EXPORT_PAGE: i64 = 200;

pub(super) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// A session's metadata (never its token or hash).
#[derive(Debug, Clone)]
pub struct SessionMeta {
    /// Started at.
    pub created_at: DateTime<Utc>,
    /// Ends at.
    pub expires_at: DateTime<Utc>,
}

/// When one of the user's agents' API keys was issued, last used and ended.
#[derive(Debug, Clone)]
pub struct KeyUse {
    /// The agent.
    pub agent_id: String,
    /// Its name.
    pub agent_name: String,
    /// Issued at.
    pub created_at: DateTime<Utc>,
    /// Expires at (`None`: no expiry).
    pub expires_at: Option<DateTime<Utc>>,
    /// Revoked at.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The agent's last authenticated call (any of its keys).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// One of the user's agents with its settings.
#[derive(Debug, Clone)]
pub struct AgentExport {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `active`, `paused`, `retired`, …
    pub status: String,
    /// Suspended by support.
    pub suspended: bool,
    /// The settings document as stored (profile, gigs, acceptance rules).
    pub settings: serde_json::Value,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

/// A delivery's metadata (not its text).
#[derive(Debug, Clone)]
pub struct DeliveryMeta {
    /// Id.
    pub id: String,
    /// 1, 2, … per order.
    pub seq: i32,
    /// Delivered at.
    pub created_at: DateTime<Utc>,
    /// How many links it carried.
    pub urls: usize,
    /// Its files.
    pub files: Vec<FileMeta>,
}

/// A stored file's metadata.
#[derive(Debug, Clone)]
pub struct FileMeta {
    /// Id.
    pub id: String,
    /// The order it belongs to.
    pub order_id: String,
    /// The delivery it came with (`None`: a brief attachment).
    pub delivery_id: Option<String>,
    /// The uploaded name.
    pub name: String,
    /// Declared type.
    pub content_type: String,
    /// Size.
    pub bytes: i64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Where the blob store keeps it (not exported).
    pub storage_key: String,
    /// Uploaded at.
    pub created_at: DateTime<Utc>,
}

/// An order on one side, with the names of the other side.
#[derive(Debug, Clone)]
pub struct OrderExport {
    /// The order.
    pub order: Order,
    /// The agent's name.
    pub agent_name: String,
    /// The other party's display name (the owner for a customer, the customer for an
    /// owner).
    pub counterparty: String,
    /// Its deliveries, in order.
    pub deliveries: Vec<DeliveryMeta>,
}

/// A message in one of the user's threads.
#[derive(Debug, Clone)]
pub struct MessageExport {
    /// Id.
    pub id: String,
    /// The thread.
    pub thread_id: String,
    /// The order the thread belongs to, if any.
    pub order_id: Option<String>,
    /// The thread's agent.
    pub agent_id: String,
    /// `customer`, `owner`, `assistant`, `support`.
    pub author_kind: String,
    /// Written by the exporting user.
    pub mine: bool,
    /// The author's display name (another person, or the agent for the assistant).
    pub author_name: Option<String>,
    /// Text.
    pub body: String,
    /// Posted at.
    pub created_at: DateTime<Utc>,
}

/// An offer in one of the user's threads.
#[derive(Debug, Clone)]
pub struct OfferExport {
    /// Id.
    pub id: String,
    /// The thread.
    pub thread_id: String,
    /// The offering agent.
    pub agent_id: String,
    /// The gig and tier offered.
    pub gig_id: String,
    /// The tier's name.
    pub tier: String,
    /// Points.
    pub price: i64,
    /// Work deadline.
    pub deadline: DateTime<Utc>,
    /// What the offer covers.
    pub scope: String,
    /// Order-form answers (JSON).
    pub inputs: serde_json::Value,
    /// Open until.
    pub expires_at: DateTime<Utc>,
    /// The order it became.
    pub accepted_order_id: Option<String>,
    /// Made at.
    pub created_at: DateTime<Utc>,
}

/// A review written by the user or received by one of their agents.
#[derive(Debug, Clone)]
pub struct ReviewExport {
    /// Id.
    pub id: String,
    /// The reviewed order.
    pub order_id: String,
    /// The agent.
    pub agent_id: String,
    /// Its name.
    pub agent_name: String,
    /// The other party's display name (the reviewer of a received review, the agent's
    /// owner of a written one).
    pub counterparty: String,
    /// 1–5.
    pub stars: i32,
    /// Text.
    pub body: Option<String>,
    /// The owner's reply.
    pub reply: Option<String>,
    /// Replied at.
    pub replied_at: Option<DateTime<Utc>>,
    /// Written at.
    pub created_at: DateTime<Utc>,
}

/// One ledger transfer touching one of the user's wallets.
#[derive(Debug, Clone)]
pub struct TransferExport {
    /// Ledger order.
    pub seq: i64,
    /// Id.
    pub id: String,
    /// The user's account it touches (`wallet:…`, `agent:…`).
    pub account: String,
    /// Points; positive into `account`, negative out of it.
    pub amount: i64,
    /// What it was (`order_escrow`, `signup_bonus`, …).
    pub kind: String,
    /// The other account, named only if it is not another person's wallet.
    pub other: String,
    /// The order it belongs to.
    pub order_id: Option<String>,
    /// Booked at.
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = files)]
pub(super) struct FileRow {
    pub(super) id: String,
    order_id: String,
    delivery_id: Option<String>,
    name: String,
    content_type: String,
    bytes: i64,
    sha256: String,
    storage_key: String,
    created_at: NaiveDateTime,
}

impl From<FileRow> for FileMeta {
    fn from(f: FileRow) -> Self {
        Self {
            id: f.id,
            order_id: f.order_id,
            delivery_id: f.delivery_id,
            name: f.name,
            content_type: f.content_type,
            bytes: f.bytes,
            sha256: f.sha256,
            storage_key: f.storage_key,
            created_at: utc(f.created_at),
        }
    }
}
