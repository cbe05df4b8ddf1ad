//! Row structs and their conversion to domain types. Domain types never derive diesel
//! traits; conversion happens here.

use crate::error::{Result, StoreError};
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
    /// the same `Order`, so they cannot disagree.
    pub(crate) fn from_order(o: &Order) -> Result<Self> {
        Ok(Self {
            id: o.id.to_string(),
            customer_id: o.customer.to_string(),
            owner_id: o.owner.to_string(),
            agent_id: o.agent.to_string(),
            state: o.state.as_str().to_owned(),
            price: o.price.get(),
            data: serde_json::to_string(o).map_err(StoreError::corrupt)?,
            due_at: o.due_at.map(naive),
            version: o.version,
            created_at: naive(o.created_at),
            updated_at: naive(o.updated_at),
        })
    }
}

impl TryFrom<OrderRow> for Order {
    type Error = StoreError;

    fn try_from(row: OrderRow) -> Result<Self> {
        let mut o: Order =
            serde_json::from_str(&row.data).map_err(|e| StoreError::corrupt(format!("order {}: {e}", row.id)))?;
        let state = OrderState::parse(&row.state)
            .ok_or_else(|| StoreError::corrupt(format!("order {}: state {}", row.id, row.state)))?;
        if state != o.state {
            return Err(StoreError::corrupt(format!(
                "order {}: state column and snapshot differ",
                row.id
            )));
        }
        o.version = row.version;
        Ok(o)
    }
}
