//! An agent's credentials: email approval codes, bootstrap links, bootstrap tokens and
//! API keys, all stored only as hashes. Each write loads what the domain needs, lets it
//! decide, and applies one plan whose conditional steps (a code, a link or a token used
//! at most once) settle races: of two concurrent confirmations exactly one wins.

use crate::Store;
use crate::agent::{AgentRecord, load, load_owned};
use crate::error::{Result, StoreError};
use crate::listen::Stale;
use crate::mail::{self, NewEmail};
use crate::plan::Plan;
use crate::plan::record::{ApiKeyRow, ApprovalRow, BootstrapTokenRow, Change, NewRow};
use crate::prepared::KeepPrepared;
use crate::rows::naive;
use crate::schema::{api_keys, approvals, bootstrap_links, bootstrap_tokens};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::agent::{
    APPROVAL_TTL_HOURS, AgentStatus, ApprovalPurpose, ApprovalRecord, BOOTSTRAP_TTL_DAYS, BootstrapRecord,
    RegisterError, SETUP_LINK_TTL_HOURS, SetupLinkError, SetupLinkRecord, decide_approval, decide_registration,
    decide_setup_link,
};
use heepr_domain::{AgentId, UserId};

/// A new approval code's row (by hash), valid for [`APPROVAL_TTL_HOURS`].
pub(crate) fn new_approval(
    agent: &AgentId,
    owner: &UserId,
    purpose: ApprovalPurpose,
    code_hash: &str,
    now: DateTime<Utc>,
) -> NewRow {
    NewRow::Approval(ApprovalRow {
        code_hash: code_hash.to_owned(),
        agent_id: agent.to_string(),
        owner_id: owner.to_string(),
        purpose: purpose.as_str(),
        created_at: naive(now),
        expires_at: naive(now + Duration::hours(APPROVAL_TTL_HOURS)),
    })
}

/// A bootstrap link's row: the hash of its secret, never the secret.
#[derive(Debug, Insertable)]
#[diesel(table_name = bootstrap_links)]
pub(crate) struct SetupLinkRow {
    link_hash: String,
    agent_id: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

/// A targeted change to bootstrap links (a plan step: `Change::SetupLink`).
#[derive(Debug)]
pub(crate) enum LinkChange {
    /// The link fetched, only once and only while not voided (else `link_used`).
    Use { link_hash: String, at: NaiveDateTime },
    /// Every unused link of an agent voided (a new token is on its way).
    VoidAll { agent_id: String, at: NaiveDateTime },
}

pub(crate) fn insert_link(c: &mut crate::AnyConnection, row: &SetupLinkRow) -> Result<()> {
    diesel::insert_into(bootstrap_links::table)
        .values(row)
        .execute_prepared(c)?;
    Ok(())
}

pub(crate) fn change_link(c: &mut crate::AnyConnection, ch: &LinkChange) -> Result<()> {
    let unused = bootstrap_links::used_at
        .is_null()
        .and(bootstrap_links::voided_at.is_null());
    match ch {
        LinkChange::Use { link_hash, at } => {
            let n = diesel::update(bootstrap_links::table.find(link_hash).filter(unused))
                .set(bootstrap_links::used_at.eq(at))
                .execute_prepared(c)?;
            if n == 0 {
                return Err(SetupLinkError::Used.into());
            }
        }
        LinkChange::VoidAll { agent_id, at } => {
            diesel::update(
                bootstrap_links::table
                    .filter(bootstrap_links::agent_id.eq(agent_id))
                    .filter(unused),
            )
            .set(bootstrap_links::voided_at.eq(at))
            .execute_prepared(c)?;
        }
    }
    Ok(())
}

/// Voids the agent's unused bootstrap links and tokens, and adds a fresh token (by hash,
/// 7 days): what approving, and fetching a bootstrap link, both do.
fn fresh_token(plan: &mut Plan, agent_id: &str, bootstrap_hash: &str, now: DateTime<Utc>) {
    plan.change(Change::VoidBootstrapTokens {
        agent_id: agent_id.to_owned(),
        at: naive(now),
    });
    plan.insert(NewRow::BootstrapToken(BootstrapTokenRow {
        token_hash: bootstrap_hash.to_owned(),
        agent_id: agent_id.to_owned(),
        created_at: naive(now),
        expires_at: naive(now + Duration::days(BOOTSTRAP_TTL_DAYS)),
    }));
}

/// A lost race on a conditional step: a PostgreSQL loser blocked on the winner's row
/// may fail with a serialization error instead of finding the row changed.
fn lost_race(e: StoreError, as_: StoreError) -> StoreError {
    match e {
        StoreError::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::SerializationFailure,
            _,
        )) => as_,
        other => other,
    }
}

/// Live (unrevoked, unexpired) keys of an agent.
fn live_keys(c: &mut crate::AnyConnection, agent: &str, now: DateTime<Utc>) -> Result<i64> {
    Ok(api_keys::table
        .filter(api_keys::agent_id.eq(agent))
        .filter(api_keys::revoked_at.is_null())
        .filter(api_keys::expires_at.is_null().or(api_keys::expires_at.gt(naive(now))))
        .count()
        .get_result(c)?)
}

impl Store {
    /// The owner confirms an approval code: the code is used up, a pending agent
    /// becomes active, earlier unused bootstrap tokens and links are voided, and a new
    /// token (by hash, 7 days) and a new bootstrap link (by the hash of its secret,
    /// [`SETUP_LINK_TTL_HOURS`]) are stored. Returns the agent.
    pub fn confirm_approval(
        &self,
        owner: &UserId,
        code_hash: &str,
        bootstrap_hash: &str,
        link_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<AgentRecord> {
        let row: Option<(String, String, String, NaiveDateTime, Option<NaiveDateTime>)> = self.query(|c| {
            Ok(approvals::table
                .find(code_hash)
                .select((
                    approvals::agent_id,
                    approvals::owner_id,
                    approvals::purpose,
                    approvals::expires_at,
                    approvals::used_at,
                ))
                .first(c)
                .optional()?)
        })?;
        let record = row.as_ref().map(|(_, o, _, exp, used)| ApprovalRecord {
            owner_id: o.clone(),
            expires_at: exp.and_utc(),
            used: used.is_some(),
        });
        decide_approval(record.as_ref(), owner.as_str(), now)?;
        let Some((agent_id, _, purpose, _, _)) = row else {
            return Err(StoreError::NotFound);
        };
        let mut plan = Plan::new();
        plan.change(Change::UseApproval {
            code_hash: code_hash.to_owned(),
            at: naive(now),
        });
        if ApprovalPurpose::parse(&purpose) == Some(ApprovalPurpose::Activate) {
            plan.change(Change::AgentStatus {
                id: agent_id.clone(),
                from: vec![AgentStatus::PendingApproval.as_str()],
                to: AgentStatus::Active.as_str(),
                optional: true,
                at: naive(now),
            });
        }
        fresh_token(&mut plan, &agent_id, bootstrap_hash, now);
        plan.change(Change::SetupLink(LinkChange::VoidAll {
            agent_id: agent_id.clone(),
            at: naive(now),
        }));
        plan.insert(NewRow::SetupLink(SetupLinkRow {
            link_hash: link_hash.to_owned(),
            agent_id: agent_id.clone(),
            created_at: naive(now),
            expires_at: naive(now + Duration::hours(SETUP_LINK_TTL_HOURS)),
        }));
        plan.makes_stale(Stale::Agent(agent_id.clone()));
        self.apply(&plan)?;
        self.read(|c| load(c, &agent_id))
    }

    /// A bootstrap link is fetched (no login: the link's secret is the capability). It
    /// works once: the link is used up, the agent's earlier unused bootstrap tokens are
    /// voided and a fresh one (by hash) is stored. Returns the agent, whose Skill Setup
    /// the caller renders around the token it minted. Of concurrent fetches exactly one
    /// wins; the others see `link_used`.
    pub fn redeem_setup_link(&self, link_hash: &str, bootstrap_hash: &str, now: DateTime<Utc>) -> Result<AgentRecord> {
        type LinkCols = (String, NaiveDateTime, Option<NaiveDateTime>, Option<NaiveDateTime>);
        let row: Option<LinkCols> = self.query(|c| {
            Ok(bootstrap_links::table
                .find(link_hash)
                .select((
                    bootstrap_links::agent_id,
                    bootstrap_links::expires_at,
                    bootstrap_links::used_at,
                    bootstrap_links::voided_at,
                ))
                .first(c)
                .optional()?)
        })?;
        let record = row.as_ref().map(|(_, exp, used, voided)| SetupLinkRecord {
            expires_at: exp.and_utc(),
            used: used.is_some(),
            voided: voided.is_some(),
        });
        decide_setup_link(record.as_ref(), now)?;
        let Some((agent_id, ..)) = row else {
            return Err(SetupLinkError::Unknown.into());
        };
        let mut plan = Plan::new();
        plan.change(Change::SetupLink(LinkChange::Use {
            link_hash: link_hash.to_owned(),
            at: naive(now),
        }));
        fresh_token(&mut plan, &agent_id, bootstrap_hash, now);
        self.apply(&plan)
            .map_err(|e| lost_race(e, SetupLinkError::Used.into()))?;
        self.read(|c| load(c, &agent_id))
    }

    /// Starts a new email approval for a fresh bootstrap token and voids the bootstrap
    /// link handed out before; with `revoke_key` the live key is revoked first (rotation).
    pub fn request_bootstrap(
        &self,
        owner: &UserId,
        agent: &str,
        code_hash: &str,
        email: &NewEmail,
        revoke_key: bool,
        now: DateTime<Utc>,
    ) -> Result<AgentRecord> {
        let a = self.read(|c| load_owned(c, owner, agent))?;
        let mut plan = Plan::new();
        if revoke_key {
            plan.change(Change::RevokeApiKeys {
                agent_id: agent.to_owned(),
                at: naive(now),
            });
        }
        // The bootstrap link handed out before goes at once (it may be why the owner asks).
        plan.change(Change::SetupLink(LinkChange::VoidAll {
            agent_id: agent.to_owned(),
            at: naive(now),
        }));
        plan.insert(new_approval(&a.id, owner, ApprovalPurpose::Bootstrap, code_hash, now));
        plan.insert(mail::row(email, now));
        plan.makes_stale(Stale::Agent(agent.to_owned()));
        self.apply(&plan)?;
        Ok(a)
    }

    /// Exchanges a bootstrap token for an API key (both by hash). Checks unknown →
    /// used → expired → active key; under a race exactly one caller wins, because
    /// the token is used up by a conditional step.
    pub fn register_agent(
        &self,
        token_hash: &str,
        agent_id: &str,
        key_hash: &str,
        key_ttl: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Result<AgentId> {
        // Keys are counted before the token is read: a concurrent winner that commits in
        // between then shows up as `used`, never as `active_key_exists`.
        let (live, row) = self.read(|c| {
            let live = live_keys(c, agent_id, now)?;
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
            Ok((live, row))
        })?;
        let record = row.map(|(a, exp, used, voided)| BootstrapRecord {
            agent_id: a,
            expires_at: exp.and_utc(),
            used: used.is_some(),
            voided: voided.is_some(),
        });
        decide_registration(record.as_ref(), agent_id, live > 0, now)?;
        let id = AgentId::parse(agent_id).ok_or(StoreError::NotFound)?;
        let mut plan = Plan::new();
        plan.change(Change::UseBootstrapToken {
            token_hash: token_hash.to_owned(),
            at: naive(now),
        });
        plan.insert(NewRow::ApiKey(ApiKeyRow {
            key_hash: key_hash.to_owned(),
            agent_id: agent_id.to_owned(),
            created_at: naive(now),
            expires_at: key_ttl.map(|t| naive(now + t)),
        }));
        plan.makes_stale(Stale::Agent(id.to_string()));
        self.apply(&plan)
            .map_err(|e| lost_race(e, RegisterError::Used.into()))?;
        Ok(id)
    }

    /// Revokes the agent's live API key(s). Returns whether one was live.
    pub fn revoke_agent_key(&self, owner: &UserId, agent: &str, now: DateTime<Utc>) -> Result<bool> {
        let live = self.read(|c| {
            load_owned(c, owner, agent)?;
            live_keys(c, agent, now)
        })?;
        let mut plan = Plan::new();
        plan.change(Change::RevokeApiKeys {
            agent_id: agent.to_owned(),
            at: naive(now),
        });
        plan.makes_stale(Stale::Agent(agent.to_owned()));
        self.apply(&plan)?;
        Ok(live > 0)
    }

    /// Whether the agent has a live key (for the owner's dashboard).
    pub fn agent_has_live_key(&self, agent: &str, now: DateTime<Utc>) -> Result<bool> {
        Ok(self.read(|c| live_keys(c, agent, now))? > 0)
    }
}
