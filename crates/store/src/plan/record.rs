//! Plan steps for everything that is not an order's hot path: agents and their
//! credentials, users, chat, the email outbox. They are applied by the Rust applier on
//! both backends (on PostgreSQL inside one transaction: these writes are rare, and a
//! round trip each is cheaper than a second copy of every statement in PL/pgSQL).
//!
//! A new kind of row is a variant of [`NewRow`] (its `Insertable` struct lives here);
//! a new targeted change is a variant of [`Change`] with its statement in [`apply`].
//! A change that must find its row in a given state says what to refuse with when it
//! does not ([`Change::refusal`]) — the same conditional-write pattern the order steps use.

use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::market::rows::{FanoutRow, MarketAgentRow, MarketKeyRow, TaskRow};
use crate::prepared::KeepPrepared;
use crate::schema::{
    accounts, agents, api_keys, approvals, bootstrap_tokens, emails, idempotency_keys, market_agents, market_keys,
    messages, offers, sessions, tasks, threads, users, webhook_deliveries, webhook_fanouts,
};

/// What a sent email's body becomes: the outbox keeps rows for a year, and only the
/// subject and recipient stay with them (rows queued by an older version kept their
/// links in the body; the sealed copy goes too).
const SENT_BODY: &str = "[sent; body removed]";
use chrono::NaiveDateTime;
use diesel::prelude::*;
use heepr_domain::agent::{ApprovalError, RegisterError};
use heepr_domain::chat::ChatError;

/// A new row, inserted as is.
#[derive(Debug)]
pub(crate) enum NewRow {
    Agent(AgentRow),
    Approval(ApprovalRow),
    BootstrapToken(BootstrapTokenRow),
    ApiKey(ApiKeyRow),
    Email(EmailRow),
    User(UserRow),
    Account(AccountRow),
    Thread(ThreadRow),
    Message(MessageRow),
    Offer(OfferRow),
    Session(SessionRow),
    MarketAgent(MarketAgentRow),
    MarketKey(MarketKeyRow),
    Task(TaskRow),
    Fanout(FanoutRow),
    /// Suspensions, reinstatement requests, reports, the audit log.
    Support(crate::support::rows::SupportRow),
    /// A bootstrap link (see `credentials`).
    SetupLink(crate::credentials::SetupLinkRow),
    /// A one-time account link (see `account`).
    AccountLink(crate::account::LinkRow),
    /// A linked provider identity, or a sign-in in flight (see `identity`).
    Identity(crate::identity::IdentityRow),
}

/// A targeted change to existing rows.
#[derive(Debug)]
pub(crate) enum Change {
    /// Notices read, handled by the sender; email preferences (see `notice`).
    Notice(crate::notice::NoticeChange),
    /// A dead email put back in the queue, only if it is dead (else not found).
    RetryEmail { id: String, at: NaiveDateTime },
    /// New settings (and the columns derived from them), over the version they were
    /// decided from (else contention).
    AgentSettings {
        id: String,
        expected_version: i64,
        name: String,
        settings: String,
        description: String,
        categories: String,
        search: String,
        price_min: i64,
        price_max: i64,
        at: NaiveDateTime,
    },
    /// The agent's status, only from one of `from` (else contention, unless `optional`).
    AgentStatus {
        id: String,
        from: Vec<&'static str>,
        to: &'static str,
        optional: bool,
        at: NaiveDateTime,
    },
    /// An approval code used up, only once (else `approval_used`).
    UseApproval { code_hash: String, at: NaiveDateTime },
    /// Every unused bootstrap token of an agent voided.
    VoidBootstrapTokens { agent_id: String, at: NaiveDateTime },
    /// A bootstrap token used up, only once (else `bootstrap_used`).
    UseBootstrapToken { token_hash: String, at: NaiveDateTime },
    /// Every live API key of an agent revoked.
    RevokeApiKeys { agent_id: String, at: NaiveDateTime },
    /// A user's roles replaced.
    UserRoles { id: String, roles: String },
    /// A thread's last activity.
    TouchThread { id: String, at: NaiveDateTime },
    /// A thread's customer asked for a human, only once (else nothing to do: contention).
    HumanRequested { id: String, at: NaiveDateTime },
    /// An offer claimed by the order it became, only once (else `offer_accepted`).
    ClaimOffer { id: String, order_id: String },
    /// The owner's answer to a review, only once (else `already_replied`).
    ReviewReply {
        id: String,
        reply: String,
        at: NaiveDateTime,
    },
    /// A session ended (logout); an unknown one is fine.
    EndSession { token_hash: String },
    /// An email sent: its body replaced and its sealed copy dropped.
    EmailSent { id: String, at: NaiveDateTime },
    /// A failed attempt: retried at `retry_at`, or dead (a dead letter) at `dead_at`.
    EmailFailed {
        id: String,
        error: String,
        retry_at: Option<NaiveDateTime>,
        dead_at: Option<NaiveDateTime>,
    },
    /// A task's new state, over the version it was decided from (else contention).
    UpdateTask { row: TaskRow, expected_version: i64 },
    /// Every live key of an AgentMarket agent revoked.
    RevokeMarketKeys { agent_id: String, at: NaiveDateTime },
    /// An AgentMarket agent's webhook URL and sealed secret (`None`, `None`: removed).
    MarketWebhook {
        id: String,
        url: Option<String>,
        secret: Option<Vec<u8>>,
    },
    /// An AgentMarket agent's outcome counters moved (nothing for a heepr agent, which
    /// has no such row).
    MarketOutcome { id: String, completed: i64, failed: i64 },
    /// A claimed `Idempotency-Key`'s answer replaced (a direct execution's, once it
    /// settles).
    ClaimAnswer {
        principal: String,
        key: String,
        status: i32,
        body: String,
    },
    /// A webhook delivery of `agent_id` queued again now (else not found).
    #[allow(dead_code)] // the deliveries' retry route lands with the webhook worker
    RetryDelivery {
        id: String,
        agent_id: String,
        at: NaiveDateTime,
    },
    /// A support change; it refuses on its own (see `support::rows`).
    Support(crate::support::rows::SupportChange),
    /// A bootstrap link used or voided; it refuses on its own (see `credentials`).
    SetupLink(crate::credentials::LinkChange),
    /// A change to a user's account; it refuses on its own (see `account`).
    Account(crate::account::AccountChange),
    /// A sign-in taken once, an identity's sign-in recorded or unlinked (see `identity`).
    Identity(crate::identity::IdentityChange),
}

impl Change {
    /// What a change that found no row in the expected state is refused with; `None`
    /// when finding none is fine.
    fn refusal(&self) -> Option<StoreError> {
        Some(match self {
            Self::AgentSettings { .. } | Self::HumanRequested { .. } => StoreError::Contention,
            Self::AgentStatus { optional, .. } => return (!optional).then_some(StoreError::Contention),
            Self::UseApproval { .. } => ApprovalError::Used.into(),
            Self::UseBootstrapToken { .. } => RegisterError::Used.into(),
            Self::ClaimOffer { .. } => ChatError::OfferAccepted.into(),
            Self::ReviewReply { .. } => heepr_domain::review::ReviewError::AlreadyReplied.into(),
            Self::UpdateTask { .. } => StoreError::Contention,
            Self::MarketWebhook { .. } | Self::RetryDelivery { .. } => StoreError::NotFound,
            Self::RevokeMarketKeys { .. } | Self::MarketOutcome { .. } | Self::ClaimAnswer { .. } => return None,
            Self::Support(_) | Self::SetupLink(_) | Self::Identity(_) | Self::Notice(_) | Self::Account(_) => {
                return None;
            }
            Self::RetryEmail { .. } => StoreError::NotFound,
            Self::VoidBootstrapTokens { .. }
            | Self::RevokeApiKeys { .. }
            | Self::UserRoles { .. }
            | Self::TouchThread { .. }
            | Self::EndSession { .. }
            | Self::EmailSent { .. }
            | Self::EmailFailed { .. } => return None,
        })
    }
}

pub(super) fn insert(c: &mut AnyConnection, row: &NewRow) -> Result<()> {
    match row {
        NewRow::Agent(r) => diesel::insert_into(agents::table).values(r).execute_prepared(c)?,
        NewRow::Approval(r) => diesel::insert_into(approvals::table).values(r).execute_prepared(c)?,
        NewRow::BootstrapToken(r) => diesel::insert_into(bootstrap_tokens::table)
            .values(r)
            .execute_prepared(c)?,
        NewRow::ApiKey(r) => diesel::insert_into(api_keys::table).values(r).execute_prepared(c)?,
        NewRow::Email(r) => diesel::insert_into(emails::table).values(r).execute_prepared(c)?,
        NewRow::User(r) => diesel::insert_into(users::table).values(r).execute_prepared(c)?,
        NewRow::Account(r) => diesel::insert_into(accounts::table).values(r).execute_prepared(c)?,
        NewRow::Thread(r) => diesel::insert_into(threads::table).values(r).execute_prepared(c)?,
        NewRow::Message(r) => diesel::insert_into(messages::table).values(r).execute_prepared(c)?,
        NewRow::Offer(r) => diesel::insert_into(offers::table).values(r).execute_prepared(c)?,
        NewRow::Session(r) => diesel::insert_into(sessions::table).values(r).execute_prepared(c)?,
        NewRow::MarketAgent(r) => diesel::insert_into(market_agents::table)
            .values(r)
            .execute_prepared(c)?,
        NewRow::MarketKey(r) => diesel::insert_into(market_keys::table).values(r).execute_prepared(c)?,
        NewRow::Task(r) => diesel::insert_into(tasks::table).values(r).execute_prepared(c)?,
        NewRow::Fanout(r) => diesel::insert_into(webhook_fanouts::table)
            .values(r)
            .execute_prepared(c)?,
        NewRow::Support(r) => crate::support::rows::insert(c, r)?,
        NewRow::SetupLink(r) => return crate::credentials::insert_link(c, r),
        NewRow::AccountLink(r) => return crate::account::insert_link(c, r),
        NewRow::Identity(r) => return crate::identity::insert(c, r),
    };
    Ok(())
}

pub(super) fn change(c: &mut AnyConnection, ch: &Change) -> Result<()> {
    let changed = match ch {
        Change::Support(s) => return crate::support::rows::change(c, s),
        Change::Notice(n) => return crate::notice::change(c, n),
        Change::RetryEmail { id, at } => diesel::update(emails::table.find(id).filter(emails::dead_at.is_not_null()))
            .set((
                emails::dead_at.eq(None::<NaiveDateTime>),
                emails::attempts.eq(0),
                emails::next_attempt_at.eq(at),
                emails::claimed_until.eq(None::<NaiveDateTime>),
            ))
            .execute(c)?,
        Change::SetupLink(l) => return crate::credentials::change_link(c, l),
        Change::Account(a) => return crate::account::change(c, a),
        Change::Identity(ch) => return crate::identity::change(c, ch),
        Change::AgentSettings {
            id,
            expected_version,
            name,
            settings,
            description,
            categories,
            search,
            price_min,
            price_max,
            at,
        } => diesel::update(agents::table.find(id).filter(agents::version.eq(expected_version)))
            .set((
                agents::name.eq(name),
                agents::settings.eq(settings),
                agents::description.eq(description),
                agents::categories.eq(categories),
                agents::search.eq(search),
                agents::price_min.eq(price_min),
                agents::price_max.eq(price_max),
                agents::updated_at.eq(at),
                agents::version.eq(agents::version + 1),
            ))
            .execute_prepared(c)?,
        Change::AgentStatus { id, from, to, at, .. } => {
            diesel::update(agents::table.find(id).filter(agents::status.eq_any(from)))
                .set((agents::status.eq(to), agents::updated_at.eq(at)))
                .execute(c)?
        }
        Change::UseApproval { code_hash, at } => {
            diesel::update(approvals::table.find(code_hash).filter(approvals::used_at.is_null()))
                .set(approvals::used_at.eq(at))
                .execute_prepared(c)?
        }
        Change::VoidBootstrapTokens { agent_id, at } => diesel::update(
            bootstrap_tokens::table
                .filter(bootstrap_tokens::agent_id.eq(agent_id))
                .filter(bootstrap_tokens::used_at.is_null())
                .filter(bootstrap_tokens::voided_at.is_null()),
        )
        .set(bootstrap_tokens::voided_at.eq(at))
        .execute_prepared(c)?,
        Change::UseBootstrapToken { token_hash, at } => diesel::update(
            bootstrap_tokens::table
                .find(token_hash)
                .filter(bootstrap_tokens::used_at.is_null()),
        )
        .set(bootstrap_tokens::used_at.eq(at))
        .execute_prepared(c)?,
        Change::RevokeApiKeys { agent_id, at } => diesel::update(
            api_keys::table
                .filter(api_keys::agent_id.eq(agent_id))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(at))
        .execute_prepared(c)?,
        Change::UserRoles { id, roles } => diesel::update(users::table.find(id))
            .set(users::roles.eq(roles))
            .execute_prepared(c)?,
        Change::TouchThread { id, at } => diesel::update(threads::table.find(id))
            .set(threads::updated_at.eq(at))
            .execute_prepared(c)?,
        Change::HumanRequested { id, at } => {
            diesel::update(threads::table.find(id).filter(threads::human_requested.eq(false)))
                .set((threads::human_requested.eq(true), threads::updated_at.eq(at)))
                .execute_prepared(c)?
        }
        Change::ClaimOffer { id, order_id } => {
            diesel::update(offers::table.find(id).filter(offers::accepted_order_id.is_null()))
                .set(offers::accepted_order_id.eq(order_id))
                .execute_prepared(c)?
        }
        Change::ReviewReply { id, reply, at } => diesel::update(
            crate::schema::reviews::table
                .find(id)
                .filter(crate::schema::reviews::reply.is_null()),
        )
        .set((
            crate::schema::reviews::reply.eq(reply),
            crate::schema::reviews::replied_at.eq(at),
        ))
        .execute_prepared(c)?,
        Change::EndSession { token_hash } => diesel::delete(sessions::table.find(token_hash)).execute(c)?,
        Change::EmailSent { id, at } => diesel::update(emails::table.find(id))
            .set((
                emails::sent_at.eq(at),
                emails::body.eq(SENT_BODY),
                emails::sealed_body.eq(None::<Vec<u8>>),
            ))
            .execute_prepared(c)?,
        Change::EmailFailed {
            id,
            error,
            retry_at,
            dead_at,
        } => diesel::update(emails::table.find(id))
            .set((
                emails::attempts.eq(emails::attempts + 1),
                emails::last_error.eq(error),
                emails::claimed_until.eq(None::<NaiveDateTime>),
                emails::next_attempt_at.eq(retry_at),
                emails::dead_at.eq(dead_at),
            ))
            .execute_prepared(c)?,
        Change::UpdateTask { row, expected_version } => {
            diesel::update(tasks::table.find(&row.id).filter(tasks::version.eq(expected_version)))
                .set(row)
                .execute_prepared(c)?
        }
        Change::RevokeMarketKeys { agent_id, at } => diesel::update(
            market_keys::table
                .filter(market_keys::agent_id.eq(agent_id))
                .filter(market_keys::revoked_at.is_null()),
        )
        .set(market_keys::revoked_at.eq(at))
        .execute_prepared(c)?,
        Change::MarketWebhook { id, url, secret } => diesel::update(market_agents::table.find(id))
            .set((
                market_agents::webhook_url.eq(url),
                market_agents::webhook_secret.eq(secret),
            ))
            .execute_prepared(c)?,
        Change::MarketOutcome { id, completed, failed } => diesel::update(market_agents::table.find(id))
            .set((
                market_agents::completed_count.eq(market_agents::completed_count + completed),
                market_agents::failed_count.eq(market_agents::failed_count + failed),
            ))
            .execute_prepared(c)?,
        Change::ClaimAnswer {
            principal,
            key,
            status,
            body,
        } => diesel::update(idempotency_keys::table.find((principal, key)))
            .set((idempotency_keys::status.eq(status), idempotency_keys::body.eq(body)))
            .execute_prepared(c)?,
        Change::RetryDelivery { id, agent_id, at } => diesel::update(
            webhook_deliveries::table
                .find(id)
                .filter(webhook_deliveries::agent_id.eq(agent_id)),
        )
        .set((
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::next_attempt_at.eq(at),
            webhook_deliveries::claimed_until.eq(None::<NaiveDateTime>),
        ))
        .execute_prepared(c)?,
    };
    match ch.refusal() {
        Some(refused) if changed == 0 => Err(refused),
        _ => Ok(()),
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = agents)]
pub(crate) struct AgentRow {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub status: &'static str,
    pub suspended: bool,
    pub settings: String,
    pub description: String,
    pub categories: String,
    pub search: String,
    pub price_min: i64,
    pub price_max: i64,
    pub event_seq: i64,
    pub delivered_seq: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = approvals)]
pub(crate) struct ApprovalRow {
    pub code_hash: String,
    pub agent_id: String,
    pub owner_id: String,
    pub purpose: &'static str,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = bootstrap_tokens)]
pub(crate) struct BootstrapTokenRow {
    pub token_hash: String,
    pub agent_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub(crate) struct ApiKeyRow {
    pub key_hash: String,
    pub agent_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = emails)]
pub(crate) struct EmailRow {
    pub id: String,
    pub to_email: String,
    pub subject: String,
    pub body: String,
    pub sealed_body: Option<Vec<u8>>,
    pub html_body: Option<String>,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub roles: String,
    pub created_at: NaiveDateTime,
    pub terms_accepted_at: Option<NaiveDateTime>,
    pub age_confirmed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = accounts)]
pub(crate) struct AccountRow {
    pub id: String,
    pub balance: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = threads)]
pub(crate) struct ThreadRow {
    pub id: String,
    pub agent_id: String,
    pub customer_id: String,
    pub owner_id: String,
    pub order_id: Option<String>,
    pub human_requested: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = messages)]
pub(crate) struct MessageRow {
    pub id: String,
    pub thread_id: String,
    pub author_kind: &'static str,
    pub author_id: Option<String>,
    pub body: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = offers)]
pub(crate) struct OfferRow {
    pub id: String,
    pub thread_id: String,
    pub agent_id: String,
    pub gig_id: String,
    pub tier: String,
    pub price: i64,
    pub deadline: NaiveDateTime,
    pub scope: String,
    pub inputs: String,
    pub expires_at: NaiveDateTime,
    pub accepted_order_id: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub(crate) struct SessionRow {
    pub token_hash: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}
