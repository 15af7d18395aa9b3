//! Apps by path, rules with conditions, and HTTP health checks, end to end.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

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

/// An upstream that accepts connections (so a TCP check passes) but
/// answers every request 500; it records each request line.
fn start_sick() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                let Ok(mut writer) = stream.try_clone() else {
                    return;
                };
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                log.lock().expect("log").push(line.trim_end().to_owned());
                // The rest of the head.
                loop {
                    let mut header = String::new();
                    match reader.read_line(&mut header) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if header == "\r\n" => break,
                        Ok(_) => {}
                    }
                }
                let _ = writer.write_all(
                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\nconnection: close\r\n\r\nsick",
                );
            });
        }
    });
    (format!("http://{address}"), seen)
}

#[test]
fn an_http_health_check_skips_an_upstream_that_fails_it() {
    let (sick, seen) = start_sick();
    let live = Upstream::start_named("live");
    let gateway = Gateway::start(
        GatewayConfig::new().app(
            AppConfig::new("app", &[sick, live.url()])
                .policy("bypass")
                .health_check("/healthz", None),
        ),
    );
    let client = gateway.client();
    let from_live = || {
        let response = client.get("/page");
        response.status == 200 && response.json()["upstream"] == "live"
    };
    // Until the first check has run, the sick upstream may still get turns.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut in_a_row = 0;
    while in_a_row < 6 {
        assert!(
            Instant::now() < deadline,
            "the sick upstream kept its turns"
        );
        in_a_row = if from_live() { in_a_row + 1 } else { 0 };
        thread::sleep(Duration::from_millis(50));
    }
    for i in 0..10 {
        assert!(from_live(), "request {i} went to the sick upstream");
    }
    let lines = seen.lock().expect("log").clone();
    assert!(
        lines.iter().any(|l| l == "GET /healthz HTTP/1.1"),
        "no health check reached the sick upstream: {lines:?}"
    );
}
