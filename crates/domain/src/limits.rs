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
