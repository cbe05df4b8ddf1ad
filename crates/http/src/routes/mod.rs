//! Every route, in one place. Each audience has its own module.

pub(crate) mod account;
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
mod signin;
pub(crate) mod support;
mod testing;

use crate::openapi::op::{Auth, op};
use crate::openapi::table::Table;
use crate::principal::{AdminUser, OwnerUser, SessionUser};
use actix_web::web;
use orders::view::{Delivered, DeliveryList, OrderList, OrderView};

/// Mounts every route (the AgentMarket surface, `/api`, the root documents).
pub(crate) fn configure(cfg: &mut web::ServiceConfig, json_limit: usize) {
    market::configure(cfg, json_limit);
    let mut t = Table::scoped("/api", web::scope("/api"));
    api(&mut t);
    if let Some(scope) = t.into_scope() {
        cfg.service(scope);
    }
    root(&mut Table::root(cfg));
}

/// Every documented route, in registration order (for the document and its test).
pub(crate) fn entries() -> Vec<crate::openapi::table::Entry> {
    let mut all = Vec::new();
    for (prefix, table) in [
        ("", root as fn(&mut Table<'_>)),
        ("/api", api),
        (market::PREFIX, market::table),
    ] {
        let mut t = Table::recording(prefix);
        table(&mut t);
        all.extend(t.entries);
    }
    all
}

/// Served at the root: health, the API reference, discovery documents.
fn root(t: &mut Table<'_>) {
    use crate::{discovery, health, openapi};
    t.get(
        "/healthz",
        health::healthz,
        op("health", "Liveness", Auth::Public).json::<health::Health>(200, "the process answers"),
    )
    .get(
        "/readyz",
        health::readyz,
        op("health", "Readiness (the database answers)", Auth::Public)
            .json::<health::Health>(200, "ready")
            .errors(&[503]),
    )
    .get(
        "/openapi.json",
        openapi::document_json,
        op("reference", "This OpenAPI 3.1 document", Auth::Public).json_object(200, "the document"),
    )
    .get(
        "/docs",
        openapi::docs_redirect,
        op(
            "reference",
            "Interactive API reference (redirects to /docs/)",
            Auth::Public,
        )
        .empty(308, "to /docs/"),
    )
    .get(
        "/docs/",
        openapi::docs_index,
        op(
            "reference",
            "Interactive API reference (Swagger UI, embedded)",
            Auth::Public,
        )
        .bytes(200, "text/html", "the page"),
    )
    .get(
        "/docs/{file}",
        openapi::docs_file,
        op(
            "reference",
            "Interactive API reference: page and assets (embedded)",
            Auth::Public,
        )
        .bytes(200, "text/html", "the page or one of its assets"),
    )
    .get(
        "/llms.txt",
        discovery::llms_txt,
        op(
            "discovery",
            "What heepr is and how an agent joins (llms.txt)",
            Auth::Public,
        )
        .bytes(200, "text/markdown", "the llms.txt document"),
    )
    .get(
        "/.well-known/agent-card.json",
        discovery::platform_card,
        op("discovery", "The platform's A2A agent card", Auth::Public)
            .json::<crate::discovery::AgentCard>(200, "the agent card"),
    );
}

fn api(t: &mut Table<'_>) {
    use crate::views::{MeView, OwnerAgent, PublicAgent};
    // accounts
    t.post(
        "/auth/signup",
        account::signup,
        op("accounts", "Sign up (starts a session)", Auth::Public)
            .body::<account::Signup>()
            .json::<MeView>(201, "the new user; sets the session cookie")
            .errors(&[409, 429]),
    )
    .post(
        "/auth/login",
        account::login,
        op("accounts", "Log in (starts a session)", Auth::Public)
            .body::<account::Login>()
            .json::<MeView>(200, "the user; sets the session cookie")
            .errors(&[401, 429]),
    )
    .post(
        "/auth/logout",
        account::logout,
        op("accounts", "Log out (ends this session)", Auth::Session).empty(204, "the session ended"),
    )
    .get(
        "/auth/providers",
        signin::providers,
        op("accounts", "The identity providers one can sign in with", Auth::Public)
            .json::<signin::ProviderList>(200, "the configured providers (none by default)"),
    )
    .get(
        "/auth/{provider}/start",
        signin::start,
        op("accounts", "Start a sign-in (or, with `link=true` and a session, a link) at a provider", Auth::Public)
            .about("Redirects to the provider's authorization URL (authorization code with PKCE; OIDC adds a nonce) and sets a short-lived `heepr_auth_state` cookie binding the flow to this browser.")
            .query::<signin::StartQuery>()
            .empty(302, "to the provider")
            .errors(&[401]),
    )
    .get(
        "/auth/{provider}/callback",
        signin::callback,
        op("accounts", "The provider's redirect back: signs in, links or creates the account", Auth::Public)
            .about("On success sets the session cookie and redirects (303) to `HEEPR_AUTH_FRONTEND_URL`. A missing, forged, replayed or expired `state` is `auth_state_invalid` (400); a refused or unverifiable answer (code, ID token signature, issuer, audience, nonce) `auth_failed` (401); an unverified email `email_unverified` (403); an identity of another account, or a new account whose email is taken, 409. Nothing is written on any refusal.")
            .query::<signin::CallbackQuery>()
            .empty(303, "signed in: to the frontend, with the session cookie")
            .errors(&[400, 401, 403, 409]),
    )
    .get(
        "/me/identities",
        signin::identities,
        op("accounts", "My linked identity providers", Auth::Session)
            .json::<signin::IdentityList>(200, "the linked identities and whether a password is set"),
    )
    .route(
        actix_web::http::Method::DELETE,
        "/me/identities/{provider}",
        signin::unlink,
        op("accounts", "Unlink an identity provider (not the last way to sign in)", Auth::Session)
            .empty(204, "unlinked")
            .errors(&[409]),
    )
    .get(
        "/me",
        account::me,
        op("accounts", "Who I am", Auth::Session).json::<MeView>(200, "the user"),
    )
    .post(
        "/me/owner",
        account::become_owner,
        op("accounts", "Become an owner", Auth::Session).json::<MeView>(200, "the user with the owner role"),
    )
    .get(
        "/wallet",
        account::wallet,
        op("accounts", "Balance and transfer history", Auth::Session)
            .query::<account::WalletQuery>()
            .json_object(200, "balance, transfers (newest first) and `next`"),
    );
    profile::table(t);
    privacy::table(t);
    // notices
    t.get(
        "/notifications",
        notifications::list,
        op("notices", "My notifications, newest first", Auth::Session)
            .query::<notifications::ListQuery>()
            .json::<notifications::NoticeList>(200, "a page of notifications with the unread count"),
    )
    .post(
        "/notifications/read-all",
        notifications::read_all,
        op("notices", "Mark every notification read", Auth::Session).empty(204, "done"),
    )
    .get(
        "/notifications/preferences",
        notifications::preferences,
        op("notices", "My email preferences", Auth::Session)
            .json::<notifications::PreferencesView>(200, "the preferences"),
    )
    .route(
        actix_web::http::Method::PATCH,
        "/notifications/preferences",
        notifications::set_preferences,
        op("notices", "Change my email preferences", Auth::Session)
            .body::<notifications::PreferencesBody>()
            .json::<notifications::PreferencesView>(200, "the preferences"),
    )
    .post(
        "/notifications/{id}/read",
        notifications::read,
        op("notices", "Mark one notification read", Auth::Session).empty(204, "done"),
    );
    // owners
    t.post(
        "/owner/agents",
        owner::create,
        op("owners", "Create an agent", Auth::Owner)
            .body_object()
            .json::<OwnerAgent>(201, "the agent with its first bootstrap token"),
    )
    .get(
        "/owner/agents",
        owner::list,
        op("owners", "My agents", Auth::Owner).json_object(200, "`agents`: the owner's agents"),
    )
    .post(
        "/owner/agents/approve",
        owner::approve,
        op("owners", "Approve an agent's registration (approval code)", Auth::Owner)
            .body::<owner::Approve>()
            .json::<owner::SkillSetup>(200, "the setup link for the agent")
            .errors(&[410]),
    )
    .get(
        "/owner/agents/{id}",
        owner::get,
        op("owners", "One of my agents", Auth::Owner).json::<OwnerAgent>(200, "the agent"),
    )
    .put(
        "/owner/agents/{id}",
        owner::update,
        op("owners", "Update an agent's profile and gigs", Auth::Owner)
            .body_object()
            .json::<OwnerAgent>(200, "the agent"),
    )
    .post(
        "/owner/agents/{id}/pause",
        owner::pause,
        op("owners", "Pause an agent", Auth::Owner)
            .json::<OwnerAgent>(200, "the agent")
            .errors(&[409]),
    )
    .post(
        "/owner/agents/{id}/resume",
        owner::resume,
        op("owners", "Resume an agent", Auth::Owner)
            .json::<OwnerAgent>(200, "the agent")
            .errors(&[409]),
    )
    .post(
        "/owner/agents/{id}/bootstrap",
        owner::regenerate_bootstrap,
        op("owners", "A new bootstrap token", Auth::Owner)
            .json_object(202, "the token and its expiry")
            .errors(&[409]),
    )
    .post(
        "/owner/agents/{id}/revoke-key",
        owner::revoke_key,
        op("owners", "Revoke the agent's API key", Auth::Owner).json_object(200, "`revoked`"),
    )
    .post(
        "/owner/agents/{id}/rotate",
        owner::rotate,
        op(
            "owners",
            "Rotate: revoke the key and issue a bootstrap token",
            Auth::Owner,
        )
        .json_object(202, "the token and its expiry")
        .errors(&[409]),
    )
    .get(
        "/owner/agents/{id}/package",
        owner::package,
        op("owners", "The agent's skill package (zip)", Auth::Owner).bytes(200, "application/zip", "the package"),
    )
    .post(
        "/owner/agents/{id}/reinstatement",
        support::agents::request,
        op("owners", "Ask support to reinstate a suspended agent", Auth::Owner)
            .body::<support::agents::Request>()
            .json::<support::view::RequestView>(201, "the request")
            .errors(&[409]),
    );
    // customer orders
    t.post(
        "/customer/orders",
        orders::customer::place,
        op("orders", "Place an order (JSON, or multipart with files)", Auth::Session)
            .about("JSON body, or `multipart/form-data` with an `order` JSON part and `files`. `Idempotency-Key` makes a retry answer the same.")
            .body::<orders::customer::PlaceBody>()
            .or_multipart(&["order"], 1)
            .json::<OrderView>(201, "the order")
            .errors(&[402, 409, 503]),
    )
    .get(
        "/customer/orders",
        orders::read::list::<SessionUser>,
        op("orders", "My orders as a customer", Auth::Session)
            .query::<orders::read::ListQuery>()
            .json::<OrderList>(200, "a page of orders")
            .errors(&[410]),
    )
    .get(
        "/customer/orders/{id}",
        orders::read::get::<SessionUser>,
        op("orders", "One of my orders", Auth::Session).json::<OrderView>(200, "the order"),
    )
    .post(
        "/customer/orders/{id}/accept",
        orders::customer::accept,
        op("orders", "Accept the delivery", Auth::Session).json::<OrderView>(200, "the order").errors(&[409]),
    )
    .post(
        "/customer/orders/{id}/revision",
        orders::customer::revision,
        op("orders", "Ask for a revision", Auth::Session)
            .body::<orders::customer::Message>()
            .json::<OrderView>(200, "the order")
            .errors(&[409]),
    )
    .post(
        "/customer/orders/{id}/flag",
        orders::customer::flag,
        op("orders", "Dispute the order", Auth::Session)
            .body::<orders::customer::Reason>()
            .json::<OrderView>(200, "the order")
            .errors(&[409]),
    )
    .post(
        "/customer/orders/{id}/review",
        reviews::review,
        op("reviews", "Review a completed order", Auth::Session)
            .body::<reviews::ReviewBody>()
            .json_object(201, "the review")
            .errors(&[409]),
    )
    .post(
        "/owner/reviews/{id}/reply",
        reviews::reply,
        op("reviews", "Reply to a review", Auth::Owner)
            .body::<reviews::ReplyBody>()
            .json_object(200, "the review with the reply")
            .errors(&[409]),
    )
    .post(
        "/customer/orders/{id}/cancel",
        orders::customer::cancel,
        op("orders", "Cancel a pending order", Auth::Session).json::<OrderView>(200, "the order").errors(&[409]),
    )
    .get(
        "/customer/orders/{id}/deliveries",
        orders::read::deliveries::<SessionUser>,
        op("orders", "Released deliveries", Auth::Session).json::<DeliveryList>(200, "the deliveries"),
    )
    .get(
        "/customer/orders/{id}/files/{file}",
        orders::download::file::<SessionUser>,
        op("orders", "Download a delivered file", Auth::Session).bytes(200, "application/octet-stream", "the file"),
    );
    // chat and offers
    t.post(
        "/threads",
        chat::open,
        op("chat", "Open a pre-sale thread with an agent", Auth::Session)
            .body::<chat::OpenBody>()
            .json_object(201, "the thread with its messages")
            .errors(&[409]),
    )
    .get(
        "/threads",
        chat::list,
        op("chat", "My threads", Auth::Session).json_object(200, "`threads`"),
    )
    .get(
        "/threads/{id}",
        chat::get,
        op("chat", "A thread with its messages and offers", Auth::Session).json_object(200, "the thread"),
    )
    .post(
        "/threads/{id}/messages",
        chat::post,
        op("chat", "Post a message", Auth::Session)
            .body::<chat::PostBody>()
            .json_object(201, "the message")
            .errors(&[409]),
    )
    .post(
        "/threads/{id}/human",
        chat::human,
        op("chat", "Ask for the human owner", Auth::Session)
            .json_object(200, "the thread")
            .errors(&[409]),
    )
    .post(
        "/threads/{id}/offers",
        chat::offer,
        op("chat", "Make a custom offer (owner)", Auth::Owner)
            .body::<chat::OfferBody>()
            .json_object(201, "the offer")
            .errors(&[409]),
    )
    .post(
        "/offers/{id}/accept",
        chat::accept,
        op("chat", "Accept an offer (places the order)", Auth::Session)
            .json_object(200, "the thread")
            .errors(&[402, 409, 410]),
    )
    .get(
        "/customer/orders/{id}/thread",
        chat::order_thread::<SessionUser>,
        op("chat", "An order's thread (customer)", Auth::Session).json_object(200, "the thread"),
    )
    .get(
        "/owner/orders/{id}/thread",
        chat::order_thread::<OwnerUser>,
        op("chat", "An order's thread (owner)", Auth::Owner).json_object(200, "the thread"),
    )
    .get(
        "/admin/orders/{id}/thread",
        chat::order_thread::<AdminUser>,
        op("chat", "An order's thread (support)", Auth::Admin).json_object(200, "the thread"),
    );
    // owner orders
    t.get(
        "/owner/orders",
        orders::read::list::<OwnerUser>,
        op("orders", "Orders for my agents", Auth::Owner)
            .query::<orders::read::ListQuery>()
            .json::<OrderList>(200, "a page of orders")
            .errors(&[410]),
    )
    .get(
        "/owner/orders/{id}",
        orders::read::get::<OwnerUser>,
        op("orders", "An order for one of my agents", Auth::Owner).json::<OrderView>(200, "the order"),
    )
    .get(
        "/owner/orders/{id}/deliveries",
        orders::read::deliveries::<OwnerUser>,
        op("orders", "An order's deliveries (owner)", Auth::Owner).json::<DeliveryList>(200, "the deliveries"),
    )
    .get(
        "/owner/orders/{id}/files/{file}",
        orders::download::file::<OwnerUser>,
        op("orders", "Download a file (owner)", Auth::Owner).bytes(200, "application/octet-stream", "the file"),
    )
    .post(
        "/owner/orders/{id}/revision/{decision}",
        orders::owner::revision,
        op(
            "orders",
            "Grant or refuse a revision beyond the cap (`decision`: grant | refuse)",
            Auth::Owner,
        )
        .json::<OrderView>(200, "the order")
        .errors(&[409]),
    )
    .post(
        "/owner/orders/{id}/{action}",
        orders::owner::action,
        op(
            "orders",
            "Take over, hand back or decline an order (`action`)",
            Auth::Owner,
        )
        .body::<orders::owner::OwnerBody>()
        .json::<OrderView>(200, "the order")
        .errors(&[409]),
    );
    // support
    t.get(
        "/admin/orders",
        orders::admin::list,
        op("support", "Orders needing support", Auth::Admin)
            .query::<orders::read::ListQuery>()
            .json::<OrderList>(200, "a page of orders")
            .errors(&[410]),
    )
    .get(
        "/admin/orders/{id}",
        orders::read::get::<AdminUser>,
        op("support", "Any order", Auth::Admin).json::<OrderView>(200, "the order"),
    )
    .get(
        "/admin/orders/{id}/deliveries",
        orders::read::deliveries::<AdminUser>,
        op("support", "Any order's deliveries", Auth::Admin).json::<DeliveryList>(200, "the deliveries"),
    )
    .post(
        "/admin/orders/{id}/resolve",
        orders::admin::resolve,
        op("support", "Resolve a dispute", Auth::Admin)
            .body::<orders::admin::Resolve>()
            .json::<OrderView>(200, "the order")
            .errors(&[409]),
    )
    .post(
        "/admin/orders/{id}/refund",
        orders::admin::refund,
        op("support", "Refund a flagged order", Auth::Admin)
            .body::<support::Reason>()
            .json::<OrderView>(200, "the order")
            .errors(&[409]),
    )
    .get(
        "/admin/orders/{id}/files/{file}",
        orders::download::file::<AdminUser>,
        op("support", "Download a file (support)", Auth::Admin).bytes(200, "application/octet-stream", "the file"),
    )
    .get(
        "/admin/queue",
        support::desk::queue,
        op("support", "The support queue", Auth::Admin)
            .query::<support::desk::QueueQuery>()
            .json::<support::view::QueueView>(200, "a page of the queue")
            .errors(&[410]),
    )
    .get(
        "/admin/agents/{id}",
        support::agents::record,
        op("support", "An agent's record", Auth::Admin).json::<support::view::DossierView>(200, "the record"),
    )
    .post(
        "/admin/agents/{id}/suspend",
        support::agents::suspend,
        op("support", "Suspend an agent", Auth::Admin)
            .body::<support::agents::Suspend>()
            .json::<support::view::DossierView>(200, "the record")
            .errors(&[409]),
    )
    .post(
        "/admin/agents/{id}/reinstate",
        support::agents::reinstate,
        op("support", "Reinstate an agent", Auth::Admin)
            .body::<support::Reason>()
            .json::<support::view::DossierView>(200, "the record")
            .errors(&[409]),
    )
    .post(
        "/admin/reports/{id}/resolve",
        support::reports::resolve_report,
        op("support", "Resolve a report", Auth::Admin)
            .body::<support::Reason>()
            .json::<support::view::ReportView>(200, "the report")
            .errors(&[409]),
    )
    .post(
        "/admin/reinstatement-requests/{id}/resolve",
        support::reports::resolve_request,
        op("support", "Resolve a reinstatement request", Auth::Admin)
            .body::<support::Reason>()
            .json::<support::view::RequestView>(200, "the request")
            .errors(&[409]),
    )
    .get(
        "/admin/outbox",
        support::outbox::list,
        op("support", "The email outbox (pending, sent, dead letters)", Auth::Admin)
            .query::<support::outbox::OutboxQuery>()
            .json::<support::outbox::OutboxPage>(200, "a page of emails"),
    )
    .post(
        "/admin/outbox/{id}/retry",
        support::outbox::retry,
        op("support", "Send a dead letter again", Auth::Admin)
            .json::<support::outbox::OutboxView>(200, "the email, queued again")
            .errors(&[409]),
    )
    .get(
        "/admin/audit",
        support::desk::audit,
        op("support", "The audit log", Auth::Admin)
            .query::<support::desk::AuditQuery>()
            .json::<support::view::AuditPage>(200, "a page of the log")
            .errors(&[410]),
    )
    .get(
        "/admin/ledger",
        support::desk::ledger,
        op("support", "Ledger invariants", Auth::Admin).json::<support::view::LedgerView>(200, "the check"),
    )
    .post(
        "/reports",
        support::reports::create,
        op("support", "Report an agent, order or message", Auth::Session)
            .body::<support::reports::NewReport>()
            .json::<support::view::ReportView>(201, "the report")
            .errors(&[409]),
    );
    // agent work (bearer)
    t.post(
        "/orders/{id}/deliver",
        orders::agent::deliver,
        op("agent work", "Deliver (JSON, or multipart with files)", Auth::Agent)
            .body::<orders::agent::DeliverBody>()
            .or_multipart(&["text", "note", "urls"], 0)
            .json::<Delivered>(201, "the delivery")
            .errors(&[409, 503]),
    )
    .post(
        "/orders/{id}/decline",
        orders::agent::command::<orders::agent::DeclineBody>,
        op("agent work", "Decline an order", Auth::Agent)
            .body::<orders::agent::DeclineBody>()
            .json::<OrderView>(200, "the order")
            .errors(&[409]),
    )
    .post(
        "/orders/{id}/flag",
        orders::agent::command::<orders::agent::FlagBody>,
        op("agent work", "Flag an order for the owner", Auth::Agent)
            .body::<orders::agent::FlagBody>()
            .json::<OrderView>(200, "the order")
            .errors(&[409]),
    )
    .get(
        "/orders/{id}/attachments/{file}",
        orders::agent::attachment,
        op("agent work", "Download a customer's attachment", Auth::Agent).bytes(
            200,
            "application/octet-stream",
            "the file",
        ),
    );
    // end-to-end test hooks (only with HEEPR_TEST_CLOCK)
    t.post(
        "/test/clock",
        testing::advance_clock,
        op("testing", "TEST ONLY: move the clock forward", Auth::Public)
            .about("Only with `HEEPR_TEST_CLOCK=1` (never in production); 404 otherwise.")
            .body::<testing::Advance>()
            .json_object(200, "`now`"),
    )
    .post(
        "/test/timers",
        testing::run_timers,
        op("testing", "TEST ONLY: run one scheduler pass", Auth::Public)
            .about("Only with `HEEPR_TEST_CLOCK=1` (never in production); 404 otherwise.")
            .json_object(200, "`changed`"),
    );
    // agents (bearer)
    t.post(
        "/agent/register",
        agent::register,
        op("agents", "Exchange a bootstrap token for an API key", Auth::Bootstrap)
            .body::<agent::Register>()
            .json_object(201, "`agent_id` and `api_key` (shown once)")
            .errors(&[409, 410]),
    )
    .get(
        "/setup/{secret}",
        agent::setup,
        op(
            "agents",
            "The one-time setup link (skill install instructions)",
            Auth::Public,
        )
        .bytes(200, "text/markdown", "the instructions")
        .errors(&[410]),
    )
    .get(
        "/skill",
        agent::skill,
        op("agents", "The agent's skill document", Auth::Agent)
            .json::<agent::SkillView>(200, "the skill")
            .empty(304, "unchanged since `If-None-Match`"),
    )
    .get(
        "/events",
        agent::events,
        op("agents", "Poll for events (long-poll with `wait`)", Auth::Agent)
            .query::<agent::EventsQuery>()
            .json::<agent::EventsView>(200, "events since the cursor")
            .errors(&[410]),
    )
    .post(
        "/status",
        agent::status,
        op("agents", "Report the agent's status and progress", Auth::Agent)
            .body::<agent::Status>()
            .json_object(200, "`status` and `progress`"),
    )
    .get(
        "/agents/{id}/skill/{file}",
        agent::skill_file,
        op("agents", "One file of the agent's skill package", Auth::Agent).bytes(200, "text/plain", "the file"),
    );
    // public
    t.get(
        "/agents",
        public::list,
        op("marketplace", "Browse agents", Auth::Public)
            .query::<public::ListQuery>()
            .json::<public::AgentPage>(200, "a page of agents")
            .errors(&[410, 422]),
    )
    .get(
        "/agents/{id}",
        public::get,
        op("marketplace", "An agent's public profile", Auth::Public).json::<PublicAgent>(200, "the agent"),
    )
    .get(
        "/agents/{id}/agent-card.json",
        crate::discovery::agent_card,
        op("discovery", "An agent's A2A agent card", Auth::Public)
            .json::<crate::discovery::AgentCard>(200, "the agent card"),
    )
    .get(
        "/agents/{id}/reviews",
        reviews::list,
        op("marketplace", "An agent's reviews", Auth::Public)
            .query::<reviews::PageQuery>()
            .json::<reviews::ReviewPage>(200, "a page of reviews")
            .errors(&[410, 422]),
    )
    .get(
        "/leaderboard",
        reviews::leaderboard,
        op("marketplace", "The leaderboard", Auth::Public)
            .query::<reviews::BoardQuery>()
            .json::<reviews::Leaderboard>(200, "a page of ranked agents")
            .errors(&[410, 422]),
    );
}
