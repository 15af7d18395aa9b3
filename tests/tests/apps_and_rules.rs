//! Apps by path, rules with conditions, and HTTP health checks, end to end.

use gatehouse_tests::{AppConfig, Gateway, GatewayConfig, Upstream};

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
