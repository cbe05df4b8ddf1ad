//! Chat threads, messages and offers (SPEC §9 "Order chat", "Pre-sale"; §15 offers).
//!
//! A pre-sale thread is opened by a customer with an agent; the built-in assistant
//! answers in the same transaction. An order thread (`order_id` set) is created the
//! first time one of the order's parties opens it. Accepting an offer places the order
//! and claims the offer in one transaction, so an offer becomes at most one order.

use crate::connection::AnyConnection;
use crate::delivery::{agent_for_order, insert_placed};
use crate::error::{Result, StoreError};
use crate::idempotency::Once;
use crate::mail::{self, NewEmail};
use crate::prepared::KeepPrepared;
use crate::rows::naive;
use crate::schema::{agents, messages, offers, orders, threads, users};
use crate::{Store, micros, ulid};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::agent::{AgentSettings, validate_inputs};
use heepr_domain::chat::{
    AuthorKind, ChatError, OfferDraft, OfferState, assistant_reply, decide_offer_acceptance, find_terms,
    offer_delivery_days, thread_is_writable, thread_role, validate_message, validate_offer,
};
use heepr_domain::{
    AgentId, DomainError, FeeBps, Order, OrderId, OrderState, PlaceOrder, Points, Policy, UserId, WorkSpec,
};

/// A thread as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRecord {
    /// `thr_…`
    pub id: String,
    /// The agent the customer talks to.
    pub agent_id: String,
    /// Who opened it (or the order's customer).
    pub customer_id: String,
    /// The agent's owner.
    pub owner_id: String,
    /// Set for an order's thread.
    pub order_id: Option<String>,
    /// The customer asked for a human.
    pub human_requested: bool,
    /// Opened at.
    pub created_at: DateTime<Utc>,
    /// Last message or change.
    pub updated_at: DateTime<Utc>,
}

/// A message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// `msg_…`
    pub id: String,
    /// Its thread.
    pub thread_id: String,
    /// Who wrote it.
    pub author_kind: AuthorKind,
    /// The writing user (none for the assistant).
    pub author_id: Option<String>,
    /// Text.
    pub body: String,
    /// Posted at.
    pub created_at: DateTime<Utc>,
}

/// An owner's offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferRecord {
    /// `off_…`
    pub id: String,
    /// Its thread.
    pub thread_id: String,
    /// The agent that would work.
    pub agent_id: String,
    /// The gig.
    pub gig_id: String,
    /// The tier (fixes included revisions).
    pub tier: String,
    /// Points.
    pub price: Points,
    /// When the work is due.
    pub deadline: DateTime<Utc>,
    /// Agreed scope.
    pub scope: String,
    /// Order-form answers.
    pub inputs: serde_json::Value,
    /// When the offer lapses.
    pub expires_at: DateTime<Utc>,
    /// The order it became, once accepted.
    pub accepted_order_id: Option<String>,
    /// Made at.
    pub created_at: DateTime<Utc>,
}

/// A thread with everything in it, as one viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadView {
    /// The thread.
    pub thread: ThreadRecord,
    /// The viewer's role in it.
    pub role: AuthorKind,
    /// Whether new messages are taken (false 7 days after the order ended).
    pub writable: bool,
    /// Oldest first.
    pub messages: Vec<MessageRecord>,
    /// Oldest first.
    pub offers: Vec<OfferRecord>,
}

/// Who is looking at a thread.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    /// The session user.
    pub user: &'a UserId,
    /// Has the admin (support) role: may read any thread.
    pub support: bool,
}

type ThreadCols = (
    String,
    String,
    String,
    String,
    Option<String>,
    bool,
    NaiveDateTime,
    NaiveDateTime,
);
const THREAD_COLS: (
    threads::id,
    threads::agent_id,
    threads::customer_id,
    threads::owner_id,
    threads::order_id,
    threads::human_requested,
    threads::created_at,
    threads::updated_at,
) = (
    threads::id,
    threads::agent_id,
    threads::customer_id,
    threads::owner_id,
    threads::order_id,
    threads::human_requested,
    threads::created_at,
    threads::updated_at,
);

fn thread_record(
    (id, agent_id, customer_id, owner_id, order_id, human_requested, created_at, updated_at): ThreadCols,
) -> ThreadRecord {
    ThreadRecord {
        id,
        agent_id,
        customer_id,
        owner_id,
        order_id,
        human_requested,
        created_at: created_at.and_utc(),
        updated_at: updated_at.and_utc(),
    }
}

type OfferCols = (
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
const OFFER_COLS: (
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
) = (
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
);

fn offer_record(
    (id, thread_id, agent_id, gig_id, tier, price, deadline, scope, inputs, expires_at, accepted_order_id, created_at): OfferCols,
) -> Result<OfferRecord> {
    Ok(OfferRecord {
        inputs: serde_json::from_str(&inputs).map_err(|e| StoreError::corrupt(format!("offer {id}: {e}")))?,
        id,
        thread_id,
        agent_id,
        gig_id,
        tier,
        price: Points(price),
        deadline: deadline.and_utc(),
        scope,
        expires_at: expires_at.and_utc(),
        accepted_order_id,
        created_at: created_at.and_utc(),
    })
}

fn load_thread(c: &mut AnyConnection, id: &str) -> Result<ThreadRecord> {
    threads::table
        .find(id)
        .select(THREAD_COLS)
        .first::<ThreadCols>(c)
        .optional()?
        .map(thread_record)
        .ok_or(StoreError::NotFound)
}

/// The viewer's role, or `NotFound` for anyone who is not a party.
fn role_of(t: &ThreadRecord, v: Viewer<'_>) -> Result<AuthorKind> {
    thread_role(&t.customer_id, &t.owner_id, v.user.as_str(), v.support).ok_or(StoreError::NotFound)
}

/// Whether the thread takes messages at `now`: an order thread goes read-only 7 days
/// after its order became terminal (the order's `updated_at`, which no longer changes
/// once the order is terminal).
fn writable(c: &mut AnyConnection, t: &ThreadRecord, now: DateTime<Utc>) -> Result<bool> {
    let Some(order) = &t.order_id else {
        return Ok(true);
    };
    let (state, updated): (String, NaiveDateTime) = orders::table
        .find(order)
        .select((orders::state, orders::updated_at))
        .first(c)?;
    let state = OrderState::parse(&state).ok_or_else(|| StoreError::corrupt(format!("order {order} state")))?;
    let terminal_at = state.is_terminal().then(|| updated.and_utc());
    Ok(thread_is_writable(Some(state), terminal_at, now))
}

fn insert_message(
    c: &mut AnyConnection,
    thread: &str,
    kind: AuthorKind,
    author: Option<&str>,
    body: &str,
    at: DateTime<Utc>,
) -> Result<MessageRecord> {
    let id = format!("msg_{}", ulid());
    diesel::insert_into(messages::table)
        .values((
            messages::id.eq(&id),
            messages::thread_id.eq(thread),
            messages::author_kind.eq(kind.as_str()),
            messages::author_id.eq(author),
            messages::body.eq(body),
            messages::created_at.eq(naive(at)),
        ))
        .execute_prepared(c)?;
    diesel::update(threads::table.find(thread))
        .set(threads::updated_at.eq(naive(at)))
        .execute_prepared(c)?;
    Ok(MessageRecord {
        id,
        thread_id: thread.to_owned(),
        author_kind: kind,
        author_id: author.map(str::to_owned),
        body: body.to_owned(),
        created_at: micros(at),
    })
}

fn view(c: &mut AnyConnection, thread: ThreadRecord, role: AuthorKind, now: DateTime<Utc>) -> Result<ThreadView> {
    let rows: Vec<(String, String, String, Option<String>, String, NaiveDateTime)> = messages::table
        .filter(messages::thread_id.eq(&thread.id))
        .order((messages::created_at, messages::id))
        .select((
            messages::id,
            messages::thread_id,
            messages::author_kind,
            messages::author_id,
            messages::body,
            messages::created_at,
        ))
        .load(c)?;
    let messages = rows
        .into_iter()
        .map(|(id, thread_id, kind, author_id, body, at)| {
            Ok(MessageRecord {
                author_kind: AuthorKind::parse(&kind)
                    .ok_or_else(|| StoreError::corrupt(format!("message {id} author kind")))?,
                id,
                thread_id,
                author_id,
                body,
                created_at: at.and_utc(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let offers = offers::table
        .filter(offers::thread_id.eq(&thread.id))
        .order((offers::created_at, offers::id))
        .select(OFFER_COLS)
        .load::<OfferCols>(c)?
        .into_iter()
        .map(offer_record)
        .collect::<Result<Vec<_>>>()?;
    let writable = writable(c, &thread, now)?;
    Ok(ThreadView {
        thread,
        role,
        writable,
        messages,
        offers,
    })
}

fn new_thread(
    c: &mut AnyConnection,
    agent: &str,
    customer: &str,
    owner: &str,
    order: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ThreadRecord> {
    let id = format!("thr_{}", ulid());
    diesel::insert_into(threads::table)
        .values((
            threads::id.eq(&id),
            threads::agent_id.eq(agent),
            threads::customer_id.eq(customer),
            threads::owner_id.eq(owner),
            threads::order_id.eq(order),
            threads::human_requested.eq(false),
            threads::created_at.eq(naive(now)),
            threads::updated_at.eq(naive(now)),
        ))
        .execute_prepared(c)?;
    load_thread(c, &id)
}

fn is_unique_violation(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}

impl Store {
    /// A customer opens a pre-sale thread with an approved agent. The first message and
    /// the built-in assistant's reply (tiers and order-form questions) are written in
    /// the same transaction; the reply is stamped one microsecond later so it always
    /// sorts after the question.
    pub fn open_thread(
        &self,
        customer: &UserId,
        agent_id: &str,
        message: &str,
        now: DateTime<Utc>,
    ) -> Result<ThreadView> {
        let now = micros(now);
        let body = validate_message("message", message)?;
        self.write(|c| {
            let (owner, _, settings) = agent_for_order(c, agent_id)?;
            let t = new_thread(c, agent_id, customer.as_str(), owner.as_str(), None, now)?;
            insert_message(c, &t.id, AuthorKind::Customer, Some(customer.as_str()), &body, now)?;
            insert_message(
                c,
                &t.id,
                AuthorKind::Assistant,
                None,
                &assistant_reply(&settings),
                now + Duration::microseconds(1),
            )?;
            let t = load_thread(c, &t.id)?;
            view(c, t, AuthorKind::Customer, now)
        })
    }

    /// Threads where `user` is the customer or the agent's owner, most recently active
    /// first.
    pub fn threads_of(&self, user: &UserId, limit: i64) -> Result<Vec<ThreadRecord>> {
        self.read(|c| {
            let rows: Vec<ThreadCols> = threads::table
                .filter(
                    threads::customer_id
                        .eq(user.as_str())
                        .or(threads::owner_id.eq(user.as_str())),
                )
                .order((threads::updated_at.desc(), threads::id.desc()))
                .limit(limit.clamp(1, 100))
                .select(THREAD_COLS)
                .load(c)?;
            Ok(rows.into_iter().map(thread_record).collect())
        })
    }

    /// A thread with its messages and offers, if the viewer is a party (or support).
    pub fn thread_for(&self, id: &str, viewer: Viewer<'_>, now: DateTime<Utc>) -> Result<ThreadView> {
        self.read(|c| {
            let t = load_thread(c, id)?;
            let role = role_of(&t, viewer)?;
            view(c, t, role, now)
        })
    }

    /// The customer or the owner posts a message. Support reads only (403); a thread
    /// whose order ended more than 7 days ago is read-only (409 `thread_read_only`).
    pub fn post_message(&self, id: &str, viewer: Viewer<'_>, body: &str, now: DateTime<Utc>) -> Result<MessageRecord> {
        let now = micros(now);
        let body = validate_message("body", body)?;
        self.write(|c| {
            let t = load_thread(c, id)?;
            let role = role_of(&t, viewer)?;
            if role == AuthorKind::Support {
                return Err(DomainError::NotPermitted {
                    actor: "support",
                    command: "post",
                }
                .into());
            }
            if !writable(c, &t, now)? {
                return Err(ChatError::ReadOnly.into());
            }
            insert_message(c, &t.id, role, Some(viewer.user.as_str()), &body, now)
        })
    }

    /// The customer asks for a human: the flag is set and an email to the owner is
    /// queued in the same transaction. Asking again changes nothing and sends nothing.
    pub fn request_human(
        &self,
        id: &str,
        viewer: Viewer<'_>,
        base_url: &str,
        now: DateTime<Utc>,
    ) -> Result<ThreadRecord> {
        let now = micros(now);
        self.write(|c| {
            let t = load_thread(c, id)?;
            if role_of(&t, viewer)? != AuthorKind::Customer {
                return Err(StoreError::NotFound);
            }
            if t.human_requested {
                return Ok(t);
            }
            diesel::update(threads::table.find(&t.id))
                .set((threads::human_requested.eq(true), threads::updated_at.eq(naive(now))))
                .execute_prepared(c)?;
            let to: String = users::table.find(&t.owner_id).select(users::email).first(c)?;
            let agent: String = agents::table.find(&t.agent_id).select(agents::name).first(c)?;
            let email = NewEmail {
                to,
                subject: format!("A customer asks for a human: {agent}"),
                body: format!(
                    "A customer chatting with {agent} asked to talk to a person.\n\n\
                     Open the thread: {base_url}/threads/{}\n",
                    t.id
                ),
            };
            mail::queue(c, &email, now)?;
            load_thread(c, &t.id)
        })
    }

    /// The owner of the thread's agent makes an offer in a pre-sale thread, checked
    /// against the agent's live settings (price range, gig, tier, form).
    pub fn create_offer(
        &self,
        thread_id: &str,
        owner: &UserId,
        draft: OfferDraft,
        now: DateTime<Utc>,
    ) -> Result<OfferRecord> {
        let now = micros(now);
        self.write(|c| {
            let t = load_thread(c, thread_id)?;
            if t.owner_id != owner.as_str() {
                return Err(StoreError::NotFound);
            }
            if t.order_id.is_some() {
                return Err(ChatError::NotPreSale.into());
            }
            let settings: String = agents::table.find(&t.agent_id).select(agents::settings).first(c)?;
            let settings: AgentSettings = serde_json::from_str(&settings).map_err(StoreError::corrupt)?;
            let v = validate_offer(&settings, draft, now)?;
            let d = v.draft;
            let id = format!("off_{}", ulid());
            diesel::insert_into(offers::table)
                .values((
                    offers::id.eq(&id),
                    offers::thread_id.eq(&t.id),
                    offers::agent_id.eq(&t.agent_id),
                    offers::gig_id.eq(&d.gig_id),
                    offers::tier.eq(&d.tier),
                    offers::price.eq(d.price.get()),
                    offers::deadline.eq(naive(d.deadline)),
                    offers::scope.eq(&d.scope),
                    offers::inputs.eq(d.inputs.to_string()),
                    offers::expires_at.eq(naive(v.expires_at)),
                    offers::accepted_order_id.eq(None::<String>),
                    offers::created_at.eq(naive(now)),
                ))
                .execute_prepared(c)?;
            diesel::update(threads::table.find(&t.id))
                .set(threads::updated_at.eq(naive(now)))
                .execute_prepared(c)?;
            let row: OfferCols = offers::table.find(&id).select(OFFER_COLS).first(c)?;
            offer_record(row)
        })
    }

    /// The thread's customer accepts an offer: the offer is claimed with a conditional
    /// update (`accepted_order_id IS NULL`) and the order is placed exactly as from a
    /// gig (inputs checked against the live form, escrow held, `new_order` emitted),
    /// but skipping owner approval, at the offer's price and with its scope — all in
    /// one transaction. A concurrent second accept finds the offer claimed: 409
    /// `offer_accepted`, and nothing of its own is written.
    pub fn accept_offer(
        &self,
        offer_id: &str,
        customer: &UserId,
        fee_bps: FeeBps,
        policy: &Policy,
        now: DateTime<Utc>,
        once: Option<&Once<Order>>,
    ) -> Result<Order> {
        let now = micros(now);
        let order = self.once(once, || {
            self.write(|c| {
                let offer: OfferCols = offers::table
                    .find(offer_id)
                    .select(OFFER_COLS)
                    .first(c)
                    .optional()?
                    .ok_or(StoreError::NotFound)?;
                let offer = offer_record(offer)?;
                let t = load_thread(c, &offer.thread_id)?;
                let state = OfferState {
                    accepted: offer.accepted_order_id.is_some(),
                    expires_at: offer.expires_at,
                    deadline: offer.deadline,
                };
                decide_offer_acceptance(&state, t.customer_id == customer.as_str(), now).map_err(|e| match e {
                    ChatError::NotAParty => StoreError::NotFound,
                    other => other.into(),
                })?;
                let id = OrderId::from_unique(ulid());
                let claimed = diesel::update(
                    offers::table
                        .find(&offer.id)
                        .filter(offers::accepted_order_id.is_null()),
                )
                .set(offers::accepted_order_id.eq(id.as_str()))
                .execute_prepared(c)?;
                if claimed == 0 {
                    return Err(ChatError::OfferAccepted.into());
                }
                let (owner, availability, settings) = agent_for_order(c, &offer.agent_id)?;
                let (gig, tier) = find_terms(&settings, &offer.gig_id, &offer.tier)?;
                let inputs = validate_inputs(&gig.form, &offer.inputs, &[])?;
                let cmd = PlaceOrder {
                    id,
                    customer: customer.clone(),
                    owner,
                    agent: AgentId::parse(&offer.agent_id).ok_or_else(|| StoreError::corrupt("offer agent"))?,
                    availability,
                    accept_mode: settings.accept_mode.clone(),
                    price: offer.price,
                    fee_bps,
                    work: WorkSpec {
                        gig_title: gig.title.clone(),
                        tier_name: tier.name.clone(),
                        inputs: serde_json::Value::Object(inputs),
                        scope: Some(offer.scope.clone()),
                        brief: None,
                        attachments: Vec::new(),
                        delivery_days: offer_delivery_days(offer.deadline, now),
                        category: gig.category.clone(),
                    },
                    revisions_included: tier.revisions,
                    auto_approve_deliveries: settings.auto_approve_deliveries,
                    from_offer: true,
                };
                let order = insert_placed(c, cmd, &[], once, policy, now)?;
                diesel::update(threads::table.find(&t.id))
                    .set(threads::updated_at.eq(naive(now)))
                    .execute_prepared(c)?;
                Ok(order)
            })
        })?;
        self.placed(&order);
        Ok(order)
    }

    /// One offer (for its thread's parties).
    pub fn offer_for(&self, offer_id: &str, viewer: Viewer<'_>) -> Result<OfferRecord> {
        self.read(|c| {
            let row: OfferCols = offers::table
                .find(offer_id)
                .select(OFFER_COLS)
                .first(c)
                .optional()?
                .ok_or(StoreError::NotFound)?;
            let o = offer_record(row)?;
            role_of(&load_thread(c, &o.thread_id)?, viewer)?;
            Ok(o)
        })
    }

    /// An order's thread, created on first access by one of the order's parties
    /// (customer, owner, or support reading).
    pub fn order_thread(
        &self,
        order: &OrderId,
        viewer: &heepr_domain::Viewer,
        now: DateTime<Utc>,
    ) -> Result<ThreadView> {
        use heepr_domain::Viewer as V;
        let o = self.order_for(order, viewer)?;
        let role = match viewer {
            V::Customer(_) => AuthorKind::Customer,
            V::Owner(_) => AuthorKind::Owner,
            V::Admin => AuthorKind::Support,
            V::Agent(_) => return Err(StoreError::NotFound),
        };
        let now = micros(now);
        let find = |c: &mut AnyConnection| -> Result<Option<ThreadRecord>> {
            Ok(threads::table
                .filter(threads::order_id.eq(o.id.as_str()))
                .select(THREAD_COLS)
                .first::<ThreadCols>(c)
                .optional()?
                .map(thread_record))
        };
        if let Some(t) = self.read(|c| find(c).and_then(|t| t.map(|t| view(c, t, role, now)).transpose()))? {
            return Ok(t);
        }
        let created = self.write(|c| {
            let t = match find(c)? {
                Some(t) => t,
                None => new_thread(
                    c,
                    o.agent.as_str(),
                    o.customer.as_str(),
                    o.owner.as_str(),
                    Some(o.id.as_str()),
                    now,
                )?,
            };
            view(c, t, role, now)
        });
        match created {
            // Another request created it first.
            Err(e) if is_unique_violation(&e) => self.read(|c| {
                let t = find(c)?.ok_or(StoreError::NotFound)?;
                view(c, t, role, now)
            }),
            other => other,
        }
    }
}
