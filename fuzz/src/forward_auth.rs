//! The forward-auth header readers: what `auth/forward` and `auth/request`
//! make of a proxy's description of its request, and the bearer token.

use gatehouse::fuzzing::{bearer, forward_auth as describe, Described};
use pingora::http::RequestHeader;

use crate::has_dot_or_empty_segment;

/// The first byte picks the endpoint and whether the peer is a trusted
/// proxy; the first line of the rest is the request target (skipped unless
/// it is at that endpoint, as the portal's dispatch would), and each
/// further line a `Name: value` header.
pub fn forward_auth(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut lines = rest.split(|&b| b == b'\n');
    let target = lines.next().unwrap_or(b"/");
    let Ok(mut head) = RequestHeader::build("GET", target, None) else {
        return;
    };
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name),
            http::HeaderValue::from_bytes(value.trim_ascii()),
        ) else {
            continue;
        };
        let _ = head.append_header(name, value);
    }
    if let Some(token) = bearer(&head) {
        assert_eq!(token, token.trim(), "a bearer token kept its spaces");
        let sent = head
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        assert!(
            sent.is_some_and(|v| v.contains(token)),
            "a token from nowhere"
        );
    }
    let (trusted, nginx) = (pick & 1 == 1, pick & 2 == 2);
    // The portal hands a request to forward auth only at its endpoint.
    let endpoint = if nginx {
        "/.gatehouse/auth/request"
    } else {
        "/.gatehouse/auth/forward"
    };
    if gatehouse::route::normalise(head.uri.path()).ok().as_deref() != Some(endpoint) {
        return;
    }
    let as_sent = head.uri.path_and_query().map(|pq| pq.as_str().to_owned());
    match describe(head, trusted, nginx) {
        Ok(described) => check(&described, trusted, as_sent.as_deref()),
        Err(reason) => assert!(!reason.is_empty()),
    }
}

/// What any description believed must be: a known method, http or https,
/// a plain host, a target of no control characters, and its normalised
/// path.
fn check(d: &Described, trusted: bool, as_sent: Option<&str>) {
    assert!(d.scheme == "http" || d.scheme == "https", "{d:?}");
    assert!(
        d.method.bytes().all(|b| b.is_ascii_uppercase()),
        "an unknown method believed: {d:?}"
    );
    assert!(
        d.target.starts_with('/'),
        "a target that is not a path: {d:?}"
    );
    assert!(
        !d.target.contains('#') && !d.target.bytes().any(|b| b.is_ascii_control() || b == b' '),
        "{d:?}"
    );
    assert!(
        d.path.starts_with('/') && !has_dot_or_empty_segment(&d.path),
        "{d:?}"
    );
    let raw_path = d.target.split('?').next().unwrap_or("/");
    assert_eq!(
        gatehouse::route::normalise(raw_path).ok().as_deref(),
        Some(d.path.as_str()),
        "the path is not the target's: {d:?}"
    );
    if trusted {
        if let Some(host) = &d.host {
            assert!(
                !host.is_empty()
                    && host.bytes().all(|b| b.is_ascii_alphanumeric()
                        || matches!(b, b'-' | b'.' | b'_' | b':' | b'[' | b']')),
                "a host with user info or a path believed: {d:?}"
            );
        }
    } else {
        // From anyone else, the request is judged as what it is.
        assert_eq!(
            Some(d.target.as_str()),
            as_sent,
            "an untrusted description believed"
        );
    }
}
