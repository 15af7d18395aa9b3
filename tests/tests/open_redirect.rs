//! Return paths: whatever `rd` an attacker crafts, Gatehouse only ever sends
//! the browser to a path on its own site, or to a configured app's host.

use gatehouse_tests::{AppConfig, Backend, Response, Stack, PASSWORD};

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
        signing_in_goes_home(&stack, rd);
    }
    let ok = stack
        .client()
        .login("alice", PASSWORD, Some("/private/a?b=c"));
    assert_eq!(ok.destination().as_deref(), Some("/private/a?b=c"));
}

/// Forward auth sends the browser to sign in with the absolute URL it came
/// from: it goes back there only on a configured app host.
#[test]
fn an_absolute_return_url_must_be_on_an_app_host() {
    let stack = Stack::start_with(Backend::Memory, |config| {
        let wiki = AppConfig::new("wiki", &[]).host("wiki.example.com");
        config.app(wiki)
    });
    for rd in [
        "https://evil.com/",
        "http://evil.com/wiki.example.com",
        "https://wiki.example.com.evil.com/",
        "https://wiki.example.com@evil.com/",
        "https://user@wiki.example.com/",
        "https://wiki.example.com%2F@evil.com/",
        "https://wiki.example.com\\@evil.com/",
        "https://evil.com#wiki.example.com",
        "https://wiki.example.com//evil.com",
        "https://wiki.example.com/%2F/evil.com",
        "https://wiki.example.com:99999999/",
        "javascript://wiki.example.com/%0Aalert(1)",
        "data://wiki.example.com/",
    ] {
        signing_in_goes_home(&stack, rd);
    }
    for rd in [
        "https://wiki.example.com/page?a=b",
        "http://WIKI.example.com:8080/",
        "https://wiki.example.com",
    ] {
        let login = stack.client().login("alice", PASSWORD, Some(rd));
        assert_eq!(login.destination().as_deref(), Some(rd), "rd {rd:?}");
    }
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

/// Who asks for a page.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Viewer {
    Anonymous,
    /// alice, signed in, no second factor.
    SignedIn,
    /// bob, enrolled, password typed, owing a code.
    AtChallenge,
}

/// Each page, who sees it rendered, and an element that shows it was: an
/// error page links nowhere evil either, so a page that failed must not
/// pass.
const PAGES: [(&str, Viewer, &str); 6] = [
    ("login", Viewer::Anonymous, r#"name="password""#),
    (
        "remind",
        Viewer::SignedIn,
        r#"href="/.gatehouse/enroll?rd="#,
    ),
    ("mfa", Viewer::AtChallenge, r#"action="/.gatehouse/mfa""#),
    ("enroll", Viewer::SignedIn, r#"id="totp-secret""#),
    (
        "recover",
        Viewer::AtChallenge,
        r#"action="/.gatehouse/recover""#,
    ),
    (
        "account",
        Viewer::SignedIn,
        r#"action="/.gatehouse/logout""#,
    ),
];

#[test]
fn portal_pages_never_link_or_redirect_off_site() {
    let stack = Stack::start(Backend::Memory);
    let signed_in = stack.client();
    signed_in.login_ok("alice");
    stack.enrolled("bob");
    let at_challenge = stack.at_challenge("bob", "/");
    for rd in [
        "//evil.com",
        "/\\evil.com",
        "https://evil.com",
        "/%2F/evil.com",
    ] {
        let encoded: String = rd.bytes().map(|b| format!("%{b:02X}")).collect();
        for (page, renders_for, marker) in PAGES {
            let anonymous = stack.client();
            for (viewer, client) in [
                (Viewer::Anonymous, &anonymous),
                (Viewer::SignedIn, &signed_in),
                (Viewer::AtChallenge, &at_challenge),
            ] {
                let path = format!("/.gatehouse/{page}?rd={encoded}");
                let response = client.get_html(&path);
                if viewer == renders_for {
                    assert_eq!(response.status, 200, "{path} as {viewer:?}");
                    assert!(
                        response.body.contains(marker),
                        "{path} as {viewer:?} lacks {marker}: {}",
                        response.body
                    );
                }
                assert_on_site(&path, viewer, &response);
            }
        }
    }
}

/// A page (200) links nowhere off-site; anything else is a redirect that
/// stays on the site.
fn assert_on_site(path: &str, viewer: Viewer, response: &Response) {
    match response.status {
        200 => {
            for link in links(&response.body) {
                assert!(!link.contains("evil.com"), "{path} links to {link}");
            }
        }
        302 | 303 => {
            let location = response.location().unwrap_or_default();
            assert!(
                location.starts_with('/')
                    && !location.starts_with("//")
                    && !location.starts_with("/\\"),
                "{path} as {viewer:?} redirected to {location}"
            );
            assert!(!location.contains("evil.com"), "{path} -> {location}");
        }
        status => panic!("{path} as {viewer:?} answered {status}: {}", response.body),
    }
}

/// Signing in with `rd` succeeds and ignores it: the browser goes to "/".
fn signing_in_goes_home(stack: &Stack, rd: &str) {
    let login = stack.client().login("alice", PASSWORD, Some(rd));
    assert_eq!(login.status(), 303, "rd {rd:?}");
    assert_eq!(
        login.destination().as_deref(),
        Some("/"),
        "rd {rd:?} was followed"
    );
}
