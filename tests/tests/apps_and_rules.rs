//! Apps by path, rules with conditions, and HTTP health checks, end to end.

use gatehouse_tests::{AppConfig, Gateway, GatewayConfig, Upstream};
use serde_json::json;

#[test]
fn two_apps_on_one_host_split_by_path() {
    let site = Upstream::start_named("site");
    let wiki = Upstream::start_named("wiki");
    let gateway = Gateway::start(
        GatewayConfig::new()
            .app(
                AppConfig::new("site", &[site.url()])
                    .host("example.com")
                    .policy("bypass"),
            )
            .app(
                AppConfig::new("wiki", &[wiki.url()])
                    .host("example.com")
                    .path("/wiki")
                    .policy("bypass")
                    .rule("/wiki/admin", "deny"),
            ),
    );
    let client = gateway.client();
    let host = [("Host", "example.com")];
    for (path, want) in [
        ("/", "site"),
        ("/wikipedia", "site"),
        ("/wiki", "wiki"),
        ("/wiki/Main_Page?x=1", "wiki"),
        ("/WIKI/page", "site"),
    ] {
        let response = client.get_with(path, &host);
        assert_eq!(response.status, 200, "{path}: {}", response.body);
        assert_eq!(response.json()["upstream"], want, "{path}");
    }
    // The path goes upstream as sent: the app's prefix is not stripped.
    assert_eq!(wiki.last().path, "/wiki/Main_Page?x=1");
    assert_eq!(site.last().path, "/WIKI/page");
    assert_eq!(client.get_with("/wiki/admin/x", &host).status, 403);
    assert_eq!((site.count(), wiki.count()), (3, 2));
}

#[test]
fn a_method_condition_allows_and_refuses() {
    let upstream = Upstream::start();
    let gateway = Gateway::start(
        GatewayConfig::new().app(
            AppConfig::new("app", &[upstream.url()])
                .policy("deny")
                .rule_when("/api", "bypass", json!({"methods": ["GET"]})),
        ),
    );
    let client = gateway.client();
    assert_eq!(client.get("/api/items").status, 200);
    assert_eq!(client.send("HEAD", "/api/items", &[], None).status, 200);
    assert_eq!(client.send("POST", "/api/items", &[], None).status, 403);
    assert_eq!(client.send("DELETE", "/api/items", &[], None).status, 403);
    assert_eq!(client.get("/other").status, 403);
    assert_eq!(upstream.count(), 2);
}

#[test]
fn a_network_condition_reads_the_trusted_client_address() {
    let upstream = Upstream::start();
    let gateway = Gateway::start(
        GatewayConfig::new().trusted_proxies(&["127.0.0.1"]).app(
            AppConfig::new("app", &[upstream.url()])
                .policy("deny")
                .rule_when("/", "bypass", json!({"networks": ["10.0.0.0/8"]})),
        ),
    );
    let client = gateway.client();
    let from = |xff: &str| client.get_with("/page", &[("X-Forwarded-For", xff)]).status;
    assert_eq!(from("10.1.2.3"), 200);
    assert_eq!(from("192.0.2.7"), 403);
    // Entries left of the first untrusted one are the client's own words.
    assert_eq!(from("10.1.2.3, 192.0.2.7"), 403);
    // No header: the client is the peer, 127.0.0.1.
    assert_eq!(client.get("/page").status, 403);
    assert_eq!(upstream.count(), 1);
}

#[test]
fn a_group_condition_allows_members_and_refuses_others() {
    let upstream = Upstream::start();
    let gateway = Gateway::start(
        GatewayConfig::new().app(
            AppConfig::new("app", &[upstream.url()])
                .policy("one_factor")
                .rule_when("/admin", "one_factor", json!({"groups": ["admins"]}))
                .rule("/admin", "deny"),
        ),
    );
    // alice is in admins and dev; bob is in no group.
    let alice = gateway.client();
    alice.login_ok("alice");
    assert_eq!(alice.get("/admin/users").status, 200);
    assert_eq!(
        upstream.last().header("remote-user").as_deref(),
        Some("alice")
    );
    let bob = gateway.client();
    bob.login_ok("bob");
    assert_eq!(bob.get("/admin/users").status, 403);
    assert_eq!(bob.get("/elsewhere").status, 200);
    // Nobody signed in: a groups rule never applies, so the deny does.
    assert_eq!(gateway.client().get("/admin/users").status, 403);
    assert_eq!(upstream.count(), 2);
}
