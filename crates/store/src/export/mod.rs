//! Reads for a user's data export (seed 003): everything the marketplace holds about
//! one user, page by page so an export of any size is read with flat memory. Each page
//! is its own snapshot (an export of a busy account may see a change made while it
//! runs in one entry and not in another; see DECISIONS "Data export").
//!
//! Other people appear here only as display names (`heepr_domain::export`): rows carry
//! the counter-party's name, never their id or email.

use crate::Store;
use crate::error::Result;
use crate::order::Stored;
use crate::rows::OrderRow;
use crate::schema::{
    agents, api_keys, deliveries, files, messages, offers, orders, reviews, sessions, threads, transfers, users,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use heepr_domain::export::Side;
use heepr_domain::{AccountRef, AgentId, Order, UserId};

mod types;
use std::collections::HashMap;
pub use types::*;
use types::{FileRow, utc};

impl Store {
    /// The user's sessions (metadata only).
    pub fn export_sessions(&self, user: &UserId) -> Result<Vec<SessionMeta>> {
        self.query(|c| {
            let rows: Vec<(NaiveDateTime, NaiveDateTime)> = sessions::table
                .filter(sessions::user_id.eq(user.as_str()))
                .select((sessions::created_at, sessions::expires_at))
                .order(sessions::created_at)
                .load(c)?;
            Ok(rows
                .into_iter()
                .map(|(a, b)| SessionMeta {
                    created_at: utc(a),
                    expires_at: utc(b),
                })
                .collect())
        })
    }

    /// The user's agents with their settings.
    pub fn export_agents(&self, user: &UserId) -> Result<Vec<AgentExport>> {
        type Row = (String, String, String, bool, String, NaiveDateTime, NaiveDateTime);
        self.query(|c| {
            let rows: Vec<Row> = agents::table
                .filter(agents::owner_id.eq(user.as_str()))
                .select((
                    agents::id,
                    agents::name,
                    agents::status,
                    agents::suspended,
                    agents::settings,
                    agents::created_at,
                    agents::updated_at,
                ))
                .order(agents::id)
                .load(c)?;
            Ok(rows
                .into_iter()
                .map(
                    |(id, name, status, suspended, settings, created, updated)| AgentExport {
                        id,
                        name,
                        status,
                        suspended,
                        settings: serde_json::from_str(&settings).unwrap_or(serde_json::Value::String(settings)),
                        created_at: utc(created),
                        updated_at: utc(updated),
                    },
                )
                .collect())
        })
    }

    /// Issue, expiry, revocation and last-use times of the user's agents' API keys.
    pub fn export_key_use(&self, user: &UserId) -> Result<Vec<KeyUse>> {
        type Row = (
            String,
            String,
            NaiveDateTime,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
        );
        self.query(|c| {
            let rows: Vec<Row> = api_keys::table
                .inner_join(agents::table.on(agents::id.eq(api_keys::agent_id)))
                .filter(agents::owner_id.eq(user.as_str()))
                .select((
                    agents::id,
                    agents::name,
                    api_keys::created_at,
                    api_keys::expires_at,
                    api_keys::revoked_at,
                    agents::last_seen_at,
                ))
                .order((agents::id, api_keys::created_at))
                .load(c)?;
            Ok(rows
                .into_iter()
                .map(|(agent_id, agent_name, created, expires, revoked, seen)| KeyUse {
                    agent_id,
                    agent_name,
                    created_at: utc(created),
                    expires_at: expires.map(utc),
                    revoked_at: revoked.map(utc),
                    last_used_at: seen.map(utc),
                })
                .collect())
        })
    }

    /// One page of the user's orders on `side` after the order id `after`, by id.
    pub fn export_orders(&self, user: &UserId, side: Side, after: &str, limit: i64) -> Result<Vec<OrderExport>> {
        let rows: Vec<OrderRow> = self.query(|c| {
            let q = orders::table
                .select(OrderRow::as_select())
                .filter(orders::id.gt(after))
                .order(orders::id)
                .limit(limit)
                .into_boxed();
            let q = match side {
                Side::Customer => q.filter(orders::customer_id.eq(user.as_str())),
                Side::Owner => q.filter(orders::owner_id.eq(user.as_str())),
            };
            Ok(q.load(c)?)
        })?;
        let orders: Vec<Order> = rows
            .into_iter()
            .map(|r| Stored::try_from(r).map(|s| s.order))
            .collect::<Result<_>>()?;
        let ids: Vec<String> = orders.iter().map(|o| o.id.to_string()).collect();
        let agent_names = self.agent_names(orders.iter().map(|o| o.agent.clone()).collect())?;
        let people = self.display_names(
            orders
                .iter()
                .map(|o| match side {
                    Side::Customer => o.owner.to_string(),
                    Side::Owner => o.customer.to_string(),
                })
                .collect(),
        )?;
        let mut deliveries = self.deliveries_of(&ids)?;
        Ok(orders
            .into_iter()
            .map(|order| {
                let other = match side {
                    Side::Customer => order.owner.as_str(),
                    Side::Owner => order.customer.as_str(),
                };
                OrderExport {
                    agent_name: agent_names.get(order.agent.as_str()).cloned().unwrap_or_default(),
                    counterparty: people.get(other).cloned().unwrap_or_default(),
                    deliveries: deliveries.remove(order.id.as_str()).unwrap_or_default(),
                    order,
                }
            })
            .collect())
    }

    fn agent_names(&self, ids: Vec<AgentId>) -> Result<HashMap<String, String>> {
        let ids: Vec<String> = ids.iter().map(|a| a.to_string()).collect();
        self.query(|c| {
            let rows: Vec<(String, String)> = agents::table
                .filter(agents::id.eq_any(&ids))
                .select((agents::id, agents::name))
                .load(c)?;
            Ok(rows.into_iter().collect())
        })
    }

    fn display_names(&self, ids: Vec<String>) -> Result<HashMap<String, String>> {
        self.query(|c| {
            let rows: Vec<(String, String)> = users::table
                .filter(users::id.eq_any(&ids))
                .select((users::id, users::display_name))
                .load(c)?;
            Ok(rows.into_iter().collect())
        })
    }

    fn deliveries_of(&self, order_ids: &[String]) -> Result<HashMap<String, Vec<DeliveryMeta>>> {
        type Row = (String, String, i32, String, NaiveDateTime);
        let (rows, mut files): (Vec<Row>, HashMap<String, Vec<FileMeta>>) = self.read(|c| {
            let rows: Vec<Row> = deliveries::table
                .filter(deliveries::order_id.eq_any(order_ids))
                .select((
                    deliveries::id,
                    deliveries::order_id,
                    deliveries::seq,
                    deliveries::urls,
                    deliveries::created_at,
                ))
                .order((deliveries::order_id, deliveries::seq))
                .load(c)?;
            let mut by_delivery: HashMap<String, Vec<FileMeta>> = HashMap::new();
            let fs: Vec<FileRow> = files::table
                .filter(files::order_id.eq_any(order_ids))
                .filter(files::delivery_id.is_not_null())
                .select(FileRow::as_select())
                .order(files::id)
                .load(c)?;
            for f in fs {
                let f = FileMeta::from(f);
                by_delivery
                    .entry(f.delivery_id.clone().unwrap_or_default())
                    .or_default()
                    .push(f);
            }
            Ok((rows, by_delivery))
        })?;
        let mut out: HashMap<String, Vec<DeliveryMeta>> = HashMap::new();
        for (id, order_id, seq, urls, created) in rows {
            let urls = serde_json::from_str::<Vec<serde_json::Value>>(&urls).map_or(0, |u| u.len());
            let files = files.remove(&id).unwrap_or_default();
            out.entry(order_id).or_default().push(DeliveryMeta {
                id,
                seq,
                created_at: utc(created),
                urls,
                files,
            });
        }
        Ok(out)
    }

    /// One page, after the file id `after`, of the files the user uploaded: the brief
    /// attachments of their orders as customer and the delivered files of the orders on
    /// their agents.
    pub fn export_files(&self, user: &UserId, after: &str, limit: i64) -> Result<Vec<FileMeta>> {
        self.query(|c| {
            let rows: Vec<FileRow> = files::table
                .inner_join(orders::table.on(orders::id.eq(files::order_id)))
                .filter(files::id.gt(after))
                .filter(
                    (orders::customer_id.eq(user.as_str()).and(files::delivery_id.is_null()))
                        .or(orders::owner_id.eq(user.as_str()).and(files::delivery_id.is_not_null())),
                )
                .select(FileRow::as_select())
                .order(files::id)
                .limit(limit)
                .load(c)?;
            Ok(rows.into_iter().map(FileMeta::from).collect())
        })
    }

    /// One page, after the message id `after`, of the messages in the user's threads
    /// (as customer or as the agent's owner).
    pub fn export_messages(&self, user: &UserId, after: &str, limit: i64) -> Result<Vec<MessageExport>> {
        type Row = (
            String,
            String,
            Option<String>,
            String,
            String,
            Option<String>,
            String,
            NaiveDateTime,
        );
        let rows: Vec<Row> = self.query(|c| {
            Ok(messages::table
                .inner_join(threads::table.on(threads::id.eq(messages::thread_id)))
                .filter(messages::id.gt(after))
                .filter(
                    threads::customer_id
                        .eq(user.as_str())
                        .or(threads::owner_id.eq(user.as_str())),
                )
                .select((
                    messages::id,
                    messages::thread_id,
                    threads::order_id,
                    threads::agent_id,
                    messages::author_kind,
                    messages::author_id,
                    messages::body,
                    messages::created_at,
                ))
                .order(messages::id)
                .limit(limit)
                .load(c)?)
        })?;
        let people = self.display_names(
            rows.iter()
                .filter_map(|r| r.5.clone())
                .filter(|a| a != user.as_str())
                .collect(),
        )?;
        let agents = self.agent_names(rows.iter().filter_map(|r| AgentId::parse(&r.3)).collect())?;
        Ok(rows
            .into_iter()
            .map(
                |(id, thread_id, order_id, agent_id, author_kind, author_id, body, created)| {
                    let mine = author_id.as_deref() == Some(user.as_str());
                    let author_name = if mine {
                        None
                    } else if author_kind == "assistant" {
                        agents.get(&agent_id).cloned()
                    } else if author_kind == "support" {
                        // Support speaks as the marketplace, never as a named person.
                        Some("heepr support".to_owned())
                    } else {
                        author_id.and_then(|a| people.get(&a).cloned())
                    };
                    MessageExport {
                        id,
                        thread_id,
                        order_id,
                        agent_id,
                        author_kind,
                        mine,
                        author_name,
                        body,
                        created_at: utc(created),
                    }
                },
            )
            .collect())
    }

    /// One page, after the offer id `after`, of the offers in the user's threads.
    pub fn export_offers(&self, user: &UserId, after: &str, limit: i64) -> Result<Vec<OfferExport>> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            i64,
            NaiveDateTime,
            String,
            String,
            NaiveDateTime,
            Option<String>,
            NaiveDateTime,
        );
        self.query(|c| {
            let rows: Vec<Row> = offers::table
                .inner_join(threads::table.on(threads::id.eq(offers::thread_id)))
                .filter(offers::id.gt(after))
                .filter(
                    threads::customer_id
                        .eq(user.as_str())
                        .or(threads::owner_id.eq(user.as_str())),
                )
                .select((
                    offers::id,
                    offers::thread_id,
                    offers::agent_id,
                    offers::gig_id,
                    offers::tier,
                    offers::price,
                    offers::deadline,
                    offers::scope,
                    offers::inputs,
                    offers::expires_at,
                    offers::accepted_order_id,
                    offers::created_at,
                ))
                .order(offers::id)
                .limit(limit)
                .load(c)?;
            Ok(rows
                .into_iter()
                .map(
                    |(
                        id,
                        thread_id,
                        agent_id,
                        gig_id,
                        tier,
                        price,
                        deadline,
                        scope,
                        inputs,
                        expires,
                        accepted,
                        created,
                    )| {
                        OfferExport {
                            id,
                            thread_id,
                            agent_id,
                            gig_id,
                            tier,
                            price,
                            deadline: utc(deadline),
                            scope,
                            inputs: serde_json::from_str(&inputs).unwrap_or(serde_json::Value::Null),
                            expires_at: utc(expires),
                            accepted_order_id: accepted,
                            created_at: utc(created),
                        }
                    },
                )
                .collect())
        })
    }

    /// One page, after the review id `after`, of the reviews the user wrote (`Side::Customer`)
    /// or their agents received (`Side::Owner`).
    pub fn export_reviews(&self, user: &UserId, side: Side, after: &str, limit: i64) -> Result<Vec<ReviewExport>> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            i32,
            Option<String>,
            Option<String>,
            Option<NaiveDateTime>,
            NaiveDateTime,
        );
        let rows: Vec<Row> = self.query(|c| {
            let q = reviews::table
                .inner_join(agents::table.on(agents::id.eq(reviews::agent_id)))
                .filter(reviews::id.gt(after))
                .select((
                    reviews::id,
                    reviews::order_id,
                    reviews::agent_id,
                    agents::name,
                    reviews::customer_id,
                    agents::owner_id,
                    reviews::stars,
                    reviews::body,
                    reviews::reply,
                    reviews::replied_at,
                    reviews::created_at,
                ))
                .order(reviews::id)
                .limit(limit)
                .into_boxed();
            let q = match side {
                Side::Customer => q.filter(reviews::customer_id.eq(user.as_str())),
                Side::Owner => q.filter(agents::owner_id.eq(user.as_str())),
            };
            Ok(q.load(c)?)
        })?;
        let people = self.display_names(
            rows.iter()
                .map(|r| match side {
                    Side::Customer => r.5.clone(),
                    Side::Owner => r.4.clone(),
                })
                .collect(),
        )?;
        Ok(rows
            .into_iter()
            .map(
                |(id, order_id, agent_id, agent_name, customer, owner, stars, body, reply, replied, created)| {
                    let other = match side {
                        Side::Customer => owner,
                        Side::Owner => customer,
                    };
                    ReviewExport {
                        id,
                        order_id,
                        agent_id,
                        agent_name,
                        counterparty: people.get(&other).cloned().unwrap_or_default(),
                        stars,
                        body,
                        reply,
                        replied_at: replied.map(utc),
                        created_at: utc(created),
                    }
                },
            )
            .collect())
    }

    /// The ledger accounts that are the user's: their wallet and their agents' wallets.
    pub fn export_accounts(&self, user: &UserId) -> Result<Vec<String>> {
        let agents: Vec<String> = self.query(|c| {
            Ok(agents::table
                .filter(agents::owner_id.eq(user.as_str()))
                .select(agents::id)
                .order(agents::id)
                .load(c)?)
        })?;
        let mut keys = vec![AccountRef::Wallet(user.clone()).key()];
        keys.extend(
            agents
                .iter()
                .filter_map(|a| AgentId::parse(a))
                .map(|a| AccountRef::AgentWallet(a).key()),
        );
        Ok(keys)
    }

    /// One page, after the ledger sequence `after`, of the transfers touching `accounts`.
    pub fn export_transfers(&self, accounts: &[String], after: i64, limit: i64) -> Result<Vec<TransferExport>> {
        type Row = (i64, String, String, String, i64, String, Option<String>, NaiveDateTime);
        self.query(|c| {
            let rows: Vec<Row> = transfers::table
                .filter(transfers::seq.gt(after))
                .filter(transfers::debit.eq_any(accounts).or(transfers::credit.eq_any(accounts)))
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
                .order(transfers::seq)
                .limit(limit)
                .load(c)?;
            let mut out = Vec::with_capacity(rows.len());
            for (seq, id, debit, credit, amount, kind, order_id, created) in rows {
                // A transfer between two of the user's own accounts appears once per side.
                for (account, other, signed) in [(&credit, &debit, amount), (&debit, &credit, -amount)] {
                    if accounts.contains(account) {
                        out.push(TransferExport {
                            seq,
                            id: id.clone(),
                            account: account.clone(),
                            amount: signed,
                            kind: kind.clone(),
                            other: heepr_domain::export::other_account(other, accounts),
                            order_id: order_id.clone(),
                            created_at: utc(created),
                        });
                    }
                }
            }
            Ok(out)
        })
    }
}
