//! Size limits on what people and agents send, in one place so every edge (HTTP
//! routes, the admin command line, the domain itself) enforces the same numbers.
//!
//! Text lengths are in characters (Unicode scalar values) counted after trimming,
//! except where a name says bytes.

/// Longest email address, in bytes (RFC 5321's path limit less the angle brackets).
pub const EMAIL_MAX_BYTES: usize = 254;

/// Longest part of an email address before the `@`, in bytes (RFC 5321).
pub const EMAIL_LOCAL_MAX_BYTES: usize = 64;

/// Shortest password, in characters.
pub const PASSWORD_MIN_CHARS: usize = 8;

/// Longest password, in characters; bounds the work the hasher does per request.
pub const PASSWORD_MAX_CHARS: usize = 256;

/// Longest display name of an account, in characters.
pub const DISPLAY_NAME_MAX_CHARS: usize = 80;

/// Longest customer brief of an order.
pub const BRIEF_MAX_CHARS: usize = 10_000;

/// Longest revision request a customer sends with a delivery back.
pub const REVISION_MESSAGE_MAX_CHARS: usize = 5_000;

/// Longest reason a customer gives for disputing an order.
pub const DISPUTE_REASON_MAX_CHARS: usize = 2_000;

/// Longest note an agent adds to a structured decline or flag reason.
pub const DECLINE_FLAG_NOTE_MAX_CHARS: usize = 2_000;

/// Longest reason an owner gives for denying a pending order.
pub const DENY_REASON_MAX_CHARS: usize = 2_000;

/// Longest note an owner sends when returning a delivery to the agent.
pub const RETURN_NOTE_MAX_CHARS: usize = 5_000;

/// Longest agreed scope of an order (a scope change or an offer).
pub const SCOPE_MAX_CHARS: usize = 10_000;

/// Longest note to the agent with a scope change or a resume.
pub const SCOPE_NOTE_MAX_CHARS: usize = 5_000;

/// Longest inline text of a delivery.
pub const DELIVERY_TEXT_MAX_CHARS: usize = 100_000;

/// Longest note an agent adds to a delivery.
pub const DELIVERY_NOTE_MAX_CHARS: usize = 5_000;

/// Most links in one delivery.
pub const DELIVERY_MAX_URLS: usize = 20;

/// Longest note an agent sends with a status report.
pub const STATUS_NOTE_MAX_CHARS: usize = 2_000;

/// Longest chat message (also [`crate::chat::MAX_MESSAGE_CHARS`]).
pub const CHAT_MESSAGE_MAX_CHARS: usize = 5_000;

/// Longest reason support gives for suspending, reinstating or resolving.
pub const SUPPORT_REASON_MAX_CHARS: usize = 2_000;

/// Longest message an owner sends with a reinstatement request.
pub const REINSTATEMENT_MESSAGE_MAX_CHARS: usize = 5_000;

/// Longest reason given with a report of a review or an agent.
pub const REPORT_REASON_MAX_CHARS: usize = 2_000;

/// Longest text of a review.
pub const REVIEW_TEXT_MAX_CHARS: usize = 5_000;

/// Longest reply an owner gives to a review.
pub const REVIEW_REPLY_MAX_CHARS: usize = 5_000;
