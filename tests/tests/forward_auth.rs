//! Forward auth end to end: real nginx (`auth_request`) and real Caddy
//! (`forward_auth`) in front, Gatehouse asked at `/.gatehouse/auth/*`, the
//! echo upstream behind. A browser is sent to sign in through the front,
//! comes back to the URL it asked for, reaches the app with its identity,
//! and is refused again once signed out. Then what a client that is not a
//! trusted proxy can't do with the same headers, and descriptions that
//! must fail closed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use gatehouse_tests::{
    percent_decode, AppConfig, Client, Front, Gateway, GatewayConfig, Upstream, PASSWORD,
};

/// The standard rules (`/public` bypass, `/admin` deny, the rest needs a
/// sign-in) on host 127.0.0.1, forward-only: the front serves it.
fn app() -> AppConfig {
    let mut app = AppConfig::standard("unused").host("127.0.0.1");
    app.upstreams.clear();
    app
}

/// Gatehouse trusting `proxies`.
fn gatehouse(proxies: &[&str]) -> Gateway {
    Gateway::start(GatewayConfig::new().trusted_proxies(proxies).app(app()))
}

fn client_of(port: u16, gateway: &Gateway) -> Client {
    let config = gateway.config();
    Client::new(
        port,
        &config.session_cookie_name(),
        &config.csrf_cookie_name(),
    )
}

/// The `rd` a sign-in redirect carries, decoded.
fn rd_of(location: &str) -> String {
    let query = location.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("rd="))
        .map(percent_decode)
        .unwrap_or_default()
}

/// A redirect's target as a path on the front.
fn on_front(location: &str, front: &Front) -> String {
    let origin = format!("http://127.0.0.1:{}", front.port());
    location
        .strip_prefix(&origin)
        .unwrap_or(location)
        .to_owned()
}

/// Signs in through `front` and walks the app: refused, signed in, let in
/// as alice, refused after signing out. `api_401`: the front passes a 401
/// to API clients (Caddy); nginx's `error_page 401` turns it into the
/// redirect for everyone.
fn walk(front: &Front, gateway: &Gateway, upstream: &Upstream, api_401: bool) {
    let client = client_of(front.port(), gateway);
    let page = "/private/page?tab=2";
    let original = format!("http://127.0.0.1:{}{page}", front.port());
    let bounced = client.get_html(page);
    let name = front.name();
    assert_eq!(bounced.status, 302, "{name}: {}", bounced.body);
    let location = bounced.location().unwrap_or_default().to_owned();
    let login_path = on_front(&location, front);
    assert!(
        login_path.starts_with("/.gatehouse/login?rd="),
        "{name}: {location}"
    );
    assert_eq!(rd_of(&location), original, "{name}");
    assert_eq!(upstream.count(), 0, "{name}: the app was reached unsigned");
    if api_401 {
        assert_eq!(client.get(page).status, 401, "{name}");
    }
    let form = client.get_html(&login_path);
    assert_eq!(
        form.status, 200,
        "{name}: the sign-in page through the front"
    );
    let login = client.login("alice", PASSWORD, Some(&original));
    assert!(login.succeeded(), "{name}: {}", login.response.body);
    assert_eq!(
        login.destination().as_deref(),
        Some(original.as_str()),
        "{name}"
    );

    let reached = client.get_html(page);
    assert_eq!(reached.status, 200, "{name}: {}", reached.body);
    let seen = upstream.last();
    assert_eq!(seen.path, page, "{name}");
    assert_eq!(
        seen.header("remote-user").as_deref(),
        Some("alice"),
        "{name}"
    );
    assert_eq!(
        seen.header("remote-email").as_deref(),
        Some("alice@example.com"),
        "{name}"
    );
    assert_eq!(client.get_html("/admin/panel").status, 403, "{name}");

    let before = upstream.count();
    client.logout();
    let again = client.get_html(page);
    assert_eq!(again.status, 302, "{name} after signing out");
    assert_eq!(
        upstream.count(),
        before,
        "{name}: reached after signing out"
    );
}

#[test]
fn nginx_auth_request_signs_in_and_passes_the_identity() {
    let upstream = Upstream::start();
    let gateway = gatehouse(&["127.0.0.1"]);
    let front = Front::nginx(gateway.port(), &upstream.address());
    walk(&front, &gateway, &upstream, false);
    // nginx sets Remote-User from Gatehouse's answer only: a client's own
    // copy on an open path is replaced by nothing.
    let anonymous = client_of(front.port(), &gateway);
    let open = anonymous.get_with("/public/x", &[("Remote-User", "admin")]);
    assert_eq!(open.status, 200, "{}", front.logs());
    assert_eq!(upstream.last().header("remote-user"), None);
}

#[test]
fn caddy_forward_auth_signs_in_and_passes_the_identity() {
    let upstream = Upstream::start();
    let gateway = gatehouse(&["127.0.0.1"]);
    let front = Front::caddy(gateway.port(), &upstream.address());
    walk(&front, &gateway, &upstream, true);
}

/// Traefik's description of `GET http://127.0.0.1{uri}`.
fn traefik(uri: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-Forwarded-Method", "GET".into()),
        ("X-Forwarded-Proto", "http".into()),
        ("X-Forwarded-Host", "127.0.0.1".into()),
        ("X-Forwarded-Uri", uri.into()),
    ]
}

fn ask(client: &Client, endpoint: &str, headers: &[(&str, String)]) -> u16 {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    client.get_with(endpoint, &headers).status
}

#[test]
fn a_client_that_is_not_a_trusted_proxy_is_judged_on_its_own_request() {
    let trusting = gatehouse(&["127.0.0.1"]);
    let anonymous = trusting.client();
    // From a trusted proxy, the open path is open...
    let open = traefik("/public/x");
    assert_eq!(ask(&anonymous, "/.gatehouse/auth/forward", &open), 200);
    // ...but from anyone else the description is ignored.
    let wary = gatehouse(&["10.9.9.9"]);
    let anonymous = wary.client();
    assert_eq!(ask(&anonymous, "/.gatehouse/auth/forward", &open), 401);
    let nginx = vec![
        ("X-Original-URL", "http://127.0.0.1/public/x".to_owned()),
        ("X-Original-Method", "GET".to_owned()),
    ];
    assert_eq!(ask(&anonymous, "/.gatehouse/auth/request", &nginx), 401);
    // A browser is sent to sign in for this address, not the one named.
    let bounced = anonymous.send(
        "GET",
        "/.gatehouse/auth/forward",
        &[("Accept", "text/html"), ("X-Forwarded-Uri", "/public/x")],
        None,
    );
    assert_eq!(bounced.status, 302);
    assert_eq!(
        rd_of(bounced.location().unwrap_or_default()),
        format!("http://127.0.0.1:{}/.gatehouse/auth/forward", wary.port())
    );
}

/// Sends `head` (request line and headers, raw bytes) and returns the
/// status, for headers no HTTP client library will send.
fn raw_status(port: u16, head: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(head).expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"))
}

#[test]
fn a_malformed_description_fails_closed() {
    let gateway = gatehouse(&["127.0.0.1"]);
    let alice = gateway.client();
    let cookie = format!(
        "{}={}",
        gateway.config().session_cookie_name(),
        alice.login_ok("alice")
    );
    let signed_in = |extra: &[u8]| {
        let mut head = format!(
            "GET /.gatehouse/auth/forward HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
             Cookie: {cookie}\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Proto: http\r\n\
             X-Forwarded-Host: 127.0.0.1\r\n"
        )
        .into_bytes();
        head.extend_from_slice(extra);
        head.extend_from_slice(b"\r\n");
        raw_status(gateway.port(), &head)
    };
    assert_eq!(
        signed_in(b"X-Forwarded-Uri: /private/x\r\n"),
        200,
        "the control case"
    );
    let long = format!("X-Forwarded-Uri: /private/{}\r\n", "a".repeat(9000));
    for (what, extra) in [
        ("missing X-Forwarded-Uri", b"".to_vec()),
        (
            "repeated X-Forwarded-Uri",
            b"X-Forwarded-Uri: /private/x\r\nX-Forwarded-Uri: /public/x\r\n".to_vec(),
        ),
        ("oversized X-Forwarded-Uri", long.into_bytes()),
        (
            "non-UTF-8 X-Forwarded-Uri",
            b"X-Forwarded-Uri: /private/\xff\xfe\r\n".to_vec(),
        ),
        (
            "relative X-Forwarded-Uri",
            b"X-Forwarded-Uri: private\r\n".to_vec(),
        ),
        (
            "deny path",
            b"X-Forwarded-Uri: /public/..;/admin\r\n".to_vec(),
        ),
    ] {
        let status = signed_in(&extra);
        assert_eq!(status, 403, "{what}");
    }
    for url in [
        "not a url",
        "ftp://127.0.0.1/private",
        "http://a@127.0.0.1/private",
        "",
    ] {
        let status = alice
            .get_with(
                "/.gatehouse/auth/request",
                &[("X-Original-URL", url), ("X-Original-Method", "GET")],
            )
            .status;
        assert_eq!(status, 403, "X-Original-URL {url:?}");
    }
    let no_method = alice.get_with(
        "/.gatehouse/auth/request",
        &[("X-Original-URL", "http://127.0.0.1/private")],
    );
    assert_eq!(no_method.status, 403);
}

#[test]
fn a_garbage_session_cookie_is_no_session() {
    let gateway = gatehouse(&["127.0.0.1"]);
    for garbage in ["x", "%00", &"A".repeat(4000), "\"\"", "a=b=c"] {
        let stranger = gateway.client();
        let cookie = format!("{}={garbage}", gateway.config().session_cookie_name());
        let mut headers: Vec<(&str, &str)> = vec![("Cookie", &cookie)];
        let uri = traefik("/private/x");
        headers.extend(uri.iter().map(|(n, v)| (*n, v.as_str())));
        let status = stranger
            .get_with("/.gatehouse/auth/forward", &headers)
            .status;
        assert_eq!(status, 401, "cookie {garbage:?}");
    }
}
