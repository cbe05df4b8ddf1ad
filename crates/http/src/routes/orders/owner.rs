//! The owner's view of its agents' orders (session, owner role): list and read, every
//! delivery and file, and the owner's decisions (approve, release, return, scope, …).

use super::{invalid, required, respond, text};
use crate::app::AppState;
use crate::error::ApiError;
use crate::principal::OwnerUser;
use actix_web::{HttpRequest, HttpResponse, web};
use heepr_domain::{Command, Viewer, limits};
use serde::Deserialize;

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OwnerBody {
    reason: Option<String>,
    note: Option<String>,
    scope: Option<String>,
    deadline: Option<chrono::DateTime<chrono::Utc>>,
    enabled: Option<bool>,
}

/// `POST /api/owner/orders/{id}/{action}` (and `revision/approve|deny`).
pub(crate) async fn action(
    req: HttpRequest,
    state: web::Data<AppState>,
    OwnerUser(u): OwnerUser,
    p: web::Path<(String, String)>,
    body: Option<web::Json<OwnerBody>>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = p.into_inner();
    let b = body.map(|b| b.into_inner()).unwrap_or_default();
    let cmd = match action.as_str() {
        "approve" => Command::Approve,
        "deny" => Command::Deny {
            reason: text("reason", b.reason, limits::DENY_REASON_MAX_CHARS)?
                .unwrap_or_else(|| "denied by the owner".into()),
        },
        "release" => Command::Release,
        "return" => Command::Return {
            note: required("note", b.note, limits::RETURN_NOTE_MAX_CHARS)?,
        },
        "scope" => Command::ChangeScope {
            scope: text("scope", b.scope, limits::SCOPE_MAX_CHARS)?,
            deadline: b.deadline,
            note: text("note", b.note, limits::SCOPE_NOTE_MAX_CHARS)?.unwrap_or_default(),
        },
        "resume" => Command::Resume {
            note: text("note", b.note, limits::SCOPE_NOTE_MAX_CHARS)?.unwrap_or_else(|| "resumed by the owner".into()),
        },
        "refund" => Command::RefundFlagged,
        "revision-approve" => Command::ApproveRevision,
        "revision-deny" => Command::DenyRevision,
        "auto-approve" => Command::SetAutoApprove(b.enabled.ok_or_else(|| invalid("enabled", "is required"))?),
        _ => return Err(ApiError::NotFound),
    };
    respond(&req, &state, Viewer::Owner(u.id), &id, cmd).await
}

/// `POST /api/owner/orders/{id}/revision/{approve|deny}`
pub(crate) async fn revision(
    req: HttpRequest,
    state: web::Data<AppState>,
    owner: OwnerUser,
    p: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, decision) = p.into_inner();
    let action_name = match decision.as_str() {
        "approve" => "revision-approve",
        "deny" => "revision-deny",
        _ => return Err(ApiError::NotFound),
    };
    action(req, state, owner, web::Path::from((id, action_name.to_owned())), None).await
}
