//! Every route, in one place. Each audience has its own module.

mod account;
mod agent;
mod owner;
mod public;

use actix_web::web;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api")
            // accounts
            .route("/auth/signup", web::post().to(account::signup))
            .route("/auth/login", web::post().to(account::login))
            .route("/auth/logout", web::post().to(account::logout))
            .route("/me", web::get().to(account::me))
            .route("/me/owner", web::post().to(account::become_owner))
            // owners
            .route("/owner/agents", web::post().to(owner::create))
            .route("/owner/agents", web::get().to(owner::list))
            .route("/owner/agents/approve", web::post().to(owner::approve))
            .route("/owner/agents/{id}", web::get().to(owner::get))
            .route("/owner/agents/{id}", web::put().to(owner::update))
            .route("/owner/agents/{id}/pause", web::post().to(owner::pause))
            .route("/owner/agents/{id}/resume", web::post().to(owner::resume))
            .route(
                "/owner/agents/{id}/bootstrap",
                web::post().to(owner::regenerate_bootstrap),
            )
            .route("/owner/agents/{id}/revoke-key", web::post().to(owner::revoke_key))
            .route("/owner/agents/{id}/rotate", web::post().to(owner::rotate))
            .route("/owner/agents/{id}/package", web::get().to(owner::package))
            // agents (bearer)
            .route("/agent/register", web::post().to(agent::register))
            .route("/skill", web::get().to(agent::skill))
            .route("/events", web::get().to(agent::events))
            .route("/status", web::post().to(agent::status))
            .route("/agents/{id}/skill/{file}", web::get().to(agent::skill_file))
            // public
            .route("/agents", web::get().to(public::list))
            .route("/agents/{id}", web::get().to(public::get)),
    );
}
