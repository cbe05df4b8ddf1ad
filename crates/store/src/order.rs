//! Orders: load, decide (heepr-domain), apply state and effects in one transaction.

use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::files::StagedFile;
use crate::idempotency::Once;
use crate::plan::{Plan, Step};
use crate::rows::{OrderRow, naive};
use crate::schema::{events, orders};
use crate::{Store, micros, ulid};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use heepr_domain::order::{decide, place_order};
use heepr_domain::reputation::stats_delta;
use heepr_domain::{Actor, AgentId, Command, Decision, Order, OrderId, OrderState, PlaceOrder, Policy, Viewer};

/// Attempts before a command that keeps losing optimistic races gives up.
const ATTEMPTS: usize = 8;

/// An order as stored: the domain's order and its row's optimistic-concurrency
/// version, which every write bumps and is checked against (the domain knows nothing
/// of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The order.
    pub order: Order,
    /// 0 when placed, one more after each change.
    pub version: i64,
}

/// An event as stored for its agent.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// `evt_…`, also a cursor.
    pub id: String,
    /// Per-agent sequence number.
    pub seq: i64,
    /// The kind's wire name.
    pub kind: String,
    /// The compact payload with `id`, `k` and `ts` filled in.
    pub body: serde_json::Value,
}

impl Store {
    /// A fresh order id.
    pub fn new_order_id(&self) -> OrderId {
        OrderId::from_unique(ulid())
    }

    /// Places an order: the domain decides, the store writes the order, the escrow
    /// hold and the first event or notification together, or nothing (e.g. 402
    /// `insufficient_points`).
    pub fn place_order(&self, cmd: PlaceOrder, policy: &Policy, now: DateTime<Utc>) -> Result<Order> {
        let now = micros(now);
        retrying(|| {
            let d = place_order(cmd.clone(), policy, now)?;
            self.apply(&placement(&d, &[], None, &self.base_url(), now)?)?;
            Ok(d.order)
        })
        .inspect(|o| self.placed(o))
    }

    /// What this process remembers of an order it has just placed (version 0).
    pub(crate) fn placed(&self, o: &Order) {
        self.cache.put_order(&Stored {
            order: o.clone(),
            version: 0,
        });
    }

    /// Loads an order.
    pub fn order(&self, id: &OrderId) -> Result<Order> {
        self.stored_order(id).map(|s| s.order)
    }

    /// Loads an order with its stored version.
    pub fn stored_order(&self, id: &OrderId) -> Result<Stored> {
        self.query(|c| load(c, id))
    }

    /// Runs `cmd` from `actor` on an order. The caller has checked that the actor is
    /// this order's customer/owner/agent. A command that changes nothing writes nothing.
    pub fn order_command(
        &self,
        id: &OrderId,
        actor: Actor,
        cmd: Command,
        policy: &Policy,
        now: DateTime<Utc>,
    ) -> Result<Order> {
        self.command_with(id, actor, cmd, policy, now, &|_| true, &|_, _| Ok(()))
            .map(|(o, _)| o)
    }

    /// Runs `cmd` for `viewer` on one of its orders (else `NotFound`), claiming `once`'s
    /// key with the effect.
    pub fn order_command_by(
        &self,
        id: &OrderId,
        viewer: &Viewer,
        cmd: Command,
        policy: &Policy,
        now: DateTime<Utc>,
        once: Option<&Once<Order>>,
    ) -> Result<Order> {
        let now = micros(now);
        self.once(once, || {
            self.command_with(
                id,
                viewer.actor(),
                cmd,
                policy,
                now,
                &|o| viewer.may_see(o),
                &|after, plan| {
                    if let Some(once) = once {
                        once.claim_in(plan, after, now);
                    }
                    Ok(())
                },
            )
        })
        .map(|(o, _)| o)
    }

    /// The one command path: load, check `visible` (else `NotFound`), decide, write the
    /// new state with a version check, apply every effect, the agent's counters the
    /// decision moves (`heepr_domain::reputation`) and the `extra` steps — all in one
    /// transaction, retried on a lost race.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn command_with(
        &self,
        id: &OrderId,
        actor: Actor,
        cmd: Command,
        policy: &Policy,
        now: DateTime<Utc>,
        visible: &dyn Fn(&Order) -> bool,
        extra: &dyn Fn(&Order, &mut Plan) -> Result<()>,
    ) -> Result<(Order, bool)> {
        let now = micros(now);
        let attempt = |before: Stored| -> Result<(Stored, bool)> {
            if !visible(&before.order) {
                return Err(StoreError::NotFound);
            }
            let d = decide(&before.order, actor, cmd.clone(), policy, now)?;
            if d.order == before.order && d.effects.is_empty() {
                return Ok((before, false));
            }
            let after = Stored {
                order: d.order.clone(),
                version: before.version + 1,
            };
            let mut plan = Plan::new();
            plan.push(Step::UpdateOrder {
                row: OrderRow::new(&after.order, after.version)?,
                expected_version: before.version,
            });
            plan.effects(&d, &self.base_url(), now)?;
            plan.extend(Step::agent_stats(
                &d.order.agent,
                &stats_delta(&before.order, &cmd, &d.order, policy, now),
            ));
            extra(&after.order, &mut plan)?;
            self.apply(&plan)?;
            Ok((after, true))
        };
        retrying(|| {
            // The order as this process last wrote it saves a read when it is still
            // current, which the versioned write proves. Any other outcome (a refusal,
            // nothing to do, a lost race) may come from a stale copy: decide again on
            // the stored order.
            if let Some(kept) = self.cache.order(id.as_str()) {
                match attempt(kept) {
                    Ok((after, true)) => return Ok((after, true)),
                    _ => self.cache.forget_order(id.as_str()),
                }
            }
            // Load and decide outside the write transaction: the writer (SQLite's one
            // connection, or PostgreSQL row locks) is held only for the writes. The
            // version check turns a concurrent change into a retry.
            attempt(self.query(|c| load(c, id))?)
        })
        .map(|(after, changed)| {
            if changed {
                self.cache.put_order(&after);
            }
            (after.order, changed)
        })
    }

    /// Ids of orders whose timer is due by `now`, earliest first.
    pub fn due_orders(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<OrderId>> {
        let now = naive(now);
        self.read(|c| {
            let ids: Vec<String> = orders::table
                .filter(orders::due_at.le(now))
                .order(orders::due_at)
                .select(orders::id)
                .limit(limit)
                .load(c)?;
            ids.into_iter()
                .map(|i| OrderId::parse(&i).ok_or_else(|| StoreError::corrupt(format!("order id {i}"))))
                .collect()
        })
    }

    /// Applies every due timer (one batch). Safe to run on several instances at once:
    /// each order goes through the versioned command path, so a timer that another
    /// instance already applied is a no-op here. Returns how many orders changed.
    pub fn run_due_timers(&self, policy: &Policy, now: DateTime<Utc>, limit: i64) -> Result<usize> {
        let mut changed = 0;
        for id in self.due_orders(now, limit)? {
            match self.command_with(
                &id,
                Actor::System,
                Command::Tick,
                policy,
                now,
                &|_| true,
                &|_, _| Ok(()),
            ) {
                Ok((_, true)) => changed += 1,
                Ok((_, false)) => {}
                Err(e) => tracing::warn!(order = %id, error = %e, "timer not applied"),
            }
        }
        Ok(changed)
    }

    /// Every event stored for `agent` with a sequence number above `after_seq`.
    pub fn agent_events(&self, agent: &AgentId, after_seq: i64, limit: i64) -> Result<Vec<StoredEvent>> {
        self.read(|c| {
            let rows: Vec<(String, i64, String, String)> = events::table
                .filter(events::agent_id.eq(agent.as_str()))
                .filter(events::seq.gt(after_seq))
                .order(events::seq)
                .limit(limit)
                .select((events::id, events::seq, events::kind, events::body))
                .load(c)?;
            rows.into_iter()
                .map(|(id, seq, kind, body)| {
                    let body =
                        serde_json::from_str(&body).map_err(|e| StoreError::corrupt(format!("event {id}: {e}")))?;
                    Ok(StoredEvent { id, seq, kind, body })
                })
                .collect()
        })
    }
}

fn load(c: &mut AnyConnection, id: &OrderId) -> Result<Stored> {
    let row: OrderRow = orders::table
        .find(id.as_str())
        .select(OrderRow::as_select())
        .first(c)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    row.try_into()
}

/// Retries a transaction that lost an optimistic race (or a PostgreSQL deadlock or
/// serialization failure) against fresh state.
pub(crate) fn retrying<T>(mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let mut last = StoreError::Contention;
    for _ in 0..ATTEMPTS {
        match f() {
            Err(e) if is_retryable(&e) => last = e,
            other => return other,
        }
    }
    Err(last)
}

/// Like [`retrying`], pausing a little longer after each lost race (up to 20 ms, ~40
/// attempts): for rows the process keeps no copy of (AgentMarket tasks), a loser can
/// read the old row again until the winner's write — on SQLite, the winner's whole
/// commit group — is visible, so immediate retries could all lose.
pub(crate) fn retrying_with_pause<T>(mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let mut last = StoreError::Contention;
    let mut pause = std::time::Duration::from_millis(1);
    for _ in 0..40 {
        match f() {
            Err(e) if is_retryable(&e) => last = e,
            other => return other,
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_millis(20));
    }
    Err(last)
}

fn is_retryable(e: &StoreError) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        StoreError::Contention => true,
        StoreError::Database(Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) => true,
        StoreError::Database(Error::DatabaseError(_, info)) => info.message().contains("deadlock detected"),
        _ => false,
    }
}

/// A new order's rows: the order, its attachments' file rows and every effect of
/// its placement (escrow hold, first event or notification, linking to `base_url`).
pub(crate) fn placement(
    d: &Decision,
    attachments: &[StagedFile],
    once: Option<&Once<Order>>,
    base_url: &str,
    now: DateTime<Utc>,
) -> Result<Plan> {
    let mut plan = Plan::new();
    if let Some(once) = once {
        once.claim_in(&mut plan, &d.order, now);
    }
    plan.push(Step::InsertOrder {
        row: OrderRow::new(&d.order, 0)?,
    });
    for f in attachments {
        plan.push(f.step(d.order.id.as_str(), None, now));
    }
    plan.effects(d, base_url, now)?;
    Ok(plan)
}

/// Reads scoped by the domain's access rules.
impl Store {
    /// An order as a party may see it.
    pub fn order_for(&self, id: &OrderId, viewer: &Viewer) -> Result<Order> {
        let o = self.order(id)?;
        if !viewer.may_see(&o) {
            return Err(StoreError::NotFound);
        }
        Ok(o)
    }

    /// Orders of a party, newest first, optionally in one state.
    pub fn orders_of(&self, viewer: &Viewer, state: Option<OrderState>, limit: i64, offset: i64) -> Result<Vec<Order>> {
        self.read(|c| {
            let mut q = orders::table.select(OrderRow::as_select()).into_boxed();
            q = match viewer {
                Viewer::Customer(u) => q.filter(orders::customer_id.eq(u.as_str())),
                Viewer::Owner(u) => q.filter(orders::owner_id.eq(u.as_str())),
                Viewer::Agent(a) => q.filter(orders::agent_id.eq(a.as_str())),
                Viewer::Admin => q,
            };
            if let Some(s) = state {
                q = q.filter(orders::state.eq(s.as_str()));
            }
            let rows: Vec<OrderRow> = q
                .order((orders::created_at.desc(), orders::id.desc()))
                .limit(limit.clamp(1, crate::MAX_PAGE_ROWS))
                .offset(offset.max(0))
                .load(c)?;
            rows.into_iter().map(|r| Stored::try_from(r).map(|s| s.order)).collect()
        })
    }
}
