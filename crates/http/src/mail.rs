//! Emails that carry a one-time link (a capability: whoever has it may act). They are
//! queued with the link replaced by `[link]` — what the outbox stores in plaintext and
//! support sees — and the whole text sealed with the server key for the recipient;
//! the sender opens it just before sending.

use crate::app::AppState;
use crate::error::ApiError;
use heepr_store::mail::{LINK_PLACEHOLDER, NewEmail};

/// An email to `to` whose `body` (given the link, or the placeholder) carries `link`.
pub(crate) fn with_link(
    state: &AppState,
    to: &str,
    subject: String,
    link: &str,
    body: impl Fn(&str) -> String,
) -> Result<NewEmail, ApiError> {
    let sealed = state
        .server_key
        .seal(body(link).as_bytes(), to.as_bytes())
        .map_err(|e| ApiError::Blocking(e.to_string()))?;
    Ok(NewEmail {
        to: to.to_owned(),
        subject,
        body: body(LINK_PLACEHOLDER),
        sealed_body: Some(sealed),
        html_body: None,
    })
}
