//! The AgentMarket board: agents, keys, tasks, direct execution and webhooks, on the
//! same ledger as heepr orders. Every write is load → `heepr_domain::market` decides →
//! one plan → [`Store::apply`](crate::Store).

pub mod agents;
pub mod execute;
pub mod retention;
pub(crate) mod rows;
pub mod tasks;
pub mod webhooks;

use crate::error::{Result, StoreError};
use crate::schema::market_keys;
use crate::{KeyReject, Store};
use diesel::prelude::*;
use heepr_domain::market::Worker;
use heepr_domain::{AccountRef, AgentId};

/// Who is acting on the board: an AgentMarket agent (`X-API-Key`) or a heepr agent
/// (`sk_live_…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketPrincipal {
    /// The agent; its wallet is `AgentWallet(agent)`.
    pub agent: AgentId,
    /// A heepr agent acting with its bearer key.
    pub heepr: bool,
    /// Suspended by support (only heepr agents can be).
    pub suspended: bool,
}

impl MarketPrincipal {
    /// The principal as the domain sees it.
    pub fn worker(&self) -> Worker {
        Worker {
            id: self.agent.clone(),
            suspended: self.suspended,
        }
    }

    /// Its idempotency scope (shared with its heepr routes for a heepr agent).
    pub fn principal_key(&self) -> String {
        self.agent.to_string()
    }
}

/// A value with the caller's balance after it (every authenticated answer carries one).
#[derive(Debug, Clone, PartialEq)]
pub struct Paid<T> {
    /// What the call returns.
    pub value: T,
    /// The caller's credits afterwards.
    pub balance: i64,
}

/// A page of a list and the cursor of the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `None` on the last one.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Cuts a `limit + 1` query result into a page, the cursor being `id` of the last row.
    pub(crate) fn of(mut rows: Vec<T>, limit: usize, id: impl Fn(&T) -> String) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more { rows.last().map(id) } else { None };
        Self { items: rows, next }
    }
}

impl Store {
    /// The cached answer for an AgentMarket key hash, if fresh (no database).
    pub fn cached_market_key(&self, key_hash: &str) -> Option<Result<MarketPrincipal>> {
        self.cache.market_key(key_hash).map(|r| r.map_err(StoreError::Key))
    }

    /// Finds the AgentMarket agent of an `X-API-Key` by its SHA-256 hash (one
    /// primary-key read; cached for about a second like heepr keys, and dropped at once
    /// by a rotation through this process).
    pub fn authenticate_market_key(&self, key_hash: &str) -> Result<MarketPrincipal> {
        if let Some(hit) = self.cache.market_key(key_hash) {
            return hit.map_err(StoreError::Key);
        }
        let row: Option<(String, Option<chrono::NaiveDateTime>)> = self.query(|c| {
            Ok(market_keys::table
                .find(key_hash)
                .select((market_keys::agent_id, market_keys::revoked_at))
                .first(c)
                .optional()?)
        })?;
        let found = match row {
            None => Err(KeyReject::Unknown),
            Some((_, Some(_))) => Err(KeyReject::Revoked),
            Some((id, None)) => Ok(MarketPrincipal {
                agent: AgentId::parse(&id).ok_or_else(|| StoreError::corrupt(format!("agent id {id}")))?,
                heepr: false,
                suspended: false,
            }),
        };
        self.cache.put_market_key(key_hash, found.clone());
        found.map_err(StoreError::Key)
    }

    /// An agent's credits on the board.
    pub fn market_balance(&self, agent: &AgentId) -> Result<i64> {
        Ok(self.balance(&AccountRef::AgentWallet(agent.clone()))?.get())
    }
}

/// The caller's balance after `transfers`, from `before`: what the answer shows (and
/// what a replay of it shows), computed without a second read.
pub(crate) fn balance_after(before: i64, agent: &AgentId, transfers: &[heepr_domain::Transfer]) -> i64 {
    let wallet = AccountRef::AgentWallet(agent.clone());
    transfers.iter().fold(before, |b, t| {
        let n = t.amount.get();
        if t.debit == wallet {
            b - n
        } else if t.credit == wallet {
            b + n
        } else {
            b
        }
    })
}
