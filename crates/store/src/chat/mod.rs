//! Chat threads, messages and offers (SPEC §9 "Order chat", "Pre-sale"; §15 offers).
//!
//! A pre-sale thread is opened by a customer with an agent; the built-in assistant
//! answers in the same transaction. An order thread (`order_id` set) is created the
//! first time one of the order's parties opens it. Accepting an offer places the order
//! and claims the offer in one transaction, so an offer becomes at most one order.

mod offer;

pub use offer::OfferRecord;
use offer::{OfferCols, offer_record};

use crate::connection::AnyConnection;
use crate::error::{Result, StoreError};
use crate::notice::NewNotice;
use crate::placement::agent_for_order;
use crate::plan::Plan;
use crate::plan::record::{Change, MessageRow, NewRow, ThreadRow};
use crate::rows::naive;
use crate::schema::{messages, offers, orders, threads};
use crate::{Store, micros, ulid};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::chat::{
    AuthorKind, ChatError, assistant_reply, decide_human_request, decide_post, thread_is_writable, thread_role,
    validate_message,
};
use heepr_domain::notice::{Detail, NotificationKind, Recipient};
use heepr_domain::{OrderId, OrderState, UserId};

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

/// A thread's row as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = threads)]
struct ThreadCols {
    id: String,
    agent_id: String,
    customer_id: String,
    owner_id: String,
    order_id: Option<String>,
    human_requested: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn thread_record(r: ThreadCols) -> ThreadRecord {
    ThreadRecord {
        id: r.id,
        agent_id: r.agent_id,
        customer_id: r.customer_id,
        owner_id: r.owner_id,
        order_id: r.order_id,
        human_requested: r.human_requested,
        created_at: r.created_at.and_utc(),
        updated_at: r.updated_at.and_utc(),
    }
}

pub(crate) fn load_thread(c: &mut AnyConnection, id: &str) -> Result<ThreadRecord> {
    threads::table
        .find(id)
        .select(ThreadCols::as_select())
        .first::<ThreadCols>(c)
        .optional()?
        .map(thread_record)
        .ok_or(StoreError::NotFound)
}

/// The viewer's role, or `NotFound` for anyone who is not a party.
pub(crate) fn role_of(t: &ThreadRecord, v: Viewer<'_>) -> Result<AuthorKind> {
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

/// A message's row and its thread's new last activity, added to `plan`; returns the
/// message as it will be stored.
fn post(
    plan: &mut Plan,
    thread: &str,
    kind: AuthorKind,
    author: Option<&str>,
    body: &str,
    at: DateTime<Utc>,
) -> MessageRecord {
    let id = format!("msg_{}", ulid());
    plan.insert(NewRow::Message(MessageRow {
        id: id.clone(),
        thread_id: thread.to_owned(),
        author_kind: kind.as_str(),
        author_id: author.map(str::to_owned),
        body: body.to_owned(),
        created_at: naive(at),
    }));
    plan.change(Change::TouchThread {
        id: thread.to_owned(),
        at: naive(at),
    });
    MessageRecord {
        id,
        thread_id: thread.to_owned(),
        author_kind: kind,
        author_id: author.map(str::to_owned),
        body: body.to_owned(),
        created_at: micros(at),
    }
}

fn user_id(raw: &str) -> Result<UserId> {
    UserId::parse(raw).ok_or_else(|| StoreError::corrupt(format!("user id {raw}")))
}

/// A notice about a thread (and its order, if it has one).
fn thread_notice(
    t: &ThreadRecord,
    to: Recipient,
    kind: NotificationKind,
    detail: Detail,
    now: DateTime<Utc>,
) -> Result<crate::plan::Step> {
    notice_about(&t.id, &t.agent_id, t.order_id.as_deref(), to, kind, detail, now)
}

fn notice_about(
    thread: &str,
    agent: &str,
    order: Option<&str>,
    to: Recipient,
    kind: NotificationKind,
    detail: Detail,
    now: DateTime<Utc>,
) -> Result<crate::plan::Step> {
    NewNotice {
        to,
        kind,
        detail,
        agent: Some(agent.to_owned()),
        order: order.map(str::to_owned),
        thread: Some(thread.to_owned()),
        title: None,
    }
    .step(now)
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
        .select(OfferCols::as_select())
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

/// A new thread's row; returns its id.
fn open(plan: &mut Plan, agent: &str, customer: &str, owner: &str, order: Option<&str>, now: DateTime<Utc>) -> String {
    let id = format!("thr_{}", ulid());
    plan.insert(NewRow::Thread(ThreadRow {
        id: id.clone(),
        agent_id: agent.to_owned(),
        customer_id: customer.to_owned(),
        owner_id: owner.to_owned(),
        order_id: order.map(str::to_owned),
        human_requested: false,
        created_at: naive(now),
        updated_at: naive(now),
    }));
    id
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
        let (owner, _, settings) = self.query(|c| agent_for_order(c, agent_id))?;
        let mut plan = Plan::new();
        let id = open(&mut plan, agent_id, customer.as_str(), owner.as_str(), None, now);
        post(
            &mut plan,
            &id,
            AuthorKind::Customer,
            Some(customer.as_str()),
            &body,
            now,
        );
        let reply = assistant_reply(&settings);
        post(
            &mut plan,
            &id,
            AuthorKind::Assistant,
            None,
            &reply,
            now + Duration::microseconds(1),
        );
        let owner_id = user_id(owner.as_str())?;
        if let Some((to, detail)) = heepr_domain::chat::message_notice(AuthorKind::Customer, customer, &owner_id, &body)
        {
            plan.push(notice_about(
                &id,
                agent_id,
                None,
                to,
                NotificationKind::NewMessage,
                detail,
                now,
            )?);
        }
        self.apply(&plan)?;
        self.read(|c| {
            let t = load_thread(c, &id)?;
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
                .limit(limit.clamp(1, crate::MAX_PAGE_ROWS))
                .select(ThreadCols::as_select())
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
        let (t, role, writable) = self.read(|c| {
            let t = load_thread(c, id)?;
            let role = role_of(&t, viewer)?;
            let writable = writable(c, &t, now)?;
            Ok((t, role, writable))
        })?;
        decide_post(role, writable)?;
        let mut plan = Plan::new();
        let message = post(&mut plan, &t.id, role, Some(viewer.user.as_str()), &body, now);
        let (customer, owner) = (user_id(&t.customer_id)?, user_id(&t.owner_id)?);
        if let Some((to, detail)) = heepr_domain::chat::message_notice(role, &customer, &owner, &body) {
            plan.push(thread_notice(&t, to, NotificationKind::NewMessage, detail, now)?);
        }
        self.apply(&plan)?;
        Ok(message)
    }

    /// The customer asks for a human: the flag is set and the owner's notice written
    /// in the same transaction. Asking again changes nothing and tells nobody.
    pub fn request_human(&self, id: &str, viewer: Viewer<'_>, now: DateTime<Utc>) -> Result<ThreadRecord> {
        let now = micros(now);
        let (t, asks) = self
            .read(|c| {
                let t = load_thread(c, id)?;
                let role = role_of(&t, viewer)?;
                let asks = decide_human_request(role, t.human_requested)?;
                Ok((t, asks))
            })
            .map_err(|e| match e {
                StoreError::Chat(ChatError::NotAParty) => StoreError::NotFound,
                other => other,
            })?;
        if !asks {
            return Ok(t);
        }
        let mut plan = Plan::new();
        plan.change(Change::HumanRequested {
            id: t.id.clone(),
            at: naive(now),
        });
        let owner = Recipient::Owner(user_id(&t.owner_id)?);
        plan.push(thread_notice(
            &t,
            owner,
            NotificationKind::HumanRequested,
            Detail::None,
            now,
        )?);
        match self.apply(&plan) {
            // A concurrent request asked first (and queued the one email).
            Ok(()) | Err(StoreError::Contention) => self.read(|c| load_thread(c, &t.id)),
            Err(e) => Err(e),
        }
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
                .select(ThreadCols::as_select())
                .first::<ThreadCols>(c)
                .optional()?
                .map(thread_record))
        };
        if let Some(t) = self.read(|c| find(c).and_then(|t| t.map(|t| view(c, t, role, now)).transpose()))? {
            return Ok(t);
        }
        let mut plan = Plan::new();
        let id = open(
            &mut plan,
            o.agent.as_str(),
            o.customer.as_str(),
            o.owner.as_str(),
            Some(o.id.as_str()),
            now,
        );
        let created = self.apply(&plan).and_then(|()| {
            self.read(|c| {
                let t = load_thread(c, &id)?;
                view(c, t, role, now)
            })
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
