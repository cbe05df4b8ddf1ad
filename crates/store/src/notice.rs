//! Notices: what users are told, in-app and by email.
//!
//! A notice row is written in the same transaction as the change that causes it (an
//! order command's plan, a suspension, a chat message). It is the in-app list's item
//! and the email's source: a sender renders each notice whose `sent_at` is still empty
//! into the outbox — or decides, from the recipient's preferences, that it is not
//! emailed — and sets `sent_at` in the same transaction, conditionally, so that of
//! several instances exactly one queues it.

use crate::error::{Result, StoreError};
use crate::mail::{self, NewEmail};
use crate::plan::record::Change;
use crate::plan::{NotificationRow, Plan, Step};
use crate::prepared::KeepPrepared;
use crate::rows::naive;
use crate::schema::{agents, notification_email_off, notifications, users};
use crate::{Store, ulid};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use heepr_domain::UserId;
use heepr_domain::notice::{Detail, EmailPreferences, NotificationKind, Recipient};

/// A notice to write, with what the list and the email show of its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    /// Who.
    pub to: Recipient,
    /// Why.
    pub kind: NotificationKind,
    /// What else to say.
    pub detail: Detail,
    /// The agent concerned.
    pub agent: Option<String>,
    /// The order concerned.
    pub order: Option<String>,
    /// The thread concerned.
    pub thread: Option<String>,
    /// The order's gig title, as it was.
    pub title: Option<String>,
}

impl NewNotice {
    pub(crate) fn row(&self, now: DateTime<Utc>) -> Result<NotificationRow> {
        let (recipient, user) = match &self.to {
            Recipient::Customer(u) => ("customer", Some(u.to_string())),
            Recipient::Owner(u) => ("owner", Some(u.to_string())),
            Recipient::Support => ("support", None),
        };
        Ok(NotificationRow {
            id: format!("ntf_{}", ulid()),
            recipient,
            user_id: user,
            kind: self.kind.as_str(),
            order_id: self.order.clone(),
            created_at: naive(now),
            sent_at: None,
            detail: serde_json::to_string(&self.detail).map_err(StoreError::corrupt)?,
            agent_id: self.agent.clone(),
            thread_id: self.thread.clone(),
            title: self.title.clone(),
            read_at: None,
        })
    }

    /// The plan step writing this notice.
    pub(crate) fn step(&self, now: DateTime<Utc>) -> Result<Step> {
        Ok(Step::Notification { row: self.row(now)? })
    }
}

/// A notice as listed and rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecord {
    /// Row id (`ntf_…`, time-ordered).
    pub id: String,
    /// The recipient (`None`: the support queue).
    pub user_id: Option<String>,
    /// `customer`, `owner` or `support`: the role the recipient is told in.
    pub recipient: String,
    /// Why.
    pub kind: NotificationKind,
    /// What else to say.
    pub detail: Detail,
    /// The order concerned.
    pub order_id: Option<String>,
    /// The agent concerned.
    pub agent_id: Option<String>,
    /// Its current name.
    pub agent_name: Option<String>,
    /// The thread concerned.
    pub thread_id: Option<String>,
    /// The order's gig title.
    pub title: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When the recipient marked it read.
    pub read_at: Option<DateTime<Utc>>,
}

/// One page of a user's notices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticePage {
    /// Newest first.
    pub notices: Vec<NoticeRecord>,
    /// Unread notices in all.
    pub unread: i64,
    /// The cursor of the next (older) page.
    pub next: Option<String>,
}

/// A notice the sender has not handled yet, with what it needs to decide and render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeToMail {
    /// The notice.
    pub notice: NoticeRecord,
    /// The recipient's address (`None`: the support queue, which is not emailed).
    pub to: Option<String>,
    /// The recipient's display name.
    pub name: Option<String>,
    /// The recipient's email preferences.
    pub preferences: EmailPreferences,
}

/// A targeted change to notices or preferences.
#[derive(Debug)]
pub(crate) enum NoticeChange {
    /// One notice of a user's marked read (else not found).
    Read {
        id: String,
        user_id: String,
        at: NaiveDateTime,
    },
    /// Every unread notice of a user marked read.
    ReadAll { user_id: String, at: NaiveDateTime },
    /// A user's email preferences replaced.
    EmailOff { user_id: String, off: Vec<&'static str> },
    /// A notice handled by the sender, only once (else contention: another instance
    /// handled it).
    Mailed { id: String, at: NaiveDateTime },
}

pub(crate) fn change(c: &mut crate::connection::AnyConnection, ch: &NoticeChange) -> Result<()> {
    match ch {
        NoticeChange::Read { id, user_id, at } => {
            let mine = notifications::table.find(id).filter(notifications::user_id.eq(user_id));
            let n: i64 = mine.count().get_result(c)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            diesel::update(mine.filter(notifications::read_at.is_null()))
                .set(notifications::read_at.eq(at))
                .execute(c)?;
        }
        NoticeChange::ReadAll { user_id, at } => {
            diesel::update(
                notifications::table
                    .filter(notifications::user_id.eq(user_id))
                    .filter(notifications::read_at.is_null()),
            )
            .set(notifications::read_at.eq(at))
            .execute(c)?;
        }
        NoticeChange::EmailOff { user_id, off } => {
            diesel::delete(notification_email_off::table.filter(notification_email_off::user_id.eq(user_id)))
                .execute(c)?;
            for kind in off {
                diesel::insert_into(notification_email_off::table)
                    .values((
                        notification_email_off::user_id.eq(user_id),
                        notification_email_off::kind.eq(kind),
                    ))
                    .execute(c)?;
            }
        }
        NoticeChange::Mailed { id, at } => {
            let n = diesel::update(notifications::table.find(id).filter(notifications::sent_at.is_null()))
                .set(notifications::sent_at.eq(at))
                .execute_prepared(c)?;
            if n == 0 {
                return Err(StoreError::Contention);
            }
        }
    }
    Ok(())
}

type NoticeCols = (
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<String>,
);

fn record(r: NoticeCols) -> Result<NoticeRecord> {
    let (id, user_id, recipient, kind, detail, order_id, agent_id, thread_id, title, at, read_at, agent_name) = r;
    let kind = NotificationKind::parse(&kind).ok_or_else(|| StoreError::corrupt(format!("notice {id} kind")))?;
    let detail = match detail {
        Some(d) => serde_json::from_str(&d).map_err(StoreError::corrupt)?,
        None => Detail::None,
    };
    Ok(NoticeRecord {
        id,
        user_id,
        recipient,
        kind,
        detail,
        order_id,
        agent_id,
        agent_name,
        thread_id,
        title,
        created_at: at.and_utc(),
        read_at: read_at.map(|t| t.and_utc()),
    })
}

/// Each notice marked handled (conditionally) and its email queued.
fn mailed_plan(batch: &[(&str, Option<&NewEmail>)], now: DateTime<Utc>) -> Plan {
    let mut plan = Plan::new();
    for (id, email) in batch {
        plan.change(Change::Notice(NoticeChange::Mailed {
            id: (*id).to_owned(),
            at: naive(now),
        }));
        if let Some(e) = email {
            plan.insert(mail::row(e, now));
        }
    }
    plan
}

macro_rules! notice_select {
    () => {
        notifications::table
            .left_join(agents::table.on(agents::id.nullable().eq(notifications::agent_id)))
            .select((
                notifications::id,
                notifications::user_id,
                notifications::recipient,
                notifications::kind,
                notifications::detail,
                notifications::order_id,
                notifications::agent_id,
                notifications::thread_id,
                notifications::title,
                notifications::created_at,
                notifications::read_at,
                agents::name.nullable(),
            ))
    };
}

fn off_kinds(c: &mut crate::connection::AnyConnection, user: &str) -> Result<EmailPreferences> {
    let off: Vec<String> = notification_email_off::table
        .filter(notification_email_off::user_id.eq(user))
        .select(notification_email_off::kind)
        .load(c)?;
    Ok(EmailPreferences::from_off(
        off.iter().filter_map(|k| NotificationKind::parse(k)),
    ))
}

impl Store {
    /// A page of `user`'s notices, newest first, older than the cursor `before`.
    pub fn notices_for(
        &self,
        user: &UserId,
        before: Option<&str>,
        limit: i64,
        unread_only: bool,
    ) -> Result<NoticePage> {
        self.read(|c| {
            let mut q = notice_select!()
                .filter(notifications::user_id.eq(user.as_str()))
                .order(notifications::id.desc())
                .limit(limit + 1)
                .into_boxed();
            if let Some(b) = before {
                q = q.filter(notifications::id.lt(b.to_owned()));
            }
            if unread_only {
                q = q.filter(notifications::read_at.is_null());
            }
            let rows: Vec<NoticeCols> = q.load(c)?;
            let mut notices = rows.into_iter().map(record).collect::<Result<Vec<_>>>()?;
            let next = (notices.len() as i64 > limit).then(|| {
                notices.truncate(limit as usize);
                notices.last().map(|n| n.id.clone()).unwrap_or_default()
            });
            let unread: i64 = notifications::table
                .filter(notifications::user_id.eq(user.as_str()))
                .filter(notifications::read_at.is_null())
                .count()
                .get_result(c)?;
            Ok(NoticePage { notices, unread, next })
        })
    }

    /// Marks one of `user`'s notices read (not found if it is not theirs).
    pub fn mark_notice_read(&self, user: &UserId, id: &str, now: DateTime<Utc>) -> Result<()> {
        let mut plan = Plan::new();
        plan.change(Change::Notice(NoticeChange::Read {
            id: id.to_owned(),
            user_id: user.to_string(),
            at: naive(now),
        }));
        self.apply(&plan)
    }

    /// Marks every notice of `user` read.
    pub fn mark_all_notices_read(&self, user: &UserId, now: DateTime<Utc>) -> Result<()> {
        let mut plan = Plan::new();
        plan.change(Change::Notice(NoticeChange::ReadAll {
            user_id: user.to_string(),
            at: naive(now),
        }));
        self.apply(&plan)
    }

    /// `user`'s email preferences.
    pub fn email_preferences(&self, user: &UserId) -> Result<EmailPreferences> {
        self.read(|c| off_kinds(c, user.as_str()))
    }

    /// Replaces `user`'s email preferences.
    pub fn set_email_preferences(&self, user: &UserId, prefs: &EmailPreferences) -> Result<()> {
        let mut plan = Plan::new();
        plan.change(Change::Notice(NoticeChange::EmailOff {
            user_id: user.to_string(),
            off: prefs.off().map(NotificationKind::as_str).collect(),
        }));
        self.apply(&plan)
    }

    /// Up to `limit` notices the sender has not handled, oldest first, with their
    /// recipients. An idle server reads one indexed row range here and writes nothing.
    pub fn notices_to_mail(&self, limit: i64) -> Result<Vec<NoticeToMail>> {
        self.query(|c| {
            let rows: Vec<NoticeCols> = notice_select!()
                .filter(notifications::sent_at.is_null())
                .order(notifications::created_at)
                .limit(limit)
                .load(c)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let notice = record(r)?;
                let (to, name, preferences) = match notice.user_id.clone() {
                    Some(u) => {
                        let (email, name): (String, String) = users::table
                            .find(&u)
                            .select((users::email, users::display_name))
                            .first(c)?;
                        (Some(email), Some(name), off_kinds(c, &u)?)
                    }
                    None => (None, None, EmailPreferences::default()),
                };
                out.push(NoticeToMail {
                    notice,
                    to,
                    name,
                    preferences,
                });
            }
            Ok(out)
        })
    }

    /// Marks a notice handled, queueing `email` (if any) in the same transaction.
    /// `Ok(false)` when another instance handled it first (nothing written).
    pub fn queue_notice_email(&self, notice_id: &str, email: Option<&NewEmail>, now: DateTime<Utc>) -> Result<bool> {
        match self.apply(&mailed_plan(&[(notice_id, email)], now)) {
            Ok(()) => Ok(true),
            Err(StoreError::Contention) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// [`Store::queue_notice_email`] for a batch, in one transaction (a busy marketplace
    /// makes notices faster than one transaction each would drain them). If another
    /// instance handled one of them first, the batch is retried one notice at a time.
    /// Answers how many notices this call handled.
    pub fn queue_notice_emails(&self, batch: &[(&str, Option<&NewEmail>)], now: DateTime<Utc>) -> Result<usize> {
        if batch.is_empty() {
            return Ok(0);
        }
        match self.apply(&mailed_plan(batch, now)) {
            Ok(()) => Ok(batch.len()),
            Err(StoreError::Contention) => {
                let mut n = 0;
                for (id, email) in batch {
                    n += usize::from(self.queue_notice_email(id, *email, now)?);
                }
                Ok(n)
            }
            Err(e) => Err(e),
        }
    }
}
