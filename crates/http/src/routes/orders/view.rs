//! What the order routes answer: typed response bodies, built from the domain's
//! [`Order`] and the store's delivery records, owned here so the domain stays free of
//! HTTP concerns.
//!
//! Field order: these bodies used to be built as `serde_json::Value`s, whose maps keep
//! keys sorted, so every struct below declares its fields in alphabetical order and the
//! answers (and the answers stored for idempotent retries) stay byte for byte the same.
//! The `canonical` test guards it.

use chrono::{DateTime, Utc};
use heepr_domain::{Attachment, Order, RevisionBy, RevisionEntry};
use heepr_store::delivery::DeliveryRecord;
use heepr_store::files::FileRecord;
use serde::Serialize;

/// An order as its parties see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct OrderView {
    pub agent_id: String,
    pub attachments: Vec<AttachmentView>,
    pub auto_approve_deliveries: bool,
    pub brief: Option<String>,
    pub category: String,
    pub created_at: DateTime<Utc>,
    pub customer_id: String,
    pub deadline: Option<DateTime<Utc>>,
    /// Deliveries made.
    pub deliveries: u32,
    pub fee_bps: u16,
    /// The gig's title.
    pub gig: String,
    pub id: String,
    /// Order-form answers by field name.
    pub inputs: serde_json::Value,
    pub owner_id: String,
    pub pending_revision: Option<String>,
    pub price: i64,
    pub progress: u8,
    /// Deliveries the customer can see.
    pub released_deliveries: u32,
    pub revisions: Vec<RevisionView>,
    pub revisions_included: u32,
    pub revisions_left: u32,
    pub scope: Option<String>,
    pub state: &'static str,
    /// The tier's name.
    pub tier: String,
    /// When the current state's timer fires.
    pub timer_due_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Order> for OrderView {
    fn from(o: &Order) -> Self {
        Self {
            agent_id: o.agent.to_string(),
            attachments: o.work.attachments.iter().map(AttachmentView::from).collect(),
            auto_approve_deliveries: o.auto_approve_deliveries,
            brief: o.work.brief.clone(),
            category: o.work.category.clone(),
            created_at: o.created_at,
            customer_id: o.customer.to_string(),
            deadline: o.deadline,
            deliveries: o.deliveries,
            fee_bps: o.fee_bps.get(),
            gig: o.work.gig_title.clone(),
            id: o.id.to_string(),
            inputs: o.work.inputs.clone(),
            owner_id: o.owner.to_string(),
            pending_revision: o.pending_revision.clone(),
            price: o.price.get(),
            progress: o.progress.get(),
            released_deliveries: o.released,
            revisions: o.revisions.iter().map(RevisionView::from).collect(),
            revisions_included: o.revisions_included,
            revisions_left: o.revisions_left,
            scope: o.work.scope.clone(),
            state: o.state.as_str(),
            tier: o.work.tier_name.clone(),
            timer_due_at: o.due_at,
            updated_at: o.updated_at,
        }
    }
}

/// One of the brief's attachments.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AttachmentView {
    pub bytes: u64,
    pub content_type: String,
    /// The stored file's id.
    pub id: String,
    pub name: String,
    /// SHA-256, hex.
    pub sha256: String,
}

impl From<&Attachment> for AttachmentView {
    fn from(a: &Attachment) -> Self {
        Self {
            bytes: a.bytes,
            content_type: a.content_type.clone(),
            id: a.file_id.clone(),
            name: a.name.clone(),
            sha256: a.sha256.clone(),
        }
    }
}

/// One revision round (with the compact keys it always had here).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RevisionView {
    /// `customer` or `owner`.
    pub by: &'static str,
    /// What was asked.
    pub m: String,
    /// 1-based round number.
    pub n: u32,
    /// When.
    pub ts: DateTime<Utc>,
}

impl From<&RevisionEntry> for RevisionView {
    fn from(r: &RevisionEntry) -> Self {
        Self {
            by: match r.by {
                RevisionBy::Customer => "customer",
                RevisionBy::Owner => "owner",
            },
            m: r.message.clone(),
            n: r.round,
            ts: r.at,
        }
    }
}

/// A delivered file.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct FileView {
    pub bytes: i64,
    pub content_type: String,
    pub id: String,
    pub name: String,
    /// SHA-256, hex.
    pub sha256: String,
}

impl From<&FileRecord> for FileView {
    fn from(f: &FileRecord) -> Self {
        Self {
            bytes: f.bytes,
            content_type: f.content_type.clone(),
            id: f.id.clone(),
            name: f.name.clone(),
            sha256: f.sha256.clone(),
        }
    }
}

/// One delivery with its files.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DeliveryView {
    pub created_at: DateTime<Utc>,
    pub files: Vec<FileView>,
    pub id: String,
    pub note: Option<String>,
    /// 1-based.
    pub seq: i32,
    pub text: Option<String>,
    pub urls: Vec<String>,
}

impl From<&DeliveryRecord> for DeliveryView {
    fn from(d: &DeliveryRecord) -> Self {
        Self {
            created_at: d.created_at,
            files: d.files.iter().map(FileView::from).collect(),
            id: d.id.clone(),
            note: d.note.clone(),
            seq: d.seq,
            text: d.text.clone(),
            urls: d.urls.clone(),
        }
    }
}

/// A page of orders; `next` is the cursor of the following page, `null` on the last.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct OrderList {
    pub next: Option<String>,
    pub orders: Vec<OrderView>,
}

/// An order's deliveries, as the asker may see them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DeliveryList {
    pub deliveries: Vec<DeliveryView>,
}

impl DeliveryList {
    pub fn new(ds: &[DeliveryRecord]) -> Self {
        Self {
            deliveries: ds.iter().map(DeliveryView::from).collect(),
        }
    }
}

/// The answer to a delivery: the order after it, and the delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Delivered {
    pub delivery: DeliveryView,
    pub order: OrderView,
}

impl From<&(Order, DeliveryRecord)> for Delivered {
    fn from((o, d): &(Order, DeliveryRecord)) -> Self {
        Self {
            delivery: DeliveryView::from(d),
            order: OrderView::from(o),
        }
    }
}

/// JSON text of a body (these types always serialize).
fn to_json(body: &impl Serialize) -> String {
    serde_json::to_string(body).unwrap_or_default()
}

/// An order's answer body (also what a retry replays).
pub(crate) fn render_order(o: &Order) -> String {
    to_json(&OrderView::from(o))
}

/// A delivery's answer body (also what a retry replays).
pub(crate) fn render_delivered(done: &(Order, DeliveryRecord)) -> String {
    to_json(&Delivered::from(done))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use heepr_domain::{AgentId, FeeBps, OrderId, OrderState, Percent, Points, UserId, WorkSpec};

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 123_000_000)
            .single()
            .unwrap_or_default()
    }

    fn order() -> Order {
        Order {
            id: OrderId::from_unique("01J0"),
            customer: UserId::from_unique("c1"),
            owner: UserId::from_unique("o1"),
            agent: AgentId::from_unique("a1"),
            price: Points(1200),
            fee_bps: FeeBps::new(1500).unwrap_or_default(),
            state: OrderState::Delivered,
            work: WorkSpec {
                gig_title: "Logo \"pro\"".into(),
                tier_name: "Basic".into(),
                inputs: serde_json::json!({"z": 1, "a": ["x", {"k": null}]}),
                scope: None,
                brief: Some("line 1\nline 2 — é".into()),
                attachments: vec![Attachment {
                    name: "brief.pdf".into(),
                    file_id: "fil_9".into(),
                    bytes: 42,
                    content_type: "application/pdf".into(),
                    sha256: "ab".repeat(32),
                }],
                delivery_days: 3,
                category: "design".into(),
            },
            revisions_included: 2,
            revisions_left: 1,
            revisions: vec![
                RevisionEntry {
                    round: 1,
                    message: "bigger".into(),
                    at: at(10),
                    by: RevisionBy::Customer,
                },
                RevisionEntry {
                    round: 2,
                    message: "fix".into(),
                    at: at(20),
                    by: RevisionBy::Owner,
                },
            ],
            pending_revision: None,
            auto_approve_deliveries: true,
            deadline: Some(at(100)),
            due_at: None,
            flag_remaining_secs: Some(5),
            deliveries: 2,
            released: 1,
            progress: Percent::new(80).unwrap_or_default(),
            created_at: at(0),
            updated_at: at(30),
        }
    }

    fn delivery() -> DeliveryRecord {
        DeliveryRecord {
            id: "dlv_1".into(),
            seq: 1,
            text: Some("done".into()),
            urls: vec!["https://example.com/a".into()],
            note: None,
            files: vec![FileRecord {
                id: "fil_1".into(),
                name: "out.png".into(),
                content_type: "image/png".into(),
                bytes: 9,
                sha256: "cd".repeat(32),
                storage_key: "secret/key".into(),
            }],
            created_at: at(40),
        }
    }

    /// Each body serializes with its keys sorted, as the `serde_json::Value`s it
    /// replaced did, so answers stay byte for byte the same.
    #[test]
    fn canonical() {
        fn check(body: &impl Serialize) {
            let direct = serde_json::to_string(body).unwrap();
            let via_value = serde_json::to_value(body).unwrap().to_string();
            assert_eq!(direct, via_value);
        }
        let (o, d) = (order(), delivery());
        check(&OrderView::from(&o));
        check(&DeliveryList::new(std::slice::from_ref(&d)));
        check(&Delivered::from(&(o.clone(), d)));
        check(&OrderList {
            next: None,
            orders: vec![OrderView::from(&o)],
        });
        check(&OrderList {
            next: Some("o50".into()),
            orders: vec![],
        });
    }

    /// The revision's `by` reads as the domain names it.
    #[test]
    fn revision_by_matches_the_domain() {
        for by in [RevisionBy::Customer, RevisionBy::Owner] {
            let r = RevisionEntry {
                round: 1,
                message: String::new(),
                at: at(0),
                by,
            };
            assert_eq!(
                serde_json::to_value(RevisionView::from(&r).by).unwrap(),
                serde_json::to_value(by).unwrap()
            );
        }
    }

    /// The exact bytes the `json!`-built answers had (checked against them when the
    /// views were introduced): sorted keys, nulls kept, the attachment's file id.
    #[test]
    fn order_answer() {
        let expected = r#"{"agent_id":"agt_a1","attachments":[{"bytes":42,"content_type":"application/pdf","id":"fil_9","name":"brief.pdf","sha256":"abababababababababababababababababababababababababababababababab"}],"auto_approve_deliveries":true,"brief":"line 1\nline 2 — é","category":"design","created_at":"2023-11-14T22:13:20.123Z","customer_id":"usr_c1","deadline":"2023-11-14T22:15:00.123Z","deliveries":2,"fee_bps":1500,"gig":"Logo \"pro\"","id":"ord_01J0","inputs":{"a":["x",{"k":null}],"z":1},"owner_id":"usr_o1","pending_revision":null,"price":1200,"progress":80,"released_deliveries":1,"revisions":[{"by":"customer","m":"bigger","n":1,"ts":"2023-11-14T22:13:30.123Z"},{"by":"owner","m":"fix","n":2,"ts":"2023-11-14T22:13:40.123Z"}],"revisions_included":2,"revisions_left":1,"scope":null,"state":"delivered","tier":"Basic","timer_due_at":null,"updated_at":"2023-11-14T22:13:50.123Z"}"#;
        assert_eq!(render_order(&order()), expected);
        let list = serde_json::to_string(&OrderList {
            next: None,
            orders: vec![],
        })
        .unwrap();
        assert_eq!(list, r#"{"next":null,"orders":[]}"#);
        let delivered = render_delivered(&(order(), delivery()));
        assert_eq!(
            delivered,
            format!(
                r#"{{"delivery":{{"created_at":"2023-11-14T22:14:00.123Z","files":[{{"bytes":9,"content_type":"image/png","id":"fil_1","name":"out.png","sha256":"{}"}}],"id":"dlv_1","note":null,"seq":1,"text":"done","urls":["https://example.com/a"]}},"order":{expected}}}"#,
                "cd".repeat(32)
            )
        );
    }
}
