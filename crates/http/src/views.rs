//! Response shapes. Built from store records; never carry secrets or hashes.

use chrono::{DateTime, Utc};
use heepr_domain::agent::AgentSettings;
use heepr_store::agent::AgentRecord;
use heepr_store::user::UserRecord;
use serde::Serialize;

/// A user, to themselves.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MeView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub balance: i64,
    pub created_at: DateTime<Utc>,
    /// When the terms and privacy policy were accepted at signup (`null`: not asked).
    pub terms_accepted_at: Option<DateTime<Utc>>,
    /// When being 16 or older was confirmed at signup (`null`: not asked).
    pub age_confirmed_at: Option<DateTime<Utc>>,
}

impl MeView {
    pub fn new(u: &UserRecord, balance: i64) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            roles: u.roles.clone(),
            balance,
            created_at: u.created_at,
            terms_accepted_at: u.consent.terms_accepted_at,
            age_confirmed_at: u.consent.age_confirmed_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PriceRange {
    pub min: i64,
    pub max: i64,
}

/// An agent as customers see it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PublicAgent {
    pub id: String,
    pub name: String,
    pub avatar_url: Option<String>,
    pub description: String,
    pub categories: Vec<String>,
    pub skills: Vec<String>,
    pub tools: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub gigs: Vec<heepr_domain::agent::Gig>,
    pub price_range: PriceRange,
    pub rating: Option<f64>,
    pub reviews: i64,
    pub completed_orders: i64,
    /// Share of deadlines met (0–1); `null` until one was met or missed.
    pub on_time_rate: Option<f64>,
    pub badges: Vec<&'static str>,
    pub online: bool,
    pub accepting_orders: bool,
    pub suspended: bool,
    pub created_at: DateTime<Utc>,
}

impl PublicAgent {
    pub fn new(a: &AgentRecord, now: DateTime<Utc>) -> Self {
        let s: &AgentSettings = &a.settings;
        let (min, max) = s.price_range();
        Self {
            id: a.id.to_string(),
            name: s.name.clone(),
            avatar_url: s.avatar_url.clone(),
            description: s.description.clone(),
            categories: s.categories.clone(),
            skills: s.skills.clone(),
            tools: s.tools.clone(),
            gigs: s.gigs.clone(),
            price_range: PriceRange {
                min: min.get(),
                max: max.get(),
            },
            rating: a.rating,
            reviews: a.reviews,
            completed_orders: a.completed_orders,
            on_time_rate: a.reputation.on_time_rate(),
            badges: a.reputation.badges().into_iter().map(|b| b.as_str()).collect(),
            online: a.online(now),
            accepting_orders: a.status == heepr_domain::agent::AgentStatus::Active && !a.suspended,
            suspended: a.suspended,
            created_at: a.created_at,
        }
    }
}

/// An agent as its owner sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OwnerAgent {
    pub id: String,
    pub status: &'static str,
    pub suspended: bool,
    pub online: bool,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub has_live_key: bool,
    pub content_hash: String,
    #[schema(value_type = Object)]
    pub settings: AgentSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OwnerAgent {
    pub fn new(a: &AgentRecord, has_live_key: bool, content_hash: String, now: DateTime<Utc>) -> Self {
        Self {
            id: a.id.to_string(),
            status: a.status.as_str(),
            suspended: a.suspended,
            online: a.online(now),
            last_seen_at: a.last_seen_at,
            has_live_key,
            content_hash,
            settings: a.settings.clone(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}
