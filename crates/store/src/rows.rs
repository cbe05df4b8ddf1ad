//! Row structs and their conversion to domain types. Domain types never derive diesel
//! traits; conversion happens here.

use crate::error::{Result, StoreError};
use crate::order::Stored;
use crate::schema::*;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::{Order, OrderState};

pub(crate) fn naive(t: DateTime<Utc>) -> NaiveDateTime {
    crate::micros(t).naive_utc()
}

#[derive(Debug, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = orders)]
pub(crate) struct OrderRow {
    pub id: String,
    pub customer_id: String,
    pub owner_id: String,
    pub agent_id: String,
    pub state: String,
    pub price: i64,
    pub data: String,
    pub due_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl OrderRow {
    /// The queryable columns mirror fields of the JSON snapshot; both are written from
    /// the same `Order`, so they cannot disagree. `version` is the store's own: the
    /// optimistic-concurrency counter the next write is checked against.
    pub(crate) fn new(o: &Order, version: i64) -> Result<Self> {
        Ok(Self {
            id: o.id.to_string(),
            customer_id: o.customer.to_string(),
            owner_id: o.owner.to_string(),
            agent_id: o.agent.to_string(),
            state: o.state.as_str().to_owned(),
            price: o.price.get(),
            data: serde_json::to_string(o).map_err(StoreError::corrupt)?,
            due_at: o.due_at.map(naive),
            version,
            created_at: naive(o.created_at),
            updated_at: naive(o.updated_at),
        })
    }
}

impl TryFrom<OrderRow> for Stored {
    type Error = StoreError;

    /// Reads the snapshot, in any shape this store has written (see `legacy`).
    fn try_from(row: OrderRow) -> Result<Self> {
        let order =
            crate::legacy::order(&row.data).map_err(|e| StoreError::corrupt(format!("order {}: {e}", row.id)))?;
        let state = OrderState::parse(&row.state)
            .ok_or_else(|| StoreError::corrupt(format!("order {}: state {}", row.id, row.state)))?;
        if state != order.state {
            return Err(StoreError::corrupt(format!(
                "order {}: state column and snapshot differ",
                row.id
            )));
        }
        Ok(Stored {
            order,
            version: row.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `orders.data` exactly as the binary before this one wrote it: the version inside
    /// the snapshot, attachments with their download URL, revisions with compact keys.
    pub(crate) const OLD_DATA: &str = r#"{"id":"ord_01OLD","customer":"usr_C","owner":"usr_O","agent":"agt_A","price":30,"fee_bps":1000,"state":"in_progress","work":{"gig_title":"Fix a bug","tier_name":"Basic","inputs":{"repo":"https://example.com/r","spec":"brief.pdf"},"scope":"only the parser","brief":"it crashes","attachments":[{"n":"brief.pdf","u":"https://heepr.example/api/orders/ord_01OLD/attachments/fil_01F","b":48213,"ct":"application/pdf","h":"abababababababababababababababababababababababababababababababab"}],"delivery_days":2,"category":"code"},"revisions_included":2,"revisions_left":1,"revisions":[{"n":1,"m":"bigger","ts":"2023-11-14T22:13:30.123456Z","by":"customer"}],"pending_revision":null,"auto_approve_deliveries":false,"deadline":"2023-11-14T22:15:00.123456Z","due_at":"2023-11-14T22:15:00.123456Z","flag_remaining_secs":null,"deliveries":1,"released":1,"progress":40,"created_at":"2023-11-14T22:13:20.123456Z","updated_at":"2023-11-14T22:13:30.123456Z","version":3}"#;

    fn old_row(version: i64) -> OrderRow {
        let t = DateTime::parse_from_rfc3339("2023-11-14T22:13:20.123456Z")
            .map(|t| t.naive_utc())
            .unwrap_or_default();
        OrderRow {
            id: "ord_01OLD".into(),
            customer_id: "usr_C".into(),
            owner_id: "usr_O".into(),
            agent_id: "agt_A".into(),
            state: "in_progress".into(),
            price: 30,
            data: OLD_DATA.into(),
            due_at: Some(t),
            version,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn a_row_written_by_the_previous_binary_loads() -> Result<()> {
        let s = Stored::try_from(old_row(4))?;
        // The column counts; the copy inside the old snapshot is ignored.
        assert_eq!(s.version, 4);
        let o = &s.order;
        assert_eq!(
            (o.id.as_str(), o.state, o.price.get()),
            ("ord_01OLD", OrderState::InProgress, 30)
        );
        assert_eq!((o.revisions_left, o.deliveries, o.progress.get()), (1, 1, 40));
        // The attachment's file id is the last segment of its old download URL.
        let a = &o.work.attachments[..];
        assert_eq!(a.len(), 1);
        assert_eq!(
            (a[0].name.as_str(), a[0].file_id.as_str(), a[0].bytes),
            ("brief.pdf", "fil_01F", 48213)
        );
        assert_eq!((a[0].content_type.as_str(), a[0].sha256.len()), ("application/pdf", 64));
        // Revision rounds had compact keys.
        let r = &o.revisions[..];
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].round, r[0].message.as_str(), r[0].by),
            (1, "bigger", heepr_domain::RevisionBy::Customer)
        );
        assert_eq!(r[0].at.to_rfc3339(), "2023-11-14T22:13:30.123456+00:00");
        // Written back, the snapshot is today's: no version, no URL, no compact keys.
        let again = OrderRow::new(o, s.version)?;
        for old in ["\"version\"", "\"u\"", "heepr.example", "\"n\"", "\"m\"", "\"ts\""] {
            assert!(!again.data.contains(old), "{old} in {}", again.data);
        }
        assert_eq!(Stored::try_from(again)?, s);
        Ok(())
    }
}
