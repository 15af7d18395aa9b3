//! Listen addresses, upstream addresses and app host names.

use std::net::{Ipv6Addr, SocketAddr};

use super::error::{quote, Problem};
use super::settings::Upstream;

const UPSTREAM_FORMS: &str = "expected http://host:port, https://host:port or host:port";

/// A listen address: an IP and a port, nothing to resolve.
pub(crate) fn parse_socket_addr(key: &str, text: &str) -> Result<SocketAddr, Problem> {
    text.trim().parse::<SocketAddr>().map_err(|_| {
        Problem::new(
            key,
            format!(
                "invalid address {}: expected IP:PORT, e.g. \"0.0.0.0:8080\" or \"[::]:8080\"",
                quote(text)
            ),
        )
    })
}

/// One upstream: `http://host[:port]`, `https://host[:port]` or `host:port`.
pub(crate) fn parse_upstream(key: &str, text: &str) -> Result<Upstream, Problem> {
    let bad =
        |reason: String| Problem::new(key, format!("invalid upstream {}: {reason}", quote(text)));
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(bad(format!("empty ({UPSTREAM_FORMS})")));
    }
    let (tls, default_port, rest) = match trimmed.split_once("://") {
        Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
            "http" => (false, Some(80), rest),
            "https" => (true, Some(443), rest),
            _ => {
                return Err(bad(format!(
                    "unsupported scheme {} ({UPSTREAM_FORMS})",
                    quote(scheme)
                )))
            }
        },
        None => (false, None, trimmed),
    };
    if rest.contains(['?', '#']) {
        return Err(bad("must not have a query or fragment".to_string()));
    }
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if !path.is_empty() && path != "/" {
        return Err(bad(format!(
            "must not have a path (got {}); the request path is forwarded unchanged",
            quote(path)
        )));
    }
    if authority.contains('@') {
        return Err(bad("must not contain credentials".to_string()));
    }
    let (host, port, ipv6) = split_host_port(authority).map_err(&bad)?;
    let port = match (port, default_port) {
        (Some(port), _) => parse_port(port).map_err(&bad)?,
        (None, Some(default)) => default,
        (None, None) => {
            return Err(bad(format!(
                "a port is required without a scheme ({UPSTREAM_FORMS}, e.g. 127.0.0.1:3000)"
            )))
        }
    };
    let host = host.to_ascii_lowercase();
    if ipv6 {
        host.parse::<Ipv6Addr>()
            .map_err(|_| bad(format!("invalid IPv6 address {}", quote(&host))))?;
    } else {
        check_host_name(&host).map_err(&bad)?;
    }
    let address = if ipv6 {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok(Upstream {
        address,
        tls,
        sni: host,
    })
}

/// Splits `host`, `host:port`, `[v6]` or `[v6]:port`; the bool says "IPv6".
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>, bool), String> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| "unclosed '[' in IPv6 address".to_string())?;
        return match after {
            "" => Ok((host, None, true)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port), true)),
                None => Err(format!("unexpected {} after ']'", quote(after))),
            },
        };
    }
    match authority.split_once(':') {
        None => Ok((authority, None, false)),
        Some((_, rest)) if rest.contains(':') => {
            Err("an IPv6 address must be written in brackets, e.g. [::1]:3000".to_string())
        }
        Some((host, port)) => Ok((host, Some(port), false)),
    }
}

fn parse_port(port: &str) -> Result<u16, String> {
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("invalid port {} (1-65535)", quote(port))),
        Ok(port) => Ok(port),
    }
}

/// A DNS name or IPv4 address: dot-separated labels of letters, digits, `-`
/// and `_` (container names often have one).
fn check_host_name(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("missing host".to_string());
    }
    if host.len() > 253 {
        return Err("host name longer than 253 characters".to_string());
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if host.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(format!(
            "invalid host name {} (letters, digits, '-', '_' and dots only)",
            quote(host)
        ))
    }
}

/// `apps[].host`: a bare host name, matched against the Host header.
pub(crate) fn parse_app_host(key: &str, text: &str) -> Result<String, Problem> {
    let host = text.trim().to_ascii_lowercase();
    let bad = |reason: &str| Problem::new(key, format!("invalid host {}: {reason}", quote(text)));
    if host.contains("://") {
        return Err(bad("write the host name only, without a scheme"));
    }
    if host.contains('/') {
        return Err(bad("write the host name only, without a path"));
    }
    if host.contains(':') {
        return Err(bad(
            "must not include a port (the Host header is matched without its port)",
        ));
    }
    check_host_name(&host).map_err(|reason| bad(&reason))?;
    Ok(host)
}

/// A URL must start with one of `schemes` and have something after it.
pub(super) fn check_url(url: &str, schemes: &[&str]) -> Result<(), String> {
    let rest = schemes.iter().find_map(|s| url.strip_prefix(s));
    match rest {
        Some(rest) if !rest.trim().is_empty() => Ok(()),
        Some(_) => Err(format!("incomplete URL {}", quote(url))),
        None => Err(format!(
            "unsupported URL {} (must start with {})",
            quote(url),
            schemes.join(" or ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(text: &str) -> Upstream {
        parse_upstream("k", text).unwrap_or_else(|p| panic!("{text}: {}", p.message))
    }

    fn up_err(text: &str) -> String {
        match parse_upstream("k", text) {
            Ok(u) => panic!("{text} accepted as {u:?}"),
            Err(p) => p.message,
        }
    }

    #[test]
    fn schemes_default_their_ports_and_set_tls() {
        assert_eq!(
            up("http://app.internal"),
            Upstream {
                address: "app.internal:80".into(),
                tls: false,
                sni: "app.internal".into()
            }
        );
        assert_eq!(
            up("HTTPS://App.Internal/"),
            Upstream {
                address: "app.internal:443".into(),
                tls: true,
                sni: "app.internal".into()
            }
        );
        assert_eq!(up("https://10.0.0.5:8443").address, "10.0.0.5:8443");
    }

    #[test]
    fn bare_host_port_is_plain_http() {
        let u = up("127.0.0.1:3000");
        assert_eq!(u.address, "127.0.0.1:3000");
        assert!(!u.tls);
        assert_eq!(u.sni, "127.0.0.1");
    }

    #[test]
    fn bracketed_ipv6_upstreams_are_accepted() {
        let u = up("http://[::1]:3000");
        assert_eq!(u.address, "[::1]:3000");
        assert_eq!(u.sni, "::1");
        assert_eq!(up("[::1]:8080").address, "[::1]:8080");
    }

    #[test]
    fn malformed_upstreams_are_rejected_with_a_reason() {
        assert!(up_err("127.0.0.1").contains("port is required"));
        assert!(up_err("ftp://x:21").contains("unsupported scheme \"ftp\""));
        assert!(up_err("http://x:80/app").contains("must not have a path"));
        assert!(up_err("http://x:80/?a=b").contains("query"));
        assert!(up_err("http://u:p@x:80").contains("credentials"));
        assert!(up_err("x:0").contains("invalid port"));
        assert!(up_err("x:99999").contains("invalid port"));
        assert!(up_err("::1:80").contains("brackets"));
        assert!(up_err("http://:80").contains("missing host"));
        assert!(up_err("http://a b:80").contains("invalid host name"));
        assert!(up_err("").contains("empty"));
    }

    #[test]
    fn listen_address_must_be_ip_and_port() {
        assert!(parse_socket_addr("listen", "0.0.0.0:8080").is_ok());
        assert!(parse_socket_addr("listen", "[::]:8080").is_ok());
        let err = parse_socket_addr("listen", "localhost:8080").unwrap_err();
        assert_eq!(err.key, "listen");
        assert!(
            err.message.contains("\"localhost:8080\""),
            "{}",
            err.message
        );
        assert!(err.message.contains("IP:PORT"), "{}", err.message);
    }

    #[test]
    fn app_host_is_lower_cased_and_bare() {
        assert_eq!(
            parse_app_host("h", "Wiki.Example.COM"),
            Ok("wiki.example.com".to_string())
        );
        assert!(parse_app_host("h", "wiki.example.com:443")
            .unwrap_err()
            .message
            .contains("port"));
        assert!(parse_app_host("h", "https://wiki.example.com")
            .unwrap_err()
            .message
            .contains("scheme"));
        assert!(parse_app_host("h", "wiki..example.com").is_err());
        assert!(parse_app_host("h", "").is_err());
    }
}
