//! Reviews (SPEC §9, §15): one per completed order, by its customer, with a bonus for
//! the reviewer; the agent's owner may answer each once.
//!
//! [`decide_review`] and [`decide_reply`] return what to write — the review row, the
//! agent's new rating record, the bonus transfer — or a [`ReviewError`]. The caller
//! has already checked that the order is the reviewer's (else 404) and that the review
//! is on one of the replier's agents.

use crate::error::Invalid;
use crate::ids::{AgentId, OrderId, UserId};
use crate::ledger::{AccountRef, Transfer, TransferKind};
use crate::order::{Order, OrderState};
use crate::points::Points;
use crate::reputation::{Reputation, is_test_order};
use crate::text::MultiLine;
use crate::{DomainError, Timestamp};

/// Longest review text, in characters.
pub const TEXT_MAX_CHARS: usize = crate::limits::REVIEW_TEXT_MAX_CHARS;

/// Longest owner reply, in characters.
pub const REPLY_MAX_CHARS: usize = crate::limits::REVIEW_REPLY_MAX_CHARS;

/// A star rating, 1–5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stars(u8);

impl Stars {
    /// 1 to 5 stars; anything else is refused for `field` `stars`.
    pub fn new(n: i64) -> Result<Self, Invalid> {
        u8::try_from(n)
            .ok()
            .filter(|n| (1..=5).contains(n))
            .map(Self)
            .ok_or_else(|| Invalid::new("stars", "must be a whole number from 1 to 5"))
    }

    /// The number of stars.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// Why a review or a reply is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// Only a completed order can be reviewed (409).
    #[error("only a completed order can be reviewed; this one is {0}")]
    NotCompleted(OrderState),
    /// An owner's test order of their own agent gives no review (403).
    #[error("an order from your own agent cannot be reviewed")]
    OwnAgent,
    /// The order has its review (409).
    #[error("this order was already reviewed")]
    AlreadyReviewed,
    /// The review has its owner's reply (409).
    #[error("this review already has a reply")]
    AlreadyReplied,
    /// A field is out of range (422).
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

impl ReviewError {
    /// A stable machine code for the error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotCompleted(_) => "order_not_completed",
            Self::OwnAgent => "own_agent",
            Self::AlreadyReviewed => "already_reviewed",
            Self::AlreadyReplied => "already_replied",
            Self::Invalid(_) => "validation_failed",
        }
    }
}

/// A field refusal from a shared rule (a text rule, a transfer's amount).
fn refused(e: DomainError) -> ReviewError {
    match e {
        DomainError::InvalidInput(i) => ReviewError::Invalid(i),
        other => ReviewError::Invalid(Invalid::new("review", other.to_string())),
    }
}

/// What the customer sends, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewInput {
    /// The caller-minted id of the new review (`rev_…`).
    pub id: String,
    /// The rating.
    pub stars: Stars,
    /// The text, if any.
    pub text: Option<MultiLine>,
}

/// A review to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReview {
    /// The caller-minted id (`rev_…`).
    pub id: String,
    /// The reviewed order.
    pub order: OrderId,
    /// Its agent.
    pub agent: AgentId,
    /// Its customer, the reviewer.
    pub customer: UserId,
    /// The rating.
    pub stars: Stars,
    /// What the customer wrote, if anything.
    pub text: Option<MultiLine>,
    /// When.
    pub at: Timestamp,
}

/// What a review writes, all in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewDecision {
    /// The review row.
    pub review: NewReview,
    /// The agent's record the decision was made on: the write must find it unchanged.
    pub before: Reputation,
    /// The agent's record with this review counted (its mean and score follow from it).
    pub after: Reputation,
    /// The review bonus, mint → the reviewer's wallet (`None` when the bonus is 0).
    pub bonus: Option<Transfer>,
}

/// The customer of `order` reviews it. `reviewed` says whether the order already has
/// its review; `agent` is its agent's current record; `bonus` the configured review
/// bonus. Refusals in this order: a test order, not completed, already reviewed.
pub fn decide_review(
    order: &Order,
    reviewed: bool,
    agent: Reputation,
    input: ReviewInput,
    bonus: Points,
    now: Timestamp,
) -> Result<ReviewDecision, ReviewError> {
    if is_test_order(order) {
        return Err(ReviewError::OwnAgent);
    }
    if order.state != OrderState::Completed {
        return Err(ReviewError::NotCompleted(order.state));
    }
    if reviewed {
        return Err(ReviewError::AlreadyReviewed);
    }
    let bonus = if bonus.get() > 0 {
        Some(
            Transfer::new(
                AccountRef::Mint,
                AccountRef::Wallet(order.customer.clone()),
                bonus,
                TransferKind::ReviewBonus,
                Some(order.id.clone()),
            )
            .map_err(refused)?,
        )
    } else {
        None
    };
    Ok(ReviewDecision {
        after: agent.with_review(i64::from(input.stars.get())),
        review: NewReview {
            id: input.id,
            order: order.id.clone(),
            agent: order.agent.clone(),
            customer: order.customer.clone(),
            stars: input.stars,
            text: input.text,
            at: now,
        },
        before: agent,
        bonus,
    })
}

/// The agent's owner answers a review; `replied` says whether it has an answer. The
/// reply text is required.
pub fn decide_reply(replied: bool, text: Option<&str>) -> Result<MultiLine, ReviewError> {
    if replied {
        return Err(ReviewError::AlreadyReplied);
    }
    MultiLine::required("text", text.unwrap_or_default(), REPLY_MAX_CHARS).map_err(refused)
}
