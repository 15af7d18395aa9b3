//! Return paths: whatever `rd` an attacker crafts, Gatehouse only ever sends
//! the browser to a path on its own site.

use gatehouse_tests::{Backend, Stack, PASSWORD};

#[test]
fn return_path_cannot_leave_the_site() {
    let stack = Stack::start(Backend::Memory);
    for rd in [
        "//evil.com",
        "//evil.com/path",
        "/\\evil.com",
        "\\\\evil.com",
        "%2F%2Fevil.com",
        "/%2F/evil.com",
        "/%2f%2fevil.com",
        "/%5Cevil.com",
        "/\t/evil.com",
        "/\r\n/evil.com",
        " //evil.com",
        "https://evil.com",
        "http:evil.com",
        "javascript:alert(1)",
        "/@evil.com",
        "/path@evil.com",
        "evil.com",
    ] {
        let login = stack.client().login("alice", PASSWORD, Some(rd));
        assert_eq!(login.status(), 303, "rd {rd:?}");
        assert_eq!(
            login.destination().as_deref(),
            Some("/"),
            "rd {rd:?} was followed"
        );
    }
    let ok = stack
        .client()
        .login("alice", PASSWORD, Some("/private/a?b=c"));
    assert_eq!(ok.destination().as_deref(), Some("/private/a?b=c"));
}

/// Every `href` in `html`.
fn links(html: &str) -> Vec<String> {
    html.split("href=")
        .skip(1)
        .filter_map(|rest| {
            let quote = rest.chars().next()?;
            let rest = rest.strip_prefix(quote)?;
            Some(rest.split(quote).next()?.to_string())
        })
        .collect()
}

#[test]
fn portal_pages_never_link_or_redirect_off_site() {
    let stack = Stack::start(Backend::Memory);
    let signed_in = stack.client();
    signed_in.login_ok("alice");
    let pages = ["login", "remind", "mfa", "enroll", "recover", "account"];
    for rd in [
        "//evil.com",
        "/\\evil.com",
        "https://evil.com",
        "/%2F/evil.com",
    ] {
        let encoded: String = rd.bytes().map(|b| format!("%{b:02X}")).collect();
        for page in pages {
            for client in [&signed_in, &stack.client()] {
                let path = format!("/.gatehouse/{page}?rd={encoded}");
                let response = client.get_html(&path);
                if let Some(location) = response.location() {
                    assert!(
                        location.starts_with('/')
                            && !location.starts_with("//")
                            && !location.starts_with("/\\"),
                        "{path} redirected to {location}"
                    );
                    assert!(!location.contains("evil.com"), "{path} -> {location}");
                }
                for link in links(&response.body) {
                    assert!(!link.contains("evil.com"), "{path} links to {link}");
                }
            }
        }
    }
}
