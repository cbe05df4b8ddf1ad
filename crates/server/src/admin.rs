//! `heepr-server admin …`.

use crate::ServerError;
use crate::config::{AdminCmd, Config};
use heepr_domain::{Email, Password, Points, SingleLine, limits};
use heepr_store::account::FirstAdmin;
use heepr_store::user::{NewUser, Role};
use std::process::ExitCode;

/// Creates the first admin from `HEEPR_ADMIN_EMAIL` + `HEEPR_ADMIN_PASSWORD` if no admin
/// exists yet; an existing user is never changed and the password never logged. Only
/// one of the two set, or a value signup would refuse, stops the start with one line.
pub fn ensure_first_admin(cfg: &Config, store: &heepr_store::Store) -> Result<(), ServerError> {
    let (email, password) = match (&cfg.admin_email, &cfg.admin_password) {
        (None, None) => return Ok(()),
        (Some(e), Some(p)) => (e, p),
        _ => {
            return Err(ServerError::Config(
                "HEEPR_ADMIN_EMAIL and HEEPR_ADMIN_PASSWORD go together".into(),
            ));
        }
    };
    let refused = |e: heepr_domain::DomainError| ServerError::Config(format!("first admin: {e}"));
    let email = Email::parse(email).map_err(refused)?;
    let password = Password::parse(password).map_err(refused)?;
    let display_name =
        SingleLine::required("name", email.local_part(), limits::DISPLAY_NAME_MAX_CHARS).map_err(refused)?;
    let password_hash =
        heepr_auth::hash_password(password.expose()).map_err(|e| ServerError::Command(e.to_string()))?;
    let done = store.ensure_first_admin(
        NewUser {
            email: email.to_string(),
            display_name: display_name.into_string(),
            password_hash,
            extra_roles: vec![Role::Admin],
        },
        Points(cfg.starter_points),
        chrono::Utc::now(),
    )?;
    match done {
        FirstAdmin::Created(id) => {
            tracing::info!(user = %id, email = %email, "first admin created from HEEPR_ADMIN_EMAIL")
        }
        FirstAdmin::AdminExists => tracing::debug!("an admin exists; HEEPR_ADMIN_EMAIL not used"),
        FirstAdmin::EmailTaken => tracing::warn!(
            email = %email,
            "HEEPR_ADMIN_EMAIL belongs to an existing user who is no admin; left unchanged"
        ),
    }
    Ok(())
}

pub fn run(cfg: &Config, cmd: AdminCmd) -> Result<ExitCode, ServerError> {
    let store = cfg.open_store()?;
    match cmd {
        AdminCmd::CreateUser {
            email,
            password,
            name,
            admin,
        } => {
            // The same rules as signup: the domain's validated types.
            let refused = |e: heepr_domain::DomainError| ServerError::Command(e.to_string());
            let email = Email::parse(&email).map_err(refused)?;
            let password = Password::parse(&password).map_err(refused)?;
            let display_name = SingleLine::required(
                "name",
                name.as_deref().unwrap_or(email.local_part()),
                limits::DISPLAY_NAME_MAX_CHARS,
            )
            .map_err(refused)?;
            let password_hash =
                heepr_auth::hash_password(password.expose()).map_err(|e| ServerError::Command(e.to_string()))?;
            let id = store.create_user(
                NewUser {
                    email: email.to_string(),
                    display_name: display_name.into_string(),
                    password_hash,
                    extra_roles: if admin { vec![Role::Admin] } else { vec![] },
                },
                Points(cfg.starter_points),
                chrono::Utc::now(),
            )?;
            println!(
                "created user {id} <{email}>{}",
                if admin { " with role admin" } else { "" }
            );
            Ok(ExitCode::SUCCESS)
        }
        AdminCmd::CheckLedger => {
            let violations = store.check_ledger()?;
            if violations.is_empty() {
                println!("ledger ok: invariants 1-4 hold");
                Ok(ExitCode::SUCCESS)
            } else {
                for v in &violations {
                    println!("{v}");
                }
                eprintln!("heepr-server: {} ledger invariant violation(s)", violations.len());
                Ok(ExitCode::FAILURE)
            }
        }
    }
}
