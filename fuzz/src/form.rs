//! The form parser and the return-path check.

use gatehouse::return_path::{for_request, validate, validate_on, DEFAULT};
use percent_encoding::percent_decode_str;

/// The hosts the gateway serves apps on, as `Gateway::is_app_host` would
/// say.
fn is_app_host(host: &str) -> bool {
    assert_eq!(
        host,
        host.to_ascii_lowercase(),
        "asked about a host not lower-cased"
    );
    matches!(host, "app.example.com" | "example.com")
}

/// With a first byte below 128, the rest is a form body whose `rd` field
/// is checked, as the sign-in page does; otherwise the rest is `rd` itself.
pub fn form(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode < 128 {
        let rd = gatehouse::fuzzing::form_field(rest, "rd");
        let csrf = gatehouse::fuzzing::form_field(rest, "csrf_token");
        assert!(rest.contains(&b'=') || (rd.is_empty() && csrf.is_empty()));
        return_path(&rd);
    } else if let Ok(rd) = std::str::from_utf8(rest) {
        return_path(rd);
    }
}

/// Checks every answer of the return-path checks on `rd`.
fn return_path(rd: &str) {
    if let Some(ok) = validate(rd) {
        assert_eq!(ok, rd);
        assert_local(rd, rd);
        let once = percent_decode_str(rd).decode_utf8_lossy();
        let path = once.split('?').next().unwrap_or("");
        assert_local(path, rd);
    }
    if let Some(ok) = validate_on(rd, is_app_host) {
        assert_eq!(ok, rd);
        if !rd.starts_with('/') {
            assert_app_url(rd);
        } else {
            assert_local(rd, rd);
        }
    }
    let bounced = for_request(rd);
    assert!(
        bounced == DEFAULT || bounced == rd,
        "for_request({rd:?}) = {bounced:?}"
    );
}

/// A relative path that no browser reads as another host.
fn assert_local(path: &str, rd: &str) {
    assert!(path.starts_with('/'), "{rd:?} accepted, not relative");
    assert!(
        !path.starts_with("//") && !path.starts_with("/\\"),
        "{rd:?} accepted, another host"
    );
    assert!(
        !path.contains(['\\', '@']) && !path.chars().any(|c| c.is_control() || c.is_whitespace()),
        "{rd:?} accepted with a backslash, @, space or control character"
    );
}

/// An absolute URL on an app host, its path as strict as a relative one.
fn assert_app_url(rd: &str) {
    let (scheme, rest) = rd
        .split_once("://")
        .unwrap_or_else(|| panic!("{rd:?} accepted"));
    assert!(
        scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"),
        "{rd:?} accepted with scheme {scheme:?}"
    );
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = authority.split(':').next().unwrap_or("");
    assert!(
        is_app_host(&host.to_ascii_lowercase()),
        "{rd:?} accepted, to host {host:?}"
    );
    assert!(
        !authority.contains(['@', '%', '\\']),
        "{rd:?} accepted with user info or escapes"
    );
    if !tail.is_empty() {
        assert_local(tail, rd);
    }
}
