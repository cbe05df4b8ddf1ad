//! Agent events on the wire (HEARTBEAT_EVENTS.md). The domain decides an event in its
//! own descriptive terms; this module writes it the way agents read it.

use crate::error::{Result, StoreError};
use heepr_domain::{AgentEvent, Attachment, OrderId};
use serde::Serialize;

/// Where the order's agent downloads one of the order's attachments (with its key).
pub(crate) fn attachment_url(base_url: &str, order: &OrderId, file_id: &str) -> String {
    format!("{base_url}/api/orders/{order}/attachments/{file_id}")
}

/// An attachment as the agent reads it (`at`): name, download link, size, type, hash.
#[derive(Debug, Serialize)]
struct AttachmentWire<'a> {
    n: &'a str,
    u: String,
    b: u64,
    ct: &'a str,
    h: &'a str,
}

impl<'a> AttachmentWire<'a> {
    fn new(a: &'a Attachment, order: &OrderId, base_url: &str) -> Self {
        Self {
            n: &a.name,
            u: attachment_url(base_url, order, &a.file_id),
            b: a.bytes,
            ct: &a.content_type,
            h: &a.sha256,
        }
    }
}

/// The stored text of an event about `order`, without its `id` (numbered when
/// written): a JSON object with sorted keys, attachments linked under `base_url`.
pub(crate) fn payload(order: &OrderId, ev: &AgentEvent, base_url: &str) -> Result<String> {
    let mut body = serde_json::to_value(&ev.body).map_err(StoreError::corrupt)?;
    let obj = body
        .as_object_mut()
        .ok_or_else(|| StoreError::corrupt("an event body is not an object"))?;
    obj.remove("id");
    if let Some(at) = &ev.body.at {
        let wire: Vec<_> = at.iter().map(|a| AttachmentWire::new(a, order, base_url)).collect();
        obj.insert("at".into(), serde_json::to_value(wire).map_err(StoreError::corrupt)?);
    }
    obj.insert("k".into(), ev.kind.as_str().into());
    obj.insert(
        "ts".into(),
        crate::micros(ev.at)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .into(),
    );
    Ok(body.to_string())
}

#[cfg(test)]
mod tests;
