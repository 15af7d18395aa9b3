//! The `rd` return path: where to go after signing in.
//!
//! Only a path on this same site is accepted. Browsers are generous readers
//! of URLs: `//evil` and `/\evil` are both another host, tabs and newlines are
//! dropped, and `%2F%2Fevil` turns into `//evil` once something decodes it.
//! So the rule is strict: one leading `/`, then no backslash, no `@`, no
//! control or white space, and none of that hidden behind percent-encoding.
//!
//! The one exception is an absolute `http(s)` URL whose host is a configured
//! app host ([`validate_on`]): forward auth sends the browser to sign in
//! from another host's page, and it must get back there. Its authority may
//! hold only a host name and a port (no user info, no encoding), and its
//! path passes the same strict check as a relative one.

use percent_encoding::percent_decode_str;

/// Where to go when `rd` is absent or refused.
pub const DEFAULT: &str = "/";

/// Returns `rd` if it is a safe same-site path, else `None`.
pub fn validate(rd: &str) -> Option<&str> {
    if rd.is_empty() || rd.len() > 2048 {
        return None;
    }
    if !is_plain_local_path(rd) {
        return None;
    }
    // The same, once and twice decoded, in case something downstream decodes
    // it: for the path strictly, for the query only no control characters
    // (an encoded space in a query is ordinary).
    let once = percent_decode_str(rd).decode_utf8().ok()?;
    let twice = percent_decode_str(&once).decode_utf8().ok()?;
    for decoded in [&once, &twice] {
        let (path, query) = decoded.split_once('?').unwrap_or((decoded, ""));
        if !is_plain_local_path(path) || query.chars().any(char::is_control) {
            return None;
        }
    }
    Some(rd)
}

/// Returns `rd` if it is a safe same-site path, or an absolute `http(s)`
/// URL on a host for which `is_app_host` (given the lower-case host name,
/// no port) holds; else `None`.
pub fn validate_on(rd: &str, is_app_host: impl Fn(&str) -> bool) -> Option<&str> {
    if rd.starts_with('/') {
        return validate(rd);
    }
    if rd.len() > 2048 {
        return None;
    }
    let (scheme, rest) = rd.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = plain_host(authority)?;
    if !is_app_host(&host.to_ascii_lowercase()) {
        return None;
    }
    (tail.is_empty() || validate(tail).is_some()).then_some(rd)
}

/// The host of an authority that is only `host` or `host:port`, with a host
/// name of letters, digits, `-`, `_` and dots.
fn plain_host(authority: &str) -> Option<&str> {
    let (host, port) = authority.split_once(':').unwrap_or((authority, "80"));
    let host_ok = !host.is_empty()
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let port_ok = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    (host_ok && port_ok).then_some(host)
}

fn is_plain_local_path(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/') | Some('\\'))
        && !s
            .chars()
            .any(|c| c == '\\' || c == '@' || c.is_control() || c.is_whitespace())
}

/// The return path for a request the gateway bounced to the login page: its
/// own path and query, which are relative by construction.
pub fn for_request(path_and_query: &str) -> String {
    match validate(path_and_query) {
        Some(p) => p.to_owned(),
        None => DEFAULT.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_accepted() {
        for ok in [
            "/",
            "/wiki",
            "/wiki/page?x=1&y=%20z",
            "/a/b#frag",
            "/%7Euser",
        ] {
            assert_eq!(validate(ok), Some(ok), "{ok}");
        }
    }

    #[test]
    fn open_redirect_tricks_are_refused() {
        for bad in [
            "",
            "//evil.com",
            "/\\evil.com",
            "\\\\evil.com",
            "https://evil.com",
            "javascript:alert(1)",
            "evil.com",
            "%2F%2Fevil.com",
            "/%2F/evil.com",
            "/%2fevil.com",
            "/%5Cevil.com",
            "/%252F/evil.com",
            "/\t/evil.com",
            "/%09/evil.com",
            "/\n/evil.com",
            "/ /evil.com",
            "/@evil.com",
            "/x@evil.com",
            "/%40evil.com",
            "/%ff",
            "/ok?next=%0d%0aSet-Cookie:x",
        ] {
            assert_eq!(validate(bad), None, "{bad:?}");
        }
    }

    fn app_host(host: &str) -> bool {
        host == "app.example.com"
    }

    #[test]
    fn an_absolute_url_on_an_app_host_is_accepted() {
        for ok in [
            "https://app.example.com/wiki?x=1",
            "http://app.example.com:8080/",
            "https://APP.example.com",
            "/relative/still",
        ] {
            assert_eq!(validate_on(ok, app_host), Some(ok), "{ok}");
        }
    }

    #[test]
    fn an_absolute_url_elsewhere_is_refused() {
        for bad in [
            "https://evil.com/",
            "https://app.example.com.evil.com/",
            "https://app.example.com@evil.com/",
            "https://user@app.example.com/",
            "https://evil.com/app.example.com",
            "https://evil.com?app.example.com",
            "https://evil.com#@app.example.com",
            "https://app.example.com%2F@evil.com/",
            "https://app.example.com\\@evil.com/",
            "https://app.example.com:x/",
            "https://app.example.com.:443/",
            "https://app.example.com//evil.com",
            "https://app.example.com/%2F/evil.com",
            "https://app.example.com/\t/x",
            "javascript://app.example.com/%0aalert(1)",
            "ftp://app.example.com/",
            "//app.example.com/",
            "https:/app.example.com/",
        ] {
            assert_eq!(validate_on(bad, app_host), None, "{bad:?}");
        }
    }

    #[test]
    fn a_bounced_request_keeps_its_path_and_query() {
        assert_eq!(for_request("/app/page?tab=2"), "/app/page?tab=2");
        assert_eq!(for_request("//evil.com"), "/");
    }
}
