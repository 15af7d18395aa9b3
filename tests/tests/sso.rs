//! One sign-in across hosts that share no cookie (`sso.portal_url`), end
//! to end: each app host hands a browser to the portal's host and takes it
//! back with a single-use code bound to that browser; a replayed code or
//! one opened in another browser is refused; signing out on one host ends
//! the session on every host.

use gatehouse_tests::{
    both_backends, percent_decode, AppConfig, Backend, Client, Stack, Upstream, PASSWORD,
};

const PAGE: &str = "/private/report";

/// A browser's view of one host: its own cookie jar, its own Host header.
fn browser_at(stack: &Stack, host: &str) -> Client {
    let port = stack.gateway.port();
    stack
        .client()
        .with_header("Host", &format!("{host}:{port}"))
}

/// The path and query of an absolute `Location` on `host`.
fn on_host(location: &str, host: &str) -> String {
    let rest = location
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not an absolute http URL: {location}"));
    let (authority, path) = rest.split_at(rest.find('/').expect("a path"));
    assert!(
        authority.starts_with(&format!("{host}:")),
        "{location} is not on {host}"
    );
    path.to_owned()
}

/// From a page on an app host with no session, through the portal (signing
/// in there if `sign_in`), back with a code; returns the app host's last leg.
fn handoff_for(app: &Client, app_host: &str, portal: &Client, sign_in: bool) -> String {
    let bounced = app.get_html(PAGE);
    assert_eq!(bounced.status, 302, "{}", bounced.body);
    let start = bounced.location().expect("a location").to_owned();
    assert!(
        start.starts_with("/.gatehouse/sso?rd="),
        "{app_host}: {start}"
    );
    let to_portal = app.get_html(&start);
    assert_eq!(to_portal.status, 302, "{}", to_portal.body);
    let issue = on_host(to_portal.location().expect("to the portal"), "portal.test");
    let mut answer = portal.get_html(&issue);
    if sign_in {
        let login = answer.location().expect("to sign in").to_owned();
        assert!(login.starts_with("/.gatehouse/login?rd="), "{login}");
        let rd = percent_decode(login.split_once("rd=").expect("rd").1);
        let signed_in = portal.login("bob", PASSWORD, Some(&rd));
        assert!(signed_in.succeeded(), "{}", signed_in.response.body);
        // bob has no second factor: the reminder's "later" goes on to rd.
        let reminder = portal.get_html(signed_in.response.location().expect("on"));
        assert!(
            reminder.body.contains("Remind me later"),
            "{}",
            reminder.body
        );
        answer = portal.get_html(&rd);
    }
    assert_eq!(answer.status, 303, "{}", answer.body);
    let back = on_host(answer.location().expect("back to the app"), app_host);
    assert!(back.contains("&code="), "{back}");
    back
}

fn one_sign_in_reaches_apps_on_unrelated_hosts(backend: Backend) {
    let other = Upstream::start();
    let stack = Stack::start_with(backend, |c| {
        let app = |name: &str| {
            AppConfig::new(name, &[other.url()])
                .host(&format!("{name}.test"))
                .policy("one_factor")
        };
        c.sso_portal("portal.test")
            .app(app("wiki"))
            .app(app("docs"))
    });
    let portal = browser_at(&stack, "portal.test");
    let wiki = browser_at(&stack, "wiki.test");
    let docs = browser_at(&stack, "docs.test");

    // The first app host sends the browser to sign in on the portal.
    let back = handoff_for(&wiki, "wiki.test", &portal, true);
    let landed = wiki.get_html(&back);
    assert_eq!((landed.status, landed.location()), (303, Some(PAGE)));
    assert_eq!(wiki.get(PAGE).status, 200, "no session on the app host");
    assert_eq!(other.last().header("remote-user").as_deref(), Some("bob"));

    // Replayed, the code is refused, even in the browser it was made for.
    assert_eq!(wiki.get_html(&back).status, 403);

    // Another app host: the portal knows the browser, no password asked.
    let back = handoff_for(&docs, "docs.test", &portal, false);
    // A code opened in a browser that did not set out from that host is
    // refused there, and is spent.
    let lured = browser_at(&stack, "docs.test");
    assert_eq!(lured.get_html(&back).status, 403);
    assert_eq!(lured.get(PAGE).status, 401);
    assert_eq!(docs.get_html(&back).status, 403, "a spent code worked");
    let back = handoff_for(&docs, "docs.test", &portal, false);
    assert_eq!(docs.get_html(&back).status, 303);
    assert_eq!(docs.get(PAGE).status, 200);

    // Signing out on one host ends the session on every host.
    assert_eq!(docs.logout().status, 303);
    assert_eq!(wiki.get(PAGE).status, 401);
    assert_eq!(portal.get(PAGE).status, 401);
}

both_backends!(one_sign_in_reaches_apps_on_unrelated_hosts);
