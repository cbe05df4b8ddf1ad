//! What the customer picked — a gig tier at its listed terms, or an accepted offer —
//! turned into the [`PlaceOrder`] to place. One function for both paths, so the tier
//! lookup, the order-form check and the snapshot of the terms cannot drift apart.

use super::{AgentAvailability, Attachment, PlaceOrder, WorkSpec};
use crate::Timestamp;
use crate::agent::{AgentSettings, Gig, SettingsError, Tier, bad, validate_inputs};
use crate::chat::offer_delivery_days;
use crate::ids::{AgentId, OrderId, UserId};
use crate::points::{FeeBps, Points};

/// The agent's side of a placement, as stored now: its owner, whether it takes
/// orders, and its live settings.
#[derive(Debug, Clone, Copy)]
pub struct AgentTerms<'a> {
    /// The agent's owner (paid through the order).
    pub owner: &'a UserId,
    /// Whether it takes orders (a paused or suspended agent is refused by placement).
    pub availability: AgentAvailability,
    /// Its live settings: gigs, tiers, forms, accept mode.
    pub settings: &'a AgentSettings,
}

impl<'a> AgentTerms<'a> {
    /// The terms of an agent owned by `owner`, taking orders as `availability` says.
    pub fn new(owner: &'a UserId, availability: AgentAvailability, settings: &'a AgentSettings) -> Self {
        Self {
            owner,
            availability,
            settings,
        }
    }
}

/// How the customer came to the order.
#[derive(Debug, Clone)]
pub enum Pick {
    /// A gig tier at its listed price and delivery days, with the customer's brief and
    /// attachments (already stored; their names are checked by `file` form fields).
    Tier {
        /// Free brief.
        brief: Option<String>,
        /// The order's attachments.
        attachments: Vec<Attachment>,
    },
    /// An accepted offer: its price, scope and deadline replace the tier's, and owner
    /// approval is skipped (the owner made the offer).
    Offer {
        /// The offered price.
        price: Points,
        /// The agreed scope.
        scope: String,
        /// The agreed deadline (sets the delivery days).
        deadline: Timestamp,
    },
}

/// Everything a placement names.
#[derive(Debug, Clone)]
pub struct Placement<'a> {
    /// The new order's id.
    pub id: OrderId,
    /// Who pays.
    pub customer: UserId,
    /// Which agent.
    pub agent: AgentId,
    /// The agent's live terms.
    pub terms: AgentTerms<'a>,
    /// The gig, by id.
    pub gig_id: &'a str,
    /// The tier, by name.
    pub tier: &'a str,
    /// The order-form answers.
    pub inputs: &'a serde_json::Value,
    /// The platform fee in force.
    pub fee_bps: FeeBps,
    /// Tier or offer.
    pub pick: Pick,
}

/// Finds a gig (by id) and one of its tiers (by name) in an agent's settings.
pub fn find_tier<'a>(
    settings: &'a AgentSettings,
    gig_id: &str,
    tier: &str,
) -> Result<(&'a Gig, &'a Tier), SettingsError> {
    let gig = settings
        .gigs
        .iter()
        .find(|g| g.id.as_deref() == Some(gig_id))
        .ok_or_else(|| bad("gig_id", "this agent has no such gig"))?;
    let t = gig
        .tiers
        .iter()
        .find(|t| t.name == tier)
        .ok_or_else(|| bad("tier", "this gig has no such tier"))?;
    Ok((gig, t))
}

/// The order to place for `p` at `now`: the gig and tier looked up in the agent's live
/// settings, the inputs checked against the gig's form (a `file` field must name an
/// attachment), and the terms snapshotted so later edits of the gig change nothing.
pub fn order_to_place(p: Placement<'_>, now: Timestamp) -> Result<PlaceOrder, SettingsError> {
    let (gig, tier) = find_tier(p.terms.settings, p.gig_id, p.tier)?;
    let names: Vec<String> = match &p.pick {
        Pick::Tier { attachments, .. } => attachments.iter().map(|a| a.name.clone()).collect(),
        Pick::Offer { .. } => Vec::new(),
    };
    let inputs = validate_inputs(&gig.form, p.inputs, &names)?;
    let (price, scope, brief, attachments, delivery_days, from_offer) = match p.pick {
        Pick::Tier { brief, attachments } => (tier.price, None, brief, attachments, tier.delivery_days, false),
        Pick::Offer { price, scope, deadline } => (
            price,
            Some(scope),
            None,
            Vec::new(),
            offer_delivery_days(deadline, now),
            true,
        ),
    };
    Ok(PlaceOrder {
        id: p.id,
        customer: p.customer,
        owner: p.terms.owner.clone(),
        agent: p.agent,
        availability: p.terms.availability,
        accept_mode: p.terms.settings.accept_mode.clone(),
        price,
        fee_bps: p.fee_bps,
        work: WorkSpec {
            gig_title: gig.title.clone(),
            tier_name: tier.name.clone(),
            inputs: serde_json::Value::Object(inputs),
            scope,
            brief,
            attachments,
            delivery_days,
            category: gig.category.clone(),
        },
        revisions_included: tier.revisions,
        auto_approve_deliveries: p.terms.settings.auto_approve_deliveries,
        from_offer,
    })
}
