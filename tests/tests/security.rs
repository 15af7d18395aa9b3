//! Security rules from the design, each pinned by what an attacker would try:
//! spoofed identity headers, leaked cookies, weak or fixed session ids, CSRF,
//! user enumeration, brute force, bad service tokens (open redirects: see
//! open_redirect.rs).

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use gatehouse_tests::{
    both_backends, eventually, gatehouse_bin, hidden_input, raw_get, Backend, Client, Stack,
    PASSWORD,
};
use serde_json::json;

/// Identity headers a client might send to impersonate someone, in the
/// spellings proxies and frameworks are known to confuse.
const SPOOFED: &[(&str, &str)] = &[
    ("Remote-User", "mallory"),
    ("REMOTE-USER", "mallory"),
    ("remote_user", "mallory"),
    ("Remote.User", "mallory"),
    ("Remote-Email", "mallory@evil.com"),
    ("Remote_Email", "mallory@evil.com"),
    ("Remote-Name", "Mallory"),
    ("Remote-Groups", "admins"),
    ("Remote_Groups", "admins"),
    ("X-Forwarded-User", "mallory"),
    ("X-Forwarded-Email", "mallory@evil.com"),
    ("X-Forwarded-Groups", "admins"),
    ("X-Forwarded-Preferred-Username", "mallory"),
    ("X-Auth-Request-User", "mallory"),
    ("X-Auth-Request-Email", "mallory@evil.com"),
    ("X-Auth-Request-Groups", "admins"),
];

/// Header names (lower-cased) that must never reach the upstream.
const NEVER_UPSTREAM: &[&str] = &[
    "remote_user",
    "remote.user",
    "remote_email",
    "remote_groups",
    "x-forwarded-user",
    "x-forwarded-email",
    "x-forwarded-groups",
    "x-forwarded-preferred-username",
    "x-auth-request-user",
    "x-auth-request-email",
    "x-auth-request-groups",
];

fn assert_no_spoofed_values(seen: &gatehouse_tests::Recorded) {
    for name in NEVER_UPSTREAM {
        assert_eq!(seen.header(name), None, "{name} reached the upstream");
    }
    for (name, value) in &seen.headers {
        assert!(
            !value.contains("mallory") && !value.contains("Mallory"),
            "spoofed value reached the upstream in {name}: {value}"
        );
    }
}

#[test]
fn spoofed_identity_headers_are_replaced_for_a_signed_in_user() {
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    let session = client.login_ok("bob");
    let cookie = format!("{}={session}", client.session_cookie_name());
    let mut headers = SPOOFED.to_vec();
    headers.push(("Cookie", &cookie));

    let response = raw_get(stack.gateway.port(), "/private/whoami", &headers);
    assert_eq!(response.status, 200, "body: {}", response.body);
    let seen = stack.upstream.last();
    assert_eq!(seen.header_values("remote-user"), ["bob"]);
    assert_eq!(seen.header_values("remote-email"), ["bob@example.com"]);
    assert_eq!(seen.header_values("remote-name"), ["bob"]);
    assert!(
        !seen
            .header("remote-groups")
            .unwrap_or_default()
            .contains("admins"),
        "bob gained the admins group"
    );
    assert_no_spoofed_values(&seen);
}

#[test]
fn spoofed_identity_headers_never_reach_a_bypass_route() {
    let stack = Stack::start(Backend::Memory);
    let response = raw_get(stack.gateway.port(), "/public/page", SPOOFED);
    assert_eq!(response.status, 200);
    let seen = stack.upstream.last();
    for name in [
        "remote-user",
        "remote-email",
        "remote-name",
        "remote-groups",
    ] {
        assert_eq!(seen.header(name), None, "{name} reached the upstream");
    }
    assert_no_spoofed_values(&seen);
}

/// What a client might write to pass for another address, scheme or host:
/// upstreams allow-list by address and build links from the scheme and host.
const FORGED_FORWARDING: &[(&str, &str)] = &[
    ("X-Forwarded-For", "203.0.113.66"),
    ("x-forwarded-for", "203.0.113.67"),
    ("X_Forwarded_For", "203.0.113.68"),
    ("X-Real-IP", "203.0.113.69"),
    ("X_Real_IP", "203.0.113.70"),
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Host", "evil.example"),
    ("X.Forwarded.Host", "evil.example"),
    (
        "Forwarded",
        "for=203.0.113.71;host=evil.example;proto=https",
    ),
];

#[test]
fn forged_forwarding_headers_never_reach_the_upstream() {
    let stack = Stack::start(Backend::Memory);
    let response = raw_get(stack.gateway.port(), "/public/page", FORGED_FORWARDING);
    assert_eq!(response.status, 200);
    let seen = stack.upstream.last();
    for (name, value) in &seen.headers {
        assert!(
            !value.contains("203.0.113.") && !value.contains("evil.example"),
            "a forged value reached the upstream in {name}: {value}"
        );
    }
    assert_eq!(seen.header_values("x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(seen.header_values("x-real-ip"), ["127.0.0.1"]);
    assert_eq!(seen.header_values("x-forwarded-proto"), ["http"]);
    assert_eq!(seen.header("forwarded"), None);
}

#[test]
fn a_path_override_header_never_reaches_the_upstream() {
    // Symfony, Zend and IIS URL Rewrite serve X-Original-URL's path instead
    // of the request line's: through a bypass rule to a protected page.
    let stack = Stack::start(Backend::Memory);
    let overrides = [
        ("X-Original-URL", "/admin/panel"),
        ("X_Original_URL", "/admin/panel"),
        ("X-Rewrite-URL", "/admin/panel"),
    ];
    let response = raw_get(stack.gateway.port(), "/public/page", &overrides);
    assert_eq!(response.status, 200);
    let seen = stack.upstream.last();
    for (name, value) in &seen.headers {
        assert!(
            !value.contains("/admin"),
            "a path override reached the upstream in {name}: {value}"
        );
    }
}

#[test]
fn gatehouse_cookies_are_not_forwarded_upstream() {
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    let session = client.login_ok("alice");
    let csrf = client.cookie(client.csrf_cookie_name());
    assert!(csrf.is_some(), "the login page set no CSRF cookie");

    let response = client.get_with("/private/page", &[("Cookie", "theme=dark")]);
    assert_eq!(response.status, 200);
    let cookies = stack.upstream.last().header("cookie").unwrap_or_default();
    assert!(
        cookies.contains("theme=dark"),
        "app cookie lost: {cookies:?}"
    );
    assert!(
        !cookies.contains(&session),
        "session id forwarded: {cookies:?}"
    );
    assert!(
        !cookies.contains("gatehouse_"),
        "gatehouse cookie forwarded: {cookies:?}"
    );
}

#[test]
fn session_cookie_is_httponly_lax_and_site_wide() {
    let stack = Stack::start(Backend::Memory);
    let login = stack.client().login("alice", PASSWORD, None);
    let cookie = login
        .response
        .set_cookie("gatehouse_session")
        .expect("a gatehouse_session cookie");
    assert!(cookie.has("HttpOnly"), "{}", cookie.raw);
    assert_eq!(
        cookie
            .attr("SameSite")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("lax"),
        "{}",
        cookie.raw
    );
    assert_eq!(cookie.attr("Path"), Some("/"), "{}", cookie.raw);
    assert!(
        !cookie.has("Secure"),
        "Secure without cookie_secure: {}",
        cookie.raw
    );
}

#[test]
fn secure_cookies_are_secure_and_host_prefixed() {
    let stack = Stack::start_with(Backend::Memory, |c| c.cookie_secure(true));
    assert_secure_host_cookies(&stack.client(), reqwest::Version::HTTP_11);
}

#[test]
fn over_tls_cookies_are_secure_and_host_prefixed_without_configuring_it() {
    let pair = gatehouse_testkit::self_signed();
    let stack = Stack::start_with(Backend::Memory, |c| c.tls(&pair));
    assert!(stack.gateway.url("/").starts_with("https://"));
    // Over HTTP/2, which a browser takes when offered, and over HTTP/1.1.
    assert_secure_host_cookies(&stack.client(), reqwest::Version::HTTP_2);
    let http1 = stack.client().over_tls_http1(&pair.cert_pem);
    assert_secure_host_cookies(&http1, reqwest::Version::HTTP_11);
    // The app hears HTTP/1.1 with the host the browser asked for.
    assert_eq!(
        stack.upstream.last().header_values("host"),
        [format!("127.0.0.1:{}", stack.gateway.port())]
    );
    // The app is told the client came over HTTPS, to build its links so.
    assert_eq!(
        stack.upstream.last().header_values("x-forwarded-proto"),
        ["https"]
    );

    // The listener speaks TLS only: plain HTTP gets no page.
    let plain = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("plain client")
        .get(format!(
            "http://127.0.0.1:{}/.gatehouse/login",
            stack.gateway.port()
        ))
        .send();
    assert!(
        plain.as_ref().map_or(true, |r| r.status() != 200),
        "plain HTTP was served: {plain:?}"
    );
}

#[test]
fn over_http2_forged_headers_are_stripped_as_over_http1() {
    let pair = gatehouse_testkit::self_signed();
    let stack = Stack::start_with(Backend::Memory, |c| c.tls(&pair));
    let client = stack
        .client()
        .with_header("Remote-User", "mallory")
        .with_header("X-Forwarded-For", "203.0.113.66")
        .with_header("X-Original-URL", "/admin/panel");
    let response = client.get("/public/page");
    assert_eq!(
        (response.status, response.version),
        (200, reqwest::Version::HTTP_2)
    );
    let seen = stack.upstream.last();
    assert_no_spoofed_values(&seen);
    assert_eq!(seen.header("x-original-url"), None);
    assert_eq!(seen.header_values("x-forwarded-for"), ["127.0.0.1"]);
}

/// Sign-in with `client` sets `__Host-` cookies that are Secure, HttpOnly,
/// Path=/ with no Domain, and the session then reaches the app; every
/// answer comes over `version`.
fn assert_secure_host_cookies(client: &Client, version: reqwest::Version) {
    let page = client.get_html("/.gatehouse/login");
    assert_eq!(page.version, version);
    let csrf = page
        .set_cookie("__Host-gatehouse_csrf")
        .unwrap_or_else(|| panic!("no __Host-gatehouse_csrf cookie: {:?}", page.headers));
    let login = client.login("alice", PASSWORD, None);
    let session = login
        .response
        .set_cookie("__Host-gatehouse_session")
        .unwrap_or_else(|| {
            panic!(
                "no __Host-gatehouse_session cookie: {:?}",
                login.response.headers
            )
        });
    for cookie in [&csrf, &session] {
        // __Host- cookies must be Secure, Path=/ and have no Domain.
        assert!(cookie.has("Secure"), "{}", cookie.raw);
        assert_eq!(cookie.attr("Path"), Some("/"), "{}", cookie.raw);
        assert!(!cookie.has("Domain"), "{}", cookie.raw);
    }
    assert!(session.has("HttpOnly"), "{}", session.raw);
    let app = client.get("/private/x");
    assert_eq!((app.status, app.version), (200, version));
}

#[test]
fn session_ids_are_long_random_and_unique() {
    let stack = Stack::start(Backend::Memory);
    let ids: Vec<String> = (0..3).map(|_| stack.client().login_ok("alice")).collect();
    for id in &ids {
        assert!(id.len() >= 22, "session id {id:?} is shorter than 128 bits");
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "session id {id:?} is not base64url"
        );
    }
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
}

fn login_replaces_a_planted_session_cookie(backend: Backend) {
    let stack = Stack::start(backend);
    // The attacker signs in as bob and plants bob's session in alice's browser.
    let attacker = stack.client();
    let planted = attacker.login_ok("bob");
    let victim = stack.client();
    victim.set_session_cookie(&planted);
    let victim_session = victim.login_ok("alice");
    assert_ne!(victim_session, planted, "login kept the planted session id");

    // The planted id never becomes alice's.
    attacker.get("/private/whoami");
    if let Some(seen) = stack.upstream.requests().last() {
        assert_ne!(seen.header("remote-user").as_deref(), Some("alice"));
    }
    // And signing in again rotates the id.
    let again = victim.login_ok("alice");
    assert_ne!(again, victim_session, "a second login kept the same id");
}

fn logout_invalidates_the_session_server_side(backend: Backend) {
    let stack = Stack::start(backend);
    let client = stack.client();
    let session = client.login_ok("alice");
    assert_eq!(client.get("/private/x").status, 200);

    let logout = client.logout();
    assert!(
        logout.status < 400,
        "logout failed: {} {}",
        logout.status,
        logout.body
    );
    assert_eq!(client.get("/private/x").status, 401);

    // Replaying the old cookie does not bring the session back.
    let replay = stack.client();
    replay.set_session_cookie(&session);
    assert_eq!(replay.get("/private/x").status, 401);
    assert_eq!(stack.upstream.count(), 1);
}

fn lockout_is_the_same_for_known_and_unknown_users(backend: Backend) {
    let stack = Stack::start_with(backend, |c| c.limits(3, 100, "15m"));
    for username in ["alice", "nobody"] {
        let client = stack.client();
        for attempt in 1..=3 {
            let result = client.login(username, "wrong password", None);
            assert_eq!(result.status(), 401, "{username}, attempt {attempt}");
        }
        let locked = client.login(username, PASSWORD, None);
        assert_eq!(locked.status(), 429, "{username} was not locked out");
        assert!(
            locked
                .response
                .body
                .contains("Too many failed sign-in attempts"),
            "{username}: {}",
            locked.response.body
        );
        assert!(
            locked.session.is_none(),
            "{username} got a session while locked"
        );
    }
    // Another user is not locked by alice's failures.
    stack.client().login_ok("bob");
}

fn lockout_lifts_after_the_window(backend: Backend) {
    // The window is long enough for two slow (argon2) failures and the
    // refusal to land inside it on a busy machine.
    let stack = Stack::start_with(backend, |c| c.limits(2, 100, "4s"));
    let client = stack.client();
    for _ in 0..2 {
        assert_eq!(client.login("alice", "wrong", None).status(), 401);
    }
    assert_eq!(client.login("alice", PASSWORD, None).status(), 429);
    // Refused attempts don't count, so polling can't extend the lockout.
    let result = eventually(Duration::from_secs(15), "the lockout to lift", || {
        let result = client.login("alice", PASSWORD, None);
        result.succeeded().then_some(result)
    });
    assert_eq!(result.destination().as_deref(), Some("/"));
}

both_backends!(
    lockout_lifts_after_the_window,
    login_replaces_a_planted_session_cookie,
    logout_invalidates_the_session_server_side,
    lockout_is_the_same_for_known_and_unknown_users,
);

#[test]
fn failures_from_one_address_lock_out_every_username() {
    let stack = Stack::start_with(Backend::Memory, |c| c.limits(100, 3, "15m"));
    let client = stack.client();
    for username in ["alice", "nobody", "someone"] {
        assert_eq!(client.login(username, "wrong", None).status(), 401);
    }
    let locked = client.login("bob", PASSWORD, None);
    assert_eq!(locked.status(), 429);
    assert!(locked.session.is_none());
}

#[test]
fn a_forged_x_forwarded_for_does_not_dodge_the_address_lockout() {
    // No trusted proxies (the default): the header is the client's word.
    let stack = Stack::start_with(Backend::Memory, |c| c.limits(100, 3, "15m"));
    for (i, username) in ["alice", "nobody", "someone"].iter().enumerate() {
        let forged = stack
            .client()
            .with_header("X-Forwarded-For", &format!("203.0.113.{i}"));
        assert_eq!(forged.login(username, "wrong", None).status(), 401);
    }
    let fresh = stack
        .client()
        .with_header("X-Forwarded-For", "198.51.100.9");
    let locked = fresh.login("bob", PASSWORD, None);
    assert_eq!(
        locked.status(),
        429,
        "a new forged address escaped the lockout"
    );
    assert!(locked.session.is_none());
}

#[test]
fn behind_a_trusted_proxy_lockouts_follow_the_forwarded_address() {
    // The test client connects from 127.0.0.1, standing in for the proxy.
    let stack = Stack::start_with(Backend::Memory, |c| {
        c.limits(100, 3, "15m").trusted_proxies(&["127.0.0.1"])
    });
    let attacker = stack.client().with_header("X-Forwarded-For", "203.0.113.7");
    for username in ["alice", "nobody", "someone"] {
        assert_eq!(attacker.login(username, "wrong", None).status(), 401);
    }
    assert_eq!(attacker.login("bob", PASSWORD, None).status(), 429);
    // What the attacker's own client wrote, left of the proxy's entry, is
    // not believed: still locked.
    let disguised = stack
        .client()
        .with_header("X-Forwarded-For", "198.51.100.9, 203.0.113.7");
    assert_eq!(disguised.login("bob", PASSWORD, None).status(), 429);
    // Someone else behind the same proxy signs in.
    let colleague = stack.client().with_header("X-Forwarded-For", "203.0.113.8");
    assert!(colleague.login("bob", PASSWORD, None).succeeded());
}

#[test]
fn logout_needs_a_valid_csrf_token() {
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    client.login_ok("alice");
    assert_eq!(client.post_form("/.gatehouse/logout", &[]).status, 403);
    let wrong = client.post_form("/.gatehouse/logout", &[("csrf_token", "forged")]);
    assert_eq!(wrong.status, 403);
    assert_eq!(client.get("/private/x").status, 200, "session was ended");
}

#[test]
fn logout_link_fetched_with_get_changes_nothing() {
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    client.login_ok("alice");
    client.get_html("/.gatehouse/logout");
    assert_eq!(
        client.get("/private/x").status,
        200,
        "GET ended the session"
    );
}

#[test]
fn login_without_csrf_token_is_refused() {
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    client.csrf_token();
    let response = client.post_form(
        "/.gatehouse/login",
        &[("username", "alice"), ("password", PASSWORD)],
    );
    assert_eq!(response.status, 403);
    assert!(client.session_cookie().is_none(), "a session was created");
    assert_eq!(client.get("/private/x").status, 401);
}

#[test]
fn login_with_a_forged_csrf_token_is_refused() {
    let stack = Stack::start(Backend::Memory);
    let victim = stack.client();
    let foreign_token = stack.client().csrf_token();
    victim.csrf_token();
    for token in ["forged", foreign_token.as_str()] {
        let response = victim.post_form(
            "/.gatehouse/login",
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("csrf_token", token),
            ],
        );
        assert_eq!(response.status, 403, "token {token:?}");
    }
    // A token without its cookie is refused too.
    victim.clear_cookies();
    let cookieless = victim.post_form(
        "/.gatehouse/login",
        &[
            ("username", "alice"),
            ("password", PASSWORD),
            ("csrf_token", &foreign_token),
        ],
    );
    assert_eq!(cookieless.status, 403);
    assert!(victim.session_cookie().is_none());
}

#[test]
fn unknown_user_and_wrong_password_get_the_same_answer() {
    let stack = Stack::start(Backend::Memory);
    let wrong_password = stack.client().login("alice", "not her password", None);
    let unknown_user = stack.client().login("nobody", PASSWORD, None);
    for result in [&wrong_password, &unknown_user] {
        assert_eq!(result.status(), 401);
        assert!(
            result
                .response
                .body
                .contains("Incorrect username or password."),
            "{}",
            result.response.body
        );
        assert!(result.session.is_none());
        // The answer is the login form again, ready for another try.
        assert!(hidden_input(&result.response.body, "csrf_token").is_some());
    }
}

#[test]
fn disabled_user_cannot_sign_in() {
    let stack = Stack::start(Backend::Memory);
    let client = stack.client();
    let result = client.login("carol", PASSWORD, None);
    assert_eq!(result.status(), 403);
    assert!(
        result.response.body.to_lowercase().contains("disabled"),
        "{}",
        result.response.body
    );
    assert!(result.session.is_none());
    assert_eq!(client.get("/private/x").status, 401);
}

#[test]
fn wrong_service_token_gets_401_json_even_for_browsers() {
    let stack = Stack::start_with(Backend::Memory, |c| c.service_token("ci", "tok-ci-123"));
    let client = stack.client();
    for header in [
        ("Authorization", "Bearer tok-wrong"),
        ("X-Gatehouse-Token", "tok-wrong"),
    ] {
        let response = client.get_with("/private/x", &[header, ("Accept", "text/html")]);
        assert_eq!(response.status, 401, "{header:?}");
        assert_eq!(response.location(), None, "{header:?} was redirected");
        assert_eq!(response.json(), json!({"error": "invalid_token"}));
    }
    assert_eq!(stack.upstream.count(), 0);
}

#[test]
fn service_token_is_not_forwarded_upstream() {
    let stack = Stack::start_with(Backend::Memory, |c| c.service_token("ci", "tok-ci-123"));
    let client = stack.client();
    let bearer = client.get_with(
        "/private/x",
        &[
            ("Authorization", "Bearer tok-ci-123"),
            ("Remote-User", "alice"),
        ],
    );
    assert_eq!(bearer.status, 200);
    let seen = stack.upstream.last();
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(seen.header_values("remote-user"), ["service:ci"]);

    let custom = client.get_with("/private/x", &[("X-Gatehouse-Token", "tok-ci-123")]);
    assert_eq!(custom.status, 200);
    let seen = stack.upstream.last();
    assert_eq!(seen.header("x-gatehouse-token"), None);
    assert!(!format!("{:?}", seen.headers).contains("tok-ci-123"));
}

/// At debug level, the most a deployment logs: the requests below must show
/// up in the log, and none of their secrets.
#[test]
fn secrets_never_appear_in_the_logs() {
    let stack = Stack::start_with(Backend::Memory, |c| {
        c.service_token("ci", "tok-ci-123").log_filter("debug")
    });
    let client = stack.client();
    let session = client.login_ok("alice");
    client.login("alice", "a wrong password", None);
    client.get_with("/private/x", &[("Authorization", "Bearer tok-ci-123")]);
    // Not a token Gatehouse knows: it goes on to the app, which may own it.
    client.get_with("/private/x", &[("Authorization", "Bearer tok-wrong-456")]);
    let logs = stack.gateway.full_logs();
    for proof in [
        " DEBUG ",
        r#"event="login" user="alice" ip=127.0.0.1 outcome="ok""#,
        r#"event="login" user="alice" ip=127.0.0.1 outcome="failed""#,
        r#"event="token_used" user="service:ci""#,
    ] {
        assert!(
            logs.contains(proof),
            "the log lacks {proof:?}, so it proves nothing:\n{logs}"
        );
    }
    for secret in [
        PASSWORD,
        "a wrong password",
        "tok-ci-123",
        "tok-wrong-456",
        &session,
    ] {
        assert!(!logs.contains(secret), "{secret:?} appears in the logs");
    }
}

/// `gatehouse hash-password` at a terminal (a pseudo-terminal from
/// util-linux's `script`): the prompt shows, the password typed doesn't,
/// and the hash still comes out.
#[test]
fn a_password_typed_at_a_terminal_is_not_echoed() {
    let typed = "typed-at-a-tty-9931";
    let command = format!("{} hash-password", gatehouse_bin().display());
    let mut script = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run script (util-linux)");
    let mut terminal = script.stdout.take().expect("the terminal's output");
    let mut shown = Vec::new();
    while !String::from_utf8_lossy(&shown).contains("Password:") {
        let mut buf = [0u8; 256];
        match terminal.read(&mut buf) {
            Ok(0) | Err(_) => panic!("no prompt: {:?}", String::from_utf8_lossy(&shown)),
            Ok(n) => shown.extend_from_slice(&buf[..n]),
        }
    }
    // The prompt is written just before echo is turned off: a person can't
    // type in between, a test can.
    std::thread::sleep(Duration::from_millis(500));
    let mut keyboard = script.stdin.take().expect("the terminal's input");
    keyboard
        .write_all(format!("{typed}\n").as_bytes())
        .expect("type the password");
    let mut rest = Vec::new();
    terminal.read_to_end(&mut rest).expect("read the terminal");
    drop(keyboard);
    assert!(script.wait().expect("wait for script").success());
    shown.extend_from_slice(&rest);
    let shown = String::from_utf8_lossy(&shown);
    assert!(!shown.contains(typed), "the password was echoed: {shown:?}");
    assert!(shown.contains("$argon2id$v=19$"), "no hash: {shown:?}");
}
