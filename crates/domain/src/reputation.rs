//! Reputation (SPEC §9, §15): the counters an agent's record keeps with every order
//! transition, its mean rating, the leaderboard score and the badges derived from them.
//!
//! - [`stats_delta`] says how one order decision moves its agent's counters. The store
//!   applies it as increments in the same transaction as the order change, so
//!   concurrent decisions on one agent's orders commute.
//! - [`Reputation`] is the record itself: the mean, the on-time rate, the score
//!   ([`Reputation::score_x1000`]) and the [`Badge`]s are functions of it, never stored
//!   apart from it (the score is stored with the rating so the leaderboard is an index
//!   scan, and rewritten with every review).
//! - An owner's own test order (its customer is the agent's owner) counts for nothing.

use crate::Timestamp;
use crate::order::{Actor, Command, Order, OrderState, decide};
use crate::policy::Policy;
use std::borrow::Cow;

/// The prior of the leaderboard's Bayesian average: every agent starts as if it had
/// [`PRIOR_WEIGHT`] reviews of [`PRIOR_MEAN_X1000`] / 1000 stars.
pub const PRIOR_MEAN_X1000: i64 = 3_000;

/// How many imaginary reviews at the prior mean every agent starts with.
pub const PRIOR_WEIGHT: i64 = 10;

/// `top_rated`: at least this many reviews …
pub const TOP_RATED_MIN_REVIEWS: i64 = 10;
/// … and a mean of at least this, in hundredths of a star.
pub const TOP_RATED_MIN_X100: i64 = 480;
/// `fast_delivery`: at least this many deadlines met …
pub const FAST_DELIVERY_MIN_ON_TIME: i64 = 10;
/// … and at least this share of all deadlines met, in percent.
pub const FAST_DELIVERY_MIN_PERCENT: i64 = 95;
/// `100_completed`: this many completed orders.
pub const HUNDRED_COMPLETED: i64 = 100;

/// Timer firings replayed per decision at most (each one ends the order or moves its
/// timer forward; an order has at most a handful due at once).
const MAX_TIMER_STEPS: usize = 16;

/// How one decision moves an agent's counters (each 0 or 1 per decision, usually).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsDelta {
    /// Orders that reached `completed` (accepted, review window passed, or a dispute
    /// resolved to completed).
    pub completed: i64,
    /// Deliveries made by their deadline (every delivery from `in_progress`: a deadline
    /// that passed refunds or returns the order before the agent can deliver).
    pub on_time: i64,
    /// Deadlines that passed with the order still `in_progress`.
    pub missed_deadlines: i64,
    /// Orders the agent declined.
    pub declines: i64,
    /// Orders the agent flagged.
    pub flags: i64,
}

impl StatsDelta {
    /// Whether nothing moves.
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    fn add(&mut self, o: Self) {
        self.completed += o.completed;
        self.on_time += o.on_time;
        self.missed_deadlines += o.missed_deadlines;
        self.declines += o.declines;
        self.flags += o.flags;
    }
}

/// An owner's order from their own agent (SPEC §15): no review, no bonus, no ranking,
/// no counter.
pub fn is_test_order(o: &Order) -> bool {
    o.customer == o.owner
}

/// How deciding `cmd` on `before` at `now` (which gave `after`) moves the agent's
/// counters. Timers due before the command fire first in [`decide`], each at the
/// instant it was due; they are replayed here one at a time, so a deadline missed just
/// before a command is counted as missed, and the command's own transition is counted
/// from the state the timers left. `Command::Tick` is timers only.
pub fn stats_delta(before: &Order, cmd: &Command, after: &Order, policy: &Policy, now: Timestamp) -> StatsDelta {
    let mut delta = StatsDelta::default();
    if is_test_order(before) {
        return delta;
    }
    let mut at = Cow::Borrowed(before);
    for _ in 0..MAX_TIMER_STEPS {
        let Some(due) = at.due_at.filter(|d| *d <= now) else {
            break;
        };
        let Ok(next) = decide(&at, Actor::System, Command::Tick, policy, due) else {
            break;
        };
        if next.order.state == at.state && next.order.due_at == at.due_at {
            break;
        }
        delta.add(transition(&at, &next.order, None));
        at = Cow::Owned(next.order);
    }
    if *cmd != Command::Tick {
        delta.add(transition(&at, after, Some(cmd)));
    }
    delta
}

/// One transition `a` → `b`: by a timer (`cmd` = `None`) or by a command.
fn transition(a: &Order, b: &Order, cmd: Option<&Command>) -> StatsDelta {
    use OrderState as S;
    let one = |yes: bool| i64::from(yes);
    let working = a.state == S::InProgress;
    StatsDelta {
        completed: one(a.state != S::Completed && b.state == S::Completed),
        on_time: one(b.deliveries > a.deliveries),
        missed_deadlines: one(cmd.is_none() && working && b.state != S::InProgress),
        declines: one(matches!(cmd, Some(Command::Decline { .. })) && working && b.state == S::Refunded),
        flags: one(matches!(cmd, Some(Command::AgentFlag { .. })) && working && b.state == S::Flagged),
    }
}

/// An agent's reputation record, as kept with the agent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reputation {
    /// Completed orders (test orders aside).
    pub completed: i64,
    /// Sum of every review's stars.
    pub rating_sum: i64,
    /// Number of reviews.
    pub rating_count: i64,
    /// Deadlines met.
    pub on_time: i64,
    /// Deadlines missed.
    pub missed_deadlines: i64,
    /// Orders declined.
    pub declines: i64,
    /// Orders flagged by the agent.
    pub flags: i64,
}

impl Reputation {
    /// The mean rating (1–5), if reviewed.
    pub fn rating(&self) -> Option<f64> {
        (self.rating_count > 0).then(|| self.rating_sum as f64 / self.rating_count as f64)
    }

    /// The mean in hundredths of a star, rounded down (0 when not reviewed): the
    /// stored sort key of `sort=rating` and what `min_rating` compares with.
    pub fn rating_x100(&self) -> i64 {
        if self.rating_count > 0 {
            self.rating_sum * 100 / self.rating_count
        } else {
            0
        }
    }

    /// The leaderboard score × 1000: a Bayesian average, `(C·m + Σstars) / (C + n)`
    /// with `C` = [`PRIOR_WEIGHT`] and `m` = [`PRIOR_MEAN_X1000`] / 1000, rounded
    /// down. A few perfect reviews barely move it; many good ones do. 0 when not
    /// reviewed: such agents are not ranked.
    pub fn score_x1000(&self) -> i64 {
        if self.rating_count <= 0 {
            return 0;
        }
        (self.rating_sum * 1000 + PRIOR_WEIGHT * PRIOR_MEAN_X1000) / (self.rating_count + PRIOR_WEIGHT)
    }

    /// The share of deadlines met (0–1), once any deadline was met or missed.
    pub fn on_time_rate(&self) -> Option<f64> {
        let all = self.on_time + self.missed_deadlines;
        (all > 0).then(|| self.on_time as f64 / all as f64)
    }

    /// The record after one more review of `stars`.
    pub fn with_review(&self, stars: i64) -> Self {
        Self {
            rating_sum: self.rating_sum + stars,
            rating_count: self.rating_count + 1,
            ..*self
        }
    }

    /// The badges this record earns, in a fixed order.
    pub fn badges(&self) -> Vec<Badge> {
        let mut b = Vec::new();
        if self.rating_count >= TOP_RATED_MIN_REVIEWS && self.rating_x100() >= TOP_RATED_MIN_X100 {
            b.push(Badge::TopRated);
        }
        let deadlines = self.on_time + self.missed_deadlines;
        if self.on_time >= FAST_DELIVERY_MIN_ON_TIME && self.on_time * 100 >= FAST_DELIVERY_MIN_PERCENT * deadlines {
            b.push(Badge::FastDelivery);
        }
        if self.completed >= HUNDRED_COMPLETED {
            b.push(Badge::HundredCompleted);
        }
        if self.completed >= 1 && self.rating_count == 0 && self.completed < HUNDRED_COMPLETED {
            b.push(Badge::Rising);
        }
        b
    }
}

/// A badge on a public profile (derived, never stored, so it cannot go stale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Badge {
    /// At least [`TOP_RATED_MIN_REVIEWS`] reviews with a mean of at least 4.8.
    TopRated,
    /// At least [`FAST_DELIVERY_MIN_ON_TIME`] deadlines met and at least 95 % of all
    /// deadlines met.
    FastDelivery,
    /// At least [`HUNDRED_COMPLETED`] completed orders.
    HundredCompleted,
    /// Completed orders but no review yet (and fewer than 100).
    Rising,
}

impl Badge {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TopRated => "top_rated",
            Self::FastDelivery => "fast_delivery",
            Self::HundredCompleted => "100_completed",
            Self::Rising => "rising",
        }
    }
}
