//! Applying transfers and checking the ledger (SPEC §10).

use crate::Store;
use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::plan::TransferRow;
use crate::prepared::KeepPrepared;
use crate::schema::{accounts, agents, market_agents, orders, tasks, transfers, users};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use heepr_domain::ledger::{LedgerSnapshot, Violation, check_invariants};
use heepr_domain::market::TaskStatus;
use heepr_domain::{
    AccountRef, AgentId, DomainError, OrderId, OrderState, Points, TaskId, Transfer, TransferKind, UserId,
};

/// Moves points and logs the transfer. The debit is conditional (`balance >= amount`)
/// so two concurrent debits can never overdraw a wallet, on either backend, without
/// `SELECT … FOR UPDATE`. (`heepr_apply` does the same on PostgreSQL.)
pub(crate) fn move_points(c: &mut AnyConnection, m: &TransferRow) -> Result<()> {
    let n = m.amount;
    let debited = if m.may_go_negative {
        diesel::update(accounts::table.find(&m.debit))
            .set(accounts::balance.eq(accounts::balance - n))
            .execute_prepared(c)?
    } else {
        diesel::update(accounts::table.find(&m.debit).filter(accounts::balance.ge(n)))
            .set(accounts::balance.eq(accounts::balance - n))
            .execute_prepared(c)?
    };
    if debited == 0 {
        return Err(DomainError::InsufficientPoints.into());
    }
    // Escrow accounts come into being with their first hold: one upsert either way.
    diesel::insert_into(accounts::table)
        .values((
            accounts::id.eq(&m.credit),
            accounts::balance.eq(n),
            accounts::created_at.eq(m.at),
        ))
        .on_conflict(accounts::id)
        .do_update()
        .set(accounts::balance.eq(accounts::balance + excluded(accounts::balance)))
        .execute_prepared(c)?;
    diesel::insert_into(transfers::table)
        .values((
            transfers::id.eq(&m.id),
            transfers::debit.eq(&m.debit),
            transfers::credit.eq(&m.credit),
            transfers::amount.eq(n),
            transfers::kind.eq(m.kind),
            transfers::order_id.eq(m.order_id.as_deref()),
            transfers::task_id.eq(m.task_id.as_deref()),
            transfers::created_at.eq(m.at),
        ))
        .execute_prepared(c)?;
    Ok(())
}

impl Store {
    /// An account's balance (0 for an account that does not exist yet).
    pub fn balance(&self, acct: &AccountRef) -> Result<Points> {
        let key = acct.key();
        self.query(|c| {
            let b: Option<i64> = accounts::table
                .find(&key)
                .select(accounts::balance)
                .first(c)
                .optional()?;
            Ok(Points(b.unwrap_or(0)))
        })
    }

    /// Loads the whole ledger in one snapshot and checks invariants 1–4, including a
    /// replay of the transfer log. Returns every violation (empty when healthy).
    pub fn check_ledger(&self) -> Result<Vec<Violation>> {
        let snap = self.read(|c| {
            let mut s = LedgerSnapshot::default();
            for (id, bal) in accounts::table
                .select((accounts::id, accounts::balance))
                .load::<(String, i64)>(c)?
            {
                let acct = AccountRef::parse(&id).ok_or_else(|| StoreError::corrupt(format!("account {id}")))?;
                s.balances.insert(acct, Points(bal));
            }
            let rows: Vec<LoggedCols> = transfers::table
                .order(transfers::seq)
                .select((
                    transfers::debit,
                    transfers::credit,
                    transfers::amount,
                    transfers::kind,
                    transfers::order_id,
                    transfers::task_id,
                ))
                .load(c)?;
            for (debit, credit, amount, kind, order, task) in rows {
                let parse = |k: &str| AccountRef::parse(k).ok_or_else(|| StoreError::corrupt(format!("account {k}")));
                s.transfers.push(Transfer {
                    debit: parse(&debit)?,
                    credit: parse(&credit)?,
                    amount: Points(amount),
                    kind: TransferKind::parse(&kind)
                        .ok_or_else(|| StoreError::corrupt(format!("transfer kind {kind}")))?,
                    order: order
                        .map(|o| OrderId::parse(&o).ok_or_else(|| StoreError::corrupt(format!("order id {o}"))))
                        .transpose()?,
                    task: task
                        .map(|t| TaskId::parse(&t).ok_or_else(|| StoreError::corrupt(format!("task id {t}"))))
                        .transpose()?,
                });
            }
            for (id, state, price) in orders::table
                .select((orders::id, orders::state, orders::price))
                .load::<(String, String, i64)>(c)?
            {
                let state = OrderState::parse(&state)
                    .ok_or_else(|| StoreError::corrupt(format!("order {id} state {state}")))?;
                let id = OrderId::parse(&id).ok_or_else(|| StoreError::corrupt(format!("order id {id}")))?;
                s.orders.insert(id, (state, Points(price)));
            }
            for id in users::table.select(users::id).load::<String>(c)? {
                s.users.extend(UserId::parse(&id));
            }
            for id in agents::table.select(agents::id).load::<String>(c)? {
                s.agents.extend(AgentId::parse(&id));
            }
            for id in market_agents::table.select(market_agents::id).load::<String>(c)? {
                s.agents.extend(AgentId::parse(&id));
            }
            for (id, status, budget) in
                tasks::table
                    .select((tasks::id, tasks::status, tasks::budget))
                    .load::<(String, String, i64)>(c)?
            {
                let status = TaskStatus::parse(&status)
                    .ok_or_else(|| StoreError::corrupt(format!("task {id} status {status}")))?;
                let id = TaskId::parse(&id).ok_or_else(|| StoreError::corrupt(format!("task id {id}")))?;
                s.tasks.insert(id, (status.is_terminal(), Points(budget)));
            }
            Ok(s)
        })?;
        Ok(check_invariants(&snap))
    }
}

/// debit, credit, amount, kind, order, task
type LoggedCols = (String, String, i64, String, Option<String>, Option<String>);

type TransferCols = (
    i64,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    chrono::NaiveDateTime,
);

/// One line of a wallet's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletLine {
    /// `txn_…`
    pub id: String,
    /// Position in the log (the page cursor).
    pub seq: i64,
    /// Positive when points came in, negative when they went out.
    pub amount: i64,
    /// Why.
    pub kind: String,
    /// The order it belongs to.
    pub order_id: Option<String>,
    /// The other account.
    pub counterparty: String,
    /// When.
    pub at: DateTime<Utc>,
}

impl Store {
    /// A wallet's balance and its transfers, newest first, before `before_seq`.
    pub fn wallet(&self, acct: &AccountRef, limit: i64, before_seq: Option<i64>) -> Result<(Points, Vec<WalletLine>)> {
        let key = acct.key();
        self.read(|c| {
            let balance: Option<i64> = accounts::table
                .find(&key)
                .select(accounts::balance)
                .first(c)
                .optional()?;
            let mut q = transfers::table
                .filter(transfers::debit.eq(&key).or(transfers::credit.eq(&key)))
                .into_boxed();
            if let Some(b) = before_seq {
                q = q.filter(transfers::seq.lt(b));
            }
            let rows: Vec<TransferCols> = q
                .order(transfers::seq.desc())
                .limit(limit.clamp(1, 200))
                .select((
                    transfers::seq,
                    transfers::id,
                    transfers::debit,
                    transfers::credit,
                    transfers::amount,
                    transfers::kind,
                    transfers::order_id,
                    transfers::created_at,
                ))
                .load(c)?;
            let lines = rows
                .into_iter()
                .map(|(seq, id, debit, credit, amount, kind, order_id, at)| {
                    let incoming = credit == key;
                    WalletLine {
                        id,
                        seq,
                        amount: if incoming { amount } else { -amount },
                        kind,
                        order_id,
                        counterparty: if incoming { debit } else { credit },
                        at: at.and_utc(),
                    }
                })
                .collect();
            Ok((Points(balance.unwrap_or(0)), lines))
        })
    }
}
