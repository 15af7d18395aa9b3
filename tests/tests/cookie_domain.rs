//! One sign-in across the subdomains of one domain
//! (`sessions.cookie_domain`): the session cookie names the domain, every
//! host under it accepts the session, and signing out on one host ends it
//! on all of them.

use gatehouse_tests::{both_backends, Backend, Stack, PASSWORD};

const PRIVATE: &str = "/private/report";

fn one_sign_in_reaches_every_subdomain(backend: Backend) {
    let stack = Stack::start_with(backend, |c| c.cookie_domain("example.test"));
    let portal = stack.client().with_header("Host", "portal.example.test");
    let login = portal.login("bob", PASSWORD, Some(PRIVATE));
    assert!(login.succeeded(), "{}", login.response.body);
    let cookie = login
        .response
        .set_cookie("gatehouse_session")
        .expect("a session cookie");
    assert!(
        cookie.raw.contains("Domain=example.test"),
        "the cookie is not shared: {}",
        cookie.raw
    );

    // A browser sends a Domain cookie to every host under it.
    let app = stack.client().with_header("Host", "wiki.example.test");
    app.set_cookie("gatehouse_session", &cookie.value);
    assert_eq!(
        app.get(PRIVATE).status,
        200,
        "the other host took no session"
    );
    let seen = stack.upstream.last();
    assert_eq!(seen.header("remote-user").as_deref(), Some("bob"));

    // Signing out on the app's host ends the session on the portal's too.
    let out = app.logout();
    assert_eq!(out.status, 303, "{}", out.body);
    let cleared = out
        .set_cookie("gatehouse_session")
        .expect("the cookie is cleared");
    assert!(
        cleared.raw.contains("Domain=example.test"),
        "{}",
        cleared.raw
    );
    let after = portal.get(PRIVATE);
    assert_eq!(after.status, 401, "the portal host kept the session");
}

both_backends!(one_sign_in_reaches_every_subdomain);
