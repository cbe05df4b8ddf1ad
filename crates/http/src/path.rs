//! A path whose decoded text holds NUL or another control character names nothing:
//! answered 404 before any handler runs, so no id with such bytes reaches a query
//! (PostgreSQL cannot even compare text holding NUL; SQLite would just find nothing —
//! both backends now answer alike).

use crate::error::ApiError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// Whether the percent-decoded path holds a control character.
fn has_control(path: &str) -> bool {
    percent_encoding::percent_decode_str(path).any(|b| b < 0x20 || b == 0x7f)
}

/// `raw` if it is `prefix` followed by a ULID (26 letters and digits), the shape of the
/// store's time-ordered ids; anything else names nothing.
pub(crate) fn ulid_id<'a>(raw: &'a str, prefix: &str) -> Option<&'a str> {
    let tail = raw.strip_prefix(prefix)?;
    (tail.len() == 26 && tail.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(raw)
}

/// Middleware: 404 for a path with control characters.
pub(crate) async fn refuse_control_characters(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if has_control(req.uri().path()) {
        return Err(ApiError::NotFound.into());
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_control_characters_are_found() {
        assert!(has_control("/api/agents/agt_x%00"));
        assert!(has_control("/api/threads/%0A"));
        assert!(!has_control("/api/agents/agt_01H%20x"));
        assert!(!has_control("/api/agents/caf%C3%A9"));
    }

    #[test]
    fn ulid_ids_have_their_prefix_and_26_characters() {
        assert_eq!(
            ulid_id("ntf_01M8ZBKNTRGW4AEHB5N1FMEV9B", "ntf_"),
            Some("ntf_01M8ZBKNTRGW4AEHB5N1FMEV9B")
        );
        assert_eq!(ulid_id("eml_01M8ZBKNTRGW4AEHB5N1FMEV9B", "ntf_"), None);
        assert_eq!(ulid_id("ntf_01M8ZBKNTRGW4AEHB5N1FMEV9", "ntf_"), None);
        assert_eq!(ulid_id("ntf_01M8ZBKNTRGW4AEHB5N1FMEV9-", "ntf_"), None);
    }
}
