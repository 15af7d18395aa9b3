//! Paths that an upstream reads another way than Gatehouse's normalised
//! path, and headers that make it serve another path: neither may take a
//! client past a rule. Servlet containers (Tomcat, Jetty, Spring) drop `;`
//! parameters from each segment before resolving `..`; Windows (IIS) and
//! old Spring drop trailing dots and spaces; Symfony, IIS URL Rewrite,
//! Spring and forward-auth setups take the path from `X-Original-URL`,
//! `X-Forwarded-Uri` and the like.
//!
//! The app is the standard one (`/public` bypass, `/private` one_factor,
//! `/admin` deny, `/secure` two_factor) but open by default, so any of these
//! paths that escaped its rule would reach the upstream, anonymously.

use gatehouse_tests::{both_backends, raw_get, Backend, Response, Stack};

/// The standard app with `bypass` as its own policy.
fn open_stack(backend: Backend) -> Stack {
    Stack::start_with(backend, |mut config| {
        config.apps = config
            .apps
            .into_iter()
            .map(|app| app.policy("bypass"))
            .collect();
        config
    })
}

/// Paths a servlet container serves from under `/admin` (deny).
const PARAMS_TO_DENY: &[&str] = &[
    "/admin;x",
    "/admin;jsessionid=0/panel",
    "/ADMIN;x/panel",
    "/admin%3bx/panel",
    "/public/..;/admin/panel",
    "/public/%2e%2e;/admin/panel",
    "/public/..%3B/admin/panel",
];

/// Paths a servlet container serves from under `/secure` (two_factor).
const PARAMS_TO_TWO_FACTOR: &[&str] = &[
    "/secure;x",
    "/secure;jsessionid=0/vault",
    "/Secure;x/vault",
    "/public/..;/secure/vault",
    "/public/..;x/secure/vault",
    "/public/%2E%2E;/secure/vault",
];

/// Paths Windows serves from under `/admin` (deny).
const TRAILING_TO_DENY: &[&str] = &[
    "/admin.",
    "/admin%20",
    "/admin./panel",
    "/admin%20/panel",
    "/admin%2e/panel",
    "/Admin.",
    "/admin.;x",
];

/// Paths Windows serves from under `/secure` (two_factor).
const TRAILING_TO_TWO_FACTOR: &[&str] = &[
    "/secure.",
    "/secure%20",
    "/secure./vault",
    "/secure%20/vault",
    "/SECURE%2E/vault",
];

/// Paths every reading puts under `/public` or nowhere (the open default),
/// tricks included: they must still reach the upstream, as sent.
const STILL_OPEN: &[&str] = &[
    "/public/page",
    "/public/secure/vault",
    "/public;x/page",
    "/public/..;/public/page",
    "/public./page",
    "/public%20/page",
    "/elsewhere.",
    "/elsewhere;x",
];

fn error(response: &Response) -> String {
    response.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Asserts that no request for `path` reached the upstream.
fn never_forwarded(stack: &Stack, path: &str) {
    let seen: Vec<String> = stack
        .upstream
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert!(
        !seen.iter().any(|p| p == path),
        "GET {path} reached the upstream"
    );
}

/// Asserts that each of `paths` reaches the upstream as sent: the app is
/// open there, so a refusal above would be the path, not the setup.
fn forwarded_as_sent(stack: &Stack, paths: &[&str], headers: &[(&str, &str)]) {
    for path in paths {
        let response = raw_get(stack.gateway.port(), path, headers);
        assert_eq!(response.status, 200, "GET {path}: {}", response.body);
        assert_eq!(stack.upstream.last().path, *path, "GET {path}");
    }
}

/// Anonymous: a deny reading is refused outright, a two_factor one asks an
/// API client to sign in and sends a browser to the login page.
fn assert_anonymous_refused(stack: &Stack, to_deny: &[&str], to_two_factor: &[&str]) {
    let port = stack.gateway.port();
    for path in to_deny {
        let response = raw_get(port, path, &[]);
        assert_eq!(response.status, 403, "GET {path}: {}", response.body);
        assert_eq!(error(&response), "forbidden", "GET {path}");
        never_forwarded(stack, path);
    }
    for path in to_two_factor {
        let api = raw_get(port, path, &[]);
        assert_eq!(api.status, 401, "GET {path}: {}", api.body);
        assert_eq!(error(&api), "unauthenticated", "GET {path}");
        let browser = raw_get(port, path, &[("Accept", "text/html")]);
        let location = browser.location().unwrap_or_default();
        assert!(
            matches!(browser.status, 302 | 303) && location.starts_with("/.gatehouse/login"),
            "GET {path} as a browser: {} to {location:?}",
            browser.status
        );
        never_forwarded(stack, path);
    }
    assert_eq!(stack.upstream.count(), 0);
}

#[test]
fn servlet_path_parameters_never_take_an_anonymous_client_past_a_rule() {
    let stack = open_stack(Backend::Memory);
    assert_anonymous_refused(&stack, PARAMS_TO_DENY, PARAMS_TO_TWO_FACTOR);
    forwarded_as_sent(&stack, STILL_OPEN, &[]);
}

#[test]
fn trailing_dots_and_spaces_never_take_an_anonymous_client_past_a_rule() {
    let stack = open_stack(Backend::Memory);
    assert_anonymous_refused(&stack, TRAILING_TO_DENY, TRAILING_TO_TWO_FACTOR);
    forwarded_as_sent(&stack, STILL_OPEN, &[]);
}

/// Signed in with a password only: no reading passes a deny rule, and none
/// reaches a two_factor rule without the second factor.
fn a_password_only_session_passes_no_rule_by_another_reading(backend: Backend) {
    let stack = open_stack(backend);
    let client = stack.client();
    let session = client.login_ok("alice");
    let cookie = format!("{}={session}", client.session_cookie_name());
    let signed_in = [("Cookie", cookie.as_str())];
    let port = stack.gateway.port();
    for path in PARAMS_TO_DENY.iter().chain(TRAILING_TO_DENY) {
        let response = raw_get(port, path, &signed_in);
        assert_eq!(response.status, 403, "GET {path}: {}", response.body);
        assert_eq!(error(&response), "forbidden", "GET {path}");
        never_forwarded(&stack, path);
    }
    for path in PARAMS_TO_TWO_FACTOR.iter().chain(TRAILING_TO_TWO_FACTOR) {
        let response = raw_get(port, path, &signed_in);
        assert_eq!(response.status, 403, "GET {path}: {}", response.body);
        assert_eq!(error(&response), "mfa_required", "GET {path}");
        never_forwarded(&stack, path);
    }
    assert_eq!(stack.upstream.count(), 0);
    // The session itself passes where its one factor is enough.
    forwarded_as_sent(&stack, &["/private/page", "/private;x/page"], &signed_in);
    assert_eq!(
        stack.upstream.last().header("remote-user").as_deref(),
        Some("alice")
    );
}

both_backends!(a_password_only_session_passes_no_rule_by_another_reading);

/// Every path override Gatehouse strips, in the spellings upstreams fold
/// to the same name (CGI and PHP read `_` as `-`).
const PATH_OVERRIDES: &[&str] = &[
    "X-Original-URL",
    "x_original_url",
    "X-Rewrite-URL",
    "X_Rewrite_URL",
    "X-Forwarded-Uri",
    "X_Forwarded_Uri",
    "X-Original-URI",
    "X.Original.URI",
    "X-Forwarded-Path",
    "x_forwarded_path",
    "X-Forwarded-Prefix",
    "X.Forwarded.Prefix",
    "X-Original-Path",
    "X-Envoy-Original-Path",
    "x_envoy_original_path",
];

#[test]
fn path_override_headers_from_a_client_never_reach_the_upstream() {
    let stack = open_stack(Backend::Memory);
    // Each header carries a value of its own, so a leak under any name is
    // traced to the header that was sent.
    let values: Vec<String> = (0..PATH_OVERRIDES.len())
        .map(|i| format!("/admin/override-{i:02}"))
        .collect();
    let mut headers: Vec<(&str, &str)> = PATH_OVERRIDES
        .iter()
        .zip(&values)
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    // A header no upstream reads as a path arrives: the test can see one.
    headers.push(("X-Path-Control", "/admin/control"));
    let response = raw_get(stack.gateway.port(), "/public/page", &headers);
    assert_eq!(response.status, 200, "{}", response.body);
    let seen = stack.upstream.last();
    assert_eq!(seen.path, "/public/page");
    assert_eq!(
        seen.header("x-path-control").as_deref(),
        Some("/admin/control")
    );
    for (name, value) in PATH_OVERRIDES.iter().zip(&values) {
        let leaked: Vec<&String> = seen
            .headers
            .iter()
            .filter(|(n, v)| n.eq_ignore_ascii_case(name) || v.contains(value.as_str()))
            .map(|(n, _)| n)
            .collect();
        assert!(
            leaked.is_empty(),
            "{name} reached the upstream as {leaked:?}"
        );
    }
}
