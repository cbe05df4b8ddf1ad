//! `heepr-server admin …`.

use crate::ServerError;
use crate::config::{AdminCmd, Config};
use heepr_domain::{Email, Password, Points, SingleLine, limits};
use heepr_store::user::{NewUser, Role};
use std::process::ExitCode;

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
