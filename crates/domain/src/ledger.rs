//! The double-entry points ledger (SPEC §10).
//!
//! Accounts hold balances; immutable transfers move a positive amount from a debit
//! account to a credit account. Only the mint may go below zero: it is where every
//! point in circulation came from, so all balances always sum to zero.

use crate::ids::{AgentId, OrderId, TaskId, UserId};
use crate::order::OrderState;
use crate::points::Points;
use crate::{DomainError, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Which account a transfer touches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AccountRef {
    /// The source of every point (signup bonuses, AgentMarket starter credits).
    Mint,
    /// Where platform fees accumulate.
    PlatformFees,
    /// A user's wallet.
    Wallet(UserId),
    /// An AgentMarket agent's own wallet.
    AgentWallet(AgentId),
    /// The escrow of one heepr order.
    Escrow(OrderId),
    /// The escrow of one AgentMarket task.
    TaskEscrow(TaskId),
}

impl AccountRef {
    /// The stable key the store uses as the account's primary key.
    pub fn key(&self) -> String {
        match self {
            Self::Mint => "mint".into(),
            Self::PlatformFees => "platform_fees".into(),
            Self::Wallet(u) => format!("wallet:{u}"),
            Self::AgentWallet(a) => format!("agent:{a}"),
            Self::Escrow(o) => format!("escrow:{o}"),
            Self::TaskEscrow(t) => format!("escrow:{t}"),
        }
    }

    /// The inverse of [`AccountRef::key`].
    pub fn parse(key: &str) -> Option<Self> {
        match key {
            "mint" => return Some(Self::Mint),
            "platform_fees" => return Some(Self::PlatformFees),
            _ => {}
        }
        let (kind, id) = key.split_once(':')?;
        match kind {
            "wallet" => UserId::parse(id).map(Self::Wallet),
            "agent" => AgentId::parse(id).map(Self::AgentWallet),
            "escrow" => OrderId::parse(id)
                .map(Self::Escrow)
                .or_else(|| TaskId::parse(id).map(Self::TaskEscrow)),
            _ => None,
        }
    }

    /// Only the mint may hold a negative balance (invariant 2).
    pub fn may_go_negative(&self) -> bool {
        matches!(self, Self::Mint)
    }
}

impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// Why points moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    /// Points created for a new user (signup bonus).
    StarterGrant,
    /// Customer wallet → order escrow when the order is placed.
    EscrowHold,
    /// Order escrow → customer wallet.
    Refund,
    /// Order escrow → owner wallet on completion.
    Payout,
    /// Order escrow → platform fees on completion.
    Fee,
    /// Points granted for leaving a review.
    ReviewBonus,
    /// A deleted account's remaining points, returned to the mint (out of circulation).
    AccountClosed,
}

impl TransferKind {
    /// The snake_case name stored and shown in wallet histories.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StarterGrant => "starter_grant",
            Self::EscrowHold => "escrow_hold",
            Self::Refund => "refund",
            Self::Payout => "payout",
            Self::Fee => "fee",
            Self::ReviewBonus => "review_bonus",
            Self::AccountClosed => "account_closed",
        }
    }

    /// The inverse of [`TransferKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::StarterGrant,
            Self::EscrowHold,
            Self::Refund,
            Self::Payout,
            Self::Fee,
            Self::ReviewBonus,
            Self::AccountClosed,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One movement of points. Immutable once written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Loses `amount`.
    pub debit: AccountRef,
    /// Gains `amount`.
    pub credit: AccountRef,
    /// Always positive.
    pub amount: Points,
    /// Why.
    pub kind: TransferKind,
    /// The order it belongs to, if any.
    pub order: Option<OrderId>,
    /// The AgentMarket task it belongs to, if any.
    #[serde(default)]
    pub task: Option<TaskId>,
}

impl Transfer {
    /// A transfer, refusing zero or negative amounts and self-transfers.
    pub fn new(
        debit: AccountRef,
        credit: AccountRef,
        amount: Points,
        kind: TransferKind,
        order: Option<OrderId>,
    ) -> Result<Self, DomainError> {
        if amount.get() <= 0 {
            return Err(DomainError::invalid("amount", "must be at least 1 point"));
        }
        if debit == credit {
            return Err(DomainError::invalid("credit", "cannot transfer to the same account"));
        }
        Ok(Self {
            debit,
            credit,
            amount,
            kind,
            order,
            task: None,
        })
    }

    /// A transfer that belongs to an AgentMarket task (its hold, payout, fee or refund).
    pub fn for_task(
        debit: AccountRef,
        credit: AccountRef,
        amount: Points,
        kind: TransferKind,
        task: &TaskId,
    ) -> Result<Self, DomainError> {
        let mut t = Self::new(debit, credit, amount, kind, None)?;
        t.task = Some(task.clone());
        Ok(t)
    }

    /// The signup bonus: mint → the user's wallet.
    pub fn starter_grant(user: &UserId, amount: Points) -> Result<Self, DomainError> {
        Self::new(
            AccountRef::Mint,
            AccountRef::Wallet(user.clone()),
            amount,
            TransferKind::StarterGrant,
            None,
        )
    }
}

/// A transfer as read back from the log, with its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedTransfer {
    /// The movement.
    pub transfer: Transfer,
    /// When it was written.
    pub at: Timestamp,
}

/// Everything [`check_invariants`] needs, loaded by a store.
#[derive(Debug, Default, Clone)]
pub struct LedgerSnapshot {
    /// Every account with its stored balance.
    pub balances: BTreeMap<AccountRef, Points>,
    /// The whole transfer log, in write order.
    pub transfers: Vec<Transfer>,
    /// Every order: state and price.
    pub orders: BTreeMap<OrderId, (OrderState, Points)>,
    /// Every known user.
    pub users: BTreeSet<UserId>,
    /// Every known agent.
    pub agents: BTreeSet<AgentId>,
    /// Every AgentMarket task: whether it is terminal, and its budget.
    pub tasks: BTreeMap<TaskId, (bool, Points)>,
}

/// A broken ledger invariant, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// 1–4, as numbered in SPEC §10.
    pub invariant: u8,
    /// What is wrong.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invariant {}: {}", self.invariant, self.detail)
    }
}

/// Checks invariants 1–4 of SPEC §10 over a snapshot and lists every violation.
pub fn check_invariants(s: &LedgerSnapshot) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut v = |invariant: u8, detail: String| out.push(Violation { invariant, detail });

    // 1. Balances sum to zero.
    let sum: i128 = s.balances.values().map(|p| i128::from(p.get())).sum();
    if sum != 0 {
        v(1, format!("balances sum to {sum}, not 0"));
    }

    // 2. Nothing but the mint below zero.
    for (acct, bal) in &s.balances {
        if bal.get() < 0 && !acct.may_go_negative() {
            v(2, format!("{acct} is at {bal}"));
        }
    }

    // 3. Escrow holds the price while open, zero once terminal.
    for (id, (state, price)) in &s.orders {
        let held = s
            .balances
            .get(&AccountRef::Escrow(id.clone()))
            .copied()
            .unwrap_or_default();
        let want = if state.is_terminal() { Points::ZERO } else { *price };
        if held != want {
            v(3, format!("escrow of {id} ({state}) holds {held}, expected {want}"));
        }
    }

    // 3 (tasks). A task's escrow holds its budget until it is terminal.
    for (id, (terminal, budget)) in &s.tasks {
        let held = s
            .balances
            .get(&AccountRef::TaskEscrow(id.clone()))
            .copied()
            .unwrap_or_default();
        let want = if *terminal { Points::ZERO } else { *budget };
        if held != want {
            v(3, format!("escrow of {id} holds {held}, expected {want}"));
        }
    }

    // 4. Every transfer is well-formed and references something that exists, and
    //    replaying the log reproduces every balance.
    let mut replay: BTreeMap<AccountRef, i128> = BTreeMap::new();
    for (i, t) in s.transfers.iter().enumerate() {
        if t.amount.get() <= 0 {
            v(4, format!("transfer #{i} moves {}", t.amount));
        }
        if let Some(o) = t.order.as_ref().filter(|o| !s.orders.contains_key(*o)) {
            v(4, format!("transfer #{i} references unknown order {o}"));
        }
        if let Some(k) = t.task.as_ref().filter(|k| !s.tasks.contains_key(*k)) {
            v(4, format!("transfer #{i} references unknown task {k}"));
        }
        for acct in [&t.debit, &t.credit] {
            let known = match acct {
                AccountRef::Mint | AccountRef::PlatformFees => true,
                AccountRef::Wallet(u) => s.users.contains(u),
                AccountRef::AgentWallet(a) => s.agents.contains(a),
                AccountRef::Escrow(o) => s.orders.contains_key(o),
                AccountRef::TaskEscrow(t) => s.tasks.contains_key(t),
            };
            if !known {
                v(4, format!("transfer #{i} touches {acct}, which does not exist"));
            }
        }
        *replay.entry(t.debit.clone()).or_default() -= i128::from(t.amount.get());
        *replay.entry(t.credit.clone()).or_default() += i128::from(t.amount.get());
    }
    let accounts: BTreeSet<&AccountRef> = s.balances.keys().chain(replay.keys()).collect();
    for acct in accounts {
        let stored = s.balances.get(acct).map(|p| i128::from(p.get())).unwrap_or(0);
        let replayed = replay.get(acct).copied().unwrap_or(0);
        if stored != replayed {
            v(4, format!("{acct} stores {stored} but the log replays to {replayed}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    #[test]
    fn account_keys_round_trip() {
        for a in [
            AccountRef::Mint,
            AccountRef::PlatformFees,
            AccountRef::Wallet(user("usr_a")),
            AccountRef::AgentWallet(AgentId::parse("agt_b").unwrap()),
            AccountRef::Escrow(OrderId::parse("ord_c").unwrap()),
            AccountRef::TaskEscrow(TaskId::parse("tsk_d").unwrap()),
        ] {
            assert_eq!(AccountRef::parse(&a.key()), Some(a));
        }
        assert_eq!(AccountRef::parse("wallet:ord_x"), None);
    }

    #[test]
    fn zero_and_self_transfers_are_refused() {
        let u = AccountRef::Wallet(user("usr_a"));
        assert!(Transfer::new(AccountRef::Mint, u.clone(), Points(0), TransferKind::StarterGrant, None).is_err());
        assert!(Transfer::new(u.clone(), u, Points(5), TransferKind::Refund, None).is_err());
    }

    #[test]
    fn check_reports_each_broken_invariant() {
        let a = user("usr_a");
        let mut s = LedgerSnapshot::default();
        s.users.insert(a.clone());
        s.transfers.push(Transfer::starter_grant(&a, Points(10)).unwrap());
        s.balances.insert(AccountRef::Mint, Points(-10));
        s.balances.insert(AccountRef::Wallet(a.clone()), Points(10));
        assert!(check_invariants(&s).is_empty());

        s.balances.insert(AccountRef::Wallet(a), Points(11));
        let found: Vec<u8> = check_invariants(&s).iter().map(|v| v.invariant).collect();
        assert_eq!(found, vec![1, 4]);
    }
}
