//! What earlier binaries stored, read by this one. `orders.data` is the domain's
//! `Order` as JSON; when a field of it changed shape, a row written before is brought
//! to today's shape here, before the domain type reads it, so the domain carries no
//! history of its storage. Rows are not rewritten: an old row is upgraded each time it
//! is read, until a command writes it back in today's shape.
//!
//! Earlier shapes:
//! - an attachment was `{n, u, b, ct, h}`, `u` its download URL; it is now
//!   `{name, file_id, bytes, content_type, sha256}`, the file id being the URL's last
//!   segment;
//! - a revision round was `{n, m, ts, by}`; it is now `{round, message, at, by}`;
//! - the snapshot carried the order's version too; it is ignored (the column counts).

use heepr_domain::Order;
use serde_json::{Map, Value};

/// Reads an order snapshot of any shape this store has written.
pub(crate) fn order(data: &str) -> serde_json::Result<Order> {
    serde_json::from_str(data).or_else(|today| {
        let mut v: Value = serde_json::from_str(data)?;
        if upgrade(&mut v) {
            serde_json::from_value(v)
        } else {
            Err(today)
        }
    })
}

/// Brings an earlier snapshot to today's shape; `false` when nothing in it was old.
fn upgrade(v: &mut Value) -> bool {
    let mut changed = false;
    if let Some(list) = v.pointer_mut("/work/attachments").and_then(Value::as_array_mut) {
        for a in list.iter_mut().filter_map(Value::as_object_mut) {
            changed |= attachment(a);
        }
    }
    if let Some(list) = v.pointer_mut("/revisions").and_then(Value::as_array_mut) {
        for r in list.iter_mut().filter_map(Value::as_object_mut) {
            changed |= rename(r, &[("n", "round"), ("m", "message"), ("ts", "at")]);
        }
    }
    changed
}

/// `{n, u, b, ct, h}` → `{name, file_id, bytes, content_type, sha256}`.
fn attachment(a: &mut Map<String, Value>) -> bool {
    let Some(url) = a.remove("u") else {
        return false;
    };
    let file_id = url.as_str().and_then(|u| u.rsplit('/').next()).unwrap_or_default();
    a.insert("file_id".into(), file_id.into());
    rename(
        a,
        &[("n", "name"), ("b", "bytes"), ("ct", "content_type"), ("h", "sha256")],
    );
    true
}

/// Renames the keys of `o` that are there; whether any was.
fn rename(o: &mut Map<String, Value>, pairs: &[(&str, &str)]) -> bool {
    let mut any = false;
    for (from, to) in pairs {
        if let Some(v) = o.remove(*from) {
            o.insert((*to).into(), v);
            any = true;
        }
    }
    any
}
