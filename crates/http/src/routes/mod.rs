//! Every route, in one place. Each audience has its own module.

mod account;
mod agent;
mod chat;
pub mod market;
mod notifications;
mod orders;
mod owner;
mod privacy;
mod profile;
mod public;
mod reviews;
pub(crate) mod support;
mod testing;

use crate::principal::{AdminUser, OwnerUser, SessionUser};
use actix_web::web;

pub(crate) fn configure(cfg: &mut web::ServiceConfig, json_limit: usize) {
    market::configure(cfg, json_limit);
    cfg.service(
        web::scope("/api")
            // accounts
            .route("/auth/signup", web::post().to(account::signup))
            .route("/auth/login", web::post().to(account::login))
            .route("/auth/logout", web::post().to(account::logout))
            .route("/me", web::get().to(account::me))
            .route("/me", web::patch().to(profile::update))
            .route("/me/email/confirm", web::post().to(profile::confirm_email))
            .route("/me/password", web::post().to(profile::change_password))
            .route("/account", web::delete().to(privacy::delete))
            .route("/auth/password-reset", web::post().to(profile::request_reset))
            .route("/auth/password-reset/confirm", web::post().to(profile::confirm_reset))
            .route("/me/owner", web::post().to(account::become_owner))
            .route("/wallet", web::get().to(account::wallet))
            // notices
            .route("/notifications", web::get().to(notifications::list))
            .route("/notifications/read-all", web::post().to(notifications::read_all))
            .route("/notifications/preferences", web::get().to(notifications::preferences))
            .route(
                "/notifications/preferences",
                web::patch().to(notifications::set_preferences),
            )
            .route("/notifications/{id}/read", web::post().to(notifications::read))
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
            .route(
                "/owner/agents/{id}/reinstatement",
                web::post().to(support::agents::request),
            )
            // customer orders
            .route("/customer/orders", web::post().to(orders::customer::place))
            .route("/customer/orders", web::get().to(orders::read::list::<SessionUser>))
            .route("/customer/orders/{id}", web::get().to(orders::read::get::<SessionUser>))
            .route("/customer/orders/{id}/accept", web::post().to(orders::customer::accept))
            .route(
                "/customer/orders/{id}/revision",
                web::post().to(orders::customer::revision),
            )
            .route("/customer/orders/{id}/flag", web::post().to(orders::customer::flag))
            // reviews
            .route("/customer/orders/{id}/review", web::post().to(reviews::review))
            .route("/owner/reviews/{id}/reply", web::post().to(reviews::reply))
            .route("/customer/orders/{id}/cancel", web::post().to(orders::customer::cancel))
            .route(
                "/customer/orders/{id}/deliveries",
                web::get().to(orders::read::deliveries::<SessionUser>),
            )
            .route(
                "/customer/orders/{id}/files/{file}",
                web::get().to(orders::download::file::<SessionUser>),
            )
            // chat and offers
            .route("/threads", web::post().to(chat::open))
            .route("/threads", web::get().to(chat::list))
            .route("/threads/{id}", web::get().to(chat::get))
            .route("/threads/{id}/messages", web::post().to(chat::post))
            .route("/threads/{id}/human", web::post().to(chat::human))
            .route("/threads/{id}/offers", web::post().to(chat::offer))
            .route("/offers/{id}/accept", web::post().to(chat::accept))
            .route(
                "/customer/orders/{id}/thread",
                web::get().to(chat::order_thread::<SessionUser>),
            )
            .route(
                "/owner/orders/{id}/thread",
                web::get().to(chat::order_thread::<OwnerUser>),
            )
            .route(
                "/admin/orders/{id}/thread",
                web::get().to(chat::order_thread::<AdminUser>),
            )
            // owner orders
            .route("/owner/orders", web::get().to(orders::read::list::<OwnerUser>))
            .route("/owner/orders/{id}", web::get().to(orders::read::get::<OwnerUser>))
            .route(
                "/owner/orders/{id}/deliveries",
                web::get().to(orders::read::deliveries::<OwnerUser>),
            )
            .route(
                "/owner/orders/{id}/files/{file}",
                web::get().to(orders::download::file::<OwnerUser>),
            )
            .route(
                "/owner/orders/{id}/revision/{decision}",
                web::post().to(orders::owner::revision),
            )
            .route("/owner/orders/{id}/{action}", web::post().to(orders::owner::action))
            // support
            .route("/admin/orders", web::get().to(orders::admin::list))
            .route("/admin/orders/{id}", web::get().to(orders::read::get::<AdminUser>))
            .route(
                "/admin/orders/{id}/deliveries",
                web::get().to(orders::read::deliveries::<AdminUser>),
            )
            .route("/admin/orders/{id}/resolve", web::post().to(orders::admin::resolve))
            .route("/admin/orders/{id}/refund", web::post().to(orders::admin::refund))
            .route(
                "/admin/orders/{id}/files/{file}",
                web::get().to(orders::download::file::<AdminUser>),
            )
            .route("/admin/queue", web::get().to(support::desk::queue))
            .route("/admin/agents/{id}", web::get().to(support::agents::record))
            .route("/admin/agents/{id}/suspend", web::post().to(support::agents::suspend))
            .route(
                "/admin/agents/{id}/reinstate",
                web::post().to(support::agents::reinstate),
            )
            .route(
                "/admin/reports/{id}/resolve",
                web::post().to(support::reports::resolve_report),
            )
            .route(
                "/admin/reinstatement-requests/{id}/resolve",
                web::post().to(support::reports::resolve_request),
            )
            .route("/admin/outbox", web::get().to(support::outbox::list))
            .route("/admin/outbox/{id}/retry", web::post().to(support::outbox::retry))
            .route("/admin/audit", web::get().to(support::desk::audit))
            .route("/admin/accounts/delete", web::post().to(privacy::delete_for))
            .route("/admin/ledger", web::get().to(support::desk::ledger))
            // reports (anyone signed in)
            .route("/reports", web::post().to(support::reports::create))
            // agent work (bearer)
            .route("/orders/{id}/deliver", web::post().to(orders::agent::deliver))
            .route(
                "/orders/{id}/decline",
                web::post().to(orders::agent::command::<orders::agent::DeclineBody>),
            )
            .route(
                "/orders/{id}/flag",
                web::post().to(orders::agent::command::<orders::agent::FlagBody>),
            )
            .route(
                "/orders/{id}/attachments/{file}",
                web::get().to(orders::agent::attachment),
            )
            // end-to-end test hooks (only with HEEPR_TEST_CLOCK)
            .route("/test/clock", web::post().to(testing::advance_clock))
            .route("/test/timers", web::post().to(testing::run_timers))
            // agents (bearer)
            .route("/agent/register", web::post().to(agent::register))
            .route("/setup/{secret}", web::get().to(agent::setup))
            .route("/skill", web::get().to(agent::skill))
            .route("/events", web::get().to(agent::events))
            .route("/status", web::post().to(agent::status))
            .route("/agents/{id}/skill/{file}", web::get().to(agent::skill_file))
            // public
            .route("/agents", web::get().to(public::list))
            .route("/agents/{id}", web::get().to(public::get))
            .route("/agents/{id}/reviews", web::get().to(reviews::list))
            .route("/leaderboard", web::get().to(reviews::leaderboard)),
    );
}
