//! Reviews: a customer reviews a completed order (with the review bonus and the agent's
//! new rating and score in the same transaction), the agent's owner answers once, and
//! anyone reads an agent's reviews, newest first, by keyset.
//!
//! A review's plan is the claim, the review row, the bonus transfer and the rating —
//! every step one `heepr_apply_v2` knows, so on PostgreSQL it is one call like an order
//! command. The rating is written only over the record it was decided from; a
//! concurrent review of the same agent makes this one decide again.

use crate::browse::Page;
use crate::error::{Result, StoreError};
use crate::idempotency::Once;
use crate::order::retrying_with_pause;
use crate::plan::record::Change;
use crate::plan::{Plan, ReviewRow, Step, transfer};
use crate::rows::naive;
use crate::schema::{agents, reviews, users};
use crate::user::UserRecord;
use crate::{Store, micros, ulid};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use heepr_domain::agent::AgentStatus;
use heepr_domain::reputation::Reputation;
use heepr_domain::review::{ReviewDecision, ReviewError, ReviewInput, Stars, decide_reply, decide_review};
use heepr_domain::{MultiLine, OrderId, OrderState, Points, UserId, Viewer};

/// A review as shown to anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRecord {
    /// `rev_…`, time-ordered; also the page cursor.
    pub id: String,
    /// The reviewed order.
    pub order_id: String,
    /// Its agent.
    pub agent_id: String,
    /// The reviewer's display name.
    pub reviewer: String,
    /// 1–5.
    pub stars: i32,
    /// The customer's text.
    pub text: Option<String>,
    /// The owner's answer.
    pub reply: Option<String>,
    /// When the owner answered.
    pub replied_at: Option<DateTime<Utc>>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = reviews)]
struct ReviewCols {
    id: String,
    order_id: String,
    agent_id: String,
    stars: i32,
    body: Option<String>,
    reply: Option<String>,
    replied_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

impl ReviewCols {
    fn record(self, reviewer: String) -> ReviewRecord {
        ReviewRecord {
            id: self.id,
            order_id: self.order_id,
            agent_id: self.agent_id,
            reviewer,
            stars: self.stars,
            text: self.body,
            reply: self.reply,
            replied_at: self.replied_at.map(|t| t.and_utc()),
            created_at: self.created_at.and_utc(),
        }
    }
}

/// What the customer sends, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// 1–5.
    pub stars: Stars,
    /// The text, if any.
    pub text: Option<MultiLine>,
}

/// An agent's record columns, and whether `order` has its review (one statement).
type RecordCols = (i64, i64, i64, i64, i64, i64, i64, bool);

/// A second review of one order, caught by the unique index (a concurrent duplicate).
fn already_reviewed(e: StoreError) -> StoreError {
    match e {
        StoreError::Database(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            ReviewError::AlreadyReviewed.into()
        }
        other => other,
    }
}

impl Store {
    /// `reviewer` reviews one of their orders (anyone else's is `NotFound`), claiming
    /// `once`'s key with the effect; `bonus` is the configured review bonus.
    pub fn review_order(
        &self,
        reviewer: &UserRecord,
        order: &OrderId,
        review: Review,
        bonus: Points,
        now: DateTime<Utc>,
        once: Option<&Once<ReviewRecord>>,
    ) -> Result<ReviewRecord> {
        let now = micros(now);
        let viewer = Viewer::Customer(reviewer.id.clone());
        self.once(once, || {
            retrying_with_pause(|| {
                // A completed order never changes again: a kept copy in that state is
                // as good as the row.
                let o = match self.cache.order(order.as_str()) {
                    Some(kept) if kept.order.state == OrderState::Completed => kept.order,
                    _ => self.order(order)?,
                };
                if !viewer.may_see(&o) {
                    return Err(StoreError::NotFound);
                }
                let (completed, rating_sum, rating_count, on_time, missed_deadlines, declines, flags, reviewed): RecordCols =
                    self.query(|c| {
                        let has_review = reviews::table.filter(reviews::order_id.eq(order.as_str()));
                        Ok(agents::table
                            .find(o.agent.as_str())
                            .select((
                                agents::completed_count,
                                agents::rating_sum,
                                agents::rating_count,
                                agents::on_time_count,
                                agents::missed_deadline_count,
                                agents::decline_count,
                                agents::flag_count,
                                diesel::dsl::exists(has_review),
                            ))
                            .first(c)?)
                    })?;
                let record = Reputation {
                    completed,
                    rating_sum,
                    rating_count,
                    on_time,
                    missed_deadlines,
                    declines,
                    flags,
                };
                let input = ReviewInput {
                    id: format!("rev_{}", ulid()),
                    stars: review.stars,
                    text: review.text.clone(),
                };
                let d = decide_review(&o, reviewed, record, input, bonus, now)?;
                let shown = shown(&d, &reviewer.display_name);
                let mut plan = review_plan(&d, now);
                if let Some(once) = once {
                    once.claim_in(&mut plan, &shown, now);
                }
                self.apply(&plan).map_err(already_reviewed)?;
                Ok(shown)
            })
        })
    }

    /// The owner of the reviewed agent answers a review once (another owner's review is
    /// `NotFound`).
    pub fn reply_to_review(
        &self,
        owner: &UserId,
        id: &str,
        text: Option<&str>,
        now: DateTime<Utc>,
        once: Option<&Once<ReviewRecord>>,
    ) -> Result<ReviewRecord> {
        let now = micros(now);
        self.once(once, || {
            let (cols, agent_owner, reviewer): (ReviewCols, String, String) = self
                .query(|c| {
                    Ok(reviews::table
                        .inner_join(agents::table.on(agents::id.eq(reviews::agent_id)))
                        .inner_join(users::table.on(users::id.eq(reviews::customer_id)))
                        .filter(reviews::id.eq(id))
                        .select((ReviewCols::as_select(), agents::owner_id, users::display_name))
                        .first(c)
                        .optional()?)
                })?
                .ok_or(StoreError::NotFound)?;
            if agent_owner != owner.as_str() {
                return Err(StoreError::NotFound);
            }
            let reply = decide_reply(cols.reply.is_some(), text)?;
            let mut shown = cols.record(reviewer);
            shown.reply = Some(reply.as_str().to_owned());
            shown.replied_at = Some(now);
            let mut plan = Plan::new();
            if let Some(once) = once {
                once.claim_in(&mut plan, &shown, now);
            }
            plan.change(Change::ReviewReply {
                id: id.to_owned(),
                reply: reply.into_string(),
                at: naive(now),
            });
            self.apply(&plan)?;
            Ok(shown)
        })
    }

    /// An approved agent's reviews, newest first, `limit` (1–100) at a time after the
    /// review `cursor` (the previous page's `next`). An unknown agent, or one awaiting
    /// approval, is `NotFound`.
    pub fn agent_reviews(&self, agent: &str, limit: i64, cursor: Option<&str>) -> Result<Page<ReviewRecord>> {
        if cursor.is_some_and(|c| !c.starts_with("rev_") || c.len() > 80) {
            return Err(StoreError::Invalid(heepr_domain::Invalid::new(
                "cursor",
                "pass the `next` value of a previous page",
            )));
        }
        let limit = limit.clamp(1, crate::MAX_PAGE_ROWS - 1);
        let rows = self.read(|c| {
            let status: String = agents::table
                .find(agent)
                .select(agents::status)
                .first(c)
                .optional()?
                .ok_or(StoreError::NotFound)?;
            if status == AgentStatus::PendingApproval.as_str() {
                return Err(StoreError::NotFound);
            }
            let mut q = reviews::table
                .inner_join(users::table.on(users::id.eq(reviews::customer_id)))
                .filter(reviews::agent_id.eq(agent))
                .into_boxed();
            if let Some(after) = cursor {
                q = q.filter(reviews::id.lt(after));
            }
            let rows: Vec<(ReviewCols, String)> = q
                .order(reviews::id.desc())
                .limit(limit + 1)
                .select((ReviewCols::as_select(), users::display_name))
                .load(c)?;
            Ok(rows)
        })?;
        let more = rows.len() as i64 > limit;
        let rows: Vec<ReviewRecord> = rows
            .into_iter()
            .take(limit as usize)
            .map(|(r, name)| r.record(name))
            .collect();
        let next = more.then(|| rows.last().map(|r| r.id.clone())).flatten();
        Ok(Page { rows, next })
    }
}

/// The review as its writer sees it once written.
fn shown(d: &ReviewDecision, reviewer: &str) -> ReviewRecord {
    ReviewRecord {
        id: d.review.id.clone(),
        order_id: d.review.order.to_string(),
        agent_id: d.review.agent.to_string(),
        reviewer: reviewer.to_owned(),
        stars: i32::from(d.review.stars.get()),
        text: d.review.text.as_ref().map(|t| t.as_str().to_owned()),
        reply: None,
        replied_at: None,
        created_at: d.review.at,
    }
}

/// The review row, the bonus, then the rating: the agent's row is locked last, as in
/// placement (wallet, then agent), so the two never wait on each other in a cycle.
fn review_plan(d: &ReviewDecision, now: DateTime<Utc>) -> Plan {
    let r = &d.review;
    let mut plan = Plan::new();
    plan.push(Step::Review {
        row: ReviewRow {
            id: r.id.clone(),
            order_id: r.order.to_string(),
            agent_id: r.agent.to_string(),
            customer_id: r.customer.to_string(),
            stars: i32::from(r.stars.get()),
            body: r.text.as_ref().map(|t| t.as_str().to_owned()),
            reply: None,
            replied_at: None,
            created_at: naive(r.at),
        },
    });
    if let Some(t) = &d.bonus {
        plan.push(transfer(t, now));
    }
    plan.push(Step::AgentRating {
        agent_id: r.agent.to_string(),
        expected_sum: d.before.rating_sum,
        expected_count: d.before.rating_count,
        rating_sum: d.after.rating_sum,
        rating_count: d.after.rating_count,
        rating_x100: d.after.rating_x100(),
        score_x1000: d.after.score_x1000(),
    });
    plan
}
