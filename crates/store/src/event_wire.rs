//! Agent events on the wire (HEARTBEAT_EVENTS.md). The domain decides an event in its
//! own descriptive terms; this module writes it the way agents read it: compact keys,
//! attachments as download links, the kind and the instant in the body.
//!
//! Every struct declares its fields in sorted key order: the text is what the store
//! wrote when it serialized a `serde_json::Value` (whose maps sort their keys), and
//! agents — and the events already stored — must see the same bytes. The tests pin
//! them.

use crate::error::{Result, StoreError};
use chrono::{DateTime, SecondsFormat, Utc};
use heepr_domain::{AgentEvent, Attachment, OrderId, Points, RevisionBy, RevisionEntry};
use serde::Serialize;

/// Where the order's agent downloads one of the order's attachments (with its key).
pub(crate) fn attachment_url(base_url: &str, order: &OrderId, file_id: &str) -> String {
    format!("{base_url}/api/orders/{order}/attachments/{file_id}")
}

/// The stored text of an event about `order`, without its `id` (numbered when
/// written): a JSON object, attachments linked under `base_url`.
pub(crate) fn payload(ev: &AgentEvent, base_url: &str) -> Result<String> {
    serde_json::to_string(&EventWire::new(ev, base_url)).map_err(StoreError::corrupt)
}

/// One event's body, minus `id`.
#[derive(Debug, Serialize)]
struct EventWire<'a> {
    /// Attachments.
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<Vec<AttachmentWire<'a>>>,
    /// Brief.
    #[serde(skip_serializing_if = "Option::is_none")]
    br: Option<&'a str>,
    /// Deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    dl: Option<DateTime<Utc>>,
    /// Gig title.
    #[serde(skip_serializing_if = "Option::is_none")]
    g: Option<&'a str>,
    /// Order-form answers.
    #[serde(rename = "in", skip_serializing_if = "Option::is_none")]
    inputs: Option<&'a serde_json::Value>,
    /// Kind.
    k: &'static str,
    /// Message.
    #[serde(skip_serializing_if = "Option::is_none")]
    m: Option<&'a str>,
    /// Order.
    o: &'a OrderId,
    /// Price.
    #[serde(skip_serializing_if = "Option::is_none")]
    p: Option<Points>,
    /// Revision history.
    #[serde(skip_serializing_if = "Option::is_none")]
    rh: Option<Vec<RevisionWire<'a>>>,
    /// Revisions left.
    #[serde(skip_serializing_if = "Option::is_none")]
    rl: Option<u32>,
    /// Scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    sc: Option<&'a str>,
    /// Platform rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    sf: Option<&'a [String]>,
    /// Tier name.
    #[serde(skip_serializing_if = "Option::is_none")]
    tr: Option<&'a str>,
    /// When, to the microsecond.
    ts: String,
}

impl<'a> EventWire<'a> {
    fn new(ev: &'a AgentEvent, base_url: &str) -> Self {
        let b = &ev.body;
        Self {
            at: b.attachments.as_ref().map(|list| {
                list.iter()
                    .map(|a| AttachmentWire::new(a, &b.order, base_url))
                    .collect()
            }),
            br: b.brief.as_deref(),
            dl: b.deadline,
            g: b.gig_title.as_deref(),
            inputs: b.inputs.as_ref(),
            k: ev.kind.as_str(),
            m: b.message.as_deref(),
            o: &b.order,
            p: b.price,
            rh: b
                .revision_history
                .as_ref()
                .map(|list| list.iter().map(RevisionWire::from).collect()),
            rl: b.revisions_left,
            sc: b.scope.as_deref(),
            sf: b.platform_rules.as_deref(),
            tr: b.tier_name.as_deref(),
            ts: crate::micros(ev.at).to_rfc3339_opts(SecondsFormat::Micros, true),
        }
    }
}

/// An attachment (`at`): size, type, hash, name, download link.
#[derive(Debug, Serialize)]
struct AttachmentWire<'a> {
    b: u64,
    ct: &'a str,
    h: &'a str,
    n: &'a str,
    u: String,
}

impl<'a> AttachmentWire<'a> {
    fn new(a: &'a Attachment, order: &OrderId, base_url: &str) -> Self {
        Self {
            b: a.bytes,
            ct: &a.content_type,
            h: &a.sha256,
            n: &a.name,
            u: attachment_url(base_url, order, &a.file_id),
        }
    }
}

/// One revision round (`rh`).
#[derive(Debug, Serialize)]
struct RevisionWire<'a> {
    by: RevisionBy,
    m: &'a str,
    n: u32,
    ts: DateTime<Utc>,
}

impl<'a> From<&'a RevisionEntry> for RevisionWire<'a> {
    fn from(r: &'a RevisionEntry) -> Self {
        Self {
            by: r.by,
            m: &r.message,
            n: r.round,
            ts: r.at,
        }
    }
}

#[cfg(test)]
mod tests;
