//! The owner's agent dashboard: the wizard, email approval, keys and settings.

use crate::app::AppState;
use crate::error::{ApiError, blocking};
use crate::principal::OwnerUser;
use crate::skill;
use crate::views::OwnerAgent;
use actix_web::{HttpResponse, web};
use base64::Engine;
use heepr_auth::SecretKind;
use heepr_domain::agent::AgentSettings;
use heepr_store::agent::AgentRecord;
use heepr_store::mail::NewEmail;
use heepr_store::user::UserRecord;
use serde::{Deserialize, Serialize};
use serde_json::json;

fn secret(kind: SecretKind) -> Result<heepr_auth::NewSecret, ApiError> {
    heepr_auth::new_secret(kind).map_err(|e| ApiError::Blocking(e.to_string()))
}

/// The approval email. The link is for the frontend, which posts the code back; it is
/// stored only sealed (see `crate::mail`).
fn approval_email(
    state: &AppState,
    owner: &UserRecord,
    agent_name: &str,
    code: &str,
    purpose: &str,
) -> Result<NewEmail, ApiError> {
    let link = format!("{}/owner/approve?code={code}", state.config.base_url);
    crate::mail::with_link(
        state,
        &owner.email,
        format!("Approve {purpose} for your agent {agent_name}"),
        &link,
        |link| {
            format!(
                "Hello {},\n\nconfirm {purpose} for your heepr agent \"{agent_name}\" by opening this link while logged in:\n\n{link}\n\n\
                 The link works once and expires in 24 hours. If you did not ask for this, ignore this email.\n",
                owner.display_name
            )
        },
    )
}

async fn owner_view(state: &web::Data<AppState>, a: AgentRecord) -> Result<OwnerAgent, ApiError> {
    let store = state.store.clone();
    let now = state.now();
    let id = a.id.to_string();
    let live = blocking(move || Ok(store.agent_has_live_key(&id, now)?)).await?;
    let hash = skill::render(state, &a)?.content_hash;
    Ok(OwnerAgent::new(&a, live, hash, now))
}

/// The wizard's body, with unknown fields refused like every other body's (the domain
/// type itself tolerates them, so settings stored by an older version still load).
fn parse_settings(body: serde_json::Value) -> Result<AgentSettings, ApiError> {
    let mut unknown = Vec::new();
    let settings: AgentSettings = serde_ignored::deserialize(body, |path| unknown.push(path.to_string()))
        .map_err(|e| ApiError::BadJson(format!("agent settings: {e}")))?;
    match unknown.first() {
        Some(field) => Err(ApiError::BadJson(format!("agent settings: unknown field `{field}`"))),
        None => Ok(settings),
    }
}

pub(crate) async fn create(
    state: web::Data<AppState>,
    OwnerUser(owner): OwnerUser,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let settings = parse_settings(body.into_inner())?;
    let code = secret(SecretKind::Approval)?;
    let email = approval_email(&state, &owner, &settings.name, &code.plaintext, "activation")?;
    let store = state.store.clone();
    let now = state.now();
    let a = blocking(move || Ok(store.create_agent_wizard(&owner.id, settings, &code.hash, &email, now)?)).await?;
    tracing::info!(agent = %a.id, "agent created; approval email queued");
    Ok(HttpResponse::Created().json(owner_view(&state, a).await?))
}

pub(crate) async fn list(state: web::Data<AppState>, OwnerUser(owner): OwnerUser) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let agents = blocking(move || Ok(store.owner_agents(&owner.id)?)).await?;
    let mut out = Vec::with_capacity(agents.len());
    for a in agents {
        out.push(owner_view(&state, a).await?);
    }
    Ok(HttpResponse::Ok().json(json!({ "agents": out })))
}

pub(crate) async fn get(
    state: web::Data<AppState>,
    OwnerUser(owner): OwnerUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let a = blocking(move || Ok(store.owner_agent(&owner.id, &id)?)).await?;
    Ok(HttpResponse::Ok().json(owner_view(&state, a).await?))
}

pub(crate) async fn update(
    state: web::Data<AppState>,
    OwnerUser(owner): OwnerUser,
    id: web::Path<String>,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let settings = parse_settings(body.into_inner())?;
    let store = state.store.clone();
    let now = state.now();
    let a = blocking(move || Ok(store.update_agent_settings(&owner.id, &id, settings, now)?)).await?;
    Ok(HttpResponse::Ok().json(owner_view(&state, a).await?))
}

async fn set_paused(
    state: web::Data<AppState>,
    owner: UserRecord,
    id: String,
    paused: bool,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let now = state.now();
    let a = blocking(move || Ok(store.set_agent_paused(Some(&owner.id), &id, paused, now)?)).await?;
    Ok(HttpResponse::Ok().json(owner_view(&state, a).await?))
}

pub(crate) async fn pause(
    state: web::Data<AppState>,
    OwnerUser(owner): OwnerUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_paused(state, owner, id.into_inner(), true).await
}

pub(crate) async fn resume(
    state: web::Data<AppState>,
    OwnerUser(owner): OwnerUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_paused(state, owner, id.into_inner(), false).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Approve {
    code: String,
}

/// Confirms an approval code: mints the bootstrap token and the bootstrap link and
/// answers with the Skill Setup. Their plaintexts exist only in this answer (both are
/// stored hashed).
pub(crate) async fn approve(
    state: web::Data<AppState>,
    OwnerUser(owner): OwnerUser,
    body: web::Json<Approve>,
) -> Result<HttpResponse, ApiError> {
    let code = body.into_inner().code;
    if !crate::principal::well_formed(&code, SecretKind::Approval) {
        return Err(ApiError::invalid("code", "not an approval code"));
    }
    let token = secret(SecretKind::Bootstrap)?;
    let link = secret(SecretKind::SetupLink)?;
    let store = state.store.clone();
    let now = state.now();
    let (token_hash, link_hash) = (token.hash.clone(), link.hash.clone());
    let a = blocking(move || {
        let code_hash = heepr_auth::secret_hash(&code);
        Ok(store.confirm_approval(&owner.id, &code_hash, &token_hash, &link_hash, now)?)
    })
    .await?;
    let package = skill::render(&state, &a)?;
    let zip = package
        .bundle_zip(Some(&token.plaintext))
        .map_err(|e| ApiError::Blocking(format!("skill bundle: {e}")))?;
    let url = format!("{}/api/setup/{}", state.config.base_url, link.plaintext);
    Ok(HttpResponse::Ok().json(SkillSetup {
        agent_id: a.id.to_string(),
        status: a.status.as_str(),
        bootstrap_expires_at: now + chrono::Duration::days(heepr_domain::agent::BOOTSTRAP_TTL_DAYS),
        bootstrap_token: token.plaintext,
        content_hash: &package.content_hash,
        skill_md: package.file("SKILL.md").map(|f| f.content.as_str()).unwrap_or_default(),
        bundle: Bundle {
            filename: format!("heepr-skill-{}.zip", a.id),
            zip_base64: base64::engine::general_purpose::STANDARD.encode(zip),
        },
        install: heepr_skill::install_snippet(&skill::context(&state, &a), &url),
        bootstrap_link: BootstrapLink {
            url,
            expires_at: now + chrono::Duration::hours(heepr_domain::agent::SETUP_LINK_TTL_HOURS),
        },
    }))
}

/// The approve answer: the Skill Setup inline (token, zip) and as a one-time link.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SkillSetup<'a> {
    agent_id: String,
    status: &'static str,
    bootstrap_token: String,
    bootstrap_expires_at: chrono::DateTime<chrono::Utc>,
    /// Fetching it once mints a fresh token and answers the zip (SPEC §16).
    bootstrap_link: BootstrapLink,
    content_hash: &'a str,
    skill_md: &'a str,
    bundle: Bundle,
    /// One shell line: fetch the link, unzip, start a runtime.
    install: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct BootstrapLink {
    url: String,
    expires_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Bundle {
    filename: String,
    zip_base64: String,
}

async fn new_bootstrap(
    state: web::Data<AppState>,
    owner: UserRecord,
    id: String,
    rotate: bool,
) -> Result<HttpResponse, ApiError> {
    let code = secret(SecretKind::Approval)?;
    let store = state.store.clone();
    let now = state.now();
    let st = state.clone();
    let purpose = if rotate {
        "a key rotation"
    } else {
        "a new bootstrap token"
    };
    let a = blocking(move || {
        let a = store.owner_agent(&owner.id, &id)?;
        let email = approval_email(&st, &owner, &a.settings.name, &code.plaintext, purpose)?;
        Ok(store.request_bootstrap(&owner.id, &id, &code.hash, &email, rotate, now)?)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(json!({
        "agent_id": a.id,
        "approval": "sent",
        "key_revoked": rotate,
    })))
}

pub(crate) async fn regenerate_bootstrap(
    state: web::Data<AppState>,
    OwnerUser(owner): OwnerUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    new_bootstrap(state, owner, id.into_inner(), false).await
}

pub(crate) async fn rotate(
    state: web::Data<AppState>,
    OwnerUser(owner): OwnerUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    new_bootstrap(state, owner, id.into_inner(), true).await
}

pub(crate) async fn revoke_key(
    state: web::Data<AppState>,
    OwnerUser(owner): OwnerUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let now = state.now();
    let revoked = blocking(move || Ok(store.revoke_agent_key(&owner.id, &id, now)?)).await?;
    Ok(HttpResponse::Ok().json(json!({ "revoked": revoked })))
}

/// The package without a token (SKILL.md says to regenerate one).
pub(crate) async fn package(
    state: web::Data<AppState>,
    OwnerUser(owner): OwnerUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let a = blocking(move || Ok(store.owner_agent(&owner.id, &id)?)).await?;
    let zip = skill::render(&state, &a)?
        .bundle_zip(None)
        .map_err(|e| ApiError::Blocking(format!("skill bundle: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"heepr-skill-{}.zip\"", a.id),
        ))
        .body(zip))
}
