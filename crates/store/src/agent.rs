//! Agents: wizard creation, settings, pause/resume. Approvals, bootstrap tokens and API
//! keys are in `credentials`; public browsing and the leaderboard in `browse`.

use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::listen::Stale;
use crate::mail::{self, NewEmail};
use crate::plan::Plan;
use crate::plan::record::{AgentRow, Change, NewRow};
use crate::rows::naive;
use crate::schema::agents;
use crate::{Store, ulid};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::agent::{AgentSettings, AgentStatus, ApprovalPurpose, Gig, Tier, decide_pause, is_online};
use heepr_domain::reputation::Reputation;
use heepr_domain::{AgentId, Points, UserId};

/// An agent as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    /// Id.
    pub id: AgentId,
    /// Owner.
    pub owner: UserId,
    /// Life-cycle status.
    pub status: AgentStatus,
    /// Suspended by support.
    pub suspended: bool,
    /// Everything the wizard set.
    pub settings: AgentSettings,
    /// Mean review (1–5), if reviewed.
    pub rating: Option<f64>,
    /// Number of reviews.
    pub reviews: i64,
    /// Completed orders.
    pub completed_orders: i64,
    /// Every counter of its record (`heepr_domain::reputation`).
    pub reputation: Reputation,
    /// The stored leaderboard score × 1000 (0: not ranked).
    pub score_x1000: i64,
    /// Last successful poll.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last settings change.
    pub updated_at: DateTime<Utc>,
    /// Bumped by every settings change: a change decided on an older copy is refused.
    pub(crate) version: i64,
    /// The stored sort keys of browsing (`sort=rating`, `sort=price`), for its cursor.
    pub(crate) rating_x100: i64,
    pub(crate) price_min: i64,
}

impl AgentRecord {
    /// Whether it polled recently enough to count as online (the domain's rule).
    pub fn online(&self, now: DateTime<Utc>) -> bool {
        is_online(self.last_seen_at, now)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = agents)]
pub(crate) struct AgentCols {
    id: String,
    owner_id: String,
    status: String,
    suspended: bool,
    settings: String,
    rating_sum: i64,
    rating_count: i64,
    rating_x100: i64,
    completed_count: i64,
    on_time_count: i64,
    missed_deadline_count: i64,
    decline_count: i64,
    flag_count: i64,
    score_x1000: i64,
    price_min: i64,
    last_seen_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl TryFrom<AgentCols> for AgentRecord {
    type Error = StoreError;

    fn try_from(r: AgentCols) -> Result<Self> {
        let corrupt = |what: &str| StoreError::corrupt(format!("agent {}: {what}", r.id));
        Ok(Self {
            id: AgentId::parse(&r.id).ok_or_else(|| corrupt("id"))?,
            owner: UserId::parse(&r.owner_id).ok_or_else(|| corrupt("owner"))?,
            status: AgentStatus::parse(&r.status).ok_or_else(|| corrupt("status"))?,
            suspended: r.suspended,
            settings: serde_json::from_str(&r.settings).map_err(|e| corrupt(&e.to_string()))?,
            rating: (r.rating_count > 0).then(|| r.rating_sum as f64 / r.rating_count as f64),
            reviews: r.rating_count,
            completed_orders: r.completed_count,
            reputation: Reputation {
                completed: r.completed_count,
                rating_sum: r.rating_sum,
                rating_count: r.rating_count,
                on_time: r.on_time_count,
                missed_deadlines: r.missed_deadline_count,
                declines: r.decline_count,
                flags: r.flag_count,
            },
            score_x1000: r.score_x1000,
            last_seen_at: r.last_seen_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            version: r.version,
            rating_x100: r.rating_x100,
            price_min: r.price_min,
        })
    }
}

/// Gives every gig an id (keeping ids the owner sent back) so orders can name it.
fn assign_gig_ids(settings: &mut AgentSettings, existing: &[Gig]) {
    for g in &mut settings.gigs {
        let known =
            g.id.as_ref()
                .is_some_and(|id| existing.iter().any(|e| e.id.as_ref() == Some(id)));
        if !known {
            g.id = Some(format!("gig_{}", ulid()));
        }
    }
}

/// The columns derived from the settings, so browsing can filter in SQL.
fn derived(settings: &AgentSettings) -> (String, String, i64, i64) {
    let categories = format!(",{},", settings.categories.join(","));
    let search = format!(
        "{} {} {}",
        settings.name,
        settings.description,
        settings.skills.join(" ")
    )
    .to_lowercase();
    let (min, max) = settings.price_range();
    (categories, search, min.get(), max.get())
}

pub(crate) fn load(c: &mut AnyConnection, id: &str) -> Result<AgentRecord> {
    agents::table
        .find(id)
        .select(AgentCols::as_select())
        .first(c)
        .optional()?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// Loads an agent only if `owner` owns it; anyone else gets `NotFound`.
pub(crate) fn load_owned(c: &mut AnyConnection, owner: &UserId, id: &str) -> Result<AgentRecord> {
    let a = load(c, id)?;
    if a.owner != *owner {
        return Err(StoreError::NotFound);
    }
    Ok(a)
}

impl Store {
    /// Creates an active agent with one minimal gig, skipping the wizard and the
    /// approval (tests, benchmarks and seeding).
    pub fn create_agent(&self, owner: &UserId, name: &str, now: DateTime<Utc>) -> Result<AgentId> {
        let mut settings = AgentSettings {
            name: name.to_owned(),
            avatar_url: None,
            description: String::new(),
            categories: vec!["code".into()],
            skills: vec![],
            tools: vec![],
            gigs: vec![Gig {
                id: None,
                title: "General".into(),
                category: "code".into(),
                description: String::new(),
                form: vec![],
                tiers: vec![Tier {
                    name: "Basic".into(),
                    price: Points(10),
                    delivery_days: 1,
                    revisions: 1,
                }],
            }],
            poll_minutes: heepr_domain::agent::DEFAULT_POLL_MINUTES,
            accept_mode: heepr_domain::AcceptMode::Auto { bands: vec![] },
            auto_approve_deliveries: false,
        };
        assign_gig_ids(&mut settings, &[]);
        let id = AgentId::from_unique(ulid());
        let mut plan = Plan::new();
        plan.insert(new_agent(&id, owner, &settings, AgentStatus::Active, now)?);
        self.apply(&plan)?;
        Ok(id)
    }

    /// The wizard: validates every field, creates the agent in `pending_approval`,
    /// records the approval code (by hash) and queues the approval email — one
    /// transaction.
    pub fn create_agent_wizard(
        &self,
        owner: &UserId,
        mut settings: AgentSettings,
        approval_hash: &str,
        email: &NewEmail,
        now: DateTime<Utc>,
    ) -> Result<AgentRecord> {
        settings.validate()?;
        assign_gig_ids(&mut settings, &[]);
        let id = AgentId::from_unique(ulid());
        let mut plan = Plan::new();
        plan.insert(new_agent(&id, owner, &settings, AgentStatus::PendingApproval, now)?);
        plan.insert(crate::credentials::new_approval(
            &id,
            owner,
            ApprovalPurpose::Activate,
            approval_hash,
            now,
        ));
        plan.insert(mail::row(email, now));
        self.apply(&plan)?;
        self.read(|c| load(c, id.as_str()))
    }

    /// Any agent (public profile, skill rendering).
    pub fn agent(&self, id: &str) -> Result<AgentRecord> {
        let mut a = self.read(|c| load(c, id))?;
        a.last_seen_at = a.last_seen_at.max(self.pending_heartbeat(id));
        Ok(a)
    }

    /// One of `owner`'s agents; another owner's agent is `NotFound`.
    pub fn owner_agent(&self, owner: &UserId, id: &str) -> Result<AgentRecord> {
        let mut a = self.read(|c| load_owned(c, owner, id))?;
        a.last_seen_at = a.last_seen_at.max(self.pending_heartbeat(id));
        Ok(a)
    }

    /// All of `owner`'s agents, newest first.
    pub fn owner_agents(&self, owner: &UserId) -> Result<Vec<AgentRecord>> {
        self.read(|c| {
            let rows: Vec<AgentCols> = agents::table
                .filter(agents::owner_id.eq(owner.as_str()))
                .order((agents::created_at.desc(), agents::id.desc()))
                .select(AgentCols::as_select())
                .load(c)?;
            rows.into_iter().map(AgentRecord::try_from).collect()
        })
    }

    /// Replaces the settings (validated). Active orders keep their snapshot.
    pub fn update_agent_settings(
        &self,
        owner: &UserId,
        id: &str,
        settings: AgentSettings,
        now: DateTime<Utc>,
    ) -> Result<AgentRecord> {
        settings.validate()?;
        crate::order::retrying(|| {
            let before = self.read(|c| load_owned(c, owner, id))?;
            let mut settings = settings.clone();
            assign_gig_ids(&mut settings, &before.settings.gigs);
            let (categories, search, price_min, price_max) = derived(&settings);
            let mut plan = Plan::new();
            plan.change(Change::AgentSettings {
                id: id.to_owned(),
                expected_version: before.version,
                name: settings.name.clone(),
                settings: serde_json::to_string(&settings).map_err(StoreError::corrupt)?,
                description: settings.description.clone(),
                categories,
                search,
                price_min,
                price_max,
                at: naive(now),
            });
            plan.makes_stale(Stale::Agent(id.to_owned()));
            self.apply(&plan)
        })?;
        self.read(|c| load(c, id))
    }

    /// Pauses or resumes an approved agent. `owner = None` means the agent itself
    /// (`POST /api/status`). Suspension is a separate flag and is never changed here.
    pub fn set_agent_paused(
        &self,
        owner: Option<&UserId>,
        id: &str,
        paused: bool,
        now: DateTime<Utc>,
    ) -> Result<AgentRecord> {
        crate::order::retrying(|| {
            let a = self.read(|c| match owner {
                Some(o) => load_owned(c, o, id),
                None => load(c, id),
            })?;
            let to = decide_pause(a.status, paused)?;
            let mut plan = Plan::new();
            plan.change(Change::AgentStatus {
                id: id.to_owned(),
                from: vec![a.status.as_str()],
                to: to.as_str(),
                optional: false,
                at: naive(now),
            });
            plan.makes_stale(Stale::Agent(id.to_owned()));
            self.apply(&plan)
        })?;
        self.read(|c| load(c, id))
    }
}

pub(crate) fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A new agent's row.
fn new_agent(
    id: &AgentId,
    owner: &UserId,
    settings: &AgentSettings,
    status: AgentStatus,
    now: DateTime<Utc>,
) -> Result<NewRow> {
    let (categories, search, price_min, price_max) = derived(settings);
    Ok(NewRow::Agent(AgentRow {
        id: id.to_string(),
        owner_id: owner.to_string(),
        name: settings.name.clone(),
        status: status.as_str(),
        suspended: false,
        settings: serde_json::to_string(settings).map_err(StoreError::corrupt)?,
        description: settings.description.clone(),
        categories,
        search,
        price_min,
        price_max,
        event_seq: 0,
        delivered_seq: 0,
        created_at: naive(now),
        updated_at: naive(now),
        version: 0,
    }))
}
