//! The public agent list and the leaderboard, paged by keyset: a page ends with the
//! last row's sort key and id, and the next one starts strictly after them with a
//! row-value comparison `(key, id) < (…, …)` that both backends answer from the
//! `(key, id)` indexes of migration 000010 — so a deep page costs what the first does
//! (no OFFSET, no scan of the rows before it). Suspended agents and agents awaiting
//! approval are never listed.

use crate::Store;
use crate::agent::{AgentCols, AgentRecord, like_escape};
use crate::error::{Result, StoreError};
use crate::rows::naive;
use crate::schema::agents;
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
use heepr_domain::Invalid;
use heepr_domain::agent::{AgentStatus, online_since};

/// Filters and order for the public agent list.
#[derive(Debug, Clone, Default)]
pub struct BrowseQuery {
    /// Only agents in this category.
    pub category: Option<String>,
    /// Text in name, description or skills (case-insensitive).
    pub q: Option<String>,
    /// Minimum mean rating, compared in hundredths of a star (rounded up); only
    /// reviewed agents match.
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
    /// The previous page's `next`.
    pub cursor: Option<String>,
}

/// Orders of the public agent list; each ends with the id as tiebreaker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BrowseSort {
    /// Newest first.
    #[default]
    Newest,
    /// Best mean rating first (unreviewed agents last).
    Rating,
    /// Most completed orders first.
    Orders,
    /// Cheapest tier first.
    Price,
}

impl BrowseSort {
    /// The cursor's tag: a cursor of one order is refused by another.
    fn tag(self) -> char {
        match self {
            Self::Newest => 'n',
            Self::Rating => 'r',
            Self::Orders => 'c',
            Self::Price => 'p',
        }
    }

    /// The row's value of the sort key (a timestamp as microseconds).
    fn key(self, a: &AgentRecord) -> i64 {
        match self {
            Self::Newest => a.created_at.timestamp_micros(),
            Self::Rating => a.rating_x100,
            Self::Orders => a.completed_orders,
            Self::Price => a.price_min,
        }
    }
}

/// One page and the cursor of the next (`None` on the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows.
    pub rows: Vec<T>,
    /// Pass back as `cursor` for the next page.
    pub next: Option<String>,
}

/// An agent on the leaderboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// 1 for the top agent of this listing.
    pub rank: i64,
    /// The agent.
    pub agent: AgentRecord,
}

/// Where a page starts: after the row with this sort key and id; `rank` rows came
/// before it (leaderboard only).
struct After {
    key: i64,
    rank: i64,
    id: String,
}

impl After {
    /// `<tag><key>.<rank>.<id>`: opaque to clients.
    fn encode(tag: char, key: i64, rank: i64, id: &str) -> String {
        format!("{tag}{key}.{rank}.{id}")
    }

    fn parse(raw: &str, tag: char) -> Result<Self> {
        let bad = || StoreError::Invalid(Invalid::new("cursor", "pass the `next` value of a previous page"));
        let rest = raw.strip_prefix(tag).ok_or_else(bad)?;
        let mut parts = rest.splitn(3, '.');
        let key = parts.next().and_then(|k| k.parse().ok()).ok_or_else(bad)?;
        let rank = parts
            .next()
            .and_then(|r| r.parse().ok())
            .filter(|r| *r >= 0)
            .ok_or_else(bad)?;
        let id = parts
            .next()
            .filter(|id| heepr_domain::AgentId::parse(id).is_some())
            .ok_or_else(bad)?;
        Ok(Self {
            key,
            rank,
            id: id.to_owned(),
        })
    }
}

type Predicate = Box<dyn BoxableExpression<agents::table, crate::connection::MultiBackend, SqlType = Bool>>;

/// `(column, id) <op> (key, id)` with the key bound as its column's type.
fn after(column: &str, op: &str, a: &After, as_time: bool) -> Result<Predicate> {
    let head = sql::<Bool>(&format!("({column}, agents.id) {op} ("));
    let bound: Predicate = if as_time {
        let at = DateTime::<Utc>::from_timestamp_micros(a.key)
            .ok_or_else(|| StoreError::Invalid(Invalid::new("cursor", "pass the `next` value of a previous page")))?;
        Box::new(
            head.bind::<Timestamp, _>(naive(at))
                .sql(", ")
                .bind::<Text, _>(a.id.clone())
                .sql(")"),
        )
    } else {
        Box::new(
            head.bind::<BigInt, _>(a.key)
                .sql(", ")
                .bind::<Text, _>(a.id.clone())
                .sql(")"),
        )
    };
    Ok(bound)
}

/// Listed agents: approved, not retired (their owner deleted the account), not suspended.
fn listed() -> agents::BoxedQuery<'static, crate::connection::MultiBackend> {
    agents::table
        .filter(agents::status.ne_all([AgentStatus::PendingApproval.as_str(), AgentStatus::Retired.as_str()]))
        // A suspended agent disappears from browsing (its profile still answers, suspended).
        .filter(agents::suspended.eq(false))
        .into_boxed()
}

fn in_category(cat: &str) -> Predicate {
    Box::new(
        agents::categories
            .like(format!("%,{},%", like_escape(cat)))
            .escape('\\'),
    )
}

impl Store {
    /// The public list: one page of listed agents matching `q`.
    pub fn browse_agents(&self, q: &BrowseQuery, now: DateTime<Utc>) -> Result<Page<AgentRecord>> {
        let sort = q.sort;
        let from = q.cursor.as_deref().map(|c| After::parse(c, sort.tag())).transpose()?;
        let limit = q.limit.clamp(1, crate::MAX_PAGE_ROWS - 1);
        let mut query = listed();
        if let Some(cat) = &q.category {
            query = query.filter(in_category(cat));
        }
        if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            query = query.filter(
                agents::search
                    .like(format!("%{}%", like_escape(&text.to_lowercase())))
                    .escape('\\'),
            );
        }
        if let Some(min) = q.min_rating {
            // In hundredths, rounded up; a small epsilon keeps 4.8 from becoming 481.
            let x100 = (min * 100.0 - 1e-6).ceil().max(0.0) as i64;
            query = query
                .filter(agents::rating_count.gt(0))
                .filter(agents::rating_x100.ge(x100));
        }
        if let Some(online) = q.online {
            let since = naive(online_since(now));
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
        if let Some(a) = &from {
            query = query.filter(match sort {
                BrowseSort::Newest => after("agents.created_at", "<", a, true)?,
                BrowseSort::Rating => after("agents.rating_x100", "<", a, false)?,
                BrowseSort::Orders => after("agents.completed_count", "<", a, false)?,
                BrowseSort::Price => after("agents.price_min", ">", a, false)?,
            });
        }
        query = match sort {
            BrowseSort::Newest => query.order((agents::created_at.desc(), agents::id.desc())),
            BrowseSort::Rating => query.order((agents::rating_x100.desc(), agents::id.desc())),
            BrowseSort::Orders => query.order((agents::completed_count.desc(), agents::id.desc())),
            BrowseSort::Price => query.order((agents::price_min.asc(), agents::id.asc())),
        };
        let rows = self.page(query, limit)?;
        let next = page_end(&rows, limit).map(|last| After::encode(sort.tag(), sort.key(last), 0, last.id.as_str()));
        Ok(Page {
            rows: rows.into_iter().take(limit as usize).collect(),
            next,
        })
    }

    /// The leaderboard: reviewed, listed agents (optionally of one category) by their
    /// Bayesian score, best first (`heepr_domain::reputation`). Owners' test orders
    /// give no review, so they never count.
    pub fn leaderboard(&self, category: Option<&str>, limit: i64, cursor: Option<&str>) -> Result<Page<Ranked>> {
        let from = cursor.map(|c| After::parse(c, 's')).transpose()?;
        let limit = limit.clamp(1, crate::MAX_PAGE_ROWS - 1);
        let mut query = listed().filter(agents::score_x1000.gt(0));
        if let Some(cat) = category {
            query = query.filter(in_category(cat));
        }
        if let Some(a) = &from {
            query = query.filter(after("agents.score_x1000", "<", a, false)?);
        }
        let query = query.order((agents::score_x1000.desc(), agents::id.desc()));
        let rows = self.page(query, limit)?;
        let before = from.map_or(0, |a| a.rank);
        let next =
            page_end(&rows, limit).map(|last| After::encode('s', last.score_x1000, before + limit, last.id.as_str()));
        let rows = rows
            .into_iter()
            .take(limit as usize)
            .zip(before + 1..)
            .map(|(agent, rank)| Ranked { rank, agent })
            .collect();
        Ok(Page { rows, next })
    }

    /// `limit + 1` rows of `query` (one statement, no transaction): the extra row says
    /// whether another page follows.
    fn page(
        &self,
        query: agents::BoxedQuery<'static, crate::connection::MultiBackend>,
        limit: i64,
    ) -> Result<Vec<AgentRecord>> {
        let rows: Vec<AgentCols> =
            self.query(|c| Ok(query.select(AgentCols::as_select()).limit(limit + 1).load(c)?))?;
        rows.into_iter().map(AgentRecord::try_from).collect()
    }
}

/// The last row of a full page, when another page follows.
fn page_end(rows: &[AgentRecord], limit: i64) -> Option<&AgentRecord> {
    (rows.len() as i64 > limit)
        .then(|| rows.get(limit as usize - 1))
        .flatten()
}
