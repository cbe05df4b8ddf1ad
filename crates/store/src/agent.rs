//! Agents: wizard creation, email approval, bootstrap tokens, API keys, settings,
//! pause/resume and public browsing.

use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::mail::{self, NewEmail};
use crate::prepared::KeepPrepared;
use crate::rows::naive;
use crate::schema::{agents, api_keys, approvals, bootstrap_tokens};
use crate::{Store, ulid};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::agent::{
    APPROVAL_TTL_HOURS, AgentSettings, AgentStatus, ApprovalPurpose, ApprovalRecord, BOOTSTRAP_TTL_DAYS,
    BootstrapRecord, Gig, Tier, decide_approval, decide_registration,
};
use heepr_domain::{AgentId, DomainError, Points, UserId};

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
    /// Last successful poll.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last settings change.
    pub updated_at: DateTime<Utc>,
}

impl AgentRecord {
    /// Online = a successful poll in the last 60 minutes.
    pub fn online(&self, now: DateTime<Utc>) -> bool {
        self.last_seen_at.is_some_and(|t| now - t <= Duration::minutes(60))
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = agents)]
struct AgentRow {
    id: String,
    owner_id: String,
    status: String,
    suspended: bool,
    settings: String,
    rating_sum: i64,
    rating_count: i64,
    completed_count: i64,
    last_seen_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<AgentRow> for AgentRecord {
    type Error = StoreError;

    fn try_from(r: AgentRow) -> Result<Self> {
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
            last_seen_at: r.last_seen_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// Filters and order for the public agent list.
#[derive(Debug, Clone, Default)]
pub struct BrowseQuery {
    /// Only agents in this category.
    pub category: Option<String>,
    /// Text in name, description or skills (case-insensitive).
    pub q: Option<String>,
    /// Minimum mean rating.
    pub min_rating: Option<f64>,
    /// Only agents that polled in the last hour.
    pub online: Option<bool>,
    /// Agents with a tier at or above this price.
    pub price_min: Option<i64>,
    /// Agents with a tier at or below this price.
    pub price_max: Option<i64>,
    /// Sort order.
    pub sort: BrowseSort,
    /// Page size (1–100).
    pub limit: i64,
    /// Rows to skip (from the opaque cursor).
    pub offset: i64,
}

/// Orders of the public agent list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BrowseSort {
    /// Newest first.
    #[default]
    Newest,
    /// Best rated first.
    Rating,
    /// Most completed orders first.
    Orders,
    /// Cheapest tier first.
    Price,
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

fn load(c: &mut AnyConnection, id: &str) -> Result<AgentRecord> {
    agents::table
        .find(id)
        .select(AgentRow::as_select())
        .first(c)
        .optional()?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// Loads an agent only if `owner` owns it; anyone else gets `NotFound`.
fn load_owned(c: &mut AnyConnection, owner: &UserId, id: &str) -> Result<AgentRecord> {
    let a = load(c, id)?;
    if a.owner != *owner {
        return Err(StoreError::NotFound);
    }
    Ok(a)
}

fn insert_approval(
    c: &mut AnyConnection,
    agent: &AgentId,
    owner: &UserId,
    purpose: ApprovalPurpose,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    diesel::insert_into(approvals::table)
        .values((
            approvals::code_hash.eq(code_hash),
            approvals::agent_id.eq(agent.as_str()),
            approvals::owner_id.eq(owner.as_str()),
            approvals::purpose.eq(purpose.as_str()),
            approvals::created_at.eq(naive(now)),
            approvals::expires_at.eq(naive(now + Duration::hours(APPROVAL_TTL_HOURS))),
        ))
        .execute_prepared(c)?;
    Ok(())
}

fn revoke_live_keys(c: &mut AnyConnection, agent: &str, now: DateTime<Utc>) -> Result<usize> {
    Ok(diesel::update(
        api_keys::table
            .filter(api_keys::agent_id.eq(agent))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(naive(now)))
    .execute_prepared(c)?)
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
        self.write(|c| insert_agent(c, &id, owner, &settings, AgentStatus::Active, now))?;
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
        self.write(|c| {
            insert_agent(c, &id, owner, &settings, AgentStatus::PendingApproval, now)?;
            insert_approval(c, &id, owner, ApprovalPurpose::Activate, approval_hash, now)?;
            mail::queue(c, email, now)?;
            load(c, id.as_str())
        })
    }

    /// The owner confirms an approval code: the code is used up, a pending agent
    /// becomes active, earlier unused bootstrap tokens are voided, and a new one
    /// (by hash, 7 days) is stored. Returns the agent.
    pub fn confirm_approval(
        &self,
        owner: &UserId,
        code_hash: &str,
        bootstrap_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<AgentRecord> {
        let agent = self.write(|c| {
            let row: Option<(String, String, String, NaiveDateTime, Option<NaiveDateTime>)> = approvals::table
                .find(code_hash)
                .select((
                    approvals::agent_id,
                    approvals::owner_id,
                    approvals::purpose,
                    approvals::expires_at,
                    approvals::used_at,
                ))
                .first(c)
                .optional()?;
            let record = row.as_ref().map(|(_, o, _, exp, used)| ApprovalRecord {
                owner_id: o.clone(),
                expires_at: exp.and_utc(),
                used: used.is_some(),
            });
            decide_approval(record.as_ref(), owner.as_str(), now)?;
            let Some((agent_id, _, purpose, _, _)) = row else {
                return Err(StoreError::NotFound);
            };
            let won = diesel::update(approvals::table.find(code_hash).filter(approvals::used_at.is_null()))
                .set(approvals::used_at.eq(naive(now)))
                .execute_prepared(c)?;
            if won == 0 {
                return Err(heepr_domain::agent::ApprovalError::Used.into());
            }
            if ApprovalPurpose::parse(&purpose) == Some(ApprovalPurpose::Activate) {
                diesel::update(
                    agents::table
                        .find(&agent_id)
                        .filter(agents::status.eq(AgentStatus::PendingApproval.as_str())),
                )
                .set((
                    agents::status.eq(AgentStatus::Active.as_str()),
                    agents::updated_at.eq(naive(now)),
                ))
                .execute_prepared(c)?;
            }
            diesel::update(
                bootstrap_tokens::table
                    .filter(bootstrap_tokens::agent_id.eq(&agent_id))
                    .filter(bootstrap_tokens::used_at.is_null())
                    .filter(bootstrap_tokens::voided_at.is_null()),
            )
            .set(bootstrap_tokens::voided_at.eq(naive(now)))
            .execute_prepared(c)?;
            diesel::insert_into(bootstrap_tokens::table)
                .values((
                    bootstrap_tokens::token_hash.eq(bootstrap_hash),
                    bootstrap_tokens::agent_id.eq(&agent_id),
                    bootstrap_tokens::created_at.eq(naive(now)),
                    bootstrap_tokens::expires_at.eq(naive(now + Duration::days(BOOTSTRAP_TTL_DAYS))),
                ))
                .execute_prepared(c)?;
            load(c, &agent_id)
        })?;
        self.cache.forget_agent(agent.id.as_str());
        Ok(agent)
    }

    /// Starts a new email approval for a fresh bootstrap token; with `revoke_key` the
    /// live key is revoked first (rotation).
    pub fn request_bootstrap(
        &self,
        owner: &UserId,
        agent: &str,
        code_hash: &str,
        email: &NewEmail,
        revoke_key: bool,
        now: DateTime<Utc>,
    ) -> Result<AgentRecord> {
        let a = self.write(|c| {
            let a = load_owned(c, owner, agent)?;
            if revoke_key {
                revoke_live_keys(c, agent, now)?;
            }
            insert_approval(c, &a.id, owner, ApprovalPurpose::Bootstrap, code_hash, now)?;
            mail::queue(c, email, now)?;
            Ok(a)
        })?;
        self.cache.forget_agent(agent);
        Ok(a)
    }

    /// Exchanges a bootstrap token for an API key (both by hash). Checks unknown →
    /// used → expired → active key; under a race exactly one caller wins, because
    /// the token is consumed with a conditional update.
    pub fn register_agent(
        &self,
        token_hash: &str,
        agent_id: &str,
        key_hash: &str,
        key_ttl: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Result<AgentId> {
        let id = self.write(|c| {
            // Keys are counted before the token is read: a concurrent winner that commits in
            // between then shows up as `used`, never as `active_key_exists`.
            let live_keys: i64 = api_keys::table
                .filter(api_keys::agent_id.eq(agent_id))
                .filter(api_keys::revoked_at.is_null())
                .filter(api_keys::expires_at.is_null().or(api_keys::expires_at.gt(naive(now))))
                .count()
                .get_result(c)?;
            let row: Option<(String, NaiveDateTime, Option<NaiveDateTime>, Option<NaiveDateTime>)> =
                bootstrap_tokens::table
                    .find(token_hash)
                    .select((
                        bootstrap_tokens::agent_id,
                        bootstrap_tokens::expires_at,
                        bootstrap_tokens::used_at,
                        bootstrap_tokens::voided_at,
                    ))
                    .first(c)
                    .optional()?;
            let record = row.map(|(a, exp, used, voided)| BootstrapRecord {
                agent_id: a,
                expires_at: exp.and_utc(),
                used: used.is_some(),
                voided: voided.is_some(),
            });
            decide_registration(record.as_ref(), agent_id, live_keys > 0, now)?;
            let won = diesel::update(
                bootstrap_tokens::table
                    .find(token_hash)
                    .filter(bootstrap_tokens::used_at.is_null()),
            )
            .set(bootstrap_tokens::used_at.eq(naive(now)))
            .execute_prepared(c)?;
            if won == 0 {
                return Err(heepr_domain::agent::RegisterError::Used.into());
            }
            diesel::insert_into(api_keys::table)
                .values((
                    api_keys::key_hash.eq(key_hash),
                    api_keys::agent_id.eq(agent_id),
                    api_keys::created_at.eq(naive(now)),
                    api_keys::expires_at.eq(key_ttl.map(|t| naive(now + t))),
                ))
                .execute_prepared(c)?;
            AgentId::parse(agent_id).ok_or(StoreError::NotFound)
        });
        // A PostgreSQL loser blocked on the token row may also fail on the key insert
        // race; either way it lost to a concurrent registration.
        let id = id.map_err(|e| match e {
            StoreError::Database(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::SerializationFailure,
                _,
            )) => heepr_domain::agent::RegisterError::Used.into(),
            other => other,
        })?;
        self.cache.forget_agent(id.as_str());
        Ok(id)
    }

    /// Revokes the agent's live API key(s). Returns whether one was live.
    pub fn revoke_agent_key(&self, owner: &UserId, agent: &str, now: DateTime<Utc>) -> Result<bool> {
        let n = self.write(|c| {
            load_owned(c, owner, agent)?;
            revoke_live_keys(c, agent, now)
        })?;
        self.cache.forget_agent(agent);
        Ok(n > 0)
    }

    /// Whether the agent has a live key (for the owner's dashboard).
    pub fn agent_has_live_key(&self, agent: &str, now: DateTime<Utc>) -> Result<bool> {
        self.read(|c| {
            let n: i64 = api_keys::table
                .filter(api_keys::agent_id.eq(agent))
                .filter(api_keys::revoked_at.is_null())
                .filter(api_keys::expires_at.is_null().or(api_keys::expires_at.gt(naive(now))))
                .count()
                .get_result(c)?;
            Ok(n > 0)
        })
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
            let rows: Vec<AgentRow> = agents::table
                .filter(agents::owner_id.eq(owner.as_str()))
                .order((agents::created_at.desc(), agents::id.desc()))
                .select(AgentRow::as_select())
                .load(c)?;
            rows.into_iter().map(AgentRecord::try_from).collect()
        })
    }

    /// Replaces the settings (validated). Active orders keep their snapshot.
    pub fn update_agent_settings(
        &self,
        owner: &UserId,
        id: &str,
        mut settings: AgentSettings,
        now: DateTime<Utc>,
    ) -> Result<AgentRecord> {
        settings.validate()?;
        let a = self.write(|c| {
            let before = load_owned(c, owner, id)?;
            assign_gig_ids(&mut settings, &before.settings.gigs);
            let (categories, search, min, max) = derived(&settings);
            diesel::update(agents::table.find(id))
                .set((
                    agents::name.eq(&settings.name),
                    agents::settings.eq(serde_json::to_string(&settings).map_err(StoreError::corrupt)?),
                    agents::description.eq(&settings.description),
                    agents::categories.eq(categories),
                    agents::search.eq(search),
                    agents::price_min.eq(min),
                    agents::price_max.eq(max),
                    agents::updated_at.eq(naive(now)),
                    agents::version.eq(agents::version + 1),
                ))
                .execute_prepared(c)?;
            load(c, id)
        })?;
        self.cache.forget_agent(id);
        Ok(a)
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
        let a = self.write(|c| {
            let a = match owner {
                Some(o) => load_owned(c, o, id)?,
                None => load(c, id)?,
            };
            if a.status == AgentStatus::PendingApproval {
                return Err(DomainError::InvalidInput {
                    field: "status",
                    message: "the agent is not approved yet".into(),
                }
                .into());
            }
            let status = if paused {
                AgentStatus::Paused
            } else {
                AgentStatus::Active
            };
            diesel::update(agents::table.find(id))
                .set((agents::status.eq(status.as_str()), agents::updated_at.eq(naive(now))))
                .execute_prepared(c)?;
            load(c, id)
        })?;
        self.cache.forget_agent(id);
        Ok(a)
    }

    /// The public list: approved agents matching `q`, one page.
    pub fn browse_agents(&self, q: &BrowseQuery, now: DateTime<Utc>) -> Result<Vec<AgentRecord>> {
        self.read(|c| {
            let mut query = agents::table
                .filter(agents::status.ne(AgentStatus::PendingApproval.as_str()))
                .select(AgentRow::as_select())
                .into_boxed();
            if let Some(cat) = &q.category {
                query = query.filter(
                    agents::categories
                        .like(format!("%,{},%", like_escape(cat)))
                        .escape('\\'),
                );
            }
            if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                query = query.filter(
                    agents::search
                        .like(format!("%{}%", like_escape(&text.to_lowercase())))
                        .escape('\\'),
                );
            }
            if let Some(min) = q.min_rating {
                let tenths = (min * 10.0).round() as i64;
                query = query
                    .filter(agents::rating_count.gt(0))
                    .filter((agents::rating_sum * 10).ge(agents::rating_count * tenths));
            }
            if let Some(online) = q.online {
                let since = naive(now - Duration::minutes(60));
                query = if online {
                    query.filter(agents::last_seen_at.ge(since))
                } else {
                    query.filter(agents::last_seen_at.is_null().or(agents::last_seen_at.lt(since)))
                };
            }
            if let Some(p) = q.price_min {
                query = query.filter(agents::price_max.ge(p));
            }
            if let Some(p) = q.price_max {
                query = query.filter(agents::price_min.le(p));
            }
            query = match q.sort {
                BrowseSort::Newest => query.order((agents::created_at.desc(), agents::id.desc())),
                BrowseSort::Rating => query.order((
                    agents::rating_x100.desc(),
                    agents::rating_count.desc(),
                    agents::id.desc(),
                )),
                BrowseSort::Orders => query.order((agents::completed_count.desc(), agents::id.desc())),
                BrowseSort::Price => query.order((agents::price_min.asc(), agents::id.desc())),
            };
            let rows: Vec<AgentRow> = query.limit(q.limit.clamp(1, 100)).offset(q.offset.max(0)).load(c)?;
            rows.into_iter().map(AgentRecord::try_from).collect()
        })
    }
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn insert_agent(
    c: &mut AnyConnection,
    id: &AgentId,
    owner: &UserId,
    settings: &AgentSettings,
    status: AgentStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    let (categories, search, min, max) = derived(settings);
    diesel::insert_into(agents::table)
        .values((
            agents::id.eq(id.as_str()),
            agents::owner_id.eq(owner.as_str()),
            agents::name.eq(&settings.name),
            agents::status.eq(status.as_str()),
            agents::suspended.eq(false),
            agents::settings.eq(serde_json::to_string(settings).map_err(StoreError::corrupt)?),
            agents::description.eq(&settings.description),
            agents::categories.eq(categories),
            agents::search.eq(search),
            agents::price_min.eq(min),
            agents::price_max.eq(max),
            agents::event_seq.eq(0i64),
            agents::delivered_seq.eq(0i64),
            agents::created_at.eq(naive(now)),
            agents::updated_at.eq(naive(now)),
            agents::version.eq(0i64),
        ))
        .execute_prepared(c)?;
    Ok(())
}
