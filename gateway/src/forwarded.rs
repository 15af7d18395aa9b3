//! What the upstream hears about the original request: `X-Forwarded-For`,
//! `X-Real-IP`, `X-Forwarded-Proto` and `X-Forwarded-Host`.
//!
//! Apps behind a proxy log, or even allow-list, the forwarded address, and
//! build absolute links from the forwarded scheme and host. A client can
//! write any of these headers, so they are only believed from the proxies in
//! `server.trusted_proxies`, the same ones whose `X-Forwarded-For` the rate
//! limits believe. From any other peer Gatehouse writes the address and
//! scheme it saw itself, and drops a sent `X-Forwarded-Host` and
//! `Forwarded` (RFC 7239): `Host` goes upstream unchanged, so the upstream
//! needs neither, and one it trusted would hear a forgery. From a trusted
//! proxy it keeps what the proxy said (the proxy saw the client; Gatehouse
//! only saw the proxy) and appends the proxy to `X-Forwarded-For`.
//!
//! This runs on every proxied request, so names are static (no parsing into
//! an owned name) and an IPv4 address is written without `fmt`.

use std::net::IpAddr;

use http::header::HeaderName;
use http::HeaderValue;
use pingora::http::RequestHeader;

use crate::client_ip::TrustedProxies;

/// Lower-case names, to look up and remove.
const FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const FORWARDED: HeaderName = HeaderName::from_static("forwarded");

/// The usual spellings, to write: Pingora sends a name as it is given.
const FOR_WRITTEN: &str = "X-Forwarded-For";
const REAL_IP_WRITTEN: &str = "X-Real-IP";
const PROTO_WRITTEN: &str = "X-Forwarded-Proto";

/// The forwarding headers' policy for one listener.
#[derive(Debug, Clone)]
pub struct Forwarding {
    scheme: HeaderValue,
    trusted: TrustedProxies,
}

impl Forwarding {
    /// `tls`: whether the listener serves HTTPS, which is then the scheme
    /// the upstream is told unless a trusted proxy says otherwise.
    pub fn new(tls: bool, trusted: TrustedProxies) -> Self {
        Self {
            scheme: HeaderValue::from_static(if tls { "https" } else { "http" }),
            trusted,
        }
    }

    /// Sets the headers on `upstream`, a copy of the request from `peer`
    /// (`None` for a peer with no IP address, which forwards no address).
    pub fn apply(&self, upstream: &mut RequestHeader, peer: Option<IpAddr>) -> pingora::Result<()> {
        match peer.map(|p| p.to_canonical()) {
            Some(peer) if self.trusted.trusts(peer) => self.for_trusted_proxy(upstream, peer),
            Some(peer) => {
                let ip = ip_value(peer);
                upstream.insert_header(FOR_WRITTEN, ip.clone())?;
                upstream.insert_header(REAL_IP_WRITTEN, ip)?;
                self.for_client(upstream)
            }
            None => {
                upstream.remove_header(&FOR);
                upstream.remove_header(REAL_IP_WRITTEN);
                self.for_client(upstream)
            }
        }
    }

    /// The peer is the client: its scheme is the listener's, and what it
    /// said about its host is dropped.
    fn for_client(&self, upstream: &mut RequestHeader) -> pingora::Result<()> {
        upstream.insert_header(PROTO_WRITTEN, self.scheme.clone())?;
        for name in [HOST, FORWARDED] {
            if upstream.headers.contains_key(&name) {
                upstream.remove_header(&name);
            }
        }
        Ok(())
    }

    /// The peer is a trusted proxy: its word stands, and it joins the chain.
    fn for_trusted_proxy(&self, upstream: &mut RequestHeader, peer: IpAddr) -> pingora::Result<()> {
        let client = self.trusted.client_ip(peer, &upstream.headers);
        // Several lines are one list, in order (RFC 9110 §5.3).
        let mut chain = String::new();
        for line in upstream.headers.get_all(FOR) {
            if let Ok(text) = line.to_str() {
                chain.push_str(text);
                chain.push_str(", ");
            }
        }
        chain.push_str(&peer.to_string());
        upstream.insert_header(FOR_WRITTEN, chain)?;
        upstream.insert_header(REAL_IP_WRITTEN, ip_value(client))?;
        if !upstream.headers.contains_key(PROTO) {
            upstream.insert_header(PROTO_WRITTEN, self.scheme.clone())?;
        }
        Ok(())
    }
}

/// An address as a header value. IPv4, the common case, is written by hand:
/// `Ipv4Addr`'s `Display` goes through `fmt` and costs about four times more.
fn ip_value(ip: IpAddr) -> HeaderValue {
    let IpAddr::V4(v4) = ip else {
        return HeaderValue::from_str(&ip.to_string()).expect("an address is a header value");
    };
    let mut buf = [0u8; 15];
    let mut len = 0;
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            buf[len] = b'.';
            len += 1;
        }
        let (hundreds, tens, ones) = (octet / 100, octet / 10 % 10, octet % 10);
        if hundreds > 0 {
            buf[len] = b'0' + hundreds;
            len += 1;
        }
        if hundreds > 0 || tens > 0 {
            buf[len] = b'0' + tens;
            len += 1;
        }
        buf[len] = b'0' + ones;
        len += 1;
    }
    HeaderValue::from_bytes(&buf[..len]).expect("digits and dots are a header value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_ip::parse_proxy;

    const CLIENT: &str = "192.0.2.10";
    const PROXY: &str = "10.0.0.5";

    fn forwarding(tls: bool, trusted: &[&str]) -> Forwarding {
        Forwarding::new(
            tls,
            TrustedProxies::new(trusted.iter().map(|n| parse_proxy(n).unwrap()).collect()),
        )
    }

    /// Applies the policy of a listener (`tls`, `trusted` proxies) to `req`
    /// from `peer`.
    fn apply(req: &mut RequestHeader, tls: bool, trusted: &[&str], peer: &str) {
        forwarding(tls, trusted)
            .apply(req, Some(peer.parse().unwrap()))
            .unwrap();
    }

    fn request(headers: &[(&str, &str)]) -> RequestHeader {
        let mut req = RequestHeader::build("GET", b"/x", None).unwrap();
        req.insert_header("Host", "app.example").unwrap();
        for (name, value) in headers {
            req.append_header(name.to_string(), *value).unwrap();
        }
        req
    }

    fn all(req: &RequestHeader, name: &str) -> Vec<String> {
        req.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    const FORGED: &[(&str, &str)] = &[
        ("X-Forwarded-For", "203.0.113.7"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "evil.example"),
        ("X-Real-IP", "203.0.113.7"),
        ("Forwarded", "for=203.0.113.7;proto=https"),
    ];

    #[test]
    fn a_clients_own_forwarding_headers_are_replaced_by_what_gatehouse_saw() {
        let mut req = request(FORGED);
        apply(&mut req, false, &[], CLIENT);
        assert_eq!(all(&req, "x-forwarded-for"), [CLIENT]);
        assert_eq!(all(&req, "x-real-ip"), [CLIENT]);
        assert_eq!(all(&req, "x-forwarded-proto"), ["http"]);
        assert!(all(&req, "x-forwarded-host").is_empty());
        assert!(all(&req, "forwarded").is_empty());
        // The host the client asked for still goes upstream, as `Host`.
        assert_eq!(all(&req, "host"), ["app.example"]);
    }

    #[test]
    fn over_tls_the_scheme_is_https() {
        let mut req = request(&[]);
        apply(&mut req, true, &[], CLIENT);
        assert_eq!(all(&req, "x-forwarded-proto"), ["https"]);
    }

    #[test]
    fn a_trusted_proxys_headers_are_kept_and_it_joins_the_chain() {
        let mut req = request(&[
            ("X-Forwarded-For", "198.51.100.1, 203.0.113.7"),
            ("X-Forwarded-For", "10.0.0.9"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "public.example"),
            ("Forwarded", "for=203.0.113.7;proto=https"),
        ]);
        apply(&mut req, false, &["10.0.0.0/8"], PROXY);
        assert_eq!(
            all(&req, "x-forwarded-for"),
            ["198.51.100.1, 203.0.113.7, 10.0.0.9, 10.0.0.5"]
        );
        // The client is the first address from the right that is not a
        // trusted proxy, as for the rate limits.
        assert_eq!(all(&req, "x-real-ip"), ["203.0.113.7"]);
        assert_eq!(all(&req, "x-forwarded-proto"), ["https"]);
        assert_eq!(all(&req, "x-forwarded-host"), ["public.example"]);
        assert_eq!(all(&req, "forwarded"), ["for=203.0.113.7;proto=https"]);
    }

    #[test]
    fn a_trusted_proxy_that_says_nothing_gets_gatehouses_view() {
        let mut req = request(&[]);
        apply(&mut req, true, &[PROXY], PROXY);
        assert_eq!(all(&req, "x-forwarded-for"), [PROXY]);
        assert_eq!(all(&req, "x-real-ip"), [PROXY]);
        assert_eq!(all(&req, "x-forwarded-proto"), ["https"]);
        assert!(all(&req, "x-forwarded-host").is_empty());
    }

    #[test]
    fn an_ipv4_mapped_peer_is_written_as_ipv4() {
        let mut req = request(&[]);
        apply(&mut req, false, &[], "::ffff:192.0.2.10");
        assert_eq!(all(&req, "x-forwarded-for"), [CLIENT]);
    }

    #[test]
    fn addresses_are_written_as_std_writes_them() {
        for ip in [
            "0.0.0.0",
            "1.2.3.4",
            "10.0.0.5",
            "100.64.9.99",
            "192.168.100.200",
            "255.255.255.255",
            "2001:db8::1",
            "::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_value(ip).to_str().unwrap(), ip.to_string());
        }
    }

    #[test]
    fn written_names_have_the_usual_spelling() {
        let mut req = request(&[]);
        apply(&mut req, false, &[], CLIENT);
        let mut wire = Vec::new();
        req.header_to_h1_wire(&mut wire);
        let wire = String::from_utf8(wire).unwrap();
        for name in ["X-Forwarded-For: ", "X-Real-IP: ", "X-Forwarded-Proto: "] {
            assert!(wire.contains(name), "{name:?} not in {wire:?}");
        }
    }

    #[test]
    fn a_peer_with_no_address_forwards_no_address() {
        let mut req = request(FORGED);
        forwarding(false, &[]).apply(&mut req, None).unwrap();
        assert!(all(&req, "x-forwarded-for").is_empty());
        assert!(all(&req, "x-real-ip").is_empty());
        assert!(all(&req, "forwarded").is_empty());
        assert_eq!(all(&req, "x-forwarded-proto"), ["http"]);
    }
}
