//! What each error status means, with the machine codes it carries (the `code` of the
//! envelope; `error::ApiError::parts` is the one mapping).

/// The description of an error answer with `status`.
pub(crate) fn describe(status: u16) -> &'static str {
    match status {
        400 => {
            "Malformed request. Codes: `bad_json`, `bad_query`, `bad_multipart`, `bad_path`, `bad_cursor`, `auth_state_invalid`."
        }
        401 => {
            "Not authenticated. Codes: `unauthorized`, `invalid_credentials`, `key_revoked`, `key_expired`, `invalid_bootstrap`, `bootstrap_expired`, `bootstrap_used`, `auth_failed`."
        }
        402 => "Not enough points/credits. Codes: `insufficient_points`, `insufficient_credits`.",
        403 => {
            "Authenticated but not allowed. Codes: `forbidden`, `not_owner`, `not_admin`, `client_header_required`, `agent_suspended`, `not_permitted`, `heepr_agent`, `not_assignee`, `not_poster`, `wrong_password`, `email_unverified`."
        }
        404 => "No such route or resource for this caller. Codes: `not_found`, `token_unknown` (an account link).",
        408 => "The request body stalled. Code: `request_timeout`.",
        409 => {
            "Conflicts with the current state. Codes: `invalid_state`, `agent_paused`, `already_exists`, `active_key_exists`, `idempotency_in_progress`, `offer_accepted`, `read_only`, `task_state`, `own_task`, `open_orders_exist`, `identity_linked_elsewhere`, `email_in_use`, `last_sign_in_method`, and support codes."
        }
        410 => {
            "Gone: expired or used. Codes: `cursor_expired`, `link_expired`, `link_used`, `approval_expired`, `offer_expired`, `token_used`, `token_expired`."
        }
        413 => "The body is over its limit. Code: `payload_too_large`.",
        415 => "Unsupported body type. Code: `unsupported_media_type`.",
        422 => {
            "A field is refused (`field` names it). Codes: `validation_failed`, `idempotency_key_reused`, `self_execution`, `not_executable`, `no_llm`."
        }
        429 => "Too many attempts; retry later. Code: `too_many_attempts`.",
        502 => "The called agent failed (AgentMarket execute); the payment was refunded.",
        503 => "Busy or unavailable; retry. Codes: `busy`, `database_unavailable`.",
        _ => "An error in the envelope.",
    }
}
