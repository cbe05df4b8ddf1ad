//! Chat and offers (SPEC §9 "Order chat", "Pre-sale", §15 offers).
//!
//! Pure rules only: who may speak in a thread, when a thread becomes read-only, what an
//! owner's offer must satisfy, whether an offer can still be accepted, and the text of
//! the built-in assistant's first reply. The caller supplies `now`.

use crate::Timestamp;
use crate::agent::{AgentSettings, Gig, Tier, validate_inputs};
use crate::ids::UserId;
use crate::notice::{Detail, Recipient};
use crate::order::OrderState;
use crate::points::Points;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Threads of a terminal order become read-only this many days after it ended.
pub const READ_ONLY_AFTER_DAYS: i64 = 7;

/// Longest message body, in characters.
pub const MAX_MESSAGE_CHARS: usize = crate::limits::CHAT_MESSAGE_MAX_CHARS;

/// Longest offer scope, in characters.
pub const MAX_SCOPE_CHARS: usize = crate::limits::SCOPE_MAX_CHARS;

/// An offer without an explicit expiry stays open this many days (but never past its
/// deadline).
pub const DEFAULT_OFFER_TTL_DAYS: i64 = 7;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    /// The thread's customer.
    Customer,
    /// The owner of the thread's agent.
    Owner,
    /// The built-in assistant.
    Assistant,
    /// Support (admin); reads only.
    Support,
}

impl AuthorKind {
    /// Storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Owner => "owner",
            Self::Assistant => "assistant",
            Self::Support => "support",
        }
    }

    /// The inverse of [`AuthorKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Customer, Self::Owner, Self::Assistant, Self::Support]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Why a chat action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// The offer already became an order (409).
    #[error("this offer was already accepted")]
    OfferAccepted,
    /// The offer is past its expiry or its deadline (410).
    #[error("this offer has expired")]
    OfferExpired,
    /// The caller is not a party that may do this (answered as 404).
    #[error("not found")]
    NotAParty,
    /// The thread's order ended more than 7 days ago (409).
    #[error("this thread is read-only")]
    ReadOnly,
    /// Support reads threads but does not post in them (403).
    #[error("support may not post")]
    SupportReadsOnly,
    /// Offers belong in pre-sale threads, not order threads (409).
    #[error("offers can only be made in a pre-sale thread")]
    NotPreSale,
    /// An argument is out of range; it names the field (422).
    #[error(transparent)]
    Invalid(#[from] crate::error::Invalid),
}

impl ChatError {
    /// A stable machine code for the error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            Self::OfferAccepted => "offer_accepted",
            Self::SupportReadsOnly => "forbidden",
            Self::OfferExpired => "offer_expired",
            Self::NotAParty => "not_found",
            Self::ReadOnly => "thread_read_only",
            Self::NotPreSale => "not_a_presale_thread",
            Self::Invalid(_) => "validation_failed",
        }
    }

    fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(crate::error::Invalid::new(field, message))
    }
}

/// The role `user` has in a thread of `customer` with `owner`'s agent, or `None` (not a
/// party: the thread does not exist for them). When the owner chats with their own
/// agent, they are the customer. Support reads any thread.
pub fn thread_role(customer: &str, owner: &str, user: &str, is_support: bool) -> Option<AuthorKind> {
    if user == customer {
        Some(AuthorKind::Customer)
    } else if user == owner {
        Some(AuthorKind::Owner)
    } else if is_support {
        Some(AuthorKind::Support)
    } else {
        None
    }
}

/// Whether a thread takes new messages. Pre-sale threads (`order_state = None`) and
/// threads of open orders always do; a thread of a terminal order does until
/// [`READ_ONLY_AFTER_DAYS`] after `terminal_at` (when unknown, it stays writable).
pub fn thread_is_writable(order_state: Option<OrderState>, terminal_at: Option<Timestamp>, now: Timestamp) -> bool {
    match order_state {
        Some(s) if s.is_terminal() => terminal_at.is_none_or(|t| now < t + Duration::days(READ_ONLY_AFTER_DAYS)),
        _ => true,
    }
}

/// Who hears of a message in a thread: the other party (a customer's message tells the
/// owner, the owner's tells the customer), with the start of the text. The assistant's
/// answers come straight back to the customer, who is looking at the thread.
pub fn message_notice(
    author: AuthorKind,
    customer: &UserId,
    owner: &UserId,
    body: &str,
) -> Option<(Recipient, Detail)> {
    let to = match author {
        AuthorKind::Customer => Recipient::Owner(owner.clone()),
        AuthorKind::Owner => Recipient::Customer(customer.clone()),
        AuthorKind::Assistant | AuthorKind::Support => return None,
    };
    let text: String = body.chars().take(MESSAGE_PREVIEW_CHARS).collect();
    Some((to, Detail::Note { text }))
}

/// How much of a message a notice quotes.
pub const MESSAGE_PREVIEW_CHARS: usize = 280;

/// Whether `role` may post in a thread that is `writable` now: the customer and the
/// agent's owner may while it is writable; support only reads.
pub fn decide_post(role: AuthorKind, writable: bool) -> Result<(), ChatError> {
    match role {
        AuthorKind::Support => Err(ChatError::SupportReadsOnly),
        _ if !writable => Err(ChatError::ReadOnly),
        _ => Ok(()),
    }
}

/// The customer asks for a human. Only the thread's customer may (anyone else: the
/// thread does not exist for them); asking again changes nothing — `Ok(false)`, so no
/// second email goes out.
pub fn decide_human_request(role: AuthorKind, already_requested: bool) -> Result<bool, ChatError> {
    match role {
        AuthorKind::Customer => Ok(!already_requested),
        _ => Err(ChatError::NotAParty),
    }
}

/// Whether the thread's owner may make an offer in it: only the owner of the thread's
/// agent, and only before an order exists (pre-sale).
pub fn decide_offer_creation(is_owner: bool, pre_sale: bool) -> Result<(), ChatError> {
    match (is_owner, pre_sale) {
        (false, _) => Err(ChatError::NotAParty),
        (true, false) => Err(ChatError::NotPreSale),
        (true, true) => Ok(()),
    }
}

/// Checks a message body: 1–[`MAX_MESSAGE_CHARS`] characters after trimming. Returns it
/// trimmed.
pub fn validate_message(field: &str, body: &str) -> Result<String, ChatError> {
    let t = body.trim();
    crate::text::check_multi_line(field, t)?;
    if t.is_empty() {
        return Err(ChatError::invalid(field, "is required"));
    }
    if t.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ChatError::invalid(
            field,
            format!("must be at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    Ok(t.to_owned())
}

/// What an owner proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferDraft {
    /// A gig of the thread's agent.
    pub gig_id: String,
    /// A tier of that gig (by name): it fixes the included revisions.
    pub tier: String,
    /// Points; within the agent's price range.
    pub price: Points,
    /// When the work is due; later than now.
    pub deadline: Timestamp,
    /// The agreed scope, 1–[`MAX_SCOPE_CHARS`] characters.
    pub scope: String,
    /// Order-form answers, checked against the gig's form.
    pub inputs: serde_json::Value,
    /// When the offer lapses; defaults to [`DEFAULT_OFFER_TTL_DAYS`], capped at the deadline.
    pub expires_at: Option<Timestamp>,
}

/// An offer that passed [`validate_offer`]: normalised inputs and scope, expiry fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOffer {
    /// The draft, with trimmed scope and normalised inputs.
    pub draft: OfferDraft,
    /// The effective expiry.
    pub expires_at: Timestamp,
}

/// Finds a gig (by id) and one of its tiers (by name) in the agent's settings.
pub fn find_terms<'a>(settings: &'a AgentSettings, gig_id: &str, tier: &str) -> Result<(&'a Gig, &'a Tier), ChatError> {
    Ok(crate::order::find_tier(settings, gig_id, tier)?)
}

/// Checks an owner's offer against the agent's settings: the gig and tier exist, the
/// price is at least 1 and within [`AgentSettings::price_range`], the deadline is later
/// than now, the scope has 1–10000 characters, the inputs fit the gig's form, and the
/// expiry (if given) is later than now and not after the deadline.
pub fn validate_offer(settings: &AgentSettings, draft: OfferDraft, now: Timestamp) -> Result<ValidOffer, ChatError> {
    let (gig, _) = find_terms(settings, &draft.gig_id, &draft.tier)?;
    let (min, max) = settings.price_range();
    if draft.price.get() < 1 {
        return Err(ChatError::invalid("price", "must be at least 1 point"));
    }
    if draft.price < min || draft.price > max {
        return Err(ChatError::invalid(
            "price",
            format!("must be within the agent's price range {min}..{max}"),
        ));
    }
    if draft.deadline <= now {
        return Err(ChatError::invalid("deadline", "must be later than now"));
    }
    if draft.deadline > now + Duration::days(365) {
        return Err(ChatError::invalid("deadline", "must be within 365 days"));
    }
    let scope = draft.scope.trim().to_owned();
    crate::text::check_multi_line("scope", &scope)?;
    if scope.is_empty() {
        return Err(ChatError::invalid("scope", "is required"));
    }
    if scope.chars().count() > MAX_SCOPE_CHARS {
        return Err(ChatError::invalid(
            "scope",
            format!("must be at most {MAX_SCOPE_CHARS} characters"),
        ));
    }
    let inputs = validate_inputs(&gig.form, &draft.inputs, &[])?;
    let expires_at = match draft.expires_at {
        Some(e) if e <= now => return Err(ChatError::invalid("expires_at", "must be later than now")),
        Some(e) if e > draft.deadline => {
            return Err(ChatError::invalid("expires_at", "must not be after the deadline"));
        }
        Some(e) => e,
        None => (now + Duration::days(DEFAULT_OFFER_TTL_DAYS)).min(draft.deadline),
    };
    Ok(ValidOffer {
        draft: OfferDraft {
            scope,
            inputs: serde_json::Value::Object(inputs),
            expires_at: Some(expires_at),
            ..draft
        },
        expires_at,
    })
}

/// What acceptance needs to know about a stored offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfferState {
    /// Already turned into an order.
    pub accepted: bool,
    /// When it lapses.
    pub expires_at: Timestamp,
    /// When its work would be due.
    pub deadline: Timestamp,
}

/// Decides whether the caller may accept an offer now: only the thread's customer
/// (anyone else: [`ChatError::NotAParty`]); at most once ([`ChatError::OfferAccepted`]);
/// not at or after its expiry or deadline ([`ChatError::OfferExpired`]).
pub fn decide_offer_acceptance(
    offer: &OfferState,
    customer_is_thread_customer: bool,
    now: Timestamp,
) -> Result<(), ChatError> {
    if !customer_is_thread_customer {
        return Err(ChatError::NotAParty);
    }
    if offer.accepted {
        return Err(ChatError::OfferAccepted);
    }
    if now >= offer.expires_at || now >= offer.deadline {
        return Err(ChatError::OfferExpired);
    }
    Ok(())
}

/// The delivery days of an order made from an offer accepted at `now`: the days left
/// until the offer's deadline, rounded up (so the order's deadline is never earlier
/// than the offered one), clamped to 1–365.
pub fn offer_delivery_days(deadline: Timestamp, now: Timestamp) -> u32 {
    let secs = (deadline - now).num_seconds().max(0);
    let days = (secs + 86_399) / 86_400;
    u32::try_from(days.clamp(1, 365)).unwrap_or(1)
}

/// The built-in assistant's answer to a new pre-sale thread: every gig with its tiers
/// (price, delivery days, revisions) and its order-form questions.
pub fn assistant_reply(settings: &AgentSettings) -> String {
    let mut s = format!(
        "Hi! I'm the assistant for {}. While you wait for the owner, here is what it offers:\n",
        settings.name
    );
    for g in &settings.gigs {
        let _ = write!(s, "\n{} ({})\n", g.title, g.category);
        for t in &g.tiers {
            let _ = writeln!(
                s,
                "- {}: {} points, delivered in {} day{}, {} revision{} included",
                t.name,
                t.price,
                t.delivery_days,
                if t.delivery_days == 1 { "" } else { "s" },
                t.revisions,
                if t.revisions == 1 { "" } else { "s" },
            );
        }
        if g.form.is_empty() {
            s.push_str("The order form has no questions.\n");
        } else {
            s.push_str("The order form asks:\n");
            for f in &g.form {
                let _ = write!(
                    s,
                    "- {} ({}{})",
                    f.label,
                    f.kind.as_str(),
                    if f.required { ", required" } else { "" }
                );
                if !f.choices.is_empty() {
                    let _ = write!(s, ": one of {}", f.choices.join(", "));
                }
                s.push('\n');
            }
        }
    }
    s.push_str("\nOrder a tier directly, ask the owner for a custom offer here, or ask for a human.");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn settings() -> AgentSettings {
        serde_json::from_value(serde_json::json!({
            "name": "Coder",
            "categories": ["code"],
            "gigs": [{"id": "gig_1", "title": "Fix a bug", "category": "code",
                      "form": [{"name": "repo", "label": "Repository", "type": "url", "required": true},
                               {"name": "lang", "label": "Language", "type": "choice", "choices": ["rust", "go"]}],
                      "tiers": [{"name": "Basic", "price": 10, "delivery_days": 1, "revisions": 1},
                                {"name": "Pro", "price": 90, "delivery_days": 4, "revisions": 3}]}]
        }))
        .unwrap()
    }

    fn draft() -> OfferDraft {
        OfferDraft {
            gig_id: "gig_1".into(),
            tier: "Pro".into(),
            price: Points(50),
            deadline: now() + Duration::days(3),
            scope: " Port the parser ".into(),
            inputs: serde_json::json!({"repo": "https://example.com/r"}),
            expires_at: None,
        }
    }

    #[test]
    fn a_good_offer_is_normalised_with_a_default_expiry() {
        let v = validate_offer(&settings(), draft(), now()).unwrap();
        assert_eq!(v.draft.scope, "Port the parser");
        assert_eq!(v.expires_at, now() + Duration::days(3), "capped at the deadline");
        let far = OfferDraft {
            deadline: now() + Duration::days(30),
            ..draft()
        };
        assert_eq!(
            validate_offer(&settings(), far, now()).unwrap().expires_at,
            now() + Duration::days(DEFAULT_OFFER_TTL_DAYS)
        );
    }

    #[test]
    fn each_bad_offer_field_is_named() {
        type Mutation = Box<dyn Fn(&mut OfferDraft)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (Box::new(|d| d.price = Points(0)), "price"),
            (Box::new(|d| d.price = Points(9)), "price"),
            (Box::new(|d| d.price = Points(91)), "price"),
            (Box::new(|d| d.deadline = now()), "deadline"),
            (Box::new(|d| d.deadline = now() + Duration::days(366)), "deadline"),
            (Box::new(|d| d.scope = "  ".into()), "scope"),
            (Box::new(|d| d.scope = "x".repeat(MAX_SCOPE_CHARS + 1)), "scope"),
            (Box::new(|d| d.gig_id = "gig_2".into()), "gig_id"),
            (Box::new(|d| d.tier = "Gold".into()), "tier"),
            (Box::new(|d| d.inputs = serde_json::json!({})), "inputs.repo"),
            (Box::new(|d| d.expires_at = Some(now())), "expires_at"),
            (
                Box::new(|d| d.expires_at = Some(d.deadline + Duration::seconds(1))),
                "expires_at",
            ),
        ];
        for (mutate, field) in cases {
            let mut d = draft();
            mutate(&mut d);
            match validate_offer(&settings(), d, now()) {
                Err(ChatError::Invalid(e)) => assert_eq!(e.field, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let mut edge = draft();
        edge.price = Points(90);
        assert!(
            validate_offer(&settings(), edge.clone(), now()).is_ok(),
            "max is inclusive"
        );
        edge.price = Points(10);
        assert!(validate_offer(&settings(), edge, now()).is_ok(), "min is inclusive");
    }

    #[test]
    fn acceptance_is_once_by_the_customer_before_expiry() {
        let open = OfferState {
            accepted: false,
            expires_at: now() + Duration::hours(1),
            deadline: now() + Duration::days(2),
        };
        assert_eq!(decide_offer_acceptance(&open, true, now()), Ok(()));
        assert_eq!(decide_offer_acceptance(&open, false, now()), Err(ChatError::NotAParty));
        let taken = OfferState { accepted: true, ..open };
        assert_eq!(
            decide_offer_acceptance(&taken, true, now() + Duration::days(9)),
            Err(ChatError::OfferAccepted),
            "accepted wins over expired"
        );
        assert_eq!(
            decide_offer_acceptance(&open, true, now() + Duration::hours(1)),
            Err(ChatError::OfferExpired)
        );
        assert_eq!(ChatError::OfferAccepted.code(), "offer_accepted");
        assert_eq!(ChatError::OfferExpired.code(), "offer_expired");
    }

    #[test]
    fn threads_turn_read_only_seven_days_after_the_end() {
        let end = now();
        assert!(thread_is_writable(None, None, end + Duration::days(400)));
        assert!(thread_is_writable(
            Some(OrderState::InProgress),
            Some(end),
            end + Duration::days(30)
        ));
        for s in [OrderState::Completed, OrderState::Refunded] {
            assert!(thread_is_writable(
                Some(s),
                Some(end),
                end + Duration::days(7) - Duration::seconds(1)
            ));
            assert!(!thread_is_writable(Some(s), Some(end), end + Duration::days(7)));
        }
    }

    #[test]
    fn roles_and_messages() {
        assert_eq!(thread_role("u1", "u2", "u1", false), Some(AuthorKind::Customer));
        assert_eq!(thread_role("u1", "u1", "u1", true), Some(AuthorKind::Customer));
        assert_eq!(thread_role("u1", "u2", "u2", false), Some(AuthorKind::Owner));
        assert_eq!(thread_role("u1", "u2", "u3", true), Some(AuthorKind::Support));
        assert_eq!(thread_role("u1", "u2", "u3", false), None);
        assert_eq!(validate_message("body", "  hi "), Ok("hi".into()));
        assert!(validate_message("body", " ").is_err());
        assert!(validate_message("body", &"x".repeat(MAX_MESSAGE_CHARS + 1)).is_err());
        for k in [
            AuthorKind::Customer,
            AuthorKind::Owner,
            AuthorKind::Assistant,
            AuthorKind::Support,
        ] {
            assert_eq!(AuthorKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn delivery_days_round_up_and_clamp() {
        assert_eq!(offer_delivery_days(now() + Duration::hours(1), now()), 1);
        assert_eq!(offer_delivery_days(now() + Duration::days(2), now()), 2);
        assert_eq!(
            offer_delivery_days(now() + Duration::days(2) + Duration::seconds(1), now()),
            3
        );
        assert_eq!(offer_delivery_days(now() - Duration::days(2), now()), 1);
        assert_eq!(offer_delivery_days(now() + Duration::days(900), now()), 365);
    }

    #[test]
    fn the_assistant_lists_tiers_and_questions() {
        let r = assistant_reply(&settings());
        assert!(r.contains("Fix a bug (code)"), "{r}");
        assert!(
            r.contains("- Basic: 10 points, delivered in 1 day, 1 revision included"),
            "{r}"
        );
        assert!(
            r.contains("- Pro: 90 points, delivered in 4 days, 3 revisions included"),
            "{r}"
        );
        assert!(r.contains("- Repository (url, required)"), "{r}");
        assert!(r.contains("- Language (choice): one of rust, go"), "{r}");
    }

    #[test]
    fn support_reads_but_never_posts_and_old_order_threads_are_read_only() {
        assert_eq!(decide_post(AuthorKind::Customer, true), Ok(()));
        assert_eq!(decide_post(AuthorKind::Owner, true), Ok(()));
        assert_eq!(decide_post(AuthorKind::Support, true), Err(ChatError::SupportReadsOnly));
        assert_eq!(decide_post(AuthorKind::Customer, false), Err(ChatError::ReadOnly));
    }

    #[test]
    fn only_the_customer_asks_for_a_human_and_only_once() {
        assert_eq!(decide_human_request(AuthorKind::Customer, false), Ok(true));
        assert_eq!(decide_human_request(AuthorKind::Customer, true), Ok(false));
        assert_eq!(
            decide_human_request(AuthorKind::Owner, false),
            Err(ChatError::NotAParty)
        );
    }

    #[test]
    fn offers_come_from_the_owner_before_an_order_exists() {
        assert_eq!(decide_offer_creation(true, true), Ok(()));
        assert_eq!(decide_offer_creation(true, false), Err(ChatError::NotPreSale));
        assert_eq!(decide_offer_creation(false, true), Err(ChatError::NotAParty));
    }

    #[test]
    fn messages_and_scopes_follow_the_multi_line_rules() {
        assert_eq!(validate_message("body", "two\nlines"), Ok("two\nlines".into()));
        assert_eq!(
            validate_message("body", "nul\0"),
            Err(ChatError::invalid("body", "must not contain NUL characters"))
        );
        let mut d = draft();
        d.scope = "scope\u{1b}[31m".into();
        assert_eq!(
            validate_offer(&settings(), d, now()).map(|_| ()),
            Err(ChatError::invalid("scope", "must not contain control characters"))
        );
    }
}
