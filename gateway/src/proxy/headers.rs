//! Header hygiene: what a client may not say, and what the upstream hears.
//!
//! Identity headers are the upstream's whole notion of who is calling, so a
//! client-sent copy must never survive. Path overrides (`X-Original-URL`)
//! make some upstreams serve another path than the one Gatehouse routed on,
//! so a client could reach a protected path through a bypass rule. Servers
//! disagree on whether `Remote_User` or `remote.user` mean `Remote-User`
//! (CGI maps `-` and `_` alike), so names are compared after folding case,
//! `_` and `.` to `-`.

use http::HeaderValue;
use pingora::http::RequestHeader;

/// Identity header names, folded (lower case, `-` for `_` and `.`).
const IDENTITY_HEADERS: &[&str] = &[
    "remote-user",
    "remote-email",
    "remote-groups",
    "remote-name",
    "x-remote-user",
    "x-forwarded-user",
    "x-forwarded-email",
    "x-forwarded-groups",
    "x-forwarded-preferred-username",
    "x-webauth-user",
];

/// Prefixes whose every header is identity-bearing.
const IDENTITY_PREFIXES: &[&str] = &["remote-", "x-auth-request-", "x-gatehouse-identity"];

/// Path overrides, folded: headers that some upstreams read as the
/// request's path (or its prefix) instead of the request line. Symfony
/// before 4.1, Zend and IIS URL Rewrite read `X-Original-URL` and
/// `X-Rewrite-URL`; nginx `auth_request` setups and forward-auth
/// middlewares pass `X-Original-URI` and `X-Forwarded-Uri`; Spring's
/// `ForwardedHeaderFilter` and apps behind a path-stripping proxy read
/// `X-Forwarded-Prefix` and `X-Forwarded-Path`; Envoy keeps
/// `X-Envoy-Original-Path`. A client's copy could make the upstream serve a
/// path other than the one Gatehouse routed on. Public, and folded like
/// [`HeaderMap`](http::HeaderMap) names, so that a reader of a trusted
/// proxy's copy (forward-auth) consults the same list.
pub const PATH_OVERRIDE_HEADERS: &[&str] = &[
    "x-original-url",
    "x-rewrite-url",
    "x-original-uri",
    "x-forwarded-uri",
    "x-forwarded-path",
    "x-forwarded-prefix",
    "x-original-path",
    "x-envoy-original-path",
];

/// Forwarding headers, which `crate::forwarded` writes. Spelt with `-` they
/// are replaced there; spelt any other way they are a forgery aimed at an
/// upstream that folds `_` to `-` (CGI, PHP's `HTTP_X_FORWARDED_FOR`).
const FORWARDING_HEADERS: &[&str] = &[
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-real-ip",
];

fn listed(list: &[&str], folded: &[u8]) -> bool {
    list.iter().any(|h| h.as_bytes() == folded)
}

fn identity_prefixed(folded: &[u8]) -> bool {
    IDENTITY_PREFIXES
        .iter()
        .any(|p| folded.starts_with(p.as_bytes()))
}

/// Whether a client may not send this header upstream: an identity header
/// or a path override however spelt, or a forwarding header spelt with `_`
/// or `.`.
pub fn is_forged(name: &str) -> bool {
    let mut buf = [0u8; 64];
    let Some(folded) = fold(name, &mut buf) else {
        // Longer than any listed name, but check the prefixes anyway.
        return identity_prefixed(fold_long(name).as_bytes());
    };
    listed(IDENTITY_HEADERS, folded)
        || identity_prefixed(folded)
        || listed(PATH_OVERRIDE_HEADERS, folded)
        || (listed(FORWARDING_HEADERS, folded) && name.bytes().any(|b| b == b'_' || b == b'.'))
}

/// Whether `name` is one of [`PATH_OVERRIDE_HEADERS`], however spelt (any
/// case, `_` or `.` for `-`).
pub fn is_path_override(name: &str) -> bool {
    let mut buf = [0u8; 64];
    fold(name, &mut buf).is_some_and(|folded| listed(PATH_OVERRIDE_HEADERS, folded))
}

/// `name` in lower case with `_` and `.` as `-`, in `buf`; `None` if it is
/// longer than `buf`, and so longer than any name in the lists above.
fn fold<'a>(name: &str, buf: &'a mut [u8; 64]) -> Option<&'a [u8]> {
    let bytes = name.as_bytes();
    if bytes.len() > buf.len() {
        return None;
    }
    for (dst, &b) in buf.iter_mut().zip(bytes) {
        *dst = match b {
            b'_' | b'.' => b'-',
            b => b.to_ascii_lowercase(),
        };
    }
    Some(&buf[..bytes.len()])
}

fn fold_long(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '_' | '.' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The path overrides that carry a forward-auth proxy's original request
/// (`X-Forwarded-Uri` for Traefik and Caddy, `X-Original-URL` for nginx),
/// spelt as those proxies spell them. The forward-auth endpoints read them,
/// and only from a trusted proxy; they never forward a request upstream.
pub const FORWARD_AUTH_HEADERS: &[&str] = &["x-forwarded-uri", "x-original-url"];

/// Removes every header a client may not send upstream (see [`is_forged`]).
pub fn strip_forged(req: &mut RequestHeader) {
    strip_forged_unless_forward_auth(req, false);
}

/// [`strip_forged`], but `forward_auth` keeps [`FORWARD_AUTH_HEADERS`]
/// for a request that a forward-auth endpoint answers and that goes
/// nowhere else.
pub fn strip_forged_unless_forward_auth(req: &mut RequestHeader, forward_auth: bool) {
    let kept = |name: &str| forward_auth && FORWARD_AUTH_HEADERS.contains(&name);
    let doomed: Vec<http::HeaderName> = req
        .headers
        .keys()
        .filter(|name| is_forged(name.as_str()) && !kept(name.as_str()))
        .cloned()
        .collect();
    for name in doomed {
        req.remove_header(&name);
    }
}

/// Removes the named cookies from the `Cookie` header(s), keeping the rest
/// for the upstream app. Returns whether anything changed.
pub fn strip_cookies(req: &mut RequestHeader, names: &[&str]) -> pingora::Result<bool> {
    let values: Vec<HeaderValue> = req
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .cloned()
        .collect();
    if values.is_empty() {
        return Ok(false);
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut changed = false;
    for value in &values {
        let Ok(text) = value.to_str() else {
            continue;
        };
        for pair in text.split(';') {
            let pair = pair.trim();
            let name = pair.split('=').next().unwrap_or("").trim();
            if names.contains(&name) {
                changed = true;
            } else if !pair.is_empty() {
                kept.push(pair);
            }
        }
    }
    if !changed {
        return Ok(false);
    }
    let joined = kept.join("; ");
    req.remove_header(&http::header::COOKIE);
    if !joined.is_empty() {
        req.insert_header(http::header::COOKIE, joined)?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarding_headers_are_forged_only_when_spelt_another_way() {
        for name in [
            "x_forwarded_for",
            "X_Forwarded_Proto",
            "x.forwarded.host",
            "x_real_ip",
        ] {
            assert!(is_forged(name), "{name}");
        }
        for name in [
            "x-forwarded-for",
            "X-Real-IP",
            "x_forwarded_port",
            "accept_language",
        ] {
            assert!(!is_forged(name), "{name}");
        }
    }

    #[test]
    fn path_overrides_are_forged_however_spelt() {
        for name in [
            "X-Original-URL",
            "x_original_url",
            "X-Rewrite-Url",
            "x.rewrite.url",
            "X-Forwarded-Uri",
            "X_Forwarded_Uri",
            "X-Original-URI",
            "x.original.uri",
            "X-Forwarded-Path",
            "x_forwarded_path",
            "X-Forwarded-Prefix",
            "X.Forwarded.Prefix",
            "X-Original-Path",
            "x_original_path",
            "X-Envoy-Original-Path",
            "x_envoy_original_path",
        ] {
            assert!(is_forged(name), "{name}");
            assert!(is_path_override(name), "{name}");
        }
        assert!(is_forged("Remote_User"));
        assert!(!is_path_override("Remote-User"));
        for name in ["X-Original-Host", "X-Forwarded-Port", "X-Request-Id"] {
            assert!(!is_forged(name), "{name}");
            assert!(!is_path_override(name), "{name}");
        }
    }

    #[test]
    fn the_path_override_list_is_folded_for_header_map_lookups() {
        // A forward-auth reader looks these names up in a HeaderMap, whose
        // names are lower case; `_` and `.` spellings are never listed.
        for name in PATH_OVERRIDE_HEADERS {
            assert_eq!(http::HeaderName::from_static(name).as_str(), *name);
            assert!(!name.contains(['_', '.']), "{name}");
        }
    }

    #[test]
    fn every_spelling_of_an_identity_header_is_recognised() {
        for name in [
            "Remote-User",
            "remote_user",
            "REMOTE.USER",
            "Remote-Groups",
            "X-Forwarded-User",
            "x_forwarded_email",
            "X-Auth-Request-Email",
            "remote-anything",
        ] {
            assert!(is_forged(name), "{name}");
        }
        for name in [
            "Accept",
            "Cookie",
            "X-Forwarded-For",
            "X-Forwarded-Proto",
            "Authorization",
        ] {
            assert!(!is_forged(name), "{name}");
        }
    }

    #[test]
    fn stripping_removes_spoofed_headers_and_keeps_the_rest() {
        let mut req = RequestHeader::build("GET", b"/", None).unwrap();
        req.append_header("Remote-User", "admin").unwrap();
        req.append_header("remote_user", "admin").unwrap();
        req.append_header("X-Forwarded-User", "admin").unwrap();
        req.append_header("Accept", "text/html").unwrap();
        strip_forged(&mut req);
        assert_eq!(req.headers.len(), 1);
        assert!(req.headers.get("accept").is_some());
    }

    #[test]
    fn stripping_removes_every_path_override() {
        let mut req = RequestHeader::build("GET", b"/public/page", None).unwrap();
        for name in PATH_OVERRIDE_HEADERS {
            req.append_header(name.to_string(), "/admin").unwrap();
        }
        req.append_header("x_forwarded_uri", "/admin").unwrap();
        req.append_header("X.Original.URI", "/admin").unwrap();
        req.append_header("X-Original-Host", "app.example.com")
            .unwrap();
        strip_forged(&mut req);
        let left: Vec<&str> = req.headers.keys().map(|n| n.as_str()).collect();
        assert_eq!(left, ["x-original-host"]);
    }

    #[test]
    fn a_forward_auth_request_keeps_only_the_original_request_headers() {
        let mut req = RequestHeader::build("GET", b"/.gatehouse/auth/forward", None).unwrap();
        for name in PATH_OVERRIDE_HEADERS {
            req.append_header(name.to_string(), "/admin").unwrap();
        }
        req.append_header("x_forwarded_uri", "/admin").unwrap();
        req.append_header("Remote-User", "admin").unwrap();
        strip_forged_unless_forward_auth(&mut req, true);
        let mut left: Vec<&str> = req.headers.keys().map(|n| n.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["x-forwarded-uri", "x-original-url"]);
    }

    #[test]
    fn only_the_named_cookies_are_removed() {
        let mut req = RequestHeader::build("GET", b"/", None).unwrap();
        req.append_header("Cookie", "a=1; gatehouse_session=secret")
            .unwrap();
        req.append_header("Cookie", "b=2").unwrap();
        assert!(strip_cookies(&mut req, &["gatehouse_session"]).unwrap());
        assert_eq!(req.headers.get("cookie").unwrap(), "a=1; b=2");
        assert_eq!(crate::cookies::cookie_value(&req, "b"), Some("2"));
        assert_eq!(
            crate::cookies::cookie_value(&req, "gatehouse_session"),
            None
        );
    }
}
