//! Deliveries: the agent delivers (the order moves on, the delivery and its files are
//! written by the command's plan), and the parties read them as the domain's access
//! rules allow.

use crate::error::{Result, StoreError};
use crate::files::{FileCols, FileRecord, StagedFile, file_record};
use crate::idempotency::Once;
use crate::plan::{DeliveryRow, Step};
use crate::rows::naive;
use crate::schema::{deliveries, files};
use crate::{Store, micros, ulid};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::{Actor, AgentId, Command, Order, OrderId, Policy, Viewer};

type DeliveryCols = (String, i32, Option<String>, String, Option<String>, NaiveDateTime);

/// A delivery with its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// `dlv_…`
    pub id: String,
    /// 1-based.
    pub seq: i32,
    /// Text.
    pub text: Option<String>,
    /// Links.
    pub urls: Vec<String>,
    /// Note.
    pub note: Option<String>,
    /// Files.
    pub files: Vec<FileRecord>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// What an agent delivers.
#[derive(Debug, Clone, Default)]
pub struct NewDelivery {
    /// Text.
    pub text: Option<String>,
    /// Links.
    pub urls: Vec<String>,
    /// Note to the customer/owner.
    pub note: Option<String>,
    /// Files already in the blob store.
    pub files: Vec<StagedFile>,
}

impl Store {
    /// The agent delivers: the order moves on and the delivery and its files are
    /// written in the same transaction (with `once`'s key claimed).
    pub fn deliver(
        &self,
        agent: &AgentId,
        id: &OrderId,
        delivery: &NewDelivery,
        policy: &Policy,
        now: DateTime<Utc>,
        once: Option<&Once<(Order, DeliveryRecord)>>,
    ) -> Result<(Order, DeliveryRecord)> {
        let viewer = Viewer::Agent(agent.clone());
        let now = micros(now);
        let dlv = format!("dlv_{}", ulid());
        // Answered from what is written: no second read.
        let record = |o: &Order| DeliveryRecord {
            id: dlv.clone(),
            seq: o.deliveries as i32,
            text: delivery.text.clone(),
            urls: delivery.urls.clone(),
            note: delivery.note.clone(),
            files: delivery.files.iter().map(StagedFile::record).collect(),
            created_at: now,
        };
        let (o, _) = self.once(once, || {
            self.command_with(
                id,
                Actor::Agent,
                Command::Deliver,
                policy,
                now,
                &|o| viewer.may_see(o),
                &|o, plan| {
                    plan.push(Step::Delivery {
                        row: DeliveryRow {
                            id: dlv.clone(),
                            order_id: o.id.to_string(),
                            seq: o.deliveries as i32,
                            body: delivery.text.clone(),
                            urls: serde_json::to_string(&delivery.urls).map_err(StoreError::corrupt)?,
                            note: delivery.note.clone(),
                            created_at: naive(now),
                        },
                    });
                    for f in &delivery.files {
                        plan.push(f.step(o.id.as_str(), Some(&dlv), now));
                    }
                    if let Some(once) = once {
                        once.claim_in(plan, &(o.clone(), record(o)), now);
                    }
                    Ok(())
                },
            )
        })?;
        let r = record(&o);
        Ok((o, r))
    }

    /// Deliveries of an order a party may see: the customer only released ones.
    pub fn deliveries_for(&self, id: &OrderId, viewer: &Viewer) -> Result<Vec<DeliveryRecord>> {
        let o = self.order_for(id, viewer)?;
        let visible = i32::try_from(viewer.visible_deliveries(&o)).unwrap_or(i32::MAX);
        self.read(|c| {
            let rows: Vec<DeliveryCols> = deliveries::table
                .filter(deliveries::order_id.eq(id.as_str()))
                .filter(deliveries::seq.le(visible))
                .order(deliveries::seq)
                .select((
                    deliveries::id,
                    deliveries::seq,
                    deliveries::body,
                    deliveries::urls,
                    deliveries::note,
                    deliveries::created_at,
                ))
                .load(c)?;
            let mut out = Vec::with_capacity(rows.len());
            for (did, seq, text, urls, note, at) in rows {
                let fs: Vec<FileCols> = files::table
                    .filter(files::delivery_id.eq(&did))
                    .order(files::created_at)
                    .select(FileCols::as_select())
                    .load(c)?;
                out.push(DeliveryRecord {
                    id: did,
                    seq,
                    text,
                    urls: serde_json::from_str(&urls).map_err(StoreError::corrupt)?,
                    note,
                    files: fs.into_iter().map(file_record).collect(),
                    created_at: at.and_utc(),
                });
            }
            Ok(out)
        })
    }
}
