//! Offers: the owner proposes terms in a pre-sale thread; the customer's accept places
//! the order and claims the offer in one plan, so an offer becomes at most one order.

use super::{Viewer, load_thread, role_of};
use crate::error::{Result, StoreError};
use crate::idempotency::Once;
use crate::placement::agent_for_order;
use crate::plan::record::{Change, NewRow, OfferRow};
use crate::plan::{Plan, Step};
use crate::rows::naive;
use crate::schema::{agents, offers};
use crate::{Store, micros, ulid};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::agent::AgentSettings;
use heepr_domain::chat::{
    ChatError, OfferDraft, OfferState, decide_offer_acceptance, decide_offer_creation, validate_offer,
};
use heepr_domain::order::{AgentTerms, Pick, Placement, order_to_place, place_order};
use heepr_domain::{AgentId, FeeBps, Order, OrderId, Points, Policy, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferRecord {
    /// `off_…`
    pub id: String,
    /// Its thread.
    pub thread_id: String,
    /// The agent that would work.
    pub agent_id: String,
    /// The gig.
    pub gig_id: String,
    /// The tier (fixes included revisions).
    pub tier: String,
    /// Points.
    pub price: Points,
    /// When the work is due.
    pub deadline: DateTime<Utc>,
    /// Agreed scope.
    pub scope: String,
    /// Order-form answers.
    pub inputs: serde_json::Value,
    /// When the offer lapses.
    pub expires_at: DateTime<Utc>,
    /// The order it became, once accepted.
    pub accepted_order_id: Option<String>,
    /// Made at.
    pub created_at: DateTime<Utc>,
}

/// A thread with everything in it, as one viewer sees it.
/// An offer's row as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = offers)]
pub(crate) struct OfferCols {
    id: String,
    thread_id: String,
    agent_id: String,
    gig_id: String,
    tier: String,
    price: i64,
    deadline: NaiveDateTime,
    scope: String,
    inputs: String,
    expires_at: NaiveDateTime,
    accepted_order_id: Option<String>,
    created_at: NaiveDateTime,
}

pub(crate) fn offer_record(r: OfferCols) -> Result<OfferRecord> {
    Ok(OfferRecord {
        inputs: serde_json::from_str(&r.inputs).map_err(|e| StoreError::corrupt(format!("offer {}: {e}", r.id)))?,
        id: r.id,
        thread_id: r.thread_id,
        agent_id: r.agent_id,
        gig_id: r.gig_id,
        tier: r.tier,
        price: Points(r.price),
        deadline: r.deadline.and_utc(),
        scope: r.scope,
        expires_at: r.expires_at.and_utc(),
        accepted_order_id: r.accepted_order_id,
        created_at: r.created_at.and_utc(),
    })
}

impl Store {
    /// The owner of the thread's agent makes an offer in a pre-sale thread, checked
    /// against the agent's live settings (price range, gig, tier, form).
    pub fn create_offer(
        &self,
        thread_id: &str,
        owner: &UserId,
        draft: OfferDraft,
        now: DateTime<Utc>,
    ) -> Result<OfferRecord> {
        let now = micros(now);
        let (t, settings) = self.read(|c| {
            let t = load_thread(c, thread_id)?;
            decide_offer_creation(t.owner_id == owner.as_str(), t.order_id.is_none()).map_err(|e| match e {
                ChatError::NotAParty => StoreError::NotFound,
                other => other.into(),
            })?;
            let settings: String = agents::table.find(&t.agent_id).select(agents::settings).first(c)?;
            let settings: AgentSettings = serde_json::from_str(&settings).map_err(StoreError::corrupt)?;
            Ok((t, settings))
        })?;
        let v = validate_offer(&settings, draft, now)?;
        let d = v.draft;
        let id = format!("off_{}", ulid());
        let mut plan = Plan::new();
        plan.insert(NewRow::Offer(OfferRow {
            id: id.clone(),
            thread_id: t.id.clone(),
            agent_id: t.agent_id.clone(),
            gig_id: d.gig_id,
            tier: d.tier,
            price: d.price.get(),
            deadline: naive(d.deadline),
            scope: d.scope,
            inputs: d.inputs.to_string(),
            expires_at: naive(v.expires_at),
            accepted_order_id: None,
            created_at: naive(now),
        }));
        plan.change(Change::TouchThread {
            id: t.id.clone(),
            at: naive(now),
        });
        self.apply(&plan)?;
        self.read(|c| {
            let row: OfferCols = offers::table.find(&id).select(OfferCols::as_select()).first(c)?;
            offer_record(row)
        })
    }

    /// The thread's customer accepts an offer: the offer is claimed with a conditional
    /// update (`accepted_order_id IS NULL`) and the order is placed exactly as from a
    /// gig (inputs checked against the live form, escrow held, `new_order` emitted),
    /// but skipping owner approval, at the offer's price and with its scope — all in
    /// one transaction. A concurrent second accept finds the offer claimed: 409
    /// `offer_accepted`, and nothing of its own is written.
    pub fn accept_offer(
        &self,
        offer_id: &str,
        customer: &UserId,
        fee_bps: FeeBps,
        policy: &Policy,
        now: DateTime<Utc>,
        once: Option<&Once<Order>>,
    ) -> Result<Order> {
        let now = micros(now);
        let order = self.once(once, || {
            let (offer, t) = self.read(|c| {
                let offer: OfferCols = offers::table
                    .find(offer_id)
                    .select(OfferCols::as_select())
                    .first(c)
                    .optional()?
                    .ok_or(StoreError::NotFound)?;
                let offer = offer_record(offer)?;
                let t = load_thread(c, &offer.thread_id)?;
                Ok((offer, t))
            })?;
            let state = OfferState {
                accepted: offer.accepted_order_id.is_some(),
                expires_at: offer.expires_at,
                deadline: offer.deadline,
            };
            decide_offer_acceptance(&state, t.customer_id == customer.as_str(), now).map_err(|e| match e {
                ChatError::NotAParty => StoreError::NotFound,
                other => other.into(),
            })?;
            let (owner, availability, settings) = self.query(|c| agent_for_order(c, &offer.agent_id))?;
            let cmd = order_to_place(
                Placement {
                    id: OrderId::from_unique(ulid()),
                    customer: customer.clone(),
                    agent: AgentId::parse(&offer.agent_id).ok_or_else(|| StoreError::corrupt("offer agent"))?,
                    terms: AgentTerms::new(&owner, availability, &settings),
                    gig_id: &offer.gig_id,
                    tier: &offer.tier,
                    inputs: &offer.inputs,
                    fee_bps,
                    pick: Pick::Offer {
                        price: offer.price,
                        scope: offer.scope.clone(),
                        deadline: offer.deadline,
                    },
                },
                now,
            )?;
            let d = place_order(cmd, policy, now)?;
            // The offer is claimed in the order's own plan: an offer becomes at most
            // one order, and a concurrent second accept writes nothing.
            let mut plan = crate::order::placement(&d, &[], once, &self.base_url(), now)?;
            plan.push_first(Step::Change(Change::ClaimOffer {
                id: offer.id.clone(),
                order_id: d.order.id.to_string(),
            }));
            plan.change(Change::TouchThread {
                id: t.id.clone(),
                at: naive(now),
            });
            self.apply(&plan)?;
            Ok(d.order)
        })?;
        self.placed(&order);
        Ok(order)
    }

    /// One offer (for its thread's parties).
    pub fn offer_for(&self, offer_id: &str, viewer: Viewer<'_>) -> Result<OfferRecord> {
        self.read(|c| {
            let row: OfferCols = offers::table
                .find(offer_id)
                .select(OfferCols::as_select())
                .first(c)
                .optional()?
                .ok_or(StoreError::NotFound)?;
            let o = offer_record(row)?;
            role_of(&load_thread(c, &o.thread_id)?, viewer)?;
            Ok(o)
        })
    }
}
