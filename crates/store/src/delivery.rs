//! Orders placed from a gig, deliveries, files and who may see them.

use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::idempotency::Once;
use crate::plan::{DeliveryRow, FileRow, Step};
use crate::rows::{OrderRow, naive};
use crate::schema::{agents, deliveries, files, orders};
use crate::{Store, micros, ulid};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::agent::{AgentSettings, AgentStatus, validate_inputs};
use heepr_domain::order::place_order;
use heepr_domain::{
    Actor, AgentAvailability, AgentId, Attachment, Command, FeeBps, Order, OrderId, OrderState, PlaceOrder, Policy,
    UserId, Viewer, WorkSpec,
};
use std::sync::Arc;

/// A file already written to the blob store, waiting for its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    /// Storage key (also the file id body).
    pub key: String,
    /// Sanitised file name.
    pub name: String,
    /// Content type.
    pub content_type: String,
    /// Size.
    pub bytes: i64,
    /// Hex SHA-256.
    pub sha256: String,
}

/// A file row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// `fil_…`
    pub id: String,
    /// Name to offer on download.
    pub name: String,
    /// Content type.
    pub content_type: String,
    /// Size.
    pub bytes: i64,
    /// Hex SHA-256.
    pub sha256: String,
    /// Where the blob is.
    pub storage_key: String,
}

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

/// An order request from a customer.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// Who pays.
    pub customer: UserId,
    /// Which agent.
    pub agent_id: String,
    /// Which gig.
    pub gig_id: String,
    /// Which tier (by name).
    pub tier: String,
    /// Order-form answers.
    pub inputs: serde_json::Value,
    /// Free brief.
    pub brief: Option<String>,
    /// Attachments already in the blob store.
    pub attachments: Vec<StagedFile>,
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

fn invalid(field: &'static str, message: &str) -> StoreError {
    heepr_domain::DomainError::InvalidInput {
        field,
        message: message.into(),
    }
    .into()
}

impl StagedFile {
    /// The file row this staged file becomes.
    fn record(&self) -> FileRecord {
        FileRecord {
            id: format!("fil_{}", self.key),
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            bytes: self.bytes,
            sha256: self.sha256.clone(),
            storage_key: self.key.clone(),
        }
    }
}

impl StagedFile {
    /// The file's row, on an order and possibly a delivery.
    pub(crate) fn step(&self, order: &str, delivery: Option<&str>, now: DateTime<Utc>) -> Step {
        let r = self.record();
        Step::File {
            row: FileRow {
                id: r.id,
                order_id: order.to_owned(),
                delivery_id: delivery.map(str::to_owned),
                name: r.name,
                content_type: r.content_type,
                bytes: r.bytes,
                sha256: r.sha256,
                storage_key: r.storage_key,
                created_at: naive(now),
            },
        }
    }
}

type FileCols = (String, String, String, i64, String, String);
type DeliveryCols = (String, i32, Option<String>, String, Option<String>, NaiveDateTime);
const FILE_COLS: (
    files::id,
    files::name,
    files::content_type,
    files::bytes,
    files::sha256,
    files::storage_key,
) = (
    files::id,
    files::name,
    files::content_type,
    files::bytes,
    files::sha256,
    files::storage_key,
);

fn file_record((id, name, content_type, bytes, sha256, storage_key): FileCols) -> FileRecord {
    FileRecord {
        id,
        name,
        content_type,
        bytes,
        sha256,
        storage_key,
    }
}

/// What placing an order needs of its agent: owner, availability, live settings.
pub(crate) type AgentTerms = (UserId, AgentAvailability, Arc<AgentSettings>);

/// The owner, availability and live settings of an agent taking an order, read inside
/// the placing transaction. An agent still waiting for approval is `NotFound`.
pub(crate) fn agent_for_order(
    c: &mut AnyConnection,
    agent_id: &str,
) -> Result<(UserId, AgentAvailability, AgentSettings)> {
    let (owner, status, suspended, settings): (String, String, bool, String) = agents::table
        .find(agent_id)
        .select((agents::owner_id, agents::status, agents::suspended, agents::settings))
        .first(c)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let settings: AgentSettings = serde_json::from_str(&settings).map_err(StoreError::corrupt)?;
    let availability = match (AgentStatus::parse(&status), suspended) {
        (_, true) => AgentAvailability::Suspended,
        (Some(AgentStatus::Active), false) => AgentAvailability::Active,
        (Some(AgentStatus::Paused), false) => AgentAvailability::Paused,
        _ => return Err(StoreError::NotFound),
    };
    let owner = UserId::parse(&owner).ok_or_else(|| StoreError::corrupt("agent owner"))?;
    Ok((owner, availability, settings))
}

/// A new blob key (also the body of the file id).
pub fn new_file_key() -> String {
    ulid()
}

impl Store {
    /// [`agent_for_order`] through the agent cache: placing an order is the hot path
    /// that reads an agent's settings. Dropped by every change to the agent made here,
    /// and kept at most a second (changes made by another instance).
    fn agent_terms(&self, agent_id: &str) -> Result<AgentTerms> {
        if let Some(t) = self.cache.agent_terms(agent_id) {
            return Ok(t);
        }
        let (owner, availability, settings) = self.query(|c| agent_for_order(c, agent_id))?;
        let terms = (owner, availability, Arc::new(settings));
        self.cache.put_agent_terms(agent_id, terms.clone());
        Ok(terms)
    }

    /// Places an order from a gig tier: resolves gig and tier from the agent's live
    /// settings, checks the inputs against the order form, snapshots the terms, holds
    /// escrow — and writes the attachments' rows — in one transaction.
    pub fn place_from_gig(
        &self,
        new: NewOrder,
        fee_bps: FeeBps,
        base_url: &str,
        policy: &Policy,
        now: DateTime<Utc>,
        once: Option<&Once<Order>>,
    ) -> Result<Order> {
        let now = micros(now);
        self.once(once, || {
            self.place_from_gig_once(new, fee_bps, base_url, policy, now, once)
        })
    }

    fn place_from_gig_once(
        &self,
        new: NewOrder,
        fee_bps: FeeBps,
        base_url: &str,
        policy: &Policy,
        now: DateTime<Utc>,
        once: Option<&Once<Order>>,
    ) -> Result<Order> {
        // The agent's live settings are read before the write transaction, keeping
        // the writer's time short; an agent paused in between is a race the customer
        // could have won anyway, and the escrow debit is checked inside.
        let (owner, availability, settings) = self.agent_terms(&new.agent_id)?;
        let cmd = {
            let gig = settings
                .gigs
                .iter()
                .find(|g| g.id.as_deref() == Some(new.gig_id.as_str()))
                .ok_or_else(|| invalid("gig_id", "this agent has no such gig"))?;
            let tier = gig
                .tiers
                .iter()
                .find(|t| t.name == new.tier)
                .ok_or_else(|| invalid("tier", "this gig has no such tier"))?;
            let names: Vec<String> = new.attachments.iter().map(|f| f.name.clone()).collect();
            let inputs = validate_inputs(&gig.form, &new.inputs, &names)?;
            let id = OrderId::from_unique(ulid());
            let attachments = new
                .attachments
                .iter()
                .map(|f| Attachment {
                    n: f.name.clone(),
                    u: format!("{base_url}/api/orders/{id}/attachments/fil_{}", f.key),
                    b: f.bytes.max(0) as u64,
                    ct: f.content_type.clone(),
                    h: f.sha256.clone(),
                })
                .collect();
            PlaceOrder {
                id,
                customer: new.customer.clone(),
                owner,
                agent: AgentId::parse(&new.agent_id).ok_or(StoreError::NotFound)?,
                availability,
                accept_mode: settings.accept_mode.clone(),
                price: tier.price,
                fee_bps,
                work: WorkSpec {
                    gig_title: gig.title.clone(),
                    tier_name: tier.name.clone(),
                    inputs: serde_json::Value::Object(inputs),
                    scope: None,
                    brief: new.brief.clone(),
                    attachments,
                    delivery_days: tier.delivery_days,
                    category: gig.category.clone(),
                },
                revisions_included: tier.revisions,
                auto_approve_deliveries: settings.auto_approve_deliveries,
                from_offer: false,
            }
        };
        let d = place_order(cmd, policy, now)?;
        self.apply(&crate::order::placement(&d, &new.attachments, once, now)?)?;
        let order = d.order;
        self.placed(&order);
        Ok(order)
    }

    /// An order as a party may see it.
    pub fn order_for(&self, id: &OrderId, viewer: &Viewer) -> Result<Order> {
        let o = self.order(id)?;
        if !viewer.may_see(&o) {
            return Err(StoreError::NotFound);
        }
        Ok(o)
    }

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
                    .select(FILE_COLS)
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

    /// A file of an order, if the party may download it: attachments for everyone on
    /// the order; delivery files for the customer only once released.
    pub fn order_file(&self, id: &OrderId, file_id: &str, viewer: &Viewer) -> Result<FileRecord> {
        let o = self.order_for(id, viewer)?;
        self.read(|c| {
            let row: Option<(FileCols, Option<i32>)> = files::table
                .left_join(deliveries::table)
                .filter(files::id.eq(file_id))
                .filter(files::order_id.eq(id.as_str()))
                .select((FILE_COLS, deliveries::seq.nullable()))
                .first(c)
                .optional()?;
            let (cols, seq) = row.ok_or(StoreError::NotFound)?;
            if !viewer.may_download(&o, seq.map(|s| s.max(0) as u32)) {
                return Err(StoreError::NotFound);
            }
            Ok(file_record(cols))
        })
    }

    /// Orders of a party, newest first, optionally in one state.
    pub fn orders_of(&self, viewer: &Viewer, state: Option<OrderState>, limit: i64, offset: i64) -> Result<Vec<Order>> {
        self.read(|c| {
            let mut q = orders::table.select(OrderRow::as_select()).into_boxed();
            q = match viewer {
                Viewer::Customer(u) => q.filter(orders::customer_id.eq(u.as_str())),
                Viewer::Owner(u) => q.filter(orders::owner_id.eq(u.as_str())),
                Viewer::Agent(a) => q.filter(orders::agent_id.eq(a.as_str())),
                Viewer::Admin => q,
            };
            if let Some(s) = state {
                q = q.filter(orders::state.eq(s.as_str()));
            }
            let rows: Vec<OrderRow> = q
                .order((orders::created_at.desc(), orders::id.desc()))
                .limit(limit.clamp(1, 100))
                .offset(offset.max(0))
                .load(c)?;
            rows.into_iter().map(Order::try_from).collect()
        })
    }
}
