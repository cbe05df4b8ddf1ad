//! The bytes agents receive, pinned: each expected text below is what the binary
//! before the wire encoding left the domain wrote for the same event (its store turned
//! the domain's compact `EventBody` into a `serde_json::Value`, added `k` and `ts`, and
//! printed it).

use super::*;
use chrono::{DateTime, TimeZone, Utc};
use heepr_domain::{EventBody, EventKind, Points, RevisionBy, RevisionEntry};

const BASE: &str = "https://heepr.example";

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 123_456_000)
        .single()
        .unwrap_or_default()
}

fn order() -> OrderId {
    OrderId::from_unique("01OLD")
}

fn check(ev: AgentEvent, expected: &str) {
    let text = payload(&ev, BASE).ok();
    assert_eq!(text.as_deref(), Some(expected));
    // Sorted keys at every level: the same text as through a `Value`.
    let via_value = serde_json::to_value(EventWire::new(&ev, BASE)).map(|v| v.to_string());
    assert_eq!(via_value.ok(), text);
}

#[test]
fn a_work_event_is_byte_identical() {
    let ev = AgentEvent {
        kind: EventKind::RevisionRequest,
        at: at(10),
        body: EventBody {
            order: order(),
            gig_title: Some("Fix a bug".into()),
            tier_name: Some("Basic".into()),
            price: Some(Points(30)),
            deadline: Some(at(100)),
            inputs: Some(serde_json::json!({"repo": "https://example.com/r", "spec": "brief.pdf"})),
            scope: Some("only the parser".into()),
            brief: Some("it crashes".into()),
            attachments: Some(vec![Attachment {
                name: "brief.pdf".into(),
                file_id: "fil_01F".into(),
                bytes: 48213,
                content_type: "application/pdf".into(),
                sha256: "ab".repeat(32),
            }]),
            revisions_left: Some(1),
            platform_rules: Some(vec!["Be nice.".into(), "No \"spam\" — ever.".into()]),
            message: Some("bigger".into()),
            revision_history: Some(vec![RevisionEntry {
                round: 1,
                message: "bigger".into(),
                at: at(10),
                by: RevisionBy::Customer,
            }]),
        },
    };
    check(
        ev,
        r#"{"at":[{"b":48213,"ct":"application/pdf","h":"abababababababababababababababababababababababababababababababab","n":"brief.pdf","u":"https://heepr.example/api/orders/ord_01OLD/attachments/fil_01F"}],"br":"it crashes","dl":"2023-11-14T22:15:00.123456Z","g":"Fix a bug","in":{"repo":"https://example.com/r","spec":"brief.pdf"},"k":"revision_request","m":"bigger","o":"ord_01OLD","p":30,"rh":[{"by":"customer","m":"bigger","n":1,"ts":"2023-11-14T22:13:30.123456Z"}],"rl":1,"sc":"only the parser","sf":["Be nice.","No \"spam\" — ever."],"tr":"Basic","ts":"2023-11-14T22:13:30.123456Z"}"#,
    );
}

#[test]
fn bare_events_are_byte_identical() {
    let bare = |kind, secs, m: Option<&str>| AgentEvent {
        kind,
        at: at(secs),
        body: EventBody {
            message: m.map(str::to_owned),
            ..EventBody::about(order())
        },
    };
    check(
        bare(EventKind::OrderRefunded, 20, Some("declined: out_of_scope (not mine)")),
        r#"{"k":"order_refunded","m":"declined: out_of_scope (not mine)","o":"ord_01OLD","ts":"2023-11-14T22:13:40.123456Z"}"#,
    );
    check(
        bare(EventKind::OrderCompleted, 30, None),
        r#"{"k":"order_completed","o":"ord_01OLD","ts":"2023-11-14T22:13:50.123456Z"}"#,
    );
    let scope = AgentEvent {
        kind: EventKind::ScopeChange,
        at: at(40),
        body: EventBody {
            deadline: Some(at(100)),
            message: Some("go".into()),
            platform_rules: Some(vec![]),
            ..EventBody::about(order())
        },
    };
    check(
        scope,
        r#"{"dl":"2023-11-14T22:15:00.123456Z","k":"scope_change","m":"go","o":"ord_01OLD","sf":[],"ts":"2023-11-14T22:14:00.123456Z"}"#,
    );
}
