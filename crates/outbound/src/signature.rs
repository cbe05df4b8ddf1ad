//! Webhook signatures: HMAC-SHA256 of the body with the webhook's secret.
//!
//! Two header formats. `v1` is the seed's: `sha256=<hex>` over the body alone; it
//! cannot tell a replayed delivery from a fresh one. `v2` signs `"<t>.<body>"` with the
//! send time in the value, `t=<unix>,v1=<hex>`, so a receiver can refuse stale
//! deliveries. Verification compares in constant time (`Mac::verify_slice`).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str) -> HmacSha256 {
    match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC hashes a long key and pads a short one: no length is refused.
        Err(_) => unreachable!("HMAC takes a key of any length"),
    }
}

fn v2_mac(secret: &str, unix: i64, body: &[u8]) -> HmacSha256 {
    let mut m = mac(secret);
    m.update(unix.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The v1 header value: `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn v1(secret: &str, body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(body);
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

/// The v2 header value: `t=<unix>,v1=<hex HMAC-SHA256(secret, "<unix>.<body>")>`.
pub fn v2(secret: &str, unix: i64, body: &[u8]) -> String {
    let m = v2_mac(secret, unix, body);
    format!("t={unix},v1={}", hex::encode(m.finalize().into_bytes()))
}

/// Whether `header` is a valid v1 signature of `body` under `secret`.
pub fn verify_v1(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(sig) = header.trim().strip_prefix("sha256=").and_then(|h| hex::decode(h).ok()) else {
        return false;
    };
    let mut m = mac(secret);
    m.update(body);
    m.verify_slice(&sig).is_ok()
}

/// Whether `header` is a valid v2 signature of `body` under `secret`, sent within
/// `tolerance_secs` of `now_unix` (either side: clocks drift). Several `v1=` entries
/// are accepted, any one matching, so a sender can sign with an old and a new secret
/// while a secret is rotated.
pub fn verify_v2(secret: &str, body: &[u8], header: &str, now_unix: i64, tolerance_secs: i64) -> bool {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) if t.is_none() => t = v.parse::<i64>().ok(),
            Some(("t", _)) => return false, // two timestamps: ambiguous
            Some(("v1", v)) => sigs.extend(hex::decode(v).ok()),
            _ => {} // unknown schemes are ignored, as receivers of such headers do
        }
    }
    let Some(t) = t else { return false };
    let Ok(tolerance) = u64::try_from(tolerance_secs) else {
        return false;
    };
    if now_unix.abs_diff(t) > tolerance {
        return false;
    }
    let m = v2_mac(secret, t, body);
    sigs.iter().any(|sig| m.clone().verify_slice(sig).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOX: &[u8] = b"The quick brown fox jumps over the lazy dog";

    #[test]
    fn v1_matches_the_published_hmac_sha256_vector() {
        assert_eq!(
            v1("key", FOX),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn known_answers_for_a_fixed_secret_and_body() {
        // Computed independently (Python's hmac module).
        let body = b"{\"k\":1}";
        assert_eq!(
            v1("whsec_test", body),
            "sha256=27b8e10f23296d44b741fd2395e981abe735a2832b25fc9f09381f9b83e7bca3"
        );
        assert_eq!(
            v2("whsec_test", 1_700_000_000, body),
            "t=1700000000,v1=b068b52745d1fcfdcd99de9fef7c849d49efcaab0423c672e92bb1ec94cdb01c"
        );
    }

    #[test]
    fn verify_v1_accepts_its_own_and_rejects_changes() {
        let header = v1("secret", b"{\"order\":1}");
        assert!(verify_v1("secret", b"{\"order\":1}", &header));
        assert!(!verify_v1("secret", b"{\"order\":2}", &header), "changed body");
        assert!(!verify_v1("other", b"{\"order\":1}", &header), "wrong secret");
        assert!(
            !verify_v1("secret", b"{\"order\":1}", header.trim_start_matches("sha256=")),
            "no prefix"
        );
        assert!(!verify_v1("secret", b"{\"order\":1}", "sha256=zz"), "not hex");
        assert!(
            !verify_v1("secret", b"{\"order\":1}", &header[..header.len() - 2]),
            "truncated"
        );
    }

    #[test]
    fn verify_v2_accepts_fresh_and_rejects_changed_wrong_or_stale() {
        let body = b"{\"event\":\"order.placed\"}";
        let header = v2("secret", 1_700_000_000, body);
        assert!(verify_v2("secret", body, &header, 1_700_000_000, 300));
        assert!(verify_v2("secret", body, &header, 1_700_000_300, 300), "at the edge");
        assert!(
            verify_v2("secret", body, &header, 1_699_999_800, 300),
            "receiver clock behind"
        );
        assert!(!verify_v2("secret", b"{}", &header, 1_700_000_000, 300), "changed body");
        assert!(!verify_v2("wrong", body, &header, 1_700_000_000, 300), "wrong secret");
        assert!(!verify_v2("secret", body, &header, 1_700_000_301, 300), "stale");
        assert!(
            !verify_v2("secret", body, &header, 1_700_000_000, -1),
            "negative tolerance"
        );
        let moved = header.replace("t=1700000000", "t=1700000100");
        assert!(
            !verify_v2("secret", body, &moved, 1_700_000_100, 300),
            "timestamp changed"
        );
    }

    #[test]
    fn verify_v2_parsing() {
        let body = b"x";
        let good = v2("new", 10, body);
        let sig = good.split_once(",v1=").unwrap().1;
        let old = v2("old", 10, body);
        let old_sig = old.split_once(",v1=").unwrap().1;
        // Rotation: either secret's signature verifies.
        let both = format!("t=10,v1={old_sig},v1={sig}");
        assert!(verify_v2("new", body, &both, 10, 5));
        assert!(verify_v2("old", body, &both, 10, 5));
        assert!(verify_v2("new", body, &format!(" t=10 , v0=abc, v1={sig} "), 10, 5));
        assert!(!verify_v2("new", body, &format!("v1={sig}"), 10, 5), "no timestamp");
        assert!(!verify_v2("new", body, "t=10", 10, 5), "no signature");
        assert!(
            !verify_v2("new", body, &format!("t=10,t=11,v1={sig}"), 10, 5),
            "two timestamps"
        );
        assert!(
            !verify_v2("new", body, &format!("t=ten,v1={sig}"), 10, 5),
            "bad timestamp"
        );
        assert!(
            !verify_v2("new", body, &format!("t=10,v1={sig}"), i64::MIN, 5),
            "no overflow"
        );
    }
}
