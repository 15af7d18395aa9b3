//! Which address a request comes from.
//!
//! Rate limits and the audit log key on the client's IP. Straight from the
//! internet, that is the TCP peer. Behind a load balancer or a TLS
//! terminator, every peer is the proxy, so one client's failures would lock
//! out everyone; the real address is in `X-Forwarded-For`. But that header
//! is whatever the sender wrote, so it is believed only as far as the chain
//! of proxies the config trusts (`server.trusted_proxies`): read from the
//! right, each entry a trusted proxy appended, up to the first address that
//! is not a trusted proxy. That is the client. Entries to its left were
//! written by the client and are ignored, so a client cannot pick its
//! address to dodge a lockout.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use ipnet::IpNet;
use pingora::proxy::Session;

/// The TCP peer's address; `None` for a Unix-socket peer.
pub fn peer_ip(session: &Session) -> Option<IpAddr> {
    session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map(|a| a.ip())
}

/// The proxies whose `X-Forwarded-For` entries are believed; empty (the
/// default) believes none, and the TCP peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self { nets }
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request from `peer` with `headers`.
    ///
    /// A malformed entry stops the walk: the address that appended it, the
    /// last one believed, is taken as the client.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        // Several X-Forwarded-For lines read as one list, in order; a line
        // that is not text is one malformed entry.
        let mut entries: Vec<Option<&str>> = Vec::new();
        for line in headers.get_all("x-forwarded-for") {
            match line.to_str() {
                Ok(text) => entries.extend(text.split(',').map(Some)),
                Err(_) => entries.push(None),
            }
        }
        for entry in entries.iter().rev() {
            let Some(ip) = entry.and_then(|e| parse_entry(e.trim())) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// A `server.trusted_proxies` entry: an address (`10.0.0.1`) or a CIDR
/// range (`10.0.0.0/8`); host bits in a range are dropped.
pub fn parse_proxy(entry: &str) -> Option<IpNet> {
    let net = entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .ok()?;
    Some(net.trunc())
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (some
/// proxies write `192.0.2.1:4711` or `[2001:db8::1]:4711`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let ip = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            let bracketed = entry.strip_prefix('[')?.strip_suffix(']')?;
            bracketed.parse::<IpAddr>().ok()
        })?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(nets: &[&str]) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| parse_proxy(n).unwrap()).collect())
    }

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append("x-forwarded-for", line.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        let forged = headers(&["203.0.113.7"]);
        assert_eq!(
            none.client_ip(ip("198.51.100.2"), &forged),
            ip("198.51.100.2")
        );
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let proxies = trusted(&["10.0.0.0/8"]);
        let forged = headers(&["10.0.0.5, 203.0.113.7"]);
        assert_eq!(
            proxies.client_ip(ip("198.51.100.2"), &forged),
            ip("198.51.100.2")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_address_it_saw_is_the_client() {
        let proxies = trusted(&["10.0.0.1"]);
        let chain = headers(&["203.0.113.7"]);
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &chain), ip("203.0.113.7"));
    }

    #[test]
    fn entries_the_client_wrote_are_ignored() {
        let proxies = trusted(&["10.0.0.0/8"]);
        // The client sent "1.2.3.4"; the trusted proxy appended the client's
        // real address, then a second trusted hop appended the first.
        let chain = headers(&["1.2.3.4, 203.0.113.7, 10.0.0.9"]);
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &chain), ip("203.0.113.7"));
    }

    #[test]
    fn several_header_lines_read_as_one_list() {
        let proxies = trusted(&["10.0.0.0/8"]);
        let chain = headers(&["1.2.3.4", "203.0.113.7", "10.0.0.9"]);
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &chain), ip("203.0.113.7"));
    }

    #[test]
    fn a_chain_of_only_trusted_proxies_yields_the_first() {
        let proxies = trusted(&["10.0.0.0/8"]);
        let chain = headers(&["10.0.0.3, 10.0.0.9"]);
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &chain), ip("10.0.0.3"));
    }

    #[test]
    fn a_trusted_peer_without_the_header_is_the_client() {
        let proxies = trusted(&["10.0.0.0/8"]);
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn a_malformed_entry_stops_at_the_last_address_believed() {
        let proxies = trusted(&["10.0.0.0/8"]);
        let chain = headers(&["203.0.113.7, not-an-ip, 10.0.0.9"]);
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &chain), ip("10.0.0.9"));
        let empty = headers(&["203.0.113.7,,"]);
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &empty), ip("10.0.0.1"));
        let mut binary = headers(&["203.0.113.7"]);
        binary.append(
            "x-forwarded-for",
            http::HeaderValue::from_bytes(b"10.0.0.9\xff").unwrap(),
        );
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &binary), ip("10.0.0.1"));
    }

    #[test]
    fn entries_with_ports_and_ipv6_are_understood() {
        let proxies = trusted(&["10.0.0.0/8", "fd00::/8"]);
        let chain = headers(&["[2001:db8::7]:4711, 10.0.0.9:80"]);
        assert_eq!(proxies.client_ip(ip("fd00::1"), &chain), ip("2001:db8::7"));
        let bare = headers(&["[2001:db8::8]"]);
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &bare), ip("2001:db8::8"));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_ranges() {
        let proxies = trusted(&["10.0.0.0/8"]);
        let chain = headers(&["203.0.113.7"]);
        assert_eq!(
            proxies.client_ip(ip("::ffff:10.0.0.1"), &chain),
            ip("203.0.113.7")
        );
        assert_eq!(
            proxies.client_ip(ip("::ffff:198.51.100.2"), &chain),
            ip("198.51.100.2")
        );
    }
}
