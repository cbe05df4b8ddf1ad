//! The words of heepr's notices. Each kind says what happened and what to do, with a
//! link built from the public base URL; the same words go into the in-app list and the
//! email (plain text and HTML, from the embedded templates `templates/notice.*`; the HTML
//! one escapes everything a user or an agent wrote).

use askama::Template;
use heepr_domain::notice::{Detail, NotificationKind as K, RefundReason};

/// What a notice is about, as loaded with it.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// Why.
    pub kind: K,
    /// What else to say.
    pub detail: &'a Detail,
    /// `customer` or `owner` (the role the recipient is told in).
    pub role: &'a str,
    /// The recipient's display name.
    pub name: Option<&'a str>,
    /// The agent's name.
    pub agent: Option<&'a str>,
    /// The agent's id.
    pub agent_id: Option<&'a str>,
    /// The order's gig title.
    pub title: Option<&'a str>,
    /// The order's id.
    pub order_id: Option<&'a str>,
    /// The thread's id.
    pub thread_id: Option<&'a str>,
    /// Public base URL, without a trailing slash.
    pub base_url: &'a str,
}

/// A notice in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    /// Subject line (the in-app title).
    pub subject: String,
    /// What happened.
    pub happened: String,
    /// What to do.
    pub todo: String,
    /// Where to do it.
    pub link: String,
}

/// A notice as an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML alternative.
    pub html: String,
}

#[derive(Template)]
#[template(path = "notice.txt", escape = "none")]
struct Text<'a> {
    greeting: &'a str,
    happened: &'a str,
    todo: &'a str,
    link: &'a str,
    agent: Option<&'a str>,
    optional: bool,
}

#[derive(Template)]
#[template(path = "notice.html")]
struct Html<'a> {
    subject: &'a str,
    greeting: &'a str,
    happened: &'a str,
    todo: &'a str,
    link: &'a str,
    link_text: &'a str,
    agent: Option<&'a str>,
    optional: bool,
}

/// The error rendering a template (a bug in a template, never the input's fault).
pub use askama::Error;

/// The notice's words.
pub fn words(f: &Facts<'_>) -> Words {
    let agent = f.agent.unwrap_or("your agent");
    let title = match f.title {
        Some(t) => format!("“{t}”"),
        None => "your order".to_owned(),
    };
    let note = match f.detail {
        Detail::Note { text } => text.as_str(),
        _ => "",
    };
    let with_note = |s: String| {
        if note.is_empty() {
            s
        } else {
            format!("{s} Note from support: {note}")
        }
    };
    let owner = f.role == "owner";
    let (subject, happened, todo) = match f.kind {
        K::OrderNeedsApproval => (
            format!("A new order for {agent} waits for your approval"),
            format!("A customer ordered {title} from {agent}."),
            "Approve or deny it within 24 hours; if you do neither, the customer is refunded automatically.".to_owned(),
        ),
        K::OrderApproved => (
            format!("Your order {title} was approved"),
            format!("The owner of {agent} approved your order, and the agent is working on it."),
            "Nothing to do for now: you will hear from us when the delivery is ready.".to_owned(),
        ),
        K::DeliveryNeedsReview => {
            let at = match f.detail {
                Detail::ReleaseAt { at } => at.format("%Y-%m-%d %H:%M UTC").to_string(),
                _ => "24 hours after the delivery".to_owned(),
            };
            (
                format!("A delivery from {agent} waits for your review"),
                format!("{agent} delivered {title}."),
                format!(
                    "Release it to the customer or return it to the agent with a note. If you do nothing, it is released to the customer automatically at {at}."
                ),
            )
        }
        K::DeliveryReleased => (
            format!("Your delivery for {title} is ready"),
            format!("{agent} delivered your order."),
            "Review it: accept it, or ask for a revision.".to_owned(),
        ),
        K::OrderFlagged => (
            format!("{agent} flagged an order"),
            format!("{agent} flagged {title}: {note}."),
            "Resume the order with a note for the agent, or refund the customer.".to_owned(),
        ),
        K::RevisionNeedsApproval => (
            format!("A customer asks {agent} for an extra revision"),
            format!("The customer of {title} used every included revision and asks for another: {note}"),
            "Grant or refuse the extra revision.".to_owned(),
        ),
        K::RevisionAnswered => {
            let granted = matches!(f.detail, Detail::Revision { granted: true });
            if granted {
                (
                    format!("Your extra revision for {title} was granted"),
                    format!("The owner of {agent} granted the revision you asked for."),
                    "The agent is working on it again; you will hear when it delivers.".to_owned(),
                )
            } else {
                (
                    format!("Your extra revision for {title} was not granted"),
                    format!("The owner of {agent} did not grant another revision."),
                    "The delivery stays as it is: accept it, or open a dispute if it is not what you ordered."
                        .to_owned(),
                )
            }
        }
        K::OrderDisputed => (
            format!("An order of {agent} is disputed"),
            format!("The customer disputed {title}: {note}"),
            "Support reviews the order and decides how the escrow is split; add context in the order's thread."
                .to_owned(),
        ),
        K::DisputeResolved => {
            let (refunded, price) = match f.detail {
                Detail::Resolution { refunded, price } => (refunded.get(), price.get()),
                _ => (0, 0),
            };
            let rest = price - refunded;
            (
                format!("The dispute on {title} is resolved"),
                format!(
                    "Support resolved the dispute: {refunded} of the {price} points went back to the customer and {rest} to the agent's owner."
                ),
                if owner {
                    "Your share is in your wallet.".to_owned()
                } else {
                    "Your refund is in your wallet.".to_owned()
                },
            )
        }
        K::OrderRefunded if owner => (
            format!("An order for {agent} was cancelled"),
            format!("The customer cancelled {title} before you approved it."),
            "Nothing to do: it left your approval queue.".to_owned(),
        ),
        K::OrderRefunded => {
            let why = match f.detail {
                Detail::Refund { reason } => match reason {
                    RefundReason::Denied => format!("The owner of {agent} denied the order."),
                    RefundReason::NotApprovedInTime => {
                        format!("The owner of {agent} did not approve the order within 24 hours.")
                    }
                    RefundReason::Declined => format!("{agent} declined the order."),
                    RefundReason::MissedDeadline => format!("{agent} missed the deadline without delivering."),
                    RefundReason::Flagged => "The order was refunded after the agent flagged it.".to_owned(),
                    RefundReason::FlagExpired => "The agent's flag was not resolved in time.".to_owned(),
                    RefundReason::Cancelled => "You cancelled the order before it was approved.".to_owned(),
                    RefundReason::AgentSuspended => format!("{agent} was suspended by support before it delivered."),
                },
                _ => "The order was refunded.".to_owned(),
            };
            (
                format!("Your order {title} was refunded"),
                why,
                "Its points are back in your wallet.".to_owned(),
            )
        }
        K::OrderCompleted if owner => (
            format!("{agent} completed an order: you were paid"),
            format!("{title} is complete."),
            "The payment is in your wallet.".to_owned(),
        ),
        K::OrderCompleted => (
            format!("Your order {title} is complete"),
            "The order is complete and the agent's owner was paid.".to_owned(),
            format!("Tell others how it went: review {agent}."),
        ),
        K::NewMessage => (
            format!("New message about {agent}"),
            format!("“{note}”"),
            "Reply in the thread.".to_owned(),
        ),
        K::HumanRequested => (
            format!("A customer asks for a human: {agent}"),
            format!("A customer chatting with {agent} asked to talk to a person."),
            "Open the thread and reply.".to_owned(),
        ),
        K::AgentSuspended => (
            format!("Your agent {agent} is suspended"),
            format!("Support suspended {agent}. Reason: {note}"),
            "While suspended it takes no new orders and may not work; orders it had not delivered were refunded, \
             and orders with a released delivery are back with their customers. To ask support to lift the \
             suspension, send a reinstatement request with a message for support."
                .to_owned(),
        ),
        K::AgentReinstated => (
            format!("Your agent {agent} is reinstated"),
            with_note(format!("Support lifted the suspension of {agent}.")),
            "It takes orders again.".to_owned(),
        ),
        K::ReinstatementDeclined => (
            format!("Your reinstatement request for {agent}"),
            with_note(format!(
                "Support reviewed your request to lift the suspension of {agent} and closed it; the agent stays suspended."
            )),
            "You may send a new request with more information.".to_owned(),
        ),
    };
    Words {
        subject,
        happened,
        todo,
        link: link(f),
    }
}

/// Where the recipient acts: the thread, the order, or the agent.
fn link(f: &Facts<'_>) -> String {
    let base = f.base_url.trim_end_matches('/');
    match (f.thread_id, f.order_id, f.agent_id) {
        (Some(t), _, _) => format!("{base}/threads/{t}"),
        (None, Some(o), _) if f.role == "owner" => format!("{base}/owner/orders/{o}"),
        (None, Some(o), _) => format!("{base}/orders/{o}"),
        (None, None, Some(a)) => format!("{base}/owner/agents/{a}"),
        (None, None, None) => base.to_owned(),
    }
}

/// The notice as an email.
pub fn email(f: &Facts<'_>) -> Result<Email, Error> {
    let w = words(f);
    let greeting = f.name.filter(|n| !n.trim().is_empty()).unwrap_or("there");
    let optional = !f.kind.is_essential();
    let text = Text {
        greeting,
        happened: &w.happened,
        todo: &w.todo,
        link: &w.link,
        agent: f.agent,
        optional,
    }
    .render()?;
    let html = Html {
        subject: &w.subject,
        greeting,
        happened: &w.happened,
        todo: &w.todo,
        link: &w.link,
        link_text: if f.thread_id.is_some() {
            "Open the thread"
        } else {
            "Open heepr"
        },
        agent: f.agent,
        optional,
    }
    .render()?;
    Ok(Email {
        subject: w.subject,
        text,
        html,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use heepr_domain::Points;

    fn facts<'a>(kind: K, detail: &'a Detail, role: &'a str) -> Facts<'a> {
        Facts {
            kind,
            detail,
            role,
            name: Some("Ann <admin>"),
            agent: Some("Bot & Co"),
            agent_id: Some("agt_1"),
            title: Some("Logo <b>design</b>"),
            order_id: Some("ord_1"),
            thread_id: None,
            base_url: "https://heepr.example/",
        }
    }

    #[test]
    fn every_kind_has_words_with_a_link() {
        let d = Detail::None;
        for kind in K::ALL {
            for role in ["customer", "owner"] {
                let w = words(&facts(kind, &d, role));
                assert!(!w.subject.is_empty() && !w.happened.is_empty() && !w.todo.is_empty());
                assert!(w.link.starts_with("https://heepr.example/"), "{kind:?}: {}", w.link);
            }
        }
    }

    #[test]
    fn html_escapes_what_users_wrote_and_text_keeps_it() {
        let d = Detail::Refund {
            reason: RefundReason::MissedDeadline,
        };
        let e = email(&facts(K::OrderRefunded, &d, "customer")).unwrap();
        assert_eq!(e.subject, "Your order “Logo <b>design</b>” was refunded");
        assert!(e.text.contains("Hello Ann <admin>,") && e.text.contains("Bot & Co missed the deadline"));
        assert!(e.text.contains("https://heepr.example/orders/ord_1"));
        assert!(
            e.html.contains("Ann &#60;admin&#62;") || e.html.contains("Ann &lt;admin&gt;"),
            "{}",
            e.html
        );
        assert!(!e.html.contains("<b>design</b>") && !e.html.contains("<admin>"));
        assert!(e.text.contains("always sent"), "refunds are essential");
    }

    #[test]
    fn details_reach_the_words() {
        let d = Detail::Resolution {
            refunded: Points(30),
            price: Points(100),
        };
        let w = words(&facts(K::DisputeResolved, &d, "owner"));
        assert!(w.happened.contains("30 of the 100 points") && w.happened.contains("70 to the agent's owner"));
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-05T10:30:00Z")
            .unwrap()
            .to_utc();
        let d = Detail::ReleaseAt { at };
        let w = words(&facts(K::DeliveryNeedsReview, &d, "owner"));
        assert!(w.todo.contains("2026-12-05 10:30 UTC"));
        assert_eq!(w.link, "https://heepr.example/owner/orders/ord_1");
        let d = Detail::Note {
            text: "fake deliveries".into(),
        };
        let e = email(&facts(K::NewMessage, &d, "customer")).unwrap();
        assert!(e.text.contains("switch emails of this kind off"));
    }
}
