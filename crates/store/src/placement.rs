//! Placing an order from a gig tier: the agent's live terms (through a one-second
//! cache: this is the hot path), the domain's `order_to_place` and `place_order`, and
//! one plan with the order, its attachments' rows, the escrow hold and its first event.

use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::files::StagedFile;
use crate::idempotency::Once;
use crate::schema::agents;
use crate::{Store, micros, ulid};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use heepr_domain::agent::{AgentSettings, AgentStatus};
use heepr_domain::order::{AgentTerms, Pick, Placement, order_to_place, place_order};
use heepr_domain::{AgentAvailability, AgentId, Attachment, FeeBps, Order, OrderId, Policy, UserId};
use std::sync::Arc;

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

/// What placing an order needs of its agent: owner, availability, live settings.
pub(crate) type CachedTerms = (UserId, AgentAvailability, Arc<AgentSettings>);

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

impl Store {
    /// [`agent_for_order`] through the agent cache: placing an order is the hot path
    /// that reads an agent's settings. Dropped by every change to the agent made here,
    /// and kept at most a second (changes made by another instance).
    fn agent_terms(&self, agent_id: &str) -> Result<CachedTerms> {
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
        policy: &Policy,
        now: DateTime<Utc>,
        once: Option<&Once<Order>>,
    ) -> Result<Order> {
        let now = micros(now);
        // One attempt; `once` may turn its failure into the key's answer.
        self.once(once, || {
            // The agent's live settings are read before the write transaction, keeping
            // the writer's time short; an agent paused in between is a race the customer
            // could have won anyway, and the escrow debit is checked inside.
            let (owner, availability, settings) = self.agent_terms(&new.agent_id)?;
            let id = OrderId::from_unique(ulid());
            let attachments = new
                .attachments
                .iter()
                .map(|f| Attachment {
                    name: f.name.clone(),
                    file_id: format!("fil_{}", f.key),
                    bytes: f.bytes.max(0) as u64,
                    content_type: f.content_type.clone(),
                    sha256: f.sha256.clone(),
                })
                .collect();
            let cmd = order_to_place(
                Placement {
                    id,
                    customer: new.customer.clone(),
                    agent: AgentId::parse(&new.agent_id).ok_or(StoreError::NotFound)?,
                    terms: AgentTerms::new(&owner, availability, &settings),
                    gig_id: &new.gig_id,
                    tier: &new.tier,
                    inputs: &new.inputs,
                    fee_bps,
                    pick: Pick::Tier {
                        brief: new.brief.clone(),
                        attachments,
                    },
                },
                now,
            )?;
            let d = place_order(cmd, policy, now)?;
            let base_url = self.base_url();
            self.apply(&crate::order::placement(&d, &new.attachments, once, &base_url, now)?)?;
            let order = d.order;
            self.placed(&order);
            Ok(order)
        })
    }
}
