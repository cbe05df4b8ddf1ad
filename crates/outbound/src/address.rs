//! Which IP addresses an outbound call may reach.
//!
//! A user-supplied URL must not make heepr call into its own network (SSRF): the
//! metadata service at 169.254.169.254, a database on 10.x, an admin port on 127.0.0.1.
//! [`is_blocked`] refuses everything that is not public unicast. IPv6 forms that embed
//! an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by that IPv4 address, so
//! `::ffff:127.0.0.1` is loopback like `127.0.0.1`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 networks that are never a public host: (network, prefix length).
const BLOCKED_V4: &[([u8; 4], u32)] = &[
    ([0, 0, 0, 0], 8),       // "this network" (0.0.0.0 is unspecified)
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // carrier-grade NAT
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local (cloud metadata services live here)
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast (deprecated)
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, and 255.255.255.255 broadcast
];

/// IPv6 networks inside global unicast (2000::/3) that are still not public hosts.
/// Everything outside 2000::/3 is refused wholesale (loopback, unspecified, unique-local
/// fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8, discard
/// 100::/64, local NAT64 64:ff9b:1::/48), except the forms that embed an IPv4 address.
const BLOCKED_V6: &[(u128, u32)] = &[
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 23), // IETF protocol assignments (Teredo, benchmarking, ORCHID)
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // documentation
    (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20), // documentation (RFC 9637)
];

const NAT64: u128 = 0x0064_ff9b_0000_0000_0000_0000_0000_0000; // 64:ff9b::/96
const SIX_TO_FOUR: u128 = 0x2002_0000_0000_0000_0000_0000_0000_0000; // 2002::/16
const GLOBAL_UNICAST: u128 = 0x2000_0000_0000_0000_0000_0000_0000_0000; // 2000::/3

/// Whether an outbound call must not connect to `ip` (unless the policy allows
/// private addresses). True for every address that is not public unicast.
pub fn is_blocked(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_blocked(v4),
        IpAddr::V6(v6) => v6_blocked(v6),
    }
}

fn v4_blocked(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    BLOCKED_V4.iter().any(|&(net, len)| {
        let mask = u32::MAX << (32 - len);
        bits & mask == u32::from_be_bytes(net) & mask
    })
}

fn v6_blocked(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    let within = |net: u128, len: u32| bits & (u128::MAX << (128 - len)) == net;
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_blocked(v4); // ::ffff:a.b.c.d
    }
    if within(NAT64, 96) {
        return v4_blocked(Ipv4Addr::from(bits as u32)); // 64:ff9b::a.b.c.d
    }
    if within(SIX_TO_FOUR, 16) {
        return v4_blocked(Ipv4Addr::from((bits >> 80) as u32)); // 2002:aabb:ccdd::/48
    }
    // ::/96 (unspecified, loopback, deprecated IPv4-compatible) is outside 2000::/3.
    !within(GLOBAL_UNICAST, 3) || BLOCKED_V6.iter().any(|&(net, len)| within(net, len))
}

/// Names that always mean this machine, refused at input time so a URL such as
/// `https://localhost:8080/` gets a clear 422 (the resolver would refuse it anyway,
/// at delivery time, by its loopback answer). RFC 6761 reserves `*.localhost`.
pub(crate) fn is_local_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    matches!(
        host.as_str(),
        "localhost" | "localhost.localdomain" | "ip6-localhost" | "ip6-loopback"
    ) || host.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(s: &str) -> bool {
        is_blocked(s.parse().unwrap())
    }

    #[test]
    fn ipv4_non_public_ranges_are_blocked() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(blocked(ip), "{ip} must be blocked");
        }
    }

    #[test]
    fn ipv4_range_edges_stay_public() {
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ] {
            assert!(!blocked(ip), "{ip} must pass");
        }
    }

    #[test]
    fn ipv6_non_public_ranges_are_blocked() {
        for ip in [
            "::",
            "::1",
            "::127.0.0.1", // deprecated IPv4-compatible
            "::8.8.8.8",   // likewise: not routable, refused whatever it embeds
            "fc00::1",
            "fd12:3456:789a::1",
            "fe80::1",
            "febf:ffff::1",
            "fec0::1",
            "ff02::1",
            "ff05::1:3",
            "100::1",
            "64:ff9b:1::1",
            "2001::1", // Teredo
            "2001:2::1",
            "2001:db8::1",
            "3fff::1",
            "1234::1", // outside 2000::/3
        ] {
            assert!(blocked(ip), "{ip} must be blocked");
        }
    }

    #[test]
    fn ipv6_embedding_ipv4_is_judged_by_the_ipv4() {
        for ip in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            "64:ff9b::127.0.0.1",
            "64:ff9b::10.1.2.3",
            "64:ff9b::a9fe:a9fe", // 169.254.169.254
            "2002:7f00:1::1",     // 6to4 of 127.0.0.1
            "2002:c0a8:101::",    // 6to4 of 192.168.1.1
        ] {
            assert!(blocked(ip), "{ip} must be blocked");
        }
        for ip in ["::ffff:93.184.216.34", "64:ff9b::808:808", "2002:5db8:d822::1"] {
            assert!(!blocked(ip), "{ip} embeds a public IPv4 and must pass");
        }
    }

    #[test]
    fn ipv6_public_addresses_pass() {
        for ip in [
            "2606:4700::1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80e::200e",
            "2001:4860:4860::8888",
        ] {
            assert!(!blocked(ip), "{ip} must pass");
        }
    }

    #[test]
    fn local_names() {
        for name in ["localhost", "LOCALHOST", "localhost.", "api.localhost", "ip6-localhost"] {
            assert!(is_local_name(name), "{name}");
        }
        for name in ["example.com", "localhost.example.com", "mylocalhost"] {
            assert!(!is_local_name(name), "{name}");
        }
    }
}
