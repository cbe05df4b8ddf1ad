//! Deleting an account (seed 003): the person goes, the marketplace's history stays.
//! One plan, one transaction: the open-order check again inside it, the row erased
//! under a pseudonym, every session ended, the user's agents retired with their keys,
//! bootstrap tokens and links revoked, their notices, email preferences, unsent emails
//! and account links removed, and the wallet's remaining points returned to the mint.
//! Orders, deliveries, files, messages and reviews keep pointing at the (pseudonymous)
//! row.

use crate::Store;
use crate::account::AccountChange;
use crate::credentials::LinkChange;
use crate::error::Result;
use crate::plan::Plan;
use crate::plan::record::Change;
use crate::rows::naive;
use crate::schema::{agents, orders};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use heepr_domain::account::{decide_deletion, pseudonym};
use heepr_domain::agent::AgentStatus;
use heepr_domain::support::account_deleted;
use heepr_domain::{AccountRef, MultiLine, OrderState, UserId};

impl Store {
    /// Deletes `user`'s account (refused with `open_orders_exist` while an order is open
    /// as customer or on their agents). Their email may sign up again afterwards.
    pub fn delete_account(&self, user: &UserId, now: DateTime<Utc>) -> Result<()> {
        let (plan, agent_ids) = self.deletion_plan(user, now)?;
        self.finish_deletion(user, &plan, &agent_ids)
    }

    /// [`Store::delete_account`] by support, on the user's emailed request: the same
    /// plan with its audit entry, in one transaction.
    pub fn delete_account_for(
        &self,
        admin: &UserId,
        user: &UserId,
        reason: Option<&MultiLine>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (mut plan, agent_ids) = self.deletion_plan(user, now)?;
        plan.insert(crate::support::rows::audit(&account_deleted(admin, user, reason, now)));
        self.finish_deletion(user, &plan, &agent_ids)
    }

    fn finish_deletion(&self, user: &UserId, plan: &Plan, agent_ids: &[String]) -> Result<()> {
        self.apply(plan)?;
        self.cache.forget_user(user.as_str());
        for agent in agent_ids {
            self.cache.forget_agent(agent);
        }
        Ok(())
    }

    fn deletion_plan(&self, user: &UserId, now: DateTime<Utc>) -> Result<(Plan, Vec<String>)> {
        let me = self.user(user)?;
        let id = user.to_string();
        let terminal = [OrderState::Completed.as_str(), OrderState::Refunded.as_str()];
        let (open, agent_ids): (i64, Vec<String>) = self.query(|c| {
            let open = orders::table
                .filter(orders::customer_id.eq(&id).or(orders::owner_id.eq(&id)))
                .filter(orders::state.ne_all(terminal))
                .count()
                .get_result(c)?;
            let agents = agents::table
                .filter(agents::owner_id.eq(&id))
                .select(agents::id)
                .load(c)?;
            Ok((open, agents))
        })?;
        let balance = self.balance(&AccountRef::Wallet(user.clone()))?;
        let deletion = decide_deletion(user, open, balance)?;
        let at = naive(now);
        let mut plan = Plan::new();
        plan.change(Change::Account(AccountChange::NoOpenOrders { user_id: id.clone() }));
        plan.change(Change::Account(AccountChange::Erase {
            user_id: id.clone(),
            placeholder_email: format!("deleted-{id}"),
            pseudonym: pseudonym(user),
            at,
        }));
        plan.change(Change::Account(AccountChange::EndSessions {
            user_id: id.clone(),
            except: None,
        }));
        plan.change(Change::Account(AccountChange::Forget {
            user_id: id.clone(),
            email: me.email.clone(),
        }));
        for agent in &agent_ids {
            plan.change(Change::AgentStatus {
                id: agent.clone(),
                from: vec![
                    AgentStatus::PendingApproval.as_str(),
                    AgentStatus::Active.as_str(),
                    AgentStatus::Paused.as_str(),
                ],
                to: AgentStatus::Retired.as_str(),
                optional: true,
                at,
            });
            plan.change(Change::RevokeApiKeys {
                agent_id: agent.clone(),
                at,
            });
            plan.change(Change::VoidBootstrapTokens {
                agent_id: agent.clone(),
                at,
            });
            plan.change(Change::SetupLink(LinkChange::VoidAll {
                agent_id: agent.clone(),
                at,
            }));
        }
        if let Some(t) = &deletion.sweep {
            plan.push(crate::plan::transfer(t, now));
        }
        Ok((plan, agent_ids))
    }
}
