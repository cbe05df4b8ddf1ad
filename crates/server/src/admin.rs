//! `heepr-server admin …`.

use crate::ServerError;
use crate::config::{AdminCmd, Config};
use heepr_domain::Points;
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
            let email = email.trim().to_owned();
            if !email.contains('@') || email.len() > 254 {
                return Err(ServerError::Command(format!("not an email address: {email:?}")));
            }
            if password.chars().count() < 8 {
                return Err(ServerError::Command(
                    "the password must have at least 8 characters".into(),
                ));
            }
            let password_hash =
                heepr_auth::hash_password(&password).map_err(|e| ServerError::Command(e.to_string()))?;
            let display_name = name.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
            let id = store.create_user(
                NewUser {
                    email: email.clone(),
                    display_name,
                    password_hash,
                    extra_roles: if admin { vec![Role::Admin] } else { vec![] },
                },
                Points(cfg.starter_points),
                chrono::Utc::now(),
            )?;
            println!(
                "created user {id} <{}>{}",
                email.to_lowercase(),
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
