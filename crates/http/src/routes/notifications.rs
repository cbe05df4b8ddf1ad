//! The notification bell: a user's notices (the same ones their emails carry), read
//! marks, and which kinds are emailed.

use super::reviews::page_limit;
use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::principal::SessionUser;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use heepr_domain::notice::{EmailPreferences, NotificationKind};
use heepr_store::notice::{NoticePage, NoticeRecord};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A notice as the bell shows it.
#[derive(Serialize)]
pub(crate) struct NoticeView {
    id: String,
    kind: &'static str,
    /// The role the user is told in: `customer` or `owner`.
    recipient: String,
    title: String,
    body: String,
    link: String,
    order_id: Option<String>,
    agent_id: Option<String>,
    thread_id: Option<String>,
    essential: bool,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

impl NoticeView {
    fn of(n: &NoticeRecord, base_url: &str) -> Self {
        let w = heepr_notice::words(&heepr_notice::Facts {
            kind: n.kind,
            detail: &n.detail,
            role: &n.recipient,
            name: None,
            agent: n.agent_name.as_deref(),
            agent_id: n.agent_id.as_deref(),
            title: n.title.as_deref(),
            order_id: n.order_id.as_deref(),
            thread_id: n.thread_id.as_deref(),
            base_url,
        });
        Self {
            id: n.id.clone(),
            kind: n.kind.as_str(),
            recipient: n.recipient.clone(),
            title: w.subject,
            body: format!("{} {}", w.happened, w.todo),
            link: w.link,
            order_id: n.order_id.clone(),
            agent_id: n.agent_id.clone(),
            thread_id: n.thread_id.clone(),
            essential: n.kind.is_essential(),
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct NoticeList {
    notifications: Vec<NoticeView>,
    unread_count: i64,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
    unread: Option<bool>,
}

fn list_view(p: &NoticePage, base_url: &str) -> NoticeList {
    NoticeList {
        notifications: p.notices.iter().map(|n| NoticeView::of(n, base_url)).collect(),
        unread_count: p.unread,
        next_cursor: p.next.clone(),
    }
}

/// A notice id as it can be (anything else is nobody's: 404).
fn notice_id(raw: &str) -> Result<&str, ApiError> {
    crate::path::ulid_id(raw, "ntf_").ok_or(ApiError::NotFound)
}

/// `GET /api/notifications?limit=&cursor=&unread=`: newest first, with the unread count.
pub(crate) async fn list(
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let limit = page_limit(q.limit)?;
    let cursor = q
        .cursor
        .map(|c| notice_id(&c).map(str::to_owned))
        .transpose()
        .map_err(|_| ApiError::invalid("cursor", "pass the `next_cursor` value of a previous page"))?;
    let store = state.store.clone();
    let unread = q.unread.unwrap_or(false);
    let page = blocking(move || Ok(store.notices_for(&u.id, cursor.as_deref(), limit, unread)?)).await?;
    Ok(HttpResponse::Ok().json(list_view(&page, &state.config.base_url)))
}

/// `POST /api/notifications/{id}/read`: 204; another user's notice is not found.
pub(crate) async fn read(
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = notice_id(&id)?.to_owned();
    let store = state.store.clone();
    let now = state.now();
    blocking(move || Ok(store.mark_notice_read(&u.id, &id, now)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/notifications/read-all`: 204.
pub(crate) async fn read_all(
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let now = state.now();
    blocking(move || Ok(store.mark_all_notices_read(&u.id, now)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Which kinds are emailed; essential ones always are.
#[derive(Serialize)]
pub(crate) struct PreferencesView {
    email: BTreeMap<&'static str, bool>,
    essential: Vec<&'static str>,
}

impl From<&EmailPreferences> for PreferencesView {
    fn from(p: &EmailPreferences) -> Self {
        Self {
            email: NotificationKind::ALL
                .iter()
                .map(|k| (k.as_str(), p.emails(*k)))
                .collect(),
            essential: NotificationKind::ALL
                .iter()
                .filter(|k| k.is_essential())
                .map(|k| k.as_str())
                .collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreferencesBody {
    email: BTreeMap<String, bool>,
}

/// `GET /api/notifications/preferences`.
pub(crate) async fn preferences(
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let p = blocking(move || Ok(store.email_preferences(&u.id)?)).await?;
    Ok(HttpResponse::Ok().json(PreferencesView::from(&p)))
}

/// `PATCH /api/notifications/preferences` `{"email": {"<kind>": bool, …}}`: the kinds
/// named change, the others stay; switching an essential kind off is refused (422).
pub(crate) async fn set_preferences(
    state: web::Data<AppState>,
    SessionUser(u): SessionUser,
    body: web::Json<PreferencesBody>,
) -> Result<HttpResponse, ApiError> {
    let changes = body
        .into_inner()
        .email
        .into_iter()
        .map(|(name, on)| {
            NotificationKind::parse(&name)
                .map(|k| (k, on))
                .ok_or_else(|| ApiError::invalid(format!("email.{name}"), "is not a notification kind"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let store = state.store.clone();
    let p = blocking(move || {
        let mut p = store.email_preferences(&u.id)?;
        for (kind, on) in changes {
            p.set(kind, on)
                .map_err(|e| ApiError::invalid(format!("email.{}", kind.as_str()), e.to_string()))?;
        }
        store.set_email_preferences(&u.id, &p)?;
        Ok(p)
    })
    .await?;
    Ok(HttpResponse::Ok().json(PreferencesView::from(&p)))
}
