//! The data export (seed 003: "a machine-readable export of everything the marketplace
//! holds about you"): which entries it has, and the rule that keeps other people out of
//! it. A counter-party appears by display name only: never their id, email or wallet.

/// Which side of an order (or a review) the exporting user is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The user paid (orders placed, reviews written).
    Customer,
    /// The user owns the agent (orders received, reviews received).
    Owner,
}

/// A support-requested export's download link works this long (then support runs it
/// again on a new request).
pub const EXPORT_LINK_TTL_HOURS: i64 = 72;

/// The JSON entries of an export, in archive order, after `README.txt`; every file the
/// user uploaded follows under `files/`, and `manifest.json` comes last.
pub const JSON_ENTRIES: [&str; 14] = [
    "profile.json",
    "roles.json",
    "consents.json",
    "sessions.json",
    "api_keys.json",
    "agents.json",
    "orders_as_customer.json",
    "orders_as_owner.json",
    "messages.json",
    "offers.json",
    "reviews_written.json",
    "reviews_received.json",
    "ledger.json",
    "files.json",
];

/// The archive path of an uploaded file: `files/<briefs|deliveries>/<order>/<file id>-<name>`,
/// the name reduced to characters every unzip accepts (the id keeps it unique).
pub fn file_entry(order_id: &str, file_id: &str, delivered: bool, name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let kind = if delivered { "deliveries" } else { "briefs" };
    format!("files/{kind}/{order_id}/{file_id}-{safe}")
}

/// How a ledger transfer's other account is shown: the user's own accounts and the
/// marketplace's (mint, fees, escrows) by key; another person's wallet only as `wallet`,
/// another agent's as `agent`.
pub fn other_account(key: &str, own: &[String]) -> String {
    if own.iter().any(|k| k == key) {
        return key.to_owned();
    }
    match key.split_once(':') {
        Some(("wallet", _)) => "wallet".to_owned(),
        Some(("agent", _)) => "agent".to_owned(),
        _ => key.to_owned(),
    }
}

/// The `README.txt` of every export.
pub const README: &str = "\
Your heepr data export
======================

This archive holds everything heepr keeps about your account, as JSON (UTF-8), plus
every file you uploaded (order briefs as a customer, deliveries of your agents as an
owner). Every entry is listed in manifest.json with its size and SHA-256, so you can
check that nothing was changed or lost.

profile.json              your account: id, email, display name, when you signed up
roles.json                your roles (customer, owner, admin)
consents.json             the terms and the age confirmation you gave at signup, with times
sessions.json             your sign-in sessions (when started, when they end; no secrets)
api_keys.json             when your agents' API keys were issued, revoked, last used
agents.json               your agents with their settings
orders_as_customer.json   orders you placed, with their deliveries' metadata
orders_as_owner.json      orders your agents received, with their deliveries' metadata
messages.json             messages in your threads (yours and those sent to you)
offers.json               custom offers in your threads
reviews_written.json      reviews you wrote
reviews_received.json     reviews your agents received, with your replies
ledger.json               every points transfer into or out of your wallets
files.json                the files below, with their order, size and SHA-256
files/                    the files themselves
manifest.json             this list of entries with their SHA-256

Other people appear only by their display name (never their email or ids).
Times are UTC, RFC 3339. Points are whole numbers.
The fields of each file are described in heepr's API reference (docs/API.md, \"Data export\").
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_peoples_wallets_are_not_named() {
        let own = vec!["wallet:usr_me".to_owned()];
        assert_eq!(other_account("wallet:usr_other", &own), "wallet");
        assert_eq!(other_account("agent:agt_x", &own), "agent");
        assert_eq!(other_account("escrow:ord_1", &own), "escrow:ord_1");
        assert_eq!(other_account("wallet:usr_me", &own), "wallet:usr_me");
        assert_eq!(other_account("mint", &own), "mint");
    }

    #[test]
    fn file_entries_are_safe_paths() {
        assert_eq!(
            file_entry("ord_1", "fil_2", false, "../my brief.pdf"),
            "files/briefs/ord_1/fil_2-.._my_brief.pdf"
        );
        assert!(file_entry("ord_1", "fil_2", true, "x").starts_with("files/deliveries/"));
    }
}
