//! The main flows a user and an integration go through: sign in, reach the
//! app with identity headers, bypass/deny rules, service tokens, app and rule
//! selection, load balancing.

use gatehouse_tests::{
    both_backends, hidden_input, percent_decode, raw_get, AppConfig, Backend, Gateway,
    GatewayConfig, Stack, Upstream, PASSWORD,
};
use serde_json::json;

fn split_groups(header: &str) -> Vec<String> {
    header
        .split(',')
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty())
        .collect()
}

/// The `rd` query parameter of a login redirect, decoded.
fn return_path(location: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("rd="))
        .map(percent_decode)
}

fn login_redirects_to_the_return_path_and_grants_access(backend: Backend) {
    let stack = Stack::start(backend);
    let client = stack.client();
    let login = client.login("alice", PASSWORD, Some("/private/page?x=1"));
    assert_eq!(login.status(), 303, "body: {}", login.response.body);
    assert_eq!(login.destination().as_deref(), Some("/private/page?x=1"));
    assert!(login.session.is_some(), "no session cookie was set");

    let page = client.get("/private/page?x=1");
    assert_eq!(page.status, 200, "body: {}", page.body);
    assert_eq!(stack.upstream.last().path, "/private/page?x=1");
}

fn identity_headers_describe_the_signed_in_user(backend: Backend) {
    let stack = Stack::start(backend);
    let client = stack.client();
    client.login_ok("alice");
    assert_eq!(client.get("/private/whoami").status, 200);

    let seen = stack.upstream.last();
    assert_eq!(seen.header("remote-user").as_deref(), Some("alice"));
    assert_eq!(
        seen.header("remote-email").as_deref(),
        Some("alice@example.com")
    );
    assert_eq!(seen.header("remote-name").as_deref(), Some("Alice Liddell"));
    let groups = split_groups(&seen.header("remote-groups").unwrap_or_default());
    assert_eq!(groups, ["admins", "dev"]);
}

both_backends!(
    login_redirects_to_the_return_path_and_grants_access,
    identity_headers_describe_the_signed_in_user,
);

#[test]
fn browser_returns_to_the_page_it_first_asked_for() {
    let stack = Stack::start(Backend::Memory);
    let browser = stack.client();
    let bounce = browser.get_html("/private/report?year=2024");
    let login_url = bounce.location().expect("a redirect to the login page");
    let page = browser.get_html(login_url);
    assert_eq!(page.status, 200);
    let rd = hidden_input(&page.body, "rd").expect("the form carries rd");
    let csrf = hidden_input(&page.body, "csrf_token").expect("the form carries a CSRF token");
    let submit = browser.post_form(
        "/.gatehouse/login",
        &[
            ("username", "alice"),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
            ("rd", &rd),
        ],
    );
    assert_eq!(submit.status, 303);
    assert_eq!(
        submit.destination().as_deref(),
        Some("/private/report?year=2024")
    );
    assert_eq!(browser.get_html("/private/report?year=2024").status, 200);
}

#[test]
fn request_bodies_reach_the_app() {
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    client.login_ok("alice");
    let response = client.post_form("/private/form", &[("comment", "hello world")]);
    assert_eq!(response.status, 200);
    let seen = stack.upstream.last();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.body, b"comment=hello+world");
}

#[test]
fn login_without_return_path_lands_on_root() {
    let stack = Stack::start(Backend::Memory);
    let login = stack.client().login("alice", PASSWORD, None);
    assert_eq!(login.status(), 303);
    assert_eq!(login.destination().as_deref(), Some("/"));
}

#[test]
fn remote_name_falls_back_to_the_username() {
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    client.login_ok("bob");
    assert_eq!(client.get("/private/whoami").status, 200);
    let seen = stack.upstream.last();
    assert_eq!(seen.header("remote-user").as_deref(), Some("bob"));
    assert_eq!(seen.header("remote-name").as_deref(), Some("bob"));
}

#[test]
fn account_page_shows_who_is_signed_in() {
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    client.login_ok("alice");
    let page = client.get_html("/.gatehouse/account");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("alice"), "account page: {}", page.body);
    assert!(page.body.contains("dev"), "groups missing: {}", page.body);
}

#[test]
fn browser_without_session_is_sent_to_login_with_its_return_path() {
    let stack = Stack::start(Backend::Memory);
    let response = stack.client().get_html("/private/page?x=1&y=2");
    assert_eq!(response.status, 302);
    let location = response.location().expect("a Location header");
    assert!(
        location.starts_with("/.gatehouse/login?"),
        "redirected to {location}"
    );
    assert_eq!(
        return_path(location).as_deref(),
        Some("/private/page?x=1&y=2")
    );
    assert_eq!(stack.upstream.count(), 0);
}

#[test]
fn api_client_without_session_gets_401_json() {
    let stack = Stack::start(Backend::Memory);
    let response = stack.client().get("/private/data");
    assert_eq!(response.status, 401);
    assert_eq!(response.location(), None);
    assert_eq!(
        response.json(),
        json!({"error": "unauthenticated", "login": "/.gatehouse/login"})
    );
    assert_eq!(stack.upstream.count(), 0);
}

#[test]
fn bypass_route_reaches_the_app_without_signing_in() {
    let stack = Stack::start(Backend::Memory);
    let response = stack.client().get("/public/readme?lang=en");
    assert_eq!(response.status, 200);
    let seen = stack.upstream.last();
    assert_eq!(seen.path, "/public/readme?lang=en");
    assert_eq!(seen.header("remote-user"), None);
}

#[test]
fn the_upstream_hears_the_client_address_scheme_and_host() {
    let stack = Stack::start(Backend::Memory);
    stack.client().get("/public/a");
    let seen = stack.upstream.last();
    assert_eq!(seen.header_values("x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(seen.header_values("x-real-ip"), ["127.0.0.1"]);
    assert_eq!(seen.header_values("x-forwarded-proto"), ["http"]);
    assert_eq!(
        seen.header_values("host"),
        [format!("127.0.0.1:{}", stack.gateway.port())]
    );
}

#[test]
fn behind_a_trusted_proxy_the_upstream_hears_what_the_proxy_forwarded() {
    // The test client connects from 127.0.0.1, standing in for the proxy.
    let stack = Stack::start_with(Backend::Memory, |c| c.trusted_proxies(&["127.0.0.1"]));
    let proxied = stack
        .client()
        .with_header("X-Forwarded-For", "203.0.113.7")
        .with_header("X-Forwarded-Proto", "https")
        .with_header("X-Forwarded-Host", "app.example.com");
    proxied.get("/public/b");
    let seen = stack.upstream.last();
    assert_eq!(
        seen.header_values("x-forwarded-for"),
        ["203.0.113.7, 127.0.0.1"]
    );
    assert_eq!(seen.header_values("x-real-ip"), ["203.0.113.7"]);
    assert_eq!(seen.header_values("x-forwarded-proto"), ["https"]);
    assert_eq!(seen.header_values("x-forwarded-host"), ["app.example.com"]);
}

#[test]
fn deny_route_is_forbidden_even_when_signed_in() {
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    assert_eq!(client.get("/admin/panel").status, 403);
    client.login_ok("alice");
    let api = client.get("/admin/panel");
    assert_eq!(api.status, 403);
    assert_eq!(api.json()["error"], "forbidden");
    assert_eq!(client.get_html("/admin/panel").status, 403);
    assert_eq!(stack.upstream.count(), 0);
}

#[test]
fn two_factor_route_refuses_a_password_only_session() {
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    client.login_ok("alice");
    let api = client.get("/secure/vault");
    assert_eq!(api.status, 403);
    assert_eq!(api.json()["error"], "mfa_required");
    // A browser is refused, or sent to a Gatehouse page to add the factor.
    let page = client.get_html("/secure/vault");
    match page.status {
        403 => {}
        302 | 303 => {
            let location = page.location().unwrap_or_default();
            assert!(location.starts_with("/.gatehouse/"), "sent to {location}");
        }
        other => panic!("two_factor route answered {other} to a browser"),
    }
    assert_eq!(stack.upstream.count(), 0);
}

#[test]
fn service_token_passes_as_the_service_identity() {
    let stack = Stack::start_with(Backend::Memory, |c| c.service_token("ci", "tok-ci-123"));
    let client = stack.client();

    let bearer = client.get_with("/private/build", &[("Authorization", "Bearer tok-ci-123")]);
    assert_eq!(bearer.status, 200, "body: {}", bearer.body);
    assert_eq!(
        stack.upstream.last().header("remote-user").as_deref(),
        Some("service:ci")
    );

    let header = client.get_with("/private/build", &[("X-Gatehouse-Token", "tok-ci-123")]);
    assert_eq!(header.status, 200, "body: {}", header.body);
    assert_eq!(
        stack.upstream.last().header("remote-user").as_deref(),
        Some("service:ci")
    );
    assert_eq!(stack.upstream.count(), 2);
}

#[test]
fn service_token_not_accepted_by_the_app_is_forbidden() {
    let upstream = Upstream::start();
    let gateway = Gateway::start(
        GatewayConfig::new()
            .service_token("ci", "tok-ci-123")
            .service_token("deploy", "tok-deploy-456")
            .app(AppConfig::standard(&upstream.url()).service_tokens(&["ci"])),
    );
    let client = gateway.client();
    let refused = client.get_with("/private/x", &[("Authorization", "Bearer tok-deploy-456")]);
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json(), json!({"error": "forbidden"}));
    assert_eq!(upstream.count(), 0);

    let allowed = client.get_with("/private/x", &[("Authorization", "Bearer tok-ci-123")]);
    assert_eq!(allowed.status, 200);
}

#[test]
fn service_token_cannot_open_a_deny_route() {
    let stack = Stack::start_with(Backend::Memory, |c| c.service_token("ci", "tok-ci-123"));
    let response = stack
        .client()
        .get_with("/admin/panel", &[("Authorization", "Bearer tok-ci-123")]);
    assert_eq!(response.status, 403);
    assert_eq!(stack.upstream.count(), 0);
}

#[test]
fn request_matching_no_app_is_404() {
    let upstream = Upstream::start();
    let gateway = Gateway::start(
        GatewayConfig::new().app(
            AppConfig::new("wiki", &[upstream.url()])
                .host("wiki.example.com")
                .policy("bypass"),
        ),
    );
    let response = gateway
        .client()
        .get_with("/anything", &[("Host", "other.example.com")]);
    assert_eq!(response.status, 404);
    assert_eq!(upstream.count(), 0);
}

#[test]
fn host_header_selects_the_app() {
    let wiki = Upstream::start_named("wiki");
    let main = Upstream::start_named("main");
    let gateway = Gateway::start(
        GatewayConfig::new()
            .app(
                AppConfig::new("wiki", &[wiki.url()])
                    .host("wiki.example.com")
                    .policy("bypass"),
            )
            .app(AppConfig::new("main", &[main.url()]).policy("bypass")),
    );
    let client = gateway.client();
    let host_with_port = format!("Wiki.Example.COM:{}", gateway.port());
    for host in ["wiki.example.com", host_with_port.as_str()] {
        let response = client.get_with("/page", &[("Host", host)]);
        assert_eq!(response.status, 200);
        assert_eq!(response.json()["upstream"], "wiki", "Host: {host}");
    }
    let other = client.get_with("/page", &[("Host", "www.example.com")]);
    assert_eq!(other.json()["upstream"], "main");
    assert_eq!((wiki.count(), main.count()), (2, 1));
}

#[test]
fn longest_matching_rule_decides_the_policy() {
    let upstream = Upstream::start();
    let gateway = Gateway::start(
        GatewayConfig::new().app(
            AppConfig::new("docs", &[upstream.url()])
                .policy("one_factor")
                .rule("/docs", "bypass")
                .rule("/docs/internal", "one_factor")
                .rule("/docs/internal/press/", "bypass"),
        ),
    );
    let client = gateway.client();
    assert_eq!(client.get("/docs/intro").status, 200);
    assert_eq!(client.get("/docs").status, 200);
    assert_eq!(client.get("/docs/internal/plans").status, 401);
    assert_eq!(client.get("/docs/internal").status, 401);
    assert_eq!(client.get("/docs/internal/press/release").status, 200);
    assert_eq!(client.get("/other").status, 401);
}

#[test]
fn rule_prefix_matches_whole_path_segments_only() {
    let upstream = Upstream::start();
    let gateway = Gateway::start(
        GatewayConfig::new().app(AppConfig::standard(&upstream.url()).rule("/shop", "bypass")),
    );
    let client = gateway.client();
    assert_eq!(client.get("/shop/cart").status, 200);
    // `/publicity` is not under `/public`, and `/administrator` is not `/admin`.
    assert_eq!(client.get("/publicity").status, 401);
    assert_eq!(client.get("/shopkeeper/accounts").status, 401);
    assert_eq!(client.get("/administrator").status, 401);
}

#[test]
fn paths_escaping_a_bypass_prefix_stay_protected() {
    let stack = Stack::start(Backend::Memory);
    for path in [
        "/public/../private/x",
        "/public/%2e%2e/private/x",
        "/public/%2E%2E/private/x",
        "/public/./../private/x",
        "/public/../secret",
    ] {
        let response = raw_get(stack.gateway.port(), path, &[]);
        assert_eq!(response.status, 401, "GET {path} was not protected");
    }
    assert_eq!(stack.upstream.count(), 0);
    // Redundant slashes still land in the bypass rule.
    assert_eq!(raw_get(stack.gateway.port(), "//public/x", &[]).status, 200);
}

#[test]
fn disguised_protected_paths_stay_protected() {
    let upstream = Upstream::start();
    let gateway = Gateway::start(
        GatewayConfig::new().app(
            AppConfig::new("app", &[upstream.url()])
                .policy("bypass")
                .rule("/private", "one_factor"),
        ),
    );
    for path in [
        "//private/x",
        "///private",
        "/./private/x",
        "/%70rivate/x",
        "/x/../private/y",
        "/private?/public",
    ] {
        let response = raw_get(gateway.port(), path, &[]);
        assert_eq!(response.status, 401, "GET {path} was not protected");
    }
    assert_eq!(upstream.count(), 0);
    assert_eq!(raw_get(gateway.port(), "/elsewhere", &[]).status, 200);
}

#[test]
fn paths_an_upstream_may_read_another_way_get_the_strictest_rule() {
    let upstream = Upstream::start();
    let gateway = Gateway::start(
        GatewayConfig::new().app(
            AppConfig::new("app", &[upstream.url()])
                .policy("one_factor")
                .rule("/public", "bypass")
                .rule("/admin", "deny"),
        ),
    );
    // Each normalises to `/public`, or is `/admin` to a case-blind upstream,
    // or to one that keeps an encoded `/` inside its segment.
    for path in [
        "/admin%2F..%2Fpublic",
        "/admin%2f..%2fpublic/page",
        "/admin%5C..%5Cpublic",
        "/ADMIN",
        "/Admin/users",
        "/%41dmin",
    ] {
        let response = raw_get(gateway.port(), path, &[]);
        assert_eq!(response.status, 403, "GET {path} was not denied");
    }
    // A bypass rule in another case does not open a path either.
    assert_eq!(raw_get(gateway.port(), "/PUBLIC/x", &[]).status, 401);
    assert_eq!(upstream.count(), 0);
    // Where every reading agrees, an encoded slash passes as sent.
    assert_eq!(raw_get(gateway.port(), "/public%2Fdocs", &[]).status, 200);
    assert_eq!(upstream.last().path, "/public%2Fdocs");
}

#[test]
fn requests_are_spread_across_all_upstreams() {
    let first = Upstream::start_named("first");
    let second = Upstream::start_named("second");
    let gateway = Gateway::start(
        GatewayConfig::new()
            .app(AppConfig::new("app", &[first.url(), second.url()]).policy("bypass")),
    );
    let client = gateway.client();
    for i in 0..20 {
        assert_eq!(client.get(&format!("/item/{i}")).status, 200);
    }
    assert_eq!(first.count() + second.count(), 20);
    assert!(
        first.count() >= 3 && second.count() >= 3,
        "uneven spread: first {} second {}",
        first.count(),
        second.count()
    );
}
