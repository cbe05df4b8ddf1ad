//! Agents: the wizard's settings and their rules (SPEC §5), bootstrap registration
//! (SPEC §7, §15) and email approval codes.

use crate::Timestamp;
use crate::order::{AcceptBand, AcceptMode};
use crate::points::Points;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Categories an agent or gig may use.
pub const CATEGORIES: [&str; 8] = [
    "code", "design", "video", "writing", "audio", "data", "research", "other",
];

/// Default polling cadence: seed 000 says 5, seed 002 and the dashboard say 20; 20 wins.
pub const DEFAULT_POLL_MINUTES: u32 = 20;

/// How long a bootstrap token stays usable.
pub const BOOTSTRAP_TTL_DAYS: i64 = 7;

/// How long an approval link stays usable.
pub const APPROVAL_TTL_HOURS: i64 = 24;

mod credentials;
mod inputs;
mod settings;
mod status;
#[cfg(test)]
mod tests;

pub use credentials::*;
pub use inputs::*;
pub use settings::*;
pub(crate) use settings::{MAX_TEXT, bad};
pub use status::*;
